"""Every number of a published README, read back and checked against the run's JSON.

The report gives each sentence, and each cell of each table, as data (:mod:`bench.quotes`):
a template and the numbers it quotes. The README must hold its text, and each quote is
looked up in the JSON row its case keys name (not in the report's records) and checked
against the number written for it. A number matches when it equals the value rounded to the
digits shown; a digit outside a quote, a table the report does not make, or a header, row
or sentence other than the report's, is a problem.
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
from bench.report.readme import readme_tables
from bench.report.sentences import quoted_sentences, render
from bench.report.tables import ceilings_line

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


def _tables(readme: str, heading: str, stop: str = "\n### ") -> list[list[list[str]]]:
    """Every markdown table between ``heading`` (a line of its own) and ``stop``."""
    tables, current = [], []
    parts = (readme + "\n").split(heading + "\n", 1)
    section = parts[1].split(stop, 1)[0] if len(parts) == 2 else ""
    for line in section.splitlines() + [""]:
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
            "extra_info"].get("timed") and "min" in (b.get("stats") or {}) else {}), **(
            {"round_seconds": b["stats"]["data"]} if b["extra_info"].get("timed") is not False
            and "data" in (b.get("stats") or {}) else {}))
            for b in self.data["benchmarks"] if "kind" in b["extra_info"]]

    def one(self, **keys) -> dict:
        found = [r for r in self.rows if all(r.get(k) == v for k, v in keys.items())]
        assert len(found) == 1, (keys, len(found))
        return found[0]


#: The package versions an older run recorded, each under a key of its own.
OLD_PACKAGES = ("jax", "jaxlib", "optax", "numpy", "statsmodels", "scikit_learn")


def _check_quoted(text: str, sentence: Sentence, run: Run) -> list[str]:
    """``text`` is ``sentence`` as rendered, and each of its quotes is the run's number."""
    match = re.fullmatch("(.+?)".join(map(re.escape, sentence.template.split("{}"))), text)
    if match is None:
        return [f"unknown: {text}"]
    problems = [] if text == render(sentence) else [f"not as rendered: {text}"]
    if re.search(r"(?<![\w.])\d", sentence.template):
        problems.append(f"a number no quote accounts for: {sentence.template}")
    for shown, quote in zip(match.groups(), sentence.quotes):
        if quote.refs:  # (without: words of the prose, a name or a constant)
            value = quote.compute(_field(run.one(**dict(r.case)), r.field) for r in quote.refs)
            if not _shown(shown, value, quote.format.scale):
                problems.append(f"{shown} is not {value} x {quote.format.scale}: {text}")
    return problems


def _check_tables(readme: str, run: Run) -> list[str]:
    """Each table is the report's, cell by cell, and no other table is in the README."""
    built, problems = readme_tables(list(run.record.cases)), []
    for heading in re.findall(r"^### .+$", readme, re.M):
        if _tables(readme, heading) and heading not in built:
            problems.append(f"{heading}: a table the report does not make")
    for heading, table in built.items():
        header, *rows = (_tables(readme, heading) or [[[]]])[0]
        if header != table.header or len(rows) != len(table.rows):
            problems.append(f"{heading}: {len(rows)} rows under {header}")
        problems += [f"{heading} {column}: {problem}" for cells, cells_built in zip(
            rows, table.rows) for column, text, sentence in zip(header, cells, cells_built)
            for problem in _check_quoted(text, sentence, run)]
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
    shown = {"CPU": f"{info['cpu_model']}, {info['cpu_count']} cores",
             "pytest-benchmark": info["version"]}
    problems += [f"machine: {k}" for k, text in shown.items() if machine[k] != text]
    packages = info.get("packages") or {k.replace("_", "-"): info.get(k) for k in OLD_PACKAGES}
    rows = [row for row in machine if row in packages]
    problems += [f"machine: {p}" for p, version in packages.items()
                 if machine.get(p) != (version or "not installed")]
    problems += [] if rows == list(packages) else [f"machine: packages {rows}"]
    line = next((x for x in readme.splitlines() if x.startswith("Ceilings measured")), "")
    return problems + [f"ceilings: {p}" for p in _check_quoted(line, ceilings_line(list(
        run.record.cases), run.record.ceilings), run)]


def check_readme(readme: str, data: dict) -> list[str]:
    """Every problem found reading ``readme`` back against the run's JSON ``data``."""
    run = Run(data)
    section = readme.split("## What the numbers say", 1)[1].split("\n## ", 1)[0]
    lines = [x[2:] for x in section.splitlines() if x.startswith("- ")]
    built = quoted_sentences(list(run.record.cases), timed=run_metadata(run.record)["timed"])
    problems = [] if lines and len(lines) == len(built) else [
        f"{len(lines)} sentences in the README, {len(built)} built"]
    return problems + _check_header(readme, run) + _check_tables(readme, run) + [
        p for line, sentence in zip(lines, built) for p in _check_quoted(line, sentence, run)]


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
    ("golden", "| converged %", "| converged ratio", "unknown: converged ratio"),
    ("golden", "No fit of ours, in any case,", "No fit of ours in any case", "unknown: No fit"),
    ("golden", "| AMD EPYC, 2 cores |", "| AMD EPYC, 4 cores |", "CPU"),
    ("golden", "| statsmodels | 0.15.0 |", "| statsmodels | 0.14.0 |", "machine: statsmodels"),
    ("enriched", "| glmax | not installed |", "| glmax | 0.1 |", "machine: glmax"),
    ("enriched", "| scikit-learn |", "| sklearn |", "machine: scikit-learn"),
    ("golden", "at 63.9 GFLOP/s", "at 64.9 GFLOP/s", "ceilings"),
    ("golden", "| 4 / 6 (budget 25) |", "| 4 / 6 (budget 20) |", "iterations median / max"),
    ("enriched", " 2 (mlp0, mlp8)", " 3 (mlp0, mlp8)", "data sets of mlp0"),
    ("enriched", "**a subset**, 79 of", "**a subset**, 80 of", "selection"),
    ("enriched", "100% of quasi,", "90% of quasi,", "90% is not"),
    ("enriched", "0.95 of its speed", "0.96 of its speed", "0.96 is not"),
    ("enriched", "0.95 by the fastest", "0.90 by the fastest", "0.90 is not"),
    ("enriched", "| 0 / 25 (25 undecided) |", "| 0 / 35 (25 undecided) |", "LP: complete"),
    ("enriched", "found 75% completely", "found 76% completely", "76% is not"),
    ("enriched", "converged on 50% of those", "converged on 60% of those", "60% is not"),
    ("enriched", "separated (25% undecided);", "separated (20% undecided);", "20% is not"),
    ("enriched", "on 75% (statuses: separated 4)", "on 75% (statuses: separated 3)", "3 is not"),
    ("enriched", "95% CI 943×–", "95% CI 900×–", "900× is not"),  # an interval's end
])
def test_a_wrong_number_is_caught(readmes, which, old, new, expected):
    readme, data = readmes[which]
    assert old in readme
    problems = check_readme(readme.replace(old, new, 1), data)
    assert any(expected in p for p in problems), problems


def test_a_number_written_into_a_template_is_a_problem():
    assert _check_quoted("It ran 20 epochs.", Sentence("It ran 20 epochs."), Run(json.loads(
        FIXTURE.read_text()))) == ["a number no quote accounts for: It ran 20 epochs."]
