// Winograd F(4x4, 3x3) convolution (Lavin & Gray, CVPR 2016) for the 3x3,
// stride-1, pad-1 layers of OpenCV DNN networks (all 13 of VGG16, SqueezeNet's
// expand3x3). Each 6x6 input tile is transformed (B^T d B), multiplied
// element-wise by the transformed filters (G g G^T, computed once per network
// load) as 36 GEMMs over channels, and transformed back (A^T m A): 4x fewer
// multiplications than direct convolution. Kernels for AVX-512, AVX2 + FMA and
// plain x86-64 are chosen at run time; work runs on OpenCV's thread pool.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fg {

// Which implementation runs the 3x3 stride-1 convolutions of a network.
enum class ConvImpl { winograd, opencv };
ConvImpl parse_conv_impl(const std::string& name);  // winograd | opencv
std::string to_string(ConvImpl c);

// Instruction sets of the kernels; best_winograd_isa() is the best one this
// CPU runs at the level the other kernels use (core/cpu.hpp: FG_ISA=avx2 or
// generic lowers it).
enum class WinogradIsa { generic, avx2, avx512 };
WinogradIsa best_winograd_isa();
bool cpu_runs(WinogradIsa isa);
std::string to_string(WinogradIsa isa);

// One 3x3, stride-1, pad-1 convolution with its filters transformed.
class Winograd3x3 {
 public:
  // weights: K x C x 3 x 3 (OIHW), bias: K values or empty.
  Winograd3x3(const float* weights, const float* bias, int out_channels, int in_channels,
              WinogradIsa isa = best_winograd_isa());
  int out_channels() const { return K_; }
  int in_channels() const { return C_; }
  // in: N x C x H x W, out: N x K x H x W (NCHW, contiguous); relu clamps
  // the output at 0 (a fused ReLU). One call
  // at a time per object.
  void forward(const float* in, int N, int H, int W, float* out, bool relu);

  struct Kernels;  // one instruction set's kernels (winograd.cpp)

 private:
  WinogradIsa isa_;
  int K_, C_, Cp_, Kp_, kp_;  // padded channel counts, kernel panel width
  cv::Mat U_;                 // [36][Kp / kp][Cp][kp]
  std::vector<float> bias_;   // Kp values
  cv::Mat V_, M_;             // forward_phases' scratch: transformed inputs, products

  void gemm_panel(const Kernels& kern, const float* U, const float* V, std::ptrdiff_t ldv, float* M,
                  std::ptrdiff_t ldm, int tiles) const;
  void forward_fused(const float* in, int N, int H, int W, float* out, bool relu);
  void forward_phases(const float* in, int N, int H, int W, float* out, bool relu);
};

// While a scope is alive on a thread, the Convolution layers that OpenCV DNN
// creates on that thread (in readNet, or lazily at a network's first
// forward) use `impl` for their 3x3 stride-1 pad-1 ungrouped layers; others
// are always OpenCV's own. Outside any scope, every layer is OpenCV's.
class ConvImplScope {
 public:
  explicit ConvImplScope(ConvImpl impl);
  ~ConvImplScope();
  ConvImplScope(const ConvImplScope&) = delete;
  ConvImplScope& operator=(const ConvImplScope&) = delete;

 private:
  ConvImpl previous_;
};

// Convolution layers given to the Winograd path since the program started
// (for tests and logs).
std::size_t winograd_layers_created();

}  // namespace fg
