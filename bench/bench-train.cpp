// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Training speed of fg's classifiers on a seeded synthetic problem, beside
// LIBSVM's own svm-train on the same data exported as LIBSVM text.
//
// Data: `classes` unit-length class means in `dim` dimensions; each row is
// its class mean plus Gaussian noise, L2-normalised (like pooled CNN features).
//   bench-train [n=6000] [dim=512] [classes=200] [noise=4] [--no-libsvm] [--save DIR]
// --save DIR also writes the data as DIR/train.svm and DIR/test.svm (LIBSVM
// text) for other peers (bench/peer-sklearn.py).
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

fg::FeatureTable synthetic(std::size_t n, std::size_t dim, int classes, double noise,
                           const std::vector<std::vector<double>>& means, unsigned seed) {
  fg::FeatureTable t;
  t.dim = dim;
  for (int c = 0; c < classes; ++c) t.classes.push_back("c" + std::to_string(c));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<float> row(dim);
  const double s = noise / std::sqrt(double(dim));
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % classes);
    double norm = 0;
    std::vector<double> v(dim);
    for (std::size_t j = 0; j < dim; ++j) v[j] = means[c][j] + s * normal(rng), norm += v[j] * v[j];
    norm = std::sqrt(norm);
    for (std::size_t j = 0; j < dim; ++j) row[j] = static_cast<float>(v[j] / norm);
    t.add("r" + std::to_string(i), c, row.data());
  }
  return t;
}

double accuracy(const fg::Classifier& m, const fg::FeatureTable& t) {
  std::size_t ok = 0;
#pragma omp parallel for reduction(+ : ok)
  for (std::size_t i = 0; i < t.rows(); ++i) ok += m.predict_row(t.row(i), 1)[0].cls == t.labels[i];
  return 100.0 * double(ok) / double(t.rows());
}

void export_libsvm(const fg::FeatureTable& t, const std::string& path) {
  std::ofstream out(path);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    out << t.labels[i];
    for (std::size_t j = 0; j < t.dim; ++j)
      if (t.row(i)[j] != 0.0f) out << ' ' << j + 1 << ':' << fg::format_float(t.row(i)[j]);
    out << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  bool run_libsvm = true, run_svm = true, run_logreg = true;
  std::string save;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--save" && i + 1 < argc)
      save = argv[++i];
    else if (std::string(argv[i]) == "--no-libsvm")
      run_libsvm = false;
    else if (std::string(argv[i]) == "--no-svm")
      run_svm = false;
    else if (std::string(argv[i]) == "--no-logreg")
      run_logreg = false;
    else
      args.push_back(argv[i]);
  }
  const std::size_t n = args.size() > 0 ? std::stoul(args[0]) : 6000;
  const std::size_t dim = args.size() > 1 ? std::stoul(args[1]) : 512;
  const int classes = args.size() > 2 ? std::stoi(args[2]) : 200;
  const double noise = args.size() > 3 ? std::stod(args[3]) : 4.0;
  fg::log::set_program("bench-train");
  fg::log::set_level(fg::log::Level::verbose);

  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> means(classes, std::vector<double>(dim));
  for (auto& m : means) {
    double norm = 0;
    for (auto& v : m) v = normal(rng), norm += v * v;
    for (auto& v : m) v /= std::sqrt(norm);
  }
  const fg::FeatureTable train = synthetic(n, dim, classes, noise, means, 1);
  const fg::FeatureTable test = synthetic(n / 3, dim, classes, noise, means, 2);
  std::printf("bench-train: n=%zu dim=%zu classes=%d noise=%g, %d threads\n", n, dim, classes,
              noise, omp_get_max_threads());

  if (!save.empty()) {
    std::filesystem::create_directories(save);
    export_libsvm(train, save + "/train.svm");
    export_libsvm(test, save + "/test.svm");
  }

  double svm_secs = 0;
  if (run_svm) {
    fg::TrainOptions svm;
    double t0;
    svm.type = fg::ClassifierType::svm;
    svm.scale = fg::ScaleKind::none;
    svm.svm.C = 1.0;
    t0 = now();
    const fg::Classifier svm_model = fg::Classifier::train(train, svm, "synthetic");
    svm_secs = now() - t0;
    std::printf("fg svm linear C=1 train      %7.2f s   test accuracy %.2f %%  (%s)\n", svm_secs,
                accuracy(svm_model, test), svm_model.info().c_str());
  }
  if (run_logreg) {
    fg::TrainOptions lr;
    lr.type = fg::ClassifierType::logreg;
    lr.scale = fg::ScaleKind::none;
    lr.logreg.C = 10.0;
    double t0 = now();
    const fg::Classifier lr_model = fg::Classifier::train(train, lr, "synthetic");
    const double lr_secs = now() - t0;
    std::printf("fg logreg C=10 train         %7.2f s   test accuracy %.2f %%  (%s)\n", lr_secs,
                accuracy(lr_model, test), lr_model.info().c_str());
  }

  if (run_libsvm) {
    const auto dir = std::filesystem::temp_directory_path() / "fg-bench-train";
    std::filesystem::create_directories(dir);
    const std::string tr = (dir / "train.svm").string(), te = (dir / "test.svm").string();
    export_libsvm(train, tr);
    export_libsvm(test, te);
    double t0 = now();
    const std::string cmd = "svm-train -q -t 0 -c 1 " + tr + " " + tr + ".model";
    const int rc = std::system(cmd.c_str());
    const double libsvm_secs = now() - t0;
    std::printf("LIBSVM svm-train -t 0 -c 1   %7.2f s   (exit %d)\n", libsvm_secs, rc);
    const std::string pred = "svm-predict " + te + " " + tr + ".model " + (dir / "pred").string();
    std::fflush(stdout);
    if (std::system(pred.c_str()) != 0) std::printf("svm-predict failed\n");
    if (run_svm) std::printf("fg svm / svm-train time: %.3f\n", svm_secs / libsvm_secs);
    std::filesystem::remove_all(dir);
  }
  return 0;
}
