"""Batch size: SGD (1 example), mini-batch (32) and full batch (all of them).

Each update follows the gradient of one batch. A single example's gradient points
only roughly downhill, so the SGD loss curve is noisy and can go up; averaging 32
examples smooths it; the full batch gives the exact gradient and a smooth curve, but
each of its updates costs a pass over all the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import main_for, table


def run(out: Path, quick: bool = False) -> list[Path]:
    n = 200 if quick else 1000
    X, y, _, _ = mg.data.make_linear(n=n, d=1, noise=1.0, seed=1, weights=[3.0], bias=2.0)
    epochs = 5  # quick or not: the full batch needs five epochs to get there too
    runs = {"SGD (batch 1)": (1, 0.01), "mini-batch 32": (32, 0.05), "full batch": (None, 0.3)}
    histories, rows = {}, []
    for label, (batch_size, lr) in runs.items():
        history = mg.fit(
            mg.nn.LinearRegression(1),
            X,
            y,
            lr=lr,
            epochs=epochs,
            batch_size=batch_size,
            tol=None,
            seed=0,
            progress=False,
        )
        histories[f"{label}, lr {lr}"] = history
        tail = np.array(history.step_losses[-history.updates_per_epoch :])
        went_up = np.mean(np.diff(history.step_losses) > 0)
        rows.append(
            [
                label,
                history.updates_per_epoch,
                history.n_updates,
                history.epoch_losses[-1],
                tail.std(),
                f"{went_up:.0%}",
            ]
        )
    print(f"{n} examples, y = 3x + 2 + noise, {epochs} epochs each")
    print(
        table(
            [
                "",
                "updates/epoch",
                "updates",
                "last epoch loss",
                "noise (std)",
                "updates where the loss went up",
            ],
            rows,
        )
    )
    paths = [out / "batch_sizes_updates.png", out / "batch_sizes_epochs.png"]
    plot.compare_curves(
        histories,
        per="update",
        log=False,
        separate=True,
        title="Loss per update: SGD is noisy, full batch is smooth",
        path=paths[0],
    )
    plot.compare_curves(
        histories, per="epoch", log=True, title="Per epoch, all three get there", path=paths[1]
    )
    return paths


main = main_for("batch_sizes", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
