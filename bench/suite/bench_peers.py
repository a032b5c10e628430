"""Benchmark: the JAX peers (tfp.glm.fit, glmax) on our data sets, in the same run.

The peers are the optional ``peers`` extra; without it their rows skip, saying why, and
the run still publishes (its README lists the skipped rows).
"""

import pytest

from bench.suite.harness import bench_peer


@pytest.mark.matrix("peers")
def test_peer(benchmark, request, bench_preset, case):
    bench_peer(benchmark, request.config, case, bench_preset)
