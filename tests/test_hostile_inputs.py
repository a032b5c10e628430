"""Awkward inputs: what each model reports for them (the table in docs/robustness.md).

Every awkward data set is fitted the way the benchmark fits data, inside one ``jit(vmap(fit))``
batch per model, interleaved with good data sets. The same batch with every awkward data set
replaced by another good one (same batch size, same program) is the control: the good data
sets must come out bit for bit the same in both. The comparison is batch against batch, not
against single fits, which differ from batched ones in the last bits (XLA's batched matmuls
round differently from unbatched ones).

Rows that need another shape (``n < p``, ``n = 1``) get their own small batch.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _fitted import fitted_parameters

from bench.families.glm import statsmodels_family
from models import glm, mlp, perceptron
from models._status import Status

N_SAMPLES, N_FEATURES = 20, 3  # most rows: [1, x1, x2] with 20 observations
# GLM on features scaled by 1e+-8 against the unscaled fit: IRLS takes the same path up to
# rounding (measured 2e-15), so this is far tighter than the fit's own tolerance.
SCALE_RTOL = 1e-10
REDUCED_RTOL = 1e-6  # GLM with an aliased column, against statsmodels on the reduced design

GLM_FAMILIES = ("binomial", "poisson", "gamma")
CLASSIFIERS = ("binomial", "perceptron", "mlp")  # 0/1 labels
MODELS = GLM_FAMILIES + ("perceptron", "mlp")


# --- data -------------------------------------------------------------------------------------

def _design(rng, n, p):
    return np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])


def _good(model: str, seed: int, n: int = N_SAMPLES, p: int = N_FEATURES):
    """A data set each model handles well: the MLE exists (GLM), separable (perceptron)."""
    rng = np.random.default_rng(seed)
    X = _design(rng, n, p)
    beta = np.array([0.3, 1.0, -0.8, 0.5, -0.5])[:p]
    eta = X @ beta
    if model == "perceptron":
        # Separable with margin 0.5 by a hyperplane through x1 and the intercept only, so
        # that overwriting the last column (the aliased-column rows) keeps it separable.
        side = np.where(X[:, 1:2].sum(axis=1) + 0.3 > 0, 1.0, -1.0)
        if p > 1:
            X[:, 1] += 0.5 * side
        y = (side > 0).astype(float)
    elif model == "poisson":
        y = rng.poisson(np.exp(0.5 * eta)).astype(float)
    elif model == "gamma":
        y = rng.gamma(2.0, np.exp(0.5 * eta) / 2.0)
    else:  # labels drawn from the logistic model: overlapping classes
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def _awkward(model: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The awkward data sets of the ``[20, 3]`` rows, each a variant of one good data set."""
    X0, y0 = _good(model, seed=0)
    cases = {}

    def case(name, column=None, value=None, y_index=None, y_value=None, scale=None,
             x_index=None, x_value=None):
        X, y = X0.copy(), y0.copy()
        if column is not None:
            X[:, column] = value
        if x_index is not None:
            X[x_index] = x_value
        if scale is not None:
            X[:, 1:] *= scale
        if y_index is not None:
            y[y_index] = y_value
        cases[name] = (X, y)

    case("base")
    case("nan_x", x_index=(3, 1), x_value=np.nan)
    case("inf_x", x_index=(3, 1), x_value=np.inf)
    case("nan_y", y_index=3, y_value=np.nan)
    case("inf_y", y_index=3, y_value=np.inf)
    case("duplicate_column", column=2, value=X0[:, 1])
    case("constant_column", column=2, value=5.0)
    case("zero_column", column=2, value=0.0)
    case("scaled_1e8", scale=1e8)
    case("scaled_1e-8", scale=1e-8)
    case("scaled_1e300", scale=1e300)  # X^T W X overflows
    if model in CLASSIFIERS:
        case("y_above_one", y_index=3, y_value=2.0)
        case("y_below_zero", y_index=3, y_value=-1.0)
        case("y_half", y_index=3, y_value=0.5)  # a proportion, not a 0/1 label
        case("all_zero", y_index=slice(None), y_value=0.0)
        case("all_one", y_index=slice(None), y_value=1.0)
    if model == "poisson":
        case("y_negative", y_index=3, y_value=-1.0)
        case("all_zero", y_index=slice(None), y_value=0.0)
    if model == "gamma":
        case("y_zero", y_index=3, y_value=0.0)
        case("y_negative", y_index=3, y_value=-1.0)
    return cases


# --- fits ---------------------------------------------------------------------------------------

@functools.cache
def _batched_fit(model: str):
    """``jit(vmap(fit))`` with the model's default settings; MLP keys are one per data set."""
    if model in GLM_FAMILIES:
        return jax.jit(jax.vmap(functools.partial(glm.fit, family=model)))
    if model == "perceptron":
        return jax.jit(jax.vmap(perceptron.fit))
    fit = jax.jit(jax.vmap(mlp.fit))
    return lambda X, y: fit(jax.random.split(jax.random.key(0), X.shape[0]), X, y)


def _fit(model, X, y):
    return jax.tree.map(np.asarray, _batched_fit(model)(jnp.asarray(X), jnp.asarray(y)))


def _row(result, index):
    return jax.tree.map(lambda leaf: leaf[index], result)


class Batch:
    """One model's awkward data sets, fitted among good ones, and the all-good control."""

    def __init__(self, model: str):
        self.model = model
        awkward = _awkward(model)
        self.names = list(awkward)
        k = len(self.names)
        # Positions 0, 2, 4, ... hold good data sets, 1, 3, 5, ... the awkward ones.
        good = [_good(model, seed=100 + i) for i in range(k)]
        control = [_good(model, seed=200 + i) for i in range(k)]
        mixed = [d for pair in zip(good, awkward.values()) for d in pair]
        clean = [d for pair in zip(good, control) for d in pair]
        self.mixed = _fit(model, *map(np.stack, zip(*mixed)))
        self.clean = _fit(model, *map(np.stack, zip(*clean)))
        self.good_rows = np.arange(0, 2 * k, 2)

    def __getitem__(self, name):
        return _row(self.mixed, 2 * self.names.index(name) + 1)


@pytest.fixture(scope="module")
def batch():
    """``batch(model)``: the model's :class:`Batch`, fitted on first use in this module."""
    return functools.cache(Batch)


def _small_batch(model, n, p, seeds=(0, 2, 3, 4)):
    X, y = map(np.stack, zip(*[_good(model, seed, n, p) for seed in seeds]))
    return X, y, _fit(model, X, y)


def _assert_invalid(model, result):
    """The documented INVALID_INPUT result: nothing fitted, every number 0, history NaN."""
    assert int(result.status) == Status.INVALID_INPUT
    assert not bool(result.converged)
    assert int(result.n_iter) == 0
    np.testing.assert_array_equal(fitted_parameters(model, _row(result, None)), 0.0)
    assert np.all(np.isnan(result.history))
    if model in GLM_FAMILIES:
        assert not bool(result.separated)
        for value in (result.bse, result.deviance, result.null_deviance, result.scale):
            np.testing.assert_array_equal(value, 0.0)
    elif model == "perceptron":
        assert int(result.n_updates) == 0 and float(result.pocket_accuracy) == 0
    else:
        assert int(result.steps_to_fit) == -1 and float(result.train_accuracy) == 0


# --- rows ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", ["nan_x", "inf_x", "nan_y", "inf_y"])
def test_nan_or_inf_is_invalid_input(batch, model, name):
    _assert_invalid(model, batch(model)[name])


@pytest.mark.parametrize("model", CLASSIFIERS)
@pytest.mark.parametrize("name", ["y_above_one", "y_below_zero"])
def test_label_outside_zero_one_is_invalid_input(batch, model, name):
    _assert_invalid(model, batch(model)[name])


def test_proportion_is_a_binomial_response_but_not_a_label(batch):
    fit = batch("binomial")["y_half"]
    assert int(fit.status) == Status.CONVERGED and bool(fit.converged)
    for model in ("perceptron", "mlp"):
        _assert_invalid(model, batch(model)["y_half"])


def test_negative_poisson_response_is_invalid_input(batch):
    _assert_invalid("poisson", batch("poisson")["y_negative"])


@pytest.mark.parametrize("name", ["y_zero", "y_negative"])
def test_non_positive_gamma_response_is_invalid_input(batch, name):
    _assert_invalid("gamma", batch("gamma")[name])


def test_all_labels_in_one_class(batch):
    # GLM: complete separation along the intercept (d = e_0 gives X d = 1 > 0 at every
    # success): no finite MLE, the intercept runs off towards +-inf until the fitted
    # probabilities are numerically 0 or 1, and the fit says so.
    for name, sign in (("all_zero", -1), ("all_one", 1)):
        fit = batch("binomial")[name]
        assert int(fit.status) == Status.SEPARATED and bool(fit.separated)
        assert not bool(fit.converged) and np.all(np.isfinite(fit.coef))
        assert sign * fit.coef[0] > 20  # sigmoid(20) = 1 - 2e-9
        assert np.all(np.abs(fit.coef[1:]) < 1e-6 * abs(fit.coef[0]))
        # Perceptron: a constant classifier separates a one-class set; it is found at once.
        fit = batch("perceptron")[name]
        assert int(fit.status) == Status.CONVERGED and int(fit.n_iter) <= 2
        # MLP: like any separable set, the loss falls towards 0 without ever settling.
        fit = batch("mlp")[name]
        assert int(fit.status) == Status.MAX_ITER and float(fit.train_accuracy) == 1
        assert fit.history[-1] < 1e-4


def test_all_zero_poisson_counts_converge_as_in_r(batch):
    # The Poisson MLE of an all-zero sample is mu = 0, eta = -inf: like R's glm.fit (and
    # statsmodels), IRLS meets the relative-deviance criterion with a large negative finite
    # intercept. SEPARATED is a binomial-only code, so this is reported CONVERGED.
    fit = batch("poisson")["all_zero"]
    assert int(fit.status) == Status.CONVERGED and bool(fit.converged)
    assert fit.coef[0] < -20 and np.all(np.abs(fit.coef[1:]) < 1e-6)
    assert float(fit.deviance) < 1e-8


def _statsmodels_reduced(family, X, y):
    sm = pytest.importorskip("statsmodels.api")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DomainWarning: the inverse link of Gamma
        return sm.GLM(y, X, family=statsmodels_family(family)).fit(tol=1e-14, maxiter=100)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", ["duplicate_column", "constant_column", "zero_column"])
def test_aliased_column(batch, model, name):
    fit = batch(model)[name]
    if model in GLM_FAMILIES:
        # Column 2 is a copy of column 1, or a multiple of the intercept: R's dqrdc2 aliases
        # it (NA), we set it to 0; the rest is the fit on [1, x1].
        assert int(fit.status) == Status.RANK_DEFICIENT and bool(fit.converged)
        assert fit.coef[2] == 0 and fit.bse[2] == 0
        X, y = _awkward(model)[name]
        reference = _statsmodels_reduced(model, X[:, :2], y)
        np.testing.assert_allclose(fit.coef[:2], reference.params, rtol=REDUCED_RTOL)
        np.testing.assert_allclose(fit.bse[:2], reference.bse, rtol=REDUCED_RTOL)
    elif model == "perceptron":
        # The data stay separable (the labels depend on the intercept and x1 only).
        assert int(fit.status) == Status.CONVERGED and fit.history[int(fit.n_iter) - 1] == 0
        if name == "duplicate_column":
            assert fit.coef[1] == fit.coef[2]  # every update adds the same x1 to both
    else:
        # Gradient descent does not care about collinearity; x2's information is gone, so
        # the network overfits 20 points less well than on the base data set.
        assert int(fit.status) == Status.MAX_ITER
        assert np.all(np.isfinite(fitted_parameters(model, _row(fit, None))))


@pytest.mark.parametrize("model", GLM_FAMILIES)
@pytest.mark.parametrize("name,scale", [("scaled_1e8", 1e8), ("scaled_1e-8", 1e-8)])
def test_glm_scaled_features_scale_the_coefficients(batch, model, name, scale):
    # IRLS is affine invariant: the fit on x * s is the fit on x with slopes / s, in the
    # same number of iterations, wherever the MLE exists.
    base, fit = batch(model)["base"], batch(model)[name]
    assert int(base.status) == Status.CONVERGED
    assert int(fit.status) == Status.CONVERGED and int(fit.n_iter) == int(base.n_iter)
    np.testing.assert_allclose(fit.coef[0], base.coef[0], rtol=SCALE_RTOL)
    np.testing.assert_allclose(fit.coef[1:] * scale, base.coef[1:], rtol=SCALE_RTOL)
    np.testing.assert_allclose(fit.bse[1:] * scale, base.bse[1:], rtol=SCALE_RTOL)
    np.testing.assert_allclose(fit.deviance, base.deviance, rtol=SCALE_RTOL)


@pytest.mark.parametrize("name", ["scaled_1e8", "scaled_1e-8"])
def test_perceptron_scaled_features_still_separate(batch, name):
    # Scaling the features (not the intercept) keeps the data separable; the perceptron is
    # not scale invariant (the intercept's share of each update changes) but converges.
    fit = batch("perceptron")[name]
    assert int(fit.status) == Status.CONVERGED and np.all(np.isfinite(fit.coef))
    assert float(fit.pocket_accuracy) == 1


def test_perceptron_overflowing_margins_are_never_converged(batch):
    # At x ~ 1e300 one update makes w ~ 1e300 and x.w overflows. Whether a margin comes out
    # as a signed inf or as NaN (inf - inf) depends on whether the compiler fused the
    # multiply-adds (XLA's default CPU and GPU builds do; a quick compile does not). A NaN
    # margin is a mistake, so the lane may stop as converged only if every prediction was
    # decided, and then it classifies every point; otherwise its status says it did not.
    fit = batch("perceptron")["scaled_1e300"]
    if int(fit.status) == Status.CONVERGED:
        assert float(fit.pocket_accuracy) == 1 and fit.history[int(fit.n_iter) - 1] == 0
    else:
        assert int(fit.status) in (Status.MAX_ITER, Status.NONFINITE)
        assert not bool(fit.converged)


def test_mlp_scaled_features_degrade_without_nan(batch):
    # First-order training is not scale invariant: at 1e8 (and 1e300) the hidden sigmoids
    # saturate and the gradients vanish; at 1e-8 the features are invisible and the loss
    # settles at the intercept-only fit, which the loss-based rule calls converged. Either
    # way the parameters are finite and the status says what happened.
    base = batch("mlp")["base"]
    for name in ("scaled_1e8", "scaled_1e300"):
        fit = batch("mlp")[name]
        assert int(fit.status) == Status.MAX_ITER
        assert float(fit.train_accuracy) < float(base.train_accuracy)
    fit = batch("mlp")["scaled_1e-8"]
    assert int(fit.status) == Status.CONVERGED
    labels = _awkward("mlp")["base"][1]
    # The intercept-only fit: loss = entropy of the class frequencies.
    share = labels.mean()
    entropy = -(share * np.log(share) + (1 - share) * np.log(1 - share))
    np.testing.assert_allclose(fit.history[int(fit.n_iter) - 1], entropy, rtol=1e-4)
    for name in ("scaled_1e8", "scaled_1e-8", "scaled_1e300"):
        leaves = jax.tree.leaves(batch("mlp")[name].params)
        assert all(np.all(np.isfinite(leaf)) for leaf in leaves)


@pytest.mark.parametrize("model", GLM_FAMILIES)
def test_glm_overflowing_gram_is_nonfinite(batch, model):
    # x ~ 1e300: X^T W X overflows on the first step, which has nothing to halve back to
    # (R: "no valid set of coefficients has been found").
    fit = batch(model)["scaled_1e300"]
    assert int(fit.status) == Status.NONFINITE and not bool(fit.converged)
    assert int(fit.n_iter) == 0 and np.all(fit.coef == 0) and np.all(np.isfinite(fit.bse))


# --- other shapes: n < p, n = 1 ------------------------------------------------------------------

@pytest.fixture(scope="module")
def below_p():
    """``n = 2 < p = 3``: rank at most 2, so one coefficient is not identified."""
    return {model: _small_batch(model, 2, 3) for model in MODELS}


@pytest.fixture(scope="module")
def single_row():
    """``n = p = 1``: one observation, intercept only."""
    return {model: _small_batch(model, 1, 1) for model in MODELS}


def test_n_below_p(below_p):
    # Binomial 0/1: two points with an intercept are always separable.
    fit = below_p["binomial"][2]
    np.testing.assert_array_equal(fit.status, Status.SEPARATED)
    for family in ("poisson", "gamma"):
        fit = below_p[family][2]
        np.testing.assert_array_equal(fit.status, Status.RANK_DEFICIENT)
        assert np.all(fit.converged) and np.all(np.isfinite(fit.coef))
        # The aliased column (the last: columns are kept in order) is 0 in coef and bse.
        assert np.all(fit.coef[:, 2] == 0) and np.all(fit.bse[:, 2] == 0)
        assert np.all(fit.coef[:, :2] != 0) and np.all(fit.bse[:, :2] != 0)
    # gamma: Pearson scale over n - rank = 0 residual df is undefined (R: NaN), so is bse.
    assert np.all(np.isnan(below_p["gamma"][2].scale))
    np.testing.assert_array_equal(below_p["perceptron"][2].status, Status.CONVERGED)
    fit = below_p["mlp"][2]
    np.testing.assert_array_equal(fit.status, Status.MAX_ITER)
    np.testing.assert_array_equal(fit.train_accuracy, 1.0)


# --- exactly collinear columns next to ill-conditioned ones ---------------------------------
#
# A rank decision from the pivots of X^T W X squares the condition number: the pivot of an
# exactly dependent column is rounding noise of about eps * cond(X_kept)^2 * G[j, j], above
# RANK_RTOL * eps * G[j, j] once the kept columns are only mildly ill-conditioned. Here x is
# 100 + N(0, 1), nearly a multiple of the intercept, and the third column is standardised x
# (n = 20) or anything (n = 2 < p = 3): R's QR aliases it every time. The fit used to miss
# it in about half of the data sets; it now decides the rank by a QR whenever the Gram
# matrix is too ill-conditioned to settle it (models/_glm.py, _design_aliased).

def _ill_conditioned(model, n, n_datasets, seed=7):
    rng = np.random.default_rng(seed)
    x = 100 + rng.normal(size=(n_datasets, n))
    z = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    if n < 3:
        z = rng.normal(size=(n_datasets, n))  # n < p: every third column is dependent
    X = np.stack([np.ones_like(x), x, z], axis=-1)
    eta = 0.3 * z
    if model == "binomial":  # proportions: 0/1 labels at n = 2 would be separated
        y = rng.uniform(0.1, 0.9, size=x.shape) if n < 3 else (
            rng.uniform(size=x.shape) < 1 / (1 + np.exp(-eta))).astype(float)
    elif model == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    else:
        y = rng.gamma(2.0, np.exp(eta) / 2.0)
    return X, y


def _fit_in_batches(model, X, y, size):
    """Fit in batches of ``size``, a size already compiled for another row."""
    parts = [_fit(model, X[i:i + size], y[i:i + size]) for i in range(0, len(X), size)]
    return jax.tree.map(lambda *leaves: np.concatenate(leaves), *parts)


@pytest.mark.parametrize("model", GLM_FAMILIES)
def test_collinear_column_is_aliased_even_next_to_ill_conditioned_columns(batch, model):
    size = 2 * len(batch(model).names)  # the [20, 3] rows' batch: no new compilation
    X, y = _ill_conditioned(model, N_SAMPLES, size)
    fit = _fit(model, X, y)
    np.testing.assert_array_equal(fit.status, Status.RANK_DEFICIENT)
    np.testing.assert_array_equal(fit.coef[:, 2], 0.0)  # the later of the dependent columns
    for i in range(4):  # the rest is the fit on [1, x], as R's
        reference = _statsmodels_reduced(model, X[i, :, :2], y[i])
        np.testing.assert_allclose(fit.coef[i, :2], reference.params, rtol=REDUCED_RTOL)
        np.testing.assert_allclose(fit.bse[i, :2], reference.bse, rtol=REDUCED_RTOL)


@pytest.mark.parametrize("model", GLM_FAMILIES)
def test_n_below_p_is_rank_deficient_even_with_ill_conditioned_columns(below_p, model):
    # rank(X) <= n = 2 < p = 3: the coefficients are not unique, whatever the rounding.
    X, y = _ill_conditioned(model, 2, 16)
    fit = _fit_in_batches(model, X, y, len(below_p[model][0]))
    np.testing.assert_array_equal(fit.status, Status.RANK_DEFICIENT)


@pytest.mark.parametrize("model", GLM_FAMILIES)
def test_aliased_columns_have_zero_coef_and_zero_bse(batch, model):
    # GLMResult: "Aliased columns: 0" for both coef and bse. The coefficients come from the
    # loop's last solve and bse from a second factorisation at the final weights; both use
    # the aliased set of that solve (they once decided it separately and disagreed near the
    # threshold).
    size = 2 * len(batch(model).names)
    fit = _fit(model, *_ill_conditioned(model, N_SAMPLES, size))
    np.testing.assert_array_equal(fit.coef == 0, fit.bse == 0)


def test_single_observation(single_row):
    X, y, fit = single_row["binomial"]
    np.testing.assert_array_equal(fit.status, Status.SEPARATED)
    assert np.all(np.sign(fit.coef[:, 0]) == 2 * y[:, 0] - 1)
    X, y, fit = single_row["poisson"]
    positive = y[:, 0] > 0
    np.testing.assert_array_equal(fit.status, Status.CONVERGED)
    # The MLE log(y), to the accuracy that R's relative-deviance criterion leaves; y = 0 is
    # the all-zero case above (no finite MLE, a large negative intercept).
    np.testing.assert_allclose(fit.coef[positive, 0], np.log(y[positive, 0]), atol=1e-8)
    assert np.all(fit.coef[~positive, 0] < -20) and np.any(~positive)
    X, y, fit = single_row["gamma"]
    np.testing.assert_array_equal(fit.status, Status.CONVERGED)
    np.testing.assert_allclose(fit.coef[:, 0], 1 / y[:, 0], rtol=1e-10)  # inverse link
    assert np.all(np.isnan(fit.scale)) and np.all(np.isnan(fit.bse))  # 0 residual df
    np.testing.assert_array_equal(single_row["perceptron"][2].status, Status.CONVERGED)
    fit = single_row["mlp"][2]
    np.testing.assert_array_equal(fit.status, Status.MAX_ITER)
    np.testing.assert_array_equal(fit.train_accuracy, 1.0)


# --- every batch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_good_data_sets_are_bitwise_unaffected_by_awkward_neighbours(batch, model):
    b = batch(model)
    for mixed, clean in zip(jax.tree.leaves(b.mixed), jax.tree.leaves(b.clean)):
        np.testing.assert_array_equal(mixed[b.good_rows], clean[b.good_rows])


@pytest.mark.parametrize("model", MODELS)
def test_every_outcome_is_a_status_and_never_nan(batch, below_p, single_row, model):
    results = [batch(model).mixed, batch(model).clean, below_p[model][2], single_row[model][2]]
    for result in results:
        assert set(np.unique(result.status)) <= {int(s) for s in Status}
        coef = fitted_parameters(model, result)
        assert np.all(np.isfinite(coef))  # not only when converged: never NaN
        ok = (Status.CONVERGED, Status.RANK_DEFICIENT) if model in GLM_FAMILIES else (
            Status.CONVERGED,)
        np.testing.assert_array_equal(result.converged, np.isin(result.status, ok))


@pytest.mark.parametrize("model", ["glm", "perceptron", "mlp"])
def test_lists_under_jit_and_half_precision_are_a_value_error_saying_what_to_pass(model):
    fit = {"glm": glm.fit, "perceptron": perceptron.fit,
           "mlp": functools.partial(mlp.fit, jax.random.key(0))}[model]
    X = _design(np.random.default_rng(0), 6, 2)
    y = np.array([0.0, 1, 0, 1, 1, 0])
    with pytest.raises(ValueError, match="pass an array"):
        jax.jit(fit)(X.tolist(), y.tolist())
    with pytest.raises(ValueError, match="float32 or float64"):
        fit(X.astype(np.float16), y.astype(np.float16))
    with pytest.raises(ValueError, match="float32 or float64"):
        fit(jnp.asarray(X, jnp.bfloat16), jnp.asarray(y, jnp.bfloat16))
