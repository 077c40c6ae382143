// The top eigenpairs of a symmetric matrix, as LAPACK's dsyevr computes them
// (Householder reduction to tridiagonal form, the tridiagonal problem, back-
// transformation), with the reduction written here. LAPACK's reduction
// (dsytrd) spends most of its time in one symmetric matrix-vector product per
// column, each a pass over the whole trailing matrix: memory-bound, so on one
// thread it is the serial 80 % of an exact PCA fit, and OpenBLAS's threaded
// version sums per-thread partial results, so its output changes with the
// thread count. Here that product runs over fixed blocks of columns, each
// with its own partial sums added in block order: all cores share the passes,
// and every value is the same whatever the thread count.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "blas.hpp"

namespace fg::blas {
namespace {

constexpr int kProductBlock = 128;  // columns per block of the symmetric product
constexpr int kPanel = 32;          // columns reduced per trailing update (dsytrd's block)
constexpr int kUpdateTile = 256;    // tiles of the trailing update
constexpr int kParallelFrom = 512;  // smaller products run on one thread: not worth a fork

// Column-major view of a matrix: element (r, c) at p[r + c * ld]; ptr(r, c)
// points at it, the start of column c from row r down.
struct View {
  double* p;
  int ld;
  double& operator()(int r, int c) const { return p[r + static_cast<std::ptrdiff_t>(c) * ld]; }
  double* ptr(int r, int c) const { return &(*this)(r, c); }
};

// y = S x for the s x s symmetric matrix S (lower triangle read). Block b
// (columns c0..c1) reads each of its columns once and yields partial sums
// for rows c0..s: the dot products of its columns with x (rows c0..c1) and
// the columns scaled by x (rows below). Row r of y is the sum of the
// partials of blocks 0..r / block, in that order.
void symmetric_product(int s, View S, const double* x, double* y, std::vector<double>& partial) {
  const int blocks = (s + kProductBlock - 1) / kProductBlock;
  partial.resize(static_cast<std::size_t>(blocks) * static_cast<std::size_t>(s));
#pragma omp parallel for schedule(dynamic, 1) if (s >= kParallelFrom)
  for (int b = 0; b < blocks; ++b) {
    const int c0 = b * kProductBlock, c1 = std::min(s, c0 + kProductBlock);
    double* p = partial.data() + static_cast<std::size_t>(b) * static_cast<std::size_t>(s);
    std::fill(p + c0, p + s, 0.0);
    int c = c0;
    // Four columns at a time: one pass updates the partials with all four.
    for (; c + 4 <= c1; c += 4) {
      const double *a0 = S.ptr(0, c), *a1 = S.ptr(0, c + 1), *a2 = S.ptr(0, c + 2),
                   *a3 = S.ptr(0, c + 3);
      const double x0 = x[c], x1 = x[c + 1], x2 = x[c + 2], x3 = x[c + 3];
      // The 4 x 4 diagonal corner, from its lower triangle.
      const double corner0 = a0[c] * x0 + a0[c + 1] * x1 + a0[c + 2] * x2 + a0[c + 3] * x3;
      const double corner1 = a0[c + 1] * x0 + a1[c + 1] * x1 + a1[c + 2] * x2 + a1[c + 3] * x3;
      const double corner2 = a0[c + 2] * x0 + a1[c + 2] * x1 + a2[c + 2] * x2 + a2[c + 3] * x3;
      const double corner3 = a0[c + 3] * x0 + a1[c + 3] * x1 + a2[c + 3] * x2 + a3[c + 3] * x3;
      double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : d0, d1, d2, d3)
      for (int r = c + 4; r < s; ++r) {
        p[r] += a0[r] * x0 + a1[r] * x1 + a2[r] * x2 + a3[r] * x3;
        d0 += a0[r] * x[r];
        d1 += a1[r] * x[r];
        d2 += a2[r] * x[r];
        d3 += a3[r] * x[r];
      }
      p[c] += corner0 + d0;
      p[c + 1] += corner1 + d1;
      p[c + 2] += corner2 + d2;
      p[c + 3] += corner3 + d3;
    }
    for (; c < c1; ++c) {
      const double* a0 = S.ptr(0, c);
      double d0 = 0;
      for (int r = c + 1; r < s; ++r) {
        p[r] += a0[r] * x[c];
        d0 += a0[r] * x[r];
      }
      p[c] += a0[c] * x[c] + d0;
    }
  }
#pragma omp parallel for schedule(static) if (s >= kParallelFrom)
  for (int r = 0; r < s; ++r) {
    double sum = 0;
    for (int b = 0; b <= r / kProductBlock; ++b)
      sum += partial[static_cast<std::size_t>(b) * static_cast<std::size_t>(s) +
                     static_cast<std::size_t>(r)];
    y[r] = sum;
  }
}

// Reduces the first `cols` columns of the m x m trailing matrix A (LAPACK's
// dlatrd, lower): the Householder vectors go below A's subdiagonal, with a
// 1 on it; W (m x cols) gets the matching columns such that the rest of A is
// A - V W^T - W V^T, which the caller applies. off: the subdiagonal.
void reduce_panel(int m, int cols, View A, View W, double* off, double* tau,
                  std::vector<double>& partial) {
  for (int j = 0; j < cols; ++j) {
    const int len = m - j;
    if (j >
        0) {  // column j gets the panel's earlier reflectors: A(j:, j) -= A W(j,:)^T + W A(j,:)^T
      gemv('N', len, j, -1, A.ptr(j, 0), A.ld, W.ptr(j, 0), W.ld, 1, A.ptr(j, j));
      gemv('N', len, j, -1, W.ptr(j, 0), W.ld, A.ptr(j, 0), A.ld, 1, A.ptr(j, j));
    }
    if (j + 1 >= m) break;
    const int below = m - j - 1;
    tau[j] = householder(below, A(j + 1, j), A.ptr(std::min(j + 2, m - 1), j));
    off[j] = A(j + 1, j);
    A(j + 1, j) = 1;
    const double* v = A.ptr(j + 1, j);
    double* w = W.ptr(j + 1, j);
    // w = tau (A - V W^T - W V^T) v over the trailing part, A's part being the product.
    symmetric_product(below, View{A.ptr(j + 1, j + 1), A.ld}, v, w, partial);
    if (j > 0) {
      double* scratch = W.ptr(0, j);  // W's rows above the panel's diagonal are free
      gemv('T', below, j, 1, W.ptr(j + 1, 0), W.ld, v, 1, 0, scratch);
      gemv('N', below, j, -1, A.ptr(j + 1, 0), A.ld, scratch, 1, 1, w);
      gemv('T', below, j, 1, A.ptr(j + 1, 0), A.ld, v, 1, 0, scratch);
      gemv('N', below, j, -1, W.ptr(j + 1, 0), W.ld, scratch, 1, 1, w);
    }
    double dot = 0;
    for (int r = 0; r < below; ++r) {
      w[r] *= tau[j];
      dot += w[r] * v[r];
    }
    const double alpha = -0.5 * tau[j] * dot;
    for (int r = 0; r < below; ++r) w[r] += alpha * v[r];
  }
}

// A = Q T Q^T (LAPACK's dsytrd, lower, the same output): diagonal and
// subdiagonal of T in diag/off, Q's reflectors below A's subdiagonal and in tau.
void tridiagonalize(int n, View a, double* diag, double* off, double* tau) {
  std::vector<double> w(static_cast<std::size_t>(n) * kPanel), partial;
  for (int i = 0; i < n; i += kPanel) {
    const int m = n - i, cols = std::min(kPanel, m);
    const View A{a.ptr(i, i), a.ld}, W{w.data(), m};
    reduce_panel(m, cols, A, W, off + i, tau + i, partial);
    // The rest: A(cols:, cols:) -= V W^T + W V^T, on fixed tiles of its lower triangle.
    const int rest = m - cols, tiles = (rest + kUpdateTile - 1) / kUpdateTile;
    const View V{A.ptr(cols, 0), A.ld}, Wr{W.ptr(cols, 0), W.ld};
#pragma omp parallel for schedule(dynamic, 1) if (rest >= kParallelFrom)
    for (int t = 0; t < tiles * tiles; ++t) {
      const int ti = t % tiles, tj = t / tiles;
      if (tj > ti) continue;
      const int r0 = ti * kUpdateTile, c0 = tj * kUpdateTile;
      const int rows = std::min(kUpdateTile, rest - r0), width = std::min(kUpdateTile, rest - c0);
      double* c = A.ptr(cols + r0, cols + c0);
      gemm('N', 'T', rows, width, cols, -1.0, V.ptr(r0, 0), V.ld, Wr.ptr(c0, 0), Wr.ld, 1.0, c,
           A.ld);
      gemm('N', 'T', rows, width, cols, -1.0, Wr.ptr(r0, 0), Wr.ld, V.ptr(c0, 0), V.ld, 1.0, c,
           A.ld);
    }
    for (int j = 0; j < cols; ++j) {
      if (j + 1 < m) A(j + 1, j) = off[i + j];
      diag[i + j] = A(j, j);
    }
  }
}

}  // namespace

bool symmetric_eigen(int n, double* a, int first, int last, double* values, double* vectors) {
  if (n == 0) return true;
  SingleThreaded single;  // the parallel loops here call OpenBLAS from each thread
  std::vector<double> diag(static_cast<std::size_t>(n)), off(static_cast<std::size_t>(n)),
      tau(static_cast<std::size_t>(n));
  tridiagonalize(n, View{a, n}, diag.data(), off.data(), tau.data());
  if (!tridiagonal_eigen(n, diag.data(), off.data(), first, last, values, vectors)) return false;
  // vectors <- Q vectors, on one thread: LAPACK's dormtr writes into the
  // reflectors' storage while it works (restoring it after), so calls on
  // separate blocks of columns cannot run at once. About 10 % of the time.
  return apply_reflectors(n, a, n, tau.data(), last - first + 1, vectors, n);
}

}  // namespace fg::blas
