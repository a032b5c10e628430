"""How many rounds a benchmark row times (``bench.suite.harness``), with a stand-in for
pytest-benchmark's fixture that records what it was asked to do."""

from __future__ import annotations

import time

import pytest

from bench.suite.harness import MAX_ROUNDS, pedantic, rounds_for


class Recorder:
    """pytest-benchmark's ``benchmark`` as far as ``pedantic`` uses it."""

    stats = None

    def __init__(self, disabled: bool):
        self.disabled, self.asked = disabled, None

    def pedantic(self, fn, *, rounds, warmup_rounds, iterations):
        self.asked = (rounds, warmup_rounds, iterations)
        for _ in range(rounds + warmup_rounds):
            result = fn()
        return result


@pytest.mark.parametrize("round_s, rounds, min_time_s, expected", [
    (0.026, 3, 0.5, 20), (1.0, 3, 0.5, 3), (0.2, 3, 0.5, 3), (1e-7, 3, 0.5, MAX_ROUNDS),
    (0.026, 3, 0.0, 3), (0.0, 5, 0.0, 5),
])
def test_rounds_fill_the_minimum_time(round_s, rounds, min_time_s, expected):
    assert rounds_for(round_s, rounds, min_time_s) == expected


def test_a_timed_row_warms_up_then_fills_the_minimum_time():
    calls = []

    def fn():
        calls.append(None)
        time.sleep(0.01)
        return len(calls)

    benchmark = Recorder(disabled=False)
    result, _, timed = pedantic(benchmark, fn, rounds=3, warmup_rounds=1, min_time_s=0.2)
    rounds, warmup, iterations = benchmark.asked
    # One warm-up call of at least 10 ms, timed by the harness itself: at most 20 rounds
    # (more than 3 unless the call took over 50 ms).
    assert 3 < rounds <= 20 and warmup == 0 and iterations == 1
    assert len(calls) == 1 + rounds and result == len(calls) and not timed


@pytest.mark.parametrize("disabled, min_time_s", [(True, 0.1), (False, 0.0)])
def test_untimed_rows_and_fixed_rounds_are_left_alone(disabled, min_time_s):
    calls = []
    benchmark = Recorder(disabled=disabled)
    pedantic(benchmark, lambda: calls.append(None), rounds=3, warmup_rounds=1,
             min_time_s=min_time_s)
    assert benchmark.asked == (3, 1, 1) and len(calls) == 4
