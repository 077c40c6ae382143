// bench-mic: times MIC feature selection against a class label on seeded
// data of the size (6,000 samples x 4,096 features, 200 classes,
// alpha 0.6, c 15), for --target ordinal (minepy's values) and classes, and
// checks on a subset that the fast scorer equals the plain pair-by-pair path.
#include <omp.h>

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <random>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/cpu.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/mic.hpp"

using namespace fg;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Features like pooled CNN activations: a class-dependent mean of random
// strength plus noise, rectified (many exact zeros = ties) for a quarter.
FeatureTable make_data(std::size_t n, std::size_t dim, int classes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  FeatureTable t;
  t.dim = dim;
  for (int c = 0; c < classes; ++c) t.classes.push_back(cat("class", c));
  std::vector<double> strength(dim);
  for (double& s : strength) s = uniform(rng) * uniform(rng);
  std::vector<float> means(static_cast<std::size_t>(classes) * dim);
  for (float& m : means) m = static_cast<float>(normal(rng));
  std::vector<int> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<int>(i % classes);
  std::shuffle(labels.begin(), labels.end(), rng);
  t.keys.reserve(n);
  t.labels.reserve(n);
  t.values.reserve(n * dim);
  std::vector<float> row(dim);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < dim; ++j) {
      double v = strength[j] * means[labels[i] * dim + j] + normal(rng);
      if (j % 4 == 3) v = std::max(0.0, v);
      row[j] = static_cast<float>(v);
    }
    t.add(cat("s", i), labels[i], row.data());
  }
  return t;
}

// CPU seconds of this process (all threads): with other jobs on the machine,
// wall time overstates the cost; CPU time / threads is what idle cores take.
double cpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double load_average() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Usage usage{
      "bench-mic",
      "time MIC selection against a 200-class label (ordinal = minepy's values, and class-aware)",
      "bench-mic [options]",
      "bench-mic --threads 2",
      "fg-mic",
      "Prints seconds and features/s per target, and the largest difference between the fast\n"
      "scorer and the plain pair-by-pair path on the first --check features."};
  cli::po::options_description options("Options");
  options.add_options()("samples", cli::po::value<std::size_t>()->default_value(6000), "rows")(
      "features", cli::po::value<std::size_t>()->default_value(4096), "columns")(
      "classes", cli::po::value<int>()->default_value(200), "classes")(
      "alpha", cli::po::value<double>()->default_value(0.6), "MIC alpha")(
      "c", cli::po::value<double>()->default_value(15), "MIC c")(
      "check", cli::po::value<std::size_t>()->default_value(8),
      "features also scored by the plain pair-by-pair path")(
      "targets", cli::po::value<std::string>()->default_value("classes,ordinal"),
      "targets to time")("seed", cli::po::value<std::uint64_t>()->default_value(1), "data seed")(
      "write", cli::po::value<std::string>()->default_value(""),
      "also write the generated table here (to time `fg-mic fit` on it)");
  cli::add_threads_option(options);
  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 0, 0);
        cli::apply_threads(vm);
        const std::size_t n = vm["samples"].as<std::size_t>(),
                          dim = vm["features"].as<std::size_t>();
        const int classes = vm["classes"].as<int>();
        mic::Params params;
        params.alpha = vm["alpha"].as<double>();
        params.c = vm["c"].as<double>();
        mic::check_params(params);
        double t0 = now();
        const FeatureTable table = make_data(n, dim, classes, vm["seed"].as<std::uint64_t>());
        std::cout << "data: " << n << " samples x " << dim << " features, " << classes
                  << " classes, alpha " << params.alpha << ", c " << params.c << ", "
                  << omp_get_max_threads() << " threads, kernels " << isa_name(kernel_isa())
                  << " (FG_ISA=avx2 forces AVX2; this CPU: " << isa_name(cpu_features().best())
                  << ") (generated in " << now() - t0 << " s)\n";
        if (const std::string path = vm["write"].as<std::string>(); !path.empty()) {
          write_table(path, table);
          std::cout << "wrote " << path << "\n";
        }
        const std::size_t check = std::min(vm["check"].as<std::size_t>(), dim);
        for (const std::string& name : fg::split_list(vm["targets"].as<std::string>())) {
          const mic::Target target = mic::parse_target(name);
          t0 = now();
          const double c0 = cpu(), load0 = load_average();
          const std::vector<double> scores = mic::score_features(table, params, target);
          const double seconds = now() - t0, cpu_seconds = cpu() - c0;
          std::cout << "target " << name << ": " << seconds << " s wall for " << dim
                    << " features, " << dim / seconds << " features/s; " << cpu_seconds
                    << " CPU s (" << 1000 * cpu_seconds / dim << " ms per feature; load average "
                    << load0 << " -> " << load_average() << ")\n";
          if (check == 0) continue;
          // The plain path: one independent pair computation per feature.
          double diff = 0;
          t0 = now();
          std::vector<double> x(n);
          for (std::size_t j = 0; j < check; ++j) {
            for (std::size_t i = 0; i < n; ++i) x[i] = table.row(i)[j];
            double s;
            if (target == mic::Target::ordinal) {
              std::vector<double> y(table.labels.begin(), table.labels.end());
              s = mic::pair_statistics(x.data(), y.data(), n, params).mic;
            } else {
              s = mic::class_aware_mic(x.data(), table.labels.data(), n, params);
            }
            diff = std::max(diff, std::fabs(s - scores[j]));
          }
          const double pair_seconds = (now() - t0) / check;
          std::cout << "  pair-by-pair path: " << pair_seconds << " s per feature (1 thread), "
                    << "projected " << pair_seconds * dim << " s for all; largest |difference| on "
                    << check << " features: " << diff << "\n";
        }
        return 0;
      });
}
