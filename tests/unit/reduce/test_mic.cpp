#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/mic.hpp"
#include "test_util.hpp"

using namespace fg;
using namespace fg::mic;

namespace {

struct Expected {
  std::string name;
  Params params;
  double stats[6];
};

std::vector<Expected> read_expected(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::string line;
  std::getline(in, line);  // header
  std::vector<Expected> rows;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Expected e;
    std::string n, est;
    fields >> e.name >> n >> est >> e.params.alpha >> e.params.c;
    e.params.est = parse_estimator(est);
    for (double& s : e.stats) fields >> s;
    REQUIRE(fields);
    rows.push_back(e);
  }
  return rows;
}

// Planted data: labels 0..k-1 shuffled; `informative` features depend on the
// class (class mean + noise), the rest are noise.
FeatureTable planted(std::size_t n, int k, std::size_t informative, std::size_t noise,
                     unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  FeatureTable t;
  t.dim = informative + noise;
  for (int c = 0; c < k; ++c) t.classes.push_back(cat("c", c));
  std::vector<double> means(k * informative);
  for (double& m : means) m = 2 * normal(rng);
  std::vector<float> row(t.dim);
  for (std::size_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(i % k);
    for (std::size_t j = 0; j < t.dim; ++j)
      row[j] =
          static_cast<float>((j < informative ? means[label * informative + j] : 0) + normal(rng));
    t.add(cat("r", i), label, row.data());
  }
  return t;
}

// Class-aware MIC with two columns and no superclump merging, by brute force:
// the best threshold's I(X; class) / log 2.
double best_threshold_mi(const std::vector<float>& x, const std::vector<int>& labels, int k) {
  const std::size_t n = x.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  auto entropy = [](const std::vector<double>& counts, double total) {
    double h = 0;
    for (double c : counts)
      if (c > 0) h -= c / total * std::log(c / total);
    return h;
  };
  std::vector<double> all(k, 0);
  for (int l : labels) all[l] += 1;
  const double hy = entropy(all, static_cast<double>(n));
  std::vector<double> left(k, 0);
  double best = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    left[labels[order[i]]] += 1;
    if (x[order[i]] == x[order[i + 1]]) continue;
    std::vector<double> right(k);
    for (int c = 0; c < k; ++c) right[c] = all[c] - left[c];
    const double nl = static_cast<double>(i + 1), nr = static_cast<double>(n - i - 1);
    const double mi = hy - (nl / n) * entropy(left, nl) - (nr / n) * entropy(right, nr);
    best = std::max(best, mi);
  }
  return best / std::log(2.0);
}

}  // namespace

TEST_CASE("mic: every reference case equals minepy's statistics within 1e-9") {
  const auto pairs = read_vector_pairs(asset_path("reference/mic/mic_ref_public.vectors.tsv"));
  const auto expected = read_expected(asset_path("reference/mic/mic_ref_public.expected.tsv"));
  REQUIRE(pairs.size() == 24);
  REQUIRE(expected.size() == 96);
  std::map<std::string, const VectorPair*> by_name;
  for (const auto& p : pairs) by_name[p.name] = &p;
  const char* names[6] = {"mic", "mas", "mev", "mcn", "mcn_general", "tic"};
  // Every kernel the CPU can run (core/cpu.hpp): each within the bound.
  for_each_isa([&](Isa isa) {
    double worst = 0;
    for (const auto& e : expected) {
      const VectorPair& p = *by_name.at(e.name);
      const Statistics s = pair_statistics(p.x.data(), p.y.data(), p.x.size(), e.params);
      const double got[6] = {s.mic, s.mas, s.mev, s.mcn, s.mcn_general, s.tic};
      for (int i = 0; i < 6; ++i) {
        INFO("kernels ", std::string(isa_name(isa)), ", case ", e.name, " (", p.kind, ", n ",
             p.x.size(), ") ", estimator_name(e.params.est), " alpha ", e.params.alpha, " c ",
             e.params.c, ": ", names[i]);
        CHECK(std::fabs(got[i] - e.stats[i]) <= 1e-9);
        worst = std::max(worst, std::fabs(got[i] - e.stats[i]));
      }
    }
    MESSAGE("kernels ", std::string(isa_name(isa)), ": largest difference from minepy: ", worst);
  });
}

namespace {

// Data that reaches every blocking of the kernels: wide DP rows (B = 95.6 at
// n = 2000: up to 47 columns) and narrow ones, full and partial row blocks,
// ties; a 6-feature table against 37 classes and one (x, y) pair.
struct KernelData {
  FeatureTable t;
  std::vector<double> x, y;
};

KernelData kernel_data() {
  std::mt19937 rng(11);
  const std::size_t n = 2000;
  const int k = 37;
  KernelData d;
  FeatureTable& t = d.t;
  t.dim = 6;
  for (int c = 0; c < k; ++c) t.classes.push_back(cat("c", c));
  std::normal_distribution<double> normal(0, 1);
  std::vector<float> row(t.dim);
  for (std::size_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % k);
    row[0] = static_cast<float>(label * 0.1 + normal(rng));
    row[1] = static_cast<float>(normal(rng));
    row[2] = static_cast<float>(std::max(0.0, label % 5 - 2 + normal(rng)));  // ties at 0
    row[3] = static_cast<float>(rng() % 9);                                   // heavy ties
    row[4] = static_cast<float>(std::sin(label) + 0.3 * normal(rng));
    row[5] = static_cast<float>(label % 2 ? normal(rng) : 3 * normal(rng));
    t.add(cat("r", i), label, row.data());
  }
  d.x.resize(n);
  d.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    d.x[i] = normal(rng);
    d.y[i] = d.x[i] * d.x[i] + 0.5 * normal(rng);
  }
  return d;
}

// FNV-1a over the bit patterns: any change in any bit of any value shows.
std::uint64_t bits_hash(const std::vector<double>& values) {
  std::uint64_t hash = 1469598103934665603ull;
  for (double v : values) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    for (int i = 0; i < 8; ++i) hash = (hash ^ ((b >> (8 * i)) & 0xff)) * 1099511628211ull;
  }
  return hash;
}

}  // namespace

TEST_CASE("mic: every kernel ISA gives bit-identical scores and statistics") {
  const KernelData d = kernel_data();
  const FeatureTable& t = d.t;
  const std::vector<double>&x = d.x, &y = d.y;
  const std::size_t n = x.size();
  std::map<std::string, std::vector<double>> first;  // per setting, from the lowest ISA
  for_each_isa([&](Isa isa) {
    for (Estimator est : {Estimator::mic_approx, Estimator::mic_e}) {
      const Params params{0.6, 15, est};
      std::vector<std::pair<std::string, std::vector<double>>> got;
      got.emplace_back(cat(estimator_name(est), " ordinal"),
                       score_features(t, params, Target::ordinal));
      got.emplace_back(cat(estimator_name(est), " classes"),
                       score_features(t, params, Target::classes));
      const CharacteristicMatrix m = characteristic_matrix(x.data(), y.data(), n, params);
      got.emplace_back(cat(estimator_name(est), " pair matrix"), m.cells);
      for (const auto& [name, values] : got) {
        INFO("kernels ", std::string(isa_name(isa)), ": ", name);
        auto [it, fresh] = first.emplace(name, values);
        if (fresh) continue;
        REQUIRE(values.size() == it->second.size());
        for (std::size_t j = 0; j < values.size(); ++j) CHECK(values[j] == it->second[j]);
      }
    }
  });
  // The settings really exercised something: informative beats noise.
  const std::vector<double> s = score_features(t, Params{}, Target::classes);
  CHECK(s[0] > s[1]);
  MESSAGE("kernel ISAs compared: ", available_isas().size());
}

TEST_CASE("mic: the scores keep their exact bits (recorded before the kernel rewrites)") {
  // Recorded with the code of commit c52525e (before segment_costs and the
  // clump pass were rewritten for speed): every later form must reproduce
  // these bits, since minepy's values are compared only to 1e-9 above.
  const KernelData d = kernel_data();
  std::vector<std::string> got;
  for (Estimator est : {Estimator::mic_approx, Estimator::mic_e}) {
    const Params params{0.6, 15, est};
    for (Target target : {Target::ordinal, Target::classes})
      for (double v : score_features(d.t, params, target)) got.push_back(cat(std::hexfloat, v));
    const CharacteristicMatrix m =
        characteristic_matrix(d.x.data(), d.y.data(), d.x.size(), params);
    got.push_back(cat(std::hex, bits_hash(m.cells)));
  }
  const std::vector<std::string> expected = {
      // mic_approx: ordinal features 1-6
      "0x1.cbac17d1d0d06p-2",
      "0x1.c3ec73bd63d09p-4",
      "0x1.00553c0bf6eedp-1",
      "0x1.0252f669bc41dp-6",
      "0x1.765fe1114f307p-1",
      "0x1.ea7446a10b352p-4",
      // classes
      "0x1.76cb3c9ed9308p-2",
      "0x1.3a8549a963ae8p-6",
      "0x1.00553c0bf6eedp-1",
      "0x1.e6c8336c3987p-7",
      "0x1.765fe1114f307p-1",
      "0x1.ea7446a10b352p-4",
      // the (x, y) matrix's cells, hashed
      "7428b67f76b64cc0",
      // mic_e: ordinal
      "0x1.853a2b97193bcp-2",
      "0x1.6e90e65580063p-6",
      "0x1.00553c0bf6eedp-1",
      "0x1.ea91cd8f5dap-7",
      "0x1.765fe1114f307p-1",
      "0x1.ea7446a10b352p-4",
      // classes
      "0x1.76cb3c9ed9308p-2",
      "0x1.3a8549a963ae8p-6",
      "0x1.00553c0bf6eedp-1",
      "0x1.e6c8336c3987p-7",
      "0x1.765fe1114f307p-1",
      "0x1.ea7446a10b352p-4",
      // the matrix, hashed
      "51d00d8547ff8ca8",
  };
  CHECK(got == expected);
}

TEST_CASE("mic: the grid budget follows minepy") {
  CHECK(grid_budget(64, 0.5) == doctest::Approx(8));
  CHECK(grid_budget(3, 0.6) == 4);  // at least 4
  CHECK(grid_budget(100, 9) == 9);  // alpha >= 4: B = alpha
  CHECK(grid_budget(6, 9) == 6);    // capped at n
  CharacteristicMatrix m;
  m.shape(grid_budget(6000, 0.6));  // B = 184.9...
  CHECK(m.max_rows == 92);
  CHECK(m.max_cols.front() == 92);
  CHECK(m.max_cols.back() == 2);
  CHECK_THROWS_AS(check_params(Params{2.0, 15, Estimator::mic_approx}), UsageError);
  CHECK_THROWS_AS(check_params(Params{0.6, 0, Estimator::mic_approx}), UsageError);
}

TEST_CASE("mic: the fast label scorer gives exactly the pair path's statistics") {
  // Ordinal target = minepy's statistics of (feature, class number), shared
  // label work and all; with ties in the feature too.
  std::mt19937 rng(3);
  const std::size_t n = 700;
  const int k = 23;
  std::vector<int> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<int>(rng() % k);
  for (Estimator est : {Estimator::mic_approx, Estimator::mic_e}) {
    const Params params{0.6, 15, est};
    LabelScorer scorer(labels.data(), n, params, Target::ordinal);
    auto ws = scorer.workspace();
    for (int f = 0; f < 4; ++f) {
      std::vector<float> x(n);
      for (std::size_t i = 0; i < n; ++i)
        x[i] = f == 3 ? static_cast<float>(rng() % 7)  // heavy ties
                      : static_cast<float>(labels[i] * (f % 2) + (rng() % 1000) / 100.0);
      std::vector<double> xd(x.begin(), x.end()), yd(labels.begin(), labels.end());
      const Statistics a = pair_statistics(xd.data(), yd.data(), n, params);
      const Statistics b = scorer.ordinal_statistics(x.data(), *ws);
      CHECK(a.mic == doctest::Approx(b.mic).epsilon(1e-12));
      CHECK(a.mas == doctest::Approx(b.mas).epsilon(1e-12));
      CHECK(a.mev == doctest::Approx(b.mev).epsilon(1e-12));
      CHECK(a.mcn == b.mcn);
      CHECK(a.mcn_general == b.mcn_general);
      CHECK(a.tic == doctest::Approx(b.tic).epsilon(1e-12));
      CHECK(scorer.score(x.data(), *ws) == b.mic);
    }
  }
}

TEST_CASE("mic: class-aware MIC equals a brute-force best threshold when nothing is merged") {
  // n = 200, 20 classes, alpha 0.6: B = 24.0, floor(B/k) = 1 -> two columns;
  // c = 1000 keeps every clump, so the score is the best threshold's I / log 2.
  std::mt19937 rng(5);
  const std::size_t n = 200;
  const int k = 20;
  std::vector<int> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<int>(i % k);
  for (int f = 0; f < 5; ++f) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i)
      x[i] = static_cast<float>((f % 2 ? labels[i] % 4 : 0) + (rng() % (f == 4 ? 5 : 1000)));
    std::vector<double> xd(x.begin(), x.end());
    const double got =
        class_aware_mic(xd.data(), labels.data(), n, Params{0.6, 1000, Estimator::mic_approx});
    CHECK(got == doctest::Approx(best_threshold_mi(x, labels, k)).epsilon(1e-12));
  }
}

TEST_CASE("mic: relabelling the classes leaves every class-aware score unchanged") {
  FeatureTable t = planted(600, 12, 4, 8, 11);
  const auto before = score_features(t, Params{}, Target::classes);
  // A permutation of class numbers.
  std::vector<int> perm(12);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(2));
  for (int& l : t.labels) l = perm[l];
  const auto after = score_features(t, Params{}, Target::classes);
  for (std::size_t j = 0; j < before.size(); ++j) CHECK(after[j] == before[j]);
  // The ordinal (minepy) form is not invariant: that is why classes is the default.
  t.labels.assign(t.labels.size(), 0);
  for (std::size_t i = 0; i < t.rows(); ++i) t.labels[i] = static_cast<int>(i % 12);
  const auto ordinal = score_features(t, Params{}, Target::ordinal);
  for (std::size_t i = 0; i < t.rows(); ++i) t.labels[i] = perm[i % 12];
  const auto ordinal_relabelled = score_features(t, Params{}, Target::ordinal);
  bool any_changed = false;
  for (std::size_t j = 0; j < ordinal.size(); ++j)
    any_changed = any_changed || std::fabs(ordinal[j] - ordinal_relabelled[j]) > 1e-12;
  CHECK(any_changed);
}

TEST_CASE("mic: informative features outrank noise on planted data") {
  for (Target target : {Target::classes, Target::ordinal}) {
    const FeatureTable t = planted(800, 8, 5, 30, 21);
    SelectOptions options;
    options.target = target;
    options.k = 5;
    std::vector<double> scores;
    const SelectionModel m = fit_selection(t, options, &scores);
    std::vector<std::uint32_t> picked = m.columns;
    std::sort(picked.begin(), picked.end());
    CHECK(picked == std::vector<std::uint32_t>{0, 1, 2, 3, 4});
    const double worst_informative = *std::min_element(scores.begin(), scores.begin() + 5);
    const double best_noise = *std::max_element(scores.begin() + 5, scores.end());
    CHECK(worst_informative > best_noise);
  }
}

TEST_CASE("mic: mRMR skips a duplicate of a selected feature") {
  FeatureTable t = planted(400, 6, 3, 6, 4);
  // Column 8 := copy of column 0 (the same information twice).
  for (std::size_t i = 0; i < t.rows(); ++i) t.row(i)[8] = t.row(i)[0];
  SelectOptions options;
  options.k = 2;
  const SelectionModel plain = fit_selection(t, options);
  options.redundancy = Redundancy::mic;
  const SelectionModel mrmr = fit_selection(t, options);
  const auto has = [](const SelectionModel& m, std::uint32_t c) {
    return std::find(m.columns.begin(), m.columns.end(), c) != m.columns.end();
  };
  CHECK((has(plain, 0) && has(plain, 8)));  // both copies rank high by relevance
  CHECK(!(has(mrmr, 0) && has(mrmr, 8)));   // mRMR keeps only one of them
  CHECK(mrmr.columns.front() == plain.columns.front());
  // corr: |r| = 1 with the copy, so it loses to any other informative feature.
  options.redundancy = Redundancy::corr;
  const SelectionModel corr = fit_selection(t, options);
  CHECK(!(has(corr, 0) && has(corr, 8)));
  CHECK(corr.columns.front() == plain.columns.front());
  // Weight 0 is the plain ranking.
  options.redundancy_weight = 0;
  options.k = 6;
  const SelectionModel unweighted = fit_selection(t, options);
  options.redundancy = Redundancy::none;
  CHECK(unweighted.columns == fit_selection(t, options).columns);
}

TEST_CASE("mic: corr redundancy takes the largest |r| with the selected, weighted") {
  // Column 0 = the class plus a little noise (the most relevant), column 1 =
  // its mirror image (the same relevance, |r| ~ 1), column 2 a planted,
  // weaker feature.
  FeatureTable t = planted(600, 3, 3, 0, 9);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    t.row(i)[0] = float(t.labels[i]) + 0.1f * float(i % 5);
    t.row(i)[1] = -t.row(i)[0] + 1e-4f * float(i % 7);
  }
  SelectOptions options;
  options.k = 2;
  const SelectionModel plain = fit_selection(t, options);
  REQUIRE(plain.columns.size() == 2);
  CHECK(plain.columns[0] + plain.columns[1] == 1);  // by relevance: the pair
  options.redundancy = Redundancy::corr;
  options.redundancy_weight = 1;
  const SelectionModel corr = fit_selection(t, options);
  REQUIRE(corr.columns.size() == 2);
  CHECK(corr.columns[0] == plain.columns[0]);
  const std::uint32_t first = corr.columns[0];
  CHECK((first == 0 || first == 1));
  CHECK(corr.columns[1] == 2);  // the near-copy of the first is penalised by ~1
  CHECK(corr.redundancy_weight == 1);
}

TEST_CASE("mic: bad inputs") {
  FeatureTable t = planted(50, 3, 1, 2, 1);
  // A constant feature scores 0.
  for (std::size_t i = 0; i < t.rows(); ++i) t.row(i)[2] = 1.5f;
  for (Target target : {Target::classes, Target::ordinal})
    CHECK(score_features(t, Params{}, target)[2] == 0);
  // NaN names column and row.
  FeatureTable bad = t;
  bad.row(7)[1] = std::nanf("");
  try {
    score_features(bad, Params{}, Target::classes);
    FAIL("NaN accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("column 2 row 8") != std::string::npos);
  }
  bad = t;
  bad.row(3)[0] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(score_features(bad, Params{}, Target::classes),
                       doctest::Contains("column 1 row 4"), Error);
  // Fewer than 4 samples; a single class.
  FeatureTable small;
  small.dim = 1;
  small.classes = {"a", "b"};
  const float v = 1;
  for (int i = 0; i < 3; ++i) small.add(cat(i), i % 2, &v);
  CHECK_THROWS_WITH_AS(score_features(small, Params{}, Target::classes),
                       doctest::Contains("at least 4 samples"), Error);
  FeatureTable one = t;
  one.labels.assign(one.rows(), 0);
  CHECK_THROWS_WITH_AS(score_features(one, Params{}, Target::classes),
                       doctest::Contains("at least two classes"), Error);
  double x[3] = {1, 2, 3}, y[3] = {1, 2, 3};
  CHECK_THROWS_AS(pair_statistics(x, y, 3, Params{}), Error);
}

TEST_CASE("mic: selection model round trip, apply, dimension check") {
  TempDir dir;
  const FeatureTable t = planted(120, 4, 2, 5, 9);
  SelectOptions options;
  options.k = 3;
  options.params.est = Estimator::mic_e;
  const SelectionModel m = fit_selection(t, options);
  m.save(dir.file("sel.model"));
  const SelectionModel back = SelectionModel::load(dir.file("sel.model"));
  CHECK(back.columns == m.columns);
  CHECK(back.scores == m.scores);
  CHECK(back.input_dim == 7);
  CHECK(back.output_dim() == 3);
  CHECK(back.params.est == Estimator::mic_e);
  CHECK(back.samples == 120);
  CHECK(back.classes == 4);

  std::vector<float> out(3);
  back.apply_row(t.row(5), out.data());
  for (std::size_t j = 0; j < 3; ++j) CHECK(out[j] == t.row(5)[back.columns[j]]);
  const FeatureTable applied = back.apply(t);
  CHECK(applied.dim == 3);
  CHECK(applied.keys == t.keys);
  CHECK(applied.labels == t.labels);
  CHECK(applied.row(9)[2] == t.row(9)[back.columns[2]]);

  write_table(dir.file("in.fgt"), t);
  CHECK(apply_selection(back, dir.file("in.fgt"), dir.file("out.fgt")) == 120);
  CHECK(read_table(dir.file("out.fgt")).values == applied.values);

  FeatureTable wrong = planted(10, 2, 1, 1, 1);
  CHECK_THROWS_WITH_AS(
      back.apply(wrong),
      doctest::Contains("dimension 2, but the selection model was fitted on dimension 7"), Error);

  write_bytes(dir.file("v2.model"), "FGMIC-SELECTION 2\ninput_dim 3\n");
  CHECK_THROWS_WITH_AS(SelectionModel::load(dir.file("v2.model")), doctest::Contains("version 2"),
                       Error);
  write_bytes(dir.file("other.model"), "FGPCA 1\n");
  CHECK_THROWS_WITH_AS(SelectionModel::load(dir.file("other.model")),
                       doctest::Contains("not a MIC selection model"), Error);
  std::string text = read_bytes(dir.file("sel.model"));
  write_bytes(dir.file("cut.model"), text.substr(0, text.rfind('\n', text.size() - 2) + 1));
  CHECK_THROWS_WITH_AS(SelectionModel::load(dir.file("cut.model")), doctest::Contains("truncated"),
                       Error);
}
