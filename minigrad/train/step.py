"""The compiled update: one batch's loss and gradients traced once by :func:`minigrad.jit`.

The one module of the trainer that imports the jit.
"""

from __future__ import annotations

from collections.abc import Callable

from minigrad import autograd
from minigrad.jit import Jitted
from minigrad.jit import jit as compile_fn
from minigrad.nn import Module
from minigrad.tensor import Tensor
from minigrad.train.task import _batch_loss


def _compiled_step(model: Module, loss_fn: Callable, class_indices: bool,
                   params: list[Tensor], with_pred: bool) -> Jitted:  # fmt: skip
    """``step(xb, yb) -> (loss, grads[, pred])`` compiled by :func:`minigrad.jit`.

    ``params`` are closed over, so the compiled step reads their current values at every
    call (the optimizer changes them in place between calls).
    """

    def step(xb: Tensor, yb: Tensor) -> tuple:
        loss, pred = _batch_loss(model, loss_fn, class_indices, xb, yb)
        grads = autograd.grad(loss, params)
        return (loss, grads, pred) if with_pred else (loss, grads)

    return compile_fn(step)
