"""How the graph views put tensors and ops into words: numbers, arrays, shapes, and each
op's inputs by the names its forward gives them."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from minigrad.op import EveryInput, Op
from minigrad.tensor import Tensor

Params = Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]


def _num(x: Any) -> str:
    """One number, compactly: 4 significant digits, ints and bools as they are."""
    if isinstance(x, bool | np.bool_):
        return str(bool(x))
    if isinstance(x, int | np.integer):
        return str(int(x))
    try:
        s = f"{float(x):.4g}"
    except (TypeError, ValueError):
        return str(x)
    return "0" if s == "-0" else s


def _nested(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v) for v in x) + "]"
    return _num(x)


def _fmt_array(a: Any, max_elements: int = 6) -> str:
    """Small arrays in full (``[1, 2.5]``), large ones as shape, min, max and mean."""
    a = np.asarray(a.data if isinstance(a, Tensor) else a)  # shown: the values
    if a.size == 0:
        return f"[] shape {a.shape}"
    if a.size <= max_elements:
        return _nested(a.tolist()) if a.ndim else _num(a.item())
    with np.errstate(all="ignore"):
        lo, hi, mean = a.min().item(), a.max().item(), a.mean().item()
    return f"shape {a.shape} min {_num(lo)} max {_num(hi)} mean {_num(mean)}"


def _fmt_const(x: Any, max_elements: int = 6) -> str:
    """A non-Tensor input of an op (a number, an array, an axis, a shape, an index...)."""
    if isinstance(x, np.ndarray | np.generic):
        return _fmt_array(x, max_elements)
    if isinstance(x, bool | int | float):
        return _num(x)
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _fmt_shape(t: Tensor) -> str:
    dtype = "" if t.dtype == np.float64 else f" {t.dtype}"
    return f"{t.shape}{dtype}"


def _grad_array(t: Tensor) -> np.ndarray | None:
    g = t.grad
    if g is None:
        return None
    return np.asarray(g.data if isinstance(g, Tensor) else g)


def _names_by_id(params: Params | None) -> dict[int, str]:
    """id(tensor) -> name; the first name wins when a tensor is listed twice."""
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"params[{name!r}] is a {type(t).__name__}, not a Tensor")
        names.setdefault(id(t), str(name))
    return names


def _rule(op: Op, i: int) -> Any:
    """The gradient rule of input ``i`` (None when the input is not differentiable)."""
    try:
        return op.vjps[i]
    except (IndexError, KeyError, TypeError):
        return None


def _signature(fn: Any, skip: int, n: int) -> tuple[tuple[str, ...], int] | None:
    """The names of ``fn``'s positional parameters after the first ``skip``, expanding
    ``*xs`` to ``xs[0], xs[1], ...`` so that there are ``n``, and how many came before
    ``*xs``; None if that fails."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    # a parameter with a default is a value the op saved for its rules, not an input
    fixed = [p.name for p in params if p.kind in positional and p.default is p.empty]
    var = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    if len(fixed) < skip:
        return None
    names = fixed[skip:]
    n_fixed = len(names)
    if var is not None and len(names) <= n:
        names += [f"{var}[{k}]" for k in range(n - len(names))]
    return (tuple(names), n_fixed) if len(names) == n else None


_OP_INPUTS: dict[tuple[Op, int], tuple[tuple[str, ...], tuple[bool, ...]]] = {}


def _op_inputs(op: Op, n: int) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """For an op applied to ``n`` inputs: their names, read from its gradient rules
    ``(g, out, a, b)`` or its forward (else ``arg0, arg1, ...``), and which of them are
    settings rather than data: inputs without a gradient rule (an axis, a shape, an
    index), and a variadic op's arguments before ``*xs``."""
    key = (op, n)
    if key in _OP_INPUTS:
        return _OP_INPUTS[key]
    names = None
    for i in range(n):
        rule = _rule(op, i)
        if rule is not None and (sig := _signature(rule, 2, n)):
            names = sig[0]
            break
    forward = _signature(op.forward, 0, n)
    if names is None:
        names = forward[0] if forward else tuple(f"arg{i}" for i in range(n))
    n_settings = forward[1] if isinstance(op.vjps, EveryInput) and forward else 0
    settings = tuple(i < n_settings or _rule(op, i) is None for i in range(n))
    _OP_INPUTS[key] = (names, settings)
    return names, settings
