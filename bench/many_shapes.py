"""``python -m bench.many_shapes``: data sets of many shapes, fitted one at a time.

What a statistician does with real data sets, or a simulation study that varies ``n``:
``glm.fit(X, y)`` called once per data set, every data set of a different shape
(``n`` from 20 to 2,000, ``p`` from 2 to 12, each pair distinct; binomial, with an
intercept, labels from a logistic model), in one process. It reports the time of each
call, split by whether the call compiled a new program (``glm.fit`` pads the rows to a few
sizes, so most shapes share one), the number of programs compiled, the process's peak
resident memory and its memory maps at the end (Linux: ``vm.max_map_count`` caps them,
65,530 by default).

``--no-padding`` calls ``jax.jit(glm.fit)`` instead: the same fit, traced per shape as a
caller's own ``jit`` is, so that every shape compiles (the behaviour before padding).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

__all__ = ["shapes", "measure", "main"]


def shapes(count: int, seed: int = 0) -> list[tuple[int, int]]:
    """``count`` distinct ``(n, p)`` pairs, ``20 <= n <= 2000`` and ``2 <= p <= 12``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pairs: dict[tuple[int, int], None] = {}
    while len(pairs) < count:
        pairs[(int(rng.integers(20, 2001)), int(rng.integers(2, 13)))] = None
    return list(pairs)


def _maps() -> int | None:
    try:
        return sum(1 for _ in Path("/proc/self/maps").open())
    except OSError:
        return None


def measure(count: int, *, padding: bool = True, progress: bool = True) -> dict:
    """Fit ``count`` data sets of distinct shapes one at a time; the figures above."""
    import jax
    import numpy as np

    from models import glm

    jax.config.update("jax_enable_x64", True)
    fit = glm.fit if padding else jax.jit(glm.fit)
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **_: compiles.append(seconds)
        if event == "/jax/core/compile/backend_compile_duration" else None)
    rng = np.random.default_rng(1)
    new, seen, statuses = [], [], {}
    for k, (n, p) in enumerate(shapes(count)):
        X = np.c_[np.ones(n), rng.normal(size=(n, p - 1))]
        y = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.normal(size=p) * 0.5))).astype(float)
        before = len(compiles)
        start = time.perf_counter()
        result = jax.block_until_ready(fit(X, y))
        elapsed = time.perf_counter() - start
        (new if len(compiles) > before else seen).append(elapsed)
        name = glm.Status(int(result.status)).name.lower()
        statuses[name] = statuses.get(name, 0) + 1
        if progress and (k + 1) % 50 == 0:
            print(f"  {k + 1}/{count} data sets, {len(new)} programs compiled",
                  file=sys.stderr, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"data_sets": count, "programs": len(new), "seconds": sum(new) + sum(seen),
            "mean_new_shape_s": statistics.fmean(new + seen),
            "mean_compiling_call_s": statistics.fmean(new) if new else 0.0,
            "mean_cached_call_s": statistics.fmean(seen) if seen else 0.0,
            "peak_rss_mib": peak / 1024, "maps": _maps(), "statuses": statuses}


def main(argv: list[str] | None = None) -> int:
    """The command line: fit the data sets, print the figures as a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.many_shapes",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000,
                        help="data sets, each of its own shape (default 1000)")
    parser.add_argument("--no-padding", action="store_true",
                        help="jax.jit(glm.fit): every shape compiles its own program")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    figures = measure(args.count, padding=not args.no_padding)
    from tabulate import tabulate

    print(tabulate([(key, value) for key, value in figures.items()],
                   headers=("glm.fit, one data set per call", "value"), floatfmt=".3f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
