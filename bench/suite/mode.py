"""What a pytest run of this project will do, from the switches the user passed (no JAX).

The project's pytest plugin (:mod:`bench.suite.plugin`) owns ``--benchmark``;
pytest-benchmark owns its own switches, and they are respected rather than overridden:

==========================================  ==========================================
command                                     what runs
==========================================  ==========================================
``pytest``                                  the tests; the benchmark suite runs in
                                            one of them, as the ``gpu`` preset's dry
                                            run (``tests/test_gpu_dry_run.py``: every
                                            module and row at tiny sizes, timed once
                                            and published into a temporary folder)
``pytest bench/suite`` (paths named)        those paths in this process: every
                                            benchmark once, untimed, at the smoke
                                            preset (``--benchmark-disable``)
``pytest --benchmark-enable`` or            the tests and the suite in this process
``--benchmark-only`` (only the benchmarks)  (and the dry run), the benchmarks timed by
                                            pytest-benchmark; nothing is published
``pytest --benchmark``                      only the benchmark suite, timed, at the
                                            quick preset; recorded and, if it passes,
                                            published
``pytest --benchmark --benchmark-disable``  the same, untimed; pytest-benchmark records
                                            nothing untimed, so nothing is published
==========================================  ==========================================

Contradictions (``--benchmark`` with ``--benchmark-skip``) are usage errors that say which
switch to drop. :func:`run_mode` decides; its ``header`` is printed at the start of the run.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["RunMode", "ModeError", "run_mode"]


class ModeError(ValueError):
    """Switches that contradict each other; the message says which one to drop."""


class RunMode(NamedTuple):
    """What the run does.

    Attributes:
        preset: the preset's name.
        benchmark: ``--benchmark``: only the benchmark suite, recorded (and published).
        timed: pytest-benchmark times the benchmarks (else each runs once).
        disable: the value to give pytest-benchmark's ``benchmark_disable``.
        publish: a passing run is published (pytest-benchmark records only timed runs).
        header: one line saying all of it.
        suite_in_process: this process collects the benchmark suite (``bench/suite``) when
            pytest collects its configured paths. Not in an untimed plain run: there the
            suite runs once, as the ``gpu`` preset's dry run, inside the tests.
    """

    preset: str
    benchmark: bool
    timed: bool
    disable: bool
    publish: bool
    header: str
    suite_in_process: bool = True


def run_mode(*, benchmark: bool, preset: str | None, enable: bool = False,
             disable: bool = False, only: bool = False, skip: bool = False,
             no_publish: bool = False, default_paths: bool = False) -> RunMode:
    """Decide what the run does from the switches given on the command line.

    Args:
        benchmark: ``--benchmark``.
        preset: ``--bench-preset``, or None (quick with ``--benchmark``, else smoke).
        enable: pytest-benchmark's ``--benchmark-enable``.
        disable: its ``--benchmark-disable``.
        only: its ``--benchmark-only``.
        skip: its ``--benchmark-skip``.
        no_publish: ``--bench-no-publish``.
        default_paths: pytest was given no paths (it collects its ``testpaths``).

    Raises:
        ModeError: for switches that contradict each other.
    """
    preset = preset or ("quick" if benchmark else "smoke")
    if benchmark and skip and not only:
        raise ModeError("--benchmark runs the benchmark suite and --benchmark-skip skips "
                        "every benchmark: drop one of them.")
    user_disabled = disable and not enable  # pytest-benchmark's own rule
    if user_disabled:
        timed, why = False, "untimed (--benchmark-disable): each benchmark runs once"
    elif benchmark:
        timed, why = True, "timed by pytest-benchmark"
    elif enable or only:
        switch = "--benchmark-only" if only else "--benchmark-enable"
        timed, why = True, f"timed by pytest-benchmark ({switch})"
    else:
        timed, why = False, "untimed: each benchmark runs once"
    publish = benchmark and timed and not no_publish
    if benchmark:
        scope = "only the benchmark suite"
        if not timed:
            outcome = "pytest-benchmark records nothing untimed, so nothing is published"
        elif publish:
            outcome = "recorded, and published if every benchmark passes"
        else:
            outcome = "recorded, not published (--bench-no-publish)"
    else:
        scope = "only the benchmarks" if only else "the tests and every benchmark"
        outcome = "not recorded or published (that is pytest --benchmark)"
    in_process = benchmark or timed or not default_paths
    if not in_process:
        header = ("glmnn-bench: the tests; the benchmark suite runs in "
                  "tests/test_gpu_dry_run.py as the gpu preset's dry run (every row at tiny "
                  "sizes, timed once, published into a temporary folder); `pytest "
                  "bench/suite` runs it in this process, untimed, at the smoke preset")
    else:
        header = f"glmnn-bench: preset {preset}; {scope}, {why}; {outcome}"
    return RunMode(preset, benchmark, timed, disable or not timed, publish, header,
                   in_process)
