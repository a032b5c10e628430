"""Publish one run: its record in, a ``results/<run>/`` folder out.

:func:`publish` reads the JSON that ``pytest --benchmark`` or ``python -m bench run`` wrote
and builds, in a staging folder renamed into place (:mod:`.folders`):

``README.md``
    machine, software versions, commit, the exact command and preset; a convergence table
    per model with the regimes side by side; the speed tables (fits per second, compile
    time, speedup over each reference library); and sentences that read the numbers,
    every one generated from the data (:mod:`.readme`).
``summary.csv``
    one row per case (ours and the reference libraries), the scalar fields (:mod:`.summary`).
``benchmark.json.gz`` (pytest) or ``record.json.gz`` (``python -m bench run``)
    the run's own file, with the host name replaced by its hashed id, gzipped (runs
    published before were not; both are read).
``run.json``
    the run's metadata, from which ``results/README.md`` (the index) is regenerated.
``*.png``
    the plots of :mod:`.plots` (skipped, and said so, without matplotlib).

The folder and the index that lists it appear together or not at all, and a run already
published (the same JSON, or the published copy of it) is not published again
(:mod:`.folders`).
"""

from __future__ import annotations

import gzip
import json
import os
import pathlib
import shutil

from bench.record import (
    BASELINE,
    FIT,
    SCALING,
    RecordError,
    RunRecord,
    incomplete_reason,
    read_run,
)
from bench.report import plots as plots_module
from bench.report.folders import (
    PublishError,
    check_run_name,
    default_folder_name,
    find_published,
    make_staging_folder,
    place_run_folder,
    published_runs,
    redacted_node,
    run_metadata,
    write_index,
)
from bench.report.history import headlines
from bench.report.readme import README, RUN_JSON, SUMMARY_CSV, render_readme, source_file_name
from bench.report.summary import write_summary_csv

__all__ = ["publish", "reindex", "NothingToPublish", "AlreadyPublished", "source_json_text",
           "write_source_json", "write_run_json", "write_plots", "write_readme",
           "write_summary_csv"]


class NothingToPublish(RecordError):
    """A complete run with no model fitted in it (only ceilings or data generation)."""


class AlreadyPublished(PublishError):
    """The run is published already, in ``folder``; nothing was written.

    Attributes:
        folder: the run folder that holds it.
    """

    def __init__(self, message: str, folder: pathlib.Path):
        super().__init__(message)
        self.folder = folder


def _redacted(run: RunRecord, meta: dict) -> dict:
    """The run's file with ``machine_info.node`` (the host name) replaced by its hashed id."""
    copy = json.loads(json.dumps(run.raw))
    if isinstance(copy.get("machine_info"), dict) and "node" in copy["machine_info"]:
        copy["machine_info"]["node"] = redacted_node(meta["host_id"])
    return copy


def source_json_text(run: RunRecord, meta: dict) -> str:
    """The run's own file as published: indented as pytest-benchmark does, host redacted."""
    return json.dumps(_redacted(run, meta), indent=4) + "\n"


def write_source_json(path: pathlib.Path, run: RunRecord, meta: dict) -> None:
    """Write the run's own file as published (:func:`source_json_text`), gzipped.

    With no time stamp in the gzip header, so the same run gives the same bytes.
    """
    data = source_json_text(run, meta).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def write_run_json(path: pathlib.Path, meta: dict) -> None:
    """Write ``run.json``, the metadata the index is built from."""
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def write_plots(folder: pathlib.Path, run: RunRecord) -> tuple[list, str]:
    """Write the PNG plots; returns (plots, a note saying why there are none, or "")."""
    try:
        return plots_module.write_plots(list(run.cases), folder), ""
    except plots_module.PlotsUnavailable as reason:
        return [], f"No plots: {reason}"


def write_readme(path: pathlib.Path, run: RunRecord, meta: dict, plots: list,
                 plot_note: str) -> None:
    """Write the run folder's ``README.md``."""
    path.write_text(render_readme(run, meta, plots, plot_note), encoding="utf-8")


def _fill_run_folder(folder: pathlib.Path, run: RunRecord, meta: dict) -> None:
    write_source_json(folder / source_file_name(run), run, meta)
    write_summary_csv(folder / SUMMARY_CSV, list(run.cases))
    plots, plot_note = write_plots(folder, run)
    write_readme(folder / README, run, meta, plots, plot_note)
    write_run_json(folder / RUN_JSON, meta)


def publish(json_path: str | os.PathLike, results_root: str | os.PathLike = "results", *,
            run_name: str | None = None) -> pathlib.Path:
    """Publish a run into its own folder under ``results_root``.

    The folder is ``<date>-<device>-<host id>`` (or ``run_name``); if that name is taken,
    ``-2``, ``-3``, ... is appended: an existing run folder is never overwritten. It is
    built in ``results_root/.tmp-*``, and moved into place together with the regenerated
    ``results_root/README.md``, the index of all runs
    (:func:`bench.report.folders.place_run_folder`): an error leaves the results as they
    were, with no partial folder and no temporary one.

    Args:
        json_path: the run's JSON (pytest-benchmark's, or ``python -m bench run``'s record).
        results_root: the folder holding one folder per run (created if missing).
        run_name: a folder name to use instead of ``<date>-<device>-<host id>``.

    Returns:
        The run folder.

    Raises:
        bench.record.RecordError: the JSON is missing, corrupt, holds no case of ours,
            recorded that it stopped early, or (a pytest-benchmark JSON) lacks the
            ``glmnn`` block that records whether it ran to the end.
        NothingToPublish: the run fitted no model (a RecordError).
        AlreadyPublished: the same run is in a folder of ``results_root`` already (the same
            JSON, or that folder's own copy of it); nothing was written.
        bench.report.folders.PublishError: ``run_name`` is not a plain folder name, or
            ``results_root`` is a file.
    """
    run = read_run(json_path)
    reason = incomplete_reason(run)
    if reason:
        raise RecordError(f"{json_path} was not published: {reason}; publishing it would "
                          "present part of a run as a run. Run it again to the end.")
    if not any(case.kind in (FIT, SCALING, BASELINE) for case in run.cases):
        raise NothingToPublish(
            f"{json_path} has no fit of a model (only "
            f"{', '.join(sorted({case.kind for case in run.cases}))} rows): its tables and "
            "sentences would be empty.")
    meta = run_metadata(run)
    if run_name is not None:
        check_run_name(run_name)
    root = pathlib.Path(results_root)
    if root.exists() and not root.is_dir():
        raise PublishError(f"the results folder {root} is a file; pass a folder "
                           "(--results-dir DIR).")
    root.mkdir(parents=True, exist_ok=True)
    existing = find_published(root, source_file_name(run), source_json_text(run, meta))
    if existing is not None:
        raise AlreadyPublished(f"{json_path} is published already, as {existing}; nothing "
                               "was written", existing)
    staging = make_staging_folder(root)
    try:
        _fill_run_folder(staging, run, meta)
        folder = place_run_folder(staging, root, run_name or default_folder_name(meta), meta)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        write_index(root)  # again, to list a run that another publisher placed meanwhile
    except OSError:
        pass  # the index placed with this run lists it already
    return folder


def reindex(results_root: str | os.PathLike = "results") -> list[pathlib.Path]:
    """Recompute every run folder's headlines from its own JSON, then the index and plot.

    For runs published before ``run.json`` held their headline ratios: each folder's
    ``run.json`` gains ``headlines`` (:func:`bench.report.history.headlines`), the rest of
    it kept as published. A folder without its run's JSON is left as it is.

    Returns:
        The ``run.json`` files rewritten.
    """
    root = pathlib.Path(results_root)
    rewritten = []
    for name, meta in published_runs(root):
        sources = sorted((root / name).glob("*.json*"))
        sources = [path for path in sources if path.name != RUN_JSON]
        if not sources:
            continue
        run = read_run(sources[0])
        meta = {**meta, "headlines": headlines(run.cases)}
        write_run_json(root / name / RUN_JSON, meta)
        rewritten.append(root / name / RUN_JSON)
    write_index(root)
    return rewritten

