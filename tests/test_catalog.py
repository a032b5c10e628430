"""bench.catalog: every entry has every piece, and one new entry reaches every table and plot.

The extension test adds an MLP with 16 hidden units to the catalog, from a fixture and no
other file, runs the smoke preset through ``pytest --benchmark`` (a subprocess, with the
entry added by a plugin the fixture writes), publishes the run, and finds the new model in
the convergence, speed, reference-library and scaling tables, in ``summary.csv``, and in
the convergence and throughput plots. (The Novikoff plot is about the perceptron alone.)
"""

from __future__ import annotations

import csv
import math
import os
import pathlib
import subprocess
import sys

import pytest
from _golden import recording_plots
from matplotlib.colors import is_color_like

from bench import adapters, baselines, catalog, datasets
from bench.presets import PRESETS
from bench.report import publish

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESPONSES = ("binomial", "poisson", "gamma", "gaussian")

#: The new catalog entry, as the source a contributor would add to bench/catalog.py.
MLP16 = """
from bench import catalog

MLP16 = catalog.Model(
    "mlp16", "MLP hidden=(16,) sigmoid", "mlp", catalog.CLASSIFICATION_REGIMES, ("float32",),
    {"hidden": (16,)}, "mlp_steps", catalog.mlp_work, "tab:pink", scaling=("xor", "float32"),
    baselines=(catalog.Pairing("sklearn_mlp", ("xor",)),))
catalog.MODELS = catalog.MODELS + (MLP16,)
"""


def model_problems(entry: catalog.Model) -> list[str]:
    """What a model entry lacks (empty when it is complete)."""
    problems = []
    if not entry.name or not entry.label:
        problems.append("a name and a label")
    if entry.family not in catalog.FAMILIES or entry.family not in adapters.ADAPTERS:
        problems.append(f"a family with an adapter ({entry.family!r})")
    if not entry.regimes or not set(entry.regimes) <= {r.name for r in catalog.REGIMES}:
        problems.append("catalog regimes")
    if not entry.dtypes or not set(entry.dtypes) <= {"float32", "float64"}:
        problems.append("dtypes")
    if not is_color_like(entry.color):
        problems.append("a plot colour")
    try:
        flops, moved = entry.work(100, 5, 8, entry.settings)
        if not (math.isfinite(flops) and flops > 0 and math.isfinite(moved) and moved > 0):
            problems.append("a work model giving positive numbers")
    except Exception as error:  # noqa: BLE001 - any failure means no usable work model
        problems.append(f"a work model ({error!r})")
    for preset in PRESETS.values():
        try:
            budget = catalog.budget(entry, preset)
            if budget < 1:
                problems.append("a budget >= 1")
            adapters.ADAPTERS[entry.family](entry.settings, budget)
        except Exception as error:  # noqa: BLE001
            problems.append(f"a budget and adapter settings at {preset.name} ({error!r})")
    if entry.scaling and (entry.scaling[0] not in entry.regimes
                          or entry.scaling[1] not in entry.dtypes):
        problems.append("a sweep on its own regime and dtype")
    for pairing in entry.baselines:
        if pairing.library not in baselines.LIBRARIES or not (
                set(pairing.regimes) <= set(entry.regimes)):
            problems.append(f"a known library on its regimes ({pairing})")
    return problems


def regime_problems(regime: catalog.Regime) -> list[str]:
    """What a regime entry lacks."""
    problems = []
    if regime.name not in datasets.GENERATORS:
        problems.append("a generator")
    if regime.response not in RESPONSES:
        problems.append("a response family")
    if not is_color_like(regime.color):
        problems.append("a plot colour")
    return problems


@pytest.mark.parametrize("entry", catalog.MODELS, ids=lambda m: m.name)
def test_every_model_has_every_piece(entry):
    assert model_problems(entry) == []


@pytest.mark.parametrize("regime", catalog.REGIMES, ids=lambda r: r.name)
def test_every_regime_has_a_generator(regime):
    assert regime_problems(regime) == []


def test_names_are_unique_and_generators_are_the_catalogs():
    names = [m.name for m in catalog.MODELS]
    assert len(names) == len(set(names))
    assert set(datasets.GENERATORS) == {r.name for r in catalog.REGIMES}


@pytest.mark.parametrize("broken, lacking", [
    (dict(label=""), "a name and a label"),
    (dict(family="svm"), "a family with an adapter"),
    (dict(work=None), "a work model"),
    (dict(regimes=("spiral",)), "catalog regimes"),
    (dict(color="not-a-colour"), "a plot colour"),
    (dict(baselines=(catalog.Pairing("weka", ("xor",)),)), "a known library"),
])
def test_the_walk_fails_on_an_entry_that_lacks_a_piece(broken, lacking):
    entry = catalog.model("mlp8")._replace(**broken)
    assert any(problem.startswith(lacking) for problem in model_problems(entry))


def test_a_regime_without_a_generator_fails_the_walk():
    assert regime_problems(catalog.Regime("spiral", "binomial", "tab:pink")) == ["a generator"]


def test_unknown_names_raise_instead_of_falling_back():
    with pytest.raises(catalog.CatalogError, match="unknown model 'mlp99'"):
        catalog.family_of("mlp99")
    with pytest.raises(catalog.CatalogError, match="unknown regime 'spiral'"):
        catalog.regime("spiral")


@pytest.fixture(scope="module")
def extended_run(tmp_path_factory):
    """A smoke run of pytest --benchmark with MLP16 added to the catalog by a plugin."""
    tmp = tmp_path_factory.mktemp("mlp16")
    (tmp / "add_mlp16.py").write_text(MLP16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)])}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "add_mlp16", "-p", "no:cacheprovider", "-q",
         "--benchmark", "--bench-preset", "smoke", "bench/suite", "-k", "mlp16",
         f"--bench-results-dir={tmp / 'results'}", f"--benchmark-json={tmp / 'run.json'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return tmp


@pytest.fixture
def with_mlp16(monkeypatch):
    namespace: dict = {}
    monkeypatch.setattr(catalog, "MODELS", catalog.MODELS)  # restored after the test
    exec(MLP16, namespace)  # noqa: S102 - the entry's own source, as the plugin runs it
    return namespace["MLP16"]


def _rows(table_lines: list[str]) -> list[str]:
    return [line for line in table_lines if line.startswith("|")]


def test_a_new_catalog_entry_reaches_every_table_and_plot(extended_run, with_mlp16):
    (published,) = [p for p in (extended_run / "results").iterdir() if p.is_dir()]
    readme = (published / "README.md").read_text()
    assert "### mlp16" in readme and "mlp16: MLP hidden=(16,) sigmoid" in readme
    sections = {title: readme.split(title, 1)[1].split("\n### ", 1)[0]
                for title in ("### Ours", "### Reference libraries",
                              "### Throughput against the number of data sets")}
    for title, text in sections.items():
        assert any("| mlp16 " in row for row in _rows(text.splitlines())), title
    speed_rows = [r for r in _rows(sections["### Ours"].splitlines()) if "| mlp16 " in r]
    assert len(speed_rows) == len(with_mlp16.regimes)
    with open(published / "summary.csv", newline="") as handle:
        kinds = {row["kind"] for row in csv.DictReader(handle) if row["model"] == "mlp16"}
    assert kinds == {"fit", "scaling", "baseline"}

    with recording_plots() as plots:
        again = publish(extended_run / "run.json", extended_run / "again")
    assert (again / "convergence.png").is_file()
    convergence = plots["convergence.png"]["axes"]
    assert [ax["title"] for ax in convergence if ax["visible"]] == ["mlp16"]
    lines = next(ax for ax in convergence if ax["title"] == "mlp16")["lines"]
    assert len(lines) == len(with_mlp16.regimes)
    throughput = plots["throughput.png"]["axes"][0]
    labels = [line["label"] for line in throughput["lines"]]
    assert "mlp16 (xor, float32)" in labels
    assert "scikit-learn MLPClassifier (one at a time)" in labels
