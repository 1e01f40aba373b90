"""Tests for minigrad.nn.utils.clip_grad_norm_: norms and scaled gradients by hand and
against torch.nn.utils.clip_grad_norm_."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import clip_grad_norm_
from tests.helpers import param_with_grad


def params_with_grads(*grads, dtype=np.float64):
    """Parameters of zeros, one per gradient given."""
    return [param_with_grad(np.zeros(np.shape(g)), g, dtype) for g in grads]


def test_clipping_by_hand():
    # gradients [3, 4] and [12]: total 2-norm √(9 + 16 + 144) = 13
    a, b = params_with_grads([3.0, 4.0], [12.0])
    grad_a = a.grad
    total = clip_grad_norm_([a, b], max_norm=6.5)
    assert isinstance(total, mg.Tensor) and total.shape == () and total.item() == 13.0
    scale = 6.5 / (13.0 + 1e-6)  # PyTorch's 1e-6 keeps a zero norm finite
    np.testing.assert_allclose(a.grad.numpy(), [3 * scale, 4 * scale], rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), [12 * scale], rtol=1e-15)
    assert a.grad is grad_a  # scaled in place: the same gradient tensor


def test_gradients_below_the_limit_are_unchanged():
    a, b = params_with_grads([3.0, 4.0], [12.0])
    assert clip_grad_norm_([a, b], max_norm=13.5).item() == 13.0
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [12.0]  # ×1, exactly


@pytest.mark.parametrize(
    "norm_type, expected",
    [(1.0, 19.0), (float("inf"), 12.0), (3.0, (27 + 64 + 1728) ** (1 / 3)), ("inf", 12.0)],
)
def test_other_norms_by_hand(norm_type, expected):
    a, b = params_with_grads([3.0, -4.0], [12.0])
    total = clip_grad_norm_([a, b], max_norm=1.0, norm_type=norm_type)
    assert total.item() == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), [12.0 / (expected + 1e-6)], rtol=1e-14)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 5.0, 1e3])
def test_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s) for s in [(3, 4), (4,), ()]]
    params = params_with_grads(*grads)
    params.append(mg.nn.Parameter([1.0]))  # no gradient: skipped
    params_t = [torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64)) for g in grads]
    for p, g in zip(params_t, grads, strict=True):
        p.grad = torch.tensor(g)
    params_t.append(torch.nn.Parameter(torch.ones(1, dtype=torch.float64)))
    total = clip_grad_norm_(params, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(params_t, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), total_t.item(), rtol=1e-14)
    for p, q in zip(params[:3], params_t[:3], strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14, atol=1e-300)
    assert params[3].grad is None


def test_single_tensor_float32_and_no_gradients():
    (p,) = params_with_grads([6.0, 8.0], dtype=np.float32)
    total = clip_grad_norm_(p, max_norm=5.0)
    assert total.dtype == np.float32 and total.item() == 10.0
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad.numpy(), [3.0, 4.0], rtol=1e-6)
    assert clip_grad_norm_([mg.nn.Parameter([1.0])], 1.0).item() == 0.0
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_nonfinite_norms():
    a, b = params_with_grads([np.nan, 1.0], [2.0])
    with pytest.raises(RuntimeError, match=r"total norm of order 2\.0 of the gradients is nan"):
        clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    assert b.grad.tolist() == [2.0]  # nothing was scaled
    assert np.isnan(clip_grad_norm_([a, b], 1.0).item())
    assert np.isnan(b.grad.item())  # as in PyTorch: scaled by a NaN coefficient
    (c,) = params_with_grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="gradients is inf"):
        clip_grad_norm_([c], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_norm": -1.0}, ValueError, "max_norm must be a number ≥ 0, got -1.0"),
        ({"max_norm": float("nan")}, ValueError, "max_norm must be a number ≥ 0, got nan"),
        ({"max_norm": 1.0, "norm_type": 0}, ValueError, "norm_type must be > 0 or inf, got 0.0"),
        ({"max_norm": 1.0, "norm_type": float("nan")}, ValueError, "norm_type must be > 0"),
        ({"max_norm": "1"}, ValueError, "max_norm must be a number ≥ 0, got '1'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    (p,) = params_with_grads([1.0])
    with pytest.raises(error, match=match):
        clip_grad_norm_([p], **kwargs)
    with pytest.raises(TypeError, match="clip_grad_norm_ expects Tensors, got ndarray"):
        clip_grad_norm_([np.ones(2)], 1.0)


def test_clipping_inside_a_training_step():
    model = mg.nn.Linear(3, 1, seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    x = mg.tensor(np.full((4, 3), 100.0))  # a huge gradient
    (model(x) ** 2).mean().backward()
    before = [p.data.copy() for p in model.parameters()]
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total.item() > 100
    opt.step()
    after = model.parameters()
    moved = np.sqrt(sum(((p.data - b) ** 2).sum() for p, b in zip(after, before, strict=True)))
    assert moved == pytest.approx(0.1, rel=1e-5)  # lr × the clipped norm 1


def test_the_clipped_total_norm_has_the_gradients_dtype():
    p = param_with_grad([0.0, 0.0], [3.0, 4.0], dtype=np.float32)
    total = clip_grad_norm_([p], max_norm=1.0)
    assert total.dtype == np.float32 and total.item() == 5.0
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_clipping_mixed_precision_gradients_matches_pytorch_bit_for_bit():
    # float32 and float64 gradients: the total norm (and so the coefficient) is float64;
    # each gradient is scaled by the coefficient in its own dtype, as PyTorch does
    torch = pytest.importorskip("torch")
    g32 = np.random.default_rng(0).standard_normal(50).astype(np.float32)
    g64 = np.array([3.0, 4.0])
    ours = [param_with_grad(np.zeros_like(g), g, g.dtype) for g in (g32, g64)]
    theirs = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype) for g in (g32, g64)]
    for t, g in zip(theirs, (g32, g64), strict=True):
        t.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(ours, max_norm=1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0)
    assert total.dtype == np.float64 and total.item() == expected.item()
    for p, t in zip(ours, theirs, strict=True):
        assert p.grad.dtype == t.grad.numpy().dtype
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
