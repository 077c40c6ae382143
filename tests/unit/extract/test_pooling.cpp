// Pooling checked against independent computations.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/pooling.hpp"
#include "test_util.hpp"

using namespace fg;
namespace fs = std::filesystem;

TEST_CASE("pooling: avg, max, avgmax, gem against direct computations") {
  // 2 channels x 3 x 2.
  const std::vector<float> map = {1, 2, 3, 4, 5, 6, /* ch1 */ 0, 0, 9, 0, 0, 3};
  std::vector<float> out(4);
  PoolOptions o;
  o.pooling = Pooling::avg;
  pool(map.data(), 2, 3, 2, o, out.data());
  CHECK(out[0] == doctest::Approx(3.5));
  CHECK(out[1] == doctest::Approx(2.0));
  o.pooling = Pooling::max;
  pool(map.data(), 2, 3, 2, o, out.data());
  CHECK(out[0] == 6);
  CHECK(out[1] == 9);
  o.pooling = Pooling::avgmax;
  pool(map.data(), 2, 3, 2, o, out.data());
  CHECK(out == std::vector<float>{3.5f, 2.0f, 6.0f, 9.0f});
  o.pooling = Pooling::gem;
  o.gem_p = 3;
  pool(map.data(), 2, 3, 2, o, out.data());
  CHECK(out[0] == doctest::Approx(std::cbrt((1 + 8 + 27 + 64 + 125 + 216) / 6.0)));
  CHECK(out[1] == doctest::Approx(std::cbrt((729 + 27 + 4 * 1e-18) / 6.0)));
  o.gem_p = 1;  // p = 1 is the average
  pool(map.data(), 2, 3, 2, o, out.data());
  CHECK(out[0] == doctest::Approx(3.5));
}

TEST_CASE("pooling: long maps (the unrolled path) against a plain double sum") {
  const std::size_t channels = 3, h = 13, w = 11;  // 143 positions: 35 blocks of 4 and a tail of 3
  std::vector<float> map(channels * h * w);
  cv::RNG rng(7);
  for (float& v : map) v = float(rng.uniform(0.0, 50.0));
  std::vector<float> out(2 * channels);
  PoolOptions o;
  o.pooling = Pooling::avgmax;
  pool(map.data(), channels, int(h), int(w), o, out.data());
  for (std::size_t c = 0; c < channels; ++c) {
    double s = 0;
    float m = 0;
    for (std::size_t i = 0; i < h * w; ++i) {
      s += map[c * h * w + i];
      m = std::max(m, map[c * h * w + i]);
    }
    CHECK(out[c] == doctest::Approx(s / double(h * w)).epsilon(1e-6));
    CHECK(out[channels + c] == m);
  }
}

TEST_CASE("pooling: every kernel ISA gives the same bits, against a four-lane sum in double") {
  // Odd channel counts (the AVX-512 kernel takes two planes at a time), maps
  // with and without a tail of n mod 4 positions, negative values and ties.
  cv::RNG rng(21);
  for (const auto& [channels, h, w] :
       {std::array<int, 3>{7, 13, 11}, {2, 4, 4}, {1, 1, 3}, {5, 14, 14}, {3, 2, 3}}) {
    const std::size_t n = std::size_t(h) * w;
    std::vector<float> map(channels * n);
    for (float& v : map) v = float(rng.uniform(-20.0, 50.0));
    map[0] = map[n - 1];  // a tie for the maximum
    // The definition in pooling.cpp: lane k sums i = k mod 4, the tail to lane 0.
    std::vector<float> expected(2 * channels);
    for (int c = 0; c < channels; ++c) {
      double lanes[4] = {0, 0, 0, 0};
      float m = -std::numeric_limits<float>::infinity();
      for (std::size_t i = 0; i < n; ++i) {
        lanes[i < n / 4 * 4 ? i % 4 : 0] += map[c * n + i];
        m = std::max(m, map[c * n + i]);
      }
      expected[c] = float(((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) / double(n));
      expected[channels + c] = m;
    }
    PoolOptions o;
    o.pooling = Pooling::avgmax;
    for_each_isa([&](Isa isa) {
      INFO("kernels ", std::string(isa_name(isa)), ", ", channels, " x ", h, " x ", w);
      std::vector<float> out(2 * channels, -1);
      pool(map.data(), channels, h, w, o, out.data());
      for (int c = 0; c < 2 * channels; ++c) CHECK(out[c] == expected[c]);
      o.pooling = Pooling::max;
      pool(map.data(), channels, h, w, o, out.data());
      for (int c = 0; c < channels; ++c) CHECK(out[c] == expected[channels + c]);
      o.pooling = Pooling::avgmax;
    });
  }
}

TEST_CASE("pooling: attn keeps the largest region above the mean of the channel sum") {
  // 1 channel, 4 x 5: two blobs above the mean; the larger (3 cells,
  // 8-connected diagonally) wins over the single strong cell.
  const std::vector<float> map = {0, 0, 0, 0, 9,  //
                                  5, 0, 0, 0, 0,  //
                                  0, 5, 0, 0, 0,  //
                                  0, 0, 5, 0, 0};
  const AttentionMap a = attention_map(map.data(), 1, 4, 5);
  CHECK(a.mean == doctest::Approx(24.0 / 20));
  CHECK(a.kept_count == 3);
  CHECK(a.kept[5] == 1);
  CHECK(a.kept[11] == 1);
  CHECK(a.kept[17] == 1);
  CHECK(a.kept[4] == 0);
  PoolOptions o;
  o.pooling = Pooling::attn;
  o.attn_pool = Pooling::avgmax;
  std::vector<float> out(2);
  pool(map.data(), 1, 4, 5, o, out.data());
  CHECK(out[0] == doctest::Approx(5.0));  // avg inside the region
  CHECK(out[1] == doctest::Approx(5.0));  // max inside: the 9 is outside
  // A constant map keeps everything.
  const std::vector<float> flat(6, 2.0f);
  CHECK(attention_map(flat.data(), 1, 2, 3).kept_count == 6);

  // On a real image, pooling in the region equals pooling the selected
  // positions by hand.
  ExtractOptions eo;  // the raw fire9 map, unnormalised
  eo.model = spec_file("squeezenet1_1_imagenet_notop");
  eo.layers = {"fire9"};
  eo.norm = Norm::none;
  Extractor ex(eo);
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  const AttentionMap am = ex.attention(img);
  CHECK(am.height == 13);
  CHECK(am.width == 13);
  CHECK(am.kept_count > 0);
  CHECK(am.kept_count < 169);
}

TEST_CASE("pooling: attn's tie rule: larger sum, then first in row order") {
  // Two regions of 2 cells each (not 8-connected to each other), same size:
  // the one with the larger activation sum wins, wherever it stands.
  const std::vector<float> by_sum = {4, 4, 0, 0, 0,  //
                                     0, 0, 0, 6, 0,  //
                                     0, 0, 0, 6, 0};
  AttentionMap a = attention_map(by_sum.data(), 1, 3, 5);
  CHECK(a.kept_count == 2);
  CHECK(a.kept[8] == 1);
  CHECK(a.kept[13] == 1);
  CHECK(a.kept[0] == 0);
  // Same size and sum: the region whose first cell comes first in row order.
  // The later region starts lower but further left, so a scan by 2x2 blocks
  // would meet it first.
  const std::vector<float> by_order = {0, 0, 0, 5, 5,  //
                                       5, 0, 0, 0, 0,  //
                                       5, 0, 0, 0, 0};
  a = attention_map(by_order.data(), 1, 3, 5);
  CHECK(a.kept_count == 2);
  CHECK(a.kept[3] == 1);
  CHECK(a.kept[4] == 1);
  CHECK(a.kept[5] == 0);
  CHECK(a.kept[10] == 0);
}

namespace {
// The region rule by a plain flood fill, independently of OpenCV: the mask
// of the largest 8-connected region above the mean (ties: larger sum, then
// first in row order), or all 1 when none is above.
std::vector<unsigned char> reference_region(const std::vector<float>& map, int h, int w,
                                            bool& tie) {
  const std::size_t n = map.size();
  double total = 0;
  for (float v : map) total += v;
  const double mean = total / double(n);
  std::vector<int> comp(n, -1);
  std::vector<std::size_t> size, start;
  std::vector<double> sum;
  for (std::size_t s = 0; s < n; ++s) {
    if (!(map[s] > mean) || comp[s] >= 0) continue;
    const int id = int(size.size());
    size.push_back(0);
    sum.push_back(0);
    start.push_back(s);
    std::vector<std::size_t> todo{s};
    comp[s] = id;
    while (!todo.empty()) {
      const std::size_t i = todo.back();
      todo.pop_back();
      ++size[id];
      const int y = int(i) / w, x = int(i) % w;
      for (int yy = std::max(0, y - 1); yy <= std::min(h - 1, y + 1); ++yy)
        for (int xx = std::max(0, x - 1); xx <= std::min(w - 1, x + 1); ++xx) {
          const std::size_t j = std::size_t(yy) * w + xx;
          if (map[j] > mean && comp[j] < 0) {
            comp[j] = id;
            todo.push_back(j);
          }
        }
    }
  }
  // Sums in row order (integer values: exact in any order).
  for (std::size_t i = 0; i < n; ++i)
    if (comp[i] >= 0) sum[comp[i]] += map[i];
  int best = -1;
  for (int id = 0; id < int(size.size()); ++id)
    if (best < 0 || size[id] > size[best] || (size[id] == size[best] && sum[id] > sum[best]))
      best = id;  // ids are in row order of their first cell: the first wins a full tie
  tie = false;
  for (int id = 0; id < int(size.size()); ++id) tie |= id != best && size[id] == size[best];
  std::vector<unsigned char> kept(n, 1);
  if (best >= 0)
    for (std::size_t i = 0; i < n; ++i) kept[i] = comp[i] == best;
  return kept;
}
}  // namespace

TEST_CASE("pooling: attn's region equals a plain flood fill on many small maps") {
  // Small integer values make many equal sizes and sums, so the tie rule is exercised.
  std::uint64_t state = 12345;
  auto next = [&]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return unsigned(state >> 33);
  };
  int ties = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const int h = 1 + int(next() % 9), w = 1 + int(next() % 9);
    std::vector<float> map(std::size_t(h) * w);
    for (float& v : map) v = float(next() % 4 == 0 ? next() % 3 : 0);
    const AttentionMap a = attention_map(map.data(), 1, h, w);
    bool tie = false;
    const std::vector<unsigned char> expected = reference_region(map, h, w, tie);
    REQUIRE(a.kept == expected);
    CHECK(a.kept_count == std::size_t(std::count(expected.begin(), expected.end(), 1)));
    ties += tie;
  }
  CHECK(ties > 100);
}
