"""The compiled form of a traced function: a straight-line program of array operations.

A :class:`Program` is a tuple of :class:`Instr`, each one op applied to :class:`Value`\\ s
and constants, in an order where every value is computed before it is used. Values are
the function's arguments, state it reads from outside (tensors and arrays it closes
over, random generators: read again at every call), constants, and the results of
instructions. Everything here is immutable: a pass (:mod:`minigrad.jit.passes`) returns a
new program and cannot change the one it was given. :mod:`minigrad.jit.codegen` writes a
program out as Python source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

ARG, LIVE, CONST, TEMP = "arg", "live", "const", "temp"


@dataclass(frozen=True, eq=False)
class Value:
    """One array in the program: its name, shape, dtype, and where it comes from.

    ``kind`` is ARG (the function's argument number ``index``; ``weak`` is the Python
    type of an argument passed as a Python number, which NumPy promotes "weakly"), LIVE
    (``source`` is a tensor, array or generator from outside, read at every call), CONST
    (``source`` is the value, possibly a smaller array that broadcasts to ``shape``;
    ``frozen`` says nobody can change it, so passes may compute with it) or TEMP
    (computed by an instruction). Values compare and hash by identity.
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    kind: str = TEMP
    source: Any = None
    index: int = -1
    weak: type | None = None
    frozen: bool = False

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __repr__(self) -> str:
        return f"{self.name}:{self.kind}{self.shape}"


def constant(value: Any, name: str, shape: tuple[int, ...] | None = None) -> Value:
    """A frozen CONST holding ``value`` (of ``shape``, to which ``value`` broadcasts)."""
    value = np.asarray(value)
    if value.flags.writeable:
        value = value.copy()
        value.flags.writeable = False
    return Value(name, value.shape if shape is None else shape, value.dtype, CONST, value,
                 frozen=True)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Instr:
    """``out = op(*args)``: ``op`` is a minigrad Op; ``args`` mixes Values and plain
    constants (axes, shapes, Python numbers). ``note`` is the gradient rule the
    instruction came from (empty outside the backward pass); ``phase`` is "forward",
    "backward" or "after" (ops that combine gradients after a backward pass)."""

    op: Any
    args: tuple[Any, ...]
    out: Value
    note: str = ""
    phase: str = "forward"

    @property
    def name(self) -> str:
        return self.op.name

    def values(self) -> list[Value]:
        """The Values this instruction reads."""
        return [a for a in self.args if isinstance(a, Value)]

    def with_args(self, args: Any) -> Instr:
        return replace(self, args=tuple(args))


@dataclass(frozen=True)
class Program:
    """Instructions, the function's arguments and outside state, and its outputs.

    ``outputs`` holds Values and plain constants; ``structure`` rebuilds the function's
    return value from them (see :mod:`minigrad.jit.trace`); ``origins[k]`` is the
    position of the first output that was the same tensor in the traced call (two
    outputs may share memory only if they did). ``needs_grad[k]`` says whether output k
    required grad when traced. ``lowerings`` holds, for a fused op, the simpler
    instructions its ``lowering`` recorded and their result. ``storage`` and ``into``
    are the buffer plan
    (:func:`minigrad.jit.passes.plan_buffers`); ``reference`` holds the traced value of
    each Value, kept only when the program is to be verified.
    """

    instrs: tuple[Instr, ...]
    args: tuple[Value, ...]
    lives: tuple[Value, ...]
    outputs: tuple[Any, ...]
    structure: Any
    arg_names: tuple[str, ...] = ()
    origins: tuple[int, ...] = ()
    needs_grad: tuple[bool, ...] = ()
    storage: dict[Value, str] = field(default_factory=dict)
    into: dict[Instr, Value] = field(default_factory=dict)
    lowerings: dict[Instr, tuple[tuple[Instr, ...], Value]] = field(default_factory=dict)
    reference: dict[Value, Any] | None = None

    def uses(self) -> dict[Value, int]:
        """How many times each Value is read (outputs included)."""
        count: dict[Value, int] = {}
        for ins in self.instrs:
            for v in ins.values():
                count[v] = count.get(v, 0) + 1
        for v in self.outputs:
            if isinstance(v, Value):
                count[v] = count.get(v, 0) + 1
        return count

    def but(self, **changes: Any) -> Program:
        """A copy with ``changes`` (the program itself is never changed)."""
        if "instrs" in changes:
            changes["instrs"] = tuple(changes["instrs"])
        return replace(self, **changes)


def substitute(program: Program, replace_by: dict[Value, Any]) -> Program:
    """A new program where every use of a Value in ``replace_by`` reads its replacement."""
    if not replace_by:
        return program

    def final(v: Any) -> Any:
        while isinstance(v, Value) and v in replace_by:
            v = replace_by[v]
        return v

    instrs = [
        ins.with_args(final(a) for a in ins.args) if any(a in replace_by for a in ins.values())
        else ins
        for ins in program.instrs
    ]  # fmt: skip
    return program.but(instrs=instrs, outputs=tuple(final(v) for v in program.outputs))
