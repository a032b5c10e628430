"""The K-class half of the benchmark: its regimes' data, its real data, its mistake bound."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bench import catalog, datasets, realdata
from bench.adapters import adapter
from bench.families.multiclass_fits import collins_ratio
from bench.presets import get_preset
from models import multinomial
from models.glm import Separation

K = 3
SMOKE = get_preset("smoke")


@functools.cache
def _batch(regime, n_datasets=24, n_features=3):
    return datasets.make(regime, jax.random.key(7), n_datasets=n_datasets, n_samples=60,
                         n_features=n_features, dtype=jnp.float64)


def _verdicts(data):
    return np.asarray(jax.jit(jax.vmap(lambda X, y: multinomial.separation(X, y, K).verdict))(
        data.X_train, data.y_train))


def test_separable3_is_completely_separated_with_its_margin():
    data = _batch("separable3")
    assert set(np.unique(np.asarray(data.y_train))) == {0, 1, 2}
    assert np.all(_verdicts(data) == Separation.COMPLETE)
    margin = np.asarray(data.margin)
    assert np.all(margin >= 0.1), margin.min()  # the preset margin, kept by the generator


def test_overlap3_and_rings3_are_not_separated():
    for regime in ("overlap3", "rings3"):
        verdicts = _verdicts(_batch(regime, n_features=2))
        assert np.mean(verdicts == Separation.OVERLAP) >= 0.9, (regime, verdicts)


def test_the_real_three_class_data_keep_every_class():
    counts = {"iris3": [50, 50, 50], "wine3": [59, 71, 48]}
    for regime, expected in counts.items():
        X, y = realdata.load(regime)
        assert X.shape == (catalog.regime(regime).data.n_samples,
                           catalog.regime(regime).data.n_features)
        assert np.bincount(y.astype(int)).tolist() == expected
        verdict = int(multinomial.separation(np.column_stack([np.ones(len(X)), X]), y,
                                             K).verdict)
        assert verdict == {"iris3": Separation.QUASI, "wine3": Separation.COMPLETE}[regime]


def test_collins_ratio_is_updates_over_the_kesler_bound():
    X = jnp.asarray([[1.0, 2.0], [1.0, -1.0]])
    # R^2 = 2 * max ||x||^2 = 10; gamma = 0.5: the bound is 40 updates.
    assert float(collins_ratio(jnp.int32(4), X, jnp.asarray(0.5))) == pytest.approx(0.1)
    assert np.isnan(float(collins_ratio(jnp.int32(4), X, jnp.asarray(jnp.nan))))


def test_the_multiclass_perceptron_row_is_within_its_bound():
    data = _batch("separable3")
    fitted = adapter("perceptron_k3", SMOKE._replace(perceptron_epochs=200))
    result = jax.jit(jax.vmap(fitted.fit))(jnp.zeros((24, 2), jnp.uint32), data.X_train,
                                           data.y_train)
    fields = jax.vmap(fitted.evaluate)(result, data)
    assert np.all(np.asarray(fields["converged"]))
    ratio = np.asarray(fields["novikoff_ratio"])
    assert np.all((ratio > 0) & (ratio <= 1)), ratio
    assert np.all(np.asarray(fields["train_accuracy"]) == 1)
