"""The JAX peers: libraries a JAX user would pick to fit many GLMs at once (JAX).

Each is fitted as its documentation recommends for many data sets, at the stopping rule
nearest ours (:func:`bench.catalog.peers` says which, in words, for the tables):

* ``tfp_glm``: ``tfp.glm.fit(X, y, tfp.glm.Bernoulli())`` from TensorFlow Probability's JAX
  substrate, called once on the whole batch ``X [B, n, p]`` (its native batching). It
  stops when ``||coef_new - coef|| / (1 + ||coef||)`` is below the tolerance on every data
  set of the batch, and returns ONE ``is_converged`` flag and one iteration count for the
  whole batch.
* ``glmax``: ``glmax.fit(glmax.Binomial(), X, y, fitter=glmax.IRLSFitter(...))`` under
  ``jax.vmap``; it stops when the absolute change of the negative log-likelihood is below
  its ``tol``, and reports ``converged`` and ``num_iters`` per data set.

They are the optional ``peers`` extra; :func:`unavailable` says why one cannot run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from bench import catalog
from bench.families.glm import GLM_MAX_ITER

__all__ = ["PeerFit", "PEER_FITS", "batched_fit", "unavailable", "TOLERANCE", "MAX_ITER"]

#: The tolerance and iteration budget every peer runs at: our GLM's ``tol`` and R's maxit.
TOLERANCE = 1e-8
MAX_ITER = GLM_MAX_ITER


class PeerFit(NamedTuple):
    """What a peer returns for a batch, in one shape for both.

    Attributes:
        coef: ``[B, p]`` its coefficients.
        converged: ``[B]`` its own flag, per data set (tfp's one batch flag repeated).
        n_iter: ``[B]`` its iterations (tfp's one batch count repeated).
    """

    coef: jax.Array
    converged: jax.Array
    n_iter: jax.Array


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
        return PeerFit(coef, jnp.broadcast_to(converged, (batch,)),
                       jnp.broadcast_to(n_iter, (batch,)).astype(jnp.int32))

    return fit


def _glmax(tolerance: float, max_iter: int) -> Callable:
    import glmax

    fitter = glmax.IRLSFitter(tol=tolerance, max_iter=max_iter)

    def one(X, y):
        fitted = glmax.fit(glmax.Binomial(), X, y, fitter=fitter)
        return PeerFit(fitted.beta, fitted.converged, fitted.num_iters.astype(jnp.int32))

    return jax.vmap(one)


#: ``(tolerance, max_iter) -> fit(X [B, n, p], y [B, n]) -> PeerFit``, per catalog peer
#: (their descriptions are :func:`bench.catalog.peers`).
PEER_FITS: dict[str, Callable[[float, int], Callable]] = {"tfp_glm": _tfp_glm,
                                                          "glmax": _glmax}


def unavailable(name: str) -> str | None:
    """Why peer ``name`` cannot run here (its module does not import), or None."""
    entry = next(p for p in catalog.peers() if p.name == name)
    try:
        importlib.import_module(entry.module)
    except Exception as error:  # noqa: BLE001 - any failure to import is a reason to skip
        return (f"{entry.label} is not importable ({type(error).__name__}: {error}); "
                "install the 'peers' extra: pip install 'glmnn-bench[peers]'")
    return None


def batched_fit(name: str, *, tolerance: float = TOLERANCE,
                max_iter: int = MAX_ITER) -> Callable:
    """The batched fit of peer ``name``: ``(X [B, n, p], y [B, n]) -> PeerFit`` (jit it).

    Raises:
        ImportError: its library is not installed (:func:`unavailable` says so first).
    """
    return PEER_FITS[name](tolerance, max_iter)
