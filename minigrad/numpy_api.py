"""NumPy's functions on Tensors: ``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.linalg.norm(t)``.

Tensor implements NumPy's ``__array_ufunc__`` and ``__array_function__`` protocols with the
two tables here, each entry taking NumPy's own signature. A call with an argument minigrad
cannot honour (``out=``, ``dtype=``, an ``ord`` without a rule) falls through to NumPy on
the raw data, which :mod:`minigrad.tensor` allows only when no argument needs a gradient,
or when the result is not floating point (``np.isnan``, ``np.argmax``) and so cannot
carry one. Nothing leaves the graph silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.tensor import Tensor


class Unsupported(Exception):
    """An argument has no minigrad equivalent: let NumPy run the call on the data."""


NO_VALUE: Any = np._NoValue  # what NumPy's signatures use for "not given"


def _plain(**options: Any) -> None:
    """Raise Unsupported unless every NumPy-only option was left at its default."""
    for name, value in options.items():
        if value is not None and value is not NO_VALUE:
            raise Unsupported(name)


def _flag(value: Any) -> bool:
    return False if value is NO_VALUE else bool(value)


def _reduction(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        keepdims: Any = False,
        **rest: Any,
    ) -> Any:
        _plain(dtype=dtype, out=out, **rest)
        return fn(a, axis, _flag(keepdims))

    return call


def _np_reshape(a: Any, shape: Any = None, order: str = "C", **rest: Any) -> Any:
    _plain(order=None if order == "C" else order, **rest)
    shape = tuple(shape) if isinstance(shape, list | tuple | np.ndarray) else (shape,)
    return a.reshape(shape) if isinstance(a, Tensor) else ops.reshape(a, shape)


def _np_clip(
    a: Any,
    a_min: Any = NO_VALUE,
    a_max: Any = NO_VALUE,
    out: Any = None,
    *,
    min: Any = NO_VALUE,
    max: Any = NO_VALUE,
    **rest: Any,
) -> Any:
    _plain(out=out, **rest)
    lo = a_min if min is NO_VALUE else min
    hi = a_max if max is NO_VALUE else max
    return ops.clip(a, None if lo is NO_VALUE else lo, None if hi is NO_VALUE else hi)


def _np_expand_dims(a: Any, axis: Any) -> Any:
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    ndim = len(ops._shape(a)) + len(axes)
    for ax in sorted(ax % ndim for ax in axes):  # NumPy places each in the result's axes
        a = ops.expand_dims(a, ax)
    return a


def _np_squeeze(a: Any, axis: Any = None) -> Any:
    shape = ops._shape(a)
    for ax in () if axis is None else np.atleast_1d(axis):
        if shape[ax] != 1:
            raise ValueError(f"np.squeeze: axis {ax} of shape {shape} does not have size one")
    return ops.squeeze(a, axis)


def _np_where(condition: Any, x: Any = NO_VALUE, y: Any = NO_VALUE) -> Any:
    if x is NO_VALUE and y is NO_VALUE:
        raise Unsupported("where(condition)")  # the indices of nonzero entries
    if x is NO_VALUE or y is NO_VALUE:  # NumPy's own error (not an array of NO_VALUE)
        raise ValueError("np.where: either both or neither of x and y should be given")
    return ops.where(condition, x, y)


def _np_dot(a: Any, b: Any, out: Any = None) -> Any:
    _plain(out=out)
    if len(ops._shape(a)) == 0 or len(ops._shape(b)) == 0:
        return ops.mul(a, b)
    if len(ops._shape(b)) > 2:
        raise Unsupported("a second argument with more than 2 dimensions (use @ or mg.einsum)")
    return ops.matmul(a, b)


def _np_outer(a: Any, b: Any, out: Any = None) -> Any:
    _plain(out=out)
    return ops.reshape(a, (-1, 1)) * ops.reshape(b, (1, -1))


def _np_norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    vector = len(ops._shape(x)) == 1 or isinstance(axis, int | np.integer)
    if ord in (None, "fro") or (ord == 2 and vector):
        return ops.norm(x, axis, keepdims)
    if vector and ord == 1:
        return ops.sum(ops.abs(x), axis, keepdims)
    if vector and ord == np.inf:
        return ops.max(ops.abs(x), axis, keepdims)
    raise Unsupported(f"ord={ord!r}")


def _stacker(ndmin: int, axis_of: Callable[[list[Any]], int]) -> Callable[..., Any]:
    def call(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
        _plain(dtype=dtype)
        xs = [x if isinstance(x, Tensor) else np.asarray(x) for x in tup]
        xs = [
            ops.reshape(x, (1,) * (ndmin - x.ndim) + x.shape) if x.ndim < ndmin else x for x in xs
        ]
        return ops.concatenate(xs, axis=axis_of(xs))

    return call


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None, **rest: Any) -> Any:
    _plain(out=out, **{k: v for k, v in rest.items() if k != "casting"})
    return ops.concatenate(arrays, axis)


def _np_stack(arrays: Any, axis: int = 0, out: Any = None, **rest: Any) -> Any:
    _plain(out=out, **{k: v for k, v in rest.items() if k != "casting"})
    return ops.stack(arrays, axis)


def _np_var(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        ddof: int = 0,
        keepdims: Any = False,
        **rest: Any,
    ) -> Any:
        _plain(dtype=dtype, out=out, **rest)
        return fn(a, axis, ddof, _flag(keepdims))

    return call


def _np_einsum(subscripts: Any, *operands: Any, out: Any = None, **rest: Any) -> Any:
    _plain(out=out, **{k: v for k, v in rest.items() if k != "optimize"})
    if not isinstance(subscripts, str):
        raise Unsupported("einsum in sublist form")
    return ops.einsum(subscripts, *operands)


def _np_arg(fn: Callable[..., Any], a: Any, axis: Any, out: Any, keepdims: Any) -> Any:
    _plain(out=out)
    return fn(a, axis, _flag(keepdims))


UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: ops.add,
    np.subtract: ops.sub,
    np.multiply: ops.mul,
    np.true_divide: ops.div,
    np.negative: ops.neg,
    np.positive: lambda x: x,
    np.power: ops.pow,
    np.square: lambda x: ops.mul(x, x),
    np.matmul: ops.matmul,
    np.exp: ops.exp,
    np.log: ops.log,
    np.log1p: ops.log1p,
    np.sqrt: ops.sqrt,
    np.absolute: ops.abs,
    np.sin: ops.sin,
    np.cos: ops.cos,
    np.tanh: ops.tanh,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.sign: ops.sign,
    np.isnan: ops.isnan,
    np.isfinite: ops.isfinite,
    np.logical_and: ops.logical_and,
    np.logical_or: ops.logical_or,
    np.logical_not: ops.logical_not,
    **ops.COMPARISONS,
}
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _reduction(ops.sum),
    np.mean: _reduction(ops.mean),
    np.max: _reduction(ops.max),
    np.amax: _reduction(ops.max),
    np.min: _reduction(ops.min),
    np.amin: _reduction(ops.min),
    np.prod: _reduction(ops.prod),
    np.var: _np_var(ops.var),
    np.std: _np_var(ops.std),
    np.reshape: _np_reshape,
    np.transpose: lambda a, axes=None: ops.transpose(a, None if axes is None else tuple(axes)),
    np.swapaxes: ops.swapaxes,
    np.expand_dims: _np_expand_dims,
    np.squeeze: _np_squeeze,
    np.where: _np_where,
    np.clip: _np_clip,
    np.broadcast_to: lambda array, shape, subok=False: ops.broadcast_to(
        array, tuple(np.atleast_1d(shape))
    ),
    np.concatenate: _np_concatenate,
    np.stack: _np_stack,
    np.hstack: _stacker(1, lambda xs: 0 if all(x.ndim == 1 for x in xs) else 1),
    np.vstack: _stacker(2, lambda xs: 0),
    np.dot: _np_dot,
    np.outer: _np_outer,
    np.einsum: _np_einsum,
    np.argmax: lambda a, axis=None, out=None, *, keepdims=False: _np_arg(
        ops.argmax, a, axis, out, keepdims
    ),
    np.argmin: lambda a, axis=None, out=None, *, keepdims=False: _np_arg(
        ops.argmin, a, axis, out, keepdims
    ),
    np.linalg.norm: _np_norm,
}


def to_data(obj: Any) -> Any:
    """Replace Tensors by their data inside (nested) argument lists, tuples and dicts."""
    if isinstance(obj, Tensor):
        return obj.data
    if isinstance(obj, list | tuple):
        return type(obj)(to_data(x) for x in obj)
    if isinstance(obj, dict):
        return {k: to_data(v) for k, v in obj.items()}
    return obj


def _needs_grad(obj: Any) -> bool:
    """Whether a Tensor that requires grad hides in (nested) arguments."""
    if isinstance(obj, Tensor):
        return obj.requires_grad
    if isinstance(obj, list | tuple):
        return any(_needs_grad(x) for x in obj)
    if isinstance(obj, dict):
        return any(_needs_grad(x) for x in obj.values())
    return False


def _floating(result: Any) -> bool:
    """Whether a result could carry a gradient: a float (or complex) array or scalar."""
    if isinstance(result, list | tuple):
        return any(_floating(r) for r in result)
    return (
        isinstance(result, np.ndarray | np.generic | float)
        and np.asarray(result).dtype.kind in "fc"
    )


def on_data(func: Callable[..., Any], name: str, args: Any, kwargs: Any, why: str) -> Any:
    """Run a NumPy call minigrad has no rule for on the raw data; refuse (TypeError) when
    that would drop a gradient: grad mode is on, an argument requires grad, and the
    result is floating point (or written to ``out=``). While ``mg.jit`` traces, it
    always refuses (TraceError): the compiled function could not repeat it."""
    if is_tracing() and func not in METADATA:
        raise read_error(f"{name} ({why})")
    needs = is_grad_enabled() and (_needs_grad(args) or _needs_grad(kwargs))
    if needs and kwargs.get("out") is not None:
        raise _dropped(name, why)
    result = func(*to_data(args), **to_data(kwargs))
    if needs and _floating(result):
        raise _dropped(name, why)
    return result


def _dropped(name: str, why: str) -> TypeError:
    return TypeError(
        f"{name} on a tensor that requires grad would silently drop its gradient ({why}). "
        "Write it with minigrad ops (see minigrad.ops), or call it on x.detach() (or "
        "under mg.no_grad()) if no gradient should flow through it."
    )


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """Tensor.__array_ufunc__: our op for the plain call of a known ufunc, else NumPy."""
    fn = UFUNCS.get(ufunc)
    if method == "__call__" and fn is not None and not kwargs:
        return fn(*inputs)
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    why = "minigrad has no rule for it" if fn is None else "with these arguments"
    return on_data(getattr(ufunc, method), name, inputs, kwargs, why)


def array_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Tensor.__array_function__: our version of a known function, else NumPy."""
    name = f"np.{getattr(func, '__qualname__', func.__name__)}"
    if "linalg" in getattr(func, "__module__", ""):
        name = f"np.linalg.{func.__name__}"
    fn = FUNCTIONS.get(func)
    if fn is None:
        return on_data(func, name, args, kwargs, "minigrad has no rule for it")
    try:
        return fn(*args, **kwargs)
    except Unsupported as what:
        return on_data(func, name, args, kwargs, f"minigrad has no rule for {what}")


from minigrad.autograd import is_grad_enabled, is_tracing  # noqa: E402
from minigrad.tracing import METADATA, read_error  # noqa: E402
