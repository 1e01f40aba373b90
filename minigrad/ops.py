"""Every differentiable primitive: a forward on arrays and one gradient rule per input.

Each rule is a vector-Jacobian product written in ordinary arithmetic. ``g`` is the
gradient of the loss with respect to the op's output ``out``; the rule returns the
gradient with respect to one input. Broadcasting is not the rules' business: the engine
sums every result back to its input's shape.

The functions defined here work on ndarrays *and* on Tensors: given no Tensor they just
compute (returning an ndarray), given a Tensor they also record. Rules use them
(``where``, ``reshape``, ``broadcast_to``, ...) for whatever operators cannot say, which
is why one rule serves an ordinary backward (on arrays) and a recorded one (on Tensors,
for gradients of gradients).
"""

from __future__ import annotations

import builtins
import functools
from typing import Any

import numpy as np

from minigrad.autograd import EveryInput, Op, ShapeError
from minigrad.tensor import Tensor

Axis = int | tuple[int, ...] | None

# --- arithmetic -------------------------------------------------------------------------

add = Op(
    "add",
    np.add,
    (lambda g, out, a, b: g, lambda g, out, a, b: g),
    ("∂(a+b)/∂a = 1", "∂(a+b)/∂b = 1"),
)
sub = Op(
    "sub",
    np.subtract,
    (lambda g, out, a, b: g, lambda g, out, a, b: -g),
    ("∂(a−b)/∂a = 1", "∂(a−b)/∂b = −1"),
)
mul = Op(
    "mul",
    np.multiply,
    (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
    ("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"),
)
div = Op(
    "div",
    np.divide,
    (lambda g, out, a, b: g / b, lambda g, out, a, b: -g * out / b),
    ("∂(a/b)/∂a = 1/b", "∂(a/b)/∂b = −a/b² = −out/b"),
)
neg = Op("neg", np.negative, (lambda g, out, x: -g,), ("∂(−x)/∂x = −1",))


def _log_base(a: Any) -> Any:
    """log(a) where a > 0, else 0: the base's derivative term when a ≤ 0 (a^b = 0 or nan)."""
    return log(where(a > 0, a, 1.0))


pow = Op(
    "pow",
    np.power,
    (
        # at b = 0 the exponent is taken as 0, so 0 · 0⁻¹ never makes a nan (x⁰ ≡ 1)
        lambda g, out, a, b: g * b * a ** (b - 1 + (b == 0)),
        lambda g, out, a, b: g * out * _log_base(a),
    ),
    ("∂(aᵇ)/∂a = b·aᵇ⁻¹", "∂(aᵇ)/∂b = aᵇ·ln a  (taken as 0 where a ≤ 0)"),
)


def _matmul_grad_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # (..., k) @ (k,) -> (...): the gradient is an outer product
        return expand_dims(g, -1) * b
    if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n); the engine sums the batch away
        return reshape(matmul(expand_dims(g, -2), swapaxes(b)), (*g.shape[:-1], b.shape[-2]))
    return matmul(g, swapaxes(b))


def _matmul_grad_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        if b.ndim == 1:  # dot product
            return g * a
        return expand_dims(a, -1) * expand_dims(g, -2)  # (k, 1) * (..., 1, n)
    if b.ndim == 1:  # (..., m, k) @ (k,): Aᵀg without materialising an (m, k) array
        return reshape(matmul(swapaxes(a), expand_dims(g, -1)), (*a.shape[:-2], a.shape[-1]))
    return matmul(swapaxes(a), g)


matmul = Op(
    "matmul",
    np.matmul,
    (_matmul_grad_a, _matmul_grad_b),
    ("∂(A@B)/∂A: g @ Bᵀ", "∂(A@B)/∂B: Aᵀ @ g"),
)


def _linear_forward(x: Any, weight: Any, bias: Any) -> Any:
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias  # in place: the matmul result is fresh, and this saves a full copy
    return out


def _linear_grad_x(g: Any, out: Any, x: Any, weight: Any, bias: Any) -> Any:
    if weight.ndim == 1:  # one output: out = x·w, so ∂/∂x is the outer product g wᵀ
        return g.reshape((*g.shape, 1)) * weight
    return g @ weight


def _linear_grad_weight(g: Any, out: Any, x: Any, weight: Any, bias: Any) -> Any:
    if x.ndim == 1:  # a single example: the outer product g xᵀ (or g·x for a 1-D weight)
        return g * x if weight.ndim == 1 else g.reshape((*g.shape, 1)) * x
    if x.ndim == 2:
        return x.T @ g if weight.ndim == 1 else g.T @ x  # Xᵀg: one BLAS call
    if weight.ndim == 1:  # batches of batches: the engine sums the leading axes
        return (swapaxes(x) @ g.reshape((*g.shape, 1))).reshape((*x.shape[:-2], x.shape[-1]))
    return swapaxes(g) @ x


linear = Op(
    "linear",
    _linear_forward,
    (_linear_grad_x, _linear_grad_weight, lambda g, out, x, weight, bias: g),
    ("∂(xWᵀ+b)/∂x: g @ W", "∂(xWᵀ+b)/∂W: gᵀ @ x", "∂(xWᵀ+b)/∂b: Σ over examples of g"),
)
"""x @ weightᵀ + bias in one op (PyTorch's F.linear): one output array instead of two,
which halves the graph's memory for a large batch. weight is (out_features, in_features),
or (in_features,) for a single output without an output axis; bias may be None."""


# --- elementwise functions --------------------------------------------------------------


def _safe_div(num: Any, den: Any) -> Any:
    """num / den, with 0 wherever num is 0 (so 0/0 gives 0, not nan)."""
    zero = num == 0
    return where(zero, 0.0, num / where(zero, 1.0, den))


exp = Op("exp", np.exp, (lambda g, out, x: g * out,), ("∂eˣ/∂x = eˣ = out",))
log = Op("log", np.log, (lambda g, out, x: g / x,), ("∂ln x/∂x = 1/x",))
sqrt = Op(
    "sqrt",
    np.sqrt,
    (lambda g, out, x: _safe_div(g, 2 * out),),
    ("∂√x/∂x = 1/(2√x)  (0 where the upstream gradient is 0, even at x = 0)",),
)
abs = Op("abs", np.abs, (lambda g, out, x: g * sign(x),), ("∂|x|/∂x = sign(x)  (0 at x = 0)",))
tanh = Op("tanh", np.tanh, (lambda g, out, x: g * (1 - out * out),), ("∂tanh x/∂x = 1 − out²",))
sigmoid = Op(
    "sigmoid",
    lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),  # = 1/(1+e⁻ˣ), without overflow for any x
    (lambda g, out, x: g * out * (1 - out),),
    ("∂σ(x)/∂x = σ(x)(1 − σ(x))",),
)
relu = Op(
    "relu",
    lambda x: np.maximum(x, 0),
    (lambda g, out, x: g * (x > 0),),
    ("∂relu(x)/∂x = 1 if x > 0 else 0  (0 at x = 0)",),
)


def _inside(x: Any, lo: Any, hi: Any) -> Any:
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) * (x <= hi)


_clip = Op(
    "clip",
    np.clip,
    (lambda g, out, x, lo, hi: g * _inside(x, lo, hi), None, None),
    ("1 where lo ≤ x ≤ hi, else 0", "a bound: no gradient", "a bound: no gradient"),
)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """Limit values to [lo, hi]; the gradient passes where lo ≤ x ≤ hi (inclusive)."""
    if lo is None and hi is None:
        raise ValueError("clip needs at least one of lo, hi")
    return _clip(x, lo, hi)


def _tie_share(x: Any, y: Any) -> Any:
    """1 where x > y, ½ where x == y, 0 where x < y: ties share the gradient equally."""
    return (x > y) + 0.5 * (x == y)


maximum = Op(
    "maximum",
    np.maximum,
    (
        lambda g, out, a, b: g * _tie_share(a, b),
        lambda g, out, a, b: g * _tie_share(b, a),
    ),
    ("1 where a > b (½ at ties)", "1 where b > a (½ at ties)"),
)
minimum = Op(
    "minimum",
    np.minimum,
    (
        lambda g, out, a, b: g * _tie_share(b, a),
        lambda g, out, a, b: g * _tie_share(a, b),
    ),
    ("1 where a < b (½ at ties)", "1 where b < a (½ at ties)"),
)


def _bool_data(cond: Any) -> Any:
    return cond.data if isinstance(cond, Tensor) else cond


_where = Op(
    "where",
    np.where,
    (
        None,
        lambda g, out, cond, a, b: where(cond, g, 0.0),
        lambda g, out, cond, a, b: where(cond, 0.0, g),
    ),
    ("the condition has no gradient", "g where cond, else 0", "g where not cond, else 0"),
)


def where(cond: Any, a: Any, b: Any) -> Any:
    """Elementwise ``a if cond else b``; the condition carries no gradient."""
    return _where(_bool_data(cond), a, b)


def sign(x: Any) -> Any:
    """Elementwise sign (−1, 0 or 1); not differentiable, so never recorded."""
    if isinstance(x, Tensor):
        return Tensor(np.sign(x.data))
    return np.sign(x)


def compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    """A comparison as a boolean tensor without a graph (comparisons have no gradient)."""
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    try:
        return Tensor._make(np.asarray(ufunc(a_data, b_data)), False, None, ())
    except ValueError as err:
        raise ShapeError(
            f"{ufunc.__name__}: incompatible shapes {np.shape(a_data)} and "
            f"{np.shape(b_data)} ({err})"
        ) from None


# --- reductions -------------------------------------------------------------------------


def _normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ShapeError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        normalized.append(int(a) % builtins.max(ndim, 1))
    return tuple(sorted(set(normalized)))


def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction with keepdims=True: reduced axes become 1."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _unreduce(g: Any, x: Any, axis: Any) -> Any:
    """Give a reduction's upstream gradient back its reduced axes (as size 1)."""
    return g.reshape(_kept_shape(x.shape, axis))  # a method both ndarray and Tensor have


def _count(x: Any, axis: Any) -> int:
    if axis is None:
        return x.size
    return int(np.prod([x.shape[a] for a in axis]))


_sum = Op(
    "sum",
    lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    (lambda g, out, x, axis, keepdims: broadcast_to(_unreduce(g, x, axis), x.shape), None, None),
    ("∂(Σx)/∂xᵢ = 1",),
)
_mean = Op(
    "mean",
    lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
    (
        lambda g, out, x, axis, keepdims: broadcast_to(
            _unreduce(g, x, axis) / _count(x, axis), x.shape
        ),
        None,
        None,
    ),
    ("∂(mean x)/∂xᵢ = 1/n",),
)


def _extremum_grad(g: Any, out: Any, x: Any, axis: Any, keepdims: Any) -> Any:
    hit = x == _unreduce(out, x, axis)  # every position that attains the extremum
    hit = where(hit, 1.0, 0.0)
    return hit * _unreduce(g, x, axis) / hit.sum(axis=axis, keepdims=True)


_max = Op(
    "max",
    lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
    (_extremum_grad, None, None),
    ("1/k at each of the k positions holding the maximum, else 0",),
)
_min = Op(
    "min",
    lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
    (_extremum_grad, None, None),
    ("1/k at each of the k positions holding the minimum, else 0",),
)


def _reduction(op: Op, x: Any, axis: Axis, keepdims: bool) -> Any:
    ndim = x.ndim if hasattr(x, "ndim") else np.ndim(x)
    if op in (_max, _min) and np.size(x.data if isinstance(x, Tensor) else x) == 0:
        raise ValueError(f"{op.name} of an empty tensor")
    return op(x, _normalize_axis(axis, ndim), bool(keepdims))


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Σ over ``axis`` (all axes when None)."""
    return _reduction(_sum, x, axis, keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Mean over ``axis`` (all axes when None)."""
    return _reduction(_mean, x, axis, keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return _reduction(_max, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Minimum over ``axis``; tied minima share the gradient equally."""
    return _reduction(_min, x, axis, keepdims)


# --- shape ------------------------------------------------------------------------------

reshape = Op(
    "reshape",
    np.reshape,
    (lambda g, out, x, shape: reshape(g, x.shape), None),
    ("the gradient is reshaped back",),
)


def _inverse_axes(axes: Any, ndim: int) -> Any:
    return None if axes is None else tuple(np.argsort([a % ndim for a in axes]))


transpose = Op(
    "transpose",
    np.transpose,
    (lambda g, out, x, axes: transpose(g, _inverse_axes(axes, x.ndim)), None),
    ("the gradient is transposed back",),
)


def swapaxes(x: Any, a: int = -1, b: int = -2) -> Any:
    """Exchange two axes (by default the last two, a batched matrix transpose)."""
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, tuple(axes))


def expand_dims(x: Any, axis: int) -> Any:
    """Insert a size-1 axis at ``axis``."""
    shape = list(x.shape)
    shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
    return reshape(x, tuple(shape))


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
)
sum_to = Op(
    "sum_to",
    sum_to_shape,
    (lambda g, out, x, shape: broadcast_to(g, x.shape), None),
    ("the gradient is broadcast back",),
)

astype = Op(
    "astype",
    lambda x, dtype: x.astype(dtype, copy=False),
    (lambda g, out, x, dtype: astype(g, x.dtype), None),
    ("the gradient is cast back to the input's dtype",),
)
"""Cast to another float dtype; the gradient is cast back (float32 stays float32)."""

# --- indexing and joining ---------------------------------------------------------------


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        isinstance(i, int | slice | np.integer) or i is None or i is Ellipsis for i in items
    )


def _scatter_add_forward(g: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.result_type(g, np.float32))
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated indices accumulate
    return out


scatter_add = Op(
    "scatter_add",
    _scatter_add_forward,
    (lambda g, out, x, index, shape: _getitem(g, index), None, None),
    ("the gradient is gathered back",),
)
_getitem = Op(
    "getitem",
    lambda x, index: x[index],
    (lambda g, out, x, index: scatter_add(g, index, x.shape), None),
    ("1 at each selected position (repeats add up)",),
)


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` with slices, integers, and integer or boolean arrays (or Tensors)."""
    if isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        return _getitem(x, index)
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} on shape {np.shape(x)}: {err}") from None


def _concat_grad(i: int, g: Any, out: Any, axis: int, *xs: Any) -> Any:
    axis = axis % g.ndim
    start = builtins.sum(x.shape[axis] for x in xs[: i - 1])
    index = (slice(None),) * axis + (slice(start, start + xs[i - 1].shape[axis]),)
    return g[index]


def _stack_grad(i: int, g: Any, out: Any, axis: int, *xs: Any) -> Any:
    return g[(slice(None),) * (axis % g.ndim) + (i - 1,)]


_concatenate = Op(
    "concatenate",
    lambda axis, *xs: np.concatenate(xs, axis=axis),
    EveryInput(_concat_grad),
    ("each input gets its slice of the gradient",),
)
_stack = Op(
    "stack",
    lambda axis, *xs: np.stack(xs, axis=axis),
    EveryInput(_stack_grad),
    ("each input gets its slice of the gradient",),
)


def concatenate(tensors: Any, axis: int = 0) -> Any:
    """Join tensors along an existing axis."""
    if len(tensors) == 0:
        raise ValueError("concatenate needs at least one tensor")
    return _concatenate(axis, *tensors)


def stack(tensors: Any, axis: int = 0) -> Any:
    """Join tensors along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack needs at least one tensor")
    return _stack(axis, *tensors)


# --- NumPy protocol tables (np.exp(t), ndarray * t, np.sum(t) ...) ----------------------

UFUNCS = {
    np.add: add,
    np.subtract: sub,
    np.multiply: mul,
    np.true_divide: div,
    np.negative: neg,
    np.power: pow,
    np.matmul: matmul,
    np.exp: exp,
    np.log: log,
    np.sqrt: sqrt,
    np.absolute: abs,
    np.tanh: tanh,
    np.maximum: maximum,
    np.minimum: minimum,
    np.sign: sign,
    **{
        u: functools.partial(compare, u)
        for u in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal)
    },
}
FUNCTIONS = {
    np.sum: sum,
    np.mean: mean,
    np.max: max,
    np.min: min,
    np.reshape: lambda x, shape: reshape(x, shape if isinstance(shape, tuple) else (shape,)),
    np.transpose: lambda x, axes=None: transpose(x, axes),
    np.where: where,
    np.clip: clip,
    np.broadcast_to: lambda x, shape: broadcast_to(x, tuple(shape)),
    np.concatenate: concatenate,
    np.stack: stack,
    np.swapaxes: swapaxes,
    np.expand_dims: expand_dims,
}
