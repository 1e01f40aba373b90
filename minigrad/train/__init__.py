"""Training: gradient descent over epochs and batches, and a record of what happened.

One *update* is: predict a batch, measure the loss, backpropagate, step the optimizer.
One *epoch* is a pass over every example once: ``ceil(N / batch_size)`` updates.
``batch_size=None`` (or ≥ N) is full-batch gradient descent, ``1`` is stochastic
gradient descent (SGD), anything between is mini-batch SGD.

>>> import minigrad as mg
>>> X, y, _, _ = mg.data.make_linear(n=200, d=1, noise=0.1, seed=0)
>>> model = mg.nn.LinearRegression(1)
>>> history = mg.fit(model, X, y, lr=0.1, epochs=500, progress=False)
>>> history.converged
True
>>> history                                      # doctest: +ELLIPSIS
History(SGD on mse, lr=0.1, full batch: ... epochs; final loss 0.0...; converged at epoch ...)

The package, one job per module: :mod:`~minigrad.train.fit` (``fit``, ``evaluate``),
:mod:`~minigrad.train.loop` (the ``Trainer``), :mod:`~minigrad.train.history`
(``History``, which the plots import alone), :mod:`~minigrad.train.task` (the loss, its
targets and metrics), :mod:`~minigrad.train.step` (the compiled update),
:mod:`~minigrad.train.checks` (the data checked before a run),
:mod:`~minigrad.train.progress` (the progress bar), :mod:`~minigrad.train.diagnostics`
(what the closed forms of linear regression say about a run),
:mod:`~minigrad.train.checkpoint` (checkpoints and exact resume) and
:mod:`~minigrad.train.interrupt` (Ctrl-C ends a run after the update under way).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from minigrad.train import diagnostics, loop, progress
from minigrad.train.diagnostics import CONDITION_WARNING
from minigrad.train.fit import evaluate, fit
from minigrad.train.history import History
from minigrad.train.loop import DIVERGENCE_FACTOR, Callback, Trainer
from minigrad.train.progress import PROGRESS_DELAY
from minigrad.train.progress import _in_jupyter as _in_jupyter  # settable, see _SETTINGS
from minigrad.train.task import MetricSpec

__all__ = [
    "CONDITION_WARNING",
    "DIVERGENCE_FACTOR",
    "PROGRESS_DELAY",
    "Callback",
    "History",
    "MetricSpec",
    "Trainer",
    "evaluate",
    "fit",
]

_SETTINGS = {
    "PROGRESS_DELAY": progress,
    "_in_jupyter": progress,
    "DIVERGENCE_FACTOR": loop,
    "CONDITION_WARNING": diagnostics,
}
"""Names that were module globals of the one-file trainer, and the module that reads them now."""


class _Package(types.ModuleType):
    """``minigrad.train.PROGRESS_DELAY = 0.0`` still sets what the trainer reads.

    A setting assigned on the package (by a user, or by a test's monkeypatch) is passed on
    to the module that reads it, as it was when the trainer was one module.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SETTINGS:
            setattr(_SETTINGS[name], name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
