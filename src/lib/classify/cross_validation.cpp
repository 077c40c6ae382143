#include "finegrain/classify/cross_validation.hpp"

#include "finegrain/core/random.hpp"

namespace fg {

std::vector<std::vector<int>> shuffled_by_class(const std::vector<int>& y, int classes,
                                                std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int>> by_class(classes);
  for (std::size_t i = 0; i < y.size(); ++i) by_class[y[i]].push_back(static_cast<int>(i));
  for (auto& members : by_class) seeded_shuffle(members, rng);
  return by_class;
}

std::vector<int> deal_folds(const std::vector<std::vector<int>>& by_class, std::size_t rows,
                            int folds, FoldDeal deal) {
  std::vector<int> fold(rows);
  int next = 0;
  for (const auto& members : by_class) {
    if (deal == FoldDeal::per_class) next = 0;
    for (int i : members) fold[i] = next++ % folds;
  }
  return fold;
}

std::vector<int> stratified_folds(const std::vector<int>& y, int classes, int folds,
                                  std::uint64_t seed) {
  return deal_folds(shuffled_by_class(y, classes, seed), y.size(), folds, FoldDeal::across_classes);
}

}  // namespace fg
