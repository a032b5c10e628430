"""What each model, regime, reference library and figure of the benchmark is (no JAX).

The catalog collects the family modules of :mod:`bench.families` (one per model family: its
family entry, adapter, work model, models, reference libraries and their pairings) and the
regimes of :mod:`bench.regimes`, and holds the peers and the figures. Every other
module reads it and keeps no copy: the matrix (:mod:`bench.cases`), the data generators
(:mod:`bench.datasets`), the fits (:mod:`bench.adapters`), the reference libraries
(:mod:`bench.baselines`), the pytest-benchmark suite, the work model of the roofline
columns, and the tables, sentences and plots of :mod:`bench.report`. A model's place in
:func:`models` is its place in every table; likewise for :func:`regimes`.

Everything is read at call time, from :data:`MODULES`: a new family is one module and one
line there; a plugin adds a model, a library with its pairing, a figure or a sentence by
registering a module of its own (:func:`register`; ``tests/test_catalog.py`` registers one
of each and checks that they reach every table, plot and sentence of their kind); a test
walks the catalog and fails when an entry lacks a piece (a label, an adapter for its
family, a work model, a generator for a regime).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import NamedTuple

from bench.families import glm, mlp, multiclass, perceptron
from bench.families.base import (
    LABEL_RESPONSES,
    RESPONSES,
    SENTENCE_TOPICS,
    Figure,
    Library,
    Model,
    ModelFamily,
    Pairing,
    WorkModel,
    resolve,
)
from bench.regimes import (
    CLASSIFICATION_REGIMES,
    REGIMES,
    RESAMPLED_REGIMES,
    RealData,
    Regime,
)

__all__ = [
    "ModelFamily", "Regime", "RealData", "Model", "Library", "Pairing", "Figure", "Peer",
    "WorkModel", "MODULES", "REGIMES", "PEERS", "FIGURES", "CLASSIFICATION_REGIMES",
    "RESAMPLED_REGIMES", "RESPONSES", "LABEL_RESPONSES", "CORE_PACKAGES", "SENTENCE_TOPICS",
    "register", "families", "family", "family_of", "models", "model", "separation_reference",
    "regimes", "regime", "libraries", "library", "pairings", "figures", "figure",
    "figure_of_row", "peers", "peer", "sentences", "software_packages", "budget",
    "reference_dtype", "n_datasets_cap",
    "regime_sizes", "resolve", "CatalogError",
]

#: The modules whose families, models, reference libraries, pairings, figures and regimes
#: the catalog holds, in table order (:mod:`bench.families.base` says which attributes).
#: A new family: its module here. A plugin: :func:`register`.
MODULES: list[types.ModuleType] = [perceptron, glm, mlp, multiclass]


class CatalogError(ValueError):
    """A name that the catalog does not hold; the message lists the names it does."""


def register(module: types.ModuleType) -> types.ModuleType:
    """Add ``module``'s entries to the catalog (once; a plugin calls this on import).

    Its ``FAMILY`` (or ``FAMILIES``), ``MODELS``, ``LIBRARIES``, ``PAIRINGS``, ``FIGURES``,
    ``REGIMES`` and
    ``SENTENCES``, each optional (:mod:`bench.families.base`), follow those already registered.
    """
    if module not in MODULES:
        MODULES.append(module)
    return module


def _gathered(attribute: str) -> tuple:
    return tuple(entry for module in MODULES for entry in getattr(module, attribute, ()))


def _named(entries: tuple, name: str, what: str):
    for entry in entries:
        if entry.name == name:
            return entry
    raise CatalogError(f"unknown {what} {name!r}; choose one of "
                       f"{', '.join(e.name for e in entries)} (bench/catalog.py).")


def regimes() -> tuple[Regime, ...]:
    """Every regime, in table order (then those of registered modules)."""
    return REGIMES + _gathered("REGIMES")


def regime(name: str) -> Regime:
    """The catalog entry of regime ``name``.

    Raises:
        CatalogError: naming the regimes, if there is no such regime.
    """
    return _named(regimes(), name, "regime")


# ----------------------------------------------------------------------- families, models


def families() -> tuple[ModelFamily, ...]:
    """Every model family, in table order (a module's ``FAMILY``, then its ``FAMILIES``)."""
    return tuple(entry for m in MODULES
                 for entry in ((m.FAMILY,) if getattr(m, "FAMILY", None) is not None else ())
                 + tuple(getattr(m, "FAMILIES", ())))


def family(name: str) -> ModelFamily:
    """The :class:`ModelFamily` called ``name`` (:class:`CatalogError` if none is)."""
    return _named(families(), name, "model family")


def _resolved(entry: Model, all_regimes: tuple[Regime, ...]) -> Model:
    if isinstance(entry.regimes, str):
        return entry._replace(regimes=tuple(r.name for r in all_regimes
                                            if r.response == entry.regimes))
    return entry


def models() -> tuple[Model, ...]:
    """Every model, in table order, its ``regimes`` as names.

    Read at call time from :data:`MODULES`, so a test or a plugin may extend the catalog.
    """
    all_regimes = regimes()
    return tuple(_resolved(entry, all_regimes) for entry in _gathered("MODELS"))


def model(name: str) -> Model:
    """The catalog entry of model ``name``.

    Raises:
        CatalogError: naming the models, if there is no such model.
    """
    return _named(models(), name, "model")


def separation_reference() -> Model | None:
    """The model whose separation status a table shows for all, or None.

    The first with ``separation_reference`` set (a test checks that one model at most is).
    """
    return next((entry for entry in models() if entry.separation_reference), None)


def family_of(name: str) -> ModelFamily:
    """The :class:`ModelFamily` of model ``name`` (:class:`CatalogError` if it is unknown)."""
    return family(model(name).family)


def reference_dtype(entry: Model) -> str:
    """The dtype in which a model meets other libraries: float64 where it has it, else its first.

    The GLM's float64 case; the MLP's float32 (its only dtype).
    """
    return "float64" if "float64" in entry.dtypes else entry.dtypes[0]


def budget(entry: Model, preset) -> int:
    """The iteration budget of ``entry`` at ``preset`` (a :class:`~bench.presets.Preset`)."""
    return int(getattr(preset, entry.budget) if isinstance(entry.budget, str) else entry.budget)


def n_datasets_cap(entry: Model, preset) -> int:
    """Data sets per case of ``entry``: the preset's, or its family's smaller cap."""
    cap = family(entry.family).n_datasets_cap
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


# ----------------------------------------------------------------------- reference libraries


def libraries() -> dict[str, Library]:
    """Every reference library, by key, in table order."""
    return {key: value for module in MODULES
            for key, value in getattr(module, "LIBRARIES", {}).items()}


def library(name: str) -> Library:
    """The reference library ``name`` (:class:`CatalogError` naming them if unknown)."""
    known = libraries()
    if name not in known:
        raise CatalogError(f"unknown library {name!r}; choose one of {', '.join(known)}.")
    return known[name]


def pairings() -> tuple[Pairing, ...]:
    """Every (library, model, regimes) pairing, in the order of their modules."""
    return _gathered("PAIRINGS")


#: The packages whose versions every run records, before the reference libraries'.
CORE_PACKAGES = ("jax", "jaxlib", "optax", "numpy")


def software_packages() -> tuple[str, ...]:
    """The distributions whose versions a run records and its README lists.

    JAX's stack (:data:`CORE_PACKAGES`), then every reference library's ``package`` (its
    ``module`` when it names none), in the order of :func:`libraries`.
    """
    packages = dict.fromkeys(CORE_PACKAGES)
    packages.update(dict.fromkeys(lib.package or lib.module for lib in libraries().values()))
    return tuple(packages)


# ----------------------------------------------------------------------- figures


def _figure_models(name: str) -> tuple[Model, ...]:
    return tuple(m for m in models() if name in m.figures)


def _boundary_rows(preset) -> tuple[str, ...]:
    del preset
    return ("boundaries",) if _figure_models("boundaries") else ()


def _norm_rows(preset) -> tuple[str, ...]:
    del preset
    return tuple(f"norm-{m.name}" for m in _figure_models("coef_norm"))


#: The figures of every run, in the order of the README's plots. A figure with ``rows`` is
#: drawn from fits of its own (``bench/suite/bench_figures.py`` makes them); the others from
#: the benchmark rows. Registered modules' ``FIGURES`` follow (:func:`figures`).
FIGURES: tuple[Figure, ...] = (
    Figure("boundaries", "boundaries.png", "bench.report.figures:plot_boundaries",
           _boundary_rows, "bench.figures:boundary_record"),
    Figure("convergence", "convergence.png", "bench.report.plots:plot_convergence"),
    Figure("convergence_log", "convergence_log.png",
           "bench.report.plots:plot_log_convergence"),
    Figure("coef_norm", "coef_norm.png", "bench.report.figures:plot_coef_norms", _norm_rows,
           "bench.figures:norm_record"),
    Figure("throughput", "throughput.png", "bench.report.plots:plot_throughput"),
    Figure("novikoff", "novikoff.png", "bench.report.plots:plot_novikoff"),
)


def figures() -> tuple[Figure, ...]:
    """Every figure, in the order of the README's plots."""
    return FIGURES + _gathered("FIGURES")


def figure(name: str) -> Figure:
    """The figure called ``name`` (:class:`CatalogError` naming them if unknown)."""
    return _named(figures(), name, "figure")


def figure_of_row(row: str, preset) -> Figure:
    """The figure whose fits include the benchmark row ``row`` at ``preset``."""
    for entry in figures():
        if entry.rows is not None and row in entry.rows(preset):
            return entry
    raise CatalogError(f"no figure has the row {row!r}")


# ----------------------------------------------------------------------- sentences


def sentences(topic: str) -> tuple[Callable, ...]:
    """The reading-sentence builders of ``topic``, of every module, in catalog order.

    Each module's ``SENTENCES`` maps topics of :data:`SENTENCE_TOPICS` to builders
    (:mod:`bench.families.base`); :mod:`bench.report.sentences` places each topic among the
    report's own sentences.

    Raises:
        CatalogError: for a topic not in :data:`SENTENCE_TOPICS`, or a module whose
            ``SENTENCES`` has one (the report would never read its builders).
    """
    for module in MODULES:
        unknown = sorted(set(getattr(module, "SENTENCES", {})) - set(SENTENCE_TOPICS))
        if unknown:
            raise CatalogError(f"{module.__name__}.SENTENCES has the topics {unknown}; "
                               f"choose among {', '.join(SENTENCE_TOPICS)}.")
    if topic not in SENTENCE_TOPICS:
        raise CatalogError(f"unknown sentence topic {topic!r}; choose one of "
                           f"{', '.join(SENTENCE_TOPICS)}.")
    return tuple(build for module in MODULES
                 for build in getattr(module, "SENTENCES", {}).get(topic, ()))


# ----------------------------------------------------------------------- peers


class Peer(NamedTuple):
    """A library that fits the same model on a batch of data sets, in the same run.

    Attributes:
        name: its key (``bench.peers.prepare(name, ...)`` readies it) and pytest id.
        label: its name in tables.
        module: the module it needs (a missing one skips its rows, with the reason).
        model: the catalog model whose data sets (its float64 case, else its first dtype)
            and budget it fits.
        regimes: the regimes it is run on.
        batching: how it fits many data sets, as its documentation recommends.
        tolerance: the stopping rule and tolerance it runs at (the one nearest ours), and
            its default, in words.
        flag: what its convergence flag covers (``"one per data set"``, ``"one for the
            whole batch"`` or ``"none"``).
        headline: the regime whose ratio the results index follows across runs
            (:mod:`bench.report.history`; of several peers of one model, the fastest), or
            None.
        extra: the project's extra that installs ``module``.
    """

    name: str
    label: str
    module: str
    model: str
    regimes: tuple[str, ...]
    batching: str
    tolerance: str
    flag: str
    headline: str | None = None
    extra: str = "peers"


#: The MLP peers' rule: they run our step budget, from our initial weights.
_FIXED_STEPS = "none: exactly our step budget, from our initial weights"

PEERS: tuple[Peer, ...] = (
    Peer("tfp_glm", "TensorFlow Probability tfp.glm.fit (JAX substrate)",
         "tensorflow_probability.substrates.jax", "glm", ("separable", "overlap"),
         "native batch: one call on [B, n, p]",
         "‖Δcoef‖ / (1 + ‖coef‖) < 1e-8 on every data set of the batch (default 1e-5), "
         "at most 25 iterations", "one for the whole batch"),
    Peer("glmax", "glmax IRLSFitter", "glmax", "glm", ("separable", "overlap"),
         "jax.vmap over data sets",
         "absolute change of the negative log-likelihood < 1e-8 (default 1e-3), at most 25 "
         "iterations", "one per data set", headline="overlap"),
    Peer("equinox_mlp", "equinox (eqx.nn.Linear, adam by optax)", "equinox", "mlp8", ("xor",),
         "eqx.filter_vmap over data sets, lax.scan over steps", _FIXED_STEPS, "none",
         headline="xor", extra="mlp-peers"),
    Peer("flax_mlp", "flax.linen (nn.Dense, adam by optax)", "flax.linen", "mlp8", ("xor",),
         "jax.vmap over data sets, lax.scan over steps", _FIXED_STEPS, "none",
         headline="xor", extra="mlp-peers"),
    Peer("torch_mlp", "PyTorch (stacked torch.bmm, torch.optim.Adam)", "torch", "mlp8",
         ("xor",), "weights stacked [B, ...], one bmm per layer, one optimizer",
         _FIXED_STEPS, "none", headline="xor", extra="torch"),
)


def peers() -> tuple[Peer, ...]:
    """Every peer, in table order."""
    return PEERS


def peer(name: str) -> Peer:
    """The :class:`Peer` called ``name`` (:class:`CatalogError` if none is)."""
    return _named(peers(), name, "peer")
