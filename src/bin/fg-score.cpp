// fg-score: a fitted chain (bundle) over a folder of images or a manifest -> predictions.
#include "finegrain/chain/score.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

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
  ScoreOptions::add_options(options);
  cli::add_threads_option(options);

  return cli::run(argc, argv, usage, options,
                  [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
                    cli::require_args(args, 3, 3);
                    cli::apply_threads(vm);
                    const ScoreOptions score = ScoreOptions::from(vm);
                    const RunReport report = score_images(args[0], args[1], args[2], score);
                    log::info(score_summary(report, score.run));
                    return 0;
                  });
}
