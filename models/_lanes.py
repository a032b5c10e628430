"""vmap-safe helpers that the three models share: run-only-if-needed, masks, bad-data stand-ins.

Under ``jax.vmap`` every data set of a batch is a *lane*: one program runs them all, so a
data-dependent branch becomes a select and a loop runs until its slowest lane stops. These
helpers keep that cheap and honest:

* :func:`when` runs rare work (a certificate, a fallback factorisation) only in batches
  that hold a lane needing it;
* :func:`tree_where` and :func:`lane_mask` freeze stopped or failed lanes;
* :func:`binary_data_valid` and :func:`zero_invalid` let a bad data set run through the
  loop body with harmless zeros while it reports ``INVALID_INPUT``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["when", "tree_where", "all_finite", "lane_mask", "binary_data_valid",
           "zero_invalid"]


def when(needed: jax.Array, compute, operands: tuple, default):
    """``compute(*operands)`` where ``needed``, else ``default``: a ``lax.cond`` that vmaps.

    Under ``vmap`` a ``lax.cond`` on a batched predicate runs both branches for every data
    set. This is a ``lax.while_loop`` that runs ``compute`` at most once: batched, it runs
    it once if any data set needs it (the others keep ``default``) and not at all if none
    does, so rare work (a certificate, a fallback) costs nothing on batches without it.
    ``compute`` must take every array it reads as an operand: they enter the loop masked
    by its flag, or XLA would hoist the work out of the loop (loop-invariant code
    motion) and run it whether needed or not.

    Args:
        needed: ``[]`` bool (batched under ``vmap``).
        compute: ``(*operands) -> pytree`` with the structure of ``default``.
        operands: the arrays ``compute`` reads.
        default: the value where ``compute`` is not needed.
    """
    def body(carry):
        running, _ = carry
        masked = jax.tree.map(lambda a: jnp.where(running, a, jnp.zeros_like(a)), operands)
        return jnp.zeros((), bool), compute(*masked)

    return lax.while_loop(lambda carry: carry[0], body, (needed, default))[1]


def tree_where(condition: jax.Array, on_true, on_false):
    """``jnp.where(condition, a, b)`` leaf by leaf over two pytrees of the same structure."""
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), on_true, on_false)


def all_finite(tree) -> jax.Array:
    """``[]`` bool: every element of every leaf of ``tree`` is finite."""
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def lane_mask(mask: jax.Array, leaf: jax.Array) -> jax.Array:
    """A per-lane ``[L]`` mask shaped to broadcast against ``leaf [..., L]`` (lanes last)."""
    return mask.reshape((1,) * (leaf.ndim - 1) + mask.shape)


def binary_data_valid(X: jax.Array, y: jax.Array, *, lanes_last: bool = False) -> jax.Array:
    """Whether a classification data set is usable: finite ``X`` and ``y``, labels in {0, 1}.

    Args:
        X: ``[n, p]`` (or ``[n, p, L]`` with ``lanes_last``).
        y: ``[n]`` (or ``[n, L]``).
        lanes_last: the data sets are the last axis; one flag per lane.

    Returns:
        ``[]`` bool, or ``[L]`` with ``lanes_last``.
    """
    x_axes, y_axes = ((0, 1), 0) if lanes_last else (None, None)
    return (jnp.all(jnp.isfinite(X), axis=x_axes) & jnp.all(jnp.isfinite(y), axis=y_axes)
            & jnp.all((y == 0) | (y == 1), axis=y_axes))


def zero_invalid(valid: jax.Array, *arrays: jax.Array) -> tuple[jax.Array, ...]:
    """The ``arrays`` where ``valid``, zeros where not (``valid`` broadcasts on the left).

    A bad data set still runs through a vmapped loop body with the others; zeros keep it
    from producing NaN or overflow that would cost time or trip a check, while its status
    says ``INVALID_INPUT``. With lanes last, pass ``valid`` already shaped by
    :func:`lane_mask`.
    """
    return tuple(jnp.where(valid, a, jnp.zeros_like(a)) for a in arrays)
