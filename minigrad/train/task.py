"""The task of a run: the loss, how it reads the targets, the metrics, and one batch's loss."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import losses, metrics
from minigrad.nn import Module
from minigrad.tensor import Tensor
from minigrad.train.checks import _evaluating, _output_shape

MetricSpec = str | metrics.Metric


@dataclass
class _Task:
    """What a run learns: the loss, its targets read as the loss declares, and the metrics."""

    loss_fn: Callable
    y: np.ndarray  # the training targets, checked (class indices as int64)
    class_indices: bool
    metric_fns: dict[str, metrics.Metric]

    @classmethod
    def of(
        cls, model: Module, loss_fn: Callable, X: Any, y: Any, specs: Sequence[MetricSpec]
    ) -> _Task:
        declared = losses.spec(loss_fn)
        name = getattr(loss_fn, "__name__", "")
        targets, class_indices = declared.targets(name, np.asarray(y), _output_shape(model, X))
        found: dict[str, metrics.Metric] = {}
        for spec in (specs,) if isinstance(specs, str) else specs:
            label, metric = for_loss(spec, name)
            if label in found:
                raise ValueError(f"metric {label!r} is listed twice")
            found[label] = metric
        if "accuracy" in found and declared.accuracy_targets is not None:
            declared.accuracy_targets(targets)
        return cls(loss_fn, targets, class_indices, found)

    def targets(self, y: Any, out: tuple[int, ...]) -> np.ndarray:
        """Other targets (validation data), checked the same way."""
        name = getattr(self.loss_fn, "__name__", "")
        return losses.spec(self.loss_fn).targets(name, np.asarray(y), out)[0]

    def evaluate(self, model: Module, X: Any, y: np.ndarray) -> dict[str, float]:
        with _evaluating(model):
            value, pred = _batch_loss(model, self.loss_fn, self.class_indices,
                                     Tensor(np.asarray(X)), Tensor(y))  # fmt: skip
            result = {"loss": float(value.data)}
            for name, metric in self.metric_fns.items():
                result[name] = float(metric(pred.data, y))
        return result


def for_loss(name: str | metrics.Metric, loss: str) -> tuple[str, metrics.Metric]:
    """``(name, metric)`` for a ``metrics=`` entry of fit.

    ``"accuracy"`` depends on the loss (its name in :data:`minigrad.losses.LOSSES`), which
    declares it (:class:`minigrad.losses.LossSpec`); a callable is its own metric, named
    by its ``__name__``.

    >>> from minigrad.train.task import for_loss
    >>> label, metric = for_loss("accuracy", "bce_with_logits")
    >>> metric([-0.5, 0.2], [0, 1])          # logits: the threshold is z = 0
    1.0
    """
    if callable(name):
        inner = getattr(name, "func", None)  # a functools.partial: its function's name
        label = getattr(name, "__name__", None) or getattr(inner, "__name__", "metric")
        return label, name
    if name != "accuracy":
        raise ValueError(
            f"unknown metric {name!r}: metrics are 'accuracy' or callables "
            "metric(pred, target) -> float (e.g. minigrad.metrics.binary_accuracy)"
        )
    accuracy = losses.spec(loss).accuracy
    if accuracy is None:
        raise ValueError(
            f"metrics=('accuracy',) needs a classification loss to know what the model's "
            f"outputs are (bce_with_logits: logits, bce: probabilities, cross_entropy: one "
            f"logit per class), not {loss!r}; pass a callable instead, e.g. "
            "functools.partial(minigrad.metrics.binary_accuracy, threshold=0.0)"
        )
    return "accuracy", accuracy


def _batch_loss(
    model: Module, loss_fn: Callable, class_indices: bool, xb: Tensor, yb: Tensor
) -> tuple[Tensor, Tensor]:
    """``(loss, prediction)`` of one batch: what an update differentiates (and jit traces).

    Targets other than class indices take the prediction's shape ((N,) and (N, 1) alike).
    """
    pred = model(xb)
    return loss_fn(pred, yb if class_indices else yb.reshape(pred.shape)), pred
