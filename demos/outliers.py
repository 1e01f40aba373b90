"""Choosing a loss: squaring moves toward outliers, absolute values don't.

A few points far off the line pull the MSE fit toward them (each miss counts squared);
the MAE fit follows the bulk of the data (every miss counts the same); Huber is squared
for small misses and absolute for large ones, so it lands in between.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import main_for, table


def make_data(n: int = 60) -> tuple[np.ndarray, np.ndarray, float, float]:
    X, y, w, b = mg.data.make_linear(n=n, d=1, noise=0.5, seed=4, weights=[2.0], bias=1.0)
    worst = np.argsort(X[:, 0])[-5:]  # the five rightmost points become outliers
    y = y.copy()
    y[worst] -= 25.0
    return X, y, float(w[0]), float(b)


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y, true_w, true_b = make_data()
    epochs = 300 if quick else 3000
    fits = {}
    for name in ("mse", "huber", "mae"):
        model = mg.nn.LinearRegression(1)
        mg.fit(
            model,
            X,
            y,
            loss=name,
            optimizer="adam",
            lr=0.05,
            epochs=epochs,
            tol=None,
            progress=False,
        )
        fits[name] = (model.w, model.b)
    print(f"{len(y)} points on y = {true_w:g}·x + {true_b:g} (+ noise), 5 of them moved down 25")
    print(
        table(
            ["loss", "w", "b", "distance from the true w"],
            [[k, w[0], b, abs(w[0] - true_w)] for k, (w, b) in fits.items()],
        )
    )
    path = out / "outliers.png"
    w_mse, b_mse = fits.pop("mse")
    plot.fit_line(
        X,
        y,
        w_mse,
        b_mse,
        feature_name="x",
        target_name="y",
        title="Outliers pull MSE more than Huber, and Huber more than MAE",
        extra_lines={
            **{k.upper() if k == "mae" else "Huber": v for k, v in fits.items()},
            "true line": (np.array([true_w]), true_b),
        },
        label="MSE",
        path=path,
    )
    return [path]


main = main_for("outliers", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
