"""Sizes a machine cannot hold, refused before anything is compiled (no JAX).

:func:`bench.cases.chunk_bytes` estimates what the chunk program of a case needs. The
functions here compare it with what a run may use, and when it does not fit, say which
option to change and to what: ``--n-features``, ``--n-samples`` or ``--n-test`` when one
data set does not fit, ``--chunk-size`` when a chunk does not. Otherwise such a run would
compile for seconds, then die of ``RESOURCE_EXHAUSTED`` or be killed for want of memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bench.cases import Case, chunk_bytes

__all__ = ["Budget", "CPU_SHARE", "cpu_budget", "device_budget", "dataset_problem",
           "chunk_problem"]

#: The share of a CPU machine's memory a run may use: the rest is the system's, and the
#: process's own (Python, JAX, the compiled programs).
CPU_SHARE = 0.8


class Budget(NamedTuple):
    """What a run may use: ``size`` bytes, and ``what`` those are, for messages."""

    size: int
    what: str


def _gib(size: float) -> str:
    gib = size / 2**30
    return f"{gib:,.0f}" if gib >= 10 else f"{gib:,.1f}"


def cpu_budget(memory: int | None) -> Budget | None:
    """The budget on a CPU machine of ``memory`` bytes (None where it is not known)."""
    if not memory:
        return None
    size = int(CPU_SHARE * memory)
    return Budget(size, f"the {_gib(size)} GiB a run may use of this machine's "
                        f"{_gib(memory)} GiB")


def device_budget(memory_stats: dict | None) -> Budget | None:
    """The budget on an accelerator, from its ``memory_stats()`` (None on CPU)."""
    limit = (memory_stats or {}).get("bytes_limit")
    if not limit:
        return None
    return Budget(int(limit), f"the {_gib(limit)} GiB that JAX may use on the device")


def _largest(fits: Callable[[int], bool], low: int, high: int) -> int:
    """The largest ``v`` in ``[low, high]`` with ``fits(v)``, given ``fits(low)``."""
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _size_fix(case: Case, limit: int) -> str:
    """Which size option to lower, and to what, so that one data set fits in ``limit``."""
    def need(**sizes) -> int:
        return chunk_bytes(case._replace(**sizes), 1)

    follows = case.n_test == case.n_samples  # --n-test follows --n-samples unless given

    def points(value: int) -> dict:
        if follows:
            return {"n_samples": value, "n_test": value}
        return {"n_samples": value} if case.n_samples >= case.n_test else {"n_test": value}

    points_flag = "--n-samples" if follows or case.n_samples >= case.n_test else "--n-test"
    current = max(case.n_samples, case.n_test) if not follows else case.n_samples
    minimum = 2 if points_flag == "--n-samples" else 1
    fewer_points, fewer_features = need(**points(minimum)), need(n_features=1)
    choices = []
    if fewer_features <= limit:
        choices.append((fewer_features, "--n-features", _largest(
            lambda v: need(n_features=v) <= limit, 1, case.n_features)))
    if fewer_points <= limit:
        choices.append((fewer_points, points_flag, _largest(
            lambda v: need(**points(v)) <= limit, minimum, current)))
    if not choices:
        return f"choose fewer --n-features and a smaller {points_flag}"
    _, flag, value = min(choices)  # the size whose term dominates: lowering it saves most
    return f"choose {flag} {value} or fewer"


def dataset_problem(case: Case, budget: Budget | None, *, options: bool = True
                    ) -> str | None:
    """Why one data set of ``case`` does not fit in ``budget``, or None if it does.

    Args:
        case: the case.
        budget: what the run may use (None: not known, nothing is refused).
        options: the sizes came from command-line options, so the message names the one to
            lower; else (a recorded run) it says the machine cannot run it.
    """
    need = chunk_bytes(case, 1)
    if budget is None or need <= budget.size:
        return None
    matrices = chunk_bytes(case, 0)  # what does not scale with the data set's points
    mostly = "its p x p matrices" if 2 * matrices > need else "copies of its design matrix"
    what = (f"one data set of {case.n_samples:,} + {case.n_test:,} points at "
            f"{case.n_features:,} features needs about {_gib(need)} GiB (mostly {mostly}), "
            f"more than {budget.what}")
    if not options:
        return f"{what}: this machine cannot run it."
    return f"{what}: {_size_fix(case, budget.size)}."


def chunk_problem(case: Case, chunk_size: int, budget: Budget | None, *,
                  devices: int = 1) -> str | None:
    """Why a chunk of ``chunk_size`` data sets of ``case`` does not fit, or None.

    One data set must fit (:func:`dataset_problem`). A chunk is shared by ``devices``
    devices, each with ``budget``.
    """
    per_device = -(-chunk_size // devices)
    need = chunk_bytes(case, per_device)
    if budget is None or need <= budget.size:
        return None
    largest = _largest(lambda size: chunk_bytes(case, size) <= budget.size, 1, per_device)
    where = " on each device" if devices > 1 else ""
    return (f"a chunk of {chunk_size:,} data sets needs about {_gib(need)} GiB{where}, more "
            f"than {budget.what}: choose --chunk-size {largest * devices} or less.")
