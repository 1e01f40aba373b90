"""More activations with PyTorch's names and formulas: LeakyReLU, GELU, SiLU, Softplus, ELU.

Each is written with ops, so gradients (and gradients of gradients) come from the ops'
rules; at a kink the gradient is PyTorch's (LeakyReLU and ELU take the negative side's
slope at 0).

>>> import minigrad as mg
>>> mg.nn.LeakyReLU(0.1)(mg.tensor([-2.0, 3.0])).tolist()
[-0.2, 3.0]
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import ops
from minigrad.nn.module import Module
from minigrad.tensor import Tensor, as_tensor


def _number(layer: str, name: str, value: Any, positive: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (positive and value <= 0):
        kind = "a positive number" if positive else "a finite number"
        raise ValueError(f"{layer}: {name} must be {kind}, got {value!r}")
    return float(value)


class LeakyReLU(Module):
    """x where x > 0, negative_slope·x elsewhere (PyTorch's ``nn.LeakyReLU``).

    >>> import minigrad as mg
    >>> mg.nn.LeakyReLU()(mg.tensor([-1.0])).tolist()
    [-0.01]
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return ops.where(x > 0, x, x * self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


SQRT_HALF = math.sqrt(0.5)
SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)


class GELU(Module):
    """x·Φ(x) = ½x·(1 + erf(x/√2)), the exact form (PyTorch's ``nn.GELU()``); with
    ``approximate="tanh"``, ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))).

    >>> import minigrad as mg
    >>> round(mg.nn.GELU()(mg.tensor([1.0])).item(), 6)
    0.841345
    """

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if self.approximate == "tanh":
            inner = (x + 0.044715 * (x * x * x)) * SQRT_TWO_OVER_PI
            return 0.5 * x * (1 + inner.tanh())
        return 0.5 * x * (1 + ops.erf(x * SQRT_HALF))

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·σ(x), also called swish (PyTorch's ``nn.SiLU``).

    >>> import minigrad as mg
    >>> mg.nn.SiLU()(mg.tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return x * x.sigmoid()


class Softplus(Module):
    """ln(1 + e^(βx))/β, and x itself where βx > threshold (PyTorch's ``nn.Softplus``).

    >>> import minigrad as mg
    >>> round(mg.nn.Softplus()(mg.tensor([0.0])).item(), 6)   # ln 2
    0.693147
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta = _number("Softplus", "beta", beta, positive=True)
        self.threshold = _number("Softplus", "threshold", threshold)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        bx = x * self.beta
        return ops.where(bx > self.threshold, x, ops.softplus(bx) / self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """x where x > 0, α·(eˣ − 1) elsewhere (PyTorch's ``nn.ELU``).

    >>> import minigrad as mg
    >>> round(mg.nn.ELU()(mg.tensor([-1.0])).item(), 6)       # e⁻¹ − 1
    -0.632121
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _number("ELU", "alpha", alpha)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        # expm1 of min(x, 0): the branch not taken never overflows (its 0 · inf would
        # be a nan gradient); clip passes the gradient at x = 0, PyTorch's slope α there
        return ops.where(x > 0, x, ops.expm1(x.clip(None, 0.0)) * self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
