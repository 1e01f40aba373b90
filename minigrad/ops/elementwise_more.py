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
from minigrad.ops.binary import hypot
from minigrad.ops.elementwise import _safe_div, cos, sqrt, where
from minigrad.ops.registry import public

LN2, LN10 = math.log(2.0), math.log(10.0)  # Python floats: weak, float32 stays float32


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
    lambda g, out, x: g / sqrt((x - 1) * (x + 1)),
    "∂arcosh x/∂x = 1/√(x² − 1)  (inf at x = 1)",
)
arctanh = _unary(
    "arctanh",
    lambda g, out, x: g / ((1 - x) * (1 + x)),
    "∂artanh x/∂x = 1/(1 − x²)  (inf at x = ±1)",
)


# --- exponentials and logarithms, powers ---------------------------------------------------

expm1 = _unary("expm1", lambda g, out, x: g * (out + 1), "∂(eˣ − 1)/∂x = eˣ = out + 1", (OUT,))
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


# --- sinc, smooth at 0 at every order ------------------------------------------------------


def _sinc_taylor(k: int) -> float:
    """sinc⁽ᵏ⁾(0): sin(πx)/(πx) = Σₙ (−1)ⁿ(πx)²ⁿ/(2n+1)!, so 0 for odd k and
    (−1)ⁿπ²ⁿ/(2n+1) for k = 2n."""
    n, odd = divmod(k, 2)
    return 0.0 if odd else (-1) ** n * math.pi ** (2 * n) / (2 * n + 1)


_SINC_AT_ZERO: dict[int, Op] = {}


def _sinc_at_zero(k: int) -> Op:
    """The op x ↦ sinc⁽ᵏ⁾(0) (of x's shape and dtype), used only where x = 0, whose
    derivative is the op for k + 1 (JAX's Maclaurin trick): so sinc's rule is exact at 0
    at every order, where a masked formula would give 0 for sinc''(0) = −π²/3."""
    op = _SINC_AT_ZERO.get(k)
    if op is None:
        c = _sinc_taylor(k)
        op = Op(
            f"sinc_d{k}_at_0",
            lambda x: np.full_like(x, c),
            (lambda g, out, x: g * _sinc_at_zero(k + 1)(x),),
            (f"sinc⁽{k + 1}⁾(0) (used only where x = 0)",),
            saves=((),),
            elementwise=True,
            source=f"np.full_like({{0}}, {c!r})",
        )
        _SINC_AT_ZERO[k] = op
    return op


def _sinc_grad(g: Any, out: Any, x: Any) -> Any:
    # (cos πx − sinc x)/x away from 0; at 0 the limit and its derivatives (the mask is a
    # constant and x is replaced by 1 there, so nothing divides by 0 at any order)
    at_zero = x == 0
    away = (cos(math.pi * x) - out) / where(at_zero, 1.0, x)
    return g * where(at_zero, _sinc_at_zero(1)(x), away)


sinc = Op(
    "sinc",
    np.sinc,
    (_sinc_grad,),
    ("∂sinc x/∂x = (cos πx − sinc x)/x  (0 at x = 0, and every order exact there)",),
    saves=((0, OUT),),
    elementwise=True,
)
public(sinc, numpy=np.sinc)
