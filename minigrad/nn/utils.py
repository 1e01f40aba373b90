"""Training utilities on parameters (PyTorch's ``torch.nn.utils``): gradient-norm clipping.

>>> import minigrad as mg
>>> w = mg.nn.Parameter([0.0, 0.0])
>>> w.grad = mg.tensor([3.0, 4.0])                      # ‖g‖ = 5
>>> mg.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
5.0
>>> [round(g, 6) for g in w.grad.tolist()]               # rescaled to norm 1
[0.6, 0.8]
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.tensor import Tensor


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients in place so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients taken as one vector (the
    norm of the per-parameter norms; ``float("inf")`` for the largest absolute entry).
    Every gradient is multiplied by min(1, max_norm / (total + 1e-6)), exactly as
    ``torch.nn.utils.clip_grad_norm_`` does (the 1e-6 keeps a zero norm finite).
    Parameters without a gradient are skipped. Returns the total norm before clipping,
    as a 0-d Tensor. With ``error_if_nonfinite=True`` a NaN or infinite total norm
    raises instead of turning every gradient into NaN.

    Call it between ``loss.backward()`` and ``optimizer.step()``.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm_ expects Tensors, got {type(p).__name__}")
    if not (isinstance(max_norm, int | float | np.number) and max_norm >= 0):
        raise ValueError(f"clip_grad_norm_: max_norm must be a number ≥ 0, got {max_norm!r}")
    norm_type = float(norm_type)
    if math.isnan(norm_type) or norm_type <= 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type!r}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return Tensor(np.float64(0.0))
    norms = [np.linalg.norm(g.data.ravel(), ord=norm_type) for g in grads]
    total = np.linalg.norm(np.array(norms), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so it cannot be clipped (error_if_nonfinite=False scales by it anyway)"
        )
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g *= coef.astype(g.dtype)  # in place, through the Tensor operator
    return Tensor(np.asarray(total, dtype=np.result_type(*(g.dtype for g in grads))))
