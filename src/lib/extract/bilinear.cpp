#include "finegrain/extract/bilinear.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <Eigen/Eigenvalues>
#include <opencv2/core.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/pooling.hpp"

namespace fg {

BilinearNorm parse_bilinear_norm(const std::string& name) {
  if (name == "none") return BilinearNorm::none;
  if (name == "signed-sqrt") return BilinearNorm::signed_sqrt;
  if (name == "matrix-sqrt") return BilinearNorm::matrix_sqrt;
  throw UsageError(
      cat("unknown bilinear normalisation '", name, "' (signed-sqrt, matrix-sqrt, none)"));
}

std::string to_string(BilinearNorm n) {
  switch (n) {
    case BilinearNorm::none:
      return "none";
    case BilinearNorm::signed_sqrt:
      return "signed-sqrt";
    case BilinearNorm::matrix_sqrt:
      return "matrix-sqrt";
  }
  return "?";
}

namespace {
const float kSqrt2 = float(std::sqrt(2.0));
}

void pack_symmetric(const MatrixRowF& full, float* packed) {
  const Eigen::Index c = full.rows();
  for (Eigen::Index i = 0; i < c; ++i) {
    const float* row = full.data() + i * c;
    *packed++ = row[i];
    for (Eigen::Index j = i + 1; j < c; ++j) *packed++ = row[j] * kSqrt2;
  }
}

MatrixRowF unpack_symmetric(const float* packed, std::size_t channels) {
  const Eigen::Index c = Eigen::Index(channels);
  MatrixRowF full(c, c);
  const float inv = 1.0f / kSqrt2;
  for (Eigen::Index i = 0; i < c; ++i) {
    full(i, i) = *packed++;
    for (Eigen::Index j = i + 1; j < c; ++j) full(i, j) = full(j, i) = *packed++ * inv;
  }
  return full;
}

MatrixRowF gather_positions(const float* map, std::size_t channels, std::size_t n,
                            const std::vector<std::size_t>* positions, float scale) {
  const Eigen::Map<const MatrixRowF> all(map, Eigen::Index(channels), Eigen::Index(n));
  if (!positions) return all * scale;
  MatrixRowF out(Eigen::Index(channels), Eigen::Index(positions->size()));
  for (std::size_t k = 0; k < positions->size(); ++k)
    out.col(Eigen::Index(k)) = all.col(Eigen::Index((*positions)[k])) * scale;
  return out;
}

void bilinear_pool(const float* map, std::size_t channels, std::size_t n,
                   const std::vector<std::size_t>* positions, float* packed) {
  const std::size_t k = positions ? positions->size() : n;
  const Eigen::Index c = Eigen::Index(channels);
  MatrixRowF b = MatrixRowF::Zero(c, c);
  const float scale = k ? float(1.0 / double(k)) : 0.0f;
  if (positions) {
    const MatrixRowF a = gather_positions(map, channels, n, positions);
    b.selfadjointView<Eigen::Upper>().rankUpdate(a, scale);
  } else {
    const Eigen::Map<const MatrixRowF> a(map, c, Eigen::Index(n));
    b.selfadjointView<Eigen::Upper>().rankUpdate(a, scale);
  }
  pack_symmetric(b, packed);
}

void bilinear_pool_cross(const float* a, std::size_t ca, const float* b, std::size_t cb,
                         std::size_t n, const std::vector<std::size_t>* positions, float* out) {
  const std::size_t k = positions ? positions->size() : n;
  Eigen::Map<MatrixRowF> result(out, Eigen::Index(ca), Eigen::Index(cb));
  const float scale = k ? float(1.0 / double(k)) : 0.0f;
  if (positions) {
    result.noalias() =
        gather_positions(a, ca, n, positions) * gather_positions(b, cb, n, positions).transpose();
    result *= scale;
  } else {
    const Eigen::Map<const MatrixRowF> ma(a, Eigen::Index(ca), Eigen::Index(n)),
        mb(b, Eigen::Index(cb), Eigen::Index(n));
    result.noalias() = scale * (ma * mb.transpose());
  }
}

void signed_sqrt_l2(float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) v[i] = std::copysign(std::sqrt(std::fabs(v[i])), v[i]);
  l2_normalize(v, n);
}

namespace {

// Eigenvalues this far below the largest are rounding noise: dropped, as
// their square roots would be amplified noise.
constexpr double kRelativeFloor = 1e-12;

void sqrt_from_eigen(const Eigen::MatrixXd& b, float* packed) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(b);
  const Eigen::VectorXd& lambda = eig.eigenvalues();  // ascending
  const double floor = std::max(0.0, lambda(lambda.size() - 1)) * kRelativeFloor;
  // B^(1/2) = W W^T with W = V diag(lambda^(1/4)) over the kept eigenvalues.
  Eigen::Index first = 0;
  while (first < lambda.size() && !(lambda(first) > floor)) ++first;
  const Eigen::Index kept = lambda.size() - first;
  Eigen::MatrixXd w = eig.eigenvectors().rightCols(kept);
  for (Eigen::Index j = 0; j < kept; ++j) w.col(j) *= std::pow(lambda(first + j), 0.25);
  MatrixRowF root = MatrixRowF::Zero(b.rows(), b.rows());
  root.selfadjointView<Eigen::Upper>().rankUpdate(w.cast<float>());
  pack_symmetric(root, packed);
}

}  // namespace

void matrix_sqrt_of_factor(const MatrixRowF& factor, float* packed) {
  const Eigen::Index c = factor.rows(), r = factor.cols();
  const Eigen::MatrixXd m = factor.cast<double>();
  if (r >= c) {
    Eigen::MatrixXd b = Eigen::MatrixXd::Zero(c, c);
    b.selfadjointView<Eigen::Lower>().rankUpdate(m);
    sqrt_from_eigen(b, packed);
    return;
  }
  // Thin route: G = M^T M = V diag(lambda) V^T, the left singular vectors are
  // U = M V diag(lambda^(-1/2)), so B^(1/2) = U diag(lambda^(1/2)) U^T
  // = W W^T with W = M V diag(lambda^(-1/4)).
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(r, r);
  g.selfadjointView<Eigen::Lower>().rankUpdate(m.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(g);
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  const double floor = std::max(0.0, lambda(r - 1)) * kRelativeFloor;
  Eigen::Index first = 0;
  while (first < r && !(lambda(first) > floor)) ++first;
  const Eigen::Index kept = r - first;
  Eigen::MatrixXd w = m * eig.eigenvectors().rightCols(kept);
  for (Eigen::Index j = 0; j < kept; ++j) w.col(j) *= std::pow(lambda(first + j), -0.25);
  MatrixRowF root = MatrixRowF::Zero(c, c);
  root.selfadjointView<Eigen::Upper>().rankUpdate(w.cast<float>());
  pack_symmetric(root, packed);
}

void matrix_sqrt_packed(float* packed, std::size_t channels) {
  sqrt_from_eigen(unpack_symmetric(packed, channels).cast<double>(), packed);
}

// ---------------------------------------------------------------- Tensor Sketch

TensorSketch::TensorSketch(std::size_t channels_a, std::size_t channels_b, std::size_t dim,
                           std::uint64_t seed)
    : dim_(dim) {
  if (dim < 2) throw UsageError("--sketch-dim must be at least 2");
  // Raw engine output (not std::uniform_int_distribution, whose algorithm
  // differs between standard libraries): the same seed gives the same sketch
  // everywhere. The modulo bias is below 2^-40 for any sketch size used.
  std::mt19937_64 rng(seed);
  auto draw = [&](std::size_t count, std::vector<std::uint32_t>& h, std::vector<float>& s) {
    h.resize(count);
    s.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      h[i] = std::uint32_t(rng() % dim);
      s[i] = (rng() >> 63) ? 1.0f : -1.0f;
    }
  };
  draw(channels_a, h1_, s1_);
  draw(channels_b, h2_, s2_);
}

void TensorSketch::pool(const float* a, const float* b, std::size_t n,
                        const std::vector<std::size_t>* positions, float* out, Route route) const {
  const std::size_t k = positions ? positions->size() : n;
  const int d = int(dim_);
  const std::size_t ca = h1_.size(), cb = h2_.size();
  if (route == Route::automatic)
    route = double(ca) * double(cb) <= 4.0 * double(k) * double(d) * std::log2(double(d))
                ? Route::direct
                : Route::fft;
  if (route == Route::direct) {
    // Entry (h1(i) + h2(j)) mod D gets s1(i) s2(j) B(i, j).
    MatrixRowF bij(static_cast<Eigen::Index>(ca), static_cast<Eigen::Index>(cb));
    bilinear_pool_cross(a, ca, b, cb, n, positions, bij.data());
    std::fill(out, out + d, 0.0f);
    for (std::size_t i = 0; i < ca; ++i) {
      const float* row = bij.data() + i * cb;
      const std::uint32_t base = h1_[i];
      const float si = s1_[i];
      for (std::size_t j = 0; j < cb; ++j) {
        std::uint32_t bin = base + h2_[j];
        if (bin >= std::uint32_t(d)) bin -= std::uint32_t(d);
        out[bin] += si * s2_[j] * row[j];
      }
    }
    return;
  }
  // Positions go through the FFT in chunks of rows (count sketches of f_p
  // and g_p, one row each), their spectra multiplied and summed; one inverse
  // FFT at the end (the sketch is linear in the sum).
  const std::size_t chunk = 32;
  cv::Mat sa, sb, fa, fb, prod, sum = cv::Mat::zeros(1, d, CV_32F);
  for (std::size_t first = 0; first < k; first += chunk) {
    const int rows = int(std::min(chunk, k - first));
    sa = cv::Mat::zeros(rows, d, CV_32F);
    sb = cv::Mat::zeros(rows, d, CV_32F);
    auto scatter = [&](const float* map, const std::vector<std::uint32_t>& h,
                       const std::vector<float>& s, cv::Mat& dst) {
      for (std::size_t c = 0; c < h.size(); ++c) {
        const float* plane = map + c * n;
        const float sign = s[c];
        const std::uint32_t bin = h[c];
        for (int r = 0; r < rows; ++r) {
          const std::size_t p =
              positions ? (*positions)[first + std::size_t(r)] : first + std::size_t(r);
          dst.ptr<float>(r)[bin] += sign * plane[p];
        }
      }
    };
    scatter(a, h1_, s1_, sa);
    scatter(b, h2_, s2_, sb);
    cv::dft(sa, fa, cv::DFT_ROWS);
    cv::dft(sb, fb, cv::DFT_ROWS);
    cv::mulSpectrums(fa, fb, prod, cv::DFT_ROWS);
    for (int r = 0; r < rows; ++r) sum += prod.row(r);
  }
  cv::Mat result;
  cv::dft(sum, result, cv::DFT_INVERSE | cv::DFT_SCALE | cv::DFT_REAL_OUTPUT);
  const float scale = k ? float(1.0 / double(k)) : 0.0f;
  const float* r = result.ptr<float>();
  for (int i = 0; i < d; ++i) out[i] = r[i] * scale;
}

void TensorSketch::sketch(const float* x, const float* y, float* out) const {
  pool(x, y, 1, nullptr, out);
}

}  // namespace fg
