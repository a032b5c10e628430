"""Benchmark: the reference libraries on the same data sets, one data set at a time.

One test over the table of (library, model, regime) that the catalog's pairings give
(:func:`bench.baselines.pairs`); marker ``baseline``.
"""

import pytest

from bench import catalog
from bench.suite.harness import bench_baseline


@pytest.mark.matrix("baselines")
def test_baseline(benchmark, bench_preset, case):
    pytest.importorskip(catalog.library(case.library).module,
                        reason="baselines need the 'compare' extra")
    bench_baseline(benchmark, case, bench_preset)
