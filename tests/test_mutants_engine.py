"""The backward engine (minigrad/autograd.py), pinned down where mutants survived: how a
refused forward is reported, the save/release protocol of an op's saved value, the
version-counter check at its boundary and in its report, accumulation on leaves in
every mode, and the Op/EveryInput interfaces.

Expected gradients are worked out by hand next to each assertion; made-up ops (the
documented :class:`minigrad.autograd.Op` interface) make the engine's paths observable.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.autograd import OUT, EveryInput, Op

MODIFIED = "modified in place"


# =========================================================================================
# a forward that NumPy (or an op) refuses
# =========================================================================================


def refusing(text: str) -> Op:
    def forward(a, b):
        raise ValueError(text)

    return Op("refuser", forward, (None, None))


@pytest.mark.parametrize(
    "text",
    [
        "bad shape",
        "cannot broadcast these",
        "mismatch in dimension 1",
        "wrong size",
    ],
)
def test_a_forward_error_about_shapes_is_a_shape_error_naming_op_and_shapes(text):
    with pytest.raises(mg.ShapeError) as info:
        refusing(text)(mg.tensor(np.zeros((2, 3))), np.ones(4))
    msg = str(info.value)
    assert msg.startswith("refuser: incompatible shapes (2, 3) and (4,)")
    assert text in msg


def test_any_other_forward_error_is_a_value_error_naming_op_shapes_and_dtypes():
    with pytest.raises(ValueError) as info:
        refusing("math domain error")(mg.tensor(np.zeros(2)), np.ones(3, dtype=np.float32))
    assert not isinstance(info.value, mg.ShapeError)
    msg = str(info.value)
    assert msg.startswith("refuser: math domain error")
    assert "(inputs of shapes (2,) and (3,), dtypes float64, float32)" in msg


def test_operands_of_unsupported_types_are_named():
    with pytest.raises(TypeError, match=r"^mul: unsupported operand types \(Tensor, object\): "):
        ops.mul(mg.tensor([1.0]), object())
    # a forward that raises ValueError on an odd operand: the operand is what is wrong
    with pytest.raises(TypeError, match=r"^refuser: unsupported operand types \(Tensor, object\)$"):
        refusing("bad shape")(mg.tensor([1.0]), object())
    typed = Op("typed", lambda a, b: a + b, (None, None))  # a TypeError in the forward
    with pytest.raises(TypeError, match=r"^typed: unsupported operand types \(Tensor, str\): "):
        typed(mg.tensor([1.0]), "a")


# =========================================================================================
# recording: what an op's result is
# =========================================================================================


def test_every_result_holds_an_ndarray_even_when_numpy_returns_a_scalar():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for t in (x.sum(), x.detach().sum(), x.max(), ops.mul(mg.tensor(2.0), 3.0)):
        assert type(t.data) is np.ndarray, type(t.data)


def test_a_view_of_a_constant_input_shares_no_counter():
    # an op whose result is a view of its first input, a plain array (not a tensor)
    table = np.arange(6.0).reshape(2, 3)
    lookup = Op("lookup", lambda table, x: table[1], (None, lambda g, out, table, x: 0 * x))
    x = mg.tensor([1.0], requires_grad=True)
    out = lookup(table, x)
    assert out.data.base is not None  # a view of table
    np.testing.assert_array_equal(out.numpy(), [3.0, 4.0, 5.0])
    assert out.version == 0 and x.version == 0


def test_plain_arrays_in_give_a_plain_array_out():
    got = ops.mul(np.array([1.0, 2.0]), 3.0)
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, [3.0, 6.0])


def test_results_record_only_under_grad_mode_and_only_from_inputs_that_require_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([1.0, 2.0])
    assert (x * c).requires_grad and not (c * c).requires_grad
    with mg.no_grad():
        assert not (x * c).requires_grad
    # a constant list operand is turned into an array and still records
    y = ops.mul(x, [3.0, 4.0])
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


# =========================================================================================
# version counters
# =========================================================================================


def test_a_change_made_before_an_op_was_recorded_does_not_count():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    other = mg.tensor([0.0])
    with mg.no_grad():
        x += 1.0  # x is now [2, 3], changed *before* the graph below
    y = (x * x).sum()
    with mg.no_grad():
        other += 1.0  # the clock moves on, so backward checks the saved values
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 6.0])  # 2x


def test_saved_constants_without_a_counter_are_skipped_by_the_check():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = np.array([3.0, 5.0])
    other = mg.tensor([0.0])
    y = (x * c).sum()  # mul's rule for x reads the plain array c
    with mg.no_grad():
        other += 1.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])


def test_the_report_names_what_was_saved_and_the_version():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()  # exp's rule reads its output
    loss = (e * 1.0).sum()
    with mg.no_grad():
        e.data[...] = 0.0
        e += 1.0
        e += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        loss.backward()
    msg = str(info.value)
    assert "exp saved its output, a tensor of shape (2,)" in msg
    assert "now at version 2" in msg
    assert msg.endswith(  # and what to do about it
        "Compute the graph again after changing it (e.g. the loss after optimizer.step()), "
        "or change a copy (mg.tensor(x) copies)."
    )
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * b).sum()
    with mg.no_grad():
        b += 1.0
    with pytest.raises(RuntimeError, match="mul saved its input 1"):
        loss.backward()


def test_an_op_without_saves_protects_every_input_and_its_output():
    # saves left out: every rule counts as reading every input and the output
    op = Op("plain_mul", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a))
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0])
    loss = op(a, b).sum()
    with mg.no_grad():
        a += 1.0  # the rule for a reads b only, but without saves a counts too
    with pytest.raises(RuntimeError, match="plain_mul saved its input 0"):
        loss.backward()


def test_a_variadic_op_with_no_saved_values_runs_after_other_changes():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0], requires_grad=True)
    out = (mg.concatenate([x, y]) * np.array([1.0, 2.0, 3.0])).sum()
    with mg.no_grad():
        x += 1.0  # concatenate's rules read no value: only mul's constant matters
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(y.grad.numpy(), [3.0])


# =========================================================================================
# accumulation on leaves
# =========================================================================================


def test_create_graph_accumulation_casts_to_the_leafs_dtype():
    x = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    x.backward(mg.tensor([0.5, 0.25]), create_graph=True)  # a float64 gradient
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.25])
    x.backward(mg.tensor([1.0, 1.0]), create_graph=True)  # accumulates: g + previous
    np.testing.assert_array_equal(x.grad.numpy(), [1.5, 1.25])


def test_a_create_graph_gradient_is_a_new_tensor_not_the_callers():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    v = mg.tensor([3.0, 4.0])
    x.backward(v, create_graph=True)
    assert x.grad is not v
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])  # v + 0, not v + 1
    x.grad.data[...] = 0.0
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])


def test_a_plain_backward_after_a_create_graph_one_starts_a_new_gradient_tensor():
    x = mg.tensor([1.0, 3.0], requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    first = x.grad  # 2x, recorded: it requires grad
    assert first.requires_grad
    (x * x).sum().backward()
    assert x.grad is not first and x.grad.requires_grad is False
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 12.0])  # 2x + 2x
    np.testing.assert_array_equal(first.numpy(), [2.0, 6.0])  # untouched


def test_plain_accumulation_is_in_place_and_bumps_the_version():
    x = mg.tensor([1.0, 3.0], requires_grad=True)
    (x * 2.0).sum().backward()
    grad = x.grad
    assert grad.requires_grad is False and grad.is_leaf
    version = grad.version
    (x * 3.0).sum().backward()
    assert x.grad is grad
    np.testing.assert_array_equal(grad.numpy(), [5.0, 5.0])  # 2 + 3, not 3 or 2 − 3
    assert grad.version == version + 1


# =========================================================================================
# Op and EveryInput
# =========================================================================================


def test_op_keeps_its_parts():
    forward = np.add
    rules = (lambda g, out, a, b: g, lambda g, out, a, b: g)
    op = Op("plus", forward, rules, ["d/da = 1", "d/db = 1"], saves=[[], [0, OUT]])
    assert (op.name, op.forward, op.vjps) == ("plus", forward, rules)
    assert op.derivatives == ("d/da = 1", "d/db = 1")
    assert op.saves == ((), (0, OUT))
    assert Op("p", forward, rules).saves is None
    assert repr(op) == "<op plus>"


def test_every_input_rules_index_like_a_sequence():
    calls = []

    def rule(i, g, out, inputs):
        calls.append((i, g, out, inputs))
        return g * i

    rules = EveryInput(rule)
    assert rules[2](1.5, "out", "x", "y") == 3.0  # rule i with (g, out, *inputs)
    assert calls[-1] == (2, 1.5, "out", ("x", "y"))
    assert rules[3](2.0, None, 1.0) == 6.0
    assert calls[-1] == (3, 2.0, None, (1.0,))


def test_a_variadic_rule_gets_the_output():
    # Π xᵢ over any number of inputs; rule i: ∂/∂xᵢ = out / xᵢ (inputs away from 0)
    product = Op(
        "product",
        lambda *xs: np.prod(np.stack(xs), axis=0),
        EveryInput(lambda i, g, out, inputs: g * out / inputs[i]),
    )
    xs = [mg.tensor([2.0, -1.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)]
    xs.append(mg.tensor([0.5, 2.0], requires_grad=True))
    product(*xs).sum().backward()
    np.testing.assert_allclose(xs[0].grad.numpy(), [1.5, 8.0])  # x₁·x₂
    np.testing.assert_allclose(xs[1].grad.numpy(), [1.0, -2.0])  # x₀·x₂
    np.testing.assert_allclose(xs[2].grad.numpy(), [6.0, -4.0])  # x₀·x₁


# =========================================================================================
# minigrad.autograd.grad: gradients returned, not stored (torch.autograd.grad)
# =========================================================================================


def test_autograd_grad_returns_each_gradient_and_stores_none():
    w = mg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    b = mg.tensor(3.0, requires_grad=True)
    out = ((w * w).sum() * b).sum()  # ∂/∂w = 2wb, ∂/∂b = Σw²
    gw, gb = mg.autograd.grad(out, [w, b])
    np.testing.assert_allclose(gw.numpy(), 2 * np.array([1.0, -2.0, 0.5]) * 3.0, rtol=1e-15)
    assert gb.item() == pytest.approx(1.0 + 4.0 + 0.25, rel=1e-15)
    assert w.grad is None and b.grad is None
    assert isinstance(gw, mg.Tensor) and not gw.requires_grad


def test_autograd_grad_weights_a_non_scalar_output_by_grad_output():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x  # vᵀJ = 2x·v
    (gx,) = mg.autograd.grad(y, [x], grad_output=np.array([3.0, -1.0]))
    np.testing.assert_array_equal(gx.numpy(), [6.0, -4.0])
    (gx,) = mg.autograd.grad(y, [x], grad_output=mg.tensor([0.5, 0.5]))
    np.testing.assert_array_equal(gx.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\) needs grad_output"):
        mg.autograd.grad(y, [x])


def test_autograd_grad_of_an_unreached_input_is_zeros_of_its_shape_and_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    unused = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    gx, gu = mg.autograd.grad((x * 2.0).sum(), [x, unused])
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])
    assert gu.shape == (2, 3) and gu.dtype == np.float32 and not gu.numpy().any()
    constant = mg.tensor(5.0) * 2.0  # requires no grad: every gradient is zero
    (g0,) = mg.autograd.grad(constant, [x])
    np.testing.assert_array_equal(g0.numpy(), [0.0, 0.0])


def test_autograd_grad_with_create_graph_differentiates_again():
    x = mg.tensor(2.0, requires_grad=True)
    (g,) = mg.autograd.grad(x**3, [x], create_graph=True)  # 3x² = 12
    assert g.requires_grad and g.item() == pytest.approx(12.0, rel=1e-15)
    (gg,) = mg.autograd.grad(g, [x])  # 6x = 12
    assert gg.item() == pytest.approx(12.0, rel=1e-15)
    (plain,) = mg.autograd.grad(x**3, [x])
    assert not plain.requires_grad


def test_autograd_grad_works_under_no_grad_for_a_graph_recorded_before():
    x = mg.tensor([1.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    with mg.no_grad():
        (gx,) = mg.autograd.grad(y, [x])
    np.testing.assert_array_equal(gx.numpy(), [2.0, 6.0])


def test_autograd_grad_refuses_what_it_cannot_differentiate():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="output must be a Tensor, got float"):
        mg.autograd.grad(1.0, [x])
    with pytest.raises(TypeError, match="every input must be a Tensor with requires_grad=True"):
        mg.autograd.grad((x * 2).sum(), [x, mg.tensor([1.0])])
    with pytest.raises(TypeError, match="every input must be a Tensor"):
        mg.autograd.grad((x * 2).sum(), [np.ones(1)])


def test_autograd_grad_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(3)
    x = mg.tensor(a, requires_grad=True)
    (gx,) = mg.autograd.grad((x.tanh() * x).sum(axis=1), [x], grad_output=v)
    xt = torch.tensor(a, requires_grad=True)
    (expected,) = torch.autograd.grad((xt.tanh() * xt).sum(dim=1), [xt], torch.tensor(v))
    np.testing.assert_allclose(gx.numpy(), expected.numpy(), rtol=1e-13)


def test_autograd_grad_of_a_one_element_output_defaults_to_ones_and_of_an_input_itself():
    x = mg.tensor([[2.0]], requires_grad=True)
    (g,) = mg.autograd.grad(x * x, [x])  # shape (1, 1): v = 1 by default; 2x = 4
    assert g.shape == (1, 1) and g.item() == 4.0
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (gw,) = mg.autograd.grad(w, [w], grad_output=np.array([5.0, 7.0]))  # ∂w/∂w·v = v
    np.testing.assert_array_equal(gw.numpy(), [5.0, 7.0])


def test_only_an_op_declared_a_view_shares_its_inputs_version_counter():
    # both forwards return a reversed view of x; only the one declared view=True ties
    # the result's in-place changes to x's version counter
    def flip(**kwargs):
        return Op("flip", lambda x: x[::-1], (lambda g, out, x: g[::-1],), **kwargs)

    assert flip().view is False and flip(view=True).view is True
    x = mg.tensor([1.0, 2.0])
    y = flip(view=True)(x)
    y += 1.0  # through the view: x is now [2, 3]
    np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])
    assert x.version == y.version == 1
    z = flip()(x)  # the same memory, undeclared: its changes are its own
    z += 1.0
    assert z.version == 1 and x.version == 1


def test_toposort_orders_inputs_first_and_the_functional_api_visits_only_paths_to_targets():
    """Backward with targets (the functional API) visits only the part of the graph that
    leads to a target: a rule whose result could reach no target never runs."""
    from minigrad import autograd

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2.0
    mid = a + 1.0
    out = (mid * mid).sum()
    full = [id(t) for t in autograd.toposort(out)]  # by identity: == on tensors is elementwise
    assert full.index(id(x)) < full.index(id(a)) < full.index(id(mid)) < full.index(id(out))
    on_path = autograd._on_a_path_to(autograd.toposort(out), {mid})
    assert mid in on_path and out in on_path and a not in on_path and x not in on_path
    ran = []
    spy = mg.autograd.Op("spy", lambda v: v, (lambda g, out, v: ran.append(1) or g,))
    y = spy(x)
    total = (mid * mid).sum() + y.sum()
    (g_mid,) = mg.autograd.grad(total, [mid])
    np.testing.assert_array_equal(g_mid.numpy(), 2 * mid.numpy())
    assert ran == []  # spy's rule leads to x only, which is no target


def test_autograd_grad_is_the_total_derivative_through_every_path():
    """autograd.grad(out, [x, y]) with y computed from x: x's gradient counts the path
    through y too (PyTorch: out = x·y, y = x² at x = 3 gives [27, 3] → [x², x] + y'·x)."""
    x = mg.tensor(3.0, requires_grad=True)
    y = x * x
    out = x * y  # = x³
    gx, gy = mg.autograd.grad(out, [x, y])
    assert gx.item() == 27.0  # d(x³)/dx = 3x², through both paths
    assert gy.item() == 3.0  # ∂out/∂y = x


def test_an_input_without_a_rule_does_not_stop_the_others_or_the_pass():
    """where's condition has no gradient rule; a float condition computed from a tensor
    that requires grad is in the graph but receives nothing, and the inputs after it and
    every other node still get theirs: ∂/∂a = [c ≠ 0], ∂/∂b = [c = 0]."""
    x = mg.tensor([1.0, 0.0], requires_grad=True)
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    w = mg.tensor(2.0, requires_grad=True)
    (mg.where(x * 2.0, a, b) * w).sum().backward()  # condition (2, 0)
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 2.0])
    assert w.grad.item() == 1.0 + 4.0  # Σ where(c, a, b) = a₀ + b₁
    assert x.grad is None


def test_compiled_source_names_and_explains_a_gradient_that_adds_up():
    """x is used twice in tanh(x)·x: its two gradient contributions are added on a line
    named after x, commented with the rule that makes them add up."""
    fast = mg.jit(mg.grad(lambda x: (x.tanh() * x).sum()))
    x0 = np.array([1.0, 2.0])
    np.testing.assert_allclose(
        fast(x0).numpy(), np.tanh(x0) + x0 * (1 - np.tanh(x0) ** 2), rtol=1e-15
    )
    lines = fast.source.splitlines()
    (added,) = [
        line
        for line in lines
        if line.endswith("# a tensor used several times: its gradients add up")
    ]
    name = added.split("=")[0].strip()
    assert name.startswith("d_x") and f"return ({name},)" in fast.source


def test_autograd_grad_refusal_in_full_and_grad_output_as_a_number():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        mg.autograd.grad((x * 2).sum(), [mg.tensor([1.0])])
    assert str(info.value) == "grad: every input must be a Tensor with requires_grad=True"
    (g,) = mg.autograd.grad((x * 3).sum(), [x], grad_output=2.0)  # 3·v
    np.testing.assert_array_equal(g.numpy(), [6.0])


def test_autograd_grad_output_that_requires_grad_counts_only_with_create_graph():
    """vᵀJ is linear in v: with create_graph the result is differentiable in v too
    (∂Σ(vᵀJ)/∂v = J·1); without it, the result is a plain value whatever v is."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    v = mg.tensor([3.0, -1.0], requires_grad=True)
    (plain,) = mg.autograd.grad(x * x, [x], grad_output=v)  # 2x·v
    np.testing.assert_array_equal(plain.numpy(), [6.0, -4.0])
    assert not plain.requires_grad
    (g,) = mg.autograd.grad(x * x, [x], grad_output=v, create_graph=True)
    (dv,) = mg.autograd.grad(g.sum(), [v])  # ∂Σ(2x·v)/∂v = 2x
    np.testing.assert_array_equal(dv.numpy(), [2.0, 4.0])


def test_compiled_source_comments_each_rule_even_past_the_ops_own_texts():
    """A variadic op has one derivative text for all its inputs; an op with none is
    named alone (no dangling colon)."""
    fast = mg.jit(mg.grad(lambda a, b: (mg.concatenate([a, b]) ** 2).sum(), argnums=(0, 1)))
    fast(np.array([1.0]), np.array([2.0, 3.0]))
    text = mg.ops._concatenate.derivatives[0]
    comments = [line.split("# ")[1] for line in fast.source.splitlines() if "# concat" in line]
    assert comments.count(f"concatenate: {text}") == 2, fast.source  # inputs 0 and 1

    plain = Op("plain_square", lambda x: x * x, (lambda g, out, x: 2 * x * g,))
    fast = mg.jit(mg.grad(lambda x: plain(x).sum()))  # 2x
    np.testing.assert_array_equal(fast(np.array([1.0, 5.0])).numpy(), [2.0, 10.0])
    assert any(line.endswith("# plain_square") for line in fast.source.splitlines())


def test_detach_inside_jit_is_recomputed_at_every_call():
    fast = mg.jit(lambda x: x.detach() * 2.0)
    for a in (np.array([1.0, 2.0]), np.array([-3.0, 0.5])):
        np.testing.assert_array_equal(fast(a).numpy(), 2 * a)


def test_a_trace_in_one_thread_leaves_a_backward_in_another_as_it_is():
    """Tracing is per thread: while thread A is inside mg.jit's trace, a plain backward in
    thread B stays plain (its leaf gradient is a plain value, not a graph) and A's
    program does not see B's tensors."""
    import threading

    started, release = threading.Event(), threading.Event()

    def f(x):
        started.set()
        release.wait(10)
        return (x * x).sum()

    fast = mg.jit(f)
    worker = threading.Thread(target=fast, args=(np.array([1.0, 2.0]),))
    worker.start()
    assert started.wait(10)
    try:
        w = mg.tensor([1.0, 2.0], requires_grad=True)
        (w * w * 3.0).sum().backward()  # ∂/∂w = 6w
        assert not w.grad.requires_grad
        np.testing.assert_array_equal(w.grad.numpy(), [6.0, 12.0])
    finally:
        release.set()
        worker.join()
    assert fast.traces == 1 and "3.0" not in fast.source
    np.testing.assert_array_equal(fast(np.array([3.0, 4.0])).numpy(), 25.0)
