// C-SVC through LIBSVM, one-vs-one like LIBSVM's own multi-class training.
//
// The k(k-1)/2 pairwise problems are solved by LIBSVM's solver (svm_train)
// on a precomputed kernel: the Gram matrix of the training set is computed
// once with Eigen (blocked, multi-threaded), and the pairs are trained in
// parallel with OpenMP. Each pair's problem, C and class weights are exactly
// those LIBSVM's multi-class svm_train builds, so the decisions are LIBSVM's.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "finegrain/classify/cross_validation.hpp"

namespace fg {

enum class KernelType { linear, rbf };
std::string to_string(KernelType kernel);
KernelType parse_kernel(const std::string& text);

struct SvmOptions {
  KernelType kernel = KernelType::linear;
  double C = 1.0;
  double gamma =
      0.0;  // rbf: exp(-gamma |u-v|^2); 0 = "scale": 1 / (dim * variance of the scaled inputs)
  bool balanced = false;     // per-class C weights n / (k n_c)
  bool probability = false;  // Platt sigmoids per pair + pairwise coupling
  int cv_folds = 0;          // > 1: grid search over c_grid (x gamma_grid for rbf)
  std::vector<double> c_grid = {0.01, 0.1, 1, 10, 100};
  std::vector<double> gamma_grid;  // empty: gamma0 x {1/4, 1/2, 1, 2, 4}
  std::uint64_t seed = 1;          // CV folds and probability folds
  double eps = 1e-3;               // LIBSVM stopping tolerance (-e)
  double cache_mb = 100;           // LIBSVM kernel cache per pair problem (-m)
};

// One pairwise classifier: decision(z) = sum_s coef[s] K(sv[s], z) - rho;
// > 0 votes for class a, otherwise for class b (LIBSVM's rule).
struct SvmPair {
  int a = 0, b = 0;
  double rho = 0.0;
  std::vector<int> sv;                // rows of SvmModel::sv
  std::vector<double> coef;           // y_i alpha_i
  double prob_A = 0.0, prob_B = 0.0;  // P(a | a or b) = 1 / (1 + exp(A dec + B))
};

struct SvmModel {
  KernelType kernel = KernelType::linear;
  double gamma = 0.0;
  int classes = 0;
  bool probability = false;
  Eigen::MatrixXd sv;          // support vectors (scaled inputs), one per row
  std::vector<SvmPair> pairs;  // (0,1), (0,2), ..., (k-2,k-1)
  // Linear kernel with few classes: pair p's weight vector w_p = sum coef sv
  // in row p (decision = w_p . z - rho); sv and the pairs' sv/coef are then
  // empty. Used when smaller than the support vectors.
  Eigen::MatrixXd w;

  std::size_t dim() const { return static_cast<std::size_t>(w.rows() ? w.cols() : sv.cols()); }
  // Replaces the support vectors by per-pair weight vectors (linear only).
  void collapse_linear();
  // Decision values of every pair for one scaled input z.
  void decision_values(const double* z, double* decisions) const;
  // Per-class scores: probabilities when trained with probability, else
  // votes / (k - 1). The top class is LIBSVM's prediction.
  void class_scores(const double* z, double* scores) const;
  // The same from decision values already computed (one per pair).
  void scores_from_decisions(const std::vector<double>& decisions, double* scores) const;
};

struct SvmReport {
  std::vector<GridPoint> grid;  // CV accuracy of each point (when cv_folds > 1)
  double C = 0.0, gamma = 0.0;  // what the final model used
  std::size_t support_vectors = 0;
};

// Bytes train_svm allocates beyond its input Z, for memory checks.
double svm_memory_bytes(const SvmOptions& options, std::size_t rows, std::size_t dim, int classes);

// Z: n x d scaled inputs; y: labels in [0, classes), every class present.
SvmModel train_svm(const Eigen::MatrixXd& Z, const std::vector<int>& y, int classes,
                   const SvmOptions& options, SvmReport* report = nullptr);

// Pairwise coupling (Wu, Lin & Weng 2004, their second method): class
// probabilities p (k) from pairwise r(i,j) = P(i | i or j), r row-major k x k.
void couple_pairwise(const std::vector<double>& r, int k, double* p);

// Platt's sigmoid fitted by Newton's method (Lin, Lin & Weng 2007):
// P(+1 | f) = 1 / (1 + exp(A f + B)). labels: +1 / -1.
void fit_sigmoid(const std::vector<double>& decisions, const std::vector<int>& labels, double& A,
                 double& B);

}  // namespace fg
