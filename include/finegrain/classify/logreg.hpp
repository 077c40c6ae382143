// Multinomial logistic regression with an L2 penalty, trained by L-BFGS.
//
// Minimises  (1/n) sum_i w_i * -log softmax(W z_i + b)[y_i]  +  (lambda/2) ||W||^2
// (the bias b is not penalised). With -c C this is scikit-learn's
// LogisticRegression(C) objective divided by C*n: lambda = 1 / (C n).
// w_i = 1, or n / (k n_c) with class_weight balanced.
//
// When dim > rows the optimum W lies in the span of the training rows (the
// gradient of the data term is a combination of the rows, and lambda W must
// cancel it), so the "basis" solver fits the same objective on the rows'
// n coordinates in an orthonormal basis of that span (gram.hpp, from the
// n x n Gram matrix) and maps W back to dim columns: the same model as the
// primal fit up to the solver tolerance, with L-BFGS working on k x n
// instead of k x dim numbers. --cv then needs the Gram matrix only (each
// fold's basis comes from its training block, its held-out scores from the
// cross block), so no fold touches the dim-wide data.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "finegrain/classify/cross_validation.hpp"
#include "finegrain/classify/lbfgs.hpp"

namespace fg {

enum class LogregSolver { automatic, primal, basis };
std::string to_string(LogregSolver solver);
LogregSolver parse_logreg_solver(const std::string& text);  // "auto", "primal", "basis"

struct LogregOptions {
  double C = 10.0;        // inverse regularisation (scikit-learn's C)
  double lambda = 0.0;    // if > 0, used instead of C
  bool balanced = false;  // class weights n / (k n_c)
  int max_iterations = 1000;
  double tol = 1e-5;             // max |gradient| at convergence
  bool single_precision = true;  // float matrix products (2x faster), double elsewhere
  int cv_folds = 0;              // > 1: C chosen from c_grid by stratified K-fold accuracy
  std::vector<double> c_grid = {0.01, 0.1, 1, 10, 100};
  std::uint64_t seed = 1;                         // CV folds
  LogregSolver solver = LogregSolver::automatic;  // automatic: basis when dim > rows
};

struct LogregModel {
  Eigen::MatrixXd W;  // classes x dim
  Eigen::VectorXd b;  // classes
  // Class probabilities of one scaled input z (dim).
  void probabilities(const double* z, double* p) const;
};

struct LogregReport {
  LbfgsResult lbfgs;  // the final fit
  double lambda = 0.0;
  double C = 0.0;               // C of the final fit (0 when lambda was given directly)
  std::vector<GridPoint> grid;  // CV accuracy of each C (when cv_folds > 1)
  std::size_t basis_dim = 0;    // basis solver: coordinates per row (0 = primal)
};

// Which solver train_logreg uses for n rows of dim d.
bool logreg_uses_basis(const LogregOptions& options, std::size_t rows, std::size_t dim);
// Bytes train_logreg allocates beyond its input Z (n x d doubles), for
// memory checks before training.
double logreg_memory_bytes(const LogregOptions& options, std::size_t rows, std::size_t dim,
                           int classes);

// The objective above at parameters theta = [vec(W) (column-major k x d), b].
// Exposed for tests (gradient vs finite differences).
double logreg_objective(const Eigen::MatrixXd& Z, const std::vector<int>& y, int classes,
                        const std::vector<double>& sample_weight, double lambda,
                        const Eigen::VectorXd& theta, Eigen::VectorXd& gradient,
                        bool single_precision);

// Z: n x d scaled inputs; y: labels in [0, classes).
LogregModel train_logreg(const Eigen::MatrixXd& Z, const std::vector<int>& y, int classes,
                         const LogregOptions& options, LogregReport* report = nullptr);

}  // namespace fg
