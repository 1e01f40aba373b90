"""NumPy's elementwise functions on Tensors (issue 18): what the op table cannot say.

The op table (tests/op_table.py) holds each differentiable one to finite differences at
first and second order and to PyTorch, on values kept off poles, kinks and ties. Here:
compiled equals eager (values, dtypes, shapes, gradients; called twice with new values),
float32 stays float32, and the special points: sinc at 0 at every order, the corners of
hypot and arctan2, fmax/fmin at NaNs and ties against PyTorch, the remainders' quotient
at a rounding boundary, rounding without a gradient, overflow-free rules.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import testing as mt
from tests.op_table import OPS
from tests.test_ops import draw_inputs

UNARY = [
    "tan", "arctan", "arcsin", "arccos", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
    "expm1", "exp2", "log2", "log10", "cbrt", "reciprocal", "deg2rad", "rad2deg", "sinc",
]  # fmt: skip
BINARY = ["arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "remainder", "fmod"]
ROUNDING = ["floor", "ceil", "trunc", "round", "rint", "fix"]
ROWS = {case.name: case for case in OPS}
CASES = [ROWS[n] for n in (*UNARY, *BINARY, "remainder_rmod", "square")]


def _assert_same(got: mg.Tensor, expected: mg.Tensor) -> None:
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=str)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_compiled_equals_eager_called_twice(case, dtype, data):
    """mg.jit of the function and of its gradient give eager's bits, dtype and shape on
    two different inputs of one shape (the second call replays the first trace)."""
    first = [a.astype(dtype) for a in draw_inputs(data, case)]
    second = [data.draw(mt.arrays(a.shape, **case.values)).astype(dtype) for a in first]
    assume(any(a.size == 0 or not np.array_equal(a, b) for a, b in zip(first, second, strict=True)))
    argnums = tuple(range(case.arity))
    weights = mg.tensor(np.array([0.75], dtype=dtype))  # float32 stays float32

    def loss(*xs):
        return (case.fn(*xs) * weights).sum()

    forward, gradient = mg.jit(case.fn), mg.jit(mg.value_and_grad(loss, argnums))
    for arrays in (first, second):
        tensors = [mg.tensor(a) for a in arrays]
        _assert_same(forward(*arrays), case.fn(*tensors))
        value, grads = gradient(*arrays)
        eager_value, eager_grads = mg.value_and_grad(loss, argnums)(*tensors)
        _assert_same(value, eager_value)
        for got, expected in zip(grads, eager_grads, strict=True):
            _assert_same(got, expected)
            assert got.dtype == dtype
    assert forward.traces == 1 and gradient.traces == 1


@pytest.mark.parametrize("name", ROUNDING)
@settings(max_examples=5, deadline=None)
@given(x=mt.arrays(mt.shapes(max_dims=2, max_side=3), min_value=-4, max_value=4))
def test_rounding_has_no_gradient_but_drops_none(name, x):
    """floor, ceil, trunc and round are steps (derivative 0): the result equals NumPy's
    and requires no grad, a gradient through x + step(x) is exactly 1 (as PyTorch's), and
    mg.grad of the step alone is 0 — eager and compiled."""
    torch = pytest.importorskip("torch")
    t = mg.tensor(x, requires_grad=True)
    y = getattr(np, name)(t)
    assert isinstance(y, mg.Tensor) and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), getattr(np, name)(x))
    total = (t * 2 + getattr(np, name)(t)).sum()
    total.backward()
    theirs = torch.tensor(x, requires_grad=True)
    (theirs * 2 + getattr(torch, {"rint": "round"}.get(name, name))(theirs)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(mg.grad(lambda u: getattr(mg, name)(u).sum())(t).numpy(), 0.0)
    f = mg.jit(mg.value_and_grad(lambda u: (u * getattr(np, name)(u)).sum()))
    for arrays in (x, x * 1.7 + 0.3):
        value, g = f(arrays)
        np.testing.assert_array_equal(g.numpy(), getattr(np, name)(arrays))  # d(x·c)/dx = c
        assert value.numpy() == (arrays * getattr(np, name)(arrays)).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_takes_decimals_everywhere(dtype):
    x = np.array([1.2345, -2.5, 0.5, 1.5, 2.675], dtype=dtype)
    t = mg.tensor(x, requires_grad=True)
    for got in (np.round(t, 2), np.around(t, 2), mg.round(t, 2), t.round(2), t.round(decimals=2)):
        assert isinstance(got, mg.Tensor) and got.dtype == dtype
        np.testing.assert_array_equal(got.numpy(), np.round(x, 2))
    np.testing.assert_array_equal(t.round().numpy(), np.round(x))  # halves to even
    fast = mg.jit(lambda u: np.round(u, 1) * u)
    for arrays in (x, x[::-1].copy()):
        _assert_same(fast(arrays), np.round(mg.tensor(arrays), 1) * mg.tensor(arrays))


@pytest.mark.parametrize("name", [*ROUNDING, *UNARY, *BINARY])
def test_float32_stays_float32_at_second_order(name):
    """float32 in, float32 out, and float32 gradients of gradients (create_graph)."""
    x = np.array([0.3, 0.6, 0.8], dtype=np.float32)
    other = mg.tensor(x[::-1] * 2, requires_grad=True)

    def f(u):
        u = u + 1 if name == "arccosh" else u
        return getattr(mg, name)(u, other) if name in BINARY else getattr(mg, name)(u)

    assert f(mg.tensor(x)).dtype == np.float32
    first = mg.grad(lambda u: f(u).sum())
    assert first(mg.tensor(x)).dtype == np.float32
    second = mg.grad(lambda u: (first(u) * u).sum())(mg.tensor(x))
    assert second.dtype == np.float32


# --- special points ----------------------------------------------------------------------


def _derivative(f, order):
    """The order-th derivative of an elementwise f, elementwise (by grad of sums)."""
    for _ in range(order):
        f = (lambda inner: mg.grad(lambda u: inner(u).sum()))(f)
    return f


@pytest.mark.parametrize("order", range(6))
def test_sinc_at_zero_is_exact_at_every_order(order):
    """sin(πx)/(πx) = Σ (−1)ⁿ(πx)²ⁿ/(2n+1)!: its k-th derivative at 0 is 0 for odd k and
    (−1)ⁿπ²ⁿ/(2n+1) for k = 2n. A masked formula would give 0 from the second order on
    (PyTorch gives nan there); compiled code gives the same."""
    n, odd = divmod(order, 2)
    expected = 0.0 if odd else (-1) ** n * math.pi ** (2 * n) / (2 * n + 1)
    f = _derivative(mg.sinc, order)
    np.testing.assert_allclose(f(mg.tensor(0.0)).item(), expected, rtol=1e-12)
    if order <= 3:
        fast = mg.jit(f)
        for x in (0.0, 0.25):
            _assert_same(fast(np.array(x)), f(mg.tensor(x)))


@settings(max_examples=10, deadline=None)
@given(x=mt.arrays(mt.shapes(max_dims=1, max_side=3), min_value=-0.2, max_value=0.2))
def test_sinc_near_zero_matches_finite_differences(x):
    """Near and at 0 (hypothesis draws 0 and tiny values like 1e-115, where the closed
    form (cos πx − sinc x)/x has lost every digit) the first three orders match finite
    differences of the one below."""
    t = mg.tensor(x, requires_grad=True)
    assert mg.gradcheck(mg.sinc, t)
    assert mg.gradgradcheck(mg.sinc, t)
    assert mg.gradcheck(
        lambda u: mg.grad(lambda v: mg.grad(lambda w: mg.sinc(w).sum())(v).sum())(u), t
    )


@pytest.mark.parametrize("order", range(1, 6))
def test_sinc_derivatives_match_high_precision_arithmetic(order):
    """Against mpmath's numerical derivative of sincpi at 40 digits (an independent
    reference), on both sides of the switch from the series to the closed form at |x| = 1."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    xs = [1e-8, 0.01, -0.3, 0.999, 1.0, -1.001, 1.5, -2.7, 7.25]
    expected = [float(mpmath.diff(mpmath.sincpi, mpmath.mpf(x), order)) for x in xs]
    f = _derivative(mg.sinc, order)
    got = f(mg.tensor(xs)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_corners_of_hypot_and_arctan2_have_gradient_zero():
    """At a = b = 0 hypot has a corner and arctan2 a jump: both take 0 (PyTorch: 0 for
    atan2, nan for hypot), and stay exact next to it."""
    torch = pytest.importorskip("torch")
    a = mg.tensor([0.0, 0.0, 1e-3], requires_grad=True)
    b = mg.tensor([0.0, 2.0, -1e-3], requires_grad=True)
    (np.hypot(a, b) + np.arctan2(a, b)).sum().backward()
    ta, tb = (torch.tensor(v.numpy(), requires_grad=True) for v in (a, b))
    torch.atan2(ta, tb).sum().backward()
    r2 = a.numpy() ** 2 + b.numpy() ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        hypot_a = np.where(r2 == 0, 0.0, a.numpy() / np.sqrt(r2))
        hypot_b = np.where(r2 == 0, 0.0, b.numpy() / np.sqrt(r2))
    np.testing.assert_allclose(a.grad.numpy(), hypot_a + ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), hypot_b + tb.grad.numpy(), rtol=1e-12)
    h = mg.hessian(lambda u: mg.hypot(u, mg.tensor(0.0)))(mg.tensor(0.0))
    assert np.isfinite(h.item())  # the mask is a constant: no nan at second order either


def test_large_arguments_do_not_overflow_the_rules():
    """arcsinh'(x) = 1/√(x²+1), arccosh'(x) = 1/√(x²−1) and atan2's 1/(a²+b²) would
    overflow x² at 1e200 and give 0, and expm1'(x) = out + 1 would round e⁻⁴⁰ to 0: the
    rules are written so that they give the tiny true values."""
    x = mg.tensor([1e200, -1e250], requires_grad=True)
    np.arcsinh(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / np.abs(x.numpy()), rtol=1e-12)
    x = mg.tensor([1e200, 1e300], requires_grad=True)
    np.arccosh(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / x.numpy(), rtol=1e-12)
    x = mg.tensor([-40.0, -700.0], requires_grad=True)
    np.expm1(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.numpy()), rtol=1e-15)
    a, b = mg.tensor(3e200, requires_grad=True), mg.tensor(4e200, requires_grad=True)
    np.arctan2(a, b).backward()
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [4 / 25e200, -3 / 25e200])


def test_fmax_fmin_nans_and_ties_match_pytorch():
    """NaN: the number wins (NumPy's fmax) and gets the gradient; a tie: the first input
    gets all of it (torch.fmax's rule, unlike maximum's ½/½); both NaN: the first."""
    torch = pytest.importorskip("torch")
    nan = np.nan
    av = np.array([1.0, 2.0, nan, nan, 3.0, -1.0, 0.0])
    bv = np.array([1.0, nan, 2.0, nan, 4.0, -2.0, -0.0])
    upstream = np.arange(1.0, 8.0)
    for name in ("fmax", "fmin"):
        a, b = mg.tensor(av, requires_grad=True), mg.tensor(bv, requires_grad=True)
        out = getattr(np, name)(a, b)
        np.testing.assert_array_equal(out.numpy(), getattr(np, name)(av, bv))
        out.backward(upstream)
        ta, tb = torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True)
        getattr(torch, name)(ta, tb).backward(torch.tensor(upstream))
        np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
        np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())
        assert np.all(a.grad.numpy() + b.grad.numpy() == upstream)  # nothing lost or doubled


@pytest.mark.parametrize(("name", "q"), [("fmod", np.trunc), ("remainder", np.floor)])
def test_remainder_quotient_is_the_one_the_remainder_used(name, q):
    """∂/∂b is −(the rounded quotient). At a = 1, b = 0.1, a/b rounds to 10.0, but b is a
    little above 1/10, so the true quotient is 9: fmod(1, b) = 1 − 9b just above b0, which
    its finite difference confirms (PyTorch's fmod uses trunc(a/b) = 10 here)."""
    f = getattr(np, name)
    b0, h = 0.1, 1e-9
    slope = (f(1.0, b0 + h) - f(1.0, b0)) / h  # the jump is at 1/10, just below b0
    assert round(slope) == -9 and q(1.0 / b0) == 10  # the trap is real
    a, b = mg.tensor(1.0, requires_grad=True), mg.tensor(b0, requires_grad=True)
    f(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (1.0, -9.0)


@settings(max_examples=15, deadline=None)
@given(
    pair=mt.array_pairs(min_value=-5, max_value=5, avoid=(0.0,), margin=0.3),
    name=st.sampled_from(["remainder", "fmod"]),
)
def test_remainders_match_pytorch_with_any_signs(pair, name):
    """NumPy's remainder takes b's sign and fmod a's, as torch.remainder and torch.fmod;
    the gradients are (1, −floor(a/b)) and (1, −trunc(a/b)) — also written ``a % b``."""
    torch = pytest.importorskip("torch")
    av, bv = pair
    a, b = mg.tensor(av, requires_grad=True), mg.tensor(bv, requires_grad=True)
    out = a % b if name == "remainder" else np.fmod(a, b)
    np.testing.assert_array_equal(out.numpy(), getattr(np, name)(av, bv))
    out.sum().backward()
    ta, tb = torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True)
    getattr(torch, name)(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


def test_mod_operators_and_ndarray_operands():
    t = mg.tensor([2.5, -1.5], requires_grad=True)
    for got, expected in (
        (t % 2.0, np.remainder([2.5, -1.5], 2.0)),
        (7.0 % t, np.remainder(7.0, [2.5, -1.5])),
        (np.array([7.0, 7.0]) % t, np.remainder(7.0, [2.5, -1.5])),  # ndarray.__mod__ defers
    ):
        assert isinstance(got, mg.Tensor) and got.requires_grad
        np.testing.assert_array_equal(got.numpy(), expected)
    (7.0 % t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), -np.floor_divide(7.0, [2.5, -1.5]))


def test_a_tensor_method_only_where_ndarray_has_one():
    for name in (*UNARY, *BINARY, *ROUNDING):
        assert hasattr(mg.Tensor, name) == hasattr(np.ndarray, name), name


@pytest.mark.parametrize("name", [*UNARY, *BINARY, *ROUNDING])
def test_compiled_source_writes_the_numpy_call(name):
    """The generated source names NumPy's function (remainder as its operator, ``%``)."""
    x = np.array([1.3, 1.6]) if name == "arccosh" else np.array([0.3, 0.6])
    if name in BINARY:
        fast = mg.jit(lambda a, b: getattr(np, name)(a, b))
        fast(x, x[::-1].copy())
    else:
        fast = mg.jit(lambda a: getattr(np, name)(a))
        fast(x)
    assert (" % " if name == "remainder" else f"np.{name}(") in fast.source, fast.source
