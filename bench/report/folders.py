"""Run folders: their names and metadata, building one safely, and the index of all runs.

A run folder is ``<date>-<device>-<host id>``: the run's date (``YYYY-MM-DD``), the JAX
device kind as a slug (``cpu``, ``nvidia-h200``), and the first 8 hex digits of the SHA-256
of the host name, so that no host name is published. A run folder is never overwritten: when
the name is taken, the run goes to ``<name>-2``, ``<name>-3``, ... It is built in
``results/.tmp-*`` and renamed into place, so a failure leaves nothing behind (and one a
killed publisher left is removed by the next publish on the host).
``results/README.md``, the index, is regenerated from every folder's ``run.json``.

Publishing is all or nothing (:func:`place_run_folder`): the index that lists the new folder
is written beside the old one before the folder moves, so a full disk fails before anything
is in place, and a failure of the last step moves the folder back. A run already published
is recognised by its content (:func:`find_published`): its redacted JSON, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import pathlib
import re
from collections.abc import Iterable

from bench.intervals import LEVEL
from bench.record import RecordError, RunRecord, read_text_maybe_gzipped
from bench.report.history import (
    HISTORY_PNG,
    group_key,
    headline_names,
    headline_text,
    headlines,
    plot_history,
)
from bench.report.plots import PlotsUnavailable
from bench.report.readme import LEGACY_SOURCE_SUFFIX, README, RUN_JSON
from bench.report.tables import markdown_table
from bench.temporaries import host_id, remove_stale, temporary_name, write_atomically

__all__ = ["PublishError", "device_slug", "host_id", "node_host_id", "redacted_node",
           "run_metadata", "default_folder_name", "check_run_name", "make_staging_folder",
           "place_run_folder", "write_index_draft", "install_index", "find_published",
           "published_run_folder", "published_runs", "render_index", "write_index",
           "RUNS_OF_RECORD"]

#: What a published run's ``machine_info.node`` (its host name) is replaced by, with its id.
REDACTED = "redacted-"
_REDACTED_NODE = re.compile(rf"{re.escape(REDACTED)}([0-9a-f]{{8}})")


class PublishError(ValueError):
    """A run that cannot be published where asked; the message says what to change."""


def device_slug(device_kind: str | None) -> str:
    """``"NVIDIA H200"`` -> ``"nvidia-h200"``; ``None`` -> ``"unknown"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", (device_kind or "").lower()).strip("-")
    return slug or "unknown"


def node_host_id(node: str | None) -> str:
    """The host id of a run's ``machine_info.node``.

    The hash of a host name (:func:`bench.temporaries.host_id`); a published run's JSON
    carries ``redacted-<host id>`` instead, whose id is kept, so that publishing it again
    gives the same id and folder name.
    """
    redacted = _REDACTED_NODE.fullmatch(node or "")
    return redacted.group(1) if redacted else host_id(node)


def redacted_node(host: str) -> str:
    """What a published run's ``machine_info.node`` becomes: ``redacted-<host id>``."""
    return f"{REDACTED}{host}"


def _run_date(run: RunRecord) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(run.datetime.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(
            f"the run has no valid 'datetime' ({run.datetime!r}); pytest-benchmark writes "
            "one: run `pytest --benchmark` and publish the JSON it writes."
        ) from None


def _case_counts(cases) -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.kind] = counts.get(case.kind, 0) + 1
    return counts


def _first(cases, field: str):
    return next((getattr(c, field) for c in cases if getattr(c, field) is not None), None)


def run_metadata(run: RunRecord) -> dict:
    """What the index needs to know about a run (written to the run folder's ``run.json``).

    Returns:
        ``date`` (YYYY-MM-DD), ``datetime``, ``device_kind``, ``device`` (slug),
        ``device_count``, ``backend``, ``host_id``, ``preset``, ``command``, ``timed``,
        ``commit`` ``{id, dirty}``, ``case_counts`` ``{kind: count}`` and ``headlines``
        (:func:`bench.report.history.headlines`).
    """
    cases, machine = run.cases, run.machine_info.get("glmnn") or {}
    commit = machine.get("git_commit") or run.commit_info or {}
    device_kind = machine.get("device_kind") or _first(cases, "device_kind")
    timed = run.timed
    if timed is None:
        timed = all(case.timed is not False for case in cases)
    when = _run_date(run)
    return {
        "date": when.date().isoformat(),
        "datetime": when.isoformat(),
        "device_kind": device_kind,
        "device": device_slug(device_kind),
        "device_count": machine.get("device_count") or _first(cases, "device_count"),
        "backend": machine.get("backend") or _first(cases, "backend"),
        "host_id": node_host_id(run.machine_info.get("node")),
        "preset": run.preset or _first(cases, "preset"),
        "command": run.command,
        "timed": bool(timed),
        "commit": {"id": commit.get("id"), "dirty": commit.get("dirty")},
        "case_counts": _case_counts(cases),
        "headlines": headlines(cases),
    }


def default_folder_name(meta: dict) -> str:
    """``<date>-<device>-<host id>``, e.g. ``2026-11-28-cpu-1a2b3c4d``."""
    return f"{meta['date']}-{meta['device']}-{meta['host_id']}"


def check_run_name(run_name: str) -> None:
    """Raise :class:`PublishError` unless ``run_name`` is a plain folder name."""
    if (not run_name or run_name in (".", "..") or run_name.startswith(".")
            or "/" in run_name or os.sep in run_name):
        raise PublishError(
            f"run_name {run_name!r} is not a plain folder name; pass a name without '/' that "
            "does not start with '.', or no run_name for <date>-<device>-<host id>."
        )


def _candidate_names(base: str) -> Iterable[str]:
    yield base
    number = 2
    while True:
        yield f"{base}-{number}"
        number += 1


def place_run_folder(staging: pathlib.Path, root: pathlib.Path, base: str, meta: dict
                     ) -> pathlib.Path:
    """Move ``staging`` into place and list it in the index, all or nothing.

    The folder takes the first free name of ``base``, ``base-2``, ``base-3``, ... The index
    that lists it is written beside the old one first (:func:`write_index_draft`, the step
    that needs space); then the folder is renamed into place and the new index renamed over
    the old one (:func:`install_index`). If that fails, the folder is moved back to
    ``staging``, for the caller to remove: the run is published and listed, or nothing
    changed.

    Args:
        staging: the filled run folder (:func:`make_staging_folder`).
        root: the folder of run folders.
        base: the run folder's name, if free.
        meta: its ``run.json`` metadata, for its row in the index.

    Returns:
        The run folder.
    """
    for name in _candidate_names(base):
        target = root / name
        if os.path.lexists(target):
            continue
        draft = write_index_draft(root, render_index(root, adding=(name, meta)))
        try:
            os.rename(staging, target)
        except OSError as error:
            draft.unlink(missing_ok=True)
            # Another publisher took the name between the check and the rename.
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
        except BaseException:
            draft.unlink(missing_ok=True)
            raise
        try:
            install_index(draft, root)
        except BaseException:
            os.rename(target, staging)
            draft.unlink(missing_ok=True)
            raise
        return target
    raise AssertionError("unreachable")  # pragma: no cover


def write_index_draft(root: pathlib.Path, text: str) -> pathlib.Path:
    """Write the next index to a temporary file beside ``root/README.md``; return its path."""
    draft = root / temporary_name(README)
    try:
        draft.write_text(text, encoding="utf-8")
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    return draft


def install_index(draft: pathlib.Path, root: pathlib.Path) -> None:
    """Rename a draft of :func:`write_index_draft` over ``root/README.md`` (no space needed)."""
    os.replace(draft, root / README)


def find_published(root: pathlib.Path, file_name: str, text: str) -> pathlib.Path | None:
    """The run folder under ``root`` whose ``file_name`` holds exactly ``text``, or None.

    ``text`` is a run's JSON as publishing writes it (host name redacted), so a run
    published before, from its own JSON or from the published copy, is found; so is one
    published before its JSON was gzipped (``file_name`` without ``.gz``).
    """
    data = text.encode("utf-8")
    legacy = file_name.removesuffix(LEGACY_SOURCE_SUFFIX)
    for folder in _run_folders(root):
        for source in (folder / file_name, folder / legacy):
            try:
                if source.suffix == ".gz":
                    found = read_text_maybe_gzipped(source).encode("utf-8") == data
                else:
                    found = source.stat().st_size == len(data) and source.read_bytes() == data
            except (OSError, EOFError, UnicodeDecodeError):
                continue
            if found:
                return folder
    return None


def published_run_folder(path: str | os.PathLike) -> pathlib.Path | None:
    """The published run folder that ``path`` is in (or is), or None.

    A published run folder is one with a ``run.json`` of publishing's metadata.
    """
    path = pathlib.Path(path).absolute()
    for folder in (path, *path.parents):
        meta = _read_run_json(folder)
        if meta is not None and {"host_id", "case_counts"} <= meta.keys():
            return folder
    return None


def make_staging_folder(root: pathlib.Path) -> pathlib.Path:
    """A new empty ``root/.tmp-<host id>-<pid>-<hex>`` folder to build a run folder in.

    Staging folders that a killed publisher on this host left behind are removed first
    (:func:`bench.temporaries.remove_stale`).
    """
    remove_stale(root)
    while True:
        staging = root / temporary_name()
        try:
            staging.mkdir()  # honours the umask, unlike tempfile.mkdtemp's 0700
            return staging
        except FileExistsError:
            continue


def _read_run_json(folder: pathlib.Path) -> dict | None:
    try:
        meta = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _index_row(name: str, meta: dict, columns: list[str]) -> list[str]:
    commit = meta.get("commit") or {}
    commit_text = (commit.get("id") or "unknown")[:12]
    if commit.get("dirty"):
        commit_text += " (dirty)"
    counts = meta.get("case_counts") or {}
    cases = ", ".join(f"{counts[kind]} {kind}" for kind in ("fit", "scaling", "baseline")
                      if counts.get(kind))
    ratios = {h["name"]: h for h in meta.get("headlines") or ()}
    return [f"[{name}]({name}/{README})", meta.get("date", "?"),
            str(meta.get("preset", "?")), commit_text, cases or "–",
            "yes" if meta.get("timed") else "no",
            *(headline_text(ratios.get(column)) for column in columns)]


def _natural(name: str) -> list:
    """Sort key that puts ``run-2`` before ``run-10``: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _run_folders(root: pathlib.Path) -> list[pathlib.Path]:
    """The folders under ``root`` that may be runs (not the temporaries), in name order."""
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: _natural(p.name))


def published_runs(results_root: str | os.PathLike) -> list[tuple[str, dict]]:
    """``(folder name, run.json metadata)`` of every run folder that has its metadata."""
    entries = []
    for folder in _run_folders(pathlib.Path(results_root)):
        meta = _read_run_json(folder)
        if meta is not None:
            entries.append((folder.name, meta))
    return entries


def _newest_first(entries: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """The latest run of each preset first (newest first), then the others, newest first."""
    ordered = sorted(entries, key=lambda e: (e[1].get("datetime") or "", _natural(e[0])),
                     reverse=True)
    latest, seen = [], set()
    for entry in ordered:
        if entry[1].get("preset") not in seen:
            seen.add(entry[1].get("preset"))
            latest.append(entry)
    return latest + [entry for entry in ordered if entry not in latest]


#: What the index says about which runs the folder keeps.
RUNS_OF_RECORD = (
    "`results/` keeps runs of record: the latest run of each machine, device and preset, "
    "and every run that the documentation cites (a test checks that nothing else is "
    "here). A development run is published to a folder of your own "
    "(`--bench-results-dir`), or removed once a later run of the same machine and preset "
    "supersedes it; git history keeps what was removed.")


def render_index(results_root: str | os.PathLike, adding: tuple[str, dict] | None = None
                 ) -> str:
    """The text of ``results/README.md``, from every run folder's ``run.json``.

    Runs are grouped by machine and device; in each group the latest run of each preset
    comes first. Each row gives the run's headline speed ratios with their intervals
    (:mod:`bench.report.history`).

    Args:
        results_root: the folder of run folders.
        adding: ``(name, metadata)`` of a run folder about to be moved in, listed too.
    """
    entries = published_runs(results_root)
    if adding is not None:
        entries.append(adding)
    return _index_text(entries)


def _index_text(entries: list[tuple[str, dict]]) -> str:
    columns = headline_names(entries)
    groups: dict[str, list[tuple[str, dict]]] = {}
    for entry in entries:
        groups.setdefault(group_key(entry[1]), []).append(entry)
    header = ["run", "date", "preset", "commit", "cases", "timed", *columns]
    lines = [
        "# Published benchmark runs",
        "",
        "One folder per run, written by `python -m bench publish RUN.json` (or by "
        "`pytest --benchmark`). This index is regenerated from each folder's `run.json` "
        "whenever a run is published; do not edit it by hand.",
        "",
        RUNS_OF_RECORD,
        "",
        "Each ratio is our fits per second over the library's on that regime (our float64 "
        f"case where there is one), with its {LEVEL:.0%} bootstrap interval over both rows' "
        "timed rounds; `–` where the run lacks the pair. "
        f"[{HISTORY_PNG}]({HISTORY_PNG}) draws them over time.",
    ]
    for group, members in sorted(groups.items(), key=lambda g: max(
            e[1].get("datetime") or "" for e in g[1]), reverse=True):
        rows = [_index_row(name, meta, columns) for name, meta in _newest_first(members)]
        lines += ["", f"## {group}", "", *markdown_table(header, rows)]
    return "\n".join([*lines, ""])


def write_index(results_root: str | os.PathLike) -> pathlib.Path:
    """Regenerate ``results_root/README.md`` (atomically) and its history plot; the index.

    The plot (:func:`bench.report.history.plot_history`) is left out without matplotlib;
    the index does not depend on it.
    """
    root = pathlib.Path(results_root)
    path = root / README
    entries = published_runs(root)
    write_atomically(path, _index_text(entries))
    try:
        plot_history(entries, root / HISTORY_PNG)
    except PlotsUnavailable:
        pass
    return path
