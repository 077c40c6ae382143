// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "finegrain/classify/cross_validation.hpp"
#include "finegrain/classify/lbfgs.hpp"
#include "finegrain/classify/logreg.hpp"
#include "finegrain/core/common.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE("logreg: the gradient equals central finite differences (with sample weights)") {
  const int n = 40, d = 5, k = 4;
  Eigen::MatrixXd Z = normal_matrix(n, d, 3);
  std::vector<int> y(n);
  std::vector<double> w(n);
  for (int i = 0; i < n; ++i) y[i] = (i * 7) % k, w[i] = 0.5 + (i % 3);
  Eigen::VectorXd theta = 0.3 * normal_matrix(k * d + k, 1, 5).col(0);
  const double lambda = 0.05;
  Eigen::VectorXd g, g2;
  logreg_objective(Z, y, k, w, lambda, theta, g, false);
  for (Eigen::Index t = 0; t < theta.size(); ++t) {
    const double h = 1e-6;
    Eigen::VectorXd p = theta, m = theta;
    p[t] += h;
    m[t] -= h;
    const double fd = (logreg_objective(Z, y, k, w, lambda, p, g2, false) -
                       logreg_objective(Z, y, k, w, lambda, m, g2, false)) /
                      (2 * h);
    CHECK(g[t] == doctest::Approx(fd).epsilon(1e-6).scale(1e-3));
  }
  // single precision products: the same values to float accuracy
  Eigen::VectorXd gf;
  const double f64 = logreg_objective(Z, y, k, w, lambda, theta, g2, false);
  const double f32 = logreg_objective(Z, y, k, w, lambda, theta, gf, true);
  CHECK(f32 == doctest::Approx(f64).epsilon(1e-6));
  CHECK((gf - g2).cwiseAbs().maxCoeff() < 1e-6);
}

TEST_CASE("logreg: converges to the analytic optimum of a symmetric two-point problem") {
  // x = +1 (class 0), x = -1 (class 1); by symmetry W = [w, -w], b = 0 with
  // objective log(1 + exp(-2w)) + lambda w^2, optimum lambda w (1 + e^{2w}) = 1.
  Eigen::MatrixXd Z(2, 1);
  Z << 1.0, -1.0;
  const std::vector<int> y = {0, 1};
  const double lambda = 0.1;
  double lo = 0, hi = 10;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (lambda * mid * (1 + std::exp(2 * mid)) < 1 ? lo : hi) = mid;
  }
  for (bool single : {false, true}) {
    LogregOptions o;
    o.lambda = lambda;
    o.tol = 1e-10;
    o.single_precision = single;
    LogregReport rep;
    LogregModel m = train_logreg(Z, y, 2, o, &rep);
    CHECK(rep.lbfgs.converged);
    INFO("single ", single, ": ", rep.lbfgs.reason, ", ", rep.lbfgs.iterations,
         " iterations, max |g| ", rep.lbfgs.gradient_max);
    CHECK(m.W(0, 0) == doctest::Approx(lo).epsilon(single ? 1e-6 : 1e-9));
    CHECK(m.W(1, 0) == doctest::Approx(-lo).epsilon(single ? 1e-6 : 1e-9));
    CHECK(std::fabs(m.b[0]) < 1e-8);
    double p[2];
    const double z = 1.0;
    m.probabilities(&z, p);
    CHECK(p[0] + p[1] == doctest::Approx(1.0));
    CHECK(p[0] == doctest::Approx(1.0 / (1.0 + std::exp(-2 * lo))).epsilon(1e-6));
  }
}

TEST_CASE(
    "logreg: -c C is scikit-learn's C (lambda = 1/(C n)) and the gradient vanishes at the end") {
  const int n = 90, d = 6, k = 3;
  Eigen::MatrixXd Z = normal_matrix(n, d, 11);
  std::vector<int> y(n);
  for (int i = 0; i < n; ++i) {
    y[i] = i % k;
    Z(i, y[i]) += 1.5;
  }
  LogregOptions o;
  o.C = 2.0;
  o.tol = 1e-9;
  o.single_precision = false;
  LogregReport rep;
  LogregModel m = train_logreg(Z, y, k, o, &rep);
  CHECK(rep.lambda == doctest::Approx(1.0 / (2.0 * n)));
  Eigen::VectorXd theta(k * d + k), g;
  theta << Eigen::Map<const Eigen::VectorXd>(m.W.data(), k * d), m.b;
  logreg_objective(Z, y, k, {}, rep.lambda, theta, g, false);
  CHECK(g.cwiseAbs().maxCoeff() < 1e-8);
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    Eigen::VectorXd z = Z.row(i).transpose();
    double p[3];
    m.probabilities(z.data(), p);
    int best = 0;
    for (int c = 1; c < k; ++c)
      if (p[c] > p[best]) best = c;
    correct += best == y[i];
  }
  CHECK(correct > 70);
}

TEST_CASE("logreg: --cv scores each C by K-fold accuracy and trains the best on all rows") {
  const int n = 60, d = 8, k = 3;
  Eigen::MatrixXd Z = normal_matrix(n, d, 21);
  std::vector<int> y(n);
  for (int i = 0; i < n; ++i) {
    y[i] = i % k;
    Z(i, y[i]) += 0.8;  // overlapping classes: the grid points differ
  }
  LogregOptions o;
  o.cv_folds = 4;
  o.c_grid = {0.001, 0.1, 10};
  o.seed = 3;
  LogregReport rep;
  const auto level = log::level();
  log::set_level(log::Level::quiet);
  const LogregModel m = train_logreg(Z, y, k, o, &rep);
  log::set_level(level);
  REQUIRE(rep.grid.size() == 3);
  // Each point's accuracy is that of plain fits on the other folds.
  const std::vector<int> fold = stratified_folds(y, k, 4, 3);
  double best = -1, best_c = 0;
  for (std::size_t g = 0; g < 3; ++g) {
    int correct = 0;
    for (int f = 0; f < 4; ++f) {
      std::vector<int> rows, yf;
      for (int i = 0; i < n; ++i)
        if (fold[i] != f) rows.push_back(i), yf.push_back(y[i]);
      Eigen::MatrixXd Zf(rows.size(), d);
      for (std::size_t r = 0; r < rows.size(); ++r) Zf.row(r) = Z.row(rows[r]);
      LogregOptions plain = o;
      plain.cv_folds = 0;
      plain.C = o.c_grid[g];
      const LogregModel mf = train_logreg(Zf, yf, k, plain);
      for (int i = 0; i < n; ++i) {
        if (fold[i] != f) continue;
        Eigen::VectorXd z = Z.row(i).transpose(), p(k);
        mf.probabilities(z.data(), p.data());
        Eigen::Index top;
        p.maxCoeff(&top);
        correct += top == y[i];
      }
    }
    CHECK(rep.grid[g].C == o.c_grid[g]);
    CHECK(rep.grid[g].accuracy == correct / double(n));
    if (rep.grid[g].accuracy > best) best = rep.grid[g].accuracy, best_c = o.c_grid[g];
  }
  CHECK(rep.grid[0].accuracy != rep.grid[2].accuracy);
  CHECK(rep.C == best_c);
  LogregOptions plain = o;
  plain.cv_folds = 0;
  plain.C = best_c;
  CHECK(train_logreg(Z, y, k, plain).W == m.W);  // the final model: a plain fit at the best C
  LogregOptions with_lambda = o;
  with_lambda.lambda = 0.01;
  CHECK_THROWS_WITH_AS(train_logreg(Z, y, k, with_lambda), doctest::Contains("--lambda"),
                       UsageError);
}
