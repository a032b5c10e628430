"""The tables of a published run, as markdown lines (through tabulate), and plain-text tables.

Rows and columns follow the catalog's order; every cell goes through :mod:`.formats`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tabulate import tabulate

from bench import catalog
from bench.formats import (
    DASH,
    dtype_short,
    fmt_accuracy,
    fmt_count,
    fmt_float,
    fmt_loss,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    missing,
)
from bench.record import CEILINGS, FIT, SCALING, CaseRecord
from bench.report.matching import case_sort_key, models_in, speedups

__all__ = ["markdown_table", "text_table", "convergence_tables", "speed_table",
           "baseline_table", "scaling_table", "ceilings_line", "statuses", "lp_shares"]


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


def statuses(case: CaseRecord) -> str:
    """The non-zero status counts of a case, ``"max_iter 3, separated 1"``."""
    counts = case.status_counts or {}
    text = ", ".join(f"{name} {count}" for name, count in counts.items() if count)
    return text or DASH


def _mean_q10(mean, q10) -> str:
    if missing(mean):
        return DASH
    return f"{fmt_accuracy(mean)} ({fmt_accuracy(q10)})"


def lp_shares(case: CaseRecord) -> str:
    """``"complete % / quasi %"`` of the linear program's verdict, and undecided if any."""
    if missing(case.lp_complete_frac):
        return DASH
    text = f"{fmt_pct(case.lp_complete_frac)} / {fmt_pct(case.lp_quasi_frac)}"
    if case.lp_undecided_frac:
        text += f" ({fmt_pct(case.lp_undecided_frac)} undecided)"
    return text


def _convergence_rows(model: str, columns: list[CaseRecord]) -> list[list[str]]:
    def row(label, render):
        return [label, *(render(case) for case in columns)]

    entry = catalog.model(model)
    family = catalog.family(entry.family)
    budget = next((c.max_iter for c in columns if c.max_iter is not None), None)
    rows = [
        row("data sets", lambda c: fmt_count(c.n_datasets)),
        row("converged %", lambda c: fmt_pct(c.converged_frac)),
    ]
    if family.separation_flag or any(c.separated_frac for c in columns):
        rows.append(row("separated %", lambda c: fmt_pct(c.separated_frac)))
    if any(not missing(c.lp_complete_frac) for c in columns):
        rows.append(row("LP: complete / quasi %", lp_shares))
        if family.mistake_bound:
            rows.append(row("converged % of LP-complete",
                            lambda c: fmt_pct(c.converged_on_complete_frac)))
        if family.verdict_status is not None and family.verdict_status(entry.settings):
            rows.append(row("status = LP verdict %",
                            lambda c: fmt_pct(c.separated_agrees_frac)))
    rows += [
        row("statuses", statuses),
        row("non-finite %", lambda c: fmt_pct(c.nan_frac)),
        row(f"{family.iteration_unit} median / p90 / max (budget {budget})",
            lambda c: " / ".join(fmt_count(v) for v in (c.n_iter_median, c.n_iter_p90,
                                                         c.n_iter_max))),
        row("train accuracy mean (q10)",
            lambda c: _mean_q10(c.train_accuracy_mean, c.train_accuracy_q10)),
        row("test accuracy mean (q10)",
            lambda c: _mean_q10(c.test_accuracy_mean, c.test_accuracy_q10)),
        row(f"final {family.loss_name} median (mean)",
            lambda c: f"{fmt_loss(c.final_loss_median)} ({fmt_loss(c.final_loss_mean)})"),
    ]
    if family.replayed_rule:
        rows.append(row(f"{family.replayed_rule} would stop % (median step)",
                        lambda c: f"{fmt_pct(c.replay_stop_frac)} "
                                  f"({fmt_count(c.replay_stop_median)})"))
    if family.mistake_bound:
        rows += [
            row("mean n_updates", lambda c: fmt_count(c.n_updates_mean)),
            row("max n_updates / (R/γ)²", lambda c: fmt_loss(c.novikoff_max_ratio)),
        ]
    return rows


def convergence_tables(cases: list[CaseRecord]) -> list[str]:
    """One markdown table per model: metrics down, (regime, dtype) across."""
    fits = [c for c in cases if c.kind == FIT]
    lines: list[str] = []
    for model in models_in(fits):
        columns = sorted((c for c in fits if c.model == model), key=case_sort_key)
        label = columns[0].model_label or model
        header = [f"{model}: {label}",
                  *(f"{c.regime} {dtype_short(c.dtype)}" for c in columns)]
        lines += [f"### {model}", "", *markdown_table(header, _convergence_rows(model, columns)),
                  ""]
    return lines


def ceilings_line(cases: list[CaseRecord], measured: dict | None = None) -> list[str]:
    """The machine's measured ceilings, as a sentence.

    Args:
        cases: the run's rows; its ``kind == "ceilings"`` row is used if it has one.
        measured: the ceilings the session measured (``RunRecord.ceilings``), for a run
            whose ceilings row was not selected but whose fits used them.
    """
    rows = [c for c in cases if c.kind == CEILINGS]
    if rows:
        c, where = rows[0], "Ceilings measured in this run"
    elif measured and any(not missing(c.roofline_pct) for c in cases):
        c = CaseRecord(kind=CEILINGS, model="machine", **measured)
        where = ("Ceilings measured in this run (for the % roofline of its fits; its "
                 "ceilings row was not selected)")
    else:
        return ["The run has no ceilings row, so no % of roofline is given."]
    return [f"{where}: a {c.matmul_size}² matmul at "
            f"{fmt_float(c.matmul_gflops_float64)} GFLOP/s (float64) and "
            f"{fmt_float(c.matmul_gflops_float32)} GFLOP/s (float32); a "
            f"{c.copy_mib} MiB copy at {fmt_float(c.copy_gbps)} GB/s. "
            "GFLOP/s and GB/s of a case are analytic counts of the work of the iterations "
            "that ran (`bench/roofline.py`) over its median time; % roofline is that over "
            "min(peak GFLOP/s, FLOPs per byte × copy GB/s)."]


def speed_table(cases: list[CaseRecord]) -> list[str]:
    """Ours: one row per ``kind == "fit"`` case."""
    fits = sorted((c for c in cases if c.kind == FIT), key=case_sort_key)
    header = ["model", "regime", "dtype", "data sets", "median s", "fits/s", "compile s",
              "GFLOP/s", "GB/s", "% roofline", "lane eff."]
    rows = [[c.model, c.regime, c.dtype, fmt_count(c.n_datasets), fmt_seconds(c.seconds),
             fmt_rate(c.fits_per_s), fmt_seconds(c.compile_s), fmt_float(c.gflops, 2),
             fmt_float(c.gbps, 2), fmt_float(c.roofline_pct, 1), fmt_pct(c.lane_efficiency)]
            for c in fits]
    return markdown_table(header, rows)


def baseline_table(cases: list[CaseRecord]) -> list[str]:
    """The reference libraries, each beside the case of ours it compares with."""
    header = ["library", "model", "regime", "data sets fitted", "their fits/s",
              "their converged %", "our fits/s (dtype)", "our converged % / separated %",
              "speedup"]
    rows = []
    for match in speedups(cases):
        theirs, ours = match.baseline, match.ours
        rows.append([
            theirs.baseline, theirs.model, theirs.regime, fmt_count(theirs.n_datasets),
            fmt_rate(theirs.fits_per_s), fmt_pct(theirs.converged_frac),
            f"{fmt_rate(ours and ours.fits_per_s)} ({ours.dtype if ours else DASH})",
            f"{fmt_pct(ours and ours.converged_frac)} / "
            f"{fmt_pct(ours and ours.separated_frac)}",
            fmt_ratio(match.speedup),
        ])
    return markdown_table(header, rows)


def scaling_table(cases: list[CaseRecord]) -> list[str]:
    """Fits per second against the number of data sets (``kind == "scaling"``)."""
    sweep = sorted((c for c in cases if c.kind == SCALING), key=case_sort_key)
    header = ["model", "regime", "dtype", "data sets", "median s", "fits/s", "converged %"]
    rows = [[c.model, c.regime, c.dtype, fmt_count(c.n_datasets), fmt_seconds(c.seconds),
             fmt_rate(c.fits_per_s), fmt_pct(c.converged_frac)] for c in sweep]
    return markdown_table(header, rows)
