#include "finegrain/extract/pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "finegrain/core/common.hpp"

namespace fg {

Pooling parse_pooling(const std::string& name) {
  if (name == "avg") return Pooling::avg;
  if (name == "max") return Pooling::max;
  if (name == "avgmax") return Pooling::avgmax;
  if (name == "gem") return Pooling::gem;
  if (name == "attn") return Pooling::attn;
  if (name == "bilinear") return Pooling::bilinear;
  if (name == "compact-bilinear") return Pooling::compact_bilinear;
  throw UsageError(cat("unknown pooling '", name, "' (avg, max, avgmax, gem, attn, bilinear, compact-bilinear)"));
}

std::string to_string(Pooling p) {
  switch (p) {
    case Pooling::avg: return "avg";
    case Pooling::max: return "max";
    case Pooling::avgmax: return "avgmax";
    case Pooling::gem: return "gem";
    case Pooling::attn: return "attn";
    case Pooling::bilinear: return "bilinear";
    case Pooling::compact_bilinear: return "compact-bilinear";
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
    case Norm::none: return "none";
    case Norm::l2: return "l2";
    case Norm::power_l2: return "power-l2";
  }
  return "?";
}

std::size_t pooled_dim(std::size_t channels, const PoolOptions& o) {
  switch (o.effective()) {
    case Pooling::avgmax: return 2 * channels;
    case Pooling::bilinear: return channels * (channels + 1) / 2;
    case Pooling::compact_bilinear: return o.sketch_dim;
    default: return channels;
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
  // Largest 8-connected region of `above` (flood fill in row order).
  std::vector<int> comp(n, -1);
  std::vector<std::size_t> stack;
  int best = -1;
  std::size_t best_size = 0;
  double best_sum = -1;
  int ncomp = 0;
  for (std::size_t start = 0; start < n; ++start) {
    if (!above[start] || comp[start] >= 0) continue;
    const int id = ncomp++;
    std::size_t size = 0;
    double sum = 0;
    stack.assign(1, start);
    comp[start] = id;
    while (!stack.empty()) {
      const std::size_t i = stack.back();
      stack.pop_back();
      ++size;
      sum += acc[i];
      const int y = int(i / width), x = int(i % width);
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if ((dy == 0 && dx == 0) || yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const std::size_t j = std::size_t(yy) * width + xx;
          if (above[j] && comp[j] < 0) {
            comp[j] = id;
            stack.push_back(j);
          }
        }
    }
    if (size > best_size || (size == best_size && sum > best_sum)) {
      best = id;
      best_size = size;
      best_sum = sum;
    }
  }
  a.kept.assign(n, 0);
  if (best < 0) {
    std::fill(a.kept.begin(), a.kept.end(), 1);
    a.kept_count = n;
  } else {
    for (std::size_t i = 0; i < n; ++i) a.kept[i] = comp[i] == best;
    a.kept_count = best_size;
  }
  return a;
}

namespace {

// Pools over the positions listed in `idx` (all when idx is null).
void pool_positions(const float* map, std::size_t channels, std::size_t n, const std::vector<std::size_t>* idx,
                    Pooling p, double gem_p, float* out) {
  const std::size_t count = idx ? idx->size() : n;
  const bool want_avg = p == Pooling::avg || p == Pooling::avgmax;
  const bool want_max = p == Pooling::max || p == Pooling::avgmax;
  float* avg_out = out;
  float* max_out = p == Pooling::avgmax ? out + channels : out;
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
    if (idx) {
      for (std::size_t i : *idx) {
        s += plane[i];
        m = std::max(m, plane[i]);
      }
    } else {
      // Four independent sums and maxima: bound by throughput, not by the
      // latency of one serial chain of additions (pooling runs per image).
      double s4[4] = {0, 0, 0, 0};
      float m4[4] = {m, m, m, m};
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
      s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
      m = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
    }
    if (want_avg) avg_out[c] = float(s / double(count));
    if (want_max) max_out[c] = m;
  }
}

}  // namespace

void pool(const float* map, std::size_t channels, int height, int width, const PoolOptions& o, float* out) {
  if (o.second_order()) throw Error(cat(to_string(o.effective()), " pooling is computed by the extractor (bilinear.hpp)"));
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
  pool_positions(map, channels, n, &idx, o.attn_pool == Pooling::attn ? Pooling::avgmax : o.attn_pool, o.gem_p,
                 out);
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
