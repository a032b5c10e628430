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

__all__ = ["when", "when_few", "tree_where", "all_finite", "lane_mask", "binary_data_valid",
           "class_labels", "zero_invalid"]


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


#: :func:`when_few` runs a batch lane by lane while at most this share of its lanes needs
#: the work, and all at once (as :func:`when`) past it, where one vectorised call is cheaper.
FEW_SHARE = 0.25


def when_few(needed: jax.Array, compute, operands: tuple, default):
    """:func:`when` for costly work that few lanes of a batch need: only they pay for it.

    Alone, it is :func:`when`. Under ``vmap`` a batching rule runs ``compute`` on the lanes
    that need it, one at a time in a loop, and scatters the results back; the other lanes
    keep ``default``. :func:`when` would run it on every lane of a batch that holds one
    needing it, which for a linear program (milliseconds per lane) wanted by one data set
    in a thousand costs more than the fits themselves. Past :data:`FEW_SHARE` of the
    lanes, the batch runs as :func:`when` runs it.

    Args:
        needed: ``[]`` bool (batched under ``vmap``).
        compute: ``(*operands) -> pytree`` with the structure of ``default``.
        operands: the arrays ``compute`` reads.
        default: the value where ``compute`` is not needed.
    """
    @jax.custom_batching.custom_vmap
    def run(needed, operands, default):
        return when(needed, compute, operands, default)

    @run.def_vmap
    def batched(axis_size, in_batched, needed, operands, default):
        leaves, structure = jax.tree.flatten((needed, operands, default))
        needed, operands, default = jax.tree.unflatten(structure, [
            a if flag else jnp.broadcast_to(a, (axis_size, *jnp.shape(a)))
            for a, flag in zip(leaves, jax.tree.leaves(in_batched))])
        count = jnp.sum(needed)
        order = jnp.argsort(~needed, stable=True)

        def one_by_one(_):
            def body(carry):
                k, result = carry
                lane = order[k]
                out = compute(*jax.tree.map(lambda a: a[lane], operands))
                return k + 1, jax.tree.map(lambda r, o: r.at[lane].set(o), result, out)

            return lax.while_loop(lambda carry: carry[0] < count, body,
                                  (jnp.int32(0), default))[1]

        def all_at_once(_):
            return jax.vmap(lambda need, args, fallback: when(need, compute, args, fallback))(
                needed, operands, default)

        result = lax.cond(count > FEW_SHARE * axis_size, all_at_once, one_by_one, None)
        return result, jax.tree.map(lambda _: True, result)

    return run(needed, operands, default)


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


def class_labels(y: jax.Array, n_classes: int) -> tuple[jax.Array, jax.Array]:
    """``(labels [n] int32, valid [])``: ``y`` as class indices, and whether all of them are.

    A label is valid when it is finite, a whole number and in ``0 .. n_classes - 1``; an
    invalid one reads as 0 (its data set then reports ``INVALID_INPUT``).
    """
    y = jnp.asarray(y)
    if jnp.issubdtype(y.dtype, jnp.integer):
        ok = (y >= 0) & (y < n_classes)
    else:
        ok = jnp.isfinite(y) & (y == jnp.round(y)) & (y >= 0) & (y < n_classes)
    return jnp.where(ok, y, 0).astype(jnp.int32), jnp.all(ok)


def zero_invalid(valid: jax.Array, *arrays: jax.Array) -> tuple[jax.Array, ...]:
    """The ``arrays`` where ``valid``, zeros where not (``valid`` broadcasts on the left).

    A bad data set still runs through a vmapped loop body with the others; zeros keep it
    from producing NaN or overflow that would cost time or trip a check, while its status
    says ``INVALID_INPUT``. With lanes last, pass ``valid`` already shaped by
    :func:`lane_mask`.
    """
    return tuple(jnp.where(valid, a, jnp.zeros_like(a)) for a in arrays)
