// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>

#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/common.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {

// k classes around random means, `per` rows each, labels interleaved.
FeatureTable blobs(int k, int per, std::size_t dim, unsigned seed, double spread = 0.6) {
  FeatureTable t;
  t.dim = dim;
  for (int c = 0; c < k; ++c) t.classes.push_back("class " + std::to_string(c));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> mean(k, std::vector<float>(dim));
  std::mt19937 mrng(99);
  for (auto& m : mean)
    for (auto& v : m) v = 2.0f + normal(mrng);
  std::vector<float> row(dim);
  for (int i = 0; i < k * per; ++i) {
    const int c = i % k;
    for (std::size_t j = 0; j < dim; ++j) row[j] = mean[c][j] + float(spread) * normal(rng);
    t.add("img" + std::to_string(i) + ".jpg", c, row.data());
  }
  return t;
}

TrainOptions options(ClassifierType type, ScaleKind scale) {
  TrainOptions o;
  o.type = type;
  o.scale = scale;
  return o;
}

std::string quiet_train_and_save(const FeatureTable& t, const TrainOptions& o,
                                 const std::string& path) {
  const auto level = log::level();
  log::set_level(log::Level::quiet);
  Classifier c = Classifier::train(t, o, "train.fgt");
  log::set_level(level);
  c.save(path);
  return read_bytes(path);
}

}  // namespace

TEST_CASE("classifier: save/load round trip is exact and predictions are identical") {
  TempDir dir;
  const FeatureTable train = blobs(4, 15, 8, 1), test = blobs(4, 10, 8, 2);
  struct Case {
    ClassifierType type;
    ScaleKind scale;
    bool probability;
    KernelType kernel = KernelType::linear;
  };
  // linear svm with 4 classes is stored as weight vectors, rbf as support vectors
  for (Case cs : {Case{ClassifierType::svm, ScaleKind::minmax, false},
                  Case{ClassifierType::svm, ScaleKind::l2, true},
                  Case{ClassifierType::svm, ScaleKind::standard, false, KernelType::rbf},
                  Case{ClassifierType::logreg, ScaleKind::standard, false}}) {
    TrainOptions o = options(cs.type, cs.scale);
    o.svm.probability = cs.probability;
    o.svm.kernel = cs.kernel;
    const auto level = log::level();
    log::set_level(log::Level::quiet);
    const Classifier c = Classifier::train(train, o, "train.fgt");
    log::set_level(level);
    const std::string path = dir.file("m.model");
    c.save(path);
    const Classifier back = Classifier::load(path);
    back.save(dir.file("again.model"));
    CHECK(read_bytes(path) == read_bytes(dir.file("again.model")));
    CHECK(back.classes() == train.classes);
    CHECK(back.dim() == 8);
    CHECK(back.info() == c.info());
    CHECK(back.has_probabilities() == (cs.type == ClassifierType::logreg || cs.probability));
    int correct = 0;
    for (std::size_t i = 0; i < test.rows(); ++i) {
      const auto a = c.predict_row(test.row(i), 3), b = back.predict_row(test.row(i), 3);
      REQUIRE(a.size() == 3);
      for (int r = 0; r < 3; ++r) {
        CHECK(a[r].cls == b[r].cls);
        CHECK(a[r].score == b[r].score);
      }
      CHECK(a[0].score >= a[1].score);
      CHECK(a[1].score >= a[2].score);
      correct += a[0].cls == test.labels[i];
    }
    CHECK(correct >= 36);  // easy blobs
  }
}

TEST_CASE("classifier: training is deterministic (byte-identical model files)") {
  TempDir dir;
  const FeatureTable train = blobs(3, 12, 6, 5);
  for (ClassifierType type : {ClassifierType::svm, ClassifierType::logreg}) {
    TrainOptions o = options(type, ScaleKind::l2);
    o.svm.cv_folds = o.logreg.cv_folds = 3;
    CHECK(quiet_train_and_save(train, o, dir.file("a")) ==
          quiet_train_and_save(train, o, dir.file("b")));
  }
}

TEST_CASE("classifier: bad training data gives one clear error") {
  FeatureTable empty;
  empty.dim = 4;
  empty.classes = {"a", "b"};
  CHECK_THROWS_WITH_AS(Classifier::train(empty, TrainOptions{}, "e.fgt"),
                       doctest::Contains("e.fgt: empty table"), Error);
  FeatureTable one = blobs(1, 5, 4, 1);
  one.classes.push_back("never seen");
  log::set_level(log::Level::quiet);
  CHECK_THROWS_WITH_AS(Classifier::train(one, TrainOptions{}, "one.fgt"),
                       doctest::Contains("at least 2 classes with rows, found 1 (class 0)"), Error);
  log::set_level(log::Level::normal);
}

TEST_CASE("classifier: wrong files, versions and truncation are named") {
  TempDir dir;
  const std::string model = dir.file("m.model");
  const std::string bytes = quiet_train_and_save(
      blobs(3, 6, 4, 1), options(ClassifierType::logreg, ScaleKind::none), model);
  write_table(dir.file("t.fgt"), blobs(2, 2, 4, 1));
  CHECK_THROWS_WITH_AS(Classifier::load(dir.file("t.fgt")),
                       doctest::Contains("feature table (.fgt), not a classifier model"), Error);
  write_bytes(dir.file("x.txt"), "svm_type c_svc\nkernel_type linear\n");
  CHECK_THROWS_WITH_AS(Classifier::load(dir.file("x.txt")),
                       doctest::Contains("not a classifier model"), Error);
  write_bytes(dir.file("short.model"), bytes.substr(0, bytes.size() - 10));
  CHECK_THROWS_WITH_AS(Classifier::load(dir.file("short.model")), doctest::Contains("truncated"),
                       Error);
  std::string v2 = bytes;
  v2[8] = 2;
  write_bytes(dir.file("v2.model"), v2);
  CHECK_THROWS_WITH_AS(Classifier::load(dir.file("v2.model")),
                       doctest::Contains("format version 2, this program reads version 1"), Error);
  CHECK_THROWS_AS(Classifier::load(dir.file("missing.model")), Error);
}

TEST_CASE("classifier: test tables are checked and mapped by class name") {
  TempDir dir;
  const std::string path = dir.file("m.model");
  quiet_train_and_save(blobs(3, 6, 4, 1), options(ClassifierType::svm, ScaleKind::l2), path);
  const Classifier c = Classifier::load(path);
  TableHeader h;
  h.dim = 5;
  const std::string message =
      "test.fgt: dimension 5, but the model " + path + " was trained on dimension 4";
  CHECK_THROWS_WITH_AS(c.map_classes(h, "test.fgt"), doctest::Contains(message.c_str()), Error);
  h.dim = 4;
  h.classes = {"class 2", "rose", "class 0"};
  CHECK(c.map_classes(h, "test.fgt") == std::vector<int>{2, -1, 0});
  h.classes = {"rose", "tulip"};
  CHECK_THROWS_WITH_AS(c.map_classes(h, "test.fgt"),
                       doctest::Contains("none of its classes (rose, tulip)"), Error);
  h.classes.clear();  // unlabelled table: fine
  CHECK(c.map_classes(h, "test.fgt").empty());
}

TEST_CASE("classifier: the predictions.tsv lines") {
  const std::vector<std::string> classes = {"daisy", "iris", "tulip"};
  CHECK(predictions_header(classes, 1) ==
        "#key\ttrue\tpredicted\tscore\n#classes\tdaisy\tiris\ttulip\n");
  CHECK(
      predictions_header(classes, 5) ==
      "#key\ttrue\tpredicted\tscore\tpred2\tscore2\tpred3\tscore3\n#classes\tdaisy\tiris\ttulip\n");
  CHECK(prediction_line("a\tb.jpg", "", {{2, 0.75}, {0, 0.25}}, classes) ==
        "a b.jpg\t\ttulip\t0.75\tdaisy\t0.25\n");
}
