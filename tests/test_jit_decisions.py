"""One test per compiler decision that the rest of the suite left unpinned.

``tools/jit_mutants.py`` plants hand-written semantic mutants in ``minigrad/jit/`` (a cache
key that forgets something, a guard that checks too little, a pass applied outside its
preconditions, a buffer reused too early, an output returned without its copy); each
test here kills at least one mutant that survived the other jit tests, and its docstring
names the decision it pins. The reference is always eager minigrad on the same inputs,
calculus, or PyTorch; no expected number is copied from the compiler's output.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import TraceError

# --------------------------------------------------------------------------- helpers


def bitwise(got: Any, want: Any, where: str = "result") -> None:
    """Same dtype, shape, values (nan equals nan) and signs of zeros."""
    got = got.numpy() if isinstance(got, mg.Tensor) else np.asarray(got)
    want = want.numpy() if isinstance(want, mg.Tensor) else np.asarray(want)
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, eager {want.dtype}"
    assert got.shape == want.shape, f"{where}: shape {got.shape}, eager {want.shape}"
    assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), (
        f"{where}: {got!r}, eager {want!r}"
    )
    if want.dtype.kind == "f":
        assert np.array_equal(np.signbit(got), np.signbit(want)), f"{where}: signs of zeros"


def eager(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    """``fn`` run eagerly on ``args`` as the compiled function sees them: arrays become
    Tensors (copies), anything else is passed as it is."""
    return fn(*(mg.tensor(a) if isinstance(a, np.ndarray) else a for a in args))


def same_calls(fn: Callable[..., Any], calls: Sequence[Any], **jit_options: Any) -> Any:
    """Run ``fn`` eagerly and jitted on each call (a tuple of arguments, or a callable that
    changes outside state and returns one); every result must be eager's, bit for bit.
    The eager result is computed right after the jitted one, on the same state."""
    fast = mg.jit(fn, **jit_options)
    for k, call in enumerate(calls):
        args = call() if callable(call) else call
        got = fast(*args)
        want = eager(fn, args)
        if isinstance(want, tuple | list):
            assert len(got) == len(want)
            for j, (g, w) in enumerate(zip(got, want, strict=True)):
                bitwise(g, w, f"call {k}, result {j}")
        else:
            bitwise(got, want, f"call {k}")
    return fast


def same_or_refused(fn: Callable[..., Any], calls: Sequence[Any]) -> None:
    """Like :func:`same_calls`, but a TraceError at the first call is also acceptable."""
    fast = mg.jit(fn)
    for k, call in enumerate(calls):
        args = call() if callable(call) else call
        try:
            got = fast(*args)
        except TraceError:
            assert k == 0, "only the first call may refuse"
            return
        bitwise(got, eager(fn, args), f"call {k}")


def same_worlds(build: Callable[[], tuple[Callable[..., Any], Sequence[Any]]]) -> Any:
    """Build a world twice (a function and its calls, with their own generators and
    state), run one eagerly and one jitted; every result must be eager's. A TraceError
    is not accepted: the README says these functions compile."""
    fn, calls = build()
    want = [eager(fn, call() if callable(call) else call) for call in calls]
    fn, calls = build()
    fast = mg.jit(fn)
    for k, (call, w) in enumerate(zip(calls, want, strict=True)):
        bitwise(fast(*(call() if callable(call) else call)), w, f"call {k}")
    return fast


def refused_or_same_worlds(build: Callable[[], tuple[Callable[..., Any], Sequence[Any]]]) -> None:
    """:func:`same_worlds`, but a TraceError at the first jitted call is acceptable."""
    fn, calls = build()
    want = [eager(fn, call() if callable(call) else call) for call in calls]
    fn, calls = build()
    fast = mg.jit(fn)
    for k, (call, w) in enumerate(zip(calls, want, strict=True)):
        try:
            got = fast(*(call() if callable(call) else call))
        except TraceError:
            assert k == 0, "only the first call may refuse"
            return
        bitwise(got, w, f"call {k}")


X = np.array([1.5, -2.0, 0.25])


# --------------------------------------------------------------------------- the cache key


def test_a_negative_static_argnum_counts_from_the_end():
    """Cache key: static_argnums=-1 makes the last argument static, keyed by value."""
    x = np.arange(6.0).reshape(2, 3)
    f = same_calls(lambda x, axes: x.transpose(axes), [(x, (1, 0)), (x, (0, 1)), (x, (1, 0))],
                   static_argnums=-1)  # fmt: skip
    assert f.traces == 2


# --------------------------------------------------------------------------- gradients through jit


def test_a_backward_pass_for_one_of_two_inputs_uses_its_own_upstream():
    """Gradients through jit: the remembered compiled backward is matched by upstream gradient."""
    f = mg.jit(lambda x, w: x * w)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, -4.0], requires_grad=True)
    y = f(x, w)
    for create in (False, True):
        for v in ([1.0, 1.0], [0.5, -2.0]):
            (got,) = mg.autograd.grad(y, [x], grad_output=mg.tensor(v), create_graph=create)
            bitwise(got, w.data * np.array(v))  # calculus: ∂(x·w)/∂x = w, times v


def test_two_backward_passes_through_one_jitted_result_use_their_own_upstream():
    """Gradients through jit: each backward pass gets the vjp of its own upstream gradient."""
    f = mg.jit(lambda x: x * x)
    x = mg.tensor([1.5], requires_grad=True)
    y = f(x)
    for create in (False, True, True):
        for v in ([1.0], [-2.0]):
            (got,) = mg.autograd.grad(y, [x], grad_output=mg.tensor(v), create_graph=create)
            bitwise(got, 2 * x.data * np.array(v))  # calculus: ∂(x²)/∂x = 2x, times v


def test_a_create_graph_backward_through_a_jitted_vector_output_with_two_inputs():
    """Gradients through jit: the memo matches a vector output by identity, not by ==."""
    f = mg.jit(lambda x, w: x * w)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    v = mg.tensor([1.0, -1.0])
    got = mg.autograd.grad(f(x, w), [x, w], grad_output=v, create_graph=True)
    want = mg.autograd.grad(x * w, [x, w], grad_output=v, create_graph=True)
    for g, e in zip(got, want, strict=True):
        bitwise(g, e)


def test_differentiating_a_jitted_call_redraws_its_dropout_mask():
    """Gradients through jit: the backward rewinds the generators to redraw the call's mask."""
    results = {}
    for compiled in (False, True):
        mg.manual_seed(3)
        drop = mg.nn.Dropout(0.5)

        def f(x, drop=drop):
            return (drop(x) * x).sum()

        g = mg.jit(f) if compiled else f
        x = mg.tensor(np.linspace(-1.0, 1.0, 8), requires_grad=True)
        seen = []
        for _ in range(2):
            y = g(x)
            y.backward()
            seen += [y.numpy().copy(), x.grad.numpy().copy()]
            x.grad = None
        results[compiled] = [*seen, mg.randn(3).numpy()]  # and the stream goes on alike
    for k, (got, want) in enumerate(zip(results[True], results[False], strict=True)):
        bitwise(got, want, f"value, gradient or next draw {k}")


def test_a_replaced_parameter_gets_its_gradient_through_a_jitted_call():
    """Gradients through jit: the compiled vjp is per trace's closed-over tensors."""
    grads = {}
    for compiled in (False, True):
        mg.manual_seed(0)
        lin = mg.nn.Linear(3, 2)

        def loss(x: np.ndarray, lin: mg.nn.Linear = lin) -> mg.Tensor:
            return (lin(x) * lin(x)).sum()

        f = mg.jit(loss) if compiled else loss
        x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
        f(x).backward()
        first = lin.weight.grad.numpy().copy()
        lin.weight = mg.nn.Parameter(lin.weight.numpy() * 2.0 + 1.0)
        f(x).backward()
        grads[compiled] = (first, lin.weight.grad.numpy().copy(), lin.bias.grad.numpy().copy())
    for got, want in zip(grads[True], grads[False], strict=True):
        bitwise(got, want)


# --------------------------------------------------------------------------- the guard


def test_an_item_appended_to_a_closed_over_list_is_seen():
    """Guard: the length of a closed-over list is checked."""
    ws = [mg.tensor([1.0, 2.0, 3.0])]

    def product(x):
        out = x
        for w in ws:
            out = out * w
        return out

    def grow():
        ws.append(mg.tensor([2.0, -1.0, 0.5]))
        return (X,)

    f = same_calls(product, [(X,), grow, (X,)])
    assert f.traces == 2


def test_a_key_added_to_a_closed_over_dict_is_seen():
    """Guard: the length of a closed-over dict is checked."""
    scales = {"a": mg.tensor([2.0, 2.0, 2.0])}

    def scaled(x):
        return sum((x * s for s in scales.values()), start=x)

    def grow():
        scales["b"] = mg.tensor([0.5, 1.0, -3.0])
        return (X,)

    same_calls(scaled, [(X,), grow, (X,)])


class _Config:
    """A user's object (walked: its attributes are state)."""


def test_an_attribute_added_to_an_object_is_seen():
    """Guard: the number of a user object's attributes is checked."""
    cfg = _Config()
    cfg.scale = mg.tensor([2.0, 3.0, 4.0])

    def shifted(x):
        shift = getattr(cfg, "shift", None)
        return x * cfg.scale if shift is None else x * cfg.scale + shift

    def add_shift():
        cfg.shift = mg.tensor([1.0, -1.0, 0.5])
        return (X,)

    same_calls(shifted, [(X,), add_shift, (X,)])


def test_a_closed_over_tensor_given_new_data_of_another_shape_is_seen():
    """Guard: the shape and dtype of an outside tensor the program reads are checked."""
    w = mg.tensor([1.0, 2.0, 3.0])

    def column(x):
        return x * w.reshape(w.shape[0], 1)

    def resize():
        w.data = np.array([4.0, -5.0])
        return (X,)

    def retype():
        w.data = np.array([4.0, -5.0], dtype=np.float32)
        return (X.astype(np.float32),)

    same_calls(column, [(X,), resize, (X,), retype])


def test_a_closed_over_tensor_made_to_require_grad_is_seen():
    """Guard: whether an outside tensor the program reads requires grad is checked."""
    w = mg.tensor([1.0, 2.0, 3.0])
    f = mg.jit(lambda x: (x * w).sum())
    assert not f(X).requires_grad
    w.requires_grad = True
    y = f(X)
    y.backward()
    bitwise(w.grad, X)  # calculus: ∂(Σ x·w)/∂w = x
    assert f.traces == 2


def test_a_number_rebound_in_a_closed_over_list_is_seen():
    """Guard: numbers in a list are checked by bits (only a tuple's items are fixed)."""
    scales = [2.0]

    def rebind():
        scales[0] = -0.5
        return (X,)

    same_calls(lambda x: x * scales[0], [(X,), rebind, (X,)])


SCALE = 2.0
OFFSET = np.array([1.0, 2.0, 3.0])


def _scaled_by_a_global(x):
    return x * SCALE + OFFSET


def test_globals_the_function_names_are_read_and_checked(monkeypatch):
    """Environment walk: the globals a user's function names are checked and read live."""
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "OFFSET", np.array([1.0, 2.0, 3.0]))

    def rebind():
        monkeypatch.setattr(module, "SCALE", -0.5)
        return (X,)

    def change():
        module.OFFSET[:] = [7.0, 8.0, 9.0]
        return (X,)

    same_calls(_scaled_by_a_global, [(X,), rebind, (X,), change])


def test_an_array_held_in_two_places_is_checked_in_both():
    """Environment walk: an array reachable two ways is guarded at both places."""
    for rebind_a_first in (False, True):
        same_calls(*_two_places(rebind_a_first))


def _two_places(rebind_a_first: bool) -> tuple[Callable[..., Any], list[Any]]:
    a = np.array([1.0, 2.0, 3.0])
    holder = [a]

    def both(x):
        return x * a + x * holder[0]

    def rebind_a():
        nonlocal a
        a = np.array([-1.0, 0.5, 4.0])
        return (X,)

    def rebind_holder():
        holder[0] = np.array([3.0, 3.0, -3.0])
        return (X,)

    steps = [rebind_a, rebind_holder] if rebind_a_first else [rebind_holder, rebind_a]
    return both, [(X,), steps[0], (X,), steps[1], (X,)]


def test_numpy_code_on_a_closed_over_tensors_data_is_refused_or_live():
    """Environment: a closed-over tensor's .data is a traced view while tracing."""
    w = mg.tensor([1.0, 2.0, 3.0])

    def change():
        w.data[:] = [5.0, -1.0, 7.0]
        return (X,)

    same_or_refused(lambda x: x * np.sum(w.data), [(X,), change])


def test_numpy_code_on_an_array_in_a_closed_over_tuple_is_refused_or_live():
    """Environment: an array in a closed-over tuple is a traced view while tracing."""
    c = np.array([1.0, 2.0, 3.0])
    pair = (c, "label")

    def change():
        c[:] = [5.0, -1.0, 7.0]
        return (X,)

    same_or_refused(lambda x: x * np.sum(pair[0]), [(X,), change])


def test_tracing_puts_the_outside_state_back():
    """Environment: the traced views are put back after the trace."""
    c = np.array([1.0, 2.0, 3.0])
    w = mg.tensor([4.0, 5.0, 6.0])
    pair = (np.array([0.5, 0.5, 0.5]),)
    held = pair[0]

    def fn(x):
        return x * c + x * w + x * pair[0]

    f = mg.jit(fn)
    for _ in range(3):
        bitwise(f(X), fn(X))
    cells = {cell.cell_contents is c for cell in fn.__closure__}
    assert True in cells, "the closure cell no longer holds the caller's array"
    assert type(c) is np.ndarray and type(w.data) is np.ndarray and pair[0] is held
    assert f.traces == 1


# --------------------------------------------------------------------------- traced data


def test_item_of_traced_data_is_refused_or_live():
    """TracedArray guard: .data.item() of a traced tensor is refused."""
    same_or_refused(lambda s: s * s.data.item(), [(np.array([2.0]),), (np.array([-3.0]),)])


def test_a_numpy_function_that_reads_values_is_refused_or_live():
    """TracedArray guard: only metadata NumPy functions may see traced data (not np.argmax)."""
    calls = [(np.array([3.0, 1.0, 2.0]),), (np.array([1.0, 5.0, 0.0]),)]
    same_or_refused(lambda x: x[np.argmax(x.data)], calls)


# --------------------------------------------------------------------------- random draws


def test_a_generator_used_directly_is_refused_or_redrawn():
    """Random: a draw without a recorded op (rng.normal called directly) is refused."""

    def build():
        rng = np.random.default_rng(7)
        return (lambda x: x + rng.normal(size=3)), [(X,), (X,), (X,)]

    refused_or_same_worlds(build)


def test_numpys_global_generator_is_refused_or_redrawn():
    """Random: a draw from NumPy's global generator is refused."""

    def build():
        np.random.seed(11)
        return (lambda x: x + np.random.standard_normal(3)), [(X,), (X,), (X,)]

    state = np.random.get_state()
    try:
        refused_or_same_worlds(build)
    finally:
        np.random.set_state(state)


def test_mg_randn_compiles_and_draws_anew_at_every_call():
    """Random: mg.randn (no tensor input) is a recorded op, drawn anew at every call."""

    def build():
        mg.manual_seed(5)
        return (lambda x: x + mg.randn(3)), [(X,), (X,), (X,)]

    assert same_worlds(build).traces == 1


# --------------------------------------------------------------------------- effects


def test_an_unused_integer_power_still_raises_for_a_negative_exponent():
    """Effects: integer ** integer is kept when unused, since it may raise."""

    def fn(x, n):
        x**n  # unused on purpose: it can still raise
        return x * 2

    fast = mg.jit(fn)
    x = np.array([1, 2, 3])
    bitwise(fast(x, np.array([2])), fn(x, np.array([2])))
    with pytest.raises(ValueError) as eager:
        fn(mg.tensor(x), mg.tensor(np.array([-1])))
    with pytest.raises(ValueError) as compiled:
        fast(x, np.array([-1]))
    assert str(compiled.value) == str(eager.value)


# --------------------------------------------------------------------------- constants


def test_a_constant_viewing_outside_memory_is_not_folded():
    """fold_constants: a constant viewing outside memory is not frozen, so not folded."""
    c = np.array([2.0, 3.0, -1.0])

    def change():
        c[:] = [0.5, -4.0, 1.0]
        return (X,)

    same_calls(lambda x: x * mg.tensor(c.reshape(3)).exp(), [(X,), change, (X,)])


def test_a_one_element_constant_viewing_outside_memory_is_not_read_as_a_number():
    """simplify: only a frozen one-element constant is read as a number (x·1 → x)."""
    c = np.array([1.0])

    def change():
        c[0] = -2.5
        return (X,)

    same_calls(lambda x: x * mg.tensor(c.reshape(())), [(X,), change, (X,)])


def test_two_constants_viewing_different_outside_arrays_are_not_merged():
    """CSE: constants held by reference merge by identity, never by their bytes."""
    c1, c2 = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])

    def change():
        c2[:] = [7.0, -7.0, 0.5]
        return (X,)

    fn = lambda x: x * mg.tensor(c1.reshape(3)) + x * mg.tensor(c2.reshape(3))  # noqa: E731
    same_calls(fn, [(X,), change, (X,)])


# --------------------------------------------------------------------------- simplify


def test_dividing_by_a_power_of_two_whose_reciprocal_overflows_is_kept():
    """simplify: x / 2ᵏ → x · 2⁻ᵏ only where 2⁻ᵏ is a normal number of the dtype."""
    x = np.array([1e-300, -3e-310, 2.0])
    with np.errstate(over="ignore"):  # 2 / 2⁻¹⁰⁷⁴ is inf, eager and compiled
        got = mg.jit(lambda x: x / 5e-324)(x)
        bitwise(got, mg.tensor(x) / 5e-324)
    assert np.isfinite(got.numpy()[:2]).all()  # calculus: 1e-300 / 2⁻¹⁰⁷⁴ ≈ 2·10²³


def test_an_identity_never_returns_an_operand_of_another_shape():
    """simplify: an identity returns an operand only if it has the result's shape."""
    step = mg.grad(lambda x, y: x * y, argnums=(0, 1))
    x, y = np.array([[2.0]]), np.array(-3.0)
    got, want = mg.jit(step)(x, y), step(x, y)
    for g, w in zip(got, want, strict=True):
        bitwise(g, w)


def test_a_broadcast_constant_keeps_the_axes_it_adds():
    """codegen: a compact constant written as a number keeps the axes it adds."""
    step = mg.grad(lambda x, v: (x * v).sum(), argnums=(0, 1))
    x, v = np.array([[2.0]]), np.array([1.0, -2.0, 0.5])
    got, want = mg.jit(step)(x, v), step(x, v)
    for g, w in zip(got, want, strict=True):
        bitwise(g, w)


# --------------------------------------------------------------------------- buffers and views

BIG = 64 * 64  # passes.BUFFER_MIN_SIZE: temporaries this large get kept buffers


def test_a_view_of_a_view_of_a_kept_buffer_is_copied_out():
    """View ownership: a view of a view has its first view's root (copied out)."""
    fn = lambda x: x.exp().reshape(64, 64).T[1:]  # noqa: E731
    fast = mg.jit(fn)
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal(BIG), rng.standard_normal(BIG)
    first = fast(x1)
    kept = first.numpy().copy()
    second = fast(x2)
    bitwise(first, kept, "the first result after the second call")
    bitwise(first, fn(mg.tensor(x1)))
    bitwise(second, fn(mg.tensor(x2)))
    assert not np.shares_memory(first.numpy(), second.numpy())


def test_a_temporary_read_again_later_is_not_overwritten():
    """Buffer lifetimes: a result overwrites an input only at that input's last use."""

    def fn(x):
        t = x * 2.0
        u = t + 1.0  # t is read again below: u may not take t's memory
        return (u * t).sum()

    x = np.linspace(-1.0, 1.0, BIG)
    same_calls(fn, [(x,), (x[::-1].copy(),)])


def test_an_output_read_by_a_later_instruction_is_not_overwritten():
    """Buffer lifetimes: only kept work buffers are overwritten, never an output."""
    x = np.linspace(-1.0, 1.0, BIG)
    same_calls(lambda x: (x.exp(), (x.exp() + 1.0) * 2.0), [(x,), (x * 2,)])


def test_a_result_viewing_a_constant_over_outside_memory_is_a_copy():
    """Output boundary: a result that views a constant is copied."""
    c = np.array([1.0, 2.0, 3.0])
    fn = lambda x: (x * 2.0, mg.tensor(c.reshape(3)).reshape(3, 1))  # noqa: E731
    fast = mg.jit(fn)
    for _ in range(2):
        got = fast(X)
        bitwise(got[1], fn(X)[1])
        assert not np.shares_memory(got[1].numpy(), c)


def test_codegen_copies_a_result_that_lives_in_a_kept_buffer():
    """Output boundary: codegen copies a result stored in a kept buffer."""
    from minigrad.jit import codegen, passes, trace
    from minigrad.jit.environment import Environment

    fn = lambda x: x * 2.0 + 1.0  # noqa: E731
    x1, x2 = np.linspace(-1.0, 1.0, BIG), np.linspace(3.0, 4.0, BIG)
    program = passes.optimize(trace.run(fn, (x1,), frozenset(), True, Environment(fn)))
    (out,) = program.outputs
    generated = codegen.generate(program.but(storage={**program.storage, out: "kept"}))
    assert "buf.kept" in generated.source  # the plan forced on it is used
    buffers = generated.buffers()

    def call(x):
        return generated.run(x, *generated.constants, buffers)[0]

    first = call(x1)
    second = call(x2)
    bitwise(first, fn(mg.tensor(x1)))
    bitwise(second, fn(mg.tensor(x2)))
    assert not np.shares_memory(first, buffers.kept)


# --------------------------------------------------------------------------- codegen


def test_a_negative_base_is_raised_to_a_power_as_eager_does():
    """codegen: a signed operand is written as eager's operand ((−2.0) ** x)."""
    x = np.array([2.0, 3.0, 0.5])
    with np.errstate(invalid="ignore"):  # (−2)^0.5 is nan, eager and compiled
        same_calls(lambda x: (-2.0) ** x - (-1.0) * x, [(x,), (x + 1.0,)])


def test_a_float32_constant_is_not_written_as_a_weak_number_beside_float16():
    """codegen: a constant is a weak number only where all operands have the result's dtype."""
    step = mg.grad(lambda x, w: (x * w).sum(), argnums=(0, 1))
    x = np.array([0.5, -1.5, 2.0], dtype=np.float16)
    w = np.array([1.0, 3.0, -2.0], dtype=np.float32)
    for got, want in zip(mg.jit(step)(x, w), step(x, w), strict=True):
        bitwise(got, want)


# --------------------------------------------------------------------------- autograd.grad


def test_autograd_grad_gives_a_float32_input_a_float32_gradient():
    """autograd.grad: each gradient has its input's float dtype, as in PyTorch."""
    torch = pytest.importorskip("torch")
    x = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    w = np.array([1.0, 3.0, -2.0])

    def grads(x, w):
        return mg.autograd.grad((x * w * x).sum(), [x])

    xt = torch.tensor(x, requires_grad=True)
    (want,) = torch.autograd.grad((xt * torch.tensor(w) * xt).sum(), [xt])
    (got,) = grads(mg.tensor(x, requires_grad=True), mg.tensor(w))
    bitwise(got, want.numpy())
    (compiled,) = mg.jit(grads)(mg.tensor(x, requires_grad=True), w)
    bitwise(compiled, got)


# --------------------------------------------------------------------------- real bugs found


def test_an_array_reached_through_a_namespace_object_is_refused_or_live():
    """Environment walk: an array the walk cannot find again is refused or read live."""
    from types import SimpleNamespace

    ns = SimpleNamespace(w=np.array([1.0, 2.0, 3.0]))

    def rebind():
        ns.w = np.array([-4.0, 0.5, 2.0])
        return (X,)

    same_or_refused(lambda x: x * ns.w, [(X,), rebind])


def test_a_zero_d_constant_beside_no_array_of_its_dtype_stays_a_numpy_scalar():
    """The gradient of where(x > x, x, x) for a float32 x: the backward is
    np.where(cond, seed, 0.0), the seed a 0-d float32 constant. No operand is a float32
    array, so the seed is not weak: written as a Python 1.0 it would make the gradient
    float64 (found by the fuzzer, as the mutant weak-constant-any-dtype)."""
    f = lambda x: mg.where(x > x, x, x)  # noqa: E731
    fast = mg.jit(mg.grad(f))
    for value in (0.0, 1.5, -2.0):
        x = np.array(value, dtype=np.float32)
        got, expected = fast(x), mg.grad(f)(mg.tensor(x))
        assert got.dtype == expected.dtype == np.float32  # the input's dtype
        assert got.item() == expected.item() == 1.0  # d/dx of x on either branch


@pytest.mark.parametrize(
    ("x_dtype", "c_dtype"), [(np.float16, np.float32), (np.float32, np.float64)]
)
def test_a_zero_d_constant_of_another_dtype_keeps_numpys_promotion(x_dtype, c_dtype):
    """A 0-d array constant is not a weak Python number: float16 · float32 array(0.1) is
    float32 in NumPy, and so in the compiled code (written as a Python float, it would
    stay float16)."""
    fn = lambda x: x * mg.tensor(np.array(0.1, dtype=c_dtype))  # noqa: E731
    fast = mg.jit(fn)
    for values in ([1.5, -2.0], [0.25, 3.0]):
        x = np.array(values, dtype=x_dtype)
        got, expected = fast(x), fn(mg.tensor(x))
        assert got.dtype == expected.dtype == np.result_type(x_dtype, c_dtype)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
