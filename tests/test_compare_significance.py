"""compare's significance test: a one-sided Mann–Whitney U on the rounds, with the factor.

The p-value is checked against an exact enumeration of our own; the gate against runs
whose rounds are planted in the smoke run's JSON.
"""

from __future__ import annotations

import itertools
import json
import pathlib

import numpy as np
import pytest

from bench.report import compare
from bench.report.compare import ALPHA, slower_p

FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"


def _exact_p(old, new) -> float:
    """P(U >= u) over every equally likely split of the pooled rounds (no ties)."""
    pooled, u = np.r_[old, new], sum(n > o for n in new for o in old)
    splits = list(itertools.combinations(range(len(pooled)), len(new)))
    count = sum(sum(pooled[i] > pooled[j] for i in chosen for j in set(range(len(pooled)))
                    - set(chosen)) >= u for chosen in splits)
    return count / len(splits)


@pytest.mark.parametrize("old, new", [
    ([1.0, 1.1, 1.2], [1.3, 1.4, 1.5]),  # every new round slower: 1/20
    ([1.0, 1.2, 1.4, 1.6], [1.1, 1.5, 1.7, 1.8, 1.9]),
    ([2.0, 2.1, 2.2, 2.3], [1.0, 1.1, 2.15, 3.0]),
])
def test_the_p_value_is_the_exact_one(old, new):
    assert slower_p(old, new) == pytest.approx(_exact_p(old, new), abs=1e-12)


def _run(tmp_path, name: str, rounds) -> pathlib.Path:
    """The smoke run with each timed row's rounds, median and seconds set from ``rounds``."""
    run = json.loads(FIXTURE.read_text())
    for benchmark in run["benchmarks"]:
        info, scale = benchmark["extra_info"], benchmark["stats"]["median"]
        benchmark["stats"]["data"] = [scale * r for r in rounds]
        benchmark["stats"]["median"] = scale * float(np.median(rounds))
        if "seconds" in info:
            info["seconds"] = benchmark["stats"]["median"]
    (path := tmp_path / f"{name}.json").write_text(json.dumps(run))
    return path


def test_identical_runs_have_no_significant_change(tmp_path):
    rounds = [1.0, 1.02, 0.99, 1.05, 1.01]
    text, code = compare(_run(tmp_path, "a", rounds), _run(tmp_path, "b", rounds),
                         fail_above=1.2)
    assert code == 0 and "SLOWER" not in text and "no significant slowdown" in text


def test_past_the_factor_but_within_the_noise_passes(tmp_path):
    old, new = [1.0, 1.05, 1.1, 3.0, 3.1], [1.0, 1.02, 3.05, 3.1, 3.2]
    assert np.median(new) / np.median(old) > 1.2 and slower_p(old, new) > ALPHA
    text, code = compare(_run(tmp_path, "old", old), _run(tmp_path, "new", new),
                         fail_above=1.2)
    assert code == 0 and "not significant" in text and "SLOWER" not in text


def test_a_significant_slowdown_past_the_factor_fails(tmp_path):
    old = [1.0, 1.02, 0.99, 1.05, 1.01]
    text, code = compare(_run(tmp_path, "old", old),
                         _run(tmp_path, "new", [1.3 * r for r in old]), fail_above=1.2)
    assert code == 1 and "SLOWER" in text and "not significant" not in text
    # Significant but within the factor: a change, not a failure.
    text, code = compare(_run(tmp_path, "old", old),
                         _run(tmp_path, "new", [1.1 * r for r in old]), fail_above=1.2)
    assert code == 0 and "SLOWER" not in text


def test_one_round_each_is_never_significant(tmp_path):
    text, code = compare(_run(tmp_path, "old", [1.0]), _run(tmp_path, "new", [2.0]),
                         fail_above=1.2)
    assert code == 0 and "not significant" in text
