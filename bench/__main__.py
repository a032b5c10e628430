"""``python -m bench``: run the benchmark matrix without pytest, publish and compare runs.

Commands::

    python -m bench run [--preset quick] [--model glm ...] [--regime overlap ...]
                        [--dtype float64] [--n-datasets N] [--n-samples N] [--n-features N]
                        [--json OUT.json] [--publish]
    python -m bench publish RUN.json [--results-dir results]
    python -m bench compare OLD.json NEW.json [--fail-above 1.5]

``run`` writes our own run record (:mod:`bench.record`): the same rows as the
``extra_info`` of ``pytest --benchmark``, but not pytest-benchmark's file format; ``publish``
and ``compare`` take either. Mistakes in a command give one line that says what to change
and exit status 2, never a traceback; they are found before anything is computed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import shlex
import sys
import time

__all__ = ["main"]


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


def _parser() -> argparse.ArgumentParser:
    from bench import catalog
    from bench.presets import PRESETS

    models = tuple(m.name for m in catalog.models())
    regimes = tuple(r.name for r in catalog.regimes())

    parser = _OneLineParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,publish,compare}",
                                parser_class=_OneLineParser)

    run = sub.add_parser("run", help="run the benchmark matrix (or part of it) without pytest")
    run.add_argument("--preset", choices=tuple(PRESETS), default=None,
                     help="sizes and iteration budgets (default: quick)")
    run.add_argument("--from", dest="from_json", type=pathlib.Path, default=None,
                     help="rerun exactly the matrix of a published run's benchmark.json "
                          "(its preset, seed, cases and sizes)")
    run.add_argument("--model", action="append", choices=models,
                     help="only this model (repeatable; default: all)")
    run.add_argument("--regime", action="append", choices=regimes,
                     help="only this regime (repeatable; default: all of each model's)")
    run.add_argument("--dtype", action="append", choices=("float32", "float64"),
                     help="only this dtype (repeatable; default: each model's)")
    run.add_argument("--n-datasets", type=_positive_int, help="override the preset's size")
    run.add_argument("--n-samples", type=_positive_int, help="override the preset's size")
    run.add_argument("--n-features", type=_positive_int, help="override the preset's size")
    run.add_argument("--chunk-size", type=_positive_int, default=None,
                     help="data sets per compiled chunk (default: 256 on CPU, 65536 on GPU)")
    run.add_argument("--coordinator", default=None,
                     help="multi-host: HOST:PORT of process 0 (jax.distributed.initialize)")
    run.add_argument("--num-processes", type=_positive_int, default=None,
                     help="multi-host: number of processes")
    run.add_argument("--process-id", type=int, default=None,
                     help="multi-host: this process's index, 0 .. num-processes - 1")
    run.add_argument("--json", type=pathlib.Path,
                     help="write the run's record here (default: "
                          ".benchmarks/glmnn-run-<UTC stamp>-<process id>.json)")
    run.add_argument("--publish", action="store_true",
                     help="publish the run into results/ afterwards")
    run.add_argument("--results-dir", type=pathlib.Path, default=pathlib.Path("results"),
                     help="where --publish writes the run folder (default: results/)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    publish = sub.add_parser("publish", help="write results/<run>/ from a run's JSON")
    publish.add_argument("json", type=pathlib.Path,
                         help="the run: pytest-benchmark's JSON or python -m bench run's record")
    publish.add_argument("--results-dir", type=pathlib.Path, default=pathlib.Path("results"),
                         help="the folder of run folders (default: results/)")

    compare = sub.add_parser("compare", help="per-case speed ratios between two runs")
    compare.add_argument("old", type=pathlib.Path, help="the earlier run's JSON")
    compare.add_argument("new", type=pathlib.Path, help="the later run's JSON")
    compare.add_argument("--fail-above", type=float, default=None,
                         help="exit 1 if any case is slower than this ratio (new/old time)")
    return parser


class Progress:
    """Chunks done, fits/s and ETA on stderr: a tqdm bar on a terminal, else plain lines.

    Not on a terminal (a log file), a line every 10 s and one at the end, each with
    ``chunks`` in it.
    """

    def __init__(self, total: int, label: str, bar: bool):
        from tqdm import tqdm

        self.label, self.last_line = label, 0.0
        self.bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr,
                        leave=True, dynamic_ncols=True) if bar else None

    def compiling(self) -> None:
        """Say that XLA compiles the case's program (it can take a while at large sizes)."""
        print(f"{self.label}: compiling", file=sys.stderr, flush=True)

    def update(self, done: int, total: int, rate: float | None, elapsed: float) -> None:
        """After ``done`` of ``total`` chunks: ``rate`` fits/s so far, ``elapsed`` seconds."""
        if self.bar is not None:
            self.bar.total = total
            self.bar.set_postfix_str(f"{rate:,.0f} fits/s" if rate else "-- fits/s",
                                     refresh=False)
            self.bar.update(done - self.bar.n)
            if done == total:
                self.bar.close()
            return
        if done == total or time.perf_counter() - self.last_line > 10:
            self.last_line = time.perf_counter()
            eta = elapsed / done * (total - done) if done else float("nan")
            speed = f"{rate:,.0f} fits/s" if rate else "-- fits/s"
            print(f"{self.label}: {done}/{total} chunks, {speed}, {_clock(elapsed)} elapsed, "
                  f"ETA {_clock(eta)}", file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _cases_from_run(path: pathlib.Path):
    """The preset and the cases of ours recorded in a run (baselines are skipped)."""
    from bench.cases import Case
    from bench.presets import Preset
    from bench.record import FIT, SCALING, read_run

    run = read_run(path)
    settings = run.preset_settings
    if not settings:
        raise CommandError(f"{path} records no preset settings (glmnn.preset_settings); "
                           "it was not written by glmnn-bench, so it cannot be rerun.")
    try:
        preset = Preset(**{**settings, "sweep": tuple(settings.get("sweep") or ())})
    except TypeError as error:
        raise CommandError(f"{path}: its preset settings do not match this version of "
                           f"glmnn-bench ({error}).") from None
    cases = []
    for row in run.cases:
        if row.kind not in (FIT, SCALING):
            continue
        where = f"{path}: case {row.name!r}"
        missing = [f for f in ("n_samples", "n_features", "n_test") if getattr(row, f) is None]
        if missing:
            raise CommandError(f"{where} lacks {', '.join(missing)}.")
        case = Case(row.model, row.regime, row.dtype, row.n_datasets, row.n_samples,
                    row.n_features, row.n_test, kind=row.kind)
        _check_case(case, where)
        cases.append(case)
    if not cases:
        raise CommandError(f"{path} holds no benchmark case of ours to rerun.")
    return preset, cases


def _check_case(case, where: str) -> None:
    """Validate a case before anything runs, so a bad one costs no compute."""
    from bench import catalog
    from bench.datasets import check_args

    try:
        entry = catalog.model(case.model)
    except catalog.CatalogError as error:
        raise CommandError(f"{where}: {error}") from None
    if case.regime not in entry.regimes:
        raise CommandError(f"{where}: model {case.model} runs on {', '.join(entry.regimes)}, "
                           f"not {case.regime!r}.")
    if case.dtype not in entry.dtypes:
        raise CommandError(f"{where}: model {case.model} runs in {', '.join(entry.dtypes)}, "
                           f"not {case.dtype!r}.")
    try:
        check_args(case.regime, n_datasets=case.n_datasets, n_samples=case.n_samples,
                   n_features=case.n_features, n_test=case.n_test, dtype="float32")
    except ValueError as error:
        raise CommandError(f"{where}: {error}") from None


def _select_cases(args):
    from bench import catalog
    from bench.cases import all_cases
    from bench.presets import get_preset

    if args.from_json is not None:
        if any(v is not None for v in (args.preset, args.model, args.regime, args.dtype,
                                       args.n_datasets, args.n_samples, args.n_features)):
            raise CommandError("--from reruns a recorded matrix exactly: drop --preset, "
                               "--model, --regime, --dtype and the size options.")
        return _cases_from_run(args.from_json)
    preset = get_preset(args.preset or "quick")
    overrides = {k: v for k, v in (("n_datasets", args.n_datasets),
                                   ("n_samples", args.n_samples),
                                   ("n_features", args.n_features)) if v is not None}
    if overrides.get("n_samples", 2) < 2:
        raise CommandError("--n-samples must be >= 2.")
    preset = preset._replace(**overrides)
    if "n_datasets" in overrides:
        preset = preset._replace(sweep=())
    cases = [
        c for c in all_cases(preset)
        if (not args.model or c.model in args.model)
        and (not args.regime or c.regime in args.regime)
        and (not args.dtype or c.dtype in args.dtype)
    ]
    if not cases:
        wanted = ", ".join(f"{m.name}: {', '.join(m.regimes)} in {', '.join(m.dtypes)}"
                           for m in catalog.models() if not args.model or m.name in args.model)
        raise CommandError(
            "no benchmark case matches that --model/--regime/--dtype selection; "
            f"the regimes and dtypes of each model are {wanted}."
        )
    for case in cases:
        _check_case(case, f"case {case.id}")
    return preset, cases


def _check_writable(folder: pathlib.Path, what: str) -> None:
    """Fail now, not after the run, if ``folder`` cannot be created or written into."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".tmp-"):
            pass
    except OSError as error:
        raise CommandError(f"{what}: cannot write into {folder} ({error.strerror or error}); "
                           "choose another path.") from None


def _init_distributed(args) -> None:
    given = [args.coordinator is not None, args.num_processes is not None,
             args.process_id is not None]
    if not any(given):
        return
    if not all(given):
        raise CommandError("multi-host runs need all of --coordinator HOST:PORT, "
                           "--num-processes N and --process-id I.")
    if not 0 <= args.process_id < args.num_processes:
        raise CommandError(f"--process-id must be in 0 .. {args.num_processes - 1}, "
                           f"got {args.process_id}.")
    import jax

    jax.distributed.initialize(coordinator_address=args.coordinator,
                               num_processes=args.num_processes, process_id=args.process_id)


def _machine_and_commit() -> tuple[dict, dict]:
    """pytest-benchmark's own machine and commit fields, with ours under ``"glmnn"``."""
    from pytest_benchmark.plugin import pytest_benchmark_generate_machine_info
    from pytest_benchmark.utils import get_commit_info

    from bench.machine import machine_info

    machine = pytest_benchmark_generate_machine_info()
    machine["glmnn"] = machine_info()
    return machine, get_commit_info()


def _default_json_path(stamp: datetime.datetime) -> pathlib.Path:
    return (pathlib.Path(".benchmarks")
            / f"glmnn-run-{stamp:%Y%m%dT%H%M%S}-{os.getpid()}.json")


def _command_run(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    preset, cases = _select_cases(args)  # every mistake is found before any compute
    started = datetime.datetime.now(datetime.timezone.utc)
    path = args.json or _default_json_path(started)
    _check_writable(path.parent, "--json")
    if args.publish:
        _check_writable(args.results_dir, "--results-dir")
    _init_distributed(args)
    from bench import scale
    from bench.record import RunRecord, write_run

    is_main = jax.process_index() == 0
    show_bar = not args.no_progress and sys.stderr.isatty() and is_main
    rows = []
    for number, case in enumerate(cases, 1):
        label = f"[{number}/{len(cases)}] {case.id}"
        progress = Progress(1, label, bar=show_bar)
        result = scale.run_scaled(case, preset, chunk_size=args.chunk_size,
                                  progress=progress.update if is_main else None,
                                  on_compile=progress.compiling if is_main else None)
        rows.append(result.record)
    if not is_main:
        return 0
    settings = {k: getattr(args, k) for k in ("preset", "model", "regime", "dtype",
                                              "n_datasets", "n_samples", "n_features",
                                              "chunk_size", "num_processes")}
    settings["from"] = str(args.from_json) if args.from_json else None
    machine, commit = _machine_and_commit()
    run = RunRecord(
        cases=tuple(rows), datetime=started.isoformat(), preset=preset.name,
        preset_settings=preset._asdict(), command="python -m bench " + shlex.join(sys.argv[1:]),
        timed=True, complete=True, source="python -m bench run", machine_info=machine,
        commit_info=commit, settings=settings)
    write_run(path, run, exclusive=args.json is None)
    print(f"wrote {path}")
    for row in rows:
        print(f"  {row.name:<40} {row.n_datasets:>10,} data sets "
              f"{row.seconds:>9.1f} s {row.fits_per_s:>12,.0f} fits/s   "
              f"converged {100 * row.converged_frac:5.1f}%   "
              f"separated {100 * row.separated_frac:5.1f}%   "
              f"compile {row.compile_s:.1f} s")
    if args.publish:
        return _publish(path, args.results_dir)
    return 0


def _publish(json_path: pathlib.Path, results_dir: pathlib.Path) -> int:
    from bench.report import publish

    folder = publish(json_path, results_dir)
    print(f"published {folder}")
    return 0


def _command_compare(args) -> int:
    from bench.report import compare

    text, status = compare(args.old, args.new, fail_above=args.fail_above)
    print(text, end="" if text.endswith("\n") else "\n")
    return status


def main(argv=None) -> int:
    """Entry point of ``python -m bench``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _command_run(args)
        if args.command == "publish":
            return _publish(args.json, args.results_dir)
        return _command_compare(args)
    except BrokenPipeError:  # e.g. `python -m bench compare A B | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("python -m bench: interrupted; nothing was published.", file=sys.stderr)
        return 130
    except (CommandError, ValueError, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"python -m bench {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
