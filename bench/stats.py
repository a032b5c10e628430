"""Mergeable per-chunk statistics: the tables' numbers in memory that does not grow with B.

A chunk of per-data-set :class:`~bench.runner.FitOutcome` rows is reduced, inside the
compiled program, to a :class:`ChunkStats` of counts, sums, maxima and exact histograms.
Chunks (and processes) combine with :func:`merge`, and :func:`summarize_stats` turns the
total into the plain-Python fields of a benchmark row. Quantiles come from the histograms,
so they are exact for the integer-valued quantities (iterations, and accuracy, which is a
count of correct points over ``n``) with the "inverted CDF" rule (the smallest value whose
cumulative share reaches ``q``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from models import STATUS_NAMES
from models.glm import SEPARATION_NAMES, Separation

__all__ = ["ChunkStats", "reduce_chunk", "merge", "summarize_stats", "histogram_quantile"]

_N_STATUS = len(STATUS_NAMES)
_N_VERDICT = len(SEPARATION_NAMES)


class ChunkStats(NamedTuple):
    """Sufficient statistics of a set of fits; every field merges by sum, except the maxima.

    Attributes:
        n_fits: data sets counted.
        status_counts: ``[n_status]`` count of each :class:`~models.Status` code.
        converged, separated, not_finite, nan_converged: counts.
        n_iter_hist: ``[max_iter + 1]`` histogram of iterations.
        n_iter_sum: total iterations (float64 on the host; exact for < 2**53).
        lane_iters: iterations the vmapped loop ran for its lanes: per chunk, chunk size
            times its slowest fit's iterations. ``n_iter_sum / lane_iters`` is the lane
            efficiency.
        train_correct_hist: ``[n_samples + 1]`` histogram of correctly classified training
            points (all zero for non-binary families).
        test_correct_hist: ``[n_test + 1]`` likewise on the held-out points.
        final_loss_sum, final_loss_count: sum and count of the finite final losses. The sum
            is kept in fixed point (integer units of 2**-32, :data:`LOSS_UNIT`), so it is
            exact and the same whatever the chunking or the number of processes.
        n_updates_sum: total perceptron updates.
        n_iter_max: the largest iteration count (merges by max).
        novikoff_max: the largest ``n_updates / (R / gamma)^2`` (merges by max; -inf if none).
        replay_stopped: fits the family's replayed stopping rule would have stopped.
        replay_n_iter_hist: ``[max_iter + 1]`` histogram of where it would have stopped them.
        verdict_counts: ``[n_verdict]`` data sets of each linear-programming verdict on
            separation (:class:`models.glm.Separation`; ``not_checked`` for other
            families' data).
        converged_by_verdict: ``[n_verdict]`` converged fits, by their data's verdict.
        separated_by_verdict: ``[n_verdict]`` fits the model flagged as separated, by
            their data's verdict.
    """

    n_fits: jax.Array
    status_counts: jax.Array
    converged: jax.Array
    separated: jax.Array
    not_finite: jax.Array
    nan_converged: jax.Array
    n_iter_hist: jax.Array
    n_iter_sum: jax.Array
    lane_iters: jax.Array
    train_correct_hist: jax.Array
    test_correct_hist: jax.Array
    final_loss_sum: jax.Array
    final_loss_count: jax.Array
    n_updates_sum: jax.Array
    n_iter_max: jax.Array
    novikoff_max: jax.Array
    replay_stopped: jax.Array
    replay_n_iter_hist: jax.Array
    verdict_counts: jax.Array
    converged_by_verdict: jax.Array
    separated_by_verdict: jax.Array


_MAX_FIELDS = ("n_iter_max", "novikoff_max")
#: Resolution of the fixed-point loss sum: float sums depend on the order of addition,
#: integer sums do not.
LOSS_UNIT = 2.0**-32


def reduce_chunk(evaluation, valid, *, max_iter: int, n_samples: int, n_test: int,
                 binary: bool) -> ChunkStats:
    """Reduce a chunk's per-data-set evaluation to :class:`ChunkStats` (traceable).

    Args:
        evaluation: a :class:`~bench.runner.FitOutcome` with a leading ``[C]`` axis.
        valid: ``[C]`` bool, False for padding rows that must not count.
        max_iter: the iteration budget (histogram size - 1).
        n_samples: training points per data set.
        n_test: held-out points per data set.
        binary: whether accuracies exist (binary classification).
    """
    ev = evaluation
    if not jax.config.read("jax_enable_x64"):
        raise ValueError("bench.stats needs JAX's x64 mode for its exact 64-bit counters: "
                         "call jax.config.update('jax_enable_x64', True) first.")
    count = valid.astype(jnp.int64)

    def total(flags):
        return jnp.sum(jnp.where(valid, flags, False).astype(count.dtype))

    def hist(values, size):
        values = jnp.clip(values, 0, size - 1)
        return jnp.zeros((size,), count.dtype).at[values].add(count)

    def by_verdict(flags):
        verdict = jnp.clip(ev.lp_verdict, 0, _N_VERDICT - 1)
        return jnp.zeros((_N_VERDICT,), count.dtype).at[verdict].add(flags.astype(count.dtype))

    n_iter = ev.n_iter.astype(jnp.int32)
    active_max = jnp.max(jnp.where(valid, n_iter, 0))
    if binary:
        train_correct = jnp.round(ev.train_accuracy * n_samples).astype(jnp.int32)
        test_correct = jnp.round(ev.test_accuracy * n_test).astype(jnp.int32)
        train_hist = hist(train_correct, n_samples + 1)
        test_hist = hist(test_correct, n_test + 1)
    else:
        train_hist = jnp.zeros((n_samples + 1,), count.dtype)
        test_hist = jnp.zeros((n_test + 1,), count.dtype)
    loss_ok = valid & jnp.isfinite(ev.final_loss)
    float_dtype = ev.final_loss.dtype
    return ChunkStats(
        n_fits=jnp.sum(count),
        status_counts=jnp.zeros((_N_STATUS,), count.dtype).at[
            jnp.clip(ev.status, 0, _N_STATUS - 1)].add(count),
        converged=total(ev.converged),
        separated=total(ev.separated),
        not_finite=total(~ev.finite),
        nan_converged=total(ev.converged & ~ev.finite),
        n_iter_hist=hist(n_iter, max_iter + 1),
        n_iter_sum=jnp.sum(jnp.where(valid, n_iter, 0).astype(count.dtype)),
        lane_iters=active_max.astype(count.dtype) * jnp.sum(count),
        train_correct_hist=train_hist,
        test_correct_hist=test_hist,
        final_loss_sum=jnp.sum(jnp.round(
            jnp.where(loss_ok, ev.final_loss, 0.0).astype(jnp.float64) / LOSS_UNIT
        ).astype(count.dtype)),
        final_loss_count=jnp.sum(loss_ok.astype(count.dtype)),
        n_updates_sum=jnp.sum(jnp.where(valid, ev.n_updates, 0).astype(count.dtype)),
        n_iter_max=active_max,
        novikoff_max=jnp.max(jnp.where(valid & ~jnp.isnan(ev.novikoff_ratio),
                                       ev.novikoff_ratio, -jnp.inf)).astype(float_dtype),
        replay_stopped=total(ev.replay_stopped),
        replay_n_iter_hist=jnp.zeros((max_iter + 1,), count.dtype).at[
            jnp.clip(ev.replay_n_iter, 0, max_iter)].add(
                jnp.where(ev.replay_stopped, count, 0)),
        verdict_counts=by_verdict(valid),
        converged_by_verdict=by_verdict(valid & ev.converged),
        separated_by_verdict=by_verdict(valid & ev.separated),
    )


def merge(a: ChunkStats, b: ChunkStats) -> ChunkStats:
    """Combine the statistics of two disjoint sets of fits (host-side, numpy)."""
    return ChunkStats(*[
        np.maximum(x, y) if name in _MAX_FIELDS else np.asarray(x) + np.asarray(y)
        for name, x, y in zip(ChunkStats._fields, a, b)
    ])


def histogram_quantile(hist, q: float, scale: float = 1.0):
    """The ``q`` quantile of the values ``0..len(hist)-1`` counted by ``hist``, over ``scale``.

    The smallest value whose cumulative share reaches ``q`` (numpy's "inverted_cdf"); None
    for an empty histogram.
    """
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    if total == 0:
        return None
    index = int(np.searchsorted(np.cumsum(hist), q * total - 1e-9 * total, side="left"))
    return float(index) / scale


def _hist_mean(hist, scale):
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    return None if total == 0 else float(np.dot(np.arange(hist.size), hist) / total / scale)


def summarize_stats(stats: ChunkStats) -> dict:
    """The scalar fields of a benchmark row from (merged) :class:`ChunkStats`.

    Returns:
        ``converged_frac``, ``separated_frac``, ``status_counts`` (every documented status),
        ``nan_frac``, ``nan_converged``, ``n_iter_mean/median/p90/max``,
        ``lane_efficiency``, ``train_accuracy_mean/q10``, ``test_accuracy_mean/q10``
        (None for non-binary families), ``final_loss_mean``, ``n_updates_mean``,
        ``novikoff_max_ratio`` (None where it does not apply), ``replay_stop_frac`` and
        ``replay_stop_median`` (the share of fits the replayed rule would have stopped, and
        the median of where; None when it stopped none), and from the linear program's
        verdict on each data set (None where the data are not binomial):
        ``lp_complete_frac``, ``lp_quasi_frac``, ``lp_undecided_frac``,
        ``converged_on_complete_frac`` and ``converged_on_separated_frac`` (the share
        converged among the completely / all separated data sets; None where there are
        none) and ``separated_agrees_frac`` (the share whose own separation flag says
        what the verdict says, over the decided data sets).
    """
    s = ChunkStats(*[np.asarray(field) for field in stats])
    n = int(s.n_fits)
    n_samples = s.train_correct_hist.size - 1
    n_test = s.test_correct_hist.size - 1
    return {
        "converged_frac": int(s.converged) / n,
        "separated_frac": int(s.separated) / n,
        "status_counts": {name: int(s.status_counts[code])
                          for code, name in STATUS_NAMES.items()},
        "nan_frac": int(s.not_finite) / n,
        "nan_converged": int(s.nan_converged),
        "n_iter_mean": float(s.n_iter_sum) / n,
        "n_iter_median": histogram_quantile(s.n_iter_hist, 0.5),
        "n_iter_p90": histogram_quantile(s.n_iter_hist, 0.9),
        "n_iter_max": int(s.n_iter_max),
        "lane_efficiency": (float(s.n_iter_sum) / float(s.lane_iters)
                            if float(s.lane_iters) > 0 else None),
        "train_accuracy_mean": _hist_mean(s.train_correct_hist, n_samples),
        "train_accuracy_q10": histogram_quantile(s.train_correct_hist, 0.1, n_samples),
        "test_accuracy_mean": _hist_mean(s.test_correct_hist, n_test),
        "test_accuracy_q10": histogram_quantile(s.test_correct_hist, 0.1, n_test),
        "final_loss_mean": (float(s.final_loss_sum) * LOSS_UNIT / int(s.final_loss_count)
                            if int(s.final_loss_count) else None),
        "n_updates_mean": float(s.n_updates_sum) / n,
        "novikoff_max_ratio": (float(s.novikoff_max) if np.isfinite(s.novikoff_max)
                               else None),
        "replay_stop_frac": int(s.replay_stopped) / n,
        "replay_stop_median": histogram_quantile(s.replay_n_iter_hist, 0.5),
        **_verdict_fields(s, n),
    }


def _verdict_fields(s: ChunkStats, n: int) -> dict:
    """The fields read against the linear program's verdict (see :func:`summarize_stats`)."""
    counts = {code: int(s.verdict_counts[code]) for code in Separation}
    if counts[Separation.NOT_CHECKED] == n:
        return dict.fromkeys(("lp_complete_frac", "lp_quasi_frac", "lp_undecided_frac",
                              "converged_on_complete_frac", "converged_on_separated_frac",
                              "separated_agrees_frac"))
    separated = (Separation.COMPLETE, Separation.QUASI)
    n_separated = sum(counts[c] for c in separated)
    decided = n_separated + counts[Separation.OVERLAP]
    agree = (sum(int(s.separated_by_verdict[c]) for c in separated)
             + counts[Separation.OVERLAP] - int(s.separated_by_verdict[Separation.OVERLAP]))

    def share(part, whole):
        return part / whole if whole else None

    return {
        "lp_complete_frac": counts[Separation.COMPLETE] / n,
        "lp_quasi_frac": counts[Separation.QUASI] / n,
        "lp_undecided_frac": counts[Separation.UNDECIDED] / n,
        "converged_on_complete_frac": share(int(s.converged_by_verdict[Separation.COMPLETE]),
                                            counts[Separation.COMPLETE]),
        "converged_on_separated_frac": share(
            sum(int(s.converged_by_verdict[c]) for c in separated), n_separated),
        "separated_agrees_frac": share(agree, decided),
    }
