"""Initialisers with PyTorch's names, formulas and fan computations (``torch.nn.init``).

Each fills a tensor in place (under ``no_grad``, so a Parameter stays the same object)
and returns it. Random draws come from ``generator`` (a ``np.random.Generator``), else
minigrad's default generator (:func:`minigrad.manual_seed`); the distributions are
PyTorch's, the random streams are NumPy's.

For a weight of shape (out, in, *k) the fans are fan_in = in·∏k and fan_out = out·∏k
(:func:`calculate_fan_in_and_fan_out`); the gains are :func:`calculate_gain`'s.

>>> import minigrad as mg
>>> layer = mg.nn.Linear(4, 3)
>>> w = mg.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
>>> w is layer.weight, bool((abs(w.numpy()) <= (6 / 4) ** 0.5).all())   # bound √(6/fan_in)
(True, True)
>>> mg.nn.init.zeros_(layer.bias).tolist()
[0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import random
from minigrad.grad_mode import no_grad
from minigrad.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table): 1 for linear,
    sigmoid and the convolutions, 5/3 for tanh, √2 for relu, √(2/(1 + slope²)) for
    leaky_relu (slope ``param``, default 0.01), 3/4 for selu.

    >>> round(calculate_gain("relu"), 6)
    1.414214
    """
    linear = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"}
    linear |= {f"conv_transpose{d}d" for d in (1, 2, 3)}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): (in·∏kernel,
    out·∏kernel). Needs at least two dimensions, as PyTorch's does."""
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor: Tensor, values: Any) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init fills a Tensor in place, got {type(tensor).__name__}")
    with no_grad():
        tensor[...] = np.asarray(values).astype(tensor.dtype, copy=False)
    return tensor


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return random.generator(rng=generator)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(tensor, 1.0)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, val)


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with draws from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: expects a ≤ b, got a={a!r}, b={b!r}")
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with draws from N(mean, std²)."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be ≥ 0, got {std!r}")
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot's uniform: U(−a, a) with a = gain·√(6/(fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot's normal: N(0, std²) with std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"kaiming init: a tensor of shape {tensor.shape} has {mode} 0")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He's uniform: U(−bound, bound) with bound = gain·√(3/fan), gain =
    calculate_gain(nonlinearity, a) and fan the ``mode`` fan (PyTorch's defaults:
    leaky_relu with a = 0, fan_in)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He's normal: N(0, std²) with std = gain/√fan (see :func:`kaiming_uniform_`)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
