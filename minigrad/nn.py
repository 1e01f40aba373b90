"""Modules: models as objects that own their parameters (PyTorch's ``torch.nn`` habits).

>>> import minigrad as mg
>>> model = mg.nn.LinearRegression(1)         # ŷ = w·x + b, starting from w = 0, b = 0
>>> model(mg.tensor([[2.0], [3.0]])).tolist()
[0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.autograd import ShapeError, no_grad
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a Module registers as trainable (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        data = np.array(data.data if isinstance(data, Tensor) else data)  # an own copy
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
        super().__init__(data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__().removeprefix("tensor(")


class Module:
    """Base class of models: holds Parameters and sub-Modules as attributes.

    Subclasses define ``forward``; calling the module calls it. Parameters are found
    by walking attributes in the order they were assigned, so ``parameters()`` has a
    stable order (which optimizers and ``state_dict`` rely on).
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs of this module and its sub-modules."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        """Every parameter, sub-modules included (each once)."""
        seen: dict[int, Parameter] = {}
        for _, p in self.named_parameters():
            seen.setdefault(id(p), p)
        return list(seen.values())

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for p in self.parameters():
            p.grad = None

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters' values by name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set parameters from ``state`` (names and shapes must match exactly)."""
        own = dict(self.named_parameters())
        missing, unexpected = own.keys() - state.keys(), state.keys() - own.keys()
        if missing or unexpected:
            raise KeyError(
                f"state_dict mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ShapeError(
                    f"load_state_dict: {name} has shape {p.shape}, the state has {value.shape}"
                )
            p.data = value.astype(p.dtype, copy=True)

    def save(self, path: str | Path) -> None:
        """Write the parameters to a ``.npz`` file (plain arrays: no pickle)."""
        np.savez(path, **self.state_dict())

    def load(self, path: str | Path) -> None:
        """Read parameters written by :meth:`save` (refusing pickled objects)."""
        with np.load(path, allow_pickle=False) as archive:
            self.load_state_dict({name: archive[name] for name in archive.files})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()})"]
        for name, value in vars(self).items():
            if isinstance(value, Module):
                lines.append(f"  ({name}): " + repr(value).replace("\n", "\n  "))
        return "\n".join(lines)

    def extra_repr(self) -> str:
        return ""


class Linear(Module):
    """y = x·Wᵀ + b with W of shape (out_features, in_features), as in PyTorch.

    ``init="zeros"`` (the default) starts from W = 0, b = 0, as the notes' gradient
    descent does; ``init="normal"`` draws W from N(0, 1/in_features) with ``seed``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int = 1,
        bias: bool = True,
        init: str = "zeros",
        seed: int | None = None,
    ) -> None:
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        shape = (self.out_features, self.in_features)
        if init == "zeros":
            weight = np.zeros(shape)
        elif init == "normal":
            weight = np.random.default_rng(seed).normal(0.0, in_features**-0.5, shape)
        else:
            raise ValueError(f"Linear: init must be 'zeros' or 'normal', got {init!r}")
        self.weight = Parameter(weight)
        self.bias = Parameter(np.zeros(self.out_features)) if bias else None

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
    ``b`` return them as a plain array and float.
    """

    def __init__(self, n_features: int, init: str = "zeros", seed: int | None = None) -> None:
        super().__init__(n_features, 1, bias=True, init=init, seed=seed)
        self.weight = Parameter(self.weight.data[0])
        self.bias = Parameter(np.float64(0.0))

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
