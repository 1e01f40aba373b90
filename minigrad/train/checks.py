"""What fit and evaluate check before a run: the data's shapes and values, the targets
against the loss and the model's output, and the model's train/eval modes kept."""

from __future__ import annotations

import math
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


def _outputs(shape: tuple[int, ...]) -> str:
    """'3 values per example (output shape (N, 3))', for error messages."""
    n = math.prod(shape)
    return f"{n} value{'s' * (n != 1)} per example (output shape {('N', *shape)})".replace(
        "'N'", "N"
    )


def _prepare_targets(loss: str, y: Any, out: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """y checked against the loss and the model's output ``out`` (one example's shape):
    ``(targets, class_indices)``. Class indices (cross_entropy) become int64, everything
    else float64."""
    y = np.asarray(y)
    if loss == "cross_entropy":
        if len(out) != 1 or out[0] < 2:
            raise ShapeError(
                f"cross_entropy needs one output per class, shape (N, C) with C ≥ 2, but the "
                f"model outputs {_outputs(out)}; for two classes and one output use "
                "bce_with_logits"
            )
        if y.ndim == 1:
            return _class_indices(y, out[0]), True
        if y.shape[1:] != out:
            raise ShapeError(
                f"cross_entropy needs y of class indices, shape (N,), or class probabilities "
                f"of shape (N, {out[0]}); got y of shape {y.shape}"
            )
        _check_unit_interval(loss, y, "class probabilities")
        return y.astype(np.float64, copy=False), False
    per_example = math.prod(y.shape[1:])
    if per_example != math.prod(out):
        hint = ""
        if loss in ("bce", "bce_with_logits") and per_example == 1:
            hint = f"; for {math.prod(out)} classes use cross_entropy with class indices"
        raise ShapeError(
            f"{loss}: the model outputs {_outputs(out)} but y has {per_example} per example "
            f"(y shape {y.shape}); they must match{hint}"
        )
    if loss in ("bce", "bce_with_logits"):
        _check_unit_interval(loss, y, "targets (0/1 labels or probabilities)")
    return y.astype(np.float64, copy=False), False


def _class_indices(y: np.ndarray, n_classes: int) -> np.ndarray:
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        row = int(np.flatnonzero(y != np.round(y))[0])
        raise ValueError(
            f"cross_entropy needs integer class indices in y; row {row} holds {y[row].item()!r}"
        )
    if y.dtype.kind not in "iuf" and y.dtype != bool:
        raise TypeError(f"cross_entropy needs integer class indices in y, got dtype {y.dtype}")
    labels = y.astype(np.int64)
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"y row {row} is class {labels[row]}, but the model outputs {n_classes} classes "
            f"(indices 0 … {n_classes - 1})"
        )
    return labels


def _check_unit_interval(loss: str, y: np.ndarray, what: str) -> None:
    bad = ~((y >= 0) & (y <= 1))
    if bad.any():
        index = np.argwhere(bad)[0]
        raise ValueError(
            f"{loss} needs {what} in [0, 1]; y row {index[0]} holds {y[tuple(index)].item()!r}"
        )
