// fg-mic: feature selection by the maximal information coefficient.
#include <algorithm>
#include <chrono>
#include <iostream>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/mic.hpp"

using namespace fg;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

FeatureTable read_features(const std::string& path) {
  TableReadOptions options;
  options.allow_nonfinite = true;  // checked by MIC with column and row named
  FeatureTable table = read_table(path, options);
  mic::check_table_for_scoring(table, path == "-" ? "<stdin>" : path);
  return table;
}

// The scores of a whole table, as `fg-mic scores` writes them.
void write_scores(const std::string& path, const FeatureTable& table, const mic::SelectOptions& o,
                  const std::vector<double>& scores) {
  mic::ScoresFile f;
  f.input_dim = table.dim;
  f.columns = {0, table.dim};
  f.samples = table.rows();
  f.params = o.params;
  f.target = o.target;
  f.rows_id = mic::rows_identity(table.keys, table.labels);
  f.scores = scores;
  std::vector<char> seen(table.classes.size() + 1, 0);
  for (int label : table.labels)
    if (label >= 0 && static_cast<std::size_t>(label) < seen.size() && !seen[label])
      seen[label] = 1, ++f.classes;
  f.save(path);
}

int fit(const cli::po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 3, 3);
  const mic::SelectOptions options = mic::SelectOptions::from(vm);
  if (options.k == 0 && options.min_score < 0)
    throw UsageError("give --k N or --min-score T (how many features to keep)");
  const std::string scores_path = vm["scores"].as<std::string>();
  std::vector<std::string> from_scores;
  if (vm.count("from-scores"))
    for (const std::string& list : vm["from-scores"].as<std::vector<std::string>>())
      for (const std::string& path : split_list(list)) from_scores.push_back(path);
  OutputSet outputs;  // committed together, once both are written
  const std::string model_stage = outputs.add(args[2], "the selection model");
  const std::string scores_stage = scores_path.empty() ? "" : outputs.add(scores_path, "--scores");
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> scores;
  mic::SelectionModel model;
  double read_time = 0;
  if (!from_scores.empty()) {
    model = mic::fit_from_scores(from_scores, args[1], options, &scores);
    if (!scores_path.empty()) {
      mic::ScoresFile merged = mic::ScoresFile::load(from_scores.front());
      merged.columns = {0, model.input_dim};
      merged.scores = scores;
      merged.save(scores_stage);
    }
  } else {
    const FeatureTable table = read_features(args[1]);
    read_time = seconds_since(start);
    model = mic::fit_selection(table, options, &scores);
    if (!scores_path.empty()) write_scores(scores_stage, table, options, scores);
  }
  const double fit_time = seconds_since(start) - read_time;
  if (model.output_dim() == 0) {
    const double best = scores.empty() ? 0.0 : *std::max_element(scores.begin(), scores.end());
    throw Error(cat(args[1], ": no feature scores at least --min-score ",
                    format_double(options.min_score), " (the best scores ", format_double(best),
                    "); nothing to select"));
  }
  model.save(model_stage);
  outputs.commit();
  log::info(cat("Done: selected ", model.output_dim(), " of ", model.input_dim, " features (",
                model.samples, " rows, ", model.classes, " classes, ",
                mic::target_name(options.target), ", ", mic::estimator_name(options.params.est),
                options.redundancy == mic::Redundancy::none
                    ? ""
                    : cat(", redundancy ", mic::redundancy_name(options.redundancy)),
                from_scores.empty() ? "" : cat(", from ", from_scores.size(), " scores files"),
                ") in ", fit_time, " s",
                from_scores.empty() ? cat(" (+ ", read_time, " s reading)") : ""));
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

int scores(const cli::po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 3, 3);
  const mic::SelectOptions options = mic::SelectOptions::from(vm);
  check_writable(args[2]);
  const auto start = std::chrono::steady_clock::now();
  const mic::ScoresFile f = mic::score_column_range(args[1], vm["columns"].as<std::string>(),
                                                    options.params, options.target);
  const double time = seconds_since(start);
  f.save(args[2]);
  log::info(cat("Done ", f.columns.size(), " features (columns ", f.columns.first, ":",
                f.columns.end, " of ", f.input_dim, ") x ", f.samples, " rows (",
                mic::target_name(options.target), ") in ", time, " s (with reading), ",
                time > 0 ? f.columns.size() / time : 0.0, " features/s"));
  return 0;
}

int pairs(const cli::po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 2, 2);
  mic::Params params;
  params.alpha = vm["alpha"].as<double>();
  params.c = vm["c"].as<double>();
  params.est = mic::parse_estimator(vm["est"].as<std::string>());
  mic::check_params(params);
  const std::vector<mic::VectorPair> cases = mic::read_vector_pairs(args[1]);
  std::cout << "case\tmic\tmas\tmev\tmcn\tmcn_general\ttic\n";
  for (const auto& c : cases) {
    mic::Statistics s;
    try {
      s = mic::pair_statistics(c.x.data(), c.y.data(), c.x.size(), params);
    } catch (const Error& e) {
      throw Error(cat(args[1], ": case ", c.name, ": ", e.what()));
    }
    std::cout << c.name << '\t' << format_double(s.mic) << '\t' << format_double(s.mas) << '\t'
              << format_double(s.mev) << '\t' << format_double(s.mcn) << '\t'
              << format_double(s.mcn_general) << '\t' << format_double(s.tic) << '\n';
  }
  std::cout.flush();
  if (!std::cout) throw Error("writing to stdout failed");
  log::info(cat("Done ", cases.size(), " cases (", mic::estimator_name(params.est), ", alpha ",
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
  cli::po::options_description options("Options");
  mic::SelectOptions::add_options(options);
  options.add_options()("scores", cli::po::value<std::string>()->default_value("", "none"),
                        "fit: also write the scores of all features to this TSV")(
      "from-scores", cli::po::value<std::vector<std::string>>(),
      "fit: merge these scores files (comma-separated, or the option repeated) instead of "
      "scoring; the table is read for its keys and labels, and for --redundancy candidates")(
      "columns", cli::po::value<std::string>()->default_value("all"),
      "scores: only columns A:B (0-based, B exclusive), or J/N (the J-th of N near-equal "
      "contiguous ranges, J = 1..N), or all");
  cli::add_threads_option(options);

  return cli::run(argc, argv, usage, options,
                  [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
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
