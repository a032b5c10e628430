"""The runs over time: each run's headline speed ratios, grouped by machine (no JAX).

A *headline* is our fits per second over a reference library's or a peer's, on the one
regime that the catalog marks for it (``Pairing.headline``, ``Peer.headline``; of several
peers of one model marked on one regime, the fastest in the run), with the
bootstrap interval of :mod:`bench.intervals`. Publishing stores a run's headlines in its
``run.json`` (:func:`headlines`), the results index gives them per run
(:mod:`bench.report.folders`), and :func:`plot_history` draws each one across runs, a point
and its interval per run, as asv does for every benchmark.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import NamedTuple

from bench import catalog
from bench.formats import fmt_ratio, positive
from bench.intervals import LEVEL, speed_ratio_interval
from bench.quotes import matched_ours
from bench.record import BASELINE, PEER, CaseRecord

__all__ = ["Headline", "BEST_PEER", "headline_specs", "headlines", "headline_text",
           "headline_names", "group_key", "plot_history", "HISTORY_PNG"]

#: The history plot, beside the results index.
HISTORY_PNG = "history.png"

#: The ``library`` of a headline filled by the fastest of several peers.
BEST_PEER = "best peer"


class Headline(NamedTuple):
    """A ratio the index follows across runs.

    Attributes:
        name: ``"<model> / <library> on <regime>"``, its column in the index.
        kind: ``"baseline"`` (a reference library) or ``"peer"``.
        library: the library's or peer's label, as its rows record it, or :data:`BEST_PEER`.
        model: our model.
        regime: the regime.
        candidates: the labels of the rows that may fill it; the fastest in a run does.
    """

    name: str
    kind: str
    library: str
    model: str
    regime: str
    candidates: tuple[str, ...]


def headline_specs() -> list[Headline]:
    """Every headline of the catalog, in its order: the libraries' pairings, then peers."""
    libraries = catalog.libraries()
    specs = [(BASELINE, libraries[p.library].label, p.model, p.headline, (
        libraries[p.library].label,)) for p in catalog.pairings() if p.headline]
    marked: dict[tuple[str, str], list[str]] = {}
    for p in catalog.peers():
        if p.headline:
            marked.setdefault((p.model, p.headline), []).append(p.label)
    specs += [(PEER, labels[0] if len(labels) == 1 else BEST_PEER, model, regime,
               tuple(labels)) for (model, regime), labels in marked.items()]
    return [Headline(f"{model} / {library} on {regime}", kind, library, model, regime, labels)
            for kind, library, model, regime, labels in specs]


def headlines(cases: list[CaseRecord]) -> list[dict]:
    """The headline ratios of one run: ``{name, ratio, low, high, library}`` for each it has.

    ``low`` and ``high`` are None where a row has too few rounds for an interval;
    ``library`` is the row's label (which peer was the fastest, for a best-peer headline).
    """
    out = []
    for spec in headline_specs():
        rows = [c for c in cases if c.kind == spec.kind and c.baseline in spec.candidates
                and c.model == spec.model and c.regime == spec.regime
                and positive(c.fits_per_s)]
        theirs = max(rows, key=lambda c: c.fits_per_s, default=None)
        ours = matched_ours(cases, spec.model, spec.regime)
        if theirs is None or ours is None:
            continue
        if not (positive(ours.fits_per_s) and positive(theirs.fits_per_s)):
            continue
        ends = speed_ratio_interval(ours.round_seconds or (), ours.n_datasets,
                                    theirs.round_seconds or (), theirs.n_datasets)
        low, high = ends if ends is not None else (None, None)
        out.append({"name": spec.name, "ratio": ours.fits_per_s / theirs.fits_per_s,
                    "low": low, "high": high, "library": theirs.baseline})
    return out


def headline_text(entry: dict | None) -> str:
    """``"29.9× (27.1–32.8)"``, the ratio alone without an interval, a dash without both.

    A best-peer headline names the peer: ``"1.6× (1.5–1.7) vs equinox"``.
    """
    if not entry or entry.get("ratio") is None:
        return "–"
    text = fmt_ratio(entry["ratio"])
    if entry.get("low") is not None and entry.get("high") is not None:
        low, high = (fmt_ratio(entry[end]).rstrip("×") for end in ("low", "high"))
        text += f" ({low}–{high})"
    if BEST_PEER in entry.get("name", "") and entry.get("library"):
        text += f" vs {entry['library'].split(' (')[0]}"
    return text


def group_key(meta: dict) -> str:
    """The machine and device a run ran on: ``"cpu on host 5bce98f7"``."""
    device = meta.get("device_kind") or meta.get("device") or "unknown device"
    if (meta.get("device_count") or 1) > 1:
        device += f" × {meta['device_count']}"
    return f"{device} on host {meta.get('host_id') or 'unknown'}"


def headline_names(entries: list[tuple[str, dict]]) -> list[str]:
    """The headlines that some of ``entries`` (``(run, run.json metadata)``) have.

    The catalog's first, in its order, then any others (of a catalog since changed) by name.
    """
    present = {h["name"] for _, meta in entries for h in meta.get("headlines") or ()}
    names = [spec.name for spec in headline_specs()]
    return [name for name in names if name in present] + sorted(present - set(names))


def _when(meta: dict) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(meta["datetime"])
    except (KeyError, TypeError, ValueError):
        when = dt.datetime.min
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)  # naive: UTC


def plot_history(entries: list[tuple[str, dict]], path: pathlib.Path) -> bool:
    """Draw each headline over the runs that have it; False (nothing written) if none do.

    Args:
        entries: ``(run folder name, run.json metadata)`` of every published run.
        path: the PNG to write.

    Raises:
        bench.report.plots.PlotsUnavailable: matplotlib is not importable.
    """
    from bench.report.plots import new_figure, save_png

    # asv's view: runs in time order, evenly spaced (a day of development runs and a month
    # between releases read alike), each labelled by its folder.
    ordered = sorted(entries, key=lambda entry: (_when(entry[1]), entry[0]))
    position = {name: x for x, (name, _) in enumerate(ordered)}
    panels = [(name, [(run, meta, h) for run, meta in ordered
                      for h in meta.get("headlines") or () if h["name"] == name])
              for name in headline_names(ordered)]
    if not panels:
        return False
    canvas = new_figure(figsize=(max(6.4, 0.45 * len(ordered) + 2), 2.2 * len(panels) + 1),
                        layout="constrained")
    # After new_figure, which says how to install matplotlib where it is missing.
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    axes = canvas.subplots(len(panels), 1, squeeze=False, sharex=True).ravel()
    for ax, (name, points) in zip(axes, panels):
        series: dict[str, list] = {}
        for run, meta, entry in points:
            series.setdefault(f"{group_key(meta)}, {meta.get('preset', '?')}", []).append(
                (position[run], entry))
        for label, run_points in series.items():
            x = [at for at, _ in run_points]
            y = [entry["ratio"] for _, entry in run_points]
            below = [entry["ratio"] - entry["low"] if entry.get("low") is not None else 0.0
                     for _, entry in run_points]
            above = [entry["high"] - entry["ratio"] if entry.get("high") is not None else 0.0
                     for _, entry in run_points]
            ax.errorbar(x, y, yerr=[below, above], marker="o", markersize=4, capsize=3,
                        linewidth=1, label=label)
        ax.set_yscale("log")  # a few rounds can make an interval reach far above the point
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("ours / theirs, fits/s", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=7)
    axes[-1].set_xticks(range(len(ordered)), [run for run, _ in ordered], rotation=60,
                        ha="right", fontsize=6)
    axes[-1].set_xlim(-0.5, len(ordered) - 0.5)
    canvas.suptitle(f"Headline speed ratios per published run ({LEVEL:.0%} bootstrap "
                    "intervals)", fontsize=11)
    save_png(canvas, path, dpi=100)
    return True
