"""The peers: libraries a user would pick to fit many of our models at once.

Each is fitted as its documentation recommends for many data sets, on the data sets of
our float64 (GLM) or float32 (MLP) case, at the stopping rule nearest ours
(:func:`bench.catalog.peers` says which, in words, for the tables):

* ``tfp_glm``: ``tfp.glm.fit(X, y, tfp.glm.Bernoulli())`` from TensorFlow Probability's JAX
  substrate, called once on the whole batch ``X [B, n, p]`` (its native batching). It
  stops when ``||coef_new - coef|| / (1 + ||coef||)`` is below the tolerance on every data
  set of the batch, and returns ONE ``is_converged`` flag and one iteration count for the
  whole batch.
* ``glmax``: ``glmax.fit(glmax.Binomial(), X, y, fitter=glmax.IRLSFitter(...))`` under
  ``jax.vmap``; it stops when the absolute change of the negative log-likelihood is below
  its ``tol``, and reports ``converged`` and ``num_iters`` per data set.
* ``equinox_mlp``, ``flax_mlp``, ``torch_mlp``: our one-hidden-layer MLP written with
  equinox, flax.linen and PyTorch, from our initial weights, for exactly our step budget
  (:mod:`bench.mlp_peers`); they have no stopping rule and no flag.

They are the optional ``peers`` (GLM), ``mlp-peers`` and ``torch`` extras;
:func:`unavailable` says why one cannot run. :func:`prepare` readies one for a batch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bench import catalog, mlp_peers
from bench.families.glm import GLM_MAX_ITER
from bench.timing import compile_ahead

__all__ = ["PeerFit", "PEER_FITS", "batched_fit", "prepare", "unavailable", "TOLERANCE",
           "MAX_ITER"]

#: The tolerance and iteration budget the GLM peers run at: our GLM's ``tol`` and R's maxit.
TOLERANCE = 1e-8
MAX_ITER = GLM_MAX_ITER


class PeerFit(NamedTuple):
    """What a peer returns for a batch, in one shape for all.

    Attributes:
        n_iter: ``[B]`` its iterations (tfp's one batch count repeated; an MLP peer's
            steps).
        converged: ``[B]`` its own flag, per data set (tfp's one batch flag repeated), or
            None for a peer without a stopping rule.
        coef: ``[B, p]`` a GLM peer's coefficients, else None.
        final_loss: ``[B]`` an MLP peer's mean cross-entropy after ``n_iter - 1`` updates
            (our ``history[n_iter - 1]``), else None.
    """

    n_iter: Any
    converged: Any = None
    coef: Any = None
    final_loss: Any = None


def _tfp_glm(tolerance: float, max_iter: int) -> Callable:
    from tensorflow_probability.substrates import jax as tfp

    criterion = tfp.glm.convergence_criteria_small_relative_norm_weights_change(
        tolerance=tolerance)

    def fit(X, y):
        coef, _, converged, n_iter = tfp.glm.fit(
            X, y, tfp.glm.Bernoulli(), convergence_criteria_fn=criterion,
            fast_unsafe_numerics=False,
            maximum_iterations=max_iter)
        batch = X.shape[0]
        return PeerFit(jnp.broadcast_to(n_iter, (batch,)).astype(jnp.int32),
                       jnp.broadcast_to(converged, (batch,)), coef)

    return fit


def _glmax(tolerance: float, max_iter: int) -> Callable:
    import glmax

    fitter = glmax.IRLSFitter(tol=tolerance, max_iter=max_iter)

    def one(X, y):
        fitted = glmax.fit(glmax.Binomial(), X, y, fitter=fitter)
        return PeerFit(fitted.num_iters.astype(jnp.int32), fitted.converged, fitted.beta)

    return jax.vmap(one)


#: ``(tolerance, max_iter) -> fit(X [B, n, p], y [B, n]) -> PeerFit``, per GLM peer
#: (their descriptions are :func:`bench.catalog.peers`).
PEER_FITS: dict[str, Callable[[float, int], Callable]] = {"tfp_glm": _tfp_glm,
                                                          "glmax": _glmax}

#: ``(hidden, steps, learning_rate) -> fit(keys [B], X, y) -> final loss [B]``, per JAX
#: MLP peer.
_JAX_MLP_FITS = {"equinox_mlp": mlp_peers.equinox_fit, "flax_mlp": mlp_peers.flax_fit}


def unavailable(name: str) -> str | None:
    """Why peer ``name`` cannot run here (its module does not import), or None."""
    entry = catalog.peer(name)
    try:
        importlib.import_module(entry.module)
    except Exception as error:  # noqa: BLE001 - any failure to import is a reason to skip
        return (f"{entry.label} is not importable ({type(error).__name__}: {error}); "
                f"install the '{entry.extra}' extra: pip install 'glmnn-bench[{entry.extra}]'")
    return None


def batched_fit(name: str, *, tolerance: float = TOLERANCE,
                max_iter: int = MAX_ITER) -> Callable:
    """The batched fit of GLM peer ``name``: ``(X [B, n, p], y [B, n]) -> PeerFit`` (jit it).

    Raises:
        ImportError: its library is not installed (:func:`unavailable` says so first).
    """
    return PEER_FITS[name](tolerance, max_iter)


def _mlp_settings(entry) -> tuple[tuple[int, ...], float]:
    from models.mlp import DEFAULT_LEARNING_RATE

    settings = catalog.model(entry.model).settings
    if settings.get("activation", "sigmoid") != "sigmoid" or set(settings) - {
            "hidden", "activation"}:
        raise ValueError(f"the MLP peers write a sigmoid network with our defaults; model "
                         f"{entry.model!r} has the settings {dict(settings)}.")
    return tuple(settings["hidden"]), DEFAULT_LEARNING_RATE


def prepare(name: str, keys, X, y, *, max_iter: int,
            tolerance: float = TOLERANCE) -> tuple[Callable[[], PeerFit], float | None]:
    """Peer ``name`` ready to fit ``X [B, n, p]``, ``y [B, n]``: a call, and compile seconds.

    A JAX peer is compiled ahead here (its seconds returned); PyTorch compiles nothing
    (None). The call fits the whole batch, blocked, and returns a :class:`PeerFit`.
    ``keys [B]`` are our fit's keys, from which an MLP peer takes our initial weights;
    ``max_iter`` is a GLM peer's budget and an MLP peer's exact number of steps.

    Raises:
        ImportError: its library is not installed (:func:`unavailable` says so first).
    """
    entry = catalog.peer(name)
    batch = X.shape[0]
    if name in PEER_FITS:
        compiled, seconds = compile_ahead(batched_fit(name, tolerance=tolerance,
                                                      max_iter=max_iter), X, y)
        return lambda: jax.block_until_ready(compiled(X, y)), seconds
    hidden, learning_rate = _mlp_settings(entry)
    steps = np.full((batch,), max_iter, np.int32)
    if name in _JAX_MLP_FITS:
        fit = _JAX_MLP_FITS[name](hidden, max_iter, learning_rate)
        compiled, seconds = compile_ahead(fit, keys, X, y)
        return (lambda: PeerFit(steps, final_loss=jax.block_until_ready(
            compiled(keys, X, y)))), seconds
    if name != "torch_mlp":
        raise KeyError(f"peer {name!r} has no fit in bench/peers.py.")
    run = mlp_peers.torch_fit(hidden, max_iter, learning_rate, keys, X, y)
    return (lambda: PeerFit(steps, final_loss=run())), None
