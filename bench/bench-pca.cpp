// bench-pca: PCA fit on n x D synthetic data with a decaying spectrum, K
// components; prints seconds per method and how far each is from the most
// exact method run (largest component difference, variance error).
//
//   bench-pca [n=6000] [D=4096] [K=256] [methods=randomized,cov] [threads=0]
#include <omp.h>

#include <Eigen/Dense>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/reduce/pca.hpp"
#include "finegrain/core/text.hpp"

namespace {

// Rows = latent (r = 512 factors with standard deviations 10 / (k+1)^0.8)
// times a Gaussian loading matrix, plus isotropic noise 0.05; seeded.
std::vector<float> synthetic(std::size_t n, std::size_t dim, unsigned seed) {
  const std::size_t r = std::min<std::size_t>(512, dim);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Eigen::MatrixXf z(n, r), h(r, dim);
  for (std::size_t k = 0; k < r; ++k) {
    const float s = 10.0f / std::pow(static_cast<float>(k + 1), 0.8f);
    for (std::size_t i = 0; i < n; ++i) z(i, k) = s * normal(rng);
  }
  for (std::size_t j = 0; j < dim; ++j)
    for (std::size_t k = 0; k < r; ++k) h(k, j) = normal(rng) / std::sqrt(static_cast<float>(dim));
  Eigen::MatrixXf x = z * h;
  std::vector<float> rows(n * dim);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < dim; ++j) rows[i * dim + j] = x(i, j) + 0.05f * normal(rng) + 0.01f * (j % 7);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 6000;
  const std::size_t dim = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 4096;
  const std::size_t k = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 256;
  const std::string methods = argc > 4 ? argv[4] : "randomized,cov";
  const int threads = argc > 5 ? std::atoi(argv[5]) : 0;
  if (threads > 0) omp_set_num_threads(threads);
  if (std::getenv("FG_VERBOSE")) fg::log::set_level(fg::log::Level::verbose);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> rows = synthetic(n, dim, 1);
  double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("bench-pca: n=%zu D=%zu K=%zu threads=%d (data generated in %.2f s)\n", n, dim, k,
              omp_get_max_threads(), gen);

  std::vector<fg::PcaModel> models;
  std::vector<std::string> names;
  for (const std::string& method : fg::split_list(methods)) {
    fg::PcaFitOptions options;
    options.dim = k;
    options.method = method;
    fg::PcaFitReport report;
    const std::clock_t cpu0 = std::clock();
    fg::PcaModel model = fg::PcaModel::fit(rows.data(), n, dim, options, &report);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    std::printf("  %-11s %8.2f s (CPU %.2f s)   explained %.5f", fg::pca_method_name(report.method), report.seconds,
                cpu, model.explained_ratio());
    if (!models.empty()) {
      // Against the first method run, over the leading K/4, K/2 and all K components.
      const fg::PcaModel& ref = models.front();
      std::printf("\n              vs %s:", names.front().c_str());
      for (std::size_t lead : {k / 4, k / 2, k}) {
        double comp = 0, var = 0;
        for (std::size_t i = 0; i < lead * dim; ++i)
          comp = std::max(comp, std::fabs(model.components()[i] - ref.components()[i]));
        for (std::size_t c = 0; c < lead; ++c)
          var = std::max(var, std::fabs(model.variances()[c] - ref.variances()[c]) / ref.variances()[c]);
        std::printf("  first %zu: max |component diff| %.1e, variance rel. diff %.1e;", lead, comp, var);
      }
    }
    std::printf("\n");
    std::fflush(stdout);
    models.push_back(std::move(model));
    names.push_back(fg::pca_method_name(report.method));
  }
  return 0;
}
