"""The README of a published run folder: what ran, on what, what the numbers say, the tables.

Everything in it is generated from the run's record; see :func:`render_readme`.
"""

from __future__ import annotations

from bench.formats import fmt_count
from bench.quotes import render
from bench.record import FIT, RunRecord
from bench.report.matching import case_sort_key
from bench.report.peers import PEER_LEGEND, peer_table, skipped_lines
from bench.report.resampled import RESAMPLED_LEGEND, resampled_table
from bench.report.sentences import reading_sentences
from bench.report.tables import (
    Table,
    baseline_table,
    ceilings_line,
    convergence_tables,
    markdown_table,
    scaling_table,
    speed_table,
)

__all__ = ["render_readme", "readme_tables", "package_versions", "SUMMARY_CSV", "RUN_JSON",
           "README", "source_file_name"]

#: The files of a run folder.
SUMMARY_CSV = "summary.csv"
RUN_JSON = "run.json"
README = "README.md"
#: ``python -m bench run`` as the tool that timed a run (and, in old files, its version).
CLI = "python -m bench run"


def source_file_name(run: RunRecord) -> str:
    """Where the run's own file goes in its folder: pytest-benchmark's JSON or our record.

    Gzipped: the per-iteration histories make a quick run's JSON 2.9 MB, 0.4 MB compressed.
    Runs published before were written uncompressed (:data:`LEGACY_SOURCE_SUFFIX`).
    """
    return ("record.json" if run.source == CLI else "benchmark.json") + ".gz"


#: What a run folder's own file lacked before it was gzipped (runs published until then).
LEGACY_SOURCE_SUFFIX = ".gz"


def _source_text(run: RunRecord) -> str:
    if run.source == CLI:
        return "the run's record, as `python -m bench run` wrote it"
    return "the pytest-benchmark JSON of the run"


_CONVERGENCE_LEGEND = """\
Each table is one model; each column one regime and dtype (`f32`, `f64`), over all the data
sets of that case. Rows:
- **converged %**: share of data sets whose fit met the model's stopping rule (status
  `converged` or `rank_deficient`).
- **separated %**: share that the binomial GLM flagged as (quasi-)separated: no finite
  maximum-likelihood estimate exists, the last finite iterate is reported.
- **LP: complete / quasi %** (binomial data): share of the data sets that the linear
  program (`models.glm.separation`, a certificate either way) found completely and
  quasi-completely separated; undecided ones, if any, in brackets. It is a property of the
  data, the same for every model on them.
- **converged % of LP-complete** (perceptron): converged among the completely separated
  data sets, the only ones on which the perceptron can stop.
- **status = LP verdict %** (binomial GLM): share of the data sets (decided by the LP) on
  which the GLM's status says what the verdict says: `separated` where the data are
  separated, anything else where they overlap.
- **statuses**: how many data sets ended with each non-zero status (`max_iter`: the budget
  ran out).
- **non-finite %**: share of fits whose parameters contain NaN or inf.
- **iterations median / p90 / max**: iterations (GLMs: Fisher scoring, which is Newton's
  method for the canonical links here; Firth: Newton on the exact Hessian), epochs
  (perceptron) or gradient steps (MLPs) used, with the budget in the row label.
- **accuracy mean (q10)**: mean over data sets, and the 10th percentile (the worst tenth
  is below it), on the training points and on held-out test points; `–` for Poisson and
  gamma models.
- **final loss median (mean)**: deviance / n (GLMs), mean cross-entropy (MLPs) or
  mistakes / n in the last epoch (perceptron), median (mean) over data sets.
- **scikit-learn's rule would stop % (median step)** (MLPs): scikit-learn
  `MLPClassifier`'s stopping rule (stop once the loss has not improved by `tol` = 1e-4 on
  its best for more than `n_iter_no_change` = 10 steps) replayed on each fit's own loss
  history: the share of data sets it would have stopped, and the median step where. Our
  own rule (the converged % row) is stricter, so that the MLP without a hidden layer
  reaches the GLM's fit.
- **max n_updates / (R/γ)²** (perceptron, separable data): the largest ratio, over data
  sets, of the number of updates to Novikoff's bound; the theorem says it is at most 1.
"""

_SPEED_LEGEND = """\
- **median s**: median wall-clock seconds of one timed round that fits all data sets of the
  case with one call of `jax.jit(jax.vmap(fit))` over the whole case, blocked until done:
  the public path that the README shows, with no chunking by the benchmark (each model's
  batching rule runs its own cache-sized groups of data sets on CPU, the whole batch on
  GPU; a `python -m bench run` record is chunked to bound memory, see its chunk size);
  compile time excluded.
- **fits/s**: data sets fitted per second (`data sets / median s`).
- **rounds**, **IQR s**: how many timed rounds the median is of, and their quartiles (the
  spread a reader needs to tell a change from noise).
- **compile s**: one-off ahead-of-time compile time, not in the timing.
- **GFLOP/s, GB/s**: analytic FLOPs and bytes of the iterations that ran, over median s.
- **% roofline**: GFLOP/s over the roofline bound from this run's measured ceilings.
- **lane eff.**: iterations the fits needed / iterations a vmapped loop over the timed
  call's whole batch would run (it runs until its slowest fit stops); the models' own
  groups are smaller, so they waste less than this says.
- Reference libraries fit a subset of the same data sets one at a time in float64;
  **speedup** = our fits/s (the float64 case when there is one, else float32) / their
  fits/s, so above 1 means ours is faster per fit; in brackets, its 95% interval: a
  percentile bootstrap (4,000 resamples, seeded) that resamples each row's rounds with
  replacement and takes the ratio of the resampled medians' speeds (`bench/intervals.py`;
  none where a row has fewer than 3 rounds). **their converged %** is what the
  library itself reports (`–` when it reports nothing); scikit-learn's `MLPClassifier` runs
  the same number of steps as ours with its early stop off, and its converged % is its own
  default rule replayed on its loss curve (`n_iter_ < max_iter` had the rule been on).
"""


#: The versions a run recorded, by key, before it recorded the catalog's packages under
#: ``"packages"`` (a key is its distribution's name with ``_`` for ``-``).
_OLD_PACKAGES = ("jax", "jaxlib", "optax", "numpy", "statsmodels", "scikit_learn")


def package_versions(machine: dict) -> dict[str, str | None]:
    """``{distribution: version}`` as the run recorded them (``machine_info.glmnn``).

    A run records every package of the catalog (:func:`bench.machine.package_versions`); an
    older one recorded six, each under a key of its own.
    """
    if isinstance(machine.get("packages"), dict):
        return dict(machine["packages"])
    return {key.replace("_", "-"): machine.get(key) for key in _OLD_PACKAGES}


def _accelerator_rows(accelerator: dict | None) -> list[list[str]]:
    """The accelerator's memory, driver, CUDA stack and XLA flags, as the run recorded them.

    A row only for what is there; none for a run from before they were recorded.
    """
    if accelerator is None:
        return []
    memory = accelerator.get("memory_bytes")
    driver, cuda = accelerator.get("driver"), accelerator.get("driver_cuda")
    rows = [["device memory", memory and f"{memory / 2**30:.1f} GiB per device"],
            ["driver", driver and f"{driver} (supports CUDA {cuda or '?'})"],
            ["JAX GPU plugin", ", ".join(filter(None, (accelerator.get(k) for k in (
                "plugin", "pjrt"))))],
            ["CUDA runtime, cuDNN", ", ".join(filter(None, (accelerator.get(k) for k in (
                "cuda_runtime", "cudnn"))))]]
    return [row for row in rows if row[1]] + [
        ["XLA_FLAGS", f"`{accelerator['xla_flags']}`" if accelerator.get("xla_flags")
         else "none"]]


def _machine_lines(run: RunRecord, meta: dict) -> list[str]:
    machine, info = run.machine_info.get("glmnn") or {}, run.machine_info
    devices = f"{meta['device_kind']} × {meta['device_count']} (JAX backend {meta['backend']})"
    rows = [
        ["device", devices],
        *_accelerator_rows(machine.get("accelerator")),
        ["CPU", f"{machine.get('cpu_model') or (info.get('cpu') or {}).get('brand_raw')}, "
                f"{machine.get('cpu_count') or (info.get('cpu') or {}).get('count')} cores"],
        ["host id", f"{meta['host_id']} (first 8 hex digits of the SHA-256 of the host name)"],
        ["system", f"{info.get('system', '?')} {info.get('release', '')} "
                   f"{info.get('machine', '')}".strip()],
        ["Python", f"{info.get('python_implementation', '')} "
                   f"{info.get('python_version', '?')}".strip()],
    ]
    for package, version in package_versions(machine).items():
        rows.append([package, version or "not installed"])
    if machine.get("glm_cpu_kernels"):  # runs before the native kernels did not record it
        rows.append(["GLM on CPU", machine["glm_cpu_kernels"]])
    cli = run.source == CLI or run.version == "glmnn-bench run"  # older CLI files said so
    rows.append(["pytest-benchmark", f"not used ({CLI})" if cli else run.version or "?"])
    return markdown_table(["", ""], rows)


def _commit_text(meta: dict) -> str:
    commit = meta["commit"]
    if not commit.get("id"):
        return "unknown (not run from a git checkout)"
    dirty = {True: "dirty: uncommitted changes", False: "clean"}.get(commit.get("dirty"),
                                                                     "dirty flag unknown")
    return f"`{commit['id']}` ({dirty})"


def _preset_text(run: RunRecord, meta: dict) -> str:
    settings = run.preset_settings or {}
    details = ", ".join(f"{key}={value}" for key, value in settings.items() if key != "name")
    return f"`{meta['preset']}`" + (f" ({details})" if details else "")


def _selection_lines(run: RunRecord) -> list[str]:
    """Whether the run is the whole matrix of its preset, or which part of it."""
    if run.suite_size is None:
        return []
    rows, skipped = len(run.cases), len(run.skipped)
    if rows + skipped >= run.suite_size:
        if skipped:
            return [f"- selection: the whole matrix of the preset, {rows} benchmark rows "
                    f"and {skipped} skipped (listed with the reason under Peers)"]
        return [f"- selection: the whole matrix of the preset, {rows} benchmark rows"]
    return [f"- selection: **a subset**, {rows} of the preset's {run.suite_size} benchmark "
            "rows (the others were not selected, or were skipped); a sentence that needs a "
            "missing row is left out"]


def _datasets_line(cases) -> list[str]:
    """The data sets per fit case, model by model (a family may fit fewer: the MLPs)."""
    sizes: dict[int, list[str]] = {}
    for case in sorted((c for c in cases if c.kind == FIT), key=case_sort_key):
        models = sizes.setdefault(case.n_datasets, [])
        if case.model not in models:
            models.append(case.model)
    if not sizes:
        return []
    if len(sizes) == 1:
        return [f"- data sets per fit case: {fmt_count(next(iter(sizes)))}, every model"]
    return ["- data sets per fit case: " + "; ".join(
        f"{fmt_count(n)} ({', '.join(models)})"
        for n, models in sorted(sizes.items(), reverse=True))]


#: Headings of the tables that a run may lack, and what the README says instead.
RESAMPLED, PEERS = "### Real data, resampled", "### Peers"
OURS, LIBRARIES = "### Ours", "### Reference libraries"
SCALING = "### Throughput against the number of data sets"
_EMPTY = {RESAMPLED: "No resampled real-data regime ran in this run.",
          PEERS: "No peer row ran in this run."}


def readme_tables(cases) -> dict[str, Table]:
    """Every table of the README by its heading (a table with no rows left out)."""
    tables = {RESAMPLED: resampled_table(cases), **convergence_tables(cases),
              OURS: speed_table(cases), LIBRARIES: baseline_table(cases),
              PEERS: peer_table(cases), SCALING: scaling_table(cases)}
    return {heading: table for heading, table in tables.items()
            if table is not None and (table.rows or heading not in _EMPTY)}


def render_readme(run: RunRecord, meta: dict, plots: list, plot_note: str) -> str:
    """The run folder's ``README.md``.

    Args:
        run: the run's record (:func:`bench.record.read_run`).
        meta: :func:`bench.report.folders.run_metadata` of it.
        plots: the :class:`bench.report.plots.Plot` files written beside it.
        plot_note: a line saying why plots are missing, or ``""``.
    """
    cases = list(run.cases)
    tables = readme_tables(cases)

    def table(heading: str) -> list[str]:
        return tables[heading].lines() if heading in tables else [_EMPTY[heading]]

    timing = ("timed" if meta["timed"] else
              "**not timed** (pytest-benchmark disabled: speeds are single calls)")
    lines = [
        f"# glmnn-bench run: {meta['date']}, {meta['device_kind']}, preset {meta['preset']}",
        "",
        "## What was run",
        "",
        f"- date: {meta['datetime']}",
        f"- command: `{meta['command'] or 'unknown'}`",
        f"- preset: {_preset_text(run, meta)}",
        f"- timing: {timing}",
        f"- commit: {_commit_text(meta)}",
        "- cases: " + ", ".join(f"{n} {kind}" for kind, n in meta["case_counts"].items()),
        *_selection_lines(run),
        *_datasets_line(cases),
        "",
        "## Machine and software",
        "",
        *_machine_lines(run, meta),
        "",
        "## What the numbers say",
        "",
        *(f"- {sentence}" for sentence in reading_sentences(cases, timed=meta["timed"])),
        "",
        "## Convergence",
        "",
        RESAMPLED,
        "",
        RESAMPLED_LEGEND,
        *table(RESAMPLED),
        "",
        "### Every model, every regime",
        "",
        _CONVERGENCE_LEGEND,
        *(line for heading in tables if heading not in (RESAMPLED, OURS, LIBRARIES, PEERS,
                                                        SCALING)
          for line in (heading, "", *table(heading), "")),
        "## Speed",
        "",
        _SPEED_LEGEND,
        "### Ours",
        "",
        *table(OURS),
        "",
        render(ceilings_line(cases, run.ceilings)),
        "",
        "### Reference libraries",
        "",
        *table(LIBRARIES),
        "",
        PEERS,
        "",
        PEER_LEGEND,
        *table(PEERS),
        *skipped_lines(run.skipped),
        "",
        "### Throughput against the number of data sets",
        "",
        *table(SCALING),
        "",
        "## Plots",
        "",
    ]
    for plot in plots:
        lines += [f"### {plot.title}", "", f"![{plot.title}]({plot.filename})", "",
                  plot.caption, ""]
    if plot_note:
        lines += [plot_note, ""]
    lines += [
        "## Files",
        "",
        f"- `{SUMMARY_CSV}`: one row per case, every scalar field (baseline rows with "
        "`speedup`).",
        f"- `{source_file_name(run)}`: {_source_text(run)} (host name replaced by its id).",
        f"- `{RUN_JSON}`: the metadata that `results/README.md` is generated from.",
        "",
    ]
    return "\n".join(lines)
