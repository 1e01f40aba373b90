"""mg.jit writes the gradient of the notes' model as code: read it beside the hand formulas.

The notes' model ŷ = Xw + b with the MSE loss, compiled with ``mg.jit(mg.value_and_grad(
loss))``: the printed source is the program that runs, its backward lines each naming the
rule they came from. Then one update is timed three ways — eager autograd, the compiled
function, and the gradient written by hand in NumPy — on the cars and on a large batch.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.demos._common import cars, main_for, table
from minigrad.io import atomic_path

HAND = """\
the hand derivation (the notes' partial derivatives):
    r       = ŷ − y = Xw + b − y
    MSE     = (1/N) Σ rᵢ²
    ∂MSE/∂w = (2/N) · Xᵀr
    ∂MSE/∂b = (2/N) · Σ rᵢ
"""


def loss(w: mg.Tensor, b: mg.Tensor, X: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
    """The notes' model and loss, as a learner would write them."""
    return mg.losses.mse(X @ w + b, y)


def hand_update(w: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple:
    """The same loss and gradients written by hand, reusing r's memory for 2r/N."""
    r = X @ w
    r += b - y
    value = r @ r / len(y)
    r *= 2 / len(y)
    return value, X.T @ r, r.sum()


def eager_update(w: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple:
    tw, tb = mg.tensor(w, requires_grad=True), mg.tensor(b, requires_grad=True)
    value = loss(tw, tb, mg.Tensor(X), mg.Tensor(y))
    value.backward()
    return value.item(), tw.grad.numpy(), tb.grad.item()


def per_update(fn: Callable[[], object], repeats: int) -> float:
    fn()  # the first call of the compiled function traces: not timed
    return min(timeit.repeat(fn, number=repeats, repeat=5)) / repeats


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    fast = mg.jit(mg.value_and_grad(loss, argnums=(0, 1)))
    # b is an array, as w is: a Python float would be a constant of the trace, folded
    # into the code, and the printed program would have no `+ b` and no b argument
    w, b = np.zeros(1), np.zeros(())
    value, (dw, db) = fast(w, b, X, y)
    print(f"mg.jit(mg.value_and_grad(loss, argnums=(0, 1))) writes, for the cars (N = {len(y)}):\n")
    print(fast.source)
    print(HAND)
    hand = hand_update(w, b, X, y)
    print(table(
        ["at w = 0, b = 0", "MSE", "∂MSE/∂w", "∂MSE/∂b"],
        [["compiled", value.item(), dw.item(), db.item()],
         ["by hand", hand[0], hand[1][0], hand[2]]],
    ))  # fmt: skip

    rng = np.random.default_rng(0)
    n_large = 20_000 if quick else 100_000
    X_large = rng.standard_normal((n_large, 10))
    y_large = X_large @ rng.standard_normal(10) + 0.5
    sizes = [(f"cars, N = {len(y)}", X, y), (f"N = {n_large:,}, d = 10", X_large, y_large)]
    rows, timings = [], []
    for label, Xs, ys in sizes:
        ws = np.zeros(Xs.shape[1])
        repeats = 20 if quick else 200
        if len(ys) > 10_000:
            repeats = 3 if quick else 20
        times = {
            "eager": per_update(lambda Xs=Xs, ys=ys, ws=ws: eager_update(ws, b, Xs, ys), repeats),
            "mg.jit": per_update(lambda Xs=Xs, ys=ys, ws=ws: fast(ws, b, Xs, ys), repeats),
            "hand NumPy": per_update(
                lambda Xs=Xs, ys=ys, ws=ws: hand_update(ws, b, Xs, ys), repeats
            ),
        }
        hand_time = times["hand NumPy"]
        rows += [[label, k, t * 1e6, t / hand_time] for k, t in times.items()]
        timings.append((label, times))
    print()
    print(table(["data", "one update", "µs", "× hand NumPy"], rows))
    print(
        "(one machine, one run: the benchmarks in benchmarks/ compare in the same run, in rounds)"
    )
    return [_draw(timings, out / "jit_timing.png")]


def _draw(timings: list, path: Path) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.2))
    axes = fig.subplots(1, len(timings))
    for ax, (label, times) in zip(axes, timings, strict=True):
        names = list(times)
        values = [times[k] * 1e6 for k in names]
        ax.barh(names, values, color=["#9aa9c9", "#2e7d32", "#777777"])
        ax.invert_yaxis()
        ax.set_title(label)
        ax.set_xlabel("µs per update (forward, loss, gradients)")
        for k, v in enumerate(values):
            ax.text(v, k, f" {v:,.0f}", va="center", fontsize=8)
        ax.set_xlim(0, max(values) * 1.3)
    fig.suptitle("One gradient update: eager autograd, mg.jit, and hand-written NumPy")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    return path


main = main_for("jit", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
