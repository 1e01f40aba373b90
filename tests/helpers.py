"""Helpers shared by several test files (pytest fixtures stay in conftest.py).

Each computes its expected values without minigrad's gradients (central differences) or
only sets up what a test checks (a parameter with a gradient, a quiet ``mg.fit``)."""

from __future__ import annotations

import numpy as np

import minigrad as mg

MODIFIED = "modified in place"  # the engine's refusal of a value changed after it was saved


def value(t) -> np.ndarray:
    """The value of a Tensor (or array) as an ndarray: a plain value, outside any graph."""
    return np.asarray(t.data if isinstance(t, mg.Tensor) else t)


def central_diff(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x of a scalar NumPy function f by central differences (independent of minigrad)."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for k in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[k] += eps
        minus.flat[k] -= eps
        out.flat[k] = (f(plus) - f(minus)) / (2 * eps)
    return out


XV = np.array([0.3, -1.2, 0.7])  # a point for f_vec


def f_vec(x):
    """f(x) = [x0·x1, x1² + x2, e^{x0}]: a vector function with a Jacobian known by hand."""
    return mg.stack([x[0] * x[1], x[1] ** 2 + x[2], x[0].exp()])


def jac_by_hand(x) -> np.ndarray:
    """∂f_vec/∂x = [[x1, x0, 0], [0, 2·x1, 1], [e^{x0}, 0, 0]]."""
    return np.array([[x[1], x[0], 0.0], [0.0, 2 * x[1], 1.0], [np.exp(x[0]), 0.0, 0.0]])


def grad_of(f, *arrays, upstream=None) -> list[np.ndarray]:
    """The gradients of sum(upstream · f(*xs)) with respect to each array."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    out.backward(np.ones(out.shape) if upstream is None else upstream)
    return [x.grad.numpy() for x in xs]


def param_with_grad(value, grad, dtype=np.float64) -> mg.nn.Parameter:
    """A parameter holding ``value`` whose ``.grad`` is ``grad`` (both of ``dtype``)."""
    p = mg.nn.Parameter(np.array(value, dtype=dtype))
    p.grad = mg.tensor(np.array(grad, dtype=dtype))
    return p


def fit(model, X, y, **kwargs):
    """``mg.fit`` without the progress bar."""
    kwargs.setdefault("progress", False)
    return mg.fit(model, X, y, **kwargs)
