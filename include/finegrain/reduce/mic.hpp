// Maximal information coefficient (MIC) and feature selection by MIC.
//
// Pair statistics (MIC, MAS, MEV, MCN, TIC) follow Reshef et al. (Science
// 2011) with the conventions of minepy 1.2.6, so they equal minepy's values
// (ApproxMaxMI: `mic_approx`; the equicharacteristic matrix of Reshef et al.
// 2016: `mic_e`). Against a class label, `Target::classes` scores a feature
// with the label axis partitioned by the classes themselves (renumbering the
// classes cannot change it); `Target::ordinal` is minepy's form, the label
// taken as a number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

namespace fg {
struct FeatureTable;
}

namespace fg::mic {

enum class Estimator { mic_approx, mic_e };
enum class Target { classes, ordinal };
// Redundancy term of greedy selection: none (rank by relevance), mic (mRMR:
// relevance - mean MIC with the features selected so far), corr (relevance
// - weight * max |Pearson r| with the features selected so far).
enum class Redundancy { none, mic, corr };

Estimator parse_estimator(const std::string& name);  // "mic_approx" | "mic_e"
const char* estimator_name(Estimator est);
Target parse_target(const std::string& name);  // "classes" | "ordinal"
const char* target_name(Target target);
Redundancy parse_redundancy(const std::string& name);  // "none" | "mic" | "corr"
const char* redundancy_name(Redundancy redundancy);

// minepy's parameters. alpha in (0, 1]: grid budget B = max(n^alpha, 4);
// alpha >= 4: B = min(alpha, n). c: at most c * (column count) superclumps.
struct Params {
  double alpha = 0.6;
  double c = 15;
  Estimator est = Estimator::mic_approx;

  // --est, --alpha, --c (the options pattern of core/cli.hpp); from() checks them.
  static void add_options(boost::program_options::options_description& options);
  static Params from(const boost::program_options::variables_map& vm);
};
// Throws UsageError naming the bad parameter.
void check_params(const Params& params);
// The grid budget B for n points (x * y <= B).
double grid_budget(std::size_t n, double alpha);

// The characteristic matrix: rows y = 2 .. Y, row y has columns x = 2 .. X(y)
// with X(y) = floor(B / y), Y = max(floor(B / 2), 2).
struct CharacteristicMatrix {
  int max_rows = 0;                 // Y
  std::vector<int> max_cols;        // X(y), indexed y - 2
  std::vector<std::size_t> offset;  // start of row y in `cells`, indexed y - 2
  std::vector<double> cells;        // row-major, cell (y, x) at offset[y-2] + x - 2

  void shape(double budget);
  bool has(int y, int x) const { return y >= 2 && y <= max_rows && x >= 2 && x <= max_cols[y - 2]; }
  double at(int y, int x) const { return cells[offset[y - 2] + (x - 2)]; }
  double& at(int y, int x) { return cells[offset[y - 2] + (x - 2)]; }
};

// The statistics minepy reports. mcn uses eps = 0 (threshold MIC),
// mcn_general the threshold MIC^2; tic is the unnormalised sum of all cells.
struct Statistics {
  double mic = 0, mas = 0, mev = 0, mcn = 0, mcn_general = 0, tic = 0;
};
Statistics statistics(const CharacteristicMatrix& m);
// MCN with an arbitrary eps (log2 of the smallest grid reaching (1-eps) MIC).
double mcn(const CharacteristicMatrix& m, double eps);

// One pair (x, y) of n values: the characteristic matrix and its statistics.
// Values must be finite; n >= 4 (Error otherwise).
CharacteristicMatrix characteristic_matrix(const double* x, const double* y, std::size_t n,
                                           const Params& params);
Statistics pair_statistics(const double* x, const double* y, std::size_t n, const Params& params);

// Class-aware MIC of one feature against class labels 0..k-1 (every class
// present): the label axis is partitioned by the classes, only the feature
// axis is optimised, score = max over 2 <= x <= max(2, floor(B/k)) of
// I(X;Y) / log(min(x, k)). Uses params.alpha and params.c (not est).
double class_aware_mic(const double* feature, const int* labels, std::size_t n,
                       const Params& params);

// Scores many features against one label, sharing the label-axis work (its
// sorting and equipartitions) across features. Thread-safe: score() may be
// called concurrently, each thread with its own Workspace.
class LabelScorer {
 public:
  // labels: class indices (>= 0) of the n samples; classes that do not occur
  // are ignored. Needs n >= 4 and at least two classes (Error otherwise).
  LabelScorer(const int* labels, std::size_t n, const Params& params, Target target);
  ~LabelScorer();
  LabelScorer(LabelScorer&&) noexcept;
  LabelScorer& operator=(LabelScorer&&) noexcept;

  // Per-thread buffers (opaque), from workspace().
  struct Workspace;
  struct WorkspaceDeleter {
    void operator()(Workspace* ws) const;
  };
  using WorkspacePtr = std::unique_ptr<Workspace, WorkspaceDeleter>;
  WorkspacePtr workspace() const;
  // The score of one feature (n values, finite): class-aware MIC, or minepy's
  // MIC of (feature, label) for Target::ordinal.
  double score(const float* feature, Workspace& ws) const;
  // Target::ordinal only: all minepy statistics of (feature, label).
  Statistics ordinal_statistics(const float* feature, Workspace& ws) const;

  std::size_t samples() const;
  int classes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every feature (column) of a table against its labels, in parallel over
// features (OpenMP; threads as set by the caller). Checks the table first:
// every row labelled, values finite (Error naming column and row), n >= 4,
// at least two classes.
std::vector<double> score_features(const FeatureTable& table, const Params& params, Target target);

// Checks what score_features needs; Error names the file for messages.
void check_table_for_scoring(const FeatureTable& table, const std::string& name);

// ---- selection ------------------------------------------------------------

struct SelectOptions {
  Params params;
  Target target = Target::classes;
  std::size_t k = 0;      // keep the k best (0: use min_score)
  double min_score = -1;  // keep every feature scoring >= min_score (when k == 0)
  Redundancy redundancy = Redundancy::none;
  double redundancy_weight = 0.3;  // corr: relevance - weight * max |r|
  std::size_t pool = 0;  // with redundancy: candidates = the `pool` most relevant (0 = all)

  // --k, --min-score, --est, --alpha, --c, --target, --redundancy,
  // --redundancy-weight, --pool
  static void add_options(boost::program_options::options_description& options);
  static SelectOptions from(const boost::program_options::variables_map& vm);
};

// A fitted selection: which input columns to keep, in order.
struct SelectionModel {
  std::size_t input_dim = 0;
  std::vector<std::uint32_t> columns;  // selected input columns, in selection order
  std::vector<double> scores;          // relevance score of each selected column
  Params params;
  Target target = Target::classes;
  Redundancy redundancy = Redundancy::none;
  double redundancy_weight = 0;  // corr only
  std::size_t samples = 0;       // rows it was fitted on
  int classes = 0;

  std::size_t output_dim() const { return columns.size(); }
  // in: input_dim values; out: output_dim values.
  void apply_row(const float* in, float* out) const;
  // The whole table; Error if its dimension is not input_dim.
  FeatureTable apply(const FeatureTable& table) const;
  // Error naming both dimensions unless dim == input_dim.
  void check_input_dim(std::size_t dim, const std::string& name) const;

  void save(const std::string& path) const;
  static SelectionModel load(const std::string& path);
};

// Scores every feature (all_scores receives them, may be null), then selects.
SelectionModel fit_selection(const FeatureTable& table, const SelectOptions& options,
                             std::vector<double>* all_scores = nullptr);

// The selection from relevance scores already computed (one per input
// column), for a table of `samples` rows and `classes` classes. With
// redundancy, gather(columns, out) must fill out with those input columns of
// the table, each as `samples` contiguous floats, in the order given; it is
// called once, for the candidates only (the --pool best, or all).
using ColumnGather =
    std::function<void(const std::vector<std::uint32_t>& columns, std::vector<float>& out)>;
SelectionModel select_by_scores(const std::vector<double>& relevance, std::size_t samples,
                                int classes, const SelectOptions& options,
                                const ColumnGather& gather);

// ---- scores of column ranges, and fits from them ------------------------------
//
// `fg-mic scores --columns` scores part of the columns (each column's score
// depends only on that column and the label); a fit from the score files of
// ranges that cover every column exactly once is the fit of one process.

// Columns [first, end), 0-based.
struct ColumnRange {
  std::size_t first = 0, end = 0;
  std::size_t size() const { return end - first; }
};
// "A:B" (0-based, end exclusive: 0:1024 then 1024:2048), "J/N" (the J-th of N
// contiguous near-equal ranges, J = 1..N as fg-jobs' JOB) or "all", for a
// table of dim columns. UsageError naming the problem.
ColumnRange parse_column_range(const std::string& text, std::size_t dim);

// Identity of a table's rows (keys and labels, in order; FNV-1a), so that
// scores of different tables are never merged.
std::uint64_t rows_identity(const std::vector<std::string>& keys, const std::vector<int>& labels);

// A scores file: "# FGMIC-SCORES 1 key=value ..." (input_dim, columns A:B,
// samples, classes, target, estimator, alpha, c, rows_id), then the TSV
// "feature<TAB>score<TAB>rank" (0-based input column, rank within the file).
struct ScoresFile {
  std::size_t input_dim = 0;
  ColumnRange columns;
  std::size_t samples = 0;
  int classes = 0;
  Params params;
  Target target = Target::classes;
  std::uint64_t rows_id = 0;
  std::vector<double> scores;  // of columns.first .. columns.end - 1

  void save(const std::string& path) const;
  static ScoresFile load(const std::string& path);  // Error naming the file and line
};

// Reads only `range` of the table (values checked finite, every row
// labelled) and scores those columns. Memory: rows x range.size() floats.
ScoresFile score_column_range(const std::string& table_path, const std::string& range_spec,
                              const Params& params, Target target);

// Merges score files (any order) that cover [0, input_dim) exactly once, all
// of the same rows and settings (those of `options`; Error naming the file
// that differs), and selects. The table is read for its keys and labels
// (checked against the files), and with redundancy for the candidate columns
// only. all_scores (may be null) receives the merged scores.
SelectionModel fit_from_scores(const std::vector<std::string>& score_paths,
                               const std::string& table_path, const SelectOptions& options,
                               std::vector<double>* all_scores = nullptr);

// A fit as fg-mic fit runs it: scoring the table `table_path` ("-" = stdin),
// or, with score_paths, merging those scores files (fit_from_scores). Error
// naming the table when no feature reaches options.min_score.
struct SelectionFit {
  SelectionModel model;
  ScoresFile scores;                         // the scores of every feature, as one scores file
  double read_seconds = 0, fit_seconds = 0;  // reading the table (when scored), the rest
};
SelectionFit fit_selection_file(const std::string& table_path,
                                const std::vector<std::string>& score_paths,
                                const SelectOptions& options);

// What fg-mic reads and writes beyond the selection settings (the options
// pattern, core/cli.hpp).
struct FileOptions {
  std::string scores;                    // fit: also write all scores here ("" = no)
  std::vector<std::string> from_scores;  // fit: merge these scores files instead of scoring
  std::string columns = "all";           // scores: which columns
  static void add_options(boost::program_options::options_description& options);
  static FileOptions from(const boost::program_options::variables_map& vm);
};

// fg-mic fit: the selection model of `table_path` into `model_path` (and
// the scores into files.scores), written together once both are complete;
// returns the summary line ("Done: ...").
std::string fit_selection_files(const std::string& table_path, const std::string& model_path,
                                const FileOptions& files, const SelectOptions& options);

// fg-mic scores: the scores of files.columns of the table into `scores_path`;
// returns the summary line.
std::string write_column_scores(const std::string& table_path, const std::string& scores_path,
                                const FileOptions& files, const SelectOptions& options);

// Streams a table through a selection ("-" works for both).
std::uint64_t apply_selection(const SelectionModel& model, const std::string& in_path,
                              const std::string& out_path);

// ---- reference vector files ------------------------------------------------

// The reference vector format: lines "case kind n axis v1 .. vn", axis x then y.
struct VectorPair {
  std::string name;
  std::string kind;
  std::vector<double> x, y;
};
std::vector<VectorPair> read_vector_pairs(const std::string& path);
// minepy's statistics of every case of the vector file `path`, as the TSV
// "case mic mas mev mcn mcn_general tic" (header line first). Returns the cases.
std::size_t write_pair_statistics(std::ostream& out, const std::string& path, const Params& params);

}  // namespace fg::mic
