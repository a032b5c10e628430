"""What every benchmark does with a case: prepare, time, evaluate, record.

Compile ahead of time outside the timed region; time only the batched fit, blocked, with
``benchmark.pedantic``; evaluate and reduce afterwards, untimed; store the case's
:class:`~bench.record.CaseRecord` in ``extra_info`` as plain JSON values.
"""

from __future__ import annotations

import math
import pathlib
import time
from collections.abc import Callable

import numpy as np
import pytest

from bench import baselines, catalog, runner
from bench.cases import Case
from bench.presets import Preset
from bench.record import CaseRecord, case_to_json
from bench.timing import device_info, profile_call

__all__ = ["bench_case", "bench_baseline", "bench_peer", "skip_row", "timed_seconds", "store",
           "pedantic", "rounds_for", "MAX_ROUNDS", "MEASURED_CEILINGS", "SKIPPED"]

#: The machine's ceilings measured in this session (``config.stash``), recorded with the run
#: even when its ceilings row was not selected, since the fits' % roofline uses them.
MEASURED_CEILINGS = pytest.StashKey[dict]()
#: The rows skipped in this session, ``{id: reason}``, recorded with the run (``skipped``).
SKIPPED = pytest.StashKey[dict]()


def timed_seconds(benchmark) -> float | None:
    """The median round time when pytest-benchmark timed the call, else None."""
    stats = getattr(benchmark, "stats", None)
    return None if not stats else float(stats.stats.median)


#: Most timed rounds of one row, whatever ``Preset.min_time_s`` asks for.
MAX_ROUNDS = 100


def rounds_for(round_s: float, rounds: int, min_time_s: float) -> int:
    """Timed rounds for a call of ``round_s`` seconds.

    ``rounds``, or as many more as fill ``min_time_s`` (at most :data:`MAX_ROUNDS`).
    """
    if min_time_s <= 0:
        return rounds
    return max(rounds, min(MAX_ROUNDS, math.ceil(min_time_s / max(round_s, 1e-9))))


def _seconds(fn: Callable) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pedantic(benchmark, fn: Callable, *, rounds: int, warmup_rounds: int,
             min_time_s: float = 0.0):
    """``benchmark.pedantic(fn)``: its result, the seconds of one round, and whether timed.

    The seconds are pytest-benchmark's median round, or the wall time of the untimed call.
    With ``min_time_s``, a timed row first makes its warm-up calls itself (at least one,
    and one more when that was shorter than ``min_time_s``: a library's first call can
    carry a one-time cost, statsmodels' 0.3-0.4 s), and times as many rounds as fill
    ``min_time_s`` at the fastest of them (:func:`rounds_for`). The median of 3 rounds of
    a 26 ms call spans 0.1 s, and on a shared machine a slow spell of that length moved a
    whole row by up to 1.5x, while the same program's other row in the run did not move.
    """
    if min_time_s > 0 and not benchmark.disabled:
        warm = [_seconds(fn) for _ in range(max(1, warmup_rounds))]
        if warm[-1] < min_time_s:
            warm.append(_seconds(fn))
        rounds, warmup_rounds = rounds_for(min(warm), rounds, min_time_s), 0
    start = time.perf_counter()
    result = benchmark.pedantic(fn, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    untimed_s = time.perf_counter() - start
    seconds = timed_seconds(benchmark)
    return result, (untimed_s if seconds is None else seconds), seconds is not None


def store(benchmark, record: CaseRecord) -> CaseRecord:
    """Put ``record`` in the benchmark's ``extra_info`` (the one writer of a row)."""
    benchmark.extra_info.update(case_to_json(record))
    return record


def bench_case(benchmark, case: Case, preset: Preset, ceilings: dict | None = None, *,
               profile: pathlib.Path | None = None) -> CaseRecord:
    """Benchmark one case of ours; return its record (also stored in ``extra_info``).

    With ``ceilings`` (:func:`bench.roofline.measure_ceilings`) the row also gets achieved
    GFLOP/s, GB/s and the % of its roofline bound. With ``profile``, one more call, after
    the timed rounds, is traced into ``profile / case.id`` (:func:`bench.timing.profile_call`).
    """
    prepared = runner.prepare(case, preset)
    benchmark.group = f"{case.kind}:{case.model}"
    result, seconds, timed = pedantic(benchmark, lambda: runner.run(prepared),
                                      rounds=preset.rounds,
                                      warmup_rounds=preset.warmup_rounds,
                                      min_time_s=preset.min_time_s)
    if profile is not None:
        profile_call(lambda: runner.run(prepared), profile / case.id)
    evaluation, stats = runner.evaluate(prepared, result)
    summary = runner.summarize(evaluation, stats, history_step=prepared.model.history_step)
    record = store(benchmark, runner.case_record(
        case, preset, summary, seconds=seconds, timed=timed, compile_s=prepared.compile_s,
        chunk_size=prepared.chunk_size, ceilings=ceilings))
    # Never NaN dressed up as converged, whatever the data.
    assert record.nan_converged == 0, record.status_counts
    assert sum(record.status_counts.values()) == case.n_datasets
    return record


def bench_baseline(benchmark, pair: baselines.BaselineCase, preset: Preset) -> CaseRecord:
    """Time a reference library fitting the first data sets of its case, one at a time.

    The data sets are those of our float64 case of the same model and regime (float32 when
    the model has no float64 case), converted to float64.
    """
    library, entry = catalog.library(pair.library), catalog.model(pair.model)
    dtype = catalog.reference_dtype(entry)
    case = Case(pair.model, pair.regime, dtype, catalog.n_datasets_cap(entry, preset),
                *catalog.regime_sizes(pair.regime, preset))
    data = runner.prepare_data(case, preset)
    k = max(2, preset.baseline_datasets // library.subset_divisor)
    X = np.asarray(data.X_train[:k], np.float64)
    y = np.asarray(data.y_train[:k])
    budget = catalog.budget(entry, preset)
    benchmark.group = f"baseline:{pair.model}"

    def loop():
        return [library.fit(X[i], y[i], entry.settings, budget) for i in range(len(X))]

    fitted, seconds, timed = pedantic(benchmark, loop, rounds=preset.rounds, warmup_rounds=0,
                                      min_time_s=preset.min_time_s)
    converged = None
    if library.converged is not None:
        converged = float(np.mean([bool(library.converged(f, budget)) for f in fitted]))
    return store(benchmark, CaseRecord(
        kind="baseline", name=pair.id, baseline=library.label, model=pair.model,
        regime=pair.regime, dtype="float64", n_datasets=int(len(X)),
        n_samples=int(X.shape[1]), n_features=int(X.shape[2] - 1), preset=preset.name,
        seed=preset.seed, timed=timed, seconds=seconds,
        **device_info(), fits_per_s=len(X) / seconds, converged_frac=converged))


def skip_row(config, row_id: str, reason: str) -> None:
    """Skip this benchmark row, and record why with the run (its README says so)."""
    config.stash.setdefault(SKIPPED, {})[row_id] = reason
    pytest.skip(reason)


def bench_peer(benchmark, config, peer_case, preset: Preset) -> CaseRecord:
    """Time a peer fitting the data sets of our case of its model and regime, in one batch.

    Those of our float64 case (the GLM), else of the model's first dtype (the MLP, float32).
    A JAX peer is compiled ahead (the compile time is recorded) and timed blocked, as ours;
    afterwards, untimed, its coefficients (GLM) or final losses (MLP) are compared with our
    fit of the same data sets. A peer whose library is not installed is skipped with the
    reason (:func:`skip_row`).
    """
    from bench import peers

    entry = catalog.peer(peer_case.peer)
    reason = peers.unavailable(entry.name)
    if reason:
        skip_row(config, peer_case.id, reason)
    from bench.adapters import batched_fit
    from bench.datasets import dataset_keys

    model = catalog.model(entry.model)
    dtype = catalog.reference_dtype(model)
    case = Case(entry.model, peer_case.regime, dtype, catalog.n_datasets_cap(model, preset),
                *catalog.regime_sizes(peer_case.regime, preset))
    data = runner.prepare_data(case, preset)
    keys = dataset_keys(runner.case_keys(preset)[1], 0, case.n_datasets)
    budget = catalog.budget(model, preset)  # the GLM's: peers.MAX_ITER, R's maxit
    run, compile_s = peers.prepare(entry.name, keys, data.X_train, data.y_train,
                                   max_iter=budget)
    benchmark.group = f"peer:{entry.model}"
    fitted, seconds, timed = pedantic(benchmark, run, rounds=preset.rounds,
                                      warmup_rounds=preset.warmup_rounds,
                                      min_time_s=preset.min_time_s)
    ours = batched_fit(entry.model, preset)(keys, data.X_train, data.y_train)
    n_iter = np.asarray(fitted.n_iter)
    agreement = {}
    if fitted.coef is not None:
        difference = np.max(np.abs(np.asarray(fitted.coef) - np.asarray(ours.coef)), axis=1)
        agreement["coef_diff_median"] = float(np.median(difference))
    if fitted.final_loss is not None:
        history, last = np.asarray(ours.history), np.maximum(np.asarray(ours.n_iter) - 1, 0)
        difference = np.abs(np.asarray(fitted.final_loss) - history[np.arange(len(last)), last])
        agreement.update(loss_diff_median=float(np.median(difference)),
                         loss_diff_max=float(np.max(difference)))
    return store(benchmark, CaseRecord(
        kind="peer", name=peer_case.id, baseline=entry.label, model=entry.model,
        regime=peer_case.regime, dtype=dtype, n_datasets=case.n_datasets,
        n_samples=case.n_samples, n_features=case.n_features, preset=preset.name,
        seed=preset.seed, timed=timed, seconds=seconds,
        compile_s=compile_s, **device_info(), fits_per_s=case.n_datasets / seconds,
        converged_frac=(None if fitted.converged is None
                        else float(np.mean(np.asarray(fitted.converged, bool)))),
        max_iter=budget, n_iter_median=float(np.median(n_iter)),
        n_iter_max=int(n_iter.max()), tolerance=entry.tolerance,
        converged_scope=entry.flag, **agreement,
    ))
