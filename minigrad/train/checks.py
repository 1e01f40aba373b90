"""What fit and evaluate check before a run: the data's shapes and values, and the
model's train/eval modes kept (the targets are checked as their loss declares:
:class:`minigrad.losses.LossSpec`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.nn import Module
from minigrad.op import ShapeError
from minigrad.tensor import Tensor


def _check_finite(name: str, values: Any, chunk: int = 65_536) -> None:
    """ValueError naming the first non-finite cell; reads ``values`` a chunk at a time,
    so a memory-mapped X larger than memory is checked without loading it whole."""
    for start in range(0, len(values), chunk):
        block = np.asarray(values[start : start + chunk])
        bad = ~np.isfinite(block)
        if bad.any():
            index = np.argwhere(bad)[0]
            where = f"row {start + index[0]}" + (f", column {index[1]}" if block.ndim > 1 else "")
            raise ValueError(f"{name} has a non-finite value ({block[tuple(index)]}) at {where}")


def _check_data(model: Module, X: Any, y: Any) -> tuple[Any, Any]:
    if not hasattr(X, "shape") or not hasattr(X, "__getitem__"):
        X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64) if not hasattr(y, "shape") else y
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if X.ndim != 2 or y.ndim not in (1, 2):
        raise ShapeError(
            f"fit needs X of shape (N, d) and y of shape (N,) or (N, k); got "
            f"X {X.shape} and y {y.shape}"
        )
    if len(X) == 0:
        raise ValueError("fit got no examples (X is empty)")
    if len(X) != len(y):
        raise ShapeError(f"X has {len(X)} rows but y has {len(y)}")
    in_features = getattr(model, "in_features", None)
    if in_features is not None and X.shape[1] != in_features:
        raise ShapeError(
            f"X has {X.shape[1]} features (columns) but the model expects {in_features}"
        )
    _check_finite("X", X)
    _check_finite("y", y)
    return X, y


@contextmanager
def _modes_kept(model: Module) -> Iterator[None]:
    """Every module's own train/eval mode is restored on the way out."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


@contextmanager
def _evaluating(model: Module) -> Iterator[None]:
    """``model.eval()`` and ``no_grad()`` inside; every module's own mode restored after."""
    with _modes_kept(model), no_grad():
        model.eval()
        yield


def _output_shape(model: Module, X: Any) -> tuple[int, ...]:
    """What the model outputs for one example (the shape of its output for X's first row)."""
    with _evaluating(model):
        return model(Tensor(np.asarray(X[:1]))).shape[1:]
