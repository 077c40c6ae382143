// extract_files: every batch size the same rows, in order; skips; errors stop it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <sched.h>

#include <opencv2/core.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/pipeline.hpp"
#include "test_util.hpp"

using namespace fg;
namespace fs = std::filesystem;

TEST_CASE("pipeline: gives every batch size the same rows, in order, and reports skips") {
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(test_assets() + "/data/flowers12/test/sunflower"))
    paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  paths.resize(19);
  TempDir tmp;
  const std::string damaged = tmp.file("damaged.jpg");
  std::ofstream(damaged, std::ios::binary) << "\xFF\xD8\xFF not really a JPEG";
  paths.insert(paths.begin() + 7, damaged);  // 20 files, the 8th unreadable
  ExtractOptions raw;                        // the fire9 map pooled, not normalised
  raw.model = spec_file("squeezenet1_1_imagenet_notop");
  raw.layers = {"fire9"};
  raw.norm = Norm::none;
  Extractor ex(raw);
  std::vector<std::size_t> todo(paths.size());
  std::iota(todo.begin(), todo.end(), 0);
  std::vector<std::vector<float>> reference;
  for (std::size_t batch : {1, 3, 8, 32}) {
    CAPTURE(batch);
    std::vector<std::vector<float>> rows, between;
    std::vector<std::size_t> order, skipped, between_order, between_skipped;
    const PipelineStats st = extract_files(
        ex, paths, todo, batch,
        [&](std::size_t i, const float* row) {
          order.push_back(i);
          rows.emplace_back(row, row + ex.dim());
        },
        [&](std::size_t i, const std::string&) { skipped.push_back(i); }, {}, OnCorrupt::warn,
        Decoding::beside_forwards);
    // Decoding between the forwards gives the same bits: the same batches
    // go through the same network.
    const PipelineStats st2 = extract_files(
        ex, paths, todo, batch,
        [&](std::size_t i, const float* row) {
          between_order.push_back(i);
          between.emplace_back(row, row + ex.dim());
        },
        [&](std::size_t i, const std::string&) { between_skipped.push_back(i); }, {},
        OnCorrupt::warn, Decoding::between_forwards);
    CHECK(between == rows);
    CHECK(between_order == order);
    CHECK(between_skipped == skipped);
    CHECK(st2.images == st.images);
    CHECK(st2.skipped == st.skipped);
    CHECK(st.images == 19);
    CHECK(st.skipped == 1);
    CHECK(skipped == std::vector<std::size_t>{7});
    std::vector<std::size_t> want(20);
    std::iota(want.begin(), want.end(), 0);
    want.erase(want.begin() + 7);
    CHECK(order == want);
    if (reference.empty()) reference = rows;
    REQUIRE(rows.size() == reference.size());
    // A batch of one rounds differently from larger batches: 1.9e-6 of the
    // largest value measured. The Winograd layers are batch-invariant
    // (test_winograd checks them image by image), so this is OpenCV's own
    // layers (SqueezeNet's 1x1 convolutions).
    double worst = 0, scale = 0;
    for (std::size_t r = 0; r < rows.size(); ++r)
      for (std::size_t k = 0; k < rows[r].size(); ++k) {
        worst = std::max(worst, double(std::fabs(rows[r][k] - reference[r][k])));
        scale = std::max(scale, double(std::fabs(reference[r][k])));
      }
    CHECK(worst <= 3e-6 * scale);
  }
  // An error thrown by the consumer stops the producer and propagates.
  for (Decoding d : {Decoding::beside_forwards, Decoding::between_forwards})
    CHECK_THROWS_WITH(extract_files(
                          ex, paths, todo, 1,
                          [](std::size_t i, const float*) {
                            if (i == 3) throw Error("stop here");
                          },
                          [](std::size_t, const std::string&) {}, {}, OnCorrupt::warn, d),
                      "stop here");
}

TEST_CASE("pipeline: decodes between forwards when the network takes every usable CPU") {
  const int threads = cv::getNumThreads();
  cpu_set_t allowed;
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  const int cpus = CPU_COUNT(&allowed);
  CHECK(resolve_decoding(Decoding::beside_forwards) == Decoding::beside_forwards);
  CHECK(resolve_decoding(Decoding::between_forwards) == Decoding::between_forwards);
  cv::setNumThreads(cpus);
  CHECK(resolve_decoding(Decoding::automatic) == Decoding::between_forwards);
  if (cpus > 1) {  // a core left free: a producer thread beside the network
    cv::setNumThreads(cpus - 1);
    CHECK(resolve_decoding(Decoding::automatic) == Decoding::beside_forwards);
  }
  cv::setNumThreads(threads);
}
