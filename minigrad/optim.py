"""Optimizers: how parameters move given their gradients (PyTorch's update rules).

Each step updates every parameter in place (under ``no_grad``), so the model keeps the
same Parameter objects. Per-parameter state (momentum buffers, running averages) lives in
``optimizer.state``, keyed by parameter.

>>> import minigrad as mg
>>> w = mg.nn.Parameter([1.0])
>>> opt = mg.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()     # ∂(w²)/∂w = 2w = 2
>>> opt.step(); w.item()         # w − 0.1·2
0.8
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.autograd import no_grad
from minigrad.tensor import Tensor


def _check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float | np.number) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: holds the parameters, their state, ``zero_grad()`` and ``step()``."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__} optimizes tensors with requires_grad=True, "
                    f"got {type(p).__name__}"
                )
        self.lr = _check_positive("lr", lr)
        self.state: dict[Tensor, dict[str, Any]] = {p: {} for p in self.params}

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (call before each backward)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient.

        Updates are in place under ``no_grad`` (``p -= …``), keeping each Parameter object
        and any references to it; each one bumps the parameter's version counter, so a
        graph recorded before the step refuses to backpropagate with the new values.
        """
        with no_grad():
            for p in self.params:
                if p.grad is not None:
                    self._update(p, p.grad.data, self.state[p])

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        options = ", ".join(
            f"{k}={v}" for k, v in vars(self).items() if k not in ("params", "state")
        )
        return f"{type(self).__name__}({options})"


class SGD(Optimizer):
    """Gradient descent: p ← p − lr·g, optionally with momentum, Nesterov, weight decay.

    With momentum μ (PyTorch's form): v ← μ·v + g, then p ← p − lr·v (Nesterov:
    p ← p − lr·(g + μ·v)). Weight decay λ adds λ·p to g first (L2 regularisation).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_positive("momentum", momentum, allow_zero=True)
        self.weight_decay = _check_positive("weight_decay", weight_decay, allow_zero=True)
        if nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.nesterov = nesterov

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = np.asarray(g + self.weight_decay * p.data)  # 0-d stays an array, not a scalar
        if self.momentum:
            v = state.get("velocity")
            v = np.array(g) if v is None else np.add(self.momentum * v, g, out=v)
            state["velocity"] = v
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


class RMSprop(Optimizer):
    """Divide the step by a running RMS of the gradient (PyTorch's default form).

    s ← α·s + (1 − α)·g², p ← p − lr·g/(√s + ε). Each step's size is about lr
    whatever the gradient's scale, so a large lr makes the loss bounce rather than
    blow up.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
        self.alpha = float(alpha)
        self.eps = _check_positive("eps", eps)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        s = state.setdefault("square_avg", np.zeros_like(p.data))
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, with bias correction.

    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
    p ← p − lr·m̂/(√v̂ + ε).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = _check_positive("eps", eps)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        m = state.setdefault("exp_avg", np.zeros_like(p.data))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p.data))
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def get(name: str | type[Optimizer]) -> type[Optimizer]:
    """The optimizer class called ``name`` (``"sgd"``, ``"rmsprop"``, ``"adam"``)."""
    if isinstance(name, type) and issubclass(name, Optimizer):
        return name
    try:
        return OPTIMIZERS[str(name).lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(sorted(OPTIMIZERS))}"
        ) from None
