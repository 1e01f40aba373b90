"""Figures for the notes: loss curves, learning-rate and batch-size comparisons, the
fitted line, the loss surface with gradient descent's path, predicted vs actual.

Every public function returns the matplotlib :class:`~matplotlib.figure.Figure` it drew,
and saves it as a PNG when given ``path`` (parent folders are created). Figures are made
without pyplot (:class:`InlineFigure`): a notebook shows a returned figure once, nothing
global keeps them alive (a script may make thousands), and importing this package
neither imports pyplot nor changes matplotlib's backend, so it works the same in CI,
over SSH and on a desktop. To draw into a pyplot window instead, pass ``ax=`` axes of
your own (``fig, ax = plt.subplots()``) to the functions that take it: they then return
those axes, not pyplot's figure, which a notebook would show a second time.

Needs matplotlib: ``pip install 'minigrad[plot]'``.

>>> import minigrad as mg
>>> from minigrad import plot
>>> X, y, _, _ = mg.data.make_linear(n=100, d=1, noise=0.5, seed=0)
>>> history = mg.fit(mg.nn.LinearRegression(1), X, y, lr=0.1, epochs=200, progress=False)
>>> fig = plot.loss_curve(history)                  # plot.loss_curve(history, path="loss.png")
>>> fig.axes[0].get_xlabel()
'update (gradient-descent step)'
"""

from __future__ import annotations

from minigrad.plot._base import DPI, LOSS_NAMES, InlineFigure, loss_label, new_figure, save
from minigrad.plot.curves import compare_curves, loss_curve
from minigrad.plot.fitted import fit_line, predicted_vs_actual
from minigrad.plot.surface import loss_grid, loss_surface

__all__ = [
    "DPI",
    "LOSS_NAMES",
    "InlineFigure",
    "compare_curves",
    "fit_line",
    "loss_curve",
    "loss_grid",
    "loss_label",
    "loss_surface",
    "new_figure",
    "predicted_vs_actual",
    "save",
]
