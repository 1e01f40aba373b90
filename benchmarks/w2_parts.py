"""Three extra adapters that take W2's gap between minigrad and hand NumPy apart.

Load them with ``--extra-adapters benchmarks/w2_parts.py`` and run them beside the two::

    python -m benchmarks --workloads W2 --threads 1 --extra-adapters benchmarks/w2_parts.py \\
        --libraries numpy,numpy-keep,numpy-scaled,minigrad-ops,minigrad

Read the five medians as steps, each adding one thing to the one before:

- ``numpy``: the hand-written update. It computes the residual in place, in the very
  array that held the prediction, so an update touches two N-sized arrays (r and y).
- ``numpy-keep``: the same maths, but the prediction survives the residual, as it must
  in any autodiff graph (the user, ``graph.explain`` and a second backward may read it).
  Three N-sized arrays per update instead of two.
- ``numpy-scaled``: also hands the backward ∂mse/∂pred = 2r/N as one array, as an engine
  must (the hand-written update scales the d-sized ∂w instead): one more pass over r.
- ``minigrad-ops``: minigrad's own forward, save and rule functions, called directly with
  no Tensor, graph, backward engine or optimizer: minigrad's array work alone.
- ``minigrad``: the public API (engine included). The last step is the engine's Python.

Not libraries and not in the default run: they exist to measure, for the README of the
benchmarks, which part of the gap is the engine and which is the array work any graph
that keeps its prediction must do.
"""

from __future__ import annotations

import numpy as np

from benchmarks.adapters import MinigradAdapter, NumpyAdapter


class NumpyKeepPrediction(NumpyAdapter):
    """Hand-written gradients, but the residual goes into a new array: p stays intact."""

    name = "numpy-keep"
    label = "NumPy, prediction kept"
    description = "hand-written, p = Xw + b kept and r = p − y in its own array"
    form_gradient = False  # numpy-scaled: hand on 2r/N as an array, as an engine does

    def run(self, start: int = 0, stop: int | None = None) -> None:
        X, y, lr, w, b = self.X, self.y, self.lr, self.w, self.b
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            n = len(yb)
            pred = xb @ w + b
            r = pred - yb  # the difference from NumpyAdapter: not r -= yb in place
            self.loss = r @ r / n
            scale = 2.0 / n
            if self.form_gradient:
                r *= scale  # one more pass over r; ∂w and ∂b then need no scaling
                scale = 1.0
            gw = scale * (xb.T @ r)
            gb = scale * r.sum()
            w -= lr * gw
            b -= lr * gb
        self.w, self.b = w, b


class NumpyScaledGradient(NumpyKeepPrediction):
    """As ``numpy-keep``, with ∂mse/∂pred = 2r/N formed as an array before Xᵀ· and Σ."""

    name = "numpy-scaled"
    label = "NumPy, kept and 2r/N formed"
    description = "as numpy-keep, then r *= 2/N, ∂w = Xᵀr, ∂b = Σr"
    form_gradient = True


class MinigradOpsOnly(MinigradAdapter):
    """minigrad's ops called directly: its array work, without Tensors or the engine."""

    name = "minigrad-ops"
    label = "minigrad's ops, no engine"
    description = "ops.linear and mse's forward and rules called on arrays directly"

    def reset(self) -> None:
        self.w = np.zeros(self.problem.d)
        self.b = np.zeros(())

    def run(self, start: int = 0, stop: int | None = None) -> None:
        from minigrad import losses, ops

        linear, mse, sum_to_shape = ops.linear, losses._mse, ops.sum_to_shape
        _, grad_weight, grad_bias = linear.vjps
        X, y, lr, w, b = self.X, self.y, self.lr, self.w, self.b
        one = np.ones(())
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            pred = linear.forward(xb, w, b)
            self.loss = mse.forward(pred, yb)
            g = mse.vjps[0](one, self.loss, pred, yb)  # ∂mse/∂pred, as backward gets it
            gw = np.array(grad_weight(g, pred, xb, w, b))  # the leaves' own copies
            gb = np.array(sum_to_shape(grad_bias(g, pred, xb, w, b), b.shape))
            w -= lr * gw  # SGD's in-place step
            b -= lr * gb

    def params(self) -> tuple[np.ndarray, float]:
        return self.w.copy(), float(self.b)
