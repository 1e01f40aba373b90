"""mg.jit: compiled equals eager (values, gradients, Hessians) on random expressions;
retracing, static arguments, live closures and the trace errors; the generated source.

The reference for every compiled result is the same function run eagerly; the eager
engine is itself held to finite differences and PyTorch elsewhere (test_ops, test_trust).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import testing as mt
from minigrad.autograd import Op, TraceError

RTOL = 1e-12  # compiled vs eager: the passes only reassociate constant factors and Σr²

UNARY = [
    ("tanh", lambda x: x.tanh()),
    ("sin", lambda x: x.sin()),
    ("exp_tanh", lambda x: x.tanh().exp()),
    ("sigmoid", lambda x: x.sigmoid()),
    ("softplus", lambda x: x.softplus()),
    ("log", lambda x: (x * x + 1).log()),
    ("sqrt", lambda x: (x * x + 1).sqrt()),
    ("relu", lambda x: x.relu()),
    ("abs", lambda x: x.abs()),
    ("neg", lambda x: -x),
    ("square", lambda x: x**2),
    ("cube", lambda x: x**3),
    ("clip", lambda x: x.clip(-1.0, 1.0)),
    ("sum_last", lambda x: x.sum(axis=-1, keepdims=True)),
    ("mean_first", lambda x: x.mean(axis=0, keepdims=True)),
    ("max_last", lambda x: x.max(axis=-1, keepdims=True)),
    ("logsumexp", lambda x: x.logsumexp(axis=-1, keepdims=True)),
    ("softmax", lambda x: x.softmax(axis=-1)),
    ("slice", lambda x: x[..., ::2]),
    ("scale", lambda x: 2.5 * x - 1.0),
]
BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1)),
    ("maximum", lambda a, b: mg.maximum(a, b)),
    ("minimum", lambda a, b: mg.minimum(a, b)),
    ("where", lambda a, b: mg.where(a > b, a, b * 2)),
    ("matmul", lambda a, b: a @ b.T),
]


@st.composite
def expressions(draw: st.DrawFn) -> tuple[list, list[np.ndarray]]:
    """A random program over two inputs of broadcastable shapes: a list of steps, each an
    op and the earlier values it reads (reuse included), ending in a scalar."""
    shape_a, shape_b = draw(mt.broadcastable_shapes(max_side=3, min_dims=1, max_dims=2))
    a, b = draw(mt.array_pairs(st.just((shape_a, shape_b)), distinct_gap=0.05))
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            steps.append(
                ("unary", draw(st.sampled_from(range(len(UNARY)))), draw(st.integers(0, 99)))
            )
        else:
            steps.append(
                ("binary", draw(st.sampled_from(range(len(BINARY)))), draw(st.integers(0, 99)),
                 draw(st.integers(0, 99)))
            )  # fmt: skip
    return steps, [a, b]


def build(steps: list):
    """The function the steps describe: f(a, b) -> a scalar."""

    def f(a, b):
        pool = [a, b]
        for step in steps:
            if step[0] == "unary":
                pool.append(UNARY[step[1]][1](pool[step[2] % len(pool)]))
            else:
                pool.append(
                    BINARY[step[1]][1](pool[step[2] % len(pool)], pool[step[3] % len(pool)])
                )
        return (pool[-1] * pool[-1]).sum() + pool[-1].mean()

    return f


def eager_ok(f, arrays) -> bool:
    try:
        with np.errstate(all="ignore"):
            value = f(*(mg.tensor(x, requires_grad=True) for x in arrays))
    except (mg.ShapeError, ValueError, IndexError):  # shapes that do not fit the ops drawn
        return False
    return bool(np.isfinite(value.data).all())


def close(compiled, eager) -> None:
    if isinstance(eager, tuple | list):
        assert len(compiled) == len(eager)
        for c, e in zip(compiled, eager, strict=True):
            close(c, e)
        return
    assert isinstance(compiled, mg.Tensor) and compiled.requires_grad == eager.requires_grad
    assert compiled.shape == eager.shape and compiled.dtype == eager.dtype
    np.testing.assert_allclose(compiled.numpy(), eager.data, rtol=RTOL, atol=1e-13)


# --------------------------------------------------------------------------- compiled == eager


@settings(max_examples=40, deadline=None)
@given(expressions())
def test_compiled_values_and_gradients_equal_eager(case):
    steps, arrays = case
    f = build(steps)
    assume(eager_ok(f, arrays))
    vg = mg.value_and_grad(f, argnums=(0, 1))
    close(mg.jit(f)(*arrays), f(*(mg.tensor(x) for x in arrays)))
    close(mg.jit(vg)(*arrays), vg(*arrays))


@settings(max_examples=15, deadline=None)
@given(expressions())
def test_compiled_hessians_equal_eager(case):
    steps, arrays = case
    f = build(steps)
    assume(eager_ok(f, arrays) and arrays[0].size <= 4)
    hess = mg.hessian(f, argnums=0)
    close(mg.jit(hess)(*arrays), hess(arrays[0], mg.tensor(arrays[1])))


@pytest.mark.parametrize(
    "fn",
    [
        lambda X, w, b, y: mg.losses.mse(mg.ops.linear(X, w, b), y),
        lambda X, w, b, y: mg.losses.mae(X @ w.T + b, y),
        lambda X, w, b, y: mg.losses.huber(X @ w.T + b, y, delta=0.5),
        lambda X, w, b, y: mg.losses.rmse(X @ w.T + b, y),
        lambda X, w, b, y: mg.losses.cross_entropy(X @ w.T + b, np.array([0, 1, 1, 0])),
        lambda X, w, b, y: mg.losses.bce_with_logits(X @ w.T + b, (y > 0) * 1.0),
        lambda X, w, b, y: (mg.concatenate([X, X * 2], axis=1) @ mg.concatenate([w, w], 1).T).max(),
        lambda X, w, b, y: (
            mg.stack([X.sum(0), X.max(0)]).prod() + mg.einsum("ij,kj->ik", X, w).sum()
        ),
        lambda X, w, b, y: np.var(X @ w.T + b, axis=0).sum(),
    ],
)
def test_fused_ops_and_losses_compile_to_the_eager_gradient(fn):
    rng = np.random.default_rng(4)
    X, w, b, y = (rng.standard_normal(s) for s in ((4, 3), (2, 3), (2,), (4, 2)))
    vg = mg.value_and_grad(fn, argnums=(1, 2))
    close(mg.jit(vg)(X, w, b, y), vg(X, w, b, y))


def test_jacobian_and_a_module_closure():
    model = mg.nn.Sequential(mg.nn.Linear(3, 4, seed=0), mg.nn.Tanh(), mg.nn.Linear(4, 2, seed=1))
    x = np.random.default_rng(0).standard_normal((5, 3))
    jac = mg.jacobian(lambda inp: model(inp).sum(axis=0))
    close(mg.jit(jac)(x), jac(x))


# --------------------------------------------------------------------------- the source


# under mutation testing (mutmut) every function is wrapped: its source is not the op's, so
# a compiled function passes it in instead of defining it (the source differs from these)
MUTATING = hasattr(mg.ops.sum_of_squares, "__wrapped__")
source_as_shown = pytest.mark.skipif(MUTATING, reason="mutmut wraps the ops' forwards")


@source_as_shown
def test_the_notes_model_compiles_to_the_hand_derivation():
    def loss(w, b, X, y):
        return mg.losses.mse(X @ w + b, y)

    fast = mg.jit(mg.value_and_grad(loss, argnums=(0, 1)))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    fast(np.zeros(2), 0.0, X, y)  # b a Python number: an input, differentiated as float64
    src = fast.source
    body = src[src.index("def loss(w, b, X, y):") :]
    forward, backward = body.split("# backward")
    assert "b = np.asarray(b, dtype=np.float64)" in forward  # the number b, as an array
    assert "t2 = t1 + b" in forward and "t3 = t2 - y" in forward  # r = ŷ − y
    assert "sumsq = sum_of_squares(t3)" in forward and "mse = sumsq * 0.125" in forward  # /8
    assert "def sum_of_squares(r, minus=None):" in src  # the helper is in the source
    assert "d_t2 = t3 * 0.25" in backward  # 2/N · r with N = 8
    assert "d_w = X.T @ d_t2" in backward  # 2/N · Xᵀr
    assert "d_b = d_t2.sum()" in backward  # 2/N · Σr
    assert backward.count("#") >= 3  # each backward line names its rule
    assert "∂mse/∂predᵢ = 2rᵢ/N" in backward


@source_as_shown
def test_the_squared_mean_form_compiles_to_the_same_program():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    fast = mg.jit(mg.value_and_grad(lambda w, X, y: ((X @ w - y) ** 2).mean()))
    fast(np.zeros(2), X, y)
    body = fast.source[fast.source.index("def ") :]
    assert "sum_of_squares" in body and "**" not in body  # mean(r·r) → Σr² / N
    assert "broadcast_to" not in body  # the scalar 1/N is never broadcast


def test_generated_source_is_what_runs():
    fast = mg.jit(lambda x: (x * 3).exp())
    x = np.array([0.1, 0.2])
    namespace = {"np": np}
    fast(x)
    exec(fast.source, namespace)
    np.testing.assert_allclose(namespace["compiled"](x)[0], np.exp(3 * x))  # a lambda's name


# --------------------------------------------------------------------------- caching


def test_new_shapes_and_dtypes_retrace_and_the_same_ones_do_not():
    fast = mg.jit(lambda x: (x * x).sum())
    fast(np.ones(3))
    fast(np.full(3, 2.0))
    assert fast.traces == 1
    assert fast(np.ones(4)).item() == 4.0
    assert fast.traces == 2
    assert fast(np.ones(4, dtype=np.float32)).dtype == np.float32
    assert fast.traces == 3
    fast(mg.tensor(np.ones(4)))  # a Tensor of a seen shape: no new trace
    assert fast.traces == 3
    out = fast(mg.tensor(np.ones(4), requires_grad=True))  # requires grad: a new trace
    assert fast.traces == 4 and out.requires_grad
    with mg.no_grad():  # grad mode is part of the key too
        assert not fast(mg.tensor(np.ones(4), requires_grad=True)).requires_grad
    assert fast.traces == 5


def test_static_arguments_retrace_per_value():
    fast = mg.jit(lambda x, p: (x**p).sum(), static_argnums=1)
    assert fast(np.array([2.0, 3.0]), 2).item() == 13.0
    assert fast(np.array([2.0, 3.0]), 3).item() == 35.0
    assert fast(np.array([1.0, 1.0]), 2).item() == 2.0
    assert fast.traces == 2
    with pytest.raises(TypeError, match="hashable"):
        fast(np.ones(2), [2])


def test_closed_over_parameters_are_read_live():
    w = mg.nn.Parameter([1.0, 2.0])
    opt = mg.optim.SGD([w], lr=0.5)
    step = mg.jit(lambda x: mg.autograd.grad((w * x).sum() ** 2, [w]))
    x = np.array([1.0, 1.0])
    for _ in range(3):
        (g,) = step(x)
        (expected,) = mg.autograd.grad((w * x).sum() ** 2, [w])
        np.testing.assert_allclose(g.numpy(), expected.numpy())  # 2(w·x)·x, with the new w
        w.grad = g
        opt.step()
    assert step.traces == 1


def test_results_never_alias_the_buffers_kept_between_calls():
    n = 10_000  # above BUFFER_MIN_SIZE: temporaries live in kept buffers
    fast = mg.jit(lambda x, y: ((x * 2 + y) * 3, (x - y).exp().sum()))
    a, b = np.linspace(0, 1, n), np.linspace(1, 2, n)
    first = fast(a, b)
    kept = first[0].numpy().copy()
    second = fast(b, a)
    np.testing.assert_array_equal(first[0].numpy(), kept)  # the second call wrote elsewhere
    np.testing.assert_allclose(second[0].numpy(), (b * 2 + a) * 3)
    assert "out=" in fast.source


def test_threads_have_their_own_buffers():
    n = 20_000
    fast = mg.jit(lambda x: ((x + 1) * (x - 1)).sum())
    errors = []

    def work(k: int) -> None:
        x = np.full(n, float(k))
        for _ in range(50):
            if fast(x).item() != n * (k * k - 1):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_returns_the_structure_fn_returns():
    fast = mg.jit(lambda x: {"sum": x.sum(), "parts": [x * 2, 3.5], "pair": (x, x.exp())})
    out = fast(np.array([1.0, 2.0]))
    assert set(out) == {"sum", "parts", "pair"} and out["parts"][1] == 3.5
    assert isinstance(out["pair"], tuple) and out["sum"].item() == 3.0


def test_jit_inside_jit_and_dropout_draws_new_masks():
    inner = mg.jit(lambda x: x * 2)
    outer = mg.jit(lambda x: inner(x).sum())
    assert outer(np.ones(3)).item() == 6.0
    drop = mg.nn.Dropout(0.5, seed=0)
    fast = mg.jit(lambda x: drop(x))
    masks = {tuple(fast(np.ones(32)).numpy()) for _ in range(4)}
    assert len(masks) > 1  # a fresh mask every call, not the traced one


# --------------------------------------------------------------------------- trace errors


@pytest.mark.parametrize(
    ("fn", "what"),
    [
        (lambda x: x * 2 if x.sum() > 1 else x, "bool"),
        (lambda x: x * float(x.sum()), "item"),
        (lambda x: x * x.sum().item(), "item"),
        (lambda x: mg.tensor(np.asarray(x) * 2), "asarray"),
        (lambda x: x[x > 0], "indexing"),
        (lambda x: mg.tensor(x), "mg.tensor"),
    ],
)
def test_python_control_flow_on_a_traced_value_is_an_error(fn, what):
    with pytest.raises(TraceError, match=what) as info:
        mg.jit(fn)(np.array([1.0, 2.0]))
    assert "static_argnums" in str(info.value) or "mg.where" in str(info.value)


def test_backward_and_in_place_changes_inside_jit_are_errors():
    w = mg.nn.Parameter([1.0])
    with pytest.raises(TraceError, match="backward"):
        mg.jit(lambda x: (w * x).sum().backward())(np.ones(1))
    with pytest.raises(TraceError, match="in-place"):
        mg.jit(lambda x: x.__iadd__(1))(np.ones(1))


def test_tracing_leaves_the_engine_as_it_was():
    with pytest.raises(TraceError):
        mg.jit(lambda x: float(x))(np.ones(()))
    assert not mg.autograd.is_tracing()
    assert float(mg.tensor(2.0)) == 2.0


@source_as_shown
def test_the_readme_shows_the_code_jit_writes():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("## Compiled mode") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code.replace("print(step.source)", ""), namespace)
    assert namespace["step"].source == shown


def test_python_numbers_are_weak_inputs_of_the_trace():
    fast = mg.jit(lambda x, s: x * s)
    x = np.ones(2, dtype=np.float32)
    assert fast(x, 2.0).dtype == np.float32  # as eager: float32 × a Python float
    assert fast(x, 3.0).numpy().tolist() == [3.0, 3.0]
    assert fast.traces == 1  # a new number, the same trace
    assert "def <lambda>" not in fast.source and "(x, s)" in fast.source  # s is a parameter
    assert fast(x, np.float64(2.0)).dtype == np.float64  # a NumPy scalar is an array input
    assert fast(x, 3).dtype == np.float32 and fast.traces == 3  # an int: its own trace


def test_a_number_used_as_a_number_becomes_a_constant_keyed_by_its_bits():
    fast = mg.jit(lambda x, s: x * (s * 2))  # s * 2 is Python arithmetic in eager code
    x = np.ones(2, dtype=np.float32)
    assert fast(x, 1.5).dtype == np.float32 and fast(x, 1.5).numpy().tolist() == [3.0, 3.0]
    assert fast(x, 2.0).numpy().tolist() == [4.0, 4.0]
    assert fast.traces == 2  # a trace per value, as for a static argument
    assert np.signbit(fast(np.ones(1), -0.0).numpy()).all()  # −0.0 is not 0.0
    assert not np.signbit(fast(np.ones(1), 0.0).numpy()).any()
    nan = float("nan")
    fast(x, nan)
    traces = fast.traces
    fast(x, nan)
    assert fast.traces == traces  # a nan is its own key, not a new trace every call


def test_one_tensor_passed_twice_is_differentiated_through_both_uses():
    """Eager code given t twice differentiates t through both arguments; the trace makes
    one stand-in for it (the key says which arguments are the same tensor)."""
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    u = mg.tensor([5.0, 7.0], requires_grad=True)
    f = mg.jit(lambda a, b: mg.autograd.grad((a * b).sum(), [a]))
    np.testing.assert_array_equal(f(t, t)[0].numpy(), 2 * t.numpy())  # d(t·t)/dt = 2t
    np.testing.assert_array_equal(f(t, u)[0].numpy(), u.numpy())  # d(t·u)/dt = u
    np.testing.assert_array_equal(f(t, t)[0].numpy(), 2 * t.numpy())
    assert f.traces == 2


def test_an_argument_that_is_also_read_from_outside_is_refused():
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    f = mg.jit(lambda x: mg.autograd.grad((x * w).sum(), [w]))
    x = mg.tensor([1.0, 1.0], requires_grad=True)
    np.testing.assert_array_equal(f(x)[0].numpy(), x.numpy())
    with pytest.raises(TraceError, match="argument x is also a tensor the function reads"):
        f(w)  # eager: d(w·w)/dw = 2w; apart, they would give w


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
