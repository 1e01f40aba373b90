"""Tests for minigrad.nn: Parameter, Module (parameter walking, cycles, train/eval, state
dicts, .npz files), Linear (initialisation) and LinearRegression, with NumPy and PyTorch as
the independent references."""

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


# PyTorch's order: a module's own parameters first, then its sub-modules' (checked against
# torch.nn below)
TWO_LAYER_NAMES = ["scale", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]


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


def test_named_parameters_walks_own_parameters_then_sub_modules():
    model = TwoLayer()
    named = list(model.named_parameters())
    assert [name for name, _ in named] == TWO_LAYER_NAMES
    assert named[0][1] is model.scale
    assert named[1][1] is model.hidden.weight
    assert named[4][1] is model.out.bias
    assert [p.shape for _, p in named] == [(), (4, 3), (4,), (2, 4), (2,)]
    assert model.parameters() == [p for _, p in named]


def test_parameters_list_a_shared_module_once_and_state_dict_under_each_name():
    model = Nested()
    names = [name for name, _ in model.named_parameters()]
    # block and alias are the same module: listed once, under its first name (PyTorch's memo)
    assert names == [*("block." + n for n in TWO_LAYER_NAMES), "head.weight"]
    params = model.parameters()
    assert len(params) == 6 and len({id(p) for p in params}) == 6
    assert params[1] is model.block.hidden.weight
    assert params[-1] is model.head.weight
    # state_dict keeps every name, as PyTorch's does (both names load the same values)
    assert list(model.state_dict()) == [
        *("block." + n for n in TWO_LAYER_NAMES),
        *("alias." + n for n in TWO_LAYER_NAMES),
        "head.weight",  # bias=False: no head.bias
    ]
    everything = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    assert everything == list(model.state_dict())


def test_named_parameters_prefix_and_recurse():
    names = [name for name, _ in TwoLayer().named_parameters(prefix="net")]
    assert names == ["net." + n for n in TWO_LAYER_NAMES]
    assert [name for name, _ in TwoLayer().named_parameters(recurse=False)] == ["scale"]
    assert TwoLayer().parameters(recurse=False)[0].shape == ()


def test_names_and_order_match_torch_nn():
    torch = pytest.importorskip("torch")

    class TorchTwoLayer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(3, 4)
            self.out = torch.nn.Linear(4, 2)
            self.scale = torch.nn.Parameter(torch.tensor(2.0))

    class TorchNested(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = TorchTwoLayer()
            self.alias = self.block
            self.head = torch.nn.Linear(2, 1, bias=False)

    ours, theirs = Nested(), TorchNested()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]


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


def test_repr_shows_the_tree_of_modules_as_pytorch_does():
    text = repr(Nested())
    assert text.splitlines() == [
        "Nested(",
        "  (block): TwoLayer(",
        "    (hidden): Linear(in_features=3, out_features=4, bias=True)",
        "    (out): Linear(in_features=4, out_features=2, bias=True)",
        "  )",
        "  (alias): TwoLayer(",
        "    (hidden): Linear(in_features=3, out_features=4, bias=True)",
        "    (out): Linear(in_features=4, out_features=2, bias=True)",
        "  )",
        "  (head): Linear(in_features=2, out_features=1, bias=False)",
        ")",
    ]
    assert repr(LinearRegression(3)) == "LinearRegression(n_features=3)"
    assert repr(mg.nn.Tanh()) == "Tanh()"
    torch = pytest.importorskip("torch")
    seq = mg.nn.Sequential(Linear(3, 4), mg.nn.Tanh(), mg.nn.Flatten(), mg.nn.Identity())
    ref = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Identity()
    )
    assert repr(seq) == repr(ref)


class Parent(Module):
    """A parent whose child refers back to it (a cycle in the module graph)."""

    def __init__(self) -> None:
        self.child = Linear(2, 2, seed=0)
        self.child.parent = self  # the back reference
        self.gain = Parameter(1.0)


def test_a_child_referring_to_its_parent_does_not_recurse_forever():
    model = Parent()
    assert [n for n, _ in model.named_parameters()] == ["gain", "child.weight", "child.bias"]
    assert len(model.parameters()) == 3
    assert list(model.state_dict()) == ["gain", "child.weight", "child.bias"]
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "child"]
    assert [n for n, _ in model.child.named_modules()] == ["", "parent"]  # from the child
    assert model.child.parameters()[0] is model.child.weight  # its own first
    assert repr(model).splitlines() == [
        "Parent(",
        "  (child): Linear(",
        "    in_features=2, out_features=2, bias=True",
        "    (parent): <cycle: Parent, an enclosing module>",
        "  )",
        ")",
    ]
    model.eval()
    assert not model.training and not model.child.training
    model.zero_grad()


def test_modules_and_children():
    model = Nested()
    assert list(model.children()) == [model.block, model.head]  # alias is block: once
    assert list(model.modules()) == [model, model.block, model.block.hidden, model.block.out,
                                     model.head]  # fmt: skip
    names = [n for n, _ in model.named_modules(prefix="net")]
    assert names == ["net", "net.block", "net.block.hidden", "net.block.out", "net.head"]


def test_train_and_eval_set_training_everywhere_and_return_the_module():
    model = Nested()
    assert all(m.training for m in model.modules())  # training by default
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model.block.hidden.training
    with pytest.raises(TypeError, match="train\\(mode\\) expects a bool, got 'no'"):
        model.train("no")


@pytest.mark.parametrize(
    "value, kind, fix",
    [
        (lambda: [Linear(2, 2), Linear(2, 2)], "list holding Linear", "ModuleList"),
        (lambda: (Linear(2, 2), mg.nn.Tanh()), "tuple holding Linear, Tanh", "ModuleList"),
        (lambda: {"a": Linear(2, 2)}, "dict holding Linear", "ModuleDict"),
        (lambda: [Parameter(1.0)], "list holding Parameter", "attribute of its own"),
    ],
)
def test_plain_containers_of_modules_are_refused_with_a_suggestion(value, kind, fix):
    class Holder(Module):
        pass

    holder = Holder()
    with pytest.raises(TypeError, match=f"Holder.layers is a plain {kind}.*{fix}"):
        holder.layers = value()
    # filled after assignment: caught when the parameters are walked
    holder.later = []
    items = value()
    holder.later.extend(items.values() if isinstance(items, dict) else items)
    with pytest.raises(TypeError, match=r"Holder\.later is a plain list holding"):
        holder.parameters()


def test_plain_containers_without_modules_are_fine():
    class Holder(Module):
        pass

    holder = Holder()
    holder.sizes = [1, 2, 3]
    holder.config = {"lr": 0.1}
    holder.pair = (np.ones(2), "x")
    assert holder.parameters() == [] and holder.state_dict() == {}


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


@pytest.mark.parametrize("filename", ["model.weights", "model", "model.npz"])
def test_save_writes_exactly_the_path_given(tmp_path, filename):
    source, target = TwoLayer(seed=3), TwoLayer(seed=4)
    path = tmp_path / filename
    source.save(path)
    assert [p.name for p in tmp_path.iterdir()] == [filename]  # no ".npz" appended
    target.load(path)
    target.load(str(path))
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


def uniform_ks_distance(values: np.ndarray, lo: float, hi: float) -> float:
    """Kolmogorov–Smirnov distance between the sample and U(lo, hi)."""
    x = np.sort(values.ravel())
    n = x.size
    cdf = (x - lo) / (hi - lo)
    return max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))


def test_linear_default_init_is_pytorchs_uniform():
    layer = Linear(400, 300, seed=0)
    w, b = layer.weight.data, layer.bias.data
    bound = 1 / np.sqrt(400)  # 0.05
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # 120,000 draws: the KS distance to U(−0.05, 0.05) is below 1.63/√n ≈ 0.0047 with
    # 99 % probability (a bound of √(6/in), or a normal, would be far off)
    assert uniform_ks_distance(w, -bound, bound) < 1.63 / np.sqrt(w.size)
    assert uniform_ks_distance(b, -bound, bound) < 1.63 / np.sqrt(b.size)  # 300 draws: 0.094
    assert np.abs(w).max() > 0.999 * bound  # it does reach out to the bound


def test_linear_default_init_matches_torch_distribution():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.Linear(400, 300, dtype=torch.float64)
    ours = Linear(400, 300, seed=0)
    for name in ("weight", "bias"):
        a, t = getattr(ours, name).data, getattr(ref, name).detach().numpy()
        assert np.abs(a).max() <= 0.05 and np.abs(t).max() <= 0.05
        # same distribution: the variance of U(−c, c) is c²/3 = 8.3e-4 for both, and the
        # two-sample KS distance is small (weights: 120,000 draws each)
        np.testing.assert_allclose(a.var(), t.var(), rtol=0.02 if name == "weight" else 0.3)
    both = np.sort(np.concatenate([ours.weight.data.ravel(), ref.weight.detach().numpy().ravel()]))
    ecdf = lambda x: np.searchsorted(np.sort(x.ravel()), both, side="right") / x.size  # noqa: E731
    distance = np.abs(ecdf(ours.weight.data) - ecdf(ref.weight.detach().numpy())).max()
    assert distance < 1.63 * np.sqrt(2 / 120_000)


def test_linear_zeros_init():
    layer = Linear(3, 2, init="zeros")
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert not layer.weight.data.any() and not layer.bias.data.any()
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert Linear(4, init="zeros").weight.shape == (1, 4)  # out_features defaults to 1


def test_manual_seed_makes_the_default_init_repeat():
    mg.manual_seed(5)
    first, second = Linear(3, 2), Linear(3, 2)
    mg.manual_seed(5)
    again = Linear(3, 2)
    np.testing.assert_array_equal(first.weight.data, again.weight.data)
    np.testing.assert_array_equal(first.bias.data, again.bias.data)
    assert not np.array_equal(first.weight.data, second.weight.data)  # the stream moves on
    assert mg.initial_seed() == 5


def test_seed_and_rng_leave_the_default_generator_alone():
    mg.manual_seed(0)
    expected = mg.rand(4).tolist()
    mg.manual_seed(0)
    a = Linear(3, 2, seed=1)
    b = Linear(3, 2, rng=np.random.default_rng(1))
    assert mg.rand(4).tolist() == expected  # neither layer drew from the default generator
    np.testing.assert_array_equal(a.weight.data, b.weight.data)  # seed=s is default_rng(s)
    np.testing.assert_array_equal(a.weight.data, Linear(3, 2, seed=1).weight.data)


def test_rng_is_shared_and_advanced():
    rng = np.random.default_rng(3)
    a, b = Linear(2, 2, rng=rng), Linear(2, 2, rng=rng)
    assert not np.array_equal(a.weight.data, b.weight.data)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(Linear(2, 2, rng=rng).weight.data, a.weight.data)
    # W is drawn first (out × in values), then b, from the one generator
    draws = np.random.default_rng(3).uniform(-(2**-0.5), 2**-0.5, 6)
    np.testing.assert_allclose(a.weight.data.ravel(), draws[:4], rtol=1e-15)
    np.testing.assert_allclose(a.bias.data, draws[4:], rtol=1e-15)


def test_init_callable_draws_the_weight_from_the_generator():
    calls = []

    def init(shape, rng):
        calls.append((shape, rng))
        return np.full(shape, 0.25)

    rng = np.random.default_rng(0)
    layer = Linear(3, 2, init=init, rng=rng)
    assert calls == [((2, 3), rng)]
    assert layer.weight.tolist() == [[0.25] * 3] * 2
    assert layer.bias.tolist() == [0.0, 0.0]
    seeded = Linear(3, 2, init=lambda shape, rng: rng.normal(size=shape), seed=4)
    np.testing.assert_array_equal(seeded.weight.data, np.random.default_rng(4).normal(size=(2, 3)))


@pytest.mark.parametrize(
    "init, error, match",
    [
        (
            lambda shape, rng: np.zeros(3),
            mg.ShapeError,
            r"init returned shape \(3,\), expected \(2, 3\)",
        ),
        (lambda shape, rng: np.full(shape, np.nan), ValueError, "non-finite"),
        ("xavier", ValueError, "init must be 'uniform', 'normal', 'zeros' or a callable"),
        (np.zeros((2, 3)), ValueError, "got array"),
        (None, ValueError, "got None"),
    ],
)
def test_bad_init_is_named(init, error, match):
    with pytest.raises(error, match=match):
        Linear(3, 2, init=init)


def test_seed_and_rng_together_are_refused():
    with pytest.raises(ValueError, match="seed= or rng=, not both"):
        Linear(3, 2, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        Linear(3, 2, rng=1)
    with pytest.raises(ValueError, match="a seed must be an integer ≥ 0, got -1"):
        Linear(3, 2, seed=-1)


def test_linear_float32_when_asked():
    layer = Linear(3, 2, seed=0, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    ref = Linear(3, 2, seed=0)  # the same draws, rounded
    np.testing.assert_array_equal(layer.weight.data, ref.weight.data.astype(np.float32))
    assert layer(np.ones((4, 3), np.float32)).dtype == np.float32
    assert Linear(3, 2).weight.dtype == np.float64
    with pytest.raises(TypeError, match="dtype must be a floating-point dtype, got int64"):
        Linear(3, 2, dtype=np.int64)


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


def test_linear_regression_starts_from_zero_and_takes_any_init():
    mg.manual_seed(0)
    assert LinearRegression(3).w.tolist() == [0.0] * 3 and LinearRegression(3).b == 0.0
    model, ref = LinearRegression(4, init="uniform", seed=2), Linear(4, 1, seed=2)
    np.testing.assert_array_equal(model.w, ref.weight.data[0])
    assert model.b == ref.bias.item() != 0.0
    assert (model.weight.shape, model.bias.shape) == ((4,), ())
    model32 = LinearRegression(2, dtype="float32")
    assert model32.weight.dtype == model32.bias.dtype == np.float32


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
