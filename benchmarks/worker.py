"""One benchmark process per thread count (started by :mod:`benchmarks.run`).

Thread pools are sized when a library loads, so each thread count gets a fresh process:
the parent sets OMP/OpenBLAS/MKL_NUM_THREADS and XLA_FLAGS in its environment, and here
the process pins its CPU affinity, then limits every BLAS/OpenMP pool it can see with
threadpoolctl once all libraries are imported, and calls ``torch.set_num_threads``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from benchmarks import harness
from benchmarks import workloads as wl
from benchmarks.adapters import ADAPTERS, VARIANTS, Adapter, load_extra
from benchmarks.machine import minigrad_source
from benchmarks.memory import measure_in_subprocess
from minigrad.io import atomic_write

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_env(threads: int) -> dict[str, str]:
    """Environment that sizes thread pools at load time (set before the process starts)."""
    env = dict.fromkeys(THREAD_ENV, str(threads))
    flags = os.environ.get("XLA_FLAGS", "")
    flags = " ".join(f for f in flags.split() if "xla_cpu_multi_thread_eigen" not in f)
    if threads == 1:
        flags = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    env["XLA_FLAGS"] = flags
    return env


class _Limits:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.controller: Any = None

    def reapply(self) -> None:
        """threadpoolctl limits on every pool loaded so far (call after the imports)."""
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # the environment variables still size the pools at load time
            return
        self.controller = threadpool_limits(limits=self.threads)


def threadpools() -> list[dict]:
    """threadpoolctl's description of every BLAS/OpenMP pool loaded (empty without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"internal_api": "unknown", "note": "threadpoolctl is not installed"}]
    return threadpool_info()


def pin_threads(threads: int) -> _Limits:
    """Pin this process to ``threads`` CPUs; return an object to re-limit pools later."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cpus[:threads])
    except (AttributeError, OSError):  # not Linux: rely on the library knobs alone
        pass
    for var, value in thread_env(threads).items():
        os.environ.setdefault(var, value)
    limits = _Limits(threads)
    limits.reapply()
    return limits


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(CPU seconds busy on the whole machine, CPU seconds of this process and its
    finished children, wall seconds), to tell how much else ran beside the benchmark."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
    t = os.times()
    return busy, t.user + t.system + t.children_user + t.children_system, time.monotonic()


def other_cpus(start: tuple | None, end: tuple | None) -> float | None:
    """CPUs used on average by other processes (and the hypervisor's steal) in between."""
    if start is None or end is None or end[2] <= start[2]:
        return None
    return max(0.0, ((end[0] - start[0]) - (end[1] - start[1])) / (end[2] - start[2]))


def _loadavg() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--workloads", required=True)
    parser.add_argument("--libraries", required=True)
    parser.add_argument("--repeats", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory", choices=("all", "tracemalloc", "none"), default="all")
    parser.add_argument("--extra-adapters")
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)

    t = args.threads
    limits = pin_threads(t)
    if args.extra_adapters:
        load_extra(args.extra_adapters)
    names = args.libraries.split(",")
    workloads = args.workloads.split(",")
    log = harness._log
    adapters: list[Adapter] = []
    skipped: list[dict] = []
    for name in names:
        cls = ADAPTERS[name]
        why = cls.missing()
        if why is None:
            try:
                adapters.append(cls(t))
                continue
            except Exception as err:  # an installed but broken library is skipped too
                why = f"{type(err).__name__}: {err}"
        skipped.append({"library": name, "reason": why})
        log(f"[threads={t}] skipping {name}: {why}")
    variants = (
        [cls(t) for cls in VARIANTS.values()]
        if "minigrad" in names and any(a.name == "minigrad" for a in adapters)
        else []
    )
    if args.quick:
        for a in adapters:
            a.scale_down()
    limits.reapply()  # now that torch, jax, ... have loaded their pools

    out: dict[str, Any] = {
        "threads": t,
        "pid": os.getpid(),
        "minigrad_source": minigrad_source(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "env": {k: os.environ.get(k) for k in (*THREAD_ENV, "XLA_FLAGS")},
        "threadpools": threadpools(),
        "libraries": {
            a.name: {
                "label": a.label,
                "version": a.version(),
                "pinning": a.pinning(),
                "description": a.description,
            }
            for a in adapters + variants
        },
        "skipped": skipped,
        "loadavg_start": _loadavg(),
        "records": [],
        "memory": [],
        "other_cpus": {},
    }
    started = time.perf_counter()
    log(f"[threads={t}] libraries: {', '.join(a.name for a in adapters)}")
    whole = cpu_snapshot()
    for workload in workloads:
        before = cpu_snapshot()
        _run_workload(workload, args, adapters, variants, out)
        out["other_cpus"][workload] = other_cpus(before, cpu_snapshot())
    out["other_cpus"]["all"] = other_cpus(whole, cpu_snapshot())
    out["loadavg_end"] = _loadavg()
    out["seconds"] = time.perf_counter() - started
    with atomic_write(args.json, "w") as f:
        json.dump(out, f, indent=1, default=float)
    return 0


def _run_workload(
    workload: str,
    args: argparse.Namespace,
    adapters: list[Adapter],
    variants: list[Adapter],
    out: dict[str, Any],
) -> None:
    t = args.threads
    log = harness._log
    plan = wl.plan(workload, args.quick, args.repeats)
    if workload == "W1":
        out["records"] += harness.run_tiny(adapters, plan.repeats[0], t, args.quick)
        return
    libs = adapters + (variants if workload in ("W4", "W5") else [])
    for problem, reps in zip(plan.problems, plan.repeats, strict=True):
        if problem.hidden is not None:  # W7's MLP: only the adapters written for it
            for a in libs:
                if not a.mlp:
                    log(f"    {a.name}: no MLP adapter, skipped on {workload}")
                    out["skipped"].append(
                        {
                            "library": a.name,
                            "reason": f"not run on {workload} (no adapter for its MLP)",
                        }
                    )
            libs = [a for a in libs if a.mlp]
        records, memory = harness.run_training(
            problem, libs, reps, t, memory=workload == "W3" and args.memory != "none"
        )
        out["records"] += records
        out["memory"] += memory
    wl.release_data()
    wl.release_references()
    if workload == "W3" and args.memory == "all":
        problem = plan.problems[0]
        for a in adapters:
            if a.memory_method == "none":
                continue
            log(f"    memory {a.name}: RSS high-water mark in a fresh process")
            rec = measure_in_subprocess(a.name, problem.n, problem.d, t, args.extra_adapters)
            if "error" in rec:
                log(f"    memory {a.name} failed: {rec['error']}")
            out["memory"].append(rec)


if __name__ == "__main__":
    sys.exit(main())
