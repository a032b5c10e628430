"""bench.catalog: every entry has every piece, adapters pass every setting on, and one plugin
module extends the benchmark without any other file changing.

The extension test writes one module, ``add_extension`` (loaded with ``-p``), that adds an
MLP with 16 tanh units, a reference library (logistic regression by Newton steps in numpy)
paired with the GLM on overlap data, and a figure drawn from fits of its own. It runs the
smoke preset through ``pytest --benchmark`` (a subprocess, selecting the new rows and the
GLM rows the library is compared with), publishes the run, and finds each new thing in every
table and plot of its kind; the repository's files are the same before and after.
"""

from __future__ import annotations

import csv
import json
import math
import os
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest
from _children import QUIET_CHILD
from _golden import recording_plots
from matplotlib.colors import is_color_like

from bench import baselines, cases, catalog, datasets, generators
from bench.families import glm
from bench.presets import PRESETS, Preset, get_preset
from bench.quotes import Sentence
from bench.record import read_run
from bench.report import publish, sentences

ROOT = pathlib.Path(__file__).resolve().parent.parent
SMOKE = get_preset("smoke")

#: The plugin: one module, as a contributor would write it. Nothing else changes.
EXTENSION = '''
"""A model, a reference library and a figure, added to the benchmark by one module."""

import sys

import numpy as np

from bench import catalog
from bench.families import mlp
from bench.record import FIGURE, CaseRecord

# (a) A model of an existing family: every setting reaches models.mlp.fit.
MODELS = (catalog.Model(
    "mlp16_tanh", "MLP hidden=(16,) tanh", "mlp", "binomial", ("float32",),
    {"hidden": (16,), "activation": "tanh"}, "mlp_steps", mlp.work, "tab:pink",
    scaling=("xor", "float32")),)


# (b) A reference library: logistic regression by a few Newton steps in numpy.
def newton_logistic(X, y, settings, budget):
    coef, step, change = np.zeros(X.shape[1]), 0, np.inf
    while step < min(budget, 8) and change > 1e-8:
        mu = 1.0 / (1.0 + np.exp(-(X @ coef)))
        hessian = X.T @ (X * (mu * (1.0 - mu))[:, None])
        delta = np.linalg.lstsq(hessian, X.T @ (y - mu), rcond=None)[0]
        coef, step, change = coef + delta, step + 1, float(np.max(np.abs(delta)))
    return {"coef": coef, "n_iter": step, "converged": change <= 1e-8}


LIBRARIES = {"numpy_newton": catalog.Library(
    "numpy Newton logistic (stub)", "numpy", newton_logistic,
    lambda fitted, budget: fitted["converged"])}
PAIRINGS = (catalog.Pairing("numpy_newton", "glm", ("overlap",)),
            catalog.Pairing("sklearn_mlp", "mlp16_tanh", ("xor",)))


# (c) A figure from fits of its own: the tanh MLP's median loss on xor data sets.
def tanh_loss_record(row, preset):
    from bench import datasets, runner
    from bench.adapters import batched_fit
    from bench.cases import Case

    n = min(4, preset.n_datasets)
    case = Case("mlp16_tanh", "xor", "float32", n, preset.n_samples, preset.n_features,
                preset.n_test)
    data = runner.prepare_data(case, preset)
    keys = datasets.dataset_keys(runner.case_keys(preset)[1], 0, n)
    result = batched_fit("mlp16_tanh", preset)(keys, data.X_train, data.y_train)
    loss = np.nanmedian(np.asarray(result.history, np.float64), axis=0)
    return CaseRecord(kind=FIGURE, name=row, model="mlp16_tanh", figure="tanh_loss",
                      regime="xor", dtype="float32", n_datasets=n, preset=preset.name,
                      seed=preset.seed, n_samples=preset.n_samples,
                      data={"step": list(range(1, loss.size + 1)), "loss": loss.tolist()})


def draw_tanh_loss(cases, path):
    rows = [c for c in cases if c.kind == FIGURE and c.figure == "tanh_loss"]
    if not rows:
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.8, 3.2), layout="constrained")
    ax = figure.subplots()
    ax.plot(rows[0].data["step"], rows[0].data["loss"], color="tab:pink",
            label="mlp16_tanh on xor")
    ax.set_title("tanh MLP on xor")
    ax.legend()
    figure.savefig(path)
    return ("Loss of the tanh MLP on xor",
            "Median cross-entropy over the data sets after each step, from fits of its own.")


FIGURES = (catalog.Figure("tanh_loss", "tanh_loss.png", draw_tanh_loss,
                          rows=lambda preset: ("tanh_loss",), record=tanh_loss_record),)

catalog.register(sys.modules[__name__])
'''

#: The rows the extension run selects: the new ones, and the GLM rows the library meets.
SELECTION = "mlp16_tanh or numpy_newton or tanh_loss or glm-overlap-float64"
STUB_LABEL = "numpy Newton logistic (stub)"


# ----------------------------------------------------------------------- the walk


def model_problems(entry: catalog.Model) -> list[str]:
    """What a model entry lacks (empty when it is complete)."""
    problems = []
    if not entry.name or not entry.label:
        problems.append("a name and a label")
    if entry.family not in {f.name for f in catalog.families()}:
        problems.append(f"a family with an adapter ({entry.family!r})")
    if not entry.regimes or not set(entry.regimes) <= {r.name for r in catalog.regimes()}:
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
            catalog.family(entry.family).adapter(entry.settings, budget)
        except Exception as error:  # noqa: BLE001
            problems.append(f"a budget and adapter settings at {preset.name} ({error!r})")
    if entry.scaling and (entry.scaling[0] not in entry.regimes
                          or entry.scaling[1] not in entry.dtypes):
        problems.append("a sweep on its own regime and dtype")
    if not set(entry.figures) <= {f.name for f in catalog.figures()}:
        problems.append(f"known figures ({entry.figures})")
    family = {f.name: f for f in catalog.families()}.get(entry.family)
    if entry.separation_reference and not (family and family.separation_flag):
        problems.append("a family with a separation flag, as the separation reference")
    return problems


def pairing_problems(pairing: catalog.Pairing) -> list[str]:
    """What a pairing lacks: a known library and model, on the model's regimes."""
    try:
        entry = catalog.model(pairing.model)
        catalog.library(pairing.library)
    except catalog.CatalogError as error:
        return [f"a known library and model ({error})"]
    if not pairing.regimes or not set(pairing.regimes) <= set(entry.regimes):
        return [f"regimes of its model ({pairing.regimes})"]
    if pairing.headline is not None and pairing.headline not in pairing.regimes:
        return [f"a headline among its regimes ({pairing.headline})"]
    return []


def library_problems(library: catalog.Library) -> list[str]:
    problems = []
    if not library.label or not library.module:
        problems.append("a label and a module")
    if not callable(library.fit) or not (library.converged is None
                                         or callable(library.converged)):
        problems.append("a fit (and converged) function")
    if library.subset_divisor < 1:
        problems.append("a subset divisor >= 1")
    return problems


def family_problems(family: catalog.ModelFamily) -> list[str]:
    problems = []
    if not (family.name and family.iteration_unit and family.loss_name):
        problems.append("a name, an iteration unit and a loss name")
    if not callable(family.adapter):
        problems.append("an adapter")
    if family.boundary not in ("line", "contour"):
        problems.append("a boundary kind")
    if family.n_datasets_cap is not None and family.n_datasets_cap not in Preset._fields:
        problems.append(f"a preset field as its cap ({family.n_datasets_cap!r})")
    return problems


def figure_problems(figure: catalog.Figure) -> list[str]:
    problems = []
    if not figure.filename.endswith(".png"):
        problems.append("a PNG file name")
    try:
        if not callable(catalog.resolve(figure.draw)):
            problems.append("a drawing")
        if figure.rows is not None and not callable(catalog.resolve(figure.record)):
            problems.append("a record for its rows")
    except (ImportError, AttributeError) as error:
        problems.append(f"functions that import ({error!r})")
    if (figure.rows is None) != (figure.record is None):
        problems.append("rows and their record together")
    return problems


def sentence_problems(module: types.ModuleType) -> list[str]:
    """What a module's ``SENTENCES`` lacks: known topics, and a callable for each builder."""
    sentences = getattr(module, "SENTENCES", {})
    problems = []
    unknown = sorted(set(sentences) - set(catalog.SENTENCE_TOPICS))
    if unknown:
        problems.append(f"known sentence topics ({unknown})")
    if not all(callable(build) for builders in sentences.values() for build in builders):
        problems.append("a callable for each builder")
    return problems


def regime_problems(regime: catalog.Regime) -> list[str]:
    """What a regime entry lacks."""
    problems = []
    own = regime.generator
    if own is None:  # a resampled regime draws bootstrap resamples of its data
        if regime.name not in generators.GENERATORS and regime.data is None:
            problems.append("a generator")
    elif not callable(catalog.resolve(own)):
        problems.append("a generator")
    if regime.response not in catalog.RESPONSES:
        problems.append("a response family")
    if not is_color_like(regime.color):
        problems.append("a plot colour")
    return problems


@pytest.mark.parametrize("entry", catalog.models(), ids=lambda m: m.name)
def test_every_model_has_every_piece(entry):
    assert model_problems(entry) == []


@pytest.mark.parametrize("family", catalog.families(), ids=lambda f: f.name)
def test_every_family_has_every_piece(family):
    assert family_problems(family) == []


@pytest.mark.parametrize("name", list(catalog.libraries()))
def test_every_library_has_every_piece(name):
    assert library_problems(catalog.library(name)) == []


@pytest.mark.parametrize("pairing", catalog.pairings(), ids=lambda p: f"{p.library}-{p.model}")
def test_every_pairing_names_a_library_and_its_models_regimes(pairing):
    assert pairing_problems(pairing) == []


@pytest.mark.parametrize("figure", catalog.figures(), ids=lambda f: f.name)
def test_every_figure_draws_and_makes_its_rows(figure):
    assert figure_problems(figure) == []


@pytest.mark.parametrize("regime", catalog.regimes(), ids=lambda r: r.name)
def test_every_regime_has_a_generator(regime):
    assert regime_problems(regime) == []


@pytest.mark.parametrize("module", catalog.MODULES, ids=lambda m: m.__name__)
def test_every_modules_sentences_have_a_topic_and_a_builder(module):
    assert sentence_problems(module) == []


def test_every_sentence_topic_has_its_place_in_the_readme_and_one_model_is_the_reference():
    assert [item for item in sentences.ORDER if isinstance(item, str)] == list(
        catalog.SENTENCE_TOPICS)
    references = [m.name for m in catalog.models() if m.separation_reference]
    assert references == [catalog.separation_reference().name] == ["glm"]


def test_names_are_unique_and_generators_are_the_catalogs():
    for names in ([m.name for m in catalog.models()], [f.name for f in catalog.families()],
                  [f.name for f in catalog.figures()], [f.filename for f in catalog.figures()],
                  [r.name for r in catalog.regimes()]):
        assert len(names) == len(set(names)), names
    assert set(generators.GENERATORS) == {r.name for r in catalog.REGIMES}


@pytest.mark.parametrize("broken, lacking", [
    (dict(label=""), "a name and a label"),
    (dict(family="svm"), "a family with an adapter"),
    (dict(work=None), "a work model"),
    (dict(regimes=("spiral",)), "catalog regimes"),
    (dict(color="not-a-colour"), "a plot colour"),
    (dict(figures=("spirals",)), "known figures"),
    (dict(separation_reference=True), "a family with a separation flag"),
])
def test_the_walk_fails_on_an_entry_that_lacks_a_piece(broken, lacking):
    entry = catalog.model("mlp8")._replace(**broken)
    assert any(problem.startswith(lacking) for problem in model_problems(entry))


def test_the_walk_fails_on_a_pairing_figure_or_regime_that_lacks_a_piece():
    assert pairing_problems(catalog.Pairing("sklearn_mlp", "mlp8", ("xor",),
                                            headline="circles")) == [
        "a headline among its regimes (circles)"]
    assert pairing_problems(catalog.Pairing("weka", "mlp8", ("xor",)))[0].startswith(
        "a known library")
    assert pairing_problems(catalog.Pairing("sklearn_mlp", "mlp8", ("poisson",))) == [
        "regimes of its model (('poisson',))"]
    assert figure_problems(catalog.Figure("x", "x.svg", "bench.report.plots:nothing")) == [
        "a PNG file name", "functions that import (AttributeError(\"module "
        "'bench.report.plots' has no attribute 'nothing'\"))"]
    assert regime_problems(catalog.Regime("spiral", "binomial", "tab:pink")) == ["a generator"]
    gossip = types.SimpleNamespace(SENTENCES={"gossip": (print,), "speed": ("not callable",)})
    assert sentence_problems(gossip) == ["known sentence topics (['gossip'])",
                                         "a callable for each builder"]


def test_unknown_names_raise_instead_of_falling_back():
    with pytest.raises(catalog.CatalogError, match="unknown model 'mlp99'"):
        catalog.family_of("mlp99")
    with pytest.raises(catalog.CatalogError, match="unknown regime 'spiral'"):
        catalog.regime("spiral")
    with pytest.raises(catalog.CatalogError, match="unknown library 'weka'"):
        catalog.library("weka")


def test_a_registered_modules_sentence_takes_its_topics_place(monkeypatch):
    def plugin_sentence(cases):
        return Sentence("A registered module's sentence.") if cases else None

    monkeypatch.setattr(catalog, "MODULES", list(catalog.MODULES))
    catalog.register(types.SimpleNamespace(__name__="plugin", SENTENCES={
        "speed": (plugin_sentence,)}))
    builders = sentences.builders()
    assert builders.index(plugin_sentence) == builders.index(glm.SENTENCES["speed"][-1]) + 1
    rows = list(read_run(ROOT / "tests" / "data" / "smoke-run.json").cases)
    text = sentences.reading_sentences(rows)  # (no verdict-cost or throughput sentence)
    assert text[-1] == "A registered module's sentence." and text[-2].startswith("Against ")
    with pytest.raises(catalog.CatalogError, match="unknown sentence topic 'rumour'"):
        catalog.sentences("rumour")
    catalog.register(types.SimpleNamespace(__name__="gossip", SENTENCES={"gossip": ()}))
    with pytest.raises(catalog.CatalogError, match="gossip.SENTENCES has the topics"):
        sentences.builders()  # a topic the report has no place for fails, not vanishes


def test_a_run_records_the_version_of_every_package_of_the_catalog(monkeypatch):
    from bench import machine

    monkeypatch.setattr(catalog, "MODULES", list(catalog.MODULES))
    catalog.register(types.SimpleNamespace(__name__="plugin", LIBRARIES={"stub": catalog.Library(
        "stub", "no_such_module", print, package="no-such-distribution")}))
    monkeypatch.setattr(machine.glm, "cpu_kernels", lambda: "not built here")
    versions = machine.machine_info()["packages"]
    assert list(versions) == list(catalog.software_packages())
    assert list(versions)[-1] == "no-such-distribution" and versions[
        "no-such-distribution"] is None
    assert versions["numpy"] == np.__version__


def test_a_response_stands_for_its_regimes_and_no_family_name_collides_with_the_glms():
    assert catalog.model("glm").regimes == (catalog.CLASSIFICATION_REGIMES
                                            + catalog.RESAMPLED_REGIMES)
    # models.glm.FAMILIES are the GLM's distributions; the catalog's are families() only.
    assert not hasattr(catalog, "FAMILIES") and not hasattr(catalog, "Family")
    assert [p.id for p in baselines.pairs()][:3] == [
        "sklearn_perceptron-perceptron-separable", "sklearn_perceptron-perceptron-overlap",
        "statsmodels_glm-glm-overlap"]
    assert catalog.software_packages() == ("jax", "jaxlib", "optax", "numpy", "scikit-learn",
                                           "statsmodels")


# ----------------------------------------------------------------------- settings


def _xor(n=24):
    data = datasets.make_one("xor", datasets.dataset_keys(
        __import__("jax").random.key(0), 0, 1)[0], n_samples=n, n_features=2)
    return data.X_train, data.y_train


def test_the_mlp_adapter_passes_every_setting_on():
    import jax

    X, y = _xor()
    fit = catalog.family("mlp").adapter({"hidden": [3], "activation": "tanh", "gain": 0.5},
                                        5).fit
    result = fit(jax.random.key(1), X, y)
    assert (result.activation, result.gain, result.params[0].weight.shape) == (
        "tanh", 0.5, (3, 3))


def test_the_glm_adapter_passes_every_setting_on():
    from models.glm import Separation

    X, y = _xor(40)

    def fit(**settings):
        return catalog.family("glm").adapter(settings, 25).fit(None, X, y)

    plain, firth = fit(family="binomial"), fit(family="binomial", firth=True)
    assert not np.allclose(np.asarray(plain.coef), np.asarray(firth.coef))
    assert int(plain.separation) != Separation.NOT_CHECKED
    probit = fit(family="binomial", link="probit", separation=False)
    assert probit.link == "probit" and int(probit.separation) == Separation.NOT_CHECKED
    assert fit(family="poisson", link="identity").family == "poisson"


def test_the_reference_libraries_fit_with_the_models_settings():
    pytest.importorskip("sklearn")
    pytest.importorskip("statsmodels")
    X, y = (np.asarray(a, np.float64) for a in _xor(40))
    sklearn_mlp = catalog.library("sklearn_mlp")
    for ours, theirs in (("sigmoid", "logistic"), ("tanh", "tanh"), ("relu", "relu")):
        fitted = sklearn_mlp.fit(X, y, {"hidden": (3,), "activation": ours}, 5)
        assert (fitted.activation, fitted.hidden_layer_sizes, fitted.n_iter_) == (
            theirs, (3,), 5)
    with pytest.raises(ValueError, match="no equivalent of the settings \\['gain'\\]"):
        sklearn_mlp.fit(X, y, {"hidden": (3,), "gain": 2.0}, 5)
    fitted = catalog.library("statsmodels_glm").fit(
        X, y, {"family": "binomial", "link": "probit"}, 25)
    assert type(fitted.model.family.link).__name__ == "Probit"
    with pytest.raises(ValueError, match="no Firth penalty"):
        catalog.library("statsmodels_glm").fit(X, y, {"family": "binomial", "firth": True}, 25)


# ----------------------------------------------------------------------- the extension


#: A second plugin, loaded first: it records every path the run opens for writing,
#: renames, links or removes (Python's audit events), so the test can say which files of
#: the repository the run changed, whatever else changes the checkout meanwhile.
WATCH_WRITES = """
import atexit, json, os, sys

_EVENTS = frozenset({"open", "os.rename", "os.remove", "os.mkdir", "os.rmdir", "os.link",
                     "os.symlink", "os.truncate", "shutil.rmtree", "shutil.move"})
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_paths = set()


def _hook(event, args):
    if event not in _EVENTS:
        return
    if event == "open":
        path, mode, flags = args
        if not ((mode is not None and any(c in mode for c in "wax+"))
                or (mode is None and flags & _WRITE)):
            return
        args = (path,)
    elif event in ("os.rename", "os.link", "os.symlink", "shutil.move"):
        args = args[:2]
    else:
        args = args[:1]
    _paths.update(os.path.abspath(os.fsdecode(a)) for a in args if isinstance(a, (str, bytes)))


@atexit.register
def _write_log():
    with open(os.environ["GLMNN_WRITES_LOG"], "w") as handle:
        json.dump(sorted(_paths), handle)


sys.addaudithook(_hook)
"""


def _repository_writes(log: pathlib.Path) -> list[str]:
    """The paths the run wrote in the repository that git does not ignore (relative)."""
    paths = [pathlib.Path(p) for p in json.loads(log.read_text())]
    inside = sorted({str(p.relative_to(ROOT)) for p in paths
                     if p.is_relative_to(ROOT) and "__pycache__" not in p.parts})
    ignored = subprocess.run(["git", "check-ignore", "--stdin"], cwd=ROOT, text=True,
                             input="\n".join(inside), capture_output=True).stdout.split()
    return [p for p in inside if p not in ignored]


@pytest.fixture(scope="module")
def extended_run(tmp_path_factory):
    """A smoke run of pytest --benchmark with the extension loaded as a plugin."""
    tmp = tmp_path_factory.mktemp("extension")
    (tmp / "add_extension.py").write_text(EXTENSION)
    (tmp / "watch_writes.py").write_text(WATCH_WRITES)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
           "GLMNN_WRITES_LOG": str(tmp / "writes.json")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "watch_writes", "-p", "add_extension",
         "-p", "no:cacheprovider", *QUIET_CHILD, "-q", "--benchmark", "--bench-preset", "smoke",
         "bench/suite", "-k", SELECTION, f"--bench-results-dir={tmp / 'results'}",
         f"--benchmark-json={tmp / 'run.json'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return tmp, _repository_writes(tmp / "writes.json")


@pytest.fixture
def with_extension(monkeypatch):
    """The extension registered in this process too (undone after the test)."""
    module = types.ModuleType("add_extension")
    monkeypatch.setitem(sys.modules, "add_extension", module)
    monkeypatch.setattr(catalog, "MODULES", list(catalog.MODULES))
    exec(EXTENSION, module.__dict__)  # noqa: S102 - the plugin's own source, as -p runs it
    return module


def _rows(table_lines: list[str]) -> list[str]:
    return [line for line in table_lines if line.startswith("|")]


def _section(readme: str, title: str) -> str:
    return readme.split(title, 1)[1].split("\n## " if title.startswith("## ") else "\n### ",
                                           1)[0]


def test_the_extension_changes_no_file_of_the_repository(extended_run):
    tmp, changed = extended_run
    # The log is real: it holds what the run wrote outside the repository.
    writes = json.loads((tmp / "writes.json").read_text())
    assert str(tmp / "run.json") in writes
    assert changed == [], f"the run wrote {changed}"


def test_a_new_model_library_and_figure_reach_every_table_and_plot(extended_run,
                                                                   with_extension):
    tmp, _ = extended_run
    (published,) = [p for p in (tmp / "results").iterdir() if p.is_dir()]
    readme = (published / "README.md").read_text()
    # (a) the tanh MLP: its convergence table, the speed, baseline and throughput tables.
    assert "### mlp16_tanh" in readme and "mlp16_tanh: MLP hidden=(16,) tanh" in readme
    ours = _rows(_section(readme, "### Ours").splitlines())
    regimes = [c.regime for c in cases.fit_cases(SMOKE) if c.model == "mlp16_tanh"]
    assert len([r for r in ours if r.startswith("| mlp16_tanh ")]) == len(regimes) == 6
    references = _rows(_section(readme, "### Reference libraries").splitlines())
    assert any("| scikit-learn MLPClassifier " in r and "| mlp16_tanh " in r
               for r in references)
    sweep = _rows(_section(readme, "### Throughput against the number of data sets")
                  .splitlines())
    assert any(r.startswith("| mlp16_tanh ") for r in sweep)
    # (b) the numpy library: the baseline table, beside our GLM on overlap, and the sentences.
    (stub,) = [r for r in references if f"| {STUB_LABEL} " in r]
    assert "| glm " in stub and "| overlap " in stub and "(float64)" in stub
    assert STUB_LABEL in _section(readme, "## What the numbers say")
    # (c) the figure: in the README's plots, and its PNG.
    assert "### Loss of the tanh MLP on xor" in readme and "(tanh_loss.png)" in readme
    assert (published / "tanh_loss.png").is_file()
    with open(published / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["kind"] for r in rows if r["model"] == "mlp16_tanh"} == {
        "fit", "scaling", "baseline", "figure"}
    (theirs,) = [r for r in rows if r.get("baseline") == STUB_LABEL]
    assert theirs["model"] == "glm" and float(theirs["speedup"]) > 0

    with recording_plots() as plots:
        again = publish(tmp / "run.json", tmp / "again")
    assert (again / "tanh_loss.png").is_file() and "tanh_loss.png" in plots
    for name in ("convergence.png", "convergence_log.png"):
        panels = [ax for ax in plots[name]["axes"] if ax["visible"]]
        assert [ax["title"] for ax in panels] == ["glm", "mlp16_tanh"], name
        assert len(panels[1]["lines"]) == len(regimes), name
    labels = [line["label"] for line in plots["throughput.png"]["axes"][0]["lines"]]
    assert {"mlp16_tanh (xor, float32)", "scikit-learn MLPClassifier (one at a time)",
            "glm (overlap, float64)", f"{STUB_LABEL} (one at a time)"} <= set(labels)
