"""The ``gpu`` preset's whole matrix, cut down (``gpu-dry``), runs, times and publishes on CPU.

``pytest --benchmark --bench-preset=gpu-dry`` in a subprocess, publishing into a temporary
folder: every row of the real ``gpu`` run (each case, each sweep point, the baselines, the
peers, the figures) is run and recorded, and the published folder has its README, CSV and
plots, so the first GPU run meets no code that has never run.

This is how plain ``pytest`` runs the benchmark suite: once, here, rather than a second
time in its own process at the smoke preset (``bench/suite/plugin.py`` keeps it from
collecting the suite). The run compiles every case of the matrix once, which is most of its
time on a CPU; its test is collected first (``tests/conftest.py``), so that under
``pytest -n`` one worker runs it while the others run the rest.
"""

from __future__ import annotations

import json

import _dry_run

from bench import cases
from bench.presets import PRESETS, dry_run
from bench.suite.matrix import suite_size


def test_the_dry_run_is_the_gpu_matrix():
    gpu, dry = PRESETS["gpu"], PRESETS["gpu-dry"]
    assert dry == dry_run(gpu) and len(dry.sweep) == len(gpu.sweep)
    shape = [(c.kind, c.model, c.regime, c.dtype) for c in cases.all_cases(gpu)]
    assert shape == [(c.kind, c.model, c.regime, c.dtype) for c in cases.all_cases(dry)]
    assert suite_size(dry) == suite_size(gpu)


def test_the_gpu_dry_run_passes_and_publishes(tmp_path):
    run = _dry_run.start(tmp_path)
    try:
        status, output = _dry_run.finish(run)
    finally:
        _dry_run.stop(run)  # an interrupted test leaves no run behind
    assert status == 0, output[-3000:]
    results, record = run.results, run.record
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    for name in ("README.md", "summary.csv", "throughput.png", "convergence.png"):
        assert (folder / name).is_file(), name
    published = json.loads(record.read_text())
    rows = [b["extra_info"] for b in published["benchmarks"]]
    fitted = {(r["kind"], r["model"], r["regime"], r["dtype"], r["n_datasets"]) for r in rows
              if r.get("kind") in ("fit", "scaling")}
    expected = {(c.kind, c.model, c.regime, c.dtype, c.n_datasets)
                for c in cases.all_cases(PRESETS["gpu-dry"])}
    assert fitted == expected
    # Every row of the suite ran or was skipped with its reason (the peers, without the
    # peers extra), and the published README does not call the run a subset.
    skipped = published["glmnn"]["skipped"]
    assert len(rows) + len(skipped) == suite_size(PRESETS["gpu-dry"]), sorted(skipped)
    assert "selection: **a subset**" not in (folder / "README.md").read_text()
