"""Benchmark of the data generator: data sets per second for each regime."""

import jax
import jax.numpy as jnp
import pytest

from bench import catalog, datasets
from bench.record import CaseRecord
from bench.suite.harness import store, timed_seconds
from bench.timing import compile_ahead, device_info, timed


@pytest.mark.matrix("datasets")
def test_generate(benchmark, bench_preset, case):
    preset, regime = bench_preset, case
    benchmark.group = "datasets"
    n_samples, n_features, n_test = catalog.regime_sizes(regime, preset)

    def generate(key):
        return datasets.make(
            regime, key, n_datasets=preset.n_datasets, n_samples=n_samples,
            n_features=n_features, n_test=n_test, dtype=jnp.float32,
        )

    key = jax.random.key(preset.seed)
    compiled, compile_s = compile_ahead(generate, key)
    out = timed(benchmark, compiled, key, rounds=preset.rounds,
                warmup_rounds=preset.warmup_rounds)
    assert out.X_train.shape == (preset.n_datasets, n_samples, n_features + 1)
    assert bool(jnp.all(jnp.isfinite(out.X_train)))
    seconds = timed_seconds(benchmark)
    store(benchmark, CaseRecord(
        kind="datasets", name=f"datasets-{regime}", model="datasets", regime=regime,
        n_datasets=preset.n_datasets, n_samples=n_samples,
        n_features=n_features, dtype="float32", compile_s=compile_s,
        preset=preset.name, **device_info(), seconds=seconds,
        datasets_per_s=None if seconds is None else preset.n_datasets / seconds))
