"""The op table: one row per differentiable op, iterated by the property tests.

Each row says how to call the op on minigrad tensors (and on torch tensors, where the
spelling differs), which shapes to draw, and which values to keep away from (kinks,
poles, ties), so the finite-difference and PyTorch checks cover every op the same way.
Adding an op means adding one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as mg


@dataclass(frozen=True)
class OpCase:
    name: str
    fn: Callable[..., Any]
    arity: int = 1
    # "any", "nonscalar" (ndim ≥ 1), "matrix", "3d", "broadcast", "matmul", "same" (two
    # inputs of one shape), "matrices" (two matrices of one shape), "linear" (x of shape
    # (..., d) and a weight (k, d)); well-conditioned (stacks of) matrices with distinct
    # eigen- or singular values: "square", "spd" (symmetric positive definite),
    # "wellcond" (m × n), "solve" (a square A and b, a vector or matrices)
    shapes: str = "any"
    values: dict = field(default_factory=dict)  # options for minigrad.testing.arrays
    torch_fn: Callable[..., Any] | None = None  # None: `fn` also works on torch tensors
    second_order: bool = True  # gradgradcheck too (off where the gradient has jumps)
    op: str | tuple[str, ...] = ""  # the registered op(s) it checks (default: by its name)

    def __str__(self) -> str:
        return self.name


POSITIVE = {"positive": True, "margin": 0.2}
DISTINCT = {"distinct_gap": 0.05}


def torch_() -> Any:
    return __import__("torch")


def _sym(a: Any) -> Any:
    """(A + Aᵀ)/2 of each matrix (minigrad or torch): a function of every entry whose
    derivative is the symmetric gradient of eigh and cholesky."""
    return (a + _mT(a)) / 2


def _mT(a: Any) -> Any:
    return a.mT if hasattr(a, "mT") else mg.ops.swapaxes(a, -1, -2)


def _untied(a: Any) -> np.ndarray:
    """Weights √2, √3, √5, ... of a's shape: weighted row and column sums of |a| do not
    tie however simple hypothesis's values are (a tie is max's kink)."""
    shape = tuple(a.shape)
    dtype = a.dtype if isinstance(a.dtype, np.dtype) else np.float64  # torch: float64 only
    weights = np.sqrt([2, 3, 5, 7, 11, 13, 17, 19, 23][: shape[0] * shape[1]]).reshape(shape)
    return weights.astype(dtype)


def _projection(v: Any) -> Any:
    """v vᵀ for the first eigenvector v: the same whichever sign v has."""
    first = v[..., :, :1]
    return first @ _mT(first)


OPS = [
    OpCase("add", lambda a, b: a + b, 2, "broadcast"),
    OpCase("sub", lambda a, b: a - b, 2, "broadcast"),
    OpCase("mul", lambda a, b: a * b, 2, "broadcast"),
    OpCase("div", lambda a, b: a / b, 2, "broadcast", {"avoid": (0.0,), "margin": 0.3}),
    OpCase("pow_tensor", lambda a, b: a**b, 2, "broadcast", POSITIVE),
    OpCase("radd_scalar", lambda x: 1.5 + x, op="add"),
    OpCase("rsub_scalar", lambda x: 1.5 - x, op="sub"),
    OpCase("rmul_scalar", lambda x: 1.5 * x, op="mul"),
    OpCase("rdiv_scalar", lambda x: 1.5 / x, values={"avoid": (0.0,), "margin": 0.3}, op="div"),
    OpCase("pow_2", lambda x: x**2),
    OpCase("pow_3", lambda x: x**3),
    OpCase("pow_half", lambda x: x**0.5, values=POSITIVE),
    OpCase("pow_minus_1", lambda x: x**-1, values={"avoid": (0.0,), "margin": 0.3}),
    OpCase("rpow", lambda x: 2.0**x, op="pow"),
    OpCase("neg", lambda x: -x),
    OpCase("matmul", lambda a, b: a @ b, 2, "matmul"),
    OpCase("sum", lambda x: x.sum()),
    OpCase("sum_axis0", lambda x: x.sum(0), shapes="nonscalar", torch_fn=lambda x: x.sum(0)),
    OpCase(
        "sum_last_keepdims",
        lambda x: x.sum(axis=-1, keepdims=True),
        shapes="nonscalar",
        torch_fn=lambda x: x.sum(dim=-1, keepdim=True),
    ),
    OpCase("mean", lambda x: x.mean()),
    OpCase(
        "mean_axis0_keepdims",
        lambda x: x.mean(axis=0, keepdims=True),
        shapes="nonscalar",
        torch_fn=lambda x: x.mean(dim=0, keepdim=True),
    ),
    OpCase("max", lambda x: x.max(), values=DISTINCT, second_order=False),
    OpCase(
        "max_axis0",
        lambda x: x.max(axis=0),
        shapes="nonscalar",
        values=DISTINCT,
        torch_fn=lambda x: x.max(dim=0).values,
        second_order=False,
    ),
    OpCase("min", lambda x: x.min(), values=DISTINCT, second_order=False),
    OpCase(
        "min_last_keepdims",
        lambda x: x.min(axis=-1, keepdims=True),
        shapes="nonscalar",
        values=DISTINCT,
        torch_fn=lambda x: x.min(dim=-1, keepdim=True).values,
        second_order=False,
    ),
    OpCase("abs", lambda x: x.abs(), values={"avoid": (0.0,)}),
    OpCase("sqrt", lambda x: x.sqrt(), values=POSITIVE),
    OpCase("exp", lambda x: x.exp()),
    OpCase("log", lambda x: x.log(), values=POSITIVE),
    OpCase("relu", lambda x: x.relu(), values={"avoid": (0.0,)}),
    OpCase("tanh", lambda x: x.tanh()),
    OpCase("sigmoid", lambda x: x.sigmoid()),
    OpCase("clip", lambda x: x.clip(-1.0, 1.0), values={"avoid": (-1.0, 1.0)}),
    OpCase(
        "maximum",
        lambda a, b: mg.maximum(a, b),
        2,
        "broadcast",
        DISTINCT,
        torch_fn=lambda a, b: __import__("torch").maximum(a, b),
    ),
    OpCase(
        "minimum",
        lambda a, b: mg.minimum(a, b),
        2,
        "broadcast",
        DISTINCT,
        torch_fn=lambda a, b: __import__("torch").minimum(a, b),
    ),
    OpCase(
        "where",
        lambda a, b: mg.where(a > 0, a * b, b),
        2,
        "broadcast",
        {"avoid": (0.0,)},
        torch_fn=lambda a, b: __import__("torch").where(a > 0, a * b, b),
    ),
    OpCase("reshape", lambda x: x.reshape(-1), torch_fn=lambda x: x.reshape(-1)),
    OpCase("transpose", lambda x: x.T, shapes="matrix"),
    OpCase(
        "transpose_axes",
        lambda x: x.transpose(2, 0, 1),
        shapes="3d",
        torch_fn=lambda x: x.permute(2, 0, 1),
    ),
    OpCase("getitem_slice", lambda x: x[..., ::2], shapes="nonscalar"),
    OpCase("getitem_repeated", lambda x: x[[0, 0, -1]], shapes="nonscalar"),
    OpCase("getitem_bool", lambda x: x[x > 0], values={"avoid": (0.0,)}),
    OpCase(
        "concatenate",
        lambda a, b: mg.concatenate([a, b * 2], axis=0),
        2,
        "same",
        torch_fn=lambda a, b: __import__("torch").cat([a, b * 2], dim=0),
    ),
    OpCase(
        "stack",
        lambda a, b: mg.stack([a, b], axis=-1),
        2,
        "same",
        torch_fn=lambda a, b: __import__("torch").stack([a, b], dim=-1),
    ),
    OpCase(
        "losses_huber",
        lambda a, b: mg.losses.huber(a, b, delta=0.5),
        2,
        "same",
        {"avoid": (0.0,)},
        torch_fn=lambda a, b: __import__("torch").nn.functional.huber_loss(a, b, delta=0.5),
        second_order=False,
    ),
    OpCase(
        "linear",
        lambda x, w: mg.ops.linear(x, w, w[:, 0] * 2),
        2,
        "linear",
        torch_fn=lambda x, w: __import__("torch").nn.functional.linear(x, w, w[:, 0] * 2),
    ),
    OpCase(
        "linear_no_bias",
        lambda x, w: mg.ops.linear(x, w, None),
        2,
        "linear",
        torch_fn=lambda x, w: __import__("torch").nn.functional.linear(x, w),
    ),
    OpCase(
        "losses_mse",
        lambda a, b: mg.losses.mse(a, b),
        2,
        "same",
        torch_fn=lambda a, b: __import__("torch").nn.functional.mse_loss(a, b),
    ),
    OpCase(
        "losses_rmse",
        lambda a, b: mg.losses.rmse(a, b),
        2,
        "same",
        DISTINCT,  # a tie pred == target is rmse's kink when N = 1
        torch_fn=lambda a, b: ((a - b) ** 2).mean().sqrt(),
    ),
    # --- the ops added for trust and classification (issues 10 and 11) ---
    OpCase("log1p", lambda x: x.log1p(), values={"min_value": -0.6}),
    OpCase("sin", lambda x: x.sin()),
    OpCase("cos", lambda x: x.cos()),
    OpCase(
        "softplus", lambda x: x.softplus(), torch_fn=lambda x: torch_().nn.functional.softplus(x)
    ),
    OpCase(
        "log_sigmoid",
        lambda x: x.log_sigmoid(),
        torch_fn=lambda x: torch_().nn.functional.logsigmoid(x),
    ),
    OpCase(
        "logsumexp",
        lambda x: x.logsumexp(),
        torch_fn=lambda x: torch_().logsumexp(x.reshape(-1), 0),
    ),
    OpCase(
        "logsumexp_last",
        lambda x: mg.logsumexp(x, axis=-1),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().logsumexp(x, -1),
    ),
    OpCase(
        "logsumexp_axis0_keepdims",
        lambda x: x.logsumexp(axis=0, keepdims=True),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().logsumexp(x, 0, keepdim=True),
    ),
    OpCase(
        "softmax",
        lambda x: x.softmax(),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().softmax(x, -1),
    ),
    OpCase(
        "softmax_axis0",
        lambda x: mg.softmax(x, axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().softmax(x, 0),
    ),
    OpCase(
        "log_softmax",
        lambda x: x.log_softmax(),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().log_softmax(x, -1),
    ),
    OpCase(
        "log_softmax_axis0",
        lambda x: mg.log_softmax(x, axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().log_softmax(x, 0),
    ),
    OpCase(
        "squeeze_unsqueeze",
        lambda x: x.unsqueeze(0).unsqueeze(-1).squeeze(),
        op=("squeeze", "unsqueeze"),
    ),
    OpCase("flatten", lambda x: x.flatten()),
    OpCase(
        "flatten_from_1",
        lambda x: mg.flatten(x, 1),
        shapes="3d",
        torch_fn=lambda x: torch_().flatten(x, 1),
    ),
    OpCase(
        "clip_tensor_lo",
        lambda x, lo: x.clip(lo, None),
        2,
        "broadcast",
        DISTINCT,
        torch_fn=lambda x, lo: torch_().clamp(x, min=lo),
    ),
    OpCase(
        "clip_tensor_hi",
        lambda x, hi: mg.clip(x, None, hi),
        2,
        "broadcast",
        DISTINCT,
        torch_fn=lambda x, hi: torch_().clamp(x, max=hi),
    ),
    OpCase(
        "norm",
        lambda x: mg.ops.norm(x),
        values={"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda x: torch_().linalg.vector_norm(x),
    ),
    OpCase(
        "norm_axis_last",
        lambda x: mg.ops.norm(x, axis=-1),
        shapes="nonscalar",
        values={"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda x: torch_().linalg.vector_norm(x, dim=-1),
    ),
    # away from 0: PyTorch's prod rule divides out/x, which is off for subnormal x (zeros
    # themselves are tested against the exact products in test_trust)
    OpCase(
        "prod",
        lambda x: mg.ops.prod(x),
        values={"avoid": (0.0,), "margin": 0.1},
        torch_fn=lambda x: torch_().prod(x),
    ),
    OpCase(
        "prod_axis0",
        lambda x: mg.ops.prod(x, axis=0),
        shapes="nonscalar",
        values={"avoid": (0.0,), "margin": 0.1},
        torch_fn=lambda x: torch_().prod(x, 0),
    ),
    OpCase(
        "var_axis0",
        lambda x: mg.ops.var(x, axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().var(x, 0, correction=0),
    ),
    OpCase(
        "std_axis_last",
        lambda x: mg.ops.std(x, axis=-1),
        shapes="nonscalar",
        values=DISTINCT,
        torch_fn=lambda x: torch_().std(x, -1, correction=0),
    ),
    OpCase(
        "einsum_rows",
        lambda a, b: mg.einsum("ij,ij->i", a, b),
        2,
        "matrices",
        torch_fn=lambda a, b: torch_().einsum("ij,ij->i", a, b),
    ),
    OpCase(
        "einsum_summed_alone",
        lambda a, b: mg.einsum("ij,kl->ik", a, b),
        2,
        "matrices",
        torch_fn=lambda a, b: torch_().einsum("ij,kl->ik", a, b),
    ),
    OpCase(
        "broadcast_to",
        lambda x: mg.ops.broadcast_to(x, (2, *x.shape)),
        torch_fn=lambda x: x.broadcast_to((2, *x.shape)),
    ),
    OpCase(
        "expand_dims",
        lambda x: mg.ops.expand_dims(x, 0),
        torch_fn=lambda x: x.unsqueeze(0),
    ),
    OpCase(
        "swapaxes",
        lambda x: mg.ops.swapaxes(x, 0, 1),
        shapes="matrix",
        torch_fn=lambda x: x.swapaxes(0, 1),
    ),
    OpCase("square", lambda x: mg.ops.square(x), torch_fn=lambda x: torch_().square(x)),
    OpCase("positive", lambda x: mg.ops.positive(x) * 1.5, torch_fn=lambda x: x * 1.5),
    OpCase("dot", lambda a, b: mg.ops.dot(a, b.T), 2, "matrices", torch_fn=lambda a, b: a @ b.T),
    OpCase(
        "outer",
        lambda a, b: mg.ops.outer(a, b),
        2,
        torch_fn=lambda a, b: torch_().outer(a.flatten(), b.flatten()),
    ),
    OpCase(
        "hstack",
        lambda a, b: mg.ops.hstack([a, b]),
        2,
        "same",
        torch_fn=lambda a, b: torch_().hstack([a, b]),
    ),
    OpCase(
        "vstack",
        lambda a, b: mg.ops.vstack([a, b]),
        2,
        "same",
        torch_fn=lambda a, b: torch_().vstack([a, b]),
    ),
    # --- numpy.linalg (issue 18): eigh and cholesky through (A + Aᵀ)/2, their gradients being
    # the symmetric ones; eigen- and singular vectors through functions of their sign-free
    # squares and projections
    OpCase("inv", mg.linalg.inv, shapes="square", torch_fn=lambda a: torch_().linalg.inv(a)),
    OpCase("solve", mg.linalg.solve, 2, "solve", torch_fn=lambda a, b: torch_().linalg.solve(a, b)),
    OpCase("det", mg.linalg.det, shapes="square", torch_fn=lambda a: torch_().linalg.det(a)),
    OpCase(
        "slogdet",
        lambda a: mg.linalg.slogdet(a)[1],
        shapes="square",
        torch_fn=lambda a: torch_().linalg.slogdet(a)[1],
    ),
    OpCase(
        "cholesky",
        lambda a: mg.linalg.cholesky(_sym(a)),
        shapes="spd",
        torch_fn=lambda a: torch_().linalg.cholesky(_sym(a)),
    ),
    OpCase(
        "eigvalsh",
        lambda a: mg.linalg.eigvalsh(_sym(a)),
        shapes="spd",
        torch_fn=lambda a: torch_().linalg.eigvalsh(_sym(a)),
    ),
    OpCase(
        "eigh_values",
        lambda a: mg.linalg.eigh(_sym(a))[0],
        shapes="spd",
        torch_fn=lambda a: torch_().linalg.eigh(_sym(a))[0],
    ),
    OpCase(
        "eigh_vectors_squared",
        lambda a: mg.linalg.eigh(_sym(a))[1] ** 2,
        shapes="spd",
        torch_fn=lambda a: torch_().linalg.eigh(_sym(a))[1] ** 2,
    ),
    OpCase(
        "eigh_projection",
        lambda a: _projection(mg.linalg.eigh(_sym(a))[1]),
        shapes="spd",
        torch_fn=lambda a: _projection(torch_().linalg.eigh(_sym(a))[1]),
    ),
    OpCase(
        "svd_values",
        lambda a: mg.linalg.svd(a, compute_uv=False),
        shapes="wellcond",
        torch_fn=lambda a: torch_().linalg.svdvals(a),
    ),
    OpCase(
        "svd_u_squared",
        lambda a: mg.linalg.svd(a, full_matrices=False)[0] ** 2,
        shapes="wellcond",
        torch_fn=lambda a: torch_().linalg.svd(a, full_matrices=False)[0] ** 2,
    ),
    OpCase(
        "svd_vh_squared",
        lambda a: mg.linalg.svd(a, full_matrices=False)[2] ** 2,
        shapes="wellcond",
        torch_fn=lambda a: torch_().linalg.svd(a, full_matrices=False)[2] ** 2,
    ),
    OpCase("pinv", mg.linalg.pinv, shapes="wellcond", torch_fn=lambda a: torch_().linalg.pinv(a)),
    OpCase(
        "matrix_power_5",
        lambda a: mg.linalg.matrix_power(a, 5),
        shapes="square",
        torch_fn=lambda a: torch_().linalg.matrix_power(a, 5),
    ),
    OpCase(
        "matrix_power_minus_2",
        lambda a: mg.linalg.matrix_power(a, -2),
        shapes="square",
        torch_fn=lambda a: torch_().linalg.matrix_power(a, -2),
    ),
    OpCase(
        "norm_p3",
        lambda x: mg.linalg.norm(x, 3, axis=-1),
        shapes="nonscalar",
        values={"avoid": (0.0,)},
        torch_fn=lambda x: torch_().linalg.vector_norm(x, 3, dim=-1),
    ),
    OpCase(
        "norm_p_half_keepdims",
        lambda x: mg.linalg.norm(x, 0.5, axis=0, keepdims=True),
        shapes="nonscalar",
        values={"avoid": (0.0,)},
        torch_fn=lambda x: torch_().linalg.vector_norm(x, 0.5, dim=0, keepdim=True),
    ),
    OpCase(
        "norm_minus_1",
        lambda x: mg.linalg.norm(x, -1, axis=-1),
        shapes="nonscalar",
        values={"avoid": (0.0,)},
        torch_fn=lambda x: torch_().linalg.vector_norm(x, -1, dim=-1),
    ),
    OpCase(
        "norm_minus_inf",
        lambda x: mg.linalg.norm(x, -np.inf, axis=-1),
        shapes="nonscalar",
        values={"avoid": (0.0,), "distinct_gap": 0.05},
        torch_fn=lambda x: torch_().linalg.vector_norm(x, -np.inf, dim=-1),
        second_order=False,
    ),
    OpCase(
        "norm_nuc",
        lambda a: mg.linalg.norm(a, "nuc", axis=(-2, -1)),
        shapes="wellcond",
        torch_fn=lambda a: torch_().linalg.matrix_norm(a, "nuc"),
    ),
    OpCase(
        "norm_2_matrix",
        lambda a: mg.linalg.norm(a, 2, axis=(-2, -1)),
        shapes="wellcond",
        torch_fn=lambda a: torch_().linalg.matrix_norm(a, 2),
    ),
    OpCase(
        "norm_minus_2_keepdims",
        lambda a: mg.linalg.norm(a, -2, axis=(-1, -2), keepdims=True),
        shapes="wellcond",
        torch_fn=lambda a: torch_().linalg.matrix_norm(a, -2, dim=(-1, -2), keepdim=True),
    ),
    OpCase(
        "norm_1_matrix",
        lambda a: mg.linalg.norm(a * _untied(a), 1, axis=(-2, -1)),
        shapes="matrix",
        values={"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda a: torch_().linalg.matrix_norm(a * torch_().tensor(_untied(a)), 1),
        second_order=False,  # |x| and max: jumps in the first derivative
    ),
    OpCase(
        "norm_inf_matrix",
        lambda a: mg.linalg.norm(a * _untied(a), np.inf, axis=(-2, -1)),
        shapes="matrix",
        values={"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda a: torch_().linalg.matrix_norm(a * torch_().tensor(_untied(a)), np.inf),
        second_order=False,
    ),
]
