"""The values a family module is made of (no JAX): its family, models, libraries, figures.

A family module (:mod:`bench.families.perceptron`, ``glm``, ``mlp``) holds, together, what
the benchmark needs of one family of models, as module attributes that
:mod:`bench.catalog` collects (every one optional, so a plugin may contribute only a model,
a library or a figure):

``FAMILY``
    its :class:`ModelFamily`: what its models share, and its adapter (the fit and
    evaluation of one data set, which imports JAX when it is called, never on import).
``FAMILIES``
    several :class:`ModelFamily` values, for a module whose models differ in what a family
    says (the K-class module: a GLM, a perceptron and an MLP).
``MODELS``
    its :class:`Model` entries, in table order.
``LIBRARIES``
    ``{key: Library}``: the reference libraries that fit its models one data set at a time.
``PAIRINGS``
    :class:`Pairing` values: which library is timed against which model, on which regimes.
``FIGURES``
    :class:`Figure` values: a figure, the fits it needs and how it is drawn.
``REGIMES``
    regimes of its own (a :class:`bench.regimes.Regime` with its ``generator``).
``SENTENCES``
    ``{topic: builders}``: the README's reading sentences about its models, by topic of
    :data:`SENTENCE_TOPICS`. A builder takes the run's cases and returns a
    :class:`bench.quotes.Sentence`, a list of them, or None where the run lacks its cases;
    the report places each topic's builders, in catalog order, among its own sentences.

Nothing here imports JAX: the report reads these values, and it never loads JAX.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

__all__ = ["ModelFamily", "Model", "Library", "Pairing", "Figure", "WorkModel", "resolve",
           "HISTORY_POINTS", "history_step", "RESPONSES", "LABEL_RESPONSES",
           "SENTENCE_TOPICS"]

#: Histories longer than this are subsampled (every k-th step) for the published curves.
HISTORY_POINTS = 200

#: The responses a regime may have (a regime's ``response``), and those that are class
#: labels (accuracy applies).
RESPONSES = ("binomial", "multinomial", "poisson", "gamma", "gaussian")
LABEL_RESPONSES = ("binomial", "multinomial")

#: The topics of a family module's ``SENTENCES``, in the README's order: what a model does
#: where the classes are separated (theorems, separation verdicts); how often and how fast
#: it converges elsewhere; how accurate it is; what its speed costs or buys.
SENTENCE_TOPICS = ("separation", "convergence", "accuracy", "speed")


def history_step(max_iter: int) -> int:
    """The stride that keeps a history of ``max_iter`` entries to :data:`HISTORY_POINTS`."""
    return max(1, -(-max_iter // HISTORY_POINTS))


def resolve(reference):
    """A callable, or the one a ``"package.module:name"`` string names (imported now).

    A figure names its JAX fit and its matplotlib drawing by such strings, so that reading
    the catalog imports neither.
    """
    if not isinstance(reference, str):
        return reference
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


#: ``(n, p, itemsize, settings) -> (FLOPs, bytes)`` of one iteration on one data set.
WorkModel = Callable[[int, int, int, Mapping], tuple[float, float]]


class ModelFamily(NamedTuple):
    """What the models of one family share.

    Attributes:
        name: ``"perceptron"``, ``"glm"``, ``"mlp"``: its models' ``family`` and its pytest
            marker.
        iteration_unit: what one iteration is, plural, for tables and plot axes.
        loss_name: the loss its history records (``final_loss`` is its last value).
        adapter: ``(settings, max_iter) -> bench.adapters.Adapter``, the fit and evaluation
            of ONE data set with a model's settings and budget; it imports JAX when called.
        mistake_bound: its updates have Novikoff's bound on separable data (the tables and
            plots show the ratio for these models only).
        n_datasets_cap: a :class:`~bench.presets.Preset` field capping its data sets per
            case (the slowest family fits fewer), or None.
        replayed_rule: the name of another library's stopping rule that its adapter
            replays on each fit's history (the tables show where it would have stopped),
            or None.
        separation_flag: its fits flag (quasi-)separation (the tables show separated %).
        verdict_status: ``settings -> bool``: whether a model's status says what the linear
            program's verdict says (separated or not), so the tables compare them; None for
            no model of the family.
        boundary: how its two-feature boundary is drawn: ``"line"`` (the line
            ``coef . (1, x1, x2) = 0`` of its result's ``coef``) or ``"contour"`` (the 0.5
            contour of its adapter's ``predict`` on a grid).
        fit_bytes: ``(n_samples, p, itemsize, settings) -> (per data set, per program)``:
            about the bytes its fit holds beside the data (:func:`bench.cases.dataset_bytes`
            and :func:`bench.cases.chunk_bytes`), or None for none worth counting.
    """

    name: str
    iteration_unit: str
    loss_name: str
    adapter: Callable[[Mapping, int], Any]
    mistake_bound: bool = False
    n_datasets_cap: str | None = None
    replayed_rule: str | None = None
    separation_flag: bool = False
    verdict_status: Callable[[Mapping], bool] | None = None
    boundary: str = "line"
    fit_bytes: Callable[[int, int, int, Mapping], tuple[int, int]] | None = None


class Model(NamedTuple):
    """One model of the matrix.

    Attributes:
        name: its name in tables, ids and ``--model``.
        label: what it is, in words (the convergence table's header).
        family: the ``name`` of its :class:`ModelFamily`.
        regimes: the regimes it runs on, in table order; or a response (``"binomial"``):
            every regime of the catalog with that response, in catalog order
            (:func:`bench.catalog.models` gives the names).
        dtypes: the dtypes it runs in.
        settings: the keyword settings its family's adapter fits it with, every one passed
            on to the model's ``fit`` (GLM ``family``, ``link``, ``firth``, ``separation``;
            MLP ``hidden``, ``activation``; ...).
        budget: its iteration budget: a number, or the :class:`~bench.presets.Preset` field
            that holds it.
        work: its analytic work model (see :mod:`bench.roofline`).
        color: its colour in the plots.
        scaling: ``(regime, dtype)`` of its throughput sweep over ``n_datasets``, or None.
        figures: the names of the figures of its own fits it is drawn in
            (``"boundaries"``, ``"coef_norm"``).
        separation_reference: its separation status is the one a table shows beside the
            linear program's verdict where one model speaks for all (the resampled real
            data's ``separated %``); one model at most, of a family with a
            ``separation_flag``.
    """

    name: str
    label: str
    family: str
    regimes: tuple[str, ...] | str
    dtypes: tuple[str, ...]
    settings: Mapping
    budget: int | str
    work: WorkModel
    color: str
    scaling: tuple[str, str] | None = None
    figures: tuple[str, ...] = ()
    separation_reference: bool = False


class Library(NamedTuple):
    """How one reference library fits a catalog model, one data set at a time.

    Attributes:
        label: its name in tables (``"statsmodels GLM"``).
        module: the module it needs (a missing one skips its benchmark).
        fit: ``(X, y, settings, budget) -> fitted``: one data set (numpy, float64), with a
            catalog model's settings and iteration budget.
        converged: ``(fitted, budget) -> bool``, what it reports, or None when it reports
            nothing comparable.
        subset_divisor: it fits ``preset.baseline_datasets // subset_divisor`` data sets
            (at least 2): slow libraries fit fewer.
        package: the distribution whose version a run records (``"scikit-learn"``);
            ``module`` when None.
    """

    label: str
    module: str
    fit: Callable
    converged: Callable | None = None
    subset_divisor: int = 1
    package: str | None = None


class Pairing(NamedTuple):
    """A reference library timed against a model, on some of the model's regimes.

    Attributes:
        library: a key of a ``LIBRARIES`` (:func:`bench.catalog.libraries`).
        model: the model whose data sets, settings and budget it fits with.
        regimes: the regimes it is timed on.
        headline: the regime whose ratio the results index follows across runs
            (:mod:`bench.report.history`), or None.
    """

    library: str
    model: str
    regimes: tuple[str, ...]
    headline: str | None = None


class Figure(NamedTuple):
    """One figure of a published run.

    Attributes:
        name: its name (``Model.figures`` refers to it).
        filename: its PNG in the run folder.
        draw: ``(cases, path) -> Plot | (title, caption) | None``: draws it from the run's
            rows into ``path`` (None when the run lacks the rows it needs), or a
            ``"module:function"`` string naming it (imported when drawn: matplotlib).
        rows: ``preset -> tuple of row ids``: the benchmark rows of its own fits
            (``bench/suite/bench_figures.py``), or None for a figure drawn from the other
            rows (fits, sweeps, baselines).
        record: ``(row id, preset) -> CaseRecord``: makes one of its rows (with JAX), or a
            ``"module:function"`` string naming it (imported when the row runs).
    """

    name: str
    filename: str
    draw: Callable | str
    rows: Callable[[Any], tuple[str, ...]] | None = None
    record: Callable | str | None = None
