"""The ``gpu`` preset's dry run as a subprocess (``tests/test_gpu_dry_run.py``).

It is compile-bound and single-threaded for most of its two or so minutes; its test is
collected first, so that under ``pytest -n`` one worker runs it beside the other tests.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import NamedTuple

from _children import QUIET_CHILD

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: Seconds the test waits for the run.
TIMEOUT_S = 900


class DryRun(NamedTuple):
    """A started dry run: its process, and where it publishes, records and logs."""

    process: subprocess.Popen
    results: pathlib.Path
    record: pathlib.Path
    log: pathlib.Path



def start(folder: pathlib.Path) -> DryRun:
    """Start ``pytest --benchmark --bench-preset=gpu-dry`` publishing into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    results, record, log = folder / "results", folder / "run.json", folder / "output.txt"
    code = "import sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", code, "-p", "no:cacheprovider", *QUIET_CHILD, "bench/suite",
             "-q", "--benchmark", "--bench-preset=gpu-dry", f"--bench-results-dir={results}",
             f"--benchmark-json={record}"],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    return DryRun(process, results, record, log)


def finish(run: DryRun) -> tuple[int, str]:
    """Wait for the run; ``(exit status, its output)``."""
    try:
        status = run.process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(run)
        raise
    return status, run.log.read_text()


def stop(run: DryRun) -> None:
    """Kill the run if it is still going (the session ended or was interrupted)."""
    if run.process.poll() is None:
        run.process.kill()
        run.process.wait()
