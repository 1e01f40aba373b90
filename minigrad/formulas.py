"""Hand-derived losses, gradients and closed forms for linear (and logistic) regression.

This module is the independent reference that the autodiff engine is tested against,
so it is plain NumPy and imports nothing else from minigrad.

The model of the notes, with N examples and d features::

    ŷ = Xw + b          X: (N, d), w: (d,), b: scalar, ŷ: (N,)
    r = ŷ − y           the residual, y: (N,)

Every loss L is a function of r, so by the chain rule (∂r_i/∂w = x_i, ∂r_i/∂b = 1)::

    ∂L/∂w = Xᵀ ∂L/∂r        ∂L/∂b = Σ_i ∂L/∂r_i

and each gradient below is that line with its own ∂L/∂r.

Accepted shapes (flattened internally, so both spellings give identical results):

- ``X``: (N, d), or (N,) meaning one feature, treated as (N, 1);
- ``y``: (N,) or (N, 1);
- ``w``: (d,) or (d, 1), or a scalar when d = 1;
- ``b``: a scalar (a Python number, a 0-d array or any size-1 array).

Gradients are returned as ``(dL/dw, dL/db)`` with ``dL/dw`` of shape (d,) and ``dL/db``
a Python float. All arithmetic is float64, whatever the input dtype.

Conventions where a loss is not differentiable:

- ``d|r|/dr = sign(r)``, which is 0 at r = 0 (the subgradient PyTorch and NumPy pick);
- RMSE = √MSE has no derivative at a perfect fit (all r = 0); its gradient is taken
  to be 0 there (the minimum), never NaN;
- Huber at ``|r| = δ`` uses the quadratic branch; both branches have value ½δ² and
  slope ±δ there, so the choice does not change any number.

Example, the hand-worked case of the tests (r = [−1, −2, −2])::

    >>> X, y, w, b = [[1.0], [2.0], [3.0]], [2.0, 4.0, 5.0], [1.0], 0.0
    >>> mse_value(X, y, w, b)
    3.0
    >>> dw, db = mse_gradients(X, y, w, b)   # (2/3)·(−1 − 4 − 6), (2/3)·(−5)
    >>> print(dw.round(4), round(db, 4))
    [-7.3333] -3.3333
    >>> w_star, b_star = closed_form(X, y)
    >>> print(w_star.round(4), round(b_star, 4))
    [1.5] 0.6667
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "GRADIENTS",
    "LOSS_VALUES",
    "bce_gradient",
    "bce_with_logits_gradient",
    "bce_with_logits_value",
    "closed_form",
    "cross_entropy_gradient",
    "cross_entropy_value",
    "gradient_descent_step",
    "huber_gradients",
    "huber_value",
    "l1_gradients",
    "l1_loss_value",
    "l2_gradients",
    "l2_loss_value",
    "logistic_gradients",
    "mae_gradients",
    "mae_value",
    "max_stable_lr",
    "max_stable_lr_per_example",
    "mse_gradients",
    "mse_hessian",
    "mse_value",
    "predict",
    "rmse_gradients",
    "rmse_value",
    "sigmoid",
    "softmax",
]

Array = NDArray[np.float64]
Gradients = tuple[Array, float]


# --------------------------------------------------------------------------- shapes


def _as_X(X: ArrayLike) -> Array:
    """X as a float64 (N, d) array; a 1-D X is one feature, (N, 1)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, d), or (N,) for one feature; got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X must have at least one row (N ≥ 1); got shape {X.shape}")
    return X


def _as_y(y: ArrayLike, n: int) -> Array:
    """y as a float64 (N,) array; (N, 1) is accepted and flattened."""
    y_arr = np.asarray(y, dtype=np.float64)
    if not (y_arr.shape == (n,) or y_arr.shape == (n, 1)):
        raise ValueError(f"y must have shape ({n},) or ({n}, 1) to match X; got {y_arr.shape}")
    return y_arr.reshape(n)


def _as_w(w: ArrayLike, d: int) -> Array:
    """w as a float64 (d,) array; (d, 1) is accepted, and a scalar when d = 1."""
    w_arr = np.asarray(w, dtype=np.float64)
    if not (w_arr.shape == (d,) or w_arr.shape == (d, 1) or (w_arr.ndim == 0 and d == 1)):
        raise ValueError(
            f"w must have shape ({d},) or ({d}, 1) to match X's {d} feature(s); got {w_arr.shape}"
        )
    return w_arr.reshape(d)


def _as_b(b: ArrayLike) -> float:
    """b as a Python float; any size-1 array is accepted."""
    b_arr = np.asarray(b, dtype=np.float64)
    if b_arr.size != 1:
        raise ValueError(f"b must be a scalar (size 1); got shape {b_arr.shape}")
    return float(b_arr.reshape(()))


def _with_ones(X: Array) -> Array:
    """X̃ = [X, 1], the (N, d + 1) design matrix whose last column multiplies b."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def _residual(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    """(X as (N, d), r = Xw + b − y as (N,))."""
    X = _as_X(X)
    n, d = X.shape
    r = X @ _as_w(w, d) + _as_b(b) - _as_y(y, n)
    return X, r


def _check_delta(delta: float) -> float:
    delta = float(delta)
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"huber: delta must be a positive finite number; got {delta}")
    return delta


# --------------------------------------------------------------------------- model


def predict(X: ArrayLike, w: ArrayLike, b: ArrayLike) -> Array:
    """ŷ = Xw + b, shape (N,).

    >>> predict([[1.0], [2.0]], [3.0], 1.0)
    array([4., 7.])
    """
    X = _as_X(X)
    return X @ _as_w(w, X.shape[1]) + _as_b(b)


# --------------------------------------------------------------------------- loss values


def l1_loss_value(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> float:
    """L1 = Σ_i |r_i|."""
    _, r = _residual(X, y, w, b)
    return float(np.sum(np.abs(r)))


def mae_value(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> float:
    """MAE = (1/N)·Σ_i |r_i|."""
    _, r = _residual(X, y, w, b)
    return float(np.mean(np.abs(r)))


def l2_loss_value(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> float:
    """L2 = Σ_i r_i²."""
    _, r = _residual(X, y, w, b)
    return float(np.sum(r * r))


def mse_value(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> float:
    """MSE = (1/N)·Σ_i r_i²."""
    _, r = _residual(X, y, w, b)
    return float(np.mean(r * r))


def _rmse_of(r: Array) -> float:
    """√((1/N)·Σ r_i²), computed as s·√mean((r/s)²) with s = max|r_i| so that neither
    tiny residuals (r² underflowing to 0) nor huge ones (r² overflowing) spoil it."""
    s = float(np.max(np.abs(r)))
    if s == 0.0:
        return 0.0
    u = r / s
    return s * float(np.sqrt(np.mean(u * u)))


def rmse_value(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> float:
    """RMSE = √MSE = √((1/N)·Σ_i r_i²)."""
    _, r = _residual(X, y, w, b)
    return _rmse_of(r)


def huber_value(
    X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike, delta: float = 1.0
) -> float:
    """Huber = (1/N)·Σ_i h(r_i), with h(r) = ½r² if |r| ≤ δ else δ·(|r| − ½δ).

    The same number as ``torch.nn.HuberLoss(reduction="mean", delta=δ)``.
    """
    delta = _check_delta(delta)
    _, r = _residual(X, y, w, b)
    a = np.abs(r)
    return float(np.mean(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))))


# --------------------------------------------------------------------------- gradients


def l1_gradients(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> Gradients:
    """∂L1/∂w = Xᵀ·sign(r),  ∂L1/∂b = Σ_i sign(r_i)   (sign(0) = 0)."""
    X, r = _residual(X, y, w, b)
    s = np.sign(r)
    return X.T @ s, float(np.sum(s))


def mae_gradients(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> Gradients:
    """∂MAE/∂w = (1/N)·Xᵀ·sign(r),  ∂MAE/∂b = (1/N)·Σ_i sign(r_i)   (sign(0) = 0)."""
    X, r = _residual(X, y, w, b)
    n = X.shape[0]
    s = np.sign(r)
    return X.T @ s / n, float(np.sum(s)) / n


def l2_gradients(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> Gradients:
    """∂L2/∂w = 2·Xᵀ(Xw + b − y),  ∂L2/∂b = 2·Σ_i r_i."""
    X, r = _residual(X, y, w, b)
    return 2.0 * (X.T @ r), 2.0 * float(np.sum(r))


def mse_gradients(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> Gradients:
    """∂MSE/∂w = (2/N)·Xᵀ(Xw + b − y),  ∂MSE/∂b = (2/N)·Σ_i r_i.

    These are the notes' two slopes: with one feature, ∂MSE/∂w = (2/N)·Σ_i x_i·(w·x_i + b − y_i)
    and ∂MSE/∂b = (2/N)·Σ_i (w·x_i + b − y_i).
    """
    X, r = _residual(X, y, w, b)
    n = X.shape[0]
    return (2.0 / n) * (X.T @ r), 2.0 * float(np.sum(r)) / n


def rmse_gradients(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> Gradients:
    """∂RMSE/∂w = ∂MSE/∂w / (2·RMSE) = Xᵀr / (N·RMSE),  ∂RMSE/∂b = Σ_i r_i / (N·RMSE).

    At a perfect fit (all r = 0) RMSE is not differentiable; the gradient returned is
    (zeros, 0.0), with no division by zero. Elsewhere r/RMSE is computed as u/√mean(u²)
    with u = r/max|r|, which stays finite even when r² underflows.
    """
    X, r = _residual(X, y, w, b)
    n, d = X.shape
    s = float(np.max(np.abs(r)))
    if s == 0.0:
        return np.zeros(d), 0.0
    u = r / s
    g = u / (n * float(np.sqrt(np.mean(u * u))))  # = r / (N·RMSE)
    return X.T @ g, float(np.sum(g))


def huber_gradients(
    X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike, delta: float = 1.0
) -> Gradients:
    """∂Huber/∂w = (1/N)·Xᵀψ(r),  ∂Huber/∂b = (1/N)·Σ_i ψ(r_i),

    with ψ(r) = h′(r) = r if |r| ≤ δ else δ·sign(r), i.e. ψ(r) = clip(r, −δ, δ).
    """
    delta = _check_delta(delta)
    X, r = _residual(X, y, w, b)
    n = X.shape[0]
    psi = np.clip(r, -delta, delta)
    return X.T @ psi / n, float(np.sum(psi)) / n


#: Loss name -> value function ``f(X, y, w, b) -> float`` (names as in ``minigrad.losses``).
LOSS_VALUES: dict[str, Callable[..., float]] = {
    "l1_loss": l1_loss_value,
    "mae": mae_value,
    "l2_loss": l2_loss_value,
    "mse": mse_value,
    "rmse": rmse_value,
    "huber": huber_value,
}

#: Loss name -> gradient function ``f(X, y, w, b) -> (dL/dw, dL/db)``.
GRADIENTS: dict[str, Callable[..., Gradients]] = {
    "l1_loss": l1_gradients,
    "mae": mae_gradients,
    "l2_loss": l2_gradients,
    "mse": mse_gradients,
    "rmse": rmse_gradients,
    "huber": huber_gradients,
}


# --------------------------------------------------------------------------- closed forms


def mse_hessian(X: ArrayLike) -> Array:
    """H = (2/N)·X̃ᵀX̃ with X̃ = [X, 1]: the (d + 1, d + 1) Hessian of MSE w.r.t. (w, b).

    Rows and columns are ordered (w_1, …, w_d, b). MSE is quadratic in (w, b), so H does
    not depend on w, b or y. The last row is ((2/N)·Σ_i x_i, 2).
    """
    Xt = _with_ones(_as_X(X))
    return (2.0 / Xt.shape[0]) * (Xt.T @ Xt)


def closed_form(X: ArrayLike, y: ArrayLike) -> tuple[Array, float]:
    """The least-squares (w, b): the minimiser of MSE, i.e. the solution of the normal
    equations X̃ᵀX̃·θ = X̃ᵀy for θ = (w, b), X̃ = [X, 1].

    Solved with ``np.linalg.lstsq`` on X̃ (an SVD, better conditioned than forming
    X̃ᵀX̃). When X̃ is rank-deficient (a constant or duplicated feature, or N < d + 1)
    the minimiser is not unique, and the one returned is the minimum-norm θ, i.e. the
    smallest ‖w‖² + b² among all minimisers (the bias is not exempted from the norm).
    """
    X = _as_X(X)
    y_arr = _as_y(y, X.shape[0])
    theta = np.linalg.lstsq(_with_ones(X), y_arr, rcond=None)[0]
    return theta[:-1], float(theta[-1])


def max_stable_lr(X: ArrayLike) -> float:
    """2 / λ_max(H), H = mse_hessian(X): the largest learning rate for which full-batch
    gradient descent on MSE does not blow up.

    MSE is the quadratic ½·(θ − θ*)ᵀH(θ − θ*) + min with θ = (w, b), so its gradient is
    H(θ − θ*) and one step θ ← θ − lr·H(θ − θ*) maps the error e = θ − θ* to (I − lr·H)e.
    In H's eigenbasis each component is multiplied by 1 − lr·λ, so GD contracts iff
    |1 − lr·λ| < 1 for every eigenvalue λ > 0, i.e. 0 < lr < 2/λ for all of them, i.e.
    lr < 2/λ_max. Above it, the component along the top eigenvector grows by
    |1 − lr·λ_max| > 1 per step (the loss by its square) and the loss diverges; at exactly
    2/λ_max it oscillates with constant amplitude. (Directions with λ = 0, present when X̃
    is rank-deficient, are flat: GD neither moves nor needs to move along them.)
    """
    return 2.0 / float(np.linalg.eigvalsh(mse_hessian(X))[-1])


def max_stable_lr_per_example(X: ArrayLike) -> float:
    """1 / max_i ‖x̃_i‖², x̃_i = (x_i, 1): the largest learning rate for which *every*
    single-example (batch size 1, SGD) step on MSE contracts.

    One example's loss (x̃ᵢᵀθ − yᵢ)² has Hessian 2x̃ᵢx̃ᵢᵀ, whose one non-zero eigenvalue is
    2‖x̃ᵢ‖² (eigenvector x̃ᵢ), so by the argument of :func:`max_stable_lr` its step is
    stable iff lr < 2/(2‖x̃ᵢ‖²). The full-batch Hessian is the mean of these, and
    λ_max of a mean is at most the largest λ_max, so this bound never exceeds the
    full-batch one: SGD needs a smaller (or equal) learning rate.

    >>> max_stable_lr_per_example([[1.0], [3.0]])   # 1 / (3² + 1)
    0.1
    """
    Xt = _with_ones(_as_X(X))
    return 1.0 / float(np.max(np.einsum("ij,ij->i", Xt, Xt)))


def gradient_descent_step(
    X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike, lr: float
) -> tuple[Array, float]:
    """One full-batch gradient-descent step on MSE, the notes' rule new = old − lr·slope::

        w_new = w − lr·∂MSE/∂w = w − lr·(2/N)·Xᵀ(Xw + b − y)
        b_new = b − lr·∂MSE/∂b = b − lr·(2/N)·Σ_i (x_iᵀw + b − y_i)

    Returns (w_new of shape (d,), b_new as a float).

    >>> w, b = gradient_descent_step([[1.0], [2.0], [3.0]], [2.0, 4.0, 5.0], [1.0], 0.0, lr=0.1)
    >>> print(w.round(4), round(b, 4))   # 1 + 0.1·22/3, 0 + 0.1·10/3
    [1.7333] 0.3333
    """
    lr = float(lr)
    if not np.isfinite(lr):
        raise ValueError(f"gradient_descent_step: lr must be finite; got {lr}")
    X = _as_X(X)
    w_arr = _as_w(w, X.shape[1])
    b_f = _as_b(b)
    dw, db = mse_gradients(X, y, w_arr, b_f)
    return w_arr - lr * dw, b_f - lr * db


# --------------------------------------------------------------------------- classification
#
# The course's next step: logistic regression p = σ(Xw + b) with the log loss, and its
# many-class version, softmax regression. With z the logits (scores before σ/softmax)
# and N examples, the chain rule through σ'(z) = σ(z)(1 − σ(z)) cancels the log loss's
# 1/(p(1 − p)), leaving the same shape as MSE's gradient: prediction minus label.


def sigmoid(z: ArrayLike) -> Array:
    """σ(z) = 1/(1 + e⁻ᶻ), evaluated as e^(−|z|)-based fractions so it never overflows."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z: ArrayLike) -> Array:
    """softmax over the last axis, e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def bce_with_logits_value(z: ArrayLike, y: ArrayLike) -> float:
    """(1/N) Σ ln(1 + e^zᵢ) − yᵢzᵢ, the log loss of p = σ(z) written without p."""
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def bce_with_logits_gradient(z: ArrayLike, y: ArrayLike) -> Array:
    """∂BCE/∂zᵢ = (σ(zᵢ) − yᵢ)/N.

    >>> bce_with_logits_gradient([0.0, 0.0], [1.0, 0.0])   # (½ − 1)/2, (½ − 0)/2
    array([-0.25,  0.25])
    """
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return (sigmoid(z) - y) / z.size


def bce_gradient(p: ArrayLike, y: ArrayLike) -> Array:
    """∂BCE/∂pᵢ for probabilities p (unclipped): (pᵢ − yᵢ)/(N·pᵢ(1 − pᵢ))."""
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return (p - y) / (p.size * p * (1 - p))


def _onehot(labels: ArrayLike, n_classes: int) -> Array:
    return np.eye(n_classes)[np.asarray(labels, dtype=np.int64)]


def cross_entropy_value(z: ArrayLike, labels: ArrayLike) -> float:
    """−(1/N) Σₙ ln softmax(zₙ)[yₙ] for logits (N, C) and class indices (N,)."""
    z = np.asarray(z, dtype=np.float64)
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(z)), np.asarray(labels, dtype=np.int64)]))


def cross_entropy_gradient(z: ArrayLike, labels: ArrayLike) -> Array:
    """∂CE/∂z = (softmax(z) − onehot(y))/N, shape (N, C).

    >>> cross_entropy_gradient([[0.0, 0.0]], [1])   # (½ − 0, ½ − 1)/1
    array([[ 0.5, -0.5]])
    """
    z = np.asarray(z, dtype=np.float64)
    return (softmax(z) - _onehot(labels, z.shape[1])) / len(z)


def logistic_gradients(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> Gradients:
    """Logistic regression's ∂BCE/∂w = Xᵀ(σ(Xw + b) − y)/N and ∂BCE/∂b = Σ(σ − y)/N.

    >>> dw, db = logistic_gradients([[1.0], [-1.0]], [1.0, 0.0], [0.0], 0.0)
    >>> print(dw, db)   # σ(0) = ½: (1·(−½) + (−1)·½)/2, (−½ + ½)/2
    [-0.5] 0.0
    """
    X = _as_X(X)
    w_arr, b_f = _as_w(w, X.shape[1]), _as_b(b)
    g = bce_with_logits_gradient(X @ w_arr + b_f, _as_y(y, X.shape[0]))
    return X.T @ g, float(g.sum())
