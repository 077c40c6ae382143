#include "finegrain/reduce/pca.hpp"

#include <omp.h>
#include <sys/mman.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <type_traits>

#include "blas.hpp"
#include "finegrain/core/binary.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/data/table.hpp"

namespace fg {

namespace po = boost::program_options;

struct PcaDecomposition {
  std::vector<double> spectrum;    // all computed variances, decreasing
  std::vector<double> components;  // first `count` directions, row-major count x D
  std::size_t count = 0;
  bool complete = false;
};

namespace {

using Decomposition = PcaDecomposition;

using MatrixD = Eigen::MatrixXd;
using MatrixF = Eigen::MatrixXf;
using RowMapF =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Variance ratios below this fraction of the largest are treated as zero.
constexpr double kZeroVariance = 1e-12;

struct Centered {
  std::vector<double> mean;
  double total_variance = 0.0;
};

// Features per block when the row-wise passes below are shared out over
// threads: each thread owns whole blocks of columns and sums every column
// over the rows in row order, so the values do not depend on the thread count.
constexpr std::size_t kColumnBlock = 256;

// Mean and total variance (sum of per-feature sample variances), two-pass in double.
Centered centre_stats(const float* rows, std::size_t n, std::size_t dim) {
  Centered c;
  c.mean.assign(dim, 0.0);
  std::vector<double> ss(dim, 0.0);
  const std::ptrdiff_t blocks =
      static_cast<std::ptrdiff_t>((dim + kColumnBlock - 1) / kColumnBlock);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::size_t j0 = static_cast<std::size_t>(b) * kColumnBlock;
    const std::size_t j1 = std::min(dim, j0 + kColumnBlock);
    double* mean = c.mean.data();
    for (std::size_t i = 0; i < n; ++i) {
      const float* r = rows + i * dim;
      for (std::size_t j = j0; j < j1; ++j) mean[j] += r[j];
    }
    for (std::size_t j = j0; j < j1; ++j) mean[j] /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
      const float* r = rows + i * dim;
      for (std::size_t j = j0; j < j1; ++j) {
        double d = r[j] - mean[j];
        ss[j] += d * d;
      }
    }
  }
  for (double s : ss) c.total_variance += s;
  c.total_variance /= static_cast<double>(n - 1);
  return c;
}

// A column-major matrix in memory that the kernel may back with 2 MB pages
// (madvise MADV_HUGEPAGE, which Linux's default "madvise" mode of transparent
// huge pages honours), for the large matrices written once: the centred data
// (hundreds of MB) and the randomized method's basis. With 4 KB pages their
// first touch costs a page fault per 4 KB: a quarter of the randomized fit on
// 6,000 x 4,096 (0.22 of 0.9 s, measured in a VM, where faults are dear).
// Used like an Eigen matrix through map().
template <class Scalar>
class LargeMatrix {
 public:
  using Map = Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>;
  LargeMatrix(std::size_t rows, std::size_t cols)
      : rows_(static_cast<Eigen::Index>(rows)), cols_(static_cast<Eigen::Index>(cols)) {
    constexpr std::size_t kHugePage = std::size_t{2} << 20;
    const std::size_t bytes =
        std::max<std::size_t>(1, (rows * cols * sizeof(Scalar) + kHugePage - 1) / kHugePage) *
        kHugePage;
    data_.reset(static_cast<Scalar*>(std::aligned_alloc(kHugePage, bytes)));
    if (!data_) throw std::bad_alloc();
    madvise(data_.get(), bytes, MADV_HUGEPAGE);  // only a hint: else ordinary pages
  }
  Map map() const { return Map(data_.get(), rows_, cols_); }
  void release() {
    data_.reset();
    rows_ = cols_ = 0;
  }

 private:
  struct Free {
    void operator()(Scalar* p) const { std::free(p); }
  };
  std::unique_ptr<Scalar, Free> data_;
  Eigen::Index rows_, cols_;
};

// The rows (row-major n x D) minus the mean, as a column-major n x D matrix.
template <class Scalar>
LargeMatrix<Scalar> centred_matrix(const float* rows, std::size_t n, std::size_t dim,
                                   const std::vector<double>& mean) {
  LargeMatrix<Scalar> matrix(n, dim);
  Scalar* x = matrix.map().data();
  // Row-major source to column-major target, in tiles so both stay in cache;
  // column tiles over the threads, which also share the first touch of the pages.
  const std::size_t tile = 64;
  const std::ptrdiff_t column_tiles = static_cast<std::ptrdiff_t>((dim + tile - 1) / tile);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t tj = 0; tj < column_tiles; ++tj) {
    const std::size_t j0 = static_cast<std::size_t>(tj) * tile;
    const std::size_t j1 = std::min(dim, j0 + tile);
    for (std::size_t i0 = 0; i0 < n; i0 += tile) {
      const std::size_t i1 = std::min(n, i0 + tile);
      for (std::size_t j = j0; j < j1; ++j) {
        Scalar* col = x + j * n;
        for (std::size_t i = i0; i < i1; ++i)
          col[i] = static_cast<Scalar>(rows[i * dim + j] - mean[j]);
      }
    }
  }
  return matrix;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Every product is cut into fixed tiles of the result, each computed by one
// single-threaded BLAS call, the tiles shared out over OpenMP threads: the
// tiles depend on the shape only, so every value is the same whatever the
// thread count (OpenMP's or OpenBLAS's own).
constexpr Eigen::Index kTile = 256;

enum class Part { full, lower_mirrored };

// op(a) op(b) (op: transposed or not), for matrices or blocks of whole
// columns (anything with data() and outerStride()). Part::lower_mirrored, for a result
// known to be symmetric (a^T a): only tiles on or below the diagonal are
// computed, then the lower triangle is mirrored, so the result is exactly
// symmetric at half the cost. A thin result (at most 2 tiles wide) is cut
// into tiles of 2 x 256 rows and its full width: each tile packs the small
// operand once, and the big one is packed once instead of once per column
// tile.
template <class A, class B>
Eigen::Matrix<typename A::Scalar, Eigen::Dynamic, Eigen::Dynamic> multiply(
    const Eigen::DenseBase<A>& a_expr, bool transpose_a, const Eigen::DenseBase<B>& b_expr,
    bool transpose_b, Part part = Part::full) {
  using Scalar = typename A::Scalar;
  static_assert(std::is_same<Scalar, typename B::Scalar>::value, "one scalar type");
  const A& a = a_expr.derived();
  const B& b = b_expr.derived();
  const Eigen::Index m = transpose_a ? a.cols() : a.rows();
  const Eigen::Index n = transpose_b ? b.rows() : b.cols();
  const Eigen::Index depth = transpose_a ? a.rows() : a.cols();
  const Eigen::Index lda = a.outerStride(), ldb = b.outerStride();
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> c(m, n);
  if (depth == 0) {
    c.setZero();
    return c;
  }
  const bool thin = part == Part::full && n <= 2 * kTile;
  const Eigen::Index row_tile = thin ? 2 * kTile : kTile;
  const Eigen::Index col_tile = thin ? std::max<Eigen::Index>(n, 1) : kTile;
  const Eigen::Index row_tiles = (m + row_tile - 1) / row_tile,
                     col_tiles = (n + col_tile - 1) / col_tile;
  const std::ptrdiff_t tiles = static_cast<std::ptrdiff_t>(row_tiles * col_tiles);
  blas::SingleThreaded single;
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t t = 0; t < tiles; ++t) {
    const Eigen::Index ti = t % row_tiles, tj = t / row_tiles;
    if (part == Part::lower_mirrored && tj > ti) continue;
    const Eigen::Index i0 = ti * row_tile, j0 = tj * col_tile;
    const Eigen::Index rows = std::min(row_tile, m - i0), cols = std::min(col_tile, n - j0);
    const Scalar* pa = transpose_a ? a.data() + i0 * lda : a.data() + i0;
    const Scalar* pb = transpose_b ? b.data() + j0 : b.data() + j0 * ldb;
    blas::gemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', static_cast<int>(rows),
               static_cast<int>(cols), static_cast<int>(depth), Scalar(1), pa,
               static_cast<int>(lda), pb, static_cast<int>(ldb), Scalar(0), c.data() + i0 + j0 * m,
               static_cast<int>(m));
  }
  if (part == Part::lower_mirrored) {
    const std::ptrdiff_t cols = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t j = 1; j < cols; ++j)
      for (Eigen::Index i = 0; i < j; ++i) c(i, j) = c(j, i);
  }
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
MatrixD orthonormal_basis(MatrixD q, int passes = 2) {
  for (int pass = 0; pass < passes; ++pass) {
    MatrixD gram = multiply(q, true, q, false, Part::lower_mirrored);
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
      return q;
    }
    // q <- q R^{-1}, with gram = R^T R and R = L^T; R^{-1} is small, and a
    // product parallelises where a triangular solve of q would not.
    const MatrixD r_inverse = llt.matrixU().solve(MatrixD::Identity(q.cols(), q.cols()));
    q = multiply(q, false, r_inverse, false);
  }
  return q;
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

// Memory the system can give this process now (MemAvailable), or 0 if unknown.
std::uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

std::string gigabytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  return buf;
}

// Refuses, before any allocation, work that needs more memory than is
// available: a clear message instead of an out-of-memory kill an hour in.
// FG_PCA_MEMORY_LIMIT (bytes) overrides the limit, for tests.
void check_memory(double bytes, const std::string& what, const std::string& hint) {
  double limit = static_cast<double>(available_memory());
  if (const char* env = std::getenv("FG_PCA_MEMORY_LIMIT")) limit = std::strtod(env, nullptr);
  if (limit <= 0 || bytes <= limit) return;
  throw Error(cat("PCA: ", what, " needs about ", gigabytes(bytes), " of memory, but only ",
                  gigabytes(limit), " are available", hint.empty() ? "" : "; ", hint));
}

// What each method holds at its peak, beyond the input rows (doubles unless said).
double method_bytes(PcaMethod method, double n, double dim, double k, double oversample) {
  switch (method) {
    case PcaMethod::cov:
      return 8 * (n * dim + dim * dim + dim * std::max(k, std::min(dim, 1024.0)));
    case PcaMethod::gram:
      return 8 * (n * dim + n * n + (n + dim) * std::max(k, std::min(n, 1024.0)));
    case PcaMethod::randomized: {
      // Float rows, the D x L double basis (L = 3 (K + P) by default), a few
      // blocks of (K + P) / 2 columns, the L x L Rayleigh-Ritz matrix.
      const double block = (k + oversample + 1) / 2, total = std::min(6 * block, std::min(n, dim));
      return 4 * n * dim + 8 * dim * total + 8 * 4 * (n + dim) * block + 8 * 2 * total * total;
    }
    case PcaMethod::automatic:
      break;
  }
  return 0;
}

// The `count` largest eigenpairs of the symmetric matrix s (destroyed), as
// LAPACK's dsyevr computes them (blas::symmetric_eigen, on every thread).
// Only the wanted eigenvectors are computed: for 4,096 -> 256 that is most of
// the saving over a full decomposition. values: decreasing; vectors: the
// matching columns.
void top_eigenpairs(MatrixD& s, Eigen::Index count, std::vector<double>& values, MatrixD& vectors) {
  const Eigen::Index n = s.rows();
  std::vector<double> increasing(static_cast<std::size_t>(count));
  MatrixD z(n, count);
  if (!blas::symmetric_eigen(static_cast<int>(n), s.data(), static_cast<int>(n - count),
                             static_cast<int>(n - 1), increasing.data(), z.data()))
    throw Error("PCA: the symmetric eigen-decomposition failed (LAPACK dstevr / dormtr)");
  values.assign(increasing.rbegin(), increasing.rend());
  vectors.resize(n, count);
  for (Eigen::Index c = 0; c < count; ++c) vectors.col(c) = z.col(count - 1 - c);
}

// How many eigenpairs an exact method computes: all of them when they are
// cheap (size <= 1024) or needed (--variance: the whole spectrum decides
// K), else the K wanted.
Eigen::Index eigenpairs_wanted(std::size_t size, std::size_t k) {
  return static_cast<Eigen::Index>(k == 0 || size <= 1024 ? size : std::min(size, k));
}

// Covariance eigenpairs -> decomposition of rank `rank` (n - 1 or D).
Decomposition from_covariance(MatrixD& cov, std::size_t k, std::size_t rank) {
  const std::size_t dim = static_cast<std::size_t>(cov.rows());
  std::vector<double> values;
  MatrixD vectors;
  top_eigenpairs(cov, eigenpairs_wanted(dim, k), values, vectors);
  Decomposition d;
  const std::size_t computed = std::min(values.size(), rank);
  d.complete = computed == rank;
  d.count = computed;
  for (std::size_t c = 0; c < computed; ++c) d.spectrum.push_back(std::max(0.0, values[c]));
  d.components.resize(computed * dim);
  for (std::size_t c = 0; c < computed; ++c)
    for (std::size_t j = 0; j < dim; ++j)
      d.components[c * dim + j] =
          vectors(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c));
  return d;
}

// Eigen-decomposition of the covariance: exact, O(n D^2 / 2 + D^2 K).
Decomposition fit_cov(const float* rows, std::size_t n, std::size_t dim,
                      const std::vector<double>& mean, std::size_t k) {
  LargeMatrix<double> centred = centred_matrix<double>(rows, n, dim, mean);
  MatrixD cov = multiply(centred.map(), true, centred.map(), false, Part::lower_mirrored);
  cov /= static_cast<double>(n - 1);
  centred.release();
  return from_covariance(cov, k, std::min(n - 1, dim));
}

// Eigen-decomposition of the Gram matrix X X^T: exact, O(n^2 D / 2 + n^2 K).
// For D >> n (bilinear features): the n x n matrix instead of the D x D one.
Decomposition fit_gram(const float* rows, std::size_t n, std::size_t dim,
                       const std::vector<double>& mean, std::size_t k) {
  LargeMatrix<double> centred = centred_matrix<double>(rows, n, dim, mean);
  const auto x = centred.map();  // a view of the storage above
  MatrixD gram = multiply(x, false, x, true, Part::lower_mirrored);
  std::vector<double> values;
  MatrixD vectors;
  top_eigenpairs(gram, eigenpairs_wanted(n, k), values, vectors);
  gram.resize(0, 0);
  Decomposition d;
  const std::size_t rank = std::min(n - 1, dim);
  const std::size_t computed = std::min(values.size(), rank);
  d.complete = computed == rank;
  const double scale = 1.0 / static_cast<double>(n - 1);
  const double top = std::max(0.0, values[0]);
  for (std::size_t c = 0; c < computed; ++c) d.spectrum.push_back(std::max(0.0, values[c]) * scale);
  // Directions: v = X^T u / sigma, for the components with non-zero variance.
  std::size_t usable = 0;
  while (usable < computed && values[usable] > kZeroVariance * top) ++usable;
  MatrixD u(n, usable);
  for (std::size_t c = 0; c < usable; ++c)
    u.col(static_cast<Eigen::Index>(c)) =
        vectors.col(static_cast<Eigen::Index>(c)) / std::sqrt(values[c]);
  MatrixD v = multiply(x, true, u, false);  // D x usable
  d.count = usable;
  d.components.resize(usable * dim);
  for (std::size_t c = 0; c < usable; ++c) {
    Eigen::VectorXd col = v.col(static_cast<Eigen::Index>(c));
    col.normalize();
    for (std::size_t j = 0; j < dim; ++j)
      d.components[c * dim + j] = col(static_cast<Eigen::Index>(j));
  }
  return d;
}

// The randomized method's sizes: a Krylov block of ceil((K + P) / 2)
// directions, grown by one block per step (Q steps, -1: 5; at least K + P
// directions in all), capped at min(n, D).
struct KrylovShape {
  std::size_t block = 0, total = 0;
  int steps = 0;
};

KrylovShape krylov_shape(std::size_t n, std::size_t dim, std::size_t k, std::size_t oversample,
                         int power_iterations) {
  KrylovShape s;
  const std::size_t rank_max = std::min(n, dim);
  s.block = std::min(std::max<std::size_t>(1, (k + oversample + 1) / 2), rank_max);
  s.steps = power_iterations < 0 ? 5 : power_iterations;
  // At least K + P directions, as many as asked for with fewer steps.
  s.total = std::min(std::max(s.block * (static_cast<std::size_t>(s.steps) + 1), k + oversample),
                     rank_max);
  return s;
}

// Randomized block Krylov method (block Lanczos with full
// reorthogonalisation; Musco & Musco 2015, "Randomized block Krylov methods
// for stronger and faster approximate singular value decomposition"). The
// basis of the D-space Krylov subspace span{X^T G, (X^T X) X^T G, ...,
// (X^T X)^Q X^T G}, G an n x b Gaussian block, is built one block at a
// time, each new block orthogonalised against all earlier ones (two rounds
// of block Gram-Schmidt, then CholeskyQR2), in double. Then Rayleigh-Ritz:
// the eigenpairs of (X V)^T (X V) for the basis V give the variances and,
// mapped back through V, the components.
//
// Why not subspace iteration (Halko et al., scikit-learn's randomized_svd):
// that keeps only the last block of K + P directions and throws the earlier
// ones away; the Krylov method keeps them all, so a block half as wide and
// fewer passes over X reach the same or better accuracy (on 6,000 x 4,096
// -> 256 with a slowly decaying spectrum: 11 passes of 133 columns against
// 16 of 266, the same explained variance as the exact method to 5 digits).
// Every pass over X is needed anyway: X V_i gives the next block (one more
// pass with X^T) and is kept as the block's column of X V for the final step.
// The products with X are float GEMMs, everything else double.
Decomposition fit_randomized(const float* rows, std::size_t n, std::size_t dim,
                             const std::vector<double>& mean, std::size_t k,
                             const PcaFitOptions& options) {
  const KrylovShape shape = krylov_shape(n, dim, k, options.oversample, options.power_iterations);
  const std::size_t b = shape.block, total = shape.total;
  auto start = std::chrono::steady_clock::now();
  std::clock_t cpu = std::clock();
  auto cpu_since = [&cpu] {
    const std::clock_t now = std::clock();
    const double s = static_cast<double>(now - cpu) / CLOCKS_PER_SEC;
    cpu = now;
    return s;
  };
  LargeMatrix<float> centred = centred_matrix<float>(rows, n, dim, mean);
  const auto x = centred.map();  // a view of the storage above
  MatrixF g(n, b);
  Gaussian gauss(options.seed);
  for (std::size_t j = 0; j < b; ++j)
    for (std::size_t i = 0; i < n; ++i) g(i, j) = static_cast<float>(gauss.next());
  LargeMatrix<double> basis_storage(dim, total);
  auto basis = basis_storage.map();  // V: orthonormal columns, block after block
  // T = V^T X^T X V, gathered from the recurrence (upper triangle, then mirrored).
  MatrixD ritz = MatrixD::Zero(static_cast<Eigen::Index>(total), static_cast<Eigen::Index>(total));
  MatrixD next = multiply(x, true, g, false).cast<double>();  // X^T G
  g.resize(0, 0);
  MatrixD raw;  // X^T X V_(i-1), before it is orthogonalised
  MatrixF xv;   // X V_i
  Eigen::Index previous = 0, previous_width = 0;
  std::size_t filled = 0;
  while (filled < total) {
    const auto done = static_cast<Eigen::Index>(filled);
    const auto width = static_cast<Eigen::Index>(std::min(b, total - filled));
    if (filled > 0) {
      // Block Gram-Schmidt against every earlier block. One round in double
      // leaves the block orthogonal to them to about 1e-16 / (the fraction of
      // a column's length it kept); a second round runs when a column kept
      // less than 1e-4 of it (an exhausted Krylov space: what is left is
      // rounding noise), so the basis stays orthonormal to ~1e-12. The first
      // round's coefficients V_j^T X^T X V_(i-1) are T's column block i - 1.
      const auto earlier = basis.leftCols(done);
      const Eigen::VectorXd before = next.colwise().norm();
      raw = next;
      for (int round = 0; round < 2; ++round) {
        const MatrixD coefficients = multiply(earlier, true, next, false);
        if (round == 0) ritz.block(0, previous, done, previous_width) = coefficients;
        next -= multiply(earlier, false, coefficients, false);
        const Eigen::VectorXd after = next.colwise().norm();
        if (round == 0 && (after.array() >= 1e-4 * before.array()).all()) break;
        if (round == 0) log::detail("PCA randomized: second Gram-Schmidt round");
      }
    }
    basis.middleCols(done, width) = orthonormal_basis(std::move(next)).leftCols(width);
    const MatrixF block = basis.middleCols(done, width).cast<float>();
    xv = multiply(x, false, block, false);
    previous = done;
    previous_width = width;
    filled += static_cast<std::size_t>(width);
    if (filled < total) next = multiply(x, true, xv, false).cast<double>();
  }
  log::detail(cat("PCA randomized: Krylov basis of ", total, " directions (blocks of ", b, ", ",
                  shape.steps, " steps) in ", seconds_since(start), " s (CPU ", cpu_since(),
                  " s)"));
  start = std::chrono::steady_clock::now();
  centred.release();
  {
    // The last block's column of T: V_q^T X^T X V_(q-1) (the other earlier
    // blocks' entries are zero: X^T X V_j lies in the span of V_0..V_(j+1))
    // and V_q^T X^T X V_q.
    const MatrixD last = xv.cast<double>();
    ritz.block(previous, previous, previous_width, previous_width) =
        multiply(last, true, last, false, Part::lower_mirrored);
    if (previous > 0) {
      const Eigen::Index before_last = previous - raw.cols();
      ritz.block(before_last, previous, raw.cols(), previous_width) =
          multiply(raw, true, basis.middleCols(previous, previous_width), false);
    }
  }
  for (Eigen::Index j = 0; j < ritz.cols(); ++j)
    for (Eigen::Index i = j + 1; i < ritz.rows(); ++i) ritz(i, j) = ritz(j, i);
  Decomposition d;
  d.complete = total >= std::min(n - 1, dim);
  // Every Ritz pair when the subspace is the whole space, else K + P of them.
  const auto wanted =
      static_cast<Eigen::Index>(d.complete ? total : std::min(total, k + options.oversample));
  std::vector<double> values;
  MatrixD vectors;
  top_eigenpairs(ritz, wanted, values, vectors);
  ritz.resize(0, 0);
  d.count = std::min<std::size_t>(k, values.size());
  const MatrixD components =
      multiply(basis, false, vectors.leftCols(static_cast<Eigen::Index>(d.count)), false);
  log::detail(cat("PCA randomized: Rayleigh-Ritz on ", total, " directions in ",
                  seconds_since(start), " s (CPU ", cpu_since(), " s)"));
  const double scale = 1.0 / static_cast<double>(n - 1);
  for (double v : values) d.spectrum.push_back(std::max(0.0, v) * scale);
  d.components.resize(d.count * dim);
  for (std::size_t c = 0; c < d.count; ++c)
    for (std::size_t j = 0; j < dim; ++j)
      d.components[c * dim + j] =
          components(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c));
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
    case PcaMethod::automatic:
      return "auto";
    case PcaMethod::cov:
      return "cov";
    case PcaMethod::gram:
      return "gram";
    case PcaMethod::randomized:
      return "randomized";
  }
  return "?";
}

PcaMethod parse_pca_method(const std::string& name) {
  if (name == "auto") return PcaMethod::automatic;
  if (name == "cov") return PcaMethod::cov;
  if (name == "gram") return PcaMethod::gram;
  if (name == "randomized") return PcaMethod::randomized;
  throw UsageError(
      cat("--method: unknown PCA method '", name, "' (expected auto, cov, gram or randomized)"));
}

void PcaFitOptions::add_options(po::options_description& options) {
  const PcaFitOptions d;
  options.add_options()("dim,k",
                        ranged<long long>(0, 1000000)->default_value(static_cast<long long>(d.dim)),
                        "number of components to keep (0: use --variance)")(
      "variance", defaults_to(ranged<double>(0, 1), d.variance),
      "keep the fewest components explaining at least this fraction of the variance, in (0, 1]")(
      "whiten", po::bool_switch(),
      "divide each output by its component's standard deviation (unit variance)")(
      "method", po::value<std::string>()->default_value(d.method),
      "auto | cov (DxD covariance) | gram (nxn Gram) | randomized (randomized SVD); "
      "auto: randomized when K < min(n,D)/4 and min(n,D) > 1500, else cov when D <= n, else gram")(
      "seed", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(d.seed),
      "random seed (randomized method)")(
      "oversample",
      ranged<long long>(0, 100000)->default_value(static_cast<long long>(d.oversample)),
      "randomized: extra directions beyond K (the Krylov block is (K + P) / 2 wide)")(
      "power-iterations", ranged<int>(-1, 100)->default_value(d.power_iterations),
      "randomized: block Krylov steps, each a product with X^T X (-1: 5)");
}

PcaFitOptions PcaFitOptions::from(const po::variables_map& vm) {
  PcaFitOptions o;
  o.dim = static_cast<std::size_t>(vm["dim"].as<long long>());
  o.variance = vm["variance"].as<double>();
  o.whiten = vm["whiten"].as<bool>();
  o.method = vm["method"].as<std::string>();
  o.seed = vm["seed"].as<std::uint64_t>();
  o.oversample = static_cast<std::size_t>(vm["oversample"].as<long long>());
  o.power_iterations = vm["power-iterations"].as<int>();
  o.check();
  return o;
}

void PcaFitOptions::check() const {
  parse_pca_method(method);
  if (dim == 0 && variance == 0.0)
    throw UsageError("give --dim K or --variance F (e.g. --dim 256 or --variance 0.95)");
  if (dim != 0 && variance != 0.0) throw UsageError("give either --dim or --variance, not both");
  if (variance != 0.0 && !(variance > 0.0 && variance <= 1.0))
    throw UsageError(cat("--variance ", variance, ": expected a fraction in (0, 1]"));
  if (variance != 0.0 && parse_pca_method(method) == PcaMethod::randomized)
    throw UsageError(
        "--variance needs the whole spectrum: use --method auto, cov or gram, or give --dim");
  if (power_iterations < -1) throw UsageError("--power-iterations: expected -1 or a count >= 0");
}

namespace {

double clock_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void check_rank(std::size_t n, std::size_t dim, const PcaFitOptions& options) {
  if (dim == 0) throw Error("PCA: the features have dimension 0");
  if (n < 2) throw Error(cat("PCA: needs at least 2 rows to estimate variances, got ", n));
  const std::size_t rank = std::min(n - 1, dim);
  if (options.dim > rank)
    throw Error(cat("PCA: --dim ", options.dim,
                    " is more than the data supports: min(rows - 1, dimension) = min(", n - 1, ", ",
                    dim, ") = ", rank));
}

}  // namespace

PcaModel PcaModel::fit(const float* rows, std::size_t n, std::size_t dim,
                       const PcaFitOptions& options, PcaFitReport* report) {
  options.check();
  const double started = clock_seconds();
  check_rank(n, dim, options);

  PcaMethod method = parse_pca_method(options.method);
  if (method == PcaMethod::automatic) {
    const std::size_t small = std::min(n, dim);
    bool randomized = options.dim != 0 && small > 1500 && options.dim * 4 < small;
    method = randomized ? PcaMethod::randomized : (dim <= n ? PcaMethod::cov : PcaMethod::gram);
  }
  const double need =
      method_bytes(method, static_cast<double>(n), static_cast<double>(dim),
                   static_cast<double>(options.dim), static_cast<double>(options.oversample));
  std::string hint;
  if (method == PcaMethod::cov && dim > n)
    hint =
        cat("--method gram needs ",
            gigabytes(method_bytes(PcaMethod::gram, static_cast<double>(n),
                                   static_cast<double>(dim), static_cast<double>(options.dim), 0)));
  check_memory(need, cat("the ", pca_method_name(method), " method on ", n, " x ", dim), hint);

  Centered stats = centre_stats(rows, n, dim);
  Decomposition d;
  if (method == PcaMethod::cov)
    d = fit_cov(rows, n, dim, stats.mean, options.dim);
  else if (method == PcaMethod::gram)
    d = fit_gram(rows, n, dim, stats.mean, options.dim);
  else
    d = fit_randomized(rows, n, dim, stats.mean, options.dim, options);
  return finish(d, std::move(stats.mean), stats.total_variance, n, method, options, started,
                report);
}

PcaModel PcaModel::fit(const PcaStats& stats, const PcaFitOptions& options, PcaFitReport* report) {
  options.check();
  const PcaMethod asked = parse_pca_method(options.method);
  if (asked == PcaMethod::gram || asked == PcaMethod::randomized)
    throw UsageError(cat(
        "--method ", pca_method_name(asked),
        " needs the rows; a fit from statistics uses the exact covariance method (auto or cov)"));
  const double started = clock_seconds();
  const std::size_t n = static_cast<std::size_t>(stats.rows()), dim = stats.dim();
  check_rank(n, dim, options);
  const double d2 = static_cast<double>(dim) * static_cast<double>(dim);
  check_memory(
      8 * (d2 + static_cast<double>(dim) * std::min<double>(static_cast<double>(dim), 1024.0)),
      cat("a fit from statistics of dimension ", dim), "");
  MatrixD cov = Eigen::Map<const MatrixD>(stats.scatter().data(), static_cast<Eigen::Index>(dim),
                                          static_cast<Eigen::Index>(dim)) /
                static_cast<double>(n - 1);
  std::vector<double> mean(dim);
  for (std::size_t j = 0; j < dim; ++j) mean[j] = stats.sum()[j] / static_cast<double>(n);
  const double total = cov.trace();
  Decomposition d = from_covariance(cov, options.dim, std::min(n - 1, dim));
  return finish(d, std::move(mean), total, n, PcaMethod::cov, options, started, report);
}

PcaModel PcaModel::finish(PcaDecomposition& d, std::vector<double> mean, double total_variance,
                          std::uint64_t samples, PcaMethod method, const PcaFitOptions& options,
                          double started, PcaFitReport* report) {
  const std::size_t dim = mean.size();
  std::size_t k = options.dim;
  if (k == 0) {
    // The fewest components whose cumulative ratio reaches the target.
    double cumulative = 0.0;
    for (double v : d.spectrum) {
      ++k;
      cumulative += v;
      if (total_variance <= 0 || cumulative / total_variance >= options.variance - 1e-12) break;
    }
  }
  if (k > d.count) {
    throw Error(cat("PCA: only ", d.count,
                    " components have non-zero variance; lower --dim/--variance (asked for ", k,
                    ")"));
  }

  PcaModel model;
  model.mean_ = std::move(mean);
  model.total_variance_ = total_variance;
  model.samples_ = samples;
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
    report->total_variance = total_variance;
    report->kept = k;
    report->seconds = clock_seconds() - started;
  }
  return model;
}

PcaModel PcaModel::fit(const FeatureTable& table, const PcaFitOptions& options,
                       PcaFitReport* report) {
  return fit(table.values.data(), table.rows(), table.dim, options, report);
}

// --- mergeable statistics ------------------------------------------------------

namespace {

constexpr char kStatsMagic[8] = {'F', 'G', 'P', 'C', 'A', 'S', 'T', '\n'};
constexpr std::uint32_t kStatsVersion = 1;

void check_stats_memory(std::size_t dim, double extra, const std::string& what) {
  const double d = static_cast<double>(dim);
  check_memory(8 * (2 * d * d) + extra, what,
               "PCA statistics hold a D x D matrix; reduce the dimension first (e.g. fg-pca fit "
               "--method gram on a "
               "sample, or fg-mic)");
}

}  // namespace

PcaStats PcaStats::compute(const float* rows, std::size_t n, std::size_t dim) {
  if (dim == 0) throw Error("PCA statistics: the features have dimension 0");
  check_stats_memory(dim, 8.0 * static_cast<double>(n) * static_cast<double>(dim),
                     cat("statistics of ", n, " x ", dim));
  PcaStats s;
  s.rows_ = n;
  s.sum_.assign(dim, 0.0);
  s.scatter_.assign(dim * dim, 0.0);
  if (n == 0) return s;
  Centered c = centre_stats(rows, n, dim);
  // The sums themselves (mean * n would round once more).
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < dim; ++j) s.sum_[j] += rows[i * dim + j];
  LargeMatrix<double> centred = centred_matrix<double>(rows, n, dim, c.mean);
  MatrixD scatter = multiply(centred.map(), true, centred.map(), false, Part::lower_mirrored);
  std::copy(scatter.data(), scatter.data() + dim * dim, s.scatter_.begin());
  return s;
}

PcaStats PcaStats::compute(const FeatureTable& table) {
  return compute(table.values.data(), table.rows(), table.dim);
}

void PcaStats::merge(const PcaStats& other, const std::string& other_name) {
  if (other.dim() != dim()) {
    throw Error(cat(other_name.empty() ? "PCA statistics" : other_name, ": dimension ", other.dim(),
                    ", but the statistics it is merged with have dimension ", dim()));
  }
  if (other.rows_ == 0) return;
  if (rows_ == 0) {
    *this = other;
    return;
  }
  const std::size_t d = dim();
  const double na = static_cast<double>(rows_), nb = static_cast<double>(other.rows_), n = na + nb;
  std::vector<double> delta(d);
  for (std::size_t j = 0; j < d; ++j) delta[j] = other.sum_[j] / nb - sum_[j] / na;
  const double weight = na * nb / n;
  const std::ptrdiff_t cols = static_cast<std::ptrdiff_t>(d);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t j = 0; j < cols; ++j) {
    double* out = scatter_.data() + static_cast<std::size_t>(j) * d;
    const double* in = other.scatter_.data() + static_cast<std::size_t>(j) * d;
    const double dj = delta[static_cast<std::size_t>(j)];
    // weight * (d_i d_j): the same bits for (i, j) and (j, i), so the scatter stays exactly
    // symmetric.
    for (std::size_t i = 0; i < d; ++i) out[i] += in[i] + weight * (delta[i] * dj);
  }
  for (std::size_t j = 0; j < d; ++j) sum_[j] += other.sum_[j];
  rows_ += other.rows_;
}

// Layout (little-endian): magic "FGPCAST\n", u32 version, u32 dim D, u64 rows,
// f64 sums[D], f64 scatter lower triangle by columns (D(D+1)/2 values:
// column j holds rows j..D-1), u32 end marker.
void PcaStats::save(const std::string& path) const {
  AtomicOutput out(path);
  std::ostream& s = out.stream();
  const std::size_t d = dim();
  s.write(kStatsMagic, sizeof kStatsMagic);
  put(s, kStatsVersion);
  put(s, static_cast<std::uint32_t>(d));
  put(s, static_cast<std::uint64_t>(rows_));
  s.write(reinterpret_cast<const char*>(sum_.data()),
          static_cast<std::streamsize>(d * sizeof(double)));
  for (std::size_t j = 0; j < d; ++j)
    s.write(reinterpret_cast<const char*>(scatter_.data() + j * d + j),
            static_cast<std::streamsize>((d - j) * sizeof(double)));
  put(s, kEndMarker);
  out.commit();
}

bool PcaStats::is_stats_file(const std::string& path) {
  if (path == "-") return false;
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kStatsMagic] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == sizeof magic && std::memcmp(magic, kStatsMagic, sizeof magic) == 0;
}

PcaStats PcaStats::load(const std::string& path) {
  Input input(path);
  std::istream& in = input.stream();
  const std::string name = input.name();
  char magic[sizeof kStatsMagic] = {};
  in.read(magic, sizeof magic);
  const std::size_t got = static_cast<std::size_t>(in.gcount());
  if (got < sizeof magic || std::memcmp(magic, kStatsMagic, sizeof magic) != 0) {
    throw Error(
        cat(name, ": not PCA statistics (expected a file written by fg-pca stats; this looks like ",
            describe_content(std::string(magic, got)), ")"));
  }
  auto read = [&](auto& value, const char* what) {
    in.read(reinterpret_cast<char*>(&value), sizeof value);
    if (!in) throw Error(cat(name, ": truncated PCA statistics (while reading ", what, ")"));
  };
  std::uint32_t version = 0, d = 0;
  std::uint64_t rows = 0;
  read(version, "version");
  if (version != kStatsVersion)
    throw Error(cat(name, ": PCA statistics format version ", version,
                    "; this program reads version ", kStatsVersion));
  read(d, "dimension");
  read(rows, "row count");
  if (d == 0) throw Error(cat(name, ": corrupt PCA statistics (dimension 0)"));
  check_stats_memory(d, 0, cat(name, ": statistics of dimension ", d));
  PcaStats s;
  s.rows_ = rows;
  s.sum_.resize(d);
  s.scatter_.assign(static_cast<std::size_t>(d) * d, 0.0);
  in.read(reinterpret_cast<char*>(s.sum_.data()), static_cast<std::streamsize>(d * sizeof(double)));
  for (std::size_t j = 0; j < d && in; ++j)
    in.read(reinterpret_cast<char*>(s.scatter_.data() + j * d + j),
            static_cast<std::streamsize>((d - j) * sizeof(double)));
  if (!in)
    throw Error(cat(name, ": truncated PCA statistics (while reading the sums and scatter)"));
  std::uint32_t end = 0;
  read(end, "end marker");
  if (end != kEndMarker) throw Error(cat(name, ": corrupt PCA statistics (bad end marker)"));
  if (in.peek() != std::char_traits<char>::eof())
    throw Error(cat(name, ": corrupt PCA statistics (unexpected data after the end marker)"));
  for (std::size_t j = 0; j < d; ++j) {
    const double diagonal = s.scatter_[j * d + j];
    if (!std::isfinite(s.sum_[j]) || !std::isfinite(diagonal) || diagonal < 0)
      throw Error(cat(name, ": corrupt PCA statistics (bad value in column ", j + 1, ")"));
    for (std::size_t i = j + 1; i < d; ++i) s.scatter_[i * d + j] = s.scatter_[j * d + i];
  }
  return s;
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

void PcaModel::check_input_dim(std::size_t dim, const std::string& source,
                               const std::string& model_name) const {
  if (dim != input_dim()) {
    throw Error(cat(source, ": dimension ", dim, ", but the PCA model",
                    model_name.empty() ? "" : " ", model_name, " was fitted on dimension ",
                    input_dim()));
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
  s.write(reinterpret_cast<const char*>(mean_.data()),
          static_cast<std::streamsize>(mean_.size() * sizeof(double)));
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
    throw Error(cat(name,
                    ": not a PCA model (expected a file written by fg-pca fit; this looks like ",
                    describe_content(std::string(magic, got)), ")"));
  }
  BinaryReader in(stream, name, "PCA model");
  auto field = [&](const char* what) {
    in.set_context(cat("truncated PCA model (while reading ", what, ")"));
  };
  auto corrupt = [&](const std::string& what) { in.fail(cat("corrupt PCA model (", what, ")")); };
  field("version");
  const std::uint32_t version = in.u32();
  if (version != kPcaVersion)
    throw Error(cat(name, ": PCA model format version ", version, "; this program reads version ",
                    kPcaVersion));
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
    throw Error(cat(name, ": truncated PCA model (the header says ", dim, " x ", k,
                    ", which needs ", method_length + doubles * sizeof(double) + 4,
                    " more bytes; the file has ", *in.remaining(), ")"));
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
    if (!(std::fabs(model.mean_[j]) <= kFloatMax))
      corrupt(cat("mean ", j + 1, " is ", model.mean_[j]));
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
    if (std::fabs(norm - 1.0) > 1e-4)
      corrupt(cat("component ", c + 1, " has length ", std::sqrt(norm), ", not 1"));
  }
  model.prepare();
  for (float v : model.projection_f_)
    if (!std::isfinite(v)) corrupt("a whitened component overflows float (variance too small)");
  return model;
}

}  // namespace fg
