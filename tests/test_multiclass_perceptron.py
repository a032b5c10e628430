"""Multiclass perceptron: a NumPy reference, the binary rule at K = 2, Collins's mistake
bound, vmap, bad input, dtypes."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from models import perceptron
from models._status import Status

N_SETS, N_SAMPLES, N_FEATURES = 64, 60, 4
SHORT = 15  # epochs for the fits that a NumPy loop replays
LONG = 1000  # epochs for the bound: more than any bound below (checked), so all converge


@functools.cache
def batched_fit(max_epochs, lr=1.0):
    """The form the docstring gives: n_classes is the static third argument."""
    fit = functools.partial(perceptron.fit_multiclass, max_epochs=max_epochs, lr=lr)
    return jax.jit(jax.vmap(fit, in_axes=(0, 0, None)), static_argnums=2)


@functools.cache
def batched_fit_keyed(n_classes, max_epochs):
    return jax.jit(jax.vmap(lambda X, y, key: perceptron.fit_multiclass(
        X, y, n_classes, max_epochs=max_epochs, key=key)))


def design(rng, n, p):
    return np.concatenate([np.ones((n, 1)), rng.normal(size=(n, p - 1))], axis=1)


def separable_set(rng, n_classes, *, n=N_SAMPLES, p=N_FEATURES, margin=0.25):
    """Labels ``argmax X U.T`` for a unit-Frobenius ``U``, points within ``margin`` dropped."""
    U = rng.normal(size=(n_classes, p))
    U /= np.linalg.norm(U)
    kept = np.empty((0, p))
    while len(kept) < n:
        X = design(rng, 4 * n, p)
        top2 = np.sort(X @ U.T, axis=1)[:, -2:]
        kept = np.concatenate([kept, X[top2[:, 1] - top2[:, 0] >= margin]])
    X = kept[:n]
    return X, np.argmax(X @ U.T, axis=1), U


def overlap_set(rng, n_classes, *, n=N_SAMPLES, p=N_FEATURES):
    """Multinomial-logit labels, and point 1 a copy of point 0 with another label: never
    separable (no W scores one point's class above a second class and below it)."""
    X = design(rng, n, p)
    U = rng.normal(size=(n_classes, p))
    y = np.argmax(X @ U.T + rng.gumbel(size=(n, n_classes)), axis=1)
    X[1], y[1] = X[0], (y[0] + 1) % n_classes
    return X, y


@functools.cache
def batch(kind, n_classes, n_sets=N_SETS, seed=0):
    rng = np.random.default_rng([seed, n_classes, len(kind)])
    sets = [(separable_set if kind == "separable" else overlap_set)(rng, n_classes)
            for _ in range(n_sets)]
    return tuple(np.stack(parts) for parts in zip(*sets))


def orders_of(key, max_epochs, n):
    """The visiting orders of a keyed fit: permutation(fold_in(key, e), n) for each epoch."""
    return np.asarray(jax.vmap(lambda e: jax.random.permutation(jax.random.fold_in(key, e), n))(
        jnp.arange(max_epochs)))


def reference(X, y, n_classes, *, max_epochs, lr=1.0, orders=None):
    """Slow, obviously correct: Kesler's construction, one sample at a time."""
    W = np.zeros((n_classes, X.shape[1]), X.dtype)
    history = []
    for epoch in range(max_epochs):
        mistakes = 0
        for i in range(len(y)) if orders is None else orders[epoch]:
            s, label = W @ X[i], int(y[i])
            rival = max((j for j in range(n_classes) if j != label), key=lambda j: s[j])
            if s[rival] >= s[label]:
                W[label] += lr * X[i]
                W[rival] -= lr * X[i]
                mistakes += 1
        history.append(mistakes)
        if mistakes == 0:
            break
    return W, history


def take(tree, index):
    return jax.tree.map(lambda leaf: leaf[index], tree)


def assert_same(a, b):
    jax.tree.map(np.testing.assert_array_equal, a, b)


# ---------------------------------------------------------------- references


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n_classes", [3, 4])
def test_matches_numpy_reference(n_classes, shuffle):
    """coef, n_updates, n_iter and history equal a plain loop's, exactly (same orders)."""
    keys = jax.random.split(jax.random.key(n_classes), N_SETS)
    compared = {"converged": 0, "max_iter": 0}
    for kind in ("separable", "overlap"):
        X, y = batch(kind, n_classes)[:2]
        if shuffle:
            result = batched_fit_keyed(n_classes, SHORT)(X, y, keys)
        else:
            result = batched_fit(SHORT)(X, y, n_classes)
        for index in range(5):
            orders = orders_of(keys[index], SHORT, N_SAMPLES) if shuffle else None
            W, history = reference(X[index], y[index], n_classes, max_epochs=SHORT,
                                   orders=orders)
            got = take(result, index)
            np.testing.assert_array_equal(got.coef, W)
            assert int(got.n_iter) == len(history)
            assert int(got.n_updates) == sum(history)
            np.testing.assert_array_equal(got.history[:len(history)], history)
            assert np.all(np.isnan(np.asarray(got.history[len(history):])))
            converged = history[-1] == 0
            assert bool(got.converged) == converged
            assert int(got.status) == (Status.CONVERGED if converged else Status.MAX_ITER)
            compared["converged" if converged else "max_iter"] += 1
            predicted = np.argmax(X[index] @ W.T, axis=1)
            assert float(got.train_accuracy) == pytest.approx(np.mean(predicted == y[index]))
    assert min(compared.values()) >= 3, compared  # both endings were replayed


def test_many_features_take_the_looped_scores():
    """Past ``_UNROLL_FEATURES`` the scores are summed in a loop: same fit as the reference."""
    from models._multiclass_perceptron import _UNROLL_FEATURES

    rng = np.random.default_rng(3)
    for X, y in (overlap_set(rng, 3, n=30, p=_UNROLL_FEATURES + 4),
                 separable_set(rng, 3, n=30, p=_UNROLL_FEATURES + 4, margin=0.05)[:2]):
        got = perceptron.fit_multiclass(X, y, 3, max_epochs=SHORT)
        W, history = reference(X, y, 3, max_epochs=SHORT)
        np.testing.assert_array_equal(got.coef, W)
        assert int(got.n_iter) == len(history) and int(got.n_updates) == sum(history)
        np.testing.assert_array_equal(perceptron.predict_multiclass(got, X),
                                      np.argmax(X @ W.T, axis=1))


def test_two_classes_make_the_binary_perceptrons_decisions():
    """K = 2: W[1] - W[0] = 2 w of models.perceptron.fit (lr = 1), same epochs and updates."""
    for kind in ("separable", "overlap"):
        X, y = batch(kind, 2)[:2]
        multi = batched_fit(SHORT)(X, y, 2)
        binary = jax.jit(jax.vmap(functools.partial(perceptron.fit, max_epochs=SHORT)))(
            X, y.astype(np.float64))
        np.testing.assert_array_equal(multi.coef[:, 1] - multi.coef[:, 0], 2 * binary.coef)
        for field in ("n_iter", "n_updates", "converged", "status", "history"):
            np.testing.assert_array_equal(getattr(multi, field), getattr(binary, field))
        if kind == "separable":
            assert np.any(np.asarray(multi.converged))


# ---------------------------------------------------------------- theory


@pytest.mark.parametrize("n_classes, shuffle", [(3, False), (4, True)])
def test_collins_mistake_bound(n_classes, shuffle):
    """On 200 data sets separated with margin >= 0.25 by a unit-Frobenius U, every fit
    converges and makes at most R^2 / gamma^2 updates, R^2 = 2 max ||x||^2 (any order)."""
    X, y, U = batch("separable", n_classes, n_sets=200, seed=1)
    bound = np.array([perceptron.mistake_bound(X[i], y[i], U[i]) for i in range(len(y))])
    assert np.all(np.isfinite(bound))
    # Every epoch but the last makes an update: convergence within LONG epochs is certain.
    assert bound.max() + 1 <= LONG
    if shuffle:
        keys = jax.random.split(jax.random.key(2), len(y))
        result = batched_fit_keyed(n_classes, LONG)(X, y, keys)
    else:
        result = batched_fit(LONG)(X, y, n_classes)
    assert np.all(np.asarray(result.status) == Status.CONVERGED)
    n_updates = np.asarray(result.n_updates)
    assert np.all(n_updates <= bound), (n_updates / bound).max()
    assert np.all(np.asarray(result.n_iter) <= n_updates + 1)
    np.testing.assert_array_equal(np.nansum(np.asarray(result.history), axis=1), n_updates)
    # Converged weights classify the training set; so would any positive rescaling of U.
    np.testing.assert_array_equal(jax.vmap(perceptron.predict_multiclass)(result, X), y)
    np.testing.assert_array_equal(result.train_accuracy, 1.0)
    assert perceptron.mistake_bound(X[0], y[0], 7 * U[0]) == pytest.approx(bound[0])


def test_mistake_bound_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    U = np.array([[1.0, 0.0], [0.0, 1.0]])  # ||U||_F = sqrt 2: gamma = 1 / sqrt 2
    assert perceptron.mistake_bound(X, np.array([0, 1]), U) == pytest.approx(2 * 4 / 0.5)
    assert perceptron.mistake_bound(X, np.array([1, 1]), U) == np.inf  # not separated
    assert perceptron.mistake_bound(X, np.array([0, 1]), np.zeros((2, 2))) == np.inf
    with pytest.raises(ValueError, match="labels"):
        perceptron.mistake_bound(X, np.array([0, 2]), U)
    with pytest.raises(ValueError, match="U"):
        perceptron.mistake_bound(X, np.array([0, 1]), U[:, :1])


def test_non_separable_data_never_converge():
    X, y = batch("overlap", 3)[:2]
    result = batched_fit(SHORT)(X, y, 3)
    assert not np.any(np.asarray(result.converged))
    assert np.all(np.asarray(result.status) == Status.MAX_ITER)
    assert np.all(np.asarray(result.n_iter) == SHORT)
    history = np.asarray(result.history)
    assert np.all(history >= 1)  # the conflicting pair costs a mistake every epoch
    np.testing.assert_array_equal(history.sum(axis=1), result.n_updates)


def test_lr_only_rescales_and_labels_may_be_integers():
    X, y = batch("overlap", 3)[:2]
    base = batched_fit(SHORT)(X, y.astype(np.float64), 3)
    scaled = batched_fit(SHORT, lr=0.25)(X, y, 3)  # int labels, exact power-of-two steps
    np.testing.assert_array_equal(scaled.coef, 0.25 * base.coef)
    for field in ("n_updates", "n_iter", "history", "status", "train_accuracy"):
        np.testing.assert_array_equal(getattr(scaled, field), getattr(base, field))


# ---------------------------------------------------------------- jit, vmap, dtypes


def test_vmap_equals_loop_of_single_fits():
    X, y = batch("overlap", 3)[:2]
    keys = jax.random.split(jax.random.key(5), N_SETS)
    fixed = batched_fit(SHORT)(X, y, 3)
    keyed = batched_fit_keyed(3, SHORT)(X, y, keys)
    assert not np.array_equal(fixed.coef, keyed.coef)
    for index in range(3):
        assert_same(take(fixed, index), perceptron.fit_multiclass(X[index], y[index], 3,
                                                                  max_epochs=SHORT))
        assert_same(take(keyed, index), perceptron.fit_multiclass(
            X[index], y[index], 3, max_epochs=SHORT, key=keys[index]))


def test_float32_stays_float32_and_overflow_is_nonfinite():
    X, y = batch("overlap", 3)[:2]
    X32, y32 = X.astype(np.float32), y.astype(np.int32)
    result = batched_fit(SHORT)(X32, y32, 3)
    for field in ("coef", "history", "train_accuracy"):
        assert getattr(result, field).dtype == jnp.float32
    for field in ("n_updates", "n_iter", "status"):
        assert getattr(result, field).dtype == jnp.int32
    for index in range(3):  # the same float32 additions in the same order
        W, history = reference(X32[index], y32[index], 3, max_epochs=SHORT)
        np.testing.assert_array_equal(result.coef[index], W)
        assert int(result.n_updates[index]) == sum(history)

    overflow = batched_fit(SHORT, lr=1e38)(X32, y32, 3)
    status, n_iter = np.asarray(overflow.status), np.asarray(overflow.n_iter)
    assert np.mean(status == Status.NONFINITE) > 0.5
    assert np.all(np.isin(status, [Status.NONFINITE, Status.MAX_ITER]))
    assert not np.any(np.asarray(overflow.converged))
    assert np.all(np.isfinite(np.asarray(overflow.coef)))  # the last finite epoch's
    for index in np.flatnonzero(status == Status.NONFINITE):
        history = np.asarray(overflow.history[index])
        assert np.all(np.isfinite(history[:n_iter[index]]))
        assert np.all(np.isnan(history[n_iter[index]:]))


def test_float64_is_float64():
    assert jax.config.jax_enable_x64  # tests/conftest.py
    X, y = batch("overlap", 3)[:2]
    result = batched_fit(SHORT)(X, y, 3)
    assert result.coef.dtype == jnp.float64 and result.history.dtype == jnp.float64


# ---------------------------------------------------------------- bad input


def test_invalid_data_sets_are_flagged_without_touching_the_others():
    X, y = batch("overlap", 3)[:2]
    X, y = X.copy(), y.astype(np.float64)
    X[1, 3, 1] = np.nan
    X[2, 0, 2] = np.inf
    y[3, 5] = np.nan
    y[4, 7] = 3.0  # == K
    y[5, 8] = 1.5
    y[6, 9] = -1.0
    result = batched_fit(SHORT)(X, y, 3)
    clean = batched_fit(SHORT)(*batch("overlap", 3)[:2], 3)
    bad = slice(1, 7)
    np.testing.assert_array_equal(result.status[bad], Status.INVALID_INPUT)
    np.testing.assert_array_equal(result.coef[bad], 0.0)
    for field in ("n_iter", "n_updates", "train_accuracy", "converged"):
        np.testing.assert_array_equal(getattr(result, field)[bad], 0)
    assert np.all(np.isnan(np.asarray(result.history[bad])))
    others = np.r_[0, 7:N_SETS]
    assert np.all(np.asarray(result.status)[others] != Status.INVALID_INPUT)
    assert_same(take(result, others), take(clean, others))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.ones((5, 2)), np.ones(5), 1), {}, "n_classes must be >= 2"),
        ((np.ones((5, 2)), np.ones(5), 3.0), {}, "n_classes"),
        ((np.ones((5, 2)), np.ones(5), True), {}, "n_classes"),
        ((np.ones((5, 2)), np.ones(5), 3), {"max_epochs": 0}, "max_epochs"),
        ((np.ones((5, 2)), np.ones(5), 3), {"lr": 0.0}, "lr"),
        ((np.ones((5, 2)), np.ones(5), 3), {"lr": np.nan}, "lr"),
        ((np.ones((5, 2)), np.ones(4), 3), {}, "rows"),
        ((np.ones(5), np.ones(5), 3), {}, "2-D"),
        ((np.ones((5, 2)), np.ones((5, 1)), 3), {}, "1-D"),
    ],
)
def test_static_mistakes_raise(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        perceptron.fit_multiclass(*args, **kwargs)


def test_traced_n_classes_raises_with_the_fix():
    fit = jax.jit(jax.vmap(perceptron.fit_multiclass, in_axes=(0, 0, None)))  # not static
    with pytest.raises(ValueError, match="static_argnums"):
        fit(np.ones((2, 5, 2)), np.zeros((2, 5)), 3)


def test_predict_ties_and_errors():
    X, y = batch("overlap", 3)[:2]
    result = take(batched_fit(SHORT)(X, y, 3), 0)
    predicted = perceptron.predict_multiclass(result, X[0])
    assert predicted.dtype == jnp.int32
    np.testing.assert_array_equal(predicted, np.argmax(X[0] @ np.asarray(result.coef).T, 1))
    assert float(np.mean(np.asarray(predicted) == y[0])) == pytest.approx(
        float(result.train_accuracy))
    zero = result._replace(coef=jnp.zeros_like(result.coef))
    np.testing.assert_array_equal(perceptron.predict_multiclass(zero, X[0]), 0)  # first index
    with pytest.raises(ValueError, match="X must be"):
        perceptron.predict_multiclass(result, X[0][:, :2])
    with pytest.raises(ValueError, match="vmap"):
        perceptron.predict_multiclass(batched_fit(SHORT)(X, y, 3), X[0])
