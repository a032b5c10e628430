"""Benchmark: the MLP (no hidden layer, and hidden=(8,)) and scikit-learn's MLPClassifier."""

import numpy as np
import pytest

from bench import baselines, runner
from bench._harness import bench_baseline, bench_case
from bench.cases import all_cases
from models.mlp import DEFAULT_LEARNING_RATE

#: The model family whose cases bench/conftest.py parametrises ``case`` over.
FAMILY = "mlp"


def test_mlp(benchmark, bench_preset, machine_ceilings, case):
    bench_case(benchmark, case, bench_preset, machine_ceilings)


@pytest.mark.parametrize("regime", ["xor", "circles"])
def test_sklearn_mlp(benchmark, bench_preset, regime):
    pytest.importorskip("sklearn", reason="baselines need the 'compare' extra")
    preset = bench_preset
    case = next(c for c in all_cases(preset, "mlp") if c.model == "mlp8" and c.regime == regime)
    data = runner.prepare_data(case, preset)
    # MLPClassifier is slow per fit; a quarter of the usual subset keeps the run short.
    k = max(2, preset.baseline_datasets // 4)
    bench_baseline(
        benchmark, name="scikit-learn MLPClassifier", model="mlp8", regime=regime,
        fit_one=lambda X, y: baselines.sklearn_mlp(X, y, (8,), preset.mlp_steps,
                                                   DEFAULT_LEARNING_RATE),
        X=np.asarray(data.X_train[:k], np.float64), y=np.asarray(data.y_train[:k]),
        preset=preset,
    )
