"""The compiled form of a traced function: a straight-line program of array operations.

A :class:`Program` is a list of :class:`Instr`, each one op applied to :class:`Value`\\ s
and constants, in an order where every value is computed before it is used. Values are
the function's arguments, tensors it reads from outside (parameters it closes over, read
again at every call), constants, and the results of instructions. The passes in
:mod:`minigrad.jit.passes` rewrite programs; :mod:`minigrad.jit.codegen` writes one out as
Python source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ARG, LIVE, CONST, TEMP = "arg", "live", "const", "temp"


@dataclass(eq=False)
class Value:
    """One array in the program: its name, shape, dtype, and where it comes from.

    ``kind`` is ARG (the function's argument number ``index``), LIVE (a tensor from
    outside, ``source``, read at each call), CONST (``source`` is the constant itself)
    or TEMP (computed by an instruction). Values compare (and hash) by identity.
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    kind: str = TEMP
    source: Any = None
    index: int = -1
    storage: str | None = None  # the kept buffer it is written into (plan_buffers)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __repr__(self) -> str:
        return f"{self.name}:{self.kind}{self.shape}"


@dataclass(eq=False)
class Instr:
    """``out = op(*args)``: ``op`` is an op name of :mod:`minigrad.jit.codegen`'s table
    (or a minigrad Op, replayed through its forward); ``args`` mixes Values and plain
    constants (axes, shapes, Python numbers). ``note`` is the gradient rule the
    instruction came from (empty in the forward pass)."""

    op: Any
    args: list[Any]
    out: Value
    note: str = ""
    into: Value | None = None  # a dying input whose memory takes the result (plan_buffers)

    @property
    def name(self) -> str:
        return self.op if isinstance(self.op, str) else self.op.name

    def values(self) -> list[Value]:
        """The Values this instruction reads."""
        return [a for a in self.args if isinstance(a, Value)]


@dataclass
class Program:
    """Instructions, the function's arguments and outside tensors, and its outputs.

    ``outputs`` holds Values and plain constants; ``structure`` rebuilds the function's
    return value from them (see :mod:`minigrad.jit.trace`).
    """

    instrs: list[Instr]
    args: list[Value]
    lives: list[Value]
    outputs: list[Any]
    structure: Any
    arg_names: list[str] = field(default_factory=list)

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
