// Second-order pooling checked against values computed here: B by loops,
// packing, B^(1/2) squared back, Tensor Sketch from its definition and its
// error bound over many seeds, and the extractor's merge order (views
// averaged before the normalisation).
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <random>

#include <Eigen/Eigenvalues>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/bilinear.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {

std::vector<float> random_map(std::size_t channels, std::size_t n, unsigned seed,
                              bool relu = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> map(channels * n);
  for (float& v : map) v = relu ? std::max(0.0f, normal(rng)) : normal(rng);
  return map;
}

// B(i, j) = (1/k) sum_p a(i, p) b(j, p) over `positions` (all when empty), in double.
std::vector<double> direct_b(const std::vector<float>& a, std::size_t ca,
                             const std::vector<float>& b, std::size_t cb, std::size_t n,
                             std::vector<std::size_t> positions = {}) {
  if (positions.empty())
    for (std::size_t p = 0; p < n; ++p) positions.push_back(p);
  std::vector<double> out(ca * cb, 0.0);
  for (std::size_t i = 0; i < ca; ++i)
    for (std::size_t j = 0; j < cb; ++j) {
      double s = 0;
      for (std::size_t p : positions) s += double(a[i * n + p]) * b[j * n + p];
      out[i * cb + j] = s / double(positions.size());
    }
  return out;
}

double dot(const std::vector<float>& x, const std::vector<float>& y) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += double(x[i]) * y[i];
  return s;
}

double l2_distance(const std::vector<float>& x, const std::vector<float>& y) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  return std::sqrt(s);
}

double max_abs_diff(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::fabs(double(x[i]) - y[i]));
  return worst;
}

}  // namespace

TEST_CASE("bilinear: a small map with known B, packed with sqrt(2) off the diagonal") {
  // 2 channels x 3 positions: B = (1/3) [[1+4+9, 0+2-3], [., 0+1+1]].
  const std::vector<float> map = {1, 2, 3, /* ch1 */ 0, 1, -1};
  std::vector<float> packed(3);
  bilinear_pool(map.data(), 2, 3, nullptr, packed.data());
  CHECK(packed[0] == doctest::Approx(14.0 / 3));
  CHECK(packed[1] == doctest::Approx(-std::sqrt(2.0) / 3));
  CHECK(packed[2] == doctest::Approx(2.0 / 3));
  // Positions 0 and 2 only: B = (1/2) [[1+9, -3], [., 1]].
  const std::vector<std::size_t> kept = {0, 2};
  bilinear_pool(map.data(), 2, 3, &kept, packed.data());
  CHECK(packed[0] == doctest::Approx(5.0));
  CHECK(packed[1] == doctest::Approx(-1.5 * std::sqrt(2.0)));
  CHECK(packed[2] == doctest::Approx(0.5));
  CHECK(packed_dim(512) == 131328);
}

TEST_CASE("bilinear: packed inner products and norms are the Frobenius ones") {
  const std::size_t c = 7, n = 11;
  const auto m1 = random_map(c, n, 1), m2 = random_map(c, n, 2);
  std::vector<float> p1(packed_dim(c)), p2(packed_dim(c));
  bilinear_pool(m1.data(), c, n, nullptr, p1.data());
  bilinear_pool(m2.data(), c, n, nullptr, p2.data());
  const auto b1 = direct_b(m1, c, m1, c, n), b2 = direct_b(m2, c, m2, c, n);
  const double frobenius = std::inner_product(b1.begin(), b1.end(), b2.begin(), 0.0);
  const double norm1 = std::inner_product(b1.begin(), b1.end(), b1.begin(), 0.0);
  CHECK(dot(p1, p2) == doctest::Approx(frobenius).epsilon(1e-5));
  CHECK(dot(p1, p1) == doctest::Approx(norm1).epsilon(1e-5));
  // Unpacking gives B back.
  const MatrixRowF full = unpack_symmetric(p1.data(), c);
  for (std::size_t i = 0; i < c; ++i)
    for (std::size_t j = 0; j < c; ++j)
      CHECK(full(i, j) == doctest::Approx(b1[i * c + j]).epsilon(1e-5));
}

TEST_CASE("bilinear: cross-layer product against loops") {
  const std::size_t ca = 3, cb = 4, n = 5;
  const auto a = random_map(ca, n, 3), b = random_map(cb, n, 4);
  std::vector<float> out(ca * cb);
  bilinear_pool_cross(a.data(), ca, b.data(), cb, n, nullptr, out.data());
  const auto want = direct_b(a, ca, b, cb, n);
  for (std::size_t i = 0; i < out.size(); ++i)
    CHECK(out[i] == doctest::Approx(want[i]).epsilon(1e-5));
  const std::vector<std::size_t> kept = {1, 4};
  bilinear_pool_cross(a.data(), ca, b.data(), cb, n, &kept, out.data());
  const auto want_kept = direct_b(a, ca, b, cb, n, kept);
  for (std::size_t i = 0; i < out.size(); ++i)
    CHECK(out[i] == doctest::Approx(want_kept[i]).epsilon(1e-5));
}

TEST_CASE("bilinear: B^(1/2) squared back is B, by the thin (hw < C) and the eigen route") {
  const std::size_t c = 12;
  for (std::size_t n : {5, 12, 30}) {  // rank-deficient (thin route), square, tall (eigen route)
    CAPTURE(n);
    const auto map = random_map(c, n, unsigned(10 + n), true);
    const auto b = direct_b(map, c, map, c, n);
    std::vector<float> root(packed_dim(c));
    matrix_sqrt_of_factor(
        gather_positions(map.data(), c, n, nullptr, float(1.0 / std::sqrt(double(n)))),
        root.data());
    const MatrixRowF r = unpack_symmetric(root.data(), c);
    const Eigen::MatrixXd r2 = r.cast<double>() * r.cast<double>();
    double scale = 0, worst = 0, asym = 0;
    for (std::size_t i = 0; i < c; ++i)
      for (std::size_t j = 0; j < c; ++j) {
        scale = std::max(scale, std::fabs(b[i * c + j]));
        worst = std::max(worst, std::fabs(r2(Eigen::Index(i), Eigen::Index(j)) - b[i * c + j]));
        asym = std::max(asym, double(std::fabs(r(Eigen::Index(i), Eigen::Index(j)) -
                                               r(Eigen::Index(j), Eigen::Index(i)))));
      }
    CHECK(worst / scale < 1e-4);
    CHECK(asym == 0);
    // B^(1/2) is positive semi-definite: every eigenvalue >= 0 (to rounding).
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(r.cast<double>());
    CHECK(eig.eigenvalues().minCoeff() > -1e-4 * eig.eigenvalues().maxCoeff());
    // The packed route (eigen-decomposition of B itself) agrees.
    std::vector<float> packed(packed_dim(c));
    bilinear_pool(map.data(), c, n, nullptr, packed.data());
    matrix_sqrt_packed(packed.data(), c);
    // (Less closely when B is rank-deficient: B's rounding errors in the zero
    // eigenvalues have square roots of ~3e-4 of the scale — why the thin
    // route works from the map, not from B.)
    CHECK(max_abs_diff(packed, root) < (n < c ? 1e-3 : 1e-4) * std::sqrt(scale));
  }
  // A diagonal B: the root is the element-wise root.
  const std::vector<float> diag_map = {2, 0, /* ch1 */ 0, 3};  // B = diag(2, 4.5)
  std::vector<float> root(3);
  matrix_sqrt_of_factor(gather_positions(diag_map.data(), 2, 2, nullptr, float(1 / std::sqrt(2.0))),
                        root.data());
  CHECK(root[0] == doctest::Approx(std::sqrt(2.0)));
  CHECK(root[1] == doctest::Approx(0.0));
  CHECK(root[2] == doctest::Approx(std::sqrt(4.5)));
}

TEST_CASE("bilinear: signed square root then L2") {
  std::vector<float> v = {4, -9, 0, 1};
  signed_sqrt_l2(v.data(), v.size());
  const double norm = std::sqrt(4 + 9 + 0 + 1.0);
  CHECK(v[0] == doctest::Approx(2 / norm));
  CHECK(v[1] == doctest::Approx(-3 / norm));
  CHECK(v[2] == 0);
  CHECK(v[3] == doctest::Approx(1 / norm));
}

TEST_CASE("compact bilinear: the sketch is its definition (count sketches, circular convolution)") {
  const std::size_t ca = 6, cb = 5, d = 16, n = 40;  // 40 positions: more than one FFT chunk
  const TensorSketch ts(ca, cb, d, 7);
  const auto a = random_map(ca, n, 21), b = random_map(cb, n, 22);
  // Entry (h1(i) + h2(j)) mod D gets s1(i) s2(j) B(i, j).
  const auto bij = direct_b(a, ca, b, cb, n);
  std::vector<double> want(d, 0.0);
  for (std::size_t i = 0; i < ca; ++i)
    for (std::size_t j = 0; j < cb; ++j)
      want[(ts.hash_a()[i] + ts.hash_b()[j]) % d] +=
          ts.sign_a()[i] * ts.sign_b()[j] * bij[i * cb + j];
  for (auto route :
       {TensorSketch::Route::fft, TensorSketch::Route::direct, TensorSketch::Route::automatic}) {
    std::vector<float> got(d);
    ts.pool(a.data(), b.data(), n, nullptr, got.data(), route);
    for (std::size_t k = 0; k < d; ++k)
      CHECK(got[k] == doctest::Approx(want[k]).epsilon(1e-4).scale(1));
    // Over a subset of positions, too.
    const std::vector<std::size_t> kept = {0, 3, 39};
    const auto bk = direct_b(a, ca, b, cb, n, kept);
    std::vector<double> want_kept(d, 0.0);
    for (std::size_t i = 0; i < ca; ++i)
      for (std::size_t j = 0; j < cb; ++j)
        want_kept[(ts.hash_a()[i] + ts.hash_b()[j]) % d] +=
            ts.sign_a()[i] * ts.sign_b()[j] * bk[i * cb + j];
    ts.pool(a.data(), b.data(), n, &kept, got.data(), route);
    for (std::size_t k = 0; k < d; ++k)
      CHECK(got[k] == doctest::Approx(want_kept[k]).epsilon(1e-4).scale(1));
  }
  // The same seed gives the same hash functions; another seed others.
  const TensorSketch same(ca, cb, d, 7), other(ca, cb, d, 8);
  CHECK(same.hash_a() == ts.hash_a());
  CHECK(same.sign_b() == ts.sign_b());
  CHECK((other.hash_a() != ts.hash_a() || other.sign_a() != ts.sign_a()));
}

TEST_CASE(
    "compact bilinear: inner products estimate <x,y>^2 without bias, within the variance bound") {
  // <TS(x, x), TS(y, y)> estimates <x (x) x, y (x) y> = <x, y>^2. Over
  // independent seeds: the mean is within 4 standard errors and the
  // variance under Pham & Pagh's bound (3^2 - 1)/D ||x||^4 ||y||^4.
  const std::size_t c = 10, d = 64, seeds = 600;
  const auto x = random_map(c, 1, 31), y0 = random_map(c, 1, 32);
  std::vector<float> y(c);
  for (std::size_t i = 0; i < c; ++i)
    y[i] = x[i] + 0.7f * y0[i];  // correlated, so <x, y>^2 is large
  const double xy = dot(x, y), xx = dot(x, x), yy = dot(y, y);
  const double truth = xy * xy, bound = 8.0 / double(d) * xx * xx * yy * yy;
  double sum = 0, sum2 = 0;
  std::vector<float> sx(d), sy(d);
  for (std::size_t s = 0; s < seeds; ++s) {
    const TensorSketch ts(c, c, d, 1000 + s);
    ts.sketch(x.data(), x.data(), sx.data());
    ts.sketch(y.data(), y.data(), sy.data());
    const double e = dot(sx, sy);
    sum += e;
    sum2 += e * e;
  }
  const double mean = sum / double(seeds), var = sum2 / double(seeds) - mean * mean;
  CHECK(std::fabs(mean - truth) < 4 * std::sqrt(bound / double(seeds)));
  CHECK(var < bound);
  CHECK(var > 0);
  // A bigger sketch is a better estimate: the variance falls about as 1/D.
  double sum_big = 0, sum2_big = 0;
  std::vector<float> bx(1024), by(1024);
  for (std::size_t s = 0; s < 200; ++s) {
    const TensorSketch ts(c, c, 1024, 5000 + s);
    ts.sketch(x.data(), x.data(), bx.data());
    ts.sketch(y.data(), y.data(), by.data());
    const double e = dot(bx, by);
    sum_big += e;
    sum2_big += e * e;
  }
  const double var_big = sum2_big / 200 - (sum_big / 200) * (sum_big / 200);
  CHECK(var_big < var / 4);
}

TEST_CASE("compact bilinear: sketches of two maps' B agree with their Frobenius inner product") {
  const std::size_t c = 32, n = 49, d = 8192;
  const auto m1 = random_map(c, n, 41, true), m2 = random_map(c, n, 42, true);
  std::vector<float> p1(packed_dim(c)), p2(packed_dim(c)), s1(d), s2(d);
  bilinear_pool(m1.data(), c, n, nullptr, p1.data());
  bilinear_pool(m2.data(), c, n, nullptr, p2.data());
  const TensorSketch ts(c, c, d, 3);
  ts.pool(m1.data(), m1.data(), n, nullptr, s1.data(), TensorSketch::Route::fft);
  ts.pool(m2.data(), m2.data(), n, nullptr, s2.data(), TensorSketch::Route::fft);
  const double exact = dot(p1, p2);
  const double bound =
      std::sqrt(8.0 / double(d) * dot(p1, p1) * dot(p2, p2));  // one standard deviation
  CHECK(std::fabs(dot(s1, s2) - exact) < 4 * bound);
  CHECK(std::fabs(dot(s1, s2) - exact) <
        0.05 * exact);  // ReLU maps: B's entries are mostly positive
}

// ---------------------------------------------------------------- through the extractor

namespace {

ExtractOptions bilinear_options(const std::string& layer, BilinearNorm norm) {
  ExtractOptions o;
  o.model = spec_file("vgg16_tiny_seeded");
  o.layers = {layer};
  o.pool.pooling = Pooling::bilinear;
  o.pool.bilinear_norm = norm;
  o.norm = Norm::none;
  return o;
}

std::vector<float> add_scaled(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = 0.5f * (a[i] + b[i]);
  return out;
}

}  // namespace

TEST_CASE("bilinear extraction: the raw B of a real map, cross-layer blocks, attn regions") {
  const ModelSpec spec = load_model_spec(spec_file("vgg16_tiny_seeded"));
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  ExtractOptions o = bilinear_options("conv5_3", BilinearNorm::none);
  o.layers = {"conv5_3", "conv5_2*conv5_3"};
  Extractor ex(spec, o);
  REQUIRE(ex.layer_nodes().size() == 2);  // conv5_3 is forwarded once
  const std::size_t c = 64, n = 14 * 14;
  REQUIRE(ex.dim() == packed_dim(c) + c * c);
  const std::vector<float> row = ex.extract({img});
  // The maps, straight from the network.
  cv::dnn::Net net = cv::dnn::readNet(spec.model_path());
  net.setInput(ex.prepare({img}).blobs[0], spec.input);
  std::vector<cv::Mat> outs;
  net.forward(outs, std::vector<std::string>{ex.layer_nodes()[0], ex.layer_nodes()[1]});
  const std::vector<float> f53(outs[0].ptr<float>(), outs[0].ptr<float>() + c * n);
  const std::vector<float> f52(outs[1].ptr<float>(), outs[1].ptr<float>() + c * n);
  // Two blocks: each L2-normalised (norm none keeps each block's own L2).
  const auto b = direct_b(f53, c, f53, c, n);
  std::vector<double> packed;
  for (std::size_t i = 0; i < c; ++i)
    for (std::size_t j = i; j < c; ++j)
      packed.push_back(b[i * c + j] * (i == j ? 1 : std::sqrt(2.0)));
  double norm = 0;
  for (double v : packed) norm += v * v;
  norm = std::sqrt(norm);
  double worst = 0;
  for (std::size_t k = 0; k < packed.size(); ++k)
    worst = std::max(worst, std::fabs(row[k] - packed[k] / norm));
  CHECK(worst < 1e-5);
  const auto cross = direct_b(f52, c, f53, c, n);
  double cnorm = 0;
  for (double v : cross) cnorm += v * v;
  cnorm = std::sqrt(cnorm);
  worst = 0;
  for (std::size_t k = 0; k < cross.size(); ++k)
    worst = std::max(worst, std::fabs(row[packed.size() + k] - cross[k] / cnorm));
  CHECK(worst < 1e-5);

  // attn: the same B over the region attention_map keeps.
  ExtractOptions oa = bilinear_options("conv5_3", BilinearNorm::none);
  oa.pool.pooling = Pooling::attn;
  oa.pool.attn_pool = Pooling::bilinear;
  Extractor exa(spec, oa);
  const std::vector<float> rowa = exa.extract({img});
  const AttentionMap region = attention_map(f53.data(), c, 14, 14);
  REQUIRE(region.kept_count > 0);
  REQUIRE(region.kept_count < n);
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < n; ++i)
    if (region.kept[i]) kept.push_back(i);
  const auto ba = direct_b(f53, c, f53, c, n, kept);
  worst = 0;
  std::size_t k = 0;
  for (std::size_t i = 0; i < c; ++i)
    for (std::size_t j = i; j < c; ++j, ++k)
      worst = std::max(worst, std::fabs(rowa[k] - ba[i * c + j] * (i == j ? 1 : std::sqrt(2.0))));
  CHECK(worst / *std::max_element(ba.begin(), ba.end()) <
        1e-5);  // B's diagonal is positive after the ReLU

  // Option checks.
  ExtractOptions bad = bilinear_options("conv5_3", BilinearNorm::matrix_sqrt);
  bad.layers = {"conv5_2*conv5_3"};
  CHECK_THROWS_AS(Extractor(spec, bad), UsageError);
  bad = bilinear_options("conv5_3", BilinearNorm::none);
  bad.layers = {"conv4_3*conv5_3"};  // 28x28 and 14x14
  CHECK_THROWS_AS(Extractor(spec, bad), UsageError);
  bad.pool.pooling = Pooling::avgmax;
  bad.layers = {"conv5_2*conv5_3"};
  CHECK_THROWS_AS(Extractor(spec, bad), UsageError);
}

TEST_CASE("bilinear extraction: flips and scales are averaged before the normalisation") {
  const ModelSpec spec = load_model_spec(spec_file("vgg16_tiny_seeded"));
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  cv::Mat mirrored;
  cv::flip(img, mirrored, 1);
  // pool5: 64 channels, 7 x 7 = 49 positions (the thin route of matrix-sqrt,
  // also with the flip: 98 columns against 64 channels is the eigen route).
  for (const char* layer : {"pool5", "conv5_3"}) {
    CAPTURE(layer);
    Extractor raw(spec, bilinear_options(layer, BilinearNorm::none));
    const std::vector<float> b_img = raw.extract({img}), b_mir = raw.extract({mirrored});
    const std::vector<float> mean_b = add_scaled(b_img, b_mir);
    const std::size_t dim = b_img.size();
    for (BilinearNorm norm : {BilinearNorm::signed_sqrt, BilinearNorm::matrix_sqrt}) {
      CAPTURE(to_string(norm));
      ExtractOptions o = bilinear_options(layer, norm);
      o.flip = true;
      Extractor ex(spec, o);
      const std::vector<float> got = ex.extract({img});
      REQUIRE(got.size() == dim);
      std::vector<float> want = mean_b;
      if (norm == BilinearNorm::signed_sqrt) {
        signed_sqrt_l2(want.data(), dim);
      } else {
        matrix_sqrt_packed(want.data(), 64);
        l2_normalize(want.data(), dim);
      }
      CHECK(max_abs_diff(got, want) < 2e-4);
      // Normalising each view, then averaging, is another vector.
      std::vector<float> v1 = b_img, v2 = b_mir;
      if (norm == BilinearNorm::signed_sqrt) {
        signed_sqrt_l2(v1.data(), dim);
        signed_sqrt_l2(v2.data(), dim);
      } else {
        matrix_sqrt_packed(v1.data(), 64);
        matrix_sqrt_packed(v2.data(), 64);
        l2_normalize(v1.data(), dim);
        l2_normalize(v2.data(), dim);
      }
      const std::vector<float> after = add_scaled(v1, v2);
      CHECK(l2_distance(got, after) > 1e-3);
      CHECK(l2_distance(got, after) > 20 * l2_distance(got, want));
    }
  }
  // One view of pool5: 49 positions < 64 channels, the thin route.
  {
    Extractor raw(spec, bilinear_options("pool5", BilinearNorm::none));
    std::vector<float> want = raw.extract({img});
    matrix_sqrt_packed(want.data(), 64);
    l2_normalize(want.data(), want.size());
    CHECK(max_abs_diff(
              Extractor(spec, bilinear_options("pool5", BilinearNorm::matrix_sqrt)).extract({img}),
              want) < 2e-4);
  }
  // Scales: 224 and 160 (5 x 5 positions at pool5), averaged, then normalised.
  ExtractOptions o160 = bilinear_options("pool5", BilinearNorm::none);
  o160.size = 160;
  const std::vector<float> b224 =
      Extractor(spec, bilinear_options("pool5", BilinearNorm::none)).extract({img});
  const std::vector<float> b160 = Extractor(spec, o160).extract({img});
  ExtractOptions os = bilinear_options("pool5", BilinearNorm::matrix_sqrt);
  os.scales = {224, 160};
  const std::vector<float> got = Extractor(spec, os).extract({img});
  std::vector<float> want = add_scaled(b224, b160);
  matrix_sqrt_packed(want.data(), 64);
  l2_normalize(want.data(), want.size());
  CHECK(max_abs_diff(got, want) < 2e-4);
}

TEST_CASE("bilinear extraction: options round trip; seed and sketch size are feature settings") {
  ExtractOptions o;
  CHECK(o.to_text().find("bilinear-norm") ==
        std::string::npos);  // first-order tables keep their provenance
  o.pool.pooling = Pooling::compact_bilinear;
  o.pool.sketch_dim = 4096;
  o.pool.seed = 18446744073709551615ULL;
  o.pool.bilinear_norm = BilinearNorm::none;
  const std::string text = o.to_text();
  CHECK(text.find("pooling=compact-bilinear\n") != std::string::npos);
  CHECK(text.find("sketch-dim=4096\nsketch-seed=18446744073709551615\n") != std::string::npos);
  const ExtractOptions back = ExtractOptions::from_text(text);
  CHECK(back.to_text() == text);
  CHECK(back.pool.seed == o.pool.seed);
  CHECK_THROWS_AS(ExtractOptions::from_text("sketch-dim=8\n"), Error);
  CHECK_THROWS_AS(ExtractOptions::from_text("sketch-seed=-1\n"), Error);
  CHECK_THROWS_AS(ExtractOptions::from_text("bilinear-norm=sqrt\n"), Error);
  // Compact: the dimension is the sketch's, and the seed changes the values.
  const ModelSpec spec = load_model_spec(spec_file("vgg16_tiny_seeded"));
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  ExtractOptions c = bilinear_options("pool5", BilinearNorm::signed_sqrt);
  c.pool.pooling = Pooling::compact_bilinear;
  c.pool.sketch_dim = 1024;
  const std::vector<float> s0 = Extractor(spec, c).extract({img});
  CHECK(s0.size() == 1024);
  CHECK(Extractor(spec, c).extract({img}) == s0);
  c.pool.seed = 1;
  CHECK(max_abs_diff(Extractor(spec, c).extract({img}), s0) > 1e-3);
}
