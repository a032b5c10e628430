"""How each model family is fitted and evaluated on ONE data set (traceable).

An :class:`Adapter` closes over a catalog entry's settings and budget (static Python values),
so only arrays cross ``jit``. The runner vmaps ``fit`` and ``evaluate`` over a batch. Every
family of :mod:`bench.catalog` has one here (a test walks the catalog).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp

from bench import catalog
from bench.catalog import history_step
from bench.presets import Preset
from models import glm, mlp, perceptron

__all__ = ["Adapter", "ADAPTERS", "adapter", "batched_fit"]


def _accuracy(decisions, y):
    return jnp.mean(((decisions > 0.5) == (y > 0.5)).astype(y.dtype))


def _accuracies(predict, data) -> dict:
    """Train and test accuracy of ``predict(X) -> decisions or probabilities``."""
    return dict(train_accuracy=_accuracy(predict(data.X_train), data.y_train),
                test_accuracy=_accuracy(predict(data.X_test), data.y_test))


def _finite(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves
                              if jnp.issubdtype(leaf.dtype, jnp.floating)]))


class Adapter(NamedTuple):
    """How the runner fits and evaluates one model of the catalog."""

    fit: Callable  # (key, X, y) -> result, for ONE data set
    evaluate: Callable  # (result, data of ONE data set) -> per-data-set Evaluation fields
    history_step: int  # subsampling stride of the history
    max_iter: int  # the iteration budget: IRLS iterations, epochs or steps


def _glm(settings: Mapping, max_iter: int) -> Adapter:
    family, firth = settings["family"], settings["firth"]
    separation = settings.get("separation", True)
    binary = family == "binomial"

    def fit(key, X, y):
        del key
        return glm.fit(X, y, family, firth=firth, max_iter=max_iter, separation=separation)

    def evaluate(result, data):
        n = data.y_train.shape[0]
        if binary:
            accuracies = _accuracies(lambda X: glm.predict(result, X), data)
        else:
            nan = jnp.asarray(jnp.nan, data.X_train.dtype)
            accuracies = dict(train_accuracy=nan, test_accuracy=nan)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=result.separated, **accuracies,
            final_loss=result.deviance / n, n_updates=jnp.zeros((), jnp.int32),
            finite=_finite((result.coef, result.bse, result.deviance)),
            history=result.history / n,
        )

    return Adapter(fit, evaluate, history_step(max_iter), max_iter)


def _perceptron(settings: Mapping, max_epochs: int) -> Adapter:
    del settings
    def fit(key, X, y):
        del key
        return perceptron.fit(X, y, max_epochs=max_epochs)

    def evaluate(result, data):
        n = data.y_train.shape[0]
        last = jnp.maximum(result.n_iter - 1, 0)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=jnp.zeros((), bool),
            **_accuracies(lambda X: perceptron.predict(result, X), data),
            final_loss=result.history[last] / n, n_updates=result.n_updates,
            finite=_finite((result.coef, result.pocket_coef)), history=result.history / n,
        )

    return Adapter(fit, evaluate, history_step(max_epochs), max_epochs)


def _mlp(settings: Mapping, max_iter: int) -> Adapter:
    hidden = tuple(settings["hidden"])
    def fit(key, X, y):
        return mlp.fit(key, X, y, hidden=hidden, max_iter=max_iter)

    def evaluate(result, data):
        last = jnp.maximum(result.n_iter - 1, 0)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=jnp.zeros((), bool),
            **_accuracies(lambda X: mlp.predict(result, X), data),
            final_loss=result.history[last], n_updates=jnp.zeros((), jnp.int32),
            finite=_finite(result.params), history=result.history,
            # Where scikit-learn's MLPClassifier rule would have stopped this very run.
            **dict(zip(("replay_stopped", "replay_n_iter"), mlp.sklearn_stop(result.history))),
        )

    return Adapter(fit, evaluate, history_step(max_iter), max_iter)


#: The adapter of each family of :mod:`bench.catalog`: ``(settings, max_iter) -> Adapter``.
ADAPTERS: dict[str, Callable[[Mapping, int], Adapter]] = {
    "perceptron": _perceptron, "glm": _glm, "mlp": _mlp}


def adapter(name: str, preset: Preset) -> Adapter:
    """The fit and evaluation of catalog model ``name`` with the preset's budget.

    Raises:
        ValueError: for a model the catalog lacks, or whose family has no adapter.
    """
    entry = catalog.model(name)
    if entry.family not in ADAPTERS:
        raise ValueError(f"model {name!r} is of family {entry.family!r}, which has no "
                         f"adapter in bench/adapters.py ({', '.join(ADAPTERS)}).")
    return ADAPTERS[entry.family](entry.settings, catalog.budget(entry, preset))


@functools.cache
def batched_fit(name: str, preset: Preset) -> Callable:
    """``jax.jit(jax.vmap(adapter(name, preset).fit))``, built once per model and preset.

    It takes ``keys [B, 2]``, ``X [B, n, p]``, ``y [B, n]``; one compilation per shape is
    shared by every caller (the figures' fits and the peer rows' comparison fits).
    """
    return jax.jit(jax.vmap(adapter(name, preset).fit))
