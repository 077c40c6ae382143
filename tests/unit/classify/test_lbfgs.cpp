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

using namespace fg;

TEST_CASE("lbfgs: minimises the Rosenbrock function to (1, 1)") {
  Eigen::VectorXd x(2);
  x << -1.2, 1.0;
  LbfgsOptions o;
  o.gtol = 1e-9;
  o.ftol = 0;
  auto r = minimize_lbfgs(
      [](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
        const double a = 1 - v[0], b = v[1] - v[0] * v[0];
        g[0] = -2 * a - 400 * v[0] * b;
        g[1] = 200 * b;
        return a * a + 100 * b * b;
      },
      x, o);
  CHECK(r.converged);
  CHECK(x[0] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(x[1] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(r.iterations < 100);
}
