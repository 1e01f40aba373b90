"""Composites: NumPy's other common functions, written with the ops above (their
gradients come from those ops' rules, so they are exact at every order)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.ops.base import Axis, _float_of, _normalize_axis, _shape
from minigrad.ops.indexing import concatenate
from minigrad.ops.linalg import norm
from minigrad.ops.reductions import _count, _kept_shape, mean, sum
from minigrad.ops.shape import reshape, transpose


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Π over ``axis``, as a balanced tree of multiplications (log₂ n recorded muls).

    So its gradient comes from mul's rule: exact at every order, zeros included (a
    division out/xᵢ would give nan at a zero).
    """
    shape = _shape(x)
    axes = _normalize_axis(axis, len(shape))
    axes = tuple(range(len(shape))) if axes is None else axes
    kept = [i for i in range(len(shape)) if i not in axes]
    y = reshape(transpose(x, (*kept, *axes)), (*[shape[i] for i in kept], -1))
    n = _shape(y)[-1]
    if n == 0:  # the empty product is 1, and depends on nothing
        y = sum(y, axis=-1, keepdims=True) * 0 + 1
    while n > 1:
        if n % 2:  # pad with a 1 so the halves match
            ones = np.ones((*_shape(y)[:-1], 1), dtype=_float_of(y))
            y, n = concatenate([y, ones], axis=-1), n + 1
        n //= 2
        y = y[..., :n] * y[..., n:]
    out_shape = _kept_shape(shape, axes) if keepdims else tuple(shape[i] for i in kept)
    return reshape(y, out_shape)


def var(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Variance Σ(x − mean)²/(n − ddof) over ``axis`` (NumPy's default ddof = 0)."""
    shape = _shape(x)
    n = _count(np.empty(shape), _normalize_axis(axis, len(shape)))
    r = x - mean(x, axis, keepdims=True)
    return sum(r * r, axis, keepdims) / builtins.max(n - ddof, 0)


def std(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Standard deviation ‖x − mean‖/√(n − ddof); its gradient is 0 where all values are
    equal (as for |x| at 0), not the nan of √ at 0."""
    shape = _shape(x)
    n = _count(np.empty(shape), _normalize_axis(axis, len(shape)))
    return norm(x - mean(x, axis, keepdims=True), axis, keepdims) / float(n - ddof) ** 0.5
