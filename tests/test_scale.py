"""bench.scale and bench.stats: chunking, devices and hosts change nothing but the speed."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from bench import runner, scale, stats
from bench.cases import Case
from bench.presets import PRESETS

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRESET = PRESETS["smoke"]
#: Its held-out size is its training size, as `python -m bench run --n-samples` makes it.
CASE = Case("glm", "overlap", "float64", n_datasets=50, n_samples=20, n_features=2, n_test=20)
#: Data sets per chunk of every chunked run of CASE, in this process and in the processes the
#: tests start: one compiled program, which the session's compilation cache serves to all of
#: them. 50 = 3 x 16 + 2: the last chunk is padded.
CHUNK = 16
#: The sizes of the verdict tests' cases, each fitted in one chunk of VERDICT_CHUNK.
VERDICT_SIZES = dict(n_datasets=24, n_samples=40, n_features=3, n_test=10)
VERDICT_CHUNK = 24
#: Fitted in chunks of VERDICT_CHUNK (40 = 24 + 16: the last is padded), so the benchmark
#: path's GLM fit is the program of the verdict tests' GLM cases.
SEPARABLE = Case("glm", "separable", "float64", **{**VERDICT_SIZES, "n_datasets": 40})


def assert_stats_equal(a, b):
    for name, x, y in zip(stats.ChunkStats._fields, a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=name)


@pytest.fixture(scope="module")
def chunked_run():
    """CASE in chunks of CHUNK, in this process: the chunked side of the bitwise test, and
    the one-process run that the sharded and the two-process runs must equal."""
    return scale.run_scaled(CASE, PRESET, chunk_size=CHUNK)


def test_chunked_equals_unchunked_bitwise(chunked_run):
    whole = scale.run_scaled(CASE, PRESET, chunk_size=CASE.n_datasets)
    # Every statistic but the lane accounting (which is what chunking changes).
    assert_stats_equal(whole.stats._replace(lane_iters=0),
                       chunked_run.stats._replace(lane_iters=0))
    assert chunked_run.record.n_chunks == -(-CASE.n_datasets // CHUNK)
    assert int(whole.stats.n_fits) == CASE.n_datasets


def test_scaled_run_agrees_with_the_benchmark_path():
    """Data generated inside the chunk program = bench.datasets.make, so the fits agree."""
    scaled = scale.run_scaled(SEPARABLE, PRESET, chunk_size=VERDICT_CHUNK)
    prepared = runner.prepare(SEPARABLE, PRESET, chunk_size=VERDICT_CHUNK)
    evaluation, merged = runner.evaluate(prepared, runner.run(prepared))
    for field in ("n_fits", "status_counts", "converged", "separated", "n_iter_hist",
                  "train_correct_hist", "test_correct_hist", "lane_iters", "verdict_counts",
                  "converged_by_verdict", "separated_by_verdict"):
        np.testing.assert_array_equal(getattr(scaled.stats, field), getattr(merged, field),
                                      err_msg=field)
    assert scaled.record.separated_frac == 1.0 and scaled.record.converged_frac == 0.0
    assert scaled.record.lp_complete_frac == 1.0 and scaled.record.separated_agrees_frac == 1.0


@pytest.mark.parametrize("model, regime", [("glm", "quasi"), ("perceptron", "separable"),
                                           ("perceptron", "quasi"), ("glm", "overlap"),
                                           ("glm_poisson", "poisson")])
def test_the_verdict_fields_count_the_linear_programs_verdicts(model, regime):
    """Each record's LP shares are the verdicts of glm.separation on its own data sets, and
    the converged and separated shares are read against them."""
    import jax

    from models import glm
    from models.glm import Separation

    case = Case(model, regime, "float64" if model.startswith("glm") else "float32",
                **VERDICT_SIZES)
    prepared = runner.prepare(case, PRESET, chunk_size=VERDICT_CHUNK)
    evaluation, merged = runner.evaluate(prepared, runner.run(prepared))
    record = stats.summarize_stats(merged)
    if regime == "poisson":
        assert record["lp_complete_frac"] is None and record["separated_agrees_frac"] is None
        return
    data = prepared.data
    verdicts = np.asarray(jax.vmap(glm.separation)(data.X_train, data.y_train).verdict)
    np.testing.assert_array_equal(np.asarray(evaluation.lp_verdict), verdicts)
    complete = verdicts == Separation.COMPLETE
    assert record["lp_complete_frac"] == complete.mean()
    assert record["lp_quasi_frac"] == (verdicts == Separation.QUASI).mean()
    converged = np.asarray(evaluation.converged)
    expected = converged[complete].mean() if complete.any() else None
    assert record["converged_on_complete_frac"] == expected
    separated = np.asarray(evaluation.separated)
    decided = verdicts != Separation.UNDECIDED
    agree = separated == np.isin(verdicts, (Separation.COMPLETE, Separation.QUASI))
    assert record["separated_agrees_frac"] == agree[decided].mean()
    expected_share = {"quasi": ("lp_quasi_frac", 1.0), "separable": ("lp_complete_frac", 1.0),
                      "overlap": ("lp_complete_frac", 0.0)}[regime]
    assert record[expected_share[0]] == expected_share[1], record


def test_the_chunk_program_compiles_once_per_case(monkeypatch):
    """One ahead-of-time compiled program serves every chunk (its start is a traced
    argument), so a run compiles once per case however many chunks it has."""
    programs, calls = [], []
    real = scale.chunk_program

    def counting(*args, **kwargs):
        program, size, compile_s = real(*args, **kwargs)

        def call(*call_args):
            calls.append(call_args)
            return program(*call_args)

        programs.append(program)
        return call, size, compile_s

    monkeypatch.setattr(scale, "chunk_program", counting)
    run = scale.run_scaled(CASE, PRESET, chunk_size=CHUNK)
    assert len(programs) == 1
    assert run.record.n_chunks == 4
    assert len(calls) == 1 + 4  # the untimed first execution, then one call per chunk


def test_histogram_quantiles_match_numpy_inverted_cdf():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 26, size=997)
    hist = np.bincount(values, minlength=26)
    for q in (0.1, 0.5, 0.9, 1.0):
        expected = np.quantile(values, q, method="inverted_cdf")
        assert stats.histogram_quantile(hist, q) == expected


def _run_child(code: str, env_extra: dict, timeout: int = 300):
    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=timeout, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


CHILD = f"""
import json, sys, jax
jax.config.update("jax_enable_x64", True)
from bench import scale
from bench.cases import Case
from bench.presets import PRESETS
case = Case{tuple(CASE)!r}
run = scale.run_scaled(case, PRESETS["smoke"], chunk_size={CHUNK})
print(json.dumps({{"devices": len(jax.local_devices()), "processes": jax.process_count(),
                  "stats": {{k: v.tolist() for k, v in run.stats._asdict().items()}}}}))
"""


def _stats_of(stdout: str):
    payload = json.loads(stdout.strip().splitlines()[-1])
    return payload, {k: np.asarray(v) for k, v in payload["stats"].items()}


@pytest.fixture(scope="module")
def single_process_run(chunked_run):
    """What CHILD prints, for the run of this process: the same case, preset and chunks."""
    import jax

    return _stats_of(json.dumps({
        "devices": len(jax.local_devices()), "processes": jax.process_count(),
        "stats": {k: np.asarray(v).tolist() for k, v in chunked_run.stats._asdict().items()}}))


def test_sharded_over_four_devices_equals_one_device(single_process_run):
    single, single_stats = single_process_run
    # Added to the session's flags, so that both runs compile alike (bench/suite/plugin.py).
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"
    sharded, sharded_stats = _stats_of(_run_child(CHILD, {"XLA_FLAGS": flags.strip()}))
    assert single["devices"] == 1 and sharded["devices"] == 4
    for name in stats.ChunkStats._fields:
        if name == "lane_iters":  # 16 rounds up to 16 on 4 devices: same chunks
            continue
        np.testing.assert_array_equal(single_stats[name], sharded_stats[name], err_msg=name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_equal_one_process(single_process_run):
    _, single_stats = single_process_run
    port = _free_port()
    code = ("import jax, os\n"
            f"jax.distributed.initialize('127.0.0.1:{port}', num_processes=2, "
            "process_id=int(os.environ['PROC']))\n" + CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", code], env={**env, "PROC": str(i)},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 cwd=ROOT) for i in range(2)]
    outputs = []
    for child in children:
        stdout, stderr = child.communicate(timeout=300)
        assert child.returncode == 0, stderr[-3000:]
        outputs.append(stdout)
    for stdout in outputs:
        payload, combined = _stats_of(stdout)
        assert payload["processes"] == 2
        for name in stats.ChunkStats._fields:
            np.testing.assert_array_equal(single_stats[name], combined[name], err_msg=name)


def test_bench_run_cli_bounded_run(tmp_path):
    # CASE's sizes and CHUNK (--n-samples sets the held-out size too): the chunk program is
    # the one compiled for CASE in this process.
    out = tmp_path / "run.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--preset", "smoke", "--model", "glm",
         "--regime", "overlap", "--dtype", "float64", "--n-datasets", "40",
         "--n-samples", "20", "--n-features", "2", "--chunk-size", "16", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    run = json.loads(out.read_text())
    assert run["format"] == "glmnn-bench run record" and run["complete"] is True
    (row,) = run["cases"]
    assert row["n_datasets"] == 40 and row["n_chunks"] == 3
    assert sum(row["status_counts"].values()) == 40
    assert "fits/s" in completed.stdout


@pytest.mark.parametrize("argv, message", [
    (["run", "--model", "nope"], "invalid choice: 'nope'"),
    (["run", "--n-datasets", "0"], "must be >= 1"),
    (["run", "--model", "glm_poisson", "--regime", "xor"], "no benchmark case matches"),
    (["run", "--process-id", "0"], "multi-host runs need all of"),
    (["publish", "/nonexistent/run.json"], "no such file"),
])
def test_bad_commands_give_one_line_and_a_nonzero_exit(argv, message):
    completed = subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True,
                               text=True, timeout=120, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
