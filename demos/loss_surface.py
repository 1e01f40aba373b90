"""The loss surface of a linear model is a convex bowl: downhill always leads to the bottom.

Over the (w, b) plane, MSE is a quadratic whose Hessian (2/N)·X̃ᵀX̃ is positive
definite, so there is one minimum and gradient descent reaches it from anywhere. How
round the bowl is depends on the features: raw car weights make a long narrow valley
that gradient descent zig-zags down slowly; standardized weights make it nearly round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for, table


def descend(X: np.ndarray, y: np.ndarray, steps: int) -> mg.History:
    model = mg.nn.LinearRegression(1)
    lr = 0.9 * mg.formulas.max_stable_lr(X)
    return mg.fit(model, X, y, lr=lr, epochs=steps, tol=1e-10, progress=False)


def condition(X: np.ndarray) -> float:
    eig = np.linalg.eigvalsh(mg.formulas.mse_hessian(X))
    return float(eig[-1] / eig[0])


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    Xs = mg.data.Standardizer().fit_transform(X)
    steps = 300 if quick else 3000
    raw, std = descend(X, y, steps), descend(Xs, y, steps)
    print(
        table(
            ["features", "Hessian condition number", "updates", "converged", "final MSE"],
            [
                ["weight (1000 lbs)", condition(X), raw.n_updates, raw.converged, raw.final_loss],
                [
                    "standardized weight",
                    condition(Xs),
                    std.n_updates,
                    std.converged,
                    std.final_loss,
                ],
            ],
        )
    )
    paths = [out / "loss_surface_raw.png", out / "loss_surface_standardized.png"]
    plot.loss_surface(
        X,
        y,
        path_params=np.array(raw.path),
        title="MSE over (w, b), raw weights: a narrow valley",
        units="mpg",
        path=paths[0],
    )
    plot.loss_surface(
        Xs,
        y,
        path_params=np.array(std.path),
        title="MSE over (w, b), standardized weights: a round bowl (w and b drawn to scale)",
        units="mpg",
        equal_scale=True,
        path=paths[1],
    )
    return paths


main = main_for("loss_surface", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
