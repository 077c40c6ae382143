#include "finegrain/extract/pooling.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/cpu.hpp"

namespace fg {

Pooling parse_pooling(const std::string& name) {
  if (name == "avg") return Pooling::avg;
  if (name == "max") return Pooling::max;
  if (name == "avgmax") return Pooling::avgmax;
  if (name == "gem") return Pooling::gem;
  if (name == "attn") return Pooling::attn;
  if (name == "bilinear") return Pooling::bilinear;
  if (name == "compact-bilinear") return Pooling::compact_bilinear;
  throw UsageError(cat("unknown pooling '", name,
                       "' (avg, max, avgmax, gem, attn, bilinear, compact-bilinear)"));
}

std::string to_string(Pooling p) {
  switch (p) {
    case Pooling::avg:
      return "avg";
    case Pooling::max:
      return "max";
    case Pooling::avgmax:
      return "avgmax";
    case Pooling::gem:
      return "gem";
    case Pooling::attn:
      return "attn";
    case Pooling::bilinear:
      return "bilinear";
    case Pooling::compact_bilinear:
      return "compact-bilinear";
  }
  return "?";
}

Norm parse_norm(const std::string& name) {
  if (name == "none") return Norm::none;
  if (name == "l2") return Norm::l2;
  if (name == "power-l2") return Norm::power_l2;
  throw UsageError(cat("unknown normalisation '", name, "' (none, l2, power-l2)"));
}

std::string to_string(Norm n) {
  switch (n) {
    case Norm::none:
      return "none";
    case Norm::l2:
      return "l2";
    case Norm::power_l2:
      return "power-l2";
  }
  return "?";
}

std::size_t pooled_dim(std::size_t channels, const PoolOptions& o) {
  switch (o.effective()) {
    case Pooling::avgmax:
      return 2 * channels;
    case Pooling::bilinear:
      return channels * (channels + 1) / 2;
    case Pooling::compact_bilinear:
      return o.sketch_dim;
    default:
      return channels;
  }
}

AttentionMap attention_map(const float* map, std::size_t channels, int height, int width) {
  AttentionMap a;
  a.height = height;
  a.width = width;
  const std::size_t n = std::size_t(height) * width;
  a.activation.assign(n, 0.0f);
  std::vector<double> acc(n, 0.0);
  for (std::size_t c = 0; c < channels; ++c) {
    const float* plane = map + c * n;
    for (std::size_t i = 0; i < n; ++i) acc[i] += plane[i];
  }
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    a.activation[i] = float(acc[i]);
    total += acc[i];
  }
  a.mean = float(total / double(n));
  const double mean = total / double(n);
  std::vector<unsigned char> above(n);
  for (std::size_t i = 0; i < n; ++i) above[i] = acc[i] > mean;
  // The 8-connected regions of `above`; the largest is kept (ties: the larger activation
  // sum, then the region whose first position comes first in row order). OpenCV's label
  // numbers follow its scan, not the row order, so the tie rule does not rely on them.
  cv::Mat1b above_mat(height, width, above.data());
  cv::Mat1i labels, stats;
  cv::Mat centroids;
  const int regions =
      cv::connectedComponentsWithStats(above_mat, labels, stats, centroids, 8, CV_32S);
  std::vector<double> sums(regions, 0.0);
  std::vector<std::size_t> first(regions, n);
  const int* label = labels[0];  // continuous: created for this call
  for (std::size_t i = 0; i < n; ++i) {
    if (label[i] == 0) continue;  // background
    sums[label[i]] += acc[i];
    first[label[i]] = std::min(first[label[i]], i);
  }
  int best = -1;
  std::size_t best_size = 0;
  for (int r = 1; r < regions; ++r) {
    const std::size_t size = std::size_t(stats(r, cv::CC_STAT_AREA));
    const bool better = best < 0 || size > best_size ||
                        (size == best_size && (sums[r] > sums[best] ||
                                               (sums[r] == sums[best] && first[r] < first[best])));
    if (better) {
      best = r;
      best_size = size;
    }
  }
  a.kept.assign(n, 0);
  if (best < 0) {
    std::fill(a.kept.begin(), a.kept.end(), 1);
    a.kept_count = n;
  } else {
    for (std::size_t i = 0; i < n; ++i) a.kept[i] = label[i] == best;
    a.kept_count = best_size;
  }
  return a;
}

namespace {

// Sum (in double) and maximum of one plane of n floats. The sum is taken in
// four lanes (lane k adds the values i = k mod 4, the n mod 4 last ones go to
// lane 0), then (lane 0 + lane 1) + (lane 2 + lane 3): bound by throughput,
// not by one serial chain of additions, and the same bits in every form below.
struct SumMax {
  double sum;
  float max;
};

SumMax sum_max_generic(const float* plane, std::size_t n) {
  double s4[4] = {0, 0, 0, 0};
  const float lowest = -std::numeric_limits<float>::infinity();
  float m4[4] = {lowest, lowest, lowest, lowest};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) {
      s4[k] += plane[i + k];
      m4[k] = std::max(m4[k], plane[i + k]);
    }
  for (; i < n; ++i) {
    s4[0] += plane[i];
    m4[0] = std::max(m4[0], plane[i]);
  }
  return {(s4[0] + s4[1]) + (s4[2] + s4[3]),
          std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]))};
}

// Sums and maxima of `channels` planes of n floats each.
using PlanesFn = void (*)(const float* map, std::size_t channels, std::size_t n, double* sums,
                          float* maxima);

void planes_generic(const float* map, std::size_t channels, std::size_t n, double* sums,
                    float* maxima) {
  for (std::size_t c = 0; c < channels; ++c) {
    const SumMax r = sum_max_generic(map + c * n, n);
    sums[c] = r.sum;
    maxima[c] = r.max;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FG_POOL_X86 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC PR 105593, in its intrinsics

// The lanes of a ymm are the four sums; the tail as in sum_max_generic.
__attribute__((target("avx2,fma"))) void planes_avx2(const float* map, std::size_t channels,
                                                     std::size_t n, double* sums, float* maxima) {
  for (std::size_t c = 0; c < channels; ++c) {
    const float* plane = map + c * n;
    __m256d s = _mm256_setzero_pd();
    __m128 m = _mm_set1_ps(-std::numeric_limits<float>::infinity());
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m128 v = _mm_loadu_ps(plane + i);
      s = _mm256_add_pd(s, _mm256_cvtps_pd(v));
      m = _mm_max_ps(v, m);  // m unless v > m: std::max(m, v), NaN included
    }
    alignas(32) double s4[4];
    alignas(16) float m4[4];
    _mm256_store_pd(s4, s);
    _mm_store_ps(m4, m);
    for (; i < n; ++i) {
      s4[0] += plane[i];
      m4[0] = std::max(m4[0], plane[i]);
    }
    sums[c] = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    maxima[c] = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
  }
}

// Two planes per zmm (lanes 0-3 plane c, lanes 4-7 plane c+1): the same
// four-lane sums per plane, twice the width.
__attribute__((target("avx512f,avx512dq"))) void planes_avx512(const float* map,
                                                               std::size_t channels, std::size_t n,
                                                               double* sums, float* maxima) {
  std::size_t c = 0;
  for (; c + 2 <= channels; c += 2) {
    const float* p0 = map + c * n;
    const float* p1 = p0 + n;
    __m512d s = _mm512_setzero_pd();
    __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m256 v = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p0 + i)),
                                            _mm_loadu_ps(p1 + i), 1);
      s = _mm512_add_pd(s, _mm512_cvtps_pd(v));
      m = _mm256_max_ps(v, m);
    }
    alignas(64) double s8[8];
    alignas(32) float m8[8];
    _mm512_store_pd(s8, s);
    _mm256_store_ps(m8, m);
    for (; i < n; ++i) {
      s8[0] += p0[i];
      m8[0] = std::max(m8[0], p0[i]);
      s8[4] += p1[i];
      m8[4] = std::max(m8[4], p1[i]);
    }
    for (int h = 0; h < 2; ++h) {
      const double* q = s8 + 4 * h;
      const float* x = m8 + 4 * h;
      sums[c + h] = (q[0] + q[1]) + (q[2] + q[3]);
      maxima[c + h] = std::max(std::max(x[0], x[1]), std::max(x[2], x[3]));
    }
  }
  if (c < channels) planes_avx2(map + c * n, channels - c, n, sums + c, maxima + c);
}
#pragma GCC diagnostic pop
#endif

PlanesFn planes_for(Isa isa) {
#ifdef FG_POOL_X86
  if (isa >= Isa::avx512) return planes_avx512;
  if (isa >= Isa::avx2) return planes_avx2;
#else
  (void)isa;
#endif
  return planes_generic;
}

// Pools over the positions listed in `idx` (all when idx is null).
void pool_positions(const float* map, std::size_t channels, std::size_t n,
                    const std::vector<std::size_t>* idx, Pooling p, double gem_p, float* out) {
  const std::size_t count = idx ? idx->size() : n;
  const bool want_avg = p == Pooling::avg || p == Pooling::avgmax;
  const bool want_max = p == Pooling::max || p == Pooling::avgmax;
  float* avg_out = out;
  float* max_out = p == Pooling::avgmax ? out + channels : out;
  if (!idx && p != Pooling::gem) {
    // All positions: the dispatched kernel (the common case, once per image and layer).
    std::vector<double> sums(channels);
    std::vector<float> maxima(channels);
    planes_for(kernel_isa())(map, channels, n, sums.data(), maxima.data());
    for (std::size_t c = 0; c < channels; ++c) {
      if (want_avg) avg_out[c] = float(sums[c] / double(count));
      if (want_max) max_out[c] = maxima[c];
    }
    return;
  }
  for (std::size_t c = 0; c < channels; ++c) {
    const float* plane = map + c * n;
    if (p == Pooling::gem) {
      double s = 0;
      if (idx)
        for (std::size_t i : *idx) s += std::pow(std::max(double(plane[i]), 1e-6), gem_p);
      else
        for (std::size_t i = 0; i < n; ++i) s += std::pow(std::max(double(plane[i]), 1e-6), gem_p);
      out[c] = float(std::pow(s / double(count), 1.0 / gem_p));
      continue;
    }
    double s = 0;
    float m = -std::numeric_limits<float>::infinity();
    for (std::size_t i : *idx) {
      s += plane[i];
      m = std::max(m, plane[i]);
    }
    if (want_avg) avg_out[c] = float(s / double(count));
    if (want_max) max_out[c] = m;
  }
}

}  // namespace

void pool(const float* map, std::size_t channels, int height, int width, const PoolOptions& o,
          float* out) {
  if (o.second_order())
    throw Error(
        cat(to_string(o.effective()), " pooling is computed by the extractor (bilinear.hpp)"));
  const std::size_t n = std::size_t(height) * width;
  if (o.pooling != Pooling::attn) {
    pool_positions(map, channels, n, nullptr, o.pooling, o.gem_p, out);
    return;
  }
  const AttentionMap a = attention_map(map, channels, height, width);
  std::vector<std::size_t> idx;
  idx.reserve(a.kept_count);
  for (std::size_t i = 0; i < n; ++i)
    if (a.kept[i]) idx.push_back(i);
  pool_positions(map, channels, n, &idx,
                 o.attn_pool == Pooling::attn ? Pooling::avgmax : o.attn_pool, o.gem_p, out);
}

void l2_normalize(float* v, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += double(v[i]) * v[i];
  if (s <= 0) return;
  const double inv = 1.0 / std::sqrt(s);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(v[i] * inv);
}

void apply_norm(float* v, std::size_t n, Norm norm) {
  if (norm == Norm::none) return;
  if (norm == Norm::power_l2)
    for (std::size_t i = 0; i < n; ++i) v[i] = std::copysign(std::sqrt(std::fabs(v[i])), v[i]);
  l2_normalize(v, n);
}

}  // namespace fg
