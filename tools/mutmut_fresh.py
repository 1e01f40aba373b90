"""Run mutmut's mutants each in a fresh Python process, for code that runs at import time.

Why: ``mutmut run`` tests every mutant in a child forked from one process that has
already imported the package, and switches the mutant on afterwards. Code that runs
while a module is imported never sees the mutant then:

- the factories that build ops (``_stacker``, ``_at_least``, ``_method_source``);
- the ``@_loss`` registration;
- ``_count_when_free``, which measures a reference count once.

Their mutants "survive" without having been tested. Here each mutant gets a fresh
``python -m pytest`` in mutmut's ``mutants/`` copy, with ``MUTANT_UNDER_TEST`` set before
anything is imported. It uses the same switch and the same verdict as mutmut: a failing test
kills. The tests are the checkout's own, so a test written after the run counts.

    mutmut run                      # first: makes mutants/ and the list of survivors
    python tools/mutmut_fresh.py --tests tests/test_ops.py tests/test_registry.py \\
        -- 'minigrad.ops.shape.x__at_least__mutmut_*' 'minigrad.ops.composites.x__stacker*'

Patterns match the names ``mutmut results`` prints, survivors and untested ones alike.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"


def listed_mutants() -> list[str]:
    """Every mutant ``mutmut results --all true`` knows, with its current status."""
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return [line.split(":")[0].strip() for line in out.splitlines() if ":" in line]


def verdict(name: str, tests: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout' for one mutant. The tests are
    the checkout's own (absolute paths), so tests written after ``mutmut run`` count;
    the package is mutmut's copy, first on the path from the ``mutants/`` folder."""
    env = {**os.environ, "MUTANT_UNDER_TEST": name, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        code = subprocess.run(
            command, cwd=MUTANTS, env=env, capture_output=True, timeout=timeout
        ).returncode
    except subprocess.TimeoutExpired:
        return "timeout"
    # mutmut's verdict: any failure kills, an import error (pytest's exit code 4) too
    return "survived" if code == 0 else "killed" if code == 1 else f"killed (exit {code})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", nargs="+", required=True, help="test files or node ids")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    parser.add_argument("patterns", nargs="+", help="mutant names or fnmatch patterns")
    args = parser.parse_args(argv)
    if not MUTANTS.is_dir():
        parser.error("no mutants/ folder: run `mutmut run` first")
    names = [n for n in listed_mutants() if any(fnmatch.fnmatch(n, p) for p in args.patterns)]
    if not names:
        parser.error("no mutant matches")
    tests = [str(ROOT / test) for test in args.tests]  # node ids keep their ::suffix
    baseline = verdict("", tests, args.timeout)
    if baseline != "survived":  # without a mutant every test must pass
        print(f"the tests fail without any mutant ({baseline}): fix them first")
        return 2
    with ThreadPoolExecutor(args.jobs) as pool:
        results = pool.map(lambda n: (n, verdict(n, tests, args.timeout)), names)
        counts: dict[str, int] = {}
        for name, result in results:
            counts[result] = counts.get(result, 0) + 1
            print(f"{name}: {result}", flush=True)
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
