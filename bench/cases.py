"""The benchmark matrix, as data: which model runs on which regime, in which dtype (no JAX).

A :class:`Case` is one benchmark row of ours. The matrix is read from :mod:`bench.catalog`,
and it is the same for ``pytest --benchmark`` (the suite parametrises over it) and
``python -m bench run``.
"""

from __future__ import annotations

from typing import NamedTuple

from bench import catalog
from bench.presets import Preset

__all__ = ["Case", "runs_regime", "fit_cases", "scaling_cases", "all_cases", "dataset_bytes",
           "chunk_bytes", "MAX_DATASETS"]


class Case(NamedTuple):
    """One benchmark row of ours.

    Attributes:
        model: a model of :mod:`bench.catalog`.
        regime: one of its regimes.
        dtype: ``"float32"`` or ``"float64"``.
        n_datasets, n_samples, n_features, n_test: sizes.
        kind: ``"fit"`` for the matrix, ``"scaling"`` for the ``n_datasets`` sweep.
    """

    model: str
    regime: str
    dtype: str
    n_datasets: int
    n_samples: int
    n_features: int
    n_test: int
    kind: str = "fit"

    @property
    def id(self) -> str:
        """A short readable id for pytest and tables."""
        base = f"{self.model}-{self.regime}-{self.dtype}"
        return f"{base}-B{self.n_datasets}" if self.kind == "scaling" else base

    def __str__(self) -> str:
        """The id (what ``--benchmark-group-by=param:case`` shows)."""
        return self.id


def _in_family(entry: catalog.Model, family: str | None) -> bool:
    return family is None or entry.family == family


def runs_regime(regime: str, preset: Preset) -> bool:
    """Whether the preset runs ``regime`` (a resampled one only if it names it, or all)."""
    return (catalog.regime(regime).data is None or preset.resampled is None
            or regime in preset.resampled)


def fit_cases(preset: Preset, family: str | None = None) -> list[Case]:
    """The model x regime x dtype matrix, one family's if given.

    Sizes are the preset's (a resampled regime: its data's).
    """
    return [
        Case(entry.name, regime, dtype, catalog.n_datasets_cap(entry, preset),
             *catalog.regime_sizes(regime, preset))
        for entry in catalog.models() if _in_family(entry, family)
        for regime in entry.regimes if runs_regime(regime, preset)
        for dtype in entry.dtypes
    ]


def scaling_cases(preset: Preset, family: str | None = None) -> list[Case]:
    """The ``n_datasets`` sweep of the models that have one, for the throughput plot."""
    return [
        Case(entry.name, *entry.scaling, n, preset.n_samples, preset.n_features,
             preset.n_test, kind="scaling")
        for entry in catalog.models() if entry.scaling and _in_family(entry, family)
        for n in sorted({min(n, catalog.n_datasets_cap(entry, preset)) for n in preset.sweep})
    ]


def all_cases(preset: Preset, family: str | None = None) -> list[Case]:
    """Every case of the preset: the matrix, then the sweep."""
    return fit_cases(preset, family) + scaling_cases(preset, family)


#: Data sets are numbered with 32-bit indices, from which their keys are derived
#: (:func:`bench.datasets.dataset_keys`): past this many, the data sets would repeat.
MAX_DATASETS = 2**32


def dataset_bytes(case: Case) -> int:
    """About how many bytes one data set of ``case`` holds while it is generated and fitted.

    The design matrix twice (the generator's features and ``X``), plus what the fit keeps
    per data set (its family's ``fit_bytes``: the GLM a few ``p x p`` matrices; the
    perceptron and the MLP one more copy of ``X``). An estimate, to bound a chunk's memory;
    it is not measured. What a whole chunk program needs is :func:`chunk_bytes`.
    """
    itemsize = 8 if case.dtype == "float64" else 4
    p, rows = case.n_features + 1, case.n_samples + case.n_test
    return 2 * rows * p * itemsize + _fit_bytes(case, p, itemsize)[0]


def _fit_bytes(case: Case, p: int, itemsize: int) -> tuple[int, int]:
    """``(per data set, per program)`` bytes the fit holds beside the data (its family's)."""
    entry = catalog.model(case.model)
    fit_bytes = catalog.family(entry.family).fit_bytes
    return (0, 0) if fit_bytes is None else fit_bytes(case.n_samples, p, itemsize,
                                                      entry.settings)


#: Copies of a data set's design matrix that the chunk program of ``python -m bench run``
#: holds per data set: XLA's memory analysis of the program (generate, fit, evaluate,
#: decide separation) gave 5 to 6 for every family, at 50 to 400 features and 200 to
#: 2,000 points.
PROGRAM_COPIES = 6


def chunk_bytes(case: Case, chunk_size: int) -> int:
    """About how many bytes the chunk program of ``case`` needs for ``chunk_size`` data sets.

    :data:`PROGRAM_COPIES` design matrices per data set, plus what one data set needs
    whatever the chunk size (its family's ``fit_bytes``): the GLM's ``p x p`` matrices, and
    Firth's exact Hessian, which builds a ``[p^2, n]`` array and two of ``p^3`` values (XLA
    keeps one data set's at a time, at any chunk size: 1 GB at 400 features, 433 GB at
    3,000). An estimate, to refuse sizes that a device cannot hold before anything is
    compiled.
    """
    itemsize = 8 if case.dtype == "float64" else 4
    p, rows = case.n_features + 1, case.n_samples + case.n_test
    fixed = _fit_bytes(case, p, itemsize)[1]
    return chunk_size * PROGRAM_COPIES * rows * p * itemsize + fixed
