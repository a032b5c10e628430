"""Compare two benchmark runs case by case: speed ratio and change in convergence.

Cases are matched on ``(kind, model, regime, dtype, n_datasets, n_samples, n_features,
baseline)``: a case at other sizes is another case. For each case in both runs the table
gives the old and new median seconds, their ratio ``new / old`` (above 1: the new run is
slower) and the change of ``converged %`` in percentage points. Cases found in only one run
are listed after the table, and runs of different presets, or timed differently (pytest
times the fits only; ``python -m bench run`` times data generation with them), are said to
be so. With ``fail_above``, the exit code is 1 when a case is both slower than that factor
and significantly slower, so a CI job can guard against slowdowns without tripping on
noise, and also when no case has a time in both runs: a gate that checked nothing has not
passed. Significant means a one-sided Mann–Whitney U test of the two runs' rounds (as asv
compares its samples) gives p <= :data:`ALPHA`; a case past the factor but not significant
is printed so. A case without rounds in both runs (``python -m bench run`` records, runs
before rounds were kept) is judged by the factor alone, and said to be. A run that is not
whole (marked incomplete, or a pytest-benchmark JSON
that does not record it, :func:`bench.record.incomplete_reason`) is said to be so and fails
the comparison, with or without ``fail_above``, unless ``allow_incomplete``: its missing
cases would otherwise pass unseen.
"""

from __future__ import annotations

import math
import os

from scipy.stats import mannwhitneyu

from bench.record import CaseRecord, RunRecord, incomplete_reason, read_run
from bench.report.folders import run_metadata
from bench.report.matching import case_key, model_order, order, regime_order
from bench.report.tables import text_table

__all__ = ["compare", "slower_p", "ALPHA"]

#: A slowdown is significant when the one-sided Mann–Whitney p of the rounds is at most
#: this. Three rounds against three can reach 1/20 = 0.05 at best, so it is not lower.
ALPHA = 0.05

CaseKey = tuple
#: Order of the table: our matrix, the sweep, the reference libraries, data generation.
KIND_ORDER = ("fit", "scaling", "baseline", "datasets")
_HEADER = ("kind", "model", "regime", "dtype", "B", "n", "p", "baseline", "old s", "new s",
           "new/old", "p slower", "converged % old -> new", "change pp", "")


def _cases_by_key(cases) -> tuple[dict[CaseKey, CaseRecord], int]:
    """Cases keyed by :func:`case_key` (the last of duplicates wins) and how many repeated."""
    by_key: dict[CaseKey, CaseRecord] = {}
    duplicates = 0
    for case in cases:
        key = case_key(case)
        duplicates += key in by_key
        by_key[key] = case
    return by_key, duplicates


def _sort_key(key: CaseKey):
    kind, model, regime, dtype, n_datasets, n_samples, n_features, baseline = key

    def size(value):
        return value if isinstance(value, int) else -1

    return (order(kind, KIND_ORDER), model_order(model), regime_order(regime), str(dtype),
            size(n_datasets), size(n_samples), size(n_features), str(baseline))


def _seconds(case: CaseRecord) -> float | None:
    seconds = case.seconds
    if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0:
        return float(seconds)
    return None


def _fmt(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _converged_cells(old: CaseRecord, new: CaseRecord) -> tuple[str, str]:
    before, after = old.converged_frac, new.converged_frac
    if not isinstance(before, (int, float)) or not isinstance(after, (int, float)):
        return "–", "–"
    change = 100 * (after - before)
    return f"{100 * before:.1f} -> {100 * after:.1f}", f"{change:+.1f}"


def slower_p(old_rounds, new_rounds) -> float | None:
    """One-sided Mann–Whitney U p-value that the new rounds are slower (None: no rounds)."""
    if not old_rounds or not new_rounds:
        return None
    return float(mannwhitneyu(new_rounds, old_rounds, alternative="greater").pvalue)


def _compare_row(key: CaseKey, old: CaseRecord, new: CaseRecord, fail_above: float | None
                 ) -> tuple[list[str], float | None, str]:
    """The row's cells, its ratio, and its verdict: "SLOWER", "not significant" or ""."""
    old_s, new_s = _seconds(old), _seconds(new)
    ratio = new_s / old_s if old_s and new_s else None
    p = slower_p(old.round_seconds, new.round_seconds)
    verdict = ""
    if fail_above is not None and ratio is not None and ratio > fail_above:
        if p is None:
            verdict = "SLOWER (no rounds: factor only)"
        else:
            verdict = "SLOWER" if p <= ALPHA else "not significant"
    converged, change = _converged_cells(old, new)
    cells = ["–" if part is None else str(part) for part in key]
    cells += [_fmt(old_s, ".4g"), _fmt(new_s, ".4g"), _fmt(ratio, ".3f"), _fmt(p, ".2g"),
              converged, change, verdict]
    return cells, ratio, verdict


def _run_line(label: str, path, run: RunRecord) -> str:
    meta = run_metadata(run)
    commit = (meta["commit"].get("id") or "unknown")[:12]
    dirty = " (dirty)" if meta["commit"].get("dirty") else ""
    timed = "" if meta["timed"] else ", NOT timed"
    return (f"{label}: {path} | {meta['datetime']} | {meta['device_kind']} | preset "
            f"{meta['preset']} | commit {commit}{dirty}{timed}")


def _only_in(label: str, keys: list[CaseKey]) -> list[str]:
    if not keys:
        return []
    lines = [f"only in {label} ({len(keys)}):"]
    lines += ["  " + " ".join("–" if part is None else str(part) for part in key)
              for key in sorted(keys, key=_sort_key)]
    return lines


def _notes(old_run: RunRecord, new_run: RunRecord) -> list[str]:
    """Differences between the runs that make their ratios mean less than they seem."""
    notes = []
    if old_run.preset != new_run.preset:
        notes.append(f"note: the runs used different presets (old {old_run.preset}, new "
                     f"{new_run.preset}); only cases of the same sizes are compared.")
    if old_run.source != new_run.source:
        what = {"pytest-benchmark": "pytest --benchmark (the fits only)",
                "python -m bench run": "python -m bench run (data generation included)"}
        notes.append(f"note: the runs were timed differently: old by "
                     f"{what.get(old_run.source, old_run.source)}, new by "
                     f"{what.get(new_run.source, new_run.source)}; a ratio compares "
                     "different things.")
    return notes


def _summary(ratios: list[float], slower: int, noise: int, fail_above: float | None,
             incomplete: bool) -> str:
    """The last line: what was compared, and the verdict (FAIL on an incomplete run)."""
    if not ratios:
        text = "no case has a time in both runs, so nothing was compared"
        if fail_above is not None:
            return text + ": FAIL (the gate checked nothing)."
        return text + (": FAIL (a run is incomplete)." if incomplete else ".")
    geometric_mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    text = (f"{len(ratios)} cases compared; geometric mean of new/old seconds "
            f"{geometric_mean:.3f} (above 1: slower).")
    if fail_above is not None:
        text += (f" {slower} case(s) slower than {fail_above:g}x and significantly so "
                 f"(one-sided Mann–Whitney U on the rounds, p <= {ALPHA:g})")
        if noise:
            text += f"; {noise} more past {fail_above:g}x but not significant"
        text += ": FAIL." if slower else (": FAIL (a run is incomplete)." if incomplete
                                          else ": OK, no significant slowdown.")
    elif incomplete:
        text += " FAIL (a run is incomplete)."
    return text


def _incomplete_lines(old_run: RunRecord, new_run: RunRecord, allow: bool) -> list[str]:
    """One line per run that is not whole, saying why and whether that fails."""
    lines = []
    for label, run in (("old", old_run), ("new", new_run)):
        reason = incomplete_reason(run)
        if reason:
            verdict = ("compared anyway (--allow-incomplete)" if allow else
                       "pass --allow-incomplete to compare it anyway")
            lines.append(f"the {label} run is incomplete: {reason}; {verdict}.")
    return lines


def compare(old_json: str | os.PathLike, new_json: str | os.PathLike, *,
            fail_above: float | None = None, allow_incomplete: bool = False
            ) -> tuple[str, int]:
    """Compare two runs (``pytest --benchmark`` or ``python -m bench run``) case by case.

    Args:
        old_json: the earlier run's pytest-benchmark JSON.
        new_json: the later run's.
        fail_above: when given, a ``new / old`` seconds ratio above it fails the comparison
            (e.g. ``1.5``: 50% slower).
        allow_incomplete: compare a run that is not whole without failing (it is still
            said).

    Returns:
        ``(text, exit_code)``: a plain-text table (one line per case in both runs, then the
        cases found in only one, and notes), and 1 if ``fail_above`` is given and some case
        is slower than it and significantly so (or past it with no rounds to test), or no
        case could be compared, or if a run is not whole and ``allow_incomplete`` is not
        given, else 0.

    Raises:
        bench.record.RecordError: a file is missing, corrupt or has no case of ours.
        ValueError: ``fail_above`` is not a positive number.
    """
    if fail_above is not None and not (isinstance(fail_above, (int, float))
                                       and math.isfinite(fail_above) and fail_above > 0):
        raise ValueError(f"fail_above must be a positive number such as 1.5, not "
                         f"{fail_above!r}.")
    old_run, new_run = read_run(old_json), read_run(new_json)
    old_cases, old_duplicates = _cases_by_key(old_run.cases)
    new_cases, new_duplicates = _cases_by_key(new_run.cases)
    common = sorted(old_cases.keys() & new_cases.keys(), key=_sort_key)
    rows, ratios, verdicts = [], [], []
    for key in common:
        cells, ratio, verdict = _compare_row(key, old_cases[key], new_cases[key], fail_above)
        rows.append(cells)
        verdicts.append(verdict)
        if ratio is not None:
            ratios.append(ratio)
    slower = sum(v.startswith("SLOWER") for v in verdicts)
    noise = verdicts.count("not significant")
    lines = [_run_line("old", old_json, old_run), _run_line("new", new_json, new_run), ""]
    lines += text_table(list(_HEADER), rows) if rows else ["no case is in both runs."]
    lines += [""]
    lines += _only_in("old", [k for k in old_cases if k not in new_cases])
    lines += _only_in("new", [k for k in new_cases if k not in old_cases])
    for label, count in (("old", old_duplicates), ("new", new_duplicates)):
        if count:
            lines.append(f"note: {count} case(s) repeated in the {label} run; the last of each "
                         "was compared.")
    lines += _notes(old_run, new_run)
    incomplete = _incomplete_lines(old_run, new_run, allow_incomplete)
    lines += incomplete
    refused = bool(incomplete) and not allow_incomplete
    lines.append(_summary(ratios, slower, noise, fail_above, refused))
    failed = slower or (fail_above is not None and not ratios) or refused
    return "\n".join(lines) + "\n", 1 if failed else 0
