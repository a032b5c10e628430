"""The resampled real-data regimes: bootstrap by key, sizes from the data, separability.

Separability is checked by a linear program (scipy's HiGHS): a data set is linearly
separable when some ``w`` has ``(2 y_i - 1) x_i . w >= 1`` for every row.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bench import catalog, datasets, realdata

pytest.importorskip("sklearn")
linprog = pytest.importorskip("scipy.optimize").linprog


def separable(X, y) -> bool:
    """A linear program: is there ``w`` with ``(2y - 1) X w >= 1`` (X has its intercept)?"""
    sign = 2 * np.asarray(y) - 1
    A = -(sign[:, None] * np.asarray(X, np.float64))
    result = linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(y)),
                     bounds=(None, None), method="highs")
    return result.status == 0


def make(regime, key, n_datasets, dtype=jnp.float64):
    data = catalog.regime(regime).data
    return datasets.make(regime, key, n_datasets=n_datasets, n_samples=data.n_samples,
                         n_features=data.n_features, dtype=dtype)


@pytest.mark.parametrize("regime, expected", [("cancer", False), ("wine", True),
                                              ("iris", False)])
def test_the_full_data_sets_are_as_the_catalog_says(regime, expected):
    features, labels = realdata.load(regime)
    assert features.shape == (catalog.regime(regime).data.n_samples,
                              catalog.regime(regime).data.n_features)
    np.testing.assert_allclose(features.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(features.std(axis=0), 1, atol=1e-12)
    assert set(np.unique(labels)) == {0.0, 1.0}
    X = np.hstack([np.ones((len(labels), 1)), features])
    assert separable(X, labels) is expected


def test_bootstrap_data_set_i_alone_equals_data_set_i_in_a_batch():
    key, i = jax.random.key(3), 37
    batch = make("wine", key, 50)
    alone = datasets.make_one("wine", jax.random.fold_in(key, i), n_samples=119,
                              n_features=13, dtype=jnp.float64)
    for field, b, a in zip(datasets.Datasets._fields, batch, alone):
        np.testing.assert_array_equal(np.asarray(b[i]), np.asarray(a), err_msg=field)
    # Resamples: rows of the data, drawn with replacement; the test set is the data itself.
    features, labels = realdata.load("wine")
    X = np.asarray(batch.X_train)
    assert len({X[j].tobytes() for j in range(50)}) == 50  # different resamples
    rows = {row.tobytes() for row in features}
    assert all(row[1:].tobytes() in rows for row in X[i])
    assert len({row.tobytes() for row in X[i]}) < 119  # some rows drawn twice
    np.testing.assert_array_equal(np.asarray(batch.X_test[i, :, 1:]), features)
    np.testing.assert_array_equal(np.asarray(batch.y_test[i]), labels)


def test_resamples_of_a_separable_pair_are_separable():
    batch = make("wine", jax.random.key(5), 6)
    for X, y in zip(np.asarray(batch.X_train), np.asarray(batch.y_train)):
        assert separable(X, y)


def test_a_resampled_regime_has_its_data_sizes():
    with pytest.raises(ValueError, match="pass n_samples=119, n_features=13"):
        datasets.make("wine", jax.random.key(0), n_datasets=2, n_samples=200,
                      n_features=10)
    with pytest.raises(ValueError, match="n_test=119"):
        datasets.make("wine", jax.random.key(0), n_datasets=2, n_samples=119,
                      n_features=13, n_test=5)
