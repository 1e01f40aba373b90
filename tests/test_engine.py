"""Engine semantics of minigrad: applying an op (a refused forward, what a result holds),
accumulation, graph lifetime, grad mode, version counters, dtypes, identity, the Op and
EveryInput interfaces, vector-Jacobian products, higher derivatives, autograd.grad,
broadcasting and the conventions at kinks.

The function transforms are in test_functional.py, gradcheck in test_gradcheck.py, the
losses in test_losses.py.

Every expected value comes from somewhere other than minigrad itself: a derivative worked
out by hand (written next to the assertion), central finite differences, or PyTorch
(skipped cleanly when torch is not installed).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import warnings
import weakref

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops
from minigrad.autograd import OUT, EveryInput, Op
from tests.helpers import MODIFIED, XV, central_diff, f_vec, jac_by_hand, value


def counting_identity() -> tuple[Op, list[np.ndarray]]:
    """An identity op whose gradient rule records every upstream gradient it receives."""
    calls: list[np.ndarray] = []

    def rule(g, out, x):
        calls.append(np.array(value(g), copy=True))
        return g

    return Op("counted_identity", lambda x: x * 1.0, (rule,)), calls


# =========================================================================================
# applying an op: a refused forward, what a result holds
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
# accumulation
# =========================================================================================


def test_a_plus_a_gives_two():
    a = mg.tensor(3.0, requires_grad=True)
    b = a + a  # db/da = 1 + 1 = 2
    b.backward()
    assert value(a.grad) == 2.0


def test_a_times_a_gives_two_a():
    a = mg.tensor([1.5, -2.0, 0.25], requires_grad=True)
    (a * a).sum().backward()  # d(a²)/da = 2a
    np.testing.assert_array_equal(value(a.grad), [3.0, -4.0, 0.5])


def test_diamond_accumulates_before_propagating():
    # x -> h (identity) -> y1 = 2h, y2 = e^h -> z = y1 · y2 = 2h·e^h
    # dz/dh = 2e^h + 2h·e^h; h's rule must run ONCE with that total, not once per path.
    counted, calls = counting_identity()
    xv = np.array([0.5, -1.0, 2.0])
    x = mg.tensor(xv, requires_grad=True)
    h = counted(x)
    z = (h * 2.0) * h.exp()
    z.sum().backward()
    expected = 2 * np.exp(xv) + 2 * xv * np.exp(xv)
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], expected, rtol=1e-12)
    np.testing.assert_allclose(value(x.grad), expected, rtol=1e-12)


def test_node_reused_by_many_consumers():
    # z = Σ_{k=1..100} k·h with h = 2x, so dz/dx = 2·Σk = 2·5050 = 10100 per element
    counted, calls = counting_identity()
    x = mg.tensor([1.0, -3.0], requires_grad=True)
    h = counted(x * 2.0)
    z = h * 1.0
    for k in range(2, 101):
        z = z + h * float(k)
    z.sum().backward()
    assert len(calls) == 1  # one propagation through h with the accumulated 5050
    np.testing.assert_array_equal(calls[0], [5050.0, 5050.0])
    np.testing.assert_array_equal(value(x.grad), [10100.0, 10100.0])


def test_doubling_chain_of_diamonds_is_linear_not_exponential():
    # y_{k+1} = y_k + y_k, 60 times: dy/dx = 2^60 (exact in float64). There are 2^60 paths,
    # so this only finishes if each node is propagated once with its accumulated gradient.
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(60):
        y = y + y
    y.backward()
    assert value(x.grad) == 2.0**60
    assert value(y) == 2.0**60


def test_backward_twice_accumulates_on_leaves_and_not_on_intermediates():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x  # intermediate
    loss = (h * 3.0).sum()  # dloss/dx = 6x
    loss.backward()
    np.testing.assert_array_equal(value(x.grad), [6.0, 12.0])
    loss.backward()  # PyTorch semantics: the second pass adds to the first
    np.testing.assert_array_equal(value(x.grad), [12.0, 24.0])
    assert h.grad is None
    assert loss.grad is None
    assert not h.is_leaf and x.is_leaf


def test_zero_grad_resets():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 5.0).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * x).sum().backward()  # 2x, not 2x + 5
    np.testing.assert_array_equal(value(x.grad), [2.0, 4.0])


def test_grad_is_writable_and_not_shared_with_upstream_arrays():
    # dL/dx of x + y is the upstream ones for both leaves: the stored grads must be own
    # copies, or accumulating into one would change the other.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (x + y).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(value(x.grad), [2.0, 2.0])
    np.testing.assert_array_equal(value(y.grad), [2.0, 2.0])
    assert not np.shares_memory(x.grad.data, y.grad.data)


def test_ordinary_backward_after_create_graph_accumulates_correctly():
    # y = x + w: dy/dx = dy/dw = 1 per pass, so after two passes both grads are 2.
    x = mg.tensor(1.0, requires_grad=True)
    w = mg.tensor(2.0, requires_grad=True)
    y = x + w
    y.backward(create_graph=True)
    assert x.grad is not w.grad  # each leaf owns its gradient
    y.backward()
    assert value(x.grad) == 2.0
    assert value(w.grad) == 2.0


def test_backward_never_mutates_the_callers_gradient_tensor():
    z = mg.tensor([0.0, 0.0], requires_grad=True)
    v = mg.tensor([1.0, 1.0])
    (z + 1.0).backward(v, create_graph=True)
    (z + 1.0).backward(v)
    np.testing.assert_array_equal(value(v), [1.0, 1.0])
    np.testing.assert_array_equal(value(z.grad), [2.0, 2.0])


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
# detach, requires_grad_
# =========================================================================================


def test_detach_cuts_the_graph():
    xv = np.array([1.0, -2.0, 3.0])
    x = mg.tensor(xv, requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf and d.grad is None
    np.testing.assert_array_equal(value(d), 2 * xv)
    # z = x · stop_gradient(x): dz/dx = x (the detached factor is a constant), not 2x
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(value(x.grad), xv)


def test_detached_tensor_does_not_record():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not (d * 3.0).requires_grad
    with pytest.raises(RuntimeError):
        (d * 3.0).sum().backward()


def test_requires_grad_in_place():
    t = mg.tensor([1, 2, 3])  # int data, no grad
    assert t.dtype == np.int64
    assert not (t * 2).requires_grad
    assert t.requires_grad_() is t
    assert t.requires_grad and t.dtype == np.float64  # ints become floats to carry a grad
    (t * t).sum().backward()  # 2t
    np.testing.assert_array_equal(value(t.grad), [2.0, 4.0, 6.0])
    t.requires_grad_(False)
    assert not t.requires_grad
    assert not (t * 2.0).requires_grad


# =========================================================================================
# deep graphs and graph lifetime
# =========================================================================================


def _chain(n: int) -> None:
    # gc stays off throughout: it would only rescan the growing chain (the time would
    # depend on what else is imported), and the chain must be freed by reference counting
    # alone, without a C-stack overflow in the deallocator.
    gc.disable()
    try:
        x = mg.tensor(2.0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y + 1.0  # dy/dx = 1 through every link
        y.backward()
        assert value(y) == 2.0 + n
        assert value(x.grad) == 1.0
        last = weakref.ref(y.data)
        del y
        assert last() is None
    finally:
        gc.enable()


def test_deep_chain_100k_ops_no_recursion_error():
    _chain(100_000)


@pytest.mark.slow  # ~6-10 s on a loaded 2-core box: a million Python-level ops
def test_deep_chain_one_million_ops():
    _chain(1_000_000)


def test_graph_is_freed_by_refcount_without_gc():
    # Nodes reference their inputs, never their outputs: no cycles, so dropping the loss
    # frees the intermediates immediately. Tensor has __slots__ without __weakref__, so
    # we watch the intermediates' ndarrays instead.
    gc.disable()
    try:
        x = mg.tensor(np.linspace(-1, 1, 1000), requires_grad=True)
        h = (x * 3.0).exp()
        big = h * h + h
        loss = big.mean()
        refs = [weakref.ref(h.data), weakref.ref(big.data), weakref.ref(loss.data)]
        loss.backward()
        del loss, big, h
        assert [r() is None for r in refs] == [True, True, True]
        assert x.grad is not None
    finally:
        gc.enable()


def test_functional_transforms_leave_no_cycles():
    refs = []

    def f(x):
        h = (x * 3.0).exp()
        refs.append(weakref.ref(h.data))
        return h.sum()

    gc.disable()
    try:
        g = mg.grad(f)(np.array([0.1, 0.2]))
        np.testing.assert_allclose(value(g), 3 * np.exp(3 * np.array([0.1, 0.2])))  # 3e^{3x}
        assert refs[0]() is None
    finally:
        gc.enable()


# =========================================================================================
# grad mode
# =========================================================================================


def test_no_grad_context_manager():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        outs = [x + 1, x * x, x.exp(), x.sum(), x @ x, x[0], mg.losses.mse(x, np.zeros(2))]
    assert all(not o.requires_grad and o.is_leaf for o in outs)
    assert mg.is_grad_enabled()
    assert (x * x).requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    @mg.no_grad()
    def evaluate(t):
        return t * 2.0

    @mg.enable_grad()
    def train(t):
        return t * 2.0

    assert not evaluate(x).requires_grad
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert train(x).requires_grad
        assert not mg.is_grad_enabled()


def test_grad_mode_nests_and_restores_on_exceptions():
    x = mg.tensor(1.0, requires_grad=True)
    with mg.no_grad():
        with mg.enable_grad():
            assert (x * 2).requires_grad
            with mg.no_grad():
                assert not (x * 2).requires_grad
            assert mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
        with pytest.raises(KeyError), mg.enable_grad():
            raise KeyError("boom")
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_no_grad_decorator_is_reentrant():
    @mg.no_grad()
    def depth(n):
        assert not mg.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(5) == 5
    assert mg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    # One thread computes under no_grad while another records, at the same time (a barrier
    # lines them up before and after). Both are started while the main thread is inside
    # no_grad: a new thread starts with grad mode on, whatever its parent's mode.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    barrier = threading.Barrier(2, timeout=10)
    results: dict[str, list[tuple[bool, bool]]] = {"off": [], "on": []}
    errors: list[BaseException] = []

    def worker(name, disable):
        try:
            with mg.no_grad() if disable else contextlib.nullcontext():
                barrier.wait()
                for _ in range(200):
                    results[name].append((mg.is_grad_enabled(), (x * 2.0).requires_grad))
                barrier.wait()
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    with mg.no_grad():
        threads = [
            threading.Thread(target=worker, args=("off", True)),
            threading.Thread(target=worker, args=("on", False)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not mg.is_grad_enabled()
    assert not errors
    assert results["off"] == [(False, False)] * 200
    assert results["on"] == [(True, True)] * 200


def test_no_grad_decorator_shared_between_threads():
    # Thread A enters f, then thread B (already inside no_grad) enters the same decorated
    # f; A leaves first. A must get its own mode (on) back, B its own (off).
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    @mg.no_grad()
    def f(first):
        if first:
            a_in.set()
            b_in.wait(5)
        else:
            b_in.set()
            a_out.wait(5)

    def thread_a():
        f(True)
        seen["A"] = mg.is_grad_enabled()
        a_out.set()

    def thread_b():
        a_in.wait(5)
        with mg.no_grad():
            f(False)
            seen["B"] = mg.is_grad_enabled()

    ts = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert seen == {"A": True, "B": False}


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
    other = mg.tensor([0.0])
    for _ in range(5):  # other changes move the in-place clock on, not e's version
        other += 1.0
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
    assert "now at version 2)" in msg  # e's own count of changes, not the clock's time
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


# =========================================================================================
# dtypes
# =========================================================================================


def test_float32_stays_float32_through_ops_and_gradients():
    x = mg.tensor(np.array([0.5, 1.5, 2.0], dtype=np.float32), requires_grad=True)
    w = mg.tensor(np.array([[1.0], [2.0], [3.0]], dtype=np.float32), requires_grad=True)
    h = ((x * 2.5 + 1.0) / 3.0) ** 2
    h = h.sigmoid() + h.tanh() + h.sqrt() + h.exp() + h.log() + h.relu() - h.abs()
    y = (h.reshape(1, 3) @ w).sum() + h.max() + h.mean() + mg.losses.mse(h, np.zeros(3, "f4"))
    assert h.dtype == np.float32 and y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_mixed_precision_grad_takes_the_leaf_dtype():
    x32 = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y64 = mg.tensor([3.0, 4.0], requires_grad=True)
    z = x32 * y64
    assert z.dtype == np.float64  # NumPy promotion
    z.sum().backward()
    assert x32.grad.dtype == np.float32 and y64.grad.dtype == np.float64
    np.testing.assert_array_equal(value(x32.grad), [3.0, 4.0])  # d(xy)/dx = y
    np.testing.assert_array_equal(value(y64.grad), [1.0, 2.0])


def _float32_grad_by(mode: str):
    # a float32 leaf in a float64 computation: L = Σ x·w, ∂L/∂x = w
    x = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    w = mg.tensor([3.0, 4.0])
    if mode == "functional":
        return mg.grad(lambda t: (t * w).sum())(x.detach())
    if mode in ("create_graph", "create_graph_then_ordinary"):
        (x * w).sum().backward(create_graph=True)
    if mode in ("ordinary", "create_graph_then_ordinary"):
        (x * w).sum().backward()
    return x.grad


@pytest.mark.parametrize(
    "mode",
    ["ordinary", "create_graph", "create_graph_then_ordinary", "functional"],
)
def test_gradient_dtype_is_the_inputs_dtype_in_every_mode(mode):
    g = _float32_grad_by(mode)
    assert g.dtype == np.float32  # PyTorch: a gradient always has its input's dtype
    expected = [3.0, 4.0] if mode != "create_graph_then_ordinary" else [6.0, 8.0]
    np.testing.assert_array_equal(value(g), expected)


def test_default_and_integer_dtypes():
    assert mg.tensor(1.0).dtype == np.float64
    assert mg.tensor([1.5, 2.5]).dtype == np.float64
    assert mg.Tensor([1.5]).dtype == np.float64
    assert mg.tensor([1, 2]).dtype == np.int64  # no grad: stays int
    assert (mg.tensor([1, 2]) + 1).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_
    assert mg.tensor([1, 2], requires_grad=True).dtype == np.float64
    assert mg.tensor([True, False], requires_grad=True).dtype == np.float64
    assert mg.Tensor(np.array([1, 2], dtype=np.int32), requires_grad=True).dtype == np.float64
    b = mg.tensor([True, False], requires_grad=True)
    (b * 3.0).sum().backward()
    np.testing.assert_array_equal(value(b.grad), [3.0, 3.0])


# =========================================================================================
# identity and comparisons
# =========================================================================================


def test_tensors_hash_by_identity():
    a = mg.tensor([1.0, 2.0])
    b = mg.tensor([1.0, 2.0])  # equal values, different tensors
    d = {a: "a", b: "b"}
    assert len(d) == 2 and d[a] == "a" and d[b] == "b"
    assert len({a, b, a}) == 2
    assert hash(a) == hash(a) and a in {a}


def test_comparisons_give_boolean_tensors_without_grad():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor([3.0, 2.0, 1.0], requires_grad=True)
    cases = {
        "==": (x == y, [False, True, False]),
        "!=": (x != y, [True, False, True]),
        "<": (x < y, [True, False, False]),
        "<=": (x <= y, [True, True, False]),
        ">": (x > 2.0, [False, False, True]),
        ">=": (x >= 2.0, [False, True, True]),
    }
    for name, (out, expected) in cases.items():
        assert isinstance(out, mg.Tensor), name
        assert out.dtype == np.bool_, name
        assert not out.requires_grad and out.is_leaf, name
        np.testing.assert_array_equal(value(out), expected, err_msg=name)


# =========================================================================================
# Op and EveryInput: the interface of a made-up op
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


# =========================================================================================
# vector-Jacobian products and higher derivatives
# =========================================================================================


def test_backward_with_gradient_is_vjp():
    v = np.array([2.0, -1.0, 0.5])
    x = mg.tensor(XV, requires_grad=True)
    f_vec(x).backward(gradient=v)
    np.testing.assert_allclose(value(x.grad), v @ jac_by_hand(XV), rtol=1e-12)
    # also for a linear map: y = A x has J = A, so the VJP is Aᵀv
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x2 = mg.tensor(XV, requires_grad=True)
    (mg.tensor(a) @ x2).backward(gradient=mg.tensor([1.0, -2.0]))
    np.testing.assert_allclose(value(x2.grad), a.T @ np.array([1.0, -2.0]), rtol=1e-12)


def test_create_graph_second_derivative():
    xv = np.array([0.5, -1.0, 2.0])
    x = mg.tensor(xv, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    np.testing.assert_allclose(value(g), 3 * xv**2)  # d(x³)/dx = 3x²
    assert g.requires_grad
    x.zero_grad()
    g.sum().backward()
    np.testing.assert_allclose(value(x.grad), 6 * xv)  # d(3x²)/dx = 6x


def test_create_graph_mixed_partial():
    # f(a, b) = a²·b: ∂f/∂a = 2ab, then ∂(2ab)/∂b = 2a
    a = mg.tensor(1.5, requires_grad=True)
    b = mg.tensor(-2.0, requires_grad=True)
    (a * a * b).backward(create_graph=True)
    ga = a.grad
    a.zero_grad()
    b.zero_grad()
    ga.backward()
    assert value(b.grad) == pytest.approx(3.0)  # 2a
    assert value(a.grad) == pytest.approx(-4.0)  # ∂(2ab)/∂a = 2b


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


def test_autograd_grad_refusal_in_full_and_grad_output_as_a_number():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        mg.autograd.grad((x * 2).sum(), [mg.tensor([1.0])])
    assert str(info.value) == "grad: every input must be a Tensor with requires_grad=True"
    (g,) = mg.autograd.grad((x * 3).sum(), [x], grad_output=2.0)  # 3·v
    np.testing.assert_array_equal(g.numpy(), [6.0])


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


def test_autograd_grad_is_the_total_derivative_through_every_path():
    """autograd.grad(out, [x, y]) with y computed from x: x's gradient counts the path
    through y too (PyTorch: out = x·y, y = x² at x = 3 gives [27, 3] → [x², x] + y'·x)."""
    x = mg.tensor(3.0, requires_grad=True)
    y = x * x
    out = x * y  # = x³
    gx, gy = mg.autograd.grad(out, [x, y])
    assert gx.item() == 27.0  # d(x³)/dx = 3x², through both paths
    assert gy.item() == 3.0  # ∂out/∂y = x


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


# =========================================================================================
# broadcasting
# =========================================================================================


def test_broadcast_gradients_by_hand():
    rng = np.random.default_rng(2)
    up = rng.standard_normal((3, 4))  # upstream weights: L = Σ up ⊙ out
    # (3,1) + (1,4): dL/da = Σ_j up[:, j], dL/db = Σ_i up[i, :]
    a = mg.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((1, 4)), requires_grad=True)
    ((a + b) * up).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_allclose(value(a.grad), up.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(value(b.grad), up.sum(axis=0, keepdims=True))
    # (2,3) * (3,): dL/dA = up ⊙ b (b repeated per row), dL/db = Σ_rows up ⊙ A
    up2 = up[:2, :3]
    av, bv = rng.standard_normal((2, 3)), rng.standard_normal(3)
    a2, b2 = mg.tensor(av, requires_grad=True), mg.tensor(bv, requires_grad=True)
    ((a2 * b2) * up2).sum().backward()
    assert a2.grad.shape == (2, 3) and b2.grad.shape == (3,)
    np.testing.assert_allclose(value(a2.grad), up2 * bv)
    np.testing.assert_allclose(value(b2.grad), (up2 * av).sum(axis=0))
    # scalar Tensor · matrix: dL/ds = Σ up ⊙ M, dL/dM = s·up
    mv = rng.standard_normal((3, 4))
    s, m = mg.tensor(1.7, requires_grad=True), mg.tensor(mv, requires_grad=True)
    ((s * m) * up).sum().backward()
    assert s.grad.shape == ()
    np.testing.assert_allclose(value(s.grad), (up * mv).sum())
    np.testing.assert_allclose(value(m.grad), 1.7 * up)


def test_broadcast_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for sa, sb in [((3, 1), (1, 4)), ((2, 3), (3,)), ((), (3, 4)), ((2, 1, 3), (4, 1))]:
        av, bv = rng.standard_normal(sa), rng.standard_normal(sb)
        for name in ("add", "sub", "mul", "div"):
            a, b = mg.tensor(av, requires_grad=True), mg.tensor(bv + 3.0, requires_grad=True)
            ta = torch.tensor(av, requires_grad=True)
            tb = torch.tensor(bv + 3.0, requires_grad=True)
            fn = {
                "add": lambda p, q: p + q,
                "sub": lambda p, q: p - q,
                "mul": lambda p, q: p * q,
                "div": lambda p, q: p / q,
            }[name]
            (fn(a, b).exp()).sum().backward()
            (fn(ta, tb).exp()).sum().backward()
            np.testing.assert_allclose(value(a.grad), ta.grad.numpy(), rtol=1e-10, err_msg=name)
            np.testing.assert_allclose(value(b.grad), tb.grad.numpy(), rtol=1e-10, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_broadcast_mul_gradients_finite_differences(shapes, seed):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    av, bv = rng.standard_normal(sa), rng.standard_normal(sb)
    up = rng.standard_normal(out_shape)
    a, b = mg.tensor(av, requires_grad=True), mg.tensor(bv, requires_grad=True)
    (a * b * up).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(
        value(a.grad), central_diff(lambda p: np.sum(p * bv * up), av), atol=1e-7
    )
    np.testing.assert_allclose(
        value(b.grad), central_diff(lambda q: np.sum(av * q * up), bv), atol=1e-7
    )


# =========================================================================================
# conventions at kinks
# =========================================================================================


def _grad_of(f, xv):
    x = mg.tensor(xv, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (0/0, log 0, ...) allowed
        out = f(x)
        (out if out.size == 1 else out.sum()).backward()
    return value(x.grad)


def test_abs_and_relu_have_zero_derivative_at_zero():
    np.testing.assert_array_equal(_grad_of(lambda x: x.abs(), [-2.0, 0.0, 3.0]), [-1, 0, 1])
    np.testing.assert_array_equal(_grad_of(lambda x: x.relu(), [-2.0, 0.0, 3.0]), [0, 0, 1])


def test_sqrt_at_zero_with_zero_upstream_gradient_is_zero():
    g = _grad_of(lambda x: (x.sqrt() * 0.0).sum(), [0.0, 4.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])  # not nan
    # and the ordinary derivative away from 0: 1/(2√4) = 0.25
    np.testing.assert_array_equal(_grad_of(lambda x: x.sqrt(), [4.0]), [0.25])


def test_rmse_gradient_at_a_perfect_fit_is_zero():
    target = np.array([1.0, -2.0, 3.0])
    g = _grad_of(lambda p: mg.losses.rmse(p, target), target.copy())
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_max_min_ties_share_gradient():
    np.testing.assert_array_equal(_grad_of(lambda x: x.max(), [1.0, 3.0, 3.0]), [0, 0.5, 0.5])
    np.testing.assert_array_equal(_grad_of(lambda x: x.min(), [2.0, 2.0, 3.0]), [0.5, 0.5, 0])
    g = _grad_of(lambda x: x.max(axis=1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 1.0]])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [1, 0, 0]])


def test_maximum_minimum_ties_split_half():
    for fn in (mg.maximum, mg.minimum):
        a = mg.tensor([1.0, 2.0, 5.0], requires_grad=True)
        b = mg.tensor([1.0, 3.0, 4.0], requires_grad=True)
        fn(a, b).sum().backward()
        # element 0 ties (½/½); maximum: b wins at 1, a at 2; minimum the other way round
        if fn is mg.maximum:
            np.testing.assert_array_equal(value(a.grad), [0.5, 0.0, 1.0])
            np.testing.assert_array_equal(value(b.grad), [0.5, 1.0, 0.0])
        else:
            np.testing.assert_array_equal(value(a.grad), [0.5, 1.0, 0.0])
            np.testing.assert_array_equal(value(b.grad), [0.5, 0.0, 1.0])


def test_pow_zero_exponent_at_zero_base():
    np.testing.assert_array_equal(_grad_of(lambda x: x**0, [0.0, 2.0]), [0.0, 0.0])


# --- how a tensor prints, counts and iterates (PyTorch's forms) ----------------------------


def test_repr_aligns_rows_under_the_prefix_and_names_dtype_op_and_requires_grad():
    """PyTorch's layout: rows aligned under ``tensor(``; the dtype shown unless it is a
    default (float64, int64, bool), then the recording op or requires_grad."""
    x = mg.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    assert repr(mg.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"
    assert repr(x) == "tensor([1., 2.], dtype=float32, requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], dtype=float32, op=mul)"
    assert repr(mg.tensor([True])) == "tensor([ True])"
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert repr(w * 1) == "tensor([[1., 2.],\n        [3., 4.]], op=mul)"


def test_len_and_iteration_follow_the_first_axis_and_keep_the_gradient():
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    rows = list(w)
    assert len(w) == len(rows) == 3
    np.testing.assert_array_equal(rows[2].numpy(), [5.0, 6.0])
    sum(row * k for k, row in enumerate(rows)).sum().backward()  # row k weighs k
    np.testing.assert_array_equal(w.grad.numpy(), [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(TypeError, match=r"^len\(\) of a 0-d tensor$"):
        len(mg.tensor(1.0))
    assert list(mg.tensor(np.zeros((0, 2)))) == []


def test_requires_grad_false_on_a_non_leaf_points_to_detach():
    y = mg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(
        RuntimeError, match=r"^requires_grad_\(False\) on a non-leaf: use detach\(\) instead$"
    ):
        y.requires_grad_(False)
    assert y.requires_grad and not y.detach().requires_grad


def test_requires_grad_on_an_integer_tensor_casts_it_but_not_inside_a_jit_trace():
    """Eagerly the data become float64 (a gradient needs floats); a jit trace would bake
    that conversion in outside its recorded ops, so it refuses with the cast to write."""
    t = mg.tensor([1, 2]).requires_grad_()
    assert t.dtype == np.float64 and t.requires_grad

    def f(x):
        return (mg.tensor([1, 2]).requires_grad_() * x).sum()

    expected = (
        r"^requires_grad_\(\) on an integer tensor inside a function being traced by "
        r"mg.jit: it converts the data outside the recorded ops. Cast first: "
        r"t.astype\(np.float64\).requires_grad_\(\)$"
    )
    with pytest.raises(TypeError, match=expected):  # TraceError is a TypeError
        mg.jit(f)(mg.tensor([1.0, 1.0]))
