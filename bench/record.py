"""The typed run record: one row type for a case's outcome, one writer, one reader (no JAX).

A :class:`CaseRecord` is what one benchmark case measured. Both paths write the same rows:

* ``pytest --benchmark`` stores each row in its benchmark's ``extra_info`` and the run's
  settings under ``"glmnn"``; the file stays exactly what pytest-benchmark writes.
* ``python -m bench run`` writes our own record (:data:`FORMAT`): the rows under ``"cases"``
  beside the run's settings, machine and commit (from pytest-benchmark's own helpers). It is
  not pytest-benchmark's format and does not pretend to be.

:func:`read_run` reads either into a :class:`RunRecord` and validates every field on the
way in, so a renamed or mistyped field fails with one line that names the case and the
field, before anything is published. Fields a row does not know are ignored, so runs
written by older versions stay readable.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import pathlib
import types
import typing
from dataclasses import dataclass, field

from bench.temporaries import TMP_PREFIX, remove_stale, write_atomically

__all__ = ["CaseRecord", "RunRecord", "RecordError", "FORMAT", "KINDS", "read_run",
           "load_json", "read_text_maybe_gzipped", "case_from_json", "case_to_json",
           "run_to_json", "write_run", "write_atomically", "case_fields", "incomplete_reason",
           "TMP_PREFIX", "PEER", "BOUNDARY", "TRAJECTORY", "FIGURE"]

#: The ``format`` of the record that ``python -m bench run`` writes.
FORMAT = "glmnn-bench run record"
SCHEMA = 1

DATASETS, FIT, SCALING, BASELINE, CEILINGS = "datasets", "fit", "scaling", "baseline", "ceilings"
#: A peer's batched fit; one regime's boundary-figure fits; a coefficient-norm path; the
#: fits of any other figure (``figure`` names it, ``data`` holds what it draws).
PEER, BOUNDARY, TRAJECTORY, FIGURE = "peer", "boundary", "trajectory", "figure"
KINDS = (DATASETS, FIT, SCALING, BASELINE, CEILINGS, PEER, BOUNDARY, TRAJECTORY, FIGURE)
_ALL = frozenset(KINDS)
_OURS = frozenset({FIT, SCALING})
_TIMED = frozenset({DATASETS, FIT, SCALING, BASELINE, PEER})
_FIT_LIKE = _OURS | {BASELINE, PEER}
_FIGURES = frozenset({BOUNDARY, TRAJECTORY, FIGURE})

_HOW_TO_GET_A_RUN = (
    "run `pytest --benchmark` (it writes .benchmarks/glmnn-<preset>-<stamp>.json) and pass "
    "that file"
)


class RecordError(ValueError):
    """A run file that cannot be read as a run; the message says what to change."""


def _for(kinds, *, required=frozenset()):
    return field(default=None, metadata={"kinds": frozenset(kinds),
                                         "required": frozenset(required)})


@dataclass(frozen=True)
class CaseRecord:
    """One case's outcome. Fields are None where they do not apply or were not measured.

    The field order is the column order of ``summary.csv``. Which kinds each field applies
    to, and which kinds require it, is in its metadata (:func:`case_fields`).
    """

    kind: str
    name: str | None = _for(_ALL)
    model: str | None = _for(_ALL, required=_ALL - {CEILINGS})
    regime: str | None = _for(_TIMED | _FIGURES, required=_TIMED | {TRAJECTORY})
    dtype: str | None = _for(_TIMED | _FIGURES, required=_FIT_LIKE)
    n_datasets: int | None = _for(_TIMED | {TRAJECTORY, FIGURE}, required=_FIT_LIKE)
    baseline: str | None = _for({BASELINE, PEER}, required={BASELINE, PEER})
    n_samples: int | None = _for(_TIMED | _FIGURES)
    n_features: int | None = _for(_TIMED)
    compile_s: float | None = _for({DATASETS, FIT, SCALING, PEER})
    preset: str | None = _for(_ALL)
    backend: str | None = _for(_ALL)
    device_kind: str | None = _for(_ALL)
    device_count: int | None = _for(_ALL)
    datasets_per_s: float | None = _for({DATASETS})
    seconds: float | None = _for(_TIMED)
    seconds_min: float | None = _for(_TIMED)
    model_label: str | None = _for(_OURS)
    n_test: int | None = _for(_OURS)
    seed: int | None = _for(_FIT_LIKE | _FIGURES)
    max_iter: int | None = _for(_OURS | {PEER})
    chunk_size: int | None = _for(_OURS)
    timed: bool | None = _for(_FIT_LIKE)
    fits_per_s: float | None = _for(_FIT_LIKE)
    converged_frac: float | None = _for(_FIT_LIKE)
    separated_frac: float | None = _for(_OURS)
    lp_complete_frac: float | None = _for(_OURS)
    lp_quasi_frac: float | None = _for(_OURS)
    lp_undecided_frac: float | None = _for(_OURS)
    converged_on_complete_frac: float | None = _for(_OURS)
    converged_on_separated_frac: float | None = _for(_OURS)
    separated_agrees_frac: float | None = _for(_OURS)
    status_counts: dict[str, int] | None = _for(_OURS)
    nan_frac: float | None = _for(_OURS)
    nan_converged: int | None = _for(_OURS)
    n_iter_mean: float | None = _for(_OURS)
    n_iter_median: float | None = _for(_OURS | {PEER})
    n_iter_p90: float | None = _for(_OURS)
    n_iter_max: int | None = _for(_OURS | {PEER})
    lane_efficiency: float | None = _for(_OURS)
    train_accuracy_mean: float | None = _for(_OURS)
    train_accuracy_q10: float | None = _for(_OURS)
    test_accuracy_mean: float | None = _for(_OURS)
    test_accuracy_q10: float | None = _for(_OURS)
    final_loss_mean: float | None = _for(_OURS)
    n_updates_mean: float | None = _for(_OURS)
    novikoff_max_ratio: float | None = _for(_OURS)
    final_loss_median: float | None = _for(_OURS)
    replay_stop_frac: float | None = _for(_OURS)
    replay_stop_median: float | None = _for(_OURS)
    history_step: int | None = _for(_OURS)
    history_median: list[float | None] | None = _for(_OURS)
    history_q25: list[float | None] | None = _for(_OURS)
    history_q75: list[float | None] | None = _for(_OURS)
    gap_median: list[float | None] | None = _for(_OURS)
    gap_q25: list[float | None] | None = _for(_OURS)
    gap_q75: list[float | None] | None = _for(_OURS)
    gflops: float | None = _for(_OURS)
    gbps: float | None = _for(_OURS)
    intensity: float | None = _for(_OURS)
    roofline_bound_gflops: float | None = _for(_OURS)
    roofline_pct: float | None = _for(_OURS)
    n_chunks: int | None = _for(_OURS)
    includes_generation: bool | None = _for(_OURS)
    process_count: int | None = _for(_OURS)
    process_index: int | None = _for(_OURS)
    local_device_count: int | None = _for(_OURS)
    matmul_gflops_float32: float | None = _for({CEILINGS}, required={CEILINGS})
    matmul_gflops_float64: float | None = _for({CEILINGS}, required={CEILINGS})
    copy_gbps: float | None = _for({CEILINGS}, required={CEILINGS})
    matmul_size: int | None = _for({CEILINGS})
    copy_mib: int | None = _for({CEILINGS})
    tolerance: str | None = _for({PEER}, required={PEER})
    converged_scope: str | None = _for({PEER}, required={PEER})
    coef_diff_median: float | None = _for({PEER})
    loss_diff_median: float | None = _for({PEER})
    loss_diff_max: float | None = _for({PEER})
    fits: dict[str, dict] | None = _for({BOUNDARY}, required={BOUNDARY})
    iterations: list[int] | None = _for({TRAJECTORY}, required={TRAJECTORY})
    norm_median: list[float | None] | None = _for({TRAJECTORY}, required={TRAJECTORY})
    norm_q25: list[float | None] | None = _for({TRAJECTORY})
    norm_q75: list[float | None] | None = _for({TRAJECTORY})
    stopped_frac: list[float] | None = _for({TRAJECTORY})
    final_status_counts: dict[str, int] | None = _for({TRAJECTORY})
    figure: str | None = _for({FIGURE}, required={FIGURE})
    data: dict | None = _for({FIGURE}, required={FIGURE})
    round_seconds: list[float] | None = _for(_TIMED)

    def __post_init__(self):
        """Reject a row that does not hold what its kind needs."""
        problem = _problem(self)
        if problem:
            raise RecordError(problem)


def case_fields(kind: str | None = None) -> tuple[dataclasses.Field, ...]:
    """The fields of :class:`CaseRecord` in order (those that apply to ``kind``, if given)."""
    fields = dataclasses.fields(CaseRecord)
    if kind is None:
        return fields
    return tuple(f for f in fields if f.name == "kind" or kind in f.metadata["kinds"])


_HINTS = typing.get_type_hints(CaseRecord)


def _matches(value, hint) -> bool:
    """Whether a JSON value fits a field's annotation (``int`` excludes ``bool``)."""
    if value is None:
        return type(None) in typing.get_args(hint) or hint is type(None)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args if arg is not type(None))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint in (dict, list):
        return isinstance(value, hint)
    if origin is dict:
        return isinstance(value, dict) and all(
            _matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    if origin is list:
        return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
    return False


def _type_name(hint) -> str:
    return str(hint).replace("typing.", "").replace(" | None", "").replace("NoneType", "null")


def _problem(record: CaseRecord) -> str | None:
    if record.kind not in KINDS:
        return f"'kind' must be one of {', '.join(KINDS)}, got {record.kind!r}"
    for f in case_fields():
        value = getattr(record, f.name)
        if not _matches(value, _HINTS[f.name]):
            return f"field {f.name!r} must be {_type_name(_HINTS[f.name])}, got {value!r}"
        if f.name == "kind":
            continue
        if value is None and record.kind in f.metadata["required"]:
            return f"a {record.kind} case needs the field {f.name!r}"
        if value is not None and record.kind not in f.metadata["kinds"]:
            return f"a {record.kind} case has no field {f.name!r}"
    return None


def case_from_json(data, where: str = "case") -> CaseRecord:
    """A :class:`CaseRecord` from its JSON object.

    Fields that the row type does not know, or that do not apply to the row's kind (the
    ceilings row of older runs carried a no-op's time as ``seconds``), are ignored.

    Raises:
        RecordError: ``where`` and what is wrong, for a missing or mistyped field.
    """
    if not isinstance(data, dict):
        raise RecordError(f"{where}: expected a JSON object, got {type(data).__name__}.")
    kind = data.get("kind")
    known = {f.name for f in case_fields(kind)} if kind in KINDS else set()
    try:
        return CaseRecord(**{k: v for k, v in data.items() if k in known and k != "kind"},
                          kind=kind)
    except RecordError as error:
        raise RecordError(f"{where}: {error}.") from None


def case_to_json(record: CaseRecord) -> dict:
    """The JSON object of a row: every field that applies to its kind, in order."""
    return {f.name: getattr(record, f.name) for f in case_fields(record.kind)}


@dataclass(frozen=True)
class RunRecord:
    """A run: its cases and what is needed to read, and to rerun, it.

    Attributes:
        cases: the rows, in the order they ran.
        datetime: when the run started or was written (ISO 8601, with its zone).
        preset: the preset's name; ``preset_settings`` its fields.
        command: the command line that made it.
        timed: whether the speeds were measured (False: single untimed calls).
        complete: True when every case that was to run ran, False when the run stopped
            early (a failure or an interrupt), None when the run did not record it.
        source: ``"pytest-benchmark"`` or ``"python -m bench run"``.
        machine_info: pytest-benchmark's machine fields, with ours under ``"glmnn"``.
        commit_info: pytest-benchmark's commit fields.
        version: the pytest-benchmark version that wrote it (None for our record).
        settings: the ``python -m bench run`` options (empty for pytest).
        suite_size: the rows of the whole matrix at this preset (fewer ran: a subset), or
            None when the run did not record it.
        ceilings: the machine's ceilings measured in the session
            (:func:`bench.roofline.measure_ceilings`), or None.
        skipped: the benchmark rows that were skipped, by id, with the reason (a peer
            whose library is not installed).
        raw: the file as it was read, which publishing copies (host name redacted).
    """

    cases: tuple[CaseRecord, ...]
    datetime: str
    preset: str | None
    preset_settings: dict | None
    command: str | None
    timed: bool | None
    complete: bool | None
    source: str
    machine_info: dict
    commit_info: dict
    version: str | None = None
    settings: dict = field(default_factory=dict)
    suite_size: int | None = None
    ceilings: dict | None = None
    skipped: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def _mapping(data, key: str, where: str) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{where}: '{key}' must be a JSON object, got "
                          f"{type(value).__name__}.")
    return value


def read_text_maybe_gzipped(path: pathlib.Path) -> str:
    """A UTF-8 file's text; a ``*.gz`` file is decompressed (a published run's JSON is)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return handle.read()
    return path.read_text(encoding="utf-8")


def load_json(path: str | os.PathLike):
    """Parse a JSON file (``*.gz``: gzipped), with one-line errors that say what to do."""
    path = pathlib.Path(path)
    try:
        text = read_text_maybe_gzipped(path)
    except FileNotFoundError:
        raise RecordError(f"{path}: no such file; {_HOW_TO_GET_A_RUN}.") from None
    except IsADirectoryError:
        raise RecordError(f"{path} is a folder; pass the run's JSON file inside it.") from None
    except (OSError, UnicodeDecodeError, EOFError) as error:  # gzip.BadGzipFile: OSError
        raise RecordError(f"{path}: cannot be read ({error}); {_HOW_TO_GET_A_RUN}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(f"{path}: not valid JSON ({error}); the file is probably "
                          f"truncated: {_HOW_TO_GET_A_RUN}.") from None


def _pytest_cases(data: dict, where: str) -> list[CaseRecord]:
    cases = []
    for index, benchmark in enumerate(data["benchmarks"]):
        if not isinstance(benchmark, dict):
            raise RecordError(f"{where}: benchmarks[{index}] is not a JSON object.")
        info = benchmark.get("extra_info")
        if not isinstance(info, dict) or "kind" not in info:
            continue  # not one of ours
        row = dict(info)
        row.setdefault("name", benchmark.get("name"))
        stats = benchmark.get("stats") or {}
        if row.get("seconds") is None and row.get("kind") == DATASETS:  # pytest-benchmark's
            row["seconds"] = stats.get("median")
        if row.get("seconds_min") is None and row.get("timed") and "min" in stats:
            row["seconds_min"] = stats["min"]  # the fastest round, beside the median
        if row.get("round_seconds") is None and row.get("timed") is not False and isinstance(
                stats.get("data"), list):
            row["round_seconds"] = stats["data"]  # every round, for compare's test
        cases.append(case_from_json(row, f"{where}: case {benchmark.get('name')!r}"))
    return cases


def read_run(path: str | os.PathLike) -> RunRecord:
    """Read and validate a run, in either format.

    The file is pytest-benchmark's JSON of ``pytest --benchmark`` or the record of
    ``python -m bench run``.

    Raises:
        RecordError: the file is missing, not JSON, holds no case of ours, or a case lacks
            a field or has one of the wrong type (the message names it).
    """
    where = str(path)
    data = load_json(path)
    if isinstance(data, dict) and data.get("format") == FORMAT:
        rows = data.get("cases")
        if not isinstance(rows, list) or not rows:
            raise RecordError(f"{where}: holds no cases ('cases' is missing or empty).")
        cases = [case_from_json(row, f"{where}: cases[{i}]") for i, row in enumerate(rows)]
        meta, source, version = data, "python -m bench run", None
    else:
        benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
        if not isinstance(benchmarks, list) or not benchmarks:
            raise RecordError(
                f"{where}: holds no benchmark results ('benchmarks' is missing or empty); "
                f"{_HOW_TO_GET_A_RUN}, from a run in which the benchmarks ran.")
        cases = _pytest_cases(data, where)
        if not cases:
            raise RecordError(
                f"{where}: no benchmark carries glmnn-bench's extra_info (a 'kind' field); "
                "it is not a glmnn-bench run: run `pytest --benchmark` in this project.")
        meta, source, version = _mapping(data, "glmnn", where), "pytest-benchmark", None
        version = data.get("version")
    stamp = data.get("datetime")
    if not isinstance(stamp, str):
        raise RecordError(f"{where}: the run has no valid 'datetime' ({stamp!r}); "
                          f"{_HOW_TO_GET_A_RUN}.")
    settings = meta.get("preset_settings")
    suite_size = meta.get("suite_size")
    if suite_size is not None and (isinstance(suite_size, bool)
                                   or not isinstance(suite_size, int) or suite_size < 1):
        raise RecordError(f"{where}: 'suite_size' must be a whole number >= 1, got "
                          f"{suite_size!r}.")
    return RunRecord(
        cases=tuple(cases), datetime=stamp, preset=meta.get("preset"),
        preset_settings=settings if isinstance(settings, dict) else None,
        command=meta.get("command"), timed=meta.get("timed"),
        complete=meta.get("complete"), source=source,
        machine_info=_mapping(data, "machine_info", where),
        commit_info=_mapping(data, "commit_info", where), version=version,
        settings=_mapping(meta, "run_settings", where), suite_size=suite_size,
        ceilings=_mapping(meta, "ceilings", where) or None,
        skipped=_mapping(meta, "skipped", where), raw=data,
    )


def incomplete_reason(run: RunRecord) -> str | None:
    """Why ``run`` cannot be taken for a whole run, or None when nothing says so.

    A run marked incomplete stopped early; a pytest-benchmark JSON without the ``glmnn``
    block that this project's pytest plugin writes does not record whether it did. A
    ``glmnn`` block without ``complete`` (older versions wrote none) is taken as it was.
    """
    if run.complete is False:
        matrix = f" of a {run.suite_size}-case matrix" if run.suite_size else ""
        return (f"it stopped before all its cases ran (it is marked incomplete: "
                f"{len(run.cases)} cases recorded{matrix})")
    if run.source == "pytest-benchmark" and not isinstance(run.raw.get("glmnn"), dict):
        return ("it has no 'glmnn' block (this project's pytest plugin writes one), so "
                "whether all its cases ran is not recorded")
    return None


def run_to_json(run: RunRecord) -> dict:
    """Our own record of a run (what ``python -m bench run`` writes)."""
    return {
        "format": FORMAT, "schema": SCHEMA, "datetime": run.datetime,
        "preset": run.preset, "preset_settings": run.preset_settings,
        "command": run.command, "timed": run.timed, "complete": run.complete,
        "run_settings": run.settings, "suite_size": run.suite_size,
        "ceilings": run.ceilings, "skipped": run.skipped, "machine_info": run.machine_info,
        "commit_info": run.commit_info,
        "note": "python -m bench run times data generation with each chunk",
        "cases": [case_to_json(case) for case in run.cases],
    }


def write_run(path: str | os.PathLike, run: RunRecord, *, exclusive: bool = False) -> None:
    """Write our record of ``run`` to ``path`` atomically (see :func:`write_atomically`)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent)
    write_atomically(path, json.dumps(run_to_json(run), indent=1) + "\n", exclusive=exclusive)
