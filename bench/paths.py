"""Where runs are written by default, and checking a destination before anything runs (no JAX).

``pytest --benchmark`` and ``python -m bench run`` write to the same places: run records in
``.benchmarks/`` and published runs in ``results/``, both in the checkout the code runs
from (:data:`PROJECT_ROOT`, the folder of its ``pyproject.toml``), whatever the current
folder is. Installed without a checkout, they use the current folder.

A default record name carries the UTC time to the second and the process id, so runs
started in the same second (four at once, on one machine) each get their own file.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import tempfile

__all__ = ["PROJECT_ROOT", "DestinationError", "project_root", "records_folder",
           "results_folder", "record_name", "check_writable"]


def _checkout() -> pathlib.Path | None:
    root = pathlib.Path(__file__).resolve().parent.parent
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if 'name = "glmnn-bench"' in text else None


#: The checkout this code runs from, or None when it is installed without one.
PROJECT_ROOT = _checkout()


class DestinationError(ValueError):
    """A folder that a run cannot be written into; the message says what to change."""


def project_root() -> pathlib.Path:
    """:data:`PROJECT_ROOT`, or the current folder when there is no checkout."""
    return PROJECT_ROOT or pathlib.Path.cwd()


def records_folder() -> pathlib.Path:
    """Where run records go by default: ``<project root>/.benchmarks``."""
    return project_root() / ".benchmarks"


def results_folder() -> pathlib.Path:
    """Where runs are published by default: ``<project root>/results``."""
    return project_root() / "results"


def record_name(tool: str, when: dt.datetime, pid: int | None = None) -> str:
    """``glmnn-<tool>-<UTC stamp>-<process id>.json``, e.g. ``glmnn-run-20261201T093000Z-4242``.

    Args:
        tool: ``"run"`` for ``python -m bench run``, the preset's name for pytest.
        when: the start of the run (an aware datetime; it is written in UTC).
        pid: the process id (default: this process's).
    """
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"glmnn-{tool}-{stamp}-{os.getpid() if pid is None else pid}.json"


def check_writable(folder: str | os.PathLike, what: str) -> pathlib.Path:
    """Create ``folder`` if needed and check that a file can be written into it.

    Returns:
        The folder.

    Raises:
        DestinationError: naming ``what`` (the option that gave the folder) and why.
    """
    folder = pathlib.Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DestinationError(f"{what}: {folder} is a file, not a folder; choose a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".tmp-"):
            pass
    except OSError as error:
        raise DestinationError(f"{what}: cannot write into {folder} "
                               f"({error.strerror or error}); choose another folder.") from None
    return folder
