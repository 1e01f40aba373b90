"""Elementwise ops: arithmetic, the functions of one variable, comparisons, casts.

Each result is its (broadcast) inputs, element by element. Conventions where a function
has no derivative are chosen so that they never cost exactness where it has one, at any
order (masks are constants, never divisions by a value that is merely small):

- kinks take the one-sided value 0: |x| and relu at 0, √x at 0 when the upstream
  gradient is 0, clip at a bound passes the gradient (lo ≤ x ≤ hi is inside);
- ties share equally (maximum/minimum);
- selection ops (relu, clip, maximum/minimum) route the gradient to the input the
  output came from, so a NaN output routes it to the NaN input(s); smooth ops give
  f'(NaN) = NaN as arithmetic does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.op import OUT, Op
from minigrad.ops.base import _float_of, _integral, _no_gradient
from minigrad.ops.registry import public
from minigrad.tensor import Tensor

# --- non-differentiable ops: no gradient, but still ops, so a trace records them --------


COMPARISONS = {
    u: public(
        _no_gradient(u.__name__, u, 2, elementwise=True, source=f"{{0}} {sym} {{1}}"), numpy=u
    )
    for u, sym in zip(
        (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal),
        ("==", "!=", "<", "<=", ">", ">="),
        strict=True,
    )
}
logical_and = public(
    _no_gradient("logical_and", np.logical_and, 2, elementwise=True), numpy=np.logical_and
)
logical_or = public(
    _no_gradient("logical_or", np.logical_or, 2, elementwise=True), numpy=np.logical_or
)
logical_not = public(
    _no_gradient("logical_not", np.logical_not, 1, elementwise=True), numpy=np.logical_not
)
BITWISE = {
    u: _no_gradient(u.__name__, u, u.nin, elementwise=True)
    for u in (
        np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift
    )
}  # fmt: skip
"""The operators ``& | ^ ~ << >>``, as NumPy means them: bitwise on integers (logical on
bools), no gradient, and a TypeError on floats (NumPy's own, from the ufunc)."""
isnan = public(_no_gradient("isnan", np.isnan, 1, elementwise=True), numpy=np.isnan)
isfinite = public(_no_gradient("isfinite", np.isfinite, 1, elementwise=True), numpy=np.isfinite)
sign = public(_no_gradient("sign", np.sign, 1, elementwise=True), numpy=np.sign)
"""Elementwise sign (−1, 0 or 1); not differentiable (its derivative is 0 where it has one)."""


def _astype_source(r: Any, x: Any, dtype: Any) -> str:
    """How compiled code writes a cast: ``x.astype(np.float32)``."""
    return f"{r.operand(x)}.astype({r(np.dtype(dtype))})"


_convert = _no_gradient("convert", lambda x, dtype: x.astype(dtype), 2, source=_astype_source)
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
    source="{0} + {1}",
)
public(add, numpy=np.add)
sub = Op(
    "sub",
    np.subtract,
    (lambda g, out, a, b: g, lambda g, out, a, b: -g),
    ("∂(a−b)/∂a = 1", "∂(a−b)/∂b = −1"),
    saves=((), ()),
    elementwise=True,
    source="{0} - {1}",
)
public(sub, numpy=np.subtract)
mul = Op(
    "mul",
    np.multiply,
    (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
    ("∂(a·b)/∂a = b", "∂(a·b)/∂b = a"),
    saves=((1,), (0,)),
    elementwise=True,
    source="{0} * {1}",
)
public(mul, numpy=np.multiply)
div = Op(
    "div",
    np.divide,
    (lambda g, out, a, b: g / b, lambda g, out, a, b: -g * out / b),
    ("∂(a/b)/∂a = 1/b", "∂(a/b)/∂b = −a/b² = −out/b"),
    saves=((1,), (1, OUT)),
    elementwise=True,
    source="{0} / {1}",
)
public(div, numpy=np.true_divide)
neg = Op(
    "neg",
    np.negative,
    (lambda g, out, x: -g,),
    ("∂(−x)/∂x = −1",),
    saves=((),),
    elementwise=True,
    source="-{0}",
)
public(neg, numpy=np.negative)


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


pow = Op(
    "pow",
    np.power,
    (_pow_grad_base, lambda g, out, a, b: g * out * _log_base(a)),
    ("∂(aᵇ)/∂a = b·aᵇ⁻¹  (0 at a = b = 0)", "∂(aᵇ)/∂b = aᵇ·ln a  (taken as 0 where a ≤ 0)"),
    saves=((0, 1), (0, OUT)),
    elementwise=True,
    effect=lambda a, b: _integral(a) and _integral(b),  # NumPy refuses int ** negative int
)
public(pow, numpy=np.power)


# --- elementwise functions --------------------------------------------------------------


def _safe_div(num: Any, den: Any) -> Any:
    """num / den, where den = 0 gives ±inf for num ≠ 0 and 0 for num = 0 (not nan).

    The mask tests the denominator, never the numerator: where den ≠ 0 this is exactly
    num / den, so its derivative (with respect to num too) is exact there.
    """
    if isinstance(den, np.ndarray) and not np.any(den == 0):
        return num / den  # arrays (an ordinary backward) without a zero: nothing to mask
    den_is_zero = den == 0
    inf = _float_of(num, den).type(np.inf)  # of the result's dtype: float32 stays float32
    limit = where(num == 0, 0.0, where(num > 0, inf, -inf))
    return where(den_is_zero, limit, num / where(den_is_zero, 1.0, den))


exp = Op(
    "exp",
    np.exp,
    (lambda g, out, x: g * out,),
    ("∂eˣ/∂x = eˣ = out",),
    saves=((OUT,),),
    elementwise=True,
)
public(exp, numpy=np.exp)
log = Op(
    "log", np.log, (lambda g, out, x: g / x,), ("∂ln x/∂x = 1/x",), saves=((0,),), elementwise=True
)
public(log, numpy=np.log)
log1p = Op(
    "log1p",
    np.log1p,
    (lambda g, out, x: g / (1 + x),),
    ("∂ln(1+x)/∂x = 1/(1+x)",),
    saves=((0,),),
    elementwise=True,
)
public(log1p, numpy=np.log1p)
sqrt = Op(
    "sqrt",
    np.sqrt,
    (lambda g, out, x: _safe_div(g, 2 * out),),
    ("∂√x/∂x = 1/(2√x)  (at x = 0: 0 where the upstream gradient is 0, else ±inf)",),
    saves=((OUT,),),
    elementwise=True,
)
public(sqrt, numpy=np.sqrt)
abs = Op(
    "abs",
    np.abs,
    (lambda g, out, x: g * sign(x),),
    ("∂|x|/∂x = sign(x)  (0 at x = 0)",),
    saves=((0,),),
    elementwise=True,
)
public(abs, numpy=np.absolute)
sin = Op(
    "sin",
    np.sin,
    (lambda g, out, x: g * cos(x),),
    ("∂sin x/∂x = cos x",),
    saves=((0,),),
    elementwise=True,
)
public(sin, numpy=np.sin)
cos = Op(
    "cos",
    np.cos,
    (lambda g, out, x: -g * sin(x),),
    ("∂cos x/∂x = −sin x",),
    saves=((0,),),
    elementwise=True,
)
public(cos, numpy=np.cos)
tanh = Op(
    "tanh",
    np.tanh,
    (lambda g, out, x: g * (1 - out * out),),
    ("∂tanh x/∂x = 1 − out²",),
    saves=((OUT,),),
    elementwise=True,
)
public(tanh, numpy=np.tanh)


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
public(sigmoid)
softplus = Op(
    "softplus",
    lambda x: np.logaddexp(0, x),  # ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): no overflow
    (lambda g, out, x: g * sigmoid(x),),
    ("∂ln(1+eˣ)/∂x = σ(x)",),
    saves=((0,),),
    elementwise=True,
    source="np.logaddexp(0, {0})",
)
public(softplus)
log_sigmoid = Op(
    "log_sigmoid",
    lambda x: -np.logaddexp(0, -x),  # ln σ(x) = −softplus(−x): finite for any finite x
    (lambda g, out, x: g * sigmoid(-x),),
    ("∂ln σ(x)/∂x = 1 − σ(x) = σ(−x)",),
    saves=((0,),),
    elementwise=True,
    source="-np.logaddexp(0, -{0})",
)
public(log_sigmoid)
relu = Op(
    "relu",
    lambda x: np.maximum(x, 0),
    (lambda g, out, x: where(x <= 0, 0.0, g),),
    ("∂relu(x)/∂x = 1 if x > 0 else 0  (0 at x = 0)",),
    saves=((0,),),
    elementwise=True,
    source="np.maximum({0}, 0)",
)
public(relu)


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


@public(numpy=np.clip, signature="clip")
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
public(maximum, numpy=np.maximum)
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
public(minimum, numpy=np.minimum)


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


@public(numpy=np.where, signature="where")
def where(cond: Any, a: Any, b: Any) -> Any:
    """Elementwise ``a if cond else b``; the condition carries no gradient.

    A Tensor among the arguments (the condition included) gives a Tensor.
    """
    return _where(cond, a, b)


astype = Op(
    "astype",
    lambda x, dtype: x.astype(dtype),
    (lambda g, out, x, dtype: astype(g, x.dtype), None),
    ("the gradient is cast back to the input's dtype",),
    saves=((), ()),
    elementwise=True,
    source=_astype_source,
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
