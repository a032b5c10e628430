"""Exponential-family distributions for the GLM fit, as immutable values.

A :class:`Family` bundles what the IRLS needs from a distribution: its variance function,
its deviance residuals, R's starting values and its support, plus its default link, its
canonical link and the links it accepts. Links live in :mod:`models._links`; the split
follows statsmodels ``genmod/families`` without classes (statsmodels
``genmod/families/family.py`` and ``varfuncs.py``). Families are values: pass one to
:func:`models.glm.fit` as ``family=`` (the strings of :data:`ALIASES` stand for the
built-in ones), or build your own with ``poisson._replace(...)``.

=================  ====================  ========  =========  ====================  ===============
family             ``variance(mu)``      default   canonical  links                 support of ``y``
=================  ====================  ========  =========  ====================  ===============
binomial           ``mu (1 - mu)``       logit     logit      logit probit cloglog  ``0 <= y <= 1``
                                                              log identity
poisson            ``mu``                log       log        log identity          ``y >= 0``
gaussian           ``1``                 identity  identity   identity log inverse  any real
gamma              ``mu**2``             inverse   inverse    inverse log identity  ``y > 0``
negative_binomial  ``mu + alpha mu**2``  log       nbinom     log identity          ``y >= 0``
=================  ====================  ========  =========  ====================  ===============

The links are statsmodels' set for the family, restricted to :data:`models._links.LINKS`
(for the negative binomial also without ``cloglog``, whose means stay below 1 while the
counts' do not: R's start ``y + (y == 0)/6`` is outside its range for any ``y >= 1``).

The *default* link is the one ``fit`` uses when given none; the *canonical* link is the one
with ``d mu / d eta = V(mu)``, for which Fisher scoring is Newton's method
(:func:`newton_steps`). They differ for the negative binomial: its canonical link,
``nbinom``, ``eta = log(alpha mu / (1 + alpha mu))`` (statsmodels ``links.NegativeBinomial``),
is not among :data:`models._links.LINKS`, and its default is ``log``, as in statsmodels and
R's ``MASS::negative.binomial``.

For ``binomial`` the response is a proportion and the prior weights count trials, as in R's
``glm``: ``y = successes / trials`` with ``weights = trials`` (0/1 data: weights 1).

The negative binomial (NB2) has a fixed ``alpha > 0``, statsmodels'
``families.NegativeBinomial(alpha=...)`` (default 1) and ``MASS::negative.binomial(theta)``
with ``theta = 1 / alpha``: ``Var(y) = mu + alpha mu**2``, the dispersion is fixed at 1 (as
statsmodels fixes it for Binomial, Poisson and NegativeBinomial), and ``alpha`` is not
estimated. :func:`negative_binomial` returns one value per ``alpha``.

The unit deviances (McCullagh & Nelder 1989, Table 2.1; NB2: Hilbe 2011),
multiplied by the prior weight:

* binomial: ``2 w [y log(y/mu) + (1-y) log((1-y)/(1-mu))]``
* poisson: ``2 w [y log(y/mu) - (y - mu)]``
* gaussian: ``w (y - mu)**2``
* gamma: ``2 w [-log(y/mu) + (y - mu)/mu]``
* negative binomial: ``2 w [y log(y/mu) - (y + 1/alpha) log((1 + alpha y)/(1 + alpha mu))]``

with ``0 log 0 = 0``.

References:
    McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed.
    Hilbe, J. M. (2011). Negative Binomial Regression, 2nd ed. Cambridge University Press.
    R Core Team. ``stats::binomial``, ``poisson``, ``gaussian``, ``Gamma`` (``initialize``,
    ``dev.resids``, ``validmu``); Venables & Ripley, ``MASS::negative.binomial``.
    statsmodels ``genmod/families/family.py`` (``NegativeBinomial``) and ``links.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

from ._links import Link
from ._validate import check_positive_float

__all__ = ["Family", "FAMILIES", "ALIASES", "binomial", "poisson", "gaussian", "gamma",
           "negative_binomial", "is_canonical", "newton_steps"]


class Family(NamedTuple):
    """An exponential-family distribution as the IRLS sees it.

    A hashable value (its functions compare by identity), passed to the compiled fit as a
    static argument: equal families share one compiled program.

    Attributes:
        name: the family's name, e.g. ``"binomial"``; what ``GLMResult.family`` reports.
        default_link: name of the link ``fit`` uses when given none; one of ``links``.
        canonical_link: name of the canonical link (``d mu / d eta = V(mu)``), or ``None``.
            It need not be among ``links`` (the negative binomial's is not); it only
            decides Fisher scoring against Newton steps (:func:`newton_steps`).
        links: names of the links this family accepts (the statsmodels set, restricted to
            :data:`models._links.LINKS`).
        estimates_scale: ``False`` when the dispersion is fixed at 1 (binomial, poisson,
            negative binomial); ``True`` when it is estimated by Pearson chi2 / residual df.
        variance: ``mu -> V(mu)``, elementwise.
        deviance_residuals: ``(y, mu, weights) -> [n]`` prior-weighted unit deviances; their
            sum is the deviance.
        start_mu: ``(y, weights) -> [n]`` starting means, R's ``family()$initialize``.
        valid_y: ``y -> [n] bool``, whether each response is in the support.
        valid_mu: ``mu -> [n] bool``, whether each mean is inside the family's mean space
            (R's ``validmu``; a step that leaves it is halved).
        can_separate: whether the MLE can fail to exist by separation of 0/1-type
            responses, so that the fit gives the separation verdict of
            :mod:`models._separation` and may stop early on a separating direction. Only
            binomial: the verdict's certificates are the binomial score's.
        binary_deviance: ``None``, or ``(y, mu, weights) -> [n]``: the same as
            ``deviance_residuals`` wherever every ``y`` is 0 or 1, computed more cheaply
            (binomial: one logarithm per observation instead of four); the fit uses it for
            data sets whose responses are all 0 or 1.
        log_deviance: ``None``, or ``(y, log_mu, log_1mu, weights) -> [n]``: the same
            unit deviances from ``log mu`` and ``log(1 - mu)`` (a link's ``log_inverse``),
            which are exact where the clipped ``mu`` is not.
    """

    name: str
    default_link: str
    canonical_link: str | None
    links: tuple[str, ...]
    estimates_scale: bool
    variance: Callable[[jax.Array], jax.Array]
    deviance_residuals: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    start_mu: Callable[[jax.Array, jax.Array], jax.Array]
    valid_y: Callable[[jax.Array], jax.Array]
    valid_mu: Callable[[jax.Array], jax.Array]
    can_separate: bool = False
    binary_deviance: Callable[[jax.Array, jax.Array, jax.Array], jax.Array] | None = None
    log_deviance: Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array] | None = None


def is_canonical(family: Family, link: Link) -> bool:
    """Whether ``link`` is ``family``'s canonical link, by name.

    For the canonical link ``d mu / d eta = V(mu)``: the expected and the observed
    information agree, and the score's weights are the prior weights.
    """
    return family.canonical_link is not None and link.name == family.canonical_link


def newton_steps(family: Family, link: Link, *, firth: bool) -> bool:
    """Whether the maximum-likelihood fit takes Newton steps on the observed information.

    Fisher scoring (IRLS) is Newton's method only for the canonical link; for any other
    link it converges linearly and stops short of the MLE at R's tolerance, so the fit
    switches to Newton steps near the MLE (:mod:`models._irls`). Firth's fit has its own
    Newton iteration. Decided from the pair alone, so a family whose default link is not
    its canonical one (the negative binomial's ``log``) takes Newton steps too.
    """
    return not firth and not is_canonical(family, link)


def _ylogy_over_mu(y, mu):
    """``y log(y / mu)`` with ``0 log 0 = 0``."""
    return xlogy(y, y) - xlogy(y, mu)


# --- binomial ---------------------------------------------------------------------------------

def _binomial_deviance(y, mu, weights):
    return 2 * weights * (_ylogy_over_mu(y, mu) + _ylogy_over_mu(1 - y, 1 - mu))


def _binomial_binary_deviance(y, mu, weights):
    # For y in {0, 1} one of the two terms is 0 log 0 = 0 and the other is -log(mu) or
    # -log(1 - mu). log is the costly part of the deviance (and of the whole IRLS step
    # in float64 on CPU): one per observation here, four in the general formula.
    return -2 * weights * jnp.log(jnp.where(y > 0, mu, 1 - mu))


def _binomial_log_deviance(y, log_mu, log_1mu, weights):
    # The terms with a zero factor are left out rather than multiplied, since log mu may be
    # -inf where mu underflows and the other class is observed. For 0/1 responses this is
    # the binary formula term for term (the y log y terms are 0).
    fitted = jnp.where(y > 0, y * log_mu, 0.0) + jnp.where(y < 1, (1 - y) * log_1mu, 0.0)
    return 2 * weights * (xlogy(y, y) + xlogy(1 - y, 1 - y) - fitted)


def _binomial_start(y, weights):
    # R: mustart <- (weights * y + 0.5) / (weights + 1); never 0 or 1.
    return (weights * y + 0.5) / (weights + 1)


binomial = Family(
    name="binomial",
    default_link="logit",
    canonical_link="logit",
    links=("logit", "probit", "cloglog", "log", "identity"),
    estimates_scale=False,
    variance=lambda mu: mu * (1 - mu),
    deviance_residuals=_binomial_deviance,
    start_mu=_binomial_start,
    valid_y=lambda y: (y >= 0) & (y <= 1),
    valid_mu=lambda mu: jnp.isfinite(mu) & (mu > 0) & (mu < 1),
    can_separate=True,
    binary_deviance=_binomial_binary_deviance,
    log_deviance=_binomial_log_deviance,
)


# --- poisson ----------------------------------------------------------------------------------

def _poisson_deviance(y, mu, weights):
    return 2 * weights * (_ylogy_over_mu(y, mu) - (y - mu))


poisson = Family(
    name="poisson",
    default_link="log",
    canonical_link="log",
    links=("log", "identity"),
    estimates_scale=False,
    variance=lambda mu: mu,
    deviance_residuals=_poisson_deviance,
    start_mu=lambda y, weights: y + 0.1,  # R: y + 0.1, so that log(mustart) is finite
    valid_y=lambda y: y >= 0,
    valid_mu=lambda mu: jnp.isfinite(mu) & (mu > 0),
)


# --- gaussian ---------------------------------------------------------------------------------

gaussian = Family(
    name="gaussian",
    default_link="identity",
    canonical_link="identity",
    links=("identity", "log", "inverse"),
    estimates_scale=True,
    variance=lambda mu: jnp.ones_like(mu),
    deviance_residuals=lambda y, mu, weights: weights * (y - mu) ** 2,
    start_mu=lambda y, weights: y,
    valid_y=lambda y: jnp.ones(y.shape, bool),
    valid_mu=jnp.isfinite,
)


# --- gamma ------------------------------------------------------------------------------------

def _gamma_deviance(y, mu, weights):
    return 2 * weights * (-jnp.log(y / mu) + (y - mu) / mu)


gamma = Family(
    name="gamma",
    default_link="inverse",
    canonical_link="inverse",
    links=("inverse", "log", "identity"),
    estimates_scale=True,
    variance=lambda mu: mu * mu,
    deviance_residuals=_gamma_deviance,
    start_mu=lambda y, weights: y,
    valid_y=lambda y: y > 0,
    valid_mu=lambda mu: jnp.isfinite(mu) & (mu > 0),
)


# --- negative binomial ------------------------------------------------------------------------

def _negative_binomial_start(y, weights):
    # MASS::negative.binomial: mustart <- y + (y == 0)/6, so that log(mustart) is finite.
    return jnp.where(y == 0, y + 1 / 6, y)


@functools.cache
def _negative_binomial(alpha: float) -> Family:
    # One value per alpha (cached), so equal alphas give the identical Family: the same
    # static argument, hence one compiled program, however often it is built.
    def variance(mu):
        return mu + alpha * mu * mu

    def deviance(y, mu, weights):
        # log((1 + alpha y) / (1 + alpha mu)) as one log1p: no cancellation as alpha -> 0,
        # where the deviance tends to the poisson one.
        ratio = jnp.log1p(alpha * (y - mu) / (1 + alpha * mu))
        return 2 * weights * (_ylogy_over_mu(y, mu) - (y + 1 / alpha) * ratio)

    return Family(
        name=f"negative_binomial(alpha={alpha!r})",
        default_link="log",
        canonical_link="nbinom",  # log(alpha mu / (1 + alpha mu)): not among LINKS
        links=("log", "identity"),
        estimates_scale=False,
        variance=variance,
        deviance_residuals=deviance,
        start_mu=_negative_binomial_start,
        valid_y=lambda y: y >= 0,
        valid_mu=lambda mu: jnp.isfinite(mu) & (mu > 0),
    )


def negative_binomial(alpha: float = 1.0) -> Family:
    r"""The negative binomial family (NB2) with a fixed ancillary parameter ``alpha``.

    :math:`V(\mu) = \mu + \alpha \mu^2`, unit deviance
    :math:`2 w [y \log(y/\mu) - (y + 1/\alpha) \log((1 + \alpha y)/(1 + \alpha \mu))]`
    (``0 log 0 = 0``), dispersion fixed at 1, default link ``log`` (also ``identity``; the
    canonical link ``log(alpha mu / (1 + alpha mu))`` is not offered, so the fit takes
    Newton steps near the MLE), support ``y >= 0``, means ``mu > 0``, start
    ``mu = y + (y == 0) / 6`` (``MASS::negative.binomial``). ``alpha`` is not estimated:
    the fit is statsmodels' ``GLM(y, X, family=families.NegativeBinomial(alpha=alpha))``,
    R's ``glm(..., family = MASS::negative.binomial(theta = 1 / alpha))``.

    Args:
        alpha: the ancillary parameter, a finite number ``> 0`` (statsmodels' default 1;
            ``Var(y) = mu + alpha mu**2``, so ``alpha -> 0`` is the poisson).

    Returns:
        The :class:`Family`, named ``negative_binomial(alpha=...)``. Equal ``alpha`` give
        the identical value (``negative_binomial(1.5) is negative_binomial(1.5)``), so
        repeated fits reuse one compiled program.

    Raises:
        ValueError: if ``alpha`` is not a finite real number ``> 0``.

    References:
        statsmodels ``genmod/families/family.py``, ``NegativeBinomial``; Hilbe, J. M.
        (2011). Negative Binomial Regression, 2nd ed.; Venables & Ripley,
        ``MASS::negative.binomial``.
    """
    return _negative_binomial(check_positive_float("alpha", alpha))


FAMILIES: dict[str, Family] = {f.name: f for f in (binomial, poisson, gaussian, gamma)}
"""The families without a parameter, by name."""

ALIASES: dict[str, Family] = {**FAMILIES, "negative_binomial": negative_binomial(1.0)}
"""Every string ``fit`` accepts as ``family``, and the value it stands for: the
:data:`FAMILIES`, and ``"negative_binomial"`` for ``negative_binomial(1.0)`` (statsmodels'
default ``alpha``)."""
