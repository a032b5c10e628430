"""Benchmark presets: how big each benchmark case is, as data.

``smoke`` is what plain ``pytest`` runs (tiny, timing disabled, so CI keeps every benchmark
module alive); ``quick`` is what ``pytest --benchmark`` runs by default (3-5 minutes on a
2-core CPU: 3 min 17 s for the run of 2026-12-01); ``gpu`` scales to 100,000 data sets per
case and sweeps ``n_datasets`` over powers of ten for the throughput plot.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Preset", "PRESETS", "get_preset"]


class Preset(NamedTuple):
    """Sizes and timing settings of one benchmark preset.

    Attributes:
        name: ``"smoke"``, ``"quick"`` or ``"gpu"``.
        n_datasets: data sets per benchmark case.
        n_samples: training points per data set.
        n_features: features per data set (the design matrix has one more column).
        n_test: held-out points per data set.
        sweep: ``n_datasets`` values for the throughput-scaling rows.
        baseline_datasets: how many of the same data sets the reference libraries fit, one at
            a time, to time them per fit.
        rounds: timed rounds per case (pytest-benchmark ``pedantic``).
        warmup_rounds: untimed rounds before them.
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


PRESETS: dict[str, Preset] = {
    "smoke": Preset("smoke", n_datasets=4, n_samples=40, n_features=3, n_test=40,
                    sweep=(3,), baseline_datasets=2, rounds=1, warmup_rounds=0,
                    perceptron_epochs=20, mlp_steps=50, mlp_n_datasets=4,
                    resampled=("iris",), norm_iterations=(2,), norm_datasets=4),
    "quick": Preset("quick", n_datasets=1000, n_samples=200, n_features=10, n_test=200,
                    sweep=(10, 100, 1000), baseline_datasets=20, rounds=3, warmup_rounds=1,
                    perceptron_epochs=100, mlp_steps=2000, mlp_n_datasets=200),
    "gpu": Preset("gpu", n_datasets=100_000, n_samples=200, n_features=10, n_test=200,
                  sweep=(100, 1000, 10_000, 100_000), baseline_datasets=20, rounds=3,
                  warmup_rounds=1, perceptron_epochs=100, mlp_steps=2000,
                  mlp_n_datasets=100_000),
}


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
