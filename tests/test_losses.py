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
    n = 3 * mg.ops.SUMSQ_BLOCK + 5
    a, t = rng.standard_normal(n), rng.standard_normal(n)
    pred = mg.tensor(a, requires_grad=True)
    with mg.no_grad():  # the blockwise forward serves unrecorded calls
        unrecorded = mg.losses.mse(pred, t)
    loss = mg.losses.mse(pred, t)
    loss.backward()
    np.testing.assert_allclose(unrecorded.item(), np.mean((a - t) ** 2), rtol=1e-12)
    np.testing.assert_allclose(loss.item(), np.mean((a - t) ** 2), rtol=1e-12)
    np.testing.assert_allclose(pred.grad.data, 2 * (a - t) / n, rtol=1e-12)
    f32 = mg.losses.mse(mg.tensor(a.astype(np.float32)), t.astype(np.float32))
    assert f32.dtype == np.float32


# --- the gradient mse saves in its forward, and the buffer it reuses ---------------------


def _pred_and_target(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n), rng.standard_normal(n)


def test_second_backward_recomputes_what_the_first_used() -> None:
    # each backward forms 2r/N afresh (the first one's buffer may be reused by the second)
    a, t = _pred_and_target()
    pred = mg.tensor(a, requires_grad=True)
    loss = mg.losses.mse(pred, t)
    loss.backward()
    first = pred.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(first, 2 * (a - t) / a.size, rtol=1e-14)
    np.testing.assert_allclose(pred.grad.data, 2 * first, rtol=1e-14)


def test_a_reused_buffer_does_not_change_earlier_gradients_or_graphs() -> None:
    a, t = _pred_and_target()
    b, u = _pred_and_target(seed=1)
    p1 = mg.tensor(a, requires_grad=True)
    loss1 = mg.losses.mse(p1, t)
    explanation = mg.graph.explain(loss1)
    loss1.backward()  # nobody holds its 2r/N buffer afterwards...
    grad1 = p1.grad.data.copy()
    p2 = mg.tensor(b, requires_grad=True)
    mg.losses.mse(p2, u).backward()  # ...so this backward writes into it
    np.testing.assert_array_equal(p1.grad.data, grad1)
    np.testing.assert_allclose(p2.grad.data, 2 * (b - u) / b.size, rtol=1e-14)
    recorded = explanation.steps[0].inputs[0].contribution  # ∂L/∂pred, as mse gave it
    np.testing.assert_allclose(recorded, 2 * (a - t) / a.size, rtol=1e-14)
    p1.grad = None
    loss1.backward()  # the old graph still differentiates correctly
    np.testing.assert_allclose(p1.grad.data, grad1, rtol=1e-14)


@pytest.mark.parametrize("scale", [1.0, 3.0, -0.5])
def test_mse_gradient_scales_with_the_upstream_gradient_and_serves_the_target(
    scale: float,
) -> None:
    a, t = _pred_and_target()
    pred = mg.tensor(a, requires_grad=True)
    target = mg.tensor(t, requires_grad=True)
    (scale * mg.losses.mse(pred, target)).backward()
    np.testing.assert_allclose(pred.grad.data, scale * 2 * (a - t) / a.size, rtol=1e-14)
    np.testing.assert_allclose(target.grad.data, -scale * 2 * (a - t) / a.size, rtol=1e-14)


def test_two_mse_nodes_of_one_shape_in_one_graph() -> None:
    # one backward forms both gradients: the second must not reuse the first's buffer
    a, t = _pred_and_target()
    b, _ = _pred_and_target(seed=2)
    for _ in range(3):  # later rounds start with a free buffer
        x = mg.tensor(a, requires_grad=True)
        z = mg.tensor(b, requires_grad=True)
        (mg.losses.mse(x, t) + mg.losses.mse(z, t)).backward()
        np.testing.assert_allclose(x.grad.data, 2 * (a - t) / a.size, rtol=1e-14)
        np.testing.assert_allclose(z.grad.data, 2 * (b - t) / b.size, rtol=1e-14)


def test_functional_gradient_of_mse_is_the_callers_to_keep() -> None:
    # the functional API returns mse's own array; a later backward must not reuse it
    a, t = _pred_and_target()
    g = mg.grad(lambda p: mg.losses.mse(p, t))(a)
    kept = g.data.copy()
    mg.losses.mse(mg.tensor(a + 1, requires_grad=True), t).backward()
    np.testing.assert_array_equal(g.data, kept)


def test_a_full_batch_update_allocates_one_fresh_batch_sized_array() -> None:
    # the prediction; 2r/N reuses the buffer of the previous update (see _Scratch)
    tracemalloc = pytest.importorskip("tracemalloc")
    n, d = 50_000, 3
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    model = mg.nn.LinearRegression(d)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)

    def update() -> None:
        opt.zero_grad()
        mg.losses.mse(model(X), y).backward()
        opt.step()

    update()
    tracemalloc.start()
    try:
        update()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    array_bytes = n * 8
    assert array_bytes <= peak < 1.5 * array_bytes


def test_the_scratch_buffer_is_per_thread() -> None:
    import threading

    a, t = _pred_and_target()
    mg.losses.mse(mg.tensor(a, requires_grad=True), t).backward()
    mine = mg.losses._scratch.array
    seen = []
    thread = threading.Thread(target=lambda: seen.append(mg.losses._scratch.array))
    thread.start()
    thread.join()
    assert mine is not None and seen == [None]


def test_the_scratch_buffer_is_reused_only_when_nobody_holds_it() -> None:
    import weakref

    a, t = _pred_and_target()
    p = mg.tensor(a, requires_grad=True)
    (g,) = mg.autograd.grad(mg.losses.mse(p, t), [p])  # ∂L/∂p is mse's own array
    view = g.data[1:]  # the caller keeps a view of it
    del g
    (h,) = mg.autograd.grad(mg.losses.mse(p, 2 * t), [p])
    assert not np.shares_memory(h.data, view)  # a fresh buffer: the view still reads g
    np.testing.assert_allclose(view, (2 * (a - t) / a.size)[1:], rtol=1e-14)
    del view, h
    last = weakref.ref(mg.losses._scratch.array)  # a weak reference does not hold it
    mg.losses.mse(p * 3, t).backward()  # nobody holds the last one: reused
    assert mg.losses._scratch.array is last()


@settings(max_examples=30, deadline=None)
@given(
    actions=st.lists(
        st.one_of(
            st.tuples(st.just("forward"), st.sampled_from([3, 5])),  # a new graph of size n
            st.tuples(st.just("backward"), st.integers(0, 7)),  # backward on graph k (mod)
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_interleaving_of_forwards_and_backwards_gives_exact_gradients(actions) -> None:
    # graphs share one scratch buffer per thread: whatever the order of forwards and
    # (repeated) backwards, every backward must add exactly 2(a − t)/N to a's gradient
    rng = np.random.default_rng(len(actions))
    graphs = []
    for kind, arg in actions:
        if kind == "forward":
            a, t = rng.standard_normal(arg), rng.standard_normal(arg)
            leaf = mg.tensor(a, requires_grad=True)
            graphs.append((leaf, mg.losses.mse(leaf, t), 2 * (a - t) / arg, [0]))
        elif graphs:
            leaf, loss, expected, count = graphs[arg % len(graphs)]
            loss.backward()
            count[0] += 1
            np.testing.assert_allclose(leaf.grad.data, count[0] * expected, rtol=1e-13)
