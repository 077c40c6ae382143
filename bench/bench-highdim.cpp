// Writes a seeded synthetic train/test pair of feature tables at bilinear
// pooling's size (dim >> rows) for measuring the chain's stages there
// (bench/run.sh times fg-train, fg-predict, fg-convert, fg-mic, fg-pca on them).
//
// Data: `classes` random class means in `dim` dimensions, each row its class
// mean plus Gaussian noise, L2-normalised; written record by record, so the
// generator itself holds one row.
//   bench-highdim <out-dir> [train rows=3000] [dim=131328] [classes=100] [test rows=1000] [noise=3]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "finegrain/core/common.hpp"
#include "finegrain/data/table.hpp"

namespace {

void write_split(const std::string& path, std::size_t n, std::size_t dim, int classes, double noise,
                 unsigned seed) {
  fg::TableHeader header;
  header.dim = dim;
  for (int c = 0; c < classes; ++c) header.classes.push_back("c" + std::to_string(c));
  header.rows = n;
  header.provenance =
      fg::cat("generator=bench-highdim\ndim=", dim, "\nclasses=", classes, "\nnoise=", noise, "\n");
  fg::TableWriter writer(path, header);
  // Class means from a fixed seed (the same in both splits); noise from `seed`.
  std::mt19937_64 mean_rng(12345), rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> means(std::size_t(classes) * dim), row(dim);
  for (auto& v : means) v = normal(mean_rng);
  const float s = float(noise);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % classes);
    double norm = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      row[j] = means[std::size_t(c) * dim + j] + s * normal(rng);
      norm += double(row[j]) * row[j];
    }
    const float inv = float(1.0 / std::sqrt(norm));
    for (auto& v : row) v *= inv;
    writer.write(fg::cat("r", i), c, row.data());
  }
  writer.commit();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: bench-highdim <out-dir> [train rows] [dim] [classes] [test rows] [noise]\n");
    return 2;
  }
  const std::string out = argv[1];
  const std::size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 3000;
  const std::size_t dim = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 131328;
  const int classes = argc > 4 ? std::atoi(argv[4]) : 100;
  const std::size_t test = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1000;
  const double noise = argc > 6 ? std::atof(argv[6]) : 3.0;
  try {
    write_split(out + "/train.fgt", n, dim, classes, noise, 1);
    write_split(out + "/test.fgt", test, dim, classes, noise, 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-highdim: error: %s\n", e.what());
    return 1;
  }
  std::printf("wrote %s/train.fgt (%zu x %zu) and test.fgt (%zu x %zu), %d classes\n", out.c_str(),
              n, dim, test, dim, classes);
  return 0;
}
