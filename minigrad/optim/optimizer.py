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
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.op import ShapeError
from minigrad.tensor import Tensor


def _check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float | np.number) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: holds the parameters, their state, ``zero_grad()`` and ``step()``.

    A subclass passes its hyperparameters to ``__init__`` as keywords and checks them
    in ``_checked``; they become attributes (``opt.lr``, which a learning-rate
    scheduler changes) and are listed in ``defaults`` (their values at construction).
    There is one parameter group: ``state_dict()`` has PyTorch's layout with a single
    entry in ``param_groups``.
    """

    def __init__(self, params: Iterable[Tensor], **hyperparameters: Any) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__} optimizes tensors with requires_grad=True, "
                    f"got {type(p).__name__}"
                )
        unique = list(dict.fromkeys(self.params))  # tensors hash by identity
        if len(unique) < len(self.params):  # PyTorch warns too; stepping twice would be silent
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; each is "
                "kept once (and stepped once per step())",
                UserWarning,
                stacklevel=3,
            )
            self.params = unique
        self.defaults: dict[str, Any] = self._checked(hyperparameters)
        vars(self).update(self.defaults)
        self.state: dict[Tensor, dict[str, Any]] = {p: {} for p in self.params}

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        """The hyperparameters in ``h``, validated and converted (one path for __init__
        and load_state_dict)."""
        return {"lr": _check_positive("lr", h["lr"])}

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

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: the per-parameter state and the hyperparameters.

        PyTorch's layout: ``{"state": {index: {name: value}}, "param_groups": [{"lr": …,
        …, "params": [0, 1, …]}]}``, parameters numbered in the optimizer's order and only
        those that have state listed. Arrays are copies: later steps do not change it.
        """
        hyper = {name: getattr(self, name) for name in self.defaults}
        return {
            "state": {
                i: _copy_state(self.state[p]) for i, p in enumerate(self.params) if self.state[p]
            },
            "param_groups": [{**hyper, "params": list(range(len(self.params)))}],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (of an optimizer of the same kind over
        parameters of the same shapes): the next step is the one the saved optimizer
        would have taken. Values are copied in; a mismatch raises and changes nothing."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or state_dict.keys() != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict expects keys 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if len(groups) != 1:
            raise ValueError(f"{name} has one parameter group, the state has {len(groups)}")
        group = dict(groups[0])
        indices = group.pop("params", None)
        if indices != list(range(len(self.params))):
            raise ValueError(
                f"{name} has {len(self.params)} parameters, the state lists params={indices!r}"
            )
        if group.keys() != self.defaults.keys():
            raise ValueError(
                f"{name} has hyperparameters {sorted(self.defaults)}, the state has "
                f"{sorted(group)} (a state of another optimizer?)"
            )
        hyper = self._checked(group)
        state: dict[Tensor, dict[str, Any]] = {p: {} for p in self.params}
        for i, saved in state_dict["state"].items():
            if not (isinstance(i, int) and 0 <= i < len(self.params)):
                raise ValueError(f"{name}: the state names parameter {i!r}, which it lacks")
            p = self.params[i]
            for key, value in saved.items():
                if isinstance(value, np.ndarray | Tensor):
                    value = np.asarray(value.data if isinstance(value, Tensor) else value)
                    if value.shape != p.shape:
                        raise ShapeError(
                            f"{name}.load_state_dict: state {key!r} of parameter {i} has "
                            f"shape {value.shape}, the parameter has {p.shape}"
                        )
                    value = value.astype(p.dtype)  # a copy
                state[p][key] = value
        vars(self).update(hyper)
        self.state = state

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={getattr(self, k)}" for k in self.defaults)
        return f"{type(self).__name__}({options})"


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


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
        super().__init__(
            params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        momentum = _check_positive("momentum", h["momentum"], allow_zero=True)
        if h["nesterov"] and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        return {
            **super()._checked(h),
            "momentum": momentum,
            "nesterov": bool(h["nesterov"]),
            "weight_decay": _check_positive("weight_decay", h["weight_decay"], allow_zero=True),
        }

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = np.asarray(g + self.weight_decay * p.data)  # 0-d stays an array, not a scalar
        if self.momentum:
            v = state.get("momentum_buffer")
            v = np.array(g) if v is None else np.add(self.momentum * v, g, out=v)
            state["momentum_buffer"] = v
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
        super().__init__(params, lr=lr, alpha=alpha, eps=eps)

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        if not 0 <= h["alpha"] < 1:
            raise ValueError(f"alpha must be in [0, 1), got {h['alpha']!r}")
        return {
            **super()._checked(h),
            "alpha": float(h["alpha"]),
            "eps": _check_positive("eps", h["eps"]),
        }

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
        super().__init__(params, lr=lr, betas=betas, eps=eps)

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        betas = h["betas"]
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        return {
            **super()._checked(h),
            "betas": (float(betas[0]), float(betas[1])),
            "eps": _check_positive("eps", h["eps"]),
        }

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
