"""The Tensor's operators and methods: each one line that calls its op.

Every rule lives in the op's definition (:mod:`minigrad.ops`); these methods only give
it the spelling users expect (``a + b``, ``t.sum(axis=0)``, ``t.relu()``). They sit in a
mixin so :mod:`minigrad.tensor` holds only what a Tensor *is*: its data, its place in
the graph, its version counter and in-place writes.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import grad_mode
from minigrad.keywords import torch_keywords

if TYPE_CHECKING:
    from minigrad import numpy_api, ops
    from minigrad.tensor import Tensor

Operand = Any  # a Tensor, an ndarray or a Python/NumPy number
Axis = int | tuple[int, ...] | None


class TensorMethods:
    """Operators and methods of :class:`~minigrad.tensor.Tensor`, delegated to ops."""

    __slots__ = ()

    @property
    def size(self) -> int:
        """The number of elements: NumPy's meaning, a plain int (``t.numel()`` is
        PyTorch's spelling); PyTorch's ``t.size()`` is :attr:`shape` here. It stays an
        exact int, not a subclass that could explain ``t.size()``: NumPy promotes an int
        subclass like an int64 array, so ``x / t.size`` would turn float32 into float64."""
        return self.data.size

    # --- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Operand) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Operand) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Operand) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Operand) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Operand) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Operand) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Operand) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Operand) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Operand) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Operand) -> Tensor:
        return ops.pow(other, self)

    def __mod__(self, other: Operand) -> Tensor:
        return ops.remainder(self, other)

    def __rmod__(self, other: Operand) -> Tensor:
        return ops.remainder(other, self)

    def __matmul__(self, other: Operand) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Operand) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # --- NumPy interoperability: np.exp(t), ndarray * t, np.where(..., t, ...) -----------

    # Nothing leaves the graph silently: a NumPy function minigrad has no rule for runs on
    # the raw data only when that drops no gradient (see minigrad.numpy_api).

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return numpy_api.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_api.array_function(func, args, kwargs)

    # --- values as NumPy and Python see them (each read refused while jit traces) ----

    def numpy(self) -> np.ndarray:
        """The underlying data as an ndarray (shared, not copied; no gradient)."""
        return np.asarray(self._value("numpy()"))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's conversion (``np.asarray(t)``, and every element of ``np.array([t1,
        t2])``, ``np.r_[t1, t2]``, ``np.mean([t1, t2])``): refused with a TypeError for a
        tensor that requires grad while grad mode is on, because the array could not
        carry the gradient. NumPy converts a list element by element and cannot get a
        Tensor back, so a list of tensors is joined with ``mg.stack`` / ``np.stack`` /
        ``np.concatenate`` (they record); the values are ``t.detach()``, ``t.numpy()``
        or ``t.data`` (PyTorch refuses ``t.numpy()`` here too; we keep it as the explicit
        way to say "the values")."""
        data = self._value("np.asarray()")
        if self.requires_grad and grad_mode._mode.enabled:
            raise TypeError(
                "converting a tensor that requires grad to a NumPy array (np.asarray, "
                "np.array, or a list of tensors given to a NumPy function, np.r_, np.c_) "
                "would silently drop its gradient. Join tensors with mg.stack / np.stack / "
                "np.concatenate, which record; for the values without a gradient use "
                "t.detach(), t.numpy() or t.data, or run under mg.no_grad()."
            )
        if copy:
            return np.array(data, dtype=dtype)
        return np.asarray(data, dtype=dtype)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        data = self._value("item()")
        if data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return data.item()

    def tolist(self) -> Any:
        return self._value("tolist()").tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self._value("bool() (an if or while on a tensor)"))

    # & | ^ ~ << >> mean what they mean in NumPy: bitwise on integer tensors, logical on
    # boolean ones (masks), a TypeError on floats; like comparisons, no gradient
    def __and__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.bitwise_and](self, other)

    def __rand__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.bitwise_and](other, self)

    def __or__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.bitwise_or](self, other)

    def __ror__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.bitwise_or](other, self)

    def __xor__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.bitwise_xor](self, other)

    def __rxor__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.bitwise_xor](other, self)

    def __lshift__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.left_shift](self, other)

    def __rlshift__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.left_shift](other, self)

    def __rshift__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.right_shift](self, other)

    def __rrshift__(self, other: Operand) -> Tensor:
        return ops.BITWISE[np.right_shift](other, self)

    def __invert__(self) -> Tensor:
        return ops.BITWISE[np.invert](self)

    # comparisons are not differentiable: they give boolean tensors without a graph
    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return ops.compare(np.equal, self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return ops.compare(np.not_equal, self, other)

    def __lt__(self, other: Operand) -> Tensor:
        return ops.compare(np.less, self, other)

    def __le__(self, other: Operand) -> Tensor:
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Operand) -> Tensor:
        return ops.compare(np.greater, self, other)

    def __ge__(self, other: Operand) -> Tensor:
        return ops.compare(np.greater_equal, self, other)

    # --- reductions, shape and elementwise methods ----------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Arithmetic mean over ``axis``; its gradient is the sum's divided by the count."""
        return ops.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        return ops.max(self, axis, keepdims)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Product over ``axis``; its gradient is exact with zeros (a tree of products)."""
        return ops.prod(self, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; tied minima share the gradient equally."""
        return ops.min(self, axis, keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape (``-1`` infers one axis); accepts a tuple or ints."""
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        if shape == self.data.shape:
            return self
        return ops.reshape(self, shape)

    def transpose(self, *axes: int) -> Tensor:
        """Permute axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    def astype(self, dtype: Any) -> Tensor:
        """The values as another dtype (e.g. np.float32); gradients flow back cast.

        A cast to an integer or bool dtype is not differentiable: like PyTorch, it
        returns a tensor cut off from the graph.
        """
        return ops.cast(self, dtype)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def clip(self, lo: Operand = None, hi: Operand = None) -> Tensor:
        """Limit values to [lo, hi]; the gradient passes where lo ≤ x ≤ hi (bounds may be
        tensors that require grad: each gets the gradient where the output is it)."""
        return ops.clip(self, lo, hi)

    def round(self, decimals: int = 0) -> Tensor:
        """Rounded to ``decimals`` places (halves to even); no gradient (0 a.e.)."""
        return ops.round(self, decimals)

    def log1p(self) -> Tensor:
        """ln(1 + x), accurate for tiny x."""
        return ops.log1p(self)

    def sin(self) -> Tensor:
        return ops.sin(self)

    def cos(self) -> Tensor:
        return ops.cos(self)

    def softplus(self) -> Tensor:
        """ln(1 + eˣ), a smooth relu; finite for any finite x."""
        return ops.softplus(self)

    def log_sigmoid(self) -> Tensor:
        """ln σ(x) = −softplus(−x), finite for any finite x (ln of a rounded 0 is not)."""
        return ops.log_sigmoid(self)

    def logsumexp(
        self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
    ) -> Tensor:
        """ln Σ exp(x) over ``axis`` without overflow."""
        return ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / Σ exp(x) along ``axis``."""
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x − logsumexp(x) along ``axis``: the log-probabilities of a classifier."""
        return ops.log_softmax(self, axis)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Tensor:
        """Drop size-1 axes (all, or those of ``axis`` that have size 1)."""
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 axis at ``axis``."""
        return ops.unsqueeze(self, axis)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes ``start_dim`` … ``end_dim`` into one."""
        return ops.flatten(self, start_dim, end_dim)

    def ravel(self) -> Tensor:
        """The elements as one axis (a view where NumPy's ravel is one)."""
        return ops.ravel(self)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes (a view)."""
        return ops.swapaxes(self, axis1, axis2)

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        """NumPy's repeat (each element ``repeats`` times along ``axis``), not PyTorch's
        ``Tensor.repeat``, which is ``np.tile``."""
        return ops.repeat(self, repeats, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The ``offset`` diagonal of axes (axis1, axis2), as the last axis (a view)."""
        return ops.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The sum of the ``offset`` diagonal of axes (axis1, axis2)."""
        return ops.trace(self, offset, axis1, axis2)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum (flat when ``axis`` is None); an integer tensor, no graph."""
        return ops.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum (flat when ``axis`` is None); an integer tensor, no graph."""
        return ops.argmin(self, axis, keepdims)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """Running sums along ``axis`` (of the flattened tensor when None, as NumPy)."""
        return ops.cumsum(self, axis)

    def cumprod(self, axis: int | None = None) -> Tensor:
        """Running products along ``axis``; the gradient is exact with zeros."""
        return ops.cumprod(self, axis)

    def sort(self, axis: int = -1) -> tuple[Tensor, Tensor]:
        """``(values, indices)`` sorted along ``axis``, as PyTorch's ``Tensor.sort`` (new
        tensors, not NumPy's in-place sort); ties keep their order (stable), and the
        values' gradient goes back through the indices."""
        return ops.sort_with_indices(self, axis)

    def conj(self) -> Tensor:
        """The complex conjugate: the tensor itself (tensors are real)."""
        return ops.conj(self)

    @property
    def real(self) -> Tensor:
        """The real part: the tensor's values (tensors are real), as ``ndarray.real``."""
        return ops.real(self)

    @property
    def imag(self) -> Tensor:
        """The imaginary part: zeros (tensors are real), as ``ndarray.imag``."""
        return ops.imag(self)

    def var(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """The variance, NumPy's (``ddof=0`` by default; PyTorch's is ``ddof=1``)."""
        return ops.var(self, axis, ddof, keepdims)

    def std(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """The standard deviation, NumPy's (``ddof=0`` by default; PyTorch's is 1)."""
        return ops.std(self, axis, ddof, keepdims)

    def dot(self, other: Operand) -> Tensor:
        """``np.dot(self, other)``, as ``ndarray.dot``."""
        return ops.dot(self, other)

    # --- PyTorch's spellings ---------------------------------------------------------------

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's ``view``: :meth:`reshape` (same data, new shape; ``-1`` infers one
        axis). NumPy gives a view when the layout allows it and otherwise a copy, where
        PyTorch's ``view`` would refuse; the gradient is the same either way."""
        return self.reshape(*shape)

    def permute(self, *dims: int) -> Tensor:
        """PyTorch's ``permute``: the axes in the order ``dims`` (NumPy's ``transpose``)."""
        if len(dims) == 1 and isinstance(dims[0], tuple | list):
            dims = tuple(dims[0])
        if len(dims) != self.data.ndim:
            raise ValueError(
                f"permute: a tensor of shape {self.data.shape} needs {self.data.ndim} "
                f"dims, got {dims}"
            )
        return ops.transpose(self, dims)

    def numel(self) -> int:
        """PyTorch's ``numel()``: the number of elements (NumPy's ``size``)."""
        return int(self.data.size)

    def float(self) -> Tensor:
        """PyTorch's ``float()``: the values as float32 (minigrad's default is float64,
        which is :meth:`double`); gradients flow back cast."""
        return self if self.data.dtype == np.float32 else ops.cast(self, np.float32)

    def double(self) -> Tensor:
        """PyTorch's ``double()``: the values as float64; gradients flow back cast."""
        return self if self.data.dtype == np.float64 else ops.cast(self, np.float64)


def _accept_torch_keywords(cls: type) -> None:
    """Every public method takes ``dim=``/``keepdim=`` where it takes ``axis``/``keepdims``,
    and refuses other unknown keywords with a hint (see :mod:`minigrad.keywords`)."""
    for name, value in list(vars(cls).items()):
        # a method of self alone (relu, exp) takes no keyword: left unwrapped, as fast
        takes = callable(value) and (
            value.__code__.co_argcount > 1 or value.__code__.co_flags & inspect.CO_VARARGS
        )
        if takes and not name.startswith("_"):
            setattr(cls, name, torch_keywords(value, name))


_accept_torch_keywords(TensorMethods)


# The ops (and NumPy dispatch) build Tensors, so they can only be imported once the
# Tensor class, which inherits these methods, exists: minigrad.tensor binds them then.
ops: Any = None
numpy_api: Any = None
