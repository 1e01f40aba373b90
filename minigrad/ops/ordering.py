"""Cumulative and ordering ops: cumsum, cumprod, sort, partition, flip, roll, diff, and
the rearrangements written with them (flipud, fliplr, rot90, rollaxis).

Every rule is written with ops, so a recorded backward (create_graph) differentiates it
again. None divides by an input: cumprod's gradient at a zero is the true polynomial
derivative, at every order. Sort and partition are permutations of their input: the
gradient is scattered back through the permutation (ties: see :func:`sort`).

>>> import numpy as np, minigrad as mg
>>> x = mg.tensor([2.0, 0.0, 3.0], requires_grad=True)
>>> np.cumprod(x).sum().backward()  # 2 + 2·0 + 2·0·3
>>> x.grad  # ∂/∂x₁ = 2 + 2·3 at the zero: no 0/0
tensor([1., 8., 0.])
>>> y = mg.tensor([3.0, 1.0, 2.0], requires_grad=True)
>>> (np.sort(y) * np.array([1.0, 10.0, 100.0])).sum().backward()
>>> y.grad  # each input gets the weight of the place it was sorted to
tensor([100.,   1.,  10.])
"""

from __future__ import annotations

import builtins
import operator
from typing import Any, NamedTuple

import numpy as np

from minigrad.op import OUT, Op, ShapeError
from minigrad.ops.base import Axis, _float_of, _no_gradient, _normalize_axis, _shape
from minigrad.ops.indexing import concatenate
from minigrad.ops.registry import public
from minigrad.ops.shape import broadcast_to, reshape, transpose


def _axis_of(name: str, x: Any, axis: Any) -> int:
    """``axis`` as one non-negative axis of ``x``; a ShapeError names the function."""
    shape = _shape(x)
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}")
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(
            f"{name}: axis {axis} is out of range for an input of shape {shape} "
            f"({len(shape)} dimension(s))"
        )
    return int(axis) % len(shape)


def _axes_of(name: str, x: Any, axis: Axis) -> tuple[int, ...]:
    """``axis`` (an int, a tuple, or None: every axis) as a tuple of non-negative axes."""
    shape = _shape(x)
    if axis is None:
        return tuple(range(len(shape)))
    if len(shape) == 0:
        raise ShapeError(f"{name}: axis {axis!r} is out of range for a 0-d input")
    try:
        return _normalize_axis(axis, len(shape))
    except ShapeError as err:
        raise ShapeError(f"{name}: {err} (input of shape {shape})") from None


def _flat_or(name: str, x: Any, axis: int | None) -> tuple[Any, int]:
    """NumPy's ``axis=None``: the flattened input along axis 0; else the axis checked."""
    if axis is None:
        return reshape(x, (-1,)), 0
    return x, _axis_of(name, x, axis)


def _along(axis: int, index: Any) -> tuple:
    """An index that applies ``index`` (a slice) to ``axis`` only."""
    return (slice(None),) * axis + (index,)


def _shift(a: Any, d: int, axis: int, fill: float) -> Any:
    """``a`` moved ``d`` places along ``axis`` (d > 0: towards the end), the vacated
    places holding ``fill``: slices and a concatenation, so linear and exact."""
    shape = _shape(a)
    k = builtins.min(abs(d), shape[axis])
    pad = np.full((*shape[:axis], k, *shape[axis + 1 :]), fill, dtype=_float_of(a))
    if d > 0:
        return concatenate([pad, a[_along(axis, slice(None, shape[axis] - k))]], axis=axis)
    return concatenate([a[_along(axis, slice(k, None))], pad], axis=axis)


# --- flip and roll: permutations whose gradient is the inverse permutation --------------

_flip = Op(
    "flip",
    np.flip,
    (lambda g, out, x, axes: _flip(g, axes), None),
    ("the gradient is flipped back",),
    saves=((), ()),
    view=True,
    source="np.flip({0}, axis={1})",
)


@public(numpy=np.flip)
def flip(x: Any, axis: Axis = None) -> Any:
    """Reverse the order of elements along ``axis`` (every axis when None)."""
    return _flip(x, _axes_of("flip", x, axis))


@public(numpy=np.flipud)
def flipud(x: Any) -> Any:
    """Reverse the rows (axis 0)."""
    if len(_shape(x)) < 1:
        raise ShapeError(f"flipud: needs an input with at least 1 dimension, got shape {()}")
    return _flip(x, (0,))


@public(numpy=np.fliplr)
def fliplr(x: Any) -> Any:
    """Reverse the columns (axis 1)."""
    if len(_shape(x)) < 2:
        raise ShapeError(
            f"fliplr: needs an input with at least 2 dimensions, got shape {_shape(x)}"
        )
    return _flip(x, (1,))


def _negated(shift: Any) -> Any:
    return tuple(-s for s in shift) if isinstance(shift, tuple) else -shift


_roll = Op(
    "roll",
    np.roll,
    (lambda g, out, x, shift, axis: _roll(g, _negated(shift), axis), None, None),
    ("the gradient is rolled back (by −shift)",),
    saves=((), (), ()),
    source="np.roll({0}, {1}, axis={2})",
)


@public(numpy=np.roll)
def roll(x: Any, shift: int | tuple[int, ...], axis: Axis = None) -> Any:
    """Shift elements cyclically by ``shift`` places along ``axis`` (the flattened input
    when None); a tuple of shifts goes with a tuple of axes."""
    shifts = tuple(shift) if isinstance(shift, list | tuple) else shift
    for s in shifts if isinstance(shifts, tuple) else (shifts,):
        if isinstance(s, bool) or not isinstance(s, int | np.integer):
            raise TypeError(f"roll: shift must be an integer or a tuple of them, got {shift!r}")
    shifts = tuple(int(s) for s in shifts) if isinstance(shifts, tuple) else int(shifts)
    if axis is None:
        if isinstance(shifts, tuple):
            raise ValueError(f"roll: a tuple of shifts {shifts} needs a tuple of axes")
        return _roll(x, shifts, None)
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    axes = tuple(_axis_of("roll", x, a) for a in axes)
    if isinstance(shifts, tuple) and len(shifts) != len(axes) and len(shifts) != 1:
        raise ValueError(f"roll: {len(shifts)} shifts {shifts} for {len(axes)} axes {axes}")
    return _roll(x, shifts, axes)


@public(numpy=np.rot90)
def rot90(x: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Any:
    """Rotate by 90° k times in the plane of ``axes`` (from the first axis towards the
    second), as NumPy: flips and a transpose."""
    shape = _shape(x)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name 2 axes, got {axes}")
    a, b = (_axis_of("rot90", x, ax) for ax in axes)
    if a == b:
        raise ValueError(f"rot90: axes {axes} must be different (input of shape {shape})")
    k = operator.index(k) % 4
    if k == 0:
        return x
    if k == 2:
        return _flip(x, tuple(sorted((a, b))))
    order = list(range(len(shape)))
    order[a], order[b] = order[b], order[a]
    if k == 1:
        return transpose(_flip(x, (b,)), tuple(order))
    return _flip(transpose(x, tuple(order)), (b,))


@public(numpy=np.rollaxis)
def rollaxis(x: Any, axis: int, start: int = 0) -> Any:
    """Move ``axis`` to before position ``start`` (NumPy's older moveaxis): a transpose."""
    n = len(_shape(x))
    axis = _axis_of("rollaxis", x, axis)
    if isinstance(start, bool) or not isinstance(start, int | np.integer):
        raise TypeError(f"rollaxis: start must be an integer, got {start!r}")
    if not -n <= start <= n:
        raise ShapeError(
            f"rollaxis: start={start} is out of range for an input of shape {_shape(x)} "
            f"(expected {-n} … {n})"
        )
    start = int(start) + n if start < 0 else int(start)
    if axis < start:
        start -= 1
    if axis == start:
        return x
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return transpose(x, tuple(order))


# --- cumulative sums and products ---------------------------------------------------------


def _reverse_cumsum(g: Any, axis: int) -> Any:
    """Σ_{k ≥ i} g_k along ``axis``: the transpose of a cumulative sum."""
    return _flip(_cumsum(_flip(g, (axis,)), axis), (axis,))


_cumsum = Op(
    "cumsum",
    np.cumsum,
    (lambda g, out, x, axis: _reverse_cumsum(g, axis), None),
    ("∂outₖ/∂xᵢ = 1 for i ≤ k: the gradient summed from the end",),
    saves=((), ()),
    source="np.cumsum({0}, axis={1})",
)


def _cumprod_grad(g: Any, out: Any, x: Any, axis: int) -> Any:
    """∂L/∂xᵢ = Σ_{k≥i} gₖ Π_{j≤k, j≠i} xⱼ = (Π_{j<i} xⱼ)·Sᵢ with
    Sᵢ = Σ_{k≥i} gₖ Π_{i<j≤k} xⱼ, the solution of Sᵢ = gᵢ + xᵢ₊₁·Sᵢ₊₁.

    No division by x (the usual rule, reversed-cumsum(g·out)/x, is nan at a zero and
    wrong after it): S comes from a doubling scan, log₂ n steps of products and sums
    (bᵢ ← bᵢ + aᵢ·bᵢ₊d, aᵢ ← aᵢ·aᵢ₊d, starting from b = g, aᵢ = xᵢ₊₁), so the rule is a
    polynomial in x and g and its own derivative is exact everywhere, zeros included.
    """
    n = _shape(x)[axis]
    a, b, d = _shift(x, -1, axis, 0.0), g, 1
    while d < n:
        b = b + a * _shift(b, -d, axis, 0.0)
        if 2 * d < n:
            a = a * _shift(a, -d, axis, 0.0)
        d *= 2
    return _shift(out, 1, axis, 1.0) * b


_cumprod = Op(
    "cumprod",
    np.cumprod,
    (_cumprod_grad, None),
    ("∂outₖ/∂xᵢ = Π_{j≤k, j≠i} xⱼ for i ≤ k (a product, exact at zeros)",),
    saves=((0, OUT), ()),
    source="np.cumprod({0}, axis={1})",
)


@public(numpy=np.cumsum, signature="cumulative")
def cumsum(x: Any, axis: int | None = None) -> Any:
    """Running sums along ``axis`` (of the flattened input when None, as NumPy)."""
    return _cumsum(*_flat_or("cumsum", x, axis))


@public(numpy=np.cumprod, signature="cumulative")
def cumprod(x: Any, axis: int | None = None) -> Any:
    """Running products along ``axis`` (flattened when None); the gradient is exact with
    zeros in the input, one or several (no division by x)."""
    return _cumprod(*_flat_or("cumprod", x, axis))


# --- diff: the forward difference and its transpose -------------------------------------


def _diff_transpose(g: Any, n: int, axis: int, length: int) -> Any:
    """The transpose of n forward differences: one difference (y = x[1:] − x[:-1])
    sends gₖ to xₖ₊₁ and −gₖ to xₖ, i.e. [0, g] − [g, 0]."""
    for _ in range(n):
        g = _pad_zeros(g, axis, front=True) - _pad_zeros(g, axis, front=False)
    if _shape(g)[axis] > length:  # more differences than elements: nothing depended
        g = g[_along(axis, slice(0, length))]
    return g


def _pad_zeros(g: Any, axis: int, front: bool) -> Any:
    """``g`` with one slice of zeros before (front) or after it along ``axis``."""
    shape = _shape(g)
    zero = np.zeros((*shape[:axis], 1, *shape[axis + 1 :]), dtype=_float_of(g))
    return concatenate([zero, g] if front else [g, zero], axis=axis)


_diff = Op(
    "diff",
    lambda x, n, axis: np.diff(x, n=n, axis=axis),
    (lambda g, out, x, n, axis: _diff_transpose(g, n, axis, x.shape[axis]), None, None),
    ("n-th forward difference: ∂(xₖ₊₁ − xₖ)/∂x is +1 at k+1 and −1 at k, applied n times",),
    saves=((), (), ()),
    source="np.diff({0}, n={1}, axis={2})",
)


def _end_values(name: str, x: Any, values: Any, axis: int) -> Any:
    """``prepend``/``append`` as NumPy takes them: a scalar is broadcast to one slice."""
    shape = _shape(x)
    if len(_shape(values)) == 0:
        return broadcast_to(values, (*shape[:axis], 1, *shape[axis + 1 :]))
    return values


@public(numpy=np.diff)
def diff(x: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """The n-th discrete difference along ``axis`` (``x[1:] − x[:-1]``, n times), with
    NumPy's ``prepend``/``append`` (which may be tensors: they get gradients too)."""
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    if len(_shape(x)) == 0:
        raise ShapeError("diff: needs an input with at least 1 dimension, got a 0-d input")
    axis = _axis_of("diff", x, axis)
    if n == 0:
        return x
    if prepend is not None or append is not None:
        parts = [_end_values("diff", x, prepend, axis)] if prepend is not None else []
        parts.append(x)
        parts += [_end_values("diff", x, append, axis)] if append is not None else []
        x = concatenate(parts, axis=axis)
    return _diff(x, n, axis)


# --- sort and partition: the gradient goes back through the permutation -----------------

_argsort = _no_gradient(
    "argsort",
    lambda x, axis: np.argsort(x, axis=axis, kind="stable"),
    2,
    source="np.argsort({0}, axis={1}, kind='stable')",
)
"""The stable sorting permutation (ties in position order, NaNs last); no gradient."""

_permute = Op(
    "take_along_axis",
    lambda x, index, inverse, axis: np.take_along_axis(x, index, axis=axis),
    (lambda g, out, x, index, inverse, axis: _permute(g, inverse, index, axis), None, None, None),
    ("a permutation: the gradient goes back through the inverse permutation",),
    saves=((), (), (), ()),
    source="np.take_along_axis({0}, {1}, axis={3})",
)
"""x permuted along ``axis`` by ``index`` (each position once); ``inverse`` undoes it,
which is the transpose of a permutation: its rule."""


def _sort_grad(g: Any, out: Any, x: Any, axis: int) -> Any:
    order = _argsort(x, axis)  # out = x[order]: xᵢ went to the place rank i holds
    return _permute(g, _argsort(order, axis), order, axis)


_sort = Op(
    "sort",
    lambda x, axis: np.sort(x, axis=axis),
    (_sort_grad, None),
    (
        "1 from the output place each input was sorted to (tied inputs keep their order: "
        "a stable sort, as torch.sort(stable=True))",
    ),
    saves=((0,), ()),
    source="np.sort({0}, axis={1})",
)


def _partition_grad(g: Any, out: Any, x: Any, kth: Any, axis: int) -> Any:
    """The place each xᵢ went to: the output place of the same rank (equal values
    matched in position order), found by sorting both; then as sort."""
    rank = _argsort(_argsort(x, axis), axis)
    place = _permute(_argsort(out, axis), rank, None, axis)
    return _permute(g, place, _argsort(place, axis), axis)


_partition = Op(
    "partition",
    lambda x, kth, axis: np.partition(x, kth, axis=axis),
    (_partition_grad, None, None),
    ("1 from the output place each input was moved to (as sort; ties in position order)",),
    saves=((0, OUT), (), ()),
    source="np.partition({0}, {1}, axis={2})",
)


@public(numpy=np.sort, signature="sort")
def sort(x: Any, axis: int | None = -1) -> Any:
    """The values along ``axis`` in increasing order (NaNs last; flattened when None).

    The gradient of each output place goes back to the input that landed there. Tied
    inputs (where sort has no derivative: it is continuous but not differentiable) are
    matched to their places in order of position, like a stable sort and like
    ``torch.sort(stable=True)``: the first of two equal values gets the lower place's
    gradient.
    """
    x, axis = _flat_or("sort", x, axis)
    return _sort(x, axis)


@public(numpy=np.partition, signature="partition")
def partition(x: Any, kth: int | tuple[int, ...], axis: int | None = -1) -> Any:
    """NumPy's partition: the kth value in its sorted place, smaller ones before, larger
    after (in no given order); gradients as :func:`sort` (ties in position order)."""
    x, axis = _flat_or("partition", x, axis)
    n = _shape(x)[axis]
    kths = tuple(kth) if isinstance(kth, list | tuple | np.ndarray) else (kth,)
    for k in kths:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not -n <= k < n:
            raise ValueError(
                f"partition: kth={kth!r} is out of range for axis {axis} of length {n} "
                f"(input of shape {_shape(x)})"
            )
    kth = tuple(int(k) for k in kths) if isinstance(kth, list | tuple | np.ndarray) else int(kth)
    return _partition(x, kth, axis)


def argsort(x: Any, axis: int = -1) -> Any:
    """The stable sorting permutation along ``axis`` (an integer tensor, no gradient)."""
    return _argsort(*_flat_or("argsort", x, axis))


class SortResult(NamedTuple):
    """What ``Tensor.sort`` returns, as ``torch.sort`` does: the sorted values (with a
    gradient) and the indices they came from (integers, none)."""

    values: Any
    indices: Any


def sort_with_indices(x: Any, axis: int = -1) -> SortResult:
    """``(values, indices)`` along ``axis``: PyTorch's ``sort`` (ties stable)."""
    return SortResult(sort(x, axis), argsort(x, axis))
