"""pytest's side of the harness: our switches and pytest-benchmark's, what a run says it will
do, destinations checked before anything runs, and publishing only after pytest-benchmark's
own end-of-run checks.

Most checks drive real pytest subprocesses at the smoke preset on one or two cases; the
decision itself (bench.suite.mode.run_mode) is also tested in process, switch by switch.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from bench.suite.mode import ModeError, run_mode

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def pytest_run(*argv, timeout=300, prelude=""):
    """Run pytest in a subprocess from the project's folder (``prelude``: Python run first)."""
    code = f"{prelude}\nimport sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "-p", "no:cacheprovider", *argv],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=ENV)


def header(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("glmnn-bench: "))


@pytest.mark.parametrize("switches, timed, disable, publish, says", [
    ({}, False, True, False, "the tests and every benchmark, untimed"),
    ({"only": True}, True, False, False, "only the benchmarks, timed by pytest-benchmark "
                                         "(--benchmark-only)"),
    ({"enable": True}, True, False, False, "timed by pytest-benchmark (--benchmark-enable)"),
    ({"benchmark": True}, True, False, True, "published if every benchmark passes"),
    ({"benchmark": True, "disable": True}, False, True, False,
     "untimed (--benchmark-disable): each benchmark runs once; pytest-benchmark records "
     "nothing untimed, so nothing is published"),
    ({"benchmark": True, "disable": True, "enable": True}, True, True, True, "timed"),
    ({"benchmark": True, "no_publish": True}, True, False, False, "not published"),
])
def test_the_run_mode_respects_every_switch(switches, timed, disable, publish, says):
    mode = run_mode(preset=None, **{"benchmark": False, **switches})
    assert (mode.timed, mode.disable, mode.publish) == (timed, disable, publish)
    assert says in mode.header
    assert mode.preset == ("quick" if switches.get("benchmark") else "smoke")


@pytest.mark.parametrize("switches, in_process", [
    ({}, False), ({"disable": True}, False), ({"enable": True}, True), ({"only": True}, True),
    ({"benchmark": True}, True),
])
def test_plain_pytest_runs_the_suite_once_as_the_dry_run(switches, in_process):
    # With no paths named, an untimed run leaves the suite to tests/test_gpu_dry_run.py
    # instead of running it twice; a timed one, or one naming paths, collects it here.
    mode = run_mode(preset=None, default_paths=True, **{"benchmark": False, **switches})
    assert mode.suite_in_process is in_process
    assert ("tests/test_gpu_dry_run.py" in mode.header) is not in_process
    assert run_mode(preset=None, default_paths=False,
                    **{"benchmark": False, **switches}).suite_in_process


def test_plain_pytest_collects_the_suite_only_where_named():
    def collected(*paths):
        completed = pytest_run("--collect-only", "-q", *paths)
        assert completed.returncode == 0, completed.stdout[-2000:]
        return [line for line in completed.stdout.splitlines() if "::" in line]

    plain = collected()
    assert "tests/test_gpu_dry_run.py::test_the_gpu_dry_run_passes_and_publishes" in plain
    assert not [item for item in plain if item.startswith("bench/")]
    named = collected("bench/suite/bench_machine.py")
    assert named == ["bench/suite/bench_machine.py::test_ceilings[ceilings]"], named


def test_contradicting_switches_say_which_to_drop():
    with pytest.raises(ModeError, match="--benchmark-skip skips every benchmark: drop one"):
        run_mode(benchmark=True, preset=None, skip=True)


def test_benchmark_only_is_not_given_a_disable_it_never_asked_for():
    # Plain runs switched timing off by forcing --benchmark-disable, so pytest-benchmark
    # refused --benchmark-only: "Can't have both --benchmark-only and --benchmark-disable".
    completed = pytest_run("--benchmark-only", "--collect-only", "bench/suite/bench_machine.py")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-2000:]
    assert "Can't have both" not in output
    assert "timed by pytest-benchmark (--benchmark-only)" in header(output)


def test_benchmark_disable_is_respected(tmp_path):
    # --benchmark used to switch pytest-benchmark back on over --benchmark-disable: the run
    # was timed and published.
    results = tmp_path / "results"
    completed = pytest_run("--benchmark", "--benchmark-disable", "--bench-preset=smoke",
                           f"--bench-results-dir={results}", "-v",
                           "bench/suite/bench_fits.py", "-k", "perceptron-overlap-float32")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-2000:]
    assert "untimed (--benchmark-disable)" in header(output) and "PASSED" in output
    assert "glmnn-bench: published" not in output and "Wrote benchmark data" not in output
    assert not results.exists() or list(results.iterdir()) == []


def test_an_unwritable_benchmark_json_fails_before_anything_runs(tmp_path):
    completed = pytest_run("--benchmark", "--bench-preset=smoke",
                           "--benchmark-json=/proc/nope/run.json", "bench/suite/bench_machine.py")
    output = (completed.stdout + completed.stderr).strip()
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert output.splitlines() == [
        "ERROR: --benchmark-json: cannot write into /proc/nope (No such file or directory); "
        "choose another folder."]


def test_a_path_after_an_option_that_pytest_reads_as_a_test_path_is_said(tmp_path):
    # pytest decides its root folder before it knows the options of plugins, so an existing
    # path after `--benchmark-json ` made it the root: no pyproject.toml, nothing collected.
    existing = tmp_path / "old.json"
    existing.write_text("{}")
    completed = pytest_run("--benchmark-json", str(existing), "--collect-only")
    output = (completed.stdout + completed.stderr).strip()
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert f"write --benchmark-json={existing}" in output
    assert len(output.splitlines()) == 1


def test_the_readme_writes_every_path_option_with_an_equals_sign():
    readme = (ROOT / "README.md").read_text()
    for option in ("--bench-results-dir", "--benchmark-json"):
        uses = re.findall(rf"{option}(.)", readme)
        assert uses and set(uses) == {"="}, (option, uses)


def test_nothing_is_published_when_pytest_benchmark_fails_at_the_end(tmp_path):
    # --benchmark-histogram without pygal raises in pytest-benchmark's terminal summary,
    # after pytest's sessionfinish, where the run used to be published already.
    results = tmp_path / "results"
    completed = pytest_run(
        "--benchmark", "--bench-preset=smoke", f"--bench-results-dir={results}",
        f"--benchmark-json={tmp_path / 'run.json'}",
        f"--benchmark-histogram={tmp_path / 'histogram'}",
        "bench/suite/bench_fits.py", "-k", "perceptron-overlap-float32",
        prelude="import sys; sys.modules['pygal'] = None  # as if it were not installed")
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output[-2000:]
    assert "pygal" in output and "glmnn-bench: published" not in output
    assert not results.exists() or list(results.iterdir()) == []


def test_a_subset_run_groups_by_case_and_says_it_is_a_subset(tmp_path):
    # Without a test path, in the README's form, into a results folder that exists already
    # (the space form made pytest take the folder as a test path). Before every benchmark
    # took `case`, grouping by it raised KeyError: 'case'.
    # Its --benchmark-json is in a folder that does not exist yet: the run used to be lost to
    # a FileNotFoundError at the end.
    results, record = tmp_path / "results", tmp_path / "new" / "folder" / "run.json"
    results.mkdir()
    completed = pytest_run(
        "--benchmark", "--bench-preset=smoke", f"--bench-results-dir={results}",
        f"--benchmark-json={record}", "--benchmark-group-by=param:case",
        "-k", "perceptron-overlap-float32 or ceilings or generate and xor "
              "or statsmodels_glm-glm-overlap", timeout=600)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    for group in ("case=ceilings", "case=xor", "case=perceptron-overlap-float32",
                  "case=statsmodels_glm-glm-overlap"):
        assert f" benchmark '{group}': 1 tests " in output, group
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    readme = (folder / "README.md").read_text()
    run = json.loads(record.read_text())
    assert run["glmnn"]["suite_size"] > 4
    assert (f"- selection: **a subset**, 4 of the preset's {run['glmnn']['suite_size']} "
            "benchmark rows") in readme
