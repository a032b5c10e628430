r"""A small multilayer perceptron for 0/1 labels, trained full-batch with optax, in JAX.

One data set per call; pure JAX, so ``jax.jit(jax.vmap(fit))`` trains thousands of data sets
(or restarts: ``vmap`` over ``key``) in one compiled program. The network (parameters,
forward pass, loss) is :mod:`models._network`; the stopping rules, ours and scikit-learn's,
are :mod:`models._stopping`.
The training loop (:func:`train`), the settings' checks and the ``vmap`` rule
(:func:`grouped`) serve the softmax fit of :mod:`models._softmax_mlp` too.

References:
    D. P. Kingma and J. Ba (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.typing import ArrayLike

from ._batching import CPU_LANES, check_group_size, lane_bytes, run_in_groups, vmapped_lanes
from ._lanes import all_finite, binary_data_valid, tree_where, zero_invalid
from ._network import ACTIVATIONS, check_hidden, forward, init_params, mean_loss
from ._status import Status
from ._stopping import (
    DEFAULT_TOL,
    SKLEARN_N_ITER_NO_CHANGE,
    STOPPING,
    stopping_rule,
)
from ._validate import check_choice, check_design, check_positive_int, float_dtype_of

__all__ = ["DEFAULT_LEARNING_RATE", "MLPResult", "check_settings", "default_optimizer", "fit",
           "grouped", "predict", "train"]

#: Adam's step size when ``optimizer=None``: fast on this suite's xor and circles data
#: without leaving harder data sets short (how it was chosen: ``docs/mlp.md``).
DEFAULT_LEARNING_RATE = 0.05

# One instance, so the default does not change the static-argument cache key between calls.
_DEFAULT_OPTIMIZER = optax.adam(DEFAULT_LEARNING_RATE)


def default_optimizer() -> optax.GradientTransformation:
    """The optimizer ``fit`` uses when ``optimizer=None``: ``optax.adam(0.05)``."""
    return _DEFAULT_OPTIMIZER


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=[
        "params", "n_iter", "converged", "status", "history", "steps_to_fit", "train_accuracy",
    ],
    meta_fields=["activation", "gain"],
)
@dataclasses.dataclass(frozen=True)
class MLPResult:
    r"""What an MLP fit reports for one data set (a leading axis on every array under ``vmap``).

    A frozen dataclass registered as a pytree: the arrays are leaves, while ``activation`` and
    ``gain`` are static metadata (strings cannot be array leaves), so :func:`predict` needs
    nothing but the result and ``vmap``/``jit`` pass the result through unchanged.

    Attributes:
        params: tuple of :class:`Dense`, the hidden layers then the output unit, or the
            ``K``-unit output layer of :func:`~models.mlp.fit_multiclass` (see
            :func:`init_params`). The parameters after ``n_iter`` optimizer updates.
        n_iter: int32, optimizer updates applied.
        converged: bool, the convergence rule of :func:`fit` was met.
        status: int32 :class:`~models.Status`: ``CONVERGED``, ``MAX_ITER``, ``NONFINITE``
            (the loss, gradient or update became non-finite; ``params`` are the last finite
            ones) or ``INVALID_INPUT`` (NaN/inf in ``X`` or ``y``, or a label outside
            {0, 1}, or {0, ..., K-1} for ``fit_multiclass``; ``params`` are then all zeros).
        history: ``[max_iter]`` mean training cross-entropy; ``history[k]`` is the loss of the
            parameters after ``k`` updates (before update ``k + 1``), NaN from ``n_iter`` on.
        steps_to_fit: int32, the first ``k`` whose parameters (after ``k`` updates) classify
            every training point correctly (logit > 0, or the argmax of the ``K`` logits),
            or -1 if that never happened.
        train_accuracy: training accuracy of the returned ``params`` (0 for invalid input).
        activation: the hidden activation's name (static).
        gain: the hidden units' gain :math:`\alpha` (static).
    """

    params: tuple
    n_iter: jax.Array
    converged: jax.Array
    status: jax.Array
    history: jax.Array
    steps_to_fit: jax.Array
    train_accuracy: jax.Array
    activation: str = "sigmoid"
    gain: float = 1.0


class _TrainState(NamedTuple):
    """The training loop's carry (never returned: see :class:`MLPResult`)."""

    step: jax.Array  # int32, updates applied
    params: tuple
    opt_state: optax.OptState
    rule: object  # the stopping rule's state (models._stopping)
    steps_to_fit: jax.Array  # int32
    status: jax.Array  # int32, what to report if the loop ended now
    done: jax.Array  # bool


#: Steps per block of the training loop (see :func:`_fit_one`).
_BLOCK_STEPS = 50

@functools.partial(
    jax.jit,
    static_argnames=("hidden", "activation", "gain", "optimizer", "max_iter", "tol", "stopping",
                     "n_iter_no_change", "group_size"),
)
def _fit(key, X, y, *, group_size, **settings) -> MLPResult:
    """:func:`_fit_one`, with the MLP's batching rule for ``vmap`` (:func:`grouped`)."""
    return grouped(functools.partial(_fit_one, **settings), key, X, y,
                   hidden=settings["hidden"], group_size=group_size)


def grouped(fit_one, key, X, y, *, hidden: tuple[int, ...], group_size: int | None):
    """``fit_one(key, X, y)`` for one data set, with a batching rule for ``vmap`` on CPU.

    Args:
        fit_one: ``(key, X, y) -> MLPResult`` for one data set (static settings bound).
        key: its ``jax.random`` key.
        X: its ``[n, p]`` design matrix.
        y: its ``[n]`` labels.
        hidden: the widths of the ``[width, n]`` activations a lane's working set holds
            (:func:`models._batching.lane_bytes`), the hidden layers' and any wide output's.
        group_size: ``fit``'s ``group_size``.
    """
    @jax.custom_batching.custom_vmap
    def fit(key, X, y):
        return fit_one(key, X, y)

    @fit.def_vmap
    def fit_vmapped(axis_size, in_batched, key, X, y):
        # Plain vmap runs every step for all lanes at once, so a step of 1000 lanes streams
        # ~40 MB through memory on CPU. This rule runs the same vmap over consecutive
        # groups of lanes small enough to stay in cache; other backends get the whole batch
        # (models._batching). Each lane computes what it computes alone.
        batch_fn, batched = vmapped_lanes(fit_one, in_batched, (key, X, y))
        n, p = X.shape[-2:]
        cost = lane_bytes("mlp", n, p, X.dtype.itemsize, hidden=hidden)
        result = run_in_groups(batch_fn, batched, lane_bytes=cost, cpu_lanes=CPU_LANES["mlp"],
                               group_size=group_size)
        return result, jax.tree.map(lambda _: True, result)

    return fit(key, X, y)


def _fit_one(key, X, y, *, hidden, activation, gain, **loop) -> MLPResult:
    valid = binary_data_valid(X, y)
    X, y = zero_invalid(valid, X, y)
    Xt = X.T
    labels = y > 0.5
    return train(
        init_params(key, X.shape[1], hidden, X.dtype), valid,
        lambda params: mean_loss(params, Xt, y, activation, gain),
        lambda logits: (logits > 0) == labels,
        activation=activation, gain=gain, **loop,
    )


def train(params0, valid, loss_and_logits, correct, *, activation, gain, optimizer, max_iter,
          tol, stopping, n_iter_no_change) -> MLPResult:
    """The MLP fits' training loop, for one data set: optimizer steps until a rule stops it.

    Args:
        params0: the initial parameters (zeros are used where not ``valid``).
        valid: ``[]`` bool; where false, no step is taken and the status is
            ``INVALID_INPUT`` (the data should already be zeroed, :func:`zero_invalid`).
        loss_and_logits: ``params -> (mean loss, logits)`` on the training data.
        correct: ``logits -> [n]`` bool, the training points those logits classify right.
        activation: the hidden activation's name, stored on the result.
        gain: the hidden units' gain, stored on the result.
        optimizer: an optax transformation (:func:`check_settings`).
        max_iter: update budget, also the length of ``history``.
        tol: the stopping rule's tolerance.
        stopping: the stopping rule's name.
        n_iter_no_change: the ``"sklearn"`` rule's patience.

    Returns:
        :class:`MLPResult`.
    """
    # The loop runs in blocks: a lax.scan of `block` steps inside a lax.while_loop over
    # blocks. Under vmap a while_loop's predicate is batched, so every iteration selects the
    # whole carry lane by lane; keeping the [max_iter] history out of the per-step carry
    # (only the stopping rule's small state rides along) turns that O(max_iter) select per step into
    # one per block. A lane that stops inside a block is frozen by jnp.where for the rest of
    # it, so the result is the same as stopping at that step.
    dtype = jax.tree.leaves(params0)[0].dtype
    pass_extra_args = isinstance(optimizer, optax.GradientTransformationExtraArgs)
    rule = stopping_rule(stopping, tol, max_iter=max_iter, n_iter_no_change=n_iter_no_change)
    block = min(_BLOCK_STEPS, max_iter)
    n_blocks = -(-max_iter // block)

    def value_fn(params):
        return loss_and_logits(params)[0]

    def train_step(state: _TrainState, _):
        (loss, logits), grads = jax.value_and_grad(loss_and_logits, has_aux=True)(state.params)
        if pass_extra_args:
            # Line-search optimizers (optax.lbfgs) need the value and a way to re-evaluate.
            updates, opt_state = optimizer.update(
                grads, state.opt_state, state.params, value=loss, grad=grads, value_fn=value_fn
            )
        else:
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        active = ~state.done
        # A non-finite gradient makes the update, and so the new parameters, non-finite
        # (unless the optimizer filters it), so the parameters are the check. One select
        # per leaf, for lanes both active and finite: the step's selects cost as much as
        # its products at p = 11.
        finite = jnp.isfinite(loss) & all_finite(params)
        record = jnp.where(active & finite, loss, jnp.nan)
        fits_all = jnp.all(correct(logits))
        rule_state, stop = rule.update(state.rule, record, state.step)
        keep = active & finite
        converged = keep & stop
        step = jnp.where(keep, state.step + 1, state.step)
        status = jnp.where(active & ~finite, jnp.int32(Status.NONFINITE),
                           jnp.where(converged, jnp.int32(Status.CONVERGED), state.status))
        new = _TrainState(
            step=step,
            params=tree_where(keep, params, state.params),
            opt_state=tree_where(keep, opt_state, state.opt_state),
            rule=tree_where(keep, rule_state, state.rule),
            steps_to_fit=jnp.where(keep & (state.steps_to_fit < 0) & fits_all, state.step,
                                   state.steps_to_fit),
            status=status,
            done=state.done | ~finite | converged | (step >= max_iter),
        )
        return new, record

    def run_block(carry):
        index, state, history = carry
        state, losses = lax.scan(train_step, state, None, length=block)
        history = lax.dynamic_update_slice(history, losses, (index * block,))
        return index + 1, state, history

    params0 = tree_where(valid, params0, jax.tree.map(jnp.zeros_like, params0))
    init = _TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params0,
        opt_state=optimizer.init(params0),
        rule=rule.init(dtype),
        steps_to_fit=jnp.full((), -1, jnp.int32),
        status=jnp.where(valid, jnp.int32(Status.MAX_ITER), jnp.int32(Status.INVALID_INPUT)),
        done=~valid,
    )
    history = jnp.full((n_blocks * block,), jnp.nan, dtype)
    _, final, history = lax.while_loop(
        lambda carry: ~carry[1].done, run_block, (jnp.zeros((), jnp.int32), init, history)
    )

    accuracy = jnp.mean(correct(loss_and_logits(final.params)[1]).astype(dtype))
    return MLPResult(
        params=final.params,
        n_iter=final.step,
        converged=final.status == Status.CONVERGED,
        status=final.status,
        history=history[:max_iter],
        steps_to_fit=final.steps_to_fit,
        train_accuracy=jnp.where(valid, accuracy, jnp.zeros((), dtype)),
        activation=activation,
        gain=gain,
    )


def _check_positive_float(name, value) -> float:
    try:
        value = float(value)
    except TypeError:
        raise ValueError(f"{name} must be a static Python number > 0, got {value!r}.") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return value


def fit(
    key: jax.Array,
    X: ArrayLike,
    y: ArrayLike,
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
    r"""Train an MLP on one data set, full batch, on the mean binary cross-entropy.

    The loss is :math:`L(\theta) = \frac1n\sum_i \ell(\text{logit}_i, y_i)` with optax's
    ``sigmoid_binary_cross_entropy`` on the logits (stable for any logit). Each step computes
    :math:`L_t = L(\theta_t)` and its gradient, records :math:`L_t` in ``history[t]`` and
    applies one optimizer update. When the stopping rule is met at step :math:`t`, that
    step's update is still applied, so ``n_iter = t + 1``. Two rules (:mod:`models._stopping`):

    * ``stopping="spread"`` (default, strict): converged at the first :math:`t \ge w`
      (:data:`CONVERGENCE_WINDOW` :math:`w = 10`) with

      .. math::

          \max_{t-w \le s \le t} L_s - \min_{t-w \le s \le t} L_s
          \;<\; \text{tol} \cdot \max(|L_{t-w}|, \text{tiny}),

      ``tol = 1e-7`` by default. Testing the window's spread keeps an oscillating loss
      (adam near the optimum) from passing when :math:`L_t` returns to :math:`L_{t-w}`. With
      ``hidden=()`` it reaches the GLM's fit.
    * ``stopping="sklearn"``: scikit-learn ``MLPClassifier``'s rule, converged once the loss
      has not improved by ``tol`` (default 1e-4) on its best for more than
      ``n_iter_no_change`` (10) steps in a row; ``n_iter`` is then scikit-learn's ``n_iter_``.
      :func:`~models.mlp.sklearn_stop` replays it on a recorded ``history``.

    On separable data the loss keeps falling towards 0 and the weights grow without bound,
    so the strict rule is normally not met (``MAX_ITER``); if the loss underflows to exactly
    0 it is met, with large finite weights.

    Works unchanged under ``jax.jit`` and ``jax.vmap`` (over data sets, and over ``key`` for
    restarts). Settings are static: each new combination compiles once (pass the same
    ``optimizer`` object to reuse a compilation). On CPU a vmapped fit runs its data sets in
    consecutive groups small enough to stay in cache (a ``custom_vmap`` rule, about 2x faster
    at 1000 data sets); results differ from one group's only in the last bits.

    Args:
        key: ``jax.random`` key for the Glorot initialisation (:func:`init_params`).
        X: ``[n, p]`` design matrix, intercept column included.
        y: ``[n]`` labels in {0, 1}.
        hidden: hidden layer widths, each >= 1; ``()`` is logistic regression by gradient
            descent, whose output weights ``params[-1].weight`` are ``[p]`` and correspond
            one to one to the GLM's ``coef`` (no extra bias: ``X`` has the intercept).
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"`` for the hidden units.
        gain: :math:`\alpha > 0` in the hidden units' :math:`\phi(\alpha z)` (the output unit
            is always :math:`\sigma(\text{logit})`).
        optimizer: any ``optax.GradientTransformation``; ``None`` means
            ``optax.adam(0.05)`` (:data:`DEFAULT_LEARNING_RATE`). Optimizers with extra
            arguments get ``value``, ``grad`` and ``value_fn``, so ``optax.lbfgs()`` works.
        max_iter: update budget, >= 1; also the length of ``history``.
        tol: the stopping rule's tolerance, > 0; ``None`` for the rule's default (1e-7 for
            ``"spread"``: relative spread over :data:`CONVERGENCE_WINDOW` steps; 1e-4 for
            ``"sklearn"``: absolute improvement on the best loss).
        stopping: ``"spread"`` or ``"sklearn"`` (above).
        n_iter_no_change: the ``"sklearn"`` rule's patience (scikit-learn's default 10).
        group_size: under ``jax.vmap``, how many data sets train together in one group
            (:mod:`models._batching`): ``None`` (default) sizes the groups for the platform,
            on CPU at most 256 data sets and about 8 MiB of working set
            (``models._batching.CPU_LANES``), elsewhere the whole batch up to 8 GiB of
            working set. Set it to tune for another CPU; results
            depend on it only in the last bits (XLA:CPU's batched matrix products round by
            batch size). Static; no effect on one fit.

    Returns:
        :class:`MLPResult`.

    Raises:
        ValueError: for a bad ``hidden`` (e.g. ``(0,)``), an unknown ``activation``,
            ``gain <= 0``, ``max_iter < 1``, ``tol <= 0``, an unknown ``stopping``,
            ``n_iter_no_change < 1``, an ``optimizer`` that is not an
            optax transformation, or wrong ranks / mismatched shapes of ``X`` and ``y``.
            Data problems do not raise: they give ``status == Status.INVALID_INPUT``.
    """
    check_design(X, y, name="mlp.fit")
    settings = check_settings(hidden=hidden, activation=activation, gain=gain,
                              optimizer=optimizer, max_iter=max_iter, tol=tol,
                              stopping=stopping, n_iter_no_change=n_iter_no_change,
                              group_size=group_size)
    dtype = float_dtype_of(X, y)
    return _fit(key, jnp.asarray(X, dtype), jnp.asarray(y, dtype), **settings)


def check_settings(*, hidden, activation, gain, optimizer, max_iter, tol, stopping,
                   n_iter_no_change, group_size) -> dict:
    """An MLP fit's static settings, checked and normalised (``optimizer=None``: the default).

    Raises:
        ValueError: as :func:`fit` says, naming the setting.
    """
    hidden = check_hidden(hidden)
    activation = check_choice("activation", activation, ACTIVATIONS)
    gain = _check_positive_float("gain", gain)
    max_iter = check_positive_int("max_iter", max_iter)
    stopping = check_choice("stopping", stopping, STOPPING)
    tol = _check_positive_float("tol", DEFAULT_TOL[stopping] if tol is None else tol)
    n_iter_no_change = check_positive_int("n_iter_no_change", n_iter_no_change)
    if optimizer is None:
        optimizer = _DEFAULT_OPTIMIZER
    elif not (callable(getattr(optimizer, "init", None))
              and callable(getattr(optimizer, "update", None))):
        raise ValueError(
            f"optimizer must be an optax.GradientTransformation (e.g. optax.adam(0.05)), "
            f"got {optimizer!r}."
        )
    return dict(hidden=hidden, activation=activation, gain=gain, optimizer=optimizer,
                max_iter=max_iter, tol=tol, stopping=stopping,
                n_iter_no_change=n_iter_no_change, group_size=check_group_size(group_size))


def predict(result: MLPResult, X: ArrayLike) -> jax.Array:
    r"""Probabilities of class 1 from a fitted MLP.

    Uses ``result.params`` with the activation and gain the fit was trained with (stored as
    static metadata on the result).

    Args:
        result: an :class:`MLPResult` for one data set (``vmap`` for a batch).
        X: ``[m, p]`` design matrix, intercept column included.

    Returns:
        ``[m]`` probabilities :math:`\sigma(\text{logit})`.
    """
    if np.ndim(result.params[-1].weight) != 1:
        raise ValueError("mlp.predict: this result has a K-unit output layer (a fit_multiclass "
                         "result); use mlp.predict_multiclass.")
    first = result.params[0].weight
    if np.ndim(X) != 2 or np.shape(X)[1] != np.shape(first)[0]:
        raise ValueError(
            f"mlp.predict: X must be [m, {np.shape(first)[0]}] (intercept column included), "
            f"got shape {np.shape(X)}."
        )
    logits = forward(result.params, X, activation=result.activation, gain=result.gain)
    return jax.nn.sigmoid(logits)
