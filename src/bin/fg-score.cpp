// fg-score: a fitted chain (bundle) over a folder of images or a manifest -> predictions.
#include <cmath>
#include <filesystem>

#include "finegrain/chain/bundle.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/progress.hpp"
#include "finegrain/data/manifest.hpp"

using namespace fg;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-score",
      "score images with a fitted chain (extraction, PCA, MIC selection, classifier) in one "
      "program",
      "fg-score [options] <bundle> <image-folder>|<manifest> <predictions.tsv>|-",
      "fg-score exp/cub/bundle new-birds/ predictions.tsv --top-k 5",
      "fg-bundle, fg-predict, fg-eval, fg-viz",
      "A folder is scanned recursively: images in root/<class>/... get <class> as their true "
      "label,\n"
      "images directly under the root none. The output has fg-predict's format; scoring the "
      "training\n"
      "manifest reproduces fg-predict's predictions exactly. Unreadable images are warnings: "
      "counted,\n"
      "listed in --skipped, and scoring continues (exit 1 only if no image could be read)."};
  cli::po::options_description options("Options");
  options.add_options()("top-k", ranged<std::size_t>(1, 100000)->default_value(1),
                        "classes per image, best first")(
      "batch,b", ranged<std::size_t>(1, 4096)->default_value(8), "images per forward pass")(
      "skipped", cli::po::value<std::string>(),
      "write the images that could not be used to this file")(
      "on-corrupt", cli::po::value<std::string>()->default_value("warn"),
      "an image that decodes with errors (e.g. a JPEG with corrupt data): warn (score it, with a "
      "warning naming it) | skip (leave it out like an unreadable one)")(
      "progress", cli::po::bool_switch(),
      "show the progress line even when stderr is not a terminal")(
      "conv", cli::po::value<std::string>(),
      "3x3 stride-1 convolutions: winograd | opencv (default: the bundle's, as its features were "
      "extracted; "
      "the values agree to ~1e-6 either way)");
  cli::add_threads_option(options);

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 3, 3);
        cli::apply_threads(vm);
        const std::string &bundle_dir = args[0], &input = args[1], &out_path = args[2];
        const std::size_t topk = vm["top-k"].as<std::size_t>(),
                          batch = vm["batch"].as<std::size_t>();
        std::string skipped_path = vm.count("skipped") ? vm["skipped"].as<std::string>() : "";
        const OnCorrupt on_corrupt = parse_on_corrupt(vm["on-corrupt"].as<std::string>());

        Manifest manifest;
        if (fs::is_directory(input)) {
          ListReport report;
          manifest = list_images(input, report, true);
          if (manifest.empty()) throw Error(cat(input, ": no images found"));
        } else {
          manifest = read_manifest(input);
        }
        // Both outputs are staged now (an unwritable one fails at once) and
        // replace earlier ones together at the end.
        OutputSet outputs;
        AtomicOutput out(outputs.add(out_path, "the predictions"), false);
        const std::string skipped_stage =
            skipped_path.empty() ? "" : outputs.add(skipped_path, "--skipped");

        Bundle bundle = Bundle::load(bundle_dir);
        ExtractOptions extract_options = bundle.extract_options();
        if (vm.count("conv")) extract_options.conv = parse_conv_impl(vm["conv"].as<std::string>());
        Extractor extractor(bundle.spec(), extract_options);
        if (extractor.dim() != bundle.input_dim())
          throw Error(cat(bundle_dir, ": the extractor gives dimension ", extractor.dim(),
                          ", the chain takes ", bundle.input_dim()));
        log::detail(cat("chain: ", bundle.describe()));

        const auto& classes = bundle.classifier().classes();
        out.stream() << predictions_header(classes, topk);
        std::vector<std::string> paths;
        for (const auto& entry : manifest) paths.push_back(entry.path);
        std::vector<std::size_t> todo(paths.size());
        for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;

        std::vector<std::pair<std::size_t, std::string>> skipped;
        std::vector<float> work;
        std::size_t scored = 0;
        Progress progress("images", paths.size(), vm["progress"].as<bool>());
        PipelineStats stats = extract_files(
            extractor, paths, todo, batch,
            [&](std::size_t i, const float* features) {
              out.stream() << prediction_line(manifest[i].path, manifest[i].label,
                                              bundle.predict(features, topk, work), classes);
              ++scored;
            },
            [&](std::size_t i, const std::string& problem) {
              log::warn(cat(paths[i], ": ", problem, "; skipped"));
              skipped.emplace_back(i, problem);
            },
            [&](std::size_t done) { progress.update(done); }, on_corrupt);
        progress.finish();
        if (scored == 0)
          throw Error(cat("no image could be read (", skipped.size(), " skipped); ", out_path,
                          " not written"));
        out.commit();
        if (!skipped_path.empty()) {
          AtomicOutput list(skipped_stage, false);
          for (const auto& [i, problem] : skipped)
            list.stream() << paths[i] << '\t' << problem << '\n';
          list.commit();
        }
        outputs.commit();
        log::info(
            cat("Done ", scored, " images",
                stats.damaged ? cat(" (", stats.damaged, " decoded with errors)") : "", ", ",
                skipped.size(), " skipped",
                skipped.empty() || !skipped_path.empty() ? "" : " (list them with --skipped FILE)",
                "; ",
                format_double(stats.seconds > 0 ? std::round(10 * scored / stats.seconds) / 10 : 0),
                " images/s"));
        return 0;
      });
}
