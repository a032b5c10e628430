"""Bootstrap intervals for speed figures from their timed rounds (no JAX).

A row's speed is its data sets over the median of its rounds; a ratio of two rows' speeds
(ours over a reference library's, or two rows of ours) gets a percentile bootstrap
interval: each row's rounds are resampled with replacement, independently, and the ratio
of the resampled medians' speeds is taken :data:`RESAMPLES` times (Efron & Tibshirani
1993, ch. 13). The generator is seeded, so a run's published interval is reproducible from
its JSON.
"""

from __future__ import annotations

import numpy as np

__all__ = ["speed_ratio_interval", "LEVEL", "RESAMPLES", "MIN_ROUNDS", "SEED"]

#: Coverage of the interval.
LEVEL = 0.95
#: Bootstrap resamples of each interval.
RESAMPLES = 4000
#: Rounds each row needs for an interval; with fewer, the median of a resample is one of
#: too few values for the percentiles to mean anything.
MIN_ROUNDS = 3
SEED = 0


def _medians(rounds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``[RESAMPLES]`` medians of the rounds resampled with replacement."""
    picks = rng.integers(0, rounds.size, size=(RESAMPLES, rounds.size))
    return np.median(rounds[picks], axis=1)


def speed_ratio_interval(top_rounds, top_n, bottom_rounds, bottom_n
                         ) -> tuple[float, float] | None:
    """The :data:`LEVEL` interval of ``(top_n / median(top)) / (bottom_n / median(bottom))``.

    Args:
        top_rounds: the top row's round times in seconds.
        top_n: the data sets each of its rounds fitted.
        bottom_rounds: the bottom row's round times in seconds.
        bottom_n: the data sets each of its rounds fitted.

    Returns:
        ``(low, high)``, or None when a row has fewer than :data:`MIN_ROUNDS` rounds.
    """
    top, bottom = (np.asarray(r, np.float64) for r in (top_rounds, bottom_rounds))
    if min(top.size, bottom.size) < MIN_ROUNDS:
        return None
    rng = np.random.default_rng(SEED)
    ratios = (top_n / _medians(top, rng)) / (bottom_n / _medians(bottom, rng))
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(low), float(high)
