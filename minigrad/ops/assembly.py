"""Assembly: NumPy's functions that copy, cut up and join arrays (repeat, tile, pad,
split, append, the stacks) and the products that build bigger arrays from smaller ones
(tensordot, inner, kron, cross), plus trace.

Each is either an op whose rules are written with ops (so gradients of gradients work),
or a composite of ops, whose gradient is then theirs.
"""

from __future__ import annotations

import builtins
import itertools
from typing import Any

import numpy as np

from minigrad.op import Op, ShapeError
from minigrad.ops.base import _shape
from minigrad.ops.indexing import _getitem, concatenate, scatter_add, sequence_operand, stack
from minigrad.ops.reductions import sum
from minigrad.ops.registry import public
from minigrad.ops.shape import (
    _axes_in_order,
    _int,
    atleast_3d,
    diagonal,
    moveaxis,
    ravel,
    reshape,
    transpose,
)
from minigrad.tensor import Tensor


def _operand(x: Any) -> Any:
    """A Tensor as it is; a list (maybe holding Tensors) or a number as an array."""
    if isinstance(x, Tensor | np.ndarray):
        return x
    return sequence_operand(x) if isinstance(x, list | tuple) else np.asarray(x)


# --- repeat and tile: copies, whose gradient sums the copies back ----------------------


def _repeat_grad(g: Any, out: Any, x: Any, repeats: Any, axis: int) -> Any:
    n = x.shape[axis]
    if isinstance(repeats, int):  # copies side by side: sum them along a new axis
        return g.reshape((*x.shape[:axis], n, repeats, *x.shape[axis + 1 :])).sum(axis=axis + 1)
    index = (slice(None),) * axis + (np.repeat(np.arange(n), repeats),)
    return scatter_add(g, index, x.shape)  # each element's copies, added up


_repeat = Op(
    "repeat",
    np.repeat,
    (_repeat_grad, None, None),
    ("each element gets the sum of the gradients of its copies",),
    saves=((), (), ()),
)


@public(numpy=np.repeat)
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """Each element ``repeats`` times along ``axis`` (an int, or one count per element;
    ``axis=None`` repeats the flattened elements)."""
    if axis is None:
        a, axis = ravel(a), 0
    (axis,) = _axes_in_order("repeat", axis, len(_shape(a)))
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
    if (counts < 0).any():
        raise ValueError(f"repeat: repeats may not be negative, got {repeats!r}")
    n = _shape(a)[axis]
    if counts.size == 1:
        counts = int(counts.reshape(-1)[0])
    elif counts.shape != (n,):
        raise ShapeError(
            f"repeat: {counts.size} repeat counts for an axis of length {n} (shape {_shape(a)})"
        )
    else:
        counts = tuple(int(c) for c in counts)
    return _repeat(a, counts, axis)


def _interleave(first: tuple[int, ...], second: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for pair in zip(first, second, strict=True) for n in pair)


def _tile_grad(g: Any, out: Any, x: Any, reps: tuple[int, ...]) -> Any:
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    copies = g.reshape(_interleave(reps, shape))  # axis 2i counts the copies of axis i
    return copies.sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(x.shape)


_tile = Op(
    "tile",
    np.tile,
    (_tile_grad, None),
    ("each element gets the sum of the gradients of its copies",),
    saves=((), ()),
)


@public(numpy=np.tile)
def tile(A: Any, reps: Any) -> Any:
    """``A`` repeated ``reps`` times along each axis (NumPy's rule: the shorter of shape
    and reps is padded with leading 1s)."""
    reps = (reps,) if isinstance(reps, int | np.integer) else tuple(reps)
    reps = tuple(_int("tile", "reps", r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps may not be negative, got {reps}")
    ndim = builtins.max(len(reps), len(_shape(A)))
    return _tile(A, (1,) * (ndim - len(reps)) + reps)


# --- pad: the gradient is the middle of the upstream gradient ---------------------------


def _pad_grad(g: Any, out: Any, x: Any, width: Any, value: Any) -> Any:
    return g[
        tuple(slice(before, before + n) for (before, _), n in zip(width, x.shape, strict=True))
    ]


_pad = Op(
    "pad",
    lambda x, width, value: np.pad(x, width, constant_values=value),
    (_pad_grad, None, None),
    ("1 on the original elements, 0 on the padding: the gradient's middle",),
    saves=((), (), ()),
    source=lambda r, x, width, value: f"np.pad({r(x)}, {r(width)}, constant_values={r(value)})",
)


def _per_axis(name: str, value: Any, ndim: int, integers: bool) -> tuple:
    """NumPy's forms of a pad argument (n, (n,), (before, after), one pair per axis) as
    one (before, after) pair per axis."""
    try:
        pairs = np.broadcast_to(np.asarray(value), (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: {name}={value!r} fits neither one number, one (before, after) pair, nor "
            f"one pair for each of the {ndim} axes"
        ) from None
    if integers and (pairs.dtype.kind not in "iu" or (pairs < 0).any()):
        raise ValueError(f"pad: {name} must be non-negative integers, got {value!r}")
    return tuple(tuple(p) for p in pairs.tolist())


@public(numpy=np.pad, signature="pad")
def pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Any:
    """Pad with constants (``constant_values``: one number, a (before, after) pair, or a
    pair per axis; a constant gets no gradient). Only ``mode="constant"``: the other
    modes copy values from inside the array and have no rule here."""
    if mode != "constant":
        raise NotImplementedError(
            f"pad: mode={mode!r} has no gradient rule in minigrad; only mode='constant' "
            "(use concatenate and slicing to build other paddings)"
        )
    if isinstance(constant_values, Tensor):
        raise TypeError("pad: constant_values must be numbers, not a Tensor (no gradient)")
    ndim = len(_shape(array))
    width = _per_axis("pad_width", pad_width, ndim, integers=True)
    if ndim == 0:  # no axis to pad: NumPy returns a copy (x·1 keeps −0.0, unlike x + 0)
        return _operand(array) * 1
    return _pad(array, width, _per_axis("constant_values", constant_values, ndim, False))


# --- split: pieces are slices (views), each with its own gradient -----------------------


def _split(name: str, x: Any, sections: Any, axis: int, equal: bool) -> list[Any]:
    shape = _shape(x)
    (axis,) = _axes_in_order(name, axis, len(shape))
    n = shape[axis]
    if isinstance(sections, int | np.integer) and not isinstance(sections, bool):
        if sections <= 0:
            raise ValueError(f"{name}: the number of sections must be positive, got {sections}")
        if equal and n % sections:
            raise ValueError(
                f"{name}: an axis of length {n} does not split into {sections} equal "
                "sections (np.array_split allows unequal ones)"
            )
        each, extra = divmod(n, int(sections))
        sizes = [each + 1] * extra + [each] * (int(sections) - extra)
        points = [0, *np.cumsum(sizes).tolist()]
    else:
        points = [0, *(_int(name, "a split index", i) for i in sections), n]
    before = (slice(None),) * axis
    return [_getitem(x, (*before, slice(a, b))) for a, b in itertools.pairwise(points)]


@public(numpy=np.split)
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Cut ``ary`` along ``axis`` into equal sections (an int) or at the given indices;
    a list of views, each differentiable."""
    return _split("split", ary, indices_or_sections, axis, equal=True)


@public(numpy=np.array_split)
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """split, allowing unequal sections: the first ``n % sections`` get one extra."""
    return _split("array_split", ary, indices_or_sections, axis, equal=False)


def _splitter(name: str, min_ndim: int, axis_of: Any) -> Any:
    def cut(ary: Any, indices_or_sections: Any) -> list[Any]:
        ndim = len(_shape(ary))
        if ndim < min_ndim:
            raise ShapeError(
                f"{name}: needs at least {min_ndim} dimension(s), got shape {_shape(ary)}"
            )
        return _split(name, ary, indices_or_sections, axis_of(ndim), equal=True)

    cut.__name__ = cut.__qualname__ = name
    cut.__doc__ = f"NumPy's {name}: split along axis {axis_of(3)}" + (
        " (axis 0 for a vector)." if name == "hsplit" else "."
    )
    return cut


hsplit = public(_splitter("hsplit", 1, lambda ndim: 1 if ndim > 1 else 0), numpy=np.hsplit)
vsplit = public(_splitter("vsplit", 2, lambda ndim: 0), numpy=np.vsplit)
dsplit = public(_splitter("dsplit", 3, lambda ndim: 2), numpy=np.dsplit)


# --- joining -----------------------------------------------------------------------------


@public(numpy=np.append)
def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """``values`` after ``arr`` along ``axis`` (both flattened when ``axis`` is None)."""
    arr, values = _operand(arr), _operand(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


@public(numpy=np.column_stack, signature="join")
def column_stack(tup: Any) -> Any:
    """Vectors as columns (and matrices as they are), side by side."""
    xs = [_operand(x) for x in tup]
    cols = [reshape(x, (-1, 1)) if len(_shape(x)) < 2 else x for x in xs]
    return concatenate(cols, axis=1)


@public(numpy=np.dstack, signature="join")
def dstack(tup: Any) -> Any:
    """Arrays joined along the third axis (each made at least 3-d first)."""
    xs = [atleast_3d(_operand(x)) for x in tup]
    return concatenate(xs, axis=2)


# --- products ----------------------------------------------------------------------------


def _order_back(result: Any, order: list[int]) -> Any:
    """Transpose ``result``, whose axis j is the input's axis order[j], into input order."""
    if order == sorted(order):
        return result
    return transpose(result, tuple(int(i) for i in np.argsort(order)))


def _tensordot_grad_a(g: Any, out: Any, a: Any, b: Any, axes: Any) -> Any:
    ax_a, ax_b = axes
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = tuple(i for i in range(b.ndim) if i not in ax_b)
    ga = _tensordot(g, b, (tuple(range(len(free_a), g.ndim)), free_b))
    return _order_back(ga, free_a + [ax_a[i] for i in np.argsort(ax_b)])


def _tensordot_grad_b(g: Any, out: Any, a: Any, b: Any, axes: Any) -> Any:
    ax_a, ax_b = axes
    free_a = tuple(i for i in range(a.ndim) if i not in ax_a)
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    gb = _tensordot(a, g, (free_a, tuple(range(len(free_a)))))
    return _order_back(gb, [ax_b[i] for i in np.argsort(ax_a)] + free_b)


_tensordot = Op(
    "tensordot",
    np.tensordot,
    (_tensordot_grad_a, _tensordot_grad_b, None),
    (
        "∂/∂a: g contracted with b over b's free axes",
        "∂/∂b: a contracted with g over a's free axes",
    ),
    saves=((1,), (0,), ()),
)


@public(numpy=np.tensordot)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Σ over paired axes of a and b: ``axes=n`` pairs a's last n with b's first n;
    ``axes=(a_axes, b_axes)`` names them. Each gradient is a tensordot with g."""
    sa, sb = _shape(a), _shape(b)
    if isinstance(axes, int | np.integer):
        if not 0 <= axes <= builtins.min(len(sa), len(sb)):
            raise ShapeError(f"tensordot: axes={axes} for shapes {sa} and {sb}")
        ax_a, ax_b = tuple(range(len(sa) - axes, len(sa))), tuple(range(int(axes)))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair, got {axes!r}") from None
        ax_a = _axes_in_order("tensordot", first, len(sa))
        ax_b = _axes_in_order("tensordot", second, len(sb))
    if len(ax_a) != len(ax_b) or any(sa[i] != sb[j] for i, j in zip(ax_a, ax_b, strict=False)):
        raise ShapeError(
            f"tensordot: shapes {sa} and {sb} do not match along axes {ax_a} and {ax_b}"
        )
    return _tensordot(a, b, (ax_a, ax_b))


@public(numpy=np.inner)
def inner(a: Any, b: Any) -> Any:
    """Σ over the last axes of a and b (a product when one is a scalar)."""
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 0 or nb == 0:
        return a * b
    return tensordot(a, b, ((na - 1,), (nb - 1,)))


@public(numpy=np.kron)
def kron(a: Any, b: Any) -> Any:
    """The Kronecker product: block (i, j, …) is aᵢⱼ… · b. Written as a broadcast product
    of a and b with interleaved size-1 axes, then a reshape: mul's rules do the rest."""
    a, b = _operand(a), _operand(b)
    sa, sb = _shape(a), _shape(b)
    ndim = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (ndim - len(sa)) + sa, (1,) * (ndim - len(sb)) + sb
    blocks = reshape(a, _interleave(sa, (1,) * ndim)) * reshape(b, _interleave((1,) * ndim, sb))
    return reshape(blocks, tuple(m * n for m, n in zip(sa, sb, strict=True)))


@public(numpy=np.cross)
def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> Any:
    """The cross product of 3-vectors (or 2-vectors, whose third component is 0; two
    2-vectors give the scalar z component) along ``axisa``/``axisb`` (``axis`` sets all
    three), broadcast over the other axes. Written with indexing, products and stack."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(_operand(a), axisa, -1), moveaxis(_operand(b), axisb, -1)
    na, nb = _shape(a)[-1], _shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ShapeError(
            f"cross: vectors must have 2 or 3 components, got {na} and {nb} (shapes "
            f"{_shape(a)} and {_shape(b)} with the vector axis last)"
        )
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    if na == 3 and nb == 3:
        a2, b2 = a[..., 2], b[..., 2]
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif na == 2:  # a2 = 0
        b2 = b[..., 2]
        x, y = a1 * b2, -(a0 * b2)
    else:  # b2 = 0
        a2 = a[..., 2]
        x, y = -(a2 * b1), a2 * b0
    return moveaxis(stack([x, y, z], axis=-1), -1, axisc)


@public(numpy=np.trace, signature="trace")
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Σ of the ``offset`` diagonal of axes (axis1, axis2): the sum of ``diagonal``."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)
