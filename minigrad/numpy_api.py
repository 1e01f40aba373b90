"""NumPy's functions on Tensors: ``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.linalg.norm(t)``.

Tensor implements NumPy's ``__array_ufunc__`` and ``__array_function__`` protocols with two
tables derived from the op registry (:mod:`minigrad.ops.registry`): an op's definition
says which NumPy function it implements, and the adapter named by its ``signature``
maps NumPy's parameters onto the op's. A call with an argument minigrad
cannot honour (``out=``, ``dtype=``) falls through to NumPy on
the raw data, which :mod:`minigrad.tensor` allows only when no argument needs a gradient,
or when the result is not floating point (``np.isnan``, ``np.argmax``) and so cannot
carry one. Nothing leaves the graph silently:

- a *list* holding Tensors reaches these protocols only through functions that take a
  sequence of arrays (``np.stack``, ``np.concatenate``, ``np.hstack``…): they record.
  Anything else NumPy does with a list (``np.array([x, 2*x])``, ``np.mean([x, y])``,
  ``np.r_[x, y]``, a ufunc on a list) converts each element with ``Tensor.__array__``,
  which cannot return a Tensor and so refuses a tensor that requires grad (TypeError
  naming ``mg.stack``), as PyTorch refuses ``t.numpy()`` there;
- a call that writes into a Tensor (``out=t``, ``np.copyto(t, …)``, ``np.add.at(t, …)``,
  ``np.put``, ``np.place``, ``np.putmask``) is an in-place change with the rules of
  ``t += 1`` (see :func:`on_data`);
- complex results are refused where a gradient is recorded (:func:`minigrad.op.apply`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from minigrad import ops
from minigrad.ops import registry
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


# --- signature adapters: NumPy's parameters onto an op's (named by the op's `signature`)


def _same(fn: Callable[..., Any]) -> Callable[..., Any]:
    """NumPy's function takes the op's parameters (and ``out=``, honoured only at None)."""

    def call(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        _plain(out=out)
        return fn(*args, **kwargs)

    return call


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


def _variance(fn: Callable[..., Any]) -> Callable[..., Any]:
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


def _arg(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = False) -> Any:
        _plain(out=out)
        return fn(a, axis, _flag(keepdims))

    return call


def _reshape(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, shape: Any = None, order: str = "C", **rest: Any) -> Any:
        _plain(order=None if order == "C" else order, **rest)
        shape = tuple(shape) if isinstance(shape, list | tuple | np.ndarray) else (shape,)
        return a.reshape(shape) if isinstance(a, Tensor) else fn(a, shape)

    return call


def _transpose(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda a, axes=None: fn(a, None if axes is None else tuple(axes))


def _clip(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(
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
        return fn(a, None if lo is NO_VALUE else lo, None if hi is NO_VALUE else hi)

    return call


def _round(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, decimals: int = 0, out: Any = None) -> Any:
        _plain(out=out)
        return fn(a, decimals)

    return call


def _squeeze(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, axis: Any = None) -> Any:
        shape = ops._shape(a)
        for ax in () if axis is None else np.atleast_1d(axis):
            if shape[ax] != 1:
                raise ValueError(f"np.squeeze: axis {ax} of shape {shape} does not have size one")
        return fn(a, axis)

    return call


def _where(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(condition: Any, x: Any = NO_VALUE, y: Any = NO_VALUE) -> Any:
        if x is NO_VALUE and y is NO_VALUE:
            raise Unsupported("where(condition)")  # the indices of nonzero entries
        if x is NO_VALUE or y is NO_VALUE:  # NumPy's own error (not an array of NO_VALUE)
            raise ValueError("np.where: either both or neither of x and y should be given")
        return fn(condition, x, y)

    return call


def _broadcast_to(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda array, shape, subok=False: fn(array, tuple(np.atleast_1d(shape)))


def _join(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(
        arrays: Any, *args: Any, out: Any = None, dtype: Any = None, casting: Any = None, **kw: Any
    ) -> Any:
        _plain(out=out, dtype=dtype)
        return fn(arrays, *args, **kw)  # axis, where the join takes one

    return call


def _dot(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, b: Any, out: Any = None) -> Any:
        _plain(out=out)
        scalar = len(ops._shape(a)) == 0 or len(ops._shape(b)) == 0
        if len(ops._shape(b)) > 2 and not scalar:
            raise Unsupported("a second argument with more than 2 dimensions (use @ or mg.einsum)")
        return fn(a, b)

    return call


def _einsum(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(subscripts: Any, *operands: Any, out: Any = None, **rest: Any) -> Any:
        _plain(out=out, **{k: v for k, v in rest.items() if k != "optimize"})
        return fn(subscripts, *operands)  # a string, or the first operand (sublist form)

    return call


def _ravel(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, order: str = "C") -> Any:
        _plain(order=None if order == "C" else order)
        return fn(a)

    return call


def _trace(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(
        a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
    ) -> Any:
        _plain(dtype=dtype, out=out)
        return fn(a, offset, axis1, axis2)

    return call


def _cumulative(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        _plain(dtype=dtype, out=out)
        return fn(a, axis)

    return call


def _pad(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
        if mode != "constant":  # no rule: NumPy's own pad, when no gradient is lost
            raise Unsupported(f"mode={mode!r} (only mode='constant' has a gradient rule)")
        _plain(**{k: v for k, v in kwargs.items() if k != "constant_values"})
        return fn(array, pad_width, mode, kwargs.get("constant_values", 0))

    return call


def _sort(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **rest: Any) -> Any:
        _plain(order=order)  # any kind (and stable=) sorts to the same values
        return fn(a, axis)

    return call


def _partition(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(a: Any, kth: Any, axis: Any = -1, kind: Any = None, order: Any = None) -> Any:
        _plain(order=order)
        return fn(a, kth, axis)

    return call


def _nan_to_num(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None):
        _plain(copy=None if copy else "copy=False")  # in place: not on a tensor
        return fn(x, nan, posinf, neginf)

    return call


def _linspace(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, device: Any = None, **kwargs: Any) -> Any:
        _plain(device=device)
        return fn(*args, **kwargs)

    return call


SIGNATURES: dict[str | None, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    None: _same,
    "reduction": _reduction,
    "variance": _variance,
    "arg": _arg,
    "reshape": _reshape,
    "transpose": _transpose,
    "clip": _clip,
    "round": _round,
    "squeeze": _squeeze,
    "where": _where,
    "broadcast_to": _broadcast_to,
    "join": _join,
    "dot": _dot,
    "einsum": _einsum,
    "ravel": _ravel,
    "trace": _trace,
    "pad": _pad,
    "cumulative": _cumulative,
    "sort": _sort,
    "partition": _partition,
    "nan_to_num": _nan_to_num,
    "linspace": _linspace,
}
"""How a NumPy function's call maps onto an op's, by the name an op gives as its
``signature`` in the registry (:func:`minigrad.ops.registry.public`)."""


class _Tables:
    """NumPy's dispatch tables, derived from the registry (rebuilt when it grows):
    ``ufuncs`` maps a ufunc to the op, ``functions`` a NumPy function to an adapter."""

    version: ClassVar[int] = -1
    ufuncs: ClassVar[dict[np.ufunc, Callable[..., Any]]] = {}
    functions: ClassVar[dict[Callable[..., Any], Callable[..., Any]]] = {}

    @classmethod
    def current(cls) -> type[_Tables]:
        if cls.version != registry.version[0]:
            ufuncs, functions = {}, {}
            for entry in registry.REGISTRY.values():
                for numpy_function in entry.numpy:
                    if isinstance(numpy_function, np.ufunc):
                        ufuncs[numpy_function] = entry.function
                    else:
                        adapter = SIGNATURES[entry.signature]
                        functions[numpy_function] = adapter(entry.function)
            cls.ufuncs, cls.functions, cls.version = ufuncs, functions, registry.version[0]
        return cls


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


IN_PLACE: dict[Callable[..., Any], tuple[int, str]] = {
    np.copyto: (0, "dst"),
    np.put: (0, "a"),
    np.place: (0, "arr"),
    np.putmask: (0, "a"),
    np.fill_diagonal: (0, "a"),
    np.put_along_axis: (0, "arr"),
}
"""NumPy functions that write into an argument (position, keyword): run on a Tensor's
data, they change it in place, so they follow the in-place rules of ``t += 1``."""


def _out_argument(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """The ``out=`` of a call, given by keyword or (for a NumPy function with a Python
    signature) by position; None when there is none."""
    if "out" in kwargs:
        return kwargs["out"]
    if not any(isinstance(a, Tensor) for a in args[1:]):
        return None  # only a Tensor passed by position could be an out= to look for
    try:
        return inspect.signature(func).bind(*args, **kwargs).arguments.get("out")
    except (TypeError, ValueError):
        return None


def written_tensors(func: Callable[..., Any], args: tuple, kwargs: dict) -> list[Tensor]:
    """The Tensors a NumPy call writes into: its ``out=``, the destination of an
    in-place function (:data:`IN_PLACE`)."""
    out = _out_argument(func, args, kwargs)
    written = [o for o in (out if isinstance(out, tuple) else (out,)) if isinstance(o, Tensor)]
    position, keyword = IN_PLACE.get(func, (None, None))
    if position is not None:
        target = args[position] if len(args) > position else kwargs.get(keyword)
        if isinstance(target, Tensor):
            written.append(target)
    return written


def on_data(
    func: Callable[..., Any],
    name: str,
    args: Any,
    kwargs: Any,
    why: str,
    written: list[Tensor] | None = None,
) -> Any:
    """Run a NumPy call minigrad has no rule for on the raw data; refuse (TypeError) when
    that would drop a gradient: grad mode is on, an argument requires grad, and the
    result is floating point (or written to ``out=``). While ``mg.jit`` traces, it
    always refuses (TraceError): the compiled function could not repeat it.

    A call that writes into a Tensor (``out=t``, ``np.copyto(t, …)``, ``np.add.at(t,
    …)``, ``np.put``, ``np.place``, ``np.putmask``) is an in-place change of ``t``, with
    the rules of ``t += 1``: refused (RuntimeError) while grad mode is on if ``t``
    requires grad, and it bumps ``t``'s version counter, so a backward that saved the
    old value refuses instead of computing with the new one. NumPy returns ``out``
    itself: so does this, as the Tensor."""
    if is_tracing() and func not in METADATA:
        raise read_error(f"{name} ({why})")
    if written is None:
        written = written_tensors(func, args, kwargs)
    needs = is_grad_enabled() and (_needs_grad(args) or _needs_grad(kwargs))
    for t in written:
        t._check_inplace(name, None)
    # an out= array of integers or bools (np.argmax(t, out=o)) cannot carry a gradient
    writes = written or _floating(kwargs.get("out")) or func in IN_PLACE
    if needs and (writes or getattr(func, "__name__", "") == "at"):  # values into an array
        raise _dropped(name, why)
    result = func(*to_data(args), **to_data(kwargs))
    if needs and _floating(result):
        raise _dropped(name, why)
    if written:
        for t in written:
            t._bump_version()
        return _as_written(result, written)
    return result


def _as_written(result: Any, written: list[Tensor]) -> Any:
    """``result`` with each array that is a written Tensor's data given as that Tensor."""
    if isinstance(result, tuple):
        return tuple(_as_written(r, written) for r in result)
    for t in written:
        if result is t.data:
            return t
    return result


def _dropped(name: str, why: str) -> TypeError:
    return TypeError(
        f"{name} on a tensor that requires grad would silently drop its gradient ({why}). "
        "Write it with minigrad ops (see minigrad.ops), or call it on x.detach() (or "
        "under mg.no_grad()) if no gradient should flow through it."
    )


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """Tensor.__array_ufunc__: our op for the plain call of a known ufunc, else NumPy."""
    fn = _Tables.current().ufuncs.get(ufunc)
    if method == "__call__" and fn is not None and not kwargs:
        return fn(*inputs)
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    why = "minigrad has no rule for it" if fn is None else "with these arguments"
    out = kwargs.get("out", ())  # NumPy hands a ufunc's out= over as a tuple
    written = [o for o in (out if isinstance(out, tuple) else (out,)) if isinstance(o, Tensor)]
    if method == "at" and isinstance(inputs[0], Tensor):  # np.add.at(t, index, value)
        written.append(inputs[0])
    return on_data(getattr(ufunc, method), name, inputs, kwargs, why, written)


def array_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Tensor.__array_function__: our version of a known function, else NumPy."""
    name = f"np.{getattr(func, '__qualname__', func.__name__)}"
    if "linalg" in getattr(func, "__module__", ""):
        name = f"np.linalg.{func.__name__}"
    fn = _Tables.current().functions.get(func)
    if fn is None:
        return on_data(func, name, args, kwargs, "minigrad has no rule for it")
    try:
        return fn(*args, **kwargs)
    except Unsupported as what:
        return on_data(func, name, args, kwargs, f"minigrad has no rule for {what}")


from minigrad.grad_mode import is_grad_enabled  # noqa: E402
from minigrad.op import is_tracing  # noqa: E402
from minigrad.tracing import METADATA, read_error  # noqa: E402
