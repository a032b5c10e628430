"""The perceptron family: Rosenblatt's rule, its work and its reference library.

The fit is :func:`models.perceptron.fit`; the reference is scikit-learn's ``Perceptron``.
Importing this module imports no JAX; :func:`adapter` does, when it is called.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from bench.families.base import Library, Model, ModelFamily, Pairing

__all__ = ["FAMILY", "MODELS", "LIBRARIES", "PAIRINGS", "adapter", "work",
           "sklearn_perceptron"]


def work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """``4np`` FLOPs per epoch (score, update), one read of X and y."""
    del settings
    return 4 * n * p, n * (p + 1) * itemsize


def adapter(settings: Mapping, max_epochs: int):
    """The perceptron's fit of one data set, and its evaluation.

    Every setting (``lr``, ``averaged``, ...) is passed on to :func:`models.perceptron.fit`.
    """
    import jax.numpy as jnp

    from bench.families import fitting
    from models import perceptron

    options = dict(settings)

    def fit(key, X, y):
        del key
        return perceptron.fit(X, y, max_epochs=max_epochs, **options)

    def predict(result, X):
        return perceptron.predict(result, X)

    def evaluate(result, data):
        n = data.y_train.shape[0]
        last = jnp.maximum(result.n_iter - 1, 0)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=jnp.zeros((), bool),
            **fitting.accuracies(lambda X: predict(result, X), data),
            final_loss=result.history[last] / n, n_updates=result.n_updates,
            finite=fitting.finite((result.coef, result.pocket_coef)),
            history=result.history / n,
        )

    return fitting.make_adapter(fit, evaluate, max_epochs, predict)


FAMILY = ModelFamily("perceptron", "epochs", "mistakes / n per epoch", adapter,
                     mistake_bound=True)


def sklearn_perceptron(X, y, epochs: int, lr: float = 1.0):
    """scikit-learn's Perceptron running exactly ``epochs`` epochs of the same rule."""
    from sklearn.linear_model import Perceptron

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Perceptron(fit_intercept=False, shuffle=False, eta0=lr, tol=None,
                          max_iter=epochs).fit(X, y)


def _sklearn_fit(X, y, settings: Mapping, budget: int):
    unmatched = set(settings) - {"lr"}
    if unmatched:
        raise ValueError(f"scikit-learn's Perceptron has no equivalent of the settings "
                         f"{sorted(unmatched)}; pair it only with the plain rule.")
    return sklearn_perceptron(X, y, budget, settings.get("lr", 1.0))


LIBRARIES = {
    "sklearn_perceptron": Library("scikit-learn Perceptron", "sklearn", _sklearn_fit,
                                  package="scikit-learn"),
}

MODELS = (
    Model("perceptron", "Rosenblatt perceptron", "perceptron", "binomial", ("float32",), {},
          "perceptron_epochs", work, "tab:blue", scaling=("separable", "float32"),
          figures=("boundaries",)),
)

PAIRINGS = (Pairing("sklearn_perceptron", "perceptron", ("separable", "overlap")),)
