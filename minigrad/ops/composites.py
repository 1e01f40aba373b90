"""Composites: NumPy's other common functions, written with the ops above (their
gradients come from those ops' rules, so they are exact at every order)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.ops.base import Axis, _float_of, _normalize_axis, _shape
from minigrad.ops.indexing import concatenate
from minigrad.ops.linalg import euclidean_norm, matmul
from minigrad.ops.reductions import _count, _kept_shape, mean, sum
from minigrad.ops.registry import public
from minigrad.ops.shape import reshape, transpose
from minigrad.tensor import Tensor


@public(numpy=np.prod, signature="reduction")
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


@public(numpy=np.var, signature="variance")
def var(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Variance Σ(x − mean)²/(n − ddof) over ``axis`` (NumPy's default ddof = 0)."""
    shape = _shape(x)
    n = _count(np.empty(shape), _normalize_axis(axis, len(shape)))
    r = x - mean(x, axis, keepdims=True)
    return sum(r * r, axis, keepdims) / builtins.max(n - ddof, 0)


@public(numpy=np.std, signature="variance")
def std(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Standard deviation ‖x − mean‖/√(n − ddof); its gradient is 0 where all values are
    equal (as for |x| at 0), not the nan of √ at 0."""
    shape = _shape(x)
    n = _count(np.empty(shape), _normalize_axis(axis, len(shape)))
    # NumPy's divisor max(n − ddof, 0): with ddof ≥ n, inf (nan for equal values), never
    # the complex root of a negative number
    spread = euclidean_norm(x - mean(x, axis, keepdims=True), axis, keepdims)
    return spread / builtins.max(n - ddof, 0) ** 0.5


@public(numpy=np.square)
def square(x: Any) -> Any:
    """x² as x·x: its gradient, x + x, is exact."""
    return x * x


@public(numpy=np.positive)
def positive(x: Any) -> Any:
    """+x: x itself (NumPy's np.positive)."""
    return x


@public(numpy=np.dot, signature="dot")
def dot(a: Any, b: Any) -> Any:
    """NumPy's dot: a product for a scalar, else a matrix product (a second argument of
    more than two dimensions is refused: use @ or einsum, whose meaning is clear)."""
    if len(_shape(a)) == 0 or len(_shape(b)) == 0:
        return a * b
    if len(_shape(b)) > 2:
        raise TypeError("dot: a second argument with more than 2 dimensions (use @ or mg.einsum)")
    return matmul(a, b)


@public(numpy=np.outer)
def outer(a: Any, b: Any) -> Any:
    """aᵢ·bⱼ for the flattened a and b."""
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def _stacker(name: str, ndmin: int, axis_of: Any) -> Any:
    def join(tup: Any) -> Any:
        xs = [x if isinstance(x, Tensor) else np.asarray(x) for x in tup]
        xs = [reshape(x, (1,) * (ndmin - x.ndim) + x.shape) if x.ndim < ndmin else x for x in xs]
        return concatenate(xs, axis=axis_of(xs))

    join.__name__ = name
    join.__doc__ = f"NumPy's {name}: the arrays joined along axis {'1' if ndmin == 1 else '0'}."
    return join


hstack = public(
    _stacker("hstack", 1, lambda xs: 0 if all(x.ndim == 1 for x in xs) else 1),
    numpy=np.hstack,
    signature="join",
)
vstack = public(_stacker("vstack", 2, lambda xs: 0), numpy=np.vstack, signature="join")
