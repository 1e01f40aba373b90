"""Gradient descent by hand, from w = 0, b = 0 at learning rate 0.01.

Each iteration: compute the loss, get its slopes ∂L/∂w and ∂L/∂b, and step against them:
w ← w − 0.01·∂L/∂w, b ← b − 0.01·∂L/∂b. For MSE on ŷ = wx + b the slopes are
∂L/∂w = (2/N)·Σ(ŷᵢ − yᵢ)·xᵢ and ∂L/∂b = (2/N)·Σ(ŷᵢ − yᵢ); the table shows autograd's
values next to these hand-derived ones, iteration by iteration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for, table

LEARNING_RATE = 0.01


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    x_t, y_t = mg.Tensor(X[:, 0]), mg.Tensor(y)
    w = mg.tensor(0.0, requires_grad=True)
    b = mg.tensor(0.0, requires_grad=True)
    steps = 200 if quick else 3000
    shown = set(range(10)) | set(range(0, steps, steps // 10)) | {steps - 1}
    rows, losses, worst = [], [], 0.0
    for k in range(steps):
        w.grad = b.grad = None
        loss = mg.losses.mse(w * x_t + b, y_t)  # 1. the loss with the current w, b
        loss.backward()  # 2. its slopes, by autograd
        hand_w, hand_b = mg.formulas.mse_gradients(X, y, w.item(), b.item())  # ... and by hand
        worst = max(worst, abs(w.grad.item() - hand_w[0]), abs(b.grad.item() - hand_b))
        losses.append(loss.item())
        if k in shown:
            rows.append(
                [
                    k,
                    w.item(),
                    b.item(),
                    loss.item(),
                    w.grad.item(),
                    hand_w[0],
                    b.grad.item(),
                    hand_b,
                ]
            )
        with mg.no_grad():  # 3. a small step against the slope
            w -= LEARNING_RATE * w.grad
            b -= LEARNING_RATE * b.grad
    print(f"cars (weight in 1000 lbs → mpg), lr = {LEARNING_RATE}, starting at w = 0, b = 0")
    print(
        table(
            [
                "iter",
                "w",
                "b",
                "loss (MSE)",
                "∂L/∂w autograd",
                "∂L/∂w by hand",
                "∂L/∂b autograd",
                "∂L/∂b by hand",
            ],
            rows,
        )
    )
    print(f"largest |autograd − hand| over {steps} iterations: {worst:.2e}")
    w_cf, b_cf = mg.formulas.closed_form(X, y)
    print(
        f"after {steps} steps: w = {w.item():.4f}, b = {b.item():.4f}; "
        f"closed form: w = {w_cf[0]:.4f}, b = {b_cf:.4f} (still walking along the valley)"
    )
    history = mg.History(
        step_losses=losses,
        epoch_losses=losses,
        updates_per_epoch=1,
        lr=LEARNING_RATE,
        loss="mse",
        optimizer="SGD",
    )
    path = out / "gradient_descent_loss.png"
    plot.loss_curve(
        history,
        log=True,
        title=f"Gradient descent from w = 0, b = 0 at lr = {LEARNING_RATE}",
        path=path,
    )
    assert np.isfinite(losses).all()
    return [path]


main = main_for("gradient_descent", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
