"""Command line: ``python -m benchmarks`` (or ``python benchmarks/run.py``).

Runs the chosen workloads for the chosen libraries once per thread count, each in its own
process (:mod:`benchmarks.worker`), and writes ``results.json``, ``results.md`` and
``step_time_vs_n.png`` to ``--out``: by default a fresh folder
``out/benchmarks/<UTC time>/``, so a run (a ``--quick`` one above all) never overwrites
the committed results; ``--update-committed`` replaces those, on purpose.

If OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set, the harness first re-executes itself
once with both unset (they pin OpenBLAS to an older, slower kernel on some machines) and
records that it did, the values it removed, and the kernel OpenBLAS chose before and after
(threadpoolctl's ``architecture``). ``--no-reexec`` keeps the environment as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import machine, report
from benchmarks import workloads as wl
from benchmarks.adapters import ADAPTERS, load_extra
from benchmarks.worker import thread_env
from minigrad.io import save_text

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "benchmarks" / "results"
RUNS = Path("out") / "benchmarks"
REEXEC_VAR = "MINIGRAD_BENCH_REEXEC"
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MALLOC_KEEP = {"MALLOC_TRIM_THRESHOLD_": str(2**40), "MALLOC_MMAP_THRESHOLD_": str(2**25)}


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="minigrad against PyTorch, JAX, HIPS autograd, MyGrad, micrograd and "
        "hand-written NumPy on the same linear-regression training (see benchmarks/README.md).",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(wl.ALL),
        help=f"comma-separated, from {','.join(wl.ALL)} (default: all)",
    )
    parser.add_argument(
        "--libraries",
        default=None,
        help=f"comma-separated, from {','.join(ADAPTERS)} (default: all)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repetitions per library (default 5, quick 2; W1 and W2 use 3× as many, "
        "W3 and W6 at N ≥ 10⁵ at most 3)",
    )
    parser.add_argument(
        "--threads",
        default=None,
        help="comma-separated thread counts, one process each (default 1,2; quick: 1)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run in seconds, not real figures"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output directory (default: a fresh {RUNS}/<UTC time>/ under the current one)",
    )
    parser.add_argument(
        "--update-committed",
        action="store_true",
        help="write to benchmarks/results/, replacing the committed results (a full run: "
        "not with --quick or --out)",
    )
    parser.add_argument(
        "--memory",
        choices=("all", "tracemalloc", "none"),
        default="all",
        help="W3 peak memory: tracemalloc and RSS (all), tracemalloc only, none",
    )
    parser.add_argument(
        "--malloc",
        choices=("default", "keep"),
        default="default",
        help="keep: tell glibc malloc never to return freed memory to the OS "
        "(MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_), a diagnostic that "
        "removes the page-fault cost of fresh large arrays from the timings",
    )
    parser.add_argument(
        "--no-reexec", action="store_true", help="do not unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE"
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the W6 plot")
    parser.add_argument(
        "--extra-adapters",
        type=Path,
        default=None,
        help="a Python file defining more Adapter subclasses (their names "
        "can then be given to --libraries)",
    )
    args = parser.parse_args(argv)
    if args.update_committed:
        if args.quick or args.out is not None:
            parser.error("--update-committed writes a full run to benchmarks/results/: "
                         "drop --quick and --out")  # fmt: skip
        args.out = COMMITTED
    elif args.out is None:
        args.out = fresh_folder(RUNS, datetime.now(timezone.utc))
    if args.extra_adapters:
        args.extra_adapters = args.extra_adapters.resolve()
        load_extra(str(args.extra_adapters))
    args.workloads = [w.upper() for w in _csv(args.workloads)]
    for w in args.workloads:
        if w not in wl.ALL:
            parser.error(f"unknown workload {w!r}; choose from {', '.join(wl.ALL)}")
    args.libraries = _csv(args.libraries) if args.libraries else list(ADAPTERS)
    for name in args.libraries:
        if name not in ADAPTERS:
            parser.error(f"unknown library {name!r}; choose from {', '.join(ADAPTERS)}")
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.threads = [int(t) for t in _csv(args.threads or ("1" if args.quick else "1,2"))]
    if any(t < 1 for t in args.threads):
        parser.error("--threads must be positive integers")
    return args


def fresh_folder(parent: Path, now: datetime) -> Path:
    """``parent/<UTC time>``, or with a suffix if a run this second already has it."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    folder, n = parent / stamp, 1
    while folder.exists():
        n += 1
        folder = parent / f"{stamp}-{n}"
    return folder


def _blas_architectures(threadpools: list[dict]) -> list[str]:
    return sorted({p["architecture"] for p in threadpools if p.get("architecture")})


def reexec_env(environ: dict[str, str]) -> dict[str, str] | None:
    """The environment to re-execute with (both OpenBLAS variables unset, a marker set),
    or None when neither is set or this process already is the re-executed one."""
    if REEXEC_VAR in environ:
        return None
    removed = {k: environ[k] for k in OPENBLAS_VARS if k in environ}
    if not removed:
        return None
    env = {k: v for k, v in environ.items() if k not in OPENBLAS_VARS}
    env[REEXEC_VAR] = json.dumps({"unset": removed})
    return env


def _maybe_reexec(argv: list[str]) -> None:
    env = reexec_env(dict(os.environ))
    if env is None:
        return
    import numpy  # noqa: F401  (which kernel does OpenBLAS pick with the variables still set?)

    from benchmarks.worker import threadpools

    before = _blas_architectures(threadpools())
    marker = json.loads(env[REEXEC_VAR])
    marker["architecture_before"] = ", ".join(before) or None
    env[REEXEC_VAR] = json.dumps(marker)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    print(
        f"benchmarks: re-executing once with {', '.join(marker['unset'])} unset "
        f"(OpenBLAS kernel now: {marker['architecture_before']})",
        file=sys.stderr,
        flush=True,
    )
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *argv], env)


def _run_worker(args: argparse.Namespace, threads: int, memory: str) -> dict:
    env = dict(os.environ)
    env.update(thread_env(threads))
    env.update(MALLOC_KEEP if args.malloc == "keep" else {})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "worker.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.worker",
            "--threads",
            str(threads),
            "--workloads",
            ",".join(args.workloads),
            "--libraries",
            ",".join(args.libraries),
            "--repeats",
            str(args.repeats),
            "--memory",
            memory,
            "--json",
            str(out),
        ]
        if args.quick:
            cmd.append("--quick")
        if args.extra_adapters:
            cmd += ["--extra-adapters", str(args.extra_adapters)]
        proc = subprocess.run(cmd, env=env, cwd=REPO)
        if proc.returncode != 0:
            raise SystemExit(
                f"benchmarks: the worker for threads={threads} failed (exit code {proc.returncode})"
            )
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    cli = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if cli and not args.no_reexec:
        _maybe_reexec(argv)
    started = time.perf_counter()
    marker = json.loads(os.environ.get(REEXEC_VAR, "null"))
    runs = []
    for i, t in enumerate(args.threads):
        memory = args.memory if i == 0 else "none"  # peak memory does not depend on threads
        print(f"benchmarks: threads = {t}", file=sys.stderr, flush=True)
        runs.append(_run_worker(args, t, memory))

    records = [r for run in runs for r in run.pop("records")]
    memory_records = [m for run in runs for m in run.pop("memory")]
    skipped = list({s["library"]: s for run in runs for s in run["skipped"]}.values())
    during = sorted({a for run in runs for a in _blas_architectures(run["threadpools"])})
    if marker:
        blas_env = {
            "reexec": True,
            "unset": marker["unset"],
            "architecture_before": marker.get("architecture_before"),
            "architecture_during": during,
        }
    else:
        present = {k: os.environ[k] for k in OPENBLAS_VARS if k in os.environ}
        why = (
            ("--no-reexec: left as they were " + json.dumps(present))
            if present
            else "neither was set, so no re-exec was needed"
        )
        blas_env = {"reexec": False, "unset": {}, "why": why, "architecture_during": during}
    results = {
        "schema": 1,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks " + " ".join(argv),
        "quick": args.quick,
        "settings": {
            "workloads": args.workloads,
            "libraries": args.libraries,
            "repeats": args.repeats,
            "threads": args.threads,
            "lr": wl.LR,
            "seed": wl.SEED,
            "rtol": wl.RTOL,
            "malloc": args.malloc,
        },
        "workload_descriptions": {w: wl.DESCRIPTIONS[w] for w in args.workloads},
        "machine": machine.describe(),
        "blas_env": blas_env,
        "runs": runs,
        "records": records,
        "memory": memory_records,
        "memory_threads": args.threads[0],
        "skipped": skipped,
    }
    results["budgets"] = report.evaluate_budgets(results)
    results["fit_overhead"] = report.fit_overhead(results)
    args.out.mkdir(parents=True, exist_ok=True)
    results["plot"] = None
    if "W6" in args.workloads and not args.no_plot:
        results["plot"] = report.plot_step_time(results, args.out / "step_time_vs_n.png")
    results["seconds"] = time.perf_counter() - started
    save_text(args.out / "results.json", json.dumps(results, indent=1, default=float) + "\n")
    save_text(args.out / "results.md", report.markdown(results) + "\n")
    print(
        f"benchmarks: wrote {args.out / 'results.md'} ({results['seconds'] / 60:.1f} min)",
        file=sys.stderr,
    )
    for b in results["budgets"]:
        if b["result"] == "not run":
            continue
        print(
            f"  {b['workload']} {b['kind']} ≤ {b['limit']:g}× {b['peer']} "
            f"(threads={b['threads']}): {b['ratio']:.2f}× {b['result']}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
