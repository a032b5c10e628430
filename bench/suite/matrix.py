"""What each benchmark module is parametrised over, at a preset, and how many rows that is.

Every benchmark takes one parameter, ``case``, so ``--benchmark-group-by=param:case`` works
on any selection; a module names its matrix with ``@pytest.mark.matrix(name)``. The whole
suite at a preset has :func:`suite_size` rows, so a run that recorded fewer is a subset.
"""

from __future__ import annotations

import pytest

from bench import baselines, catalog
from bench.cases import all_cases
from bench.presets import Preset

__all__ = ["MATRICES", "params", "suite_size", "CEILINGS_CASE"]

#: The one ``case`` of the machine's ceilings row.
CEILINGS_CASE = "ceilings"


def _fits(preset: Preset) -> list:
    return [pytest.param(case, id=case.id,
                         marks=getattr(pytest.mark, catalog.model(case.model).family))
            for case in all_cases(preset)]


def _baselines(preset: Preset) -> list:
    del preset
    return [pytest.param(pair, id=pair.id,
                         marks=[pytest.mark.baseline,
                                getattr(pytest.mark, catalog.model(pair.model).family)])
            for pair in baselines.pairs()]


def _datasets(preset: Preset) -> list:
    del preset
    return [pytest.param(r.name, id=r.name, marks=pytest.mark.datasets)
            for r in catalog.regimes()]


def _machine(preset: Preset) -> list:
    del preset
    return [pytest.param(CEILINGS_CASE, id=CEILINGS_CASE, marks=pytest.mark.machine)]


#: What ``@pytest.mark.matrix(name)`` parametrises ``case`` over.
MATRICES = {"fits": _fits, "baselines": _baselines, "datasets": _datasets,
            "machine": _machine}


def params(name: str, preset: Preset) -> list:
    """The ``pytest.param`` values of matrix ``name`` at ``preset``."""
    return MATRICES[name](preset)


def suite_size(preset: Preset) -> int:
    """The benchmark rows of the whole suite at ``preset`` (every matrix)."""
    return sum(len(make(preset)) for make in MATRICES.values())
