"""Static argument checks shared by the model fits.

Everything here runs on shapes, dtypes and Python settings only, so it works on tracers
and raises before any tracing work is done. Data-dependent problems (NaN, labels outside
{0, 1}, ...) are not checked here: inside a traced fit they become a per-data-set
:class:`~models.Status`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["check_design", "check_choice", "check_positive_int", "check_positive_float",
           "check_n_classes", "float_dtype_of"]


def float_dtype_of(*arrays) -> jnp.dtype:
    """The floating dtype a fit computes in: the promoted dtype of the inputs.

    Integer or boolean inputs are computed in JAX's default float dtype.
    """
    dtype = jnp.result_type(*[jnp.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype
                              for a in arrays])
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return jnp.dtype(dtype)


def check_design(X, y, *, name: str = "fit", weights=None, offset=None) -> None:
    """Check that ``X`` is ``[n, p]`` and ``y`` (and optional per-sample arrays) are ``[n]``.

    Args:
        X: design matrix, ``[n_samples, n_features]`` (intercept column included).
        y: response, ``[n_samples]``.
        name: the public function's name, used in the messages.
        weights: optional prior weights, ``[n_samples]``.
        offset: optional offset, ``[n_samples]``.

    Raises:
        ValueError: with the expected shapes, if any shape is wrong.
    """
    for label, arr in (("X", X), ("y", y), ("weights", weights), ("offset", offset)):
        if isinstance(arr, (list, tuple)) and any(
                isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(arr)):
            raise ValueError(
                f"{name}: {label} is a Python {type(arr).__name__} of traced values (jax.jit "
                "treats a list as a pytree of separate scalars): pass an array, e.g. "
                f"jnp.asarray({label}), to the jitted function."
            )
        dtype = getattr(arr, "dtype", None)
        if dtype is not None and jnp.issubdtype(dtype, jnp.floating) and (
                jnp.finfo(dtype).bits < 32):
            raise ValueError(
                f"{name}: {label} has dtype {dtype}, which the fits do not support (no "
                "half-precision Cholesky or iteration tolerance): pass float32 or float64, "
                f"e.g. {label}.astype(jnp.float32)."
            )
    X_shape, y_shape = np.shape(X), np.shape(y)
    if len(X_shape) != 2:
        raise ValueError(
            f"{name}: X must be a 2-D design matrix [n_samples, n_features] for ONE data set, "
            f"got shape {X_shape}. For a batch of data sets use jax.vmap({name}) over the "
            "leading axis; for a single feature use X[:, None]."
        )
    if len(y_shape) != 1:
        raise ValueError(
            f"{name}: y must be 1-D [n_samples], got shape {y_shape}. "
            "Use y.ravel() if it is a column vector."
        )
    n, p = X_shape
    if y_shape[0] != n:
        raise ValueError(
            f"{name}: X has {n} rows but y has {y_shape[0]} entries; they must match."
        )
    if n < 1 or p < 1:
        raise ValueError(f"{name}: X must have at least one row and one column, got {X_shape}.")
    for label, arr in (("weights", weights), ("offset", offset)):
        if arr is not None and np.shape(arr) != (n,):
            raise ValueError(
                f"{name}: {label} must have shape [n_samples] = ({n},), got {np.shape(arr)}."
            )
    for label, arr in (("X", X), ("y", y), ("weights", weights), ("offset", offset)):
        if arr is None:
            continue
        dtype = jnp.asarray(arr).dtype if not hasattr(arr, "dtype") else arr.dtype
        if jnp.issubdtype(dtype, jnp.complexfloating):
            raise ValueError(f"{name}: {label} must be real, got dtype {dtype}.")


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ``ValueError`` naming them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}.")
    return value


def check_positive_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer ``>= minimum``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def check_positive_float(name: str, value) -> float:
    """Return ``value`` as a float if it is a concrete, finite real number ``> 0``.

    For settings that are static (part of what a fit compiles), so a traced value is
    refused as well.

    Raises:
        ValueError: naming ``name`` and the value, otherwise.
    """
    if isinstance(value, jax.core.Tracer):
        raise ValueError(f"{name} must be a concrete number (it is static), got a traced "
                         "value; pass a Python float.")
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype == bool or not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be a real number > 0, got {value!r}.")
    v = float(arr)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {v}.")
    return v


def check_n_classes(n_classes, *, name: str = "fit") -> int:
    """``n_classes`` as an int >= 2: a static setting, so a traced value is refused too.

    Raises:
        ValueError: naming ``name``, the value and how to pass it.
    """
    if isinstance(n_classes, jax.core.Tracer):
        raise ValueError(f"{name}: n_classes must be a static Python int >= 2 (it sets the "
                         "shapes), got a traced value: fix it with functools.partial(..., "
                         "n_classes=K), or mark it static in jax.jit (static_argnames= "
                         "'n_classes', or static_argnums= its position).")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ValueError(f"{name}: n_classes must be a static Python int >= 2 (the number of "
                         f"classes; labels are 0..K-1), got {n_classes!r}.")
    if n_classes < 2:
        raise ValueError(f"{name}: n_classes must be >= 2, got {n_classes}; labels are 0..K-1.")
    return int(n_classes)
