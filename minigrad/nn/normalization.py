"""BatchNorm1d: normalise each feature over the batch, with running statistics kept as
buffers (PyTorch's ``nn.BatchNorm1d``, the same formulas, keys and defaults).

In training, each feature c of a batch (N, C) — or (N, C, L), over N and L — is
normalised with the batch's mean and biased variance, ŷ = (x − mean)/√(var + eps), then
scaled and shifted by the parameters ``weight`` (γ, ones) and ``bias`` (β, zeros). The
running statistics follow r ← (1 − momentum)·r + momentum·batch, the variance's with the
*unbiased* batch variance (n/(n − 1)·var), and ``num_batches_tracked`` counts the
updates (``momentum=None``: a cumulative average, factor 1/num_batches_tracked). In
evaluation (after ``.eval()``) the running statistics are used instead, so an example's
output no longer depends on the rest of its batch.

>>> import minigrad as mg
>>> bn = mg.nn.BatchNorm1d(2)
>>> y = bn(mg.tensor([[1.0, 10.0], [3.0, 30.0]]))     # each column to mean 0, variance 1
>>> [[round(v, 4) for v in row] for row in y.tolist()]
[[-1.0, -1.0], [1.0, 1.0]]
>>> bn.running_mean.tolist(), list(bn.state_dict())
([0.2, 2.0], ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.nn.module import Module, Parameter
from minigrad.op import ShapeError, is_tracing
from minigrad.tensor import Tensor, as_tensor
from minigrad.tracing import TraceError


class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) inputs (PyTorch's ``nn.BatchNorm1d``).

    ``eps`` is added to the variance; ``momentum`` weighs each batch in the running
    statistics (None: a cumulative average); ``affine`` adds ``weight`` and ``bias``;
    ``track_running_stats=False`` keeps no running statistics and always normalises
    with the batch's own.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer):
            raise TypeError(f"BatchNorm1d: num_features must be an int, got {num_features!r}")
        if num_features < 1:
            raise ValueError(f"BatchNorm1d: num_features must be ≥ 1, got {num_features}")
        if not (isinstance(eps, int | float) and eps > 0 and math.isfinite(eps)):
            raise ValueError(f"BatchNorm1d: eps must be a positive number, got {eps!r}")
        if momentum is not None and not (isinstance(momentum, int | float) and 0 <= momentum <= 1):
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps = int(num_features), float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features))
            self.bias = Parameter(np.zeros(self.num_features))
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean[...] = 0.0
                self.running_var[...] = 1.0
                self.num_batches_tracked[...] = 0

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        n = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != n:
            raise ShapeError(
                f"BatchNorm1d({n}) expects input of shape (N, {n}) or (N, {n}, L), got {x.shape}"
            )
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, n) if x.ndim == 2 else (1, n, 1)
        if self.training or not self.track_running_stats:
            count = x.size // n
            if self.training and count <= 1:
                raise ValueError(
                    f"BatchNorm1d: expected more than 1 value per feature when training, got "
                    f"input of shape {x.shape} (call .eval() to use the running statistics)"
                )
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._track(mean.detach().reshape(n), var.detach().reshape(n), count)
            y = centred / (var + self.eps).sqrt()
        else:
            mean, var = self.running_mean.reshape(shape), self.running_var.reshape(shape)
            y = (x - mean) / (var + self.eps).sqrt()
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y

    def _track(self, mean: Tensor, var: Tensor, count: int) -> None:
        """The running statistics' update (in place, so references to them stay live)."""
        if is_tracing():
            raise TraceError(
                "BatchNorm1d in training mode updates its running statistics in place, "
                "which mg.jit does not compile: train it eagerly (fit(..., jit=False)), or "
                "compile the model in evaluation mode (.eval())"
            )
        with no_grad():
            self.num_batches_tracked[...] = self.num_batches_tracked + 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
            else:
                factor = self.momentum
            unbiased = var * (count / (count - 1))
            self.running_mean[...] = self.running_mean * (1 - factor) + mean * factor
            self.running_var[...] = self.running_var * (1 - factor) + unbiased * factor

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )
