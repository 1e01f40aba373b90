"""The notes' model on real data: heavier cars go fewer miles per gallon.

ŷ = w·x + b with x the car's weight (1000 lbs) and ŷ its predicted fuel efficiency
(miles per gallon). Gradient descent on MSE from w = 0, b = 0 finds the best-fit line;
the closed-form least-squares solution says where it should end up.
"""

from __future__ import annotations

from pathlib import Path

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for, table


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    model = mg.nn.LinearRegression(1)
    bound = mg.formulas.max_stable_lr(X)
    lr = 0.5 * bound
    # quick or not: the headline number below must be the converged one
    history = mg.fit(model, X, y, lr=lr, epochs=5000, tol=1e-9, progress=False)
    w_cf, b_cf = mg.formulas.closed_form(X, y)
    print(f"cars: {len(y)} rows (weight in 1000 lbs → miles per gallon)")
    print(f"learning rate {lr:.4g} (half the largest stable one, {bound:.4g})")
    print(history.summary())
    print(
        table(
            ["", "w (mpg per 1000 lbs)", "b (mpg)", "MSE", "RMSE (mpg)"],
            [
                [
                    "gradient descent",
                    model.w[0],
                    model.b,
                    history.final_loss,
                    history.final_loss**0.5,
                ],
                [
                    "closed form",
                    w_cf[0],
                    b_cf,
                    mg.formulas.mse_value(X, y, w_cf, b_cf),
                    mg.formulas.rmse_value(X, y, w_cf, b_cf),
                ],
            ],
        )
    )
    if history.converged:
        print(f"every extra 1000 lbs costs about {-model.w[0]:.1f} miles per gallon")
    else:
        print(
            f"gradient descent has not converged after {history.n_updates} updates "
            f"(w = {model.w[0]:.2f}); the closed form says every extra 1000 lbs costs "
            f"{-w_cf[0]:.1f} miles per gallon"
        )
    paths = [out / "linear_model_fit.png", out / "linear_model_loss.png"]
    plot.fit_line(
        X,
        y,
        model.w,
        model.b,
        feature_name="car weight (1000 lbs)",
        target_name="fuel efficiency (mpg)",
        title="Cars: the best-fit line learned by gradient descent",
        extra_lines={"closed form": (w_cf, b_cf)},
        path=paths[0],
    )
    plot.loss_curve(history, title="Cars: MSE during gradient descent", path=paths[1])
    return paths


main = main_for("linear_model", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
