"""Function transforms: grad, value_and_grad, jacobian, hessian (JAX-style, and nestable).

``grad(f)`` is a new function that returns ∂f/∂x instead of f(x). It never touches any
tensor's ``.grad``. Transforms compose as in JAX and torch.func: whenever grad mode is on,
what a transform returns is differentiable with respect to everything it depends on — its
arguments, tensors f closes over, outer transforms' arguments. Then (and only then) the
inner backward pass is recorded (``create_graph``), so ``grad(grad(f))``,
``hessian = jacobian(grad(f))`` and gradient penalties work through the same rules.

>>> import minigrad as mg
>>> mg.grad(lambda x: x ** 3)(2.0).item()         # 3x² at x = 2
12.0
>>> mg.grad(mg.grad(lambda x: x ** 3))(2.0).item()  # 6x at x = 2
12.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, ops
from minigrad.autograd import toposort
from minigrad.grad_mode import enable_grad, is_grad_enabled
from minigrad.op import is_tracing
from minigrad.tensor import Tensor
from minigrad.tracing import constant

ArgNums = int | Sequence[int]


def _argnums(argnums: ArgNums, n_args: int) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int | np.integer)
    nums = (int(argnums),) if single else tuple(int(a) for a in argnums)  # type: ignore[union-attr]
    for a in nums:
        if not -n_args <= a < n_args:
            raise ValueError(f"argnums {a} is out of range for a function of {n_args} arguments")
    return tuple(a % n_args for a in nums), single


def _track(x: Any) -> Tensor:
    """A fresh tensor standing for argument ``x`` that we differentiate with respect to.

    For a Tensor the stand-in is an op on it (x·1, after a cast to float64 if needed),
    never a copy of ``x.data``: if ``x`` is part of an outer transform's graph, that
    transform still sees the dependence on ``x``, and under ``mg.jit`` the stand-in is
    recomputed from ``x`` at every call instead of frozen at the traced value. x·1 (not
    x + 0) keeps −0.0.
    """
    if isinstance(x, bool | int | float) and not isinstance(x, np.generic):
        number = ops.to_float64(x)  # an op on it when mg.jit traces x as an input
        if isinstance(number, Tensor):
            return number.requires_grad_()
        return Tensor(number, requires_grad=True)
    if np.iscomplexobj(x.data if isinstance(x, Tensor) else x):
        raise TypeError(
            f"cannot differentiate with respect to a complex argument ({x!r}): minigrad's "
            "gradients are real (split it into real and imaginary parts)"
        )
    if isinstance(x, Tensor):
        start = x if x.dtype.kind == "f" else ops.astype(x, np.float64)
        t = start * 1
        return t if t.requires_grad else t.requires_grad_()
    data = np.asarray(x)
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    return Tensor(data, requires_grad=True)


def _seed(v: np.ndarray) -> np.ndarray:
    """A cotangent the transform itself made: under mg.jit, a constant the compiler may
    fold (nobody else can change it)."""
    return constant(v) if is_tracing() else v


def _call(
    f: Callable[..., Any], args: tuple, nums: tuple[int, ...], keep_tuple: bool = False
) -> tuple[Any, list[Tensor]]:
    """Call f with a stand-in for each differentiated argument (each argument once, even
    if ``argnums`` names it twice); returns f's output and the stand-ins in nums' order."""
    stand_in = {i: _track(args[i]) for i in dict.fromkeys(nums)}
    new_args = list(args)
    for i, t in stand_in.items():
        new_args[i] = t
    with enable_grad():
        out = f(*new_args)
    tracked = [stand_in[i] for i in nums]
    if isinstance(out, Tensor) or (keep_tuple and isinstance(out, tuple)):
        return out, tracked
    return Tensor(out), tracked


def _composes(outs: Sequence[Any], tracked: Sequence[Tensor]) -> bool:
    """Whether the result must stay differentiable: grad mode is on and the outputs
    depend on a tensor that requires grad other than our own stand-ins (an outer
    transform's argument, a closed-over parameter, a non-differentiated argument).

    Then the backward is recorded (``create_graph``), as torch.func and JAX do, so that
    what we return is differentiable with respect to everything it depends on.
    """
    if not is_grad_enabled():
        return False
    own = set(tracked)
    return any(
        t._op is None and t not in own
        for out in outs
        if isinstance(out, Tensor) and out.requires_grad
        for t in toposort(out)
    )


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning ``(f(*args), ∂f/∂args[argnums])``; f must return a scalar.

    With a tuple ``argnums`` the gradient is a tuple, one entry per argument.
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Tensor, Any]:
        nums, single = _argnums(argnums, len(args))
        out, tracked = _call(f, args, nums)
        if out.size != 1:
            raise ValueError(
                f"grad needs a function with a scalar output, got shape {out.shape}; "
                "use jacobian() for vector outputs"
            )
        create = _composes([out], tracked)
        grads = autograd.grad(out, tracked, _seed(np.ones(out.shape, out.dtype)), create)
        value = out if create else out.detach()
        return value, grads[0] if single else tuple(grads)

    return wrapped


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning ∂f/∂args[argnums] for a scalar-valued ``f``.

    >>> import minigrad as mg
    >>> mg.grad(lambda w, b: (2 * w + b) ** 2, argnums=(0, 1))(1.0, 1.0)
    (tensor(12.), tensor(6.))
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def gradient(*args: Any) -> Any:
        return vg(*args)[1]

    return gradient


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning ∂f/∂x with shape ``f(x).shape + x.shape``.

    Built from one vector-Jacobian product per output element (reverse mode). With a
    tuple ``argnums`` the result is a tuple over arguments; if ``f`` returns a tuple, the
    result is a tuple over outputs (of those).
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        nums, single = _argnums(argnums, len(args))
        out, tracked = _call(f, args, nums, keep_tuple=True)
        create = _composes(out if isinstance(out, tuple) else [out], tracked)
        if isinstance(out, tuple):
            return tuple(_jacobians(o, tracked, single, create) for o in out)
        return _jacobians(out, tracked, single, create)

    return wrapped


def _jacobians(out: Any, tracked: list[Tensor], single: bool, create: bool) -> Any:
    out = out if isinstance(out, Tensor) else Tensor(out)
    rows = list(zip(*jacobian_rows(out, tracked, create, seed=_seed), strict=True))
    jacs = []
    for k, t in enumerate(tracked):
        shape = out.shape + t.shape
        # rows are stacked by an op, never by reading their data (a trace records it)
        jacs.append(ops.stack(rows[k]).reshape(shape) if rows else Tensor(np.zeros(shape)))
    return jacs[0] if single else tuple(jacs)


def jacobian_rows(
    out: Tensor,
    inputs: Sequence[Tensor],
    create_graph: bool = False,
    seed: Callable[[np.ndarray], Any] = lambda v: v,
) -> Iterator[tuple[Tensor, ...]]:
    """Row k of ∂out/∂input for each input: vᵀ·J for the k-th unit vector v of out's
    (flattened) shape, one backward pass per element of ``out`` (reverse mode)."""
    for k in range(out.size):
        v = np.zeros(out.size, dtype=out.dtype)
        v[k] = 1
        yield autograd.grad(out, inputs, seed(v.reshape(out.shape)), create_graph)


def hessian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """A function returning the matrix of second derivatives ∂²f/∂x², shape x.shape·2.

    ``hessian(f) = jacobian(grad(f))``. For a tuple ``argnums`` the result is a nested
    tuple of blocks: ``H[i][j] = ∂²f/∂args[i]∂args[j]``.
    """
    return jacobian(grad(f, argnums), argnums)
