#include "finegrain/classify/scaling.hpp"

#include <cmath>
#include <limits>

#include "finegrain/core/common.hpp"

namespace fg {

std::string to_string(ScaleKind kind) {
  switch (kind) {
    case ScaleKind::none:
      return "none";
    case ScaleKind::l2:
      return "l2";
    case ScaleKind::standard:
      return "standard";
    case ScaleKind::minmax:
      return "minmax";
  }
  return "?";
}

ScaleKind parse_scale_kind(const std::string& text) {
  if (text == "none") return ScaleKind::none;
  if (text == "l2") return ScaleKind::l2;
  if (text == "standard") return ScaleKind::standard;
  if (text == "minmax") return ScaleKind::minmax;
  throw UsageError(
      cat("--scale: unknown scaling '", text, "' (expected none, l2, standard or minmax)"));
}

void Scaler::fit(ScaleKind k, const float* rows, std::size_t n, std::size_t dim, double lo,
                 double up) {
  kind = k;
  lower = lo;
  upper = up;
  a.clear();
  b.clear();
  if (kind == ScaleKind::minmax) {
    if (!(lower < upper))
      throw UsageError(cat("--scale-range: lower ", lower, " must be below upper ", upper));
    a.assign(dim, std::numeric_limits<double>::infinity());
    b.assign(dim, -std::numeric_limits<double>::infinity());
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < dim; ++j) {
        double v = rows[i * dim + j];
        if (v < a[j]) a[j] = v;
        if (v > b[j]) b[j] = v;
      }
    if (n == 0) a.assign(dim, 0.0), b.assign(dim, 0.0);
  } else if (kind == ScaleKind::standard) {
    a.assign(dim, 0.0);
    b.assign(dim, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < dim; ++j) a[j] += rows[i * dim + j];
    for (std::size_t j = 0; j < dim; ++j) a[j] = n ? a[j] / double(n) : 0.0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < dim; ++j) {
        double d = rows[i * dim + j] - a[j];
        b[j] += d * d;
      }
    for (std::size_t j = 0; j < dim; ++j) b[j] = n ? std::sqrt(b[j] / double(n)) : 0.0;
  }
}

void Scaler::apply(const float* x, std::size_t dim, double* z) const {
  switch (kind) {
    case ScaleKind::none:
      for (std::size_t j = 0; j < dim; ++j) z[j] = x[j];
      break;
    case ScaleKind::l2: {
      double s = 0.0;
      for (std::size_t j = 0; j < dim; ++j) s += double(x[j]) * double(x[j]);
      double inv = s > 0.0 ? 1.0 / std::sqrt(s) : 0.0;
      for (std::size_t j = 0; j < dim; ++j) z[j] = x[j] * inv;
      break;
    }
    case ScaleKind::standard:
      for (std::size_t j = 0; j < dim; ++j) {
        double d = x[j] - a[j];
        z[j] = b[j] > 0.0 ? d / b[j] : d;
      }
      break;
    case ScaleKind::minmax:
      for (std::size_t j = 0; j < dim; ++j) {
        double v = x[j];
        if (a[j] == b[j])
          z[j] = 0.0;  // svm-scale drops constant features
        else if (v == a[j])
          z[j] = lower;
        else if (v == b[j])
          z[j] = upper;
        else
          z[j] = lower + (upper - lower) * (v - a[j]) / (b[j] - a[j]);
      }
      break;
  }
}

}  // namespace fg
