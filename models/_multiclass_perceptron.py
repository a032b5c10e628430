r"""The multiclass perceptron (Kesler's construction, Collins's update), in JAX.

One data set per call; pure JAX, so ``jax.jit(jax.vmap(fit_multiclass, in_axes=(0, 0, None)),
static_argnums=2)`` (or a ``functools.partial`` fixing ``n_classes``) trains a batch of data
sets in one compiled program. The weights :math:`W \in \mathbb{R}^{K \times p}` (one row per
class) start at 0; for each visited sample :math:`(x, y)`, with scores :math:`s = W x` and
the rival :math:`r = \arg\max_{j \ne y} s_j` (first index on ties), if :math:`s_r \ge s_y`
(a tie is a mistake, as ``s w.x <= 0`` is in the binary rule)

.. math::

    w_y \leftarrow w_y + \eta\, x, \qquad w_r \leftarrow w_r - \eta\, x .

This is Rosenblatt's rule in Kesler's construction: with :math:`\Phi(x, y) = e_y \otimes x
\in \mathbb{R}^{Kp}` and :math:`w = \operatorname{vec} W`, :math:`s_j = w \cdot \Phi(x, j)`
and the update is :math:`w \leftarrow w + \eta\,(\Phi(x, y) - \Phi(x, r))` (Collins 2002).

**Mistake bound.** :math:`\|\Phi(x, y) - \Phi(x, z)\|^2 = 2\|x\|^2` for :math:`z \ne y`. If
some :math:`U` with :math:`\|U\|_F = 1` has margin :math:`\gamma = \min_i \min_{z \ne y_i}
(u_{y_i} - u_z) \cdot x_i > 0`, each update raises :math:`U \cdot W` by at least
:math:`\eta\gamma` and, as :math:`s_r \ge s_y` on a mistake, :math:`\|W\|_F^2` by at most
:math:`\eta^2 R^2`, :math:`R^2 = 2 \max_i \|x_i\|^2`: at most :math:`R^2 / \gamma^2` updates
(:func:`mistake_bound`) in any visiting order. From :math:`W_0 = 0`, :math:`\eta` only
rescales :math:`W`: it changes no decision, nor the bound.

References:
    R. O. Duda and P. E. Hart (1973). Pattern Classification and Scene Analysis. Wiley,
    section 5.12 (Kesler's construction).

    M. Collins (2002). Discriminative training methods for hidden Markov models: theory and
    experiments with perceptron algorithms. EMNLP 2002, 1-8.

    K. Crammer and Y. Singer (2003). Ultraconservative online algorithms for multiclass
    problems. Journal of Machine Learning Research 3, 951-991.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ._lanes import class_labels
from ._perceptron import DEFAULT_MAX_EPOCHS
from ._status import Status
from ._validate import (
    check_design,
    check_n_classes,
    check_positive_float,
    check_positive_int,
    float_dtype_of,
)

__all__ = ["MulticlassPerceptronResult", "fit_multiclass", "predict_multiclass", "mistake_bound"]


class MulticlassPerceptronResult(NamedTuple):
    """What a multiclass perceptron fit reports for one data set (leading axis under ``vmap``).

    Attributes:
        coef: ``[K, p]`` the online weights when the fit stopped, one row per class.
        train_accuracy: scalar, the training accuracy of ``coef`` (rule of
            :func:`predict_multiclass`); 0 for invalid input.
        n_iter: int32, epochs run (the last one has no mistakes when converged).
        n_updates: int32, total updates (= total mistakes) over all epochs.
        converged: bool, an epoch made no mistake: ``coef`` scores every training point's
            class strictly above every other class.
        status: int32 :class:`~models.Status`: ``CONVERGED``, ``MAX_ITER``, ``NONFINITE``
            (overflow; the last finite epoch's weights are kept) or ``INVALID_INPUT`` (NaN/inf
            in ``X`` or ``y``, or a label not an integer in {0, ..., K-1}; coef is then 0).
        history: ``[max_epochs]`` float, mistakes made in each epoch; NaN after the stop.
    """

    coef: jax.Array
    train_accuracy: jax.Array
    n_iter: jax.Array
    n_updates: jax.Array
    converged: jax.Array
    status: jax.Array
    history: jax.Array


class _EpochState(NamedTuple):
    epoch: jax.Array  # [] int32, epochs completed
    W: jax.Array  # [K, p]
    n_updates: jax.Array
    history: jax.Array  # [max_epochs]
    status: jax.Array  # what to report if the loop ended now
    done: jax.Array


#: Up to this many features, :func:`_scores` adds the ``p`` products in straight-line code.
_UNROLL_FEATURES = 32


def _scores(X, W):
    """``X @ W.T``: ``X [n, p]``, ``W [K, p]`` -> ``[n, K]``.

    As ``p`` elementwise multiply-adds, not a dot: each score is then rounded the same way
    alone and under ``vmap``, so a batch is bitwise its single fits (ties decide updates).
    """
    def term(j):
        return X[:, j][:, None] * W[:, j][None, :]

    def add(total, j):
        return total + term(j)

    if X.shape[1] > _UNROLL_FEATURES:  # a loop: constant program size
        return lax.fori_loop(1, X.shape[1], lambda j, total: add(total, j), term(0))
    return functools.reduce(add, range(1, X.shape[1]), term(0))


def _rival(s, label):
    """``argmax_{j != label} s_j``, first index on ties (``s [K]``, ``label []`` int32)."""
    classes = jnp.arange(s.shape[0])
    rival = jnp.argmax(jnp.where(classes == label, -jnp.inf, s))
    # Every other score -inf: argmax found index 0, which may be the label itself.
    return jnp.where(rival == label, jnp.where(label == 0, 1, 0), rival).astype(jnp.int32)


@functools.partial(jax.jit, static_argnames=("n_classes", "max_epochs", "lr"))
def _fit(X, y, key, *, n_classes: int, max_epochs: int, lr: float) -> MulticlassPerceptronResult:
    (n, p), dtype = X.shape, X.dtype
    labels, labels_ok = class_labels(y, n_classes)
    valid = jnp.all(jnp.isfinite(X)) & labels_ok
    # A bad data set runs through the loop with the others under vmap: give it zeros.
    X = jnp.where(valid, X, jnp.zeros_like(X))
    labels = jnp.where(valid, labels, 0)
    classes = jnp.arange(n_classes)
    step_size = jnp.asarray(lr, dtype)

    def visit(carry, sample):
        (W, mistakes), (x, label) = carry, sample  # x [p], label []
        s = _scores(x[None], W)[0]
        rival = _rival(s, label)
        # Not ">=": a NaN score (inf - inf) is a mistake, never a correct prediction.
        mistake = ~(s[label] > s[rival])
        direction = ((classes == label).astype(dtype) - (classes == rival).astype(dtype))
        # lr * x first, so W changes by exactly +-(lr x), as in W[y] += lr x.
        W = W + jnp.where(mistake, direction, 0)[:, None] * (step_size * x)[None, :]
        return (W, mistakes + mistake.astype(jnp.int32)), None

    def epoch_body(state: _EpochState) -> _EpochState:
        if key is None:
            samples = (X, labels)
        else:
            order = jax.random.permutation(jax.random.fold_in(key, state.epoch), n)
            samples = (X[order], labels[order])
        (W, mistakes), _ = lax.scan(visit, (state.W, jnp.int32(0)), samples)
        finite = jnp.all(jnp.isfinite(W))
        converged = finite & (mistakes == 0)
        epoch = state.epoch + 1
        # A non-finite epoch is discarded whole: weights, counts and history stay as they were.
        return _EpochState(
            epoch=jnp.where(finite, epoch, state.epoch),
            W=jnp.where(finite, W, state.W),
            n_updates=jnp.where(finite, state.n_updates + mistakes, state.n_updates),
            history=jnp.where(finite & (jnp.arange(max_epochs) == state.epoch),
                              mistakes.astype(dtype), state.history),
            status=jnp.where(~finite, jnp.int32(Status.NONFINITE),
                             jnp.where(converged, jnp.int32(Status.CONVERGED), state.status)),
            done=~finite | converged | (epoch >= max_epochs),
        )

    init = _EpochState(
        epoch=jnp.int32(0),
        W=jnp.zeros((n_classes, p), dtype),
        n_updates=jnp.int32(0),
        history=jnp.full((max_epochs,), jnp.nan, dtype),
        status=jnp.where(valid, jnp.int32(Status.MAX_ITER), jnp.int32(Status.INVALID_INPUT)),
        done=~valid,
    )
    # Under vmap, a lane that has stopped keeps its state (while_loop's batching selects).
    final = lax.while_loop(lambda state: ~state.done, epoch_body, init)
    accuracy = jnp.mean(jnp.argmax(_scores(X, final.W), axis=1) == labels, dtype=dtype)
    return MulticlassPerceptronResult(
        coef=final.W,
        train_accuracy=jnp.where(valid, accuracy, 0),
        n_iter=final.epoch,
        n_updates=final.n_updates,
        converged=final.status == Status.CONVERGED,
        status=final.status,
        history=final.history,
    )


def fit_multiclass(
    X: ArrayLike,
    y: ArrayLike,
    n_classes: int,
    *,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    lr: float = 1.0,
    key: jax.Array | None = None,
) -> MulticlassPerceptronResult:
    r"""Train a multiclass perceptron on one data set (see the module docstring for the math).

    From :math:`W = 0`, each epoch visits the samples in order (or a fresh random order per
    epoch when ``key`` is given); on a mistake, :math:`s_r \ge s_y` for the rival
    :math:`r = \arg\max_{j \ne y} (W x)_j`, :math:`w_y` gains and :math:`w_r` loses
    :math:`\eta x`. Training stops at the first epoch without a mistake (``converged``) or
    after ``max_epochs``. With ``n_classes=2`` it makes the decisions of
    :func:`models.perceptron.fit`, with ``coef[1] - coef[0] = 2 w``. Updates are at most
    :func:`mistake_bound` on separable data.

    Works unchanged under ``jax.jit`` and ``jax.vmap``. ``n_classes``, ``max_epochs`` and
    ``lr`` are static: under ``jax.jit`` fix ``n_classes`` with ``functools.partial`` or
    ``static_argnums=2`` (see the module docstring).

    Args:
        X: ``[n, p]`` design matrix, intercept column included.
        y: ``[n]`` class labels in {0, ..., K-1}, integer dtype or floats holding integers.
        n_classes: :math:`K \ge 2`, a static Python int.
        max_epochs: epoch budget, >= 1 (default :data:`DEFAULT_MAX_EPOCHS`).
        lr: step size :math:`\eta > 0`; from :math:`W_0 = 0` it only rescales the weights.
        key: optional ``jax.random`` key; if given, epoch ``e`` visits the samples in the
            order ``permutation(fold_in(key, e), n)``. ``None`` keeps the data order.

    Returns:
        :class:`MulticlassPerceptronResult`; ``history`` has length ``max_epochs``.

    Raises:
        ValueError: for wrong shapes of ``X`` and ``y``, ``n_classes`` not a static int >= 2,
            ``max_epochs < 1`` or ``lr <= 0``. Bad data (NaN/inf, bad labels) does not raise:
            it gives ``status == Status.INVALID_INPUT``.
    """
    check_design(X, y, name="perceptron.fit_multiclass")
    n_classes = check_n_classes(n_classes, name="perceptron.fit_multiclass")
    max_epochs = check_positive_int("max_epochs", max_epochs)
    dtype = float_dtype_of(X)
    return _fit(jnp.asarray(X, dtype), jnp.asarray(y, dtype), key, n_classes=n_classes,
                max_epochs=max_epochs, lr=check_positive_float("lr", lr))


def predict_multiclass(result: MulticlassPerceptronResult, X: ArrayLike) -> jax.Array:
    """Classify with a fitted multiclass perceptron: ``argmax(X @ coef.T)``, first on ties.

    Args:
        result: a :class:`MulticlassPerceptronResult` for one data set (``vmap`` for a batch).
        X: ``[m, p]`` design matrix, intercept column included.

    Returns:
        ``[m]`` int32 classes.

    Raises:
        ValueError: for an ``X`` whose shape does not match ``coef [K, p]``.
    """
    coef = result.coef
    if np.ndim(coef) != 2:
        raise ValueError(f"perceptron.predict_multiclass: coef must be [K, p] for ONE data set, "
                         f"got {np.shape(coef)}; for a batch, jax.vmap(predict_multiclass).")
    if np.ndim(X) != 2 or np.shape(X)[1] != np.shape(coef)[1]:
        raise ValueError(f"perceptron.predict_multiclass: X must be [m, {np.shape(coef)[1]}] "
                         f"(intercept column included), got shape {np.shape(X)}.")
    X = jnp.asarray(X, jnp.result_type(coef.dtype, jnp.asarray(X).dtype))
    return jnp.argmax(_scores(X, coef.astype(X.dtype)), axis=1).astype(jnp.int32)


def mistake_bound(X: ArrayLike, y: ArrayLike, U: ArrayLike) -> float:
    r"""Collins's bound :math:`R^2 / \gamma^2` on the updates of :func:`fit_multiclass`.

    :math:`R^2 = 2 \max_i \|x_i\|^2`, :math:`\gamma = \min_i \min_{z \ne y_i} (u_{y_i} - u_z)
    \cdot x_i` for ``U`` scaled here to :math:`\|U\|_F = 1` (any positive scale of a
    separator gives the same bound). NumPy float64, one data set.

    Args:
        X: ``[n, p]`` design matrix, as passed to :func:`fit_multiclass`.
        y: ``[n]`` labels in {0, ..., K-1}.
        U: ``[K, p]`` a candidate separator.

    Returns:
        The bound, ``inf`` if ``U`` does not separate the data with a positive margin.

    Raises:
        ValueError: for mismatched shapes or labels that are not integers in {0, ..., K-1}.
    """
    X, y, U = (np.asarray(a, np.float64) for a in (X, y, U))
    if X.ndim != 2 or U.ndim != 2 or y.shape != X.shape[:1] or U.shape[1] != X.shape[1]:
        raise ValueError(f"mistake_bound: need X [n, p], y [n], U [K, p]; got X {X.shape}, "
                         f"y {y.shape}, U {U.shape}.")
    if not np.all((y == np.round(y)) & (y >= 0) & (y < len(U))):
        raise ValueError(f"mistake_bound: labels must be integers in 0..{len(U) - 1}.")
    norm = np.linalg.norm(U)
    if not (np.isfinite(norm) and norm > 0) or len(U) < 2:
        return float("inf")
    scores = X @ (U / norm).T  # [n, K]
    rows, labels = np.arange(len(y)), y.astype(np.int64)
    own, scores[rows, labels] = scores[rows, labels], -np.inf
    gamma = np.min(own - scores.max(axis=1))
    return float(2 * np.max(np.sum(X**2, axis=1)) / gamma**2) if gamma > 0 else float("inf")
