"""Linear algebra: matrix products, the fused linear layer, einsum, the Euclidean norm."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.op import OUT, EveryInput, Op
from minigrad.ops.base import Axis
from minigrad.ops.elementwise import add, where
from minigrad.ops.reductions import _reduction, _unreduce
from minigrad.ops.registry import public
from minigrad.ops.shape import broadcast_to, expand_dims, reshape, sum_to, swapaxes, transpose


def _matmul_grad_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # (..., k) @ (k,) -> (...): the gradient is an outer product
        return expand_dims(g, -1) * b
    if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n); the engine sums the batch away
        return reshape(matmul(expand_dims(g, -2), swapaxes(b)), (*g.shape[:-1], b.shape[-2]))
    return matmul(g, swapaxes(b))


def _matmul_grad_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        if b.ndim == 1:  # dot product
            return g * a
        return expand_dims(a, -1) * expand_dims(g, -2)  # (k, 1) * (..., 1, n)
    if b.ndim == 1:  # (..., m, k) @ (k,): Aᵀg without materialising an (m, k) array
        if a.ndim == 2:
            return matmul(swapaxes(a), g)
        return reshape(matmul(swapaxes(a), expand_dims(g, -1)), (*a.shape[:-2], a.shape[-1]))
    return matmul(swapaxes(a), g)


matmul = Op(
    "matmul",
    np.matmul,
    (_matmul_grad_a, _matmul_grad_b),
    ("∂(A@B)/∂A: g @ Bᵀ", "∂(A@B)/∂B: Aᵀ @ g"),
    saves=((1,), (0,)),
    source="{0} @ {1}",
)
public(matmul, numpy=np.matmul)


def _linear_forward(x: Any, weight: Any, bias: Any) -> Any:
    out = np.matmul(x, weight.T)
    if bias is None:
        return out
    if bias.dtype != out.dtype:
        return out + bias  # NumPy's promotion, exactly as in x @ Wᵀ + b
    try:
        out += bias  # in place: the matmul result is fresh, and this saves a full copy
    except ValueError:  # a bias that broadcasts the output to a larger shape
        return out + bias
    return out


def _product_part(g: Any, x: Any, weight: Any) -> Any:
    """g summed to the shape of x @ Wᵀ: a bias may have broadcast the output beyond it,
    and the x and W rules are written for the product's own shape."""
    shape = (*x.shape[:-1], *weight.shape[:-1])
    return g if g.shape == shape else sum_to(g, shape)


def _linear_grad_x(g: Any, out: Any, x: Any, weight: Any, bias: Any) -> Any:
    g = _product_part(g, x, weight)
    if weight.ndim == 1:  # one output: out = x·w, so ∂/∂x is the outer product g wᵀ
        return g.reshape((*g.shape, 1)) * weight
    return g @ weight


def _linear_grad_weight(g: Any, out: Any, x: Any, weight: Any, bias: Any) -> Any:
    g = _product_part(g, x, weight)
    if x.ndim == 1:  # a single example: the outer product g xᵀ (or g·x for a 1-D weight)
        return g * x if weight.ndim == 1 else g.reshape((*g.shape, 1)) * x
    if x.ndim == 2:
        return x.T @ g if weight.ndim == 1 else g.T @ x  # Xᵀg: one BLAS call
    if weight.ndim == 1:  # batches of batches: the engine sums the leading axes
        return (swapaxes(x) @ g.reshape((*g.shape, 1))).reshape((*x.shape[:-2], x.shape[-1]))
    return swapaxes(g) @ x


linear = Op(
    "linear",
    _linear_forward,
    (_linear_grad_x, _linear_grad_weight, lambda g, out, x, weight, bias: g),
    ("∂(xWᵀ+b)/∂x: g @ W", "∂(xWᵀ+b)/∂W: gᵀ @ x", "∂(xWᵀ+b)/∂b: Σ over examples of g"),
    saves=((1,), (0,), ()),
    lowering=lambda x, weight, bias: (
        matmul(x, transpose(weight, None))
        if bias is None
        else add(matmul(x, transpose(weight, None)), bias)
    ),
)
"""x @ weightᵀ + bias in one op (PyTorch's F.linear): one output array instead of two,
which halves the graph's memory for a large batch. weight is (out_features, in_features),
or (in_features,) for a single output without an output axis; bias may be None."""


def _einsum_spec(subscripts: str, n: int) -> tuple[list[str], str]:
    """The operands' and the output's index letters of an einsum we can differentiate."""
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise TypeError("einsum: '...' is not supported by minigrad; name every axis")
    lhs, arrow, output = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != n:
        raise ValueError(f"einsum: {subscripts!r} names {len(inputs)} operands, got {n}")
    for sub in inputs:
        if len(set(sub)) != len(sub):
            raise TypeError(
                f"einsum: an index repeated within one operand ({sub!r}, a diagonal) is "
                "not supported by minigrad"
            )
    if not arrow:  # implicit mode: the letters seen once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, output


def _einsum_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    spec, xs = inputs[0], inputs[1:]
    subs, output = _einsum_spec(spec, len(xs))
    k = i - 1
    others = [j for j in range(len(xs)) if j != k]
    known = set(output).union(*(subs[j] for j in others))
    target = "".join(c for c in subs[k] if c in known)
    gk = einsum(
        ",".join([output, *(subs[j] for j in others)]) + "->" + target, g, *(xs[j] for j in others)
    )
    if target == subs[k]:
        return gk
    # letters summed away in operand k alone: the gradient is the same along them
    kept = tuple(n if c in known else 1 for c, n in zip(subs[k], xs[k].shape, strict=True))
    return broadcast_to(reshape(gk, kept), xs[k].shape)


_einsum = Op(
    "einsum",
    lambda spec, *xs: np.einsum(spec, *xs),
    EveryInput(_einsum_grad),
    ("operand k gets the einsum of the gradient with the other operands",),
    view=lambda spec, *xs: len(xs) == 1,  # one operand (a transpose): maybe a view,
    source=lambda r, *args: f"np.einsum({', '.join(map(r, args))})",
)


@public(numpy=np.einsum, signature="einsum")
def einsum(subscripts: str, *operands: Any) -> Any:
    """Einstein summation with explicit or implicit output (no ``...``, no diagonals).

    The gradient of an operand is itself an einsum of the upstream gradient with the
    other operands, so gradients of gradients work too.
    """
    inputs, output = _einsum_spec(subscripts, len(operands))
    return _einsum(",".join(inputs) + "->" + output, *operands)


def _l2norm_grad(g: Any, out: Any, x: Any, axis: Any, keepdims: Any) -> Any:
    # ∂‖x‖/∂xᵢ = xᵢ/‖x‖; at x = 0 every xᵢ is 0 and so is the result (0 is a
    # subgradient of the cone's tip): divide by 1 there, a constant mask on ‖x‖ = 0
    out = _unreduce(out, x, axis)
    return _unreduce(g, x, axis) * x / where(out == 0, 1.0, out)


_l2norm = Op(
    "norm",
    lambda x, axis, keepdims: np.sqrt((x * x).sum(axis=axis, keepdims=keepdims)),
    (_l2norm_grad, None, None),
    ("∂‖x‖/∂xᵢ = xᵢ/‖x‖  (0 at x = 0)",),
    saves=((0, OUT), (), ()),
)


def euclidean_norm(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """The Euclidean (Frobenius) norm √Σx² over ``axis``; its gradient is 0 at x = 0.
    (``mg.linalg.norm``, with every ``ord`` NumPy takes, is in :mod:`.norms`.)"""
    return _reduction(_l2norm, x, axis, keepdims)
