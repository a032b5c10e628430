"""The fits behind the figures, made in the run with the suite's code paths (untimed).

``boundaries``: each model's boundary on one two-feature data set per synthetic
classification regime; ``norm-<model>``: the coefficient norm after each iteration on
separable data (:mod:`bench.figures`). Each is one row of its own kind.
"""

import pytest

from bench import figures
from bench.record import CaseRecord
from bench.suite.harness import store
from bench.timing import device_info


@pytest.mark.matrix("figures")
def test_figure(benchmark, bench_preset, case):
    benchmark.group = "figures"
    common = dict(preset=bench_preset.name, seed=bench_preset.seed, **device_info())
    if case == "boundaries":
        fits = benchmark.pedantic(figures.boundary_fits, args=(bench_preset,), rounds=1,
                                  iterations=1)
        assert set(fits) == set(figures.BOUNDARY_REGIMES)
        store(benchmark, CaseRecord(kind="boundary", name=case, model="figures",
                                    n_samples=bench_preset.n_samples, fits=fits, **common))
        return
    model = case.removeprefix("norm-")
    path = benchmark.pedantic(figures.norm_paths, args=(model, bench_preset), rounds=1,
                              iterations=1)
    store(benchmark, CaseRecord(kind="trajectory", name=case, model=model,
                                regime="separable", dtype="float64",
                                n_samples=bench_preset.n_samples, **path, **common))
