r"""Certificates that a binomial GLM has no finite maximum likelihood estimate.

The MLE of a binomial GLM does not exist when a linear predictor separates the successes
from the failures (Albert & Anderson 1984): IRLS then drives the deviance to 0 (complete
separation) or to the deviance of the points on the separating hyperplane (quasi-complete)
and :math:`\|\beta\|` to infinity, and R's relative criterion is often met on the way. A
fit is reported as separated when its final iterate carries a *certificate*: a direction
``d`` with ``X d >= 0`` at every observation with successes, ``<= 0`` at every observation
with failures and ``!= 0`` somewhere. Moving along ``d`` never lowers the likelihood and
raises it without bound, so a certificate proves that no finite MLE exists.

* complete separation (:func:`splits_classes`): ``d = beta`` itself, with ``X beta > 0`` /
  ``< 0`` strictly;
* quasi-complete separation (:func:`quasi_separated`): ``d = beta`` minus its least-squares
  projection on the rows not fitted at ``|eta| > -log(sqrt(eps))`` on their own side
  (:func:`extreme_points`), so that ``X d`` is 0 on the hyperplane rows (zero judged to
  ``QUASI_BAND sqrt(eps) max|X beta|``).

References:
    Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood estimates
    in logistic regression models. Biometrika 71, 1-10.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ._linalg import Design, cho_solve, cholesky_skip

__all__ = ["SEPARATION_EPS", "QUASI_BAND", "splits_classes", "fitted_extremes",
           "extreme_points", "quasi_separated"]

SEPARATION_EPS = 10.0
"""R's ``glm.fit`` warns "fitted probabilities numerically 0 or 1" below ``10 eps`` of 0 or 1."""

QUASI_BAND = 10.0
"""``x sqrt(eps) x max|X beta|``: the rounding band within which ``X d`` counts as 0."""


def splits_classes(y, positive, linear) -> jax.Array:
    """``[]`` bool: ``linear = X beta`` is ``> 0`` at every success and ``< 0`` at every failure.

    Args:
        y: ``[n]`` proportions; observations with ``0 < y < 1`` have both.
        positive: ``[n]`` bool, observations with positive prior weight.
        linear: ``[n]`` the linear predictor without the offset (the offset is not part of
            the separating direction).
    """
    ok_success = jnp.where(positive & (y > 0), linear > 0, True)
    ok_failure = jnp.where(positive & (y < 1), linear < 0, True)
    return jnp.all(ok_success) & jnp.all(ok_failure)


def fitted_extremes(mu, positive, eps: float) -> jax.Array:
    """``[]`` bool: some fitted probability is numerically 0 or 1 (R's warning, ``10 eps``)."""
    extreme = (mu < SEPARATION_EPS * eps) | (mu > 1 - SEPARATION_EPS * eps)
    return jnp.any(positive & extreme)


def extreme_points(y, positive, eta, off, eps: float) -> jax.Array:
    """``[n]`` bool: observations fitted beyond ``sqrt(eps)`` of 0 or 1 on their own side."""
    linear = eta - off
    threshold = -0.5 * math.log(eps)
    right_side = ((y >= 1) & (linear > 0)) | ((y <= 0) & (linear < 0))
    return positive & right_side & (jnp.abs(eta) > threshold)


def quasi_separated(X, design: Design, y, positive, coef, eta, off, *, eps: float,
                    rank_rtol) -> jax.Array:
    """Whether ``coef`` yields a certificate of (quasi-)complete separation.

    Observations whose fitted probability is beyond ``sqrt(eps)`` of 0 or 1 on their own
    side (``|eta| > -log(sqrt(eps))``: 18 in float64, 8 in float32) are taken as the
    separated set ``E``; the rest, ``B``, as the points on the separating hyperplane. The
    candidate direction ``d`` is ``coef`` minus its least-squares projection on the rows of
    ``B`` (so ``X_B d = 0``). If ``X d`` is ``>= 0`` wherever there are successes, ``<= 0``
    wherever there are failures and nonzero somewhere, the MLE does not exist. Like the
    strict sign split, this can only fire on data that are separated (to within the band),
    whatever the partition: the partition only decides whether a certificate is found.
    With no point in ``E`` there is no certificate.

    Args:
        X: ``[n, p]`` design.
        design: its row blocks.
        y: ``[n]`` proportions.
        positive: ``[n]`` bool, positive prior weight.
        coef: ``[p]`` the final iterate.
        eta: ``[n]`` its linear predictor, offset included.
        off: ``[n]`` the offset.
        eps: machine epsilon of the dtype.
        rank_rtol: the pivot tolerance of the projection's factorisation.
    """
    linear = eta - off
    extreme = extreme_points(y, positive, eta, off, eps)
    boundary = (positive & ~extreme).astype(X.dtype)
    gram = design.gram(boundary)
    factor, aliased = cholesky_skip(gram, rank_rtol)
    direction = coef - cho_solve(factor, jnp.where(aliased, 0.0, gram @ coef))
    step = X @ direction
    band = QUASI_BAND * math.sqrt(eps) * jnp.max(jnp.where(positive, jnp.abs(linear), 0.0))
    weakly_right = (jnp.where(positive & (y > 0), step >= -band, True)
                    & jnp.where(positive & (y < 1), step <= band, True))
    return jnp.any(extreme & (jnp.abs(step) > band)) & jnp.all(weakly_right)
