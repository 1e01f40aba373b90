"""From a recording to a :class:`~minigrad.jit.program.Program`: a Value per tensor.

Each tensor the trace met becomes a Value: an argument's stand-in an ARG; a tensor or
array from outside (found by :mod:`~minigrad.jit.environment`) LIVE; a tensor made inside
from constants, and an array constant, a CONST (frozen only if nobody can change it);
every op's result a TEMP, named so the source reads: ``d_x`` is the whole gradient with
respect to x, ``d_x_part`` one path's share of it, a scalar result its op's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.jit.environment import Environment
from minigrad.jit.program import ARG, CONST, LIVE, TEMP, Instr, Program, Value, constant
from minigrad.jit.weak import WeakScalar
from minigrad.op import Op
from minigrad.tensor import Tensor
from minigrad.tracing import TracedArray, TraceError, plain, read_error

if TYPE_CHECKING:
    from minigrad.jit.trace import Recorder


class Builder:
    """Turns a recording into a Program: a Value for every tensor, named readably."""

    def __init__(self, recorder: Recorder, stand_ins: dict[int, Value], env: Environment) -> None:
        self.recorder = recorder
        self.env = env
        self.values: dict[int, Value] = dict(stand_ins)
        self.taken = {v.name for v in stand_ins.values()}
        self.lives: list[Value] = []
        self.used: dict[int, tuple] = {}  # env node -> (shape, dtype, requires_grad)
        self.counter = 0
        self.display: dict[int, str] = {}  # id(stand-in) -> the argument's name

    def unique(self, base: str) -> str:
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def value_of(self, t: Tensor) -> Value:
        v = self.values.get(id(t))
        if v is not None:
            return v
        made_inside = id(t) in self.recorder.made_inside  # from constants, inside fn
        v = self.array(t.data) if made_inside else self.live(t, "a tensor")
        self.values[id(t)] = v
        return v

    def live(self, obj: Any, what: str) -> Value:
        """A LIVE Value for an outside object (refused if the next call could not find it)."""
        k = self.env.find(obj)
        if k is None:
            raise TraceError(
                f"the function reads {what} of shape {np.shape(plain(getattr(obj, 'data', obj)))}"
                " from outside that mg.jit cannot find again at the next call (it is not "
                "reachable from the function's closure, globals, defaults or bound object); "
                "pass it as an argument"
            )
        name = self.unique(_readable(self.env.expression(k)) if k > 0 else "rng")
        if isinstance(obj, np.random.Generator):
            v = Value(name, (), np.dtype(object), LIVE, source=obj)
        else:
            data = obj.data if isinstance(obj, Tensor) else obj
            rg = bool(getattr(obj, "requires_grad", False))
            self.used[k] = (data.shape, data.dtype, rg)
            v = Value(name, data.shape, data.dtype, LIVE, source=obj)
        self.lives.append(v)
        return v

    def array(self, data: np.ndarray) -> Value:
        """An ndarray operand: a traced tensor's data is that tensor; outside state is
        LIVE (a view of it is a CONST held by reference, reading the same memory at
        every call); anything else is a CONST held by reference."""
        if type(data) is TracedArray:
            owner = self.recorder.owner.get(id(data))
            if owner is not None:  # t.data of a traced tensor, used as an operand
                return self.value_of(owner)
            outside = self.recorder.outside.get(id(data))
            if isinstance(outside, Tensor):
                return self.value_of(outside)
            if outside is not None:
                data = outside
            elif any(isinstance(o, np.ndarray) and np.may_share_memory(plain(data), o)
                     for o in self.recorder.outside.values()):  # fmt: skip
                data = plain(data)  # a view of an outside array: its memory, read live
                return Value(self.unique("c"), data.shape, data.dtype, CONST, data)
            else:
                raise read_error("an array made from a traced tensor's .data")
        if self.env.find(data) is not None:
            v = self.values.get(id(data))
            if v is None:
                v = self.values[id(data)] = self.live(data, "an array")
            return v
        v = self.values.get(id(data))
        if v is None:  # one Value per array: its uses are the same value (CSE sees it)
            frozen = not data.flags.writeable and data.flags.owndata
            v = Value(self.unique("c"), data.shape, data.dtype, CONST, data, frozen=frozen)
            self.values[id(data)] = v
            self.recorder.keep.append(data)  # its id stays its own while building
        return v

    def arg_of(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            return self.value_of(x)
        if isinstance(x, np.ndarray):
            return self.array(x)
        if isinstance(x, np.random.Generator) and self.env.find(x) is not None:
            v = self.values.get(id(x))
            if v is None:
                v = self.values[id(x)] = self.live(x, "a random generator")
            return v
        return x

    def temp(self, op: Op, args: list[Any], out: Tensor, phase: str) -> Value:
        rec = self.recorder
        wrt = rec.gradient_of.get(id(out))
        if wrt is None:
            wrt = rec.partial_of.get(id(out))
        if wrt is not None and id(wrt) in self.values:
            base = "d_" + self.display.get(id(wrt), self.values[id(wrt)].name)
            if id(out) not in rec.gradient_of:
                base += "_part"  # one path's share; d_x itself is the whole gradient
        elif id(out) in rec.lowered_from:
            base = rec.lowered_from[id(out)]  # the value of a fused op, from its lowering
        elif id(out) in rec.fused_result:
            base = f"{op.name}_fused"  # replaced by its lowering, whose result has the name
            self.display[id(out)] = self.values[id(rec.fused_result[id(out)])].name
        elif isinstance(args[0], Value) and (
            op.name in ("detach", "to_float64") or (op.name == "mul" and _is_one(args[1]))
        ):
            # a transform's stand-in for its argument (x·1, a number as an array)
            base = args[0].name if op.name != "to_float64" else f"{args[0].name}_array"
            self.display[id(out)] = self.display.get(id(args[0]), args[0].name)
        elif phase != "forward":
            base = "g"
        elif out.ndim == 0 and op.name.isidentifier():
            base = op.name  # a scalar result reads best by its op: mse, sum, mean
        else:
            self.counter += 1
            base = f"t{self.counter}"
        v = Value(self.unique(base), out.shape, out.dtype, TEMP)
        self.values[id(out)] = v
        return v

    def program(self, result: Any, names: list[str], reference: dict[Value, Any] | None) -> Program:
        instrs: list[Instr] = []
        fused: dict[int, Instr] = {}  # entry index of a fused op -> its Instr
        steps: dict[int, list[Instr]] = {}  # entry index of a fused op -> its lowering's
        ranges = self.recorder.lowerings
        lowering_of = {k: f for f, (start, end, _) in ranges.items() for k in range(start, end)}
        for k, (op, inputs, out, note, phase) in enumerate(self.recorder.entries):
            args = [self.arg_of(x) for x in inputs]
            generators = [a for a in inputs if isinstance(a, np.random.Generator)]
            if op.random and any(self.env.find(g) is None for g in generators):
                # a generator made inside the function (a seed): eager draws the same
                # values at every call, so they are a constant
                self.values[id(out)] = constant(plain(out.data), self.unique("draw"))
                continue
            ins = Instr(op, tuple(args), self.temp(op, args, out, phase), note, phase)
            if k in lowering_of:
                steps.setdefault(lowering_of[k], []).append(ins)
            else:
                instrs.append(ins)
            if k in ranges:
                fused[k] = ins
        lowered = {
            fused[k]: (tuple(steps.get(k, ())), self.arg_of(result))
            for k, (_, _, result) in ranges.items()
            if k in fused
        }
        outputs: list[Any] = []
        origins: list[int] = []
        needs_grad: list[bool] = []
        first: dict[int, int] = {}
        structure = _flatten(result, self, outputs, origins, needs_grad, first)
        if reference is not None:
            for _, _, out, _, _ in self.recorder.entries:
                if id(out) in self.values:
                    reference[self.values[id(out)]] = plain(out.data)
        args = sorted(
            {v: None for v in self.values.values() if v.kind == ARG}, key=lambda v: v.index
        )  # each once (a tensor made over an argument's data is that argument)
        return Program(
            instrs=tuple(instrs),
            args=tuple(args),
            lives=tuple(self.lives),
            outputs=tuple(outputs),
            structure=structure,
            arg_names=tuple(names),
            origins=tuple(origins),
            needs_grad=tuple(needs_grad),
            lowerings=lowered,
            reference=reference,
        )


def _readable(expression: str) -> str:
    """A variable name for an environment path: ``fn.__closure__[0]...['weight']`` →
    the names along it (``model_weight``)."""
    parts = []
    for piece in expression.replace("]", "[").split("["):
        piece = piece.strip("'\". ")
        if piece.isidentifier() and not piece.startswith("__"):
            parts.append(piece)
        elif piece.startswith("__dict__"):
            continue
    name = "_".join(p for p in parts if p not in ("fn", "cell_contents", "_modules"))
    return name if name.isidentifier() else "live"


def _is_one(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and x == 1


def _flatten(
    obj: Any,
    b: Builder,
    outputs: list[Any],
    origins: list[int],
    needs_grad: list[bool],
    first: dict[int, int],
) -> Any:
    """The return value's shape as nested ("tuple"/"list"/"dict", ...) markers, with its
    tensors (and numbers) appended to ``outputs``; ("leaf", k, kind) at the bottom, kind
    "tensor", "number" (a weak argument returned as it is) or "plain"."""
    if isinstance(obj, tuple | list):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return (kind, [_flatten(x, b, outputs, origins, needs_grad, first) for x in obj])
    if isinstance(obj, dict):
        items = [(k, _flatten(v, b, outputs, origins, needs_grad, first)) for k, v in obj.items()]
        return ("dict", items)
    k = len(outputs)
    origins.append(first.setdefault(id(obj), k) if not _is_atom(obj) else k)
    if type(obj) is WeakScalar:
        outputs.append(b.value_of(obj))
        needs_grad.append(False)
        return ("leaf", k, "number")
    if isinstance(obj, Tensor):
        outputs.append(b.value_of(obj))
        needs_grad.append(obj.requires_grad)
        return ("leaf", k, "tensor")
    outputs.append(b.array(obj) if isinstance(obj, np.ndarray) else obj)
    needs_grad.append(False)
    return ("leaf", k, "plain")


def _is_atom(x: Any) -> bool:
    return isinstance(x, bool | int | float | complex | str | type(None) | np.generic)


__all__ = ["Builder"]
