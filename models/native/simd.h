// Whole 64-byte vectors of doubles or floats (GCC and Clang vector extensions), for the
// kernels that read a data set's rows a vector at a time: normal_equations.cc and
// certificate.cc.
#pragma once

#include <cstdint>

namespace glmnn {

template <typename T>
struct Vec {
  static constexpr int kLanes = 64 / sizeof(T);
  typedef T type __attribute__((vector_size(64)));
};

template <typename T>
using V = typename Vec<T>::type;

// Unaligned loads and stores: memcpy compiles to one vector move.
template <typename T>
inline V<T> load(const T* p) {
  V<T> v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

template <typename T>
inline void store(T* p, V<T> v) {
  __builtin_memcpy(p, &v, sizeof(v));
}

}  // namespace glmnn
