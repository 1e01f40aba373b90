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

import minigrad as mg


@dataclass(frozen=True)
class OpCase:
    name: str
    fn: Callable[..., Any]
    arity: int = 1
    # "any", "nonscalar" (ndim ≥ 1), "matrix", "3d", "broadcast", "matmul", "same" (two
    # inputs of one shape), "linear" (x of shape (..., d) and a weight (k, d))
    shapes: str = "any"
    values: dict = field(default_factory=dict)  # options for minigrad.testing.arrays
    torch_fn: Callable[..., Any] | None = None  # None: `fn` also works on torch tensors
    second_order: bool = True  # gradgradcheck too (off where the gradient has jumps)

    def __str__(self) -> str:
        return self.name


POSITIVE = {"positive": True, "margin": 0.2}
DISTINCT = {"distinct_gap": 0.05}

OPS = [
    OpCase("add", lambda a, b: a + b, 2, "broadcast"),
    OpCase("sub", lambda a, b: a - b, 2, "broadcast"),
    OpCase("mul", lambda a, b: a * b, 2, "broadcast"),
    OpCase("div", lambda a, b: a / b, 2, "broadcast", {"avoid": (0.0,), "margin": 0.3}),
    OpCase("pow_tensor", lambda a, b: a**b, 2, "broadcast", POSITIVE),
    OpCase("radd_scalar", lambda x: 1.5 + x),
    OpCase("rsub_scalar", lambda x: 1.5 - x),
    OpCase("rmul_scalar", lambda x: 1.5 * x),
    OpCase("rdiv_scalar", lambda x: 1.5 / x, values={"avoid": (0.0,), "margin": 0.3}),
    OpCase("pow_2", lambda x: x**2),
    OpCase("pow_3", lambda x: x**3),
    OpCase("pow_half", lambda x: x**0.5, values=POSITIVE),
    OpCase("pow_minus_1", lambda x: x**-1, values={"avoid": (0.0,), "margin": 0.3}),
    OpCase("rpow", lambda x: 2.0**x),
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
]
