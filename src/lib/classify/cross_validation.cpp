#include "finegrain/classify/cross_validation.hpp"

#include "finegrain/core/random.hpp"

namespace fg {

std::vector<int> stratified_folds(const std::vector<int>& y, int classes, int folds,
                                  std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int>> by_class(classes);
  for (std::size_t i = 0; i < y.size(); ++i) by_class[y[i]].push_back(static_cast<int>(i));
  std::vector<int> fold(y.size());
  int next = 0;
  for (auto& members : by_class) {
    seeded_shuffle(members, rng);
    for (int i : members) fold[i] = next++ % folds;
  }
  return fold;
}

}  // namespace fg
