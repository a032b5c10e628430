"""``python -m bench``: run the benchmark matrix without pytest, publish and compare runs.

Commands::

    python -m bench run [--preset quick] [--model glm ...] [--regime overlap ...]
                        [--dtype float64] [--n-datasets N] [--n-samples N] [--n-features N]
                        [--json OUT.json] [--publish]
    python -m bench publish RUN.json [--results-dir results]
    python -m bench compare OLD.json NEW.json [--fail-above 1.5]

``run`` writes the same JSON layout as ``pytest --benchmark`` (pytest-benchmark's, with the
same ``extra_info``), so ``publish`` and ``compare`` take either. Mistakes in a command give
one line that says what to change and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
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
    from bench.cases import MODELS
    from bench.datasets import REGIMES
    from bench.presets import PRESETS

    parser = _OneLineParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,publish,compare}",
                                parser_class=_OneLineParser)

    run = sub.add_parser("run", help="run the benchmark matrix (or part of it) without pytest")
    run.add_argument("--preset", choices=tuple(PRESETS), default=None,
                     help="sizes and iteration budgets (default: quick)")
    run.add_argument("--from", dest="from_json", type=pathlib.Path, default=None,
                     help="rerun exactly the matrix of a published run's benchmark.json "
                          "(its preset, seed, cases and sizes)")
    run.add_argument("--model", action="append", choices=tuple(MODELS),
                     help="only this model (repeatable; default: all)")
    run.add_argument("--regime", action="append", choices=REGIMES,
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
                     help="write the run here (default: .benchmarks/glmnn-run-<stamp>.json)")
    run.add_argument("--publish", action="store_true",
                     help="publish the run into results/ afterwards")
    run.add_argument("--results-dir", type=pathlib.Path, default=pathlib.Path("results"))
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    publish = sub.add_parser("publish", help="write results/<run>/ from a run's JSON")
    publish.add_argument("json", type=pathlib.Path)
    publish.add_argument("--results-dir", type=pathlib.Path, default=pathlib.Path("results"))

    compare = sub.add_parser("compare", help="per-case speed ratios between two runs")
    compare.add_argument("old", type=pathlib.Path)
    compare.add_argument("new", type=pathlib.Path)
    compare.add_argument("--fail-above", type=float, default=None,
                         help="exit 1 if any case is slower than this ratio (new/old time)")
    return parser


class Progress:
    """A one-line progress bar with an ETA, on stderr (plain lines when not a terminal)."""

    def __init__(self, total: int, label: str, enabled: bool = True, width: int = 24):
        self.total, self.label, self.enabled, self.width = total, label, enabled, width
        self.start = time.perf_counter()
        self.last_line = 0.0

    def update(self, done: int, total: int | None = None, rate: float | None = None,
               elapsed: float | None = None) -> None:
        """Redraw after ``done`` of ``total`` chunks.

        ``rate`` is fits per second so far and ``elapsed`` the seconds the chunks took
        (compilation excluded), from which the ETA is extrapolated.
        """
        total = total or self.total
        if elapsed is None:
            elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (total - done) if done else float("nan")
        speed = f"{rate:,.0f} fits/s" if rate else "-- fits/s"
        text = (f"{self.label}: {done}/{total} chunks, {speed}, {_clock(elapsed)} elapsed, "
                f"ETA {_clock(eta)}")
        if not self.enabled:
            # Not a terminal (a log file): a line every 10 s and at the end.
            if done == total or time.perf_counter() - self.last_line > 10:
                self.last_line = time.perf_counter()
                print(text, file=sys.stderr, flush=True)
            return
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done == total else ""
        print(f"\r[{bar}] {text}\033[K", end=end, file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _cases_from_run(path: pathlib.Path):
    """The preset and the cases of ours recorded in a run's JSON (baselines are skipped)."""
    from bench.cases import MODELS, Case
    from bench.presets import Preset
    from bench.publish import load_run

    run = load_run(path)
    settings = (run.get("glmnn") or {}).get("preset_settings")
    if not settings:
        raise CommandError(f"{path} records no preset settings (glmnn.preset_settings); "
                           "it was not written by glmnn-bench, so it cannot be rerun.")
    try:
        preset = Preset(**{**settings, "sweep": tuple(settings["sweep"])})
    except TypeError as error:
        raise CommandError(f"{path}: its preset settings do not match this version of "
                           f"glmnn-bench ({error}).") from None
    cases = []
    for row in run["benchmarks"]:
        info = row.get("extra_info") or {}
        if info.get("kind") not in ("fit", "scaling") or info.get("model") not in MODELS:
            continue
        try:
            case = Case(info["model"], info["regime"], info["dtype"], info["n_datasets"],
                        info["n_samples"], info["n_features"], info["n_test"],
                        kind=info["kind"])
        except KeyError as missing:
            raise CommandError(f"{path}: case {row.get('name')!r} lacks {missing}.") from None
        _check_case(case, f"{path}: case {row.get('name')!r}")
        cases.append(case)
    if not cases:
        raise CommandError(f"{path} holds no benchmark case of ours to rerun.")
    return preset, cases


def _check_case(case, where: str) -> None:
    """Validate a recorded case before anything runs, so a bad one costs no compute."""
    from bench.cases import MODELS
    from bench.datasets import check_args

    regimes, dtypes = MODELS[case.model][1], MODELS[case.model][2]
    if case.regime not in regimes:
        raise CommandError(f"{where}: model {case.model} runs on {', '.join(regimes)}, "
                           f"not {case.regime!r}.")
    if case.dtype not in dtypes:
        raise CommandError(f"{where}: model {case.model} runs in {', '.join(dtypes)}, "
                           f"not {case.dtype!r}.")
    try:
        check_args(case.regime, n_datasets=case.n_datasets, n_samples=case.n_samples,
                   n_features=case.n_features, n_test=case.n_test, dtype="float32")
    except ValueError as error:
        raise CommandError(f"{where}: {error}") from None


def _select_cases(args):
    from bench.cases import MODELS, all_cases
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
        wanted = ", ".join(f"{m}: {', '.join(MODELS[m][1])}" for m in (args.model or MODELS))
        raise CommandError(
            "no benchmark case matches that --model/--regime/--dtype selection; "
            f"the regimes of each model are {wanted}."
        )
    return preset, cases


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


def _command_run(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    _init_distributed(args)
    from bench import scale
    from bench.machine import machine_info

    preset, cases = _select_cases(args)
    is_main = jax.process_index() == 0
    show_bar = not args.no_progress and sys.stderr.isatty() and is_main
    rows = []
    for number, case in enumerate(cases, 1):
        progress = Progress(1, f"[{number}/{len(cases)}] {case.id}", enabled=show_bar)
        result = scale.run_scaled(case, preset, chunk_size=args.chunk_size,
                                  progress=progress.update if is_main else None)
        info = result.info
        rows.append({
            "group": f"{case.kind}:{case.model}", "name": case.id, "fullname": case.id,
            "params": None, "extra_info": info,
            "stats": {"median": info["seconds"], "min": info["seconds"],
                      "mean": info["seconds"], "rounds": 1},
        })
    if not is_main:
        return 0
    stamp = datetime.datetime.now()
    settings = {k: getattr(args, k) for k in ("preset", "model", "regime", "dtype",
                                              "n_datasets", "n_samples", "n_features",
                                              "chunk_size", "num_processes")}
    settings["from"] = str(args.from_json) if args.from_json else None
    output = {
        "machine_info": {  # the fields pytest-benchmark records, for the published README
            "node": os.uname().nodename, "system": platform.system(),
            "release": platform.release(), "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
            "python_version": platform.python_version(), "glmnn": machine_info()},
        "commit_info": {},
        "benchmarks": rows,
        "datetime": stamp.isoformat(),
        "version": "glmnn-bench run",
        "glmnn": {"preset": preset.name, "preset_settings": preset._asdict(),
                  "command": "python -m bench " + shlex.join(sys.argv[1:]), "timed": True,
                  "run_settings": settings,
                  "note": "python -m bench run times data generation with each chunk"},
    }
    path = args.json or pathlib.Path(".benchmarks") / f"glmnn-run-{stamp:%Y%m%dT%H%M%S}.json"
    _write_json_atomically(path, output)
    print(f"wrote {path}")
    for row in rows:
        info = row["extra_info"]
        print(f"  {row['name']:<40} {info['n_datasets']:>10,} data sets "
              f"{info['seconds']:>9.1f} s {info['fits_per_s']:>12,.0f} fits/s   "
              f"converged {100 * info['converged_frac']:5.1f}%   "
              f"separated {100 * info['separated_frac']:5.1f}%   "
              f"compile {info['compile_s']:.1f} s")
    if args.publish:
        return _publish(path, args.results_dir)
    return 0


def _write_json_atomically(path: pathlib.Path, payload) -> None:
    from bench.publish import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(payload, indent=1))


def _publish(json_path: pathlib.Path, results_dir: pathlib.Path) -> int:
    from bench.publish import publish

    folder = publish(json_path, results_dir)
    print(f"published {folder}")
    return 0


def _command_compare(args) -> int:
    from bench.compare import compare

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
