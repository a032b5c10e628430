"""What each model and regime of the benchmark is, said once (no JAX).

Every other module reads this catalog and keeps no copy: the matrix (:mod:`bench.cases`),
the data generators (:mod:`bench.datasets`, one per regime), the fits
(:mod:`bench.adapters`, one per family), the reference libraries (:mod:`bench.baselines`),
the pytest-benchmark suite, the work model of the roofline columns, and the tables, sentences
and plots of :mod:`bench.report`. A model's place in :data:`MODELS` is its place in every
table; likewise for :data:`REGIMES`.

Adding a model variant is one :class:`Model` entry (``tests/test_catalog.py`` adds an MLP
with 16 hidden units this way and checks that it reaches every table and plot); a test walks
the catalog and fails when an entry lacks a piece (a label, an adapter for its family, a work
model, a generator for a regime).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

__all__ = [
    "Family", "Regime", "Model", "Pairing", "FAMILIES", "REGIMES", "MODELS",
    "CLASSIFICATION_REGIMES", "GLM_MAX_ITER", "HISTORY_POINTS", "model", "models", "regime",
    "regimes", "family_of", "budget", "history_step", "n_datasets_cap", "CatalogError",
]

#: IRLS iterations of every GLM entry, R's ``glm.control(maxit = 25)``.
GLM_MAX_ITER = 25
#: Histories longer than this are subsampled (every k-th step) for the published curves.
HISTORY_POINTS = 200


class CatalogError(ValueError):
    """A name that the catalog does not hold; the message lists the names it does."""


class Family(NamedTuple):
    """What the models of one family share.

    Attributes:
        name: ``"perceptron"``, ``"glm"`` or ``"mlp"``; also the key of its adapter in
            :mod:`bench.adapters` and its pytest marker.
        iteration_unit: what one iteration is, plural, for tables and plot axes.
        loss_name: the loss its history records (``final_loss`` is its last value).
        mistake_bound: its updates have Novikoff's bound on separable data (the tables and
            plots show the ratio for these models only).
        n_datasets_cap: a :class:`~bench.presets.Preset` field capping its data sets per
            case (the slowest family fits fewer), or None.
        replayed_rule: the name of another library's stopping rule that its adapter
            replays on each fit's history (the tables show where it would have stopped),
            or None.
    """

    name: str
    iteration_unit: str
    loss_name: str
    mistake_bound: bool = False
    n_datasets_cap: str | None = None
    replayed_rule: str | None = None


class Regime(NamedTuple):
    """One kind of synthetic data (the generator is ``bench.datasets.GENERATORS[name]``).

    Attributes:
        name: the regime's name.
        response: the GLM family of its responses (``"binomial"``: 0/1 labels).
        color: its colour in the plots.
    """

    name: str
    response: str
    color: str


class Pairing(NamedTuple):
    """A reference library that fits the same model on some of its regimes.

    Attributes:
        library: a key of ``bench.baselines.LIBRARIES``.
        regimes: the regimes it is timed on.
    """

    library: str
    regimes: tuple[str, ...]


#: ``(n, p, itemsize, settings) -> (FLOPs, bytes)`` of one iteration on one data set.
WorkModel = Callable[[int, int, int, Mapping], tuple[float, float]]


class Model(NamedTuple):
    """One model of the matrix.

    Attributes:
        name: its name in tables, ids and ``--model``.
        label: what it is, in words (the convergence table's header).
        family: a key of :data:`FAMILIES`.
        regimes: the regimes it runs on, in table order.
        dtypes: the dtypes it runs in.
        settings: the keyword settings its family's adapter fits it with (GLM ``family``
            and ``firth``; MLP ``hidden``).
        budget: its iteration budget: a number, or the :class:`~bench.presets.Preset` field
            that holds it.
        work: its analytic work model (see :mod:`bench.roofline`).
        color: its colour in the plots.
        scaling: ``(regime, dtype)`` of its throughput sweep over ``n_datasets``, or None.
        baselines: the reference libraries timed against it.
    """

    name: str
    label: str
    family: str
    regimes: tuple[str, ...]
    dtypes: tuple[str, ...]
    settings: Mapping
    budget: int | str
    work: WorkModel
    color: str
    scaling: tuple[str, str] | None = None
    baselines: tuple[Pairing, ...] = ()


FAMILIES: dict[str, Family] = {
    "perceptron": Family("perceptron", "epochs", "mistakes / n per epoch", mistake_bound=True),
    "glm": Family("glm", "iterations", "deviance / n"),
    "mlp": Family("mlp", "gradient steps", "cross-entropy", n_datasets_cap="mlp_n_datasets",
                  replayed_rule="scikit-learn's rule"),
}

REGIMES: tuple[Regime, ...] = (
    Regime("separable", "binomial", "tab:blue"),
    Regime("overlap", "binomial", "tab:orange"),
    Regime("xor", "binomial", "tab:green"),
    Regime("circles", "binomial", "tab:red"),
    Regime("poisson", "poisson", "tab:purple"),
    Regime("gamma", "gamma", "tab:brown"),
    Regime("gaussian", "gaussian", "tab:gray"),
)

CLASSIFICATION_REGIMES = tuple(r.name for r in REGIMES if r.response == "binomial")


# ----------------------------------------------------------------------- work models
# Per data set of n points and p columns (intercept included), per iteration. These are
# lower bounds on what a straightforward implementation does, so the GFLOP/s they give are
# conservative.


def glm_work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """IRLS's FLOPs and bytes of one iteration.

    ``np(p + 1) + 8np + p^3/3`` FLOPs (symmetric Gram, gradient, linear predictor,
    Cholesky), one read of X, y and the weights; Firth's exact Hessian adds
    ``2np(p + 1) + 2np^2 + 2np^3 + p^3/3`` and two more reads of X.
    """
    flops = n * p * (p + 1) + 8 * n * p + p**3 / 3
    moved = n * (p + 2) * itemsize
    if settings.get("firth"):
        # Newton on the exact Hessian: L^-1 X^T (np^2), the curvature Gram (np(p + 1)), the
        # p^2 products of whitened rows (np^2) and their product with X (2np^3), and the
        # Gram and Cholesky of the line search's candidate (np(p + 1) + p^3/3).
        flops += 2 * n * p * (p + 1) + 2 * n * p * p + 2 * n * p**3 + p**3 / 3
        moved += 2 * n * p * itemsize
    return flops, moved


def perceptron_work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """``4np`` FLOPs per epoch (score, update), one read of X and y."""
    del settings
    return 4 * n * p, n * (p + 1) * itemsize


def mlp_work(n: int, p: int, itemsize: int, settings: Mapping) -> tuple[float, float]:
    """The MLP's FLOPs and bytes of one full-batch step.

    ``6n`` FLOPs per weight (forward and backward) plus ``6n`` for the loss, one read of X
    and y: ``6nph + 6nh + 6n`` with one hidden layer of ``h`` units, ``6np + 6n`` with none.
    """
    widths = (p, *settings.get("hidden", ()), 1)
    weights = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return 6 * n * weights + 6 * n, n * (p + 1) * itemsize


_BINOMIAL_GLM = (Pairing("statsmodels_glm", ("overlap", "separable")),
                 Pairing("sklearn_logistic", ("overlap", "separable")))

MODELS: tuple[Model, ...] = (
    Model("perceptron", "Rosenblatt perceptron", "perceptron", CLASSIFICATION_REGIMES,
          ("float32",), {}, "perceptron_epochs", perceptron_work, "tab:blue",
          scaling=("separable", "float32"),
          baselines=(Pairing("sklearn_perceptron", ("separable", "overlap")),)),
    Model("glm", "binomial GLM (logit), IRLS", "glm", CLASSIFICATION_REGIMES,
          ("float32", "float64"), {"family": "binomial", "firth": False}, GLM_MAX_ITER,
          glm_work, "tab:orange", scaling=("overlap", "float64"), baselines=_BINOMIAL_GLM),
    Model("glm_firth", "Firth logistic regression, exact Newton", "glm", CLASSIFICATION_REGIMES,
          ("float32", "float64"), {"family": "binomial", "firth": True}, GLM_MAX_ITER,
          glm_work, "tab:olive"),
    Model("glm_poisson", "Poisson GLM (log), IRLS", "glm", ("poisson",),
          ("float32", "float64"), {"family": "poisson", "firth": False}, GLM_MAX_ITER,
          glm_work, "tab:purple", baselines=(Pairing("statsmodels_glm", ("poisson",)),)),
    Model("glm_gamma", "gamma GLM (inverse), IRLS", "glm", ("gamma",),
          ("float32", "float64"), {"family": "gamma", "firth": False}, GLM_MAX_ITER,
          glm_work, "tab:brown", baselines=(Pairing("statsmodels_glm", ("gamma",)),)),
    Model("mlp0", "MLP hidden=() (logistic regression by adam)", "mlp",
          CLASSIFICATION_REGIMES, ("float32",), {"hidden": ()}, "mlp_steps", mlp_work,
          "tab:cyan"),
    Model("mlp8", "MLP hidden=(8,) sigmoid", "mlp", CLASSIFICATION_REGIMES, ("float32",),
          {"hidden": (8,)}, "mlp_steps", mlp_work, "tab:green", scaling=("xor", "float32"),
          baselines=(Pairing("sklearn_mlp", ("xor", "circles")),)),
)


def models() -> tuple[Model, ...]:
    """Every model, in table order (read at call time, so a test may extend the catalog)."""
    return MODELS


def _named(entries: tuple, name: str, what: str):
    for entry in entries:
        if entry.name == name:
            return entry
    raise CatalogError(f"unknown {what} {name!r}; choose one of "
                       f"{', '.join(e.name for e in entries)} (bench/catalog.py).")


def model(name: str) -> Model:
    """The catalog entry of model ``name``.

    Raises:
        CatalogError: naming the models, if there is no such model.
    """
    return _named(MODELS, name, "model")


def regimes() -> tuple[Regime, ...]:
    """Every regime, in table order."""
    return REGIMES


def regime(name: str) -> Regime:
    """The catalog entry of regime ``name``.

    Raises:
        CatalogError: naming the regimes, if there is no such regime.
    """
    return _named(REGIMES, name, "regime")


def family_of(name: str) -> Family:
    """The :class:`Family` of model ``name`` (:class:`CatalogError` if it is unknown)."""
    return FAMILIES[model(name).family]


def budget(entry: Model, preset) -> int:
    """The iteration budget of ``entry`` at ``preset`` (a :class:`~bench.presets.Preset`)."""
    return int(getattr(preset, entry.budget) if isinstance(entry.budget, str) else entry.budget)


def history_step(max_iter: int) -> int:
    """The stride that keeps a history of ``max_iter`` entries to :data:`HISTORY_POINTS`."""
    return max(1, -(-max_iter // HISTORY_POINTS))


def n_datasets_cap(entry: Model, preset) -> int:
    """Data sets per case of ``entry``: the preset's, or its family's smaller cap."""
    cap = FAMILIES[entry.family].n_datasets_cap
    return preset.n_datasets if cap is None else min(preset.n_datasets, getattr(preset, cap))
