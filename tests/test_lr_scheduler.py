"""Tests for minigrad.optim.lr_scheduler: StepLR, ExponentialLR and CosineAnnealingLR,
against their closed forms, rates worked out by hand, and torch.optim.lr_scheduler step
for step (including rates changed by hand in between, which the chainable rules carry)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR


def sgd(lr: float = 1.0) -> mg.optim.SGD:
    return mg.optim.SGD([mg.nn.Parameter([0.0])], lr=lr)


def rates(scheduler_factory, lr: float = 1.0, epochs: int = 8) -> list[float]:
    """The rate used in each epoch: read before the scheduler steps at the epoch's end."""
    opt = sgd(lr)
    sched = scheduler_factory(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.lr)
        assert sched.get_last_lr() == [opt.lr]
        sched.step()
    return out


def test_step_lr_by_hand():
    got = rates(lambda o: StepLR(o, step_size=3, gamma=0.5))
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    got = rates(lambda o: StepLR(o, step_size=1), lr=2.0, epochs=3)  # gamma defaults to 0.1
    assert got == pytest.approx([2.0, 0.2, 0.02], rel=1e-15)


def test_exponential_lr_by_hand():
    got = rates(lambda o: ExponentialLR(o, gamma=0.5), lr=8.0, epochs=5)
    assert got == [8.0, 4.0, 2.0, 1.0, 0.5]


@pytest.mark.parametrize("T_max, eta_min", [(4, 0.0), (10, 0.1), (1, 0.0), (7, 0.05)])
def test_cosine_annealing_follows_the_closed_form_down_and_back_up(T_max, eta_min):
    got = rates(lambda o: CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), epochs=4 * T_max + 1)
    expected = [eta_min + (1 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
                for t in range(4 * T_max + 1)]  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got[T_max] == pytest.approx(eta_min, abs=1e-15)  # the minimum at T_max
    assert got[2 * T_max] == pytest.approx(1.0, rel=1e-12)  # back to the start at 2·T_max


def test_cosine_halfway_by_hand():
    got = rates(lambda o: CosineAnnealingLR(o, T_max=4), lr=1.0, epochs=5)
    # (1 + cos(πt/4))/2 for t = 0…4: 1, (1 + √2/2)/2, 1/2, (1 − √2/2)/2, 0
    s = math.sqrt(2) / 2
    np.testing.assert_allclose(got, [1, (1 + s) / 2, 0.5, (1 - s) / 2, 0], atol=1e-15)


CONFIGS = [
    pytest.param("StepLR", {"step_size": 3, "gamma": 0.5}, id="step-3-0.5"),
    pytest.param("StepLR", {"step_size": 1, "gamma": 0.9}, id="step-1-0.9"),
    pytest.param("StepLR", {"step_size": 4}, id="step-4-default-gamma"),
    pytest.param("ExponentialLR", {"gamma": 0.9}, id="exp-0.9"),
    pytest.param("ExponentialLR", {"gamma": 1.05}, id="exp-1.05"),
    pytest.param("CosineAnnealingLR", {"T_max": 10}, id="cos-10"),
    pytest.param("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}, id="cos-7-eta"),
    pytest.param("CosineAnnealingLR", {"T_max": 1, "eta_min": 0.2}, id="cos-1-eta"),
]


def torch_and_ours(torch, name, kwargs, lr=0.3):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt_t = torch.optim.SGD([p], lr=lr)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    opt = sgd(lr)
    sched = getattr(mg.optim.lr_scheduler, name)(opt, **kwargs)
    return opt, sched, opt_t, sched_t


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_trajectories_equal_torch_exactly(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, sched, opt_t, sched_t = torch_and_ours(torch, name, kwargs)
    for epoch in range(35):
        assert opt.lr == opt_t.param_groups[0]["lr"], f"epoch {epoch}"  # the same floats
        assert sched.get_last_lr() == sched_t.get_last_lr()
        assert sched.last_epoch == sched_t.last_epoch
        opt_t.step()  # (torch warns when its scheduler steps before the optimizer)
        sched_t.step()
        sched.step()


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_rates_changed_by_hand_carry_forward_as_in_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, sched, opt_t, sched_t = torch_and_ours(torch, name, kwargs)
    for epoch in range(20):
        if epoch in (5, 12):  # e.g. a user halving the rate on a plateau
            opt.lr /= 2
            opt_t.param_groups[0]["lr"] /= 2
        opt_t.step()
        sched_t.step()
        sched.step()
        assert opt.lr == opt_t.param_groups[0]["lr"], f"epoch {epoch}"


def test_the_optimizer_steps_with_the_scheduled_rate():
    # constant gradient g = 1: p after each step = −(sum of the rates used so far)
    w = mg.nn.Parameter([0.0])
    opt = mg.optim.SGD([w], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.1)
    positions = []
    for _ in range(5):
        w.grad = mg.tensor([1.0])
        opt.step()
        sched.step()
        positions.append(w.item())
    # rates 1, 1, 0.1, 0.1, 0.01
    np.testing.assert_allclose(positions, [-1, -2, -2.1, -2.2, -2.21], rtol=1e-14)


def test_scheduler_state_dict_round_trip():
    opt = sgd(1.0)
    sched = CosineAnnealingLR(opt, T_max=6, eta_min=0.1)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state["last_epoch"] == 4 and state["base_lrs"] == [1.0]
    state_before = dict(state)

    opt2 = sgd(1.0)
    sched2 = CosineAnnealingLR(opt2, T_max=6, eta_min=0.1)
    opt2.load_state_dict(opt.state_dict())  # the rate itself lives in the optimizer's state
    sched2.load_state_dict(state)
    for _ in range(5):
        sched.step()
        sched2.step()
        assert opt2.lr == opt.lr
    assert state == state_before  # stepping did not write into the saved dict
    state["base_lrs"][0] = 99.0  # the lists are copies both ways
    assert sched2.base_lrs == [1.0]
    sched2.load_state_dict(state)
    state["base_lrs"][0] = -1.0
    assert sched2.base_lrs == [99.0]
    assert sched.state_dict()["base_lrs"] is not sched.base_lrs
    with pytest.raises(ValueError, match="load_state_dict expects keys"):
        sched2.load_state_dict({"last_epoch": 3})


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    _, sched, _, sched_t = torch_and_ours(torch, "StepLR", {"step_size": 2})
    ours = set(sched.state_dict())
    assert {"base_lrs", "last_epoch", "step_size", "gamma", "_last_lr"} <= ours
    assert ours - {"_is_initial"} <= set(sched_t.state_dict())


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda o: StepLR(o, step_size=0), "step_size must be an integer ≥ 1, got 0"),
        (lambda o: StepLR(o, step_size=2.5), "step_size must be an integer ≥ 1"),
        (lambda o: StepLR(o, step_size=True), "step_size must be an integer ≥ 1, got True"),
        (lambda o: ExponentialLR(o, gamma=True), "gamma must be a finite number > 0, got True"),
        (lambda o: ExponentialLR(o, gamma="0.5"), "gamma must be a finite number > 0"),
        (lambda o: StepLR(o, step_size=2, gamma=-0.5), "gamma must be a finite number > 0"),
        (lambda o: ExponentialLR(o, gamma=0.0), "gamma must be a finite number > 0, got 0.0"),
        (lambda o: ExponentialLR(o, gamma=float("inf")), "gamma must be a finite number > 0"),
        (lambda o: CosineAnnealingLR(o, T_max=0), "T_max must be an integer ≥ 1"),
        (
            lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1),
            "eta_min must be a finite number ≥ 0",
        ),
    ],
)
def test_bad_arguments_are_named(make, match):
    opt = sgd()
    with pytest.raises(ValueError, match=match):
        make(opt)
    assert opt.lr == 1.0


def test_a_scheduler_needs_a_minigrad_optimizer():
    with pytest.raises(TypeError, match="StepLR schedules a minigrad Optimizer, got dict"):
        StepLR({"lr": 0.1}, step_size=1)
    with pytest.raises(NotImplementedError):
        LRScheduler(sgd())


def test_a_schedulers_state_after_construction_matches_pytorchs():
    # PyTorch's state_dict holds _is_initial = False once the constructor's step is done
    torch = pytest.importorskip("torch")
    theirs = torch.optim.lr_scheduler.StepLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), step_size=2
    ).state_dict()
    ours = StepLR(mg.optim.SGD([mg.nn.Parameter([0.0])], lr=0.1), step_size=2).state_dict()
    assert ours["_is_initial"] is theirs["_is_initial"] is False
    assert ours["last_epoch"] == theirs["last_epoch"] == 0
