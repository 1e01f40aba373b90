"""Tracing: run a function once on stand-in tensors and keep every op it applies.

The function runs as usual, on concrete values; :class:`Recorder` (the engine's
:class:`~minigrad.autograd.Tracing` hook) keeps each op application, including the ops
of every backward pass the function runs (``mg.grad`` and friends record their backward
while a trace is on, and the engine names the rule each of those ops comes from). The
recording becomes a :class:`~minigrad.jit.program.Program`:

- the function's arguments are ARG values (float arguments require grad while tracing, so
  that transforms inside the function differentiate through them);
- a tensor the function reads from outside (a parameter it closes over) is LIVE: the
  compiled function reads its current data at every call;
- a tensor made inside the function from constants, and an ndarray constant, is CONST.

Reading a traced value as data (``float(loss)``, ``if t > 0``, ``np.asarray(t)``) raises
:class:`~minigrad.autograd.TraceError` while tracing: nothing data-dependent is baked in.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, losses, ops
from minigrad.autograd import Op, Tracing, enable_grad
from minigrad.jit.program import ARG, CONST, LIVE, TEMP, Instr, Program, Value
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

_one_trace_at_a_time = threading.Lock()


class Recorder(Tracing):
    """The engine's tracing hook: keeps (op, inputs, output, rule note) in order."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[Op, tuple, Tensor, str]] = []
        self.notes: list[str] = []
        self.gradient_of: dict[int, Tensor] = {}  # id(result) -> the tensor it is ∂L/∂ of
        self.made_inside: set[int] = set()  # ids of tensors created while tracing
        self.keep: list[Any] = []  # keeps every recorded tensor alive: ids stay unique

    def record(self, op: Op, inputs: tuple, out: Tensor) -> None:
        self.entries.append((op, inputs, out, self.notes[-1] if self.notes else ""))
        self.keep.append(out)

    def begin_rule(self, note: str) -> None:
        self.notes.append(note)

    def end_rule(self, result: Any, wrt: Tensor) -> None:
        self.notes.pop()
        if isinstance(result, Tensor):
            self.gradient_of[id(result)] = wrt
            self.keep.append(result)

    def created(self, t: Tensor) -> None:
        self.made_inside.add(id(t))
        self.keep.append(t)


def run(fn: Callable[..., Any], args: Sequence[Any], static: frozenset[int]) -> Program:
    """Trace ``fn(*args)`` (the arguments in ``static`` are passed through as they are)."""
    names = argument_names(fn, len(args))
    call_args = list(args)
    stand_ins: dict[int, Value] = {}
    for i, a in enumerate(args):
        if i in static:
            continue
        data = np.array(a.data if isinstance(a, Tensor) else a)  # an own copy
        if data.dtype == object or data.dtype.kind in "USVc":
            raise TypeError(
                f"mg.jit: argument {names[i]} is a {type(a).__name__} of dtype {data.dtype}; "
                "pass arrays, Tensors or numbers, or make it static (static_argnums)"
            )
        t = Tensor(data, requires_grad=data.dtype.kind == "f")
        call_args[i] = t
        stand_ins[id(t)] = Value(names[i], data.shape, data.dtype, ARG, index=i)
    recorder = Recorder()
    with _one_trace_at_a_time:
        autograd.tracing = recorder
        try:
            with enable_grad():
                result = fn(*call_args)
        finally:
            autograd.tracing = None
    return _program(_Builder(recorder, stand_ins, outside_names(fn)), result, names)


def argument_names(fn: Callable[..., Any], n: int) -> list[str]:
    """The names of fn's first n positional parameters (``arg{i}`` where unknown)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        p = params[i] if i < len(params) else None
        ok = p is not None and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        names.append(p.name if ok and p.name.isidentifier() else f"arg{i}")
    return names


class _Builder:
    """Turns a recording into a Program: a Value for every tensor, named readably."""

    def __init__(
        self, recorder: Recorder, stand_ins: dict[int, Value], outside: dict[int, str]
    ) -> None:
        self.recorder = recorder
        self.outside = outside
        self.values: dict[int, Value] = dict(stand_ins)
        self.taken = {v.name for v in stand_ins.values()}
        self.lives: list[Value] = []
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
        if id(t) in self.recorder.made_inside:  # made from constants inside fn
            v = Value(self.unique("c"), t.shape, t.dtype, CONST, source=t.data)
        else:  # a tensor from outside: read again at every call
            name = self.outside.get(id(t), "live")
            v = Value(self.unique(name), t.shape, t.dtype, LIVE, source=t)
            self.lives.append(v)
        self.values[id(t)] = v
        return v

    def arg_of(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            return self.value_of(x)
        if isinstance(x, np.ndarray):
            return Value(self.unique("c"), x.shape, x.dtype, CONST, source=x)
        return x

    def temp(self, op: Op, args: list[Any], out: Tensor, is_gradient: bool) -> Value:
        wrt = self.recorder.gradient_of.get(id(out))
        if wrt is not None and id(wrt) in self.values:
            base = "d_" + self.display.get(id(wrt), self.values[id(wrt)].name)
        elif op is ops.mul and isinstance(args[0], Value) and _is_one(args[1]):
            base = args[0].name  # a transform's stand-in for its argument (x·1)
            self.display[id(out)] = self.display.get(id(args[0]), base)
        elif op is losses._mse:
            base = "mse"
        elif is_gradient:
            base = "g"
        else:
            self.counter += 1
            base = f"t{self.counter}"
        v = Value(self.unique(base), out.shape, out.dtype, TEMP)
        self.values[id(out)] = v
        return v


def _is_one(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and x == 1


def outside_names(fn: Callable[..., Any]) -> dict[int, str]:
    """id(tensor) -> a readable name, for the tensors ``fn`` can reach from outside: the
    variables it closes over and the globals it names (through ``functools.wraps``
    layers), a Module's parameters by their dotted names, lists and dicts of tensors."""
    found: dict[int, str] = {}

    def visit(name: str, obj: Any, depth: int) -> None:
        if isinstance(obj, Tensor):
            found.setdefault(id(obj), name)
        elif isinstance(obj, Module):
            for pname, p in obj.named_parameters():
                found.setdefault(id(p), f"{name}_{pname}".replace(".", "_"))
        elif isinstance(obj, list | tuple) and depth < 2:
            for k, x in enumerate(obj):
                visit(f"{name}_{k}", x, depth + 1)
        elif isinstance(obj, dict) and depth < 2:
            for k, x in obj.items():
                if isinstance(k, str) and k.isidentifier():
                    visit(f"{name}_{k}", x, depth + 1)

    seen: set[int] = set()
    while fn is not None and id(fn) not in seen:
        seen.add(id(fn))
        code = getattr(fn, "__code__", None)
        if code is not None:
            for var, cell in zip(code.co_freevars, fn.__closure__ or (), strict=False):
                try:
                    visit(var, cell.cell_contents, 0)
                except ValueError:  # an empty cell
                    continue
            module_globals = getattr(fn, "__globals__", {})
            for var in code.co_names:
                if var in module_globals:
                    visit(var, module_globals[var], 0)
        fn = getattr(fn, "__wrapped__", None)
    return found


def _program(b: _Builder, result: Any, names: list[str]) -> Program:
    recorder = b.recorder
    instrs = []
    for op, inputs, out, note in recorder.entries:
        args = [b.arg_of(x) for x in inputs]
        instrs.append(Instr(op, args, b.temp(op, args, out, bool(note)), note))
    outputs: list[Any] = []
    structure = _flatten(result, b, outputs)
    args = sorted((v for v in b.values.values() if v.kind == ARG), key=lambda v: v.index)
    return Program(instrs, args, b.lives, outputs, structure, names)


def _flatten(obj: Any, b: _Builder, outputs: list[Any]) -> Any:
    """The return value's shape as nested ("tuple"/"list"/"dict", ...) markers, with its
    tensors (and numbers) appended to ``outputs``; ("leaf", k, is_tensor) at the bottom."""
    if isinstance(obj, tuple | list):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return (kind, [_flatten(x, b, outputs) for x in obj])
    if isinstance(obj, dict):
        return ("dict", [(k, _flatten(v, b, outputs)) for k, v in obj.items()])
    outputs.append(b.value_of(obj) if isinstance(obj, Tensor) else obj)
    return ("leaf", len(outputs) - 1, isinstance(obj, Tensor))


__all__ = ["ARG", "CONST", "LIVE", "TEMP", "Recorder", "argument_names", "run"]
