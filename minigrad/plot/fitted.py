"""The fitted model against the data: the line (or plane) and predicted vs actual."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.lines import Line2D

from minigrad.plot._base import (
    PathLike,
    axes_given,
    finish,
    new_axes,
    new_figure,
    num,
    signed,
    values_of,
    with_units,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _model_params(w: Any, b: Any, d: int) -> tuple[np.ndarray, float]:
    w_arr = np.asarray(values_of(w), dtype=np.float64).reshape(-1)
    if w_arr.size != d:
        raise ValueError(f"w must hold {d} weight(s) to match X's {d} feature(s), got {w_arr.size}")
    return w_arr, float(np.asarray(values_of(b), dtype=np.float64).reshape(()))


@axes_given
def fit_line(
    X: Any,
    y: Any,
    w: Any,
    b: Any,
    feature_name: str | Sequence[str] = "x",
    target_name: str = "y",
    title: str | None = None,
    extra_lines: Mapping[str, tuple[Any, Any]] | None = None,
    label: str | None = None,
    feature_units: str | Sequence[str | None] | None = None,
    target_units: str | None = None,
    residuals: bool = False,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """The data and the model's prediction: the notes' "best fit line".

    With one feature the reader sees the scatter of (x, y) and the line ŷ = w·x + b
    through it (its equation in the legend); with two features a 3-D scatter and the
    fitted plane ŷ = w₁·x₁ + w₂·x₂ + b.

    Args:
        X: (N, 1) or (N,) for a line, (N, 2) for a plane.
        w, b: the model's weights (shape (d,), e.g. ``model.w``) and bias.
        feature_name, target_name: axis names (a pair of names for two features).
        extra_lines: more fits to overlay, ``{"MAE": (w, b), "closed form": (w, b)}``:
            e.g. MAE vs MSE vs Huber fits, or the learned vs the closed-form line.
        label: the main fit's legend name (default "fit").
        feature_units, target_units: units for the axis labels, e.g. ``"1000 lbs"``.
        residuals: (one feature) draw each point's residual, the vertical distance to
            the line that the loss measures.
        ax: draw into these axes (3-D axes for two features); then they are returned.
        path: also save the figure there (PNG).
    """
    X = np.asarray(values_of(X), dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(values_of(y), dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] not in (1, 2) or len(X) != len(y):
        raise ValueError(
            "fit_line draws one or two features: X must be (N,), (N, 1) or (N, 2) with N = "
            f"len(y); got X {X.shape} and y {y.shape}"
        )
    d = X.shape[1]
    lines = {label or "fit": _model_params(w, b, d)}
    for name, (w_extra, b_extra) in (extra_lines or {}).items():
        lines[name] = _model_params(w_extra, b_extra, d)
    if isinstance(feature_name, str):
        names = [feature_name] if d == 1 else [f"{feature_name}₁", f"{feature_name}₂"]
    else:
        names = list(feature_name)
    if len(names) != d:
        raise ValueError(f"fit_line: {d} feature(s) need {d} feature name(s), got {names}")
    if feature_units is None or isinstance(feature_units, str):
        units = [feature_units] * d
    else:
        units = list(feature_units)
    # Tie the axes to the symbols of the equations in the legend: "x = car weight (lbs)".
    symbols = ["x"] if d == 1 else ["x₁", "x₂"]
    axis_names = [
        with_units(n if n == s else f"{s} = {n}", u)
        for s, n, u in zip(symbols, names, units, strict=True)
    ]
    target_axis = with_units(
        target_name if target_name == "y" else f"y = {target_name}", target_units
    )
    styles = ["-", "--", "-.", ":"]
    colors = ["tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:pink"]

    if d == 1:
        fig, ax = new_axes(ax, (7.5, 5.0))
        x = X[:, 0]
        ax.scatter(x, y, s=18, color="tab:blue", alpha=0.7, label="data", zorder=2)
        lo, hi = x.min(), x.max()
        pad = 0.03 * (hi - lo or 1.0)
        grid = np.linspace(lo - pad, hi + pad, 200)
        if residuals:
            w0, b0 = next(iter(lines.values()))
            ax.vlines(
                x,
                y,
                w0[0] * x + b0,
                color="tab:red",
                linewidth=0.8,
                alpha=0.6,
                label="residuals (prediction − actual)",
                zorder=1,
            )
        for i, (name, (wi, bi)) in enumerate(lines.items()):
            ax.plot(
                grid,
                wi[0] * grid + bi,
                color=colors[i % len(colors)],
                linestyle=styles[i % len(styles)],
                linewidth=2.2 if i == 0 else 1.8,
                label=f"{name}: ŷ = {num(wi[0])}·x {signed(bi)}",
                zorder=3,
            )
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(target_axis)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9, loc="best", framealpha=0.9)
        ax.set_title(title or f"{target_name} against {names[0]}: data and fitted line")
        return finish(fig, path)

    if ax is None:
        fig = new_figure((8.5, 7.0))
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    elif getattr(ax, "name", "") != "3d":
        raise ValueError("fit_line: two features need 3-D axes (projection='3d')")
    else:
        fig = ax.figure
    ax.scatter(X[:, 0], X[:, 1], y, s=14, color="tab:blue", alpha=0.8, label="data", zorder=3)
    g0, g1 = (np.linspace(X[:, j].min(), X[:, j].max(), 12) for j in range(2))
    G0, G1 = np.meshgrid(g0, g1)
    handles = []
    for i, (name, (wi, bi)) in enumerate(lines.items()):
        color = colors[i % len(colors)]
        Z = wi[0] * G0 + wi[1] * G1 + bi
        equation = f"{name}: ŷ = {num(wi[0])}·x₁ {signed(wi[1])}·x₂ {signed(bi)}"
        if i == 0:
            ax.plot_surface(G0, G1, Z, color=color, alpha=0.35, linewidth=0, zorder=1)
        else:
            ax.plot_wireframe(G0, G1, Z, color=color, linewidth=0.8, alpha=0.8, zorder=2)
        handles.append(Line2D([], [], color=color, linewidth=6 if i == 0 else 1.5, label=equation))
    handles.insert(0, Line2D([], [], marker="o", color="tab:blue", linestyle="none", label="data"))
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_zlabel(target_axis)
    ax.legend(handles=handles, fontsize=9, loc="upper left")
    ax.set_title(title or f"{target_name} against {names[0]} and {names[1]}: the fitted plane")
    return finish(fig, path)


@axes_given
def predicted_vs_actual(
    y_true: Any,
    y_pred: Any,
    title: str | None = None,
    units: str | None = None,
    target_name: str = "y",
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Each example's prediction against its true value: how wrong is the model, where?

    A perfect model puts every point on the dashed diagonal ŷ = y; the vertical distance
    of a point from it is that example's error (what the loss averages). The reader
    should look for points far off the line, and for a tilt or curve in the cloud (the
    model is systematically wrong for small or large targets). RMSE, MAE and R² are
    printed in the corner.

    Args:
        units: the target's units, for the axes and the error numbers (e.g. ``"mpg"``).
        target_name: what y is called on the axes.
    """
    y_true = np.asarray(values_of(y_true), dtype=np.float64).reshape(-1)
    y_pred = np.asarray(values_of(y_pred), dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            "predicted_vs_actual needs y_true and y_pred of the same non-zero length; got "
            f"{y_true.shape} and {y_pred.shape}"
        )
    fig, ax = new_axes(ax, (6.0, 5.6))
    lo = min(y_true.min(), y_pred.min())
    hi = max(y_true.max(), y_pred.max())
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    ax.plot(
        [lo, hi],
        [lo, hi],
        color="gray",
        linestyle="--",
        linewidth=1.4,
        label="perfect prediction (ŷ = y)",
        zorder=1,
    )
    ax.scatter(y_true, y_pred, s=18, color="tab:blue", alpha=0.7, label="examples", zorder=2)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(with_units(f"actual {target_name}", units))
    ax.set_ylabel(with_units(f"predicted {target_name}", units))
    r = y_pred - y_true
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(r * r)) / ss_tot if ss_tot > 0 else math.nan
    suffix = f" {units}" if units else ""
    ax.text(
        0.97,
        0.03,
        f"RMSE {num(float(np.sqrt(np.mean(r * r))))}{suffix}\n"
        f"MAE {num(float(np.mean(np.abs(r))))}{suffix}\nR² {r2:.3f}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": "lightgray", "alpha": 0.9},
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(title or "Predicted against actual")
    return finish(fig, path)
