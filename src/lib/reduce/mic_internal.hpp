// Internals of the MIC implementation shared by mic.cpp and mic_select.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "finegrain/reduce/mic.hpp"

namespace fg::mic::detail {

// k * ln(k), tabulated for k = 0 .. n.
class NLogN {
 public:
  void ensure(std::size_t n);
  double operator()(std::size_t k) const { return table_[k]; }
  const double* data() const { return table_.data(); }

 private:
  std::vector<double> table_;
};

// Equipartition of a sequence of tie groups (sizes in order, n points in all)
// into about k bins; a group is never split. Writes each group's bin and
// returns the number of bins produced (<= k).
int equipartition(const std::uint32_t* sizes, std::size_t groups, std::size_t n, int k,
                  std::uint32_t* bin_of_group);

// One axis: the points in ascending order and its tie runs.
struct Axis {
  std::size_t n = 0;
  std::vector<std::uint32_t> order;  // point indices, ascending value
  std::vector<double> keys;          // the values in that order
  std::vector<std::uint32_t> runs;   // sizes of runs of equal values along `order`
  // Fills `runs` from `keys` (already sorted).
  void build_sorted(std::size_t count);
  // Equipartition into about k bins: bin of every point (by point index) and
  // bin sizes (>= k entries); returns the number of bins.
  int partition(int k, std::uint32_t* bin_of_point, std::uint32_t* bin_sizes,
                std::vector<std::uint32_t>& scratch) const;
};

// Buffers of optimise_axis, reused across calls (no allocation once grown).
struct Work {
  std::vector<std::uint32_t> clump_end, sizes, bins, count, present_upto;
  std::vector<std::uint32_t> along;  // the row label of each point, in clump-axis order
  std::vector<std::int32_t> cum, total, present;
  std::vector<double> g, w, acc;
};

// For a row labelling of the points (q rows of the given sizes), the best
// mutual information of grids whose columns break between (super)clumps of
// `clump_axis`, for 2 .. max_cols columns, normalised by log(min(columns, q)):
// out[l - 2]. At most max_clumps superclumps.
void optimise_axis(const std::uint32_t* row_of_point, int q, const std::uint32_t* row_sizes,
                   const Axis& clump_axis, int max_cols, int max_clumps, const NLogN& h, Work& work,
                   double* out);
// The same with the row labels given in clump-axis order: row_along[pos] is
// the row of point clump_axis.order[pos].
void optimise_along(const std::uint32_t* row_along, int q, const std::uint32_t* row_sizes,
                    const Axis& clump_axis, int max_cols, int max_clumps, const NLogN& h,
                    Work& work, double* out);

// floor(c * max_cols), at least 1.
int max_clumps(double c, int max_cols);

// An axis with its equipartitions for every row count 2 .. Y computed once.
struct PreparedAxis {
  Axis axis;
  CharacteristicMatrix shape;        // the grid shape for this n and alpha
  std::vector<std::uint32_t> bins;   // (Y - 1) x n: bin of every point, per count
  std::vector<int> q;                // bins produced, per count
  std::vector<std::uint32_t> sizes;  // (Y - 1) x (Y + 1): bin sizes, per count
  void prepare(const std::vector<double>& values, double budget);
};

struct PairWork {
  const NLogN* h = nullptr;
  Work work;
  std::vector<std::uint32_t> bins, bin_sizes, scratch;
  std::vector<std::uint32_t>
      run_along;  // fill_orientation: equi-axis run of each point, clump order
  std::vector<double> row;
};

// One orientation into m (already shaped): equipartition `equi_axis` into k
// bins for every k, optimise along `clump_axis`. transposed = false: the
// equipartitioned axis gives m's rows (orientation A), else its columns.
// `cached`: the equipartitions of equi_axis, if prepared.
void fill_orientation(const Axis& equi_axis, const Axis& clump_axis, const Params& params,
                      bool transposed, PairWork& pw, CharacteristicMatrix& m,
                      const PreparedAxis* cached);

// Buffers for scoring one feature (float values) against a prepared axis.
struct FeatureWork {
  Axis axis;
  std::vector<std::pair<float, std::uint32_t>> sorted;
  PairWork pw;
  CharacteristicMatrix m;
  std::vector<double> row;
};

// Sorts a feature into `axis` (one sort, reused for every partition).
void sort_feature(const float* feature, std::size_t n, FeatureWork& fw);

// minepy's statistics of (feature, reference) for many features against one
// fixed reference vector whose axis work is done once. Thread-safe.
class ReferenceScorer {
 public:
  ReferenceScorer(const std::vector<double>& reference, const Params& params);
  void init(FeatureWork& fw) const;
  // x = the feature, y = the reference.
  Statistics statistics(const float* feature, FeatureWork& fw) const;
  double mic(const float* feature, FeatureWork& fw) const { return statistics(feature, fw).mic; }
  const NLogN& table() const { return h_; }

 private:
  std::size_t n_;
  Params params_;
  double budget_;
  NLogN h_;
  PreparedAxis reference_;
};

// How many distinct classes (labels >= 0) occur.
inline int distinct_labels(const std::vector<int>& labels) {
  std::vector<char> seen;
  int classes = 0;
  for (int label : labels) {
    if (label < 0) continue;
    if (static_cast<std::size_t>(label) >= seen.size()) seen.resize(label + 1, 0);
    if (!seen[label]) seen[label] = 1, ++classes;
  }
  return classes;
}

}  // namespace fg::mic::detail
