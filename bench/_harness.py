"""What every benchmark module does with a case: prepare, time, evaluate, record.

Compile ahead of time outside the timed region; time only the batched fit, blocked, with
``benchmark.pedantic``; evaluate and reduce afterwards, untimed; store plain Python values in
``extra_info``.
"""

from __future__ import annotations

import time

import numpy as np

from bench import runner
from bench.cases import Case
from bench.presets import Preset
from bench.roofline import roofline_fields

__all__ = ["bench_case", "bench_baseline"]


def _timed_seconds(benchmark):
    """The median round time when pytest-benchmark timed the call, else None."""
    stats = getattr(benchmark, "stats", None)
    return None if not stats else float(stats.stats.median)


def bench_case(benchmark, case: Case, preset: Preset, ceilings: dict | None = None) -> dict:
    """Benchmark one case of ours and return its summary (also stored in ``extra_info``).

    With ``ceilings`` (:func:`bench.roofline.measure_ceilings`) the row also gets achieved
    GFLOP/s, GB/s and the % of its roofline bound.
    """
    prepared = runner.prepare(case, preset)
    benchmark.group = f"{case.kind}:{case.model}"
    start = time.perf_counter()
    result = benchmark.pedantic(runner.run, args=(prepared,), rounds=preset.rounds,
                                warmup_rounds=preset.warmup_rounds, iterations=1)
    untimed_s = time.perf_counter() - start
    evaluation, stats = runner.evaluate(prepared, result)
    summary = runner.summarize(evaluation, stats, history_step=prepared.model.history_step)
    info = runner.case_info(case, preset)
    seconds = _timed_seconds(benchmark)
    info.update(compile_s=prepared.compile_s, chunk_size=prepared.chunk_size,
                timed=seconds is not None,
                seconds=seconds if seconds is not None else untimed_s)
    info["fits_per_s"] = case.n_datasets / info["seconds"]
    info.update(summary)
    info.update(roofline_fields(info, ceilings))
    benchmark.extra_info.update(info)
    # Never NaN dressed up as converged, whatever the data.
    assert summary["nan_converged"] == 0, summary["status_counts"]
    assert sum(summary["status_counts"].values()) == case.n_datasets
    return summary


def bench_baseline(benchmark, *, name: str, model: str, regime: str, fit_one, X, y,
                   preset: Preset, converged=None) -> dict:
    """Time a reference library fitting ``X[i], y[i]`` one data set at a time.

    Args:
        benchmark: the pytest-benchmark fixture.
        name: the baseline's label, e.g. ``"statsmodels GLM"``.
        model: the model of ours this baseline is compared with.
        regime: the regime of that case.
        fit_one: ``(X [n, p], y [n]) -> fitted object``, numpy in, one data set.
        X: numpy ``[k, n, p]``: the first ``k`` data sets of that case.
        y: numpy ``[k, n]``: their responses.
        preset: the run's preset.
        converged: optional ``fitted -> bool`` to record what the library reports.
    """
    from bench._timing import device_info

    benchmark.group = f"baseline:{model}"

    def loop():
        return [fit_one(X[i], y[i]) for i in range(len(X))]

    start = time.perf_counter()
    fitted = benchmark.pedantic(loop, rounds=preset.rounds, warmup_rounds=0, iterations=1)
    untimed_s = time.perf_counter() - start
    seconds = _timed_seconds(benchmark)
    info = {
        "kind": "baseline", "baseline": name, "model": model, "regime": regime,
        "dtype": "float64", "n_datasets": int(len(X)), "n_samples": int(X.shape[1]),
        "n_features": int(X.shape[2] - 1), "preset": preset.name, "seed": preset.seed,
        "timed": seconds is not None,
        "seconds": seconds if seconds is not None else untimed_s,
        **device_info(),
    }
    info["fits_per_s"] = len(X) / info["seconds"]
    if converged is not None:
        info["converged_frac"] = float(np.mean([bool(converged(f)) for f in fitted]))
    benchmark.extra_info.update(info)
    return info
