"""How many processes plain ``pytest`` runs the tests in (pytest-xdist), decided from the line.

The tests are mostly single-threaded JAX compilations and subprocesses, so one process
leaves most cores idle. Plain ``pytest`` (no test path, no benchmark switch) therefore runs
on one worker per core, up to :data:`MAX_WORKERS`, a test file to a worker
(``--dist loadfile``, so a module's fixtures are built once), handed out in the order
collected; ``tests/conftest.py`` puts the longest files first so that they start at once.
Anything the user says about it wins: ``-n 0`` runs one process, ``-p no:xdist`` turns the
plugin off. Benchmark runs stay in one process (pytest-benchmark does not time under
xdist), and so do the pytest runs that the tests start themselves: a worker hands them
:data:`IN_WORKER` instead of xdist's own variables, which would make pytest-benchmark in
them believe it runs under xdist (:func:`hide_worker`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping, Sequence

__all__ = ["MAX_WORKERS", "IN_WORKER", "worker_args", "hide_worker"]

#: Most worker processes: each imports JAX and compiles its own programs.
MAX_WORKERS = 8
#: Set in a worker's environment, so that the pytest runs its tests start stay in one process.
IN_WORKER = "GLMNN_PYTEST_WORKER"
#: xdist's variables in a worker's environment.
_XDIST_VARIABLES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID",
                    "PYTEST_XDIST_WORKER_COUNT")

#: Switches after which the run stays in one process (a prefix ends with "-").
_ONE_PROCESS = ("-n", "--numprocesses", "--dist", "--pdb", "--trace", "--co",
                "--collect-only", "--lf", "--last-failed", "--sw", "--stepwise",
                "--benchmark", "--benchmark-", "--bench-")


def _says(arg: str, switch: str) -> bool:
    """Whether ``arg`` is ``switch`` (``--dist``, ``--dist=load``, ``-n4``, ``--bench-*``)."""
    if switch.endswith("-"):
        return arg.startswith(switch)
    return (arg == switch or arg.startswith(switch + "=")
            or (len(switch) == 2 and arg.startswith(switch) and len(arg) > 2))


def worker_args(args: Sequence[str], paths: Sequence[str], env: Mapping[str, str],
                cores: int | None = None) -> list[str]:
    """The xdist switches to add to the command line ``args``, if any.

    Args:
        args: the command line as given (after ``addopts``).
        paths: its test paths (pytest's first reading of the line).
        env: the environment (``PYTEST_XDIST_WORKER`` is set inside a worker).
        cores: the cores this process may use (default: its CPU affinity).

    Returns:
        ``["-n", N, "--dist", "loadfile", "--no-loadscope-reorder"]`` (files handed out in
        the order collected, not largest first, so the slowest starts first), or ``[]`` to
        run in one process.
    """
    if cores is None:
        cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                 else os.cpu_count() or 1)
    said = any(_says(arg, switch) for arg in args for switch in _ONE_PROCESS)
    xdist_off = any(a.replace(" ", "") in ("no:xdist", "-pno:xdist") for a in args)
    if said or xdist_off or paths or IN_WORKER in env or "PYTEST_XDIST_WORKER" in env \
            or cores < 2:
        return []
    return ["-n", str(min(cores, MAX_WORKERS)), "--dist", "loadfile", "--no-loadscope-reorder"]


def hide_worker(env: MutableMapping[str, str]) -> None:
    """In a worker: trade xdist's variables for :data:`IN_WORKER` in ``env`` (``os.environ``).

    The processes a test starts inherit the environment; with xdist's variables in it, a
    pytest-benchmark run among them would take itself for an xdist worker and refuse to time.
    xdist itself reads the worker's id from its configuration, not from the environment.
    """
    if "PYTEST_XDIST_WORKER" in env:
        env[IN_WORKER] = env["PYTEST_XDIST_WORKER"]
        for name in _XDIST_VARIABLES:
            env.pop(name, None)
