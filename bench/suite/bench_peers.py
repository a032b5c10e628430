"""Benchmark: the peers (tfp.glm.fit, glmax; equinox, flax, PyTorch) on our data sets.

The peers are the optional ``peers``, ``mlp-peers`` and ``torch`` extras; without one its
rows skip, saying why, and the run still publishes (its README lists the skipped rows).
"""

import pytest

from bench.suite.harness import bench_peer


@pytest.mark.matrix("peers")
def test_peer(benchmark, request, bench_preset, case):
    bench_peer(benchmark, request.config, case, bench_preset)
