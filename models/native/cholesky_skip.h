// The column-skipping Cholesky factor of models._linalg.cholesky_skip, for one p x p matrix:
// the one definition that the GLM's kernels (cholesky.cc) and the separation linear
// program (separation.cc) both use.
#pragma once

#include <cmath>
#include <cstdint>

namespace glmnn {

// Left-looking Cholesky of gram [p, p] (row-major, lower triangle read) into factor. When
// the pivot of column j (its residual after the earlier columns) is not above
// rtol * gram[j, j] (or is NaN), row and column j of the factor become e_j and lost[j] is
// set: the factor is then that of the kept columns' Gram matrix, embedded in the identity.
template <typename T, typename Flags>
void cholesky_skip(int64_t p, T rtol, const T* gram, T* factor, Flags& lost) {
  for (int64_t i = 0; i < p * p; ++i) factor[i] = 0;
  for (int64_t j = 0; j < p; ++j) {
    // residual[i] = gram[i, j] - sum_k factor[i, k] factor[j, k] over the earlier columns
    // (the rows of dropped columns are e_k, so their entries below are 0).
    T pivot = gram[j * p + j];
    for (int64_t k = 0; k < j; ++k) pivot -= factor[j * p + k] * factor[j * p + k];
    const bool bad = !(pivot > rtol * gram[j * p + j]);
    lost[j] = bad;
    if (bad) {
      for (int64_t k = 0; k < p; ++k) factor[j * p + k] = 0;  // row j: e_j
      factor[j * p + j] = 1;
      continue;  // column j below the diagonal stays 0
    }
    const T root = std::sqrt(pivot);
    factor[j * p + j] = root;
    for (int64_t i = j + 1; i < p; ++i) {
      T residual = gram[i * p + j];
      for (int64_t k = 0; k < j; ++k) residual -= factor[i * p + k] * factor[j * p + k];
      factor[i * p + j] = residual / root;
    }
  }
}

}  // namespace glmnn
