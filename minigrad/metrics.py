"""Metrics: how often a classifier is right, as one number (no gradient, plain NumPy).

A metric is ``metric(pred, target) -> float``, a mean over the examples (so the mean of
several batches' values, weighted by their sizes, is the value over all of them, which
is how :func:`~minigrad.fit` makes an epoch's figure). ``pred`` and ``target`` may be
arrays or Tensors.

- :func:`binary_accuracy`: one score per example, class 1 when the score is above a
  threshold: 0.5 for probabilities p = σ(z), 0 for the logits z themselves (σ(z) > ½
  exactly when z > 0);
- :func:`multiclass_accuracy`: one score per class (N, C), the predicted class is the
  argmax of each row (of logits or probabilities alike: softmax keeps the order).

``fit(..., metrics=("accuracy",))`` picks one from the loss, as Keras does (each loss
declares its accuracy, :class:`minigrad.losses.LossSpec`): bce_with_logits scores are
logits (threshold 0), bce scores are probabilities (threshold 0.5), cross_entropy scores
are one logit per class (argmax).

>>> import numpy as np
>>> binary_accuracy(np.array([0.9, 0.4, 0.6]), np.array([1, 0, 0]))   # 0.6 > 0.5: wrong
0.6666666666666666
>>> multiclass_accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.tensor import Tensor

Metric = Callable[[Any, Any], float]

__all__ = ["Metric", "binary_accuracy", "multiclass_accuracy"]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def binary_accuracy(pred: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of examples whose class, 1 where ``pred > threshold`` else 0, is ``target``.

    ``target`` holds 0/1 labels of the same size as ``pred`` (shapes (N,) and (N, 1)
    alike; (N, k) scores k independent labels, each counted). Use ``threshold=0`` for
    logits. A score exactly at the threshold counts as class 0 (Keras's rule).

    >>> binary_accuracy([-1.0, 0.5, 2.0], [0, 0, 1], threshold=0.0)   # logits
    0.6666666666666666
    """
    p, y = _array(pred), _array(target)
    if p.size != y.size:
        raise ValueError(
            f"binary_accuracy: {p.size} scores but {y.size} labels (shapes {p.shape} and "
            f"{y.shape}); it compares one score with one 0/1 label"
        )
    return float(np.mean((p.reshape(-1) > threshold) == (y.reshape(-1) > 0.5)))


def multiclass_accuracy(pred: Any, target: Any) -> float:
    """Fraction of rows of ``pred`` (N, C) whose argmax is the class in ``target``.

    ``target`` is N class indices, or (N, C) class probabilities (one-hot rows), whose
    argmax is then the class. Ties go to the first class, as in ``np.argmax``.

    >>> multiclass_accuracy([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], [1, 2])
    0.5
    """
    p, y = _array(pred), _array(target)
    if p.ndim != 2:
        raise ValueError(f"multiclass_accuracy: scores must have shape (N, C), got {p.shape}")
    if y.shape == p.shape:
        y = y.argmax(axis=1)
    if y.shape != p.shape[:1]:
        raise ValueError(
            f"multiclass_accuracy: scores of shape {p.shape} need {p.shape[0]} class "
            f"indices (or probabilities of shape {p.shape}), got shape {y.shape}"
        )
    return float(np.mean(p.argmax(axis=1) == y))


def _logit_accuracy(pred: Any, target: Any) -> float:
    return binary_accuracy(pred, target, threshold=0.0)
