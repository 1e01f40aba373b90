"""A small network fits a curve no line can; started from zeros, it cannot.

Put a nonlinearity between two linear layers, ŷ = W₂·tanh(W₁x + b₁) + b₂, and the model
can bend: 16 tanh units fit y = sin(3x), where the best line leaves a third of the variance.
Every unit needs its own start, though. From W = 0 every hidden unit computes tanh(0) = 0,
so the output weights get no gradient (∂L/∂W₂ = Σ g·h = 0), and with W₂ = 0 neither do
the hidden ones (∂L/∂h = g·W₂ = 0): only the output bias learns, and the network predicts
the mean. Starting all units equal but non-zero is no better: equal units get equal
gradients and stay equal, so sixteen act as one. Random starting values (Linear's
default, PyTorch's rule) break that symmetry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import main_for, table

HIDDEN, LR, EPOCHS = 16, 0.01, 2000


def curve(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """y = sin(3x) plus a little noise, on [−1, 1]."""
    x = np.linspace(-1, 1, n).reshape(-1, 1)
    return x, np.sin(3 * x) + 0.05 * np.random.default_rng(0).standard_normal((n, 1))


def network(init: mg.nn.linear.Init, seed: int) -> mg.nn.Sequential:
    return mg.nn.Sequential(
        mg.nn.Linear(1, HIDDEN, init=init, seed=seed),
        mg.nn.Tanh(),
        mg.nn.Linear(HIDDEN, 1, init=init, seed=seed + 1),
    )


def distinct_units(model: mg.nn.Sequential) -> int:
    """How many hidden units differ (each unit: its input weight, its bias, its output
    weight); units that start equal and stay equal count once."""
    first, _, last = model
    units = np.column_stack([first.weight.numpy(), first.bias.numpy(), last.weight.numpy().T])
    return len(np.unique(units.round(12), axis=0))


def run(out: Path, quick: bool = False) -> list[Path]:
    x, y = curve()
    variance = float(y.var())
    w_line, b_line = mg.formulas.closed_form(x, y)
    line_mse = mg.formulas.mse_value(x, y, w_line, b_line)
    print(f"{len(x)} points of y = sin(3x) + noise; variance of y {variance:.4f}")
    print(
        f"best line (closed form): ŷ = {w_line[0]:.3f}·x + {b_line:.3f}, MSE {line_mse:.4f} "
        f"= {line_mse / variance:.0%} of the variance"
    )

    inits = {
        "random (Linear's default)": "uniform",
        "zeros": "zeros",
        "all 0.5": lambda shape, rng: np.full(shape, 0.5),
    }
    zero = network("zeros", seed=0)
    loss = mg.losses.mse(zero(x), y)
    grads = mg.autograd.grad(loss, zero.parameters())
    print("\nfrom zeros, the first gradient (autograd), largest |entry| of each:")
    symbols = ("W₁", "b₁", "W₂", "b₂")
    for symbol, (name, _), g in zip(symbols, zero.named_parameters(), grads, strict=True):
        print(f"  ∂L/∂{symbol} ({name}): {np.abs(g.numpy()).max():.3g}")
    print(
        f"only the output bias moves: ∂L/∂b₂ = {grads[3].item():.6f}, and by hand, with ŷ = 0, "
        f"2·mean(ŷ − y) = {-2 * y.mean():.6f}"
    )

    epochs = EPOCHS // 2 if quick else EPOCHS  # quick: still far below the line's MSE
    models, histories, rows = {}, {}, []
    for label, init in inits.items():
        model = network(init, seed=0)
        history = mg.fit(
            model, x, y, optimizer="adam", lr=LR, epochs=epochs, progress=False, record_path=False
        )
        models[label], histories[label] = model, history
        rows.append(
            [
                label,
                history.final_loss,
                f"{history.final_loss / variance:.2g}",
                distinct_units(model),
            ]
        )
    print(f"\n{HIDDEN} tanh units, Adam at lr {LR}, {epochs} full-batch updates from each start:")
    print(table(["start", "final MSE", "MSE / variance", "distinct hidden units"], rows))
    print(
        "from zeros the network ends at the variance of y: it predicts the mean. From equal "
        "non-zero weights its units stay equal: all 16 act as one tanh unit."
    )
    return [_figure(x, y, (w_line, b_line), models, histories, line_mse, out / "mlp.png")]


def _figure(
    x: np.ndarray,
    y: np.ndarray,
    line: tuple[np.ndarray, float],
    models: dict,
    histories: dict,
    line_mse: float,
    path: Path,
) -> Path:
    fig = plot.new_figure((12, 4.6))
    left, right = fig.subplots(1, 2)
    grid = np.linspace(-1.1, 1.1, 300).reshape(-1, 1)
    left.scatter(x, y, s=14, color="k", label="data: sin(3x) + noise", zorder=3)
    left.plot(
        grid, line[0][0] * grid + line[1], color="tab:orange", label="best line (closed form)"
    )
    colors = ("tab:red", "tab:grey", "tab:purple")
    for (label, model), color in zip(models.items(), colors, strict=True):
        with mg.no_grad():
            left.plot(
                grid,
                model(grid).numpy(),
                color=color,
                linewidth=2,
                linestyle="-" if color == "tab:red" else "--",
                label=f"MLP from {label}",
            )
    left.set(
        xlabel="x", ylabel="y", title=f"{HIDDEN} tanh units bend to fit the curve; a line cannot"
    )
    left.legend(loc="lower right", fontsize=9)
    for (label, history), color in zip(histories.items(), colors, strict=True):
        right.plot(
            np.arange(1, history.epochs_run + 1),
            history.epoch_losses,
            color=color,
            linewidth=4 if color == "tab:grey" else 1.5,
            label=f"MLP from {label}",
        )
    right.axhline(line_mse, color="tab:orange", linestyle=":", label="best line's MSE")
    right.axhline(
        float(y.var()), color="k", linestyle=":", label="variance of y (predict the mean)"
    )
    right.set(
        xscale="log",
        yscale="log",
        xlabel="update (full batch, Adam)",
        ylabel="loss (MSE)",
        title="Units that start equal stay equal: the mean, or one tanh",
    )
    right.legend(loc="lower left", fontsize=9)
    return plot.save(fig, path)


main = main_for("mlp", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
