// PCA against independent facts: hand-computed cases, planted components,
// orthonormality, the variance bookkeeping, and agreement of the methods.
#include <doctest/doctest.h>

#include <omp.h>
#include <unistd.h>
#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "finegrain/core/common.hpp"
#include "finegrain/reduce/pca.hpp"

extern "C" {
void openblas_set_num_threads(int count);  // OpenBLAS (linked by the library)
int openblas_get_num_threads(void);
}

namespace {

using fg::PcaFitOptions;
using fg::PcaFitReport;
using fg::PcaModel;

PcaFitOptions dim_options(std::size_t k, const char* method = "auto") {
  PcaFitOptions o;
  o.dim = k;
  o.method = method;
  return o;
}

// Data with an exactly known sample covariance: X = mean + U S V^T where the
// columns of U are orthonormal and centred, V (D x r) orthonormal. Then the
// covariance is V diag(s^2 / (n - 1)) V^T: the components are V's columns.
struct Planted {
  std::size_t n, dim;
  std::vector<float> rows;
  Eigen::MatrixXd v;              // D x r
  std::vector<double> variances;  // s^2 / (n - 1)
};

Planted planted(std::size_t n, std::size_t dim, const std::vector<double>& sigmas, unsigned seed,
                double noise = 0.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  const std::size_t r = sigmas.size();
  Eigen::MatrixXd u(n, r), g(dim, r);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < r; ++k) u(i, k) = normal(rng);
  for (std::size_t j = 0; j < dim; ++j)
    for (std::size_t k = 0; k < r; ++k) g(j, k) = normal(rng);
  u.rowwise() -= u.colwise().mean();
  Eigen::MatrixXd uq =
      Eigen::HouseholderQR<Eigen::MatrixXd>(u).householderQ() * Eigen::MatrixXd::Identity(n, r);
  Planted p;
  p.n = n;
  p.dim = dim;
  p.v = Eigen::HouseholderQR<Eigen::MatrixXd>(g).householderQ() * Eigen::MatrixXd::Identity(dim, r);
  Eigen::MatrixXd x = uq * Eigen::VectorXd::Map(sigmas.data(), r).asDiagonal() * p.v.transpose();
  p.rows.resize(n * dim);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < dim; ++j)
      p.rows[i * dim + j] =
          static_cast<float>(x(i, j) + 0.5 * std::sin(1.0 + j) + noise * normal(rng));
  for (double s : sigmas) p.variances.push_back(s * s / static_cast<double>(n - 1));
  return p;
}

// Sample covariance of projected rows, computed directly (double).
Eigen::MatrixXd sample_cov(const std::vector<float>& rows, std::size_t n, std::size_t dim) {
  Eigen::MatrixXd x(n, dim);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < dim; ++j) x(i, j) = rows[i * dim + j];
  x.rowwise() -= x.colwise().mean();
  return x.transpose() * x / static_cast<double>(n - 1);
}

double total_variance(const std::vector<float>& rows, std::size_t n, std::size_t dim) {
  return sample_cov(rows, n, dim).trace();
}

Eigen::MatrixXd components(const PcaModel& m) {
  Eigen::MatrixXd c(m.output_dim(), m.input_dim());
  for (std::size_t k = 0; k < m.output_dim(); ++k)
    for (std::size_t j = 0; j < m.input_dim(); ++j) c(k, j) = m.components()[k * m.input_dim() + j];
  return c;
}

std::string temp_path(const std::string& name) {
  return "/tmp/fg-test-pca-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("pca: hand-computed 2-d case") {
  // Points (3,1), (1,3), (-3,-1), (-1,-3): mean 0, covariance [[20,12],[12,20]]/3,
  // eigenvalues 32/3 along (1,1)/sqrt2 and 8/3 along (1,-1)/sqrt2.
  const std::vector<float> rows = {3, 1, 1, 3, -3, -1, -1, -3};
  for (const char* method : {"cov", "gram"}) {
    CAPTURE(method);
    PcaFitReport report;
    PcaModel m = PcaModel::fit(rows.data(), 4, 2, dim_options(2, method), &report);
    REQUIRE(m.output_dim() == 2);
    CHECK(m.variances()[0] == doctest::Approx(32.0 / 3).epsilon(1e-12));
    CHECK(m.variances()[1] == doctest::Approx(8.0 / 3).epsilon(1e-12));
    CHECK(m.total_variance() == doctest::Approx(40.0 / 3).epsilon(1e-12));
    const double h = std::sqrt(0.5);
    // Sign rule: largest-|.| coordinate positive, the first one on ties.
    CHECK(m.components()[0] == doctest::Approx(h));
    CHECK(m.components()[1] == doctest::Approx(h));
    CHECK(m.components()[2] == doctest::Approx(h));
    CHECK(m.components()[3] == doctest::Approx(-h));
    float out[2];
    m.apply_row(rows.data(), out);  // (3, 1)
    CHECK(out[0] == doctest::Approx(4 * h).epsilon(1e-6));
    CHECK(out[1] == doctest::Approx(2 * h).epsilon(1e-6));
    CHECK(report.kept == 2);
    CHECK(report.complete);
  }
}

TEST_CASE("pca: recovers planted components and variances, all methods") {
  // 6 planted directions with distinct variances in 40-d, n = 300.
  Planted p = planted(300, 40, {40, 25, 15, 9, 5, 3}, 7);
  for (const char* method : {"cov", "gram", "randomized"}) {
    CAPTURE(method);
    PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(4, method));
    REQUIRE(m.output_dim() == 4);
    CHECK(m.method() == std::string(method));
    Eigen::MatrixXd c = components(m);
    for (int k = 0; k < 4; ++k) {
      CAPTURE(k);
      CHECK(std::fabs(c.row(k).dot(p.v.col(k))) == doctest::Approx(1.0).epsilon(1e-6));
      CHECK(m.variances()[k] == doctest::Approx(p.variances[k]).epsilon(1e-5));
    }
  }
}

TEST_CASE("pca: components orthonormal, variances decreasing, explained ratio") {
  Planted p = planted(200, 30, {9, 8, 7, 6, 5, 4, 3, 2}, 11, 0.3);
  for (const char* method : {"cov", "gram", "randomized"}) {
    CAPTURE(method);
    PcaFitReport report;
    PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(12, method), &report);
    Eigen::MatrixXd c = components(m);
    Eigen::MatrixXd gram = c * c.transpose();
    CHECK((gram - Eigen::MatrixXd::Identity(12, 12)).cwiseAbs().maxCoeff() < 1e-9);
    for (std::size_t k = 1; k < m.output_dim(); ++k)
      CHECK(m.variances()[k] <= m.variances()[k - 1]);
    const double total = total_variance(p.rows, p.n, p.dim);
    CHECK(m.total_variance() == doctest::Approx(total).epsilon(1e-9));
    double sum = 0;
    for (double v : m.variances()) sum += v;
    CHECK(m.explained_ratio() == doctest::Approx(sum / total).epsilon(1e-12));
    for (std::size_t k = 1; k < report.spectrum.size(); ++k)
      CHECK(report.spectrum[k] <= report.spectrum[k - 1]);
  }
}

TEST_CASE("pca: reconstruction error equals the discarded variance") {
  Planted p = planted(150, 25, {10, 7, 5, 4, 3, 2, 1.5, 1}, 3, 0.2);
  const std::size_t k = 5;
  for (const char* method : {"cov", "gram"}) {
    CAPTURE(method);
    PcaFitReport report;
    PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(k, method), &report);
    REQUIRE(report.complete);
    double discarded = 0;
    for (std::size_t i = k; i < report.spectrum.size(); ++i) discarded += report.spectrum[i];
    // ... which is also total - kept, computed independently.
    double kept = 0;
    for (double v : m.variances()) kept += v;
    CHECK(discarded == doctest::Approx(total_variance(p.rows, p.n, p.dim) - kept).epsilon(1e-8));
    double squared = 0;
    std::vector<float> y(k), back(p.dim);
    for (std::size_t i = 0; i < p.n; ++i) {
      m.apply_row(p.rows.data() + i * p.dim, y.data());
      m.reconstruct_row(y.data(), back.data());
      for (std::size_t j = 0; j < p.dim; ++j) {
        double d = static_cast<double>(back[j]) - p.rows[i * p.dim + j];
        squared += d * d;
      }
    }
    CHECK(squared / static_cast<double>(p.n - 1) == doctest::Approx(discarded).epsilon(1e-4));
  }
}

TEST_CASE("pca: apply(fit data) has the fitted variances; whitened has unit variances") {
  Planted p = planted(400, 20, {6, 5, 4, 3, 2}, 5, 0.1);
  for (bool whiten : {false, true}) {
    CAPTURE(whiten);
    PcaFitOptions o = dim_options(5, "cov");
    o.whiten = whiten;
    PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
    std::vector<float> y(p.n * 5);
    m.apply(p.rows.data(), p.n, y.data());
    Eigen::MatrixXd cov = sample_cov(y, p.n, 5);
    for (int k = 0; k < 5; ++k) {
      CAPTURE(k);
      CHECK(cov(k, k) == doctest::Approx(whiten ? 1.0 : m.variances()[k]).epsilon(1e-5));
      for (int l = 0; l < k; ++l)
        CHECK(std::fabs(cov(k, l)) < 1e-5 * std::sqrt(cov(k, k) * cov(l, l)));
    }
    // Projected data are centred.
    double mean0 = 0;
    for (std::size_t i = 0; i < p.n; ++i) mean0 += y[i * 5];
    CHECK(std::fabs(mean0 / p.n) < 1e-5);
    // Batch and single-row results are the same bytes.
    std::vector<float> one(5);
    m.apply_row(p.rows.data() + 17 * p.dim, one.data());
    for (int k = 0; k < 5; ++k) CHECK(one[k] == y[17 * 5 + k]);
  }
}

TEST_CASE("pca: the three methods agree (sign-fixed)") {
  // Decaying spectrum 2^-k/2 over 60 directions plus noise; n < D so gram is natural.
  std::vector<double> sigmas;
  for (int k = 0; k < 60; ++k) sigmas.push_back(30.0 * std::pow(0.85, k));
  Planted p = planted(120, 200, sigmas, 21, 0.01);
  PcaFitOptions o = dim_options(10, "cov");
  PcaModel cov = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
  o.method = "gram";
  PcaModel gram = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
  o.method = "randomized";
  PcaModel rnd = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
  Eigen::MatrixXd a = components(cov), b = components(gram), c = components(rnd);
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-8);
  CHECK((a - c).cwiseAbs().maxCoeff() < 1e-4);
  for (int k = 0; k < 10; ++k) {
    CHECK(gram.variances()[k] == doctest::Approx(cov.variances()[k]).epsilon(1e-10));
    CHECK(rnd.variances()[k] == doctest::Approx(cov.variances()[k]).epsilon(1e-5));
  }
  // Same inputs and seed: identical model; another seed: same up to rounding.
  PcaModel again = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
  CHECK(again.components() == rnd.components());
  o.seed = 99;
  PcaModel other = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
  CHECK((components(other) - c).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("pca: randomized (block Krylov) on a slowly decaying known spectrum") {
  // 200 planted directions, variances ~ (k + 1)^-1.6 (the decay of bench-pca's data), no
  // noise: the covariance is known exactly. K = 30 with P = 10: blocks of 20 directions, 6
  // blocks (120 of the 200), so the subspace is not the whole space and accuracy comes from
  // the Krylov steps.
  std::vector<double> sigmas;
  for (int k = 0; k < 200; ++k) sigmas.push_back(10.0 / std::pow(k + 1.0, 0.8));
  Planted p = planted(800, 300, sigmas, 29);
  const std::size_t k = 30;
  PcaFitOptions o = dim_options(k, "randomized");
  PcaFitReport report;
  PcaModel rnd = PcaModel::fit(p.rows.data(), p.n, p.dim, o, &report);
  PcaModel cov = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(k, "cov"));
  CHECK_FALSE(report.complete);
  CHECK(report.spectrum.size() == k + o.oversample);
  // Largest errors against the planted truth over the leading 10, 20 and all 30 components.
  auto errors = [&](const PcaModel& m, std::size_t lead) {
    Eigen::MatrixXd cm = components(m);
    double var = 0, dir = 0;
    for (std::size_t i = 0; i < lead; ++i) {
      var = std::max(var, std::fabs(m.variances()[i] / p.variances[i] - 1));
      dir = std::max(
          dir,
          1 - std::fabs(
                  cm.row(static_cast<Eigen::Index>(i)).dot(p.v.col(static_cast<Eigen::Index>(i)))));
    }
    return std::make_pair(var, dir);
  };
  // The default 5 steps: every variance within 5e-6 and every direction within 5e-6
  // (1 - |cos|) of the truth, the leading 20 directions to 1e-8; the explained ratio is the
  // exact method's to 1e-8. (Measured: 4.9e-7, 3.5e-7, 2.4e-10; the exact method's own
  // variance error, from the float input, is 4e-8.)
  const auto all = errors(rnd, k), lead = errors(rnd, 20);
  CHECK(all.first < 5e-6);
  CHECK(all.second < 5e-6);
  CHECK(lead.second < 1e-8);
  CHECK(rnd.explained_ratio() == doctest::Approx(cov.explained_ratio()).epsilon(1e-8));
  for (std::size_t i = 0; i < k; ++i)
    CHECK(rnd.variances()[i] == doctest::Approx(cov.variances()[i]).epsilon(5e-6));
  // Fewer steps, a smaller subspace, visibly less accurate (measured 9e-3 and 0.15): the
  // steps are what buys the accuracy. With 0 steps there are still K + P directions.
  o.power_iterations = 3;
  CHECK(errors(PcaModel::fit(p.rows.data(), p.n, p.dim, o), k).first > 1e-3);
  o.power_iterations = 2;
  CHECK(errors(PcaModel::fit(p.rows.data(), p.n, p.dim, o), k).first > 1e-2);
  o.power_iterations = 0;
  PcaFitReport none;
  PcaModel::fit(p.rows.data(), p.n, p.dim, o, &none);
  CHECK(none.spectrum.size() == k + o.oversample);
}

TEST_CASE("pca: --variance keeps the fewest components reaching the fraction") {
  Planted p = planted(100, 10, {8, 4, 2, 1}, 9, 0.05);
  PcaFitOptions o;
  o.variance = 0.9;
  PcaFitReport report;
  PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, o, &report);
  double total = report.total_variance, cumulative = 0;
  std::size_t expected = 0;
  for (double v : report.spectrum) {
    ++expected;
    cumulative += v;
    if (cumulative / total >= 0.9) break;
  }
  CHECK(m.output_dim() == expected);
  CHECK(m.output_dim() == 2);  // 64+16 of 85 = 94 %; 64 alone is 75 %
  CHECK(m.explained_ratio() >= 0.9);
  o.variance = 1.0;
  CHECK(PcaModel::fit(p.rows.data(), p.n, p.dim, o).output_dim() == 10);
}

TEST_CASE("pca: auto picks the method by shape") {
  Planted tall = planted(60, 8, {3, 2, 1}, 1);
  CHECK(PcaModel::fit(tall.rows.data(), tall.n, tall.dim, dim_options(2)).method() == "cov");
  Planted wide = planted(20, 50, {3, 2, 1}, 1);
  CHECK(PcaModel::fit(wide.rows.data(), wide.n, wide.dim, dim_options(2)).method() == "gram");
}

TEST_CASE("pca: save/load round trip and bad model files") {
  Planted p = planted(80, 12, {5, 3, 2}, 4, 0.1);
  PcaFitOptions o = dim_options(3, "cov");
  o.whiten = true;
  PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, o);
  const std::string path = temp_path("model");
  m.save(path);
  PcaModel loaded = PcaModel::load(path);
  CHECK(loaded.input_dim() == 12);
  CHECK(loaded.output_dim() == 3);
  CHECK(loaded.whiten());
  CHECK(loaded.samples() == 80);
  CHECK(loaded.method() == "cov");
  CHECK(loaded.components() == m.components());
  CHECK(loaded.variances() == m.variances());
  CHECK(loaded.mean() == m.mean());
  float a[3], b[3];
  m.apply_row(p.rows.data(), a);
  loaded.apply_row(p.rows.data(), b);
  for (int k = 0; k < 3; ++k) CHECK(a[k] == b[k]);

  // Truncated.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string bad = temp_path("bad");
  { std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() - 40); }
  CHECK_THROWS_WITH_AS(PcaModel::load(bad), doctest::Contains("truncated PCA model"), fg::Error);
  // Another version.
  std::string v2 = bytes;
  v2[8] = 2;
  { std::ofstream(bad, std::ios::binary) << v2; }
  CHECK_THROWS_WITH_AS(PcaModel::load(bad),
                       doctest::Contains("version 2; this program reads version 1"), fg::Error);
  // Not a PCA model at all.
  { std::ofstream(bad, std::ios::binary) << "1 1:0.5 2:0.25\n"; }
  CHECK_THROWS_WITH_AS(PcaModel::load(bad), doctest::Contains("not a PCA model"), fg::Error);
  std::remove(bad.c_str());
  std::remove(path.c_str());
}

TEST_CASE("pca: bad requests are clear errors") {
  Planted p = planted(10, 6, {3, 2}, 2);
  CHECK_THROWS_WITH_AS(PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(7)),
                       doctest::Contains("more than the data supports"), fg::Error);
  CHECK_THROWS_WITH_AS(PcaModel::fit(p.rows.data(), 1, p.dim, dim_options(1)),
                       doctest::Contains("at least 2 rows"), fg::Error);
  PcaFitOptions none;
  CHECK_THROWS_AS(PcaModel::fit(p.rows.data(), p.n, p.dim, none), fg::UsageError);
  PcaFitOptions bad_method = dim_options(2, "svd");
  CHECK_THROWS_WITH_AS(PcaModel::fit(p.rows.data(), p.n, p.dim, bad_method),
                       doctest::Contains("unknown PCA method"), fg::UsageError);
  // Whitening a zero-variance direction (rank 2 data, 3 components).
  PcaFitOptions w = dim_options(3, "cov");
  w.whiten = true;
  CHECK_THROWS_WITH_AS(PcaModel::fit(p.rows.data(), p.n, p.dim, w),
                       doctest::Contains("cannot whiten"), fg::Error);
  PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(2));
  CHECK_THROWS_WITH_AS(
      m.check_input_dim(512, "test.fgt", "pca.model"),
      doctest::Contains(
          "test.fgt: dimension 512, but the PCA model pca.model was fitted on dimension 6"),
      fg::Error);
  CHECK_NOTHROW(m.check_input_dim(6, "test.fgt"));
}

TEST_CASE("pca: the model does not depend on the thread count") {
  std::vector<double> sigmas;
  for (int k = 0; k < 40; ++k) sigmas.push_back(20.0 * std::pow(0.9, k));
  Planted p = planted(700, 300, sigmas, 13, 0.05);  // several 256-row blocks each way
  const int saved = omp_get_max_threads();
  for (const char* method : {"cov", "gram", "randomized"}) {
    CAPTURE(method);
    omp_set_num_threads(1);
    PcaModel one = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(8, method));
    omp_set_num_threads(3);
    PcaModel three = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(8, method));
    CHECK(one.components() == three.components());
    CHECK(one.variances() == three.variances());
  }
  omp_set_num_threads(saved);
}

TEST_CASE("pca: the model does not depend on OpenBLAS's own thread count") {
  std::vector<double> sigmas;
  for (int k = 0; k < 30; ++k) sigmas.push_back(10.0 * std::pow(0.9, k));
  Planted p = planted(600, 1100, sigmas, 17, 0.05);  // D > 1024: top-K eigenpairs only; gram n x n
  const int saved = openblas_get_num_threads();
  for (const char* method : {"cov", "gram", "randomized"}) {
    CAPTURE(method);
    openblas_set_num_threads(1);
    PcaModel one = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(6, method));
    openblas_set_num_threads(4);
    PcaModel four = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(6, method));
    CHECK(one.components() == four.components());
    CHECK(one.variances() == four.variances());
    CHECK(openblas_get_num_threads() == 4);  // restored after the fit
  }
  openblas_set_num_threads(saved);
}

TEST_CASE(
    "pca: the exact methods' parallel tridiagonal reduction does not depend on the thread count") {
  // D = 1100 and n = 600: both the covariance (cov) and the Gram matrix
  // (gram) are large enough for the reduction's products to run on every
  // thread, over blocks that do not line up with the matrix's edge.
  std::vector<double> sigmas;
  for (int k = 0; k < 30; ++k) sigmas.push_back(10.0 * std::pow(0.9, k));
  Planted p = planted(600, 1100, sigmas, 19, 0.05);
  const int saved = omp_get_max_threads();
  for (const char* method : {"cov", "gram"}) {
    CAPTURE(method);
    omp_set_num_threads(1);
    PcaModel one = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(6, method));
    for (int threads : {2, 3}) {
      CAPTURE(threads);
      omp_set_num_threads(threads);
      PcaModel many = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(6, method));
      CHECK(one.components() == many.components());
      CHECK(one.variances() == many.variances());
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE("pca: top-K eigenpairs (D > 1024) equal the full decomposition") {
  // Against Eigen's own full solver on the same covariance, computed in the test.
  std::vector<double> sigmas;
  for (int k = 0; k < 20; ++k) sigmas.push_back(8.0 * std::pow(0.8, k));
  Planted p = planted(400, 1030, sigmas, 23, 0.02);
  PcaFitReport report;
  PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(5, "cov"), &report);
  CHECK(!report.complete);
  CHECK(report.spectrum.size() == 5);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> full(sample_cov(p.rows, p.n, p.dim));
  for (int k = 0; k < 5; ++k) {
    CAPTURE(k);
    const Eigen::Index col = static_cast<Eigen::Index>(p.dim) - 1 - k;
    CHECK(m.variances()[k] == doctest::Approx(full.eigenvalues()(col)).epsilon(1e-10));
    Eigen::VectorXd v =
        Eigen::VectorXd::Map(m.components().data() + k * p.dim, static_cast<Eigen::Index>(p.dim));
    CHECK(std::fabs(v.dot(full.eigenvectors().col(col))) == doctest::Approx(1.0).epsilon(1e-10));
  }
}

TEST_CASE("pca: gram route (D > n) gives the covariance route's components") {
  // 40 rows of dimension 300 (rank 39): auto picks gram; compared with cov.
  std::vector<double> sigmas;
  for (int k = 0; k < 12; ++k) sigmas.push_back(6.0 * std::pow(0.75, k));
  Planted p = planted(40, 300, sigmas, 29, 0.01);
  PcaFitReport gram_report, cov_report;
  PcaModel gram = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(8), &gram_report);
  PcaModel cov = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(8, "cov"), &cov_report);
  CHECK(gram.method() == "gram");
  CHECK(gram_report.complete);
  CHECK(gram_report.spectrum.size() == 39);  // min(n - 1, D): every non-trivial component
  CHECK((components(gram) - components(cov)).cwiseAbs().maxCoeff() < 1e-9);
  for (int k = 0; k < 8; ++k)
    CHECK(gram.variances()[k] == doctest::Approx(cov.variances()[k]).epsilon(1e-10));
  CHECK(gram.variances()[0] == doctest::Approx(p.variances[0]).epsilon(1e-2));  // the sample noise
}

TEST_CASE("pca: not enough memory is a clear error before the work") {
  // cov on 2 x 200,000 would hold a 200,000^2 covariance (320 GB); gram needs 6.4 MB.
  const std::size_t dim = 200000;
  std::vector<float> rows(2 * dim);
  for (std::size_t j = 0; j < dim; ++j)
    rows[j] = static_cast<float>(j % 7), rows[dim + j] = static_cast<float>(j % 5);
  CHECK_THROWS_WITH_AS(
      PcaModel::fit(rows.data(), 2, dim, dim_options(1, "cov")),
      doctest::Contains(
          "PCA: the cov method on 2 x 200000 needs about 321.6 GB of memory, but only"),
      fg::Error);
  CHECK_THROWS_WITH_AS(PcaModel::fit(rows.data(), 2, dim, dim_options(1, "cov")),
                       doctest::Contains("available; --method gram needs 6 MB"), fg::Error);
  CHECK_THROWS_WITH_AS(fg::PcaStats::compute(rows.data(), 2, dim),
                       doctest::Contains("statistics of 2 x 200000 needs about 640.0 GB"),
                       fg::Error);
  PcaModel gram = PcaModel::fit(rows.data(), 2, dim, dim_options(1));
  CHECK(gram.method() == "gram");
  CHECK(gram.variances()[0] > 0);
}

TEST_CASE("pca stats: sums and scatter, merge equals the joined rows") {
  // Hand-computed: rows (1,2), (3,6) | (5,4): sums (9,12); joined mean (3,4),
  // scatter [[8,4],[4,8]]. Halves: (1,2),(3,6): mean (2,4), scatter [[2,4],[4,8]];
  // (5,4) alone: zero scatter; merge adds 2*1/3 * (3,0)(3,0)^T = [[6,0],[0,0]].
  const std::vector<float> a = {1, 2, 3, 6}, b = {5, 4};
  fg::PcaStats sa = fg::PcaStats::compute(a.data(), 2, 2);
  CHECK(sa.rows() == 2);
  CHECK(sa.sum() == std::vector<double>{4, 8});
  CHECK(sa.scatter() == std::vector<double>{2, 4, 4, 8});
  fg::PcaStats sb = fg::PcaStats::compute(b.data(), 1, 2);
  CHECK(sb.scatter() == std::vector<double>{0, 0, 0, 0});
  sa.merge(sb);
  CHECK(sa.rows() == 3);
  CHECK(sa.sum() == std::vector<double>{9, 12});
  for (int i = 0; i < 4; ++i)
    CHECK(sa.scatter()[i] == doctest::Approx(std::vector<double>{8, 4, 4, 8}[i]).epsilon(1e-14));
  // Another dimension: an error naming the file.
  fg::PcaStats three = fg::PcaStats::compute(a.data(), 1, 3);
  CHECK_THROWS_WITH_AS(
      sa.merge(three, "c.stats"),
      doctest::Contains(
          "c.stats: dimension 3, but the statistics it is merged with have dimension 2"),
      fg::Error);
}

TEST_CASE("pca stats: a fit from three shards equals the fit of the joined table") {
  // Mean far from 0 against the spread (offset 1000): the raw sum of x x^T
  // would lose ~6 digits here; the centred scatter does not.
  std::vector<double> sigmas;
  for (int k = 0; k < 15; ++k) sigmas.push_back(5.0 * std::pow(0.8, k));
  Planted p = planted(500, 60, sigmas, 31, 0.05);
  for (float& v : p.rows) v += 1000.0f;
  const std::size_t cuts[] = {0, 123, 300, 500};
  fg::PcaStats merged;
  for (int s = 0; s < 3; ++s) {
    fg::PcaStats shard =
        fg::PcaStats::compute(p.rows.data() + cuts[s] * p.dim, cuts[s + 1] - cuts[s], p.dim);
    if (s == 0)
      merged = shard;
    else
      merged.merge(shard);
  }
  // Through the file format.
  const std::string path = temp_path("stats");
  merged.save(path);
  REQUIRE(fg::PcaStats::is_stats_file(path));
  fg::PcaStats loaded = fg::PcaStats::load(path);
  CHECK(loaded.scatter() == merged.scatter());
  CHECK(loaded.sum() == merged.sum());
  CHECK(loaded.rows() == 500);
  PcaFitReport from_stats_report;
  PcaModel from_stats = PcaModel::fit(loaded, dim_options(10), &from_stats_report);
  PcaModel whole = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(10, "cov"));
  CHECK(from_stats.method() == "cov");
  CHECK(from_stats.samples() == 500);
  CHECK(from_stats_report.complete);
  const double scale = components(whole).cwiseAbs().maxCoeff();
  CHECK((components(from_stats) - components(whole)).cwiseAbs().maxCoeff() <= 1e-6 * scale);
  for (int k = 0; k < 10; ++k) {
    CAPTURE(k);
    CHECK(from_stats.variances()[k] == doctest::Approx(whole.variances()[k]).epsilon(1e-6));
  }
  CHECK(from_stats.total_variance() == doctest::Approx(whole.total_variance()).epsilon(1e-9));
  for (std::size_t j = 0; j < p.dim; ++j)
    CHECK(from_stats.mean()[j] == doctest::Approx(whole.mean()[j]).epsilon(1e-12));
  // --variance works from statistics too (the whole spectrum is there).
  PcaFitOptions v;
  v.variance = 0.9;
  CHECK(PcaModel::fit(loaded, v).output_dim() ==
        PcaModel::fit(p.rows.data(), p.n, p.dim, v).output_dim());
  // Methods that need the rows.
  CHECK_THROWS_WITH_AS(PcaModel::fit(loaded, dim_options(3, "randomized")),
                       doctest::Contains("needs the rows"), fg::UsageError);
  // Bad files.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string bad = temp_path("bad-stats");
  { std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() / 2); }
  CHECK_THROWS_WITH_AS(fg::PcaStats::load(bad), doctest::Contains("truncated PCA statistics"),
                       fg::Error);
  std::string v2 = bytes;
  v2[8] = 2;
  { std::ofstream(bad, std::ios::binary) << v2; }
  CHECK_THROWS_WITH_AS(fg::PcaStats::load(bad),
                       doctest::Contains("format version 2; this program reads version 1"),
                       fg::Error);
  CHECK_THROWS_WITH_AS(PcaModel::load(path), doctest::Contains("not a PCA model"), fg::Error);
  CHECK_THROWS_WITH_AS(fg::PcaStats::load(temp_path("missing")), doctest::Contains("missing"),
                       fg::Error);
  std::remove(bad.c_str());
  std::remove(path.c_str());
}

TEST_CASE("pca stats: the statistics do not depend on the thread count") {
  Planted p = planted(700, 300, {9, 5, 3, 2}, 37, 0.1);  // several 256 tiles
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  fg::PcaStats one = fg::PcaStats::compute(p.rows.data(), p.n, p.dim);
  omp_set_num_threads(3);
  fg::PcaStats three = fg::PcaStats::compute(p.rows.data(), p.n, p.dim);
  omp_set_num_threads(saved);
  CHECK(one.scatter() == three.scatter());
  CHECK(one.sum() == three.sum());
}
