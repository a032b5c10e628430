"""One GLM data set as the fit sees it: the static settings, the arrays, and the model's pieces.

:class:`Settings` is what is static (closed over, never traced); :class:`Problem` holds the
arrays of one data set; the functions here are the model itself (working weights,
deviance, the penalised objective, the linear systems), shared by every step of
:mod:`models._irls`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._families import Family
from ._firth import derivatives
from ._lanes import when
from ._linalg import Design, cholesky_skip_fast, design_aliased, drop, logdet
from ._links import Link

__all__ = ["Settings", "Problem", "Evaluation", "BREAKDOWN_RTOL", "TOL_FLOOR", "ridge",
           "irls_weights", "deviance_of", "evaluate", "normal_equations",
           "firth_derivatives", "make_problem", "start_values"]

TOL_FLOOR = 100.0
"""The convergence tolerance is at least ``TOL_FLOOR * eps`` of the computing dtype; a
Firth step may raise the objective by that much (relative) as rounding."""

BREAKDOWN_RTOL = 10.0
"""``x eps x G[j, j]``: a pivot lost to rounding at the current weights."""


class Settings(NamedTuple):
    """What is static about a fit: closed over, never traced.

    Attributes:
        family, link: the GLM's family and link values.
        firth: Firth's penalised likelihood (binomial + logit).
        newton: Newton on the observed information near the MLE: a link that is not the
            family's canonical one, and not Firth (:func:`models._families.newton_steps`).
        max_iter: the iteration budget.
        eps: machine epsilon of the computing dtype.
        separation: give the separation verdict (families with ``can_separate``: binomial;
            unpenalised fits).
    """

    family: Family
    link: Link
    firth: bool
    newton: bool
    max_iter: int
    eps: float
    separation: bool = True


class Problem(NamedTuple):
    """The arrays of one data set, as the loop reads them."""

    X: jax.Array  # [n, p]
    y: jax.Array  # [n]
    prior: jax.Array  # [n] prior weights
    off: jax.Array  # [n] offset
    design: Design  # row blocks of X
    l2: jax.Array  # [] ridge
    tol: jax.Array  # [] effective tolerance (>= TOL_FLOOR eps)
    positive: jax.Array  # [n] bool, positive prior weight
    penalised: jax.Array  # [p] 1 where the ridge applies (not the intercept)
    dropped: jax.Array  # [p] bool, columns aliased at the start
    invalid: jax.Array  # [] bool, the data set cannot be fitted
    binary: jax.Array  # [] bool, every y is 0 or 1
    start_system: tuple | None = None  # normal_equations at the start (not Firth)


class Evaluation(NamedTuple):
    """What a candidate linear predictor yields."""

    mu: jax.Array  # [n]
    deviance: jax.Array  # []
    objective: jax.Array  # [] deviance plus penalties (-2 x penalised log-likelihood)
    valid: jax.Array  # [] bool: objective finite and every mu in the mean space
    gram: jax.Array | None  # [p, p] X^T W X at the candidate (Firth), no ridge
    factor: jax.Array | None  # [p, p] Cholesky factor of drop(gram + ridge) (Firth)


# --- the model's pieces -----------------------------------------------------------------------

def ridge(pb: Problem) -> jax.Array:
    return jnp.diag(pb.l2 * pb.penalised)


def irls_weights(s: Settings, pb: Problem, eta, mu):
    """``d mu / d eta`` and the working weights ``W`` at ``eta`` (``mu`` its mean)."""
    mu_eta = s.link.inverse_deriv(eta)
    working = pb.prior * mu_eta**2 / s.family.variance(mu)
    return mu_eta, jnp.where(pb.positive, working, 0.0)


def deviance_of(s: Settings, pb: Problem, mu, eta=None):
    """The deviance at the means ``mu``; from ``eta`` where a mean sits at the clip.

    A binomial deviance from the clipped ``mu`` is capped near ``-2 log eps`` per
    observation. Where some mean is at the clip, it is computed from the link's exact
    ``log mu`` and ``log(1 - mu)`` at ``eta`` instead (:mod:`models._links`); elsewhere the
    two agree, and R's formula from ``mu`` is kept (it is cheaper: one logarithm per
    observation where the exact one takes an exponential too).
    """
    fam, lnk = s.family, s.link

    def general(y, mu, prior):
        return jnp.sum(jnp.where(pb.positive, fam.deviance_residuals(y, mu, prior), 0.0))

    if fam.binary_deviance is None:
        plain = general(pb.y, mu, pb.prior)
    else:
        # The cheaper formula where every y is 0 or 1; the general one only for data sets
        # with proportions (and, under vmap, only in batches that hold one).
        cheap = jnp.sum(fam.binary_deviance(pb.y, mu, pb.prior))
        plain = when(~pb.binary, general, (pb.y, mu, pb.prior), cheap)
    if eta is None or fam.log_deviance is None or lnk.log_inverse is None:
        return plain

    def exact(y, eta, prior):
        terms = fam.log_deviance(y, *lnk.log_inverse(eta), prior)
        return jnp.sum(jnp.where(pb.positive, terms, 0.0))

    clipped = jnp.any(pb.positive & ((mu <= s.eps) | (mu >= 1 - s.eps)))
    return when(clipped, exact, (pb.y, eta, pb.prior), plain)


def evaluate(s: Settings, pb: Problem, eta, coef) -> Evaluation:
    """-2 x penalised log-likelihood (up to a constant) at ``eta``, and its validity."""
    mu = s.link.inverse(eta)
    deviance = deviance_of(s, pb, mu, eta)
    value = deviance + pb.l2 * jnp.sum(pb.penalised * coef**2)
    gram = factor = None
    if s.firth:
        gram = pb.design.gram(irls_weights(s, pb, eta, mu)[1])
        factor, lost = cholesky_skip_fast(drop(gram + ridge(pb), pb.dropped),
                                          BREAKDOWN_RTOL * s.eps)
        value = value - logdet(factor, lost)
    valid = jnp.all(jnp.where(pb.positive, s.family.valid_mu(mu), True)) & jnp.isfinite(value)
    return Evaluation(mu, deviance, value, valid, gram, factor)


def normal_equations(s: Settings, pb: Problem, eta, mu):
    """The systems of the next step at ``eta``.

    Returns ``(X^T W X, X^T W z)`` and, for Newton, the observed information and its
    right-hand side ``X^T (W_obs (eta - offset) + score)`` (else ``None, None``).
    """
    mu_eta, working = irls_weights(s, pb, eta, mu)
    if not s.newton:
        z = eta - pb.off + (pb.y - mu) / mu_eta
        return (*pb.design.normal_equations(working, working * z), None, None)
    fam, lnk = s.family, s.link

    def score_per_eta(e):  # mu'(eta) / V(mu(eta)): the score is w (y - mu) times this
        return lnk.inverse_deriv(e) / fam.variance(lnk.inverse(e))

    ratio, slope = jax.jvp(score_per_eta, (eta,), (jnp.ones_like(eta),))
    score = jnp.where(pb.positive, pb.prior * (pb.y - mu) * ratio, 0.0)
    observed = jnp.where(pb.positive, working - pb.prior * (pb.y - mu) * slope, 0.0)
    linear = eta - pb.off
    grams, rhss = pb.design.normal_equations(
        jnp.stack([working, observed]),
        jnp.stack([working * linear + score, observed * linear + score]))
    return grams[0], rhss[0], grams[1], rhss[1]


def firth_derivatives(s: Settings, pb: Problem, coef, eta, mu, gram, factor):
    working = irls_weights(s, pb, eta, mu)[1]
    fisher = drop(gram + ridge(pb), pb.dropped)
    return derivatives(pb.X, pb.design, pb.y, pb.prior, coef, mu, working, fisher, factor,
                       pb.dropped, pb.l2, pb.penalised)


def make_problem(s: Settings, X, y, prior, off, l2, tol) -> Problem:
    """The :class:`Problem` of one data set: data checks and the rank, decided once.

    A data set is invalid (status ``INVALID_INPUT``) when its arrays hold NaN or inf, a
    weight is negative or none is positive, a response is outside the family's support, a
    traced ``l2 < 0`` or ``tol <= 0``, or there are no valid starting values (R: "cannot
    find valid starting values").
    """
    fam = s.family
    n, p = X.shape
    positive = prior > 0
    invalid = ~(
        jnp.all(jnp.isfinite(X)) & jnp.all(jnp.isfinite(y)) & jnp.all(jnp.isfinite(prior))
        & jnp.all(jnp.isfinite(off)) & jnp.all(prior >= 0) & jnp.any(positive)
        & jnp.all(fam.valid_y(y)) & jnp.isfinite(l2) & (l2 >= 0) & (tol > 0)
    )
    penalised = jnp.ones((p,), X.dtype).at[0].set(0.0)  # column 0 is the intercept
    pb = Problem(X, y, prior, off, Design.of(X), l2, jnp.maximum(tol, TOL_FLOOR * s.eps),
                 positive, penalised, jnp.zeros((p,), bool), invalid,
                 jnp.all((y == 0) | (y == 1)))
    # The rank of the design, decided once at R's starting weights. Penalised columns of a
    # ridge fit are never aliased: the penalty makes their solution unique.
    eta0 = s.link.link(fam.start_mu(y, prior))
    mu0 = s.link.inverse(eta0)
    working0 = irls_weights(s, pb, eta0, mu0)[1]
    if s.firth:  # Firth starts elsewhere (beta = 0): the rank needs its own Gram
        gram0 = pb.design.gram(working0)
    else:  # the first step's system is at these weights: one product serves both
        start_system = normal_equations(s, pb, eta0, mu0)
        pb = pb._replace(start_system=start_system)
        gram0 = start_system[0]
    dropped = design_aliased(X, working0, gram0, s.eps)
    pb = pb._replace(dropped=dropped & ~((l2 > 0) & (penalised > 0)))
    return pb._replace(invalid=invalid | ~start_values(s, pb)[2])


def start_values(s: Settings, pb: Problem):
    """``(eta, evaluation, ok)`` at the start: R's ``mustart``, or ``beta = 0`` for Firth."""
    if s.firth:
        eta = pb.off
    else:
        eta = s.link.link(s.family.start_mu(pb.y, pb.prior))
    start = evaluate(s, pb, eta, jnp.zeros(pb.X.shape[1:], pb.X.dtype))
    # Without coefficients there is no ridge term: the ML start is R's devold.
    ok = start.valid if s.firth else jnp.isfinite(start.deviance)
    ok = ok & jnp.all(jnp.where(pb.positive, jnp.isfinite(eta), True))
    return eta, start, ok
