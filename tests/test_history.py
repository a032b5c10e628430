"""The runs over time: headline ratios per run, the index's groups and order, the plot."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys

import _golden
import pytest

from bench import catalog
from bench.intervals import speed_ratio_interval
from bench.record import BASELINE, FIT, PEER, read_run
from bench.report import reindex
from bench.report.folders import render_index
from bench.report.history import (
    BEST_PEER,
    HISTORY_PNG,
    group_key,
    headline_specs,
    headline_text,
    headlines,
    plot_history,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "smoke-run.json"


def test_the_headlines_are_the_catalogs_marked_pairings_and_peers():
    marked = [(p.model, p.headline) for p in catalog.pairings() if p.headline]
    marked += list(dict.fromkeys((p.model, p.headline) for p in catalog.peers() if p.headline))
    specs = headline_specs()
    assert [(s.model, s.regime) for s in specs] == marked
    assert {s.kind for s in specs} == {BASELINE, PEER}
    assert all(s.name == f"{s.model} / {s.library} on {s.regime}" for s in specs)
    # The MLP's three peers make one headline, the fastest of them in each run.
    (best,) = [s for s in specs if s.model == "mlp8" and s.kind == PEER]
    assert best.library == BEST_PEER and len(best.candidates) == 3


def test_a_best_peer_headline_takes_the_fastest_peer_of_the_run():
    run = read_run(FIXTURE)
    (ours,) = [c for c in run.cases if c.kind == FIT and c.model == "mlp8" and c.regime == "xor"]
    (spec,) = [s for s in headline_specs() if s.library == BEST_PEER]
    # The fixture's MLP peer rows, made the second one the fastest.
    rows = {c.baseline: c for c in run.cases if c.kind == PEER and c.model == "mlp8"}
    assert set(rows) == set(spec.candidates)
    rates = dict(zip(spec.candidates, (50.0, 120.0, 20.0)))
    others = [c for c in run.cases if not (c.kind == PEER and c.model == "mlp8")]
    rows = [dataclasses.replace(row, fits_per_s=rates[label], round_seconds=None)
            for label, row in rows.items()]
    (entry,) = [h for h in headlines(others + rows) if h["name"] == spec.name]
    assert entry["library"] == spec.candidates[1]
    assert entry["ratio"] == ours.fits_per_s / 120.0


def test_a_runs_headlines_are_its_rows_ratios_with_their_intervals(tmp_path):
    # The fixture with more rounds on some rows (as tests/_golden.py publishes it), so that
    # both kinds of headline, with and without an interval, are there.
    enriched = tmp_path / "enriched.json"
    enriched.write_text(json.dumps(_golden.enriched(json.loads(FIXTURE.read_text()))))
    run = read_run(enriched)
    found = {h["name"]: h for h in headlines(run.cases)}
    assert found, "the fixture has baseline rows on every headline regime"
    intervals = 0
    for spec in headline_specs():
        theirs = [c for c in run.cases if c.kind == spec.kind and c.baseline in spec.candidates
                  and c.model == spec.model and c.regime == spec.regime]
        if not theirs:
            assert spec.name not in found
            continue
        theirs = max(theirs, key=lambda c: c.fits_per_s)
        ours = [c for c in run.cases if c.kind == FIT and c.model == spec.model
                and c.regime == spec.regime]
        ours = next(c for dtype in ("float64", "float32") for c in ours if c.dtype == dtype)
        # The rows' recorded fits/s, as the README's speed table quotes them.
        entry = found[spec.name]
        assert entry["ratio"] == ours.fits_per_s / theirs.fits_per_s
        ends = speed_ratio_interval(ours.round_seconds, ours.n_datasets,
                                    theirs.round_seconds, theirs.n_datasets)
        if ends is None:  # a row with fewer than MIN_ROUNDS rounds: no interval
            assert entry["low"] is entry["high"] is None
            continue
        assert (entry["low"], entry["high"]) == ends
        assert ends[0] <= entry["ratio"] <= ends[1]
        intervals += 1
    assert intervals, "the fixture's rounds give at least one headline its interval"


def test_headline_text():
    assert headline_text({"name": "x", "ratio": 29.94, "low": 27.1, "high": 32.8}) == \
        "29.9× (27.1–32.8)"
    assert headline_text({"name": "x", "ratio": 3.0, "low": None, "high": None}) == "3×"
    assert headline_text(None) == "–"


def _meta(when: str, preset: str, host: str, device: str = "cpu", ratio: float = 30.0):
    return {"date": when[:10], "datetime": when, "device_kind": device, "device_count": 1,
            "host_id": host, "preset": preset, "timed": True,
            "commit": {"id": "0123456789abcdef", "dirty": False},
            "case_counts": {"fit": 2}, "headlines": [
                {"name": headline_specs()[0].name, "ratio": ratio, "low": ratio * 0.9,
                 "high": ratio * 1.1}]}


@pytest.fixture
def results(tmp_path):
    """Five runs of two machines, two presets, written as published folders."""
    root = tmp_path / "results"
    runs = {
        "a-quick-old": _meta("2026-12-01T10:00:00+00:00", "quick", "aaaa0000"),
        "a-smoke": _meta("2026-12-02T10:00:00+00:00", "smoke", "aaaa0000"),
        "a-quick-new": _meta("2026-12-03T10:00:00+00:00", "quick", "aaaa0000", ratio=33.0),
        "a-quick-mid": _meta("2026-12-02T12:00:00+00:00", "quick", "aaaa0000"),
        "gpu-quick": _meta("2026-12-04T10:00:00+00:00", "quick", "bbbb1111",
                           device="NVIDIA H100"),
    }
    for name, meta in runs.items():
        (root / name).mkdir(parents=True)
        (root / name / "run.json").write_text(json.dumps(meta))
    return root


def test_the_index_groups_by_machine_with_each_presets_latest_first(results):
    text = render_index(results)
    gpu, cpu = "## NVIDIA H100 on host bbbb1111", "## cpu on host aaaa0000"
    assert text.index(gpu) < text.index(cpu)  # the group with the latest run first
    rows = [line.split("|")[1].strip() for line in text[text.index(cpu):].splitlines()
            if line.startswith("| [")]
    names = [row[1:row.index("]")] for row in rows]
    # The latest quick and the latest smoke run, then the rest newest first.
    assert names == ["a-quick-new", "a-smoke", "a-quick-mid", "a-quick-old"]
    assert "33× (29.7–36.3)" in text
    assert "runs of record" in text


def test_the_history_plot_is_a_png_of_every_run(results):
    path = results / HISTORY_PNG
    entries = [(p.name, json.loads((p / "run.json").read_text()))
               for p in sorted(results.iterdir())]
    assert plot_history(entries, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plot_history([(name, {**meta, "headlines": []}) for name, meta in entries],
                            results / "none.png")
    assert not (results / "none.png").exists()


def test_group_key_names_machine_and_device():
    assert group_key({"device_kind": "NVIDIA H200", "device_count": 8,
                      "host_id": "12345678"}) == "NVIDIA H200 × 8 on host 12345678"


def test_reindex_adds_the_headlines_to_runs_published_before_them(tmp_path):
    root = tmp_path / "results"
    (root / "old-run").mkdir(parents=True)
    shutil.copy(FIXTURE, root / "old-run" / "benchmark.json")
    meta = _meta("2026-12-01T10:00:00+00:00", "smoke", "aaaa0000")
    del meta["headlines"]
    (root / "old-run" / "run.json").write_text(json.dumps(meta))
    assert reindex(root) == [root / "old-run" / "run.json"]
    rewritten = json.loads((root / "old-run" / "run.json").read_text())
    assert rewritten == {**meta, "headlines": headlines(read_run(FIXTURE).cases)}
    assert "old-run" in (root / "README.md").read_text()
    assert (root / HISTORY_PNG).is_file()


def test_reindex_on_a_missing_folder_says_what_to_pass(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "reindex", "--results-dir", str(tmp_path / "nope")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "is not a folder of published runs; pass --results-dir DIR" in completed.stderr
