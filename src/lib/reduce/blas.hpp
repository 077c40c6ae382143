// The few OpenBLAS / LAPACK routines PCA uses, declared here (Debian's
// libopenblas is LP64: 32-bit integers) so no BLAS header is needed.
//
// Results must not depend on the thread count: callers run OpenBLAS on one
// thread (SingleThreaded) and parallelise over fixed tiles themselves, so
// every number is computed by the same single-threaded kernel call whatever
// --threads, OMP_NUM_THREADS or OPENBLAS_NUM_THREADS say. (OpenBLAS's own
// threaded dsymv, inside LAPACK's tridiagonalisation, sums per-thread
// partial results, so its eigenvectors change with its thread count: hence
// the reduction of symmetric_eigen.cpp.)
#pragma once

#include <string>

namespace fg::blas {

// While alive, OpenBLAS runs single-threaded; restores the previous count.
class SingleThreaded {
 public:
  SingleThreaded();
  ~SingleThreaded();
  SingleThreaded(const SingleThreaded&) = delete;
  SingleThreaded& operator=(const SingleThreaded&) = delete;

 private:
  int saved_;
};

// C = alpha op(A) op(B) + beta C, column-major; trans_a/b: 'N' or 'T'.
void gemm(char trans_a, char trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);
void gemm(char trans_a, char trans_b, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc);

// y = alpha op(A) x + beta y, column-major; x with stride incx, y contiguous.
void gemv(char trans, int m, int n, double alpha, const double* a, int lda, const double* x,
          int incx, double beta, double* y);

// The Householder reflector H = I - tau v v^T with H (alpha, x) = (beta, 0)
// (LAPACK's dlarfg): alpha becomes beta, x becomes v without its leading 1
// (x: n - 1 values). Returns tau.
double householder(int n, double& alpha, double* x);

// Eigenpairs `first`..`last` (0-based, in increasing order of eigenvalue) of
// the symmetric n x n matrix `a` (column-major, lower triangle read and
// destroyed), as LAPACK's dsyevr computes them, its tridiagonal reduction
// parallel and thread-count independent (symmetric_eigen.cpp). values:
// last - first + 1 values, increasing; vectors: n x (last - first + 1),
// column-major, ld = n. Returns false if LAPACK reports a failure.
bool symmetric_eigen(int n, double* a, int first, int last, double* values, double* vectors);

// The same for the symmetric tridiagonal matrix with diagonal d and
// subdiagonal e (both destroyed), by LAPACK's dstevr.
bool tridiagonal_eigen(int n, double* d, double* e, int first, int last, double* values,
                       double* vectors);

// c (n x cols) <- Q c, Q the product of the reflectors a tridiagonal
// reduction left in `a` and `tau` (LAPACK's dormtr, lower).
bool apply_reflectors(int n, const double* a, int lda, const double* tau, int cols, double* c,
                      int ldc);

int threads();
void set_threads(int count);
// The kernel OpenBLAS chose for this CPU at run time (e.g. "SkylakeX", "Haswell").
std::string core_name();

}  // namespace fg::blas
