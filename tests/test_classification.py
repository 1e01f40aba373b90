"""Classification: bce, bce_with_logits, cross_entropy, Softmax/LogSoftmax layers.

Each loss is held to its hand-derived formula in :mod:`minigrad.formulas` (plain NumPy),
to finite differences (gradcheck, gradgradcheck) and to PyTorch when it is installed, and
must stay finite for logits of any size.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import formulas
from minigrad import testing as mt


@st.composite
def logits_and_labels(draw: st.DrawFn, classes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 6))
    if classes:
        c = draw(st.integers(2, 4))
        z = draw(mt.arrays((n, c), min_value=-8.0, max_value=8.0))
        return z, np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    z = draw(mt.arrays((n,), min_value=-8.0, max_value=8.0))
    return z, np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))


# --------------------------------------------------------------------------- values and rules


@settings(max_examples=25)
@given(logits_and_labels())
def test_bce_with_logits_matches_its_formula(case):
    z, y = case
    logits = mg.tensor(z, requires_grad=True)
    loss = mg.losses.bce_with_logits(logits, y)
    assert loss.item() == pytest.approx(formulas.bce_with_logits_value(z, y), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(
        logits.grad.numpy(), formulas.bce_with_logits_gradient(z, y), rtol=1e-10, atol=1e-15
    )


@settings(max_examples=25)
@given(logits_and_labels(classes=True))
def test_cross_entropy_matches_its_formula(case):
    z, labels = case
    logits = mg.tensor(z, requires_grad=True)
    loss = mg.losses.cross_entropy(logits, labels)
    assert loss.item() == pytest.approx(formulas.cross_entropy_value(z, labels), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(
        logits.grad.numpy(), formulas.cross_entropy_gradient(z, labels), rtol=1e-10, atol=1e-15
    )


@settings(max_examples=25)
@given(logits_and_labels())
def test_bce_of_probabilities_matches_its_formula(case):
    z, y = case
    p0 = np.clip(formulas.sigmoid(z), 0.01, 0.99)  # inside the clip: the plain formula holds
    p = mg.tensor(p0, requires_grad=True)
    loss = mg.losses.bce(p, y)
    expected = -np.mean(y * np.log(p0) + (1 - y) * np.log(1 - p0))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), formulas.bce_gradient(p0, y), rtol=1e-10)


def test_bce_of_sigmoid_equals_bce_with_logits():
    z = np.array([-3.0, -0.5, 0.0, 2.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    a = mg.losses.bce(mg.tensor(z).sigmoid(), y).item()
    b = mg.losses.bce_with_logits(mg.tensor(z), y).item()
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        lambda z, y: mg.losses.bce_with_logits(z, y),
        lambda z, y: mg.losses.bce(z.sigmoid() * 0.9 + 0.05, y),
        lambda z, y: mg.losses.cross_entropy(z.reshape(2, 2), np.array([1, 0])),
        lambda z, y: mg.losses.cross_entropy(z.reshape(2, 2), np.array([[0.3, 0.7], [1.0, 0.0]])),
    ],
)
def test_classification_losses_pass_gradcheck_and_gradgradcheck(loss):
    z = mg.tensor([0.3, -1.2, 2.0, 0.7], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    assert mg.gradcheck(lambda t: loss(t, y), z)
    assert mg.gradgradcheck(lambda t: loss(t, y), z)


# --------------------------------------------------------------------------- extremes


def test_logit_losses_are_finite_and_exact_at_1000():
    z = mg.tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = mg.losses.bce_with_logits(z, y)  # wrong by 1000 twice, right twice: 2000/4
    assert loss.item() == 500.0
    loss.backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0.25, -0.25, 0.0, 0.0])  # (σ − y)/N
    logits = mg.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    ce = mg.losses.cross_entropy(logits, [1, 1])  # first wrong by 2000, second right
    assert ce.item() == 1000.0
    ce.backward()
    np.testing.assert_array_equal(logits.grad.numpy(), [[0.5, -0.5], [0.0, 0.0]])


def test_bce_clips_probabilities_with_a_documented_eps():
    p = mg.tensor([0.0, 1.0, 0.5], requires_grad=True)
    loss = mg.losses.bce(p, [1.0, 0.0, 1.0])
    eps = mg.losses.BCE_EPS
    assert loss.item() == pytest.approx(-(2 * np.log(eps) + np.log(0.5)) / 3, rel=1e-9)
    loss.backward()
    assert p.grad.numpy()[0] == 0.0 and p.grad.numpy()[1] == 0.0  # clipped: no gradient
    assert p.grad.numpy()[2] == pytest.approx(-2 / 3)  # −1/(N·p) at p = ½


# --------------------------------------------------------------------------- PyTorch


@settings(max_examples=15)
@given(logits_and_labels(classes=True), st.booleans())
def test_cross_entropy_matches_torch(case, soft):
    torch = pytest.importorskip("torch")
    z, labels = case
    target = np.eye(z.shape[1])[labels] * 0.8 + 0.2 / z.shape[1] if soft else labels
    ours = mg.tensor(z, requires_grad=True)
    theirs = torch.tensor(z, requires_grad=True)
    a = mg.losses.cross_entropy(ours, target)
    b = torch.nn.functional.cross_entropy(theirs, torch.tensor(target))
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    a.backward()
    b.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-15)


@settings(max_examples=15)
@given(logits_and_labels())
def test_binary_losses_match_torch(case):
    torch = pytest.importorskip("torch")
    z, y = case
    ours, theirs = mg.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    a = mg.losses.bce_with_logits(ours, y)
    b = torch.nn.functional.binary_cross_entropy_with_logits(theirs, torch.tensor(y))
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    a.backward()
    b.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-15)
    p0 = np.clip(formulas.sigmoid(z), 0.01, 0.99)
    ours, theirs = mg.tensor(p0, requires_grad=True), torch.tensor(p0, requires_grad=True)
    a = mg.losses.bce(ours, y)
    b = torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(y))
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    a.backward()
    b.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_layers_match_torch(axis):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    for ours, theirs in (
        (mg.nn.Softmax, torch.nn.Softmax),
        (mg.nn.LogSoftmax, torch.nn.LogSoftmax),
    ):
        t = mg.tensor(x, requires_grad=True)
        r = torch.tensor(x, requires_grad=True)
        a, b = ours(axis=axis)(t), theirs(dim=axis)(r)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)
        w = np.random.default_rng(1).standard_normal(x.shape)
        (a * w).sum().backward()
        (b * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-10, atol=1e-14)


# --------------------------------------------------------------------------- bad input


def test_cross_entropy_refuses_bad_targets_with_clear_messages():
    z = mg.tensor(np.zeros((3, 2)))
    with pytest.raises(mg.ShapeError, match=r"targets must be 3 class indices"):
        mg.losses.cross_entropy(z, [0, 1])
    with pytest.raises(ValueError, match=r"class index 2 is outside 0 … 1"):
        mg.losses.cross_entropy(z, [0, 1, 2])
    with pytest.raises(ValueError, match="integers"):
        mg.losses.cross_entropy(z, [0.0, 0.5, 1.0])
    with pytest.raises(mg.ShapeError, match=r"shape \(N, C\)"):
        mg.losses.cross_entropy(mg.tensor([1.0, 2.0]), [0])
    assert mg.losses.cross_entropy(z, np.array([0.0, 1.0, 1.0])).item() == pytest.approx(np.log(2))


def test_binary_losses_refuse_values_outside_0_1():
    with pytest.raises(ValueError, match="bce_with_logits instead"):
        mg.losses.bce(mg.tensor([2.5, 0.1]), [1.0, 0.0])
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        mg.losses.bce_with_logits(mg.tensor([2.5, 0.1]), [2.0, 0.0])
    with pytest.raises(mg.ShapeError):
        mg.losses.bce_with_logits(mg.tensor([[2.5], [0.1]]), [1.0, 0.0])


def test_losses_are_in_the_registry():
    for name in ("bce", "bce_with_logits", "cross_entropy"):
        assert mg.losses.get(name) is getattr(mg.losses, name)


def test_logistic_gradients_formula_matches_autograd():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((20, 3)), (rng.random(20) > 0.5).astype(float)
    w, b = np.array([0.5, -1.0, 0.25]), 0.3
    model = mg.nn.LinearRegression(3)
    with mg.no_grad():
        model.weight[...] = w
        model.bias[...] = b
    mg.losses.bce_with_logits(model(X), y).backward()
    dw, db = formulas.logistic_gradients(X, y, w, b)
    np.testing.assert_allclose(model.weight.grad.numpy(), dw, rtol=1e-12)
    assert model.bias.grad.item() == pytest.approx(db, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mg.losses.bce(mg.tensor([0.5, 0.2]), np.ones(3)),
         "bce: predictions have shape (2,) but targets have shape (3,); they must match"),
        (lambda: mg.losses.bce_with_logits(mg.tensor([0.5, 0.2]), np.ones(3)),
         "bce_with_logits: predictions have shape (2,) but targets have shape (3,); they must "
         "match"),
        (lambda: mg.losses.bce(mg.tensor([0.5, 1.5, 2.0]), np.array([1.0, 0.0, 1.0])),
         "bce: probabilities must lie in [0, 1], got 1.5; pass raw scores to "
         "bce_with_logits instead"),
        (lambda: mg.losses.bce(mg.tensor([0.5, 0.5]), np.array([1.0, -2.0])),
         "bce: targets must lie in [0, 1], got -2.0; targets are 0/1 labels or "
         "probabilities"),
        (lambda: mg.losses.bce_with_logits(mg.tensor([0.5, 0.5]), np.array([1.0, 3.0])),
         "bce_with_logits: targets must lie in [0, 1], got 3.0; targets are 0/1 "
         "labels or probabilities"),
        (lambda: mg.losses.cross_entropy(
            mg.tensor(np.zeros((2, 3))), np.array([[0.5, 0.5, 0.0], [1.5, -0.5, 0.0]])),
         "cross_entropy: target probabilities must lie in [0, 1], got 1.5"),
        (lambda: mg.losses.cross_entropy(mg.tensor(np.zeros((2, 3))), np.array([0, 1, 2])),
         "cross_entropy: logits have shape (2, 3), so targets must be 2 class indices of shape "
         "(2,) (or probabilities of shape (2, 3)), got shape (3,)"),
    ],
)  # fmt: skip
def test_classification_refusals_in_full(call, message):
    with pytest.raises(ValueError) as info:  # ShapeError is a ValueError
        call()
    assert str(info.value) == message


def test_fractional_class_indices_are_refused_by_name():
    with pytest.raises(ValueError) as info:
        mg.losses.cross_entropy(mg.tensor(np.zeros((2, 3))), np.array([0.5, 1.0]))
    assert str(info.value) == "class indices must be integers, got 0.5"


def test_probabilities_and_targets_of_exactly_0_and_1_are_accepted():
    """[0, 1] is closed: p = 0 or 1 and y = 0 or 1 are valid (the eps clip keeps the log
    finite): loss = −(1/N)·Σ[y·ln p + (1 − y)·ln(1 − p)] with p clipped to [eps, 1 − eps]."""
    eps = 1e-7
    loss = mg.losses.bce(mg.tensor([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0]))
    expected = -(np.log(eps) + np.log(eps) + np.log(0.5)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    soft = np.array([[0.0, 1.0, 0.0]])
    z = np.array([[1.0, 2.0, 3.0]])
    got = mg.losses.cross_entropy(mg.tensor(z), soft).item()
    assert got == pytest.approx(-(2.0 - np.log(np.exp(z).sum())), rel=1e-12)  # −log softmax₁


def test_cross_entropy_differentiates_soft_targets_given_as_tensors():
    """∂CE/∂y = −log softmax(z)/N for probability targets (as in PyTorch)."""
    z0 = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = mg.tensor([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]], requires_grad=True)
    mg.losses.cross_entropy(mg.tensor(z0), y).backward()
    log_softmax = z0 - np.log(np.exp(z0).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(y.grad.numpy(), -log_softmax / 2, rtol=1e-12)
