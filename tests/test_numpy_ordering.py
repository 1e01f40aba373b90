"""NumPy's cumulative, ordering and other functions on Tensors (issue 18, part 2).

The op table (tests/op_table.py) holds each to finite differences at first and second
order and to PyTorch on smooth, tie-free draws; here are the corners it does not reach:
cumprod at zeros (one, several, everywhere), ties in sort and partition, nan_to_num's
replaced values, real/imag/conj/angle, NumPy's dispatch, the errors, and mg.jit against
eager on fresh values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import testing as mt

torch = pytest.importorskip("torch")


def t(a, requires_grad=True):
    return mg.tensor(np.asarray(a, dtype=float), requires_grad=requires_grad)


def grad_of(f, a, upstream=None):
    x = t(a)
    y = f(x)
    y.backward(np.ones(y.shape) if upstream is None else upstream)
    return y.numpy(), x.grad.numpy()


def torch_grad_of(f, a, upstream=None):
    x = torch.tensor(np.asarray(a, dtype=float), requires_grad=True)
    y = f(x)
    y.backward(torch.ones(y.shape, dtype=y.dtype) if upstream is None else torch.tensor(upstream))
    return y.detach().numpy(), x.grad.numpy()


# --- cumprod at zeros: the corners where the usual rule (reversed cumsum(g·out)/x) fails ---

ZERO_CORNERS = [
    [2.0, 0.0, 3.0, -1.5],  # one zero inside
    [0.0, 2.0, 3.0, 0.5],  # a zero first
    [2.0, 3.0, 0.5, 0.0],  # a zero last
    [1.5, 0.0, 2.0, 0.0, -3.0],  # two zeros
    [0.0, 0.0, 2.0],  # two zeros first
    [0.0, 0.0, 0.0],  # only zeros
    [0.0],
]


def _cumprod_by_prod(x, axis):
    """cumprod as prod of each prefix: an independent, division-free reference."""
    n = x.shape[axis]
    prefix = [mg.prod(x[(slice(None),) * axis + (slice(0, k + 1),)], axis=axis) for k in range(n)]
    return mg.stack(prefix, axis=axis)


@pytest.mark.parametrize("values", ZERO_CORNERS, ids=str)
def test_cumprod_at_zeros_matches_torch_finite_differences_and_products(values):
    upstream = np.linspace(0.5, 2.0, len(values))
    out, grad = grad_of(lambda x: mg.cumprod(x), values, upstream)
    expected, expected_grad = torch_grad_of(lambda x: torch.cumprod(x, 0), values, upstream)
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)
    _, by_prod = grad_of(lambda x: _cumprod_by_prod(x, 0), values, upstream)
    np.testing.assert_allclose(grad, by_prod, rtol=1e-12, atol=1e-15)
    assert np.all(np.isfinite(grad))
    assert mg.gradcheck(lambda x: mg.cumprod(x), t(values))
    assert mg.gradgradcheck(lambda x: mg.cumprod(x), t(values))


def test_cumprod_gradient_is_right_at_subnormal_values_where_dividing_is_not():
    """x₀ = 5e−324, the smallest subnormal: x₀·1.5 rounds to 2·x₀, so out₁/x₀ = 2, not
    x₁ = 1.5 (PyTorch's rule divides: 3.0 here); the division-free rule gives 2.5."""
    _, grad = grad_of(lambda x: mg.cumprod(x), [5e-324, 1.5])
    np.testing.assert_array_equal(grad, [2.5, 5e-324])


@pytest.mark.parametrize("values", ZERO_CORNERS, ids=str)
def test_cumprod_hessian_at_zeros_is_the_polynomial_one(values):
    """Second order at a zero: the rule may not mask a zero away (a mask would give
    ∂²/∂x₀∂x₁ = 0 where the product x₀x₁ has 1)."""
    w = np.linspace(-1.0, 2.0, len(values))
    hessian = mg.hessian(lambda x: (mg.cumprod(x) * w).sum())(t(values)).numpy()
    reference = mg.hessian(lambda x: (_cumprod_by_prod(x, 0) * w).sum())(t(values)).numpy()
    np.testing.assert_allclose(hessian, reference, rtol=1e-12, atol=1e-15)
    x = torch.tensor(values, dtype=torch.float64)
    expected = torch.autograd.functional.hessian(
        lambda v: (torch.cumprod(v, 0) * torch.tensor(w)).sum(), x
    )
    np.testing.assert_allclose(hessian, expected.numpy(), rtol=1e-12, atol=1e-15)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_cumprod_with_drawn_zeros_along_any_axis(data):
    shape = data.draw(mt.shapes(min_dims=1, max_dims=3, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(mt.arrays(shape, avoid=(0.0,), margin=0.1))  # no subnormals: torch
    zeros = data.draw(st.lists(st.booleans(), min_size=a.size, max_size=a.size))
    a = np.where(np.reshape(zeros, shape), 0.0, a)
    upstream = data.draw(mt.arrays(shape))
    _, grad = grad_of(lambda x: mg.cumprod(x, axis=axis), a, upstream)
    _, expected = torch_grad_of(lambda x: torch.cumprod(x, axis), a, upstream)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12)
    _, by_prod = grad_of(lambda x: _cumprod_by_prod(x, axis % len(shape)), a, upstream)
    np.testing.assert_allclose(grad, by_prod, rtol=1e-10, atol=1e-12)
    assert mg.gradgradcheck(lambda x: mg.cumprod(x, axis=axis), t(a))


# --- sort and partition: ties, NaNs, the permutation ------------------------------------


def test_sort_ties_take_their_places_in_position_order_like_torch_stable_sort():
    values = [1.0, 1.0, 0.0, 1.0, 0.0]
    upstream = np.arange(1.0, 6.0)
    out, grad = grad_of(lambda x: mg.sort(x), values, upstream)
    expected, expected_grad = torch_grad_of(
        lambda x: torch.sort(x, stable=True).values, values, upstream
    )
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(grad, expected_grad)
    np.testing.assert_array_equal(grad, [3.0, 4.0, 1.0, 5.0, 2.0])  # written out by hand


def test_sort_puts_nans_last_and_routes_their_gradient_to_them():
    values = [2.0, np.nan, -1.0, 0.5]
    out, grad = grad_of(lambda x: mg.sort(x), values, np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(out, np.sort(values))
    np.testing.assert_array_equal(grad, [3.0, 4.0, 1.0, 2.0])


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_partition_sends_each_place_gradient_to_the_input_that_landed_there(data):
    shape = data.draw(mt.shapes(min_dims=1, max_dims=2, max_side=5))
    a = data.draw(mt.arrays(shape, distinct_gap=0.05))
    kth = data.draw(st.integers(-shape[-1], shape[-1] - 1))
    upstream = data.draw(mt.arrays(shape))
    out, grad = grad_of(lambda x: mg.partition(x, kth), a, upstream)
    np.testing.assert_array_equal(out, np.partition(a, kth))
    # distinct values: input i went to the place holding its value
    rows_out, rows_a = out.reshape(-1, shape[-1]), a.reshape(-1, shape[-1])
    rows_up, rows_grad = upstream.reshape(-1, shape[-1]), grad.reshape(-1, shape[-1])
    for o, x, u, g in zip(rows_out, rows_a, rows_up, rows_grad, strict=True):
        np.testing.assert_array_equal(g, [u[np.flatnonzero(o == v)[0]] for v in x])


@pytest.mark.parametrize("kth", [3, 50, -1])
def test_partition_of_a_long_axis_where_the_output_is_not_sorted(kth):
    """Up to ~50 values NumPy's partition happens to sort; past it, the places are not
    the ranks, and the gradient must follow the places."""
    a = np.random.default_rng(kth % 7).standard_normal((2, 120))
    upstream = np.random.default_rng(1).standard_normal((2, 120))
    out, grad = grad_of(lambda x: np.partition(x, kth), a, upstream)
    assert not np.array_equal(out, np.sort(a))  # the case this test is for
    for o, x, u, g in zip(out, a, upstream, grad, strict=True):
        np.testing.assert_array_equal(g, [u[np.flatnonzero(o == v)[0]] for v in x])


def test_partition_with_ties_and_several_kth():
    values = [3.0, 1.0, 3.0, 1.0, 2.0]
    out, grad = grad_of(lambda x: mg.partition(x, (1, 3)), values, np.arange(1.0, 6.0))
    np.testing.assert_array_equal(out, np.partition(values, (1, 3)))
    assert sorted(grad) == [1.0, 2.0, 3.0, 4.0, 5.0]  # a permutation of the upstream
    for i, v in enumerate(values):  # each input got the gradient of a place with its value
        assert out[int(grad[i]) - 1] == v


def test_tensor_sort_method_gives_values_and_indices_like_torch():
    a = np.array([[3.0, 1.0, 2.0], [0.0, 0.0, -1.0]])
    values, indices = t(a).sort()
    assert t(a).sort().values.shape == t(a).sort(axis=0).indices.shape == a.shape
    expected = torch.sort(torch.tensor(a), stable=True)
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    assert values.requires_grad and not indices.requires_grad


# --- nan_to_num, real, imag, conj, angle ------------------------------------------------


def test_nan_to_num_gradient_is_one_where_finite_and_zero_where_replaced():
    a = np.array([1.5, np.nan, np.inf, -np.inf, -0.0, 3.0])
    x = t(a)
    y = mg.nan_to_num(x, nan=7.0, posinf=1e3, neginf=-2.0)
    np.testing.assert_array_equal(y.numpy(), np.nan_to_num(a, nan=7.0, posinf=1e3, neginf=-2.0))
    y.backward(np.arange(1.0, 7.0))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0, 0.0, 5.0, 6.0])
    _, expected = torch_grad_of(
        lambda v: torch.nan_to_num(v, nan=7.0, posinf=1e3, neginf=-2.0), a, np.arange(1.0, 7.0)
    )
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    x = t(a)
    y = np.nan_to_num(x)  # NumPy's function on a Tensor: the default limits
    np.testing.assert_array_equal(y.numpy(), np.nan_to_num(a))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.isfinite(a).astype(float))


def test_nan_to_num_in_place_is_left_to_numpy_and_refused_with_a_gradient():
    with pytest.raises(TypeError, match="silently drop"):
        np.nan_to_num(t([1.0, np.nan]), copy=False)


def test_real_and_conj_are_the_tensor_imag_and_angle_have_zero_gradient():
    a = np.array([-2.0, -0.0, 0.0, 3.0])
    x = t(a)
    assert np.real(x) is x and np.conj(x) is x and np.conjugate(x) is x and x.conj() is x
    assert np.real_if_close(x) is x
    imag, angle = np.imag(x), np.angle(x)
    np.testing.assert_array_equal(imag.numpy(), np.imag(a))
    np.testing.assert_array_equal(angle.numpy(), np.angle(a))
    np.testing.assert_array_equal(np.angle(x, deg=True).numpy(), np.angle(a, deg=True))
    with np.errstate(invalid="ignore"):  # 0·inf: the upstream of imag is inf, 0 or nan
        (imag * np.inf + angle).sum().backward()  # still a gradient of 0, not nan
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))
    expected = torch.tensor(a, requires_grad=True)
    torch.angle(expected).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected.grad.numpy())


@pytest.mark.parametrize("name", ["real", "imag", "conj", "angle", "real_if_close"])
def test_complex_input_raises_type_error(name):
    with pytest.raises(TypeError, match=f"{name}: complex input"):
        getattr(mg, name)(mg.tensor([1.0 + 2.0j]))
    with pytest.raises(TypeError, match="complex"):
        getattr(mg, name)(np.array([1j]))


@pytest.mark.parametrize(
    ("f", "saved"),
    [
        (lambda x: mg.cumprod(x), "cumprod saved its input 0"),
        (lambda x: mg.sort(x), "sort saved its input 0"),
        (lambda x: mg.partition(x, 1), "partition saved its input 0"),
        (lambda x: mg.nan_to_num(x), "nan_to_num saved its input 0"),
    ],
)
def test_changing_a_saved_input_in_place_is_refused_at_backward(f, saved):
    x = t([2.0, 0.5, 3.0, 1.0])
    out = f(x)
    with mg.no_grad():
        x += 1.0  # changes the values the rule would read
    with pytest.raises(RuntimeError, match=f"modified in place: {saved}"):
        out.sum().backward()


def test_fabs_matches_numpy_and_abs_gradient():
    a = np.array([-2.0, 0.0, 1.5])
    out, grad = grad_of(np.fabs, a)
    np.testing.assert_array_equal(out, np.fabs(a))
    np.testing.assert_array_equal(grad, [-1.0, 0.0, 1.0])  # 0 at the kink, as abs


# --- select, gradient, linspace ---------------------------------------------------------


def test_select_takes_the_first_true_condition_and_the_default_elsewhere():
    a, b = np.array([-2.0, -0.5, 0.5, 2.0]), np.array([1.0, 2.0, 3.0, 4.0])
    x, y, d = t(a), t(b), t([9.0])
    conditions = [x > 0, x > 1]  # both true at 2.0: the first wins
    out = np.select(conditions, [x * y, y], default=d)
    np.testing.assert_array_equal(out.numpy(), np.select([a > 0, a > 1], [a * b, b], 9.0))
    out.backward(np.ones(4))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(a > 0, b, 0.0))
    np.testing.assert_array_equal(y.grad.numpy(), np.where(a > 0, a, 0.0))
    np.testing.assert_array_equal(d.grad.numpy(), [2.0])


def test_gradient_matches_numpy_on_several_axes_spacings_and_edge_orders():
    a = np.random.default_rng(3).standard_normal((4, 5))
    for args, kwargs in [((), {}), ((0.5, 2.0), {}), ((0.25,), {"edge_order": 2})]:
        ours = np.gradient(t(a), *args, **kwargs)
        theirs = np.gradient(a, *args, **kwargs)
        assert isinstance(ours, tuple) and len(ours) == 2
        for o, e in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.numpy(), e, rtol=1e-14, atol=1e-14)
    one = np.gradient(t(a), 0.5, axis=-1, edge_order=2)
    np.testing.assert_allclose(one.numpy(), np.gradient(a, 0.5, axis=-1, edge_order=2), rtol=1e-14)
    assert mg.gradgradcheck(lambda x: mg.gradient(x, 0.3, axis=0, edge_order=2), t(a))


def test_gradient_keeps_float32():
    a = np.arange(6.0, dtype=np.float32) ** 2
    y = np.gradient(mg.tensor(a, requires_grad=True), 0.5)
    assert y.dtype == np.float32 == np.gradient(a, 0.5).dtype


def test_linspace_with_tensor_endpoints_is_differentiable_in_both():
    lo, hi = t(-1.0), t(2.5)
    y = np.linspace(lo, hi, 6)
    assert isinstance(y, mg.Tensor)
    np.testing.assert_allclose(y.numpy(), np.linspace(-1.0, 2.5, 6), rtol=1e-15)
    assert y.numpy()[-1] == 2.5 and y.numpy()[0] == -1.0
    w = np.arange(1.0, 7.0)
    (y * w).sum().backward()
    i = np.arange(6) / 5
    np.testing.assert_allclose(lo.grad.numpy(), (w * (1 - i)).sum(), rtol=1e-14)
    np.testing.assert_allclose(hi.grad.numpy(), (w * i).sum(), rtol=1e-14)


@pytest.mark.parametrize(("lo", "hi", "num"), [(0.1, 0.7, 7), (-1.3, 2.9, 11), (1e-3, 5.0, 50)])
def test_linspace_is_numpys_to_the_bit_and_ends_at_stop(lo, hi, num):
    got = np.linspace(t(lo), t(hi), num).numpy()
    np.testing.assert_array_equal(got, np.linspace(lo, hi, num))
    assert got[-1] == hi


def test_linspace_options_match_numpy():
    a, b = np.array([0.0, 1.0]), np.array([1.0, -3.0])
    for kwargs in [{}, {"endpoint": False}, {"axis": 1}, {"axis": -1, "endpoint": False}]:
        got = np.linspace(t(a), t(b), 5, **kwargs)
        np.testing.assert_allclose(got.numpy(), np.linspace(a, b, 5, **kwargs), rtol=1e-15)
    _, step = np.linspace(t(0.0), t(1.0), 5, retstep=True)
    assert step.numpy() == np.linspace(0.0, 1.0, 5, retstep=True)[1]
    for num in (0, 1):
        got = np.linspace(t(0.5), t(1.0), num)
        np.testing.assert_array_equal(got.numpy(), np.linspace(0.5, 1.0, num))
    y32 = np.linspace(mg.tensor(np.float32(0)), 1.0, 3)
    assert y32.dtype == np.float32 == np.linspace(np.float32(0), 1.0, 3).dtype
    assert mg.gradgradcheck(lambda p, q: mg.linspace(p, q * q, 4, axis=-1), t(a), t(b))


# --- NumPy dispatch and axis keywords ----------------------------------------------------

A = np.random.default_rng(5).standard_normal((3, 4))

NUMPY_CALLS = {
    "cumsum": lambda f, x: f(x, axis=-1),
    "cumsum_flat": lambda f, x: np.cumsum(x),
    "cumprod": lambda f, x: f(x, axis=0),
    "sort": lambda f, x: f(x, axis=0),
    "sort_flat": lambda f, x: np.sort(x, axis=None),
    "sort_kind": lambda f, x: np.sort(x, kind="stable"),
    "flip": lambda f, x: f(x, axis=(0, -1)),
    "flipud": lambda f, x: f(x),
    "fliplr": lambda f, x: f(x),
    "roll": lambda f, x: f(x, (1, 2), axis=(0, 1)),
    "roll_flat": lambda f, x: np.roll(x, 5),
    "diff": lambda f, x: f(x, n=2, axis=-1),
    "diff_append": lambda f, x: np.diff(x, axis=0, prepend=1.0, append=np.zeros((1, 4))),
    "rot90": lambda f, x: f(x, k=-1, axes=(1, 0)),
    "rollaxis": lambda f, x: f(x[None], 2, 1),
    "nan_to_num": lambda f, x: f(x, nan=3.0),
    "fabs": lambda f, x: f(x),
    "partition": lambda f, x: f(x, -2, axis=1),
}


@pytest.mark.parametrize("name", sorted(NUMPY_CALLS))
def test_numpy_call_on_a_tensor_is_the_op_with_numpy_values(name):
    call = NUMPY_CALLS[name]
    f = getattr(np, name.split("_flat")[0].split("_kind")[0].split("_append")[0])
    x = t(A)
    got = call(f, x)
    assert isinstance(got, mg.Tensor) and got.requires_grad
    np.testing.assert_array_equal(got.numpy(), call(f, A))
    got.backward(np.ones(got.shape))
    assert x.grad.shape == A.shape


def test_flip_roll_and_rot90_gradients_are_the_inverse_rearrangement():
    upstream = np.arange(12.0).reshape(3, 4)
    for f, inverse in [
        (lambda x: np.flip(x, 1), lambda g: np.flip(g, 1)),
        (lambda x: np.roll(x, 3), lambda g: np.roll(g, -3)),
        (lambda x: np.roll(x, -1, axis=0), lambda g: np.roll(g, 1, axis=0)),
        (lambda x: np.rot90(x), lambda g: np.rot90(g, -1)),
        (lambda x: np.rot90(x, 3), lambda g: np.rot90(g, 1)),
        (lambda x: np.rollaxis(x, 1), lambda g: np.rollaxis(g, 0, 2)),
    ]:
        out, grad = grad_of(f, A, f(upstream))
        np.testing.assert_array_equal(out, f(A))
        np.testing.assert_array_equal(grad, upstream)
        np.testing.assert_array_equal(inverse(f(upstream)), upstream)


def test_diff_gradient_is_the_transposed_difference():
    upstream = np.array([1.0, -2.0, 4.0])
    _, grad = grad_of(lambda x: mg.diff(x), [0.0, 1.0, 3.0, 7.0], upstream)
    np.testing.assert_array_equal(grad, [-1.0, 3.0, -6.0, 4.0])  # [0, g] − [g, 0]
    _, grad = grad_of(lambda x: mg.diff(x, n=5), [0.0, 1.0, 3.0], np.zeros(0))
    np.testing.assert_array_equal(grad, np.zeros(3))  # more differences than values
    x = t([1.0, 2.0])
    assert mg.diff(x, n=0) is x


# --- errors: the function, the shapes, what was wrong ----------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: mg.cumsum(t(A), axis=2), mg.ShapeError, r"cumsum: axis 2 .* shape \(3, 4\)"),
        (lambda: np.cumprod(t(A), axis=-3), mg.ShapeError, r"cumprod: axis -3 .* \(3, 4\)"),
        (lambda: mg.sort(t(1.0)), mg.ShapeError, r"sort: axis -1 .* shape \(\)"),
        (lambda: mg.flip(t(A), 3), mg.ShapeError, r"flip: .*out of range.*\(3, 4\)"),
        (lambda: mg.flip(t(1.0), 0), mg.ShapeError, r"flip: axis 0 is out of range for a 0-d"),
        (lambda: mg.fliplr(t([1.0])), mg.ShapeError, r"fliplr: .*2 dimensions.*\(1,\)"),
        (lambda: mg.flipud(t(1.0)), mg.ShapeError, "flipud"),
        (lambda: mg.roll(t(A), (1, 2), axis=0), ValueError, r"roll: 2 shifts"),
        (lambda: mg.roll(t(A), 1.5), TypeError, "roll: shift must be an integer"),
        (lambda: mg.diff(t(1.0)), mg.ShapeError, "diff: needs an input with at least 1"),
        (lambda: mg.diff(t(A), n=-1), ValueError, "diff: order n must be non-negative"),
        (lambda: mg.rot90(t(A), axes=(1, 1)), ValueError, r"rot90: axes \(1, 1\) .*\(3, 4\)"),
        (lambda: mg.rot90(t(A), axes=(0, 2)), mg.ShapeError, r"rot90: axis 2 .*\(3, 4\)"),
        (lambda: mg.rollaxis(t(A), 0, 5), mg.ShapeError, r"rollaxis: start=5 .*\(3, 4\)"),
        (lambda: mg.partition(t(A), 4), ValueError, r"partition: kth=4 .* length 4"),
        (lambda: mg.select([t(A) > 0], []), ValueError, "select: 1 conditions for 0 choices"),
        (lambda: mg.select([t(A)], [t(A)]), TypeError, "select: condition 0 must be boolean"),
        (lambda: mg.gradient(t([1.0, 2.0]), edge_order=2), mg.ShapeError, r"gradient: .*\(2,\)"),
        (lambda: mg.gradient(t(A), [1.0, 2.0, 3.0]), TypeError, "gradient: only scalar"),
        (lambda: mg.linspace(t(0.0), 1.0, -1), ValueError, "linspace: num must be"),
        (lambda: mg.linspace(t(0.0), 1.0, 3, dtype=int), TypeError, "linspace: dtype=int64"),
        (lambda: mg.nan_to_num(t(A), nan=t(1.0)), TypeError, "nan_to_num: nan must be a number"),
    ],
)
def test_bad_arguments_raise_naming_the_function_and_shapes(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- mg.jit: eager's values, dtypes and shapes, on two different inputs ------------------

JITTED = {
    "cumsum": lambda x: np.cumsum(x, axis=-1),
    "cumprod": lambda x: np.cumprod(x, axis=0),
    "sort": lambda x: np.sort(x, axis=-1),
    "partition": lambda x: np.partition(x, 1, axis=-1),
    "flip": lambda x: np.flip(x, axis=0),
    "flipud": lambda x: np.flipud(x),
    "fliplr": lambda x: np.fliplr(x),
    "roll": lambda x: np.roll(x, 2, axis=1),
    "diff": lambda x: np.diff(x, n=2, axis=-1),
    "rot90": lambda x: np.rot90(x),
    "rollaxis": lambda x: np.rollaxis(x, 1),
    "nan_to_num": lambda x: np.nan_to_num(x / x, nan=0.5),
    "fabs": lambda x: np.fabs(x),
    "select": lambda x: np.select([x > 0, x < -1], [x * x, -x], default=x),
    "gradient": lambda x: np.gradient(x, 0.5, axis=-1),
    "linspace": lambda x: np.linspace(x[0], x[-1], 4),
    "real": lambda x: np.real(x) * 2,
    "imag": lambda x: np.imag(x) + x,
    "conj": lambda x: np.conj(x) * 2,
    "angle": lambda x: np.angle(x) + x,
}
SOURCE = {  # what compiled code writes for the ops that are NumPy calls of their own
    "cumsum": "np.cumsum(",
    "cumprod": "np.cumprod(",
    "sort": "np.sort(",
    "partition": "np.partition(",
    "flip": "np.flip(",
    "roll": "np.roll(",
    "diff": "np.diff(",
    "nan_to_num": "np.nan_to_num(",
    "fabs": "np.fabs(",
    "imag": "np.imag(",
    "angle": "np.angle(",
}


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # 0/0
@pytest.mark.parametrize("name", sorted(JITTED))
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_jit_equals_eager_on_two_inputs_with_gradients(name, data):
    f = JITTED[name]
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    shape = data.draw(st.tuples(st.integers(3, 4), st.integers(3, 5)))
    out_shape = f(mg.zeros(shape, dtype=dtype)).shape
    weights = np.linspace(-1.0, 2.0, int(np.prod(out_shape))).reshape(out_shape).astype(dtype)

    def loss(x):
        return (f(x) * weights).sum()

    forward, backward = mg.jit(f), mg.jit(mg.grad(loss))
    first = data.draw(mt.arrays(shape, distinct_gap=0.01)).astype(dtype)
    first[0, 0] = 0.0  # a zero: nan_to_num replaces 0/0, cumprod's corner
    second = (first[::-1, ::-1] * -1.7 + 0.3).astype(dtype)  # other values, other order
    for a in (first, second):  # compiled once, then called on new values
        eager, fast = f(mg.tensor(a)), forward(a)
        assert fast.dtype == eager.dtype == dtype and fast.shape == eager.shape
        np.testing.assert_array_equal(fast.numpy(), eager.numpy())
        expected = mg.grad(loss)(mg.tensor(a))
        got = backward(a)
        assert got.dtype == expected.dtype == dtype
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert forward.traces == backward.traces == 1
    if name in SOURCE:
        assert SOURCE[name] in forward.source


def test_jit_of_second_derivative_of_cumprod_at_zeros_equals_eager():
    w = np.array([0.5, -1.0, 2.0, 1.5])

    def hvp(x):
        g = mg.grad(lambda v: (mg.cumprod(v) * w).sum())(x)
        return (g * g).sum()

    fast = mg.jit(mg.grad(hvp))
    for a in ([1.0, 0.0, 2.0, 0.0], [0.0, 3.0, -1.0, 2.0]):
        np.testing.assert_array_equal(fast(np.array(a)).numpy(), mg.grad(hvp)(t(a)).numpy())
