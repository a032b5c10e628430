r"""Generalised linear models fitted by IRLS (Fisher scoring), one data set per call.

The fit follows R's ``glm.fit`` (starting values, convergence criterion, step-halving) and
reports what statsmodels' ``GLM(...).fit()`` reports (coefficients, standard errors,
deviance, Pearson scale). It is pure JAX: one ``lax.while_loop`` over IRLS iterations, every
data-dependent decision a ``jnp.where``, so it runs unchanged under ``jax.jit`` and
``jax.vmap`` (a batch of data sets is ``jax.vmap(fit)``). Failures are data: a per-data-set
:class:`~models._status.Status`, never an exception or a NaN inside traced code.

The iteration, for prior weights :math:`w_i` and offset :math:`o_i`:

.. math::

    \mu &= g^{-1}(\eta), \qquad
    W_i = \frac{w_i\, (d\mu_i/d\eta_i)^2}{V(\mu_i)}, \qquad
    z_i = \eta_i - o_i + \frac{y_i - \mu_i}{d\mu_i/d\eta_i} \\
    \beta^{new} &= (X^\top W X + \lambda P)^{-1} X^\top W z

with :math:`P = \mathrm{diag}(0, 1, \ldots, 1)` (ridge ``l2``; column 0 is the intercept and
is never penalised). With ``firth=True`` (binomial, logit only) the right-hand side gains
Firth's hat-matrix adjustment :math:`X^\top (h \odot (1/2 - \mu))`, :math:`h` the diagonal of
:math:`W^{1/2} X (X^\top W X + \lambda P)^{-1} X^\top W^{1/2}`: Newton-Raphson on the Jeffreys-
penalised likelihood, as R's ``logistf`` (Heinze & Schemper 2002).

Pieces, and where they come from:

* **Start** (R ``family()$initialize``): ``mustart`` is ``(w y + 1/2)/(w + 1)`` (binomial),
  ``y + 0.1`` (poisson), ``y`` (gaussian, gamma); ``eta = link(mustart)``. A start the link
  cannot take (gaussian with log link and ``y <= 0``, inverse link and ``y == 0``) is an
  invalid input, where R stops with "cannot find valid starting values".
* **Objective**: the deviance ``D``; with penalties ``D + l2 * sum(beta[1:]**2)`` and, for
  Firth, minus ``log det(X^T W X + l2 P)``: ``-2 x`` the penalised log-likelihood.
* **Convergence** (R ``glm.control``): ``|D - D_old| / (|D| + 0.1) < tol`` on the objective.
  The criterion cannot be met below the resolution of the dtype, so ``tol`` is raised to at
  least ``100 * eps`` of the computing dtype: no change in float64 (``2.2e-14``), ``1.2e-5``
  in float32, where the default ``1e-8`` is below ``eps = 1.2e-7`` and the deviance of a
  converged fit still jitters by a few ulps from one iteration to the next.
* **Step-halving** (R ``glm.fit`` and ``glm2::glm.fit2``, Marschner 2011): a step whose
  objective is not finite, whose means leave the family's mean space (``validmu``), or
  (from the second iteration on) whose objective rises by ``tol`` relative or more, is
  halved back towards the previous coefficients, at most ``MAX_HALVINGS`` (25, R's
  ``maxit``) times; if no halving is acceptable the fit stops with status ``NONFINITE`` and
  the previous, finite, coefficients. The first iteration has no previous coefficients (R:
  "no valid set of coefficients has been found"): an invalid first step is ``NONFINITE``.
* **Linear solve**: ``X^T W X`` and ``X^T W z`` come out of one product summed over row
  blocks (:class:`_Design`) and ``X^T W X`` is factorised by Cholesky (LAPACK; a
  column-skipping version where a pivot breaks down).
* **Rank**: decided once per fit, on ``W^1/2 X`` at the starting weights, by R's ``dqrdc2``
  rule: column ``j`` is *aliased* when its residual after projection on the earlier kept
  columns has at most ``sqrt(RANK_RTOL * eps)`` of its norm (``RANK_RTOL = 1000``: about
  ``5e-7`` in float64, where R uses ``1e-7``; ``1e-2`` in float32). The Gram matrix settles
  it when it is well conditioned (then no column is aliased; see :func:`_design_aliased`);
  otherwise a Gram-Schmidt QR does, since Gram pivots square the condition number and miss
  an exactly dependent column next to ill-conditioned ones. Aliased columns are dropped
  from every solve (coefficient 0, standard error 0), as ``dqrdc2`` aliases the later of
  collinear columns (R reports NA). A column whose pivot breaks down during the iterations
  (at most ``10 eps * G[j, j]``, when working weights collapse) is dropped from that solve
  too. A converged fit with aliased columns has status ``RANK_DEFICIENT``
  (``converged=True``). Penalised columns of a ridge fit (``l2 > 0``) are never aliased.
* **Separation** (binomial, unpenalised): the maximum likelihood estimate does not exist
  when a linear predictor separates successes from failures (Albert & Anderson 1984); IRLS
  then drives the deviance to 0 (or, for quasi-complete separation, to the deviance of the
  points on the separating hyperplane) and ``||beta||`` to infinity, and R's relative
  criterion is often met on the way. The fit reports ``separated=True`` (status
  ``SEPARATED``, ``converged=False``; the check takes priority over convergence) when the
  final iterate carries a *certificate* of separation, a direction ``d`` with ``X d >= 0``
  at every observation with successes, ``<= 0`` at every observation with failures and
  ``!= 0`` somewhere:

  - complete separation: ``d = beta`` itself, with ``X beta > 0`` / ``< 0`` strictly
    (every completely separated data set reaches this once the deviance is below
    ``2 log 2 x`` the smallest weight);
  - quasi-complete separation: ``d = beta`` minus its least-squares projection on the rows
    that are not fitted at ``|eta| > -log(sqrt(eps))`` on their own side, so that ``X d`` is
    0 on the hyperplane rows (zero judged to ``10 sqrt(eps) max|X beta|``).

  A certificate proves that no finite MLE exists, so (up to that rounding band) it cannot
  flag data whose MLE exists; on 1500 borderline ``overlap`` draws the flag agreed with a
  linear-programming separability check in every case in float64. The loop stops early,
  returning the last (finite) iterate, once the strict certificate holds *and* some fitted
  probability is numerically 0 or 1 by R's rule (``mu < 10 eps`` or ``mu > 1 - 10 eps``, eps
  of the dtype), i.e. where R warns "fitted probabilities numerically 0 or 1 occurred".
  In float32, IRLS on a separated data set can stall before reaching a certificate (the
  Gram matrix loses rank as the weights of the separated points fall below ``eps``); such
  a fit ends as ``rank_deficient`` or ``max_iter`` (seen in about 1 of 300 hard draws,
  never on the ``separable`` regime). Penalised fits (``l2 > 0``, ``firth=True``) have
  finite estimates on separated data, converge, and report ``separated=False``.
* **Invalid input** (status ``INVALID_INPUT``, coefficients, standard errors, deviances and
  scale all 0, ``n_iter`` 0, history all NaN): a NaN or inf in ``X``, ``y``, ``weights`` or
  ``offset``; a negative weight or no positive weight; ``y`` outside the family's support
  (binomial ``[0, 1]``, poisson ``>= 0``, gamma ``> 0``); no valid start (above); a traced
  ``l2 < 0`` or ``tol <= 0`` (concrete ones raise ``ValueError``).

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

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy.linalg import solve_triangular

from ._families import FAMILIES, Family
from ._links import LINKS, Link
from ._status import Status
from ._validate import check_choice, check_design, check_positive_int, float_dtype_of

__all__ = ["GLMResult", "fit", "predict", "MAX_HALVINGS", "RANK_RTOL", "TOL_FLOOR"]

MAX_HALVINGS = 25
"""Most step-halvings per IRLS iteration (R's ``glm.fit`` uses ``control$maxit``, 25)."""

RANK_RTOL = 1000.0
"""Column ``j`` is aliased when its residual norm after the earlier kept columns is at most
``sqrt(RANK_RTOL * eps)`` of its own norm (a Gram pivot of ``RANK_RTOL * eps * G[j, j]``)."""

_BREAKDOWN_RTOL = 10.0  # x eps x G[j, j]: a pivot lost to rounding at the current weights
_GATE_SAFETY = 10.0  # margin of the test that decides whether the Gram can settle the rank

TOL_FLOOR = 100.0
"""The convergence tolerance is at least ``TOL_FLOOR * eps`` of the computing dtype."""

_SEPARATION_EPS = 10.0  # R's glm.fit: "fitted probabilities numerically 0 or 1" at 10 eps
_QUASI_BAND = 10.0  # x sqrt(eps) x max|X beta|: rounding band of the quasi certificate

# Loop codes: why the IRLS loop stopped (internal; the public code is Status).
_RUNNING, _CONVERGED, _FAILED, _SEPARATION_STOP = 0, 1, 2, 3


class GLMResult(NamedTuple):
    """The result of :func:`fit` for one data set (under ``vmap``: a leading batch axis).

    All fields are arrays, so a batch of results is one pytree; the family and link are not
    stored (strings cannot be leaves): pass the same ones to :func:`predict`.

    Attributes:
        coef: ``[p]`` coefficients, one per column of ``X``; always finite. Aliased
            columns: 0. Separated: the last iterate. Invalid input or a failed first step:
            all 0.
        bse: ``[p]`` standard errors, ``sqrt(diag((X^T W X + l2 P)^{-1}) * scale)`` at ``coef``
            (inverse Fisher information; with ``l2``, of the penalised information; with
            Firth, ``(X^T W X)^{-1}`` as logistf's ``var``). Aliased columns: 0, the same
            columns as in ``coef``. NaN for a kept column whose pivot breaks down at the
            returned coefficients (the information no longer determines it).
        deviance: ``[]`` deviance at ``coef`` (without penalty terms); when the first step
            already fails (status ``NONFINITE``, ``n_iter`` 0), at R's starting values.
        null_deviance: ``[]`` deviance of the intercept-only model (with the offset) when
            column 0 of ``X`` is all ones, else of ``eta = offset``, as R's ``glm``.
        scale: ``[]`` dispersion: 1 for binomial and poisson; Pearson chi2 / (n - rank)
            otherwise (statsmodels; ``n`` counts observations with positive weight, as R).
            NaN when ``n <= rank``, where it is undefined (R: NaN; bse then NaN too).
        n_iter: ``[]`` int32, IRLS iterations done (R's ``iter``).
        converged: ``[]`` bool, status is ``CONVERGED`` or ``RANK_DEFICIENT``.
        separated: ``[]`` bool, the binomial data are (quasi-)completely separated, so the
            MLE does not exist; certified by the final iterate (see the module docstring).
        status: ``[]`` int32, a :class:`~models._status.Status` code.
        history: ``[max_iter]`` objective (deviance, plus penalties) after each iteration;
            NaN after the stop.
    """

    coef: jax.Array
    bse: jax.Array
    deviance: jax.Array
    null_deviance: jax.Array
    scale: jax.Array
    n_iter: jax.Array
    converged: jax.Array
    separated: jax.Array
    status: jax.Array
    history: jax.Array


class _LoopState(NamedTuple):
    """The IRLS loop carry: the iterate and why/whether to stop (diagnostics are separate)."""

    coef: jax.Array  # [p]
    eta: jax.Array  # [n], linear predictor including the offset
    mu: jax.Array  # [n], inverse link of eta (kept, not recomputed, for the next step)
    deviance: jax.Array  # [] at eta
    objective: jax.Array  # [] deviance plus penalties
    n_iter: jax.Array  # [] int32
    code: jax.Array  # [] int32, one of the _RUNNING.. codes
    history: jax.Array  # [max_iter]
    gram: jax.Array  # [p, p] X^T W X at eta (W the working weights there), no ridge
    rhs: jax.Array  # [p] X^T W z at eta
    aliased: jax.Array  # [p] bool, the columns the solve that gave coef left out


class _Evaluation(NamedTuple):
    """What a candidate linear predictor yields: its means, deviance and objective."""

    mu: jax.Array  # [n]
    deviance: jax.Array  # []
    objective: jax.Array  # []
    valid: jax.Array  # [] bool: objective finite and every mu in the mean space


# --- static checks --------------------------------------------------------------------------

def _resolve(family, link) -> tuple[Family, Link]:
    """Look up the family and link by name, raising ``ValueError`` with the choices."""
    family = check_choice("family", family, FAMILIES)
    fam = FAMILIES[family]
    if link is None:
        return fam, LINKS[fam.canonical_link]
    check_choice("link", link, LINKS)
    if link not in fam.links:
        raise ValueError(
            f"link {link!r} is not allowed for family {family!r}; "
            f"choose one of {', '.join(fam.links)} (default {fam.canonical_link!r})."
        )
    return fam, LINKS[link]


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


# --- linear algebra -------------------------------------------------------------------------
#
# The systems are p x p with p small (11 in the benchmarks) and, under ``vmap``, batched
# over thousands of data sets. The batched LAPACK Cholesky beats a ``lax.fori_loop`` over
# columns (dynamic slices of the whole batch each step) by 2-3x, so the column-skipping
# factorisation is only a fallback. Triangular solves with one right-hand side are
# unrolled for p up to _UNROLL_MAX: p (p + 1) / 2 elementwise operations over the batch,
# which XLA fuses, instead of a library call per matrix.

_UNROLL_MAX = 32  # largest p whose triangular solves (vector right-hand side) are unrolled


def _cholesky_skip(gram: jax.Array, rtol) -> tuple[jax.Array, jax.Array]:
    """Cholesky factor of ``gram`` that drops columns with (near-)zero pivots.

    Left-looking Cholesky. When the pivot of column ``j`` (its residual after the earlier,
    kept columns) is at most ``rtol * gram[j, j]`` (or not finite), row and column ``j`` of
    the factor become the unit vector ``e_j``: the factor is then that of the Gram matrix
    of the kept columns, embedded in the identity, and a solve with a right-hand side that
    is 0 at the aliased positions returns 0 there and the reduced solution elsewhere.

    Args:
        gram: ``[p, p]`` symmetric positive semi-definite matrix (only its lower triangle
            is read).
        rtol: relative pivot tolerance (scalar).

    Returns:
        ``(L, aliased)``: ``[p, p]`` lower-triangular factor with a positive diagonal, and
        ``[p]`` bool, True for the dropped columns.
    """
    p = gram.shape[0]
    idx = jnp.arange(p)
    threshold = rtol * jnp.diagonal(gram)

    def column(j, carry):
        factor, aliased = carry
        residual = gram[:, j] - factor @ factor[j, :]
        pivot = residual[j]
        bad = ~(pivot > threshold[j])  # also catches NaN and all-zero columns
        root = jnp.sqrt(jnp.where(bad, 1.0, pivot))
        unit = (idx == j).astype(gram.dtype)
        col = jnp.where(idx > j, residual / root, 0.0) + unit * root
        col = jnp.where(bad, unit, col)
        factor = factor.at[:, j].set(col)
        factor = factor.at[j, :].set(jnp.where(bad, unit, factor[j, :]))
        return factor, aliased.at[j].set(bad)

    init = (jnp.zeros_like(gram), jnp.zeros((p,), bool))
    return lax.fori_loop(0, p, column, init)


def _cholesky_skip_fast(gram: jax.Array, rtol) -> tuple[jax.Array, jax.Array]:
    """:func:`_cholesky_skip` by a library Cholesky (LAPACK, cuSOLVER) where it is safe.

    When every pivot of the plain factorisation is finite and above ``rtol * gram[j, j]``,
    no column is aliased and the two factors agree up to rounding. Otherwise (rank
    deficiency, NaN) the column-skipping factorisation is computed instead, through
    :func:`_when`: under ``vmap`` only batches that hold such a data set pay for it.
    """
    factor = lax.linalg.cholesky(gram, symmetrize_input=False)  # reads the lower triangle
    pivots = jnp.diagonal(factor) ** 2
    ok = jnp.all(jnp.isfinite(factor)) & jnp.all(pivots > rtol * jnp.diagonal(gram))
    no_alias = jnp.zeros(gram.shape[:1], bool)
    return _when(~ok, lambda gram: _cholesky_skip(gram, rtol), (gram,), (factor, no_alias))


def _drop(gram: jax.Array, aliased: jax.Array) -> jax.Array:
    """``gram`` with the rows and columns of the ``aliased [p]`` columns set to the identity's."""
    outer = aliased[:, None] | aliased[None, :]
    return jnp.where(outer, jnp.eye(gram.shape[0], dtype=gram.dtype), gram)


def _qr_aliased(A: jax.Array, rtol: float) -> jax.Array:
    """``[p]`` bool: columns of ``A [n, p]`` within ``rtol`` (relative) of the earlier kept ones.

    R's ``dqrdc2`` rule, by Gram-Schmidt with reorthogonalisation ("twice is enough",
    Giraud et al. 2005) instead of Householder: column ``j`` is aliased when its residual
    after projection on the earlier *kept* columns has at most ``rtol`` of its norm (all-zero
    and non-finite columns too). Unlike a pivot of ``A^T A`` this does not square the
    condition number, so an exactly collinear column is found next to ill-conditioned ones.
    """
    n, p = A.shape
    norms = jnp.sqrt(jnp.sum(A * A, axis=0))

    def column(j, carry):
        basis, aliased = carry  # basis [n, p]: orthonormal kept columns, zeros elsewhere
        v = A[:, j]
        for _ in range(2):
            v = v - basis @ (basis.T @ v)
        norm = jnp.sqrt(jnp.sum(v * v))
        bad = ~(norm > rtol * norms[j])
        basis = basis.at[:, j].set(jnp.where(bad, 0.0, v / jnp.where(bad, 1.0, norm)))
        return basis, aliased.at[j].set(bad)

    init = (jnp.zeros_like(A), jnp.zeros((p,), bool))
    return lax.fori_loop(0, p, column, init)[1]


def _design_aliased(X: jax.Array, working: jax.Array, gram: jax.Array, eps: float):
    """``[p]`` bool: the aliased columns of ``W^1/2 X`` (``gram`` its Gram matrix ``X^T W X``).

    Decided once per fit, at the starting weights (R decides at every iteration, from the
    same matrix). The Gram matrix settles it when it is well conditioned: if
    ``W^1/2 X`` had a dependent column, the computed Cholesky factor would be that of
    ``G + dG`` with ``|dG| <= p (p + 1) eps`` (columns scaled to unit norm; Higham 2002,
    Thm 10.3), so some variance inflation factor ``G[j, j] (G^{-1})[j, j]`` would be at least
    ``1 / (p^2 (p + 1) eps)``. Below that bound (with a safety factor of 10) no column is
    aliased. Above it, or when the factorisation fails, :func:`_qr_aliased` decides, through
    :func:`_when`: under ``vmap`` only batches holding such a data set pay for it.
    """
    p = gram.shape[0]
    factor = lax.linalg.cholesky(gram, symmetrize_input=False)
    inflation = jnp.diagonal(gram) * _inverse_diagonal(factor)
    bound = 1.0 / (_GATE_SAFETY * p * p * (p + 1) * eps)
    trusted = jnp.all(jnp.isfinite(factor)) & jnp.all(inflation < bound)
    rtol = math.sqrt(RANK_RTOL * eps)
    return _when(~trusted, lambda X, w: _qr_aliased(X * jnp.sqrt(w)[:, None], rtol),
                 (X, working), jnp.zeros((p,), bool))


def _solve_lower(factor: jax.Array, rhs: jax.Array) -> jax.Array:
    """Solve ``L x = rhs`` for lower-triangular ``L [p, p]``; ``rhs`` is ``[p]`` or ``[p, m]``.

    Unrolled into scalar arithmetic for a vector ``rhs`` and ``p <= _UNROLL_MAX``.
    """
    p = factor.shape[0]
    if p > _UNROLL_MAX or rhs.ndim > 1:
        return solve_triangular(factor, rhs, lower=True)
    x = []
    for i in range(p):
        acc = rhs[i]
        for k in range(i):
            acc = acc - factor[i, k] * x[k]
        x.append(acc / factor[i, i])
    return jnp.stack(x)


def _solve_upper_transposed(factor: jax.Array, rhs: jax.Array) -> jax.Array:
    """Solve ``L^T x = rhs`` for lower-triangular ``L [p, p]`` and ``rhs [p]``."""
    p = factor.shape[0]
    if p > _UNROLL_MAX:
        return solve_triangular(factor, rhs, lower=True, trans=1)
    x = [None] * p
    for i in reversed(range(p)):
        acc = rhs[i]
        for k in range(i + 1, p):
            acc = acc - factor[k, i] * x[k]
        x[i] = acc / factor[i, i]
    return jnp.stack(x)


def _cho_solve(factor: jax.Array, rhs: jax.Array) -> jax.Array:
    """Solve ``L L^T x = rhs`` by two triangular solves."""
    return _solve_upper_transposed(factor, _solve_lower(factor, rhs))


def _inverse_diagonal(factor: jax.Array) -> jax.Array:
    """``diag((L L^T)^{-1})``: the squared column norms of ``L^{-1}``."""
    p = factor.shape[0]
    inverse = solve_triangular(factor, jnp.eye(p, dtype=factor.dtype), lower=True)
    return jnp.sum(inverse**2, axis=0)


def _logdet(factor: jax.Array, aliased: jax.Array) -> jax.Array:
    """``log det`` of the Gram matrix of the kept columns."""
    return 2 * jnp.sum(jnp.where(aliased, 0.0, jnp.log(jnp.diagonal(factor))))


def _when(needed: jax.Array, compute, operands: tuple, default):
    """``compute(*operands)`` where ``needed``, else ``default``: a ``lax.cond`` that vmaps.

    Under ``vmap`` a ``lax.cond`` on a batched predicate runs both branches for every data
    set. This is a ``lax.while_loop`` that runs ``compute`` at most once: batched, it runs
    it once if any data set needs it (the others keep ``default``) and not at all if none
    does, so rare work (a certificate, a fallback) costs nothing on batches without it.
    ``compute`` must take every array it reads as an operand: they enter the loop masked
    by its flag, or XLA would hoist the work out of the loop (loop-invariant code
    motion) and run it whether needed or not.
    """
    def body(carry):
        running, _ = carry
        masked = jax.tree.map(lambda a: jnp.where(running, a, jnp.zeros_like(a)), operands)
        return jnp.zeros((), bool), compute(*masked)

    return lax.while_loop(lambda carry: carry[0], body, (needed, default))[1]


_GRAM_CHUNK = 64
"""Most rows per block when ``X^T W X`` is summed over row blocks (see :class:`_Design`)."""


class _Design(NamedTuple):
    """``X`` split into row blocks, in both orientations, for weighted Gram matrices.

    ``X^T W X`` is summed over blocks of at most ``_GRAM_CHUNK`` rows, each block a plain
    ``[p + 1, m] @ [m, p]`` product with both operands in their natural (row-major) layout.
    Under ``vmap`` XLA:CPU compiles the batch of small products (one per block and data
    set) and the sum over blocks into one fused kernel (YNNPACK), about twice as fast as
    one ``[n, p]^T [n, p]`` product per data set, which goes to a general GEMM. The extra
    row of the left operand carries ``W z``, so the right-hand side ``X^T W z`` comes out of
    the same product. Rows added to fill the last block are 0 and get weight 0. Built once
    per fit: one transposed copy of ``X``.
    """

    blocks: jax.Array  # [k, m, p] row blocks of X (zero rows appended)
    blocks_t: jax.Array  # [k, p, m] the same blocks, transposed

    @classmethod
    def of(cls, X: jax.Array) -> _Design:
        n, p = X.shape
        n_blocks = -(-n // _GRAM_CHUNK)
        rows = -(-n // n_blocks)
        if n_blocks * rows != n:
            X = jnp.pad(X, ((0, n_blocks * rows - n), (0, 0)))
        blocks = X.reshape(n_blocks, rows, p)
        # One transpose of the blocks. Written as X^T followed by a move of whole rows, XLA
        # (in the whole fit, under vmap) made it two passes with an odd layout in between:
        # 3 ms of a 13 ms chunk of 256 fits (n = 200, p = 11, float64). This form measured
        # 6-13% more fits/s in interleaved runs, with bitwise equal results.
        blocks_t = jnp.transpose(blocks, (0, 2, 1))
        return cls(blocks, blocks_t)

    def normal_equations(self, working: jax.Array, wz: jax.Array):
        """``(X^T W X, X^T wz)`` for weights ``working [n]`` and ``wz [n]``."""
        n_blocks, rows, p = self.blocks.shape
        fill = n_blocks * rows - working.shape[0]

        def split(v):
            return jnp.pad(v, (0, fill)).reshape(n_blocks, 1, rows)

        left = jnp.concatenate([self.blocks_t * split(working), split(wz)], axis=1)
        product = jnp.sum(jnp.matmul(left, self.blocks), axis=0)
        return product[:p], product[p]

    def gram(self, working: jax.Array) -> jax.Array:
        """``X^T W X`` for weights ``working [n]``."""
        # Through the same augmented product: measured 7% faster per fit than the bare
        # [p, m] @ [m, p] one, which XLA rewrites into a product with a transposed operand.
        return self.normal_equations(working, working)[0]


# --- the fit ----------------------------------------------------------------------------------

def _fit_core(X, y, weights, offset, l2, tol, *, family: str, link: str, firth: bool,
              max_iter: int) -> GLMResult:
    fam, lnk = FAMILIES[family], LINKS[link]
    dtype = float_dtype_of(*[a for a in (X, y, weights, offset) if a is not None])
    X = jnp.asarray(X, dtype)
    y = jnp.asarray(y, dtype)
    n, p = X.shape
    prior = jnp.ones((n,), dtype) if weights is None else jnp.asarray(weights, dtype)
    off = jnp.zeros((n,), dtype) if offset is None else jnp.asarray(offset, dtype)
    l2 = jnp.asarray(l2, dtype)
    tol = jnp.asarray(tol, dtype)
    eps = float(jnp.finfo(dtype).eps)
    tol_eff = jnp.maximum(tol, TOL_FLOOR * eps)
    rank_rtol = RANK_RTOL * eps
    breakdown_rtol = _BREAKDOWN_RTOL * eps
    penalised = jnp.ones((p,), dtype).at[0].set(0.0)  # column 0 is the intercept
    positive = prior > 0
    ml_binomial = fam.name == "binomial" and not firth  # static: can separation be reported?

    # --- data checks: per data set, never an exception --------------------------------------
    invalid = ~(
        jnp.all(jnp.isfinite(X)) & jnp.all(jnp.isfinite(y)) & jnp.all(jnp.isfinite(prior))
        & jnp.all(jnp.isfinite(off)) & jnp.all(prior >= 0) & jnp.any(positive)
        & jnp.all(fam.valid_y(y)) & jnp.isfinite(l2) & (l2 >= 0) & (tol > 0)
    )

    def irls_weights(eta, mu):
        """``d mu / d eta`` and the working weights ``W`` at ``eta`` (``mu`` its mean)."""
        mu_eta = lnk.inverse_deriv(eta)
        working = prior * mu_eta**2 / fam.variance(mu)
        return mu_eta, jnp.where(positive, working, 0.0)

    design = _Design.of(X)
    ridge = jnp.diag(l2 * penalised)

    def general_deviance(y, mu, prior):
        return jnp.sum(fam.deviance_residuals(y, mu, prior))

    if fam.binary_deviance is None:
        deviance_of = partial(general_deviance, y, prior=prior)
    else:
        binary = jnp.all((y == 0) | (y == 1))

        def deviance_of(mu):
            # The cheaper formula where every y is 0 or 1; the general one only for data
            # sets with proportions (and, under vmap, only in batches that hold one).
            cheap = jnp.sum(fam.binary_deviance(y, mu, prior))
            return _when(~binary, general_deviance, (y, mu, prior), cheap)

    def evaluate(eta, coef) -> _Evaluation:
        """-2 x penalised log-likelihood (up to a constant) at ``eta``, and its validity."""
        mu = lnk.inverse(eta)
        deviance = deviance_of(mu)
        value = deviance + l2 * jnp.sum(penalised * coef**2)
        if firth:
            gram = _drop(design.gram(irls_weights(eta, mu)[1]) + ridge, dropped)
            value = value - _logdet(*_cholesky_skip_fast(gram, breakdown_rtol))
        valid = jnp.all(jnp.where(positive, fam.valid_mu(mu), True)) & jnp.isfinite(value)
        return _Evaluation(mu, deviance, value, valid)

    def splits_classes(eta):
        # Complete separation certificate: X beta > 0 wherever there are successes and < 0
        # wherever there are failures (the offset is not part of the separating direction).
        linear = eta - off
        ok_success = jnp.where(positive & (y > 0), linear > 0, True)
        ok_failure = jnp.where(positive & (y < 1), linear < 0, True)
        return jnp.all(ok_success) & jnp.all(ok_failure)

    def normal_equations(eta, mu):
        """``(X^T W X, X^T W z)`` at ``eta``: the system of the next IRLS step."""
        mu_eta, working = irls_weights(eta, mu)
        z = eta - off + (y - mu) / mu_eta
        return design.normal_equations(working, working * z)

    # --- start: R's mustart -----------------------------------------------------------------
    eta0 = lnk.link(fam.start_mu(y, prior))
    mu0 = lnk.inverse(eta0)
    gram0, rhs0 = normal_equations(eta0, mu0)
    # The rank of the design, decided once at the starting weights. Penalised columns of a
    # ridge fit are never aliased: the penalty makes their solution unique.
    dropped = _design_aliased(X, irls_weights(eta0, mu0)[1], gram0, eps)
    dropped = dropped & ~((l2 > 0) & (penalised > 0))
    start = evaluate(eta0, jnp.zeros((p,), dtype))
    if firth:
        obj0, start_ok = start.objective, start.valid
    else:  # the start has no coefficients, so no ridge term; R's devold
        obj0, start_ok = start.deviance, jnp.isfinite(start.deviance)
    start_ok = start_ok & jnp.all(jnp.where(positive, jnp.isfinite(eta0), True))
    invalid = invalid | ~start_ok

    def cond(state: _LoopState):
        return (state.code == _RUNNING) & (state.n_iter < max_iter)

    def body(state: _LoopState) -> _LoopState:
        gram, rhs = state.gram + ridge, state.rhs
        factor, lost = _cholesky_skip_fast(_drop(gram, dropped), breakdown_rtol)
        aliased = dropped | lost
        if firth:
            # Hat values of the weighted design; aliased columns do not count.
            working = irls_weights(state.eta, state.mu)[1]
            scaled = X * jnp.sqrt(working)[:, None]
            kept = jnp.where(aliased[:, None], 0.0, scaled.T)
            hat = jnp.sum(_solve_lower(factor, kept) ** 2, axis=0)
            rhs = rhs + X.T @ (hat * (0.5 - state.mu))
        system_ok = jnp.all(jnp.isfinite(gram)) & jnp.all(jnp.isfinite(rhs))
        coef_full = _cho_solve(factor, jnp.where(aliased, 0.0, rhs))
        eta_full = X @ coef_full + off
        full = evaluate(eta_full, coef_full)

        first = state.n_iter == 0
        old = state.objective

        def acceptable(candidate: _Evaluation):
            rise = (candidate.objective - old) / (0.1 + jnp.abs(candidate.objective))
            return candidate.valid & (first | (rise < tol_eff))

        # Step-halving towards the previous coefficients (not possible on the first step),
        # as a loop that runs only while some step needs it (under vmap: some data set).
        # Halving a step whose system is not finite cannot help: it fails as it stands.
        def halve_cond(h):
            k, _, _, candidate = h
            return system_ok & ~first & ~acceptable(candidate) & (k < MAX_HALVINGS)

        def halve_body(h):
            k, coef, _, _ = h
            coef = (coef + state.coef) / 2
            eta = X @ coef + off
            return k + 1, coef, eta, evaluate(eta, coef)

        _, coef_new, eta_new, new = lax.while_loop(
            halve_cond, halve_body, (jnp.int32(0), coef_full, eta_full, full))
        accept = system_ok & acceptable(new)

        converged = jnp.abs(new.objective - old) / (jnp.abs(new.objective) + 0.1) < tol_eff
        code = jnp.where(converged, _CONVERGED, _RUNNING)
        if ml_binomial:
            extreme = ((new.mu < _SEPARATION_EPS * eps)
                       | (new.mu > 1 - _SEPARATION_EPS * eps))
            r_warning = jnp.any(positive & extreme)
            code = jnp.where(r_warning & splits_classes(eta_new) & (l2 == 0),
                             _SEPARATION_STOP, code)
        code = jnp.where(accept, code, _FAILED)
        recorded = (jnp.arange(max_iter) == state.n_iter) & accept
        eta_next = jnp.where(accept, eta_new, state.eta)
        mu_next = jnp.where(accept, new.mu, state.mu)
        # The next step's system, computed here so that after the last step it is the
        # one at the returned coefficients, which the standard errors need.
        gram_next, rhs_next = normal_equations(eta_next, mu_next)
        return _LoopState(
            coef=jnp.where(accept, coef_new, state.coef),
            eta=eta_next,
            mu=mu_next,
            deviance=jnp.where(accept, new.deviance, state.deviance),
            objective=jnp.where(accept, new.objective, old),
            n_iter=state.n_iter + accept.astype(jnp.int32),
            code=code.astype(jnp.int32),
            history=jnp.where(recorded, new.objective, state.history),
            gram=gram_next,
            rhs=rhs_next,
            aliased=jnp.where(accept, aliased, state.aliased),
        )

    init = _LoopState(
        coef=jnp.zeros((p,), dtype),
        eta=eta0,
        mu=start.mu,
        deviance=start.deviance,
        objective=obj0,
        n_iter=jnp.int32(0),
        code=jnp.where(invalid, _FAILED, _RUNNING).astype(jnp.int32),
        history=jnp.full((max_iter,), jnp.nan, dtype),
        gram=gram0,
        rhs=rhs0,
        aliased=dropped,
    )
    final = lax.while_loop(cond, body, init)
    coef, eta, mu, deviance = final.coef, final.eta, final.mu, final.deviance
    # A failure on the first step leaves no coefficients: eta is still the start.
    fitted = final.n_iter > 0

    # --- diagnostics at the returned coefficients -------------------------------------------
    # The columns the last solve left out are the aliased ones, for coef and bse alike. A
    # column that the information at the returned coefficients no longer determines (its
    # pivot broken down; possible only as working weights collapse, not seen in the tests)
    # has no standard error: NaN.
    aliased = final.aliased
    factor, lost = _cholesky_skip_fast(_drop(final.gram + ridge, aliased), breakdown_rtol)
    cov_diag = jnp.where(lost, jnp.nan, _inverse_diagonal(factor))  # diag of G^{-1}
    rank = p - jnp.sum(aliased)
    df_resid = jnp.sum(positive) - rank
    if fam.estimates_scale:
        pearson = jnp.sum(jnp.where(positive, prior * (y - mu) ** 2 / fam.variance(mu), 0.0))
        scale = jnp.where(df_resid > 0, pearson / jnp.maximum(df_resid, 1), jnp.nan)
    else:
        scale = jnp.ones((), dtype)
    bse = jnp.where(aliased, 0.0, jnp.sqrt(cov_diag * scale))
    null_deviance = _null_deviance(X, y, prior, off, offset is not None, deviance_of, lnk,
                                   fam, tol_eff, max_iter)

    separated = jnp.zeros((), bool)
    if ml_binomial:
        # The quasi-complete certificate needs a fitted extreme point (see
        # _quasi_separated) and only matters without the strict one: computed only then.
        strict = splits_classes(eta)
        candidates = _extreme_points(y, positive, eta, off, eps)
        quasi = _when(fitted & ~strict & (l2 == 0) & jnp.any(candidates),
                      partial(_quasi_separated, eps=eps, rank_rtol=rank_rtol),
                      (X, design, y, positive, coef, eta, off), jnp.zeros((), bool))
        separated = fitted & (strict | quasi) & (l2 == 0)
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
        null_deviance=jnp.where(invalid, zero, null_deviance),
        scale=jnp.where(invalid, zero, scale),
        n_iter=jnp.where(invalid, 0, final.n_iter).astype(jnp.int32),
        converged=(status == Status.CONVERGED) | (status == Status.RANK_DEFICIENT),
        separated=separated & ~invalid,
        status=status,
        history=jnp.where(invalid, jnp.nan, final.history),
    )


def _extreme_points(y, positive, eta, off, eps: float):
    """``[n]`` bool: observations fitted beyond ``sqrt(eps)`` of 0 or 1 on their own side."""
    linear = eta - off
    threshold = -0.5 * math.log(eps)
    right_side = ((y >= 1) & (linear > 0)) | ((y <= 0) & (linear < 0))
    return positive & right_side & (jnp.abs(eta) > threshold)


def _quasi_separated(X, design: _Design, y, positive, coef, eta, off, *, eps: float,
                     rank_rtol):
    """Whether ``coef`` yields a certificate of (quasi-)complete separation.

    Observations whose fitted probability is beyond ``sqrt(eps)`` of 0 or 1 on their own
    side (``|eta| > -log(sqrt(eps))``: 18 in float64, 8 in float32) are taken as the
    separated set ``E``; the rest, ``B``, as the points on the separating hyperplane. The
    candidate direction ``d`` is ``coef`` minus its least-squares projection on the rows of
    ``B`` (so ``X_B d = 0``). If ``X d`` is ``>= 0`` wherever there are successes, ``<= 0``
    wherever there are failures and nonzero somewhere, then moving along ``d`` never lowers
    the likelihood and raises it without bound: the MLE does not exist (Albert & Anderson
    1984). ``0`` is judged with a band of ``10 sqrt(eps) max|X coef|`` for rounding. Like the
    strict sign split, this can only fire on data that are separated (to within the band),
    whatever the partition: the partition only decides whether a certificate is found.
    With no point in ``E`` there is no certificate.
    """
    linear = eta - off
    extreme = _extreme_points(y, positive, eta, off, eps)
    boundary = (positive & ~extreme).astype(X.dtype)
    gram = design.gram(boundary)
    factor, aliased = _cholesky_skip(gram, rank_rtol)
    direction = coef - _cho_solve(factor, jnp.where(aliased, 0.0, gram @ coef))
    step = X @ direction
    band = _QUASI_BAND * math.sqrt(eps) * jnp.max(jnp.where(positive, jnp.abs(linear), 0.0))
    weakly_right = (jnp.where(positive & (y > 0), step >= -band, True)
                    & jnp.where(positive & (y < 1), step <= band, True))
    return jnp.any(extreme & (jnp.abs(step) > band)) & jnp.all(weakly_right)


def _null_deviance(X, y, prior, off, has_offset: bool, deviance, lnk: Link, fam: Family,
                   tol_eff, max_iter: int):
    """Deviance of the intercept-only model, as R's ``glm`` (and statsmodels) define it.

    With column 0 of ``X`` all ones the null model has one free intercept: without an offset
    its MLE is the weighted mean of ``y`` whatever the link; with an offset it is fitted by
    scalar Fisher scoring (R refits ``glm.fit`` on the intercept alone). Otherwise the null
    model is ``eta = offset``.
    """
    positive = prior > 0
    has_intercept = jnp.all(X[:, 0] == 1)

    if not has_offset:
        mean = jnp.sum(prior * y) / jnp.sum(prior)
        mu = jnp.where(has_intercept, jnp.broadcast_to(mean, y.shape), lnk.inverse(off))
    else:
        def cond(c):
            _, _, k, done = c
            return ~done & (k < max_iter)

        def body(c):
            eta, old, k, _ = c
            mu = lnk.inverse(eta)
            mu_eta = lnk.inverse_deriv(eta)
            working = jnp.where(positive, prior * mu_eta**2 / fam.variance(mu), 0.0)
            z = eta - off + (y - mu) / mu_eta
            eta = jnp.sum(working * z) / jnp.sum(working) + off
            new = deviance(lnk.inverse(eta))
            done = ~(jnp.abs(new - old) / (jnp.abs(new) + 0.1) >= tol_eff)  # NaN stops too
            return eta, new, k + 1, done

        eta0 = lnk.link(fam.start_mu(y, prior))
        inf = jnp.asarray(jnp.inf, y.dtype)
        eta, _, _, _ = lax.while_loop(cond, body, (eta0, inf, jnp.int32(0), jnp.zeros((), bool)))
        mu = lnk.inverse(jnp.where(has_intercept, eta, off))
    value = deviance(mu)
    return jnp.where(jnp.isnan(value), jnp.inf, value)


_fit_jit = jax.jit(_fit_core, static_argnames=("family", "link", "firth", "max_iter"))


def fit(X, y, family: str = "binomial", link: str | None = None, *, weights=None,
        offset=None, l2=0.0, firth: bool = False, tol=1e-8, max_iter: int = 25) -> GLMResult:
    r"""Fit a generalised linear model to one data set by IRLS.

    Pure JAX, compiled once per shape, dtype and static setting: works unchanged under
    ``jax.jit`` and ``jax.vmap`` (a batch is ``jax.vmap(fit)`` over a leading axis). Data
    problems never raise inside traced code; they are reported in ``status`` (see the
    module docstring for the algorithm, the separation rule and the status codes).

    Args:
        X: ``[n, p]`` design matrix for ONE data set. The caller supplies the intercept:
            column 0 is taken to be it (it is not penalised by ``l2``; the null model
            uses it when it is all ones).
        y: ``[n]`` response. Binomial: a proportion in ``[0, 1]`` (0/1 labels, or
            successes / trials with ``weights`` = trials, as R's ``glm``); poisson: counts
            ``>= 0``; gamma: ``> 0``.
        family: ``"binomial"``, ``"poisson"``, ``"gaussian"`` or ``"gamma"``. Static.
        link: ``None`` for the canonical link (logit, log, identity, inverse), or one of
            the links the family allows (statsmodels' set): binomial logit, probit,
            cloglog, log, identity; poisson log, identity; gaussian and gamma identity,
            log, inverse. Static.
        weights: optional ``[n]`` prior weights, R's ``weights`` (statsmodels
            ``var_weights``): the deviance and the IRLS weights are multiplied by them.
            Zero weights drop observations (also from the residual df).
        offset: optional ``[n]`` offset added to the linear predictor.
        l2: ridge penalty ``l2 >= 0``: minimises ``deviance + l2 * sum(coef[1:]**2)``, i.e.
            ``-loglik + l2/2 ||coef[1:]||^2`` for binomial/poisson (scikit-learn's
            ``C = 1 / l2``). Column 0 is not penalised. May be traced.
        firth: Firth's bias-reduced logistic regression (binomial + logit only), as R's
            ``logistf``: maximises ``loglik + 1/2 log det(X^T W X)``. Finite on separated
            data. Static. Its Newton iteration uses the unpenalised information, as
            logistf's, so it converges linearly: at the default ``tol`` coefficients are
            within about ``1e-6`` (overlapping data) to ``1e-4`` (separated data) relative of
            the optimum; pass a smaller ``tol`` and a larger ``max_iter`` for more.
        tol: convergence tolerance on the relative change of the objective, R's
            ``epsilon`` (default ``1e-8``; raised to ``TOL_FLOOR * eps`` of the dtype, which
            only matters in float32). May be traced.
        max_iter: most IRLS iterations, R's ``maxit`` (default 25). Static.

    Returns:
        A :class:`GLMResult`; ``history`` has length ``max_iter``.

    Raises:
        ValueError: before any tracing, for an unknown family or link, a link the family
            does not allow, ``firth`` with anything but binomial + logit, wrong ranks or
            mismatched shapes of ``X``, ``y``, ``weights``, ``offset``, ``max_iter < 1``,
            ``tol <= 0``, ``l2 < 0`` (the last two when not traced).

    Example:
        >>> res = fit(X, y)                                   # logistic regression
        >>> res = fit(X, counts, "poisson", offset=jnp.log(exposure))
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
    if firth and (fam.name, lnk.name) != ("binomial", "logit"):
        raise ValueError(
            "firth=True is Firth's logistic regression: use family='binomial' with "
            f"link='logit' (got family={fam.name!r}, link={lnk.name!r})."
        )
    _check_scalar("tol", tol, strictly_positive=True)
    _check_scalar("l2", l2, strictly_positive=False)
    return _fit_jit(X, y, weights, offset, l2, tol, family=fam.name, link=lnk.name,
                    firth=firth, max_iter=max_iter)


def predict(result: GLMResult, X, *, family: str = "binomial", link: str | None = None,
            offset=None) -> jax.Array:
    """Fitted means ``mu = g^{-1}(X coef + offset)`` of a fit, for new rows ``X``.

    The result does not store its family and link (they are strings; results stay pytrees
    of arrays so that batches of them vmap): pass the ones given to :func:`fit`.

    Args:
        result: a :class:`GLMResult` for one data set (``coef [p]``; for a batch use
            ``jax.vmap(predict)``).
        X: ``[m, p]`` design matrix with the same columns as in the fit.
        family: the family of the fit (only used to check the link).
        link: the link of the fit, ``None`` for the family's canonical link.
        offset: optional ``[m]`` offset.

    Returns:
        ``[m]`` means; for binomial, probabilities (clipped to ``[eps, 1 - eps]``).

    Raises:
        ValueError: for an unknown family or link, or shapes that do not match.
    """
    _, lnk = _resolve(family, link)
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
