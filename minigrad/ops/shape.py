"""Shape ops: reshape, transpose, broadcast and sum back; views where NumPy makes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.op import Op, ShapeError
from minigrad.ops.base import Axis, _normalize_axis, _shape
from minigrad.ops.registry import public

# --- shape ------------------------------------------------------------------------------

reshape = Op(
    "reshape",
    np.reshape,
    (lambda g, out, x, shape: reshape(g, x.shape), None),
    ("the gradient is reshaped back",),
    saves=((), ()),
    view=True,
    source=lambda r, x, shape: f"{r.operand(x)}.reshape({r(tuple(shape))})",
)
public(reshape, numpy=np.reshape, signature="reshape")


def _inverse_axes(axes: Any, ndim: int) -> Any:
    return None if axes is None else tuple(np.argsort([a % ndim for a in axes]))


def _transpose_source(r: Any, x: Any, axes: Any) -> str:
    reverse = axes is None or tuple(axes) == tuple(range(len(axes)))[::-1]
    return f"{r.operand(x)}.T" if reverse else f"{r.operand(x)}.transpose({r(tuple(axes))})"


transpose = Op(
    "transpose",
    np.transpose,
    (lambda g, out, x, axes: transpose(g, _inverse_axes(axes, x.ndim)), None),
    ("the gradient is transposed back",),
    saves=((), ()),
    view=True,
    source=_transpose_source,
)
public(transpose, numpy=np.transpose, signature="transpose")


@public(numpy=np.swapaxes)
def swapaxes(x: Any, axis1: int = -1, axis2: int = -2) -> Any:
    """Exchange two axes (by default the last two, a batched matrix transpose)."""
    axes = list(range(len(_shape(x))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


@public(numpy=np.expand_dims, signature="expand_dims")
def expand_dims(x: Any, axis: int) -> Any:
    """Insert a size-1 axis at ``axis`` (PyTorch's ``unsqueeze``)."""
    shape = list(_shape(x))
    if not -len(shape) - 1 <= axis <= len(shape):
        raise ShapeError(f"expand_dims: axis {axis} is out of range for shape {tuple(shape)}")
    shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
    return reshape(x, tuple(shape))


unsqueeze = public(expand_dims, name="unsqueeze")


@public(numpy=np.squeeze, signature="squeeze")
def squeeze(x: Any, axis: Axis = None) -> Any:
    """Drop size-1 axes (all of them, or those in ``axis``; others are left, as in PyTorch)."""
    shape = _shape(x)
    axes = range(len(shape)) if axis is None else _normalize_axis(axis, len(shape))
    drop = {a for a in axes if a < len(shape) and shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in drop))


@public
def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """Merge axes ``start_dim`` … ``end_dim`` into one (PyTorch's ``flatten``); a 0-d
    tensor counts as one axis of length 1."""
    shape = _shape(x) or (1,)
    ends = []
    for name, axis in (("start_dim", start_dim), ("end_dim", end_dim)):
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"flatten: {name} must be an integer, got {axis!r}")
        if not -len(shape) <= axis < len(shape):
            raise ShapeError(
                f"flatten: {name}={axis} is out of range for an input with {len(shape)} "
                f"dimension(s) (expected {-len(shape)} … {len(shape) - 1})"
            )
        ends.append(int(axis) % len(shape))
    start, end = ends
    if start > end:
        raise ShapeError(
            f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for an input of "
            f"shape {_shape(x)}"
        )
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(x, (*shape[:start], merged, *shape[end + 1 :]))


def sum_to_shape(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` over the axes broadcasting added or stretched, giving ``shape``.

    Written with methods that ndarrays and Tensors share, so the engine can call it
    directly on arrays (the common case) without going through an op.
    """
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    return x.reshape(shape)


def _broadcast_view(x: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to``'s read-only view, built directly with zero strides.

    NumPy's own function spends ~4 µs of Python per call, more than the arithmetic of a
    small backward pass; every reduction's gradient goes through here.
    """
    x = np.asarray(x)
    lead = len(shape) - x.ndim
    if lead < 0 or not x.flags.c_contiguous:
        return np.broadcast_to(x, shape)  # NumPy validates and explains
    strides = [0] * lead
    for n, m, stride in zip(x.shape, shape[lead:], x.strides, strict=True):
        if n != m and n != 1:
            return np.broadcast_to(x, shape)
        strides.append(stride if n == m else 0)
    view = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    view.flags.writeable = False
    return view


broadcast_to = Op(
    "broadcast_to",
    _broadcast_view,
    (lambda g, out, x, shape: sum_to(g, x.shape), None),
    ("the gradient is summed over the broadcast axes",),
    saves=((), ()),
    view=True,
    source="np.broadcast_to({0}, {1})",
)
public(broadcast_to, numpy=np.broadcast_to, signature="broadcast_to")


def _sum_to_source(r: Any, x: Any, shape: Any) -> str:
    """sum_to as the sum it is, its axes worked out from the known shapes."""
    shape = tuple(shape)
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if shape == ():
        return f"{r.operand(x)}.sum()"
    if tuple(n for i, n in enumerate(x.shape) if i not in axes) == shape:
        return f"{r.operand(x)}.sum(axis={axes if len(axes) > 1 else axes[0]!r})"
    summed = f"{r.operand(x)}.sum(axis={axes!r}, keepdims=True)" if axes else r(x)
    return f"{summed}.reshape({shape!r})"


sum_to = Op(
    "sum_to",
    sum_to_shape,
    (lambda g, out, x, shape: broadcast_to(g, x.shape), None),
    ("the gradient is broadcast back",),
    saves=((), ()),
    view=lambda x, shape: tuple(x.shape) == tuple(shape),  # nothing summed: a reshape,
    source=_sum_to_source,
)
