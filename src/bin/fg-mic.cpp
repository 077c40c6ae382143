// fg-mic: feature selection by the maximal information coefficient.
#include <chrono>
#include <iostream>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/reduce/mic.hpp"

using namespace fg;
namespace po = cli::po;

namespace {

// What fg-mic reads and writes beyond the selection settings.
struct FileOptions {
  std::string scores;                    // fit: also write all scores here ("" = no)
  std::vector<std::string> from_scores;  // fit: merge these scores files instead of scoring
  std::string columns = "all";           // scores: which columns
  static void add_options(po::options_description& options) {
    const FileOptions d;
    options.add_options()("scores", po::value<std::string>()->default_value(d.scores, "none"),
                          "fit: also write the scores of all features to this TSV")(
        "from-scores", po::value<std::vector<std::string>>(),
        "fit: merge these scores files (comma-separated, or the option repeated) instead of "
        "scoring; the table is read for its keys and labels, and for --redundancy candidates")(
        "columns", po::value<std::string>()->default_value(d.columns),
        "scores: only columns A:B (0-based, B exclusive), or J/N (the J-th of N near-equal "
        "contiguous ranges, J = 1..N), or all");
  }
  static FileOptions from(const po::variables_map& vm) {
    FileOptions o;
    o.scores = vm["scores"].as<std::string>();
    if (vm.count("from-scores"))
      for (const std::string& list : vm["from-scores"].as<std::vector<std::string>>())
        for (const std::string& path : split_list(list)) o.from_scores.push_back(path);
    o.columns = vm["columns"].as<std::string>();
    return o;
  }
};

int fit(const po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 3, 3);
  const mic::SelectOptions options = mic::SelectOptions::from(vm);
  if (options.k == 0 && options.min_score < 0)
    throw UsageError("give --k N or --min-score T (how many features to keep)");
  const FileOptions files = FileOptions::from(vm);
  OutputSet outputs;  // committed together, once both are written
  const std::string model_stage = outputs.add(args[2], "the selection model");
  const std::string scores_stage =
      files.scores.empty() ? "" : outputs.add(files.scores, "--scores");
  const mic::SelectionFit fit = mic::fit_selection_file(args[1], files.from_scores, options);
  if (!scores_stage.empty()) fit.scores.save(scores_stage);
  fit.model.save(model_stage);
  outputs.commit();
  const mic::SelectionModel& model = fit.model;
  const bool merged = !files.from_scores.empty();
  log::info(cat("Done: selected ", model.output_dim(), " of ", model.input_dim, " features (",
                model.samples, " rows, ", model.classes, " classes, ",
                mic::target_name(options.target), ", ", mic::estimator_name(options.params.est),
                options.redundancy == mic::Redundancy::none
                    ? ""
                    : cat(", redundancy ", mic::redundancy_name(options.redundancy)),
                merged ? cat(", from ", files.from_scores.size(), " scores files") : "", ") in ",
                fit.fit_seconds, " s", merged ? "" : cat(" (+ ", fit.read_seconds, " s reading)")));
  return 0;
}

int apply(const std::vector<std::string>& args) {
  cli::require_args(args, 4, 4);
  const mic::SelectionModel model = mic::SelectionModel::load(args[1]);
  const std::uint64_t rows = mic::apply_selection(model, args[2], args[3]);
  log::info(
      cat("Done ", rows, " rows, ", model.input_dim, " -> ", model.output_dim(), " features"));
  return 0;
}

int scores(const po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 3, 3);
  const mic::SelectOptions options = mic::SelectOptions::from(vm);
  check_writable(args[2]);
  const auto start = std::chrono::steady_clock::now();
  const mic::ScoresFile f = mic::score_column_range(args[1], FileOptions::from(vm).columns,
                                                    options.params, options.target);
  const double time =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.save(args[2]);
  log::info(cat("Done ", f.columns.size(), " features (columns ", f.columns.first, ":",
                f.columns.end, " of ", f.input_dim, ") x ", f.samples, " rows (",
                mic::target_name(options.target), ") in ", time, " s (with reading), ",
                time > 0 ? f.columns.size() / time : 0.0, " features/s"));
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
  FileOptions::add_options(options);
  cli::add_threads_option(options);

  return cli::run(argc, argv, usage, options,
                  [&](const po::variables_map& vm, const std::vector<std::string>& args) {
                    if (args.empty())
                      throw UsageError("missing subcommand: fit, apply, scores or pairs");
                    cli::apply_threads(vm);
                    const std::string& command = args[0];
                    if (command == "fit") return fit(vm, args);
                    if (command == "apply") return apply(args);
                    if (command == "scores") return scores(vm, args);
                    if (command == "pairs") return pairs(vm, args);
                    throw UsageError(cat("unknown subcommand '", command,
                                         "': expected fit, apply, scores or pairs"));
                  });
}
