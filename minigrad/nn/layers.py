"""Layers without parameters: activations, Softmax, Identity, Flatten and Dropout (PyTorch's).

>>> import minigrad as mg
>>> mg.nn.ReLU()(mg.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops, random
from minigrad.nn.module import Module
from minigrad.op import Op
from minigrad.tensor import Tensor, as_tensor


class ReLU(Module):
    """max(x, 0), elementwise (gradient 0 at x = 0).

    >>> import minigrad as mg
    >>> mg.nn.ReLU()(mg.tensor([-2.0, 0.5])).tolist()
    [0.0, 0.5]
    """

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).relu()


class Tanh(Module):
    """tanh(x), elementwise.

    >>> import minigrad as mg
    >>> mg.nn.Tanh()(mg.tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).tanh()


class Sigmoid(Module):
    """σ(x) = 1/(1 + e⁻ˣ), elementwise.

    >>> import minigrad as mg
    >>> mg.nn.Sigmoid()(mg.tensor([0.0])).tolist()
    [0.5]
    """

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).sigmoid()


class Softmax(Module):
    """softmax along ``axis``: e^xᵢ / Σⱼ e^xⱼ, positive and summing to 1 (PyTorch's
    ``nn.Softmax(dim)``). For a loss, prefer logits with :func:`~minigrad.losses.cross_entropy`.

    >>> import minigrad as mg
    >>> mg.nn.Softmax(axis=-1)(mg.tensor([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, axis: int = -1) -> None:
        _check_axis("Softmax", axis)
        self.axis = int(axis)

    def forward(self, x: Any) -> Tensor:
        return ops.softmax(as_tensor(x), self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """ln softmax along ``axis`` (PyTorch's ``nn.LogSoftmax``): finite for any logits.

    >>> import minigrad as mg
    >>> round(mg.nn.LogSoftmax()(mg.tensor([1000.0, 0.0])).tolist()[1], 3)
    -1000.0
    """

    def forward(self, x: Any) -> Tensor:
        return ops.log_softmax(as_tensor(x), self.axis)


def _check_axis(name: str, axis: Any) -> None:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}")


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored (as in PyTorch).

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0]); mg.nn.Identity(54, unused="x")(x) is x
    True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merge the axes ``start_dim`` … ``end_dim`` into one; by default all but the first.

    (N, C, H, W) becomes (N, C·H·W), PyTorch's ``nn.Flatten(start_dim=1, end_dim=-1)``.
    A 0-d input counts as one axis of length 1.

    >>> import minigrad as mg
    >>> mg.nn.Flatten()(mg.zeros(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
                raise TypeError(f"Flatten: {name} must be an integer, got {dim!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Tensor:
        return ops.flatten(as_tensor(x), self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def _mask(x: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """0 with probability p, else 1/(1 − p): each element kept with probability 1 − p."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return ((rng.random(x.shape) >= p) * scale).astype(dtype)


# a random op (without a gradient): a jitted function draws a new mask on every call
_dropout_mask = Op("dropout_mask", _mask, (None, None, None), saves=(), random=True)


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1 − p);
    in evaluation (after ``.eval()``), pass the input through unchanged.

    This is PyTorch's inverted dropout: the expected output equals the input in both
    modes, so nothing needs rescaling at evaluation. Masks are drawn from ``rng``, else
    a generator started from ``seed`` (kept, so successive calls differ but a rerun
    repeats), else the default generator (:func:`minigrad.manual_seed`).

    >>> import minigrad as mg
    >>> drop = mg.nn.Dropout(0.5, seed=0)
    >>> sorted(set(drop(mg.ones(100)).tolist()))       # dropped, or kept and doubled
    [0.0, 2.0]
    >>> drop.eval()(mg.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(
        self, p: float = 0.5, seed: int | None = None, rng: np.random.Generator | None = None
    ) -> None:
        ok = isinstance(p, int | float | np.number) and not isinstance(p, bool)
        if not ok or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self._rng = random.generator(seed, rng)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if not self.training or self.p == 0:
            return x
        return x * _dropout_mask(x, self.p, self._rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
