"""What a pytest run of this project will do, from the switches the user passed (no JAX).

The root ``conftest.py`` owns ``--benchmark``; pytest-benchmark owns its own switches, and
they are respected rather than overridden:

==========================================  ==========================================
command                                     what runs
==========================================  ==========================================
``pytest``                                  tests, and every benchmark once, untimed,
                                            at the smoke preset (timing is switched
                                            off for it: ``--benchmark-disable``)
``pytest --benchmark-enable`` or            the same, with the benchmarks timed by
``--benchmark-only`` (only the benchmarks)  pytest-benchmark; nothing is published
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
    """

    preset: str
    benchmark: bool
    timed: bool
    disable: bool
    publish: bool
    header: str


def run_mode(*, benchmark: bool, preset: str | None, enable: bool = False,
             disable: bool = False, only: bool = False, skip: bool = False,
             no_publish: bool = False) -> RunMode:
    """Decide what the run does from the switches given on the command line.

    Args:
        benchmark: ``--benchmark``.
        preset: ``--bench-preset``, or None (quick with ``--benchmark``, else smoke).
        enable: pytest-benchmark's ``--benchmark-enable``.
        disable: its ``--benchmark-disable``.
        only: its ``--benchmark-only``.
        skip: its ``--benchmark-skip``.
        no_publish: ``--bench-no-publish``.

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
    header = f"glmnn-bench: preset {preset}; {scope}, {why}; {outcome}"
    return RunMode(preset, benchmark, timed, disable or not timed, publish, header)
