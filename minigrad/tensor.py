"""Tensor: an ndarray that remembers how it was computed, so gradients can flow back.

A Tensor wraps one ``np.ndarray`` (``.data``). When an op that records made it, it also
holds that op and the op's inputs (``_op``, ``_parents``): a node of the computation
graph. Leaves (tensors you create) have no op; the ones with ``requires_grad=True``
receive gradients in ``.grad`` when ``backward()`` runs.

The arithmetic lives in :mod:`minigrad.ops`; the methods here only delegate to it, so
every operator has exactly one definition and one gradient rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad import methods as _methods

Operand = Any  # a Tensor, an ndarray or a Python/NumPy number


def _as_data(data: Any, dtype: Any, requires_grad: bool) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if type(data) is TracedArray and refusing():  # traced data stays traced
        if dtype is not None and np.dtype(dtype) != data.dtype:
            raise read_error(f"Tensor(..., dtype={dtype})")
        if requires_grad and data.dtype.kind != "f":
            raise read_error("Tensor(..., requires_grad=True) of integers")
        return data
    try:
        arr = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {err}") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"cannot make a Tensor from data of dtype {arr.dtype}")
    if requires_grad and arr.dtype.kind not in "f":
        if arr.dtype.kind == "c":
            raise TypeError("complex tensors are not supported")
        arr = arr.astype(np.float64)  # integers and bools need a float to carry a gradient
    return arr


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a Tensor wrapping it (no copy of an ndarray)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _inplace_error(name: str, t: Tensor, value: Any, err: Exception) -> Exception:
    # NumPy raises ValueError for shapes that do not fit (broadcasting, matmul's inner
    # dimension; its message need not say "shape") and TypeError for types
    kind = ShapeError if isinstance(err, ValueError) else TypeError
    return kind(
        f"in-place {name}: cannot write a {type(value).__name__} of shape "
        f"{np.shape(value)} into a tensor of shape {t.shape} and dtype {t.dtype} ({err})"
    )


class Tensor(_methods.TensorMethods):
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> import minigrad as mg
    >>> w = mg.tensor([2.0, -1.0], requires_grad=True)
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> w.grad
    tensor([ 4., -2.])

    ``Tensor(data)`` wraps ``data`` without copying when it already is an ndarray of the
    right dtype; :func:`minigrad.tensor` always copies. float64 is the default for Python
    floats; float32 data stays float32 (gradients too); integer and bool data become
    float64 when ``requires_grad=True``.
    """

    __slots__ = (
        "__weakref__",
        "_grad",
        "_op",
        "_parents",
        "_recorded_at",
        "_values",
        "_version",
        "data",
        "requires_grad",
    )
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_data(data, dtype, requires_grad)
        self._grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._op: Any = None
        self._parents: tuple[Any, ...] = ()
        self._values: list[Any] | tuple = ()  # a leaf has no inputs
        # Tensor(t) wraps t's own array: the two are aliases and share one counter
        if isinstance(data, Tensor):
            data._value("Tensor(t) or mg.tensor(t)")  # refused while tracing
        shares = isinstance(data, Tensor) and self.data is data.data
        self._version: list[int] | None = data._shared_counter() if shares else None
        if _recording.is_tracing():
            _recording.tracing.created(self)

    @classmethod
    def _make(
        cls,
        data: np.ndarray,
        requires_grad: bool,
        op: Any,
        parents: tuple,
        values: list | None = None,
        recorded_at: int = 0,
    ) -> Tensor:
        """Fast internal constructor: no conversion or checks (ops already made ``data``).

        ``parents`` are the op's inputs (Tensors and constants); ``values`` the same
        inputs as the raw arrays the forward saw, which an ordinary backward hands to
        the gradient rules; ``recorded_at`` the in-place clock when it was recorded
        (:data:`minigrad.op.changes`).
        """
        t = object.__new__(cls)
        t.data = data
        t._grad = None
        t.requires_grad = requires_grad
        t._op = op
        t._parents = parents
        t._values = values
        t._version = None
        t._recorded_at = recorded_at
        return t

    # --- version counter: what makes in-place changes safe -------------------------------

    def _shared_counter(self) -> list[int]:
        """This tensor's version counter, created on first use, for an alias to share.

        The counter is one list ``[version, time of the last change]`` shared by every
        tensor whose data is the same memory (``detach()``, views made by indexing or
        reshaping): an in-place change through any of them updates it for all. Until
        something needs it, it is None (version 0, never changed), so ordinary tensors
        pay nothing for it. The time is :data:`minigrad.op.changes`.
        """
        if self._version is None:
            self._version = [0, 0]
        return self._version

    def _bump_version(self) -> None:
        """Record one in-place change of this tensor's data."""
        clock = _recording.changes
        clock[0] += 1
        if self._version is None:
            self._version = [1, clock[0]]
        else:
            self._version[0] += 1
            self._version[1] = clock[0]

    @property
    def version(self) -> int:
        """How many in-place changes this tensor's data has seen (PyTorch's ``_version``).

        Every recorded op notes the versions of the values its gradient rules will read;
        ``backward()`` raises if any of them has moved on, instead of computing with the
        changed values. Writing through ``.data`` does not count: it is the escape hatch.
        """
        return 0 if self._version is None else self._version[0]

    @property
    def grad(self) -> Tensor | None:
        """The gradient ``backward()`` accumulated here (a Tensor of this shape), or None.

        Assigning checks what an optimizer step will read (PyTorch checks it too): a
        Tensor of this tensor's shape, or None. An ndarray is refused, not wrapped, so
        the mistake is seen where it is made rather than as an odd error in ``step()``.
        """
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got "
                    f"{type(value).__name__}; wrap an array first: mg.tensor(g)"
                )
            if value.data.shape != self.data.shape:
                raise ShapeError(
                    f"assigned grad has shape {value.data.shape}, the tensor has shape "
                    f"{self.data.shape}; they must match"
                )
        self._grad = value

    # --- identity, conversion, display -------------------------------------------------

    __hash__ = object.__hash__  # tensors hash by identity (== builds a boolean tensor)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded op."""
        return self._op is None

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed)."""
        return self.transpose()

    def _value(self, what: str) -> np.ndarray:
        """The data, read as a value: refused while a jit trace is recording, where it
        would freeze this call's value into the compiled function."""
        if _recording.is_tracing():
            raise TraceError(
                f"{what} of a Tensor inside a function being traced by mg.jit: the compiled "
                "function would keep this call's value forever. Move the Python logic out "
                "of the jitted function, make the argument static (static_argnums), or "
                "write it with ops (mg.where instead of if/else)."
            )
        return self.data

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        if refusing():  # shown, not read: nothing is baked in
            return f"tensor(<traced>, shape={self.shape}, dtype={self.dtype})"
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._op is not None:
            extras.append(f"op={self._op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    # --- autograd ------------------------------------------------------------------------

    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is the vector v of the vector-Jacobian product vᵀ·J; it may be
        omitted only for a one-element tensor (then v = 1). Gradients add up across
        calls; call ``zero_grad()`` (or an optimizer's) between steps. With
        ``create_graph=True`` the backward pass itself is recorded, so the gradients can
        be differentiated again (Hessians, gradgradcheck, Newton's method).
        """
        if _recording.is_tracing():
            raise TraceError(
                "backward() inside a function being traced by mg.jit: its .grad side "
                "effects would happen once, at tracing time. Return gradients instead: "
                "mg.grad / mg.value_and_grad, or minigrad.autograd.grad(loss, params)."
            )
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())"
            )
        _autograd.backward(self, gradient, create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (set ``.grad`` to None)."""
        self._grad = None

    def detach(self) -> Tensor:
        """The same data as a new leaf that is cut off from the graph.

        The two share their data and their version counter (as in PyTorch): changing
        the detached tensor in place is seen by any graph that saved this one.
        """
        if _recording.is_tracing():
            return _ops.stop_gradient(self)  # recorded, so the replay sees the new value
        t = Tensor._make(self.data, False, None, ())
        t._version = self._shared_counter()
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this leaf as needing a gradient (in place); returns self."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf: use detach() instead")
        if requires_grad and self.data.dtype.kind != "f":
            if _recording.is_tracing():
                raise TraceError(
                    "requires_grad_() on an integer tensor inside a function being traced "
                    "by mg.jit: it converts the data outside the recorded ops. Cast first: "
                    "t.astype(np.float64).requires_grad_()"
                )
            self.data = self.data.astype(np.float64)
        self.requires_grad = bool(requires_grad)
        return self

    # In-place updates are for parameters under no_grad() (optimizer steps): they change
    # .data and keep the tensor's identity, so optimizers and modules keep their handles.
    # Each one bumps the version counter, so a graph that saved the old value refuses to
    # backpropagate with the new one.
    def _check_inplace(self, name: str, other: Any) -> None:
        if _recording.is_tracing():
            raise TraceError(
                f"in-place {name} inside a function being traced by mg.jit: the compiled "
                "function would not repeat it. Return the new value instead (x = x + y)."
            )
        if not _grad_mode._mode.enabled:
            return
        if self.requires_grad:
            raise RuntimeError(
                f"in-place {name} on a tensor that requires grad would hide the change "
                "from autograd; do it under `with minigrad.no_grad():`"
            )
        if isinstance(other, Tensor) and other.requires_grad:
            raise RuntimeError(
                f"in-place {name} with an operand that requires grad would drop its "
                f"gradient; write `x = x {name.rstrip('=')} y` instead"
            )

    def _inplace(self, other: Operand, name: str, ufunc: np.ufunc) -> Tensor:
        if _grad_mode._mode.enabled or _recording.tracing is not None:
            self._check_inplace(name, other)
        value = other.data if isinstance(other, Tensor) else other
        try:
            ufunc(self.data, value, out=self.data)
        except (TypeError, ValueError) as err:
            raise _inplace_error(name, self, value, err) from None
        self._bump_version()
        return self

    def __iadd__(self, other: Operand) -> Tensor:
        return self._inplace(other, "+=", np.add)

    def __isub__(self, other: Operand) -> Tensor:
        return self._inplace(other, "-=", np.subtract)

    def __imul__(self, other: Operand) -> Tensor:
        return self._inplace(other, "*=", np.multiply)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._inplace(other, "/=", np.divide)

    def __ipow__(self, other: Operand) -> Tensor:
        return self._inplace(other, "**=", np.power)

    def __imatmul__(self, other: Operand) -> Tensor:
        """``x @= m`` in place: allowed when ``x @ m`` has x's own shape."""
        self._check_inplace("@=", other)
        value = other.data if isinstance(other, Tensor) else other
        try:
            result = np.matmul(self.data, value)
        except (TypeError, ValueError) as err:
            raise _inplace_error("@=", self, value, err) from None
        if result.shape != self.shape:
            raise ShapeError(
                f"in-place @=: the product has shape {result.shape}, the tensor has "
                f"{self.shape}; write `x = x @ m` for a new tensor"
            )
        self.data[...] = result
        self._bump_version()
        return self

    def __setitem__(self, index: Any, value: Operand) -> None:
        """``x[index] = value`` in place (under ``no_grad`` when x requires grad)."""
        self._check_inplace("[]=", value)
        if isinstance(index, Tensor):
            index = index.data
        self.data[index] = value.data if isinstance(value, Tensor) else value
        self._bump_version()


# the ops build Tensors, so they are imported once the class exists
from minigrad import autograd as _autograd  # noqa: E402
from minigrad import grad_mode as _grad_mode  # noqa: E402
from minigrad import numpy_api as _numpy_api  # noqa: E402
from minigrad import op as _recording  # noqa: E402
from minigrad import ops as _ops  # noqa: E402
from minigrad.op import ShapeError  # noqa: E402
from minigrad.tracing import TracedArray, TraceError, read_error, refusing  # noqa: E402

_methods.ops, _methods.numpy_api = _ops, _numpy_api  # the methods' callees, now importable
