"""The figures of the run's own fits draw what was fitted: the boundary lines are the
recorded coefficients' lines, the contours the recorded probabilities."""

import json
import pathlib

import pytest
from _golden import recording_plots

from bench.record import read_run
from bench.report.figures import line_endpoints, plot_boundaries

pytest.importorskip("matplotlib")
FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"


def _boundary_row():
    run = read_run(FIXTURE)
    (row,) = [c for c in run.cases if c.kind == "boundary"]
    return run, row


def test_a_boundary_line_is_the_fitted_coefficients_line(tmp_path):
    run, row = _boundary_row()
    with recording_plots() as plots:
        assert plot_boundaries(list(run.cases), tmp_path / "boundaries.png") is not None
    axes = plots["boundaries.png"]["axes"]
    fits = row.fits["overlap"]
    coef, grid = fits["models"]["glm"]["coef"], fits["grid"]
    panel = axes[1 * 4 + 1]  # rows: regimes (overlap second); columns: models (glm second)
    assert panel["ylabel"] == "" and axes[4]["ylabel"].startswith("overlap")
    (line,) = [ln for ln in panel["lines"] if ln["label"].startswith("coef")]
    # Recompute the endpoints from the recorded coefficients, by hand.
    w0, w1, w2 = coef
    low, high = grid[0], grid[-1]
    if abs(w2) >= abs(w1):
        expected = ([low, high], [-(w0 + w1 * low) / w2, -(w0 + w1 * high) / w2])
    else:
        expected = ([-(w0 + w2 * low) / w1, -(w0 + w2 * high) / w1], [low, high])
    assert line["x"] == pytest.approx(expected[0], rel=1e-9)
    assert line["y"] == pytest.approx(expected[1], rel=1e-9)
    for x1, x2 in zip(line["x"], line["y"]):
        assert abs(w0 + w1 * x1 + w2 * x2) < 1e-8 * (1 + abs(w0))
    assert panel["title"] == f"glm: {fits['models']['glm']['status']}"


def test_every_panel_is_titled_with_its_models_status(tmp_path):
    run, row = _boundary_row()
    with recording_plots() as plots:
        plot_boundaries(list(run.cases), tmp_path / "boundaries.png")
    titles = [ax["title"] for ax in plots["boundaries.png"]["axes"] if ax["title"]]
    expected = [f"{model}: {fit['status']}" for regime in ("separable", "overlap", "xor",
                                                           "circles")
                for model, fit in row.fits[regime]["models"].items()]
    assert titles == expected
    # The separable data set: the GLM reports separation there, and says so in its title.
    assert "glm: separated" in titles[:4]


def test_line_endpoints_solve_for_the_steeper_coordinate():
    assert line_endpoints([1.0, 0.0, 2.0], -1, 1) == ((-1, -0.5), (1, -0.5))
    assert line_endpoints([1.0, -4.0, 1.0], -1, 1) == ((0.0, -1), (0.5, 1))
    assert line_endpoints([1.0, 0.0, 0.0], -1, 1) is None
    json.dumps(line_endpoints([0.3, 1.0, 1.0], -2, 2))  # plain numbers
