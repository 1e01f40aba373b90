"""Corners of the engine and the transforms that mutation testing found unpinned: which
rules a pruned backward runs, leaf accumulation (a .grad that itself requires grad, a
backward in one thread while another traces), grad()'s seed dtype and its identity case,
what a transform's gradient lets the caller do, how a compiled backward names gradients
and their partial sums, np.argmax/np.argmin through the NumPy adapters, class-label
checks, and sum_of_squares at its block boundaries.

Expected values are worked out by hand next to each assertion, or come from NumPy on plain
arrays or from PyTorch; never from minigrad's own output.
"""

from __future__ import annotations

import math
import re
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Op
from minigrad.tracing import TraceError

ADVICE = (
    " reads the values of a Tensor inside a function being traced by mg.jit: the compiled "
    "function would keep this call's values forever. Write it with minigrad ops (mg.where "
    "instead of if/else), make the argument static (static_argnums), or move the Python "
    "logic out of the jitted function."
)


# =========================================================================================
# pruning: a backward toward targets runs only the rules on a path to them
# =========================================================================================


def probed_mul(calls: list[int]) -> Op:
    """a·b whose two rules note that they ran."""

    def rule_a(g, out, a, b):
        calls.append(0)
        return g * b

    def rule_b(g, out, a, b):
        calls.append(1)
        return g * a

    return Op("probed_mul", np.multiply, (rule_a, rule_b))


def test_grad_toward_one_input_runs_no_rule_for_the_other():
    """autograd.grad(y, [w]) of y = Σ w·z runs w's rule only (z leads to no target)."""
    calls: list[int] = []
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    z = mg.tensor([3.0, 5.0], requires_grad=True)
    y = probed_mul(calls)(w, z).sum()
    (g,) = mg.autograd.grad(y, [w])
    np.testing.assert_array_equal(g.data, [3.0, 5.0])  # ∂Σwz/∂w = z
    assert calls == [0]
    calls.clear()
    (g,) = mg.autograd.grad(y, [z])
    np.testing.assert_array_equal(g.data, [1.0, 2.0])  # ∂Σwz/∂z = w
    assert calls == [1]


def test_a_transform_runs_no_rule_for_a_closed_over_tensor_when_not_composing():
    """mg.grad(f) w.r.t. x, with f closing over z under no_grad: z's rule never runs."""
    calls: list[int] = []
    op = probed_mul(calls)
    z = mg.tensor([2.0, -1.0], requires_grad=True)
    with mg.no_grad():
        g = mg.grad(lambda x: op(x, z).sum())(np.array([4.0, 7.0]))
    np.testing.assert_array_equal(g.data, [2.0, -1.0])  # ∂Σxz/∂x = z
    assert calls == [0]


def test_the_total_gradient_adds_every_path():
    """∂/∂x of x·sin x + eˣ + x² through all four uses: sin x + x cos x + eˣ + 2x."""
    x0 = np.array([0.3, -1.2, 2.0])
    x = mg.tensor(x0, requires_grad=True)
    (g,) = mg.autograd.grad((x * x.sin() + x.exp() + x * x).sum(), [x])
    expected = np.sin(x0) + x0 * np.cos(x0) + np.exp(x0) + 2 * x0
    np.testing.assert_allclose(g.data, expected, rtol=1e-15, atol=1e-15)


# =========================================================================================
# leaves: accumulation, and a .grad that is itself made to require grad
# =========================================================================================


def test_a_grad_made_to_require_grad_is_an_ordinary_leaf():
    """w.grad.requires_grad_() after backward(): a leaf a later grad() can walk past."""
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    gw = w.grad.requires_grad_()  # 2w = [2, -4], now a leaf of its own
    o = mg.tensor([3.0, 4.0], requires_grad=True)
    y = (gw * o).sum()
    (g,) = mg.autograd.grad(y, [o])
    np.testing.assert_array_equal(g.data, [2.0, -4.0])  # ∂Σ(2w)·o/∂o = 2w
    (g,) = mg.autograd.grad(y, [gw])
    np.testing.assert_array_equal(g.data, [3.0, 4.0])  # = o


def test_a_plain_backward_after_a_create_graph_one_leaves_an_ordinary_leaf():
    """backward(create_graph) then backward(): .grad = 2w + 2w, a leaf usable as above."""
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    (w * w).sum().backward()
    assert not w.grad.requires_grad
    np.testing.assert_array_equal(w.grad.data, [4.0, -8.0])  # 2w + 2w
    gw = w.grad.requires_grad_()
    o = mg.tensor([0.5, 2.0], requires_grad=True)
    (g,) = mg.autograd.grad((gw * o).sum(), [o])
    np.testing.assert_array_equal(g.data, [4.0, -8.0])


def test_backward_in_a_thread_while_another_traces_accumulates_in_place():
    """While thread A runs mg.jit, thread B's backward() is an ordinary one: .grad stays
    the same tensor, accumulated in place (as in PyTorch), and A's program is unchanged."""
    torch = pytest.importorskip("torch")
    inside, release = threading.Event(), threading.Event()

    def f(x):
        inside.set()
        assert release.wait(10)
        return x * 2

    results = {}
    worker = threading.Thread(target=lambda: results.setdefault("out", mg.jit(f)(np.ones(2))))
    worker.start()
    try:
        assert inside.wait(10)
        w = mg.tensor([1.0, -2.0], requires_grad=True)
        (w * w).sum().backward()  # 2w = [2, -4]
        first = w.grad
        (w * w * w).sum().backward()  # + 3w² = [3, 12]
        assert w.grad is first
        assert not w.grad.requires_grad
        np.testing.assert_array_equal(w.grad.data, [5.0, 8.0])
    finally:
        release.set()
        worker.join(10)
    np.testing.assert_array_equal(results["out"].data, [2.0, 2.0])
    # PyTorch keeps the same .grad tensor across backward passes too
    tw = torch.tensor([1.0, -2.0], requires_grad=True)
    (tw * tw).sum().backward()
    tfirst = tw.grad
    (tw * tw * tw).sum().backward()
    assert tw.grad is tfirst


# =========================================================================================
# autograd.grad: the default seed's dtype, and an output that is its own input
# =========================================================================================


def test_the_default_seed_has_the_outputs_dtype():
    """grad of a float32 scalar: the seed is float32, so every rule runs in float32
    (∂Σ x/a/b /∂x = (1/b)/a rounded twice in float32, as PyTorch computes it)."""
    torch = pytest.importorskip("torch")
    a, b = np.float32(1.7812083), np.float32(0.754089)
    x = mg.tensor(np.array([-0.3250308], np.float32), requires_grad=True)
    (g,) = mg.autograd.grad((x / a / b).sum(), [x])
    assert g.dtype == np.float32
    expected = (np.float32(1.0) / b) / a  # the float32 chain
    assert expected != np.float32(1.0 / np.float64(b) / np.float64(a))  # differs from f64
    np.testing.assert_array_equal(g.data, [expected])
    tx = torch.tensor([-0.3250308], dtype=torch.float32, requires_grad=True)
    (tg,) = torch.autograd.grad((tx / torch.tensor(a) / torch.tensor(b)).sum(), [tx])
    np.testing.assert_array_equal(g.data, tg.numpy())


def test_grad_of_an_input_with_respect_to_itself_is_grad_output():
    """autograd.grad(x, [x], v): v itself (create_graph) or v's memory, as in PyTorch."""
    torch = pytest.importorskip("torch")
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    v = mg.tensor([3.0, -4.0])
    (g,) = mg.autograd.grad(x, [x], grad_output=v, create_graph=True)
    assert g is v
    (g,) = mg.autograd.grad(x, [x], grad_output=v)
    assert np.shares_memory(g.data, v.data)
    np.testing.assert_array_equal(g.data, [3.0, -4.0])
    tx, tv = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, -4.0])
    (tg,) = torch.autograd.grad(tx, [tx], grad_outputs=tv)
    assert tg is tv


# =========================================================================================
# transforms: what the caller gets back
# =========================================================================================


@pytest.mark.parametrize("x", [2.0, np.float64(2.0), np.array(2.0)])
def test_a_transforms_gradient_can_be_updated_in_place(x):
    """mg.grad(identity)(x) = 1, a gradient the caller may change in place (g += 1 → 2),
    as with torch.func.grad."""
    torch = pytest.importorskip("torch")
    g = mg.grad(lambda t: t)(x)
    g += 1.0
    np.testing.assert_array_equal(g.data, 2.0)
    tg = torch.func.grad(lambda t: t)(torch.tensor(2.0))
    tg.add_(1.0)
    assert tg.item() == 2.0


# =========================================================================================
# how a compiled backward names gradients (mg.jit): d_x is all of ∂f/∂x
# =========================================================================================


def test_partial_sums_of_a_gradient_are_named_as_parts_and_the_total_d_x():
    """x used three times: each partial sum is d_x_part…, the last sum is d_x, returned."""
    fast = mg.jit(mg.grad(lambda x: (x * x.sin()).sum() + x.exp().sum()))
    x0 = np.array([1.0, 2.0])
    np.testing.assert_allclose(fast(x0).data, np.sin(x0) + x0 * np.cos(x0) + np.exp(x0), rtol=1e-15)
    source = fast.source
    sums = [
        line.split("=")[0].strip() for line in source.splitlines() if "its gradients add up" in line
    ]
    assert len(sums) == 2, source
    assert sums[0].startswith("d_x_part"), source
    assert sums[-1] == "d_x", source
    assert "return (d_x,)" in source, source


def test_a_cotangent_given_as_grad_output_is_named_as_the_outputs_gradient():
    """autograd.grad(y, [x], grad_output=v) in a compiled function: v is named d_<y>."""

    def f(x):
        y = x.sin()
        v = x.cos()
        (g,) = mg.autograd.grad(y, [x], grad_output=v)
        return y, g

    fast = mg.jit(f)
    x0 = np.array([1.0, 2.0])
    y, g = fast(mg.tensor(x0, requires_grad=True))
    np.testing.assert_allclose(y.data, np.sin(x0), rtol=1e-15)
    np.testing.assert_allclose(g.data, np.cos(x0) ** 2, rtol=1e-15)  # v·cos x
    source = fast.source
    (y_name,) = re.findall(r"(\w+) = np\.sin\(x\)", source)
    assert f"d_{y_name} = np.cos(x)" in source, source


# =========================================================================================
# np.argmax / np.argmin on Tensors (numpy_api adapters), and on_data's refusal text
# =========================================================================================

A = np.array([[3.0, 1.0, 4.0], [1.0, 5.0, 9.0], [2.0, 6.0, 5.0]])


@pytest.mark.parametrize("fn", [np.argmax, np.argmin])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"axis": 0},
        {"axis": 1},
        {"axis": -1},
        {"axis": 0, "keepdims": True},
        {"axis": 1, "keepdims": True},
        {"keepdims": True},
        {"keepdims": False},
    ],
)
def test_argmax_argmin_on_a_tensor_match_numpy(fn, kwargs):
    """np.argmax/argmin(t, axis, keepdims): NumPy's indices, shape and dtype."""
    got = fn(mg.tensor(A, requires_grad=True), **kwargs)
    expected = fn(A, **kwargs)
    data = got.data if isinstance(got, mg.Tensor) else np.asarray(got)
    assert data.shape == np.shape(expected)
    assert data.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(data, expected)


@pytest.mark.parametrize("fn", [np.argmax, np.argmin])
@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [({"axis": 1}, (3,)), ({"axis": 0, "keepdims": True}, (1, 3)), ({}, ())],
)
def test_argmax_argmin_with_out_write_into_it(fn, kwargs, shape):
    """np.argmax(t, out=o) on a tensor without grad: NumPy's call, o filled and returned."""
    out = np.full(shape, -1, dtype=np.intp)
    result = fn(mg.tensor(A), out=out, **kwargs)
    np.testing.assert_array_equal(out, fn(A, **kwargs))
    assert result is out


def test_argmax_with_out_on_a_tensor_that_requires_grad():
    """np.argmax(t, axis=1, out=o) with t requiring grad fills o, as torch.argmax does."""
    out = np.empty(3, dtype=np.intp)
    np.argmax(mg.tensor(A, requires_grad=True), axis=1, out=out)
    np.testing.assert_array_equal(out, np.argmax(A, axis=1))
    floats = np.empty(3)  # a float out= could carry a gradient: still refused
    with pytest.raises(TypeError, match="drop"):
        np.argmax(mg.tensor(A, requires_grad=True), axis=1, out=floats)


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda x: np.unwrap(x), "np.unwrap (minigrad has no rule for it)"),
        (lambda x: np.add.reduce(x), "np.add.reduce (with these arguments)"),
        (lambda x: np.sum(x, dtype=np.float32), "np.sum (minigrad has no rule for dtype)"),
    ],
)
def test_a_numpy_call_without_a_rule_is_refused_while_tracing_by_name(call, what):
    """Under mg.jit, a NumPy call on a Tensor with no minigrad rule: TraceError naming it."""
    with pytest.raises(TraceError) as info:
        mg.jit(call)(np.ones(3))
    assert str(info.value) == what + ADVICE


# =========================================================================================
# class labels, sum_of_squares
# =========================================================================================


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        (np.array([2**63], dtype=np.uint64), str(2**63)),
        (np.array([2**64 - 1], dtype=np.uint64), str(2**64 - 1)),
        (np.array([0, 7], dtype=np.uint8), "7"),
        (np.array([-1, 0], dtype=np.int16), "-1"),
        (np.array([3.0, 1.0]), "3"),
    ],
)
def test_an_out_of_range_class_label_is_named_as_given(labels, shown):
    """cross_entropy with a label outside 0…2: the message shows that label's value."""
    logits = mg.tensor(np.zeros((len(labels), 3)), requires_grad=True)
    with pytest.raises(ValueError) as info:
        mg.losses.cross_entropy(logits, labels)
    assert str(info.value).startswith(f"class index {shown} is outside 0 … 2")


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.uint64, np.float32])
def test_valid_class_labels_of_any_integer_dtype_give_the_same_loss(dtype):
    """Integer labels (signed, unsigned, whole floats) pick the same logits: NumPy's
    log-softmax at those indices."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 3))
    labels = np.array([2, 0, 1, 2], dtype=dtype)
    loss = mg.losses.cross_entropy(mg.tensor(z), labels)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(4), labels.astype(np.int64)].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-14)


BLOCK = mg.ops.SUMSQ_BLOCK


@pytest.mark.parametrize("n", [0, 1, 2, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3])
@pytest.mark.parametrize("shape_of", [lambda n: (n,), lambda n: (1, n, 1)])
def test_sum_of_squares_at_block_boundaries_matches_a_float64_reference(n, shape_of):
    """Σr² and Σ(r−m)² for sizes around SUMSQ_BLOCK (and 0, 1): math.fsum in float64."""
    rng = np.random.default_rng(n)
    r = rng.standard_normal(n).reshape(shape_of(n))
    m = rng.standard_normal(n).reshape(shape_of(n))
    got = mg.ops.sum_of_squares(r)
    assert np.ndim(got) == 0 and np.asarray(got).dtype == np.float64
    assert math.isclose(float(got), math.fsum(v * v for v in r.ravel()), rel_tol=1e-13)
    got = mg.ops.sum_of_squares(r, m)
    d = (r - m).ravel()
    assert math.isclose(float(got), math.fsum(v * v for v in d), rel_tol=1e-13)


def test_sum_of_squares_of_float32_keeps_float32():
    """float32 residuals give a float32 sum (NumPy's dot of float32)."""
    r = np.linspace(-1, 1, BLOCK + 5, dtype=np.float32)
    got = mg.ops.sum_of_squares(r)
    assert np.asarray(got).dtype == np.float32
    assert math.isclose(float(got), math.fsum(float(v) ** 2 for v in r), rel_tol=1e-5)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_a_create_graph_backward_inside_no_grad_still_records_as_in_torch():
    """The engine sets grad mode for the rules itself (PyTorch's engine runs them under
    create_graph's mode whatever the caller's): the gradient is differentiable again."""
    torch = pytest.importorskip("torch")
    x = mg.tensor([1.5, -2.0], requires_grad=True)
    y = (x * x * x).sum()
    with mg.no_grad():
        y.backward(create_graph=True)
    assert x.grad.requires_grad
    (second,) = mg.autograd.grad(x.grad.sum(), [x])
    tx = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    ty = (tx * tx * tx).sum()
    with torch.no_grad():
        ty.backward(create_graph=True)
    assert tx.grad.requires_grad
    (tsecond,) = torch.autograd.grad(tx.grad.sum(), [tx])
    np.testing.assert_allclose(second.numpy(), tsecond.numpy())  # 6x
    np.testing.assert_allclose(second.numpy(), 6 * np.array([1.5, -2.0]))


@pytest.mark.parametrize("x", [2.0, np.float32(-1.5), np.array(3.0), [1.0, 2.0, 3.0]])
def test_the_broadcast_view_of_a_number_list_or_array_is_numpys_read_only_one(x):
    """Every reduction's gradient goes through this view; its inputs may be Python
    numbers, NumPy scalars or lists as well as arrays: each is NumPy's own broadcast."""
    from minigrad.ops.shape import _broadcast_view

    view, expected = _broadcast_view(x, (2, 3)), np.broadcast_to(x, (2, 3))
    assert view.dtype == expected.dtype and not view.flags.writeable
    np.testing.assert_array_equal(view, expected)
