"""What a jitted function reads from outside its arguments, and the guard that checks it.

A function reaches state through its closure, the globals its code names, its default
arguments, the object of a bound method, the function and arguments of a
``functools.partial``, and from there through lists, tuples, dicts and the attributes of
objects (a Module's parameters, buffers, sub-modules, ``training`` flag, ``p``).
:class:`Environment` walks all of it once, at trace time, and remembers the path to each
thing it finds.

While the function is traced, every array and tensor found is swapped (at each place it
was found) for a :class:`~minigrad.tracing.TracedArray` view of the same memory: an op
reads it as outside state (the compiled function reads it again at every call), and
NumPy code that reads its values refuses, as it does for the arguments.

At every call, :func:`guard` checks that each path still leads where it led: the same
objects (a rebound closure variable, a replaced ``layer.weight``, a switched
``model.eval()`` or a changed ``drop.p`` all fail it), numbers with the same bits (−0.0
differs from 0.0; a nan equals itself), the tensors and arrays the program reads with the
same shape and dtype. A failed guard means a new trace, never a stale result.

Library functions (minigrad's, NumPy's, the standard library's) are walked only through
their closures (a transform's closure holds the user's function), never through their
module globals, which are not state a user changes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import dis
import functools
import struct
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import random
from minigrad.tensor import Tensor
from minigrad.tracing import TracedArray, traced

MAX_DEPTH = 8
MAX_NODES = 5000
"""The walk stops descending past this depth or node count (state beyond is not seen:
a tensor used from there is refused at trace time)."""

ATOMS = (bool, int, float, complex, str, bytes, type(None), np.generic)
LEAVES = (*ATOMS, Tensor, np.ndarray, np.random.Generator, type, types.ModuleType)


@dataclass
class Node:
    """One thing found: the object, and how its parent holds it: ``kind`` is "cell",
    "dict" (an object's ``__dict__``), "item" (of a list, tuple or dict), "global",
    "default", "kwdefault" or "attr" (a fixed attribute such as ``__self__``)."""

    obj: Any
    parent: int
    kind: str
    key: Any

    def step(self) -> str:
        """Python source that reaches this node from its parent."""
        return {
            "cell": f".__closure__[{self.key}].cell_contents",
            "dict": f".__dict__[{self.key!r}]",
            "item": f"[{self.key!r}]",
            "global": f".__globals__[{self.key!r}]",
            "default": f".__defaults__[{self.key}]",
            "kwdefault": f".__kwdefaults__[{self.key!r}]",
            "attr": f".{self.key}",
        }[self.kind]


def bits(x: Any) -> Any:
    """A number's identity for caching: float bits (−0.0 ≠ 0.0; a nan equals itself)."""
    if isinstance(x, float) and not isinstance(x, np.generic):
        return (float, struct.pack("<d", x))
    if isinstance(x, complex) and not isinstance(x, np.generic):
        return (complex, struct.pack("<dd", x.real, x.imag))
    if isinstance(x, np.generic):
        return (type(x), x.tobytes())
    return (type(x), x)


_LIBRARY_ROOTS = {"minigrad", "numpy", "builtins", "functools", "typing", "abc"}


def _is_library(obj: Any) -> bool:
    """Functions and classes of minigrad, NumPy, the standard library and installed
    third-party packages (not user state; a test tool's bookkeeping, say)."""
    module = getattr(obj, "__module__", None) or ""
    root = module.split(".")[0]
    if root in _LIBRARY_ROOTS or root in sys.stdlib_module_names:
        return True
    path = getattr(sys.modules.get(module), "__file__", None) or ""
    return "site-packages" in path or "dist-packages" in path


def _global_names(code: types.CodeType) -> set[str]:
    """The global names a code object (and the functions defined inside it) loads."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


_PLAIN_HOLDERS = (types.SimpleNamespace, argparse.Namespace)


def _holds_state(obj: Any) -> bool:
    """An object whose attributes are walked: a user's object, a model (a minigrad
    Module: its class is library code, its attributes are the user's state), a plain
    holder of values (a SimpleNamespace, a dataclass). Other library objects (a logger,
    an optimizer) are checked by identity only."""
    if not hasattr(obj, "__dict__") or isinstance(obj, types.FunctionType):
        return False
    if isinstance(obj, _PLAIN_HOLDERS) or dataclasses.is_dataclass(obj):
        return True
    return not _is_library(type(obj)) or hasattr(obj, "named_parameters")


class Environment:
    """Everything a function can reach from outside its arguments, with the way there."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.nodes: list[Node] = [Node(fn, -1, "attr", "")]
        self.index: dict[int, int] = {id(fn): 0}  # id(object) -> node (first path)
        self.more: dict[int, list[int]] = {}  # id(array or tensor) -> its other nodes
        self._walk(0, 0)
        self.index.setdefault(id(random.default_generator), -1)

    def find(self, obj: Any) -> int | None:
        """The node of ``obj`` (-1 for the default generator), or None if not reachable."""
        return self.index.get(id(obj))

    def _add(self, obj: Any, parent: int, depth: int, kind: str, key: Any) -> None:
        if len(self.nodes) >= MAX_NODES:
            return
        seen = None if isinstance(obj, ATOMS) else self.index.get(id(obj))
        if seen is not None and not isinstance(obj, Tensor | np.ndarray):
            return
        self.nodes.append(Node(obj, parent, kind, key))
        k = len(self.nodes) - 1
        if seen is not None:  # a second place holding the same array: swapped there too
            self.more.setdefault(id(obj), []).append(k)
            return
        if not isinstance(obj, ATOMS):
            self.index[id(obj)] = k
        if depth < MAX_DEPTH and not isinstance(obj, LEAVES):
            self._walk(k, depth + 1)

    def _walk(self, k: int, depth: int) -> None:
        obj = self.nodes[k].obj

        def add(x: Any, kind: str, key: Any) -> None:
            self._add(x, k, depth, kind, key)

        if isinstance(obj, list | tuple):
            for i, x in enumerate(obj):
                add(x, "item", i)
        elif isinstance(obj, dict):
            for key, x in list(obj.items()):
                if isinstance(key, ATOMS):
                    add(x, "item", key)
        elif isinstance(obj, types.FunctionType):
            self._walk_function(obj, add)
        elif isinstance(obj, types.MethodType):
            add(obj.__self__, "attr", "__self__")
            add(obj.__func__, "attr", "__func__")
        elif isinstance(obj, functools.partial):
            add(obj.func, "attr", "func")
            add(obj.args, "attr", "args")
            add(obj.keywords, "attr", "keywords")
        elif _holds_state(obj):
            for name, x in list(vars(obj).items()):
                add(x, "dict", name)
            for method in ("__call__", "forward"):
                fn = getattr(type(obj), method, None)
                if isinstance(fn, types.FunctionType) and not _is_library(fn):
                    add(fn, "attr", f"__class__.{method}")

    def _walk_function(self, fn: types.FunctionType, add: Callable[..., None]) -> None:
        for i, cell in enumerate(fn.__closure__ or ()):
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell (a variable not assigned yet)
                continue
            add(contents, "cell", i)
        for i, x in enumerate(fn.__defaults__ or ()):
            add(x, "default", i)
        for name, x in (fn.__kwdefaults__ or {}).items():
            add(x, "kwdefault", name)
        wrapped = getattr(fn, "__wrapped__", None)
        if wrapped is not None:
            add(wrapped, "attr", "__wrapped__")
        if _is_library(fn):
            return
        module_globals = fn.__globals__
        for name in sorted(_global_names(fn.__code__)):
            if name in module_globals:
                add(module_globals[name], "global", name)

    def expression(self, k: int) -> str:
        """Python source that reaches node k from ``fn``."""
        steps = []
        while k > 0:
            steps.append(self.nodes[k].step())
            k = self.nodes[k].parent
        return "fn" + "".join(reversed(steps))

    # --- swapping outside data for traced views while tracing ---------------------------

    @contextlib.contextmanager
    def traced_views(self) -> Iterator[dict[int, Any]]:
        """While the trace runs: every array and tensor found reads as traced data.

        Yields {id(traced view): original}. Arrays are swapped where they are held;
        tensors keep their identity and get a traced view as ``.data``. Everything is
        put back afterwards, whatever happens.
        """
        views: dict[int, Any] = {}
        undo: list[Callable[[], None]] = []
        try:
            for k, node in enumerate(self.nodes):
                obj = node.obj
                if isinstance(obj, Tensor) and type(obj.data) is not TracedArray:
                    data = obj.data
                    obj.data = traced(data)
                    views[id(obj.data)] = obj
                    undo.append(lambda t=obj, d=data: setattr(t, "data", d))
                elif isinstance(obj, np.ndarray) and type(obj) is not TracedArray and k > 0:
                    view = traced(obj)
                    if self._set(k, view, undo):
                        views[id(view)] = obj
            yield views
        finally:
            for step in reversed(undo):
                step()

    def _set(self, k: int, value: Any, undo: list[Callable[[], None]]) -> bool:
        """Put ``value`` where node k's object is held (rebuilding a tuple that holds
        it, up to a place that can be set); False where that is impossible."""
        node = self.nodes[k]
        parent = self.nodes[node.parent].obj
        old = node.obj
        if node.kind == "cell":
            cell = parent.__closure__[node.key]
            cell.cell_contents = value
            undo.append(lambda: setattr(cell, "cell_contents", old))
            return True
        if node.kind in ("dict", "global", "kwdefault") or (
            node.kind == "item" and isinstance(parent, list | dict)
        ):
            holder = {
                "dict": lambda: vars(parent),
                "global": lambda: parent.__globals__,
                "kwdefault": lambda: parent.__kwdefaults__,
                "item": lambda: parent,
            }[node.kind]()
            holder[node.key] = value
            undo.append(lambda: holder.__setitem__(node.key, old))
            return True
        if node.kind == "default":
            defaults = parent.__defaults__
            parent.__defaults__ = (*defaults[: node.key], value, *defaults[node.key + 1 :])
            undo.append(lambda: setattr(parent, "__defaults__", defaults))
            return True
        if node.kind == "item" and isinstance(parent, tuple) and node.parent > 0:
            new = (*parent[: node.key], value, *parent[node.key + 1 :])
            return self._set(node.parent, new, undo)
        return False


def _fixed(env: Environment, node: Node) -> bool:
    """Whether the object at node cannot change: a number in a tuple, or what a library
    function holds (its closure, defaults: minigrad's transforms never rebind them)."""
    parent = env.nodes[node.parent].obj
    if isinstance(parent, tuple):
        return isinstance(node.obj, ATOMS)
    library = isinstance(parent, types.FunctionType) and _is_library(parent)
    return library and node.kind in ("cell", "default", "kwdefault", "attr")


def guard(env: Environment, used: dict[int, tuple]) -> Callable[[], bool]:
    """``check()``: True while every path of ``env`` leads where it led at trace time.

    ``used`` maps the node of each tensor or array the program reads to the (shape,
    dtype, requires_grad) it had: those are checked too. Generated as straight-line
    code, like the compiled function itself: a guard runs on every call.
    """
    namespace: dict[str, Any] = {"fn": env.nodes[0].obj, "bits": bits}
    checks: dict[int, list[str]] = {}
    for k in range(1, len(env.nodes)):
        node, obj, lines = env.nodes[k], env.nodes[k].obj, []
        if isinstance(obj, ATOMS):
            if not _fixed(env, node):
                namespace[f"b{k}"] = bits(obj)
                lines.append(f"if bits(n{k}) != b{k}: return False")
        else:
            if not _fixed(env, node):
                namespace[f"o{k}"] = obj
                lines.append(f"if n{k} is not o{k}: return False")
            if isinstance(obj, list | dict):
                lines.append(f"if len(n{k}) != {len(obj)}: return False")
            elif _holds_state(obj):
                lines.append(f"if len(n{k}.__dict__) != {len(vars(obj))}: return False")
            if k in used:
                namespace[f"s{k}"] = used[k]
                data = f"n{k}.data" if isinstance(obj, Tensor) else f"n{k}"
                grad = f"n{k}.requires_grad" if isinstance(obj, Tensor) else "False"
                lines.append(f"if ({data}.shape, {data}.dtype, {grad}) != s{k}: return False")
        checks[k] = lines
    needed = {k for k, lines in checks.items() if lines}
    for k in sorted(needed, reverse=True):  # a checked node needs the path to it
        parent = env.nodes[k].parent
        while parent > 0 and parent not in needed:
            needed.add(parent)
            parent = env.nodes[parent].parent
    body = ["def check():", "    try:", "        pass"]
    for k in sorted(needed):
        node = env.nodes[k]
        parent = "fn" if node.parent == 0 else f"n{node.parent}"
        body.append(f"        n{k} = {parent}{node.step()}")
        body += [f"        {line}" for line in checks[k]]
    body += ["    except Exception:", "        return False", "    return True"]
    exec("\n".join(body), namespace)
    return namespace["check"]


__all__ = ["Environment", "bits", "guard"]
