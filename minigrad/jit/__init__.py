"""mg.jit: trace a function once, replay it as straight-line NumPy you can read.

>>> import numpy as np, minigrad as mg
>>> def loss(w, X, y):
...     return mg.losses.mse(X @ w, y)
>>> fast = mg.jit(mg.value_and_grad(loss))
>>> X, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0])
>>> value, dw = fast(np.array([0.5, -0.5]), X, y)
>>> round(value.item(), 6), dw.tolist()   # r = Xw − y = (−1.5, −2.5); 2Xᵀr/N
(4.25, [-9.0, -13.0])
>>> fast.traces
1

The contract: a jitted function returns exactly what the function returns run eagerly —
values, gradients, dtypes, shapes, random streams, raised errors — and its results alias
nothing the caller holds; or its first call refuses (TraceError) and says why.

The first call with new argument shapes, dtypes or kinds (or new static arguments, or a
new grad mode) traces: ``fn`` runs once on stand-in tensors and every op it applies is
kept, the backward passes of ``mg.grad`` and friends included. The trace becomes a
program (:mod:`.program`), small passes simplify it (:mod:`.passes`), and it is written
out as Python source (:mod:`.codegen`), kept in ``fast.source``. What ``fn`` reads from
outside its arguments is checked at every call (:mod:`.environment`): a change that
could change the result traces again.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad import op as recording
from minigrad.grad_mode import _mode
from minigrad.jit import codegen, environment, passes, trace
from minigrad.jit.program import Program, Value
from minigrad.jit.weak import is_number
from minigrad.op import EveryInput, Op, is_tracing
from minigrad.tensor import Tensor
from minigrad.tracing import TraceError

MAX_TRACES_PER_KEY = 8
"""Traces kept per argument signature (one per state of the outside world seen)."""

VERIFY = os.environ.get("MINIGRAD_JIT_VERIFY", "") not in ("", "0")
"""Check every program after every pass (``mg.jit(fn, verify=True)`` for one function;
this, from the environment variable MINIGRAD_JIT_VERIFY=1, for all)."""


@dataclass
class _Compiled:
    """One trace: the program, its source, ``flat(args)`` (the compiled function fed the
    arguments and the outside state, giving the flat outputs), ``build(outs)`` (the
    structure the traced function returned) and ``guard()`` (the outside world is as
    traced)."""

    program: Program
    source: str
    flat: Callable[[tuple], tuple]
    build: Callable[[list], Any]
    guard: Callable[[], bool]
    grad_lives: tuple[Tensor, ...]
    records: bool = False  # an output requires grad: the call is a node of the graph
    generators: list = field(default_factory=list)  # the random generators it draws from
    ops: dict[tuple, Op] = field(default_factory=dict)
    outside: frozenset[int] = frozenset()  # ids of the tensors the function can reach

    def reads_one_of(self, args: tuple) -> bool:
        """Whether an argument that requires grad is a tensor the function can reach from
        outside (then a new trace refuses: see trace.run)."""
        return any(id(a) in self.outside for a in args if isinstance(a, Tensor) and a.requires_grad)


def _caller(program: Program, generated: codegen.Generated) -> Callable[[tuple], tuple]:
    """``flat(args)``: the arguments as arrays (a number argument as it is), then the
    outside state's current data, the constants and this thread's buffers, into ``run``."""
    constants = generated.constants
    namespace = {"run": generated.run, "A": _array, "C": constants, "B": generated.buffers,
                 "L": [v.source for v in program.lives]}  # fmt: skip
    feed = [
        f"args[{v.index}]" if v.weak is not None else f"A(args[{v.index}])" for v in program.args
    ]
    feed += [
        f"L[{k}].data" if isinstance(v.source, Tensor) else f"L[{k}]"
        for k, v in enumerate(program.lives)
    ]
    feed += [f"C[{k}]" for k in range(len(constants))]
    feed += ["B()"] if generated.buffers is not None else []
    exec(f"def flat(args):\n    return run({', '.join(feed)})\n", namespace)
    return namespace["flat"]


def _builder(structure: Any, records: bool) -> Callable[[list], Any]:
    """``build(out)``: the traced function's return value, from the flat outputs (which
    are already Tensors where the call ``records``)."""
    namespace = {"T": _wrap, "M": Tensor._make, "A": np.asarray}
    tensor = "T(out[{}])" if records else "M(A(out[{}]), False, None, ())"
    exec(f"def build(out):\n    return {_rebuild(structure, tensor)}\n", namespace)
    return namespace["build"]


def _rebuild(structure: Any, tensor: str) -> str:
    """Source text that builds the traced function's return value from ``out``."""
    kind, body = structure[0], structure[1]
    if kind == "leaf":
        return tensor.format(body) if structure[2] == "tensor" else f"out[{body}]"
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {_rebuild(s, tensor)}" for k, s in body) + "}"
    items = [_rebuild(s, tensor) for s in body]
    if kind == "tuple":
        return "(" + "".join(f"{x}, " for x in items) + ")"
    return "[" + ", ".join(items) + "]"


def _array(a: Any) -> np.ndarray:
    if type(a) is np.ndarray:
        return a
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _wrap(value: Any) -> Tensor:
    if isinstance(value, Tensor):  # a node of the caller's graph (see Jitted._record)
        return value
    return Tensor._make(np.asarray(value), False, None, ())


def _fast_spec(a: Any) -> Any:
    """:func:`_spec` of a non-static argument, quickest for an ndarray."""
    if type(a) is np.ndarray:
        return (a.shape, a.dtype, False)
    return _spec(a, False)


def _spec(a: Any, static: bool) -> Any:
    """What a trace depends on of an argument: for an array or Tensor its kind, shape,
    dtype (and whether it requires grad); for a Python number its type (a weak input);
    a static argument by value (a number by its bits: −0.0 is not 0.0, nan is nan)."""
    if static:
        try:
            hash(a)
        except TypeError:
            raise TypeError(
                f"mg.jit: static argument {a!r} must be hashable (it keys the cache)"
            ) from None
        return ("static", environment.bits(a) if isinstance(a, float | complex) else a)
    if isinstance(a, Tensor):  # inside fn, an array argument is a Tensor too
        return (a.data.shape, a.data.dtype, a.requires_grad)
    if isinstance(a, np.ndarray | np.generic):
        return (a.shape, a.dtype, False)
    if isinstance(a, bool | int | float):
        return (type(a),)
    raise TypeError(
        f"mg.jit: an argument of type {type(a).__name__} cannot be traced (a "
        f"{type(a).__name__} is not an array: code that uses it would mean something else "
        "on a Tensor); pass an array (np.asarray) or make it static (static_argnums)"
    )


class Jitted:
    """A compiled function: call it like ``fn``; ``source`` and ``traces`` tell what it did."""

    def __init__(
        self,
        fn: Callable[..., Any],
        static_argnums: int | Iterable[int] = (),
        verify: bool = False,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"mg.jit needs a function, got {type(fn).__name__}")
        self.fn = fn
        nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        self.static_argnums = tuple(int(n) for n in nums)
        self.verify = verify or VERIFY
        self.traces = 0
        self._cache: dict[Any, list[_Compiled]] = {}
        self._numbers_static: set[Any] = set()  # keys whose numbers a trace had to freeze
        self._last: _Compiled | None = None
        self._vjps: dict[tuple, Jitted] = {}
        self._lock = threading.Lock()
        try:
            self._signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self._signature = None
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def source(self) -> str:
        """The generated Python source of the last trace (empty before the first call)."""
        return "" if self._last is None else self._last.source

    @property
    def program(self) -> Program | None:
        """The optimized program of the last trace."""
        return None if self._last is None else self._last.program

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", repr(self.fn))
        return f"<mg.jit of {name}: {self.traces} trace(s)>"

    def _positional(self, args: tuple, kwargs: dict) -> tuple[tuple, tuple[str, ...]]:
        """Keyword arguments bound to their positions; keyword-only ones after them, with
        their names (fn's own TypeError if they do not bind, as an eager call raises it)."""
        try:
            bound = self._signature.bind(*args, **kwargs) if self._signature else None
        except TypeError:
            bound = None
        if bound is None:
            self.fn(*args, **kwargs)  # raises Python's own TypeError, before any work
            raise TypeError("mg.jit: cannot bind the arguments")  # not reached for a def
        return (*bound.args, *bound.kwargs.values()), tuple(bound.kwargs)

    def _static(self, n: int) -> frozenset[int]:
        for k in self.static_argnums:
            if not -n <= k < n:
                raise ValueError(f"mg.jit: static_argnums {k} is out of range for {n} args")
        return frozenset(k % n for k in self.static_argnums)

    def _key(self, args: tuple, static: frozenset[int]) -> tuple:
        key = (_mode.enabled, tuple(_spec(a, i in static) for i, a in enumerate(args)))
        grads = [id(a) for a in args if isinstance(a, Tensor) and a.requires_grad]
        if grads:  # which of them are the same tensor (differentiated through both uses)
            key += (tuple(grads.index(g) for g in grads),)
        return key

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or self.static_argnums or recording.tracing is not None:
            return self._call(args, kwargs)
        # the common case, arguments and no keywords: a few attribute reads per argument
        key = ((), _mode.enabled, tuple(map(_fast_spec, args)))
        for compiled in self._cache.get(key, ()):
            if compiled.guard():
                break
        else:
            return self._call(args, kwargs)
        self._last = compiled
        if compiled.records:
            return compiled.build(self._record(compiled, args))
        return compiled.build(compiled.flat(args))

    def _call(self, args: tuple, kwargs: dict) -> Any:
        """Any call: keywords, static arguments, a trace to make, or inside another trace."""
        if is_tracing():  # inside another jitted function: becomes part of its trace
            return self.fn(*args, **kwargs)
        names: tuple[str, ...] = ()
        if kwargs:
            args, names = self._positional(args, kwargs)
        static = self._static(len(args) - len(names))
        key = (names, *self._key(args, static))
        if key not in self._cache and key in self._numbers_static:
            static = static | {i for i, a in enumerate(args) if is_number(a)}
            key = (names, *self._key(args, static))
        for compiled in self._cache.get(key, ()):
            if compiled.guard() and not compiled.reads_one_of(args):
                break
        else:
            compiled = self._compile(args, static, key, names)
        self._last = compiled
        if compiled.records:
            return compiled.build(self._record(compiled, args))
        return compiled.build(compiled.flat(args))

    def _compile(
        self, args: tuple, static: frozenset[int], key: tuple, names: tuple[str, ...]
    ) -> _Compiled:
        with self._lock:
            fn = self.fn if not names else _with_keywords(self.fn, names)
            env = environment.Environment(fn)
            numbers = {i for i, a in enumerate(args) if is_number(a)} - static
            try:
                program = trace.run(fn, args, static, True, env, self.verify)
            except Exception as err:
                if not numbers:
                    trace.draw_as_eager(err)
                    raise
                # a number argument used as a number (Python arithmetic, an if): trace
                # again with the numbers as constants, keyed by their bits
                self._numbers_static.add(key)
                static = static | numbers
                key = (names, *self._key(args, static))
                try:
                    program = trace.run(fn, args, static, False, env, self.verify)
                except Exception as again:
                    trace.draw_as_eager(again)
                    raise
            guard = environment.guard(env, _used(env, program))
            if not guard():
                raise TraceError(
                    "the function changed state outside its arguments while traced (an "
                    "attribute set, a list appended to): mg.jit cannot repeat side effects. "
                    "Return the new value instead"
                )
            program = passes.optimize(program, verify=self.verify)
            name = getattr(self.fn, "__name__", "compiled")
            generated = codegen.generate(program, name if name.isidentifier() else "compiled")
            grad_lives = tuple(
                v.source
                for v in program.lives
                if isinstance(v.source, Tensor) and v.source.requires_grad
            )
            compiled = _Compiled(
                program,
                generated.source,
                _caller(program, generated),
                _builder(program.structure, any(program.needs_grad)),
                guard,
                grad_lives,
                any(program.needs_grad),
                [v.source for v in program.lives if isinstance(v.source, np.random.Generator)],
                outside=frozenset(id(n.obj) for n in env.nodes if isinstance(n.obj, Tensor)),
            )
            entries = self._cache.setdefault(key, [])
            entries.insert(0, compiled)
            del entries[MAX_TRACES_PER_KEY:]
            self.traces += 1
            return compiled

    # --- gradients through a compiled call ---------------------------------------------

    def _record(self, compiled: _Compiled, args: tuple) -> list:
        """Run the compiled function and make each output that required grad when traced
        a node of the caller's graph: one op whose backward is the compiled backward of
        that output. The backward recomputes the forward, so it is given the random
        generators' states from before this call: it draws what this call drew."""
        generators = compiled.generators
        states = _States([g.bit_generator.state for g in generators]) if generators else None
        outs = list(compiled.flat(args))
        parents = (*args, *compiled.grad_lives, *([states] if generators else []))
        wanted = tuple(
            i for i, p in enumerate(parents) if isinstance(p, Tensor) and p.requires_grad
        )
        raw = [p.data if isinstance(p, Tensor) else p for p in parents]
        for k, needs in enumerate(compiled.program.needs_grad):
            if needs:
                op = self._output_op(compiled, k, len(args), wanted)
                data = np.asarray(outs[k])
                outs[k] = Tensor._make(data, True, op, parents, raw, recording.changes[0])
        return outs

    def _output_op(self, compiled: _Compiled, k: int, n_args: int, wanted: tuple) -> Op:
        """The op of output k (kept per trace): its one rule gives every input's gradient
        from one compiled backward call, remembered for the node's other inputs."""
        key = (k, n_args, wanted)
        op = compiled.ops.get(key)
        if op is not None:
            return op
        last = threading.local()  # the node's rules run one after another: one slot
        vjps = {
            create: self._vjp(k, n_args, wanted, compiled.grad_lives, create)
            for create in (False, True)
        }

        generators = compiled.generators

        def rule(i: int, g: Any, out: Any, inputs: Any) -> Any:
            create = isinstance(g, Tensor)  # a create_graph backward: results that record
            hit = getattr(last, "hit", None)
            if hit is None or hit[0] is not out or hit[1] is not g:  # by identity
                # the arguments only: the outside tensors among the node's inputs are
                # read by the compiled backward where fn reads them, from outside (passed
                # in as well, they would be two tensors to its trace, and refused)
                if generators:
                    *inputs, states = inputs
                    with _rewound(generators, states):
                        grads = vjps[create](*inputs[:n_args], g)
                else:
                    grads = vjps[create](*inputs[:n_args], g)
                plain = grads if create else [None if x is None else x.data for x in grads]
                hit = last.hit = (out, g, plain)
            if i == wanted[-1]:
                last.hit = None  # the node's last input: let go of its gradients
            return hit[2][wanted.index(i)]

        name = getattr(self.fn, "__name__", "fn")
        op = compiled.ops[key] = Op(
            f"jit({name})",
            lambda *inputs: None,
            EveryInput(rule),
            (f"the compiled backward of {name}'s output {k}",),
        )
        return op

    def _vjp(
        self, k: int, n_args: int, wanted: tuple, lives: tuple[Tensor, ...], create: bool
    ) -> Jitted:
        """``vjp(*args, g)``: the gradients of output k with respect to the inputs
        in ``wanted`` (arguments and outside tensors that require grad), compiled; with
        ``create``, differentiable again the same way (higher orders)."""
        key = (k, n_args, wanted, tuple(id(t) for t in lives), create)
        if key not in self._vjps:
            fn = _output_vjp(self.fn, k, n_args, wanted, lives, create)
            self._vjps[key] = Jitted(fn, self.static_argnums, self.verify)
        return self._vjps[key]


def _with_keywords(fn: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    """fn taking its keyword-only arguments ``names`` last, by position."""
    n = len(names)

    def positional(*args: Any) -> Any:
        return fn(*args[:-n], **dict(zip(names, args[-n:], strict=True)))

    positional.__name__ = getattr(fn, "__name__", "compiled")
    positional.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p.replace(kind=p.POSITIONAL_OR_KEYWORD) for p in _parameters(fn, names)]
    )
    return positional


def _parameters(fn: Callable[..., Any], names: tuple[str, ...]) -> list[inspect.Parameter]:
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword = {p.name: p for p in params}
    return [p.replace(default=p.empty) for p in positional] + [
        keyword[name].replace(default=inspect.Parameter.empty) for name in names
    ]


class _States(list):
    """The random generators' states before a recorded call (a constant input of its
    node, so its backward can draw again what the call drew)."""


@contextlib.contextmanager
def _rewound(generators: list, states: list) -> Iterator[None]:
    """The generators back at ``states`` for a while; then where they were."""
    now = [g.bit_generator.state for g in generators]
    for g, state in zip(generators, states, strict=True):
        g.bit_generator.state = state
    try:
        yield
    finally:
        for g, state in zip(generators, now, strict=True):
            g.bit_generator.state = state


def _used(env: environment.Environment, program: Program) -> dict[int, tuple]:
    """The environment nodes of the tensors and arrays the program reads, with their spec."""
    used = {}
    for v in program.lives:
        k = env.find(v.source)
        if k is not None and k > 0 and not isinstance(v.source, np.random.Generator):
            data = v.source.data if isinstance(v.source, Tensor) else v.source
            used[k] = (data.shape, data.dtype, bool(getattr(v.source, "requires_grad", False)))
    return used


def _output_vjp(
    fn: Callable[..., Any],
    k: int,
    n_args: int,
    wanted: tuple,
    lives: tuple[Tensor, ...],
    create: bool,
) -> Callable[..., Any]:
    """The backward of output k, as the engine's own rules give it: each input's
    contribution in the dtype the rules make (the engine casts at the leaf, after adding
    every contribution), None for an input output k does not depend on."""
    from minigrad.functional import _track  # a transform's stand-in: an op on the argument

    def vjp(*inputs: Any) -> tuple:
        *given, g = inputs
        args = list(given[:n_args])
        for i in wanted:
            if i < n_args:
                args[i] = _track(args[i])
        with autograd.enable_grad():
            out = _flat_tensors(fn(*args))[k]
        targets = [args[i] if i < n_args else lives[i - n_args] for i in wanted]
        return tuple(autograd.vjp(out, targets, g, create))

    vjp.__name__ = f"vjp_{getattr(fn, '__name__', 'fn')}_{k}"
    return vjp


def _flat_tensors(obj: Any) -> list[Any]:
    if isinstance(obj, tuple | list):
        return [x for item in obj for x in _flat_tensors(item)]
    if isinstance(obj, dict):
        return [x for item in obj.values() for x in _flat_tensors(item)]
    return [obj]


def jit(
    fn: Callable[..., Any], static_argnums: int | Iterable[int] = (), verify: bool = False
) -> Jitted:
    """Compile ``fn`` (any function of minigrad ops, transforms included) on first call.

    The compiled function returns exactly what ``fn`` returns, or its first call raises
    TraceError saying why it cannot be compiled:

    - Arguments are arrays, Tensors (inside ``fn`` both are Tensors) or Python numbers.
      A new shape, dtype, kind, or ``requires_grad`` traces again. A Python number is
      an input that keeps NumPy's weak promotion (``float32 × 2.0`` stays float32); a
      number used as a number (Python arithmetic, an ``if``) makes the trace keep it as
      a constant, keyed by its bits. ``static_argnums`` are keyed by value.
    - What ``fn`` reads from outside — tensors and arrays it closes over (read at every
      call, so in-place updates are seen), Modules (``train()``/``eval()``, ``p``,
      replaced parameters), numbers in its closure and globals, random generators — is
      checked at every call; a change traces again. Random draws (``mg.randn``,
      Dropout) are new at every call and follow eager's stream exactly.
    - Reading a traced value as data inside ``fn`` (``if loss > 1``, ``float(t)``,
      ``t.item()``, ``np.asarray(t)``, a NumPy function without a minigrad rule) raises
      TraceError.
    - When an argument or an outside tensor requires grad, results that depend on it
      require grad too: the call is one op of the caller's graph, whose backward is
      compiled as well.

    ``verify=True`` checks the program after every pass against the traced values.

    >>> import numpy as np, minigrad as mg
    >>> f = mg.jit(lambda x, s: (x * s).sum())
    >>> f(np.array([1.0, 2.0]), 3.0).item(), f(np.array([1.0, 2.0]), 0.5).item(), f.traces
    (9.0, 1.5, 1)
    """
    return Jitted(fn, static_argnums, verify)


__all__ = ["Jitted", "TraceError", "Value", "jit"]
