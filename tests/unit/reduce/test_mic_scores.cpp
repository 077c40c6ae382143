#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "finegrain/core/common.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/mic.hpp"
#include "test_util.hpp"

using namespace fg;
using namespace fg::mic;

namespace {

// 300 rows, 6 classes, 14 columns: some informative, some copies (for the
// redundancy terms), some with ties.
FeatureTable scored_table(unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  FeatureTable t;
  t.dim = 14;
  for (int c = 0; c < 6; ++c) t.classes.push_back(cat("c", c));
  std::vector<float> row(t.dim);
  for (std::size_t i = 0; i < 300; ++i) {
    const int label = static_cast<int>(rng() % 6);
    for (std::size_t j = 0; j < t.dim; ++j)
      row[j] = static_cast<float>((j % 3 == 0 ? 0.8 * label * (j % 2 ? 1 : -1) : 0) + normal(rng));
    row[7] = row[0] + 0.01f * static_cast<float>(normal(rng));  // nearly a copy of column 0
    row[11] = static_cast<float>(rng() % 4);                    // ties
    t.add(cat("row", i), label, row.data());
  }
  return t;
}

std::string model_bytes(const SelectionModel& m, const TempDir& dir, const std::string& name) {
  m.save(dir.file(name));
  return read_bytes(dir.file(name));
}

}  // namespace

TEST_CASE("mic scores: column ranges A:B, J/N and all") {
  auto check = [](const char* text, std::size_t dim, std::size_t first, std::size_t end) {
    const ColumnRange r = parse_column_range(text, dim);
    INFO(text);
    CHECK(r.first == first);
    CHECK(r.end == end);
  };
  check("all", 10, 0, 10);
  check("0:4", 10, 0, 4);
  check("4:10", 10, 4, 10);
  check("1/3", 10, 0, 3);
  check("2/3", 10, 3, 6);
  check("3/3", 10, 6, 10);
  check("1/1", 10, 0, 10);
  // J/N for every J tiles the columns.
  for (std::size_t parts : {1, 3, 7, 10}) {
    std::size_t next = 0;
    for (std::size_t j = 1; j <= parts; ++j) {
      const ColumnRange r = parse_column_range(cat(j, "/", parts), 10);
      CHECK(r.first == next);
      CHECK(r.size() >= 1);
      next = r.end;
    }
    CHECK(next == 10);
  }
  for (const char* bad : {"5:5", "6:2", "0:11", "a:b", "0/3", "4/3", "1/11", "3", "1:2/3", ""})
    CHECK_THROWS_AS(parse_column_range(bad, 10), UsageError);
}

TEST_CASE("mic scores: a scores file reads back exactly; damaged files are named") {
  TempDir dir;
  ScoresFile f;
  f.input_dim = 10;
  f.columns = {3, 6};
  f.samples = 77;
  f.classes = 4;
  f.params = Params{0.55, 12, Estimator::mic_e};
  f.target = Target::ordinal;
  f.rows_id = 0xfedcba9876543210ull;
  f.scores = {0.1, 1.0 / 3.0, 0.1};
  f.save(dir.file("s.tsv"));
  const std::string text = read_bytes(dir.file("s.tsv"));
  CHECK(text.find("feature\tscore\trank\n3\t0.1\t2\n4\t") != std::string::npos);
  const ScoresFile back = ScoresFile::load(dir.file("s.tsv"));
  CHECK(back.input_dim == 10);
  CHECK(back.columns.first == 3);
  CHECK(back.columns.end == 6);
  CHECK(back.samples == 77);
  CHECK(back.classes == 4);
  CHECK(back.params.alpha == 0.55);
  CHECK(back.params.c == 12);
  CHECK(back.params.est == Estimator::mic_e);
  CHECK(back.target == Target::ordinal);
  CHECK(back.rows_id == f.rows_id);
  CHECK(back.scores == f.scores);
  // Truncated, out of order, not a scores file.
  write_bytes(dir.file("short.tsv"), text.substr(0, text.rfind('\n', text.size() - 2) + 1));
  CHECK_THROWS_WITH_AS(ScoresFile::load(dir.file("short.tsv")),
                       doctest::Contains("truncated MIC scores: 2 of 3"), Error);
  std::string swapped = text;
  swapped.replace(swapped.find("\n4\t"), 3, "\n5\t");
  write_bytes(dir.file("order.tsv"), swapped);
  CHECK_THROWS_WITH_AS(ScoresFile::load(dir.file("order.tsv")),
                       doctest::Contains("order.tsv:4: feature 5 out of order"), Error);
  write_bytes(dir.file("old.tsv"), "feature\tscore\trank\n0\t0.5\t1\n");
  CHECK_THROWS_WITH_AS(ScoresFile::load(dir.file("old.tsv")),
                       doctest::Contains("not a MIC scores file"), Error);
}

TEST_CASE(
    "mic scores: a fit from the scores of column ranges is the one-process fit, byte for byte") {
  TempDir dir;
  const FeatureTable table = scored_table(5);
  write_table(dir.file("t.fgt"), table);
  struct Setting {
    Target target;
    Redundancy redundancy;
    std::size_t k, pool;
    double min_score;
  };
  const Setting settings[] = {
      {Target::classes, Redundancy::none, 5, 0, -1}, {Target::ordinal, Redundancy::none, 4, 0, -1},
      {Target::classes, Redundancy::corr, 5, 0, -1}, {Target::classes, Redundancy::corr, 4, 6, -1},
      {Target::classes, Redundancy::mic, 3, 0, -1},  {Target::classes, Redundancy::none, 0, 0, 0.1},
  };
  for (const Setting& s : settings) {
    SelectOptions options;
    options.target = s.target;
    options.redundancy = s.redundancy;
    options.k = s.k;
    options.pool = s.pool;
    options.min_score = s.min_score;
    INFO("target ", target_name(s.target), ", redundancy ", redundancy_name(s.redundancy), ", k ",
         s.k, ", pool ", s.pool);
    std::vector<double> one_scores, merged_scores;
    const SelectionModel one = fit_selection(table, options, &one_scores);
    // Three ranges (1/3, 2/3, 3/3), merged in another order.
    std::vector<std::string> paths;
    for (int j : {3, 1, 2}) {
      const ScoresFile f =
          score_column_range(dir.file("t.fgt"), cat(j, "/3"), options.params, options.target);
      paths.push_back(dir.file(cat("s", j, ".tsv")));
      f.save(paths.back());
    }
    const SelectionModel merged =
        fit_from_scores(paths, dir.file("t.fgt"), options, &merged_scores);
    CHECK(merged_scores == one_scores);
    CHECK(model_bytes(merged, dir, "merged.model") == model_bytes(one, dir, "one.model"));
    CHECK(one.output_dim() >= 3);
  }
}

TEST_CASE("mic scores: merging refuses gaps, overlaps, other settings and other tables") {
  TempDir dir;
  const FeatureTable table = scored_table(6);
  write_table(dir.file("t.fgt"), table);
  FeatureTable other = table;
  other.labels[5] = (other.labels[5] + 1) % 6;  // one label changed
  write_table(dir.file("other.fgt"), other);
  const Params params;
  auto scores = [&](const std::string& table_name, const char* range, const char* out,
                    Target target = Target::classes) {
    score_column_range(dir.file(table_name), range, params, target).save(dir.file(out));
    return dir.file(out);
  };
  const std::string a = scores("t.fgt", "0:5", "a.tsv"), b = scores("t.fgt", "5:14", "b.tsv");
  const std::string gap = scores("t.fgt", "6:14", "gap.tsv"),
                    over = scores("t.fgt", "4:14", "over.tsv");
  const std::string ordinal = scores("t.fgt", "5:14", "ord.tsv", Target::ordinal);
  const std::string foreign = scores("other.fgt", "5:14", "foreign.tsv");
  SelectOptions options;
  options.k = 3;
  CHECK(fit_from_scores({a, b}, dir.file("t.fgt"), options).output_dim() == 3);
  CHECK_THROWS_WITH_AS(fit_from_scores({a, gap}, dir.file("t.fgt"), options),
                       doctest::Contains("no scores for columns 5:6"), Error);
  CHECK_THROWS_WITH_AS(fit_from_scores({a}, dir.file("t.fgt"), options),
                       doctest::Contains("no scores for columns 5:14"), Error);
  CHECK_THROWS_WITH_AS(fit_from_scores({a, over}, dir.file("t.fgt"), options),
                       doctest::Contains("overlap"), Error);
  CHECK_THROWS_WITH_AS(fit_from_scores({a, ordinal}, dir.file("t.fgt"), options),
                       doctest::Contains("ord.tsv: scores for --target ordinal"), Error);
  CHECK_THROWS_WITH_AS(fit_from_scores({a, foreign}, dir.file("t.fgt"), options),
                       doctest::Contains("foreign.tsv: scores of another table"), Error);
  CHECK_THROWS_WITH_AS(fit_from_scores({a, b}, dir.file("other.fgt"), options),
                       doctest::Contains("not the table the scores were made from"), Error);
  // A range's scores are that range of the whole table's.
  const std::vector<double> all = score_features(table, params, Target::classes);
  const ScoresFile part = ScoresFile::load(b);
  CHECK(part.scores == std::vector<double>(all.begin() + 5, all.end()));
  CHECK(part.samples == 300);
  CHECK(part.classes == 6);
}
