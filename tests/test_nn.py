"""Tests for minigrad.nn: Parameter, Module (parameter walking, state dicts, .npz files),
Linear and LinearRegression, with NumPy and PyTorch as the independent references."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import Linear, LinearRegression, Module, Parameter


class TwoLayer(Module):
    """A small 2-layer network defined here, so nothing in minigrad names its parts."""

    def __init__(self, seed: int = 0) -> None:
        self.hidden = Linear(3, 4, init="normal", seed=seed)
        self.out = Linear(4, 2, init="normal", seed=seed + 1)
        self.scale = Parameter(np.array(2.0))

    def forward(self, x):
        return self.out(self.hidden(x).tanh()) * self.scale


class Nested(Module):
    """Three levels deep, with a shared sub-module and a non-parameter attribute."""

    def __init__(self) -> None:
        self.block = TwoLayer(seed=5)
        self.alias = self.block  # the same module under a second name
        self.head = Linear(2, 1, bias=False)
        self.note = "not a parameter"
        self.array = np.ones(3)  # a plain array is not a parameter either

    def forward(self, x):
        return self.head(self.block(x))


TWO_LAYER_NAMES = ["hidden.weight", "hidden.bias", "out.weight", "out.bias", "scale"]


# ------------------------------------------------------------------------- Parameter


def test_parameter_is_a_leaf_that_requires_grad_and_copies_its_data():
    source = np.array([1.0, 2.0])
    p = Parameter(source)
    assert isinstance(p, mg.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad is None
    source[0] = 99.0
    assert p.tolist() == [1.0, 2.0]  # an own copy: the caller's array is not aliased


def test_parameter_makes_integers_float64_and_keeps_float32():
    assert Parameter([1, 2]).dtype == np.float64
    assert Parameter(np.ones(2, np.float32)).dtype == np.float32


def test_parameter_repr_says_parameter():
    assert repr(Parameter([1.0, 2.0])) == "Parameter([1., 2.], requires_grad=True)"


# ---------------------------------------------------------------------------- Module


def test_named_parameters_walks_nested_modules_in_assignment_order():
    model = TwoLayer()
    named = list(model.named_parameters())
    assert [name for name, _ in named] == TWO_LAYER_NAMES
    assert named[0][1] is model.hidden.weight
    assert named[3][1] is model.out.bias
    assert named[4][1] is model.scale
    assert [p.shape for _, p in named] == [(4, 3), (4,), (2, 4), (2,), ()]


def test_parameters_recurse_and_list_a_shared_module_once():
    model = Nested()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        *("block." + n for n in TWO_LAYER_NAMES),
        *("alias." + n for n in TWO_LAYER_NAMES),
        "head.weight",  # bias=False: no head.bias
    ]
    params = model.parameters()
    assert len(params) == 6  # 5 of the block (once, although reachable twice) + head.weight
    assert len({id(p) for p in params}) == 6
    assert params[0] is model.block.hidden.weight
    assert params[-1] is model.head.weight


def test_named_parameters_prefix():
    names = [name for name, _ in TwoLayer().named_parameters(prefix="net.")]
    assert names == ["net." + n for n in TWO_LAYER_NAMES]


def test_zero_grad_clears_every_nested_gradient():
    model = Nested()
    model(np.ones((5, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_call_runs_forward_with_all_arguments():
    class Recorder(Module):
        def forward(self, *args, **kwargs):
            return ("forward", args, kwargs)

    assert Recorder()(1, 2, key=3) == ("forward", (1, 2), {"key": 3})


def test_call_on_two_layer_matches_numpy():
    model, x = TwoLayer(), np.linspace(-1, 1, 6).reshape(2, 3)
    h = np.tanh(x @ model.hidden.weight.data.T + model.hidden.bias.data)
    expected = (h @ model.out.weight.data.T + model.out.bias.data) * 2.0
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-12)


def test_module_without_forward_says_so():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(1)


def test_repr_shows_the_tree_of_modules():
    text = repr(Nested())
    assert text.splitlines() == [
        "Nested()",
        "  (block): TwoLayer()",
        "    (hidden): Linear(in_features=3, out_features=4, bias=True)",
        "    (out): Linear(in_features=4, out_features=2, bias=True)",
        "  (alias): TwoLayer()",
        "    (hidden): Linear(in_features=3, out_features=4, bias=True)",
        "    (out): Linear(in_features=4, out_features=2, bias=True)",
        "  (head): Linear(in_features=2, out_features=1, bias=False)",
    ]
    assert repr(LinearRegression(3)) == "LinearRegression(n_features=3)"


# ------------------------------------------------------------------------ state dicts


def test_state_dict_round_trip_into_a_differently_initialised_model():
    source, target = TwoLayer(seed=1), TwoLayer(seed=7)
    state = source.state_dict()
    assert list(state) == TWO_LAYER_NAMES
    assert not np.array_equal(state["hidden.weight"], target.hidden.weight.data)
    target.load_state_dict(state)
    for (name, p), (_, q) in zip(source.named_parameters(), target.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert p.data is not q.data
    x = np.linspace(-2, 2, 9).reshape(3, 3)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())


def test_state_dict_holds_copies_both_ways():
    model = TwoLayer()
    before = model.hidden.weight.data.copy()
    state = model.state_dict()
    state["hidden.weight"][:] = 123.0  # editing the dict does not touch the model
    np.testing.assert_array_equal(model.hidden.weight.data, before)
    model.load_state_dict(state)
    state["hidden.weight"][:] = -1.0  # nor does editing it after loading
    np.testing.assert_array_equal(model.hidden.weight.data, np.full((4, 3), 123.0))


def test_load_state_dict_casts_to_the_parameter_dtype():
    model = Linear(2, 1)
    model.load_state_dict({"weight": [[1, 2]], "bias": [3]})  # lists of ints
    assert model.weight.dtype == np.float64
    assert model.weight.tolist() == [[1.0, 2.0]] and model.bias.tolist() == [3.0]


def test_load_state_dict_missing_key_is_named():
    model = TwoLayer()
    state = model.state_dict()
    del state["out.bias"]
    with pytest.raises(KeyError, match=r"missing \['out.bias'\]"):
        model.load_state_dict(state)


def test_load_state_dict_unexpected_key_is_named():
    model = TwoLayer()
    state = {**model.state_dict(), "extra.weight": np.zeros(2)}
    with pytest.raises(KeyError, match=r"unexpected \['extra.weight'\]"):
        model.load_state_dict(state)


def test_load_state_dict_wrong_shape_names_parameter_and_both_shapes():
    model = TwoLayer()
    state = {**model.state_dict(), "out.weight": np.zeros((4, 2))}
    with pytest.raises(mg.ShapeError, match=r"out\.weight.*\(2, 4\).*\(4, 2\)"):
        model.load_state_dict(state)


def test_save_load_npz_round_trip(tmp_path):
    source, target = TwoLayer(seed=3), TwoLayer(seed=4)
    path = tmp_path / "model.npz"
    source.save(path)
    with np.load(path) as archive:  # a plain .npz any NumPy user can open
        assert sorted(archive.files) == sorted(TWO_LAYER_NAMES)
        np.testing.assert_array_equal(archive["out.weight"], source.out.weight.data)
    target.load(path)
    for (_, p), (_, q) in zip(source.named_parameters(), target.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_refuses_pickled_object_arrays(tmp_path):
    model = Linear(2, 1, init="normal", seed=0)
    before = model.state_dict()
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.array([[{"pickled": 1}, None]], dtype=object), bias=np.zeros(1))
    with pytest.raises(ValueError, match="allow_pickle"):
        model.load(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# ---------------------------------------------------------------------------- Linear


def test_linear_starts_from_zeros_by_default():
    layer = Linear(3, 2)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert not layer.weight.data.any() and not layer.bias.data.any()
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert Linear(4).weight.shape == (1, 4)  # out_features defaults to 1


def test_linear_normal_init_is_reproducible_from_the_seed():
    a, b, c = (Linear(5, 3, init="normal", seed=s) for s in (11, 11, 12))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    assert not a.bias.data.any()  # only W is drawn


def test_linear_normal_init_has_variance_one_over_in_features():
    w = Linear(400, 300, init="normal", seed=0).weight.data
    # N(0, 1/400): std 0.05; with 120,000 draws the sample std is within ~0.2 % of it,
    # and the mean within 0.05/√120000 ≈ 1.4e-4 of 0.
    assert abs(w.std() - 0.05) < 0.05 * 0.01
    assert abs(w.mean()) < 1e-3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"in_features": 0}, "in_features must be a positive integer"),
        ({"in_features": 2.0}, "in_features must be a positive integer"),
        ({"in_features": True}, "in_features must be a positive integer"),
        ({"in_features": 2, "out_features": -1}, "out_features must be a positive integer"),
        ({"in_features": 2, "init": "xavier"}, "init must be 'zeros' or 'normal'"),
    ],
)
def test_linear_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Linear(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.sampled_from([(), (1,), (5,), (2, 3)]),
    in_features=st.integers(1, 4),
    out_features=st.integers(1, 4),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_linear_forward_equals_x_wt_plus_b(batch, in_features, out_features, bias, seed):
    layer = Linear(in_features, out_features, bias=bias, init="normal", seed=seed)
    if bias:
        layer.bias.data[:] = np.random.default_rng(seed + 1).normal(size=out_features)
    x = np.random.default_rng(seed + 2).normal(size=(*batch, in_features))
    expected = x @ layer.weight.data.T + (layer.bias.data if bias else 0.0)
    out = layer(x)
    assert out.shape == (*batch, out_features)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_linear_without_bias():
    layer = Linear(3, 2, bias=False, init="normal", seed=0)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(layer(x).numpy(), x @ layer.weight.data.T, rtol=1e-12)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((2, 1)) * x.sum(0))


@pytest.mark.parametrize("shape", [(2, 4), (4,), (3, 1)])
def test_linear_wrong_number_of_features_names_both(shape):
    layer = Linear(3, 2)
    with pytest.raises(mg.ShapeError) as info:
        layer(np.ones(shape))
    message = str(info.value)
    assert "3 features" in message  # what the layer expects
    assert str(shape) in message  # what it got


def test_linear_gradients_by_hand():
    # y = x·Wᵀ + b with x = [[1, 2]], W = [[3, 4]], b = [5]: y = 3 + 8 + 5 = 16.
    # L = y² = 256, ∂L/∂y = 2y = 32, so ∂L/∂W = 32·x = [[32, 64]], ∂L/∂b = [32],
    # ∂L/∂x = 32·W = [[96, 128]].
    layer = Linear(2, 1)
    layer.load_state_dict({"weight": [[3.0, 4.0]], "bias": [5.0]})
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    loss = (layer(x) ** 2).sum()
    assert loss.item() == 256.0
    loss.backward()
    assert layer.weight.grad.tolist() == [[32.0, 64.0]]
    assert layer.bias.grad.tolist() == [32.0]
    assert x.grad.tolist() == [[96.0, 128.0]]


@pytest.mark.parametrize(
    "batch, in_features, out_features, bias",
    [((7,), 3, 2, True), ((7,), 3, 1, False), ((), 4, 3, True), ((2, 5), 3, 4, True)],
)
def test_linear_gradients_match_torch(batch, in_features, out_features, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = Linear(in_features, out_features, bias=bias, init="normal", seed=1)
    if bias:
        layer.bias.data[:] = rng.normal(size=out_features)
    x0 = rng.normal(size=(*batch, in_features))
    target = rng.normal(size=(*batch, out_features))

    ref = torch.nn.Linear(in_features, out_features, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.data))
        if bias:
            ref.bias.copy_(torch.from_numpy(layer.bias.data))
    xt = torch.tensor(x0, requires_grad=True)
    loss_t = ((ref(xt) - torch.from_numpy(target)) ** 2).mean()
    loss_t.backward()

    x = mg.tensor(x0, requires_grad=True)
    loss = ((layer(x) - mg.Tensor(target)) ** 2).mean()
    loss.backward()

    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    if bias:
        np.testing.assert_allclose(layer.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------- LinearRegression


def test_linear_regression_parameters_and_prediction_shape():
    model = LinearRegression(3)
    assert [(n, p.shape) for n, p in model.named_parameters()] == [("weight", (3,)), ("bias", ())]
    assert model(np.ones((5, 3))).shape == (5,)  # (N,), not (N, 1)
    assert model.w.tolist() == [0.0, 0.0, 0.0] and model.b == 0.0


def test_linear_regression_forward_is_xw_plus_b():
    model = LinearRegression(2)
    model.load_state_dict({"weight": [2.0, -1.0], "bias": 0.5})
    X = np.array([[1.0, 1.0], [3.0, 4.0], [0.0, -2.0]])
    # by hand: 2·1 − 1 + 0.5 = 1.5;  6 − 4 + 0.5 = 2.5;  0 + 2 + 0.5 = 2.5
    assert model(X).tolist() == [1.5, 2.5, 2.5]
    np.testing.assert_array_equal(model(X).numpy(), mg.formulas.predict(X, model.w, model.b))


def test_linear_regression_normal_init_matches_linear():
    model = LinearRegression(4, init="normal", seed=9)
    np.testing.assert_array_equal(model.w, Linear(4, 1, init="normal", seed=9).weight.data[0])
    assert model.b == 0.0


def test_linear_regression_predict_returns_an_ndarray_without_recording():
    seen = []

    class Spy(LinearRegression):
        def forward(self, x):
            out = super().forward(x)
            seen.append((mg.is_grad_enabled(), out.requires_grad, out.is_leaf))
            return out

    model = Spy(2)
    model.load_state_dict({"weight": [1.0, 2.0], "bias": 3.0})
    pred = model.predict([[1.0, 1.0], [0.0, 2.0]])
    assert type(pred) is np.ndarray and pred.tolist() == [6.0, 7.0]
    assert seen == [(False, False, True)]  # no graph was recorded
    assert mg.is_grad_enabled()  # and grad mode is restored afterwards
    model(np.ones((1, 2)))
    assert seen[-1] == (True, True, False)  # an ordinary call does record


def test_linear_regression_w_and_b_are_copies():
    model = LinearRegression(2)
    model.load_state_dict({"weight": [1.0, 2.0], "bias": 3.0})
    w = model.w
    w[:] = 0.0
    assert model.w.tolist() == [1.0, 2.0]
    assert type(model.b) is float and model.b == 3.0


def test_linear_regression_wrong_features_names_both():
    with pytest.raises(mg.ShapeError, match=re.escape("expects inputs with 3 features")) as info:
        LinearRegression(3).predict(np.ones((4, 2)))
    assert "(4, 2)" in str(info.value)
