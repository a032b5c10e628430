// The separation linear program's candidates (models/_separation.py: decide), for a batch
// of small designs, as an XLA FFI custom call on CPU (models/_native.py builds it).
//
// In, with the same leading batch dimensions:
//   xt     [..., p, n]  X^T
//   active [..., 2, n]  1 where the row +x_i (successes, [0]) or -x_i (failures, [1]) exists
//   attribute max_iter: the most interior-point steps
// Out:
//   d      [..., p]     the separating direction, in the data's columns (0 if none)
//   lam    [..., 2, n]  the multipliers of the data's rows (0 off the hyperplane)
//   raw    [..., p]     the last iterate's direction, unprojected, in the data's columns
//   n_iter [...]        int32 interior-point steps
//
// This is the JAX code of models/_separation.py and models/_lp.py, step for step, in
// scalar arithmetic: columns scaled to unit largest entry and rows to unit length; an
// orthonormal basis of the columns by Gram-Schmidt with reorthogonalisation; the
// homogeneous self-dual interior-point method with Mehrotra's predictor and corrector; the
// partition read off where every pair (lambda_k, s_k) is apart by eps^-1/3; the direction
// projected onto the null space of the hyperplane's rows, and the multipliers balanced, each
// twice. It only proposes: models/_certificates.py checks what it returns, as it checks any
// other candidate, so an error here can make a verdict undecided but never wrong.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "cholesky_skip.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr double kOrthonormalRtol = 1000.0;  // models._separation.ORTHONORMAL_RTOL
constexpr double kRankRtol = 1000.0;         // models._linalg.RANK_RTOL
constexpr double kPivotRtol = 10.0;          // models._lp.PIVOT_RTOL
constexpr double kStepFraction = 0.99;       // models._lp.STEP_FRACTION

template <typename T>
struct Work {
  int64_t p, n;
  T eps;
  // [p][n] column-major matrices (column j contiguous), and p x p row-major ones.
  std::vector<T> rows, basis, q, m, mb, r_mat, t_mat, factor, gram;
  std::vector<T> lam, s, dlam, ds, c, cs, D, r2, work_n;
  std::vector<T> d, dd, b_d, r1, f0, h, gg, gf, rhs, vec;
  std::vector<bool> aliased, keep, lost;

  Work(int64_t p_, int64_t n_)
      : p(p_), n(n_), eps(std::numeric_limits<T>::epsilon()),
        rows(p_ * n_), basis(p_ * n_), q(p_ * n_), m(p_ * n_), mb(p_ * n_),
        r_mat(p_ * p_), t_mat(p_ * p_), factor(p_ * p_), gram(p_ * p_),
        lam(2 * n_), s(2 * n_), dlam(2 * n_), ds(2 * n_), c(2 * n_), cs(2 * n_), D(2 * n_),
        r2(2 * n_), work_n(n_), d(p_), dd(p_), b_d(p_), r1(p_), f0(p_), h(p_),
        gg(p_), gf(p_), rhs(p_), vec(p_), aliased(p_), keep(p_), lost(p_) {}
};

// Classical Gram-Schmidt, twice, on the columns of a [p][n] matrix a: basis (0 for an
// aliased column), aliased, and the upper-triangular T = basis^T a on the kept columns.
// A column is aliased when its residual is at most rtol of its norm or of the largest
// column norm (with floor_largest), as models._linalg.gram_schmidt's floor.
template <typename T>
void gram_schmidt(int64_t p, int64_t n, T rtol, const T* a, T* basis,
                  std::vector<bool>& aliased, T* upper, bool floor_largest = false) {
  std::vector<T> v(n), coeff(p);
  T largest = 0;
  if (floor_largest)
    for (int64_t j = 0; j < p; ++j) {
      T sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += a[j * n + i] * a[j * n + i];
      largest = sum > largest ? sum : largest;
    }
  largest = std::sqrt(largest);
  for (int64_t j = 0; j < p; ++j) {
    const T* aj = a + j * n;
    T norm_a = 0;
    for (int64_t i = 0; i < n; ++i) norm_a += aj[i] * aj[i];
    norm_a = std::sqrt(norm_a);
    norm_a = norm_a > largest ? norm_a : largest;
    for (int64_t i = 0; i < n; ++i) v[i] = aj[i];
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        T dot = 0;
        for (int64_t i = 0; i < n; ++i) dot += basis[k * n + i] * v[i];
        coeff[k] = dot;
      }
      for (int64_t k = 0; k < j; ++k)
        for (int64_t i = 0; i < n; ++i) v[i] -= basis[k * n + i] * coeff[k];
    }
    T norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += v[i] * v[i];
    norm = std::sqrt(norm);
    const bool bad = !(norm > rtol * norm_a);
    aliased[j] = bad;
    for (int64_t i = 0; i < n; ++i) basis[j * n + i] = bad ? T(0) : v[i] / norm;
  }
  for (int64_t k = 0; k < p; ++k)
    for (int64_t j = 0; j < p; ++j) {
      T dot = 0;
      if (!aliased[k] && !aliased[j] && k <= j)
        for (int64_t i = 0; i < n; ++i) dot += basis[k * n + i] * a[j * n + i];
      upper[k * p + j] = (aliased[k] || aliased[j]) ? T(k == j ? 1 : 0) : (k <= j ? dot : T(0));
    }
}

// Solve L L^T x = rhs for L = upper^T (models._linalg.gram_schmidt_factor); aliased rows 0.
template <typename T>
void solve_upper_factor(int64_t p, const T* upper, const std::vector<bool>& aliased,
                        const T* rhs, T* x) {
  std::vector<T> y(p);
  for (int64_t i = 0; i < p; ++i) {  // L y = rhs, L[i][k] = upper[k][i]
    T acc = aliased[i] ? T(0) : rhs[i];
    for (int64_t k = 0; k < i; ++k) acc -= upper[k * p + i] * y[k];
    y[i] = acc / upper[i * p + i];
  }
  for (int64_t i = p - 1; i >= 0; --i) {  // L^T x = y, L^T = upper
    T acc = y[i];
    for (int64_t k = i + 1; k < p; ++k) acc -= upper[i * p + k] * x[k];
    x[i] = acc / upper[i * p + i];
  }
}

// The solve with a factor of glmnn::cholesky_skip (cholesky_skip.h).
template <typename T>
void cho_solve(int64_t p, const T* factor, const std::vector<bool>& lost, const T* rhs, T* x) {
  for (int64_t i = 0; i < p; ++i) {
    T acc = lost[i] ? T(0) : rhs[i];
    for (int64_t k = 0; k < i; ++k) acc -= factor[i * p + k] * x[k];
    x[i] = acc / factor[i * p + i];
  }
  for (int64_t i = p - 1; i >= 0; --i) {
    T acc = x[i];
    for (int64_t k = i + 1; k < p; ++k) acc -= factor[k * p + i] * x[k];
    x[i] = acc / factor[i * p + i];
  }
}

template <typename T>
int32_t lane(Work<T>& w, int32_t max_iter, const T* xt, const T* act, T* d_out, T* lam_out,
             T* raw_out) {
  const int64_t p = w.p, n = w.n;
  const T eps = w.eps;
  const T* a0 = act;
  const T* a1 = act + n;
  auto used = [&](int64_t i) { return a0[i] > 0 || a1[i] > 0; };
  // Columns scaled to unit largest entry, rows to unit length (0 for an unused row).
  std::vector<T> scale(p), row_norm(n);
  for (int64_t j = 0; j < p; ++j) {
    T top = 0;
    for (int64_t i = 0; i < n; ++i)
      if (used(i)) top = std::fabs(xt[j * n + i]) > top ? std::fabs(xt[j * n + i]) : top;
    scale[j] = top > 0 ? top : T(1);
  }
  for (int64_t i = 0; i < n; ++i) {
    T sum = 0;
    for (int64_t j = 0; j < p; ++j) {
      const T v = xt[j * n + i] / scale[j];
      sum += v * v;
    }
    const T norm = std::sqrt(sum);
    row_norm[i] = norm > 0 ? norm : T(1);
  }
  for (int64_t j = 0; j < p; ++j)
    for (int64_t i = 0; i < n; ++i)
      w.rows[j * n + i] = used(i) ? xt[j * n + i] / scale[j] / row_norm[i] : T(0);
  // An orthonormal basis of the columns; the rows in it, at unit length.
  gram_schmidt<T>(p, n, T(kOrthonormalRtol) * eps, w.rows.data(), w.basis.data(), w.aliased,
                  w.r_mat.data());
  std::vector<T> q_norm(n);
  for (int64_t i = 0; i < n; ++i) {
    T sum = 0;
    for (int64_t j = 0; j < p; ++j) sum += w.basis[j * n + i] * w.basis[j * n + i];
    q_norm[i] = std::sqrt(sum);
    const T safe = q_norm[i] > 0 ? q_norm[i] : T(1);
    for (int64_t j = 0; j < p; ++j) w.q[j * n + i] = w.basis[j * n + i] / safe;
  }
  const T* q = w.q.data();
  // A d (sides [2][n]) and A^T v (v [2][n]).
  auto apply = [&](const T* dir, T* out) {
    for (int64_t i = 0; i < n; ++i) {
      T dot = 0;
      for (int64_t j = 0; j < p; ++j) dot += q[j * n + i] * dir[j];
      out[i] = a0[i] * dot;
      out[n + i] = a1[i] * -dot;
    }
  };
  auto transpose_apply = [&](const T* v, T* out) {
    for (int64_t j = 0; j < p; ++j) {
      T sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += q[j * n + i] * (a0[i] * v[i] - a1[i] * v[n + i]);
      out[j] = sum;
    }
  };
  // The homogeneous self-dual interior-point method (models/_lp.py).
  T m_count = 0;
  for (int64_t k = 0; k < 2 * n; ++k) m_count += act[k];
  const T cnst = m_count + 1;
  std::vector<T> ones(2 * n, T(1));
  transpose_apply(ones.data(), w.b_d.data());
  const T clear = std::pow(eps, T(-1.0 / 3.0));  // models._lp.CLEAR_RATIO_POWER
  const T theta_stop = std::sqrt(eps);              // models._lp.THETA_STOP_POWER
  for (int64_t j = 0; j < p; ++j) w.d[j] = 0;
  for (int64_t k = 0; k < 2 * n; ++k) w.lam[k] = w.s[k] = 1;
  T theta = 1, nu = 1;
  int32_t iter = 0;
  auto step_length = [&](const T* dl, const T* dsv, T dth, T dnu) {
    T a = 1;
    for (int64_t k = 0; k < 2 * n; ++k) {
      if (act[k] <= 0) continue;
      if (dl[k] < 0) a = std::fmin(a, -w.lam[k] / dl[k]);
      if (dsv[k] < 0) a = std::fmin(a, -w.s[k] / dsv[k]);
    }
    if (dth < 0) a = std::fmin(a, -theta / dth);
    if (dnu < 0) a = std::fmin(a, -nu / dnu);
    return a;
  };
  while (iter < max_iter) {
    transpose_apply(w.lam.data(), w.r1.data());
    for (int64_t j = 0; j < p; ++j) w.r1[j] = -w.r1[j] + theta * w.b_d[j];
    apply(w.d.data(), w.r2.data());
    for (int64_t k = 0; k < 2 * n; ++k) w.r2[k] = act[k] * (w.r2[k] + theta - w.s[k]);
    T bdd = 0, lam_sum = 0, mu = theta * nu;
    for (int64_t j = 0; j < p; ++j) bdd += w.b_d[j] * w.d[j];
    for (int64_t k = 0; k < 2 * n; ++k) {
      lam_sum += act[k] * w.lam[k];
      mu += act[k] * w.lam[k] * w.s[k];
    }
    const T r3 = -bdd - lam_sum + cnst - nu;
    mu /= cnst;
    for (int64_t k = 0; k < 2 * n; ++k) w.D[k] = act[k] * w.lam[k] / w.s[k];
    for (int64_t a = 0; a < p; ++a)
      for (int64_t b = 0; b <= a; ++b) {
        T sum = 0;
        for (int64_t i = 0; i < n; ++i)
          sum += (w.D[i] + w.D[n + i]) * q[a * n + i] * q[b * n + i];
        w.gram[a * p + b] = w.gram[b * p + a] = sum;
      }
    glmnn::cholesky_skip<T>(p, T(kPivotRtol) * eps, w.gram.data(), w.factor.data(), w.lost);
    transpose_apply(w.D.data(), w.vec.data());  // A^T D 1 (D is 0 off the rows present)
    for (int64_t j = 0; j < p; ++j) {
      w.h[j] = w.vec[j] - w.b_d[j];
      w.rhs[j] = w.vec[j] + w.b_d[j];
    }
    cho_solve<T>(p, w.factor.data(), w.lost, w.rhs.data(), w.gg.data());
    for (int64_t k = 0; k < 2 * n; ++k) w.cs[k] = w.D[k] * w.r2[k];
    transpose_apply(w.cs.data(), w.vec.data());
    for (int64_t j = 0; j < p; ++j) w.f0[j] = -w.r1[j] - w.vec[j];
    T d_sum = 0, dr2 = 0, hgg = 0;
    for (int64_t k = 0; k < 2 * n; ++k) {
      d_sum += w.D[k];
      dr2 += w.D[k] * w.r2[k];
    }
    for (int64_t j = 0; j < p; ++j) hgg += w.h[j] * w.gg[j];
    const T den = d_sum + nu / theta - hgg;
    const T rhs0 = -r3 - dr2;
    // Predictor (trip 0) and Mehrotra's corrector (trip 1).
    T dth = 0, dnu = 0;
    for (int64_t k = 0; k < 2 * n; ++k) w.dlam[k] = w.ds[k] = 0;
    for (int64_t j = 0; j < p; ++j) w.dd[j] = 0;
    for (int trip = 0; trip < 2; ++trip) {
      const T a = step_length(w.dlam.data(), w.ds.data(), dth, dnu);
      T mu_aff = (theta + a * dth) * (nu + a * dnu);
      for (int64_t k = 0; k < 2 * n; ++k)
        mu_aff += act[k] * (w.lam[k] + a * w.dlam[k]) * (w.s[k] + a * w.ds[k]);
      mu_aff /= cnst;
      const T sigma = trip == 0 ? T(0) : std::pow(mu_aff / mu, T(3));
      T cs_sum = 0;
      for (int64_t k = 0; k < 2 * n; ++k) {
        w.c[k] = act[k] * (sigma * mu - w.lam[k] * w.s[k] - w.dlam[k] * w.ds[k]);
        w.cs[k] = act[k] * w.c[k] / w.s[k];
        cs_sum += w.cs[k];
      }
      const T c_th = sigma * mu - theta * nu - dth * dnu;
      transpose_apply(w.cs.data(), w.vec.data());
      for (int64_t j = 0; j < p; ++j) w.rhs[j] = w.f0[j] + w.vec[j];
      cho_solve<T>(p, w.factor.data(), w.lost, w.rhs.data(), w.gf.data());
      T hgf = 0;
      for (int64_t j = 0; j < p; ++j) hgf += w.h[j] * w.gf[j];
      const T new_dth = (rhs0 + cs_sum + c_th / theta - hgf) / den;
      for (int64_t j = 0; j < p; ++j) w.dd[j] = w.gf[j] - w.gg[j] * new_dth;
      apply(w.dd.data(), w.dlam.data());  // A dd, overwritten below
      for (int64_t k = 0; k < 2 * n; ++k) {
        const T dl = act[k] * (w.D[k] * (-w.r2[k] - w.dlam[k] - act[k] * new_dth) + w.cs[k]);
        w.ds[k] = act[k] * (w.c[k] - w.s[k] * dl) / w.lam[k];
        w.dlam[k] = dl;
      }
      dth = new_dth;
      dnu = (c_th - nu * dth) / theta;
    }
    const T a = T(kStepFraction) * step_length(w.dlam.data(), w.ds.data(), dth, dnu);
    bool finite = true;
    for (int64_t j = 0; j < p; ++j) finite = finite && std::isfinite(w.d[j] + a * w.dd[j]);
    for (int64_t k = 0; k < 2 * n; ++k)
      finite = finite && std::isfinite(w.lam[k] + a * w.dlam[k]) &&
               std::isfinite(w.s[k] + a * w.ds[k]);
    const T theta_new = theta + a * dth, nu_new = nu + a * dnu;
    finite = finite && std::isfinite(theta_new) && theta_new > 0 && nu_new > 0;
    ++iter;
    if (!finite) break;
    for (int64_t j = 0; j < p; ++j) w.d[j] += a * w.dd[j];
    bool apart = true;
    for (int64_t k = 0; k < 2 * n; ++k) {
      w.lam[k] += a * w.dlam[k];
      w.s[k] += a * w.ds[k];
      if (act[k] > 0) {
        const T big = w.lam[k] > w.s[k] ? w.lam[k] : w.s[k];
        const T small = w.lam[k] > w.s[k] ? w.s[k] : w.lam[k];
        apart = apart && big >= clear * small;
      }
    }
    theta = theta_new;
    nu = nu_new;
    if (apart || theta <= theta_stop) break;
  }
  // d = R^-1 e on the kept columns, in the data's columns.
  auto to_data = [&](const T* e, T* out) {
    for (int64_t j = 0; j < p; ++j) w.vec[j] = w.aliased[j] ? T(0) : e[j];
    for (int64_t i = p - 1; i >= 0; --i) {
      T acc = w.vec[i];
      for (int64_t k = i + 1; k < p; ++k) acc -= w.r_mat[i * p + k] * out[k];
      out[i] = acc / w.r_mat[i * p + i];
    }
    for (int64_t j = 0; j < p; ++j) out[j] /= scale[j];
  };
  to_data(w.d.data(), raw_out);
  // The partition, the direction projected onto the null space of the hyperplane's rows,
  // and the multipliers of its rows balanced (models/_separation.py: _project, _balance).
  bool pushed = false;
  std::vector<char> on_plane(2 * n);
  std::vector<T> weight(n, T(0));
  for (int64_t k = 0; k < 2 * n; ++k) {
    on_plane[k] = act[k] > 0 && w.lam[k] >= w.s[k];
    pushed = pushed || (act[k] > 0 && !on_plane[k]);
    if (on_plane[k]) weight[k % n] += act[k];
  }
  std::vector<bool> plane_aliased(p);
  for (int64_t j = 0; j < p; ++j)
    for (int64_t i = 0; i < n; ++i) w.m[j * n + i] = std::sqrt(weight[i]) * q[j * n + i];
  const T rank_rtol = std::sqrt(T(kRankRtol) * eps);
  gram_schmidt<T>(p, n, rank_rtol, w.m.data(), w.mb.data(), plane_aliased, w.t_mat.data(),
                  true);
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t i = 0; i < n; ++i) {
      T dot = 0;
      for (int64_t j = 0; j < p; ++j) dot += w.m[j * n + i] * w.d[j];
      w.work_n[i] = dot;
    }
    for (int64_t j = 0; j < p; ++j) {
      T sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += w.m[j * n + i] * w.work_n[i];
      w.rhs[j] = sum;
    }
    solve_upper_factor<T>(p, w.t_mat.data(), plane_aliased, w.rhs.data(), w.vec.data());
    for (int64_t j = 0; j < p; ++j) w.d[j] -= w.vec[j];
  }
  to_data(w.d.data(), d_out);
  for (int64_t j = 0; j < p; ++j) d_out[j] = pushed ? d_out[j] : T(0);
  for (int64_t k = 0; k < 2 * n; ++k) w.lam[k] = on_plane[k] ? w.lam[k] : T(0);
  const T tiny = std::numeric_limits<T>::min();
  for (int pass = 0; pass < 2; ++pass) {
    T total = 0;
    for (int64_t k = 0; k < 2 * n; ++k) total += w.lam[k];
    total = total > tiny ? total : tiny;
    for (int64_t k = 0; k < 2 * n; ++k) w.lam[k] /= total;
    for (int64_t j = 0; j < p; ++j)
      for (int64_t i = 0; i < n; ++i)
        w.m[j * n + i] = std::sqrt(w.lam[i] + w.lam[n + i]) * q[j * n + i];
    gram_schmidt<T>(p, n, rank_rtol, w.m.data(), w.mb.data(), plane_aliased, w.t_mat.data(),
                    true);
    transpose_apply(w.lam.data(), w.rhs.data());
    solve_upper_factor<T>(p, w.t_mat.data(), plane_aliased, w.rhs.data(), w.vec.data());
    apply(w.vec.data(), w.c.data());
    for (int64_t k = 0; k < 2 * n; ++k) w.lam[k] *= 1 - w.c[k];
  }
  T total = 0;
  for (int64_t k = 0; k < 2 * n; ++k) total += w.lam[k];
  total = total > tiny ? total : tiny;
  for (int64_t k = 0; k < 2 * n; ++k) {
    const int64_t i = k % n;
    const T safe = q_norm[i] > 0 ? q_norm[i] : T(1);
    lam_out[k] = act[k] > 0 ? w.lam[k] / total / (safe * row_norm[i]) : T(0);
  }
  return iter;
}

template <ffi::DataType D>
ffi::Error lp_candidates(ffi::Buffer<D> xt, ffi::Buffer<D> active, int32_t max_iter,
                         ffi::ResultBuffer<D> d, ffi::ResultBuffer<D> lam,
                         ffi::ResultBuffer<D> raw, ffi::ResultBuffer<ffi::S32> n_iter) {
  using T = ffi::NativeType<D>;
  const auto xd = xt.dimensions();
  if (xd.size() < 2) return ffi::Error::InvalidArgument("lp_candidates: xt [..., p, n]");
  const int64_t p = xd[xd.size() - 2], n = xd[xd.size() - 1];
  const int64_t lanes = static_cast<int64_t>(n_iter->element_count());
  if (p < 1 || static_cast<int64_t>(xt.element_count()) != lanes * p * n ||
      static_cast<int64_t>(active.element_count()) != lanes * 2 * n ||
      static_cast<int64_t>(d->element_count()) != lanes * p ||
      static_cast<int64_t>(raw->element_count()) != lanes * p ||
      static_cast<int64_t>(lam->element_count()) != lanes * 2 * n)
    return ffi::Error::InvalidArgument("lp_candidates: shapes differ");
  Work<T> work(p, n);
  for (int64_t b = 0; b < lanes; ++b)
    n_iter->typed_data()[b] =
        lane<T>(work, max_iter, xt.typed_data() + b * p * n, active.typed_data() + b * 2 * n,
                d->typed_data() + b * p, lam->typed_data() + b * 2 * n,
                raw->typed_data() + b * p);
  return ffi::Error::Success();
}

}  // namespace

#define GLMNN_LP(name, D)                                                   \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(name, lp_candidates<D>,                     \
                                ffi::Ffi::Bind()                            \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Arg<ffi::Buffer<D>>()                  \
                                    .Attr<int32_t>("max_iter")              \
                                    .Ret<ffi::Buffer<D>>()                  \
                                    .Ret<ffi::Buffer<D>>()                  \
                                    .Ret<ffi::Buffer<D>>()                  \
                                    .Ret<ffi::Buffer<ffi::S32>>());

GLMNN_LP(GlmnnLpCandidatesF64, ffi::F64)
GLMNN_LP(GlmnnLpCandidatesF32, ffi::F32)
