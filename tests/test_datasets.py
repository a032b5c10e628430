"""bench.datasets: the regimes are what they claim, deterministic, and reject bad settings."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linprog

from bench import datasets, generators

#: LP-feasible fraction of overlap data sets allowed (issue: infeasible on >= 95%).
OVERLAP_MAX_SEPARABLE_FRAC = 0.05
#: The reported margin must match an independent numpy recomputation this closely.
MARGIN_ATOL = 1e-6
#: |coef_hat - coef_true| / se allowed for the large-n MLE (a 5-sigma band; 4 coefs x 5 sets).
MLE_Z_MAX = 5.0


def linearly_separable(X, y):
    """True iff an LP finds w with (2y - 1) * X @ w >= 1 for every row (strict separation).

    X already carries the intercept column, so w includes the bias. Feasibility of this LP
    is equivalent to strict linear separability (scale any separating w up).
    """
    signs = 2.0 * np.asarray(y, dtype=np.float64) - 1.0
    A_ub = -(signs[:, None] * np.asarray(X, dtype=np.float64))
    b_ub = -np.ones(len(signs))
    res = linprog(np.zeros(X.shape[1]), A_ub=A_ub, b_ub=b_ub, bounds=(None, None),
                  method="highs")
    assert res.status in (0, 2), res.message  # 0: feasible optimum, 2: infeasible
    return res.status == 0


def make64(regime, seed=0, **kw):
    return datasets.make(regime, jax.random.key(seed), dtype=jnp.float64, **kw)


#: Each distinct batch shape and setting compiles a generator program of seconds, so tests
#: that only need some data of a regime use the shapes that another test compiles anyway.
SHARED = dict(n_datasets=1000, n_samples=25, n_features=3)  # test_same_key_same_arrays_bitwise


@functools.cache
def overlap_mle_data():
    """Four large overlap data sets with a held-out set of another size."""
    return make64("overlap", seed=3, n_datasets=4, n_samples=20_000, n_features=3, n_test=2)


def test_n_test_sets_the_held_out_size():
    d = overlap_mle_data()
    assert d.X_train.shape == (4, 20_000, 4) and d.X_test.shape == (4, 2, 4)
    assert d.y_train.shape == (4, 20_000) and d.y_test.shape == (4, 2)


def test_separable_is_separable_with_the_requested_margin():
    margin = 0.25
    d = make64("separable", n_datasets=60, n_samples=60, n_features=3, margin=margin)
    X, y, coef = (np.asarray(a) for a in (d.X_train, d.y_train, d.coef_true))
    for i in range(len(X)):
        assert linearly_separable(X[i], y[i]), f"data set {i} is not separable"
    # Geometric margin of the true hyperplane, recomputed in numpy: the feature part of
    # coef_true has unit norm, so the signed score is the distance.
    np.testing.assert_allclose(np.linalg.norm(coef[:, 1:], axis=1), 1.0, rtol=1e-12)
    distance = (2 * y - 1) * np.einsum("bnp,bp->bn", X, coef)
    realised = distance.min(axis=1)
    assert np.all(realised >= margin - 1e-12)
    np.testing.assert_allclose(np.asarray(d.margin), realised, atol=MARGIN_ATOL, rtol=0)
    # Test points come from the same distribution, so they keep the margin too.
    test_distance = (2 * np.asarray(d.y_test) - 1) * np.einsum(
        "bnp,bp->bn", np.asarray(d.X_test), coef)
    assert np.all(test_distance >= margin - 1e-12)


def test_overlap_is_not_separable():
    n_features = 3  # p = 4, n = 50 >= 10 p
    d = make64("overlap", n_datasets=60, n_samples=50, n_features=n_features)
    X, y = np.asarray(d.X_train), np.asarray(d.y_train)
    separable = [linearly_separable(X[i], y[i]) for i in range(len(X))]
    assert np.mean(separable) <= OVERLAP_MAX_SEPARABLE_FRAC, np.mean(separable)


def newton_logistic(X, y, n_steps=25):
    """Plain numpy Newton-Raphson for the logistic MLE; returns (coef, standard errors)."""
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        mu = 1.0 / (1.0 + np.exp(-X @ w))
        hessian = X.T @ (X * (mu * (1 - mu))[:, None])
        w = w + np.linalg.solve(hessian, X.T @ (y - mu))
    mu = 1.0 / (1.0 + np.exp(-X @ w))
    cov = np.linalg.inv(X.T @ (X * (mu * (1 - mu))[:, None]))
    return w, np.sqrt(np.diag(cov))


def test_overlap_mle_recovers_coef_true():
    d = overlap_mle_data()
    for i in range(4):
        w, se = newton_logistic(np.asarray(d.X_train)[i], np.asarray(d.y_train)[i])
        z = np.abs(w - np.asarray(d.coef_true)[i]) / se
        assert np.all(z < MLE_Z_MAX), (i, w, np.asarray(d.coef_true)[i], z)


@pytest.mark.parametrize("regime", ["xor", "circles"])
def test_nonlinear_regimes_are_not_separable(regime):
    d = make64(regime, n_datasets=20, n_samples=100, n_features=2)
    X, y = np.asarray(d.X_train), np.asarray(d.y_train)
    for i in range(len(X)):
        assert not linearly_separable(X[i], y[i]), f"{regime} data set {i} is separable"


def test_quasi_is_a_rare_exposure_all_of_one_outcome_and_not_strictly_separable():
    d = make64("quasi", n_datasets=20, n_samples=200, n_features=4, n_test=50)
    for X, y, coef in zip(*(np.asarray(a) for a in (d.X_train, d.y_train, d.coef_true))):
        exposed = X[:, -1] == 1
        assert set(np.unique(X[:, -1])) == {0.0, 1.0} and exposed[0]
        assert np.all(y[exposed] == 1)  # the exposure's coefficient runs to +inf ...
        assert np.isinf(coef[-1]) and np.all(np.isfinite(coef[:-1]))
        assert 0.02 < exposed.mean() < 0.25, exposed.mean()  # QUASI_EXPOSURE = 0.1
        assert not linearly_separable(X, y)  # ... yet no line splits the classes
    # Quasi-complete: the exposure column alone is a direction with every row on its side
    # (the exposed rows strictly).
    assert all(np.all(np.where(y > 0, x[:, -1], -x[:, -1]) >= 0)
               for x, y in zip(np.asarray(d.X_train), np.asarray(d.y_train)))


def test_other_families_have_their_support():
    p = make64("poisson", **SHARED)
    y = np.asarray(p.y_train)
    assert np.all(y >= 0) and np.all(y == np.round(y))
    g = make64("gamma", **SHARED)
    assert np.all(np.asarray(g.y_train) > 0)
    # The gamma mean 1 / eta needs eta > 0 everywhere.
    eta = np.einsum("bnp,bp->bn", np.asarray(g.X_train), np.asarray(g.coef_true))
    assert np.all(eta > 0)
    n = make64("gaussian", **SHARED)  # 25,000 residuals
    resid = np.asarray(n.y_train) - np.einsum("bnp,bp->bn", np.asarray(n.X_train),
                                              np.asarray(n.coef_true))
    assert abs(resid.std() - 1.0) < 0.05


@pytest.mark.parametrize("regime", datasets.SYNTHETIC_REGIMES)
def test_same_key_same_arrays_bitwise(regime):
    kw = SHARED  # shapes shared with the float64 half of the test below
    a, b = make64(regime, seed=7, **kw), make64(regime, seed=7, **kw)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    c = make64(regime, seed=8, **kw)
    assert not np.array_equal(np.asarray(a.X_train), np.asarray(c.X_train))


#: Regimes whose bits alone and in a batch may differ under XLA's legacy CPU emitter (the
#: realised margin of a separable set, by one ulp): their test runs on the default one.
EMITTER_DEPENDENT = ("separable",)


@pytest.mark.parametrize("regime", [r for r in datasets.SYNTHETIC_REGIMES
                                    if r not in EMITTER_DEPENDENT])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_shapes_dtypes_and_dataset_i_alone_equals_dataset_i_in_a_batch_of_1000(regime, dtype):
    _dataset_i_alone_equals_dataset_i_in_a_batch_of_1000(regime, dtype)


@pytest.mark.default_compiler
@pytest.mark.parametrize("regime", EMITTER_DEPENDENT)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_dataset_i_alone_equals_dataset_i_in_a_batch_on_the_default_emitter(regime, dtype):
    _dataset_i_alone_equals_dataset_i_in_a_batch_of_1000(regime, dtype)


def _dataset_i_alone_equals_dataset_i_in_a_batch_of_1000(regime, dtype):
    key, i = jax.random.key(11), 637
    kw = dict(n_samples=25, n_features=3, dtype=dtype)
    batch = datasets.make(regime, key, n_datasets=1000, **kw)
    assert batch.X_train.shape == batch.X_test.shape == (1000, 25, 4)
    assert batch.y_train.shape == batch.y_test.shape == (1000, 25)
    assert batch.coef_true.shape == (1000, 4) and batch.margin.shape == (1000,)
    assert all(leaf.dtype == dtype for leaf in batch)
    np.testing.assert_array_equal(np.asarray(batch.X_train)[..., 0], 1.0)
    np.testing.assert_array_equal(np.asarray(batch.X_test)[..., 0], 1.0)
    if regime in datasets.CLASSIFICATION_REGIMES:
        assert set(np.unique(np.asarray(batch.y_train))) <= {0.0, 1.0}
    # make_one runs the batch program on a batch of one; chunk [i, i + 1) of make() too.
    alone = datasets.make_one(regime, jax.random.fold_in(key, i), **kw)
    for field, b, a in zip(datasets.Datasets._fields, batch, alone):
        np.testing.assert_array_equal(np.asarray(b)[i], np.asarray(a), err_msg=field)


@pytest.mark.default_compiler
@pytest.mark.parametrize("regime", ["separable", "overlap"])
def test_a_chunk_equals_the_same_rows_of_the_whole_batch(regime):
    key, kw = jax.random.key(11), dict(n_samples=25, n_features=3, dtype=jnp.float64)
    batch = datasets.make(regime, key, n_datasets=1000, **kw)
    chunk = datasets.make(regime, key, n_datasets=3, start=637, **kw)
    for field, b, c in zip(datasets.Datasets._fields, batch, chunk):
        np.testing.assert_array_equal(np.asarray(b)[637:640], np.asarray(c), err_msg=field)


def test_generation_inside_jit_with_a_traced_start():
    # The sizes of the chunks of the test above, whose generator program serves `outside`.
    key = jax.random.key(5)

    @jax.jit
    def chunk(start):
        keys = datasets.dataset_keys(key, start, 3)
        return jax.vmap(lambda k: datasets.make_one("overlap", k, n_samples=25,
                                                    n_features=3, dtype=jnp.float64))(keys)

    inside = chunk(8)
    outside = make64("overlap", seed=5, n_datasets=3, start=8, n_samples=25, n_features=3)
    np.testing.assert_allclose(np.asarray(inside.X_train), np.asarray(outside.X_train))
    np.testing.assert_array_equal(np.asarray(inside.y_train), np.asarray(outside.y_train))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(regime="spiral"), "unknown regime 'spiral'; choose one of separable"),
        (dict(n_datasets=0), "n_datasets must be >= 1"),
        (dict(n_datasets=-3), "n_datasets must be >= 1"),
        (dict(n_samples=1), "n_samples must be >= 2"),
        (dict(n_samples=0), "n_samples must be >= 2"),
        (dict(n_features=0), "n_features must be >= 1"),
        (dict(n_samples=2.5), "n_samples must be an integer"),
        (dict(margin=-0.1), "margin must be a finite number >= 0"),
        (dict(signal=0.0), "signal must be a finite number > 0"),
        (dict(n_test=0), "n_test must be an integer >= 1"),
        (dict(dtype=jnp.int32), "dtype must be float32 or float64"),
        (dict(regime="xor", n_features=1), "needs n_features >= 2"),
    ],
)
def test_bad_arguments_raise_before_tracing(kwargs, message, monkeypatch):
    args = dict(regime="separable", n_datasets=2, n_samples=10, n_features=2)
    args.update(kwargs)
    regime = args.pop("regime")

    def no_tracing(*a, **k):  # pragma: no cover - reached only if validation is skipped
        raise AssertionError("traced before validating")

    monkeypatch.setattr(datasets, "_make_batch", no_tracing)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        datasets.make(regime, jax.random.key(0), **args)


def test_float64_without_x64_is_a_clear_error():
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="jax_enable_x64"):
            datasets.make("overlap", jax.random.key(0), n_datasets=1, n_samples=4,
                          n_features=1, dtype=jnp.float64)


def _generator_text(regime, n_features):
    keys = datasets.dataset_keys(jax.random.key(0), 0, 2)
    program = jax.jit(lambda k: datasets.make_from_keys(
        regime, k, n_samples=4, n_features=n_features, dtype=jnp.float32))
    return program.lower(keys).as_text()


@pytest.mark.parametrize("regime", datasets.SYNTHETIC_REGIMES)
def test_the_generator_program_does_not_grow_with_n_features(regime):
    # Counted in the lowered program, not timed: the straight-line sum had one multiply and
    # one add per feature, so at n_features = 2000 it took 38-58 s and 2.4 GB to compile.
    small = _generator_text(regime, generators.UNROLL_FEATURES + 1)
    large = _generator_text(regime, 2000)
    assert large.count("\n") == small.count("\n")
    assert large.count("stablehlo.multiply") == small.count("stablehlo.multiply")


@pytest.mark.parametrize("regime", ["separable", "overlap", "gamma"])
def test_above_the_unrolled_width_dataset_i_alone_equals_dataset_i_in_a_batch(regime):
    key, i = jax.random.key(11), 137
    kw = dict(n_samples=25, n_features=generators.UNROLL_FEATURES + 8, dtype=jnp.float64)
    batch = datasets.make(regime, key, n_datasets=200, **kw)
    alone = datasets.make_one(regime, jax.random.fold_in(key, i), **kw)
    for field, b, a in zip(datasets.Datasets._fields, batch, alone):
        np.testing.assert_array_equal(np.asarray(b)[i], np.asarray(a), err_msg=field)
    if regime == "separable":
        distance = (2 * np.asarray(batch.y_train) - 1) * np.einsum(
            "bnp,bp->bn", np.asarray(batch.X_train), np.asarray(batch.coef_true))
        assert np.all(distance >= 0.1 - 1e-12)


def test_two_thousand_features_compile_and_generate():
    data = datasets.make("separable", jax.random.key(0), n_datasets=2, n_samples=4,
                         n_features=2000, dtype=jnp.float32)
    assert data.X_train.shape == (2, 4, 2001)
    assert bool(jnp.all(jnp.isfinite(data.X_train)))
