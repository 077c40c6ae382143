// fg-viz: pictures — a contact sheet of predictions, the attention region of attn pooling.
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/eval/metrics.hpp"
#include "finegrain/eval/viz.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"

using namespace fg;

namespace {
int grid(const cli::po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 2, 2);
  const Predictions predictions = read_predictions(args[0]);
  const std::string select = vm["select"].as<std::string>();
  const viz::SheetSelection chosen =
      viz::select_for_sheet(predictions, viz::parse_sheet_select(select),
                            vm["count"].as<std::size_t>(), vm["seed"].as<std::uint64_t>());
  const auto& items = chosen.items;
  const std::size_t errors = chosen.errors;
  viz::SheetOptions options;
  options.columns = vm["columns"].as<int>();
  options.thumb = vm["thumb"].as<int>();
  if (options.columns < 1 || options.thumb < 32)
    throw UsageError("--columns must be >= 1 and --thumb >= 32");
  options.title = cat(args[0], ": ", items.size(), " of ", predictions.rows.size(), " images (",
                      select, "), ", errors, " wrong: green = right, red = wrong");
  plot::write_png(args[1], viz::contact_sheet(items, options));
  log::info(cat("Done: ", args[1], " (", items.size(), " images, ", errors, " wrong)"));
  return 0;
}

int attention(const cli::po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 2, 2);
  ExtractOptions options = ExtractOptions::from(vm);
  Extractor extractor(options);
  std::string problem;
  std::string damage;
  cv::Mat image = load_image(args[0], options.max_pixels, problem, &damage);
  if (image.empty()) throw Error(cat(args[0], ": ", problem));
  if (!damage.empty()) log::warn(cat(args[0], ": ", damage, "; used as decoded"));
  std::string layer =
      vm.count("layer") ? vm["layer"].as<std::string>() : extractor.layers().front();
  cv::Mat view;  // what the network saw at the map's scale (the first of --scales)
  AttentionMap map = extractor.attention(image, layer, &view);
  plot::write_png(
      args[1], viz::attention_overlay(view, map,
                                      cat(args[0], " - ", extractor.spec().name, " ", layer, " (",
                                          map.height, "x", map.width, ")")));
  log::info(cat("Done: ", args[1], " (", map.kept_count, " of ", map.height * map.width,
                " positions kept)"));
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-viz",
      "draw pictures: a contact sheet of predictions (grid), the attn pooling region of an image "
      "(attention)",
      "fg-viz grid [options] <predictions.tsv> <sheet.png>\n"
      "       fg-viz attention [options] <image> <overlay.png>",
      "fg-viz grid --select errors --count 32 predictions.tsv errors.png",
      "fg-predict, fg-score, fg-eval, fg-extract",
      "grid: thumbnails captioned with the predicted class and score; frame and caption green "
      "when\n"
      "right, red when wrong, grey when the true label is unknown.\n"
      "attention: the image as the network sees it, and beside it the channel-sum activation map\n"
      "of a layer with the region attn pooling keeps (positions above the mean, largest connected\n"
      "part) outlined in white. Takes fg-extract's model options."};
  cli::po::options_description grid_options("grid options");
  grid_options.add_options()("count", ranged<std::size_t>(1, 10000)->default_value(48),
                             "images on the sheet")(
      "select", cli::po::value<std::string>()->default_value("errors"),
      "which images: first (in file order), random, errors (wrong ones first, then random)")(
      "seed", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(1),
      "seed of random/errors selection")("columns", ranged<int>(1, 100)->default_value(8),
                                         "thumbnails per row")(
      "thumb", ranged<int>(32, 1024)->default_value(180), "thumbnail side in pixels");
  cli::po::options_description attention_options(
      "attention options (and fg-extract's model options)");
  attention_options.add_options()("layer", cli::po::value<std::string>(),
                                  "layer to show (default: the first tapped)");
  ExtractOptions::add_options(attention_options);
  cli::po::options_description options;
  options.add(grid_options).add(attention_options);
  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        if (args.empty()) throw UsageError("expected a command: grid or attention");
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        if (args[0] == "grid") return grid(vm, rest);
        if (args[0] == "attention") return attention(vm, rest);
        throw UsageError(cat("unknown command '", args[0], "': expected grid or attention"));
      });
}
