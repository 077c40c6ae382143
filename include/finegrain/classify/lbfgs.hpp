// Limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright,
// Numerical Optimization, algorithms 7.4, 3.5 and 3.6), written for fg's
// logistic regression; any smooth objective works.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>

namespace fg {

struct LbfgsOptions {
  int memory = 10;  // correction pairs kept
  int max_iterations = 1000;
  double gtol = 1e-5;          // converged when max |gradient| <= gtol
  double ftol = 1e-12;         // ... or when the relative decrease of f is below ftol
  double c1 = 1e-4, c2 = 0.9;  // Wolfe constants
};

struct LbfgsResult {
  int iterations = 0;
  int evaluations = 0;
  double f = 0.0;
  double gradient_max = 0.0;
  bool converged = false;
  std::string reason;
};

// Returns f(x) and writes the gradient into g (already sized like x).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& g)>;

// Minimises from x (updated in place).
LbfgsResult minimize_lbfgs(const Objective& objective, Eigen::VectorXd& x,
                           const LbfgsOptions& options = {});

}  // namespace fg
