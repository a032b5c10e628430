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
import subprocess

import jax

from bench import catalog
from models import glm

__all__ = ["machine_info", "package_versions", "git_commit", "cpu_model"]

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


def machine_info() -> dict:
    """Package versions, JAX backend and devices, CPU model, core count and git commit."""
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
    }
