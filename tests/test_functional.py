"""The function transforms (minigrad/functional.py): grad, value_and_grad, jacobian and
hessian — argnums, stand-ins for the arguments, dtypes, when the inner backward is
recorded, Jacobians of empty, constant and tuple outputs, and that .grad is never touched.

Every expected derivative is worked out by hand next to its assertion.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Op
from tests.helpers import XV, f_vec, jac_by_hand, value

# =========================================================================================
# grad, value_and_grad, jacobian, hessian
# =========================================================================================


def test_grad_and_value_and_grad():
    assert value(mg.grad(lambda x: x**3)(2.0)) == pytest.approx(12.0)  # 3x²
    v, g = mg.value_and_grad(lambda x: (x * x).sum())(np.array([1.0, -2.0]))
    assert value(v) == pytest.approx(5.0)  # 1 + 4
    np.testing.assert_allclose(value(g), [2.0, -4.0])  # 2x
    assert not v.requires_grad and not g.requires_grad


def test_nested_grad():
    f = lambda x: x**4  # noqa: E731
    # f' = 4x³, f'' = 12x², f''' = 24x; at x = 1.5: 13.5, 27, 36
    assert value(mg.grad(f)(1.5)) == pytest.approx(13.5)
    assert value(mg.grad(mg.grad(f))(1.5)) == pytest.approx(27.0)
    assert value(mg.grad(mg.grad(mg.grad(f)))(1.5)) == pytest.approx(36.0)
    assert value(mg.grad(mg.grad(mg.grad(lambda x: x**3)))(-7.0)) == pytest.approx(6.0)


def test_argnums():
    f = lambda w, b: (2 * w + b) ** 2  # noqa: E731
    # ∂f/∂w = 4(2w + b), ∂f/∂b = 2(2w + b); at (1, 1): 12, 6
    gw, gb = mg.grad(f, argnums=(0, 1))(1.0, 1.0)
    assert (value(gw), value(gb)) == (12.0, 6.0)
    assert value(mg.grad(f, argnums=1)(1.0, 1.0)) == 6.0
    assert value(mg.grad(f, argnums=-1)(1.0, 1.0)) == 6.0
    (gb_only,) = mg.grad(f, argnums=(1,))(1.0, 1.0)
    assert value(gb_only) == 6.0


def test_argnums_with_the_same_tensor_twice_gives_separate_partials():
    # f(a, b) = a·b²: ∂f/∂a = b², ∂f/∂b = 2ab; at a = b = 3: 9 and 18 (not 27 = d f(x,x)/dx)
    f = lambda a, b: a * b * b  # noqa: E731
    for x in (3.0, mg.tensor(3.0), mg.tensor(3.0, requires_grad=True)):
        ga, gb = mg.grad(f, argnums=(0, 1))(x, x)
        assert (value(ga), value(gb)) == (9.0, 18.0)


def test_jacobian_matches_hand_derivation():
    jac = mg.jacobian(f_vec)(XV)
    assert jac.shape == (3, 3)
    np.testing.assert_allclose(value(jac), jac_by_hand(XV), rtol=1e-12)
    # shapes: f(x).shape + x.shape; f(X) = 2X for a (2, 2) X has J[i,j,k,l] = 2δᵢₖδⱼₗ
    j2 = mg.jacobian(lambda m: m * 2.0)(np.ones((2, 2)))
    assert j2.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(value(j2).reshape(4, 4), 2 * np.eye(4))


def test_hessian_by_hand():
    # f = x0²·x1 + x1³: H = [[2x1, 2x0], [2x0, 6x1]]
    x = np.array([0.5, -1.5])
    h = mg.hessian(lambda t: t[0] ** 2 * t[1] + t[1] ** 3)(x)
    np.testing.assert_allclose(value(h), [[2 * x[1], 2 * x[0]], [2 * x[0], 6 * x[1]]])


def test_hessian_of_linear_regression_mse_is_2_over_n_xtx():
    rng = np.random.default_rng(1)
    n = 7
    xm = rng.standard_normal((n, 3))
    y = rng.standard_normal(n)

    def loss(w, b):
        return mg.losses.mse(mg.tensor(xm) @ w + b, mg.tensor(y))

    blocks = mg.hessian(loss, argnums=(0, 1))(rng.standard_normal(3), 0.4)
    (hww, hwb), (hbw, hbb) = blocks
    assert (hww.shape, hwb.shape, hbw.shape, hbb.shape) == ((3, 3), (3,), (3,), ())
    full = np.block(
        [[value(hww), value(hwb)[:, None]], [value(hbw)[None, :], value(hbb).reshape(1, 1)]]
    )
    x_tilde = np.hstack([xm, np.ones((n, 1))])
    np.testing.assert_allclose(full, (2.0 / n) * x_tilde.T @ x_tilde, rtol=1e-12, atol=1e-14)


def test_functional_transforms_never_touch_dot_grad():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    w = mg.tensor([2.0, 3.0], requires_grad=True)  # captured by the closure
    (x * w).sum().backward()  # x.grad = w, w.grad = x
    x_grad, w_grad = x.grad, w.grad
    fresh = mg.tensor([1.0, 1.0], requires_grad=True)

    def f(t):
        return ((t * w).sum()) ** 2

    for t in (x, fresh):
        mg.grad(f)(t)
        mg.value_and_grad(f)(t)
        mg.jacobian(lambda t: t * w)(t)
        mg.hessian(f)(t)
    assert x.grad is x_grad and w.grad is w_grad
    np.testing.assert_array_equal(value(x.grad), [2.0, 3.0])
    np.testing.assert_array_equal(value(w.grad), [0.5, -1.0])
    assert fresh.grad is None


# =========================================================================================
# argnums
# =========================================================================================


def f2(a, b):
    return a * a * b  # ∂/∂a = 2ab, ∂/∂b = a²


def test_argnums_may_count_from_the_end_down_to_minus_the_number_of_arguments():
    a, b = mg.tensor(3.0), mg.tensor(5.0)
    assert mg.grad(f2, argnums=-2)(a, b).item() == 30.0  # 2ab
    assert mg.grad(f2, argnums=-1)(a, b).item() == 9.0  # a²
    ga, gb = mg.grad(f2, argnums=(-1, 0))(a, b)
    assert (ga.item(), gb.item()) == (9.0, 30.0)
    assert mg.grad(f2, argnums=np.int64(1))(a, b).item() == 9.0


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_out_of_range_are_refused(argnums):
    with pytest.raises(ValueError, match="out of range for a function of 2 arguments"):
        mg.grad(f2, argnums=argnums)(mg.tensor(3.0), mg.tensor(5.0))
    with pytest.raises(ValueError, match="out of range"):
        mg.jacobian(f2, argnums=argnums)(mg.tensor(3.0), mg.tensor(5.0))


def test_a_single_argnum_gives_one_gradient_and_a_tuple_gives_a_tuple():
    value, g = mg.value_and_grad(f2, argnums=1)(mg.tensor(3.0), mg.tensor(5.0))
    assert isinstance(g, mg.Tensor) and g.item() == 9.0
    assert value.item() == 45.0 and not value.requires_grad
    _, gs = mg.value_and_grad(f2, argnums=(1,))(mg.tensor(3.0), mg.tensor(5.0))
    assert isinstance(gs, tuple) and len(gs) == 1 and gs[0].item() == 9.0


# =========================================================================================
# dtypes, stand-ins and recording
# =========================================================================================


@pytest.mark.parametrize("transform", ["grad", "jacobian"])
def test_gradients_keep_the_arguments_float_dtype(transform):
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    g = getattr(mg, transform)(lambda x: (x * x).sum())(x32)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])  # 2x
    gi = getattr(mg, transform)(lambda x: (x * x).sum())(np.array([1, 2]))
    assert gi.dtype == np.float64  # integers are differentiated as float64
    np.testing.assert_array_equal(gi.numpy(), [2.0, 4.0])


def test_plain_results_do_not_require_grad():
    x = mg.tensor([1.0, 2.0])
    g = mg.grad(lambda x: (x * x * x).sum())(x)
    assert not g.requires_grad
    np.testing.assert_array_equal(g.numpy(), [3.0, 12.0])  # 3x²
    j = mg.jacobian(lambda x: x * x)(x)
    assert not j.requires_grad
    np.testing.assert_array_equal(j.numpy(), [[2.0, 0.0], [0.0, 4.0]])


def test_a_stand_in_for_a_tensor_that_requires_grad_is_the_same_value():
    # grad at x (not x + 1): ∂x³/∂x = 3x² = 12 at x = 2
    x = mg.tensor(2.0, requires_grad=True)
    g = mg.grad(lambda t: t * t * t)(x)
    assert g.item() == 12.0
    g.backward()  # composes: ∂(3x²)/∂x = 6x = 12
    assert x.grad.item() == 12.0


def test_jacobian_seeds_each_backward_pass_in_the_outputs_dtype():
    # as in out.backward(): a float32 output is seeded with float32 one-hot vectors.
    # f(x) = float32(2x): ∂f/∂x = 2·I
    seen = []
    cast = Op(
        "to_f32",
        lambda x: x.astype(np.float32),
        (lambda g, out, x: seen.append(g.dtype) or g.astype(x.dtype),),
    )
    jac = mg.jacobian(lambda t: cast(t * 2))(mg.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(jac.numpy(), 2 * np.eye(2))
    assert seen and set(seen) == {np.dtype(np.float32)}


def test_a_recorded_inner_backward_hands_its_rules_tensors():
    # when the inner gradient must stay differentiable (it depends on the outer a), the
    # inner backward is recorded: its rules see Tensors, the seed included.
    # inner: ∂probe(x·a)/∂x = a; outer: ∂a/∂a = 1
    kinds = []
    probe = Op("probe", lambda x: 1.0 * x, (lambda g, out, x: kinds.append(type(g)) or g,))
    outer = mg.grad(lambda a: mg.grad(lambda x: probe(x * a))(mg.tensor(2.0)))
    assert outer(mg.tensor(3.0)).item() == 1.0
    assert kinds == [mg.Tensor]


# =========================================================================================
# output shapes: scalar, empty, constant, matrix and tuple outputs
# =========================================================================================


def test_grad_needs_a_scalar_output():
    with pytest.raises(ValueError, match=r"scalar output, got shape \(2,\)"):
        mg.grad(lambda t: t * 2)(mg.tensor([1.0, 2.0]))
    assert mg.grad(lambda t: (t * 2).reshape(1, 1))(mg.tensor([1.0])).item() == 2.0


def test_value_and_grad_refuses_non_scalar_and_tuple_outputs():
    with pytest.raises(ValueError) as info:
        mg.value_and_grad(lambda t: t * 2)(mg.tensor([1.0, 2.0]))
    assert str(info.value).endswith("; use jacobian() for vector outputs")
    with pytest.raises(TypeError, match="cannot make a Tensor from tuple"):
        mg.value_and_grad(lambda t: ((t * t).sum(), t))(mg.tensor([1.0, 2.0]))


def test_jacobian_of_an_empty_output_has_the_right_shape():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    j = mg.jacobian(lambda t: t[:0] * 2)(x)
    assert j.shape == (0, 3)
    jj = mg.jacobian(lambda t: t[:0] * t[0])(x)  # composing (x requires grad): same shape
    assert jj.shape == (0, 3)


def test_jacobian_of_a_constant_output_is_zero():
    j = mg.jacobian(lambda t: np.ones(2))(mg.tensor([1.0, 2.0, 3.0]))
    assert j.shape == (2, 3)
    np.testing.assert_array_equal(j.numpy(), np.zeros((2, 3)))
    g = mg.grad(lambda t: 4.0)(mg.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_jacobian_of_a_matrix_output():
    # f(x) = x ⊗ c: ∂fᵢⱼ/∂xₖ = δᵢₖ·cⱼ, shape f.shape + x.shape = (2, 3, 2)
    c = np.array([1.0, 2.0, 3.0])
    j = mg.jacobian(lambda t: t.reshape(2, 1) * c)(mg.tensor([5.0, 7.0]))
    expected = np.einsum("ik,j->ijk", np.eye(2), c)
    np.testing.assert_array_equal(j.numpy(), expected)


def test_jacobian_of_a_tuple_of_outputs():
    x = mg.tensor([1.0, 2.0])
    ja, jb = mg.jacobian(lambda t: (t * 3, (t * t).sum()))(x)
    np.testing.assert_array_equal(ja.numpy(), [[3.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(jb.numpy(), [2.0, 4.0])  # 2x
    ((jaa, jab),) = mg.jacobian(lambda a, b: (a * b,), argnums=(0, 1))(x, mg.tensor(5.0))
    np.testing.assert_array_equal(jaa.numpy(), [[5.0, 0.0], [0.0, 5.0]])
    np.testing.assert_array_equal(jab.numpy(), [1.0, 2.0])


def test_jacobian_of_a_tuple_with_a_constant_array():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # requires grad: the composing path
    jc, jt = mg.jacobian(lambda t: (np.ones(3), t * 2))(x)  # the constant first
    np.testing.assert_array_equal(jc.numpy(), np.zeros((3, 2)))
    np.testing.assert_array_equal(jt.numpy(), 2 * np.eye(2))


def test_jacobian_of_a_tuple_composes_with_an_outer_gradient():
    # J of t ↦ (t², ) is diag(2t); Σ J = Σ 2tᵢ, whose gradient is 2 everywhere
    x = mg.tensor([1.0, -3.0], requires_grad=True)
    (j,) = mg.jacobian(lambda t: (t * t,))(x)
    assert j.requires_grad
    j.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
