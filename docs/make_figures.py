"""Regenerate the README's figures: run every demo at full size into docs/figures/.

    python docs/make_figures.py [--only graph,loss_table] [--out DIR]

The PNGs the demos write are re-saved with a 256-colour palette (Pillow, which matplotlib
brings) so the committed copies stay small; the figures the demos write for you are
full colour. A figure a demo could not make this time (graph.png, without Graphviz's
``dot``) is left as it was, not re-saved.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=FIGURES, help="folder for the figures (default: docs/figures)"
    )
    parser.add_argument(
        "--only", default="all", help="comma-separated demo names (default: all of them)"
    )
    args = parser.parse_args(argv)
    before = set(args.out.glob("*.png"))
    written = [
        path
        for name in args.only.split(",")
        for path in run_demo(name.strip(), args.out, quick=False)
        if path.suffix == ".png"
    ]
    for path in written:
        shrink(path)
    for path in sorted(before - set(written)):
        print(f"left {path} as it was (its demo did not write it this time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
