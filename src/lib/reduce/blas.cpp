#include "blas.hpp"

#include <algorithm>
#include <vector>

extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
void dgemv_(const char* trans, const int* m, const int* n, const double* alpha, const double* a,
            const int* lda, const double* x, const int* incx, const double* beta, double* y,
            const int* incy);
void dlarfg_(const int* n, double* alpha, double* x, const int* incx, double* tau);
void dstevr_(const char* jobz, const char* range, const int* n, double* d, double* e,
             const double* vl, const double* vu, const int* il, const int* iu, const double* abstol,
             int* m, double* w, double* z, const int* ldz, int* isuppz, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
void dormtr_(const char* side, const char* uplo, const char* trans, const int* m, const int* n,
             const double* a, const int* lda, const double* tau, double* c, const int* ldc,
             double* work, const int* lwork, int* info);
void openblas_set_num_threads(int count);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
}

namespace fg::blas {

SingleThreaded::SingleThreaded() : saved_(openblas_get_num_threads()) {
  openblas_set_num_threads(1);
}
SingleThreaded::~SingleThreaded() { openblas_set_num_threads(saved_); }

void gemm(char trans_a, char trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  sgemm_(&trans_a, &trans_b, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

void gemm(char trans_a, char trans_b, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc) {
  if (m == 0 || n == 0) return;
  dgemm_(&trans_a, &trans_b, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

void gemv(char trans, int m, int n, double alpha, const double* a, int lda, const double* x,
          int incx, double beta, double* y) {
  if (m == 0 || n == 0) return;
  const int one = 1;
  dgemv_(&trans, &m, &n, &alpha, a, &lda, x, &incx, &beta, y, &one);
}

double householder(int n, double& alpha, double* x) {
  const int one = 1;
  double tau = 0;
  dlarfg_(&n, &alpha, x, &one, &tau);
  return tau;
}

bool tridiagonal_eigen(int n, double* d, double* e, int first, int last, double* values,
                       double* vectors) {
  const char jobz = 'V', range = 'I';
  const int il = first + 1, iu = last + 1, ld = std::max(1, n);
  const double vl = 0, vu = 0, abstol = 0;  // abstol 0: LAPACK's default accuracy
  int found = 0, info = 0, lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  std::vector<int> support(2 * static_cast<std::size_t>(std::max(1, n)));
  // Workspace query, then the real call.
  std::vector<double> all(static_cast<std::size_t>(ld));  // LAPACK wants room for n values
  dstevr_(&jobz, &range, &n, d, e, &vl, &vu, &il, &iu, &abstol, &found, all.data(), vectors, &ld,
          support.data(), &work_size, &lwork, &iwork_size, &liwork, &info);
  if (info != 0) return false;
  lwork = static_cast<int>(work_size) + 1;
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(1, liwork)));
  dstevr_(&jobz, &range, &n, d, e, &vl, &vu, &il, &iu, &abstol, &found, all.data(), vectors, &ld,
          support.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0 || found != last - first + 1) return false;
  std::copy(all.begin(), all.begin() + found, values);
  return true;
}

bool apply_reflectors(int n, const double* a, int lda, const double* tau, int cols, double* c,
                      int ldc) {
  if (n == 0 || cols == 0) return true;
  const char side = 'L', uplo = 'L', trans = 'N';
  int lwork = -1, info = 0;
  double work_size = 0;
  dormtr_(&side, &uplo, &trans, &n, &cols, a, &lda, tau, c, &ldc, &work_size, &lwork, &info);
  if (info != 0) return false;
  lwork = static_cast<int>(work_size) + 1;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dormtr_(&side, &uplo, &trans, &n, &cols, a, &lda, tau, c, &ldc, work.data(), &lwork, &info);
  return info == 0;
}

int threads() { return openblas_get_num_threads(); }
void set_threads(int count) { openblas_set_num_threads(count); }
std::string core_name() {
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

}  // namespace fg::blas
