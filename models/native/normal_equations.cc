// Weighted normal equations X^T diag(w) X and X^T wz for a batch of small designs, as an
// XLA FFI custom call on CPU (models/_native.py builds, loads and calls it).
//
// Inputs, with any leading batch dimensions (the same for all three):
//   xt [..., p, n]  X^T
//   w  [..., k, n]  k weightings of the same X
//   wz [..., k, n]  the matching right-hand-side weights
// Outputs: gram [..., k, p, p] (symmetric, both triangles written), rhs [..., k, p].
//
// One pass over X^T per weighting: columns j and j + 1 are weighted once, and every later
// column is loaded once for both, so each load of X^T feeds two fused multiply-adds. The
// sums run in vector registers of 64 bytes (8 doubles, 16 floats) and are reduced in a
// fixed order at the end, so a data set gives the same bits in any batch. The column count
// is a template parameter (1..kMaxColumns), which keeps the accumulators in registers (for
// p <= 13; beyond, some spill to the stack). No fast-math: nothing is reassociated, though
// the compiler fuses each multiply-add into one FMA.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "simd.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr int kMaxColumns = 16;

using glmnn::load;
using glmnn::V;
using glmnn::Vec;

template <typename T>
inline V<T> load_tail(const T* p, int64_t count) {  // the last count < kLanes numbers, then 0
  V<T> v = {};
  __builtin_memcpy(&v, p, count * sizeof(T));
  return v;
}

template <typename T>
inline T reduce(V<T> v) {  // pairwise, in a fixed order
  constexpr int n = Vec<T>::kLanes;
  T s[n];
  __builtin_memcpy(s, &v, sizeof(v));
  for (int width = n / 2; width > 0; width /= 2)
    for (int i = 0; i < width; ++i) s[i] = s[i] + s[i + width];
  return s[0];
}

// Rows J and J + 1 (if any) of the Gram matrix from column J on, and rhs[J], rhs[J + 1].
template <typename T, int P, int J>
inline void column_pair(int64_t n, const T* xt, const T* w, const T* wz, T* gram, T* rhs) {
  constexpr bool kTwo = J + 1 < P;
  constexpr int kRest = P - J;
  constexpr int kLanes = Vec<T>::kLanes;
  V<T> acc0[kRest], acc1[kRest];
  V<T> r0 = {}, r1 = {};
#pragma GCC unroll 16
  for (int k = 0; k < kRest; ++k) {
    acc0[k] = V<T>{};
    acc1[k] = V<T>{};
  }
  // Rows i .. i + kLanes - 1, read by `get` (a full load, or the zero-filled tail).
  auto rows = [&](int64_t i, auto get) __attribute__((always_inline)) {
    const V<T> wv = get(w + i), zv = get(wz + i);
    const V<T> x0 = get(xt + J * n + i);
    const V<T> u0 = x0 * wv;
    r0 += x0 * zv;
    V<T> u1 = {};
    if constexpr (kTwo) {
      const V<T> x1 = get(xt + (J + 1) * n + i);
      u1 = x1 * wv;
      r1 += x1 * zv;
    }
#pragma GCC unroll 16
    for (int k = 0; k < kRest; ++k) {
      const V<T> xk = get(xt + (J + k) * n + i);
      acc0[k] += u0 * xk;
      if constexpr (kTwo) acc1[k] += u1 * xk;
    }
  };
  const int64_t full = n - n % kLanes;
  for (int64_t i = 0; i < full; i += kLanes) rows(i, [](const T* p) { return load(p); });
  if (full < n) {
    const int64_t count = n - full;
    rows(full, [count](const T* p) { return load_tail(p, count); });
  }
#pragma GCC unroll 16
  for (int k = 0; k < kRest; ++k) gram[J * P + J + k] = gram[(J + k) * P + J] = reduce<T>(acc0[k]);
  rhs[J] = reduce<T>(r0);
  if constexpr (kTwo) {
#pragma GCC unroll 16
    for (int k = 1; k < kRest; ++k)
      gram[(J + 1) * P + J + k] = gram[(J + k) * P + J + 1] = reduce<T>(acc1[k]);
    rhs[J + 1] = reduce<T>(r1);
  }
}

template <typename T, int P, int J = 0>
inline void one(int64_t m, const T* xt, const T* w, const T* wz, T* gram, T* rhs) {
  if constexpr (J < P) {
    column_pair<T, P, J>(m, xt, w, wz, gram, rhs);
    one<T, P, J + 2>(m, xt, w, wz, gram, rhs);
  }
}

template <typename T>
using OneFn = void (*)(int64_t, const T*, const T*, const T*, T*, T*);

template <typename T, int... Ps>
constexpr OneFn<T> pick(int p, std::integer_sequence<int, Ps...>) {
  OneFn<T> table[] = {nullptr, &one<T, Ps + 1>...};
  return table[p];
}

template <ffi::DataType D>
ffi::Error normal_equations(ffi::Buffer<D> xt, ffi::Buffer<D> w, ffi::Buffer<D> wz,
                            ffi::ResultBuffer<D> gram, ffi::ResultBuffer<D> rhs) {
  using T = ffi::NativeType<D>;
  const auto xd = xt.dimensions();
  const auto wd = w.dimensions();
  if (xd.size() < 2 || wd.size() < 2 || wd.size() != xd.size())
    return ffi::Error::InvalidArgument("normal_equations: xt [..., p, m] and w [..., k, m]");
  const int64_t p = xd[xd.size() - 2], m = xd[xd.size() - 1], k = wd[wd.size() - 2];
  if (p < 1 || p > kMaxColumns || wd[wd.size() - 1] != m)
    return ffi::Error::InvalidArgument("normal_equations: p must be 1..16, w's rows X's");
  if (m == 0) {  // no rows: the sums are empty
    for (size_t i = 0; i < gram->element_count(); ++i) gram->typed_data()[i] = 0;
    for (size_t i = 0; i < rhs->element_count(); ++i) rhs->typed_data()[i] = 0;
    return ffi::Error::Success();
  }
  const int64_t lanes = static_cast<int64_t>(xt.element_count()) / (p * m);
  if (static_cast<int64_t>(w.element_count()) != lanes * k * m ||
      static_cast<int64_t>(wz.element_count()) != lanes * k * m)
    return ffi::Error::InvalidArgument("normal_equations: batch dimensions differ");
  const OneFn<T> fn = pick<T>(static_cast<int>(p), std::make_integer_sequence<int, kMaxColumns>{});
  const T* x = xt.typed_data();
  const T* wv = w.typed_data();
  const T* zv = wz.typed_data();
  T* g = gram->typed_data();
  T* r = rhs->typed_data();
  for (int64_t b = 0; b < lanes; ++b)
    for (int64_t j = 0; j < k; ++j) {
      const int64_t s = b * k + j;
      fn(m, x + b * p * m, wv + s * m, zv + s * m, g + s * p * p, r + s * p);
    }
  return ffi::Error::Success();
}

}  // namespace

#define GLMNN_HANDLER(name, D)                                              \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(name, normal_equations<D>,                  \
                                ffi::Ffi::Bind()                            \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Ret<ffi::Buffer<D>>()                  \
                                    .Ret<ffi::Buffer<D>>());

GLMNN_HANDLER(GlmnnNormalEquationsF64, ffi::F64)
GLMNN_HANDLER(GlmnnNormalEquationsF32, ffi::F32)
