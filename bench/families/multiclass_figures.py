"""The decision-region figure of the K-class models: its row (JAX) and its drawing.

``regions.png``: one row per K-class synthetic regime, one column per K-class model: the
two-feature points coloured by class, over the class each model predicts on a grid (the
``regions`` benchmark row, :func:`regions_record`, fitted through the models' adapters).
Each title names the model and its status there. JAX is imported only to make the row,
matplotlib only to draw, so the report, which draws, never loads JAX.
"""

from __future__ import annotations

import pathlib

from bench.record import BOUNDARY, CaseRecord
from bench.report.figures import fitted_panels, square_panel

__all__ = ["REGION_REGIMES", "plot_regions", "region_fits", "regions_record"]

#: The regimes whose decision regions are drawn (two features each).
REGION_REGIMES = ("separable3", "overlap3", "rings3")

_CLASS_COLORS = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:olive")


def _panel(ax, regime: str, data: dict, model: str) -> None:
    del regime
    from matplotlib.colors import ListedColormap

    fit, grid = data["models"][model], data["grid"]
    classes = sorted(set(data["labels"]))
    colors = [_CLASS_COLORS[k % len(_CLASS_COLORS)] for k in range(max(classes) + 1)]
    ax.contourf(grid, grid, fit["classes"], levels=[k - 0.5 for k in range(len(colors) + 1)],
                cmap=ListedColormap(colors), alpha=0.18)
    for k in classes:
        xs = [p for p, label in zip(data["points"], data["labels"]) if label == k]
        ax.scatter([p[0] for p in xs], [p[1] for p in xs], s=6, color=colors[k], alpha=0.7,
                   linewidths=0, label=f"class {k}")
    square_panel(ax, grid[0], grid[-1], f"{model}: {fit['status']}")


def plot_regions(cases: list[CaseRecord], path: pathlib.Path):
    """The region grid (regimes down, models across); None without a ``regions`` row."""
    if not fitted_panels(cases, "regions", path, _panel,
                         "Decision regions of the K-class models fitted in this run", 5):
        return None
    return ("Decision regions (K classes)",
            "One data set with two features per K-class regime (rows), fitted in this run by "
            "each K-class model (columns) with the code of the benchmark rows; the shading is "
            "the class each predicts on a grid (argmax of its scores or probabilities). The "
            "multinomial GLM and the perceptron draw straight boundaries between classes; "
            "the softmax MLP with a hidden layer can close a ring around the disc inside it. "
            "Each title is the model and the status it reported on that data set.")


def region_fits(preset) -> dict:
    """Per regime of :data:`REGION_REGIMES`: its points, labels, grid, each model's classes.

    Returns:
        ``{regime: {"points", "labels", "grid", "models": {model: {"status", "dtype",
        "classes": [[class at (grid[i], grid[j]) for i] for j]}}}}``.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    from bench import catalog, datasets, runner
    from bench.figures import GRID_POINTS, fit_batch, grid_axis, grid_design
    from bench.figures import reference_dtype as figure_dtype
    from models import status_name

    data_key = runner.case_keys(preset)[0]
    drawn = [datasets.make(regime, data_key, n_datasets=1, n_samples=preset.n_samples,
                           n_features=2, n_test=1, dtype=jnp.float64)
             for regime in REGION_REGIMES]
    X = np.stack([np.asarray(d.X_train[0]) for d in drawn])
    y = np.stack([np.asarray(d.y_train[0]) for d in drawn])
    grids = [grid_axis(points[:, 1:]) for points in X]
    grid_X = np.stack([grid_design(grid) for grid in grids])
    out = {regime: {"points": X[i, :, 1:].tolist(), "labels": y[i].astype(int).tolist(),
                    "grid": grids[i].tolist(), "models": {}}
           for i, regime in enumerate(REGION_REGIMES)}
    for model in (m.name for m in catalog.models() if "regions" in m.figures):
        result = fit_batch(model, preset, X, y)
        dtype = figure_dtype(model)
        entry = catalog.model(model)
        predict = catalog.family(entry.family).adapter(entry.settings, 1).predict
        scores = np.asarray(jax.vmap(predict)(result, jnp.asarray(grid_X, dtype)))
        for i, regime in enumerate(REGION_REGIMES):
            classes = scores[i].argmax(axis=1).reshape(GRID_POINTS, GRID_POINTS)
            out[regime]["models"][model] = {"status": status_name(int(result.status[i])),
                                            "dtype": dtype, "classes": classes.tolist()}
    return out


def regions_record(row: str, preset) -> CaseRecord:
    """The ``regions`` row of the decision-region figure (:func:`region_fits`)."""
    from bench.figures import common_fields

    return CaseRecord(kind=BOUNDARY, name=row, model="figures", n_samples=preset.n_samples,
                      fits=region_fits(preset), **common_fields(preset))
