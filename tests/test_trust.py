"""No silently wrong gradient: one section per class of silent error minigrad once had.

Each test here failed on the engine before version counters, composing transforms, exact
conventions, guarded NumPy fallbacks, a NaN-proof gradcheck and atomic accumulation. The
expected values come from calculus (worked out next to the assertion), from central
finite differences, or from PyTorch when it is installed.
"""

from __future__ import annotations

import decimal
import re
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import EveryInput, Op
from minigrad.tracing import TraceError
from tests.helpers import MODIFIED, central_diff
from tests.op_table import OPS, OpCase
from tests.test_ops import draw_inputs


def grads_of(fn, arrays, upstream, requires=None):
    """Gradients of ⟨upstream, fn(*arrays)⟩ on a fresh graph (None for constants)."""
    requires = requires or [True] * len(arrays)
    xs = [mg.tensor(a, requires_grad=r) for a, r in zip(arrays, requires, strict=True)]
    fn(*xs).backward(upstream)
    return [None if x.grad is None else x.grad.numpy() for x in xs]


# =========================================================================================
# 1. in-place mutation of a value a graph saved
# =========================================================================================


def test_leaf_changed_under_no_grad_refuses_backward_and_names_the_op():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    with mg.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        loss.backward()
    assert "mul" in str(info.value) and "(3,)" in str(info.value)
    assert w.version == 1


def test_optimizer_step_then_backward_of_the_old_loss_raises():
    w = mg.nn.Parameter([1.0, -2.0])
    opt = mg.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward()
    opt.step()
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_detach_shares_the_version_counter():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    d = w.detach()
    d += 1  # d does not require grad: allowed even with grad mode on
    assert d.version == w.version == 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_tensor_of_a_tensor_is_an_alias_with_the_same_counter():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    alias = mg.Tensor(w)  # wraps w's own array
    alias += 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_a_view_shares_the_counter_of_its_base():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    with mg.no_grad():
        view = w[:2]
        view += 1  # writes into w's memory
    np.testing.assert_array_equal(w.numpy(), [2.0, 3.0, 3.0])
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_constant_saved_by_an_op_is_protected_too():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])  # no requires_grad
    loss = (w * c).sum()
    c *= 2
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_non_leaf_changed_under_no_grad_is_caught():
    x = mg.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp's rule reads its own output
    with mg.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="exp saved its output"):
        y.sum().backward()


def test_a_change_no_rule_reads_still_gives_the_right_gradient():
    # as in PyTorch: mul's rule for w reads only x; add's rules read nothing
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([3.0, 5.0])
    loss = (w * x).sum() + (w + 1.0).sum()
    with mg.no_grad():
        w -= 10.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 6.0])  # x + 1


def test_writing_through_data_is_the_documented_escape_hatch():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.data += 1  # not tracked, by design
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 6.0])  # 2w with the new w


def test_backward_accumulating_into_a_saved_grad_is_caught():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    v = mg.tensor([1.0, 1.0], requires_grad=True)
    uses_grad = (v * w.grad).sum()  # saves w.grad
    (w * 3).sum().backward()  # accumulates into w.grad in place
    with pytest.raises(RuntimeError, match=MODIFIED):
        uses_grad.backward()


INPLACE = {
    "+=": lambda t, v: t.__iadd__(v),
    "-=": lambda t, v: t.__isub__(v),
    "*=": lambda t, v: t.__imul__(v),
    "/=": lambda t, v: t.__itruediv__(v),
    "**=": lambda t, v: t.__ipow__(v),
    "@=": lambda t, v: t.__imatmul__(np.eye(2) * v),
    "[]=": lambda t, v: t.__setitem__((slice(None),), v),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_every_in_place_operator_keeps_identity_and_bumps_the_version(name):
    model = mg.nn.Linear(2, 2)
    p = model.weight
    with mg.no_grad():
        p.data[...] = [[1.0, 2.0], [3.0, 4.0]]
    loss = (p * p).sum()
    with mg.no_grad():
        result = INPLACE[name](p, 2.0)
    assert result is p or name == "[]="  # the same Parameter object: model keeps it
    assert model.weight is p and p.version == 1
    assert not np.array_equal(p.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


@pytest.mark.parametrize("name", list(INPLACE))
def test_in_place_on_a_tensor_that_requires_grad_is_refused_in_grad_mode(name):
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        INPLACE[name](w, 2.0)
    assert w.version == 0


def test_in_place_with_an_operand_that_requires_grad_is_refused():
    c = mg.tensor([1.0, 2.0])
    w = mg.tensor([1.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="drop its gradient"):
        c += w


def test_in_place_matmul_that_would_change_the_shape_is_refused():
    with mg.no_grad():
        x = mg.tensor(np.ones((2, 3)))
        with pytest.raises(mg.ShapeError, match="@="):
            x @= np.ones((3, 4))


@pytest.mark.parametrize("name", list(INPLACE))
def test_in_place_refusals_name_the_operator(name):
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    advice = r"would hide the change from autograd; do it under `with minigrad.no_grad\(\):`$"
    with pytest.raises(RuntimeError, match=rf"^in-place {re.escape(name)} on a .*{advice}"):
        INPLACE[name](w, 2.0)
    c = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    hint = rf"write `x = x {re.escape(name[:-1])} y` instead"
    with pytest.raises(RuntimeError, match=rf"in-place {re.escape(name)} with an operand.*{hint}"):
        INPLACE[name](c, mg.tensor(2.0, requires_grad=True))
    assert c.version == 0


@pytest.mark.parametrize("name", list(INPLACE))
def test_in_place_inside_a_jit_trace_is_refused_with_the_rewrite(name):
    def f(x):
        INPLACE[name](x, 2.0)
        return x

    expected = (
        rf"^in-place {re.escape(name)} inside a function being traced by mg.jit: the "
        r"compiled function would not repeat it. Return the new value instead \(x = x \+ y\).$"
    )
    with pytest.raises(TraceError, match=expected):
        mg.jit(f)(mg.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_assigning_through_a_tensor_index_writes_only_the_indexed_places():
    with mg.no_grad():
        x = mg.tensor([1.0, 2.0, 3.0])
        x[mg.tensor([0, 2])] = mg.tensor(9.0)
    np.testing.assert_array_equal(x.numpy(), [9.0, 2.0, 9.0])  # NumPy's x[[0, 2]] = 9
    assert x.version == 1


def test_an_in_place_change_to_a_value_no_rule_reads_does_not_block_backward():
    """Only what a rule reads is checked (PyTorch saves no input of an addition either):
    w changed after w + 1 was recorded still backpropagates, while w * w refuses."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    shifted, squared = (w + 1).sum(), (w * w).sum()
    with mg.no_grad():
        w += 1
    shifted.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])
    with pytest.raises(RuntimeError, match=MODIFIED):
        squared.backward()
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    shifted_t = (t + 1).sum()
    with torch.no_grad():
        t += 1
    shifted_t.backward()  # PyTorch agrees: nothing saved, nothing to refuse
    np.testing.assert_array_equal(t.grad.numpy(), [1.0, 1.0])


ARITHMETIC_IN_PLACE = {
    "+=": "__iadd__", "-=": "__isub__", "*=": "__imul__", "/=": "__itruediv__",
    "**=": "__ipow__", "@=": "__imatmul__",
}  # fmt: skip


@pytest.mark.parametrize("name", list(ARITHMETIC_IN_PLACE))
def test_an_in_place_operand_that_does_not_fit_is_refused_naming_the_operator(name):
    """A wrong shape is a ShapeError and a wrong type a TypeError, as for `x + y` and
    `x @ y`; each names the operator, the operand and the tensor, and changes nothing."""
    method = ARITHMETIC_IN_PLACE[name]
    with mg.no_grad():
        x = mg.tensor(np.ones((2, 2)))
        wrong = np.ones((3, 3)) if name == "@=" else np.ones(3)
        op, shape = re.escape(name), re.escape(str(wrong.shape))
        where = r"into a tensor of shape \(2, 2\) and dtype float64"
        with pytest.raises(
            mg.ShapeError, match=rf"^in-place {op}: .* ndarray of shape {shape} {where}"
        ):
            getattr(x, method)(wrong)
        with pytest.raises(TypeError, match=rf"^in-place {op}: .* str of shape \(\) {where}"):
            getattr(x, method)("a")
    np.testing.assert_array_equal(x.numpy(), np.ones((2, 2)))
    assert x.version == 0
    with pytest.raises(mg.ShapeError):  # the out-of-place operator agrees on the kind
        x @ wrong if name == "@=" else x + wrong


@pytest.mark.parametrize("case", OPS, ids=str)
@settings(max_examples=4, deadline=None)
@given(data=st.data(), which=st.integers(0, 2), constant=st.booleans())
def test_any_in_place_change_raises_or_leaves_the_gradient_right(
    case: OpCase, data: st.DataObject, which: int, constant: bool
) -> None:
    """For every op: change one input (or the output) in place after recording; backward
    must raise, or give exactly the gradient of the values the graph was built on."""
    arrays = draw_inputs(data, case)
    k = which % (len(arrays) + 1)  # len(arrays) means the output
    requires = [not (constant and i == k) for i in range(len(arrays))]
    if not any(requires):  # a one-input op: its input must require grad
        requires = [True]
    xs = [mg.tensor(a, requires_grad=r) for a, r in zip(arrays, requires, strict=True)]
    out = case.fn(*xs)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    expected = grads_of(case.fn, arrays, upstream, requires)
    target = out if k == len(arrays) else xs[k]
    if not target.data.flags.writeable:
        return  # a broadcast view: NumPy refuses any write
    with mg.no_grad():
        target += 0.375
    try:
        out.backward(upstream)
    except RuntimeError as err:
        assert MODIFIED in str(err)
        return
    for x, e in zip(xs, expected, strict=True):
        if e is not None:
            np.testing.assert_allclose(x.grad.numpy(), e, rtol=1e-12, atol=1e-12)


# =========================================================================================
# 2. functional transforms compose
# =========================================================================================


def test_grad_of_grad_through_a_closure():
    # d/dx [d/dy (x·y)] = d/dx x = 1
    assert mg.grad(lambda x: mg.grad(lambda y: x * y)(2.0))(3.0).item() == 1.0


def test_gradient_penalty_reaches_the_closed_over_weights():
    w0, x0 = np.array([0.7, -1.3]), np.array([0.5, 0.25])
    w = mg.tensor(w0, requires_grad=True)
    gx = mg.grad(lambda x: (w * x).tanh().sum())(mg.tensor(x0))
    assert gx.requires_grad
    (gx * gx).sum().backward()

    def penalty(wv):  # gx = w·(1 − tanh²(w·x)); Σ gx² by hand in NumPy
        return np.sum((wv * (1 - np.tanh(wv * x0) ** 2)) ** 2)

    np.testing.assert_allclose(w.grad.numpy(), central_diff(penalty, w0), rtol=1e-7)


def test_value_and_jacobian_and_hessian_depend_on_closures():
    a0 = np.array([1.5, -0.5])
    a = mg.tensor(a0, requires_grad=True)
    value, g = mg.value_and_grad(lambda x: (a * x * x).sum())(mg.tensor([1.0, 2.0]))
    assert value.requires_grad and g.requires_grad
    jac = mg.jacobian(lambda x: a * x.exp())(mg.tensor([0.0, 1.0]))  # diag(a·eˣ)
    hess = mg.hessian(lambda x: (a * x**3).sum())(mg.tensor([1.0, 2.0]))  # diag(6·a·x)
    (value + g.sum() + jac.sum() + hess.sum()).backward()
    # ∂/∂a: x² + 2x + eˣ + 6x, summed per component at x = (1, 2) and (0, 1)
    expected = np.array([1 + 2 + 1 + 6, 4 + 4 + np.e + 12])
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-12)


def test_a_non_differentiated_argument_that_requires_grad_stays_connected():
    w = mg.tensor(2.0, requires_grad=True)
    g = mg.grad(lambda x, v: x * x * v, argnums=0)(mg.tensor(3.0), w)  # 2·x·v
    g.backward()
    assert w.grad.item() == 6.0  # ∂(2xv)/∂v = 2x


def test_third_derivative_of_a_hessian_with_respect_to_a_closure():
    c = mg.tensor(0.5, requires_grad=True)
    h = mg.hessian(lambda x: (c * x).sin())(mg.tensor(1.0))  # −c²·sin(cx)
    h.backward()
    # d/dc [−c² sin(c)] at x = 1 = −2c·sin c − c²·cos c
    assert c.grad.item() == pytest.approx(-2 * 0.5 * np.sin(0.5) - 0.25 * np.cos(0.5), rel=1e-12)


def test_argnums_naming_an_argument_twice_gives_both_its_gradient():
    ga, gb = mg.grad(lambda a, b: a * a * b, argnums=(0, 0))(3.0, 2.0)
    assert ga.item() == gb.item() == 12.0  # 2ab


def test_under_no_grad_transforms_return_plain_results():
    w = mg.tensor(2.0, requires_grad=True)
    with mg.no_grad():
        g = mg.grad(lambda x: w * x * x)(3.0)
    assert g.item() == 12.0 and not g.requires_grad


# =========================================================================================
# 3. second derivatives at the documented conventions
# =========================================================================================


def test_hessian_of_sqrt_where_the_upstream_gradient_is_zero():
    # f = √x(x − 1) = x^1.5 − x^0.5, f'' = 0.75x^−0.5 + 0.25x^−1.5 = 1 at x = 1
    assert mg.hessian(lambda x: x.sqrt() * (x - 1))(1.0).item() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("a", [2.0, 0.5, 3.0])
def test_mixed_second_derivative_of_pow_at_exponent_zero(a):
    # ∂²(aᵇ)/∂a∂b = a^(b−1)(1 + b·ln a) = 1/a at b = 0
    h = mg.hessian(lambda x, y: x**y, argnums=(0, 1))(a, 0.0)
    assert h[0][1].item() == pytest.approx(1 / a, rel=1e-12)
    assert h[1][0].item() == pytest.approx(1 / a, rel=1e-12)


def test_pow_at_zero_base_and_zero_exponent_keeps_its_convention():
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    (x**0.0).sum().backward()  # x⁰ ≡ 1: slope 0 everywhere, 0 (not nan) at x = 0
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize(
    ("name", "fn", "point"),
    [
        ("sqrt, zero upstream", lambda x: x.sqrt() * (x - 2.0), [2.0, 0.5]),
        ("pow at b = 0", lambda b: mg.tensor([1.7, 0.3]) ** b, [0.0, 0.0]),
        ("pow, integer b at a < 0", lambda a: a**3.0, [-1.5, -0.2]),
        (
            "rmse with zero residuals",
            lambda p: mg.losses.rmse(p, mg.tensor([1.0, 0.0])),
            [1.0, 2.0],
        ),
        ("norm with zero entries", lambda x: mg.ops.norm(x), [0.0, 3.0, 0.0]),
        ("std with equal entries", lambda x: mg.ops.std(x), [1.0, 1.0, 2.0]),
        ("relu near 0", lambda x: x.relu() * x, [1e-3, -1e-3]),
        ("clip near its bounds", lambda x: x.clip(-1, 1) * x, [0.999, -1.001, 1.001]),
        ("maximum near a tie", lambda x: mg.maximum(x, 0.5) * x, [0.5001, 0.4999]),
        ("max near a tie", lambda x: x.max() * x, [1.0, 0.999]),
        ("logsumexp with −inf", lambda x: mg.logsumexp(x + mg.tensor([0.0, -np.inf])), [0.3, 1.0]),
        ("sigmoid far out", lambda x: x.sigmoid(), [-30.0, 30.0]),
    ],
)
def test_rules_with_masks_are_exact_to_second_order_at_their_special_points(name, fn, point):
    assert mg.gradgradcheck(fn, mg.tensor(point, requires_grad=True), atol=1e-6, rtol=1e-4)


# =========================================================================================
# 4. casts and NumPy fallbacks
# =========================================================================================


def test_cast_to_integer_or_bool_cuts_the_graph():
    w = mg.tensor([1.5, 2.5], requires_grad=True)
    for dtype in (np.int64, bool):
        assert not w.astype(dtype).requires_grad
    (w.astype(np.int64) * w).sum().backward()  # the int copy is a constant: ∂/∂w = int(w)
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])


def test_norm_through_numpy_carries_the_gradient():
    w0 = np.array([3.0, -4.0, 2.0])  # Σw ≠ 0, so the −w·Σw/‖w‖³ term counts
    w = mg.tensor(w0, requires_grad=True)
    (w / np.linalg.norm(w)).sum().backward()
    expected = central_diff(lambda v: np.sum(v / np.linalg.norm(v)), w0)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-7)


NUMPY_FUNCTIONS = {
    "dot": (lambda a, b: np.dot(a, b), [(2, 3), (3,)]),
    "dot_scalar": (lambda a, b: np.dot(a, b), [(), (3,)]),
    "norm_fro": (lambda a: np.linalg.norm(a), [(2, 3)]),
    "norm_ord1": (lambda a: np.linalg.norm(a, ord=1), [(4,)]),
    "norm_inf": (lambda a: np.linalg.norm(a, ord=np.inf, axis=1), [(2, 3)]),
    "prod": (lambda a: np.prod(a), [(5,)]),
    "prod_axis_keepdims": (lambda a: np.prod(a, axis=1, keepdims=True), [(2, 3)]),
    "squeeze": (lambda a: np.squeeze(a, axis=1), [(3, 1)]),
    "outer": (lambda a, b: np.outer(a, b), [(3,), (2,)]),
    "var": (lambda a: np.var(a, axis=0, ddof=1), [(4, 2)]),
    "std": (lambda a: np.std(a), [(5,)]),
    "hstack": (lambda a, b: np.hstack([a, b]), [(2,), (3,)]),
    "vstack": (lambda a, b: np.vstack([a, b]), [(3,), (2, 3)]),
    "einsum": (lambda a, b: np.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
    "einsum_implicit": (lambda a, b: np.einsum("ij,ij", a, b), [(2, 3), (2, 3)]),
    "amax": (lambda a: np.amax(a, axis=0), [(3, 2)]),
    "amin": (lambda a: np.amin(a), [(4,)]),
    "reshape_list": (lambda a: np.reshape(a, [2, 3]), [(6,)]),
    "clip_keywords": (lambda a: np.clip(a, a_min=-0.5, a_max=0.5), [(5,)]),
    "expand_dims_tuple": (lambda a: np.expand_dims(a, (0, 2)), [(3,)]),
    "square": (lambda a: np.square(a), [(3,)]),
    "sin_cos": (lambda a: np.sin(a) * np.cos(a), [(3,)]),
}


@pytest.mark.parametrize("name", list(NUMPY_FUNCTIONS))
def test_numpy_functions_carry_the_gradient(name):
    fn, shapes = NUMPY_FUNCTIONS[name]
    rng = np.random.default_rng(7)
    arrays = [rng.uniform(-2, 2, s) for s in shapes]
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    assert isinstance(out, mg.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.numpy(), fn(*arrays), rtol=1e-12)  # NumPy's own value
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    for i, x in enumerate(xs):

        def scalar(v, i=i):
            args = list(arrays)
            args[i] = v
            return np.sum(fn(*args) * weights)

        np.testing.assert_allclose(x.grad.numpy(), central_diff(scalar, arrays[i]), atol=1e-7)


def test_prod_gradient_is_exact_with_zeros():
    x = mg.tensor([0.0, 2.0, 3.0, 0.5, 4.0], requires_grad=True)
    np.prod(x).backward()  # ∂/∂xᵢ = product of the others: only the zero's is non-zero
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 0.0, 0.0, 0.0, 0.0])
    y = mg.tensor([0.0, 2.0, 0.0], requires_grad=True)
    np.prod(y).backward()  # two zeros: every partial product contains a zero
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda w: np.unwrap(w),
        lambda w: np.interp(w, [0.0, 1.0], [0.0, 2.0]),
        lambda w: np.spacing(w),
        lambda w: np.linalg.eigvals(w.reshape(2, 2)),
        lambda w: np.exp(w, out=np.empty(4)),
        lambda w: np.dot(w.reshape(1, 2, 2), np.ones((2, 2, 2))),
    ],
)
def test_numpy_calls_without_a_rule_refuse_to_drop_the_gradient(call):
    w = mg.tensor([1.0, -2.0, 3.5, 0.5], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.|matmul"):
        call(w)
    with mg.no_grad():  # no gradient is wanted: NumPy runs on the data
        assert np.all(np.isfinite(np.asarray(call(w))))
    assert np.all(np.isfinite(np.asarray(call(w.detach()))))


def test_numpy_calls_with_non_float_results_need_no_rule():
    w = mg.tensor([1.0, np.nan, 3.5], requires_grad=True)
    np.testing.assert_array_equal(np.isnan(w), [False, True, False])
    assert np.argmax(mg.tensor([1.0, 5.0, 2.0], requires_grad=True)) == 1


# =========================================================================================
# 5. gradcheck cannot be fooled by non-finite differences
# =========================================================================================


def wrong_log() -> Op:
    """log with a deliberately wrong rule (1/(2x) instead of 1/x)."""
    return Op("wrong_log", np.log, (lambda g, out, x: g / (2 * x),))


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_fails_when_a_finite_difference_is_nan(fast_mode):
    bad = wrong_log()
    x = mg.tensor([1e-7, 1.0], requires_grad=True)  # log(1e-7 − 1e-6) is nan
    with np.errstate(invalid="ignore"), pytest.raises(mg.GradcheckError, match="cannot check"):
        mg.gradcheck(lambda t: bad(t).sum(), x, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_fails_when_a_finite_difference_is_inf(fast_mode):
    wrong_exp = Op("wrong_exp", np.exp, (lambda g, out, x: 2 * g * out,))
    x = mg.tensor([709.78271289, 1.0], requires_grad=True)  # e^(x+ε) overflows
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: wrong_exp(t).sum(), x, fast_mode=fast_mode)


def test_gradcheck_fails_on_a_non_finite_analytical_gradient():
    inf_rule = Op("inf_rule", lambda x: x * 1.0, (lambda g, out, x: g * np.inf,))
    with pytest.raises(mg.GradcheckError, match="analytical"):
        mg.gradcheck(lambda t: inf_rule(t).sum(), mg.tensor([1.0], requires_grad=True))


# =========================================================================================
# 6. threads
# =========================================================================================


def test_concurrent_backward_passes_sharing_a_leaf_lose_nothing():
    n_threads, repeats, size = 4, 25, 200_000
    w = mg.tensor(np.zeros(size), requires_grad=True)
    barrier = threading.Barrier(n_threads)
    errors = []

    def work(k: int) -> None:
        try:
            c = mg.tensor(np.full(size, float(k + 1)))
            barrier.wait()
            for _ in range(repeats):
                (w * c).sum().backward()  # adds k + 1 to every element of w.grad
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected = repeats * sum(range(1, n_threads + 1))
    np.testing.assert_array_equal(w.grad.numpy(), np.full(size, float(expected)))


def test_two_threads_backpropagating_one_mse_graph_both_get_the_gradient():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50_000, 3)), rng.standard_normal(50_000)
    for _ in range(5):
        model = mg.nn.LinearRegression(3)
        with mg.no_grad():
            model.weight[...] = [0.5, -1.0, 2.0]
        loss = mg.losses.mse(model(X), y)
        threads = [threading.Thread(target=loss.backward) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r = X @ np.array([0.5, -1.0, 2.0]) - y  # ∂mse/∂w = 2Xᵀr/N, twice
        np.testing.assert_allclose(model.weight.grad.numpy(), 2 * (2 * X.T @ r / len(y)))


# =========================================================================================
# 7. numerically sound primitives
# =========================================================================================


def exact_sigmoid(x: float) -> float:
    """σ(x) in 60-digit decimal arithmetic: an independent reference."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        return float(1 / (1 + decimal.Decimal(-x).exp()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_keeps_full_relative_precision_over_the_whole_range(dtype):
    xs = np.array([-700.0, -100.0, -38.0, -30.0, -1.0, 0.0, 2.0, 30.0, 700.0])
    if dtype == np.float32:
        xs = np.array([-87.0, -30.0, -20.0, -1.0, 0.0, 2.0, 30.0])
    got = mg.tensor(xs.astype(dtype)).sigmoid().numpy()
    assert got.dtype == dtype
    expected = np.array([exact_sigmoid(float(v)) for v in xs.astype(dtype)])
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps)


def test_log_sigmoid_is_finite_with_the_exact_gradient_far_out():
    x = mg.tensor([-1000.0, -40.0, 0.0, 40.0], requires_grad=True)
    y = x.log_sigmoid()
    # ln σ(x) = −ln(1 + e⁻ˣ) ≈ x for x ≪ 0; the gradient is σ(−x)
    np.testing.assert_allclose(
        y.numpy(), [-1000.0, -40.0 - np.exp(-40.0), -np.log(2), -np.exp(-40.0)]
    )
    y.sum().backward()
    expected = [exact_sigmoid(1000.0), exact_sigmoid(40.0), 0.5, exact_sigmoid(-40.0)]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15)


def test_sigmoid_gradient_is_accurate_at_both_tails():
    x = mg.tensor([-40.0, 40.0], requires_grad=True)
    x.sigmoid().sum().backward()
    expected = exact_sigmoid(40.0) * exact_sigmoid(-40.0)  # σ'(x) = σ(x)σ(−x), even in x
    np.testing.assert_allclose(x.grad.numpy(), [expected, expected], rtol=1e-14)


def test_softplus_logsumexp_and_log_softmax_are_finite_at_extreme_logits():
    big = mg.tensor([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 999.0]], requires_grad=True)
    assert mg.softplus(big).numpy()[0, 0] == 1000.0
    lse = big.logsumexp(axis=1)
    np.testing.assert_allclose(lse.numpy(), [1000.0, 1000.0 + np.log(2 + np.exp(-1.0))])
    logp = big.log_softmax(axis=1)
    assert np.all(np.isfinite(logp.numpy()))
    (lse.sum() + logp.sum()).backward()
    assert np.all(np.isfinite(big.grad.numpy()))


# =========================================================================================
# 8. crashes and misleading errors
# =========================================================================================


def test_clip_with_bounds_that_require_grad():
    x = mg.tensor([-2.0, 0.0, 3.0, 0.5], requires_grad=True)
    lo = mg.tensor(-1.0, requires_grad=True)
    hi = mg.tensor([1.0, 1.0, 1.0, 0.25], requires_grad=True)
    x.clip(lo, hi).sum().backward()
    # out = (−1, 0, 1, 0.25): lo wins at 0, x at 1, hi at 2 and 3
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 0.0])
    assert lo.grad.item() == 1.0
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 0.0, 1.0, 1.0])


def test_clip_with_lo_above_hi_gives_the_whole_gradient_to_hi():
    x = mg.tensor([-5.0, 0.0, 5.0], requires_grad=True)
    lo, hi = mg.tensor(1.0, requires_grad=True), mg.tensor(-1.0, requires_grad=True)
    out = x.clip(lo, hi)  # NumPy: min(max(x, lo), hi) = hi everywhere
    np.testing.assert_array_equal(out.numpy(), [-1.0, -1.0, -1.0])
    out.sum().backward()
    assert (x.grad.numpy() == 0).all() and lo.grad.item() == 0.0 and hi.grad.item() == 3.0


def test_list_operands_work_in_forward_and_backward():
    x = mg.tensor([2.0, 3.0], requires_grad=True)
    (x ** [2.0, 3.0]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 27.0])  # b·a^(b−1)
    x.grad = None
    ([2.0, 3.0] ** x).sum().backward()  # aˣ·ln a
    np.testing.assert_allclose(x.grad.numpy(), [4 * np.log(2), 27 * np.log(3)])
    x.grad = None
    (x @ [1.0, 2.0]).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])
    x.grad = None
    mg.concatenate([x, [1.0, 2.0]]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_concatenate_with_axis_none_flattens():
    a = mg.tensor([[1.0, 2.0]], requires_grad=True)
    out = mg.concatenate([a, [[3.0], [4.0]]], axis=None)
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0, 3.0, 4.0])
    (out * mg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[1.0, 2.0]])


def test_value_errors_that_are_not_about_shapes_say_what_they_are():
    # NumPy's own words, unchanged: a compiled function raises exactly these too
    with pytest.raises(ValueError, match=r"^Integers to negative integer powers") as info:
        mg.tensor([1, 2]) ** -1
    assert not isinstance(info.value, mg.ShapeError)


def test_reducing_a_0d_tensor_over_axis_0_works_as_in_pytorch():
    x = mg.tensor(2.5, requires_grad=True)
    y = x.sum(axis=0)
    assert y.shape == () and y.item() == 2.5
    y.backward()
    assert x.grad.item() == 1.0
    with pytest.raises(mg.ShapeError, match="out of range"):
        x.sum(axis=1)


def test_max_over_an_axis_of_an_empty_tensor():
    x = mg.tensor(np.zeros((3, 0)), requires_grad=True)
    assert x.max(axis=0).shape == (0,)  # as NumPy and PyTorch
    with pytest.raises(ValueError, match="empty"):
        x.max(axis=1)


def test_duplicate_axes_are_refused():
    x = mg.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="more than once"):
        x.sum(axis=(0, 0))
    with pytest.raises(ValueError, match="more than once"):
        x.mean(axis=(1, -1))


def test_tensors_can_be_weakly_referenced():
    t = mg.tensor([1.0])
    ref = weakref.ref(t)
    assert ref() is t
    del t
    assert ref() is None


def test_where_with_a_tensor_condition_returns_a_tensor():
    out = mg.where(mg.tensor([1.0, -1.0]) > 0, 1.0, 0.0)
    assert isinstance(out, mg.Tensor)
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0])


def test_fused_linear_promotes_like_the_composition():
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    w = mg.tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    b = mg.tensor(np.ones(4, dtype=np.float64), requires_grad=True)
    fused, composed = mg.ops.linear(x, w, b), x @ w.T + b
    assert fused.dtype == composed.dtype == np.float64
    fused.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float64


@pytest.mark.parametrize(
    ("name", "fn", "expected"),
    [
        ("max", lambda x: x.max(), [0.0, 1.0, 0.0]),
        ("min over axis", lambda x: x.reshape(1, 3).min(axis=1).sum(), [0.0, 1.0, 0.0]),
        ("maximum", lambda x: mg.maximum(x, 2.0).sum(), [0.0, 1.0, 1.0]),
        ("relu", lambda x: x.relu().sum(), [1.0, 1.0, 1.0]),
        ("clip", lambda x: x.clip(0.0, 1.0).sum(), [1.0, 1.0, 0.0]),  # 1 is inside
    ],
)
def test_a_nan_routes_the_gradient_to_where_it_came_from(name, fn, expected):
    x = mg.tensor([1.0, np.nan, 3.0], requires_grad=True)
    out = fn(x)
    assert np.isnan(out.numpy()).any()
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_variadic_rules_see_the_inputs_without_copying_them():
    # a backward through n inputs must cost O(n), not O(n²): each rule gets the same
    # sequence of inputs, not a fresh unpacked copy of all n
    seen = []

    def rule(i, g, out, inputs):
        seen.append(inputs)
        return g[i - 1]

    op = Op("gather", lambda axis, *xs: np.stack(xs), EveryInput(rule))
    xs = [mg.tensor([float(k)], requires_grad=True) for k in range(50)]
    op(0, *xs).sum().backward()
    assert len(seen) == 50 and all(s is seen[0] for s in seen)
    assert all(x.grad.item() == 1.0 for x in xs)


def test_concatenate_and_stack_of_many_inputs_are_exact():
    xs = [mg.tensor(np.full(2, float(k)), requires_grad=True) for k in range(2000)]
    weights = np.arange(4000.0)
    (mg.concatenate(xs) * weights).sum().backward()
    (mg.stack(xs, axis=1) * weights.reshape(2, 2000)).sum().backward()
    for k in (0, 1, 999, 1999):
        # concat: x_k holds weights 2k, 2k+1; stack: column k of a (2, 2000) table, whose
        # weights are k and 2000 + k
        np.testing.assert_array_equal(xs[k].grad.numpy(), [3 * k, 3 * k + 2001])


def test_load_state_dict_changes_parameters_in_place_and_old_graphs_know_it():
    model = mg.nn.Linear(2, 1)
    weight = model.weight
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)  # ∂/∂x reads the weight
    loss = (model(x) ** 2).sum()
    model.load_state_dict({"weight": np.array([[3.0, 4.0]]), "bias": np.array([0.5])})
    assert model.weight is weight  # the optimizer's handle stays valid
    np.testing.assert_array_equal(weight.numpy(), [[3.0, 4.0]])
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


# =========================================================================================
# found by mutation testing: more silent corners of the same classes
# =========================================================================================


def test_tensors_inside_list_operands_keep_their_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor(3.0, requires_grad=True)
    (x * [y, 2.0]).sum().backward()  # x0·y + 2·x1: ∂/∂x = (y, 2), ∂/∂y = x0
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 2.0])
    assert y.grad.item() == 1.0
    x.grad = y.grad = None
    (x * [[y, 1.0], [2.0, y]]).sum().backward()  # ∂/∂y = x0 + x1, ∂/∂x = (y + 2, 1 + y)
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 4.0])
    assert y.grad.item() == 3.0


def test_tensors_inside_tuples_given_to_concatenate_and_stack_keep_their_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    mg.concatenate([(x[0], x[1]), x]).sum().backward()  # each element appears twice
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    x.grad = None
    (mg.stack([[x[1], 5.0], x]) * np.array([[1.0, 1.0], [10.0, 100.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 101.0])  # x1 also in row 0


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape"),
    [((3,), (3,), (3,)), ((3,), (3,), (2, 1)), ((4, 3), (3,), (2, 1, 1)),
     ((4, 3), (1, 3), (4, 5)), ((4, 3), (2, 3), (5, 1, 2))],
)  # fmt: skip
def test_linear_with_a_bias_that_broadcasts_the_output_larger(x_shape, w_shape, b_shape):
    """x @ Wᵀ + b where b makes the result larger than x @ Wᵀ: every input's gradient is
    the composition's (by finite differences), and the forward is the composition's
    whatever the bias dtype (the in-place add used to refuse a float64 bias of this
    shape that a float32 one got through)."""
    rng = np.random.default_rng(0)
    x0, w0, b0 = (rng.standard_normal(s) for s in (x_shape, w_shape, b_shape))
    upstream = rng.standard_normal(np.broadcast_shapes(np.matmul(x0, w0.T).shape, b_shape))

    def f(xx, ww, bb):
        return np.sum((np.matmul(xx, ww.T) + bb) * upstream)

    got = grads_of(mg.ops.linear, [x0, w0, b0], upstream)
    for k, a in enumerate((x0, w0, b0)):

        def fk(v, k=k):
            args = [x0, w0, b0]
            args[k] = v
            return f(*args)

        np.testing.assert_allclose(got[k], central_diff(fk, a), rtol=1e-6, atol=1e-8)
    for bias in (b0, b0.astype(np.float32)):
        np.testing.assert_allclose(
            mg.ops.linear(mg.tensor(x0), mg.tensor(w0), mg.tensor(bias)).numpy(),
            np.matmul(x0, w0.T) + bias,
            rtol=1e-12,
        )


@pytest.mark.parametrize("make", [lambda a: a.astype(np.int64), lambda a: mg.tensor(a).detach()])
def test_jit_of_a_transform_of_integer_or_detached_inputs_is_not_frozen(make):
    """grad's stand-in for its argument was a copy of the argument's data, which mg.jit
    froze at the traced call: the second call returned the first call's gradient."""
    fast = mg.jit(mg.grad(lambda x: (x**3).sum()))  # 3x²
    for a in (np.array([1.0, 2.0]), np.array([3.0, -1.0])):
        got = fast(make(a))
        assert got.dtype == np.float64  # computed in floats, as eager does
        np.testing.assert_array_equal(got.numpy(), 3 * a**2)


def test_nested_transforms_keep_the_sign_of_zero():
    """The stand-in for an argument was x + 0, which turns −0.0 into +0.0: 1/x at −0.0
    is −inf, inside a transform as outside."""
    x = mg.tensor(-0.0, requires_grad=True)
    with np.errstate(divide="ignore"):
        value, _ = mg.value_and_grad(lambda t: 1 / t)(x)
    assert value.item() == -np.inf


def test_mse_of_integers_is_their_float_mean_however_long():
    n = 3 * 8192 + 5  # past the blockwise forward's block size
    pred, target = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    pred[:3] = 1  # three unit residuals: 3/n
    for length in (100, n):
        got = mg.losses.mse(pred[:length], target[:length])
        assert got.dtype == np.float64 and got.item() == pytest.approx(3 / length, rel=1e-15)


# --------------------------------------------------------------------------- autograd.grad


def test_autograd_grad_matches_torch_through_every_path():
    """torch.autograd.grad(out, [x, y]) with y made from x: x's gradient is the total
    derivative (both paths), y's the partial one; minigrad gives the same."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xv = rng.standard_normal(4)
    x = mg.tensor(xv, requires_grad=True)
    y = x.tanh() * 3 + x
    out = (x * y).sum() + y.exp().sum()
    gx, gy = mg.autograd.grad(out, [x, y])
    tx = torch.tensor(xv, requires_grad=True)
    ty = tx.tanh() * 3 + tx
    tout = (tx * ty).sum() + ty.exp().sum()
    wx, wy = torch.autograd.grad(tout, [tx, ty])
    np.testing.assert_allclose(gx.numpy(), wx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), wy.numpy(), rtol=1e-12)


def test_autograd_grad_refuses_a_grad_output_of_another_shape():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.ShapeError, match=r"grad_output has shape \(1,\), the output has \(2,\)"):
        mg.autograd.grad(x * 2, [x], grad_output=np.ones(1))  # would broadcast silently


def test_autograd_grad_keeps_the_inputs_float_dtype():
    x = mg.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    out = (x.astype(np.float64) * 3).sum()  # a float64 output of a float32 input
    (g,) = mg.autograd.grad(out, [x])
    assert g.dtype == np.float32 and g.tolist() == [3.0, 3.0]


def test_a_recorded_backward_keeps_a_negative_zero_gradient_as_a_plain_one_does():
    """The first gradient a leaf gets under create_graph is g itself (g·1, not g + 0,
    which would turn −0.0 into +0.0): both backward passes agree to the sign."""
    grads = []
    for create in (False, True):
        x = mg.tensor(-0.0, requires_grad=True)
        (x * 0.0 * -1).backward(create_graph=create)  # ∂/∂x = 0·(−1) = −0.0
        grads.append(x.grad.item())
    assert [np.signbit(g) for g in grads] == [True, True]
