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


def _with_rounds(run: dict, n: int = 5) -> dict:
    """Every timed row given ``n`` rounds about its median (the smoke run times one)."""
    for benchmark in run["benchmarks"]:
        stats = benchmark["stats"]
        stats["data"] = [stats["median"] * (1 + 0.01 * (i - n // 2)) for i in range(n)]
    return run


def _slowed_down(run: dict, factor: float) -> dict:
    for benchmark in run["benchmarks"]:
        for stat in ("median", "mean", "min"):
            benchmark["stats"][stat] *= factor
        benchmark["stats"]["data"] = [t * factor for t in benchmark["stats"]["data"]]
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
    assert cells[10] == "1.000"  # new/old
    assert "67 cases compared" in text
    assert "only in" not in text


def test_a_planted_2x_slowdown_fails(tmp_path, run):
    before = _write(tmp_path / "before.json", _with_rounds(run))
    slow = _write(tmp_path / "slow.json", _slowed_down(_with_rounds(json.loads(
        FIXTURE.read_text())), 2.0))
    text, code = compare(before, slow, fail_above=1.5)
    assert code == 1
    assert "FAIL" in text
    cells = _fit_row(text, "perceptron", "separable", "float32")
    assert cells[10] == "2.000" and cells[-1] == "SLOWER"
    assert text.count("SLOWER") == 67

    text, code = compare(before, slow)  # no threshold: a report, never a failure
    assert code == 0 and "SLOWER" not in text

    text, code = compare(slow, before, fail_above=1.5)  # faster is fine
    assert code == 0
    assert _fit_row(text, "perceptron", "separable", "float32")[10] == "0.500"


def test_converged_change_in_percentage_points(tmp_path, run):
    for benchmark in run["benchmarks"]:
        info = benchmark["extra_info"]
        if (info["kind"], info["model"], info.get("regime"), info.get("dtype")) == (
                "fit", "glm", "overlap", "float64"):
            info["converged_frac"] = 0.75
    text, code = compare(FIXTURE, _write(tmp_path / "new.json", run))
    cells = _fit_row(text, "glm", "overlap", "float64")
    assert cells[12:15] == ["100.0", "->", "75.0"]
    assert cells[15] == "-25.0"
    assert _fit_row(text, "glm", "separable", "float64")[15] == "+0.0"


def test_cases_in_only_one_run_are_listed(tmp_path, run):
    dropped = run["benchmarks"].pop(
        next(i for i, b in enumerate(run["benchmarks"])
             if b["extra_info"]["kind"] == "baseline"
             and b["extra_info"]["baseline"] == "statsmodels GLM"))
    text, code = compare(FIXTURE, _write(tmp_path / "new.json", run), fail_above=1.5)
    assert code == 0
    assert "only in old (1):" in text
    info = dropped["extra_info"]
    assert (f"baseline {info['model']} {info['regime']} float64 2 {info['n_samples']} "
            f"{info['n_features']} statsmodels GLM") in text
    assert "only in new" not in text
    assert "66 cases compared" in text


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


def test_cases_of_other_sizes_are_not_compared(tmp_path, run):
    for benchmark in run["benchmarks"]:
        if "n_features" in benchmark["extra_info"]:
            benchmark["extra_info"]["n_features"] = 500
    text, code = compare(FIXTURE, _write(tmp_path / "wide.json", run), fail_above=1.2)
    assert "only in old (67):" in text and "only in new (67):" in text
    assert "FAIL (the gate checked nothing)" in text and code == 1


def test_a_gate_with_nothing_to_check_fails(tmp_path, run):
    smoke_like = _write(tmp_path / "quick.json", {**run, "benchmarks": [
        b for b in run["benchmarks"] if b["extra_info"]["kind"] == "ceilings"]})
    text, code = compare(FIXTURE, smoke_like, fail_above=1.2)
    assert code == 1 and "nothing was compared: FAIL" in text
    text, code = compare(FIXTURE, smoke_like)  # a report, not a gate
    assert code == 0 and "nothing was compared." in text


def test_different_presets_and_timing_methods_are_said(tmp_path, run):
    import dataclasses

    from bench.record import read_run, run_to_json

    cli = run_to_json(dataclasses.replace(read_run(FIXTURE), source="python -m bench run",
                                          preset="quick"))
    text, code = compare(FIXTURE, _write(tmp_path / "cli.json", cli), fail_above=1.5)
    assert code == 0 and "67 cases compared" in text
    assert "note: the runs used different presets (old smoke, new quick)" in text
    assert ("note: the runs were timed differently: old by pytest --benchmark (the fits "
            "only), new by python -m bench run (data generation included)") in text
    assert "note:" not in compare(FIXTURE, FIXTURE)[0]
