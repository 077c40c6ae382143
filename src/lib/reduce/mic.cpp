// MIC: equipartitions, clumps, superclumps and the column dynamic programme
// (Reshef et al. 2011, supplement; conventions of minepy 1.2.6 as stated in
// shared/MIC-NOTES.md), written for speed: one sort per axis, partitions of a
// shared axis computed once, entropies from a table of k*ln(k), and a
// vectorised dynamic programme that never allocates.
#include "finegrain/reduce/mic.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>

#include "finegrain/core/common.hpp"
#include "finegrain/core/cpu.hpp"
#include "finegrain/data/table.hpp"
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

const char* target_name(Target target) { return target == Target::ordinal ? "ordinal" : "classes"; }

Redundancy parse_redundancy(const std::string& name) {
  if (name == "none") return Redundancy::none;
  if (name == "mic") return Redundancy::mic;
  if (name == "corr") return Redundancy::corr;
  throw UsageError(cat("redundancy must be none, mic or corr, got '", name, "'"));
}

const char* redundancy_name(Redundancy redundancy) {
  switch (redundancy) {
    case Redundancy::mic:
      return "mic";
    case Redundancy::corr:
      return "corr";
    case Redundancy::none:
      break;
  }
  return "none";
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
    if (current > 0 && std::fabs(static_cast<double>(current + s) - target) >=
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

constexpr std::size_t kLanes = 8;      // DP rows are padded to a multiple of this
constexpr std::size_t kMaxBlockT = 8;  // most DP rows finished together (sharing loads)
constexpr int kFewLabels = 8;          // count_cumulative keeps this many counts in registers
constexpr double kNone = -std::numeric_limits<double>::infinity();

std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }

// w[s] = h(size_t - size_s) - sum_i h(cum_i[t] - cum_i[s]) for s = 0 .. t-1:
// n * H(Q | clumps s+1..t), over the labels present in clumps 1..t. The
// counts come negated (ncum = -cum, label-major, `stride` entries per label),
// so h(c_t - c_s) = (h + c_t)[ncum[s]]: one load of the index and one of the
// table per term, with the base pointer per label held in a register.
// Every value is summed in one fixed order: h(size) first, then the labels in
// groups of four, ((x0 + x1) + (x2 + x3)) each, then the last up to three
// one by one; the passes below are fused only along that order. Scalar on
// purpose: table lookups by scalar loads beat vector gathers here (measured).
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
void segment_costs(const double* __restrict h, const std::int32_t* __restrict ntotal,
                   const std::int32_t* __restrict ncum, const std::int32_t* __restrict present,
                   std::size_t present_count, std::size_t stride, std::size_t t,
                   double* __restrict w) {
  const std::int32_t* col[4] = {};
  const double* base[4] = {};
  auto label = [&](std::size_t slot, std::size_t k) {
    col[slot] = ncum + static_cast<std::size_t>(present[k]) * stride;
    base[slot] = h - col[slot][t];
#if defined(__GNUC__)
    // Keep the base a pointer: folded back into h[c_s - c_t], the lookup would
    // cost an extra subtraction per term.
    asm("" : "+r"(base[slot]));
#endif
  };
  const double* ht = h - ntotal[t];
#if defined(__GNUC__)
  asm("" : "+r"(ht));
#endif
  const std::size_t groups = present_count / 4;
  std::size_t k = 0;
  if (groups > 0) {
    // The first group, fused with h(size).
    for (std::size_t j = 0; j < 4; ++j) label(j, k + j);
    const std::int32_t *c0 = col[0], *c1 = col[1], *c2 = col[2], *c3 = col[3];
    const double *b0 = base[0], *b1 = base[1], *b2 = base[2], *b3 = base[3];
    for (std::size_t s = 0; s < t; ++s)
      w[s] = ht[ntotal[s]] - ((b0[c0[s]] + b1[c1[s]]) + (b2[c2[s]] + b3[c3[s]]));
    for (k = 4; k + 4 <= present_count; k += 4) {
      for (std::size_t j = 0; j < 4; ++j) label(j, k + j);
      c0 = col[0], c1 = col[1], c2 = col[2], c3 = col[3];
      b0 = base[0], b1 = base[1], b2 = base[2], b3 = base[3];
      for (std::size_t s = 0; s < t; ++s) w[s] -= (b0[c0[s]] + b1[c1[s]]) + (b2[c2[s]] + b3[c3[s]]);
    }
  }
  // The last up to three labels, one by one (after h(size) if no group came).
  const std::size_t rest = present_count - k;
  for (std::size_t j = 0; j < rest; ++j) label(j, k + j);
  const std::int32_t *c0 = col[0], *c1 = col[1], *c2 = col[2];
  const double *b0 = base[0], *b1 = base[1], *b2 = base[2];
  if (groups == 0) {
    switch (rest) {
      case 0:
        for (std::size_t s = 0; s < t; ++s) w[s] = ht[ntotal[s]];
        break;
      case 1:
        for (std::size_t s = 0; s < t; ++s) w[s] = ht[ntotal[s]] - b0[c0[s]];
        break;
      case 2:
        for (std::size_t s = 0; s < t; ++s) w[s] = (ht[ntotal[s]] - b0[c0[s]]) - b1[c1[s]];
        break;
      default:
        for (std::size_t s = 0; s < t; ++s)
          w[s] = ((ht[ntotal[s]] - b0[c0[s]]) - b1[c1[s]]) - b2[c2[s]];
        break;
    }
    return;
  }
  switch (rest) {
    case 1:
      for (std::size_t s = 0; s < t; ++s) w[s] -= b0[c0[s]];
      break;
    case 2:
      for (std::size_t s = 0; s < t; ++s) w[s] = (w[s] - b0[c0[s]]) - b1[c1[s]];
      break;
    case 3:
      for (std::size_t s = 0; s < t; ++s) w[s] = ((w[s] - b0[c0[s]]) - b1[c1[s]]) - b2[c2[s]];
      break;
    default:
      break;
  }
}

// ---- the relaxation kernel, the hot loop of the dynamic programme ----------
// acc_b[i] = max(acc_b[i], g_s[i] - w_b[s]) for rows s in [s0, s1), b < nb;
// m is a multiple of kLanes and rows of g are padded with -inf. A maximum of
// exactly computed differences does not depend on the order it is taken in,
// so every form below (and every blocking) gives the same bits.
using RelaxFn = void (*)(double* const* acc, const double* const* w, std::size_t nb,
                         const double* g, std::size_t stride, std::size_t s0, std::size_t s1,
                         std::size_t m);

// Plain C++, vectorised by the compiler for the build's baseline.
void relax_generic(double* const* acc, const double* const* w, std::size_t nb, const double* g,
                   std::size_t stride, std::size_t s0, std::size_t s1, std::size_t m) {
  for (std::size_t b = 0; b < nb; ++b) {
    double* __restrict a = acc[b];
    const double* __restrict wb = w[b];
    for (std::size_t s = s0; s < s1; ++s) {
      const double* __restrict gs = g + s * stride;
      const double ws = wb[s];
      for (std::size_t i = 0; i < m; ++i) {
        const double v = gs[i] - ws;
        a[i] = a[i] > v ? a[i] : v;
      }
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FG_MIC_X86 1
// GCC 12 warns about _mm512_undefined_pd inside its own intrinsics (PR 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// g - w as an FMA, -(w * 1) + g: the product is exact, so the one rounding
// gives the bits of the subtraction. On AMD's Zen cores the maxima and
// subtractions would share the two floating-point adder pipes while the two
// FMA pipes idle: with the subtraction an FMA, the whole ordinal scoring took
// 15-17 % less CPU on a Zen 5 EPYC with the AVX2 kernels (on Intel's cores
// additions and FMAs share ports: no gain expected there, none measured).
__attribute__((target("avx2,fma"))) inline __m256d minus(__m256d g, __m256d w) {
  return _mm256_fnmadd_pd(w, _mm256_set1_pd(1.0), g);
}
__attribute__((target("avx512f"))) inline __m512d minus(__m512d g, __m512d w) {
  return _mm512_fnmadd_pd(w, _mm512_set1_pd(1.0), g);
}

// AVX2 has 16 ymm registers of 4 doubles: a block of 5 rows x 8 columns keeps
// 10 accumulators in registers, with 2 for the row of g, 1 for the broadcast
// w, 1 for the constant 1 of minus() and 1 for its result (6 rows, 12
// accumulators, spilled two of them to the stack inside the loop).
constexpr std::size_t kAvx2Rows = 5;
__attribute__((target("avx2,fma"))) void relax_avx2(double* const* acc, const double* const* w,
                                                    std::size_t nb, const double* g,
                                                    std::size_t stride, std::size_t s0,
                                                    std::size_t s1, std::size_t m) {
  std::size_t b0 = 0;
  for (; b0 + kAvx2Rows <= nb; b0 += kAvx2Rows) {
    double* const* ab = acc + b0;
    const double* const* wb = w + b0;
    for (std::size_t i = 0; i < m; i += 8) {
      __m256d a[kAvx2Rows][2];
      for (std::size_t b = 0; b < kAvx2Rows; ++b) {
        a[b][0] = _mm256_loadu_pd(ab[b] + i);
        a[b][1] = _mm256_loadu_pd(ab[b] + i + 4);
      }
      const double* gs = g + s0 * stride + i;
      for (std::size_t s = s0; s < s1; ++s, gs += stride) {
        const __m256d g0 = _mm256_loadu_pd(gs), g1 = _mm256_loadu_pd(gs + 4);
        for (std::size_t b = 0; b < kAvx2Rows; ++b) {
          const __m256d ws = _mm256_broadcast_sd(wb[b] + s);
          a[b][0] = _mm256_max_pd(a[b][0], minus(g0, ws));
          a[b][1] = _mm256_max_pd(a[b][1], minus(g1, ws));
        }
      }
      for (std::size_t b = 0; b < kAvx2Rows; ++b) {
        _mm256_storeu_pd(ab[b] + i, a[b][0]);
        _mm256_storeu_pd(ab[b] + i + 4, a[b][1]);
      }
    }
  }
  // Fewer rows (the end of the programme, the triangle inside a block): one
  // row at a time, 16 columns (4 accumulators) per pass over s.
  for (std::size_t b = b0; b < nb; ++b) {
    double* a_row = acc[b];
    const double* w_row = w[b];
    std::size_t i = 0;
    for (; i + 16 <= m; i += 16) {
      __m256d a0 = _mm256_loadu_pd(a_row + i), a1 = _mm256_loadu_pd(a_row + i + 4),
              a2 = _mm256_loadu_pd(a_row + i + 8), a3 = _mm256_loadu_pd(a_row + i + 12);
      const double* gs = g + s0 * stride + i;
      for (std::size_t s = s0; s < s1; ++s, gs += stride) {
        const __m256d ws = _mm256_broadcast_sd(w_row + s);
        a0 = _mm256_max_pd(a0, minus(_mm256_loadu_pd(gs), ws));
        a1 = _mm256_max_pd(a1, minus(_mm256_loadu_pd(gs + 4), ws));
        a2 = _mm256_max_pd(a2, minus(_mm256_loadu_pd(gs + 8), ws));
        a3 = _mm256_max_pd(a3, minus(_mm256_loadu_pd(gs + 12), ws));
      }
      _mm256_storeu_pd(a_row + i, a0);
      _mm256_storeu_pd(a_row + i + 4, a1);
      _mm256_storeu_pd(a_row + i + 8, a2);
      _mm256_storeu_pd(a_row + i + 12, a3);
    }
    for (; i < m; i += 8) {
      __m256d a0 = _mm256_loadu_pd(a_row + i), a1 = _mm256_loadu_pd(a_row + i + 4);
      const double* gs = g + s0 * stride + i;
      for (std::size_t s = s0; s < s1; ++s, gs += stride) {
        const __m256d ws = _mm256_broadcast_sd(w_row + s);
        a0 = _mm256_max_pd(a0, minus(_mm256_loadu_pd(gs), ws));
        a1 = _mm256_max_pd(a1, minus(_mm256_loadu_pd(gs + 4), ws));
      }
      _mm256_storeu_pd(a_row + i, a0);
      _mm256_storeu_pd(a_row + i + 4, a1);
    }
  }
}

// AVX-512 has 32 zmm registers of 8 doubles: 4 rows x 32 columns of
// accumulators stay in registers while the rows s stream by.
constexpr std::size_t kAvx512Rows = 4;
__attribute__((target("avx512f"))) void relax_avx512(double* const* acc, const double* const* w,
                                                     std::size_t nb, const double* g,
                                                     std::size_t stride, std::size_t s0,
                                                     std::size_t s1, std::size_t m) {
  if (nb == kAvx512Rows) {
    std::size_t i = 0;
    for (; i + 32 <= m; i += 32) {
      __m512d a[4][4];
      for (int b = 0; b < 4; ++b)
        for (int c = 0; c < 4; ++c) a[b][c] = _mm512_loadu_pd(acc[b] + i + 8 * c);
      for (std::size_t s = s0; s < s1; ++s) {
        const double* gs = g + s * stride + i;
        const __m512d g0 = _mm512_loadu_pd(gs), g1 = _mm512_loadu_pd(gs + 8),
                      g2 = _mm512_loadu_pd(gs + 16), g3 = _mm512_loadu_pd(gs + 24);
        for (int b = 0; b < 4; ++b) {
          const __m512d wb = _mm512_set1_pd(w[b][s]);
          a[b][0] = _mm512_max_pd(a[b][0], minus(g0, wb));
          a[b][1] = _mm512_max_pd(a[b][1], minus(g1, wb));
          a[b][2] = _mm512_max_pd(a[b][2], minus(g2, wb));
          a[b][3] = _mm512_max_pd(a[b][3], minus(g3, wb));
        }
      }
      for (int b = 0; b < 4; ++b)
        for (int c = 0; c < 4; ++c) _mm512_storeu_pd(acc[b] + i + 8 * c, a[b][c]);
    }
    for (; i < m; i += 8) {
      __m512d a0 = _mm512_loadu_pd(acc[0] + i), a1 = _mm512_loadu_pd(acc[1] + i),
              a2 = _mm512_loadu_pd(acc[2] + i), a3 = _mm512_loadu_pd(acc[3] + i);
      for (std::size_t s = s0; s < s1; ++s) {
        const __m512d gs = _mm512_loadu_pd(g + s * stride + i);
        a0 = _mm512_max_pd(a0, minus(gs, _mm512_set1_pd(w[0][s])));
        a1 = _mm512_max_pd(a1, minus(gs, _mm512_set1_pd(w[1][s])));
        a2 = _mm512_max_pd(a2, minus(gs, _mm512_set1_pd(w[2][s])));
        a3 = _mm512_max_pd(a3, minus(gs, _mm512_set1_pd(w[3][s])));
      }
      _mm512_storeu_pd(acc[0] + i, a0);
      _mm512_storeu_pd(acc[1] + i, a1);
      _mm512_storeu_pd(acc[2] + i, a2);
      _mm512_storeu_pd(acc[3] + i, a3);
    }
    return;
  }
  for (std::size_t b = 0; b < nb; ++b) {
    for (std::size_t i = 0; i < m; i += 8) {
      __m512d a = _mm512_loadu_pd(acc[b] + i);
      for (std::size_t s = s0; s < s1; ++s)
        a = _mm512_max_pd(a, minus(_mm512_loadu_pd(g + s * stride + i), _mm512_set1_pd(w[b][s])));
      _mm512_storeu_pd(acc[b] + i, a);
    }
  }
}
#pragma GCC diagnostic pop
#endif

// The kernel for the current ISA level and the DP rows it finishes together.
struct Relax {
  RelaxFn fn = relax_generic;
  std::size_t rows = 4;
  void operator()(double* const* acc, const double* const* w, std::size_t nb, const double* g,
                  std::size_t stride, std::size_t s0, std::size_t s1, std::size_t m) const {
    if (s1 > s0) fn(acc, w, nb, g, stride, s0, s1, m);
  }
};

Relax relax_for(Isa isa) {
  Relax r;
#ifdef FG_MIC_X86
  if (isa >= Isa::avx512) {
    r.fn = relax_avx512;
    r.rows = kAvx512Rows;
  } else if (isa >= Isa::avx2) {
    r.fn = relax_avx2;
    r.rows = kAvx2Rows;
  }
#else
  (void)isa;
#endif
  return r;
}

// Clumps: along the clump axis, runs of equal row label; a tie run with
// mixed labels is a clump of its own. row_along[pos] = the row label of the
// point at position pos of the clump axis; clump_end[j] = end position of clump j.
void find_clumps(const std::uint32_t* row_along, const Axis& clump_axis,
                 std::vector<std::uint32_t>& clump_end) {
  const auto& runs = clump_axis.runs;
  // At most one clump per run; the ends are written unconditionally and kept
  // or overwritten (a data-dependent branch here mispredicts about half the time).
  clump_end.resize(runs.size());
  std::uint32_t* end = clump_end.data();
  std::size_t clumps = 0, pos = 0;
  std::uint32_t previous = 0;
  bool previous_mixed = true;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const std::uint32_t s = runs[r];
    const std::uint32_t label = row_along[pos];
    bool mixed = false;
    for (std::uint32_t j = 1; j < s; ++j)
      if (row_along[pos + j] != label) {
        mixed = true;
        break;
      }
    end[clumps] = static_cast<std::uint32_t>(pos);
    clumps += r > 0 && (mixed | previous_mixed | (label != previous));
    previous = label;
    previous_mixed = mixed;
    pos += s;
  }
  end[clumps++] = static_cast<std::uint32_t>(pos);
  clump_end.resize(clumps);
}

// Superclumps: more clumps than `khat` are merged by equipartitioning the
// clump sequence (each clump a tie group) of n points.
void merge_superclumps(std::size_t n, int khat, Work& work) {
  auto& clump_end = work.clump_end;
  const std::size_t p = clump_end.size();
  if (p <= static_cast<std::size_t>(khat)) return;
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
  // In place (out_count <= j), without a data-dependent branch.
  for (std::size_t j = 0; j + 1 < p; ++j) {
    clump_end[out_count] = clump_end[j];
    out_count += bins[j + 1] != bins[j];
  }
  clump_end[out_count++] = clump_end[p - 1];
  clump_end.resize(out_count);
}

// Cumulative label counts over the p superclumps, negated (see
// segment_costs), label-major: cum[i * cstride + j] = -(points of label i in
// superclumps 1..j), total[j] = -(points in them). Also the labels in order
// of first appearance along the clump axis (an order that renumbering the
// labels cannot change, so neither can any rounding), and how many have
// appeared by superclump t.
void count_cumulative(const std::uint32_t* row_along, int q, std::size_t cstride, Work& work) {
  const auto& clump_end = work.clump_end;
  const std::size_t p = clump_end.size();
  auto& cum = work.cum;
  cum.assign(static_cast<std::size_t>(q) * cstride, 0);
  auto& total = work.total;
  total.assign(cstride, 0);
  auto& present = work.present;
  auto& present_upto = work.present_upto;
  present.clear();
  present_upto.resize(p + 1);
  present_upto[0] = 0;
  if (q <= kFewLabels) {
    // Few labels (long runs of one label along the axis): the counts stay in
    // registers; through memory, each point would wait for the previous
    // point's increment of the same counter.
    std::uint32_t few[kFewLabels] = {};
    std::uint32_t seen = 0;
    std::size_t pos = 0;
    for (std::size_t j = 0; j < p; ++j) {
      for (; pos < clump_end[j]; ++pos) {
        const std::uint32_t label = row_along[pos];
        for (int i = 0; i < kFewLabels; ++i) few[i] += label == static_cast<std::uint32_t>(i);
        if (!(seen >> label & 1u)) {
          seen |= 1u << label;
          present.push_back(static_cast<std::int32_t>(label));
        }
      }
      for (int i = 0; i < q; ++i) cum[i * cstride + j + 1] = -static_cast<std::int32_t>(few[i]);
      total[j + 1] = -static_cast<std::int32_t>(clump_end[j]);
      present_upto[j + 1] = static_cast<std::uint32_t>(present.size());
    }
    return;
  }
  auto& count = work.count;
  count.assign(q, 0);
  std::size_t pos = 0;
  for (std::size_t j = 0; j < p; ++j) {
    for (; pos < clump_end[j]; ++pos) {
      const std::uint32_t label = row_along[pos];
      if (count[label]++ == 0) present.push_back(static_cast<std::int32_t>(label));
    }
    for (int i = 0; i < q; ++i) cum[i * cstride + j + 1] = -static_cast<std::int32_t>(count[i]);
    total[j + 1] = -static_cast<std::int32_t>(clump_end[j]);
    present_upto[j + 1] = static_cast<std::uint32_t>(present.size());
  }
}

// The dynamic programme over the p superclumps (counted by count_cumulative):
// G(t, l) = -n_t * H(Q | the best partition of superclumps 1..t into at
// most l columns): row t-1 of work.g (`stride` wide), entry l-1, padded with -inf.
// W(s, t) = n_(s,t] * H(Q | superclumps s+1..t). Then
// G(t, l) = max(G(t, l-1), max over 1 <= s < t of G(s, l-1) - W(s, t)).
void best_partitions(std::size_t p, int L, std::size_t cstride, std::size_t stride, const NLogN& h,
                     Work& work) {
  const std::size_t m = round_up(static_cast<std::size_t>(L - 1), kLanes);
  auto& g = work.g;
  if (g.size() < p * stride) g.resize(p * stride);
  auto& w = work.w;
  const Relax relax = relax_for(kernel_isa());
  const std::size_t block = relax.rows;  // DP rows finished together (sharing loads of g)
  if (w.size() < block * cstride) w.resize(block * cstride);
  auto& acc = work.acc;
  if (acc.size() < block * m) acc.resize(block * m);
  const double* htab = h.data();
  for (std::size_t t0 = 1; t0 <= p; t0 += block) {
    const std::size_t nb = std::min(block, p + 1 - t0);
    double* accs[kMaxBlockT];
    const double* ws[kMaxBlockT];
    for (std::size_t b = 0; b < nb; ++b) {
      double* wb = w.data() + b * cstride;
      const std::size_t t = t0 + b;
      segment_costs(htab, work.total.data(), work.cum.data(), work.present.data(),
                    work.present_upto[t], cstride, t, wb);
      // wb[s] for s >= 1 pairs with g row s-1: shift the view by one.
      ws[b] = wb + 1;
      accs[b] = acc.data() + b * m;
      std::fill(accs[b], accs[b] + m, kNone);
    }
    // Rows finished before this block, shared by the block's rows.
    relax(accs, ws, nb, g.data(), stride, 0, t0 - 1, m);
    for (std::size_t b = 0; b < nb; ++b) {
      const std::size_t t = t0 + b;
      // Rows of this block before t.
      relax(accs + b, ws + b, 1, g.data(), stride, t0 - 1, t - 1, m);
      double* gt = g.data() + (t - 1) * stride;
      gt[0] = -w[b * cstride];
      for (int l = 1; l < L; ++l) gt[l] = std::max(accs[b][l - 1], gt[l - 1]);
      for (std::size_t l = L; l < stride; ++l) gt[l] = kNone;
    }
  }
}

}  // namespace

void optimise_axis(const std::uint32_t* row_of_point, int q, const std::uint32_t* row_sizes,
                   const Axis& clump_axis, int max_cols, int max_clumps, const NLogN& h, Work& work,
                   double* out) {
  auto& along = work.along;
  along.resize(clump_axis.n);
  for (std::size_t pos = 0; pos < clump_axis.n; ++pos)
    along[pos] = row_of_point[clump_axis.order[pos]];
  optimise_along(along.data(), q, row_sizes, clump_axis, max_cols, max_clumps, h, work, out);
}

void optimise_along(const std::uint32_t* row_along, int q, const std::uint32_t* row_sizes,
                    const Axis& clump_axis, int max_cols, int max_clumps, const NLogN& h,
                    Work& work, double* out) {
  const std::size_t n = clump_axis.n;
  const int L = max_cols;
  if (L < 2) return;
  std::fill(out, out + (L - 1), 0.0);
  if (q < 2) return;  // one row: no information (every clump has the same label)

  find_clumps(row_along, clump_axis, work.clump_end);
  merge_superclumps(n, std::max(max_clumps, 1), work);
  const std::size_t p = work.clump_end.size();
  if (p <= 1) return;

  const std::size_t cstride = round_up(p + 1, kLanes);  // padded for vector loads
  count_cumulative(row_along, q, cstride, work);

  // H(Q) over all points, in nats, times n.
  double hq_n = h(n);
  for (std::int32_t i : work.present) hq_n -= h(row_sizes[i]);

  const std::size_t stride = round_up(static_cast<std::size_t>(L), kLanes);
  best_partitions(p, L, cstride, stride, h, work);
  const double* gp = work.g.data() + (p - 1) * stride;
  const double inv_n = 1.0 / static_cast<double>(n);
  for (int l = 2; l <= L; ++l) {
    const double mi = (hq_n + gp[l - 1]) * inv_n;
    out[l - 2] = mi / std::log(static_cast<double>(std::min(l, q)));
  }
}

int max_clumps(double c, int max_cols) { return std::max(static_cast<int>(c * max_cols), 1); }

void fill_orientation(const Axis& equi_axis, const Axis& clump_axis, const Params& params,
                      bool transposed, PairWork& pw, CharacteristicMatrix& m,
                      const PreparedAxis* cached) {
  const std::size_t n = equi_axis.n;
  auto& along = pw.work.along;
  along.resize(n);
  const std::uint32_t* clump_order = clump_axis.order.data();
  if (!cached) {
    // The tie run of equi_axis holding each point, read along clump_axis (one
    // scatter and one gather per orientation instead of per row count).
    pw.bins.resize(n);
    pw.run_along.resize(n);
    pw.bin_sizes.resize(m.max_rows + 1);
    const auto& runs = equi_axis.runs;
    std::size_t pos = 0;
    for (std::size_t r = 0; r < runs.size(); ++r)
      for (std::uint32_t j = 0; j < runs[r]; ++j)
        pw.bins[equi_axis.order[pos++]] = static_cast<std::uint32_t>(r);
    for (std::size_t i = 0; i < n; ++i) pw.run_along[i] = pw.bins[clump_order[i]];
  }
  for (int k = 2; k <= m.max_rows; ++k) {
    const int X = m.max_cols[k - 2];
    const int L = params.est == Estimator::mic_e ? std::min(k, X) : X;
    const std::uint32_t* sizes;
    int q;
    if (cached) {
      const std::uint32_t* bins = cached->bins.data() + static_cast<std::size_t>(k - 2) * n;
      q = cached->q[k - 2];
      sizes = cached->sizes.data() + static_cast<std::size_t>(k - 2) * (m.max_rows + 1);
      for (std::size_t i = 0; i < n; ++i) along[i] = bins[clump_order[i]];
    } else {
      // Axis::partition's equipartition, by run.
      const auto& runs = equi_axis.runs;
      auto& bin_of_run = pw.scratch;
      bin_of_run.resize(runs.size());
      q = equipartition(runs.data(), runs.size(), n, k, bin_of_run.data());
      std::uint32_t* bin_sizes = pw.bin_sizes.data();
      // The bins are consecutive along the runs: sum each in a register (adding
      // through memory would chain every run on the previous one's store).
      std::uint32_t size = 0, bin = 0;
      for (std::size_t r = 0; r < runs.size(); ++r) {
        if (bin_of_run[r] != bin) {
          bin_sizes[bin] = size;
          bin = bin_of_run[r];
          size = 0;
        }
        size += runs[r];
      }
      bin_sizes[bin] = size;
      sizes = bin_sizes;
      for (std::size_t i = 0; i < n; ++i) along[i] = bin_of_run[pw.run_along[i]];
    }
    pw.row.resize(std::max(L - 1, 1));
    optimise_along(along.data(), q, sizes, clump_axis, L, max_clumps(params.c, X), *pw.h, pw.work,
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

// ---- against a label ---------------------------------------------------------

namespace detail {

void sort_feature(const float* feature, std::size_t n, FeatureWork& fw) {
  auto& sorted = fw.sorted;
  sorted.resize(n);
  for (std::size_t i = 0; i < n; ++i) sorted[i] = {feature[i], static_cast<std::uint32_t>(i)};
  std::sort(sorted.begin(), sorted.end());
  fw.axis.order.resize(n);
  fw.axis.keys.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    fw.axis.order[i] = sorted[i].second;
    fw.axis.keys[i] = sorted[i].first;
  }
  fw.axis.build_sorted(n);
}

ReferenceScorer::ReferenceScorer(const std::vector<double>& reference, const Params& params)
    : n_(reference.size()), params_(params), budget_(grid_budget(reference.size(), params.alpha)) {
  h_.ensure(n_);
  reference_.prepare(reference, budget_);
}

void ReferenceScorer::init(FeatureWork& fw) const {
  fw.pw.h = &h_;
  fw.m.shape(budget_);
}

Statistics ReferenceScorer::statistics(const float* feature, FeatureWork& fw) const {
  sort_feature(feature, n_, fw);
  std::fill(fw.m.cells.begin(), fw.m.cells.end(), 0.0);
  // A: the reference (y) equipartitioned into rows, the feature optimised.
  fill_orientation(reference_.axis, fw.axis, params_, false, fw.pw, fw.m, &reference_);
  fill_orientation(fw.axis, reference_.axis, params_, true, fw.pw, fw.m, nullptr);
  return mic::statistics(fw.m);
}

}  // namespace detail

struct LabelScorer::Workspace {
  detail::FeatureWork fw;
};

struct LabelScorer::Impl {
  std::size_t n = 0;
  Params params;
  Target target = Target::classes;
  double budget = 0;
  detail::NLogN h;
  int k = 0;                            // classes present
  std::vector<std::uint32_t> class_of;  // remapped class of every sample
  std::vector<std::uint32_t> class_sizes;
  int class_cols = 2;                                // class-aware: columns optimised
  std::unique_ptr<detail::ReferenceScorer> ordinal;  // the label axis, prepared once
};

LabelScorer::LabelScorer(const int* labels, std::size_t n, const Params& params, Target target)
    : impl_(std::make_unique<Impl>()) {
  check_params(params);
  if (n < 4) throw Error(cat("MIC needs at least 4 samples, got ", n));
  Impl& d = *impl_;
  d.n = n;
  d.params = params;
  d.target = target;
  d.budget = grid_budget(n, params.alpha);
  d.h.ensure(n);
  int top = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0) throw Error(cat("MIC against a label: sample ", i + 1, " has no label"));
    top = std::max(top, labels[i]);
  }
  std::vector<int> remap(static_cast<std::size_t>(top) + 1, -1);
  for (std::size_t i = 0; i < n; ++i) remap[labels[i]] = 0;
  for (int& r : remap)
    if (r == 0) r = d.k++;
  if (d.k < 2) throw Error("MIC against a label needs at least two classes, found one");
  d.class_of.resize(n);
  d.class_sizes.assign(d.k, 0);
  for (std::size_t i = 0; i < n; ++i) {
    d.class_of[i] = static_cast<std::uint32_t>(remap[labels[i]]);
    ++d.class_sizes[d.class_of[i]];
  }
  d.class_cols = std::max(2, static_cast<int>(std::floor(d.budget / d.k)));
  if (target == Target::ordinal) {
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = d.class_of[i];
    d.ordinal = std::make_unique<detail::ReferenceScorer>(values, params);
  }
}

LabelScorer::~LabelScorer() = default;
LabelScorer::LabelScorer(LabelScorer&&) noexcept = default;
LabelScorer& LabelScorer::operator=(LabelScorer&&) noexcept = default;

std::size_t LabelScorer::samples() const { return impl_->n; }
int LabelScorer::classes() const { return impl_->k; }

void LabelScorer::WorkspaceDeleter::operator()(Workspace* ws) const { delete ws; }

LabelScorer::WorkspacePtr LabelScorer::workspace() const {
  WorkspacePtr ws(new Workspace);
  ws->fw.pw.h = &impl_->h;
  if (impl_->ordinal) impl_->ordinal->init(ws->fw);
  return ws;
}

double LabelScorer::score(const float* feature, Workspace& ws) const {
  const Impl& d = *impl_;
  if (d.target == Target::ordinal) return ordinal_statistics(feature, ws).mic;
  detail::FeatureWork& fw = ws.fw;
  detail::sort_feature(feature, d.n, fw);
  const int L = d.class_cols;
  fw.row.resize(L - 1);
  detail::optimise_axis(d.class_of.data(), d.k, d.class_sizes.data(), fw.axis, L,
                        detail::max_clumps(d.params.c, L), d.h, fw.pw.work, fw.row.data());
  double best = 0;
  for (double v : fw.row) best = std::max(best, v);
  return best;
}

Statistics LabelScorer::ordinal_statistics(const float* feature, Workspace& ws) const {
  const Impl& d = *impl_;
  if (d.target != Target::ordinal) throw Error("ordinal_statistics needs Target::ordinal");
  // x = the feature, y = the label.
  return d.ordinal->statistics(feature, ws.fw);
}

double class_aware_mic(const double* feature, const int* labels, std::size_t n,
                       const Params& params) {
  check_finite(feature, n, "feature");
  LabelScorer scorer(labels, n, params, Target::classes);
  std::vector<float> values(feature, feature + n);
  for (std::size_t i = 0; i < n; ++i)
    if (static_cast<double>(values[i]) != feature[i])
      throw Error("class_aware_mic: feature values must be exact floats");
  auto ws = scorer.workspace();
  return scorer.score(values.data(), *ws);
}

void check_table_for_scoring(const FeatureTable& table, const std::string& name) {
  const std::size_t n = table.rows();
  if (n < 4) throw Error(cat(name, ": MIC needs at least 4 samples, the table has ", n));
  std::vector<char> seen(table.classes.size() + 1, 0);
  int distinct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int label = table.labels[i];
    if (label < 0)
      throw Error(cat(name, ": row ", i + 1, " (", table.keys[i],
                      ") has no label; selection against the label needs every row labelled"));
    if (static_cast<std::size_t>(label) < seen.size() && !seen[label]) {
      seen[label] = 1;
      ++distinct;
    }
  }
  if (distinct < 2)
    throw Error(cat(name, ": all ", n, " rows have the same class (", table.label_name(0),
                    "); MIC against the label needs at least two classes"));
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = table.row(i);
    for (std::size_t j = 0; j < table.dim; ++j)
      if (!std::isfinite(row[j]))
        throw Error(cat(name, ": column ", j + 1, " row ", i + 1, " (", table.keys[i], ") is ",
                        std::isnan(row[j]) ? "NaN" : "infinite", "; MIC needs finite values"));
  }
}

std::vector<double> score_features(const FeatureTable& table, const Params& params, Target target) {
  check_table_for_scoring(table, "features");
  const std::size_t n = table.rows(), dim = table.dim;
  LabelScorer scorer(table.labels.data(), n, params, target);
  std::vector<double> scores(dim, 0.0);
  constexpr std::size_t kBlock = 16;
  const std::ptrdiff_t blocks = static_cast<std::ptrdiff_t>((dim + kBlock - 1) / kBlock);
  std::exception_ptr failure;
#pragma omp parallel
  {
    auto ws = scorer.workspace();
    std::vector<float> columns(kBlock * n);
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t b = 0; b < blocks; ++b) {
      try {
        const std::size_t first = static_cast<std::size_t>(b) * kBlock;
        const std::size_t count = std::min(kBlock, dim - first);
        // Gather the block's columns: one pass over the rows.
        for (std::size_t i = 0; i < n; ++i) {
          const float* row = table.row(i) + first;
          for (std::size_t j = 0; j < count; ++j) columns[j * n + i] = row[j];
        }
        for (std::size_t j = 0; j < count; ++j)
          scores[first + j] = scorer.score(&columns[j * n], *ws);
      } catch (...) {
#pragma omp critical
        if (!failure) failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
  return scores;
}

}  // namespace fg::mic
