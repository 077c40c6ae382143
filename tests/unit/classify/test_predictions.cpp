#include <doctest/doctest.h>

#include "finegrain/classify/predictions.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE("predictions: fg-predict's report lines and its --top-k option") {
  PredictSummary done;
  done.rows = 240;
  CHECK(done.summary() == "Done 240 rows (unlabelled)");
  CHECK(done.unseen_warning() == "");
  done.labelled = 200;
  done.correct = 150;
  done.unseen = 3;
  done.unseen_labels = {{"Rosa canina", 2}, {"Bellis", 1}};
  CHECK(done.summary() == "Done 240 rows; top-1 accuracy 75 % on 200 labelled rows");
  CHECK(done.unseen_warning() ==
        "3 rows have labels the model was not trained on: Bellis (1), Rosa canina (2); they are "
        "written as they are and count as errors in fg-eval");

  CHECK(parse_option_group<PredictOptions>({}).top_k == PredictOptions{}.top_k);
  CHECK(parse_option_group<PredictOptions>({"-k", "5"}).top_k == 5);
  CHECK_THROWS(parse_option_group<PredictOptions>({"--top-k", "0"}));
}
