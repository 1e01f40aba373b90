"""W3 peak memory by resident set size, in a fresh process per library.

``python -m benchmarks.memory --library torch --n 1000000 --d 100 --threads 1`` prints
one JSON object. The process makes the data, converts it for the library, runs one
untimed warm-up update, records its resident set size (VmRSS), resets the kernel's
high-water mark (``echo 5 > /proc/self/clear_refs``), runs one more update and reads the
high-water mark (VmHWM): the difference is the peak memory of one update over the data,
whatever allocator the library uses (PyTorch's and XLA's allocations are invisible to
tracemalloc). glibc's malloc is told to serve every allocation above 64 KiB with its own
mmap and to give freed memory straight back (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_),
so memory freed by the warm-up is not silently reused and the high-water mark sees every
array of the measured update. Page granularity (4 KiB) and the warm-up's retained caches
make this coarser than tracemalloc: it is reported beside it, not instead of it. What
the warm-up left resident (buffers, caches, compiled code) is reported as
``retained_bytes``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def _status() -> dict[str, int]:
    text = Path("/proc/self/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", text).group(1)) * 1024 for k in ("VmRSS", "VmHWM")}


def measure(library: str, n: int, d: int, threads: int, extra: str | None = None) -> dict:
    from benchmarks import workloads as wl
    from benchmarks.adapters import ADAPTERS, load_extra
    from benchmarks.worker import pin_threads

    if extra:
        load_extra(extra)
    limits = pin_threads(threads)
    adapter = ADAPTERS[library](threads)
    limits.reapply()
    problem = wl.Problem("W3", n, d, None, steps=1)
    X, y = wl.make_data(n, d, problem.seed)
    adapter.prepare(problem, X, y, wl.batch_order(problem))
    adapter.reset()
    gc.collect()
    prepared = _status()["VmRSS"]
    adapter.run(0, 1)  # warm-up: first-call initialisation and compilation are not counted
    adapter.reset()
    gc.collect()
    before = _status()["VmRSS"]
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    adapter.run(0, 1)
    peak = _status()["VmHWM"]
    return {
        "library": library,
        "method": "rss",
        "n": n,
        "d": d,
        "peak_bytes": peak - before,
        "retained_bytes": before - prepared,  # what the warm-up left resident
        "rss_before_bytes": before,
        "data_bytes": X.nbytes + y.nbytes,
    }


def measure_in_subprocess(
    library: str, n: int, d: int, threads: int, extra: str | None = None, timeout: float = 600
) -> dict:
    """Run :func:`measure` in a fresh interpreter (with the malloc settings above)."""
    cmd = [sys.executable, "-m", "benchmarks.memory", "--library", library]
    cmd += ["--n", str(n), "--d", str(d), "--threads", str(threads)]
    if extra:
        cmd += ["--extra-adapters", extra]
    env = {**os.environ, **MALLOC_ENV}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"library": library, "method": "rss", "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--d", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--extra-adapters")
    args = parser.parse_args(argv)
    result = measure(args.library, args.n, args.d, args.threads, args.extra_adapters)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
