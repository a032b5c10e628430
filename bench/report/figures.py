"""The figures of a run's own fits: decision boundaries and coefficient norms (no JAX).

The ``draw`` of the ``boundaries`` and ``coef_norm`` figures of :func:`bench.catalog.figures`
(their fits: :mod:`bench.figures`).

``boundaries.png``
    one row per synthetic classification regime, one column per model: the two-feature
    points, and the boundary the model drew, from the ``boundary`` row's fitted values: a
    linear model's line ``coef . (1, x1, x2) = 0`` (:func:`line_endpoints`), an MLP's
    0.5 contour of its probabilities on the recorded grid. Each title names the model and
    its status there ("glm: separated").
``coef_norm.png``
    ``||coef||`` after each iteration on separable data, median and IQR over data sets,
    for the models of the ``trajectory`` rows (plain IRLS against Firth), log scale.

Drawn with ``matplotlib.figure.Figure`` (Agg), as :mod:`.plots`.
"""

from __future__ import annotations

import math
import pathlib

from bench import catalog
from bench.record import BOUNDARY, TRAJECTORY, CaseRecord
from bench.report.matching import model_order, regime_order
from bench.report.plots import save_png

__all__ = ["line_endpoints", "plot_boundaries", "plot_coef_norms", "canvas", "square_panel",
           "fitted_panels"]

_DPI = 110
_CLASS_COLORS = ("tab:blue", "tab:red")


def canvas(**kwargs):
    """A matplotlib ``Figure`` (the Agg canvas), imported only when a figure is drawn."""
    from matplotlib.figure import Figure as MatplotlibFigure

    return MatplotlibFigure(**kwargs)


def line_endpoints(coef, low: float, high: float):
    """Where the line ``w0 + w1 x1 + w2 x2 = 0`` crosses the square ``[low, high]²``'s edges.

    Solved for ``x2`` at ``x1 = low, high`` when ``|w2| >= |w1|``, else for ``x1`` at
    ``x2 = low, high`` (the steeper direction, so a near-vertical line stays finite).

    Returns:
        ``((x1_a, x2_a), (x1_b, x2_b))``, or None when ``w1 = w2 = 0`` (no line).
    """
    w0, w1, w2 = (float(c) for c in coef[:3])
    if w1 == 0 and w2 == 0:
        return None
    if abs(w2) >= abs(w1):
        return tuple((x1, -(w0 + w1 * x1) / w2) for x1 in (low, high))
    return tuple((-(w0 + w2 * x2) / w1, x2) for x2 in (low, high))


def _panel(ax, regime: str, data: dict, model: str) -> None:
    fit = data["models"][model]
    grid = data["grid"]
    low, high = grid[0], grid[-1]
    for label, color in enumerate(_CLASS_COLORS):
        xs = [p for p, y in zip(data["points"], data["labels"]) if y == label]
        ax.scatter([p[0] for p in xs], [p[1] for p in xs], s=7, color=color, alpha=0.6,
                   linewidths=0, label=f"y = {label}")
    if "coef" in fit:
        ends = line_endpoints(fit["coef"], low, high)
        if ends is not None:
            ax.plot([ends[0][0], ends[1][0]], [ends[0][1], ends[1][1]], color="black",
                    linewidth=1.6, label="coef · (1, x1, x2) = 0")
    else:
        ax.contour(grid, grid, fit["probability"], levels=[0.5], colors="black",
                   linewidths=1.6)
    square_panel(ax, low, high, f"{model}: {fit['status']}")


def square_panel(ax, low: float, high: float, title: str) -> None:
    """A fitted-data panel's frame: the square ``[low, high]²``, its title, sparse ticks."""
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    # Three ticks an axis: the coordinates only orient the eye, and ticks were most of
    # the drawing time of 16 panels.
    ax.set_xticks([low, 0.0, high] if low < 0 < high else [low, high])
    ax.set_yticks([low, 0.0, high] if low < 0 < high else [low, high])
    ax.tick_params(labelsize=6)
    ax.xaxis.set_major_formatter("{x:.1f}")
    ax.yaxis.set_major_formatter("{x:.1f}")


def fitted_panels(cases: list[CaseRecord], row: str, path: pathlib.Path, panel, title: str,
                  legend_columns: int) -> bool:
    """Draw the grid of a figure row of fits (regimes down, models across) into ``path``.

    ``panel(ax, regime, data, model)`` draws one panel from the ``boundary`` row named
    ``row``. Returns False (and draws nothing) when the run has no such row.
    """
    rows = [c for c in cases if c.kind == BOUNDARY and c.fits and c.name == row]
    if not rows:
        return False
    fits = rows[0].fits
    regimes = sorted(fits, key=regime_order)
    models = sorted({m for r in regimes for m in fits[r]["models"]}, key=model_order)
    # Fixed margins: a constrained layout of 16 panels took half the drawing time, and every
    # publish (the tests publish often) draws this figure.
    figure = canvas(figsize=(2.6 * len(models), 2.6 * len(regimes) + 0.4))
    axes = figure.subplots(len(regimes), len(models), squeeze=False)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.05, top=0.91, wspace=0.25,
                           hspace=0.3)
    for i, regime in enumerate(regimes):
        for j, model in enumerate(models):
            panel(axes[i][j], regime, fits[regime], model)
        axes[i][0].set_ylabel(f"{regime}\nx2", fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965),
                  ncol=legend_columns, fontsize=8, frameon=False, markerscale=2)
    for j in range(len(models)):
        axes[-1][j].set_xlabel("x1", fontsize=8)
    figure.suptitle(title, fontsize=11)
    save_png(figure, path, dpi=_DPI)
    return True


def plot_boundaries(cases: list[CaseRecord], path: pathlib.Path):
    """The boundary grid (regimes down, models across); None without a boundary row."""
    if not fitted_panels(cases, "boundaries", path, _panel,
                         "Decision boundaries fitted in this run: perceptron and GLM lines, "
                         "MLP p = 0.5 contours", 3):
        return None
    return ("Decision boundaries",
            "One data set with two features per regime (rows), fitted in this run by each "
            "model (columns) with the same code as the benchmark rows. Black: the "
            "perceptron's line `coef · (1, x1, x2) = 0`, the GLM's p = 0.5 line (the same "
            "equation with its coefficients; on separated data, its last iterate), the "
            "MLPs' p = 0.5 contour of their predicted probabilities on a grid. Each title "
            "is the model and the status it reported on that data set.")


def _finite(values) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _statuses(row: CaseRecord) -> str:
    return ", ".join(f"{k} {v}" for k, v in (row.final_status_counts or {}).items() if v)


def plot_coef_norms(cases: list[CaseRecord], path: pathlib.Path):
    """``||coef||`` against the iteration on separable data; None without trajectory rows."""
    rows = sorted((c for c in cases if c.kind == TRAJECTORY and c.iterations),
                  key=lambda c: model_order(c.model))
    if not rows:
        return None
    figure = canvas(figsize=(6.4, 4.2), layout="constrained")
    ax = figure.subplots()
    colors = {m.name: m.color for m in catalog.models()}
    for row in rows:
        color = colors.get(row.model)
        median = _finite(row.norm_median)
        stopped = row.stopped_frac or [0.0] * len(median)
        # Solid while most fits still iterate; dotted once most have stopped by their own
        # rule (IRLS: separation certified; Firth: converged), where the norm is frozen.
        running = [k for k, s in zip(row.iterations, stopped) if s < 0.5]
        last = len(running)
        ax.plot(row.iterations[:last], median[:last], marker="o", markersize=3, color=color,
                label=f"{row.model}: still iterating")
        if last < len(median):
            start = max(last - 1, 0)
            ax.plot(row.iterations[start:], median[start:], linestyle=":", marker="o",
                    markersize=3, markerfacecolor="none", color=color,
                    label=f"{row.model}: most fits stopped ({_statuses(row)} at k = "
                          f"{row.iterations[-1]})")
        ax.fill_between(row.iterations, _finite(row.norm_q25 or row.norm_median),
                        _finite(row.norm_q75 or row.norm_median), color=color, alpha=0.2,
                        linewidth=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("iterations k (the fit run with max_iter = k)")
    ax.set_ylabel("||coef|| (median, band = 25%-75%)")
    ax.set_title(f"Coefficient norm on separable data ({rows[0].n_datasets} data sets, "
                 f"{rows[0].dtype})", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    save_png(figure, path, dpi=_DPI)
    return ("Coefficient norm on separable data: IRLS against Firth",
            "The norm of the coefficients after k iterations (each point is the fit run "
            "with `max_iter = k`, which stops after exactly its first k iterations), median "
            "over the separable data sets with the interquartile band. Solid: most fits are "
            "still iterating; dotted: most have stopped by their own rule, so the norm no "
            "longer changes. Plain IRLS climbs towards an estimate at infinity by about the "
            "same amount each iteration until it certifies separation and stops; Firth's "
            "penalised likelihood has a finite maximum, and its norm levels off before it "
            "converges.")
