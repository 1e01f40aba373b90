"""gradcheck and gradgradcheck (minigrad/gradcheck.py): they pass correct functions and
catch wrong ones, and are pinned down to their tolerances, defaults and reports.

Each test states a documented behaviour that a one-token change to the checker would
break — the tolerance rule |analytical − numerical| ≤ atol + rtol·|numerical| at its exact
boundary, the default tolerances, unit probe vectors in fast mode, reproducibility, that
gradgradcheck also checks the vector-Jacobian product with respect to its vector, that
inputs are never changed, and what a failure report says. Expected values are worked out
by hand next to each assertion; the functions under check use made-up ops whose rules are
wrong by a known amount, so the right verdict is known without trusting the checker.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Op
from minigrad.gradcheck import analytical_jacobians, numerical_jacobians
from tests.helpers import value


def scaled(rule_factor: float, name: str = "scaled") -> Op:
    """f(x) = 2x with the rule g·rule_factor: wrong by (rule_factor − 2) per element."""
    return Op(name, lambda x: 2 * x, (lambda g, out, x: rule_factor * g,))


def square_with_bad_second_derivative(c: float) -> Op:
    """x² whose rule has the right value 2gx, but whose own derivative is off by c·g.

    x − value(x) is 0 (so an ordinary backward is exact) yet has slope 1 when the rule
    runs on Tensors under create_graph: d/dx of the rule is (2 + c)·g instead of 2g.
    """
    return Op(
        "square_bad_2nd",
        np.square,
        (lambda g, out, x: 2 * g * x + c * g * (x - value(x)),),
    )


def square_with_bad_g_slope(c: float) -> Op:
    """x² whose rule has the right value 2gx, but whose derivative with respect to the
    upstream gradient g is 2x + c instead of 2x (g − value(g) is 0 with slope 1)."""
    return Op(
        "square_bad_dg",
        np.square,
        (lambda g, out, x: 2 * g * x + c * (g - value(g)),),
    )


def counting(f):
    """f, counting its calls in ``.calls``."""

    def wrapped(*args):
        wrapped.calls += 1
        return f(*args)

    wrapped.calls = 0
    return wrapped


def reported(message: str) -> tuple[float, float]:
    """The (analytical, numerical) pair a GradcheckError message names."""
    m = re.search(r"analytical ([-+\w.]+), numerical ([-+\w.]+)", message)
    assert m is not None, message
    return float(m.group(1)), float(m.group(2))


# =========================================================================================
# passing correct functions, catching wrong ones, leaving inputs alone
# =========================================================================================


bad_square = Op("bad_square", np.square, (lambda g, out, x: g * x,))  # missing the factor 2


def _graph_breaking_square() -> Op:
    # x² with the right rule 2·g·x — except that x is read through .data, which under
    # create_graph turns the Tensor x into a constant: first derivative right, the
    # derivative of the rule with respect to x lost. (np.asarray(x) would be refused.)
    return Op("square_breaks_graph", np.square, (lambda g, out, x: 2 * g * getattr(x, "data", x),))


def test_gradcheck_passes_on_correct_functions():
    rng = np.random.default_rng(4)
    a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    c = mg.tensor(rng.uniform(0.5, 2.0, 3), requires_grad=True)
    assert mg.gradcheck(lambda a, b: (a @ b).tanh(), a, b) is True
    assert mg.gradcheck(lambda a, c: (a * c).sigmoid() / c + c.log() * c.sqrt(), a, c) is True
    assert mg.gradcheck(lambda a: (a.exp().sum(axis=0), a.mean(axis=1)), a) is True
    assert mg.gradcheck(lambda a, k: a * k, a, np.full((2, 3), 2.0)) is True  # constant arg


def test_gradcheck_reports_the_wrong_gradient():
    xv = np.array([0.5, -1.0, 2.0])
    c = np.array([1.0, 1.0, 1.0])  # argument 0: a constant, not checked
    a = mg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    x = mg.tensor(xv, requires_grad=True)
    # f(c, a, x) = c · a · x²: argument 1 is right, argument 2 gets x instead of 2x (error
    # |x|, worst at element 2 where x = 2: analytical 2, numerical 4)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda c, a, x: a * bad_square(x) * c, c, a, x)
    msg = str(info.value)
    assert "input 2" in msg  # the argument's position in the call, constants counted
    assert "input element (2,)" in msg
    m = re.search(r"analytical ([-\d.e]+), numerical ([-\d.e]+)", msg)
    assert m is not None, msg
    assert float(m.group(1)) == pytest.approx(2.0)
    assert float(m.group(2)) == pytest.approx(4.0, rel=1e-6)


def test_gradcheck_never_mutates_inputs():
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    y = mg.tensor(rng.standard_normal(3), requires_grad=True)
    const = rng.standard_normal(3)
    before = (x.data.copy(), y.data.copy(), const.copy())
    x_data, y_data = x.data, y.data
    mg.gradcheck(lambda x, y, c: (x * y + c).tanh(), x, y, const, atol=1e-2, rtol=1e-2)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda x, y: bad_square(x) * y, x, y)
    mg.gradgradcheck(lambda x, y: (x * y).tanh(), x, y, atol=1e-2, rtol=1e-2)
    assert x.data is x_data and y.data is y_data
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.data, before[0])
    np.testing.assert_array_equal(y.data, before[1])
    np.testing.assert_array_equal(const, before[2])
    assert x.grad is None and y.grad is None
    assert x.requires_grad and y.requires_grad


def test_gradcheck_fast_mode():
    x = mg.tensor(np.linspace(-1.0, 1.5, 20), requires_grad=True)
    calls = [0]

    def f(t):
        calls[0] += 1
        return (t.tanh() * t).sum()

    assert mg.gradcheck(f, x, fast_mode=True) is True
    # fast mode passed on its own: one forward + two perturbed ones, not 2·20 + 3
    assert calls[0] <= 5
    calls[0] = 0
    assert mg.gradcheck(f, x) is True
    assert calls[0] >= 40
    with pytest.raises(mg.GradcheckError, match=r"input 0.*analytical") as info:
        mg.gradcheck(lambda t: bad_square(t).sum(), x, fast_mode=True)
    # the error |2x − x| = |x| is largest at the last element, x = 1.5
    assert "input element (19,)" in str(info.value)


def test_gradgradcheck():
    rng = np.random.default_rng(6)
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert mg.gradgradcheck(lambda t: t.tanh(), x) is True
    assert mg.gradgradcheck(lambda a, b: a @ b, a, b) is True
    assert mg.gradgradcheck(lambda t: t.sigmoid() * t.exp(), x) is True


def test_gradgradcheck_catches_a_rule_that_breaks_the_graph():
    sq = _graph_breaking_square()
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(lambda t: sq(t), x) is True  # first derivative is right
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradgradcheck(lambda t: sq(t), x)


# =========================================================================================
# the tolerance rule, at its boundary (exact arithmetic: x = 0, eps = 0.5, f = 2x)
# =========================================================================================
# numerical: (2·0.5 − 2·(−0.5)) / (2·0.5) = 2 exactly; analytical 2.25: |difference| 0.25


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize(
    ("atol", "rtol", "atol_below", "rtol_below"),
    [
        (0.25, 0.0, 0.2499, 0.0),  # the error equals atol
        (0.0, 0.125, 0.0, 0.12),  # rtol·|numerical| = 0.125·2 = 0.25, the error
    ],
)
def test_an_error_equal_to_the_tolerance_passes_and_one_above_fails(
    fast_mode, atol, rtol, atol_below, rtol_below
):
    op = scaled(2.25)
    x = mg.tensor([0.0], requires_grad=True)
    f = counting(lambda t: op(t))
    assert mg.gradcheck(f, x, eps=0.5, atol=atol, rtol=rtol, fast_mode=fast_mode)
    if fast_mode:  # decided by the fast check itself: 1 evaluation + 2 perturbed ones
        assert f.calls == 3
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(f, x, eps=0.5, atol=atol_below, rtol=rtol_below, fast_mode=fast_mode)


def test_the_mismatch_report_gives_the_difference_and_the_tolerance():
    op = scaled(2.25)
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: op(t), x, eps=0.5, atol=0.1, rtol=0.05)
    msg = str(info.value)
    assert reported(msg) == (2.25, 2.0)
    # |2.25 − 2| = 0.25 against atol + rtol·|numerical| = 0.1 + 0.05·2 = 0.2
    assert re.search(r"\|difference\| 0\.25 > atol \+ rtol·\|numerical\| = 0\.2\b", msg), msg
    assert "output 0 with respect to input 0 (shape (2,))" in msg
    assert "output element 0, input element (0,)" in msg


# =========================================================================================
# default tolerances and step
# =========================================================================================


def test_defaults_catch_a_small_absolute_error():
    # at x = 0 the derivative 2 is small, so rtol·|2| = 2e-3 is the bound: an error of
    # 1e-2 must fail with the defaults (atol = 1e-5, rtol = 1e-3)
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: scaled(2.01)(t), x)


def test_defaults_catch_a_ten_percent_relative_error_on_a_large_derivative():
    # f = 2x with rule 2.2: error 0.2 > 1e-5 + 1e-3·2
    x = mg.tensor([3.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: scaled(2.2)(t), x)


def test_defaults_accept_a_relative_error_within_rtol():
    # f = 200x with the rule 200.1: error 0.1 ≤ 1e-5 + 1e-3·200 = 0.20001, and 1e-5 of
    # absolute slack alone could not cover it
    op = Op("big", lambda x: 200 * x, (lambda g, out, x: 200.1 * g,))
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    assert mg.gradcheck(lambda t: op(t), x)


def test_the_default_step_is_small_enough_for_a_curved_function():
    # x³ at x = 10: the central difference's error is eps², about 1e-12·1 with eps = 1e-6;
    # a step near 1 would be off by eps² = 1, far beyond rtol·300
    x = mg.tensor([10.0], requires_grad=True)
    assert mg.gradcheck(lambda t: t * t * t, x)


def test_fast_mode_is_off_by_default():
    x = mg.tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True)
    f = counting(lambda t: t.tanh())
    assert mg.gradcheck(f, x)
    # the full check: two analytical Jacobians + 2 evaluations per element + 1 to size
    assert f.calls == 2 + 2 * 4 + 1


def test_float32_inputs_are_checked_in_float64():
    # in float32, 1 + 1e-6 is off by ~6e-8 and the central difference by ~6%: the
    # check only passes because it works on float64 copies
    x = mg.tensor(np.array([1.0, 1.3, -0.7], dtype=np.float32), requires_grad=True)
    assert mg.gradcheck(lambda t: t * t, x)


# =========================================================================================
# fast mode: unit probe vectors, deterministic
# =========================================================================================


def _perturbations(x: mg.Tensor) -> list[np.ndarray]:
    """The inputs fast-mode gradcheck evaluates f at, besides the unperturbed one."""
    seen = []

    def f(t):
        seen.append(t.data.copy())
        return (t * t).sum()

    assert mg.gradcheck(f, x, eps=1e-3, fast_mode=True)
    return seen[1:]


def test_fast_mode_steps_eps_along_a_unit_vector_of_the_inputs_shape():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    plus, minus = _perturbations(x)
    assert plus.shape == minus.shape == (2, 3)
    np.testing.assert_allclose((plus + minus) / 2, x.data, atol=1e-12)  # x ± eps·u
    assert np.linalg.norm(plus - minus) == pytest.approx(2e-3, rel=1e-9)  # ‖2·eps·u‖


def test_fast_mode_is_reproducible():
    x = mg.tensor(np.arange(5.0), requires_grad=True)
    first, again = _perturbations(x), _perturbations(x)
    np.testing.assert_array_equal(first[0], again[0])


def test_fast_mode_falls_back_and_reports_the_worst_element():
    op = scaled(2.5)  # wrong by 0.5 everywhere; with x scaled the error is the same
    x = mg.tensor(np.zeros((2, 2)), requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: op(t).sum(), x, fast_mode=True)
    assert reported(str(info.value)) == pytest.approx((2.5, 2.0))


# =========================================================================================
# shapes: empty inputs and outputs, outputs that do not depend on an input, lists
# =========================================================================================


def test_an_output_that_does_not_depend_on_an_input_has_a_zero_jacobian():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0, 5.0], requires_grad=True)
    assert mg.gradcheck(lambda x, y: x * 2, x, y)
    assert mg.gradcheck(lambda x, y: x * 2, x, y, fast_mode=True)
    # and a function that returns a constant: nothing requires grad downstream
    assert mg.gradcheck(lambda x: mg.tensor([1.0, 2.0]), x)
    assert mg.gradcheck(lambda x: mg.tensor([1.0, 2.0]), x, fast_mode=True)


def test_a_wrong_gradient_with_respect_to_an_unused_input_is_caught():
    # g = 0 reaches y through an op whose rule wrongly returns 1: the analytical
    # Jacobian is 1 where the true one is 0
    leak = Op(
        "leak", lambda x, y: x * 1.0, (lambda g, out, x, y: g, lambda g, out, x, y: 1 + 0 * g)
    )
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="input 1") as info:
        mg.gradcheck(lambda x, y: leak(x, y), x, y)
    assert reported(str(info.value)) == pytest.approx((1.0, 0.0))


def test_empty_inputs_and_outputs():
    x = mg.tensor(np.zeros(0), requires_grad=True)
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(lambda x, y: x.sum() + y * 3, x, y)
    assert mg.gradcheck(lambda y: y[:0] * 2, y)
    assert mg.gradcheck(lambda y: y[:0] * 2, y, fast_mode=True)


def test_an_empty_input_does_not_end_the_check_of_the_inputs_after_it():
    e = mg.tensor(np.zeros(0), requires_grad=True)
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="with respect to input 1"):
        mg.gradcheck(lambda e, y: scaled(2.5)(y) + e.sum(), e, y)


def test_outputs_may_be_a_list_or_arrays():
    x = mg.tensor([0.5, -1.5], requires_grad=True)
    assert mg.gradcheck(lambda t: [t.exp(), t * t], x)
    assert mg.gradcheck(lambda t: (t.sum(), np.ones(3)), x)  # a constant output
    with pytest.raises(mg.GradcheckError, match="output 1"):
        mg.gradcheck(lambda t: [t.exp(), scaled(3.0)(t)], x)


def test_a_two_dimensional_output_is_checked_element_by_element():
    # ∂(x·A)ᵢⱼ/∂xⱼ = Aᵢⱼ for the broadcast product; the bad rule adds 1 at output element
    # (1, 2) (flat index 5), whose true derivative with respect to x₂ is A₁₂ = 5
    a = np.arange(6.0).reshape(2, 3)
    x = mg.tensor([1.0, -1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(lambda t: t * mg.tensor(a), x)
    assert mg.gradcheck(lambda t: t * mg.tensor(a), x, fast_mode=True)
    bump = (np.arange(6) == 5).reshape(2, 3)
    bad = Op("bad_element", lambda x: x * a, (lambda g, out, x: g * (a + bump),))
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: bad(t), x)
    assert "output element 5, input element (2,)" in str(info.value)
    assert reported(str(info.value)) == pytest.approx((6.0, 5.0))


# =========================================================================================
# non-finite values and reentrancy
# =========================================================================================


def test_a_nan_gradient_in_both_passes_is_reported_as_non_finite_not_as_non_reentrant():
    nan_rule = Op("nan_rule", lambda x: 2 * x, (lambda g, out, x: g * np.nan,))
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: nan_rule(t), x)
    msg = str(info.value)
    assert "not reentrant" not in msg
    assert "analytical derivative is nan" in msg
    assert msg.endswith(". autograd gave a non-finite gradient where finite differences did not.")


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_a_non_finite_value_is_located_and_attributed_to_its_side():
    # log at x₁ = 0.5e-6 with eps = 1e-6: log(−0.5e-6) is nan, a numerical failure at
    # input element 1 only (element 0 = 1 is fine)
    x = mg.tensor([1.0, 0.5e-6], requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: t.log(), x)
    msg = str(info.value)
    assert "output element 1, input element (1,)" in msg
    assert "numerical derivative is nan" in msg
    assert "(analytical 2000000.0, numerical nan)" in msg  # 1/x at x = 5e-7
    assert "move the input away from the pole" in msg
    # an inf analytical gradient at element 1 of a 2-D input
    inf_at = Op("inf_at", lambda x: 2 * x, (lambda g, out, x: np.where(x == 3.0, np.inf, 2 * g),))
    y = mg.tensor([[1.0, 3.0]], requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: inf_at(t), y)
    msg = str(info.value)
    assert "input element (0, 1)" in msg and "analytical derivative is inf" in msg


def test_a_backward_that_changes_from_call_to_call_is_not_reentrant():
    calls = [0]

    def drifting(g, out, x):
        calls[0] += 1
        return g * (2 + calls[0] * 1e-3)

    op = Op("drifting", lambda x: 2 * x, (drifting,))
    x = mg.tensor([1.0], requires_grad=True)
    y = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="not reentrant") as info:
        mg.gradcheck(lambda c, t: op(t) * c, y, x)
    assert "output 0 with respect to input 1" in str(info.value)


# =========================================================================================
# gradgradcheck
# =========================================================================================


def test_gradgradcheck_catches_a_small_second_derivative_error_with_default_tolerances():
    # vᵀ·∂(x²)/∂x = 2vx; its derivative in x should be 2v, the rule gives (2 + 0.01)·v:
    # an error of 0.01·|v| > 1e-5 + 1e-3·2|v| for |v| ≥ 0.0125
    op = square_with_bad_second_derivative(0.01)
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    assert mg.gradcheck(lambda t: op(t), x)  # first derivatives are right
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradgradcheck(lambda t: op(t), x, grad_outputs=[np.ones(2)])
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradgradcheck(lambda t: op(t), x)


def test_gradgradcheck_reports_v_times_the_second_derivative():
    # first derivative map: (x, v) ↦ 2vx; ∂/∂x = 2v = 4 for v = 2, the rule says 2.5v = 5
    op = square_with_bad_second_derivative(0.5)
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradgradcheck(lambda t: op(t), x, grad_outputs=[2.0])
    assert reported(str(info.value)) == pytest.approx((5.0, 4.0), rel=1e-6)


def test_gradgradcheck_checks_the_derivative_with_respect_to_the_vector_too():
    # (x, v) ↦ 2vx: ∂/∂v = 2x = 1 at x = 0.5; the rule's slope in g is 2x + 0.5 = 1.5.
    # The vector is argument 1 of the map (after the one input).
    op = square_with_bad_g_slope(0.5)
    x = mg.tensor([0.5], requires_grad=True)
    assert mg.gradcheck(lambda t: op(t), x)
    with pytest.raises(mg.GradcheckError, match="input 1") as info:
        mg.gradgradcheck(lambda t: op(t), x, grad_outputs=[np.array([1.0])])
    assert reported(str(info.value)) == pytest.approx((1.5, 1.0), rel=1e-6)


@pytest.mark.parametrize(
    "grad_outputs", [[[1.0, 2.0]], [np.array([1.0, 2.0])], [mg.tensor([1.0, 2.0])]]
)
def test_gradgradcheck_takes_lists_arrays_and_tensors_as_grad_outputs(grad_outputs):
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    assert mg.gradgradcheck(lambda t: t * t * t, x, grad_outputs=grad_outputs)


def test_gradgradcheck_draws_grad_outputs_of_the_outputs_shape():
    # The rule's slope in x is 2g + (g − mean g): right when every entry of the upstream
    # gradient is the same, wrong otherwise. Only a vector v with different entries (a
    # random one of the output's shape, not a broadcast scalar) exposes it.
    op = Op(
        "bad_unless_uniform",
        np.square,
        (lambda g, out, x: 2 * g * x + (g - g.mean()) * (x - value(x)),),
    )
    x = mg.tensor([0.5, -1.0, 1.5], requires_grad=True)
    assert mg.gradgradcheck(lambda t: op(t), x, grad_outputs=[np.full(3, 0.7)])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(lambda t: op(t), x)


def test_gradgradcheck_is_seeded_with_seed_0_by_default():
    op = square_with_bad_second_derivative(0.5)
    x = mg.tensor([0.5, -1.0], requires_grad=True)

    def report(**kwargs):
        with pytest.raises(mg.GradcheckError) as info:
            mg.gradgradcheck(lambda t: op(t), x, **kwargs)
        return str(info.value)

    assert report() == report() == report(seed=0)
    assert report(seed=1) != report(seed=0)


def test_gradgradcheck_uses_the_full_check_by_default():
    x = mg.tensor([0.5, -1.0, 1.5], requires_grad=True)
    f = counting(lambda t: t * t * t)
    assert mg.gradgradcheck(f, x)
    fast = counting(lambda t: t * t * t)
    assert mg.gradgradcheck(fast, x, fast_mode=True)
    # full: per element of x and of v, two evaluations (≥ 2·(3 + 3)); fast: a handful
    assert f.calls >= 12 > fast.calls


def test_gradgradcheck_needs_one_grad_output_per_output():
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        mg.gradgradcheck(lambda t: (t * 2, t * 3), x, grad_outputs=[np.ones(1)])


def test_gradgradcheck_passes_eps_atol_and_rtol_on():
    # x⁴: the map is 4v·x³, whose central difference is 4v·(3x² + eps²): with v = 1,
    # x = 1 and eps = 0.5 that is 13 against the exact 12, an error of 1
    x = mg.tensor([1.0], requires_grad=True)
    assert mg.gradgradcheck(lambda t: t * t * t * t, x, grad_outputs=[1.0])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(lambda t: t * t * t * t, x, grad_outputs=[1.0], eps=0.5)
    # a second-derivative error of 0.01 (against 2v = 2): within atol = 0.1 or
    # rtol·|2| = 0.2, though not within the defaults
    op = square_with_bad_second_derivative(0.01)
    assert mg.gradgradcheck(lambda t: op(t), x, grad_outputs=[1.0], atol=0.1)
    assert mg.gradgradcheck(lambda t: op(t), x, grad_outputs=[1.0], rtol=0.1)


def test_gradgradcheck_of_a_function_that_ignores_an_input():
    # ∂f/∂y = 0 identically, and so is its derivative
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    y = mg.tensor([2.0], requires_grad=True)
    assert mg.gradgradcheck(lambda x, y: x * x, x, y)
    assert mg.gradgradcheck(lambda x, y: x * x, x, y, fast_mode=True)


def test_a_function_without_outputs_has_nothing_to_check():
    x = mg.tensor([0.5], requires_grad=True)
    assert mg.gradcheck(lambda t: (), x)
    assert mg.gradgradcheck(lambda t: (), x)


@pytest.mark.parametrize("check", [mg.gradcheck, mg.gradgradcheck])
def test_nothing_to_check_says_so_and_how_to_fix_it(check):
    with pytest.raises(ValueError) as info:
        check(lambda t: t * 2, mg.tensor([1.0]), np.ones(2))
    msg = str(info.value)
    assert msg.startswith("gradcheck: no input has requires_grad=True, so there is nothing")
    assert msg.endswith("; pass e.g. mg.tensor(x, requires_grad=True)")


# =========================================================================================
# the public Jacobian helpers, probe vectors, dtypes, and outputs that change in number
# =========================================================================================


def test_numerical_jacobian_of_an_empty_input_has_zero_columns():
    # J[o][j] has shape (out_o.size, in_j.size): (2, 0) for the empty input, and for
    # f(e, y) = 3y the block for y is 3·I
    e = mg.tensor(np.zeros(0), requires_grad=True)
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    jac = numerical_jacobians(lambda e, y: y * 3 + e.sum(), [e, y], [0, 1], 1e-3)
    assert jac[0][0].shape == (2, 0)
    np.testing.assert_allclose(jac[0][1], 3 * np.eye(2), rtol=1e-9)


def test_analytical_jacobians_are_float64_even_when_a_rule_returns_float32():
    # f = 2x whose rule hands back a float32 gradient: the Jacobian is still 2·I, float64
    op = Op("f32_rule", lambda x: 2 * x, (lambda g, out, x: (2 * g).astype(np.float32),))
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    (block,) = analytical_jacobians(lambda t: op(t), [x], [0])[0]
    assert block.dtype == np.float64
    np.testing.assert_array_equal(block, 2 * np.eye(2))


def seed_recorder(seen: list) -> Op:
    """A float64 → float32 cast whose rule notes the dtype of the gradient it receives."""
    return Op(
        "to_f32",
        lambda x: x.astype(np.float32),
        (lambda g, out, x: seen.append(g.dtype) or g.astype(x.dtype),),
    )


def test_each_backward_pass_is_seeded_in_the_outputs_dtype_and_runs_on_arrays():
    # as in out.backward(): the seed of a float32 output is float32, and an ordinary
    # (not create_graph) backward hands the rules plain arrays, not Tensors — also the
    # probe's g, which the product's rule computes as (upstream g)·x. f = x², f' = 2x.
    seen = []
    cast = seed_recorder(seen)
    kinds = []
    probe = Op("probe", lambda x: 1.0 * x, (lambda g, out, x: kinds.append(type(g)) or g,))
    x = mg.tensor([0.5, -1.5], requires_grad=True)
    assert mg.gradcheck(lambda t: probe(cast(t)) * cast(t), x, eps=1e-2)  # float32 step
    assert seen and set(seen) == {np.dtype(np.float32)}
    assert kinds and set(kinds) == {np.ndarray}


def test_fast_mode_probes_with_unit_vectors_from_the_seed_0_generator():
    # for a one-element output: v = ±1 is drawn first from default_rng(0), then u
    # (normalised); the two evaluations are at x ± eps·u
    rng = np.random.default_rng(0)
    rng.standard_normal(1)
    u = rng.standard_normal(4)
    u /= np.linalg.norm(u)
    plus, minus = _perturbations(mg.tensor(np.zeros(4), requires_grad=True))
    np.testing.assert_allclose(plus, 1e-3 * u, rtol=1e-12)
    np.testing.assert_allclose(minus, -1e-3 * u, rtol=1e-12)


def changing_outputs(counts: list[int]):
    """f(t) returning (2t, 3t, ...) with counts[k] outputs on call k (the last count
    repeats): a function whose number of outputs changes from call to call."""
    calls = [0]

    def f(t):
        k = counts[min(calls[0], len(counts) - 1)]
        calls[0] += 1
        return tuple(t * (2.0 + i) for i in range(k))

    return f


def test_outputs_that_change_in_number_between_the_two_backward_passes_are_refused():
    # the two analytical Jacobians have 1 and 2 outputs: they cannot be compared
    # element by element, and the check must not pass on the first output alone
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(ValueError, match="zip"):
        mg.gradcheck(changing_outputs([1, 2, 1]), x)


def test_outputs_that_change_in_number_before_the_finite_differences_are_refused():
    # the analytical Jacobians have 2 outputs, the numerical one only 1
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(ValueError, match="zip"):
        mg.gradcheck(changing_outputs([2, 2, 1]), x)


def test_gradgradcheck_refuses_a_function_that_later_returns_more_outputs():
    # one grad_output for the first call's one output; the map (x, v) ↦ Σ vᵀ·∂out/∂x
    # must not silently drop the outputs the later calls return
    x = mg.tensor([0.5], requires_grad=True)
    with pytest.raises(ValueError, match="zip"):
        mg.gradgradcheck(changing_outputs([1, 2]), x, grad_outputs=[np.ones(1)])


def test_gradgradcheck_converts_grad_outputs_of_any_numbers_to_float64():
    # exact fractions are fine numbers for a vector v; x³ with v = (½, 3/2) is smooth
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    assert mg.gradgradcheck(lambda t: t * t * t, x, grad_outputs=[[Fraction(1, 2), Fraction(3, 2)]])
