"""Every demo runs at its reduced (--quick) size, writes figures that are not blank, and
prints nothing a reader would take for an answer that is not one."""

from __future__ import annotations

import contextlib
import importlib
import io
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


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory):
    """Run a demo at --quick size once per test module: (files saved, what it printed)."""
    runs: dict[str, tuple[list[Path], str]] = {}

    def run(name: str) -> tuple[list[Path], str]:
        if name not in runs:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                module = importlib.import_module(f"minigrad.demos.{name}")
                paths = module.run(tmp_path_factory.mktemp(name), quick=True)
            runs[name] = (paths, printed.getvalue())
        return runs[name]

    return run


@pytest.mark.parametrize("name", list(DEMOS))
def test_demo_runs_and_saves_figures(name: str, quick_run) -> None:
    paths, printed = quick_run(name)
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


def test_gradient_descent_demo_matches_hand_formula(quick_run) -> None:
    _, out = quick_run("gradient_descent")
    worst = float(out.split("largest |autograd − hand| over")[1].split(":")[1].split()[0])
    assert worst < 1e-9
    first_row = next(line for line in out.splitlines() if line.strip().startswith("0 "))
    # iteration 0 at w = b = 0 on the cars data: ∂L/∂w = −(2/N)·Σxᵢyᵢ, ∂L/∂b = −(2/N)·Σyᵢ
    from minigrad.demos._common import cars

    X, y = cars()
    expected = [-2 * np.mean(X[:, 0] * y), -2 * np.mean(y)]
    values = [float(v) for v in first_row.split()]
    np.testing.assert_allclose([values[4], values[6]], expected, rtol=1e-5)


def _least_squares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    X1 = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.lstsq(X1, y, rcond=None)[0]
    return theta[:-1], float(theta[-1])


def test_quick_linear_model_headline_is_the_converged_answer(quick_run) -> None:
    """--quick once printed 5.7 mpg per 1,000 lbs from an unconverged run; it is 7.7."""
    _, out = quick_run("linear_model")
    from minigrad.demos._common import cars

    w, _ = _least_squares(*cars())
    assert f"every extra 1000 lbs costs about {-w[0]:.1f} miles per gallon" in out
    assert "7.7 miles per gallon" in out


def test_loss_table_residuals_are_predicted_minus_actual(quick_run) -> None:
    """One convention everywhere: r = ŷ − y, as in minigrad.formulas and the README."""
    _, out = quick_run("loss_table")
    assert "r = ŷ − y" in out and "actual − predicted" not in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    rows = [[float(v) for v in row] for row in rows if len(row) == 6]
    assert len(rows) == 6
    for _, actual, predicted, r, abs_r, r2 in rows:
        assert r == pytest.approx(predicted - actual, abs=2e-3)
        assert abs_r == pytest.approx(abs(r)) and r2 == pytest.approx(r * r, rel=1e-3)


def test_batch_sizes_title_is_true_all_three_get_there(quick_run) -> None:
    """The per-epoch figure says all three get there: each run's last epoch loss is
    within 10% of the least-squares MSE (the noise floor), in the quick run too."""
    _, out = quick_run("batch_sizes")
    import minigrad as mg

    X, y, _, _ = mg.data.make_linear(n=200, d=1, noise=1.0, seed=1, weights=[3.0], bias=2.0)
    w, b = _least_squares(X, y)
    floor = float(np.mean((X @ w + b - y) ** 2))
    for label in ("SGD (batch 1)", "mini-batch 32", "full batch"):
        line = next(line for line in out.splitlines() if line.strip().startswith(label))
        last_epoch_loss = float(line[len(label) + line.index(label) :].split()[2])
        assert last_epoch_loss < 1.1 * floor, (label, last_epoch_loss, floor)


def test_logistic_regression_demo_headlines_are_the_optimum_and_its_counts(quick_run) -> None:
    """The learned line is the log loss's minimum (Newton's method on the hand gradient
    and Hessian, here on the raw features), autograd agrees with the hand formula, and
    every row of the threshold table adds up."""
    _, out = quick_run("logistic_regression")
    from minigrad.demos.logistic_regression import efficient_cars

    assert float(out.split("hand formula Xᵀ(σ(z) − y)/N|:")[1].split()[0]) < 1e-12
    X, y = efficient_cars()
    train = np.random.default_rng(0).permutation(len(y))[: int(0.8 * len(y))]
    X1 = np.column_stack([X[train], np.ones(len(train))])
    theta = np.zeros(3)
    for _ in range(30):
        p = 1 / (1 + np.exp(-X1 @ theta))
        gradient = X1.T @ (p - y[train]) / len(train)
        theta -= np.linalg.solve(X1.T @ (X1 * (p * (1 - p))[:, None]) / len(train), gradient)
    learned = out.split("learned: z = ")[1].split("\n")[0].replace("−", "-").replace(" ", "")
    w1, rest = learned.split("·weight(1000lbs)")
    w2, b = rest.split("·horsepower")
    np.testing.assert_allclose([float(w1), float(w2), float(b)], theta, rtol=2e-3)
    rows = [line.split() for line in out.split("accuracy\n")[-1].splitlines()[1:10]]
    assert [float(r[0]) for r in rows] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    for _, tp, fp, fn, tn, precision, recall, accuracy in (map(float, r) for r in rows):
        assert tp + fp + fn + tn == len(y) - len(train)
        assert precision == pytest.approx(tp / (tp + fp), rel=1e-5)
        assert recall == pytest.approx(tp / (tp + fn), rel=1e-5)
        assert accuracy == pytest.approx((tp + tn) / (len(y) - len(train)), rel=1e-5)
    recalls = [float(r[6]) for r in rows]
    assert recalls == sorted(recalls, reverse=True)  # a higher threshold flags fewer cars
    half = next(r for r in rows if r[0] == "0.5")
    assert f"{float(half[7]):.1%} on the held-out ones" in out


def test_mlp_demo_fits_and_the_equal_starts_cannot(quick_run) -> None:
    """Zero init ends exactly at y's variance (it predicts the mean), equal starts keep
    one distinct hidden unit, PyTorch's init fits far below the best line."""
    _, out = quick_run("mlp")
    from minigrad.demos.mlp import curve

    x, y = curve()
    rows = {
        line.rsplit(None, 3)[0].strip(): [float(v) for v in line.rsplit(None, 3)[1:]]
        for line in out.splitlines()
        if line.strip().startswith(("random", "zeros", "all 0.5"))
    }
    assert rows["zeros"][0] == pytest.approx(np.var(y), rel=1e-5)  # printed to 6 digits
    assert rows["zeros"][2] == rows["all 0.5"][2] == 1
    assert rows["random (Linear's default)"][2] == 16
    X1 = np.column_stack([x, np.ones(len(x))])
    line_mse = np.mean((X1 @ np.linalg.lstsq(X1, y, rcond=None)[0] - y) ** 2)
    assert rows["random (Linear's default)"][0] < 0.01 * line_mse
    bias_line = out.split("only the output bias moves: ∂L/∂b₂ = ")[1].split("\n")[0]
    autograd, hand = float(bias_line.split(",")[0]), float(bias_line.split("= ")[-1])
    assert autograd == pytest.approx(-2 * np.mean(y), abs=5e-7) == hand  # 6 decimals


def test_jit_demo_prints_the_bias_it_teaches(quick_run) -> None:
    """b is an argument of the compiled program and `+ b` a line of it: a Python float
    for b would be a trace constant, folded away (issue 19)."""
    _, printed = quick_run("jit")
    assert "def loss(w, b, X, y):" in printed
    assert "+ b\n" in printed and "d_b = " in printed
    assert "np.asarray(b" not in printed  # an array argument, read as it is
