"""Parametrisation and fixtures shared by the benchmark modules.

The suite has float64 cases (the GLM), so it turns on JAX's x64 mode itself. float32 cases
stay float32: every array they use is created with an explicit dtype.

Every benchmark takes one parameter, ``case``, so ``--benchmark-group-by=param:case`` works
on any selection. A module says which matrix it runs with the ``matrix`` marker.
"""

import jax
import pytest

from bench import baselines, catalog
from bench.cases import all_cases
from bench.presets import get_preset

jax.config.update("jax_enable_x64", True)


def _fit_params(preset):
    return [pytest.param(case, id=case.id,
                         marks=getattr(pytest.mark, catalog.model(case.model).family))
            for case in all_cases(preset)]


def _baseline_params(preset):
    del preset
    return [pytest.param(pair, id=pair.id,
                         marks=[pytest.mark.baseline,
                                getattr(pytest.mark, catalog.model(pair.model).family)])
            for pair in baselines.pairs()]


def _dataset_params(preset):
    del preset
    return [pytest.param(r.name, id=r.name, marks=pytest.mark.datasets)
            for r in catalog.regimes()]


#: What ``@pytest.mark.matrix(name)`` parametrises ``case`` over, at the run's preset.
MATRICES = {"fits": _fit_params, "baselines": _baseline_params, "datasets": _dataset_params}


def pytest_generate_tests(metafunc):
    """Parametrise ``case`` over the matrix its ``matrix`` marker names."""
    marker = metafunc.definition.get_closest_marker("matrix")
    if marker is not None and "case" in metafunc.fixturenames:
        preset = get_preset(metafunc.config.option.bench_preset)
        metafunc.parametrize("case", MATRICES[marker.args[0]](preset))


@pytest.fixture(scope="session")
def machine_ceilings(bench_preset):
    """The machine's matmul GFLOP/s and copy GB/s, measured once per benchmark session
    (tiny sizes in the smoke preset, which only exercises the code)."""
    from bench.roofline import measure_ceilings

    if bench_preset.name == "smoke":
        return measure_ceilings(matmul_size=128, copy_mib=4)
    return measure_ceilings()
