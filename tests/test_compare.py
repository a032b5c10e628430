"""bench.report.compare: speed ratios, convergence changes and exit codes, on the smoke run."""

from __future__ import annotations

import json
import pathlib

import pytest

from bench.record import RecordError
from bench.report import compare

FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"


def _write(path: pathlib.Path, run: dict) -> pathlib.Path:
    path.write_text(json.dumps(run))
    return path


def _slowed_down(run: dict, factor: float) -> dict:
    for benchmark in run["benchmarks"]:
        for stat in ("median", "mean", "min"):
            benchmark["stats"][stat] *= factor
        info = benchmark["extra_info"]
        if "seconds" in info:
            info["seconds"] *= factor
        if "fits_per_s" in info:
            info["fits_per_s"] /= factor
    return run


def _fit_row(text: str, model: str, regime: str, dtype: str) -> list[str]:
    """Whitespace-split cells of our ``fit`` row (its baseline cell is "–")."""
    for line in text.splitlines():
        cells = line.split()
        if cells[:4] == ["fit", model, regime, dtype]:
            return cells
    raise AssertionError(f"no fit row for {model} {regime} {dtype}")


@pytest.fixture
def run() -> dict:
    return json.loads(FIXTURE.read_text())


def test_a_run_against_itself(tmp_path):
    text, code = compare(FIXTURE, FIXTURE, fail_above=1.5)
    assert code == 0
    cells = _fit_row(text, "glm", "overlap", "float64")
    assert cells[8] == "1.000"  # new/old
    assert "52 cases compared" in text
    assert "only in" not in text


def test_a_planted_2x_slowdown_fails(tmp_path, run):
    slow = _write(tmp_path / "slow.json", _slowed_down(run, 2.0))
    text, code = compare(FIXTURE, slow, fail_above=1.5)
    assert code == 1
    assert "FAIL" in text
    cells = _fit_row(text, "perceptron", "separable", "float32")
    assert cells[8] == "2.000" and cells[-1] == "SLOWER"
    assert text.count("SLOWER") == 52

    text, code = compare(FIXTURE, slow)  # no threshold: a report, never a failure
    assert code == 0 and "SLOWER" not in text

    text, code = compare(slow, FIXTURE, fail_above=1.5)  # faster is fine
    assert code == 0
    assert _fit_row(text, "perceptron", "separable", "float32")[8] == "0.500"


def test_converged_change_in_percentage_points(tmp_path, run):
    for benchmark in run["benchmarks"]:
        info = benchmark["extra_info"]
        if (info["kind"], info["model"], info.get("regime"), info.get("dtype")) == (
                "fit", "glm", "overlap", "float64"):
            info["converged_frac"] = 0.75
    text, code = compare(FIXTURE, _write(tmp_path / "new.json", run))
    cells = _fit_row(text, "glm", "overlap", "float64")
    assert cells[9:12] == ["100.0", "->", "75.0"]
    assert cells[12] == "-25.0"
    assert _fit_row(text, "glm", "separable", "float64")[12] == "+0.0"


def test_cases_in_only_one_run_are_listed(tmp_path, run):
    dropped = run["benchmarks"].pop(
        next(i for i, b in enumerate(run["benchmarks"])
             if b["extra_info"]["kind"] == "baseline"
             and b["extra_info"]["baseline"] == "statsmodels GLM"))
    text, code = compare(FIXTURE, _write(tmp_path / "new.json", run), fail_above=1.5)
    assert code == 0
    assert "only in old (1):" in text
    info = dropped["extra_info"]
    assert f"baseline {info['model']} {info['regime']} float64 2 statsmodels GLM" in text
    assert "only in new" not in text
    assert "51 cases compared" in text


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(RecordError, match="no such file"):
        compare(tmp_path / "missing.json", FIXTURE)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"benchmarks": [')
    with pytest.raises(RecordError, match="not valid JSON"):
        compare(FIXTURE, corrupt)


@pytest.mark.parametrize("threshold", [0, -1.0, float("nan")])
def test_fail_above_must_be_positive(threshold):
    with pytest.raises(ValueError, match="fail_above"):
        compare(FIXTURE, FIXTURE, fail_above=threshold)
