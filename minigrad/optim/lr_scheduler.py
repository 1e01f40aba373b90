"""Learning-rate schedules with PyTorch's names and semantics (``torch.optim.lr_scheduler``).

A scheduler changes the learning rate of each of the optimizer's parameter groups
(``optimizer.lr`` when there is one) each time its ``step()`` is called, usually once
per epoch, after ``optimizer.step()``. Like PyTorch's, the rules are chainable: each
step computes a group's new rate from its current one (so a change made by hand is
carried forward), and reproduces PyTorch's float arithmetic step for step.
:class:`ReduceLROnPlateau` instead steps on a measured loss: ``sched.step(val_loss)``.

>>> import minigrad as mg
>>> opt = mg.optim.SGD([mg.nn.Parameter([0.0])], lr=1.0)
>>> sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     rates.append(opt.lr)      # train one epoch with this rate, then:
...     sched.step()
>>> rates
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer


def _check(name: str, value: Any, kind: str) -> Any:
    """``kind``: "count" (an int ≥ 1), "positive" (finite > 0) or "nonneg" (finite ≥ 0)."""
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an integer ≥ 1, got {value!r}")
        return int(value)
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0 or (kind == "positive" and value == 0):
        bound = "> 0" if kind == "positive" else "≥ 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets each parameter group's
    ``"lr"`` to its entry of ``get_lr()``.

    ``base_lrs`` holds the groups' rates when the scheduler was made; ``get_last_lr()``
    the rates it set last (one per group). Subclasses define ``_rate(lr, base_lr)``, a
    group's rate for the new ``last_epoch`` from its current one.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} schedules a minigrad Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._is_initial = True  # the constructor's step keeps the rate (PyTorch's)
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The groups' rates for ``last_epoch`` (called by ``step``; to read them, use
        get_last_lr)."""
        groups = self.optimizer.param_groups
        return [self._rate(g["lr"], base) for g, base in zip(groups, self.base_lrs, strict=True)]

    def _rate(self, lr: float, base_lr: float) -> float:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates this scheduler set last, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set each group's learning rate for it."""
        self.last_epoch += 1
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"{type(self).__name__} was made for {len(self.base_lrs)} parameter group(s); "
                f"the optimizer now has {len(groups)}"
            )
        for group, lr in zip(groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (which has its own state_dict), as copies."""
        return {k: _copy(v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned from a scheduler of the same kind."""
        own = self.state_dict()
        if state_dict.keys() != own.keys():
            raise ValueError(
                f"{type(self).__name__}.load_state_dict expects keys {sorted(own)}, "
                f"got {sorted(state_dict)}"
            )
        vars(self).update({k: _copy(v) for k, v in state_dict.items()})


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    With base rate η₀ the rate in epoch t is η₀·gamma^⌊t / step_size⌋.

    >>> import minigrad as mg
    >>> opt = mg.optim.SGD([mg.nn.Parameter([0.0])], lr=0.1)
    >>> sched = mg.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    >>> for _ in range(30):
    ...     sched.step()
    >>> round(opt.lr, 12)
    0.01
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _check("step_size", step_size, "count")
        self.gamma = _check("gamma", gamma, "positive")
        super().__init__(optimizer)

    def _rate(self, lr: float, base_lr: float) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lr
        return lr * self.gamma


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: η₀·gammaᵗ in epoch t.

    >>> import minigrad as mg
    >>> opt = mg.optim.SGD([mg.nn.Parameter([0.0])], lr=1.0)
    >>> sched = mg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step(); opt.lr
    0.25
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _check("gamma", gamma, "positive")
        super().__init__(optimizer)

    def _rate(self, lr: float, base_lr: float) -> float:
        return lr if self._is_initial else lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """Anneal the rate from η₀ to ``eta_min`` along half a cosine over ``T_max`` epochs:
    η_t = η_min + (η₀ − η_min)·(1 + cos(π·t/T_max))/2.

    As in PyTorch, the rate is updated recursively (η_t from η_{t−1}, so changes made by
    hand carry forward) and, past ``T_max``, keeps following the cosine back up (period
    2·T_max; no restarts).

    >>> import minigrad as mg
    >>> opt = mg.optim.SGD([mg.nn.Parameter([0.0])], lr=1.0)
    >>> sched = mg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> for _ in range(2):
    ...     sched.step()
    >>> round(opt.lr, 12)       # halfway: (1 + cos(π/2))/2
    0.5
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _check("T_max", T_max, "count")
        self.eta_min = _check("eta_min", eta_min, "nonneg")
        super().__init__(optimizer)

    def _rate(self, lr: float, base_lr: float) -> float:
        t, T = self.last_epoch, self.T_max
        if self._is_initial:
            return lr
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum, where the ratio below is 0/0
            return lr + (base_lr - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return ratio * (lr - self.eta_min) + self.eta_min


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's rate by ``factor`` when a measured quantity (a validation
    loss) has stopped improving for ``patience`` epochs: ``sched.step(val_loss)``
    (PyTorch's ``ReduceLROnPlateau``, the same rules).

    ``mode="min"`` (lower is better) or ``"max"``; an epoch improves on the best when it
    beats it by more than ``threshold``, relative (``threshold_mode="rel"``: best·(1 ∓
    threshold)) or absolute (``"abs"``: best ∓ threshold). After a reduction, ``cooldown``
    epochs pass before bad epochs count again. Rates never go below ``min_lr`` (a number,
    or one per group), and a reduction smaller than ``eps`` is skipped.

    >>> import minigrad as mg
    >>> opt = mg.optim.SGD([mg.nn.Parameter([0.0])], lr=1.0)
    >>> sched = mg.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for val_loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]:
    ...     sched.step(val_loss)
    >>> opt.lr                  # 2 bad epochs: halved; 2 more: halved again
    0.25
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"ReduceLROnPlateau schedules a minigrad Optimizer, got {type(optimizer).__name__}"
            )
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        if not (isinstance(factor, int | float) and 0 <= factor < 1):
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        n_groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, list | tuple) else [min_lr] * n_groups
        if len(min_lrs) != n_groups:
            raise ValueError(
                f"ReduceLROnPlateau: {len(min_lrs)} min_lr values for {n_groups} parameter groups"
            )
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = float(factor)
        self.patience = _check("patience", patience, "nonneg")
        self.threshold = _check("threshold", threshold, "nonneg")
        self.cooldown = _check("cooldown", cooldown, "nonneg")
        self.min_lrs = [_check("min_lr", m, "nonneg") for m in min_lrs]
        self.eps = _check("eps", eps, "nonneg")
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self._last_lr = list(self.base_lrs)

    def _is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.threshold_mode == "rel":
            scale = 1 - threshold if self.mode == "min" else threshold + 1
            return value < best * scale if self.mode == "min" else value > best * scale
        return value < best - threshold if self.mode == "min" else value > best + threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record this epoch's measured quantity and reduce the rates if it has not
        improved for more than ``patience`` epochs."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(
                f"ReduceLROnPlateau.step expects the measured quantity (a number, e.g. the "
                f"validation loss), got {metrics!r}"
            ) from None
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
