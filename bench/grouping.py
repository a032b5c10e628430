"""``python -m bench.grouping``: is plain ``jax.jit(jax.vmap(fit))`` as fast as hand chunking?

For each model (GLM float32 and float64 on overlap data, perceptron float32 on separable
data, MLP float32 on xor data; n = 200, p = 11 as in the ``quick`` preset) this times, in
one process and round-robin so that a shared machine's load falls on every variant alike:

* **plain**: ``jax.jit(jax.vmap(fit))`` over the whole batch, the call the README shows,
  at ``B = 1000`` and ``B = 16,000``; the model's batching rule picks its groups;
* **one group**: the same with ``group_size=B``, the whole batch as one group of lanes
  (what every model but the MLP did before its rule grouped);
* **hand-chunked**: ``jax.jit(lambda X, y: lax.map(fit_c, (X, y), batch_size=c))`` for each
  chunk ``c`` of a list, where ``fit_c`` is the fit with ``group_size=c``, so each chunk of
  ``lax.map`` is exactly one group of ``c`` lanes; the best ``c`` is reported.

Each variant is compiled and run once untimed, then timed ``--repeats`` times (blocked),
each timed call right after an untimed call of the same program. A *round* times every
variant once. The table gives median fits/s, and the ratios that say whether the public
path is as fast as hand-chunking, as medians of per-round ratios (:func:`summarise`):
plain / best hand-chunked at ``B = 1000`` (the best chunk being the one of the highest
median fits/s) and plain at ``B = 16,000`` / plain at 1000. Per-round ratios cancel the
load that a shared machine puts on one round; the ratio of the medians, also printed, does
not, and comparing with the largest of several noisy medians favours the chunked side.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Subject", "SUBJECTS", "measure", "summarise", "main"]


class Subject(NamedTuple):
    """One row of the table: a model's public fit on one regime and dtype."""

    name: str
    regime: str
    dtype: str
    fit: Callable  # (key, X, y, group_size) -> result, for ONE data set
    chunks: tuple[int, ...]  # hand-chunk sizes to try


def _subjects(perceptron_epochs: int, mlp_steps: int) -> list[Subject]:
    from models import glm, mlp, perceptron

    def glm_fit(key, X, y, group_size):
        return glm.fit(X, y, group_size=group_size)

    def perceptron_fit(key, X, y, group_size):
        return perceptron.fit(X, y, max_epochs=perceptron_epochs, group_size=group_size)

    def mlp_fit(key, X, y, group_size):
        return mlp.fit(key, X, y, hidden=(8,), max_iter=mlp_steps, group_size=group_size)

    glm_chunks = (16, 32, 64, 128, 256)
    return [
        Subject("glm", "overlap", "float64", glm_fit, glm_chunks),
        Subject("glm", "overlap", "float32", glm_fit, glm_chunks),
        Subject("perceptron", "separable", "float32", perceptron_fit, (32, 64, 128, 256, 512)),
        Subject("mlp8", "xor", "float32", mlp_fit, (8, 16, 32, 64, 128)),
    ]


#: The names :func:`main` accepts for ``--models``.
SUBJECTS = ("glm", "perceptron", "mlp8")


def _programs(subject: Subject, n_datasets: int, chunks) -> dict[str, Callable]:
    import jax
    from jax import lax

    def plain(keys, X, y):
        return jax.vmap(functools.partial(subject.fit, group_size=None))(keys, X, y)

    programs = {"plain": jax.jit(plain)}
    one = functools.partial(subject.fit, group_size=n_datasets)
    programs["one group"] = jax.jit(jax.vmap(one))
    for chunk in chunks:
        fit_c = functools.partial(subject.fit, group_size=chunk)
        programs[f"chunk {chunk}"] = jax.jit(functools.partial(
            lambda fit_c, chunk, keys, X, y: lax.map(lambda a: fit_c(*a), (keys, X, y),
                                                     batch_size=chunk), fit_c, chunk))
    return programs


def _data(subject: Subject, n_datasets: int, n_samples: int, n_features: int):
    import jax

    from bench import datasets

    data = datasets.make(subject.regime, jax.random.key(0), n_datasets=n_datasets,
                         n_samples=n_samples, n_features=n_features, n_test=1,
                         dtype=subject.dtype)
    keys = datasets.dataset_keys(jax.random.key(1), 0, n_datasets)
    return jax.block_until_ready((keys, data.X_train, data.y_train))


def _time(program, args) -> float:
    import jax

    start = time.perf_counter()
    jax.block_until_ready(program(*args))
    return time.perf_counter() - start


def measure(subject: Subject, *, small: int, large: int, repeats: int, n_samples: int,
            n_features: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """``(seconds, sizes)``: each variant's timed seconds, one per round, and its ``B``."""
    args_small = _data(subject, small, n_samples, n_features)
    args_large = _data(subject, large, n_samples, n_features)
    chunks = [c for c in subject.chunks if c < small]
    programs = _programs(subject, small, chunks)
    plain_large = _programs(subject, large, ())["plain"]
    variants = [(name, program, args_small, small) for name, program in programs.items()]
    variants.append(("plain large", plain_large, args_large, large))
    for _, program, args, _ in variants:  # compile and warm up, untimed
        _time(program, args)
    seconds: dict[str, list[float]] = {name: [] for name, *_ in variants}
    for _ in range(repeats):
        for name, program, args, _ in variants:
            # An untimed call first: a run right after a larger one was up to 1.4x slower
            # here (fresh buffers to fault in), which would favour whichever variant comes
            # after a small one.
            _time(program, args)
            seconds[name].append(_time(program, args))
    return seconds, {name: size for name, _, _, size in variants}


class Summary(NamedTuple):
    """What one subject's rounds say (see :func:`summarise`)."""

    rates: dict[str, float]  # median fits/s of each variant
    best: str  # the hand-chunked variant of the highest median fits/s
    vs_best: float  # median over rounds of plain fits/s / best's fits/s
    vs_small: float  # median over rounds of plain-large fits/s / plain fits/s
    vs_best_of_medians: float  # plain's median fits/s / best's median fits/s


def summarise(seconds: dict[str, list[float]], sizes: dict[str, int]) -> Summary:
    """Median rates and the public path's two ratios (module docstring) from per-round timings.

    Args:
        seconds: each variant's seconds, one per round, rounds in the same order for all
            (``"plain"``, ``"plain large"`` and ``"chunk <c>"`` variants among them).
        sizes: each variant's number of data sets.
    """
    def rate(name, t):
        return sizes[name] / t

    rates = {name: rate(name, statistics.median(times)) for name, times in seconds.items()}
    chunked = [name for name in rates if name.startswith("chunk")]
    if not chunked:
        raise ValueError("no hand-chunked variant: every chunk size is >= the small B")
    best = max(chunked, key=rates.get)

    def paired(a, b):
        return statistics.median(rate(a, ta) / rate(b, tb)
                                 for ta, tb in zip(seconds[a], seconds[b]))

    return Summary(rates, best, paired("plain", best), paired("plain large", "plain"),
                   rates["plain"] / rates[best])


def _group_size(subject: Subject, n_datasets: int, n_samples: int, n_features: int) -> int:
    """The group size the model's rule picks on CPU (:func:`models.cpu_group_size`)."""
    from models import cpu_group_size

    model = {"glm": "glm", "perceptron": "perceptron", "mlp8": "mlp"}[subject.name]
    return cpu_group_size(model, n_datasets, n_samples, n_features + 1, subject.dtype,
                          hidden=(8,) if model == "mlp" else ())


def main(argv=None) -> int:
    """Print the table; exit status 1 if a ratio is below ``--min-ratio``."""
    parser = argparse.ArgumentParser(prog="python -m bench.grouping", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=SUBJECTS, default=list(SUBJECTS))
    parser.add_argument("--dtypes", nargs="+", choices=("float32", "float64"),
                        default=["float32", "float64"])
    parser.add_argument("--small", type=int, default=1000, help="the B of the first columns")
    parser.add_argument("--large", type=int, default=16_000, help="the large B")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each variant")
    parser.add_argument("--n-samples", type=int, default=200)
    parser.add_argument("--n-features", type=int, default=10, help="plus an intercept")
    parser.add_argument("--perceptron-epochs", type=int, default=100)
    parser.add_argument("--mlp-steps", type=int, default=200,
                        help="MLP steps (the quick preset's 2000 make B=16,000 minutes long)")
    parser.add_argument("--min-ratio", type=float, default=0.9)
    args = parser.parse_args(argv)

    import jax
    from tabulate import tabulate

    jax.config.update("jax_enable_x64", True)
    rows, ok = [], True
    for subject in _subjects(args.perceptron_epochs, args.mlp_steps):
        if subject.name not in args.models or subject.dtype not in args.dtypes:
            continue
        summary = summarise(*measure(subject, small=args.small, large=args.large,
                                     repeats=args.repeats, n_samples=args.n_samples,
                                     n_features=args.n_features))
        rates, best = summary.rates, summary.best
        vs_best, vs_small = summary.vs_best, summary.vs_small
        ok &= vs_best >= args.min_ratio and vs_small >= args.min_ratio
        group = _group_size(subject, args.small, args.n_samples, args.n_features)
        group_large = _group_size(subject, args.large, args.n_samples, args.n_features)
        rows.append([subject.name, subject.regime, subject.dtype, f"{group} / {group_large}",
                     round(rates["plain"]), round(rates["one group"]),
                     f"{round(rates[best])} ({best.split()[1]})",
                     round(rates["plain large"]), f"{vs_best:.2f}",
                     f"{summary.vs_best_of_medians:.2f}", f"{vs_small:.2f}"])
        print(f"{subject.name} {subject.dtype}: " + ", ".join(
            f"{name} {rate:,.0f}" for name, rate in rates.items()), flush=True)
    headers = ["model", "regime", "dtype", "group (B small / large)",
               f"plain B={args.small}", "one group", "best lax.map (chunk)",
               f"plain B={args.large}", "plain / best (paired)", "of the medians",
               "large / small (paired)"]
    print(tabulate(rows, headers=headers, tablefmt="github", intfmt=","))
    print(f"fits/s, medians of {args.repeats} rounds; ratios, medians of per-round ratios "
          f"(and plain's median over the best's); n = {args.n_samples}, "
          f"p = {args.n_features + 1}; backend {jax.default_backend()}, "
          f"{jax.device_count()} device(s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
