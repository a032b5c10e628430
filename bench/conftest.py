"""Fixtures and parametrisation shared by the benchmark modules.

The benchmark suite has float64 cases (the GLM), so it turns on JAX's x64 mode itself.
float32 cases stay float32: every array they use is created with an explicit dtype.
"""

import jax
import pytest

from bench.cases import all_cases
from bench.presets import get_preset

jax.config.update("jax_enable_x64", True)


def pytest_generate_tests(metafunc):
    """Parametrise ``case`` over the matrix of the module's ``FAMILY`` at this run's preset."""
    if "case" in metafunc.fixturenames:
        family = metafunc.module.FAMILY
        cases = all_cases(get_preset(metafunc.config.option.bench_preset), family)
        metafunc.parametrize("case", cases, ids=[c.id for c in cases])


@pytest.fixture(scope="session")
def machine_ceilings(bench_preset):
    """The machine's matmul GFLOP/s and copy GB/s, measured once per benchmark session
    (tiny sizes in the smoke preset, which only exercises the code)."""
    from bench.roofline import measure_ceilings

    if bench_preset.name == "smoke":
        return measure_ceilings(matmul_size=128, copy_mib=4)
    return measure_ceilings()
