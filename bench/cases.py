"""The benchmark matrix, as data: which model runs on which regime, in which dtype (no JAX).

A :class:`Case` is one benchmark row of ours. The matrix is read from :mod:`bench.catalog`,
and it is the same for ``pytest --benchmark`` (the suite parametrises over it) and
``python -m bench run``.
"""

from __future__ import annotations

from typing import NamedTuple

from bench import catalog
from bench.presets import Preset

__all__ = ["Case", "runs_regime", "fit_cases", "scaling_cases", "all_cases", "dataset_bytes"]


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


def dataset_bytes(case: Case) -> int:
    """About how many bytes one data set of ``case`` holds while it is generated and fitted.

    The design matrix twice (the generator's features and ``X``), plus what the fit keeps
    per data set: the GLM a few ``p x p`` matrices (Gram, its factor, the covariance), the
    perceptron and the MLP one more copy of ``X``. An estimate, to bound a chunk's memory
    and to refuse a size no machine holds; it is not measured.
    """
    itemsize = 8 if case.dtype == "float64" else 4
    p, rows = case.n_features + 1, case.n_samples + case.n_test
    data = 2 * rows * p * itemsize
    if catalog.model(case.model).family == "glm":
        return data + 4 * p * p * itemsize
    return data + rows * p * itemsize

