"""Loss curves: one run (per update or per epoch) and runs side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from minigrad.plot._base import PathLike, axes_given, finish, loss_label, new_axes, new_figure
from minigrad.train.history import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Per = Literal["update", "epoch"]
LogScale = bool | Literal["auto"]

AUTO_LOG_DECADES = 2.0
"""``log="auto"`` uses a log axis when the loss spans more than this many powers of ten."""

CONVERGED_COLOR = "tab:green"
DIVERGED_COLOR = "tab:red"


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


@axes_given
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
        ax: draw into these axes instead of a new figure; then the axes are returned.
        path: also save the figure there (PNG).

    >>> fig = loss_curve([1e6, 1e3, 1.0], per="epoch")
    >>> fig.axes[0].get_yscale()
    'log'
    """
    history = _as_history(history)
    fig, ax = new_axes(ax, (7.5, 4.6))
    _draw_history(ax, history, per, log, label, units, x_label, y_label)
    if title is None:
        title = f"Training loss per {per}"
        if history.lr:
            title += f"\n{_describe(history)}: {_status(history, per)}"
    ax.set_title(title)
    if len(ax.get_legend_handles_labels()[0]) > 1:
        ax.legend(fontsize=9, framealpha=0.9, **_legend_spot(history))
    return finish(fig, path)


@axes_given
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
        ax: draw into these axes (not with ``separate=True``); then they are returned.
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
        fig = new_figure((4.7 * ncols, 3.6 * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False)
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
        return finish(fig, path)

    fig, ax = new_axes(ax, (8.0, 5.0))
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
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
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
    return finish(fig, path)
