"""Tests for minigrad.optim: each update rule against numbers worked out by hand, against
an independent NumPy transcription of the published algorithm, and against torch.optim."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, RMSprop
from minigrad.optim.lr_scheduler import StepLR
from tests.helpers import param_with_grad

SHAPES = [(3,), (2, 2), ()]  # a vector, a matrix and a 0-d parameter (like a bias)


def initial_params(shapes) -> list[np.ndarray]:
    rng = np.random.default_rng(123)
    return [rng.normal(size=shape) for shape in shapes]


def gradient_sequence(shapes, steps: int = 3) -> list[list[np.ndarray]]:
    """Gradients of mixed sign and scale (0.1, 1, 10), one list per step, for every framework."""
    rng = np.random.default_rng(7)
    return [[rng.normal(scale=10.0 ** (k - 1), size=s) for s in shapes] for k in range(steps)]


def run_minigrad(cls, kwargs, p0, grads):
    params = [mg.nn.Parameter(p) for p in p0]
    opt = cls(params, **kwargs)
    history = []
    for step_grads in grads:
        opt.zero_grad()
        for p, g in zip(params, step_grads, strict=True):
            p.grad = mg.Tensor(g.copy())
        opt.step()
        history.append([p.data.copy() for p in params])
    return history


# ---- the published algorithms, transcribed independently in NumPy (PyTorch's docs' form)


def ref_sgd(p, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    buf, out = None, []
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d if buf is None else momentum * buf + d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    s, out = np.zeros_like(p), []
    for g in grads:
        g = g + weight_decay * p  # L2 form: added to the gradient first
        s = alpha * s + (1 - alpha) * g**2
        p = p - lr * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def ref_adam(p, grads, lr, betas=(0.9, 0.999), eps=1e-8):
    (b1, b2), m, v, out = betas, np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append(p)
    return out


NESTEROV_WD = {"lr": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 0.2}
CASES = [
    # (minigrad class — torch.optim has the same name —, kwargs, NumPy reference)
    pytest.param(SGD, {"lr": 0.1}, ref_sgd, id="sgd"),
    pytest.param(SGD, {"lr": 0.1, "momentum": 0.9}, ref_sgd, id="sgd-momentum"),
    pytest.param(SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True}, ref_sgd, id="nesterov"),
    pytest.param(SGD, {"lr": 0.1, "weight_decay": 0.3}, ref_sgd, id="sgd-weight_decay"),
    pytest.param(SGD, NESTEROV_WD, ref_sgd, id="nesterov-weight_decay"),
    pytest.param(RMSprop, {"lr": 0.01}, ref_rmsprop, id="rmsprop"),
    pytest.param(RMSprop, {"lr": 0.1, "alpha": 0.5, "eps": 1e-3}, ref_rmsprop, id="rmsprop-opts"),
    pytest.param(RMSprop, {"lr": 0.05, "weight_decay": 0.4}, ref_rmsprop, id="rmsprop-wd"),
    pytest.param(Adam, {"lr": 0.001}, ref_adam, id="adam"),
    pytest.param(Adam, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-4}, ref_adam, id="adam-opts"),
]


def check_against_numpy(cls, kwargs, ref, shapes):
    p0, grads = initial_params(shapes), gradient_sequence(shapes)
    got = run_minigrad(cls, kwargs, p0, grads)
    for i in range(len(shapes)):
        expected = ref(p0[i], [step[i] for step in grads], **kwargs)
        for k in range(3):
            np.testing.assert_allclose(got[k][i], expected[k], rtol=1e-13, atol=1e-15)


def check_against_torch(torch, cls, kwargs, shapes):
    p0, grads = initial_params(shapes), gradient_sequence(shapes)
    got = run_minigrad(cls, kwargs, p0, grads)
    params = [torch.nn.Parameter(torch.tensor(p)) for p in p0]
    opt = getattr(torch.optim, cls.__name__)(params, **kwargs)
    for k, step_grads in enumerate(grads):
        opt.zero_grad()
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.tensor(g)
        opt.step()
        for i, p in enumerate(params):
            np.testing.assert_allclose(got[k][i], p.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, kwargs, ref", CASES)
def test_three_steps_match_the_numpy_transcription(cls, kwargs, ref):
    check_against_numpy(cls, kwargs, ref, SHAPES)


@pytest.mark.parametrize("cls, kwargs, ref", CASES)
def test_three_steps_match_torch_optim(cls, kwargs, ref):
    check_against_torch(pytest.importorskip("torch"), cls, kwargs, SHAPES)


def test_nesterov_with_weight_decay_on_arrays_matches_numpy_and_torch():
    """The combined rule, on parameters of at least one dimension (see the 0-d bug)."""
    check_against_numpy(SGD, NESTEROV_WD, ref_sgd, SHAPES[:2])
    check_against_torch(pytest.importorskip("torch"), SGD, NESTEROV_WD, SHAPES[:2])


@pytest.mark.parametrize("cls, kwargs", [(SGD, {"momentum": 0.9}), (Adam, {}), (RMSprop, {})])
def test_training_a_quadratic_matches_torch(cls, kwargs):
    """The same loss, differentiated by each framework, stepped 3 times: same parameters."""
    torch = pytest.importorskip("torch")
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    c = np.array([1.0, -2.0])
    w = mg.nn.Parameter([3.0, -1.0])
    wt = torch.nn.Parameter(torch.tensor([3.0, -1.0], dtype=torch.float64))
    opt = cls([w], lr=0.05, **kwargs)
    opt_t = getattr(torch.optim, cls.__name__)([wt], lr=0.05, **kwargs)
    At, ct = torch.from_numpy(A), torch.from_numpy(c)
    for _ in range(3):
        opt.zero_grad()
        opt_t.zero_grad()
        ((w @ mg.Tensor(A) @ w) * 0.5 - (w * mg.Tensor(c)).sum()).backward()
        ((wt @ At @ wt) * 0.5 - (wt * ct).sum()).backward()
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
        opt.step()
        opt_t.step()
        np.testing.assert_allclose(w.numpy(), wt.detach().numpy(), rtol=1e-12)


# ---- the same rules on a constant gradient g, worked out by hand


def constant_gradient_run(opt_factory, g: float = 1.0, steps: int = 3) -> list[float]:
    p = mg.nn.Parameter(1.0)
    opt = opt_factory([p])
    values = []
    for _ in range(steps):
        opt.zero_grad()
        p.grad = mg.Tensor(np.array(g))
        opt.step()
        values.append(p.item())
    return values


def test_sgd_by_hand():
    # p ← p − lr·g = 1 − 0.1·1: 0.9, 0.8, 0.7
    got = constant_gradient_run(lambda ps: SGD(ps, lr=0.1))
    np.testing.assert_allclose(got, [0.9, 0.8, 0.7], rtol=1e-14)


def test_sgd_momentum_by_hand():
    # v ← 0.9v + g: v = 1, 1.9, 2.71;  p ← p − 0.1v: 0.9, 0.71, 0.439
    got = constant_gradient_run(lambda ps: SGD(ps, lr=0.1, momentum=0.9))
    np.testing.assert_allclose(got, [0.9, 0.71, 0.439], rtol=1e-14)


def test_sgd_nesterov_by_hand():
    # v = 1, 1.9, 2.71;  step = g + 0.9v = 1.9, 2.71, 3.439
    # p = 1 − 0.19 = 0.81, 0.81 − 0.271 = 0.539, 0.539 − 0.3439 = 0.1951
    got = constant_gradient_run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
    np.testing.assert_allclose(got, [0.81, 0.539, 0.1951], rtol=1e-14)


def test_sgd_weight_decay_by_hand():
    # g' = g + 0.5p: p = 1 − 0.1·(1 + 0.5) = 0.85; 0.85 − 0.1·(1 + 0.425) = 0.7075;
    # 0.7075 − 0.1·(1 + 0.35375) = 0.572125
    got = constant_gradient_run(lambda ps: SGD(ps, lr=0.1, weight_decay=0.5))
    np.testing.assert_allclose(got, [0.85, 0.7075, 0.572125], rtol=1e-14)


def test_sgd_momentum_with_weight_decay_by_hand_on_a_vector():
    # p = [1], g = 1, lr = 0.1, μ = 0.5, λ = 0.5:
    # g' = 1.5,        v = 1.5,                   p = 1 − 0.15 = 0.85
    # g' = 1.425,      v = 0.75 + 1.425 = 2.175,  p = 0.85 − 0.2175 = 0.6325
    # g' = 1.31625,    v = 1.0875 + 1.31625 = 2.40375, p = 0.6325 − 0.240375 = 0.392125
    p = mg.nn.Parameter([1.0])
    opt = SGD([p], lr=0.1, momentum=0.5, weight_decay=0.5)
    got = []
    for _ in range(3):
        p.grad = mg.tensor([1.0])
        opt.step()
        got.append(p.item())
    np.testing.assert_allclose(got, [0.85, 0.6325, 0.392125], rtol=1e-14)


def test_sgd_momentum_with_weight_decay_on_a_0d_parameter():
    p = mg.nn.Parameter(1.0)  # like LinearRegression.bias
    opt = SGD([p], lr=0.1, momentum=0.5, weight_decay=0.5)
    for _ in range(2):
        p.grad = mg.tensor(1.0)
        opt.step()
    assert p.item() == pytest.approx(0.6325)  # as on the vector above


def test_fit_linear_regression_with_momentum_and_weight_decay():
    X, y, _, _ = mg.data.make_linear(n=50, d=2, noise=0.1, seed=0)
    history = mg.fit(
        mg.nn.LinearRegression(2),
        X,
        y,
        lr=0.05,
        epochs=5,
        progress=False,
        optimizer_options={"momentum": 0.9, "weight_decay": 0.01},
    )
    assert history.n_updates == 5


def test_rmsprop_by_hand():
    # g = 2, α = 0.9: s = 0.4, 0.76, 1.084;  step = 0.01·2/√s
    # = 0.0316228, 0.0229416, 0.0192094  →  p = 0.9683772, 0.9454356, 0.9262262
    got = constant_gradient_run(lambda ps: RMSprop(ps, lr=0.01, alpha=0.9), g=2.0)
    np.testing.assert_allclose(got, [0.9683772, 0.9454356, 0.9262262], atol=1e-7)


def test_adam_by_hand():
    # A constant g makes m̂ = g and v̂ = g² at every step (bias correction exactly undoes
    # the zero start), so each step is lr·g/(|g| + ε) = 0.1·2/(2 + 1e-8) ≈ 0.1.
    got = constant_gradient_run(lambda ps: Adam(ps, lr=0.1), g=2.0)
    step = 0.1 * 2.0 / (2.0 + 1e-8)
    np.testing.assert_allclose(got, [1 - step, 1 - 2 * step, 1 - 3 * step], rtol=1e-14)
    assert abs(got[0] - 0.9) < 1e-8


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


# ---- state, identity, parameters without gradients


@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: RMSprop(ps), lambda ps: Adam(ps)]
)
def test_steps_update_parameters_in_place(make):
    model = mg.nn.LinearRegression(2)
    params = model.parameters()
    arrays = [p.data for p in params]
    opt = make(params)
    for _ in range(3):
        opt.zero_grad()
        model(np.array([[1.0, 2.0], [3.0, -1.0]])).sum().backward()
        opt.step()
    assert model.parameters() == params  # the same Parameter objects …
    assert all(
        p.data is a for p, a in zip(model.parameters(), arrays, strict=True)
    )  # … and buffers
    assert all(np.any(a != 0) for a in arrays)  # which did move
    assert set(opt.state) == set(params)


def test_zero_grad_and_parameters_without_gradient_are_skipped():
    a, b = mg.nn.Parameter([1.0]), mg.nn.Parameter([5.0])
    opt = Adam([a, b], lr=0.1)
    (a * 2.0).sum().backward()
    opt.step()
    assert b.item() == 5.0 and opt.state[b] == {}  # no gradient, no update, no state
    assert a.item() != 1.0 and opt.state[a]["step"] == 1
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_accepts_a_generator_of_parameters():
    model = mg.nn.Linear(2, 2)
    opt = SGD((p for p in model.parameters()), lr=0.1)
    assert opt.params == model.parameters()


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


def test_adam_state_uses_pytorchs_names():
    p = param_with_grad([1.0, 2.0], [0.5, -0.5])
    opt = Adam([p], lr=0.1)
    opt.step()
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
    np.testing.assert_allclose(opt.state[p]["exp_avg_sq"], 0.001 * np.array([0.25, 0.25]))
    assert set(opt.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


# ---- state_dict / load_state_dict

RESUME_CASES = [
    pytest.param(SGD, {"lr": 0.05, "momentum": 0.9}, id="sgd-momentum"),
    pytest.param(SGD, {**NESTEROV_WD, "lr": 0.05}, id="nesterov-weight_decay"),
    pytest.param(RMSprop, {"lr": 0.01, "alpha": 0.9}, id="rmsprop"),
    pytest.param(Adam, {"lr": 0.01, "betas": (0.8, 0.99)}, id="adam"),
]


def mlp_problem(seed):
    """A small MLP (three parameter shapes, a 0-d one included) and fixed data."""

    class Net(mg.nn.Module):
        def __init__(self):
            self.body = mg.nn.Sequential(mg.nn.Linear(2, 4, seed=seed), mg.nn.Tanh())
            self.head = mg.nn.LinearRegression(4, init="uniform", seed=seed + 1)

        def forward(self, x):
            return self.head(self.body(x))

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.normal(size=16)
    return Net(), mg.Tensor(X), mg.Tensor(y)


def train_steps(model, opt, X, y, steps, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        ((model(X) - y) ** 2).mean().backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


@pytest.mark.parametrize("cls, kwargs", RESUME_CASES)
def test_state_dict_round_trip_resumes_training_bit_for_bit(cls, kwargs):
    straight, X, y = mlp_problem(seed=0)
    opt = cls(straight.parameters(), **kwargs)
    train_steps(straight, opt, X, y, 6)

    first, _, _ = mlp_problem(seed=0)
    opt = cls(first.parameters(), **kwargs)
    train_steps(first, opt, X, y, 3)
    saved_model, saved_opt = first.state_dict(), copy.deepcopy(opt.state_dict())
    snapshot = opt.state_dict()
    train_steps(first, opt, X, y, 3)  # the run goes on; what was saved must not change
    for i, state in saved_opt["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(snapshot["state"][i][key], value)

    resumed, _, _ = mlp_problem(seed=5)  # other initial weights, other hyperparameters
    other_kwargs = {**kwargs, "lr": 0.5}
    opt2 = cls(resumed.parameters(), **other_kwargs)
    resumed.load_state_dict(saved_model)
    opt2.load_state_dict(pickle.loads(pickle.dumps(saved_opt)))  # plain, picklable data
    assert opt2.lr == kwargs["lr"]  # hyperparameters are part of the state
    train_steps(resumed, opt2, X, y, 3)
    for (name, p), (_, q) in zip(
        straight.named_parameters(), resumed.named_parameters(), strict=True
    ):
        np.testing.assert_array_equal(q.data, p.data, err_msg=name)


def test_state_dict_round_trip_with_a_scheduler_resumes_bit_for_bit():
    straight, X, y = mlp_problem(seed=0)
    opt_straight = SGD(straight.parameters(), lr=0.1, momentum=0.9)
    sched = mg.optim.lr_scheduler.StepLR(opt_straight, step_size=2, gamma=0.5)
    train_steps(straight, opt_straight, X, y, 7, sched)

    first, _, _ = mlp_problem(seed=0)
    opt = SGD(first.parameters(), lr=0.1, momentum=0.9)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    train_steps(first, opt, X, y, 3, sched)
    saved = first.state_dict(), opt.state_dict(), sched.state_dict()

    resumed, _, _ = mlp_problem(seed=1)
    opt2 = SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    sched2 = mg.optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    resumed.load_state_dict(saved[0])
    opt2.load_state_dict(saved[1])
    sched2.load_state_dict(saved[2])
    assert opt2.lr == 0.05 and sched2.last_epoch == 3
    train_steps(resumed, opt2, X, y, 4, sched2)
    assert opt2.lr == opt_straight.lr == 0.0125  # 0.1 · 0.5³ after 7 scheduler steps
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(q.data, p.data)


def test_adam_state_dict_layout_and_values_match_torch():
    torch = pytest.importorskip("torch")
    a, b = mg.nn.Parameter([1.0, -2.0]), mg.nn.Parameter([[0.5]])
    ta, tb = (torch.nn.Parameter(torch.tensor(p.data)) for p in (a, b))
    opt = Adam([a, b], lr=0.1, betas=(0.8, 0.9), eps=1e-6)
    opt_t = torch.optim.Adam([ta, tb], lr=0.1, betas=(0.8, 0.9), eps=1e-6)
    for g in ([3.0, -1.0], [0.5, 2.0]):  # b never gets a gradient: no state for it
        a.grad, ta.grad = mg.tensor(g), torch.tensor(g, dtype=torch.float64)
        opt.step()
        opt_t.step()
    state, state_t = opt.state_dict(), opt_t.state_dict()
    assert state.keys() == state_t.keys() == {"state", "param_groups"}
    assert list(state["state"]) == list(state_t["state"]) == [0]
    keys = {"step", "exp_avg", "exp_avg_sq"}
    assert state["state"][0].keys() == state_t["state"][0].keys() == keys
    assert state["state"][0]["step"] == state_t["state"][0]["step"].item() == 2
    for key in ("exp_avg", "exp_avg_sq"):
        expected = state_t["state"][0][key].numpy()
        np.testing.assert_allclose(state["state"][0][key], expected, rtol=1e-14)
    group, group_t = state["param_groups"][0], state_t["param_groups"][0]
    expected = {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.0}
    assert group == {**expected, "params": [0, 1]}
    assert all(group_t[k] == v for k, v in group.items())  # torch has more options


@pytest.mark.parametrize(
    "cls, kwargs, keys",
    [
        (SGD, {"momentum": 0.9}, {"momentum_buffer"}),
        (RMSprop, {}, {"square_avg"}),
    ],
)
def test_state_names_are_torchs(cls, kwargs, keys):
    torch = pytest.importorskip("torch")
    p, tp = mg.nn.Parameter([1.0]), torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = cls([p], lr=0.1, **kwargs)
    opt_t = getattr(torch.optim, cls.__name__)([tp], lr=0.1, **kwargs)
    p.grad, tp.grad = mg.tensor([2.0]), torch.tensor([2.0], dtype=torch.float64)
    opt.step()
    opt_t.step()
    ours = opt.state_dict()["state"][0]
    assert set(ours) == keys and keys <= set(opt_t.state_dict()["state"][0])
    for key in keys:
        np.testing.assert_allclose(ours[key], opt_t.state_dict()["state"][0][key].numpy())


def test_loaded_momentum_buffer_drives_the_next_step_by_hand():
    p = mg.nn.Parameter([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.load_state_dict(
        {
            "state": {0: {"momentum_buffer": np.array([1.0])}},
            "param_groups": [
                {"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0, "params": [0]}
            ],
        }
    )
    p.grad = mg.tensor([1.0])
    opt.step()  # v = 0.9·1 + 1 = 1.9; p = 1 − 0.1·1.9 = 0.81
    assert p.item() == pytest.approx(0.81, abs=1e-15)
    assert opt.state[p]["momentum_buffer"].tolist() == pytest.approx([1.9])


def test_optimizer_state_dict_holds_copies_both_ways():
    p = mg.nn.Parameter([1.0, 2.0])
    opt = Adam([p], lr=0.1)
    p.grad = mg.tensor([1.0, 1.0])
    opt.step()
    state = opt.state_dict()
    state["state"][0]["exp_avg"][:] = 99.0
    assert opt.state[p]["exp_avg"].tolist() == pytest.approx([0.1, 0.1])
    opt.load_state_dict(state)
    state["state"][0]["exp_avg"][:] = -1.0
    assert opt.state[p]["exp_avg"].tolist() == [99.0, 99.0]
    assert opt.state[p]["exp_avg"].dtype == p.dtype


def test_load_state_dict_clears_state_the_saved_optimizer_did_not_have():
    a, b = mg.nn.Parameter([1.0]), mg.nn.Parameter([2.0])
    fresh = Adam([a, b], lr=0.1).state_dict()
    opt = Adam([a, b], lr=0.1)
    a.grad = b.grad = mg.tensor([1.0])
    opt.step()
    opt.load_state_dict(fresh)
    assert opt.state == {a: {}, b: {}}
    assert fresh["state"] == {}


def valid_sgd_state():
    opt = SGD([mg.nn.Parameter([1.0, 2.0]), mg.nn.Parameter(0.0)], lr=0.1, momentum=0.9)
    for p in opt.params:
        p.grad = mg.tensor(np.ones(p.shape))
    opt.step()
    return opt, opt.state_dict()


def _set(*path, value):
    """An edit of a state dict: set (or, with value=None, delete) the entry at ``path``."""

    def edit(state):
        *inner, last = path
        for key in inner:
            state = state[key]
        if value is None:
            del state[last]
        else:
            state[last] = value

    return edit


def _no_momentum_but_nesterov(state):
    state["param_groups"][0].update(momentum=0.0, nesterov=True)


BAD_STATES = [
    (_set("param_groups", value=[]), ValueError, "SGD has one parameter group, the state has 0"),
    (
        _set("param_groups", 0, "params", value=[0]),
        ValueError,
        r"SGD has 2 parameters, the state lists params=\[0\]",
    ),
    (
        _set("param_groups", 0, "betas", value=(0.9, 0.99)),
        ValueError,
        r"SGD has hyperparameters \['lr', 'momentum', 'nesterov', 'weight_decay'\], the state",
    ),
    (_set("param_groups", 0, "lr", value=-1.0), ValueError, "lr must be a finite number > 0"),
    (_no_momentum_but_nesterov, ValueError, "Nesterov momentum needs momentum > 0"),
    (
        _set("state", 0, "momentum_buffer", value=np.ones(3)),
        mg.ShapeError,
        r"'momentum_buffer' of parameter 0 has shape \(3,\), the parameter has \(2,\)",
    ),
    (_set("state", 2, value={}), ValueError, "the state names parameter 2, which it lacks"),
    (_set("state", -1, value={}), ValueError, "the state names parameter -1"),
    (_set("state", value=None), ValueError, "expects keys 'state' and 'param_groups'"),
]


@pytest.mark.parametrize("edit, error, match", BAD_STATES)
def test_load_state_dict_errors_name_the_mismatch_and_change_nothing(edit, error, match):
    opt, state = valid_sgd_state()
    before = copy.deepcopy(opt.state_dict())
    edit(state)
    with pytest.raises(error, match=match):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, saved in before["state"].items():
        buffer = saved["momentum_buffer"]
        np.testing.assert_array_equal(after["state"][i]["momentum_buffer"], buffer)


def test_optimizer_defaults_and_repr():
    opt = SGD([mg.nn.Parameter([1.0])], lr=0.1, momentum=0.9)
    assert opt.defaults == {"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0}
    assert repr(opt) == "SGD(lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)"
    opt.lr = 0.05  # what a scheduler does: defaults keep the constructor's value
    assert opt.defaults["lr"] == 0.1 and opt.state_dict()["param_groups"][0]["lr"] == 0.05
    expected = "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)"
    assert repr(Adam([mg.nn.Parameter([1.0])])) == expected


def test_loaded_state_takes_the_parameters_dtype():
    p = param_with_grad([1.0, 2.0], [0.5, -0.5], dtype=np.float32)
    opt = Adam([p], lr=0.1)
    state = {
        "state": {0: {"step": 3, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
        "param_groups": [
            {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "params": [0]}
        ],
    }
    opt.load_state_dict(state)
    assert opt.state[p]["exp_avg"].dtype == np.float32
    assert opt.state[p]["exp_avg_sq"].dtype == np.float32


def test_a_state_without_parameter_indices_is_refused():
    opt = SGD([mg.nn.Parameter([1.0])], lr=0.1)
    group = {"lr": 0.1, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
    with pytest.raises(ValueError, match=r"SGD has 1 parameters, the state lists params=None"):
        opt.load_state_dict({"state": {}, "param_groups": [group]})


@pytest.mark.parametrize(("cls", "lr"), [(SGD, 0.01), (RMSprop, 0.01), (Adam, 0.001)])
def test_default_learning_rates(cls, lr):
    assert cls([mg.nn.Parameter([1.0])]).lr == lr


# ---- errors


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
@pytest.mark.parametrize("lr", [0, 0.0, -0.1, math.nan, math.inf, -math.inf, "0.1", None])
def test_bad_learning_rates_are_refused(cls, lr):
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got"):
        cls([mg.nn.Parameter([1.0])], lr=lr)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
def test_empty_parameter_list_is_refused(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__} got an empty parameter list"):
        cls([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls(iter([]), lr=0.1)  # an exhausted generator, as from model.parameters() twice


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
@pytest.mark.parametrize("bad", [mg.tensor([1.0]), np.ones(2), 3.0])
def test_parameters_that_cannot_have_gradients_are_refused(cls, bad):
    with pytest.raises(TypeError, match="requires_grad=True, got"):
        cls([mg.nn.Parameter([1.0]), bad], lr=0.1)


@pytest.mark.parametrize(
    "betas", [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (0.9, math.nan), (0.9, 1.5)]
)
def test_adam_bad_betas(betas):
    with pytest.raises(ValueError, match=r"betas must be two numbers in \[0, 1\)"):
        Adam([mg.nn.Parameter([1.0])], betas=betas)


@pytest.mark.parametrize("betas", [(0.9,), (0.9, 0.999, 0.5)])
def test_adam_betas_must_be_a_pair(betas):
    with pytest.raises(ValueError, match="betas"):
        Adam([mg.nn.Parameter([1.0])], betas=betas)


@pytest.mark.parametrize("alpha", [1.0, -0.1, math.nan, 2.0])
def test_rmsprop_bad_alpha(alpha):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\)"):
        RMSprop([mg.nn.Parameter([1.0])], alpha=alpha)


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (SGD, {"momentum": -0.5}, "momentum must be a finite number ≥ 0"),
        (SGD, {"momentum": math.nan}, "momentum must be a finite number ≥ 0"),
        (SGD, {"weight_decay": -1.0}, "weight_decay must be a finite number ≥ 0"),
        (RMSprop, {"weight_decay": -1.0}, "weight_decay must be a finite number ≥ 0"),
        (SGD, {"nesterov": True}, "Nesterov momentum needs momentum > 0"),
        (RMSprop, {"eps": 0.0}, "eps must be a finite number > 0"),
        (Adam, {"eps": -1e-8}, "eps must be a finite number > 0"),
    ],
)
def test_other_bad_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([mg.nn.Parameter([1.0])], lr=0.1, **kwargs)


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


# ---- the registry


def test_get_by_name_and_class():
    assert mg.optim.get("sgd") is SGD
    assert mg.optim.get("RMSprop") is RMSprop  # case-insensitive, as spelt in PyTorch
    assert mg.optim.get("adam") is Adam
    assert mg.optim.get(Adam) is Adam


@pytest.mark.parametrize("name", ["adagrad", "", "sgd "])
def test_get_unknown_name_lists_the_choices(name):
    with pytest.raises(
        ValueError, match=r"unknown optimizer .*choose one of: adam, adamw, rmsprop, sgd"
    ):
        mg.optim.get(name)


# ---- behaviour on badly scaled data (the taxi fares of the crash course)


def test_rmsprop_with_lr_1_bounces_on_raw_taxi_data_but_stays_bounded():
    X, y, _ = mg.data.make_taxi()  # raw miles (≤ 45) and minutes (≤ ~160): not standardized
    model = mg.nn.LinearRegression(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the condition-number hint
        history = mg.fit(
            model, X, y, optimizer="rmsprop", lr=1.0, epochs=300, tol=None, progress=False
        )
    losses = np.array(history.step_losses)
    assert not history.diverged and history.n_updates == 300
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(history.path))
    rises = np.flatnonzero(np.diff(losses) > 0)
    assert rises[0] == 0 and rises[-1] > 100  # it bounces: up at once, and again much later
    # RMSprop's step is about lr per coordinate whatever the gradient, so the parameters
    # stay within a few units of the optimum and the loss stays bounded (the first steps
    # overshoot to ~10² times the initial loss; plain SGD below reaches 10⁶ in one step).
    assert losses.max() < 1e3 * losses[0]
    w_star, b_star = mg.formulas.closed_form(X, y)
    assert np.all(np.abs(model.w - w_star) < 1.0) and abs(model.b - b_star) < 5.0
    assert losses[-10:].max() < 0.01 * losses[0]


def test_plain_sgd_with_lr_1_diverges_on_raw_taxi_data():
    X, y, _ = mg.data.make_taxi()
    assert mg.formulas.max_stable_lr(X) < 0.01  # lr = 1 is far past 2/λ_max
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.warns(RuntimeWarning, match="diverged"):
            history = mg.fit(
                mg.nn.LinearRegression(2),
                X,
                y,
                optimizer="sgd",
                lr=1.0,
                epochs=200,
                progress=False,
            )
    assert history.diverged and history.epochs_run < 200
    assert history.step_losses[1] > 1e4 * history.step_losses[0]
