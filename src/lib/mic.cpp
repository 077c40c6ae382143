// MIC: equipartitions, clumps, superclumps and the column dynamic programme
// (Reshef et al. 2011, supplement; conventions of minepy 1.2.6 as stated in
// shared/MIC-NOTES.md), written for speed: one sort per axis, partitions of a
// shared axis computed once, entropies from a table of k*ln(k), and a
// vectorised dynamic programme that never allocates.
#include "finegrain/mic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "finegrain/common.hpp"
#include "mic_internal.hpp"

namespace fg::mic {

Estimator parse_estimator(const std::string& name) {
  if (name == "mic_approx") return Estimator::mic_approx;
  if (name == "mic_e") return Estimator::mic_e;
  throw UsageError(cat("estimator must be mic_approx or mic_e, got '", name, "'"));
}

const char* estimator_name(Estimator est) {
  return est == Estimator::mic_e ? "mic_e" : "mic_approx";
}

Target parse_target(const std::string& name) {
  if (name == "classes") return Target::classes;
  if (name == "ordinal") return Target::ordinal;
  throw UsageError(cat("target must be classes or ordinal, got '", name, "'"));
}

const char* target_name(Target target) {
  return target == Target::ordinal ? "ordinal" : "classes";
}

void check_params(const Params& params) {
  if (!(params.alpha > 0 && params.alpha <= 1) && !(params.alpha >= 4))
    throw UsageError(cat("alpha must be in (0, 1] or >= 4, got ", params.alpha));
  if (!(params.c > 0) || !std::isfinite(params.c))
    throw UsageError(cat("c must be > 0, got ", params.c));
}

double grid_budget(std::size_t n, double alpha) {
  if (alpha >= 4) return std::min(alpha, static_cast<double>(n));
  return std::max(std::pow(static_cast<double>(n), alpha), 4.0);
}

void CharacteristicMatrix::shape(double budget) {
  max_rows = std::max(static_cast<int>(std::floor(budget / 2)), 2);
  max_cols.assign(max_rows - 1, 0);
  offset.assign(max_rows - 1, 0);
  std::size_t total = 0;
  for (int y = 2; y <= max_rows; ++y) {
    int x = static_cast<int>(std::floor(budget / y));
    max_cols[y - 2] = x;
    offset[y - 2] = total;
    total += x >= 2 ? static_cast<std::size_t>(x - 1) : 0;
  }
  cells.assign(total, 0.0);
}

namespace detail {

void NLogN::ensure(std::size_t n) {
  if (table_.size() > n) return;
  std::size_t old = table_.size();
  table_.resize(n + 1);
  for (std::size_t k = old; k <= n; ++k)
    table_[k] = k == 0 ? 0.0 : static_cast<double>(k) * std::log(static_cast<double>(k));
}

int equipartition(const std::uint32_t* sizes, std::size_t groups, std::size_t n, int k,
                  std::uint32_t* bin_of_group) {
  double target = static_cast<double>(n) / k;
  std::size_t current = 0, assigned = 0;
  int bin = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t s = sizes[g];
    if (current > 0 &&
        std::fabs(static_cast<double>(current + s) - target) >=
            std::fabs(static_cast<double>(current) - target)) {
      ++bin;
      current = 0;
      target = static_cast<double>(n - assigned) / static_cast<double>(k - bin);
    }
    bin_of_group[g] = static_cast<std::uint32_t>(bin);
    current += s;
    assigned += s;
  }
  return bin + 1;
}

void Axis::build_sorted(std::size_t count) {
  n = count;
  runs.clear();
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && keys[j] == keys[i]) ++j;
    runs.push_back(static_cast<std::uint32_t>(j - i));
    i = j;
  }
}

int Axis::partition(int k, std::uint32_t* bin_of_point, std::uint32_t* bin_sizes,
                    std::vector<std::uint32_t>& scratch) const {
  scratch.resize(runs.size());
  int q = equipartition(runs.data(), runs.size(), n, k, scratch.data());
  std::fill(bin_sizes, bin_sizes + q, 0u);
  std::size_t pos = 0;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const std::uint32_t b = scratch[r];
    for (std::uint32_t j = 0; j < runs[r]; ++j) bin_of_point[order[pos++]] = b;
    bin_sizes[b] += runs[r];
  }
  return q;
}

namespace {

// One step of the column programme for every column count at once:
// acc[i] = max(acc[i], g[i] - w) over the rows s < t, four rows at a time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void relax_rows(double* __restrict acc, const double* __restrict g0, std::size_t stride,
                const double* __restrict w, std::size_t rows, std::size_t m) {
  std::size_t s = 0;
  for (; s + 4 <= rows; s += 4) {
    const double* a = g0 + s * stride;
    const double* b = a + stride;
    const double* c = b + stride;
    const double* d = c + stride;
    const double wa = w[s], wb = w[s + 1], wc = w[s + 2], wd = w[s + 3];
    for (std::size_t i = 0; i < m; ++i) {
      double va = a[i] - wa, vb = b[i] - wb, vc = c[i] - wc, vd = d[i] - wd;
      double v1 = va > vb ? va : vb;
      double v2 = vc > vd ? vc : vd;
      double v = v1 > v2 ? v1 : v2;
      acc[i] = acc[i] > v ? acc[i] : v;
    }
  }
  for (; s < rows; ++s) {
    const double* a = g0 + s * stride;
    const double wa = w[s];
    for (std::size_t i = 0; i < m; ++i) {
      double v = a[i] - wa;
      acc[i] = acc[i] > v ? acc[i] : v;
    }
  }
}

}  // namespace

void optimise_axis(const std::uint32_t* row_of_point, int q, const std::uint32_t* row_sizes,
                   const Axis& clump_axis, int max_cols, int max_clumps, const NLogN& h,
                   Work& work, double* out) {
  const std::size_t n = clump_axis.n;
  const int L = max_cols;
  if (L < 2) return;
  std::fill(out, out + (L - 1), 0.0);
  if (q < 2) return;  // one row: no information (every clump has the same label)

  // Clumps: along the clump axis, runs of equal row label; a tie run with
  // mixed labels is a clump of its own.
  const std::uint32_t* order = clump_axis.order.data();
  const auto& runs = clump_axis.runs;
  auto& clump_end = work.clump_end;
  clump_end.clear();
  {
    std::size_t pos = 0;
    std::uint32_t previous = 0;
    bool previous_mixed = true;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const std::uint32_t s = runs[r];
      const std::uint32_t label = row_of_point[order[pos]];
      bool mixed = false;
      for (std::uint32_t j = 1; j < s; ++j)
        if (row_of_point[order[pos + j]] != label) {
          mixed = true;
          break;
        }
      if (r > 0 && (mixed || previous_mixed || label != previous))
        clump_end.push_back(static_cast<std::uint32_t>(pos));
      previous = label;
      previous_mixed = mixed;
      pos += s;
    }
    clump_end.push_back(static_cast<std::uint32_t>(pos));
  }
  std::size_t p = clump_end.size();

  // Superclumps: more clumps than allowed are merged by equipartitioning the
  // clump sequence (each clump a tie group).
  const int khat = std::max(max_clumps, 1);
  if (p > static_cast<std::size_t>(khat)) {
    auto& sizes = work.sizes;
    auto& bins = work.bins;
    sizes.resize(p);
    bins.resize(p);
    std::uint32_t start = 0;
    for (std::size_t j = 0; j < p; ++j) {
      sizes[j] = clump_end[j] - start;
      start = clump_end[j];
    }
    equipartition(sizes.data(), p, n, khat, bins.data());
    std::size_t out_count = 0;
    for (std::size_t j = 0; j < p; ++j)
      if (j + 1 == p || bins[j + 1] != bins[j]) clump_end[out_count++] = clump_end[j];
    clump_end.resize(out_count);
    p = out_count;
  }
  if (p <= 1) return;

  // Row-label composition of each superclump (sparse).
  auto& count = work.count;
  if (count.size() < static_cast<std::size_t>(q)) count.assign(q, 0);
  auto& touched = work.touched;
  auto& comp_start = work.comp_start;
  auto& comp_label = work.comp_label;
  auto& comp_count = work.comp_count;
  auto& csize = work.csize;
  comp_start.resize(p + 1);
  csize.resize(p);
  comp_label.clear();
  comp_count.clear();
  {
    std::size_t pos = 0;
    for (std::size_t j = 0; j < p; ++j) {
      comp_start[j] = static_cast<std::uint32_t>(comp_label.size());
      touched.clear();
      for (; pos < clump_end[j]; ++pos) {
        const std::uint32_t label = row_of_point[order[pos]];
        if (count[label]++ == 0) touched.push_back(label);
      }
      for (std::uint32_t label : touched) {
        comp_label.push_back(label);
        comp_count.push_back(count[label]);
        count[label] = 0;
      }
      csize[j] = (j == 0 ? clump_end[0] : clump_end[j] - clump_end[j - 1]);
    }
    comp_start[p] = static_cast<std::uint32_t>(comp_label.size());
  }

  // H(Q) over all points, in nats, times n.
  double hq_n = h(n);
  for (int i = 0; i < q; ++i) hq_n -= h(row_sizes[i]);

  // G(t, l) = -n_t * H(Q | best partition of clumps 1..t into <= l columns),
  // row t-1 of `g`, column l-1. W(s, t) = n_(s,t] * H(Q | clumps s+1..t).
  const std::size_t stride = static_cast<std::size_t>(L);
  auto& g = work.g;
  if (g.size() < p * stride) g.resize(p * stride);
  auto& w = work.w;
  if (w.size() < p + 1) w.resize(p + 1);
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  for (std::size_t t = 1; t <= p; ++t) {
    double sum = 0;       // sum of h(count) over the segment
    std::uint32_t size = 0;
    touched.clear();
    for (std::size_t j = t; j >= 1; --j) {
      for (std::uint32_t e = comp_start[j - 1]; e < comp_start[j]; ++e) {
        const std::uint32_t label = comp_label[e];
        const std::uint32_t old = count[label];
        if (old == 0) touched.push_back(label);
        const std::uint32_t now = old + comp_count[e];
        count[label] = now;
        sum += h(now) - h(old);
      }
      size += csize[j - 1];
      w[j - 1] = h(size) - sum;
    }
    for (std::uint32_t label : touched) count[label] = 0;

    double* gt = g.data() + (t - 1) * stride;
    gt[0] = -w[0];
    for (int l = 1; l < L; ++l) gt[l] = kNone;
    if (t >= 2) relax_rows(gt + 1, g.data(), stride, w.data() + 1, t - 1, stride - 1);
    for (int l = 1; l < L; ++l)
      if (gt[l - 1] > gt[l]) gt[l] = gt[l - 1];
  }
  const double* gp = g.data() + (p - 1) * stride;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (int l = 2; l <= L; ++l) {
    const double mi = (hq_n + gp[l - 1]) * inv_n;
    out[l - 2] = mi / std::log(static_cast<double>(std::min(l, q)));
  }
}

int max_clumps(double c, int max_cols) {
  return std::max(static_cast<int>(c * max_cols), 1);
}

void fill_orientation(const Axis& equi_axis, const Axis& clump_axis, const Params& params,
                      bool transposed, PairWork& pw, CharacteristicMatrix& m,
                      const PreparedAxis* cached) {
  const std::size_t n = equi_axis.n;
  if (!cached) {
    pw.bins.resize(n);
    pw.bin_sizes.resize(m.max_rows + 1);
  }
  for (int k = 2; k <= m.max_rows; ++k) {
    const int X = m.max_cols[k - 2];
    const int L = params.est == Estimator::mic_e ? std::min(k, X) : X;
    const std::uint32_t* bins;
    const std::uint32_t* sizes;
    int q;
    if (cached) {
      bins = cached->bins.data() + static_cast<std::size_t>(k - 2) * n;
      q = cached->q[k - 2];
      sizes = cached->sizes.data() + static_cast<std::size_t>(k - 2) * (m.max_rows + 1);
    } else {
      q = equi_axis.partition(k, pw.bins.data(), pw.bin_sizes.data(), pw.scratch);
      bins = pw.bins.data();
      sizes = pw.bin_sizes.data();
    }
    pw.row.resize(std::max(L - 1, 1));
    optimise_axis(bins, q, sizes, clump_axis, L, max_clumps(params.c, X), *pw.h, pw.work,
                  pw.row.data());
    for (int l = 2; l <= L; ++l) {
      const double v = pw.row[l - 2];
      if (!transposed) {
        // Orientation A: k rows, l columns.
        if (params.est == Estimator::mic_e) {
          if (l < k) m.at(k, l) = v;
        } else {
          m.at(k, l) = std::max(m.at(k, l), v);
        }
      } else {
        // Orientation B: k columns (equipartitioned x), l rows.
        if (params.est == Estimator::mic_e) {
          if (l <= k) m.at(l, k) = v;
        } else {
          m.at(l, k) = std::max(m.at(l, k), v);
        }
      }
    }
  }
}

void PreparedAxis::prepare(const std::vector<double>& values, double budget) {
  axis.keys.resize(values.size());
  axis.order.resize(values.size());
  std::iota(axis.order.begin(), axis.order.end(), 0u);
  std::sort(axis.order.begin(), axis.order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return values[a] < values[b]; });
  for (std::size_t i = 0; i < values.size(); ++i) axis.keys[i] = values[axis.order[i]];
  axis.build_sorted(values.size());
  shape.shape(budget);
  const std::size_t n = values.size();
  const int Y = shape.max_rows;
  bins.resize(static_cast<std::size_t>(Y - 1) * n);
  q.resize(Y - 1);
  sizes.assign(static_cast<std::size_t>(Y - 1) * (Y + 1), 0);
  std::vector<std::uint32_t> scratch;
  for (int k = 2; k <= Y; ++k)
    q[k - 2] = axis.partition(k, bins.data() + static_cast<std::size_t>(k - 2) * n,
                              sizes.data() + static_cast<std::size_t>(k - 2) * (Y + 1), scratch);
}

}  // namespace detail

using detail::Axis;

namespace {

void check_finite(const double* v, std::size_t n, const char* name) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) throw Error(cat("MIC: ", name, " value ", i + 1, " is not finite"));
}

void sorted_axis(const double* values, std::size_t n, Axis& axis) {
  axis.order.resize(n);
  std::iota(axis.order.begin(), axis.order.end(), 0u);
  std::sort(axis.order.begin(), axis.order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return values[a] < values[b]; });
  axis.keys.resize(n);
  for (std::size_t i = 0; i < n; ++i) axis.keys[i] = values[axis.order[i]];
  axis.build_sorted(n);
}

}  // namespace

CharacteristicMatrix characteristic_matrix(const double* x, const double* y, std::size_t n,
                                           const Params& params) {
  check_params(params);
  if (n < 4) throw Error(cat("MIC needs at least 4 samples, got ", n));
  check_finite(x, n, "x");
  check_finite(y, n, "y");
  CharacteristicMatrix m;
  m.shape(grid_budget(n, params.alpha));
  Axis ax, ay;
  sorted_axis(x, n, ax);
  sorted_axis(y, n, ay);
  detail::NLogN h;
  h.ensure(n);
  detail::PairWork pw;
  pw.h = &h;
  // A: y equipartitioned into k rows, x optimised; B: the roles exchanged.
  detail::fill_orientation(ay, ax, params, false, pw, m, nullptr);
  detail::fill_orientation(ax, ay, params, true, pw, m, nullptr);
  return m;
}

Statistics statistics(const CharacteristicMatrix& m) {
  Statistics s;
  double mic = 0, tic = 0, mev = 0, mas = 0;
  for (int y = 2; y <= m.max_rows; ++y)
    for (int x = 2; x <= m.max_cols[y - 2]; ++x) {
      const double v = m.at(y, x);
      mic = std::max(mic, v);
      tic += v;
      if (x == 2 || y == 2) mev = std::max(mev, v);
      if (m.has(x, y)) mas = std::max(mas, std::fabs(v - m.at(x, y)));
    }
  s.mic = mic;
  s.tic = tic;
  s.mev = mev;
  s.mas = mas;
  s.mcn = mcn(m, 0.0);
  double best = std::numeric_limits<double>::max();
  for (int y = 2; y <= m.max_rows; ++y)
    for (int x = 2; x <= m.max_cols[y - 2]; ++x)
      if (m.at(y, x) + 0.0001 >= mic * mic) best = std::min(best, std::log2(double(x) * y));
  s.mcn_general = best;
  return s;
}

double mcn(const CharacteristicMatrix& m, double eps) {
  double mic = 0;
  for (double v : m.cells) mic = std::max(mic, v);
  double best = std::numeric_limits<double>::max();
  for (int y = 2; y <= m.max_rows; ++y)
    for (int x = 2; x <= m.max_cols[y - 2]; ++x)
      if (m.at(y, x) + 0.0001 >= (1 - eps) * mic) best = std::min(best, std::log2(double(x) * y));
  return best;
}

Statistics pair_statistics(const double* x, const double* y, std::size_t n, const Params& params) {
  return statistics(characteristic_matrix(x, y, n, params));
}

}  // namespace fg::mic
