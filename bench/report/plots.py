"""The plots of a published run, drawn from the cases' ``extra_info`` with matplotlib (Agg).

PNG files, one per figure of :func:`bench.catalog.figures`, in its order, each written only
when the run has the rows it needs (``boundaries.png`` and ``coef_norm.png``, of the run's
own figure fits, are drawn by :mod:`.figures`; a plugin's figures by their own ``draw``).
These are drawn here:

``convergence.png``
    per model, the median over data sets of the loss history (deviance / n, cross-entropy,
    mistakes / n) against the iteration, with the interquartile band, one line per regime
    (``kind == "fit"`` rows; the float64 case where there is one).
``convergence_log.png``
    per model, each fit's distance to its own final loss against the iteration, median
    and IQR over data sets, on a log axis (quadratic, linear and divergent look different).
``throughput.png``
    fits per second against ``n_datasets``, log-log, one line per model (``kind ==
    "scaling"`` rows), with the reference libraries' fits per second as dotted lines.
``novikoff.png``
    the largest ``n_updates / (R/γ)²`` per separable case of the models whose family has
    Novikoff's mistake bound (the perceptron), against the bound at 1, and their mean
    number of updates in every regime. Only per-case summaries are recorded, so these are
    bars per case, not one point per data set.

matplotlib is the ``plot`` extra: without it :func:`write_plots` raises
:class:`PlotsUnavailable` and the run is published without plots. Figures are built with
``matplotlib.figure.Figure`` (the Agg canvas), never through ``pyplot``, so no global
backend is switched and nothing is left open.
"""

from __future__ import annotations

import itertools
import math
import pathlib
from typing import NamedTuple

from bench import catalog
from bench.formats import missing, positive
from bench.quotes import matched_ours
from bench.record import BASELINE, FIT, SCALING, CaseRecord
from bench.report.matching import model_order, regime_order

__all__ = ["Plot", "PlotsUnavailable", "new_figure", "save_png", "write_plots", "plot_convergence",
           "plot_log_convergence", "plot_throughput", "plot_novikoff"]

_BASELINE_STYLES = (":", "-.", (0, (1, 3)), (0, (5, 5)))
_DPI = 110


class Plot(NamedTuple):
    """One written plot: its file name (in the run folder), a title and a caption."""

    filename: str
    title: str
    caption: str


class PlotsUnavailable(RuntimeError):
    """matplotlib cannot be imported; the message says how to get it."""


def new_figure(**kwargs):
    """A matplotlib ``Figure`` (Agg), or :class:`PlotsUnavailable` without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise PlotsUnavailable(
            f"matplotlib is not importable ({error}); install the 'plot' extra "
            "(pip install 'glmnn-bench[plot]') and publish again."
        ) from None
    return Figure(**kwargs)


def save_png(figure, path: pathlib.Path, dpi: int = _DPI) -> None:
    """Write ``figure`` as a PNG of at most 256 colours.

    A plot has few colours, so the palette image looks the same as matplotlib's RGBA one at
    about a third of the bytes (a published run's plots: 0.93 MB before). Pillow comes with
    matplotlib.
    """
    from PIL import Image

    figure.savefig(path, dpi=dpi)
    with Image.open(path) as image:
        # No dithering: it would speckle the flat areas and the antialiased edges.
        palette = image.convert("RGB").quantize(colors=256, dither=0)
    palette.save(path, format="PNG", optimize=True)


def _finite(values) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _regime_color(name: str) -> str | None:
    return next((r.color for r in catalog.regimes() if r.name == name), None)


def _model_color(name: str) -> str | None:
    return next((m.color for m in catalog.models() if m.name == name), None)


def _preferred_fits(cases: list[CaseRecord]) -> dict[str, list[CaseRecord]]:
    """Per model, one ``kind == "fit"`` case per regime: float64 if present, else float32."""
    fits = [c for c in cases if c.kind == FIT and c.history_median]
    models = sorted({c.model for c in fits}, key=model_order)
    out = {}
    for model in models:
        regimes = sorted({c.regime for c in fits if c.model == model}, key=regime_order)
        out[model] = [matched_ours(fits, model, regime) for regime in regimes]
    return out


def _y_label(model: str) -> str:
    return catalog.family_of(model).loss_name


def _x_label(model: str) -> str:
    return catalog.family_of(model).iteration_unit[:-1]  # singular: "epoch", ...


def plot_convergence(cases: list[CaseRecord], path: pathlib.Path) -> Plot | None:
    """Median and IQR of the loss history per iteration, one panel per model."""
    panels = _preferred_fits(cases)
    if not panels:
        return None
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    figure = new_figure(figsize=(4.2 * ncols, 3.3 * nrows), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (model, model_cases) in zip(axes, panels.items(), strict=False):  # spare axes: hidden
        for case in model_cases:
            median = _finite(case.history_median)
            q25 = _finite(case.history_q25 or case.history_median)
            q75 = _finite(case.history_q75 or case.history_median)
            step = case.history_step or 1
            x = [1 + i * step for i in range(len(median))]
            color = _regime_color(case.regime)
            separable = case.regime == "separable"
            ax.plot(x, median, color=color, linewidth=2.0 if separable else 1.4,
                    linestyle="-" if separable else "--",
                    label=f"{case.regime} ({case.dtype})")
            ax.fill_between(x, q25, q75, color=color, alpha=0.2, linewidth=0)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel(_x_label(model), fontsize=8)
        ax.set_ylabel(_y_label(model), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.suptitle("Loss per iteration: median over data sets, band = 25%-75%", fontsize=11)
    save_png(figure, path)
    return Plot(
        path.name, "Convergence curves",
        "Median over data sets of each model's loss after each iteration (deviance / n for "
        "GLMs, cross-entropy for MLPs, mistakes / n per epoch for the perceptron), with the "
        "interquartile band. Solid: separable data; dashed: the non-separable regimes. GLMs "
        "show their float64 case; MLP histories are subsampled every `history_step` steps. "
        "A fit that stopped keeps its final value.",
    )


def plot_log_convergence(cases: list[CaseRecord], path: pathlib.Path) -> Plot | None:
    """Each fit's distance to its own final loss, median and IQR, log scale, per model."""
    # The perceptron's mistakes per epoch do not settle off separable data: no convergence
    # to put on a log scale (its linear-scale curves are in convergence.png).
    panels = {model: [c for c in model_cases if c.gap_median]
              for model, model_cases in _preferred_fits(cases).items()
              if not catalog.family_of(model).mistake_bound}
    panels = {model: rows for model, rows in panels.items() if rows}
    if not panels:
        return None
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    figure = new_figure(figsize=(4.2 * ncols, 3.3 * nrows + 0.4))  # fixed margins: faster
    from matplotlib.ticker import NullLocator
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.08, top=0.9, wspace=0.3,
                           hspace=0.35)
    for ax, (model, model_cases) in zip(axes, panels.items(), strict=False):
        for case in model_cases:
            # A zero distance (the fit has stopped) has no place on a log axis: not drawn.
            median = [math.nan if v is None or v <= 0 else float(v) for v in case.gap_median]
            q25 = [math.nan if v is None or v <= 0 else float(v)
                   for v in (case.gap_q25 or case.gap_median)]
            q75 = _finite(case.gap_q75 or case.gap_median)
            step = case.history_step or 1
            x = [1 + i * step for i in range(len(median))]
            color = _regime_color(case.regime)
            synthetic = case.regime not in catalog.RESAMPLED_REGIMES
            ax.plot(x, median, color=color, linewidth=1.4,
                    linestyle="-" if synthetic else ":", label=f"{case.regime} ({case.dtype})")
            ax.fill_between(x, [v if v == v else 0 for v in q25], q75, color=color,
                            alpha=0.15, linewidth=0)
        ax.set_yscale("log")
        ax.set_title(model, fontsize=10)
        ax.set_xlabel(_x_label(model), fontsize=8)
        ax.set_ylabel(f"|loss - final loss| ({_y_label(model)})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_minor_locator(NullLocator())  # decades only: minor ticks were slow
        ax.grid(True, which="major", alpha=0.2)
        ax.legend(fontsize=6)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.suptitle("Distance to each fit's final loss per iteration (log scale): median "
                    "over data sets, band = 25%-75%", fontsize=11)
    save_png(figure, path)
    return Plot(
        path.name, "Convergence on a log scale",
        "For every fit, the distance of its loss after each iteration to its own final "
        "loss, `|loss_t - loss_final|`; the median over data sets with the interquartile "
        "band, on a log axis. A straight descent is linear convergence (gradient steps); "
        "a curve that bends down ever faster is quadratic (IRLS, Newton). The curve ends "
        "where more than half of the fits have stopped (distance 0). Solid: synthetic "
        "regimes; dotted: resampled real data. On separable data the GLM's deviance "
        "falls towards 0 until separation is certified. A band that reaches the bottom: "
        "a quarter of the fits have stopped. A fit that ran to its budget is measured "
        "against its last loss, not its limit, so its last steps drop by construction "
        "(the MLPs' right end). The perceptron is left out: its mistakes per epoch do not "
        "settle off separable data.",
    )


def plot_throughput(cases: list[CaseRecord], path: pathlib.Path) -> Plot | None:
    """Fits per second against ``n_datasets`` (log-log), one line per model."""
    sweep = [c for c in cases if c.kind == SCALING and positive(c.fits_per_s)]
    if not sweep:
        return None
    figure = new_figure(figsize=(6.4, 4.4), layout="constrained")
    ax = figure.subplots()
    models = sorted({c.model for c in sweep}, key=model_order)
    for model in models:
        points = sorted((c for c in sweep if c.model == model), key=lambda c: c.n_datasets)
        color = _model_color(model)
        first = points[0]
        ax.plot([c.n_datasets for c in points], [c.fits_per_s for c in points],
                marker="o", color=color,
                label=f"{model} ({first.regime}, {first.dtype})")
        baselines = [c for c in cases if c.kind == BASELINE and c.model == model
                     and c.regime == first.regime
                     and positive(c.fits_per_s)]
        for baseline, linestyle in zip(baselines, itertools.cycle(_BASELINE_STYLES)):
            ax.axhline(baseline.fits_per_s, color=color, linestyle=linestyle, linewidth=1,
                       label=f"{baseline.baseline} (one at a time)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("data sets fitted at once (n_datasets)")
    ax.set_ylabel("fits per second")
    ax.set_title("Throughput against batch size", fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    save_png(figure, path)
    return Plot(
        path.name, "Throughput against the number of data sets",
        "Fits per second of one compiled batched fit against the number of data sets in the "
        "batch (log-log), one line per model, from the `scaling` rows. Dotted lines: the "
        "reference libraries on the same regime, fitting data sets one at a time.",
    )


def _has_mistake_bound(model: str) -> bool:
    try:
        return catalog.family_of(model).mistake_bound
    except catalog.CatalogError:  # a model of an older run, no longer in the catalog
        return False


def plot_novikoff(cases: list[CaseRecord], path: pathlib.Path) -> Plot | None:
    """The largest ``n_updates / (R/γ)²`` per case, and the mean updates.

    Of the models whose family has Novikoff's bound (``mistake_bound``: the perceptron).
    """
    rows = sorted((c for c in cases if c.kind == FIT and _has_mistake_bound(c.model)),
                  key=lambda c: (model_order(c.model), regime_order(c.regime)))
    bounded = [c for c in rows if not missing(c.novikoff_max_ratio)]
    if not bounded:
        return None
    # More than one such model: each bar says whose it is.
    prefix = ((lambda c: f"{c.model} ") if len({c.model for c in rows}) > 1
              else (lambda c: ""))
    figure = new_figure(figsize=(8.4, 3.6), layout="constrained")
    ratio_ax, updates_ax = figure.subplots(1, 2)
    labels = [f"{prefix(c)}{c.regime} {c.dtype}\n(B={c.n_datasets})" for c in bounded]
    ratios = [c.novikoff_max_ratio for c in bounded]
    bars = ratio_ax.bar(labels, ratios, color="tab:blue", width=0.4)
    ratio_ax.bar_label(bars, fmt="%.3g", fontsize=8)
    ratio_ax.axhline(1.0, color="tab:red", linestyle="--", label="Novikoff bound (ratio 1)")
    if all(r > 0 for r in ratios) and min(ratios) < 0.1:
        # Log scale so a ratio far below 1 is still visible; bars start a decade below it.
        ratio_ax.set_yscale("log")
        ratio_ax.set_ylim(min(ratios) / 10, max(2.0, 2 * max(ratios)))
    ratio_ax.set_ylabel("max over data sets of n_updates / (R/γ)²", fontsize=8)
    ratio_ax.set_title("Worst data set against the bound", fontsize=10)
    ratio_ax.legend(fontsize=7)
    update_labels = [f"{prefix(c)}{c.regime}" for c in rows]
    updates = [c.n_updates_mean or 0.0 for c in rows]
    updates_ax.bar(update_labels, updates, color=[_regime_color(c.regime)
                                                  for c in rows], width=0.5)
    updates_ax.set_ylabel("mean updates per data set", fontsize=8)
    unit = catalog.family_of(rows[0].model).iteration_unit
    updates_ax.set_title(f"Updates within {rows[0].max_iter} {unit}", fontsize=10)
    for ax in (ratio_ax, updates_ax):
        ax.tick_params(labelsize=7)
    save_png(figure, path)
    return Plot(
        path.name, "Perceptron updates against Novikoff's bound",
        "Left: for each separable case, the largest ratio over its data sets of the "
        "perceptron's number of updates to Novikoff's bound (R/γ)² (R: largest norm of a "
        "point, γ: the margin of the true separating direction); the theorem says it is at "
        "most 1 (dashed line). Only this per-case maximum is recorded, not the ratio of every "
        "data set. Right: mean number of updates per data set in every regime; off separable "
        "data there is no bound and the updates go on until the epoch budget runs out.",
    )


def write_plots(cases: list[CaseRecord], folder: str | pathlib.Path) -> list[Plot]:
    """Write every plot the cases allow into ``folder``.

    Args:
        cases: the run's cases (:attr:`bench.record.RunRecord.cases`).
        folder: where the PNG files go.

    Returns:
        The plots written, in order (empty when the run has none of the rows they need).

    Raises:
        PlotsUnavailable: matplotlib cannot be imported.
    """
    folder = pathlib.Path(folder)
    new_figure()  # fail early, before any file, if matplotlib is missing
    drawn = [_plot(catalog.resolve(figure.draw)(cases, folder / figure.filename),
                   figure.filename) for figure in catalog.figures()]
    return [plot for plot in drawn if plot is not None]


def _plot(drawn, filename: str) -> Plot | None:
    """A figure's ``draw`` result as a :class:`Plot`: it gives one, or (title, caption)."""
    if drawn is None or isinstance(drawn, Plot):
        return drawn
    return Plot(filename, *drawn)
