// What checks a separation certificate (models/_certificates.py) reduces a data set to, for
// a batch of small designs, as an XLA FFI custom call on CPU (models/_native.py builds it).
//
// Inputs, with the same leading batch dimensions:
//   xt     [..., p, n]  X^T
//   linear [..., n]     X d (d: the candidate direction)
//   lam    [..., 2, n]  multipliers of the rows +x_i (successes, [0]) and -x_i (failures, [1])
//   shift  [..., 2, n]  the multipliers checked are lam + shift * (x_i . delta) ...
//   delta  [..., p]     ... (a fit's last Newton correction; 0 for none)
//   active [..., 2, n]  1 where that row exists, else 0 (its multiplier counts as 0)
// Output [..., 2p + 4]:
//   [j < p]      sum_i (m[0, i] - m[1, i]) x_ji, pairwise (m: the multipliers checked)
//   [p]          sum_i (m[0, i] + m[1, i]), pairwise
//   [p + 1]      the least signed margin: min of linear_i (successes), -linear_i (failures)
//   [p + 2]      the greatest signed margin
//   [p + 3]      the least multiplier over the rows present
//   [p + 4 + j]  the largest |x_ji| over the observations with a row present
//
// The sums are the XLA branch's pairwise_sum: the n terms, padded with zeros to the next
// power of two, are halved by adding element i + h to element i, in 64-byte vectors while
// they fill one; each term is stored before it is added. Given the same multipliers the
// two branches give the same bits; x_i . delta may round differently (XLA's product picks
// its own order), which moves a multiplier by rounding of its shift only.
// GCC's -O3 here only (the other kernels build at -O2): it unrolls the short halving loops,
// and with the buffer aligned this kernel takes about 0.6 of its -O2 time (n = 200, p = 11).
// It changes no result: neither level reorders floating-point operations.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "simd.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using glmnn::load;
using glmnn::V;
using glmnn::Vec;
using glmnn::store;

// buf[0] = the pairwise sum of buf[0 .. size), size a power of two: element i + h is added
// to element i, h = size / 2, size / 4, ..., 1; a vector of them at a time while h allows.
template <typename T>
T halve(T* buf, int64_t size) {
  constexpr int kLanes = Vec<T>::kLanes;
  int64_t h = size / 2;
  for (; h >= kLanes; h /= 2)
    for (int64_t i = 0; i < h; i += kLanes) store(buf + i, load(buf + i) + load(buf + i + h));
  for (; h > 0; h /= 2)
    for (int64_t i = 0; i < h; ++i) buf[i] = buf[i] + buf[i + h];
  return buf[0];
}

template <typename T>
inline V<T> splat(T value) {
  V<T> v = {};
  return v + value;
}

template <typename T>
struct Lane {
  int64_t p, n, size;
  const T *x, *lin, *l0, *l1, *s0, *s1, *delta, *a0, *a1;
  T *out, *buf, *m0, *m1;

  void run() {
    constexpr int kLanes = Vec<T>::kLanes;
    const int64_t full = n - n % kLanes;
    const T inf = std::numeric_limits<T>::infinity();
    // X delta, column by column in order (buf), then the multipliers checked:
    // lam + shift * (X delta), 0 where no row is present.
    for (int64_t j = 0; j < p; ++j) {
      const T* xj = x + j * n;
      const V<T> dj = splat(delta[j]);
      int64_t i = 0;
      for (; i < full; i += kLanes)
        store(buf + i, j == 0 ? load(xj + i) * dj : load(buf + i) + load(xj + i) * dj);
      for (; i < n; ++i) buf[i] = j == 0 ? xj[i] * delta[j] : buf[i] + xj[i] * delta[j];
    }
    V<T> vlow = splat(inf), vhigh = splat(-inf), vlam = splat(inf);
    const V<T> zero = {}, vinf = splat(inf), vninf = splat(-inf);
    int64_t i = 0;
    for (; i < full; i += kLanes) {
      const auto p0 = load(a0 + i) > zero;  // masks: all ones where the row is present
      const auto p1 = load(a1 + i) > zero;
      const V<T> xd = load(buf + i), v = load(lin + i);
      const V<T> c0 = p0 ? load(l0 + i) + load(s0 + i) * xd : zero;
      const V<T> c1 = p1 ? load(l1 + i) + load(s1 + i) * xd : zero;
      store(m0 + i, c0);
      store(m1 + i, c1);
      const V<T> lo0 = p0 ? v : vinf, lo1 = p1 ? -v : vinf;
      const V<T> hi0 = p0 ? v : vninf, hi1 = p1 ? -v : vninf;
      vlow = lo0 < vlow ? lo0 : vlow;
      vlow = lo1 < vlow ? lo1 : vlow;
      vhigh = hi0 > vhigh ? hi0 : vhigh;
      vhigh = hi1 > vhigh ? hi1 : vhigh;
      const V<T> q0 = p0 ? c0 : vinf, q1 = p1 ? c1 : vinf;
      vlam = q0 < vlam ? q0 : vlam;
      vlam = q1 < vlam ? q1 : vlam;
    }
    T low = inf, high = -inf, lam_min = inf;
    for (int k = 0; k < kLanes; ++k) {
      low = vlow[k] < low ? vlow[k] : low;
      high = vhigh[k] > high ? vhigh[k] : high;
      lam_min = vlam[k] < lam_min ? vlam[k] : lam_min;
    }
    for (; i < n; ++i) {
      m0[i] = a0[i] > 0 ? l0[i] + s0[i] * buf[i] : T(0);
      m1[i] = a1[i] > 0 ? l1[i] + s1[i] * buf[i] : T(0);
      if (a0[i] > 0) {
        low = lin[i] < low ? lin[i] : low;
        high = lin[i] > high ? lin[i] : high;
        lam_min = m0[i] < lam_min ? m0[i] : lam_min;
      }
      if (a1[i] > 0) {
        low = -lin[i] < low ? -lin[i] : low;
        high = -lin[i] > high ? -lin[i] : high;
        lam_min = m1[i] < lam_min ? m1[i] : lam_min;
      }
    }
    for (int64_t j = 0; j < p; ++j) {
      const T* xj = x + j * n;
      V<T> vtop = {};
      int64_t r = 0;
      for (; r < full; r += kLanes) {
        const V<T> xv = load(xj + r);
        const V<T> ax = xv < zero ? -xv : xv;
        const V<T> used = load(a0 + r) + load(a1 + r);
        const V<T> cand = used > zero ? ax : zero;
        vtop = cand > vtop ? cand : vtop;
        store(buf + r, (load(m0 + r) - load(m1 + r)) * xv);
      }
      T top = T(0);
      for (int k = 0; k < kLanes; ++k) top = vtop[k] > top ? vtop[k] : top;
      for (; r < n; ++r) {
        const T ax = xj[r] < 0 ? -xj[r] : xj[r];
        top = (a0[r] > 0 || a1[r] > 0) && ax > top ? ax : top;
        buf[r] = (m0[r] - m1[r]) * xj[r];
      }
      for (; r < size; ++r) buf[r] = T(0);
      out[j] = halve(buf, size);
      out[p + 4 + j] = top;
    }
    for (int64_t r = 0; r < n; ++r) buf[r] = m0[r] + m1[r];
    for (int64_t r = n; r < size; ++r) buf[r] = T(0);
    out[p] = halve(buf, size);
    out[p + 1] = low;
    out[p + 2] = high;
    out[p + 3] = lam_min;
  }
};

template <ffi::DataType D>
ffi::Error certificate(ffi::Buffer<D> xt, ffi::Buffer<D> linear, ffi::Buffer<D> lam,
                       ffi::Buffer<D> shift, ffi::Buffer<D> delta, ffi::Buffer<D> active,
                       ffi::ResultBuffer<D> out) {
  using T = ffi::NativeType<D>;
  const auto xd = xt.dimensions();
  if (xd.size() < 2) return ffi::Error::InvalidArgument("certificate: xt [..., p, n]");
  const int64_t p = xd[xd.size() - 2], n = xd[xd.size() - 1];
  const int64_t lanes = static_cast<int64_t>(out->element_count()) / (2 * p + 4);
  if (static_cast<int64_t>(xt.element_count()) != lanes * p * n ||
      static_cast<int64_t>(linear.element_count()) != lanes * n ||
      static_cast<int64_t>(lam.element_count()) != 2 * lanes * n ||
      static_cast<int64_t>(shift.element_count()) != 2 * lanes * n ||
      static_cast<int64_t>(delta.element_count()) != lanes * p ||
      static_cast<int64_t>(active.element_count()) != 2 * lanes * n)
    return ffi::Error::InvalidArgument("certificate: shapes differ");
  int64_t size = 1;
  while (size < n) size *= 2;
  // The terms' buffer on a 64-byte boundary, so that each vector the halving stores is
  // the one a later level loads, whole.
  std::vector<T> storage(size + 64 / sizeof(T), T(0)), m0(n), m1(n);
  T* buf = reinterpret_cast<T*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) &
                                ~std::uintptr_t(63));
  for (int64_t b = 0; b < lanes; ++b) {
    const T* l = lam.typed_data() + b * 2 * n;
    const T* s = shift.typed_data() + b * 2 * n;
    const T* a = active.typed_data() + b * 2 * n;
    Lane<T>{p, n, size, xt.typed_data() + b * p * n, linear.typed_data() + b * n,
            l, l + n, s, s + n, delta.typed_data() + b * p, a, a + n,
            out->typed_data() + b * (2 * p + 4), buf, m0.data(), m1.data()}
        .run();
  }
  return ffi::Error::Success();
}

}  // namespace

#define GLMNN_CERTIFICATE(name, D)                                          \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(name, certificate<D>,                       \
                                ffi::Ffi::Bind()                            \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Ret<ffi::Buffer<D>>());

GLMNN_CERTIFICATE(GlmnnCertificateF64, ffi::F64)
GLMNN_CERTIFICATE(GlmnnCertificateF32, ffi::F32)
