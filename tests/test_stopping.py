"""The MLP's stopping rules: scikit-learn's, exactly as its own code stops, beside our strict one.

scikit-learn's rule is checked two ways on the same loss histories: against a numpy replay
transcribed from ``MLPClassifier._fit_stochastic`` / ``_update_no_improvement_count``, and
against that very method of a real ``MLPClassifier`` object fed the losses one epoch at a
time. The loop's rule (``stopping="sklearn"``) and the replay (``mlp.sklearn_stop``) must
both stop where scikit-learn does.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bench import datasets
from models import glm, mlp
from models._status import Status

SETTINGS = dict(hidden=(8,), max_iter=600)  # one compilation per rule
PROB_TOL = 1e-3  # hidden=() at the default settings against the GLM's probabilities


def _numpy_replay(history, tol=1e-4, n_iter_no_change=10):
    """MLPClassifier's rule as written in its source (early_stopping=False)."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(history):
        if not np.isfinite(loss):
            break
        if loss > best - tol:
            count += 1
        else:
            count = 0
        if loss < best:
            best = loss
        if count > n_iter_no_change:
            return True, epoch + 1  # n_iter_ was incremented before the check
    return False, len(history)


def _sklearn_replay(history, tol=1e-4, n_iter_no_change=10):
    """The same, by scikit-learn's own method on a real MLPClassifier."""
    neural_network = pytest.importorskip("sklearn.neural_network")
    model = neural_network.MLPClassifier(tol=tol, n_iter_no_change=n_iter_no_change)
    model.loss_curve_, model.best_loss_, model._no_improvement_count = [], np.inf, 0
    for epoch, loss in enumerate(history):
        if not np.isfinite(loss):
            break
        model.loss_curve_.append(float(loss))
        model._update_no_improvement_count(False, None, None, None)
        if model._no_improvement_count > model.n_iter_no_change:
            return True, epoch + 1
    return False, len(history)


@functools.cache
def _fit(stopping):
    fit = functools.partial(mlp.fit, stopping=stopping, **SETTINGS)
    return jax.jit(jax.vmap(fit, in_axes=(None, 0, 0)))


@pytest.fixture(scope="module")
def histories():
    """Strict fits (which run long) on every classification regime: real loss curves."""
    out = []
    for seed, regime in enumerate(datasets.CLASSIFICATION_REGIMES):
        data = datasets.make(regime, jax.random.key(seed), n_datasets=6, n_samples=100,
                             n_features=2, dtype="float64")
        fits = _fit("spread")(jax.random.key(7), data.X_train, data.y_train)
        out.append((data, fits))
    return out


def _crafted():
    """Edge cases: a plateau exactly at tol, noise around a floor, a NaN tail, too short."""
    rng = np.random.default_rng(0)
    steady = 1.0 - 1e-4 * np.arange(40)  # improves by exactly tol each step: never "better"
    noisy = 0.3 + 1e-5 * rng.normal(size=60)
    falling = np.exp(-0.05 * np.arange(80))
    tail = np.concatenate([np.linspace(1, 0.9, 15), np.full(5, 0.9), np.full(10, np.nan)])
    short = np.full(11, 0.5)  # 10 non-improving steps: count 10, not > 10
    return [steady, noisy, falling, tail, short, np.full(12, 0.5)]


def test_replay_stops_where_scikit_learns_code_does(histories):
    cases = _crafted() + [np.asarray(fits.history[i]) for _, fits in histories
                          for i in range(fits.history.shape[0])]
    fired = 0
    for history in cases:
        expected = _sklearn_replay(history)
        assert _numpy_replay(history) == expected
        stopped, n_iter = mlp.sklearn_stop(jnp.asarray(history))
        assert (bool(stopped), int(n_iter)) == expected
        fired += expected[0]
    assert 0 < fired < len(cases)  # the cases exercise both outcomes


@pytest.mark.default_compiler  # the same history's bits from two programs
def test_loop_rule_stops_where_the_replay_says(histories):
    for data, strict in histories:
        fits = _fit("sklearn")(jax.random.key(7), data.X_train, data.y_train)
        stopped, n_iter = jax.vmap(mlp.sklearn_stop)(strict.history)
        # The same key and data: both fits take the same steps until one of them stops.
        np.testing.assert_array_equal(fits.n_iter, np.where(stopped, n_iter, strict.n_iter))
        np.testing.assert_array_equal(fits.converged, stopped)
        np.testing.assert_array_equal(fits.status == Status.CONVERGED, stopped)
        n = int(jnp.min(fits.n_iter))
        np.testing.assert_array_equal(fits.history[:, :n], strict.history[:, :n])


def test_strict_default_is_unchanged_and_sklearn_default_tol():
    data = datasets.make("overlap", jax.random.key(3), n_datasets=2, n_samples=100,
                         n_features=2, dtype="float64")
    X, y = data.X_train[0], data.y_train[0]
    key = jax.random.key(0)
    default = mlp.fit(key, X, y, max_iter=300)
    explicit = mlp.fit(key, X, y, max_iter=300, tol=1e-7, stopping="spread")
    np.testing.assert_array_equal(default.history, explicit.history)
    loose = mlp.fit(key, X, y, max_iter=300, stopping="sklearn")
    same = mlp.fit(key, X, y, max_iter=300, stopping="sklearn", tol=1e-4, n_iter_no_change=10)
    assert int(loose.n_iter) == int(same.n_iter) < int(default.n_iter)


@pytest.mark.parametrize("kwargs", [dict(stopping="sklearn_like"), dict(n_iter_no_change=0),
                                    dict(stopping="sklearn", tol=0.0)])
def test_bad_stopping_settings_raise(kwargs):
    with pytest.raises(ValueError):
        mlp.fit(jax.random.key(0), np.ones((4, 2)), np.array([0.0, 1, 0, 1]), **kwargs)


def test_no_hidden_layer_at_the_defaults_reaches_the_glm():
    """hidden=() with every other setting at its default: the GLM's probabilities to 1e-3."""
    data = datasets.make("overlap", jax.random.key(21), n_datasets=8, n_samples=200,
                         n_features=10, dtype="float32")
    fits = jax.jit(jax.vmap(lambda key, X, y: mlp.fit(key, X, y, hidden=())))(
        jax.random.split(jax.random.key(1), 8), data.X_train, data.y_train)
    reference = jax.vmap(lambda X, y: glm.fit(X, y))(data.X_train.astype(jnp.float64),
                                                     data.y_train.astype(jnp.float64))
    assert np.all(np.asarray(reference.converged))
    ours = jax.vmap(mlp.predict)(fits, data.X_train)
    theirs = jax.vmap(glm.predict)(reference, data.X_train.astype(jnp.float64))
    difference = float(jnp.max(jnp.abs(ours.astype(jnp.float64) - theirs)))
    print(f"hidden=() at the defaults vs the GLM: max |dprob| {difference:.1e}, "
          f"converged {np.mean(fits.converged):.0%}")
    assert difference < PROB_TOL
