"""What every demo shares: its command line, the cars data in friendly units, tables."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import minigrad as mg

DemoRun = Callable[[Path, bool], list[Path]]

WEIGHT_UNIT = 1000.0
"""The cars' weight is used in thousands of pounds (as the Crash Course does): with raw
pounds the loss surface is a needle-thin valley and lr = 0.01 explodes at once."""


def cars() -> tuple[np.ndarray, np.ndarray]:
    """Car weight (1000 lbs) → fuel efficiency (miles per gallon), rows with gaps dropped."""
    ds = mg.data.load_cars(features=("Weight_in_lbs",), target="Miles_per_Gallon")
    return ds.X / WEIGHT_UNIT, ds.y


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table; floats get 6 significant digits."""

    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            return f"{v:.6g}"
        return str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in text]
    return "\n".join(out)


def main_for(name: str, run: DemoRun, doc: str | None) -> Callable[[Sequence[str] | None], int]:
    """The ``main(argv)`` of a demo script: ``--out DIR`` and ``--quick``."""

    def main(argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(
            prog=f"python demos/{name}.py",
            description=(doc or "").strip().splitlines()[0],
        )
        parser.add_argument("--out", type=Path, default=Path("out"), help="folder for figures")
        parser.add_argument(
            "--quick", action="store_true", help="smaller sizes (for tests and a fast look)"
        )
        args = parser.parse_args(argv)
        args.out.mkdir(parents=True, exist_ok=True)
        for path in run(args.out, args.quick):
            print(f"saved {path}")
        return 0

    return main
