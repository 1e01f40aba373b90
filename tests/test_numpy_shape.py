"""NumPy's shape and assembly functions on Tensors (issue 18, part 3).

Finite differences (first and second order), PyTorch and float32 are checked by the op
table's rows (tests/op_table.py). Here: each function as NumPy spells it (``np.NAME(t)``)
and as ``mg.NAME``, compiled by ``mg.jit`` to eager's answer on two different inputs,
empty shapes, views that share their input's version counter (and are copied at a jit
boundary), gradients against calculus done by hand, and the errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import testing as mt

MODIFIED = "modified in place"

# name -> (a function written with NumPy's names, the input shapes, text the jit's source
# must contain: the NumPy call it compiles to)
CASES = {
    "tensordot": (lambda a, b: np.tensordot(a, b, 1), [(2, 3), (3, 4)], "np.tensordot("),
    "tensordot_pairs": (
        lambda a, b: np.tensordot(a, b, axes=([2, 0], [0, 1])),
        [(2, 3, 4), (4, 2, 5)],
        "np.tensordot(",
    ),
    "einsum_ellipsis": (
        lambda a, b: np.einsum("...ij,...jk", a, b),
        [(2, 2, 3), (3, 4)],
        "np.einsum(",
    ),
    "einsum_sublist": (
        lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        [(2, 3), (3, 4)],
        "np.einsum(",
    ),
    "einsum_diagonal": (lambda a: np.einsum("ii->i", a), [(3, 3)], "np.einsum("),
    "einsum_trace": (lambda a: np.einsum("ii", a), [(3, 3)], "np.einsum("),
    "repeat": (lambda a: np.repeat(a, 2, axis=1), [(2, 3)], "np.repeat("),
    "repeat_counts": (lambda a: np.repeat(a, [1, 0, 2], axis=1), [(2, 3)], "np.repeat("),
    "tile": (lambda a: np.tile(a, (2, 1, 3)), [(2, 3)], "np.tile("),
    "tril": (lambda a: np.tril(a, -1), [(3, 4)], "np.tril("),
    "triu": (lambda a: np.triu(a, 1), [(2, 3, 3)], "np.triu("),
    "diag_vector": (lambda a: np.diag(a, 1), [(3,)], "diagonal_scatter"),
    "diag_matrix": (lambda a: np.diag(a, -1), [(3, 4)], "np.diagonal("),
    "diagonal": (lambda a: np.diagonal(a, 1, 2, 0), [(3, 2, 4)], "np.diagonal("),
    "trace": (lambda a: np.trace(a, 0, 1, 2), [(2, 3, 3)], "np.diagonal("),
    "split": (lambda a: np.split(a, [1, 3], axis=1), [(2, 4)], "[:, 1:3]"),
    "array_split": (lambda a: np.array_split(a, 3), [(7,)], "[3:5]"),
    "hsplit": (lambda a: np.hsplit(a, 2), [(3, 4)], "[:, 2:4]"),
    "vsplit": (lambda a: np.vsplit(a, [1]), [(3, 4)], "[1:3]"),
    "dsplit": (lambda a: np.dsplit(a, 2), [(2, 2, 4)], "[:, :, 0:2]"),
    "pad": (lambda a: np.pad(a, ((1, 0), (0, 2)), constant_values=1.5), [(2, 3)], "np.pad("),
    "ravel": (lambda a: np.ravel(a.T), [(2, 3)], "reshape("),
    "append": (lambda a, b: np.append(a, b), [(2, 3), (4,)], "np.concatenate("),
    "append_axis": (lambda a, b: np.append(a, b, axis=1), [(2, 3), (2, 1)], "np.concatenate("),
    "kron": (lambda a, b: np.kron(a, b), [(2, 3), (2, 2)], "*"),
    "cross": (lambda a, b: np.cross(a, b), [(4, 3), (3,)], "np.stack("),
    "cross_axes": (lambda a, b: np.cross(a, b, axisa=0, axisc=0), [(3, 2), (2, 3)], "np.stack("),
    "outer": (lambda a, b: np.outer(a, b), [(2, 2), (3,)], "*"),
    "inner": (lambda a, b: np.inner(a, b), [(2, 3), (4, 3)], "np.tensordot("),
    "atleast_1d": (lambda a: np.atleast_1d(a) * 2, [()], "reshape("),
    "atleast_2d": (lambda a: np.atleast_2d(a) * 2, [(3,)], "reshape("),
    "atleast_3d": (lambda a: np.atleast_3d(a) * 2, [(2, 3)], "reshape("),
    "expand_dims": (lambda a: np.expand_dims(a, (0, 2)), [(2, 3)], "reshape("),
    "moveaxis": (lambda a: np.moveaxis(a, 0, -1), [(2, 3, 4)], "transpose("),
    "swapaxes": (lambda a: np.swapaxes(a, axis1=0, axis2=2), [(2, 3, 4)], ".T"),
    "column_stack": (lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)], "np.concatenate("),
    "dstack": (lambda a, b: np.dstack([a, b]), [(2, 3), (2, 3)], "np.concatenate("),
}


def _flat(result):
    return list(result) if isinstance(result, list | tuple) else [result]


def _loss(fn):
    """A scalar of fn's result(s), each piece weighted differently (a gradient sent to
    the wrong piece shows) and squared (so the gradient depends on the values)."""

    def loss(*xs):
        pieces = _flat(fn(*xs))
        return sum(((p * p).sum() * (i + 1) for i, p in enumerate(pieces)), start=0.0)

    return loss


def _assert_same(got, expected):
    got, expected = _flat(got), _flat(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        g, e = (x.data if isinstance(x, mg.Tensor) else np.asarray(x) for x in (g, e))
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def _draw(shapes: list, seed: int) -> tuple[list, list]:
    """Standard-normal arrays of ``shapes`` and tensors of them that require grad."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    return arrays, [mg.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_and_mg_spellings_give_numpy_values_and_gradients(name):
    fn, shapes, _ = CASES[name]
    arrays, tensors = _draw(shapes, seed=0)
    out = fn(*tensors)
    assert all(isinstance(p, mg.Tensor) and p.requires_grad for p in _flat(out))
    expected = fn(*arrays)
    for p, e in zip(_flat(out), _flat(expected), strict=True):
        np.testing.assert_allclose(p.numpy(), e, rtol=1e-12, atol=1e-15)
    mg_fn = _mg_spelling(fn)
    for p, e in zip(_flat(mg_fn(*tensors)), _flat(expected), strict=True):
        np.testing.assert_allclose(p.numpy(), e, rtol=1e-12, atol=1e-15)
    assert mg.gradcheck(_loss(fn), *tensors)


def _mg_spelling(fn):
    """fn with np.NAME replaced by mg.NAME (the same source, another namespace)."""

    class _Mg:
        def __getattr__(self, name):
            return getattr(mg, name)

    return lambda *xs: type(fn)(fn.__code__, {**fn.__globals__, "np": _Mg()})(*xs)


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_jit_equals_eager_on_two_different_inputs(name, data):
    fn, shapes, text = CASES[name]
    fast, fast_grad = mg.jit(fn), mg.jit(mg.grad(_loss(fn), argnums=tuple(range(len(shapes)))))
    first = [data.draw(mt.arrays(s)) for s in shapes]
    for arrays in (first, [2 * a + 1 for a in first]):  # the second call replays the trace
        _assert_same(fast(*arrays), fn(*(mg.tensor(a) for a in arrays)))
        eager = mg.grad(_loss(fn), argnums=tuple(range(len(shapes))))(*arrays)
        _assert_same(fast_grad(*arrays), eager)
    assert fast.traces == 1
    assert text in fast.source, fast.source


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name):
    fn, shapes, _ = CASES[name]
    arrays = [np.random.default_rng(1).standard_normal(s).astype(np.float32) for s in shapes]
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    pieces = _flat(fn(*tensors))
    assert all(p.dtype == np.float32 for p in pieces)
    _loss(fn)(*tensors).backward()
    assert all(t.grad.dtype == np.float32 for t in tensors)
    compiled = _flat(mg.jit(fn)(*arrays))
    assert all(p.dtype == np.float32 for p in compiled)


# --- empty shapes, where NumPy allows them --------------------------------------------------

EMPTY = {
    "tensordot_empty_free": (lambda a, b: np.tensordot(a, b, 1), [(0, 3), (3, 2)]),
    "tensordot_empty_sum": (lambda a, b: np.tensordot(a, b, 1), [(2, 0), (0, 3)]),
    "einsum": (lambda a, b: np.einsum("...ij,...jk", a, b), [(0, 2, 3), (3, 4)]),
    "einsum_diagonal": (lambda a: np.einsum("ii->i", a), [(0, 0)]),
    "repeat": (lambda a: np.repeat(a, 2, axis=0), [(0, 3)]),
    "repeat_zero": (lambda a: np.repeat(a, 0, axis=1), [(2, 3)]),
    "tile": (lambda a: np.tile(a, (2, 2)), [(0, 2)]),
    "tile_zero": (lambda a: np.tile(a, 0), [(3,)]),
    "tril": (lambda a: np.tril(a), [(0, 0)]),
    "triu": (lambda a: np.triu(a, 1), [(2, 0)]),
    "diag_vector": (lambda a: np.diag(a), [(0,)]),
    "diag_matrix": (lambda a: np.diag(a), [(0, 3)]),
    "diagonal": (lambda a: np.diagonal(a), [(3, 0)]),
    "trace": (lambda a: np.trace(a), [(0, 0)]),
    "split": (lambda a: np.split(a, 2), [(0, 2)]),
    "array_split": (lambda a: np.array_split(a, 5), [(3,)]),
    "pad": (lambda a: np.pad(a, 1), [(0, 2)]),
    "ravel": (lambda a: np.ravel(a), [(0, 3)]),
    "append": (lambda a, b: np.append(a, b), [(0,), (2,)]),
    "kron": (lambda a, b: np.kron(a, b), [(0, 2), (2, 2)]),
    "cross": (lambda a, b: np.cross(a, b), [(0, 3), (0, 3)]),
    "outer": (lambda a, b: np.outer(a, b), [(0,), (3,)]),
    "inner": (lambda a, b: np.inner(a, b), [(2, 0), (3, 0)]),
    "atleast_2d": (lambda a: np.atleast_2d(a), [(0,)]),
    "expand_dims": (lambda a: np.expand_dims(a, (0, 1)), [(0,)]),
    "moveaxis": (lambda a: np.moveaxis(a, 0, 2), [(0, 2, 3)]),
    "swapaxes": (lambda a: np.swapaxes(a, 0, 1), [(0, 3)]),
    "column_stack": (lambda a, b: np.column_stack([a, b]), [(0,), (0,)]),
    "dstack": (lambda a, b: np.dstack([a, b]), [(0, 2), (0, 2)]),
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_shapes_as_numpy_gives_them(name):
    fn, shapes = EMPTY[name]
    arrays = [np.ones(s) for s in shapes]
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    _assert_same([p.numpy() for p in _flat(fn(*tensors))], fn(*arrays))
    _loss(fn)(*tensors).backward()
    for t, a in zip(tensors, arrays, strict=True):  # ∂(Σ pieces²)/∂a = 2·a·(copies)
        assert t.grad.shape == a.shape
    _assert_same(mg.jit(fn)(*arrays), fn(*tensors))


# --- gradients from calculus ------------------------------------------------------------


def _grads(fn, *arrays, upstream=None):
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(np.ones(out.shape) if upstream is None else upstream)
    return [t.grad.numpy() for t in tensors]


def test_gradients_from_calculus():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((3, 4))
    # ∂ tr(M)/∂M = I (rectangular: ones on the main diagonal only)
    np.testing.assert_array_equal(_grads(np.trace, m)[0], np.eye(3, 4))
    # ∂ Σ tril(M, k)/∂M = the mask of tril; 1-d input: row i of the square repeats x
    np.testing.assert_array_equal(
        _grads(lambda x: np.tril(x, 1), m)[0], np.tril(np.ones((3, 4)), 1)
    )
    np.testing.assert_array_equal(_grads(np.tril, np.ones(3))[0], [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(
        _grads(lambda x: np.triu(x, -1), m)[0], np.triu(np.ones((3, 4)), -1)
    )
    # each element is copied counts[i] times (repeat) or Π reps times (tile)
    np.testing.assert_array_equal(
        _grads(lambda x: np.repeat(x, [2, 0, 3]), np.ones(3))[0], [2, 0, 3]
    )
    np.testing.assert_array_equal(_grads(lambda x: np.tile(x, (2, 3)), m)[0], np.full((3, 4), 6.0))
    # pad: the padding is a constant; the original elements pass g through
    g = rng.standard_normal((5, 7))
    np.testing.assert_array_equal(
        _grads(lambda x: np.pad(x, ((1, 1), (2, 1))), m, upstream=g)[0], g[1:4, 2:6]
    )
    # diag: vector → matrix reads the k-th diagonal of g back; matrix → vector writes onto it
    g = rng.standard_normal((5, 5))
    np.testing.assert_array_equal(
        _grads(lambda x: np.diag(x, 2), np.ones(3), upstream=g)[0], np.diag(g, 2)
    )
    expected = np.zeros((3, 4))
    expected[[1, 2], [0, 1]] = [5.0, 7.0]
    np.testing.assert_array_equal(
        _grads(lambda x: np.diag(x, -1), m, upstream=[5.0, 7.0])[0], expected
    )
    # einsum 'ii->i': the gradient sits on the diagonal; 'ii': the identity
    s = rng.standard_normal((3, 3))
    np.testing.assert_array_equal(
        _grads(lambda x: np.einsum("ii->i", x), s, upstream=[1.0, 2.0, 3.0])[0],
        np.diag([1.0, 2.0, 3.0]),
    )
    np.testing.assert_array_equal(_grads(lambda x: np.einsum("ii", x), s)[0], np.eye(3))
    # cross: ∂⟨g, a×b⟩/∂a = b×g, ∂/∂b = g×a
    a, b, g = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    ga, gb = _grads(np.cross, a, b, upstream=g)
    np.testing.assert_allclose(ga, np.cross(b, g), rtol=1e-12)
    np.testing.assert_allclose(gb, np.cross(g, a), rtol=1e-12)
    # 2-vectors: z = a₀b₁ − a₁b₀, so ∂z/∂a = (b₁, −b₀), ∂z/∂b = (−a₁, a₀)
    a2, b2 = rng.standard_normal(2), rng.standard_normal(2)
    ga, gb = _grads(np.cross, a2, b2)
    np.testing.assert_array_equal(ga, [b2[1], -b2[0]])
    np.testing.assert_array_equal(gb, [-a2[1], a2[0]])
    # tensordot: ∂⟨G, A·B⟩/∂A = G Bᵀ, over the paired axes
    a3, b3, g = (
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((4, 2, 5)),
        rng.standard_normal((3, 5)),
    )
    ga, gb = _grads(lambda x, y: np.tensordot(x, y, axes=([2, 0], [0, 1])), a3, b3, upstream=g)
    np.testing.assert_allclose(ga, np.einsum("jm,kim->ijk", g, b3), rtol=1e-12)
    np.testing.assert_allclose(gb, np.einsum("jm,ijk->kim", g, a3), rtol=1e-12)
    # kron: ∂/∂aᵢⱼ = Σ of block (i, j) of g times b
    a4, b4, g = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 2)),
        rng.standard_normal((4, 6)),
    )
    ga, gb = _grads(np.kron, a4, b4, upstream=g)
    blocks = g.reshape(2, 2, 3, 2).transpose(0, 2, 1, 3)  # [i, j] is block (i, j)
    np.testing.assert_allclose(ga, (blocks * b4).sum(axis=(2, 3)), rtol=1e-12)
    np.testing.assert_allclose(gb, np.einsum("ij,ijkl->kl", a4, blocks), rtol=1e-12)


def test_second_order_through_numpy_spellings():
    """Hessians of functions written with the new NumPy functions, against calculus."""
    rng = np.random.default_rng(3)
    m = rng.standard_normal((3, 3))
    # tr(X X) = Σᵢⱼ XᵢⱼXⱼᵢ: ∂²/∂Xᵢⱼ∂Xₖₗ = 2·[i = l][j = k]
    h = mg.hessian(lambda x: np.trace(np.tensordot(x, x, 1)))(m).numpy()
    np.testing.assert_array_equal(h, 2 * np.einsum("il,jk->ijkl", np.eye(3), np.eye(3)))
    # Σ diag(x)ᵢ² over the einsum diagonal: 2 on the (i,i),(i,i) entries only
    h = mg.hessian(lambda x: (np.einsum("ii->i", x) ** 2).sum())(m).numpy()
    expected = np.zeros((3, 3, 3, 3))
    expected[range(3), range(3), range(3), range(3)] = 2.0
    np.testing.assert_array_equal(h, expected)
    v = rng.standard_normal(3)
    # ‖v × w‖² with w fixed: a quadratic form whose Hessian is 2(|w|² I − w wᵀ)
    w = rng.standard_normal(3)
    h = mg.hessian(lambda x: (np.cross(x, w) ** 2).sum())(v).numpy()
    np.testing.assert_allclose(h, 2 * ((w @ w) * np.eye(3) - np.outer(w, w)), atol=1e-12)


# --- Tensor methods, where ndarray has them ---------------------------------------------


def test_methods_match_ndarray_methods():
    m = np.arange(12.0).reshape(3, 4)
    t = mg.tensor(m, requires_grad=True)
    for call in (
        lambda x: x.ravel(),
        lambda x: x.swapaxes(0, 1),
        lambda x: x.repeat(2, axis=1),
        lambda x: x.repeat([1, 2, 0], axis=0),
        lambda x: x.diagonal(1),
        lambda x: x.trace(-1),
    ):
        got = call(t)
        assert isinstance(got, mg.Tensor) and got.requires_grad
        np.testing.assert_array_equal(got.numpy(), call(m))


# --- views share their input's version counter; jit results never alias inputs ----------

VIEWS = {
    "ravel": lambda x: np.ravel(x),
    "diagonal": lambda x: np.diagonal(x),
    "diag": lambda x: np.diag(x),
    "swapaxes": lambda x: np.swapaxes(x, 0, 1),
    "moveaxis": lambda x: np.moveaxis(x, 0, 1),
    "split": lambda x: np.split(x, 3)[1],
    "hsplit": lambda x: np.hsplit(x, [1])[1],
    "atleast_3d": lambda x: np.atleast_3d(x),
    "expand_dims": lambda x: np.expand_dims(x, (0, 2)),
    "einsum_diagonal": lambda x: np.einsum("ii->i", x),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_view_shares_the_version_counter_so_in_place_changes_are_caught(name):
    view = VIEWS[name]
    x = mg.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True) * 1.0
    v = view(x)
    assert np.shares_memory(v.data, x.data)  # NumPy makes it a view too
    loss = (v * v).sum()  # mul saves v
    with mg.no_grad():
        x += 1.0  # changes v's memory
    assert v.version == x.version == 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_jitted_view_of_an_argument_is_copied_at_the_boundary(name):
    view = VIEWS[name]
    a = np.arange(9.0).reshape(3, 3)
    fast = mg.jit(view)
    out = fast(a)
    assert not np.shares_memory(out.numpy(), a)
    before = out.numpy().copy()
    a += 100.0
    np.testing.assert_array_equal(out.numpy(), before)
    np.testing.assert_array_equal(fast(a).numpy(), view(a))


def test_copies_are_not_views():
    """repeat, tile and pad make new arrays, as in NumPy: writing into the result
    leaves the input alone."""
    x = mg.tensor(np.ones((2, 2)))
    for out in (np.repeat(x, 1, axis=0), np.tile(x, 1), np.pad(x, 0), np.kron(x, np.ones((1, 1)))):
        assert not np.shares_memory(out.data, x.data)


# --- errors ------------------------------------------------------------------------------


def test_einsum_with_mismatched_shapes_names_the_shapes():
    a, b = mg.tensor(np.ones((2, 3)), requires_grad=True), mg.tensor(np.ones((4, 5)))
    for call in (lambda: mg.einsum("ij,jk->ik", a, b), lambda: np.einsum("ij,jk->ik", a, b)):
        with pytest.raises(mg.ShapeError, match=r"\(2, 3\), \(4, 5\).*'j' has lengths \[3, 4\]"):
            call()
    with pytest.raises(mg.ShapeError, match=r"'ijk' names 3 axes of \(2, 3\)"):
        mg.einsum("ijk->i", a)
    with pytest.raises(ValueError, match=r"repeats a letter"):
        mg.einsum("ij->ii", a)


def test_einsum_ellipsis_broadcasts_and_size_one_axes_broadcast_as_in_numpy():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    np.testing.assert_allclose(
        np.einsum("...ij,...jk->...ik", ta, tb).numpy(),
        np.einsum("...ij,...jk->...ik", a, b),
        rtol=1e-12,
    )
    assert mg.gradcheck(lambda x, y: mg.einsum("...ij,...jk", x, y), ta, tb)
    c, d = rng.standard_normal((2, 3)), rng.standard_normal((1, 3))  # 'i' of length 1 broadcasts
    tc, td = mg.tensor(c, requires_grad=True), mg.tensor(d, requires_grad=True)
    np.testing.assert_allclose(
        mg.einsum("ij,ij->i", tc, td).numpy(), np.einsum("ij,ij->i", c, d), rtol=1e-12
    )
    assert mg.gradcheck(lambda x, y: mg.einsum("ij,ij->i", x, y), tc, td)
    assert mg.gradgradcheck(lambda x, y: mg.einsum("ij,ij->i", x, y), tc, td)


def test_pad_other_modes_raise_a_clear_error_or_run_on_data_without_a_gradient():
    x = mg.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"mode='reflect'.*only mode='constant'"):
        mg.pad(x, 1, mode="reflect")
    with pytest.raises(TypeError, match=r"np\.pad .*drop its gradient.*mode='edge'"):
        np.pad(x, 1, mode="edge")
    np.testing.assert_array_equal(np.pad(x.detach(), 1, mode="edge"), np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"pad_width must be non-negative integers"):
        mg.pad(x, -1)
    with pytest.raises(ValueError, match=r"pad_width=\(1, 2, 3\) fits neither"):
        mg.pad(x, (1, 2, 3))


def test_shape_errors_name_the_function_and_the_shapes():
    v, m = mg.tensor(np.ones(4)), mg.tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"split: an axis of length 4 does not split into 3"):
        np.split(v, 3)
    assert [p.shape for p in np.array_split(v, 3)] == [(2,), (1,), (1,)]
    with pytest.raises(
        mg.ShapeError, match=r"vsplit: needs at least 2 dimension\(s\), got shape \(4,\)"
    ):
        np.vsplit(v, 2)
    with pytest.raises(mg.ShapeError, match=r"dsplit: needs at least 3"):
        np.dsplit(m, 2)
    with pytest.raises(
        mg.ShapeError, match=r"cross: vectors must have 2 or 3 components, got 4 and 4"
    ):
        np.cross(m, m)
    with pytest.raises(
        mg.ShapeError, match=r"tensordot: shapes \(3, 4\) and \(3, 4\) do not match"
    ):
        np.tensordot(m, m, 1)
    with pytest.raises(mg.ShapeError, match=r"repeat: 2 repeat counts for an axis of length 3"):
        np.repeat(m, [1, 2], axis=0)
    with pytest.raises(ValueError, match=r"repeat: repeats may not be negative"):
        np.repeat(m, -1)
    with pytest.raises(
        mg.ShapeError, match=r"diag: input must be 1-d or 2-d, got shape \(1, 3, 4\)"
    ):
        np.diag(m.reshape(1, 3, 4))
    with pytest.raises(mg.ShapeError, match=r"tril: needs at least 1 dimension"):
        mg.tril(mg.tensor(1.0))
    with pytest.raises(mg.ShapeError, match=r"swapaxes: axis 2 is out of range for 2"):
        np.swapaxes(m, 0, 2)
    with pytest.raises(mg.ShapeError, match=r"moveaxis: axis 3 is out of range for 2"):
        np.moveaxis(m, 3, 0)
    with pytest.raises(
        mg.ShapeError, match=r"expand_dims: axis 3 is out of range for shape \(4,\)"
    ):
        np.expand_dims(v, (0, 3))


def test_swapaxes_takes_numpys_keywords():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(
        np.swapaxes(x, axis1=0, axis2=1).numpy(), np.arange(6.0).reshape(2, 3).T
    )
    np.testing.assert_array_equal(
        mg.swapaxes(x, axis1=1, axis2=0).numpy(), np.arange(6.0).reshape(2, 3).T
    )


def test_two_dimensional_cross_products_match_numpy():
    rng = np.random.default_rng(5)
    for sa, sb in (((4, 2), (2,)), ((2,), (4, 3)), ((4, 3), (2,))):
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2 deprecates 2-vectors
            expected = np.cross(a, b)
        got = mg.cross(mg.tensor(a), mg.tensor(b))
        np.testing.assert_array_equal(got.numpy(), expected)


# --- corners: 0-d inputs, repeated letters, NumPy's less common argument forms -----------

CORNERS = {
    "tile_0d": (lambda x: np.tile(x, (2, 3)), [()]),
    "tile_no_reps": (lambda x: np.tile(x, ()), [(3,)]),
    "pad_0d": (lambda x: np.pad(x, 1), [()]),
    "pad_per_axis_values": (
        lambda x: np.pad(x, (1, 2), constant_values=((1, 2), (3, 4))),
        [(2, 2)],
    ),
    "repeat_0d": (lambda x: np.repeat(x, 3), [()]),
    "repeat_array_counts": (lambda x: np.repeat(x, np.array([1, 2]), axis=-1), [(3, 2)]),
    "kron_0d": (lambda x, y: np.kron(x, y), [(), (3,)]),
    "kron_ndims": (lambda x, y: np.kron(x, y), [(2,), (2, 3)]),
    "einsum_iij": (lambda x: np.einsum("iij->j", x), [(3, 3, 2)]),
    "einsum_iji": (lambda x: np.einsum("iji->ij", x), [(3, 2, 3)]),
    "einsum_two_traces": (lambda x, y: np.einsum("ii,jj", x, y), [(3, 3), (2, 2)]),
    "einsum_sublist_ellipsis": (
        lambda x, y: np.einsum(x, [Ellipsis, 0], y, [0, 1]),
        [(1, 2, 3), (3, 2)],
    ),
    "einsum_diagonal_broadcast": (lambda x, y: np.einsum("ii,i->i", x, y), [(1, 1), (3,)]),
    "tensordot_outer": (lambda x, y: np.tensordot(x, y, 0), [(2,), (3,)]),
    "tensordot_int_pair": (lambda x, y: np.tensordot(x, y, (0, 1)), [(3, 2), (2, 3)]),
    "inner_0d": (lambda x, y: np.inner(x, y), [(), (3,)]),
    "cross_axis": (lambda x, y: np.cross(x, y, axis=0), [(3, 2), (3, 2)]),
    "diag_k_outside": (lambda x: np.diag(x, 5), [(3, 4)]),
    "diagonal_negative_axes": (lambda x: np.diagonal(x, -1, -1, -2), [(2, 3, 4)]),
    "trace_offset": (lambda x: np.trace(x, 2), [(3, 4)]),
    "atleast_3d_0d": (lambda x: np.atleast_3d(x), [()]),
    "append_list": (lambda x: np.append(x, [1.0, 2.0]), [(2,)]),
    "column_stack_0d": (lambda x, y: np.column_stack([x, y]), [(), ()]),
    "split_past_the_end": (lambda x: np.split(x, [2, 9])[1], [(4,)]),
}


@pytest.mark.parametrize("name", list(CORNERS))
def test_corners_match_numpy_at_first_and_second_order(name):
    fn, shapes = CORNERS[name]
    arrays, tensors = _draw(shapes, seed=6)
    _assert_same(fn(*tensors).numpy(), fn(*arrays))
    assert mg.gradcheck(_loss(fn), *tensors)
    assert mg.gradgradcheck(fn, *tensors)


def test_pad_keeps_negative_zero_of_a_0d_input():
    assert np.signbit(np.pad(mg.tensor(-0.0), 2).numpy())


def test_atleast_nd_of_several_inputs_is_a_tuple_as_in_numpy():
    a, b = mg.tensor(1.0, requires_grad=True), mg.tensor([1.0, 2.0], requires_grad=True)
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        got, expected = getattr(np, name)(a, b), getattr(np, name)(1.0, np.array([1.0, 2.0]))
        assert isinstance(got, tuple) and [g.shape for g in got] == [e.shape for e in expected]
        assert all(g.requires_grad for g in got)


def test_numpy_options_without_a_rule_run_on_data_or_refuse():
    m = np.arange(6.0).reshape(2, 3)
    for call in (
        lambda x: np.ravel(x, order="F"),
        lambda x: np.trace(x, dtype=np.float32),
        lambda x: np.pad(x, 1, mode="edge"),
    ):
        with pytest.raises(TypeError, match=r"would silently drop its gradient"):
            call(mg.tensor(m, requires_grad=True))
        np.testing.assert_array_equal(np.asarray(call(mg.tensor(m))), call(m))


# --- einsum against NumPy: implicit output, '...', diagonals, sublists, errors, gradients ----
#
# Forward values and errors come from np.einsum on plain arrays, gradients from central
# finite differences (mg.gradcheck, mg.gradgradcheck), calculus done by hand, or PyTorch.

# subscripts -> the operands' shapes
EINSUM_FORMS = {
    # implicit output: the letters seen once, sorted (uppercase before lowercase)
    "implicit_transpose": ("ba", [(2, 3)]),
    "implicit_matmul_reordered": ("jk,ij", [(3, 4), (2, 3)]),
    "implicit_upper_first": ("aB", [(2, 3)]),
    "implicit_mixed_case": ("Xb,bA", [(2, 3), (3, 4)]),
    "implicit_dot": ("i,i", [(3,), (3,)]),
    "implicit_trace": ("ii", [(3, 3)]),
    "implicit_diagonal_sum": ("iij", [(3, 3, 2)]),
    # '...': the broadcast axes lead an implicit output, right-aligned across operands
    "ellipsis_implicit_one_letter": ("...X", [(2, 3)]),
    "ellipsis_implicit_letter_first": ("X...", [(2, 3, 4)]),
    "ellipsis_implicit_summed": ("...i,...i", [(2, 3), (4, 1, 3)]),
    "ellipsis_explicit_batched_matmul": ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    "ellipsis_middle": ("i...j->j...i", [(2, 3, 4, 5)]),
    "ellipsis_no_named_axes": ("...,...->...", [(2, 3), (3,)]),
    "ellipsis_empty_in_one_operand": ("...i,i->...", [(2, 3), (3,)]),
    "ellipsis_diagonal": ("...ii->...i", [(2, 3, 3)]),
    # repeated letters: diagonals, traces, with and without a summed letter of their own
    "diagonal": ("ii->i", [(3, 3)]),
    "diagonal_of_three": ("iii->i", [(2, 2, 2)]),
    "diagonal_kept_apart": ("iji->ji", [(3, 2, 3)]),
    "diagonal_times_vector": ("ii,i->i", [(3, 3), (3,)]),
    "diagonal_and_summed": ("iijk->j", [(2, 2, 3, 4)]),
    # a letter of length 1 broadcasts (as in NumPy), also when summed in one operand only
    "broadcast_summed_alone": ("ij,i->i", [(1, 3), (4,)]),
    "broadcast_summed_alone_kept": ("ij,i->ij", [(1, 3), (4,)]),
    # three operands, a letter in all of them
    "three_operands": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "three_shared": ("i,i,i->", [(3,), (3,), (3,)]),
}


@pytest.mark.parametrize("name", list(EINSUM_FORMS))
def test_einsum_forms_match_numpy_and_finite_differences(name):
    subscripts, shapes = EINSUM_FORMS[name]
    arrays, tensors = _draw(shapes, seed=7)
    expected = np.einsum(subscripts, *arrays)
    for fn in (mg.einsum, np.einsum):
        got = fn(subscripts, *tensors)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert mg.gradcheck(lambda *xs: mg.einsum(subscripts, *xs), *tensors)
    assert mg.gradgradcheck(lambda *xs: mg.einsum(subscripts, *xs), *tensors)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_einsum_implicit_output_order_matches_numpy(data):
    """Random implicit subscripts over letters of both cases: NumPy's output order (the
    letters seen once, sorted by character; '...' first) and values."""
    pool = "aBcXyZ"
    size = dict(zip(pool, (2, 3, 1, 4, 2, 3), strict=True))
    subs = [
        "".join(data.draw(st.permutations(pool).map(lambda p, n=n: p[:n])))
        for n in data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    ]
    ellipsis = data.draw(st.booleans())
    subs = ["..." + s if ellipsis else s for s in subs]
    shapes = [(2,) * ellipsis + tuple(size[c] for c in s.replace("...", "")) for s in subs]
    arrays = [data.draw(mt.arrays(s)) for s in shapes]
    expected = np.einsum(",".join(subs), *arrays)
    got = mg.einsum(",".join(subs), *(mg.tensor(a) for a in arrays))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)


# (operand shapes, the sublist arguments between the operands: einsum(x0, s0, x1, s1, ...,
# [output])); labels 0-25 are NumPy's uppercase letters, 26-51 its lowercase ones
EINSUM_SUBLISTS = {
    "explicit_matmul": ([(2, 3), (3, 4)], [[0, 1], [1, 2]], [[0, 2]]),
    "implicit_matmul": ([(2, 3), (3, 4)], [[0, 1], [1, 2]], []),
    "implicit_reordered": ([(3, 4), (2, 3)], [[1, 2], [0, 1]], []),
    "implicit_labels_past_25": ([(2, 3)], [[30, 2]], []),
    "explicit_transpose": ([(2, 3)], [[0, 1]], [[1, 0]]),
    "explicit_ellipsis": ([(2, 3, 4), (4,)], [[Ellipsis, 0], [0]], [[Ellipsis]]),
    "implicit_ellipsis": ([(1, 2, 3), (3, 2)], [[Ellipsis, 0], [0, 1]], []),
    "diagonal": ([(3, 3)], [[5, 5]], [[5]]),
    "trace": ([(3, 3)], [[5, 5]], []),
    "three_operands": ([(2, 3), (3,), (3, 2)], [[0, 1], [1], [1, 2]], [[2, 0]]),
}


def _sublist_args(operands, sublists, output):
    return [*(x for pair in zip(operands, sublists, strict=True) for x in pair), *output]


@pytest.mark.parametrize("name", list(EINSUM_SUBLISTS))
def test_einsum_sublist_form_matches_numpy_and_finite_differences(name):
    shapes, sublists, output = EINSUM_SUBLISTS[name]
    arrays, tensors = _draw(shapes, seed=8)
    expected = np.einsum(*_sublist_args(arrays, sublists, output))
    for fn in (mg.einsum, np.einsum):
        got = fn(*_sublist_args(tensors, sublists, output))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-14)

    def f(*xs):
        return mg.einsum(*_sublist_args(xs, sublists, output))

    assert mg.gradcheck(f, *tensors)


# subscripts, operand shapes, key words of minigrad's message (NumPy raises ValueError too)
EINSUM_ERRORS = {
    "two_ellipses": ("...i...", [(2, 3)], r"'\.\.\.i\.\.\.'.*subscripts are letters and '\.\.\.'"),
    "two_ellipses_two_operands": (
        "i,...i...",
        [(3,), (2, 3)],
        r"'\.\.\.i\.\.\.' in .*subscripts are letters and '\.\.\.'",
    ),
    "a_lone_dot": ("i.j", [(2, 3)], r"subscripts are letters and '\.\.\.'"),
    "four_dots": ("....i", [(2, 3)], r"subscripts are letters and '\.\.\.'"),
    "a_digit": ("i1", [(2, 3)], r"subscripts are letters"),
    "bad_output": ("ij->i.", [(2, 3)], r"'i\.' in .*subscripts are letters"),
    "too_many_axes": ("ij", [(2, 3, 4)], r"'ij' names 2 axes of \(2, 3, 4\)"),
    "too_many_axes_second": ("i,jk->", [(2,), (2, 3, 4)], r"'jk' names 2 axes of \(2, 3, 4\)"),
    "too_few_axes": ("ijk->i", [(2, 3)], r"'ijk' names 3 axes of \(2, 3\)"),
    "too_few_axes_ellipsis": ("...ijk", [(2, 3)], r"'\.\.\.ijk' names 3 axes of \(2, 3\)"),
    "operand_count": ("ij,jk", [(2, 3)], r"names 2 operands, got 1"),
    "output_letter_unknown": ("ij,jk->iX", [(2, 3), (3, 4)], r"output 'iX' .*names one no"),
    "output_letter_unknown_one": ("ij->k", [(2, 3)], r"output 'k' .*names one no operand"),
    "output_letter_repeated": ("ij,jk->ii", [(2, 3), (3, 4)], r"output 'ii' repeats a letter"),
    "ellipsis_dropped": ("...ij,jk->ik", [(2, 2, 3), (3, 4)], r"'\.\.\.' in an operand but not"),
    "diagonal_not_square": ("ii", [(2, 3)], r"'i' is both 2 and 3 long in 'ii'"),
    "lengths_differ": ("ij,jk->ik", [(2, 3), (4, 5)], r"\(2, 3\), \(4, 5\).*'j' has lengths"),
}


@pytest.mark.parametrize("name", list(EINSUM_ERRORS))
def test_einsum_bad_subscripts_raise_where_numpy_does(name):
    subscripts, shapes, message = EINSUM_ERRORS[name]
    with pytest.raises(ValueError):  # NumPy refuses them too
        np.einsum(subscripts, *(np.ones(s) for s in shapes))
    tensors = [mg.tensor(np.ones(s), requires_grad=True) for s in shapes]
    for fn in (mg.einsum, np.einsum):
        with pytest.raises(ValueError, match=message):
            fn(subscripts, *tensors)


def test_einsum_shape_errors_are_shape_errors():
    a = mg.tensor(np.ones((2, 3)))
    for subscripts, operands in (("ij", [np.ones((2, 3, 4))]), ("ijk", [a]), ("ii", [a])):
        with pytest.raises(mg.ShapeError, match=r"does not fit operands of shapes"):
            mg.einsum(subscripts, *operands)


def test_einsum_gradients_from_calculus():
    rng = np.random.default_rng(9)
    # out_i = y_i · Σ_j x_0j, with x's i of length 1: ∂/∂x_0j = Σ_i g_i y_i, ∂/∂y_i = g_i Σ_j x_0j
    x, y, g = rng.standard_normal((1, 3)), rng.standard_normal(4), rng.standard_normal(4)
    gx, gy = _grads(lambda a, b: mg.einsum("ij,i->i", a, b), x, y, upstream=g)
    np.testing.assert_allclose(gx, np.full((1, 3), g @ y), rtol=1e-12)
    np.testing.assert_allclose(gy, g * x.sum(), rtol=1e-12)
    # out_j = Σ_i x_iji: the gradient g_j sits where the first and last index agree
    x, g = rng.standard_normal((3, 2, 3)), rng.standard_normal(2)
    expected = np.zeros((3, 2, 3))
    for i in range(3):
        expected[i, :, i] = g
    np.testing.assert_array_equal(
        _grads(lambda a: mg.einsum("iji->j", a), x, upstream=g)[0], expected
    )
    # out_k = Σ_ij x_iijk: the diagonal (i, i) of every (j, k) gets g_k
    x, g = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal(4)
    expected = np.zeros((2, 2, 3, 4))
    expected[0, 0], expected[1, 1] = np.broadcast_to(g, (3, 4)), np.broadcast_to(g, (3, 4))
    np.testing.assert_array_equal(
        _grads(lambda a: mg.einsum("iijk->k", a), x, upstream=g)[0], expected
    )
    # '...ij,...jk->...ik' with a broadcast batch: ∂/∂A = Σ_batch G Bᵀ, ∂/∂B = AᵀG per batch
    a, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((4, 5))
    g = rng.standard_normal((3, 2, 5))
    ga, gb = _grads(lambda p, q: np.einsum("...ij,...jk->...ik", p, q), a, b, upstream=g)
    np.testing.assert_allclose(ga, g @ b.T, rtol=1e-12)
    np.testing.assert_allclose(gb, sum(a[n].T @ g[n] for n in range(3)), rtol=1e-12)


# subscripts, shape, g put where the einsum read it (0 elsewhere)
DIAGONAL_READS = {
    "ii->i": ((40, 40), np.diag),
    "iij->ij": ((40, 40, 2), lambda g: np.eye(40, dtype=g.dtype)[:, :, None] * g[:, None, :]),
}


@pytest.mark.parametrize("subscripts", list(DIAGONAL_READS))
def test_einsum_diagonal_gradient_is_float32_all_the_way_down(subscripts):
    """A float32 gradient reaching a float32 intermediate stays float32 (as in PyTorch):
    through y = x·s·t, each rule rounds to float32, so ∂/∂x = fl(fl(g·t)·s) on the
    diagonal, not g·t·s rounded once."""
    shape, placed = DIAGONAL_READS[subscripts]
    rng = np.random.default_rng(13)
    x, s, t = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    g = rng.standard_normal(np.einsum(subscripts, x).shape).astype(np.float32)
    gx = _grads(lambda a, b, c: mg.einsum(subscripts, a * b * c), x, s, t, upstream=g)[0]
    assert gx.dtype == np.float32
    expected = (placed(g) * t) * s  # float32 arithmetic, rule by rule
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(gx, expected)


def test_einsum_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    for subscripts, shapes in (
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
        ("bii->bi", [(2, 3, 3)]),
        ("iij,j", [(3, 3, 2), (2,)]),
        ("ij,i->i", [(1, 3), (4,)]),
        ("...i,...i", [(2, 3), (4, 1, 3)]),
    ):
        arrays = [rng.standard_normal(s) for s in shapes]
        g = rng.standard_normal(np.einsum(subscripts, *arrays).shape)
        ours = _grads(lambda *xs, s=subscripts: mg.einsum(s, *xs), *arrays, upstream=g)
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        torch.einsum(subscripts, *theirs).backward(torch.tensor(g))
        for mine, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_einsum_numpy_keywords_optimize_runs_out_and_dtype_go_to_numpy():
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    for optimize in (True, "greedy", False):  # only a plan: the result and gradient stay ours
        got = np.einsum("ij,jk->ik", ta, tb, optimize=optimize)
        assert isinstance(got, mg.Tensor) and got.requires_grad
        np.testing.assert_allclose(got.numpy(), a @ b, rtol=1e-12)
        got.sum().backward()
        np.testing.assert_allclose(ta.grad.numpy(), np.broadcast_to(b.sum(1), (2, 3)), rtol=1e-12)
        ta.grad = tb.grad = None
    for options in ({"out": np.empty((2, 4))}, {"dtype": np.float32, "casting": "same_kind"}):
        with pytest.raises(TypeError, match=r"np\.einsum .*silently drop its gradient"):
            np.einsum("ij,jk->ik", ta, tb, **options)
        got = np.einsum("ij,jk->ik", mg.tensor(a), mg.tensor(b), **options)  # NumPy's own
        expected = np.einsum("ij,jk->ik", a, b, **{**options, "out": None})
        assert not isinstance(got, mg.Tensor) and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_matrix_norm_over_two_axes_has_numpys_shape_and_gradient():
    """np.linalg.norm over two axes (Frobenius) drops them unless keepdims; ∂‖x‖/∂x = x/‖x‖."""
    x = np.random.default_rng(12).standard_normal((2, 3, 4))
    t = mg.tensor(x, requires_grad=True)
    for kwargs in (
        {"axis": (0, 2)},
        {"axis": (2, 1), "ord": "fro"},
        {"axis": (0, 1), "keepdims": True},
    ):
        expected = np.linalg.norm(x, **kwargs)
        got = np.linalg.norm(t, **kwargs)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    norm = np.linalg.norm(t, axis=(0, 2))
    norm.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), x / np.sqrt((x * x).sum(axis=(0, 2), keepdims=True)))


@pytest.mark.parametrize(
    ("spec", "shape_a", "shape_b"),
    [
        ("i,ij->j", (4,), (1, 3)),  # i: 4 in a, 1 in b, summed away
        ("ij,jk->ik", (2, 1), (3, 4)),  # j: 1 in a, 3 in b
        ("ij,jk->ik", (2, 3), (1, 4)),
        ("ij,ij->i", (2, 1), (2, 3)),
        ("ij,ij->j", (0, 3), (1, 3)),  # i: 0 in a, 1 in b (the fuzzer's empty corner)
    ],
)
def test_einsum_gradient_where_a_letter_has_length_one_in_the_other_operand(spec, shape_a, shape_b):
    """NumPy broadcasts a letter of length 1 against its length n elsewhere; the backward
    pass once kept the 1 and failed to reshape. Finite differences at first and second
    order, and PyTorch's einsum, which broadcasts the same way."""
    rng = np.random.default_rng(len(spec))
    a = mg.tensor(rng.standard_normal(shape_a), requires_grad=True)
    b = mg.tensor(rng.standard_normal(shape_b), requires_grad=True)
    np.testing.assert_allclose(
        mg.einsum(spec, a, b).numpy(), np.einsum(spec, a.numpy(), b.numpy()), rtol=1e-12
    )
    assert mg.gradcheck(lambda a, b: mg.einsum(spec, a, b), a, b)
    assert mg.gradgradcheck(lambda a, b: mg.einsum(spec, a, b), a, b)
    torch = pytest.importorskip("torch")
    ta, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (a, b))
    torch.einsum(spec, ta, tb).sum().backward()
    mg.einsum(spec, a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


def test_atleast_nd_of_several_arrays_returns_one_result_per_array():
    """NumPy's atleast_1d/2d/3d of several arrays return a tuple (one array each); of one
    array, the array itself."""
    x, y = mg.tensor(1.0, requires_grad=True), mg.tensor([1.0, 2.0], requires_grad=True)
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        got, expected = getattr(mg, name)(x, y), getattr(np, name)(x.numpy(), y.numpy())
        assert isinstance(got, tuple) and len(got) == 2
        assert [g.shape for g in got] == [e.shape for e in expected]
        single = getattr(mg, name)(y)
        assert single.shape == getattr(np, name)(y.numpy()).shape
    a, b = mg.atleast_2d(x, y)
    (a.sum() + 3 * b.sum()).backward()
    assert x.grad.item() == 1.0 and y.grad.numpy().tolist() == [3.0, 3.0]


def test_hstack_of_matrices_joins_columns_and_the_stacks_take_plain_lists():
    """hstack joins along axis 1 once any input has two axes (NumPy's rule); every
    stack takes nested lists beside tensors, as NumPy's do."""
    a, b = np.arange(4.0).reshape(2, 2), np.ones((2, 3))
    x = mg.tensor(a, requires_grad=True)
    joined = mg.hstack([x, b])
    np.testing.assert_array_equal(joined.numpy(), np.hstack([a, b]))
    (joined * np.arange(10.0).reshape(2, 5)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [5.0, 6.0]])
    for name in ("vstack", "hstack", "dstack", "column_stack"):
        got = getattr(mg, name)([[1.0, 2.0], mg.tensor([3.0, 4.0])])
        np.testing.assert_array_equal(got.numpy(), getattr(np, name)([[1.0, 2.0], [3.0, 4.0]]))
