"""Every differentiable primitive: a forward on arrays and one gradient rule per input.

Each rule is a vector-Jacobian product written in ordinary arithmetic. ``g`` is the
gradient of the loss with respect to the op's output ``out``; the rule returns the
gradient with respect to one input. Broadcasting is not the rules' business: the engine
sums every result back to its input's shape. ``saves`` lists, per rule, the values it
reads (input positions, ``OUT`` for the output): the engine refuses to run a rule whose
values were changed in place after the op was recorded.

The functions defined here work on ndarrays *and* on Tensors: given no Tensor they just
compute (returning an ndarray), given a Tensor they also record. Rules use them
(``where``, ``reshape``, ``broadcast_to``, ...) for whatever operators cannot say, which
is why one rule serves an ordinary backward (on arrays) and a recorded one (on Tensors,
for gradients of gradients).

Conventions where a function has no derivative, chosen so that they never cost
exactness where it has one, at any order (masks are constants, never divisions by a
value that is merely small):

- kinks take the one-sided value 0: |x| and relu at 0, √x at 0 when the upstream
  gradient is 0, clip at a bound passes the gradient (lo ≤ x ≤ hi is inside);
- ties share equally: max/min over an axis, maximum/minimum;
- selection ops (relu, clip, max/min, maximum/minimum) route the gradient to the input
  the output came from, so a NaN output routes it to the NaN input(s); smooth ops give
  f'(NaN) = NaN as arithmetic does.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.autograd import OUT, EveryInput, Op, ShapeError, TraceError, is_tracing
from minigrad.tensor import Tensor

Axis = int | tuple[int, ...] | None


def _shape(x: Any) -> tuple[int, ...]:
    """The shape of a Tensor, array or array-like (shapes are static: safe to read while
    tracing, unlike values)."""
    return x.shape if isinstance(x, Tensor | np.ndarray) else np.shape(x)


# --- non-differentiable ops: no gradient, but still ops, so a trace records them --------


def _no_gradient(name: str, forward: Any, n_inputs: int, **facts: Any) -> Op:
    return Op(name, forward, (None,) * n_inputs, ("no gradient",) * n_inputs, saves=(), **facts)


COMPARISONS = {
    u: _no_gradient(u.__name__, u, 2, elementwise=True)
    for u in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal)
}
logical_and = _no_gradient("logical_and", np.logical_and, 2, elementwise=True)
logical_or = _no_gradient("logical_or", np.logical_or, 2, elementwise=True)
logical_not = _no_gradient("logical_not", np.logical_not, 1, elementwise=True)
isnan = _no_gradient("isnan", np.isnan, 1, elementwise=True)
isfinite = _no_gradient("isfinite", np.isfinite, 1, elementwise=True)
sign = _no_gradient("sign", np.sign, 1, elementwise=True)
"""Elementwise sign (−1, 0 or 1); not differentiable (its derivative is 0 where it has one)."""
_convert = _no_gradient("convert", lambda x, dtype: x.astype(dtype), 2)
_stop_gradient = Op("detach", lambda x: x, (None,), ("no gradient",), saves=(), view=True)


to_float64 = _no_gradient(
    "to_float64",
    lambda x: np.asarray(x, dtype=np.float64),
    1,
    elementwise=True,
    source="np.asarray({0}, dtype=np.float64)",
)
"""A number as a float64 array (what a transform differentiates a number argument as)."""


def compare(ufunc: np.ufunc, a: Any, b: Any) -> Any:
    """A comparison: a boolean tensor without a graph (comparisons have no gradient)."""
    return COMPARISONS[ufunc](a, b)


def stop_gradient(x: Any) -> Any:
    """``x`` cut off from the graph (``Tensor.detach`` while a trace is recording)."""
    return _stop_gradient(x)


# --- arithmetic -------------------------------------------------------------------------

add = Op(
    "add",
    np.add,
    (lambda g, out, a, b: g, lambda g, out, a, b: g),
    ("∂(a+b)/∂a = 1", "∂(a+b)/∂b = 1"),
    saves=((), ()),
    elementwise=True,
)
sub = Op(
    "sub",
    np.subtract,
    (lambda g, out, a, b: g, lambda g, out, a, b: -g),
    ("∂(a−b)/∂a = 1", "∂(a−b)/∂b = −1"),
    saves=((), ()),
    elementwise=True,
)
mul = Op(
    "mul",
    np.multiply,
    (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
    ("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"),
    saves=((1,), (0,)),
    elementwise=True,
)
div = Op(
    "div",
    np.divide,
    (lambda g, out, a, b: g / b, lambda g, out, a, b: -g * out / b),
    ("∂(a/b)/∂a = 1/b", "∂(a/b)/∂b = −a/b² = −out/b"),
    saves=((1,), (1, OUT)),
    elementwise=True,
)
neg = Op(
    "neg", np.negative, (lambda g, out, x: -g,), ("∂(−x)/∂x = −1",), saves=((),), elementwise=True
)


def _log_base(a: Any) -> Any:
    """log(a) where a > 0, else 0: the base's derivative term when a ≤ 0 (a^b = 0 or nan)."""
    return log(where(a > 0, a, 1.0))


def _pow_grad_base(g: Any, out: Any, a: Any, b: Any) -> Any:
    # b·a^(b−1), except at a = b = 0, where 0·0⁻¹ would be nan and x⁰ ≡ 1 has slope 0:
    # there the exponent is nudged to b. The nudge is a mask that is 0 wherever a ≠ 0, so
    # the rule stays exact there at every order (d/db included).
    if not isinstance(b, Tensor | np.ndarray) and b != 0:
        return g * b * a ** (b - 1)  # a constant non-zero exponent needs no nudge
    if (
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray | float | int)
        and not np.any((a == 0) & (b == 0))
    ):
        return g * b * a ** (b - 1)  # arrays (an ordinary backward): only where needed
    return g * b * a ** (b - 1 + cast(logical_and(a == 0, b == 0), _float_of(a, b)))


def _float_of(*xs: Any) -> np.dtype:
    """The float dtype arithmetic on ``xs`` gives (Python numbers are weak, as in NumPy)."""
    return np.result_type(*(x.dtype if isinstance(x, Tensor | np.ndarray) else x for x in xs))


pow = Op(
    "pow",
    np.power,
    (_pow_grad_base, lambda g, out, a, b: g * out * _log_base(a)),
    ("∂(aᵇ)/∂a = b·aᵇ⁻¹  (0 at a = b = 0)", "∂(aᵇ)/∂b = aᵇ·ln a  (taken as 0 where a ≤ 0)"),
    saves=((0, 1), (0, OUT)),
    elementwise=True,
    effect=lambda a, b: _integral(a) and _integral(b),  # NumPy refuses int ** negative int
)


def _integral(x: Any) -> bool:
    """Whether x (an array, Tensor, compiled value or number) holds integers."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind in "iub"
    return isinstance(x, int | np.integer)


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
        if a.ndim == 2:
            return matmul(swapaxes(a), g)
        return reshape(matmul(swapaxes(a), expand_dims(g, -1)), (*a.shape[:-2], a.shape[-1]))
    return matmul(swapaxes(a), g)


matmul = Op(
    "matmul",
    np.matmul,
    (_matmul_grad_a, _matmul_grad_b),
    ("∂(A@B)/∂A: g @ Bᵀ", "∂(A@B)/∂B: Aᵀ @ g"),
    saves=((1,), (0,)),
)


def _linear_forward(x: Any, weight: Any, bias: Any) -> Any:
    out = np.matmul(x, weight.T)
    if bias is None:
        return out
    if bias.dtype != out.dtype:
        return out + bias  # NumPy's promotion, exactly as in x @ Wᵀ + b
    try:
        out += bias  # in place: the matmul result is fresh, and this saves a full copy
    except ValueError:  # a bias that broadcasts the output to a larger shape
        return out + bias
    return out


def _product_part(g: Any, x: Any, weight: Any) -> Any:
    """g summed to the shape of x @ Wᵀ: a bias may have broadcast the output beyond it,
    and the x and W rules are written for the product's own shape."""
    shape = (*x.shape[:-1], *weight.shape[:-1])
    return g if g.shape == shape else sum_to(g, shape)


def _linear_grad_x(g: Any, out: Any, x: Any, weight: Any, bias: Any) -> Any:
    g = _product_part(g, x, weight)
    if weight.ndim == 1:  # one output: out = x·w, so ∂/∂x is the outer product g wᵀ
        return g.reshape((*g.shape, 1)) * weight
    return g @ weight


def _linear_grad_weight(g: Any, out: Any, x: Any, weight: Any, bias: Any) -> Any:
    g = _product_part(g, x, weight)
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
    saves=((1,), (0,), ()),
    lowering=lambda x, weight, bias: (
        matmul(x, transpose(weight, None))
        if bias is None
        else add(matmul(x, transpose(weight, None)), bias)
    ),
)
"""x @ weightᵀ + bias in one op (PyTorch's F.linear): one output array instead of two,
which halves the graph's memory for a large batch. weight is (out_features, in_features),
or (in_features,) for a single output without an output axis; bias may be None."""


# --- elementwise functions --------------------------------------------------------------


def _safe_div(num: Any, den: Any) -> Any:
    """num / den, where den = 0 gives ±inf for num ≠ 0 and 0 for num = 0 (not nan).

    The mask tests the denominator, never the numerator: where den ≠ 0 this is exactly
    num / den, so its derivative (with respect to num too) is exact there.
    """
    if isinstance(den, np.ndarray) and not np.any(den == 0):
        return num / den  # arrays (an ordinary backward) without a zero: nothing to mask
    den_is_zero = den == 0
    limit = where(num == 0, 0.0, where(num > 0, np.inf, -np.inf))
    return where(den_is_zero, limit, num / where(den_is_zero, 1.0, den))


exp = Op(
    "exp",
    np.exp,
    (lambda g, out, x: g * out,),
    ("∂eˣ/∂x = eˣ = out",),
    saves=((OUT,),),
    elementwise=True,
)
log = Op(
    "log", np.log, (lambda g, out, x: g / x,), ("∂ln x/∂x = 1/x",), saves=((0,),), elementwise=True
)
log1p = Op(
    "log1p",
    np.log1p,
    (lambda g, out, x: g / (1 + x),),
    ("∂ln(1+x)/∂x = 1/(1+x)",),
    saves=((0,),),
    elementwise=True,
)
sqrt = Op(
    "sqrt",
    np.sqrt,
    (lambda g, out, x: _safe_div(g, 2 * out),),
    ("∂√x/∂x = 1/(2√x)  (at x = 0: 0 where the upstream gradient is 0, else ±inf)",),
    saves=((OUT,),),
    elementwise=True,
)
abs = Op(
    "abs",
    np.abs,
    (lambda g, out, x: g * sign(x),),
    ("∂|x|/∂x = sign(x)  (0 at x = 0)",),
    saves=((0,),),
    elementwise=True,
)
sin = Op(
    "sin",
    np.sin,
    (lambda g, out, x: g * cos(x),),
    ("∂sin x/∂x = cos x",),
    saves=((0,),),
    elementwise=True,
)
cos = Op(
    "cos",
    np.cos,
    (lambda g, out, x: -g * sin(x),),
    ("∂cos x/∂x = −sin x",),
    saves=((0,),),
    elementwise=True,
)
tanh = Op(
    "tanh",
    np.tanh,
    (lambda g, out, x: g * (1 - out * out),),
    ("∂tanh x/∂x = 1 − out²",),
    saves=((OUT,),),
    elementwise=True,
)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1/(1+e⁻ˣ), to full relative precision for every x in float32 and float64.

    With e = e^(−|x|) ≤ 1 (never overflows): σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for
    x < 0, which keeps tiny values (σ(−700) ≈ 1e−304) instead of rounding them to 0.
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = Op(
    "sigmoid",
    _sigmoid_forward,
    # σ'(x) = σ(x)·σ(−x): each factor accurate at its own end (1 − σ(x) is not, x ≫ 0)
    (lambda g, out, x: g * out * sigmoid(-x),),
    ("∂σ(x)/∂x = σ(x)σ(−x) = σ(x)(1 − σ(x))",),
    saves=((OUT, 0),),
    elementwise=True,
)
softplus = Op(
    "softplus",
    lambda x: np.logaddexp(0, x),  # ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): no overflow
    (lambda g, out, x: g * sigmoid(x),),
    ("∂ln(1+eˣ)/∂x = σ(x)",),
    saves=((0,),),
    elementwise=True,
)
log_sigmoid = Op(
    "log_sigmoid",
    lambda x: -np.logaddexp(0, -x),  # ln σ(x) = −softplus(−x): finite for any finite x
    (lambda g, out, x: g * sigmoid(-x),),
    ("∂ln σ(x)/∂x = 1 − σ(x) = σ(−x)",),
    saves=((0,),),
    elementwise=True,
)
relu = Op(
    "relu",
    lambda x: np.maximum(x, 0),
    (lambda g, out, x: where(x <= 0, 0.0, g),),
    ("∂relu(x)/∂x = 1 if x > 0 else 0  (0 at x = 0)",),
    saves=((0,),),
    elementwise=True,
)


def _clip_masks(x: Any, lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    """Where the gradient goes in clip(x, lo, hi) = min(max(x, lo), hi): (x blocked,
    lo selected, hi selected). x passes where lo ≤ x ≤ hi (bounds inclusive) and where x
    is NaN; a bound gets it where the output is that bound (max(x, lo) > hi means x > hi
    or lo > hi)."""
    if lo is None:
        return x > hi, False, x > hi
    if hi is None:
        return x < lo, x < lo, False
    above = logical_or(x > hi, lo > hi)
    below = logical_and(x < lo, lo <= hi)
    return logical_or(below, above), below, above


_clip = Op(
    "clip",
    np.clip,
    (
        lambda g, out, x, lo, hi: where(_clip_masks(x, lo, hi)[0], 0.0, g),
        lambda g, out, x, lo, hi: where(_clip_masks(x, lo, hi)[1], g, 0.0),
        lambda g, out, x, lo, hi: where(_clip_masks(x, lo, hi)[2], g, 0.0),
    ),
    ("1 where lo ≤ x ≤ hi, else 0", "1 where x < lo (≤ hi)", "1 where max(x, lo) > hi"),
    saves=((0, 1, 2), (0, 1, 2), (0, 1, 2)),
    elementwise=True,
)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """Limit values to [lo, hi]; the gradient passes where lo ≤ x ≤ hi (inclusive).

    The bounds may be tensors that require grad: each gets the gradient where the output
    is that bound.
    """
    if lo is None and hi is None:
        raise ValueError("clip needs at least one of lo, hi")
    return _clip(x, lo, hi)


def _share(x: Any, other: Any, out: Any) -> Any:
    """x's share of maximum/minimum's gradient: 1 where the output is x alone, ½ at a
    tie (or two NaNs), 0 where it is the other; a NaN output comes from its NaN input."""
    dtype = np.result_type(_float_of(out), np.float32)
    mine = cast(logical_or(x == out, isnan(x)), dtype)
    theirs = cast(logical_or(other == out, isnan(other)), dtype)
    return mine / (mine + theirs)


maximum = Op(
    "maximum",
    np.maximum,
    (
        lambda g, out, a, b: g * _share(a, b, out),
        lambda g, out, a, b: g * _share(b, a, out),
    ),
    ("1 where a > b (½ at ties)", "1 where b > a (½ at ties)"),
    saves=((0, 1, OUT), (0, 1, OUT)),
    elementwise=True,
)
minimum = Op(
    "minimum",
    np.minimum,
    (
        lambda g, out, a, b: g * _share(a, b, out),
        lambda g, out, a, b: g * _share(b, a, out),
    ),
    ("1 where a < b (½ at ties)", "1 where b < a (½ at ties)"),
    saves=((0, 1, OUT), (0, 1, OUT)),
    elementwise=True,
)


_where = Op(
    "where",
    np.where,
    (
        None,
        lambda g, out, cond, a, b: where(cond, g, 0.0),
        lambda g, out, cond, a, b: where(cond, 0.0, g),
    ),
    ("the condition has no gradient", "g where cond, else 0", "g where not cond, else 0"),
    saves=((), (0,), (0,)),
    elementwise=True,
)


def where(cond: Any, a: Any, b: Any) -> Any:
    """Elementwise ``a if cond else b``; the condition carries no gradient.

    A Tensor among the arguments (the condition included) gives a Tensor.
    """
    return _where(cond, a, b)


# --- reductions -------------------------------------------------------------------------


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
    saves=((), (), ()),
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
    saves=((), (), ()),
)


def _extremum_grad(g: Any, out: Any, x: Any, axis: Any, keepdims: Any) -> Any:
    """g shared equally by the positions that hold the extremum (the NaNs, if the result
    is NaN): a mask with no gradient, so the rule is exact at every order away from ties."""
    hit = cast(logical_or(x == _unreduce(out, x, axis), isnan(x)), np.result_type(x, np.float32))
    return hit / hit.sum(axis=axis, keepdims=True) * _unreduce(g, x, axis)


_max = Op(
    "max",
    lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
    (_extremum_grad, None, None),
    ("1/k at each of the k positions holding the maximum, else 0",),
    saves=((0, OUT), (), ()),
)
_min = Op(
    "min",
    lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
    (_extremum_grad, None, None),
    ("1/k at each of the k positions holding the minimum, else 0",),
    saves=((0, OUT), (), ()),
)


SUMSQ_BLOCK = 8192
"""Elements per block of :func:`sum_of_squares`: 64 KB of float64, in cache."""


def sum_of_squares(r: np.ndarray, minus: np.ndarray | None = None) -> np.ndarray:
    """Σ rᵢ² (or Σ (rᵢ − minusᵢ)², making no array of the difference): one BLAS dot
    product per block of SUMSQ_BLOCK, added in order. Every sum of squares (mse eager or
    compiled, recorded or not) is this one, so they agree to the last bit."""
    a = r.reshape(-1)
    b = None if minus is None else minus.reshape(-1)
    total = None
    for start in range(0, builtins.max(a.size, 1), SUMSQ_BLOCK):
        block = a[start : start + SUMSQ_BLOCK]
        if b is not None:
            block = block - b[start : start + SUMSQ_BLOCK]
        square = np.dot(block, block)
        total = square if total is None else total + square
    return np.asarray(total)


sumsq = Op(
    "sumsq",
    sum_of_squares,
    (lambda g, out, r: 2 * g * r,),
    ("∂(Σr²)/∂rᵢ = 2rᵢ",),
    saves=((0,),),
)
"""Σ r² over all elements, one BLAS dot product per block (no array of squares)."""


def _reduction(op: Op, x: Any, axis: Axis, keepdims: bool) -> Any:
    shape = x.shape if isinstance(x, Tensor | np.ndarray) else np.shape(x)
    axes = _normalize_axis(axis, len(shape))
    if op is _max or op is _min:
        empty = [a for a in (range(len(shape)) if axes is None else axes) if shape[a] == 0]
        if empty or (axes is None and 0 in shape):
            raise ValueError(
                f"{op.name} over an empty axis (shape {shape}, axis {axis!r}) is undefined"
            )
    return op(x, axes, bool(keepdims))


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


def _logsumexp_forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """ln Σ eˣ = m + ln Σ e^(x−m) with m the maximum: no overflow, exact for ±1000."""
    m = x.max(axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)  # all −inf, an inf, or empty: shift by 0 instead
    with np.errstate(divide="ignore"):  # ln 0 = −inf when every term is e^−inf (or none)
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    return out.reshape([n for i, n in enumerate(x.shape) if axis is not None and i not in axis])


def _logsumexp_grad(g: Any, out: Any, x: Any, axis: Any, keepdims: Any) -> Any:
    # ∂/∂xᵢ = e^(xᵢ − out) = softmax(x)ᵢ; where out = −inf every term is 0 (shift by 0)
    out = _unreduce(out, x, axis)
    return _unreduce(g, x, axis) * exp(x - where(out == -np.inf, 0.0, out))


_logsumexp_op = Op(
    "logsumexp",
    _logsumexp_forward,
    (_logsumexp_grad, None, None),
    ("∂ln Σ eˣ/∂xᵢ = e^(xᵢ − out) = softmax(x)ᵢ",),
    saves=((0, OUT), (), ()),
)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """ln Σ exp(x) over ``axis``, computed without overflow (finite at ±1000)."""
    return _reduction(_logsumexp_op, x, axis, keepdims)


def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    return x - _logsumexp_forward(x, (axis,), True)


_softmax = Op(
    "softmax",
    _softmax_forward,
    (lambda g, out, x, axis: out * (g - (g * out).sum(axis=axis, keepdims=True)), None),
    ("∂softmax/∂x: out ⊙ (g − Σ g ⊙ out)",),
    saves=((OUT,), ()),
)
_log_softmax = Op(
    "log_softmax",
    _log_softmax_forward,
    (lambda g, out, x, axis: g - exp(out) * g.sum(axis=axis, keepdims=True), None),
    ("∂log_softmax/∂x: g − softmax(x) · Σ g",),
    saves=((OUT,), ()),
)


def _one_axis(name: str, x: Any, axis: int) -> int:
    ndim = len(_shape(x))
    if ndim == 0:
        raise ShapeError(f"{name} needs a tensor with at least one axis, got a 0-d tensor")
    return _normalize_axis(axis, ndim)[0]


def softmax(x: Any, axis: int = -1) -> Any:
    """e^xᵢ / Σⱼ e^xⱼ along ``axis``: positive, sums to 1 (shifted by the max: no overflow)."""
    return _softmax(x, _one_axis("softmax", x, axis))


def log_softmax(x: Any, axis: int = -1) -> Any:
    """ln softmax(x) = x − logsumexp(x) along ``axis``: finite for any finite logits."""
    return _log_softmax(x, _one_axis("log_softmax", x, axis))


def _arg_extremum(name: str, fn: Any) -> Any:
    op = _no_gradient(
        name,
        lambda x, axis, keepdims: np.asarray(fn(x, axis=axis, keepdims=keepdims)),
        3,
        source=f"np.asarray(np.{name}({{0}}, axis={{1}}, keepdims={{2}}))",
    )

    def arg(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        shape = _shape(x)
        if axis is not None:
            axis = _one_axis(name, x, axis)
        if 0 in shape and (axis is None or shape[axis] == 0):
            raise ValueError(f"{name} of an empty tensor (shape {shape}) is undefined")
        return op(x, axis, bool(keepdims))

    arg.__name__ = name
    arg.__doc__ = f"Index of the {name[3:]}imum along ``axis`` (flat when None); no gradient."
    return arg


argmax = _arg_extremum("argmax", np.argmax)
argmin = _arg_extremum("argmin", np.argmin)

# --- shape ------------------------------------------------------------------------------

reshape = Op(
    "reshape",
    np.reshape,
    (lambda g, out, x, shape: reshape(g, x.shape), None),
    ("the gradient is reshaped back",),
    saves=((), ()),
    view=True,
)


def _inverse_axes(axes: Any, ndim: int) -> Any:
    return None if axes is None else tuple(np.argsort([a % ndim for a in axes]))


transpose = Op(
    "transpose",
    np.transpose,
    (lambda g, out, x, axes: transpose(g, _inverse_axes(axes, x.ndim)), None),
    ("the gradient is transposed back",),
    saves=((), ()),
    view=True,
)


def swapaxes(x: Any, a: int = -1, b: int = -2) -> Any:
    """Exchange two axes (by default the last two, a batched matrix transpose)."""
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, tuple(axes))


def expand_dims(x: Any, axis: int) -> Any:
    """Insert a size-1 axis at ``axis`` (PyTorch's ``unsqueeze``)."""
    shape = list(_shape(x))
    if not -len(shape) - 1 <= axis <= len(shape):
        raise ShapeError(f"expand_dims: axis {axis} is out of range for shape {tuple(shape)}")
    shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
    return reshape(x, tuple(shape))


unsqueeze = expand_dims


def squeeze(x: Any, axis: Axis = None) -> Any:
    """Drop size-1 axes (all of them, or those in ``axis``; others are left, as in PyTorch)."""
    shape = _shape(x)
    axes = range(len(shape)) if axis is None else _normalize_axis(axis, len(shape))
    drop = {a for a in axes if a < len(shape) and shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in drop))


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
)
sum_to = Op(
    "sum_to",
    sum_to_shape,
    (lambda g, out, x, shape: broadcast_to(g, x.shape), None),
    ("the gradient is broadcast back",),
    saves=((), ()),
    view=lambda x, shape: tuple(x.shape) == tuple(shape),  # nothing summed: a reshape
)

astype = Op(
    "astype",
    lambda x, dtype: x.astype(dtype),
    (lambda g, out, x, dtype: astype(g, x.dtype), None),
    ("the gradient is cast back to the input's dtype",),
    saves=((), ()),
    elementwise=True,
)
"""Cast to another float dtype; the gradient is cast back (float32 stays float32)."""


def cast(x: Any, dtype: Any) -> Any:
    """``x`` as ``dtype``: recorded between float dtypes; to an integer or bool dtype it
    is not differentiable, so (as in PyTorch) the result is cut off from the graph."""
    dtype = np.dtype(dtype)
    if not isinstance(x, Tensor):
        return np.asarray(x).astype(dtype)
    if dtype == x.dtype:
        return x
    if dtype.kind == "c":
        raise TypeError("complex tensors are not supported")
    if dtype.kind != "f" or x.dtype.kind != "f":
        return _convert(x, dtype)  # nothing to differentiate on one side or the other
    return astype(x, dtype)


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
    saves=((), (), ()),
)
_getitem = Op(
    "getitem",
    lambda x, index: x[index],
    (lambda g, out, x, index: scatter_add(g, index, x.shape), None),
    ("1 at each selected position (repeats add up)",),
    saves=((), ()),
    view=lambda x, index: _is_basic(index),  # slices and integers: a view
)


def _index_value(i: Any) -> Any:
    """An index as NumPy takes it; a Tensor index is copied, so that changing it in place
    later cannot change what the gradient scatters into."""
    if isinstance(i, Tensor):
        if is_tracing():
            raise TraceError(
                "indexing with a Tensor inside a jitted function: the selection (and, for "
                "a boolean mask, the result's shape) depends on the data; use mg.where "
                "for masks, or index with a NumPy array or a static argument"
            )
        return i.data.copy()
    if isinstance(i, list):
        return np.asarray(i)
    return i


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` with slices, integers, and integer or boolean arrays (or Tensors)."""
    if isinstance(index, tuple):
        index = tuple(_index_value(i) for i in index)
    else:
        index = _index_value(index)
    try:
        return _getitem(x, index)
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} on shape {np.shape(x)}: {err}") from None


def _concat_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    axis, offsets = inputs[0], inputs[1]
    index = (slice(None),) * (axis % g.ndim) + (slice(offsets[i - 2], offsets[i - 1]),)
    return g[index]


def _stack_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    return g[(slice(None),) * (inputs[0] % g.ndim) + (i - 1,)]


_concatenate = Op(
    "concatenate",
    lambda axis, offsets, *xs: np.concatenate(xs, axis=axis),
    EveryInput(_concat_grad),
    ("each input gets its slice of the gradient",),
    saves=(),
)
_stack = Op(
    "stack",
    lambda axis, *xs: np.stack(xs, axis=axis),
    EveryInput(_stack_grad),
    ("each input gets its slice of the gradient",),
    saves=(),
)


def _join_inputs(name: str, tensors: Any) -> list[Any]:
    if isinstance(tensors, Tensor | np.ndarray) or not hasattr(tensors, "__len__"):
        raise TypeError(f"{name} takes a sequence of tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ValueError(f"{name} needs at least one tensor")
    return [sequence_operand(t) if isinstance(t, list | tuple) else t for t in tensors]


def sequence_operand(v: list | tuple) -> Any:
    """A (nested) list or tuple operand as one array, or, when Tensors are inside it, as
    a recorded stack of them: ``np.asarray`` would read their data and silently drop
    their gradients (``x * [y, 2.0]``, ``concatenate([(x[0], x[1]), x])``)."""
    items = [sequence_operand(e) if isinstance(e, list | tuple) else e for e in v]
    if any(isinstance(e, Tensor) for e in items):
        return stack(items)
    return np.asarray(v)


def concatenate(tensors: Any, axis: int | None = 0) -> Any:
    """Join tensors along an existing axis (``axis=None``: flatten them first)."""
    xs = _join_inputs("concatenate", tensors)
    if axis is None:
        xs, axis = [reshape(x, (-1,)) for x in xs], 0
    shapes = [_shape(x) for x in xs]
    ends = np.cumsum([s[axis] if -len(s) <= axis < len(s) else 0 for s in shapes])
    return _concatenate(axis, (0, *(int(e) for e in ends)), *xs)


def stack(tensors: Any, axis: int = 0) -> Any:
    """Join tensors along a new axis."""
    return _stack(axis, *_join_inputs("stack", tensors))


# --- compositions: NumPy's other common functions, written with the ops above -----------


def _l2norm_grad(g: Any, out: Any, x: Any, axis: Any, keepdims: Any) -> Any:
    # ∂‖x‖/∂xᵢ = xᵢ/‖x‖; at x = 0 every xᵢ is 0 and so is the result (0 is a
    # subgradient of the cone's tip): divide by 1 there, a constant mask on ‖x‖ = 0
    out = _unreduce(out, x, axis)
    return _unreduce(g, x, axis) * x / where(out == 0, 1.0, out)


_l2norm = Op(
    "norm",
    lambda x, axis, keepdims: np.sqrt((x * x).sum(axis=axis, keepdims=keepdims)),
    (_l2norm_grad, None, None),
    ("∂‖x‖/∂xᵢ = xᵢ/‖x‖  (0 at x = 0)",),
    saves=((0, OUT), (), ()),
)


def norm(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The Euclidean (Frobenius) norm √Σx² over ``axis``; its gradient is 0 at x = 0."""
    return _reduction(_l2norm, x, axis, keepdims)


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


def _einsum_spec(subscripts: str, n: int) -> tuple[list[str], str]:
    """The operands' and the output's index letters of an einsum we can differentiate."""
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise TypeError("einsum: '...' is not supported by minigrad; name every axis")
    lhs, arrow, output = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != n:
        raise ValueError(f"einsum: {subscripts!r} names {len(inputs)} operands, got {n}")
    for sub in inputs:
        if len(set(sub)) != len(sub):
            raise TypeError(
                f"einsum: an index repeated within one operand ({sub!r}, a diagonal) is "
                "not supported by minigrad"
            )
    if not arrow:  # implicit mode: the letters seen once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, output


def _einsum_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    spec, xs = inputs[0], inputs[1:]
    subs, output = _einsum_spec(spec, len(xs))
    k = i - 1
    others = [j for j in range(len(xs)) if j != k]
    known = set(output).union(*(subs[j] for j in others))
    target = "".join(c for c in subs[k] if c in known)
    gk = einsum(
        ",".join([output, *(subs[j] for j in others)]) + "->" + target, g, *(xs[j] for j in others)
    )
    if target == subs[k]:
        return gk
    # letters summed away in operand k alone: the gradient is the same along them
    kept = tuple(n if c in known else 1 for c, n in zip(subs[k], xs[k].shape, strict=True))
    return broadcast_to(reshape(gk, kept), xs[k].shape)


_einsum = Op(
    "einsum",
    lambda spec, *xs: np.einsum(spec, *xs),
    EveryInput(_einsum_grad),
    ("operand k gets the einsum of the gradient with the other operands",),
    view=lambda spec, *xs: len(xs) == 1,  # one operand (a transpose): maybe a view
)


def einsum(subscripts: str, *operands: Any) -> Any:
    """Einstein summation with explicit or implicit output (no ``...``, no diagonals).

    The gradient of an operand is itself an einsum of the upstream gradient with the
    other operands, so gradients of gradients work too.
    """
    inputs, output = _einsum_spec(subscripts, len(operands))
    return _einsum(",".join(inputs) + "->" + output, *operands)


# --- class labels: gather one logit per example, and its gradient -----------------------


def _check_labels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    if labels.dtype.kind not in "iu":
        fractional = labels != np.round(labels)
        if fractional.any():
            raise ValueError(
                f"class indices must be integers, got {labels[fractional][0].item()!r}"
            )
        labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise ValueError(
            f"class index {labels[bad][0]} is outside 0 … {n_classes - 1} (the logits "
            f"have {n_classes} classes)"
        )
    return labels


onehot = _no_gradient(
    "onehot",
    lambda labels, n_classes: np.eye(n_classes)[_check_labels(labels, n_classes)],
    2,
    effect=True,  # refuses bad labels: runs even when its result is unused
)
"""onehot(labels, C): row n is 1 at column labelsₙ, 0 elsewhere (no gradient)."""


def _pick_forward(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return x[np.arange(len(x)), _check_labels(labels, x.shape[1])]


pick = Op(
    "pick",
    _pick_forward,
    (
        lambda g, out, x, labels: cast(onehot(labels, x.shape[1]), x.dtype) * reshape(g, (-1, 1)),
        None,
    ),
    ("∂xₙ,yₙ/∂x = onehot(y): the gradient goes to the picked entry",),
    saves=((1,), ()),
    effect=True,  # refuses bad labels: runs even when its result is unused
)
"""pick(x, labels) = x[n, labelsₙ] for each row n of an (N, C) table."""
