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

    def fn():  # a first call with a one-time cost of 0.3 s, then 10 ms calls
        calls.append(None)
        time.sleep(0.3 if len(calls) == 1 else 0.01)
        return len(calls)

    benchmark = Recorder(disabled=False)
    result, _, timed = pedantic(benchmark, fn, rounds=3, warmup_rounds=1, min_time_s=0.4)
    rounds, warmup, iterations = benchmark.asked
    # Two warm-up calls (the first was under 0.4 s too), the rounds judged from the 10 ms
    # one: at most 40, and more than 3 unless that call took over 0.1 s.
    assert 3 < rounds <= 40 and warmup == 0 and iterations == 1
    assert len(calls) == 2 + rounds and result == len(calls) and not timed


def test_a_long_call_keeps_the_fixed_rounds_and_one_warm_up():
    calls = []
    benchmark = Recorder(disabled=False)
    pedantic(benchmark, lambda: calls.append(time.sleep(0.05)), rounds=3, warmup_rounds=1,
             min_time_s=0.04)
    assert benchmark.asked == (3, 0, 1) and len(calls) == 1 + 3


@pytest.mark.parametrize("disabled, min_time_s", [(True, 0.1), (False, 0.0)])
def test_untimed_rows_and_fixed_rounds_are_left_alone(disabled, min_time_s):
    calls = []
    benchmark = Recorder(disabled=disabled)
    pedantic(benchmark, lambda: calls.append(None), rounds=3, warmup_rounds=1,
             min_time_s=min_time_s)
    assert benchmark.asked == (3, 1, 1) and len(calls) == 4
