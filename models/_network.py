r"""The network of :mod:`models.mlp`: parameters, Glorot initialisation, forward pass, loss.

For hidden widths :math:`(h_1, \dots, h_L)`, activation :math:`\phi` and gain :math:`\alpha`:

.. math::

    a_0 = X, \qquad a_1 = \phi(\alpha\, a_0 W_1), \qquad
    a_l = \phi(\alpha\,(a_{l-1} W_l + b_l)),\ l = 2..L, \qquad
    \text{logit} = a_L v + c, \qquad P(y = 1 \mid x) = \sigma(\text{logit}).

The layer that reads ``X`` has no bias: ``X`` already carries the intercept column, so its
first weight row is that bias. Every later layer has one. With ``hidden=()`` the network is
:math:`\sigma(X v)`, logistic regression whose ``v`` maps one to one onto the GLM's ``coef``.

With ``n_outputs = K >= 2`` (:mod:`models._softmax_mlp`) the output layer has ``K`` units,
:math:`\text{logits} = a_L V + c \in \mathbb{R}^K` and
:math:`P(y = k \mid x) = \operatorname{softmax}(\text{logits})_k`.

References:
    X. Glorot and Y. Bengio (2010). Understanding the difficulty of training deep feedforward
    neural networks. AISTATS, PMLR 9, 249-256.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from ._validate import check_choice, check_positive_int

__all__ = ["ACTIVATIONS", "Dense", "init_params", "forward", "forward_t", "mean_loss",
           "mean_softmax_loss", "softplus", "check_hidden"]

#: Hidden-unit nonlinearities :math:`\phi`.
ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu}

class Dense(NamedTuple):
    """One layer's parameters.

    Attributes:
        weight: ``[d_in, d_out]`` for a hidden layer or a ``K``-unit output layer,
            ``[d_in]`` for the binary output unit.
        bias: ``[d_out]`` for a hidden layer or a ``K``-unit output layer, scalar for the
            binary output unit; ``None`` for the layer that reads ``X`` (its intercept
            column plays the bias).
    """

    weight: jax.Array
    bias: jax.Array | None


def init_params(key, n_inputs: int, hidden: Sequence[int] = (8,), dtype=None, *,
                n_outputs: int = 1) -> tuple:
    r"""Glorot-uniform weights and zero biases (Glorot & Bengio 2010).

    Each weight matrix with fan-in :math:`d_\text{in}` and fan-out :math:`d_\text{out}` is
    drawn from :math:`U(-a, a)`, :math:`a = \sqrt{6 / (d_\text{in} + d_\text{out})}`
    (fan-out 1 for the binary output unit, ``K`` for a ``K``-unit output layer).

    Args:
        key: a ``jax.random`` key.
        n_inputs: ``p``, the columns of ``X`` (intercept column included).
        hidden: hidden layer widths; ``()`` for logistic regression.
        dtype: float dtype of the parameters (default: JAX's default float).
        n_outputs: 1 for the binary output unit (sigmoid); ``K >= 2`` for ``K`` output
            units (softmax over ``K`` classes).

    Returns:
        A tuple of :class:`Dense`: ``len(hidden)`` hidden layers (weight ``[d_in, d_out]``;
        bias ``None`` for the first, ``[d_out]`` zeros after), then the output layer: for
        ``n_outputs=1`` one unit (weight ``[h_L]``, or ``[p]`` when ``hidden=()``; scalar
        zero bias), else ``K`` units (weight ``[h_L, K]`` or ``[p, K]``; bias ``[K]``
        zeros); the output bias is ``None`` when ``hidden=()``.
    """
    hidden = check_hidden(hidden)
    n_inputs = check_positive_int("n_inputs", n_inputs)
    n_outputs = check_positive_int("n_outputs", n_outputs)
    dtype = jnp.dtype(dtype) if dtype is not None else jnp.result_type(float)
    widths = (n_inputs,) + hidden
    shapes: list[tuple[int, ...]] = [(fan_in, fan_out) for fan_in, fan_out
                                     in zip(widths[:-1], widths[1:], strict=True)]
    shapes.append((widths[-1],) if n_outputs == 1 else (widths[-1], n_outputs))
    # One draw for every weight, sliced per layer: a single threefry call compiles much
    # faster on CPU than one split and one draw per layer.
    sizes = [math.prod(shape) for shape in shapes]
    unit = jax.random.uniform(key, (sum(sizes),), dtype, -1.0, 1.0)
    layers, offset = [], 0
    for index, (shape, size) in enumerate(zip(shapes, sizes, strict=True)):
        fan_in, fan_out = shape[0], shape[1] if len(shape) == 2 else 1
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weight = limit * unit[offset:offset + size].reshape(shape)
        offset += size
        is_output = index == len(hidden)
        if index == 0:
            bias = None  # the intercept column of X is this layer's bias
        elif is_output:
            bias = jnp.zeros(shape[1:], dtype)
        else:
            bias = jnp.zeros((fan_out,), dtype)
        layers.append(Dense(weight, bias))
    return tuple(layers)


def forward(params: tuple, X, *, activation: str = "sigmoid", gain: float = 1.0) -> jax.Array:
    r"""The network's logits: log-odds of class 1, or the ``K`` softmax logits.

    Args:
        params: a tuple of :class:`Dense` as made by :func:`init_params`.
        X: ``[n, p]`` design matrix, intercept column included.
        activation: one of :data:`ACTIVATIONS`.
        gain: :math:`\alpha` in :math:`\phi(\alpha z)` for the hidden units.

    Returns:
        ``[n]`` logits for the binary output unit, ``[n, K]`` for a ``K``-unit output layer.
    """
    check_choice("activation", activation, ACTIVATIONS)
    logits = forward_t(params, jnp.asarray(X).T, activation, gain)
    return logits if logits.ndim == 1 else logits.T


def forward_t(params: tuple, Xt, activation: str, gain: float) -> jax.Array:
    """:func:`forward` on ``Xt = X.T`` (``[p, n]``), the layout the training loop keeps.

    Samples are the last (contiguous) axis of every activation, so under ``vmap`` each layer
    is a batched ``[d_out, d_in] @ [d_in, n]`` product and every elementwise op runs along
    ``n``. On XLA's CPU backend (1000 vmapped xor fits, hidden=(8,)) the forward product
    runs several times faster than ``X @ W`` did, and a whole fit 1.2x faster. Returns
    ``[n]`` logits, or ``[K, n]`` for a ``K``-unit output layer.
    """
    phi = ACTIVATIONS[activation]
    hidden = Xt
    for layer in params[:-1]:
        # [d_out, d_in] @ [d_in, n]: the barrier keeps XLA from folding the (tiny) transpose
        # back into the product, which would make it a much slower non-canonical dot.
        z = lax.optimization_barrier(layer.weight.T) @ hidden
        if layer.bias is not None:
            z = z + layer.bias[:, None]
        hidden = phi(gain * z)
    output = params[-1]
    if output.weight.ndim == 2:  # K units: [K, h] @ [h, n], as a hidden layer
        logits = lax.optimization_barrier(output.weight.T) @ hidden
        return logits if output.bias is None else logits + output.bias[:, None]
    logits = jnp.einsum("i,in->n", output.weight, hidden)
    if output.bias is not None:
        logits = logits + output.bias
    return logits


@jax.custom_jvp
def softplus(x):
    r""":math:`\log(1 + e^x)`, stable for any ``x``, with one ``exp`` and one ``log1p``."""
    return jnp.maximum(x, 0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    # sigma(x) from the same e^{-|x|} as the primal, so XLA computes one exp for both.
    e = jnp.exp(-jnp.abs(x))
    sigma = jnp.where(x >= 0, 1, e) / (1 + e)
    return softplus(x), sigma * t


def mean_loss(params, Xt, y, activation, gain):
    r"""Mean cross-entropy :math:`\frac1n \sum_i \log(1 + e^{-s_i z_i})`, :math:`s_i = 2y_i - 1`.

    For 0/1 labels this is optax's ``sigmoid_binary_cross_entropy`` (``y`` must be 0/1, as
    :func:`fit` checks), to rounding, even for a sample whose loss is ~1e-300, with half
    its transcendental functions: one ``exp`` and one ``log1p`` per sample instead
    of two each. Returns the loss and the logits.
    """
    logits = forward_t(params, Xt, activation, gain)
    return jnp.mean(softplus((1 - 2 * y) * logits)), logits


def mean_softmax_loss(params, Xt, labels, activation, gain):
    r"""Mean softmax cross-entropy :math:`\frac1n \sum_i (\log \sum_k e^{z_{ik}} - z_{i y_i})`.

    optax's ``softmax_cross_entropy_with_integer_labels`` over the class axis of the
    ``[K, n]`` logits (``labels``: ``[n]`` integers in ``0..K-1``). Returns the loss and the
    logits.
    """
    logits = forward_t(params, Xt, activation, gain)
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels, axis=0)
    return jnp.mean(losses), logits


def check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, (int, np.integer)) or not isinstance(hidden, Sequence):
        raise ValueError(
            f"hidden must be a tuple of layer widths, e.g. (8,) or (16, 8), or () for no "
            f"hidden layer; got {hidden!r}."
        )
    widths = tuple(hidden)
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError(
                f"hidden layer widths must be integers >= 1, got hidden={hidden!r}; use "
                "hidden=() for a network without a hidden layer."
            )
    return tuple(int(width) for width in widths)
