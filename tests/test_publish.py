"""bench.report on the recorded smoke run: tables, CSV, sentences, plots, safety on disk."""

from __future__ import annotations

import copy
import csv
import gzip
import hashlib
import json
import pathlib
import re
import shutil
import sys

import pytest

from bench.record import RecordError, read_run
from bench.report import PublishError, publish, reading_sentences
from bench.report import publishing as publish_module
from bench.report.history import headline_text

FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = ("convergence.png", "throughput.png", "novikoff.png")


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}".rstrip("0").rstrip(".")


def _load_fixture() -> dict:
    return json.loads(FIXTURE.read_text())


def _write_json(path: pathlib.Path, run: dict) -> pathlib.Path:
    path.write_text(json.dumps(run))
    return path


def _info(run: dict, **match) -> dict:
    """The extra_info of the one benchmark matching every field given."""
    found = [b["extra_info"] for b in run["benchmarks"]
             if all(b["extra_info"].get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


def _markdown_table(readme: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` (header row first, no separator)."""
    lines = readme.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            if not all(set(cell) <= set("-:") for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def _cell(table: list[list[str]], row_label: str, column: str) -> str:
    header = table[0]
    row = next(r for r in table if r[0] == row_label)
    return row[header.index(column)]


@pytest.fixture
def run_json(tmp_path) -> pathlib.Path:
    target = tmp_path / "smoke-run.json"
    shutil.copy(FIXTURE, target)
    return target


def _rerun(tmp_path: pathlib.Path, number: int) -> pathlib.Path:
    """The fixture as another run of the same day and machine (publishing the same JSON
    twice publishes it once)."""
    run = _load_fixture()
    run["glmnn"]["command"] += f" # run {number}"
    return _write_json(tmp_path / f"rerun-{number}.json", run)


@pytest.fixture
def no_plots(monkeypatch):
    """Skip drawing (the slow part) in tests about something else; plots are tested once."""
    from bench.report import folders, plots

    monkeypatch.setattr(plots, "write_plots", lambda cases, folder: [])
    monkeypatch.setattr(folders, "plot_history", lambda entries, path: False)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> pathlib.Path:
    """One publish of the fixture, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("published") / "results"
    source = root.parent / "smoke-run.json"
    shutil.copy(FIXTURE, source)
    return publish(source, root)


@pytest.fixture(scope="module")
def readme(published) -> str:
    return (published / "README.md").read_text()


def test_run_folder_name_and_files(published):
    host = hashlib.sha256(b"vm").hexdigest()[:8]
    assert published.name == f"2026-12-01-cpu-{host}"
    for name in ("README.md", "summary.csv", "benchmark.json.gz", "run.json", *PLOTS):
        assert (published / name).is_file(), name
    assert not list(published.parent.glob(".tmp-*"))


def test_benchmark_json_is_the_run_without_the_host_name(published):
    copied = json.loads(gzip.decompress((published / "benchmark.json.gz").read_bytes()))
    original = _load_fixture()
    assert copied["machine_info"]["node"] != original["machine_info"]["node"]
    copied["machine_info"]["node"] = original["machine_info"]["node"]
    assert copied == original


def test_summary_csv_carries_the_json_numbers(published):
    run = _load_fixture()
    with open(published / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(run["benchmarks"])

    def row(kind, model, regime, dtype, baseline=""):
        return next(r for r in rows if (r["kind"], r["model"], r["regime"], r["dtype"],
                                        r["baseline"]) == (kind, model, regime, dtype, baseline))

    for match in [dict(kind="fit", model="glm", regime="separable", dtype="float64"),
                  dict(kind="fit", model="perceptron", regime="separable", dtype="float32"),
                  dict(kind="fit", model="mlp8", regime="xor", dtype="float32"),
                  dict(kind="scaling", model="glm", regime="overlap", dtype="float64")]:
        info, line = _info(run, **match), row(**match)
        for field in ("converged_frac", "separated_frac", "fits_per_s", "seconds", "compile_s",
                      "n_iter_p90", "test_accuracy_q10", "final_loss_median"):
            assert float(line[field]) == info[field], (match, field)
        assert int(line["n_iter_max"]) == info["n_iter_max"]
        assert int(line["status_separated"]) == info["status_counts"]["separated"]
    assert row(kind="fit", model="perceptron", regime="separable",
               dtype="float32")["novikoff_max_ratio"] != ""
    assert row(kind="fit", model="perceptron", regime="overlap",
               dtype="float32")["novikoff_max_ratio"] == ""  # None -> empty cell
    baseline = row("baseline", "glm", "separable", "float64", "statsmodels GLM")
    info = _info(run, kind="baseline", model="glm", regime="separable",
                 baseline="statsmodels GLM")
    assert float(baseline["fits_per_s"]) == info["fits_per_s"]
    assert float(baseline["converged_frac"]) == info["converged_frac"]


@pytest.mark.parametrize("model, regime, library, ours_dtype", [
    ("glm", "overlap", "statsmodels GLM", "float64"),
    ("glm", "separable", "scikit-learn LogisticRegression newton-cholesky", "float64"),
    ("mlp8", "xor", "scikit-learn MLPClassifier", "float32"),
    ("perceptron", "separable", "scikit-learn Perceptron", "float32"),
])
def test_speedup_is_ours_over_theirs(published, readme, model, regime, library, ours_dtype):
    run = _load_fixture()
    ours = _info(run, kind="fit", model=model, regime=regime, dtype=ours_dtype)
    theirs = _info(run, kind="baseline", model=model, regime=regime, baseline=library)
    expected = ours["fits_per_s"] / theirs["fits_per_s"]
    with open(published / "summary.csv", newline="") as handle:
        line = next(r for r in csv.DictReader(handle)
                    if (r["kind"], r["model"], r["regime"], r["baseline"])
                    == ("baseline", model, regime, library))
    assert float(line["speedup"]) == pytest.approx(expected, rel=1e-12)
    assert line["ours_dtype"] == ours_dtype

    table = _markdown_table(readme, "### Reference libraries")
    header = table[0]
    cells = next(r for r in table[1:] if (r[0], r[1], r[2]) == (library, model, regime))
    shown = cells[header.index("speedup (95% CI)")].split()[0]  # then its interval, if any
    assert float(shown.rstrip("×").replace(",", "")) == pytest.approx(expected, rel=5e-3)


def test_convergence_table_cells(readme):
    run = _load_fixture()
    glm = _markdown_table(readme, "### glm")
    overlap = _info(run, kind="fit", model="glm", regime="overlap", dtype="float64")
    separable = _info(run, kind="fit", model="glm", regime="separable", dtype="float32")
    assert _cell(glm, "converged %", "overlap f64") == _pct(overlap["converged_frac"])
    assert _cell(glm, "separated %", "separable f32") == _pct(separable["separated_frac"])
    iterations = _cell(glm, "iterations median / p90 / max (budget 25)", "overlap f64")
    assert [float(x) for x in iterations.split(" / ")] == pytest.approx(
        [overlap["n_iter_median"], overlap["n_iter_p90"], overlap["n_iter_max"]], abs=0.05)
    accuracy = _cell(glm, "train accuracy mean (q10)", "overlap f64")
    assert accuracy == (f"{overlap['train_accuracy_mean']:.3f} "
                        f"({overlap['train_accuracy_q10']:.3f})")

    perceptron = _markdown_table(readme, "### perceptron")
    ratio = _info(run, kind="fit", model="perceptron", regime="separable")["novikoff_max_ratio"]
    assert float(_cell(perceptron, "max n_updates / (R/γ)²", "separable f32")) == (
        pytest.approx(ratio, rel=1e-3))
    assert _cell(perceptron, "max n_updates / (R/γ)²", "overlap f32") == "–"


def test_readme_states_machine_commit_command_and_legend(readme):
    run = _load_fixture()
    assert run["glmnn"]["command"] in readme
    assert run["machine_info"]["glmnn"]["git_commit"]["id"] in readme
    assert f"`{run['machine_info']['glmnn']['git_commit']['id']}` (clean)" in readme
    assert "preset: `smoke`" in readme
    machine = dict(_markdown_table(readme, "## Machine and software")[1:])
    assert machine["jax"] == run["machine_info"]["glmnn"]["jax"]
    assert "**converged %**" in readme and "**speedup**" in readme  # the legend
    for plot in PLOTS:
        assert f"]({plot})" in readme


def test_a_cli_run_states_its_system_and_no_pytest_benchmark(run_json, tmp_path, no_plots):
    run = json.loads(run_json.read_text())
    run["version"] = "glmnn-bench run"  # what python -m bench run writes
    run["machine_info"].update(system="Linux", release="6.1", machine="x86_64",
                               python_implementation="CPython", python_version="3.11.7")
    folder = publish(_write_json(tmp_path / "cli.json", run), tmp_path / "results")
    machine = dict(_markdown_table((folder / "README.md").read_text(),
                                   "## Machine and software")[1:])
    assert machine["system"] == "Linux 6.1 x86_64"
    assert machine["Python"] == "CPython 3.11.7"
    assert machine["pytest-benchmark"] == "not used (python -m bench run)"


def test_sentences_read_the_data(readme):
    assert ("The perceptron converged on 100% of separable data sets and on 0% of overlap"
            in readme)
    assert "as Rosenblatt's convergence theorem says" in readme
    assert ("statsmodels GLM reported converged=True on 100% of the 2 separable data sets it "
            "fitted, where we report separation on 100% of all 4") in readme


def test_sentences_change_with_the_data(run_json, tmp_path, no_plots):
    run = json.loads(run_json.read_text())
    _info(run, kind="fit", model="perceptron", regime="separable")["converged_frac"] = 0.25
    _info(run, kind="fit", model="perceptron", regime="overlap")["converged_frac"] = 0.5
    _info(run, kind="baseline", model="glm", regime="separable",
          baseline="statsmodels GLM")["converged_frac"] = 0.0
    _info(run, kind="fit", model="mlp8", regime="xor")["train_accuracy_mean"] = 0.4
    folder = publish(_write_json(tmp_path / "edited.json", run), tmp_path / "results")
    text = (folder / "README.md").read_text()
    assert "The perceptron converged on 25% of separable data sets and on 50% of overlap" in text
    assert "is not what the convergence theorem predicts" in text
    assert "as Rosenblatt's convergence theorem says" not in text
    assert "75% of separable data sets ran out of the 20-epoch budget" in text
    assert "statsmodels GLM reported converged=True on 0% of the 2 separable" in text
    assert "it did not claim convergence there" in text
    assert "On xor the MLP with a hidden layer reached 0.400 mean train accuracy" in text
    assert "the GLM did better" in text


def _cases(tmp_path, run: dict) -> list:
    return list(read_run(_write_json(tmp_path / "run.json", run)).cases)


def test_sentences_follow_speed_and_nan(tmp_path):
    run = _load_fixture()
    before = " ".join(reading_sentences(_cases(tmp_path, run)))
    assert "ours was faster in every case" in before
    assert "No fit of ours, in any case, ended with non-finite parameters." in before
    slow = copy.deepcopy(run)
    _info(slow, kind="baseline", model="glm", regime="overlap",
          baseline="statsmodels GLM")["fits_per_s"] = 1e9
    _info(slow, kind="fit", model="glm", regime="xor", dtype="float64")["nan_frac"] = 0.25
    after = " ".join(reading_sentences(_cases(tmp_path, slow)))
    assert "Against statsmodels GLM" in after
    assert "ours was faster in 3 of 4 cases" in after
    assert "Some fits ended with non-finite parameters: glm/xor/float64 (25%)" in after


def test_plots_are_valid_pngs(published):
    for name in PLOTS:
        data = (published / name).read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 1000, name


def test_without_matplotlib_publishes_without_plots(run_json, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    folder = publish(run_json, tmp_path / "results")
    assert not list(folder.glob("*.png"))
    text = (folder / "README.md").read_text()
    assert "No plots: matplotlib is not importable" in text


def test_existing_run_folder_is_never_overwritten(run_json, tmp_path, no_plots):
    root = tmp_path / "results"
    first = publish(run_json, root)
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    second = publish(_rerun(tmp_path, 2), root)
    assert second.name == f"{first.name}-2"
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    # a folder someone else made under the next name is skipped, untouched
    squatter = root / f"{first.name}-3"
    squatter.mkdir()
    (squatter / "notes.txt").write_text("mine")
    third = publish(_rerun(tmp_path, 3), root)
    assert third.name == f"{first.name}-4"
    assert [p.name for p in squatter.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("writer", ["write_source_json", "write_summary_csv",
                                    "write_plots", "write_readme", "write_run_json"])
def test_a_failure_midway_leaves_nothing(run_json, tmp_path, monkeypatch, writer, no_plots):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_module, writer, broken)
    root = tmp_path / "results"
    with pytest.raises(RuntimeError, match="disk full"):
        publish(run_json, root)
    assert list(root.iterdir()) == []


def test_a_failure_keeps_earlier_runs_and_index(run_json, tmp_path, monkeypatch, no_plots):
    root = tmp_path / "results"
    first = publish(run_json, root)
    index = (root / "README.md").read_text()
    monkeypatch.setattr(publish_module, "write_readme", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        publish(_rerun(tmp_path, 2), root)
    assert sorted(p.name for p in root.iterdir()) == sorted([first.name, "README.md"])
    assert (root / "README.md").read_text() == index


def test_index_lists_every_run(run_json, tmp_path, no_plots):
    root = tmp_path / "results"
    gpu_run = json.loads(run_json.read_text())
    gpu_run["datetime"] = "2026-12-02T09:00:00+00:00"
    gpu_run["machine_info"]["glmnn"]["device_kind"] = "NVIDIA H200"
    gpu_run["machine_info"]["glmnn"]["git_commit"] = {"id": "abcdef0123456789", "dirty": False}
    first = publish(run_json, root)
    second = publish(_write_json(tmp_path / "gpu.json", gpu_run), root)
    assert second.name.startswith("2026-12-02-nvidia-h200-")
    index = (root / "README.md").read_text()
    # One table per machine and device, the group with the latest run first.
    gpu_table = _markdown_table(index, f"## NVIDIA H200 on host {second.name.split('-')[-1]}")
    cpu_table = _markdown_table(index, f"## cpu on host {first.name.split('-')[-1]}")
    assert index.index("## NVIDIA H200") < index.index("## cpu")
    assert gpu_table[0][:6] == ["run", "date", "preset", "commit", "cases", "timed"]
    assert len(gpu_table) == len(cpu_table) == 2
    cells, gpu_cells = cpu_table[1], gpu_table[1]
    assert cells[:3] == [f"[{first.name}]({first.name}/README.md)", "2026-12-01", "smoke"]
    assert cells[3] == "dd071e591dc4"  # a clean commit: no "(dirty)"
    assert gpu_cells[:4] == [f"[{second.name}]({second.name}/README.md)", "2026-12-02",
                             "smoke", "abcdef012345"]
    assert cells[4] == "39 fit, 3 scaling, 10 baseline"
    # The headline ratios, as each run.json holds them (tests/test_history.py checks those).
    meta = json.loads((first / "run.json").read_text())
    for entry in meta["headlines"]:
        assert cells[cpu_table[0].index(entry["name"])] == headline_text(entry)
    assert not list(root.glob(".tmp-*"))

    shutil.rmtree(first)  # the index is regenerated from the folders themselves
    publish_module.write_index(root)
    assert first.name not in (root / "README.md").read_text()


def test_run_name(run_json, tmp_path, no_plots):
    folder = publish(run_json, tmp_path / "results", run_name="baseline-before-fix")
    assert folder.name == "baseline-before-fix"
    with pytest.raises(PublishError, match="plain folder name"):
        publish(run_json, tmp_path / "results", run_name="../elsewhere")


def test_missing_json(tmp_path):
    with pytest.raises(RecordError, match="no such file.*pytest --benchmark") as error:
        publish(tmp_path / "nope.json", tmp_path / "results")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "results").exists()


def test_corrupt_json(run_json, tmp_path):
    truncated = tmp_path / "truncated.json"
    truncated.write_text(run_json.read_text()[:5000])
    with pytest.raises(RecordError, match="not valid JSON.*truncated") as error:
        publish(truncated, tmp_path / "results")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("content, message", [
    ({"benchmarks": []}, "no benchmark results"),
    ({"machine_info": {}}, "no benchmark results"),
    ([1, 2, 3], "no benchmark results"),
    ({"benchmarks": [{"name": "x", "extra_info": {}}]}, "not a glmnn-bench run"),
])
def test_json_without_benchmarks(tmp_path, content, message):
    path = _write_json(tmp_path / "empty.json", content)
    with pytest.raises(RecordError, match=message):
        publish(path, tmp_path / "results")


def test_a_folder_is_not_a_run(tmp_path):
    with pytest.raises(RecordError, match="is a folder"):
        publish(tmp_path, tmp_path / "results")


def _rows_of_kinds(run: dict, kinds) -> dict:
    run["benchmarks"] = [b for b in run["benchmarks"] if b["extra_info"]["kind"] in kinds]
    return run


def test_a_run_without_a_model_fit_publishes_nothing(tmp_path):
    # What `pytest --benchmark bench/suite/bench_machine.py` records: empty tables before.
    run = _rows_of_kinds(_load_fixture(), {"ceilings", "datasets"})
    with pytest.raises(publish_module.NothingToPublish, match="has no fit of a model"):
        publish(_write_json(tmp_path / "machine.json", run), tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_a_subset_without_its_ceilings_row_gives_the_ceilings_its_fits_used(tmp_path, no_plots):
    run = _load_fixture()
    ceilings = _info(run, kind="ceilings")
    run = _rows_of_kinds(run, {"fit", "scaling", "baseline"})
    run["glmnn"]["ceilings"] = {k: ceilings[k] for k in (
        "matmul_gflops_float32", "matmul_gflops_float64", "copy_gbps", "matmul_size",
        "copy_mib")}
    run["glmnn"]["suite_size"] = 68
    folder = publish(_write_json(tmp_path / "subset.json", run), tmp_path / "results")
    readme = (folder / "README.md").read_text()
    assert "no % of roofline" not in readme  # its speed table has % roofline values
    assert ("Ceilings measured in this run (for the % roofline of its fits; its ceilings row "
            f"was not selected): a {ceilings['matmul_size']}² matmul") in readme
    assert "- selection: **a subset**, 52 of the preset's 68 benchmark rows" in readme
    from test_readme_numbers import check_readme

    assert check_readme(readme, run) == []


def test_the_index_sorts_run_folders_by_their_numbers(run_json, tmp_path, no_plots):
    root = tmp_path / "results"
    folders = [publish(_rerun(tmp_path, n), root) for n in range(11)]  # base, -2 .. -11
    index = (root / "README.md").read_text()
    listed = re.findall(r"^\| \[([^\]]+)\]", index, flags=re.MULTILINE)
    # Newest first; runs of the same moment by their numbers, the highest first.
    assert listed == [f.name for f in reversed(folders)]
    assert listed[0].endswith("-11") and listed[-2].endswith("-2")


def test_a_results_dir_that_is_a_file_is_said_so(run_json, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(PublishError, match=r"the results folder .*afile is a file; pass a "
                                           r"folder") as error:
        publish(run_json, afile)
    assert "Errno" not in str(error.value)


def test_a_case_with_only_its_kind_is_one_line_naming_the_missing_field(tmp_path):
    run = _load_fixture()
    run["benchmarks"][0]["extra_info"] = {"kind": "fit"}
    with pytest.raises(RecordError, match="a fit case needs the field 'model'") as error:
        publish(_write_json(tmp_path / "bare.json", run), tmp_path / "results")
    assert "\n" not in str(error.value)


def test_a_truncated_json_says_where_once(run_json, tmp_path):
    truncated = tmp_path / "truncated.json"
    truncated.write_text(run_json.read_text()[:5000])
    with pytest.raises(RecordError) as error:
        publish(truncated, tmp_path / "results")
    assert "at at" not in str(error.value) and "line 1" in str(error.value)


def test_staging_left_by_a_killed_publisher_is_removed_by_the_next(run_json, tmp_path,
                                                                    no_plots):
    import os
    import signal
    import subprocess

    from bench.temporaries import temporary_name

    root = tmp_path / "results"
    root.mkdir()
    code = ("import sys, time, pathlib\n"
            "from bench.report.folders import make_staging_folder\n"
            "staging = make_staging_folder(pathlib.Path(sys.argv[1]))\n"
            "(staging / 'README.md').write_text('half a run')\n"
            "print(staging, flush=True)\n"
            "time.sleep(600)\n")
    killed = subprocess.Popen([sys.executable, "-c", code, str(root)], text=True,
                              stdout=subprocess.PIPE, cwd=pathlib.Path(__file__).parent.parent)
    left = pathlib.Path(killed.stdout.readline().strip())
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert left.is_dir() and left.parent == root
    alive = root / temporary_name()  # this process's: it is still at work
    alive.mkdir()
    elsewhere = root / ".tmp-00000000-1-abcdef"  # another host's
    elsewhere.mkdir()
    folder = publish(run_json, root)
    assert not left.exists()
    assert alive.is_dir() and elsewhere.is_dir()
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [alive.name, elsewhere.name, folder.name, "README.md"])
    os.rmdir(alive)


def test_a_run_published_before_its_json_was_gzipped_is_still_found(run_json, tmp_path,
                                                                    no_plots):
    root = tmp_path / "results"
    folder = publish(run_json, root)
    packed = folder / "benchmark.json.gz"
    (folder / "benchmark.json").write_bytes(gzip.decompress(packed.read_bytes()))
    packed.unlink()  # as the runs published until then hold it
    with pytest.raises(publish_module.AlreadyPublished) as raised:
        publish(run_json, root)
    assert raised.value.folder == folder
    assert read_run(folder / "benchmark.json").cases


def test_plots_are_palette_pngs(published):
    # 256 colours (IHDR colour type 3) rather than matplotlib's RGBA: a third of the bytes.
    for name in PLOTS:
        assert (published / name).read_bytes()[25] == 3, name
