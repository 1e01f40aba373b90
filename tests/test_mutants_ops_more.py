"""More of minigrad/ops.py pinned down where mutants survived: the broadcast view's fast
path, the dtypes of the selection masks (max/min, maximum/minimum, indexing, pow's
nudge), pow at a zero base, logsumexp at −inf, softmax's shift, transposes with negative
axes, linear with a bias of another dtype, concatenate's errors, and the keepdims of
mean, norm and std.

Dtypes are read through ``minigrad.autograd.grad``, which returns a gradient as the rules
made it (``.grad`` on a leaf is always cast to the leaf's dtype). Expected values are
NumPy's own results on plain arrays or hand-derived derivatives.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.autograd import grad as autograd_grad
from tests.helpers import grad_of

F16, F32, F64 = np.float16, np.float32, np.float64


# =========================================================================================
# _broadcast_view: the fast path and its refusals
# =========================================================================================


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


# =========================================================================================
# max / min: the tie mask's dtype and precision
# =========================================================================================


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


# =========================================================================================
# maximum / minimum: the share's dtype
# =========================================================================================


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


# =========================================================================================
# indexing: the scattered gradient's dtype
# =========================================================================================


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


# =========================================================================================
# pow: the base's gradient (the a = b = 0 nudge) and the exponent's (ln a for a ≤ 0)
# =========================================================================================


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
# logsumexp at −inf
# =========================================================================================


def test_logsumexp_gradient_of_an_all_minus_inf_row_is_zero():
    # a row of −inf: logsumexp is −inf and nothing moves it, so every term's gradient is
    # 0 (not the nan of e^(−inf + inf)); the finite row gets softmax([0, ln 3]) = [¼, ¾]
    x = np.array([[-np.inf, -np.inf], [0.0, np.log(3.0)]])
    (g,) = grad_of(lambda x: mg.logsumexp(x, axis=1), x)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.25, 0.75]], rtol=1e-15, atol=0)


# =========================================================================================
# softmax's shift by the maximum along the axis
# =========================================================================================


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


# =========================================================================================
# transpose with negative axes
# =========================================================================================


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


# =========================================================================================
# linear with a bias of another dtype
# =========================================================================================


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


# =========================================================================================
# concatenate
# =========================================================================================


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


# =========================================================================================
# keepdims: mean's default, norm and std passing it on
# =========================================================================================


def test_mean_reduces_to_a_scalar_by_default():
    a = np.arange(6.0).reshape(2, 3)
    got = ops.mean(mg.tensor(a))
    assert got.shape == ()
    np.testing.assert_allclose(got.numpy(), np.mean(a))
    assert ops.mean(a, axis=0).shape == (3,)


@pytest.mark.parametrize("axis", [0, 1, None])
def test_norm_keeps_the_reduced_axes_when_asked(axis):
    a = np.arange(6.0).reshape(2, 3) - 2
    got = ops.norm(mg.tensor(a), axis=axis, keepdims=True)
    expected = np.linalg.norm(a.reshape(2, 3), axis=axis, keepdims=True)
    if axis is None:
        expected = np.sqrt((a * a).sum(keepdims=True))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected)


@pytest.mark.parametrize("axis", [0, 1, None])
@pytest.mark.parametrize("ddof", [0, 1])
def test_std_keeps_the_reduced_axes_when_asked(axis, ddof):
    a = np.array([[1.0, 4.0, 2.0], [8.0, 5.0, 7.0]])
    got = ops.std(mg.tensor(a), axis=axis, ddof=ddof, keepdims=True)
    expected = np.std(a, axis=axis, ddof=ddof, keepdims=True)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-14)
