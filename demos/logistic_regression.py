"""From linear regression to classification: will this car do at least 25 miles per gallon?

The notes' model is z = w·x + b. Linear regression takes z as its prediction (miles per
gallon); logistic regression squeezes it through the sigmoid, p = σ(z) = 1/(1 + e^−z), a
probability, here that the car is efficient (≥ 25 mpg) given its weight and horsepower.
Squared error suits numbers; for yes/no the loss is the log loss (binary cross-entropy),
−[y·ln p + (1 − y)·ln(1 − p)]: ln 2 at p = ½, 0 when sure and right, without bound when
sure and wrong. Its gradient keeps the notes' shape with σ(z) − y where the residual was:
∂L/∂w = Xᵀ(σ(z) − y)/N. The car counts as efficient when p passes a threshold; where the
threshold sits trades wrongly flagged cars against missed ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import plot
from minigrad.demos._common import main_for, table

EFFICIENT_MPG = 25.0
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def efficient_cars() -> tuple[np.ndarray, np.ndarray]:
    """Weight (1000 lbs) and horsepower of the 392 cars with both, and 1 where the car
    does at least 25 mpg (the cars data set, shipped with minigrad)."""
    ds = mg.data.load_cars(features=("Weight_in_lbs", "Horsepower"))
    X = ds.X / np.array([1000.0, 1.0])
    return X, (ds.y >= EFFICIENT_MPG).astype(float)


def confusion(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Counts and rates of the classifier 'efficient where p > threshold'."""
    flagged = p > threshold
    tp, fp = int(np.sum(flagged & (y == 1))), int(np.sum(flagged & (y == 0)))
    fn, tn = int(np.sum(~flagged & (y == 1))), int(np.sum(~flagged & (y == 0)))
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn),
        "accuracy": (tp + tn) / len(y),
    }


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = efficient_cars()
    n = len(y)
    order = np.random.default_rng(0).permutation(n)
    train, val = order[: int(0.8 * n)], order[int(0.8 * n) :]
    scaler = mg.data.Standardizer().fit(X[train])
    Xs = scaler.transform(X)
    print(
        f"cars: {n} with weight and horsepower; {int(y.sum())} do ≥ {EFFICIENT_MPG:g} mpg "
        f"({y.mean():.0%}); {len(train)} to train on, {len(val)} held out"
    )
    print("sigmoid σ(z) = 1/(1 + e^−z) and the log loss of each p for a car that is efficient:")
    zs = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    p_z = mg.sigmoid(mg.tensor(zs)).numpy()
    print(
        table(
            ["z", "σ(z)", "log loss if y = 1: −ln σ(z)"],
            [[z, s, -np.log(s)] for z, s in zip(zs, p_z, strict=True)],
        )
    )

    # the notes' linear model, scored by the log loss of σ(z), from w = 0, b = 0
    model = mg.nn.Linear(2, 1, init="zeros")
    Xt, yt = Xs[train], y[train]
    loss = mg.losses.bce_with_logits(model(Xt), yt.reshape(-1, 1))
    w, b = model.parameters()
    dw, db = mg.autograd.grad(loss, [w, b])
    hand_w, hand_b = mg.formulas.logistic_gradients(Xt, yt, w.numpy()[0], b.item())
    worst = max(np.abs(dw.numpy()[0] - hand_w).max(), abs(db.item() - hand_b))
    print(
        f"\nat w = 0, b = 0: every p = σ(0) = ½, log loss {loss.item():.6f} (ln 2 = "
        f"{np.log(2):.6f})"
    )
    print(f"∂L/∂w = {dw.numpy()[0].round(6)}, ∂L/∂b = {db.item():.6f} (autograd)")
    print(f"largest |autograd − hand formula Xᵀ(σ(z) − y)/N|: {worst:.1e}")

    history = mg.fit(
        model,
        Xt,
        yt,
        loss="bce_with_logits",
        lr=2.0,
        epochs=5000,
        tol=1e-9,
        metrics=("accuracy",),
        validation_data=(Xs[val], y[val]),
        progress=False,
    )
    print(history.summary())
    w_raw, b_raw = scaler.unstandardize_weights(model.weight.numpy(), model.bias.numpy())
    w1, w2, b0 = w_raw[0, 0], w_raw[0, 1], b_raw[0]
    print(
        f"learned: z = {w1:.3f}·weight (1000 lbs) {'+' if w2 >= 0 else '−'} {abs(w2):.4f}·"
        f"horsepower {'+' if b0 >= 0 else '−'} {abs(b0):.3f}".replace("-", "−")
    )
    print(
        f"each extra 1000 lbs multiplies the odds p/(1 − p) of ≥ {EFFICIENT_MPG:g} mpg by "
        f"e^{w1:.2f} = {np.exp(w1):.3f}, each extra 10 hp by {np.exp(10 * w2):.3f}"
    )
    final = mg.evaluate(model, Xs[val], y[val], loss="bce_with_logits", metrics=("accuracy",))
    print(
        f"accuracy at threshold ½: {history.metrics['accuracy'][-1]:.1%} on the training "
        f"cars, {final['accuracy']:.1%} on the held-out ones (always saying 'not efficient': "
        f"{1 - y[val].mean():.1%})"
    )

    with mg.no_grad():
        p_val = mg.sigmoid(model(Xs[val])).numpy()[:, 0]
    rows = []
    for threshold in THRESHOLDS:
        c = confusion(p_val, y[val], threshold)
        rows.append(
            [
                threshold,
                c["tp"],
                c["fp"],
                c["fn"],
                c["tn"],
                c["precision"],
                c["recall"],
                c["accuracy"],
            ]
        )
    print(f"\nmoving the threshold on the {len(val)} held-out cars (efficient where p > t):")
    print(table(["t", "TP", "FP", "FN", "TN", "precision", "recall", "accuracy"], rows))
    print(
        "a low threshold flags nearly every efficient car (recall) and many others with "
        "them; a high one flags few cars, nearly all rightly (precision)"
    )

    paths = [out / "logistic_regression_boundary.png", out / "logistic_regression_threshold.png"]
    _boundary_figure(X, y, (w1, w2, b0), history, paths[0])
    _threshold_figure(model, Xs, y, train, val, p_val, paths[1])
    return paths


def _boundary_figure(
    X: np.ndarray, y: np.ndarray, coef: tuple[float, float, float], history: mg.History, path: Path
) -> None:
    w1, w2, b0 = coef
    fig = plot.new_figure((12, 4.6))
    left, right = fig.subplots(1, 2, width_ratios=(1.25, 1))
    gx = np.linspace(X[:, 0].min() - 0.2, X[:, 0].max() + 0.2, 200)
    gy = np.linspace(X[:, 1].min() - 10, X[:, 1].max() + 10, 200)
    GX, GY = np.meshgrid(gx, gy)
    P = mg.formulas.sigmoid(w1 * GX + w2 * GY + b0)
    shade = left.imshow(
        P,
        extent=(gx[0], gx[-1], gy[0], gy[-1]),
        origin="lower",
        aspect="auto",
        cmap="RdYlGn",
        alpha=0.35,
        vmin=0,
        vmax=1,
    )
    fig.colorbar(shade, ax=left, label="p = σ(z): probability of ≥ 25 mpg")
    lines = left.contour(
        GX,
        GY,
        P,
        levels=[0.2, 0.5, 0.8],
        colors="k",
        linestyles=["--", "-", "--"],
        linewidths=[1, 2, 1],
    )
    left.clabel(lines, fmt=lambda v: f"p = {v:g}")
    for label, marker, color in ((1.0, "o", "tab:green"), (0.0, "x", "tab:red")):
        pick = y == label
        name = "≥ 25 mpg" if label else "< 25 mpg"
        left.scatter(X[pick, 0], X[pick, 1], marker=marker, color=color, s=14, label=name)
    left.set(
        xlim=(gx[0], gx[-1]),
        ylim=(gy[0], gy[-1]),
        xlabel="weight (1000 lbs)",
        ylabel="horsepower",
        title="The decision boundary z = 0 (p = ½) is a straight line",
    )
    left.legend(loc="upper left")
    epochs = np.arange(1, history.epochs_run + 1)
    right.plot(epochs, history.epoch_losses, color="tab:blue", label="log loss (training)")
    right.plot(
        epochs, history.val_losses, color="tab:blue", linestyle="--", label="log loss (held out)"
    )
    right.set(
        xscale="log",
        xlabel="epoch (full batch: one update each)",
        ylabel="log loss",
        title="Full-batch training: log loss and accuracy per epoch",
    )
    acc = right.twinx()
    acc.plot(epochs, history.metrics["accuracy"], color="tab:orange", label="accuracy (training)")
    acc.plot(
        epochs,
        history.metrics["val_accuracy"],
        color="tab:orange",
        linestyle="--",
        label="accuracy (held out)",
    )
    acc.set(ylabel="accuracy at threshold ½", ylim=(0.4, 1.0))
    handles = right.get_legend_handles_labels()[0] + acc.get_legend_handles_labels()[0]
    right.legend(handles=handles, loc="center right")
    plot.save(fig, path)


def _threshold_figure(
    model: mg.nn.Linear,
    Xs: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    p_val: np.ndarray,
    path: Path,
) -> None:
    with mg.no_grad():
        z = model(Xs).numpy()[:, 0]
    fig = plot.new_figure((12, 4.4))
    left, right = fig.subplots(1, 2)
    grid = np.linspace(z.min() - 0.5, z.max() + 0.5, 300)
    left.plot(grid, mg.formulas.sigmoid(grid), color="k", label="p = σ(z)")
    jitter = np.random.default_rng(1).uniform(-0.03, 0.03, len(z))
    for label, color in ((1.0, "tab:green"), (0.0, "tab:red")):
        pick = y[train] == label
        left.scatter(
            z[train][pick],
            label + jitter[train][pick],
            s=10,
            color=color,
            alpha=0.6,
            label="≥ 25 mpg (y = 1)" if label else "< 25 mpg (y = 0)",
        )
    left.axhline(0.5, color="grey", linestyle=":", label="threshold ½")
    left.axvline(0.0, color="grey", linestyle=":")
    left.set(
        xlabel="z = w·x + b (standardized weight and horsepower)",
        ylabel="p, and the label y",
        title="The sigmoid turns the linear score into a probability",
    )
    left.legend(loc="center right")
    ts = np.linspace(0.02, 0.98, 97)
    scores = [confusion(p_val, y[val], t) for t in ts]
    for key, color in (
        ("precision", "tab:purple"),
        ("recall", "tab:cyan"),
        ("accuracy", "tab:orange"),
    ):
        right.plot(ts, [s[key] for s in scores], color=color, label=key)
    right.axvline(0.5, color="grey", linestyle=":")
    right.set(
        xlabel="threshold t (efficient where p > t)",
        ylim=(0, 1.02),
        title=f"Moving the threshold, {len(val)} held-out cars: recall against precision",
    )
    right.legend(loc="lower center")
    plot.save(fig, path)


main = main_for("logistic_regression", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
