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
    """Base class: parameter groups, their state, ``zero_grad()`` and ``step()``.

    ``params`` is an iterable of tensors, or of dicts (PyTorch's parameter groups), each
    with ``"params"`` and any hyperparameters that differ from the constructor's:
    ``SGD([{"params": body}, {"params": head, "lr": 0.1}], lr=0.01)``. Each group in
    ``param_groups`` is a dict holding its parameters and every hyperparameter; a
    learning-rate scheduler changes each group's ``"lr"``.

    A subclass passes its hyperparameters to ``__init__`` as keywords and checks them
    in ``_checked``; ``defaults`` lists them (their constructor values). ``opt.lr`` (and
    each other hyperparameter) reads the groups' common value and writing it sets every
    group's; with groups that differ, read ``opt.param_groups[i]["lr"]``.
    """

    def __init__(self, params: Iterable[Any], **hyperparameters: Any) -> None:
        object.__setattr__(self, "defaults", self._checked(hyperparameters))
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        if isinstance(params, Tensor | dict):  # list(t) would be its rows: views, never stepped
            raise TypeError(
                f"{type(self).__name__} expects an iterable of tensors or of parameter-group "
                f"dicts, got a {type(params).__name__}: wrap it in a list"
            )
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group: ``{"params": tensors, **hyperparameters}``; options it leaves out
        take the constructor's values (``defaults``)."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group is a dict with 'params', got {group!r}")
        unknown = group.keys() - self.defaults.keys() - {"params"}
        if unknown:
            raise ValueError(
                f"{name}: unknown option(s) {sorted(unknown)} in a parameter group; "
                f"{name} takes {sorted(self.defaults)}"
            )
        given = group["params"]
        params = [given] if isinstance(given, Tensor) else list(given)
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{name} optimizes tensors with requires_grad=True, got {type(p).__name__}"
                )
        unique = list(dict.fromkeys(params))  # tensors hash by identity
        if len(unique) < len(params):  # PyTorch warns too; stepping twice would be silent
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; each is "
                "kept once (and stepped once per step())",
                UserWarning,
                stacklevel=3,
            )
        if any(p in self.state for p in unique):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        options = self._checked({**self.defaults, **{k: group[k] for k in group if k != "params"}})
        self.param_groups.append({"params": unique, **options})
        self.state.update({p: {} for p in unique})

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, in group order."""
        return [p for group in self.param_groups for p in group["params"]]

    def __getattr__(self, name: str) -> Any:  # opt.lr: the groups' common value
        defaults = self.__dict__.get("defaults", {})
        if name not in defaults:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        values = [group[name] for group in self.__dict__["param_groups"]]
        if any(v != values[0] for v in values):
            raise AttributeError(
                f"{type(self).__name__}.{name}: the parameter groups differ ({values}); "
                f"read opt.param_groups[i][{name!r}]"
            )
        return values[0]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("defaults", {}):  # opt.lr = …: every group's
            for group in self.param_groups:
                group[name] = value
            return
        object.__setattr__(self, name, value)

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        """The hyperparameters in ``h``, validated and converted (one path for __init__,
        parameter groups and load_state_dict)."""
        return {"lr": _check_positive("lr", h["lr"])}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (call before each backward): ``None`` (the
        default, as in PyTorch), or zeros where a gradient exists with
        ``set_to_none=False``."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = Tensor(np.zeros_like(p.grad.data))

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient, with its group's
        hyperparameters.

        Updates are in place under ``no_grad`` (``p -= …``), keeping each Parameter object
        and any references to it; each one bumps the parameter's version counter, so a
        graph recorded before the step refuses to backpropagate with the new values.
        """
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, p.grad.data, self.state[p], group)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any], group: dict) -> None:
        raise NotImplementedError

    @staticmethod
    def _l2(p: Tensor, g: np.ndarray, group: dict) -> np.ndarray:
        """g + λ·p: weight decay λ in PyTorch's L2 form, the gradient of (λ/2)·‖p‖²
        (AdamW's decoupled form is its own)."""
        if not group["weight_decay"]:
            return g
        return np.asarray(g + group["weight_decay"] * p.data)  # 0-d stays an array

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: the per-parameter state and the groups.

        PyTorch's layout: ``{"state": {index: {name: value}}, "param_groups": [{"lr": …,
        …, "params": [0, 1, …]}, …]}``, parameters numbered across the groups in order
        and only those that have state listed. Arrays are copies: later steps do not
        change it.
        """
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            hyper = {k: group[k] for k in self.defaults}
            groups.append({**hyper, "params": list(range(start, start + n))})
            start += n
        params = self.params
        return {
            "state": {i: _copy_state(self.state[p]) for i, p in enumerate(params) if self.state[p]},
            "param_groups": groups,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (of an optimizer of the same kind over
        groups of parameters of the same shapes): the next step is the one the saved
        optimizer would have taken. Values are copied in; a mismatch raises and changes
        nothing."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or state_dict.keys() != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict expects keys 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        own = len(self.param_groups)
        if len(groups) != own:
            count = "one parameter group" if own == 1 else f"{own} parameter groups"
            raise ValueError(f"{name} has {count}, the state has {len(groups)}")
        hypers, start = [], 0
        for mine, saved in zip(self.param_groups, groups, strict=True):
            group = dict(saved)
            indices = group.pop("params", None)
            n = len(mine["params"])
            if indices != list(range(start, start + n)):
                where = f"{n} parameters" if own == 1 else f"{n} parameters in a group"
                raise ValueError(f"{name} has {where}, the state lists params={indices!r}")
            start += n
            if group.keys() != self.defaults.keys():
                raise ValueError(
                    f"{name} has hyperparameters {sorted(self.defaults)}, the state has "
                    f"{sorted(group)} (a state of another optimizer?)"
                )
            hypers.append(self._checked(group))
        params = self.params
        state: dict[Tensor, dict[str, Any]] = {p: {} for p in params}
        for i, saved in state_dict["state"].items():
            if not (isinstance(i, int) and 0 <= i < len(params)):
                raise ValueError(f"{name}: the state names parameter {i!r}, which it lacks")
            p = params[i]
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
        for mine, hyper in zip(self.param_groups, hypers, strict=True):
            mine.update(hyper)
        self.state = state

    def __repr__(self) -> str:
        if len(self.param_groups) == 1:
            options = ", ".join(f"{k}={self.param_groups[0][k]}" for k in self.defaults)
            return f"{type(self).__name__}({options})"
        groups = "; ".join(
            ", ".join(f"{k}={g[k]}" for k in self.defaults) for g in self.param_groups
        )
        return f"{type(self).__name__}({len(self.param_groups)} groups: {groups})"


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


class SGD(Optimizer):
    """Gradient descent: p ← p − lr·g, optionally with momentum, Nesterov, weight decay.

    With momentum μ (PyTorch's form): v ← μ·v + g, then p ← p − lr·v (Nesterov:
    p ← p − lr·(g + μ·v)). Weight decay λ adds λ·p to g first (L2 regularisation).
    """

    def __init__(
        self,
        params: Iterable[Any],
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

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any], group: dict) -> None:
        momentum = group["momentum"]
        g = self._l2(p, g, group)
        if momentum:
            v = state.get("momentum_buffer")
            v = np.array(g) if v is None else np.add(momentum * v, g, out=v)
            state["momentum_buffer"] = v
            g = g + momentum * v if group["nesterov"] else v
        p -= group["lr"] * g


class RMSprop(Optimizer):
    """Divide the step by a running RMS of the gradient (PyTorch's default form).

    s ← α·s + (1 − α)·g², p ← p − lr·g/(√s + ε). Each step's size is about lr
    whatever the gradient's scale, so a large lr makes the loss bounce rather than
    blow up. Weight decay λ adds λ·p to g first (L2 regularisation, as PyTorch's).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        if not 0 <= h["alpha"] < 1:
            raise ValueError(f"alpha must be in [0, 1), got {h['alpha']!r}")
        return {
            **super()._checked(h),
            "alpha": float(h["alpha"]),
            "eps": _check_positive("eps", h["eps"]),
            "weight_decay": _check_positive("weight_decay", h["weight_decay"], allow_zero=True),
        }

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any], group: dict) -> None:
        g = self._l2(p, g, group)
        alpha = group["alpha"]
        s = state.setdefault("square_avg", np.zeros_like(p.data))
        s *= alpha
        s += (1 - alpha) * g * g
        p -= group["lr"] * g / (np.sqrt(s) + group["eps"])


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, with bias correction.

    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
    p ← p − lr·m̂/(√v̂ + ε). ``weight_decay`` λ is PyTorch's L2 form: λ·p is added to g
    first (so it is scaled by Adam's per-coordinate step; :class:`AdamW` decouples it).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _checked(self, h: dict[str, Any]) -> dict[str, Any]:
        betas = h["betas"]
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        return {
            **super()._checked(h),
            "betas": (float(betas[0]), float(betas[1])),
            "eps": _check_positive("eps", h["eps"]),
            "weight_decay": _check_positive("weight_decay", h["weight_decay"], allow_zero=True),
        }

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any], group: dict) -> None:
        g = self._l2(p, g, group)
        self._adam(p, g, state, group)

    @staticmethod
    def _adam(p: Tensor, g: np.ndarray, state: dict[str, Any], group: dict) -> None:
        beta1, beta2 = group["betas"]
        t = state["step"] = state.get("step", 0) + 1
        m = state.setdefault("exp_avg", np.zeros_like(p.data))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p.data))
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p -= group["lr"] * m_hat / (np.sqrt(v_hat) + group["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's ``AdamW``):
    p ← p·(1 − lr·λ) first, then Adam's step on the plain gradient. The default
    ``weight_decay`` is PyTorch's, 0.01.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, p: Tensor, g: np.ndarray, state: dict[str, Any], group: dict) -> None:
        if group["weight_decay"]:
            p *= 1 - group["lr"] * group["weight_decay"]
        self._adam(p, g, state, group)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def get(name: str | type[Optimizer]) -> type[Optimizer]:
    """The optimizer class called ``name`` (``"sgd"``, ``"rmsprop"``, ``"adam"``,
    ``"adamw"``)."""
    if isinstance(name, type) and issubclass(name, Optimizer):
        return name
    try:
        return OPTIMIZERS[str(name).lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(sorted(OPTIMIZERS))}"
        ) from None
