"""Root conftest: the project owns ``pytest --benchmark`` (it must be the root conftest,
which pytest loads before parsing the command line).

* ``pytest``: correctness tests plus every benchmark module in the ``smoke`` preset with
  pytest-benchmark's timing disabled (each benchmarked call runs once), so CI keeps the
  benchmark code alive.
* ``pytest --benchmark``: only the benchmark modules, timed, ``quick`` preset unless
  ``--bench-preset`` says otherwise. The pytest-benchmark JSON is written to
  ``.benchmarks/glmnn-<preset>-<timestamp>.json`` unless ``--benchmark-json`` names a file,
  and, if every benchmark passed, published into ``results/<run>/`` (``bench.report``).
  A run that failed or was interrupted publishes nothing, and its JSON is marked
  incomplete (``glmnn.complete``), so ``python -m bench publish`` refuses it too.
"""

from __future__ import annotations

import datetime
import pathlib
import shlex
import sys

import pytest

from bench import catalog
from bench.presets import PRESETS, get_preset

ROOT = pathlib.Path(__file__).resolve().parent
BENCH_DIR = ROOT / "bench" / "suite"
#: How far the session got, for the record's complete/incomplete mark.
_OUTCOME = pytest.StashKey[dict]()
#: The markers of the benchmark suite (one per catalog family, and the other kinds of row).
_KIND_MARKERS = {"baseline": "reference-library rows", "datasets": "data-generation rows",
                 "machine": "the machine's ceilings row"}


def pytest_addoption(parser):
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
        "of --benchmark, ~10 min on 2 CPU cores) or gpu (100,000 data sets per case).",
    )
    group.addoption(
        "--bench-no-publish",
        action="store_true",
        default=False,
        help="with --benchmark: record the JSON but do not publish it into results/.",
    )
    group.addoption(
        "--bench-results-dir",
        default=str(ROOT / "results"),
        help="where --benchmark publishes its run folder (default: results/).",
    )


def pytest_configure(config):
    # Runs before pytest-benchmark's own pytest_configure (trylast), so its session sees
    # these settings.
    config.stash[_OUTCOME] = {"expected": None, "finished": 0}
    config.addinivalue_line("markers", "matrix(name): the benchmark matrix that 'case' "
                            "is parametrised over (bench/suite/conftest.py)")
    for family in catalog.FAMILIES:
        config.addinivalue_line("markers", f"{family}: benchmark rows of the {family} family")
    for marker, what in _KIND_MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {what}")
    benchmark = config.getoption("benchmark")
    preset = config.getoption("bench_preset") or ("quick" if benchmark else "smoke")
    if preset not in PRESETS:
        raise pytest.UsageError(
            f"unknown --bench-preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    config.option.bench_preset = preset
    if benchmark:
        config.option.benchmark_disable = False
        config.option.benchmark_enable = True
        if not config.getoption("benchmark_json", None):
            stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
            out = ROOT / ".benchmarks" / f"glmnn-{preset}-{stamp}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            config.option.benchmark_json = out
    elif not config.getoption("benchmark_enable", False):
        config.option.benchmark_disable = True


def pytest_report_header(config):
    mode = "timed (--benchmark)" if config.getoption("benchmark") else "smoke, untimed"
    return f"glmnn-bench: benchmark preset {config.option.bench_preset}, {mode}"


def pytest_collection_modifyitems(config, items):
    if not config.getoption("benchmark"):
        return
    keep, drop = [], []
    for item in items:
        (keep if BENCH_DIR in pathlib.Path(item.fspath).parents else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def bench_preset(request):
    """The :class:`bench.presets.Preset` of this run."""
    return get_preset(request.config.option.bench_preset)


def pytest_sessionstart(session):
    session.config.stash[_OUTCOME]["session"] = session


def pytest_collection_finish(session):
    session.config.stash[_OUTCOME]["expected"] = len(session.items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    result = yield
    item.config.stash[_OUTCOME]["finished"] += 1
    return result


def _complete(config) -> bool:
    """Every collected test ran to its end and none failed (an interrupt stops short)."""
    outcome = config.stash[_OUTCOME]
    session = outcome.get("session")
    return (outcome["expected"] is not None and outcome["finished"] == outcome["expected"]
            and session is not None and session.testsfailed == 0)


def pytest_benchmark_update_machine_info(config, machine_info):
    from bench.machine import machine_info as glmnn_machine_info

    machine_info["glmnn"] = glmnn_machine_info()


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # What is needed to read, and to rerun, this run.
    preset = get_preset(config.option.bench_preset)
    output_json["glmnn"] = {
        "preset": preset.name,
        "preset_settings": preset._asdict(),
        "command": "pytest " + shlex.join(sys.argv[1:]),
        "timed": bool(config.getoption("benchmark")),
        "complete": _complete(config),
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # pytest-benchmark writes its JSON in a hookwrapper around this hook, before us.
    config = session.config
    if not config.getoption("benchmark") or config.getoption("bench_no_publish"):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else print
    if exitstatus != 0:
        write(f"glmnn-bench: the run did not pass (exit status {int(exitstatus)}); "
              "nothing was published.")
        return
    json_path = pathlib.Path(config.getoption("benchmark_json"))
    if not json_path.exists():
        write(f"glmnn-bench: no benchmark JSON at {json_path}; nothing was published.")
        return
    from bench.report import publish

    try:
        folder = publish(json_path, config.getoption("bench_results_dir"))
    except (OSError, ValueError) as error:
        write(f"glmnn-bench: could not publish the run ({error}); the raw JSON is at "
              f"{json_path}: fix that, then run `python -m bench publish {json_path}`.")
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    write(f"glmnn-bench: published {folder}")
