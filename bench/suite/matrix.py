"""What each benchmark module is parametrised over, at a preset, and how many rows that is.

Every benchmark takes one parameter, ``case``, so ``--benchmark-group-by=param:case`` works
on any selection; a module names its matrix with ``@pytest.mark.matrix(name)``. The whole
suite at a preset has :func:`suite_size` rows, so a run that recorded fewer is a subset.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from bench import baselines, catalog
from bench.cases import all_cases, runs_regime
from bench.presets import Preset

__all__ = ["MATRICES", "params", "suite_size", "CEILINGS_CASE", "figure_rows", "PeerCase"]

#: The one ``case`` of the machine's ceilings row.
CEILINGS_CASE = "ceilings"


class PeerCase(NamedTuple):
    """One peer row: a peer of :func:`bench.catalog.peers` on one of its regimes."""

    peer: str
    regime: str

    @property
    def id(self) -> str:
        """A short readable id for pytest."""
        return f"{self.peer}-{self.regime}"

    def __str__(self) -> str:
        """The id (what ``--benchmark-group-by=param:case`` shows)."""
        return self.id


def _fits(preset: Preset) -> list:
    return [pytest.param(case, id=case.id,
                         marks=getattr(pytest.mark, catalog.model(case.model).family))
            for case in all_cases(preset)]


def _baselines(preset: Preset) -> list:
    return [pytest.param(pair, id=pair.id,
                         marks=[pytest.mark.baseline,
                                getattr(pytest.mark, catalog.model(pair.model).family)])
            for pair in baselines.pairs() if runs_regime(pair.regime, preset)]


def _datasets(preset: Preset) -> list:
    return [pytest.param(r.name, id=r.name, marks=pytest.mark.datasets)
            for r in catalog.regimes() if runs_regime(r.name, preset)]


def _peers(preset: Preset) -> list:
    del preset
    return [pytest.param(PeerCase(peer.name, regime), id=f"{peer.name}-{regime}",
                         marks=[pytest.mark.peer,
                                getattr(pytest.mark, catalog.model(peer.model).family)])
            for peer in catalog.peers() for regime in peer.regimes]


def figure_rows(preset: Preset) -> list[str]:
    """The rows behind the figures that have fits of their own, in figure order.

    Those of :func:`bench.catalog.figures`: the boundaries, the coefficient norm of each
    model, a plugin's.
    """
    return [row for figure in catalog.figures() if figure.rows is not None
            for row in figure.rows(preset)]


def _figures(preset: Preset) -> list:
    return [pytest.param(row, id=row, marks=pytest.mark.figures)
            for row in figure_rows(preset)]


def _machine(preset: Preset) -> list:
    del preset
    return [pytest.param(CEILINGS_CASE, id=CEILINGS_CASE, marks=pytest.mark.machine)]


#: What ``@pytest.mark.matrix(name)`` parametrises ``case`` over.
MATRICES = {"fits": _fits, "baselines": _baselines, "datasets": _datasets,
            "machine": _machine, "peers": _peers, "figures": _figures}


def params(name: str, preset: Preset) -> list:
    """The ``pytest.param`` values of matrix ``name`` at ``preset``."""
    return MATRICES[name](preset)


def suite_size(preset: Preset) -> int:
    """The benchmark rows of the whole suite at ``preset`` (every matrix)."""
    return sum(len(make(preset)) for make in MATRICES.values())
