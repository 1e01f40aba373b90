"""The loss over (w, b): the convex bowl, its contours and gradient descent's path."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
import numpy as np
from matplotlib.colors import BoundaryNorm

from minigrad import formulas
from minigrad.plot._base import (
    LOSS_NAMES,
    PathLike,
    axes_given,
    finish,
    loss_label,
    new_figure,
    num,
    values_of,
)  # fmt: skip
from minigrad.train.history import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    X = np.asarray(values_of(X), dtype=np.float64)
    x = X.reshape(-1) if X.ndim == 1 or X.shape[1] == 1 else None
    if x is None:
        raise ValueError(f"the loss surface is drawn for one feature; X has shape {X.shape}")
    y = np.asarray(values_of(y), dtype=np.float64).reshape(-1)
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


def _same_width(*ranges: tuple[float, float]) -> list[tuple[float, float]]:
    """The ranges widened about their centres to the widest one's width."""
    width = max(hi - lo for lo, hi in ranges)
    return [((lo + hi - width) / 2, (lo + hi + width) / 2) for lo, hi in ranges]


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


@axes_given
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
    equal_scale: bool = False,
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
        equal_scale: draw w and b to the same scale, over ranges of the same width, so
            that a round bowl (standardized features) looks round, and a narrow valley
            as narrow as it is.
        ax: draw into these axes (kind "contour", or "surface" with 3-D axes); then the
            axes are returned.
        path: also save the figure there (PNG).
    """
    X = np.asarray(values_of(X), dtype=np.float64)
    if not (X.ndim == 1 or (X.ndim == 2 and X.shape[1] == 1)):
        raise ValueError(
            f"loss_surface draws the loss over (w, b) of a one-feature model; X has shape "
            f"{X.shape} (pick one column)"
        )
    x = X.reshape(-1)
    y = np.asarray(values_of(y), dtype=np.float64).reshape(-1)
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
    if equal_scale:
        (w_lo, w_hi), (b_lo, b_hi) = _same_width((w_lo, w_hi), (b_lo, b_hi))
    W, B = np.meshgrid(np.linspace(w_lo, w_hi, resolution), np.linspace(b_lo, b_hi, resolution))
    Z = loss_grid(x, y, W, B, loss, delta)
    name = LOSS_NAMES.get(loss, loss)
    z_label = loss_label(loss, units)
    squared = loss in ("mse", "l2_loss", "rmse")
    if squared:
        best = least_squares
        best_label = f"minimum, closed form (w = {num(best[0])}, b = {num(best[1])})"
    else:
        row, col = np.unravel_index(np.argmin(Z), Z.shape)
        best = np.array([W[row, col], B[row, col]])
        best_label = f"lowest {name} on the grid (w = {num(best[0])}, b = {num(best[1])})"

    def loss_at(p: np.ndarray) -> np.ndarray:
        return loss_grid(x, y, p[..., 0], p[..., 1], loss, delta)

    if ax is not None:
        fig = ax.figure
        surface_ax = ax if kind == "surface" else None
        contour_ax = ax if kind == "contour" else None
        if surface_ax is not None and getattr(ax, "name", "") != "3d":
            raise ValueError("loss_surface: kind='surface' needs 3-D axes (projection='3d')")
    else:
        fig = new_figure({"both": (15.0, 6.6), "surface": (8.5, 7.4), "contour": (8.0, 7.0)}[kind])
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
        end = f"end after {len(points) - 1} updates (w = {num(points[-1, 0])}, b = "
        marks += [
            (
                f"start (w = {num(points[0, 0])}, b = {num(points[0, 1])})",
                *points[0],
                {"marker": "o", "markersize": 11, "color": "white", "markeredgecolor": "black"},
                {"marker": "o", "s": 70, "color": "white", "edgecolor": "black"},
            ),
            (
                end + f"{num(points[-1, 1])})",
                *points[-1],
                {"marker": "o", "markersize": 9, "color": "tab:red", "markeredgecolor": "black"},
                {"marker": "o", "s": 60, "color": "tab:red", "edgecolor": "black"},
            ),
        ]
    if not squared:
        marks.append(
            (
                f"least-squares (MSE) fit, for comparison (w = {num(w_ls[0])}, b = {num(b_ls)})",
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
    cmap = matplotlib.colormaps["viridis"]

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
        if equal_scale:
            sa.set_box_aspect((1.0, 1.0, 0.8))
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
        if equal_scale:
            ca.set_aspect("equal", adjustable="box")
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
    return finish(fig, path)
