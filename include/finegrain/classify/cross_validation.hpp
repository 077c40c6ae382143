// K-fold cross-validation shared by the classifiers' grid searches
// (fg-train --cv): the same seeded, stratified folds for svm and logreg.
#pragma once

#include <cstdint>
#include <vector>

namespace fg {

// One point of a grid search and its cross-validated accuracy.
struct GridPoint {
  double C = 0.0, gamma = 0.0, accuracy = 0.0;
};

// fold[i] in [0, folds) for each label y[i] in [0, classes): each class's
// rows are shuffled (seeded) and dealt round-robin, continuing the count
// across classes, so every fold gets a near-equal share of every class.
std::vector<int> stratified_folds(const std::vector<int>& y, int classes, int folds,
                                  std::uint64_t seed);

// The two steps of stratified_folds, for callers that also need the order:
// each class's rows (ascending), then shuffled by one generator seeded with
// `seed`, class after class.
std::vector<std::vector<int>> shuffled_by_class(const std::vector<int>& y, int classes,
                                                std::uint64_t seed);
// fold[i] for the rows of `by_class`, dealt round-robin in its order: the
// count continuing across classes (stratified_folds), or starting again at
// fold 0 in each class (the SVM's Platt calibration, as it always has).
enum class FoldDeal { across_classes, per_class };
std::vector<int> deal_folds(const std::vector<std::vector<int>>& by_class, std::size_t rows,
                            int folds, FoldDeal deal);

}  // namespace fg
