"""Losses against the hand-derived formulas of the notes, and fused ops against primitives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import formulas
from minigrad import testing as mt

LOSS_NAMES = ["l1_loss", "mae", "l2_loss", "mse", "rmse", "huber"]


@st.composite
def linear_problems(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(2, 12))
    d = draw(st.integers(1, 3))
    X = draw(mt.arrays((n, d)))
    w = draw(mt.arrays((d,)))
    b = draw(st.floats(-2, 2))
    # residuals kept away from 0 and from ±1 (the kinks of |r| and of huber with δ = 1)
    r = draw(mt.arrays((n,), avoid=(-1.0, 0.0, 1.0), margin=0.05))
    y = X @ w + b - r
    return X, y, w, np.float64(b)


@pytest.mark.parametrize("name", LOSS_NAMES)
@settings(max_examples=25)
@given(problem=linear_problems())
def test_autograd_matches_hand_derived_gradients(name: str, problem: tuple) -> None:
    X, y, w0, b0 = problem
    w = mg.tensor(w0, requires_grad=True)
    b = mg.tensor(b0, requires_grad=True)
    loss = mg.losses.get(name)(mg.Tensor(X) @ w + b, mg.Tensor(y))
    loss.backward()
    expected_value = formulas.LOSS_VALUES[name](X, y, w0, b0)
    dw, db = formulas.GRADIENTS[name](X, y, w0, b0)
    np.testing.assert_allclose(loss.item(), expected_value, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.item(), db, rtol=1e-10, atol=1e-12)


def test_notes_worked_example() -> None:
    # X = [1, 2, 3], y = [2, 4, 5], w = 1, b = 0: r = ŷ − y = [−1, −2, −2],
    # MSE = (1 + 4 + 4)/3 = 3, ∂/∂w = (2/3)(−1·1 − 2·2 − 2·3) = −22/3, ∂/∂b = (2/3)(−5)
    w = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor(0.0, requires_grad=True)
    loss = mg.losses.mse(mg.Tensor([[1.0], [2.0], [3.0]]) @ w + b, mg.Tensor([2.0, 4.0, 5.0]))
    loss.backward()
    assert loss.item() == pytest.approx(3.0)
    assert w.grad.item() == pytest.approx(-22 / 3)
    assert b.grad.item() == pytest.approx(-10 / 3)


@settings(max_examples=25)
@given(pair=mt.array_pairs(st.integers(1, 4).map(lambda n: ((n, 2), (n, 2)))))
def test_fused_mse_equals_composition(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, t = pair
    fused_pred, plain_pred = (mg.tensor(a, requires_grad=True) for _ in range(2))
    fused = mg.losses.mse(fused_pred, t)
    r = plain_pred - t
    plain = (r * r).mean()
    fused.backward()
    plain.backward()
    np.testing.assert_allclose(fused.item(), plain.item(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(fused_pred.grad.data, plain_pred.grad.data, rtol=1e-12, atol=1e-300)


@settings(max_examples=25)
@given(
    n=st.integers(1, 5),
    d=st.integers(1, 4),
    k=st.integers(1, 3),
    data=st.data(),
)
def test_fused_linear_equals_composition(n: int, d: int, k: int, data: st.DataObject) -> None:
    x0 = data.draw(mt.arrays((n, d)))
    w0 = data.draw(mt.arrays((k, d)))
    b0 = data.draw(mt.arrays((k,)))
    grads = []
    for fused in (True, False):
        x, w, b = (mg.tensor(v, requires_grad=True) for v in (x0, w0, b0))
        out = mg.ops.linear(x, w, b) if fused else x @ w.T + b
        (out * out).sum().backward()
        grads.append((out.data, x.grad.data, w.grad.data, b.grad.data))
    for fused_value, plain_value in zip(*grads, strict=True):
        np.testing.assert_allclose(fused_value, plain_value, rtol=1e-12, atol=1e-14)


def test_rmse_perfect_fit_has_zero_gradient_and_no_warning() -> None:
    pred = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with np.errstate(all="raise"):
        loss = mg.losses.rmse(pred, [1.0, 2.0, 3.0])
        loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(pred.grad.data, [0.0, 0.0, 0.0])


def test_mae_is_pulled_less_by_an_outlier_than_mse() -> None:
    # best constant prediction c: mse → the mean, mae → the median
    y = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    for loss, expected in ((mg.losses.mse, y.mean()), (mg.losses.mae, np.median(y))):
        c = mg.tensor(0.0, requires_grad=True)
        for _ in range(4000):
            c.grad = None
            loss(c * np.ones(5), y).backward()
            with mg.no_grad():
                c -= 0.05 * c.grad
        assert c.item() == pytest.approx(expected, abs=0.06)


def test_mse_over_many_blocks_equals_the_plain_mean() -> None:
    # the forward sums the squared residuals a block at a time; across several blocks
    # (and a partial last one) it must still be the plain mean of (pred − target)²
    rng = np.random.default_rng(0)
    n = 3 * mg.losses.CHUNK + 5
    a, t = rng.standard_normal(n), rng.standard_normal(n)
    pred = mg.tensor(a, requires_grad=True)
    loss = mg.losses.mse(pred, t)
    loss.backward()
    np.testing.assert_allclose(loss.item(), np.mean((a - t) ** 2), rtol=1e-12)
    np.testing.assert_allclose(pred.grad.data, 2 * (a - t) / n, rtol=1e-12)
    f32 = mg.losses.mse(mg.tensor(a.astype(np.float32)), t.astype(np.float32))
    assert f32.dtype == np.float32
