"""The project's pytest plugin: ``pytest --benchmark``, its options, and publishing a run.

pyproject.toml loads it with ``addopts = "-p bench.suite.plugin"`` (and ``pythonpath``, so
that it imports from this checkout): pytest imports such a plugin while it reads its
command line, before any conftest and before it parses the line for good, so its options
(``--bench-results-dir DIR`` and the rest) are known when the line is parsed. The root
``conftest.py`` loads it too, for the runs where pytest did not read pyproject.toml
(:func:`_check_ini` then stops them with the fix).

* ``pytest``: the correctness tests, and the benchmark suite once, as the ``gpu`` preset's
  dry run in ``tests/test_gpu_dry_run.py`` (every module and row at tiny sizes, timed
  once, published into a temporary folder), so CI keeps the benchmark code and the ``gpu``
  run's matrix alive; the suite is then not collected in this process. ``pytest
  bench/suite`` (paths named) runs the benchmarks here once each, untimed, at the
  ``smoke`` preset. pytest-benchmark's own switches are respected (``--benchmark-only``,
  ``--benchmark-enable`` time them, and collect the suite here); the run's header says
  what it will do (:mod:`bench.suite.mode`).
* ``pytest --benchmark``: only the benchmark modules, timed, ``quick`` preset unless
  ``--bench-preset`` says otherwise. The pytest-benchmark JSON is written to
  ``.benchmarks/glmnn-<preset>-<UTC stamp>-<process id>.json`` unless ``--benchmark-json``
  names a file, and, if every benchmark passed and pytest-benchmark's own end-of-run checks
  (``--benchmark-compare-fail``, ``--benchmark-histogram``) passed too, published into
  ``results/<run>/`` (``bench.report``). A run that failed or was interrupted publishes
  nothing, and its JSON is marked incomplete (``glmnn.complete``), so
  ``python -m bench publish`` refuses it too. Every destination is checked before anything
  runs. A Ctrl-C while pytest starts (JAX's import, collection) is held until collection is
  done, then stops the run; one that JAX's garbage-collection callback swallowed is raised
  at the next test, and the run is never marked complete nor published
  (:mod:`bench.interrupts`).

An existing path written after an option with a space (``--bench-results-dir DIR``) is
read as the option's value whenever pytest reads pyproject.toml. pytest chooses its root
folder and configuration file before it loads any plugin, taking every existing path on
the line for a test path, so an existing folder outside the project, with no test path of
the project named, still makes it miss pyproject.toml (and this plugin): write
``--option=PATH`` there.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import shlex
import sys
from collections.abc import Callable, Generator, Sequence
from typing import Any

import pytest

from bench import interrupts

# Before anything else of ours is imported, and so before JAX: a Ctrl-C meanwhile would be
# lost (bench.interrupts). Loaded with -p, this runs before any other plugin's import.
interrupts.hold_until_started()

from bench import catalog, paths  # noqa: E402
from bench.presets import PRESETS, Preset, get_preset  # noqa: E402
from bench.suite import compiling  # noqa: E402
from bench.suite.mode import ModeError, RunMode, run_mode  # noqa: E402
from bench.suite.workers import hide_worker, worker_args  # noqa: E402

__all__ = ["SessionState", "STATE", "BENCH_DIR"]

#: The benchmark suite's folder (this plugin's own).
BENCH_DIR = pathlib.Path(__file__).resolve().parent
#: The pyproject.toml whose pytest settings (testpaths, python_files, addopts) a run needs.
_PYPROJECT = BENCH_DIR.parent.parent / "pyproject.toml"
#: The markers of the benchmark suite (one per catalog family, and the other kinds of row).
_KIND_MARKERS = {"baseline": "reference-library rows", "datasets": "data-generation rows",
                 "machine": "the machine's ceilings row",
                 "peer": "peer rows (tfp.glm, glmax; equinox, flax, PyTorch: the peers extras)",
                 "figures": "the fits behind the boundary and coefficient-norm figures"}


@dataclasses.dataclass
class SessionState:
    """What the session does, and how far it got (for the record's complete mark).

    Attributes:
        mode: what the run does, from its switches (:func:`bench.suite.mode.run_mode`).
        expected: the number of tests collected, once collection is done.
        finished: the tests that have run to their end.
        session: the session, once it started.
        published: None until publishing was decided, then whether the run was published.
    """

    mode: RunMode
    expected: int | None = None
    finished: int = 0
    session: pytest.Session | None = None
    published: bool | None = None

    def complete(self) -> bool:
        """Every collected test ran to its end and none failed (an interrupt stops short)."""
        return (self.expected is not None and self.finished == self.expected
                and self.session is not None and self.session.testsfailed == 0
                and not interrupts.was_interrupted())


#: The session's :class:`SessionState` (``config.stash``), set in ``pytest_configure``.
STATE = pytest.StashKey[SessionState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("glmnn-bench")
    group.addoption(
        "--benchmark",
        action="store_true",
        default=False,
        help="run the benchmark suite, timed (only the modules in bench/), and record it.",
    )
    group.addoption(
        "--bench-preset",
        default=None,
        help="benchmark sizes: smoke (tiny, the default of plain pytest), quick (the default "
        "of --benchmark, about 6-8 min on 2 CPU cores), gpu (100,000 data sets per case) or "
        "gpu-dry (the gpu matrix at tiny sizes).",
    )
    group.addoption(
        "--bench-no-publish",
        action="store_true",
        default=False,
        help="with --benchmark: record the JSON but do not publish it into results/.",
    )
    group.addoption(
        "--bench-results-dir",
        default=str(paths.results_folder()),
        metavar="DIR",
        help="where --benchmark publishes its run folder (default: results/); write "
        "--bench-results-dir=DIR for an existing folder outside the project.",
    )
    group.addoption(
        "--bench-profile",
        default=None,
        metavar="DIR",
        help="write a jax.profiler trace of one call of each case of ours into DIR/<case id> "
        "(TensorBoard or Perfetto reads it), after the case's timed rounds.",
    )


def _misread_paths(args: Sequence[str]) -> list[str]:
    """``--option=value`` for each ``--option value`` whose value is an existing path."""
    fixes = []
    for option, value in zip(args, args[1:]):
        if (str(option).startswith("--") and "=" not in str(option)
                and not str(value).startswith("-") and pathlib.Path(value).exists()):
            fixes.append(f"{option}={value}")
    return fixes


def _check_ini(config: pytest.Config) -> None:
    """Fail with the fix when pytest did not read this project's pyproject.toml.

    pytest picks its configuration file from the paths on its command line before it loads
    any plugin, so an existing file after one of pytest-benchmark's options written with a
    space (``--benchmark-json old.json``) roots the run at that file's folder, and the
    pytest settings (testpaths, python_files, this plugin's ``-p``) are not read. The root
    conftest.py loads this plugin then, and this says what to write instead.
    """
    if config.inipath == _PYPROJECT:
        return
    fixes = _misread_paths(list(config.invocation_params.args))
    because = (f"it took {config.rootpath} as the root folder, because a value written "
               "after an option with a space is an existing path, which pytest reads as a "
               "test path before it knows the option; write " + ", ".join(fixes)) if fixes \
        else "run pytest from the project's folder, or pass it a path inside the project"
    raise pytest.UsageError(f"pytest did not read {_PYPROJECT}: {because}.")


def _check_destinations(config: pytest.Config, mode: RunMode) -> None:
    """Fail now, not after the run, if the JSON or the run folder cannot be written."""
    try:
        if config.getoption("benchmark_json", None):
            json_path = pathlib.Path(config.option.benchmark_json)
            paths.check_writable(json_path.parent, "--benchmark-json")
        if mode.publish:
            paths.check_writable(config.getoption("bench_results_dir"), "--bench-results-dir")
    except paths.DestinationError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_configure(config: pytest.Config) -> None:
    # Runs before pytest-benchmark's own pytest_configure (trylast), so its session sees
    # these settings.
    hide_worker(os.environ)
    _check_ini(config)
    config.addinivalue_line("markers", "matrix(name): the benchmark matrix that 'case' "
                            "is parametrised over (bench/suite/matrix.py)")
    config.addinivalue_line("markers", "default_compiler: checks bits that XLA's legacy CPU "
                            "emitter may change; an untimed run that uses it runs the test "
                            "in a child pytest without it (bench/suite/compiling.py)")
    for family in catalog.families():
        config.addinivalue_line("markers",
                                f"{family.name}: benchmark rows of the {family.name} family")
    for marker, what in _KIND_MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {what}")
    preset = config.getoption("bench_preset")
    if preset is not None and preset not in PRESETS:
        raise pytest.UsageError(
            f"unknown --bench-preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    option = config.option
    try:
        mode = run_mode(benchmark=config.getoption("benchmark"), preset=preset,
                        enable=getattr(option, "benchmark_enable", False),
                        disable=getattr(option, "benchmark_disable", False),
                        only=getattr(option, "benchmark_only", False),
                        skip=getattr(option, "benchmark_skip", False),
                        no_publish=config.getoption("bench_no_publish"),
                        default_paths=config.args_source == pytest.Config.ArgsSource.TESTPATHS)
    except ModeError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[STATE] = SessionState(mode)
    option.bench_preset = mode.preset
    option.benchmark_disable = mode.disable
    if mode.benchmark and mode.timed and not config.getoption("benchmark_json", None):
        started = datetime.datetime.now(datetime.timezone.utc)
        option.benchmark_json = paths.records_folder() / paths.record_name(mode.preset,
                                                                            started)
    _check_destinations(config, mode)
    if not mode.timed:
        config.add_cleanup(compiling.share_compilations())
        compiling.compile_quickly()
        compiling.trace_for_the_cpu_alone()


def pytest_ignore_collect(collection_path: pathlib.Path, config: pytest.Config) -> bool | None:
    mode = config.stash[STATE].mode
    # Plain `pytest` runs the benchmark suite once, as the gpu preset's dry run inside the
    # tests (tests/test_gpu_dry_run.py), not a second time here.
    if _within(collection_path, BENCH_DIR) and not mode.suite_in_process:
        return True
    # A benchmark run on the configured paths runs the suite alone: it does not import the
    # tests only to deselect them (seconds of imports and assertion rewriting per run).
    if (mode.benchmark and config.args_source == pytest.Config.ArgsSource.TESTPATHS
            and config.rootpath in collection_path.parents
            and not _within(collection_path, BENCH_DIR.parent)):
        return True
    return None


def _within(path: pathlib.Path, folder: pathlib.Path) -> bool:
    """Whether ``path`` is ``folder`` or inside it."""
    return path == folder or folder in path.parents


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser,
                                  args: list[str]) -> None:
    # Plain `pytest` runs the tests on one worker per core (bench.suite.workers).
    if early_config.pluginmanager.has_plugin("xdist"):
        paths = early_config.known_args_namespace.file_or_dir
        args[:] = args + worker_args(args, paths, os.environ)


def pytest_report_header(config: pytest.Config) -> str:
    header = config.stash[STATE].mode.header
    workers = getattr(config.option, "numprocesses", None)
    if workers:
        header += (f"; on {workers} worker processes, a test file each (pytest-xdist; "
                   "-n 0 runs one process)")
    return header


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("benchmark"):
        if compiling.legacy_emitter_in_use():
            for item in items:
                if item.get_closest_marker("default_compiler"):
                    item.runtest = _in_a_default_compiler_child(item)  # type: ignore[method-assign]
        return
    keep, drop = [], []
    for item in items:
        (keep if BENCH_DIR in item.path.parents else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


#: The outcomes of each ``default_compiler`` test function's child run, by function id.
_DEFAULT_COMPILER_RUNS = pytest.StashKey[dict]()


def _in_a_default_compiler_child(item: pytest.Item) -> Callable[[], None]:
    """``item``'s run: its outcome in a child pytest on XLA's default emitter.

    One child runs every parameter of the item's function
    (:func:`bench.suite.compiling.run_with_default_compiler`).
    """
    def runtest() -> None:
        runs = item.config.stash.setdefault(_DEFAULT_COMPILER_RUNS, {})
        function = item.nodeid.split("[")[0]
        if function not in runs:
            runs[function] = compiling.run_with_default_compiler(function, item.config.rootpath)
        outcome = runs[function].get(item.nodeid)
        if outcome == "SKIPPED":
            pytest.skip("skipped in its run under XLA's default emitter")
        if outcome != "PASSED":
            pytest.fail(f"{item.nodeid}: {outcome or 'not run'} in its run under XLA's "
                        f"default emitter (a child pytest):\n{runs[function]['']}",
                        pytrace=False)
    return runtest


@pytest.fixture(scope="session")
def bench_preset(request: pytest.FixtureRequest) -> Preset:
    """The :class:`bench.presets.Preset` of this run."""
    return get_preset(request.config.option.bench_preset)


@pytest.fixture(scope="session")
def bench_profile(request: pytest.FixtureRequest) -> pathlib.Path | None:
    """``--bench-profile``'s folder, or None."""
    folder = request.config.getoption("bench_profile")
    return None if folder is None else pathlib.Path(folder)


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[STATE].session = session


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[STATE].expected = len(session.items)
    interrupts.started()  # the imports are done: a Ctrl-C held meanwhile stops here


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item,
                            nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    interrupts.started()  # in case collection did not finish its hook
    result = yield
    item.config.stash[STATE].finished += 1
    interrupts.raise_if_interrupted()  # one a garbage-collection callback swallowed
    return result


# pytest-benchmark's hooks: optional, so that `-p no:benchmark` still runs the tests.
@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config,
                                         machine_info: dict[str, Any]) -> None:
    from bench.machine import machine_info as glmnn_machine_info

    machine_info["glmnn"] = glmnn_machine_info()


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list[Any],
                                 output_json: dict[str, Any]) -> None:
    # What is needed to read, and to rerun, this run.
    from bench.suite.harness import MEASURED_CEILINGS, SKIPPED
    from bench.suite.matrix import suite_size

    preset = get_preset(config.option.bench_preset)
    state = config.stash[STATE]
    output_json["glmnn"] = {
        "preset": preset.name,
        "preset_settings": preset._asdict(),
        "command": "pytest " + shlex.join(sys.argv[1:]),
        "timed": state.mode.timed,
        "complete": state.complete(),
        "suite_size": suite_size(preset),
        "ceilings": config.stash.get(MEASURED_CEILINGS, None),
        "skipped": config.stash.get(SKIPPED, {}),
    }


def _publish(config: pytest.Config, exitstatus: int, write: Callable[[str], object]) -> None:
    """Publish a passing ``--benchmark`` run (once pytest-benchmark's own checks are done)."""
    state = config.stash[STATE]
    if (not state.mode.publish or state.published is not None
            or config.getoption("collectonly")):  # nothing ran, so nothing to publish
        return
    state.published = False
    if interrupts.was_interrupted():
        write("glmnn-bench: the run was interrupted; nothing was published.")
        return
    if exitstatus != 0:
        write(f"glmnn-bench: the run did not pass (exit status {int(exitstatus)}); "
              "nothing was published.")
        return
    json_path = pathlib.Path(config.getoption("benchmark_json"))
    if not json_path.exists():
        write(f"glmnn-bench: no benchmark JSON at {json_path}; nothing was published.")
        return
    from bench.report import NothingToPublish, publish

    try:
        folder = publish(json_path, config.getoption("bench_results_dir"))
    except NothingToPublish as reason:
        write(f"glmnn-bench: not published: {reason} The JSON is at {json_path}.")
        return
    except (OSError, ValueError) as error:
        write(f"glmnn-bench: could not publish the run ({error}); the raw JSON is at "
              f"{json_path}: fix that, then run `python -m bench publish {json_path}`.")
        if state.session is not None:
            state.session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    state.published = True
    write(f"glmnn-bench: published {folder}")


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    # After pytest-benchmark's own summary, which draws --benchmark-histogram and raises on
    # --benchmark-compare-fail: a run that fails there publishes nothing.
    _publish(config, exitstatus, terminalreporter.write_line)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pytest-benchmark writes its JSON in a hookwrapper around this hook, before us. Without
    # a terminal summary (--no-summary, or no terminal), there is nothing after it to wait
    # for, so the run is published here.
    config = session.config
    if interrupts.was_interrupted() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.INTERRUPTED  # a Ctrl-C a callback swallowed
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.getoption("no_summary", False):
        _publish(config, exitstatus, reporter.write_line if reporter else print)
