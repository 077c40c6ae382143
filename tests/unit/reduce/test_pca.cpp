// PCA against independent facts: hand-computed cases, planted components,
// orthonormality, the variance bookkeeping, and agreement of the methods.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <omp.h>
#include <unistd.h>
#include <vector>

#include "finegrain/core/common.hpp"
#include "finegrain/reduce/pca.hpp"

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
  Eigen::MatrixXd v;               // D x r
  std::vector<double> variances;   // s^2 / (n - 1)
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
  Eigen::MatrixXd uq = Eigen::HouseholderQR<Eigen::MatrixXd>(u).householderQ() * Eigen::MatrixXd::Identity(n, r);
  Planted p;
  p.n = n;
  p.dim = dim;
  p.v = Eigen::HouseholderQR<Eigen::MatrixXd>(g).householderQ() * Eigen::MatrixXd::Identity(dim, r);
  Eigen::MatrixXd x = uq * Eigen::VectorXd::Map(sigmas.data(), r).asDiagonal() * p.v.transpose();
  p.rows.resize(n * dim);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < dim; ++j)
      p.rows[i * dim + j] = static_cast<float>(x(i, j) + 0.5 * std::sin(1.0 + j) + noise * normal(rng));
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
    for (std::size_t k = 1; k < m.output_dim(); ++k) CHECK(m.variances()[k] <= m.variances()[k - 1]);
    const double total = total_variance(p.rows, p.n, p.dim);
    CHECK(m.total_variance() == doctest::Approx(total).epsilon(1e-9));
    double sum = 0;
    for (double v : m.variances()) sum += v;
    CHECK(m.explained_ratio() == doctest::Approx(sum / total).epsilon(1e-12));
    for (std::size_t k = 1; k < report.spectrum.size(); ++k) CHECK(report.spectrum[k] <= report.spectrum[k - 1]);
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
      for (int l = 0; l < k; ++l) CHECK(std::fabs(cov(k, l)) < 1e-5 * std::sqrt(cov(k, k) * cov(l, l)));
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
  {
    std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() - 40);
  }
  CHECK_THROWS_WITH_AS(PcaModel::load(bad), doctest::Contains("truncated PCA model"), fg::Error);
  // Another version.
  std::string v2 = bytes;
  v2[8] = 2;
  {
    std::ofstream(bad, std::ios::binary) << v2;
  }
  CHECK_THROWS_WITH_AS(PcaModel::load(bad), doctest::Contains("version 2; this program reads version 1"), fg::Error);
  // Not a PCA model at all.
  {
    std::ofstream(bad, std::ios::binary) << "1 1:0.5 2:0.25\n";
  }
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
  CHECK_THROWS_WITH_AS(PcaModel::fit(p.rows.data(), p.n, p.dim, bad_method), doctest::Contains("unknown PCA method"),
                       fg::UsageError);
  // Whitening a zero-variance direction (rank 2 data, 3 components).
  PcaFitOptions w = dim_options(3, "cov");
  w.whiten = true;
  CHECK_THROWS_WITH_AS(PcaModel::fit(p.rows.data(), p.n, p.dim, w), doctest::Contains("cannot whiten"), fg::Error);
  PcaModel m = PcaModel::fit(p.rows.data(), p.n, p.dim, dim_options(2));
  CHECK_THROWS_WITH_AS(m.check_input_dim(512, "test.fgt", "pca.model"),
                       doctest::Contains("test.fgt: dimension 512, but the PCA model pca.model was fitted on dimension 6"),
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
