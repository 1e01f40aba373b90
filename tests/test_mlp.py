"""The "init that learns" acceptance check of issue 11: a 2-layer MLP (Linear → tanh →
Linear, built with Sequential) trained with 2,000 Adam steps on y = sin(3x).

With PyTorch's default init it fits the curve (MSE below 1e-4 of y's variance); from zero
init every hidden unit gets the same (zero) gradient forever, so the network can only
learn its output bias and predicts the mean of y.

Sizes, chosen to keep each run under a second while leaving a margin: 32 points on
[−1, 1] (about one period of sin(3x)), 16 hidden units and lr = 0.02. With these, each of
seeds 0–29 (manual_seed) reached between 9e-7 and 5.2e-5 of y's variance after 2,000 steps;
torch.nn.Linear's own init, same sizes, reached 1.2e-6 to 6.2e-5 on 29 of 30 torch seeds
(1.2e-3 on one). lr = 0.001 (Adam's default) stays near 1e-2 after 2,000 steps, and
lr = 0.01 missed 1e-4 on 1 seed in 10.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

N, HIDDEN, LR, STEPS = 32, 16, 0.02, 2000


def data(offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-1, 1, N).reshape(-1, 1)
    return x, np.sin(3 * x) + offset


def mlp(init: str = "uniform") -> mg.nn.Sequential:
    return mg.nn.Sequential(
        mg.nn.Linear(1, HIDDEN, init=init), mg.nn.Tanh(), mg.nn.Linear(HIDDEN, 1, init=init)
    )


def train(model: mg.nn.Module, x: np.ndarray, y: np.ndarray, steps: int = STEPS) -> float:
    """Full-batch Adam on the MSE; returns the final MSE."""
    X, Y = mg.tensor(x), mg.tensor(y)
    opt = mg.optim.Adam(model.parameters(), lr=LR)
    for _ in range(steps):
        opt.zero_grad()
        ((model(X) - Y) ** 2).mean().backward()
        opt.step()
    with mg.no_grad():
        return ((model(X) - Y) ** 2).mean().item()


def test_default_init_mlp_fits_sin_3x():
    x, y = data()
    mg.manual_seed(0)
    mse = train(mlp(), x, y)
    assert mse < 1e-4 * y.var()


@pytest.mark.parametrize("offset", [0.0, 1.0])  # 1.0: the mean it learns is not its start
def test_zero_init_mlp_only_predicts_the_mean(offset):
    x, y = data(offset)
    model = mlp(init="zeros")
    mse = train(model, x, y)
    first, last = model[0], model[2]
    # symmetry never breaks: tanh(0) = 0 gives ∂L/∂W₂ = 0, and W₂ = 0 gives ∂L/∂W₁ = ∂L/∂b₁ = 0
    assert not first.weight.data.any() and not first.bias.data.any()
    assert not last.weight.data.any()
    with mg.no_grad():
        predictions = model(mg.tensor(x)).numpy()
    np.testing.assert_allclose(predictions, np.full_like(y, y.mean()), atol=1e-9)
    assert mse == pytest.approx(y.var(), rel=1e-9)  # the MSE of predicting the mean


def test_mlp_training_matches_torch_from_the_same_weights():
    torch = pytest.importorskip("torch")
    x, y = data()
    model = mlp()
    ref = torch.nn.Sequential(
        torch.nn.Linear(1, HIDDEN, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(HIDDEN, 1, dtype=torch.float64),
    )
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    mse = train(model, x, y, steps=100)
    opt = torch.optim.Adam(ref.parameters(), lr=LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(100):
        opt.zero_grad()
        ((ref(X) - Y) ** 2).mean().backward()
        opt.step()
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value.numpy(), rtol=1e-9, atol=1e-12)
    assert mse == pytest.approx(((ref(X) - Y) ** 2).mean().item(), rel=1e-9)
