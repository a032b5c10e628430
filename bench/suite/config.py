"""Restart a pytest run of this project that missed its configuration (a pytest11 entry point).

pytest picks its root folder and configuration file from the paths on its command line
before it loads any plugin, and it takes every existing path there for a test path, the
value written after one of our options with a space included:
``pytest --benchmark --bench-results-dir /tmp/out`` roots at ``/tmp/out``, never reads this
project's ``pyproject.toml`` and so never loads :mod:`bench.suite.plugin`, which knows the
option. This module is installed as an entry point, which pytest loads on every run before
it parses the line for good: when a run started inside this project's folder did not read
its ``pyproject.toml``, and did not name a configuration itself (``-c``, ``--rootdir``), it
starts the same command again with ``-c pyproject.toml`` before anything has run. Outside
this project's folder, or in an installed copy without it, it does nothing.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Sequence

import pytest

__all__ = ["PYPROJECT", "restart_command"]

#: This project's configuration file (absent from an installed, non-editable copy).
PYPROJECT = pathlib.Path(__file__).resolve().parent.parent.parent / "pyproject.toml"
#: Set in the restarted process, so that a run restarts at most once.
_RESTARTED = "GLMNN_PYTEST_RESTARTED"
_OWN_CONFIG = ("-c", "--config-file", "--rootdir", "--inifile")


def restart_command(argv: Sequence[str], args: Sequence[str], *, inipath: pathlib.Path | None,
                    cwd: pathlib.Path, env: dict[str, str]) -> list[str] | None:
    """The command that reruns this pytest with ``-c pyproject.toml``, or None to go on.

    Args:
        argv: the interpreter's command line (``sys.orig_argv``).
        args: pytest's own arguments, which end ``argv`` for a command-line run.
        inipath: the configuration file pytest read, if any.
        cwd: the folder pytest was started from.
        env: the environment.
    """
    if (inipath == PYPROJECT or not PYPROJECT.is_file() or _RESTARTED in env
            or not cwd.resolve().is_relative_to(PYPROJECT.parent)):
        return None
    if any(a == o or a.startswith(o + "=") for a in args for o in _OWN_CONFIG):
        return None
    args = list(args)
    if not args or list(argv[len(argv) - len(args):]) != args:
        return None  # pytest.main() called from code: not a command line to rerun
    return [*argv[:len(argv) - len(args)], "-c", str(PYPROJECT), *args]


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser,
                                  args: list[str]) -> None:
    command = restart_command(getattr(sys, "orig_argv", sys.argv),
                              early_config.invocation_params.args,
                              inipath=early_config.inipath,
                              cwd=early_config.invocation_params.dir, env=dict(os.environ))
    if command is None:
        return
    # pytest captures the process's output from here on; the new process must write to the
    # real one.
    capture = early_config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.stop_global_capturing()
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ[_RESTARTED] = "1"
    os.execv(sys.executable, [sys.executable, *command[1:]])
