"""Engine semantics of minigrad: accumulation, graph lifetime, grad mode, dtypes, identity,
vector-Jacobian products, higher derivatives, the functional transforms, broadcasting,
gradcheck/gradgradcheck, the conventions at kinks, and the losses.

Every expected value comes from somewhere other than minigrad itself: a derivative worked
out by hand (written next to the assertion), central finite differences, or PyTorch
(skipped cleanly when torch is not installed).
"""

from __future__ import annotations

import contextlib
import gc
import re
import threading
import warnings
import weakref

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import Op


def val(t) -> np.ndarray:
    """The value of a Tensor (or array) as a float ndarray."""
    return np.asarray(t.data if isinstance(t, mg.Tensor) else t)


def central_diff(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x of a scalar NumPy function f by central differences (independent of minigrad)."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for k in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[k] += eps
        minus.flat[k] -= eps
        out.flat[k] = (f(plus) - f(minus)) / (2 * eps)
    return out


def counting_identity() -> tuple[Op, list[np.ndarray]]:
    """An identity op whose gradient rule records every upstream gradient it receives."""
    calls: list[np.ndarray] = []

    def rule(g, out, x):
        calls.append(np.array(val(g), copy=True))
        return g

    return Op("counted_identity", lambda x: x * 1.0, (rule,)), calls


# =========================================================================================
# accumulation
# =========================================================================================


def test_a_plus_a_gives_two():
    a = mg.tensor(3.0, requires_grad=True)
    b = a + a  # db/da = 1 + 1 = 2
    b.backward()
    assert val(a.grad) == 2.0


def test_a_times_a_gives_two_a():
    a = mg.tensor([1.5, -2.0, 0.25], requires_grad=True)
    (a * a).sum().backward()  # d(a²)/da = 2a
    np.testing.assert_array_equal(val(a.grad), [3.0, -4.0, 0.5])


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
    np.testing.assert_allclose(val(x.grad), expected, rtol=1e-12)


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
    np.testing.assert_array_equal(val(x.grad), [10100.0, 10100.0])


def test_doubling_chain_of_diamonds_is_linear_not_exponential():
    # y_{k+1} = y_k + y_k, 60 times: dy/dx = 2^60 (exact in float64). There are 2^60 paths,
    # so this only finishes if each node is propagated once with its accumulated gradient.
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(60):
        y = y + y
    y.backward()
    assert val(x.grad) == 2.0**60
    assert val(y) == 2.0**60


def test_backward_twice_accumulates_on_leaves_and_not_on_intermediates():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x  # intermediate
    loss = (h * 3.0).sum()  # dloss/dx = 6x
    loss.backward()
    np.testing.assert_array_equal(val(x.grad), [6.0, 12.0])
    loss.backward()  # PyTorch semantics: the second pass adds to the first
    np.testing.assert_array_equal(val(x.grad), [12.0, 24.0])
    assert h.grad is None
    assert loss.grad is None
    assert not h.is_leaf and x.is_leaf


def test_zero_grad_resets():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 5.0).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * x).sum().backward()  # 2x, not 2x + 5
    np.testing.assert_array_equal(val(x.grad), [2.0, 4.0])


def test_grad_is_writable_and_not_shared_with_upstream_arrays():
    # dL/dx of x + y is the upstream ones for both leaves: the stored grads must be own
    # copies, or accumulating into one would change the other.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (x + y).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(val(x.grad), [2.0, 2.0])
    np.testing.assert_array_equal(val(y.grad), [2.0, 2.0])
    assert not np.shares_memory(x.grad.data, y.grad.data)


def test_ordinary_backward_after_create_graph_accumulates_correctly():
    # y = x + w: dy/dx = dy/dw = 1 per pass, so after two passes both grads are 2.
    x = mg.tensor(1.0, requires_grad=True)
    w = mg.tensor(2.0, requires_grad=True)
    y = x + w
    y.backward(create_graph=True)
    assert x.grad is not w.grad  # each leaf owns its gradient
    y.backward()
    assert val(x.grad) == 2.0
    assert val(w.grad) == 2.0


def test_backward_never_mutates_the_callers_gradient_tensor():
    z = mg.tensor([0.0, 0.0], requires_grad=True)
    v = mg.tensor([1.0, 1.0])
    (z + 1.0).backward(v, create_graph=True)
    (z + 1.0).backward(v)
    np.testing.assert_array_equal(val(v), [1.0, 1.0])
    np.testing.assert_array_equal(val(z.grad), [2.0, 2.0])


# =========================================================================================
# detach, requires_grad_
# =========================================================================================


def test_detach_cuts_the_graph():
    xv = np.array([1.0, -2.0, 3.0])
    x = mg.tensor(xv, requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf and d.grad is None
    np.testing.assert_array_equal(val(d), 2 * xv)
    # z = x · stop_gradient(x): dz/dx = x (the detached factor is a constant), not 2x
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(val(x.grad), xv)


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
    np.testing.assert_array_equal(val(t.grad), [2.0, 4.0, 6.0])
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
        assert val(y) == 2.0 + n
        assert val(x.grad) == 1.0
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
        np.testing.assert_allclose(val(g), 3 * np.exp(3 * np.array([0.1, 0.2])))  # 3e^{3x}
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
    np.testing.assert_array_equal(val(x32.grad), [3.0, 4.0])  # d(xy)/dx = y
    np.testing.assert_array_equal(val(y64.grad), [1.0, 2.0])


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
    np.testing.assert_array_equal(val(g), expected)


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
    np.testing.assert_array_equal(val(b.grad), [3.0, 3.0])


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
        np.testing.assert_array_equal(val(out), expected, err_msg=name)


# =========================================================================================
# vector-Jacobian products and higher derivatives
# =========================================================================================

XV = np.array([0.3, -1.2, 0.7])


def _f_vec(x):
    # f(x) = [x0·x1, x1² + x2, e^{x0}]
    return mg.stack([x[0] * x[1], x[1] ** 2 + x[2], x[0].exp()])


def _jac_by_hand(x):
    # ∂f/∂x = [[x1, x0, 0], [0, 2·x1, 1], [e^{x0}, 0, 0]]
    return np.array([[x[1], x[0], 0.0], [0.0, 2 * x[1], 1.0], [np.exp(x[0]), 0.0, 0.0]])


def test_backward_with_gradient_is_vjp():
    v = np.array([2.0, -1.0, 0.5])
    x = mg.tensor(XV, requires_grad=True)
    _f_vec(x).backward(gradient=v)
    np.testing.assert_allclose(val(x.grad), v @ _jac_by_hand(XV), rtol=1e-12)
    # also for a linear map: y = A x has J = A, so the VJP is Aᵀv
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x2 = mg.tensor(XV, requires_grad=True)
    (mg.tensor(a) @ x2).backward(gradient=mg.tensor([1.0, -2.0]))
    np.testing.assert_allclose(val(x2.grad), a.T @ np.array([1.0, -2.0]), rtol=1e-12)


def test_create_graph_second_derivative():
    xv = np.array([0.5, -1.0, 2.0])
    x = mg.tensor(xv, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    np.testing.assert_allclose(val(g), 3 * xv**2)  # d(x³)/dx = 3x²
    assert g.requires_grad
    x.zero_grad()
    g.sum().backward()
    np.testing.assert_allclose(val(x.grad), 6 * xv)  # d(3x²)/dx = 6x


def test_create_graph_mixed_partial():
    # f(a, b) = a²·b: ∂f/∂a = 2ab, then ∂(2ab)/∂b = 2a
    a = mg.tensor(1.5, requires_grad=True)
    b = mg.tensor(-2.0, requires_grad=True)
    (a * a * b).backward(create_graph=True)
    ga = a.grad
    a.zero_grad()
    b.zero_grad()
    ga.backward()
    assert val(b.grad) == pytest.approx(3.0)  # 2a
    assert val(a.grad) == pytest.approx(-4.0)  # ∂(2ab)/∂a = 2b


# =========================================================================================
# functional transforms
# =========================================================================================


def test_grad_and_value_and_grad():
    assert val(mg.grad(lambda x: x**3)(2.0)) == pytest.approx(12.0)  # 3x²
    v, g = mg.value_and_grad(lambda x: (x * x).sum())(np.array([1.0, -2.0]))
    assert val(v) == pytest.approx(5.0)  # 1 + 4
    np.testing.assert_allclose(val(g), [2.0, -4.0])  # 2x
    assert not v.requires_grad and not g.requires_grad


def test_nested_grad():
    f = lambda x: x**4  # noqa: E731
    # f' = 4x³, f'' = 12x², f''' = 24x; at x = 1.5: 13.5, 27, 36
    assert val(mg.grad(f)(1.5)) == pytest.approx(13.5)
    assert val(mg.grad(mg.grad(f))(1.5)) == pytest.approx(27.0)
    assert val(mg.grad(mg.grad(mg.grad(f)))(1.5)) == pytest.approx(36.0)
    assert val(mg.grad(mg.grad(mg.grad(lambda x: x**3)))(-7.0)) == pytest.approx(6.0)


def test_argnums():
    f = lambda w, b: (2 * w + b) ** 2  # noqa: E731
    # ∂f/∂w = 4(2w + b), ∂f/∂b = 2(2w + b); at (1, 1): 12, 6
    gw, gb = mg.grad(f, argnums=(0, 1))(1.0, 1.0)
    assert (val(gw), val(gb)) == (12.0, 6.0)
    assert val(mg.grad(f, argnums=1)(1.0, 1.0)) == 6.0
    assert val(mg.grad(f, argnums=-1)(1.0, 1.0)) == 6.0
    (gb_only,) = mg.grad(f, argnums=(1,))(1.0, 1.0)
    assert val(gb_only) == 6.0


def test_argnums_with_the_same_tensor_twice_gives_separate_partials():
    # f(a, b) = a·b²: ∂f/∂a = b², ∂f/∂b = 2ab; at a = b = 3: 9 and 18 (not 27 = d f(x,x)/dx)
    f = lambda a, b: a * b * b  # noqa: E731
    for x in (3.0, mg.tensor(3.0), mg.tensor(3.0, requires_grad=True)):
        ga, gb = mg.grad(f, argnums=(0, 1))(x, x)
        assert (val(ga), val(gb)) == (9.0, 18.0)


def test_jacobian_matches_hand_derivation():
    jac = mg.jacobian(_f_vec)(XV)
    assert jac.shape == (3, 3)
    np.testing.assert_allclose(val(jac), _jac_by_hand(XV), rtol=1e-12)
    # shapes: f(x).shape + x.shape; f(X) = 2X for a (2, 2) X has J[i,j,k,l] = 2δᵢₖδⱼₗ
    j2 = mg.jacobian(lambda m: m * 2.0)(np.ones((2, 2)))
    assert j2.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(val(j2).reshape(4, 4), 2 * np.eye(4))


def test_hessian_by_hand():
    # f = x0²·x1 + x1³: H = [[2x1, 2x0], [2x0, 6x1]]
    x = np.array([0.5, -1.5])
    h = mg.hessian(lambda t: t[0] ** 2 * t[1] + t[1] ** 3)(x)
    np.testing.assert_allclose(val(h), [[2 * x[1], 2 * x[0]], [2 * x[0], 6 * x[1]]])


def test_hessian_of_linear_regression_mse_is_2_over_n_xtx():
    rng = np.random.default_rng(1)
    n = 7
    xm = rng.standard_normal((n, 3))
    y = rng.standard_normal(n)

    def loss(w, b):
        return mg.losses.mse(mg.tensor(xm) @ w + b, mg.tensor(y))

    blocks = mg.hessian(loss, argnums=(0, 1))(rng.standard_normal(3), 0.4)
    (hww, hwb), (hbw, hbb) = blocks
    assert (hww.shape, hwb.shape, hbw.shape, hbb.shape) == ((3, 3), (3,), (3,), ())
    full = np.block([[val(hww), val(hwb)[:, None]], [val(hbw)[None, :], val(hbb).reshape(1, 1)]])
    x_tilde = np.hstack([xm, np.ones((n, 1))])
    np.testing.assert_allclose(full, (2.0 / n) * x_tilde.T @ x_tilde, rtol=1e-12, atol=1e-14)


def test_functional_transforms_never_touch_dot_grad():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    w = mg.tensor([2.0, 3.0], requires_grad=True)  # captured by the closure
    (x * w).sum().backward()  # x.grad = w, w.grad = x
    x_grad, w_grad = x.grad, w.grad
    fresh = mg.tensor([1.0, 1.0], requires_grad=True)

    def f(t):
        return ((t * w).sum()) ** 2

    for t in (x, fresh):
        mg.grad(f)(t)
        mg.value_and_grad(f)(t)
        mg.jacobian(lambda t: t * w)(t)
        mg.hessian(f)(t)
    assert x.grad is x_grad and w.grad is w_grad
    np.testing.assert_array_equal(val(x.grad), [2.0, 3.0])
    np.testing.assert_array_equal(val(w.grad), [0.5, -1.0])
    assert fresh.grad is None


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
    np.testing.assert_allclose(val(a.grad), up.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(val(b.grad), up.sum(axis=0, keepdims=True))
    # (2,3) * (3,): dL/dA = up ⊙ b (b repeated per row), dL/db = Σ_rows up ⊙ A
    up2 = up[:2, :3]
    av, bv = rng.standard_normal((2, 3)), rng.standard_normal(3)
    a2, b2 = mg.tensor(av, requires_grad=True), mg.tensor(bv, requires_grad=True)
    ((a2 * b2) * up2).sum().backward()
    assert a2.grad.shape == (2, 3) and b2.grad.shape == (3,)
    np.testing.assert_allclose(val(a2.grad), up2 * bv)
    np.testing.assert_allclose(val(b2.grad), (up2 * av).sum(axis=0))
    # scalar Tensor · matrix: dL/ds = Σ up ⊙ M, dL/dM = s·up
    mv = rng.standard_normal((3, 4))
    s, m = mg.tensor(1.7, requires_grad=True), mg.tensor(mv, requires_grad=True)
    ((s * m) * up).sum().backward()
    assert s.grad.shape == ()
    np.testing.assert_allclose(val(s.grad), (up * mv).sum())
    np.testing.assert_allclose(val(m.grad), 1.7 * up)


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
            np.testing.assert_allclose(val(a.grad), ta.grad.numpy(), rtol=1e-10, err_msg=name)
            np.testing.assert_allclose(val(b.grad), tb.grad.numpy(), rtol=1e-10, err_msg=name)


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
        val(a.grad), central_diff(lambda p: np.sum(p * bv * up), av), atol=1e-7
    )
    np.testing.assert_allclose(
        val(b.grad), central_diff(lambda q: np.sum(av * q * up), bv), atol=1e-7
    )


# =========================================================================================
# gradcheck and gradgradcheck
# =========================================================================================

bad_square = Op("bad_square", np.square, (lambda g, out, x: g * x,))  # missing the factor 2


def _graph_breaking_square() -> Op:
    # x² with the right rule 2·g·x — except that x is read through .data, which under
    # create_graph turns the Tensor x into a constant: first derivative right, the
    # derivative of the rule with respect to x lost. (np.asarray(x) would be refused.)
    return Op("square_breaks_graph", np.square, (lambda g, out, x: 2 * g * getattr(x, "data", x),))


def test_gradcheck_passes_on_correct_functions():
    rng = np.random.default_rng(4)
    a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    c = mg.tensor(rng.uniform(0.5, 2.0, 3), requires_grad=True)
    assert mg.gradcheck(lambda a, b: (a @ b).tanh(), a, b) is True
    assert mg.gradcheck(lambda a, c: (a * c).sigmoid() / c + c.log() * c.sqrt(), a, c) is True
    assert mg.gradcheck(lambda a: (a.exp().sum(axis=0), a.mean(axis=1)), a) is True
    assert mg.gradcheck(lambda a, k: a * k, a, np.full((2, 3), 2.0)) is True  # constant arg


def test_gradcheck_reports_the_wrong_gradient():
    xv = np.array([0.5, -1.0, 2.0])
    c = np.array([1.0, 1.0, 1.0])  # argument 0: a constant, not checked
    a = mg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    x = mg.tensor(xv, requires_grad=True)
    # f(c, a, x) = c · a · x²: argument 1 is right, argument 2 gets x instead of 2x (error
    # |x|, worst at element 2 where x = 2: analytical 2, numerical 4)
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda c, a, x: a * bad_square(x) * c, c, a, x)
    msg = str(info.value)
    assert "input 2" in msg  # the argument's position in the call, constants counted
    assert "input element (2,)" in msg
    m = re.search(r"analytical ([-\d.e]+), numerical ([-\d.e]+)", msg)
    assert m is not None, msg
    assert float(m.group(1)) == pytest.approx(2.0)
    assert float(m.group(2)) == pytest.approx(4.0, rel=1e-6)


def test_gradcheck_never_mutates_inputs():
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    y = mg.tensor(rng.standard_normal(3), requires_grad=True)
    const = rng.standard_normal(3)
    before = (x.data.copy(), y.data.copy(), const.copy())
    x_data, y_data = x.data, y.data
    mg.gradcheck(lambda x, y, c: (x * y + c).tanh(), x, y, const, atol=1e-2, rtol=1e-2)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda x, y: bad_square(x) * y, x, y)
    mg.gradgradcheck(lambda x, y: (x * y).tanh(), x, y, atol=1e-2, rtol=1e-2)
    assert x.data is x_data and y.data is y_data
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.data, before[0])
    np.testing.assert_array_equal(y.data, before[1])
    np.testing.assert_array_equal(const, before[2])
    assert x.grad is None and y.grad is None
    assert x.requires_grad and y.requires_grad


def test_gradcheck_fast_mode():
    x = mg.tensor(np.linspace(-1.0, 1.5, 20), requires_grad=True)
    calls = [0]

    def f(t):
        calls[0] += 1
        return (t.tanh() * t).sum()

    assert mg.gradcheck(f, x, fast_mode=True) is True
    # fast mode passed on its own: one forward + two perturbed ones, not 2·20 + 3
    assert calls[0] <= 5
    calls[0] = 0
    assert mg.gradcheck(f, x) is True
    assert calls[0] >= 40
    with pytest.raises(mg.GradcheckError, match=r"input 0.*analytical") as info:
        mg.gradcheck(lambda t: bad_square(t).sum(), x, fast_mode=True)
    # the error |2x − x| = |x| is largest at the last element, x = 1.5
    assert "input element (19,)" in str(info.value)


def test_gradgradcheck():
    rng = np.random.default_rng(6)
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert mg.gradgradcheck(lambda t: t.tanh(), x) is True
    assert mg.gradgradcheck(lambda a, b: a @ b, a, b) is True
    assert mg.gradgradcheck(lambda t: t.sigmoid() * t.exp(), x) is True


def test_gradgradcheck_catches_a_rule_that_breaks_the_graph():
    sq = _graph_breaking_square()
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(lambda t: sq(t), x) is True  # first derivative is right
    with pytest.raises(mg.GradcheckError, match="input 0"):
        mg.gradgradcheck(lambda t: sq(t), x)


# =========================================================================================
# conventions at kinks
# =========================================================================================


def _grad_of(f, xv):
    x = mg.tensor(xv, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (0/0, log 0, ...) allowed
        out = f(x)
        (out if out.size == 1 else out.sum()).backward()
    return val(x.grad)


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
            np.testing.assert_array_equal(val(a.grad), [0.5, 0.0, 1.0])
            np.testing.assert_array_equal(val(b.grad), [0.5, 1.0, 0.0])
        else:
            np.testing.assert_array_equal(val(a.grad), [0.5, 1.0, 0.0])
            np.testing.assert_array_equal(val(b.grad), [0.5, 0.0, 1.0])


def test_pow_zero_exponent_at_zero_base():
    np.testing.assert_array_equal(_grad_of(lambda x: x**0, [0.0, 2.0]), [0.0, 0.0])


# =========================================================================================
# losses
# =========================================================================================

# pred = [1, 4, 2], target = [2, 2, 2] → r = pred − target = [−1, 2, 0], N = 3
PRED, TARGET = np.array([1.0, 4.0, 2.0]), np.array([2.0, 2.0, 2.0])
R = PRED - TARGET
HAND = {
    # name: (value, ∂/∂pred)
    "l1_loss": (3.0, [-1.0, 1.0, 0.0]),  # |−1| + |2| + 0; sign(r)
    "mae": (1.0, [-1 / 3, 1 / 3, 0.0]),  # 3/3; sign(r)/N
    "l2_loss": (5.0, [-2.0, 4.0, 0.0]),  # 1 + 4 + 0; 2r
    "mse": (5 / 3, [-2 / 3, 4 / 3, 0.0]),  # 5/3; 2r/N
    "rmse": (np.sqrt(5 / 3), list(R / (3 * np.sqrt(5 / 3)))),  # √(5/3); r/(N·rmse)
    # |r| ≤ 1: ½r² = 0.5 and 0; |r| = 2 > 1: 1·(2 − ½) = 1.5 → (0.5 + 1.5 + 0)/3 = 2/3;
    # derivative clip(r, −1, 1)/N
    "huber": (2 / 3, [-1 / 3, 1 / 3, 0.0]),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_loss_values_and_gradients_by_hand(name):
    value, grad = HAND[name]
    p = mg.tensor(PRED, requires_grad=True)
    t = mg.tensor(TARGET, requires_grad=True)
    loss = mg.losses.get(name)(p, t)
    assert isinstance(loss, mg.Tensor) and loss.shape == ()
    assert val(loss) == pytest.approx(value, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(val(p.grad), grad, rtol=1e-12, atol=1e-15)
    # every loss depends on r = pred − target only, so ∂/∂target = −∂/∂pred
    np.testing.assert_allclose(val(t.grad), -np.array(grad), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(HAND))
@pytest.mark.parametrize("kind", ["list", "ndarray"])
def test_losses_accept_array_likes_and_return_a_scalar_tensor(name, kind):
    convert = list if kind == "list" else np.asarray
    loss = mg.losses.get(name)(convert(PRED), convert(TARGET))
    assert isinstance(loss, mg.Tensor) and loss.shape == ()
    assert not loss.requires_grad
    assert val(loss) == pytest.approx(HAND[name][0], rel=1e-12)


@pytest.mark.parametrize(("summed", "mean"), [("l1_loss", "mae"), ("l2_loss", "mse")])
def test_sum_and_mean_losses_differ_by_n(summed, mean):
    rng = np.random.default_rng(7)
    n = 11
    pv, tv = rng.standard_normal(n), rng.standard_normal(n)
    ps, pm = mg.tensor(pv, requires_grad=True), mg.tensor(pv, requires_grad=True)
    ls, lm = mg.losses.get(summed)(ps, tv), mg.losses.get(mean)(pm, tv)
    ls.backward()
    lm.backward()
    assert val(ls) == pytest.approx(n * val(lm), rel=1e-12)
    np.testing.assert_allclose(val(ps.grad), n * val(pm.grad), rtol=1e-12)


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    rng = np.random.default_rng(8)
    pv, tv = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))
    reference = {
        "l1_loss": lambda p, t: fn.l1_loss(p, t, reduction="sum"),
        "mae": lambda p, t: fn.l1_loss(p, t),
        "l2_loss": lambda p, t: fn.mse_loss(p, t, reduction="sum"),
        "mse": lambda p, t: fn.mse_loss(p, t),
        "rmse": lambda p, t: fn.mse_loss(p, t).sqrt(),
        "huber": lambda p, t: fn.huber_loss(p, t, delta=1.0),
    }
    for name, ref in reference.items():
        p = mg.tensor(pv, requires_grad=True)
        tp = torch.tensor(pv, requires_grad=True)
        loss, tloss = mg.losses.get(name)(p, tv), ref(tp, torch.tensor(tv))
        loss.backward()
        tloss.backward()
        assert val(loss) == pytest.approx(tloss.item(), rel=1e-12), name
        np.testing.assert_allclose(val(p.grad), tp.grad.numpy(), rtol=1e-10, err_msg=name)
