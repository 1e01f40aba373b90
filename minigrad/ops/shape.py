"""Shape ops: reshape, transpose, broadcast and sum back; views where NumPy makes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.op import Op, ShapeError
from minigrad.ops.base import Axis, _normalize_axis, _shape
from minigrad.ops.registry import public

# --- shape ------------------------------------------------------------------------------

reshape = Op(
    "reshape",
    np.reshape,
    (lambda g, out, x, shape: reshape(g, x.shape), None),
    ("the gradient is reshaped back",),
    saves=((), ()),
    view=True,
    source=lambda r, x, shape: f"{r.operand(x)}.reshape({r(tuple(shape))})",
)
public(reshape, numpy=np.reshape, signature="reshape")


def _inverse_axes(axes: Any, ndim: int) -> Any:
    return None if axes is None else tuple(np.argsort([a % ndim for a in axes]))


def _transpose_source(r: Any, x: Any, axes: Any = None) -> str:
    reverse = axes is None or tuple(axes) == tuple(range(len(axes)))[::-1]
    return f"{r.operand(x)}.T" if reverse else f"{r.operand(x)}.transpose({r(tuple(axes))})"


transpose = Op(
    "transpose",
    np.transpose,
    # axes may be left out, as np.transpose(x) leaves it: all axes reversed
    (lambda g, out, x, axes=None: transpose(g, _inverse_axes(axes, x.ndim)), None),
    ("the gradient is transposed back",),
    saves=((), ()),
    view=True,
    source=_transpose_source,
)
public(transpose, numpy=np.transpose, signature="transpose")


@public(numpy=np.swapaxes)
def swapaxes(x: Any, axis1: int = -1, axis2: int = -2) -> Any:
    """Exchange two axes (by default the last two, a batched matrix transpose); a view."""
    ndim = len(_shape(x))
    ((axis1,), (axis2,)) = (_axes_in_order("swapaxes", a, ndim) for a in (axis1, axis2))
    axes = list(range(ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def _axes_in_order(name: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (an int or a sequence) as non-negative axes of ``ndim``, order kept."""
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"{name}: an axis must be an integer, got {a!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{name}: axis {a} is out of range for {ndim} dimension(s)")
    normalized = tuple(int(a) % ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name}: axis {axis!r} names the same axis more than once")
    return normalized


@public(numpy=np.moveaxis)
def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    """Move axes ``source`` to positions ``destination``, the others keeping their order
    (NumPy's rule); a transpose, so a view."""
    ndim = len(_shape(x))
    src = _axes_in_order("moveaxis", source, ndim)
    dst = _axes_in_order("moveaxis", destination, ndim)
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: source {source!r} and destination {destination!r} must name as many axes"
        )
    order = [a for a in range(ndim) if a not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(x, tuple(order))


@public(numpy=np.expand_dims)
def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Any:
    """Insert size-1 axes at ``axis`` (an int or a tuple, positions in the result, as in
    NumPy); PyTorch's ``unsqueeze``. A reshape, so a view."""
    shape = _shape(x)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    ndim = len(shape) + len(axes)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"expand_dims: axis {a} is out of range for shape {tuple(shape)}")
    new = {int(a) % ndim for a in axes}
    if len(new) != len(axes):
        raise ValueError(f"expand_dims: axis {axis!r} names the same axis more than once")
    sizes = iter(shape)
    return reshape(x, tuple(1 if i in new else next(sizes) for i in range(ndim)))


unsqueeze = public(expand_dims, name="unsqueeze")


@public(numpy=np.squeeze, signature="squeeze")
def squeeze(x: Any, axis: Axis = None) -> Any:
    """Drop size-1 axes (all of them, or those in ``axis``; others are left, as in PyTorch)."""
    shape = _shape(x)
    axes = range(len(shape)) if axis is None else _normalize_axis(axis, len(shape))
    drop = {a for a in axes if a < len(shape) and shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in drop))


@public
def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """Merge axes ``start_dim`` … ``end_dim`` into one (PyTorch's ``flatten``); a 0-d
    tensor counts as one axis of length 1."""
    shape = _shape(x) or (1,)
    ends = []
    for name, axis in (("start_dim", start_dim), ("end_dim", end_dim)):
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"flatten: {name} must be an integer, got {axis!r}")
        if not -len(shape) <= axis < len(shape):
            raise ShapeError(
                f"flatten: {name}={axis} is out of range for an input with {len(shape)} "
                f"dimension(s) (expected {-len(shape)} … {len(shape) - 1})"
            )
        ends.append(int(axis) % len(shape))
    start, end = ends
    if start > end:
        raise ShapeError(
            f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for an input of "
            f"shape {_shape(x)}"
        )
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(x, (*shape[:start], merged, *shape[end + 1 :]))


@public(numpy=np.ravel, signature="ravel")
def ravel(x: Any) -> Any:
    """The elements as one axis, in C order: a view where NumPy's ravel is one."""
    return reshape(x, (-1,))


def _at_least(name: str, ndim: int, place: Any) -> Any:
    def at_least(*arys: Any) -> Any:
        out = []
        for x in arys:
            shape = _shape(x)
            out.append(x if len(shape) >= ndim else reshape(x, place(shape)))
        return out[0] if len(out) == 1 else tuple(out)

    at_least.__name__ = at_least.__qualname__ = name
    at_least.__doc__ = (
        f"NumPy's {name}: each input with at least {ndim} axes (size-1 axes added as NumPy "
        "adds them; a reshape, so a view); one input gives one result, several a tuple."
    )
    return at_least


atleast_1d = public(_at_least("atleast_1d", 1, lambda s: (1,)), numpy=np.atleast_1d)
atleast_2d = public(
    _at_least("atleast_2d", 2, lambda s: (1,) * (2 - len(s)) + s), numpy=np.atleast_2d
)
atleast_3d = public(
    _at_least("atleast_3d", 3, lambda s: {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}[len(s)]),
    numpy=np.atleast_3d,
)


def sum_to_shape(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` over the axes broadcasting added or stretched, giving ``shape``.

    Written with methods that ndarrays and Tensors share, so the engine can call it
    directly on arrays (the common case) without going through an op.
    """
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    return x.reshape(shape)


def _broadcast_view(x: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to``'s read-only view, built directly with zero strides.

    NumPy's own function spends ~4 µs of Python per call, more than the arithmetic of a
    small backward pass; every reduction's gradient goes through here.
    """
    if type(x) is not np.ndarray:
        x = np.asarray(x)
    lead = len(shape) - x.ndim
    if lead < 0 or not x.flags.c_contiguous:
        return np.broadcast_to(x, shape)  # NumPy validates and explains
    strides = [0] * lead
    for n, m, stride in zip(x.shape, shape[lead:], x.strides, strict=True):
        if n != m and n != 1:
            return np.broadcast_to(x, shape)
        strides.append(stride if n == m else 0)
    view = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    view.setflags(write=False)
    return view


broadcast_to = Op(
    "broadcast_to",
    _broadcast_view,
    (lambda g, out, x, shape: sum_to(g, x.shape), None),
    ("the gradient is summed over the broadcast axes",),
    saves=((), ()),
    view=True,
    source="np.broadcast_to({0}, {1})",
)
public(broadcast_to, numpy=np.broadcast_to, signature="broadcast_to")


def _sum_to_source(r: Any, x: Any, shape: Any) -> str:
    """sum_to as the sum it is, its axes worked out from the known shapes."""
    shape = tuple(shape)
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    if shape == ():
        return f"{r.operand(x)}.sum()"
    if tuple(n for i, n in enumerate(x.shape) if i not in axes) == shape:
        return f"{r.operand(x)}.sum(axis={axes if len(axes) > 1 else axes[0]!r})"
    summed = f"{r.operand(x)}.sum(axis={axes!r}, keepdims=True)" if axes else r(x)
    return f"{summed}.reshape({shape!r})"


sum_to = Op(
    "sum_to",
    sum_to_shape,
    (lambda g, out, x, shape: broadcast_to(g, x.shape), None),
    ("the gradient is broadcast back",),
    saves=((), ()),
    view=lambda x, shape: tuple(x.shape) == tuple(shape),  # nothing summed: a reshape,
    source=_sum_to_source,
)


# --- diagonals and triangles ------------------------------------------------------------


def _diagonal_scatter_forward(
    d: np.ndarray, shape: tuple[int, ...], offset: int, axis1: int, axis2: int
) -> np.ndarray:
    """Zeros of ``shape`` with ``d`` written on the ``offset`` diagonal of axes
    (axis1, axis2): the array whose ``np.diagonal`` is ``d`` (d's last axis runs along
    the diagonal, as np.diagonal returns it)."""
    out = np.zeros(shape, dtype=d.dtype)
    square = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes reach out
    i = np.arange(d.shape[-1])
    square[..., i + max(-offset, 0), i + max(offset, 0)] = d
    return out


_diagonal = Op(
    "diagonal",
    np.diagonal,
    (
        lambda g, out, x, offset, axis1, axis2: _diagonal_scatter(g, x.shape, offset, axis1, axis2),
        None,
        None,
        None,
    ),
    ("1 on the diagonal: the gradient is written back onto it, 0 elsewhere",),
    saves=((), (), (), ()),
    view=True,  # NumPy's diagonal is a (read-only) view
)
_diagonal_scatter = Op(
    "diagonal_scatter",
    _diagonal_scatter_forward,
    (
        lambda g, out, d, shape, offset, axis1, axis2: _diagonal(g, offset, axis1, axis2),
        None,
        None,
        None,
        None,
    ),
    ("the gradient's diagonal",),
    saves=((), (), (), (), ()),
)


def _int(name: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}")
    return int(value)


@public(numpy=np.diagonal)
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The ``offset`` diagonal of axes (axis1, axis2), as a last axis (a view, as in
    NumPy); its gradient puts g back on that diagonal, zeros elsewhere."""
    ndim = len(_shape(x))
    if ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 dimensions, got shape {_shape(x)}")
    axis1, axis2 = _axes_in_order("diagonal", (axis1, axis2), ndim)
    return _diagonal(x, _int("diagonal", "offset", offset), axis1, axis2)


@public(numpy=np.diag)
def diag(v: Any, k: int = 0) -> Any:
    """NumPy's diag: a vector → the square matrix with it on diagonal ``k``; a matrix →
    its diagonal ``k``. The two are each other's gradient."""
    shape, k = _shape(v), _int("diag", "k", k)
    if len(shape) == 1:
        n = shape[0] + abs(k)
        return _diagonal_scatter(v, (n, n), k, 0, 1)
    if len(shape) == 2:
        return _diagonal(v, k, 0, 1)
    raise ShapeError(f"diag: input must be 1-d or 2-d, got shape {shape}")


_tril = Op(
    "tril",
    np.tril,
    (lambda g, out, x, k: _tril(g, k), None),
    ("1 on and below diagonal k, 0 above: the gradient is masked the same way",),
    saves=((), ()),
)
_triu = Op(
    "triu",
    np.triu,
    (lambda g, out, x, k: _triu(g, k), None),
    ("1 on and above diagonal k, 0 below: the gradient is masked the same way",),
    saves=((), ()),
)


@public(numpy=np.tril)
def tril(m: Any, k: int = 0) -> Any:
    """The lower triangle (on and below diagonal ``k``) of the last two axes, zeros above
    (a 1-d input is first broadcast to a square, as in NumPy)."""
    if len(_shape(m)) == 0:
        raise ShapeError("tril: needs at least 1 dimension, got a 0-d input")
    return _tril(m, _int("tril", "k", k))


@public(numpy=np.triu)
def triu(m: Any, k: int = 0) -> Any:
    """The upper triangle (on and above diagonal ``k``) of the last two axes, zeros below
    (a 1-d input is first broadcast to a square, as in NumPy)."""
    if len(_shape(m)) == 0:
        raise ShapeError("triu: needs at least 1 dimension, got a 0-d input")
    return _triu(m, _int("triu", "k", k))
