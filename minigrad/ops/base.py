"""What every ops module shares: the axis type, shapes, dtypes, and the no-gradient ops.

The helpers read only shapes and dtypes (static facts: safe while ``mg.jit`` traces).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.op import Op, ShapeError
from minigrad.tensor import Tensor

Axis = int | tuple[int, ...] | None


def _shape(x: Any) -> tuple[int, ...]:
    """The shape of a Tensor, array or array-like (shapes are static: safe to read while
    tracing, unlike values)."""
    return x.shape if isinstance(x, Tensor | np.ndarray) else np.shape(x)


def _no_gradient(name: str, forward: Any, n_inputs: int, **facts: Any) -> Op:
    return Op(name, forward, (None,) * n_inputs, ("no gradient",) * n_inputs, saves=(), **facts)


def _float_of(*xs: Any) -> np.dtype:
    """The float dtype arithmetic on ``xs`` gives (Python numbers are weak, as in NumPy)."""
    return np.result_type(*(x.dtype if isinstance(x, Tensor | np.ndarray) else x for x in xs))


def _integral(x: Any) -> bool:
    """Whether x (an array, Tensor, compiled value or number) holds integers."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind in "iub"
    return isinstance(x, int | np.integer)


def _normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative axes (None: all axes).

    As in PyTorch, a 0-d tensor accepts axis 0 or −1, which reduces nothing.
    """
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    normalized = []
    for a in axes:
        if not isinstance(a, int | np.integer) or isinstance(a, bool):
            raise TypeError(f"an axis must be an integer, got {a!r}")
        if not -ndim <= a < builtins.max(ndim, 1) and not (ndim == 0 and a == -1):
            raise ShapeError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        normalized.append(int(a) % builtins.max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"axis {axis!r} names the same axis more than once")
    return () if ndim == 0 else tuple(sorted(normalized))
