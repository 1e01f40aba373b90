"""optim as a PyTorch user expects it (issue 19, item 2), against PyTorch: parameter
groups, Adam(weight_decay=), AdamW, zero_grad(set_to_none=), the schedulers on groups and
ReduceLROnPlateau; trajectories over several steps and learning-rate sequences."""

import copy

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)
W0, B0, V0 = RNG.normal(size=(3, 2)), RNG.normal(size=3), RNG.normal(size=4)
X = RNG.normal(size=(5, 2))


def _loss(lib, w, b, v):
    """A smooth non-quadratic loss of three parameters, the same in both libraries."""
    h = (lib.tensor(X) @ w.T + b).tanh()
    return (h * h).sum() + (v * v * v * v).sum() + (h.sum() * v.sum())


def trajectories(make_ours, make_theirs, steps=6, grouped=False):
    """Run both optimizers ``steps`` times; return the parameters after each step."""
    ours = [mg.nn.Parameter(a) for a in (W0, B0, V0)]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in (W0, B0, V0)]
    if grouped:
        ours_params = [{"params": ours[:2]}, {"params": ours[2:], "lr": 0.02}]
        theirs_params = [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.02}]
    else:
        ours_params, theirs_params = ours, theirs
    opt, opt_t = make_ours(ours_params), make_theirs(theirs_params)
    for _ in range(steps):
        opt.zero_grad()
        opt_t.zero_grad()
        _loss(mg, *ours).backward()
        _loss(torch, *theirs).backward()
        opt.step()
        opt_t.step()
        for p, tp in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-13)
    return opt, opt_t


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
        ("Adam", {"lr": 0.05, "weight_decay": 0.0, "betas": (0.8, 0.99)}),
        ("AdamW", {"lr": 0.05}),
        ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "eps": 1e-6}),
        ("SGD", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.01, "momentum": 0.5, "nesterov": True}),
        ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
        ("RMSprop", {"lr": 0.01, "weight_decay": 0.2}),
    ],
)
def test_trajectories_match_torch(name, kwargs, grouped):
    trajectories(
        lambda p: getattr(mg.optim, name)(p, **kwargs),
        lambda p: getattr(torch.optim, name)(p, **kwargs),
        grouped=grouped,
    )


def test_group_options_override_the_defaults_and_state_dict_is_torchs():
    opt, opt_t = trajectories(
        lambda p: mg.optim.Adam(p, lr=0.05, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1),
        grouped=True,
    )
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.02]
    state, state_t = opt.state_dict(), opt_t.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    for group, group_t in zip(state["param_groups"], state_t["param_groups"], strict=True):
        assert all(group_t[k] == v for k, v in group.items())
    for i in range(3):
        np.testing.assert_allclose(state["state"][i]["exp_avg"], state_t["state"][i]["exp_avg"])
    # a restored optimizer continues exactly
    params = opt.params
    twin = mg.optim.Adam(
        [{"params": [mg.nn.Parameter(p.data) for p in params[:2]]},
         {"params": [mg.nn.Parameter(params[2].data)]}], lr=1.0, weight_decay=0.1,
    )  # fmt: skip
    twin.load_state_dict(copy.deepcopy(state))
    assert [g["lr"] for g in twin.param_groups] == [0.05, 0.02]


def test_opt_lr_reads_the_common_rate_and_sets_every_group():
    a, b = mg.nn.Parameter([1.0]), mg.nn.Parameter([2.0])
    opt = mg.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    with pytest.raises(AttributeError, match=r"param_groups\[i\]\['lr'\]"):
        _ = opt.lr
    opt.lr = 0.2
    assert opt.lr == 0.2 and [g["lr"] for g in opt.param_groups] == [0.2, 0.2]
    assert opt.momentum == 0.0
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['betas'\]"):
        mg.optim.SGD([{"params": [a], "betas": (0.9, 0.9)}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        mg.optim.SGD([{"params": [a]}, {"params": [a]}])
    opt.add_param_group({"params": [mg.nn.Parameter([0.0])], "momentum": 0.9})
    # as torch: what a new group leaves out comes from the constructor's values
    assert opt.param_groups[2]["momentum"] == 0.9 and opt.param_groups[2]["lr"] == 0.1
    opt_t = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    opt_t.param_groups[0]["lr"] = 0.2
    opt_t.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "momentum": 0.9})
    assert opt_t.param_groups[1]["lr"] == 0.1


@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_zero_grad_set_to_none_false_leaves_zeros_as_torch(cls):
    p, tp = mg.nn.Parameter([1.0, 2.0]), torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    q, tq = mg.nn.Parameter([3.0]), torch.nn.Parameter(torch.tensor([3.0]))
    opt, opt_t = getattr(mg.optim, cls)([p, q], lr=0.1), getattr(torch.optim, cls)([tp, tq], lr=0.1)
    (p * p).sum().backward()
    (tp * tp).sum().backward()
    opt.zero_grad(set_to_none=False)
    opt_t.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())
    assert q.grad is None and tq.grad is None  # never had one: stays None
    opt.zero_grad()
    opt_t.zero_grad()
    assert p.grad is None and tp.grad is None


# --- schedulers on parameter groups --------------------------------------------------------------


def _groups(lib):
    def param():
        return mg.nn.Parameter([0.0]) if lib is mg else torch.nn.Parameter(torch.zeros(1))

    return [{"params": [param()]}, {"params": [param()], "lr": 0.3}]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.001}),
    ],
)
def test_schedulers_set_each_groups_rate_as_torch(name, kwargs):
    opt, opt_t = mg.optim.SGD(_groups(mg), lr=0.1), torch.optim.SGD(_groups(torch), lr=0.1)
    sched = getattr(mg.optim.lr_scheduler, name)(opt, **kwargs)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    for epoch in range(12):
        ours = [g["lr"] for g in opt.param_groups]
        assert ours == [g["lr"] for g in opt_t.param_groups], f"epoch {epoch}"
        assert sched.get_last_lr() == ours
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2, "factor": 0.5},
        {"mode": "max", "patience": 1, "factor": 0.3},
        {"threshold_mode": "abs", "threshold": 0.05, "patience": 1},
        {"patience": 0, "cooldown": 2, "factor": 0.5, "min_lr": [0.02, 0.01]},
        {"patience": 1, "factor": 0.5, "eps": 0.03},
    ],
)
def test_reduce_lr_on_plateau_gives_torchs_sequence(kwargs):
    opt, opt_t = mg.optim.SGD(_groups(mg), lr=0.1), torch.optim.SGD(_groups(torch), lr=0.1)
    sched = mg.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    sched_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kwargs)
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(5, 1, 6), 1 + rng.uniform(-0.04, 0.04, 30)])
    metrics = np.concatenate([metrics, np.linspace(1, 0.2, 5), np.full(15, 0.2)])
    for epoch, value in enumerate(metrics):
        sched.step(value)
        sched_t.step(value)
        ours = [g["lr"] for g in opt.param_groups]
        assert ours == [g["lr"] for g in opt_t.param_groups], f"epoch {epoch}"
        assert sched.get_last_lr() == sched_t.get_last_lr()
        assert sched.num_bad_epochs == sched_t.num_bad_epochs


def test_reduce_lr_on_plateau_checks_its_arguments_and_saves_its_state():
    opt = mg.optim.SGD([mg.nn.Parameter([0.0])], lr=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        mg.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="minimum")
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        mg.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=2.0)
    sched = mg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    with pytest.raises(TypeError, match="measured quantity"):
        sched.step("loss")
    for value in (1.0, 1.0, 1.0):
        sched.step(value)
    twin = mg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    twin.load_state_dict(sched.state_dict())
    assert twin.best == 1.0 and twin.last_epoch == 3 and opt.lr == pytest.approx(0.1)


def test_fit_takes_an_optimizer_with_parameter_groups():
    X = RNG.normal(size=(32, 3))
    model = mg.nn.Sequential(mg.nn.Linear(3, 4, seed=0), mg.nn.Tanh(), mg.nn.Linear(4, 1, seed=1))
    opt = mg.optim.Adam(
        [{"params": model[0].parameters(), "lr": 0.01}, {"params": model[2].parameters()}],
        lr=0.001,
    )
    history = mg.fit(model, X, X.sum(axis=1, keepdims=True), optimizer=opt, epochs=3,
                     progress=False)  # fmt: skip
    assert history.lr == 0.01 and opt.state[model[2].bias]["step"] == 3


@pytest.mark.parametrize("given", [mg.nn.Parameter(np.zeros((2, 2))), {"params": []}])
def test_a_lone_tensor_or_group_is_refused_as_torch_refuses_it(given):
    with pytest.raises(TypeError, match="iterable of tensors or of parameter-group dicts"):
        mg.optim.SGD(given, lr=0.1)
    with pytest.raises(TypeError):
        torch.optim.SGD(torch.nn.Parameter(torch.zeros(2, 2)) if isinstance(given, mg.Tensor)
                        else {"params": []}, lr=0.1)  # fmt: skip
