"""Benchmark presets: how big each benchmark case is, as data.

``smoke`` is what ``pytest bench/suite`` runs (tiny, timing disabled); ``quick`` is what
``pytest --benchmark`` runs by default (about 10 minutes on a 2-core CPU); ``gpu`` scales to
100,000 data sets per case and sweeps ``n_datasets`` over powers of ten for the throughput
plot; ``gpu-dry`` is the ``gpu`` preset's whole matrix (every case, sweep point, table and
plot) at tiny sizes, so a CPU run proves it before it meets a GPU (:func:`dry_run`): plain
``pytest`` runs the benchmark suite this way, timed once and published into a temporary
folder (``tests/test_gpu_dry_run.py``), which keeps every benchmark module alive in CI.

The ``gpu`` preset is sized for one H200 in about 8 minutes for the whole run; how that
estimate was made is in ``docs/presets.md``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Preset", "PRESETS", "dry_run", "get_preset"]


class Preset(NamedTuple):
    """Sizes and timing settings of one benchmark preset.

    Attributes:
        name: ``"smoke"``, ``"quick"``, ``"gpu"`` or ``"gpu-dry"``.
        n_datasets: data sets per benchmark case.
        n_samples: training points per data set.
        n_features: features per data set (the design matrix has one more column).
        n_test: held-out points per data set.
        sweep: ``n_datasets`` values for the throughput-scaling rows.
        baseline_datasets: how many of the same data sets the reference libraries fit, one at
            a time, to time them per fit.
        rounds: timed rounds per case (pytest-benchmark ``pedantic``), at least.
        warmup_rounds: untimed rounds before them.
        min_time_s: the timed rounds of a fit, baseline or peer row are as many as fill
            at least this many seconds (at most 100; judged from the last warm-up call), so
            that their median outlasts a slow spell of a shared machine; 0: ``rounds``.
        perceptron_epochs: ``max_epochs`` for the perceptron.
        mlp_steps: ``max_iter`` (full-batch steps) for the MLP.
        mlp_n_datasets: data sets per MLP case (its ``mlp_steps`` full-batch steps make it
            the slowest model; the sweep is capped at this size for the MLP too).
        seed: the root PRNG seed of every case.
        resampled: the resampled real-data regimes it runs (None: every one of the
            catalog's).
        norm_iterations: the iterations ``k`` at which the coefficient-norm figure
            refits with ``max_iter = k`` (one compilation each).
        norm_datasets: data sets of the coefficient-norm figure (at most ``n_datasets``).
    """

    name: str
    n_datasets: int
    n_samples: int
    n_features: int
    n_test: int
    sweep: tuple[int, ...]
    baseline_datasets: int
    rounds: int
    warmup_rounds: int
    perceptron_epochs: int
    mlp_steps: int
    mlp_n_datasets: int
    seed: int = 0
    resampled: tuple[str, ...] | None = None
    norm_iterations: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12)
    norm_datasets: int = 200
    min_time_s: float = 0.0


PRESETS: dict[str, Preset] = {
    "smoke": Preset("smoke", n_datasets=4, n_samples=40, n_features=3, n_test=40,
                    sweep=(3,), baseline_datasets=2, rounds=1, warmup_rounds=0,
                    perceptron_epochs=20, mlp_steps=50, mlp_n_datasets=4,
                    resampled=("iris",), norm_iterations=(2,), norm_datasets=4),
    "quick": Preset("quick", n_datasets=1000, n_samples=200, n_features=10, n_test=200,
                    sweep=(10, 100, 1000), baseline_datasets=20, rounds=3, warmup_rounds=1,
                    perceptron_epochs=100, mlp_steps=2000, mlp_n_datasets=200,
                    min_time_s=0.5),
    "gpu": Preset("gpu", n_datasets=100_000, n_samples=200, n_features=10, n_test=200,
                  sweep=(100, 1000, 10_000, 100_000), baseline_datasets=20, rounds=3,
                  warmup_rounds=1, perceptron_epochs=100, mlp_steps=2000,
                  mlp_n_datasets=100_000, min_time_s=0.5),
}


def dry_run(preset: Preset) -> Preset:
    """``preset``'s whole matrix at sizes a CPU runs in seconds: ``<name>-dry``.

    The same cases and the same number of sweep points (so every table and plot of the
    real run exists), each with a handful of data sets of 30 points, 10 perceptron
    epochs and 20 MLP steps, one refit of the coefficient-norm figure; one timed round,
    no warm-up.
    """
    return preset._replace(
        name=f"{preset.name}-dry", n_datasets=1 + len(preset.sweep), n_samples=30,
        n_features=3, n_test=30, sweep=tuple(range(2, 2 + len(preset.sweep))),
        baseline_datasets=2, rounds=1, warmup_rounds=0, perceptron_epochs=10, mlp_steps=20,
        mlp_n_datasets=1 + len(preset.sweep), norm_iterations=preset.norm_iterations[:1],
        norm_datasets=1 + len(preset.sweep), min_time_s=0.0)


PRESETS["gpu-dry"] = dry_run(PRESETS["gpu"])


def get_preset(name: str) -> Preset:
    """Return the preset called ``name``.

    Raises:
        ValueError: naming the presets, if there is no such preset.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown benchmark preset {name!r}; choose one of {', '.join(PRESETS)}."
        ) from None
