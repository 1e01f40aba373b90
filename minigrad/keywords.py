"""PyTorch's keyword spellings on NumPy-named functions: ``dim=`` and ``keepdim=``.

minigrad's functions and methods take NumPy's keywords (``axis=``, ``keepdims=``). A
PyTorch user writes ``t.sum(dim=0, keepdim=True)``; :func:`torch_keywords` wraps a
function once so that both spellings work, and so that any other unknown keyword fails
with a TypeError naming the keyword the function does take (``dim=`` on a function with
``axis1``/``axis2`` names those). Calls without keywords pay one ``if``.

Where the two libraries give one name two meanings, the spelling picks the meaning:
``t.max(axis=1)`` is NumPy's (the values), ``t.max(dim=1)`` PyTorch's (a named tuple
``(values, indices)``, as ``torch.max`` returns; tied maxima share the values' gradient
equally, where PyTorch gives it to the one index it returns).

This module imports nothing from minigrad at import time (the core uses it).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

RENAMES = {"dim": "axis", "keepdim": "keepdims"}
"""PyTorch's keyword → NumPy's, applied where the function takes NumPy's."""

HINTS = {
    "dims": "axis",
    "correction": "ddof",
    "unbiased": "ddof",
    "input": "the first positional argument",
    "out": "the returned tensor (minigrad functions do not write into out=)",
    "dim0": "t.swapaxes(axis1, axis2) to swap two axes (PyTorch's transpose(dim0, dim1))",
    "dim1": "t.swapaxes(axis1, axis2) to swap two axes (PyTorch's transpose(dim0, dim1))",
}
"""Keywords that are not renamed (their meanings differ) but get a hint."""

NUMPY_ONLY = {"var", "std"}
"""Functions where ``dim=`` would carry PyTorch's other default (correction=1 vs ddof=0):
refused with a hint rather than silently giving NumPy's answer."""


class MaxResult(NamedTuple):
    """``(values, indices)`` of ``max``/``min`` called with ``dim=`` (``torch.max``'s)."""

    values: Any
    indices: Any


def torch_keywords(fn: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """``fn``, accepting ``dim=``/``keepdim=`` for its ``axis``/``keepdims`` and
    failing on an unknown keyword with a hint naming the right one.

    >>> import minigrad as mg
    >>> mg.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=0, keepdim=True).tolist()
    [[4.0, 6.0]]
    >>> mg.tensor([1.0]).cumsum(axes=0)
    Traceback (most recent call last):
    ...
    TypeError: cumsum() got an unexpected keyword argument 'axes'; it takes axis (PyTorch's dim=)
    """
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature: leave it alone
        return fn
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return fn
    label = name or getattr(fn, "__name__", "function")
    accepted = frozenset(parameters)
    positional = [n for n in parameters if n != "self"]
    extreme = label in ("max", "min") and "axis" in accepted

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not accepted.issuperset(kwargs):
            if extreme and "dim" in kwargs:
                return _max_with_indices(label, fn, args, kwargs, accepted, positional)
            kwargs = _translate(label, accepted, positional, kwargs)
        return fn(*args, **kwargs)

    return wrapper


def _translate(
    label: str, accepted: frozenset[str], positional: list[str], kwargs: dict[str, Any]
) -> dict[str, Any]:
    out = dict(kwargs)
    for key in kwargs:
        if key in accepted:
            continue
        target = RENAMES.get(key)
        if target in accepted and label not in NUMPY_ONLY:
            if target in kwargs:
                raise TypeError(f"{label}() got both {key}= and {target}=; pass one")
            out[target] = out.pop(key)
            continue
        raise TypeError(
            f"{label}() got an unexpected keyword argument {key!r}; "
            + _hint(label, key, accepted, positional)
        )
    return out


def _hint(label: str, key: str, accepted: frozenset[str], positional: list[str]) -> str:
    if label in NUMPY_ONLY and key in ("dim", "keepdim", "correction", "unbiased"):
        return (
            f"{label} follows NumPy (axis=, keepdims=, ddof=0), where PyTorch's default is "
            f"correction=1: pass axis= and ddof= explicitly"
        )
    for alias, target in (*RENAMES.items(), *HINTS.items()):
        if key == alias and " " in target:
            return f"use {target}"
        if key == alias and target in accepted:
            return f"it takes {target} (NumPy's name for PyTorch's {key}=)"
    pytorch = {v: k for k, v in RENAMES.items()}
    close = difflib.get_close_matches(RENAMES.get(key, key), sorted(accepted), n=2, cutoff=0.5)
    if close:
        names = " or ".join(
            f"{c} (PyTorch's {pytorch[c]}=)" if c in pytorch else c for c in sorted(close)
        )
        return f"it takes {names}"
    return f"its parameters are ({', '.join(positional)})"


def _max_with_indices(
    label: str,
    fn: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any],
    accepted: frozenset[str],
    positional: list[str],
) -> MaxResult:
    """``max``/``min`` with ``dim=``: PyTorch's ``(values, indices)``."""
    from minigrad import ops  # the ops import this module: import them when called

    kwargs = _translate(label, accepted, positional, kwargs)
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    x, axis = next(iter(bound.arguments.values())), bound.arguments["axis"]
    if not isinstance(axis, int):
        raise TypeError(f"{label}(dim=...) takes one dimension (an int), got {axis!r}")
    keepdims = bound.arguments.get("keepdims", False)
    arg = ops.argmax if label == "max" else ops.argmin
    return MaxResult(fn(*args, **kwargs), arg(x, axis, keepdims))
