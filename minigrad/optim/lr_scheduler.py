"""Learning-rate schedules with PyTorch's names and semantics (``torch.optim.lr_scheduler``).

A scheduler changes ``optimizer.lr`` each time its ``step()`` is called, usually once per
epoch, after ``optimizer.step()``. Like PyTorch's, the rules are chainable: each step
computes the new rate from the current ``optimizer.lr`` (so a change made by hand is
carried forward), and reproduces PyTorch's float arithmetic step for step.

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
    """Base class: ``step()`` advances ``last_epoch`` and sets ``optimizer.lr = get_lr()[0]``.

    ``base_lrs`` holds the optimizer's rate when the scheduler was made; ``get_last_lr()``
    the rate it set last (lists of one entry, as minigrad optimizers have one parameter
    group). Subclasses define ``get_lr()``, the rate for the new ``last_epoch``.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} schedules a minigrad Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lrs: list[float] = [optimizer.lr]
        self.last_epoch = -1
        self._is_initial = True  # the constructor's step keeps the rate (PyTorch's)
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rate for ``last_epoch`` (called by ``step``; to read it, use get_last_lr)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rate this scheduler set last, as a one-entry list."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()[0]
        self._last_lr = [self.optimizer.lr]

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

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [self.optimizer.lr]
        return [self.optimizer.lr * self.gamma]


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

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [self.optimizer.lr]
        return [self.optimizer.lr * self.gamma]


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

    def get_lr(self) -> list[float]:
        lr, t, T = self.optimizer.lr, self.last_epoch, self.T_max
        if self._is_initial:
            return [lr]
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum, where the ratio below is 0/0
            return [lr + (self.base_lrs[0] - self.eta_min) * (1 - math.cos(math.pi / T)) / 2]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - self.eta_min) + self.eta_min]
