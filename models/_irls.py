r"""The GLM fit as ``init``, ``step`` and ``finish`` over one problem pytree.

:func:`models.glm.fit` builds a :class:`Problem` (the arrays of one data set) and a static
:class:`Settings`, then runs ``finish(lax.while_loop(running, step, init(problem)))``, in
the style of blackjax's kernels: the loop carry (:class:`LoopState`) and what the fit
reports (:class:`GLMResult`) are different types. Three steps share the loop, chosen
statically from the family and link (:func:`models._families.newton_steps`):

* **Fisher scoring** (IRLS, R's ``glm.fit``) for canonical links, where it *is* Newton's
  method: ``beta = (X^T W X + l2 P)^{-1} X^T W z``, with R's starting values, convergence
  rule and step-halving, so ``n_iter`` is R's and statsmodels' ``iter``.
* **Newton on the observed information** for the other links, from the second iteration
  on (the first is R's Fisher step from ``mustart``). Fisher scoring converges only
  linearly there, and at R's default ``tol = 1e-8`` it stopped up to ``1e-4`` (relative)
  short of the MLE (cloglog) where Newton, converging quadratically, stops within rounding
  of it. The observed information weights are
  :math:`W^{obs} = W - w (y - \mu)\, d/d\eta [\mu'(\eta) / V(\mu(\eta))]` (McCullagh &
  Nelder 1989, §2.5); where :math:`X^\top W^{obs} X` is not positive definite the step is
  Fisher's. The convergence rule stays R's.
* **Firth** (binomial + logit): Newton's method with a backtracking line search on the
  exact Hessian of the penalised log-likelihood (:mod:`models._firth`), from
  ``beta = 0`` as ``logistf``; it converges when both the gradient and the last step are
  below ``logistf``'s tolerances (:data:`FIRTH_GCONV`, :data:`FIRTH_XCONV`).

References:
    R Core Team. ``stats::glm.fit``, ``stats::glm.control``; ``logistf::logistf.control``.
    McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed., §2.5.
    Marschner, I. C. (2011). glm2: fitting generalized linear models with convergence
    problems. The R Journal 3(2), 12-15.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple, TypeVar

import jax
import jax.numpy as jnp
from jax import lax

from ._certificates import Checks, check, margin, sides_of, tolerance, verdict_dtype
from ._families import is_canonical
from ._firth import FirthDerivatives, direction
from ._lanes import all_finite, when
from ._linalg import Design, cho_solve, cholesky_skip_fast, cholesky_skip_inverse, drop
from ._problem import (
    BREAKDOWN_RTOL,
    TOL_FLOOR,
    Evaluation,
    Problem,
    Settings,
    deviance_of,
    evaluate,
    firth_derivatives,
    normal_equations,
    ridge,
    start_values,
)
from ._separation import (
    LP_MAX_ITER,
    Separation,
    decide,
    fitted_extremes,
    splits_classes,
    verdict_of,
)
from ._status import Status

__all__ = ["LoopState", "GLMResult", "init", "step", "running", "finish", "null_deviance",
           "MAX_HALVINGS", "NEWTON_SWITCH", "FIRTH_GCONV", "FIRTH_XCONV", "FIRTH_GRADIENT_FLOOR"]

MAX_HALVINGS = 25
"""Most step-halvings per iteration (R's ``glm.fit`` uses ``control$maxit``, 25)."""

FIRTH_GCONV = 1e-5
"""Firth converges when every ``|gradient|`` of the penalised log-likelihood is below this
(``logistf.control(gconv = 1e-5)``) ..."""

FIRTH_XCONV = 1e-5
"""... and the last step moved no coefficient by more than this (``xconv = 1e-5``)."""

FIRTH_GRADIENT_FLOOR = 10.0
"""The gradient tolerance of column ``j`` is at least ``FIRTH_GRADIENT_FLOOR * eps *
sum_i w_i |x_ij|``, the rounding of the gradient's sum; it only binds in float32."""

_T = TypeVar("_T")


def _set(value: _T | None) -> _T:
    """A state field that the static settings guarantee (``None`` would be another program)."""
    assert value is not None
    return value


NEWTON_SWITCH = 0.1
"""Newton steps (non-canonical links) once the objective's relative change per step is below
this; before, Fisher scoring, whose steps are the steadier far from the MLE (how the value
was chosen: ``docs/glm-core.md``, "Fisher scoring, then Newton")."""

# Loop codes: why the loop stopped (internal; the public code is Status).
_RUNNING, _CONVERGED, _FAILED, _SEPARATION_STOP = 0, 1, 2, 3


class LoopState(NamedTuple):
    """The loop carry: the iterate, its next system, and why/whether to stop."""

    coef: jax.Array  # [p]
    eta: jax.Array  # [n], linear predictor including the offset
    mu: jax.Array  # [n]
    deviance: jax.Array  # []
    objective: jax.Array  # []
    n_iter: jax.Array  # [] int32
    code: jax.Array  # [] int32, one of the _RUNNING.. codes
    history: jax.Array  # [max_iter]
    gram: jax.Array  # [p, p] X^T W X at eta (expected information), no ridge
    rhs: jax.Array  # [p] X^T W z at eta (Fisher scoring's right-hand side)
    aliased: jax.Array  # [p] bool, the columns the solve that gave coef left out
    observed: jax.Array | None = None  # [p, p] Newton: X^T W_obs X; Firth: -Hessian
    observed_rhs: jax.Array | None = None  # [p] Newton: its right-hand side; Firth: gradient
    factor: jax.Array | None = None  # [p, p] Firth: Cholesky factor of drop(gram + ridge)
    change: jax.Array | None = None  # [] Newton: relative objective change of the last step


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["coef", "bse", "deviance", "null_deviance", "scale", "n_iter", "converged",
                 "separated", "separation", "status", "history"],
    meta_fields=["family", "link"],
)
@dataclasses.dataclass(frozen=True)
class GLMResult:
    """The result of :func:`fit` for one data set (under ``vmap``: a leading batch axis).

    A frozen dataclass registered as a pytree: the arrays are leaves, while ``family`` and
    ``link`` are static metadata, the names of the fit's family and link (strings cannot be
    array leaves), so :func:`predict` needs nothing but the result, and ``vmap``/``jit``
    pass the result through unchanged.

    Attributes:
        coef: ``[p]`` coefficients, one per column of ``X``; always finite. Aliased
            columns: 0. Separated: the last iterate. Invalid input or a failed first step:
            all 0.
        bse: ``[p]`` standard errors, ``sqrt(diag((X^T W X + l2 P)^{-1}) * scale)`` at ``coef``
            (inverse expected information, as statsmodels reports for an IRLS fit; with
            ``l2``, of the penalised information; with Firth, ``(X^T W X)^{-1}`` as
            logistf's ``var``). Aliased columns: 0, the same columns as in ``coef``. NaN
            for a kept column whose pivot breaks down at the returned coefficients (the
            information no longer determines it).
        deviance: ``[]`` deviance at ``coef`` (without penalty terms); when the first step
            already fails (status ``NONFINITE``, ``n_iter`` 0), at the starting values.
        null_deviance: ``[]`` deviance of the intercept-only model (with the offset) when
            column 0 of ``X`` is all ones, else of ``eta = offset``, as R's ``glm``.
        scale: ``[]`` dispersion: 1 for binomial, poisson and negative binomial (families
            without ``estimates_scale``); Pearson chi2 / (n - rank) otherwise (statsmodels;
            ``n`` counts observations with positive weight, as R). NaN when ``n <= rank``,
            where it is undefined (R: NaN; bse then NaN too), and for a ``nonfinite`` fit
            whose statistics at the returned coefficients overflow (bse too).
        n_iter: ``[]`` int32, iterations done (R's ``iter``).
        converged: ``[]`` bool, status is ``CONVERGED`` or ``RANK_DEFICIENT``.
        separated: ``[]`` bool, the binomial data are (quasi-)completely separated, so the
            MLE does not exist: a separating direction passed its check
            (:mod:`models._separation`).
        separation: ``[]`` int32, a :class:`~models._separation.Separation` code: the
            verdict on the data (``overlap``, ``quasi``, ``complete``, ``undecided``), or
            ``not_checked`` (families without ``can_separate``, Firth, ``l2 > 0``) or
            ``invalid_input``.
        status: ``[]`` int32, a :class:`~models._status.Status` code.
        history: ``[max_iter]`` objective (deviance, plus penalties) after each iteration;
            NaN after the stop.
        family: the family's name, ``Family.name`` (static), e.g. ``"poisson"`` or
            ``"negative_binomial(alpha=1.5)"``.
        link: the link's name, ``Link.name`` (static); :func:`predict` resolves it to the
            link value.
    """

    coef: jax.Array
    bse: jax.Array
    deviance: jax.Array
    null_deviance: jax.Array
    scale: jax.Array
    n_iter: jax.Array
    converged: jax.Array
    separated: jax.Array
    separation: jax.Array
    status: jax.Array
    history: jax.Array
    family: str = "binomial"
    link: str = "logit"


# --- init, step, finish ------------------------------------------------------------------------

def init(s: Settings, pb: Problem) -> LoopState:
    """The loop's start: R's ``mustart`` (Firth: ``beta = 0``, as ``logistf``)."""
    p = pb.X.shape[1]
    dtype = pb.X.dtype
    coef = jnp.zeros((p,), dtype)
    eta, start, _ = start_values(s, pb)
    if s.firth:
        objective = start.objective
        derivs = firth_derivatives(s, pb, coef, eta, start.mu, start.gram, start.factor)
        extra = dict(observed=derivs.information, observed_rhs=derivs.gradient,
                     factor=start.factor)
        gram, rhs = start.gram, jnp.zeros((p,), dtype)
    else:
        objective = start.deviance
        gram, rhs, observed, observed_rhs = _set(pb.start_system)  # normal_equations at eta
        extra = dict(observed=observed, observed_rhs=observed_rhs,
                     change=jnp.asarray(jnp.inf, dtype) if s.newton else None)
    return LoopState(
        coef=coef, eta=eta, mu=start.mu, deviance=start.deviance, objective=objective,
        n_iter=jnp.int32(0), code=jnp.where(pb.invalid, _FAILED, _RUNNING).astype(jnp.int32),
        history=jnp.full((s.max_iter,), jnp.nan, dtype),
        gram=gram, rhs=rhs, aliased=pb.dropped, **extra)


def running(s: Settings, state: LoopState) -> jax.Array:
    """The loop condition."""
    return (state.code == _RUNNING) & (state.n_iter < s.max_iter)


def _line_search(s: Settings, pb: Problem, state: LoopState, coef_full, acceptable,
                 allowed):
    """Step-halving towards ``state.coef`` while the candidate is not ``acceptable``.

    A loop that runs only while some step needs it (under vmap: some data set), at most
    :data:`MAX_HALVINGS` times. Returns ``(coef, eta, evaluation)`` of the last candidate.
    """
    eta_full = pb.X @ coef_full + pb.off
    full = evaluate(s, pb, eta_full, coef_full)

    def halve_cond(h):
        k, _, _, candidate = h
        return allowed & ~acceptable(candidate) & (k < MAX_HALVINGS)

    def halve_body(h):
        k, coef, _, _ = h
        coef = (coef + state.coef) / 2
        eta = pb.X @ coef + pb.off
        return k + 1, coef, eta, evaluate(s, pb, eta, coef)

    _, coef, eta, new = lax.while_loop(halve_cond, halve_body,
                                       (jnp.int32(0), coef_full, eta_full, full))
    return coef, eta, new


def step(s: Settings, pb: Problem, state: LoopState) -> LoopState:
    """One iteration: a Fisher scoring, Newton or Firth step, line-searched."""
    return _firth_step(s, pb, state) if s.firth else _ml_step(s, pb, state)


def _ml_step(s: Settings, pb: Problem, state: LoopState) -> LoopState:
    eps = s.eps
    gram, rhs = state.gram + ridge(pb), state.rhs
    factor, lost = cholesky_skip_fast(drop(gram, pb.dropped), BREAKDOWN_RTOL * eps)
    aliased = pb.dropped | lost
    first = state.n_iter == 0
    if s.newton:
        observed = drop(_set(state.observed) + ridge(pb), aliased)
        newton_factor = lax.linalg.cholesky(observed, symmetrize_input=False)
        pivots = jnp.diagonal(newton_factor) ** 2
        definite = (jnp.all(jnp.isfinite(newton_factor))
                    & jnp.all(pivots > BREAKDOWN_RTOL * eps * jnp.diagonal(observed)))
        # Fisher scoring while far away (its steps are the steadier there), Newton once
        # the objective changes by less than NEWTON_SWITCH (relative) per step.
        use_newton = definite & ~first & (_set(state.change) < NEWTON_SWITCH)
        factor = jnp.where(use_newton, newton_factor, factor)
        rhs = jnp.where(use_newton, _set(state.observed_rhs), rhs)
    system_ok = jnp.all(jnp.isfinite(gram)) & jnp.all(jnp.isfinite(rhs))
    coef_full = cho_solve(factor, jnp.where(aliased, 0.0, rhs))
    old = state.objective

    def acceptable(candidate: Evaluation):
        rise = (candidate.objective - old) / (0.1 + jnp.abs(candidate.objective))
        return candidate.valid & (first | (rise < pb.tol))

    # Halving is not possible on the first step (no previous coefficients), and halving a
    # step whose system is not finite cannot help: it fails as it stands.
    coef_new, eta_new, new = _line_search(s, pb, state, coef_full, acceptable,
                                          system_ok & ~first)
    accept = system_ok & acceptable(new)
    converged = jnp.abs(new.objective - old) / (jnp.abs(new.objective) + 0.1) < pb.tol
    code = jnp.where(converged, _CONVERGED, _RUNNING)
    if s.family.can_separate:
        # Stop at a strict separation certificate once some fitted probability is
        # numerically 0 or 1 (R's warning), unpenalised fits only.
        stop = (fitted_extremes(new.mu, pb.positive, eps)
                & splits_classes(pb.y, pb.positive, eta_new - pb.off) & (pb.l2 == 0))
        code = jnp.where(stop, _SEPARATION_STOP, code)
    code = jnp.where(accept, code, _FAILED)
    eta_next = jnp.where(accept, eta_new, state.eta)
    mu_next = jnp.where(accept, new.mu, state.mu)
    # The next step's system, computed here so that after the last step it is the one at
    # the returned coefficients, which the standard errors need.
    gram_next, rhs_next, observed_next, observed_rhs_next = normal_equations(
        s, pb, eta_next, mu_next)
    return LoopState(
        coef=jnp.where(accept, coef_new, state.coef), eta=eta_next, mu=mu_next,
        deviance=jnp.where(accept, new.deviance, state.deviance),
        objective=jnp.where(accept, new.objective, old),
        n_iter=state.n_iter + accept.astype(jnp.int32),
        code=code.astype(jnp.int32),
        history=jnp.where((jnp.arange(s.max_iter) == state.n_iter) & accept, new.objective,
                          state.history),
        gram=gram_next, rhs=rhs_next, aliased=jnp.where(accept, aliased, state.aliased),
        observed=observed_next, observed_rhs=observed_rhs_next,
        change=(jnp.abs(new.objective - old) / (jnp.abs(new.objective) + 0.1)
                if s.newton else None))


def _firth_tolerance(s: Settings, pb: Problem) -> jax.Array:
    """``[p]`` the gradient tolerance of each column (see :data:`FIRTH_GRADIENT_FLOOR`)."""
    rounding = jnp.sum(jnp.abs(pb.X) * jnp.where(pb.positive, pb.prior, 0.0)[:, None], axis=0)
    return jnp.maximum(FIRTH_GCONV, FIRTH_GRADIENT_FLOOR * s.eps * rounding)


def _firth_step(s: Settings, pb: Problem, state: LoopState) -> LoopState:
    eps = s.eps
    fisher = drop(state.gram + ridge(pb), pb.dropped)
    derivs = FirthDerivatives(_set(state.observed_rhs), _set(state.observed))
    delta, _ = direction(derivs, fisher, state.factor, BREAKDOWN_RTOL * eps)
    system_ok = all_finite(delta)
    old = state.objective
    slack = TOL_FLOOR * eps * (jnp.abs(state.deviance) + jnp.abs(state.deviance - old) + 1)

    def acceptable(candidate: Evaluation):
        # The penalised log-likelihood does not fall (beyond rounding).
        return candidate.valid & (candidate.objective <= old + slack)

    coef_new, eta_new, new = _line_search(s, pb, state, state.coef + delta, acceptable,
                                          system_ok)
    accept = system_ok & acceptable(new)
    gradient_tol = _firth_tolerance(s, pb)
    derivs_new = firth_derivatives(s, pb, coef_new, eta_new, new.mu, new.gram, new.factor)
    # logistf's rule: the last step and the gradient are small. Where rounding keeps the
    # step above FIRTH_XCONV (float32 near the optimum), a step that changed the objective
    # by no more than its rounding counts as small too.
    small = ((jnp.max(jnp.abs(coef_new - state.coef)) <= FIRTH_XCONV)
             | (jnp.abs(new.objective - old) <= slack))
    converged = small & jnp.all(jnp.abs(derivs_new.gradient) < gradient_tol)
    # No step raises the penalised likelihood, yet the gradient is already within its
    # tolerance: the iterate is the maximum to within rounding.
    settled = ~accept & system_ok & jnp.all(jnp.abs(derivs.gradient) < gradient_tol)
    code = jnp.where(accept, jnp.where(converged, _CONVERGED, _RUNNING),
                     jnp.where(settled, _CONVERGED, _FAILED))

    def keep(a, b):
        return jnp.where(accept, a, b)

    return LoopState(
        coef=keep(coef_new, state.coef), eta=keep(eta_new, state.eta),
        mu=keep(new.mu, state.mu), deviance=keep(new.deviance, state.deviance),
        objective=keep(new.objective, old), n_iter=state.n_iter + accept.astype(jnp.int32),
        code=code.astype(jnp.int32),
        history=jnp.where((jnp.arange(s.max_iter) == state.n_iter) & accept, new.objective,
                          state.history),
        gram=keep(new.gram, state.gram), rhs=state.rhs, aliased=state.aliased,
        observed=keep(derivs_new.information, state.observed),
        observed_rhs=keep(derivs_new.gradient, state.observed_rhs),
        factor=keep(new.factor, state.factor))


def finish(s: Settings, pb: Problem, final: LoopState, *, has_offset: bool) -> GLMResult:
    """The diagnostics at the returned coefficients, and the status."""
    eps, fam, dtype = s.eps, s.family, pb.X.dtype
    invalid = pb.invalid
    coef, mu, deviance = final.coef, final.mu, final.deviance
    # A failure on the first step leaves no coefficients: eta is still the start.
    fitted = final.n_iter > 0
    # The columns the last solve left out are the aliased ones, for coef and bse alike. A
    # column that the information at the returned coefficients no longer determines (its
    # pivot broken down; possible only as working weights collapse) has no standard
    # error: NaN.
    aliased = final.aliased
    factor, lost, inverse = cholesky_skip_inverse(drop(final.gram + ridge(pb), aliased),
                                                  BREAKDOWN_RTOL * eps)
    cov_diag = jnp.where(lost, jnp.nan, inverse)  # diag of G^{-1}
    rank = pb.X.shape[1] - jnp.sum(aliased)
    df_resid = jnp.sum(pb.positive) - rank
    if fam.estimates_scale:
        pearson = jnp.sum(jnp.where(pb.positive,
                                    pb.prior * (pb.y - mu) ** 2 / fam.variance(mu), 0.0))
        scale = jnp.where(df_resid > 0, pearson / jnp.maximum(df_resid, 1), jnp.nan)
    else:
        scale = jnp.ones((), dtype)
    bse = jnp.where(aliased, 0.0, jnp.sqrt(cov_diag * scale))
    # Past the dtype's range (possible only when the fit fails) a statistic is not known:
    # NaN, never an infinity that reads as a value.
    bse = jnp.where(jnp.isinf(bse), jnp.nan, bse)
    scale = jnp.where(jnp.isinf(scale), jnp.nan, scale)
    null = null_deviance(s, pb, has_offset=has_offset)

    separated = jnp.zeros((), bool)
    separation = jnp.full((), Separation.NOT_CHECKED, jnp.int32)
    if fam.can_separate and not s.firth and s.separation:
        checked = ~invalid & (pb.l2 == 0)
        checks = _separation_checks(s, pb, final, factor, aliased, checked,
                                    has_offset=has_offset)
        separation = jnp.where(checked, verdict_of(checks), separation)
        separated = checked & (checks.separated | checks.complete)
    converged = final.code == _CONVERGED
    nonfinite = (final.code == _FAILED) | ~jnp.all(jnp.isfinite(coef)) | ~fitted
    status = jnp.select(
        [invalid, separated, nonfinite, converged & jnp.any(aliased), converged],
        [Status.INVALID_INPUT, Status.SEPARATED, Status.NONFINITE, Status.RANK_DEFICIENT,
         Status.CONVERGED],
        Status.MAX_ITER,
    ).astype(jnp.int32)

    zero = jnp.zeros((), dtype)
    ok_coef = ~invalid & fitted & jnp.all(jnp.isfinite(coef))
    return GLMResult(
        coef=jnp.where(ok_coef, coef, 0.0),
        bse=jnp.where(ok_coef, bse, 0.0),
        deviance=jnp.where(invalid, zero, deviance),
        null_deviance=jnp.where(invalid, zero, null),
        scale=jnp.where(invalid, zero, scale),
        n_iter=jnp.where(invalid, 0, final.n_iter).astype(jnp.int32),
        converged=(status == Status.CONVERGED) | (status == Status.RANK_DEFICIENT),
        separated=separated & ~invalid,
        separation=jnp.where(invalid, Separation.INVALID_INPUT, separation).astype(jnp.int32),
        status=status,
        history=jnp.where(invalid, jnp.nan, final.history),
        family=fam.name,
        link=s.link.name,
    )


def _separation_checks(s: Settings, pb: Problem, final: LoopState, factor, aliased,
                       checked, *, has_offset: bool) -> Checks:
    r"""The separation checks of a binomial fit: its own certificates, else the LP's.

    Two certificates come from the fit almost for free (:mod:`models._certificates`
    checks them): the coefficients, which on completely separated data end as a strict
    separator (their margins are the fit's own linear predictor); and the score's terms.
    With :math:`g = \mu'(\eta) / V(\mu)`, the score is
    :math:`\sum_i w_i g_i [y_i (1 - \mu_i) - (1 - y_i) \mu_i] x_i`, a sum of positive
    multiples of the rows :math:`+x_i` (successes) and :math:`-x_i` (failures): at the MLE
    it is 0, which is Stiemke's certificate of overlap. One more Fisher step, linearised,
    takes its residual to rounding; the score it starts from is the last system's
    right-hand side less ``G coef``, and the check forms the corrected terms as it reads
    the rows once. Where neither certificate passes (quasi-separation, a margin below the
    tolerance, a fit that stopped early) the linear program decides, through
    :func:`~models._lanes.when`: under ``vmap`` only groups that hold such a data set pay
    for it. The verdict is computed in float64 where x64 is on, float32 fits included
    (their information anew, in float64).
    """
    dtype = verdict_dtype(pb.X.dtype)
    eps = float(jnp.finfo(dtype).eps)
    n, p = pb.X.shape
    tau, sigma = tolerance(n, p, dtype), margin(dtype)
    X, y, prior, coef = (a.astype(dtype) for a in (pb.X, pb.y, pb.prior, final.coef))
    if dtype == pb.X.dtype:
        eta, mu = final.eta, final.mu
        # X coef without the offset: the fit's own, where there is no offset to take off.
        linear = None if has_offset else eta
    else:  # the verdict in float64 for a float32 fit: the linear predictor anew, in float64
        linear = X @ coef
        eta = linear + pb.off.astype(dtype)
        mu = s.link.inverse(eta)
    if is_canonical(s.family, s.link):
        # mu'(eta) = V(mu): the score's weights are the prior weights, W = w V(mu).
        g = jnp.where(pb.positive, prior, 0.0)
        working = g * s.family.variance(mu)
    else:
        mu_eta = s.link.inverse_deriv(eta)
        variance = s.family.variance(mu)
        working = jnp.where(pb.positive, prior * mu_eta**2 / variance, 0.0)
        g = jnp.where(pb.positive, prior * mu_eta / variance, 0.0)
    if dtype == pb.X.dtype:
        # The score is Fisher's right-hand side less G coef, both at the returned
        # coefficients already: no pass over X.
        score, solve_factor = final.rhs - final.gram @ coef, factor
    else:
        gram, score = Design.of(X).normal_equations(working, g * (y - mu))
        solve_factor, lost = cholesky_skip_fast(drop(gram, aliased), BREAKDOWN_RTOL * eps)
        aliased = aliased | lost
    # One Fisher step from the returned coefficients, linearised: it moves the score's
    # terms by -W x_i^T delta, which takes the score to rounding. The check forms the
    # shifted multipliers as it reads the rows.
    delta = cho_solve(solve_factor, jnp.where(aliased, 0.0, score), unrolled=False)
    lam = jnp.stack([g * y * (1 - mu), g * (1 - y) * mu])
    shift = jnp.stack([-y * working, (1 - y) * working])
    columns = pb.design.columns if dtype == pb.X.dtype else None
    cheap = check(sides_of(X, y, pb.positive, columns), coef, lam, tau=tau, sigma=sigma,
                  linear=linear, shift=shift, delta=delta)

    def linear_program(X, y, positive):
        return decide(sides_of(X, y, positive), eps=eps, tau=tau, sigma=sigma,
                      max_iter=LP_MAX_ITER)[0]

    needed = checked & ~cheap.complete & ~cheap.overlap
    return when(needed, linear_program, (X, y, pb.positive), cheap)


def null_deviance(s: Settings, pb: Problem, *, has_offset: bool):
    """Deviance of the intercept-only model, as R's ``glm`` (and statsmodels) define it.

    With column 0 of ``X`` all ones the null model has one free intercept: without an offset
    its MLE is the weighted mean of ``y`` whatever the link; with an offset it is fitted by
    scalar Fisher scoring (R refits ``glm.fit`` on the intercept alone). Otherwise the null
    model is ``eta = offset``.
    """
    fam, lnk = s.family, s.link
    y, prior, off = pb.y, pb.prior, pb.off
    has_intercept = jnp.all(pb.X[:, 0] == 1)

    if not has_offset:
        mean = jnp.sum(prior * y) / jnp.sum(prior)
        mu = jnp.where(has_intercept, jnp.broadcast_to(mean, y.shape), lnk.inverse(off))
        eta = None  # the mean of y, or the link's inverse at 0: never at the clip
    else:
        def cond(c):
            _, _, k, done = c
            return ~done & (k < s.max_iter)

        def body(c):
            eta, old, k, _ = c
            mu = lnk.inverse(eta)
            mu_eta = lnk.inverse_deriv(eta)
            working = jnp.where(pb.positive, prior * mu_eta**2 / fam.variance(mu), 0.0)
            z = eta - off + (y - mu) / mu_eta
            eta = jnp.sum(working * z) / jnp.sum(working) + off
            new = deviance_of(s, pb, lnk.inverse(eta), eta)
            done = ~(jnp.abs(new - old) / (jnp.abs(new) + 0.1) >= pb.tol)  # NaN stops too
            return eta, new, k + 1, done

        eta0 = lnk.link(fam.start_mu(y, prior))
        inf = jnp.asarray(jnp.inf, y.dtype)
        eta, _, _, _ = lax.while_loop(cond, body, (eta0, inf, jnp.int32(0), jnp.zeros((), bool)))
        eta = jnp.where(has_intercept, eta, off)
        mu = lnk.inverse(eta)
    value = deviance_of(s, pb, mu, eta)
    return jnp.where(jnp.isnan(value), jnp.inf, value)
