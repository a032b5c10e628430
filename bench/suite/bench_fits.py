"""Benchmark: every case of ours, the model x regime x dtype matrix and the sweep.

The cases come from :mod:`bench.catalog` through :func:`bench.cases.all_cases`; each carries
its model family's marker (``pytest -m glm``).
"""

import pytest

from bench.suite.harness import bench_case


@pytest.mark.matrix("fits")
def test_fit(benchmark, bench_preset, machine_ceilings, bench_profile, case):
    bench_case(benchmark, case, bench_preset, machine_ceilings, profile=bench_profile)
