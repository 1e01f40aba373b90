"""Newton's method solves linear regression in one step; gradient descent needs hundreds.

The MSE of a linear model is exactly quadratic in θ = (w, b), so the second-order
Taylor expansion is the loss itself and one Newton step θ₁ = θ₀ − H⁻¹∇L(θ₀) lands on
the minimum. Both the gradient and the Hessian H = (2/N)·X̃ᵀX̃ come from autograd
(``mg.grad`` and ``mg.hessian``: gradients of gradients from the same rules).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for, table


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    X1 = np.hstack([X, np.ones((len(X), 1))])  # X̃ = [x, 1], so θ = (w, b)

    def loss(theta: mg.Tensor) -> mg.Tensor:
        return mg.losses.mse(mg.Tensor(X1) @ theta, y)

    theta0 = np.zeros(2)
    g = mg.grad(loss)(theta0).numpy()
    H = mg.hessian(loss)(theta0).numpy()
    theta1 = theta0 - np.linalg.solve(H, g)
    w_cf, b_cf = mg.formulas.closed_form(X, y)
    print("Hessian from autograd:\n", H)
    print("(2/N)·X̃ᵀX̃ by hand:\n", mg.formulas.mse_hessian(X))
    rows = [["Newton, 1 step", theta1[0], theta1[1], loss(theta1).item()]]
    lr = 0.9 * mg.formulas.max_stable_lr(X)
    path = None
    for steps in (10, 100, 1000) if quick else (10, 100, 1000, 10000):
        model = mg.nn.LinearRegression(1)
        history = mg.fit(model, X, y, lr=lr, epochs=steps, tol=None, progress=False)
        rows.append([f"gradient descent, {steps} steps", model.w[0], model.b, history.final_loss])
        path = np.array(history.path)
    rows.append(["closed form", w_cf[0], b_cf, mg.formulas.mse_value(X, y, w_cf, b_cf)])
    print(table(["method", "w", "b", "MSE"], rows))
    figure = out / "newton.png"
    fig = plot.loss_surface(
        X,
        y,
        path_params=path,
        kind="contour",
        title="One Newton step (black, dashed) lands on the minimum; gradient descent walks",
    )
    ax = fig.axes[0]
    ax.plot([theta0[0], theta1[0]], [theta0[1], theta1[1]], "k--", linewidth=2,
            label="one Newton step")  # fmt: skip
    for legend in fig.legends:  # one legend for everything, below the plot as before
        legend.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2)
    return [plot.save(fig, figure)]


main = main_for("newton", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
