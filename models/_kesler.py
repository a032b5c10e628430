r"""Separation of K-class data: Kesler's construction turns it into the binary problem.

The multinomial logit model with reference class 0 has linear predictors
:math:`\eta_{ij} = x_i^\top b_j` (:math:`b_0 = 0`, ``B = [b_1 ... b_{K-1}]`` of shape
``[p, K-1]``). Its maximum likelihood estimate does not exist exactly when some ``B \ne 0``
has

.. math::

    x_i^\top (b_{k_i} - b_j) \ge 0 \quad \text{for every } i \text{ and every } j \ne k_i,

with ``>`` for some pair (Albert & Anderson 1984, §4): along such a direction every
observation's own class keeps the highest score, and the likelihood rises towards its
supremum without reaching it. Each pair ``(i, j)`` is one row

.. math::

    a_{ij} = x_i \otimes (e_{k_i} - e_j) \in \mathbb{R}^{p (K-1)}, \qquad e_0 = 0,

of Kesler's construction (Duda & Hart 1973, §5.12), and the condition is
:math:`a_{ij}^\top \theta \ge 0` for ``theta = vec(B)``: the *binary* separation problem on
``n (K-1)`` rows that all sit on one side. So the linear program, its certificates and
their tolerances are those of :mod:`models._separation` and :mod:`models._certificates`,
on these rows: **complete** separation (every margin positive: the scores classify every
observation strictly), **quasi-complete** separation, or **overlap**, where Stiemke's
multipliers :math:`\lambda_{ij} > 0` have :math:`\sum \lambda_{ij} a_{ij} = 0`.

At the MLE of overlapping data the fit gives that certificate itself:
:math:`\lambda_{ij} = w_i \pi_{ij}` (the fitted probability of a class the observation is
*not* in) sums to the score, :math:`\sum_i w_i (y_{ik} - \pi_{ik}) x_i` for block ``k``,
which vanishes there. As for the binary GLM, one Newton step, linearised, takes its
residual to rounding (:func:`fitted_certificates`).

``vec`` is class-major throughout: entry ``(k - 1) p + a`` of ``theta`` is ``B[a, k - 1]``.

References:
    Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood estimates
    in logistic regression models. Biometrika 71, 1-10.
    Duda, R. O. and Hart, P. E. (1973). Pattern Classification and Scene Analysis, §5.12.
    Kosmidis, I. and Schumacher, D. (2021). detectseparation (the same LP, binary).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

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
    judge,
    margin,
    pairwise_sum,
    tolerance,
    verdict_dtype,
    weighted_sums,
)
from ._lanes import all_finite, class_labels, when_few
from ._separation import LP_MAX_ITER, decide, result_of
from ._validate import check_design, check_n_classes, check_positive_int, float_dtype_of

__all__ = ["MultinomialSeparation", "separation", "kesler_sides", "kesler_tolerance",
           "reduce_pairs", "fitted_multipliers",
           "multinomial_verdict", "to_matrix"]


class MultinomialSeparation(NamedTuple):
    """What :func:`separation` returns for one K-class data set (a leading axis under vmap).

    Attributes:
        verdict: ``[]`` int32 :class:`~models._separation.Separation` code.
        separated: ``[]`` bool: a separating direction passed its check; no finite MLE.
        direction: ``[p, K-1]`` the separating ``B`` (``max |B| = 1``), 0 when not
            separated: ``x_i^T b_{k_i} >= x_i^T b_j`` for every ``j``, to the tolerance.
        infinite: ``[p, K-1]`` int32, ``+1``/``-1`` where the MLE's coefficient runs to
            ``+inf``/``-inf`` along ``direction`` (``|d| > sqrt(eps)``), else 0.
        multipliers: ``[n, K]`` ``lambda_ij >= 0`` (``0`` at ``j = k_i``), summing to 1,
            with ``sum_ij lambda_ij x_i (e_{k_i} - e_j) = 0`` to the tolerance: positive
            off the own class everywhere for overlap, on the tied pairs for quasi-separation.
        boundary: ``[n]`` bool, observations with a pair held on every separating direction.
        margin_min, margin_max: ``[]`` least and greatest scaled margin of ``direction``.
        residual: ``[]`` scaled norm of the multipliers' sum.
        weight_min: ``[]`` least multiplier over the pairs, as a share of their sum.
        n_iter: ``[]`` int32 interior-point steps.
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


def kesler_sides(X: jax.Array, labels: jax.Array, positive: jax.Array,
                 n_classes: int) -> Sides:
    """The rows ``a_ij = x_i ⊗ (e_{k_i} - e_j)``, ``j = (k_i + m) mod K``, ``m = 1 .. K-1``.

    Row ``(m - 1) n + i``; all rows on the "successes" side (``active[0]``), those of
    observations without positive weight inactive.
    """
    n, p = X.shape
    K = n_classes
    own = jax.nn.one_hot(labels - 1, K - 1, dtype=X.dtype)  # class 0 is all zeros
    blocks = []
    for m in range(1, K):
        other = jax.nn.one_hot((labels + m) % K - 1, K - 1, dtype=X.dtype)
        blocks.append(((own - other)[:, :, None] * X[:, None, :]).reshape(n, (K - 1) * p))
    rows = jnp.concatenate(blocks)
    on = jnp.tile(positive.astype(X.dtype), K - 1)
    return Sides(rows, jnp.stack([on, jnp.zeros_like(on)]), rows.T)


def to_matrix(theta: jax.Array, p: int) -> jax.Array:
    """``vec(B) [p (K-1)]`` (class-major) back to ``B [p, K-1]``."""
    return theta.reshape(-1, p).T


def _pair_multipliers(lam: jax.Array, labels: jax.Array, n_classes: int) -> jax.Array:
    """The rows' multipliers ``[(K-1) n]`` as ``[n, K]``: ``lambda_ij`` at ``j``, 0 at ``k_i``."""
    K = n_classes
    per = lam.reshape(K - 1, -1)
    out = jnp.zeros((per.shape[1], K), lam.dtype)
    for m in range(1, K):
        out = out + per[m - 1][:, None] * jax.nn.one_hot((labels + m) % K, K, dtype=lam.dtype)
    return out


def kesler_tolerance(n: int, p: int, n_classes: int, dtype) -> float:
    """``tau`` for Kesler's ``n (K-1)`` rows of ``p (K-1)`` columns, summed per observation.

    :func:`reduce_pairs` adds each observation's ``K - 1`` multipliers before the pairwise
    sum over observations: ``ceil(log2 n) + K - 1`` roundings deep, which the tolerance of
    ``n 2^(K-1)`` rows covers (and the linear program's pairwise sums over ``n (K-1)`` rows).
    """
    return tolerance(n << (n_classes - 1), (n_classes - 1) * p, dtype)


def reduce_pairs(columns, labels, positive, eta, lam, *, n_classes: int) -> jax.Array:
    """``[2P + 4]``: what :func:`~models._certificates.check` reduces Kesler's rows to.

    The rows are never formed (``n (K-1) x p (K-1)`` numbers, mostly copies of ``X``): the
    residual ``sum_ij lambda_ij a_ij`` is ``vec(X^T C)`` with ``C_ik = sum_j lambda_ij``
    where ``k = k_i`` and ``-lambda_ik`` elsewhere, summed pairwise over observations; the
    margin of pair ``(i, j)`` is ``eta_{i k_i} - eta_ij``; every column ``(k, a)`` holds
    ``+-x_ia`` of every observation, so its scale is that of column ``a`` of ``X``.

    Args:
        columns: ``[p, n]`` ``X^T``.
        labels: ``[n]`` int32 classes.
        positive: ``[n]`` bool, observations with positive weight.
        eta: ``[n, K]`` the direction's scores (class 0 first).
        lam: ``[n, K]`` the pairs' multipliers (read off the own class).
        n_classes: ``K`` (static).
    """
    mine = jax.nn.one_hot(labels, n_classes, dtype=bool)
    present = positive[:, None] & ~mine
    lam = jnp.where(present, lam, 0.0)
    per_obs = jnp.sum(lam, axis=1)
    C = jnp.where(mine, per_obs[:, None], -lam)
    blocks = [weighted_sums(columns, C[:, k], positive) for k in range(1, n_classes)]
    sums = jnp.concatenate([block[0] for block in blocks])
    own = jnp.sum(jnp.where(mine, eta, 0.0), axis=1, keepdims=True)
    margins = own - eta
    low = jnp.min(jnp.where(present, margins, jnp.inf))
    high = jnp.max(jnp.where(present, margins, -jnp.inf))
    lam_min = jnp.min(jnp.where(present, lam, jnp.inf))
    return jnp.concatenate([sums, jnp.stack([pairwise_sum(per_obs), low, high, lam_min]),
                            jnp.tile(blocks[0][1], n_classes - 1)])


def fitted_multipliers(X, prior, positive, probs, delta) -> jax.Array:
    r"""``[n, K]`` Stiemke's multipliers of the fit, moved by one Newton step, linearised.

    :math:`\lambda_{ij} = w_i \pi_{ij}` (``j != k_i``) sum to the score at the fit's
    coefficients; the Newton step ``delta = I^{-1} g`` (``[p, K-1]``) moves them by
    :math:`d\pi_{ij} = \pi_{ij} (\delta\eta_{ij} - \sum_l \pi_{il} \delta\eta_{il})`,
    after which they sum to ``g - I delta``: 0 to rounding.

    Args:
        X: ``[n, p]``.
        prior: ``[n]`` prior weights.
        positive: ``[n]`` bool, observations with positive weight.
        probs: ``[n, K]`` fitted probabilities.
        delta: ``[p, K-1]`` the Newton step.
    """
    n = X.shape[0]
    step = jnp.concatenate([jnp.zeros((n, 1), X.dtype), X @ delta], axis=1)
    moved = probs * (1 + step - jnp.sum(probs * step, axis=1, keepdims=True))
    return jnp.where(positive, prior, 0.0)[:, None] * moved


def multinomial_verdict(X, columns, labels, positive, theta, eta, lam, needed_if, *,
                        n_classes: int, dtype) -> Checks:
    """The checks of the fit's candidates: ``theta`` (scores ``eta``) and ``lam [n, K]``.

    ``X [n, p]`` and ``columns`` its transpose (the fit's, so none is formed here).

    Where neither proves a verdict (quasi-separation, a margin below the tolerance, a fit
    stopped early) and ``needed_if``, the linear program decides on Kesler's rows, through
    :func:`~models._lanes.when_few`: under ``vmap`` only the data sets that need it form
    the rows and pay for it.
    """
    eps = float(jnp.finfo(dtype).eps)
    n, p = X.shape
    tau = kesler_tolerance(n, p, n_classes, dtype)
    sigma = margin(dtype)
    out = reduce_pairs(columns, labels, positive, eta, lam, n_classes=n_classes)
    cheap = judge(out, theta, tau=tau, sigma=sigma)
    needed = needed_if & ~cheap.complete & ~cheap.overlap

    def linear_program(X, labels, positive):
        return decide(kesler_sides(X, labels, positive, n_classes), eps=eps, tau=tau,
                      sigma=sigma, max_iter=LP_MAX_ITER)[0]

    return when_few(needed, linear_program, (X, labels, positive), cheap)


def _separation_one(X, y, prior, *, n_classes: int, max_iter: int) -> MultinomialSeparation:
    dtype = verdict_dtype(X.dtype)
    X, prior = jnp.asarray(X, dtype), jnp.asarray(prior, dtype)
    eps = float(jnp.finfo(dtype).eps)
    n, p = X.shape
    K = n_classes
    labels, labels_ok = class_labels(y, K)
    invalid = ~(labels_ok & all_finite((X, prior)) & jnp.all(prior >= 0) & jnp.any(prior > 0))
    positive = (prior > 0) & ~invalid
    X = jnp.where(invalid, 0.0, X)
    sides = kesler_sides(X, labels, positive, K)
    checks, d, lam, n_iter = decide(sides, eps=eps, tau=kesler_tolerance(n, p, K, dtype),
                                    sigma=margin(dtype), max_iter=max_iter)
    # The binary result on Kesler's rows, its direction and multipliers reshaped to B's and
    # the pairs' shapes, and its rows' boundary flags gathered per observation.
    rows = result_of(checks, d, lam, n_iter, invalid, eps)
    return MultinomialSeparation(
        verdict=rows.verdict, separated=rows.separated,
        direction=to_matrix(rows.direction, p), infinite=to_matrix(rows.infinite, p),
        multipliers=_pair_multipliers(rows.multipliers[0], labels, K),
        boundary=jnp.any(rows.boundary.reshape(K - 1, n), axis=0),
        margin_min=rows.margin_min, margin_max=rows.margin_max, residual=rows.residual,
        weight_min=rows.weight_min, n_iter=rows.n_iter)


def _separation_core(X, y, weights, *, n_classes: int, max_iter: int, group_size):
    dtype = float_dtype_of(*[a for a in (X, weights) if a is not None])
    X = jnp.asarray(X, dtype)
    n, p = X.shape
    prior = jnp.ones((n,), dtype) if weights is None else jnp.asarray(weights, dtype)
    one = functools.partial(_separation_one, n_classes=n_classes, max_iter=max_iter)

    def run_batch(axis_size, in_batched, *args):
        batch_fn, batched = vmapped_lanes(one, in_batched, args)
        cost = lane_bytes("glm", (n_classes - 1) * n, (n_classes - 1) * p, X.dtype.itemsize)
        return run_in_groups(batch_fn, batched, lane_bytes=cost, group_size=group_size)

    return batched_rule(one, run_batch)(X, y, prior)


_separation_jit = jax.jit(_separation_core,
                          static_argnames=("n_classes", "max_iter", "group_size"))


def separation(X: ArrayLike, y: ArrayLike, n_classes: int, *,
               weights: ArrayLike | None = None, max_iter: int = LP_MAX_ITER,
               group_size: int | None = None) -> MultinomialSeparation:
    """Decide whether K-class data are completely, quasi-completely or not separated.

    One data set per call, unchanged under ``jax.vmap`` and ``jax.jit``. The rows, the
    linear program and its certificates are in the module docstring; the tolerances are
    those of :mod:`models._certificates` for ``n (K-1)`` rows of ``p (K-1)`` columns.

    Args:
        X: ``[n, p]`` design matrix (the intercept, if any, is a column of it).
        y: ``[n]`` class labels ``0 .. n_classes - 1`` (integers, or floats that are).
        n_classes: ``K >= 2`` (static).
        weights: optional ``[n]`` prior weights; observations with weight 0 are left out.
        max_iter: most interior-point steps (static).
        group_size: under ``jax.vmap``, data sets per group (static).

    Returns:
        A :class:`MultinomialSeparation`; ``verdict`` is ``INVALID_INPUT`` for NaN or inf
        in ``X`` or ``weights``, a label that is not a class, a negative weight or no
        positive weight.

    Raises:
        ValueError: for wrong ranks or shapes, ``n_classes < 2`` or ``max_iter < 1``.

    Example:
        >>> res = separation(X, y, 3)
        >>> Separation(int(res.verdict)).name           # 'QUASI' on iris
    """
    check_design(X, y, name="multinomial.separation", weights=weights)
    n_classes = check_n_classes(n_classes, name="multinomial.separation")
    return _separation_jit(X, y, weights, n_classes=n_classes,
                           max_iter=check_positive_int("max_iter", max_iter),
                           group_size=check_group_size(group_size))
