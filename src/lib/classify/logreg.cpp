#include "finegrain/classify/logreg.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "finegrain/classify/cross_validation.hpp"
#include "finegrain/classify/gram.hpp"
#include "finegrain/core/common.hpp"

namespace fg {
namespace {

using Eigen::Dynamic;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// The data term in Scalar precision (the big matrix products), everything
// else (softmax, loss sums, the parameters) in double.
template <class Scalar>
class Problem {
 public:
  using RowMat = Eigen::Matrix<Scalar, Dynamic, Dynamic, Eigen::RowMajor>;
  using ColMat = Eigen::Matrix<Scalar, Dynamic, Dynamic>;

  Problem(const MatrixXd& Z, const std::vector<int>& y, int classes,
          const std::vector<double>& weight, double lambda)
      : X_(Z.cast<Scalar>()), y_(y), k_(classes), weight_(weight), lambda_(lambda) {}

  // One pass over fixed row chunks, each thread doing whole chunks with
  // single-threaded products (Eigen's own threading stalls on a busy machine);
  // the partial gradients are summed in chunk order, so the result does not
  // depend on the thread count.
  double operator()(const VectorXd& theta, VectorXd& grad) {
    const Eigen::Index n = X_.rows(), d = X_.cols(), k = k_;
    Eigen::Map<const MatrixXd> W(theta.data(), k, d);
    Eigen::Map<const VectorXd> b(theta.data() + k * d, k);
    Wt_ = W.transpose().template cast<Scalar>();
    const Eigen::Index chunks = std::max<Eigen::Index>(1, std::min<Eigen::Index>(16, n / 256));
    L_.resize(n, k);
    partial_.resize(chunks);
    partial_b_.resize(chunks);
    row_loss_.resize(n);
    const double inv_n = 1.0 / double(n);
    // Threads only pay off on big problems (a busy machine makes every
    // parallel region wait for its slowest thread).
    const bool parallel = double(n) * double(d) * double(k) > 5e7;
#pragma omp parallel for schedule(dynamic) if (parallel)
    for (Eigen::Index ch = 0; ch < chunks; ++ch) {
      const Eigen::Index r0 = n * ch / chunks, r1 = n * (ch + 1) / chunks;
      auto Lc = L_.middleRows(r0, r1 - r0);
      Lc.noalias() = X_.middleRows(r0, r1 - r0) * Wt_;
      VectorXd gb = VectorXd::Zero(k);
      for (Eigen::Index i = r0; i < r1; ++i) {
        double mx = -INFINITY;
        for (Eigen::Index c = 0; c < k; ++c) mx = std::max(mx, double(L_(i, c)) + b[c]);
        double s = 0.0;
        for (Eigen::Index c = 0; c < k; ++c) s += std::exp(double(L_(i, c)) + b[c] - mx);
        const double lse = mx + std::log(s);
        const int yi = y_[i];
        const double wi = weight_.empty() ? 1.0 : weight_[i];
        row_loss_[i] = wi * (lse - (double(L_(i, yi)) + b[yi]));
        for (Eigen::Index c = 0; c < k; ++c) {
          const double r =
              wi * inv_n * (std::exp(double(L_(i, c)) + b[c] - lse) - (c == yi ? 1.0 : 0.0));
          L_(i, c) = Scalar(r);
          gb[c] += r;
        }
      }
      partial_[ch].resize(k, d);
      partial_[ch].noalias() = Lc.transpose() * X_.middleRows(r0, r1 - r0);
      partial_b_[ch] = gb;
    }
    double loss = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) loss += row_loss_[i];
    loss *= inv_n;
    Eigen::Map<MatrixXd> GW(grad.data(), k, d);
    Eigen::Map<VectorXd> gb(grad.data() + k * d, k);
    GW = lambda_ * W;
    gb.setZero();
    for (Eigen::Index ch = 0; ch < chunks; ++ch) {
      GW += partial_[ch].template cast<double>();
      gb += partial_b_[ch];
    }
    return loss + 0.5 * lambda_ * W.squaredNorm();
  }

 private:
  RowMat X_;
  const std::vector<int>& y_;
  int k_;
  const std::vector<double>& weight_;
  double lambda_;
  ColMat Wt_;
  RowMat L_;
  std::vector<ColMat> partial_;
  std::vector<VectorXd> partial_b_;
  std::vector<double> row_loss_;
};

std::vector<double> balanced_weights(const std::vector<int>& y, int classes) {
  std::vector<double> count(classes, 0.0), w(y.size());
  for (int c : y) count[c] += 1.0;
  for (std::size_t i = 0; i < y.size(); ++i)
    w[i] = double(y.size()) / (double(classes) * count[y[i]]);
  return w;
}

}  // namespace

void LogregModel::probabilities(const double* z, double* p) const {
  const Eigen::Index k = W.rows(), d = W.cols();
  Eigen::Map<const VectorXd> zv(z, d);
  Eigen::Map<VectorXd> pv(p, k);
  pv.noalias() = W * zv;
  pv += b;
  const double mx = pv.maxCoeff();
  double s = 0.0;
  for (Eigen::Index c = 0; c < k; ++c) s += (pv[c] = std::exp(pv[c] - mx));
  pv /= s;
}

double logreg_objective(const MatrixXd& Z, const std::vector<int>& y, int classes,
                        const std::vector<double>& sample_weight, double lambda,
                        const VectorXd& theta, VectorXd& gradient, bool single_precision) {
  gradient.resize(theta.size());
  if (single_precision)
    return Problem<float>(Z, y, classes, sample_weight, lambda)(theta, gradient);
  return Problem<double>(Z, y, classes, sample_weight, lambda)(theta, gradient);
}

namespace {

// One fit at a given C (or options.lambda).
LogregModel fit(const MatrixXd& Z, const std::vector<int>& y, int classes,
                const LogregOptions& options, double C, LogregReport* report) {
  const Eigen::Index n = Z.rows(), d = Z.cols();
  const double lambda = options.lambda > 0.0 ? options.lambda : 1.0 / (C * double(n));
  std::vector<double> weight;
  if (options.balanced) weight = balanced_weights(y, classes);
  VectorXd theta = VectorXd::Zero(classes * d + classes);
  LbfgsOptions lo;
  lo.max_iterations = options.max_iterations;
  lo.gtol = options.tol;
  lo.ftol = 1e-15;  // stop on f only when it no longer moves (the gradient test is the real one)
  // The objective parallelises over row chunks itself; Eigen's own GEMM
  // threads would only spin (restored on return).
  struct EigenThreads {
    int saved = Eigen::nbThreads();
    EigenThreads() { Eigen::setNbThreads(1); }
    // 0 restores "follow OpenMP" rather than pinning the count that was current.
    ~EigenThreads() { Eigen::setNbThreads(saved == omp_get_max_threads() ? 0 : saved); }
  } eigen_threads;
  LbfgsResult result;
  if (options.single_precision) {
    Problem<float> problem(Z, y, classes, weight, lambda);
    result =
        minimize_lbfgs([&](const VectorXd& t, VectorXd& g) { return problem(t, g); }, theta, lo);
  }
  // Double precision from the start, or to finish when float products hit
  // their rounding floor before the gradient tolerance.
  if (!options.single_precision ||
      (result.gradient_max > lo.gtol && result.iterations < lo.max_iterations)) {
    Problem<double> problem(Z, y, classes, weight, lambda);
    LbfgsOptions rest = lo;
    rest.max_iterations = lo.max_iterations - result.iterations;
    const LbfgsResult first = result;
    result =
        minimize_lbfgs([&](const VectorXd& t, VectorXd& g) { return problem(t, g); }, theta, rest);
    result.iterations += first.iterations;
    result.evaluations += first.evaluations;
  }
  if (report)
    report->lbfgs = result, report->lambda = lambda, report->C = options.lambda > 0.0 ? 0.0 : C;
  LogregModel model;
  model.W = Eigen::Map<const MatrixXd>(theta.data(), classes, d);
  model.b = Eigen::Map<const VectorXd>(theta.data() + classes * d, classes);
  return model;
}

MatrixXd rows_of(const MatrixXd& Z, const std::vector<int>& rows) {
  MatrixXd out(rows.size(), Z.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) out.row(i) = Z.row(rows[i]);
  return out;
}

// How many of `rows` have their label as the most probable class.
std::size_t count_correct(const LogregModel& model, const MatrixXd& Z, const std::vector<int>& y,
                          const std::vector<int>& rows) {
  const MatrixXd scores = (rows_of(Z, rows) * model.W.transpose()).rowwise() + model.b.transpose();
  std::size_t correct = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Eigen::Index best;
    scores.row(i).maxCoeff(&best);  // ties: the lower class, as predict_row
    correct += best == y[rows[i]];
  }
  return correct;
}

}  // namespace

std::string to_string(LogregSolver solver) {
  switch (solver) {
    case LogregSolver::automatic:
      return "auto";
    case LogregSolver::primal:
      return "primal";
    case LogregSolver::basis:
      return "basis";
  }
  return "?";
}

LogregSolver parse_logreg_solver(const std::string& text) {
  if (text == "auto") return LogregSolver::automatic;
  if (text == "primal") return LogregSolver::primal;
  if (text == "basis") return LogregSolver::basis;
  throw UsageError(
      cat("--solver: unknown logreg solver '", text, "' (expected auto, primal or basis)"));
}

bool logreg_uses_basis(const LogregOptions& options, std::size_t rows, std::size_t dim) {
  if (options.solver == LogregSolver::automatic) return dim > rows;
  return options.solver == LogregSolver::basis;
}

double logreg_memory_bytes(const LogregOptions& options, std::size_t rows, std::size_t dim,
                           int classes) {
  const double n = double(rows), d = double(dim), k = double(classes);
  const double scalar = options.single_precision ? 4.0 : 8.0;
  // L-BFGS: the correction pairs and about six more parameter-sized vectors.
  auto lbfgs = [&](double params) { return 8.0 * params * (2.0 * LbfgsOptions{}.memory + 6.0); };
  // Problem: its copy of the inputs, the scores, per-chunk partial gradients.
  auto problem = [&](double m, double p) { return scalar * (m * p + m * k + 16.0 * k * p); };
  if (logreg_uses_basis(options, rows, dim)) {
    // The Gram matrix, a fold's block and its factorisations (about 5 n x n),
    // then the fit on n coordinates; W (k x d) at the end.
    return 8.0 * 6.0 * n * n + problem(n, n) + lbfgs(k * n + k) + 8.0 * k * d;
  }
  // CV copies one fold's training rows.
  const double fold_copy = options.cv_folds > 1 ? 8.0 * n * d : 0.0;
  return fold_copy + problem(n, d) + lbfgs(k * d + k);
}

namespace {

// The basis route on the rows S of a Gram matrix: fits on the rows'
// coordinates, returns the weights in kernel form W = A Z_S (A: k x |S|).
struct KernelModel {
  MatrixXd A;
  VectorXd b;
};

KernelModel fit_on_basis(const RowBasis& basis, const std::vector<int>& y, int classes,
                         const LogregOptions& options, double C, LogregReport* report) {
  LogregModel m = fit(basis.coords, y, classes, options, C, report);
  if (report) report->basis_dim = static_cast<std::size_t>(basis.coords.cols());
  return {m.W * basis.to_coords, m.b};
}

// Stratified K-fold accuracy of every C of the grid; the best C (ties: the first).
template <class FoldAccuracy>
double cross_validate(const std::vector<int>& y, int classes, const LogregOptions& options,
                      LogregReport& rep, FoldAccuracy&& fold_correct) {
  const Eigen::Index n = static_cast<Eigen::Index>(y.size());
  const std::vector<int> fold = stratified_folds(y, classes, options.cv_folds, options.seed);
  std::vector<std::size_t> correct(options.c_grid.size(), 0);
  for (int f = 0; f < options.cv_folds; ++f) {
    std::vector<int> train, test, y_train;
    for (Eigen::Index i = 0; i < n; ++i) (fold[i] == f ? test : train).push_back(int(i));
    for (int i : train) y_train.push_back(y[i]);
    const std::vector<std::size_t> c = fold_correct(train, y_train, test);
    for (std::size_t g = 0; g < c.size(); ++g) correct[g] += c[g];
  }
  double best = -1.0, C = options.C;
  for (std::size_t g = 0; g < options.c_grid.size(); ++g) {
    const double acc = double(correct[g]) / double(n);
    rep.grid.push_back({options.c_grid[g], 0.0, acc});
    log::info(cat("cv ", options.cv_folds, "-fold: C ", options.c_grid[g], ": accuracy ",
                  100.0 * acc, " %"));
    if (acc > best) best = acc, C = options.c_grid[g];  // ties: the first
  }
  log::info(cat("cv: best C ", C, ": accuracy ", 100.0 * best, " %"));
  return C;
}

}  // namespace

LogregModel train_logreg(const MatrixXd& Z, const std::vector<int>& y, int classes,
                         const LogregOptions& options, LogregReport* report) {
  const Eigen::Index n = Z.rows();
  if (n == 0) throw Error("logreg: no training rows");
  if (!(options.lambda > 0.0) && !(options.C > 0.0))
    throw UsageError(cat("-c must be positive (got ", options.C, ")"));
  if (options.cv_folds > 1) {
    if (options.lambda > 0.0)
      throw UsageError("--cv searches C (--c-grid); it does not combine with --lambda");
    if (options.cv_folds > n)
      throw UsageError(
          cat("--cv ", options.cv_folds, ": more folds than the ", n, " training rows"));
    if (options.c_grid.empty()) throw UsageError("--c-grid: no values");
    for (double c : options.c_grid)
      if (!(c > 0)) throw UsageError(cat("--c-grid: C must be positive (got ", c, ")"));
  }
  double C = options.C;
  LogregReport rep;
  const bool basis = logreg_uses_basis(options, std::size_t(n), std::size_t(Z.cols()));
  if (basis) {
    const MatrixXd G = gram_matrix(Z);
    if (options.cv_folds > 1)
      C = cross_validate(
          y, classes, options, rep,
          [&](const std::vector<int>& train, const std::vector<int>& y_train,
              const std::vector<int>& test) {
            const RowBasis fold_basis = row_basis(G(train, train));
            const MatrixXd cross = G(train, test);  // kernel values of the held-out rows
            std::vector<std::size_t> correct;
            for (double c : options.c_grid) {
              const KernelModel m = fit_on_basis(fold_basis, y_train, classes, options, c, nullptr);
              const MatrixXd scores = (m.A * cross).colwise() + m.b;
              std::size_t hits = 0;
              for (std::size_t t = 0; t < test.size(); ++t) {
                Eigen::Index best;
                scores.col(Eigen::Index(t))
                    .maxCoeff(&best);  // ties: the lower class, as predict_row
                hits += best == y[test[t]];
              }
              correct.push_back(hits);
            }
            return correct;
          });
    const KernelModel m = fit_on_basis(row_basis(G), y, classes, options, C, &rep);
    LogregModel model;
    model.W = m.A * Z;
    model.b = m.b;
    if (report) *report = std::move(rep);
    return model;
  }
  if (options.cv_folds > 1)
    C = cross_validate(y, classes, options, rep,
                       [&](const std::vector<int>& train, const std::vector<int>& y_train,
                           const std::vector<int>& test) {
                         const MatrixXd Z_train =
                             rows_of(Z, train);  // one fold's training rows in memory at a time
                         std::vector<std::size_t> correct;
                         for (double c : options.c_grid)
                           correct.push_back(count_correct(
                               fit(Z_train, y_train, classes, options, c, nullptr), Z, y, test));
                         return correct;
                       });
  LogregModel model = fit(Z, y, classes, options, C, &rep);
  if (report) *report = std::move(rep);
  return model;
}

}  // namespace fg
