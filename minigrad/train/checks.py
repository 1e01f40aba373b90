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


def _check_finite(
    name: str, values: Any, chunk: int = 65_536, columns: list[str] | None = None
) -> None:
    """ValueError naming the first non-finite cell (its column by name, a DataFrame's);
    reads ``values`` a chunk at a time, so a memory-mapped X larger than memory is
    checked without loading it whole."""
    for start in range(0, len(values), chunk):
        block = np.asarray(values[start : start + chunk])
        bad = ~np.isfinite(block)
        if bad.any():
            index = np.argwhere(bad)[0]
            where = f"row {start + index[0]}"
            if block.ndim > 1:
                named = columns is not None and len(columns) == block.shape[1]
                where += f", column {columns[index[1]]!r}" if named else f", column {index[1]}"
            raise ValueError(f"{name} has a non-finite value ({block[tuple(index)]}) at {where}")


def _column_names(value: Any) -> list[str] | None:
    """A DataFrame's column names (pandas, polars: anything with ``columns``), else None."""
    columns = getattr(value, "columns", None)
    return None if columns is None else [str(c) for c in columns]


def _as_array(name: str, value: Any) -> Any:
    """``value`` as an array with examples along axis 0, refusing what a loss cannot read.

    An ndarray (a memmap too) or any other array object with ``shape`` and indexing (an
    h5py or zarr array) is kept as it is, so it is read a batch at a time; a Tensor gives
    its data; a pandas DataFrame or Series (anything with ``to_numpy``) its values, rows
    by position whatever its index; anything else goes through ``np.asarray``. Strings,
    dates and other non-numbers are refused, naming the column (or the value).
    """
    columns = _column_names(value)
    if columns is None and hasattr(value, "to_numpy") and getattr(value, "name", None) is not None:
        columns = [str(value.name)]  # a pandas Series: its name is its column's
    if isinstance(value, Tensor):
        value = value.data
    elif hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = np.ascontiguousarray(value.to_numpy())  # rows: C order (frames are by column)
    elif not (
        hasattr(value, "shape") and hasattr(value, "__getitem__") and hasattr(value, "dtype")
    ):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{name} must be array-like (an ndarray, a list of rows, a pandas DataFrame), "
                f"got {type(value).__name__}: {error}"
            ) from None
    kind = np.dtype(value.dtype).kind
    if kind not in "biuf":
        raise TypeError(_not_numbers(name, value, columns))
    return value


def _not_numbers(name: str, value: Any, columns: list[str] | None) -> str:
    array = np.asarray(value)
    if array.ndim == 2 and columns is not None and len(columns) == array.shape[1]:
        bad = [
            c for k, c in enumerate(columns) if not _numeric(array[:, k])
        ]  # a DataFrame of mixed columns became objects: name the ones that are not numbers
        if bad:
            return (
                f"{name} has non-numeric column(s) {', '.join(map(repr, bad))}: training needs "
                f"numbers; drop them (X.drop(columns={bad!r})) or encode them "
                "(pandas.get_dummies)"
            )
    sample = next((v for v in array.ravel()[:1000] if not _is_number(v)), array.ravel()[0])
    sample = sample.item() if isinstance(sample, np.generic) else sample
    label = f" (column {columns[0]!r})" if columns is not None and len(columns) == 1 else ""
    label = label or (
        f" ({getattr(value, 'name', None)!r})" if getattr(value, "name", None) else ""
    )
    if name == "y":
        return (
            f"y{label} holds {type(sample).__name__} values such as {sample!r}, not numbers: "
            f"encode the labels as numbers, e.g. y = (y == {sample!r}).astype(int) for two "
            "classes, or class indices: y = np.unique(y, return_inverse=True)[1]"
        )
    return f"{name}{label} holds {type(sample).__name__} values such as {sample!r}, not numbers"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, np.datetime64)


def _numeric(column: np.ndarray) -> bool:
    return column.dtype.kind in "biuf" or all(_is_number(v) for v in column)


def _check_data(model: Module, X: Any, y: Any) -> tuple[Any, Any]:
    columns = _column_names(X)
    X, y = _as_array("X", X), _as_array("y", y)
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
            f"X of shape {X.shape} has {X.shape[1]} features (columns) but the model "
            f"expects {in_features}"
        )
    _check_finite("X", X, columns=columns)
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
    """What the model outputs for one example (the shape of its output for X's first row).

    A model that cannot take X's rows is refused naming X's shape, not that of the one
    row it was tried on.
    """
    with _evaluating(model):
        try:
            return model(Tensor(np.asarray(X[:1]))).shape[1:]
        except ShapeError as error:
            raise ShapeError(
                f"the model cannot take X of shape {tuple(X.shape)} ({X.shape[1]} features "
                f"per example; tried on the first row: {error})"
            ) from None
