"""Where ``python -m bench run`` may write its record, and writing it so it is not lost.

* :func:`check_record_path`, before anything runs: ``--json`` may replace an earlier record
  of ``python -m bench run``, but not a file of a published run (a path inside a run
  folder) nor any other file (a pytest-benchmark JSON, which the record would replace).
* :func:`save_record`, at the end: the record is written atomically; if that fails (a full
  disk passes the check before the run, which writes an empty file), it is written to the
  system's temporary folder instead, so the run is still kept, and the caller says where.

No JAX.
"""

from __future__ import annotations

import json
import pathlib
import tempfile

from bench.paths import DestinationError, records_folder
from bench.record import FORMAT, RunRecord, write_run
from bench.report.folders import published_run_folder

__all__ = ["check_record_path", "save_record", "RecordNotSaved"]


class RecordNotSaved(Exception):
    """The record could not be written where asked.

    Attributes:
        path: where it was asked for.
        problem: why it could not be written there, in words.
        fallback: where it was written instead, or None when that failed too.
        fallback_problem: why it could not be written there either (when ``fallback`` is
            None).
    """

    def __init__(self, path: pathlib.Path, problem: str, fallback: pathlib.Path | None,
                 fallback_problem: str | None = None):
        super().__init__(problem)
        self.path, self.problem = path, problem
        self.fallback, self.fallback_problem = fallback, fallback_problem


def _is_record(path: pathlib.Path) -> bool:
    """Whether ``path`` holds a record of ``python -m bench run``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def check_record_path(path: pathlib.Path) -> None:
    """Refuse a ``--json`` path whose file must not be replaced.

    Raises:
        bench.paths.DestinationError: ``path`` is in a published run folder, is a folder,
            or is an existing file that is not a record of ``python -m bench run``.
    """
    folder = published_run_folder(path)
    if folder is not None:
        raise DestinationError(
            f"--json: {path} is in the published run {folder}, whose files are never "
            f"replaced; pass a path outside it, or leave --json out for a new file in "
            f"{records_folder()}.")
    if path.is_dir():
        raise DestinationError(f"--json: {path} is a folder; pass the path of a file.")
    if path.exists() and not _is_record(path):
        raise DestinationError(
            f"--json: {path} exists and is not a record of python -m bench run, so writing "
            "the record would replace it; pass a new path, or remove that file first.")


def _in_words(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def save_record(path: pathlib.Path, run: RunRecord, *, exclusive: bool,
                fallback_name: str) -> None:
    """Write the record of ``run`` to ``path``, or else to the system's temporary folder.

    Args:
        path: where the record goes.
        run: the run.
        exclusive: never replace an existing ``path``.
        fallback_name: the file name to use in the temporary folder (a new one).

    Raises:
        RecordNotSaved: ``path`` could not be written; the exception says where the record
            is instead, if anywhere.
    """
    try:
        write_run(path, run, exclusive=exclusive)
        return
    except OSError as error:
        problem = _in_words(error)
    fallback = pathlib.Path(tempfile.gettempdir()) / fallback_name
    try:
        write_run(fallback, run, exclusive=True)
    except OSError as error:
        raise RecordNotSaved(path, problem, None, _in_words(error)) from None
    raise RecordNotSaved(path, problem, fallback)
