#include "finegrain/extract/winograd.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/cpu.hpp"

namespace fg {

// The kernels, one namespace per instruction set (winograd_kernels.inc).
namespace winograd {
#define FG_WINO_DECLARE(isa)                                                                      \
  namespace isa {                                                                                 \
  void input_row(const float* src, int nch, int H, int W, int ty, int tw, float* strip, float* V, \
                 std::ptrdiff_t pos_stride, std::ptrdiff_t tile_stride);                          \
  void output_row(const float* M, std::ptrdiff_t pos_stride, std::ptrdiff_t tile_stride,          \
                  const float* bias, bool relu, float* dst, int nk, int H, int W, int ty, int tw, \
                  float* strip);                                                                  \
  void gemm(const float* U, const float* V, std::ptrdiff_t ldv, float* M, std::ptrdiff_t ldm,     \
            int tiles, int Cp, bool accumulate);                                                  \
  }
FG_WINO_DECLARE(generic)
FG_WINO_DECLARE(avx2)
FG_WINO_DECLARE(avx512)
#undef FG_WINO_DECLARE
}  // namespace winograd

struct Winograd3x3::Kernels {
  decltype(&winograd::generic::input_row) input_row;
  decltype(&winograd::generic::output_row) output_row;
  decltype(&winograd::generic::gemm) gemm;
  int panel;  // output channels per GEMM panel (the kernel's register block)
};

namespace {

Winograd3x3::Kernels kernels_for(WinogradIsa isa) {
  using namespace winograd;
  switch (isa) {
    case WinogradIsa::avx512:
      return {avx512::input_row, avx512::output_row, avx512::gemm, 64};
    case WinogradIsa::avx2:
      return {avx2::input_row, avx2::output_row, avx2::gemm, 16};
    default:
      return {generic::input_row, generic::output_row, generic::gemm, 16};
  }
}

constexpr int kLanes = 16;  // channel block of the transforms
int round_up(int v, int m) { return (v + m - 1) / m * m; }

// G (6 x 3) of F(4x4, 3x3), interpolation points 0, +-1, +-2, infinity.
const double kG[6][3] = {{1.0 / 4, 0, 0},
                         {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                         {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                         {1.0 / 24, 1.0 / 12, 1.0 / 6},
                         {1.0 / 24, -1.0 / 12, 1.0 / 6},
                         {0, 0, 1}};

// Transformed inputs per block of tile rows (1.5 MB): most of an L2 cache,
// leaving room for a filter panel and the products of one chunk.
constexpr std::size_t kBlockFloats = std::size_t(384) << 10;
// Filters up to this size (after the transform) take the fused path.
// Larger ones (VGG16's conv3 and beyond) would stream from the L3 cache for
// every small block: they go step by step over big blocks instead, each
// filter panel applied to many tiles at once, the steps split across the
// threads (transforms by rows, products by tile position and panel).
constexpr std::size_t kFusedMaxFilterBytes = std::size_t(8) << 20;
constexpr std::size_t kPhaseBlockFloats = std::size_t(3) << 20;  // V + M, 12 MB
// Channels per GEMM slice: 128 x 64 filter values, 32 KB (L1 is 32-48 KB).
constexpr int kSliceChannels = 128;
// Output channels per products chunk (a multiple of every kernel's panel).
constexpr int kChunk = 64;

}  // namespace

ConvImpl parse_conv_impl(const std::string& name) {
  if (name == "winograd") return ConvImpl::winograd;
  if (name == "opencv") return ConvImpl::opencv;
  throw UsageError(cat("unknown convolution '", name, "' (winograd, opencv)"));
}

std::string to_string(ConvImpl c) { return c == ConvImpl::winograd ? "winograd" : "opencv"; }

bool cpu_runs(WinogradIsa isa) {
  switch (isa) {
    case WinogradIsa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case WinogradIsa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default:
      return true;
  }
}

WinogradIsa best_winograd_isa() {
  // The level the other dispatched kernels use (FG_ISA lowers it).
  switch (kernel_isa()) {
    case Isa::avx512:
      if (cpu_runs(WinogradIsa::avx512)) return WinogradIsa::avx512;
      [[fallthrough]];
    case Isa::avx2:
      if (cpu_runs(WinogradIsa::avx2)) return WinogradIsa::avx2;
      [[fallthrough]];
    default:
      return WinogradIsa::generic;
  }
}

std::string to_string(WinogradIsa isa) {
  switch (isa) {
    case WinogradIsa::avx512:
      return "avx512";
    case WinogradIsa::avx2:
      return "avx2";
    default:
      return "generic";
  }
}

// ---------------------------------------------------------------- Winograd3x3

Winograd3x3::Winograd3x3(const float* weights, const float* bias, int out_channels, int in_channels,
                         WinogradIsa isa)
    : isa_(isa), K_(out_channels), C_(in_channels) {
  if (!cpu_runs(isa))
    throw Error(cat("this CPU does not run the ", to_string(isa), " Winograd kernels"));
  kp_ = kernels_for(isa).panel;
  Cp_ = round_up(C_, kLanes);
  Kp_ = round_up(K_, kp_);
  const int panels = Kp_ / kp_;
  U_ = cv::Mat(1, 36 * Kp_ * Cp_, CV_32F, cv::Scalar(0));
  float* U = U_.ptr<float>();
  for (int k = 0; k < K_; ++k) {
    const int panel = k / kp_, lane = k % kp_;
    for (int c = 0; c < C_; ++c) {
      const float* g = weights + (std::size_t(k) * C_ + c) * 9;
      // u = G g G^T, in double: the transformed filters are rounded once.
      double t[6][3];
      for (int i = 0; i < 6; ++i)
        for (int s = 0; s < 3; ++s)
          t[i][s] = kG[i][0] * g[s] + kG[i][1] * g[3 + s] + kG[i][2] * g[6 + s];
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) {
          const double u = t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2];
          U[((std::size_t(i * 6 + j) * panels + panel) * Cp_ + c) * kp_ + lane] = float(u);
        }
    }
  }
  bias_.assign(std::size_t(Kp_) + kLanes, 0.0f);
  if (bias) std::copy(bias, bias + K_, bias_.begin());
}

// One filter panel against `tiles` rows of V, over the channels in slices
// whose part of the panel stays in the L1 cache while every tile passes.
void Winograd3x3::gemm_panel(const Kernels& kern, const float* U, const float* V,
                             std::ptrdiff_t ldv, float* M, std::ptrdiff_t ldm, int tiles) const {
  for (int c0 = 0; c0 < Cp_; c0 += kSliceChannels)
    kern.gemm(U + std::ptrdiff_t(c0) * kp_, V + c0, ldv, M, ldm, tiles,
              std::min(kSliceChannels, Cp_ - c0), c0 > 0);
}

void Winograd3x3::forward(const float* in, int N, int H, int W, float* out, bool relu) {
  if (U_.total() * sizeof(float) > kFusedMaxFilterBytes)
    forward_phases(in, N, H, W, out, relu);
  else
    forward_fused(in, N, H, W, out, relu);
}

void Winograd3x3::forward_fused(const float* in, int N, int H, int W, float* out, bool relu) {
  const Kernels kern = kernels_for(isa_);
  const int th = (H + 3) / 4, tw = (W + 3) / 4;
  const int rows = N * th;  // tile rows over the whole batch
  // Each thread takes blocks of tile rows through all three steps, so the
  // transformed inputs of a block stay in its core's L2 cache while every
  // filter panel streams past them once; at least one block per thread.
  const int threads = std::max(1, cv::getNumThreads());
  const int budget_rows = std::max(1, int(kBlockFloats / (std::size_t(36) * tw * Cp_)));
  const int block_rows = std::max(1, std::min(budget_rows, (rows + threads - 1) / threads));
  const int blocks = (rows + block_rows - 1) / block_rows;
  const int cblocks = (C_ + kLanes - 1) / kLanes;
  const std::size_t plane = std::size_t(H) * W;
  const float* U = U_.ptr<float>();
  const int panels = Kp_ / kp_;

  cv::parallel_for_(cv::Range(0, blocks), [&](const cv::Range& range) {
    const int max_tiles = round_up(block_rows * tw, 6);
    thread_local std::vector<float> V, M, strip;
    V.resize(std::size_t(36) * max_tiles * Cp_);
    M.resize(std::size_t(36) * max_tiles * kChunk);
    strip.resize(std::size_t(6) * (4 * tw + 2) * kLanes);
    for (int block = range.start; block < range.end; ++block) {
      const int r0 = block * block_rows, nrows = std::min(block_rows, rows - r0);
      const int tiles =
          round_up(nrows * tw, 6);  // padding tiles: finite left-overs, never read back
      // Tile-major: V[tile][pos][Cp], M[tile][pos][kChunk], so that each
      // transform reads and writes one contiguous run per tile.
      const std::ptrdiff_t vtile = std::ptrdiff_t(36) * Cp_, mtile = std::ptrdiff_t(36) * kChunk;
      for (int j = 0; j < nrows; ++j) {
        const int n = (r0 + j) / th, ty = (r0 + j) % th;
        for (int cb = 0; cb < cblocks; ++cb) {
          const int c0 = cb * kLanes;
          kern.input_row(in + (std::size_t(n) * C_ + c0) * plane, std::min(kLanes, C_ - c0), H, W,
                         ty, tw, strip.data(), V.data() + j * tw * vtile + c0, Cp_, vtile);
        }
      }
      // Output channels in chunks of kChunk: products, then back to NCHW.
      for (int k0 = 0; k0 < Kp_; k0 += kChunk) {
        const int width = std::min(kChunk, Kp_ - k0);
        for (int p = 0; p < 36; ++p)
          for (int panel = k0 / kp_; panel < (k0 + width) / kp_; ++panel)
            gemm_panel(kern, U + (std::size_t(p) * panels + panel) * Cp_ * kp_, V.data() + p * Cp_,
                       vtile, M.data() + p * kChunk + (panel * kp_ - k0), mtile, tiles);
        for (int j = 0; j < nrows; ++j) {
          const int n = (r0 + j) / th, ty = (r0 + j) % th;
          for (int kb = k0; kb < std::min(k0 + width, K_); kb += kLanes)
            kern.output_row(M.data() + j * tw * mtile + (kb - k0), kChunk, mtile, bias_.data() + kb,
                            relu, out + (std::size_t(n) * K_ + kb) * plane,
                            std::min(kLanes, K_ - kb), H, W, ty, tw, strip.data());
        }
      }
    }
  });
}

void Winograd3x3::forward_phases(const float* in, int N, int H, int W, float* out, bool relu) {
  const Kernels kern = kernels_for(isa_);
  const int th = (H + 3) / 4, tw = (W + 3) / 4;
  const int rows = N * th;  // tile rows over the whole batch
  const int block_rows = std::max(
      1,
      int(std::min<std::size_t>(rows, kPhaseBlockFloats / (std::size_t(36) * tw * (Cp_ + Kp_)))));
  const int block_tiles = round_up(block_rows * tw, 6);
  const std::size_t vsize = std::size_t(36) * block_tiles * Cp_,
                    msize = std::size_t(36) * block_tiles * Kp_;
  if (V_.total() < vsize) V_ = cv::Mat(1, int(vsize), CV_32F, cv::Scalar(0));
  if (M_.total() < msize) M_ = cv::Mat(1, int(msize), CV_32F, cv::Scalar(0));
  float* V = V_.ptr<float>();
  float* M = M_.ptr<float>();
  const int cblocks = (C_ + kLanes - 1) / kLanes, kblocks = (K_ + kLanes - 1) / kLanes;
  const int panels = Kp_ / kp_;
  const std::size_t plane = std::size_t(H) * W;

  for (int r0 = 0; r0 < rows; r0 += block_rows) {
    const int nrows = std::min(block_rows, rows - r0);
    const int tiles = round_up(nrows * tw, 6);
    const std::ptrdiff_t vpos = std::ptrdiff_t(tiles) * Cp_, mpos = std::ptrdiff_t(tiles) * Kp_;
    // Tiles past the last row of a block are left over from an earlier
    // block (finite values); their products are never read.
    cv::parallel_for_(cv::Range(0, nrows * cblocks), [&](const cv::Range& range) {
      std::vector<float> strip(std::size_t(6) * (4 * tw + 2) * kLanes);
      for (int item = range.start; item < range.end; ++item) {
        const int r = r0 + item / cblocks, cb = item % cblocks;
        const int n = r / th, ty = r % th;
        const int c0 = cb * kLanes;
        const float* src = in + (std::size_t(n) * C_ + c0) * plane;
        float* v = V + std::ptrdiff_t(item / cblocks) * tw * Cp_ + c0;
        kern.input_row(src, std::min(kLanes, C_ - c0), H, W, ty, tw, strip.data(), v, vpos, Cp_);
      }
    });
    cv::parallel_for_(cv::Range(0, 36 * panels), [&](const cv::Range& range) {
      for (int item = range.start; item < range.end; ++item) {
        const int p = item / panels, panel = item % panels;
        const float* u = U_.ptr<float>() + (std::size_t(p) * panels + panel) * Cp_ * kp_;
        gemm_panel(kern, u, V + p * vpos, Cp_, M + p * mpos + panel * kp_, Kp_, tiles);
      }
    });
    cv::parallel_for_(cv::Range(0, nrows * kblocks), [&](const cv::Range& range) {
      std::vector<float> strip(std::size_t(4) * 4 * tw * kLanes);
      for (int item = range.start; item < range.end; ++item) {
        const int r = r0 + item / kblocks, kb = item % kblocks;
        const int n = r / th, ty = r % th;
        const int k0 = kb * kLanes;
        const float* m = M + std::ptrdiff_t(item / kblocks) * tw * Kp_ + k0;
        float* dst = out + (std::size_t(n) * K_ + k0) * plane;
        kern.output_row(m, mpos, Kp_, bias_.data() + k0, relu, dst, std::min(kLanes, K_ - k0), H, W,
                        ty, tw, strip.data());
      }
    });
  }
}

// ---------------------------------------------------------------- OpenCV layer

namespace {

thread_local ConvImpl current_impl = ConvImpl::opencv;
std::atomic<std::size_t> layers_created{0};

// A Convolution layer computed by Winograd3x3, with OpenCV's ReLU fusion.
class WinogradConvLayer : public cv::dnn::Layer {
 public:
  WinogradConvLayer(const cv::dnn::LayerParams& params, int K, int C)
      : cv::dnn::Layer(params),
        wino_(params.blobs[0].ptr<float>(),
              params.blobs.size() > 1 ? params.blobs[1].ptr<float>() : nullptr, K, C) {
    blobs.clear();  // the transformed filters are all we keep
  }

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, const int,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>&) const override {
    if (inputs.size() != 1 || inputs[0].size() != 4 || inputs[0][1] != wino_.in_channels())
      CV_Error(cv::Error::StsBadArg, "Winograd convolution " + name + ": expected one N x " +
                                         std::to_string(wino_.in_channels()) + " x H x W input");
    outputs.assign(
        1, cv::dnn::MatShape{inputs[0][0], wino_.out_channels(), inputs[0][2], inputs[0][3]});
    return false;
  }

  // OpenCV fuses a following ReLU into the convolution this way; applying it
  // in the output transform saves a pass over the output.
  bool setActivation(const cv::Ptr<cv::dnn::ActivationLayer>& layer) override {
    relu_ = false;
    const auto r = layer.dynamicCast<cv::dnn::ReLULayer>();
    if (r.empty() || r->negativeSlope != 0.0f) return false;
    relu_ = true;
    return true;
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays) override {
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    const cv::Mat& in = inputs.at(0);
    cv::Mat& out = outputs.at(0);
    if (in.depth() != CV_32F || !in.isContinuous() || !out.isContinuous())
      CV_Error(cv::Error::StsNotImplemented,
               "Winograd convolution " + name + ": needs contiguous float32 blobs");
    wino_.forward(in.ptr<float>(), in.size[0], in.size[2], in.size[3], out.ptr<float>(), relu_);
  }

  int64 getFLOPS(const std::vector<cv::dnn::MatShape>& inputs,
                 const std::vector<cv::dnn::MatShape>& outputs) const override {
    (void)inputs;
    int64 out = 1;
    for (int d : outputs[0]) out *= d;
    return out * wino_.in_channels() * 9 * 2;
  }

 private:
  Winograd3x3 wino_;
  bool relu_ = false;
};

bool all_equal(const std::vector<size_t>& v, size_t value) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [&](size_t x) { return x == value; });
}

// Registered for "Convolution": OpenCV's own layer, unless the scope asks
// for Winograd and the layer is one it computes exactly.
cv::Ptr<cv::dnn::Layer> create_convolution(cv::dnn::LayerParams& params) {
  cv::Ptr<cv::dnn::BaseConvolutionLayer> own = cv::dnn::ConvolutionLayer::create(params);
  if (current_impl != ConvImpl::winograd) return own;
  // OpenCV's parsing of the parameters (Caffe and ONNX spellings alike).
  const bool eligible = own->kernel_size.size() == 2 && all_equal(own->kernel_size, 3) &&
                        all_equal(own->strides, 1) && all_equal(own->dilations, 1) &&
                        all_equal(own->pads_begin, 1) && all_equal(own->pads_end, 1) &&
                        own->padMode.empty() && params.get<int>("group", 1) == 1 &&
                        !params.blobs.empty() && params.blobs[0].dims == 4 &&
                        params.blobs[0].type() == CV_32F && params.blobs[0].isContinuous() &&
                        params.blobs[0].size[2] == 3 && params.blobs[0].size[3] == 3 &&
                        (params.blobs.size() < 2 ||
                         (params.blobs[1].type() == CV_32F && params.blobs[1].isContinuous() &&
                          int(params.blobs[1].total()) == params.blobs[0].size[0]));
  if (!eligible) return own;
  const int K = params.blobs[0].size[0], C = params.blobs[0].size[1];
  own.release();
  ++layers_created;
  return cv::makePtr<WinogradConvLayer>(params, K, C);
}

void register_once() {
  static std::once_flag once;
  std::call_once(once,
                 [] { cv::dnn::LayerFactory::registerLayer("Convolution", create_convolution); });
}

}  // namespace

ConvImplScope::ConvImplScope(ConvImpl impl) : previous_(current_impl) {
  register_once();
  current_impl = impl;
}

ConvImplScope::~ConvImplScope() { current_impl = previous_; }

std::size_t winograd_layers_created() { return layers_created.load(); }

}  // namespace fg
