"""Nothing drops a gradient silently (issue 18): NumPy calls that used to lose it now
either record or refuse with an error that says what to write instead.

- a list of Tensors converted by NumPy (``np.array([x, 2*x])``, ``np.mean([x, x + 2])``,
  ``np.r_``, ``np.c_``) is refused: ``Tensor.__array__`` cannot return a Tensor, so it
  raises for a tensor that requires grad; ``np.stack`` / ``np.concatenate`` record;
- NumPy functions that write into a Tensor (``out=``, ``np.copyto``, ``np.add.at``,
  ``np.put``, ``np.place``, ``np.putmask``) follow the in-place rules of ``t += 1``;
- complex numbers are refused wherever a gradient is asked for;
- ``& | ^ ~ << >>`` are NumPy's bitwise operators on integers;
- smaller ones: ``.grad`` assignment is checked, softmax of an empty axis, a parameter
  listed twice in an optimizer, ``bce_with_logits`` at ±inf, keywords of np.swapaxes,
  ``autograd.grad``'s dtype, seed shape and total derivative.

Expected values come from NumPy or PyTorch on the same inputs, or from the calculus.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import autograd

REFUSED = "would silently drop its gradient"

# --- 1. sequences of Tensors --------------------------------------------------------------

# each: a function of a scalar x that NumPy would run on a list of tensors, and the same
# function written with the recording forms the error names; at x = 1 both are the
# listed function, so the recording form's gradient is checked against the calculus
CONVERTING = {
    "np.array": (lambda x: np.sum(np.array([x, 2 * x])), lambda x: np.sum(np.stack([x, 2 * x]))),
    "np.asarray": (
        lambda x: np.sum(np.asarray([x, 2 * x])),
        lambda x: np.sum(mg.stack([x, 2 * x])),
    ),
    "np.mean of a list": (lambda x: np.mean([x, x + 2]), lambda x: np.mean(np.stack([x, x + 2]))),
    "np.sum of a list": (lambda x: np.sum([x, 2 * x]), lambda x: np.sum(np.stack([x, 2 * x]))),
    "np.linalg.norm of a list": (
        lambda x: np.linalg.norm([x, x + 2]),
        lambda x: np.linalg.norm(np.stack([x, x + 2])),
    ),
    "np.r_": (lambda x: np.sum(np.r_[x, 2 * x]), lambda x: np.sum(np.concatenate([x, 2 * x]))),
    "np.c_": (
        lambda x: np.sum(np.c_[x, 2 * x]),
        lambda x: np.sum(np.stack([x, 2 * x], axis=1)),
    ),
    "a ufunc on a list": (
        lambda x: np.sum(np.exp([x, 2 * x])),
        lambda x: np.sum(np.exp(np.stack([x, 2 * x]))),
    ),
}
# d/dx at x = 1 (as a vector [1.] for r_/c_, whose operands must be 1-d)
EXPECTED = {
    "np.array": 3.0,
    "np.asarray": 3.0,
    "np.mean of a list": 1.0,
    "np.sum of a list": 3.0,
    "np.linalg.norm of a list": (1 + 3) / np.sqrt(1 + 9),  # (x + (x + 2)) / ‖(x, x + 2)‖
    "np.r_": 3.0,
    "np.c_": 3.0,
    "a ufunc on a list": np.exp(1) + 2 * np.exp(2),
}


@pytest.mark.parametrize("name", sorted(CONVERTING))
def test_a_list_of_tensors_given_to_numpy_is_refused_and_stack_records(name):
    refused, recorded = CONVERTING[name]
    vector = name in ("np.r_", "np.c_")
    x0 = mg.tensor([1.0]) if vector else 1.0
    with pytest.raises(TypeError, match=re.escape("mg.stack / np.stack / np.concatenate")):
        mg.grad(refused)(x0)
    g = mg.grad(recorded)(x0)
    np.testing.assert_allclose(g.numpy(), np.full(np.shape(x0), EXPECTED[name]), rtol=1e-12)


def test_np_asarray_of_a_tensor_that_requires_grad_is_refused_and_values_are_explicit():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=re.escape("t.detach(), t.numpy() or t.data")):
        np.asarray(x)
    with pytest.raises(TypeError, match=re.escape("mg.stack")):
        np.array([x[0], x[1]])
    with pytest.raises(TypeError, match=re.escape("mg.stack")):
        mg.tensor([x[0], x[1]])  # a copy of the values would be a leaf without the graph
    # the values, asked for explicitly: no gradient is expected from them
    np.testing.assert_array_equal(np.asarray(x.detach()), [1.0, 2.0])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    with mg.no_grad():
        np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
        np.testing.assert_array_equal(np.array([x[0], x[1]]), [1.0, 2.0])
    # a tensor without a gradient converts as before
    np.testing.assert_array_equal(np.asarray(mg.tensor([3.0])), [3.0])


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.floats(-3, 3), min_size=1, max_size=4),
    st.lists(st.booleans(), min_size=1, max_size=4),
)
def test_stack_and_concatenate_of_lists_mixing_tensors_and_arrays_match_torch(values, which):
    """A list that mixes Tensors, ndarrays and numbers joins through __array_function__:
    the value is NumPy's, the gradient PyTorch's (torch.stack over the same list)."""
    torch = pytest.importorskip("torch")
    n = min(len(values), len(which))
    values, which = values[:n], which[:n]
    if not any(which):
        which[0] = True
    xs = [mg.tensor([v, 2 * v], requires_grad=True) for v in values]
    ts = [torch.tensor([v, 2 * v], dtype=torch.float64, requires_grad=True) for v in values]
    items = [x if w else np.array([v, -v]) for x, v, w in zip(xs, values, which, strict=True)]
    titems = [
        t if w else torch.tensor([v, -v], dtype=torch.float64)
        for t, v, w in zip(ts, values, which, strict=True)
    ]
    for join, tjoin in ((np.stack, torch.stack), (np.concatenate, torch.cat)):
        for x in xs:
            x.grad = None
        for t in ts:
            t.grad = None
        out = join(items)
        weights = np.arange(1.0, out.size + 1).reshape(out.shape)
        np.testing.assert_allclose(out.numpy(), join([np.asarray(i.detach()) for i in titems]))
        (out * weights).sum().backward()
        (tjoin(titems) * torch.from_numpy(weights)).sum().backward()
        for x, t, w in zip(xs, ts, which, strict=True):
            if w:
                np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


# --- 2. NumPy functions that write into a Tensor ------------------------------------------

MASK = np.array([True, False, True])
# each: a call writing into t (a Tensor of 3 floats), and the same call on an ndarray
WRITERS = {
    "np.copyto": lambda t: np.copyto(t, np.array([7.0, 8.0, 9.0])),
    "np.add.at": lambda t: np.add.at(t, [0, 0, 2], 1.5),
    "np.put": lambda t: np.put(t, [1], 5.0),
    "np.place": lambda t: np.place(t, MASK, [4.0, 6.0]),
    "np.putmask": lambda t: np.putmask(t, MASK, -1.0),
    "np.exp(out=t)": lambda t: np.exp(np.array([0.0, 1.0, 2.0]), out=t),
    "np.sum(out=t)": lambda t: np.sum(np.ones((2, 3)), axis=0, out=t),
    "np.cumsum(out=t) by position": lambda t: np.cumsum(np.ones(3), 0, None, t),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_numpy_writing_into_a_tensor_bumps_its_version(name):
    """Under no_grad the write happens (NumPy's values) and counts as an in-place change:
    a graph that saved the old value refuses to backpropagate."""
    write = WRITERS[name]
    start = np.array([1.0, 2.0, 3.0])
    expected = start.copy()
    write(expected)
    x = mg.tensor(start, requires_grad=True)
    y = (x * x).sum()  # mul saved x
    with mg.no_grad():
        write(x)
    np.testing.assert_array_equal(x.data, expected)
    assert x.version == 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_numpy_writing_into_a_tensor_that_requires_grad_is_refused_in_grad_mode(name):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place .*requires grad"):
        WRITERS[name](x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0, 3.0])  # refused before writing


@pytest.mark.parametrize(
    "write",
    [
        lambda dst, x: np.copyto(dst, x),
        lambda dst, x: np.add.at(dst, [0], x[0]),
        lambda dst, x: np.put(dst, [0], x[0]),
        lambda dst, x: np.putmask(dst, MASK, x),
        lambda dst, x: np.exp(x, out=dst),
    ],
)
@pytest.mark.parametrize("destination", [np.zeros, lambda n: mg.tensor(np.zeros(n))])
def test_numpy_writing_a_tensor_that_requires_grad_into_anything_is_refused(write, destination):
    """The values would arrive, the gradient not: a TypeError, as for np.asarray(x)."""
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    dst = destination(3)
    with pytest.raises(TypeError, match=REFUSED):
        write(dst, x)
    np.testing.assert_array_equal(np.asarray(dst), np.zeros(3))


def test_out_is_the_tensor_itself_as_numpy_returns_out():
    t = mg.tensor([0.0, 0.0])
    got = np.add(np.array([1.0, 2.0]), 1.0, out=t)
    assert got is t and t.version == 1
    np.testing.assert_array_equal(t.numpy(), [2.0, 3.0])


# --- 3. complex numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "arg"),
    [
        (lambda z: z * z, 1 + 2j),
        (lambda z: (z * z).sum(), np.array([1 + 2j, 3j])),
        (lambda z: (z * z).sum(), mg.tensor(np.array([1 + 2j]))),
        (lambda x: np.sum(x * (1 + 1j)), 1.0),  # a complex-valued function of a real
        (lambda x: np.abs(x * np.array([1j])).sum(), 1.0),  # complex only inside
        (lambda x: (x.astype(np.complex128) ** 2).sum().astype(np.float64), 2.0),
    ],
)
def test_complex_numbers_are_refused_where_a_gradient_is_asked_for(f, arg):
    with pytest.raises(TypeError, match="complex"):
        mg.grad(f)(arg)


def test_the_complex_refusal_names_the_op_the_input_types_and_the_way_out():
    x = mg.tensor([1.0], requires_grad=True)
    tail = (
        ": minigrad differentiates real functions only; split complex numbers into their "
        "real and imaginary parts"
    )
    with pytest.raises(TypeError) as array_operand:
        mg.ops.mul(x, np.array([1j]))
    assert str(array_operand.value) == (
        "mul of a tensor that requires grad gives complex values (inputs: float64, "
        "complex128)" + tail
    )
    with pytest.raises(TypeError) as number_operand:
        x + 1j
    assert str(number_operand.value) == (
        "add of a tensor that requires grad gives complex values (inputs: float64, complex)" + tail
    )


def test_backward_with_a_complex_gradient_is_refused():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="complex"):
        (x * 2).backward(np.array([1j, 1.0]))
    with pytest.raises(TypeError, match="complex"):
        autograd.grad(x * 2, [x], np.array([1j, 1.0]))


def test_complex_values_without_a_gradient_still_compute():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        np.testing.assert_array_equal((x * 1j).numpy(), [1j, 2j])
    np.testing.assert_array_equal((mg.tensor([1.0]) * 1j).numpy(), [1j])


@pytest.mark.parametrize("ddof", [2, 3, 5])
@pytest.mark.parametrize("values", [[1.0, 2.0], [4.0, 4.0]])
def test_std_and_var_with_ddof_at_least_n_are_numpys_real_value(values, ddof):
    """NumPy divides by max(n − ddof, 0): inf, or nan for equal values; never complex."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for f in (np.std, np.var):
            expected = f(np.array(values), ddof=ddof)
            for x in (mg.tensor(values), mg.tensor(values, requires_grad=True)):
                got = f(x, ddof=ddof)
                assert got.dtype == np.float64
                np.testing.assert_array_equal(got.numpy(), expected)


# --- 4. bitwise operators -----------------------------------------------------------------

BINARY = {
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
}


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.integers(-100, 100), min_size=1, max_size=5),
    st.integers(0, 6),
    st.sampled_from(sorted(BINARY)),
)
def test_operators_on_integer_tensors_are_numpys_bitwise_ones(values, k, symbol):
    op = BINARY[symbol]
    a = np.array(values)
    for got, expected in (
        (op(mg.tensor(a), k), op(a, k)),
        (op(k, mg.tensor(a)), op(k, a)),
        (op(mg.tensor(a), mg.tensor(a % 7)), op(a, a % 7)),
    ):
        assert isinstance(got, mg.Tensor) and not got.requires_grad
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.numpy(), expected)
    np.testing.assert_array_equal((~mg.tensor(a)).numpy(), ~a)


def test_operators_on_bools_are_logical_and_on_floats_raise_as_in_numpy():
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    for symbol in ("&", "|", "^"):
        got = BINARY[symbol](mg.tensor(p), mg.tensor(q))
        np.testing.assert_array_equal(got.numpy(), BINARY[symbol](p, q))
        assert got.dtype == np.bool_
    np.testing.assert_array_equal((~mg.tensor(p)).numpy(), ~p)
    np.testing.assert_array_equal((mg.tensor(p) & 3).numpy(), p & 3)  # bool & int: int
    x = np.array([5.0, 6.0])
    for op in [*BINARY.values(), lambda a, b: ~a]:
        with pytest.raises(TypeError):
            op(x, 3)  # NumPy refuses
        with pytest.raises(TypeError):
            op(mg.tensor(x), 3)
        with pytest.raises(TypeError):
            op(mg.tensor(x, requires_grad=True), 3)


def test_bitwise_operators_compile_to_eager():
    fast = mg.jit(lambda a: ((a & 3) ^ (a << 1)) | (~a >> 1))
    for values in ([5, 6, -7], [1, 2, 3]):
        a = np.array(values)
        got = fast(a)
        expected = ((a & 3) ^ (a << 1)) | (~a >> 1)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.numpy(), expected)


# --- 5. smaller errors --------------------------------------------------------------------


def test_grad_assignment_accepts_a_tensor_of_the_shape_or_none():
    torch = pytest.importorskip("torch")
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        p.grad = np.ones(2)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        p.grad = [1.0, 1.0]
    with pytest.raises(mg.ShapeError, match="assigned grad has shape \\(3,\\)"):
        p.grad = mg.tensor([1.0, 1.0, 1.0])
    assert p.grad is None  # nothing was assigned
    # PyTorch refuses a non-Tensor too
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        tp.grad = np.ones(2)
    g = mg.tensor([0.5, -1.0])
    p.grad = g
    assert p.grad is g
    mg.optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.numpy(), [0.5, 3.0])
    p.grad = None
    assert p.grad is None


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize(("shape", "axis"), [((2, 0), -1), ((0, 3), 0), ((0,), 0), ((3, 0), 0)])
def test_softmax_over_an_empty_axis_is_empty_as_in_torch(name, shape, axis):
    torch = pytest.importorskip("torch")
    x = mg.tensor(np.zeros(shape), requires_grad=True)
    got = getattr(x, name)(axis)
    expected = getattr(torch, name)(torch.zeros(shape, dtype=torch.float64), axis)
    assert got.shape == tuple(expected.shape) and got.dtype == np.float64
    got.sum().backward()
    assert x.grad.shape == shape
    fast = mg.jit(lambda t: getattr(t, name)(axis))
    assert fast(np.zeros(shape)).shape == shape and fast(np.ones(shape)).shape == shape


def test_a_parameter_listed_twice_warns_and_is_stepped_once():
    p = mg.tensor([1.0, -2.0], requires_grad=True)
    q = mg.tensor([1.0, -2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        twice = mg.optim.SGD([p, p], lr=0.1, momentum=0.9)
    once = mg.optim.SGD([q], lr=0.1, momentum=0.9)
    for _ in range(3):
        for t, opt in ((p, twice), (q, once)):
            opt.zero_grad()
            (t * t).sum().backward()
            opt.step()
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert len(twice.state_dict()["param_groups"][0]["params"]) == 1


INF = np.inf


@pytest.mark.parametrize(
    ("z", "y", "loss"),
    [(INF, 0.0, INF), (INF, 1.0, 0.0), (-INF, 1.0, INF), (-INF, 0.0, 0.0), (INF, 0.5, INF)],
)
def test_bce_with_logits_at_infinite_logits_is_the_limit(z, y, loss):
    """ln(1 + e^z) − y·z as z → ±inf; ∂/∂z = σ(z) − y as PyTorch gives it there."""
    torch = pytest.importorskip("torch")
    zt = mg.tensor([z], requires_grad=True)
    got = mg.losses.bce_with_logits(zt, mg.tensor([y]))
    assert got.item() == loss
    got.backward()
    tz = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor([y])).backward()
    np.testing.assert_array_equal(zt.grad.numpy(), tz.grad.numpy())


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.floats(-30, 30), min_size=1, max_size=4),
    st.lists(st.floats(0, 1), min_size=1, max_size=4),
)
def test_bce_with_logits_at_finite_logits_is_torchs_at_first_and_second_order(zs, ys):
    torch = pytest.importorskip("torch")
    n = min(len(zs), len(ys))
    z = mg.tensor(zs[:n], requires_grad=True)
    y = mg.tensor(ys[:n], requires_grad=True)
    tz = torch.tensor(zs[:n], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(ys[:n], dtype=torch.float64, requires_grad=True)
    loss = mg.losses.bce_with_logits(z, y)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(tz, ty)
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12, atol=1e-14)
    gz, gy = autograd.grad(loss, [z, y])
    tgz, tgy = torch.autograd.grad(tloss, [tz, ty])
    np.testing.assert_allclose(gz.numpy(), tgz.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gy.numpy(), tgy.numpy(), rtol=1e-12, atol=1e-15)
    zc = mg.tensor(np.clip(zs[:n], -5, 5), requires_grad=True)
    yc = mg.tensor(np.clip(ys[:n], 0.01, 0.99), requires_grad=True)  # steps stay in [0, 1]
    assert mg.gradgradcheck(lambda a, b: mg.losses.bce_with_logits(a, b), zc, yc)


def test_np_swapaxes_takes_numpys_keywords():
    m = np.arange(6.0).reshape(2, 3)
    x = mg.tensor(m, requires_grad=True)
    got = np.swapaxes(x, axis1=0, axis2=1)
    np.testing.assert_array_equal(got.numpy(), np.swapaxes(m, axis1=0, axis2=1))
    (got * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)


def test_autograd_grad_keeps_float32_and_checks_the_seed_shape():
    x = mg.tensor(np.float32([1.0, 2.0]), requires_grad=True)
    (g,) = autograd.grad((x * x * 3.0).sum(), [x])
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.numpy(), np.float32([6.0, 12.0]))
    with pytest.raises(mg.ShapeError, match="grad_output has shape \\(3,\\)"):
        autograd.grad(x * 2, [x], grad_output=np.ones(3))


@pytest.mark.parametrize(
    "f",
    [
        lambda x, y: x * x * y + y * y * x,
        lambda x, y: x**2 * y + 3 * y**2,
        lambda x, y: (x * y).exp() + y / x,
    ],
)
def test_autograd_grad_of_an_input_computed_from_another_is_torchs(f):
    """∂out/∂x through every path (x directly and through y = 2x), ∂out/∂y direct."""
    torch = pytest.importorskip("torch")
    x = mg.tensor(1.0, requires_grad=True)
    y = x * 2
    tx = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    ty = tx * 2
    got = autograd.grad(f(x, y), [x, y])
    expected = torch.autograd.grad(f(tx, ty), [tx, ty])
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)


def test_library_code_that_means_the_values_reads_them_explicitly():
    """np.asarray refuses a tensor that requires grad, so the places that mean "the
    values" (loading a state, drawing a model) read .data; they accept parameters."""
    src, dst = mg.nn.Linear(2, 1), mg.nn.Linear(2, 1)
    dst.load_state_dict(dict(src.named_parameters()))  # tensors that require grad
    for (_, a), (_, b) in zip(src.named_parameters(), dst.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    pytest.importorskip("matplotlib")
    from minigrad import plot

    model = mg.nn.Linear(1, 1)
    X = np.linspace(0.0, 1.0, 5)[:, None]
    w, b = (p for _, p in model.named_parameters())
    plot.fit_line(X, 2 * X[:, 0], w, b)
    plot.predicted_vs_actual(2 * X[:, 0], model(mg.tensor(X)))
