"""The golden outputs of publishing ``tests/data/smoke-run.json``: README, CSV, plot data.

PNG bytes depend on the fonts and the matplotlib build, so a plot is pinned by what it
draws instead: every axes' titles, labels, scales, limits, and the data of its lines, bands
and bars, read from the matplotlib ``Figure`` when it is saved. This reads only matplotlib's
public API, never the plotting code, so it fingerprints old and new code alike.

Regenerate (only for a deliberate change, named in the commit)::

    python tests/_golden.py
"""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
import re
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FIXTURE = DATA / "smoke-run.json"
GOLDEN = DATA / "golden"
#: The published files compared as text.
TEXT_FILES = ("README.md", "summary.csv", "run.json")


def _number(value):
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    return float(f"{value:.10g}")


def _numbers(values) -> list:
    return [_number(v) for v in values]


def _color(color) -> list:
    from matplotlib.colors import to_rgba

    return _numbers(to_rgba(color))


def _axes_fingerprint(ax) -> dict:
    legend = ax.get_legend()
    return {
        "visible": ax.get_visible(),
        "title": ax.get_title(),
        "xlabel": ax.get_xlabel(),
        "ylabel": ax.get_ylabel(),
        "xscale": ax.get_xscale(),
        "yscale": ax.get_yscale(),
        "ylim": _numbers(ax.get_ylim()) if ax.get_yscale() == "log" else None,
        "lines": [{"label": line.get_label(), "x": _numbers(line.get_xdata()),
                   "y": _numbers(line.get_ydata()), "color": _color(line.get_color()),
                   "linestyle": str(line.get_linestyle()), "marker": str(line.get_marker()),
                   "linewidth": _number(line.get_linewidth())} for line in ax.get_lines()],
        "bands": [[_numbers(vertex) for path in collection.get_paths()
                   for vertex in path.vertices] for collection in ax.collections],
        "bars": [{"x": _number(patch.get_x()), "width": _number(patch.get_width()),
                  "height": _number(patch.get_height()), "color": _color(patch.get_facecolor())}
                 for patch in ax.patches],
        "texts": [text.get_text() for text in ax.texts],
        "xticklabels": [t.get_text() for t in ax.get_xticklabels()],
        "legend": [t.get_text() for t in legend.get_texts()] if legend else None,
    }


def figure_fingerprint(figure) -> dict:
    """What a figure draws, as JSON-able data (no pixels)."""
    suptitle = figure.get_suptitle() if hasattr(figure, "get_suptitle") else None
    return {"size": _numbers(figure.get_size_inches()), "suptitle": suptitle,
            "axes": [_axes_fingerprint(ax) for ax in figure.axes]}


@contextlib.contextmanager
def recording_plots():
    """Record the fingerprint of every figure saved inside the block, by file name."""
    from matplotlib.figure import Figure

    recorded: dict[str, dict] = {}
    real = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        recorded[pathlib.Path(fname).name] = figure_fingerprint(self)
        return real(self, fname, *args, **kwargs)

    Figure.savefig = savefig
    try:
        yield recorded
    finally:
        Figure.savefig = real


def publish_fixture(publish, root: pathlib.Path) -> tuple[pathlib.Path, dict]:
    """Publish the fixture with ``publish(json, results_root)``; return (folder, plots)."""
    root.mkdir(parents=True, exist_ok=True)
    source = root / "smoke-run.json"
    shutil.copy(FIXTURE, source)
    with recording_plots() as plots:
        folder = publish(source, root / "results")
    return folder, plots


def enriched(data: dict) -> dict:
    """The fixture's JSON ``data`` made to reach the report's branches that it does not.

    The fixture predates the linear program's verdict: its binomial rows gain the verdict's
    fields (values that reach every branch: undecided data sets, statuses that disagree),
    its separable rows a ``quasi`` twin, and the GLM's overlap row a ``glm_no_verdict`` twin
    at 0.95 of its speed; the MLPs fit 2 data sets (their cap), and the run is a subset of
    its preset; the GLM's overlap rows and their baselines have five rounds (an interval).
    Its machine records its packages as a run now does (``"packages"``: the
    catalog's, in its order, and one more that is not installed).
    """
    for benchmark in list(data["benchmarks"]):
        info, twin = benchmark["extra_info"], json.loads(json.dumps(benchmark))
        if info.get("kind") in ("fit", "scaling") and info["model"].startswith("mlp"):
            info["n_datasets"] = twin["extra_info"]["n_datasets"] = 2
        if info.get("kind") != "fit" or info["regime"] in ("poisson", "gamma", "gaussian"):
            continue
        regime = info["regime"]
        info.update(lp_complete_frac=0.75 * (regime == "separable"),
                    lp_quasi_frac=0.25 * (regime == "iris"),
                    lp_undecided_frac=0.25 * (regime in ("xor", "iris")),
                    converged_on_complete_frac=0.5 if regime == "separable" else None,
                    separated_agrees_frac=0.75 if regime == "iris" else 1.0)
        if regime == "separable":
            twin["extra_info"].update({**info, "regime": "quasi", "lp_complete_frac": 0.0,
                                       "lp_quasi_frac": 1.0, "separated_agrees_frac": 0.75,
                                       "converged_on_complete_frac": None})
            data["benchmarks"].append(twin)
        if (info["model"], regime, info["dtype"]) == ("glm", "overlap", "float64"):
            twin = json.loads(json.dumps(benchmark))
            twin["extra_info"].update(model="glm_no_verdict", fits_per_s=info["fits_per_s"]
                                      / 0.95)
            for row, fastest in ((benchmark, 0.02), (twin, 0.019)):  # the rounds' minima
                row["extra_info"]["timed"], row["stats"]["min"] = True, fastest
            data["benchmarks"].append(twin)
        if (info["model"], regime) == ("glm", "overlap"):  # rounds enough for an interval
            for row in [benchmark] + [b for b in data["benchmarks"] if (
                    b["extra_info"].get("kind"), b["extra_info"].get("model"),
                    b["extra_info"].get("regime")) == ("baseline", "glm", "overlap")]:
                median = row["stats"]["median"]
                row["stats"]["data"] = [median * f for f in (0.97, 0.99, 1.0, 1.02, 1.1)]
    data["glmnn"]["suite_size"] = len(data["benchmarks"]) + 8
    machine = data["machine_info"]["glmnn"]
    old = {key.replace("_", "-"): machine.pop(key) for key in (
        "jax", "jaxlib", "optax", "numpy", "statsmodels", "scikit_learn")}
    machine["packages"] = {**{name: old[name] for name in (
        "jax", "jaxlib", "optax", "numpy", "scikit-learn", "statsmodels")}, "glmax": None}
    return data


def outputs(folder: pathlib.Path, plots: dict) -> dict:
    """The text files and the plot fingerprints of a published folder."""
    texts = {name: (folder / name).read_text(encoding="utf-8") for name in TEXT_FILES}
    return {**texts, "plots.json": json.dumps(plots, indent=1, sort_keys=True) + "\n"}


def normalized_tables(markdown: str) -> str:
    """``markdown`` with every table row's cells stripped of padding and every separator row
    written ``| --- |``: how wide a table library pads its columns does not change what a
    rendered table shows."""
    lines = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cells and all(cell and set(cell) <= set("-:") for cell in cells):
                cells = ["---"] * len(cells)
            line = "| " + " | ".join(cells) + " |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def golden() -> dict:
    """The stored golden outputs."""
    names = (*TEXT_FILES, "plots.json")
    return {name: (GOLDEN / name).read_text(encoding="utf-8") for name in names}


def main() -> None:
    """Publish the fixture with the code of this checkout and store the outputs as golden."""
    sys.path.insert(0, str(ROOT))
    from bench.report import publish

    with tempfile.TemporaryDirectory() as tmp:
        folder, plots = publish_fixture(publish, pathlib.Path(tmp))
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in outputs(folder, plots).items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
