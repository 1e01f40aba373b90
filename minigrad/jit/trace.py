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

from minigrad import op as recording
from minigrad import tracing
from minigrad.grad_mode import _SetGradMode, is_grad_enabled, no_grad
from minigrad.jit.build import Builder
from minigrad.jit.environment import Environment
from minigrad.jit.program import ARG, Program, Value
from minigrad.jit.weak import WeakScalar, is_number
from minigrad.op import Op
from minigrad.tensor import Tensor
from minigrad.tracing import TraceError, Tracing, plain, traced

_one_trace_at_a_time = threading.Lock()


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
    first: dict[int, int] = {}  # id(a Tensor argument that requires grad) -> its position
    for i, a in enumerate(args):
        if i in static:
            continue
        if isinstance(a, Tensor) and a.requires_grad:
            if env.find(a) is not None:
                raise TraceError(
                    f"argument {names[i]} is also a tensor the function reads from outside: "
                    "eager code differentiates the one tensor through both, mg.jit would "
                    "keep them apart. Pass it once"
                )
            if id(a) in first:  # the same tensor twice: one stand-in, as in eager code
                call_args[i] = call_args[first[id(a)]]
                continue
            first[id(a)] = i
        if weak_numbers and is_number(a):
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
        recording.tracing, tracing._active[0] = recorder, recorder.thread
        try:
            with _SetGradMode(is_grad_enabled()):
                result = fn(*call_args)
        except BaseException as err:  # eager's error: where eager's draws would have left
            err.generator_states = [(g, _state(g)) for g in generators]  # type: ignore[attr-defined]
            for g in generators:
                g.bit_generator.state = before[id(g)]
            raise
        finally:
            recording.tracing, tracing._active[0] = None, None
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
    builder = Builder(recorder, stand_ins, env)
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


__all__ = ["Recorder", "argument_names", "draw_as_eager", "run"]
