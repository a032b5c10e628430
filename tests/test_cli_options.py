"""python -m bench's options and inputs, in process: every mistake is one line before any
compute, and what a run will do differently from what its options say is said.

The subprocess tests (interrupts, concurrent runs, pytest) are in test_cli.py and
test_pytest_options.py.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import pytest

from bench import __main__ as cli
from bench import catalog, scale, selection
from bench.presets import PRESETS

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "smoke-run.json"


class Stop(ValueError):
    """Raised by a stand-in for scale.run_scaled, so a test computes nothing (main prints
    it as a one-line error)."""


def run_cli(capsys, *argv) -> tuple[int, str]:
    status = cli.main(list(argv))
    return status, capsys.readouterr().err


def fixture_with(tmp_path, edit) -> pathlib.Path:
    run = json.loads(FIXTURE.read_text())
    run["glmnn"]["preset_settings"] = PRESETS["smoke"]._asdict()
    edit(run)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(run))
    return path


def first_fit(run: dict) -> dict:
    return next(b["extra_info"] for b in run["benchmarks"]
                if b["extra_info"].get("kind") == "fit")


@pytest.fixture
def no_compute(monkeypatch):
    """Record what run_scaled is asked for, and stop there."""
    calls = []

    def record(case, preset, **kwargs):
        calls.append((case, preset, kwargs))
        raise Stop("stopped before computing")

    monkeypatch.setattr(scale, "run_scaled", record)
    return calls


@pytest.mark.parametrize("argv, message", [
    (["run", "--model", "perceptron", "--dtype", "float64"],
     "perceptron runs in float32 only"),
    (["run", "--model", "glm_poisson", "--regime", "xor"], "glm_poisson runs on poisson"),
    (["run", "--regime", "gaussian"], "invalid choice: 'gaussian'"),
    (["run", "--coordinator", "notahost", "--num-processes", "2", "--process-id", "0"],
     "expected HOST:PORT"),
    (["run", "--coordinator", "host:0", "--num-processes", "2", "--process-id", "0"],
     "expected HOST:PORT"),
])
def test_a_bad_selection_is_one_line_naming_what_to_change(capsys, no_compute, argv, message):
    try:
        status = cli.main(argv)
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and no_compute == []


def test_every_argument_has_help():
    def actions(parser):
        for action in parser._actions:
            yield action
            if isinstance(action, argparse._SubParsersAction):
                yield from action._choices_actions
                for sub in action.choices.values():
                    yield from actions(sub)

    found = list(actions(cli.build_parser()))
    assert len(found) > 20
    assert [a.dest for a in found if not a.help or a.help == argparse.SUPPRESS] == []


def test_the_regimes_offered_are_those_some_model_runs():
    assert "gaussian" not in selection.run_regimes()
    # The quick preset runs every resampled regime (smoke runs iris only).
    assert set(selection.run_regimes()) == {r for c in selection.from_options(
        preset="quick").cases for r in [c.regime]}


def test_n_samples_sets_the_held_out_size_too():
    def sizes(chosen):
        return {(c.n_samples, c.n_test) for c in chosen.cases
                if c.regime not in catalog.RESAMPLED_REGIMES}

    chosen = selection.from_options(preset="smoke", models=["glm"], n_samples=60)
    assert sizes(chosen) == {(60, 60)}
    # A resampled regime keeps its data's sizes (its rows, tested on its rows).
    assert {(c.n_samples, c.n_test) for c in chosen.cases if c.regime == "iris"} == {
        (100, 100)}
    chosen = selection.from_options(preset="smoke", models=["glm"], n_samples=60, n_test=7)
    assert sizes(chosen) == {(60, 7)}


def test_the_mlp_cap_is_said(capsys, no_compute):
    quick = PRESETS["quick"]
    status, err = run_cli(capsys, "run", "--model", "mlp8", "--model", "glm",
                          "--n-datasets", "5000", "--no-progress")
    assert status == 2 and len(no_compute) == 1  # stopped at the first case
    assert (f"note: mlp8 fits {quick.mlp_n_datasets:,} data sets per case, not 5,000: the "
            f"preset caps the mlp family at mlp_n_datasets={quick.mlp_n_datasets:,}.") in err
    chosen = selection.from_options(models=["mlp0", "mlp8", "glm"])
    assert chosen.notes == (f"note: mlp0, mlp8 fit {quick.mlp_n_datasets:,} data sets per "
                            f"case, not {quick.n_datasets:,}: the preset caps the mlp family "
                            f"at mlp_n_datasets={quick.mlp_n_datasets:,}.",)
    assert selection.from_options(preset="smoke").notes == ()  # smoke's cap is its size


def test_a_rerun_uses_the_recorded_chunk_sizes(tmp_path, capsys, no_compute):
    def edit(run):
        first_fit(run)["chunk_size"] = 3

    path = fixture_with(tmp_path, edit)
    chosen = selection.from_run(path)
    sizes = dict(zip(((c.kind, c.model, c.regime, c.dtype, c.n_datasets)
                      for c in chosen.cases), chosen.chunk_sizes))
    recorded = {tuple(info[f] for f in ("kind", "model", "regime", "dtype", "n_datasets")):
                info["chunk_size"] for info in (b["extra_info"] for b in
                                                json.loads(path.read_text())["benchmarks"])
                if info.get("kind") in ("fit", "scaling")}
    assert sizes == recorded and 3 in sizes.values()
    assert set(selection.from_run(path, chunk_size=2).chunk_sizes) == {2}
    run_cli(capsys, "run", "--from", str(path), "--no-progress")
    case, _, kwargs = no_compute[0]
    assert kwargs["chunk_size"] == 3 == chosen.chunk_sizes[0]


@pytest.mark.parametrize("edit, message", [
    (lambda run: run["glmnn"]["preset_settings"].pop("sweep"), None),
    (lambda run: first_fit(run).update(model="glm_huber"), "unknown model 'glm_huber'"),
    (lambda run: run["glmnn"]["preset_settings"].update(huge=1), "do not match"),
    (lambda run: run["benchmarks"].append(["not", "an", "object"]),
     "] is not a JSON object"),
    (lambda run: run.update(glmnn=["smoke"]), "'glmnn' must be a JSON object, got list"),
])
def test_a_bad_recorded_run_is_one_line_before_any_compute(tmp_path, capsys, no_compute,
                                                           edit, message):
    status, err = run_cli(capsys, "run", "--from", str(fixture_with(tmp_path, edit)))
    if message is None:  # a preset without a sweep reruns
        assert no_compute and no_compute[0][1].sweep == ()
        return
    assert status == 2 and message in err and no_compute == [], err
    assert len(err.strip().splitlines()) == 1


def test_a_publish_that_fails_after_the_run_says_where_the_record_is(tmp_path, capsys,
                                                                     monkeypatch):
    import bench.report

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bench.report, "publish", broken)
    record = tmp_path / "run.json"
    status, err = run_cli(capsys, "run", "--preset", "smoke", "--model", "perceptron",
                          "--regime", "overlap", "--json", str(record), "--publish",
                          "--results-dir", str(tmp_path / "results"), "--no-progress")
    assert status == 2
    assert (f"the run was not published (No space left on device); its record is at "
            f"{record}: run `python -m bench publish {record}`") in err
    assert json.loads(record.read_text())["complete"] is True


def test_a_data_set_no_machine_holds_is_refused_before_any_compute(capsys, no_compute,
                                                                   monkeypatch):
    monkeypatch.setattr(selection, "machine_memory", lambda: 24 * 2**30)
    status, err = run_cli(capsys, "run", "--model", "glm", "--regime", "overlap",
                          "--dtype", "float64", "--n-features", "100000")
    assert status == 2 and no_compute == []
    assert ("one data set of 200 + 200 points at 100,000 features needs about 300 GiB "
            "(mostly its p x p matrices), more than the 19 GiB a run may use of this "
            "machine's 24 GiB: choose --n-features 25082 or fewer.") in err


def test_without_a_chunk_size_a_chunk_is_kept_to_a_bounded_size():
    from bench import runner
    from bench.cases import Case, dataset_bytes

    wide = Case("perceptron", "separable", "float32", 1000, 200, 100_000, 200)
    size = runner.default_chunk_size(wide)
    assert 1 <= size < runner.default_chunk_size()
    assert size * dataset_bytes(wide) <= runner.CHUNK_BYTES
    narrow = wide._replace(n_features=10)
    assert runner.default_chunk_size(narrow) == runner.default_chunk_size()
