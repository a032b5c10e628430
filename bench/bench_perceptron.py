"""Benchmark: the perceptron on every regime, and scikit-learn's Perceptron on the same data."""

import numpy as np
import pytest

from bench import baselines, runner
from bench._harness import bench_baseline, bench_case
from bench.cases import all_cases

#: The model family whose cases bench/conftest.py parametrises ``case`` over.
FAMILY = "perceptron"


def test_perceptron(benchmark, bench_preset, machine_ceilings, case):
    bench_case(benchmark, case, bench_preset, machine_ceilings)


@pytest.mark.parametrize("regime", ["separable", "overlap"])
def test_sklearn_perceptron(benchmark, bench_preset, regime):
    pytest.importorskip("sklearn", reason="baselines need the 'compare' extra")
    preset = bench_preset
    case = next(c for c in all_cases(preset, "perceptron") if c.regime == regime)
    data = runner.prepare_data(case, preset)
    k = preset.baseline_datasets
    # sklearn runs every epoch (tol=None); ours stops at the first clean epoch, so on
    # separable data the same budget is an upper bound of our work.
    bench_baseline(
        benchmark, name="scikit-learn Perceptron", model="perceptron", regime=regime,
        fit_one=lambda X, y: baselines.sklearn_perceptron(X, y, preset.perceptron_epochs),
        X=np.asarray(data.X_train[:k], np.float64), y=np.asarray(data.y_train[:k]),
        preset=preset,
    )
