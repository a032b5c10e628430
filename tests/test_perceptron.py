"""Perceptron: scikit-learn parity, Novikoff's bound, the pocket, batching, compilation."""

from __future__ import annotations

import functools
import logging
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bench import datasets
from models import perceptron
from models._status import Status

EXACT = 1e-9  # float64: the same updates in the same order, only the dot products' rounding


def make(regime, seed, **kwargs):
    kwargs.setdefault("dtype", jnp.float64)
    return datasets.make(regime, jax.random.key(seed), **kwargs)


@functools.cache
def batched_fit(**settings):
    """``jit(vmap(fit))`` per settings, cached so tests share compilations."""
    return jax.jit(jax.vmap(functools.partial(perceptron.fit, **settings)))


@functools.cache
def batched_fit_keyed(**settings):
    """As :func:`batched_fit`, with one shuffling key per data set."""
    return jax.jit(jax.vmap(lambda X, y, key: perceptron.fit(X, y, key=key, **settings)))


# The settings most tests share (one compilation): averaged=True reports the plain online
# weights too (last_coef), so it covers both.
SHARED = dict(max_epochs=10, averaged=True)


def reference_perceptron(X, y, *, max_epochs, lr=1.0, orders=None):
    """Slow, obviously correct: Rosenblatt's rule, pocket at epoch ends, running average."""
    n, p = X.shape
    signs = 2 * y - 1
    w, w_sum = np.zeros(p), np.zeros(p)
    pocket, pocket_correct = w.copy(), np.sum((X @ w > 0) == (y > 0.5))
    history, n_updates, converged, epochs = [], 0, False, 0
    for epoch in range(max_epochs):
        mistakes = 0
        for i in range(n) if orders is None else orders[epoch]:
            if signs[i] * (X[i] @ w) <= 0:
                w = w + lr * signs[i] * X[i]
                mistakes += 1
            w_sum = w_sum + w
        epochs += 1
        history.append(mistakes)
        n_updates += mistakes
        correct = np.sum((X @ w > 0) == (y > 0.5))
        if correct > pocket_correct:
            pocket, pocket_correct = w.copy(), correct
        if mistakes == 0:
            converged = True
            break
    return dict(
        coef=w, average=w_sum / (epochs * n), pocket=pocket, pocket_accuracy=pocket_correct / n,
        history=np.array(history, float), n_updates=n_updates, converged=converged,
    )


def take(tree, index):
    return jax.tree.map(lambda leaf: leaf[index], tree)


def assert_trees_close(a, b, rtol=1e-12):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=0), a, b)


@pytest.fixture(scope="module")
def data():
    return {
        regime: make(regime, seed, n_datasets=32, n_samples=60, n_features=3)
        for seed, regime in enumerate(("separable", "overlap"))
    }


# ---------------------------------------------------------------- references


@pytest.mark.parametrize("epochs", [1, 3, 10])
@pytest.mark.parametrize("regime", ["separable", "overlap"])
def test_matches_sklearn_perceptron(data, regime, epochs):
    """After E epochs: last_coef == sklearn's Perceptron, coef (averaged) == its ASGD.

    sklearn's Perceptron is SGD on the hinge at threshold 0 without penalty: it updates when
    ``y w.x <= 0`` and, with ``tol=None``, never stops early; after a mistake-free epoch it
    makes no update, so our stopping there leaves the same weights.
    """
    from sklearn.linear_model import Perceptron, SGDClassifier

    batch = data[regime]
    result = batched_fit(max_epochs=epochs, averaged=True)(batch.X_train, batch.y_train)
    compared_average = 0
    for index in range(12):
        X, y = np.asarray(batch.X_train[index]), np.asarray(batch.y_train[index])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached
            rosenblatt = Perceptron(
                fit_intercept=False, shuffle=False, eta0=1.0, tol=None, max_iter=epochs,
                penalty=None, alpha=0.0,
            ).fit(X, y)
            asgd = SGDClassifier(
                loss="perceptron", penalty=None, alpha=0.0, learning_rate="constant", eta0=1.0,
                fit_intercept=False, shuffle=False, tol=None, max_iter=epochs, average=True,
            ).fit(X, y)
        np.testing.assert_allclose(result.last_coef[index], rosenblatt.coef_[0], rtol=0,
                                   atol=EXACT)
        # Averages agree only when both ran the same number of epochs: sklearn keeps
        # averaging the (unchanging) weights after a clean epoch, we stop.
        if int(result.n_iter[index]) == epochs:
            compared_average += 1
            np.testing.assert_allclose(result.coef[index], asgd.coef_[0], rtol=0, atol=EXACT)
    assert compared_average > 0
    if regime == "overlap":
        assert compared_average == 12


@pytest.mark.parametrize("shuffle", [False, True])
def test_matches_slow_reference(data, shuffle):
    """Every reported field against a plain-Python loop (same visiting orders)."""
    max_epochs = SHARED["max_epochs"]
    for regime in ("separable", "overlap"):
        batch = data[regime]
        keys = jax.random.split(jax.random.key(7), batch.X_train.shape[0])
        if shuffle:
            result = batched_fit_keyed(**SHARED)(batch.X_train, batch.y_train, keys)
        else:
            result = batched_fit(**SHARED)(batch.X_train, batch.y_train)
        n = batch.X_train.shape[1]
        for index in range(4):
            orders = None
            if shuffle:
                orders = [
                    np.asarray(jax.random.permutation(jax.random.fold_in(keys[index], e), n))
                    for e in range(max_epochs)
                ]
            want = reference_perceptron(
                np.asarray(batch.X_train[index]), np.asarray(batch.y_train[index]),
                max_epochs=max_epochs, orders=orders,
            )
            got = take(result, index)
            epochs = len(want["history"])
            np.testing.assert_allclose(got.coef, want["average"], atol=EXACT)
            np.testing.assert_allclose(got.last_coef, want["coef"], atol=EXACT)
            np.testing.assert_allclose(got.pocket_coef, want["pocket"], atol=EXACT)
            assert float(got.pocket_accuracy) == pytest.approx(want["pocket_accuracy"])
            assert int(got.n_iter) == epochs
            assert int(got.n_updates) == want["n_updates"]
            assert bool(got.converged) == want["converged"]
            np.testing.assert_array_equal(got.history[:epochs], want["history"])
            assert np.all(np.isnan(np.asarray(got.history[epochs:])))


def test_many_features_take_the_looped_margins():
    """Past ``_UNROLL_FEATURES`` the pocket's margins are summed in a loop: same fit."""
    from models._perceptron import _UNROLL_FEATURES

    n_features = _UNROLL_FEATURES + 8
    for regime in ("separable", "overlap"):
        batch = make(regime, 11, n_datasets=4, n_samples=50, n_features=n_features)
        result = batched_fit(**SHARED)(batch.X_train, batch.y_train)
        for index in range(4):
            want = reference_perceptron(
                np.asarray(batch.X_train[index]), np.asarray(batch.y_train[index]),
                max_epochs=SHARED["max_epochs"],
            )
            got = take(result, index)
            np.testing.assert_allclose(got.last_coef, want["coef"], atol=EXACT)
            np.testing.assert_allclose(got.pocket_coef, want["pocket"], atol=EXACT)
            assert float(got.pocket_accuracy) == pytest.approx(want["pocket_accuracy"])


# ---------------------------------------------------------------- theory


@pytest.mark.parametrize("shuffle", [False, True])
def test_novikoff_bound(shuffle):
    """Novikoff (1962): if ``s_i x_i.u >= gamma > 0`` for a unit ``u`` and ``||x_i|| <= R``,
    the perceptron makes at most ``(R / gamma)**2`` updates, in any visiting order.

    Checked on 512 separable data sets, in the intercept-augmented space:
    ``gamma = min_i (2 y_i - 1) X_i.c / ||c||`` with ``c = coef_true`` and
    ``R = max_i ||X_i||``; every run converges and ``n_updates <= (R / gamma)**2``.
    ``max_epochs = ceil(max bound) + 1`` guarantees convergence, since every epoch before
    the last makes at least one update.
    """
    # 16 chunks of the module's batch shape: the generator is compiled once for all tests.
    chunks = [
        make("separable", 11, n_datasets=32, n_samples=60, n_features=3, start=start)
        for start in range(0, 512, 32)
    ]
    batch = jax.tree.map(lambda *leaves: jnp.concatenate(leaves), *chunks)
    X, y = np.asarray(batch.X_train), np.asarray(batch.y_train)
    coef = np.asarray(batch.coef_true)
    gamma = np.min((2 * y - 1) * np.einsum("bnp,bp->bn", X, coef), axis=1)
    gamma = gamma / np.linalg.norm(coef, axis=1)
    radius = np.linalg.norm(X, axis=2).max(axis=1)
    bound = (radius / gamma) ** 2
    assert np.all(gamma > 0)
    max_epochs = int(np.ceil(bound.max())) + 1

    if shuffle:
        keys = jax.random.split(jax.random.key(1), X.shape[0])
        result = batched_fit_keyed(max_epochs=max_epochs)(batch.X_train, batch.y_train, keys)
    else:
        result = batched_fit(max_epochs=max_epochs)(batch.X_train, batch.y_train)
    assert np.all(np.asarray(result.converged))
    assert np.all(np.asarray(result.status) == Status.CONVERGED)
    n_updates = np.asarray(result.n_updates)
    assert np.all(n_updates <= bound), (n_updates / bound).max()
    assert np.all(np.asarray(result.n_iter) <= n_updates + 1)
    # Converged weights separate the training set.
    predictions = jax.vmap(perceptron.predict)(result, batch.X_train)
    np.testing.assert_array_equal(predictions, y)
    print(f"shuffle={shuffle}: max n_updates / (R/gamma)^2 = {(n_updates / bound).max():.3f}")


def test_overlap_never_converges_and_pocket_is_no_worse(data):
    """Labels drawn from the logistic model are not linearly separable: no epoch is clean."""
    max_epochs = 50
    batch = data["overlap"]
    result = batched_fit(max_epochs=max_epochs)(batch.X_train, batch.y_train)
    assert not np.any(np.asarray(result.converged))
    assert np.all(np.asarray(result.status) == Status.MAX_ITER)
    assert np.all(np.asarray(result.n_iter) == max_epochs)
    history = np.asarray(result.history)
    assert np.all(history >= 1)
    np.testing.assert_array_equal(history.sum(axis=1), result.n_updates)

    y = np.asarray(batch.y_train)
    accuracy = {}
    for weights in ("pocket", "coef"):
        decisions = jax.vmap(functools.partial(perceptron.predict, weights=weights))(
            result, batch.X_train
        )
        accuracy[weights] = np.mean(np.asarray(decisions) == y, axis=1)
    np.testing.assert_allclose(accuracy["pocket"], result.pocket_accuracy)
    assert np.all(accuracy["pocket"] >= accuracy["coef"])
    assert np.mean(accuracy["pocket"] > accuracy["coef"]) > 0.5  # usually strictly better


def test_lr_only_rescales(data):
    """With w0 = 0 every decision is unchanged by lr; the weights scale by it."""
    batch = data["overlap"]
    base = batched_fit(**SHARED)(batch.X_train, batch.y_train)
    scaled = batched_fit(**SHARED, lr=0.25)(batch.X_train, batch.y_train)
    for field in ("coef", "last_coef", "pocket_coef"):
        np.testing.assert_allclose(getattr(scaled, field), 0.25 * getattr(base, field),
                                   rtol=1e-12)
    np.testing.assert_array_equal(scaled.history, base.history)


# ---------------------------------------------------------------- jit, vmap, dtypes


def test_vmap_equals_loop_of_single_fits(data):
    batch = data["overlap"]
    keys = jax.random.split(jax.random.key(7), batch.X_train.shape[0])
    fixed = batched_fit(**SHARED)(batch.X_train, batch.y_train)
    keyed = batched_fit_keyed(**SHARED)(batch.X_train, batch.y_train, keys)
    for index in range(3):
        X, y = batch.X_train[index], batch.y_train[index]
        assert_trees_close(take(fixed, index), perceptron.fit(X, y, **SHARED))
        assert_trees_close(take(keyed, index), perceptron.fit(X, y, key=keys[index], **SHARED))


def test_shuffled_orders_differ_and_repeat(data):
    """vmap over keys = restarts on one data set; the same key gives the same fit."""
    X, y = data["overlap"].X_train[0], data["overlap"].y_train[0]
    n_restarts = data["overlap"].X_train.shape[0]  # reuse the batch shape's compilation
    keys = jax.random.split(jax.random.key(3), n_restarts)
    restarts = batched_fit_keyed(**SHARED)(
        jnp.broadcast_to(X, (n_restarts,) + X.shape), jnp.broadcast_to(y, (n_restarts,) + y.shape),
        keys,
    )
    assert len({tuple(np.round(np.asarray(c), 9)) for c in restarts.last_coef}) > n_restarts // 2
    assert_trees_close(take(restarts, 0), perceptron.fit(X, y, key=keys[0], **SHARED))


def test_nested_vmap_over_data_sets_and_keys(data):
    """vmap over data sets of vmap over restarts: each lane is its own single fit."""
    batch = data["overlap"]
    keys = jax.random.split(jax.random.key(5), 6).reshape(2, 3)
    restarts = jax.vmap(lambda X, y, k: perceptron.fit(X, y, key=k, **SHARED),
                        in_axes=(None, None, 0))
    result = jax.jit(jax.vmap(restarts))(batch.X_train[:2], batch.y_train[:2], keys)
    for d in range(2):
        for r in range(3):
            want = perceptron.fit(batch.X_train[d], batch.y_train[d], key=keys[d, r], **SHARED)
            assert_trees_close(take(take(result, d), r), want)


@pytest.mark.parametrize("shuffle", [False, True])
def test_stragglers_finish_in_a_smaller_batch_with_the_same_result(shuffle):
    """A batch of >= _COMPACT_MIN_LANES moves its last running lanes to a smaller batch:
    every data set still gets, bit for bit, its own single fit."""
    from models._perceptron import _COMPACT_FACTOR, _COMPACT_MIN_LANES

    n_datasets = _COMPACT_MIN_LANES + 32
    batch = make("separable", 21, n_datasets=n_datasets, n_samples=60, n_features=3)
    keys = jax.random.split(jax.random.key(9), n_datasets) if shuffle else None
    if shuffle:
        result = batched_fit_keyed(**SHARED)(batch.X_train, batch.y_train, keys)
    else:
        result = batched_fit(**SHARED)(batch.X_train, batch.y_train)
    # The smaller batch ran: some lane was still running once at most `kept` were.
    epochs = np.sort(np.asarray(result.n_iter))[::-1]
    kept = n_datasets // _COMPACT_FACTOR
    assert epochs[0] > epochs[kept]
    for index in range(n_datasets):
        single = perceptron.fit(batch.X_train[index], batch.y_train[index], **SHARED,
                                key=None if keys is None else keys[index])
        jax.tree.map(np.testing.assert_array_equal, take(result, index), single)


def test_float32_stays_float32(data):
    batch = data["overlap"]
    X, y = batch.X_train.astype(jnp.float32), batch.y_train.astype(jnp.float32)
    result = batched_fit(**SHARED)(X, y)
    for field in ("coef", "pocket_coef", "last_coef", "history", "pocket_accuracy"):
        assert getattr(result, field).dtype == jnp.float32
    assert result.n_updates.dtype == jnp.int32 and result.n_iter.dtype == jnp.int32
    assert result.status.dtype == jnp.int32


def _compilations(caplog, thunk):
    caplog.clear()
    with jax.log_compiles(), caplog.at_level(logging.WARNING):
        jax.block_until_ready(thunk())
    return [r.getMessage() for r in caplog.records if "compilation" in r.getMessage().lower()]


def test_second_call_does_not_recompile(caplog, data):
    first, second = data["overlap"], data["separable"]
    settings = dict(max_epochs=9)  # used by no other test, so the first call must compile
    assert _compilations(
        caplog, lambda: perceptron.fit(first.X_train[0], first.y_train[0], **settings)
    )
    assert not _compilations(
        caplog, lambda: perceptron.fit(second.X_train[1], second.y_train[1], **settings)
    )
    fit = batched_fit(**settings)
    assert _compilations(caplog, lambda: fit(first.X_train, first.y_train))
    assert not _compilations(caplog, lambda: fit(second.X_train, second.y_train))


# ---------------------------------------------------------------- bad input


def test_invalid_data_sets_are_flagged_without_touching_the_others(data):
    batch = data["overlap"]
    X, y = np.array(batch.X_train), np.array(batch.y_train)
    X[1, 3, 1] = np.nan
    X[2, 0, 2] = np.inf
    y[3, 5] = np.nan
    y[4, 7] = 2.0  # not a 0/1 label
    y[5, 8] = -1.0  # the -1/+1 coding is not accepted either: labels are 0/1
    result = batched_fit(**SHARED)(jnp.asarray(X), jnp.asarray(y))
    clean = batched_fit(**SHARED)(batch.X_train, batch.y_train)
    bad = slice(1, 6)
    status = np.asarray(result.status)
    np.testing.assert_array_equal(status[bad], Status.INVALID_INPUT)
    for field in ("coef", "pocket_coef", "last_coef"):
        values = np.asarray(getattr(result, field))
        assert np.all(np.isfinite(values))
        np.testing.assert_array_equal(values[bad], 0.0)
    assert np.all(np.asarray(result.n_iter)[bad] == 0)
    assert np.all(np.asarray(result.n_updates)[bad] == 0)
    assert np.all(np.asarray(result.pocket_accuracy)[bad] == 0)
    assert not np.any(np.asarray(result.converged)[bad])
    assert np.all(np.isnan(np.asarray(result.history)[bad]))
    assert np.all(status[6:] != Status.INVALID_INPUT) and status[0] != Status.INVALID_INPUT
    # The other data sets are untouched, bit for bit.
    for index in [0] + list(range(6, 32)):
        jax.tree.map(
            lambda a, b, i=index: np.testing.assert_array_equal(a[i], b[i]), result, clean
        )


def test_overflow_is_nonfinite_and_keeps_last_finite_epoch(data):
    """float32 with lr = 1e38: the weights overflow within a few updates."""
    batch = data["overlap"]
    X, y = batch.X_train.astype(jnp.float32), batch.y_train.astype(jnp.float32)
    result = batched_fit(**SHARED, lr=1e38)(X, y)
    status = np.asarray(result.status)
    assert np.mean(status == Status.NONFINITE) > 0.5
    assert np.all(np.isin(status, [Status.NONFINITE, Status.MAX_ITER]))
    assert not np.any(np.asarray(result.converged))
    for field in ("coef", "pocket_coef", "last_coef"):
        assert np.all(np.isfinite(np.asarray(getattr(result, field))))
    history, n_iter = np.asarray(result.history), np.asarray(result.n_iter)
    for index in np.flatnonzero(status == Status.NONFINITE):
        assert np.all(np.isfinite(history[index, :n_iter[index]]))
        assert np.all(np.isnan(history[index, n_iter[index]:]))
        if n_iter[index] == 0:  # the first epoch overflowed: back to w = 0
            np.testing.assert_array_equal(result.last_coef[index], 0.0)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.ones((5, 2)), np.ones(5)), {"max_epochs": 0}, "max_epochs"),
        ((np.ones((5, 2)), np.ones(5)), {"max_epochs": 2.5}, "max_epochs"),
        ((np.ones((5, 2)), np.ones(5)), {"lr": 0.0}, "lr"),
        ((np.ones((5, 2)), np.ones(5)), {"lr": -1.0}, "lr"),
        ((np.ones((5, 2)), np.ones(5)), {"lr": np.nan}, "lr"),
        ((np.ones((5, 2)), np.ones(4)), {}, "rows"),
        ((np.ones(5), np.ones(5)), {}, "2-D"),
        ((np.ones((3, 5, 2)), np.ones(5)), {}, "2-D"),
        ((np.ones((5, 2)), np.ones((5, 1))), {}, "1-D"),
    ],
)
def test_static_mistakes_raise(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        perceptron.fit(*args, **kwargs)


def test_traced_lr_raises():
    with pytest.raises(ValueError, match="lr"):
        jax.jit(lambda lr: perceptron.fit(np.ones((5, 2)), np.ones(5), lr=lr))(1.0)


def test_predict_weights_and_errors(data):
    batch = data["overlap"]
    result = take(batched_fit(**SHARED)(batch.X_train, batch.y_train), 0)
    X = batch.X_train[0]
    for weights, w in (("coef", result.coef), ("pocket", result.pocket_coef),
                       ("last", result.last_coef)):
        decisions = perceptron.predict(result, X, weights=weights)
        assert decisions.dtype == jnp.int32
        np.testing.assert_array_equal(decisions, (np.asarray(X) @ np.asarray(w) > 0))
    with pytest.raises(ValueError, match="pocket"):
        perceptron.predict(result, X, weights="best")
    with pytest.raises(ValueError, match="X must be"):
        perceptron.predict(result, X[:, :2])
