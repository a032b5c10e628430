"""The fits behind the run's built-in figures, made in the run with the suite's code paths.

Each function makes one benchmark row of a figure of :func:`bench.catalog.figures`
(``Figure.record``); ``bench/suite/bench_figures.py`` runs them.

* :func:`boundary_record` (``boundaries``): one data set with two features per synthetic
  classification regime, fitted by each model whose ``figures`` name ``"boundaries"``
  through its adapter (:mod:`bench.adapters`, the fit every benchmark row times), under
  ``jax.vmap`` on a batch of one. A ``"line"`` family gives its coefficients (the report
  draws the line ``coef . (1, x1, x2) = 0`` from them); a ``"contour"`` family its
  adapter's probabilities on a grid (the report draws the 0.5 contour).
* :func:`norm_record` (``coef_norm``, row ``norm-<model>``): ``||coef||`` after each
  iteration ``k`` of a model whose ``figures`` name ``"coef_norm"``, on separable data sets:
  the fit run with ``max_iter = k`` stops after exactly the first ``k`` iterations of the
  full fit, so its coefficients are the ``k``-th iterate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from bench import catalog, datasets, runner
from bench.adapters import adapter, batched_fit
from bench.cases import Case
from bench.presets import Preset
from bench.record import BOUNDARY, TRAJECTORY, CaseRecord
from bench.timing import device_info
from models import status_counts, status_name

__all__ = ["BOUNDARY_REGIMES", "GRID_POINTS", "boundary_models", "boundary_fits",
           "boundary_record", "norm_paths", "norm_record", "reference_dtype", "fit_batch",
           "grid_axis", "grid_design", "common_fields"]

#: The regimes whose boundaries are drawn (two features each).
BOUNDARY_REGIMES = catalog.CLASSIFICATION_REGIMES
#: Grid points per axis for a contour family's probabilities (recorded to 4 significant
#: digits: the 0.5 contour needs no more, and the run's JSON stays small).
GRID_POINTS = 41


def boundary_models() -> tuple[str, ...]:
    """The models drawn in the boundary figure (``"boundaries"`` in their ``figures``)."""
    return tuple(m.name for m in catalog.models() if "boundaries" in m.figures)


def reference_dtype(model: str) -> str:
    """The dtype a model's figure fits run in (its float64 case where it has one)."""
    return catalog.reference_dtype(catalog.model(model))


def fit_batch(model: str, preset: Preset, X, y):
    """The model's fit of every data set of ``X [B, n, p]``, ``y [B, n]``."""
    dtype = jnp.dtype(reference_dtype(model))
    keys = datasets.dataset_keys(runner.case_keys(preset)[1], 0, X.shape[0])
    return batched_fit(model, preset)(keys, jnp.asarray(X, dtype), jnp.asarray(y, dtype))


def grid_axis(points: np.ndarray) -> np.ndarray:
    """:data:`GRID_POINTS` values spanning ``points`` with 8% to spare on each side."""
    low, high = float(points.min()), float(points.max())
    pad = 0.08 * (high - low)
    return np.linspace(low - pad, high + pad, GRID_POINTS)


def grid_design(grid: np.ndarray) -> np.ndarray:
    """``[m, 3]`` rows ``(1, x1, x2)`` of the grid, ``x1`` varying fastest."""
    x1, x2 = np.meshgrid(grid, grid)
    return np.stack([np.ones(x1.size), x1.ravel(), x2.ravel()], axis=1)


def boundary_fits(preset: Preset) -> dict:
    """Per regime: its points, labels, grid, and each model's status and boundary.

    Returns:
        ``{regime: {"points": [[x1, x2], ...], "labels": [...], "grid": [...],
        "models": {model: {"status": name, "dtype": ..., "coef": [w0, w1, w2]} or
        {..., "probability": [[p(grid[i], grid[j]) for i] for j]}}}}`` (``probability[j][i]``
        at ``x1 = grid[i]``, ``x2 = grid[j]``).
    """
    data_key = runner.case_keys(preset)[0]
    regimes = [datasets.make(regime, data_key, n_datasets=1, n_samples=preset.n_samples,
                             n_features=2, n_test=1, dtype=jnp.float64)
               for regime in BOUNDARY_REGIMES]
    X = np.stack([np.asarray(d.X_train[0]) for d in regimes])  # [regimes, n, 3]
    y = np.stack([np.asarray(d.y_train[0]) for d in regimes])
    grids = [grid_axis(points[:, 1:]) for points in X]
    grid_X = np.stack([grid_design(grid) for grid in grids])  # [regimes, m, 3]
    out = {regime: {"points": X[i, :, 1:].tolist(), "labels": y[i].tolist(),
                    "grid": grids[i].tolist(), "models": {}}
           for i, regime in enumerate(BOUNDARY_REGIMES)}
    for model in boundary_models():
        result = fit_batch(model, preset, X, y)
        contour = catalog.family_of(model).boundary == "contour"
        if contour:
            predict = adapter(model, preset).predict
            probability = np.asarray(jax.vmap(predict)(
                result, jnp.asarray(grid_X, reference_dtype(model))), np.float64)
        for i, regime in enumerate(BOUNDARY_REGIMES):
            fit = {"status": status_name(int(result.status[i])), "dtype": reference_dtype(model)}
            if contour:
                grid_p = probability[i].reshape(GRID_POINTS, GRID_POINTS)
                fit["probability"] = [[float(f"{v:.4g}") for v in row] for row in grid_p]
            else:
                fit["coef"] = np.asarray(result.coef[i], np.float64).tolist()
            out[regime]["models"][model] = fit
    return out


def common_fields(preset: Preset) -> dict:
    """The fields every figure row records: the preset, its seed and the device."""
    return dict(preset=preset.name, seed=preset.seed, **device_info())


def boundary_record(row: str, preset: Preset) -> CaseRecord:
    """The ``boundary`` row of the boundary figure (:func:`boundary_fits`)."""
    fits = boundary_fits(preset)
    return CaseRecord(kind=BOUNDARY, name=row, model="figures", n_samples=preset.n_samples,
                      fits=fits, **common_fields(preset))


def norm_paths(model: str, preset: Preset) -> dict:
    """``||coef||`` after each of ``preset.norm_iterations`` on the separable float64 case.

    Returns:
        ``iterations``, ``norm_median``, ``norm_q25``, ``norm_q75`` (over data sets), the
        share of fits that had stopped by their own rule before iteration ``k``
        (``stopped_frac``), the statuses of the longest fit (``final_status_counts``), and
        ``n_datasets``.
    """
    entry = catalog.model(model)
    family = catalog.family(entry.family)
    n_datasets = min(catalog.n_datasets_cap(entry, preset), preset.norm_datasets)
    case = Case(model, "separable", "float64", n_datasets, preset.n_samples,
                preset.n_features, preset.n_test)
    data = runner.prepare_data(case, preset)
    keys = datasets.dataset_keys(runner.case_keys(preset)[1], 0, n_datasets)
    norms, stopped, statuses = [], [], None
    for k in preset.norm_iterations:
        fit = jax.jit(jax.vmap(family.adapter(entry.settings, k).fit))
        result = fit(keys, data.X_train, data.y_train)
        norms.append(np.linalg.norm(np.asarray(result.coef), axis=1))
        # Stopped by its own rule before iteration k, so its coefficients are frozen (the
        # status cannot say it: a fit cut off at k is also certified separated or not).
        stopped.append(float(np.mean(np.asarray(result.n_iter) < k)))
        statuses = result.status
    q25, median, q75 = np.quantile(np.stack(norms, axis=1), [0.25, 0.5, 0.75], axis=0)
    return {"iterations": list(preset.norm_iterations), "n_datasets": n_datasets,
            "norm_median": median.tolist(), "norm_q25": q25.tolist(),
            "norm_q75": q75.tolist(), "stopped_frac": stopped,
            "final_status_counts": status_counts(statuses)}


def norm_record(row: str, preset: Preset) -> CaseRecord:
    """The ``trajectory`` row ``norm-<model>`` of the coefficient-norm figure."""
    model = row.removeprefix("norm-")
    return CaseRecord(kind=TRAJECTORY, name=row, model=model, regime="separable",
                      dtype="float64", n_samples=preset.n_samples,
                      **norm_paths(model, preset), **common_fields(preset))
