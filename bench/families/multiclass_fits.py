"""The K-class models' adapters and the K-class regimes' generators (JAX).

Imported by :mod:`bench.families.multiclass` only when something is fitted or drawn.

Generators (the signature of :mod:`bench.generators`, and ``n_classes``; labels
``0 .. K-1``):

========== =================================================================================
separable3 ``K`` score vectors ``U`` (intercept first, ``||U||_F = 1``); a point's class is
           its highest score, and only points whose own score beats every other by at least
           ``margin`` are kept (of twice as many drawn), so ``U`` separates them with
           margin ``>= margin`` in the sense of Kesler's construction; its realised margin
           is the least ``min_{j != k_i} (u_{k_i} - u_j) . x_i``.
overlap3   labels drawn from the multinomial logit with reference class 0 and
           ``B = signal (b_k, u_k)`` (``u_k`` unit, ``b_k ~ N(0, 1/4)``), as ``overlap``.
rings3     class ``k`` on the ring of radii ``k + margin/2 .. k + 1`` in the first two
           features (class 0 a disc), other features N(0, 1): no linear model separates a
           ring from the disc inside it.
========== =================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from bench.families import fitting
from models import mlp, multinomial, perceptron

__all__ = ["adapter", "separable", "overlap", "rings", "collins_ratio"]


def _with_intercept(features):
    return jnp.concatenate([jnp.ones(features.shape[:-1] + (1,), features.dtype), features],
                           axis=-1)


def separable(keys, n_total, n_features, margin, signal, dtype, *, n_classes: int):
    """K-class data separated by ``U`` with margin ``>= margin`` (module docstring)."""
    del signal
    k_coef, k_icpt, k_x, _ = keys
    U = jnp.concatenate([0.5 * jax.random.normal(k_icpt, (n_classes, 1), dtype),
                         jax.random.normal(k_coef, (n_classes, n_features), dtype)], axis=1)
    U = U / jnp.linalg.norm(U)
    X = _with_intercept(jax.random.normal(k_x, (2 * n_total, n_features), dtype))
    scores = X @ U.T
    labels = jnp.argmax(scores, axis=1)
    own = jnp.take_along_axis(scores, labels[:, None], axis=1)[:, 0]
    rival = jnp.max(jnp.where(jax.nn.one_hot(labels, n_classes, dtype=bool), -jnp.inf, scores),
                    axis=1)
    gap = own - rival
    keep = jnp.argsort(gap < margin, stable=True)[:n_total]  # the wide-margin points first
    return (X[keep], labels[keep].astype(dtype), jnp.full((n_features + 1,), jnp.nan, dtype),
            gap[keep])


def overlap(keys, n_total, n_features, margin, signal, dtype, *, n_classes: int):
    """Labels drawn from the multinomial logit (module docstring)."""
    del margin
    k_coef, k_icpt, k_x, k_y = keys
    u = jax.random.normal(k_coef, (n_features, n_classes - 1), dtype)
    u = u / jnp.linalg.norm(u, axis=0, keepdims=True)
    b = 0.5 * jax.random.normal(k_icpt, (1, n_classes - 1), dtype)
    B = signal * jnp.concatenate([b, u], axis=0)
    X = _with_intercept(jax.random.normal(k_x, (n_total, n_features), dtype))
    eta = jnp.concatenate([jnp.zeros((n_total, 1), dtype), X @ B], axis=1)
    y = jax.random.categorical(k_y, eta, axis=1).astype(dtype)
    return X, y, jnp.full((n_features + 1,), jnp.nan, dtype)


def rings(keys, n_total, n_features, margin, signal, dtype, *, n_classes: int):
    """Concentric rings, one class each (module docstring)."""
    del signal
    k_label, k_angle, k_radius, k_noise = jax.random.split(keys[2], 4)
    y = jax.random.randint(k_label, (n_total,), 0, n_classes)
    angle = jax.random.uniform(k_angle, (n_total,), dtype, 0.0, 2.0 * jnp.pi)
    inner = jnp.where(y > 0, y + 0.5 * margin, 0.0).astype(dtype)
    outer = (y + 1).astype(dtype)
    # Uniform over the ring's area.
    radius = jnp.sqrt(inner**2 + (outer**2 - inner**2)
                      * jax.random.uniform(k_radius, (n_total,), dtype))
    noise = jax.random.normal(k_noise, (n_total, n_features - 2), dtype)
    features = jnp.concatenate([(radius * jnp.cos(angle))[:, None],
                                (radius * jnp.sin(angle))[:, None], noise], axis=1)
    return (_with_intercept(features), y.astype(dtype),
            jnp.full((n_features + 1,), jnp.nan, dtype))


def collins_ratio(n_updates, X, margin):
    r"""``n_updates / (R^2 / gamma^2)`` with Kesler's ``R^2 = 2 max ||x_i||^2``.

    ``gamma`` is the data set's realised margin of a separator of unit Frobenius norm
    (NaN where the regime has none, and so the ratio). Collins (2002), Theorem 1.
    """
    radius_sq = 2 * jnp.max(jnp.sum(X * X, axis=1))
    return n_updates / (radius_sq / margin**2)


def _options(settings: Mapping) -> tuple[int, dict]:
    options = dict(settings)
    n_classes = options.pop("n_classes")
    if "hidden" in options:
        options["hidden"] = tuple(options["hidden"])
    return n_classes, options


def adapter(kind: str, settings: Mapping, max_iter: int) -> fitting.Adapter:
    """The fit and evaluation of one data set by the K-class model ``kind``.

    ``kind`` is ``"glm"`` (:func:`models.multinomial.fit`), ``"perceptron"``
    (:func:`models.perceptron.fit_multiclass`) or ``"mlp"``
    (:func:`models.mlp.fit_multiclass`); ``settings`` hold ``n_classes`` and the rest is
    passed on to the fit.
    """
    k, options = _options(settings)
    if kind == "glm":
        def fit(key, X, y):
            del key
            return multinomial.fit(X, y, k, max_iter=max_iter, **options)

        def predict(result, X):
            return multinomial.predict(result, X)

        def evaluate(result, data):
            n = data.y_train.shape[0]
            return dict(
                status=result.status, n_iter=result.n_iter, converged=result.converged,
                separated=result.separated,
                **fitting.class_accuracies(lambda X: jnp.argmax(predict(result, X), 1), data),
                final_loss=result.deviance / n, n_updates=jnp.zeros((), jnp.int32),
                # A separated fit's standard errors may be NaN (its information is singular
                # in the limit, models._multinomial); its estimates must still be finite.
                finite=fitting.finite((result.coef, result.deviance))
                & (result.separated | fitting.finite(result.bse)),
                history=result.history / n)
    elif kind == "perceptron":
        def fit(key, X, y):
            del key
            return perceptron.fit_multiclass(X, y, k, max_epochs=max_iter, **options)

        def predict(result, X):
            return jax.nn.one_hot(perceptron.predict_multiclass(result, X), k, dtype=X.dtype)

        def evaluate(result, data):
            accuracies = fitting.class_accuracies(
                lambda X: perceptron.predict_multiclass(result, X), data)
            return dict(**fitting.epoch_fields(result, data.y_train.shape[0], accuracies,
                                               result.coef),
                        novikoff_ratio=collins_ratio(result.n_updates, data.X_train,
                                                     data.margin))
    elif kind == "mlp":
        def fit(key, X, y):
            return mlp.fit_multiclass(key, X, y, k, max_iter=max_iter, **options)

        def predict(result, X):
            return mlp.predict_multiclass(result, X)

        def evaluate(result, data):
            return fitting.step_fields(result, fitting.class_accuracies(
                lambda X: jnp.argmax(predict(result, X), 1), data))
    else:
        raise ValueError(f"unknown K-class model kind {kind!r}; choose glm, perceptron or mlp.")
    return fitting.make_adapter(fit, evaluate, max_iter, predict)
