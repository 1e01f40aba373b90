"""NumPy's remaining common functions: nan_to_num, fabs, select, gradient, linspace (with
tensor endpoints), and real/imag/conj/angle of real tensors.

Most are written with other ops (their gradients are those ops' rules, exact at every
order); nan_to_num, fabs, imag and angle are ops of their own.

>>> import numpy as np, minigrad as mg
>>> lo, hi = mg.tensor(0.0, requires_grad=True), mg.tensor(1.0, requires_grad=True)
>>> y = np.linspace(lo, hi, 5)
>>> y.numpy()
array([0.  , 0.25, 0.5 , 0.75, 1.  ])
>>> y.sum().backward()
>>> lo.grad, hi.grad  # Σ (1 − i/4) and Σ i/4
(tensor(2.5), tensor(2.5))
>>> x = mg.tensor([1.0, np.nan, -np.inf], requires_grad=True)
>>> np.nan_to_num(x, posinf=9.0, neginf=-9.0).sum().backward()
>>> x.grad  # 0 where a value was replaced
tensor([1., 0., 0.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from minigrad.op import Op, ShapeError
from minigrad.ops.base import _float_of, _shape
from minigrad.ops.elementwise import cast, isfinite, sign, where
from minigrad.ops.indexing import concatenate
from minigrad.ops.registry import public
from minigrad.ops.shape import broadcast_to, reshape, transpose
from minigrad.tensor import Tensor


def _zeros_like(g: Any) -> Any:
    """Zeros of g's shape and dtype, still an op on g (so a recorded backward stays a
    graph, and an inf or nan in g gives 0, not the nan of g·0)."""
    return where(False, g, 0.0)


# --- elementwise ----------------------------------------------------------------------


def _nan_to_num_source(r: Any, x: Any, nan: Any, posinf: Any, neginf: Any) -> str:
    return f"np.nan_to_num({r(x)}, nan={r(nan)}, posinf={r(posinf)}, neginf={r(neginf)})"


_nan_to_num = Op(
    "nan_to_num",
    lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
    (lambda g, out, x, nan, posinf, neginf: where(isfinite(x), g, 0.0), None, None, None),
    ("1 where x is finite, 0 where nan or ±inf was replaced",),
    saves=((0,), (), (), ()),
    elementwise=True,
    source=_nan_to_num_source,
)


@public(numpy=np.nan_to_num, signature="nan_to_num")
def nan_to_num(
    x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Any:
    """NaN → ``nan``, +inf → ``posinf``, −inf → ``neginf`` (the dtype's largest finite
    values when None); the gradient passes where x is finite and is 0 where replaced."""
    for what, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and (isinstance(value, Tensor) or np.ndim(value) != 0):
            raise TypeError(f"nan_to_num: {what} must be a number, got {type(value).__name__}")
    return _nan_to_num(x, nan, posinf, neginf)


fabs = Op(
    "fabs",
    np.fabs,
    (lambda g, out, x: g * sign(x),),
    ("∂|x|/∂x = sign(x)  (0 at x = 0, as abs)",),
    saves=((0,),),
    elementwise=True,
)
public(fabs, numpy=np.fabs)


# --- real, imag, conj, angle of a real tensor --------------------------------------------


def _real_only(name: str, x: Any) -> None:
    dtype = x.dtype if isinstance(x, Tensor | np.ndarray) else np.result_type(x)
    if dtype.kind == "c":
        raise TypeError(
            f"{name}: complex input (dtype {dtype}) is not supported: minigrad's tensors "
            "and gradients are real"
        )


@public(numpy=np.real)
def real(x: Any) -> Any:
    """The real part of a real tensor: the tensor itself (complex input: TypeError)."""
    _real_only("real", x)
    return x


@public(numpy=np.real_if_close)
def real_if_close(x: Any, tol: float = 100) -> Any:
    """NumPy's real_if_close of a real tensor: the tensor itself (complex: TypeError)."""
    _real_only("real_if_close", x)
    return x


@public(numpy=np.conjugate)
def conj(x: Any) -> Any:
    """The complex conjugate of a real tensor: the tensor itself (complex: TypeError)."""
    _real_only("conj", x)
    return x


_imag = Op(
    "imag",
    np.imag,
    (lambda g, out, x: _zeros_like(g),),
    ("Im x = 0 for real x: gradient 0",),
    saves=((),),
    elementwise=True,
    source="np.imag({0})",
)
_angle = Op(
    "angle",
    lambda x, deg: np.angle(x, deg=deg),
    (lambda g, out, x, deg: _zeros_like(g), None),
    ("arg x is 0 (x ≥ 0) or π (x < 0, and −0.0) for real x: gradient 0 (PyTorch's too)",),
    saves=((), ()),
    source="np.angle({0}, deg={1})",
)


@public(numpy=np.imag)
def imag(x: Any) -> Any:
    """The imaginary part of a real tensor: zeros, with gradient 0 (complex: TypeError)."""
    _real_only("imag", x)
    return _imag(x)


@public(numpy=np.angle)
def angle(x: Any, deg: bool = False) -> Any:
    """The argument of a real tensor: 0 where x ≥ 0, π (180 with ``deg``) where x < 0;
    piecewise constant, so its gradient is 0 (complex input: TypeError)."""
    _real_only("angle", x)
    return _angle(x, bool(deg))


# --- select ---------------------------------------------------------------------------------


@public(numpy=np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """NumPy's select: where the first true condition is i, choice i; where none is,
    ``default``. The conditions are data (no gradient); each choice (and the default)
    gets the gradient where it was chosen. Written as nested :func:`where`."""
    conditions, choices = list(condlist), list(choicelist)
    if len(conditions) != len(choices):
        raise ValueError(
            f"select: {len(conditions)} conditions for {len(choices)} choices "
            "(the lists must have the same length)"
        )
    if not conditions:
        raise ValueError("select: needs at least one condition")
    for i, c in enumerate(conditions):
        kind = c.dtype if isinstance(c, Tensor | np.ndarray) else np.asarray(c).dtype
        if kind != np.bool_:
            raise TypeError(f"select: condition {i} must be boolean, got dtype {kind}")
    result = default
    for cond, choice in reversed(list(zip(conditions, choices, strict=True))):
        result = where(cond, choice, result)
    shapes = [_shape(c) for c in conditions + choices] + [_shape(default)]
    full = np.broadcast_shapes(*shapes)
    return result if _shape(result) == full else broadcast_to(result, full)


# --- gradient -------------------------------------------------------------------------------


def _spacings(name: str, varargs: tuple, axes: tuple[int, ...]) -> list[float]:
    if len(varargs) == 0:
        return [1.0] * len(axes)
    if len(varargs) not in (1, len(axes)):
        raise TypeError(f"{name}: {len(varargs)} spacings for {len(axes)} axes")
    spacings = []
    for h in varargs:
        if isinstance(h, Tensor) or np.ndim(h) != 0:
            raise TypeError(
                f"{name}: only scalar (uniform) spacings are supported, got "
                f"{type(h).__name__} of shape {np.shape(h)}"
            )
        spacings.append(float(h))
    return spacings * len(axes) if len(varargs) == 1 else spacings


def _gradient_along(f: Any, axis: int, h: float, edge_order: int) -> Any:
    """NumPy's central differences along one axis: (f[i+1] − f[i−1]) / 2h inside, the
    one-sided differences of order ``edge_order`` at the two ends (linear in f)."""

    def at(index: Any) -> Any:
        return f[(slice(None),) * axis + (index,)]

    inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * h)
    if edge_order == 1:
        first = (at(slice(1, 2)) - at(slice(0, 1))) / h
        last = (at(slice(-1, None)) - at(slice(-2, -1))) / h
    else:
        first = (-1.5 / h) * at(slice(0, 1)) + (2.0 / h) * at(slice(1, 2))
        first = first + (-0.5 / h) * at(slice(2, 3))
        last = (0.5 / h) * at(slice(-3, -2)) + (-2.0 / h) * at(slice(-2, -1))
        last = last + (1.5 / h) * at(slice(-1, None))
    return concatenate([first, inner, last], axis=axis)


@public(numpy=np.gradient)
def gradient(f: Any, *varargs: float, axis: Any = None, edge_order: int = 1) -> Any:
    """NumPy's gradient with uniform spacings: second-order central differences inside,
    one-sided ones (``edge_order`` 1 or 2) at the ends; one array per axis (a tuple when
    there are several). Linear in f, so its gradient is the transposed stencil."""
    shape = _shape(f)
    if axis is None:
        axes = tuple(range(len(shape)))
    else:
        listed = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
        for a in listed:
            if not -len(shape) <= a < len(shape):
                raise ShapeError(f"gradient: axis {a} is out of range for shape {shape}")
        axes = tuple(int(a) % len(shape) for a in listed)
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    spacings = _spacings("gradient", varargs, axes)
    if len(shape) == 0 or not axes:
        raise ShapeError(f"gradient: needs an input with at least 1 dimension, got {shape}")
    for a in axes:
        if shape[a] < edge_order + 1:
            raise ShapeError(
                f"gradient: axis {a} of shape {shape} is too short: at least "
                f"{edge_order + 1} elements are needed for edge_order={edge_order}"
            )
    if _float_of(f).kind != "f":
        f = cast(f, np.float64)
    out = tuple(_gradient_along(f, a, h, edge_order) for a, h in zip(axes, spacings, strict=True))
    return out[0] if len(out) == 1 else out


# --- linspace ---------------------------------------------------------------------------


@public(numpy=np.linspace, signature="linspace")
def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (``stop`` excluded when not
    ``endpoint``), as NumPy: yᵢ = start + i·(stop − start)/d with d = num − 1 (or num),
    the last one ``stop`` itself. Tensor endpoints get gradients:
    ∂yᵢ/∂start = 1 − i/d and ∂yᵢ/∂stop = i/d.

    (NumPy, where the step rounds to 0, computes i/d·(stop − start) instead; only the
    last bits of such results can differ.)
    """
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    if not isinstance(start, Tensor) and not isinstance(stop, Tensor):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(
            f"linspace: dtype={np.dtype(dtype)} with tensor endpoints (an integer result has "
            "no gradient: call np.linspace on the endpoints' values)"
        )
    div = num - 1 if endpoint else num
    dt = _float_of(start, stop, float(num))
    start = start if isinstance(start, Tensor) else np.asarray(start, dtype=dt)
    stop = stop if isinstance(stop, Tensor) else np.asarray(stop, dtype=dt)
    if _float_of(start).kind != "f":
        start = cast(start, dt)
    if _float_of(stop).kind != "f":
        stop = cast(stop, dt)
    delta = stop - start
    ndim = len(_shape(delta))
    steps = np.arange(num, dtype=dt).reshape(-1, *(1,) * ndim)
    step = delta / div if div > 0 else np.nan
    y = steps * step + start if div > 0 else steps * delta + start
    if endpoint and num > 1:
        last = reshape(broadcast_to(stop, _shape(delta)), (1, *_shape(delta)))
        y = concatenate([y[:-1], last], axis=0)
    if axis != 0:
        axis = operator.index(axis)
        if not -ndim - 1 <= axis <= ndim:
            raise ShapeError(f"linspace: axis {axis} is out of range for {ndim + 1} dimensions")
        order = list(range(1, ndim + 1))
        order.insert(axis % (ndim + 1), 0)
        y = transpose(y, tuple(order))
    if dtype is not None:
        y = cast(y, dtype)
    return (y, step) if retstep else y
