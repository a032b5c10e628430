"""The batched runner: fit one model on a batch of data sets and reduce what happened.

For each :class:`~bench.cases.Case` the runner

1. generates the batch once (:func:`bench.datasets.make`), outside any timing;
2. compiles ``jax.jit(jax.vmap(fit))`` ahead of time and records the compile time;
3. runs it over the whole case in one call (timed by the caller, pytest-benchmark;
   chunked only where the data sets would not fit in :data:`CHUNK_BYTES`; ``python -m
   bench run`` uses :mod:`bench.scale`, which generates each chunk inside its program
   instead, to bound memory at a million data sets);
4. evaluates every fit (accuracy on train and test, final loss, Novikoff ratio) in a second
   compiled program, and reduces the per-data-set results to plain-Python statistics
   (:func:`summarize`) for ``extra_info`` and the published tables.

The fit that is timed is exactly what a user writes: ``jax.jit(jax.vmap(models.X.fit))``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bench import catalog, datasets
from bench.adapters import Adapter, adapter
from bench.cases import Case, dataset_bytes
from bench.interrupts import interrupts_deferred
from bench.presets import Preset
from bench.record import CaseRecord
from bench.roofline import roofline_fields
from bench.stats import merge, reduce_chunk, summarize_stats
from bench.timing import compile_ahead, device_info
from models import STATUS_NAMES, glm, multinomial
from models.glm import Separation

__all__ = ["FitOutcome", "Prepared", "prepare", "prepare_data", "run", "evaluate",
           "evaluate_one", "evaluate_chunk", "lp_verdicts", "summarize", "history_summary",
           "gap_summary", "default_chunk_size", "memory_chunk_size", "case_keys",
           "case_record"]


class FitOutcome(NamedTuple):
    """Per-data-set outcome of one case, ``[B]`` unless noted.

    Attributes:
        status: int32 status codes (:mod:`models._status`).
        n_iter: iterations (GLM), epochs (perceptron) or steps (MLP) run.
        converged: bool.
        separated: bool, the GLM's separation flag (False for the other models).
        train_accuracy: training accuracy (NaN where the responses are not labels).
        test_accuracy: held-out accuracy (NaN where the responses are not labels).
        final_loss: GLM deviance / n, MLP mean cross-entropy, perceptron mistakes / n in its
            last epoch.
        n_updates: perceptron updates (0 for the other models).
        novikoff_ratio: ``n_updates / (R / gamma)^2`` on separable data (NaN otherwise).
        finite: bool, every fitted parameter is finite.
        replay_stopped: bool, the family's replayed rule (:attr:`bench.catalog.ModelFamily.
            replayed_rule`) would have stopped the fit within its history (False where the
            family has none).
        replay_n_iter: int32, the iterations the fit would have run under that rule.
        lp_verdict: int32, the linear program's verdict on the data set's separation
            (:func:`models.glm.separation`; ``not_checked`` for other families' data).
        history: ``[B, T]`` the loss/deviance/mistakes history, forward-filled after the stop
            (a stopped fit keeps its final value) and subsampled to at most
            :data:`bench.families.base.HISTORY_POINTS` points.
    """

    status: jax.Array
    n_iter: jax.Array
    converged: jax.Array
    separated: jax.Array
    train_accuracy: jax.Array
    test_accuracy: jax.Array
    final_loss: jax.Array
    n_updates: jax.Array
    novikoff_ratio: jax.Array
    finite: jax.Array
    replay_stopped: jax.Array
    replay_n_iter: jax.Array
    lp_verdict: jax.Array
    history: jax.Array


def _forward_fill(history):
    """Replace the NaN tail of a history by its last value (NaN only when nothing ran)."""
    ran = ~jnp.isnan(history)
    index = jnp.where(ran, jnp.arange(history.shape[0]), -1)
    last = jax.lax.cummax(index)
    return jnp.where(last >= 0, history[jnp.maximum(last, 0)], jnp.nan)


class Prepared(NamedTuple):
    """A case ready to time: its data, its compiled chunk fit and the fit's inputs."""

    case: Case
    model: Adapter
    data: datasets.Datasets
    keys: jax.Array
    compiled: Callable
    compile_s: float
    chunk_size: int
    preset: Preset


#: Default data sets per chunk of ``python -m bench run`` (:mod:`bench.scale`), by
#: backend: chunks bound its memory and pace its progress bar. The timed pytest rows do
#: not chunk (:func:`prepare`); the models' own batching rules pick their groups.
DEFAULT_CHUNK_SIZE = {"cpu": 256, "gpu": 65_536, "cuda": 65_536, "rocm": 65_536,
                      "tpu": 65_536}


#: Without a chunk size, a chunk is kept to about this many bytes (large ``n_features``).
CHUNK_BYTES = 2**30


def default_chunk_size(case: Case | None = None) -> int:
    """The chunk size for the default JAX backend (:data:`DEFAULT_CHUNK_SIZE`).

    With ``case``, no larger than keeps the chunk's data sets to about :data:`CHUNK_BYTES`
    (:func:`bench.cases.dataset_bytes`): at 100,000 features a perceptron data set of 400
    points holds about 500 MB, so 256 of them would not fit.
    """
    size = DEFAULT_CHUNK_SIZE.get(jax.default_backend(), 4096)
    if case is None:
        return size
    return max(1, min(size, CHUNK_BYTES // dataset_bytes(case)))


def case_keys(preset: Preset):
    """(data key, fit key) of every case: the same data sets for every model and dtype."""
    return jax.random.split(jax.random.key(preset.seed))


def prepare_data(case: Case, preset: Preset) -> datasets.Datasets:
    """The case's data sets: the same for every model that runs on this regime and size."""
    data_key, _ = case_keys(preset)
    return datasets.make(
        case.regime, data_key, n_datasets=case.n_datasets, n_samples=case.n_samples,
        n_features=case.n_features, n_test=case.n_test, dtype=case.dtype,
    )


def _chunks(n_datasets: int, chunk_size: int):
    """``(start, stop)`` of each chunk; the last may be short (it is padded when run)."""
    return [(s, min(s + chunk_size, n_datasets)) for s in range(0, n_datasets, chunk_size)]


def _pad_rows(tree, rows: int):
    """Pad the leading axis to ``rows`` by repeating the first row (real data, dropped)."""
    def pad(leaf):
        missing = rows - leaf.shape[0]
        if missing == 0:
            return leaf
        return jnp.concatenate([leaf, jnp.repeat(leaf[:1], missing, axis=0)], axis=0)

    return jax.tree.map(pad, tree)


def memory_chunk_size(case: Case) -> int:
    """Data sets per timed call: the whole case, unless its data are too big.

    A case whose data sets hold more than :data:`CHUNK_BYTES`
    (:func:`bench.cases.dataset_bytes`, as at 100,000 features) is cut into chunks of as
    many as fit in that.
    """
    return max(1, min(case.n_datasets, CHUNK_BYTES // dataset_bytes(case)))


def prepare(case: Case, preset: Preset, *, chunk_size: int | None = None) -> Prepared:
    """Generate the case's data and compile its fit (nothing here is timed).

    The compiled program is ``jax.jit(jax.vmap(fit))`` over the whole case, exactly what
    a user writes (each model's batching rule then runs its own cache-sized groups on
    CPU); only a case whose data sets would not fit in :data:`CHUNK_BYTES` is cut into
    chunks (:func:`memory_chunk_size`), or into ``chunk_size`` when given.
    """
    model = adapter(case.model, preset)
    with interrupts_deferred("generating the data sets"):  # its first call compiles
        data = jax.block_until_ready(prepare_data(case, preset))
    keys = datasets.dataset_keys(case_keys(preset)[1], 0, case.n_datasets)
    chunk = min(chunk_size or memory_chunk_size(case), case.n_datasets)
    compiled, compile_s = compile_ahead(
        jax.vmap(model.fit), keys[:chunk], data.X_train[:chunk], data.y_train[:chunk])
    return Prepared(case, model, data, keys, compiled, compile_s, chunk, preset)


def run(prepared: Prepared) -> list:
    """One blocked run of the chunked fit over the whole batch; returns the chunk results.

    Every chunk is dispatched before blocking, so the device never waits on the host.
    """
    chunk, outputs = prepared.chunk_size, []
    for lo, hi in _chunks(prepared.case.n_datasets, chunk):
        args = _pad_rows((prepared.keys[lo:hi], prepared.data.X_train[lo:hi],
                          prepared.data.y_train[lo:hi]), chunk)
        outputs.append(prepared.compiled(*args))
    return jax.block_until_ready(outputs)


def evaluate_one(model: Adapter, regime: str, result, data, verdict) -> FitOutcome:
    """The :class:`FitOutcome` of one fitted data set (traceable; vmap it for a batch).

    ``verdict`` is the linear program's verdict on the data set (:func:`lp_verdicts`).
    """
    return _outcome(model, regime == "separable", result, data, verdict)


def _outcome(model: Adapter, novikoff: bool | None, result, data, verdict) -> FitOutcome:
    """:func:`evaluate_one`, told whether the data set has a Novikoff ratio.

    ``novikoff`` None decides it in the program, from whether the data set has a realised
    margin (only a separable one has: :class:`bench.datasets.Datasets`), so that one
    program evaluates every regime.
    """
    fields = model.evaluate(result, data)
    fields.setdefault("replay_stopped", jnp.zeros((), bool))
    fields.setdefault("replay_n_iter", jnp.zeros((), jnp.int32))
    history = _forward_fill(fields.pop("history"))[:: model.history_step]
    own = fields.pop("novikoff_ratio", None)  # a family's own mistake bound (K classes)
    if own is not None:
        ratio = own
    elif novikoff is False:
        ratio = jnp.asarray(jnp.nan, data.X_train.dtype)
    else:
        # Novikoff (1962) for the intercept-augmented vectors: gamma is the margin of the
        # unit vector coef_true / ||coef_true|| and R the largest ||x_i||.
        radius = jnp.max(jnp.linalg.norm(data.X_train, axis=1))
        gamma = data.margin / jnp.linalg.norm(data.coef_true)
        ratio = fields["n_updates"] / (radius / gamma) ** 2
        if novikoff is None:
            ratio = jnp.where(jnp.isnan(data.margin),
                              jnp.asarray(jnp.nan, data.X_train.dtype), ratio)
    return FitOutcome(history=history, novikoff_ratio=ratio, lp_verdict=verdict, **fields)


def _verdicts(regime: str, X, y):
    """``[B]`` the linear program's verdict on each data set (traceable).

    Two classes: :func:`models.glm.separation`'s; K classes: that of
    :func:`models.multinomial.separation`; other responses: ``not_checked``.
    """
    entry = catalog.regime(regime)
    if entry.response == "multinomial":
        return _multinomial_verdicts(X, y, n_classes=entry.n_classes)
    if not entry.two_class:
        return jnp.full(y.shape[:1], Separation.NOT_CHECKED, jnp.int32)
    return _decide_separation(X, y)


#: Two-class verdicts, compiled once per shape and dtype whatever the regime.
_decide_separation = jax.jit(lambda X, y: jax.vmap(glm.separation)(X, y).verdict)


@functools.partial(jax.jit, static_argnames="n_classes")
def _multinomial_verdicts(X, y, *, n_classes: int):
    return jax.vmap(lambda X, y: multinomial.separation(X, y, n_classes))(X, y).verdict


#: Verdicts already computed in this process, by the data they were computed on.
_VERDICTS: dict[tuple, np.ndarray] = {}


def lp_verdicts(case: Case, preset: Preset, data: datasets.Datasets) -> np.ndarray:
    """``[B]`` :func:`models.glm.separation`'s verdict on each of the case's data sets.

    Every model on a regime fits the same data sets (:func:`case_keys`), so each is
    decided once per process: the verdicts of the largest case so far are kept, and a
    smaller case of the same data takes their first ``B``.
    """
    key = (case.regime, case.n_samples, case.n_features, case.n_test, case.dtype,
           preset.seed)
    known = _VERDICTS.get(key)
    if known is None or known.size < case.n_datasets:
        with interrupts_deferred("deciding the data sets' separation"):
            known = np.asarray(_verdicts(case.regime, data.X_train, data.y_train))
        _VERDICTS[key] = known
    return known[:case.n_datasets]


def evaluate_chunk(model: Adapter, case: Case, result, data, n_valid, verdicts=None):
    """Evaluate a chunk of ``C`` fits and reduce its first ``n_valid`` (traceable).

    ``verdicts [C]`` are the data sets' separation verdicts, decided here if not given.

    Returns:
        ``(FitOutcome [C], ChunkStats)``; padding rows are evaluated but not counted.
    """
    if verdicts is None:
        verdicts = _verdicts(case.regime, data.X_train, data.y_train)
    return _evaluate_chunk(model, case.regime == "separable",
                           catalog.regime(case.regime).labelled, case.n_samples, case.n_test,
                           result, data, n_valid, verdicts)


def _evaluate_chunk(model: Adapter, novikoff: bool | None, labelled: bool, n_samples: int,
                    n_test: int, result, data, n_valid, verdicts):
    """:func:`evaluate_chunk` given the verdicts and what it needs of the case.

    ``novikoff`` is as in :func:`_outcome`.
    """
    evaluation = jax.vmap(lambda r, d, v: _outcome(model, novikoff, r, d, v))(
        result, data, verdicts)
    valid = jnp.arange(data.y_train.shape[0]) < n_valid
    stats = reduce_chunk(evaluation, valid, max_iter=model.max_iter, n_samples=n_samples,
                         n_test=n_test, binary=labelled)
    return evaluation, stats


@functools.cache
def _chunk_evaluator(model: str, preset: Preset, labelled: bool, n_samples: int,
                     n_test: int) -> Callable:
    """The jitted evaluation of a chunk of ``model``'s fits, built once per setting.

    The regimes of the same sizes and responses share it (the Novikoff ratio is decided in
    the program), so that each shape and dtype is traced and compiled once per process,
    not once per case. The evaluation is untimed.
    """
    fitted = adapter(model, preset)
    return jax.jit(lambda result, data, n_valid, verdicts: _evaluate_chunk(
        fitted, None, labelled, n_samples, n_test, result, data, n_valid, verdicts))


def evaluate(prepared: Prepared, outputs: list):
    """Evaluate every chunk's fits; return ``(FitOutcome [B], merged ChunkStats)``.

    The statistics are reduced chunk by chunk, so ``lane_efficiency`` reflects the chunks
    that actually ran.
    """
    case = prepared.case
    one_chunk = _chunk_evaluator(case.model, prepared.preset,
                                 catalog.regime(case.regime).labelled, case.n_samples,
                                 case.n_test)

    with interrupts_deferred("evaluating the fits"):  # the first chunk compiles
        return _evaluate_chunks(prepared, one_chunk, outputs)


def _evaluate_chunks(prepared: Prepared, one_chunk: Callable, outputs: list):
    case, chunk = prepared.case, prepared.chunk_size
    verdicts = lp_verdicts(case, prepared.preset, prepared.data)
    evaluations, total = [], None
    for (lo, hi), result in zip(_chunks(case.n_datasets, chunk), outputs):
        rows, size = slice(lo, hi), hi - lo
        data = _pad_rows(jax.tree.map(lambda leaf, rows=rows: leaf[rows], prepared.data), chunk)
        # (jax.device_put: jnp.asarray would compile a program per size to copy them in)
        chunk_verdicts = _pad_rows(jax.device_put(verdicts[rows]), chunk)
        ev, stats = one_chunk(result, data, size, chunk_verdicts)
        evaluations.append(jax.tree.map(lambda leaf, size=size: np.asarray(leaf)[:size], ev))
        stats = jax.tree.map(np.asarray, stats)
        total = stats if total is None else merge(total, stats)
    evaluation = jax.tree.map(lambda *leaves: np.concatenate(leaves), *evaluations)
    return evaluation, total


def _quartiles(values) -> tuple[list, list, list]:
    """Per-column 25%, 50% and 75% quantiles of ``[B, T]`` values, NaN ignored.

    Three lists, with ``None`` where a column has no number.
    """
    if np.all(np.isnan(values)):
        quantiles = np.full((3, values.shape[1]), np.nan)
    else:
        quantiles = np.nanquantile(values, [0.25, 0.5, 0.75], axis=0)
    return tuple([None if np.isnan(v) else float(v) for v in row] for row in quantiles)


def history_summary(history, history_step: int) -> dict:
    """Per-iteration median and IQR over data sets of ``[B, T]`` forward-filled histories."""
    q25, median, q75 = _quartiles(np.asarray(history, dtype=np.float64))
    return {"history_step": history_step, "history_median": median,
            "history_q25": q25, "history_q75": q75}


def gap_summary(history) -> dict:
    """Per-iteration median and IQR over data sets of each fit's distance to its final loss.

    ``|history[t] - history[-1]|`` of ``[B, T]`` forward-filled histories (0 once a fit
    has stopped), for the log-scale convergence plot.
    """
    history = np.asarray(history, dtype=np.float64)
    q25, median, q75 = _quartiles(np.abs(history - history[:, -1:]))
    return {"gap_median": median, "gap_q25": q25, "gap_q75": q75}


def summarize(evaluation: FitOutcome, stats, *, history_step: int = 1) -> dict:
    """Plain Python numbers and lists for ``extra_info`` from a case's evaluation.

    Returns:
        :func:`bench.stats.summarize_stats` of the merged chunk statistics (statuses,
        iterations, ``lane_efficiency``, accuracies, losses, Novikoff ratio), plus the exact
        ``final_loss_median``, the per-iteration median and IQR of the histories and of
        each fit's distance to its final loss (:func:`gap_summary`).
    """
    out = summarize_stats(stats)
    losses = np.asarray(evaluation.final_loss, dtype=np.float64)
    losses = losses[np.isfinite(losses)]
    out["final_loss_median"] = float(np.median(losses)) if losses.size else None
    out.update(history_summary(evaluation.history, history_step))
    out.update(gap_summary(evaluation.history))
    if set(out["status_counts"]) != set(STATUS_NAMES.values()):
        raise RuntimeError(f"the status counts {sorted(out['status_counts'])} are not the "
                           f"documented statuses {sorted(STATUS_NAMES.values())}")
    return out


def case_record(case: Case, preset: Preset, summary: dict, *, seconds: float, timed: bool,
                compile_s: float, chunk_size: int, ceilings: dict | None = None,
                fits: int | None = None, **measured) -> CaseRecord:
    """The :class:`~bench.record.CaseRecord` of one case of ours, for either path.

    Args:
        case: the case.
        preset: its preset (name, seed and the model's budget are recorded).
        summary: :func:`summarize` (or :func:`bench.stats.summarize_stats` and
            :func:`history_summary`) of its fits.
        seconds: the time of one pass over its data sets.
        timed: whether ``seconds`` was measured by a timer that counts (pytest-benchmark
            enabled, or ``python -m bench run``), not a single untimed call.
        compile_s: the ahead-of-time compile time.
        chunk_size: data sets per compiled chunk.
        ceilings: :func:`bench.roofline.measure_ceilings` of this run, for % roofline.
        fits: data sets fitted in ``seconds`` (default ``case.n_datasets``).
        **measured: further fields of the row (``n_chunks``, ``process_count``, ...).
    """
    entry = catalog.model(case.model)
    fits = case.n_datasets if fits is None else fits
    if catalog.family(entry.family).replayed_rule is None:
        summary = {**summary, "replay_stop_frac": None, "replay_stop_median": None}
    fields = dict(
        kind=case.kind, name=case.id, model=case.model, model_label=entry.label,
        regime=case.regime, dtype=case.dtype, n_datasets=case.n_datasets,
        n_samples=case.n_samples, n_features=case.n_features, n_test=case.n_test,
        preset=preset.name, seed=preset.seed, max_iter=catalog.budget(entry, preset),
        **device_info(), compile_s=compile_s, chunk_size=chunk_size, timed=timed,
        seconds=seconds, fits_per_s=fits / seconds if seconds > 0 else None,
        **summary, **measured)
    fields.update(roofline_fields(fields, ceilings))
    return CaseRecord(**fields)
