// Input normalisation fitted on training features and stored in the model,
// so test features get exactly the training transform (svm-scale -s/-r).
#pragma once

#include <string>
#include <vector>

namespace fg {

enum class ScaleKind { none, l2, standard, minmax };

std::string to_string(ScaleKind kind);
// "none", "l2", "standard", "minmax"; anything else is a UsageError.
ScaleKind parse_scale_kind(const std::string& text);

// The fitted transform x (float, dim) -> z (double, dim).
//   none      z = x
//   l2        z = x / ||x||_2 (a zero row stays zero); nothing is fitted
//   standard  z = (x - mean) / std (population std; a constant feature: z = x - mean)
//   minmax    per feature, [min, max] of the training data -> [lower, upper],
//             exactly as LIBSVM's svm-scale does it (min -> lower, max -> upper,
//             a constant feature -> 0, test values outside the range are not clipped)
struct Scaler {
  ScaleKind kind = ScaleKind::none;
  double lower = -1.0, upper = 1.0;  // minmax target range
  std::vector<double> a, b;          // minmax: min, max; standard: mean, std

  // Fits on n rows of dim floats (row-major).
  void fit(ScaleKind kind, const float* rows, std::size_t n, std::size_t dim, double lower = -1.0,
           double upper = 1.0);
  void apply(const float* x, std::size_t dim, double* z) const;
};

}  // namespace fg
