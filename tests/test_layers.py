"""Tests for minigrad.nn's parameter-free layers: ReLU, Tanh, Sigmoid, Identity, Flatten
and Dropout (train/eval), against NumPy formulas, statistics and torch.nn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import Dropout, Flatten, Identity, ReLU, Sigmoid, Tanh

# (module, value, derivative) with the derivative written from calculus
ACTIVATIONS = [
    pytest.param(ReLU, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float), id="ReLU"),
    pytest.param(Tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2, id="Tanh"),
    pytest.param(
        Sigmoid,
        lambda x: 1 / (1 + np.exp(-x)),
        lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
        id="Sigmoid",
    ),
]
X = np.array([[-3.0, -0.5, 0.25], [0.7, 2.0, -1.5]])  # away from ReLU's kink


@pytest.mark.parametrize("cls, f, df", ACTIVATIONS)
def test_activation_values_and_gradients_by_formula(cls, f, df):
    x = mg.tensor(X, requires_grad=True)
    y = cls()(x)
    np.testing.assert_allclose(y.numpy(), f(X), rtol=1e-14)
    (y * mg.Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), df(X) * np.arange(6.0).reshape(2, 3), rtol=1e-12)
    assert cls()(X.tolist()).shape == (2, 3)  # plain nested lists are accepted
    assert cls()(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("cls, f, df", ACTIVATIONS)
def test_activations_match_torch(cls, f, df):
    torch = pytest.importorskip("torch")
    x = mg.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    cls()(x).sum().backward()
    getattr(torch.nn, cls.__name__)()(xt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-13)
    assert repr(cls()) == repr(getattr(torch.nn, cls.__name__)())


def test_identity_passes_its_input_through():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert Identity()(x) is x
    assert Identity(3, bias=False)(x) is x  # arguments ignored, as in PyTorch
    assert Identity().parameters() == []


# ------------------------------------------------------------------------------ Flatten


def test_flatten_default_keeps_the_batch_axis():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = Flatten()(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y.numpy(), np.arange(24.0).reshape(2, 12))
    (y * mg.Tensor(np.arange(24.0).reshape(2, 12))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(24.0).reshape(2, 3, 4))


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple),
    start=st.integers(-5, 4),
    end=st.integers(-5, 4),
)
def test_flatten_matches_torch_shapes_and_errors(shape, start, end):
    torch = pytest.importorskip("torch")
    data = np.arange(float(np.prod(shape))).reshape(shape)
    try:
        expected = torch.nn.Flatten(start, end)(torch.from_numpy(data)).numpy()
    except (IndexError, RuntimeError):
        with pytest.raises(mg.ShapeError, match=r"^flatten: (start|end)_dim="):
            Flatten(start, end)(data)
        return
    got = Flatten(start, end)(data)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)


def test_flatten_errors_name_the_problem():
    with pytest.raises(mg.ShapeError, match=r"start_dim=1 is out of range for an input with 1"):
        Flatten()(np.ones(3))
    with pytest.raises(mg.ShapeError, match="start_dim=2 comes after end_dim=1"):
        Flatten(2, 1)(np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match=r"start_dim must be an integer, got 1\.0"):
        Flatten(1.0)
    assert repr(Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ------------------------------------------------------------------------------ Dropout


def test_dropout_zeroes_about_p_and_scales_the_rest_by_one_over_one_minus_p():
    x = mg.tensor(np.linspace(1.0, 2.0, 40_000), requires_grad=True)
    drop = Dropout(0.3, seed=0)
    y = drop(x)
    kept = y.numpy() != 0
    # 40,000 Bernoulli(0.7) draws: the kept fraction has std √(0.21/40000) ≈ 0.0023
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.7, rtol=1e-15)
    # inverted dropout keeps the mean: E[y] = x
    assert abs(y.numpy().mean() / x.numpy().mean() - 1) < 0.01
    y.sum().backward()  # ∂y/∂x is the same mask: 1/(1 − p) where kept, 0 where dropped
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.7, 0.0), rtol=1e-15)


def test_dropout_is_the_identity_in_eval_mode_and_back_in_train_mode():
    x = mg.tensor(np.ones(1000))
    drop = Dropout(0.5, seed=1)
    assert drop.eval() is drop and not drop.training
    assert drop(x) is x
    drop.train()
    assert (drop(x).numpy() == 0).any()
    model = mg.nn.Sequential(mg.nn.Linear(1000, 1000, seed=0), Dropout(0.5, seed=2))
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), model[0](x).numpy())


def test_dropout_masks_are_reproducible():
    x = mg.ones(50)
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first = a(x).tolist()
    assert first == b(x).tolist()  # same seed, same first mask
    assert a(x).tolist() != first  # the generator moves on: a new mask each call
    mg.manual_seed(11)
    c = Dropout(0.5)(x).tolist()
    mg.manual_seed(11)
    assert Dropout(0.5)(x).tolist() == c  # the default generator, reseeded
    rng = np.random.default_rng(5)
    expected_keep = np.random.default_rng(5).random(50) >= 0.5  # kept with probability 1 − p
    np.testing.assert_array_equal(Dropout(0.5, rng=rng)(x).numpy(), expected_keep * 2.0)


def test_dropout_edge_probabilities_and_dtype():
    x = mg.tensor(np.arange(1.0, 6.0), requires_grad=True)
    assert Dropout(0.0)(x) is x
    y = Dropout(1.0)(x)
    assert y.tolist() == [0.0] * 5
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 5
    assert Dropout(0.5, seed=0)(np.ones(4, np.float32)).dtype == np.float32
    assert Dropout(0.5, seed=0)(mg.tensor(3.0)).shape == ()
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True])
def test_dropout_refuses_bad_probabilities(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\], got"):
        Dropout(p)


def test_dropout_matches_torch_statistics():
    torch = pytest.importorskip("torch")
    x = np.full(20_000, 3.0)
    torch.manual_seed(0)
    ref = torch.nn.Dropout(0.25)(torch.from_numpy(x)).numpy()
    ours = Dropout(0.25, seed=0)(x).numpy()
    # both: values 0 or 3/0.75 = 4, about a quarter of them 0
    assert set(np.unique(ref)) == set(np.unique(ours)) == {0.0, 4.0}
    assert abs((ours == 0).mean() - (ref == 0).mean()) < 0.02
