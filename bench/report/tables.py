"""The tables of a published run as data, markdown lines (through tabulate), and plain text.

A :class:`Table` is a header and rows of cells, each cell a :class:`bench.quotes.Sentence`:
its words and the numbers it quotes, each from a named field of a named case, so the
README-number test (``tests/test_readme_numbers.py``) checks a table as it checks a
sentence. Rows and columns follow the catalog's order; every number goes through
:mod:`bench.formats`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from tabulate import tabulate

from bench import catalog
from bench.formats import DASH, dtype_short, missing, positive
from bench.intervals import LEVEL
from bench.quotes import (
    ACCURACY,
    COUNT,
    FLOAT1,
    FLOAT2,
    LOSS,
    RATE,
    SECONDS,
    SHARE,
    TEXT,
    Sentence,
    cell,
    fixed,
    join,
    quote,
    render,
    rounds_spread,
    speed_ratio,
)
from bench.record import CEILINGS, FIT, SCALING, CaseRecord
from bench.report.matching import case_sort_key, models_in, speedups

__all__ = ["Table", "markdown_table", "text_table", "convergence_tables", "speed_table",
           "baseline_table", "scaling_table", "ceilings_line", "statuses", "lp_shares",
           "ours_cells"]


class Table(NamedTuple):
    """A table: its header and its rows of cells (each a sentence, words and quotes)."""

    header: list[str]
    rows: list[list[Sentence]]

    def lines(self) -> list[str]:
        """The table as GitHub markdown lines."""
        return markdown_table(self.header, ([render(c) for c in row] for row in self.rows))


def markdown_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    """A GitHub markdown table, one line per list item (``|`` in a cell is escaped)."""
    def escape(cells):
        return [str(cell).replace("|", "\\|") for cell in cells]

    text = tabulate([escape(row) for row in rows], headers=escape(header), tablefmt="github",
                    disable_numparse=True)
    return text.splitlines()


def text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A plain-text table: header, a rule of dashes, rows; columns two spaces apart."""
    text = tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)
    return [line.rstrip() for line in text.splitlines()]


def statuses(case: CaseRecord) -> Sentence:
    """The non-zero status counts of a case, ``"max_iter 3, separated 1"``."""
    counts = case.status_counts or {}
    shown = [Sentence(f"{name} {{}}", quote(case, f"status_counts.{name}", COUNT))
             for name, count in counts.items() if count]
    return join(", ", shown) if shown else Sentence(DASH)


def _pair(case: CaseRecord, template: str, *fields_formats) -> Sentence:
    """``template`` with ``case``'s fields; a dash if the first is missing."""
    first, fmt = fields_formats[0]
    if missing(getattr(case, first)):
        return cell(case, first, fmt)
    return Sentence(template, *(quote(case, f, fmt) for f, fmt in fields_formats))


def lp_shares(case: CaseRecord) -> Sentence:
    """``"complete % / quasi %"`` of the linear program's verdict, and undecided if any."""
    text = _pair(case, "{} / {}", ("lp_complete_frac", SHARE), ("lp_quasi_frac", SHARE))
    if not missing(case.lp_complete_frac) and case.lp_undecided_frac:
        text += Sentence(" ({} undecided)", quote(case, "lp_undecided_frac", SHARE))
    return text


def _convergence_rows(model: str, columns: list[CaseRecord]) -> list[list[Sentence]]:
    def row(label, render):
        return [label if isinstance(label, Sentence) else Sentence(label),
                *(render(case) for case in columns)]

    def field(name, fmt):
        return lambda c: cell(c, name, fmt)

    entry = catalog.model(model)
    family = catalog.family(entry.family)
    budget = next((c for c in columns if c.max_iter is not None), columns[0])
    rows = [row("data sets", field("n_datasets", COUNT)),
            row("converged %", field("converged_frac", SHARE))]
    if family.separation_flag or any(c.separated_frac for c in columns):
        rows.append(row("separated %", field("separated_frac", SHARE)))
    if any(not missing(c.lp_complete_frac) for c in columns):
        rows.append(row("LP: complete / quasi %", lp_shares))
        if family.mistake_bound:
            rows.append(row("converged % of LP-complete",
                            field("converged_on_complete_frac", SHARE)))
        if family.verdict_status is not None and family.verdict_status(entry.settings):
            rows.append(row("status = LP verdict %", field("separated_agrees_frac", SHARE)))
    rows += [
        row("statuses", statuses),
        row("non-finite %", field("nan_frac", SHARE)),
        row(Sentence(f"{family.iteration_unit} median / p90 / max (budget {{}})",
                     quote(budget, "max_iter", COUNT)),
            lambda c: Sentence("{} / {} / {}", *(quote(c, f, COUNT) for f in (
                "n_iter_median", "n_iter_p90", "n_iter_max")))),
        row("train accuracy mean (q10)", lambda c: _pair(
            c, "{} ({})", ("train_accuracy_mean", ACCURACY), ("train_accuracy_q10", ACCURACY))),
        row("test accuracy mean (q10)", lambda c: _pair(
            c, "{} ({})", ("test_accuracy_mean", ACCURACY), ("test_accuracy_q10", ACCURACY))),
        row(f"final {family.loss_name} median (mean)", lambda c: Sentence(
            "{} ({})", quote(c, "final_loss_median", LOSS), quote(c, "final_loss_mean", LOSS))),
    ]
    if family.replayed_rule:
        rows.append(row(f"{family.replayed_rule} would stop % (median step)",
                        lambda c: Sentence("{} ({})", quote(c, "replay_stop_frac", SHARE),
                                           quote(c, "replay_stop_median", COUNT))))
    if family.mistake_bound:
        rows += [row("mean n_updates", field("n_updates_mean", COUNT)),
                 row("max n_updates / (R/γ)²", field("novikoff_max_ratio", LOSS))]
    return rows


def convergence_tables(cases: list[CaseRecord]) -> dict[str, Table]:
    """One table per model (by its heading): metrics down, (regime, dtype) across."""
    fits = [c for c in cases if c.kind == FIT]
    tables = {}
    for model in models_in(fits):
        columns = sorted((c for c in fits if c.model == model), key=case_sort_key)
        label = columns[0].model_label or model
        header = [f"{model}: {label}",
                  *(f"{c.regime} {dtype_short(c.dtype)}" for c in columns)]
        tables[f"### {model}"] = Table(header, _convergence_rows(model, columns))
    return tables


def ceilings_line(cases: list[CaseRecord], measured: dict | None = None) -> Sentence:
    """The machine's measured ceilings, as a sentence.

    Args:
        cases: the run's rows; its ``kind == "ceilings"`` row is quoted if it has one.
        measured: the ceilings the session measured (``RunRecord.ceilings``), for a run
            whose ceilings row was not selected but whose fits used them.
    """
    rows = [c for c in cases if c.kind == CEILINGS]
    if rows:
        where, numbers = "Ceilings measured in this run", rows[0]
    elif measured and any(not missing(c.roofline_pct) for c in cases):
        where = ("Ceilings measured in this run (for the % roofline of its fits; its "
                 "ceilings row was not selected)")
        numbers = CaseRecord(kind=CEILINGS, model="machine", **measured)
    else:
        return Sentence("The run has no ceilings row, so no % of roofline is given.")
    fields = (("matmul_size", COUNT), ("matmul_gflops_float64", FLOAT1),
              ("matmul_gflops_float32", FLOAT1), ("copy_mib", COUNT), ("copy_gbps", FLOAT1))
    # Numbers measured outside the run's rows are quoted as they were recorded.
    quotes = (quote(numbers, f, fmt) if rows else fixed(fmt.write(getattr(numbers, f)))
              for f, fmt in fields)
    return Sentence(
        f"{where}: a {{}}² matmul at {{}} GFLOP/s (float64) and {{}} GFLOP/s (float32); a {{}} "
        "MiB copy at {} GB/s. GFLOP/s and GB/s of a case are analytic counts of the work of "
        "the iterations that ran (`bench/roofline.py`) over its median time; % roofline is "
        "that over min(peak GFLOP/s, FLOPs per byte × copy GB/s).", *quotes)


def _identity(case: CaseRecord) -> list[Sentence]:
    return [cell(case, "model"), cell(case, "regime"), cell(case, "dtype")]


def speed_table(cases: list[CaseRecord]) -> Table:
    """Ours: one row per ``kind == "fit"`` case."""
    fits = sorted((c for c in cases if c.kind == FIT), key=case_sort_key)
    header = ["model", "regime", "dtype", "data sets", "median s", "rounds", "IQR s", "fits/s",
              "compile s", "GFLOP/s", "GB/s", "% roofline", "lane eff."]
    fields = (("fits_per_s", RATE), ("compile_s", SECONDS), ("gflops", FLOAT2),
              ("gbps", FLOAT2), ("roofline_pct", FLOAT1), ("lane_efficiency", SHARE))
    return Table(header, [[*_identity(c), cell(c, "n_datasets", COUNT), cell(c, "seconds", SECONDS),
                           *rounds_spread(c), *(cell(c, f, fmt) for f, fmt in fields)]
                          for c in fits])


def ours_cells(ours: CaseRecord | None, theirs: CaseRecord) -> list[Sentence]:
    """Our fits/s (dtype), our converged % / separated %, and our speed over theirs."""
    if ours is None:
        return [Sentence(f"{DASH} ({DASH})"), Sentence(f"{DASH} / {DASH}"), Sentence(DASH)]
    speedup = (speed_ratio(ours, theirs)
               if positive(ours.fits_per_s) and positive(theirs.fits_per_s) else None)
    return [Sentence("{} ({})", quote(ours, "fits_per_s", RATE), quote(ours, "dtype", TEXT)),
            Sentence("{} / {}", quote(ours, "converged_frac", SHARE),
                     quote(ours, "separated_frac", SHARE)),
            Sentence(DASH) if speedup is None else speedup]


def baseline_table(cases: list[CaseRecord]) -> Table:
    """The reference libraries, each beside the case of ours it compares with."""
    header = ["library", "model", "regime", "data sets fitted", "their fits/s",
              "their converged %", "our fits/s (dtype)", "our converged % / separated %",
              f"speedup ({LEVEL:.0%} CI)"]
    rows = [[cell(m.baseline, "baseline"), cell(m.baseline, "model"), cell(m.baseline, "regime"),
             cell(m.baseline, "n_datasets", COUNT), cell(m.baseline, "fits_per_s", RATE),
             cell(m.baseline, "converged_frac", SHARE), *ours_cells(m.ours, m.baseline)]
            for m in speedups(cases)]
    return Table(header, rows)


def scaling_table(cases: list[CaseRecord]) -> Table:
    """Fits per second against the number of data sets (``kind == "scaling"``)."""
    sweep = sorted((c for c in cases if c.kind == SCALING), key=case_sort_key)
    header = ["model", "regime", "dtype", "data sets", "median s", "fits/s", "converged %"]
    fields = (("n_datasets", COUNT), ("seconds", SECONDS), ("fits_per_s", RATE),
              ("converged_frac", SHARE))
    return Table(header, [_identity(c) + [cell(c, f, fmt) for f, fmt in fields] for c in sweep])
