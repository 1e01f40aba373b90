"""Small, separate passes over a :class:`~minigrad.jit.program.Program`.

Each pass is pure: it returns a new program and leaves the one it was given unchanged.
Each rewrite keeps every value's shape and dtype (NumPy's promotion of Python and NumPy
scalars included) and range, and :func:`optimize` can check every pass's result with the
verifier (:mod:`minigrad.jit.verify`). Random draws are never folded, merged or dropped;
checks (an op that may raise, such as a loss's range check) are never dropped.

The rewrites are exact, with one exception: a sum of squares Σ r·r (or its mean) of
float32 or float64 values is computed as one BLAS dot product, summed in another order
than NumPy's pairwise sum (a difference of a few units in the last place; at most about
n·ε relative for n terms). Integer, bool and float16 values are never reassociated.

1. :func:`lower` replaces fused ops by the primitives their ``lowering`` computes
   (``mse`` into its residual and a sum of squares, ``linear`` into a matmul and an add);
2. :func:`forward_aliases` drops copies that change nothing (detach, a reshape to the same
   shape);
3. :func:`fold_constants` computes at compile time what depends only on frozen constants
   (a broadcast scalar is never materialised);
4. :func:`simplify` applies exact identities: x·1, x/1, x−0, x**1 → x, x+0 → x for
   integers (for floats −0.0 + 0 is +0.0), −(−x) → x, x/2ᵏ → x·2⁻ᵏ, x**2 → x·x, and
   Σr·r, mean(r·r) → a dot product;
5. :func:`drop_scalar_broadcasts` feeds a broadcast scalar straight to the elementwise ops
   that would broadcast it anyway;
6. :func:`eliminate_common_subexpressions` computes each distinct (op, inputs) once;
7. :func:`eliminate_dead_code` keeps only what the outputs (and the checks) need;
8. :func:`plan_buffers` lets an elementwise op write into a temporary that dies with it
   (NumPy's ``out=``), and gives the large temporaries buffers kept between calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.jit.program import ARG, CONST, TEMP, Instr, Program, Value, constant, substitute

Pass = Callable[[Program], Program]


def _scalar(x: Any) -> Any:
    """The number a frozen constant argument holds (a Python or NumPy number, or a size-1
    frozen CONST), else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float | np.number):
        return x
    if isinstance(x, Value) and x.kind == CONST and x.frozen and np.size(x.source) == 1:
        return np.asarray(x.source).reshape(()).item()
    return None


def _is(x: Any, number: float) -> bool:
    s = _scalar(x)
    return s is not None and s == number


def _probe(x: Any) -> Any:
    """A one-element stand-in with x's dtype (a plain number stays itself: weak)."""
    if isinstance(x, Value):
        if x.weak is not None:
            return x.weak(1)
        if x.dtype == object:
            return x.source
        return np.ones((1,) * len(x.shape), x.dtype)
    return x


def result_type(op: Any, args: tuple) -> np.dtype | None:
    """The dtype an elementwise op gives on these arguments, as NumPy decides it (Python
    numbers weak, NumPy scalars strong), or None if NumPy refuses (an integer constant
    out of range of the array's dtype, say)."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(op.forward(*(_probe(a) for a in args))).dtype
    except (TypeError, ValueError, OverflowError):
        return None


def _same_type(ins: Instr, new: Instr) -> bool:
    """Whether an elementwise rewrite gives ins's shape and dtype."""
    shapes = [a.shape for a in new.values() if a.weak is None]
    try:
        shape = np.broadcast_shapes(*shapes) if shapes else ()
    except ValueError:
        return False
    return shape == ins.out.shape and result_type(new.op, new.args) == ins.out.dtype


# --------------------------------------------------------------------------- 1. lower


def lower(program: Program) -> Program:
    """Replace each fused op by the primitives recorded for it at trace time."""
    lowered = getattr(program, "lowerings", None) or {}
    if not lowered:
        return program
    instrs: list[Instr] = []
    replace_by: dict[Value, Any] = {}
    for ins in program.instrs:
        if ins in lowered:
            steps, result = lowered[ins]
            instrs += [Instr(s.op, s.args, s.out, ins.note or s.note, ins.phase) for s in steps]
            replace_by[ins.out] = result
        else:
            instrs.append(ins)
    return substitute(program.but(instrs=instrs, lowerings={}), replace_by)


# --------------------------------------------------------------------------- 2. aliases

_ALIASES = frozenset({"detach", "reshape", "sum_to", "broadcast_to"})


def forward_aliases(program: Program) -> Program:
    """Drop instructions that hand back their input unchanged (same shape and dtype)."""
    replace_by: dict[Value, Any] = {}
    kept = []
    for ins in program.instrs:
        x = ins.args[0] if ins.args else None
        same = isinstance(x, Value) and x.shape == ins.out.shape and x.dtype == ins.out.dtype
        if same and ins.op.name in _ALIASES and x.weak is None:
            replace_by[ins.out] = x
        else:
            kept.append(ins)
    return substitute(program.but(instrs=kept), replace_by)


# --------------------------------------------------------------------------- 3. constants

FOLD_MAX_SIZE = 1 << 16
"""A folded constant larger than this many elements is left for run time: computing it
once is not worth keeping it in memory."""


def effect(ins: Instr) -> bool:
    """Whether an instruction must run even when its result is unused: a draw, a check,
    an op that raises on some values (integer ** a negative integer)."""
    e = ins.op.effect
    return e is True or bool(e and e(*ins.args))


def _foldable(ins: Instr) -> bool:
    values = ins.values()
    return (
        not effect(ins)
        and all(v.kind == CONST and v.frozen for v in values)
        and not any(isinstance(a, np.ndarray) for a in ins.args)  # arrays held by reference
    )


def fold_constants(program: Program) -> Program:
    """Evaluate instructions whose inputs are all frozen constants.

    A constant keeps its compact form: broadcasting a scalar gives a CONST of the full
    shape whose ``source`` is still the scalar, and elementwise ops on such constants
    compute on the compact values (the result's dtype and values are the same).
    """
    kept = []
    replace_by: dict[Value, Any] = {}
    for ins in program.instrs:
        ins = ins.with_args(replace_by.get(a, a) if isinstance(a, Value) else a for a in ins.args)
        if not ins.values() or not _foldable(ins):
            kept.append(ins)
            continue
        if ins.op is ops.broadcast_to:
            src = np.asarray(ins.args[0].source)
            result = src.reshape((1,) * (len(ins.out.shape) - src.ndim) + src.shape)
        elif ins.op.elementwise:
            result = _evaluate(ins, [a.source if isinstance(a, Value) else a for a in ins.args])
        elif ins.out.size <= FOLD_MAX_SIZE:
            result = _evaluate(ins, [_full(a) for a in ins.args])
        else:
            kept.append(ins)
            continue
        if result is None or result.dtype != ins.out.dtype:
            kept.append(ins)  # NumPy would raise at run time, or promote otherwise
            continue
        replace_by[ins.out] = constant(result, ins.out.name, ins.out.shape)
    return substitute(program.but(instrs=kept), replace_by)


def _full(a: Any) -> Any:
    return np.broadcast_to(a.source, a.shape) if isinstance(a, Value) else a


def _evaluate(ins: Instr, raw: list[Any]) -> np.ndarray | None:
    try:
        with np.errstate(all="ignore"):
            return np.asarray(ins.op.forward(*raw))
    except (ArithmeticError, ValueError, TypeError):
        return None


# --------------------------------------------------------------------------- 4. algebra


def simplify(program: Program) -> Program:
    """Exact algebraic identities (see the module docstring)."""
    producer = {ins.out: ins for ins in program.instrs}
    replace_by: dict[Value, Any] = {}
    kept: list[Instr] = []
    for ins in program.instrs:
        ins = ins.with_args(replace_by.get(a, a) if isinstance(a, Value) else a for a in ins.args)
        new = _identity(ins, producer)
        if isinstance(new, Value):
            replace_by[ins.out] = new
            continue
        for step in [ins] if new is None else new:
            producer[step.out] = step
            kept.append(step)
    return substitute(program.but(instrs=kept), replace_by)


def _float(dtype: np.dtype) -> bool:
    return dtype in (np.dtype(np.float32), np.dtype(np.float64))


def _identity(ins: Instr, producer: dict[Value, Instr]) -> Any:
    """A Value equal to ins's result, simpler Instrs computing it, or None."""
    op, args, out = ins.op, ins.args, ins.out

    def keeps(x: Any) -> bool:  # x already is the result: same shape and dtype
        return isinstance(x, Value) and x.shape == out.shape and x.dtype == out.dtype

    if op is ops.mul and _is(args[1], 1) and keeps(args[0]):
        return args[0]
    if op is ops.mul and _is(args[0], 1) and keeps(args[1]):
        return args[1]
    if op in (ops.div, ops.pow) and _is(args[1], 1) and keeps(args[0]):
        return args[0]
    if op is ops.sub and _is(args[1], 0) and not np.signbit(_scalar(args[1])) and keeps(args[0]):
        return args[0]  # x − (+0) = x, −0.0 included; x − (−0) = x + 0 turns −0.0 into +0.0
    if op is ops.add and out.dtype.kind in "iub":
        for x, zero in (args, args[::-1]):
            if _is(zero, 0) and keeps(x):
                return x  # for floats, −0.0 + 0 = +0.0: not an identity
    if op is ops.neg:
        inner = producer.get(args[0])
        if inner is not None and inner.op is ops.neg and keeps(inner.args[0]):
            return inner.args[0]
    if op is ops.div and out.dtype.kind == "f" and _float_constant(args[1]):
        c = _scalar(args[1])
        if c is not None and c != 0 and _power_of_two(c, out.dtype):
            new = Instr(ops.mul, (args[0], _like(args[1], 1.0 / c)), out, ins.note, ins.phase)
            return [new] if _same_type(ins, new) else None  # x/2ᵏ = x·2⁻ᵏ exactly
    if op is ops.pow and _is(args[1], 2) and _float(out.dtype) and keeps(args[0]):
        return [Instr(ops.mul, (args[0], args[0]), out, ins.note, ins.phase)]
    if op in (ops._sum, ops._mean) and args[1] is None and not args[2]:
        return _sum_of_squares(ins, producer)
    return None


def _float_constant(x: Any) -> bool:
    """A Python number, or a float constant: one whose reciprocal 1/c is of its kind (an
    integer NumPy constant would round 1/2 to 0)."""
    if isinstance(x, Value):
        return x.dtype.kind == "f"
    if isinstance(x, np.generic):
        return x.dtype.kind == "f"
    return isinstance(x, int | float)


def _power_of_two(c: float, dtype: np.dtype) -> bool:
    """Whether 1/c is exact in ``dtype`` (c = ±2ᵏ with 2⁻ᵏ a normal number of it)."""
    mantissa, exponent = math.frexp(abs(float(c)))
    info = np.finfo(dtype)
    return mantissa == 0.5 and info.minexp <= 2 - exponent <= info.maxexp - 1


def _like(template: Any, number: float) -> Any:
    """``number`` as the same kind of constant as ``template``: a Python number, a NumPy
    scalar, or a frozen CONST of its dtype and shape (so it promotes the same way)."""
    if isinstance(template, Value):
        value = np.full(np.shape(template.source), number, dtype=template.dtype)
        return constant(value, f"{template.name}_inv", template.shape)
    if isinstance(template, np.generic):
        return type(template)(number)
    return number


def _sum_of_squares(ins: Instr, producer: dict[Value, Instr]) -> list[Instr] | None:
    """Σ r·r → vdot(r, r), mean(r·r) → vdot(r, r) / n, for float32/float64 r (n > 0):
    one pass over r, and no array of squares."""
    square = producer.get(ins.args[0])
    if square is None:
        return None
    r = square.args[0]
    same = square.op is ops.mul and square.args[1] is r
    if square.op is ops.pow and _is(square.args[1], 2):
        same = True
    if not (same and isinstance(r, Value) and r.weak is None and r.size > 0):
        return None
    if not (_float(r.dtype) and r.dtype == ins.out.dtype == square.out.dtype):
        return None
    total = Value(f"sumsq_{r.name}", (), r.dtype)
    steps = [Instr(ops.sumsq, (r,), total, ins.note, ins.phase)]
    if ins.op is ops._mean:
        steps.append(Instr(ops.div, (total, r.size), ins.out, ins.note, ins.phase))
    else:
        steps[0] = Instr(ops.sumsq, (r,), ins.out, ins.note, ins.phase)
    return steps


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
    instrs = []
    for ins in program.instrs:
        if ins.op.elementwise and any(a in scalars for a in ins.values()):
            args = list(ins.args)
            for k, a in enumerate(args):
                if isinstance(a, Value) and a in scalars:
                    s = scalars[a]
                    others = [
                        x.shape for j, x in enumerate(args) if j != k and isinstance(x, Value)
                    ]
                    if np.broadcast_shapes(s.shape, *others) == ins.out.shape:
                        args[k] = s
            ins = ins.with_args(args)
        instrs.append(ins)
    return program.but(instrs=instrs)


# --------------------------------------------------------------------------- 6. CSE


def _key(x: Any) -> Any:
    if isinstance(x, Value):
        if x.kind == CONST and x.frozen and x.size <= 16:
            return ("const", x.dtype.str, x.shape, np.asarray(x.source).tobytes())
        return ("value", id(x))
    if isinstance(x, np.ndarray | np.random.Generator):
        return ("object", id(x))
    if isinstance(x, tuple | list):
        return (type(x).__name__, tuple(_key(y) for y in x))
    if isinstance(x, float):
        return ("float", x.hex())  # −0.0 and 0.0 differ
    try:
        hash(x)
    except TypeError:
        return ("object", id(x))
    return ("plain", type(x).__name__, x)


def eliminate_common_subexpressions(program: Program) -> Program:
    """Compute each distinct (op, inputs) once (random draws excepted: each is new)."""
    seen: dict[Any, Value] = {}
    replace_by: dict[Value, Any] = {}
    kept = []
    for ins in program.instrs:
        ins = ins.with_args(replace_by.get(a, a) if isinstance(a, Value) else a for a in ins.args)
        key = (id(ins.op), tuple(_key(a) for a in ins.args))
        if not ins.op.random and key in seen:
            replace_by[ins.out] = seen[key]
            continue
        seen[key] = ins.out
        kept.append(ins)
    return substitute(program.but(instrs=kept), replace_by)


# --------------------------------------------------------------------------- 7. DCE


def eliminate_dead_code(program: Program) -> Program:
    """Keep only the instructions the outputs depend on, and every draw and check."""
    needed = {v for v in program.outputs if isinstance(v, Value)}
    kept = []
    for ins in reversed(program.instrs):
        if ins.out in needed or effect(ins):
            needed.update(ins.values())
            kept.append(ins)
    lives = tuple(v for v in program.lives if v in needed)
    return program.but(instrs=kept[::-1], lives=lives)


# --------------------------------------------------------------------------- 8. buffers

BUFFER_MIN_SIZE = 4096
"""Temporaries with at least this many elements get a buffer kept between calls: a fresh
array that large costs page faults (and memory traffic) on every call. Smaller ones are
cheaper to allocate than to manage."""


def owners(program: Program) -> dict[Value, set[Value]]:
    """For each value an op may have made as a view: the values whose memory it may
    share (through views of views: the roots)."""
    roots: dict[Value, set[Value]] = {}
    for ins in program.instrs:
        view = ins.op.view
        if view is True or (view and view(*ins.args)):
            shared: set[Value] = set()
            for v in ins.values():
                shared |= roots.get(v, {v})
            roots[ins.out] = shared
    return roots


def plan_buffers(program: Program) -> Program:
    """Decide where each large elementwise (or matmul) result is written.

    A result may overwrite an input that is a temporary of its shape and dtype whose
    last use (through any view of it) is this instruction: ``np.add(t, b, out=t)``.
    Otherwise it gets a buffer of its own that the compiled function keeps between
    calls (one set per thread). Outputs, and the arrays they may view, are never
    buffers: what the caller gets is its own.
    """
    roots = owners(program)
    last_use: dict[Value, int] = {}
    for k, ins in enumerate(program.instrs):
        for v in ins.values():
            for root in roots.get(v, {v}):
                last_use[root] = k
    escaping = set()
    for v in program.outputs:
        if isinstance(v, Value):
            escaping |= roots.get(v, {v})
    viewed = set().union(*roots.values()) if roots else set()
    storage: dict[Value, str] = {}
    into: dict[Instr, Value] = {}
    for k, ins in enumerate(program.instrs):
        out = ins.out
        writable = ins.op is ops.matmul or (ins.op.elementwise and _ufunc(ins.op) is not None)
        if not writable or out in escaping or len(out.shape) == 0:
            continue
        if out.size < BUFFER_MIN_SIZE or out.dtype == object:
            continue
        target = None
        if ins.op is not ops.matmul:  # a matmul may not write over its own input
            target = next(
                (
                    a
                    for a in ins.values()
                    if a.kind == TEMP
                    and a in storage
                    and a not in roots
                    and a not in viewed
                    and a.shape == out.shape
                    and a.dtype == out.dtype
                    and last_use.get(a) == k
                ),
                None,
            )
        if target is not None:
            storage[out] = storage[target]
            into[ins] = target
        else:
            storage[out] = out.name
    return program.but(storage=storage, into=into)


def _ufunc(op: Any) -> np.ufunc | None:
    """The NumPy ufunc an op's forward is (so it can write into a buffer), if any."""
    return op.forward if isinstance(op.forward, np.ufunc) else None


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


def optimize(
    program: Program, passes: tuple[Pass, ...] = PIPELINE, verify: bool = False
) -> Program:
    """Run ``passes`` in order; with ``verify``, check the program after each one."""
    if verify:
        from minigrad.jit.verify import check

        check(program, "the trace")
    for p in passes:
        program = p(program)
        if verify:
            check(program, p.__name__)
    return program


__all__ = ["ARG", "PIPELINE", "optimize", "owners", "plan_buffers", "result_type"]
