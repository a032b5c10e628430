"""Any number of data sets in bounded memory, on every local device and on many hosts.

:func:`run_scaled` runs one case as a loop over chunks. Each chunk is ONE compiled program
that generates its data sets from per-data-set keys (:func:`bench.datasets.dataset_keys`),
fits them with ``jax.vmap(fit)``, evaluates them and reduces them to mergeable
:class:`~bench.stats.ChunkStats`. Only those statistics (a few kB) leave the device, so memory
does not grow with ``n_datasets``.

* **Devices**: the chunk's data-set axis is sharded over all local devices (a 1-D
  :class:`jax.sharding.Mesh` named ``"datasets"`` and a ``NamedSharding`` on the leading
  axis). The chunk is padded to a multiple of the device count; padding rows are real data
  sets that are fitted and then masked out of the statistics.
* **Hosts**: after ``jax.distributed.initialize`` each of ``P`` processes runs the chunks
  ``c`` with ``c % P == process_index`` and the statistics are summed across processes with
  ``multihost_utils.process_allgather``, so every process ends with the statistics of the
  whole run.

The chunk programs are the same for every chunk (the chunk's start is a traced argument), so
a run compiles once per case.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from bench import datasets, runner
from bench.adapters import adapter
from bench.cases import Case
from bench.interrupts import raise_if_interrupted
from bench.presets import Preset
from bench.record import CaseRecord
from bench.stats import ChunkStats, merge, summarize_stats
from bench.timing import compile_ahead

__all__ = ["ScaledRun", "chunk_program", "run_scaled", "HISTORY_SAMPLE"]

#: Data sets of the first chunk whose histories are kept for the convergence curves.
HISTORY_SAMPLE = 1024


class ScaledRun(NamedTuple):
    """What a scaled run measured.

    Attributes:
        record: the case's row (:func:`bench.runner.case_record`: the statistics, the
            history summary of the sample, sizes, ``seconds``, ``fits_per_s``,
            ``compile_s``, ``chunk_size``, ``n_chunks``, ``process_count``, ...).
        stats: the merged :class:`~bench.stats.ChunkStats` (numpy).
    """

    record: CaseRecord
    stats: ChunkStats


def _mesh() -> Mesh:
    return Mesh(np.array(jax.local_devices()), ("datasets",))


def chunk_program(case: Case, preset: Preset, chunk_size: int, *, shard: bool = True,
                  on_compile: Callable | None = None) -> tuple[Callable, int, float]:
    """Compile the program that generates, fits, evaluates and reduces one chunk.

    Args:
        case: the case (model, regime, dtype, sizes); ``case.n_datasets`` is not used here.
        preset: supplies the seed and iteration budgets.
        chunk_size: data sets per chunk; rounded up to a multiple of the local device count.
        shard: shard the chunk over all local devices (a no-op with one device).
        on_compile: called once tracing is done, before XLA compiles
            (:func:`bench.timing.compile_ahead`).

    Returns:
        ``(program, chunk_size, compile_seconds)``: ``program(start, n_valid) ->
        (ChunkStats, history [min(chunk, HISTORY_SAMPLE), T])`` for the data sets
        ``[start, start + chunk)`` of which the first ``n_valid`` count (``start`` a
        ``uint32``, ``n_valid`` an ``int32``), the chunk size actually used, and the
        compile time.
    """
    n_devices = len(jax.local_devices()) if shard else 1
    chunk_size = -(-chunk_size // n_devices) * n_devices
    model = adapter(case.model, preset)
    data_key, fit_key = runner.case_keys(preset)
    make = functools.partial(
        datasets.make_from_keys, case.regime, n_samples=case.n_samples,
        n_features=case.n_features, n_test=case.n_test, dtype=case.dtype)
    sharding = NamedSharding(_mesh(), PartitionSpec("datasets")) if n_devices > 1 else None

    def program(start, n_valid):
        data_keys = datasets.dataset_keys(data_key, start, chunk_size)
        fit_keys = datasets.dataset_keys(fit_key, start, chunk_size)
        if sharding is not None:
            data_keys = jax.lax.with_sharding_constraint(data_keys, sharding)
            fit_keys = jax.lax.with_sharding_constraint(fit_keys, sharding)
        data = make(data_keys)
        result = jax.vmap(model.fit)(fit_keys, data.X_train, data.y_train)
        evaluation, stats = runner.evaluate_chunk(model, case, result, data, n_valid)
        return stats, evaluation.history[: min(chunk_size, HISTORY_SAMPLE)]

    # The start is a data set's 32-bit index (bench.datasets.dataset_keys), so it does not
    # overflow below bench.cases.MAX_DATASETS, as a signed 32-bit start did past 2**31.
    compiled, compile_s = compile_ahead(program, jnp.asarray(0, jnp.uint32),
                                        jnp.asarray(0, jnp.int32), on_compile=on_compile)
    return compiled, chunk_size, compile_s


def _allgather_sum(stats: ChunkStats) -> ChunkStats:
    """Combine per-process statistics: every process gets the statistics of all."""
    from jax.experimental import multihost_utils

    gathered = multihost_utils.process_allgather(jax.tree.map(np.asarray, stats))
    total = None
    for index in range(jax.process_count()):
        part = jax.tree.map(lambda leaf, index=index: np.asarray(leaf)[index], gathered)
        total = part if total is None else merge(total, part)
    return ChunkStats(*total)


def run_scaled(case: Case, preset: Preset, *, chunk_size: int | None = None,
               shard: bool = True, progress: Callable | None = None,
               on_compile: Callable | None = None) -> ScaledRun:
    """Run ``case`` over ``case.n_datasets`` data sets, chunk by chunk, in bounded memory.

    Args:
        case: what to run; ``case.n_datasets`` may be in the millions.
        preset: the seed and iteration budgets.
        chunk_size: data sets per chunk (default :func:`bench.runner.default_chunk_size` of
            the case, which bounds a chunk's memory).
        shard: shard each chunk over all local devices.
        progress: optional ``progress(done, total, fits_per_s, seconds)`` called after each
            chunk of this process (``seconds`` since the first chunk was launched).
        on_compile: optional ``on_compile()`` called before XLA compiles the chunk program.

    Returns:
        A :class:`ScaledRun`. Timing (``seconds``) covers this process's chunks, data
        generation included, compilation excluded.
    """
    chunk_size = min(chunk_size or runner.default_chunk_size(case), case.n_datasets)
    program, chunk_size, compile_s = chunk_program(case, preset, chunk_size, shard=shard,
                                                   on_compile=on_compile)

    # Ranges, not lists: a run of billions of data sets has millions of chunks.
    starts = range(0, case.n_datasets, chunk_size)
    mine = starts[jax.process_index()::jax.process_count()]
    # The first execution of a program pays one-off costs; keep it out of the timing. With
    # n_valid = 0 it counts nothing: its statistics are those of no fits at all.
    no_fits = jax.tree.map(np.asarray, program(jnp.uint32(0), jnp.int32(0))[0])

    total, history, done_fits = None, None, 0
    start = time.perf_counter()
    pending = None
    for index, chunk_start in enumerate(itertools.chain(mine, [None])):
        # Dispatch chunk i before fetching chunk i - 1, so the device never idles.
        launched = None
        if chunk_start is not None:
            n_valid = min(chunk_size, case.n_datasets - chunk_start)
            launched = (program(jnp.uint32(chunk_start), jnp.int32(n_valid)), chunk_start,
                        n_valid)
        if pending is not None:
            (stats, sample), first, n_valid = pending
            stats = jax.tree.map(np.asarray, stats)
            total = stats if total is None else merge(total, stats)
            if first == 0:
                history = np.asarray(sample)[: min(n_valid, HISTORY_SAMPLE)]
            done_fits += n_valid
            if progress is not None:
                elapsed = time.perf_counter() - start
                progress(index, len(mine), done_fits / elapsed, elapsed)
        pending = launched
        raise_if_interrupted()  # one a garbage-collection callback swallowed stops here
    seconds = time.perf_counter() - start

    if total is None:  # more processes than chunks: this one had none
        total = no_fits
    if jax.process_count() > 1:
        total = _allgather_sum(total)

    summary = summarize_stats(total)
    if history is not None:
        summary.update(runner.history_summary(history, adapter(case.model,
                                                               preset).history_step))
    record = runner.case_record(
        case, preset, summary, seconds=seconds, timed=True, compile_s=compile_s,
        chunk_size=chunk_size, fits=done_fits, n_chunks=len(starts),
        includes_generation=True, process_count=jax.process_count(),
        process_index=jax.process_index(), local_device_count=len(jax.local_devices()))
    return ScaledRun(record, total)
