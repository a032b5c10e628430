"""Every number of a published README, read back and checked against the run's JSON.

The checker below knows, on its own, what each table column, each row of a convergence
table and each number of each reading sentence means (which field of which case, and in
which unit); it does not ask the reporting code. A table row or column, or a sentence,
that it does not know is itself a problem, so nothing in those sections goes unchecked.
A number matches when it equals the field's value rounded to the digits shown.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil

import pytest

from bench.report import publish

FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"
NUMBER = r"[-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?"
DASH = "–"


# --------------------------------------------------------------------------- reading


def _number(text: str) -> float:
    return float(text.replace(",", "").rstrip("×%"))


def _shown(text: str, value, scale: float = 1.0) -> bool:
    """Whether ``text`` is ``value * scale`` written with the digits it shows."""
    text = text.strip()
    if value is None or value != value:
        return text == DASH
    if text == DASH:
        return False
    body = text.replace(",", "").rstrip("×%")
    mantissa, _, exponent = body.partition("e")
    decimals = len(mantissa.partition(".")[2])
    place = 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(body) - value * scale) <= 0.5 * place * (1 + 1e-9) + 1e-12


def _tables(readme: str, heading: str, stop: str = "\n## ") -> list[list[list[str]]]:
    """Every markdown table between ``heading`` and ``stop``, as rows of cells."""
    text = readme.split(heading, 1)[1].split(stop, 1)[0]
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if not all(c and set(c) <= set("-:") for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


class Run:
    """The run's JSON, indexed the way the README names its cases."""

    def __init__(self, data: dict):
        self.data = data
        self.rows = [b["extra_info"] for b in data["benchmarks"] if "kind" in b["extra_info"]]
        for benchmark in data["benchmarks"]:  # pytest-benchmark's fastest round, if timed
            info, stats = benchmark["extra_info"], benchmark.get("stats") or {}
            if info.get("timed") and "min" in stats:
                info.setdefault("seconds_min", stats["min"])

    def one(self, **match) -> dict:
        found = [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]
        assert len(found) == 1, (match, len(found))
        return found[0]

    def ours(self, model: str, regime: str) -> dict:
        """Our fit case the README compares with: float64 where it exists."""
        fits = [r for r in self.rows if r["kind"] == "fit" and r["model"] == model
                and r["regime"] == regime]
        return next((r for r in fits if r["dtype"] == "float64"), fits[0])


# --------------------------------------------------------------------------- tables

def _iterations(cell, row):
    parts = cell.split(" / ")
    return len(parts) == 3 and all(_shown(p, row[f"n_iter_{q}"])
                                   for p, q in zip(parts, ("median", "p90", "max")))


def _mean_q10(field):
    def check(cell, row):
        if row[f"{field}_mean"] is None:
            return cell == DASH
        match = re.fullmatch(rf"({NUMBER}) \(({NUMBER}|{DASH})\)", cell)
        return bool(match) and _shown(match[1], row[f"{field}_mean"]) and _shown(
            match[2], row[f"{field}_q10"])
    return check


def _median_mean(cell, row):
    match = re.fullmatch(rf"({NUMBER}|{DASH}) \(({NUMBER}|{DASH})\)", cell)
    return bool(match) and _shown(match[1], row["final_loss_median"]) and _shown(
        match[2], row["final_loss_mean"])


def _replayed(cell, row):
    match = re.fullmatch(rf"({NUMBER}|{DASH}) \(({NUMBER}|{DASH})\)", cell)
    return bool(match) and _shown(match[1], row.get("replay_stop_frac"), 100) and _shown(
        match[2], row.get("replay_stop_median"))


def _statuses(cell, row):
    nonzero = {k: v for k, v in row["status_counts"].items() if v}
    if not nonzero:
        return cell == DASH
    shown = dict(part.rsplit(" ", 1) for part in cell.split(", "))
    return {k: int(v) for k, v in shown.items()} == nonzero


#: Convergence-table rows: label pattern -> check(cell, row).
CONVERGENCE_ROWS = {
    r"data sets": lambda cell, row: _shown(cell, row["n_datasets"]),
    r"converged %": lambda cell, row: _shown(cell, row["converged_frac"], 100),
    r"separated %": lambda cell, row: _shown(cell, row["separated_frac"], 100),
    r"statuses": _statuses,
    r"non-finite %": lambda cell, row: _shown(cell, row["nan_frac"], 100),
    r"(epochs|iterations|gradient steps) median / p90 / max \(budget (\d+)\)":
        _iterations,
    r"train accuracy mean \(q10\)": _mean_q10("train_accuracy"),
    r"test accuracy mean \(q10\)": _mean_q10("test_accuracy"),
    r"final (deviance / n|cross-entropy|mistakes / n per epoch) median \(mean\)":
        _median_mean,
    r"mean n_updates": lambda cell, row: _shown(cell, row["n_updates_mean"]),
    r"scikit-learn's rule would stop % \(median step\)": _replayed,
    r"max n_updates / \(R/γ\)²": lambda cell, row: _shown(cell, row["novikoff_max_ratio"]),
    r"LP: complete / quasi %": lambda cell, row: _lp_shown(cell, row),
    r"converged % of LP-complete": lambda cell, row: _shown(
        cell, row.get("converged_on_complete_frac"), 100),
    r"status = LP verdict %": lambda cell, row: _shown(
        cell, row.get("separated_agrees_frac"), 100),
}


def _check_convergence(readme: str, run: Run) -> list[str]:
    problems = []
    for table in _tables(readme, "### Every model, every regime", "\n## Speed"):
        model = table[0][0].split(":")[0]
        columns = [h.rsplit(" ", 1) for h in table[0][1:]]
        rows = [run.one(kind="fit", model=model, regime=regime,
                        dtype={"f32": "float32", "f64": "float64"}[dtype])
                for regime, dtype in columns]
        for cells in table[1:]:
            label = cells[0]
            pattern = next((p for p in CONVERGENCE_ROWS if re.fullmatch(p, label)), None)
            if pattern is None:
                problems.append(f"{model}: unknown row {label!r}")
                continue
            budget = re.fullmatch(pattern, label)
            if "budget" in pattern and int(budget[2]) != rows[0]["max_iter"]:
                problems.append(f"{model}: budget {budget[2]} is not {rows[0]['max_iter']}")
            for cell, row in zip(cells[1:], rows):
                if not CONVERGENCE_ROWS[pattern](cell, row):
                    problems.append(f"{model} {row['regime']} {row['dtype']}: {label} = "
                                    f"{cell!r}")
    return problems


#: Column header -> (field, scale) of the speed and scaling tables.
SPEED_COLUMNS = {"data sets": ("n_datasets", 1), "median s": ("seconds", 1),
                 "fits/s": ("fits_per_s", 1), "compile s": ("compile_s", 1),
                 "GFLOP/s": ("gflops", 1), "GB/s": ("gbps", 1),
                 "% roofline": ("roofline_pct", 1), "lane eff.": ("lane_efficiency", 100),
                 "converged %": ("converged_frac", 100)}


def _check_rows_of_ours(table, run: Run, kind: str) -> list[str]:
    problems, header = [], table[0]
    if header[:3] != ["model", "regime", "dtype"]:
        return [f"{kind} table starts {header[:3]}"]
    for cells in table[1:]:
        model, regime, dtype = cells[:3]
        match = dict(kind=kind, model=model, regime=regime, dtype=dtype)
        if kind == "scaling":
            match["n_datasets"] = int(_number(cells[header.index("data sets")]))
        row = run.one(**match)
        for column, cell in zip(header[3:], cells[3:]):
            if column not in SPEED_COLUMNS:
                problems.append(f"{kind} table: unknown column {column!r}")
            elif not _shown(cell, row.get(SPEED_COLUMNS[column][0]),
                            SPEED_COLUMNS[column][1]):
                problems.append(f"{kind} {model} {regime} {dtype}: {column} = {cell!r}")
    return problems


def _check_baselines(table, run: Run) -> list[str]:
    problems = []
    expected = ["library", "model", "regime", "data sets fitted", "their fits/s",
                "their converged %", "our fits/s (dtype)", "our converged % / separated %",
                "speedup"]
    if table[0] != expected:
        return [f"baseline table columns {table[0]}"]
    for library, model, regime, fitted, rate, converged, ours_rate, ours_conv, speedup in (
            table[1:]):
        theirs = run.one(kind="baseline", baseline=library, model=model, regime=regime)
        ours = run.ours(model, regime)
        rate_text, _, dtype = ours_rate.partition(" (")
        sep_text = ours_conv.split(" / ")
        checks = {
            "data sets fitted": _shown(fitted, theirs["n_datasets"]),
            "their fits/s": _shown(rate, theirs["fits_per_s"]),
            "their converged %": _shown(converged, theirs.get("converged_frac"), 100),
            "our fits/s": _shown(rate_text, ours["fits_per_s"]),
            "our dtype": dtype.rstrip(")") == ours["dtype"],
            "our converged %": _shown(sep_text[0], ours["converged_frac"], 100),
            "our separated %": _shown(sep_text[1], ours["separated_frac"], 100),
            "speedup": _shown(speedup, ours["fits_per_s"] / theirs["fits_per_s"]),
        }
        problems += [f"baseline {library} {model} {regime}: {name}"
                     for name, ok in checks.items() if not ok]
    return problems


def _check_peers(table, run: Run) -> list[str]:
    """The JAX peer table: each peer row beside our case of the same model and regime."""
    problems = []
    header = table[0]
    if header[:3] != ["library", "model", "regime"] or len(header) != 14:
        return [f"peer table columns {header}"]
    for (library, model, regime, _, fitted, rate, compile_s, converged, iterations, rule,
         difference, ours_rate, ours_conv, speedup) in table[1:]:
        theirs = run.one(kind="peer", baseline=library, model=model, regime=regime)
        ours = run.ours(model, regime)
        conv_text, _, scope = converged.partition(" (")
        iter_match = re.fullmatch(rf"({NUMBER}) / ({NUMBER}) \(budget (\d+)\)", iterations)
        rate_text, _, dtype = ours_rate.partition(" (")
        sep_text = ours_conv.split(" / ")
        checks = {
            "data sets": _shown(fitted, theirs["n_datasets"]),
            "their fits/s": _shown(rate, theirs["fits_per_s"]),
            "compile s": _shown(compile_s, theirs["compile_s"]),
            "their converged %": _shown(conv_text, theirs["converged_frac"], 100),
            "flag": scope.rstrip(")") == theirs["converged_scope"],
            "iterations": bool(iter_match) and _shown(iter_match[1], theirs["n_iter_median"])
            and _shown(iter_match[2], theirs["n_iter_max"])
            and int(iter_match[3]) == theirs["max_iter"],
            "stopping rule": rule == theirs["tolerance"],
            "max |Δcoef|": _shown(difference, theirs["coef_diff_median"]),
            "our fits/s": _shown(rate_text, ours["fits_per_s"]),
            "our dtype": dtype.rstrip(")") == ours["dtype"],
            "our converged %": _shown(sep_text[0], ours["converged_frac"], 100),
            "our separated %": _shown(sep_text[1], ours["separated_frac"], 100),
            "speedup": _shown(speedup, ours["fits_per_s"] / theirs["fits_per_s"]),
        }
        problems += [f"peer {library} {regime}: {name}" for name, ok in checks.items()
                     if not ok]
    return problems


def _check_resampled(table, run: Run) -> list[str]:
    """The real-data table: the GLM's resamples, the LP's and the GLM's separated shares,
    and each model's converged %."""
    problems, header = [], table[0]
    models = [h.removesuffix(" converged %") for h in header[6:]]
    if header[:6] != ["regime", "data", "rows × features", "resamples (glm)",
                      "LP: complete / quasi %", "separated % (glm)"] or not models:
        return [f"resampled table columns {header}"]
    for regime, _, size, resamples, lp, separated, *converged in table[1:]:
        glm = run.ours("glm", regime)
        if not (_shown(resamples, glm["n_datasets"])
                and _shown(separated, glm["separated_frac"], 100) and _lp_shown(lp, glm)):
            problems.append(f"resampled {regime}: glm")
        if size != f"{glm['n_samples']} × {glm['n_features']}":
            problems.append(f"resampled {regime}: size {size}")
        problems += [f"resampled {regime}: {model}" for model, cell in zip(models, converged)
                     if not _shown(cell, run.ours(model, regime)["converged_frac"], 100)]
    return problems


def _lp_shown(cell: str, row: dict) -> bool:
    """``"complete / quasi"`` (and ``"(undecided)"`` where any) of the LP's verdict, or a dash."""
    if row.get("lp_complete_frac") is None:
        return cell == DASH
    match = re.fullmatch(rf"({NUMBER}) / ({NUMBER})(?: \(({NUMBER}) undecided\))?", cell)
    if match is None or (match[3] is None) != (not row.get("lp_undecided_frac")):
        return False
    shown = [(match[1], row["lp_complete_frac"]), (match[2], row["lp_quasi_frac"])]
    if match[3] is not None:
        shown.append((match[3], row["lp_undecided_frac"]))
    return all(_shown(text, value, 100) for text, value in shown)


def _check_header(readme: str, run: Run) -> list[str]:
    problems = []
    counts = {}
    for row in run.rows:
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    line = next(x for x in readme.splitlines() if x.startswith("- cases: "))
    shown = {kind: int(n) for n, kind in
             (part.split(" ") for part in line.removeprefix("- cases: ").split(", "))}
    if shown != counts:
        problems.append(f"case counts {shown} != {counts}")
    problems += _check_datasets_line(readme, run) + _check_selection_line(readme, run)
    machine = dict(_tables(readme, "## Machine and software")[0][1:])
    info = run.data["machine_info"]["glmnn"]
    for package, key in (("jax", "jax"), ("jaxlib", "jaxlib"), ("optax", "optax"),
                         ("numpy", "numpy"), ("statsmodels", "statsmodels"),
                         ("scikit-learn", "scikit_learn")):
        if machine[package] != info[key]:
            problems.append(f"{package} {machine[package]} != {info[key]}")
    if machine["CPU"] != f"{info['cpu_model']}, {info['cpu_count']} cores":
        problems.append(f"CPU {machine['CPU']!r}")
    if machine["pytest-benchmark"] != run.data["version"]:
        problems.append("pytest-benchmark version")
    rows = [r for r in run.rows if r["kind"] == "ceilings"]
    ceilings = rows[0] if rows else run.data["glmnn"]["ceilings"]  # a subset: the session's
    match = re.search(rf"a (\d+)² matmul at ({NUMBER}) GFLOP/s \(float64\) and ({NUMBER}) "
                      rf"GFLOP/s \(float32\); a (\d+) MiB copy at ({NUMBER}) GB/s", readme)
    if not match or not all(_shown(text, ceilings[field]) for text, field in zip(
            match.groups(), ("matmul_size", "matmul_gflops_float64", "matmul_gflops_float32",
                             "copy_mib", "copy_gbps"))):
        problems.append("ceilings line")
    return problems


def _line(readme: str, prefix: str) -> str | None:
    return next((x.removeprefix(prefix) for x in readme.splitlines() if x.startswith(prefix)),
                None)


def _check_datasets_line(readme: str, run: Run) -> list[str]:
    """``- data sets per fit case: 1,000 (glm, ...); 200 (mlp0, mlp8)`` against the rows."""
    fits = [r for r in run.rows if r["kind"] == "fit"]
    line = _line(readme, "- data sets per fit case: ")
    if line is None:
        return ["no 'data sets per fit case' line"] if fits else []
    every = re.fullmatch(rf"({NUMBER}), every model", line)
    if every:
        shown = {r["model"]: every[1] for r in fits}
    else:
        shown = {}
        for part in line.split("; "):
            match = re.fullmatch(rf"({NUMBER}) \(([^)]+)\)", part)
            if not match:
                return [f"data sets line {line!r}"]
            shown.update({model: match[1] for model in match[2].split(", ")})
    if set(shown) != {r["model"] for r in fits}:
        return [f"data sets line names {sorted(shown)}"]
    return [f"data sets of {r['model']} {r['regime']} {r['dtype']}: {shown[r['model']]}"
            for r in fits if not _shown(shown[r["model"]], r["n_datasets"])]


def _check_selection_line(readme: str, run: Run) -> list[str]:
    line, size = _line(readme, "- selection: "), run.data.get("glmnn", {}).get("suite_size")
    if size is None:
        return [] if line is None else [f"a selection line without a suite size: {line!r}"]
    whole = re.fullmatch(rf"the whole matrix of the preset, ({NUMBER}) benchmark rows", line)
    if whole:
        return [] if _shown(whole[1], len(run.rows)) and len(run.rows) >= size else [
            f"selection {line!r}"]
    part = re.match(rf"\*\*a subset\*\*, ({NUMBER}) of the preset's ({NUMBER}) benchmark rows",
                    line)
    if not part or not (_shown(part[1], len(run.rows)) and _shown(part[2], size)
                        and len(run.rows) < size):
        return [f"selection {line!r}"]
    return []


# --------------------------------------------------------------------------- sentences

P, X = rf"({NUMBER})%", rf"({NUMBER})×"
N = rf"({NUMBER})"


def _pct(run, model, regime, field):
    return (run.ours(model, regime)[field], 100)


def _regimes(run, model: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The regimes of ``names`` that ``model`` has a fit case for in the run."""
    return tuple(r for r in names if any(
        row["kind"] == "fit" and row["model"] == model and row["regime"] == r
        for row in run.rows))


def _sentence_perceptron(match, run):
    regimes = _regimes(run, "perceptron", ("separable", *OTHER_REGIMES))
    if (match["quasi"] is not None) != ("quasi" in regimes):
        return [(float("nan"), 1)]
    values = [_pct(run, "perceptron", r, "converged_frac") for r in regimes]
    if match["lp"] is not None:
        values += [_pct(run, "perceptron", "separable", "lp_complete_frac"),
                   _pct(run, "perceptron", "separable", "converged_on_complete_frac")]
    if match["budget_out"] is not None:
        separable = run.ours("perceptron", "separable")
        values += [(1 - separable["converged_frac"], 100), (separable["max_iter"], 1)]
    return values


def _sentence_speed(match, run):
    library = match["library"]
    rows = [r for r in run.rows if r["kind"] == "baseline" and r["baseline"] == library]
    ratios = {(r["model"], r["regime"]): run.ours(r["model"], r["regime"])["fits_per_s"]
              / r["fits_per_s"] for r in rows}
    low = ratios[(match["low_model"], match["low_regime"])]
    values = [(low, 1)]
    if match["high"] is not None:
        values.append((ratios[(match["high_model"], match["high_regime"])], 1))
        if max(ratios.values()) != values[1][0]:
            values.append((max(ratios.values()), 1))  # not the largest: fails below
    if min(ratios.values()) != low:
        values.append((min(ratios.values()), 1))
    faster = sum(r > 1 for r in ratios.values())
    verdict = {len(ratios): "ours was faster in every case", 0: "ours was slower in every case"}
    if match["verdict"] != verdict.get(faster, f"ours was faster in {faster} of {len(ratios)} "
                                               "cases"):
        values.append((float("nan"), 1))
    return values


OTHER_REGIMES = ("overlap", "quasi", "xor", "circles")
RESAMPLED = ("cancer", "wine", "iris")


def _sentence_replayed(match, run):
    model = match["model"]
    rows = [run.ours(model, regime) for regime in _regimes(run, model, (
        "separable", *OTHER_REGIMES))]
    named = [g for g in ("quasi_stop", "quasi_ours") if match[g] is not None]
    if named and len(named) != 2 or bool(named) != any(r["regime"] == "quasi" for r in rows):
        return [(float("nan"), 1)]
    values = [(r["replay_stop_frac"], 100) for r in rows] + [
        (r["converged_frac"], 100) for r in rows]
    # The medians are one named group: checked here, a wrong one adds a value no group
    # matches.
    medians = match["medians"].split(", ")
    if len(medians) != len(rows) or not all(
            _shown(text, r["replay_stop_median"]) for text, r in zip(medians, rows)):
        values.append((float("nan"), 1))
    return values


def _sentence_peer(match, run):
    theirs = run.one(kind="peer", baseline=match["library"], regime=match["regime"])
    ours = run.ours(theirs["model"], match["regime"])
    if match["flag"] is not None:
        values = [(theirs["n_datasets"], 1), (theirs["n_iter_max"], 1)]
        if (match["flag"] == "converged=True") != (theirs["converged_frac"] >= 0.5):
            values.append((float("nan"), 1))
    else:
        values = [(theirs["converged_frac"], 100), (theirs["n_datasets"], 1),
                  (theirs["n_iter_median"], 1), (theirs["n_iter_max"], 1)]
    values += [(theirs["fits_per_s"], 1), (theirs["coef_diff_median"], 1)]
    if match["regime"] == "separable":
        return values + [(ours["separated_frac"], 100)]
    return values + [(ours["converged_frac"], 100), (ours["fits_per_s"], 1)]


def _sentence_resampled(match, run):
    regime = match["regime"]
    glm, perceptron = run.ours("glm", regime), run.ours("perceptron", regime)
    values = [(glm["n_datasets"], 1)]
    if (match["lp"] is None) != (glm.get("lp_complete_frac") is None) or (
            match["on_complete"] is None) != (perceptron.get("converged_on_complete_frac")
                                              is None):
        values.append((float("nan"), 1))
    if match["lp"] is not None:
        values += [(glm["lp_complete_frac"], 100), (glm["lp_quasi_frac"], 100)]
        if (match["undecided"] is not None) != bool(glm.get("lp_undecided_frac")):
            values.append((float("nan"), 1))
        if match["undecided"] is not None:
            values.append((glm["lp_undecided_frac"], 100))
    values += [(glm["separated_frac"], 100), (glm["converged_frac"], 100),
               (run.ours("glm_firth", regime)["converged_frac"], 100),
               (perceptron["converged_frac"], 100)]
    if match["on_complete"] is not None:
        values += [(perceptron["converged_on_complete_frac"], 100),
                   (perceptron["max_iter"], 1)]
    return values


def _sentence_separation(match, run):
    regime = "separable" if match["separable"] is not None else "quasi"
    glm = run.ours("glm", regime)
    values = []
    if match["lp"] is not None:
        values += [_pct(run, "glm", regime, "lp_complete_frac"),
                   _pct(run, "glm", regime, "lp_quasi_frac")]
        if match["undecided"] is not None:
            values.append(_pct(run, "glm", regime, "lp_undecided_frac"))
    values += [_pct(run, "glm", regime, "separated_frac"),
               _pct(run, "glm", regime, "converged_frac")]
    agrees = glm.get("separated_agrees_frac")
    if match["every"] is not None and not (agrees is not None and agrees >= 0.9995):
        values.append((float("nan"), 1))
    if match["share"] is not None:
        values.append(_pct(run, "glm", regime, "separated_agrees_frac"))
    if match["others"] is not None:
        values += [_pct(run, "perceptron", regime, "converged_frac"),
                   _pct(run, "glm_firth", regime, "converged_frac")]
    return values


def _sentence_verdict_cost(match, run):
    with_lp, without = run.ours("glm", "overlap"), run.ours("glm_no_verdict", "overlap")
    values = [(with_lp["fits_per_s"], 1), (without["fits_per_s"], 1),
              (with_lp["fits_per_s"] / without["fits_per_s"], 1)]
    fastest = [r.get("seconds_min") for r in (with_lp, without)]
    if (match["fastest"] is not None) != all(fastest):
        return values + [(float("nan"), 1)]
    if match["fastest"] is not None:
        values.append((fastest[1] / fastest[0], 1))
    return values


#: Sentence pattern -> the (value, scale) of each number group, in order.
SENTENCES = {
    rf"On (?P<regime>separable|overlap) data (?P<library>.+?) reported (?:(?P<flag>"
    rf"converged=(?:True|False)) for the whole batch of {N} data sets \(one flag per "
    rf"batch\) after {N} iterations|converged on {P} of {N} data sets in a median of {N} "
    rf"iterations \(max {N}\)), at {N} fits/s; its coefficients differ from ours by a "
    rf"median of {N} \(largest entry per data set\)(?:, where we report separation on {P} "
    rf"of the same data sets: [^.]*|; ours converged on {P} at {N} fits/s)\.":
        _sentence_peer,
    rf"In the (?P<regime>{'|'.join(RESAMPLED)}) regime \(.+?\), of {N} bootstrap resamples"
    rf"(?P<lp> the linear program found {P} completely and {P} quasi-completely separated"
    rf"(?P<undecided> \({P} undecided\))?;)? "
    rf"the GLM reported separation on {P} and converged on {P}; glm_firth on {P}, perceptron "
    rf"on {P}(?P<on_complete> \(the perceptron converged on {P} of the completely separated "
    rf"resamples within its {N} epochs, and can converge on no other\))?\.":
        _sentence_resampled,
    rf"The perceptron converged on {P} of separable data sets and on {P} of overlap, "
    rf"(?P<quasi>{P} of quasi, )?{P} of xor, {P} of circles data sets: [^;(]*?"
    rf"(?P<lp> \(the linear program found {P} of them completely separated, and the "
    rf"perceptron converged on {P} of those\))?(?P<budget_out>; {P} of separable data sets "
    rf"ran out of the {N}-epoch budget)?\.": _sentence_perceptron,
    rf"No separable data set needed more perceptron updates than Novikoff's bound "
    rf"\(R/γ\)²: the largest ratio n_updates / \(R/γ\)² was {N}(, so the worst case used {P} "
    rf"of the bound)?\.": lambda m, run: [
        (run.ours("perceptron", "separable")["novikoff_max_ratio"], 1),
        (run.ours("perceptron", "separable")["novikoff_max_ratio"], 100)][
        : 1 + (m[3] is not None)],
    rf"On (?:(?P<separable>separable) data|quasi-separated data \(a rare exposure whose "
    rf"exposed rows all had the outcome\))(?P<lp>, where the linear program found {P} "
    rf"completely and {P} quasi-completely separated(?P<undecided> \({P} undecided\))?)?, "
    rf"our IRLS GLM \((?P<dtype>float\d\d)\) reported separation on {P} of data sets and "
    rf"convergence on {P}(?:(?P<every>: its status matched the linear program's verdict on "
    rf"every one)|(?P<share>: its status matched the linear program's verdict on {P} "
    rf"\(statuses: [^)]*\)))?(?P<others>; perceptron converged on {P} and glm_firth "
    rf"converged on {P} \(no line splits the classes, so the perceptron cannot stop; Firth's "
    rf"estimate is finite\))?\.": _sentence_separation,
    rf"(?P<library>.+) reported converged=True on {P} of the {N} (?P<regime>separable|quasi) "
    rf"data sets it fitted, where we report separation on {P} of all {N}[^.]*\.":
        lambda m, run: [
            (run.one(kind="baseline", baseline=m["library"], regime=m["regime"],
                     model="glm")["converged_frac"], 100),
            (run.one(kind="baseline", baseline=m["library"], regime=m["regime"],
                     model="glm")["n_datasets"], 1),
            _pct(run, "glm", m["regime"], "separated_frac"),
            (run.ours("glm", m["regime"])["n_datasets"], 1)],
    rf"With its separation verdict the GLM fitted overlap data at {N} fits/s \(float\d\d\) "
    rf"against {N} for the same fit with separation=False \(glm_no_verdict\), {N} of its "
    rf"speed by the medians(?P<fastest> and {N} by the fastest rounds)?; its ratio to any "
    rf"reference library timed on the same data moves by the same factor\.":
        _sentence_verdict_cost,
    rf"Firth's penalised likelihood converged on {P} of separable data sets, where plain IRLS "
    rf"reported separation on {P}[^.]*\.": lambda m, run: [
        _pct(run, "glm_firth", "separable", "converged_frac"),
        _pct(run, "glm", "separable", "separated_frac")],
    rf"On overlap data \(labels drawn from the logistic model\) the GLM converged on {P} of "
    rf"data sets in a median of {N} IRLS iterations \(p90 {N}, max {N}\); the same model "
    rf"trained by gradient steps \(mlp0\) converged on {P} within its {N}-step budget "
    rf"\(median {N} steps\), and the perceptron on {P} within {N} epochs\.": lambda m, run: [
        _pct(run, "glm", "overlap", "converged_frac"),
        *((run.ours("glm", "overlap")[f], 1) for f in ("n_iter_median", "n_iter_p90",
                                                          "n_iter_max")),
        _pct(run, "mlp0", "overlap", "converged_frac"),
        (run.ours("mlp0", "overlap")["max_iter"], 1),
        (run.ours("mlp0", "overlap")["n_iter_median"], 1),
        _pct(run, "perceptron", "overlap", "converged_frac"),
        (run.ours("perceptron", "overlap")["max_iter"], 1)],
    rf"On (?P<regime>xor|circles) the MLP with a hidden layer reached {N} mean train "
    rf"accuracy \({N} test\) vs {N} \({N}\) for the GLM: [^.]*\.": lambda m, run: [
        (run.ours("mlp8", m["regime"])["train_accuracy_mean"], 1),
        (run.ours("mlp8", m["regime"])["test_accuracy_mean"], 1),
        (run.ours("glm", m["regime"])["train_accuracy_mean"], 1),
        (run.ours("glm", m["regime"])["test_accuracy_mean"], 1)],
    rf"Judged by scikit-learn's rule \(a loss that has not improved by 1e-4 for more than 10 "
    rf"steps\), replayed on each fit's own losses, (?P<model>mlp\d+) would have stopped on "
    rf"{P} of separable, {P} of overlap, (?P<quasi_stop>{P} of quasi, )?{P} of xor, {P} of "
    rf"circles data sets \(median step (?P<medians>(?:(?:{NUMBER}|{DASH}), )*(?:{NUMBER}|"
    rf"{DASH}))\); by our strict rule it converged on {P}, {P}, (?P<quasi_ours>{P}, )?{P}, "
    rf"{P}\.": _sentence_replayed,
    r"No fit of ours, in any case, ended with non-finite parameters\.": lambda m, run: (
        [] if not any(r.get("nan_frac") for r in run.rows) else [(float("nan"), 1)]),
    rf"Against (?P<library>.+), which fits one data set at a time, our fits per second ranged "
    rf"(?:from )?{X} \((?P<low_model>\S+) on (?P<low_regime>\S+)\)(?P<high> to {X} "
    rf"\((?P<high_model>\S+) on (?P<high_regime>\S+)\))? of its own: "
    rf"(?P<verdict>ours was [^.]+)\.": _sentence_speed,
}


def _check_sentences(readme: str, run: Run) -> list[str]:
    problems = []
    section = readme.split("## What the numbers say", 1)[1].split("\n## ", 1)[0]
    sentences = [line[2:] for line in section.splitlines() if line.startswith("- ")]
    if not sentences:
        return ["no sentences"]
    for sentence in sentences:
        found = next(((re.fullmatch(pattern, sentence), expected)
                      for pattern, expected in SENTENCES.items()
                      if re.fullmatch(pattern, sentence)), None)
        if found is None:
            problems.append(f"unknown sentence: {sentence}")
            continue
        match, expected = found
        numbers = [text for _, text in _numbered_groups(match)]
        values = expected(match, run)
        if len(numbers) != len(values):
            problems.append(f"{len(numbers)} numbers, {len(values)} expected: {sentence}")
            continue
        for text, (value, scale) in zip(numbers, values):
            if not _shown(text, value, scale):
                problems.append(f"{text} is not {value} x {scale}: {sentence}")
    return problems


def _numbered_groups(match: re.Match):
    """The matched number groups (unnamed groups that matched a number), in order."""
    named = set(match.re.groupindex.values())
    for index in range(1, (match.re.groups or 0) + 1):
        text = match.group(index)
        if index not in named and text is not None and re.fullmatch(NUMBER, text):
            yield index, text


def check_readme(readme: str, data: dict) -> list[str]:
    """Every problem found reading ``readme`` back against the run's JSON ``data``."""
    run = Run(data)
    problems = _check_header(readme, run) + _check_convergence(readme, run)
    (speed,) = _tables(readme, "### Ours", "\n### ")
    problems += _check_rows_of_ours(speed, run, "fit")
    (scaling,) = _tables(readme, "### Throughput against the number of data sets")
    problems += _check_rows_of_ours(scaling, run, "scaling")
    (reference,) = _tables(readme, "### Reference libraries", "\n### ")
    problems += _check_baselines(reference, run)
    for heading, check, kinds, empty in (
            ("### JAX peers", _check_peers, {"peer"}, "No JAX peer row ran in this run."),
            ("### Real data, resampled", _check_resampled, {"fit"},
             "No resampled real-data regime ran in this run.")):
        tables = _tables(readme, heading, "\n### ")
        if tables:
            problems += check(tables[0], run)
        elif empty not in readme.split(heading, 1)[1].split("\n### ", 1)[0]:
            problems.append(f"{heading}: neither a table nor {empty!r}")
        elif heading == "### JAX peers" and any(r["kind"] in kinds for r in run.rows):
            problems.append("peer rows but no peer table")
    return problems + _check_sentences(readme, run)


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[str, dict]:
    root = tmp_path_factory.mktemp("numbers")
    shutil.copy(FIXTURE, root / "run.json")
    folder = publish(root / "run.json", root / "results")
    return (folder / "README.md").read_text(), json.loads(FIXTURE.read_text())


def test_every_number_of_the_readme_is_the_runs(published):
    readme, data = published
    assert check_readme(readme, data) == []


def _swap_columns(readme: str, heading: str, a: str, b: str) -> str:
    lines = readme.splitlines()
    start = lines.index(heading)
    header = None
    for i in range(start + 1, len(lines)):
        if not lines[i].startswith("|"):
            if header is not None:
                break
            continue
        cells = re.split(r"(?<!\\)\|", lines[i])
        if header is None:
            header = [c.strip() for c in cells]
            continue
        ia, ib = header.index(a), header.index(b)
        if not set(cells[ia].strip()) <= set("-:"):
            cells[ia], cells[ib] = cells[ib], cells[ia]
        lines[i] = "|".join(cells)
    return "\n".join(lines)


def test_swapping_two_speed_columns_is_caught(published):
    readme, data = published
    swapped = _swap_columns(readme, "### Ours", "fits/s", "compile s")
    assert swapped != readme
    assert any("fits/s" in p for p in check_readme(swapped, data))


def test_a_fraction_printed_as_a_percentage_is_caught(published):
    readme, data = published
    wrong = readme.replace("The perceptron converged on 100% of separable",
                           "The perceptron converged on 1.0% of separable")
    assert wrong != readme
    assert any("1.0 is not" in p for p in check_readme(wrong, data))


@pytest.mark.parametrize("old, new", [
    ("| converged %", "| converged ratio"),  # a row the checker does not know
    ("No fit of ours, in any case,", "No fit of ours in any case"),  # an unknown sentence
])
def test_what_the_checker_does_not_know_is_a_problem(published, old, new):
    readme, data = published
    assert old in readme
    assert check_readme(readme.replace(old, new, 1), data) != []


def test_a_changed_number_in_a_sentence_is_caught(published):
    readme, data = published
    match = re.search(r"reached (\d\.\d{3}) mean train accuracy", readme)
    wrong = readme.replace(match[0], "reached 0.999 mean train accuracy", 1)
    assert any("0.999 is not" in p for p in check_readme(wrong, data))


def test_a_changed_median_step_of_the_replayed_rule_is_caught(published):
    readme, data = published
    match = re.search(r"\(median step ([^)]*)\)", readme)
    steps = match[1].split(", ")
    index = next(i for i, step in enumerate(steps) if step != DASH)
    steps[index] = str(int(steps[index]) + 1)
    wrong = readme.replace(match[0], f"(median step {', '.join(steps)})", 1)
    assert any("numbers" in p or "is not" in p for p in check_readme(wrong, data))


@pytest.fixture(scope="module")
def capped_subset(tmp_path_factory) -> tuple[str, dict]:
    """The fixture as a subset run whose MLP rows fitted fewer data sets (their cap)."""
    root = tmp_path_factory.mktemp("capped")
    data = json.loads(FIXTURE.read_text())
    for benchmark in data["benchmarks"]:
        info = benchmark["extra_info"]
        if info.get("kind") in ("fit", "scaling") and info["model"].startswith("mlp"):
            info["n_datasets"] = 2
    data["glmnn"]["suite_size"] = len(data["benchmarks"]) + 8
    (root / "run.json").write_text(json.dumps(data))
    folder = publish(root / "run.json", root / "results")
    return (folder / "README.md").read_text(), data


def test_the_data_sets_per_model_and_the_subset_are_read_back(capped_subset):
    readme, data = capped_subset
    assert ("- data sets per fit case: 4 (perceptron, glm, glm_firth, glm_poisson, glm_gamma);"
            " 2 (mlp0, mlp8)") in readme
    rows = sum("kind" in b["extra_info"] for b in data["benchmarks"])
    assert f"- selection: **a subset**, {rows} of the preset's {rows + 8} benchmark rows" in \
        readme
    assert check_readme(readme, data) == []
    for old, new in ((" 2 (mlp0, mlp8)", " 3 (mlp0, mlp8)"),
                     (f"{rows} of the preset's", f"{rows + 1} of the preset's")):
        assert any(("data sets" in p or "selection" in p)
                   for p in check_readme(readme.replace(old, new), data)), old


def test_a_changed_number_in_a_peer_or_resampled_sentence_is_caught(published):
    readme, data = published
    for pattern, replacement in (
            (r"(On overlap data glmax IRLSFitter reported converged on )(\d+)%", r"\g<1>37%"),
            (r"(bootstrap resamples the GLM reported separation on )([\d.]+)%", r"\g<1>12.5%")):
        wrong, count = re.subn(pattern, replacement, readme, count=1)
        assert count == 1 and wrong != readme
        assert any("is not" in p for p in check_readme(wrong, data)), pattern


@pytest.fixture(scope="module")
def with_verdicts(tmp_path_factory) -> tuple[str, dict]:
    """The fixture with the linear program's verdicts, a quasi regime and the no-verdict row.

    The fixture predates the verdict: its binomial rows gain the verdict's fields (values
    chosen to reach every branch: undecided data sets, a status that disagrees), the
    separable rows a ``quasi`` twin, and the GLM's overlap row a ``glm_no_verdict`` twin at
    0.95 of its speed.
    """
    root = tmp_path_factory.mktemp("verdicts")
    data = json.loads(FIXTURE.read_text())
    binomial = {"separable", "overlap", "xor", "circles", "cancer", "wine", "iris"}
    twins = []
    for benchmark in data["benchmarks"]:
        info = benchmark["extra_info"]
        if info.get("kind") != "fit" or info["regime"] not in binomial:
            continue
        info.update(lp_complete_frac=0.75 if info["regime"] == "separable" else 0.0,
                    lp_quasi_frac=0.25 if info["regime"] == "iris" else 0.0,
                    lp_undecided_frac=0.25 if info["regime"] in ("xor", "iris") else 0.0,
                    converged_on_complete_frac=0.5 if info["regime"] == "separable" else None,
                    separated_agrees_frac=0.75 if info["regime"] == "iris" else 1.0)
        if info["regime"] == "separable":
            twin = json.loads(json.dumps(benchmark))
            twin["extra_info"].update(regime="quasi", lp_complete_frac=0.0, lp_quasi_frac=1.0,
                                      converged_on_complete_frac=None)
            twins.append(twin)
        if info["model"] == "glm" and info["regime"] == "overlap" and info["dtype"] == "float64":
            twin = json.loads(json.dumps(benchmark))
            twin["extra_info"].update(model="glm_no_verdict",
                                      fits_per_s=info["fits_per_s"] / 0.95)
            for row, fastest in ((benchmark, 0.02), (twin, 0.019)):  # rounds' minima
                row["extra_info"]["timed"] = True
                row["stats"]["min"] = fastest
            twins.append(twin)
    data["benchmarks"] += twins
    (root / "run.json").write_text(json.dumps(data))
    folder = publish(root / "run.json", root / "results")
    return (folder / "README.md").read_text(), data


def test_the_verdicts_sentences_and_columns_are_read_back(with_verdicts):
    readme, data = with_verdicts
    assert check_readme(readme, data) == []
    for expected in ("the linear program found 75% completely and 0% quasi-completely "
                     "separated", "of quasi,", "quasi-separated data (a rare exposure",
                     "0.95 of its speed by the medians and 0.95 by the fastest rounds",
                     "| 0 / 25 ", "(25 undecided)",
                     "25% quasi-completely separated (25% undecided);",
                     "the perceptron converged on 50% of those"):
        assert expected in readme, expected
    for old, new in (("0.95 of its speed", "0.96 of its speed"),
                     ("0.95 by the fastest", "0.90 by the fastest"),
                     ("| 0 / 25 ", "| 0 / 35 "),
                     ("found 75% completely", "found 76% completely"),
                     ("converged on 50% of those", "converged on 60% of those"),
                     ("separated (25% undecided);", "separated (20% undecided);")):
        assert check_readme(readme.replace(old, new, 1), data) != [], old
