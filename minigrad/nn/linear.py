"""Linear layers: ``Linear`` (PyTorch's) and ``LinearRegression`` (the notes' model).

``Linear`` starts from PyTorch's default initialisation, W and b ~ U(−1/√in, 1/√in):
different hidden units start different, which is what lets a network learn (from
W = 0 every hidden unit of an MLP gets the same gradient and stays the same).
``LinearRegression`` starts from w = 0, b = 0, as the notes' gradient descent does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import ops, random
from minigrad.creation import as_dtype
from minigrad.grad_mode import no_grad
from minigrad.nn.module import Module, Parameter
from minigrad.op import ShapeError
from minigrad.tensor import Tensor

Init = str | Callable[[tuple[int, ...], np.random.Generator], Any]
Values = tuple[np.ndarray, np.ndarray]


def _uniform(shape: tuple[int, int], rng: np.random.Generator) -> Values:
    """PyTorch's default (kaiming_uniform_ with a = √5, and its bias rule): both ±1/√in."""
    bound = 1.0 / np.sqrt(shape[1])
    weight = rng.uniform(-bound, bound, shape)  # W first, then b, from the same generator
    return weight, rng.uniform(-bound, bound, shape[0])


def _normal(shape: tuple[int, int], rng: np.random.Generator) -> Values:
    """LeCun normal: Var(W) = 1/in, so Var(x·Wᵀ) ≈ Var(x); b = 0."""
    return rng.normal(0.0, shape[1] ** -0.5, shape), np.zeros(shape[0])


def _zeros(shape: tuple[int, int], rng: np.random.Generator) -> Values:
    return np.zeros(shape), np.zeros(shape[0])


INITS: dict[str, Callable[[tuple[int, int], np.random.Generator], Values]] = {
    "uniform": _uniform,
    "normal": _normal,
    "zeros": _zeros,
}


def _initial_values(
    layer: str, init: Init, shape: tuple[int, int], rng: np.random.Generator
) -> Values:
    """(W, b) in float64 for a named rule, or W from the callable ``init`` and b = 0."""
    if isinstance(init, str) and init in INITS:
        return INITS[init](shape, rng)
    if isinstance(init, str) or not callable(init):
        raise ValueError(
            f"{layer}: init must be 'uniform', 'normal', 'zeros' or a callable "
            f"(shape, rng) -> array, got {init!r}"
        )
    weight = np.asarray(init(shape, rng), dtype=np.float64)
    if weight.shape != shape:
        raise ShapeError(f"{layer}: init returned shape {weight.shape}, expected {shape}")
    if not np.all(np.isfinite(weight)):
        raise ValueError(f"{layer}: init returned non-finite values")
    return weight, np.zeros(shape[0])


class Linear(Module):
    """y = x·Wᵀ + b with W of shape (out_features, in_features), as in PyTorch.

    ``init`` chooses the starting values:

    - ``"uniform"`` (default, PyTorch's): W and b ~ U(−1/√in_features, 1/√in_features);
    - ``"normal"``: W ~ N(0, 1/in_features), b = 0;
    - ``"zeros"``: W = 0, b = 0 (an MLP started so cannot break its symmetry);
    - a callable ``init(shape, rng)`` returning W's values; b = 0.

    Draws come from ``rng`` (a ``np.random.Generator``), else a generator started from
    ``seed``, else the default one (see :func:`minigrad.manual_seed`). Parameters are
    float64 unless ``dtype`` asks for float32 (values drawn in float64, then rounded).

    >>> import minigrad as mg
    >>> layer = mg.nn.Linear(2, 3, seed=0)
    >>> layer(mg.ones(4, 2)).shape
    (4, 3)
    >>> bool((abs(layer.weight.numpy()) <= 2**-0.5).all())   # |W| ≤ 1/√in
    True
    """

    def __init__(
        self,
        in_features: int,
        out_features: int = 1,
        bias: bool = True,
        init: Init = "uniform",
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: Any = None,
    ) -> None:
        name = type(self).__name__
        for arg, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dt = as_dtype(name, dtype, floating=True)
        shape = (self.out_features, self.in_features)
        weight, b = _initial_values(name, init, shape, random.generator(seed, rng))
        self.weight = Parameter(weight.astype(dt))
        self.bias = Parameter(b.astype(dt)) if bias else None

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(
                f"{type(self).__name__} expects inputs with {self.in_features} features "
                f"(last axis), got shape {x.shape}"
            )
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class LinearRegression(Linear):
    """The notes' model ŷ = Xw + b: one output, so predictions have shape (N,).

    ``weight`` is w with shape (n_features,) and ``bias`` is b with shape (); ``w`` and
    ``b`` return them as a plain array and float. It starts from w = 0, b = 0; any other
    ``init`` gives the values ``Linear(n_features, 1)`` would get from the same seed.

    >>> import minigrad as mg
    >>> model = mg.nn.LinearRegression(1)         # ŷ = w·x + b, starting from w = 0, b = 0
    >>> model(mg.tensor([[2.0], [3.0]])).tolist()
    [0.0, 0.0]
    """

    def __init__(
        self,
        n_features: int,
        init: Init = "zeros",
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(n_features, 1, bias=True, init=init, seed=seed, rng=rng, dtype=dtype)
        self.weight = Parameter(self.weight.data[0])
        self.bias = Parameter(self.bias.data[0])

    def predict(self, X: Any) -> np.ndarray:
        """Predictions as an ndarray, without recording a graph."""
        with no_grad():
            return self.forward(X).numpy()

    @property
    def w(self) -> np.ndarray:
        """The learned weights as a (n_features,) array."""
        return self.weight.data.copy()

    @property
    def b(self) -> float:
        """The learned bias."""
        return float(self.bias.data)

    def extra_repr(self) -> str:
        return f"n_features={self.in_features}"
