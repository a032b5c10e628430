"""The harness under failure: an early Ctrl-C, a full disk, a publish that fails half-way,
files that must not be replaced, a run published twice, sizes no machine holds, and
incomplete runs.

The Ctrl-C tests start real processes (``python -m bench run``, ``pytest --benchmark``) at
tiny sizes, several at once; the full-disk tests mount a small tmpfs (root on Linux, else
skipped); the rest run in this process.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from _children import QUIET_CHILD

from bench import __main__ as cli
from bench import scale, selection
from bench.record import RecordError, read_run
from bench.report import AlreadyPublished, compare, publish
from bench.report import folders as folders_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "smoke-run.json"
TINY = ["--n-datasets", "4", "--n-samples", "20", "--n-features", "2"]
PAGE = 4096


class Stop(ValueError):
    """Raised by a stand-in for scale.run_scaled, so a test computes nothing."""


@pytest.fixture
def no_compute(monkeypatch):
    """Record what run_scaled is asked for, and stop there."""
    calls = []

    def record(case, preset, **kwargs):
        calls.append(case)
        raise Stop("stopped before computing")

    monkeypatch.setattr(scale, "run_scaled", record)
    return calls


@pytest.fixture
def no_plots(monkeypatch):
    """Skip drawing (slow, and beside the point here)."""
    from bench.report import folders, plots

    monkeypatch.setattr(plots, "write_plots", lambda cases, folder: [])
    monkeypatch.setattr(folders, "plot_history", lambda entries, path: False)


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size)``: a new folder on a tmpfs of ``size`` (e.g. ``"4k"``) of its own."""
    mounted = []

    def mount(size: str) -> pathlib.Path:
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            pytest.skip("a full disk is a small tmpfs, which only root can mount on Linux")
        folder = tmp_path / f"disk-{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def fixture_with(tmp_path: pathlib.Path, name: str, edit=None) -> pathlib.Path:
    run = json.loads(FIXTURE.read_text())
    if edit is not None:
        edit(run)
    path = tmp_path / name
    path.write_text(json.dumps(run))
    return path


def snapshot(root: pathlib.Path) -> dict:
    """Every file under ``root`` by relative path, with its bytes."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


# --- Ctrl-C in the first seconds ------------------------------------------------------------


def _jax_is_loading(pid: int) -> bool:
    """Whether the process has mapped one of jaxlib's libraries (it is importing JAX)."""
    try:
        return "/jaxlib/" in pathlib.Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _start(args: list[str]) -> subprocess.Popen:
    """Start ``args`` with SIGINT at its default action, whatever this process's is.

    A child inherits an ignored SIGINT (a shell without job control ignores it in background
    jobs), while a handler is reset to the default by exec; hence one is held while the
    child starts. No compiled programs from disk, so the run still compiles when signalled.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "JAX_ENABLE_COMPILATION_CACHE": "false"}
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_early(commands: dict[str, list[str]], moments: dict[str, tuple]) -> dict:
    """Start every command at once; SIGINT each at its moment; return ``{name: outcome}``.

    A moment is ``(since, seconds)``: ``since`` is ``"start"``, or ``"jax"``, when the
    process maps jaxlib, as it starts importing JAX (on Linux; elsewhere the start).
    Unheld, a signal as JAX's import begins crashes the process or leaves a traceback, and
    one 0.2 s later is swallowed by JAX's garbage-collection callback, so the run goes on
    to be published. Outcome: ``(returncode, stdout, stderr)``.
    """
    watch = pathlib.Path("/proc/self/maps").exists()
    started = time.monotonic()
    processes = {name: _start(args) for name, args in commands.items()}
    origins = {name: started for name, (since, _) in moments.items()
               if since == "start" or not watch}
    waiting = set(processes)
    while waiting and time.monotonic() - started < 120:
        now = time.monotonic()
        for name in sorted(waiting):
            process, (_, seconds) = processes[name], moments[name]
            assert process.poll() is None, f"{name} ended before its SIGINT was sent"
            if name not in origins and _jax_is_loading(process.pid):
                origins[name] = now
            if name in origins and now - origins[name] >= seconds:
                process.send_signal(signal.SIGINT)
                waiting.discard(name)
        time.sleep(0.002)
    assert not waiting, f"never signalled: {sorted(waiting)}"
    outcomes = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=180)
        outcomes[name] = (process.returncode, stdout, stderr)
    return outcomes


def test_a_ctrl_c_in_the_first_seconds_of_bench_run_stops_it(tmp_path):
    moments = {f"jax+{delay}s": ("jax", delay) for delay in (0.0, 0.1, 0.2, 0.4, 0.7)}
    moments["1s"] = ("start", 1.0)
    commands = {
        name: [sys.executable, "-m", "bench", "run", "--model", "glm", "--regime", "overlap",
               "--dtype", "float64", *TINY, "--no-progress", "--publish",
               "--results-dir", str(tmp_path / name / "results"),
               "--json", str(tmp_path / name / "run.json")]
        for name in moments}
    for name, (returncode, stdout, stderr) in _interrupt_early(commands, moments).items():
        said = f"SIGINT at {name}: exit {returncode}\n{stderr[-3000:]}"
        assert returncode == 130, said
        assert "interrupted; nothing was published" in stderr, said
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, said
        assert "wrote" not in stdout and "published" not in stdout, said
        assert snapshot(tmp_path / name / "results") == {}, said
        assert not (tmp_path / name / "run.json").exists(), said


def test_a_ctrl_c_in_the_first_seconds_of_pytest_benchmark_publishes_nothing(tmp_path):
    moments = {f"jax+{delay}s": ("jax", delay) for delay in (0.0, 0.1, 0.2, 0.4, 0.7)}
    # The later moment counts from JAX's import too: pytest imports itself before it loads
    # the plugin that holds a Ctrl-C, and on a busy machine that took more than 1.5 s from
    # the start, where the signal met pytest's own imports (a traceback, exit -2).
    moments["jax+1.5s"] = ("jax", 1.5)
    commands = {
        name: [sys.executable, "-m", "pytest", "--benchmark", "--bench-preset=smoke",
               "-p", "no:cacheprovider", *QUIET_CHILD, "bench/suite/bench_fits.py",
               "-k", "glm and overlap and float64",
               f"--bench-results-dir={tmp_path / name / 'results'}",
               f"--benchmark-json={tmp_path / name / 'run.json'}"]
        for name in moments}
    for name, (returncode, stdout, stderr) in _interrupt_early(commands, moments).items():
        said = f"SIGINT at {name}: exit {returncode}\n{stdout[-3000:]}\n{stderr[-2000:]}"
        assert returncode == 2, said  # pytest's "interrupted"
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, said
        assert snapshot(tmp_path / name / "results") == {}, said
        record = tmp_path / name / "run.json"
        if record.exists():  # pytest-benchmark writes what ran, if anything did
            assert json.loads(record.read_text())["glmnn"]["complete"] is False, said


# --- A full disk at the end of a run --------------------------------------------------------


def test_a_full_disk_at_the_end_of_a_run_keeps_its_rows_and_its_record(tmp_path, capsys,
                                                                        monkeypatch,
                                                                        small_disk):
    disk = small_disk("4k")  # passes the check before the run; the record is larger
    spare = tmp_path / "system-tmp"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    results = tmp_path / "results"
    # The smoke preset: the case of test_chunk_starts_past_2_31_do_not_overflow, so the two
    # tests compile one program between them (the session's compilation cache).
    argv = ["run", "--preset", "smoke", "--model", "perceptron", "--regime", "overlap", *TINY,
            "--no-progress", "--json", str(disk / "run.json"), "--publish", "--results-dir",
            str(results)]
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert "perceptron-overlap-float32" in out and "fits/s" in out  # the rows, on screen
    [fallback] = spare.glob("glmnn-run-*.json")
    errors = [line for line in err.splitlines() if "error" in line]
    assert errors == [
        f"python -m bench run: error: the record could not be written to {disk / 'run.json'} "
        f"(No space left on device); it is at {fallback} instead: nothing was published: run "
        f"`python -m bench publish {fallback}` once that is fixed."]
    record = read_run(fallback)
    assert record.complete is True and record.cases[0].name == "perceptron-overlap-float32"
    assert list(disk.iterdir()) == [] and snapshot(results) == {}

    # Nowhere to write it: the rows stay on screen and the line says what to do.
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk("4k")))
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and "perceptron-overlap-float32" in out
    assert len([line for line in err.splitlines() if "error" in line]) == 1
    assert ("nor to the system's temporary folder (No space left on device); the rows above "
            "are the run's results: free some space, or pass --json PATH on another disk, "
            "and run it again.") in err


# --- A publish that fails half-way ----------------------------------------------------------


def _rerun(tmp_path: pathlib.Path, number: int) -> pathlib.Path:
    """The fixture as another run of the same day and machine."""
    def edit(run):
        run["glmnn"]["command"] += f" # run {number}"
    return fixture_with(tmp_path, f"rerun-{number}.json", edit)


def _leave_free(root: pathlib.Path, pages: int) -> pathlib.Path:
    """Fill the disk of ``root`` until ``pages`` pages are free; return the filler."""
    filler = root.parent / f"{root.name}-filler"
    filler.unlink(missing_ok=True)
    stat = os.statvfs(root)
    free = stat.f_bavail * stat.f_frsize // PAGE
    filler.write_bytes(b"\0" * (free - pages) * PAGE)
    stat = os.statvfs(root)
    assert stat.f_bavail * stat.f_frsize // PAGE == pages
    return filler


def test_a_publish_on_a_nearly_full_disk_is_all_or_nothing(tmp_path, small_disk, no_plots):
    disk = small_disk("8m")
    root = disk / "results"
    earlier = publish(_rerun(tmp_path, 1), root)
    run_json = _rerun(tmp_path, 2)
    needs = sum(-(-p.stat().st_size // PAGE) for p in earlier.iterdir())  # pages of a run
    outcomes = []
    for pages in range(needs - 2, needs + 8):  # ... the folder fits, but not the index ...
        before = snapshot(root)
        filler = _leave_free(root, pages)
        try:
            folder = publish(run_json, root)
        except OSError as error:
            assert error.errno == errno.ENOSPC
            assert snapshot(root) == before, f"{pages} pages free: the results changed"
            outcomes.append("failed")
            continue
        finally:
            filler.unlink()
        assert f"[{folder.name}]" in (root / "README.md").read_text()
        assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in
                                                                    earlier.iterdir())
        outcomes.append("published")
        break
    assert outcomes[0] == "failed" and outcomes[-1] == "published", outcomes
    with pytest.raises(AlreadyPublished):  # a retry after a failure makes no duplicate
        publish(run_json, root)


def test_a_publish_whose_last_step_fails_moves_its_folder_back(tmp_path, monkeypatch,
                                                               no_plots):
    root = tmp_path / "results"
    publish(_rerun(tmp_path, 1), root)
    before = snapshot(root)
    real = os.replace

    def failing(source, target):
        if pathlib.Path(target) == root / "README.md":
            raise OSError(errno.EIO, "Input/output error")
        return real(source, target)

    monkeypatch.setattr(folders_module.os, "replace", failing)
    with pytest.raises(OSError, match="Input/output error"):
        publish(_rerun(tmp_path, 2), root)
    assert snapshot(root) == before
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]
    monkeypatch.setattr(folders_module.os, "replace", real)
    folder = publish(_rerun(tmp_path, 2), root)
    assert f"[{folder.name}]" in (root / "README.md").read_text()


# --- Files that must not be replaced --------------------------------------------------------


def test_json_never_replaces_a_published_run_or_a_file_that_is_not_a_record(
        tmp_path, capsys, no_compute, no_plots):
    folder = publish(fixture_with(tmp_path, "run.json"), tmp_path / "results")
    published = folder / "benchmark.json.gz"
    kept = published.read_bytes()
    status, _, err = run_cli(capsys, "run", "--preset", "smoke", "--json", str(published))
    assert status == 2 and no_compute == [] and published.read_bytes() == kept
    assert err.strip().splitlines() == [
        f"python -m bench run: error: --json: {published} is in the published run {folder}, "
        f"whose files are never replaced; pass a path outside it, or leave --json out for a "
        f"new file in {cli_records_folder()}."]

    other = fixture_with(tmp_path, "pytest-benchmark.json")  # not a record of bench run
    status, _, err = run_cli(capsys, "run", "--preset", "smoke", "--json", str(other))
    assert status == 2 and no_compute == []
    assert (f"--json: {other} exists and is not a record of python -m bench run, so writing "
            "the record would replace it; pass a new path, or remove that file first.") in err

    earlier = tmp_path / "earlier-record.json"  # an earlier record may be replaced
    earlier.write_text(json.dumps({"format": "glmnn-bench run record", "cases": []}))
    run_cli(capsys, "run", "--preset", "smoke", "--model", "perceptron", "--regime",
            "overlap", "--json", str(earlier))
    assert len(no_compute) == 1


def cli_records_folder() -> pathlib.Path:
    from bench import paths

    return paths.records_folder()


# --- A run published twice ------------------------------------------------------------------


def test_republishing_a_published_json_keeps_its_host_id(tmp_path, no_plots):
    first = publish(fixture_with(tmp_path, "run.json"), tmp_path / "results")
    again = publish(first / "benchmark.json.gz", tmp_path / "elsewhere")
    assert again.name == first.name  # <date>-<device>-<the same host id>
    assert ((again / "benchmark.json.gz").read_bytes()
            == (first / "benchmark.json.gz").read_bytes())
    assert json.loads((again / "run.json").read_text())["host_id"] == first.name[-8:]


def test_the_same_run_is_published_once(tmp_path, capsys, no_plots):
    root = tmp_path / "results"
    source = fixture_with(tmp_path, "run.json")
    first = publish(source, root)
    index = (root / "README.md").read_bytes()
    for again in (source, first / "benchmark.json.gz"):
        with pytest.raises(AlreadyPublished) as raised:
            publish(again, root)
        assert raised.value.folder == first
    status, out, _ = run_cli(capsys, "publish", str(source), "--results-dir", str(root))
    assert status == 0
    assert out.strip().splitlines() == [
        f"{source} is published already, as {first}; nothing was written (exit status 0: "
        "the run is published)."]
    assert sorted(p.name for p in root.iterdir()) == [first.name, "README.md"]
    assert (root / "README.md").read_bytes() == index


# --- Sizes no machine holds, and chunk starts past 2**31 ------------------------------------


def test_n_datasets_past_the_key_space_is_one_line_before_anything_runs(capsys, no_compute):
    started = time.monotonic()
    status, _, err = run_cli(capsys, "run", "--model", "glm", "--regime", "overlap",
                             "--dtype", "float64", "--n-datasets", "99999999999999999999")
    assert status == 2 and no_compute == [] and time.monotonic() - started < 5
    assert err.strip().splitlines() == [
        "python -m bench run: error: --n-datasets 99999999999999999999 is more than the "
        "4,294,967,296 data sets a case can have (each one's key is derived from a 32-bit "
        "index): choose --n-datasets 4294967296 or fewer."]


@pytest.fixture
def memory_of_24_gib(monkeypatch):
    """A CPU machine of 24 GiB, wherever the tests run."""
    monkeypatch.setattr(selection, "machine_memory", lambda: 24 * 2**30)
    memory = sys.modules.get("bench.memory")
    if memory is not None:
        monkeypatch.setattr(memory, "device_budget", lambda stats: None)


def test_a_chunk_no_machine_holds_names_chunk_size(capsys, no_compute, memory_of_24_gib):
    status, _, err = run_cli(capsys, "run", "--model", "perceptron", "--regime", "separable",
                             "--n-features", "3000", "--chunk-size", "4096")
    assert status == 2 and no_compute == []
    assert err.strip().splitlines() == [
        "python -m bench run: error: case perceptron-separable-float32: a chunk of 1,000 data "
        "sets needs about 27 GiB, more than the 19 GiB a run may use of this machine's "
        "24 GiB: choose --chunk-size 715 or less."]


def test_too_many_samples_names_n_samples(capsys, no_compute, memory_of_24_gib):
    status, _, err = run_cli(capsys, "run", "--model", "glm", "--regime", "overlap",
                             "--dtype", "float64", "--n-samples", "1000000000")
    assert status == 2 and no_compute == []
    assert len(err.strip().splitlines()) == 1 and "features" not in err.split(":")[-1]
    assert "(mostly copies of its design matrix)" in err
    assert err.strip().endswith(": choose --n-samples 19522574 or fewer.")


def test_chunk_starts_past_2_31_do_not_overflow(monkeypatch):
    import jax.numpy as jnp

    from bench.cases import Case
    from bench.presets import PRESETS

    preset = PRESETS["smoke"]
    tiny = Case("perceptron", "overlap", "float32", 4, 20, 2, 20)
    real, _, _ = scale.chunk_program(tiny, preset, 4)
    calls = []

    def program(start, n_valid):  # records the chunk, and fits the tiny case's first one
        calls.append((int(start), int(n_valid), str(start.dtype)))
        return real(jnp.uint32(0), jnp.int32(min(int(n_valid), 1)))

    monkeypatch.setattr(scale, "chunk_program", lambda case, preset, chunk, **kw: (
        program, chunk, 0.0))
    huge = tiny._replace(n_datasets=3 * 2**30 + 5)
    scale.run_scaled(huge, preset, chunk_size=2**30)
    assert calls[1:] == [(0, 2**30, "uint32"), (2**30, 2**30, "uint32"),
                         (2**31, 2**30, "uint32"), (3 * 2**30, 5, "uint32")]
    # The generators number data sets up to 2**32, and say so past it.
    from bench import datasets

    datasets.check_args("overlap", n_datasets=2, start=2**32 - 2, n_samples=20, n_features=2)
    with pytest.raises(ValueError, match="start \\+ n_datasets must be at most 4,294,967,296"):
        datasets.check_args("overlap", n_datasets=2, start=2**32 - 1, n_samples=20,
                            n_features=2)


# --- Incomplete runs ------------------------------------------------------------------------


def _stopped_early(tmp_path: pathlib.Path) -> pathlib.Path:
    """The fixture as a run interrupted after 5 cases."""
    def edit(run):
        run["benchmarks"] = run["benchmarks"][:5]
        run["glmnn"].update(complete=False, suite_size=90)
    return fixture_with(tmp_path, "interrupted.json", edit)


def test_compare_fails_on_an_incomplete_run_unless_allowed(tmp_path, capsys):
    partial = _stopped_early(tmp_path)
    for old, new, label in ((FIXTURE, partial, "new"), (partial, FIXTURE, "old")):
        text, status = compare(old, new, fail_above=1.2)
        assert status == 1
        assert (f"the {label} run is incomplete: it stopped before all its cases ran (it is "
                "marked incomplete: 5 cases recorded of a 90-case matrix); pass "
                "--allow-incomplete to compare it anyway.") in text
        assert text.rstrip().endswith("FAIL (a run is incomplete).")
        text, status = compare(old, new, fail_above=1.2, allow_incomplete=True)
        assert status == 0 and "compared anyway (--allow-incomplete)" in text
    status, out, _ = run_cli(capsys, "compare", str(FIXTURE), str(partial))
    assert status == 1 and "FAIL (a run is incomplete)" in out
    status, _, _ = run_cli(capsys, "compare", str(FIXTURE), str(partial),
                           "--allow-incomplete")
    assert status == 0


def test_a_json_without_its_glmnn_block_is_not_taken_for_a_whole_run(tmp_path, capsys):
    bare = fixture_with(tmp_path, "bare.json", lambda run: run.pop("glmnn"))
    with pytest.raises(RecordError) as refused:
        publish(bare, tmp_path / "results")
    assert "\n" not in str(refused.value)
    assert ("it has no 'glmnn' block (this project's pytest plugin writes one), so whether "
            "all its cases ran is not recorded") in str(refused.value)
    assert not (tmp_path / "results").exists() or snapshot(tmp_path / "results") == {}
    status, _, err = run_cli(capsys, "publish", str(bare), "--results-dir",
                             str(tmp_path / "results"))
    assert status == 2 and len(err.strip().splitlines()) == 1
    text, status = compare(FIXTURE, bare)
    assert status == 1 and "the new run is incomplete: it has no 'glmnn' block" in text
