"""models.multinomial: parity with statsmodels' MNLogit, iterations, vmap, K = 2, statuses.

Compilation dominates the run time, so the tests share compiled programs. Every data set of
three classes and five columns (``n`` padded to 256 rows, as ``fit`` pads them) goes through
one single-fit program and, as the batch :data:`MIXED`, through ``_vfit``; the other shapes
(K = 3 with 2 and 4 columns, K = 4 with 5, full wine, K = 2) have a program each. Labels are
floats throughout, so that a label of 1.5 needs no program of its own. The synthetic data
keep ``(K - 1) p <= 16``: a larger system (full wine's 28) takes about three times as long
to compile (the library inverse past ``INVERSE_UNROLL_MAX``).

Tolerances are named below; the numbers measured when they were set are in the comments.
"""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from models import glm, multinomial
from models._rows import pad
from models._separation import Separation
from models._status import Status

PARITY_RTOL = 1e-6  # coef, bse, llf, predict vs MNLogit, both at their defaults (max 3e-7)
LLNULL_RTOL = 1e-8  # null deviance vs -2 llnull, which statsmodels fits by Nelder-Mead then
#                     BFGS rather than in closed form: ours is smaller by up to 2e-10 relative
CLOSED_FORM_RTOL = 1e-12  # null deviance vs -2 sum n_k log(n_k / n)
REPLICATED_RTOL = 1e-12  # integer weights vs the rows replicated, our fits (max 2e-16)
BINARY_TOL = 1e-12  # tol of both fits in the K = 2 comparison: each iterates to the MLE
BINARY_ATOL = 1e-10  # coef, K = 2 vs glm.fit at BINARY_TOL (max 2e-14)
BINARY_RTOL = 1e-10  # bse, deviance, null deviance, K = 2 vs glm.fit at BINARY_TOL
SUM_ATOL = 1e-12  # predicted probabilities of a row sum to 1
HISTORY_RTOL = 1e-12  # the deviance history may rise by rounding only
FLOAT32_RTOL = 1e-4  # float32 vs float64 coef, relative to the data set's largest |coef|
#: statsmodels' Newton stops when no coefficient moves by more than 1e-8, one iteration after
#: ours (R's relative deviance rule) would: it takes between 1 and this many more.
MAX_EXTRA_STATSMODELS_ITERATIONS = 2
#: glm.fit starts at R's mustart, the multinomial fit at B = 0 (as MNLogit): Newton's paths
#: from the two starts reach BINARY_TOL within an iteration of each other.
MAX_BINARY_ITERATION_GAP = 1

N_SAMPLES = 200  # synthetic data sets; fit pads them to 256 rows, as iris (150), wine (178)
K3_FEATURES = 5  # columns (intercept included) of the data sets in MIXED

_vfit = jax.jit(jax.vmap(lambda X, y, w: multinomial.fit(X, y, 3, weights=w)))


# --- data -----------------------------------------------------------------------------------


def _synthetic(seed, n_classes, p, n=N_SAMPLES):
    """Overlapping classes: labels drawn from a multinomial logit (the Gumbel-max trick)."""
    rng = np.random.default_rng([seed, n_classes, p])
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    coef = rng.normal(scale=0.5, size=(p, n_classes - 1))
    eta = np.column_stack([np.zeros(n), X @ coef])
    y = np.argmax(eta + rng.gumbel(size=(n, n_classes)), axis=1)
    return X, y.astype(float)


def _standardised(features):
    """Columns scaled to mean 0 and variance 1, the intercept column first."""
    features = np.asarray(features, float)
    z = (features - features.mean(axis=0)) / features.std(axis=0)
    return np.column_stack([np.ones(len(z)), z])


@functools.cache
def _sklearn(name):
    data = getattr(pytest.importorskip("sklearn.datasets"), f"load_{name}")()
    return data.data, data.target.astype(float)


def _iris(columns=(0, 1, 2, 3), species=(0, 1, 2)):
    features, target = _sklearn("iris")
    keep = np.isin(target, species)
    return _standardised(features[keep][:, list(columns)]), target[keep] - min(species)


def _wine(columns=tuple(range(13))):
    features, target = _sklearn("wine")
    return _standardised(features[:, list(columns)]), target


#: Wine's first four features (alcohol, malic acid, ash, alcalinity of ash): the MLE exists.
WINE_4 = (0, 1, 2, 3)


def _rank_base():
    return _synthetic(10, 3, K3_FEATURES - 1)


def _rank_deficient():
    """The four columns of :func:`_rank_base` and a copy of its column 2 (aliased: dropped)."""
    X, y = _rank_base()
    return np.column_stack([X, X[:, 2]]), y


def _empty_class():
    """Three classes, none of them labelled 2."""
    X, y = _synthetic(11, 3, K3_FEATURES)
    return X, np.where(y == 2, 1.0, y)


#: The batch of K = 3, p = 5 data sets that _vfit fits: five overlapping synthetic ones, full
#: iris (quasi-separated), wine's first four features, rank deficient, a class unobserved.
MIXED = {
    **{f"synthetic-{seed}": functools.partial(_synthetic, seed, 3, K3_FEATURES)
       for seed in range(5)},
    "iris": _iris,
    "wine-4": functools.partial(_wine, WINE_4),
    "rank-deficient": _rank_deficient,
    "empty-class": _empty_class,
}
NAMES = list(MIXED)
MIXED_STATUS = {"iris": Status.SEPARATED, "rank-deficient": Status.RANK_DEFICIENT,
                "empty-class": Status.SEPARATED}
MIXED_VERDICT = {"iris": Separation.QUASI, "empty-class": Separation.QUASI}


@functools.cache
def _frequency_data():
    """Synthetic rows with frequency weights 0, 1 or 2, and the rows replicated."""
    X, y = _synthetic(12, 3, K3_FEATURES)
    weights = np.random.default_rng(12).choice([0.0, 1.0, 2.0], p=[0.25, 0.5, 0.25],
                                               size=N_SAMPLES)
    rows = np.repeat(np.arange(N_SAMPLES), weights.astype(int))
    assert len(rows) <= 256  # the program of MIXED's data sets
    return X, y, weights, X[rows], y[rows]


#: Data on which the MLE exists, against MNLogit: name -> (data, n_classes). Real data: iris
#: with one sepal feature (with both, setosa still splits off: QUASI, and MNLogit ends its 35
#: iterations unconverged, |coef| near 120), wine's first four features, and iris's
#: versicolor and virginica (K = 2, all four features).
PARITY = {
    **{f"K3-p5-{name}": (MIXED[name], 3) for name in NAMES[:5]},
    **{f"K3-p4-{seed}": (functools.partial(_synthetic, seed, 3, 4), 3) for seed in range(2)},
    **{f"K4-p5-{seed}": (functools.partial(_synthetic, seed, 4, 5), 4) for seed in range(2)},
    "iris-sepal-length": (functools.partial(_iris, columns=(0,)), 3),
    "iris-sepal-width": (functools.partial(_iris, columns=(1,)), 3),
    "wine-4": (MIXED["wine-4"], 3),
    "iris-versicolor-virginica": (functools.partial(_iris, species=(1, 2)), 2),
}


def _mnlogit(X, y):
    sm = pytest.importorskip("statsmodels.api")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, overflow on separated data
        return sm.MNLogit(y, X).fit(disp=0)


@functools.cache
def _parity(name):
    """``(X, y, n_classes, our fit, MNLogit's)`` of a PARITY data set."""
    data, n_classes = PARITY[name]
    X, y = data()
    return X, y, n_classes, multinomial.fit(X, y, n_classes), _mnlogit(X, y)


@pytest.fixture(scope="module")
def mixed():
    """MIXED padded as fit pads a data set: ``(X [B, 256, 5], y [B, 256], weights)``."""
    sets = [pad(*MIXED[name](), None, None, np.float64)[:3] for name in NAMES]
    return tuple(np.stack(parts) for parts in zip(*sets))


@pytest.fixture(scope="module")
def mixed_fits(mixed):
    return _vfit(*mixed)


@pytest.fixture(scope="module")
def singles():
    """A single fit of each data set of MIXED, by name."""
    return {name: multinomial.fit(*MIXED[name](), 3) for name in NAMES}


# --- statsmodels parity ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PARITY))
def test_matches_statsmodels_where_the_mle_exists(name):
    X, y, n_classes, res, ref = _parity(name)
    assert ref.mle_retvals["converged"]
    assert int(res.status) == Status.CONVERGED and bool(res.converged)
    assert int(res.separation) == Separation.OVERLAP and not bool(res.separated)
    assert np.abs(ref.params).max() < 10  # moderate coefficients: a finite MLE
    np.testing.assert_allclose(res.coef, ref.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.deviance, -2 * ref.llf, rtol=PARITY_RTOL)
    # statsmodels' llnull is an optimiser's (not the closed form's): it is not below the
    # maximum, so our null deviance is at most -2 llnull.
    np.testing.assert_allclose(res.null_deviance, -2 * ref.llnull, rtol=LLNULL_RTOL)
    assert float(res.null_deviance) <= -2 * ref.llnull * (1 + CLOSED_FORM_RTOL)
    counts = np.bincount(y.astype(int), minlength=n_classes)
    np.testing.assert_allclose(res.null_deviance, -2 * np.sum(counts * np.log(counts / len(y))),
                               rtol=CLOSED_FORM_RTOL)
    # Step-halving keeps the deviance from rising; history is NaN after the stop.
    n_iter = int(res.n_iter)
    history = np.asarray(res.history)
    assert np.all(np.diff(history[:n_iter]) <= HISTORY_RTOL * history[0])
    assert history[n_iter - 1] == res.deviance
    assert np.all(np.isnan(history[n_iter:]))


def test_iterations_against_statsmodels_newton():
    pairs = {name: (int(_parity(name)[3].n_iter), _parity(name)[4].mle_retvals["iterations"])
             for name in PARITY}
    extra = {name: theirs - ours for name, (ours, theirs) in pairs.items()}
    assert all(1 <= e <= MAX_EXTRA_STATSMODELS_ITERATIONS for e in extra.values()), (
        f"(ours, statsmodels') iterations: {pairs}")


def test_frequency_weights_equal_replicated_rows():
    X, y, weights, X_rep, y_rep = _frequency_data()
    res = multinomial.fit(X, y, 3, weights=weights)
    rep = multinomial.fit(X_rep, y_rep, 3)
    ref = _mnlogit(X_rep, y_rep)
    assert int(res.status) == Status.CONVERGED and ref.mle_retvals["converged"]
    np.testing.assert_allclose(res.coef, ref.params, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=PARITY_RTOL)
    np.testing.assert_allclose(res.null_deviance, -2 * ref.llnull, rtol=LLNULL_RTOL)
    for field in ("coef", "bse", "loglik", "deviance", "null_deviance"):
        np.testing.assert_allclose(getattr(res, field), getattr(rep, field),
                                   rtol=REPLICATED_RTOL, err_msg=field)
    assert int(res.n_iter) == int(rep.n_iter)


# --- real data without an MLE -----------------------------------------------------------------


@functools.cache
def _full_wine_fits():
    X, y = _wine()
    return multinomial.fit(X, y, 3), multinomial.fit(X, y, 3, separation=False)


@pytest.mark.parametrize("name,verdict", [("iris", Separation.QUASI),
                                          ("wine", Separation.COMPLETE)])
def test_full_iris_and_wine_are_separated(name, verdict, singles):
    """No multinomial MLE exists on full iris (4 features: setosa splits off, quasi-complete
    separation) nor on full wine (13 features: the three cultivars are completely
    separated), features standardised. There is nothing to match: MNLogit's Newton itself
    reports ``converged=False`` after its 35 iterations, its coefficients still growing
    (|coef| about 44 and 35). Our fit says SEPARATED, with the linear program's verdict."""
    if name == "iris":
        X, y = _iris()
        res = singles["iris"]
    else:
        X, y = _wine()
        res = _full_wine_fits()[0]
    assert int(res.status) == Status.SEPARATED and bool(res.separated)
    assert int(res.separation) == verdict and not bool(res.converged)
    assert np.all(np.isfinite(res.coef))
    ref = _mnlogit(X, y)
    assert ref.mle_retvals["converged"] is False and ref.mle_retvals["iterations"] == 35


def test_separation_false_does_not_check():
    res = _full_wine_fits()[1]
    assert int(res.separation) == Separation.NOT_CHECKED and not bool(res.separated)
    assert int(res.status) in (Status.MAX_ITER, Status.CONVERGED)


# --- vmap -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", multinomial.MultinomialResult._fields)
def test_vmap_equals_loop_of_single_fits_bitwise(field, mixed_fits, singles):
    looped = np.stack([np.asarray(getattr(singles[name], field)) for name in NAMES])
    np.testing.assert_array_equal(np.asarray(getattr(mixed_fits, field)), looped)


def test_mixed_batch_statuses(mixed_fits):
    status = {name: int(s) for name, s in zip(NAMES, np.asarray(mixed_fits.status))}
    verdict = {name: int(v) for name, v in zip(NAMES, np.asarray(mixed_fits.separation))}
    assert status == {name: MIXED_STATUS.get(name, Status.CONVERGED) for name in NAMES}
    assert verdict == {name: MIXED_VERDICT.get(name, Separation.OVERLAP) for name in NAMES}


def test_float32_gives_the_same_statuses(mixed, mixed_fits):
    res = _vfit(*(a.astype(np.float32) for a in mixed))
    assert res.coef.dtype == jnp.float32 and res.deviance.dtype == jnp.float32
    np.testing.assert_array_equal(res.status, mixed_fits.status)
    np.testing.assert_array_equal(res.separation, mixed_fits.separation)
    finite = np.isin(np.asarray(mixed_fits.status), [Status.CONVERGED, Status.RANK_DEFICIENT])
    coef32, coef64 = np.asarray(res.coef)[finite], np.asarray(mixed_fits.coef)[finite]
    scale = np.abs(coef64).max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(coef32 / scale, coef64 / scale, rtol=0, atol=FLOAT32_RTOL)


# --- K = 2 is the binary GLM ------------------------------------------------------------------


def test_two_classes_equal_the_binary_glm():
    X, y = _iris(species=(1, 2))
    res = multinomial.fit(X, y, 2, tol=BINARY_TOL)
    ref = glm.fit(X, y, tol=BINARY_TOL)
    assert int(res.status) == int(ref.status) == Status.CONVERGED
    np.testing.assert_allclose(res.coef[:, 0], ref.coef, rtol=0, atol=BINARY_ATOL)
    np.testing.assert_allclose(res.bse[:, 0], ref.bse, rtol=BINARY_RTOL)
    for field in ("deviance", "null_deviance"):
        np.testing.assert_allclose(getattr(res, field), getattr(ref, field), rtol=BINARY_RTOL,
                                   err_msg=field)
    assert abs(int(res.n_iter) - int(ref.n_iter)) <= MAX_BINARY_ITERATION_GAP, (
        int(res.n_iter), int(ref.n_iter))
    # At the default tol each stops within PARITY_RTOL of the MLE, a step apart at most.
    res, ref = multinomial.fit(X, y, 2), glm.fit(X, y)
    np.testing.assert_allclose(res.coef[:, 0], ref.coef, rtol=PARITY_RTOL)
    assert abs(int(res.n_iter) - int(ref.n_iter)) <= MAX_BINARY_ITERATION_GAP, (
        int(res.n_iter), int(ref.n_iter))


# --- statuses and bad input -------------------------------------------------------------------


def test_rank_deficient_drops_the_copy_in_every_class(singles):
    res = singles["rank-deficient"]
    base = multinomial.fit(*_rank_base(), 3)
    assert int(res.status) == Status.RANK_DEFICIENT and bool(res.converged)
    assert int(base.status) == Status.CONVERGED
    np.testing.assert_array_equal(res.coef[-1], 0.0)
    np.testing.assert_array_equal(res.bse[-1], 0.0)
    for field in ("coef", "bse"):
        np.testing.assert_array_equal(getattr(res, field)[:-1], getattr(base, field),
                                      err_msg=field)
    np.testing.assert_array_equal(res.deviance, base.deviance)


#: Ways to make one data set of MIXED invalid: (array, row, value), array 0 X, 1 y, 2 weights.
INVALID = {
    "nan in X": (0, 7, np.nan),
    "inf in X": (0, 7, np.inf),
    "label == K": (1, 11, 3.0),
    "label 1.5": (1, 11, 1.5),
    "label -1": (1, 11, -1.0),
    "nan label": (1, 11, np.nan),
    "negative weight": (2, 17, -1.0),
    "nan weight": (2, 17, np.nan),
    "no positive weight": (2, slice(None), 0.0),
}


@pytest.mark.parametrize("what", list(INVALID))
def test_invalid_data_set_does_not_affect_the_others(what, mixed, mixed_fits):
    arrays = [a.copy() for a in mixed]
    which, row, value = INVALID[what]
    bad = NAMES.index("synthetic-1")
    if which == 0:
        arrays[0][bad, row, 2] = value
    else:
        arrays[which][bad, row] = value
    res = _vfit(*arrays)
    assert int(res.status[bad]) == Status.INVALID_INPUT
    assert int(res.separation[bad]) == Separation.INVALID_INPUT
    assert not bool(res.converged[bad]) and int(res.n_iter[bad]) == 0
    for field in ("coef", "bse", "loglik", "deviance", "null_deviance"):
        assert not np.any(np.asarray(getattr(res, field))[bad]), field
    assert np.all(np.isnan(np.asarray(res.history)[bad]))
    others = np.arange(len(NAMES)) != bad
    for field in multinomial.MultinomialResult._fields:
        np.testing.assert_array_equal(np.asarray(getattr(res, field))[others],
                                      np.asarray(getattr(mixed_fits, field))[others],
                                      err_msg=field)


def test_unobserved_class_is_separated(singles):
    res = singles["empty-class"]
    assert int(res.status) == Status.SEPARATED and bool(res.separated)
    assert np.all(np.isfinite(res.coef))


@pytest.mark.parametrize("kwargs,message", [
    (dict(n_classes=1), "n_classes must be >= 2"),
    (dict(n_classes=2.0), "n_classes must be a static Python int"),
    (dict(max_iter=0), "max_iter must be >= 1"),
    (dict(tol=0.0), "tol must be a number > 0"),
    (dict(separation="yes"), "separation must be True or False"),
])
def test_bad_settings_raise(kwargs, message):
    X, y = _synthetic(0, 3, K3_FEATURES)
    kwargs = {"n_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        multinomial.fit(X, y, **kwargs)


# --- predict ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PARITY))
def test_predict_matches_statsmodels(name):
    X, _, n_classes, res, ref = _parity(name)
    probs = np.asarray(multinomial.predict(res, X))
    assert probs.shape == (len(X), n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=SUM_ATOL)
    np.testing.assert_allclose(probs, ref.predict(X), rtol=PARITY_RTOL)


def test_predict_refuses_a_batch_or_wrong_columns(mixed_fits, singles):
    X = MIXED["synthetic-0"]()[0]
    with pytest.raises(ValueError, match="one data set"):
        multinomial.predict(mixed_fits, X)
    with pytest.raises(ValueError, match="columns as in the fit"):
        multinomial.predict(singles["synthetic-0"], X[:, :-1])
    with pytest.raises(ValueError, match="X must be"):
        multinomial.predict(singles["synthetic-0"], X[0])
