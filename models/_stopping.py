r"""When an MLP's training stops: our strict rule, and scikit-learn's, in the loop or replayed.

A rule is a pair of pure functions over a small state that rides along the training loop
(optax's ``init`` / ``update`` shape): ``init(dtype)`` and ``update(state, loss, step) ->
(state, stop)``, fed the loss :math:`L_t` of the parameters after ``t`` updates.

* ``"spread"`` (the default, strict): stop at the first :math:`t \ge w`
  (:data:`CONVERGENCE_WINDOW` :math:`w = 10`) with
  :math:`\max_{t-w \le s \le t} L_s - \min_{t-w \le s \le t} L_s < \text{tol} \cdot
  \max(|L_{t-w}|, \text{tiny})`, default ``tol = 1e-7``. For a monotone loss this is the
  relative change over ``w`` steps; testing the window's spread keeps an oscillating loss
  (adam near the optimum) from passing when :math:`L_t` returns to :math:`L_{t-w}`.
* ``"sklearn"``: scikit-learn ``MLPClassifier``'s rule (``_update_no_improvement_count``
  with ``early_stopping=False``): a step counts as no improvement when
  :math:`L_t > \min_{s < t} L_s - \text{tol}`, the count resets otherwise, and training stops
  once more than ``n_iter_no_change`` (10) steps in a row did not improve, default
  ``tol = 1e-4``. scikit-learn stops after applying that step's update, as the loop here
  does, so ``n_iter`` is its ``n_iter_``. Its loss adds ``alpha`` (1e-4) times the squared
  weights; ours, and so the replay, is the plain cross-entropy.

:func:`sklearn_stop` replays scikit-learn's rule on a recorded history, so a strict fit
reports where scikit-learn would have stopped it.

References:
    scikit-learn, ``sklearn/neural_network/_multilayer_perceptron.py``
    (``BaseMultilayerPerceptron._update_no_improvement_count``, ``_fit_stochastic``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["CONVERGENCE_WINDOW", "STOPPING", "DEFAULT_TOL", "SKLEARN_N_ITER_NO_CHANGE",
           "StoppingRule", "stopping_rule", "sklearn_stop"]

#: ``w`` in the ``"spread"`` rule: the spread of the last ``w + 1`` losses is tested.
CONVERGENCE_WINDOW = 10

#: scikit-learn's ``n_iter_no_change`` default.
SKLEARN_N_ITER_NO_CHANGE = 10

#: The stopping rules by name, and their default ``tol``.
DEFAULT_TOL = {"spread": 1e-7, "sklearn": 1e-4}
STOPPING = tuple(DEFAULT_TOL)


class StoppingRule(NamedTuple):
    """A stopping rule: ``init(dtype) -> state``, ``update(state, loss, step) -> (state, stop)``.

    ``loss`` is the finite loss :math:`L_t` after ``step = t`` updates; ``stop`` is ``[]``
    bool. The state is a pytree of arrays (it rides along the loop under ``vmap``).
    """

    init: Callable[[Any], Any]
    update: Callable[[Any, jax.Array, jax.Array], tuple[Any, jax.Array]]


def _spread(tol: float, max_iter: int) -> StoppingRule:
    size = CONVERGENCE_WINDOW + 1

    def init(dtype):
        return jnp.full((size,), jnp.nan, dtype)  # window[k] = L_{t - w + k}

    def update(window, loss, step):
        window = jnp.concatenate([window[1:], loss[None]])
        if max_iter <= CONVERGENCE_WINDOW:
            return window, jnp.zeros((), bool)  # the window never fills
        spread = jnp.max(window) - jnp.min(window)
        scale = jnp.maximum(jnp.abs(window[0]), jnp.finfo(window.dtype).tiny)
        return window, (step >= CONVERGENCE_WINDOW) & (spread < tol * scale)

    return StoppingRule(init, update)


def _no_improvement(tol: float, n_iter_no_change: int) -> StoppingRule:
    def init(dtype):
        return jnp.asarray(jnp.inf, dtype), jnp.zeros((), jnp.int32)  # best loss, count

    def update(state, loss, step):
        del step
        best, count = state
        count = jnp.where(loss > best - tol, count + 1, 0)
        best = jnp.minimum(best, loss)
        return (best, count), count > n_iter_no_change

    return StoppingRule(init, update)


def stopping_rule(name: str, tol: float, *, max_iter: int,
                  n_iter_no_change: int = SKLEARN_N_ITER_NO_CHANGE) -> StoppingRule:
    """The rule ``name`` (one of :data:`STOPPING`) with its settings (module docstring)."""
    if name == "spread":
        return _spread(tol, max_iter)
    return _no_improvement(tol, n_iter_no_change)


def sklearn_stop(history: jax.Array, *, tol: float = DEFAULT_TOL["sklearn"],
                 n_iter_no_change: int = SKLEARN_N_ITER_NO_CHANGE):
    """Where scikit-learn ``MLPClassifier``'s rule would stop a recorded training run.

    Replays the ``"sklearn"`` rule on ``history`` (our fit's ``MLPResult.history``: the loss
    after ``t`` updates at index ``t``, NaN once the fit stopped). A run whose history ends
    before the rule fires is not stopped. Works under ``jit`` and ``vmap``.

    Args:
        history: ``[max_iter]`` losses.
        tol: scikit-learn's ``tol`` (default 1e-4).
        n_iter_no_change: scikit-learn's ``n_iter_no_change`` (default 10).

    Returns:
        ``(stopped, n_iter)``: ``[]`` bool, whether the rule fires within the history, and
        ``[]`` int32, the ``n_iter_`` scikit-learn would report then (the number of
        updates, the stopping one included); ``len(history)`` when it does not fire.
    """
    history = jnp.asarray(history)
    rule = _no_improvement(float(tol), int(n_iter_no_change))

    def visit(carry, loss_and_step):
        state, stopped, n_iter = carry
        loss, step = loss_and_step
        new_state, stop = rule.update(state, loss, step)
        live = ~stopped & jnp.isfinite(loss)
        fired = live & stop
        return ((jax.tree.map(lambda a, b: jnp.where(live, a, b), new_state, state),
                 stopped | fired, jnp.where(fired, step + 1, n_iter)), None)

    steps = jnp.arange(history.shape[0], dtype=jnp.int32)
    init = (rule.init(history.dtype), jnp.zeros((), bool), jnp.int32(history.shape[0]))
    # A stopped run's NaNs freeze the replay; "live" also stops it at the first NaN.
    (_, stopped, n_iter), _ = lax.scan(visit, init, (history, steps))
    return stopped, n_iter
