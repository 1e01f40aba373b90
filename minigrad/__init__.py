"""minigrad: a small, readable reverse-mode automatic-differentiation engine on NumPy."""

import builtins as _builtins

from minigrad import data, formulas, graph, linalg, losses, metrics, nn, ops, optim
from minigrad.creation import (
    arange,
    eye,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from minigrad.functional import grad, hessian, jacobian, value_and_grad
from minigrad.grad_mode import enable_grad, is_grad_enabled, no_grad
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.jit import jit
from minigrad.op import ShapeError
from minigrad.ops.registry import REGISTRY as _REGISTRY
from minigrad.random import initial_seed, manual_seed
from minigrad.tensor import Tensor
from minigrad.tracing import TracedArray as _TracedArray
from minigrad.tracing import refusing as _refusing
from minigrad.train import History, evaluate, fit

__version__ = "0.1.0"

# mg.NAME for every public op, as its definition registered it (minigrad.ops.registry);
# mg.linalg.NAME for the linear-algebra ones
globals().update({name: e.function for name, e in _REGISTRY.items() if not e.linalg})
cat = concatenate  # noqa: F821  PyTorch's name: mg.cat([a, b], dim=0)


def __getattr__(name: str):  # an op registered after import (your own): mg.NAME too
    entry = _REGISTRY.get(name)
    if entry is None or entry.linalg:
        raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
    return entry.function


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
    "cat",
    "data",
    "enable_grad",
    "evaluate",
    "eye",
    "fit",
    "formulas",
    "from_numpy",
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
    "linalg",
    "losses",
    "manual_seed",
    "metrics",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "rand",
    "randn",
    "random",
    "tensor",
    "value_and_grad",
    "zeros",
    "zeros_like",
]
# the ops, except those that would shadow a builtin in `from minigrad import *` (mg.sum)
__all__ += sorted(n for n, e in _REGISTRY.items() if not e.linalg and not hasattr(_builtins, n))
