"""nn as a PyTorch user expects it (issue 19, item 2), with PyTorch as the oracle: loss
modules with reduction=, the activations, BatchNorm1d and its buffers, nn.init,
zero_grad(set_to_none=) and load_state_dict(strict=False)."""

import math

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(0)


def same(ours, theirs, tol=1e-12):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, mg.Tensor) else ours
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def run_both(ours_fn, theirs_fn, *arrays, grad=(0,)):
    """Values and gradients (of a weighted sum of the output) of both libraries."""
    ours = [mg.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    out, tout = ours_fn(*ours), theirs_fn(*theirs)
    same(out, tout)
    w = RNG.normal(size=out.shape)
    (out * mg.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for i in grad:
        same(ours[i].grad, theirs[i].grad)


# --- loss modules -------------------------------------------------------------------------

PRED = RNG.normal(size=(6, 3))
TARGET = RNG.normal(size=(6, 3))
PROB = RNG.uniform(0.05, 0.95, size=(6, 3))
LABELS = (RNG.uniform(size=(6, 3)) > 0.5).astype(float)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("name", "pred", "target", "kwargs"),
    [
        ("MSELoss", PRED, TARGET, {}),
        ("L1Loss", PRED, TARGET, {}),
        ("HuberLoss", PRED * 2, TARGET, {"delta": 0.7}),
        ("HuberLoss", PRED * 2, TARGET, {}),
        ("BCELoss", PROB, LABELS, {}),
        ("BCELoss", PROB, PROB[::-1].copy(), {}),
        ("BCEWithLogitsLoss", PRED * 3, LABELS, {}),
        ("BCEWithLogitsLoss", PRED * 3, PROB, {}),
    ],
)
def test_loss_modules_match_torch(name, pred, target, kwargs, reduction):
    ours = getattr(mg.nn, name)(reduction=reduction, **kwargs)
    theirs = getattr(torch.nn, name)(reduction=reduction, **kwargs)
    run_both(ours, theirs, pred, target, grad=(0,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_matches_torch_with_indices_and_probabilities(reduction):
    logits = RNG.normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    ours, theirs = mg.nn.CrossEntropyLoss(reduction), torch.nn.CrossEntropyLoss(reduction=reduction)
    run_both(ours, theirs, logits, labels)
    soft = RNG.dirichlet(np.ones(4), size=5)
    run_both(ours, theirs, logits, soft)


def test_mse_loss_with_target_grad_and_bad_reduction():
    run_both(mg.nn.MSELoss(), torch.nn.MSELoss(), PRED, TARGET, grad=(0, 1))
    with pytest.raises(ValueError, match=r"reduction must be .*got 'avg'"):
        mg.nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be"):
        mg.losses.mse(mg.tensor(PRED), TARGET, reduction="average")


# --- activations -----------------------------------------------------------------------------

X = np.concatenate([np.linspace(-6, 6, 49), [0.0, -30.0, 30.0, 700.0, -700.0]])


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (mg.nn.LeakyReLU(), torch.nn.LeakyReLU()),
        (mg.nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (mg.nn.GELU(), torch.nn.GELU()),
        (mg.nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
        (mg.nn.SiLU(), torch.nn.SiLU()),
        (mg.nn.Softplus(), torch.nn.Softplus()),
        (mg.nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
        (mg.nn.ELU(), torch.nn.ELU()),
        (mg.nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)),
    ],
    ids=str,
)
def test_activations_match_torch_values_and_gradients_including_at_zero(ours, theirs):
    run_both(ours, theirs, X)


def test_activations_have_exact_second_derivatives():
    x = mg.tensor([-1.3, -0.4, 0.6, 2.1], requires_grad=True)
    for layer in (mg.nn.GELU(), mg.nn.SiLU(), mg.nn.Softplus(), mg.nn.ELU()):
        assert mg.gradgradcheck(layer, x)
    # GELU's second derivative against torch's double backward
    t = torch.tensor(x.data, requires_grad=True)
    (g,) = torch.autograd.grad(F.gelu(t).sum(), t, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), t)
    ours = mg.grad(lambda v: mg.grad(lambda u: mg.nn.GELU()(u).sum())(v).sum())(x)
    same(ours, gg)


# --- BatchNorm1d and buffers -------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm_trains_and_evaluates_as_torch_over_several_batches(momentum, shape):
    ours = mg.nn.BatchNorm1d(3, momentum=momentum, eps=1e-3)
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum, eps=1e-3).double()
    with torch.no_grad():  # non-trivial affine parameters
        theirs.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
        theirs.bias.copy_(torch.tensor([0.1, 0.0, 3.0]))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for step in range(4):
        x = RNG.normal(loc=step, scale=1 + step, size=shape)
        run_both(ours, theirs, x)
        same(ours.weight.grad, theirs.weight.grad)
        same(ours.bias.grad, theirs.bias.grad)
        for name in ("running_mean", "running_var"):
            same(getattr(ours, name), getattr(theirs, name))
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == step + 1
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, RNG.normal(size=shape))


def test_batchnorm_without_running_stats_or_affine():
    ours = mg.nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    theirs = torch.nn.BatchNorm1d(2, affine=False, track_running_stats=False).double().eval()
    run_both(ours, theirs, RNG.normal(size=(5, 2)))
    assert ours.state_dict() == {} and ours.parameters() == []


def test_batchnorm_refuses_what_torch_refuses():
    bn = mg.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        bn(mg.ones(1, 3))
    bn.eval()(mg.ones(1, 3))  # evaluation: fine
    with pytest.raises(mg.ShapeError, match=r"\(N, 3\).*got \(4, 2\)"):
        bn(mg.ones(4, 2))


def test_buffers_are_state_but_not_parameters():
    model = mg.nn.Sequential(mg.nn.Linear(3, 4, seed=0), mg.nn.BatchNorm1d(4), mg.nn.ReLU())
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [n for n, _ in model.named_buffers()] == [
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert list(model.state_dict()) == list(torch_model.state_dict())
    assert model.state_dict()["1.num_batches_tracked"].dtype == np.int64
    m = mg.nn.Module()
    m.register_buffer("kept", mg.zeros(2))
    m.register_buffer("scratch", mg.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    m.kept = np.ones(2)  # assigning keeps it a buffer
    assert isinstance(m.kept, mg.Tensor) and list(m.state_dict()) == ["kept"]
    with pytest.raises(TypeError, match="a Parameter cannot be one"):
        m.kept = mg.nn.Parameter([1.0])


# --- nn.init -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 7), (4, 3, 2), (6, 2, 3, 3)])
def test_fans_and_gains_are_torchs(shape):
    ours = mg.nn.init.calculate_fan_in_and_fan_out(mg.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    for name, param in [("relu", None), ("tanh", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("linear", None), ("sigmoid", None), ("selu", None)]:  # fmt: skip
        assert mg.nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15
        )
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        mg.nn.init.xavier_uniform_(mg.zeros(3))


def _torch_draw(name, kwargs, shape):
    """A weight of ``shape`` filled by torch's initialiser of the same name."""
    t = torch.empty(shape, dtype=torch.float64)
    getattr(torch.nn.init, name)(t, **kwargs)
    return t


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("xavier_uniform_", {}, ("uniform", math.sqrt(6 / (200 + 300)))),
        ("xavier_uniform_", {"gain": 2.0}, ("uniform", 2 * math.sqrt(6 / 500))),
        ("xavier_normal_", {}, ("normal", math.sqrt(2 / 500))),
        ("kaiming_uniform_", {}, ("uniform", math.sqrt(6 / 300))),
        ("kaiming_uniform_", {"a": math.sqrt(5)}, ("uniform", math.sqrt(1 / 300))),
        ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"},
         ("uniform", math.sqrt(6 / 200))),
        ("kaiming_normal_", {}, ("normal", math.sqrt(2 / 300))),
        ("kaiming_normal_", {"nonlinearity": "tanh"}, ("normal", 5 / 3 / math.sqrt(300))),
    ],
)  # fmt: skip
def test_initialisers_draw_torchs_distributions(name, kwargs, expected):
    """Same distribution as torch: compared by their bounds / standard deviations on a
    200 × 300 weight, and both against the closed form."""
    shape = (200, 300)
    w = getattr(mg.nn.init, name)(mg.nn.Parameter(np.zeros(shape)), **kwargs)
    t = _torch_draw(name, kwargs, shape).numpy()
    kind, value = expected
    if kind == "uniform":  # max |w| → bound; the std of U(−b, b) is b/√3
        for sample in (w.data, t):
            assert np.abs(sample).max() <= value
            assert np.abs(sample).max() > value * 0.999
            assert sample.std() == pytest.approx(value / math.sqrt(3), rel=0.02)
    else:
        for sample in (w.data, t):
            assert sample.std() == pytest.approx(value, rel=0.02)
            assert abs(sample.mean()) < value * 0.02


def test_simple_initialisers_and_in_place_identity():
    p = mg.nn.Parameter(np.zeros((3, 4)))
    assert mg.nn.init.ones_(p) is p and (p.data == 1).all()
    assert (mg.nn.init.constant_(p, 2.5).data == 2.5).all()
    assert (mg.nn.init.zeros_(p).data == 0).all()
    g = np.random.default_rng(0)
    u = mg.nn.init.uniform_(mg.nn.Parameter(np.zeros(10000)), -2.0, 3.0, generator=g)
    assert u.data.min() >= -2 and u.data.max() < 3
    assert u.data.mean() == pytest.approx(0.5, abs=0.05)
    n = mg.nn.init.normal_(mg.nn.Parameter(np.zeros(10000)), 1.0, 0.5)
    assert n.data.mean() == pytest.approx(1.0, abs=0.03)
    assert n.data.std() == pytest.approx(0.5, rel=0.05)
    assert p.requires_grad and p.is_leaf


# --- zero_grad and load_state_dict -------------------------------------------------------------


def test_zero_grad_set_to_none_or_zeros():
    model = mg.nn.Linear(2, 1, seed=0)
    model(mg.ones(3, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and (p.grad.data == 0).all() for p in model.parameters())
    model(mg.ones(3, 2)).sum().backward()  # accumulates onto the zeros
    same(model.weight.grad, np.full((1, 2), 3.0))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_load_state_dict_strict_false_returns_missing_and_unexpected():
    model = mg.nn.Sequential(mg.nn.Linear(2, 3, seed=0), mg.nn.BatchNorm1d(3))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    del state["1.running_var"]
    state["2.weight"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing \['1.running_var'\], unexpected \['2.weight'\]"):
        model.load_state_dict(state)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["2.weight"]
    torch_result = theirs.load_state_dict(
        {k: torch.as_tensor(v) for k, v in state.items()}, strict=False
    )
    assert result.missing_keys == torch_result.missing_keys
    assert result.unexpected_keys == torch_result.unexpected_keys
    same(model[0].weight, theirs[0].weight)
    assert model.load_state_dict(model.state_dict()) == ([], [])
    with pytest.raises(mg.ShapeError, match=r"0\.weight has shape"):
        model.load_state_dict({"0.weight": np.zeros((2, 2))}, strict=False)
