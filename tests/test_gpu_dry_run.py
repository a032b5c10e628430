"""The ``gpu`` preset's whole matrix, cut down (``gpu-dry``), runs, times and publishes on CPU.

``pytest --benchmark --bench-preset=gpu-dry`` in a subprocess, publishing into a temporary
folder: every row of the real ``gpu`` run (each case, each sweep point, the baselines) is
run and recorded, and the published folder has its README, CSV and plots, so the first
GPU run meets no code that has never run.

The run compiles every case of the matrix once (about 3 minutes on 2 CPU cores, which the
default ``pytest`` cannot spare), so it runs with ``pytest --bench-gpu-dry-run``; the
check that the dry run is the ``gpu`` matrix always runs.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from bench import cases
from bench.presets import PRESETS, dry_run

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_dry_run_is_the_gpu_matrix():
    gpu, dry = PRESETS["gpu"], PRESETS["gpu-dry"]
    assert dry == dry_run(gpu) and len(dry.sweep) == len(gpu.sweep)
    shape = [(c.kind, c.model, c.regime, c.dtype) for c in cases.all_cases(gpu)]
    assert shape == [(c.kind, c.model, c.regime, c.dtype) for c in cases.all_cases(dry)]


def test_the_gpu_dry_run_passes_and_publishes(tmp_path, request):
    if not request.config.getoption("--bench-gpu-dry-run"):
        pytest.skip("about 3 minutes: run with pytest --bench-gpu-dry-run")
    results, record = tmp_path / "results", tmp_path / "run.json"
    code = "import sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    completed = subprocess.run(
        [sys.executable, "-c", code, "-p", "no:cacheprovider", "bench/suite", "-q",
         "--benchmark", "--bench-preset=gpu-dry", f"--bench-results-dir={results}",
         f"--benchmark-json={record}"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    for name in ("README.md", "summary.csv", "throughput.png", "convergence.png"):
        assert (folder / name).is_file(), name
    rows = [b["extra_info"] for b in json.loads(record.read_text())["benchmarks"]]
    fitted = {(r["kind"], r["model"], r["regime"], r["dtype"], r["n_datasets"]) for r in rows
              if r.get("kind") in ("fit", "scaling")}
    expected = {(c.kind, c.model, c.regime, c.dtype, c.n_datasets)
                for c in cases.all_cases(PRESETS["gpu-dry"])}
    assert fitted == expected
    assert "selection: **a subset**" not in (folder / "README.md").read_text()
