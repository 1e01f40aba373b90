"""The Crash Course's taxi exercise: predict the fare from the trip, one then two features.

The synthetic trips follow the Chicago-style fare formula
FARE = 2.25·TRIP_MILES + 0.12·TRIP_MINUTES + 3.25 plus noise. With miles alone the
model folds the minutes' share into its weight; with both features it recovers the
formula. RMSprop (the exercise's optimizer) scales each step by the gradient's running
size, so raw features of different scales still train.
"""

from __future__ import annotations

from pathlib import Path

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import main_for, table

FORMULA = {"TRIP_MILES": 2.25, "TRIP_MINUTES": 0.12, "bias": 3.25}


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y, names = mg.data.make_taxi(n=1000, seed=0)
    epochs, lr = (60, 0.02) if quick else (300, 0.01)
    histories, rows = {}, []
    for columns in ([0], [0, 1]):
        Xc = X[:, columns]
        model = mg.nn.LinearRegression(len(columns))
        history = mg.fit(
            model,
            Xc,
            y,
            optimizer="rmsprop",
            lr=lr,
            batch_size=50,
            epochs=epochs,
            tol=None,
            seed=0,
            progress=False,
        )
        w_cf, b_cf = mg.formulas.closed_form(Xc, y)
        label = " + ".join(names[c] for c in columns)
        histories[label] = history
        for name, learned, exact in zip(
            [*(names[c] for c in columns), "bias"], [*model.w, model.b], [*w_cf, b_cf], strict=True
        ):
            rows.append([label, name, learned, exact, FORMULA[name]])
        rows.append(
            [
                label,
                "RMSE ($)",
                history.epoch_losses[-1] ** 0.5,
                mg.formulas.rmse_value(Xc, y, w_cf, b_cf),
                "noise: 1.0",
            ]
        )
    print(f"{len(y)} trips; RMSprop, lr {lr}, batches of 50, {epochs} epochs")
    print(table(["features", "parameter", "learned", "closed form", "fare formula"], rows))
    paths = [out / "taxi_loss.png", out / "taxi_predictions.png"]
    plot.compare_curves(
        histories,
        per="epoch",
        log=True,
        units="$",
        title="Taxi fares: one feature vs two (RMSprop)",
        path=paths[0],
    )
    plot.predicted_vs_actual(
        y,
        model.predict(X),
        units="$",
        target_name="fare",
        title="Two features: predicted vs actual fare",
        path=paths[1],
    )
    return paths


main = main_for("taxi", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
