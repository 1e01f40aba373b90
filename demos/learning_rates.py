"""Learning rate: too small crawls, a good one converges quickly, too high blows up.

For full-batch gradient descent on MSE the dividing line is known exactly:
lr < 2/λ_max, where λ_max is the largest eigenvalue of the loss Hessian (2/N)·X̃ᵀX̃
(``minigrad.formulas.max_stable_lr``). Above it every step overshoots the valley floor
by more than it corrects, and the loss grows geometrically.
"""

from __future__ import annotations

from pathlib import Path

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for, table


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    bound = mg.formulas.max_stable_lr(X)
    rates = {"too small": bound / 100, "good": bound / 2, "too high": bound * 1.05}
    epochs = 5000  # quick or not: enough for the good rate to converge
    histories, rows = {}, []
    for label, lr in rates.items():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the divergence is the point
            history = mg.fit(
                mg.nn.LinearRegression(1), X, y, lr=lr, epochs=epochs, tol=1e-10, progress=False
            )
        histories[f"{label}: lr = {lr:.3g}"] = history
        status = (
            "converged" if history.converged else "DIVERGED" if history.diverged else "still going"
        )
        rows.append([label, lr, history.n_updates, status, history.final_loss])
    print(f"largest stable learning rate for these data: 2/λ_max = {bound:.4g}")
    print(table(["", "lr", "updates", "status", "last loss"], rows))
    print(histories[next(k for k in histories if k.startswith("too high"))].divergence_reason)
    path = out / "learning_rates.png"
    plot.compare_curves(
        histories,
        log=True,
        separate=True,
        title="Learning rate too small / good / too high",
        path=path,
    )
    return [path]


main = main_for("learning_rates", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
