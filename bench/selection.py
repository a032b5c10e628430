"""Which cases a ``python -m bench run`` command runs, every one checked before any compute.

The cases come from the command's options (:func:`from_options`) or from a recorded run
(:func:`from_run`, ``--from``). Each is validated here (model, regime, dtype, sizes), so a
bad one costs no compute, and what the command will do differently from what it says (a
family's cap on its data sets) is returned as notes to print.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import NamedTuple

from bench import catalog
from bench.cases import MAX_DATASETS, Case, all_cases
from bench.memory import cpu_budget, dataset_problem
from bench.presets import Preset, get_preset
from bench.record import FIT, SCALING, read_run

__all__ = ["Selection", "SelectionError", "from_options", "from_run", "check_case",
           "run_regimes", "machine_memory"]


class SelectionError(ValueError):
    """A selection of cases that cannot run; the message says what to change."""


class Selection(NamedTuple):
    """What a ``run`` command runs.

    Attributes:
        preset: the sizes and budgets.
        cases: the cases, in the order they run.
        chunk_sizes: each case's chunk size (None: the backend's default).
        notes: lines that say where the run differs from what its options suggest.
    """

    preset: Preset
    cases: tuple[Case, ...]
    chunk_sizes: tuple[int | None, ...]
    notes: tuple[str, ...] = ()


def run_regimes() -> tuple[str, ...]:
    """The regimes that some model runs on, in catalog order (what ``--regime`` offers)."""
    used = {r for m in catalog.models() for r in m.regimes}
    return tuple(r.name for r in catalog.regimes() if r.name in used)


def check_case(case: Case, where: str, *, options: bool = True) -> None:
    """Validate one case before anything runs, so a bad one costs no compute.

    Args:
        case: the case.
        where: what to call it in a message.
        options: its sizes came from command-line options (a message then names the one to
            change), not from a recorded run.

    Raises:
        SelectionError: ``where`` and what is wrong.
    """
    from bench.datasets import check_args

    try:
        entry = catalog.model(case.model)
    except catalog.CatalogError as error:
        raise SelectionError(f"{where}: {error}") from None
    if case.regime not in entry.regimes:
        raise SelectionError(f"{where}: model {case.model} runs on "
                             f"{', '.join(entry.regimes)}, not {case.regime!r}.")
    if case.dtype not in entry.dtypes:
        raise SelectionError(f"{where}: model {case.model} runs in "
                             f"{', '.join(entry.dtypes)}, not {case.dtype!r}.")
    try:
        check_args(case.regime, n_datasets=case.n_datasets, n_samples=case.n_samples,
                   n_features=case.n_features, n_test=case.n_test, dtype="float32")
    except ValueError as error:
        raise SelectionError(f"{where}: {error}") from None
    problem = dataset_problem(case, cpu_budget(machine_memory()), options=options)
    if problem:
        raise SelectionError(f"{where}: {problem}")


def machine_memory() -> int | None:
    """The machine's physical memory in bytes, or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def _cap_notes(preset: Preset, cases: Sequence[Case]) -> tuple[str, ...]:
    """Say which models fit fewer data sets than the preset's, because of their family."""
    capped: dict[int, list[str]] = {}
    for name in dict.fromkeys(case.model for case in cases if case.kind == FIT):
        entry = catalog.model(name)
        size = catalog.n_datasets_cap(entry, preset)
        if size < preset.n_datasets:
            capped.setdefault(size, []).append(name)
    return tuple(
        f"note: {', '.join(names)} fit{'s' if len(names) == 1 else ''} {size:,} data sets "
        f"per case, not {preset.n_datasets:,}: the preset caps the "
        f"{catalog.model(names[0]).family} family at "
        f"{catalog.family_of(names[0]).n_datasets_cap}={size:,}."
        for size, names in capped.items())


def _no_match(models, regimes, dtypes) -> str:
    reasons = []
    for entry in catalog.models():
        if models and entry.name not in models:
            continue
        why = []
        if regimes and not set(regimes) & set(entry.regimes):
            why.append(f"runs on {', '.join(entry.regimes)}")
        if dtypes and not set(dtypes) & set(entry.dtypes):
            why.append(f"runs in {', '.join(entry.dtypes)} only")
        reasons.append(f"{entry.name} {' and '.join(why)}")
    return ("no benchmark case matches that --model/--regime/--dtype selection: "
            + "; ".join(reasons) + ".")


def from_options(*, preset: str | None = None, models: Sequence[str] | None = None,
                 regimes: Sequence[str] | None = None, dtypes: Sequence[str] | None = None,
                 n_datasets: int | None = None, n_samples: int | None = None,
                 n_features: int | None = None, n_test: int | None = None,
                 chunk_size: int | None = None) -> Selection:
    """The cases of a preset (default ``quick``), restricted and resized by the options.

    ``n_test`` follows ``n_samples`` when only ``n_samples`` is given, as
    :func:`bench.datasets.make` does. With ``n_datasets``, the sweep is dropped.

    Raises:
        SelectionError: no case matches, or a case cannot run at these sizes.
    """
    base = get_preset(preset or "quick")
    if n_samples is not None and n_samples < 2:
        raise SelectionError("--n-samples must be >= 2.")
    if n_datasets is not None and n_datasets > MAX_DATASETS:
        raise SelectionError(
            f"--n-datasets {n_datasets} is more than the {MAX_DATASETS:,} data sets a case can "
            f"have (each one's key is derived from a 32-bit index): choose --n-datasets "
            f"{MAX_DATASETS} or fewer.")
    if n_samples is not None and n_test is None:
        n_test = n_samples
    overrides = {k: v for k, v in (("n_datasets", n_datasets), ("n_samples", n_samples),
                                   ("n_features", n_features), ("n_test", n_test))
                 if v is not None}
    chosen = base._replace(**overrides)
    if n_datasets is not None:
        chosen = chosen._replace(sweep=())
    cases = tuple(c for c in all_cases(chosen)
                  if (not models or c.model in models)
                  and (not regimes or c.regime in regimes)
                  and (not dtypes or c.dtype in dtypes))
    if not cases:
        raise SelectionError(_no_match(models, regimes, dtypes))
    for case in cases:
        check_case(case, f"case {case.id}")
    return Selection(chosen, cases, (chunk_size,) * len(cases), _cap_notes(chosen, cases))


def from_run(path: pathlib.Path, *, chunk_size: int | None = None) -> Selection:
    """The preset and the cases of ours recorded in a run (baselines are not rerun).

    Each case reruns at its recorded chunk size unless ``chunk_size`` is given.

    Raises:
        SelectionError: the run records no preset or no case of ours, or a case cannot
            run with this version of glmnn-bench.
        bench.record.RecordError: the file cannot be read as a run.
    """
    run = read_run(path)
    settings = run.preset_settings
    if not settings:
        raise SelectionError(f"{path} records no preset settings (glmnn.preset_settings); "
                             "it was not written by glmnn-bench, so it cannot be rerun.")
    try:
        preset = Preset(**{**settings, "sweep": tuple(settings.get("sweep") or ())})
    except TypeError as error:
        raise SelectionError(f"{path}: its preset settings do not match this version of "
                             f"glmnn-bench ({error}).") from None
    cases, chunks = [], []
    for row in run.cases:
        if row.kind not in (FIT, SCALING):
            continue
        where = f"{path}: case {row.name!r}"
        missing = [f for f in ("n_samples", "n_features", "n_test") if getattr(row, f) is None]
        if missing:
            raise SelectionError(f"{where} lacks {', '.join(missing)}.")
        case = Case(row.model, row.regime, row.dtype, row.n_datasets, row.n_samples,
                    row.n_features, row.n_test, kind=row.kind)
        check_case(case, where, options=False)
        cases.append(case)
        chunks.append(chunk_size or row.chunk_size)
    if not cases:
        raise SelectionError(f"{path} holds no benchmark case of ours to rerun.")
    return Selection(preset, tuple(cases), tuple(chunks))
