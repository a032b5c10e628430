"""``summary.csv``: one row per case, every scalar field of its record."""

from __future__ import annotations

import csv
import pathlib

from bench.record import CaseRecord, case_fields
from bench.report.matching import speedups

__all__ = ["summary_rows", "write_summary_csv"]

#: The first columns, in this order (the record's field order follows).
_LEADING_COLUMNS = ("name", "kind", "model", "regime", "dtype", "n_datasets", "baseline")


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def summary_rows(cases: list[CaseRecord]) -> tuple[list[str], list[dict]]:
    """The columns and rows of ``summary.csv``.

    A row holds the scalar fields that apply to its case's kind, in the record's field
    order; ``status_counts`` is spread into ``status_<name>`` columns; a baseline row also
    gets ``ours_dtype``, ``ours_fits_per_s`` and ``speedup`` (ours / theirs fits per second).
    Columns appear in the order they are first met, and a column empty in every row is left
    out. Lists (the histories) are left out.
    """
    by_baseline = {id(s.baseline): s for s in speedups(cases)}
    rows, columns = [], list(_LEADING_COLUMNS)
    for case in cases:
        row = {f.name: getattr(case, f.name) for f in case_fields(case.kind)
               if _is_scalar(getattr(case, f.name))}
        for status, count in (case.status_counts or {}).items():
            row[f"status_{status}"] = count
        match = by_baseline.get(id(case))
        if match is not None:
            row["ours_dtype"] = match.ours.dtype if match.ours else None
            row["ours_fits_per_s"] = match.ours.fits_per_s if match.ours else None
            row["speedup"] = match.speedup
        columns.extend(key for key in row if key not in columns)
        rows.append(row)
    filled = [c for c in columns
              if c in _LEADING_COLUMNS or any(row.get(c) is not None for row in rows)]
    return filled, rows


def write_summary_csv(path: pathlib.Path, cases: list[CaseRecord]) -> None:
    """Write ``summary.csv`` (floats at full precision, None as an empty cell)."""
    columns, rows = summary_rows(cases)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
