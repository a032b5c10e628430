"""Softmax MLP (``mlp.fit_multiclass``): the multinomial MLE, K = 2 against the binary fit,
three rings, batching, failures.

Few compiled programs, shared through module-scoped fixtures: the suite's x64 setting
(tests/conftest.py) makes every fit float64.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from models import mlp
from models._status import Status

K = 3
N_SETS, N, P = 5, 200, 4  # data sets per batch, rows, columns (intercept included)
# Adam to a tight spread: the K = 2 and binary fits then agree to ~1e-5, not just 1e-4.
EQUIV = dict(hidden=(), max_iter=3000, tol=1e-11)
PROB_TOL, COEF_RTOL, BINARY_TOL = 1e-3, 1e-2, 1e-4
# Three rings of radii 1, 2, 3 (+-0.3): the Bayes rate is 1. A linear softmax's classes are
# convex cells of the plane, and a convex cell holding much of a ring holds the disc inside it,
# so linear models stay far below (the multinomial MLE: about 0.45).
RINGS = dict(hidden=(8,), activation="tanh", max_iter=300)
RINGS_FLOOR, LINEAR_CEILING = 0.95, 0.6


@functools.cache
def batched_fit(n_classes, in_axes=(None, 0, 0), **settings):
    """``jit(vmap(fit_multiclass))`` per settings, cached so tests share compilations."""
    fit = functools.partial(mlp.fit_multiclass, n_classes=n_classes, **settings)
    return jax.jit(jax.vmap(fit, in_axes=in_axes))


def take(tree, index):
    return jax.tree.map(lambda leaf: leaf[index], tree)


def multinomial_data(seed, n_classes):
    """Labels drawn from a multinomial logit model with weights N(0, 1): classes overlap."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.ones((N_SETS, N, 1)), rng.normal(size=(N_SETS, N, P - 1))], axis=2)
    logits = np.einsum("bnp,bpk->bnk", X, rng.normal(size=(N_SETS, P, n_classes)))
    prob = np.exp(logits - logits.max(axis=2, keepdims=True))
    cumulative = np.cumsum(prob / prob.sum(axis=2, keepdims=True), axis=2)
    y = np.sum(rng.random((N_SETS, N, 1)) > cumulative[:, :, :-1], axis=2)
    return X, y.astype(float)


def rings_data(seed, n_per_class=50):
    rng = np.random.default_rng(seed)
    y = np.tile(np.arange(K), (N_SETS, n_per_class)).astype(float)
    radius = 1.0 + y + rng.uniform(-0.3, 0.3, size=y.shape)
    angle = rng.uniform(0, 2 * np.pi, size=y.shape)
    X = np.stack([np.ones_like(y), radius * np.cos(angle), radius * np.sin(angle)], axis=2)
    return X, y


def mnlogit(X, y):
    sm = pytest.importorskip("statsmodels.api")
    return sm.MNLogit(y, X).fit(disp=0)


def softmax_np(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def mnl():
    X, y = multinomial_data(0, K)
    return X, y, batched_fit(K, **EQUIV)(jax.random.key(1), X, y)


@pytest.fixture(scope="module")
def rings():
    X, y = rings_data(1)
    keys = jax.random.split(jax.random.key(2), N_SETS)
    return keys, X, y, batched_fit(K, in_axes=(0, 0, 0), **RINGS)(keys, X, y)


# ---------------------------------------------------------------- multinomial logit


def test_no_hidden_layer_reaches_the_multinomial_mle(mnl):
    """hidden=() is the multinomial logit model: adam reaches MNLogit's probabilities, and
    the identified contrasts W[:, k] - W[:, 0] are MNLogit's coefficients (class 0 its
    reference), whatever the redundant shift common to all columns."""
    X, y, result = mnl
    assert np.all(np.asarray(result.status) == Status.CONVERGED)
    probabilities = np.asarray(jax.vmap(mlp.predict_multiclass)(result, X))
    np.testing.assert_allclose(probabilities.sum(axis=2), 1.0, rtol=1e-12)
    weight = np.asarray(result.params[-1].weight)
    assert weight.shape == (N_SETS, P, K) and result.params[-1].bias is None
    prob_diff, coef_diff = [], []
    for index in range(N_SETS):
        reference = mnlogit(X[index], y[index])
        # The MLE exists: Newton converged to moderate coefficients (no separation).
        assert reference.mle_retvals["converged"] and np.abs(reference.params).max() < 10
        prob_diff.append(np.abs(probabilities[index] - reference.predict(X[index])).max())
        contrasts = weight[index, :, 1:] - weight[index, :, :1]
        coef_diff.append(np.abs(contrasts - reference.params).max()
                         / np.abs(reference.params).max())
    print(f"adam vs MNLogit: max |dprob| {max(prob_diff):.1e}, max rel dcoef "
          f"{max(coef_diff):.1e}; n_iter {np.asarray(result.n_iter).tolist()}")
    assert max(prob_diff) < PROB_TOL
    assert max(coef_diff) < COEF_RTOL


def test_history_starts_at_the_cross_entropy_of_the_glorot_init(mnl):
    X, y, result = mnl
    params = mlp.init_params(jax.random.key(1), P, (), jnp.float64, n_outputs=K)
    (layer,) = params
    assert layer.weight.shape == (P, K) and layer.bias is None
    assert np.all(np.abs(np.asarray(layer.weight)) <= np.sqrt(6 / (P + K)))
    hidden = mlp.init_params(jax.random.key(1), P, (5,), n_outputs=K)
    assert hidden[-1].weight.shape == (5, K) and hidden[-1].bias.shape == (K,)
    prob = softmax_np(X @ np.asarray(layer.weight))
    labels = y.astype(int)
    want = -np.mean(np.log(np.take_along_axis(prob, labels[..., None], axis=2)), axis=(1, 2))
    np.testing.assert_allclose(np.asarray(result.history)[:, 0], want, rtol=1e-12)
    history, n_iter = np.asarray(result.history), np.asarray(result.n_iter)
    for index in range(N_SETS):
        assert np.all(np.isfinite(history[index, :n_iter[index]]))
        assert np.all(np.isnan(history[index, n_iter[index]:]))


def test_two_classes_give_the_binary_fits_probabilities():
    """K = 2, hidden=(): P(class 1) = sigmoid(x (w1 - w0)), the logistic model, so both
    fits reach the same MLE, and w1 - w0 is the binary fit's weight."""
    X, y = multinomial_data(3, 2)
    key = jax.random.key(4)
    multi = batched_fit(2, **EQUIV)(key, X, y)
    binary = jax.jit(jax.vmap(functools.partial(mlp.fit, **EQUIV), in_axes=(None, 0, 0)))(
        key, X, y)
    assert np.all(np.asarray(multi.status) == Status.CONVERGED)
    assert np.all(np.asarray(binary.status) == Status.CONVERGED)
    p_multi = np.asarray(jax.vmap(mlp.predict_multiclass)(multi, X))[:, :, 1]
    p_binary = np.asarray(jax.vmap(mlp.predict)(binary, X))
    weight = np.asarray(multi.params[-1].weight)
    contrast = weight[:, :, 1] - weight[:, :, 0]
    prob_diff = np.abs(p_multi - p_binary).max()
    coef_diff = np.abs(contrast - np.asarray(binary.params[-1].weight)).max()
    print(f"K=2 vs binary: max |dprob| {prob_diff:.1e}, max |dcoef| {coef_diff:.1e}; n_iter "
          f"{np.asarray(multi.n_iter).tolist()} vs {np.asarray(binary.n_iter).tolist()}")
    assert prob_diff < BINARY_TOL
    assert coef_diff < 10 * BINARY_TOL


# ---------------------------------------------------------------- not linearly separable


def test_a_hidden_layer_separates_three_rings(rings):
    _, X, y, result = rings
    accuracy = np.asarray(result.train_accuracy)
    decisions = np.argmax(np.asarray(jax.vmap(mlp.predict_multiclass)(result, X)), axis=2)
    np.testing.assert_allclose(accuracy, np.mean(decisions == y, axis=1), atol=1e-12)
    linear = [np.mean(np.argmax(mnlogit(X[i], y[i]).predict(X[i]), axis=1) == y[i])
              for i in range(N_SETS)]
    steps = np.asarray(result.steps_to_fit)
    print(f"rings: MLP accuracy {accuracy.min():.3f}..{accuracy.max():.3f}, steps_to_fit "
          f"{steps.tolist()}; multinomial MLE accuracy {min(linear):.3f}..{max(linear):.3f}")
    assert accuracy.min() >= RINGS_FLOOR
    assert max(linear) <= LINEAR_CEILING
    assert not np.any(np.asarray(result.status) == Status.NONFINITE)


def test_vmap_equals_a_loop_of_single_fits(rings):
    """Same fits lane by lane: the same steps, statuses and accuracies, and parameters and
    losses up to rounding. XLA:CPU rounds a batched matrix product by batch size (as for
    the binary fit, tests/test_mlp.py), and 300 steps of training on separable data amplify
    those last-bit differences, so the tolerance is 1e-8 rather than the binary test's
    1e-10 after 200 steps. Integer labels give the float labels' fit."""
    keys, X, y, result = rings
    for index in range(N_SETS):
        single = mlp.fit_multiclass(keys[index], X[index], y[index].astype(np.int32), K,
                                    **RINGS)
        lane = take(result, index)
        assert single.activation == lane.activation and single.gain == lane.gain
        assert jax.tree.structure(single) == jax.tree.structure(lane)
        for name in ("n_iter", "status", "converged", "steps_to_fit", "train_accuracy"):
            np.testing.assert_array_equal(getattr(lane, name), getattr(single, name))
        for got, want in zip(jax.tree.leaves((lane.params, lane.history)),
                             jax.tree.leaves((single.params, single.history)), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)


# ---------------------------------------------------------------- failures


def test_invalid_data_sets_are_flagged_without_touching_the_others(mnl):
    X, y, clean = mnl
    X, y = X.copy(), y.copy()
    X[1, 3, 2] = np.nan
    y[2, 5] = K  # one past the last class
    y[3, 7] = 1.5  # not a class
    result = batched_fit(K, **EQUIV)(jax.random.key(1), X, y)
    bad = slice(1, 4)
    np.testing.assert_array_equal(np.asarray(result.status)[bad], Status.INVALID_INPUT)
    assert all(np.all(np.asarray(leaf)[bad] == 0) for leaf in jax.tree.leaves(result.params))
    assert np.all(np.isnan(np.asarray(result.history)[bad]))
    np.testing.assert_array_equal(np.asarray(result.n_iter)[bad], 0)
    np.testing.assert_array_equal(np.asarray(result.train_accuracy)[bad], 0.0)
    np.testing.assert_array_equal(np.asarray(result.steps_to_fit)[bad], -1)
    for index in (0, 4):
        jax.tree.map(lambda a, b, i=index: np.testing.assert_array_equal(a[i], b[i]),
                     result, clean)


@pytest.mark.parametrize(
    "n_classes, kwargs, match",
    [
        (1, {}, "n_classes must be >= 2"),
        (0, {}, "n_classes must be >= 2"),
        (2.0, {}, "n_classes must be a static Python int"),
        (True, {}, "n_classes must be a static Python int"),
        (None, {}, "n_classes must be a static Python int"),
        (3, {"hidden": (0,)}, "hidden"),
        (3, {"activation": "softmax"}, "sigmoid, tanh, relu"),
        (3, {"max_iter": 0}, "max_iter"),
        (3, {"tol": -1.0}, "tol"),
        (3, {"optimizer": "adam"}, "optax"),
        (3, {"group_size": 0}, "group_size"),
    ],
)
def test_static_mistakes_raise(n_classes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp.fit_multiclass(jax.random.key(0), np.ones((5, 2)), np.zeros(5), n_classes,
                           **kwargs)


def test_traced_n_classes_and_bad_shapes_raise():
    key, X, y = jax.random.key(0), np.ones((5, 2)), np.zeros(5)
    with pytest.raises(ValueError, match="static Python int"):
        jax.jit(lambda k: mlp.fit_multiclass(key, X, y, k))(3)
    with pytest.raises(ValueError, match="rows"):
        mlp.fit_multiclass(key, X, np.zeros(4), 3)
    with pytest.raises(ValueError, match="2-D"):
        mlp.fit_multiclass(key, np.ones(5), y, 3)


def test_predict_checks_shapes_and_output_layer(mnl):
    X, _, result = mnl
    lane = take(result, 0)
    with pytest.raises(ValueError, match=rf"X must be \[m, {P}\]"):
        mlp.predict_multiclass(lane, np.ones((3, P + 1)))
    with pytest.raises(ValueError, match="X must be"):
        mlp.predict_multiclass(lane, np.ones(P))
    with pytest.raises(ValueError, match="predict_multiclass"):
        mlp.predict(lane, X[0])
    binary = dataclasses.replace(lane, params=(mlp.Dense(jnp.zeros(P), None),))
    with pytest.raises(ValueError, match="mlp.predict"):
        mlp.predict_multiclass(binary, X[0])


@pytest.mark.parametrize("hidden", [(), (4, 3)])
def test_forward_is_a_softmax_over_the_output_units(hidden):
    """Random weights and biases: predict_multiclass is softmax(phi(...) V + c) in numpy."""
    rng = np.random.default_rng(5)
    X = np.c_[np.ones(20), rng.normal(size=(20, 2))]
    params = tuple(
        mlp.Dense(np.asarray(layer.weight) + rng.normal(size=layer.weight.shape),
                  None if layer.bias is None else rng.normal(size=layer.bias.shape))
        for layer in mlp.init_params(jax.random.key(6), 3, hidden, jnp.float64, n_outputs=4)
    )
    hidden_np = X
    for layer in params[:-1]:
        z = hidden_np @ layer.weight + (0 if layer.bias is None else layer.bias)
        hidden_np = np.tanh(2.0 * z)
    logits = hidden_np @ params[-1].weight + (0 if params[-1].bias is None else params[-1].bias)
    zero = jnp.zeros((), jnp.int32)
    result = mlp.MLPResult(params=params, n_iter=zero, converged=jnp.zeros((), bool),
                           status=zero, history=jnp.zeros((1,)), steps_to_fit=zero,
                           train_accuracy=jnp.zeros(()), activation="tanh", gain=2.0)
    got = mlp.predict_multiclass(result, X)
    assert got.shape == (20, 4)
    np.testing.assert_allclose(got, softmax_np(logits), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mlp.forward(params, X, activation="tanh", gain=2.0), logits,
                               rtol=1e-12, atol=1e-12)
