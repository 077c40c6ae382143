// GCC 12 reports false "maybe-uninitialized" warnings inside Eigen's AVX-512 code (-march=native).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "finegrain/classify/scaling.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

TEST_CASE("scaling: minmax maps like svm-scale (min -> -1, max -> 1, constant -> 0, no clipping)") {
  // 3 rows x 3 features; feature 2 is constant.
  const std::vector<float> X = {0.f, 10.f, 5.f,  //
                                2.f, 30.f, 5.f,  //
                                4.f, 20.f, 5.f};
  Scaler s;
  s.fit(ScaleKind::minmax, X.data(), 3, 3);
  std::vector<double> z(3);
  s.apply(X.data() + 3, 3, z.data());
  CHECK(z[0] == doctest::Approx(0.0));
  CHECK(z[1] == 1.0);
  CHECK(z[2] == 0.0);
  s.apply(X.data(), 3, z.data());
  CHECK(z[0] == -1.0);
  CHECK(z[1] == -1.0);
  const float outside[3] = {8.f, 0.f, 7.f};
  s.apply(outside, 3, z.data());
  CHECK(z[0] == doctest::Approx(3.0));   // -1 + 2 * 8/4
  CHECK(z[1] == doctest::Approx(-2.0));  // -1 + 2 * (0-10)/20
  CHECK(z[2] == 0.0);
  Scaler r;
  r.fit(ScaleKind::minmax, X.data(), 3, 3, 0.0, 1.0);
  r.apply(X.data() + 6, 3, z.data());
  CHECK(z[0] == 1.0);
  CHECK(z[1] == doctest::Approx(0.5));
}

TEST_CASE("scaling: standard gives zero mean and unit variance on the training data") {
  const std::vector<float> X = {1.f, 2.f, 3.f, 6.f, 5.f, 10.f, 7.f, 0.f};  // 4 rows x 2
  Scaler s;
  s.fit(ScaleKind::standard, X.data(), 4, 2);
  double sum[2] = {0, 0}, sq[2] = {0, 0};
  std::vector<double> z(2);
  for (int i = 0; i < 4; ++i) {
    s.apply(X.data() + 2 * i, 2, z.data());
    for (int j = 0; j < 2; ++j) sum[j] += z[j], sq[j] += z[j] * z[j];
  }
  for (int j = 0; j < 2; ++j) {
    CHECK(sum[j] == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(sq[j] / 4 == doctest::Approx(1.0));
  }
  CHECK(s.a[0] == doctest::Approx(4.0));
  CHECK(s.b[0] == doctest::Approx(std::sqrt(5.0)));  // population std of 1, 3, 5, 7
}

TEST_CASE("scaling: l2 gives unit rows, keeps zero rows, none is the identity") {
  const float x[3] = {3.f, 0.f, 4.f}, zero[3] = {0.f, 0.f, 0.f};
  Scaler s;
  s.fit(ScaleKind::l2, x, 1, 3);
  std::vector<double> z(3);
  s.apply(x, 3, z.data());
  CHECK(z[0] == doctest::Approx(0.6));
  CHECK(z[2] == doctest::Approx(0.8));
  s.apply(zero, 3, z.data());
  CHECK(z[0] == 0.0);
  Scaler none;
  none.fit(ScaleKind::none, x, 1, 3);
  none.apply(x, 3, z.data());
  CHECK(z[0] == 3.0);
  CHECK(z[2] == 4.0);
}

TEST_CASE("scaling: names round trip and bad names are usage errors") {
  for (ScaleKind k : {ScaleKind::none, ScaleKind::l2, ScaleKind::standard, ScaleKind::minmax})
    CHECK(parse_scale_kind(to_string(k)) == k);
  CHECK_THROWS_AS(parse_scale_kind("zscore"), UsageError);
}
