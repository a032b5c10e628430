"""The accelerator's environment, recorded with every run and printed in its machine table.

A GPU is forced here on a CPU machine: fake devices, ``nvidia-smi``'s header as
``jax.print_environment_info`` ends with it, and the wheels of a CUDA 13 install.
"""

from __future__ import annotations

import json
import pathlib

from bench.machine import accelerator_info
from bench.report import publish

FIXTURE = pathlib.Path(__file__).parent / "data" / "smoke-run.json"
SMI = ("| NVIDIA-SMI 580.65.06     Driver Version: 580.65.06     CUDA Version: 13.0     |\n"
       "| N/A   34C    P0    71W / 700W |    1MiB / 81559MiB |      0%      Default |")
WHEELS = {"jax-cuda13-plugin": "0.11.0", "jax-cuda13-pjrt": "0.11.0",
          "nvidia-cuda-runtime": "13.0.96", "nvidia-cudnn-cu13": "9.13.0.50"}
FLAGS = "--xla_gpu_enable_latency_hiding_scheduler=true"


class FakeGPU:
    device_kind = "NVIDIA H100 80GB HBM3"

    def memory_stats(self):
        return {"bytes_limit": 84_003_946_496, "bytes_in_use": 0}


def _forced() -> dict:
    return accelerator_info([FakeGPU(), FakeGPU()], "jax: 0.11.0\n$ nvidia-smi\n" + SMI,
                            WHEELS.get, {"XLA_FLAGS": FLAGS})


def test_gpu_fields_under_forced_values():
    assert _forced() == {
        "device_kind": "NVIDIA H100 80GB HBM3", "device_count": 2,
        "memory_bytes": 84_003_946_496, "driver": "580.65.06", "driver_cuda": "13.0",
        "plugin": "jax-cuda13-plugin 0.11.0", "pjrt": "jax-cuda13-pjrt 0.11.0",
        "cuda_runtime": "nvidia-cuda-runtime 13.0.96", "cudnn": "nvidia-cudnn-cu13 9.13.0.50",
        "xla_flags": FLAGS}
    # CUDA 12's wheels are found where CUDA 13's are not.
    cuda12 = accelerator_info([FakeGPU()], "", {"jax-cuda12-plugin": "0.6.2"}.get, {})
    assert cuda12["plugin"] == "jax-cuda12-plugin 0.6.2" and cuda12["pjrt"] is None


def test_this_machine_records_what_it_has():
    info = accelerator_info(variables={})
    assert info["device_count"] >= 1 and info["xla_flags"] is None
    if info["device_kind"] == "cpu":
        assert info["memory_bytes"] is None and info["plugin"] is None


def test_the_machine_table_prints_the_accelerator(tmp_path):
    data = json.loads(FIXTURE.read_text())
    data["machine_info"]["glmnn"]["accelerator"] = _forced()
    (tmp_path / "run.json").write_text(json.dumps(data))
    readme = (publish(tmp_path / "run.json", tmp_path / "results") / "README.md").read_text()
    machine = readme.split("## Machine and software", 1)[1].split("\n## ", 1)[0]
    rows = {cells[0]: cells[1] for cells in (
        [c.strip() for c in line.strip("|").split("|")] for line in machine.splitlines()
        if line.startswith("|"))}
    assert rows["device memory"] == "78.2 GiB per device"
    assert rows["driver"] == "580.65.06 (supports CUDA 13.0)"
    assert rows["JAX GPU plugin"] == "jax-cuda13-plugin 0.11.0, jax-cuda13-pjrt 0.11.0"
    assert rows["CUDA runtime, cuDNN"] == ("nvidia-cuda-runtime 13.0.96, "
                                           "nvidia-cudnn-cu13 9.13.0.50")
    assert rows["XLA_FLAGS"] == f"`{FLAGS}`"
