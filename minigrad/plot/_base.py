"""What every figure shares: Figures made without pyplot, saving, loss labels, numbers."""

from __future__ import annotations

import functools
import inspect
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from matplotlib.figure import Figure
except ImportError as error:  # pragma: no cover - exercised only without matplotlib
    raise ImportError(
        "minigrad.plot needs matplotlib, which is not installed: pip install 'minigrad[plot]'"
    ) from error

from minigrad.io import atomic_path
from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PathLike = str | os.PathLike


def values_of(x: Any) -> Any:
    """What a figure draws of ``x``: a Tensor's values (``model.w`` as it is; a drawing
    is no computation to differentiate, and np.asarray refuses a tensor that requires
    grad), anything else as given."""
    return x.data if isinstance(x, Tensor) else x


DPI = 110
"""Resolution of saved PNGs (dots per inch)."""

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


def save(fig: Figure, path: PathLike, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` (PNG unless the suffix names another format) and return
    the path written. Parent folders are created; the margins are trimmed (``bbox_inches=
    "tight"``) so nothing a reader needs is cut off and nothing else is kept.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # a failed save leaves the old figure whole
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return path


class InlineFigure(Figure):
    """A matplotlib Figure made without pyplot, which IPython shows as a PNG.

    pyplot keeps every figure it makes and Jupyter draws those at the end of a cell, so
    a plot function that makes its figure through pyplot *and* returns it shows twice.
    These figures are unknown to pyplot (nothing global keeps them alive either), and a
    notebook shows the returned one once: through matplotlib's inline formatter when
    that is active, else through :meth:`_repr_png_`.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(figsize: tuple[float, float] = (8.0, 5.0), **kwargs: Any) -> InlineFigure:
    """An empty :class:`InlineFigure` with constrained layout; ``kwargs`` go to Figure.

    Add axes with ``fig.add_subplot()`` or ``fig.subplots(...)``; save with
    :func:`save` or ``fig.savefig``.
    """
    return InlineFigure(figsize=figsize, layout="constrained", **kwargs)


def finish(fig: Figure, path: PathLike | None) -> Figure:
    if path is not None:
        save(fig, path)
    return fig


def axes_given(draw: Callable[..., Figure]) -> Callable[..., Any]:
    """A plot function that returns the Axes it was given with ``ax=``, else its Figure.

    A figure of your own (``fig, ax = plt.subplots()``) belongs to pyplot, which a
    notebook draws at the end of the cell: returning that Figure too would show it a
    second time as the cell's value. So, as pandas' and seaborn's plot functions do, a
    call with ``ax=`` returns the axes (shown as one line of text), and the figure shows
    once, whichever way it was drawn.
    """
    signature = inspect.signature(draw)

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ax = signature.bind(*args, **kwargs).arguments.get("ax")
        fig = draw(*args, **kwargs)
        return fig if ax is None else ax

    return wrapper


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


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


def with_units(name: str, units: str | None) -> str:
    return f"{name} ({units})" if units else name


def num(value: float) -> str:
    """A number for a label: 3 significant digits and a real minus sign."""
    return f"{value:.3g}".replace("-", "−")


def signed(value: float) -> str:
    return f"− {num(abs(value))}" if value < 0 else f"+ {num(value)}"
