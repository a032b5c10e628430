"""What machine and software a benchmark ran on: recorded with every published run.

The software is the version of every distribution the catalog names
(:func:`bench.catalog.software_packages`: JAX's stack, then each reference library's
package, a registered module's included), under ``"packages"``.
"""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import platform
import re
import subprocess

import jax

from bench import catalog
from models import glm

__all__ = ["machine_info", "accelerator_info", "package_versions", "git_commit", "cpu_model",
           "GPU_PACKAGES"]

#: The wheels that say which CUDA stack JAX runs on: the plugin and its PJRT, the CUDA
#: runtime and cuDNN (whichever CUDA major version is installed).
GPU_PACKAGES = {"plugin": ("jax-cuda13-plugin", "jax-cuda12-plugin"),
                "pjrt": ("jax-cuda13-pjrt", "jax-cuda12-pjrt"),
                "cuda_runtime": ("nvidia-cuda-runtime", "nvidia-cuda-runtime-cu13",
                                 "nvidia-cuda-runtime-cu12"),
                "cudnn": ("nvidia-cudnn-cu13", "nvidia-cudnn-cu12")}

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions() -> dict[str, str | None]:
    """``{distribution: installed version}`` of the catalog's packages (None: not installed)."""
    return {package: _version(package) for package in catalog.software_packages()}


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux), or ``platform.processor()``."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> dict:
    """``{"id": sha or None, "dirty": bool}`` of the checkout the code runs from."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                    cwd=ROOT, capture_output=True, text=True, timeout=10,
                                    check=True).stdout.strip())
        return {"id": sha, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"id": None, "dirty": None}


def _first_installed(names, versions) -> str | None:
    """``"name version"`` of the first of ``names`` installed, or None."""
    return next((f"{name} {versions(name)}" for name in names if versions(name)), None)


def _after(label: str, text: str) -> str | None:
    """The word after ``label`` in ``text`` (``nvidia-smi``'s header), or None."""
    match = re.search(re.escape(label) + r":?\s*([\w.]+)", text)
    return match.group(1) if match else None


def accelerator_info(devices=None, environment: str | None = None,
                     versions=_version, variables=None) -> dict:
    """What a GPU run needs to say about its accelerator, recorded with every run.

    Args:
        devices: the devices (``jax.devices()`` by default).
        environment: ``jax.print_environment_info(return_string=True)``, which on a GPU
            machine ends with ``nvidia-smi``'s output (by default it is asked for).
        versions: ``package -> installed version or None``.
        variables: the environment variables (``os.environ`` by default).

    Returns:
        ``device_kind``, ``device_count``, ``memory_bytes`` (the first device's memory
        limit; None where the backend does not say, as on CPU), ``driver`` and
        ``driver_cuda`` (the driver's version and the CUDA version it supports, from
        ``nvidia-smi``), ``plugin``, ``pjrt``, ``cuda_runtime`` and ``cudnn`` (the wheels,
        ``"name version"``), and ``xla_flags``; None for what is not there.
    """
    devices = jax.devices() if devices is None else devices
    variables = os.environ if variables is None else variables
    if environment is None:
        environment = jax.print_environment_info(return_string=True) or ""
    stats = devices[0].memory_stats() or {}
    return {"device_kind": devices[0].device_kind, "device_count": len(devices),
            "memory_bytes": stats.get("bytes_limit"),
            "driver": _after("Driver Version", environment),
            "driver_cuda": _after("CUDA Version", environment),
            **{field: _first_installed(names, versions) for field, names in GPU_PACKAGES.items()},
            "xla_flags": variables.get("XLA_FLAGS") or None}


def machine_info() -> dict:
    """Package versions, JAX backend, devices, CPU model, cores, commit and accelerator."""
    devices = jax.devices()
    return {
        "packages": package_versions(),
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "glm_cpu_kernels": glm.cpu_kernels(),
        "accelerator": accelerator_info(devices),
    }
