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
    # "any", "nonscalar" (ndim ≥ 1), "matrix", "3d", "vector", "n_by_n" (one n × n matrix),
    # "vectors3"/"vectors2" (shape (..., 3) / (..., 2)), "broadcast", "matmul", "same" (two
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
NOT_SUBNORMAL = {"avoid": (0.0,), "margin": 1e-300}
"""For cumprod against PyTorch: torch's rule divides by x, which is wrong at subnormal x
(5e-324); exact zeros, one or several, are checked in tests/test_numpy_ordering.py."""
NONZERO = {"avoid": (0.0,), "margin": 0.3}
E, C = 2.718281828459045, 0.5772156649015329  # for remainders: a·E + C is rarely a multiple of b


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
    # --- NumPy's elementwise functions (issue 18), called as np.NAME(tensor) ---
    OpCase(
        "tan",
        lambda x: np.tan(x),
        values={"min_value": -1.2, "max_value": 1.2},
        torch_fn=lambda x: torch_().tan(x),
    ),
    OpCase("arctan", lambda x: np.arctan(x), torch_fn=lambda x: torch_().atan(x)),
    OpCase(
        "arcsin",
        lambda x: np.arcsin(x),
        values={"min_value": -0.9, "max_value": 0.9},
        torch_fn=lambda x: torch_().asin(x),
    ),
    OpCase(
        "arccos",
        lambda x: np.arccos(x),
        values={"min_value": -0.9, "max_value": 0.9},
        torch_fn=lambda x: torch_().acos(x),
    ),
    OpCase("sinh", lambda x: np.sinh(x), torch_fn=lambda x: torch_().sinh(x)),
    OpCase("cosh", lambda x: np.cosh(x), torch_fn=lambda x: torch_().cosh(x)),
    OpCase("arcsinh", lambda x: np.arcsinh(x), torch_fn=lambda x: torch_().asinh(x)),
    OpCase(
        "arccosh",
        lambda x: np.arccosh(x),
        values={"min_value": 1.2, "max_value": 3.0},
        torch_fn=lambda x: torch_().acosh(x),
    ),
    OpCase(
        "arctanh",
        lambda x: np.arctanh(x),
        values={"min_value": -0.9, "max_value": 0.9},
        torch_fn=lambda x: torch_().atanh(x),
    ),
    OpCase("expm1", lambda x: np.expm1(x), torch_fn=lambda x: torch_().expm1(x)),
    OpCase("exp2", lambda x: np.exp2(x), torch_fn=lambda x: torch_().exp2(x)),
    OpCase("erf", lambda x: mg.erf(x), torch_fn=lambda x: torch_().erf(x)),
    OpCase("log2", lambda x: np.log2(x), values=POSITIVE, torch_fn=lambda x: torch_().log2(x)),
    OpCase("log10", lambda x: np.log10(x), values=POSITIVE, torch_fn=lambda x: torch_().log10(x)),
    OpCase(
        "cbrt",
        lambda x: np.cbrt(x),
        values={"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda x: torch_().sign(x) * x.abs() ** (1 / 3),
    ),
    OpCase(
        "reciprocal",
        lambda x: np.reciprocal(x),
        values={"avoid": (0.0,), "margin": 0.3},
        torch_fn=lambda x: torch_().reciprocal(x),
    ),
    OpCase("deg2rad", lambda x: np.deg2rad(x), torch_fn=lambda x: torch_().deg2rad(x)),
    OpCase("rad2deg", lambda x: np.rad2deg(x), torch_fn=lambda x: torch_().rad2deg(x)),
    OpCase(
        "sinc", lambda x: np.sinc(x), values={"avoid": (0.0,)}, torch_fn=lambda x: torch_().sinc(x)
    ),
    OpCase(
        "arctan2",
        lambda a, b: np.arctan2(a, b),
        2,
        "broadcast",
        {"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda a, b: torch_().atan2(a, b),
    ),
    OpCase(
        "hypot",
        lambda a, b: np.hypot(a, b),
        2,
        "broadcast",
        {"avoid": (0.0,), "margin": 0.2},
        torch_fn=lambda a, b: torch_().hypot(a, b),
    ),
    OpCase(
        "logaddexp",
        lambda a, b: np.logaddexp(a, b),
        2,
        "broadcast",
        {},
        torch_fn=lambda a, b: torch_().logaddexp(a, b),
    ),
    OpCase(
        "logaddexp2",
        lambda a, b: np.logaddexp2(a, b),
        2,
        "broadcast",
        {},
        torch_fn=lambda a, b: torch_().logaddexp2(a, b),
    ),
    OpCase(
        "fmax",
        lambda a, b: np.fmax(a, b),
        2,
        "broadcast",
        DISTINCT,
        torch_fn=lambda a, b: torch_().fmax(a, b),
    ),
    OpCase(
        "fmin",
        lambda a, b: np.fmin(a, b),
        2,
        "broadcast",
        DISTINCT,
        torch_fn=lambda a, b: torch_().fmin(a, b),
    ),
    # a/b kept off whole numbers (the jumps) by an irrational shift of a
    OpCase(
        "remainder",
        lambda a, b: (a * E + C) % b,
        2,
        "broadcast",
        NONZERO,
        torch_fn=lambda a, b: torch_().remainder(a * E + C, b),
    ),
    OpCase(
        "fmod",
        lambda a, b: np.fmod(a * E + C, b),
        2,
        "broadcast",
        NONZERO,
        torch_fn=lambda a, b: torch_().fmod(a * E + C, b),
    ),
    OpCase(
        "remainder_rmod",
        lambda x: E % x,
        values=NONZERO,  # torch has no derivative for E % x: its tensor-tensor form
        torch_fn=lambda x: torch_().remainder(torch_().full_like(x, E), x),
    ),
    # --- NumPy's shape and assembly functions (issue 18, part 3) ---
    OpCase(
        "tensordot",
        lambda a, b: mg.tensordot(a, b, axes=([0], [0])),
        2,
        "matrices",
        torch_fn=lambda a, b: torch_().tensordot(a, b, dims=([0], [0])),
    ),
    OpCase(
        "tensordot_int",
        lambda a, b: mg.tensordot(a, b, a.ndim),
        2,
        "same",
        torch_fn=lambda a, b: torch_().tensordot(a, b, dims=a.ndim),
    ),
    OpCase(  # unsorted axis pairs: both rules transpose their result back
        "tensordot_pairs",
        lambda a, b: mg.tensordot(a, b.transpose(2, 0, 1), axes=([2, 0], [0, 1])),
        2,
        "3d",
        torch_fn=lambda a, b: torch_().tensordot(a, b.permute(2, 0, 1), dims=([2, 0], [0, 1])),
    ),
    OpCase(
        "inner", lambda a, b: mg.inner(a, b), 2, "same", torch_fn=lambda a, b: torch_().inner(a, b)
    ),
    OpCase(
        "kron", lambda a, b: mg.kron(a, b), 2, "same", torch_fn=lambda a, b: torch_().kron(a, b)
    ),
    OpCase(
        "cross",
        lambda a, b: mg.cross(a, b),
        2,
        "vectors3",
        torch_fn=lambda a, b: torch_().linalg.cross(a, b),
    ),
    OpCase(
        "cross_axes",
        lambda a, b: mg.cross(mg.moveaxis(a, -1, 0), b, axisa=0, axisc=0),
        2,
        "vectors3",
        torch_fn=lambda a, b: torch_().linalg.cross(a, b).movedim(-1, 0),
    ),
    OpCase(
        "cross_2d",
        lambda a, b: mg.cross(a, b),
        2,
        "vectors2",
        torch_fn=lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
    ),
    OpCase(
        "repeat",
        lambda x: mg.repeat(x, 2, axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().repeat_interleave(x, 2, dim=0),
    ),
    OpCase(
        "repeat_counts",
        lambda x: mg.repeat(x, [2, 0, 3][: x.shape[0]], axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().repeat_interleave(
            x, torch_().tensor([2, 0, 3][: x.shape[0]]), dim=0
        ),
    ),
    OpCase(
        "repeat_flat",
        lambda x: mg.repeat(x, 3),
        torch_fn=lambda x: torch_().repeat_interleave(x.flatten(), 3),
    ),
    OpCase("tile", lambda x: mg.tile(x, (2, 1, 2)), torch_fn=lambda x: torch_().tile(x, (2, 1, 2))),
    OpCase(
        "pad",
        lambda x: mg.pad(x, ((1, 0), (2, 1)), constant_values=0.5),
        shapes="matrix",
        torch_fn=lambda x: torch_().nn.functional.pad(x, (2, 1, 1, 0), value=0.5),
    ),
    OpCase(
        "split",
        lambda x: _scaled(mg.split(x, [1], axis=0), 0),
        shapes="nonscalar",
        torch_fn=lambda x: _scaled(torch_().tensor_split(x, [1], dim=0), 0),
    ),
    OpCase(
        "array_split",
        lambda x: _scaled(mg.array_split(x, 2, axis=-1), -1),
        shapes="nonscalar",
        torch_fn=lambda x: _scaled(torch_().tensor_split(x, 2, dim=-1), -1),
    ),
    OpCase(
        "hsplit",
        lambda x: _scaled(mg.hsplit(x, [1]), 1),
        shapes="matrix",
        torch_fn=lambda x: _scaled(torch_().hsplit(x, [1]), 1),
    ),
    OpCase(
        "vsplit",
        lambda x: _scaled(mg.vsplit(x, [2]), 0),
        shapes="matrix",
        torch_fn=lambda x: _scaled(torch_().vsplit(x, [2]), 0),
    ),
    OpCase(
        "dsplit",
        lambda x: _scaled(mg.dsplit(x, [1]), 2),
        shapes="3d",
        torch_fn=lambda x: _scaled(torch_().dsplit(x, [1]), 2),
    ),
    OpCase(
        "append",
        lambda a, b: mg.append(a, b * 2),
        2,
        torch_fn=lambda a, b: torch_().cat([a.flatten(), (b * 2).flatten()]),
    ),
    OpCase(
        "append_axis0",
        lambda a, b: mg.append(a, b, axis=0),
        2,
        "same",
        torch_fn=lambda a, b: torch_().cat([a, b], 0),
    ),
    OpCase(
        "column_stack",
        lambda a, b: mg.column_stack([a, b * 2]),
        2,
        "same",
        torch_fn=lambda a, b: torch_().column_stack([a, b * 2]),
    ),
    OpCase(
        "dstack",
        lambda a, b: mg.dstack([a, b * 2]),
        2,
        "same",
        torch_fn=lambda a, b: torch_().dstack([a, b * 2]),
    ),
    OpCase("tril", lambda x: mg.tril(x, -1), shapes="matrix", torch_fn=lambda x: x.tril(-1)),
    OpCase("triu", lambda x: mg.triu(x, 1), shapes="3d", torch_fn=lambda x: x.triu(1)),
    OpCase("diag", lambda x: mg.diag(x, 1), shapes="matrix", torch_fn=lambda x: x.diag(1)),
    OpCase("diag_vector", lambda x: mg.diag(x, -1), shapes="vector", torch_fn=lambda x: x.diag(-1)),
    OpCase(
        "diagonal",
        lambda x: mg.diagonal(x, 1, 2, 0),
        shapes="3d",
        torch_fn=lambda x: x.diagonal(1, 2, 0),
    ),
    OpCase("trace", lambda x: mg.trace(x), shapes="matrix", torch_fn=lambda x: x.trace()),
    OpCase(
        "trace_axes",
        lambda x: mg.trace(x, -1, 1, 2),
        shapes="3d",
        torch_fn=lambda x: x.diagonal(-1, 1, 2).sum(-1),
    ),
    OpCase(
        "ravel",
        lambda x: mg.ravel(x.T),
        torch_fn=lambda x: x.permute(tuple(range(x.ndim - 1, -1, -1))).ravel(),
    ),
    OpCase(
        "moveaxis",
        lambda x: mg.moveaxis(x, [0, 1], [-1, 0]),
        shapes="3d",
        torch_fn=lambda x: x.movedim((0, 1), (-1, 0)),
    ),
    OpCase("atleast_1d", lambda x: mg.atleast_1d(x), torch_fn=lambda x: torch_().atleast_1d(x)),
    OpCase("atleast_2d", lambda x: mg.atleast_2d(x), torch_fn=lambda x: torch_().atleast_2d(x)),
    OpCase("atleast_3d", lambda x: mg.atleast_3d(x), torch_fn=lambda x: torch_().atleast_3d(x)),
    OpCase(
        "expand_dims_tuple",
        lambda x: mg.expand_dims(x, (0, -1)),
        torch_fn=lambda x: x.unsqueeze(0).unsqueeze(-1),
    ),
    OpCase(
        "swapaxes_keywords",
        lambda x: mg.swapaxes(x, axis1=0, axis2=2),
        shapes="3d",
        torch_fn=lambda x: x.swapaxes(0, 2),
    ),
    OpCase(
        "einsum_ellipsis",
        lambda a, b: mg.einsum("...ij,...kj->...ik", a, b),
        2,
        "3d",
        torch_fn=lambda a, b: torch_().einsum("...ij,...kj->...ik", a, b),
    ),
    OpCase(
        "einsum_diagonal",
        lambda x: mg.einsum("ii->i", x),
        shapes="n_by_n",
        torch_fn=lambda x: torch_().einsum("ii->i", x),
    ),
    OpCase(
        "einsum_trace",
        lambda x: mg.einsum("ii", x * x),
        shapes="n_by_n",
        torch_fn=lambda x: torch_().einsum("ii", x * x),
    ),
    OpCase(  # a diagonal times another operand: each rule reads the other
        "einsum_diagonal_product",
        lambda a, b: mg.einsum("ii,ij->j", a, b),
        2,
        "n_by_n",
        torch_fn=lambda a, b: torch_().einsum("ii,ij->j", a, b),
    ),
    OpCase(
        "einsum_sublist",
        lambda a, b: mg.einsum(a, [0, 1], b, [2, 1], [0, 2]),
        2,
        "matrices",
        torch_fn=lambda a, b: torch_().einsum(a, [0, 1], b, [2, 1], [0, 2]),
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
    # --- NumPy's cumulative, ordering and other functions (issue 18, part 2) ---
    OpCase("cumsum", lambda x: x.cumsum(), torch_fn=lambda x: torch_().cumsum(x.reshape(-1), 0)),
    OpCase(
        "cumsum_last",
        lambda x: mg.cumsum(x, axis=-1),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().cumsum(x, -1),
    ),
    OpCase(
        "cumprod_axis0",
        lambda x: mg.cumprod(x, axis=0),
        shapes="nonscalar",
        values=NOT_SUBNORMAL,
        torch_fn=lambda x: torch_().cumprod(x, 0),
    ),
    OpCase(
        "cumprod",
        lambda x: x.cumprod(),
        values=NOT_SUBNORMAL,
        torch_fn=lambda x: torch_().cumprod(x.reshape(-1), 0),
    ),
    OpCase(
        "sort_last",
        lambda x: mg.sort(x),
        shapes="nonscalar",
        values=DISTINCT,
        torch_fn=lambda x: torch_().sort(x, -1).values,
    ),
    OpCase(
        "sort_axis0",
        lambda x: mg.sort(x, axis=0),
        shapes="nonscalar",
        values=DISTINCT,
        torch_fn=lambda x: torch_().sort(x, 0).values,
    ),
    OpCase(
        # sorted afterwards: partition's own order of the others is unspecified. The factor
        # 4 + min(x) is at least 1 on the drawn values (within ±3), so it keeps them apart:
        # 1 + min(x) made every product 0, a tie sort cannot differentiate, at min(x) = −1
        "partition",
        lambda x: mg.sort(mg.partition(x, 0) * (4 + mg.partition(x, 0)[..., :1])),
        shapes="nonscalar",
        values=DISTINCT,
        torch_fn=lambda x: torch_().sort(x * (4 + x.min(-1, keepdim=True).values), -1).values,
    ),
    OpCase(
        "flip_axis0",
        lambda x: mg.flip(x, axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().flip(x, (0,)),
    ),
    OpCase("flip", lambda x: mg.flip(x), torch_fn=lambda x: torch_().flip(x, tuple(range(x.ndim)))),
    OpCase("flipud", lambda x: mg.flipud(x), shapes="nonscalar", torch_fn=lambda x: x.flipud()),
    OpCase("fliplr", lambda x: mg.fliplr(x), shapes="matrix", torch_fn=lambda x: x.fliplr()),
    OpCase(
        "roll_last",
        lambda x: mg.roll(x, 1, axis=-1),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().roll(x, 1, -1),
    ),
    OpCase(
        "roll_flat", lambda x: mg.roll(x, -2), op="roll", torch_fn=lambda x: torch_().roll(x, -2)
    ),
    OpCase(
        "roll_two_axes",
        lambda x: mg.roll(x, (1, -1), axis=(0, 2)),
        shapes="3d",
        op="roll",
        torch_fn=lambda x: torch_().roll(x, (1, -1), (0, 2)),
    ),
    OpCase(
        "diff_2_axis0",
        lambda x: mg.diff(x, n=2, axis=0),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().diff(x, n=2, dim=0),
    ),
    OpCase(
        "diff_prepend",
        lambda a, b: mg.diff(a, prepend=b),
        2,
        "same",
        torch_fn=lambda a, b: torch_().diff(a, prepend=b),
    ),
    OpCase("rot90", lambda x: mg.rot90(x), shapes="matrix", torch_fn=lambda x: x.rot90()),
    OpCase(
        "rot90_3_axes_2_0",
        lambda x: mg.rot90(x, 3, axes=(2, 0)),
        shapes="3d",
        torch_fn=lambda x: x.rot90(3, (2, 0)),
    ),
    OpCase("rot90_2", lambda x: mg.rot90(x, -2), shapes="matrix", torch_fn=lambda x: x.rot90(-2)),
    OpCase(
        "rollaxis",
        lambda x: mg.rollaxis(x, 2),
        shapes="3d",
        torch_fn=lambda x: torch_().movedim(x, 2, 0),
    ),
    OpCase(
        "rollaxis_start",
        lambda x: mg.rollaxis(x, 0, 3),
        shapes="3d",
        torch_fn=lambda x: torch_().movedim(x, 0, 2),
    ),
    OpCase("nan_to_num", lambda x: mg.nan_to_num(x), torch_fn=lambda x: torch_().nan_to_num(x)),
    OpCase("fabs", lambda x: mg.fabs(x), values={"avoid": (0.0,)}, torch_fn=lambda x: x.abs()),
    OpCase(
        "select",
        lambda a, b: mg.select([a > 0.5, a < -0.5], [a * b, b], default=a),
        2,
        "same",
        {"avoid": (0.5, -0.5)},
        torch_fn=lambda a, b: torch_().where(a > 0.5, a * b, torch_().where(a < -0.5, b, a)),
    ),
    OpCase(
        "gradient",  # joined to ≥ 3 along the axis, as edge_order 2 needs
        lambda x: mg.gradient(mg.concatenate([x, x * x, -x], axis=-1), 0.5, axis=-1),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().gradient(torch_().cat([x, x * x, -x], -1), spacing=0.5, dim=-1)[
            0
        ],
    ),
    OpCase(
        "gradient_edge_order_2",
        lambda x: mg.gradient(mg.concatenate([x, x * x, -x], axis=0), axis=0, edge_order=2),
        shapes="nonscalar",
        torch_fn=lambda x: torch_().gradient(torch_().cat([x, x * x, -x], 0), dim=0, edge_order=2)[
            0
        ],
    ),
    OpCase(
        "linspace",
        lambda a, b: mg.linspace(a, b, 5),
        2,
        "same",
        torch_fn=lambda a, b: torch_().stack([a + (b - a) * (i / 4) for i in range(5)]),
    ),
    OpCase(
        "linspace_no_endpoint_last_axis",
        lambda a, b: mg.linspace(a, b * b, 4, endpoint=False, axis=-1),
        2,
        "same",
        op="linspace",
        torch_fn=lambda a, b: torch_().stack([a + (b * b - a) * (i / 4) for i in range(4)], -1),
    ),
    OpCase("real", lambda x: mg.real(x) * 1.5, torch_fn=lambda x: torch_().real(x) * 1.5),
    OpCase("real_if_close", lambda x: mg.real_if_close(x) * 1.5, torch_fn=lambda x: x * 1.5),
    OpCase("conj", lambda x: mg.conj(x) * 1.5, torch_fn=lambda x: torch_().conj(x) * 1.5),
    OpCase("imag", lambda x: mg.imag(x) + x, torch_fn=lambda x: x * 1.0),
    OpCase(
        "angle",
        lambda x: mg.angle(x) + x,
        values={"avoid": (0.0,)},
        torch_fn=lambda x: torch_().angle(x) + x,
    ),
]


def _scaled(pieces: Any, axis: int) -> Any:
    """The pieces of a split joined again, piece i times i + 1 (so that a gradient sent
    to the wrong piece shows), with minigrad's or PyTorch's concatenate."""
    scaled = [p * (i + 1) for i, p in enumerate(pieces)]
    if isinstance(scaled[0], mg.Tensor):
        return mg.concatenate(scaled, axis=axis)
    return torch_().cat(scaled, dim=axis)
