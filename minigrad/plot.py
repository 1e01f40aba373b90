"""Figures for the notes: loss curves, learning-rate and batch-size comparisons, the
fitted line, the loss surface with gradient descent's path, predicted vs actual.

Every public function returns the matplotlib :class:`~matplotlib.figure.Figure` it drew,
and saves it as a PNG when given ``path`` (parent folders are created). Figures are made
with ``matplotlib.pyplot``, so ``plt.show()`` displays them; a script that makes many of
them should ``plt.close(fig)`` each one once saved (pyplot keeps every open figure).
On a machine without a display the non-interactive ``Agg`` backend is picked, so the
functions work in CI and over SSH.

Needs matplotlib: ``pip install 'minigrad[plot]'``.

>>> import minigrad as mg
>>> from minigrad import plot
>>> X, y, _, _ = mg.data.make_linear(n=100, d=1, noise=0.5, seed=0)
>>> history = mg.fit(mg.nn.LinearRegression(1), X, y, lr=0.1, epochs=200, progress=False)
>>> fig = plot.loss_curve(history)                  # plot.loss_curve(history, path="loss.png")
>>> fig.axes[0].get_xlabel()
'update (gradient-descent step)'
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

try:
    import matplotlib
except ImportError as error:  # pragma: no cover - exercised only without matplotlib
    raise ImportError(
        "minigrad.plot needs matplotlib, which is not installed: pip install 'minigrad[plot]'"
    ) from error


def _choose_backend() -> None:
    """Use Agg on a display-less Linux box, unless someone already chose a backend."""
    if os.environ.get("MPLBACKEND") or "matplotlib.pyplot" in sys.modules:
        return
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        matplotlib.use("Agg")


_choose_backend()

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.colors import BoundaryNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from minigrad import formulas  # noqa: E402
from minigrad.train import History  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "compare_curves",
    "fit_line",
    "loss_curve",
    "loss_grid",
    "loss_label",
    "loss_surface",
    "predicted_vs_actual",
    "save",
]

PathLike = str | os.PathLike
Per = Literal["update", "epoch"]
LogScale = bool | Literal["auto"]

DPI = 110
"""Resolution of saved PNGs (dots per inch)."""

AUTO_LOG_DECADES = 2.0
"""``log="auto"`` uses a log axis when the loss spans more than this many powers of ten."""

LOSS_NAMES = {
    "mse": "MSE",
    "mae": "MAE",
    "rmse": "RMSE",
    "l1_loss": "L1",
    "l2_loss": "L2",
    "huber": "Huber",
}
"""How each loss is written on an axis."""

_SQUARED_UNITS = {"mse", "l2_loss"}
_SAME_UNITS = {"mae", "rmse", "l1_loss"}

CONVERGED_COLOR = "tab:green"
DIVERGED_COLOR = "tab:red"


# --------------------------------------------------------------------------- helpers


def save(fig: Figure, path: PathLike, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` (PNG unless the suffix names another format) and return
    the path written. Parent folders are created; the margins are trimmed (``bbox_inches=
    "tight"``) so nothing a reader needs is cut off and nothing else is kept.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def _finish(fig: Figure, path: PathLike | None) -> Figure:
    if path is not None:
        save(fig, path)
    return fig


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def loss_label(loss: str, units: str | None = None) -> str:
    """An axis label for a loss: ``"loss (MSE)"``, ``"loss (MSE, mpg²)"`` with units.

    MSE and L2 are in squared target units, MAE, RMSE and L1 in the target's own units;
    Huber mixes both, so it gets no unit.
    """
    if not loss:
        return "loss"
    name = LOSS_NAMES.get(loss, loss)
    if units and loss in _SQUARED_UNITS:
        return f"loss ({name}, {units}²)"
    if units and loss in _SAME_UNITS:
        return f"loss ({name}, {units})"
    return f"loss ({name})"


def _with_units(name: str, units: str | None) -> str:
    return f"{name} ({units})" if units else name


def _num(value: float) -> str:
    """A number for a label: 3 significant digits and a real minus sign."""
    return f"{value:.3g}".replace("-", "−")


def _signed(value: float) -> str:
    return f"− {_num(abs(value))}" if value < 0 else f"+ {_num(value)}"


def _describe(history: History) -> str:
    """``"full-batch gradient descent, lr=0.1"``: what a run was, for titles."""
    opt = history.optimizer or "optimizer"
    if opt == "SGD":
        kind = {None: "full-batch gradient descent", 1: "SGD (batch size 1)"}.get(
            history.batch_size, f"mini-batch SGD (batch size {history.batch_size})"
        )
    else:
        kind = f"{opt}, " + {None: "full batch"}.get(
            history.batch_size, f"batch size {history.batch_size}"
        )
    return f"{kind}, lr={history.lr:g}"


def _as_history(history: History | Sequence[float]) -> History:
    if isinstance(history, History):
        return history
    if hasattr(history, "step_losses"):  # a History-like object
        return history  # type: ignore[return-value]
    losses = [float(v) for v in np.asarray(history, dtype=np.float64).ravel()]
    return History(step_losses=losses, epoch_losses=losses, updates_per_epoch=1, loss="")


def _series(history: History, per: Per) -> tuple[np.ndarray, np.ndarray]:
    if per == "update":
        values = np.asarray(history.step_losses, dtype=np.float64)
    elif per == "epoch":
        values = np.asarray(history.epoch_losses, dtype=np.float64)
    else:
        raise ValueError(f"per must be 'update' or 'epoch', got {per!r}")
    return np.arange(len(values)), values


def _is_noisy(history: History, per: Per) -> bool:
    """Per-update losses of mini-batch/SGD runs: each is one batch's loss, so noisy."""
    return per == "update" and history.updates_per_epoch > 1 and bool(history.epoch_losses)


def _trend(history: History, per: Per) -> tuple[np.ndarray, np.ndarray]:
    """The curve's trend: for noisy per-update losses, each epoch's mean drawn at the
    middle of its epoch (in updates); otherwise the curve itself."""
    if not _is_noisy(history, per):
        return _series(history, per)
    k = history.updates_per_epoch
    means = np.asarray(history.epoch_losses, dtype=np.float64)
    middle = np.arange(len(means)) * k + (k - 1) / 2
    return np.minimum(middle, len(history.step_losses) - 1), means


def _x_label(per: Per) -> str:
    return "update (gradient-descent step)" if per == "update" else "epoch (pass over the data)"


def _converged_x(history: History, per: Per) -> int | None:
    if not history.converged:
        return None
    return history.converged_at_update if per == "update" else history.converged_at_epoch


def _diverged_x(history: History, per: Per, n_points: int) -> int | None:
    if not history.diverged:
        return None
    at = history.diverged_at_update
    if at is None:
        return n_points - 1
    if per == "epoch":
        at = at // max(history.updates_per_epoch, 1)
    return min(at, n_points - 1)


def _use_log(values: np.ndarray, log: LogScale) -> bool:
    """True for a log axis; ``"auto"`` when the positive values span > 2 decades."""
    if log == "auto":
        positive = values[np.isfinite(values) & (values > 0)]
        if positive.size < 2:
            return False
        return bool(np.log10(positive.max() / positive.min()) > AUTO_LOG_DECADES)
    if isinstance(log, bool):
        return log
    raise ValueError(f"log must be True, False or 'auto', got {log!r}")


def _last_finite(values: np.ndarray, upto: int) -> int | None:
    finite = np.flatnonzero(np.isfinite(values[: upto + 1]))
    return int(finite[-1]) if finite.size else None


def _status(history: History, per: Per) -> str:
    """``"converged at update 8"``, ``"diverged at update 13"`` or ``"not converged"``."""
    conv = _converged_x(history, per)
    if conv is not None:
        return f"converged at {per} {conv}"
    if history.diverged:
        at = _diverged_x(history, per, max(history.n_updates, 1))
        return f"diverged at {per} {at}"
    if history.stopped_by_callback:
        return "stopped by a callback"
    return "not converged"


def _mark_converged(ax: Axes, x: float, per: Per) -> None:
    """A dotted vertical line at the convergence point, labelled just left of it."""
    ax.axvline(x, color=CONVERGED_COLOR, linestyle=":", linewidth=1.6, zorder=1)
    top = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(
        x,
        0.97,
        f"converged at {per} {x:g} ",
        transform=top,
        ha="right",
        va="top",
        color=CONVERGED_COLOR,
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5},
    )


def _mark_diverged(ax: Axes, history: History, x: float, y: float, per: Per) -> None:
    """A red cross where a diverged run stopped; the reason sits in the bottom-right
    corner (empty on a climbing curve) with an arrow to the cross."""
    ax.plot([x], [y], marker="X", markersize=11, color=DIVERGED_COLOR, linestyle="none", zorder=5)
    note = f"diverged: lr too high\nlr={history.lr:g}, stopped at {per} {x:g}"
    if history.max_stable_lr is not None:
        note += f"\n(gradient descent is stable\nonly for lr < {history.max_stable_lr:.3g})"
    ax.annotate(
        note,
        xy=(x, y),
        xytext=(0.97, 0.05),
        textcoords="axes fraction",
        ha="right",
        va="bottom",
        color=DIVERGED_COLOR,
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": DIVERGED_COLOR, "alpha": 0.9, "pad": 3},
        arrowprops={"arrowstyle": "->", "color": DIVERGED_COLOR, "shrinkB": 8},
        zorder=6,
    )


def _draw_history(
    ax: Axes,
    history: History,
    per: Per,
    log: LogScale,
    label: str | None,
    units: str | None,
    x_label: str | None,
    y_label: str | None,
) -> bool:
    """Draw one run's loss curve with its markers on ``ax``; True if a log axis was used."""
    x, values = _series(history, per)
    if values.size == 0:
        raise ValueError("the history holds no losses to plot (was any update run?)")
    finite = np.isfinite(values)
    noisy = _is_noisy(history, per)
    ax.plot(
        x[finite],
        values[finite],
        color="tab:blue",
        linewidth=0.7 if noisy else 1.8,
        alpha=0.55 if noisy else 1.0,
        label=label or ("loss of each update's batch" if noisy else "training loss"),
        zorder=3,
    )
    # The log decision follows the trend: SGD's single-example losses can dip to 1e-8
    # by luck, which says nothing about how training is going.
    _, trend = _trend(history, per)
    if noisy:
        ax.plot(*_trend(history, per), color="black", linewidth=1.8, label="epoch mean", zorder=4)
    if per == "epoch" and history.val_losses:
        val = np.asarray(history.val_losses, dtype=np.float64)
        ax.plot(
            np.arange(len(val)),
            val,
            color="tab:orange",
            linestyle="--",
            linewidth=1.8,
            label="validation loss (after the epoch)",
            zorder=3,
        )
        trend = np.concatenate([trend, val])
    use_log = _use_log(np.concatenate([trend, values[finite][-1:]]), log)
    if use_log:
        ax.set_yscale("log")
    conv = _converged_x(history, per)
    if conv is not None:
        _mark_converged(ax, conv, per)
    div = _diverged_x(history, per, len(values))
    if div is not None:
        at = _last_finite(values, div)
        if at is not None:
            _mark_diverged(ax, history, at, values[at], per)
    ax.set_xlabel(x_label or _x_label(per))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))  # no crowded 5-digit ticks
    ax.set_ylabel(y_label or loss_label(history.loss, units) + (", log scale" if use_log else ""))
    ax.grid(True, which="major", alpha=0.3)
    if use_log:
        ax.grid(True, which="minor", alpha=0.1)
    return use_log


def _legend_spot(history: History) -> dict[str, Any]:
    """Keep the legend clear of the markers: top right, below the "converged" label;
    top left over a diverging (climbing) curve."""
    if history.diverged:
        return {"loc": "upper left"}
    if history.converged:
        return {"loc": "upper right", "bbox_to_anchor": (0.98, 0.9)}
    return {"loc": "upper right"}


# --------------------------------------------------------------------------- loss curves


def loss_curve(
    history: History | Sequence[float],
    per: Per = "update",
    log: LogScale = "auto",
    title: str | None = None,
    label: str | None = None,
    units: str | None = None,
    x_label: str | None = None,
    y_label: str | None = None,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """The loss curve of one training run: is the model learning, and has it converged?

    The reader should see the loss fall steeply and then flatten (the notes' "loss curve"),
    a dotted green line labelled "converged at update k" where ``fit`` detected
    convergence, or a red cross "diverged: lr too high" where a run blew up. The title
    names the run (optimizer, batch size, lr) and how it ended.

    Args:
        history: what :func:`minigrad.fit` returned (or a plain sequence of losses).
        per: ``"update"`` plots ``step_losses``, one point per gradient step (for
            mini-batch and SGD runs, whose per-update loss is one batch's and so noisy,
            each epoch's mean is drawn over it); ``"epoch"`` plots ``epoch_losses`` and,
            if recorded, ``val_losses`` dashed.
        log: a log loss axis: True, False, or ``"auto"`` — log when the loss (its epoch
            means, for a noisy curve) spans more than two powers of ten: a fast early
            drop, or a divergence.
        label: the curve's legend entry.
        units: the target's units (``"mpg"``) to put on the loss axis (``mpg²`` for MSE).
        x_label, y_label: replace the default axis labels.
        ax: draw into these axes instead of a new figure.
        path: also save the figure there (PNG).

    >>> import matplotlib.pyplot as plt
    >>> fig = loss_curve([1e6, 1e3, 1.0], per="epoch")
    >>> fig.axes[0].get_yscale()
    'log'
    >>> plt.close(fig)
    """
    history = _as_history(history)
    fig, ax = _new_axes(ax, (7.5, 4.6))
    _draw_history(ax, history, per, log, label, units, x_label, y_label)
    if title is None:
        title = f"Training loss per {per}"
        if history.lr:
            title += f"\n{_describe(history)}: {_status(history, per)}"
    ax.set_title(title)
    if len(ax.get_legend_handles_labels()[0]) > 1:
        ax.legend(fontsize=9, framealpha=0.9, **_legend_spot(history))
    return _finish(fig, path)


def compare_curves(
    histories: Mapping[str, History],
    per: Per = "update",
    log: LogScale = "auto",
    title: str | None = None,
    separate: bool = False,
    units: str | None = None,
    x_label: str | None = None,
    y_label: str | None = None,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Several runs' loss curves, to compare learning rates or batch sizes.

    On one axis (the default) the reader sees which run gets low fastest; each legend
    entry says whether that run converged (a dot where it did), diverged or ran out of
    epochs. A diverged run is drawn until it leaves the plot, with a red cross where it
    does, so its explosion does not squash the other curves. Mini-batch and SGD runs
    plotted per update are drawn faintly, with their epoch means on top. With
    ``separate=True`` each run gets its own small panel and its own scale: use it when
    SGD's noisy curve would still hide the others.

    Args:
        histories: ``{"lr=0.01": history, "lr=0.1": history, ...}`` in legend order.
        per: ``"update"`` (gradient steps) or ``"epoch"`` (passes over the data: the
            fair x axis when batch sizes differ, as an epoch of SGD is N updates).
        log: True, False or ``"auto"`` (log when the visible losses span > 2 decades).
        separate: one subplot per run instead of one shared axis.
        units, x_label, y_label: as for :func:`loss_curve`.
        ax: draw into these axes (not with ``separate=True``).
        path: also save the figure there (PNG).
    """
    if not histories:
        raise ValueError("compare_curves needs at least one history")
    runs = {name: _as_history(h) for name, h in histories.items()}
    first = next(iter(runs.values()))
    if title is None:
        title = f"Loss per {per}: {len(runs)} runs compared"
    if separate:
        if ax is not None:
            raise ValueError("compare_curves: ax cannot be used with separate=True")
        n = len(runs)
        ncols = min(n, 3)
        nrows = math.ceil(n / ncols)
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(4.7 * ncols, 3.6 * nrows), layout="constrained", squeeze=False
        )
        for panel, (name, history) in zip(axes.flat, runs.items(), strict=False):
            _draw_history(panel, history, per, log, None, units, x_label, y_label)
            panel.set_title(f"{name}: {_status(history, per)}", fontsize=10)
            panel.xaxis.label.set_fontsize(9)
            panel.yaxis.label.set_fontsize(9)
            if _is_noisy(history, per):
                panel.legend(fontsize=8, **_legend_spot(history))
        for panel in axes.flat[n:]:
            panel.set_visible(False)
        fig.suptitle(title)
        return _finish(fig, path)

    fig, ax = _new_axes(ax, (8.0, 5.0))
    # The y range: what the trends of the runs that did not diverge reach, and a little
    # above. A diverged run's climb past that is cut off and marked where it leaves.
    trends = {name: _trend(h, per)[1] for name, h in runs.items()}
    calm = [v[np.isfinite(v)] for name, v in trends.items() if not runs[name].diverged]
    calm = [v for v in calm if v.size]
    pool = np.concatenate(calm or [v[np.isfinite(v)] for v in trends.values()])
    if pool.size == 0:
        raise ValueError("compare_curves: no finite losses to plot")
    use_log = _use_log(pool, log)
    top = pool.max() * ((10.0 if use_log else 1.3) if calm else (2.0 if use_log else 1.05))
    positive = pool[pool > 0]
    floor = positive.min() / 3.0 if positive.size else None
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, history) in enumerate(runs.items()):
        x, values = _series(history, per)
        color = colors[i % len(colors)]
        finite = np.isfinite(values)
        noisy = _is_noisy(history, per)
        label = f"{name}: {_status(history, per)}"
        ax.plot(
            x[finite],
            values[finite],
            color=color,
            linewidth=0.6 if noisy else 1.8,
            alpha=0.3 if noisy else 0.9,
            label=None if noisy else label,
        )
        if noisy:
            ax.plot(
                *_trend(history, per), color=color, linewidth=1.8, label=label + " (epoch mean)"
            )
        conv = _converged_x(history, per)
        if conv is not None and conv < len(values):
            y = values[conv]
            if noisy and history.converged_at_epoch is not None:
                y = history.epoch_losses[min(history.converged_at_epoch, history.epochs_run - 1)]
            ax.plot([conv], [y], marker="o", color=color, markersize=8, zorder=5)
        div = _diverged_x(history, per, len(values))
        if div is not None:
            at = _last_finite(values, div)
            if at is not None:
                above = np.flatnonzero(finite[: at + 1] & (values[: at + 1] > top))
                where = (int(above[0]), top) if above.size else (at, values[at])
                ax.plot(
                    *where,
                    marker="X",
                    markersize=12,
                    color=DIVERGED_COLOR,
                    markeredgecolor="white",
                    clip_on=False,
                    zorder=6,
                )
    if use_log:
        ax.set_yscale("log")
        ax.set_ylim(floor, top)
        ax.grid(True, which="minor", alpha=0.1)
    else:
        ax.set_ylim(min(0.0, float(pool.min())), top)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_xlabel(x_label or _x_label(per))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_ylabel(y_label or loss_label(first.loss, units) + (", log scale" if use_log else ""))
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if any(h.converged for h in runs.values()):
        handles.append(Line2D([], [], marker="o", color="gray", linestyle="none"))
        labels.append("converged here")
    if any(h.diverged for h in runs.values()):
        handles.append(
            Line2D([], [], marker="X", color=DIVERGED_COLOR, markersize=9, linestyle="none")
        )
        labels.append("diverged (lr too high): left the plot here")
    ax.legend(handles, labels, fontsize=9, loc="upper right", framealpha=0.9)
    return _finish(fig, path)


# --------------------------------------------------------------------------- the fit


def _model_params(w: Any, b: Any, d: int) -> tuple[np.ndarray, float]:
    w_arr = np.asarray(w, dtype=np.float64).reshape(-1)
    if w_arr.size != d:
        raise ValueError(f"w must hold {d} weight(s) to match X's {d} feature(s), got {w_arr.size}")
    return w_arr, float(np.asarray(b, dtype=np.float64).reshape(()))


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
        ax: draw into these axes (3-D axes for two features).
        path: also save the figure there (PNG).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=np.float64).reshape(-1)
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
        _with_units(n if n == s else f"{s} = {n}", u)
        for s, n, u in zip(symbols, names, units, strict=True)
    ]
    target_axis = _with_units(
        target_name if target_name == "y" else f"y = {target_name}", target_units
    )
    styles = ["-", "--", "-.", ":"]
    colors = ["tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:pink"]

    if d == 1:
        fig, ax = _new_axes(ax, (7.5, 5.0))
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
                label=f"{name}: ŷ = {_num(wi[0])}·x {_signed(bi)}",
                zorder=3,
            )
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(target_axis)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9, loc="best", framealpha=0.9)
        ax.set_title(title or f"{target_name} against {names[0]}: data and fitted line")
        return _finish(fig, path)

    if ax is None:
        fig = plt.figure(figsize=(8.5, 7.0), layout="constrained")
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
        equation = f"{name}: ŷ = {_num(wi[0])}·x₁ {_signed(wi[1])}·x₂ {_signed(bi)}"
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
    return _finish(fig, path)


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
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            "predicted_vs_actual needs y_true and y_pred of the same non-zero length; got "
            f"{y_true.shape} and {y_pred.shape}"
        )
    fig, ax = _new_axes(ax, (6.0, 5.6))
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
    ax.set_xlabel(_with_units(f"actual {target_name}", units))
    ax.set_ylabel(_with_units(f"predicted {target_name}", units))
    r = y_pred - y_true
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(r * r)) / ss_tot if ss_tot > 0 else math.nan
    suffix = f" {units}" if units else ""
    ax.text(
        0.97,
        0.03,
        f"RMSE {_num(float(np.sqrt(np.mean(r * r))))}{suffix}\n"
        f"MAE {_num(float(np.mean(np.abs(r))))}{suffix}\nR² {r2:.3f}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": "lightgray", "alpha": 0.9},
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(title or "Predicted against actual")
    return _finish(fig, path)


# --------------------------------------------------------------------------- loss surface


_CHUNK_ELEMENTS = 4_000_000
"""Residual grids are built this many numbers at a time, to bound memory for large N."""


def loss_grid(
    X: Any, y: Any, W: np.ndarray, B: np.ndarray, loss: str = "mse", delta: float = 1.0
) -> np.ndarray:
    """The loss of ŷ = w·x + b for every (w, b) in the grids ``W``, ``B`` (same shape).

    Same numbers as :data:`minigrad.formulas.LOSS_VALUES[loss]` at each point, computed
    for the whole grid at once. MSE, L2 and RMSE use the exact quadratic form
    MSE(θ) = MSE(θ*) + ½(θ − θ*)ᵀH(θ − θ*) around the closed-form minimum θ* (H is
    :func:`minigrad.formulas.mse_hessian`): O(1) per grid point, whatever N. The other
    losses build residual grids, a few rows of the grid at a time.
    """
    X = np.asarray(X, dtype=np.float64)
    x = X.reshape(-1) if X.ndim == 1 or X.shape[1] == 1 else None
    if x is None:
        raise ValueError(f"the loss surface is drawn for one feature; X has shape {X.shape}")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if loss not in formulas.LOSS_VALUES:
        raise ValueError(f"unknown loss {loss!r}; choose one of: {', '.join(formulas.LOSS_VALUES)}")
    W = np.asarray(W, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    n = x.size
    if loss in ("mse", "l2_loss", "rmse"):
        w_star, b_star = formulas.closed_form(x, y)
        floor = formulas.mse_value(x, y, w_star, b_star)
        H = formulas.mse_hessian(x)
        dw, db = W - w_star[0], B - b_star
        mse = floor + 0.5 * (H[0, 0] * dw * dw + 2.0 * H[0, 1] * dw * db + H[1, 1] * db * db)
        mse = np.maximum(mse, 0.0)
        return {"mse": mse, "l2_loss": n * mse, "rmse": np.sqrt(mse)}[loss]
    flat_w, flat_b = W.reshape(-1), B.reshape(-1)
    out = np.empty(flat_w.size)
    step = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, flat_w.size, step):
        sl = slice(start, start + step)
        r = flat_w[sl, None] * x[None, :] + flat_b[sl, None] - y[None, :]
        a = np.abs(r)
        if loss == "l1_loss":
            out[sl] = a.sum(axis=1)
        elif loss == "mae":
            out[sl] = a.mean(axis=1)
        else:  # huber
            out[sl] = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)).mean(axis=1)
    return out.reshape(W.shape)


def _path_array(path_params: History | Any | None) -> np.ndarray | None:
    if path_params is None:
        return None
    points = path_params.path if isinstance(path_params, History) else path_params
    points = np.asarray(points, dtype=np.float64)
    if points.size == 0:
        return None
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            "loss_surface draws the path of a one-feature model: path_params must be a "
            f"History or a (k, 2) array of [w, b]; got shape {points.shape}"
        )
    return points[np.all(np.isfinite(points), axis=1)]


def _span(values: np.ndarray, margin: float = 0.25) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    width = hi - lo
    scale = max(width, 0.1 * max(abs(lo), abs(hi)), 1e-3)
    if width < scale:  # a tiny spread: widen symmetrically
        centre = 0.5 * (lo + hi)
        lo, hi = centre - 0.5 * scale, centre + 0.5 * scale
    pad = margin * (hi - lo)
    return lo - pad, hi + pad


def _log_levels(Z: np.ndarray, count: int = 14) -> np.ndarray:
    """Contour levels spaced evenly in log(loss − min): dense near the minimum, so the
    bowl's floor shows as rings instead of one flat blob."""
    z_min, z_max = float(Z.min()), float(Z.max())
    rise = z_max - z_min
    if not rise > 0:
        return np.array([z_min, z_min + 1.0])
    return z_min + np.geomspace(rise * 2e-3, rise, count)


def _viewing_azimuth(
    x: np.ndarray, w_range: tuple[float, float], b_range: tuple[float, float]
) -> float:
    """Where to stand to see the bowl as a U rather than two peaks.

    A badly scaled feature makes the bowl a long, thin valley running diagonally; seen
    from the side it looks like two hills. The valley's long axis is the Hessian's
    flattest direction (in the plotted, box-normalised coordinates), so the viewer
    looks along it, turned 35° so that the path down the valley is not seen end-on.
    """
    default = -125.0
    spans = np.array([w_range[1] - w_range[0], b_range[1] - b_range[0]])
    H = formulas.mse_hessian(x) * np.outer(spans, spans)
    eigenvalues, vectors = np.linalg.eigh(H)
    if not eigenvalues[0] > 0 or eigenvalues[1] / eigenvalues[0] < 4.0:
        return default  # round enough: any side shows the bowl
    along = math.degrees(math.atan2(vectors[1, 0], vectors[0, 0]))
    candidates = [along + 35.0, along - 35.0, along + 145.0, along - 145.0]
    return min(candidates, key=lambda a: abs((a - default + 180.0) % 360.0 - 180.0))


def loss_surface(
    X: Any,
    y: Any,
    path_params: History | Any | None = None,
    loss: str = "mse",
    w_range: tuple[float, float] | None = None,
    b_range: tuple[float, float] | None = None,
    kind: Literal["both", "surface", "contour"] = "both",
    resolution: int = 80,
    title: str | None = None,
    delta: float = 1.0,
    units: str | None = None,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """The loss of a one-feature model over a grid of (w, b), with gradient descent's path.

    The reader should see the notes' convex bowl (3-D surface) and the same bowl from
    above as nested rings (contour map; levels are log-spaced above the minimum so the
    rings near the bottom show), the path from the start (w = 0, b = 0) stepping down
    to its end, and the minimum (a gold star) where it should land: for MSE the
    closed-form least-squares solution; for MAE and Huber, which have no closed form,
    the lowest grid point (the least-squares solution is then marked too, to show how
    far the losses disagree). A too-high learning rate shows as a zig-zag across the
    valley, or a path climbing out of the bowl.

    Args:
        path_params: a History (``history.path``) or a (k, 2) array of [w, b] points.
        loss: a name from :data:`minigrad.formulas.LOSS_VALUES` (``delta`` for Huber).
        w_range, b_range: the grid's extent; by default it covers the path (or, without
            one, the origin, where gradient descent starts) and the minimum, with margin.
        kind: ``"surface"`` (3-D), ``"contour"`` (from above) or ``"both"`` side by side.
        resolution: grid points per axis.
        units: the target's units, for the loss axis label.
        ax: draw into these axes (kind "contour", or "surface" with 3-D axes).
        path: also save the figure there (PNG).
    """
    X = np.asarray(X, dtype=np.float64)
    if not (X.ndim == 1 or (X.ndim == 2 and X.shape[1] == 1)):
        raise ValueError(
            f"loss_surface draws the loss over (w, b) of a one-feature model; X has shape "
            f"{X.shape} (pick one column)"
        )
    x = X.reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if kind not in ("both", "surface", "contour"):
        raise ValueError(f"kind must be 'both', 'surface' or 'contour', got {kind!r}")
    if ax is not None and kind == "both":
        raise ValueError("loss_surface: ax needs kind='surface' or kind='contour'")
    if not isinstance(resolution, int | np.integer) or resolution < 5:
        raise ValueError(f"resolution must be an integer ≥ 5, got {resolution!r}")
    points = _path_array(path_params)
    w_ls, b_ls = formulas.closed_form(x, y)
    least_squares = np.array([w_ls[0], b_ls])
    start = np.zeros((1, 2)) if points is None else points
    anchors = np.vstack([start, least_squares[None, :]])
    w_lo, w_hi = w_range or _span(anchors[:, 0])
    b_lo, b_hi = b_range or _span(anchors[:, 1])
    W, B = np.meshgrid(np.linspace(w_lo, w_hi, resolution), np.linspace(b_lo, b_hi, resolution))
    Z = loss_grid(x, y, W, B, loss, delta)
    name = LOSS_NAMES.get(loss, loss)
    z_label = loss_label(loss, units)
    squared = loss in ("mse", "l2_loss", "rmse")
    if squared:
        best = least_squares
        best_label = f"minimum, closed form (w = {_num(best[0])}, b = {_num(best[1])})"
    else:
        row, col = np.unravel_index(np.argmin(Z), Z.shape)
        best = np.array([W[row, col], B[row, col]])
        best_label = f"lowest {name} on the grid (w = {_num(best[0])}, b = {_num(best[1])})"

    def loss_at(p: np.ndarray) -> np.ndarray:
        return loss_grid(x, y, p[..., 0], p[..., 1], loss, delta)

    if ax is not None:
        fig = ax.figure
        surface_ax = ax if kind == "surface" else None
        contour_ax = ax if kind == "contour" else None
        if surface_ax is not None and getattr(ax, "name", "") != "3d":
            raise ValueError("loss_surface: kind='surface' needs 3-D axes (projection='3d')")
    else:
        fig = plt.figure(
            figsize={"both": (15.0, 6.6), "surface": (8.5, 7.4), "contour": (8.0, 7.0)}[kind],
            layout="constrained",
        )
        surface_ax = contour_ax = None
        if kind == "both":
            surface_ax = fig.add_subplot(1, 2, 1, projection="3d", computed_zorder=False)
            contour_ax = fig.add_subplot(1, 2, 2)
        elif kind == "surface":
            surface_ax = fig.add_subplot(projection="3d", computed_zorder=False)
        else:
            contour_ax = fig.add_subplot()

    # (label, w, b, 2-D style, 3-D scatter style) of each marked point.
    marks: list[tuple[str, float, float, dict[str, Any], dict[str, Any]]] = []
    if points is not None:
        end = f"end after {len(points) - 1} updates (w = {_num(points[-1, 0])}, b = "
        marks += [
            (
                f"start (w = {_num(points[0, 0])}, b = {_num(points[0, 1])})",
                *points[0],
                {"marker": "o", "markersize": 11, "color": "white", "markeredgecolor": "black"},
                {"marker": "o", "s": 70, "color": "white", "edgecolor": "black"},
            ),
            (
                end + f"{_num(points[-1, 1])})",
                *points[-1],
                {"marker": "o", "markersize": 9, "color": "tab:red", "markeredgecolor": "black"},
                {"marker": "o", "s": 60, "color": "tab:red", "edgecolor": "black"},
            ),
        ]
    if not squared:
        marks.append(
            (
                f"least-squares (MSE) fit, for comparison (w = {_num(w_ls[0])}, b = {_num(b_ls)})",
                *least_squares,
                {
                    "marker": "P",
                    "markersize": 11,
                    "color": "tab:orange",
                    "markeredgecolor": "black",
                },
                {"marker": "P", "s": 110, "color": "tab:orange", "edgecolor": "black"},
            )
        )
    marks.append(
        (
            best_label,
            *best,
            {"marker": "*", "markersize": 20, "color": "gold", "markeredgecolor": "black"},
            {"marker": "*", "s": 260, "color": "gold", "edgecolor": "black"},
        )
    )
    path_style = {"color": "tab:red", "linewidth": 1.6, "marker": "o", "markersize": 2.5}
    path_label = "gradient-descent path (a dot per update)"
    cmap = plt.get_cmap("viridis")

    if surface_ax is not None:
        sa = surface_ax
        sa.plot_surface(W, B, Z, cmap=cmap, alpha=0.75, linewidth=0, antialiased=True, zorder=1)
        if points is not None:
            sa.plot(
                points[:, 0],
                points[:, 1],
                loss_at(points),
                zorder=4,
                label=path_label,
                **path_style,
            )
        for label, w_m, b_m, _, style in marks:
            z_m = float(loss_at(np.array([w_m, b_m])))
            sa.scatter(w_m, b_m, z_m, depthshade=False, zorder=6, label=label, **style)
        sa.set_xlabel("weight w", labelpad=8)
        sa.set_ylabel("bias b", labelpad=8)
        sa.set_zlabel(z_label, labelpad=10)
        sa.ticklabel_format(axis="z", style="sci", scilimits=(-3, 4), useMathText=True)
        sa.view_init(elev=28, azim=_viewing_azimuth(x, (w_lo, w_hi), (b_lo, b_hi)))
        sa.set_title("the bowl in 3-D" if kind == "both" else title or f"{name} loss over (w, b)")

    if contour_ax is not None:
        ca = contour_ax
        levels = _log_levels(Z)
        norm = BoundaryNorm(levels, cmap.N, extend="both")
        filled = ca.contourf(W, B, Z, levels=levels, cmap=cmap, norm=norm, extend="both")
        ca.contour(W, B, Z, levels=levels, colors="white", linewidths=0.5, alpha=0.6)
        bar = fig.colorbar(filled, ax=ca, spacing="uniform", format="%.3g", shrink=0.9)
        bar.set_label(f"{z_label}; levels log-spaced above the minimum")
        if points is not None:
            ca.plot(points[:, 0], points[:, 1], zorder=3, label=path_label, **path_style)
        for label, w_m, b_m, style, _ in marks:
            ca.plot(w_m, b_m, linestyle="none", zorder=5, label=label, **style)
        ca.set_xlim(w_lo, w_hi)
        ca.set_ylim(b_lo, b_hi)
        ca.set_xlabel("weight w")
        ca.set_ylabel("bias b")
        ca.set_title(
            "from above: contours of equal loss"
            if kind == "both"
            else title or f"{name} loss over (w, b)"
        )

    if ax is None:
        # Below the plots, so it never hides the path or the minimum.
        source = contour_ax if contour_ax is not None else surface_ax
        handles, labels = source.get_legend_handles_labels()
        try:
            fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
        except ValueError:  # matplotlib < 3.7 has no "outside" placement
            fig.legend(handles, labels, loc="lower center", ncols=2, fontsize=9)
    else:
        ax.legend(fontsize=8, loc="upper left", framealpha=0.9)
    if kind == "both":
        fig.suptitle(title or f"{name} loss of ŷ = w·x + b over (w, b), and gradient descent on it")
    return _finish(fig, path)
