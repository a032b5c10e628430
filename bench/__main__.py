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
import shlex
import sys
import time

__all__ = ["main"]


class CommandError(Exception):
    """A mistake in the command line or its inputs: printed as one line, exit status 2."""


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

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,publish,compare}")

    run = sub.add_parser("run", help="run the benchmark matrix (or part of it) without pytest")
    run.add_argument("--preset", choices=tuple(PRESETS), default="quick",
                     help="sizes and iteration budgets (default: quick)")
    run.add_argument("--model", action="append", choices=tuple(MODELS),
                     help="only this model (repeatable; default: all)")
    run.add_argument("--regime", action="append", choices=REGIMES,
                     help="only this regime (repeatable; default: all of each model's)")
    run.add_argument("--dtype", action="append", choices=("float32", "float64"),
                     help="only this dtype (repeatable; default: each model's)")
    run.add_argument("--n-datasets", type=_positive_int, help="override the preset's size")
    run.add_argument("--n-samples", type=_positive_int, help="override the preset's size")
    run.add_argument("--n-features", type=_positive_int, help="override the preset's size")
    run.add_argument("--repeats", type=_positive_int, default=1,
                     help="timed runs per case; the fastest is reported (default: 1)")
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
    """A one-line progress bar with an ETA, on stderr."""

    def __init__(self, total: int, enabled: bool = True, width: int = 24):
        self.total, self.enabled, self.width = total, enabled, width
        self.start = time.perf_counter()

    def update(self, done: int, label: str) -> None:
        """Redraw the bar after ``done`` of ``total`` items; ``label`` says what just ran."""
        if not self.enabled:
            print(f"[{done}/{self.total}] {label}", file=sys.stderr, flush=True)
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (self.total - done) if done else float("nan")
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done == self.total else ""
        print(f"\r[{bar}] {done}/{self.total} {_clock(elapsed)} elapsed, ETA {_clock(eta)} "
              f"| {label}\033[K", end=end, file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _select_cases(args):
    from bench.cases import MODELS, all_cases
    from bench.presets import get_preset

    preset = get_preset(args.preset)
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


def _command_run(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    from bench import runner
    from bench.machine import machine_info

    preset, cases = _select_cases(args)
    progress = Progress(len(cases), enabled=not args.no_progress and sys.stderr.isatty())
    rows = []
    for done, case in enumerate(cases, 1):
        info = runner.run_case(case, preset, repeats=args.repeats)
        rows.append({
            "group": f"{case.kind}:{case.model}", "name": case.id, "fullname": case.id,
            "params": None, "extra_info": info,
            "stats": {"median": info["seconds"], "min": info["seconds"],
                      "mean": info["seconds"], "rounds": args.repeats},
        })
        progress.update(done, f"{case.id}: {info['fits_per_s']:,.0f} fits/s, "
                              f"converged {100 * info['converged_frac']:.0f}%")
    stamp = datetime.datetime.now()
    output = {
        "machine_info": {"node": os.uname().nodename, "glmnn": machine_info()},
        "commit_info": {},
        "benchmarks": rows,
        "datetime": stamp.isoformat(),
        "version": "glmnn-bench run",
        "glmnn": {"preset": preset.name, "preset_settings": preset._asdict(),
                  "command": "python -m bench " + shlex.join(sys.argv[1:]), "timed": True},
    }
    path = args.json or pathlib.Path(".benchmarks") / f"glmnn-run-{stamp:%Y%m%dT%H%M%S}.json"
    _write_json_atomically(path, output)
    print(f"wrote {path}")
    for row in rows:
        info = row["extra_info"]
        print(f"  {row['name']:<40} {info['fits_per_s']:>14,.0f} fits/s   "
              f"converged {100 * info['converged_frac']:5.1f}%   compile {info['compile_s']:.1f}s")
    if args.publish:
        return _publish(path, args.results_dir)
    return 0


def _write_json_atomically(path: pathlib.Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(payload, indent=1))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    except (CommandError, ValueError, FileExistsError, PermissionError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"python -m bench {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
