"""Loss modules with PyTorch's names: ``loss_fn = nn.MSELoss(); loss_fn(pred, target)``.

Each is a thin Module around one function of :mod:`minigrad.losses` (one implementation:
the function is what ``mg.fit(loss="mse")`` uses too), with PyTorch's ``reduction=``:
``"mean"`` (the default), ``"sum"`` or ``"none"`` (the per-element terms).

=====================  =========================================  ======================
module                 function                                   extra arguments
=====================  =========================================  ======================
``MSELoss``            :func:`~minigrad.losses.mse`
``L1Loss``             :func:`~minigrad.losses.mae`
``HuberLoss``          :func:`~minigrad.losses.huber`             ``delta=1.0``
``BCELoss``            :func:`~minigrad.losses.bce`               (clips p to [1e-7, 1 − 1e-7])
``BCEWithLogitsLoss``  :func:`~minigrad.losses.bce_with_logits`
``CrossEntropyLoss``   :func:`~minigrad.losses.cross_entropy`     (class indices or probabilities)
=====================  =========================================  ======================

Unlike PyTorch, the shapes of prediction and target must match exactly (no silent
broadcasting of (N, 1) against (N,)); ``weight=``, ``pos_weight=``, ``ignore_index=`` and
``label_smoothing=`` are not supported.

>>> import minigrad as mg
>>> mg.nn.MSELoss(reduction="sum")(mg.tensor([1.0, 4.0]), mg.tensor([2.0, 2.0])).item()
5.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad import losses
from minigrad.losses import Reduction
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class _Loss(Module):
    """A loss function as a module: ``forward(input, target)`` with ``reduction``."""

    function: Callable[..., Tensor]

    def __init__(self, reduction: Reduction = "mean") -> None:
        losses._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return type(self).function(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Squared error (pred − target)², averaged (PyTorch's ``nn.MSELoss``)."""

    function = staticmethod(losses.mse)


class L1Loss(_Loss):
    """Absolute error |pred − target|, averaged (PyTorch's ``nn.L1Loss``)."""

    function = staticmethod(losses.mae)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (PyTorch's ``nn.BCELoss``; where PyTorch
    clamps each log at −100, minigrad clips p to [1e-7, 1 − 1e-7])."""

    function = staticmethod(losses.bce)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, stable for any logit (``nn.BCEWithLogitsLoss``)."""

    function = staticmethod(losses.bce_with_logits)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,) or class
    probabilities (N, C) (PyTorch's ``nn.CrossEntropyLoss``)."""

    function = staticmethod(losses.cross_entropy)


class HuberLoss(_Loss):
    """½r² where |r| ≤ delta, delta·(|r| − ½delta) beyond (PyTorch's ``nn.HuberLoss``)."""

    function = staticmethod(losses.huber)

    def __init__(self, reduction: Reduction = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def forward(self, input: Any, target: Any) -> Tensor:
        return losses.huber(input, target, delta=self.delta, reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"delta={self.delta}"]))
