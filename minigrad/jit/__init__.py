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

The first call with new argument shapes or dtypes (or new static arguments) traces:
``fn`` runs once on stand-in tensors and every op it applies is kept, the backward passes
of ``mg.grad`` and friends included (recorded through ``create_graph``, so each gradient
still comes from one rule per op). The trace becomes a program (:mod:`.program`), small
passes simplify it (:mod:`.passes`), and it is written out as Python source
(:mod:`.codegen`), kept in ``fast.source``, and ``exec``-ed into the function that runs
from then on. See the README's "Compiled mode" section for the code it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.autograd import is_tracing
from minigrad.jit import codegen, passes, trace
from minigrad.jit.program import Program, Value
from minigrad.tensor import Tensor


@dataclass
class _Compiled:
    """One trace: the generated function, and ``call``, which feeds it the arguments and
    the outside tensors' current data and wraps its results (also generated: a
    straight-line wrapper costs a few hundred nanoseconds less per call than a loop)."""

    program: Program
    source: str
    call: Callable[[tuple], Any]
    lives: list[Tensor]
    live_specs: list[tuple[tuple[int, ...], np.dtype]]

    def lives_unchanged(self) -> bool:
        return all(
            t.data.shape == shape and t.data.dtype == dtype
            for t, (shape, dtype) in zip(self.lives, self.live_specs, strict=True)
        )


NUMBER = "number"


def _spec(a: Any) -> Any:
    """What a compiled function depends on of an argument: for an array or a Tensor its
    (shape, dtype); a Python number is a constant of the trace (NumPy treats it as
    "weak", so it cannot stand in for an array without changing dtypes), keyed by value;
    anything else is converted with np.asarray."""
    if isinstance(a, Tensor):
        return (a.data.shape, a.data.dtype)  # an array either way
    if isinstance(a, np.ndarray):
        return (a.shape, a.dtype)
    if isinstance(a, bool | int | float) and not isinstance(a, np.generic):
        return (NUMBER, type(a), a)
    array = np.asarray(a)
    return (array.shape, array.dtype)


def _caller(program: Program, run: Callable[..., Any]) -> Callable[[tuple], Any]:
    """``call(args)``: the arguments as arrays, then the outside tensors' data, into
    ``run``; its results as Tensors in the structure the traced function returned."""
    namespace = {"run": run, "T": _wrap, "A": _array, "lives": [v.source for v in program.lives]}
    feed = [f"A(args[{v.index}])" for v in program.args]
    feed += [f"lives[{k}].data" for k in range(len(program.lives))]
    body = f"    out = run({', '.join(feed)})\n    return {_rebuild(program.structure)}\n"
    exec("def call(args):\n" + body, namespace)
    return namespace["call"]


def _rebuild(structure: Any) -> str:
    """Source text that builds the traced function's return value from ``out``."""
    kind, body = structure[0], structure[1]
    if kind == "leaf":
        return f"T(out[{body}])" if structure[2] else f"out[{body}]"
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {_rebuild(s)}" for k, s in body) + "}"
    items = [_rebuild(s) for s in body]
    if kind == "tuple":
        return "(" + "".join(f"{x}, " for x in items) + ")"
    return "[" + ", ".join(items) + "]"


def _array(a: Any) -> np.ndarray:
    if type(a) is np.ndarray:
        return a
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _wrap(value: Any) -> Tensor:
    return Tensor._make(np.asarray(value), False, None, ())


class Jitted:
    """A compiled function: call it like ``fn``; ``source`` and ``traces`` tell what it did."""

    def __init__(self, fn: Callable[..., Any], static_argnums: int | Iterable[int] = ()) -> None:
        if not callable(fn):
            raise TypeError(f"mg.jit needs a function, got {type(fn).__name__}")
        self.fn = fn
        nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        self.static_argnums = frozenset(int(n) for n in nums)
        self.traces = 0
        self._cache: dict[Any, _Compiled] = {}
        self._last: _Compiled | None = None
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

    def _key(self, args: tuple) -> Any:
        """The cache key: what the compiled function depends on of the arguments."""
        if not self.static_argnums:
            try:  # the common case, arrays and Tensors: two tuples, no call per argument
                return (tuple([a.shape for a in args]), tuple([a.dtype for a in args]))
            except AttributeError:  # a Python number, a list
                pass
        key = []
        for i, a in enumerate(args):
            if i in self.static_argnums or i - len(args) in self.static_argnums:
                try:
                    hash(a)
                except TypeError:
                    raise TypeError(
                        f"mg.jit: static argument {i} must be hashable (it keys the cache), "
                        f"got a {type(a).__name__}"
                    ) from None
                key.append(("static", a))
            else:
                key.append(_spec(a))
        return ("general", tuple(key))

    def __call__(self, *args: Any) -> Any:
        if is_tracing():  # inside another jitted function: becomes part of its trace
            return self.fn(*args)
        key = self._key(args)
        compiled = self._cache.get(key)
        if compiled is None or (compiled.lives and not compiled.lives_unchanged()):
            compiled = self._cache[key] = self._compile(args, key)
            self.traces += 1
        self._last = compiled
        return compiled.call(args)

    def _compile(self, args: tuple, key: tuple) -> _Compiled:
        for n in self.static_argnums:
            if not -len(args) <= n < len(args):
                raise ValueError(f"mg.jit: static_argnums {n} is out of range for {len(args)} args")
        specs = key[1] if key[0] == "general" else ()
        numbers = {i for i, spec in enumerate(specs) if spec[0] == NUMBER}
        static = frozenset(n % len(args) for n in self.static_argnums) | numbers
        program = passes.optimize(trace.run(self.fn, args, static))
        name = getattr(self.fn, "__name__", "compiled")
        source, run = codegen.generate(program, name if name.isidentifier() else "compiled")
        lives = [v.source for v in program.lives]
        specs = [(v.shape, v.dtype) for v in program.lives]
        return _Compiled(program, source, _caller(program, run), lives, specs)


def jit(fn: Callable[..., Any], static_argnums: int | Iterable[int] = ()) -> Jitted:
    """Compile ``fn`` (any function of minigrad ops, transforms included) on first call.

    Arguments may be arrays, Tensors or numbers; a new shape or dtype traces again (the
    cache is keyed on them), and so does a new value of an argument in
    ``static_argnums`` — or of a Python number argument: a number is a constant of the
    trace (pass ``np.float64(x)`` or an array to trace it as an input instead, which
    then promotes as an array does). Tensors ``fn`` closes over (a model's parameters) are read at
    every call, so in-place updates by an optimizer are seen. Results are Tensors
    without a graph. Reading a traced value as data inside ``fn`` (``if loss > 1``,
    ``float(t)``, ``t.item()``, ``np.asarray(t)``) raises a TraceError that says so.
    """
    return Jitted(fn, static_argnums)


__all__ = ["Jitted", "Value", "jit"]
