"""Tests for minigrad.formulas, the hand-derived reference for linear regression.

Three independent anchors:
1. a tiny example worked out by hand (numbers in the comments, not computed by the module);
2. central finite differences of the module's value functions (which anchor 1 pins down);
3. PyTorch autograd, where PyTorch is installed.
"""

from __future__ import annotations

import doctest
import itertools
import math
import warnings
from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import formulas as fm

SETTINGS = settings(max_examples=30, deadline=None)
NAMES = ["l1_loss", "mae", "l2_loss", "mse", "rmse", "huber"]


# --------------------------------------------------------------------------- helpers


@st.composite
def problems(
    draw: st.DrawFn,
    kind: str = "smooth",
    delta: float = 1.0,
    min_n: int = 1,
    max_n: int = 8,
    max_d: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(X, y, w, b) whose residuals r = Xw + b − y are chosen first, so they can be kept
    away from kinks: |r| ≥ 0.05 for kind "kink" (L1, MAE) and "smooth" (RMSE needs r ≠ 0),
    | |r| − δ | > 0.05 for kind "huber"."""
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, max_d))
    X = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-3, 3)))
    w = draw(hnp.arrays(np.float64, d, elements=st.floats(-2, 2)))
    b = draw(st.floats(-2, 2))
    if kind == "huber":
        magnitude = st.floats(0, 3 * delta).filter(lambda a: abs(a - delta) > 0.05)
    else:
        magnitude = st.floats(0.05, 3)
    mags = draw(hnp.arrays(np.float64, n, elements=magnitude))
    positive = draw(hnp.arrays(np.bool_, n))
    r = np.where(positive, mags, -mags)
    y = X @ w + b - r
    return X, y, w, b


def numeric_gradients(
    f: Callable[..., float], X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, h: float = 1e-6
) -> tuple[np.ndarray, float]:
    """Central differences (f(θ + h·e) − f(θ − h·e)) / 2h for every w_j and for b."""
    dw = np.empty_like(w)
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        dw[j] = (f(X, y, w + e, b) - f(X, y, w - e, b)) / (2 * h)
    db = (f(X, y, w, b + h) - f(X, y, w, b - h)) / (2 * h)
    return dw, db


def mse_of_theta(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    return fm.mse_value(X, y, theta[:-1], theta[-1])


# --------------------------------------------------------------------------- hand-worked

# X = [[1], [2], [3]], y = [2, 4, 5], w = [1], b = 0
#   ŷ = [1, 2, 3], r = ŷ − y = [−1, −2, −2], Σr = −5, Xᵀr = −1 − 4 − 6 = −11
#   sign(r) = [−1, −1, −1], Xᵀsign(r) = −(1 + 2 + 3) = −6, Σsign(r) = −3
#   L1   = 1 + 2 + 2 = 5                 ∂w = −6            ∂b = −3
#   MAE  = 5/3                           ∂w = −6/3 = −2     ∂b = −3/3 = −1
#   L2   = 1 + 4 + 4 = 9                 ∂w = 2·(−11) = −22 ∂b = 2·(−5) = −10
#   MSE  = 9/3 = 3                       ∂w = −22/3         ∂b = −10/3
#   RMSE = √3                            ∂w = Xᵀr/(N·RMSE) = −11/(3√3)   ∂b = −5/(3√3)
#   Huber, δ = 1: h = [½·1², 1·(2 − ½), 1·(2 − ½)] = [0.5, 1.5, 1.5], mean 3.5/3 = 7/6
#                 ψ = clip(r, −1, 1) = [−1, −1, −1]: ∂w = −6/3 = −2, ∂b = −3/3 = −1
HAND_X = [[1.0], [2.0], [3.0]]
HAND_Y = [2.0, 4.0, 5.0]
HAND_W = [1.0]
HAND_B = 0.0
HAND = {
    "l1_loss": (5.0, -6.0, -3.0),
    "mae": (5 / 3, -2.0, -1.0),
    "l2_loss": (9.0, -22.0, -10.0),
    "mse": (3.0, -22 / 3, -10 / 3),
    "rmse": (math.sqrt(3), -11 / (3 * math.sqrt(3)), -5 / (3 * math.sqrt(3))),
    "huber": (7 / 6, -2.0, -1.0),
}


@pytest.mark.parametrize("name", NAMES)
def test_hand_worked_example(name: str) -> None:
    value, dw, db = HAND[name]
    assert fm.LOSS_VALUES[name](HAND_X, HAND_Y, HAND_W, HAND_B) == pytest.approx(value, rel=1e-14)
    gw, gb = fm.GRADIENTS[name](HAND_X, HAND_Y, HAND_W, HAND_B)
    assert gw.shape == (1,)
    assert isinstance(gb, float)
    assert gw[0] == pytest.approx(dw, rel=1e-14)
    assert gb == pytest.approx(db, rel=1e-14)


@pytest.mark.parametrize(
    ("delta", "value", "dw", "db"),
    [
        # δ = 0.5: every |r| > δ, h = 0.5·(|r| − 0.25) = [0.375, 0.875, 0.875], mean 2.125/3;
        #          ψ = [−0.5]·3: ∂w = −0.5·6/3 = −1, ∂b = −0.5·3/3 = −0.5
        (0.5, 2.125 / 3, -1.0, -0.5),
        # δ = 2: |r| ≤ δ everywhere (|r| = 2 = δ takes the quadratic branch), h = ½r²,
        #        mean = ½·9/3 = 1.5; ψ = r: ∂w = −11/3, ∂b = −5/3
        (2.0, 1.5, -11 / 3, -5 / 3),
        # δ = 10: purely quadratic, the same as δ = 2
        (10.0, 1.5, -11 / 3, -5 / 3),
    ],
)
def test_hand_worked_huber_deltas(delta: float, value: float, dw: float, db: float) -> None:
    assert fm.huber_value(HAND_X, HAND_Y, HAND_W, HAND_B, delta=delta) == pytest.approx(value)
    gw, gb = fm.huber_gradients(HAND_X, HAND_Y, HAND_W, HAND_B, delta=delta)
    assert gw[0] == pytest.approx(dw)
    assert gb == pytest.approx(db)


def test_hand_worked_predict_hessian_closed_form_step() -> None:
    np.testing.assert_array_equal(fm.predict(HAND_X, HAND_W, HAND_B), [1.0, 2.0, 3.0])
    # X̃ = [[1, 1], [2, 1], [3, 1]], X̃ᵀX̃ = [[1 + 4 + 9, 1 + 2 + 3], [6, 3]] = [[14, 6], [6, 3]]
    # H = (2/3)·X̃ᵀX̃ = [[28/3, 4], [4, 2]]
    np.testing.assert_allclose(fm.mse_hessian(HAND_X), [[28 / 3, 4.0], [4.0, 2.0]], rtol=1e-14)
    # eigenvalues of H: trace 34/3, det 56/3 − 16 = 8/3,
    # λ_max = (34/3 + √((34/3)² − 4·8/3)) / 2 = (34 + √1060) / 6, so 2/λ_max = 12/(34 + √1060)
    assert fm.max_stable_lr(HAND_X) == pytest.approx(12 / (34 + math.sqrt(1060)), rel=1e-13)
    # normal equations [[14, 6], [6, 3]]·(w, b) = (Σxy, Σy) = (2 + 8 + 15, 11) = (25, 11),
    # det = 42 − 36 = 6: w = (3·25 − 6·11)/6 = 9/6 = 1.5, b = (14·11 − 6·25)/6 = 4/6 = 2/3
    w, b = fm.closed_form(HAND_X, HAND_Y)
    np.testing.assert_allclose(w, [1.5], rtol=1e-12)
    assert b == pytest.approx(2 / 3, rel=1e-12)
    # one step with lr = 0.1: w = 1 − 0.1·(−22/3) = 26/15, b = 0 − 0.1·(−10/3) = 1/3
    w1, b1 = fm.gradient_descent_step(HAND_X, HAND_Y, HAND_W, HAND_B, lr=0.1)
    np.testing.assert_allclose(w1, [26 / 15], rtol=1e-14)
    assert b1 == pytest.approx(1 / 3, rel=1e-14)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(fm, raise_on_error=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_registries() -> None:
    assert list(fm.GRADIENTS) == NAMES
    assert list(fm.LOSS_VALUES) == NAMES
    for name in NAMES:
        assert callable(fm.GRADIENTS[name])
        assert callable(fm.LOSS_VALUES[name])


# --------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("name", ["l1_loss", "mae", "l2_loss", "mse", "rmse"])
@SETTINGS
@given(data=st.data())
def test_gradients_match_finite_differences(name: str, data: st.DataObject) -> None:
    kind = "kink" if name in ("l1_loss", "mae") else "smooth"
    X, y, w, b = data.draw(problems(kind=kind))
    gw, gb = fm.GRADIENTS[name](X, y, w, b)
    nw, nb = numeric_gradients(fm.LOSS_VALUES[name], X, y, w, b)
    np.testing.assert_allclose(gw, nw, rtol=1e-6, atol=1e-6)
    assert gb == pytest.approx(nb, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
@SETTINGS
@given(data=st.data())
def test_huber_gradients_match_finite_differences(delta: float, data: st.DataObject) -> None:
    X, y, w, b = data.draw(problems(kind="huber", delta=delta))

    def f(X, y, w, b):
        return fm.huber_value(X, y, w, b, delta=delta)

    gw, gb = fm.huber_gradients(X, y, w, b, delta=delta)
    nw, nb = numeric_gradients(f, X, y, w, b)
    np.testing.assert_allclose(gw, nw, rtol=1e-6, atol=1e-6)
    assert gb == pytest.approx(nb, rel=1e-6, abs=1e-6)


def test_kink_conventions() -> None:
    # r = [0, 1, −1]: sign(0) = 0, so the first example contributes nothing to ∂L1
    X = [[5.0], [1.0], [2.0]]
    y = [0.0, -1.0, 1.0]  # with w = [0], b = 0: r = −y
    gw, gb = fm.l1_gradients(X, y, [0.0], 0.0)
    np.testing.assert_array_equal(gw, [-1.0])  # 5·0 + 1·1 + 2·(−1) = −1
    assert gb == 0.0  # 0 + 1 − 1
    # Huber exactly at |r| = δ = 1, r = [1, −1]: h = ½ from either branch, ψ(±δ) = ±δ
    gw, gb = fm.huber_gradients([[1.0], [3.0]], [-1.0, 1.0], [0.0], 0.0, delta=1.0)
    np.testing.assert_array_equal(gw, [-1.0])  # (1/2)·(1·1 + 3·(−1))
    assert gb == 0.0
    assert fm.huber_value([[1.0], [3.0]], [-1.0, 1.0], [0.0], 0.0, delta=1.0) == 0.5


# --------------------------------------------------------------------------- sums and means


@SETTINGS
@given(problems(kind="kink"))
def test_sum_and_mean_differ_by_exactly_n(problem) -> None:
    X, y, w, b = problem
    n = X.shape[0]
    for total, mean in (("l1_loss", "mae"), ("l2_loss", "mse")):
        assert fm.LOSS_VALUES[total](X, y, w, b) == pytest.approx(
            n * fm.LOSS_VALUES[mean](X, y, w, b), rel=1e-12
        )
        tw, tb = fm.GRADIENTS[total](X, y, w, b)
        mw, mb = fm.GRADIENTS[mean](X, y, w, b)
        np.testing.assert_allclose(tw, n * mw, rtol=1e-12, atol=1e-12)
        assert tb == pytest.approx(n * mb, rel=1e-12, abs=1e-12)
    assert fm.rmse_value(X, y, w, b) == pytest.approx(math.sqrt(fm.mse_value(X, y, w, b)))


# --------------------------------------------------------------------------- RMSE edge cases


def test_rmse_perfect_fit_gives_zero_gradient_without_warnings() -> None:
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0]])
    w = np.array([2.0, -3.0])
    b = 1.5
    y = X @ w + b  # exact in floating point: small integers and halves
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        assert fm.rmse_value(X, y, w, b) == 0.0
        gw, gb = fm.rmse_gradients(X, y, w, b)
    np.testing.assert_array_equal(gw, [0.0, 0.0])
    assert gb == 0.0
    assert gw.shape == (2,)
    assert isinstance(gb, float)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_rmse_is_scale_safe(scale: float) -> None:
    # with w = 0, b = 0: r = −y exactly. RMSE(c·v) = c·RMSE(v) and the gradient
    # Xᵀr/(N·RMSE) does not depend on c, even where r² under- or overflows.
    X = np.array([[1.0], [2.0], [-1.0]])
    v = np.array([1.0, -2.0, 2.0])  # RMSE(v) = √(9/3) = √3
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        value = fm.rmse_value(X, -scale * v, [0.0], 0.0)
        gw, gb = fm.rmse_gradients(X, -scale * v, [0.0], 0.0)
    assert value == pytest.approx(scale * math.sqrt(3), rel=1e-14)
    # Xᵀv = 1 − 4 − 2 = −5, Σv = 1: ∂w = −5/(3√3), ∂b = 1/(3√3)
    assert gw[0] == pytest.approx(-5 / (3 * math.sqrt(3)), rel=1e-14)
    assert gb == pytest.approx(1 / (3 * math.sqrt(3)), rel=1e-14)


# --------------------------------------------------------------------------- Hessian


@SETTINGS
@given(problems(max_d=3))
def test_mse_hessian_matches_finite_differences(problem) -> None:
    X, y, w, b = problem
    theta = np.append(w, b)
    k = theta.size
    h = 1e-3  # MSE is quadratic, so the central second difference is exact up to rounding
    numeric = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h
            ej[j] = h
            numeric[i, j] = (
                mse_of_theta(X, y, theta + ei + ej)
                - mse_of_theta(X, y, theta + ei - ej)
                - mse_of_theta(X, y, theta - ei + ej)
                + mse_of_theta(X, y, theta - ei - ej)
            ) / (4 * h * h)
    H = fm.mse_hessian(X)
    assert H.shape == (k, k)
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(H, H.T)
    assert H[-1, -1] == 2.0
    assert np.linalg.eigvalsh(H)[0] >= -1e-12  # positive semi-definite: MSE is convex


# --------------------------------------------------------------------------- closed form


@SETTINGS
@given(
    hnp.arrays(np.float64, st.integers(2, 12), elements=st.floats(-5, 5)).filter(
        lambda x: np.std(x) > 0.5
    ),
    st.floats(-3, 3),
    st.floats(-3, 3),
    st.integers(0, 2**32 - 1),
)
def test_closed_form_matches_polyfit_for_one_feature(x, slope, intercept, seed) -> None:
    noise = np.random.default_rng(seed).normal(size=x.size)
    y = slope * x + intercept + noise
    w, b = fm.closed_form(x, y)  # x of shape (N,): one feature
    p_slope, p_intercept = np.polyfit(x, y, 1)
    assert w.shape == (1,)
    assert w[0] == pytest.approx(p_slope, rel=1e-8, abs=1e-8)
    assert b == pytest.approx(p_intercept, rel=1e-8, abs=1e-8)


@SETTINGS
@given(problems(min_n=1, max_n=10))
def test_closed_form_zeroes_the_mse_gradient(problem) -> None:
    X, y, _, _ = problem
    w, b = fm.closed_form(X, y)
    assert w.shape == (X.shape[1],)
    gw, gb = fm.mse_gradients(X, y, w, b)
    np.testing.assert_allclose(gw, 0.0, atol=1e-8)
    assert gb == pytest.approx(0.0, abs=1e-8)
    # and no other (w, b) does better: compare with a few random perturbations
    best = fm.mse_value(X, y, w, b)
    rng = np.random.default_rng(0)
    for _ in range(5):
        dw = rng.normal(size=w.shape)
        assert fm.mse_value(X, y, w + dw, b + rng.normal()) >= best - 1e-10


def test_closed_form_rank_deficient_returns_minimum_norm() -> None:
    # duplicated feature: only w1 + w2 is determined; the minimum-norm split is even.
    # y = 3x + 1 exactly, so w1 + w2 = 3 and b = 1, hence w = [1.5, 1.5].
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = 3 * x + 1
    w, b = fm.closed_form(np.column_stack([x, x]), y)
    np.testing.assert_allclose(w, [1.5, 1.5], atol=1e-12)
    assert b == pytest.approx(1.0, abs=1e-12)
    # a constant feature duplicates the bias column: w + b = mean(y) = 2, min-norm w = b = 1
    w, b = fm.closed_form(np.ones((3, 1)), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(w, [1.0], atol=1e-12)
    assert b == pytest.approx(1.0, abs=1e-12)
    # fewer examples than parameters: an exact fit, the pseudo-inverse solution
    X = np.array([[1.0, 2.0]])
    w, b = fm.closed_form(X, [3.0])
    theta = np.linalg.pinv(np.array([[1.0, 2.0, 1.0]])) @ [3.0]  # = (3/6)·(1, 2, 1)
    np.testing.assert_allclose(np.append(w, b), theta, atol=1e-12)
    np.testing.assert_allclose(theta, [0.5, 1.0, 0.5], atol=1e-12)
    assert fm.mse_value(X, [3.0], w, b) == pytest.approx(0.0, abs=1e-20)


# --------------------------------------------------------------------------- gradient descent


def _dataset(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, d = 20 + seed, 1 + seed % 3
    X = rng.normal(loc=0.5, size=(n, d))
    y = X @ rng.normal(size=d) + 2.0 + 0.3 * rng.normal(size=n)
    return X, y


DATASETS = [(np.array(HAND_X), np.array(HAND_Y)), _dataset(0), _dataset(1), _dataset(2)]


@pytest.mark.parametrize(("X", "y"), DATASETS)
def test_gradient_descent_below_max_stable_lr_converges(X, y) -> None:
    lr = 0.9 * fm.max_stable_lr(X)
    eig = np.linalg.eigvalsh(fm.mse_hessian(X))
    rate = np.max(np.abs(1 - lr * eig))  # the per-step contraction of the error
    assert rate < 1
    steps = math.ceil(math.log(1e-13) / math.log(rate)) + 10
    w, b = np.zeros(X.shape[1]), 0.0
    losses = [fm.mse_value(X, y, w, b)]
    for _ in range(steps):
        w, b = fm.gradient_descent_step(X, y, w, b, lr)
        losses.append(fm.mse_value(X, y, w, b))
    w_star, b_star = fm.closed_form(X, y)
    np.testing.assert_allclose(w, w_star, atol=1e-9)
    assert b == pytest.approx(b_star, abs=1e-9)
    # below the threshold every eigen-component shrinks, so the loss never goes up
    assert all(later <= earlier + 1e-12 for earlier, later in itertools.pairwise(losses))


@pytest.mark.parametrize(("X", "y"), DATASETS)
def test_gradient_descent_above_max_stable_lr_diverges(X, y) -> None:
    lr = 1.1 * fm.max_stable_lr(X)
    w_star, b_star = fm.closed_form(X, y)
    best = fm.mse_value(X, y, w_star, b_star)
    w, b = np.zeros(X.shape[1]), 0.0
    excess = [fm.mse_value(X, y, w, b) - best]
    for _ in range(300):
        w, b = fm.gradient_descent_step(X, y, w, b, lr)
        excess.append(fm.mse_value(X, y, w, b) - best)
    # the top eigen-component grows by |1 − 1.1·2| = 1.2 per step, the loss by 1.2² = 1.44:
    # 1.44³⁰⁰ ≈ 1e47
    assert np.isfinite(excess[-1])
    assert excess[-1] > 1e30 * excess[0]
    tail = excess[-100:]
    assert all(later > earlier for earlier, later in itertools.pairwise(tail))
    assert excess[-1] / excess[-2] == pytest.approx(1.44, rel=1e-6)


# --------------------------------------------------------------------------- shapes


@SETTINGS
@given(problems(kind="kink"))
def test_column_shapes_are_equivalent(problem) -> None:
    X, y, w, b = problem
    d = X.shape[1]
    variants = [(X, y, w, b), (X, y[:, None], w[:, None], np.array([b])), (X, y, w, np.array(b))]
    if d == 1:
        variants.append((X[:, 0], y, w, b))
        variants.append((X[:, 0], y[:, None], float(w[0]), b))
    for name in NAMES:
        ref_value = fm.LOSS_VALUES[name](X, y, w, b)
        ref_w, ref_b = fm.GRADIENTS[name](X, y, w, b)
        for Xv, yv, wv, bv in variants:
            assert fm.LOSS_VALUES[name](Xv, yv, wv, bv) == ref_value
            gw, gb = fm.GRADIENTS[name](Xv, yv, wv, bv)
            assert gw.shape == (d,)
            assert isinstance(gb, float)
            np.testing.assert_array_equal(gw, ref_w)
            assert gb == ref_b
    for Xv, yv, wv, bv in variants:
        np.testing.assert_array_equal(fm.predict(Xv, wv, bv), fm.predict(X, w, b))
        w1, b1 = fm.gradient_descent_step(Xv, yv, wv, bv, 0.01)
        assert w1.shape == (d,)
        np.testing.assert_array_equal(w1, fm.gradient_descent_step(X, y, w, b, 0.01)[0])
        assert b1 == fm.gradient_descent_step(X, y, w, b, 0.01)[1]
        cw, cb = fm.closed_form(Xv, yv)
        ref_cw, ref_cb = fm.closed_form(X, y)
        np.testing.assert_allclose(cw, ref_cw, rtol=1e-12, atol=1e-12)
        assert cb == pytest.approx(ref_cb, rel=1e-12, abs=1e-12)
        np.testing.assert_array_equal(fm.mse_hessian(Xv), fm.mse_hessian(X))
        assert fm.max_stable_lr(Xv) == fm.max_stable_lr(X)


def test_integer_and_float32_inputs_compute_in_float64() -> None:
    gw, _ = fm.mse_gradients(np.array([[1], [2], [3]]), np.array([2, 4, 5]), np.array([1]), 0)
    assert gw.dtype == np.float64
    assert gw[0] == pytest.approx(-22 / 3, rel=1e-14)
    gw32, _ = fm.mse_gradients(
        np.array(HAND_X, np.float32), np.array(HAND_Y, np.float32), np.array([1], np.float32), 0
    )
    assert gw32.dtype == np.float64


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fm.predict(np.zeros((2, 2, 2)), [0.0, 0.0], 0.0), r"X must have shape"),
        (lambda: fm.predict(np.zeros((0, 2)), [0.0, 0.0], 0.0), r"at least one row"),
        (lambda: fm.predict(np.zeros((3, 2)), [0.0, 0.0, 0.0], 0.0), r"w must have shape \(2,\)"),
        (lambda: fm.predict(np.zeros((3, 2)), np.zeros((2, 2)), 0.0), r"got \(2, 2\)"),
        (lambda: fm.predict(np.zeros((3, 2)), [0.0, 0.0], [1.0, 2.0]), r"b must be a scalar"),
        (lambda: fm.mse_value(np.zeros((3, 1)), [1.0, 2.0], [0.0], 0.0), r"y must have shape"),
        (lambda: fm.mse_gradients(np.zeros((3, 1)), np.zeros((1, 3)), [0.0], 0.0), r"\(1, 3\)"),
        (lambda: fm.closed_form(np.zeros((3, 1)), np.zeros(4)), r"y must have shape \(3,\)"),
        (lambda: fm.huber_value([[1.0]], [1.0], [0.0], 0.0, delta=0.0), r"delta must be"),
        (lambda: fm.huber_gradients([[1.0]], [1.0], [0.0], 0.0, delta=-1.0), r"delta must be"),
        (
            lambda: fm.gradient_descent_step([[1.0]], [1.0], [0.0], 0.0, lr=float("nan")),
            r"lr must be finite",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_agrees_with_pytorch(name: str, data: st.DataObject) -> None:
    torch = pytest.importorskip("torch")
    kind = {"l1_loss": "kink", "mae": "kink", "huber": "huber"}.get(name, "smooth")
    X, y, w, b = data.draw(problems(kind=kind, delta=1.0))
    tX, ty = torch.tensor(X), torch.tensor(y)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    pred = tX @ tw + tb
    F = torch.nn.functional
    loss = {
        "l1_loss": lambda: (pred - ty).abs().sum(),
        "mae": lambda: F.l1_loss(pred, ty),
        "l2_loss": lambda: ((pred - ty) ** 2).sum(),
        "mse": lambda: F.mse_loss(pred, ty),
        "rmse": lambda: F.mse_loss(pred, ty).sqrt(),
        "huber": lambda: torch.nn.HuberLoss(reduction="mean", delta=1.0)(pred, ty),
    }[name]()
    loss.backward()
    assert fm.LOSS_VALUES[name](X, y, w, b) == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
    gw, gb = fm.GRADIENTS[name](X, y, w, b)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert gb == pytest.approx(tb.grad.item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize(("X", "y"), DATASETS)
def test_max_stable_lr_per_example_is_the_smallest_one_example_bound(X, y) -> None:
    # each example on its own is a full batch of one: its bound is max_stable_lr of that row
    one_row_bounds = [fm.max_stable_lr(X[i : i + 1]) for i in range(len(X))]
    assert fm.max_stable_lr_per_example(X) == pytest.approx(min(one_row_bounds), rel=1e-12)
    assert fm.max_stable_lr_per_example(X) <= fm.max_stable_lr(X) * (1 + 1e-12)
    # a single-example step just above its bound grows that example's residual
    i = int(np.argmin(one_row_bounds))
    lr = 1.1 * fm.max_stable_lr_per_example(X)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(50):
        w, b = fm.gradient_descent_step(X[i : i + 1], y[i : i + 1], w, b, lr)
    r = fm.predict(X[i : i + 1], w, b)[0] - y[i]
    assert abs(r) > 100 * abs(y[i])  # |1 − 2·lr·‖x̃‖²| = 1.2 per step: 1.2⁵⁰ ≈ 9000
