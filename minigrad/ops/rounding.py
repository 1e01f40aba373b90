"""Rounding: floor, ceil, trunc, round (rint, fix), and the remainders ``%`` (NumPy's remainder) and
fmod.

The rounding functions are steps: their derivative is 0 wherever it exists. Like sign
and the comparisons they are ops without a gradient: the result is a constant (it
never requires grad), so a gradient through ``x + floor(x)`` is exactly 1 and
``mg.grad`` of ``floor(x).sum()`` is 0, as in PyTorch, with no graph node.

The remainders are a − b·q with q the rounded quotient (floor for remainder, trunc for
fmod), which is constant between its jumps: ∂/∂a = 1 and ∂/∂b = −q (PyTorch's rules).
q is the quotient the remainder was computed with, exactly (NumPy's floor_divide), not
a rounded a/b: at a = 1, b = 0.1, a/b rounds to 10 but fmod's quotient is 9.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.op import Op
from minigrad.ops.base import _no_gradient
from minigrad.ops.registry import public

floor = public(_no_gradient("floor", np.floor, 1, elementwise=True), numpy=np.floor)
"""⌊x⌋ elementwise; not differentiable (its derivative is 0 where it has one)."""
ceil = public(_no_gradient("ceil", np.ceil, 1, elementwise=True), numpy=np.ceil)
"""⌈x⌉ elementwise; not differentiable (its derivative is 0 where it has one)."""
trunc = public(_no_gradient("trunc", np.trunc, 1, elementwise=True), numpy=np.trunc)
"""x rounded towards 0; not differentiable (its derivative is 0 where it has one)."""
rint = public(_no_gradient("rint", np.rint, 1, elementwise=True), numpy=np.rint)
"""x rounded to the nearest whole number, halves to even; not differentiable."""
fix = public(_no_gradient("fix", np.fix, 1, elementwise=True), numpy=np.fix)
"""x rounded towards 0 (NumPy's fix, the same as trunc); not differentiable."""
_round = _no_gradient("round", np.round, 2, elementwise=True, source="np.round({0}, {1})")


@public(numpy=(np.round, np.around), signature="round")
def round(x: Any, decimals: int = 0) -> Any:
    """x rounded to ``decimals`` places, halves to even (NumPy's rule); not
    differentiable (its derivative is 0 where it has one)."""
    return _round(x, decimals)


_floor_divide = _no_gradient("floor_divide", np.floor_divide, 2, elementwise=True)


def _trunc_quotient(a: Any, b: Any) -> Any:
    """The quotient fmod rounds towards 0: floor_divide's, plus 1 where a/b is negative
    and not a whole number."""
    q = np.floor_divide(a, b)
    return q + ((q < 0) & (np.fmod(a, b) != 0))


_trunc_divide = _no_gradient("trunc_divide", _trunc_quotient, 2, elementwise=True)

remainder = Op(
    "remainder",
    np.remainder,
    (lambda g, out, a, b: g, lambda g, out, a, b: -g * _floor_divide(a, b)),
    ("∂(a mod b)/∂a = 1", "∂(a mod b)/∂b = −⌊a/b⌋  (the quotient of a // b)"),
    saves=((), (0, 1)),
    elementwise=True,
    source="{0} % {1}",
)
public(remainder, numpy=np.remainder)
fmod = Op(
    "fmod",
    np.fmod,
    (lambda g, out, a, b: g, lambda g, out, a, b: -g * _trunc_divide(a, b)),
    ("∂fmod(a, b)/∂a = 1", "∂fmod(a, b)/∂b = −trunc(a/b)  (the exact quotient fmod used)"),
    saves=((), (0, 1)),
    elementwise=True,
)
public(fmod, numpy=np.fmod)
