"""The update rules (minigrad/optim/*.py, minigrad/nn/utils.py): default learning rates,
the edges of the hyperparameter ranges, PyTorch's names and in-place updates of the
optimizer state, the dtypes of loaded state and of the clipped norm, and what the errors
say — pinned down where mutants survived.

Expected updates are worked out by hand next to each assertion (PyTorch's formulas).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import clip_grad_norm_
from minigrad.optim import SGD, Adam, RMSprop
from minigrad.optim.lr_scheduler import StepLR
from tests.helpers import param_with_grad


@pytest.mark.parametrize(("cls", "lr"), [(SGD, 0.01), (RMSprop, 0.01), (Adam, 0.001)])
def test_default_learning_rates(cls, lr):
    assert cls([mg.nn.Parameter([1.0])]).lr == lr


def test_the_momentum_buffer_is_updated_in_place():
    # PyTorch's buf.mul_(μ).add_(g): a reference to the buffer sees every step
    p = param_with_grad([1.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.5)
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    np.testing.assert_array_equal(buf, [2.0])  # v = g
    opt.step()
    assert opt.state[p]["momentum_buffer"] is buf
    np.testing.assert_array_equal(buf, [3.0])  # v = 0.5·2 + 2


def test_rmsprop_with_alpha_zero_divides_by_the_current_gradient():
    # α = 0 is allowed: s = g², so each step is lr·g/(|g| + ε) = lr·sign(g)
    p = param_with_grad([1.0, 1.0], [4.0, -0.5])
    RMSprop([p], lr=0.1, alpha=0.0, eps=1e-8).step()
    np.testing.assert_allclose(
        p.numpy(), [1.0 - 0.1 * 4 / (4 + 1e-8), 1.0 + 0.1 * 0.5 / (0.5 + 1e-8)]
    )


def test_adam_with_zero_betas_steps_by_the_sign():
    # β₁ = β₂ = 0: m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε)
    p = param_with_grad([1.0], [-3.0])
    Adam([p], lr=0.1, betas=(0.0, 0.0), eps=1e-8).step()
    np.testing.assert_allclose(p.numpy(), [1.0 + 0.1 * 3 / (3 + 1e-8)])


def test_adam_state_uses_pytorchs_names():
    p = param_with_grad([1.0, 2.0], [0.5, -0.5])
    opt = Adam([p], lr=0.1)
    opt.step()
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
    np.testing.assert_allclose(opt.state[p]["exp_avg_sq"], 0.001 * np.array([0.25, 0.25]))
    assert set(opt.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_loaded_state_takes_the_parameters_dtype():
    p = param_with_grad([1.0, 2.0], [0.5, -0.5], dtype=np.float32)
    opt = Adam([p], lr=0.1)
    state = {
        "state": {0: {"step": 3, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0]}],
    }
    opt.load_state_dict(state)
    assert opt.state[p]["exp_avg"].dtype == np.float32
    assert opt.state[p]["exp_avg_sq"].dtype == np.float32


def test_a_state_without_parameter_indices_is_refused():
    opt = SGD([mg.nn.Parameter([1.0])], lr=0.1)
    group = {"lr": 0.1, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
    with pytest.raises(ValueError, match=r"SGD has 1 parameters, the state lists params=None"):
        opt.load_state_dict({"state": {}, "param_groups": [group]})


def test_error_messages_name_the_optimizer_and_what_was_wrong():
    with pytest.raises(
        TypeError, match=r"^Adam optimizes tensors with requires_grad=True, got ndarray$"
    ):
        Adam([np.zeros(2)])
    with pytest.raises(ValueError, match=r"^Nesterov momentum needs momentum > 0$"):
        SGD([mg.nn.Parameter([1.0])], nesterov=True)
    sched = StepLR(SGD([mg.nn.Parameter([1.0])], lr=1.0), step_size=2)
    with pytest.raises(ValueError, match=r"^StepLR\.load_state_dict expects keys \["):
        sched.load_state_dict({})


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


def test_a_schedulers_state_after_construction_matches_pytorchs():
    # PyTorch's state_dict holds _is_initial = False once the constructor's step is done
    torch = pytest.importorskip("torch")
    theirs = torch.optim.lr_scheduler.StepLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), step_size=2
    ).state_dict()
    ours = StepLR(SGD([mg.nn.Parameter([0.0])], lr=0.1), step_size=2).state_dict()
    assert ours["_is_initial"] is theirs["_is_initial"] is False
    assert ours["last_epoch"] == theirs["last_epoch"] == 0
