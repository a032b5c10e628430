"""Benchmark of the data generator: data sets per second for each regime."""

import jax
import jax.numpy as jnp
import pytest

from bench import datasets
from bench._timing import compile_ahead, device_info, timed


@pytest.mark.parametrize("regime", datasets.REGIMES)
def test_generate(benchmark, bench_preset, regime):
    preset = bench_preset
    benchmark.group = "datasets"

    def generate(key):
        return datasets.make(
            regime, key, n_datasets=preset.n_datasets, n_samples=preset.n_samples,
            n_features=preset.n_features, n_test=preset.n_test, dtype=jnp.float32,
        )

    key = jax.random.key(preset.seed)
    compiled, compile_s = compile_ahead(generate, key)
    out = timed(benchmark, compiled, key, rounds=preset.rounds,
                warmup_rounds=preset.warmup_rounds)
    assert out.X_train.shape == (preset.n_datasets, preset.n_samples, preset.n_features + 1)
    assert bool(jnp.all(jnp.isfinite(out.X_train)))
    benchmark.extra_info.update(
        kind="datasets", model="datasets", regime=regime, n_datasets=preset.n_datasets,
        n_samples=preset.n_samples, n_features=preset.n_features, dtype="float32",
        compile_s=compile_s, preset=preset.name, **device_info(),
    )
    if benchmark.stats:  # only when timed
        benchmark.extra_info["datasets_per_s"] = preset.n_datasets / benchmark.stats.stats.median
