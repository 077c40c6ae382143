// The few OpenBLAS / LAPACK routines PCA uses, declared here (Debian's
// libopenblas is LP64: 32-bit integers) so no BLAS header is needed.
//
// Results must not depend on the thread count: callers run OpenBLAS on one
// thread (SingleThreaded) and parallelise over fixed tiles themselves, so
// every number is computed by the same single-threaded kernel call whatever
// --threads, OMP_NUM_THREADS or OPENBLAS_NUM_THREADS say. (OpenBLAS's own
// threaded dsymv, inside LAPACK's tridiagonalisation, sums per-thread
// partial results, so its eigenvectors change with its thread count.)
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

// Eigenpairs `first`..`last` (0-based, in increasing order of eigenvalue) of
// the symmetric n x n matrix `a` (column-major, lower triangle read and
// destroyed), by LAPACK's dsyevr (MRRR). values: last - first + 1 values,
// increasing; vectors: n x (last - first + 1), column-major, ld = n.
// Returns false if LAPACK reports a failure.
bool symmetric_eigen(int n, double* a, int first, int last, double* values, double* vectors);

int threads();
void set_threads(int count);
// The kernel OpenBLAS chose for this CPU at run time (e.g. "SkylakeX", "Haswell").
std::string core_name();

}  // namespace fg::blas
