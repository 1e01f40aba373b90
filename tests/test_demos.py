"""Every demo runs at its reduced (--quick) size and writes figures that are not blank."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from minigrad.demos import DEMOS

REPO = Path(__file__).resolve().parent.parent


def assert_not_blank(path: Path) -> None:
    import matplotlib.image

    assert path.exists() and path.stat().st_size > 5_000, path
    pixels = matplotlib.image.imread(path)[..., :3]
    assert pixels.std() > 0.02, f"{path} is (nearly) one colour"


@pytest.mark.parametrize("name", list(DEMOS))
def test_demo_runs_and_saves_figures(name: str, tmp_path: Path, capsys) -> None:
    module = importlib.import_module(f"minigrad.demos.{name}")
    paths = module.run(tmp_path, quick=True)
    printed = capsys.readouterr().out
    assert printed.strip(), "a demo prints its numbers"
    assert paths, "a demo saves at least one file"
    for path in paths:
        assert path.exists()
        if path.suffix == ".png":
            assert_not_blank(path)
    if name != "graph":
        assert any(p.suffix == ".png" for p in paths)


def test_every_demo_script_exists_and_is_listed() -> None:
    scripts = {p.stem for p in (REPO / "demos").glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(DEMOS)


def test_demo_script_runs_standalone(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "demos" / "loss_table.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "rmse" in result.stdout
    assert_not_blank(tmp_path / "loss_table.png")


def test_gradient_descent_demo_matches_hand_formula(tmp_path: Path, capsys) -> None:
    importlib.import_module("minigrad.demos.gradient_descent").run(tmp_path, quick=True)
    out = capsys.readouterr().out
    worst = float(out.split("largest |autograd − hand| over")[1].split(":")[1].split()[0])
    assert worst < 1e-9
    first_row = next(line for line in out.splitlines() if line.strip().startswith("0 "))
    # iteration 0 at w = b = 0 on the cars data: ∂L/∂w = −(2/N)·Σxᵢyᵢ, ∂L/∂b = −(2/N)·Σyᵢ
    from minigrad.demos._common import cars

    X, y = cars()
    expected = [-2 * np.mean(X[:, 0] * y), -2 * np.mean(y)]
    values = [float(v) for v in first_row.split()]
    np.testing.assert_allclose([values[4], values[6]], expected, rtol=1e-5)
