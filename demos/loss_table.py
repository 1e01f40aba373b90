"""Calculating loss, step by step: L1, MAE, L2, MSE and RMSE of the same predictions.

For each example: prediction ŷ = bias + weight · feature, residual r = ŷ − y (predicted
minus actual, the sign convention of minigrad.formulas and the README; the losses only
see its size). L1 = Σ|r|, MAE = L1/N, L2 = Σr², MSE = L2/N, RMSE = √MSE. Squaring makes
big misses count far more than small ones (and misses under 1 count less).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for, table


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    rows = np.random.default_rng(3).choice(len(y), size=6, replace=False)
    x, actual = X[rows, 0], y[rows]
    w, b = -7.0, 45.0  # a guessed model, not the best one: mpg = 45 − 7·weight
    predicted = b + w * x
    residual = predicted - actual  # r = ŷ − y
    print(f"model: predicted mpg = {b} + ({w}) × weight (1000 lbs)")
    print(
        table(
            ["weight (1000 lbs)", "actual y", "predicted ŷ", "r = ŷ − y", "|r|", "r²"],
            [
                [a, t, p, r, abs(r), r * r]
                for a, t, p, r in zip(x, actual, predicted, residual, strict=True)
            ],
        )
    )
    pred_t, target_t = mg.Tensor(predicted), mg.Tensor(actual)
    by_hand = {
        "l1_loss": np.abs(residual).sum(),
        "mae": np.abs(residual).mean(),
        "l2_loss": (residual**2).sum(),
        "mse": (residual**2).mean(),
        "rmse": np.sqrt((residual**2).mean()),
    }
    rows_out = []
    for name, hand in by_hand.items():
        value = mg.losses.get(name)(pred_t, target_t).item()
        rows_out.append([name, value, hand, "mpg²" if "l2" in name or name == "mse" else "mpg"])
    print()
    print(table(["loss", "minigrad", "by hand", "units"], rows_out))

    fig = plot.new_figure((11, 4.2))
    left, right = fig.subplots(1, 2)
    grid = np.linspace(x.min() - 0.2, x.max() + 0.2, 50)
    left.plot(grid, b + w * grid, color="tab:orange", label=f"model: {b:g} + ({w:g})·x")
    left.vlines(x, predicted, actual, color="tab:red", linewidth=1.5, label="residuals")
    left.scatter(x, actual, color="tab:blue", zorder=3, label="actual")
    left.set(
        xlabel="car weight (1000 lbs)",
        ylabel="fuel efficiency (mpg)",
        title="Each residual is r = ŷ − y: predicted minus actual",
    )
    left.legend()
    index = np.arange(len(x))
    right.bar(index - 0.2, np.abs(residual), width=0.4, label="|r| (L1, MAE)")
    right.bar(index + 0.2, residual**2, width=0.4, label="r² (L2, MSE)")
    right.set(
        xlabel="example",
        ylabel="error (mpg or mpg²)",
        xticks=index,
        title="Squaring magnifies the big misses",
    )
    right.legend()
    return [plot.save(fig, out / "loss_table.png")]


main = main_for("loss_table", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
