"""What every family's adapter is made of (JAX): the :class:`Adapter` and its shared pieces.

A family module's ``adapter(settings, max_iter)`` imports this module when it is called
(never on import), so that the catalog, which the report reads, imports no JAX.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from bench.families.base import history_step

__all__ = ["Adapter", "make_adapter", "accuracy", "accuracies", "class_accuracies", "finite",
           "no_accuracies", "epoch_fields", "step_fields"]


class Adapter(NamedTuple):
    """How the runner fits and evaluates one model of the catalog.

    Attributes:
        fit: ``(key, X, y) -> result``, for ONE data set (traceable; the runner vmaps it).
        evaluate: ``(result, data of ONE data set) -> dict`` of the per-data-set fields of
            :class:`bench.runner.FitOutcome` (``history`` included, not yet subsampled).
        history_step: subsampling stride of the history.
        max_iter: the iteration budget: IRLS iterations, epochs or steps.
        predict: ``(result, X) -> [m]`` probabilities of class 1 (or 0/1 decisions), or
            None; the boundary figure draws its 0.5 contour for a ``"contour"`` family.
    """

    fit: Callable
    evaluate: Callable
    history_step: int
    max_iter: int
    predict: Callable | None = None


def make_adapter(fit: Callable, evaluate: Callable, max_iter: int,
                 predict: Callable | None = None) -> Adapter:
    """An :class:`Adapter` whose history is kept to the published number of points."""
    return Adapter(fit, evaluate, history_step(max_iter), max_iter, predict)


def accuracy(decisions, y):
    """Share of ``decisions`` (or probabilities) on the side of 0.5 of the 0/1 labels ``y``."""
    return jnp.mean(((decisions > 0.5) == (y > 0.5)).astype(y.dtype))


def accuracies(predict: Callable, data) -> dict:
    """Train and test accuracy of ``predict(X) -> decisions or probabilities``."""
    return dict(train_accuracy=accuracy(predict(data.X_train), data.y_train),
                test_accuracy=accuracy(predict(data.X_test), data.y_test))


def class_accuracies(predict_class: Callable, data) -> dict:
    """Train and test accuracy of ``predict_class(X) -> [m]`` class indices (K classes)."""
    def share(X, y):
        return jnp.mean((predict_class(X) == y.astype(jnp.int32)).astype(y.dtype))

    return dict(train_accuracy=share(data.X_train, data.y_train),
                test_accuracy=share(data.X_test, data.y_test))


def no_accuracies(data) -> dict:
    """NaN train and test accuracy, for responses that are not labels."""
    nan = jnp.asarray(jnp.nan, data.X_train.dtype)
    return dict(train_accuracy=nan, test_accuracy=nan)


def epoch_fields(result, n: int, accuracies: dict, weights) -> dict:
    """A perceptron's evaluation: its mistakes per epoch, as shares of the ``n`` samples.

    ``weights`` are the arrays that must be finite; ``accuracies`` the model's own.
    """
    last = jnp.maximum(result.n_iter - 1, 0)
    return dict(status=result.status, n_iter=result.n_iter, converged=result.converged,
                separated=jnp.zeros((), bool), **accuracies,
                final_loss=result.history[last] / n, n_updates=result.n_updates,
                finite=finite(weights), history=result.history / n)


def step_fields(result, accuracies: dict) -> dict:
    """An MLP's evaluation, and where scikit-learn's ``MLPClassifier`` rule would have stopped.

    ``accuracies`` are the model's own (two classes or K).
    """
    from models.mlp import sklearn_stop

    last = jnp.maximum(result.n_iter - 1, 0)
    return dict(status=result.status, n_iter=result.n_iter, converged=result.converged,
                separated=jnp.zeros((), bool), **accuracies,
                final_loss=result.history[last], n_updates=jnp.zeros((), jnp.int32),
                finite=finite(result.params), history=result.history,
                **dict(zip(("replay_stopped", "replay_n_iter"), sklearn_stop(result.history))))


def finite(tree):
    """Whether every floating leaf of ``tree`` is finite (a scalar bool)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves
                              if jnp.issubdtype(leaf.dtype, jnp.floating)]))
