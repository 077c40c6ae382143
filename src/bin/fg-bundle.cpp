// fg-bundle: the fitted parts of an experiment into one folder for fg-score.
#include "finegrain/chain/bundle.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-bundle",
      "gather a fitted chain (extraction settings, PCA, MIC selection, classifier) into a bundle "
      "folder",
      "fg-bundle [options] --features <train.fgt> --classifier <model> <bundle-dir>",
      "fg-bundle --features train.fgt --pca pca.model --classifier svm.model bundle/",
      "fg-score, fg-extract, fg-pca, fg-mic, fg-train",
      "The extraction settings are read from the training features (fg-extract records them), so\n"
      "the bundle extracts exactly as training did. Every part is checksummed; the network files\n"
      "stay where the model spec finds them and are checked by checksum when the bundle is used."};
  cli::po::options_description options("Options");
  options.add_options()("features", cli::po::value<std::string>(),
                        "training features written by fg-extract (required)")(
      "pca", cli::po::value<std::string>(), "PCA model applied after extraction (optional)")(
      "mic", cli::po::value<std::string>(), "MIC selection model applied after PCA (optional)")(
      "classifier", cli::po::value<std::string>(), "classifier model (required)");
  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 1, 1);
        auto get = [&](const char* name) {
          return vm.count(name) ? vm[name].as<std::string>() : std::string();
        };
        BundleParts parts{get("features"), get("pca"), get("mic"), get("classifier")};
        Bundle::create(args[0], parts);
        log::info(cat("Done: bundle ", args[0], " (", Bundle::load(args[0]).describe(), ")"));
        return 0;
      });
}
