"""The ops (minigrad/ops/): first every op of the op table, on hypothesis-drawn shapes and
values:

- autograd against central finite differences (float64), broadcasting included;
- second derivatives (gradgradcheck) where the first derivative is smooth;
- values and gradients against PyTorch, when it is installed.

Then, by kind of op (as minigrad/ops/ is split), what the op table's properties do not
reach: axes and argument checks, dtypes of gradients (read through
``minigrad.autograd.grad``, which returns a gradient as the rules made it, while ``.grad``
on a leaf is cast to the leaf's dtype), ties, zeros, empty shapes, infinities, and the
text of the errors. Expected values are NumPy's own results on plain arrays, derivatives
worked out by hand, or central finite differences.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad import testing as mt
from minigrad.autograd import grad as autograd_grad
from tests.helpers import central_diff, grad_of
from tests.op_table import OPS, OpCase

SHAPES = {
    "any": mt.shapes(max_dims=3, max_side=3),
    "nonscalar": mt.shapes(min_dims=1, max_dims=3, max_side=3),
    "matrix": mt.shapes(min_dims=2, max_dims=2, max_side=3),
    "3d": mt.shapes(min_dims=3, max_dims=3, max_side=3),
    "vector": mt.shapes(min_dims=1, max_dims=1, max_side=4),
    "n_by_n": mt.shapes(min_dims=1, max_dims=1, max_side=3).map(lambda s: s * 2),
    "vectors3": mt.shapes(min_dims=0, max_dims=2, max_side=3).map(lambda s: (*s, 3)),
    "vectors2": mt.shapes(min_dims=0, max_dims=2, max_side=3).map(lambda s: (*s, 2)),
}


def _orthogonal(data: st.DataObject, batch: tuple[int, ...], n: int) -> np.ndarray:
    """An orthogonal matrix per batch entry: Q of the QR of a drawn well-conditioned one."""
    x = data.draw(mt.arrays((*batch, n, n), min_value=-1.0, max_value=1.0)) + 3 * np.eye(n)
    return np.linalg.qr(x)[0]


def draw_matrices(data: st.DataObject, kind: str) -> np.ndarray:
    """Well-conditioned (stacks of) matrices Q₁ diag(s) Q₂ᵀ, with |s| in [0.5, 2] and the
    s pairwise 0.1 apart (distinct eigen- and singular values): "square" (s of either
    sign), "spd" (Q₂ = Q₁, s > 0: symmetric positive definite) or "wellcond" (m × n)."""
    batch = data.draw(mt.shapes(min_dims=0, max_dims=1, max_side=2))
    m = data.draw(st.integers(1, 3))
    n = m if kind in ("square", "spd") else data.draw(st.integers(1, 3))
    k = min(m, n)
    s = data.draw(mt.arrays((*batch, k), min_value=0.5, max_value=2.0, distinct_gap=0.1))
    if kind == "square":
        s = s * np.where(data.draw(mt.arrays((*batch, k), avoid=(0.0,))) > 0, 1.0, -1.0)
    left = _orthogonal(data, batch, m)[..., :k]
    right = left if kind == "spd" else _orthogonal(data, batch, n)[..., :k]
    a = left @ (s[..., :, None] * np.swapaxes(right, -1, -2))
    return (a + np.swapaxes(a, -1, -2)) / 2 if kind == "spd" else a


def draw_inputs(data: st.DataObject, case: OpCase) -> list[np.ndarray]:
    values = dict(case.values)
    if case.shapes in ("square", "spd", "wellcond"):
        return [draw_matrices(data, case.shapes)]
    if case.shapes == "solve":  # b: one vector, or matrices with a's batch axes
        a = draw_matrices(data, "square")
        vector = data.draw(st.booleans())
        k = data.draw(st.integers(1, 3))
        shape = a.shape[-1:] if vector else (*a.shape[:-1], k)
        return [a, data.draw(mt.arrays(shape))]
    if case.shapes in ("broadcast", "matmul"):
        pairs = mt.broadcastable_shapes(max_side=3) if case.shapes == "broadcast" else None
        if case.shapes == "matmul":
            pairs = mt.matmul_shapes(max_batch_dims=1, max_side=3)
        return list(data.draw(mt.array_pairs(pairs, **values)))
    if case.shapes == "linear":
        batch = data.draw(mt.shapes(min_dims=0, max_dims=2, max_side=3))
        d, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
        return [data.draw(mt.arrays((*batch, d), **values)), data.draw(mt.arrays((k, d)))]
    if case.shapes in ("same", "matrices"):
        dims = 2 if case.shapes == "matrices" else 1
        shape = data.draw(mt.shapes(min_dims=dims, max_dims=2, max_side=3))
        return list(data.draw(mt.array_pairs(st.just((shape, shape)), **values)))
    shape = data.draw(SHAPES[case.shapes])
    return [data.draw(mt.arrays(shape, **values)) for _ in range(case.arity)]


@pytest.mark.parametrize("case", OPS, ids=str)
@settings(max_examples=7)
@given(data=st.data())
def test_gradient_matches_finite_differences(case: OpCase, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case)
    inputs = [mg.tensor(a, requires_grad=True) for a in arrays]
    assert mg.gradcheck(case.fn, *inputs)
    np.testing.assert_array_equal(inputs[0].data, arrays[0])  # gradcheck never mutates


@pytest.mark.parametrize("case", [c for c in OPS if c.second_order], ids=str)
@settings(max_examples=3)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(case: OpCase, data: st.DataObject) -> None:
    inputs = [mg.tensor(a, requires_grad=True) for a in draw_inputs(data, case)]
    assert mg.gradgradcheck(case.fn, *inputs)


@pytest.mark.parametrize("case", OPS, ids=str)
@settings(max_examples=6)
@given(data=st.data())
def test_matches_pytorch(case: OpCase, data: st.DataObject) -> None:
    torch = pytest.importorskip("torch")
    arrays = draw_inputs(data, case)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = case.fn(*ours)
    expected = (case.torch_fn or case.fn)(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)

    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in OPS if c.shapes != "matmul"], ids=str)
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(case: OpCase, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case)
    inputs = [mg.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = case.fn(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for x in inputs:
        assert x.grad.dtype == np.float32


RNG = np.random.default_rng(2)  # inputs of the tests below that need no particular values
F16, F32, F64 = np.float16, np.float32, np.float64


# =========================================================================================
# applying ops: axes, ops without a gradient
# =========================================================================================


@pytest.mark.parametrize("axis", ["0", (0, 1.5), True, (1, False)])
def test_an_axis_must_be_an_integer(axis):
    with pytest.raises(TypeError, match="an axis must be an integer"):
        mg.tensor(A).sum(axis=axis)


def test_axes_of_numpy_integer_type_are_accepted():
    np.testing.assert_array_equal(mg.tensor(A).sum(axis=np.int64(1)).numpy(), A.sum(axis=1))
    np.testing.assert_array_equal(
        mg.tensor(A).sum(axis=(np.int32(0), np.int32(1))).numpy(), A.sum()
    )


def test_axis_ranges():
    v = mg.tensor([1.0, 2.0])
    assert v.sum(axis=-1).item() == 3.0
    with pytest.raises(mg.ShapeError, match="axis 1 is out of range for a tensor with 1 dim"):
        v.sum(axis=1)
    with pytest.raises(mg.ShapeError, match="axis -2 is out of range"):
        v.sum(axis=-2)
    s = mg.tensor(2.0)
    assert s.sum(axis=-1).item() == s.sum(axis=0).item() == 2.0  # as in PyTorch
    with pytest.raises(mg.ShapeError, match="axis 1 is out of range for a tensor with 0 dim"):
        s.sum(axis=1)


def test_an_op_without_gradient_has_one_empty_rule_per_input_and_reads_nothing():
    # made at test time: mutmut can only switch a mutant on in code that runs in a test
    less = ops._no_gradient("less", np.less, 2)
    assert less.name == "less" and repr(less) == "<op less>"
    assert tuple(less.vjps) == (None, None) and not less.differentiable
    assert less.derivatives == ("no gradient", "no gradient")
    assert less.saves == ()
    got = less(mg.tensor([1.0, 3.0], requires_grad=True), 2.0)
    assert not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), [True, False])
    with pytest.raises(mg.ShapeError, match=r"^less: incompatible shapes \(2,\) and \(3,\)"):
        less(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0, 3.0]))


# =========================================================================================
# elementwise: casts, where and comparisons, clip at its bounds, sqrt and pow at zero
# =========================================================================================


def test_cast_between_float_dtypes_is_recorded_and_casts_the_gradient_back():
    x = mg.tensor([1.5, -2.0], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()  # ∂Σy²/∂x = 2x, cast back to float64
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_cast_to_the_same_dtype_is_the_tensor_itself():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert x.astype(np.float64) is x
    assert ops.cast(x, "float64") is x


def test_cast_to_integer_cuts_the_graph_and_complex_is_refused():
    x = mg.tensor([1.7, -2.2], requires_grad=True)
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i.numpy(), [1, -2])
    with pytest.raises(TypeError, match=r"^complex tensors are not supported$"):
        x.astype(np.complex128)


def test_cast_of_a_plain_array_or_list_is_an_array():
    got = ops.cast([1, 2], np.float32)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_array_equal(got, [1.0, 2.0])


def test_where_detaches_a_condition_that_requires_grad():
    cond = mg.tensor([1.0, 0.0], requires_grad=True)
    a = mg.tensor([2.0, 3.0], requires_grad=True)
    out = mg.where(cond, a, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0])
    assert cond.grad is None


def test_a_comparison_of_incompatible_shapes_names_them():
    with pytest.raises(mg.ShapeError, match=r"less: incompatible shapes \(2,\) and \(3,\)"):
        _ = mg.tensor([1.0, 2.0]) < mg.tensor([1.0, 2.0, 3.0])


def clip_grads(x, lo, hi):
    """The gradients of Σ clip(x, lo, hi) for x and for each bound given as an array."""
    xt = mg.tensor(x, requires_grad=True)
    lt = None if lo is None else mg.tensor(lo, requires_grad=True)
    ht = None if hi is None else mg.tensor(hi, requires_grad=True)
    out = mg.clip(xt, lt, ht)
    out.sum().backward()
    return [None if t is None else t.grad.numpy() for t in (xt, lt, ht)]


def test_clip_with_only_hi_passes_the_gradient_to_x_at_the_bound():
    # clip(x, hi=h) = min(x, h): x gets 1 where x ≤ h (inclusive), h where x > h
    x, h = np.array([0.5, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    gx, _, gh = clip_grads(x, None, h)
    np.testing.assert_array_equal(gx, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 1.0])


def test_clip_with_only_lo_passes_the_gradient_to_x_at_the_bound():
    # clip(x, lo=l) = max(x, l): x gets 1 where x ≥ l (inclusive), l where x < l
    x, lo = np.array([0.5, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    gx, gl, _ = clip_grads(x, lo, None)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(gl, [1.0, 0.0, 0.0])


def test_clip_at_either_bound_passes_the_gradient_to_x():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    lo, hi = np.zeros(5), np.ones(5)
    gx, gl, gh = clip_grads(x, lo, hi)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gl, [1.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 0.0, 0.0, 1.0])


def test_clip_with_equal_bounds_gives_the_gradient_to_exactly_one_input():
    # lo = hi = 1: min(max(x, lo), hi) is lo for x < 1 (max picks lo, min keeps it),
    # x itself at x = 1 (inside, bounds inclusive) and hi for x > 1 (max(x, lo) > hi)
    x = np.array([0.0, 1.0, 2.0])
    gx, gl, gh = clip_grads(x, np.ones(3), np.ones(3))
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(gl, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 1.0])


def test_clip_needs_a_bound_message():
    with pytest.raises(ValueError, match=r"^clip needs at least one of lo, hi$"):
        mg.clip(mg.tensor([1.0]))


@pytest.mark.parametrize("upstream", [1.0, -2.0])
def test_sqrt_at_zero_with_a_nonzero_upstream_gradient_is_infinite(upstream):
    # d√x/dx = 1/(2√x): ±inf at 0 (sign of the upstream gradient), 1/4 at x = 4
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    x.sqrt().backward(np.array([upstream, upstream]))
    np.testing.assert_array_equal(x.grad.numpy(), [upstream * np.inf, upstream * 0.25])


def test_sqrt_gradient_at_zero_with_zero_upstream_is_zero_even_when_every_value_is_zero():
    # d√x/dx = 1/(2√x): the convention at x = 0 with upstream 0 is 0, not 0/0 = nan
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    x.sqrt().backward(np.array([0.0, 0.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    assert ops._safe_div(np.array([0.0, 2.0, -2.0]), np.zeros(3)).tolist() == [
        0.0,
        np.inf,
        -np.inf,
    ]


@pytest.mark.parametrize("fn", [mg.maximum, mg.minimum])
def test_maximum_minimum_gradients_of_float32_are_float32(fn):
    a = mg.tensor(np.array([1.0, 3.0, 5.0], F32), requires_grad=True)
    b = mg.tensor(np.array([2.0, 3.0, 4.0], F32), requires_grad=True)
    ga, gb = autograd_grad(fn(a, b).sum(), [a, b])
    assert ga.dtype == F32 and gb.dtype == F32
    # 1 where the input is the output alone, ½ at the tie
    big = np.array([0.0, 0.5, 1.0]) if fn is mg.maximum else np.array([1.0, 0.5, 0.0])
    np.testing.assert_array_equal(ga.numpy(), big)
    np.testing.assert_array_equal(gb.numpy(), 1 - big)


def test_maximum_of_float64_keeps_float64_under_a_float32_upstream():
    # the share is in the output's precision, whatever the upstream's dtype
    a = mg.tensor([1.0, 3.0], requires_grad=True)
    b = mg.tensor([2.0, 3.0], requires_grad=True)
    ga, gb = autograd_grad(mg.maximum(a, b), [a, b], grad_output=np.ones(2, F32))
    assert ga.dtype == F64 and gb.dtype == F64
    np.testing.assert_array_equal(ga.numpy(), [0.0, 0.5])


def test_maximum_of_float16_passes_the_gradient_on_in_float32():
    # y = max((x·c1)·c2, b) with x the larger: ∂y/∂x = c2·c1, and the upstream g times it
    # is rounded once to float16 at the leaf (11.37); rounding after each factor, as a
    # float16 share would make the rules below it do, gives 11.375
    g, c1, c2 = 2.2109375, 2.4609375, 2.08984375  # all exact in float16
    x = mg.tensor(np.array([1.0], F16), requires_grad=True)
    y = mg.maximum((x * c1) * c2, mg.tensor(np.array([0.0], F16)))
    y.backward(np.array([g], F16))
    np.testing.assert_array_equal(x.grad.numpy(), [F16(g * c1 * c2)])


def test_pow_base_gradient_at_a_zero_base_with_a_zero_exponent_array():
    # ∂(aᵇ)/∂a = b·aᵇ⁻¹: at (0, 0) it is 0 (x⁰ ≡ 1), at (3, 1) it is 1·3⁰ = 1
    (ga,) = grad_of(lambda a: a ** np.array([0.0, 1.0]), np.array([0.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.0, 1.0])
    ga, gb = grad_of(lambda a, b: a**b, np.array([0.0, 3.0]), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(ga, [0.0, 1.0])
    np.testing.assert_allclose(gb, [0.0, 3 * np.log(3.0)], rtol=1e-15)  # aᵇ·ln a, 0 at a = 0


@pytest.mark.parametrize("exponent", [0, 0.0, "tensor"])
def test_pow_base_gradient_of_float32_at_zero_is_float32(exponent):
    # the a = b = 0 mask is built in the base's dtype; ∂(x⁰)/∂x = 0 everywhere
    x = mg.tensor(np.array([0.0, 3.0], F32), requires_grad=True)
    if exponent == "tensor":
        exponent = mg.tensor(np.zeros(2, F32), requires_grad=True)
    (g,) = autograd_grad((x**exponent).sum(), [x])
    assert g.dtype == F32
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_pow_builds_the_zero_mask_only_where_a_zero_base_meets_a_zero_exponent(monkeypatch):
    # an ordinary backward on arrays takes the plain b·aᵇ⁻¹ unless some aᵢ = bᵢ = 0
    calls = []
    real = ops.logical_and

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(ops.elementwise, "logical_and", counting)  # where pow's rule looks
    # zeros in a alone, and in b alone: b·aᵇ⁻¹ = [2·0, 0·3⁻¹] = [0, 0]
    (ga,) = grad_of(lambda a: a ** np.array([2.0, 0.0]), np.array([0.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.0, 0.0])
    assert calls == []
    (ga,) = grad_of(lambda a: a ** np.array([0.0, 2.0]), np.array([0.0, 3.0]))
    np.testing.assert_array_equal(ga, [0.0, 6.0])
    assert len(calls) == 1


def test_pow_exponent_gradient_is_zero_where_the_base_is_not_positive():
    # ∂(aᵇ)/∂b = aᵇ·ln a; at a = 0 (b = 2) aᵇ = 0 for every b > 0, so the slope is 0;
    # at a < 0 ln a is undefined and the documented convention is 0; at a = 2 it is 4 ln 2
    a = np.array([0.0, -2.0, 2.0])
    (gb,) = grad_of(lambda b: a**b, np.array([2.0, 2.0, 2.0]))
    np.testing.assert_allclose(gb, [0.0, 0.0, 4 * np.log(2.0)], rtol=1e-15, atol=0)


# =========================================================================================
# shape: the broadcast view, sum_to_shape, transpose, expand_dims, squeeze, flatten
# =========================================================================================


def test_broadcast_view_of_a_non_contiguous_array():
    x = np.arange(6.0).reshape(2, 3).T  # (3, 2), not C-contiguous
    got = ops.broadcast_to(x, (4, 3, 2))
    np.testing.assert_array_equal(got, np.broadcast_to(x, (4, 3, 2)))


@pytest.mark.parametrize(
    ("shape", "target"), [((3,), (2, 4)), ((2,), (4,)), ((2, 3), (3,)), ((2, 3), (4, 3))]
)
def test_broadcast_view_refuses_what_numpy_refuses(shape, target):
    with pytest.raises(mg.ShapeError, match="broadcast_to: incompatible shapes"):
        ops.broadcast_to(np.zeros(shape), target)


def test_broadcast_view_is_read_only_and_shares_memory():
    x = np.arange(3.0)
    view = ops.broadcast_to(x, (2, 3))
    assert not view.flags.writeable
    assert np.shares_memory(view, x)
    np.testing.assert_array_equal(view, [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])


@pytest.mark.parametrize(
    ("shape", "target"), [((3,), (2, 3)), ((1, 3), (2, 3)), ((2, 1), (2, 4)), ((1, 1), (1, 1))]
)
def test_broadcast_view_of_a_contiguous_array_is_built_without_numpy(monkeypatch, shape, target):
    # the fast path exists because np.broadcast_to costs more than a small backward pass:
    # a C-contiguous input whose shape broadcasts must never reach it
    x = np.arange(float(np.prod(shape))).reshape(shape)
    expected = np.broadcast_to(x, target).copy()  # NumPy's own, before it is refused

    def refuse(*args, **kwargs):
        raise AssertionError("np.broadcast_to called for a contiguous array")

    monkeypatch.setattr(np, "broadcast_to", refuse)
    view = ops._broadcast_view(x, target)
    assert view.shape == target
    np.testing.assert_array_equal(view, expected)
    assert not view.flags.writeable and np.shares_memory(view, x)


def test_broadcast_view_to_fewer_dimensions_is_refused_with_numpys_reason():
    # (1, 3) → (3,): the size-1 leading axis cannot be dropped; the reason is NumPy's
    x = np.zeros((1, 3))
    with pytest.raises(ValueError) as numpy_err:
        np.broadcast_to(x, (3,))
    with pytest.raises(mg.ShapeError) as err:
        ops.broadcast_to(x, (3,))
    assert str(numpy_err.value) in str(err.value)


def test_sum_to_shape_by_hand():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ops.sum_to_shape(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(ops.sum_to_shape(g, (1, 4)), g.sum(axis=(0, 1))[None, :])
    np.testing.assert_array_equal(ops.sum_to_shape(g, (2, 3, 4)), g)
    np.testing.assert_array_equal(ops.sum_to_shape(g, ()), g.sum())


@pytest.mark.parametrize("axes", [(-1, 0, 1), (1, -1, -3), (-2, -3, -1)])
def test_transpose_gradient_with_negative_axes_routes_each_element_back(axes):
    # out[j] = x[i] with jₖ = i[axes[k]]: so ∂Σ(g ⊙ out)/∂x[i] = g[j], element by element
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4))
    g = rng.standard_normal(np.transpose(x, axes).shape)
    (got,) = grad_of(lambda t: ops.transpose(t, axes), x, upstream=g)
    expected = np.empty_like(x)
    for i in np.ndindex(x.shape):
        expected[i] = g[tuple(i[a] for a in axes)]
    np.testing.assert_array_equal(got, expected)


def test_expand_dims_range():
    x = mg.tensor(np.zeros((2, 3)))
    # valid axes run from −3 to 2 for a 2-D input (the result has 3 axes)
    assert mg.unsqueeze(x, -3).shape == (1, 2, 3)
    assert mg.unsqueeze(x, 2).shape == (2, 3, 1)
    assert mg.unsqueeze(x, -1).shape == (2, 3, 1)
    for axis in (3, -4):
        with pytest.raises(mg.ShapeError, match=rf"axis {axis} is out of range for shape \(2, 3\)"):
            mg.unsqueeze(x, axis)


def test_squeeze_drops_only_the_axes_named():
    x = mg.tensor(np.zeros((1, 3, 1)))
    assert mg.squeeze(x, 0).shape == (3, 1)
    assert mg.squeeze(x, -1).shape == (1, 3)
    assert mg.squeeze(x, 1).shape == (1, 3, 1)  # not of size 1: kept, as in PyTorch
    assert mg.squeeze(x).shape == (3,)


def test_flatten_errors_name_the_argument_and_the_range():
    x = mg.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="start_dim must be an integer"):
        mg.flatten(x, start_dim=1.0)
    with pytest.raises(TypeError, match="end_dim must be an integer"):
        mg.flatten(x, end_dim=True)
    with pytest.raises(mg.ShapeError, match=r"end_dim=3 is out of range .* 3 dimension\(s\)"):
        mg.flatten(x, end_dim=3)
    with pytest.raises(mg.ShapeError, match=r"start_dim=-4 .*expected -3 … 2"):
        mg.flatten(x, start_dim=-4)
    with pytest.raises(mg.ShapeError, match=r"start_dim=2 comes after end_dim=1 .*\(2, 3, 4\)"):
        mg.flatten(x, 2, 1)
    assert mg.flatten(x, -3, -1).shape == (24,)
    assert mg.flatten(x, 1, 1).shape == (2, 3, 4)
    assert mg.flatten(mg.tensor(5.0)).shape == (1,)


def test_functions_taking_shapes_accept_lists_and_numbers():
    # _shape reads a list's or a number's shape with np.shape, not an attribute
    assert ops.expand_dims([1.0, 2.0], 0).shape == (1, 2)
    assert ops.flatten([[1.0, 2.0], [3.0, 4.0]]).shape == (4,)
    assert ops.prod([2.0, 3.0, 4.0]) == 24.0
    assert ops.argmax([1.0, 5.0, 2.0]) == 1
    assert ops.flatten(3.0).shape == (1,)


# =========================================================================================
# reductions: sum, mean, max/min and their ties, argmax/argmin, logsumexp, softmax
# =========================================================================================


@pytest.mark.parametrize(("fn", "ref"), [(ops.sum, np.sum), (ops.max, np.max), (ops.min, np.min)])
def test_reductions_drop_the_reduced_axes_by_default(fn, ref):
    x = np.array([[3.0, -1.0, 4.0], [1.0, 5.0, -9.0]])
    for args in [(), (0,), (1,)]:
        got = fn(x, *args)
        expected = ref(x, *args)
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_array_equal(got, expected)
    assert fn(mg.tensor(x)).shape == ()


def test_reductions_take_nested_lists():
    rows = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(ops.sum(rows, axis=0), np.sum(rows, axis=0))
    np.testing.assert_array_equal(ops.max(rows, axis=1), np.max(rows, axis=1))


def test_max_over_a_non_empty_axis_of_an_empty_tensor_is_empty():
    got = mg.tensor(np.zeros((0, 3))).max(axis=1)
    assert got.shape == (0,)
    with pytest.raises(ValueError, match=r"max over an empty axis \(shape \(0, 3\), axis 0\)"):
        mg.tensor(np.zeros((0, 3))).max(axis=0)
    assert mg.tensor(np.ones((1, 3))).max().item() == 1.0


def test_mean_reduces_to_a_scalar_by_default():
    a = np.arange(6.0).reshape(2, 3)
    got = ops.mean(mg.tensor(a))
    assert got.shape == ()
    np.testing.assert_allclose(got.numpy(), np.mean(a))
    assert ops.mean(a, axis=0).shape == (3,)


@pytest.mark.parametrize("reduce", [ops.max, ops.min])
def test_max_min_gradient_of_float32_is_float32(reduce):
    x = mg.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], F32), requires_grad=True)
    (g,) = autograd_grad(reduce(x, axis=1).sum(), [x])
    assert g.dtype == F32


def test_three_tied_float64_maxima_each_get_exactly_a_third():
    # 1/3 in float64, not float32's 0.3333333432674408
    (g,) = grad_of(lambda x: ops.max(x), np.array([2.0, 2.0, 2.0, -1.0]))
    np.testing.assert_allclose(g, [1 / 3, 1 / 3, 1 / 3, 0.0], rtol=1e-15, atol=0)


def test_three_tied_float16_maxima_share_the_gradient_rounded_once():
    # upstream 5 shared by 3 ties: 5/3 rounded once to float16 (1.667); a float16 mask
    # rounds 1/3 first and gives 1.666
    x = mg.tensor(np.ones(3, F16), requires_grad=True)
    ops.max(x).backward(np.array(5.0, F16))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, F16(5 / 3)))


A = np.array([[3.0, 9.0, 1.0], [7.0, 2.0, 8.0]])


def arg_functions(name):
    """mg.argmax (or argmin), and the same function made again by the factory that made
    it at import: mutmut can only switch a mutant on in code that runs during a test."""
    reference = getattr(np, name)
    return [getattr(mg, name), ops._arg_extremum(name, reference)]


@pytest.mark.parametrize(("name", "reference"), [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize("made", [0, 1])
@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (0, False), (1, False), (-1, True), (0, True)]
)
def test_argmax_argmin_agree_with_numpy(name, reference, made, axis, keepdims):
    fn = arg_functions(name)[made]
    got = fn(mg.tensor(A, requires_grad=True), axis=axis, keepdims=keepdims)
    assert isinstance(got, mg.Tensor) and not got.requires_grad
    expected = reference(A, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(got.numpy(), expected)
    assert got.shape == np.shape(expected)
    plain = fn(A, axis=axis, keepdims=keepdims)  # on an ndarray: an ndarray back
    assert not isinstance(plain, mg.Tensor)
    np.testing.assert_array_equal(plain, expected)


@pytest.mark.parametrize("made", [0, 1])
def test_argmax_argmin_names_and_errors(made):
    argmax, argmin = arg_functions("argmax")[made], arg_functions("argmin")[made]
    assert argmax.__name__ == "argmax"
    assert argmax.__doc__.startswith("Index of the maximum along ``axis``")
    assert argmin.__name__ == "argmin"
    assert argmin.__doc__.startswith("Index of the minimum along ``axis``")
    assert argmax(np.array([[1.0, 5.0], [7.0, 2.0]])) == 2  # flat index by default
    with pytest.raises(ValueError, match=r"^argmax of an empty tensor \(shape \(0,\)\)"):
        argmax(mg.tensor(np.zeros(0)))
    with pytest.raises(ValueError, match=r"^argmin of an empty tensor \(shape \(2, 0\)\)"):
        argmin(mg.tensor(np.zeros((2, 0))), axis=1)
    with pytest.raises(ValueError, match="argmax of an empty"):
        argmax(mg.tensor(np.zeros((0, 3))), axis=0)
    with pytest.raises(mg.ShapeError, match="argmax needs a tensor with at least one axis"):
        argmax(mg.tensor(2.0), axis=0)
    with pytest.raises(mg.ShapeError, match="axis 2 is out of range"):
        argmin(mg.tensor(A), axis=2)
    # a one-element tensor and a one-element axis are fine
    assert argmax(mg.tensor([4.0])).item() == 0
    np.testing.assert_array_equal(argmin(mg.tensor(np.ones((3, 1))), axis=1).numpy(), [0, 0, 0])
    np.testing.assert_array_equal(argmax(mg.tensor(np.ones((1, 3))), axis=0).numpy(), [0, 0, 0])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_op_is_named_and_has_a_rule_slot_per_input(name):
    import inspect

    fn = ops._arg_extremum(name, getattr(np, name))
    op = inspect.getclosurevars(fn).nonlocals["op"]
    assert op.name == name
    assert tuple(op.vjps) == (None, None, None)  # x, axis, keepdims: none differentiable
    # a jitted program writes it as NumPy's own function, with the op's options
    jitted = mg.jit(lambda x: fn(x, axis=1))
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    np.testing.assert_array_equal(jitted(mg.tensor(x)).numpy(), getattr(np, name)(x, axis=1))
    assert f"np.{name}(x, axis=1, keepdims=False)" in jitted.source


def test_logsumexp_shifts_each_slice_by_its_own_maximum():
    # row 2 shifted by row 1's maximum 1000 would give ln Σ e^(−1000) = ln 0 = −inf
    x = np.array([[1000.0, 1000.0], [0.0, 0.0]])
    got = mg.logsumexp(mg.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(got, [1000.0 + np.log(2.0), np.log(2.0)], rtol=1e-15)
    got0 = mg.logsumexp(mg.tensor(x.T), axis=0).numpy()
    np.testing.assert_allclose(got0, [1000.0 + np.log(2.0), np.log(2.0)], rtol=1e-15)


def test_logsumexp_over_an_empty_axis_is_minus_infinity():
    # ln Σ over no terms = ln 0 = −inf, as np.log(np.sum(np.exp(x), axis=1)) gives
    x = np.zeros((2, 0))
    with np.errstate(divide="ignore"):
        expected = np.log(np.sum(np.exp(x), axis=1))
    np.testing.assert_array_equal(mg.logsumexp(mg.tensor(x), axis=1).numpy(), expected)


def test_logsumexp_of_minus_infinities_is_minus_infinity_without_a_warning():
    with np.errstate(divide="raise"):  # ln 0 is expected there: not an error
        got = mg.logsumexp(mg.tensor([-np.inf, -np.inf]))
    assert got.item() == -np.inf


def test_logsumexp_gradient_of_an_all_minus_inf_row_is_zero():
    # a row of −inf: logsumexp is −inf and nothing moves it, so every term's gradient is
    # 0 (not the nan of e^(−inf + inf)); the finite row gets softmax([0, ln 3]) = [¼, ¾]
    x = np.array([[-np.inf, -np.inf], [0.0, np.log(3.0)]])
    (g,) = grad_of(lambda x: mg.logsumexp(x, axis=1), x)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.25, 0.75]], rtol=1e-15, atol=0)


def test_softmax_of_large_logits_does_not_overflow():
    # softmax([1000, 999]) = [1, e⁻¹] / (1 + e⁻¹)
    got = mg.softmax(mg.tensor([1000.0, 999.0])).numpy()
    e = np.exp(-1.0)
    np.testing.assert_allclose(got, [1 / (1 + e), e / (1 + e)], rtol=1e-14)


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_softmax_shifts_each_slice_by_its_own_maximum(axis):
    # slices 1000 apart: a shift by the overall maximum would underflow the small one to
    # 0/0; each is softmax([c, c + 1]) = [1, e] / (1 + e)
    x = np.array([[0.0, 1.0], [1000.0, 1001.0]])
    e = np.exp(1.0)
    expected = np.array([[1 / (1 + e), e / (1 + e)]] * 2)
    if axis == 0:
        x, expected = x.T, expected.T
    got = mg.softmax(mg.tensor(x), axis=axis).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor_is_refused(name):
    with pytest.raises(mg.ShapeError, match=f"{name} needs a tensor with at least one axis"):
        getattr(mg, name)(mg.tensor(1.0))


# =========================================================================================
# composites: prod, var, std
# =========================================================================================


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (1, False), (1, True), ((0, 2), True), (2, False)]
)
def test_prod_matches_numpy(axis, keepdims):
    x = RNG.uniform(0.5, 1.5, (3, 5, 3))  # odd lengths: the tree pads with ones
    check_against_numpy(
        lambda t: ops.prod(t, axis, keepdims), lambda t: np.prod(t, axis, keepdims=keepdims), x
    )


def test_prod_keeps_float32():
    got = ops.prod(mg.tensor(np.array([1.5, 2.0, 3.0], dtype=np.float32)))
    assert got.dtype == np.float32 and got.item() == 9.0


def test_product_over_an_empty_axis_is_one_with_zero_gradient():
    x = mg.tensor(np.zeros((2, 0)), requires_grad=True)
    p = x.prod(axis=1) if hasattr(x, "prod") else ops.prod(x, axis=1)
    np.testing.assert_array_equal(p.numpy(), [1.0, 1.0])
    p.sum().backward()
    assert x.grad.shape == (2, 0)
    q = ops.prod(mg.tensor(np.zeros((2, 0))), axis=1, keepdims=True)
    assert q.shape == (2, 1)


def test_product_of_an_empty_vector_is_one():
    # np.prod([]) = 1: the empty product, also over all axes of a 1-D input
    assert ops.prod(np.zeros(0)) == np.prod(np.zeros(0)) == 1.0
    x = mg.tensor(np.zeros(0), requires_grad=True)
    p = ops.prod(x, axis=0)
    assert p.shape == () and p.item() == 1.0
    p.backward()
    assert x.grad.shape == (0,)


def test_var_with_no_degrees_of_freedom_left_is_infinite_as_in_numpy():
    x = np.array([1.0, 2.0, 4.0])
    with np.errstate(divide="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(x, ddof=3)
    with np.errstate(divide="ignore"):
        assert ops.var(mg.tensor(x), ddof=3).item() == expected == np.inf


@pytest.mark.parametrize("fn", [ops.var, ops.std])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_var_and_std_over_axes_of_a_square_matrix(fn, axis):
    x = RNG.standard_normal((3, 3))
    ref = {ops.var: np.var, ops.std: np.std}[fn]
    check_against_numpy(lambda t: fn(t, axis, 1), lambda t: ref(t, axis, ddof=1), x)


@pytest.mark.parametrize("axis", [0, 1, None])
@pytest.mark.parametrize("ddof", [0, 1])
def test_std_keeps_the_reduced_axes_when_asked(axis, ddof):
    a = np.array([[1.0, 4.0, 2.0], [8.0, 5.0, 7.0]])
    got = ops.std(mg.tensor(a), axis=axis, ddof=ddof, keepdims=True)
    expected = np.std(a, axis=axis, ddof=ddof, keepdims=True)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-14)


# =========================================================================================
# linalg: linear, einsum, norm
# =========================================================================================


def test_linear_with_batches_of_batches_and_a_single_output_weight():
    # out = x·w over the last axis of x (2, 3, 4); ∂Σ(g ⊙ out)/∂w = Σ over the batch
    # axes of g·x, and ∂/∂x = g ⊗ w
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(())
    g = rng.standard_normal((2, 3))
    gx, gw, gb = grad_of(lambda x, w, b: ops.linear(x, w, b), x, w, b, upstream=g)
    np.testing.assert_allclose(gw, np.einsum("ij,ijk->k", g, x))
    np.testing.assert_allclose(gx, g[..., None] * w)
    np.testing.assert_allclose(gb, g.sum())


def test_linear_of_one_example_and_one_output_gradient_is_the_other_vector():
    # out = x·w + b (a scalar): ∂out/∂w = x, ∂out/∂x = w
    x, w, b = np.array([1.0, 2.0, -4.0]), np.array([0.5, -3.0, 2.0]), np.array(0.25)
    gx, gw, gb = grad_of(lambda x, w, b: ops.linear(x, w, b), x, w, b, upstream=np.array(2.0))
    np.testing.assert_array_equal(gw, 2.0 * x)
    np.testing.assert_array_equal(gx, 2.0 * w)
    assert gb == 2.0


def test_linear_adds_a_bias_of_another_dtype():
    # x @ Wᵀ + b with NumPy's promotion (float32 product, float64 bias)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4)).astype(F32)
    w = rng.standard_normal((2, 4)).astype(F32)
    b = np.array([10.0, -20.0])
    got = ops.linear(x, w, b)
    expected = x @ w.T + b
    assert got.dtype == expected.dtype == F64
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    out = ops.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def check_against_numpy(mg_fn, np_fn, *arrays, atol=1e-6):
    """mg_fn's value equals np_fn's, and its gradients the central differences of np_fn."""
    out = mg_fn(*[mg.tensor(a) for a in arrays])
    expected = np_fn(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    weights = np.random.default_rng(5).standard_normal(np.shape(expected))
    grads = grad_of(mg_fn, *arrays, upstream=weights)
    for i, a in enumerate(arrays):

        def scalar(v, i=i):
            args = list(arrays)
            args[i] = v
            return np.sum(np_fn(*args) * weights)

        np.testing.assert_allclose(grads[i], central_diff(scalar, a), atol=atol)


@pytest.mark.parametrize(
    ("spec", "shapes"),
    [
        ("ij,jk->i", [(2, 3), (3, 4)]),  # k is summed in the second operand only
        ("ij->", [(2, 3)]),
        ("ij,j", [(2, 3), (3,)]),
        ("i,i->", [(3,)] * 2),
        ("ijk,kj->ik", [(2, 3, 4), (4, 3)]),
        ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ],
)
def test_einsum_gradients_match_finite_differences(spec, shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    check_against_numpy(lambda *xs: mg.einsum(spec, *xs), lambda *xs: np.einsum(spec, *xs), *arrays)


def test_einsum_refusals():
    a = mg.tensor(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"'\.\.\.' in an operand but not in the output"):
        mg.einsum("...i->i", a)
    with pytest.raises(ValueError, match=r"names 2 operands, got 1"):
        mg.einsum("ij,jk->ik", a)
    with pytest.raises(mg.ShapeError, match=r"'i' is both 2 and 3 long in 'ii'"):
        mg.einsum("ii->i", np.ones((2, 3)))


def test_einsum_error_messages_in_full():
    a = mg.tensor(np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"^einsum: '\.\.\.i->i' has '\.\.\.' in an operand but not in the output$"
    ):
        mg.einsum("...i->i", a)
    with pytest.raises(
        mg.ShapeError,
        match=r"^einsum: 'ij,jk->ik' does not fit operands of shapes \(2, 2\), \(3, 2\): "
        r"index 'j' has lengths \[2, 3\]$",
    ):
        mg.einsum("ij,jk->ik", a, np.ones((3, 2)))


def test_einsum_implicit_output_is_the_letters_seen_once_in_order():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ta, tb = mg.tensor(a), mg.tensor(b)
    # "ba,ac" → the letters seen once, b and c, in alphabetical order: "bc"
    np.testing.assert_allclose(mg.einsum("ba,ac", ta, tb).numpy(), a @ b)
    np.testing.assert_allclose(mg.einsum("ij, jk", ta, tb).numpy(), a @ b)
    # "cb,ba": seen once are c and a, so the output is "ac", the transpose of c·b
    np.testing.assert_allclose(mg.einsum("cb,ba", ta, tb).numpy(), (a @ b).T)
    ga, gb = grad_of(lambda a, b: mg.einsum("ij,jk", a, b), a, b)
    np.testing.assert_allclose(ga, np.ones((2, 4)) @ b.T)
    np.testing.assert_allclose(gb, a.T @ np.ones((2, 4)))


def test_einsum_implicit_output_counts_each_letter_across_operands():
    # "iX,j": every letter is seen once, so all three are kept (sorted, as NumPy does)
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(4)
    got = mg.einsum("iX,j", mg.tensor(a), mg.tensor(b)).numpy()
    np.testing.assert_allclose(got, np.einsum("iX,j", a, b), rtol=1e-12)


def test_einsum_ignores_spaces_everywhere_in_the_subscripts():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    for spec in ["i j , j k -> i k", " i j,j k ", "ij , jk"]:
        got = mg.einsum(spec, mg.tensor(a), mg.tensor(b)).numpy()
        np.testing.assert_allclose(got, np.einsum(spec.replace(" ", ""), a, b), rtol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, None])
def test_norm_keeps_the_reduced_axes_when_asked(axis):
    a = np.arange(6.0).reshape(2, 3) - 2
    got = ops.norm(mg.tensor(a), axis=axis, keepdims=True)
    expected = np.linalg.norm(a.reshape(2, 3), axis=axis, keepdims=True)
    if axis is None:
        expected = np.sqrt((a * a).sum(keepdims=True))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected)


# =========================================================================================
# indexing and joins: getitem, concatenate, stack
# =========================================================================================


def test_indexing_with_a_tensor_inside_jit_is_refused_with_the_whole_reason():
    jitted = mg.jit(lambda x, i: x[i])
    message = (
        "indexing with a Tensor inside a jitted function: the selection (and, for a boolean "
        "mask, the result's shape) depends on the data; use mg.where for masks, or index "
        "with a NumPy array or a static argument"
    )
    with pytest.raises(Exception, match="^" + re.escape(message) + "$") as info:
        jitted(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([0]))
    assert type(info.value).__name__ == "TraceError"


@pytest.mark.parametrize(
    "index",
    [
        np.s_[1:],
        1,
        np.s_[0, 1:],
        np.s_[(slice(1, None),)],
        None,
        Ellipsis,
        np.s_[..., 1:],
        np.s_[None, 0],
    ],
)
def test_basic_index_gradient_is_the_upstream_written_into_zeros(index):
    # a basic index selects each element once: its gradient is the upstream gradient
    # written into zeros (as NumPy's assignment does), so a −0.0 upstream stays −0.0
    # (accumulating, 0 + (−0.0), would give +0.0)
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    xt = mg.tensor(x, requires_grad=True)
    out = xt[index]
    upstream = -np.zeros(out.shape)
    out.backward(upstream)
    expected = np.zeros(x.shape)
    expected[index] = upstream
    assert np.signbit(expected).any()
    np.testing.assert_array_equal(np.signbit(xt.grad.numpy()), np.signbit(expected))


@pytest.mark.parametrize("index", [0, [1, 1]])
def test_getitem_gradient_of_float32_is_float32(index):
    x = mg.tensor(np.array([[1.0, 3.0], [2.0, 0.0]], F32), requires_grad=True)
    (g,) = autograd_grad(x[index].sum(), [x])
    assert g.dtype == F32


def test_a_float16_index_repeated_3000_times_counts_every_repeat():
    # ∂/∂x₀ of Σ over 3000 copies of x₀ is 3000 (exact in float16); summed in float16 the
    # count would stop at 2048, where 2048 + 1 rounds back to 2048
    x = mg.tensor(np.ones(2, F16), requires_grad=True)
    x[np.zeros(3000, dtype=int)].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([3000.0, 0.0], F16))


@pytest.mark.parametrize("join", [mg.concatenate, mg.stack])
def test_joins_take_a_sequence(join):
    with pytest.raises(TypeError, match=r"takes a sequence of tensors, got Tensor"):
        join(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="got int"):
        join(3)
    with pytest.raises(ValueError, match="at least one tensor"):
        join([])


@pytest.mark.parametrize("axis", [-2, -1, 0, 1])
def test_concatenate_along_any_axis_routes_each_slice_back(axis):
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    check_against_numpy(
        lambda a, b: mg.concatenate([a, b], axis=axis),
        lambda a, b: np.concatenate([a, b], axis=axis),
        a,
        b,
    )


def test_stack_names_itself_when_refusing_a_tensor():
    with pytest.raises(TypeError, match=r"^stack takes a sequence of tensors, got Tensor$"):
        mg.stack(mg.tensor([1.0, 2.0]))


def test_concatenate_errors_name_concatenate():
    with pytest.raises(TypeError, match=r"^concatenate takes a sequence of tensors, got Tensor"):
        mg.concatenate(mg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"^concatenate needs at least one tensor$"):
        mg.concatenate([])


def test_concatenate_with_no_axis_flattens_every_input():
    a, b = np.arange(6.0).reshape(2, 3), np.array([[7.0], [8.0]])
    got = mg.concatenate([mg.tensor(a), mg.tensor(b)], axis=None)
    np.testing.assert_array_equal(got.numpy(), np.concatenate([a, b], axis=None))
    ga, gb = grad_of(lambda a, b: mg.concatenate([a, b], axis=None), a, b, upstream=np.arange(8.0))
    np.testing.assert_array_equal(ga, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(gb, [[6.0], [7.0]])


def test_concatenate_along_an_axis_past_the_last_reports_numpys_axis_error():
    x = mg.tensor(np.ones((2, 2)))
    with pytest.raises(np.exceptions.AxisError) as numpy_err:
        np.concatenate([np.ones((2, 2))] * 2, axis=2)
    with pytest.raises(mg.ShapeError) as err:
        mg.concatenate([x, x], axis=2)
    assert str(numpy_err.value) in str(err.value)


# --- surviving mutants of minigrad/ops/ ---------------------------------------------------
# What the tests above left open. Dtypes are read through ``minigrad.autograd.vjp``, which
# returns each gradient in the dtype its rule made (``autograd.grad`` and ``.grad`` cast it
# to the input's). References: PyTorch's gradients, NumPy on plain arrays, hand derivation.


def _torch_grads(torch, fn, arrays, upstream):
    """PyTorch's vᵀJ of ``fn`` at ``arrays`` (the reference values and dtypes)."""
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    return [np.asarray(g) for g in torch.autograd.grad(out, xs, torch.tensor(upstream))]


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_vjp_of_float32_is_float32_as_in_pytorch(name):
    torch = pytest.importorskip("torch")
    a = np.array([1.0, 3.0, 5.0, -2.0], F32)
    b = np.array([2.0, 3.0, 4.0, -2.0], F32)
    v = np.array([1.5, 2.0, -1.0, 4.0], F32)
    ta, tb = (mg.tensor(x, requires_grad=True) for x in (a, b))
    got = mg.autograd.vjp(getattr(mg, name)(ta, tb), [ta, tb], v)
    want = _torch_grads(torch, getattr(torch, name), [a, b], v)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype == F32
        np.testing.assert_array_equal(np.asarray(g), w)  # ties split in half, as in PyTorch


def test_maximum_vjp_of_float64_under_a_float32_upstream_is_float64_as_in_pytorch():
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, 3.0, 7.0]), np.array([2.0, 3.0, 4.0])
    v = np.array([1.0, 1.0, 3.0], F32)
    ta, tb = (mg.tensor(x, requires_grad=True) for x in (a, b))
    got = mg.autograd.vjp(mg.maximum(ta, tb), [ta, tb], v)
    want = _torch_grads(torch, torch.maximum, [a, b], v)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype == F64
        np.testing.assert_array_equal(np.asarray(g), w)


@pytest.mark.parametrize(("name", "torch_name"), [("max", "amax"), ("min", "amin")])
@pytest.mark.parametrize("axis", [0, 1])
def test_max_min_reduction_vjp_of_float32_is_float32_as_in_pytorch(name, torch_name, axis):
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], F32)
    v = np.arange(1.0, 1.0 + x.shape[1 - axis], dtype=F32)
    tx = mg.tensor(x, requires_grad=True)
    (got,) = mg.autograd.vjp(getattr(ops, name)(tx, axis=axis), [tx], v)
    (want,) = _torch_grads(torch, lambda t: getattr(torch, torch_name)(t, dim=axis), [x], v)
    assert got.dtype == want.dtype == F32
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)  # ties share equally


@pytest.mark.parametrize("dtype", [F32, F64])
def test_sqrt_and_cbrt_vjp_at_zero_keep_the_input_dtype(dtype):
    # ∂√x/∂x = 1/(2√x): +inf at 0 under a positive upstream, −inf under a negative one,
    # 0 under a zero one; ∂∛x/∂x = 1/(3∛x²) likewise (1/12 at 8)
    x = np.array([0.0, 0.0, 0.0, 4.0], dtype)
    v = np.array([2.0, -1.0, 0.0, 1.0], dtype)
    tx = mg.tensor(x, requires_grad=True)
    (g,) = mg.autograd.vjp(mg.sqrt(tx), [tx], v)
    assert g.dtype == dtype
    np.testing.assert_array_equal(np.asarray(g), np.array([np.inf, -np.inf, 0.0, 0.25], dtype))
    x = np.array([0.0, 0.0, 8.0], dtype)
    tx = mg.tensor(x, requires_grad=True)
    (g,) = mg.autograd.vjp(mg.cbrt(tx), [tx], np.array([1.0, -1.0, 1.0], dtype))
    assert g.dtype == dtype
    np.testing.assert_allclose(np.asarray(g), [np.inf, -np.inf, 1 / 12], rtol=1e-6)


def test_hypot_and_arctan2_vjp_at_the_origin_keep_float32():
    # ∂hypot/∂a = a/r (3/5 at (3, 4)), ∂atan2(a, b)/∂a = b/r² (4/25); 0 at (0, 0) (documented)
    a, b = np.array([0.0, 3.0], F32), np.array([0.0, 4.0], F32)
    v = np.ones(2, F32)
    ta, tb = (mg.tensor(x, requires_grad=True) for x in (a, b))
    ga, gb = mg.autograd.vjp(mg.hypot(ta, tb), [ta, tb], v)
    assert ga.dtype == gb.dtype == F32
    np.testing.assert_allclose(np.asarray(ga), [0.0, 0.6], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gb), [0.0, 0.8], rtol=1e-6)
    ga, gb = mg.autograd.vjp(mg.arctan2(ta, tb), [ta, tb], v)
    assert ga.dtype == gb.dtype == F32
    np.testing.assert_allclose(np.asarray(ga), [0.0, 4 / 25], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gb), [0.0, -3 / 25], rtol=1e-6)


@pytest.mark.parametrize(
    ("num", "den"),
    [
        (2.0, np.array([0.0, 4.0], F32)),  # a Python number is weak: float32 stays float32
        (np.array([0.0, 2.0, -2.0, 6.0], F32), np.array([0, 0, 0, 3])),  # integer divisor
        (np.array([0, 2, -2, 6]), np.array([0.0, 0.0, 0.0, 3.0], F32)),  # integer dividend
    ],
)
def test_safe_div_has_numpys_dtype_and_its_limits_at_zero(num, den):
    # num/den as NumPy divides, except 0/0 = 0 (not nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.divide(num, den)
    want = np.where(np.isnan(want), 0.0, want).astype(want.dtype)
    got = ops._safe_div(num, den)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["tril", "triu", "diag"])
@pytest.mark.parametrize("k", [True, 1.0, "1"])
def test_diagonal_offsets_must_be_integers_not_bools(name, k):
    with pytest.raises(
        TypeError, match=rf"^{name}: k must be an integer, got {re.escape(repr(k))}$"
    ):
        getattr(mg, name)(mg.tensor(np.ones((3, 3))), k=k)


@pytest.mark.parametrize("offset", [False, 0.0])
def test_diagonal_offset_must_be_an_integer_not_a_bool(offset):
    with pytest.raises(
        TypeError, match=rf"^diagonal: offset must be an integer, got {re.escape(repr(offset))}$"
    ):
        mg.diagonal(mg.tensor(np.ones((2, 2))), offset=offset)


@pytest.mark.parametrize("k", [1, np.int64(-1)])
def test_diagonal_offsets_of_integer_types_are_numpys(k):
    m = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(mg.tril(mg.tensor(m), k=k).numpy(), np.tril(m, k=k))
    np.testing.assert_array_equal(mg.diag(mg.tensor(m), k=k).numpy(), np.diag(m, k=k))


@pytest.mark.parametrize("value", [2.0, 3])
def test_broadcast_to_of_a_python_number_is_numpys(value):
    got = mg.broadcast_to(value, (2, 3))
    want = np.broadcast_to(value, (2, 3))
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_array_equal(np.asarray(got), want)


def _jit_line(fast, name: str) -> str:
    """The expression ``fast.source`` assigns to ``name`` (its comment dropped)."""
    match = re.search(rf"^\s*{name} = (.*?)(?:  #.*)?$", fast.source, re.MULTILINE)
    assert match, f"no `{name} = ...` in\n{fast.source}"
    return match.group(1)


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "axes", "summed"),
    [
        # leading axis summed away: a plain sum over it
        ((2, 3), (3,), (0,), "a.sum(axis=0)"),
        ((2, 3, 4), (4,), (0, 1), "a.sum(axis=(0, 1))"),
        # a kept axis of 1 summed: keepdims, then the shape; axes of 1 on both sides skipped
        ((2, 3), (1, 3), (0,), "a.sum(axis=(0,), keepdims=True).reshape((1, 3))"),
        ((5, 1, 4), (1, 1), (0, 2), "a.sum(axis=(0, 2), keepdims=True).reshape((1, 1))"),
        ((2, 3, 4), (3, 1), (0, 2), "a.sum(axis=(0, 2), keepdims=True).reshape((3, 1))"),
    ],
)
def test_jit_writes_the_sum_to_a_broadcast_shape_over_the_broadcast_axes(
    a_shape, b_shape, axes, summed
):
    # ∂Σ(a·b)/∂b = a summed over the axes b was broadcast along
    a = RNG.standard_normal(a_shape)
    b = RNG.standard_normal(b_shape)
    fast = mg.jit(mg.grad(lambda a, b: (a * b).sum(), argnums=(0, 1)))
    ga, gb = fast(mg.tensor(a), mg.tensor(b))
    assert _jit_line(fast, "d_b") == summed
    want = a.sum(axis=axes, keepdims=True).reshape(b_shape)
    np.testing.assert_allclose(np.asarray(gb), want, rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(ga), np.broadcast_to(b, np.broadcast_shapes(a_shape, b_shape))
    )


def test_jit_writes_a_sum_to_with_nothing_to_sum_as_a_reshape():
    x = np.array([3.0])
    fast = mg.jit(lambda x: ops.sum_to(x, (1, 1)))
    np.testing.assert_array_equal(fast(mg.tensor(x)).numpy(), x.reshape(1, 1))
    assert ".sum(" not in fast.source and ".reshape((1, 1))" in fast.source


@pytest.mark.parametrize(
    ("shape", "axes", "written"),
    [
        ((2, 3), (1, 0), "x.T"),
        ((2, 3, 4), (2, 1, 0), "x.T"),
        ((2, 3, 4), (1, 0, 2), "x.transpose((1, 0, 2))"),
        ((2, 3, 4), (0, 2, 1), "x.transpose((0, 2, 1))"),
    ],
)
def test_jit_writes_a_full_reversal_of_the_axes_as_dot_t(shape, axes, written):
    x = RNG.standard_normal(shape)
    fast = mg.jit(lambda x: mg.transpose(x, axes) * 2.0)
    np.testing.assert_array_equal(fast(mg.tensor(x)).numpy(), np.transpose(x, axes) * 2.0)
    assert re.search(rf"= {re.escape(written)} \* 2\.0\b", fast.source), fast.source


@pytest.mark.parametrize("exponent", [np.array([0.0, 3.0, 0.0], F32), 0])
def test_pow_base_vjp_of_float32_at_a_zero_base_keeps_float32_as_in_pytorch(exponent):
    # ∂(aᵇ)/∂a = b·aᵇ⁻¹: 0 at a = b = 0 (x⁰ ≡ 1), 3·2² = 12 at (2, 3)
    torch = pytest.importorskip("torch")
    a = np.array([0.0, 2.0, 5.0], F32)
    v = np.ones(3, F32)
    ta = mg.tensor(a, requires_grad=True)
    (got,) = mg.autograd.vjp(mg.pow(ta, exponent), [ta], v)
    b = torch.tensor(exponent) if isinstance(exponent, np.ndarray) else exponent
    (want,) = _torch_grads(torch, lambda t: torch.pow(t, b), [a], v)
    assert got.dtype == want.dtype == F32
    np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("b_shape", [(3, 4), (2, 3, 4), (2, 1, 3, 4)])
def test_vector_times_stacked_matrices_gradients_match_pytorch(b_shape):
    torch = pytest.importorskip("torch")
    a, b = RNG.standard_normal(3), RNG.standard_normal(b_shape)
    v = RNG.standard_normal(np.matmul(a, b).shape)
    ga, gb = grad_of(mg.matmul, a, b, upstream=v)
    want_a, want_b = _torch_grads(torch, torch.matmul, [a, b], v)
    np.testing.assert_allclose(ga, want_a, rtol=1e-12)
    np.testing.assert_allclose(gb, want_b, rtol=1e-12)


@pytest.mark.parametrize(("b_shape", "sum_of_d_a"), [((3, 4), None), ((2, 3, 4), "axis=0")])
def test_jit_sums_a_vectors_matmul_gradient_only_over_the_batch(b_shape, sum_of_d_a):
    # ∂Σ(a@B)/∂a = Σ over the batch of B's rows' sums: no sum of d_a without a batch,
    # one over the batch axis with one
    a, b = RNG.standard_normal(3), RNG.standard_normal(b_shape)
    fast = mg.jit(mg.grad(lambda a, b: mg.matmul(a, b).sum(), argnums=(0, 1)))
    ga, _ = fast(mg.tensor(a), mg.tensor(b))
    np.testing.assert_allclose(np.asarray(ga), b.sum(axis=-1).reshape(-1, 3).sum(axis=0))
    sums = re.findall(r"\.sum\((.*?)\)", _jit_line(fast, "d_a"))
    assert sums == ([] if sum_of_d_a is None else [sum_of_d_a]), fast.source


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_kept_shape_of_a_reduction_over_every_axis_is_numpys(shape):
    want = np.sum(np.ones(shape), axis=None, keepdims=True).shape
    assert ops.reductions._kept_shape(shape, None) == want


def test_transpose_called_like_numpy_without_axes_differentiates_eagerly_and_compiled():
    """mg.transpose(x), as np.transpose(x) is called: its rule and its compiled source once
    required the axes argument and failed; the gradient is g transposed back (by hand)."""
    weights = np.arange(6.0).reshape(3, 2)

    def f(x):
        return (mg.transpose(x) * weights).sum()

    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    f(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), weights.T)
    np.testing.assert_array_equal(mg.jit(mg.grad(f))(mg.tensor(np.ones((2, 3)))).numpy(), weights.T)
    assert mg.gradgradcheck(lambda x: (mg.transpose(x) ** 2 * weights).sum(), x)
