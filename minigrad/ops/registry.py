"""The registry of public ops: what ``mg.NAME`` and ``np.NAME(tensor)`` mean.

An op's definition says, in one place, the name users call it by and the NumPy function
it implements: ``exp = public(Op("exp", np.exp, ...), numpy=np.exp)``, or ``@public``
above a function. Every surface is derived from this table, never kept by hand:
``mg.NAME`` (and ``mg.linalg.NAME``), NumPy's dispatch (``np.exp(t)``, through
:mod:`minigrad.numpy_api`), and the tests that walk it (``tests/test_registry.py``):
each entry has an op-table row, dispatches from NumPy, compiles under ``mg.jit`` to the
eager answer, and is written in the generated source under a name a reader can see.
What the compiler needs of an op (elementwise, view, source form, lowering) is declared
on the :class:`~minigrad.autograd.Op` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minigrad.keywords import torch_keywords
from minigrad.op import Op


@dataclass(frozen=True)
class Entry:
    """One public op: ``function`` is ``mg.NAME``; ``numpy`` the NumPy functions it
    implements; ``signature`` names the adapter that maps NumPy's call onto it (None:
    the same parameters; see :data:`minigrad.numpy_api.SIGNATURES`); ``linalg`` puts it
    in ``mg.linalg`` rather than ``mg``."""

    name: str
    function: Callable[..., Any]
    numpy: tuple[Callable[..., Any], ...] = ()
    signature: str | None = None
    linalg: bool = False


REGISTRY: dict[str, Entry] = {}
version = [0]
"""Bumped at every registration, so tables derived from the registry know to rebuild."""


def public(
    function: Any = None,
    /,
    *,
    name: str | None = None,
    numpy: Any = (),
    signature: str | None = None,
    linalg: bool = False,
) -> Any:
    """Register ``function`` (an Op or a function) as ``mg.NAME`` and, if given, as the
    implementation of the NumPy function(s) ``numpy``. Works as a decorator
    (``@public(numpy=np.sum, signature="reduction")``) and as a call. An Op is returned
    unchanged; a function is returned wrapped by :func:`minigrad.keywords.torch_keywords`
    (PyTorch's ``dim=``/``keepdim=`` accepted, an unknown keyword refused with a hint),
    and that wrapper is ``mg.NAME``."""

    def register(fn: Any) -> Any:
        key = name or (fn.name if isinstance(fn, Op) else fn.__name__)
        if not isinstance(fn, Op):
            fn = torch_keywords(fn, key)
        functions = numpy if isinstance(numpy, tuple) else (numpy,)
        REGISTRY[key] = Entry(key, fn, functions, signature, linalg)
        version[0] += 1
        return fn

    return register if function is None else register(function)


__all__ = ["REGISTRY", "Entry", "public"]
