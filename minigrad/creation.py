"""Tensor constructors with PyTorch's names and meaning: zeros, ones, full, arange, eye,
rand, randn, zeros_like, ones_like.

Sizes are given as ints or one tuple/list (``mg.zeros(2, 3)`` or ``mg.zeros((2, 3))``).
Floating-point results are float64 unless ``dtype`` says otherwise (PyTorch's default is
float32; minigrad's is float64 everywhere). Every constructor takes ``requires_grad=``;
only floating-point tensors can require gradients.

>>> import minigrad as mg
>>> mg.zeros(2, 3).shape, mg.ones(2).dtype
((2, 3), dtype('float64'))
>>> mg.arange(3).tolist(), mg.arange(0, 1, 0.25).tolist()
([0, 1, 2], [0.0, 0.25, 0.5, 0.75])
>>> mg.full((2,), 7.0, requires_grad=True)
tensor([7., 7.], requires_grad=True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import random
from minigrad.op import Op
from minigrad.tensor import Tensor

Size = int | tuple[int, ...] | list[int]


def _size(name: str, size: tuple[Any, ...]) -> tuple[int, ...]:
    """``(2, 3)`` from ``(2, 3)`` or ``((2, 3),)``; each entry a non-negative int."""
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"{name}: sizes must be integers, got {size!r}")
        if n < 0:
            raise ValueError(f"{name}: sizes must be ≥ 0, got {size!r}")
    return tuple(int(n) for n in size)


def as_dtype(name: str, dtype: Any, default: Any = np.float64, floating: bool = False) -> np.dtype:
    """``dtype`` as an np.dtype (``default`` when None), refusing what a Tensor cannot hold."""
    if dtype is None:
        return np.dtype(default)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: {dtype!r} is not a dtype") from None
    allowed = "f" if floating else "biuf"
    if dt.kind not in allowed:
        wanted = "a floating-point dtype" if floating else "a bool, integer or float dtype"
        raise TypeError(f"{name}: dtype must be {wanted}, got {dt}")
    return dt


def _leaf(name: str, data: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and data.dtype.kind != "f":
        raise TypeError(
            f"{name}: only floating-point tensors can require gradients, got dtype {data.dtype}"
        )
    return Tensor(data, requires_grad=bool(requires_grad))


def zeros(*size: Size, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``mg.zeros(2, 3)`` or ``mg.zeros((2, 3))``.

    >>> import minigrad as mg
    >>> mg.zeros(2)
    tensor([0., 0.])
    """
    return _leaf("zeros", np.zeros(_size("zeros", size), as_dtype("zeros", dtype)), requires_grad)


def ones(*size: Size, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``mg.ones(2, 3)`` or ``mg.ones((2, 3))``.

    >>> import minigrad as mg
    >>> mg.ones(2, dtype="float32")
    tensor([1., 1.], dtype=float32)
    """
    return _leaf("ones", np.ones(_size("ones", size), as_dtype("ones", dtype)), requires_grad)


def full(size: Size, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``.

    Without ``dtype`` the value decides, as in PyTorch: a bool gives bool, an int gives
    int64, a float gives float64.

    >>> import minigrad as mg
    >>> mg.full((2, 2), 3).tolist(), mg.full(2, 0.5).dtype
    ([[3, 3], [3, 3]], dtype('float64'))
    """
    shape = _size("full", size if isinstance(size, tuple | list) else (size,))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.data
    value = np.asarray(fill_value)
    if value.ndim != 0 or value.dtype.kind not in "biuf":
        raise TypeError(f"full: fill_value must be a real number or bool, got {fill_value!r}")
    default = {"b": np.bool_, "i": np.int64, "u": np.int64}.get(value.dtype.kind, np.float64)
    dt = as_dtype("full", dtype, default)
    return _leaf("full", np.full(shape, value, dt), requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``.

    ``arange(n)`` counts 0, 1, …, n − 1. As in PyTorch, integer arguments give int64 and
    any float argument gives a float tensor (float64 here); a ``step`` whose sign points
    away from ``end`` is an error, not an empty result.

    >>> import minigrad as mg
    >>> mg.arange(5, 0, -2).tolist()
    [5, 3, 1]
    """
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TypeError(f"arange: {name} must be a real number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"arange: {name} must be finite, got {value!r}")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise ValueError(f"arange: the step {step} points away from end: start={start}, end={end}")
    integral = all(isinstance(v, int | np.integer) for v in (start, end, step))
    dt = as_dtype("arange", dtype, np.int64 if integral else np.float64)
    return _leaf("arange", np.arange(start, end, step, dtype=dt), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n × m`` identity matrix (``m = n`` by default): ones on the diagonal.

    >>> import minigrad as mg
    >>> mg.eye(2, 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    rows, cols = _size("eye", (n, n if m is None else m))
    return _leaf("eye", np.eye(rows, cols, dtype=as_dtype("eye", dtype)), requires_grad)


def _random(
    name: str,
    draw: str,
    size: tuple[Any, ...],
    dtype: Any,
    requires_grad: bool,
    seed: int | None,
    rng: np.random.Generator | None,
) -> Tensor:
    shape, dt = _size(name, size), as_dtype(name, dtype, floating=True)
    values = _draw(random.generator(seed, rng), draw, shape, dt)
    if isinstance(values, Tensor):  # mg.jit is tracing: the draw is an op of the trace
        return values.requires_grad_() if requires_grad else values
    return _leaf(name, values, requires_grad)


def _draw_values(rng: np.random.Generator, method: str, shape: tuple, dtype: np.dtype) -> Any:
    return np.asarray(getattr(rng, method)(shape), dtype=dtype)  # drawn in float64


_draw = Op("draw", _draw_values, (None, None, None, None), saves=(), random=True)
"""A draw from ``rng``: an op, so a compiled function draws anew at every call."""


def rand(
    *size: Size,
    dtype: Any = None,
    requires_grad: bool = False,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Uniform draws from [0, 1), from the default generator unless ``seed``/``rng`` is given.

    Values are drawn in float64 and rounded to ``dtype``, so a float32 draw is the
    float64 draw of the same seed, rounded.

    >>> import minigrad as mg
    >>> x = mg.rand(2, 3, seed=0)
    >>> x.shape, bool(((x.numpy() >= 0) & (x.numpy() < 1)).all())
    ((2, 3), True)
    """
    return _random("rand", "random", size, dtype, requires_grad, seed, rng)


def randn(
    *size: Size,
    dtype: Any = None,
    requires_grad: bool = False,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Standard normal draws N(0, 1), from the default generator unless ``seed``/``rng``.

    >>> import minigrad as mg
    >>> mg.randn(3, seed=1).tolist() == mg.randn(3, seed=1).tolist()
    True
    """
    return _random("randn", "standard_normal", size, dtype, requires_grad, seed, rng)


def _like(name: str, fill: int, input: Any, dtype: Any, requires_grad: bool) -> Tensor:
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    dt = as_dtype(name, dtype, default=data.dtype)
    return _leaf(name, np.full(data.shape, fill, dt), requires_grad)


def zeros_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape and dtype of ``input`` (a Tensor or array-like).

    >>> import minigrad as mg
    >>> mg.zeros_like(mg.tensor([[1, 2, 3]]))
    tensor([[0, 0, 0]])
    """
    return _like("zeros_like", 0, input, dtype, requires_grad)


def ones_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape and dtype of ``input`` (a Tensor or array-like).

    >>> import minigrad as mg
    >>> mg.ones_like(mg.zeros(2, dtype="float32"))
    tensor([1., 1.], dtype=float32)
    """
    return _like("ones_like", 1, input, dtype, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares ``array``'s memory (PyTorch's ``torch.from_numpy``): writes to
    either show in the other; no copy, same dtype. Use :func:`minigrad.tensor` for a copy.

    >>> import numpy as np, minigrad as mg
    >>> a = np.zeros(2)
    >>> t = mg.from_numpy(a)
    >>> a[0] = 5.0
    >>> t.tolist()
    [5.0, 0.0]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"from_numpy expects an np.ndarray, got {type(array).__name__} "
            "(mg.tensor(data) copies any array-like)"
        )
    return Tensor(array)
