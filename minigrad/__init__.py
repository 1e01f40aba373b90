"""minigrad: a small, readable reverse-mode automatic-differentiation engine on NumPy."""

from minigrad.tensor import Tensor  # noqa: I001  (tensor first: the core modules import each other)
from minigrad.autograd import ShapeError, enable_grad, is_grad_enabled, no_grad
from minigrad.ops import (
    argmax,
    argmin,
    clip,
    concatenate,
    cos,
    einsum,
    flatten,
    log1p,
    log_sigmoid,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    sigmoid,
    sin,
    softmax,
    softplus,
    squeeze,
    stack,
    unsqueeze,
    where,
)
from minigrad.functional import grad, hessian, jacobian, value_and_grad
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.random import initial_seed, manual_seed
from minigrad.creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from minigrad import data, formulas, graph, losses, metrics, nn, optim
from minigrad.train import History, evaluate, fit
from minigrad.jit import jit
from minigrad.tracing import TracedArray as _TracedArray, refusing as _refusing

__version__ = "0.1.0"


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (see :class:`Tensor`)."""
    import numpy as np

    if isinstance(data, Tensor):
        data = data._value("mg.tensor(t)")  # refused inside a function mg.jit traces
    if _refusing() and isinstance(data, _TracedArray):  # an outside array, read live
        return Tensor(data, requires_grad=requires_grad, dtype=dtype)
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad)


__all__ = [
    "GradcheckError",
    "History",
    "ShapeError",
    "Tensor",
    "arange",
    "argmax",
    "argmin",
    "clip",
    "concatenate",
    "cos",
    "data",
    "einsum",
    "enable_grad",
    "evaluate",
    "eye",
    "fit",
    "flatten",
    "formulas",
    "full",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "hessian",
    "initial_seed",
    "is_grad_enabled",
    "jacobian",
    "jit",
    "log1p",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "losses",
    "manual_seed",
    "maximum",
    "metrics",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randn",
    "random",
    "sigmoid",
    "sin",
    "softmax",
    "softplus",
    "squeeze",
    "stack",
    "tensor",
    "unsqueeze",
    "value_and_grad",
    "where",
    "zeros",
    "zeros_like",
]
