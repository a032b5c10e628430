"""``python -m bench``: run the benchmark matrix without pytest, publish and compare runs.

Commands::

    python -m bench run [--preset quick] [--model glm ...] [--regime overlap ...]
                        [--dtype float64] [--n-datasets N] [--n-samples N] [--n-features N]
                        [--json OUT.json] [--publish]
    python -m bench publish RUN.json [--results-dir results]
    python -m bench compare OLD.json NEW.json [--fail-above 1.5]

``run`` writes our own run record (:mod:`bench.record`): the same rows as the
``extra_info`` of ``pytest --benchmark``, but not pytest-benchmark's file format (its own
``compare`` cannot read it); ``publish`` and ``compare`` take either. Mistakes in a command
give one line that says what to change and exit status 2, never a traceback; they are found
before anything is computed. A Ctrl-C stops a run at any moment, from the first (exit 130,
nothing recorded or published); a run's rows are printed before its record is written, and
a record that cannot be written where asked is written to the system's temporary folder.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import shlex
import sys

from bench import interrupts

if __name__ == "__main__":
    # First, before JAX is imported: a Ctrl-C while it imports would be lost
    # (bench.interrupts).
    interrupts.hold_until_started()

__all__ = ["main", "build_parser"]


class CommandError(Exception):
    """A mistake in the command line or its inputs: printed as one line, exit status 2."""


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistake prints one line (what to change), not the usage block."""

    def error(self, message):
        """Print ``prog: error: message`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _host_port(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT (e.g. host0:12345), got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bench`` (every argument has its help text)."""
    from bench import catalog, paths
    from bench.presets import PRESETS
    from bench.selection import run_regimes

    models = tuple(m.name for m in catalog.models())
    dtypes = tuple(dict.fromkeys(d for m in catalog.models() for d in m.dtypes))
    records, results = paths.records_folder(), paths.results_folder()

    parser = _OneLineParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,publish,compare}",
                                parser_class=_OneLineParser, help="what to do")

    run = sub.add_parser("run", help="run the benchmark matrix (or part of it) without pytest")
    run.add_argument("--preset", choices=tuple(PRESETS), default=None,
                     help="sizes and iteration budgets (default: quick)")
    run.add_argument("--from", dest="from_json", type=pathlib.Path, metavar="PATH", default=None,
                     help="rerun exactly the matrix of a published run's benchmark.json(.gz) or "
                          "record.json(.gz) (its preset, seed, cases, sizes and chunk sizes)")
    run.add_argument("--model", action="append", choices=models,
                     help="only this model (repeatable; default: all)")
    run.add_argument("--regime", action="append", choices=run_regimes(),
                     help="only this regime (repeatable; default: all of each model's)")
    run.add_argument("--dtype", action="append", choices=dtypes,
                     help="only this dtype (repeatable; default: each model's)")
    run.add_argument("--n-datasets", type=_positive_int, metavar="N",
                     help="data sets per case (default: the preset's; the MLPs keep the "
                          "preset's cap, and the run says so); drops the sweep")
    run.add_argument("--n-samples", type=_positive_int, metavar="N",
                     help="training points per data set (default: the preset's)")
    run.add_argument("--n-features", type=_positive_int, metavar="N",
                     help="features per data set, intercept not counted (default: the "
                          "preset's)")
    run.add_argument("--n-test", type=_positive_int, metavar="N",
                     help="held-out points per data set (default: --n-samples if given, "
                          "else the preset's)")
    run.add_argument("--chunk-size", type=_positive_int, metavar="N", default=None,
                     help="data sets per compiled chunk (default: 256 on CPU, 65536 on GPU; "
                          "with --from, the recorded one)")
    run.add_argument("--coordinator", type=_host_port, metavar="HOST:PORT", default=None,
                     help="multi-host: HOST:PORT of process 0 (jax.distributed.initialize)")
    run.add_argument("--num-processes", type=_positive_int, metavar="N", default=None,
                     help="multi-host: number of processes")
    run.add_argument("--process-id", type=int, metavar="I", default=None,
                     help="multi-host: this process's index, 0 .. num-processes - 1")
    run.add_argument("--json", type=pathlib.Path, metavar="PATH",
                     help="write the run's record here, replacing an earlier record (not a "
                          "published run's file, nor any other file; default: a new "
                          f"{records}/glmnn-run-<UTC stamp>-<process id>.json)")
    run.add_argument("--publish", action="store_true",
                     help="publish the run into --results-dir afterwards")
    run.add_argument("--results-dir", type=pathlib.Path, metavar="DIR", default=results,
                     help=f"where --publish writes the run folder (default: {results})")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar: plain progress lines, as in a log file")

    publish = sub.add_parser("publish", help="write results/<run>/ from a run's JSON")
    publish.add_argument("json", type=pathlib.Path,
                         help="the run: pytest-benchmark's JSON or python -m bench run's record")
    publish.add_argument("--results-dir", type=pathlib.Path, metavar="DIR", default=results,
                         help=f"the folder of run folders (default: {results})")

    reindex = sub.add_parser("reindex", help="recompute each published run's headline "
                             "ratios from its JSON, then the index and history plot")
    reindex.add_argument("--results-dir", type=pathlib.Path, metavar="DIR", default=results,
                         help=f"the folder of run folders (default: {results})")

    compare = sub.add_parser("compare", help="per-case speed ratios between two runs")
    compare.add_argument("old", type=pathlib.Path, help="the earlier run's JSON")
    compare.add_argument("new", type=pathlib.Path, help="the later run's JSON")
    compare.add_argument("--fail-above", type=float, metavar="RATIO", default=None,
                         help="exit 1 if a case is slower than this ratio (new/old time) "
                              "and significantly so (one-sided Mann-Whitney U on the rounds, "
                              "p <= 0.05; the ratio alone where a run kept no rounds), or if "
                              "no case can be compared")
    compare.add_argument("--allow-incomplete", action="store_true",
                         help="compare a run that is not whole (marked incomplete, or "
                              "without its glmnn block) without failing; it is still said")
    return parser


def _select(args):
    """The cases of the command, each checked (:mod:`bench.selection`)."""
    from bench import selection

    if args.from_json is not None:
        if any(v is not None for v in (args.preset, args.model, args.regime, args.dtype,
                                       args.n_datasets, args.n_samples, args.n_features,
                                       args.n_test)):
            raise CommandError("--from reruns a recorded matrix exactly: drop --preset, "
                               "--model, --regime, --dtype and the size options.")
        return selection.from_run(args.from_json, chunk_size=args.chunk_size)
    return selection.from_options(
        preset=args.preset, models=args.model, regimes=args.regime, dtypes=args.dtype,
        n_datasets=args.n_datasets, n_samples=args.n_samples, n_features=args.n_features,
        n_test=args.n_test, chunk_size=args.chunk_size)


def _check_distributed(args) -> bool:
    """Whether this is a multi-host run; raise if its options are incomplete."""
    given = [args.coordinator is not None, args.num_processes is not None,
             args.process_id is not None]
    if not any(given):
        return False
    if not all(given):
        raise CommandError("multi-host runs need all of --coordinator HOST:PORT, "
                           "--num-processes N and --process-id I.")
    if not 0 <= args.process_id < args.num_processes:
        raise CommandError(f"--process-id must be in 0 .. {args.num_processes - 1}, "
                           f"got {args.process_id}.")
    return True


def _machine_and_commit() -> tuple[dict, dict]:
    """pytest-benchmark's own machine and commit fields, with ours under ``"glmnn"``."""
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
    from pytest_benchmark.utils import get_commit_info

    from bench.machine import machine_info

    machine = pytest_benchmark_generate_machine_info()
    machine["glmnn"] = machine_info()
    return machine, get_commit_info()


def _command_run(args) -> int:
    from bench import destinations, paths

    chosen = _select(args)  # every mistake is found before any compute
    multi_host = _check_distributed(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    path = args.json or paths.records_folder() / paths.record_name("run", started)
    if args.json is not None:
        destinations.check_record_path(args.json)
    paths.check_writable(path.parent, "--json")
    if args.publish:
        paths.check_writable(args.results_dir, "--results-dir")
    for note in chosen.notes:
        print(note, file=sys.stderr)

    import jax

    jax.config.update("jax_enable_x64", True)
    from bench import scale
    from bench.cases import all_cases
    from bench.progress import Progress
    from bench.record import RunRecord
    from models import glm

    interrupts.started()  # JAX is imported: a Ctrl-C held meanwhile stops the run here
    if multi_host:
        jax.distributed.initialize(coordinator_address=args.coordinator,
                                   num_processes=args.num_processes,
                                   process_id=args.process_id)
    # Sizes that no device holds are refused before anything is compiled.
    chunks = _checked_chunks(chosen, options=args.from_json is None)
    glm.cpu_kernels()  # built (compiled on a fresh machine) before any case's compile time
    is_main = jax.process_index() == 0
    show_bar = not args.no_progress and sys.stderr.isatty() and is_main
    rows = []
    for number, (case, chunk) in enumerate(zip(chosen.cases, chunks), 1):
        interrupts.raise_if_interrupted()
        progress = Progress(1, f"[{number}/{len(chosen.cases)}] {case.id}", bar=show_bar)
        try:
            result = scale.run_scaled(case, chosen.preset, chunk_size=chunk,
                                      progress=progress.update if is_main else None,
                                      on_compile=progress.compiling if is_main else None)
        except RuntimeError as error:  # XLA's, where the estimate of its memory fell short
            if "RESOURCE_EXHAUSTED" not in str(error):
                raise
            raise CommandError(f"case {case.id}: the device ran out of memory at "
                               f"{chunk:,} data sets a chunk; choose a smaller "
                               "--chunk-size.") from None
        rows.append(result.record)
    interrupts.raise_if_interrupted()
    if not is_main:
        return 0
    _print_rows(rows)  # on screen before any write can fail
    settings = {k: getattr(args, k) for k in ("preset", "model", "regime", "dtype",
                                              "n_datasets", "n_samples", "n_features",
                                              "n_test", "chunk_size", "num_processes")}
    settings["from"] = str(args.from_json) if args.from_json else None
    machine, commit = _machine_and_commit()
    run = RunRecord(
        cases=tuple(rows), datetime=started.isoformat(), preset=chosen.preset.name,
        preset_settings=chosen.preset._asdict(),
        command="python -m bench " + shlex.join(sys.argv[1:]), timed=True, complete=True,
        source="python -m bench run", machine_info=machine, commit_info=commit,
        settings=settings, suite_size=len(all_cases(chosen.preset)))
    interrupts.raise_if_interrupted()  # one a garbage-collection callback swallowed
    try:
        destinations.save_record(path, run, exclusive=args.json is None,
                                 fallback_name=paths.record_name("run", started))
    except destinations.RecordNotSaved as failed:
        raise CommandError(_not_saved(failed, args.publish)) from None
    print(f"wrote {path}")
    if not args.publish:
        return 0
    interrupts.raise_if_interrupted()
    try:
        return _publish(path, args.results_dir)
    except (ValueError, OSError) as error:
        raise CommandError(f"the run was not published ({_first_line(error)}); its record "
                           f"is at {path}: run `python -m bench publish {path}` once that "
                           "is fixed.") from None


def _checked_chunks(chosen, *, options: bool) -> list[int]:
    """Each case's chunk size; raise if a chunk would not fit in a device's memory.

    ``options``: the sizes came from the command's options, not from a recorded run.
    """
    import jax

    from bench import memory, runner, selection

    devices = jax.local_devices()
    budget = (memory.device_budget(devices[0].memory_stats())
              or memory.cpu_budget(selection.machine_memory()))
    chunks = []
    for case, chunk in zip(chosen.cases, chosen.chunk_sizes):
        chunk = min(chunk or runner.default_chunk_size(case), case.n_datasets)
        problem = (memory.dataset_problem(case, budget, options=options)
                   or memory.chunk_problem(case, chunk, budget, devices=len(devices)))
        if problem:
            raise CommandError(f"case {case.id}: {problem}")
        chunks.append(chunk)
    return chunks


def _print_rows(rows) -> None:
    for row in rows:
        print(f"  {row.name:<40} {row.n_datasets:>10,} data sets "
              f"{row.seconds:>9.1f} s {row.fits_per_s:>12,.0f} fits/s   "
              f"converged {100 * row.converged_frac:5.1f}%   "
              f"separated {100 * row.separated_frac:5.1f}%   "
              f"compile {row.compile_s:.1f} s", flush=True)


def _not_saved(failed, publish: bool) -> str:
    """The one line that says where the record of a run is, when it is not where asked."""
    head = f"the record could not be written to {failed.path} ({failed.problem})"
    if failed.fallback is None:
        return (f"{head}, nor to the system's temporary folder ({failed.fallback_problem}); "
                "the rows above are the run's results: free some space, or pass --json PATH "
                "on another disk, and run it again.")
    then = (f"nothing was published: run `python -m bench publish {failed.fallback}` once "
            "that is fixed" if publish else "move it where you want it")
    return f"{head}; it is at {failed.fallback} instead: {then}."


def _publish(json_path: pathlib.Path, results_dir: pathlib.Path) -> int:
    """Publish; a run published already is success (exit 0), said in one line."""
    from bench.report import AlreadyPublished, publish

    try:
        folder = publish(json_path, results_dir)
    except AlreadyPublished as already:
        print(f"{already} (exit status 0: the run is published).")
        return 0
    print(f"published {folder}")
    return 0


def _reindex(results_dir: pathlib.Path) -> int:
    from bench.report import reindex

    if not results_dir.is_dir():
        raise CommandError(f"{results_dir} is not a folder of published runs; pass "
                           "--results-dir DIR")
    rewritten = reindex(results_dir)
    print(f"recomputed the headlines of {len(rewritten)} runs; wrote "
          f"{results_dir / 'README.md'}")
    return 0


def _command_compare(args) -> int:
    from bench.report import compare

    text, status = compare(args.old, args.new, fail_above=args.fail_above,
                           allow_incomplete=args.allow_incomplete)
    print(text, end="" if text.endswith("\n") else "\n")
    return status


def _first_line(error: BaseException) -> str:
    """The first line of an error's message; an OSError's in words, without its errno."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def main(argv=None) -> int:
    """Entry point of ``python -m bench``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _command_run(args)
        interrupts.started()  # no JAX to import
        if args.command == "publish":
            return _publish(args.json, args.results_dir)
        if args.command == "reindex":
            return _reindex(args.results_dir)
        return _command_compare(args)
    except BrokenPipeError:  # e.g. `python -m bench compare A B | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("python -m bench: interrupted; nothing was published.", file=sys.stderr)
        return 130
    except (CommandError, ValueError, OSError) as error:
        print(f"python -m bench {args.command}: error: {_first_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
