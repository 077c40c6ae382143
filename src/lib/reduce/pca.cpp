#include "finegrain/reduce/pca.hpp"

#include <omp.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "finegrain/core/binary.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/data/table.hpp"

namespace fg {

namespace po = boost::program_options;

namespace {

using MatrixD = Eigen::MatrixXd;
using MatrixF = Eigen::MatrixXf;
using RowMapF = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Variance ratios below this fraction of the largest are treated as zero.
constexpr double kZeroVariance = 1e-12;

struct Centered {
  std::vector<double> mean;
  double total_variance = 0.0;
};

// Mean and total variance (sum of per-feature sample variances), two-pass in double.
Centered centre_stats(const float* rows, std::size_t n, std::size_t dim) {
  Centered c;
  c.mean.assign(dim, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const float* r = rows + i * dim;
    for (std::size_t j = 0; j < dim; ++j) c.mean[j] += r[j];
  }
  for (double& m : c.mean) m /= static_cast<double>(n);
  std::vector<double> ss(dim, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const float* r = rows + i * dim;
    for (std::size_t j = 0; j < dim; ++j) {
      double d = r[j] - c.mean[j];
      ss[j] += d * d;
    }
  }
  for (double s : ss) c.total_variance += s;
  c.total_variance /= static_cast<double>(n - 1);
  return c;
}

template <class Matrix>
Matrix centred_matrix(const float* rows, std::size_t n, std::size_t dim,
                      const std::vector<double>& mean) {
  Matrix x(n, dim);
  using Scalar = typename Matrix::Scalar;
  // Row-major source to column-major target, in tiles so both stay in cache.
  const std::size_t tile = 64;
  for (std::size_t i0 = 0; i0 < n; i0 += tile) {
    const std::size_t i1 = std::min(n, i0 + tile);
    for (std::size_t j0 = 0; j0 < dim; j0 += tile) {
      const std::size_t j1 = std::min(dim, j0 + tile);
      for (std::size_t j = j0; j < j1; ++j) {
        Scalar* col = x.data() + j * n;
        for (std::size_t i = i0; i < i1; ++i) col[i] = static_cast<Scalar>(rows[i * dim + j] - mean[j]);
      }
    }
  }
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// a * b computed in fixed blocks of 256 rows of `a`, each block by one
// thread: the result does not depend on the thread count. (Eigen's own
// parallel product splits the work by thread count, which changes the last
// bits, so models fitted with different --threads would differ.)
template <class Lhs, class Rhs>
Eigen::Matrix<typename Lhs::Scalar, Eigen::Dynamic, Eigen::Dynamic> product(const Lhs& a, const Rhs& b) {
  Eigen::Matrix<typename Lhs::Scalar, Eigen::Dynamic, Eigen::Dynamic> c(a.rows(), b.cols());
  const Eigen::Index block = 256;
  const Eigen::Index blocks = (a.rows() + block - 1) / block;
  // Each block single-threaded even when Eigen's thread count was pinned
  // (Eigen::setNbThreads) and our loop runs on one thread; then restored
  // ("0" = follow OpenMP, when that is what it did).
  const int saved = Eigen::nbThreads();
  Eigen::setNbThreads(1);
#pragma omp parallel for schedule(dynamic)
  for (Eigen::Index i = 0; i < blocks; ++i) {
    const Eigen::Index first = i * block, count = std::min(block, a.rows() - first);
    c.middleRows(first, count).noalias() = a.middleRows(first, count) * b;
  }
  Eigen::setNbThreads(saved == omp_get_max_threads() ? 0 : saved);
  return c;
}

// Standard normal numbers from a seeded 64-bit Mersenne Twister by
// Box-Muller, written out so every platform draws the same values
// (std::normal_distribution is implementation-defined).
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : engine_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1, u2;
    do {
      u1 = uniform();
    } while (u1 <= 0.0);
    u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    double t = 2.0 * 3.14159265358979323846 * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

 private:
  double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Orthonormal basis of the columns of y. Cholesky QR twice in double
// (CholeskyQR2: two passes make it as accurate as Householder for the
// condition numbers met here, and its work is two GEMMs instead of a serial
// factorisation); Householder QR when the Cholesky factorisation fails.
// Intermediate power iterations only need a well-conditioned basis: one pass.
MatrixF orthonormalise(const MatrixF& y, int passes = 2) {
  MatrixD q = y.cast<double>();
  for (int pass = 0; pass < passes; ++pass) {
    MatrixD gram = product(q.transpose(), q);
    Eigen::LLT<MatrixD> llt(gram.selfadjointView<Eigen::Lower>());
    bool ok = llt.info() == Eigen::Success;
    if (ok) {
      const auto& l = llt.matrixLLT();
      const double lo = l.diagonal().minCoeff(), hi = l.diagonal().maxCoeff();
      ok = lo > 0 && hi / lo < 1e6;
    }
    if (!ok) {
      Eigen::HouseholderQR<MatrixD> qr(q);
      q = qr.householderQ() * MatrixD::Identity(q.rows(), q.cols());
      return q.cast<float>();
    }
    // q <- q R^{-1}, with gram = R^T R and R = L^T; R^{-1} is small, and a
    // product parallelises where a triangular solve of q would not.
    const MatrixD r_inverse = llt.matrixU().solve(MatrixD::Identity(q.cols(), q.cols()));
    q = product(q, r_inverse);
  }
  return q.cast<float>();
}

// Makes the largest-|.| coordinate of each row positive. Coordinates within
// a relative 1e-6 of the largest count as tied and the first of them
// decides, so rounding differences between methods or builds (SIMD width)
// cannot flip the sign of a component with (nearly) equal coordinates.
void fix_signs(std::vector<double>& components, std::size_t k, std::size_t dim) {
  for (std::size_t c = 0; c < k; ++c) {
    double* v = components.data() + c * dim;
    double largest = 0;
    for (std::size_t j = 0; j < dim; ++j) largest = std::max(largest, std::fabs(v[j]));
    std::size_t best = 0;
    while (best + 1 < dim && std::fabs(v[best]) < largest * (1 - 1e-6)) ++best;
    if (v[best] < 0)
      for (std::size_t j = 0; j < dim; ++j) v[j] = -v[j];
  }
}

struct Decomposition {
  std::vector<double> spectrum;    // all computed variances, decreasing
  std::vector<double> components;  // first `count` directions, row-major count x D
  std::size_t count = 0;
  bool complete = false;
};

// Eigen-decomposition of the covariance: exact, O(n D^2 + D^3).
Decomposition fit_cov(const float* rows, std::size_t n, std::size_t dim,
                      const std::vector<double>& mean, std::size_t rank) {
  MatrixD x = centred_matrix<MatrixD>(rows, n, dim, mean);
  // A full product rather than Eigen's rank update: twice the flops, but
  // blocked our way, so the result does not depend on the thread count.
  MatrixD cov = product(x.transpose(), x) / static_cast<double>(n - 1);
  x.resize(0, 0);
  Eigen::SelfAdjointEigenSolver<MatrixD> solver(cov.selfadjointView<Eigen::Lower>());
  if (solver.info() != Eigen::Success) throw Error("PCA: the covariance eigen-decomposition did not converge");
  Decomposition d;
  d.complete = true;
  d.count = rank;
  // Eigenvalues come in increasing order.
  for (std::size_t k = 0; k < rank; ++k)
    d.spectrum.push_back(std::max(0.0, solver.eigenvalues()(dim - 1 - k)));
  d.components.resize(rank * dim);
  for (std::size_t k = 0; k < rank; ++k)
    for (std::size_t j = 0; j < dim; ++j)
      d.components[k * dim + j] = solver.eigenvectors()(j, dim - 1 - k);
  return d;
}

// Eigen-decomposition of the Gram matrix X X^T: exact, O(n^2 D + n^3).
Decomposition fit_gram(const float* rows, std::size_t n, std::size_t dim,
                       const std::vector<double>& mean, std::size_t rank) {
  MatrixD x = centred_matrix<MatrixD>(rows, n, dim, mean);
  MatrixD gram = product(x, x.transpose());
  Eigen::SelfAdjointEigenSolver<MatrixD> solver(gram.selfadjointView<Eigen::Lower>());
  if (solver.info() != Eigen::Success) throw Error("PCA: the Gram eigen-decomposition did not converge");
  Decomposition d;
  d.complete = true;
  const double scale = 1.0 / static_cast<double>(n - 1);
  double top = std::max(0.0, solver.eigenvalues()(n - 1));
  for (std::size_t k = 0; k < rank; ++k)
    d.spectrum.push_back(std::max(0.0, solver.eigenvalues()(n - 1 - k)) * scale);
  // Directions: v = X^T u / sigma, for the components with non-zero variance.
  std::size_t usable = 0;
  while (usable < rank && solver.eigenvalues()(n - 1 - usable) > kZeroVariance * top) ++usable;
  MatrixD u(n, usable);
  for (std::size_t k = 0; k < usable; ++k) {
    u.col(k) = solver.eigenvectors().col(n - 1 - k) /
               std::sqrt(solver.eigenvalues()(n - 1 - k));
  }
  MatrixD v = product(x.transpose(), u);  // D x usable
  d.count = usable;
  d.components.resize(usable * dim);
  for (std::size_t k = 0; k < usable; ++k) {
    Eigen::VectorXd col = v.col(k);
    col.normalize();
    for (std::size_t j = 0; j < dim; ++j) d.components[k * dim + j] = col(j);
  }
  return d;
}

// Randomized subspace iteration (Halko et al. 2011, algorithm 4.4), the big
// products in float, orthonormalisation and the final SVD in double.
Decomposition fit_randomized(const float* rows, std::size_t n, std::size_t dim,
                             const std::vector<double>& mean, std::size_t k,
                             const PcaFitOptions& options) {
  const std::size_t rank_max = std::min(n, dim);
  const std::size_t l = std::min(k + options.oversample, rank_max);
  int iterations = options.power_iterations;
  if (iterations < 0) iterations = (static_cast<double>(k) < 0.1 * static_cast<double>(rank_max)) ? 7 : 4;

  auto start = std::chrono::steady_clock::now();
  MatrixF x = centred_matrix<MatrixF>(rows, n, dim, mean);
  MatrixF omega(dim, l);
  Gaussian gauss(options.seed);
  for (std::size_t j = 0; j < l; ++j)
    for (std::size_t i = 0; i < dim; ++i) omega(i, j) = static_cast<float>(gauss.next());
  log::detail(cat("PCA randomized: centred data and sample (", l, " directions) in ", seconds_since(start), " s"));

  start = std::chrono::steady_clock::now();
  MatrixF q = orthonormalise(product(x, omega), iterations > 0 ? 1 : 2);
  for (int it = 0; it < iterations; ++it) {
    MatrixF z = orthonormalise(product(x.transpose(), q), 1);
    q = orthonormalise(product(x, z), it + 1 < iterations ? 1 : 2);
  }
  log::detail(cat("PCA randomized: range found with ", iterations, " power iterations in ", seconds_since(start),
                  " s"));
  start = std::chrono::steady_clock::now();
  const MatrixD bt = product(x.transpose(), q).cast<double>();  // (Q^T X)^T, D x l
  x.resize(0, 0);
  Eigen::BDCSVD<MatrixD> svd(bt, Eigen::ComputeThinU);  // X^T Q = U S V^T
  log::detail(cat("PCA randomized: projection and SVD of ", l, " x ", dim, " in ", seconds_since(start), " s"));
  Decomposition d;
  d.complete = l >= std::min(n - 1, dim);
  const double scale = 1.0 / static_cast<double>(n - 1);
  for (Eigen::Index i = 0; i < svd.singularValues().size(); ++i) {
    double s = svd.singularValues()(i);
    d.spectrum.push_back(s * s * scale);
  }
  d.count = std::min<std::size_t>(k, d.spectrum.size());
  d.components.resize(d.count * dim);
  for (std::size_t c = 0; c < d.count; ++c)
    for (std::size_t j = 0; j < dim; ++j) d.components[c * dim + j] = svd.matrixU()(j, c);
  return d;
}

// --- binary model file -------------------------------------------------------

constexpr char kMagic[8] = {'F', 'G', 'P', 'C', 'A', '\n', '\0', '\0'};
constexpr std::uint32_t kPcaVersion = 1;
constexpr std::uint32_t kEndMarker = 0x444e4521;  // "!END"

template <class T>
void put(std::ostream& out, const T& value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

const char* pca_method_name(PcaMethod method) {
  switch (method) {
    case PcaMethod::automatic: return "auto";
    case PcaMethod::cov: return "cov";
    case PcaMethod::gram: return "gram";
    case PcaMethod::randomized: return "randomized";
  }
  return "?";
}

PcaMethod parse_pca_method(const std::string& name) {
  if (name == "auto") return PcaMethod::automatic;
  if (name == "cov") return PcaMethod::cov;
  if (name == "gram") return PcaMethod::gram;
  if (name == "randomized") return PcaMethod::randomized;
  throw UsageError(cat("--method: unknown PCA method '", name, "' (expected auto, cov, gram or randomized)"));
}

void PcaFitOptions::register_options(po::options_description& options) {
  options.add_options()
      ("dim,k",
       ranged<long long>(0, 1000000)->default_value(static_cast<long long>(dim))->notifier([this](long long value) {
         dim = static_cast<std::size_t>(value);
       }),
       "number of components to keep (0: use --variance)")
      ("variance", ranged_into<double>(&variance, 0, 1)->default_value(variance),
       "keep the fewest components explaining at least this fraction of the variance, in (0, 1]")
      ("whiten", po::bool_switch(&whiten),
       "divide each output by its component's standard deviation (unit variance)")
      ("method", po::value<std::string>(&method)->default_value(method),
       "auto | cov (DxD covariance) | gram (nxn Gram) | randomized (randomized SVD); "
       "auto: randomized when K < min(n,D)/4 and min(n,D) > 1500, else cov when D <= n, else gram")
      ("seed", ranged_into<std::uint64_t>(&seed, 0, unbounded<std::uint64_t>())->default_value(seed), "random seed (randomized method)")
      ("oversample",
       ranged<long long>(0, 100000)->default_value(static_cast<long long>(oversample))->notifier([this](long long value) {
         oversample = static_cast<std::size_t>(value);
       }),
       "randomized: extra directions sampled beyond K")
      ("power-iterations", ranged_into<int>(&power_iterations, -1, 100)->default_value(power_iterations),
       "randomized: power iterations (-1: 7 when K < min(n,D)/10, else 4)");
}

void PcaFitOptions::check() const {
  parse_pca_method(method);
  if (dim == 0 && variance == 0.0) throw UsageError("give --dim K or --variance F (e.g. --dim 256 or --variance 0.95)");
  if (dim != 0 && variance != 0.0) throw UsageError("give either --dim or --variance, not both");
  if (variance != 0.0 && !(variance > 0.0 && variance <= 1.0))
    throw UsageError(cat("--variance ", variance, ": expected a fraction in (0, 1]"));
  if (variance != 0.0 && parse_pca_method(method) == PcaMethod::randomized)
    throw UsageError("--variance needs the whole spectrum: use --method auto, cov or gram, or give --dim");
  if (power_iterations < -1) throw UsageError("--power-iterations: expected -1 or a count >= 0");
}

PcaModel PcaModel::fit(const float* rows, std::size_t n, std::size_t dim,
                       const PcaFitOptions& options, PcaFitReport* report) {
  options.check();
  auto start = std::chrono::steady_clock::now();
  if (dim == 0) throw Error("PCA: the features have dimension 0");
  if (n < 2) throw Error(cat("PCA: needs at least 2 rows to estimate variances, got ", n));
  const std::size_t rank = std::min(n - 1, dim);
  if (options.dim > rank)
    throw Error(cat("PCA: --dim ", options.dim, " is more than the data supports: min(rows - 1, dimension) = min(",
                    n - 1, ", ", dim, ") = ", rank));

  PcaMethod method = parse_pca_method(options.method);
  if (method == PcaMethod::automatic) {
    const std::size_t small = std::min(n, dim);
    bool randomized = options.dim != 0 && small > 1500 && options.dim * 4 < small;
    method = randomized ? PcaMethod::randomized : (dim <= n ? PcaMethod::cov : PcaMethod::gram);
  }

  Centered stats = centre_stats(rows, n, dim);
  Decomposition d;
  if (method == PcaMethod::cov)
    d = fit_cov(rows, n, dim, stats.mean, rank);
  else if (method == PcaMethod::gram)
    d = fit_gram(rows, n, dim, stats.mean, rank);
  else
    d = fit_randomized(rows, n, dim, stats.mean, options.dim, options);

  std::size_t k = options.dim;
  if (k == 0) {
    // The fewest components whose cumulative ratio reaches the target.
    double cumulative = 0.0;
    for (double v : d.spectrum) {
      ++k;
      cumulative += v;
      if (stats.total_variance <= 0 || cumulative / stats.total_variance >= options.variance - 1e-12) break;
    }
  }
  if (k > d.count) {
    throw Error(cat("PCA: only ", d.count, " components have non-zero variance; lower --dim/--variance (asked for ",
                    k, ")"));
  }

  PcaModel model;
  model.mean_ = stats.mean;
  model.total_variance_ = stats.total_variance;
  model.samples_ = n;
  model.whiten_ = options.whiten;
  model.method_ = pca_method_name(method);
  model.variances_.assign(d.spectrum.begin(), d.spectrum.begin() + static_cast<std::ptrdiff_t>(k));
  d.components.resize(k * dim);
  fix_signs(d.components, k, dim);
  model.components_ = std::move(d.components);
  if (options.whiten) {
    const double top = model.variances_.empty() ? 0.0 : model.variances_[0];
    for (std::size_t c = 0; c < k; ++c)
      if (!(model.variances_[c] > kZeroVariance * top) || model.variances_[c] <= 0)
        throw Error(cat("PCA: component ", c + 1, " has (near) zero variance ", model.variances_[c],
                        "; cannot whiten it, lower --dim"));
  }
  model.prepare();

  if (report) {
    report->method = method;
    report->spectrum = std::move(d.spectrum);
    report->complete = d.complete;
    report->total_variance = stats.total_variance;
    report->kept = k;
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return model;
}

PcaModel PcaModel::fit(const FeatureTable& table, const PcaFitOptions& options, PcaFitReport* report) {
  return fit(table.values.data(), table.rows(), table.dim, options, report);
}

double PcaModel::explained_ratio() const {
  if (total_variance_ <= 0) return 1.0;
  double sum = 0.0;
  for (double v : variances_) sum += v;
  return sum / total_variance_;
}

void PcaModel::prepare() {
  const std::size_t dim = input_dim(), k = output_dim();
  mean_f_.resize(dim);
  for (std::size_t j = 0; j < dim; ++j) mean_f_[j] = static_cast<float>(mean_[j]);
  projection_f_.resize(k * dim);
  for (std::size_t c = 0; c < k; ++c) {
    const double s = whiten_ ? 1.0 / std::sqrt(variances_[c]) : 1.0;
    for (std::size_t j = 0; j < dim; ++j)
      projection_f_[c * dim + j] = static_cast<float>(components_[c * dim + j] * s);
  }
}

void PcaModel::check_input_dim(std::size_t dim, const std::string& source, const std::string& model_name) const {
  if (dim != input_dim()) {
    throw Error(cat(source, ": dimension ", dim, ", but the PCA model", model_name.empty() ? "" : " ", model_name,
                    " was fitted on dimension ", input_dim()));
  }
}

void PcaModel::apply_row(const float* in, float* out) const {
  const std::size_t dim = input_dim(), k = output_dim();
  thread_local std::vector<float> centred;
  centred.resize(dim);
  for (std::size_t j = 0; j < dim; ++j) centred[j] = in[j] - mean_f_[j];
  Eigen::Map<const Eigen::VectorXf> x(centred.data(), static_cast<Eigen::Index>(dim));
  RowMapF p(projection_f_.data(), static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(dim));
  Eigen::Map<Eigen::VectorXf> y(out, static_cast<Eigen::Index>(k));
  y.noalias() = p * x;
}

void PcaModel::apply(const float* in, std::size_t n, float* out) const {
  const std::size_t dim = input_dim(), k = output_dim();
  const auto rows = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < rows; ++i) apply_row(in + i * dim, out + i * k);
}

void PcaModel::reconstruct_row(const float* projected, float* out) const {
  const std::size_t dim = input_dim(), k = output_dim();
  std::vector<double> x(mean_);
  for (std::size_t c = 0; c < k; ++c) {
    const double y = whiten_ ? projected[c] * std::sqrt(variances_[c]) : projected[c];
    const double* v = components_.data() + c * dim;
    for (std::size_t j = 0; j < dim; ++j) x[j] += y * v[j];
  }
  for (std::size_t j = 0; j < dim; ++j) out[j] = static_cast<float>(x[j]);
}

// Layout (little-endian): magic "FGPCA\n\0\0", u32 version, u32 input dim D,
// u32 components K, u8 whiten, u64 samples, f64 total variance, u32 length +
// method name, f64 mean[D], f64 variances[K], f64 components[K][D], u32 end marker.
void PcaModel::save(const std::string& path) const {
  AtomicOutput out(path);
  std::ostream& s = out.stream();
  s.write(kMagic, sizeof kMagic);
  put(s, kPcaVersion);
  put(s, static_cast<std::uint32_t>(input_dim()));
  put(s, static_cast<std::uint32_t>(output_dim()));
  put(s, static_cast<std::uint8_t>(whiten_ ? 1 : 0));
  put(s, static_cast<std::uint64_t>(samples_));
  put(s, total_variance_);
  put(s, static_cast<std::uint32_t>(method_.size()));
  s.write(method_.data(), static_cast<std::streamsize>(method_.size()));
  s.write(reinterpret_cast<const char*>(mean_.data()), static_cast<std::streamsize>(mean_.size() * sizeof(double)));
  s.write(reinterpret_cast<const char*>(variances_.data()),
          static_cast<std::streamsize>(variances_.size() * sizeof(double)));
  s.write(reinterpret_cast<const char*>(components_.data()),
          static_cast<std::streamsize>(components_.size() * sizeof(double)));
  put(s, kEndMarker);
  out.commit();
}

PcaModel PcaModel::load(const std::string& path) {
  Input input(path);
  std::istream& stream = input.stream();
  const std::string name = input.name();
  char magic[8] = {};
  stream.read(magic, sizeof magic);
  const std::size_t got = static_cast<std::size_t>(stream.gcount());
  if (got < sizeof magic || std::memcmp(magic, kMagic, 6) != 0) {
    throw Error(cat(name, ": not a PCA model (expected a file written by fg-pca fit; this looks like ",
                    describe_content(std::string(magic, got)), ")"));
  }
  BinaryReader in(stream, name, "PCA model");
  auto field = [&](const char* what) { in.set_context(cat("truncated PCA model (while reading ", what, ")")); };
  auto corrupt = [&](const std::string& what) { in.fail(cat("corrupt PCA model (", what, ")")); };
  field("version");
  const std::uint32_t version = in.u32();
  if (version != kPcaVersion)
    throw Error(cat(name, ": PCA model format version ", version, "; this program reads version ", kPcaVersion));
  field("dimension");
  const std::uint32_t dim = in.u32();
  field("component count");
  const std::uint32_t k = in.u32();
  field("whiten flag");
  const std::uint8_t whiten = in.u8();
  field("sample count");
  const std::uint64_t samples = in.u64();
  field("total variance");
  const double total = in.f64();
  field("method");
  const std::uint32_t method_length = in.u32();
  if (dim == 0 || k == 0 || k > dim || whiten > 1 || method_length > 64)
    throw Error(cat(name, ": corrupt PCA model header (dimension ", dim, ", components ", k, ")"));
  // The header's counts must fit in the file before anything is sized by them.
  const std::uint64_t doubles = std::uint64_t(dim) + k + std::uint64_t(k) * dim;
  if (in.remaining() && *in.remaining() < method_length + doubles * sizeof(double) + 4)
    throw Error(cat(name, ": truncated PCA model (the header says ", dim, " x ", k, ", which needs ",
                    method_length + doubles * sizeof(double) + 4, " more bytes; the file has ", *in.remaining(), ")"));
  PcaModel model;
  model.method_.resize(method_length);
  in.bytes(model.method_.data(), method_length);
  field("mean");
  in.f64s(model.mean_, dim, "mean");
  field("variances");
  in.f64s(model.variances_, k, "variance");
  field("components");
  in.f64s(model.components_, std::uint64_t(k) * dim, "component value");
  field("end marker");
  const std::uint32_t end = in.u32();
  if (end != kEndMarker) corrupt("bad end marker");
  if (!in.at_end()) corrupt("unexpected data after the end marker");
  model.whiten_ = whiten != 0;
  model.samples_ = samples;
  model.total_variance_ = total;
  if (!std::isfinite(total) || total < 0) corrupt(cat("total variance ", total));
  // Values that would make apply() write NaN or Inf: non-finite numbers, a
  // mean beyond float range, components that are not unit vectors.
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  for (std::size_t j = 0; j < dim; ++j)
    if (!(std::fabs(model.mean_[j]) <= kFloatMax)) corrupt(cat("mean ", j + 1, " is ", model.mean_[j]));
  for (double v : model.variances_)
    if (!std::isfinite(v) || v < 0 || (model.whiten_ && v <= 0))
      corrupt(cat("bad component variance ", v));
  for (std::size_t c = 0; c < k; ++c) {
    double norm = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      const double v = model.components_[c * dim + j];
      if (!std::isfinite(v)) corrupt(cat("component ", c + 1, " value ", j + 1, " is ", v));
      norm += v * v;
    }
    if (std::fabs(norm - 1.0) > 1e-4) corrupt(cat("component ", c + 1, " has length ", std::sqrt(norm), ", not 1"));
  }
  model.prepare();
  for (float v : model.projection_f_)
    if (!std::isfinite(v)) corrupt("a whitened component overflows float (variance too small)");
  return model;
}

void write_pca_variance_table(const std::string& path, const PcaFitReport& report) {
  AtomicOutput out(path, false);
  std::ostream& s = out.stream();
  s << "component\tvariance\tratio\tcumulative\tkept\n";
  double cumulative = 0.0;
  for (std::size_t k = 0; k < report.spectrum.size(); ++k) {
    const double v = report.spectrum[k];
    const double ratio = report.total_variance > 0 ? v / report.total_variance : 0.0;
    cumulative += ratio;
    s << (k + 1) << '\t' << format_double(v) << '\t' << format_double(ratio) << '\t'
      << format_double(cumulative) << '\t' << (k < report.kept ? 1 : 0) << '\n';
  }
  out.commit();
}

void write_pca_variance_plot(const std::string& path, const PcaFitReport& report) {
  plot::LineChart chart;
  chart.title = cat("PCA: cumulative explained variance (", pca_method_name(report.method), ")");
  chart.x_label = "number of components";
  chart.y_label = "cumulative explained variance (%)";
  plot::Series cumulative;
  cumulative.color = plot::kBlue;
  double sum = 0.0;
  cumulative.x.push_back(0);
  cumulative.y.push_back(0);
  for (std::size_t k = 0; k < report.spectrum.size(); ++k) {
    const double ratio = report.total_variance > 0 ? report.spectrum[k] / report.total_variance : 0.0;
    sum += ratio;
    cumulative.x.push_back(static_cast<double>(k + 1));
    cumulative.y.push_back(100.0 * sum);
  }
  chart.x_min = 0;
  chart.x_max = std::max<double>(1.0, static_cast<double>(report.spectrum.size()));
  chart.y_min = 0;
  chart.y_max = 100;
  chart.series = {cumulative};
  if (report.kept > 0 && report.kept <= cumulative.y.size() - 1) {
    plot::Marker marker;
    marker.x = static_cast<double>(report.kept);
    marker.text = cat("K = ", report.kept, ": ", plot::format_percent(cumulative.y[report.kept]));
    chart.markers.push_back(marker);
  }
  if (!report.complete) chart.note = "only the computed components are shown (randomized method)";
  plot::write_png(path, plot::draw(chart));
}

}  // namespace fg
