"""Property-based tests: what every fit promises, on random shapes, scales and labels.

For the three models (binomial GLM, perceptron, MLP), on batches of data sets drawn by
hypothesis (see :func:`batches`):

* the status is always a documented :class:`~models.Status` code, and agrees with
  ``converged`` and ``n_iter``;
* ``converged=True`` comes with finite parameters and a history that meets the model's
  stated stopping rule;
* ``jit(vmap(fit))`` equals a loop of single fits, to ``VMAP_RTOL``;
* the same inputs and key give the same result, bit for bit (CPU).

Every new shape costs each model two compilations (batched and single), so shapes come from
a small fixed set: two of them in the default profile, all nine with
``pytest --hypothesis-profile=thorough`` (profiles: tests/conftest.py; docs/robustness.md).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _fitted import fitted_parameters
from hypothesis import event, given, settings
from hypothesis import strategies as st

from models import glm, mlp, perceptron
from models._glm import TOL_FLOOR
from models._status import Status

# Batched and unbatched programs are different XLA programs (a batched matmul is not a loop
# of unbatched ones, and rounds differently), so vmap agrees with the loop only to rounding,
# amplified by the iterations: float64, relative to each data set's largest value per field.
VMAP_RTOL = 1e-10
# The MLP's training is chaotic once the features reach 1e2 (adam(0.05) oscillates on the
# badly scaled loss): the 1e-16 batched-vs-unbatched differences grow about tenfold every
# few steps, to O(1) within 200 steps, and n_iter and status can differ (measured: 3 of 100
# data sets at 1e3). So vmap == loop is a property of the MLP only for features up to 10
# (there: at most 3e-12, about 100 draws per scale); docs/robustness.md, "Limitations".
MLP_VMAP_MAX_EXPONENT = 1

N_DATASETS = 3  # per batch: one compilation per shape, several data sets per example
ALL_SHAPES = tuple((n, p) for n in (5, 12, 40) for p in (1, 3, 5))
# Default: n close to p (often separable) and the largest n and p; thorough: all nine.
SHAPES = ALL_SHAPES if settings.get_current_profile_name() == "thorough" else ((5, 3), (40, 5))
PATTERNS = ("random", "one_class", "separable", "alternating", "logistic")

GLM_TOL = 1e-8  # glm.fit's default
PERCEPTRON = dict(max_epochs=50)
MLP = dict(hidden=(4,), max_iter=200, tol=1e-4)  # loose enough that some fits converge

MODELS = ("glm", "perceptron", "mlp")
CONVERGED_CODES = {
    "glm": {Status.CONVERGED, Status.RANK_DEFICIENT},
    "perceptron": {Status.CONVERGED},
    "mlp": {Status.CONVERGED},
}
STATUS_CODES = {
    "glm": set(Status),
    "perceptron": {Status.CONVERGED, Status.MAX_ITER, Status.NONFINITE, Status.INVALID_INPUT},
    "mlp": {Status.CONVERGED, Status.MAX_ITER, Status.NONFINITE, Status.INVALID_INPUT},
}
BUDGET = {"glm": 25, "perceptron": PERCEPTRON["max_epochs"], "mlp": MLP["max_iter"]}


# --- data -------------------------------------------------------------------------------------

def make_data_set(n, p, pattern, scale, seed):
    """``X [n, p]`` (intercept, then N(0, 1) features times ``scale``) and 0/1 labels."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, p - 1))
    X = np.column_stack([np.ones(n), scale * features])
    w = rng.normal(size=p - 1)
    if pattern == "random":
        y = rng.integers(0, 2, size=n)
    elif pattern == "one_class":
        y = np.full(n, rng.integers(0, 2))
    elif pattern == "separable":  # by a hyperplane with an intercept; p = 1: one class
        y = features @ w + 0.3 > 0
    elif pattern == "alternating":
        y = np.arange(n) % 2
    else:  # labels from the logistic model: overlapping classes, the GLM's MLE usually exists
        y = rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + features @ w)))
    return X, y.astype(np.float64)


@st.composite
def batches(draw, max_exponent=4):
    """A batch of ``N_DATASETS`` data sets of one shape, each with its own scale and labels.

    The features of each data set are scaled by ``10**k``, ``k`` in ``-4..max_exponent``.
    """
    n, p = draw(st.sampled_from(SHAPES))
    data = []
    for _ in range(N_DATASETS):
        pattern = draw(st.sampled_from(PATTERNS))
        scale = 10.0 ** draw(st.integers(-4, max_exponent))
        seed = draw(st.integers(0, 2**32 - 1))
        data.append(make_data_set(n, p, pattern, scale, seed))
    X, y = (np.stack(arrays) for arrays in zip(*data))
    event(f"shape {n}x{p}")
    key_seed = draw(st.integers(0, 2**32 - 1))
    keys = jax.random.split(jax.random.key(key_seed), N_DATASETS)
    return jnp.asarray(X), jnp.asarray(y), keys


# --- fits -------------------------------------------------------------------------------------

def _single(model, X, y, key):
    if model == "glm":
        return glm.fit(X, y)
    if model == "perceptron":
        return perceptron.fit(X, y, key=key, **PERCEPTRON)
    return mlp.fit(key, X, y, **MLP)


@functools.cache
def _batched(model):
    return jax.jit(jax.vmap(lambda X, y, key: _single(model, X, y, key)))


def _to_numpy(result):
    return jax.tree.map(np.asarray, result)


def _fit(model, X, y, keys):
    return _to_numpy(_batched(model)(X, y, keys))


# --- the stopping rules, restated from the docstrings -------------------------------------------

def _binomial_deviance(y, mu):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (np.where(y > 0, y * np.log(y / mu), 0.0)
                 + np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0))
    return 2 * np.sum(terms)


def _check_glm_converged(X, y, fit, i):
    # R's glm.control: |dev - dev_old| / (|dev| + 0.1) < tol at the last iteration, with tol
    # raised to TOL_FLOOR * eps of the dtype (_glm.py). dev_old of the first iteration is the
    # deviance at R's starting values, mustart = (y + 1/2) / 2.
    k = int(fit.n_iter[i])
    history = fit.history[i]
    assert 1 <= k <= BUDGET["glm"]
    assert np.all(np.isfinite(history[:k])) and np.all(np.isnan(history[k:]))
    new = history[k - 1]
    old = history[k - 2] if k >= 2 else _binomial_deviance(y[i], (y[i] + 0.5) / 2)
    tol = max(GLM_TOL, TOL_FLOOR * np.finfo(np.float64).eps)
    assert abs(new - old) / (abs(new) + 0.1) < tol
    np.testing.assert_allclose(fit.deviance[i], new, rtol=1e-12)  # no penalty here


def _check_perceptron_converged(X, y, fit, i):
    # The first epoch without a mistake stops the fit; last_coef then separates the data.
    k = int(fit.n_iter[i])
    history = fit.history[i]
    assert history[k - 1] == 0 and np.all(history[:k - 1] > 0)
    assert np.all(np.isnan(history[k:]))
    signs = 2 * np.asarray(y[i]) - 1
    assert np.all(signs * (np.asarray(X[i]) @ fit.last_coef[i]) > 0)


def _check_mlp_converged(X, y, fit, i):
    # The first t >= w whose last w + 1 losses spread less than tol * max(|L_{t-w}|, tiny);
    # that step's update is applied too, so n_iter = t + 1.
    w, tol = mlp.CONVERGENCE_WINDOW, MLP["tol"]
    tiny = np.finfo(np.float64).tiny
    history = fit.history[i]
    t = int(fit.n_iter[i]) - 1
    assert t >= w
    assert np.all(np.isfinite(history[:t + 1])) and np.all(np.isnan(history[t + 1:]))

    def met(s):
        window = history[s - w:s + 1]
        return window.max() - window.min() < tol * max(abs(window[0]), tiny)

    assert met(t)
    assert not any(met(s) for s in range(w, t))


CHECK_CONVERGED = {
    "glm": _check_glm_converged,
    "perceptron": _check_perceptron_converged,
    "mlp": _check_mlp_converged,
}


# --- properties -------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
@settings(deadline=None)
@given(data=batches())
def test_status_is_a_documented_code(model, data):
    fit = _fit(model, *data)
    assert set(fit.status.tolist()) <= {int(code) for code in STATUS_CODES[model]}
    converged = np.isin(fit.status, [int(code) for code in CONVERGED_CODES[model]])
    np.testing.assert_array_equal(fit.converged, converged)
    # MAX_ITER means that the whole budget was used.
    used_all = fit.n_iter == BUDGET[model]
    assert np.all(used_all[fit.status == Status.MAX_ITER])
    # These data are valid: no NaN, labels 0/1.
    assert not np.any(fit.status == Status.INVALID_INPUT)


@pytest.mark.parametrize("model", MODELS)
@settings(deadline=None)
@given(data=batches())
def test_converged_means_finite_parameters_and_the_stated_rule(model, data):
    X, y, keys = data
    fit = _fit(model, X, y, keys)
    parameters = fitted_parameters(model, fit)
    assert np.all(np.isfinite(parameters))  # documented for every status, not only converged
    for i in np.flatnonzero(fit.converged):
        CHECK_CONVERGED[model](np.asarray(X), np.asarray(y), fit, i)
    for code in fit.status:
        event(f"status {Status(int(code)).name.lower()}")


def _assert_close_to_loop(batched, singles, rtol):
    """Integer fields equal; float fields within ``rtol`` of each data set's largest value."""
    for i, single in enumerate(singles):
        for leaf, looped in zip(jax.tree.leaves(batched), jax.tree.leaves(single)):
            if np.issubdtype(looped.dtype, np.floating):
                finite = np.abs(looped[np.isfinite(looped)])
                atol = rtol * (finite.max() if finite.size else 0.0)
                np.testing.assert_allclose(leaf[i], looped, rtol=rtol, atol=atol)
            else:
                np.testing.assert_array_equal(leaf[i], looped)


@pytest.mark.parametrize("model", MODELS)
@settings(deadline=None)
@given(data=st.data())
def test_vmap_equals_loop_of_single_fits(model, data):
    max_exponent = MLP_VMAP_MAX_EXPONENT if model == "mlp" else 4
    X, y, keys = data.draw(batches(max_exponent), label="batch")
    batched = _fit(model, X, y, keys)
    singles = [_to_numpy(_single(model, X[i], y[i], keys[i])) for i in range(N_DATASETS)]
    _assert_close_to_loop(batched, singles, VMAP_RTOL)


@pytest.mark.parametrize("model", MODELS)
@settings(deadline=None)
@given(data=batches())
def test_same_key_same_result_bitwise(model, data):
    X, y, keys = data
    first, second = _fit(model, X, y, keys), _fit(model, X, y, keys)
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second)):
        np.testing.assert_array_equal(a, b)
    one, again = (_to_numpy(_single(model, X[0], y[0], keys[0])) for _ in range(2))
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(again)):
        np.testing.assert_array_equal(a, b)

