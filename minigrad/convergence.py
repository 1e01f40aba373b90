"""When training has converged: the parameters are near the optimum, not just the loss flat.

A flat loss is not enough. On badly conditioned features gradient descent creeps along
the floor of a long, narrow valley: the loss changes by less than one part in 10⁹ per
epoch while the parameters are still far from the optimum (the Crash Course's seven
cars at lr 0.06 stop 2.6e-3 short in the bias that way). So the rule looks at how far
the parameters still have to go.

If every epoch shrinks the distance to the optimum θ* by a factor ρ < 1 — gradient
descent on a quadratic loss does, with ρ = max|1 − lr·λ| over the Hessian's eigenvalues
λ once the fast directions have settled — then the steps s_e = ‖θ_e − θ_(e−1)‖ shrink
by ρ as well, and the distance left is the rest of their geometric series:

    ‖θ_e − θ*‖ ≈ s_e·(ρ + ρ² + …) = s_e·ρ / (1 − ρ)

(the a-posteriori error bound of the contraction-mapping theorem). ρ is measured as the
largest ratio s_e / s_(e−1) of the last ``window`` epochs, and training has converged
when the distance left is at most ``tol``·‖θ_e‖: relative to the size of the
parameters, so rescaling the target rescales nothing in the verdict, and a slow valley
(ρ near 1) makes the estimate large instead of the run stop early. Steps that do not
shrink (ρ ≥ 1) never converge. An epoch that does not move the parameters at all has
converged outright.

The premise, one fixed map per epoch whose only fixed point is the optimum, holds for
full-batch training with any of the optimizers. It fails for mini-batches: their steps
are noisy (a few shrinking in a row by chance would fake a verdict), and at a constant
learning rate they hover around the optimum rather than reach it, so :func:`~minigrad.fit`
applies the rule to full-batch runs only.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections import deque
from collections.abc import Sequence

import numpy as np

__all__ = ["StepRule", "distance_left"]


def distance_left(steps: Sequence[float], window: int) -> tuple[float, float]:
    """``(estimated ‖θ − θ*‖, ρ)`` from the latest epochs' parameter steps, oldest first.

    ``inf`` while fewer than ``window + 1`` steps are known or when they do not shrink;
    ``0`` when the last step is exactly zero.

    >>> distance_left([8.0, 4.0, 2.0, 1.0], window=3)   # halving: 1/2 + 1/4 + … = 1
    (1.0, 0.5)
    >>> distance_left([1.0, 2.0, 1.0, 0.5], window=3)   # a step grew: no estimate
    (inf, 2.0)
    """
    if steps and steps[-1] == 0.0:
        return 0.0, 0.0
    recent = list(steps)[-(window + 1) :]
    if len(recent) < window + 1:
        return math.inf, math.nan
    rho = max(b / a if a > 0 else math.inf for a, b in itertools.pairwise(recent))
    if not rho < 1.0:
        return math.inf, rho
    return steps[-1] * rho / (1.0 - rho), rho


class StepRule:
    """Tracks the parameters epoch by epoch and says when they are near the optimum.

    ``update(theta)`` takes the flattened parameters after an epoch and returns that
    epoch's step; ``verdict()`` then returns the reason training converged, or None
    (always None with ``tol=None``, which only measures the steps).
    """

    def __init__(self, tol: float | None, window: int, theta: np.ndarray) -> None:
        if tol is not None and (
            isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < math.inf
        ):
            raise ValueError(f"tol must be a positive number or None, got {tol!r}")
        self.tol, self.window = tol, int(window)
        self.theta = theta
        self.steps: deque[float] = deque(maxlen=window + 1)

    def update(self, theta: np.ndarray) -> float:
        step = float(np.linalg.norm(theta - self.theta))
        self.theta = theta
        self.steps.append(step)
        return step

    def verdict(self) -> str | None:
        if self.tol is None:
            return None
        left, _ = distance_left(self.steps, self.window)
        size = float(np.linalg.norm(self.theta))
        if left == 0.0:
            return "the parameters did not move during the last epoch"
        if not left <= self.tol * size:
            return None
        # short: every demo and `minigrad train` prints it (the README explains the rule)
        return f"within {left:.2g} of the optimum (≤ tol {self.tol:g} × size {size:.3g})"
