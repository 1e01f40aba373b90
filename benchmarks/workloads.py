"""The workloads W1–W7: their sizes, their data, the shared batch order and the reference.

Every library trains the same problem, y ≈ Xw + b by mean squared error and plain gradient
descent, from w = 0, b = 0, with the same learning rate and the *same batches*: the batch
order is generated here once per problem and handed to every adapter. The reference
trajectory (:func:`reference_params`) is the hand-derived update in plain NumPy; an
adapter whose parameters after its timed updates disagree with it is not reported.

W7 trains a small network instead, d → 64 → 1 with tanh (``Problem.hidden``), by MSE and
Adam, from one set of initial weights (:func:`mlp_init`, PyTorch's default rule drawn
once) given to every library; its reference is the hand-derived backward pass and
PyTorch's Adam update in plain NumPy (:func:`reference_mlp`).

W1 is not a training problem: it is 10 elementwise ops on two tensors of shape (3,), a
sum and a backward (:func:`tiny_ops`), checked against the hand-derived gradient
(:func:`tiny_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEED = 20240501
LR = 0.01
"""One learning rate for every workload: stable for full batch (λ_max ≈ 2), mini-batch
and batch-1 SGD on standard-normal features with d ≤ 100."""

RTOL = 1e-6
"""Largest |Δparameter| / max(|reference parameter|) accepted by the trajectory check.
Summation order differs between BLAS calls and libraries (≈1e-13 relative); a wrong
gradient, batch or learning rate is off by many orders of magnitude more."""

W1_X = np.array([0.5, -1.25, 2.0])
W1_Y = np.array([1.5, 0.75, -0.5])

# (name, what it measures) — the README and results.md print these
DESCRIPTIONS = {
    "W1": "tiny tensors: shape (3,), 10 elementwise ops + sum + backward (time per call)",
    "W2": "full batch N = 100,000, d = 10: one update = forward, MSE, backward, step",
    "W3": "full batch N = 1,000,000, d = 100: time per update and peak memory over the data",
    "W4": "mini-batch 32, d = 10, one epoch of N = 100,000 (3,125 updates): time per update",
    "W5": "SGD batch 1, d = 10, one epoch of N = 10,000 (10,000 updates): time per update",
    "W6": "full-batch update time against N = 10³ … 10⁶ (d = 10)",
    "W7": "MLP d = 10 → 64 → 1 (tanh), mini-batch 32, Adam, one epoch of N = 10,000 (313 "
    "updates): time per update",
}
ALL = tuple(DESCRIPTIONS)


@dataclass(frozen=True)
class Problem:
    """One training problem: data size, batch size, updates per repetition.

    ``batch_size=None`` is full batch (``steps`` updates on all of X per repetition);
    otherwise one repetition is one epoch of ``ceil(n / batch_size)`` updates.
    ``hidden=None`` is the linear model trained by gradient descent from zeros; a number
    is the MLP d → hidden → 1 (tanh) trained by Adam from :func:`mlp_init` (W7).
    """

    workload: str
    n: int
    d: int
    batch_size: int | None
    steps: int = 1
    lr: float = LR
    seed: int = SEED
    hidden: int | None = None
    tags: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple:
        return (
            self.workload, self.n, self.d, self.batch_size, self.steps, self.lr, self.seed,
            self.hidden,
        )  # fmt: skip

    @property
    def updates(self) -> int:
        if self.batch_size is None:
            return self.steps
        return -(-self.n // self.batch_size)

    def describe(self) -> str:
        kind = "full batch" if self.batch_size is None else f"batch {self.batch_size}"
        model = "" if self.hidden is None else f" MLP {self.d}→{self.hidden}→1 Adam,"
        return f"N={self.n:,} d={self.d}{model} {kind}, {self.updates} updates/rep"


@dataclass(frozen=True)
class Plan:
    """What one workload runs: its problems (W6 has one per N) and its repetitions."""

    workload: str
    problems: tuple[Problem, ...]
    repeats: tuple[int, ...]  # per problem


def plan(workload: str, quick: bool, repeats: int) -> Plan:
    """Sizes and repetitions of ``workload`` (small ones with ``quick``).

    W3 and the large-N points of W6 use fewer repetitions (each update reads ≥ 80 MB); W1
    and W2, cheap and close to their budgets, use three times as many.
    """
    few = max(2, min(repeats, 3))
    many = repeats if quick else 3 * repeats  # W1 and W2 are cheap and sit near their budgets
    if workload == "W1":
        return Plan("W1", (), (many,))
    if workload == "W2":
        n = 2_000 if quick else 100_000
        return Plan("W2", (Problem("W2", n, 10, None, steps=20 if quick else 50),), (many,))
    if workload == "W3":
        n, d = (20_000, 20) if quick else (1_000_000, 100)
        return Plan("W3", (Problem("W3", n, d, None, steps=5),), (few,))
    if workload == "W4":
        n = 2_000 if quick else 100_000
        return Plan("W4", (Problem("W4", n, 10, 32),), (repeats,))
    if workload == "W5":
        n = 300 if quick else 10_000
        return Plan("W5", (Problem("W5", n, 10, 1),), (repeats,))
    if workload == "W6":
        sizes = (1_000, 10_000) if quick else tuple(round(10**e) for e in np.arange(3, 6.1, 0.5))
        problems = tuple(
            Problem("W6", n, 10, None, steps=int(min(200, max(2, 2_000_000 // n)))) for n in sizes
        )
        reps = tuple(repeats if n < 100_000 else few for n in sizes)
        return Plan("W6", problems, reps)
    if workload == "W7":
        n = 640 if quick else 10_000
        mlp = Problem("W7", n, 10, 32, lr=ADAM_LR, hidden=W7_HIDDEN)
        return Plan("W7", (mlp,), (repeats,))
    raise ValueError(f"unknown workload {workload!r}; choose from {', '.join(ALL)}")


_DATA_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def make_data(n: int, d: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) standard normal and y = X·w* + b* + 0.1·noise (float64, C order).

    Rows come from one stream, so the first rows of a large data set equal a smaller one's
    (W6's sizes share prefixes).
    """
    key = (n, d, seed)
    if key not in _DATA_CACHE:
        rng = np.random.default_rng(seed)
        w_true = rng.uniform(-3.0, 3.0, d)
        b_true = float(rng.uniform(-3.0, 3.0))
        X = np.random.default_rng([seed, d]).standard_normal((n, d))
        y = X @ w_true + b_true + 0.1 * np.random.default_rng([seed, d, 1]).standard_normal(n)
        _DATA_CACHE.clear()  # keep one data set alive at a time (W3's X is 800 MB)
        _DATA_CACHE[key] = (X, y)
    return _DATA_CACHE[key]


def release_data() -> None:
    _DATA_CACHE.clear()


def batch_order(problem: Problem) -> list[np.ndarray | None]:
    """The batches of one repetition, shared by every library.

    Full batch: ``steps`` times ``None`` (all rows). Otherwise one epoch dealt out by
    ``np.random.default_rng(seed).permutation(n)``, each batch's indices sorted — exactly
    the order ``minigrad.data.batches`` (and so ``mg.fit(..., seed=seed)``) produces.
    """
    if problem.batch_size is None:
        return [None] * problem.steps
    order = np.random.default_rng(problem.seed).permutation(problem.n)
    size = problem.batch_size
    return [np.sort(order[i : i + size]) for i in range(0, problem.n, size)]


_REFERENCE_CACHE: dict[tuple, tuple[np.ndarray, float]] = {}


def reference_params(
    X: np.ndarray, y: np.ndarray, lr: float, batches: list[np.ndarray | None], key: tuple
) -> tuple[np.ndarray, float]:
    """(w, b) after gradient descent over ``batches`` from zeros: the hand-derived update.

    r = Xw + b − y,  ∂L/∂w = (2/N)·Xᵀr,  ∂L/∂b = (2/N)·Σr,  w ← w − lr·∂L/∂w.
    """
    if key not in _REFERENCE_CACHE:
        w = np.zeros(X.shape[1])
        b = 0.0
        for idx in batches:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            r = xb @ w + b - yb
            w = w - lr * (2.0 / len(yb)) * (xb.T @ r)
            b = b - lr * (2.0 / len(yb)) * float(r.sum())
        _REFERENCE_CACHE[key] = (w, b)
    return _REFERENCE_CACHE[key]


def release_references() -> None:
    _REFERENCE_CACHE.clear()
    _MLP_CACHE.clear()


def reference(
    problem: Problem, X: np.ndarray, y: np.ndarray, batches: list[np.ndarray | None], key: tuple
) -> tuple[Any, ...]:
    """The reference parameters after ``batches``: (w, b), or the MLP's four arrays."""
    if problem.hidden is None:
        return reference_params(X, y, problem.lr, batches, key)
    init = mlp_init(problem.d, problem.hidden, problem.seed)
    return reference_mlp(X, y, problem.lr, batches, init, key)


def _flat(params: Any) -> np.ndarray:
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params])


def check_params(got: Any, want: Any, rtol: float = RTOL) -> dict[str, Any]:
    """Compare parameters (a sequence of arrays and numbers, e.g. (w, b)) with the
    reference's, flattened in order: {ok, max_abs_diff, rel_diff, rtol}."""
    g, r = _flat(got), _flat(want)
    if g.shape != r.shape:
        return {"ok": False, "reason": f"parameter shapes {g.shape} vs {r.shape}"}
    diff = float(np.max(np.abs(g - r)))
    scale = float(np.max(np.abs(r)))
    rel = diff / scale if scale > 0 else diff
    ok = bool(np.all(np.isfinite(g))) and rel <= rtol
    return {"ok": ok, "max_abs_diff": diff, "rel_diff": rel, "rtol": rtol}


# --------------------------------------------------------------------------------- W7

W7_HIDDEN = 64
ADAM_LR = 1e-3
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
"""W7's Adam: PyTorch's (and minigrad's) defaults."""


def mlp_init(d: int, hidden: int, seed: int = SEED) -> tuple[np.ndarray, ...]:
    """(W₁, b₁, W₂, b₂) of the MLP d → hidden → 1, in PyTorch's layout and by its default
    rule (weight and bias ~ U(−1/√in, 1/√in)), drawn once from ``seed``: every library
    starts from these values."""
    rng = np.random.default_rng([seed, d, hidden])
    shapes = [((hidden, d), d), ((hidden,), d), ((1, hidden), hidden), ((1,), hidden)]
    return tuple(rng.uniform(-(fan_in**-0.5), fan_in**-0.5, shape) for shape, fan_in in shapes)


def mlp_loss_and_grads(
    params: tuple[np.ndarray, ...], xb: np.ndarray, yb: np.ndarray
) -> tuple[float, list[np.ndarray]]:
    """MSE of ŷ = tanh(x·W₁ᵀ + b₁)·W₂ᵀ + b₂ against yb (n, 1), and its gradient, by hand:

    r = ŷ − y, ∂L/∂ŷ = 2r/n; ∂W₂ = ∂ŷᵀ·h, ∂b₂ = Σ∂ŷ; ∂h = ∂ŷ·W₂; ∂a = ∂h·(1 − h²)
    (tanh′ = 1 − tanh²); ∂W₁ = ∂aᵀ·x, ∂b₁ = Σ∂a.
    """
    W1, b1, W2, b2 = params
    h = np.tanh(xb @ W1.T + b1)
    r = h @ W2.T + b2 - yb
    n = len(yb)
    g_out = (2.0 / n) * r
    g_a = (g_out @ W2) * (1.0 - h * h)
    grads = [g_a.T @ xb, g_a.sum(axis=0), g_out.T @ h, g_out.sum(axis=0)]
    return float(np.sum(r * r)) / n, grads


_MLP_CACHE: dict[tuple, tuple[np.ndarray, ...]] = {}


def reference_mlp(
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    batches: list[np.ndarray | None],
    init: tuple[np.ndarray, ...],
    key: tuple,
) -> tuple[np.ndarray, ...]:
    """The MLP's parameters after Adam over ``batches`` from ``init``, written plainly:

    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², p ← p − lr·(m/(1 − β₁ᵗ))/(√(v/(1 − β₂ᵗ)) + ε).
    """
    if key not in _MLP_CACHE:
        params = [p.copy() for p in init]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        beta1, beta2 = ADAM_BETAS
        y2 = y.reshape(-1, 1)
        for t, idx in enumerate(batches, start=1):
            xb, yb = (X, y2) if idx is None else (X[idx], y2[idx])
            _, grads = mlp_loss_and_grads(tuple(params), xb, yb)
            for k, g in enumerate(grads):
                m[k] = beta1 * m[k] + (1 - beta1) * g
                v[k] = beta2 * v[k] + (1 - beta2) * g * g
                m_hat, v_hat = m[k] / (1 - beta1**t), v[k] / (1 - beta2**t)
                params[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
        _MLP_CACHE[key] = tuple(params)
    return _MLP_CACHE[key]


# --------------------------------------------------------------------------------- W1


def tiny_ops(x: Any, y: Any) -> Any:
    """W1's 10 elementwise ops, written once with operators every library overloads."""
    a = x * y  # 1
    b = a + x  # 2
    c = b * 0.5  # 3
    d = c - y  # 4
    e = d * d  # 5
    f = e + 1.0  # 6
    g = x / f  # 7
    h = g - a  # 8
    i = h * h  # 9
    return i * y  # 10


def tiny_reference(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂(Σ tiny_ops(x, y))/∂x and /∂y, derived by hand (reverse mode, op by op)."""
    a = x * y
    b = a + x
    c = b * 0.5
    d = c - y
    e = d * d
    f = e + 1.0
    g = x / f
    h = g - a
    i = h * h
    gi = y  # j = i·y, ∂Σj/∂i = y
    gy = i.copy()  # ∂j/∂y = i
    gh = 2.0 * h * gi  # i = h²
    gg, ga = gh, -gh  # h = g − a
    gx = gg / f  # g = x/f
    gf = -gg * g / f
    gd = 2.0 * d * gf  # f = e + 1, e = d²
    gc = gd  # d = c − y
    gy = gy - gd
    gb = 0.5 * gc  # c = b/2
    ga = ga + gb  # b = a + x
    gx = gx + gb
    gx = gx + ga * y  # a = x·y
    gy = gy + ga * x
    return gx, gy


def check_grads(
    got: tuple[Any, Any], want: tuple[np.ndarray, np.ndarray], rtol: float = 1e-9
) -> dict[str, Any]:
    g = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in got])
    r = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in want])
    if g.shape != r.shape:
        return {"ok": False, "reason": f"gradient shapes {g.shape} vs {r.shape}"}
    diff = float(np.max(np.abs(g - r)))
    rel = diff / float(np.max(np.abs(r)))
    return {"ok": bool(rel <= rtol), "max_abs_diff": diff, "rel_diff": rel, "rtol": rtol}
