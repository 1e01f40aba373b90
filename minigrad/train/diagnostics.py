"""Diagnostics of the notes' problem, linear regression with MSE: what the closed forms say.

Gradient descent on a linear model's squared error is a quadratic problem, so the loss
Hessian tells in advance how slow training will be (its condition number) and which
learning rates are stable (2/λ_max, :func:`minigrad.formulas.max_stable_lr`). The trainer
asks this module for a warning before the run and for advice when a run diverged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import formulas, losses, optim
from minigrad.nn import Linear, Module

CONDITION_WARNING = 1e4
"""Warn when the features' Hessian condition number exceeds this (slow convergence)."""


def _sample_rows(X: Any, limit: int = 10_000) -> np.ndarray:
    step = max(1, len(X) // limit)
    return np.asarray(X[::step], dtype=np.float64)


def _warn_if_ill_conditioned(X: Any) -> None:
    """Gradient descent needs ~κ steps on a quadratic with condition number κ."""
    hessian = formulas.mse_hessian(_sample_rows(X))
    eig = np.linalg.eigvalsh(hessian)
    condition = eig[-1] / max(eig[0], eig[-1] * 1e-16)
    if condition > CONDITION_WARNING:
        warnings.warn(
            f"the features are badly conditioned (condition number {condition:.3g} of the "
            "loss Hessian): gradient descent will need very many updates. Standardize "
            "them first (minigrad.data.Standardizer, or `minigrad train --standardize`).",
            stacklevel=3,
        )


def _is_linear_mse(model: Module, loss_fn: Callable, opt: optim.Optimizer) -> bool:
    """The notes' problem, whose stable learning rates are known in closed form."""
    return (
        isinstance(model, Linear)
        and model.out_features == 1
        and loss_fn is losses.mse
        and isinstance(opt, optim.SGD)
    )


def divergence_advice(X: Any, batch_size: int | None) -> tuple[float, str]:
    """``(bound, advice)`` for a diverged linear-MSE run: the largest stable learning rate
    (2/λ_max of the loss Hessian) and the sentence that names it (and, for batches,
    the stricter bounds)."""
    bound = formulas.max_stable_lr(_sample_rows(X, limit=100_000))
    message = (
        f"; full-batch gradient descent on MSE is stable only for lr < {bound:.4g} "
        "(2/λ_max of the loss Hessian, minigrad.formulas.max_stable_lr)"
    )
    if batch_size == 1:
        per_example = formulas.max_stable_lr_per_example(X)
        message += (
            f", and with batch_size=1 every step is stable only for lr < "
            f"{per_example:.4g} (1/max‖(x, 1)‖², "
            "minigrad.formulas.max_stable_lr_per_example)"
        )
    elif batch_size is not None:
        message += f"; batches of {batch_size} need a smaller learning rate"
    return bound, message
