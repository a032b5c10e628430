"""The benchmark matrix, as data: which model runs on which regime, in which dtype.

A :class:`Case` is one benchmark row of ours. The matrix is the same for ``pytest --benchmark``
(the ``bench_*.py`` modules parametrize over it) and ``python -m bench run``.
"""

from __future__ import annotations

from typing import NamedTuple

from bench._vocabulary import FAMILY_OF_MODEL
from bench.datasets import CLASSIFICATION_REGIMES
from bench.presets import Preset

__all__ = ["Case", "MODELS", "FAMILY_OF_MODEL", "fit_cases", "scaling_cases", "all_cases"]

#: Models of the matrix: name -> (what it is, the regimes it runs on, its dtypes).
MODELS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "perceptron": ("Rosenblatt perceptron", CLASSIFICATION_REGIMES, ("float32",)),
    "glm": ("binomial GLM (logit), IRLS", CLASSIFICATION_REGIMES, ("float32", "float64")),
    "glm_firth": ("Firth logistic regression, IRLS", CLASSIFICATION_REGIMES,
                  ("float32", "float64")),
    "glm_poisson": ("Poisson GLM (log), IRLS", ("poisson",), ("float32", "float64")),
    "glm_gamma": ("gamma GLM (inverse), IRLS", ("gamma",), ("float32", "float64")),
    "mlp0": ("MLP hidden=() (logistic regression by adam)", CLASSIFICATION_REGIMES,
             ("float32",)),
    "mlp8": ("MLP hidden=(8,) sigmoid", CLASSIFICATION_REGIMES, ("float32",)),
}

#: The regime and dtype of each model's throughput-scaling sweep.
SCALING = {"perceptron": ("separable", "float32"), "glm": ("overlap", "float64"),
           "mlp8": ("xor", "float32")}


class Case(NamedTuple):
    """One benchmark row of ours.

    Attributes:
        model: a key of :data:`MODELS`.
        regime: a regime of :mod:`bench.datasets`.
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


def n_datasets_of(model: str, preset: Preset) -> int:
    """Data sets per case of ``model``: the preset's, or its smaller MLP size."""
    if FAMILY_OF_MODEL[model] == "mlp":
        return min(preset.n_datasets, preset.mlp_n_datasets)
    return preset.n_datasets


def fit_cases(preset: Preset, family: str | None = None) -> list[Case]:
    """The model x regime x dtype matrix at the preset's sizes (one family's, if given)."""
    return [
        Case(model, regime, dtype, n_datasets_of(model, preset), preset.n_samples,
             preset.n_features, preset.n_test)
        for model, (_, regimes, dtypes) in MODELS.items()
        if family is None or FAMILY_OF_MODEL[model] == family
        for regime in regimes
        for dtype in dtypes
    ]


def scaling_cases(preset: Preset, family: str | None = None) -> list[Case]:
    """The ``n_datasets`` sweep of one case per family, for the throughput plot."""
    return [
        Case(model, regime, dtype, n, preset.n_samples, preset.n_features, preset.n_test,
             kind="scaling")
        for model, (regime, dtype) in SCALING.items()
        if family is None or FAMILY_OF_MODEL[model] == family
        for n in sorted({min(n, n_datasets_of(model, preset)) for n in preset.sweep})
    ]


def all_cases(preset: Preset, family: str | None = None) -> list[Case]:
    """Every case of the preset: the matrix, then the sweep."""
    return fit_cases(preset, family) + scaling_cases(preset, family)
