"""Linear algebra: matrix products, the fused linear layer, einsum, the Euclidean norm."""

from __future__ import annotations

import builtins
import string
from typing import Any

import numpy as np

from minigrad.op import OUT, EveryInput, Op, ShapeError
from minigrad.ops.base import Axis, _shape
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


_LETTERS = string.ascii_uppercase + string.ascii_lowercase
"""Index letters in character order (a sublist's integer labels map onto them in order,
so an implicit output sorted by letter is sorted by label, as NumPy sorts it)."""


def _einsum_parse(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """The operands' and the output's letters, explicit: ``...`` replaced by a letter for
    each broadcast axis (right-aligned), an implicit output made explicit (the ellipsis
    axes, then the letters seen once, sorted). Raises ShapeError, naming the shapes,
    when an operand has the wrong number of axes or a letter two sizes."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, output = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(inputs)} operands, got {len(shapes)}")
    fits = f"einsum: {subscripts!r} does not fit operands of shapes {', '.join(map(str, shapes))}"
    for sub in (*inputs, output):
        named = sub.replace("...", "", 1)
        if not builtins.all(c in _LETTERS for c in named):
            raise ValueError(f"einsum: {sub!r} in {subscripts!r}: subscripts are letters and '...'")
    n_ellipsis = []
    for sub, shape in zip(inputs, shapes, strict=True):
        named = len(sub.replace("...", ""))
        if len(shape) < named or ("..." not in sub and len(shape) != named):
            raise ShapeError(f"{fits}: {sub!r} names {named} axes of {shape}")
        n_ellipsis.append(len(shape) - named)
    spare = [c for c in _LETTERS if c not in spec]
    ell = "".join(spare[: builtins.max(n_ellipsis, default=0)])
    inputs = [
        s.replace("...", ell[len(ell) - n :]) for s, n in zip(inputs, n_ellipsis, strict=True)
    ]
    if not arrow:  # implicit mode: the letters seen once, in alphabetical order
        letters = "".join(s.replace("...", "") for s in lhs.split(","))
        output = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    elif "..." in output:
        output = output.replace("...", ell)
    elif ell:
        raise ValueError(f"einsum: {subscripts!r} has '...' in an operand but not in the output")
    if len(set(output)) != len(output) or not set(output) <= set("".join(inputs)):
        raise ValueError(f"einsum: output {output!r} repeats a letter or names one no operand has")
    sizes: dict[str, set[int]] = {}
    for sub, shape in zip(inputs, shapes, strict=True):
        mine: dict[str, int] = {}
        for c, n in zip(sub, shape, strict=True):
            if mine.setdefault(c, n) != n:  # a diagonal needs a square
                raise ShapeError(f"{fits}: {c!r} is both {mine[c]} and {n} long in {sub!r}")
            sizes.setdefault(c, set()).add(n)
    for c, ns in sizes.items():
        if len(ns - {1}) > 1:  # a length-1 axis broadcasts, as in NumPy
            raise ShapeError(f"{fits}: index {c!r} has lengths {sorted(ns)}")
    return inputs, output


def _sublist_subscripts(args: tuple) -> tuple[str, tuple]:
    """NumPy's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as subscripts."""

    def letters(sublist: Any) -> str:
        return "".join("..." if i is Ellipsis else _LETTERS[i] for i in sublist)

    operands, sublists = list(args[0::2]), list(args[1::2])
    output = "->" + letters(operands.pop()) if len(args) % 2 else ""
    return ",".join(letters(s) for s in sublists) + output, tuple(operands)


def _einsum_grad(i: int, g: Any, out: Any, inputs: Any) -> Any:
    spec, xs = inputs[0], inputs[1:]
    lhs, _, output = spec.partition("->")
    subs, k = lhs.split(","), i - 1
    sub, x = subs[k], xs[k]
    others = [j for j in range(len(xs)) if j != k]
    known = set(output).union(*(subs[j] for j in others))
    distinct = "".join(dict.fromkeys(sub))  # a letter repeated in sub (a diagonal) once
    target = "".join(c for c in distinct if c in known)
    gk = _einsum(
        ",".join([output, *(subs[j] for j in others)]) + "->" + target, g, *(xs[j] for j in others)
    )
    got, size = dict(zip(target, gk.shape, strict=True)), dict(zip(sub, x.shape, strict=True))
    full_size = tuple(size[c] if got.get(c, 1) == 1 else got[c] for c in distinct)
    if gk.shape != full_size:
        # letters summed away in operand k alone, or of length 1 wherever else they occur
        # (broadcast against k's n): the gradient is the same along them. A letter of
        # length 1 in k but n elsewhere keeps n here; the engine sums it back to 1.
        kept = tuple(got.get(c, 1) for c in distinct)
        gk = broadcast_to(reshape(gk, kept), full_size)
    if distinct == sub:
        return gk
    # a repeated letter reads a diagonal: the gradient goes onto it, 0 elsewhere
    # (gk times an identity matrix for each repeat, a linear map: exact at every order)
    spare = iter(c for c in _LETTERS if c not in spec)
    full, deltas, eyes = "", [], []
    for c, n in zip(sub, x.shape, strict=True):
        if c in full:
            d = next(spare)
            full, deltas = full + d, [*deltas, c + d]
            eyes.append(np.eye(n, dtype=gk.dtype))
        else:
            full += c
    return _einsum(",".join([distinct, *deltas]) + "->" + full, gk, *eyes)


_einsum = Op(
    "einsum",
    lambda spec, *xs: np.einsum(spec, *xs),
    EveryInput(_einsum_grad),
    ("operand k gets the einsum of the gradient with the other operands",),
    view=lambda spec, *xs: len(xs) == 1,  # one operand (a transpose, a diagonal): maybe a view,
    source=lambda r, *args: f"np.einsum({', '.join(map(r, args))})",
)


@public(numpy=np.einsum, signature="einsum")
def einsum(subscripts: Any, *operands: Any) -> Any:
    """Einstein summation: explicit or implicit output, ``...`` for broadcast axes, a
    repeated letter for a diagonal (``'ii->i'``, ``'ii'``), and NumPy's sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    The gradient of an operand is itself an einsum of the upstream gradient with the
    other operands (put back on the diagonal for a repeated letter), so gradients of
    gradients work too.
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts, *operands))
    inputs, output = _einsum_parse(subscripts, [_shape(x) for x in operands])
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
