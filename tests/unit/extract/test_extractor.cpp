// The extractor: the real models reproduce PyTorch's fixture outputs from the
// JPEG, VGG16 friendly names, fusion/flip/scales, batches.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
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

namespace {

double max_rel_error(const float* got, const float* want, std::size_t n) {
  // Relative to the largest reference magnitude (elementwise relative error
  // is meaningless where the reference is ~0, e.g. after a ReLU).
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, double(std::fabs(want[i])));
  for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
  return worst / scale;
}

ExtractOptions raw_options(const std::string& model, const std::string& layer) {
  ExtractOptions o;
  o.model = model;
  o.layers = {layer};
  o.norm = Norm::none;
  return o;
}

// Runs the net on one image and returns the raw output of one layer.
cv::Mat raw_output(const ModelSpec& spec, const cv::Mat& blob, const std::string& node) {
  cv::dnn::Net net = cv::dnn::readNet(spec.model_path());
  net.setInput(blob, spec.input);
  return net.forward(node).clone();
}

}  // namespace

TEST_CASE("extract: JPEG loading + preprocessing reproduce the fixture input blob") {
  const NpyArray input =
      read_npy(test_assets() + "/models/squeezenet1_1_imagenet_notop.fixture_input.npy");
  REQUIRE(input.shape == std::vector<std::size_t>{1, 3, 224, 224});
  const ModelSpec spec = load_model_spec(spec_file("squeezenet1_1_imagenet_notop"));
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  std::vector<float> blob(3 * 224 * 224);
  image_to_blob(resize_image(img, 224, ResizeMode::warp), spec, blob.data());
  double worst = 0;
  for (std::size_t i = 0; i < blob.size(); ++i)
    worst = std::max(worst, double(std::fabs(blob[i] - input.data[i])));
  CHECK(worst <= 1e-4);
}

TEST_CASE("extract: both ONNX models reproduce the PyTorch fixture outputs from the JPEG") {
  struct Case {
    const char* model;
    const char* layer;
  };
  for (const Case c : {Case{"squeezenet1_1_imagenet_notop", "features"},
                       Case{"vgg16_tiny_seeded", "pool5"}, Case{"vgg16_tiny_seeded", "features"}}) {
    CAPTURE(c.model);
    CAPTURE(c.layer);
    const NpyArray want = read_npy(test_assets() + "/models/" + c.model + ".fixture_output.npy");
    const ModelSpec spec = load_model_spec(spec_file(c.model));
    ExtractOptions o = raw_options(spec_file(c.model), c.layer);
    Extractor ex(spec, o);
    std::string problem;
    const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
    REQUIRE(problem.empty());
    // The network output through the extractor's own preparation.
    const PreparedBatch batch = ex.prepare({img});
    const cv::Mat out = raw_output(spec, batch.blobs[0], ex.layer_nodes()[0]);
    REQUIRE(out.total() == want.data.size());
    CHECK(max_rel_error(out.ptr<float>(), want.data.data(), want.data.size()) <= 1e-4);

    // Pooled values: avg and max over each channel, computed here from the
    // fixture output, against the extractor's avgmax row (norm none).
    const std::vector<float> row = ex.extract({img});
    const std::size_t c_count = want.shape[1], hw = want.shape[2] * want.shape[3];
    REQUIRE(row.size() == 2 * c_count);
    double worst = 0, scale = 0;
    for (std::size_t ch = 0; ch < c_count; ++ch) {
      double s = 0, m = -1e30;
      for (std::size_t i = 0; i < hw; ++i) {
        s += want.data[ch * hw + i];
        m = std::max(m, double(want.data[ch * hw + i]));
      }
      worst = std::max({worst, std::fabs(row[ch] - s / hw), std::fabs(row[c_count + ch] - m)});
      scale = std::max(scale, m);
    }
    CHECK(worst / scale <= 1e-4);
  }
}

TEST_CASE("extract: VGG16 friendly names map to the ReLU after each conv and to the pools") {
  const ModelSpec spec = load_model_spec(spec_file("vgg16_tiny_seeded"));
  cv::dnn::Net net = cv::dnn::readNet(spec.model_path());
  const LayerMap map(spec, net);
  CHECK(map.resolve("conv1_1") == "onnx_node!/Relu");
  CHECK(map.resolve("conv4_3") == "onnx_node!/Relu_9");
  CHECK(map.resolve("conv5_3") == "onnx_node!/Relu_12");
  CHECK(map.resolve("pool4") == "onnx_node!/pool4/MaxPool");
  CHECK(map.resolve("pool5") == "onnx_node!/pool5/MaxPool");
  CHECK(map.resolve("onnx_node!/conv5_3/Conv") == "onnx_node!/conv5_3/Conv");  // raw names work
  // The ReLU output really is relu(conv): check on the fixture input.
  const NpyArray input = read_npy(test_assets() + "/models/vgg16_tiny_seeded.fixture_input.npy");
  cv::Mat blob(std::vector<int>{1, 3, 224, 224}, CV_32F, const_cast<float*>(input.data.data()));
  net.setInput(blob, "data");
  std::vector<cv::Mat> outs;
  net.forward(outs, std::vector<std::string>{"onnx_node!/conv5_3/Conv", map.resolve("conv5_3")});
  REQUIRE(outs[0].total() == outs[1].total());
  REQUIRE(outs[0].size[1] == 64);  // 512 / 8
  const float* conv = outs[0].ptr<float>();
  const float* relu = outs[1].ptr<float>();
  bool negative_seen = false;
  for (std::size_t i = 0; i < outs[0].total(); ++i) {
    negative_seen |= conv[i] < 0;
    CHECK(relu[i] == std::max(conv[i], 0.0f));
  }
  CHECK(negative_seen);  // the conv output was not silently fused with its ReLU

  try {
    map.resolve("conv6_1");
    FAIL("no error for an unknown layer");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("conv6_1") != std::string::npos);
    CHECK(msg.find("conv5_3") != std::string::npos);
    CHECK(msg.find("pool5") != std::string::npos);
  }
}

TEST_CASE("extract: unknown layer and broken model are errors at construction") {
  ExtractOptions o = raw_options(spec_file("squeezenet1_1_imagenet_notop"), "fire10");
  CHECK_THROWS_WITH_AS(Extractor{o}, doctest::Contains("fire9"), Error);
  TempDir dir;
  write_bytes(dir.file("bad.onnx"), "this is not a network");
  write_bytes(dir.file("bad.spec"), "model bad.onnx\nformat onnx\ndefault-layers x\n");
  o.model = dir.file("bad.spec");
  CHECK_THROWS_WITH_AS(Extractor{o}, doctest::Contains("could not load"), Error);
  write_bytes(dir.file("missing.spec"),
              "model models/VGG_ILSVRC_16_layers.caffemodel\ndefault-layers conv5_3\n");
  o.model = dir.file("missing.spec");
  CHECK_THROWS_WITH_AS(Extractor{o}, doctest::Contains("fetch.sh vgg16-caffe"), Error);
  CHECK_THROWS_WITH_AS(parse_model_spec("model a.onnx\nsize big\ndefault-layers x\n", "s.spec"),
                       doctest::Contains("s.spec: line 2"), Error);
}

TEST_CASE("extract: a batch gives its images' rows one by one; prepare reuses a fitting batch") {
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  cv::Mat mirrored, small;
  cv::flip(img, mirrored, 1);
  cv::resize(img, small, cv::Size(120, 90));
  ExtractOptions o = raw_options(spec_file("squeezenet1_1_imagenet_notop"), "fire8");
  o.layers = {"fire8", "fire9"};
  o.flip = true;
  Extractor ex(o);
  const std::vector<float> batch = ex.extract({img, mirrored, small});
  REQUIRE(batch.size() == 3 * ex.dim());
  std::size_t k = 0;
  for (const cv::Mat& one : {img, mirrored, small}) {
    const std::vector<float> row = ex.extract({one});
    for (std::size_t j = 0; j < row.size(); ++j)
      CHECK(batch[k * ex.dim() + j] == doctest::Approx(row[j]).epsilon(1e-5));
    ++k;
  }
  PreparedBatch first = ex.prepare({img, mirrored});
  const PreparedBatch fresh = ex.prepare({small, img});
  const float* memory = first.blobs[0].ptr<float>();
  const PreparedBatch reused = ex.prepare({small, img}, std::move(first));
  CHECK(reused.blobs[0].ptr<float>() == memory);
  CHECK(cv::norm(reused.blobs[0], fresh.blobs[0], cv::NORM_INF) == 0);
  const PreparedBatch grown = ex.prepare({small, img, mirrored}, ex.prepare({img}));
  CHECK(grown.blobs[0].size[0] == 6);  // 3 images x (image, mirror)
}

TEST_CASE("extract: fusion, flip, scales, augment and norms shape the rows as documented") {
  std::string problem;
  const cv::Mat img = load_image(fixture_image(), kDefaultMaxPixels, problem);
  cv::Mat mirrored;
  cv::flip(img, mirrored, 1);
  const std::string sq = spec_file("squeezenet1_1_imagenet_notop");

  ExtractOptions base = raw_options(sq, "fire9");
  Extractor plain(base);
  const std::vector<float> a = plain.extract({img});
  const std::vector<float> m = plain.extract({mirrored});
  REQUIRE(a.size() == 1024);

  // --flip mean = average of image and mirror (norm none).
  ExtractOptions f = base;
  f.flip = true;
  Extractor flipped(f);
  const std::vector<float> fm = flipped.extract({img});
  REQUIRE(fm.size() == 1024);
  for (std::size_t k = 0; k < 1024; ++k)
    CHECK(fm[k] == doctest::Approx((a[k] + m[k]) / 2).epsilon(1e-4));
  // --flip-merge concat = [image, mirror].
  f.flip_merge = Merge::concat;
  Extractor fc(f);
  const std::vector<float> fcv = fc.extract({img});
  REQUIRE(fcv.size() == 2048);
  CHECK(max_rel_error(fcv.data(), a.data(), 1024) < 1e-5);
  CHECK(max_rel_error(fcv.data() + 1024, m.data(), 1024) < 1e-5);

  // Fusion: each layer L2-normalised, weighted, concatenated.
  ExtractOptions fu = base;
  fu.layers = {"fire8", "fire9"};
  fu.layer_weights = {1.0, 0.5};
  Extractor fused(fu);
  const std::vector<float> fv = fused.extract({img});
  REQUIRE(fv.size() == 1024 + 1024);  // fire8 and fire9 both have 512 channels
  std::vector<float> want9 = a;
  l2_normalize(want9.data(), want9.size());
  for (auto& v : want9) v *= 0.5f;
  CHECK(max_rel_error(fv.data() + 1024, want9.data(), 1024) < 1e-5);
  double n8 = 0;
  for (std::size_t k = 0; k < 1024; ++k) n8 += double(fv[k]) * fv[k];
  CHECK(n8 == doctest::Approx(1.0));

  // Final norms.
  ExtractOptions pl = base;
  pl.norm = Norm::power_l2;
  const std::vector<float> p = Extractor(pl).extract({img});
  double sum_sq = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    sum_sq += double(p[k]) * p[k];
  }
  CHECK(sum_sq == doctest::Approx(1.0));
  // power-l2 = sqrt then l2: ratios of entries are ratios of square roots.
  CHECK(p[1] / p[0] == doctest::Approx(std::sqrt(a[1] / a[0])).epsilon(1e-4));

  // Scales: mean of the per-scale vectors; 224 alone reproduces the plain row.
  ExtractOptions sc = base;
  sc.scales = {224, 320};
  sc.scale_merge = Merge::concat;
  Extractor scaled(sc);
  const std::vector<float> sv = scaled.extract({img});
  REQUIRE(sv.size() == 2048);
  CHECK(max_rel_error(sv.data(), a.data(), 1024) < 1e-5);

  // Augment: rows image, flip, 5 crops and their flips.
  ExtractOptions au = base;
  au.augment_flip = au.augment_crops = true;
  Extractor aug(au);
  REQUIRE(aug.rows_per_image() == 12);
  CHECK(aug.row_suffixes()[0] == "");
  CHECK(aug.row_suffixes()[1] == "#flip");
  CHECK(aug.row_suffixes()[2] == "#crop-tl");
  CHECK(aug.row_suffixes()[3] == "#crop-tl-flip");
  const std::vector<float> av = aug.extract({img, mirrored});
  REQUIRE(av.size() == 2 * 12 * 1024);
  CHECK(max_rel_error(av.data(), a.data(), 1024) < 1e-5);
  CHECK(max_rel_error(av.data() + 1024, m.data(), 1024) < 1e-5);
  CHECK(max_rel_error(av.data() + 12 * 1024, m.data(), 1024) < 1e-5);  // second image
}
