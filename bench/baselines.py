"""The reference-library rows: which library is timed against which model and regime.

The libraries themselves (how each fits one data set with a catalog model's settings and
budget: :class:`~bench.families.base.Library`) live with their family, in
:mod:`bench.families` (statsmodels ``GLM`` and scikit-learn ``LogisticRegression`` with the
GLM, ``Perceptron`` with the perceptron, ``MLPClassifier`` with the MLP), beside the
pairings that say which model and regimes each is timed on; :func:`bench.catalog.libraries`
and :func:`bench.catalog.pairings` collect them. They need the ``compare`` extra
(statsmodels, scikit-learn, scipy).
"""

from __future__ import annotations

from typing import NamedTuple

from bench import catalog

__all__ = ["BaselineCase", "pairs"]


class BaselineCase(NamedTuple):
    """One reference-library row: a library, the catalog model it is compared with, a regime.

    Attributes:
        library: a key of :func:`bench.catalog.libraries`.
        model: the catalog model whose settings and budget it fits with.
        regime: the regime of the data sets.
    """

    library: str
    model: str
    regime: str

    @property
    def id(self) -> str:
        """A short readable id for pytest."""
        return f"{self.library}-{self.model}-{self.regime}"

    def __str__(self) -> str:
        """The id (what ``--benchmark-group-by=param:case`` shows)."""
        return self.id


def pairs() -> list[BaselineCase]:
    """Every (library, model, regime) of the catalog's pairings, in table order.

    Models in catalog order; for each, its libraries in the order their pairings were
    registered, and the pairing's regimes in its order.
    """
    pairings = catalog.pairings()
    return [BaselineCase(pairing.library, entry.name, regime)
            for entry in catalog.models() for pairing in pairings
            if pairing.model == entry.name for regime in pairing.regimes]
