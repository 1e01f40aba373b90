"""The losses (minigrad/losses.py): the shape check's hint, the fused mse (its gradient
scaled by the upstream gradient, targets that are numbers or tensors that require grad,
the scratch buffer across shapes and dtypes, no batch-sized allocation when nothing is
recorded) — pinned down where mutants survived.

Expected values are the hand-derived ∂mse/∂pred = 2r/N and ∂mse/∂target = −2r/N.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

PRED = np.array([1.0, 4.0, 0.5])
TARGET = np.array([2.0, 2.0, 2.0])
R = PRED - TARGET  # the residuals: −1, 2, −1.5


@pytest.mark.parametrize("scale", [2.0, 0.5, -3.0])
def test_mse_gradient_is_scaled_by_the_upstream_gradient(scale):
    pred = mg.tensor(PRED, requires_grad=True)
    (mg.losses.mse(pred, TARGET) * scale).backward()
    np.testing.assert_allclose(pred.grad.numpy(), scale * 2 * R / 3)


def test_mse_gradient_reaches_a_target_that_requires_grad():
    pred = mg.tensor(PRED, requires_grad=True)
    target = mg.tensor(TARGET, requires_grad=True)
    mg.losses.mse(pred, target).backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * R / 3)
    np.testing.assert_allclose(target.grad.numpy(), -2 * R / 3)


def test_mse_of_a_scalar_against_a_number():
    loss = mg.losses.mse(mg.tensor(3.0, requires_grad=True), 1.0)
    assert loss.item() == 4.0  # (3 − 1)²
    with mg.no_grad():
        assert mg.losses.mse(mg.tensor(3.0), 1.0).item() == 4.0


def test_the_reshape_hint_is_given_only_when_the_sizes_agree():
    with pytest.raises(mg.ShapeError, match=r"reshape one of them, e\.g\. pred\.reshape\(\(3,\)\)"):
        mg.losses.mae(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(mg.ShapeError) as info:
        mg.losses.mae(np.zeros((2, 1)), np.zeros(3))
    assert "reshape" not in str(info.value)
    assert str(info.value).endswith("they must match")


def test_mse_after_mse_of_another_shape_or_dtype():
    # the buffer a backward hands back is reused only for the same shape and dtype
    for pred, target in [
        (PRED, TARGET),
        (np.arange(4.0), np.ones(4)),
        (PRED.astype(np.float32), TARGET.astype(np.float32)),
        (PRED, TARGET),
    ]:
        p = mg.tensor(pred, requires_grad=True)
        loss = mg.losses.mse(p, target)
        assert loss.dtype == pred.dtype
        loss.backward()
        r = pred - target
        np.testing.assert_allclose(loss.item(), np.mean(r * r), rtol=1e-6)
        np.testing.assert_allclose(p.grad.numpy(), 2 * r / r.size, rtol=1e-6)


def test_unrecorded_mse_allocates_nothing_of_the_batch_size():
    tracemalloc = pytest.importorskip("tracemalloc")
    n = 100_000
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
    assert peak < n * 8 / 4  # blocks of CHUNK elements, never an N-sized residual
    np.testing.assert_allclose(loss.item(), np.mean((pred.numpy() - target) ** 2), rtol=1e-12)


@pytest.mark.parametrize("name", ["l1_loss", "mae", "l2_loss", "mse", "rmse", "huber"])
def test_a_shape_error_starts_with_the_loss_name(name):
    with pytest.raises(mg.ShapeError) as info:
        getattr(mg.losses, name)(np.zeros(2), np.zeros(3))
    assert str(info.value).startswith(f"{name}: predictions have shape (2,) but targets have")


def test_a_second_backward_recomputes_the_scaled_mse_gradient():
    # each backward forms (pred − target)·2g/N again, scaled by the upstream g = 2
    pred = mg.tensor(PRED, requires_grad=True)
    loss = mg.losses.mse(pred, TARGET) * 2.0
    loss.backward()
    loss.backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * (2.0 * 2 * R / 3))


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
    a, t = PRED.reshape(3, 1) * np.ones((3, 2)), np.ones((3, 2))
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


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_huber_with_an_infinite_delta_is_half_the_squared_error_even_at_infinity():
    # |r| ≤ δ = ∞ for every r, so every term is quadratic: ½r² (∞ for r = ∞, while the
    # linear branch δ(|r| − ½δ) would be ∞·(∞ − ∞) = nan)
    r = np.array([np.inf, 2.0])
    loss = mg.losses.huber(mg.tensor(r), mg.tensor([0.0, 0.0]), delta=np.inf)
    assert loss.item() == np.mean(0.5 * r**2) == np.inf
    assert mg.losses.huber(mg.tensor([3.0]), mg.tensor([1.0]), delta=np.inf).item() == 2.0


# =========================================================================================
# classification losses: the whole text of each refusal, the range's closed ends
# =========================================================================================


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mg.losses.bce(mg.tensor([0.5, 0.2]), np.ones(3)),
         "bce: predictions have shape (2,) but targets have shape (3,); they must match"),
        (lambda: mg.losses.bce_with_logits(mg.tensor([0.5, 0.2]), np.ones(3)),
         "bce_with_logits: predictions have shape (2,) but targets have shape (3,); they must "
         "match"),
        (lambda: mg.losses.bce(mg.tensor([0.5, 1.5, 2.0]), np.array([1.0, 0.0, 1.0])),
         "bce: probabilities must lie in [0, 1], got 1.5; pass raw scores to "
         "bce_with_logits instead"),
        (lambda: mg.losses.bce(mg.tensor([0.5, 0.5]), np.array([1.0, -2.0])),
         "bce: targets must lie in [0, 1], got -2.0; targets are 0/1 labels or "
         "probabilities"),
        (lambda: mg.losses.bce_with_logits(mg.tensor([0.5, 0.5]), np.array([1.0, 3.0])),
         "bce_with_logits: targets must lie in [0, 1], got 3.0; targets are 0/1 "
         "labels or probabilities"),
        (lambda: mg.losses.cross_entropy(
            mg.tensor(np.zeros((2, 3))), np.array([[0.5, 0.5, 0.0], [1.5, -0.5, 0.0]])),
         "cross_entropy: target probabilities must lie in [0, 1], got 1.5"),
        (lambda: mg.losses.cross_entropy(mg.tensor(np.zeros((2, 3))), np.array([0, 1, 2])),
         "cross_entropy: logits have shape (2, 3), so targets must be 2 class indices of shape "
         "(2,) (or probabilities of shape (2, 3)), got shape (3,)"),
    ],
)  # fmt: skip
def test_classification_refusals_in_full(call, message):
    with pytest.raises(ValueError) as info:  # ShapeError is a ValueError
        call()
    assert str(info.value) == message


def test_probabilities_and_targets_of_exactly_0_and_1_are_accepted():
    """[0, 1] is closed: p = 0 or 1 and y = 0 or 1 are valid (the eps clip keeps the log
    finite): loss = −(1/N)·Σ[y·ln p + (1 − y)·ln(1 − p)] with p clipped to [eps, 1 − eps]."""
    eps = 1e-7
    loss = mg.losses.bce(mg.tensor([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0]))
    expected = -(np.log(eps) + np.log(eps) + np.log(0.5)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    soft = np.array([[0.0, 1.0, 0.0]])
    z = np.array([[1.0, 2.0, 3.0]])
    got = mg.losses.cross_entropy(mg.tensor(z), soft).item()
    assert got == pytest.approx(-(2.0 - np.log(np.exp(z).sum())), rel=1e-12)  # −log softmax₁


def test_cross_entropy_differentiates_soft_targets_given_as_tensors():
    """∂CE/∂y = −log softmax(z)/N for probability targets (as in PyTorch)."""
    z0 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = mg.tensor([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]], requires_grad=True)
    mg.losses.cross_entropy(mg.tensor(z0), y).backward()
    log_softmax = z0 - np.log(np.exp(z0).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(y.grad.numpy(), -log_softmax / 2, rtol=1e-12)


def test_fractional_class_indices_are_refused_by_name():
    with pytest.raises(ValueError) as info:
        mg.losses.cross_entropy(mg.tensor(np.zeros((2, 3))), np.array([0.5, 1.0]))
    assert str(info.value) == "class indices must be integers, got 0.5"
