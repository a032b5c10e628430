r"""Generalised linear models by IRLS, Newton and Firth, one data set per call: the public fit.

The fit follows R's ``glm.fit`` (starting values, convergence criterion, step-halving) and
reports what statsmodels' ``GLM(...).fit()`` reports (coefficients, standard errors,
deviance, Pearson scale). It is pure JAX: one ``lax.while_loop`` over iterations, every
data-dependent decision a ``jnp.where``, so it runs unchanged under ``jax.jit`` and
``jax.vmap`` (a batch of data sets is ``jax.vmap(fit)``). Failures are data: a per-data-set
:class:`~models._status.Status`, never an exception or a NaN inside traced code.

The iteration (:mod:`models._irls`), for prior weights :math:`w_i` and offset :math:`o_i`:

.. math::

    \mu &= g^{-1}(\eta), \qquad
    W_i = \frac{w_i\, (d\mu_i/d\eta_i)^2}{V(\mu_i)}, \qquad
    z_i = \eta_i - o_i + \frac{y_i - \mu_i}{d\mu_i/d\eta_i} \\
    \beta^{new} &= (X^\top W X + \lambda P)^{-1} X^\top W z

with :math:`P = \mathrm{diag}(0, 1, \ldots, 1)` (ridge ``l2``; column 0 is the intercept and
is never penalised). That is Fisher scoring, which for a canonical link is Newton's method.
For the other links the same system is solved with the observed information in place of
:math:`W` after R's first step, so the fit converges quadratically to the MLE. Which one
is decided by the (family, link) pair alone (:func:`models._families.newton_steps`): the
link is the family's *canonical* one or not, whatever its default (the negative
binomial's default ``log`` is not canonical, so it takes Newton steps); with
``firth=True`` (binomial, logit only) the fit is Newton's method on the exact Hessian of
Firth's penalised likelihood (:mod:`models._firth`).

Pieces, and where they come from:

* **Start** (R ``family()$initialize``): ``mustart`` is ``(w y + 1/2)/(w + 1)`` (binomial),
  ``y + 0.1`` (poisson), ``y`` (gaussian, gamma), ``y + (y == 0)/6`` (negative binomial,
  ``MASS::negative.binomial``); ``eta = link(mustart)``. A start the link
  cannot take (gaussian with log link and ``y <= 0``, inverse link and ``y == 0``) is an
  invalid input, where R stops with "cannot find valid starting values". Firth starts at
  ``beta = 0``, as ``logistf``.
* **Objective**: the deviance ``D``; with penalties ``D + l2 * sum(beta[1:]**2)`` and, for
  Firth, minus ``log det(X^T W X + l2 P)``: ``-2 x`` the penalised log-likelihood.
* **Convergence** (R ``glm.control``): ``|D - D_old| / (|D| + 0.1) < tol`` on the objective.
  The criterion cannot be met below the resolution of the dtype, so ``tol`` is raised to at
  least ``TOL_FLOOR * eps`` of the computing dtype: no change in float64 (``2.2e-14``),
  ``1.2e-5`` in float32, where the default ``1e-8`` is below ``eps = 1.2e-7`` and the
  deviance of a converged fit still jitters by a few ulps from one iteration to the next.
  Firth's rule is ``logistf``'s instead: every gradient entry of the penalised
  log-likelihood below ``FIRTH_GCONV`` and the last step below ``FIRTH_XCONV`` (both 1e-5).
* **Step-halving** (R ``glm.fit`` and ``glm2::glm.fit2``, Marschner 2011): a step whose
  objective is not finite, whose means leave the family's mean space (``validmu``), or
  (from the second iteration on) whose objective rises by ``tol`` relative or more, is
  halved back towards the previous coefficients, at most ``MAX_HALVINGS`` (25, R's
  ``maxit``) times; if no halving is acceptable the fit stops with status ``NONFINITE`` and
  the previous, finite, coefficients. The first iteration has no previous coefficients (R:
  "no valid set of coefficients has been found"): an invalid first step is ``NONFINITE``.
  Firth's line search accepts no rise of the objective beyond rounding.
* **Linear solve** (:mod:`models._linalg`): ``X^T W X`` and ``X^T W z`` come out of one
  pass over ``X`` and ``X^T W X`` is factorised by a Cholesky that drops a column whose
  pivot breaks down. On CPU these are native kernels (:mod:`models._native`: one call per
  group of data sets); elsewhere one XLA product summed over row blocks, and LAPACK's or
  cuSOLVER's Cholesky with the column-skipping one where a pivot breaks down.
* **Rank**: decided once per fit, on ``W^1/2 X`` at the starting weights, by R's ``dqrdc2``
  rule: column ``j`` is *aliased* when its residual after projection on the earlier kept
  columns has at most ``sqrt(RANK_RTOL * eps)`` of its norm (``RANK_RTOL = 1000``: about
  ``5e-7`` in float64, where R uses ``1e-7``; ``1e-2`` in float32). The Gram matrix settles
  it when it is well conditioned (then no column is aliased); otherwise a Gram-Schmidt QR
  does, since Gram pivots square the condition number and miss an exactly dependent column
  next to ill-conditioned ones. Aliased columns are dropped from every solve (coefficient
  0, standard error 0), as ``dqrdc2`` aliases the later of collinear columns (R reports
  NA). A column whose pivot breaks down during the iterations (at most ``10 eps * G[j, j]``,
  when working weights collapse) is dropped from that solve too. A converged fit with
  aliased columns has status ``RANK_DEFICIENT`` (``converged=True``). Penalised columns of
  a ridge fit (``l2 > 0``) are never aliased.
* **Separation** (binomial, the one family with ``can_separate``; unpenalised;
  :mod:`models._separation`): the MLE does not exist when a linear predictor separates
  successes from failures (Albert & Anderson 1984). The fit reports the verdict of a linear
  program in ``separation`` (``complete``, ``quasi``, ``overlap``, ``undecided``), each with
  a certificate checked to a stated rounding tolerance; a separated data set has status
  ``SEPARATED`` and ``separated=True`` (``converged=False``; the verdict takes priority over
  convergence). Most data sets are decided by the fit's own certificates: the final
  coefficients, which on completely separated data end as a strict separator, and the
  score's terms, which at the MLE of overlapping data are Stiemke's certificate of overlap.
  The linear program runs on the rest (quasi-complete separation, margins below the
  tolerance), under ``vmap`` only in groups that hold one. The loop stops early, returning
  the last (finite) iterate, once the coefficients split the classes strictly *and* some
  fitted probability is numerically 0 or 1 by R's rule (``mu < 10 eps`` or
  ``mu > 1 - 10 eps``), where R warns "fitted probabilities numerically 0 or 1 occurred".
  The verdict is computed in float64 wherever JAX's x64 mode is on, float32 fits included.
  Penalised fits (``l2 > 0``, ``firth=True``) have finite estimates on separated data,
  converge, and report ``separated=False`` and ``separation`` ``not_checked``;
  ``separation=False`` skips the verdict.
* **Invalid input** (status ``INVALID_INPUT``, coefficients, standard errors, deviances and
  scale all 0, ``n_iter`` 0, history all NaN): a NaN or inf in ``X``, ``y``, ``weights`` or
  ``offset``; a negative weight or no positive weight; ``y`` outside the family's support
  (binomial ``[0, 1]``, poisson and negative binomial ``>= 0``, gamma ``> 0``); no valid
  start (above); a traced ``l2 < 0`` or ``tol <= 0`` (concrete ones raise ``ValueError``).

References:
    McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed., §2.5.
    R Core Team. ``stats::glm.fit``, ``stats::glm.control``, ``stats::summary.glm``.
    Marschner, I. C. (2011). glm2: fitting generalized linear models with convergence
    problems. The R Journal 3(2), 12-15.
    Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood estimates
    in logistic regression models. Biometrika 71, 1-10.
    Firth, D. (1993). Bias reduction of maximum likelihood estimates. Biometrika 80, 27-38.
    Heinze, G. and Schemper, M. (2002). A solution to the problem of separation in logistic
    regression. Statistics in Medicine 21, 2409-2419.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ._batching import (
    batched_rule,
    check_group_size,
    lane_bytes,
    run_in_groups,
    vmapped_lanes,
)
from ._families import ALIASES, Family, binomial, newton_steps
from ._irls import (
    FIRTH_GCONV,
    FIRTH_XCONV,
    MAX_HALVINGS,
    GLMResult,
    finish,
    init,
    running,
    step,
)
from ._linalg import RANK_RTOL
from ._links import LINKS, Link, logit
from ._problem import TOL_FLOOR, Settings, make_problem
from ._rows import concrete, pad
from ._validate import check_design, check_positive_int, float_dtype_of

__all__ = ["GLMResult", "fit", "predict", "MAX_HALVINGS", "RANK_RTOL", "TOL_FLOOR",
           "FIRTH_GCONV", "FIRTH_XCONV"]


# --- static checks --------------------------------------------------------------------------

def _resolve_family(family: Family | str) -> Family:
    """The :class:`Family` value of ``family``: itself, or the one its alias names."""
    if isinstance(family, Family):
        _check_family(family)
        return family
    if isinstance(family, str) and family in ALIASES:
        return ALIASES[family]
    shown = repr(family) if family is None or isinstance(family, str) else (
        f"of type {type(family).__name__}")
    raise ValueError(
        f"unknown family {shown}; choose one of {', '.join(ALIASES)}, or pass a Family "
        "value (e.g. glm.negative_binomial(alpha=2.0), or glm.poisson._replace(...))."
    )


def _check_family(fam: Family) -> None:
    """A user's :class:`Family` value: the static fields that the fit reads as Python."""
    names_ok = (isinstance(fam.links, tuple) and len(fam.links) > 0
                and all(isinstance(name, str) for name in fam.links))
    if not (isinstance(fam.name, str) and names_ok and fam.default_link in fam.links
            and (fam.canonical_link is None or isinstance(fam.canonical_link, str))
            and isinstance(fam.estimates_scale, (bool, np.bool_))
            and isinstance(fam.can_separate, (bool, np.bool_))):
        raise ValueError(
            f"family {fam.name!r}: name must be a str, links a non-empty tuple of link "
            "names, default_link one of them, canonical_link a name or None, "
            "estimates_scale and can_separate bools."
        )


def _resolve(family: Family | str, link: Link | str | None) -> tuple[Family, Link]:
    """The family and link values of ``fit``'s arguments.

    Raises ``ValueError``, naming the choices, for an unknown name or a link the family
    does not allow.
    """
    fam = _resolve_family(family)
    if link is None and fam.default_link not in LINKS:
        raise ValueError(f"family {fam.name!r}: its default link {fam.default_link!r} is not "
                         f"one of {', '.join(LINKS)}; pass the Link value as link=.")
    link = fam.default_link if link is None else link
    if isinstance(link, Link):
        lnk = link
    elif isinstance(link, str) and link in LINKS:
        lnk = LINKS[link]
    else:
        raise ValueError(f"unknown link {link!r}; choose one of {', '.join(LINKS)}, or pass "
                         "a Link value.")
    if not isinstance(lnk.name, str) or lnk.name not in fam.links:
        raise ValueError(
            f"link {lnk.name!r} is not allowed for family {fam.name!r}; "
            f"choose one of {', '.join(fam.links)} (default {fam.default_link!r})."
        )
    _remember(lnk)
    return fam, lnk


# The user's links by name: ``GLMResult.link`` is a name (static metadata that any
# transformation passes through), which ``predict`` resolves here or in LINKS.
_USER_LINKS: dict[str, Link] = {}


def _remember(lnk: Link) -> None:
    """Record a user's link under its name; a name must stand for one link only."""
    known = LINKS.get(lnk.name, _USER_LINKS.get(lnk.name))
    if known is None:
        _USER_LINKS[lnk.name] = lnk
    elif known != lnk:
        other = "the built-in link" if lnk.name in LINKS else "a link fit used before"
        raise ValueError(
            f"link {lnk.name!r} differs from {other} of that name: give it a name of its "
            "own (GLMResult.link records the name, which predict resolves)."
        )


def _check_scalar(name: str, value, *, strictly_positive: bool) -> None:
    """Check a scalar setting; a traced value can only be checked for its shape."""
    if isinstance(value, jax.core.Tracer):
        if value.shape != ():
            raise ValueError(f"{name} must be a scalar, got shape {value.shape}.")
        return
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be a real scalar, got {value!r}.")
    v = float(arr)
    if strictly_positive and not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {v}.")
    if not strictly_positive and not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {v}.")



# --- the fit ----------------------------------------------------------------------------------

def _fit_arrays(X, y, prior, off, l2, tol, *, settings: Settings, has_offset: bool) -> GLMResult:
    problem = make_problem(settings, X, y, prior, off, l2, tol)
    final = lax.while_loop(functools.partial(running, settings),
                           functools.partial(step, settings, problem),
                           init(settings, problem))
    return finish(settings, problem, final, has_offset=has_offset)


def _fit_core(X, y, weights, offset, l2, tol, *, family: Family, link: Link, firth: bool,
              max_iter: int, group_size: int | None, separation: bool) -> GLMResult:
    # family and link are the values themselves (hashable: static arguments of _fit_jit).
    fam, lnk = family, link
    dtype = float_dtype_of(*[a for a in (X, y, weights, offset) if a is not None])
    X = jnp.asarray(X, dtype)
    y = jnp.asarray(y, dtype)
    n, p = X.shape
    prior = jnp.ones((n,), dtype) if weights is None else jnp.asarray(weights, dtype)
    off = jnp.zeros((n,), dtype) if offset is None else jnp.asarray(offset, dtype)
    settings = Settings(family=fam, link=lnk, firth=firth,
                        newton=newton_steps(fam, lnk, firth=firth), max_iter=max_iter,
                        eps=float(jnp.finfo(dtype).eps), separation=separation)
    fit_one = functools.partial(_fit_arrays, settings=settings, has_offset=offset is not None)

    def run_batch(axis_size, in_batched, *args):
        # Under vmap: cache-sized groups of lanes on CPU, the whole batch elsewhere
        # (models._batching). Each lane computes what it computes in any batch.
        batch_fn, batched = vmapped_lanes(fit_one, in_batched, args)
        cost = lane_bytes("glm", n, p, X.dtype.itemsize, firth=firth)
        return run_in_groups(batch_fn, batched, lane_bytes=cost, group_size=group_size)

    return batched_rule(fit_one, run_batch)(X, y, prior, off, jnp.asarray(l2, dtype),
                                            jnp.asarray(tol, dtype))


_fit_jit = jax.jit(_fit_core, static_argnames=("family", "link", "firth", "max_iter",
                                              "group_size", "separation"))


def fit(X: ArrayLike, y: ArrayLike, family: Family | str = "binomial",
        link: Link | str | None = None, *, weights: ArrayLike | None = None,
        offset: ArrayLike | None = None, l2: ArrayLike = 0.0, firth: bool = False,
        tol: ArrayLike = 1e-8, max_iter: int = 25, group_size: int | None = None,
        separation: bool = True) -> GLMResult:
    r"""Fit a generalised linear model to one data set by IRLS.

    Pure JAX, compiled once per shape, dtype and static setting: works unchanged under
    ``jax.jit`` and ``jax.vmap`` (a batch is ``jax.vmap(fit)`` over a leading axis). Called
    outside any trace, it pads the rows to one of a few sizes at prior weight 0
    (:mod:`models._rows`), so data sets of many sizes share compiled programs; the result is
    the same to rounding. Data problems never raise inside traced code; they are reported
    in ``status`` (see the module docstring for the algorithm, the separation rule and the
    status codes).

    Args:
        X: ``[n, p]`` design matrix for ONE data set. The caller supplies the intercept:
            column 0 is taken to be it (it is not penalised by ``l2``; the null model
            uses it when it is all ones).
        y: ``[n]`` response. Binomial: a proportion in ``[0, 1]`` (0/1 labels, or
            successes / trials with ``weights`` = trials, as R's ``glm``); poisson and
            negative binomial: counts ``>= 0``; gamma: ``> 0``.
        family: a :class:`~models._families.Family` value (``glm.binomial``,
            ``glm.poisson``, ``glm.gaussian``, ``glm.gamma``, ``glm.negative_binomial(alpha)``
            or one of your own), or the name of a built-in one: ``"binomial"``,
            ``"poisson"``, ``"gaussian"``, ``"gamma"``, ``"negative_binomial"`` (``alpha =
            1``). A string and its value give the same fit. Static: equal values share one
            compiled program.
        link: ``None`` for the family's default link (logit, log, identity, inverse; log for
            the negative binomial), or a :class:`~models._links.Link` value or name among
            the links the family allows (statsmodels' set): binomial logit, probit,
            cloglog, log, identity; poisson log, identity; gaussian and gamma identity,
            log, inverse; negative binomial log, identity. A link of your own
            needs a family that lists its name, and a name no other link has (the result
            records the name, and :func:`predict` resolves it). Fisher scoring for the
            family's canonical link, Newton steps near the MLE for any other
            (:func:`models._families.newton_steps`). Static.
        weights: optional ``[n]`` prior weights, R's ``weights`` (statsmodels
            ``var_weights``): the deviance and the IRLS weights are multiplied by them.
            Zero weights drop observations (also from the residual df).
        offset: optional ``[n]`` offset added to the linear predictor.
        l2: ridge penalty ``l2 >= 0``: minimises ``deviance + l2 * sum(coef[1:]**2)``, i.e.
            ``-loglik + l2/2 ||coef[1:]||^2`` for binomial/poisson (scikit-learn's
            ``C = 1 / l2``). Column 0 is not penalised. May be traced.
        firth: Firth's bias-reduced logistic regression (binomial + logit only), as R's
            ``logistf``: maximises ``loglik + 1/2 log det(X^T W X + l2 P)``, finite on
            separated data. Newton's method on the exact Hessian with a line search, from
            ``coef = 0``; converged when every gradient entry is below ``FIRTH_GCONV`` and
            the last step below ``FIRTH_XCONV`` (``logistf``'s ``gconv`` and ``xconv``,
            1e-5; ``tol`` is not used). Static.
        tol: convergence tolerance on the relative change of the objective, R's
            ``epsilon`` (default ``1e-8``; raised to ``TOL_FLOOR * eps`` of the dtype, which
            only matters in float32). With a non-canonical link the fit takes Newton steps,
            so at this ``tol`` the coefficients are within rounding of the MLE, not only
            the deviance. May be traced.
        max_iter: most iterations, R's ``maxit`` (default 25, also ``logistf``'s). Static.
        group_size: under ``jax.vmap``, how many data sets run together in one group
            (:mod:`models._batching`): ``None`` (default) sizes the groups for the platform,
            on CPU to keep a group's working set in cache (64 data sets of
            ``n = 200, p = 11`` in float64), elsewhere the whole batch up to 8 GiB of
            working set. Set it to tune for another CPU; results do not depend on it
            (Firth's in the last bits only). Static; no effect on a single fit.
        separation: give the separation verdict of a binomial, unpenalised fit
            (default): ``result.separation`` is ``overlap``, ``quasi``, ``complete`` or
            ``undecided``, and a separated data set has status ``separated``. The fit's
            own certificates decide most data sets for the price of a Newton correction;
            the rest run the linear program of :func:`models.glm.separation`. ``False``
            skips it (``not_checked``): a separated data set then ends ``max_iter`` or,
            where R's criterion is met on the way to infinity, ``converged``, as in R
            and statsmodels. Static.

    Returns:
        A :class:`GLMResult`; ``history`` has length ``max_iter``.

    Raises:
        ValueError: before any tracing, for an unknown family or link name, a malformed
            Family value, a link the family does not allow (the message names the allowed
            ones), a link of your own under a name another link has, ``firth`` with
            anything but binomial + logit, wrong ranks or
            mismatched shapes of ``X``, ``y``, ``weights``, ``offset``, ``max_iter < 1``,
            ``tol <= 0``, ``l2 < 0`` (the last two when not traced).

    Example:
        >>> res = fit(X, y)                                   # logistic regression
        >>> res = fit(X, counts, "poisson", offset=jnp.log(exposure))
        >>> res = fit(X, counts, negative_binomial(alpha=1.5), log)  # models.glm's names
        >>> batch = jax.jit(jax.vmap(fit))(X_batch, y_batch)  # [B, n, p], [B, n]

    References:
        R Core Team, ``stats::glm.fit``; McCullagh & Nelder (1989); Firth (1993); Heinze &
        Schemper (2002); Marschner (2011).
    """
    fam, lnk = _resolve(family, link)
    check_design(X, y, name="glm.fit", weights=weights, offset=offset)
    max_iter = check_positive_int("max_iter", max_iter)
    if not isinstance(firth, (bool, np.bool_)):
        raise ValueError(f"firth must be True or False, got {firth!r}.")
    firth = bool(firth)
    if firth and (fam, lnk) != (binomial, logit):
        raise ValueError(
            "firth=True is Firth's logistic regression: use family='binomial' with "
            f"link='logit' (got family={fam.name!r}, link={lnk.name!r})."
        )
    _check_scalar("tol", tol, strictly_positive=True)
    _check_scalar("l2", l2, strictly_positive=False)
    if not isinstance(separation, (bool, np.bool_)):
        raise ValueError(f"separation must be True or False, got {separation!r}.")
    if concrete(X, y, weights, offset, l2, tol):
        # A call outside any trace: rows padded to a bucket (weight 0), so that data sets of
        # many sizes share a few compiled programs (models._rows).
        dtype = float_dtype_of(*[a for a in (X, y, weights, offset) if a is not None])
        X, y, weights, offset = pad(X, y, weights, offset, dtype)
    return _fit_jit(X, y, weights, offset, l2, tol, family=fam, link=lnk,
                    firth=firth, max_iter=max_iter, group_size=check_group_size(group_size),
                    separation=bool(separation))


def _link_of(result: GLMResult) -> Link:
    name = result.link
    if name in LINKS:
        return LINKS[name]
    if name in _USER_LINKS:
        return _USER_LINKS[name]
    raise ValueError(f"predict: result.link {name!r} is not a link fit has used in this "
                     "process; refit with the Link value first.")


def predict(result: GLMResult, X: ArrayLike, *, offset: ArrayLike | None = None) -> jax.Array:
    """Fitted means ``mu = g^{-1}(X coef + offset)`` of a fit, for new rows ``X``.

    Uses the link the fit was made with: ``result.link`` records its name (static
    metadata, so it passes through ``jit`` and ``vmap``), resolved among the built-in links
    and the links of your own that :func:`fit` has used in this process. The call is
    ``predict(result, X)`` as for the perceptron and the MLP.

    Args:
        result: a :class:`GLMResult` for one data set (``coef [p]``; for a batch use
            ``jax.vmap(predict)``).
        X: ``[m, p]`` design matrix with the same columns as in the fit.
        offset: optional ``[m]`` offset.

    Returns:
        ``[m]`` means; for binomial, probabilities (clipped to ``[eps, 1 - eps]``).

    Raises:
        ValueError: for shapes that do not match, or a ``result.link`` that names no link
            known to this process (a link of your own from a fit in another process).
    """
    lnk = _link_of(result)
    coef = result.coef
    if np.ndim(coef) != 1:
        raise ValueError(
            f"predict: result.coef must be [p] (one data set), got shape {np.shape(coef)}; "
            "for a batch of results use jax.vmap(predict)."
        )
    if np.ndim(X) != 2 or np.shape(X)[1] != np.shape(coef)[0]:
        raise ValueError(
            f"predict: X must be [m, p] with p = {np.shape(coef)[0]} columns as in the fit, "
            f"got shape {np.shape(X)}."
        )
    if offset is not None and np.shape(offset) != (np.shape(X)[0],):
        raise ValueError(f"predict: offset must have shape ({np.shape(X)[0]},), "
                         f"got {np.shape(offset)}.")
    dtype = float_dtype_of(X, coef)
    eta = jnp.asarray(X, dtype) @ jnp.asarray(coef, dtype)
    if offset is not None:
        eta = eta + jnp.asarray(offset, dtype)
    return lnk.inverse(eta)
