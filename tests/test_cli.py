"""Interrupted runs, bad commands and reruns: nothing is lost, nothing lies.

These drive real subprocesses (``python -m bench`` and ``pytest --benchmark``), as a user
would, at the smoke preset.
"""

import gzip
import json
import os
import pathlib
import platform
import shutil
import signal
import subprocess
import sys
import time

import pytest
from _children import QUIET_CHILD

from bench.suite.compiling import without_legacy_emitter

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "smoke-run.json"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


#: Convergence statistics that a rerun must reproduce exactly.
CONVERGENCE_FIELDS = ("status_counts", "converged_frac", "separated_frac", "n_iter_median",
                      "n_iter_max", "nan_converged")


def bench(*argv, timeout=300):
    return subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=ENV)


def earlier_run(results: pathlib.Path) -> dict:
    """A fake earlier published run; returns {path: bytes} to check it stays untouched."""
    folder = results / "2026-01-01-cpu-00000000"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("an earlier run\n")
    (folder / "summary.csv").write_text("a,b\n1,2\n")
    return {p: p.read_bytes() for p in folder.iterdir()}


def assert_nothing_published(results: pathlib.Path, before: dict):
    folders = sorted(p.name for p in results.iterdir() if p.is_dir())
    assert folders == ["2026-01-01-cpu-00000000"], folders
    assert not any(p.name.startswith(".tmp-") for p in results.iterdir())
    assert {p: p.read_bytes() for p in before} == before


def interrupt_when(process, marker: str, stream_name: str, timeout: float = 240,
                   delay: float = 0.0) -> str:
    """Send SIGINT ``delay`` s after ``marker`` appears on the process's stream; return what
    was read."""
    stream = getattr(process, stream_name)
    seen, deadline = "", time.monotonic() + timeout
    while marker not in seen:
        line = stream.readline()
        if not line:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} never appeared:\n{seen[-3000:]}")
            continue
        seen += line
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    return seen


def start_interruptible(args: list[str]) -> subprocess.Popen:
    """Start ``args`` with SIGINT at its default action.

    A shell without job control starts background jobs with SIGINT ignored, and a child
    inherits an ignored signal: Python then installs no KeyboardInterrupt handler, and the
    signal these tests send would do nothing. A handler, unlike SIG_IGN, is reset to the
    default action by exec, so pytest holds one while it starts the child.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    # No compiled programs from disk, and XLA's slower default CPU emitter (not this
    # session's legacy one, bench/suite/compiling.py): the signal must find XLA compiling.
    env = {**ENV, "JAX_ENABLE_COMPILATION_CACHE": "false",
           "XLA_FLAGS": without_legacy_emitter(ENV.get("XLA_FLAGS", ""))}
    try:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_bench_run_interrupted_by_sigint_publishes_nothing(tmp_path):
    results = tmp_path / "results"
    before = earlier_run(results)
    process = start_interruptible(
        [sys.executable, "-m", "bench", "run", "--preset", "smoke", "--model", "glm",
         "--publish", "--results-dir", str(results), "--json", str(tmp_path / "run.json")])
    # The first case has finished when its progress line is printed; stop in the second.
    interrupt_when(process, "chunks", "stderr")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted; nothing was published" in stderr
    assert "Traceback" not in stderr
    assert_nothing_published(results, before)
    assert not (tmp_path / "run.json").exists()


def test_bench_run_interrupted_while_xla_compiles_exits_130(tmp_path):
    # "compiling" is printed once JAX has traced the chunk program, as XLA starts compiling
    # it (seconds, here). A signal at once XLA answers cleanly; half a second into its work,
    # before SIGINT was held until the compilation returned, it ended the process in a
    # segmentation fault (exit -11) in 10 runs of 10.
    results = tmp_path / "results"
    before = earlier_run(results)
    process = start_interruptible(
        [sys.executable, "-m", "bench", "run", "--preset", "smoke", "--model", "glm",
         "--regime", "overlap", "--dtype", "float64", "--no-progress", "--publish",
         "--results-dir", str(results), "--json", str(tmp_path / "run.json")])
    interrupt_when(process, "compiling", "stderr", delay=0.5)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, (process.returncode, stderr[-2000:])
    assert "interrupted while compiling; stopping as soon as it is done" in stderr
    assert "interrupted; nothing was published" in stderr
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr
    assert_nothing_published(results, before)
    assert not (tmp_path / "run.json").exists()


def test_bench_run_with_an_exception_in_one_case_publishes_nothing(tmp_path, monkeypatch,
                                                                     capsys):
    from bench import __main__ as cli
    from bench import scale

    results = tmp_path / "results"
    before = earlier_run(results)
    real, seen = scale.run_scaled, []

    def fail_on_the_second_case(case, *args, **kwargs):
        seen.append(case)
        if len(seen) == 2:
            raise ValueError("planted failure in the second case")
        return real(case, *args, **kwargs)

    monkeypatch.setattr(scale, "run_scaled", fail_on_the_second_case)
    status = cli.main(["run", "--preset", "smoke", "--model", "perceptron", "--publish",
                       "--results-dir", str(results), "--json", str(tmp_path / "run.json"),
                       "--no-progress"])
    assert status == 2 and len(seen) == 2
    assert "planted failure in the second case" in capsys.readouterr().err
    assert_nothing_published(results, before)
    assert not (tmp_path / "run.json").exists()


def test_rerunning_an_invalid_recorded_case_fails_before_running(tmp_path):
    from bench import catalog
    from bench.presets import PRESETS

    run = json.loads(FIXTURE.read_text())
    run["glmnn"]["preset_settings"] = PRESETS["smoke"]._asdict()
    bad = next(b for b in run["benchmarks"] if b["extra_info"].get("kind") == "fit")
    bad["extra_info"].update(model="glm", regime="poisson")
    source = tmp_path / "edited.json"
    source.write_text(json.dumps(run))
    completed = bench("run", "--from", str(source))
    assert completed.returncode == 2
    regimes = ", ".join(catalog.model("glm").regimes)
    assert f"model glm runs on {regimes}, not 'poisson'" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr


def test_pytest_benchmark_interrupted_by_sigint_publishes_nothing(tmp_path):
    results = tmp_path / "results"
    before = earlier_run(results)
    process = start_interruptible(
        [sys.executable, "-m", "pytest", "--benchmark", "--bench-preset", "smoke", "-v",
         "-p", "no:cacheprovider", *QUIET_CHILD, "bench/suite/bench_fits.py", "-m", "perceptron",
         "--bench-results-dir",
         str(results), "--benchmark-json", str(tmp_path / "run.json")])
    interrupt_when(process, "PASSED", "stdout")
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode != 0
    assert_nothing_published(results, before)
    # pytest-benchmark still writes what ran; the record says it is not the whole run, and
    # publishing it later is refused.
    partial = json.loads((tmp_path / "run.json").read_text())
    assert partial["glmnn"]["complete"] is False
    refused = bench("publish", str(tmp_path / "run.json"), "--results-dir", str(results))
    assert refused.returncode == 2 and "incomplete" in refused.stderr
    assert_nothing_published(results, before)


@pytest.mark.parametrize("argv, message", [
    (["run", "--regime", "spiral"], "invalid choice: 'spiral'"),
    (["run", "--n-samples", "-5"], "must be >= 1"),
    (["run", "--n-samples", "1"], "--n-samples must be >= 2"),
    (["run", "--preset", "huge"], "invalid choice: 'huge'"),
    (["compare", "/nonexistent/old.json", str(FIXTURE)], "no such file"),
    (["run", "--preset", "smoke", "--json", "/proc/nope/run.json"], "cannot write into"),
    (["run", "--preset", "smoke", "--model", "glm", "--regime", "xor", "--n-features", "1"],
     "needs n_features >= 2"),
])
def test_bad_commands_give_one_line_and_a_nonzero_exit(argv, message):
    completed = bench(*argv)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "Traceback" not in completed.stderr


def test_publish_and_compare_reject_a_corrupt_json(tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"benchmarks": [')
    for argv in (["publish", str(corrupt), "--results-dir", str(tmp_path / "r")],
                 ["compare", str(corrupt), str(FIXTURE)]):
        completed = bench(*argv)
        assert completed.returncode == 2
        assert "not valid JSON" in completed.stderr or "corrupt" in completed.stderr.lower(), \
            completed.stderr
        assert len(completed.stderr.strip().splitlines()) == 1
        assert "Traceback" not in completed.stderr


def test_publish_into_an_unwritable_results_dir_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # root ignores permission bits; a file path does not
    completed = bench("publish", str(FIXTURE), "--results-dir", str(blocker / "results"))
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "Traceback" not in completed.stderr


def test_unknown_bench_preset_is_a_one_line_usage_error():
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--bench-preset", "huge", "-p", "no:cacheprovider",
         *QUIET_CHILD],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=ENV)
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR
    output = (completed.stdout + completed.stderr).strip().splitlines()
    assert output == ["ERROR: unknown --bench-preset 'huge'; choose one of smoke, quick, gpu, "
                      "gpu-dry."]


def test_a_published_smoke_run_reruns_to_the_same_convergence_statistics(tmp_path):
    # Both models and dtypes, a fit and a scaling row: the perceptron's sweep row, whose
    # program is smaller than the GLM's; test_concurrent_runs_each_keep_their_own_record
    # reruns both perceptron rows with the programs this rerun compiles.
    results = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--benchmark", "--bench-preset", "smoke", "-q",
         "-p", "no:cacheprovider", *QUIET_CHILD, "bench/suite/bench_fits.py",
         "-k", "perceptron-separable-float32 or glm-overlap-float64 and not B3",
         "--bench-results-dir", str(results), "--benchmark-json", str(tmp_path / "run.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=ENV)
    assert completed.returncode == 0, completed.stdout[-3000:]
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    published = json.loads(gzip.decompress((folder / "benchmark.json.gz").read_bytes()))
    assert published["glmnn"]["preset"] == "smoke"
    assert published["glmnn"]["preset_settings"]["seed"] == 0

    rerun_path = tmp_path / "rerun.json"
    rerun = bench("run", "--from", str(folder / "benchmark.json.gz"), "--json", str(rerun_path),
                  timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    rerun_json = json.loads(rerun_path.read_text())
    rows = {row["name"]: row for row in rerun_json["cases"]}
    # The machine fields pytest-benchmark records, which the published README shows.
    machine = rerun_json["machine_info"]
    assert (machine["system"], machine["python_version"]) == (platform.system(),
                                                              platform.python_version())

    def key(info):
        return (info["kind"], info["model"], info["regime"], info["dtype"], info["n_datasets"])

    original = {key(b["extra_info"]): b["extra_info"] for b in published["benchmarks"]
                if b["extra_info"]["kind"] in ("fit", "scaling")}
    again = {key(info): info for info in rows.values()}
    assert set(again) == set(original)
    for case, info in original.items():
        for field in CONVERGENCE_FIELDS:
            assert again[case][field] == info[field], (case, field)
    shutil.rmtree(results)


def test_concurrent_runs_each_keep_their_own_record(tmp_path):
    # Four `python -m bench run` and two `pytest --benchmark` started together, with their
    # default record names: the names had a one-second stamp only, so three of four CLI runs
    # said they wrote the same file and two files remained. The CLI runs start in another
    # folder: their records go to the project's .benchmarks/, as pytest's do. Their two
    # cases are those whose programs the tests above compiled (the session's compilation
    # cache), so the four do not compile the same programs at once.
    from bench.record import FORMAT, read_run

    cli = [subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--preset", "smoke", "--model", "perceptron",
         "--regime", "separable", "--no-progress"],
        cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
        for _ in range(4)]
    # bench_machine.py alone fits no model, so its run is recorded but not published.
    results = tmp_path / "results"
    tests = [subprocess.Popen(
        [sys.executable, "-m", "pytest", "--benchmark", "--bench-preset=smoke",
         f"--bench-results-dir={results}", "-p", "no:cacheprovider", *QUIET_CHILD,
         "bench/suite/bench_machine.py"],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
        for _ in range(2)]
    written = []
    try:
        for process in cli:
            stdout, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr[-2000:]
            written += [pathlib.Path(line.removeprefix("wrote "))
                        for line in stdout.splitlines() if line.startswith("wrote ")]
        for process in tests:
            stdout, _ = process.communicate(timeout=300)
            assert process.returncode == 0, stdout[-2000:]
            assert "glmnn-bench: not published: " in stdout and "has no fit of a model" in \
                stdout
            written += [pathlib.Path(line.split("Wrote benchmark data in: ")[1].strip())
                        for line in stdout.splitlines() if "Wrote benchmark data in: " in line]
        assert len(written) == 6 and len(set(written)) == 6, written
        assert {p.parent for p in written} == {ROOT / ".benchmarks"}
        assert not (tmp_path / ".benchmarks").exists()
        for path, process in zip(written, cli + tests):
            assert path.name.endswith(f"-{process.pid}.json"), (path, process.pid)
        for path in written[:4]:
            record = json.loads(path.read_text())
            # Our own record, which does not pose as pytest-benchmark's JSON.
            assert record["format"] == FORMAT and "benchmarks" not in record
            assert record["datetime"].endswith("+00:00")  # UTC, with its zone
            assert read_run(path).source == "python -m bench run"
        assert {read_run(path).source for path in written[4:]} == {"pytest-benchmark"}
        assert list(results.iterdir()) == []
    finally:
        for process in cli + tests:
            if process.poll() is None:
                process.kill()
        for path in written:
            path.unlink(missing_ok=True)
