"""Tracing: run a function once on stand-in tensors and keep every op it applies.

The function runs as usual, on concrete values; :class:`Recorder` (the engine's
:class:`~minigrad.tracing.Tracing` hook) keeps each op application, including the ops of
every backward pass the function runs (``mg.grad`` and friends record their backward
while a trace is on, and the engine names the rule each of those ops comes from). The
recording becomes a :class:`~minigrad.jit.program.Program`:

- each argument is an ARG: an array or Tensor argument becomes a stand-in Tensor over the
  caller's data (it requires grad exactly when the argument does); a Python number
  becomes a :class:`WeakScalar`, so it keeps NumPy's "weak" promotion
  (``float32 × 2.0`` stays float32) and a new value needs no new trace;
- state from outside (a tensor or array the function closes over, a random generator) is
  LIVE: found by :class:`~minigrad.jit.environment.Environment`, read at every call;
- a tensor made inside from constants, and an array constant, is CONST.

The data of every traced tensor is a :class:`~minigrad.tracing.TracedArray` while the
trace runs, so reading a traced value as data raises TraceError: nothing data-dependent
is baked in. Random draws from outside generators are recorded ops (a new draw at every
call); the generators' states are restored afterwards, so the first call draws what
eager would, and a draw the recording cannot explain (NumPy's global generator, a
generator used directly) is refused.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, tracing
from minigrad.autograd import Op, _SetGradMode, no_grad
from minigrad.jit.environment import Environment
from minigrad.jit.program import ARG, CONST, LIVE, TEMP, Instr, Program, Value, constant
from minigrad.tensor import Tensor
from minigrad.tracing import TracedArray, TraceError, Tracing, plain, read_error, traced

_one_trace_at_a_time = threading.Lock()


class WeakScalar(Tensor):
    """A Python number argument while a function is traced: a weakly typed input.

    It goes into ops as the Python number itself, so NumPy promotes it as eager code's
    number. Everything a number can do that an op cannot record — Python arithmetic with
    other numbers (``lr * 2`` is a Python float in eager code, a float64 array here),
    comparisons read by ``if``, ``float()``, formatting, ``.shape`` — raises, and the
    function is traced again with the number as a constant of the trace.
    ``isinstance(x, float)`` holds, as it does for the number.
    """

    __slots__ = ("number",)

    @classmethod
    def of(cls, number: bool | int | float) -> WeakScalar:
        t = object.__new__(cls)
        for name, value in _LEAF.items():
            object.__setattr__(t, name, value)
        object.__setattr__(t, "data", traced(np.asarray(number)))
        object.__setattr__(t, "number", number)
        return t

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x, float) is True, as in eager code
        return type(object.__getattribute__(self, "number"))

    def __getattribute__(self, name: str) -> Any:
        if name[0] != "_" and name not in _ENGINE_NAMES:
            kind = type(object.__getattribute__(self, "number")).__name__
            raise AttributeError(f"{kind!r} object has no attribute {name!r}")
        return object.__getattribute__(self, name)

    def _python(self, *args: Any) -> Any:
        raise TraceError("a number argument used as a Python number")

    def _with(self, name: str, other: Any) -> Any:
        """Tensor arithmetic with an array or Tensor; Python arithmetic refuses."""
        if _is_number(other) or type(other) is WeakScalar:
            raise TraceError(f"Python arithmetic ({name}) on a number argument")
        return getattr(Tensor, name)(self, other)

    def __add__(self, o: Any) -> Any:
        return self._with("__add__", o)

    def __radd__(self, o: Any) -> Any:
        return self._with("__radd__", o)

    def __sub__(self, o: Any) -> Any:
        return self._with("__sub__", o)

    def __rsub__(self, o: Any) -> Any:
        return self._with("__rsub__", o)

    def __mul__(self, o: Any) -> Any:
        return self._with("__mul__", o)

    def __rmul__(self, o: Any) -> Any:
        return self._with("__rmul__", o)

    def __truediv__(self, o: Any) -> Any:
        return self._with("__truediv__", o)

    def __rtruediv__(self, o: Any) -> Any:
        return self._with("__rtruediv__", o)

    def __pow__(self, o: Any) -> Any:
        return self._with("__pow__", o)

    def __rpow__(self, o: Any) -> Any:
        return self._with("__rpow__", o)

    def __eq__(self, o: Any) -> Any:
        return self._with("__eq__", o)  # type: ignore[override]

    def __ne__(self, o: Any) -> Any:
        return self._with("__ne__", o)  # type: ignore[override]

    def __lt__(self, o: Any) -> Any:
        return self._with("__lt__", o)

    def __le__(self, o: Any) -> Any:
        return self._with("__le__", o)

    def __gt__(self, o: Any) -> Any:
        return self._with("__gt__", o)

    def __ge__(self, o: Any) -> Any:
        return self._with("__ge__", o)

    __neg__ = __pos__ = __abs__ = __repr__ = __str__ = __format__ = _python
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __round__ = _python
    __hash__ = Tensor.__hash__


_LEAF = {
    "grad": None, "requires_grad": False, "_op": None, "_parents": (), "_values": (),
    "_saved": None, "_version": None, "_recorded_at": 0,
}  # fmt: skip
_ENGINE_NAMES = frozenset({"data", "requires_grad", "grad", "number", "is_leaf"})


class Recorder(Tracing):
    """The engine's tracing hook: keeps (op, inputs, output, rule note, phase) in order."""

    def __init__(self) -> None:
        super().__init__(threading.get_ident())
        self.entries: list[tuple[Op, tuple, Tensor, str, str]] = []
        self.notes: list[str] = []
        self.any_rule = False
        self.partial_of: dict[int, Tensor] = {}  # id(result) -> the tensor it adds to ∂L/∂
        self.gradient_of: dict[int, Tensor] = {}  # id(result) -> the tensor it is ∂L/∂ of
        self.made_inside: set[int] = set()  # ids of tensors created while tracing
        self.owner: dict[int, Tensor] = {}  # id(traced data) -> its tensor
        self.keep: list[Any] = []  # keeps every recorded tensor alive: ids stay unique
        self.draws: dict[int, list[tuple[Any, Any]]] = {}  # id(generator) -> its draws
        self.lowerings: dict[int, tuple[int, int, Any]] = {}  # entry -> (start, end, result)
        self.lowered_from: dict[int, str] = {}  # id(a lowering's result) -> the fused op
        self.outside: dict[int, Any] = {}  # id(traced view) -> the outside array or tensor
        self.fused_result: dict[int, Tensor] = {}  # id(a fused op's result) -> its lowering's
        self._pending: list[tuple[np.random.Generator, Any]] = []
        self._lowering = False
        self._lowered: tuple[Op, int, Tensor] | None = None

    def inputs(self, op: Op, inputs: tuple, raw: list) -> list:
        raw = [
            x.number if type(x) is WeakScalar else plain(r)
            for x, r in zip(inputs, raw, strict=True)
        ]
        if op.random:
            self._pending = [(r, _state(r)) for r in raw if isinstance(r, np.random.Generator)]
        return raw

    def record(self, op: Op, inputs: tuple, out: Tensor) -> None:
        for gen, before in self._pending:  # a draw: the generator's state before and after
            self.draws.setdefault(id(gen), []).append((before, _state(gen)))
        self._pending = []
        out.data = traced(out.data)
        self.owner[id(out.data)] = out
        phase = "backward" if self.notes else "after" if self.any_rule else "forward"
        if self._lowered is not None and self._lowered[0] is op:
            _, start, result = self._lowered
            self._lowered = None
            self.lowerings[len(self.entries)] = (start, len(self.entries), result)
            self.lowered_from[id(result)] = op.name
            self.fused_result[id(out)] = result
        self.entries.append((op, inputs, out, self.notes[-1] if self.notes else "", phase))
        self.keep.append(out)

    def forward(self, op: Op, inputs: tuple, raw: list) -> Any:
        """A fused op's value computed by its lowering (recorded: the compiled program
        runs those ops), else by its own forward."""
        if op.lowering is None or self._lowering:
            return op.forward(*raw)
        start, self._lowering = len(self.entries), True
        try:
            with no_grad():
                result = op.lowering(*inputs)
        finally:
            self._lowering = False
        self._lowered = (op, start, result)
        self.keep.append(result)
        return plain(result.data)

    def begin_rule(self, note: str) -> None:
        self.notes.append(note)
        self.any_rule = True

    def end_rule(self, result: Any, wrt: Tensor) -> None:
        self.notes.pop()
        if isinstance(result, Tensor):
            self.partial_of.setdefault(id(result), wrt)
            self.keep.append(result)

    def gradient(self, result: Any, wrt: Tensor) -> None:
        if isinstance(result, Tensor):
            self.gradient_of.setdefault(id(result), wrt)
            self.keep.append(result)

    def created(self, t: Tensor) -> None:
        self.made_inside.add(id(t))
        self.keep.append(t)


def _state(gen: np.random.Generator) -> Any:
    return gen.bit_generator.state


def _same(a: Any, b: Any) -> bool:
    """Equality of generator states (nested dicts and tuples that may hold arrays)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


def run(
    fn: Callable[..., Any],
    args: Sequence[Any],
    static: frozenset[int],
    weak_numbers: bool,
    env: Environment,
    keep_reference: bool = False,
) -> Program:
    """Trace ``fn(*args)`` under the current grad mode (the arguments in ``static`` are
    passed as they are; Python numbers are weak inputs when ``weak_numbers``)."""
    names = argument_names(fn, len(args))
    call_args = list(args)
    stand_ins: dict[int, Value] = {}
    recorder = Recorder()
    for i, a in enumerate(args):
        if i in static:
            continue
        if weak_numbers and _is_number(a):
            t: Tensor = WeakScalar.of(a)
            dtype = np.asarray(a).dtype
            stand_ins[id(t)] = Value(names[i], (), dtype, ARG, index=i, weak=type(a))
        else:
            data = a.data if isinstance(a, Tensor) else np.asarray(a)
            if data.dtype == object or data.dtype.kind in "USVcmMO":
                raise TypeError(
                    f"mg.jit: argument {names[i]} is a {type(a).__name__} of dtype "
                    f"{data.dtype}; pass arrays, Tensors or numbers, or make it static "
                    "(static_argnums)"
                )
            needs = isinstance(a, Tensor) and a.requires_grad
            t = Tensor._make(traced(data), needs, None, ())
            stand_ins[id(t)] = Value(names[i], data.shape, data.dtype, ARG, index=i)
        call_args[i] = t
        recorder.owner[id(t.data)] = t
        recorder.keep.append(t)
    generators = _live_generators(env)
    before = {id(g): _state(g) for g in generators}
    legacy = np.random.get_state()
    with _one_trace_at_a_time, env.traced_views() as views:
        recorder.outside = views
        autograd.tracing, tracing._active[0] = recorder, recorder.thread
        try:
            with _SetGradMode(autograd.is_grad_enabled()):
                result = fn(*call_args)
        except BaseException as err:  # eager's error: where eager's draws would have left
            err.generator_states = [(g, _state(g)) for g in generators]  # type: ignore[attr-defined]
            for g in generators:
                g.bit_generator.state = before[id(g)]
            raise
        finally:
            autograd.tracing, tracing._active[0] = None, None
    for g in generators:  # the first call must draw what eager draws: as if not traced
        after = _state(g)
        g.bit_generator.state = before[id(g)]
        _check_draws(g, before[id(g)], after, recorder.draws.get(id(g), []))
    if not _same(legacy, np.random.get_state()):
        np.random.set_state(legacy)
        raise TraceError(
            "the function draws from NumPy's global random generator (np.random.*): the "
            "compiled function would repeat this draw forever. Draw with mg.randn/mg.rand "
            "or a layer such as mg.nn.Dropout (a new draw at every call)"
        )
    builder = _Builder(recorder, stand_ins, env)
    reference = None
    if keep_reference:  # the traced values, for the verifier
        reference = {v: a if v.weak is not None else plain(_array(a)) for v, a in
                     ((v, args[v.index]) for v in stand_ins.values())}  # fmt: skip
    return builder.program(result, names, reference)


def _array(a: Any) -> np.ndarray:
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def draw_as_eager(err: BaseException) -> None:
    """After a trace raised eager's own error: leave the generators where eager's run,
    raising the same error, would have left them (a refusal leaves them untouched)."""
    if not isinstance(err, TraceError):
        for g, state in getattr(err, "generator_states", ()):
            g.bit_generator.state = state


def _is_number(a: Any) -> bool:
    return isinstance(a, bool | int | float) and not isinstance(a, np.generic)


def _live_generators(env: Environment) -> list[np.random.Generator]:
    found = [n.obj for n in env.nodes if isinstance(n.obj, np.random.Generator)]
    from minigrad.random import default_generator

    return [default_generator, *(g for g in found if g is not default_generator)]


def _check_draws(gen: Any, start: Any, end: Any, draws: list[tuple[Any, Any]]) -> None:
    """Refuse unless the recorded draws explain every change of ``gen``'s state."""
    state = start
    for before, after in draws:
        if not _same(before, state):
            break
        state = after
    else:
        if _same(state, end):
            return
    raise TraceError(
        "the function draws from a random generator without a recorded op (a layer made "
        "inside it, or rng.normal(...) called directly): the compiled function would "
        "repeat this draw forever. Draw with mg.randn/mg.rand(rng=...) or mg.nn.Dropout"
    )


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
        frozen = not data.flags.writeable and data.flags.owndata
        return Value(self.unique("c"), data.shape, data.dtype, CONST, data, frozen=frozen)

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
        args = sorted((v for v in self.values.values() if v.kind == ARG), key=lambda v: v.index)
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
    b: _Builder,
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


__all__ = ["ARG", "CONST", "LIVE", "TEMP", "Recorder", "WeakScalar", "argument_names", "run"]
