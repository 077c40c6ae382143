#include "finegrain/classify/gram.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace fg {

using Eigen::MatrixXd;

MatrixXd gram_matrix(const MatrixXd& Z) {
  const Eigen::Index n = Z.rows();
  const Eigen::Index bs = 256;
  const Eigen::Index nb = (n + bs - 1) / bs;
  MatrixXd G(n, n);
  std::vector<std::pair<Eigen::Index, Eigen::Index>> blocks;
  for (Eigen::Index i = 0; i < nb; ++i)
    for (Eigen::Index j = 0; j <= i; ++j) blocks.emplace_back(i, j);
#pragma omp parallel for schedule(dynamic)
  for (std::size_t t = 0; t < blocks.size(); ++t) {
    const Eigen::Index i0 = blocks[t].first * bs, j0 = blocks[t].second * bs;
    const Eigen::Index ni = std::min(bs, n - i0), nj = std::min(bs, n - j0);
    G.block(i0, j0, ni, nj).noalias() = Z.middleRows(i0, ni) * Z.middleRows(j0, nj).transpose();
  }
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < j; ++i) G(i, j) = G(j, i);
  return G;
}

RowBasis row_basis(const MatrixXd& G, double rank_tol) {
  const Eigen::Index n = G.rows();
  RowBasis basis;
  if (n == 0) return basis;
  Eigen::LLT<MatrixXd> llt(G);
  if (llt.info() == Eigen::Success) {
    const MatrixXd L = llt.matrixL();
    bool well_posed = true;
    for (Eigen::Index i = 0; i < n && well_posed; ++i)
      well_posed = L(i, i) * L(i, i) >= rank_tol * G(i, i) && G(i, i) > 0.0;
    if (well_posed) {
      basis.to_coords = L.triangularView<Eigen::Lower>().solve(MatrixXd::Identity(n, n));
      basis.coords = L;
      basis.cholesky = true;
      return basis;
    }
  }
  Eigen::SelfAdjointEigenSolver<MatrixXd> eig(G);
  const Eigen::VectorXd& s = eig.eigenvalues();  // ascending
  const double cut = rank_tol * std::max(s[n - 1], 0.0);
  Eigen::Index first = 0;
  while (first < n && !(s[first] > cut)) ++first;
  const Eigen::Index r = n - first;
  const MatrixXd U = eig.eigenvectors().rightCols(r);
  const Eigen::ArrayXd root = s.tail(r).array().sqrt();
  basis.coords = U * root.matrix().asDiagonal();
  basis.to_coords = root.inverse().matrix().asDiagonal() * U.transpose();
  return basis;
}

}  // namespace fg
