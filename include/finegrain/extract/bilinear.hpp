// Second-order pooling of conv feature maps: bilinear (the average outer
// product of the local features), its normalisations, and the compact
// Tensor Sketch of it.
//
// Lin, RoyChowdhury & Maji, "Bilinear CNN Models for Fine-grained Visual
// Recognition" (ICCV 2015); Lin & Maji, "Improved Bilinear Pooling with CNNs"
// (BMVC 2017); Gao et al., "Compact Bilinear Pooling" (CVPR 2016); Pham &
// Pagh, "Fast and Scalable Polynomial Kernels via Explicit Feature Maps"
// (KDD 2013).
//
// Maps are C x n row-major (channel-major conv output, n = H x W positions).
// A symmetric C x C matrix is stored "packed": its upper triangle row by row
// (B00, B01 ... B0C-1, B11, ...), off-diagonal entries times sqrt(2), so that
// dot products and norms of packed vectors equal the matrices' Frobenius ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "finegrain/extract/pooling.hpp"

namespace fg {

BilinearNorm parse_bilinear_norm(const std::string& name);  // none | signed-sqrt | matrix-sqrt
std::string to_string(BilinearNorm n);

using MatrixRowF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline std::size_t packed_dim(std::size_t channels) { return channels * (channels + 1) / 2; }
// Full symmetric matrix (its upper triangle is read) <-> packed vector.
void pack_symmetric(const MatrixRowF& full, float* packed);
MatrixRowF unpack_symmetric(const float* packed, std::size_t channels);

// The columns of a C x n map at `positions` (all when null), times `scale`:
// a factor M of B = M M^T.
MatrixRowF gather_positions(const float* map, std::size_t channels, std::size_t n,
                            const std::vector<std::size_t>* positions, float scale = 1.0f);

// B = (1/k) sum over the k kept positions of f_p f_p^T, packed (C(C+1)/2).
// One symmetric rank-k update (a GEMM), single-threaded: callers run maps
// in parallel.
void bilinear_pool(const float* map, std::size_t channels, std::size_t n,
                   const std::vector<std::size_t>* positions, float* packed);
// Cross-layer: B = (1/k) sum f_p g_p^T of two maps at the same positions,
// C1 x C2 row-major (C1 * C2 values, no scaling: B is not symmetric).
void bilinear_pool_cross(const float* a, std::size_t ca, const float* b, std::size_t cb,
                         std::size_t n, const std::vector<std::size_t>* positions, float* out);

// Element-wise signed square root, then L2 (B-CNN's normalisation).
void signed_sqrt_l2(float* v, std::size_t n);

// B^(1/2) of B = M M^T (M: C x r), packed, not normalised. When r < C it
// comes from the r x r Gram matrix M^T M = V S^2 V^T (the thin SVD of M):
// B^(1/2) = U S U^T = (M V S^(-1/2)) (M V S^(-1/2))^T. Otherwise from the
// symmetric eigen-decomposition of B. Eigenvalues below a relative 1e-6 of
// the largest count as zero.
void matrix_sqrt_of_factor(const MatrixRowF& factor, float* packed);
// B^(1/2) of a packed B through its eigen-decomposition, in place.
void matrix_sqrt_packed(float* packed, std::size_t channels);

// Tensor Sketch of x (x) y into D values: two count sketches (hash h, sign s
// per input coordinate) circularly convolved by FFT, so entry
// (h1(i) + h2(j)) mod D receives s1(i) s2(j) x_i y_j. Inner products of
// sketches are unbiased estimates of <x (x) y, x' (x) y'>. The hashes come
// from a 64-bit seed through std::mt19937_64 (identical on every platform).
class TensorSketch {
 public:
  TensorSketch() = default;
  TensorSketch(std::size_t channels_a, std::size_t channels_b, std::size_t dim, std::uint64_t seed);
  std::size_t dim() const { return dim_; }
  // (1/k) sum over kept positions of sketch(f_p, g_p), i.e. the sketch of
  // the bilinear B (linear in B, so views can be averaged afterwards). Two
  // routes give the same values: fft, two count sketches per position
  // multiplied in the frequency domain (k (C_a + C_b) + 2k D log D work);
  // direct, B itself (a GEMM) scattered into the sketch (C_a C_b k / SIMD +
  // C_a C_b). automatic takes the cheaper: direct unless C_a C_b is far
  // above k D log D (at fire9's 512 x 169 and D 8192, direct is ~50x cheaper).
  enum class Route { automatic, direct, fft };
  void pool(const float* a, const float* b, std::size_t n,
            const std::vector<std::size_t>* positions, float* out,
            Route route = Route::automatic) const;
  // The sketch of one pair of vectors.
  void sketch(const float* x, const float* y, float* out) const;
  // The hash functions, for independent checks.
  const std::vector<std::uint32_t>& hash_a() const { return h1_; }
  const std::vector<std::uint32_t>& hash_b() const { return h2_; }
  const std::vector<float>& sign_a() const { return s1_; }
  const std::vector<float>& sign_b() const { return s2_; }

 private:
  std::size_t dim_ = 0;
  std::vector<std::uint32_t> h1_, h2_;
  std::vector<float> s1_, s2_;
};

}  // namespace fg
