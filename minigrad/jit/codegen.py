"""Write a :class:`~minigrad.jit.program.Program` out as Python source, one NumPy call a line.

The forward pass comes first, then the backward pass, each backward line commented with
the gradient rule it came from (the op's own derivative text). ``exec`` turns the source
into the function that runs: what you read is exactly what runs.

Large temporaries live in buffers kept between calls, one set per thread
(``buf.NAME``); a line that may overwrite a dead temporary says so with ``out=``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.jit.passes import ELEMENTWISE, SUMSQ, UFUNCS
from minigrad.jit.program import CONST, Instr, Program, Value

INFIX = {
    ops.add: "+", ops.sub: "-", ops.mul: "*", ops.div: "/", ops.pow: "**", ops.matmul: "@",
    **{op: sym for op, sym in zip(
        ops.COMPARISONS.values(), ("==", "!=", "<", "<=", ">", ">="), strict=True
    )},
}  # fmt: skip
CALL = {
    ops.exp: "np.exp", ops.log: "np.log", ops.log1p: "np.log1p", ops.sqrt: "np.sqrt",
    ops.abs: "np.abs", ops.sin: "np.sin", ops.cos: "np.cos", ops.tanh: "np.tanh",
    ops.maximum: "np.maximum", ops.minimum: "np.minimum", ops._where: "np.where",
    ops.logical_and: "np.logical_and", ops.logical_or: "np.logical_or",
    ops.logical_not: "np.logical_not", ops.isnan: "np.isnan", ops.isfinite: "np.isfinite",
    ops.sign: "np.sign", SUMSQ: "np.vdot", ops._clip: "np.clip",
}  # fmt: skip
REDUCTIONS = {ops._sum: "sum", ops._mean: "mean", ops._max: "max", ops._min: "min"}


class _Writer:
    """Renders arguments; puts what cannot be written inline into the namespace."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"np": np}
        self.names: dict[int, str] = {}
        self.inline: dict[Value, str] = {}  # views written into their one consumer
        self.name: dict[Value, str] = {}  # every Value's variable name, unique

    def name_values(self, program: Program) -> None:
        """Give every Value a distinct name: passes may create names that clash."""
        taken = set(self.namespace)
        values = [*program.args, *program.lives, *(ins.out for ins in program.instrs)]
        for v in values:
            name, k = v.name if v.name.isidentifier() else "v", 2
            while name in taken or name in ("buf", "np"):
                name, k = f"{v.name}_{k}", k + 1
            taken.add(name)
            self.name[v] = name

    def bind(self, obj: Any, hint: str) -> str:
        """A namespace name for ``obj`` (a function, an array, a generator, ...)."""
        if id(obj) not in self.names:
            name, k = f"_{hint}", 2
            while name in self.namespace:
                name, k = f"_{hint}{k}", k + 1
            self.namespace[name] = obj
            self.names[id(obj)] = name
        return self.names[id(obj)]

    def arg(self, a: Any, broadcasts: bool = False, weak: bool = False) -> str:
        """``a`` as source text. A constant stored compactly (a scalar standing for a
        broadcast) is written as the scalar where ``broadcasts`` (its consumer would
        broadcast it anyway), else as a zero-copy ``np.broadcast_to`` view. A 0-d
        constant is a plain number where ``weak`` (it cannot change the result's
        dtype), else a NumPy scalar, which promotes as an array does."""
        if isinstance(a, Value):
            if a.kind != CONST:
                return self.inline.get(a) or self.name[a]
            value = np.asarray(a.source)
            scalar = value.size == 1 and value.dtype.kind in "fiub"
            if scalar and (broadcasts or value.shape == a.shape):
                number = _number(value.item())
                if value.shape != () and not broadcasts:
                    return f"np.{value.dtype.name}({number}).reshape({a.shape})"
                return number if weak else f"np.{value.dtype.name}({number})"
            name = self.bind(value, a.name)
            if value.shape == a.shape or broadcasts:
                return name
            return f"np.broadcast_to({name}, {a.shape!r})"
        if isinstance(a, np.dtype):
            return f"np.{a.name}"
        if isinstance(a, type) and issubclass(a, np.generic):
            return f"np.{a.__name__}"
        if isinstance(a, float):
            return _number(a)
        if a is None or isinstance(a, bool | int | str):
            return repr(a)
        if isinstance(a, tuple) and all(isinstance(x, int | np.integer) for x in a):
            return repr(tuple(int(x) for x in a))
        return self.bind(a, "k")

    def index(self, index: Any) -> str:
        items = index if isinstance(index, tuple) else (index,)
        parts = []
        for i in items:
            if isinstance(i, slice):
                parts.append(
                    ":".join("" if x is None else repr(x) for x in (i.start, i.stop))
                    + ("" if i.step is None else f":{i.step!r}")
                )
            elif i is Ellipsis:
                parts.append("...")
            else:
                parts.append(self.arg(i))
        return ", ".join(parts) if parts else "()"


def _number(x: Any) -> str:
    """A Python number as source text (inf and nan included)."""
    if isinstance(x, float) and not np.isfinite(x):
        return "np.nan" if np.isnan(x) else ("np.inf" if x > 0 else "-np.inf")
    return repr(x)


def _broadcasting_args(ins: Instr) -> set[int]:
    """Positions of compact constants an elementwise op may be given as they are."""
    if ins.op not in ELEMENTWISE:
        return set()
    shapes = [x.shape if isinstance(x, Value) else () for x in ins.args]
    ok = set()
    for k, x in enumerate(ins.args):
        if isinstance(x, Value) and x.kind == CONST and np.shape(x.source) != x.shape:
            small = [np.shape(x.source) if j == k else s for j, s in enumerate(shapes)]
            if np.broadcast_shapes(*small) == ins.out.shape:
                ok.add(k)
    return ok


def _weak_constants(ins: Instr) -> set[int]:
    """Positions of number constants a plain Python number may stand for: in an
    elementwise op whose other operands all have the result's float dtype, a "weak"
    Python float cannot change that dtype (nor, being exact, the value)."""
    if ins.op not in ELEMENTWISE or ins.out.dtype.kind != "f":
        return set()
    positions = set()
    for k, x in enumerate(ins.args):
        if isinstance(x, Value) and x.kind == CONST and np.size(x.source) == 1:
            others = [y for j, y in enumerate(ins.args) if j != k and isinstance(y, Value)]
            floats = np.asarray(x.source).dtype.kind == "f"
            if floats and others and all(y.dtype == ins.out.dtype for y in others):
                positions.add(k)
    return positions


def _expression(ins: Instr, w: _Writer) -> str:
    """The right-hand side of ``out = ...`` for one instruction."""
    op, a = ins.op, ins.args
    compact = _broadcasting_args(ins)
    weak = _weak_constants(ins)

    def r(x: Any) -> str:
        k = next((j for j, y in enumerate(a) if y is x), -1)
        return w.arg(x, k in compact, k in weak)

    if ins.into is not None or (ins.out.storage is not None and (op in UFUNCS or op is ops.matmul)):
        target = w.name[ins.into] if ins.into is not None else f"buf.{ins.out.storage}"
        fn = "np.matmul" if op is ops.matmul else f"np.{UFUNCS[op].__name__}"
        return f"{fn}({', '.join(r(x) for x in a)}, out={target})"
    if op in INFIX:
        return f"{r(a[0])} {INFIX[op]} {r(a[1])}"
    if op is ops.neg:
        return f"-{r(a[0])}"
    if op in CALL:
        args = [a[0], a[0]] if op is SUMSQ else a
        return f"{CALL[op]}({', '.join(r(x) for x in args)})"
    if op is ops.relu:
        return f"np.maximum({r(a[0])}, 0)"
    if op is ops.softplus:
        return f"np.logaddexp(0, {r(a[0])})"
    if op is ops.log_sigmoid:
        return f"-np.logaddexp(0, -{r(a[0])})"
    if op in REDUCTIONS:
        axis, keepdims = a[1], a[2]
        options = ", ".join(
            ([f"axis={r(axis)}"] if axis is not None else [])
            + (["keepdims=True"] if keepdims else [])
        )
        return f"{r(a[0])}.{REDUCTIONS[op]}({options})"
    if op is ops.reshape:
        return f"{r(a[0])}.reshape({r(tuple(a[1]))})"
    if op is ops.transpose:
        reverse = a[1] is None or tuple(a[1]) == tuple(range(len(a[1])))[::-1]
        return f"{r(a[0])}.T" if reverse else f"{r(a[0])}.transpose({r(tuple(a[1]))})"
    if op is ops.broadcast_to:
        return f"np.broadcast_to({r(a[0])}, {r(tuple(a[1]))})"
    if op is ops.sum_to:
        return _sum_to(ins, w)
    if op in (ops.astype, ops._convert):
        return f"{r(a[0])}.astype({r(np.dtype(a[1]))})"
    if op is ops._getitem:
        return f"{r(a[0])}[{w.index(a[1])}]"
    if op is ops._concatenate:
        return f"np.concatenate([{', '.join(r(x) for x in a[2:])}], axis={r(a[0])})"
    if op is ops._stack:
        return f"np.stack([{', '.join(r(x) for x in a[1:])}], axis={r(a[0])})"
    if op is ops._einsum:
        return f"np.einsum({', '.join(r(x) for x in a)})"
    fn = w.bind(op.forward, op.name)  # any other op: its own forward function
    return f"{fn}({', '.join(r(x) for x in a)})"


def _sum_to(ins: Instr, w: _Writer) -> str:
    """sum_to as the sum it is, its axes worked out from the known shapes."""
    x, shape = ins.args[0], tuple(ins.args[1])
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if shape == ():
        return f"{w.arg(x)}.sum()"
    if tuple(n for i, n in enumerate(x.shape) if i not in axes) == shape:
        return f"{w.arg(x)}.sum(axis={axes if len(axes) > 1 else axes[0]!r})"
    summed = f"{w.arg(x)}.sum(axis={axes!r}, keepdims=True)" if axes else w.arg(x)
    return f"{summed}.reshape({shape!r})"


def _buffers(program: Program) -> Callable[[], SimpleNamespace] | None:
    """The per-thread set of kept buffers the program writes into (None if none)."""
    specs = {v.storage: (v.shape, v.dtype) for ins in program.instrs if (v := ins.out).storage}
    if not specs:
        return None
    local = threading.local()

    def buffers() -> SimpleNamespace:
        held = getattr(local, "held", None)
        if held is None:
            held = local.held = SimpleNamespace(
                **{name: np.empty(shape, dtype) for name, (shape, dtype) in specs.items()}
            )
        return held

    return buffers


def generate(program: Program, name: str = "compiled") -> tuple[str, Callable[..., Any]]:
    """The program's Python source, and the function ``exec`` made of it."""
    w = _Writer()
    w.name_values(program)
    params = [w.name[v] for v in [*program.args, *program.lives]]
    lines = [f"def {name}({', '.join(params)}):"]
    buffers = _buffers(program)
    if buffers is not None:
        w.namespace["_buffers"] = buffers
        lines.append("    buf = _buffers()  # work arrays kept between calls (per thread)")
    uses = program.uses()
    section = None
    for ins in program.instrs:
        if ins.op is ops.transpose and uses.get(ins.out) == 1 and ins.out not in program.outputs:
            w.inline[ins.out] = _expression(ins, w)  # Xᵀ reads best where it is used
            continue
        part = "# backward" if ins.note else "# forward"
        if part != section:
            lines.append(f"    {part}")
            section = part
        line = f"    {w.name[ins.out]} = {_expression(ins, w)}"
        if ins.note:
            line += f"  # {ins.note}"
        lines.append(line)
    outs = [
        repr(v)
        if not isinstance(v, Value)
        else f"np.array({w.arg(v)})"
        if v.kind == CONST
        else w.arg(v)
        for v in program.outputs
    ]  # a constant is copied: the caller may change what it gets
    lines.append(f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<minigrad.jit {name}>", "exec"), w.namespace)
    return source, w.namespace[name]
