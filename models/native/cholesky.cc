// The small p x p factorisation and solves of the GLM's iterations, batched, as XLA FFI
// custom calls on CPU (models/_native.py builds, loads and calls them).
//
// glmnn_cholesky_skip_*: the column-skipping Cholesky factor of models._linalg.
//   cholesky_skip, to the letter: left-looking; column j is dropped (its row and column of
//   the factor become e_j) when its pivot is not above rtol * gram[j, j] (NaN included).
//   In:  gram [..., p, p] (the lower triangle is read)
//   Out: factor [..., p, p], aliased [..., p] (bool), inverse_diagonal [..., p]
//        (diag((L L^T)^-1) as models._linalg.inverse_diagonal, when the attribute
//        `inverse` is 1; else 0).
// glmnn_cho_solve_*: x = (L L^T)^-1 rhs by forward and back substitution.
//   In: factor [..., p, p], rhs [..., p]. Out: x [..., p].
//
// One matrix at a time, in scalar arithmetic, the sums in the order of the Python code's
// loops, so that a data set gives the same bits in any batch. No fast-math (the compiler
// may fuse a multiply-add into one FMA, and reassociates nothing).
#include <cmath>
#include <cstdint>

#include "cholesky_skip.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

template <typename T>
void factor_one(int64_t p, T rtol, const T* gram, T* factor, bool* aliased) {
  glmnn::cholesky_skip(p, rtol, gram, factor, aliased);
}

template <typename T>
void inverse_diagonal_one(int64_t p, const T* factor, T* out, T* x) {
  // Column j of L^-1 by forward substitution on e_j, from row j on; out[j] its squared norm.
  for (int64_t j = 0; j < p; ++j) {
    x[j] = 1 / factor[j * p + j];
    for (int64_t i = j + 1; i < p; ++i) {
      T acc = factor[i * p + j] * x[j];
      for (int64_t k = j + 1; k < i; ++k) acc += factor[i * p + k] * x[k];
      x[i] = -acc / factor[i * p + i];
    }
    T total = x[j] * x[j];
    for (int64_t i = j + 1; i < p; ++i) total += x[i] * x[i];
    out[j] = total;
  }
}

template <typename T>
void cho_solve_one(int64_t p, const T* factor, const T* rhs, T* x) {
  for (int64_t i = 0; i < p; ++i) {  // L y = rhs
    T acc = rhs[i];
    for (int64_t k = 0; k < i; ++k) acc -= factor[i * p + k] * x[k];
    x[i] = acc / factor[i * p + i];
  }
  for (int64_t i = p - 1; i >= 0; --i) {  // L^T x = y
    T acc = x[i];
    for (int64_t k = i + 1; k < p; ++k) acc -= factor[k * p + i] * x[k];
    x[i] = acc / factor[i * p + i];
  }
}

// p of a [..., p, p] operand, or 0 if it is not one.
inline int64_t square_size(ffi::Span<const int64_t> dims) {
  if (dims.size() < 2 || dims[dims.size() - 1] != dims[dims.size() - 2]) return 0;
  return dims.back();
}

template <ffi::DataType D>
ffi::Error cholesky_skip(ffi::Buffer<D> gram, double rtol, int32_t inverse,
                         ffi::ResultBuffer<D> factor, ffi::ResultBuffer<ffi::PRED> aliased,
                         ffi::ResultBuffer<D> inverse_diagonal) {
  using T = ffi::NativeType<D>;
  const int64_t p = square_size(gram.dimensions());
  if (p < 1) return ffi::Error::InvalidArgument("cholesky_skip: gram must be [..., p, p]");
  if (inverse && p > 1024) return ffi::Error::InvalidArgument("cholesky_skip: p > 1024");
  const int64_t count = static_cast<int64_t>(gram.element_count()) / (p * p);
  T x[1024];
  const T* g = gram.typed_data();
  T* f = factor->typed_data();
  bool* a = aliased->typed_data();
  T* d = inverse_diagonal->typed_data();
  for (int64_t b = 0; b < count; ++b) {
    factor_one<T>(p, static_cast<T>(rtol), g + b * p * p, f + b * p * p, a + b * p);
    if (inverse) {
      inverse_diagonal_one<T>(p, f + b * p * p, d + b * p, x);
    } else {
      for (int64_t j = 0; j < p; ++j) d[b * p + j] = 0;
    }
  }
  return ffi::Error::Success();
}

template <ffi::DataType D>
ffi::Error cho_solve(ffi::Buffer<D> factor, ffi::Buffer<D> rhs, ffi::ResultBuffer<D> x) {
  using T = ffi::NativeType<D>;
  const int64_t p = square_size(factor.dimensions());
  if (p < 1) return ffi::Error::InvalidArgument("cho_solve: factor must be [..., p, p]");
  const int64_t count = static_cast<int64_t>(factor.element_count()) / (p * p);
  if (static_cast<int64_t>(rhs.element_count()) != count * p)
    return ffi::Error::InvalidArgument("cho_solve: rhs must be [..., p]");
  const T* f = factor.typed_data();
  const T* r = rhs.typed_data();
  T* out = x->typed_data();
  for (int64_t b = 0; b < count; ++b) cho_solve_one<T>(p, f + b * p * p, r + b * p, out + b * p);
  return ffi::Error::Success();
}

}  // namespace

#define GLMNN_CHOLESKY(name, D)                                                   \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(name, cholesky_skip<D>,                           \
                                ffi::Ffi::Bind()                                  \
                                    .Arg<ffi::Buffer<D>>()                        \
                                    .Attr<double>("rtol")                         \
                                    .Attr<int32_t>("inverse")                     \
                                    .Ret<ffi::Buffer<D>>()                        \
                                    .Ret<ffi::Buffer<ffi::PRED>>()                \
                                    .Ret<ffi::Buffer<D>>());
#define GLMNN_CHO_SOLVE(name, D)                                                  \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(name, cho_solve<D>,                               \
                                ffi::Ffi::Bind()                                  \
                                    .Arg<ffi::Buffer<D>>()                        \
                                    .Arg<ffi::Buffer<D>>()                        \
                                    .Ret<ffi::Buffer<D>>());

GLMNN_CHOLESKY(GlmnnCholeskySkipF64, ffi::F64)
GLMNN_CHOLESKY(GlmnnCholeskySkipF32, ffi::F32)
GLMNN_CHO_SOLVE(GlmnnChoSolveF64, ffi::F64)
GLMNN_CHO_SOLVE(GlmnnChoSolveF32, ffi::F32)
