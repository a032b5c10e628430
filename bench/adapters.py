"""How a catalog model is fitted and evaluated on ONE data set (traceable), and batched.

An :class:`Adapter` closes over a catalog entry's settings and budget (static Python values),
so only arrays cross ``jit``. The runner vmaps ``fit`` and ``evaluate`` over a batch. Each
family module of :mod:`bench.families` holds its family's adapter (a test walks the
catalog); this module finds a model's and builds it at a preset's budget.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax

from bench import catalog
from bench.families.fitting import Adapter
from bench.presets import Preset

__all__ = ["Adapter", "adapter", "batched_fit"]


def adapter(name: str, preset: Preset) -> Adapter:
    """The fit and evaluation of catalog model ``name`` with the preset's budget.

    Raises:
        bench.catalog.CatalogError: for a model or family the catalog lacks.
    """
    entry = catalog.model(name)
    return catalog.family(entry.family).adapter(entry.settings, catalog.budget(entry, preset))


@functools.cache
def batched_fit(name: str, preset: Preset) -> Callable:
    """``jax.jit(jax.vmap(adapter(name, preset).fit))``, built once per model and preset.

    It takes ``keys [B, 2]``, ``X [B, n, p]``, ``y [B, n]``; one compilation per shape is
    shared by every caller (the figures' fits and the peer rows' comparison fits).
    """
    return jax.jit(jax.vmap(adapter(name, preset).fit))
