#include "finegrain/classify/svm.hpp"

#include <svm.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "finegrain/classify/cross_validation.hpp"
#include "finegrain/classify/gram.hpp"
#include "finegrain/core/common.hpp"

namespace fg {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

void silent_print(const char*) {}

// Kernel matrix from the Gram matrix: linear = G, rbf from squared distances
// |u|^2 + |v|^2 - 2 u.v, the formula LIBSVM itself uses.
MatrixXd kernel_from_gram(const MatrixXd& G, KernelType kernel, double gamma) {
  if (kernel == KernelType::linear) return G;  // callers use G directly
  const Eigen::Index n = G.rows();
  MatrixXd K(n, n);
#pragma omp parallel for schedule(static)
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i)
      K(i, j) = std::exp(-gamma * (G(i, i) + G(j, j) - 2.0 * G(i, j)));
  return K;
}

struct PairFit {
  double rho = 0.0;
  std::vector<int> rows;  // global row indices of the support vectors
  std::vector<double> coef;
};

struct PairSetup {
  KernelType kernel;
  double gamma;
  double eps;
  double cache_mb;
};

// One binary C-SVC: rows_a labelled +1 (first), rows_b -1, C weights Ca, Cb,
// solved by LIBSVM on the precomputed kernel K (global indices).
PairFit train_pair(const MatrixXd& K, const std::vector<int>& rows_a,
                   const std::vector<int>& rows_b, double Ca, double Cb, const PairSetup& setup) {
  PairFit fit;
  if (rows_a.empty() || rows_b.empty()) {  // a CV fold without one class: constant vote
    fit.rho = rows_a.empty() ? 1.0 : -1.0;
    return fit;
  }
  std::vector<int> rows(rows_a);
  rows.insert(rows.end(), rows_b.begin(), rows_b.end());
  const int m = static_cast<int>(rows.size());
  std::vector<svm_node> nodes(static_cast<std::size_t>(m) * (m + 2));
  std::vector<svm_node*> x(m);
  std::vector<double> y(m);
  for (int s = 0; s < m; ++s) {
    svm_node* row = nodes.data() + static_cast<std::size_t>(s) * (m + 2);
    x[s] = row;
    y[s] = s < static_cast<int>(rows_a.size()) ? +1.0 : -1.0;
    row[0].index = 0;
    row[0].value = s + 1;
    for (int t = 0; t < m; ++t) {
      row[t + 1].index = t + 1;
      row[t + 1].value = K(rows[s], rows[t]);
    }
    row[m + 1].index = -1;
    row[m + 1].value = 0.0;
  }
  svm_problem prob;
  prob.l = m;
  prob.y = y.data();
  prob.x = x.data();
  int weight_label[2] = {+1, -1};
  double weight[2] = {Ca, Cb};
  svm_parameter param{};
  param.svm_type = C_SVC;
  param.kernel_type = PRECOMPUTED;
  param.C = 1.0;
  param.eps = setup.eps;
  param.cache_size = setup.cache_mb;
  param.shrinking = 1;
  param.probability = 0;
  param.nr_weight = 2;
  param.weight_label = weight_label;
  param.weight = weight;
  if (const char* msg = svm_check_parameter(&prob, &param)) throw Error(cat("LIBSVM: ", msg));
  svm_model* model = svm_train(&prob, &param);
  const double sign = model->label[0] == +1 ? 1.0 : -1.0;
  fit.rho = sign * model->rho[0];
  fit.rows.reserve(model->l);
  fit.coef.reserve(model->l);
  for (int s = 0; s < model->l; ++s) {
    fit.rows.push_back(rows[model->sv_indices[s] - 1]);
    fit.coef.push_back(sign * model->sv_coef[0][s]);
  }
  svm_free_and_destroy_model(&model);
  return fit;
}

std::vector<double> class_weights(const std::vector<int>& y, const std::vector<int>& rows, int k,
                                  bool balanced) {
  std::vector<double> w(k, 1.0);
  if (!balanced) return w;
  std::vector<double> count(k, 0.0);
  for (int r : rows) count[y[r]] += 1.0;
  for (int c = 0; c < k; ++c)
    w[c] = count[c] > 0 ? double(rows.size()) / (double(k) * count[c]) : 1.0;
  return w;
}

// Trains all pairs on the training subset `rows`.
std::vector<PairFit> train_pairs(const MatrixXd& K, const std::vector<int>& y,
                                 const std::vector<int>& rows, int k, double C, bool balanced,
                                 const PairSetup& setup) {
  std::vector<std::vector<int>> by_class(k);
  for (int r : rows) by_class[y[r]].push_back(r);
  const std::vector<double> w = class_weights(y, rows, k, balanced);
  std::vector<std::pair<int, int>> pairs;
  for (int a = 0; a < k; ++a)
    for (int b = a + 1; b < k; ++b) pairs.emplace_back(a, b);
  std::vector<PairFit> fits(pairs.size());
  svm_set_print_string_function(&silent_print);
  std::string error;
#pragma omp parallel for schedule(dynamic)
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    try {
      const int a = pairs[p].first, b = pairs[p].second;
      fits[p] = train_pair(K, by_class[a], by_class[b], C * w[a], C * w[b], setup);
    } catch (const std::exception& e) {
#pragma omp critical
      error = e.what();
    }
  }
  if (!error.empty()) throw Error(error);
  return fits;
}

// LIBSVM's vote: dec > 0 for a, else b; the first class with most votes wins.
int vote(const std::vector<double>& dec, int k, std::vector<int>& votes) {
  votes.assign(k, 0);
  std::size_t p = 0;
  for (int a = 0; a < k; ++a)
    for (int b = a + 1; b < k; ++b, ++p) ++votes[dec[p] > 0 ? a : b];
  int best = 0;
  for (int c = 1; c < k; ++c)
    if (votes[c] > votes[best]) best = c;
  return best;
}

double default_gamma(const MatrixXd& Z) {
  const double mean = Z.mean();
  const double var = (Z.array() - mean).square().mean();
  return var > 0 ? 1.0 / (double(Z.cols()) * var) : 1.0;
}

// Decision values of the pairs for kernel row `kr` (kernel values vs all rows).
template <class KernelRow>
void decisions(const std::vector<PairFit>& fits, const KernelRow& kr, std::vector<double>& dec) {
  dec.resize(fits.size());
  for (std::size_t p = 0; p < fits.size(); ++p) {
    double s = 0.0;
    for (std::size_t i = 0; i < fits[p].rows.size(); ++i)
      s += fits[p].coef[i] * kr(fits[p].rows[i]);
    dec[p] = s - fits[p].rho;
  }
}

}  // namespace

std::string to_string(KernelType kernel) { return kernel == KernelType::linear ? "linear" : "rbf"; }

KernelType parse_kernel(const std::string& text) {
  if (text == "linear") return KernelType::linear;
  if (text == "rbf") return KernelType::rbf;
  throw UsageError(cat("--kernel: unknown kernel '", text, "' (expected linear or rbf)"));
}

void fit_sigmoid(const std::vector<double>& f, const std::vector<int>& labels, double& A,
                 double& B) {
  double np = 0, nn = 0;
  for (int l : labels) (l > 0 ? np : nn) += 1.0;
  const double hi = (np + 1.0) / (np + 2.0), lo = 1.0 / (nn + 2.0);
  const std::size_t n = f.size();
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = labels[i] > 0 ? hi : lo;
  // NLL(z) = log(1 + e^z) - (1 - t) z with z = A f + B, P(+1) = 1 / (1 + e^z).
  auto nll = [&](double a, double b) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double z = a * f[i] + b;
      double l1p = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
      s += l1p - (1.0 - t[i]) * z;
    }
    return s;
  };
  A = 0.0;
  B = std::log((nn + 1.0) / (np + 1.0));
  double F = nll(A, B);
  for (int it = 0; it < 100; ++it) {
    double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double z = A * f[i] + B;
      double p = z >= 0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));
      double q = 1.0 - p;  // sigma(z)
      double d2 = p * q;
      h11 += f[i] * f[i] * d2;
      h22 += d2;
      h21 += f[i] * d2;
      double d1 = q - (1.0 - t[i]);
      g1 += f[i] * d1;
      g2 += d1;
    }
    if (std::fabs(g1) < 1e-5 && std::fabs(g2) < 1e-5) break;
    double det = h11 * h22 - h21 * h21;
    double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
    double gd = g1 * dA + g2 * dB, step = 1.0;
    bool moved = false;
    while (step >= 1e-10) {
      double nA = A + step * dA, nB = B + step * dB, nF = nll(nA, nB);
      if (nF < F + 1e-4 * step * gd) {
        A = nA, B = nB, F = nF, moved = true;
        break;
      }
      step /= 2.0;
    }
    if (!moved) break;
  }
}

void couple_pairwise(const std::vector<double>& r, int k, double* p) {
  // Q_tt = sum_{j != t} r_jt^2, Q_tj = -r_jt r_tj; minimise p'Qp s.t. sum p = 1.
  std::vector<double> Q(static_cast<std::size_t>(k) * k, 0.0), Qp(k);
  for (int t = 0; t < k; ++t)
    for (int j = 0; j < k; ++j)
      if (j != t) {
        Q[t * k + t] += r[j * k + t] * r[j * k + t];
        Q[t * k + j] = -r[j * k + t] * r[t * k + j];
      }
  for (int t = 0; t < k; ++t) p[t] = 1.0 / k;
  const int max_iter = std::max(100, k);
  const double eps = 0.005 / k;
  for (int it = 0; it < max_iter; ++it) {
    double pQp = 0;
    for (int t = 0; t < k; ++t) {
      Qp[t] = 0;
      for (int j = 0; j < k; ++j) Qp[t] += Q[t * k + j] * p[j];
      pQp += p[t] * Qp[t];
    }
    double err = 0;
    for (int t = 0; t < k; ++t) err = std::max(err, std::fabs(Qp[t] - pQp));
    if (err < eps) break;
    for (int t = 0; t < k; ++t) {
      double diff = (-Qp[t] + pQp) / Q[t * k + t];
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q[t * k + t] + 2 * Qp[t])) / (1 + diff) / (1 + diff);
      for (int j = 0; j < k; ++j) {
        Qp[j] = (Qp[j] + diff * Q[t * k + j]) / (1 + diff);
        p[j] /= (1 + diff);
      }
    }
  }
}

void SvmModel::collapse_linear() {
  if (kernel != KernelType::linear || w.rows()) return;
  const Eigen::Index d = sv.cols();
  w = MatrixXd::Zero(static_cast<Eigen::Index>(pairs.size()), d);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    for (std::size_t i = 0; i < pairs[p].sv.size(); ++i)
      w.row(p) += pairs[p].coef[i] * sv.row(pairs[p].sv[i]);
    pairs[p].sv.clear();
    pairs[p].coef.clear();
  }
  sv.resize(0, d);
}

void SvmModel::decision_values(const double* z, double* dec) const {
  if (w.rows()) {
    Eigen::Map<const VectorXd> zv(z, w.cols());
    Eigen::Map<VectorXd> out(dec, w.rows());
    out.noalias() = w * zv;
    for (std::size_t p = 0; p < pairs.size(); ++p) dec[p] -= pairs[p].rho;
    return;
  }
  const Eigen::Index d = sv.cols();
  Eigen::Map<const VectorXd> zv(z, d);
  VectorXd kv = sv * zv;
  if (kernel == KernelType::rbf) {
    const double zz = zv.squaredNorm();
    for (Eigen::Index s = 0; s < kv.size(); ++s)
      kv[s] = std::exp(-gamma * (zz + sv.row(s).squaredNorm() - 2.0 * kv[s]));
  }
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    double s = 0.0;
    for (std::size_t i = 0; i < pairs[p].sv.size(); ++i) s += pairs[p].coef[i] * kv[pairs[p].sv[i]];
    dec[p] = s - pairs[p].rho;
  }
}

void SvmModel::class_scores(const double* z, double* scores) const {
  std::vector<double> dec(pairs.size());
  decision_values(z, dec.data());
  scores_from_decisions(dec, scores);
}

void SvmModel::scores_from_decisions(const std::vector<double>& dec, double* scores) const {
  const int k = classes;
  if (probability) {
    std::vector<double> r(static_cast<std::size_t>(k) * k, 0.0);
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      double v = dec[p] * pairs[p].prob_A + pairs[p].prob_B;
      double pa = v >= 0 ? std::exp(-v) / (1.0 + std::exp(-v)) : 1.0 / (1.0 + std::exp(v));
      pa = std::min(std::max(pa, 1e-7), 1.0 - 1e-7);
      r[pairs[p].a * k + pairs[p].b] = pa;
      r[pairs[p].b * k + pairs[p].a] = 1.0 - pa;
    }
    couple_pairwise(r, k, scores);
    return;
  }
  std::vector<int> votes;
  vote(dec, k, votes);
  for (int c = 0; c < k; ++c) scores[c] = k > 1 ? double(votes[c]) / double(k - 1) : 1.0;
}

double svm_memory_bytes(const SvmOptions& opt, std::size_t rows, std::size_t dim, int classes) {
  const double n = double(rows), d = double(dim);
  // The n x n Gram matrix (and the rbf kernel beside it), LIBSVM's
  // precomputed-kernel rows of a pair problem (16 bytes per entry; about
  // 2 n/k rows per pair) per thread, and the support vectors the model keeps
  // (at most all rows).
  const double m = 2.0 * n / std::max(classes, 2);
  return 8.0 * n * n * (opt.kernel == KernelType::rbf ? 2 : 1) + 2 * 16.0 * m * m + 8.0 * n * d;
}

namespace {

// The rows grouped by class (stable: each class keeps its order, so every pair
// problem and every CV fold is unchanged): each pair's kernel block is then
// contiguous in memory, and gathering it cache-friendly.
void sort_by_class(const MatrixXd& Z, const std::vector<int>& y, MatrixXd& Zs,
                   std::vector<int>& ys) {
  const int n = static_cast<int>(Z.rows());
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return y[a] < y[b]; });
  Zs.resize(n, Z.cols());
  ys.resize(n);
  for (int i = 0; i < n; ++i) Zs.row(i) = Z.row(order[i]), ys[i] = y[order[i]];
}

// The kernel matrix for `gamma`: rbf's is made in `storage`; linear's is G itself.
const MatrixXd& kernel_matrix(const MatrixXd& G, KernelType kernel, double gamma,
                              MatrixXd& storage) {
  if (kernel != KernelType::rbf) return G;
  storage = kernel_from_gram(G, kernel, gamma);
  return storage;
}

// How many rows the pairs trained on the other folds classify right.
int cv_correct(const MatrixXd& K, const std::vector<int>& y, int k, const std::vector<int>& fold,
               int folds, double C, bool balanced, const PairSetup& setup) {
  const int n = static_cast<int>(y.size());
  int correct = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<int> train, test;
    for (int i = 0; i < n; ++i) (fold[i] == f ? test : train).push_back(i);
    const auto fits = train_pairs(K, y, train, k, C, balanced, setup);
    std::vector<int> hits(test.size(), 0);
#pragma omp parallel for schedule(static)
    for (std::size_t t = 0; t < test.size(); ++t) {
      std::vector<double> dec;
      std::vector<int> votes;
      const int r = test[t];
      decisions(
          fits, [&](int s) { return K(r, s); }, dec);
      hits[t] = vote(dec, k, votes) == y[r];
    }
    for (int h : hits) correct += h;
  }
  return correct;
}

// --cv: the cross-validated grid over C (and gamma for rbf, around gamma0);
// sets C and gamma to the best point (ties: the first) and records the grid.
void search_grid(const MatrixXd& G, const std::vector<int>& y, int k, const SvmOptions& opt,
                 double gamma0, PairSetup setup, double& C, double& gamma, SvmReport& rep) {
  const int n = static_cast<int>(y.size());
  if (opt.cv_folds > n)
    throw UsageError(cat("--cv ", opt.cv_folds, ": more folds than the ", n, " training rows"));
  std::vector<double> gammas{gamma0};
  if (opt.kernel == KernelType::rbf) {
    gammas = opt.gamma_grid;
    if (gammas.empty())
      for (double f : {0.25, 0.5, 1.0, 2.0, 4.0}) gammas.push_back(f * gamma0);
  }
  const std::vector<int> fold = stratified_folds(y, k, opt.cv_folds, opt.seed);
  double best_acc = -1;
  for (double g : gammas) {
    MatrixXd storage;
    const MatrixXd& K = kernel_matrix(G, opt.kernel, g, storage);
    setup.gamma = g;
    for (double c : opt.c_grid) {
      if (!(c > 0)) throw UsageError(cat("--c-grid: C must be positive (got ", c, ")"));
      const double acc =
          double(cv_correct(K, y, k, fold, opt.cv_folds, c, opt.balanced, setup)) / double(n);
      rep.grid.push_back({c, g, acc});
      if (opt.kernel == KernelType::rbf)
        log::info(cat("cv ", opt.cv_folds, "-fold: C ", c, " gamma ", g, ": accuracy ", 100.0 * acc,
                      " %"));
      else
        log::info(cat("cv ", opt.cv_folds, "-fold: C ", c, ": accuracy ", 100.0 * acc, " %"));
      if (acc > best_acc) best_acc = acc, C = c, gamma = g;  // ties: first (smaller C)
    }
  }
  log::info(cat("cv: best C ", C,
                opt.kernel == KernelType::rbf ? cat(" gamma ", gamma) : std::string(),
                ": accuracy ", 100.0 * best_acc, " %"));
}

// The model of the trained pairs: each support vector stored once (in row
// order), the pairs pointing at them.
SvmModel compact_model(const std::vector<PairFit>& fits, const MatrixXd& Z, int k,
                       KernelType kernel, double gamma) {
  const int n = static_cast<int>(Z.rows());
  SvmModel model;
  model.kernel = kernel;
  model.gamma = kernel == KernelType::rbf ? gamma : 0.0;
  model.classes = k;
  std::vector<int> compact(n, -1), sv_rows;
  for (const auto& fit : fits)
    for (int r : fit.rows)
      if (compact[r] < 0) compact[r] = 0;
  for (int i = 0; i < n; ++i)
    if (compact[i] == 0) compact[i] = static_cast<int>(sv_rows.size()), sv_rows.push_back(i);
  model.sv.resize(sv_rows.size(), Z.cols());
  for (std::size_t s = 0; s < sv_rows.size(); ++s) model.sv.row(s) = Z.row(sv_rows[s]);
  std::size_t p = 0;
  for (int a = 0; a < k; ++a)
    for (int b = a + 1; b < k; ++b, ++p) {
      SvmPair pair;
      pair.a = a, pair.b = b, pair.rho = fits[p].rho, pair.coef = fits[p].coef;
      for (int r : fits[p].rows) pair.sv.push_back(compact[r]);
      model.pairs.push_back(std::move(pair));
    }
  return model;
}

// --probability: per pair, decision values from an internal 5-fold CV (the
// shared seeded stratified shuffle, its folds dealt afresh in each class; the
// held-out rows in shuffled order), then Platt's sigmoid on them, as LIBSVM's
// -b 1 does.
void fit_probabilities(SvmModel& model, const MatrixXd& K, const std::vector<int>& y, int k,
                       double C, const SvmOptions& opt, const PairSetup& setup) {
  const int n = static_cast<int>(y.size());
  const int folds = 5;
  const std::vector<std::vector<int>> by_class =
      shuffled_by_class(y, k, opt.seed ^ 0x9e3779b97f4a7c15ULL);
  const std::vector<int> fold = deal_folds(by_class, y.size(), folds, FoldDeal::per_class);
  std::vector<int> all(n);
  for (int i = 0; i < n; ++i) all[i] = i;
  const std::vector<double> w = class_weights(y, all, k, opt.balanced);
  svm_set_print_string_function(&silent_print);
  std::string error;
#pragma omp parallel for schedule(dynamic)
  for (std::size_t q = 0; q < model.pairs.size(); ++q) {
    try {
      SvmPair& pair = model.pairs[q];
      const auto& A = by_class[pair.a];
      const auto& B = by_class[pair.b];
      std::vector<double> dec;
      std::vector<int> lab;
      for (int f = 0; f < folds; ++f) {
        std::vector<int> ta, tb, test;
        for (int i : A) (fold[i] == f ? test : ta).push_back(i);
        for (int i : B) (fold[i] == f ? test : tb).push_back(i);
        if (test.empty()) continue;
        std::sort(ta.begin(), ta.end());
        std::sort(tb.begin(), tb.end());
        PairFit fit = train_pair(K, ta, tb, C * w[pair.a], C * w[pair.b], setup);
        for (int r : test) {
          double s = 0;
          for (std::size_t i = 0; i < fit.rows.size(); ++i) s += fit.coef[i] * K(r, fit.rows[i]);
          dec.push_back(s - fit.rho);
          lab.push_back(y[r] == pair.a ? +1 : -1);
        }
      }
      fit_sigmoid(dec, lab, pair.prob_A, pair.prob_B);
    } catch (const std::exception& e) {
#pragma omp critical
      error = e.what();
    }
  }
  if (!error.empty()) throw Error(error);
  model.probability = true;
}

}  // namespace

SvmModel train_svm(const MatrixXd& Z, const std::vector<int>& y, int k, const SvmOptions& opt,
                   SvmReport* report) {
  const int n = static_cast<int>(Z.rows());
  if (k < 2) throw Error("svm: training needs at least 2 classes");
  if (!std::is_sorted(y.begin(), y.end())) {
    MatrixXd Zs;
    std::vector<int> ys;
    sort_by_class(Z, y, Zs, ys);
    return train_svm(Zs, ys, k, opt, report);
  }
  if (!(opt.C > 0)) throw UsageError(cat("-c must be positive (got ", opt.C, ")"));
  auto t0 = std::chrono::steady_clock::now();
  const MatrixXd G = gram_matrix(Z);
  log::detail(cat("svm: Gram matrix ", n, " x ", n, " in ",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                  " s"));
  const double gamma0 = opt.gamma > 0 ? opt.gamma : default_gamma(Z);
  double C = opt.C, gamma = gamma0;
  PairSetup setup{opt.kernel, gamma0, opt.eps, opt.cache_mb};
  SvmReport rep;
  if (opt.cv_folds > 1) search_grid(G, y, k, opt, gamma0, setup, C, gamma, rep);

  setup.gamma = gamma;
  MatrixXd storage;
  const MatrixXd& K = kernel_matrix(G, opt.kernel, gamma, storage);
  std::vector<int> all(n);
  for (int i = 0; i < n; ++i) all[i] = i;
  t0 = std::chrono::steady_clock::now();
  const auto fits = train_pairs(K, y, all, k, C, opt.balanced, setup);
  log::detail(cat("svm: ", k * (k - 1) / 2, " pairs trained in ",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                  " s"));

  SvmModel model = compact_model(fits, Z, k, opt.kernel, gamma);
  const std::size_t support_vectors = static_cast<std::size_t>(model.sv.rows());
  if (opt.probability) fit_probabilities(model, K, y, k, C, opt, setup);
  // Few classes, linear: k(k-1)/2 weight vectors are smaller and faster.
  std::size_t coefs = 0;
  for (const auto& pair : model.pairs) coefs += pair.sv.size();
  if (opt.kernel == KernelType::linear &&
      double(model.pairs.size()) * double(Z.cols()) <
          double(support_vectors) * double(Z.cols()) + double(coefs))
    model.collapse_linear();
  rep.C = C;
  rep.gamma = model.gamma;
  rep.support_vectors = support_vectors;
  if (report) *report = rep;
  return model;
}

}  // namespace fg
