"""Benchmark: the IRLS GLM (binomial plain and Firth, Poisson, gamma) and its baselines."""

import numpy as np
import pytest

from bench import baselines, runner
from bench._harness import bench_baseline, bench_case
from bench.cases import all_cases

#: The model family whose cases bench/conftest.py parametrises ``case`` over.
FAMILY = "glm"


def test_glm(benchmark, bench_preset, machine_ceilings, case):
    bench_case(benchmark, case, bench_preset, machine_ceilings)


def _baseline_data(preset, regime, model="glm", dtype="float64"):
    case = next(c for c in all_cases(preset, "glm")
                if c.model == model and c.regime == regime and c.dtype == dtype)
    data = runner.prepare_data(case, preset)
    k = preset.baseline_datasets
    return np.asarray(data.X_train[:k]), np.asarray(data.y_train[:k])


@pytest.mark.parametrize("regime", ["overlap", "separable"])
def test_statsmodels_glm(benchmark, bench_preset, regime):
    pytest.importorskip("statsmodels", reason="baselines need the 'compare' extra")
    X, y = _baseline_data(bench_preset, regime)
    bench_baseline(benchmark, name="statsmodels GLM", model="glm", regime=regime,
                   fit_one=baselines.statsmodels_glm, X=X, y=y, preset=bench_preset,
                   converged=lambda r: r.converged)


@pytest.mark.parametrize("regime", ["overlap", "separable"])
def test_sklearn_logistic(benchmark, bench_preset, regime):
    pytest.importorskip("sklearn", reason="baselines need the 'compare' extra")
    X, y = _baseline_data(bench_preset, regime)
    bench_baseline(benchmark, name="scikit-learn LogisticRegression newton-cholesky",
                   model="glm", regime=regime, fit_one=baselines.sklearn_logistic, X=X, y=y,
                   preset=bench_preset, converged=lambda r: r.n_iter_[0] < 25)


@pytest.mark.parametrize("model, regime, family", [("glm_poisson", "poisson", "poisson"),
                                                   ("glm_gamma", "gamma", "gamma")])
def test_statsmodels_glm_other_families(benchmark, bench_preset, model, regime, family):
    pytest.importorskip("statsmodels", reason="baselines need the 'compare' extra")
    X, y = _baseline_data(bench_preset, regime, model=model)
    bench_baseline(benchmark, name="statsmodels GLM", model=model, regime=regime,
                   fit_one=lambda X, y: baselines.statsmodels_glm(X, y, family), X=X, y=y,
                   preset=bench_preset, converged=lambda r: r.converged)
