"""Tests for minigrad.nn's containers: Sequential, ModuleList and ModuleDict (indexing,
len, iteration, append and friends; parameters, names and state dicts seen through them),
against list/dict behaviour and torch.nn's containers."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import Linear, Module, ModuleDict, ModuleList, Sequential, Tanh


def mlp(seed: int = 0) -> Sequential:
    return Sequential(Linear(2, 3, seed=seed), Tanh(), Linear(3, 1, seed=seed + 1))


# ---------------------------------------------------------------------------- Sequential


def test_sequential_applies_its_modules_in_order():
    model = mlp()
    x = np.linspace(-1, 1, 8).reshape(4, 2)
    first, last = model[0], model[2]
    hidden = np.tanh(x @ first.weight.data.T + first.bias.data)
    expected = hidden @ last.weight.data.T + last.bias.data
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-12)
    assert Sequential()(x) is x  # empty: the input itself


def test_sequential_indexing_len_iteration():
    a, t, b = Linear(2, 3), Tanh(), Linear(3, 1)
    model = Sequential(a, t, b)
    assert len(model) == 3
    assert list(model) == [a, t, b]
    assert model[0] is a and model[-1] is b and model[-3] is a
    head = model[:2]
    assert type(head) is Sequential and list(head) == [a, t]
    assert list(model[::2]) == [a, b]
    assert [n for n, _ in model[1:].named_parameters()] == ["2.weight", "2.bias"]  # names kept
    for bad in (3, -4):
        with pytest.raises(IndexError, match=f"index {bad} is out of range for Sequential of 3"):
            model[bad]
    with pytest.raises(TypeError, match="indices must be integers or slices, got str"):
        model["0"]


def test_sequential_append_setitem_delitem_insert():
    model = Sequential(Linear(2, 2))
    extra = Tanh()
    assert model.append(extra) is model
    assert len(model) == 2 and model[1] is extra
    replacement = Linear(2, 2)
    model[0] = replacement
    assert model[0] is replacement
    model.insert(0, Tanh())
    assert [type(m).__name__ for m in model] == ["Tanh", "Linear", "Tanh"]
    assert [n for n, _ in model.named_parameters()] == ["1.weight", "1.bias"]
    del model[0]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]  # renumbered
    del model[1:]
    assert len(model) == 1


def test_sequential_with_named_modules():
    model = Sequential(
        OrderedDict([("hidden", Linear(2, 3)), ("act", Tanh()), ("out", Linear(3, 1))])
    )
    names = [n for n, _ in model.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert type(model[1]) is Tanh
    with pytest.raises(KeyError, match=r"no '\.'"):
        Sequential({"a.b": Tanh()})


def test_containers_refuse_non_modules():
    with pytest.raises(TypeError, match="Sequential holds Modules, got ufunc at index 1"):
        Sequential(Linear(2, 2), np.tanh)
    with pytest.raises(TypeError, match="ModuleList holds Modules, got Parameter at index 0"):
        ModuleList([mg.nn.Parameter(1.0)])
    with pytest.raises(TypeError, match="ModuleDict holds Modules, got int under 'a'"):
        ModuleDict({"a": 1})
    with pytest.raises(TypeError, match="Sequential holds Modules, got str at index 1"):
        Sequential(Tanh()).append("relu")


def test_sequential_names_shapes_and_outputs_match_torch():
    torch = pytest.importorskip("torch")
    ours = mlp(seed=3)
    ref = torch.nn.Sequential(
        torch.nn.Linear(2, 3, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(3, 1, dtype=torch.float64),
    )
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 2))
    loss = (ours(x) ** 2).mean()
    loss_t = (ref(torch.from_numpy(x)) ** 2).mean()
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-13)
    for (name, p), (name_t, q) in zip(ours.named_parameters(), ref.named_parameters(), strict=True):
        assert name == name_t
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, err_msg=name)


# ---------------------------------------------------------------------------- ModuleList


class Tower(Module):
    def __init__(self, depth: int) -> None:
        self.layers = ModuleList(Linear(2, 2, seed=i) for i in range(depth))
        self.head = Linear(2, 1, seed=99)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).tanh()
        return self.head(x)


def test_module_list_parameters_names_and_state_dict_see_through():
    model = Tower(3)
    names = [n for n, _ in model.named_parameters()]
    assert names == [
        *(f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")),
        "head.weight",
        "head.bias",
    ]
    assert len(model.parameters()) == 8
    assert model.parameters()[2] is model.layers[1].weight
    state = model.state_dict()
    assert list(state) == names
    other = Tower(3)
    other.layers[0].weight.data[:] = 0.0
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.layers[0].weight.data, model.layers[0].weight.data)
    model.eval()
    assert not model.layers.training and not model.layers[2].training
    model(np.ones((1, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_module_list_behaves_like_a_list():
    items = [Linear(1, 1), Tanh(), Linear(1, 1)]
    modules = ModuleList(items[:1])
    assert modules.extend(items[1:]) is modules
    assert len(modules) == 3 and list(modules) == items
    assert modules[-1] is items[2]
    sliced = modules[1:]
    assert type(sliced) is ModuleList and list(sliced) == items[1:]
    assert [n for n, _ in sliced.named_parameters()] == ["1.weight", "1.bias"]  # renumbered
    del modules[0]
    assert [n for n, _ in modules.named_parameters()] == ["1.weight", "1.bias"]
    assert ModuleList().parameters() == []
    with pytest.raises(NotImplementedError, match="ModuleList must define forward"):
        modules(1.0)


def test_module_list_matches_torch_names():
    torch = pytest.importorskip("torch")

    class TorchTower(torch.nn.Module):
        def __init__(self, depth):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(2, 2) for _ in range(depth))
            self.head = torch.nn.Linear(2, 1)

    assert list(Tower(3).state_dict()) == list(TorchTower(3).state_dict())
    # (the repr differs on purpose: PyTorch folds equal neighbours into "(0-1): 2 x Linear")


# ---------------------------------------------------------------------------- ModuleDict


def test_module_dict_behaves_like_a_dict():
    a, b = Linear(2, 1), Linear(2, 1)
    heads = ModuleDict({"a": a})
    heads["b"] = b
    assert len(heads) == 2 and list(heads) == ["a", "b"] and "a" in heads and "z" not in heads
    assert heads.keys() == ["a", "b"] and heads.values() == [a, b]
    assert heads.items() == [("a", a), ("b", b)]
    assert heads["b"] is b
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert heads.pop("a") is a and list(heads) == ["b"]
    heads.update([("c", Tanh())])
    del heads["b"]
    assert list(heads) == ["c"]
    with pytest.raises(KeyError, match=r"ModuleDict has no key 'z'; keys: \['c'\]"):
        heads["z"]
    with pytest.raises(TypeError, match="keys must be strings, got int"):
        heads[1] = Tanh()
    with pytest.raises(KeyError, match="non-empty"):
        heads[""] = Tanh()
    with pytest.raises(TypeError, match=r"\(key, module\) pairs"):
        heads.update([Tanh()])


def test_module_dict_keys_that_are_method_names_are_just_keys():
    heads = ModuleDict({"items": Linear(1, 1), "training": Linear(1, 1)})
    assert heads.training is True and callable(heads.items)
    assert next(heads.named_parameters())[0] == "items.weight"


def test_module_dict_state_dict_matches_torch():
    torch = pytest.importorskip("torch")
    ours = ModuleDict({"mean": Linear(3, 1), "log_scale": Linear(3, 1, bias=False)})
    ref = torch.nn.ModuleDict(
        {"mean": torch.nn.Linear(3, 1), "log_scale": torch.nn.Linear(3, 1, bias=False)}
    )
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_containers_nest():
    model = Sequential(ModuleDict({"enc": Sequential(Linear(2, 2), Tanh())}), Linear(2, 1))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.enc.0.weight", "0.enc.0.bias", "1.weight", "1.bias"]
    model.eval()
    assert not model[0]["enc"][1].training
