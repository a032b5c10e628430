"""pytest's side of the harness: our switches and pytest-benchmark's, what a run says it will
do, destinations checked before anything runs, and publishing only after pytest-benchmark's
own end-of-run checks.

Most checks drive real pytest subprocesses at the smoke preset on one or two cases; the
decision itself (bench.suite.mode.run_mode) and the session's state
(bench.suite.plugin.SessionState) are also tested in process.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
from _children import QUIET_CHILD

from bench.suite.config import PYPROJECT, restart_command
from bench.suite.mode import ModeError, run_mode
from bench.suite.plugin import SessionState
from bench.suite.workers import hide_worker, worker_args

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def pytest_run(*argv, timeout=300, prelude="", env=None):
    """Run pytest in a subprocess from the project's folder (``prelude``: Python run first)."""
    code = f"{prelude}\nimport sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "-p", "no:cacheprovider", *QUIET_CHILD,
                           *argv], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**ENV, **(env or {})})


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


@pytest.mark.parametrize("restart", [True, False])
def test_a_path_after_an_option_that_pytest_reads_as_a_test_path(tmp_path, restart):
    # pytest decides its root folder before it loads any plugin, so an existing path after
    # `--benchmark-json ` made it the root: no pyproject.toml, so neither its -p of our plugin
    # nor anything else it says. The entry point restarts the run with -c pyproject.toml
    # (bench/suite/config.py); where it cannot (here: told it did already), the root
    # conftest.py loads the plugin (--benchmark is known), which stops the run with the fix.
    existing = tmp_path / "old.json"
    existing.write_text("{}")
    completed = pytest_run("--benchmark", "--benchmark-json", str(existing), "--collect-only",
                           env={} if restart else {"GLMNN_PYTEST_RESTARTED": "1"})
    output = (completed.stdout + completed.stderr).strip()
    if restart:
        assert completed.returncode == 0, output[-2000:]
        assert header(output).startswith("glmnn-bench: preset quick; only the benchmark suite")
        return
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert f"write --benchmark-json={existing}" in output
    assert len(output.splitlines()) == 1


def test_the_plugin_is_loaded_before_any_conftest():
    # pyproject.toml's `-p bench.suite.plugin` loads it while pytest reads its command line,
    # so its options parse (value after a space included) with no conftest at all.
    completed = pytest_run("--noconftest", "--benchmark", "--bench-preset", "smoke",
                           "--bench-no-publish", "--collect-only",
                           "bench/suite/bench_machine.py")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-2000:]
    assert header(output).startswith("glmnn-bench: preset smoke; only the benchmark suite")


@pytest.mark.parametrize("where", ["outside", "outside, with a test path"])
def test_an_existing_results_folder_after_the_option_with_a_space_is_its_value(tmp_path,
                                                                               where):
    # The README's command with a space instead of '=', one row, into a folder that exists.
    # pytest finds pyproject.toml from the test path named beside a folder elsewhere; a
    # folder elsewhere with no test path makes it miss the file, and the run restarts with
    # it (bench/suite/config.py). A folder in the project: the subset test below.
    results = tmp_path / "results"
    results.mkdir()
    paths = ("-k", "perceptron-overlap-float32 and test_fit")
    if where == "outside, with a test path":
        paths = ("bench/suite/bench_fits.py", "-k", "perceptron-overlap-float32")
    completed = pytest_run("--benchmark", "--bench-preset=smoke",
                           "--bench-results-dir", str(results),
                           "--benchmark-json", str(tmp_path / "run.json"), *paths)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert "1 passed" in output and "glmnn-bench: published" in output, output[-3000:]
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    assert (folder / "README.md").is_file()
    assert f"glmnn-bench: published {folder}" in output


def test_a_run_restarts_with_the_projects_configuration_at_most_once():
    # The decision of bench/suite/config.py, case by case.
    argv, args = ["python", "-m", "pytest", "--x", "/tmp"], ["--x", "/tmp"]
    assert restart_command(argv, args, inipath=None, cwd=ROOT, env={}) == [
        "python", "-m", "pytest", "-c", str(PYPROJECT), "--x", "/tmp"]
    assert restart_command(argv, args, inipath=PYPROJECT, cwd=ROOT, env={}) is None
    assert restart_command(argv, args, inipath=None, cwd=ROOT.parent, env={}) is None
    assert restart_command(argv, args, inipath=None, cwd=ROOT,
                           env={"GLMNN_PYTEST_RESTARTED": "1"}) is None
    assert restart_command([*argv, "-c", "x.toml"], [*args, "-c", "x.toml"], inipath=None,
                           cwd=ROOT, env={}) is None
    # pytest.main() called from code, whose arguments are not the command line's
    assert restart_command(["python", "script.py"], args, inipath=None, cwd=ROOT,
                           env={}) is None


def test_the_session_is_complete_only_when_every_test_ran_and_passed():
    class Session:
        testsfailed = 0

    state = SessionState(run_mode(benchmark=True, preset="smoke"))
    assert (state.expected, state.finished, state.published) == (None, 0, None)
    assert not state.complete()  # collection has not finished
    state.expected, state.session = 2, Session()
    state.finished = 1
    assert not state.complete()  # one test did not run to its end
    state.finished = 2
    assert state.complete()
    state.session.testsfailed = 1
    assert not state.complete()


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
    # Without a test path, into a results folder in the project that exists already, named
    # after the option with a space (which made pytest take the folder as a test path).
    # Before every benchmark took `case`, grouping by it raised KeyError: 'case'.
    # Its --benchmark-json is in a folder that does not exist yet: the run used to be lost to
    # a FileNotFoundError at the end.
    records = ROOT / ".benchmarks"  # git ignores it
    records.mkdir(exist_ok=True)
    results = pathlib.Path(tempfile.mkdtemp(prefix="test-results-dir-", dir=records))
    record = tmp_path / "new" / "folder" / "run.json"
    try:
        completed = pytest_run(
            "--benchmark", "--bench-preset=smoke", "--bench-results-dir", str(results),
            f"--benchmark-json={record}", "--benchmark-group-by=param:case",
            "-k", "perceptron-overlap-float32 or ceilings or generate and xor "
                  "or statsmodels_glm-glm-overlap", timeout=600)
        _check_the_subset_run(completed, results, record)
    finally:
        shutil.rmtree(results, ignore_errors=True)


def _check_the_subset_run(completed, results, record):
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    for group in ("case=ceilings", "case=xor", "case=perceptron-overlap-float32",
                  "case=statsmodels_glm-glm-overlap"):
        assert f" benchmark '{group}': 1 tests " in output, group
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    assert f"glmnn-bench: published {folder}" in output
    readme = (folder / "README.md").read_text()
    run = json.loads(record.read_text())
    assert run["glmnn"]["suite_size"] > 4
    assert (f"- selection: **a subset**, 4 of the preset's {run['glmnn']['suite_size']} "
            "benchmark rows") in readme


def test_plain_pytest_runs_on_one_worker_per_core_unless_told_otherwise():
    # bench/suite/workers.py: what plain `pytest` adds to its line, case by case.
    addopts = ["-ra", "-p", "bench.suite.plugin"]
    assert worker_args(addopts, [], {}, cores=2) == ["-n", "2", "--dist", "loadfile",
                                                     "--no-loadscope-reorder"]
    assert worker_args(addopts, [], {}, cores=64)[:2] == ["-n", "8"]
    assert worker_args([*addopts, "-k", "glm"], [], {}, cores=2)[:2] == ["-n", "2"]
    for line in (["-n", "0"], ["-n0"], ["--numprocesses=3"], ["--dist", "load"], ["--pdb"],
                 ["--benchmark"], ["--benchmark-only"], ["--bench-preset=smoke"], ["--co"],
                 ["-p", "no:xdist"], ["--lf"]):
        assert worker_args([*addopts, *line], [], {}, cores=2) == [], line
    assert worker_args(addopts, ["tests/test_glm.py"], {}, cores=2) == []  # paths named
    assert worker_args(addopts, [], {"PYTEST_XDIST_WORKER": "gw0"}, cores=2) == []  # nested
    assert worker_args(addopts, [], {"GLMNN_PYTEST_WORKER": "gw0"}, cores=2) == []
    env = {"PYTEST_XDIST_WORKER": "gw1", "PYTEST_XDIST_WORKER_COUNT": "2", "HOME": "/root"}
    hide_worker(env)
    assert env == {"GLMNN_PYTEST_WORKER": "gw1", "HOME": "/root"}
    assert worker_args(addopts, [], {}, cores=1) == []


def test_an_untimed_run_compiles_quickly_and_keeps_the_users_flags(monkeypatch):
    from bench.suite import compiling

    monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=2")
    compiling.compile_quickly()
    flags = os.environ["XLA_FLAGS"].split()
    assert "--xla_backend_optimization_level=2" in flags  # the user's own wins
    assert "--xla_backend_optimization_level=0" not in flags
    assert "--xla_llvm_disable_expensive_passes=true" in flags


def test_a_flag_this_xla_does_not_know_is_never_passed_on():
    # XLA aborts on an unknown flag, so an untimed run adds the legacy emitter's only where
    # a child process started with it (bench/suite/compiling.py).
    from bench.suite import compiling

    assert not compiling.accepted("--xla_flag_no_release_has=1")
    assert compiling.accepted("--xla_backend_optimization_level=0")
    # Flags asked for together are refused together if XLA knows one of them only.
    assert not compiling.accepted("--xla_backend_optimization_level=0 --xla_flag_no_release_has=1")


def test_an_untimed_run_on_the_cpu_traces_the_cpu_branch_alone():
    # This very session is one (plain pytest), and the processes it starts inherit it.
    import jax

    from models import TRACE_PLATFORM_VARIABLE

    if jax.default_backend() != "cpu":
        pytest.skip("on an accelerator an untimed run traces both branches")
    assert os.environ.get(TRACE_PLATFORM_VARIABLE) == "cpu"


def test_bench_profile_writes_a_trace_of_each_case(tmp_path):
    # Written with a space, into a folder that exists (the plugin's options parse in time).
    traces = tmp_path / "traces"
    traces.mkdir()
    completed = pytest_run("--benchmark", "--bench-preset=smoke", "--bench-no-publish",
                           "--benchmark-json", str(tmp_path / "run.json"),
                           "--bench-profile", str(traces),
                           "bench/suite/bench_fits.py", "-k", "perceptron-overlap-float32")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    (case,) = [p for p in traces.iterdir() if p.is_dir()]
    assert "perceptron-overlap-float32" in case.name
    assert list(case.glob("plugins/profile/*/*.xplane.pb")), sorted(case.rglob("*"))


def test_an_untimed_session_compiles_with_the_legacy_emitter_where_xla_has_it():
    from bench.suite import compiling

    chose = "--xla_cpu_use_fusion_emitters=" in os.environ.get("XLA_FLAGS", "").replace(
        compiling.LEGACY_EMITTER_FLAG, "")  # a user's own choice wins
    if compiling.accepted(compiling.LEGACY_EMITTER_FLAG):
        assert compiling.legacy_emitter_in_use() or chose
    else:
        assert not compiling.legacy_emitter_in_use()
    # The one-part codegen likewise, unless the user set the split count.
    flags = os.environ.get("XLA_FLAGS", "").split()
    split = compiling.ONE_PART_FLAG.split("=")[0]
    if compiling.accepted(compiling.ONE_PART_FLAG):
        assert any(flag.startswith(split) for flag in flags)


@pytest.mark.default_compiler
@pytest.mark.parametrize("twice", [1, 2])
def test_a_default_compiler_test_runs_without_the_legacy_emitter(twice):
    # Marked: in a session on the legacy emitter this runs in a child pytest without it
    # (both parameters in one child), and fails if it ran here.
    from bench.suite import compiling

    assert not compiling.legacy_emitter_in_use()
