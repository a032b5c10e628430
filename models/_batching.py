"""How a vmapped fit runs its data sets: in groups of lanes sized for the platform.

Under ``jax.vmap`` every data set is a *lane* of one program. A fit's loop reads its data
once per iteration, so how many lanes run together decides where those reads come from:

* on **CPU**, a group whose working set stays in cache runs every iteration out of cache;
  one group of thousands of lanes streams through memory at every iteration instead, and
  was 1.4-3x slower in every model (``python -m bench.grouping`` measures it). The batch
  then runs as consecutive groups, a loop over groups of a vmap, as
  ``lax.map(f, xs, batch_size=g)`` does. The GLM and the perceptron size their groups
  from their working set (:data:`CPU_GROUP_BYTES`); the MLP, whose ~40 small ops a step
  cost about as much per call as per lane, runs a fixed number of lanes
  (:data:`CPU_LANES`), which pays each op's overhead over more lanes;
* on **other backends** (GPU, TPU) a group is the whole batch, or as many lanes as
  :data:`DEVICE_GROUP_BYTES` of working set allow: a GPU needs many lanes to fill its
  cores and has the memory bandwidth to stream them.

Each model's batching rule (a ``jax.custom_batching.custom_vmap``) calls
:func:`run_in_groups` with its own estimate of a lane's working set, so the plain
``jax.jit(jax.vmap(fit))`` that users write gets the grouped speed without knowing about
groups. A fit's ``group_size`` argument sets the group explicitly, on every backend (for
tuning on another CPU). Every lane computes what it computes in any other group or
batch: the GLM's IRLS and the perceptron give the same bits under any grouping (and the
same as a single fit); Firth and the MLP agree to a few ulps, since XLA:CPU picks its
kernel for a batched matrix product by the batch's size (tests/test_batching.py).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable

import jax
import jax.extend
import jax.numpy as jnp
from jax import lax

__all__ = ["CPU_GROUP_BYTES", "CPU_LANES", "CPU_LANES_BYTES", "DEVICE_GROUP_BYTES", "lane_bytes",
           "cpu_group_size", "check_group_size", "groups_for", "run_in_groups",
           "on_platform", "batched_rule", "vmapped_lanes", "forced_platform"]

DEVICE_GROUP_BYTES = 8 << 30
"""Most bytes of working set of one group of lanes off CPU (8 GiB): the whole batch of
every case of the ``gpu`` preset fits in one group on an H200 (141 GB); a smaller GPU gets
several groups instead of running out of memory."""


#: Working-set budget, in bytes, of one group of lanes on CPU, for every model: about a
#: core's L2 cache (1 MiB on the 2-core machine where it was measured with
#: ``python -m bench.grouping``; see each model's ``group_size`` argument for the numbers).
CPU_GROUP_BYTES = 1 << 20

#: Most lanes per group on CPU for the models whose groups are a number of lanes rather
#: than a working set (in equal groups of a multiple of 8 lanes). The MLP is bound by its
#: many small ops per step more than by cache, so it takes more lanes than 1 MiB would
#: give, up to :data:`CPU_LANES_BYTES` of working set (the measurement: ``docs/mlp.md``).
CPU_LANES = {"mlp": 256}

#: Most working set, in bytes, of a group of :data:`CPU_LANES` lanes: past about this much
#: (a few MiB, the L3 share of a core) hidden=(16,) at p = 11 ran 1.4x slower in groups
#: of 192 (11 MiB by :func:`lane_bytes`) than of 128 or 144 (7-8 MiB).
CPU_LANES_BYTES = 8 << 20


def lane_bytes(model: str, n_samples: int, n_columns: int, itemsize: int, *,
               firth: bool = False, hidden: tuple[int, ...] = ()) -> int:
    """About the bytes one data set's loop reads at every iteration, by model.

    * ``"glm"``: ``X`` (``n p`` numbers); Firth's exact Hessian also builds the ``[p^2, n]``
      products of whitened rows (``n p^2`` more);
    * ``"perceptron"``: ``X`` and ``y`` (``n (p + 1)``);
    * ``"mlp"``: ``X.T`` and a few ``[width, n]`` activations and their gradients
      (``n (2 p + 3 sum(hidden))``).

    Args:
        model: ``"glm"``, ``"perceptron"`` or ``"mlp"``.
        n_samples: ``n``, rows of one data set.
        n_columns: ``p``, columns of its design matrix (intercept included).
        itemsize: bytes per number (4 for float32, 8 for float64).
        firth: the GLM is Firth's.
        hidden: the MLP's hidden widths.
    """
    n, p = n_samples, n_columns
    numbers = {"glm": n * (p + (p * p if firth else 0)), "perceptron": n * (p + 1),
               "mlp": n * (2 * p + 3 * sum(hidden))}[model]
    return itemsize * numbers


def cpu_group_size(model: str, n_datasets: int, n_samples: int, n_columns: int, dtype, *,
                   firth: bool = False, hidden: tuple[int, ...] = ()) -> int:
    """Data sets per group that a vmapped fit of ``model`` runs on CPU by default.

    Args:
        model: ``"glm"``, ``"perceptron"`` or ``"mlp"``.
        n_datasets: the batch size ``B`` (the vmapped axis).
        n_samples: ``n``, rows of one data set.
        n_columns: ``p``, columns of its design matrix (intercept included).
        dtype: the data's float dtype.
        firth: the GLM is Firth's.
        hidden: the MLP's hidden widths.

    Returns:
        For the models of :data:`CPU_LANES` (the MLP), at most that many, in equal groups
        of a multiple of 8 lanes; otherwise the power of two nearest to
        ``CPU_GROUP_BYTES // lane_bytes``; ``B`` if that is more (:func:`groups_for`).
    """
    size = lane_bytes(model, n_samples, n_columns, jnp.dtype(dtype).itemsize, firth=firth,
                      hidden=hidden)
    return _cpu_groups(n_datasets, size, CPU_GROUP_BYTES, CPU_LANES.get(model))[1]


def _cpu_groups(axis_size: int, lane_bytes: int, cpu_bytes: int, cpu_lanes: int | None):
    """``(n_groups, lanes_per_group)`` on CPU: by ``cpu_lanes`` if given, else ``cpu_bytes``.

    With ``cpu_lanes``: as few groups as hold at most that many lanes each (and at most
    :data:`CPU_LANES_BYTES` of working set), as equal as they can be, rounded up to a
    multiple of 8 lanes (the vector width): 300 data sets are two groups of 152, where two
    groups of 256 would fit 44 lanes twice.
    """
    if cpu_lanes is None:
        return groups_for(axis_size, lane_bytes, cpu_bytes)
    cpu_lanes = min(cpu_lanes, max(8, 8 * (CPU_LANES_BYTES // max(1, lane_bytes) // 8)))
    n_groups, per_group = groups_for(axis_size, 1, cpu_lanes, nearest_power=False)
    if n_groups == 1:
        return n_groups, per_group
    return n_groups, min(cpu_lanes, 8 * math.ceil(per_group / 8))


def check_group_size(group_size) -> int | None:
    """``None`` or a static int >= 1; raises ``ValueError`` otherwise."""
    if group_size is None:
        return None
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be None or a static int >= 1 (data sets per "
                         f"group under vmap), got {group_size!r}.")
    return int(group_size)


def groups_for(axis_size: int, lane_bytes: int, budget: int, *,
               nearest_power: bool = True) -> tuple[int, int]:
    """``(n_groups, lanes_per_group)`` for ``axis_size`` lanes of ``lane_bytes`` each.

    A group holds the power of two nearest (in ratio) to ``budget // lane_bytes`` lanes
    (with ``nearest_power``; else at most that many, in groups as equal as they can be,
    for a budget that is a hard bound);
    the whole batch is one group when that is at least ``axis_size``. Lanes are the
    vectorised axis, and the best hand-chunked ``lax.map`` of the GLM and the perceptron
    was at a power of two (GLM float64: 64 lanes; perceptron: 128), while groups of 59 or
    109 lanes ran up to 1.4x slower than 56 or 104.
    """
    most = max(1, budget // max(1, lane_bytes))
    per_group = 2 ** round(math.log2(most)) if nearest_power else most
    if per_group >= axis_size:
        return 1, axis_size
    n_groups = math.ceil(axis_size / per_group)
    if not nearest_power:  # as equal as they can be, so the overlap of the last is small
        per_group = math.ceil(axis_size / n_groups)
    return n_groups, per_group


def _grouped(batch_fn: Callable, lanes: int, n_groups: int, per_group: int):
    """``batch_fn`` over ``n_groups`` consecutive groups of ``per_group`` lanes.

    A loop over groups: group ``i`` is lanes ``[s, s + per_group)`` with
    ``s = min(i * per_group, lanes - per_group)``, so the last group overlaps the one
    before instead of being padded: no copy of the batch, no made-up data set, one
    compiled body. A lane fitted twice gives the same bits both times.

    One group runs through the same loop, with a trip count XLA cannot see (it would
    inline a loop of one trip): XLA compiles a loop body and the top level of a program
    differently (the GLM's deviance differed in its last bit), and in a loop every
    grouping compiles the same body, so results do not depend on the grouping.
    """
    def run(args):
        last = lanes - per_group

        def lanes_from(start, tree):
            return jax.tree.map(lambda leaf: lax.dynamic_slice_in_dim(leaf, start, per_group),
                                tree)

        # The fit is traced once, here: its jaxpr gives the output shapes and is the loop
        # body (tracing it again for the body doubled the trace time of every program).
        group = lanes_from(0, args)
        closed, shapes = jax.make_jaxpr(lambda group: batch_fn(*group),
                                        return_shape=True)(group)
        fit_group, out_tree = jax.extend.core.jaxpr_as_fun(closed), jax.tree.structure(shapes)
        out = jax.tree.map(lambda s: jnp.zeros((lanes,) + s.shape[1:], s.dtype), shapes)

        def body(carry):
            i, out = carry
            start = jnp.minimum(i * per_group, last)
            result = jax.tree.unflatten(out_tree,
                                        fit_group(*jax.tree.leaves(lanes_from(start, args))))
            return i + 1, jax.tree.map(lambda whole, part: lax.dynamic_update_slice_in_dim(
                whole, part, start, axis=0), out, result)

        trips = lax.optimization_barrier(jnp.int32(n_groups))
        return lax.while_loop(lambda carry: carry[0] < trips, body, (jnp.int32(0), out))[1]

    return run


def run_in_groups(batch_fn: Callable, args: tuple, *, lane_bytes: int,
                  cpu_lanes: int | None = None, group_size: int | None = None):
    """``batch_fn(*args)`` over the leading (lane) axis of ``args``, in groups of lanes.

    Args:
        batch_fn: fits a batch: ``(*args) -> pytree`` with the lane axis leading on every
            input and output leaf (a vmap of the single fit, or a lanes-last kernel).
        args: the batched arguments, lanes leading (unbatched ones are closed over by
            ``batch_fn``).
        lane_bytes: the model's estimate of one lane's working set, in bytes
            (:func:`lane_bytes`).
        cpu_lanes: lanes per group on CPU instead of a working-set budget (the MLP's
            :data:`CPU_LANES`); None to size groups by :data:`CPU_GROUP_BYTES` (read when
            the fit is traced).
        group_size: lanes per group on every backend, or None for the platform's choice:
            ``cpu_lanes`` or :data:`CPU_GROUP_BYTES` on CPU, :data:`DEVICE_GROUP_BYTES`
            elsewhere.

    Returns:
        ``batch_fn``'s output for all lanes, lanes leading.
    """
    lanes = jax.tree.leaves(args)[0].shape[0]
    if group_size is not None:
        per_group = min(group_size, lanes)
        return _grouped(batch_fn, lanes, math.ceil(lanes / per_group), per_group)(args)
    cpu = _cpu_groups(lanes, lane_bytes, CPU_GROUP_BYTES, cpu_lanes)
    other = groups_for(lanes, lane_bytes, DEVICE_GROUP_BYTES, nearest_power=False)
    if cpu == other and not _FORCED_PLATFORM:
        return _grouped(batch_fn, lanes, *cpu)(args)
    return on_platform((args,), cpu=_grouped(batch_fn, lanes, *cpu),
                       default=_grouped(batch_fn, lanes, *other))


def on_platform(args: tuple, *, cpu: Callable, default: Callable):
    """``cpu(*args)`` on CPU and ``default(*args)`` elsewhere: ``lax.platform_dependent``.

    Inside :func:`forced_platform`, or with :data:`TRACE_PLATFORM_VARIABLE` set, the choice
    is made at trace time instead, for that platform: a test on CPU can run the branch
    another platform would take, and a process that only ever runs on CPU need not trace
    the other branch (about 2 s of Python for each new shape of a GLM fit).
    """
    platform = (_FORCED_PLATFORM[-1] if _FORCED_PLATFORM
                else os.environ.get(TRACE_PLATFORM_VARIABLE) or None)
    if platform is None:
        return lax.platform_dependent(*args, cpu=cpu, default=default)
    return (cpu if platform == "cpu" else default)(*args)


#: The platform whose branch :func:`on_platform` traces, when :func:`forced_platform` is
#: active (a stack, innermost last; None for ``lax.platform_dependent``'s choice).
_FORCED_PLATFORM: list[str | None] = []

#: ``GLMNN_TRACE_PLATFORM=cpu`` traces only the CPU branch of every platform choice (an
#: untimed ``pytest`` sets it for its processes). Read when a fit is traced, so set it
#: before the first; a program traced so must then run on that platform, and
#: ``jax.export`` for another platform needs it unset (or ``forced_platform(None)``).
TRACE_PLATFORM_VARIABLE = "GLMNN_TRACE_PLATFORM"


@contextlib.contextmanager
def forced_platform(platform: str | None):
    """Trace every vmapped fit with ``platform``'s grouping, whatever runs it.

    For tests: ``with forced_platform("gpu"):`` runs the branch that a GPU would take
    (the whole batch, or :data:`DEVICE_GROUP_BYTES` groups) on the CPU, so that branch is
    executed before it meets a GPU. JAX's compilation caches are cleared on entry and on
    exit, since the choice is made at trace time and is not part of any cache key.

    Args:
        platform: ``"cpu"`` for the CPU branch; any other name for the default branch;
            None for ``lax.platform_dependent``'s choice, even with
            :data:`TRACE_PLATFORM_VARIABLE` set.
    """
    jax.clear_caches()
    _FORCED_PLATFORM.append(platform)
    try:
        yield
    finally:
        _FORCED_PLATFORM.pop()
        jax.clear_caches()


def batched_rule(fit_one: Callable, run_batch: Callable):
    """``fit_one`` as a ``custom_vmap`` whose batching rule is ``run_batch``.

    Args:
        fit_one: ``(*args) -> result`` for one data set.
        run_batch: ``(axis_size, in_batched, *args) -> result`` with the lane axis leading
            on every leaf, for arguments of which those flagged in ``in_batched`` carry a
            leading lane axis.
    """
    rule = jax.custom_batching.custom_vmap(fit_one)

    @rule.def_vmap
    def vmapped(axis_size, in_batched, *args):
        result = run_batch(axis_size, in_batched, *args)
        return result, jax.tree.map(lambda _: True, result)

    return rule


def vmapped_lanes(fit_one: Callable, in_batched, args) -> tuple[Callable, tuple]:
    """``(batch_fn, batched)``: ``jax.vmap(fit_one)`` over the batched leaves of ``args``.

    ``batch_fn(*batched)`` is ``fit_one`` vmapped over the leaves that ``in_batched`` (a
    ``custom_vmap`` rule's flags, one pytree per argument) marks as batched, with the other
    leaves closed over unbatched, as :func:`run_in_groups` wants it.
    """
    leaves, tree = jax.tree.flatten(args)
    flags = jax.tree.leaves(in_batched)
    batched = tuple(leaf for leaf, flag in zip(leaves, flags) if flag)

    def one(*lane):
        lane = iter(lane)
        full = [next(lane) if flag else leaf for leaf, flag in zip(leaves, flags)]
        return fit_one(*jax.tree.unflatten(tree, full))

    return jax.vmap(one), batched
