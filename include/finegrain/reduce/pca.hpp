// Principal component analysis: fit on a feature table, apply row by row.
//
// Definitions (those of scikit-learn's PCA): the data are centred by the
// training mean; the variance of component k is the k-th eigenvalue of the
// sample covariance (denominator n - 1); the explained-variance ratio divides
// it by the total variance (the trace of the covariance, i.e. the sum of the
// per-feature variances, computed exactly whatever the method).
//
// Three methods compute the same leading components:
//   cov         eigen-decomposition of the D x D covariance (exact; D small)
//   gram        eigen-decomposition of the n x n Gram matrix (exact; n < D)
//   randomized  randomized block Krylov method (Musco & Musco 2015): a
//               Krylov subspace of (Q + 1) blocks of (K + oversample) / 2
//               directions, then Rayleigh-Ritz; for K much smaller than
//               min(n, D). Seeded.
// Each component's sign is fixed so that its largest-|.| coordinate is
// positive (the first one on ties, i.e. within a relative 1e-6), so every method and run
// gives the same components.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace fg {

struct FeatureTable;
struct PcaDecomposition;  // internal (pca.cpp)
class PcaStats;

enum class PcaMethod { automatic, cov, gram, randomized };

// "auto", "cov", "gram", "randomized"
const char* pca_method_name(PcaMethod method);
// Throws UsageError on an unknown name.
PcaMethod parse_pca_method(const std::string& name);

struct PcaFitOptions {
  std::size_t dim = 0;          // components to keep (0: decided by `variance`)
  double variance = 0.0;        // keep the fewest components explaining this fraction
  bool whiten = false;          // scale outputs to unit variance
  std::string method = "auto";  // auto | cov | gram | randomized
  std::uint64_t seed = 1;       // randomized method only
  std::size_t oversample = 10;  // randomized: extra directions beyond K (block (K + P) / 2)
  int power_iterations = -1;    // randomized: Krylov steps (products with X^T X); -1 = 5

  // --dim, --variance, --whiten, --method, --seed, --oversample, --power-iterations
  // (the options pattern of core/cli.hpp); from() checks the values.
  static void add_options(boost::program_options::options_description& options);
  static PcaFitOptions from(const boost::program_options::variables_map& vm);
  // Throws UsageError for inconsistent values (neither or both of dim/variance, ...).
  void check() const;
};

// What the fit computed, beyond the model itself.
struct PcaFitReport {
  PcaMethod method = PcaMethod::automatic;  // the method actually used
  std::vector<double> spectrum;             // variances of every component computed, decreasing
  bool complete = false;                    // spectrum holds all min(n - 1, D) components
  double total_variance = 0.0;              // sum of per-feature variances
  std::size_t kept = 0;                     // components kept in the model
  double seconds = 0.0;
};

class PcaModel {
 public:
  PcaModel() = default;

  // Fits on n rows of dim D (row-major floats). Throws Error when the data
  // cannot support the request (n < 2, K > min(n - 1, D), whitening a
  // zero-variance component).
  static PcaModel fit(const float* rows, std::size_t n, std::size_t dim,
                      const PcaFitOptions& options, PcaFitReport* report = nullptr);
  static PcaModel fit(const FeatureTable& table, const PcaFitOptions& options,
                      PcaFitReport* report = nullptr);
  // Fits on merged statistics (PcaStats): the exact covariance method, with
  // the same components as a fit of all the rows together (to rounding).
  // The randomized and Gram methods need the rows: UsageError if asked for.
  static PcaModel fit(const PcaStats& stats, const PcaFitOptions& options,
                      PcaFitReport* report = nullptr);

  // Versioned binary file ("FGPCA\n" magic). load() names the file in errors.
  static PcaModel load(const std::string& path);
  void save(const std::string& path) const;

  std::size_t input_dim() const { return mean_.size(); }
  std::size_t output_dim() const { return variances_.size(); }
  bool whiten() const { return whiten_; }
  std::uint64_t samples() const { return samples_; }
  const std::string& method() const { return method_; }
  double total_variance() const { return total_variance_; }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& variances() const { return variances_; }
  // Component k (unit vector of input_dim() values) starts at components()[k * D].
  const std::vector<double>& components() const { return components_; }
  // Fraction of the total variance the kept components explain.
  double explained_ratio() const;

  // Throws Error unless `dim` equals input_dim(): "<source>: dimension 512,
  // but the PCA model <model_name> was fitted on dimension 1024".
  void check_input_dim(std::size_t dim, const std::string& source,
                       const std::string& model_name = "") const;

  // One row: out[k] = component_k . (in - mean) (divided by sqrt(variance_k)
  // when whitened). `out` holds output_dim() values. The same arithmetic for
  // every row, so batch and single-row results are byte-identical.
  void apply_row(const float* in, float* out) const;
  // n rows, in parallel (OpenMP); same results as apply_row.
  void apply(const float* in, std::size_t n, float* out) const;
  // The inverse map back to input space (reconstruction from the kept components).
  void reconstruct_row(const float* projected, float* out) const;

 private:
  void prepare();  // derives the float projection used by apply_row
  // The model from a decomposition: chooses K, fixes signs, fills `report`.
  static PcaModel finish(PcaDecomposition& d, std::vector<double> mean, double total_variance,
                         std::uint64_t samples, PcaMethod method, const PcaFitOptions& options,
                         double started, PcaFitReport* report);

  std::vector<double> mean_;
  std::vector<double> variances_;
  std::vector<double> components_;  // K x D, row-major
  double total_variance_ = 0.0;
  std::uint64_t samples_ = 0;
  bool whiten_ = false;
  std::string method_;
  std::vector<float> mean_f_;
  std::vector<float> projection_f_;  // K x D, rows scaled by 1/sqrt(var) if whitened
};

// Sufficient statistics of a set of rows for PCA, mergeable across shards:
// the row count, the column sums and the scatter matrix about the rows' own
// mean (sum of outer products of the centred rows), all in double. The
// centred scatter rather than the raw sum of x x^T: merging two sets adds
// n_a n_b / n (mean_b - mean_a)(mean_b - mean_a)^T (Chan, Golub & LeVeque
// 1979), which, unlike subtracting n mean mean^T from raw sums, loses
// nothing when the mean is large against the spread. D x D doubles: D =
// 4,096 takes 128 MiB in memory, half of it on disk.
class PcaStats {
 public:
  PcaStats() = default;
  // Statistics of n rows (row-major floats). Throws Error if D x D doubles
  // do not fit in the available memory.
  static PcaStats compute(const float* rows, std::size_t n, std::size_t dim);
  static PcaStats compute(const FeatureTable& table);
  // Becomes the statistics of both sets of rows. The result depends on the
  // order of merges only by rounding; fg-pca merges in the order given.
  // Throws Error on another dimension.
  void merge(const PcaStats& other, const std::string& other_name = "");

  // Versioned binary file ("FGPCAST\n" magic). load() names the file in errors.
  static PcaStats load(const std::string& path);
  void save(const std::string& path) const;
  // True when the file starts with the statistics magic (false for "-").
  static bool is_stats_file(const std::string& path);

  std::uint64_t rows() const { return rows_; }
  std::size_t dim() const { return sum_.size(); }
  const std::vector<double>& sum() const { return sum_; }
  // Scatter about the mean, D x D, symmetric (column-major = row-major).
  const std::vector<double>& scatter() const { return scatter_; }

 private:
  std::uint64_t rows_ = 0;
  std::vector<double> sum_;
  std::vector<double> scatter_;
};

// ---- files: what fg-pca composes --------------------------------------------

// Fits on `inputs`: one feature table ("-" = stdin), or one or more PcaStats
// files (fg-pca stats), merged in the order given. Errors name the input.
PcaModel fit_pca(const std::vector<std::string>& inputs, const PcaFitOptions& options,
                 PcaFitReport* report = nullptr);

// The statistics of one feature table ("-" = stdin). Errors name it.
PcaStats compute_pca_stats(const std::string& table_path);

// Streams a table through a fitted model ("-" works for both): rows are read
// serially in batches, projected in parallel and written in order; the
// provenance passes on unchanged. `model_name` names the model in messages.
// Returns the rows written.
std::uint64_t apply_pca(const PcaModel& model, const std::string& model_name,
                        const std::string& in_path, const std::string& out_path);

// The explained-variance table (TSV): component, variance, ratio, cumulative,
// kept. One line per computed component. (The chart of it: eval/pca_plot.hpp.)
void write_pca_variance_table(const std::string& path, const PcaFitReport& report);

}  // namespace fg
