// Metrics on a small hand-computed case (exact values), the reader's errors,
// and the JSON / TSV / PNG outputs.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <string>

#include "finegrain/core/common.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/eval/metrics.hpp"
#include "test_util.hpp"

namespace {

// Classes a b c e (e never occurs); 9 rows, top-2:
//   a->a,b  a->b,a  a->a,c  b->b,a  b->c,b  c->c,a  c->a,b  ""->a,b  d->a,b
// Hand computation:
//   evaluated 8 (one unlabeled), unseen d: 1 row. top-1 4/8, top-2 6/8.
//   a: support 3, predicted 4, correct 2: P 1/2, R 2/3, F1 4/7
//   b: support 2, predicted 2, correct 1: P 1/2, R 1/2, F1 1/2
//   c: support 2, predicted 2, correct 1: P 1/2, R 1/2, F1 1/2
//   d: support 1, predicted 0: P 0, R 0, F1 0;  e: occurs nowhere (not averaged)
//   macro P = 1.5/4 = 3/8, macro R = (2/3 + 1)/4 = 5/12, macro F1 = (4/7 + 1)/4 = 11/28
//   weighted F1 = (3 * 4/7 + 2 * 1/2 + 2 * 1/2) / 8 = 13/28, mean per-class = 5/12
const char* kSmall =
    "#key\ttrue\tpredicted\tscore\tpred2\tscore2\n"
    "#classes\ta\tb\tc\te\n"
    "r1\ta\ta\t0.9\tb\t0.1\n"
    "r2\ta\tb\t0.6\ta\t0.4\n"
    "r3\ta\ta\t0.7\tc\t0.2\n"
    "r4\tb\tb\t0.8\ta\t0.1\n"
    "r5\tb\tc\t0.5\tb\t0.3\n"
    "r6\tc\tc\t1\ta\t0\n"
    "r7\tc\ta\t0.5\tb\t0.25\n"
    "r8\t\ta\t0.5\tb\t0.25\n"
    "r9\td\ta\t2.5e-05\tb\t1e-06\n";

fg::Metrics small_metrics(TempDir& dir) {
  write_bytes(dir.file("p.tsv"), kSmall);
  return fg::evaluate(fg::read_predictions(dir.file("p.tsv")));
}

}  // namespace

TEST_CASE("metrics: hand-computed small case") {
  TempDir dir;
  fg::Metrics m = small_metrics(dir);
  CHECK(m.rows == 9);
  CHECK(m.evaluated == 8);
  CHECK(m.unlabeled == 1);
  CHECK(m.unseen_rows == 1);
  REQUIRE(m.unseen_labels.size() == 1);
  CHECK(m.unseen_labels[0] == "d");
  CHECK(m.k == 2);
  CHECK(m.correct == 4);
  CHECK(m.top1 == doctest::Approx(0.5).epsilon(1e-15));
  REQUIRE(m.topk.size() == 2);
  CHECK(m.topk[0] == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(m.topk[1] == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(m.macro_precision == doctest::Approx(3.0 / 8).epsilon(1e-15));
  CHECK(m.macro_recall == doctest::Approx(5.0 / 12).epsilon(1e-15));
  CHECK(m.macro_f1 == doctest::Approx(11.0 / 28).epsilon(1e-15));
  CHECK(m.weighted_f1 == doctest::Approx(13.0 / 28).epsilon(1e-15));
  CHECK(m.micro_f1 == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(m.mean_per_class_accuracy == doctest::Approx(5.0 / 12).epsilon(1e-15));

  REQUIRE(m.classes.size() == 5);  // a b c e, then unseen d
  CHECK(m.model_classes == 4);
  CHECK(m.classes[0].name == "a");
  CHECK(m.classes[0].support == 3);
  CHECK(m.classes[0].predicted == 4);
  CHECK(m.classes[0].correct == 2);
  CHECK(m.classes[0].precision == doctest::Approx(0.5));
  CHECK(m.classes[0].recall == doctest::Approx(2.0 / 3));
  CHECK(m.classes[0].f1 == doctest::Approx(4.0 / 7));
  CHECK(m.classes[3].name == "e");
  CHECK(m.classes[3].support == 0);
  CHECK(m.classes[4].name == "d");
  CHECK_FALSE(m.classes[4].seen);
  CHECK(m.classes[4].f1 == 0.0);

  // Confusion: rows a b c e d, columns a b c e.
  const std::uint64_t expected[5][4] = {
      {2, 1, 0, 0}, {0, 1, 1, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}};
  for (std::size_t t = 0; t < 5; ++t)
    for (std::size_t p = 0; p < 4; ++p) CHECK(m.count(t, p) == expected[t][p]);
}

TEST_CASE("metrics: perfect predictions and top-1 only") {
  TempDir dir;
  write_bytes(
      dir.file("p.tsv"),
      "#key\ttrue\tpredicted\tscore\n#classes\tx\ty\nk1\tx\tx\t1\nk2\ty\ty\t1\nk3\ty\ty\t0.5\n");
  fg::Metrics m = fg::evaluate(fg::read_predictions(dir.file("p.tsv")));
  CHECK(m.k == 1);
  CHECK(m.top1 == 1.0);
  CHECK(m.macro_f1 == 1.0);
  CHECK(m.weighted_f1 == 1.0);
  CHECK(m.mean_per_class_accuracy == 1.0);
  CHECK(m.unseen_rows == 0);
}

TEST_CASE("metrics: JSON and TSV contents") {
  TempDir dir;
  fg::Metrics m = small_metrics(dir);
  const std::string json = fg::metrics_json(m);
  CHECK(json.find("\"rows\": 9,") != std::string::npos);
  CHECK(json.find("\"evaluated\": 8,") != std::string::npos);
  CHECK(json.find("\"unlabeled\": 1,") != std::string::npos);
  CHECK(json.find("\"unseen_labels\": [\"d\"]") != std::string::npos);
  CHECK(json.find("\"top1_accuracy\": 0.5,") != std::string::npos);
  CHECK(json.find("\"topk_accuracy\": {\"1\": 0.5, \"2\": 0.75}") != std::string::npos);
  CHECK(json.find("\"macro_precision\": 0.375,") != std::string::npos);
  CHECK(json.find(
            "{\"class\": \"a\", \"seen\": true, \"support\": 3, \"predicted\": 4, \"correct\": 2, "
            "\"precision\": 0.5, \"recall\": 0.6666666666666666, \"f1\": 0.5714285714285715}") !=
        std::string::npos);
  CHECK(json.find("{\"class\": \"d\", \"seen\": false") != std::string::npos);

  fg::write_confusion_tsv(dir.file("c.tsv"), m);
  CHECK(read_bytes(dir.file("c.tsv")) ==
        "true\\predicted\ta\tb\tc\te\n"
        "a\t2\t1\t0\t0\n"
        "b\t0\t1\t1\t0\n"
        "c\t1\t0\t1\t0\n"
        "e\t0\t0\t0\t0\n"
        "d\t1\t0\t0\t0\n");

  const std::string report = fg::metrics_report(m);
  CHECK(report.find("top-1 accuracy            50.00 %  (4 / 8)") != std::string::npos);
  CHECK(report.find("top-2 accuracy            75.00 %") != std::string::npos);
  CHECK(report.find("d (unseen)") != std::string::npos);
  CHECK(fg::metrics_report(m, true).find("support") == std::string::npos);
}

TEST_CASE("metrics: JSON escapes names") {
  TempDir dir;
  write_bytes(
      dir.file("p.tsv"),
      "#key\ttrue\tpredicted\tscore\n#classes\tsay \"hi\"\\\nk\tsay \"hi\"\\\tsay \"hi\"\\\t1\n");
  fg::Metrics m = fg::evaluate(fg::read_predictions(dir.file("p.tsv")));
  CHECK(fg::metrics_json(m).find("\"class\": \"say \\\"hi\\\"\\\\\"") != std::string::npos);
}

TEST_CASE("metrics: bad predictions files") {
  TempDir dir;
  auto fails = [&](const std::string& text, const std::string& message) {
    write_bytes(dir.file("bad.tsv"), text);
    CHECK_THROWS_WITH_AS(fg::evaluate(fg::read_predictions(dir.file("bad.tsv"))),
                         doctest::Contains(message.c_str()), fg::Error);
  };
  fails("", "empty file");
  fails("1 1:0.5 2:0.25\n", "bad.tsv:1: not a predictions file");
  fails("#key\ttrue\tpredicted\tscore\n", "bad.tsv:2: expected the '#classes");
  fails("#key\ttrue\tpredicted\tscore\n#classes\ta\ta\n", "class 'a' is listed twice");
  fails("#key\ttrue\tpredicted\tscore\n#classes\ta\tb\nk\ta\tb\n",
        "bad.tsv:3: 3 fields, expected 4");
  fails("#key\ttrue\tpredicted\tscore\n#classes\ta\tb\nk\ta\tz\t1\n",
        "bad.tsv:3: predicted class 'z' is not in");
  fails("#key\ttrue\tpredicted\tscore\n#classes\ta\tb\nk\ta\tb\tx1\n",
        "bad.tsv:3: score 'x1' is not a number");
  fails("#key\ttrue\tpredicted\tscore\n#classes\ta\tb\n", "no prediction rows");
  fails("#key\ttrue\tpredicted\tscore\n#classes\ta\tb\nk\t\ta\t1\n",
        "none of the 1 rows has a true label");
}

TEST_CASE("plot: confusion heat map PNG has the layout size and the cell colours") {
  TempDir dir;
  fg::Metrics m = small_metrics(dir);
  const std::string png = dir.file("c.png");
  fg::write_confusion_plot(png, m);
  cv::Mat image = cv::imread(png, cv::IMREAD_COLOR);
  REQUIRE_FALSE(image.empty());
  const fg::plot::HeatMap map = fg::confusion_heat_map(m);
  const fg::plot::HeatMapLayout l = fg::plot::layout(map);
  CHECK(image.cols == l.size.width);
  CHECK(image.rows == l.size.height);
  // Cell (a, a) holds 2 of 3: colour heat_color(2/3), sampled near its corner
  // (away from the count printed in the middle). PNG is lossless.
  auto pixel = [&](int row, int col) {
    cv::Vec3b p = image.at<cv::Vec3b>(l.origin.y + row * l.cell + 3, l.origin.x + col * l.cell + 3);
    return cv::Scalar(p[0], p[1], p[2]);
  };
  auto near = [](cv::Scalar a, cv::Scalar b) {
    for (int i = 0; i < 3; ++i)
      if (std::abs(a[i] - b[i]) > 1.0) return false;
    return true;
  };
  CHECK(near(pixel(0, 0), fg::plot::heat_color(2.0 / 3)));
  CHECK(near(pixel(1, 2), fg::plot::heat_color(0.5)));
  CHECK(near(pixel(3, 3), cv::Scalar(255, 255, 255)));  // e: no rows, white
  CHECK(near(pixel(4, 0), fg::plot::heat_color(1.0)));  // d (unseen) always predicted a
  // The colour ramp: white at 0, dark at 1.
  CHECK(fg::plot::heat_color(0) == cv::Scalar(255, 255, 255));
  CHECK(fg::plot::heat_color(1)[2] < 30);
}

TEST_CASE("plot: 100 classes scale the image so names stay readable") {
  fg::plot::HeatMap map;
  for (int i = 0; i < 100; ++i) {
    map.row_names.push_back("Long_Bird_Species_Name_" + std::to_string(i));
    map.col_names.push_back(map.row_names.back());
  }
  map.values.assign(100 * 100, 0.0);
  const fg::plot::HeatMapLayout l = fg::plot::layout(map);
  CHECK(l.cell >= 18);
  CHECK(l.size.width >= 100 * 18);
  cv::Mat image = fg::plot::draw(map);
  CHECK(image.cols == l.size.width);
  CHECK(image.rows == l.size.height);
}

TEST_CASE("plot: nice ticks") {
  CHECK(fg::plot::nice_ticks(0, 100, 6) == std::vector<double>{0, 20, 40, 60, 80, 100});
  CHECK(fg::plot::nice_ticks(0, 256, 8) == std::vector<double>{0, 50, 100, 150, 200, 250});
  CHECK(fg::plot::nice_ticks(0, 1, 4) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(fg::plot::format_tick(0.25) == "0.25");
  CHECK(fg::plot::format_percent(93.14) == "93.1 %");
}
