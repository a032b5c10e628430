"""The bootstrap interval of a speed ratio against scipy's ``bootstrap`` on fixed rounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import bootstrap

from bench.intervals import LEVEL, MIN_ROUNDS, speed_ratio_interval

#: scipy and we draw different resamples; both estimate the same percentiles.
BOOTSTRAP_RTOL = 0.03

ROUNDS = {  # (ours, our data sets, theirs, their data sets)
    "tight": ([0.101, 0.099, 0.1, 0.102, 0.098, 0.1, 0.103], 1000, [2.9, 3.1, 3.0, 3.05, 2.95],
              20),
    "noisy": ([0.1, 0.13, 0.09, 0.2, 0.11, 0.1, 0.12, 0.15, 0.095], 1000,
              [0.31, 0.28, 0.45, 0.3, 0.29, 0.33], 20),
}


@pytest.mark.parametrize("name", ROUNDS)
def test_the_interval_is_scipys_percentile_bootstrap(name):
    ours, n_ours, theirs, n_theirs = ROUNDS[name]
    low, high = speed_ratio_interval(ours, n_ours, theirs, n_theirs)

    def ratio(a, b, axis=-1):
        return (n_ours / np.median(a, axis=axis)) / (n_theirs / np.median(b, axis=axis))

    reference = bootstrap((np.array(ours), np.array(theirs)), ratio, n_resamples=20_000,
                          confidence_level=LEVEL, method="percentile", vectorized=True,
                          rng=np.random.default_rng(1)).confidence_interval
    assert low == pytest.approx(reference.low, rel=BOOTSTRAP_RTOL)
    assert high == pytest.approx(reference.high, rel=BOOTSTRAP_RTOL)
    point = ratio(np.array(ours), np.array(theirs))
    assert low <= point <= high
    # Seeded: the published interval is what a reader recomputes from the JSON.
    assert speed_ratio_interval(ours, n_ours, theirs, n_theirs) == (low, high)


def test_too_few_rounds_give_no_interval():
    few = [0.1] * (MIN_ROUNDS - 1)
    assert speed_ratio_interval(few, 10, [1.0, 1.1, 1.2], 1) is None
    assert speed_ratio_interval([1.0, 1.1, 1.2], 1, few, 10) is None
