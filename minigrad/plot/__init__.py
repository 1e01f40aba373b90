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

# _base first: it picks a headless backend before anything imports matplotlib.pyplot
from minigrad.plot._base import DPI, LOSS_NAMES, loss_label, save
from minigrad.plot.curves import compare_curves, loss_curve
from minigrad.plot.fitted import fit_line, predicted_vs_actual
from minigrad.plot.surface import loss_grid, loss_surface

__all__ = [
    "DPI",
    "LOSS_NAMES",
    "compare_curves",
    "fit_line",
    "loss_curve",
    "loss_grid",
    "loss_label",
    "loss_surface",
    "predicted_vs_actual",
    "save",
]
