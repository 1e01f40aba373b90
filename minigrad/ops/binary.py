"""NumPy's other elementwise functions of two (broadcast) variables, both differentiable:
arctan2, hypot, logaddexp, logaddexp2, fmax and fmin.

Conventions, as in :mod:`.elementwise` (masks are constants, never divisions by a value
that is merely small, so the rules stay exact wherever the function is smooth):

- at a = b = 0, where hypot has a corner (like |x|) and arctan2 a discontinuity, both
  gradients are 0 (PyTorch: 0 for atan2, nan for hypot);
- fmax/fmin route the whole gradient to the input the output came from, the first one
  at a tie (PyTorch's rule: torch.fmax does not split ties, unlike torch.maximum), the
  number where the other input is NaN, and the first where both are NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.op import OUT, Op
from minigrad.ops.elementwise import _safe_div, isnan, logical_or, sigmoid, where
from minigrad.ops.registry import public

LN2 = math.log(2.0)  # a Python float: weak, so float32 stays float32


def _hypot_share(x: Any, out: Any) -> Any:
    """x / hypot(a, b), taken as 0 where both are 0 (hypot's corner)."""
    return _safe_div(x, out)


hypot = Op(
    "hypot",
    np.hypot,
    (
        lambda g, out, a, b: g * _hypot_share(a, out),
        lambda g, out, a, b: g * _hypot_share(b, out),
    ),
    ("∂√(a²+b²)/∂a = a/out  (0 at a = b = 0)", "∂√(a²+b²)/∂b = b/out  (0 at a = b = 0)"),
    saves=((0, OUT), (1, OUT)),
    elementwise=True,
)
public(hypot, numpy=np.hypot)


def _over_r2(num: Any, a: Any, b: Any) -> Any:
    """num / (a² + b²), as (num/r)/r with r = hypot(a, b) (a² + b² would overflow for
    |a| > 1e154); 0 where a = b = 0."""
    r = hypot(a, b)
    return _safe_div(_safe_div(num, r), r)


arctan2 = Op(
    "arctan2",
    np.arctan2,
    (
        lambda g, out, a, b: g * _over_r2(b, a, b),
        lambda g, out, a, b: g * _over_r2(-a, a, b),
    ),
    ("∂atan2(a, b)/∂a = b/(a²+b²)  (0 at a = b = 0)", "∂atan2(a, b)/∂b = −a/(a²+b²)"),
    saves=((0, 1), (0, 1)),
    elementwise=True,
)
public(arctan2, numpy=np.arctan2)
logaddexp = Op(
    "logaddexp",
    np.logaddexp,
    (
        lambda g, out, a, b: g * sigmoid(a - b),
        lambda g, out, a, b: g * sigmoid(b - a),
    ),
    ("∂ln(eᵃ+eᵇ)/∂a = eᵃ/(eᵃ+eᵇ) = σ(a−b)", "∂ln(eᵃ+eᵇ)/∂b = σ(b−a)"),
    saves=((0, 1), (0, 1)),
    elementwise=True,
)
public(logaddexp, numpy=np.logaddexp)
logaddexp2 = Op(
    "logaddexp2",
    np.logaddexp2,
    (
        lambda g, out, a, b: g * sigmoid((a - b) * LN2),
        lambda g, out, a, b: g * sigmoid((b - a) * LN2),
    ),
    ("∂log₂(2ᵃ+2ᵇ)/∂a = 2ᵃ/(2ᵃ+2ᵇ) = σ((a−b)·ln 2)", "∂log₂(2ᵃ+2ᵇ)/∂b = σ((b−a)·ln 2)"),
    saves=((0, 1), (0, 1)),
    elementwise=True,
)
public(logaddexp2, numpy=np.logaddexp2)


def _fmax_first(a: Any, b: Any) -> Any:
    """Where fmax(a, b) is a's: a ≥ b (ties included), or b is NaN."""
    return logical_or(a >= b, isnan(b))


def _fmin_first(a: Any, b: Any) -> Any:
    """Where fmin(a, b) is a's: a ≤ b (ties included), or b is NaN."""
    return logical_or(a <= b, isnan(b))


fmax = Op(
    "fmax",
    np.fmax,
    (
        lambda g, out, a, b: where(_fmax_first(a, b), g, 0.0),
        lambda g, out, a, b: where(_fmax_first(a, b), 0.0, g),
    ),
    ("1 where a ≥ b or b is NaN (all of it at a tie)", "1 where b > a or a alone is NaN"),
    saves=((0, 1), (0, 1)),
    elementwise=True,
)
public(fmax, numpy=np.fmax)
fmin = Op(
    "fmin",
    np.fmin,
    (
        lambda g, out, a, b: where(_fmin_first(a, b), g, 0.0),
        lambda g, out, a, b: where(_fmin_first(a, b), 0.0, g),
    ),
    ("1 where a ≤ b or b is NaN (all of it at a tie)", "1 where b < a or a alone is NaN"),
    saves=((0, 1), (0, 1)),
    elementwise=True,
)
public(fmin, numpy=np.fmin)
