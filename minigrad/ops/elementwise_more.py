"""NumPy's other functions of one variable: trigonometric and hyperbolic functions and
their inverses, exp/log in other bases, cbrt, reciprocal, degrees ↔ radians, sinc.

Each is NumPy's own function forward and one line of calculus backward, written with
ops (so ``create_graph`` gives the second derivative from the same line). Constants are
Python floats (weak scalars), so float32 stays float32. A pole (arctanh at ±1, log2 at
0) gives ±inf or nan, as the arithmetic does; where a formula would overflow for large
inputs (1/√(x²+1)) it is written so that it does not (1/hypot(x, 1)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.op import OUT, Op
from minigrad.ops.binary import LN2, hypot
from minigrad.ops.elementwise import _safe_div, exp, sqrt
from minigrad.ops.registry import public

LN10 = math.log(10.0)  # a Python float: weak, float32 stays float32


def _unary(name: str, rule: Any, derivative: str, saves: tuple = (0,), **facts: Any) -> Op:
    """Register np.NAME as an op with one rule; ``saves`` says what the rule reads."""
    ufunc = getattr(np, name)
    op = Op(name, ufunc, (rule,), (derivative,), saves=(saves,), elementwise=True, **facts)
    return public(op, numpy=ufunc)


# --- trigonometric and hyperbolic -------------------------------------------------------

tan = _unary(
    "tan", lambda g, out, x: g * (1 + out * out), "∂tan x/∂x = 1 + tan²x = 1 + out²", (OUT,)
)
arctan = _unary("arctan", lambda g, out, x: g / (1 + x * x), "∂arctan x/∂x = 1/(1 + x²)")
arcsin = _unary(
    "arcsin",
    lambda g, out, x: g / sqrt((1 - x) * (1 + x)),
    "∂arcsin x/∂x = 1/√(1 − x²)  (±inf at x = ±1)",
)
arccos = _unary(
    "arccos",
    lambda g, out, x: -g / sqrt((1 - x) * (1 + x)),
    "∂arccos x/∂x = −1/√(1 − x²)  (∓inf at x = ±1)",
)
sinh = _unary("sinh", lambda g, out, x: g * cosh(x), "∂sinh x/∂x = cosh x")
cosh = _unary("cosh", lambda g, out, x: g * sinh(x), "∂cosh x/∂x = sinh x")
arcsinh = _unary(
    "arcsinh",
    lambda g, out, x: g / hypot(x, 1.0),
    "∂arsinh x/∂x = 1/√(x² + 1) = 1/hypot(x, 1)",
)
arccosh = _unary(
    "arccosh",
    lambda g, out, x: g / (sqrt(x - 1) * sqrt(x + 1)),  # (x−1)(x+1) overflows past 1e154
    "∂arcosh x/∂x = 1/√(x² − 1)  (inf at x = 1)",
)
arctanh = _unary(
    "arctanh",
    lambda g, out, x: g / ((1 - x) * (1 + x)),
    "∂artanh x/∂x = 1/(1 − x²)  (inf at x = ±1)",
)


# --- exponentials and logarithms, powers ---------------------------------------------------

expm1 = _unary(
    "expm1",
    lambda g, out, x: g * exp(x),  # not out + 1: at x = −40 that rounds e⁻⁴⁰ away to 0
    "∂(eˣ − 1)/∂x = eˣ",
)
exp2 = _unary("exp2", lambda g, out, x: g * out * LN2, "∂2ˣ/∂x = 2ˣ·ln 2 = out·ln 2", (OUT,))
log2 = _unary("log2", lambda g, out, x: g / (x * LN2), "∂log₂x/∂x = 1/(x·ln 2)")
log10 = _unary("log10", lambda g, out, x: g / (x * LN10), "∂log₁₀x/∂x = 1/(x·ln 10)")
cbrt = _unary(
    "cbrt",
    lambda g, out, x: _safe_div(g, 3 * (out * out)),
    "∂∛x/∂x = 1/(3∛x²) = 1/(3·out²)  (at x = 0: 0 where the upstream gradient is 0, else ±inf)",
    (OUT,),
)
reciprocal = _unary(
    "reciprocal", lambda g, out, x: -g * (out * out), "∂(1/x)/∂x = −1/x² = −out²", (OUT,)
)
deg2rad = _unary("deg2rad", lambda g, out, x: g * (math.pi / 180), "∂(x·π/180)/∂x = π/180", ())
rad2deg = _unary("rad2deg", lambda g, out, x: g * (180 / math.pi), "∂(x·180/π)/∂x = 180/π", ())
public(deg2rad, numpy=(np.deg2rad, np.radians))  # NumPy's other names for the same ufuncs
public(rad2deg, numpy=(np.rad2deg, np.degrees))


# --- sinc, smooth at 0 at every order ------------------------------------------------------


def _sinc_derivative(x, k):
    """sinc⁽ᵏ⁾(x), the k-th derivative of sin(πx)/(πx), to full precision at every x.

    For |x| < 1 the Maclaurin series Σₘ (−1)ᵐπ²ᵐ/((2m+1)(2m−k)!)·x²ᵐ⁻ᵏ (Horner in x²):
    no cancellation near 0, where the closed form (cos πx − sinc x)/x loses every digit
    (and its derivative is off by O(1)). Else Leibniz's rule on sin(πx)·1/(πx):
    Σⱼ C(k, j)·π^(k−j)·sin⁽ᵏ⁻ʲ⁾(πx)·(−1)ʲ j!/(π x^(j+1)).
    """
    small = np.abs(x) < 1
    near = np.where(small, x, 0.0)
    series = 0.0 * near
    for m in range(k // 2 + 30, (k + 1) // 2 - 1, -1):  # 30 terms: below ulp for |x| < 1
        coefficient = (-1) ** m * np.pi ** (2 * m) / (2 * m + 1)
        for i in range(2, 2 * m - k + 1):
            coefficient = coefficient / i  # / (2m − k)!
        series = series * (near * near) + coefficient
    if k % 2:
        series = series * near
    far = np.where(small, 1.0, x)
    s, c = np.sin(np.pi * far), np.cos(np.pi * far)
    closed = 0.0 * far
    binomial, factorial = 1, 1
    for j in range(k + 1):
        sine = (s, c, -s, -c)[(k - j) % 4]  # sin⁽ⁿ⁾ = sin, cos, −sin, −cos
        coefficient = binomial * (-1) ** j * factorial * np.pi ** (k - j - 1)
        closed = closed + coefficient * sine / far ** (j + 1)
        binomial, factorial = binomial * (k - j) // (j + 1), factorial * (j + 1)
    return np.where(small, series, closed)


sinc_derivative = Op(
    "sinc_derivative",
    _sinc_derivative,
    (lambda g, out, x, k: g * sinc_derivative(x, k + 1), None),
    ("∂sinc⁽ᵏ⁾x/∂x = sinc⁽ᵏ⁺¹⁾x", "k is an order: no gradient"),
    saves=((0,), ()),
    elementwise=True,
)
"""x ↦ sinc⁽ᵏ⁾(x): its derivative is the same op at k + 1, so sinc's gradients are exact
at every order, at 0 (sinc''(0) = −π²/3, where a masked formula gives 0 and PyTorch nan)
and next to it."""
sinc = Op(
    "sinc",
    np.sinc,
    (lambda g, out, x: g * sinc_derivative(x, 1),),
    ("∂sinc x/∂x = (cos πx − sinc x)/x  (0 at x = 0, summed as a series for |x| < 1)",),
    saves=((0,),),
    elementwise=True,
)
public(sinc, numpy=np.sinc)


# --- erf, for GELU's exact form -------------------------------------------------------------

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf elementwise (NumPy has none; math.erf is accurate to the last bit or so), with
    the input's float dtype (float64 for integers)."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    values = list(map(math.erf, x.ravel().tolist()))
    return np.array(values, dtype=np.float64).reshape(x.shape).astype(dtype, copy=False)


erf = Op(
    "erf",
    _erf,
    (lambda g, out, x: g * (TWO_OVER_SQRT_PI * exp(-(x * x))),),
    ("∂erf x/∂x = 2/√π·e^(−x²)",),
    saves=((0,),),
    elementwise=True,
)
"""The error function erf x = 2/√π ∫₀ˣ e^(−t²) dt (PyTorch's ``torch.erf``; NumPy has none)."""
public(erf)
