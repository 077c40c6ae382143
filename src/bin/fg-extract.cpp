// fg-extract: images of a manifest -> pooled CNN conv features (.fgt).
#include <cstdio>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/extract/run.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-extract",
      "extract pooled CNN conv features (OpenCV DNN; VGG16, SqueezeNet, any ONNX/Caffe net) for "
      "the images of a manifest",
      "fg-extract [options] <manifest> <features-out.fgt>|-",
      "fg-extract --model vgg16-caffe --layers conv4_3,conv5_3 --pool avgmax train.tsv train.fgt",
      "fg-list, fg-convert, fg-pca, fg-mic, fg-train, fg-score",
      "All tapped layers come from one forward pass per batch; the next batch is decoded while "
      "the\n"
      "network runs. Each layer is pooled (--pool); with several layers each is L2-normalised and\n"
      "weighted (--layer-weights), then concatenated; --norm applies to the final vector.\n"
      "VGG16 specs know conv1_1 ... conv5_3 (the ReLU output after each conv) and pool1 ... "
      "pool5.\n"
      "Unreadable, truncated, empty or non-image files are warnings: counted, listed in "
      "--skipped,\n"
      "and extraction continues (exit 1 only if no image could be read). Work in progress is kept\n"
      "in <features-out>.partial (not a feature table); --resume continues it after an "
      "interruption."};
  cli::po::options_description features("Feature options (they determine the values)");
  ExtractOptions::add_options(features);
  cli::po::options_description run_options("Run options");
  RunOptions::add_options(run_options, true);
  run_options.add_options()("list-layers", cli::po::bool_switch(),
                            "print the model's layer names (friendly, then OpenCV's) and exit");
  cli::add_threads_option(run_options);
  cli::po::options_description options;
  options.add(features).add(run_options);

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        const ExtractOptions extract = ExtractOptions::from(vm);
        cli::apply_threads(vm);
        if (vm["list-layers"].as<bool>()) {
          cli::require_args(args, 0, 0);
          std::fputs(layer_listing(extract.model).c_str(), stdout);
          return 0;
        }
        cli::require_args(args, 2, 2);
        const RunOptions run = RunOptions::from(vm);
        log::info(extraction_summary(extract_table(extract, args[0], args[1], run), run));
        return 0;
      });
}
