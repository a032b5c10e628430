"""The machine's own ceilings, recorded as a row: a large matmul's GFLOP/s, a copy's GB/s.

Every case's ``roofline_pct`` is relative to these, measured in the same session.
"""

import pytest

from bench.record import CaseRecord
from bench.suite.harness import store
from bench.timing import device_info


@pytest.mark.matrix("machine")
def test_ceilings(benchmark, bench_preset, machine_ceilings, case):
    benchmark.group = "machine"
    # The measurement itself is done (once) by the machine_ceilings fixture; this row only
    # records it, so the benchmark call is a no-op.
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert machine_ceilings["matmul_gflops_float32"] > 0
    assert machine_ceilings["copy_gbps"] > 0
    store(benchmark, CaseRecord(kind="ceilings", name=case, model="machine",
                                preset=bench_preset.name, **machine_ceilings, **device_info()))
