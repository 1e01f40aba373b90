"""Loss curves and convergence: fast at first, then flat once the minimum is reached.

The curve drops steeply while the parameters are far from the minimum and flattens as
the slopes shrink toward zero there. Flat is not yet converged: training stops
("converged") once the parameters are within a tolerance of the minimum, judged from
how fast their steps shrink (minigrad.convergence).
"""

from __future__ import annotations

from pathlib import Path

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import cars, main_for


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    model = mg.nn.LinearRegression(1)
    lr = 0.02
    # quick or not, run until converged: the curve's point is where it flattens
    history = mg.fit(model, X, y, lr=lr, epochs=20_000, progress=False)
    print(f"cars, full batch, lr = {lr}")
    print(history.summary())
    first, last = history.step_losses[0], history.final_loss
    print(
        f"loss {first:.1f} → {last:.3f}; half of the drop happened in the first "
        f"{next(k for k, v in enumerate(history.step_losses) if v < (first + last) / 2)} "
        "updates"
    )
    paths = [out / "loss_curve.png", out / "loss_curve_log.png"]
    plot.loss_curve(history, log=False, title="Loss curve: steep, then flat", path=paths[0])
    plot.loss_curve(history, log=True, title="The same curve on a log scale", path=paths[1])
    return paths


main = main_for("loss_curve", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
