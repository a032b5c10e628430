"""The batched runner: fit one model on a batch of data sets and reduce what happened.

For each :class:`~bench.cases.Case` the runner

1. generates the batch once (:func:`bench.datasets.make`), outside any timing;
2. compiles ``jax.jit(jax.vmap(fit))`` ahead of time and records the compile time;
3. runs it (timed by the caller: pytest-benchmark, or wall clock in ``python -m bench run``);
4. evaluates every fit (accuracy on train and test, final loss, Novikoff ratio) in a second
   compiled program, and reduces the per-data-set results to plain-Python statistics
   (:func:`summarize`) for ``extra_info`` and the published tables.

The fit that is timed is exactly what a user writes: ``jax.jit(jax.vmap(models.X.fit))``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bench import datasets
from bench.cases import MODELS, Case
from bench.presets import Preset
from models import glm, mlp, perceptron
from models._status import STATUS_NAMES, status_counts

__all__ = ["Evaluation", "Prepared", "prepare", "prepare_data", "evaluate", "summarize", "run_case",
           "HISTORY_POINTS"]

#: Histories longer than this are subsampled (every k-th step) for the published curves.
HISTORY_POINTS = 200


class Evaluation(NamedTuple):
    """Per-data-set outcome of one case, ``[B]`` unless noted.

    Attributes:
        status: int32 status codes (:mod:`models._status`).
        n_iter: iterations (GLM), epochs (perceptron) or steps (MLP) run.
        converged: bool.
        separated: bool, the GLM's separation flag (False for the other models).
        train_accuracy: training accuracy (NaN for non-binary families).
        test_accuracy: held-out accuracy (NaN for non-binary families).
        final_loss: GLM deviance / n, MLP mean cross-entropy, perceptron mistakes / n in its
            last epoch.
        n_updates: perceptron updates (0 for the other models).
        novikoff_ratio: ``n_updates / (R / gamma)^2`` on separable data (NaN otherwise).
        finite: bool, every fitted parameter is finite.
        history: ``[B, T]`` the loss/deviance/mistakes history, forward-filled after the stop
            (a stopped fit keeps its final value) and subsampled to at most
            :data:`HISTORY_POINTS` points.
    """

    status: jax.Array
    n_iter: jax.Array
    converged: jax.Array
    separated: jax.Array
    train_accuracy: jax.Array
    test_accuracy: jax.Array
    final_loss: jax.Array
    n_updates: jax.Array
    novikoff_ratio: jax.Array
    finite: jax.Array
    history: jax.Array


class Model(NamedTuple):
    """How the runner fits and evaluates one model of the matrix."""

    fit: Callable  # (key, X, y) -> result, for ONE data set
    evaluate: Callable  # (result, data of ONE data set) -> per-data-set Evaluation fields
    history_step: int  # subsampling stride of the history
    loss_name: str


def _accuracy(decisions, y):
    return jnp.mean(((decisions > 0.5) == (y > 0.5)).astype(y.dtype))


def _forward_fill(history):
    """Replace the NaN tail of a history by its last value (NaN only when nothing ran)."""
    ran = ~jnp.isnan(history)
    index = jnp.where(ran, jnp.arange(history.shape[0]), -1)
    last = jax.lax.cummax(index)
    return jnp.where(last >= 0, history[jnp.maximum(last, 0)], jnp.nan)


def _finite(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves
                              if jnp.issubdtype(leaf.dtype, jnp.floating)]))


def _glm_model(family: str, firth: bool, max_iter: int) -> Model:
    binary = family == "binomial"

    def fit(key, X, y):
        del key
        return glm.fit(X, y, family, firth=firth, max_iter=max_iter)

    def evaluate(result, data):
        n = data.y_train.shape[0]
        if binary:
            train = _accuracy(glm.predict(result, data.X_train, family=family), data.y_train)
            test = _accuracy(glm.predict(result, data.X_test, family=family), data.y_test)
        else:
            train = test = jnp.asarray(jnp.nan, data.X_train.dtype)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=result.separated, train_accuracy=train, test_accuracy=test,
            final_loss=result.deviance / n, n_updates=jnp.zeros((), jnp.int32),
            finite=_finite((result.coef, result.bse, result.deviance)),
            history=result.history / n,
        )

    return Model(fit, evaluate, 1, "deviance / n")


def _perceptron_model(max_epochs: int) -> Model:
    def fit(key, X, y):
        del key
        return perceptron.fit(X, y, max_epochs=max_epochs)

    def evaluate(result, data):
        n = data.y_train.shape[0]
        last = jnp.maximum(result.n_iter - 1, 0)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=jnp.zeros((), bool),
            train_accuracy=_accuracy(perceptron.predict(result, data.X_train), data.y_train),
            test_accuracy=_accuracy(perceptron.predict(result, data.X_test), data.y_test),
            final_loss=result.history[last] / n, n_updates=result.n_updates,
            finite=_finite((result.coef, result.pocket_coef)), history=result.history / n,
        )

    return Model(fit, evaluate, 1, "mistakes / n per epoch")


def _mlp_model(hidden: tuple[int, ...], max_iter: int) -> Model:
    def fit(key, X, y):
        return mlp.fit(key, X, y, hidden=hidden, max_iter=max_iter)

    def evaluate(result, data):
        last = jnp.maximum(result.n_iter - 1, 0)
        return dict(
            status=result.status, n_iter=result.n_iter, converged=result.converged,
            separated=jnp.zeros((), bool),
            train_accuracy=_accuracy(mlp.predict(result, data.X_train), data.y_train),
            test_accuracy=_accuracy(mlp.predict(result, data.X_test), data.y_test),
            final_loss=result.history[last], n_updates=jnp.zeros((), jnp.int32),
            finite=_finite(result.params), history=result.history,
        )

    return Model(fit, evaluate, max(1, -(-max_iter // HISTORY_POINTS)), "cross-entropy")


def get_model(name: str, preset: Preset) -> Model:
    """The fit and evaluation of model ``name`` with the preset's iteration budgets."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}.")
    return {
        "perceptron": lambda: _perceptron_model(preset.perceptron_epochs),
        "glm": lambda: _glm_model("binomial", False, 25),
        "glm_firth": lambda: _glm_model("binomial", True, 25),
        "glm_poisson": lambda: _glm_model("poisson", False, 25),
        "glm_gamma": lambda: _glm_model("gamma", False, 25),
        "mlp0": lambda: _mlp_model((), preset.mlp_steps),
        "mlp8": lambda: _mlp_model((8,), preset.mlp_steps),
    }[name]()


class Prepared(NamedTuple):
    """A case ready to time: its data, its compiled batched fit and the fit's inputs."""

    case: Case
    model: Model
    data: datasets.Datasets
    keys: jax.Array
    compiled: Callable
    compile_s: float


def _dtype(name: str):
    return {"float32": jnp.float32, "float64": jnp.float64}[name]


def _keys(preset: Preset):
    """(data key, fit key) of every case: the same data sets for every model and dtype."""
    return jax.random.split(jax.random.key(preset.seed))


def prepare_data(case: Case, preset: Preset) -> datasets.Datasets:
    """The case's data sets: the same for every model that runs on this regime and size."""
    data_key, _ = _keys(preset)
    return datasets.make(
        case.regime, data_key, n_datasets=case.n_datasets, n_samples=case.n_samples,
        n_features=case.n_features, n_test=case.n_test, dtype=_dtype(case.dtype),
    )


def prepare(case: Case, preset: Preset) -> Prepared:
    """Generate the case's data and compile its batched fit (nothing here is timed)."""
    model = get_model(case.model, preset)
    data = prepare_data(case, preset)
    keys = datasets.dataset_keys(_keys(preset)[1], 0, case.n_datasets)
    batched = jax.vmap(model.fit)
    start = time.perf_counter()
    compiled = jax.jit(batched).lower(keys, data.X_train, data.y_train).compile()
    compile_s = time.perf_counter() - start
    jax.block_until_ready(data)
    return Prepared(case, model, data, keys, compiled, compile_s)


def run(prepared: Prepared):
    """One blocked run of the compiled batched fit; returns the batched result."""
    return jax.block_until_ready(
        prepared.compiled(prepared.keys, prepared.data.X_train, prepared.data.y_train))


def evaluate(prepared: Prepared, result) -> Evaluation:
    """Per-data-set :class:`Evaluation` of a batched result (a second compiled program)."""
    model, case = prepared.model, prepared.case

    def one(res, data):
        fields = model.evaluate(res, data)
        history = _forward_fill(fields.pop("history"))[:: model.history_step]
        if case.regime == "separable":
            # Novikoff (1962) for the intercept-augmented vectors: gamma is the margin of the
            # unit vector coef_true / ||coef_true|| and R the largest ||x_i||.
            radius = jnp.max(jnp.linalg.norm(data.X_train, axis=1))
            gamma = data.margin / jnp.linalg.norm(data.coef_true)
            ratio = fields["n_updates"] / (radius / gamma) ** 2
        else:
            ratio = jnp.asarray(jnp.nan, data.X_train.dtype)
        return Evaluation(history=history, novikoff_ratio=ratio, **fields)

    return jax.jit(jax.vmap(one))(result, prepared.data)


def _quantiles(values, qs):
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return [None] * len(qs)
    return [float(v) for v in np.quantile(values, qs)]


def summarize(evaluation: Evaluation, *, history_step: int = 1) -> dict:
    """Reduce a per-data-set :class:`Evaluation` to plain Python numbers and lists.

    Returns:
        A dict for pytest-benchmark's ``extra_info``: ``converged_frac``,
        ``separated_frac``, ``status_counts`` (every documented status), ``n_iter_*`` (mean,
        median, p90, max), accuracies (mean and 10% quantile), the final loss (mean,
        median), ``novikoff_max_ratio``, ``nan_frac`` (fraction of fits with a non-finite
        parameter) and the per-iteration median and IQR of the history.
    """
    ev = jax.tree.map(np.asarray, evaluation)
    n_iter = ev.n_iter.astype(np.float64)
    history = ev.history.astype(np.float64)
    if np.all(np.isnan(history)):
        h_q = np.full((3, history.shape[1]), np.nan)
    else:
        h_q = np.nanquantile(history, [0.25, 0.5, 0.75], axis=0)

    def clean(values):
        return [None if np.isnan(v) else float(v) for v in values]

    out = {
        "converged_frac": float(np.mean(ev.converged)),
        "separated_frac": float(np.mean(ev.separated)),
        "status_counts": status_counts(ev.status),
        "nan_frac": float(np.mean(~ev.finite)),
        "n_iter_mean": float(np.mean(n_iter)),
        "n_iter_median": float(np.median(n_iter)),
        "n_iter_p90": float(np.quantile(n_iter, 0.9)),
        "n_iter_max": int(np.max(n_iter)),
        "train_accuracy_mean": _mean_or_none(ev.train_accuracy),
        "train_accuracy_q10": _quantiles(ev.train_accuracy, [0.1])[0],
        "test_accuracy_mean": _mean_or_none(ev.test_accuracy),
        "test_accuracy_q10": _quantiles(ev.test_accuracy, [0.1])[0],
        "final_loss_mean": _mean_or_none(ev.final_loss),
        "final_loss_median": _quantiles(ev.final_loss, [0.5])[0],
        "n_updates_mean": float(np.mean(ev.n_updates)),
        "novikoff_max_ratio": (None if np.all(np.isnan(ev.novikoff_ratio))
                               else float(np.nanmax(ev.novikoff_ratio))),
        "history_step": history_step,
        "history_median": clean(h_q[1]),
        "history_q25": clean(h_q[0]),
        "history_q75": clean(h_q[2]),
    }
    # A status no one may pass off as converged: NaN parameters with converged=True.
    out["nan_converged"] = int(np.sum(ev.converged & ~ev.finite))
    assert set(out["status_counts"]) == set(STATUS_NAMES.values())
    return out


def _mean_or_none(values):
    values = np.asarray(values, dtype=np.float64)
    return None if np.all(np.isnan(values)) else float(np.nanmean(values))


def case_info(case: Case, preset: Preset) -> dict:
    """The identifying fields of a case's ``extra_info``."""
    from bench._timing import device_info

    return {
        "kind": case.kind, "model": case.model, "model_label": MODELS[case.model][0],
        "regime": case.regime, "dtype": case.dtype, "n_datasets": case.n_datasets,
        "n_samples": case.n_samples, "n_features": case.n_features, "n_test": case.n_test,
        "preset": preset.name, "seed": preset.seed,
        "max_iter": {"perceptron": preset.perceptron_epochs, "mlp0": preset.mlp_steps,
                     "mlp8": preset.mlp_steps}.get(case.model, 25),
        **device_info(),
    }


def run_case(case: Case, preset: Preset, *, repeats: int = 1) -> dict:
    """Prepare, run (``repeats`` times, wall clock) and summarise a case without pytest.

    Returns:
        The same fields as a benchmark row's ``extra_info``, with ``seconds`` (the fastest
        run) and ``fits_per_s``.
    """
    prepared = prepare(case, preset)
    # The first execution of a compiled program pays one-off costs (thread pools, buffer
    # allocation; 35 ms for the first program of a process here): one untimed run.
    run(prepared)
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = run(prepared)
        times.append(time.perf_counter() - start)
    info = case_info(case, preset)
    info["compile_s"] = prepared.compile_s
    info["seconds"] = min(times)
    info["fits_per_s"] = case.n_datasets / min(times)
    info.update(summarize(evaluate(prepared, result),
                          history_step=prepared.model.history_step))
    return info
