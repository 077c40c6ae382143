// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <doctest/doctest.h>
#include <svm.h>

#include <cmath>
#include <random>
#include <vector>

#include "finegrain/classify/svm.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

namespace {

void quiet(const char*) {}

// k overlapping Gaussian classes in d dimensions, rows ordered by class (so
// LIBSVM's label order, by first appearance, is the class order).
void make_problem(int k, int per_class, int d, unsigned seed, Eigen::MatrixXd& Z,
                  std::vector<int>& y, std::vector<int> sizes = {}) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> mean(k, std::vector<double>(d));
  for (auto& m : mean)
    for (auto& v : m) v = normal(rng);
  int n = 0;
  for (int c = 0; c < k; ++c) n += sizes.empty() ? per_class : sizes[c];
  Z.resize(n, d);
  y.clear();
  int r = 0;
  for (int c = 0; c < k; ++c)
    for (int i = 0; i < (sizes.empty() ? per_class : sizes[c]); ++i, ++r) {
      for (int j = 0; j < d; ++j) Z(r, j) = mean[c][j] + 1.2 * normal(rng);
      y.push_back(c);
    }
}

// Plain LIBSVM: multi-class svm_train on the same data with a native kernel.
struct PlainLibsvm {
  std::vector<std::vector<svm_node>> rows;
  std::vector<svm_node*> x;
  std::vector<double> labels;
  svm_problem prob{};
  svm_parameter param{};
  std::vector<int> weight_label;
  std::vector<double> weight;
  svm_model* model = nullptr;

  static std::vector<svm_node> nodes(const double* z, int d) {
    std::vector<svm_node> v;
    for (int j = 0; j < d; ++j) v.push_back({j + 1, z[j]});
    v.push_back({-1, 0.0});
    return v;
  }
  PlainLibsvm(const Eigen::MatrixXd& Z, const std::vector<int>& y, int kernel, double C,
              double gamma, const std::vector<double>& class_weight) {
    const int n = static_cast<int>(Z.rows()), d = static_cast<int>(Z.cols());
    for (int i = 0; i < n; ++i) {
      Eigen::VectorXd z = Z.row(i).transpose();
      rows.push_back(nodes(z.data(), d));
      labels.push_back(y[i]);
    }
    for (auto& r : rows) x.push_back(r.data());
    prob.l = n;
    prob.y = labels.data();
    prob.x = x.data();
    param.svm_type = C_SVC;
    param.kernel_type = kernel;
    param.gamma = gamma;
    param.C = C;
    param.eps = 1e-3;
    param.cache_size = 100;
    param.shrinking = 1;
    for (std::size_t c = 0; c < class_weight.size(); ++c)
      weight_label.push_back(int(c)), weight.push_back(class_weight[c]);
    param.nr_weight = static_cast<int>(weight.size());
    param.weight_label = weight_label.data();
    param.weight = weight.data();
    svm_set_print_string_function(&quiet);
    model = svm_train(&prob, &param);
  }
  ~PlainLibsvm() { svm_free_and_destroy_model(&model); }
};

void check_same_as_libsvm(KernelType kernel, bool balanced) {
  const int k = 4, d = 6;
  Eigen::MatrixXd Z, T;
  std::vector<int> y, ty;
  make_problem(k, 0, d, 7, Z, y, {25, 12, 30, 18});
  make_problem(k, 20, d, 7, T, ty);  // same means (same seed), new draws
  T = T * 0.9 + Eigen::MatrixXd::Constant(T.rows(), T.cols(), 0.05);
  SvmOptions o;
  o.kernel = kernel;
  o.C = 0.7;
  o.gamma = 0.15;
  o.balanced = balanced;
  SvmReport rep;
  SvmModel m = train_svm(Z, y, k, o, &rep);
  CHECK(m.w.rows() == (kernel == KernelType::linear ? 6 : 0));  // 6 pairs x 6 dims < SVs: collapsed
  std::vector<double> w(k, 1.0);
  if (balanced) {
    std::vector<double> count(k, 0);
    for (int c : y) count[c] += 1;
    for (int c = 0; c < k; ++c) w[c] = double(y.size()) / (k * count[c]);
  }
  PlainLibsvm ref(Z, y, kernel == KernelType::linear ? LINEAR : RBF, 0.7, 0.15, w);
  REQUIRE(ref.model->nr_class == k);
  for (int c = 0; c < k; ++c) REQUIRE(ref.model->label[c] == c);
  std::vector<double> dec(m.pairs.size()), ref_dec(m.pairs.size()), scores(k);
  int agree = 0;
  double max_diff = 0;
  for (int i = 0; i < T.rows(); ++i) {
    Eigen::VectorXd z = T.row(i).transpose();
    m.decision_values(z.data(), dec.data());
    auto nodes = PlainLibsvm::nodes(z.data(), d);
    const double ref_label = svm_predict_values(ref.model, nodes.data(), ref_dec.data());
    for (std::size_t p = 0; p < dec.size(); ++p)
      max_diff = std::max(max_diff, std::fabs(dec[p] - ref_dec[p]));
    m.class_scores(z.data(), scores.data());
    int best = 0;
    for (int c = 1; c < k; ++c)
      if (scores[c] > scores[best]) best = c;
    agree += best == static_cast<int>(ref_label);
  }
  CHECK(agree == T.rows());
  CHECK(max_diff < 1e-9);
  int total_sv = 0;
  for (int c = 0; c < k; ++c) total_sv += ref.model->nSV[c];
  CHECK(static_cast<int>(rep.support_vectors) == total_sv);
}

}  // namespace

TEST_CASE("svm: linear decisions and decision values equal plain LIBSVM multi-class svm_train") {
  check_same_as_libsvm(KernelType::linear, false);
}

TEST_CASE("svm: rbf and balanced class weights equal plain LIBSVM too") {
  check_same_as_libsvm(KernelType::rbf, false);
  check_same_as_libsvm(KernelType::linear, true);
}

TEST_CASE("svm: pairwise coupling recovers consistent class probabilities") {
  const int k = 4;
  const double p_true[k] = {0.1, 0.4, 0.2, 0.3};
  std::vector<double> r(k * k, 0.0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      if (i != j) r[i * k + j] = p_true[i] / (p_true[i] + p_true[j]);
  double p[k];
  couple_pairwise(r, k, p);
  for (int i = 0; i < k; ++i) CHECK(p[i] == doctest::Approx(p_true[i]).epsilon(1e-3));
}

TEST_CASE("svm: Platt's sigmoid fit is a stationary point of its likelihood") {
  std::vector<double> f;
  std::vector<int> l;
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  for (int i = 0; i < 200; ++i) {
    const int lab = i % 3 ? +1 : -1;
    f.push_back(lab * 0.8 + normal(rng));
    l.push_back(lab);
  }
  double A, B;
  fit_sigmoid(f, l, A, B);
  CHECK(A < 0);  // larger decision values mean class +1
  double np = 0, nn = 0;
  for (int v : l) (v > 0 ? np : nn) += 1;
  double gA = 0, gB = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double t = l[i] > 0 ? (np + 1) / (np + 2) : 1 / (nn + 2);
    const double p = 1 / (1 + std::exp(A * f[i] + B));
    gA += f[i] * (t - p);
    gB += t - p;
  }
  CHECK(std::fabs(gA) < 1e-4);
  CHECK(std::fabs(gB) < 1e-4);
}

TEST_CASE("svm: probability outputs sum to one and cv picks a grid point") {
  Eigen::MatrixXd Z;
  std::vector<int> y;
  make_problem(3, 20, 4, 9, Z, y);
  SvmOptions o;
  o.probability = true;
  o.cv_folds = 3;
  o.c_grid = {0.1, 1, 10};
  SvmReport rep;
  const auto level = log::level();
  log::set_level(log::Level::quiet);
  SvmModel m = train_svm(Z, y, 3, o, &rep);
  SvmModel again = train_svm(Z, y, 3, o);
  log::set_level(level);
  REQUIRE(rep.grid.size() == 3);
  double best = 0;
  for (const auto& g : rep.grid) best = std::max(best, g.accuracy);
  bool chosen = false;
  for (const auto& g : rep.grid) chosen = chosen || (g.C == rep.C && g.accuracy == best);
  CHECK(chosen);
  CHECK(best > 0.5);
  double p[3];
  Eigen::VectorXd z = Z.row(0).transpose();
  m.class_scores(z.data(), p);
  CHECK(p[0] + p[1] + p[2] == doctest::Approx(1.0));
  double q[3];
  again.class_scores(z.data(), q);
  for (int c = 0; c < 3; ++c) CHECK(p[c] == q[c]);  // seeded: identical
}

TEST_CASE("svm: rows in any order give the same model as rows grouped by class") {
  Eigen::MatrixXd Z;
  std::vector<int> y;
  make_problem(3, 10, 4, 5, Z, y);
  // interleave: row i of the shuffled problem is row perm[i]
  std::vector<int> perm;
  for (int i = 0; i < 10; ++i)
    for (int c = 0; c < 3; ++c) perm.push_back(c * 10 + i);
  Eigen::MatrixXd Zi(30, 4);
  std::vector<int> yi(30);
  for (int i = 0; i < 30; ++i) Zi.row(i) = Z.row(perm[i]), yi[i] = y[perm[i]];
  SvmOptions o;
  SvmModel a = train_svm(Z, y, 3, o), b = train_svm(Zi, yi, 3, o);
  REQUIRE(a.sv.rows() == b.sv.rows());
  CHECK(a.sv == b.sv);
  CHECK(a.w == b.w);
  std::vector<double> da(3), db(3);
  for (int i = 0; i < 30; ++i) {
    Eigen::VectorXd z = Z.row(i).transpose();
    a.decision_values(z.data(), da.data());
    b.decision_values(z.data(), db.data());
    CHECK(da == db);
  }
}
