"""The `minigrad` command end to end, through a subprocess, errors included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minigrad.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_datasets_lists_the_shipped_cars() -> None:
    result = run("datasets")
    assert result.returncode == 0
    assert "cars" in result.stdout and "406" in result.stdout


def test_demo_list_and_unknown_demo() -> None:
    listing = run("demo", "--list")
    assert listing.returncode == 0 and "gradient_descent" in listing.stdout
    bad = run("demo", "nope")
    assert bad.returncode == 1
    assert bad.stderr.startswith("minigrad: error: unknown demo 'nope'")
    assert "Traceback" not in bad.stderr


def test_default_demo_is_the_cars_fit(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run("demo", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "closed form" in result.stdout
    assert (tmp_path / "linear_model_fit.png").exists()


def test_train_on_a_csv_reports_weights_in_original_units(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(100, 20, 200), rng.normal(0, 1, 200)
    y = 0.5 * x1 - 3 * x2 + 7 + rng.normal(0, 0.01, 200)
    rows = ["a,b,target", *(f"{a},{b},{t}" for a, b, t in zip(x1, x2, y, strict=True))]
    csv = write_csv(tmp_path / "d.csv", rows)
    model_path = tmp_path / "m.npz"
    result = run(
        "train", str(csv), "--target", "target", "--standardize", "--lr", "0.3",
        "--epochs", "2000", "--save", str(model_path), "--plot", str(tmp_path / "loss.png"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line}
    learned_a, closed_a = (float(v) for v in lines["a"])
    learned_bias, _ = (float(v) for v in lines["bias"])
    assert learned_a == pytest.approx(0.5, abs=1e-3) and closed_a == pytest.approx(0.5, abs=1e-3)
    assert learned_bias == pytest.approx(7, abs=0.05)
    assert "converged" in result.stdout
    assert model_path.exists() and (tmp_path / "loss.png").exists()
    model = mg.nn.LinearRegression(2)
    model.load(model_path)  # standardized-feature weights, loadable as a model


def test_train_the_shipped_cars_by_name() -> None:
    result = run(
        "train", "cars", "--target", "Miles_per_Gallon", "--features", "Weight_in_lbs",
        "--standardize", "--lr", "0.1", "--epochs", "500", "--drop-missing",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "dropped 8 of 406 rows" in result.stdout
    assert "Warning" not in result.stderr  # said once, in train's own words


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "missing.csv", "--target", "y"], "missing.csv"),
        (["train", "{csv}", "--target", "nope"], "nope"),
        (["train", "{csv}", "--target", "y", "--features", "x,zzz"], "zzz"),
        (["train", "{bad}", "--target", "y", "--features", "x"], "row 3, column 'x'"),
        (["train", "{bad}", "--target", "y"], "no numeric columns"),
        (["train", "{csv}", "--target", "y", "--lr", "50"], "diverged"),
    ],
)
def test_train_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    csv = write_csv(tmp_path / "ok.csv", ["x,y", *(f"{i},{2 * i + 1}" for i in range(10))])
    bad = write_csv(tmp_path / "bad.csv", ["x,y", "1,3", "two,5", "3,7"])
    args = [a.format(csv=csv, bad=bad) for a in args]
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("minigrad:")]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr


def test_bad_arguments_exit_with_usage_error() -> None:
    result = run("train", "x.csv", "--target", "y", "--epochs", "0")
    assert result.returncode == 2
    assert "must be ≥ 1" in result.stderr
