// fg-mic: feature selection by the maximal information coefficient.
#include <iostream>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/reduce/mic.hpp"

using namespace fg;
namespace po = cli::po;

namespace {

int apply(const std::vector<std::string>& args) {
  cli::require_args(args, 4, 4);
  const mic::SelectionModel model = mic::SelectionModel::load(args[1]);
  const std::uint64_t rows = mic::apply_selection(model, args[2], args[3]);
  log::info(
      cat("Done ", rows, " rows, ", model.input_dim, " -> ", model.output_dim(), " features"));
  return 0;
}

int pairs(const po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 2, 2);
  const mic::Params params = mic::Params::from(vm);
  const std::size_t cases = mic::write_pair_statistics(std::cout, args[1], params);
  std::cout.flush();
  if (!std::cout) throw Error("writing to stdout failed");
  log::info(cat("Done ", cases, " cases (", mic::estimator_name(params.est), ", alpha ",
                params.alpha, ", c ", params.c, ")"));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-mic",
      "select features by their maximal information coefficient (MIC) with the class label",
      "fg-mic fit [options] <features.fgt> <selection.model>\n"
      "       fg-mic fit --from-scores s1.tsv,s2.tsv,... [options] <features.fgt> "
      "<selection.model>\n"
      "       fg-mic apply <selection.model> <features-in.fgt> <features-out.fgt>\n"
      "       fg-mic scores [options] <features.fgt> <scores.tsv>\n"
      "       fg-mic pairs [--est E --alpha A --c C] <vectors.tsv>",
      "fg-mic fit --k 256 train.fgt mic.model && fg-mic apply mic.model test.fgt test.sel.fgt",
      "fg-extract, fg-pca, fg-train, fg-convert",
      "fit     scores every feature against the label and keeps --k N (or all >= --min-score),\n"
      "        writing a selection model (text, 'FGMIC-SELECTION 1'); --scores also writes\n"
      "        the TSV of scores; --from-scores: from the scores files of column ranges that\n"
      "        cover every column once (the same model as scoring in one process)\n"
      "apply   keeps the selected columns of a table (either file may be '-')\n"
      "scores  writes '# FGMIC-SCORES 1 <settings>' then 'feature<TAB>score<TAB>rank' for every\n"
      "        feature (0-based index, rank 1 = best), or only for --columns\n"
      "pairs   minepy's statistics for each case of a vector file (lines 'case kind n axis "
      "v1..vn',\n"
      "        axis x then y): prints 'case mic mas mev mcn mcn_general tic' on stdout\n\n"
      "Scores: --target classes (default) partitions the label axis by the classes and\n"
      "optimises the feature axis only: max over 2 <= x <= max(2, B/k) of I / log min(x, k);\n"
      "renumbering the classes cannot change it. --target ordinal is minepy's MIC of\n"
      "(feature, class number). Constant features score 0; NaN/Inf values are an error."};
  po::options_description options("Options");
  mic::SelectOptions::add_options(options);
  mic::FileOptions::add_options(options);
  cli::add_threads_option(options);

  return cli::run(argc, argv, usage, options,
                  [&](const po::variables_map& vm, const std::vector<std::string>& args) {
                    if (args.empty())
                      throw UsageError("missing subcommand: fit, apply, scores or pairs");
                    cli::apply_threads(vm);
                    const std::string& command = args[0];
                    if (command == "fit" || command == "scores") {
                      cli::require_args(args, 3, 3);
                      const auto options = mic::SelectOptions::from(vm);
                      const auto files = mic::FileOptions::from(vm);
                      log::info(command == "fit"
                                    ? mic::fit_selection_files(args[1], args[2], files, options)
                                    : mic::write_column_scores(args[1], args[2], files, options));
                      return 0;
                    }
                    if (command == "apply") return apply(args);
                    if (command == "pairs") return pairs(vm, args);
                    throw UsageError(cat("unknown subcommand '", command,
                                         "': expected fit, apply, scores or pairs"));
                  });
}
