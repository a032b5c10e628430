"""``python -m bench.grouping``'s statistics: per-round ratios, and the best chunk."""

from __future__ import annotations

import pytest

from bench.grouping import summarise

SIZES = {"plain": 1000, "chunk 16": 1000, "chunk 32": 1000, "plain large": 16_000}


def test_rates_best_chunk_and_paired_ratios():
    seconds = {"plain": [1.0, 2.0, 1.0], "chunk 16": [0.9, 1.8, 0.9],
               "chunk 32": [0.95, 1.9, 1.0], "plain large": [16.0, 32.0, 16.0]}
    summary = summarise(seconds, SIZES)
    assert summary.rates == pytest.approx(
        {"plain": 1000.0, "chunk 16": 1000 / 0.9, "chunk 32": 1000.0, "plain large": 1000.0})
    assert summary.best == "chunk 16"
    assert summary.vs_best == pytest.approx(0.9)  # 0.9 in every round
    assert summary.vs_small == pytest.approx(1.0)
    assert summary.vs_best_of_medians == pytest.approx(0.9)


def test_a_round_that_loads_only_plain_moves_the_medians_not_the_paired_ratio():
    # Round 2 slowed plain's call only; round 3 slowed both.
    seconds = {"plain": [1.0, 2.0, 2.0], "chunk 16": [0.95, 1.0, 1.9],
               "plain large": [16.0, 32.0, 32.0]}
    summary = summarise(seconds, {k: SIZES[k] for k in seconds})
    assert summary.vs_best == pytest.approx(0.95)
    assert summary.vs_best_of_medians == pytest.approx(0.5)


def test_no_chunk_smaller_than_the_batch_is_a_clear_error():
    with pytest.raises(ValueError, match="no hand-chunked variant"):
        summarise({"plain": [1.0], "plain large": [16.0]}, SIZES)
