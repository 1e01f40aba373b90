"""Reductions: sums, means, extrema, log-sum-exp, softmax, arg-extrema.

Ties share equally (max/min over an axis), and a NaN maximum routes the gradient to the
NaN input(s).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from minigrad.op import OUT, Op, ShapeError
from minigrad.ops.base import Axis, _no_gradient, _normalize_axis, _shape
from minigrad.ops.elementwise import cast, exp, isnan, logical_or, where
from minigrad.ops.registry import public
from minigrad.ops.shape import broadcast_to
from minigrad.tensor import Tensor

# --- reductions -------------------------------------------------------------------------


def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction with keepdims=True: reduced axes become 1."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _unreduce(g: Any, x: Any, axis: Any) -> Any:
    """Give a reduction's upstream gradient back its reduced axes (as size 1)."""
    if axis is None:  # every axis reduced: g is 0-d, or all 1s with keepdims; it broadcasts
        return g
    return g.reshape(_kept_shape(x.shape, axis))  # a method both ndarray and Tensor have


def _count(x: Any, axis: Any) -> int:
    if axis is None:
        return x.size
    return int(np.prod([x.shape[a] for a in axis]))


def _method_source(method: str) -> Any:
    """How compiled code writes a reduction: ``x.sum(axis=0, keepdims=True)``."""

    def source(r: Any, x: Any, axis: Any, keepdims: Any) -> str:
        options = [f"axis={r(axis)}"] if axis is not None else []
        options += ["keepdims=True"] if keepdims else []
        return f"{r.operand(x)}.{method}({', '.join(options)})"

    return source


_sum = Op(
    "sum",
    lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    (lambda g, out, x, axis, keepdims: broadcast_to(_unreduce(g, x, axis), x.shape), None, None),
    ("∂(Σx)/∂xᵢ = 1",),
    saves=((), (), ()),
    source=_method_source("sum"),
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
    source=_method_source("mean"),
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
    source=_method_source("max"),
)
_min = Op(
    "min",
    lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
    (_extremum_grad, None, None),
    ("1/k at each of the k positions holding the minimum, else 0",),
    saves=((0, OUT), (), ()),
    source=_method_source("min"),
)


SUMSQ_BLOCK = 32768
"""Elements per block of :func:`sum_of_squares`: 256 KB of float64, half of this
machine's per-core L2. Smaller blocks cost Python per block: at 8,192 an unrecorded mse
of 10⁵ elements took 108 µs, at 32,768 62 µs (the jit's compiled mse sums the same way)."""


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


@public(numpy=np.sum, signature="reduction")
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Σ over ``axis`` (all axes when None)."""
    return _reduction(_sum, x, axis, keepdims)


@public(numpy=np.mean, signature="reduction")
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Mean over ``axis`` (all axes when None)."""
    return _reduction(_mean, x, axis, keepdims)


@public(numpy=(np.max, np.amax), signature="reduction")
def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return _reduction(_max, x, axis, keepdims)


@public(numpy=(np.min, np.amin), signature="reduction")
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


@public
def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """ln Σ exp(x) over ``axis``, computed without overflow (finite at ±1000)."""
    return _reduction(_logsumexp_op, x, axis, keepdims)


def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    # initial=−inf: an empty axis has no max; its softmax is empty, as in PyTorch
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))
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


@public
def softmax(x: Any, axis: int = -1) -> Any:
    """e^xᵢ / Σⱼ e^xⱼ along ``axis``: positive, sums to 1 (shifted by the max: no overflow)."""
    return _softmax(x, _one_axis("softmax", x, axis))


@public
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


argmax = public(_arg_extremum("argmax", np.argmax), numpy=np.argmax, signature="arg")
argmin = public(_arg_extremum("argmin", np.argmin), numpy=np.argmin, signature="arg")
