"""Regenerate the README's figures: run every demo at full size into docs/figures/.

    python docs/make_figures.py

The PNGs are re-saved with a 256-colour palette (Pillow, which matplotlib brings) so the
committed copies stay small; the figures the demos write for you are full colour.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from minigrad.cli import run_demo

FIGURES = Path(__file__).resolve().parent / "figures"


def shrink(path: Path) -> None:
    """Palette-quantize a PNG in place (about a third of the size, no visible change)."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args()
    run_demo("all", args.out, quick=False)
    for path in sorted(args.out.glob("*.png")):
        shrink(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
