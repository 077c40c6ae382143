// Gram matrices and the row-space basis behind the classifiers' "dim >> rows"
// route: an L2-penalised linear model's optimal weights lie in the span of
// the training rows, so it can be fitted on n coordinates per row instead of
// d features and mapped back (see train_logreg).
#pragma once

#include <Eigen/Dense>

namespace fg {

// Z Z^T (n x n) of the rows of Z, lower blocks computed in parallel and mirrored.
Eigen::MatrixXd gram_matrix(const Eigen::MatrixXd& Z);

// An orthonormal basis V (d x r) of the span of the rows of Z, described
// through their Gram matrix G = Z Z^T only (V itself is never formed):
//   coords     n x r   Z V, the rows' coordinates in the basis (coords coords^T = G)
//   to_coords  r x n   V^T = to_coords Z, so a vector z has coordinates
//                      to_coords (Z z), computed from its kernel values Z z
// Because V is orthonormal, |W V^T| = |W| for weights in the span: a model
// fitted on the coordinates is the same model as one fitted on Z.
// By Cholesky (G = L L^T, V = Z^T L^-T) when every row keeps a share of at
// least `rank_tol` of its squared norm after projection on the rows before
// it; otherwise by an eigen-decomposition G = U S U^T (V = Z^T U S^-1/2),
// dropping eigenvalues below rank_tol * max eigenvalue (r < n when rows are
// linearly dependent, e.g. duplicates).
struct RowBasis {
  Eigen::MatrixXd coords;
  Eigen::MatrixXd to_coords;
  bool cholesky = false;  // which factorisation was used (for messages, tests)
};
RowBasis row_basis(const Eigen::MatrixXd& G, double rank_tol = 1e-8);

}  // namespace fg
