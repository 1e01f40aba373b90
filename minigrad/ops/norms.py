"""``numpy.linalg.norm`` with every order NumPy takes, for vectors and for matrices.

Most orders are compositions of ops whose rules already make PyTorch's choices at the
kinks: |x| has gradient sign(x) (0 at 0); max and min share the gradient equally between
ties; ‖x‖₂ has gradient 0 at x = 0; the matrix 2-norm, nuclear norm and smallest singular
value come from the singular values (:mod:`.decompositions`). The general p-norm and the
count of non-zeros (ord 0) are ops of their own, written to match
``torch.linalg.vector_norm`` at zeros.

>>> import numpy as np
>>> import minigrad as mg
>>> x = mg.tensor([3.0, -4.0, 0.0], requires_grad=True)
>>> np.linalg.norm(x, 1).backward()  # sign(x), 0 at the kink
>>> x.grad
tensor([ 1., -1.,  0.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from minigrad.op import OUT, Op, ShapeError
from minigrad.ops.base import _integral, _shape
from minigrad.ops.decompositions import _svd_s
from minigrad.ops.elementwise import abs as absolute
from minigrad.ops.elementwise import cast, sign, where
from minigrad.ops.linalg import euclidean_norm
from minigrad.ops.reductions import _reduction, _unreduce
from minigrad.ops.reductions import max as largest
from minigrad.ops.reductions import min as smallest
from minigrad.ops.reductions import sum as total
from minigrad.ops.registry import public
from minigrad.ops.shape import broadcast_to, reshape, transpose


def _pnorm_forward(x: np.ndarray, p: Any, axis: Any, keepdims: bool) -> np.ndarray:
    powers = np.abs(x) ** p  # NumPy's own steps, so the values are NumPy's bits
    s = np.add.reduce(powers, axis=axis, keepdims=keepdims)
    return s ** np.reciprocal(p, dtype=s.dtype)


def _pnorm_grad(g: Any, out: Any, x: Any, p: Any, axis: Any, keepdims: Any) -> Any:
    # sign(xᵢ)|xᵢ|^(p−1) / ‖x‖^(p−1); as PyTorch, 0 where xᵢ = 0 and where ‖x‖ = 0 (the
    # masks test the values themselves, so elsewhere this is exact at every order)
    a = absolute(x)
    zero = a == 0
    part = where(zero, 0.0, sign(x) * where(zero, 1.0, a) ** (p - 1))
    n = _unreduce(out, x, axis)
    vanishes = n == 0
    scale = where(vanishes, 0.0, where(vanishes, 1.0, n) ** (1 - p))
    return _unreduce(g, x, axis) * part * scale


_pnorm = Op(
    "norm_p",
    _pnorm_forward,
    (_pnorm_grad, None, None, None),
    ("∂‖x‖ₚ/∂xᵢ = sign(xᵢ)|xᵢ|^(p−1)/‖x‖ₚ^(p−1)  (0 where xᵢ = 0 or ‖x‖ₚ = 0)",),
    saves=((0, OUT), (), (), ()),
)


def _nonzero_forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return (x != 0).astype(x.dtype).sum(axis=axis, keepdims=keepdims)


_count_nonzero = Op(
    "norm_0",
    _nonzero_forward,
    (
        lambda g, out, x, axis, keepdims: broadcast_to(
            where(True, 0, _unreduce(g, x, axis)), x.shape
        ),
        None,
        None,
    ),
    ("0: a count of non-zeros is piecewise constant (0 at its jumps too, as PyTorch)",),
    saves=((), (), ()),
)


def _vector_norm(x: Any, ord: Any, axis: tuple[int], keepdims: bool) -> Any:
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return euclidean_norm(x, axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == np.inf:
        return largest(absolute(x), axis, keepdims)
    if ord == -np.inf:
        return smallest(absolute(x), axis, keepdims)
    if ord == 0:
        return _reduction(_count_nonzero, x, axis, keepdims)
    if ord == 1:
        return total(absolute(x), axis, keepdims)
    return _pnorm(x, ord, axis, bool(keepdims))


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    row, col = axes
    ndim = len(_shape(x))
    if ord in (None, "fro", "f"):
        result = euclidean_norm(x, axes)
    elif ord in (2, -2, "nuc"):  # from the singular values of each (row, col) matrix
        others = tuple(i for i in range(ndim) if i not in axes)
        s = _svd_s(transpose(x, (*others, row, col)), None)
        result = largest(s, -1) if ord == 2 else smallest(s, -1) if ord == -2 else total(s, -1)
    elif ord in (1, -1):  # the largest (smallest) column sum of |x|
        sums = total(absolute(x), row)
        result = (largest if ord == 1 else smallest)(sums, col - 1 if col > row else col)
    elif ord in (np.inf, -np.inf):  # the largest (smallest) row sum of |x|
        sums = total(absolute(x), col)
        result = (largest if ord == np.inf else smallest)(sums, row - 1 if row > col else row)
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        kept = list(_shape(x))
        kept[row] = kept[col] = 1
        result = reshape(result, tuple(kept))
    return result


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` as a tuple of non-negative axes, in the order given (it matters for a
    matrix norm: rows, then columns)."""
    items = axis if isinstance(axis, tuple) else (axis,)
    try:
        axes = tuple(operator.index(a) for a in items)
    except TypeError as err:
        raise TypeError("'axis' must be None, an integer or a tuple of integers") from err
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"norm: axis {a} is out of range for a tensor with {ndim} dimensions")
    axes = tuple(a % ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError("Duplicate axes given.")
    return axes


@public(numpy=np.linalg.norm, linalg=True)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """NumPy's vector or matrix norm of order ``ord`` over ``axis`` (one axis: vectors,
    two: matrices; None: x's own, or all of x when ``ord`` is None).

    Vectors: None/2 (Euclidean), 1, ∞, −∞, 0 (the count of non-zeros), any other p
    (Σ|xᵢ|ᵖ)^(1/p). Matrices: 'fro', 'nuc', 1, −1, ∞, −∞, 2, −2. At kinks the gradient is
    PyTorch's: sign(0) = 0, ties share equally, 0 where a p-norm's term or value is 0.
    """
    shape = _shape(x)
    ndim = len(shape)
    if _integral(x):
        x = cast(x, np.float64)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and ndim == 2) or (ord == 2 and ndim == 1):
            return euclidean_norm(x, None, keepdims)
        axis = tuple(range(ndim))
    axes = _axes(axis, ndim)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")
