"""The JAX peers fit the data sets we fit, agree with us where the MLE exists, and skip
with a reason (and the run still publishes) where their library is not installed."""

import json
import pathlib
import shutil

import jax
import numpy as np
import pytest

from bench import catalog, peers, runner
from bench.cases import Case
from bench.presets import get_preset
from bench.record import read_run
from bench.report import publish
from bench.suite import harness
from bench.suite.matrix import PeerCase
from models import glm

FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"
SMOKE = get_preset("smoke")


class FakeBenchmark:
    """What the harness uses of pytest-benchmark's fixture: an untimed single call."""

    def __init__(self):
        self.extra_info, self.group, self.stats = {}, None, None

    def pedantic(self, fn, args=(), rounds=1, warmup_rounds=0, iterations=1):
        return fn(*args)


class FakeConfig:
    def __init__(self):
        self.stash = {}


def _needs(name):
    reason = peers.unavailable(name)
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("name", [p.name for p in catalog.peers()])
def test_a_peer_agrees_with_us_on_overlap_data_at_the_tolerance_it_ran_at(name):
    _needs(name)
    # The data sets its benchmark row fits: those of our float64 case of the same model.
    case = Case("glm", "overlap", "float64", SMOKE.n_datasets, SMOKE.n_samples,
                SMOKE.n_features, SMOKE.n_test)
    data = runner.prepare_data(case, SMOKE)
    theirs = jax.jit(peers.batched_fit(name))(data.X_train, data.y_train)
    ours = jax.jit(jax.vmap(glm.fit))(data.X_train, data.y_train)
    assert bool(np.all(np.asarray(theirs.converged))) and bool(np.all(ours.converged))
    # Both stop at a tolerance of 1e-8 (theirs on the coefficients' change or the absolute
    # change of the log-likelihood, ours on the relative deviance change): where the MLE
    # exists the coefficients agree far inside 1e-6.
    np.testing.assert_allclose(np.asarray(theirs.coef), np.asarray(ours.coef), atol=1e-6,
                               rtol=1e-6)


def test_the_recorded_peer_rows_fit_our_data_sets():
    # The smoke run's peer rows (bench/suite/bench_peers.py): the sizes of our float64 glm
    # case of the same regime, and on overlap data its coefficients within 1e-6 of ours.
    run = read_run(FIXTURE)
    peer_rows = [c for c in run.cases if c.kind == "peer"]
    assert {(c.baseline, c.regime) for c in peer_rows} == {
        (p.label, r) for p in catalog.peers() for r in p.regimes}
    for row in peer_rows:
        (ours,) = [c for c in run.cases if c.kind == "fit" and c.model == row.model
                   and c.regime == row.regime and c.dtype == "float64"]
        assert (row.n_datasets, row.n_samples, row.n_features, row.dtype) == (
            ours.n_datasets, ours.n_samples, ours.n_features, "float64")
        assert row.max_iter == ours.max_iter and row.seed == ours.seed
        if row.regime == "overlap":
            assert row.coef_diff_median < 1e-6 and row.converged_frac == 1.0


def test_a_peer_that_is_not_installed_skips_its_row_with_the_reason(monkeypatch):
    entry = catalog.peers()[0]
    missing = entry._replace(module="glmnn_no_such_module")
    monkeypatch.setattr(catalog, "PEERS", (missing, *catalog.PEERS[1:]))
    reason = peers.unavailable(entry.name)
    assert "not importable" in reason and "pip install 'glmnn-bench[peers]'" in reason
    config = FakeConfig()
    with pytest.raises(pytest.skip.Exception, match="glmnn-bench\\[peers\\]"):
        harness.bench_peer(FakeBenchmark(), config, PeerCase(entry.name, "separable"), SMOKE)
    assert config.stash[harness.SKIPPED] == {f"{entry.name}-separable": reason}


def test_a_run_without_the_peers_publishes_and_says_which_rows_skipped(tmp_path):
    data = json.loads(FIXTURE.read_text())
    kept = [b for b in data["benchmarks"] if b["extra_info"].get("kind") != "peer"]
    dropped = len(data["benchmarks"]) - len(kept)
    assert dropped == sum(len(p.regimes) for p in catalog.peers())
    data["benchmarks"] = kept
    reason = "glmax IRLSFitter is not importable (ModuleNotFoundError: No module named 'glmax')"
    data["glmnn"]["skipped"] = {f"{p.name}-{r}": reason for p in catalog.peers()
                                for r in p.regimes}
    (tmp_path / "run.json").write_text(json.dumps(data))
    folder = publish(tmp_path / "run.json", tmp_path / "results")
    readme = (folder / "README.md").read_text()
    assert "No JAX peer row ran in this run." in readme
    assert f"- `glmax-separable`: {reason}" in readme
    assert f"and {dropped} skipped (listed with the reason under JAX peers)" in readme
    sentences = readme.split("## What the numbers say", 1)[1].split("\n## ", 1)[0]
    assert sentences.strip() and not any(p.label in sentences for p in catalog.peers())
    shutil.rmtree(folder)


def test_every_catalog_peer_has_a_fit_and_says_its_rule():
    assert set(peers.PEER_FITS) == {p.name for p in catalog.peers()}
    for entry in catalog.peers():
        assert entry.model in {m.name for m in catalog.models()}
        assert set(entry.regimes) <= set(catalog.model(entry.model).regimes)
        assert entry.tolerance and entry.flag in ("one per data set", "one for the whole batch")
