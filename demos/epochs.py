"""Epochs: one epoch is one pass over every example, ceil(N / batch size) updates.

With 1,000 examples and mini-batches of 100, an epoch is 10 updates. The number of
epochs is set before training; more epochs mean more updates (and more time), and
usually a better model until the loss stops improving.
"""

from __future__ import annotations

from pathlib import Path

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import main_for, table


def run(out: Path, quick: bool = False) -> list[Path]:
    n = 1000
    X, y, _, _ = mg.data.make_linear(n=n, d=2, noise=0.5, seed=2)
    epochs = 3 if quick else 10
    histories, rows = {}, []
    for batch_size in (1, 10, 100, 1000):
        history = mg.fit(
            mg.nn.LinearRegression(2),
            X,
            y,
            lr=0.01 if batch_size == 1 else 0.1,
            epochs=epochs,
            batch_size=batch_size,
            tol=None,
            progress=False,
        )
        histories[f"batch {batch_size}"] = history
        rows.append(
            [
                batch_size,
                mg.data.n_batches(n, batch_size),
                history.updates_per_epoch,
                history.n_updates,
                history.epoch_losses[-1],
            ]
        )
    print(f"{n} examples, {epochs} epochs")
    print(
        table(
            [
                "batch size",
                "ceil(N / batch)",
                "updates per epoch",
                "updates in all",
                "loss after the last epoch",
            ],
            rows,
        )
    )
    path = out / "epochs.png"
    plot.compare_curves(
        histories,
        per="epoch",
        log=True,
        title=f"{n} examples: loss after each epoch, by batch size",
        path=path,
    )
    return [path]


main = main_for("epochs", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
