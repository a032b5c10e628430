r"""Separation of binomial data, decided by linear programming, with a certificate both ways.

The maximum likelihood estimate of a binomial GLM does not exist when a linear predictor
separates the successes from the failures (Albert & Anderson 1984). Give each observation
with successes the row :math:`a = x` and each with failures :math:`a = -x` (a proportion
gives both). The data are

* **completely separated** when some :math:`d` has :math:`a_k^\top d > 0` for every row;
* **quasi-completely separated** when some :math:`d` has :math:`a_k^\top d \ge 0` for
  every row and :math:`> 0` for some, but no :math:`d` is strict everywhere;
* **overlapping** otherwise, which by Stiemke's alternative is when strictly positive
  weights :math:`\lambda_k > 0` have :math:`\sum_k \lambda_k a_k = 0`; then the MLE exists.

:func:`separation` finds the partition of the rows into those some direction pushes out
and those every separating direction keeps on its hyperplane, by the self-dual
interior-point method of :mod:`models._lp`, run in an orthonormal basis of the columns.
It then polishes two certificates and checks them with the stated tolerances of
:mod:`models._certificates`:

* a **direction** ``d``: projected onto the null space of the hyperplane's rows;
* **multipliers** ``lambda >= 0`` on the hyperplane's rows: corrected so that
  :math:`\sum \lambda_k a_k` vanishes to rounding.

The verdicts exclude each other; data that pass no check (a margin between the rounding
tolerance and the least resolved margin, multipliers too uneven) are ``UNDECIDED``, never
guessed.

References:
    Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood estimates
    in logistic regression models. Biometrika 71, 1-10.
    Konis, K. (2007). Linear programming algorithms for detecting separated data in binary
    logistic regression models. DPhil thesis, University of Oxford.
    Kosmidis, I. and Schumacher, D. (2021). detectseparation: Detect and check for
    separation and infinite maximum likelihood estimates. R package.
"""

from __future__ import annotations

import enum
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.linalg import solve_triangular
from jax.typing import ArrayLike

from . import _lp, _native
from ._batching import (
    batched_rule,
    check_group_size,
    lane_bytes,
    run_in_groups,
    vmapped_lanes,
)
from ._certificates import (
    Checks,
    Sides,
    check,
    column_scale,
    margin,
    sides_of,
    tolerance,
    verdict_dtype,
)
from ._families import binomial
from ._lanes import all_finite, tree_where
from ._linalg import (
    RANK_RTOL,
    Design,
    cho_solve,
    gram_schmidt,
    gram_schmidt_factor,
    native_or_library,
)
from ._validate import check_design, check_positive_int, float_dtype_of

__all__ = ["Separation", "SEPARATION_NAMES", "SeparationResult", "separation", "decide",
           "verdict_of", "result_of", "splits_classes", "fitted_extremes", "LP_MAX_ITER",
           "ORTHONORMAL_RTOL", "SEPARATION_EPS"]

ORTHONORMAL_RTOL = 1000.0
"""A column whose residual after the earlier ones is at most ``ORTHONORMAL_RTOL x eps`` of its
norm is taken as exactly dependent (2.2e-13 in float64): far below any real difference."""

LP_MAX_ITER = 60
"""Most interior-point steps. Every test set took at most 25 in float64."""

SEPARATION_EPS = 10.0
"""R's ``glm.fit`` warns "fitted probabilities numerically 0 or 1" below ``10 eps`` of 0 or 1."""


class Separation(enum.IntEnum):
    """The verdict on a binomial data set (or why there is none)."""

    OVERLAP = 0
    QUASI = 1
    COMPLETE = 2
    UNDECIDED = 3
    INVALID_INPUT = 4
    NOT_CHECKED = 5


SEPARATION_NAMES: dict[int, str] = {int(s): s.name.lower() for s in Separation}


class SeparationResult(NamedTuple):
    """What :func:`separation` returns for one data set (a leading axis under ``vmap``).

    Attributes:
        verdict: ``[]`` int32, a :class:`Separation` code.
        separated: ``[]`` bool, a separating direction passed its check (complete or quasi):
            no finite MLE exists.
        direction: ``[p]`` the separating direction ``d`` (scaled to ``max |d_j| = 1``),
            0 when not separated: ``x_i^T d >= 0`` at every observation with successes,
            ``<= 0`` at every one with failures, to the tolerance.
        infinite: ``[p]`` int32, ``+1``/``-1`` where the MLE's coefficient runs to
            ``+inf``/``-inf`` along ``direction`` (``|d_j| > sqrt(eps)``), else 0: the
            form of R's ``detectseparation``.
        multipliers: ``[2, n]`` ``lambda >= 0`` on the successes' rows (``[0]``) and the
            failures' rows (``[1]``), summing to 1: ``sum_i (lambda[0, i] - lambda[1, i])
            x_i = 0`` to the tolerance. Positive everywhere for overlap; on the rows of
            the hyperplane for quasi-separation; 0 for complete separation.
        boundary: ``[n]`` bool, observations held on every separating hyperplane.
        margin_min: ``[]`` least margin ``a_k^T d / (|a_k| |d|)`` over the rows (scaled
            columns); 0 when there is no direction.
        margin_max: ``[]`` greatest margin.
        residual: ``[]`` ``|sum_k lambda_k a_k| / sum_k lambda_k`` over unit rows.
        weight_min: ``[]`` least ``lambda_k / sum lambda`` over the rows.
        n_iter: ``[]`` int32 interior-point steps (0 where a fit's own certificate decided).
    """

    verdict: jax.Array
    separated: jax.Array
    direction: jax.Array
    infinite: jax.Array
    multipliers: jax.Array
    boundary: jax.Array
    margin_min: jax.Array
    margin_max: jax.Array
    residual: jax.Array
    weight_min: jax.Array
    n_iter: jax.Array


def verdict_of(c: Checks) -> jax.Array:
    """``[]`` int32: the :class:`Separation` code that the checks ``c`` prove."""
    return jnp.select([c.complete, c.separated & c.not_complete, c.overlap],
                      [Separation.COMPLETE, Separation.QUASI, Separation.OVERLAP],
                      Separation.UNDECIDED).astype(jnp.int32)


def _largest_column(rows: jax.Array) -> jax.Array:
    """The largest column norm of ``rows``.

    A column of the hyperplane's rows that is 0 but for rounding is judged against it, not
    against its own (rounding-sized) norm.
    """
    return jnp.sqrt(jnp.max(jnp.sum(rows * rows, axis=0)))


def _project(lp: _lp.UnitRows, d: jax.Array, on_plane: jax.Array, eps: float) -> jax.Array:
    """``d`` minus a solution ``x`` of ``A_0 x = A_0 d`` (``A_0``: the rows ``on_plane``).

    The result has ``A_0 d = 0`` to rounding. The rank of ``A_0`` is decided on its rows
    (:func:`~models._linalg.gram_schmidt_factor`), not on their Gram matrix, so that it
    does not hang on how the Gram matrix's sums were rounded, and by the GLM's own rule
    (``sqrt(RANK_RTOL eps)``): the hyperplane's rows are dependent only to the rounding of
    the basis they are written in, and a column kept on a smaller residual than that makes
    the solve ill-conditioned. Twice: the second pass removes what the first left.
    """
    weight = jnp.sum(jnp.where(on_plane, lp.active, 0.0), axis=0)
    rows = jnp.sqrt(weight)[:, None] * lp.rows
    factor, aliased = gram_schmidt_factor(rows, math.sqrt(RANK_RTOL * eps),
                                          floor=_largest_column(rows))

    def refine(_, d):
        return d - cho_solve(factor, jnp.where(aliased, 0.0, rows.T @ (rows @ d)),
                           unrolled=False)

    return lax.fori_loop(0, 2, refine, d)


def _balance(lp: _lp.UnitRows, lam: jax.Array, eps: float) -> jax.Array:
    """Multipliers ``lam [2, n]`` scaled by ``1 - a_k^T delta`` so that ``A^T lam`` vanishes.

    ``delta`` solves ``(sum_k lam_k a_k a_k^T) delta = A^T lam``; the new residual is then
    0 up to rounding, and each multiplier moves by a share ``|a_k^T delta|`` of itself, so
    a small residual keeps them positive. Twice, as :func:`_project`, with the rank decided
    the same way.
    """

    def correct(_, lam):
        lam = lam / jnp.maximum(jnp.sum(lam), jnp.finfo(lam.dtype).tiny)
        rows = jnp.sqrt(lam[0] + lam[1])[:, None] * lp.rows
        factor, aliased = gram_schmidt_factor(rows, math.sqrt(RANK_RTOL * eps),
                                              floor=_largest_column(rows))
        delta = cho_solve(factor, jnp.where(aliased, 0.0, lp.transpose_apply(lam)),
                         unrolled=False)
        return lam * (1 - lp.apply(delta))

    lam = lax.fori_loop(0, 2, correct, lam)
    return lam / jnp.maximum(jnp.sum(lam), jnp.finfo(lam.dtype).tiny)


def _orthonormal(sides: Sides, eps: float):
    """The sides in an orthonormal basis: ``(lp_sides, R, aliased, q_norm, row_norm, scale)``.

    Separation does not change under an invertible map of the columns (``d -> R d``), and
    in an orthonormal basis the interior-point method's systems are as well conditioned
    in the columns as they can be: a column that differs from another by ``1e-10`` is a
    direction of its own there, where ``X^T D X`` would lose it to rounding. Rows are
    scaled to unit length before (``row_norm``, with the columns scaled) and after
    (``q_norm``). ``rows = Q R`` with ``R = Q^T rows``; exactly dependent columns
    (residual at most :data:`ORTHONORMAL_RTOL` ``eps`` of their norm) are left out
    (``aliased``, their ``Q`` column 0).
    """
    used = jnp.any(sides.active > 0, axis=0)
    scale = column_scale(sides.X, used)
    scaled = sides.X / scale[None, :]
    row_norm = jnp.sqrt(jnp.sum(scaled * scaled, axis=1))
    row_norm = jnp.where(row_norm > 0, row_norm, 1.0)
    rows = jnp.where(used[:, None], scaled / row_norm[:, None], 0.0)
    basis, aliased = gram_schmidt(rows, ORTHONORMAL_RTOL * eps)
    norm = jnp.sqrt(jnp.sum(basis * basis, axis=1))
    unit = basis / jnp.where(norm > 0, norm, 1.0)[:, None]
    lp_sides = _lp.UnitRows(unit, Design.of(unit), sides.active)
    return lp_sides, basis.T @ rows, aliased, norm, row_norm, scale


def _candidates(X, active, *, eps: float, max_iter: int):
    """``(d, lam, raw, n_iter)``: the linear program's candidates, in data units.

    The program runs in an orthonormal basis of the columns (:func:`_orthonormal`); its
    candidates are polished there (:func:`_project`, :func:`_balance`), then moved back to
    the data's columns and rows. ``raw`` is the last iterate's direction, unprojected.
    ``native/separation.cc`` does the same on CPU.
    """
    sides = Sides(X, active, X.T)
    q_sides, R, aliased, q_norm, row_norm, scale = _orthonormal(sides, eps)
    present = q_sides.active > 0
    sol = _lp.solve(q_sides, max_iter=max_iter, eps=eps)
    on_plane = present & (sol.lam >= sol.s)
    pushed = present & ~on_plane
    e = _project(q_sides, sol.d, on_plane, eps)
    # x_k^T d = q_k^T e with d = R^{-1} e on the kept columns (aliased ones: 0).
    keep = ~aliased
    upper = jnp.where(keep[:, None] & keep[None, :], R, jnp.diag(aliased.astype(R.dtype)))

    def to_data(e):
        return solve_triangular(upper, jnp.where(aliased, 0.0, e), lower=False) / scale

    d = jnp.where(jnp.any(pushed), to_data(e), 0.0)
    raw = to_data(sol.d)
    lam = _balance(q_sides, jnp.where(on_plane, sol.lam, 0.0), eps)
    # The unit rows u_k = R^T q_k are the data's rows x_k scaled by 1 / (c |x~_k|):
    # sum_k lam_k q_k / |q_k| = 0 is sum_k lam_k / (|q_k| |x~_k|) x~_k = 0.
    scale = jnp.where(q_norm > 0, q_norm, 1.0) * row_norm
    lam = jnp.where(present, lam / scale[None, :], 0.0)
    return d, lam, raw, sol.n_iter


def decide(sides: Sides, *, eps: float, tau: float, sigma: float,
           max_iter: int = LP_MAX_ITER):
    """The linear program's verdict: ``(checks, direction, multipliers, n_iter)``.

    Its candidates (:func:`_candidates`; on CPU the native kernel) are checked as any
    other candidate (:func:`~models._certificates.check`): the kernel only proposes. The
    partition read off the last iterate can be wrong where the iteration stopped on a
    vanishing ``theta`` with a pair unresolved (a row with a tiny but positive margin,
    held on the hyperplane by the projection); the unprojected direction is then checked
    too, and where it proves complete separation it is the answer. Complete separation
    excludes both other certificates, so the two checks never conflict.
    """
    def library(columns, active):
        return _candidates(columns.T, active, eps=eps, max_iter=max_iter)

    def native(columns, active):
        return _native.lp_candidates(columns, active, max_iter=max_iter)

    d, lam, raw, n_iter = native_or_library(sides.columns, (sides.columns, sides.active),
                                            native=native, library=library)
    checks = check(sides, d, lam, tau=tau, sigma=sigma)
    unprojected = check(sides, raw, jnp.zeros_like(lam), tau=tau, sigma=sigma)
    use_raw = unprojected.complete & ~checks.complete
    checks = tree_where(use_raw, unprojected, checks)
    return (checks, jnp.where(use_raw, raw, d), jnp.where(use_raw, 0.0, lam), n_iter)


def result_of(checks: Checks, d, lam, n_iter, invalid, eps) -> SeparationResult:
    """The public result (``d`` and ``lam`` in the data's own columns and rows).

    ``d`` is scaled to ``max |d_j| = 1`` and ``lam`` to sum 1; a data set that is
    ``invalid`` has zeros (the K-class result, :mod:`models._kesler`, is this one reshaped).
    """
    verdict = jnp.where(invalid, Separation.INVALID_INPUT, verdict_of(checks)).astype(jnp.int32)
    separated = ~invalid & (checks.separated | checks.complete)
    direction = jnp.where(separated, d, 0.0)
    top = jnp.max(jnp.abs(direction))
    direction = direction / jnp.where(top > 0, top, 1.0)
    infinite = jnp.where(jnp.abs(direction) > math.sqrt(eps), jnp.sign(direction), 0)
    lam = lam / jnp.where(jnp.sum(lam) > 0, jnp.sum(lam), 1.0)
    boundary = jnp.any(lam > 0, axis=0) & (verdict == Separation.QUASI)
    zero = jnp.zeros((), lam.dtype)
    return SeparationResult(
        verdict=verdict, separated=separated, direction=direction,
        infinite=infinite.astype(jnp.int32), multipliers=jnp.where(invalid, 0.0, lam),
        boundary=boundary & ~invalid,
        margin_min=jnp.where(invalid, zero, checks.margin_min),
        margin_max=jnp.where(invalid, zero, checks.margin_max),
        residual=checks.residual, weight_min=checks.weight_min,
        n_iter=jnp.where(invalid, 0, n_iter).astype(jnp.int32))


def _separation_one(X, y, prior, *, max_iter: int) -> SeparationResult:
    dtype = verdict_dtype(X.dtype)
    X, y, prior = (jnp.asarray(a, dtype) for a in (X, y, prior))
    eps = float(jnp.finfo(dtype).eps)
    n, p = X.shape
    invalid = ~(all_finite((X, y, prior)) & jnp.all(binomial.valid_y(y)) & jnp.all(prior >= 0)
                & jnp.any(prior > 0))
    positive = (prior > 0) & ~invalid
    X = jnp.where(invalid, 0.0, X)
    y = jnp.where(invalid, 0.5, y)
    sides = sides_of(X, y, positive)
    checks, d, lam, n_iter = decide(sides, eps=eps, tau=tolerance(n, p, dtype),
                                    sigma=margin(dtype), max_iter=max_iter)
    return result_of(checks, d, lam, n_iter, invalid, eps)


def _separation_core(X, y, weights, *, max_iter: int, group_size: int | None):
    dtype = float_dtype_of(*[a for a in (X, y, weights) if a is not None])
    X = jnp.asarray(X, dtype)
    y = jnp.asarray(y, dtype)
    n, p = X.shape
    prior = jnp.ones((n,), dtype) if weights is None else jnp.asarray(weights, dtype)
    one = functools.partial(_separation_one, max_iter=max_iter)

    def run_batch(axis_size, in_batched, *args):
        batch_fn, batched = vmapped_lanes(one, in_batched, args)
        cost = lane_bytes("glm", n, p, X.dtype.itemsize)
        return run_in_groups(batch_fn, batched, lane_bytes=cost, group_size=group_size)

    return batched_rule(one, run_batch)(X, y, prior)


_separation_jit = jax.jit(_separation_core, static_argnames=("max_iter", "group_size"))


def separation(X: ArrayLike, y: ArrayLike, *, weights: ArrayLike | None = None,
               max_iter: int = LP_MAX_ITER,
               group_size: int | None = None) -> SeparationResult:
    r"""Decide whether binomial data are completely, quasi-completely or not separated.

    One data set per call, pure JAX: unchanged under ``jax.vmap`` and ``jax.jit`` (a batch
    is ``jax.vmap(separation)``; every lane runs its own interior-point iterations, in
    cache-sized groups on CPU as the fits do). The method, its certificates and their
    tolerances are in the module docstring of :mod:`models._separation`.

    Args:
        X: ``[n, p]`` design matrix (the intercept, if any, is a column of it).
        y: ``[n]`` proportions in ``[0, 1]``: 0/1 labels, or successes / trials (a
            proportion strictly between 0 and 1 has both outcomes).
        weights: optional ``[n]`` prior weights; observations with weight 0 are left out.
        max_iter: most interior-point steps (static).
        group_size: under ``jax.vmap``, data sets per group (static), as for
            :func:`models.glm.fit`.

    Returns:
        A :class:`SeparationResult`. ``verdict`` is ``INVALID_INPUT`` for NaN or inf in
        ``X``, ``y`` or ``weights``, ``y`` outside ``[0, 1]``, a negative weight or no
        positive weight.

    Raises:
        ValueError: for wrong ranks or mismatched shapes, or ``max_iter < 1``.

    Example:
        >>> res = separation(X, y)
        >>> Separation(int(res.verdict)).name        # 'QUASI'
        >>> res.infinite                             # [0, 0, 1]: coef[2] -> +inf
        >>> batch = jax.jit(jax.vmap(separation))(X_batch, y_batch)
    """
    check_design(X, y, name="glm.separation", weights=weights)
    max_iter = check_positive_int("max_iter", max_iter)
    return _separation_jit(X, y, weights, max_iter=max_iter,
                           group_size=check_group_size(group_size))


def splits_classes(y, positive, linear) -> jax.Array:
    """``[]`` bool: ``linear = X beta`` is ``> 0`` at every success and ``< 0`` at every failure.

    The fit's cheap sign of complete separation, on which IRLS stops early (the verdict
    itself comes from :func:`check`).

    Args:
        y: ``[n]`` proportions; observations with ``0 < y < 1`` have both.
        positive: ``[n]`` bool, observations with positive prior weight.
        linear: ``[n]`` the linear predictor without the offset.
    """
    ok_success = jnp.where(positive & (y > 0), linear > 0, True)
    ok_failure = jnp.where(positive & (y < 1), linear < 0, True)
    return jnp.all(ok_success) & jnp.all(ok_failure)


def fitted_extremes(mu, positive, eps: float) -> jax.Array:
    """``[]`` bool: some fitted probability is numerically 0 or 1 (R's warning, ``10 eps``)."""
    extreme = (mu < SEPARATION_EPS * eps) | (mu > 1 - SEPARATION_EPS * eps)
    return jnp.any(positive & extreme)
