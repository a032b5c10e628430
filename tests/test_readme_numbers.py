"""Every number of a published README, read back and checked against the run's JSON.

Tables: the checker knows each column and convergence row as a template of the fields it
shows (``{field}``; ``{field%}`` in percent). Sentences: the report's builders give each as
data (:mod:`bench.quotes`); the README must hold its text, and each quote is looked up
in the JSON row its case keys name (not in the report's records) and checked against the
number written for it. A number matches when it equals the value rounded to the digits
shown; a digit outside a quote, or a row, column or sentence not known here, is a problem.
"""

from __future__ import annotations

import json
import pathlib
import re
import tempfile
from collections import Counter

import pytest
from _golden import enriched, normalized_tables

from bench.quotes import Sentence
from bench.record import read_run
from bench.report import publish, run_metadata
from bench.report.sentences import quoted_sentences, render

DATA = pathlib.Path(__file__).parent / "data"
FIXTURE, DASH = DATA / "smoke-run.json", "–"


def _shown(text: str, value, scale: float | None = 1) -> bool:
    """Whether ``text`` is ``value * scale`` written with the digits it shows (or the text)."""
    if isinstance(value, str) or scale is None:
        return text == str(value)
    if value is None or value != value:
        return text == DASH
    body = text.replace(",", "").rstrip("×%")
    mantissa, _, exponent = body.partition("e")
    try:
        place = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
        return abs(float(body) - value * scale) <= 0.5 * place * (1 + 1e-9) + 1e-12
    except ValueError:
        return False


def _field(row: dict, field: str):
    for part in field.split("."):
        row = (row or {}).get(part)
    return row


def _cell(cell: str, template, row: dict) -> bool:
    """Whether ``cell`` is ``template`` (a string or ``row -> string``) filled from ``row``."""
    parts = re.split(r"\{([^{}]+)\}", template(row) if callable(template) else template)
    fields = parts[1::2]
    if cell == DASH and len(fields) > 1:  # several values, the first missing: one dash
        return _field(row, fields[0].rstrip("%")) is None
    match = re.fullmatch("(.+?)".join(map(re.escape, parts[::2])), cell)
    return bool(match) and all(_shown(text, _field(row, f.rstrip("%")), 100 ** f.endswith("%"))
                               for text, f in zip(match.groups(), fields))


def _tables(readme: str, heading: str, stop: str = "\n### ") -> list[list[list[str]]]:
    """Every markdown table between ``heading`` and ``stop``, as rows of cells."""
    tables, current = [], []
    for line in readme.split(heading, 1)[1].split(stop, 1)[0].splitlines() + [""]:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if line.startswith("|") and not all(c and set(c) <= set("-:") for c in cells):
            current.append(cells)
        elif not line.startswith("|") and current:
            tables, current = tables + [current], []
    return tables


class Run:
    """The run's JSON rows (``extra_info``, with pytest-benchmark's fastest round if timed)."""

    def __init__(self, data: dict):
        with tempfile.TemporaryDirectory() as folder:  # the report's records, as it reads them
            (path := pathlib.Path(folder, "run.json")).write_text(json.dumps(data))
            self.data, self.record = data, read_run(path)
        self.rows = [dict(b["extra_info"], **({"seconds_min": b["stats"]["min"]} if b[
            "extra_info"].get("timed") and "min" in (b.get("stats") or {}) else {}))
            for b in self.data["benchmarks"] if "kind" in b["extra_info"]]

    def one(self, **keys) -> dict:
        found = [r for r in self.rows if all(r.get(k) == v for k, v in keys.items())]
        assert len(found) == 1, (keys, len(found))
        return found[0]

    def ours(self, model: str, regime: str) -> dict:
        """Our fit case the README compares with: float64 where it exists."""
        fits = [r for r in self.rows if (r["kind"], r["model"], r.get("regime")) == (
            "fit", model, regime)]
        return next((r for r in fits if r["dtype"] == "float64"), fits[0])


LP = lambda r: "{lp_complete_frac%} / {lp_quasi_frac%}" + (  # noqa: E731
    " ({lp_undecided_frac%} undecided)" if r.get("lp_undecided_frac") else "")
#: Convergence-table row label (a pattern; a named group is a field) -> cell template.
ROWS = {"data sets": "{n_datasets}", "converged %": "{converged_frac%}",
        "separated %": "{separated_frac%}", "non-finite %": "{nan_frac%}",
        "statuses": lambda r: ", ".join(f"{k} {n}" for k, n in r["status_counts"].items()
                                        if n) or DASH,
        r"(epochs|iterations|gradient steps) median / p90 / max \(budget (?P<max_iter>\d+)\)":
            "{n_iter_median} / {n_iter_p90} / {n_iter_max}",
        r"train accuracy mean \(q10\)": "{train_accuracy_mean} ({train_accuracy_q10})",
        r"test accuracy mean \(q10\)": "{test_accuracy_mean} ({test_accuracy_q10})",
        r"final (deviance / n|cross-entropy|mistakes / n per epoch) median \(mean\)":
            "{final_loss_median} ({final_loss_mean})", "mean n_updates": "{n_updates_mean}",
        r"scikit-learn's rule would stop % \(median step\)":
            "{replay_stop_frac%} ({replay_stop_median})",
        r"max n_updates / \(R/γ\)²": "{novikoff_max_ratio}", "LP: complete / quasi %": LP,
        "converged % of LP-complete": "{converged_on_complete_frac%}",
        "status = LP verdict %": "{separated_agrees_frac%}"}
#: Column header -> cell template (None: words, unchecked), of every other table.
COLUMNS = {"model": "{model}", "regime": "{regime}", "dtype": "{dtype}",
           "library": "{baseline}", "data sets": "{n_datasets}", "median s": "{seconds}",
           "fits/s": "{fits_per_s}", "compile s": "{compile_s}", "GFLOP/s": "{gflops}",
           "GB/s": "{gbps}", "% roofline": "{roofline_pct}", "lane eff.": "{lane_efficiency%}",
           "converged %": "{converged_frac%}", "data sets fitted": "{n_datasets}",
           "their fits/s": "{fits_per_s}", "their converged %": "{converged_frac%}",
           "our fits/s (dtype)": "{our fits_per_s} ({our dtype})",
           "our fits/s": "{our fits_per_s} ({our dtype})", "speedup": "{speedup}",
           "our converged % / separated %": "{our converged_frac%} / {our separated_frac%}",
           "batching": None, "their converged % (flag)": "{converged_frac%} ({converged_scope})",
           "iterations median / max": "{n_iter_median} / {n_iter_max} (budget {max_iter})",
           "stopping rule": "{tolerance}", "max |Δcoef| median": "{coef_diff_median}",
           "data": None, "rows × features": "{n_samples} × {n_features}",
           "resamples (glm)": "{n_datasets}", "LP: complete / quasi %": LP,
           "separated % (glm)": "{separated_frac%}"}
#: Machine-table row -> cell template (and a row per package the run recorded).
MACHINE = {"CPU": "{cpu_model}, {cpu_count} cores", "pytest-benchmark": "{version}"}
#: The package versions an older run recorded, each under a key of its own.
OLD_PACKAGES = ("jax", "jaxlib", "optax", "numpy", "statsmodels", "scikit_learn")
#: Heading -> (the kind of its rows, what it says instead where it may have no table).
TABLES = {"### Ours": ("fit", None), "### Reference libraries": ("baseline", None),
          "### JAX peers": ("peer", "No JAX peer row ran in this run."),
          "### Real data, resampled": ("resampled", "No resampled real-data regime ran"),
          "### Throughput against the number of data sets": ("scaling", None)}


def _row(run: Run, kind: str, cells: dict) -> dict:
    """The JSON row a table row shows (a baseline's or peer's with ours as ``our ...``)."""
    if kind == "resampled":  # the GLM's row, and each model's converged share by its name
        return {**run.ours("glm", cells["regime"]), **{m: run.ours(m, cells["regime"])[
            "converged_frac"] for m in (h[:-12] for h in cells if h.endswith(" converged %"))}}
    keys = dict(kind=kind, model=cells["model"], regime=cells["regime"])
    if kind in ("fit", "scaling"):
        return run.one(**keys, dtype=cells["dtype"], **({"n_datasets": int(cells[
            "data sets"].replace(",", ""))} if kind == "scaling" else {}))
    theirs = run.one(**keys, baseline=cells["library"])
    ours = run.ours(cells["model"], cells["regime"])
    return {**theirs, **{f"our {k}": v for k, v in ours.items()},
            "speedup": ours["fits_per_s"] / theirs["fits_per_s"]}


def _check_tables(readme: str, run: Run) -> list[str]:
    problems = []
    for header, *table in _tables(readme, "### Every model, every regime", "\n## Speed"):
        model, dtypes = header[0].split(":")[0], {"f32": "float32", "f64": "float64"}
        rows = [run.one(kind="fit", model=model, regime=c.split()[0], dtype=dtypes[c.split()[1]])
                for c in header[1:]]
        for label, *cells in table:  # a field in the label (the budget) is checked too
            found = [(m, t) for p, t in ROWS.items() if (m := re.fullmatch(p, label))]
            problems += [f"{model}: unknown row {label!r}"] if not found else [
                f"{model} {r['regime']} {r['dtype']}: {label} = {cell!r}"
                for cell, r in zip(cells, rows) if not _cell(cell, found[0][1], r) or not all(
                    _shown(text, r[k]) for k, text in found[0][0].groupdict().items())]
    for heading, (kind, empty) in TABLES.items():
        tables = _tables(readme, heading)
        if not tables and (empty is None or empty not in readme.split(heading, 1)[1].split(
                "\n### ")[0] or any(r["kind"] == kind for r in run.rows)):
            problems.append(f"{heading}: no table")
        for header, *rows in tables[:1]:
            templates = ["{" + c[:-12] + "%}" if kind == "resampled" and c.endswith(
                " converged %") else COLUMNS.get(c, "unknown column") for c in header]
            for cells in rows:
                row = _row(run, kind, dict(zip(header, cells)))
                problems += [f"{heading} {cells[:3]}: {column} = {cell!r}" for column, cell, t
                             in zip(header, cells, templates) if t and not _cell(cell, t, row)]
    return problems


def _check_header(readme: str, run: Run) -> list[str]:
    head = dict(x[2:].split(": ", 1) for x in readme.split("## Machine")[0].splitlines()
                if x.startswith("- "))
    glmnn, fits = run.data["glmnn"], [r for r in run.rows if r["kind"] == "fit"]
    shown = {kind: int(n) for n, kind in (p.split(" ") for p in head["cases"].split(", "))}
    problems = [] if shown == Counter(r["kind"] for r in run.rows) else [f"cases {shown}"]
    line = head.get("data sets per fit case", "")  # "N (model, ...); ..." or "N, every model"
    sizes = {m: n for n, models in re.findall(r"(\S+) \(([^)]+)\)", line)
             for m in models.split(", ")} or {r["model"]: line[:-13] for r in fits}
    problems += [f"data sets of {r['model']} {r['regime']} {r['dtype']}" for r in fits
                 if not _shown(sizes.get(r["model"], "?"), r["n_datasets"])]
    problems += [f"data sets of {m}" for m in set(sizes) - {r["model"] for r in fits}]
    size, n, skipped = glmnn.get("suite_size"), len(run.rows), len(glmnn.get("skipped") or {})
    selection = size and (f"the whole matrix of the preset, {n} benchmark rows" if n + skipped
                          >= size else f"**a subset**, {n} of the preset's {size} benchmark rows")
    if bool(selection) != ("selection" in head) or not head.get("selection", "").startswith(
            selection or ""):
        problems.append(f"selection {head.get('selection')!r}")
    machine = dict(_tables(readme, "## Machine and software", "\n## ")[0])
    info = {**run.data["machine_info"]["glmnn"], "version": run.data["version"]}
    problems += [f"machine: {k}" for k, t in MACHINE.items() if not _cell(machine[k], t, info)]
    packages = info.get("packages") or {k.replace("_", "-"): info.get(k) for k in OLD_PACKAGES}
    rows = [row for row in machine if row in packages]
    problems += [f"machine: {p}" for p, version in packages.items()
                 if machine.get(p) != (version or "not installed")]
    problems += [] if rows == list(packages) else [f"machine: packages {rows}"]
    ceilings = next((r for r in run.rows if r["kind"] == "ceilings"), glmnn.get("ceilings"))
    line = next((x for x in readme.splitlines() if x.startswith("Ceilings measured")), ": ")
    if not _cell(line.split(": ", 1)[1].split(". GFLOP/s", 1)[0], "a {matmul_size}² matmul at "
                 "{matmul_gflops_float64} GFLOP/s (float64) and {matmul_gflops_float32} GFLOP/s "
                 "(float32); a {copy_mib} MiB copy at {copy_gbps} GB/s", ceilings):
        problems.append("ceilings line")
    return problems


def _check_sentences(lines: list[str], sentences: list[Sentence], run: Run) -> list[str]:
    """Each README sentence is the builders' sentence, and each of its quotes the run's."""
    problems = [] if lines and len(lines) == len(sentences) else [
        f"{len(lines)} sentences in the README, {len(sentences)} built"]
    for line, sentence in zip(lines, sentences):
        match = re.fullmatch("(.+?)".join(map(re.escape, sentence.template.split("{}"))), line)
        if match is None:
            problems.append(f"unknown sentence: {line}")
            continue
        problems += [f"not as rendered: {line}"] if line != render(sentence) else []
        if re.search(r"(?<![\w.])\d", sentence.template):
            problems.append(f"a number no quote accounts for: {sentence.template}")
        for text, quote in zip(match.groups(), sentence.quotes):
            if quote.refs:  # (without: words of the prose, a name or a constant)
                value = quote.compute(_field(run.one(**dict(r.case)), r.field) for r in quote.refs)
                if not _shown(text, value, quote.format.scale):
                    problems.append(f"{text} is not {value} x {quote.format.scale}: {line}")
    return problems


def check_readme(readme: str, data: dict) -> list[str]:
    """Every problem found reading ``readme`` back against the run's JSON ``data``."""
    run = Run(data)
    section = readme.split("## What the numbers say", 1)[1].split("\n## ", 1)[0]
    sentences = quoted_sentences(list(run.record.cases), timed=run_metadata(run.record)["timed"])
    return _check_header(readme, run) + _check_tables(readme, run) + _check_sentences(
        [x[2:] for x in section.splitlines() if x.startswith("- ")], sentences, run)


@pytest.fixture(scope="module")
def readmes(tmp_path_factory) -> dict[str, tuple[str, dict]]:
    """The fixture's golden README (what publishing it gives, tests/test_golden.py), and the
    published README of the fixture enriched (tests/_golden.py): the one publish here; their
    tables unpadded (tests/_golden.py), so that a test can edit a cell by its text."""
    root = tmp_path_factory.mktemp("numbers")
    data = enriched(json.loads(FIXTURE.read_text()))
    (root / "run.json").write_text(json.dumps(data))
    folder = publish(root / "run.json", root / "results")
    return {"golden": (normalized_tables((DATA / "golden" / "README.md").read_text()),
                       json.loads(FIXTURE.read_text())),
            "enriched": (normalized_tables((folder / "README.md").read_text()), data)}


@pytest.mark.parametrize("which", ["golden", "enriched"])
def test_every_number_of_the_readme_is_the_runs(readmes, which):
    assert check_readme(*readmes[which]) == []


@pytest.mark.parametrize("which, old, new, expected", [  # old is there: its branch was reached
    ("golden", "perceptron converged on 100% of separable",  # a fraction as a percentage
     "perceptron converged on 1.0% of separable", "1.0% is not"),
    ("golden", "reached 0.812 mean train", "reached 0.999 mean train", "0.999 is not"),
    ("golden", "(median step –, 42, 44,", "(median step –, 43, 44,", "43 is not"),
    ("golden", "IRLSFitter reported converged on 100%", "IRLSFitter reported converged on 37%",
     "37% is not"),
    ("golden", "the GLM reported separation on 75%", "the GLM reported separation on 12.5%",
     "12.5% is not"),
    ("golden", "| fits/s | compile s |", "| compile s | fits/s |", "fits/s"),  # columns swapped
    ("golden", "| converged %", "| converged ratio", "unknown row"),
    ("golden", "No fit of ours, in any case,", "No fit of ours in any case", "unknown sentence"),
    ("golden", "| AMD EPYC, 2 cores |", "| AMD EPYC, 4 cores |", "CPU"),
    ("golden", "| statsmodels | 0.15.0 |", "| statsmodels | 0.14.0 |", "machine: statsmodels"),
    ("enriched", "| glmax | not installed |", "| glmax | 0.1 |", "machine: glmax"),
    ("enriched", "| scikit-learn |", "| sklearn |", "machine: scikit-learn"),
    ("golden", "at 63.9 GFLOP/s", "at 64.9 GFLOP/s", "ceilings"),
    ("golden", "| 4 / 6 (budget 25) |", "| 4 / 6 (budget 20) |", "iterations median / max"),
    ("enriched", " 2 (mlp0, mlp8)", " 3 (mlp0, mlp8)", "data sets of mlp0"),
    ("enriched", "**a subset**, 76 of", "**a subset**, 77 of", "selection"),
    ("enriched", "100% of quasi,", "90% of quasi,", "90% is not"),
    ("enriched", "0.95 of its speed", "0.96 of its speed", "0.96 is not"),
    ("enriched", "0.95 by the fastest", "0.90 by the fastest", "0.90 is not"),
    ("enriched", "| 0 / 25 (25 undecided) |", "| 0 / 35 (25 undecided) |", "LP: complete"),
    ("enriched", "found 75% completely", "found 76% completely", "76% is not"),
    ("enriched", "converged on 50% of those", "converged on 60% of those", "60% is not"),
    ("enriched", "separated (25% undecided);", "separated (20% undecided);", "20% is not"),
    ("enriched", "on 75% (statuses: separated 4)", "on 75% (statuses: separated 3)", "3 is not"),
])
def test_a_wrong_number_is_caught(readmes, which, old, new, expected):
    readme, data = readmes[which]
    assert old in readme
    problems = check_readme(readme.replace(old, new, 1), data)
    assert any(expected in p for p in problems), problems


def test_a_number_written_into_a_template_is_a_problem():
    assert _check_sentences(["It ran 20 epochs."], [Sentence("It ran 20 epochs.")], Run(
        json.loads(FIXTURE.read_text()))) == ["a number no quote accounts for: It ran 20 epochs."]
