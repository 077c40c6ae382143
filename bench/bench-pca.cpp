// bench-pca: PCA fit on n x D synthetic data with a decaying spectrum, K
// components; prints seconds per method and how far each is from the most
// exact method run (largest component difference, variance error).
//
//   bench-pca [n=6000] [D=4096] [K=256] [methods=randomized,cov] [threads=0]
//             [--save FILE] [--load FILE]
// A method may be given as randomized/Q or randomized/Q/P: fg-pca's
// --power-iterations Q and --oversample P.
// --save writes the generated rows (raw float32, row-major) for a peer
// (bench/peer-sklearn.py) and exits; --load fits on such a file instead of
// generating, so both fit the very same numbers. Each fit's line starts
// with "fg-pca <method> <seconds> s", which bench/run.sh reads.
#include <omp.h>

#include <Eigen/Dense>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/reduce/pca.hpp"

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
    for (std::size_t j = 0; j < dim; ++j)
      rows[i * dim + j] = x(i, j) + 0.05f * normal(rng) + 0.01f * (j % 7);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  std::string save, load;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--save" || a == "--load") && i + 1 < argc)
      (a == "--save" ? save : load) = argv[++i];
    else
      args.push_back(a);
  }
  const std::size_t n = args.size() > 0 ? std::stoul(args[0]) : 6000;
  const std::size_t dim = args.size() > 1 ? std::stoul(args[1]) : 4096;
  const std::size_t k = args.size() > 2 ? std::stoul(args[2]) : 256;
  const std::string methods = args.size() > 3 ? args[3] : "randomized,cov";
  const int threads = args.size() > 4 ? std::stoi(args[4]) : 0;
  if (threads > 0) omp_set_num_threads(threads);
  if (std::getenv("FG_VERBOSE")) fg::log::set_level(fg::log::Level::verbose);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> rows;
  if (load.empty()) {
    rows = synthetic(n, dim, 1);
  } else {
    rows.resize(n * dim);
    std::ifstream in(load, std::ios::binary);
    in.read(reinterpret_cast<char*>(rows.data()),
            static_cast<std::streamsize>(rows.size() * sizeof(float)));
    if (!in) {
      std::fprintf(stderr, "bench-pca: %s: cannot read %zu x %zu floats\n", load.c_str(), n, dim);
      return 1;
    }
  }
  if (!save.empty()) {
    std::ofstream out(save, std::ios::binary);
    out.write(reinterpret_cast<const char*>(rows.data()),
              static_cast<std::streamsize>(rows.size() * sizeof(float)));
    return out ? 0 : 1;
  }
  double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("bench-pca: n=%zu D=%zu K=%zu threads=%d (data %s in %.2f s)\n", n, dim, k,
              omp_get_max_threads(), load.empty() ? "generated" : "read", gen);

  std::vector<fg::PcaModel> models;
  std::vector<std::string> names;
  for (std::string method : fg::split_list(methods)) {
    fg::PcaFitOptions options;
    options.dim = k;
    // "randomized/Q/P": --power-iterations Q, --oversample P
    const std::vector<std::string> parts = fg::split_list(method, '/');
    method = parts[0];
    if (parts.size() > 1) options.power_iterations = std::stoi(parts[1]);
    if (parts.size() > 2) options.oversample = std::stoul(parts[2]);
    options.method = method;
    fg::PcaFitReport report;
    const std::clock_t cpu0 = std::clock();
    fg::PcaModel model = fg::PcaModel::fit(rows.data(), n, dim, options, &report);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    std::printf("fg-pca %s %.3f s (CPU %.2f s) explained %.5f", fg::pca_method_name(report.method),
                report.seconds, cpu, model.explained_ratio());
    if (parts.size() > 1)
      std::printf(" (Q %s%s%s)", parts[1].c_str(), parts.size() > 2 ? ", P " : "",
                  parts.size() > 2 ? parts[2].c_str() : "");
    if (!models.empty()) {
      // Against the first method run, over the leading K/4, K/2 and all K components.
      const fg::PcaModel& ref = models.front();
      std::printf("\n              vs %s:", names.front().c_str());
      for (std::size_t lead : {k / 4, k / 2, k}) {
        double comp = 0, var = 0;
        for (std::size_t i = 0; i < lead * dim; ++i)
          comp = std::max(comp, std::fabs(model.components()[i] - ref.components()[i]));
        for (std::size_t c = 0; c < lead; ++c)
          var = std::max(var,
                         std::fabs(model.variances()[c] - ref.variances()[c]) / ref.variances()[c]);
        std::printf("  first %zu: max |component diff| %.1e, variance rel. diff %.1e;", lead, comp,
                    var);
      }
    }
    std::printf("\n");
    std::fflush(stdout);
    models.push_back(std::move(model));
    names.push_back(fg::pca_method_name(report.method));
  }
  return 0;
}
