"""Small, separate passes over a :class:`~minigrad.jit.program.Program`.

Each pass takes a program and returns it rewritten; none changes a result beyond float
reassociation, and the only reassociations are: constant factors are multiplied together
first (``(x·a)·b → x·(a·b)``), a division by a constant is a multiplication by its
reciprocal, and a sum of squares is one dot product (``mean(r·r) → r·r / N``, summed by
BLAS instead of NumPy's pairwise sum). Each changes results by a few units in the last
place.

1. :func:`lower` splits fused ops into primitives the other passes understand: ``mse``
   into its residual and a sum of squares, ``linear`` into a matmul and an add;
2. :func:`forward_aliases` replaces copies that change nothing (detach, a reshape to the
   same shape) by their input;
3. :func:`fold_constants` computes at compile time what depends only on constants,
   except broadcasts (a broadcast scalar is never materialised);
4. :func:`simplify` applies algebraic identities: x·1, x+0, x−0, x/1, x**1 → x;
   x**2 → x·x; −(−x) → x; constant factors merged; Σr·r and mean(r·r) → dot products;
5. :func:`drop_scalar_broadcasts` feeds a broadcast scalar straight to the elementwise
   ops that would broadcast it anyway;
6. :func:`eliminate_common_subexpressions` computes each distinct (op, inputs) once;
7. :func:`eliminate_dead_code` keeps only what the outputs need;
8. :func:`plan_buffers` lets an elementwise op write into a temporary that dies with it
   (NumPy's ``out=``), and gives the large temporaries buffers kept between calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import losses, ops
from minigrad.autograd import Op
from minigrad.jit.program import CONST, TEMP, Instr, Program, Value

# ops that exist only in compiled programs (the passes introduce them)
SUMSQ = Op("sumsq", lambda r: np.asarray(np.vdot(r, r)), (None,))
"""Σ rᵢ² as one BLAS dot product."""

ELEMENTWISE = {
    ops.add, ops.sub, ops.mul, ops.div, ops.pow, ops.neg, ops.exp, ops.log, ops.log1p,
    ops.sqrt, ops.abs, ops.sin, ops.cos, ops.tanh, ops.sigmoid, ops.softplus,
    ops.log_sigmoid, ops.relu, ops.maximum, ops.minimum, ops._where, ops.sign, ops.isnan,
    ops.isfinite, ops.logical_and, ops.logical_or, ops.logical_not,
    *ops.COMPARISONS.values(),
}  # fmt: skip
"""Ops whose output is their broadcast inputs, element by element."""

UFUNCS = {
    ops.add: np.add, ops.sub: np.subtract, ops.mul: np.multiply, ops.div: np.divide,
    ops.pow: np.power, ops.neg: np.negative, ops.exp: np.exp, ops.log: np.log,
    ops.log1p: np.log1p, ops.sqrt: np.sqrt, ops.abs: np.absolute, ops.sin: np.sin,
    ops.cos: np.cos, ops.tanh: np.tanh, ops.maximum: np.maximum, ops.minimum: np.minimum,
}  # fmt: skip
"""Elementwise ops that are one NumPy ufunc, so they can write into a buffer (``out=``)."""

Pass = Callable[[Program], Program]


def _substitute(program: Program, replace: dict[Value, Any]) -> Program:
    """Every use of a Value in ``replace`` reads its replacement instead."""
    if not replace:
        return program

    def final(v: Any) -> Any:
        while isinstance(v, Value) and v in replace:
            v = replace[v]
        return v

    for ins in program.instrs:
        ins.args = [final(a) for a in ins.args]
    program.outputs = [final(v) for v in program.outputs]
    return program


def _scalar(x: Any) -> Any:
    """The number a constant argument holds (a Python number or a size-1 CONST), else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float | np.number):
        return x
    if isinstance(x, Value) and x.kind == CONST and np.size(x.source) == 1:
        return np.asarray(x.source).reshape(()).item()  # a scalar, maybe broadcast
    return None


def _is(x: Any, number: float) -> bool:
    s = _scalar(x)
    return s is not None and s == number


def _constant(value: Any, name: str) -> Value:
    value = np.asarray(value)
    return Value(name, value.shape, value.dtype, CONST, source=value)


# --------------------------------------------------------------------------- 1. lower


def lower(program: Program) -> Program:
    """Split ``mse`` and ``linear`` into primitives (their values are identical)."""
    instrs: list[Instr] = []
    for ins in program.instrs:
        if ins.op is losses._mse:
            pred, target = ins.args[:2]
            r = Value("r", pred.shape, ins.out.dtype)  # codegen makes names unique
            total = Value("sum_r2", (), ins.out.dtype)
            instrs += [
                Instr(ops.sub, [pred, target], r, ins.note),
                Instr(SUMSQ, [r], total, ins.note),
                Instr(ops.div, [total, float(max(r.size, 1))], ins.out, ins.note),
            ]
        elif ins.op is ops.linear:
            x, weight, bias = ins.args
            if isinstance(weight, Value) and len(weight.shape) == 2:
                t = Value(f"{weight.name}_T", weight.shape[::-1], weight.dtype)
                instrs.append(Instr(ops.transpose, [weight, None], t, ins.note))
                weight = t
            if bias is None:
                instrs.append(Instr(ops.matmul, [x, weight], ins.out, ins.note))
                continue
            xw = Value(f"{ins.out.name}_xw", ins.out.shape, ins.out.dtype)
            instrs += [
                Instr(ops.matmul, [x, weight], xw, ins.note),
                Instr(ops.add, [xw, bias], ins.out, ins.note),
            ]
        else:
            instrs.append(ins)
    program.instrs = instrs
    return program


# --------------------------------------------------------------------------- 2. aliases


def forward_aliases(program: Program) -> Program:
    """Drop instructions that hand back their input unchanged."""
    replace: dict[Value, Any] = {}
    kept = []
    for ins in program.instrs:
        x = ins.args[0] if ins.args else None
        same = isinstance(x, Value) and x.shape == ins.out.shape and x.dtype == ins.out.dtype
        if same and ins.op in (ops._stop_gradient, ops.reshape, ops.sum_to, ops.broadcast_to):
            replace[ins.out] = x
        else:
            kept.append(ins)
    program.instrs = kept
    return _substitute(program, replace)


# --------------------------------------------------------------------------- 3. constants


FOLD_MAX_SIZE = 1 << 20
"""A folded constant larger than this many elements is left for run time: computing it
once is not worth keeping it in memory."""


def fold_constants(program: Program) -> Program:
    """Evaluate instructions whose inputs are all constants.

    A constant keeps its compact form: broadcasting a scalar gives a CONST of the full
    shape whose ``source`` is still the scalar, and elementwise ops on such constants
    compute on the scalars. Nothing N-sized is made for a broadcast scalar; the code
    generator writes it back as the scalar where the consumer broadcasts it anyway.
    """
    kept = []
    for ins in program.instrs:
        values = ins.values()
        if not values or not all(v.kind == CONST for v in values):
            kept.append(ins)
            continue
        if ins.op is ops.broadcast_to:
            src = np.asarray(ins.args[0].source)
            result = src.reshape((1,) * (len(ins.out.shape) - src.ndim) + src.shape)
        elif ins.op in ELEMENTWISE:
            result = _evaluate(ins, [a.source if isinstance(a, Value) else a for a in ins.args])
        elif ins.out.size <= FOLD_MAX_SIZE:
            full = [
                np.broadcast_to(a.source, a.shape) if isinstance(a, Value) else a for a in ins.args
            ]
            result = _evaluate(ins, full)
        else:
            kept.append(ins)
            continue
        ins.out.kind, ins.out.source = CONST, result.astype(ins.out.dtype, copy=False)
    program.instrs = kept
    return program


def _full(a: Any) -> Any:
    return np.broadcast_to(a.source, a.shape) if isinstance(a, Value) else a


def _evaluate(ins: Instr, raw: list[Any]) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(ins.op.forward(*raw))


def compact(v: Value) -> np.ndarray:
    """A CONST's stored value: its full value, or a smaller array that broadcasts to it."""
    return np.asarray(v.source)


# --------------------------------------------------------------------------- 4. algebra


def simplify(program: Program) -> Program:
    """Algebraic identities (see the module docstring)."""
    producer = {ins.out: ins for ins in program.instrs}
    uses = program.uses()
    replace: dict[Value, Any] = {}
    kept = []
    for ins in program.instrs:
        ins.args = [replace.get(a, a) if isinstance(a, Value) else a for a in ins.args]
        new = _identity(ins, producer, uses)
        if isinstance(new, Value):
            replace[ins.out] = new
            continue
        for step in [ins] if new is None else new if isinstance(new, list) else [new]:
            producer[step.out] = step
            kept.append(step)
    program.instrs = kept
    return _substitute(program, replace)


def _identity(ins: Instr, producer: dict[Value, Instr], uses: dict[Value, int]) -> Any:
    """A Value equal to ins's result, a simpler Instr computing it, or None."""
    op, args, out = ins.op, ins.args, ins.out

    def keeps(x: Any) -> bool:  # x already has the result's shape and dtype
        return isinstance(x, Value) and x.shape == out.shape and x.dtype == out.dtype

    if op is ops.mul:
        a, b = args
        if _is(b, 1) and keeps(a):
            return a
        if _is(a, 1) and keeps(b):
            return b
        merged = _merge_factors(a, b, producer, uses)
        if merged is not None:
            return Instr(ops.mul, merged, out, ins.note)
    if op in (ops.add, ops.sub) and _is(args[1], 0) and keeps(args[0]):
        return args[0]
    if op is ops.add and _is(args[0], 0) and keeps(args[1]):
        return args[1]
    if op is ops.div and _is(args[1], 1) and keeps(args[0]):
        return args[0]
    if op is ops.div and _scalar(args[1]) not in (None, 0):  # x/c → x·(1/c): mergeable
        return Instr(ops.mul, [args[0], _like(args[1], 1.0 / _scalar(args[1]))], out, ins.note)
    if op is ops.pow and _is(args[1], 1) and keeps(args[0]):
        return args[0]
    if op is ops.pow and _is(args[1], 2):
        return Instr(ops.mul, [args[0], args[0]], out, ins.note)
    if op is ops.neg:
        inner = producer.get(args[0])
        if inner is not None and inner.op is ops.neg and keeps(inner.args[0]):
            return inner.args[0]
    if op in (ops._sum, ops._mean) and args[1] is None and not args[2]:
        square = producer.get(args[0])
        if square is not None and square.op is ops.mul and square.args[0] is square.args[1]:
            r = square.args[0]
            if isinstance(r, Value):
                scale = 1.0 if op is ops._sum else 1.0 / max(r.size, 1)
                total = Value(f"sumsq_{r.name}", (), out.dtype)
                producer[total] = Instr(SUMSQ, [r], total, ins.note)
                return [producer[total], Instr(ops.mul, [total, scale], out, ins.note)]
    return None


def _merge_factors(
    a: Any, b: Any, producer: dict[Value, Instr], uses: dict[Value, int]
) -> list[Any] | None:
    """(x·c₁)·c₂ → [x, c₁·c₂] when x·c₁ is used only here (reassociation)."""
    for inner, c2 in ((a, b), (b, a)):
        if _scalar(c2) is None or not isinstance(inner, Value) or uses.get(inner, 0) != 1:
            continue
        first = producer.get(inner)
        if first is None or first.op is not ops.mul:
            continue
        for x, c1 in (first.args, first.args[::-1]):
            if _scalar(c1) is not None:
                # a constant array keeps its dtype (NumPy promotes by it; a Python number
                # adapts), so the product promotes exactly as the two factors did
                arrays = [c for c in (c1, c2) if isinstance(c, Value)]
                holder = max(arrays, key=lambda c: c.dtype.itemsize) if arrays else c1
                return [x, _like(holder, _scalar(c1) * _scalar(c2))]
    return None


def _like(template: Any, number: float) -> Any:
    """``number`` as the same kind of constant as ``template``: a Python number, or a
    CONST Value of its dtype (so the arithmetic promotes the same way)."""
    if isinstance(template, Value):
        return _constant(np.asarray(number, dtype=template.dtype), f"{template.name}_c")
    return number


# --------------------------------------------------------------------------- 5. broadcasts


def drop_scalar_broadcasts(program: Program) -> Program:
    """Pass a scalar straight to the elementwise ops that would broadcast it anyway."""
    scalars = {
        ins.out: ins.args[0]
        for ins in program.instrs
        if ins.op is ops.broadcast_to and isinstance(ins.args[0], Value) and ins.args[0].size == 1
    }
    if not scalars:
        return program
    for ins in program.instrs:
        if ins.op not in ELEMENTWISE:
            continue
        for k, a in enumerate(ins.args):
            if a in scalars:
                s = scalars[a]
                others = [
                    x.shape for j, x in enumerate(ins.args) if j != k and isinstance(x, Value)
                ]
                if np.broadcast_shapes(s.shape, *others) == ins.out.shape:
                    ins.args[k] = s
    return program


# --------------------------------------------------------------------------- 6. CSE


def _key(x: Any) -> Any:
    if isinstance(x, Value):
        if x.kind == CONST and x.size <= 16:
            return ("const", x.dtype.str, x.shape, np.asarray(x.source).tobytes())
        return ("value", id(x))
    if isinstance(x, np.ndarray):
        return ("array", id(x))
    if isinstance(x, tuple | list):
        return (type(x).__name__, tuple(_key(y) for y in x))
    try:
        hash(x)
    except TypeError:
        return ("object", id(x))
    return ("plain", type(x).__name__, x)


def eliminate_common_subexpressions(program: Program) -> Program:
    """Compute each distinct (op, inputs) once (random ops, like dropout, excepted)."""
    seen: dict[Any, Value] = {}
    replace: dict[Value, Any] = {}
    kept = []
    for ins in program.instrs:
        ins.args = [replace.get(a, a) if isinstance(a, Value) else a for a in ins.args]
        key = (id(ins.op), tuple(_key(a) for a in ins.args))
        if ins.op.name != "dropout_mask" and key in seen:
            replace[ins.out] = seen[key]
            continue
        seen[key] = ins.out
        kept.append(ins)
    program.instrs = kept
    return _substitute(program, replace)


# --------------------------------------------------------------------------- 7. DCE


def eliminate_dead_code(program: Program) -> Program:
    """Keep only the instructions the outputs depend on."""
    needed = {v for v in program.outputs if isinstance(v, Value)}
    kept = []
    for ins in reversed(program.instrs):
        if ins.out in needed:
            needed.update(ins.values())
            kept.append(ins)
    program.instrs = kept[::-1]
    program.lives = [v for v in program.lives if v in needed]
    return program


# --------------------------------------------------------------------------- 8. buffers

BUFFER_MIN_SIZE = 4096
"""Temporaries with at least this many elements get a buffer kept between calls: a fresh
array that large costs page faults (and memory traffic) on every call. Smaller ones are
cheaper to allocate than to manage."""


def plan_buffers(program: Program) -> Program:
    """Decide where each large elementwise result is written.

    A result may overwrite an input that is a temporary of its shape and dtype whose
    last use (through any view of it) is this instruction: ``np.add(t, b, out=t)``.
    Otherwise it gets a buffer of its own that the compiled function keeps between
    calls (one set per thread). Outputs, and the arrays they may view, are never
    buffers: what the caller gets is its own.
    """
    owner: dict[Value, Value] = {}  # a view -> the value whose memory it shares
    for ins in program.instrs:
        base = ins.args[0] if ins.args and isinstance(ins.args[0], Value) else None
        if ins.op.view and base is not None:  # the result may share base's memory
            owner[ins.out] = owner.get(base, base)
    last_use: dict[Value, int] = {}
    for k, ins in enumerate(program.instrs):
        for v in ins.values():
            last_use[owner.get(v, v)] = k
    escaping = {owner.get(v, v) for v in program.outputs if isinstance(v, Value)}
    for k, ins in enumerate(program.instrs):
        out = ins.out
        if ins.op not in UFUNCS and ins.op is not ops.matmul:
            continue
        if out in escaping or len(out.shape) == 0 or out.size < BUFFER_MIN_SIZE:
            continue
        target = None
        if ins.op is not ops.matmul:  # a matmul may not write over its own input
            target = next(
                (
                    a
                    for a in ins.args
                    if isinstance(a, Value)
                    and a.kind == TEMP
                    and a.storage is not None
                    and a not in owner
                    and a.shape == out.shape
                    and a.dtype == out.dtype
                    and last_use.get(a) == k
                ),
                None,
            )
        if target is not None:
            out.storage = target.storage
            ins.into = target
        else:
            out.storage = out.name
    return program


PIPELINE: tuple[Pass, ...] = (
    lower,
    forward_aliases,
    fold_constants,
    simplify,
    fold_constants,
    simplify,
    drop_scalar_broadcasts,
    eliminate_common_subexpressions,
    simplify,
    eliminate_dead_code,
    plan_buffers,
)


def optimize(program: Program, passes: tuple[Pass, ...] = PIPELINE) -> Program:
    """Run ``passes`` in order."""
    for p in passes:
        program = p(program)
    return program
