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
    "Family", "Regime", "RealData", "Model", "Pairing", "Peer", "FAMILIES", "REGIMES",
    "MODELS", "PEERS", "CLASSIFICATION_REGIMES", "RESAMPLED_REGIMES", "GLM_MAX_ITER",
    "HISTORY_POINTS", "model", "models", "regime", "regimes", "family_of", "budget",
    "history_step", "n_datasets_cap", "regime_sizes", "peers", "CatalogError",
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


class RealData(NamedTuple):
    """A real data set that ships with scikit-learn, as a two-class problem.

    Attributes:
        loader: the ``sklearn.datasets`` function that returns it (``"load_wine"``).
        classes: the two target values kept, ``(label 0, label 1)``.
        columns: the feature columns kept, or None for all.
        n_samples: its rows once the two classes are kept.
        n_features: its feature columns once ``columns`` are kept.
        description: what it is, in words, for the tables.
    """

    loader: str
    classes: tuple[int, int]
    columns: tuple[int, ...] | None
    n_samples: int
    n_features: int
    description: str


class Regime(NamedTuple):
    """One kind of data (the generator is ``bench.datasets.GENERATORS[name]``).

    Attributes:
        name: the regime's name.
        response: the GLM family of its responses (``"binomial"``: 0/1 labels).
        color: its colour in the plots.
        data: for a resampled regime, the real data set whose bootstrap resamples it draws
            (its sizes are the data's, not the preset's); None for a synthetic regime.
    """

    name: str
    response: str
    color: str
    data: RealData | None = None


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
        settings: the keyword settings its family's adapter fits it with (GLM ``family``,
            ``firth`` and optionally ``separation``; MLP ``hidden``).
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
    Regime("quasi", "binomial", "tab:cyan"),
    Regime("xor", "binomial", "tab:green"),
    Regime("circles", "binomial", "tab:red"),
    Regime("poisson", "poisson", "tab:purple"),
    Regime("gamma", "gamma", "tab:brown"),
    Regime("gaussian", "gaussian", "tab:gray"),
    # Bootstrap resamples of real data: each data set is n draws with replacement from the
    # n rows (features standardised over all rows, as scikit-learn's examples do); its test
    # set is the original rows. The separability of the full data was checked by a linear
    # program (tests/test_resampled.py checks it again).
    Regime("cancer", "binomial", "tab:pink", RealData(
        "load_breast_cancer", (0, 1), tuple(range(10)), 569, 10,
        "breast cancer (Wisconsin), its 10 'mean' features, malignant (0) vs benign (1): "
        "not linearly separable")),
    Regime("wine", "binomial", "goldenrod", RealData(
        "load_wine", (1, 2), None, 119, 13,
        "wine cultivars 1 (0) vs 2 (1), 13 chemical measurements: linearly separable")),
    Regime("iris", "binomial", "teal", RealData(
        "load_iris", (1, 2), None, 100, 4,
        "iris versicolor (0) vs virginica (1), 4 measurements: not linearly separable")),
)

#: The synthetic regimes with 0/1 labels.
CLASSIFICATION_REGIMES = tuple(r.name for r in REGIMES
                               if r.response == "binomial" and r.data is None)
#: The bootstrap-resampled real data sets (all with 0/1 labels).
RESAMPLED_REGIMES = tuple(r.name for r in REGIMES if r.data is not None)
_CLASSIFIERS = CLASSIFICATION_REGIMES + RESAMPLED_REGIMES


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


_BINOMIAL_GLM = (Pairing("statsmodels_glm", ("overlap", "separable", "quasi")),
                 Pairing("sklearn_logistic", ("overlap", "separable", "quasi")))

MODELS: tuple[Model, ...] = (
    Model("perceptron", "Rosenblatt perceptron", "perceptron", _CLASSIFIERS,
          ("float32",), {}, "perceptron_epochs", perceptron_work, "tab:blue",
          scaling=("separable", "float32"),
          baselines=(Pairing("sklearn_perceptron", ("separable", "overlap")),)),
    Model("glm", "binomial GLM (logit), IRLS", "glm", _CLASSIFIERS,
          ("float32", "float64"), {"family": "binomial", "firth": False}, GLM_MAX_ITER,
          glm_work, "tab:orange", scaling=("overlap", "float64"), baselines=_BINOMIAL_GLM),
    # The same fit without its separation verdict (``separation=False``), timed in the same
    # run: what the verdict costs the headline row.
    Model("glm_no_verdict", "binomial GLM (logit), IRLS, separation=False", "glm",
          ("overlap",), ("float64",), {"family": "binomial", "firth": False,
                                       "separation": False}, GLM_MAX_ITER, glm_work,
          "sienna"),
    Model("glm_firth", "Firth logistic regression, exact Newton", "glm", _CLASSIFIERS,
          ("float32", "float64"), {"family": "binomial", "firth": True}, GLM_MAX_ITER,
          glm_work, "tab:olive"),
    Model("glm_poisson", "Poisson GLM (log), IRLS", "glm", ("poisson",),
          ("float32", "float64"), {"family": "poisson", "firth": False}, GLM_MAX_ITER,
          glm_work, "tab:purple", baselines=(Pairing("statsmodels_glm", ("poisson",)),)),
    Model("glm_gamma", "gamma GLM (inverse), IRLS", "glm", ("gamma",),
          ("float32", "float64"), {"family": "gamma", "firth": False}, GLM_MAX_ITER,
          glm_work, "tab:brown", baselines=(Pairing("statsmodels_glm", ("gamma",)),)),
    Model("mlp0", "MLP hidden=() (logistic regression by adam)", "mlp",
          _CLASSIFIERS, ("float32",), {"hidden": ()}, "mlp_steps", mlp_work,
          "tab:cyan"),
    Model("mlp8", "MLP hidden=(8,) sigmoid", "mlp", _CLASSIFIERS, ("float32",),
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


def regime_sizes(name: str, preset) -> tuple[int, int, int]:
    """``(n_samples, n_features, n_test)`` of regime ``name`` at ``preset``.

    A synthetic regime takes the preset's sizes; a resampled one its data's (its test set
    is the original rows).
    """
    data = regime(name).data
    if data is None:
        return preset.n_samples, preset.n_features, preset.n_test
    return data.n_samples, data.n_features, data.n_samples


# ----------------------------------------------------------------------- JAX peers


class Peer(NamedTuple):
    """A JAX library that fits the same model on a batch of data sets, in the same run.

    Attributes:
        name: its key (``bench.peers.PEERS[name]`` fits it) and pytest id.
        label: its name in tables.
        module: the module it needs (a missing one skips its rows, with the reason).
        model: the catalog model whose data sets (float64 case) and budget it fits.
        regimes: the regimes it is run on.
        batching: how it fits many data sets, as its documentation recommends.
        tolerance: the stopping rule and tolerance it runs at (the one nearest ours), and
            its default, in words.
        flag: what its convergence flag covers (``"one per data set"`` or ``"one for the
            whole batch"``).
    """

    name: str
    label: str
    module: str
    model: str
    regimes: tuple[str, ...]
    batching: str
    tolerance: str
    flag: str


PEERS: tuple[Peer, ...] = (
    Peer("tfp_glm", "TensorFlow Probability tfp.glm.fit (JAX substrate)",
         "tensorflow_probability.substrates.jax", "glm", ("separable", "overlap"),
         "native batch: one call on [B, n, p]",
         "‖Δcoef‖ / (1 + ‖coef‖) < 1e-8 on every data set of the batch (default 1e-5), "
         "at most 25 iterations", "one for the whole batch"),
    Peer("glmax", "glmax IRLSFitter", "glmax", "glm", ("separable", "overlap"),
         "jax.vmap over data sets",
         "absolute change of the negative log-likelihood < 1e-8 (default 1e-3), at most 25 "
         "iterations", "one per data set"),
)


def peers() -> tuple[Peer, ...]:
    """Every JAX peer, in table order."""
    return PEERS
