"""Publish one benchmark run: pytest-benchmark's JSON in, a ``results/<run>/`` folder out.

:func:`publish` reads the JSON that ``pytest --benchmark`` wrote and builds

``results/<date>-<device>-<host id>/``
    ``README.md``
        machine, software versions, commit, the exact command and preset; a convergence table
        per model with the regimes side by side; the speed tables (fits per second, compile
        time, speedup over each reference library); and sentences that read the numbers,
        every one generated from the data.
    ``summary.csv``
        one row per case (ours and the reference libraries), the scalar fields.
    ``benchmark.json``
        the pytest-benchmark JSON, with the host name replaced by its hashed id.
    ``run.json``
        the run's metadata, from which ``results/README.md`` (the index) is regenerated.
    ``*.png``
        the plots of :mod:`bench.plots` (skipped, and said so, without matplotlib).

``<date>`` is the run's date (``YYYY-MM-DD``), ``<device>`` the JAX device kind as a slug
(``cpu``, ``nvidia-h200``), ``<host id>`` the first 8 hex digits of the SHA-256 of the host
name, so that no host name is published. A run folder is never overwritten: when the name is
taken, the run goes to ``<name>-2``, ``<name>-3``, ... The folder is built in
``results/.tmp-*`` and renamed into place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import json
import math
import os
import pathlib
import re
import secrets
import shutil
from collections.abc import Iterable
from typing import NamedTuple

from bench._vocabulary import ITERATION_UNIT, LOSS_NAME, family_of

__all__ = [
    "PublishError",
    "publish",
    "load_run",
    "run_cases",
    "write_atomically",
    "run_metadata",
    "matched_ours",
    "speedups",
    "Speedup",
    "summary_rows",
    "reading_sentences",
    "render_readme",
    "write_index",
]

#: Models and regimes in the order the tables show them (unknown names follow, as found).
MODEL_ORDER = ("perceptron", "glm", "glm_firth", "glm_poisson", "glm_gamma", "mlp0", "mlp8")
REGIME_ORDER = ("separable", "overlap", "xor", "circles", "poisson", "gamma", "gaussian")
#: The fields that identify a case (the key :mod:`bench.compare` matches on).
CASE_KEY_FIELDS = ("kind", "model", "regime", "dtype", "n_datasets", "baseline")
#: Where the raw run goes in a run folder, and where its metadata goes.
BENCHMARK_JSON = "benchmark.json"
RUN_JSON = "run.json"
SUMMARY_CSV = "summary.csv"
README = "README.md"
TMP_PREFIX = ".tmp-"

_HOW_TO_GET_A_RUN = (
    "run `pytest --benchmark` (it writes .benchmarks/glmnn-<preset>-<stamp>.json) and pass "
    "that file"
)


class PublishError(ValueError):
    """A run file that cannot be published or compared; the message says what to change."""


# --------------------------------------------------------------------------- reading a run


def load_run(json_path: str | os.PathLike) -> dict:
    """Read and check a pytest-benchmark JSON written by ``pytest --benchmark``.

    Args:
        json_path: the JSON file.

    Returns:
        The parsed JSON (a dict with at least a non-empty ``benchmarks`` list).

    Raises:
        PublishError: the file is missing, not JSON, or holds no benchmark results.
    """
    path = pathlib.Path(json_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PublishError(f"{path}: no such file; {_HOW_TO_GET_A_RUN}.") from None
    except IsADirectoryError:
        raise PublishError(f"{path} is a folder; pass the run's JSON file inside it.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PublishError(f"{path}: cannot be read ({error}); {_HOW_TO_GET_A_RUN}.") from None
    try:
        run = json.loads(text)
    except json.JSONDecodeError as error:
        raise PublishError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}); the file is probably truncated: {_HOW_TO_GET_A_RUN}."
        ) from None
    benchmarks = run.get("benchmarks") if isinstance(run, dict) else None
    if not isinstance(benchmarks, list) or not benchmarks:
        raise PublishError(
            f"{path}: holds no benchmark results ('benchmarks' is missing or empty); "
            f"{_HOW_TO_GET_A_RUN}, from a run in which the benchmarks ran."
        )
    if not run_cases(run):
        raise PublishError(
            f"{path}: no benchmark carries glmnn-bench's extra_info (a 'kind' field); "
            "it is not a glmnn-bench run: run `pytest --benchmark` in this project."
        )
    return run


def run_cases(run: dict) -> list[dict]:
    """The run's cases: each benchmark's ``extra_info``, with its pytest ``name``.

    Benchmarks without glmnn-bench ``extra_info`` (no ``kind``) are left out. A case without
    a ``seconds`` field (the data-generation rows) gets pytest-benchmark's median round time.
    """
    cases = []
    for benchmark in run.get("benchmarks", []):
        if not isinstance(benchmark, dict):
            continue
        info = benchmark.get("extra_info")
        if not isinstance(info, dict) or "kind" not in info:
            continue
        case = dict(info)
        case.setdefault("name", benchmark.get("name"))
        if case.get("seconds") is None:
            case["seconds"] = (benchmark.get("stats") or {}).get("median")
        cases.append(case)
    return cases


def _machine(run: dict) -> dict:
    return (run.get("machine_info") or {}).get("glmnn") or {}


def _first(cases: list[dict], field: str):
    return next((case[field] for case in cases if case.get(field) is not None), None)


def device_slug(device_kind: str | None) -> str:
    """``"NVIDIA H200"`` -> ``"nvidia-h200"``; ``None`` -> ``"unknown"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", (device_kind or "").lower()).strip("-")
    return slug or "unknown"


def host_id(node: str | None) -> str:
    """First 8 hex digits of the SHA-256 of the host name: stable, and not the name."""
    return hashlib.sha256((node or "").encode("utf-8")).hexdigest()[:8]


def _run_date(run: dict) -> dt.datetime:
    stamp = run.get("datetime")
    try:
        return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        raise PublishError(
            f"the run has no valid 'datetime' ({stamp!r}); pytest-benchmark writes one: "
            f"{_HOW_TO_GET_A_RUN}."
        ) from None


def _case_counts(cases: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["kind"]] = counts.get(case["kind"], 0) + 1
    return counts


def run_metadata(run: dict, cases: list[dict] | None = None) -> dict:
    """What the index needs to know about a run (written to the run folder's ``run.json``).

    Returns:
        ``date`` (YYYY-MM-DD), ``datetime``, ``device_kind``, ``device`` (slug),
        ``device_count``, ``backend``, ``host_id``, ``preset``, ``command``, ``timed``,
        ``commit`` ``{id, dirty}`` and ``case_counts`` ``{kind: count}``.
    """
    cases = run_cases(run) if cases is None else cases
    machine, glmnn = _machine(run), run.get("glmnn") or {}
    commit = machine.get("git_commit") or run.get("commit_info") or {}
    device_kind = machine.get("device_kind") or _first(cases, "device_kind")
    timed = glmnn.get("timed")
    if timed is None:
        timed = all(case.get("timed", True) for case in cases)
    when = _run_date(run)
    return {
        "date": when.date().isoformat(),
        "datetime": when.isoformat(),
        "device_kind": device_kind,
        "device": device_slug(device_kind),
        "device_count": machine.get("device_count") or _first(cases, "device_count"),
        "backend": machine.get("backend") or _first(cases, "backend"),
        "host_id": host_id((run.get("machine_info") or {}).get("node")),
        "preset": glmnn.get("preset") or _first(cases, "preset"),
        "command": glmnn.get("command"),
        "timed": bool(timed),
        "commit": {"id": commit.get("id"), "dirty": commit.get("dirty")},
        "case_counts": _case_counts(cases),
    }


def default_folder_name(meta: dict) -> str:
    """``<date>-<device>-<host id>``, e.g. ``2026-11-28-cpu-1a2b3c4d``."""
    return f"{meta['date']}-{meta['device']}-{meta['host_id']}"


# --------------------------------------------------------------------------- matching cases


def _order(value, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(value), "") if value in order else (len(order), str(value))


def _case_sort_key(case: dict):
    return (_order(case.get("model"), MODEL_ORDER), _order(case.get("regime"), REGIME_ORDER),
            str(case.get("dtype")), case.get("n_datasets") or 0, str(case.get("baseline")))


def matched_ours(cases: list[dict], model: str, regime: str) -> dict | None:
    """Our ``kind == "fit"`` case for (model, regime): float64 if there is one, else float32."""
    candidates = [c for c in cases
                  if c["kind"] == "fit" and c.get("model") == model and c.get("regime") == regime]
    for dtype in ("float64", "float32"):
        for case in candidates:
            if case.get("dtype") == dtype:
                return case
    return candidates[0] if candidates else None


class Speedup(NamedTuple):
    """A reference library's case, ours that it compares with, and ours / theirs fits/s."""

    baseline: dict
    ours: dict | None
    speedup: float | None


def speedups(cases: list[dict]) -> list[Speedup]:
    """One :class:`Speedup` per baseline case (``ours`` is None when we have no such case)."""
    out = []
    for case in sorted((c for c in cases if c["kind"] == "baseline"), key=_case_sort_key):
        ours = matched_ours(cases, case.get("model"), case.get("regime"))
        ratio = None
        if ours is not None and _positive(ours.get("fits_per_s")) and _positive(
                case.get("fits_per_s")):
            ratio = ours["fits_per_s"] / case["fits_per_s"]
        out.append(Speedup(case, ours, ratio))
    return out


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


# --------------------------------------------------------------------------- summary.csv

_LEADING_COLUMNS = ("name", *CASE_KEY_FIELDS)


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def summary_rows(cases: list[dict]) -> tuple[list[str], list[dict]]:
    """The columns and rows of ``summary.csv``.

    Every scalar field of every case, one row per case. ``status_counts`` is spread into
    ``status_<name>`` columns; a baseline row also gets ``ours_dtype``, ``ours_fits_per_s``
    and ``speedup`` (ours / theirs fits per second). Lists (the histories) are left out.
    """
    by_baseline = {id(s.baseline): s for s in speedups(cases)}
    rows, columns = [], list(_LEADING_COLUMNS)
    for case in cases:
        row = {key: value for key, value in case.items() if _is_scalar(value)}
        for status, count in (case.get("status_counts") or {}).items():
            row[f"status_{status}"] = count
        match = by_baseline.get(id(case))
        if match is not None:
            row["ours_dtype"] = match.ours.get("dtype") if match.ours else None
            row["ours_fits_per_s"] = match.ours.get("fits_per_s") if match.ours else None
            row["speedup"] = match.speedup
        columns.extend(key for key in row if key not in columns)
        rows.append(row)
    return columns, rows


def write_summary_csv(path: pathlib.Path, cases: list[dict]) -> None:
    """Write ``summary.csv`` (floats at full precision, None as an empty cell)."""
    columns, rows = summary_rows(cases)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})


# --------------------------------------------------------------------------- number formats


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_pct(fraction) -> str:
    """A fraction as a percentage: ``0.375`` -> ``"37.5"``, ``1.0`` -> ``"100"``."""
    return "–" if _missing(fraction) else _trim(f"{100 * fraction:.1f}")


def fmt_accuracy(value) -> str:
    """An accuracy with three decimals."""
    return "–" if _missing(value) else f"{value:.3f}"


def fmt_loss(value) -> str:
    """A loss with four significant digits."""
    return "–" if _missing(value) else f"{value:.4g}"


def fmt_count(value) -> str:
    """An iteration count: integers as such, others with one decimal."""
    return "–" if _missing(value) else _trim(f"{value:.1f}")


def fmt_rate(value) -> str:
    """Fits per second: thousands separated, three significant digits below 100."""
    if _missing(value):
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def fmt_seconds(value) -> str:
    """Seconds with three significant digits."""
    return "–" if _missing(value) else f"{value:.3g}"


def fmt_ratio(value) -> str:
    """A speed ratio: ``5322.6`` -> ``"5,323×"``, ``6.94`` -> ``"6.94×"``."""
    if _missing(value):
        return "–"
    return f"{value:,.0f}×" if value >= 1000 else f"{value:.3g}×"


def _dtype_short(dtype) -> str:
    return {"float32": "f32", "float64": "f64"}.get(dtype, str(dtype))


# --------------------------------------------------------------------------- README tables


def _markdown_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows)]


def _iteration_unit(model: str) -> str:
    return ITERATION_UNIT[family_of(model)]


def _loss_name(model: str) -> str:
    return LOSS_NAME[family_of(model)]


def _statuses(case: dict) -> str:
    counts = case.get("status_counts") or {}
    text = ", ".join(f"{name} {count}" for name, count in counts.items() if count)
    return text or "–"


def _convergence_rows(model: str, columns: list[dict]) -> list[list[str]]:
    def row(label, render):
        return [label, *(render(case) for case in columns)]

    budget = _first(columns, "max_iter")
    unit = _iteration_unit(model)
    rows = [
        row("data sets", lambda c: fmt_count(c.get("n_datasets"))),
        row("converged %", lambda c: fmt_pct(c.get("converged_frac"))),
    ]
    if model.startswith("glm") or any(c.get("separated_frac") for c in columns):
        rows.append(row("separated %", lambda c: fmt_pct(c.get("separated_frac"))))
    rows += [
        row("statuses", _statuses),
        row("non-finite %", lambda c: fmt_pct(c.get("nan_frac"))),
        row(f"{unit} median / p90 / max (budget {budget})",
            lambda c: " / ".join(fmt_count(c.get(f"n_iter_{q}")) for q in ("median", "p90",
                                                                             "max"))),
        row("train accuracy mean (q10)", lambda c: _mean_q10(c, "train_accuracy")),
        row("test accuracy mean (q10)", lambda c: _mean_q10(c, "test_accuracy")),
        row(f"final {_loss_name(model)} median (mean)",
            lambda c: f"{fmt_loss(c.get('final_loss_median'))} "
                      f"({fmt_loss(c.get('final_loss_mean'))})"),
    ]
    if model == "perceptron":
        rows += [
            row("mean n_updates", lambda c: fmt_count(c.get("n_updates_mean"))),
            row("max n_updates / (R/γ)²", lambda c: fmt_loss(c.get("novikoff_max_ratio"))),
        ]
    return rows


def _mean_q10(case: dict, field: str) -> str:
    mean, q10 = case.get(f"{field}_mean"), case.get(f"{field}_q10")
    if _missing(mean):
        return "–"
    return f"{fmt_accuracy(mean)} ({fmt_accuracy(q10)})"


def _models_in(cases: list[dict]) -> list[str]:
    return sorted({c.get("model") for c in cases}, key=lambda m: _order(m, MODEL_ORDER))


def convergence_tables(cases: list[dict]) -> list[str]:
    """One markdown table per model: metrics down, (regime, dtype) across."""
    fits = [c for c in cases if c["kind"] == "fit"]
    lines: list[str] = []
    for model in _models_in(fits):
        columns = sorted((c for c in fits if c.get("model") == model), key=_case_sort_key)
        label = columns[0].get("model_label") or model
        header = [f"{model}: {label}",
                  *(f"{c.get('regime')} {_dtype_short(c.get('dtype'))}" for c in columns)]
        lines += [f"### {model}", "", *_markdown_table(header, _convergence_rows(model, columns)),
                  ""]
    return lines


def _fmt_float(value, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{value:,.{digits}f}"


def ceilings_line(cases: list[dict]) -> list[str]:
    """The machine's measured ceilings (the ``kind == "ceilings"`` row), as a sentence."""
    rows = [c for c in cases if c["kind"] == "ceilings"]
    if not rows:
        return ["The run has no ceilings row, so no % of roofline is given."]
    c = rows[0]
    return [f"Ceilings measured in this run: a {c.get('matmul_size')}² matmul at "
            f"{_fmt_float(c.get('matmul_gflops_float64'))} GFLOP/s (float64) and "
            f"{_fmt_float(c.get('matmul_gflops_float32'))} GFLOP/s (float32); a "
            f"{c.get('copy_mib')} MiB copy at {_fmt_float(c.get('copy_gbps'))} GB/s. "
            "GFLOP/s and GB/s of a case are analytic counts of the work of the iterations "
            "that ran (`bench/roofline.py`) over its median time; % roofline is that over "
            "min(peak GFLOP/s, FLOPs per byte × copy GB/s)."]


def speed_table(cases: list[dict]) -> list[str]:
    """Ours: one row per ``kind == "fit"`` case."""
    fits = sorted((c for c in cases if c["kind"] == "fit"), key=_case_sort_key)
    header = ["model", "regime", "dtype", "data sets", "median s", "fits/s", "compile s",
              "GFLOP/s", "GB/s", "% roofline", "lane eff."]
    rows = [[c.get("model"), c.get("regime"), c.get("dtype"), fmt_count(c.get("n_datasets")),
             fmt_seconds(c.get("seconds")), fmt_rate(c.get("fits_per_s")),
             fmt_seconds(c.get("compile_s")), _fmt_float(c.get("gflops"), 2),
             _fmt_float(c.get("gbps"), 2), _fmt_float(c.get("roofline_pct"), 1),
             fmt_pct(c.get("lane_efficiency"))] for c in fits]
    return _markdown_table(header, rows)


def baseline_table(cases: list[dict]) -> list[str]:
    """The reference libraries, each beside the case of ours it compares with."""
    header = ["library", "model", "regime", "data sets fitted", "their fits/s",
              "their converged %", "our fits/s (dtype)", "our converged % / separated %",
              "speedup"]
    rows = []
    for match in speedups(cases):
        theirs, ours = match.baseline, match.ours or {}
        rows.append([
            theirs.get("baseline"), theirs.get("model"), theirs.get("regime"),
            fmt_count(theirs.get("n_datasets")), fmt_rate(theirs.get("fits_per_s")),
            fmt_pct(theirs.get("converged_frac")),
            f"{fmt_rate(ours.get('fits_per_s'))} ({ours.get('dtype', '–')})",
            f"{fmt_pct(ours.get('converged_frac'))} / {fmt_pct(ours.get('separated_frac'))}",
            fmt_ratio(match.speedup),
        ])
    return _markdown_table(header, rows)


def scaling_table(cases: list[dict]) -> list[str]:
    """Fits per second against the number of data sets (``kind == "scaling"``)."""
    sweep = sorted((c for c in cases if c["kind"] == "scaling"), key=_case_sort_key)
    header = ["model", "regime", "dtype", "data sets", "median s", "fits/s", "converged %"]
    rows = [[c.get("model"), c.get("regime"), c.get("dtype"), fmt_count(c.get("n_datasets")),
             fmt_seconds(c.get("seconds")), fmt_rate(c.get("fits_per_s")),
             fmt_pct(c.get("converged_frac"))] for c in sweep]
    return _markdown_table(header, rows)


# --------------------------------------------------------------------------- reading sentences


def _fit(cases: list[dict], model: str, regime: str) -> dict | None:
    return matched_ours(cases, model, regime)


def _pct_word(fraction) -> str:
    return f"{fmt_pct(fraction)}%"


def _perceptron_convergence(cases: list[dict]) -> str | None:
    separable = _fit(cases, "perceptron", "separable")
    others = [(regime, _fit(cases, "perceptron", regime))
              for regime in ("overlap", "xor", "circles")]
    others = [(regime, case) for regime, case in others if case is not None]
    if separable is None or not others:
        return None
    parts = ", ".join(f"{_pct_word(case['converged_frac'])} of {regime}"
                      for regime, case in others)
    sentence = (f"The perceptron converged on {_pct_word(separable['converged_frac'])} of "
                f"separable data sets and on {parts} data sets")
    best_other = max(case["converged_frac"] for _, case in others)
    if separable["converged_frac"] > best_other:
        sentence += (": it stops only when a separating line exists, as Rosenblatt's "
                     "convergence theorem says")
    else:
        sentence += (": it converged no more often on separable data than elsewhere, which "
                     "is not what the convergence theorem predicts")
    budget_out = 1 - separable["converged_frac"]
    if budget_out > 0:
        sentence += (f"; {_pct_word(budget_out)} of separable data sets ran out of the "
                     f"{separable.get('max_iter')}-epoch budget")
    return sentence + "."


def _novikoff(cases: list[dict]) -> str | None:
    separable = _fit(cases, "perceptron", "separable")
    ratio = None if separable is None else separable.get("novikoff_max_ratio")
    if _missing(ratio):
        return None
    if ratio <= 1:
        sentence = (f"No separable data set needed more perceptron updates than Novikoff's "
                    f"bound (R/γ)²: the largest ratio n_updates / (R/γ)² was {ratio:.3g}")
        if 0 < ratio < 0.5:
            sentence += f", so the worst case used {_pct_word(ratio)} of the bound"
        return sentence + "."
    return (f"At least one separable data set needed more perceptron updates than Novikoff's "
            f"bound (R/γ)² allows (largest ratio {ratio:.3g} > 1): either the perceptron or "
            "the margin used for the bound is wrong.")


def _separation(cases: list[dict]) -> str | None:
    glm = _fit(cases, "glm", "separable")
    if glm is None:
        return None
    separated, converged = glm.get("separated_frac") or 0.0, glm.get("converged_frac") or 0.0
    sentence = (f"On separable data, where no finite maximum-likelihood estimate exists, our "
                f"IRLS GLM ({glm.get('dtype')}) reported separation on "
                f"{_pct_word(separated)} of data sets and convergence on "
                f"{_pct_word(converged)}")
    if separated >= 0.999:
        sentence += ": every one was detected"
    elif separated == 0:
        sentence += ": the separation check detected none of them"
    else:
        sentence += f" (statuses: {_statuses(glm)})"
    return sentence + "."


def _baseline_on_separable(cases: list[dict]) -> list[str]:
    sentences = []
    for match in speedups(cases):
        theirs, ours = match.baseline, match.ours
        if (theirs.get("regime") != "separable" or ours is None
                or _missing(theirs.get("converged_frac"))
                or _missing(ours.get("separated_frac"))
                or not str(ours.get("model", "")).startswith("glm")):
            continue
        reported, separated = theirs["converged_frac"], ours["separated_frac"]
        sentence = (f"{theirs.get('baseline')} reported converged=True on "
                    f"{_pct_word(reported)} of the {theirs.get('n_datasets')} separable data "
                    f"sets it fitted, where we report separation on {_pct_word(separated)} "
                    f"of all {ours.get('n_datasets')}")
        if reported > 0 and separated > 0:
            sentence += ": its convergence flag does not warn that the coefficients diverge"
        elif reported == 0:
            sentence += ": it did not claim convergence there"
        sentences.append(sentence + ".")
    return sentences


def _firth(cases: list[dict]) -> str | None:
    firth, glm = _fit(cases, "glm_firth", "separable"), _fit(cases, "glm", "separable")
    if firth is None:
        return None
    sentence = (f"Firth's penalised likelihood converged on "
                f"{_pct_word(firth.get('converged_frac'))} of separable data sets")
    if glm is not None:
        sentence += (f", where plain IRLS reported separation on "
                     f"{_pct_word(glm.get('separated_frac'))}")
        if (firth.get("converged_frac") or 0) > (glm.get("converged_frac") or 0):
            sentence += ": the penalty gives the estimate a finite value there"
        else:
            sentence += ": the penalty did not help it converge more often"
    return sentence + "."


def _overlap(cases: list[dict]) -> str | None:
    glm = _fit(cases, "glm", "overlap")
    if glm is None:
        return None
    sentence = (f"On overlap data (labels drawn from the logistic model) the GLM converged on "
                f"{_pct_word(glm.get('converged_frac'))} of data sets in a median of "
                f"{fmt_count(glm.get('n_iter_median'))} IRLS iterations (p90 "
                f"{fmt_count(glm.get('n_iter_p90'))}, max {fmt_count(glm.get('n_iter_max'))})")
    mlp0 = _fit(cases, "mlp0", "overlap")
    if mlp0 is not None:
        sentence += (f"; the same model trained by gradient steps (mlp0) converged on "
                     f"{_pct_word(mlp0.get('converged_frac'))} within its "
                     f"{mlp0.get('max_iter')}-step budget (median "
                     f"{fmt_count(mlp0.get('n_iter_median'))} steps)")
    perceptron = _fit(cases, "perceptron", "overlap")
    if perceptron is not None:
        sentence += (f", and the perceptron on {_pct_word(perceptron.get('converged_frac'))} "
                     f"within {perceptron.get('max_iter')} epochs")
    return sentence + "."


def _curved_boundaries(cases: list[dict]) -> list[str]:
    sentences = []
    for regime in ("xor", "circles"):
        mlp, glm = _fit(cases, "mlp8", regime), _fit(cases, "glm", regime)
        if mlp is None or glm is None or _missing(mlp.get("train_accuracy_mean")) or _missing(
                glm.get("train_accuracy_mean")):
            continue
        gap = mlp["train_accuracy_mean"] - glm["train_accuracy_mean"]
        sentence = (f"On {regime} the MLP with a hidden layer reached "
                    f"{fmt_accuracy(mlp['train_accuracy_mean'])} mean train accuracy "
                    f"({fmt_accuracy(mlp.get('test_accuracy_mean'))} test) vs "
                    f"{fmt_accuracy(glm['train_accuracy_mean'])} "
                    f"({fmt_accuracy(glm.get('test_accuracy_mean'))}) for the GLM")
        if gap >= 0.05:
            sentence += ": the hidden layer lets it draw a curved boundary that a line cannot"
        elif gap <= -0.05:
            sentence += (f": the GLM did better, which the theory does not predict (the MLP "
                         f"may be under-trained at {mlp.get('max_iter')} steps)")
        else:
            sentence += (f": no real difference (within 0.05; the MLP had "
                         f"{mlp.get('max_iter')} steps and may need more)")
        sentences.append(sentence + ".")
    return sentences


def _speed(cases: list[dict], timed: bool) -> list[str]:
    by_library: dict[str, list[Speedup]] = {}
    for match in speedups(cases):
        if match.speedup is not None:
            by_library.setdefault(match.baseline.get("baseline"), []).append(match)
    sentences = []
    for library, matches in by_library.items():
        low = min(matches, key=lambda m: m.speedup)
        high = max(matches, key=lambda m: m.speedup)
        faster = sum(m.speedup > 1 for m in matches)
        if faster == len(matches):
            verdict = "ours was faster in every case"
        elif faster == 0:
            verdict = "ours was slower in every case"
        else:
            verdict = f"ours was faster in {faster} of {len(matches)} cases"
        span = (f"{fmt_ratio(low.speedup)} ({_case_name(low.baseline)})" if low is high
                else f"from {fmt_ratio(low.speedup)} ({_case_name(low.baseline)}) to "
                     f"{fmt_ratio(high.speedup)} ({_case_name(high.baseline)})")
        sentences.append(
            f"Against {library}, which fits one data set at a time, our fits per second "
            f"ranged {span} of its own: {verdict}."
        )
    if sentences and not timed:
        sentences.append("Timing was disabled in this run, so these speeds are from single "
                         "untimed calls, not measurements.")
    return sentences


def _case_name(case: dict) -> str:
    return f"{case.get('model')} on {case.get('regime')}"


def _scaling(cases: list[dict]) -> list[str]:
    sentences = []
    sweep = [c for c in cases if c["kind"] == "scaling" and _positive(c.get("fits_per_s"))]
    for model in _models_in(sweep):
        points = sorted((c for c in sweep if c.get("model") == model),
                        key=lambda c: c.get("n_datasets") or 0)
        if len(points) < 2:
            continue
        first, last = points[0], points[-1]
        factor = last["fits_per_s"] / first["fits_per_s"]
        trend = "grew" if factor > 1 else "fell"
        sentences.append(
            f"Throughput of {model} ({first.get('regime')}, {first.get('dtype')}) {trend} from "
            f"{fmt_rate(first['fits_per_s'])} fits/s at {first.get('n_datasets')} data sets "
            f"to {fmt_rate(last['fits_per_s'])} at {last.get('n_datasets')} "
            f"({fmt_ratio(factor)})."
        )
    return sentences


def _nonfinite(cases: list[dict]) -> str | None:
    ours = [c for c in cases if c["kind"] in ("fit", "scaling")]
    if not ours:
        return None
    bad = [c for c in ours if (c.get("nan_frac") or 0) > 0]
    dressed_up = [c for c in ours if (c.get("nan_converged") or 0) > 0]
    if not bad:
        sentence = "No fit of ours, in any case, ended with non-finite parameters"
    else:
        listed = ", ".join(f"{c.get('model')}/{c.get('regime')}/{c.get('dtype')} "
                           f"({_pct_word(c.get('nan_frac'))})" for c in bad)
        sentence = f"Some fits ended with non-finite parameters: {listed}"
    if dressed_up:
        sentence += (f"; {sum(c['nan_converged'] for c in dressed_up)} of them claimed "
                     "converged=True, which is a bug")
    return sentence + "."


def reading_sentences(cases: list[dict], *, timed: bool = True) -> list[str]:
    """Sentences that read the numbers, each generated from (and conditional on) the data.

    A sentence whose cases are missing from the run is left out.
    """
    sentences: list[str | None] = [
        _perceptron_convergence(cases), _novikoff(cases), _separation(cases),
        *_baseline_on_separable(cases), _firth(cases), _overlap(cases),
        *_curved_boundaries(cases), _nonfinite(cases), *_speed(cases, timed),
        *_scaling(cases),
    ]
    return [s for s in sentences if s]


# --------------------------------------------------------------------------- README


_CONVERGENCE_LEGEND = """\
Each table is one model; each column one regime and dtype (`f32`, `f64`), over all the data
sets of that case. Rows:
- **converged %**: share of data sets whose fit met the model's stopping rule (status
  `converged` or `rank_deficient`).
- **separated %**: share that the binomial GLM flagged as (quasi-)separated: no finite
  maximum-likelihood estimate exists, the last finite iterate is reported.
- **statuses**: how many data sets ended with each non-zero status (`max_iter`: the budget
  ran out).
- **non-finite %**: share of fits whose parameters contain NaN or inf.
- **iterations median / p90 / max**: IRLS iterations (GLMs), epochs (perceptron) or
  gradient steps (MLPs) used, with the budget in the row label.
- **accuracy mean (q10)**: mean over data sets, and the 10th percentile (the worst tenth
  is below it), on the training points and on held-out test points; `–` for Poisson and
  gamma models.
- **final loss median (mean)**: deviance / n (GLMs), mean cross-entropy (MLPs) or
  mistakes / n in the last epoch (perceptron), median (mean) over data sets.
- **max n_updates / (R/γ)²** (perceptron, separable data): the largest ratio, over data
  sets, of the number of updates to Novikoff's bound; the theorem says it is at most 1.
"""

_SPEED_LEGEND = """\
- **median s**: median wall-clock seconds of one timed round that fits all data sets of the
  case (`jit(vmap(fit))` over chunks of data sets, blocked until done), compile time
  excluded.
- **fits/s**: data sets fitted per second (`data sets / median s`).
- **compile s**: one-off ahead-of-time compile time, not in the timing.
- **GFLOP/s, GB/s**: analytic FLOPs and bytes of the iterations that ran, over median s.
- **% roofline**: GFLOP/s over the roofline bound from this run's measured ceilings.
- **lane eff.**: iterations the fits needed / iterations the vmapped loops ran (a chunk runs
  until its slowest fit stops).
- Reference libraries fit a subset of the same data sets one at a time in float64;
  **speedup** = our fits/s (the float64 case when there is one, else float32) / their
  fits/s, so above 1 means ours is faster per fit. **their converged %** is what the
  library itself reports (`–` when it reports nothing).
"""


def _machine_lines(run: dict, meta: dict) -> list[str]:
    machine, info = _machine(run), run.get("machine_info") or {}
    devices = f"{meta['device_kind']} × {meta['device_count']} (JAX backend {meta['backend']})"
    rows = [
        ["device", devices],
        ["CPU", f"{machine.get('cpu_model') or (info.get('cpu') or {}).get('brand_raw')}, "
                f"{machine.get('cpu_count') or (info.get('cpu') or {}).get('count')} cores"],
        ["host id", f"{meta['host_id']} (first 8 hex digits of the SHA-256 of the host name)"],
        ["system", f"{info.get('system', '?')} {info.get('release', '')} "
                   f"{info.get('machine', '')}".strip()],
        ["Python", f"{info.get('python_implementation', '')} "
                   f"{info.get('python_version', '?')}".strip()],
    ]
    for package in ("jax", "jaxlib", "optax", "numpy", "statsmodels", "scikit_learn"):
        rows.append([package.replace("_", "-"), machine.get(package) or "not installed"])
    version = run.get("version") or "?"
    rows.append(["pytest-benchmark", "not used (python -m bench run)"
                 if version == "glmnn-bench run" else version])
    return _markdown_table(["", ""], rows)


def _commit_text(meta: dict) -> str:
    commit = meta["commit"]
    if not commit.get("id"):
        return "unknown (not run from a git checkout)"
    dirty = {True: "dirty: uncommitted changes", False: "clean"}.get(commit.get("dirty"),
                                                                     "dirty flag unknown")
    return f"`{commit['id']}` ({dirty})"


def _preset_text(run: dict, meta: dict) -> str:
    settings = (run.get("glmnn") or {}).get("preset_settings") or {}
    details = ", ".join(f"{key}={value}" for key, value in settings.items() if key != "name")
    return f"`{meta['preset']}`" + (f" ({details})" if details else "")


def render_readme(run: dict, cases: list[dict], meta: dict, plots: list, plot_note: str
                  ) -> str:
    """The run folder's ``README.md``.

    Args:
        run: the parsed pytest-benchmark JSON.
        cases: :func:`run_cases` of it.
        meta: :func:`run_metadata` of it.
        plots: the :class:`bench.plots.Plot` files written beside it.
        plot_note: a line saying why plots are missing, or ``""``.
    """
    timing = ("timed" if meta["timed"] else
              "**not timed** (pytest-benchmark disabled: speeds are single calls)")
    lines = [
        f"# glmnn-bench run: {meta['date']}, {meta['device_kind']}, preset {meta['preset']}",
        "",
        "## What was run",
        "",
        f"- date: {meta['datetime']}",
        f"- command: `{meta['command'] or 'unknown'}`",
        f"- preset: {_preset_text(run, meta)}",
        f"- timing: {timing}",
        f"- commit: {_commit_text(meta)}",
        "- cases: " + ", ".join(f"{n} {kind}" for kind, n in meta["case_counts"].items()),
        "",
        "## Machine and software",
        "",
        *_machine_lines(run, meta),
        "",
        "## What the numbers say",
        "",
        *(f"- {sentence}" for sentence in reading_sentences(cases, timed=meta["timed"])),
        "",
        "## Convergence",
        "",
        _CONVERGENCE_LEGEND,
        *convergence_tables(cases),
        "## Speed",
        "",
        _SPEED_LEGEND,
        "### Ours",
        "",
        *speed_table(cases),
        "",
        *ceilings_line(cases),
        "",
        "### Reference libraries",
        "",
        *baseline_table(cases),
        "",
        "### Throughput against the number of data sets",
        "",
        *scaling_table(cases),
        "",
        "## Plots",
        "",
    ]
    for plot in plots:
        lines += [f"### {plot.title}", "", f"![{plot.title}]({plot.filename})", "",
                  plot.caption, ""]
    if plot_note:
        lines += [plot_note, ""]
    lines += [
        "## Files",
        "",
        f"- `{SUMMARY_CSV}`: one row per case, every scalar field (baseline rows with "
        "`speedup`).",
        f"- `{BENCHMARK_JSON}`: the pytest-benchmark JSON of the run (host name replaced by "
        "its id).",
        f"- `{RUN_JSON}`: the metadata that `results/README.md` is generated from.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- writing a run


def _redacted(run: dict, meta: dict) -> dict:
    """The run with ``machine_info.node`` (the host name) replaced by its hashed id."""
    copy = json.loads(json.dumps(run))
    if isinstance(copy.get("machine_info"), dict) and "node" in copy["machine_info"]:
        copy["machine_info"]["node"] = f"redacted-{meta['host_id']}"
    return copy


def write_benchmark_json(path: pathlib.Path, run: dict, meta: dict) -> None:
    """Write the run's JSON (indented as pytest-benchmark does), host name redacted."""
    path.write_text(json.dumps(_redacted(run, meta), indent=4) + "\n", encoding="utf-8")


def write_run_json(path: pathlib.Path, meta: dict) -> None:
    """Write ``run.json``, the metadata the index is built from."""
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def write_plots(folder: pathlib.Path, cases: list[dict]) -> tuple[list, str]:
    """Write the PNG plots; returns (plots, a note saying why there are none, or "")."""
    from bench import plots

    try:
        return plots.write_plots(cases, folder), ""
    except plots.PlotsUnavailable as reason:
        return [], f"No plots: {reason}"


def write_readme(path: pathlib.Path, run: dict, cases: list[dict], meta: dict, plots: list,
                 plot_note: str) -> None:
    """Write the run folder's ``README.md``."""
    path.write_text(render_readme(run, cases, meta, plots, plot_note), encoding="utf-8")


def _fill_run_folder(folder: pathlib.Path, run: dict, cases: list[dict], meta: dict) -> None:
    write_benchmark_json(folder / BENCHMARK_JSON, run, meta)
    write_summary_csv(folder / SUMMARY_CSV, cases)
    plots, plot_note = write_plots(folder, cases)
    write_readme(folder / README, run, cases, meta, plots, plot_note)
    write_run_json(folder / RUN_JSON, meta)


def _check_run_name(run_name: str) -> None:
    if (not run_name or run_name in (".", "..") or run_name.startswith(".")
            or "/" in run_name or os.sep in run_name):
        raise PublishError(
            f"run_name {run_name!r} is not a plain folder name; pass a name without '/' that "
            "does not start with '.', or no run_name for <date>-<device>-<host id>."
        )


def _candidate_names(base: str) -> Iterable[str]:
    yield base
    number = 2
    while True:
        yield f"{base}-{number}"
        number += 1


def _move_into_place(staging: pathlib.Path, root: pathlib.Path, base: str) -> pathlib.Path:
    """Rename ``staging`` to the first free name of ``base``, ``base-2``, ``base-3``, ..."""
    for name in _candidate_names(base):
        target = root / name
        if os.path.lexists(target):
            continue
        try:
            os.rename(staging, target)
        except OSError as error:
            # Another publisher took the name between the check and the rename.
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        return target
    raise AssertionError("unreachable")  # pragma: no cover


def _make_staging_folder(root: pathlib.Path) -> pathlib.Path:
    while True:
        staging = root / f"{TMP_PREFIX}{secrets.token_hex(6)}"
        try:
            staging.mkdir()  # honours the umask, unlike tempfile.mkdtemp's 0700
            return staging
        except FileExistsError:
            continue


def publish(json_path: str | os.PathLike, results_root: str | os.PathLike = "results", *,
            run_name: str | None = None) -> pathlib.Path:
    """Publish a ``pytest --benchmark`` run into its own folder under ``results_root``.

    The folder is ``<date>-<device>-<host id>`` (or ``run_name``); if that name is taken,
    ``-2``, ``-3``, ... is appended: an existing run folder is never overwritten. It is
    built in ``results_root/.tmp-*`` and renamed into place, so an error leaves neither a
    partial folder nor the temporary one. ``results_root/README.md``, the index of all runs,
    is then regenerated (:func:`write_index`).

    Args:
        json_path: the pytest-benchmark JSON of the run.
        results_root: the folder holding one folder per run (created if missing).
        run_name: a folder name to use instead of ``<date>-<device>-<host id>``.

    Returns:
        The run folder.

    Raises:
        PublishError: the JSON is missing, corrupt or has no benchmarks, or ``run_name`` is
            not a plain folder name.
    """
    run = load_run(json_path)
    cases = run_cases(run)
    meta = run_metadata(run, cases)
    if run_name is not None:
        _check_run_name(run_name)
    root = pathlib.Path(results_root)
    root.mkdir(parents=True, exist_ok=True)
    staging = _make_staging_folder(root)
    try:
        _fill_run_folder(staging, run, cases, meta)
        folder = _move_into_place(staging, root, run_name or default_folder_name(meta))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_index(root)
    return folder


# --------------------------------------------------------------------------- results/README.md


def _read_run_json(folder: pathlib.Path) -> dict | None:
    try:
        meta = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _index_row(folder: pathlib.Path, meta: dict) -> list[str]:
    commit = meta.get("commit") or {}
    commit_text = (commit.get("id") or "unknown")[:12]
    if commit.get("dirty"):
        commit_text += " (dirty)"
    counts = meta.get("case_counts") or {}
    cases = ", ".join(f"{counts[kind]} {kind}" for kind in ("fit", "scaling", "baseline")
                      if counts.get(kind))
    device = meta.get("device_kind") or meta.get("device") or "?"
    if (meta.get("device_count") or 1) > 1:
        device += f" × {meta['device_count']}"
    return [f"[{folder.name}]({folder.name}/{README})", meta.get("date", "?"), device,
            str(meta.get("preset", "?")), commit_text, cases or "–",
            "yes" if meta.get("timed") else "no"]


def render_index(results_root: str | os.PathLike) -> str:
    """The text of ``results/README.md``, from every run folder's ``run.json``."""
    root = pathlib.Path(results_root)
    rows = []
    for folder in sorted(p for p in root.iterdir()
                         if p.is_dir() and not p.name.startswith(".")):
        meta = _read_run_json(folder)
        if meta is not None:
            rows.append(_index_row(folder, meta))
    header = ["run", "date", "device", "preset", "commit", "cases", "timed"]
    return "\n".join([
        "# Published benchmark runs",
        "",
        "One folder per run, written by `python -m bench publish RUN.json` (or by "
        "`pytest --benchmark`). This index is regenerated from each folder's `run.json` "
        "whenever a run is published; do not edit it by hand.",
        "",
        *_markdown_table(header, rows),
        "",
    ])


def write_atomically(path: pathlib.Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: all or nothing."""
    temporary = path.with_name(f"{TMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_index(results_root: str | os.PathLike) -> pathlib.Path:
    """Regenerate ``results_root/README.md`` (atomically) and return its path."""
    path = pathlib.Path(results_root) / README
    write_atomically(path, render_index(results_root))
    return path

