"""The regimes: the kinds of data the models are fitted on (no JAX).

Each :class:`Regime` is drawn by a generator of :mod:`bench.datasets`: synthetic data, or
bootstrap resamples of a real data set that ships with scikit-learn (:class:`RealData`).
:mod:`bench.catalog` holds them beside the models and adds the regimes of registered
modules (:func:`bench.catalog.regimes`). They live apart from the catalog so that a family
module can read them (the GLM's sentences name the real data sets) without importing the
catalog, which imports the family modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bench.families.base import LABEL_RESPONSES

__all__ = ["RealData", "Regime", "REGIMES", "CLASSIFICATION_REGIMES", "RESAMPLED_REGIMES"]


class RealData(NamedTuple):
    """A real data set that ships with scikit-learn, as a problem of two or more classes.

    Attributes:
        loader: the ``sklearn.datasets`` function that returns it (``"load_wine"``).
        classes: the target values kept, ``(label 0, label 1, ...)``.
        columns: the feature columns kept, or None for all.
        n_samples: its rows once the two classes are kept.
        n_features: its feature columns once ``columns`` are kept.
        description: what it is, in words, for the tables.
    """

    loader: str
    classes: tuple[int, ...]
    columns: tuple[int, ...] | None
    n_samples: int
    n_features: int
    description: str


class Regime(NamedTuple):
    """One kind of data.

    Attributes:
        name: the regime's name.
        response: what its responses are, one of :data:`RESPONSES` (``"binomial"``: 0/1
            labels).
        color: its colour in the plots.
        data: for a resampled regime, the real data set whose bootstrap resamples it draws
            (its sizes are the data's, not the preset's); None for a synthetic regime.
        min_features: the fewest features it can be drawn with.
        generator: its generator, for a regime that :mod:`bench.datasets` does not hold
            (a family module's or a plugin's own): a callable or ``"module:function"``,
            with the signature of the generators there (JAX). A resampled regime needs
            none: every one draws bootstrap resamples of its ``data``.
        n_classes: how many classes its labels have (``"multinomial"``: ``len`` of its
            real data's classes, or its generator's); 2 for binomial.
    """

    name: str
    response: str
    color: str
    data: RealData | None = None
    min_features: int = 1
    generator: Callable | str | None = None
    n_classes: int = 2

    @property
    def labelled(self) -> bool:
        """Its responses are class labels, so accuracy applies."""
        return self.response in LABEL_RESPONSES

    @property
    def two_class(self) -> bool:
        """Its responses are 0/1 labels, so the linear program decides their separation."""
        return self.response == "binomial"


REGIMES: tuple[Regime, ...] = (
    Regime("separable", "binomial", "tab:blue"),
    Regime("overlap", "binomial", "tab:orange"),
    Regime("quasi", "binomial", "tab:cyan"),
    Regime("xor", "binomial", "tab:green", min_features=2),
    Regime("circles", "binomial", "tab:red", min_features=2),
    Regime("poisson", "poisson", "tab:purple"),
    Regime("gamma", "gamma", "tab:brown"),
    Regime("gaussian", "gaussian", "tab:gray"),
    # Bootstrap resamples of real data: each data set is n draws with replacement from the
    # n rows (features standardised over all rows, as scikit-learn's examples do); its test
    # set is the original rows. The separability of the full data was checked by a linear
    # program (tests/test_resampled.py checks it again).
    Regime("cancer", "binomial", "tab:pink", RealData(
        "load_breast_cancer", (0, 1), tuple(range(10)), 569, 10,
        "breast cancer (Wisconsin), its 10 'mean' features, malignant (0) vs benign (1): "
        "not linearly separable")),
    Regime("wine", "binomial", "goldenrod", RealData(
        "load_wine", (1, 2), None, 119, 13,
        "wine cultivars 1 (0) vs 2 (1), 13 chemical measurements: linearly separable")),
    Regime("iris", "binomial", "teal", RealData(
        "load_iris", (1, 2), None, 100, 4,
        "iris versicolor (0) vs virginica (1), 4 measurements: not linearly separable")),
)

#: The synthetic regimes with 0/1 labels (of :data:`REGIMES`).
CLASSIFICATION_REGIMES = tuple(r.name for r in REGIMES
                               if r.response == "binomial" and r.data is None)
#: The bootstrap-resampled real data sets (all with 0/1 labels).
RESAMPLED_REGIMES = tuple(r.name for r in REGIMES if r.data is not None)
