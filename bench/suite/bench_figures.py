"""The fits behind the figures, made in the run with the suite's code paths (untimed).

One row per row id of a figure of :func:`bench.catalog.figures` that has fits of its own
(``Figure.rows``): ``boundaries``, each model's boundary on one two-feature data set per
synthetic classification regime; ``norm-<model>``, the coefficient norm after each
iteration on separable data (:mod:`bench.figures`); and any a plugin registers. The
figure's ``record`` makes the row.
"""

import pytest

from bench import catalog
from bench.suite.harness import store


@pytest.mark.matrix("figures")
def test_figure(benchmark, bench_preset, case):
    benchmark.group = "figures"
    make = catalog.resolve(catalog.figure_of_row(case, bench_preset).record)
    record = benchmark.pedantic(make, args=(case, bench_preset), rounds=1, iterations=1)
    assert record.name == case, f"the row {case!r} was recorded as {record.name!r}"
    store(benchmark, record)
