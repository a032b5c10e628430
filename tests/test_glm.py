"""models.glm: parity with statsmodels and firthmodels, separation, batching, compilation.

Compilation dominates the run time, so tests share compiled programs: every test on the
``N_PARITY`` data goes through ``_fit_shared`` (``weights`` and ``offset`` arrays, one
``max_iter``: one program per family x link), and the batched tests share the module-level
``_vfit`` on one shape of data set.
"""

import dataclasses
import logging
import os
import subprocess
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _r_glm import r_iterations

from bench import datasets
from bench.families.glm import statsmodels_family
from models import glm
from models._status import Status

PARITY_RTOL = 1e-6  # coef, bse, deviance, scale against statsmodels (float64)
FIRTH_RTOL = 1e-5  # coef against firthmodels
SKLEARN_RTOL = 1e-6  # ridge logistic regression against scikit-learn
VMAP_RTOL = 1e-12  # vmapped fit against a loop of single fits
FLOAT32_RTOL = 1e-4  # float32 against float64, relative to each data set's largest |coef|
REFERENCE_TOL = 1e-14  # our tol when matching a reference that iterates to the optimum
STATSMODELS_TOL = 1e-13  # statsmodels' (absolute) deviance tolerance in those comparisons

N_PARITY = 120  # observations in the parity data sets (p = 3)
SHARED_MAX_ITER = 100  # Fisher scoring on non-canonical links converges linearly: room to
#                        reach REFERENCE_TOL (binomial-identity needs ~40 iterations)
N_BATCH, N_SAMPLES, N_FEATURES = 200, 50, 3  # bench data: n = 50 >= 10 p = 40

_vfit = jax.jit(jax.vmap(glm.fit))
RESULT_FIELDS = [f.name for f in dataclasses.fields(glm.GLMResult) if f.type != "str"]  # arrays


# --- statsmodels parity ---------------------------------------------------------------------

PAIRS = [(family, link) for family in glm.FAMILIES for link in glm.FAMILIES[family].links]

# True coefficients for [1, x1, x2], x ~ U(-1, 1): each keeps mu inside the mean space.
TRUE_COEF = {
    ("binomial", "logit"): [0.3, 1.0, -0.8],
    ("binomial", "probit"): [0.2, 0.6, -0.5],
    ("binomial", "cloglog"): [-0.3, 0.7, -0.6],
    ("binomial", "log"): [-1.5, 0.3, -0.3],
    ("binomial", "identity"): [0.4, 0.15, -0.15],
    ("poisson", "log"): [0.8, 0.5, -0.4],
    ("poisson", "identity"): [3.0, 1.0, -1.0],
    ("gaussian", "identity"): [1.0, 2.0, -1.0],
    ("gaussian", "log"): [1.0, 0.4, -0.3],
    ("gaussian", "inverse"): [0.5, 0.1, -0.1],
    ("gamma", "inverse"): [1.0, 0.3, -0.3],
    ("gamma", "log"): [0.5, 0.4, -0.3],
    ("gamma", "identity"): [2.0, 0.5, -0.5],
}


def _fit_shared(X, y, family, link=None, *, weights=None, offset=None, **kwargs):
    """``glm.fit`` with the argument structure that all tests on N_PARITY rows share."""
    weights = np.ones(N_PARITY) if weights is None else weights
    offset = np.zeros(N_PARITY) if offset is None else offset
    return glm.fit(X, y, family, link, weights=weights, offset=offset,
                   max_iter=SHARED_MAX_ITER, **kwargs)


def _parity_data(family, link, seed):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(N_PARITY), rng.uniform(-1, 1, size=(N_PARITY, 2))])
    mu = np.asarray(glm.LINKS[link].inverse(jnp.asarray(X @ TRUE_COEF[family, link])))
    if family == "binomial":
        y = rng.binomial(1, mu).astype(float)
    elif family == "poisson":
        y = rng.poisson(mu).astype(float)
    elif family == "gaussian":
        noise = 0.1 * rng.normal(size=N_PARITY)
        y = mu + (noise if link == "identity" else noise * mu)  # y > 0 for log, != 0 inverse
    else:
        y = rng.gamma(5.0, mu / 5.0)
    weights = rng.uniform(0.5, 2.0, size=N_PARITY)
    return X, y, weights


def _statsmodels_fit(X, y, family, link, **kwargs):
    sm = pytest.importorskip("statsmodels.api")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DomainWarning for the non-canonical links
        model = sm.GLM(y, X, family=statsmodels_family(family, link), **kwargs)
        return model.fit(tol=STATSMODELS_TOL, maxiter=500)


def _assert_matches_statsmodels(res, ref):
    assert int(res.status) == Status.CONVERGED and bool(res.converged)
    np.testing.assert_allclose(res.coef, ref.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.null_deviance, ref.null_deviance, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.scale, ref.scale, rtol=PARITY_RTOL)
    # Step-halving keeps the objective from rising after the first iteration.
    history = np.asarray(res.history)[: int(res.n_iter)]
    assert np.all(np.diff(history) <= 1e-12 * abs(history[-1]) + 1e-12)
    assert np.all(np.isnan(np.asarray(res.history)[int(res.n_iter):]))


@pytest.mark.parametrize("family,link", PAIRS)
def test_parity_with_statsmodels(family, link):
    X, y, weights = _parity_data(family, link, seed=100 + PAIRS.index((family, link)))
    res = _fit_shared(X, y, family, link, tol=REFERENCE_TOL)
    _assert_matches_statsmodels(res, _statsmodels_fit(X, y, family, link))
    # Prior weights are R's weights, i.e. statsmodels' var_weights.
    res = _fit_shared(X, y, family, link, weights=weights, tol=REFERENCE_TOL)
    _assert_matches_statsmodels(res, _statsmodels_fit(X, y, family, link,
                                                      var_weights=weights))


def test_parity_binomial_proportions_with_trials():
    rng = np.random.default_rng(11)
    X = np.column_stack([np.ones(N_PARITY), rng.uniform(-1, 1, size=(N_PARITY, 2))])
    trials = rng.integers(1, 15, size=N_PARITY).astype(float)
    successes = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-X @ [0.2, 1.0, -1.0])))
    res = _fit_shared(X, successes / trials, "binomial", weights=trials, tol=REFERENCE_TOL)
    # R's glm(cbind(s, n - s) ~ x) is statsmodels' two-column endog; var_weights=trials with
    # proportions is the same model (and what R's glm(s/n ~ x, weights=n) fits).
    two_column = _statsmodels_fit(X, np.column_stack([successes, trials - successes]),
                                  "binomial", "logit")
    _assert_matches_statsmodels(res, two_column)
    _assert_matches_statsmodels(res, _statsmodels_fit(X, successes / trials, "binomial",
                                                      "logit", var_weights=trials))


def test_parity_poisson_with_offset():
    rng = np.random.default_rng(12)
    X = np.column_stack([np.ones(N_PARITY), rng.uniform(-1, 1, size=(N_PARITY, 2))])
    exposure = rng.uniform(0.5, 3.0, size=N_PARITY)
    y = rng.poisson(exposure * np.exp(X @ [0.3, 0.5, -0.4])).astype(float)
    weights = rng.uniform(0.5, 2.0, size=N_PARITY)
    res = _fit_shared(X, y, "poisson", weights=weights, offset=np.log(exposure),
                      tol=REFERENCE_TOL)
    # null_deviance with an offset needs a fitted intercept-only model: checked here too.
    _assert_matches_statsmodels(res, _statsmodels_fit(X, y, "poisson", "log",
                                                      offset=np.log(exposure),
                                                      var_weights=weights))


def test_zero_weights_drop_observations_as_in_r():
    X, y, weights = _parity_data("gaussian", "identity", seed=13)
    weights[::4] = 0.0
    res = _fit_shared(X, y, "gaussian", weights=weights, tol=REFERENCE_TOL)
    keep = weights > 0  # R: zero-weight rows do not count in the residual df either
    _assert_matches_statsmodels(res, _statsmodels_fit(X[keep], y[keep], "gaussian",
                                                      "identity", var_weights=weights[keep]))


def test_default_tolerance_is_close_to_statsmodels(overlap):
    X, y = np.asarray(overlap.X_train[7]), np.asarray(overlap.y_train[7])
    res = glm.fit(X, y)  # tol 1e-8, R's default; weights=None, offset=None path
    ref = _statsmodels_fit(X, y, "binomial", "logit")
    # R's rule and R's iterations, exactly: the count of a transcription of R's glm.fit.
    assert int(res.status) == Status.CONVERGED
    assert int(res.n_iter) == r_iterations(X, y, "binomial", "logit")
    np.testing.assert_allclose(res.coef, ref.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=PARITY_RTOL)


# --- data that the fit must report, not fail on ---------------------------------------------

@pytest.mark.parametrize("family,bad", [
    ("binomial", "y_above_one"),
    ("binomial", "nan_x"),
    ("binomial", "inf_offset"),
    ("binomial", "negative_weight"),
    ("binomial", "zero_weights"),
    ("poisson", "negative_y"),
    ("gamma", "zero_y"),
    ("gaussian", "nan_weight"),
])
def test_invalid_data_gives_status_not_exception(family, bad):
    X, y, weights = _parity_data(family, glm.FAMILIES[family].canonical_link, seed=3)
    offset = np.zeros(N_PARITY)
    if bad == "y_above_one":
        y[4] = 1.5
    elif bad == "nan_x":
        X[7, 1] = np.nan
    elif bad == "inf_offset":
        offset[0] = np.inf
    elif bad == "negative_weight":
        weights[2] = -1.0
    elif bad == "zero_weights":
        weights[:] = 0.0
    elif bad == "negative_y":
        y[0] = -1.0
    elif bad == "zero_y":
        y[0] = 0.0
    elif bad == "nan_weight":
        weights[9] = np.nan
    res = _fit_shared(X, y, family, weights=weights, offset=offset)
    assert int(res.status) == Status.INVALID_INPUT
    assert not bool(res.converged) and not bool(res.separated) and int(res.n_iter) == 0
    for leaf in (res.coef, res.bse, res.deviance, res.null_deviance, res.scale):
        assert np.all(np.asarray(leaf) == 0)
    assert np.all(np.isnan(res.history))


def test_invalid_first_step_is_nonfinite_without_nan():
    # Poisson with identity link: the first weighted least-squares step gives mu < 0 at x = 0,
    # where R stops with "no valid set of coefficients has been found".
    rng = np.random.default_rng(0)
    x = np.tile(np.arange(6.0), N_PARITY // 6)
    X = np.column_stack([np.ones(N_PARITY), x, 0.01 * rng.normal(size=N_PARITY)])
    y = np.where(x == 5, 10.0, 0.0)
    res = _fit_shared(X, y, "poisson", "identity")
    assert int(res.status) == Status.NONFINITE and not bool(res.converged)
    assert np.all(np.asarray(res.coef) == 0) and np.all(np.isfinite(res.bse))
    assert np.isfinite(res.deviance)


def test_start_values_the_link_cannot_take_are_invalid_input():
    X, y, weights = _parity_data("gaussian", "log", seed=4)
    y[3] = -0.5  # log(mustart) = log(y) undefined: R's "cannot find valid starting values"
    res = _fit_shared(X, y, "gaussian", "log", weights=weights)
    assert int(res.status) == Status.INVALID_INPUT


# --- static mistakes --------------------------------------------------------------------------

_X = np.column_stack([np.ones(10), np.linspace(-1, 1, 10)])
_Y = (np.arange(10) % 2).astype(float)
_RESULT = glm.GLMResult(np.zeros(2), np.zeros(2), *([np.zeros(())] * 3), *([np.zeros((), int)]),
                        *([np.zeros((), bool)] * 2), *([np.zeros((), int)] * 2), np.zeros(25))


@pytest.mark.parametrize("call", [
    lambda: glm.fit(_X, _Y, "negbin"),
    lambda: glm.fit(_X, _Y, "binomial", "sqrt"),
    lambda: glm.fit(_X, _Y, "poisson", "logit"),
    lambda: glm.fit(_X, _Y, "gamma", "probit"),
    lambda: glm.fit(_X, _Y, family=None),
    lambda: glm.fit(_X[:, 1], _Y),
    lambda: glm.fit(_X[None], _Y),
    lambda: glm.fit(_X, _Y[:, None]),
    lambda: glm.fit(_X, _Y[:-1]),
    lambda: glm.fit(_X, _Y, weights=np.ones(9)),
    lambda: glm.fit(_X, _Y, weights=np.ones((10, 1))),
    lambda: glm.fit(_X, _Y, offset=np.ones(11)),
    lambda: glm.fit(_X, _Y, max_iter=0),
    lambda: glm.fit(_X, _Y, max_iter=2.5),
    lambda: glm.fit(_X, _Y, tol=0.0),
    lambda: glm.fit(_X, _Y, tol=-1e-8),
    lambda: glm.fit(_X, _Y, tol=np.ones(2)),
    lambda: glm.fit(_X, _Y, l2=-1.0),
    lambda: glm.fit(_X, _Y, l2=np.nan),
    lambda: glm.fit(_X, _Y, firth=1),
    lambda: glm.fit(_X, _Y, "poisson", firth=True),
    lambda: glm.fit(_X, _Y, "binomial", "probit", firth=True),
    lambda: glm.predict(_RESULT, _X[:, :1]),
    lambda: glm.predict(_RESULT, _X[0]),
    lambda: glm.predict(_RESULT, _X, offset=np.zeros(3)),
], ids=lambda _: "")
def test_static_mistakes_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_static_mistakes_raise_before_tracing_under_jit():
    with pytest.raises(ValueError, match="choose one of"):
        jax.jit(lambda X, y: glm.fit(X, y, "poisson", "logit"))(_X, _Y)
    with pytest.raises(ValueError, match="rows"):
        jax.jit(lambda X, y: glm.fit(X, y[:-1]))(_X, _Y)


def test_unknown_family_message_lists_the_choices():
    with pytest.raises(ValueError, match="binomial, poisson, gaussian, gamma"):
        glm.fit(_X, _Y, "negbin")


# --- separation, overlap, batching ------------------------------------------------------------

@pytest.fixture(scope="module")
def separable():
    return datasets.make("separable", jax.random.key(0), n_datasets=N_BATCH,
                         n_samples=N_SAMPLES, n_features=N_FEATURES, dtype=jnp.float64)


@pytest.fixture(scope="module")
def overlap():
    return datasets.make("overlap", jax.random.key(1), n_datasets=N_BATCH,
                         n_samples=N_SAMPLES, n_features=N_FEATURES, dtype=jnp.float64)


@pytest.fixture(scope="module")
def separable_fits(separable):
    return _vfit(separable.X_train, separable.y_train)


@pytest.fixture(scope="module")
def overlap_fits(overlap):
    return _vfit(overlap.X_train, overlap.y_train)


def _assert_nothing_nan(res):
    for name in ("coef", "bse", "deviance", "null_deviance", "scale"):
        assert np.all(np.isfinite(getattr(res, name))), name


def test_separable_data_are_flagged_never_converged(separable_fits):
    res = separable_fits
    assert np.all(res.separated) and not np.any(res.converged)
    assert np.all(res.status == Status.SEPARATED)
    _assert_nothing_nan(res)
    # The deviance heads to 0 and the coefficients grow, iteration by iteration.
    for i in range(N_BATCH):
        history = np.asarray(res.history[i])[: int(res.n_iter[i])]
        assert np.all(np.diff(history) < 0)
    assert np.all(res.deviance < 0.2 * res.null_deviance)


def test_separated_coefficients_point_along_the_true_hyperplane(separable, separable_fits):
    coef = np.asarray(separable_fits.coef)
    cosine = np.sum(coef * np.asarray(separable.coef_true), axis=1) / (
        np.linalg.norm(coef, axis=1) * np.linalg.norm(separable.coef_true, axis=1))
    assert np.median(cosine) > 0.9


def test_overlap_data_converge_and_are_not_flagged(overlap_fits):
    res = overlap_fits
    ok = np.asarray(res.converged & ~res.separated)
    assert ok.mean() >= 0.99
    assert np.all(res.separated == (res.status == Status.SEPARATED))
    assert np.median(res.n_iter) <= 6
    _assert_nothing_nan(res)


def test_quasi_complete_separation_is_flagged():
    # Classes split by x1 = 0, with both classes at x1 = 0: R's glm "converges" here, with
    # huge coefficients; the MLE does not exist.
    rng = np.random.default_rng(21)
    x1 = np.linspace(-1.0, 1.0, N_PARITY)
    x1[58:62] = 0.0
    y = (x1 > 0).astype(float)
    y[58:62] = [0.0, 1.0, 0.0, 1.0]
    X = np.column_stack([np.ones(N_PARITY), x1, rng.normal(size=N_PARITY)])
    res = _fit_shared(X, y, "binomial")
    assert bool(res.separated) and int(res.status) == Status.SEPARATED
    assert not bool(res.converged)
    _assert_nothing_nan(res)
    assert abs(float(res.coef[1])) > 10 * abs(float(res.coef[2]))  # grows along x1 only


def test_separated_flag_agrees_with_linear_programming():
    linprog = pytest.importorskip("scipy.optimize").linprog
    # Strong signal: some of these draws are (quasi-)separable, most are not.
    data = datasets.make("overlap", jax.random.key(4), n_datasets=N_BATCH,
                         n_samples=N_SAMPLES, n_features=N_FEATURES, signal=6.0,
                         dtype=jnp.float64)
    res = _vfit(data.X_train, data.y_train)

    def separable_by_lp(X, y):
        # max sum_i s_i X_i d subject to s_i X_i d >= 0, |d| <= 1, with s = 2y - 1: a positive
        # optimum is a direction that separates, completely or quasi-completely.
        signed = (2 * y - 1)[:, None] * X
        lp = linprog(-signed.sum(0), A_ub=-signed, b_ub=np.zeros(len(y)),
                     bounds=[(-1, 1)] * X.shape[1], method="highs")
        return -lp.fun > 1e-7

    truth = np.array([separable_by_lp(np.asarray(data.X_train[i]), np.asarray(data.y_train[i]))
                      for i in range(N_BATCH)])
    assert 10 < truth.sum() < N_BATCH - 10
    np.testing.assert_array_equal(np.asarray(res.separated), truth)
    assert np.all(res.converged[~truth]) and not np.any(res.converged[truth])


def test_penalised_fits_are_finite_and_converge_on_separable_data(separable):
    X, y = separable.X_train[0], separable.y_train[0]
    for res in (glm.fit(X, y, l2=1.0), glm.fit(X, y, firth=True, max_iter=100)):
        assert int(res.status) == Status.CONVERGED and not bool(res.separated)
        _assert_nothing_nan(res)


#: Separable data sets first, then as many overlapping ones: a batch of N_BATCH, the shape
#: (and so the compiled program) of the fits above.
HALF = N_BATCH // 2


@pytest.fixture(scope="module")
def mixed(separable, overlap):
    X = jnp.concatenate([separable.X_train[:HALF], overlap.X_train[:HALF]])
    y = jnp.concatenate([separable.y_train[:HALF], overlap.y_train[:HALF]])
    return X, y


@pytest.fixture(scope="module")
def mixed_fits(mixed):
    return _vfit(*mixed)


def test_vmap_equals_loop_of_single_fits(mixed, mixed_fits):
    X, y = np.asarray(mixed[0]), np.asarray(mixed[1])
    singles = [glm.fit(X[i], y[i]) for i in range(X.shape[0])]
    for name in RESULT_FIELDS:
        batched = np.asarray(getattr(mixed_fits, name))
        looped = np.stack([np.asarray(getattr(s, name)) for s in singles])
        if batched.dtype.kind == "f":
            np.testing.assert_allclose(batched, looped, rtol=VMAP_RTOL, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(batched, looped, err_msg=name)


def test_mixed_batch_gives_each_data_set_its_own_status(mixed_fits):
    status, n_iter = np.asarray(mixed_fits.status), np.asarray(mixed_fits.n_iter)
    assert np.all(status[:HALF] == Status.SEPARATED)
    assert np.mean(status[HALF:] == Status.CONVERGED) >= 0.95
    assert len(np.unique(n_iter)) > 1  # the batch does not force one iteration count


def test_invalid_data_set_does_not_affect_the_others(mixed, mixed_fits):
    X, y = mixed
    X_bad = X.at[5, 3, 1].set(jnp.nan)  # a separable data set
    y_bad = y.at[HALF + 8, 0].set(2.0)  # an overlapping one: outside [0, 1]
    res = _vfit(X_bad, y_bad)
    bad = np.zeros(X.shape[0], bool)
    bad[[5, HALF + 8]] = True
    assert np.all(res.status[bad] == Status.INVALID_INPUT)
    assert np.all(np.asarray(res.coef)[bad] == 0) and not np.any(res.converged[bad])
    for name in RESULT_FIELDS:
        # The other data sets come out bitwise as in the same batch without the bad ones
        # (and, as the test above shows, equal their single fits to VMAP_RTOL).
        np.testing.assert_array_equal(np.asarray(getattr(res, name))[~bad],
                                      np.asarray(getattr(mixed_fits, name))[~bad],
                                      err_msg=name)


def test_float32_agrees_with_float64(overlap):
    # The float32 data, and float64 fits of exactly those numbers.
    X32, y32 = overlap.X_train.astype(jnp.float32), overlap.y_train.astype(jnp.float32)
    res32 = _vfit(X32, y32)
    res64 = _vfit(X32.astype(jnp.float64), y32.astype(jnp.float64))
    assert res32.coef.dtype == jnp.float32 and res32.history.dtype == jnp.float32
    both = np.asarray(res32.converged & res64.converged)
    assert both.mean() >= 0.99
    assert np.all(res32.status == res64.status)
    coef32 = np.asarray(res32.coef, np.float64)[both]
    coef64 = np.asarray(res64.coef)[both]
    scale = np.max(np.abs(coef64), axis=1, keepdims=True)
    assert np.all(np.abs(coef32 - coef64) <= FLOAT32_RTOL * scale)
    np.testing.assert_allclose(np.asarray(res32.deviance, np.float64)[both],
                               np.asarray(res64.deviance)[both], rtol=FLOAT32_RTOL)


# --- Firth, ridge, rank deficiency, max_iter, predict -----------------------------------------

def test_firth_matches_firthmodels(separable, overlap):
    firthmodels = pytest.importorskip("firthmodels")
    for X, y in ((overlap.X_train[0], overlap.y_train[0]),
                 (separable.X_train[1], separable.y_train[1])):
        X, y = np.asarray(X), np.asarray(y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns when gtol is below its reach
            ref = firthmodels.FirthLogisticRegression(
                fit_intercept=False, gtol=1e-12, xtol=1e-12, max_iter=200).fit(X, y)
        # The Firth iteration converges linearly (as logistf's), so the reference comparison
        # iterates further than R's default tol.
        res = glm.fit(X, y, firth=True, tol=REFERENCE_TOL, max_iter=100)
        assert int(res.status) == Status.CONVERGED
        np.testing.assert_allclose(res.coef, ref.coef_, rtol=FIRTH_RTOL)


def test_ridge_matches_sklearn(overlap):
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y = np.asarray(overlap.X_train[3]), np.asarray(overlap.y_train[3])
    l2 = 2.0
    res = glm.fit(X, y, l2=l2, tol=REFERENCE_TOL)
    # scikit-learn minimises C * sum(log-loss) + ||w||^2 / 2 and leaves the intercept alone.
    ref = sklearn_linear.LogisticRegression(C=1 / l2, tol=1e-12, max_iter=10_000).fit(X[:, 1:], y)
    np.testing.assert_allclose(res.coef, np.concatenate([ref.intercept_, ref.coef_[0]]),
                               rtol=SKLEARN_RTOL)


def test_l2_may_be_traced_and_vmapped(overlap):
    X, y = overlap.X_train[0], overlap.y_train[0]
    path = jax.vmap(lambda l2: glm.fit(X, y, l2=l2))(jnp.asarray([0.0, 1.0, 10.0, -1.0]))
    assert list(np.asarray(path.status)) == [Status.CONVERGED] * 3 + [Status.INVALID_INPUT]
    slopes = np.linalg.norm(np.asarray(path.coef)[:3, 1:], axis=1)
    assert slopes[0] > slopes[1] > slopes[2]  # shrinkage grows with l2
    np.testing.assert_allclose(path.coef[0], glm.fit(X, y).coef, rtol=VMAP_RTOL)


def test_rank_deficient_design_zeroes_the_aliased_coefficient():
    X, y, _ = _parity_data("binomial", "logit", seed=9)
    X_aliased = X.copy()
    X_aliased[:, 2] = 1.0 - 2.0 * X[:, 1]  # in the span of the first two columns
    res = _fit_shared(X_aliased, y, "binomial", tol=REFERENCE_TOL)
    assert int(res.status) == Status.RANK_DEFICIENT and bool(res.converged)
    assert res.coef[2] == 0 and res.bse[2] == 0
    # The other coefficients are the fit without the aliased column, as in R.
    ref = _statsmodels_fit(X[:, :2], y, "binomial", "logit")
    np.testing.assert_allclose(res.coef[:2], ref.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse[:2], ref.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=PARITY_RTOL)


def test_predict_gives_fitted_means(overlap, overlap_fits):
    res = jax.tree.map(lambda leaf: leaf[0], overlap_fits)
    np.testing.assert_allclose(glm.predict(res, overlap.X_test[0]),
                               jax.nn.sigmoid(overlap.X_test[0] @ res.coef), rtol=1e-12)
    mu = jax.vmap(glm.predict)(overlap_fits, overlap.X_test)
    assert mu.shape == overlap.y_test.shape and np.all((mu > 0) & (mu < 1))
    X, counts, _ = _parity_data("poisson", "log", seed=1)
    offset = np.full(N_PARITY, 0.5)
    res = _fit_shared(X, counts, "poisson", offset=offset)
    np.testing.assert_allclose(glm.predict(res, X, offset=offset),
                               np.exp(X @ np.asarray(res.coef) + 0.5), rtol=1e-12)


# --- fast paths against their references ------------------------------------------------------

@pytest.fixture(params=["cpu", "gpu"])
def branch(request):
    """Each platform's branch of ``models._linalg``: on CPU the native kernels (where they
    build), forced "gpu" the XLA operations (LAPACK, the blocked product) a GPU runs."""
    from models import _batching

    with _batching.forced_platform(request.param):
        yield request.param


def test_library_cholesky_agrees_with_the_column_skipping_reference(branch):
    from models._linalg import RANK_RTOL, cholesky_skip, cholesky_skip_fast

    rng = np.random.default_rng(5)
    A = rng.normal(size=(5, 40, 4))
    A[1, :, 3] = 2 * A[1, :, 1] - A[1, :, 0]  # column 3 in the span of columns 0 and 1
    A[2, :, 2] = 0.0  # an all-zero column
    grams = np.einsum("bni,bnj->bij", A, A)
    grams[3, 1, 1] = np.nan  # not finite: the reference's answer, not LAPACK's
    rtol = RANK_RTOL * np.finfo(np.float64).eps
    fast = jax.jit(jax.vmap(lambda g: cholesky_skip_fast(g, rtol)))(grams)
    slow = jax.jit(jax.vmap(lambda g: cholesky_skip(g, rtol)))(grams)
    np.testing.assert_array_equal(fast[1], slow[1])
    assert list(np.flatnonzero(fast[1][1])) == [3] and list(np.flatnonzero(fast[1][2])) == [2]
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-12, atol=1e-12)
    single_fast = jax.jit(lambda g: cholesky_skip_fast(g, rtol))
    for i in range(len(grams)):  # unbatched, as in a single fit
        single = single_fast(grams[i])
        np.testing.assert_allclose(single[0], fast[0][i], rtol=VMAP_RTOL, atol=0)
        np.testing.assert_array_equal(single[1], fast[1][i])


def _dqrdc2_aliased(A, rtol):
    """R's ``dqrdc2`` rule by numpy's Householder QR: drop a column whose residual after the
    earlier kept columns is at most ``rtol`` of its norm, then carry on without it."""
    kept, aliased = [], []
    for j in range(A.shape[1]):
        column = A[:, j]
        if kept:
            q, _ = np.linalg.qr(A[:, kept])
            column = column - q @ (q.T @ column)
        bad = not np.linalg.norm(column) > rtol * np.linalg.norm(A[:, j])
        aliased.append(bad)
        if not bad:
            kept.append(j)
    return np.asarray(aliased)


def test_gram_schmidt_rank_agrees_with_householder_r_rule(branch):
    from models._linalg import RANK_RTOL, design_aliased, qr_aliased

    eps = np.finfo(np.float64).eps
    rtol = np.sqrt(RANK_RTOL * eps)
    rng = np.random.default_rng(11)
    n = 30
    x = 100 + rng.normal(size=n)  # nearly a multiple of the intercept
    designs = {
        "full rank": rng.normal(size=(n, 5)),
        "zero column": np.column_stack([rng.normal(size=(n, 4)), np.zeros(n)]),
        "collinear, ill-conditioned": np.column_stack(
            [np.ones(n), x, (x - x.mean()) / x.std(), rng.normal(size=n)]),
        "two dependent": np.column_stack(
            [np.ones(n), x, 2 * x - 1, rng.normal(size=n), 3 * x]),
        "n < p": rng.normal(size=(3, 5)),
    }
    # Jitted, as in a fit: op by op, every operation would be a program of its own.
    qr_jit = jax.jit(qr_aliased, static_argnums=1)
    design_jit = jax.jit(design_aliased, static_argnums=3)
    for name, A in designs.items():
        expected = _dqrdc2_aliased(A, rtol)
        np.testing.assert_array_equal(qr_jit(A, rtol), expected, err_msg=name)
        w = rng.uniform(0.5, 2.0, size=A.shape[0])
        gram = A.T @ (w[:, None] * A)
        gated = design_jit(A, w, gram, eps)
        np.testing.assert_array_equal(gated, _dqrdc2_aliased(A * np.sqrt(w)[:, None], rtol),
                                      err_msg=name)


@pytest.mark.parametrize("n", [7, 50, 64, 65, 200])
def test_blocked_normal_equations_match_the_plain_products(n, branch):
    from models._linalg import Design

    rng = np.random.default_rng(n)
    X, w, wz = rng.normal(size=(n, 4)), rng.uniform(size=n), rng.normal(size=n)
    gram, rhs = jax.jit(lambda X, w, wz: Design.of(X).normal_equations(w, wz))(X, w, wz)
    np.testing.assert_allclose(gram, X.T @ (w[:, None] * X), rtol=1e-12, atol=1e-12 * n)
    np.testing.assert_allclose(rhs, X.T @ wz, rtol=1e-12, atol=1e-12 * n)


def test_when_computes_only_where_needed():
    from models._lanes import when

    def double_where_needed(needed, x):
        return when(needed, lambda x: 2 * x, (x,), -x)

    batched = jax.jit(jax.vmap(double_where_needed))
    np.testing.assert_array_equal(batched(jnp.asarray([True, False, True]),
                                          jnp.asarray([1.0, 2.0, 3.0])), [2.0, -2.0, 6.0])
    np.testing.assert_array_equal(batched(jnp.zeros(2, bool), jnp.ones(2)), [-1.0, -1.0])
    assert double_where_needed(jnp.asarray(True), 5.0) == 10.0
    assert double_where_needed(jnp.asarray(False), 5.0) == -5.0


def test_proportions_beside_binary_responses_in_one_batch():
    # 0/1 responses take the one-logarithm deviance, proportions the general one (only in
    # batches that hold some): a mixed batch equals its single fits, and its 0/1 data sets
    # come out bitwise as in a batch of 0/1 data sets alone.
    rng = np.random.default_rng(17)
    X = np.stack([np.column_stack([np.ones(N_PARITY), rng.uniform(-1, 1, (N_PARITY, 2))])
                  for _ in range(4)])
    trials = np.ones((4, N_PARITY))
    trials[2:] = rng.integers(1, 9, size=(2, N_PARITY))
    mu = 1 / (1 + np.exp(-X @ [0.2, 1.0, -1.0]))
    y = rng.binomial(trials.astype(int), mu) / trials
    fit = jax.jit(jax.vmap(lambda X, y, w: glm.fit(X, y, weights=w)))
    res = fit(X, y, trials)
    assert np.all(res.status == Status.CONVERGED)
    for i in range(4):
        single = glm.fit(X[i], y[i], weights=trials[i])
        for name in ("coef", "bse", "deviance", "null_deviance", "history"):
            np.testing.assert_allclose(getattr(res, name)[i], getattr(single, name),
                                       rtol=VMAP_RTOL, atol=0, err_msg=name)
    # Four lanes, the 0/1 data sets twice: the batch's compiled program, with no proportion.
    binary_only = fit(X[[0, 1, 0, 1]], y[[0, 1, 0, 1]], trials[[0, 1, 0, 1]])
    for name in RESULT_FIELDS:
        np.testing.assert_array_equal(np.asarray(getattr(res, name))[:2],
                                      np.asarray(getattr(binary_only, name))[:2], err_msg=name)


# --- compilation ------------------------------------------------------------------------------

class _CompileLog(logging.Handler):
    def __init__(self):
        super().__init__()
        self.compiled = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Finished XLA compilation"):
            self.compiled.append(message)


def test_second_call_does_not_recompile():
    (X1, y1, _), (X2, y2, _) = (_parity_data("binomial", "probit", seed=s) for s in (1, 2))
    traces = []

    def counted(X, y):
        traces.append(1)  # a Python side effect runs once per trace
        return _fit_shared(X, y, "binomial", "probit")

    jitted = jax.jit(counted)
    log, logger = _CompileLog(), logging.getLogger("jax")
    logger.addHandler(log)
    try:
        with jax.log_compiles():
            jitted(X1, y1)
            _fit_shared(X1, y1, "binomial", "probit")  # eager calls are jitted inside
            first = len(log.compiled)
            log.compiled.clear()
            jitted(X2, y2)
            _fit_shared(X2, y2, "binomial", "probit", l2=0.5, tol=1e-9)  # not static
    finally:
        logger.removeHandler(log)
    assert first >= 1 and len(traces) == 1
    assert log.compiled == []


def test_jit_with_static_settings_and_max_iter_status():
    jitted = jax.jit(glm.fit, static_argnames=("family", "link", "firth", "max_iter"))
    X, y, _ = _parity_data("poisson", "log", seed=8)
    ones, zeros = np.ones(N_PARITY), np.zeros(N_PARITY)
    res = jitted(X, y, "poisson", weights=ones, offset=zeros, max_iter=1)
    assert int(res.status) == Status.MAX_ITER and not bool(res.converged)
    assert int(res.n_iter) == 1 and res.history.shape == (1,)
    eager = _fit_shared(X, y, "poisson")
    assert int(eager.status) == Status.CONVERGED and int(eager.n_iter) > 1
    # The first iteration of the long fit is the whole of the short one.
    np.testing.assert_allclose(res.history[0], eager.history[0], rtol=VMAP_RTOL)
    np.testing.assert_allclose(res.deviance, eager.history[0], rtol=VMAP_RTOL)


def test_import_has_no_x64_side_effect():
    code = ("import jax, models.glm; "
            "assert not jax.config.read('jax_enable_x64'), 'importing models.glm enabled x64'")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
