"""Losses against the hand-derived formulas of the notes and values worked out by hand,
against PyTorch, and fused ops against primitives: the fused mse's saved gradient and
scratch buffer, its dtypes and blocks, and the shape check's messages.

Classification losses (bce, cross_entropy) are in test_classification.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import formulas
from minigrad import testing as mt
from tests.helpers import value

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


# --- six losses by hand, as array-likes, sum against mean, against PyTorch ---------------


# pred = [1, 4, 2], target = [2, 2, 2] → r = pred − target = [−1, 2, 0], N = 3
PRED, TARGET = np.array([1.0, 4.0, 2.0]), np.array([2.0, 2.0, 2.0])
R = PRED - TARGET
HAND = {
    # name: (value, ∂/∂pred)
    "l1_loss": (3.0, [-1.0, 1.0, 0.0]),  # |−1| + |2| + 0; sign(r)
    "mae": (1.0, [-1 / 3, 1 / 3, 0.0]),  # 3/3; sign(r)/N
    "l2_loss": (5.0, [-2.0, 4.0, 0.0]),  # 1 + 4 + 0; 2r
    "mse": (5 / 3, [-2 / 3, 4 / 3, 0.0]),  # 5/3; 2r/N
    "rmse": (np.sqrt(5 / 3), list(R / (3 * np.sqrt(5 / 3)))),  # √(5/3); r/(N·rmse)
    # |r| ≤ 1: ½r² = 0.5 and 0; |r| = 2 > 1: 1·(2 − ½) = 1.5 → (0.5 + 1.5 + 0)/3 = 2/3;
    # derivative clip(r, −1, 1)/N
    "huber": (2 / 3, [-1 / 3, 1 / 3, 0.0]),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_loss_values_and_gradients_by_hand(name):
    expected, grad = HAND[name]
    p = mg.tensor(PRED, requires_grad=True)
    t = mg.tensor(TARGET, requires_grad=True)
    loss = mg.losses.get(name)(p, t)
    assert isinstance(loss, mg.Tensor) and loss.shape == ()
    assert value(loss) == pytest.approx(expected, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(value(p.grad), grad, rtol=1e-12, atol=1e-15)
    # every loss depends on r = pred − target only, so ∂/∂target = −∂/∂pred
    np.testing.assert_allclose(value(t.grad), -np.array(grad), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(HAND))
@pytest.mark.parametrize("kind", ["list", "ndarray"])
def test_losses_accept_array_likes_and_return_a_scalar_tensor(name, kind):
    convert = list if kind == "list" else np.asarray
    loss = mg.losses.get(name)(convert(PRED), convert(TARGET))
    assert isinstance(loss, mg.Tensor) and loss.shape == ()
    assert not loss.requires_grad
    assert value(loss) == pytest.approx(HAND[name][0], rel=1e-12)


@pytest.mark.parametrize(("summed", "mean"), [("l1_loss", "mae"), ("l2_loss", "mse")])
def test_sum_and_mean_losses_differ_by_n(summed, mean):
    rng = np.random.default_rng(7)
    n = 11
    pv, tv = rng.standard_normal(n), rng.standard_normal(n)
    ps, pm = mg.tensor(pv, requires_grad=True), mg.tensor(pv, requires_grad=True)
    ls, lm = mg.losses.get(summed)(ps, tv), mg.losses.get(mean)(pm, tv)
    ls.backward()
    lm.backward()
    assert value(ls) == pytest.approx(n * value(lm), rel=1e-12)
    np.testing.assert_allclose(value(ps.grad), n * value(pm.grad), rtol=1e-12)


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    rng = np.random.default_rng(8)
    pv, tv = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))
    reference = {
        "l1_loss": lambda p, t: fn.l1_loss(p, t, reduction="sum"),
        "mae": lambda p, t: fn.l1_loss(p, t),
        "l2_loss": lambda p, t: fn.mse_loss(p, t, reduction="sum"),
        "mse": lambda p, t: fn.mse_loss(p, t),
        "rmse": lambda p, t: fn.mse_loss(p, t).sqrt(),
        "huber": lambda p, t: fn.huber_loss(p, t, delta=1.0),
    }
    for name, ref in reference.items():
        p = mg.tensor(pv, requires_grad=True)
        tp = torch.tensor(pv, requires_grad=True)
        loss, tloss = mg.losses.get(name)(p, tv), ref(tp, torch.tensor(tv))
        loss.backward()
        tloss.backward()
        assert value(loss) == pytest.approx(tloss.item(), rel=1e-12), name
        np.testing.assert_allclose(value(p.grad), tp.grad.numpy(), rtol=1e-10, err_msg=name)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_huber_with_an_infinite_delta_is_half_the_squared_error_even_at_infinity():
    # |r| ≤ δ = ∞ for every r, so every term is quadratic: ½r² (∞ for r = ∞, while the
    # linear branch δ(|r| − ½δ) would be ∞·(∞ − ∞) = nan)
    r = np.array([np.inf, 2.0])
    loss = mg.losses.huber(mg.tensor(r), mg.tensor([0.0, 0.0]), delta=np.inf)
    assert loss.item() == np.mean(0.5 * r**2) == np.inf
    assert mg.losses.huber(mg.tensor([3.0]), mg.tensor([1.0]), delta=np.inf).item() == 2.0


# --- shape errors name the loss; the reshape hint ----------------------------------------


@pytest.mark.parametrize("name", ["l1_loss", "mae", "l2_loss", "mse", "rmse", "huber"])
def test_a_shape_error_starts_with_the_loss_name(name):
    with pytest.raises(mg.ShapeError) as info:
        getattr(mg.losses, name)(np.zeros(2), np.zeros(3))
    assert str(info.value).startswith(f"{name}: predictions have shape (2,) but targets have")


def test_the_reshape_hint_is_given_only_when_the_sizes_agree():
    with pytest.raises(mg.ShapeError, match=r"reshape one of them, e\.g\. pred\.reshape\(\(3,\)\)"):
        mg.losses.mae(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(mg.ShapeError) as info:
        mg.losses.mae(np.zeros((2, 1)), np.zeros(3))
    assert "reshape" not in str(info.value)
    assert str(info.value).endswith("they must match")


# --- the fused mse: upstream scaling, targets, dtypes, blocks, no batch-sized allocation -


MSE_PRED = np.array([1.0, 4.0, 0.5])
MSE_TARGET = np.array([2.0, 2.0, 2.0])
MSE_R = MSE_PRED - MSE_TARGET  # the residuals: −1, 2, −1.5


@pytest.mark.parametrize("scale", [2.0, 0.5, -3.0])
def test_mse_gradient_is_scaled_by_the_upstream_gradient(scale):
    pred = mg.tensor(MSE_PRED, requires_grad=True)
    (mg.losses.mse(pred, MSE_TARGET) * scale).backward()
    np.testing.assert_allclose(pred.grad.numpy(), scale * 2 * MSE_R / 3)


def test_a_second_backward_recomputes_the_scaled_mse_gradient():
    # each backward forms (pred − target)·2g/N again, scaled by the upstream g = 2
    pred = mg.tensor(MSE_PRED, requires_grad=True)
    loss = mg.losses.mse(pred, MSE_TARGET) * 2.0
    loss.backward()
    loss.backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * (2.0 * 2 * MSE_R / 3))


def test_mse_gradient_reaches_a_target_that_requires_grad():
    pred = mg.tensor(MSE_PRED, requires_grad=True)
    target = mg.tensor(MSE_TARGET, requires_grad=True)
    mg.losses.mse(pred, target).backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * MSE_R / 3)
    np.testing.assert_allclose(target.grad.numpy(), -2 * MSE_R / 3)


def test_mse_of_a_scalar_against_a_number():
    loss = mg.losses.mse(mg.tensor(3.0, requires_grad=True), 1.0)
    assert loss.item() == 4.0  # (3 − 1)²
    with mg.no_grad():
        assert mg.losses.mse(mg.tensor(3.0), 1.0).item() == 4.0


def test_mse_after_mse_of_another_shape_or_dtype():
    # the buffer a backward hands back is reused only for the same shape and dtype
    for pred, target in [
        (MSE_PRED, MSE_TARGET),
        (np.arange(4.0), np.ones(4)),
        (MSE_PRED.astype(np.float32), MSE_TARGET.astype(np.float32)),
        (MSE_PRED, MSE_TARGET),
    ]:
        p = mg.tensor(pred, requires_grad=True)
        loss = mg.losses.mse(p, target)
        assert loss.dtype == pred.dtype
        loss.backward()
        r = pred - target
        np.testing.assert_allclose(loss.item(), np.mean(r * r), rtol=1e-6)
        np.testing.assert_allclose(p.grad.numpy(), 2 * r / r.size, rtol=1e-6)


@pytest.mark.parametrize("recorded", [True, False])
@pytest.mark.parametrize("n", [6, 3 * mg.ops.SUMSQ_BLOCK + 1])
@pytest.mark.parametrize(("pred_dtype", "target_dtype"), [("f4", "f8"), ("f8", "f4"), ("f4", "f4")])
def test_mse_has_the_dtype_and_value_of_the_plain_formula(recorded, n, pred_dtype, target_dtype):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(pred_dtype)
    t = rng.standard_normal(n).astype(target_dtype)
    r = a - t  # NumPy's promotion: what (pred − target)² would have
    pred = mg.tensor(a, requires_grad=recorded)
    loss = mg.losses.mse(pred, t)
    assert loss.dtype == r.dtype
    np.testing.assert_allclose(loss.item(), np.mean(r.astype(np.float64) ** 2), rtol=1e-5)


def test_unrecorded_mse_of_matrices():
    a, t = MSE_PRED.reshape(3, 1) * np.ones((3, 2)), np.ones((3, 2))
    with mg.no_grad():
        loss = mg.losses.mse(mg.tensor(a), t)
    assert loss.item() == pytest.approx(np.mean((a - t) ** 2))


def test_unrecorded_mse_of_integers_at_the_block_size_is_their_float_mean():
    # N = CHUNK integers, one residual of 1: mse = 1/N, a float (as np.mean gives), not
    # an integer 0
    n = mg.ops.SUMSQ_BLOCK
    pred, target = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    target[0] = 1
    loss = mg.losses.mse(pred, target)
    expected = np.mean((pred - target) ** 2)
    assert loss.dtype == expected.dtype == np.float64
    assert loss.item() == expected == 1 / n


def test_unrecorded_mse_allocates_nothing_of_the_batch_size():
    tracemalloc = pytest.importorskip("tracemalloc")
    n = 10 * mg.ops.SUMSQ_BLOCK
    rng = np.random.default_rng(0)
    pred = mg.tensor(rng.standard_normal(n), requires_grad=True)
    target = rng.standard_normal(n)
    tracemalloc.start()
    try:
        with mg.no_grad():
            loss = mg.losses.mse(pred, target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * 8 / 4  # a block at a time, never an N-sized residual
    np.testing.assert_allclose(loss.item(), np.mean((pred.numpy() - target) ** 2), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_fused_mse_backward_with_a_wider_upstream_equals_the_unfused_mean(dtype):
    """A float64 grad_output on a float16/float32 mse of σ(x): the fused rule's gradient
    stays in the wider dtype, as the unfused (r·r).mean()'s does (not rounded into the
    narrow residual buffer before σ's rule), which is also what mg.jit's lowering does."""
    x = np.linspace(-2.0, 2.0, 7).astype(dtype)
    target = np.linspace(1.0, -0.5, 7).astype(dtype)
    v = np.array(-0.7)
    grads = []
    for fused in (True, False):
        t = mg.tensor(x, requires_grad=True)
        p = t.sigmoid()
        loss = mg.losses.mse(p, target) if fused else ((p - target) * (p - target)).mean()
        grads.append(mg.autograd.grad(loss, [t], grad_output=v)[0])
    assert grads[0].dtype == grads[1].dtype == dtype
    np.testing.assert_array_equal(grads[0].numpy(), grads[1].numpy())


def test_mse_backward_finds_its_forwards_residual_only_when_it_is_still_there():
    """The recorded forward leaves r in the scratch buffer for its backward; another mse
    in between (other data, the same data, a no_grad evaluation) must not make any
    backward use the wrong r: each gradient equals 2(pred − target)/N."""
    rng = np.random.default_rng(3)
    a, b, t, u = (rng.standard_normal(1000) for _ in range(4))
    pa, pb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    first = mg.losses.mse(pa, t)
    second = mg.losses.mse(pb, u)  # overwrites the buffer: first's backward recomputes
    with mg.no_grad():
        mg.losses.mse(pb, t)
    again = mg.losses.mse(pa, t)  # the same arrays as first: the same r
    for loss, p, target, x in ((first, pa, t, a), (second, pb, u, b), (again, pa, t, a)):
        p.grad = None
        loss.backward()
        np.testing.assert_allclose(p.grad.numpy(), 2 * (x - target) / x.size, rtol=1e-13)
    # the update path: forward, backward, step, several times, each gradient right
    w = mg.tensor(np.zeros(3), requires_grad=True)
    X = rng.standard_normal((1000, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    for _ in range(3):
        w.grad = None
        mg.losses.mse(X @ w, y).backward()
        expected = 2 * X.T @ (X @ w.numpy() - y) / y.size
        np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)
        with mg.no_grad():
            w -= 0.1 * w.grad


def test_mse_backward_of_a_target_that_requires_grad_too():
    """Both rules read r: the first takes the forward's buffer, the second computes its own."""
    rng = np.random.default_rng(4)
    a, t = rng.standard_normal(500), rng.standard_normal(500)
    p, q = mg.tensor(a, requires_grad=True), mg.tensor(t, requires_grad=True)
    mg.losses.mse(p, q).backward()
    np.testing.assert_allclose(p.grad.numpy(), 2 * (a - t) / a.size, rtol=1e-13)
    np.testing.assert_allclose(q.grad.numpy(), -2 * (a - t) / a.size, rtol=1e-13)


def test_an_older_mse_backward_in_between_does_not_leave_its_residual_for_a_newer_one():
    """second is recorded before first; second's backward recomputes its r in the buffer
    first's forward left its r in: first's backward must not take that for its own."""
    rng = np.random.default_rng(5)
    a, b, t, u = (rng.standard_normal(800) for _ in range(4))
    pa, pb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    second = mg.losses.mse(pb, u)
    first = mg.losses.mse(pa, t)
    second.backward()
    first.backward()
    np.testing.assert_allclose(pb.grad.numpy(), 2 * (b - u) / b.size, rtol=1e-13)
    np.testing.assert_allclose(pa.grad.numpy(), 2 * (a - t) / a.size, rtol=1e-13)


# --- the target checks each loss declares (LossSpec.targets, .accuracy_targets) ----------
# What fit runs before the first update, called directly: spec(loss).targets(name, y, out)
# with out one example's output shape, and spec(loss).accuracy_targets(targets). Each
# message (README.md quotes two of them) is compared whole, so the loss name, the row,
# the value, the shapes and the hint are all checked.


def _refusal(error: type[Exception], loss: str, y, out: tuple[int, ...]) -> str:
    """The message of the exception (exactly of type ``error``) loss's check raises."""
    with pytest.raises(error) as info:
        mg.losses.spec(loss).targets(loss, np.asarray(y), out)
    assert type(info.value) is error  # a ShapeError is a ValueError: tell them apart
    return str(info.value)


def test_regression_targets_are_any_same_size_values_as_float64():
    y = np.array([[1, 2], [3, 4], [5, 6]])  # integers: read as floats
    targets, class_indices = mg.losses.spec("mse").targets("mse", y, (2,))
    assert targets.dtype == np.float64 and class_indices is False
    np.testing.assert_array_equal(targets, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    # only the number of values per example must agree, not the layout
    targets, _ = mg.losses.spec(mg.losses.huber).targets("huber", np.ones((4, 2, 3)), (6,))
    assert targets.shape == (4, 2, 3)
    targets, _ = mg.losses.spec("mae").targets("mae", np.arange(5.0), (1,))
    np.testing.assert_array_equal(targets, np.arange(5.0))


@pytest.mark.parametrize("loss", ["mse", "bce", "cross_entropy"])
def test_float64_targets_are_not_copied(loss):
    # a large training set's targets are used as they are, not duplicated
    y = np.array([[0.25, 0.75], [1.0, 0.0], [0.5, 0.5]])
    targets, _ = mg.losses.spec(loss).targets(loss, y, (2,))
    assert np.shares_memory(targets, y)
    np.testing.assert_array_equal(targets, y)


def test_regression_targets_of_another_size_are_refused_naming_both_sizes():
    assert _refusal(mg.ShapeError, "mse", np.zeros((4, 3)), (2,)) == (
        "mse: the model outputs 2 values per example (output shape (N, 2)) but y has 3 per "
        "example (y shape (4, 3)); they must match"
    )
    # one output: "value", singular; several axes: their product, N in front
    assert _refusal(mg.ShapeError, "l1_loss", np.zeros((5, 2)), (1,)) == (
        "l1_loss: the model outputs 1 value per example (output shape (N, 1)) but y has 2 "
        "per example (y shape (5, 2)); they must match"
    )
    assert _refusal(mg.ShapeError, "mae", np.zeros(5), (2, 3)) == (
        "mae: the model outputs 6 values per example (output shape (N, 2, 3)) but y has 1 "
        "per example (y shape (5,)); they must match"
    )


@pytest.mark.parametrize("loss", ["bce", "bce_with_logits"])
def test_binary_targets_are_labels_or_probabilities_as_float64(loss):
    targets, class_indices = mg.losses.spec(loss).targets(loss, np.array([0, 1, 1, 0]), (1,))
    assert targets.dtype == np.float64 and class_indices is False
    np.testing.assert_array_equal(targets, [0.0, 1.0, 1.0, 0.0])
    y = np.array([[0.0], [0.25], [1.0]])  # probabilities, one column
    targets, class_indices = mg.losses.spec(loss).targets(loss, y, (1,))
    np.testing.assert_array_equal(targets, y)
    assert class_indices is False
    y = np.array([[0, 1, 1], [1, 0, 0.5]])  # several labels per example, one per output
    targets, _ = mg.losses.spec(loss).targets(loss, y, (3,))
    np.testing.assert_array_equal(targets, [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])


def test_binary_targets_of_another_size_are_refused_with_a_hint_for_one_label():
    # README.md's message, word for word
    assert _refusal(mg.ShapeError, "bce_with_logits", np.zeros(60), (3,)) == (
        "bce_with_logits: the model outputs 3 values per example (output shape (N, 3)) but y "
        "has 1 per example (y shape (60,)); they must match; for 3 classes use cross_entropy "
        "with class indices"
    )
    assert _refusal(mg.ShapeError, "bce", np.zeros((4, 1)), (2,)).endswith(
        "(y shape (4, 1)); they must match; for 2 classes use cross_entropy with class indices"
    )
    # several values per example are no class indices: no hint
    assert _refusal(mg.ShapeError, "bce", np.zeros((4, 3)), (2,)) == (
        "bce: the model outputs 2 values per example (output shape (N, 2)) but y has 3 per "
        "example (y shape (4, 3)); they must match"
    )
    assert _refusal(mg.ShapeError, "bce", np.zeros((4, 2, 1)), (1,)) == (
        "bce: the model outputs 1 value per example (output shape (N, 1)) but y has 2 per "
        "example (y shape (4, 2, 1)); they must match"
    )


@pytest.mark.parametrize("loss", ["bce", "bce_with_logits"])
@pytest.mark.parametrize(
    ("y", "row", "held"),
    [
        ([0, 1, 2, 0], 2, "2"),  # an integer array: the integer
        ([0.0, 1.5, -1.0], 1, "1.5"),  # the first one outside
        ([[0.0], [1.0], [0.5], [-0.5]], 3, "-0.5"),  # a column: its row, not its column
        ([[0.0, 1.0], [1.0, np.nan]], 1, "nan"),  # NaN is no probability
    ],
)
def test_binary_targets_outside_0_1_are_refused_naming_row_and_value(loss, y, row, held):
    out = np.shape(y)[1:] or (1,)
    assert _refusal(ValueError, loss, y, out) == (
        f"{loss} needs targets (0/1 labels or probabilities) in [0, 1]; y row {row} holds {held}"
    )


@pytest.mark.parametrize(
    ("y", "n_classes", "expected"),
    [
        (np.array([0, 2, 1, 2], dtype=np.int32), 3, [0, 2, 1, 2]),
        (np.array([1, 0], dtype=np.uint8), 2, [1, 0]),  # two classes are enough
        (np.array([0.0, 3.0, 1.0]), 4, [0, 3, 1]),  # whole floats
        (np.array([True, False, True]), 2, [1, 0, 1]),  # booleans: classes 0 and 1
    ],
)
def test_class_indices_become_int64(y, n_classes, expected):
    targets, class_indices = mg.losses.spec("cross_entropy").targets(
        "cross_entropy", y, (n_classes,)
    )
    assert targets.dtype == np.int64 and class_indices is True
    np.testing.assert_array_equal(targets, expected)


def test_class_indices_that_are_no_classes_of_the_model_are_refused():
    assert _refusal(ValueError, "cross_entropy", [0, 1, 1.5, 0], (3,)) == (
        "cross_entropy needs integer class indices in y; row 2 holds 1.5"
    )
    assert _refusal(ValueError, "cross_entropy", [0, 1, 3, 0], (3,)) == (
        "y row 2 is class 3, but the model outputs 3 classes (indices 0 … 2)"
    )
    assert _refusal(ValueError, "cross_entropy", [0.0, -1.0, 5.0], (5,)) == (
        "y row 1 is class -1, but the model outputs 5 classes (indices 0 … 4)"
    )
    assert _refusal(TypeError, "cross_entropy", np.array(["a", "b"]), (2,)) == (
        "cross_entropy needs integer class indices in y, got dtype <U1"
    )
    assert _refusal(TypeError, "cross_entropy", np.array([0j, 1j]), (2,)) == (
        "cross_entropy needs integer class indices in y, got dtype complex128"
    )


@pytest.mark.parametrize(
    ("out", "outputs"),
    [
        ((1,), "1 value per example (output shape (N, 1))"),
        ((), "1 value per example (output shape (N,))"),
        ((2, 3), "6 values per example (output shape (N, 2, 3))"),
    ],
)
def test_cross_entropy_refuses_a_model_without_one_output_per_class(out, outputs):
    assert _refusal(mg.ShapeError, "cross_entropy", [0, 1, 1, 0], out) == (
        "cross_entropy needs one output per class, shape (N, C) with C ≥ 2, but the model "
        f"outputs {outputs}; for two classes and one output use bce_with_logits"
    )


def test_class_probabilities_are_accepted_as_float64():
    y = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], dtype=np.float32)
    targets, class_indices = mg.losses.spec("cross_entropy").targets("cross_entropy", y, (3,))
    assert targets.dtype == np.float64 and class_indices is False
    np.testing.assert_array_equal(targets, y.astype(np.float64))


def test_class_probabilities_of_the_wrong_shape_or_range_are_refused():
    assert _refusal(mg.ShapeError, "cross_entropy", np.zeros((4, 2)), (3,)) == (
        "cross_entropy needs y of class indices, shape (N,), or class probabilities of "
        "shape (N, 3); got y of shape (4, 2)"
    )
    assert _refusal(mg.ShapeError, "cross_entropy", np.zeros((4, 3, 1)), (3,)) == (
        "cross_entropy needs y of class indices, shape (N,), or class probabilities of "
        "shape (N, 3); got y of shape (4, 3, 1)"
    )
    y = [[0.5, 0.5, 0.0], [0.0, -0.5, 1.5]]
    assert _refusal(ValueError, "cross_entropy", y, (3,)) == (
        "cross_entropy needs class probabilities in [0, 1]; y row 1 holds -0.5"
    )


def test_accuracy_needs_0_1_labels_of_the_binary_losses_only():
    check = mg.losses.spec("bce").accuracy_targets
    assert check is not None and mg.losses.spec(mg.losses.bce_with_logits).accuracy_targets
    # cross_entropy's targets are class indices or probabilities: nothing more to check
    assert mg.losses.spec("cross_entropy").accuracy_targets is None
    for labels in ([0.0, 1.0, 1.0, 0.0], [1, 0], [[1.0], [0.0]], [[0.0, 1.0], [1.0, 1.0]]):
        assert check(np.asarray(labels)) is None


@pytest.mark.parametrize("loss", ["bce", "bce_with_logits"])
@pytest.mark.parametrize(
    ("targets", "row", "held"),
    [
        ([0.0, 0.3, 1.0, 0.7], 1, "0.3"),  # the first one that is no label
        ([[0.0], [1.0], [0.5]], 2, "0.5"),  # a column: its row
        ([1.0, 2.0], 1, "2.0"),
        ([0.0, np.nan], 1, "nan"),
    ],
)
def test_accuracy_refuses_targets_that_are_no_labels(loss, targets, row, held):
    with pytest.raises(ValueError) as info:
        mg.losses.spec(loss).accuracy_targets(np.asarray(targets))
    assert str(info.value) == (
        f"accuracy needs 0/1 labels; y row {row} holds {held} (probabilities train fine, "
        "but are no classes to be right about)"
    )


def test_spec_finds_a_loss_by_name_or_by_the_callables_name():
    # spec's docstring: logits are class 1 where z > 0, so -0.5 → 0 and 0.2 → 1: both right
    for loss in ("bce_with_logits", mg.losses.bce_with_logits):
        assert mg.losses.spec(loss).accuracy([-0.5, 0.2], [0, 1]) == 1.0
    for name, loss in mg.losses.LOSSES.items():
        assert mg.losses.spec(loss) is mg.losses.spec(name)

    # a callable of its own named like a registered loss declares what that loss does
    def bce(prob, target):
        return mg.losses.bce(prob, target)

    with pytest.raises(ValueError, match=r"^bce needs targets .* y row 1 holds 3\.0$"):
        mg.losses.spec(bce).targets("bce", np.array([0.0, 3.0]), (1,))


def test_spec_of_any_other_loss_is_the_default():
    def my_loss(pred, target):
        return mg.losses.mse(pred, target)

    class Unnamed:  # a callable object: it has no __name__
        def __call__(self, pred, target):
            return mg.losses.bce(pred, target)

    unnamed = Unnamed()
    assert not hasattr(unnamed, "__name__")
    for loss in (my_loss, unnamed, "no_such_loss"):
        declared = mg.losses.spec(loss)
        assert declared.accuracy is None and declared.auto_lr is None
        y = np.array([[2.0], [-3.0]])  # no range check: regression targets
        targets, class_indices = declared.targets("my_loss", y, (1,))
        np.testing.assert_array_equal(targets, y)
        assert class_indices is False


# --- reduction="sum" and "none": the terms' sum and the terms themselves ----------------

_P = np.array([[0.2, 0.9, 0.5], [0.7, 0.1, 0.4]])  # probabilities (and predictions)
_Y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])  # targets in [0, 1]
_Z = np.array([[2.0, -1.0, 0.5], [-0.3, 3.0, 1.5]])  # logits
_R = _Z - _Y  # residuals: 2, −2, −1.3, 3 beyond huber's δ = 1; −0.5, 1 within


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


REDUCIBLE = {  # loss(pred, target, reduction=...) and its terms by the notes' formulas
    "mae": (lambda r: mg.losses.mae(_Z, _Y, reduction=r), np.abs(_R)),
    "mse": (lambda r: mg.losses.mse(_Z, _Y, reduction=r), _R**2),
    "huber": (
        lambda r: mg.losses.huber(_Z, _Y, reduction=r),
        np.where(np.abs(_R) <= 1, 0.5 * _R**2, np.abs(_R) - 0.5),
    ),
    "bce": (
        lambda r: mg.losses.bce(_P, _Y, reduction=r),
        -(_Y * np.log(_P) + (1 - _Y) * np.log(1 - _P)),
    ),
    "bce_with_logits": (
        lambda r: mg.losses.bce_with_logits(_Z, _Y, reduction=r),
        np.log1p(np.exp(_Z)) - _Y * _Z,
    ),
    "cross_entropy": (
        lambda r: mg.losses.cross_entropy(_Z, np.array([0, 2]), reduction=r),
        -_log_softmax(_Z)[[0, 1], [0, 2]],
    ),
}


@pytest.mark.parametrize("name", REDUCIBLE)
def test_reductions_give_the_terms_their_sum_and_their_mean(name):
    loss, terms = REDUCIBLE[name]
    none = loss("none")
    assert none.shape == terms.shape
    np.testing.assert_allclose(value(none), terms, rtol=1e-12)
    np.testing.assert_allclose(loss("sum").item(), terms.sum(), rtol=1e-12)
    np.testing.assert_allclose(loss("mean").item(), terms.mean(), rtol=1e-12)
