"""Timing: warm up, check the trajectory, then time the libraries round-robin.

For each problem every library is prepared (data converted to its own types, untimed),
warmed up by one untimed repetition whose parameters are checked against the reference,
and then timed in rounds: in round k each library runs one repetition, the order rotated
by k so that no library is always first after another one's garbage. After every timed
repetition the parameters are checked again; a library that disagrees even once is
refused — its times are dropped and only the disagreement is reported.
"""

from __future__ import annotations

import contextlib
import gc
import math
import statistics
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from benchmarks import workloads as wl
from benchmarks.adapters import Adapter

Log = Callable[[str], None]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Case:
    adapter: Adapter
    problem: wl.Problem  # what is run (a prefix of the rows for an extrapolated library)
    full: wl.Problem  # what is reported
    batches: list
    reference: tuple  # (w, b), or the MLP's (W₁, b₁, W₂, b₂)
    scale: float  # seconds per timed update -> reported seconds per update
    notes: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    faults: list[float] = field(default_factory=list)  # minor page faults per update
    checks: list[dict] = field(default_factory=list)
    status: str = "ok"
    error: str = ""

    @property
    def name(self) -> str:
        return self.adapter.name


def _summary(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def _check(case: Case, log: Log) -> bool:
    check = wl.check_params(case.adapter.params(), case.reference)
    case.checks.append(check)
    if not check["ok"]:
        case.status = "refused"
        case.error = (
            f"trajectory disagrees with the NumPy reference after {len(case.batches)} "
            f"update(s): max |Δparam| = {check.get('max_abs_diff', float('nan')):.3g} "
            f"(relative {check.get('rel_diff', float('nan')):.3g} > rtol {check.get('rtol')})"
            + (f" [{check['reason']}]" if "reason" in check else "")
        )
        case.times.clear()
        log(f"    REFUSED {case.name}: {case.error}")
    return check["ok"]


def _fail(case: Case, stage: str, log: Log) -> None:
    case.status = "error"
    case.error = f"{stage}: " + traceback.format_exc(limit=3).strip().splitlines()[-1]
    case.times.clear()
    log(f"    ERROR {case.name}: {case.error}")


def _make_case(adapter: Adapter, problem: wl.Problem, X: np.ndarray, y: np.ndarray) -> Case:
    run, Xr, yr, scale, notes = problem, X, y, 1.0, []
    if (
        problem.batch_size is None
        and adapter.max_elements is not None
        and problem.n * problem.d > adapter.max_elements
    ):
        rows = max(1, adapter.max_elements // problem.d)
        run, Xr, yr = replace(problem, n=rows), X[:rows], y[:rows]
        # the same number of updates whatever the full N, so every N extrapolates one figure
        run = replace(run, steps=adapter.update_cap(run) or problem.steps)
        scale = problem.n / rows
        notes.append(
            f"measured on the first {rows:,} rows (N·d = {rows * problem.d:,}) and "
            f"extrapolated ×{scale:,.0f} per element; {run.steps} update(s) per repetition"
        )
    batches = wl.batch_order(run)
    cap = adapter.update_cap(run)
    if cap is not None and cap < len(batches):
        if problem.batch_size is not None:
            notes.append(
                f"timed on the first {cap:,} of the epoch's {len(batches):,} updates "
                "(time per update; epoch time extrapolated)"
            )
        else:
            notes.append(f"{cap} update(s) per repetition instead of {len(batches)}")
        batches = batches[:cap]
    reference = wl.reference(run, Xr, yr, batches, key=(run.key, len(batches)))
    case = Case(adapter, run, problem, batches, reference, scale, notes)
    case.data = (Xr, yr)  # type: ignore[attr-defined]
    return case


def _prepare(case: Case, log: Log) -> None:
    """Convert the data to the library's own types (untimed)."""
    Xr, yr = case.data  # type: ignore[attr-defined]
    try:
        case.adapter.prepare(case.problem, Xr, yr, case.batches)
    except Exception:
        _fail(case, "prepare", log)


def _warm_up(case: Case, log: Log) -> None:
    """One untimed repetition (a single update for huge full-batch data), then the check."""
    a = case.adapter
    if case.status != "ok":
        return
    try:
        a.reset()
        if case.problem.batch_size is None and case.problem.n * case.problem.d >= 10_000_000:
            a.run(0, 1)  # compiles/initialises; the full check follows the first timed rep
            a.reset()
            return
        a.run()
    except Exception:
        _fail(case, "warm-up", log)
        return
    _check(case, log)


def _time_rep(case: Case, log: Log) -> None:
    a = case.adapter
    try:
        a.reset()
        gc.collect()
        faults = _minor_faults()
        start = time.perf_counter()
        a.run()
        elapsed = time.perf_counter() - start
        faults = _minor_faults() - faults
    except Exception:
        _fail(case, "timed run", log)
        return
    if _check(case, log):
        case.times.append(elapsed / len(case.batches) * case.scale)
        case.faults.append(faults / len(case.batches))


def _minor_faults() -> float:
    """This process's minor page faults so far (NaN where ``resource`` is missing).

    A fresh large array that the allocator must get from the OS costs one fault per
    4 KiB page on first touch; the count per update shows when timings include that.
    """
    try:
        import resource
    except ImportError:  # Windows
        return math.nan
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)


def _record(case: Case, threads: int, unit: str) -> dict[str, Any]:
    p = case.full
    rec: dict[str, Any] = {
        "threads": threads,
        "workload": p.workload,
        "library": case.name,
        "label": case.adapter.label,
        "n": p.n,
        "d": p.d,
        "batch_size": p.batch_size,
        "unit": unit,
        "status": case.status,
        "error": case.error,
        "notes": case.notes,
        "timed_updates_per_rep": len(case.batches),
        "measured_n": case.problem.n,
        "extrapolation_factor": case.scale if case.scale != 1.0 else None,
        "updates_per_epoch": p.updates if p.batch_size is not None else None,
        "times": list(case.times),
        "page_faults_per_update": statistics.median(case.faults) if case.faults else None,
        "check": case.checks[-1] if case.checks else None,
        "checks_passed": sum(c["ok"] for c in case.checks),
        "trace_seconds": getattr(case.adapter, "trace_seconds", None),  # mg.jit only
    }
    if case.times and case.status == "ok":
        rec.update(_summary(case.times))
        if p.batch_size is not None:
            rec["epoch_time"] = rec["median"] * p.updates
    return rec


def run_training(
    problem: wl.Problem,
    adapters: list[Adapter],
    repeats: int,
    threads: int,
    memory: bool = False,
    log: Log = _log,
) -> tuple[list[dict], list[dict]]:
    """Time one training problem for every adapter; returns (records, memory records)."""
    X, y = wl.make_data(problem.n, problem.d, problem.seed)
    log(f"  {problem.workload} {problem.describe()}, {repeats} rep(s)")
    cases = [_make_case(adapter, problem, X, y) for adapter in adapters]
    for case in cases:
        _prepare(case, log)
    # memory first: the first update of this size also counts buffers a library keeps
    # from one update to the next (minigrad's mse buffer), which a later one would not
    mem = measure_tracemalloc(cases, log) if memory else []
    for case in cases:
        _warm_up(case, log)
    live = [c for c in cases if c.status == "ok"]
    for k in range(repeats):
        order = live[k % len(live) :] + live[: k % len(live)] if live else []
        for case in order:
            if case.status == "ok":
                _time_rep(case, log)
        log(
            f"    round {k + 1}/{repeats}: "
            + ", ".join(
                f"{c.name} {_fmt(c.times[-1])} ({c.faults[-1]:.0f} faults/update)"
                for c in order
                if c.status == "ok" and c.times
            )
        )
    records = [_record(c, threads, "update") for c in cases]
    for c in cases:
        with contextlib.suppress(Exception):  # releasing is best effort
            c.adapter.release()
        c.data = None  # type: ignore[attr-defined]
    return records, mem


def measure_tracemalloc(cases: list[Case], log: Log = _log) -> list[dict]:
    """Peak bytes allocated during a library's first full-batch update, over the data.

    NumPy reports every array buffer to tracemalloc, so for libraries that compute with
    NumPy this is the exact peak of everything one update allocates (graph, temporaries,
    gradients) above what existed before it: X, y and the parameters are not counted.
    Run it before any other update of this size, so that memory a library keeps between
    updates is allocated (and counted) here; ``retained_bytes`` is what it still holds
    after the update.
    """
    out = []
    for case in cases:
        a = case.adapter
        if a.memory_method != "tracemalloc" or case.status != "ok" or case.scale != 1.0:
            continue
        try:
            a.reset()
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            a.run(0, 1)
            after, peak = tracemalloc.get_traced_memory()
        except Exception:
            log(f"    memory of {case.name} failed: {traceback.format_exc(limit=1)}")
            continue
        finally:
            tracemalloc.stop()
        rec = {
            "library": case.name,
            "method": "tracemalloc",
            "n": case.full.n,
            "d": case.full.d,
            "peak_bytes": peak - before,
            "retained_bytes": after - before,
        }
        log(f"    memory {case.name}: peak {rec['peak_bytes'] / 2**20:.1f} MiB over the data")
        out.append(rec)
    return out


def run_tiny(
    adapters: list[Adapter], repeats: int, threads: int, quick: bool, log: Log = _log
) -> list[dict]:
    """W1: per-call time of 10 elementwise ops + sum + backward on shape (3,)."""
    target = 0.01 if quick else 0.2  # seconds per timed repetition
    want = wl.tiny_reference(wl.W1_X, wl.W1_Y)
    log(f"  W1 shape (3,), 10 ops + sum + backward, {repeats} rep(s)")
    cases = []
    for a in adapters:
        case: dict[str, Any] = {"adapter": a, "times": [], "checks": [], "status": "ok"}
        cases.append(case)
        try:
            a.tiny_setup(wl.W1_X.copy(), wl.W1_Y.copy())
            a.tiny_call()
            start, calls = time.perf_counter(), 0
            while (elapsed := time.perf_counter() - start) < target / 10:
                a.tiny_call()
                calls += 1
            per_call = elapsed / max(calls, 1)
            case["inner"] = int(min(200_000, max(5, target / per_call)))
        except Exception:
            case["status"] = "error"
            case["error"] = traceback.format_exc(limit=3).strip().splitlines()[-1]
            log(f"    ERROR {a.name}: {case['error']}")
            continue
        _tiny_check(case, want, log)
    live = [c for c in cases if c["status"] == "ok"]
    for k in range(repeats):
        order = live[k % len(live) :] + live[: k % len(live)] if live else []
        for case in order:
            if case["status"] != "ok":
                continue
            call, inner = case["adapter"].tiny_call, case["inner"]
            gc.collect()
            start = time.perf_counter()
            for _ in range(inner):
                call()
            elapsed = time.perf_counter() - start
            if _tiny_check(case, want, log):
                case["times"].append(elapsed / inner)
        log(
            f"    round {k + 1}/{repeats}: "
            + ", ".join(f"{c['adapter'].name} {_fmt(c['times'][-1])}" for c in order if c["times"])
        )
    records = []
    for case in cases:
        a = case["adapter"]
        rec = {
            "threads": threads,
            "workload": "W1",
            "library": a.name,
            "label": a.label,
            "unit": "call",
            "status": case["status"],
            "error": case.get("error", ""),
            "notes": [],
            "calls_per_rep": case.get("inner"),
            "times": case["times"],
            "check": case["checks"][-1] if case["checks"] else None,
            "checks_passed": sum(c["ok"] for c in case["checks"]),
            "trace_seconds": getattr(a, "trace_seconds", None),  # mg.jit only
        }
        if case["times"] and case["status"] == "ok":
            rec.update(_summary(case["times"]))
        records.append(rec)
    return records


def _tiny_check(case: dict, want: Any, log: Log) -> bool:
    try:
        check = wl.check_grads(case["adapter"].tiny_grads(), want)
    except Exception:
        check = {"ok": False, "reason": traceback.format_exc(limit=1).strip().splitlines()[-1]}
    case["checks"].append(check)
    if not check["ok"]:
        case["status"] = "refused"
        case["error"] = "gradients disagree with the hand-derived ones: " + (
            f"max |Δ| = {check['max_abs_diff']:.3g} (relative {check['rel_diff']:.3g})"
            if "max_abs_diff" in check
            else check.get("reason", "")
        )
        case["times"].clear()
        log(f"    REFUSED {case['adapter'].name}: {case['error']}")
    return check["ok"]


def _fmt(seconds: float) -> str:
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
