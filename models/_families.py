"""Exponential-family distributions for the GLM fit, as immutable values.

A :class:`Family` bundles what the IRLS needs from a distribution: its variance function,
its deviance residuals, R's starting values and its support, plus which links it accepts.
Links live in :mod:`models._links`; the split follows statsmodels ``genmod/families``
without classes (statsmodels ``genmod/families/family.py`` and ``varfuncs.py``).

========  ================  =========  =================================  ================
family    ``variance(mu)``  canonical  links (statsmodels' set)           support of ``y``
========  ================  =========  =================================  ================
binomial  ``mu (1 - mu)``   logit      logit probit cloglog log identity  ``0 <= y <= 1``
poisson   ``mu``            log        log identity                       ``y >= 0``
gaussian  ``1``             identity   identity log inverse               any real
gamma     ``mu ** 2``       inverse    inverse log identity               ``y > 0``
========  ================  =========  =================================  ================

For ``binomial`` the response is a proportion and the prior weights count trials, as in R's
``glm``: ``y = successes / trials`` with ``weights = trials`` (0/1 data: weights 1).

The unit deviances (McCullagh & Nelder 1989, Table 2.1), multiplied by the prior weight:

* binomial: ``2 w [y log(y/mu) + (1-y) log((1-y)/(1-mu))]``
* poisson: ``2 w [y log(y/mu) - (y - mu)]``
* gaussian: ``w (y - mu)**2``
* gamma: ``2 w [-log(y/mu) + (y - mu)/mu]``

with ``0 log 0 = 0``.

References:
    McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed.
    R Core Team. ``stats::binomial``, ``poisson``, ``gaussian``, ``Gamma`` (``initialize``,
    ``dev.resids``, ``validmu``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

__all__ = ["Family", "FAMILIES", "binomial", "poisson", "gaussian", "gamma"]


class Family(NamedTuple):
    """An exponential-family distribution as the IRLS sees it.

    Attributes:
        name: the family's name, e.g. ``"binomial"``.
        canonical_link: name of the canonical link, the default.
        links: names of the links this family accepts (the statsmodels set, restricted to
            :data:`models._links.LINKS`).
        estimates_scale: ``False`` when the dispersion is fixed at 1 (binomial, poisson);
            ``True`` when it is estimated by Pearson chi2 / residual df.
        variance: ``mu -> V(mu)``, elementwise.
        deviance_residuals: ``(y, mu, weights) -> [n]`` prior-weighted unit deviances; their
            sum is the deviance.
        start_mu: ``(y, weights) -> [n]`` starting means, R's ``family()$initialize``.
        valid_y: ``y -> [n] bool``, whether each response is in the support.
        valid_mu: ``mu -> [n] bool``, whether each mean is inside the family's mean space
            (R's ``validmu``; a step that leaves it is halved).
        binary_deviance: ``None``, or ``(y, mu, weights) -> [n]``: the same as
            ``deviance_residuals`` wherever every ``y`` is 0 or 1, computed more cheaply
            (binomial: one logarithm per observation instead of four); the fit uses it for
            data sets whose responses are all 0 or 1.
        log_deviance: ``None``, or ``(y, log_mu, log_1mu, weights) -> [n]``: the same
            unit deviances from ``log mu`` and ``log(1 - mu)`` (a link's ``log_inverse``),
            which are exact where the clipped ``mu`` is not.
    """

    name: str
    canonical_link: str
    links: tuple[str, ...]
    estimates_scale: bool
    variance: Callable[[jax.Array], jax.Array]
    deviance_residuals: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    start_mu: Callable[[jax.Array, jax.Array], jax.Array]
    valid_y: Callable[[jax.Array], jax.Array]
    valid_mu: Callable[[jax.Array], jax.Array]
    binary_deviance: Callable[[jax.Array, jax.Array, jax.Array], jax.Array] | None = None
    log_deviance: Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array] | None = None


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
    canonical_link="logit",
    links=("logit", "probit", "cloglog", "log", "identity"),
    estimates_scale=False,
    variance=lambda mu: mu * (1 - mu),
    deviance_residuals=_binomial_deviance,
    start_mu=_binomial_start,
    valid_y=lambda y: (y >= 0) & (y <= 1),
    valid_mu=lambda mu: jnp.isfinite(mu) & (mu > 0) & (mu < 1),
    binary_deviance=_binomial_binary_deviance,
    log_deviance=_binomial_log_deviance,
)


# --- poisson ----------------------------------------------------------------------------------

def _poisson_deviance(y, mu, weights):
    return 2 * weights * (_ylogy_over_mu(y, mu) - (y - mu))


poisson = Family(
    name="poisson",
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
    canonical_link="inverse",
    links=("inverse", "log", "identity"),
    estimates_scale=True,
    variance=lambda mu: mu * mu,
    deviance_residuals=_gamma_deviance,
    start_mu=lambda y, weights: y,
    valid_y=lambda y: y > 0,
    valid_mu=lambda mu: jnp.isfinite(mu) & (mu > 0),
)


FAMILIES: dict[str, Family] = {f.name: f for f in (binomial, poisson, gaussian, gamma)}
"""Every family by name."""
