"""Parametrisation and fixtures shared by the benchmark modules.

The suite has float64 cases (the GLM), so it turns on JAX's x64 mode itself. float32 cases
stay float32: every array they use is created with an explicit dtype.

Every benchmark takes one parameter, ``case``, so ``--benchmark-group-by=param:case`` works
on any selection. A module says which matrix it runs with the ``matrix`` marker
(:mod:`bench.suite.matrix`).
"""

import jax
import pytest

from bench.presets import get_preset
from bench.suite.harness import MEASURED_CEILINGS
from bench.suite.matrix import params
from models import glm

jax.config.update("jax_enable_x64", True)


def pytest_generate_tests(metafunc):
    """Parametrise ``case`` over the matrix its ``matrix`` marker names."""
    marker = metafunc.definition.get_closest_marker("matrix")
    if marker is not None and "case" in metafunc.fixturenames:
        preset = get_preset(metafunc.config.option.bench_preset)
        metafunc.parametrize("case", params(marker.args[0], preset))


@pytest.fixture(scope="session", autouse=True)
def glm_cpu_kernels():
    """The GLM's native CPU kernels, built (on a fresh machine: compiled, ~10 s) before any
    row is compiled, so that no row's compile time carries the build; what is in use."""
    return glm.cpu_kernels()


@pytest.fixture(scope="session")
def machine_ceilings(request, bench_preset):
    """The machine's matmul GFLOP/s and copy GB/s, measured once per benchmark session
    (tiny sizes in the smoke and dry-run presets, which only exercise the code), and kept
    for the run's record (:data:`bench.suite.harness.MEASURED_CEILINGS`)."""
    from bench.roofline import measure_ceilings

    if bench_preset.name == "smoke" or bench_preset.name.endswith("-dry"):
        ceilings = measure_ceilings(matmul_size=128, copy_mib=4)
    else:
        ceilings = measure_ceilings()
    request.config.stash[MEASURED_CEILINGS] = ceilings
    return ceilings
