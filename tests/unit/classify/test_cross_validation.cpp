// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "finegrain/classify/cross_validation.hpp"
#include "finegrain/classify/lbfgs.hpp"
#include "finegrain/classify/logreg.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

TEST_CASE("cv: stratified folds spread every class evenly, reproducibly per seed") {
  std::vector<int> y;
  const std::vector<int> sizes = {7, 10, 3, 12};
  for (int c = 0; c < 4; ++c) y.insert(y.end(), sizes[c], c);
  const std::vector<int> fold = stratified_folds(y, 4, 3, 5);
  REQUIRE(fold.size() == y.size());
  std::vector<int> per_fold(3, 0);
  for (int c = 0; c < 4; ++c) {
    std::vector<int> count(3, 0);
    for (std::size_t i = 0; i < y.size(); ++i)
      if (y[i] == c) ++count[fold[i]], ++per_fold[fold[i]];
    CHECK(*std::max_element(count.begin(), count.end()) -
              *std::min_element(count.begin(), count.end()) <=
          1);
  }
  CHECK(per_fold == std::vector<int>{11, 11, 10});  // 32 rows dealt round-robin across classes
  CHECK(stratified_folds(y, 4, 3, 5) == fold);
  CHECK(stratified_folds(y, 4, 3, 6) != fold);
}
