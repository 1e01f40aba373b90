"""Indexing and joining: getitem and its scatter, concatenate, stack, class labels."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.op import EveryInput, Op, is_tracing
from minigrad.ops.base import _no_gradient, _shape
from minigrad.ops.elementwise import cast
from minigrad.ops.registry import public
from minigrad.ops.shape import reshape
from minigrad.tensor import Tensor
from minigrad.tracing import TraceError

# --- indexing and joining ---------------------------------------------------------------


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        isinstance(i, int | slice | np.integer) or i is None or i is Ellipsis for i in items
    )


def _scatter_add_forward(g: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.result_type(g, np.float32))
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated indices accumulate
    return out


scatter_add = Op(
    "scatter_add",
    _scatter_add_forward,
    (lambda g, out, x, index, shape: _getitem(g, index), None, None),
    ("the gradient is gathered back",),
    saves=((), (), ()),
)
_getitem = Op(
    "getitem",
    lambda x, index: x[index],
    (lambda g, out, x, index: scatter_add(g, index, x.shape), None),
    ("1 at each selected position (repeats add up)",),
    saves=((), ()),
    view=lambda x, index: _is_basic(index),  # slices and integers: a view,
    source=lambda r, x, index: f"{r.operand(x)}[{r.index(index)}]",
)


def _index_value(i: Any) -> Any:
    """An index as NumPy takes it; a Tensor index is copied, so that changing it in place
    later cannot change what the gradient scatters into."""
    if isinstance(i, Tensor):
        if is_tracing():
            raise TraceError(
                "indexing with a Tensor inside a jitted function: the selection (and, for "
                "a boolean mask, the result's shape) depends on the data; use mg.where "
                "for masks, or index with a NumPy array or a static argument"
            )
        return i.data.copy()
    if isinstance(i, list):
        return np.asarray(i)
    return i


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` with slices, integers, and integer or boolean arrays (or Tensors)."""
    if isinstance(index, tuple):
        index = tuple(_index_value(i) for i in index)
    else:
        index = _index_value(index)
    try:
        return _getitem(x, index)
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} on shape {np.shape(x)}: {err}") from None


def _concat_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    axis, offsets = inputs[0], inputs[1]
    index = (slice(None),) * (axis % g.ndim) + (slice(offsets[i - 2], offsets[i - 1]),)
    return g[index]


def _stack_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    return g[(slice(None),) * (inputs[0] % g.ndim) + (i - 1,)]


_concatenate = Op(
    "concatenate",
    lambda axis, offsets, *xs: np.concatenate(xs, axis=axis),
    EveryInput(_concat_grad),
    ("each input gets its slice of the gradient",),
    saves=(),
    source=lambda r, axis, offsets, *xs: (
        f"np.concatenate([{', '.join(map(r, xs))}], axis={r(axis)})"
    ),
)
_stack = Op(
    "stack",
    lambda axis, *xs: np.stack(xs, axis=axis),
    EveryInput(_stack_grad),
    ("each input gets its slice of the gradient",),
    saves=(),
    source=lambda r, axis, *xs: f"np.stack([{', '.join(map(r, xs))}], axis={r(axis)})",
)


def _join_inputs(name: str, tensors: Any) -> list[Any]:
    if isinstance(tensors, Tensor | np.ndarray) or not hasattr(tensors, "__len__"):
        raise TypeError(f"{name} takes a sequence of tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ValueError(f"{name} needs at least one tensor")
    return [sequence_operand(t) if isinstance(t, list | tuple) else t for t in tensors]


def sequence_operand(v: list | tuple) -> Any:
    """A (nested) list or tuple operand as one array, or, when Tensors are inside it, as
    a recorded stack of them: ``np.asarray`` would read their data and silently drop
    their gradients (``x * [y, 2.0]``, ``concatenate([(x[0], x[1]), x])``)."""
    items = [sequence_operand(e) if isinstance(e, list | tuple) else e for e in v]
    if any(isinstance(e, Tensor) for e in items):
        return stack(items)
    return np.asarray(v)


@public(numpy=np.concatenate, signature="join")
def concatenate(tensors: Any, axis: int | None = 0) -> Any:
    """Join tensors along an existing axis (``axis=None``: flatten them first)."""
    xs = _join_inputs("concatenate", tensors)
    if axis is None:
        xs, axis = [reshape(x, (-1,)) for x in xs], 0
    shapes = [_shape(x) for x in xs]
    ends = np.cumsum([s[axis] if -len(s) <= axis < len(s) else 0 for s in shapes])
    return _concatenate(axis, (0, *(int(e) for e in ends)), *xs)


@public(numpy=np.stack, signature="join")
def stack(tensors: Any, axis: int = 0) -> Any:
    """Join tensors along a new axis."""
    return _stack(axis, *_join_inputs("stack", tensors))


# --- class labels: gather one logit per example, and its gradient -----------------------


def check_class_indices(
    labels: np.ndarray,
    n_classes: int,
    not_integer: Callable[[np.ndarray, int], Exception],
    out_of_range: Callable[[np.ndarray, int], Exception],
) -> np.ndarray:
    """``labels`` as int64 class indices in 0 … n_classes − 1, or the caller's exception.

    The one check of class labels: the op below and :func:`minigrad.fit`'s targets use
    it, each wording its own message. The first label (flat index i) that is not a whole
    number raises ``not_integer(labels, i)``; the first outside the range raises
    ``out_of_range(labels, i)``, given the labels as int64.
    """
    if labels.dtype.kind not in "iu":
        fractional = labels != np.round(labels)
        if fractional.any():
            raise not_integer(labels, int(np.flatnonzero(fractional)[0]))
        labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        raise out_of_range(labels, int(np.flatnonzero(bad)[0]))
    return labels


def _check_labels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return check_class_indices(
        labels,
        n_classes,
        lambda labels, i: ValueError(
            f"class indices must be integers, got {labels.flat[i].item()!r}"
        ),
        lambda labels, i: ValueError(
            f"class index {labels.flat[i]} is outside 0 … {n_classes - 1} (the logits "
            f"have {n_classes} classes)"
        ),
    )


onehot = _no_gradient(
    "onehot",
    lambda labels, n_classes: np.eye(n_classes)[_check_labels(labels, n_classes)],
    2,
    effect=True,  # refuses bad labels: runs even when its result is unused
)
"""onehot(labels, C): row n is 1 at column labelsₙ, 0 elsewhere (no gradient)."""


def _pick_forward(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return x[np.arange(len(x)), _check_labels(labels, x.shape[1])]


pick = Op(
    "pick",
    _pick_forward,
    (
        lambda g, out, x, labels: cast(onehot(labels, x.shape[1]), x.dtype) * reshape(g, (-1, 1)),
        None,
    ),
    ("∂xₙ,yₙ/∂x = onehot(y): the gradient goes to the picked entry",),
    saves=((1,), ()),
    effect=True,  # refuses bad labels: runs even when its result is unused
)
"""pick(x, labels) = x[n, labelsₙ] for each row n of an (N, C) table."""
