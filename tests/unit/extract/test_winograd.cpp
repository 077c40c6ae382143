// Winograd F(4x4, 3x3): the transforms against a direct convolution written
// here, on every kernel set this CPU runs; inside OpenCV DNN, every tapped
// layer of the VGG16 fixture and SqueezeNet against OpenCV's own convolution.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <opencv2/dnn.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/extract/winograd.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {

// max |got - want| / max |want|
double rel_error(const float* got, const float* want, std::size_t n) {
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    scale = std::max(scale, double(std::fabs(want[i])));
    worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
  }
  return worst / scale;
}

// Cross-correlation with zero padding 1, as CNN frameworks define convolution.
std::vector<float> direct_conv(const std::vector<float>& in, int N, int C, int H, int W,
                               const std::vector<float>& w, const std::vector<float>& bias, int K,
                               bool relu) {
  std::vector<float> out(std::size_t(N) * K * H * W);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
          double s = bias.empty() ? 0.0 : bias[k];
          for (int c = 0; c < C; ++c)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                const int yy = y + dy, xx = x + dx;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                s += double(in[((std::size_t(n) * C + c) * H + yy) * W + xx]) *
                     w[((std::size_t(k) * C + c) * 3 + dy + 1) * 3 + dx + 1];
              }
          if (relu && s < 0) s = 0;
          out[((std::size_t(n) * K + k) * H + y) * W + x] = float(s);
        }
  return out;
}

std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// The outputs of `nodes` for one input blob, with the network's convolutions
// created under `impl`.
std::vector<cv::Mat> forward(const std::string& model, ConvImpl impl, const cv::Mat& blob,
                             const std::vector<std::string>& nodes) {
  ConvImplScope scope(impl);
  cv::dnn::Net net = cv::dnn::readNet(model);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setInput(blob, "data");
  std::vector<cv::Mat> outs;
  net.forward(outs, nodes);
  for (auto& o : outs) o = o.clone();
  return outs;
}

}  // namespace

TEST_CASE("winograd: F(4x4,3x3) equals a direct convolution on random tensors, every kernel set") {
  struct Shape {
    int N, C, H, W, K;
  };
  // Odd sizes (partial tiles at the right and bottom), single rows and
  // columns, channel counts that are not multiples of 8 or 16, batch > 1,
  // enough tiles for several GEMM blocks of 6, and filters large enough for
  // the step-by-step path (over 8 MB transformed).
  const Shape shapes[] = {{2, 5, 7, 9, 19},   {1, 17, 13, 6, 33}, {3, 32, 4, 5, 64},
                          {1, 3, 1, 11, 8},   {2, 1, 10, 1, 3},   {1, 70, 21, 23, 65},
                          {1, 250, 9, 7, 260}};
  // The first kernel set's outputs, per shape and ReLU: every other set must
  // give the same bits (same operations in the same order, only wider).
  std::vector<std::vector<float>> first;
  for (WinogradIsa isa : {WinogradIsa::generic, WinogradIsa::avx2, WinogradIsa::avx512}) {
    std::mt19937 rng(7);  // the same tensors for every kernel set
    std::size_t run = 0;
    if (!cpu_runs(isa)) {
      MESSAGE("this CPU does not run the " << to_string(isa) << " kernels: not tested");
      continue;
    }
    for (const Shape& s : shapes) {
      for (bool relu : {false, true}) {
        CAPTURE(to_string(isa));
        CAPTURE(s.N);
        CAPTURE(s.C);
        CAPTURE(s.H);
        CAPTURE(s.W);
        CAPTURE(s.K);
        CAPTURE(relu);
        const auto in = random_vector(std::size_t(s.N) * s.C * s.H * s.W, rng, 1.0f);
        const auto w = random_vector(std::size_t(s.K) * s.C * 9, rng, std::sqrt(2.0f / (9 * s.C)));
        const auto bias = relu ? random_vector(s.K, rng, 0.1f) : std::vector<float>{};
        Winograd3x3 conv(w.data(), bias.empty() ? nullptr : bias.data(), s.K, s.C, isa);
        // Run twice: the scratch of the first call must not leak into the second.
        std::vector<float> out(std::size_t(s.N) * s.K * s.H * s.W, -1.0f);
        conv.forward(in.data(), s.N, s.H, s.W, out.data(), relu);
        std::fill(out.begin(), out.end(), -1.0f);
        conv.forward(in.data(), s.N, s.H, s.W, out.data(), relu);
        const auto want = direct_conv(in, s.N, s.C, s.H, s.W, w, bias, s.K, relu);
        // float32 rounding of 9 C products, made a few times larger by the
        // transforms: ~1e-6 at C = 5, ~1.5e-5 at C = 250. A wrong transform
        // gives errors of order 1.
        CHECK(rel_error(out.data(), want.data(), want.size()) <= (s.C > 100 ? 4e-5 : 1e-5));
        if (relu) CHECK(*std::min_element(out.begin(), out.end()) == 0.0f);
        if (run == first.size()) first.push_back(out);
        CHECK(out == first[run++]);
        // Each image's output is bit for bit the same alone as in its batch.
        const std::size_t in_image = std::size_t(s.C) * s.H * s.W,
                          out_image = std::size_t(s.K) * s.H * s.W;
        std::vector<float> alone(out_image);
        conv.forward(in.data() + (s.N - 1) * in_image, 1, s.H, s.W, alone.data(), relu);
        CHECK(std::equal(alone.begin(), alone.end(), out.begin() + (s.N - 1) * out_image));
      }
    }
  }
}

TEST_CASE("winograd: conv impl names") {
  CHECK(parse_conv_impl("winograd") == ConvImpl::winograd);
  CHECK(parse_conv_impl("opencv") == ConvImpl::opencv);
  CHECK(to_string(ConvImpl::opencv) == "opencv");
  CHECK_THROWS_AS(parse_conv_impl("fft"), UsageError);
  ExtractOptions o;
  CHECK_FALSE(o.conv);  // auto: the model spec's (test_options.cpp)
  o.conv = ConvImpl::opencv;
  CHECK(ExtractOptions::from_text(o.to_text()).conv == ConvImpl::opencv);
  CHECK(ExtractOptions::from_provenance(o.provenance_text()).conv == ConvImpl::opencv);
  CHECK_THROWS_AS(ExtractOptions::from_text("conv=fft\n"), Error);
}

TEST_CASE(
    "winograd: every tapped VGG16 fixture layer within 1e-4 of OpenCV's convolution and PyTorch") {
  const ModelSpec spec = load_model_spec(spec_file("vgg16_tiny_seeded"));
  const NpyArray input = read_npy(test_assets() + "/models/vgg16_tiny_seeded.fixture_input.npy");
  const NpyArray want = read_npy(test_assets() + "/models/vgg16_tiny_seeded.fixture_output.npy");
  cv::Mat blob(std::vector<int>{1, 3, 224, 224}, CV_32F, const_cast<float*>(input.data.data()));
  cv::dnn::Net names_net = cv::dnn::readNet(spec.model_path());
  const LayerMap map(spec, names_net);
  // The friendly names are the ReLU outputs (OpenCV fuses each ReLU into its
  // convolution: the fused path), then the raw convolution outputs (no fusion).
  std::vector<std::string> relus, convs;
  for (int b = 1; b <= 5; ++b) {
    for (int k = 1; k <= (b <= 2 ? 2 : 3); ++k) {
      relus.push_back(map.resolve(cat("conv", b, "_", k)));
      convs.push_back(cat("onnx_node!/conv", b, "_", k, "/Conv"));
    }
    relus.push_back(map.resolve(cat("pool", b)));
  }
  for (const auto* nodes : {&relus, &convs}) {
    const std::size_t before = winograd_layers_created();
    const auto wino = forward(spec.model_path(), ConvImpl::winograd, blob, *nodes);
    CHECK(winograd_layers_created() - before == 13);
    const auto own = forward(spec.model_path(), ConvImpl::opencv, blob, *nodes);
    CHECK(winograd_layers_created() - before == 13);
    for (std::size_t i = 0; i < nodes->size(); ++i) {
      CAPTURE((*nodes)[i]);
      REQUIRE(wino[i].total() == own[i].total());
      CHECK(rel_error(wino[i].ptr<float>(), own[i].ptr<float>(), own[i].total()) <= 1e-4);
      if (nodes == &relus && (*nodes)[i].find("Relu") != std::string::npos)
        CHECK(*std::min_element(wino[i].begin<float>(), wino[i].end<float>()) == 0.0f);
    }
    if (nodes == &relus) {  // pool5, against PyTorch
      REQUIRE(wino.back().total() == want.data.size());
      CHECK(rel_error(wino.back().ptr<float>(), want.data.data(), want.data.size()) <= 1e-4);
    }
  }
}

TEST_CASE("winograd: every fire module of SqueezeNet within 1e-4 of OpenCV's convolution") {
  const ModelSpec spec = load_model_spec(spec_file("squeezenet1_1_imagenet_notop"));
  const NpyArray input =
      read_npy(test_assets() + "/models/squeezenet1_1_imagenet_notop.fixture_input.npy");
  const NpyArray want =
      read_npy(test_assets() + "/models/squeezenet1_1_imagenet_notop.fixture_output.npy");
  cv::Mat blob(std::vector<int>{1, 3, 224, 224}, CV_32F, const_cast<float*>(input.data.data()));
  std::vector<std::string> nodes;
  for (int f = 2; f <= 9; ++f) nodes.push_back(cat("onnx_node!/fire", f, "/Concat"));
  const std::size_t before = winograd_layers_created();
  const auto wino = forward(spec.model_path(), ConvImpl::winograd, blob, nodes);
  CHECK(winograd_layers_created() - before == 8);  // the expand3x3 of fire2 ... fire9
  const auto own = forward(spec.model_path(), ConvImpl::opencv, blob, nodes);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    CAPTURE(nodes[i]);
    REQUIRE(wino[i].total() == own[i].total());
    CHECK(rel_error(wino[i].ptr<float>(), own[i].ptr<float>(), own[i].total()) <= 1e-4);
  }
  REQUIRE(wino.back().total() == want.data.size());  // fire9 = features, against PyTorch
  CHECK(rel_error(wino.back().ptr<float>(), want.data.data(), want.data.size()) <= 1e-4);
}

TEST_CASE("winograd: the Extractor runs the spec's conv under auto, and says which it ran") {
  // SqueezeNet's spec says opencv: no Winograd layer; a given --conv wins.
  ExtractOptions o;
  o.model = spec_file("squeezenet1_1_imagenet_notop");
  std::size_t before = winograd_layers_created();
  const Extractor squeeze_auto(o);
  CHECK(winograd_layers_created() - before == 0);
  CHECK(squeeze_auto.options().conv == ConvImpl::opencv);
  CHECK(ExtractionRecord{squeeze_auto.options(), "squeezenet1_1_imagenet_notop"}.provenance().find(
            "\nextract.conv=opencv\n") != std::string::npos);
  o.conv = ConvImpl::winograd;
  before = winograd_layers_created();
  const Extractor squeeze_winograd(o);
  CHECK(winograd_layers_created() - before == 8);
  CHECK(squeeze_winograd.options().conv == ConvImpl::winograd);
  // The VGG16 fixture's spec says winograd: all 13.
  o.model = spec_file("vgg16_tiny_seeded");
  o.conv.reset();
  before = winograd_layers_created();
  const Extractor vgg_auto(o);
  CHECK(winograd_layers_created() - before == 13);
  CHECK(vgg_auto.options().conv == ConvImpl::winograd);
}
