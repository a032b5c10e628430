r"""A softmax MLP for ``K`` classes, trained full batch with optax, in JAX.

The binary MLP of :mod:`models._mlp` with ``K`` output units: the same network body
(:mod:`models._network`, ``n_outputs=K``), training loop, stopping rules, statuses and
``vmap`` batching rule (:func:`models._mlp.train`, :func:`models._mlp.grouped`). For
:math:`x \in \mathbb{R}^p` (intercept column included) the network gives logits
:math:`z(x) \in \mathbb{R}^K`, and

.. math::

    P(y = k \mid x) = \operatorname{softmax}(z(x))_k = \frac{e^{z_k(x)}}{\sum_{j=1}^K
    e^{z_j(x)}}, \qquad
    L(\theta) = \frac1n \sum_{i=1}^n \Bigl(\log \sum_{k=1}^K e^{z_k(x_i)} - z_{y_i}(x_i)\Bigr),

the mean softmax cross-entropy (the negative log-likelihood of the labels, divided by
``n``; Bridle 1990).

With ``hidden=()`` the logits are :math:`z = W^\top x`, ``W`` ``[p, K]``: the multinomial
logit model (McFadden 1974; statsmodels' ``MNLogit``). It is over-parametrised by one
redundant class: adding the same vector :math:`c` to every column of ``W`` adds
:math:`x^\top c` to every logit of a row, which the softmax ignores. ``MNLogit`` removes that
freedom by fixing class 0's column at 0; here ``W`` is not identified, but the
probabilities are, and they converge to the multinomial MLE's wherever the MLE exists (the
classes are not (quasi-)completely separated, Albert & Anderson 1984). The gradient
:math:`X^\top (P - Y)` has columns that sum to 0, so plain gradient descent never moves
``W`` along the redundant direction; adam's per-coordinate scaling may, without changing a
probability.

References:
    J. S. Bridle (1990). Probabilistic interpretation of feedforward classification network
    outputs, with relationships to statistical pattern recognition. In *Neurocomputing*,
    NATO ASI Series F 68, 227-236.
    D. McFadden (1974). Conditional logit analysis of qualitative choice behavior. In
    *Frontiers in Econometrics*, 105-142.
    A. Albert and J. A. Anderson (1984). On the existence of maximum likelihood estimates
    in logistic regression models. *Biometrika* 71(1), 1-10.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from ._lanes import class_labels, zero_invalid
from ._mlp import MLPResult, check_settings, grouped, train
from ._network import forward, init_params, mean_softmax_loss
from ._stopping import SKLEARN_N_ITER_NO_CHANGE
from ._validate import check_design, check_n_classes, float_dtype_of

__all__ = ["fit_multiclass", "predict_multiclass"]


@functools.partial(
    jax.jit,
    static_argnames=("n_classes", "hidden", "activation", "gain", "optimizer", "max_iter",
                     "tol", "stopping", "n_iter_no_change", "group_size"),
)
def _fit(key, X, y, *, n_classes, group_size, **settings) -> MLPResult:
    fit_one = functools.partial(_fit_one, n_classes=n_classes, **settings)
    # The [K, n] logits and their gradient are one more wide activation per lane.
    return grouped(fit_one, key, X, y, hidden=settings["hidden"] + (n_classes,),
                   group_size=group_size)


def _fit_one(key, X, y, *, n_classes, hidden, activation, gain, **loop) -> MLPResult:
    labels, labels_ok = class_labels(y, n_classes)
    valid = jnp.all(jnp.isfinite(X)) & labels_ok
    X, labels = zero_invalid(valid, X, labels)
    Xt = X.T
    return train(
        init_params(key, X.shape[1], hidden, X.dtype, n_outputs=n_classes), valid,
        lambda params: mean_softmax_loss(params, Xt, labels, activation, gain),
        lambda logits: jnp.argmax(logits, axis=0) == labels,
        activation=activation, gain=gain, **loop,
    )


def fit_multiclass(
    key: jax.Array,
    X: ArrayLike,
    y: ArrayLike,
    n_classes: int,
    *,
    hidden: Sequence[int] = (8,),
    activation: str = "sigmoid",
    gain: float = 1.0,
    optimizer: optax.GradientTransformation | None = None,
    max_iter: int = 2000,
    tol: float | None = None,
    stopping: str = "spread",
    n_iter_no_change: int = SKLEARN_N_ITER_NO_CHANGE,
    group_size: int | None = None,
) -> MLPResult:
    r"""Train a softmax MLP on one data set, full batch, on the mean softmax cross-entropy.

    The loss (module docstring) is optax's ``softmax_cross_entropy_with_integer_labels``
    over the ``K`` logits, averaged over the ``n`` samples. Everything else is
    :func:`~models.mlp.fit`'s: each step records :math:`L_t` in ``history[t]`` and applies
    one optimizer update; the ``"spread"`` (default) or ``"sklearn"`` stopping rule; the
    statuses; the Glorot initialisation (with ``K`` output units); the ``custom_vmap``
    rule that runs a vmapped fit in groups of data sets on CPU. Works unchanged under
    ``jax.jit`` and ``jax.vmap`` (over data sets, or over ``key`` for restarts).

    A point counts as classified right when the argmax of its logits is its label
    (``steps_to_fit``, ``train_accuracy``). With ``hidden=()`` this is the multinomial
    logit model, whose probabilities reach the MLE's where the MLE exists (module
    docstring); on separated data the loss keeps falling and the weights keep growing.

    Args:
        key: ``jax.random`` key for the Glorot initialisation
            (:func:`~models.mlp.init_params` with ``n_outputs=n_classes``).
        X: ``[n, p]`` design matrix, intercept column included.
        y: ``[n]`` labels in ``{0, ..., K-1}``, of an integer or a float dtype holding
            integers.
        n_classes: ``K >= 2``, the number of classes (output units); static.
        hidden: hidden layer widths, each >= 1; ``()`` is multinomial logistic regression,
            whose output weights ``params[-1].weight`` are ``[p, K]`` (no bias: ``X`` has
            the intercept).
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"`` for the hidden units.
        gain: :math:`\alpha > 0` in the hidden units' :math:`\phi(\alpha z)`.
        optimizer: any ``optax.GradientTransformation``; ``None`` means ``optax.adam(0.05)``
            (:data:`~models.mlp.DEFAULT_LEARNING_RATE`); ``optax.lbfgs()`` works.
        max_iter: update budget, >= 1; also the length of ``history``.
        tol: the stopping rule's tolerance, > 0; ``None`` for the rule's default.
        stopping: ``"spread"`` or ``"sklearn"`` (:func:`~models.mlp.fit`).
        n_iter_no_change: the ``"sklearn"`` rule's patience (scikit-learn's default 10).
        group_size: under ``jax.vmap``, data sets per group, as :func:`~models.mlp.fit`.

    Returns:
        :class:`~models.mlp.MLPResult` whose ``params`` end with a ``K``-unit output layer
        (weight ``[h_L, K]`` or ``[p, K]``, bias ``[K]`` or ``None`` when ``hidden=()``).
        ``status`` is ``INVALID_INPUT`` (and ``params`` all zeros) for NaN/inf in ``X`` or
        ``y`` or a label that is not an integer in ``{0, ..., K-1}``.

    Raises:
        ValueError: for ``n_classes`` that is not a static int >= 2, every bad setting
            :func:`~models.mlp.fit` refuses, or wrong ranks / mismatched shapes of ``X``
            and ``y``. Data problems do not raise: they give ``Status.INVALID_INPUT``.
    """
    check_design(X, y, name="mlp.fit_multiclass")
    n_classes = check_n_classes(n_classes, name="mlp.fit_multiclass")
    settings = check_settings(hidden=hidden, activation=activation, gain=gain,
                              optimizer=optimizer, max_iter=max_iter, tol=tol,
                              stopping=stopping, n_iter_no_change=n_iter_no_change,
                              group_size=group_size)
    dtype = float_dtype_of(X, y)
    return _fit(key, jnp.asarray(X, dtype), jnp.asarray(y, dtype), n_classes=n_classes,
                **settings)


def predict_multiclass(result: MLPResult, X: ArrayLike) -> jax.Array:
    r"""Class probabilities from a fitted softmax MLP.

    Args:
        result: an :class:`~models.mlp.MLPResult` of :func:`fit_multiclass` for one data
            set (``vmap`` for a batch).
        X: ``[m, p]`` design matrix, intercept column included.

    Returns:
        ``[m, K]`` probabilities :math:`\operatorname{softmax}(z(x_i))`; rows sum to 1.

    Raises:
        ValueError: for a result with one output unit (a binary fit: use
            :func:`~models.mlp.predict`) or ``X`` of the wrong shape.
    """
    if np.ndim(result.params[-1].weight) != 2:
        raise ValueError("mlp.predict_multiclass: this result has one output unit (a binary "
                         "mlp.fit result); use mlp.predict.")
    first = result.params[0].weight
    if np.ndim(X) != 2 or np.shape(X)[1] != np.shape(first)[0]:
        raise ValueError(
            f"mlp.predict_multiclass: X must be [m, {np.shape(first)[0]}] (intercept column "
            f"included), got shape {np.shape(X)}."
        )
    logits = forward(result.params, X, activation=result.activation, gain=result.gain)
    return jax.nn.softmax(logits, axis=-1)
