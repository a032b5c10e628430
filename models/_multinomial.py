r"""The multinomial logistic GLM by Newton's method, one data set per call.

With reference class 0, :math:`K` classes and ``B = [b_1 ... b_{K-1}]`` (``[p, K-1]``,
statsmodels ``MNLogit``'s ``params``), the linear predictors are
:math:`\eta_{ik} = x_i^\top b_k` (:math:`\eta_{i0} = 0`), the probabilities
:math:`\pi_{ik} = e^{\eta_{ik}} / \sum_j e^{\eta_{ij}}`, and the log-likelihood of labels
:math:`k_i` with prior weights :math:`w_i`

.. math::

    \ell(B) = \sum_i w_i \Big(\eta_{i k_i} - \log \sum_j e^{\eta_{ij}}\Big).

Its score and (expected = observed, the link being canonical) information, in blocks of the
classes ``k, l = 1 .. K-1``, are

.. math::

    g_k = \sum_i w_i (y_{ik} - \pi_{ik})\, x_i, \qquad
    I_{kl} = \sum_i w_i\, \pi_{ik} (\delta_{kl} - \pi_{il})\, x_i x_i^\top .

Newton's method runs on ``theta = vec(B)`` (class-major, :mod:`models._kesler`): the
``K(K-1)/2`` distinct blocks come out of one pass over ``X`` (``Design.normal_equations``
with one weighting per block; on CPU the native kernel), the ``p(K-1)`` system is factorised
by the column-skipping Cholesky of the binary GLM. As statsmodels, it starts at ``B = 0``.
The rest is the binary GLM's (:mod:`models._glm`):

* **Convergence**: R's rule on the deviance ``D = -2 ell``,
  ``|D - D_old| / (|D| + 0.1) < tol`` (``tol`` at least ``TOL_FLOOR eps``). statsmodels'
  Newton stops instead when no coefficient moves by more than ``1e-8``, which took it one or
  two iterations more than this rule on every test set (``tests/test_multinomial.py``
  counts them), with coefficients that agree to ``1e-6``.
* **Step-halving** of a step that raises ``D`` or leaves the finite numbers.
* **Rank**: columns of ``X`` aliased at the prior weights (R's ``dqrdc2`` rule) are
  dropped in every class block (coefficient 0, standard error 0): ``RANK_DEFICIENT``.
* **Separation**: no MLE exists when some class scores can order every observation's own
  class first (Albert & Anderson 1984); :mod:`models._kesler` decides it with the binary
  linear program on Kesler's rows, from the fit's own certificates where they suffice. A
  separated data set has status ``SEPARATED``; the loop stops early once the coefficients
  classify every observation strictly and some fitted probability is numerically 0 or 1.
* **Failures are data**: NaN or inf in ``X`` or ``weights``, a label that is not a class,
  a negative weight or none positive give ``INVALID_INPUT`` (all statistics 0).

References:
    McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed., §6.4.
    Albert, A. and Anderson, J. A. (1984). Biometrika 71, 1-10.
    Seabold, S. and Perktold, J. (2010). statsmodels ``MNLogit``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from ._batching import batched_rule, check_group_size, lane_bytes, run_in_groups, vmapped_lanes
from ._certificates import verdict_dtype
from ._irls import MAX_HALVINGS
from ._kesler import (
    fitted_multipliers,
    multinomial_verdict,
    to_matrix,
)
from ._lanes import all_finite, class_labels
from ._linalg import (
    UNROLL_MAX,
    Design,
    cho_solve,
    cholesky_skip_fast,
    cholesky_skip_inverse,
    design_aliased,
    drop,
)
from ._problem import BREAKDOWN_RTOL, TOL_FLOOR
from ._rows import concrete, pad
from ._separation import SEPARATION_EPS, Separation, verdict_of
from ._status import Status
from ._validate import check_design, check_n_classes, check_positive_int, float_dtype_of

__all__ = ["MultinomialResult", "fit", "predict"]


class MultinomialResult(NamedTuple):
    """What :func:`fit` reports for one data set (a leading axis under ``vmap``).

    Attributes:
        coef: ``[p, K-1]`` coefficients of classes ``1 .. K-1`` against class 0
            (statsmodels ``MNLogit``'s ``params``); always finite; 0 for aliased columns
            and invalid input; the last iterate where separated.
        bse: ``[p, K-1]`` standard errors, ``sqrt(diag(I^{-1}))`` at ``coef``; 0 where
            aliased; NaN where the information no longer determines a column.
        loglik: ``[]`` the log-likelihood at ``coef`` (statsmodels ``llf``).
        deviance: ``[]`` ``-2 loglik``.
        null_deviance: ``[]`` deviance of the intercept-only model (the class shares) when
            column 0 of ``X`` is all ones, else of ``B = 0`` (``2 sum w log K``).
        n_iter: ``[]`` int32 Newton iterations done.
        converged: ``[]`` bool: status ``CONVERGED`` or ``RANK_DEFICIENT``.
        separated: ``[]`` bool: the classes are (quasi-)separated; no finite MLE.
        separation: ``[]`` int32 :class:`~models._separation.Separation` code, or
            ``not_checked`` with ``separation=False``.
        status: ``[]`` int32 :class:`~models._status.Status` code.
        history: ``[max_iter]`` deviance after each iteration, NaN after the stop.
    """

    coef: jax.Array
    bse: jax.Array
    loglik: jax.Array
    deviance: jax.Array
    null_deviance: jax.Array
    n_iter: jax.Array
    converged: jax.Array
    separated: jax.Array
    separation: jax.Array
    status: jax.Array
    history: jax.Array


class _Data(NamedTuple):
    X: jax.Array  # [n, p]
    design: Design
    labels: jax.Array  # [n] int32
    onehot: jax.Array  # [n, K-1] indicators of classes 1 .. K-1
    prior: jax.Array  # [n], 0 where not positive
    positive: jax.Array  # [n] bool
    dropped: jax.Array  # [P] bool, aliased columns in every block
    invalid: jax.Array  # [] bool
    tol: jax.Array  # []


class _State(NamedTuple):
    theta: jax.Array  # [P]
    eta: jax.Array  # [n, K] at theta, class 0 first
    probs: jax.Array  # [n, K] at theta
    deviance: jax.Array  # []
    info: jax.Array  # [P, P] at theta
    score: jax.Array  # [P] at theta
    aliased: jax.Array  # [P]
    n_iter: jax.Array
    code: jax.Array  # _RUNNING, _CONVERGED, _FAILED, _SEPARATION_STOP
    history: jax.Array


_RUNNING, _CONVERGED, _FAILED, _SEPARATION_STOP = 0, 1, 2, 3


def _scores(X, theta):
    """``[n, K]`` linear predictors ``X B``, class 0 first (all 0).

    Up to ``UNROLL_MAX`` columns as multiply-adds in a fixed order: a batched ``[n, p] @
    [p, K-1]`` product is both slower on CPU and rounded differently for different batch
    sizes, and a data set must give the same bits alone as in a batch.
    """
    n, p = X.shape
    B = to_matrix(theta, p)
    if p > UNROLL_MAX:
        eta = X @ B
    else:
        eta = X[:, :1] * B[:1]
        for a in range(1, p):
            eta = eta + X[:, a:a + 1] * B[a:a + 1]
    return jnp.concatenate([jnp.zeros((n, 1), X.dtype), eta], axis=1)


def _evaluate(d: _Data, theta):
    """``(eta [n, K], probs [n, K], deviance)`` at ``theta``, the exponentials computed once."""
    eta = _scores(d.X, theta)
    top = jnp.max(eta, axis=1, keepdims=True)
    exps = jnp.exp(eta - top)
    # The K terms added in a fixed order (as in _scores): XLA sums the rows of [n, K] and of
    # a batch's [B, n, K] in different orders.
    total = exps[:, :1]
    for k in range(1, exps.shape[1]):
        total = total + exps[:, k:k + 1]
    own = jnp.take_along_axis(eta, d.labels[:, None], axis=1)
    deviance = 2 * jnp.sum(d.prior * (top + jnp.log(total) - own)[:, 0])
    return eta, exps / total, deviance


def _system(d: _Data, probs, n_classes: int):
    """``(info [P, P], score [P])`` at the probabilities ``probs [n, K]``.

    The ``K(K-1)/2`` distinct blocks and the score come out of one pass over ``X``.
    """
    k1 = n_classes - 1
    probs = probs[:, 1:]
    pairs = [(k, j) for k in range(k1) for j in range(k, k1)]
    weights = jnp.stack([d.prior * probs[:, k] * ((k == j) - probs[:, j]) for k, j in pairs])
    resid = d.prior[:, None] * (d.onehot - probs)
    rhs_w = jnp.stack([resid[:, k] if k == j else jnp.zeros_like(resid[:, 0])
                       for k, j in pairs])
    grams, rhs = d.design.normal_equations(weights, rhs_w)
    blocks = [[grams[0]] * k1 for _ in range(k1)]
    for index, (k, j) in enumerate(pairs):
        blocks[k][j] = grams[index]
        blocks[j][k] = grams[index]
    info = jnp.block(blocks)
    score = jnp.concatenate([rhs[pairs.index((k, k))] for k in range(k1)])
    return info, score


def _step(n_classes: int, d: _Data, st: _State) -> _State:
    eps = float(jnp.finfo(d.X.dtype).eps)
    factor, lost = cholesky_skip_fast(drop(st.info, d.dropped), BREAKDOWN_RTOL * eps)
    aliased = d.dropped | lost
    delta = cho_solve(factor, jnp.where(aliased, 0.0, st.score))
    old = st.deviance
    first = st.n_iter == 0

    def acceptable(dev):
        return jnp.isfinite(dev) & (first | ((dev - old) / (0.1 + jnp.abs(dev)) < d.tol))

    def halve(carry):
        h = carry[0] + 1
        theta = st.theta + delta * (0.5 ** h).astype(delta.dtype)
        return (h, theta, *_evaluate(d, theta))

    ok_system = jnp.all(jnp.isfinite(delta))
    theta = st.theta + delta
    _, theta, eta, probs, dev = lax.while_loop(
        lambda c: ok_system & ~acceptable(c[4]) & (c[0] < MAX_HALVINGS), halve,
        (jnp.int32(0), theta, *_evaluate(d, theta)))
    accept = ok_system & acceptable(dev)
    eta, probs = jnp.where(accept, eta, st.eta), jnp.where(accept, probs, st.probs)
    converged = jnp.abs(dev - old) / (jnp.abs(dev) + 0.1) < d.tol
    # Stop at a strict separation certificate once some fitted probability is numerically
    # 0 or 1 (R's warning for the binary GLM): the coefficients only grow from there.
    mine = jax.nn.one_hot(d.labels, n_classes, dtype=bool)
    own = jnp.sum(jnp.where(mine, eta, 0.0), axis=1)
    rival = jnp.max(jnp.where(mine, -jnp.inf, eta), axis=1)
    strict = jnp.all(jnp.where(d.positive, own > rival, True))
    extreme = jnp.any(d.positive[:, None] & (probs < SEPARATION_EPS * eps))
    code = jnp.select([~accept, strict & extreme, converged],
                      [_FAILED, _SEPARATION_STOP, _CONVERGED], _RUNNING).astype(jnp.int32)
    info, score = _system(d, probs, n_classes)
    return _State(jnp.where(accept, theta, st.theta), eta, probs, jnp.where(accept, dev, old),
                  info, score, jnp.where(accept, aliased, st.aliased),
                  st.n_iter + accept.astype(jnp.int32), code,
                  jnp.where((jnp.arange(st.history.shape[0]) == st.n_iter) & accept, dev,
                            st.history))


def _fit_one(X, y, prior, tol, *, n_classes: int, max_iter: int,
             separation: bool) -> MultinomialResult:
    dtype = X.dtype
    eps = float(jnp.finfo(dtype).eps)
    n, p = X.shape
    K = n_classes
    labels, labels_ok = class_labels(y, K)
    invalid = ~(labels_ok & all_finite((X, prior)) & jnp.all(prior >= 0) & jnp.any(prior > 0)
                & (tol > 0))
    positive = (prior > 0) & ~invalid
    X = jnp.where(invalid, 0.0, X)
    prior = jnp.where(positive, prior, 0.0)
    d = _Data(X, Design.of(X), labels, jax.nn.one_hot(labels - 1, K - 1, dtype=dtype), prior,
              positive, jnp.zeros(((K - 1) * p,), bool), invalid,
              jnp.maximum(tol, TOL_FLOOR * eps))
    theta0 = jnp.zeros(((K - 1) * p,), dtype)
    eta0, probs0, dev0 = _evaluate(d, theta0)
    info0, score0 = _system(d, probs0, K)
    # The rank of X at the prior weights, decided once: at B = 0 every diagonal block of the
    # information is X^T W X times (1/K)(1 - 1/K), so the first block serves.
    share = (1 / K) * (1 - 1 / K)
    aliased_x = design_aliased(X, share * prior, info0[:p, :p], eps)
    d = d._replace(dropped=jnp.tile(aliased_x, K - 1))
    init = _State(theta0, eta0, probs0, dev0, info0, score0, d.dropped, jnp.int32(0),
                  jnp.where(invalid, _FAILED, _RUNNING).astype(jnp.int32),
                  jnp.full((max_iter,), jnp.nan, dtype))
    final = lax.while_loop(lambda st: (st.code == _RUNNING) & (st.n_iter < max_iter),
                           functools.partial(_step, K, d), init)

    factor, lost, inverse = cholesky_skip_inverse(drop(final.info, final.aliased),
                                                  BREAKDOWN_RTOL * eps)
    bse = jnp.where(final.aliased, 0.0, jnp.sqrt(jnp.where(lost, jnp.nan, inverse)))
    bse = jnp.where(jnp.isinf(bse), jnp.nan, bse)

    separated = jnp.zeros((), bool)
    verdict = jnp.full((), Separation.NOT_CHECKED, jnp.int32)
    if separation:
        vtype = verdict_dtype(dtype)
        if vtype == dtype:
            dv, info, score = d, final.info, final.score
            solve_factor, aliased = factor, final.aliased
            theta, eta, probs = final.theta, final.eta, final.probs
        else:  # the verdict in float64 for a float32 fit: the system anew, in float64
            dv = d._replace(X=X.astype(vtype), design=Design.of(X.astype(vtype)),
                            onehot=d.onehot.astype(vtype), prior=prior.astype(vtype))
            theta = final.theta.astype(vtype)
            eta, probs, _ = _evaluate(dv, theta)
            info, score = _system(dv, probs, K)
            solve_factor, lost_v = cholesky_skip_fast(
                drop(info, final.aliased), BREAKDOWN_RTOL * float(jnp.finfo(vtype).eps))
            aliased = final.aliased | lost_v
        delta = cho_solve(solve_factor, jnp.where(aliased, 0.0, score), unrolled=False)
        lam = fitted_multipliers(dv.X, dv.prior, positive, probs, to_matrix(delta, p))
        checks = multinomial_verdict(dv.X, dv.design.columns, labels, positive, theta, eta,
                                     lam, ~invalid,
                                     n_classes=K, dtype=vtype)
        verdict = verdict_of(checks)
        separated = ~invalid & (checks.separated | checks.complete)

    fitted = final.n_iter > 0
    nonfinite = (final.code == _FAILED) | ~jnp.all(jnp.isfinite(final.theta)) | ~fitted
    converged = final.code == _CONVERGED
    status = jnp.select(
        [invalid, separated, nonfinite, converged & jnp.any(final.aliased), converged],
        [Status.INVALID_INPUT, Status.SEPARATED, Status.NONFINITE, Status.RANK_DEFICIENT,
         Status.CONVERGED], Status.MAX_ITER).astype(jnp.int32)
    ok = ~invalid & fitted & jnp.all(jnp.isfinite(final.theta))
    zero = jnp.zeros((), dtype)
    null = _null_deviance(d, K)
    return MultinomialResult(
        coef=jnp.where(ok, to_matrix(final.theta, p), 0.0),
        bse=jnp.where(ok, to_matrix(bse, p), 0.0),
        loglik=jnp.where(invalid, zero, -final.deviance / 2),
        deviance=jnp.where(invalid, zero, final.deviance),
        null_deviance=jnp.where(invalid, zero, null),
        n_iter=jnp.where(invalid, 0, final.n_iter).astype(jnp.int32),
        converged=(status == Status.CONVERGED) | (status == Status.RANK_DEFICIENT),
        separated=separated & ~invalid,
        separation=jnp.where(invalid, Separation.INVALID_INPUT, verdict).astype(jnp.int32),
        status=status,
        history=jnp.where(invalid, jnp.nan, final.history))


def _null_deviance(d: _Data, n_classes: int):
    """The intercept-only model's deviance (class shares), or ``B = 0``'s without intercept."""
    counts = jnp.sum(d.prior[:, None] * jax.nn.one_hot(d.labels, n_classes, dtype=d.X.dtype),
                     axis=0)
    total = jnp.sum(counts)
    # No counts / total: XLA makes a division by a scalar a product with its reciprocal
    # alone but not in a batch. The K terms in a fixed order, as in _evaluate.
    logs = jnp.log(jnp.where(counts > 0, counts, 1.0)) - jnp.log(total)
    terms = jnp.where(counts > 0, counts * logs, 0.0)
    shares = terms[0]
    for k in range(1, n_classes):
        shares = shares + terms[k]
    shares = -2 * shares
    has_intercept = jnp.all(d.X[:, 0] == 1)
    return jnp.where(has_intercept, shares, 2 * total * jnp.log(n_classes))


def _fit_core(X, y, weights, tol, *, n_classes: int, max_iter: int, separation: bool,
              group_size):
    dtype = float_dtype_of(*[a for a in (X, weights) if a is not None])
    X = jnp.asarray(X, dtype)
    n, p = X.shape
    prior = jnp.ones((n,), dtype) if weights is None else jnp.asarray(weights, dtype)
    one = functools.partial(_fit_one, n_classes=n_classes, max_iter=max_iter,
                            separation=separation)

    def run_batch(axis_size, in_batched, *args):
        batch_fn, batched = vmapped_lanes(one, in_batched, args)
        # X and the K(K-1)/2 weightings of the information's blocks.
        cost = lane_bytes("glm", n, p + n_classes * (n_classes - 1) // 2, X.dtype.itemsize)
        return run_in_groups(batch_fn, batched, lane_bytes=cost, group_size=group_size)

    return batched_rule(one, run_batch)(X, y, prior, jnp.asarray(tol, dtype))


_fit_jit = jax.jit(_fit_core, static_argnames=("n_classes", "max_iter", "separation",
                                               "group_size"))


def fit(X: ArrayLike, y: ArrayLike, n_classes: int, *, weights: ArrayLike | None = None,
        max_iter: int = 25, tol: float = 1e-8, separation: bool = True,
        group_size: int | None = None) -> MultinomialResult:
    r"""Fit a multinomial logistic regression to one data set by Newton's method.

    Pure JAX: unchanged under ``jax.jit`` and ``jax.vmap`` (a batch is
    ``jax.vmap(functools.partial(fit, n_classes=K))``, run in cache-sized groups on CPU).
    The model, the algorithm and the statuses are in the module docstring.

    Args:
        X: ``[n, p]`` design matrix (intercept column included by the caller).
        y: ``[n]`` class labels ``0 .. n_classes - 1``; class 0 is the reference.
        n_classes: ``K >= 2`` (static). ``K = 2`` is the binary logistic GLM.
        weights: optional ``[n]`` prior (frequency) weights.
        max_iter: Newton iterations at most (static; statsmodels' default is 35).
        tol: R's relative deviance tolerance (raised to ``TOL_FLOOR eps`` of the dtype).
        separation: give the separation verdict (static); ``False`` leaves a separated
            data set to end ``max_iter`` or ``converged``, as statsmodels does.
        group_size: under ``jax.vmap``, data sets per group (static).

    Returns:
        A :class:`MultinomialResult`; ``history`` has length ``max_iter``.

    Raises:
        ValueError: before any tracing, for wrong ranks or shapes, ``n_classes < 2``,
            ``max_iter < 1``, or a concrete ``tol <= 0``.

    Example:
        >>> res = fit(X, y, 3)                                   # like MNLogit(y, X).fit()
        >>> batch = jax.jit(jax.vmap(lambda X, y: fit(X, y, 3)))(X_batch, y_batch)
    """
    check_design(X, y, name="multinomial.fit", weights=weights)
    n_classes = check_n_classes(n_classes, name="multinomial.fit")
    max_iter = check_positive_int("max_iter", max_iter)
    if not isinstance(tol, jax.core.Tracer) and not float(tol) > 0:
        raise ValueError(f"tol must be a number > 0, got {tol!r}.")
    if not isinstance(separation, bool):
        raise ValueError(f"separation must be True or False, got {separation!r}.")
    if concrete(X, y, weights):
        # Rows padded to a bucket (weight 0), so that many sizes share a few programs.
        dtype = float_dtype_of(*[a for a in (X, weights) if a is not None])
        X, y, weights, _ = pad(X, y, weights, None, dtype)
    return _fit_jit(X, y, weights, tol, n_classes=n_classes, max_iter=max_iter,
                    separation=separation, group_size=check_group_size(group_size))


def predict(result: MultinomialResult, X: ArrayLike) -> jax.Array:
    """``[m, K]`` class probabilities of a fit for new rows ``X [m, p]``.

    Raises:
        ValueError: for a batch of results (use ``jax.vmap(predict)``) or mismatched shapes.
    """
    coef = result.coef
    if jnp.ndim(coef) != 2:
        raise ValueError(f"predict: result.coef must be [p, K-1] (one data set), got shape "
                         f"{jnp.shape(coef)}; for a batch use jax.vmap(predict).")
    if jnp.ndim(X) != 2 or jnp.shape(X)[1] != jnp.shape(coef)[0]:
        raise ValueError(f"predict: X must be [m, p] with p = {jnp.shape(coef)[0]} columns as "
                         f"in the fit, got shape {jnp.shape(X)}.")
    dtype = float_dtype_of(X, coef)
    eta = jnp.asarray(X, dtype) @ jnp.asarray(coef, dtype)
    eta = jnp.concatenate([jnp.zeros((eta.shape[0], 1), dtype), eta], axis=1)
    return jax.nn.softmax(eta, axis=1)
