// fg-viz: pictures — a contact sheet of predictions, the attention region of attn pooling.
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/eval/viz.hpp"

using namespace fg;

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
  viz::GridOptions::add_options(grid_options);
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
        if (args[0] != "grid" && args[0] != "attention")
          throw UsageError(cat("unknown command '", args[0], "': expected grid or attention"));
        cli::require_args(rest, 2, 2);
        if (args[0] == "grid")
          log::info(viz::write_prediction_sheet(rest[0], rest[1], viz::GridOptions::from(vm)));
        else
          log::info(
              viz::write_attention_overlay(rest[0], rest[1], ExtractOptions::from(vm),
                                           vm.count("layer") ? vm["layer"].as<std::string>() : ""));
        return 0;
      });
}
