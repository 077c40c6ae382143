// Global pooling of one conv feature map (C x H x W, channel-major) into a
// vector, and the vector normalisations used to combine layers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fg {

// bilinear and compact-bilinear are second-order (see bilinear.hpp): the
// Extractor computes them, pool() does not.
enum class Pooling { avg, max, avgmax, gem, attn, bilinear, compact_bilinear };

Pooling parse_pooling(const std::string& name);  // throws UsageError
std::string to_string(Pooling p);

// Normalisation of a second-order block (parsed in bilinear.cpp).
enum class BilinearNorm { none, signed_sqrt, matrix_sqrt };

struct PoolOptions {
  Pooling pooling = Pooling::avgmax;
  double gem_p = 3.0;                   // generalised mean exponent (gem)
  Pooling attn_pool = Pooling::avgmax;  // what attn computes inside its region (all but attn)
  // Second-order pooling (bilinear, compact-bilinear):
  BilinearNorm bilinear_norm = BilinearNorm::signed_sqrt;
  std::size_t sketch_dim = 8192;  // compact-bilinear output length
  std::uint64_t seed = 0;         // compact-bilinear hash functions

  // What is computed per position set: attn's inner pooling, or pooling.
  Pooling effective() const { return pooling == Pooling::attn ? attn_pool : pooling; }
  bool second_order() const {
    const Pooling p = effective();
    return p == Pooling::bilinear || p == Pooling::compact_bilinear;
  }
};

// Output length for a map with `channels` channels: 2C for avgmax (and attn
// over avgmax), C(C+1)/2 for bilinear, sketch_dim for compact-bilinear, else C.
std::size_t pooled_dim(std::size_t channels, const PoolOptions& options);

// The SCDA-style selection of attn (Wei et al., "Selective Convolutional
// Descriptor Aggregation"): A = sum over channels, keep positions with
// A > mean(A), keep the largest 8-connected region of those (ties: the one
// with the larger activation sum, then the first in row order). When no
// position exceeds the mean (a constant map), all positions are kept.
struct AttentionMap {
  int height = 0, width = 0;
  std::vector<float> activation;  // H x W channel sums
  float mean = 0;
  std::vector<unsigned char> kept;  // H x W, 1 = in the selected region
  std::size_t kept_count = 0;
};
AttentionMap attention_map(const float* map, std::size_t channels, int height, int width);

// Pools `map` (C x H x W floats) into out[0 .. pooled_dim). avg: mean over
// positions; max: maximum; avgmax: avg then max (concatenated); gem:
// (mean over positions of max(x, 1e-6)^p)^(1/p); attn: attn_pool over the
// selected region only.
void pool(const float* map, std::size_t channels, int height, int width, const PoolOptions& options,
          float* out);

enum class Norm { none, l2, power_l2 };
Norm parse_norm(const std::string& name);  // none | l2 | power-l2
std::string to_string(Norm n);

// Scales v to unit L2 norm (unchanged when it is all zero).
void l2_normalize(float* v, std::size_t n);
// none; l2; power-l2: signed square root, then L2.
void apply_norm(float* v, std::size_t n, Norm norm);

}  // namespace fg
