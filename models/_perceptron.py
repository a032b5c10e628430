r"""Rosenblatt's perceptron with Gallant's pocket and Freund & Schapire's averaging, in JAX.

One data set per call; pure JAX, so ``jax.jit(jax.vmap(fit))`` trains thousands of data sets
in one compiled program. The online rule (Rosenblatt 1958), with labels
:math:`s_i = 2 y_i - 1 \in \{-1, +1\}` and :math:`w_0 = 0`, visits the samples in order and

.. math::

    w \leftarrow w + \eta\, s_i x_i \qquad \text{whenever } s_i\, w \cdot x_i \le 0 .

The inner ``lax.scan`` over samples is the hot loop, so its carry is only what the rule needs
(``w``, the epoch's mistake count, and the running weight sum when averaging); everything the
fit reports (pocket, history, status) is updated once per epoch in the outer
``lax.while_loop``. Under ``vmap`` a batching rule runs groups of data sets through one loop
with the data sets as the last (contiguous) axis, so each step of that loop vectorises across
data sets (see :func:`_fit_lanes`); on CPU the groups are sized to stay in cache
(:mod:`models._batching`). A single fit is the same loop with one lane.

References:
    F. Rosenblatt (1958). The perceptron: a probabilistic model for information storage and
    organization in the brain. Psychological Review 65(6), 386-408.

    A. B. J. Novikoff (1962). On convergence proofs on perceptrons. Symposium on the
    Mathematical Theory of Automata 12, 615-622.

    S. I. Gallant (1990). Perceptron-based learning algorithms. IEEE Transactions on Neural
    Networks 1(2), 179-191.

    Y. Freund and R. E. Schapire (1999). Large margin classification using the perceptron
    algorithm. Machine Learning 37(3), 277-296.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ._batching import check_group_size, lane_bytes, run_in_groups
from ._lanes import binary_data_valid, lane_mask, zero_invalid
from ._status import Status
from ._validate import check_choice, check_design, check_positive_int, float_dtype_of

__all__ = ["PerceptronResult", "fit", "predict", "DEFAULT_MAX_EPOCHS", "WEIGHTS"]

#: Default epoch budget. On separable data the perceptron stops by itself after at most
#: ``(R / gamma)**2 + 1`` epochs (Novikoff), usually far fewer; on non-separable data it never
#: stops, so the budget is pure cost. 100 epochs is enough for the benchmark's separable
#: regimes (margin >= 0.1 of the feature scale) and keeps the non-separable rows cheap;
#: raise it for thin margins.
DEFAULT_MAX_EPOCHS = 100

#: The weight vectors :func:`predict` can use.
WEIGHTS = ("coef", "pocket", "last")


class PerceptronResult(NamedTuple):
    r"""What a perceptron fit reports for one data set (add a leading axis under ``vmap``).

    Attributes:
        coef: ``[p]`` the fitted weights: the final online weights (same as ``last_coef``)
            by default; with ``averaged=True``, Freund & Schapire's average
            :math:`\bar w = \frac{1}{nT}\sum_{t=1}^{nT} w_t` of the weights after each of
            the ``n * n_iter`` sample visits.
        pocket_coef: ``[p]`` Gallant's pocket (with ratchet): of ``w = 0`` and the online
            weights at the end of every epoch, the first with the highest training accuracy.
        last_coef: ``[p]`` the online weights when the fit stopped.
        pocket_accuracy: scalar, the training accuracy of ``pocket_coef`` (rule of
            :func:`predict`); 0 for invalid input.
        n_iter: int32, epochs run (the last one has no mistakes when converged).
        n_updates: int32, total weight updates (= total mistakes) over all epochs.
        converged: bool, an epoch made no mistake: the training set is linearly separated by
            ``last_coef`` (with margin > 0 on every point).
        status: int32 :class:`~models.Status`: ``CONVERGED``, ``MAX_ITER``, ``NONFINITE``
            (weights overflowed; the weights of the last finite epoch are kept) or
            ``INVALID_INPUT`` (NaN/inf in ``X`` or ``y``, or a label outside {0, 1}; every
            coefficient is then 0).
        history: ``[max_epochs]`` float, mistakes made in each epoch; NaN after the stop.
    """

    coef: jax.Array
    pocket_coef: jax.Array
    last_coef: jax.Array
    pocket_accuracy: jax.Array
    n_iter: jax.Array
    n_updates: jax.Array
    converged: jax.Array
    status: jax.Array
    history: jax.Array


class _EpochState(NamedTuple):
    """The outer loop's carry, lanes last (never returned: see :class:`PerceptronResult`)."""

    epoch: jax.Array  # [L] int32, epochs completed
    w: jax.Array  # [p, L] online weights
    w_sum: jax.Array | None  # [p, L] sum of w over all sample visits (averaged only)
    pocket_w: jax.Array  # [p, L]
    pocket_correct: jax.Array  # [L] int32, training points pocket_w classifies correctly
    n_updates: jax.Array  # [L] int32
    history: jax.Array  # [max_epochs, L]
    status: jax.Array  # [L] int32, what to report if the loop ended now
    done: jax.Array  # [L] bool


#: Up to this many features, :func:`_margins` adds the ``p`` products in straight-line code;
#: above it, in a ``fori_loop`` (constant program size).
_UNROLL_FEATURES = 32


def _margins(X, w):
    """``X @ w`` of every lane: ``X [n, p, L]``, ``w [p, L]`` -> ``[n, L]``.

    Written as ``p`` elementwise multiply-adds over ``[n, L]`` rather than a reduction over
    the middle axis: XLA:CPU lowers that reduction to a library call that took 1.2 ms for
    n = 200, p = 11, L = 256 (float32), against 0.07 ms for the unrolled adds and 0.17 ms
    for the loop (``n`` times the cost of a whole epoch of updates).
    """
    p = X.shape[1]
    if p <= _UNROLL_FEATURES:
        total = X[:, 0] * w[0][None]
        for j in range(1, p):
            total = total + X[:, j] * w[j][None]
        return total
    return lax.fori_loop(1, p, lambda j, total: total + X[:, j] * w[j][None],
                         X[:, 0] * w[0][None])


def _n_correct(X, y, w):
    # The rule of predict(): class 1 iff X @ w > 0 (w = 0 predicts class 0 everywhere).
    # X [n, p, L], y [n, L], w [p, L] -> [L].
    return jnp.sum((_margins(X, w) > 0) == (y > 0.5), axis=0, dtype=jnp.int32)


#: Batches of at least this many lanes finish their stragglers in a smaller batch (see
#: :func:`_fit_lanes`); a single fit never does.
_COMPACT_MIN_LANES = 64

#: The straggler batch is ``1 / _COMPACT_FACTOR`` of the lanes.
_COMPACT_FACTOR = 4


def _fit_lanes(X, y, keys, *, max_epochs: int, lr: float, averaged: bool) -> PerceptronResult:
    """Fit ``L`` independent data sets at once, with the lane axis last.

    The rule is sequential over samples, so each step of the hot loop is tiny: one dot
    product and one update of ``p`` numbers per data set. With data sets as the last
    (contiguous) axis, a step is a few elementwise passes over ``[p, L]`` that vectorise
    across data sets, and the sample read ``X[i]`` is one contiguous block. Plain ``vmap``
    puts the data-set axis first instead, so every step gathers ``L`` rows ``n p`` numbers
    apart and reduces along the short ``p`` axis: on XLA:CPU (256 data sets, n = 200,
    p = 11, float32) a step took 2.2 us that way and 0.65 us this way.

    With at least :data:`_COMPACT_MIN_LANES` lanes, the lanes still running once only a
    quarter are left finish in a batch a quarter the size (on separable data, where
    stopping times are ragged: 1000 fits of 200 points, 32.8k -> 42.4k fits/s). Each lane
    computes exactly what it computes alone, so results do not depend on the batch.

    Args:
        X: ``[n, p, L]`` design matrices.
        y: ``[n, L]`` labels.
        keys: ``[L]`` shuffling keys, or None for the data order.
        max_epochs: epoch budget (see :func:`fit`).
        lr: step size (see :func:`fit`).
        averaged: also keep the running weight sum (see :func:`fit`).

    Returns:
        :class:`PerceptronResult` with the lane axis last in every field.
    """
    n, p, lanes = X.shape
    dtype = X.dtype
    valid = binary_data_valid(X, y, lanes_last=True)
    # A bad data set still runs through the loop body with the others, so give it harmless
    # zeros; its lane starts done and reports INVALID_INPUT.
    (X,) = zero_invalid(lane_mask(valid, X), X)
    (y,) = zero_invalid(lane_mask(valid, y), y)
    signs = 2 * y - 1
    step_size = jnp.asarray(lr, dtype)
    zero = jnp.zeros((), dtype)

    def visit(carry, sample):
        x_i, s_i = sample  # [p, L], [L]
        if averaged:
            w, mistakes, w_sum = carry
        else:
            w, mistakes = carry
        # Not "<= 0": a NaN margin (inf - inf once x.w overflows) is a mistake, never a
        # correct prediction, so a lane cannot stop as converged on predictions it cannot make.
        mistake = ~(s_i * jnp.sum(x_i * w, axis=0) > 0)
        w = w + jnp.where(mistake, step_size * s_i, zero)[None] * x_i
        mistakes = mistakes + mistake.astype(jnp.int32)
        if averaged:
            return (w, mistakes, w_sum + w), None
        return (w, mistakes), None

    def epoch_body(data, state: _EpochState) -> _EpochState:
        X, y, signs, keys = data
        lanes = X.shape[-1]
        if keys is None:
            samples = (X, signs)
        else:
            # Lane l visits its samples in the order permutation(fold_in(key_l, epoch_l), n).
            order = jax.vmap(
                lambda key, epoch: jax.random.permutation(jax.random.fold_in(key, epoch), n),
                out_axes=1,
            )(keys, state.epoch)  # [n, L]
            samples = (jnp.take_along_axis(X, order[:, None, :], axis=0),
                       jnp.take_along_axis(signs, order, axis=0))
        no_mistakes = jnp.zeros((lanes,), jnp.int32)
        init: tuple[jax.Array, ...] = ((state.w, no_mistakes) if state.w_sum is None
                                       else (state.w, no_mistakes, state.w_sum))
        carry, _ = lax.scan(visit, init, samples)
        w, mistakes = carry[0], carry[1]
        w_sum = carry[2] if averaged else None

        finite = jnp.all(jnp.isfinite(w), axis=0)
        if w_sum is not None:
            finite = finite & jnp.all(jnp.isfinite(w_sum), axis=0)
        # Pocket at epoch ends: O(n p) once per epoch instead of once per update; the
        # ratchet (strictly better only) keeps the earliest best weights.
        correct = _n_correct(X, y, w)
        better = finite & (correct > state.pocket_correct)
        converged = finite & (mistakes == 0)
        epoch = state.epoch + 1

        status = jnp.where(
            ~finite,
            jnp.int32(Status.NONFINITE),
            jnp.where(converged, jnp.int32(Status.CONVERGED), state.status),
        )
        this_epoch = jnp.arange(max_epochs)[:, None] == state.epoch[None]
        # A non-finite epoch is discarded whole: weights, counts and history stay as they were.
        new = _EpochState(
            epoch=jnp.where(finite, epoch, state.epoch),
            w=jnp.where(finite[None], w, state.w),
            w_sum=(None if w_sum is None or state.w_sum is None
                   else jnp.where(finite[None], w_sum, state.w_sum)),
            pocket_w=jnp.where(better[None], w, state.pocket_w),
            pocket_correct=jnp.where(better, correct, state.pocket_correct),
            n_updates=jnp.where(finite, state.n_updates + mistakes, state.n_updates),
            history=jnp.where(finite[None] & this_epoch, mistakes[None].astype(dtype),
                              state.history),
            status=status,
            done=~finite | converged | (epoch >= max_epochs),
        )
        # A lane that had stopped keeps its state: as if it had run on its own.
        return jax.tree.map(lambda old, now: jnp.where(lane_mask(state.done, old), old, now),
                            state, new)

    w0 = jnp.zeros((p, lanes), dtype)
    init = _EpochState(
        epoch=jnp.zeros((lanes,), jnp.int32),
        w=w0,
        w_sum=w0 if averaged else None,
        pocket_w=w0,
        pocket_correct=_n_correct(X, y, w0),
        n_updates=jnp.zeros((lanes,), jnp.int32),
        history=jnp.full((max_epochs, lanes), jnp.nan, dtype),
        status=jnp.where(valid, jnp.int32(Status.MAX_ITER), jnp.int32(Status.INVALID_INPUT)),
        done=~valid,
    )
    data = (X, y, signs, keys)

    def running(state):
        return ~jnp.all(state.done)

    if lanes < _COMPACT_MIN_LANES:
        final = lax.while_loop(running, functools.partial(epoch_body, data), init)
    else:
        # Ragged stopping: a batched loop runs until its slowest lane stops. Once at most a
        # quarter of the lanes are still running, those lanes move into a batch a quarter
        # the size and finish there: every lane does exactly the same work, and the
        # stopped ones no longer pay for the stragglers.
        kept = lanes // _COMPACT_FACTOR
        state = lax.while_loop(lambda s: jnp.sum(~s.done) > kept,
                               functools.partial(epoch_body, data), init)
        stragglers = jnp.argsort(state.done, stable=True)[:kept]  # running lanes first

        def pick(leaf):
            return leaf[..., stragglers]

        tail = lax.while_loop(running,
                              functools.partial(epoch_body, jax.tree.map(pick, data)),
                              jax.tree.map(pick, state))
        final = jax.tree.map(lambda whole, part: whole.at[..., stragglers].set(part),
                             state, tail)

    if averaged:
        n_visits = jnp.maximum(final.epoch, 1).astype(dtype) * n
        coef = final.w_sum / n_visits[None]
    else:
        coef = final.w
    return PerceptronResult(
        coef=coef,
        pocket_coef=final.pocket_w,
        last_coef=final.w,
        # 0, not the zeroed stand-in data's accuracy, for an invalid data set.
        pocket_accuracy=jnp.where(valid, final.pocket_correct.astype(dtype) / n, 0),
        n_iter=final.epoch,
        n_updates=final.n_updates,
        converged=final.status == Status.CONVERGED,
        status=final.status,
        history=final.history,
    )


@functools.partial(jax.jit, static_argnames=("max_epochs", "lr", "averaged", "group_size"))
def _fit(X, y, key, *, max_epochs: int, lr: float, averaged: bool,
         group_size: int | None) -> PerceptronResult:
    """One data set through :func:`_fit_lanes`, with a ``vmap`` rule that batches it there."""
    fit_lanes = functools.partial(_fit_lanes, max_epochs=max_epochs, lr=lr, averaged=averaged)
    args = (X, y) if key is None else (X, y, key)
    n, p = X.shape

    @jax.custom_batching.custom_vmap
    def fit_one(*args):
        X, y, *key = args
        result = fit_lanes(X[..., None], y[..., None], key[0][None] if key else None)
        return jax.tree.map(lambda leaf: leaf[..., 0], result)

    def fit_group(X, y, *key):
        # A group's data sets go last, as _fit_lanes wants them (it compacts in-group).
        result = fit_lanes(jnp.moveaxis(X, 0, -1), jnp.moveaxis(y, 0, -1), *key or [None])
        return jax.tree.map(lambda leaf: jnp.moveaxis(leaf, -1, 0), result)

    @fit_one.def_vmap
    def fit_batch(axis_size, in_batched, *args):
        # An unbatched argument is shared by every lane; groups as in models._batching.
        lanes = tuple(arg if batched else jnp.broadcast_to(arg, (axis_size,) + arg.shape)
                      for arg, batched in zip(args, in_batched))
        result = run_in_groups(fit_group, lanes, group_size=group_size,
                               lane_bytes=lane_bytes("perceptron", n, p, X.dtype.itemsize))
        return result, jax.tree.map(lambda _: True, result)

    return fit_one(*args)


def _check_lr(lr) -> float:
    try:
        value = float(lr)
    except TypeError:  # includes jax's ConcretizationTypeError for a traced lr
        raise ValueError(
            f"lr must be a static Python number > 0, got {lr!r}; it is compiled into the "
            "fit, so pass a float (not a traced array)."
        ) from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
    return value


def fit(
    X: ArrayLike,
    y: ArrayLike,
    *,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    lr: float = 1.0,
    key: jax.Array | None = None,
    averaged: bool = False,
    group_size: int | None = None,
) -> PerceptronResult:
    r"""Train a perceptron on one data set with Rosenblatt's online rule.

    Labels :math:`y_i \in \{0, 1\}` are mapped to :math:`s_i = 2y_i - 1`. Starting from
    :math:`w = 0`, each epoch visits the samples in order (or in a fresh random order per
    epoch when ``key`` is given) and updates :math:`w \leftarrow w + \eta s_i x_i` whenever
    :math:`s_i\, w\cdot x_i \le 0`. Training stops at the first epoch without a mistake
    (``converged``) or after ``max_epochs`` epochs. After the same number of epochs this is
    exactly scikit-learn's ``Perceptron(fit_intercept=False, shuffle=False, eta0=lr,
    tol=None)``.

    On data separable with margin :math:`\gamma` by a unit vector, with
    :math:`R = \max_i \|x_i\|`, the number of updates is at most :math:`(R/\gamma)^2`
    (Novikoff 1962), so at most :math:`(R/\gamma)^2 + 1` epochs are needed. On non-separable
    data the rule never settles; use ``pocket_coef`` (Gallant 1990) or ``averaged=True``
    (Freund & Schapire 1999).

    The pocket is evaluated on the full training set at the end of every epoch (and for
    :math:`w_0 = 0`), and replaced only when the current weights are strictly more accurate
    (the ratchet). That costs :math:`O(np)` per epoch; Gallant's per-update evaluation would
    cost :math:`O(np)` per update inside the hot loop. The pocket is therefore the best
    epoch-end weight vector, never worse on the training set than ``last_coef``.

    Works unchanged under ``jax.jit`` and ``jax.vmap`` (over data sets, and over ``key``).
    Settings are static: each new ``(max_epochs, lr, averaged)`` compiles once.

    Args:
        X: ``[n, p]`` design matrix, intercept column included.
        y: ``[n]`` labels in {0, 1}.
        max_epochs: epoch budget, >= 1 (default :data:`DEFAULT_MAX_EPOCHS` = 100).
        lr: step size :math:`\eta > 0`. With :math:`w_0 = 0` it only rescales the weights,
            leaving every decision unchanged.
        key: optional ``jax.random`` key; if given, epoch ``e`` visits the samples in the
            order ``permutation(fold_in(key, e), n)``. ``None`` keeps the data order.
        averaged: if True, ``coef`` is the averaged perceptron (Freund & Schapire 1999): the
            mean of the online weights after every sample visit, over all epochs run.
        group_size: under ``jax.vmap``, how many data sets run together in one group
            (:mod:`models._batching`): ``None`` (default) sizes the groups for the platform,
            on CPU about 1 MiB of ``X`` per group (128 data sets of ``n = 200, p = 11`` in
            float32), elsewhere the whole batch up to 8 GiB. Set it to tune for another
            CPU; results do not depend on it. Static; no effect on a single fit.

    Returns:
        :class:`PerceptronResult`; ``history`` has length ``max_epochs``.

    Raises:
        ValueError: for wrong ranks or mismatched shapes of ``X`` and ``y``,
            ``max_epochs < 1`` or ``lr <= 0``. Data problems (NaN/inf, labels outside
            {0, 1}) do not raise: they give ``status == Status.INVALID_INPUT``.

    Example:
        >>> result = jax.jit(jax.vmap(fit))(X_batch, y_batch)  # doctest: +SKIP
        >>> result.n_updates.max()  # doctest: +SKIP
    """
    check_design(X, y, name="perceptron.fit")
    max_epochs = check_positive_int("max_epochs", max_epochs)
    lr = _check_lr(lr)
    dtype = float_dtype_of(X, y)
    return _fit(
        jnp.asarray(X, dtype),
        jnp.asarray(y, dtype),
        key,
        max_epochs=max_epochs,
        lr=lr,
        averaged=bool(averaged),
        group_size=check_group_size(group_size),
    )


def predict(result: PerceptronResult, X: ArrayLike, *, weights: str = "coef") -> jax.Array:
    """Classify with a fitted perceptron: class 1 where ``X @ w > 0``, else class 0.

    Args:
        result: a :class:`PerceptronResult` for one data set (``vmap`` for a batch).
        X: ``[m, p]`` design matrix, intercept column included.
        weights: which weights to use: ``"coef"`` (default: the final online weights, or the
            averaged ones if the fit had ``averaged=True``), ``"pocket"`` (``pocket_coef``)
            or ``"last"`` (``last_coef``).

    Returns:
        ``[m]`` int32 decisions in {0, 1}.

    Raises:
        ValueError: for an unknown ``weights`` or an ``X`` whose shape does not match.
    """
    check_choice("weights", weights, WEIGHTS)
    w = {"coef": result.coef, "pocket": result.pocket_coef, "last": result.last_coef}[weights]
    if np.ndim(X) != 2 or np.shape(X)[1] != np.shape(w)[-1]:
        raise ValueError(
            f"perceptron.predict: X must be [m, {np.shape(w)[-1]}] (intercept column "
            f"included), got shape {np.shape(X)}."
        )
    return (jnp.asarray(X) @ w > 0).astype(jnp.int32)
