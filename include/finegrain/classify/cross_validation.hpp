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

}  // namespace fg
