"""What the engine tells a tracer (``mg.jit``), and the one guard on traced data.

While :mod:`minigrad.jit` traces a function, every op the function applies runs as usual
on concrete values, and the engine reports each application to a :class:`Tracing`
object. The compiled program replays those ops on new inputs, so nothing the function
computes from a traced value may escape the ops: a value read as data (``float(loss)``,
``if t > 0``, ``np.asarray(t)``, a NumPy function without a minigrad rule, ``t.data``
handed to NumPy) would be this call's value forever.

The guard is structural. While tracing, the data of every traced tensor (the function's
arguments and everything computed from them) is a :class:`TracedArray`: an ndarray
whose shape and dtype can be read but whose values cannot — NumPy functions, methods
and conversions on it raise :class:`TraceError`. Only :func:`minigrad.autograd.apply`
unwraps it, to run an op's forward, and wraps the result again. So every path that
reads a traced value as data refuses, including paths nobody listed.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class TraceError(TypeError):
    """A function being traced by ``mg.jit`` read a traced value as data (``if loss > 1``,
    ``float(t)``, a NumPy function without a minigrad rule): the compiled replay could
    not repeat that choice for other inputs."""


def read_error(what: str) -> TraceError:
    """The error for reading a traced value as data by ``what``."""
    return TraceError(
        f"{what} reads the values of a Tensor inside a function being traced by mg.jit: "
        "the compiled function would keep this call's values forever. Write it with "
        "minigrad ops (mg.where instead of if/else), make the argument static "
        "(static_argnums), or move the Python logic out of the jitted function."
    )


# NumPy functions that read only shapes, dtypes or memory layout: allowed on traced data
METADATA = {
    np.shape, np.ndim, np.size, np.may_share_memory, np.shares_memory, np.result_type,
    np.iscomplexobj, np.isrealobj,
}  # fmt: skip

# attributes that describe the array without reading its values
_STRUCTURE = frozenset(
    [
        "shape",
        "dtype",
        "ndim",
        "size",
        "itemsize",
        "nbytes",
        "strides",
        "flags",
        "base",
        "T",
        "reshape",
        "transpose",
        "swapaxes",
        "squeeze",
        "ravel",
        "flatten",
        "astype",
        "copy",
        "view",
    ]
)


def plain(x: Any) -> Any:
    """``x`` with traced data as an ordinary ndarray (for the engine's own use)."""
    if type(x) is TracedArray:
        return np.ndarray.view(x, np.ndarray)
    if isinstance(x, tuple | list):
        return type(x)(plain(y) for y in x)
    return x


_active: list[int | None] = [None]
"""The thread whose trace is running, if any: the only thread traced data refuses in."""


def refusing() -> bool:
    """Whether traced data refuses to be read here (the tracing thread, while it traces)."""
    return _active[0] is not None and _active[0] == threading.get_ident()


def _plain_kwargs(kwargs: dict) -> dict:
    return {k: plain(v) for k, v in kwargs.items()}


class TracedArray(np.ndarray):
    """Traced data: its shape and dtype are known, its values refuse to be read.

    It refuses only in the thread that is tracing, while it traces. Anywhere else (a
    closed-over array swapped for a traced view during a trace, seen by another thread;
    a traced tensor kept after the trace) it is an ordinary array of the same memory.
    """

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if refusing():
            raise read_error(
                f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            )
        result = getattr(ufunc, method)(*plain(inputs), **_plain_kwargs(kwargs))
        out = kwargs.get("out")  # NumPy passes it as a tuple, and returns the out arrays
        if out is None:
            return result
        return out[0] if len(out) == 1 else out

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in METADATA or not refusing():
            return func(*plain(args), **_plain_kwargs(kwargs))
        raise read_error(f"np.{getattr(func, '__name__', func)}")

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") or name in _STRUCTURE or not refusing():
            return super().__getattribute__(name)
        raise read_error(f".data.{name}")

    def view(self, *args: Any, **kwargs: Any) -> Any:
        result = super().view(*args, **kwargs)
        if type(result) is not TracedArray and refusing():
            raise read_error(".data.view()")
        return result

    def __repr__(self) -> str:
        if refusing():
            return f"<traced {self.dtype} array of shape {self.shape}>"
        return repr(plain(self))

    def __str__(self) -> str:
        if refusing():
            return repr(self)
        return str(plain(self))


def _guarded(name: str) -> Any:
    """``ndarray.name``, refusing in the tracing thread."""
    method = getattr(np.ndarray, name)

    def guarded(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
        if refusing():
            raise read_error("reading .data")
        return method(self, *args, **kwargs)

    return guarded


for _name in (
    "__float__", "__int__", "__index__", "__bool__", "__complex__", "__getitem__",
    "__setitem__", "__iter__", "__reduce__", "__reduce_ex__", "__format__",
):  # fmt: skip
    setattr(TracedArray, _name, _guarded(_name))
del _name


def traced(data: Any) -> Any:
    """``data`` (an op's result) as traced data; anything else (a number) as it is."""
    if isinstance(data, np.ndarray) and type(data) is not TracedArray:
        return np.ndarray.view(data, TracedArray)
    return data


def constant(array: np.ndarray) -> np.ndarray:
    """Mark an array the engine made (a seed gradient, a basis vector) as one nobody will
    change: read-only and owning its memory, so a compiled program may fold it."""
    array.flags.writeable = False
    return array


class Tracing:
    """What one thread is tracing: every op applied to a Tensor, in order (minigrad.jit).

    The engine calls these hooks; this base class ignores them. Ops without a gradient
    (comparisons, casts to bool) are recorded too: a mask computed by an op is data the
    replay recomputes, never a value baked in. While tracing, every backward pass is
    recorded (``create_graph``), and the engine says which rule each recorded op comes
    from (:meth:`begin_rule`, :meth:`end_rule`), so compiled code can name it.
    """

    def __init__(self, thread: int) -> None:
        self.thread = thread

    def inputs(self, op: Any, inputs: tuple, raw: list) -> list:
        """The raw values an op's forward is given (traced data made plain again)."""
        return [plain(r) for r in raw]

    def forward(self, op: Any, inputs: tuple, raw: list) -> Any:
        """The op's result on ``raw`` (a tracer may compute it another way)."""
        return op.forward(*raw)

    def record(self, op: Any, inputs: tuple, out: Any) -> None:
        """One op applied to ``inputs`` gave ``out``."""

    def begin_rule(self, note: str) -> None:
        """The ops recorded next compute a gradient, as ``note`` describes."""

    def end_rule(self, result: Any, wrt: Any) -> None:
        """``result`` is (a contribution to) the gradient with respect to ``wrt``."""

    def gradient(self, result: Any, wrt: Any) -> None:
        """``result`` is the whole gradient with respect to ``wrt`` (all paths added)."""

    def created(self, t: Any) -> None:
        """``t`` was made by ``Tensor(...)`` (from constants) while tracing."""


__all__ = [
    "METADATA",
    "TraceError",
    "TracedArray",
    "Tracing",
    "constant",
    "plain",
    "read_error",
    "traced",
]
