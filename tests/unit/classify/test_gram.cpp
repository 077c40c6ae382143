// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "finegrain/classify/cross_validation.hpp"
#include "finegrain/classify/gram.hpp"
#include "finegrain/classify/logreg.hpp"
#include "finegrain/core/common.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {

// n rows in d >> n dims, k classes with shifted means (separable but not trivially).
Eigen::MatrixXd high_dim_classes(int n, int d, int k, std::vector<int>& y, unsigned seed,
                                 double shift = 0.35) {
  Eigen::MatrixXd Z = normal_matrix(n, d, seed);
  const Eigen::MatrixXd means = shift * normal_matrix(k, d, seed + 1);
  y.resize(n);
  for (int i = 0; i < n; ++i) y[i] = i % k, Z.row(i) += means.row(y[i]);
  return Z;
}

struct QuietLog {
  log::Level saved = log::level();
  QuietLog() { log::set_level(log::Level::quiet); }
  ~QuietLog() { log::set_level(saved); }
};

}  // namespace

TEST_CASE("gram: gram_matrix is Z Z^T, symmetric, across block boundaries") {
  const Eigen::MatrixXd Z = normal_matrix(300, 7, 1);  // 300 rows: two 256-row blocks
  const Eigen::MatrixXd G = gram_matrix(Z);
  REQUIRE(G.rows() == 300);
  for (int i : {0, 17, 255, 256, 299})
    for (int j : {0, 100, 256, 299}) {
      double dot = 0;
      for (int t = 0; t < 7; ++t) dot += Z(i, t) * Z(j, t);
      CHECK(G(i, j) == doctest::Approx(dot).epsilon(1e-12));
      CHECK(G(i, j) == G(j, i));
    }
}

TEST_CASE("gram: row_basis gives orthonormal coordinates of the rows (Cholesky, full rank)") {
  const Eigen::MatrixXd Z = normal_matrix(12, 40, 2);
  const Eigen::MatrixXd G = gram_matrix(Z);
  const RowBasis b = row_basis(G);
  CHECK(b.cholesky);
  REQUIRE(b.coords.rows() == 12);
  REQUIRE(b.coords.cols() == 12);
  CHECK((b.coords * b.coords.transpose() - G).cwiseAbs().maxCoeff() < 1e-10);
  const Eigen::MatrixXd Vt = b.to_coords * Z;  // r x d, the basis itself
  CHECK((Vt * Vt.transpose() - Eigen::MatrixXd::Identity(12, 12)).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((Z * Vt.transpose() - b.coords).cwiseAbs().maxCoeff() < 1e-10);  // coords = Z V
  // A vector in the span keeps its norm and inner products in coordinates.
  const Eigen::VectorXd u = Z.transpose() * normal_matrix(12, 1, 3).col(0);
  const Eigen::VectorXd cu = b.to_coords * (Z * u);
  CHECK(cu.norm() == doctest::Approx(u.norm()).epsilon(1e-10));
}

TEST_CASE("gram: row_basis of linearly dependent rows drops the null directions (eigen route)") {
  Eigen::MatrixXd Z = normal_matrix(10, 30, 4);
  Z.row(7) = Z.row(2);                   // a duplicate row
  Z.row(9) = 0.5 * Z.row(0) - Z.row(1);  // a combination
  const Eigen::MatrixXd G = gram_matrix(Z);
  const RowBasis b = row_basis(G);
  CHECK_FALSE(b.cholesky);
  REQUIRE(b.coords.cols() == 8);
  REQUIRE(b.to_coords.rows() == 8);
  CHECK((b.coords * b.coords.transpose() - G).cwiseAbs().maxCoeff() < 1e-9);
  const Eigen::MatrixXd Vt = b.to_coords * Z;
  CHECK((Vt * Vt.transpose() - Eigen::MatrixXd::Identity(8, 8)).cwiseAbs().maxCoeff() < 1e-9);
  CHECK((Z * Vt.transpose() - b.coords).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("logreg basis solver: the same model as the primal fit when dim >> rows") {
  const int n = 36, d = 400, k = 3;
  std::vector<int> y;
  const Eigen::MatrixXd Z = high_dim_classes(n, d, k, y, 5);
  for (bool balanced : {false, true}) {
    LogregOptions o;
    o.C = 1.0;
    o.tol = 1e-9;
    o.single_precision = false;
    o.balanced = balanced;
    CHECK(logreg_uses_basis(o, n, d));
    CHECK_FALSE(logreg_uses_basis(o, d, n));
    o.solver = LogregSolver::primal;
    LogregReport rp, rb;
    const LogregModel primal = train_logreg(Z, y, k, o, &rp);
    o.solver = LogregSolver::basis;
    const LogregModel basis = train_logreg(Z, y, k, o, &rb);
    INFO("balanced ", balanced, ": primal ", rp.lbfgs.reason, ", basis ", rb.lbfgs.reason);
    CHECK(rp.basis_dim == 0);
    CHECK(rb.basis_dim == std::size_t(n));
    CHECK(rb.lambda == rp.lambda);
    REQUIRE(basis.W.rows() == k);
    REQUIRE(basis.W.cols() == d);
    const double scale = primal.W.cwiseAbs().maxCoeff();
    CHECK(scale > 1e-3);
    CHECK((basis.W - primal.W).cwiseAbs().maxCoeff() < 1e-6 * scale + 1e-9);
    CHECK((basis.b - primal.b).cwiseAbs().maxCoeff() < 1e-6);
    // The basis model is optimal for the primal objective: its gradient vanishes.
    Eigen::VectorXd theta(k * d + k), g;
    theta << Eigen::Map<const Eigen::VectorXd>(basis.W.data(), k * d), basis.b;
    std::vector<double> w;
    if (balanced) w.assign(n, 1.0);  // y is balanced by construction: weights n/(k n_c) = 1
    logreg_objective(Z, y, k, w, rb.lambda, theta, g, false);
    CHECK(g.cwiseAbs().maxCoeff() < 1e-7);
    // Probabilities of fresh inputs agree.
    const Eigen::MatrixXd T = normal_matrix(5, d, 9);
    for (int i = 0; i < 5; ++i) {
      const Eigen::VectorXd z = T.row(i).transpose();
      double pp[3], pb[3];
      primal.probabilities(z.data(), pp);
      basis.probabilities(z.data(), pb);
      for (int c = 0; c < k; ++c) CHECK(pb[c] == doctest::Approx(pp[c]).epsilon(1e-6));
    }
  }
}

TEST_CASE("logreg basis solver: --cv on Gram blocks scores each C as primal fits on the folds do") {
  const int n = 45, d = 300, k = 3;
  std::vector<int> y;
  const Eigen::MatrixXd Z = high_dim_classes(n, d, k, y, 12, 0.08);
  LogregOptions o;
  o.cv_folds = 3;
  o.c_grid = {0.0003, 0.01, 1};
  o.seed = 4;
  o.tol = 1e-8;
  o.single_precision = false;
  QuietLog quiet;
  LogregReport rp, rb;
  o.solver = LogregSolver::primal;
  const LogregModel primal = train_logreg(Z, y, k, o, &rp);
  o.solver = LogregSolver::basis;
  const LogregModel basis = train_logreg(Z, y, k, o, &rb);
  REQUIRE(rb.grid.size() == 3);
  REQUIRE(rp.grid.size() == 3);
  for (std::size_t g = 0; g < 3; ++g) {
    CHECK(rb.grid[g].C == o.c_grid[g]);
    CHECK(rb.grid[g].accuracy == rp.grid[g].accuracy);
  }
  CHECK(rb.grid[0].accuracy != rb.grid[2].accuracy);  // the grid is informative
  CHECK(rb.C == rp.C);
  CHECK((basis.W - primal.W).cwiseAbs().maxCoeff() < 1e-6 * primal.W.cwiseAbs().maxCoeff());
}

TEST_CASE("logreg: solver names") {
  CHECK(parse_logreg_solver("auto") == LogregSolver::automatic);
  CHECK(parse_logreg_solver("basis") == LogregSolver::basis);
  CHECK(to_string(LogregSolver::primal) == "primal");
  CHECK_THROWS_AS(parse_logreg_solver("dual"), UsageError);
}
