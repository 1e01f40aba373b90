"""What the benchmark ran on: CPU, cores, memory, Python and library versions."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "minigrad",
    "numpy",
    "torch",
    "jax",
    "jaxlib",
    "autograd",
    "mygrad",
    "micrograd",
    "threadpoolctl",
    "matplotlib",
)


def _cpuinfo() -> dict[str, Any]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"model": platform.processor() or platform.machine()}
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    simd = [
        f
        for f in ("sse4_2", "avx", "avx2", "fma", "avx512f")
        if flags and f in flags.group(1).split()
    ]
    return {
        "model": model.group(1).strip() if model else platform.machine(),
        "logical_cpus_in_cpuinfo": len(re.findall(r"^processor\s*:", text, re.M)),
        "simd": simd,
    }


def _memory_bytes() -> int | None:
    try:
        m = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        return int(m.group(1)) * 1024 if m else None
    except OSError:
        return None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def minigrad_source() -> dict[str, Any]:
    """The git commit of the minigrad being measured, and its uncommitted files (if any)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.rstrip() if proc.returncode == 0 else None

    status = git("status", "--porcelain", "--", "minigrad")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [line[3:] for line in status.splitlines()] if status else [],
    }


def describe() -> dict[str, Any]:
    return {
        "minigrad_source": minigrad_source(),
        "cpu": _cpuinfo(),
        "os_cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": _memory_bytes(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "versions": versions(),
    }
