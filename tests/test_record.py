"""bench.record: one row type, one writer, one reader that validates on the way in."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from bench.record import (
    CaseRecord,
    RecordError,
    RunRecord,
    case_from_json,
    case_to_json,
    read_run,
    write_run,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "smoke-run.json"
FIT = dict(kind="fit", model="glm", regime="overlap", dtype="float64", n_datasets=4)


def test_the_pytest_json_reads_into_typed_rows():
    run = read_run(FIXTURE)
    assert run.source == "pytest-benchmark" and run.preset == "smoke"
    assert {case.kind for case in run.cases} == {"datasets", "fit", "scaling", "baseline",
                                                 "ceilings", "peer", "boundary", "trajectory"}
    fit = next(c for c in run.cases if c.kind == "fit")
    assert isinstance(fit, CaseRecord) and isinstance(fit.status_counts["converged"], int)


@pytest.mark.parametrize("path", sorted((ROOT / "results").glob("*/benchmark.json")),
                         ids=lambda p: p.parent.name)
def test_every_published_run_is_still_readable(path):
    assert read_run(path).cases


@pytest.mark.parametrize("row, message", [
    ({"kind": "fit"}, "a fit case needs the field 'model'"),
    ({**FIT, "n_datasets": "4"}, "field 'n_datasets' must be int, got '4'"),
    ({**FIT, "converged_frac": True}, "field 'converged_frac' must be float"),
    ({**FIT, "status_counts": {"converged": 1.5}}, "field 'status_counts' must be"),
    ({"kind": "fitted", "model": "glm"}, "'kind' must be one of"),
    (["fit"], "expected a JSON object"),
])
def test_a_bad_row_names_its_case_and_field(row, message):
    with pytest.raises(RecordError, match=message.replace("(", r"\(")) as error:
        case_from_json(row, "run.json: case 'x'")
    assert str(error.value).startswith("run.json: case 'x'")


def test_unknown_fields_and_fields_of_other_kinds_are_ignored():
    row = case_from_json({**FIT, "renamed_later": 1, "matmul_size": 2048})
    assert row.matmul_size is None and case_to_json(row)["model"] == "glm"
    with pytest.raises(RecordError, match="a fit case has no field 'matmul_size'"):
        CaseRecord(**FIT, matmul_size=2048)


def test_a_mistyped_field_in_a_pytest_json_fails_on_read(tmp_path):
    data = json.loads(FIXTURE.read_text())
    fit = next(b for b in data["benchmarks"] if b["extra_info"]["kind"] == "fit")
    fit["extra_info"]["fits_per_s"] = "fast"
    (tmp_path / "run.json").write_text(json.dumps(data))
    with pytest.raises(RecordError, match=re.escape(f"case '{fit['name']}': field 'fits_per_s'")):
        read_run(tmp_path / "run.json")


def test_our_record_round_trips_and_never_replaces_another(tmp_path):
    run = RunRecord(cases=(CaseRecord(**FIT, converged_frac=0.5),),
                    datetime="2026-12-01T00:00:00+00:00", preset="smoke",
                    preset_settings={"name": "smoke"}, command="python -m bench run",
                    timed=True, complete=True, source="python -m bench run",
                    machine_info={"node": "h"}, commit_info={"id": "abc"},
                    settings={"model": ["glm"]})
    path = tmp_path / "run.json"
    write_run(path, run, exclusive=True)
    again = read_run(path)
    assert again == run
    assert json.loads(path.read_text())["format"] == "glmnn-bench run record"
    with pytest.raises(FileExistsError):
        write_run(path, run, exclusive=True)
    assert read_run(path) == run and [p.name for p in tmp_path.iterdir()] == ["run.json"]
