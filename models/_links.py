"""Link functions for the GLM fit, as immutable values.

A link ``g`` maps the mean ``mu`` to the linear predictor ``eta = g(mu)``. Each link is a
:class:`Link`, a ``NamedTuple`` of plain functions (statsmodels ``genmod/families/links.py``
split, minus its classes):

========  ======================  =======================  ==============================
name      ``link(mu)``            ``inverse(eta)``         ``deriv(mu)``
========  ======================  =======================  ==============================
logit     ``log(mu / (1 - mu))``  ``1 / (1 + exp(-eta))``  ``1 / (mu (1 - mu))``
probit    ``Phi^-1(mu)``          ``Phi(eta)``             ``1 / phi(Phi^-1(mu))``
cloglog   ``log(-log(1 - mu))``   ``1 - exp(-exp(eta))``   ``1 / ((mu - 1) log(1 - mu))``
log       ``log(mu)``             ``exp(eta)``             ``1 / mu``
identity  ``mu``                  ``eta``                  ``1``
inverse   ``1 / mu``              ``1 / eta``              ``-1 / mu**2``
========  ======================  =======================  ==============================

Links are values: :func:`models.glm.fit` takes one (or its name in :data:`LINKS`) as
``link=``, and passes it to the compiled fit as a static argument (a ``Link`` is hashable;
its functions compare by identity). A link of your own is a ``Link`` under a name no other
link has, used with a family whose ``links`` name it; ``GLMResult.link`` records the name.

``inverse_deriv(eta)`` is ``d mu / d eta`` as a function of ``eta`` (R's ``mu.eta``); the IRLS
uses it rather than ``1 / deriv(mu)`` because it stays accurate where ``mu`` is close to the
edge of its range.

Like R's ``make.link`` (``src/library/stats/src/family.c``), the inverses of the links whose
range is bounded are kept a hair inside it, so that a diverging fit (separation) never
produces ``mu`` exactly 0 or 1, ``log(0)`` in the deviance or a zero working weight:

* ``logit``, ``probit``, ``cloglog``: ``inverse`` is clipped to ``[eps, 1 - eps]`` and
  ``inverse_deriv`` is at least ``eps``;
* ``log``: ``inverse`` and ``inverse_deriv`` are at least ``eps``;

where ``eps`` is the machine epsilon of the argument's dtype (R uses the double epsilon).
Inside these bounds ``inverse(link(mu)) == mu`` to rounding. ``link`` and ``deriv`` are not
clipped, so ``deriv == jax.grad(link)`` holds exactly.

The clipped mean steers the iteration, but it must not set the objective: a deviance
computed from it is capped near ``-2 log eps`` per observation, so a fit far out in a tail
(a large offset) would see a flat, false objective and stop there. The links into
``(0, 1)`` therefore also give ``log_inverse``: ``log mu`` and ``log(1 - mu)`` from ``eta``
itself, unclipped and without cancellation, from which the binomial deviance is computed.

References:
    McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed., §2.2.
    R Core Team. ``stats::make.link`` and ``stats::family``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy import special

__all__ = [
    "Link",
    "LINKS",
    "logit",
    "probit",
    "cloglog",
    "log",
    "identity",
    "inverse",
]


class Link(NamedTuple):
    """A GLM link function ``eta = link(mu)`` and what the IRLS needs of it.

    Attributes:
        name: the link's name, e.g. ``"logit"``; what ``GLMResult.link`` records, and what
            a family's ``links``, ``default_link`` and ``canonical_link`` refer to.
        link: ``mu -> eta``, elementwise.
        inverse: ``eta -> mu``, elementwise (clipped into the range, see the module notes).
        deriv: ``mu -> d eta / d mu``, elementwise.
        inverse_deriv: ``eta -> d mu / d eta``, elementwise (R's ``mu.eta``).
        log_inverse: ``None``, or ``eta -> (log mu, log(1 - mu))`` unclipped, for the links
            a binomial mean can take (see the module notes).
    """

    name: str
    link: Callable[[jax.Array], jax.Array]
    inverse: Callable[[jax.Array], jax.Array]
    deriv: Callable[[jax.Array], jax.Array]
    inverse_deriv: Callable[[jax.Array], jax.Array]
    log_inverse: Callable[[jax.Array], tuple[jax.Array, jax.Array]] | None = None


def _eps(x: jax.Array) -> jax.Array:
    """Machine epsilon of ``x``'s (floating) dtype, as a scalar of that dtype."""
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return jnp.asarray(jnp.finfo(dtype).eps, dtype)


def _clip_unit(mu: jax.Array) -> jax.Array:
    eps = _eps(mu)
    return jnp.clip(mu, eps, 1 - eps)


def _floor_eps(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, _eps(x))


def _as_float(x) -> jax.Array:
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


# --- logit ------------------------------------------------------------------------------------

def _logit_link(mu):
    mu = _as_float(mu)
    return jnp.log(mu) - jnp.log1p(-mu)


def _logit_inverse(eta):
    return _clip_unit(jax.nn.sigmoid(_as_float(eta)))


def _logit_deriv(mu):
    mu = _as_float(mu)
    return 1 / (mu * (1 - mu))


def _logit_inverse_deriv(eta):
    # sigmoid(eta) * sigmoid(-eta) = e / (1 + e)^2 with e = exp(-|eta|) <= 1: no cancellation
    # at either tail (unlike mu * (1 - mu)), no overflow, and one exp instead of two.
    eta = _as_float(eta)
    e = jnp.exp(-jnp.abs(eta))
    return _floor_eps(e / (1 + e) ** 2)


def _logit_log_inverse(eta):
    eta = _as_float(eta)
    return jax.nn.log_sigmoid(eta), jax.nn.log_sigmoid(-eta)


logit = Link("logit", _logit_link, _logit_inverse, _logit_deriv, _logit_inverse_deriv,
             _logit_log_inverse)


# --- probit -----------------------------------------------------------------------------------

def _norm_pdf(x):
    return jnp.exp(-0.5 * x * x) / jnp.sqrt(2 * jnp.pi).astype(x.dtype)


def _probit_link(mu):
    return special.ndtri(_as_float(mu))


def _probit_inverse(eta):
    return _clip_unit(special.ndtr(_as_float(eta)))


def _probit_deriv(mu):
    return 1 / _norm_pdf(special.ndtri(_as_float(mu)))


def _probit_inverse_deriv(eta):
    return _floor_eps(_norm_pdf(_as_float(eta)))


def _probit_log_inverse(eta):
    eta = _as_float(eta)
    return special.log_ndtr(eta), special.log_ndtr(-eta)


probit = Link("probit", _probit_link, _probit_inverse, _probit_deriv, _probit_inverse_deriv,
              _probit_log_inverse)


# --- complementary log-log --------------------------------------------------------------------

def _cloglog_link(mu):
    return jnp.log(-jnp.log1p(-_as_float(mu)))


def _cloglog_inverse(eta):
    return _clip_unit(-jnp.expm1(-jnp.exp(_as_float(eta))))


def _cloglog_deriv(mu):
    mu = _as_float(mu)
    return 1 / ((mu - 1) * jnp.log1p(-mu))


def _cloglog_inverse_deriv(eta):
    # exp(eta) * exp(-exp(eta)) written as one exp: no inf * 0 when exp(eta) overflows.
    eta = _as_float(eta)
    return _floor_eps(jnp.exp(eta - jnp.exp(eta)))


def _cloglog_log_inverse(eta):
    # 1 - mu = exp(-exp(eta)); log mu = log(1 - exp(-exp(eta))), by expm1 for small exp(eta).
    rate = jnp.exp(_as_float(eta))
    return jnp.log(-jnp.expm1(-rate)), -rate


cloglog = Link("cloglog", _cloglog_link, _cloglog_inverse, _cloglog_deriv,
               _cloglog_inverse_deriv, _cloglog_log_inverse)


# --- log --------------------------------------------------------------------------------------

def _log_link(mu):
    return jnp.log(_as_float(mu))


def _log_inverse(eta):
    return _floor_eps(jnp.exp(_as_float(eta)))


def _log_deriv(mu):
    return 1 / _as_float(mu)


def _log_log_inverse(eta):
    eta = _as_float(eta)
    return eta, jnp.log1p(-jnp.exp(eta))


log = Link("log", _log_link, _log_inverse, _log_deriv, _log_inverse, _log_log_inverse)


# --- identity ---------------------------------------------------------------------------------

def _identity(x):
    return _as_float(x)


def _identity_deriv(x):
    return jnp.ones_like(_as_float(x))


identity = Link("identity", _identity, _identity, _identity_deriv, _identity_deriv)


# --- inverse ----------------------------------------------------------------------------------

def _reciprocal(x):
    return 1 / _as_float(x)


def _inverse_deriv_mu(mu):
    mu = _as_float(mu)
    return -1 / (mu * mu)


inverse = Link("inverse", _reciprocal, _reciprocal, _inverse_deriv_mu, _inverse_deriv_mu)


LINKS: dict[str, Link] = {
    lk.name: lk for lk in (logit, probit, cloglog, log, identity, inverse)
}
"""Every link by name."""
