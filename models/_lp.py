r"""The separation linear program, solved by a homogeneous self-dual interior-point method.

Separation asks for the *Goldman-Tucker partition* of a cone. Give each observation with
successes a row :math:`a = x` and each with failures a row :math:`a = -x` (a proportion
gives both), and stack them into :math:`A`. Exactly one of these holds for every row
:math:`k` (Goldman & Tucker 1956):

* some direction :math:`d` has :math:`A d \ge 0` and :math:`a_k^\top d > 0` (row ``k`` can
  be pushed out: the set :math:`I_+`), or
* some :math:`\lambda \ge 0` with :math:`A^\top \lambda = 0` has :math:`\lambda_k > 0`
  (row ``k`` is held on every separating hyperplane: :math:`I_0`).

A pair :math:`(d, \lambda)` with :math:`A d + \lambda > 0` shows both at once. It is a
strictly complementary solution of the homogeneous system :math:`s = A d \ge 0`,
:math:`A^\top \lambda = 0`, :math:`\lambda \ge 0`, which we find as the limit of the central
path of its self-dual embedding (Ye, Todd & Mizuno 1994), started at
:math:`d = 0, \lambda = s = 1, \theta = \nu = 1` (exactly centred):

.. math::

    \min\ (m + 1)\theta \quad\text{s.t.}\quad
    -A^\top\lambda + \theta b_d = 0,\quad
    A d + \theta \mathbf{1} = s,\quad
    -b_d^\top d - \mathbf{1}^\top\lambda + m + 1 = \nu,

with :math:`b_d = A^\top \mathbf{1}`, :math:`(\lambda, s, \theta, \nu) \ge 0`. The
embedding always has an interior point and a bounded solution set, so unlike Konis's LP
with a free ``d`` its central path exists for every data set, and it converges to
:math:`\theta = 0` with :math:`\lambda + s > 0`. Each Mehrotra predictor-corrector step
solves one ``p x p`` system :math:`A^\top D A` (:math:`D = \lambda / s`), a weighted Gram
matrix of ``X``, so the GLM's Gram kernels and Cholesky apply; its rank-one part (the
:math:`\theta` column) costs a second solve with the same factor.

The iteration stops once every row's pair :math:`(\lambda_k, s_k)` is apart by a factor
``eps**-CLEAR_RATIO_POWER`` or more (the partition can be read off), once :math:`\theta`
is down to ``eps**THETA_STOP_POWER``, or after ``max_iter`` steps.
:mod:`models._separation` then polishes and checks both certificates.

References:
    Goldman, A. J. and Tucker, A. W. (1956). Theory of linear programming. In Linear
    Inequalities and Related Systems, Annals of Mathematics Studies 38, 53-97.
    Ye, Y., Todd, M. J. and Mizuno, S. (1994). An O(sqrt(n) L)-iteration homogeneous and
    self-dual linear programming algorithm. Mathematics of Operations Research 19, 53-67.
    Mehrotra, S. (1992). On the implementation of a primal-dual interior point method.
    SIAM Journal on Optimization 2, 575-601.
    Konis, K. (2007). Linear programming algorithms for detecting separated data in binary
    logistic regression models. DPhil thesis, University of Oxford.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._lanes import tree_where
from ._linalg import Design, cho_solve, cholesky_skip_fast

__all__ = ["UnitRows", "LPSolution", "solve", "CLEAR_RATIO_POWER", "THETA_STOP_POWER",
           "STEP_FRACTION", "PIVOT_RTOL"]

CLEAR_RATIO_POWER = 1 / 3
"""The partition is read off once ``max(lambda_k, s_k) >= eps**-CLEAR_RATIO_POWER *
min(lambda_k, s_k)`` for every row: ``1.7e5`` in float64, ``2e2`` in float32. Further on,
the systems' conditioning (``D`` spans ``1 / mu^2``) costs more accuracy than the
iterations gain; the polish and the checks take the rest to rounding."""

THETA_STOP_POWER = 0.5
"""The iteration also stops once ``theta <= eps**THETA_STOP_POWER`` (``1.5e-8`` in float64):
where a pair stays unresolved (a degenerate row) the systems' conditioning would only
cost accuracy from there on, and the partition is read as it stands."""

STEP_FRACTION = 0.99
"""Each step goes this share of the way to the boundary of the positive orthant."""

PIVOT_RTOL = 10.0
"""``x eps x G[j, j]``: a pivot of ``A^T D A`` lost to rounding drops its column from the step."""


class UnitRows(NamedTuple):
    """The rows ``a_k`` of one data set: two sides per observation, as masks over ``X``.

    Side 0 of observation ``i`` is ``+x_i`` (it has successes), side 1 is ``-x_i`` (it has
    failures). ``rows`` are the observations scaled to unit length (columns first scaled
    by :func:`models._separation` for conditioning); ``active`` says which sides exist.
    """

    rows: jax.Array  # [n, p] unit rows
    design: Design  # rows, in the Gram products' layouts
    active: jax.Array  # [2, n] float, 1 where the side exists

    def apply(self, d: jax.Array) -> jax.Array:
        """``A d`` as ``[2, n]`` (inactive sides 0)."""
        xd = self.rows @ d
        return self.active * jnp.stack([xd, -xd])

    def transpose_apply(self, v: jax.Array) -> jax.Array:
        """``A^T v`` for ``v [2, n]`` (inactive sides ignored)."""
        v = self.active * v
        return self.rows.T @ (v[0] - v[1])


class LPSolution(NamedTuple):
    """Where the interior-point method stopped.

    Attributes:
        d: ``[p]`` the direction (in the scaled columns).
        lam: ``[2, n]`` the multipliers (1 on inactive sides).
        s: ``[2, n]`` the slacks ``A d`` (1 on inactive sides).
        n_iter: ``[]`` int32 steps taken.
    """

    d: jax.Array
    lam: jax.Array
    s: jax.Array
    n_iter: jax.Array


class _State(NamedTuple):
    """The iterate: ``x = (lambda, theta)`` and ``z = (s, nu)`` pair up element by element."""

    d: jax.Array  # [p]
    x: jax.Array  # [2n + 1]
    z: jax.Array  # [2n + 1]
    k: jax.Array
    done: jax.Array


def _max_step(x: jax.Array, dx: jax.Array, mask: jax.Array) -> jax.Array:
    """Largest ``a <= 1`` with ``x + a dx >= 0`` where ``mask``."""
    ratio = jnp.where(mask & (dx < 0), -x / jnp.where(dx < 0, dx, -1.0), jnp.inf)
    return jnp.minimum(1.0, jnp.min(ratio))


def solve(sides: UnitRows, *, max_iter: int, eps: float) -> LPSolution:
    """Run the self-dual interior-point method on one data set's sides.

    Args:
        sides: the rows (:class:`UnitRows`).
        max_iter: most predictor-corrector steps (static).
        eps: machine epsilon of the dtype.

    Returns:
        An :class:`LPSolution`.
    """
    rows, act = sides.rows, sides.active
    dtype = rows.dtype
    n, p = rows.shape
    # The pairs (lambda_k, s_k) of the rows and (theta, nu) of the embedding, as two flat
    # vectors with one mask: the step length, the centring and the stop read them at once.
    mask = jnp.concatenate([act.ravel(), jnp.ones((1,), dtype)])
    both = jnp.concatenate([mask, mask]) > 0
    const = jnp.sum(mask)  # m + 1
    b_d = sides.transpose_apply(jnp.ones_like(act))
    clear = eps ** -CLEAR_RATIO_POWER
    theta_stop = eps ** THETA_STOP_POWER

    def split(v):  # [2n + 1] -> ([2, n], [])
        return v[:-1].reshape(2, n), v[-1]

    def step_length(st: _State, dx, dz):
        return _max_step(jnp.concatenate([st.x, st.z]), jnp.concatenate([dx, dz]), both)

    def body(st: _State) -> _State:
        lam, theta = split(st.x)
        s, nu = split(st.z)
        # Rounding moves the iterates off the embedding's (linear) constraints; the
        # residuals feed back into each step so that they do not build up.
        r1 = -sides.transpose_apply(lam) + theta * b_d
        r2 = act * (sides.apply(st.d) + theta - s)
        r3 = -b_d @ st.d - jnp.sum(act * lam) + const - nu
        mu = jnp.sum(mask * st.x * st.z) / const
        D = act * lam / s
        gram = sides.design.gram(D[0] + D[1])
        factor, aliased = cholesky_skip_fast(gram, PIVOT_RTOL * eps)

        def solve_p(v):
            return cho_solve(factor, jnp.where(aliased, 0.0, v), unrolled=False)

        # The parts of the Newton system that do not depend on the centring term.
        adb = sides.transpose_apply(D)
        h = adb - b_d
        gg = solve_p(adb + b_d)
        f0 = -r1 - sides.transpose_apply(D * r2)
        den = jnp.sum(D) + nu / theta - h @ gg
        rhs0 = -r3 - jnp.sum(D * r2)

        def newton(trip, direction):
            # Trip 0 is the predictor (affine scaling: no centring, no second-order
            # term, as the direction it starts from is 0); trip 1 is Mehrotra's corrector,
            # centred by sigma = (mu_aff / mu)^3 with the predictor's second-order term.
            _, dx, dz = direction
            a = step_length(st, dx, dz)
            mu_aff = jnp.sum(mask * (st.x + a * dx) * (st.z + a * dz)) / const
            sigma = jnp.where(trip == 0, 0.0, (mu_aff / mu) ** 3)
            c, c_th = split(mask * (sigma * mu - st.x * st.z - dx * dz))
            cs = act * c / s
            gf = solve_p(f0 + sides.transpose_apply(cs))
            dth = (rhs0 + jnp.sum(cs) + c_th / theta - h @ gf) / den
            dd = gf - gg * dth
            dlam = act * (D * (-r2 - sides.apply(dd) - act * dth) + cs)
            ds = act * (c - s * dlam) / lam
            dnu = (c_th - nu * dth) / theta
            return (dd, jnp.concatenate([dlam.ravel(), dth[None]]),
                    jnp.concatenate([ds.ravel(), dnu[None]]))

        start = (jnp.zeros_like(st.d), jnp.zeros_like(st.x), jnp.zeros_like(st.z))
        dd, dx, dz = lax.fori_loop(0, 2, newton, start)
        a = STEP_FRACTION * step_length(st, dx, dz)
        new = _State(st.d + a * dd, st.x + a * dx, st.z + a * dz, st.k + 1, st.done)
        finite = (jnp.all(jnp.isfinite(jnp.concatenate([new.d, new.x, new.z])))
                  & (new.x[-1] > 0) & (new.z[-1] > 0))
        apart = jnp.maximum(new.x, new.z) >= clear * jnp.minimum(new.x, new.z)
        separated_pairs = jnp.all(jnp.where(mask[:-1] > 0, apart[:-1], True))
        # A step that leaves the finite numbers keeps the last iterate, and stops.
        kept = tree_where(finite, new, st._replace(k=st.k + 1))
        return kept._replace(done=~finite | separated_pairs | (new.x[-1] <= theta_stop))

    ones = jnp.ones((2 * n + 1,), dtype)
    init = _State(jnp.zeros((p,), dtype), ones, ones, jnp.int32(0), jnp.zeros((), bool))
    final = lax.while_loop(lambda st: ~st.done & (st.k < max_iter), body, init)
    lam, _ = split(final.x)
    s, _ = split(final.z)
    return LPSolution(final.d, lam, s, final.k)
