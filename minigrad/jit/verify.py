"""The verifier: a program must compute what the trace computed, value by value.

:func:`check` runs a program instruction by instruction with each op's own forward and
checks every result against what the op gives on its inputs' shapes and dtypes — the
Value must say the same shape and dtype — and, when the trace's values were kept
(``mg.jit(fn, verify=True)``), against the traced value itself: bitwise, except
downstream of a sum of squares that a pass turned into a dot product (the one documented
reassociation, bounded by 8·n·ε relative). Random draws are not redrawn: their traced
values are used. The tests run it after every pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops
from minigrad.jit.program import ARG, CONST, LIVE, Program, Value
from minigrad.tensor import Tensor


class VerifyError(AssertionError):
    """A pass made a program that computes something else than the trace."""


def _input(v: Value, reference: dict[Value, Any] | None) -> Any:
    if v.kind == CONST:
        return np.broadcast_to(v.source, v.shape)
    if v.weak is not None:
        return reference.get(v, v.weak(1)) if reference else v.weak(1)
    if reference is not None and v in reference:
        return reference[v]
    if v.kind == LIVE:
        source = v.source
        return source.data if isinstance(source, Tensor) else source
    return np.zeros(v.shape, v.dtype)


def check(program: Program, after: str) -> None:
    """Raise VerifyError if ``program`` (as left by the pass ``after``) is not the trace."""
    reference = program.reference
    known: dict[Value, Any] = {}
    tolerance: dict[Value, float] = {}
    for v in (*program.args, *program.lives):
        known[v] = _input(v, reference)
    for ins in program.instrs:
        raw = []
        for a in ins.args:
            if isinstance(a, Value):
                if a.kind in (ARG, LIVE, CONST) and a not in known:
                    known[a] = _input(a, reference)
                if a not in known:
                    raise VerifyError(f"after {after}: {ins.name} reads {a.name} before it is made")
                raw.append(known[a])
            else:
                raw.append(a)
        if ins.op.random and reference is not None and ins.out in reference:
            value = reference[ins.out]
        else:
            with np.errstate(all="ignore"):
                value = np.asarray(ins.op.forward(*raw))
        if value.shape != ins.out.shape or value.dtype != ins.out.dtype:
            raise VerifyError(
                f"after {after}: {ins.name} gives {value.dtype}{value.shape}, but its "
                f"result {ins.out.name} says {ins.out.dtype}{ins.out.shape}"
            )
        known[ins.out] = value
        rtol = max((tolerance.get(a, 0.0) for a in ins.values()), default=0.0)
        if ins.op is ops.sumsq and ins.out.dtype.kind == "f":
            rtol = max(rtol, 8 * ins.args[0].size * float(np.finfo(ins.out.dtype).eps))
        tolerance[ins.out] = rtol
        if reference is not None and ins.out in reference:
            _compare(after, ins.out, value, reference[ins.out], rtol)
    for v in program.outputs:
        if isinstance(v, Value) and v.kind not in (ARG, LIVE, CONST) and v not in known:
            raise VerifyError(f"after {after}: the output {v.name} is never computed")


def _compare(after: str, v: Value, got: np.ndarray, traced: np.ndarray, rtol: float) -> None:
    traced = np.asarray(traced)
    if rtol == 0.0:
        same = np.array_equal(got, traced, equal_nan=got.dtype.kind in "fc")
        if same and got.dtype.kind == "f":
            same = np.array_equal(np.signbit(got), np.signbit(traced))
    else:
        same = np.allclose(got, traced, rtol=rtol, atol=0, equal_nan=True)
    if not same:
        raise VerifyError(f"after {after}: {v.name} differs from the traced value")


__all__ = ["VerifyError", "check"]
