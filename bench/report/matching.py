"""Which cases go together: table order, our case for a baseline, the key compare matches on.

Our case for a model and regime is :func:`bench.quotes.matched_ours` (the family modules'
sentences pick their cases with it too).

Orders come from :mod:`bench.catalog` (a model's or regime's place there is its place in
every table); names the catalog does not hold follow, in alphabetical order.
"""

from __future__ import annotations

from typing import NamedTuple

from bench import catalog
from bench.formats import positive
from bench.quotes import matched_ours
from bench.record import BASELINE, CaseRecord

__all__ = ["order", "model_order", "regime_order", "case_sort_key", "models_in",
           "Speedup", "speedups", "CASE_KEY_FIELDS", "case_key"]

#: The fields that identify a case (the key :mod:`bench.report.compare` matches on): cases of
#: other sizes are not comparable.
CASE_KEY_FIELDS = ("kind", "model", "regime", "dtype", "n_datasets", "n_samples",
                   "n_features", "baseline")


def order(value, names: tuple[str, ...]) -> tuple[int, str]:
    """Sort key of ``value``: its index in ``names``, unknown values after, by name."""
    return (names.index(value), "") if value in names else (len(names), str(value))


def model_order(name) -> tuple[int, str]:
    """Sort key of a model name, in catalog order."""
    return order(name, tuple(m.name for m in catalog.models()))


def regime_order(name) -> tuple[int, str]:
    """Sort key of a regime name, in catalog order."""
    return order(name, tuple(r.name for r in catalog.regimes()))


def case_sort_key(case: CaseRecord):
    """Model, regime, dtype, size, library: the order of every table."""
    return (model_order(case.model), regime_order(case.regime), str(case.dtype),
            case.n_datasets or 0, str(case.baseline))


def models_in(cases: list[CaseRecord]) -> list[str]:
    """The models of ``cases``, in table order."""
    return sorted({c.model for c in cases}, key=model_order)


class Speedup(NamedTuple):
    """A reference library's case, ours that it compares with, and ours / theirs fits/s."""

    baseline: CaseRecord
    ours: CaseRecord | None
    speedup: float | None


def speedups(cases: list[CaseRecord]) -> list[Speedup]:
    """One :class:`Speedup` per baseline case (``ours`` is None when we have no such case)."""
    out = []
    for case in sorted((c for c in cases if c.kind == BASELINE), key=case_sort_key):
        ours = matched_ours(cases, case.model, case.regime)
        ratio = None
        if ours is not None and positive(ours.fits_per_s) and positive(case.fits_per_s):
            ratio = ours.fits_per_s / case.fits_per_s
        out.append(Speedup(case, ours, ratio))
    return out


def case_key(case: CaseRecord) -> tuple:
    """The :data:`CASE_KEY_FIELDS` of a case (None where absent)."""
    return tuple(getattr(case, name) for name in CASE_KEY_FIELDS)
