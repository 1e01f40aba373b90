"""results.json -> results.md (tables, budgets) and step_time_vs_n.png (W6)."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.adapters import ADAPTERS, VARIANTS
from benchmarks.workloads import ADAM_LR, DESCRIPTIONS
from minigrad.io import atomic_path, save_text

# (workload, kind, library, peer, limit): the library's median (or peak memory) at most
# limit × the peer's in the same run. Eager minigrad's W2 budget is 1.20× since issue 13
# moved the 1.05× to the compiled update (an eager graph must keep its prediction and
# form ∂L/∂ŷ as a fresh array; see "Why W2 misses" in benchmarks/README.md).
BUDGETS = (
    ("W1", "time", "minigrad", "torch", 0.5),
    ("W4", "time", "minigrad", "torch", 0.5),
    ("W5", "time", "minigrad", "torch", 0.5),
    ("W7", "time", "minigrad", "torch", 0.5),
    ("W2", "time", "minigrad", "numpy", 1.20),
    ("W3", "time", "minigrad", "numpy", 1.05),
    ("W3", "memory", "minigrad", "numpy", 2.0),
    ("W1", "time", "minigrad.jit", "numpy", 2.5),
    ("W2", "time", "minigrad.jit", "numpy", 1.05),
    ("W2", "time", "minigrad.jit-pow", "numpy", 1.05),
    ("W4", "time", "minigrad.jit", "numpy", 3.0),
    ("W5", "time", "minigrad.jit", "numpy", 3.0),
    # mg.jit's first call (trace, check, compile, run) at W6's largest N against one
    # eager update of the same problem
    ("W6", "first call", "minigrad.jit", "minigrad", 3.0),
)
PEER_NAMES = {"torch": "PyTorch", "numpy": "NumPy", "minigrad": "eager minigrad"}
LIBRARY_NAMES = {"minigrad.jit": "mg.jit", "minigrad.jit-pow": "mg.jit, ** 2 mean"}
UNIT_PER = {"call": "per call", "update": "per update"}


def _unit(seconds: float) -> tuple[str, float]:
    if seconds < 1e-3:
        return "µs", 1e6
    if seconds < 1:
        return "ms", 1e3
    return "s", 1.0


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.2f}×" if x < 100 else f"{x:,.0f}×"


def _mib(b: float) -> str:
    return f"{b / 2**20:,.1f} MiB"


def _ok(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("status") == "ok" and "median" in r]


def _find(records: list[dict], **match: Any) -> dict | None:
    for r in records:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def evaluate_budgets(results: dict) -> list[dict]:
    """One row per (budget, thread count): minigrad's ratio to the peer, PASS/FAIL."""
    records = _ok(results["records"])
    out = []
    for workload, kind, library, peer, limit in BUDGETS:
        if kind == "first call":
            out += _first_call_budgets(results, records, workload, library, peer, limit)
        elif kind == "time":
            for t in results["settings"]["threads"]:
                mine = _find(records, workload=workload, library=library, threads=t)
                theirs = _find(records, workload=workload, library=peer, threads=t)
                row = {
                    "workload": workload,
                    "kind": kind,
                    "library": library,
                    "peer": peer,
                    "limit": limit,
                    "threads": t,
                }
                if mine and theirs:
                    row["ratio"] = mine["median"] / theirs["median"]
                    row["result"] = "PASS" if row["ratio"] <= limit else "FAIL"
                    row["round_ratios"] = _round_ratio_quartiles(mine, theirs)
                else:
                    row["result"] = "not run"
                out.append(row)
        else:
            mem = [m for m in results.get("memory", []) if m.get("method") == "tracemalloc"]
            mine = _find(mem, library=library)
            theirs = _find(mem, library=peer)
            row = {
                "workload": workload,
                "kind": kind,
                "library": library,
                "peer": peer,
                "limit": limit,
                "threads": results.get("memory_threads"),
            }
            if mine and theirs and theirs["peak_bytes"] > 0:
                row["ratio"] = mine["peak_bytes"] / theirs["peak_bytes"]
                row["result"] = "PASS" if row["ratio"] <= limit else "FAIL"
            else:
                row["result"] = "not run"
            out.append(row)
    return out


def _first_call_budgets(
    results: dict, records: list[dict], workload: str, library: str, peer: str, limit: float
) -> list[dict]:
    """The library's first call (``trace_seconds``) over the peer's median update, at the
    workload's largest N, per thread count."""
    rows = []
    for t in results["settings"]["threads"]:
        mine = [
            r
            for r in records
            if (r["workload"], r["library"], r["threads"]) == (workload, library, t)
        ]
        row = {"workload": workload, "kind": "first call", "library": library, "peer": peer,
               "limit": limit, "threads": t, "result": "not run"}  # fmt: skip
        first = max(mine, key=lambda r: r["n"], default=None)
        theirs = first and _find(records, workload=workload, library=peer, threads=t, n=first["n"])
        if first and theirs and first.get("trace_seconds"):
            row["ratio"] = first["trace_seconds"] / theirs["median"]
            row["result"] = "PASS" if row["ratio"] <= limit else "FAIL"
            row["n"] = first["n"]
        rows.append(row)
    return rows


def _round_ratio_quartiles(mine: dict, theirs: dict) -> tuple[float, float] | None:
    """Quartiles of minigrad's time over the peer's within each round.

    Every library runs once per round, so a round's two times saw nearly the same
    machine. The verdict uses the ratio of medians; how far these per-round ratios
    spread shows how much of a verdict near its limit is the machine's noise.
    """
    a, b = mine.get("times") or [], theirs.get("times") or []
    if len(a) != len(b) or len(a) < 4:
        return None
    q = statistics.quantiles([x / y for x, y in zip(a, b, strict=True)], n=4)
    return q[0], q[2]


def fit_overhead(results: dict) -> list[dict]:
    """mg.fit against the bare minigrad loop on W4/W5 (informative, no budget)."""
    records = _ok(results["records"])
    rows = []
    for r in records:
        if r["library"] not in VARIANTS:
            continue
        bare = _find(records, workload=r["workload"], library="minigrad", threads=r["threads"])
        if bare is None:
            continue
        rows.append(
            {
                "workload": r["workload"],
                "threads": r["threads"],
                "variant": r["library"],
                "bare": bare["median"],
                "fit": r["median"],
                "overhead": r["median"] - bare["median"],
                "relative": r["median"] / bare["median"] - 1.0,
            }
        )
    return rows


def _budget_cell(budget: dict | None) -> str:
    if budget is None:
        return ""
    limit = f"≤ {budget['limit']:g}× {PEER_NAMES[budget['peer']]}"
    if budget["result"] == "not run":
        return f"{limit}: peer not run"
    return f"{limit}: **{budget['result']}**"


def _time_table(results: dict, workload: str, threads: int, budgets: list[dict]) -> list[str]:
    rows = [
        r
        for r in results["records"]
        if r["workload"] == workload and r["threads"] == threads and r["library"] not in VARIANTS
    ]
    if not rows:
        return []
    ok = _ok(rows)
    numpy = _find(ok, library="numpy")
    torch = _find(ok, library="torch")
    medians = [r["median"] for r in ok]
    name, scale = _unit(sorted(medians)[len(medians) // 2] if medians else 1e-3)
    per = UNIT_PER[rows[0]["unit"]]
    epoch = workload in ("W4", "W5", "W7")
    faults = any(r.get("page_faults_per_update") is not None for r in rows)
    head = f"| library | median ({name} {per}) | min–max | × NumPy | × PyTorch |"
    head += " epoch time |" if epoch else ""
    head += " page faults / update |" if faults else ""
    head += " budget |"
    lines = [_problem_line(rows), "", head, "|" + "---|" * (head.count("|") - 1)]
    notes = []
    for r in rows:
        mark = ""
        if r.get("notes"):
            notes.append(f"{r['label']}: " + "; ".join(r["notes"]))
            mark = f" [{len(notes)}]"
        budget = next(
            (
                b
                for b in budgets
                if b["workload"] == workload
                and b["kind"] == "time"
                and b["threads"] == threads
                and b["library"] == r["library"]
            ),
            None,
        )
        if r.get("trace_seconds") is not None:
            notes.append(
                f"{r['label']}: traced once, in {r['trace_seconds'] * 1e3:.1f} ms (untimed)"
            )
            mark += f" [{len(notes)}]"
        if r.get("status") != "ok" or "median" not in r:
            cells = (
                [f"{r['label']}{mark}", f"{r['status'].upper()}: {r.get('error', '')}", "", "", ""]
                + ([""] if epoch else [])
                + ([""] if faults else [])
                + [_budget_cell(budget)]
            )
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells = [
            f"{r['label']}{mark}",
            _num(r["median"] * scale),
            f"{_num(r['min'] * scale)}–{_num(r['max'] * scale)}",
            _ratio(r["median"] / numpy["median"]) if numpy else "—",
            _ratio(r["median"] / torch["median"]) if torch else "—",
        ]
        if epoch:
            cells.append(f"{r['epoch_time']:.3g} s")
        if faults:
            count = r.get("page_faults_per_update")
            cells.append("" if count is None or count != count else f"{count:.0f}")
        cells.append(_budget_cell(budget))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"[{i}] {note}  " for i, note in enumerate(notes, 1)]
    return lines


def _problem_line(rows: list[dict]) -> str:
    reps = max((len(r.get("times", [])) for r in rows), default=0)
    r = next((r for r in rows if r["library"] in ("numpy", "minigrad")), rows[0])
    if r["workload"] == "W1":
        return (
            f"Two leaves of shape (3,); each repetition times a loop of calls (calibrated per "
            f"library to ~0.2 s); {reps} repetitions."
        )
    if r["batch_size"] is None:
        what = f"full batch, {r['timed_updates_per_rep']} updates per repetition"
    else:
        what = (
            f"batch {r['batch_size']}, one epoch = {r['updates_per_epoch']:,} updates per "
            "repetition"
        )
    return f"N = {r['n']:,}, d = {r['d']}, {what}; {reps} repetitions."


def _w6_table(results: dict, threads: int) -> list[str]:
    rows = [r for r in _ok(results["records"]) if r["workload"] == "W6" and r["threads"] == threads]
    if not rows:
        return []
    sizes = sorted({r["n"] for r in rows})
    libs = list(dict.fromkeys(r["library"] for r in rows))
    head = "| library | " + " | ".join(f"N = {n:,}" for n in sizes) + " |"
    lines = [head, "|" + "---|" * (len(sizes) + 1)]
    for lib in libs:
        cells = []
        label = lib
        for n in sizes:
            r = _find(rows, library=lib, n=n)
            if r is None:
                cells.append("—")
                continue
            label = r["label"]
            unit, scale = _unit(r["median"])
            cells.append(
                f"{_num(r['median'] * scale)} {unit}"
                + ("†" if r.get("extrapolation_factor") else "")
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    if any(r.get("extrapolation_factor") for r in rows):
        lines.append("† extrapolated per element from a run on the first rows (see notes).")
        lines.append("")
    return lines


def _memory_table(results: dict, budgets: list[dict]) -> list[str]:
    mem = results.get("memory", [])
    if not mem:
        return []
    lines = [
        "| library | method | peak over the data | × NumPy (same method) | kept after the update "
        "| budget |",
        "|---|---|---|---|---|---|",
    ]
    labels = {}
    for run in results["runs"]:
        labels.update({k: v["label"] for k, v in run.get("libraries", {}).items()})
    budget = next((b for b in budgets if b["kind"] == "memory"), None)
    order = list(ADAPTERS)
    for m in sorted(
        mem,
        key=lambda m: (
            m["method"] != "tracemalloc",
            order.index(m["library"]) if m["library"] in order else len(order),
        ),
    ):
        label = labels.get(m["library"], m["library"])
        if "error" in m:
            lines.append(f"| {label} | {m['method']} | failed: {m['error']} | | | |")
            continue
        numpy = _find(mem, library="numpy", method=m["method"])
        ratio = (
            m["peak_bytes"] / numpy["peak_bytes"]
            if numpy and "peak_bytes" in numpy and numpy["peak_bytes"] > 0
            else None
        )
        cell = (
            _budget_cell(budget)
            if m["library"] == "minigrad" and m["method"] == "tracemalloc"
            else ""
        )
        kept = m.get("retained_bytes")
        lines.append(
            f"| {label} | {m['method']} | {_mib(m['peak_bytes'])} | {_ratio(ratio)} "
            f"| {'' if kept is None else _mib(kept)} | {cell} |"
        )
    data = next((m.get("data_bytes") for m in mem if m.get("data_bytes")), None)
    lines.append("")
    if data:
        lines.append(f"The data itself (X and y) is {_mib(data)}; it is not counted.")
    lines.append(
        "tracemalloc: peak of NumPy buffers allocated during a library's first update of this "
        "size (exact, NumPy-based libraries only), so buffers it keeps between updates count. "
        "rss: kernel high-water mark (VmHWM) of the update after a warm-up minus the resident "
        "set before it, in a fresh process per library with glibc malloc forced to mmap/unmap "
        "every allocation above 64 KiB; 4 KiB pages, coarser; what the warm-up left resident "
        "is in the last column. See benchmarks/memory.py."
    )
    lines.append("")
    return lines


BUSY = 0.25
"""Other processes using more CPUs than this on average make a section's figures suspect."""


def _contention(results: dict, workload: str, threads: int) -> list[str]:
    run = next((r for r in results["runs"] if r["threads"] == threads), None)
    used = (run or {}).get("other_cpus", {}).get(workload)
    if used is None:
        return [""]
    cpus = results["machine"].get("os_cpu_count")
    line = f"While this ran, other processes used {used:.2f} of the {cpus} CPUs on average"
    if used > BUSY:
        line += " — **the machine was busy: these figures are disturbed**"
    return [line + ".", ""]


def _env_lines(results: dict) -> list[str]:
    m = results["machine"]
    cpu = m["cpu"]
    gib = (m.get("memory_bytes") or 0) / 2**30
    v = m["versions"]
    lines = [
        f"- **Machine**: {cpu['model']}, {m['os_cpu_count']} logical CPUs "
        f"({', '.join(cpu.get('simd', []))}), {gib:.1f} GiB RAM, {m['platform']}",
        f"- **Python** {m['python']}; "
        + ", ".join(f"{k} {val}" for k, val in v.items() if val is not None),
    ]
    sources = [(run["threads"], run.get("minigrad_source")) for run in results["runs"]]
    sources = [(t, src) for t, src in sources if src and src.get("commit")]
    for t, src in sources or [(None, m.get("minigrad_source") or {})]:
        if not src.get("commit"):
            continue
        dirty = src.get("uncommitted") or []
        when = f" (threads = {t} process)" if t is not None else ""
        lines.append(
            f"- **minigrad source**{when}: commit {src['commit']}"
            + (f", with uncommitted changes to {', '.join(dirty)}" if dirty else "")
        )
    blas = results["blas_env"]
    if blas.get("reexec"):
        was = ", ".join(f"{k}={val!r}" for k, val in blas["unset"].items())
        before = blas.get("architecture_before")
        lines.append(
            f"- **OpenBLAS environment**: the harness re-executed itself once with {was} unset "
            f"(for this run only); OpenBLAS kernel before: {before or 'unknown'}, during the run: "
            f"{', '.join(blas.get('architecture_during', [])) or 'unknown'}"
        )
    else:
        lines.append(
            "- **OpenBLAS environment**: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE: "
            f"{blas.get('why', 'no re-exec')}; kernel: "
            f"{', '.join(blas.get('architecture_during', [])) or 'unknown'}"
        )
    if results["settings"].get("malloc") == "keep":
        lines.append(
            "- **malloc = keep (diagnostic)**: glibc was told never to give freed memory back "
            "to the OS, so fresh large arrays cost no page faults; not how users run"
        )
    for run in results["runs"]:
        pools = "; ".join(
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '-')}, "
            f"{p.get('threading_layer', '-')}, {p.get('num_threads')} thr, "
            f"{Path(p.get('filepath', '')).name})"
            for p in run.get("threadpools", [])
        )
        load = [
            [round(v, 2) for v in x] if x else x
            for x in (run.get("loadavg_start"), run.get("loadavg_end"))
        ]
        used = run.get("other_cpus", {}).get("all")
        others = f"; other processes used {used:.2f} CPUs on average" if used is not None else ""
        lines.append(
            f"- **threads = {run['threads']}**: CPU affinity {run.get('affinity')}, "
            f"env {run.get('env')}; thread pools: {pools}; load average (1/5/15 min) at start "
            f"{load[0]}, at end {load[1]}{others}"
        )
        for name, lib in run.get("libraries", {}).items():
            if name in ("torch", "jax"):
                lines.append(f"  - {lib['label']}: {lib['pinning']}")
    return lines


def markdown(results: dict) -> str:
    budgets = results["budgets"]
    threads = results["settings"]["threads"]
    out = [
        "# minigrad benchmarks",
        "",
        f"Generated {results['created']} by `{results['command']}` "
        f"({results['seconds'] / 60:.1f} min"
        + (", **quick mode: small sizes, not the real figures**" if results["quick"] else "")
        + "). Raw runs: `results.json`. How to read this: `benchmarks/README.md`.",
        "",
        *_env_lines(results),
        "",
        "Every library trains y ≈ Xw + b by MSE and plain gradient descent from w = 0, b = 0, "
        f"learning rate {results['settings']['lr']}, on the same data and the same batches "
        "(W7: an MLP 10 → 64 → 1 with tanh, by MSE and Adam at learning rate "
        f"{ADAM_LR:g}, from the same initial weights); "
        "its parameters after every timed repetition were checked against the hand-derived "
        f"NumPy trajectory (relative tolerance {results['settings']['rtol']:g}) before any "
        "time is shown. Times are medians over repetitions (libraries interleaved "
        "round-robin); ratios are of medians.",
        "",
        "## Budgets (minigrad against the peer in the same run)",
        "",
        "| budget | " + " | ".join(f"threads = {t}" for t in threads) + " |",
        "|---|" + "---|" * len(threads),
    ]
    seen = []
    for b in budgets:
        key = (b["workload"], b["kind"], b["library"])
        if key in seen:
            continue
        seen.append(key)
        what = {"memory": "peak memory", "first call": "first call"}.get(b["kind"], "time")
        who = (
            ""
            if b["library"] == "minigrad"
            else f" ({LIBRARY_NAMES.get(b['library'], b['library'])})"
        )
        name = f"{b['workload']}{who} {what} ≤ {b['limit']:g}× {PEER_NAMES[b['peer']]}"
        cells = []
        for t in threads:
            row = next(
                (
                    x
                    for x in budgets
                    if (x["workload"], x["kind"], x["library"]) == key
                    and (x["threads"] == t or x["kind"] == "memory")
                ),
                None,
            )
            if row is None or row["result"] == "not run":
                cells.append("not run")
            elif b["kind"] == "memory" and t != threads[0]:
                cells.append("(measured once)")
            else:
                spread = row.get("round_ratios")
                rounds = f" (rounds {spread[0]:.2f}–{spread[1]:.2f})" if spread else ""
                cells.append(f"{_ratio(row['ratio'])} {row['result']}{rounds}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += [
        "",
        "A verdict compares the ratio of medians with the limit. In brackets: the middle half "
        "(quartiles) of the per-round ratios, minigrad's time over the peer's within each "
        "round (every library runs once per round); a limit inside that range is within this "
        "machine's noise.",
    ]
    out.append("")
    for workload in results["settings"]["workloads"]:
        out += [f"## {workload} — {DESCRIPTIONS[workload]}", ""]
        if workload == "W6":
            for t in threads:
                table = _w6_table(results, t)
                if table:
                    out += [f"### threads = {t} (median time per update)", "", *table]
                    out += _contention(results, workload, t)
            if results.get("plot"):
                out += [f"![step time against N]({results['plot']})", ""]
        else:
            for t in threads:
                table = _time_table(results, workload, t, budgets)
                if table:
                    out += [f"### threads = {t}", "", *table, *_contention(results, workload, t)]
        if workload == "W3":
            table = _memory_table(results, budgets)
            if table:
                out += [
                    f"### W3 peak memory of one update (threads = {results.get('memory_threads')})",
                    "",
                    *table,
                ]
    fits = results.get("fit_overhead", [])
    if fits:
        out += [
            "## mg.fit() against the bare loop (W4/W5, informative, no budget)",
            "",
            "The bare loop is the minigrad row above (model, mse, backward, SGD step); mg.fit "
            "adds data checks, the shuffled batches, a History and (by default) the parameter "
            "path. Same batch order, so the trajectories were checked the same way.",
            "",
            "| workload | threads | variant | bare loop | fit | overhead per update |",
            "|---|---|---|---|---|---|",
        ]
        for f in fits:
            out.append(
                f"| {f['workload']} | {f['threads']} | {f['variant']} | {f['bare'] * 1e6:.1f} µs | "
                f"{f['fit'] * 1e6:.1f} µs | {f['overhead'] * 1e6:+.1f} µs ({f['relative']:+.0%}) |"
            )
        out.append("")
    problems = [r for r in results["records"] if r.get("status") != "ok"]
    if results.get("skipped") or problems:
        out += ["## Skipped, refused and failed", ""]
        for s in results.get("skipped", []):
            out.append(f"- skipped **{s['library']}**: {s['reason']}")
        for r in problems:
            out.append(
                f"- {r['status']} **{r['library']}** on {r['workload']} "
                f"(threads = {r['threads']}): {r['error']}"
            )
        out.append("")
    return "\n".join(out)


def plot_step_time(results: dict, path: Path) -> str | None:
    """W6 log–log plot, one line per library (one panel per thread count)."""
    rows = [r for r in _ok(results["records"]) if r["workload"] == "W6"]
    if not rows:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    threads = sorted({r["threads"] for r in rows})
    fig, axes = plt.subplots(
        1, len(threads), figsize=(6.2 * len(threads) + 1.0, 7.4), sharey=True, squeeze=False
    )
    by_lib: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_lib[r["library"]].append(r)
    styles = {
        "minigrad": ("#d62728", "o", 2.6),
        "numpy": ("#1f77b4", "s", 2.0),
        "torch": ("#ff7f0e", "^", 2.0),
        "jax": ("#2ca02c", "v", 1.6),
        "jax-jit": ("#17becf", "D", 1.6),
        "autograd": ("#9467bd", "P", 1.6),
        "mygrad": ("#8c564b", "X", 1.6),
        "micrograd": ("#7f7f7f", "*", 1.6),
    }
    for ax, t in zip(axes[0], threads, strict=True):
        for lib, recs in by_lib.items():
            recs = sorted((r for r in recs if r["threads"] == t), key=lambda r: r["n"])
            if not recs:
                continue
            color, marker, width = styles.get(lib, (None, "o", 1.5))
            n = [r["n"] for r in recs]
            med = [r["median"] for r in recs]
            label = recs[0]["label"]
            if any(r.get("extrapolation_factor") for r in recs):
                label += f" (extrapolated from N = {recs[0]['measured_n']:,})"
            ax.plot(
                n,
                med,
                marker=marker,
                color=color,
                lw=width,
                ms=6,
                ls="--" if lib == "micrograd" else "-",
                label=label,
            )
            ax.fill_between(
                n, [r["min"] for r in recs], [r["max"] for r in recs], color=color, alpha=0.15, lw=0
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (rows of X, d = 10, full batch)", fontsize=11)
        ax.set_title(f"threads = {t}", fontsize=12)
        ax.grid(True, which="major", alpha=0.5)
        ax.grid(True, which="minor", alpha=0.15)
        ax.tick_params(labelsize=10)
    axes[0][0].set_ylabel("time per update (s): forward, MSE, backward, step", fontsize=11)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=10, frameon=False
    )
    fig.suptitle(
        "W6: full-batch gradient-descent update time against N (median; band = min–max)",
        fontsize=13,
    )
    rows_of_legend = -(-len(labels) // 4)
    fig.tight_layout(rect=(0, 0.045 * rows_of_legend + 0.02, 1, 0.97))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
    return path.name


def main(argv: list[str] | None = None) -> int:
    """Re-render results.md (and the plot) from a results.json: ``python -m benchmarks.report``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path, help="a results.json written by the harness")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    results["budgets"] = evaluate_budgets(results)
    results["fit_overhead"] = fit_overhead(results)
    if results.get("plot"):
        results["plot"] = plot_step_time(results, args.results.parent / results["plot"])
    save_text(args.results, json.dumps(results, indent=1, default=float) + "\n")
    save_text(args.results.parent / "results.md", markdown(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
