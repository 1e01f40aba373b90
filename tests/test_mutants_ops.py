"""The ops (minigrad/ops.py) beyond the op table: argmax/argmin, casts, axis handling,
the broadcast view's fallbacks, joins, the empty product, einsum's refusals, and the
error reports — pinned down where mutants survived or no selected test ran the code.

The one-line gradient rules that ops.py defines as module-level lambdas are not mutated
by mutmut (it mutates code inside functions only); tests/op_table.py's property tests
cover them. Expected values are NumPy's own results on plain arrays, hand-derived
derivatives, or central finite differences.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from tests.test_trust import central_diff


def grad_of(f, *arrays, upstream=None):
    """The gradients of sum(upstream · f(*xs)) with respect to each array."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    out.backward(np.ones(out.shape) if upstream is None else upstream)
    return [x.grad.numpy() for x in xs]


# =========================================================================================
# argmax / argmin
# =========================================================================================

A = np.array([[3.0, 9.0, 1.0], [7.0, 2.0, 8.0]])


def arg_functions(name):
    """mg.argmax (or argmin), and the same function made again by the factory that made
    it at import: mutmut can only switch a mutant on in code that runs during a test."""
    reference = getattr(np, name)
    return [getattr(mg, name), ops._arg_extremum(name, reference)]


@pytest.mark.parametrize(("name", "reference"), [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize("made", [0, 1])
@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (0, False), (1, False), (-1, True), (0, True)]
)
def test_argmax_argmin_agree_with_numpy(name, reference, made, axis, keepdims):
    fn = arg_functions(name)[made]
    got = fn(mg.tensor(A, requires_grad=True), axis=axis, keepdims=keepdims)
    assert isinstance(got, mg.Tensor) and not got.requires_grad
    expected = reference(A, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(got.numpy(), expected)
    assert got.shape == np.shape(expected)
    plain = fn(A, axis=axis, keepdims=keepdims)  # on an ndarray: an ndarray back
    assert not isinstance(plain, mg.Tensor)
    np.testing.assert_array_equal(plain, expected)


@pytest.mark.parametrize("made", [0, 1])
def test_argmax_argmin_names_and_errors(made):
    argmax, argmin = arg_functions("argmax")[made], arg_functions("argmin")[made]
    assert argmax.__name__ == "argmax"
    assert argmax.__doc__.startswith("Index of the maximum along ``axis``")
    assert argmin.__name__ == "argmin"
    assert argmin.__doc__.startswith("Index of the minimum along ``axis``")
    assert argmax(np.array([[1.0, 5.0], [7.0, 2.0]])) == 2  # flat index by default
    with pytest.raises(ValueError, match=r"^argmax of an empty tensor \(shape \(0,\)\)"):
        argmax(mg.tensor(np.zeros(0)))
    with pytest.raises(ValueError, match=r"^argmin of an empty tensor \(shape \(2, 0\)\)"):
        argmin(mg.tensor(np.zeros((2, 0))), axis=1)
    with pytest.raises(ValueError, match="argmax of an empty"):
        argmax(mg.tensor(np.zeros((0, 3))), axis=0)
    with pytest.raises(mg.ShapeError, match="argmax needs a tensor with at least one axis"):
        argmax(mg.tensor(2.0), axis=0)
    with pytest.raises(mg.ShapeError, match="axis 2 is out of range"):
        argmin(mg.tensor(A), axis=2)
    # a one-element tensor and a one-element axis are fine
    assert argmax(mg.tensor([4.0])).item() == 0
    np.testing.assert_array_equal(argmin(mg.tensor(np.ones((3, 1))), axis=1).numpy(), [0, 0, 0])
    np.testing.assert_array_equal(argmax(mg.tensor(np.ones((1, 3))), axis=0).numpy(), [0, 0, 0])


# =========================================================================================
# casts
# =========================================================================================


def test_cast_between_float_dtypes_is_recorded_and_casts_the_gradient_back():
    x = mg.tensor([1.5, -2.0], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()  # ∂Σy²/∂x = 2x, cast back to float64
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_cast_to_the_same_dtype_is_the_tensor_itself():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert x.astype(np.float64) is x
    assert ops.cast(x, "float64") is x


def test_cast_to_integer_cuts_the_graph_and_complex_is_refused():
    x = mg.tensor([1.7, -2.2], requires_grad=True)
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i.numpy(), [1, -2])
    with pytest.raises(TypeError, match=r"^complex tensors are not supported$"):
        x.astype(np.complex128)


def test_cast_of_a_plain_array_or_list_is_an_array():
    got = ops.cast([1, 2], np.float32)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_array_equal(got, [1.0, 2.0])


# =========================================================================================
# axes, shapes, reductions
# =========================================================================================


@pytest.mark.parametrize("axis", ["0", (0, 1.5), True, (1, False)])
def test_an_axis_must_be_an_integer(axis):
    with pytest.raises(TypeError, match="an axis must be an integer"):
        mg.tensor(A).sum(axis=axis)


def test_axes_of_numpy_integer_type_are_accepted():
    np.testing.assert_array_equal(mg.tensor(A).sum(axis=np.int64(1)).numpy(), A.sum(axis=1))
    np.testing.assert_array_equal(
        mg.tensor(A).sum(axis=(np.int32(0), np.int32(1))).numpy(), A.sum()
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor_is_refused(name):
    with pytest.raises(mg.ShapeError, match=f"{name} needs a tensor with at least one axis"):
        getattr(mg, name)(mg.tensor(1.0))


def test_expand_dims_range():
    x = mg.tensor(np.zeros((2, 3)))
    # valid axes run from −3 to 2 for a 2-D input (the result has 3 axes)
    assert mg.unsqueeze(x, -3).shape == (1, 2, 3)
    assert mg.unsqueeze(x, 2).shape == (2, 3, 1)
    assert mg.unsqueeze(x, -1).shape == (2, 3, 1)
    for axis in (3, -4):
        with pytest.raises(mg.ShapeError, match=rf"axis {axis} is out of range for shape \(2, 3\)"):
            mg.unsqueeze(x, axis)


def test_flatten_errors_name_the_argument_and_the_range():
    x = mg.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="start_dim must be an integer"):
        mg.flatten(x, start_dim=1.0)
    with pytest.raises(TypeError, match="end_dim must be an integer"):
        mg.flatten(x, end_dim=True)
    with pytest.raises(mg.ShapeError, match=r"end_dim=3 is out of range .* 3 dimension\(s\)"):
        mg.flatten(x, end_dim=3)
    with pytest.raises(mg.ShapeError, match=r"start_dim=-4 .*expected -3 … 2"):
        mg.flatten(x, start_dim=-4)
    with pytest.raises(mg.ShapeError, match=r"start_dim=2 comes after end_dim=1 .*\(2, 3, 4\)"):
        mg.flatten(x, 2, 1)
    assert mg.flatten(x, -3, -1).shape == (24,)
    assert mg.flatten(x, 1, 1).shape == (2, 3, 4)
    assert mg.flatten(mg.tensor(5.0)).shape == (1,)


def test_product_over_an_empty_axis_is_one_with_zero_gradient():
    x = mg.tensor(np.zeros((2, 0)), requires_grad=True)
    p = x.prod(axis=1) if hasattr(x, "prod") else ops.prod(x, axis=1)
    np.testing.assert_array_equal(p.numpy(), [1.0, 1.0])
    p.sum().backward()
    assert x.grad.shape == (2, 0)
    q = ops.prod(mg.tensor(np.zeros((2, 0))), axis=1, keepdims=True)
    assert q.shape == (2, 1)


# =========================================================================================
# the broadcast view and sum_to_shape
# =========================================================================================


def test_broadcast_view_of_a_non_contiguous_array():
    x = np.arange(6.0).reshape(2, 3).T  # (3, 2), not C-contiguous
    got = ops.broadcast_to(x, (4, 3, 2))
    np.testing.assert_array_equal(got, np.broadcast_to(x, (4, 3, 2)))


@pytest.mark.parametrize(
    ("shape", "target"), [((3,), (2, 4)), ((2,), (4,)), ((2, 3), (3,)), ((2, 3), (4, 3))]
)
def test_broadcast_view_refuses_what_numpy_refuses(shape, target):
    with pytest.raises(mg.ShapeError, match="broadcast_to: incompatible shapes"):
        ops.broadcast_to(np.zeros(shape), target)


def test_broadcast_view_is_read_only_and_shares_memory():
    x = np.arange(3.0)
    view = ops.broadcast_to(x, (2, 3))
    assert not view.flags.writeable
    assert np.shares_memory(view, x)
    np.testing.assert_array_equal(view, [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])


def test_sum_to_shape_by_hand():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ops.sum_to_shape(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(ops.sum_to_shape(g, (1, 4)), g.sum(axis=(0, 1))[None, :])
    np.testing.assert_array_equal(ops.sum_to_shape(g, (2, 3, 4)), g)
    np.testing.assert_array_equal(ops.sum_to_shape(g, ()), g.sum())


# =========================================================================================
# linear, where, compare, joins, einsum
# =========================================================================================


def test_linear_with_batches_of_batches_and_a_single_output_weight():
    # out = x·w over the last axis of x (2, 3, 4); ∂Σ(g ⊙ out)/∂w = Σ over the batch
    # axes of g·x, and ∂/∂x = g ⊗ w
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(())
    g = rng.standard_normal((2, 3))
    gx, gw, gb = grad_of(lambda x, w, b: ops.linear(x, w, b), x, w, b, upstream=g)
    np.testing.assert_allclose(gw, np.einsum("ij,ijk->k", g, x))
    np.testing.assert_allclose(gx, g[..., None] * w)
    np.testing.assert_allclose(gb, g.sum())


def test_where_detaches_a_condition_that_requires_grad():
    cond = mg.tensor([1.0, 0.0], requires_grad=True)
    a = mg.tensor([2.0, 3.0], requires_grad=True)
    out = mg.where(cond, a, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0])
    assert cond.grad is None


def test_a_comparison_of_incompatible_shapes_names_them():
    with pytest.raises(mg.ShapeError, match=r"less: incompatible shapes \(2,\) and \(3,\)"):
        _ = mg.tensor([1.0, 2.0]) < mg.tensor([1.0, 2.0, 3.0])


@pytest.mark.parametrize("join", [mg.concatenate, mg.stack])
def test_joins_take_a_sequence(join):
    with pytest.raises(TypeError, match=r"takes a sequence of tensors, got Tensor"):
        join(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="got int"):
        join(3)
    with pytest.raises(ValueError, match="at least one tensor"):
        join([])


def test_einsum_refusals():
    a = mg.tensor(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"'\.\.\.' in an operand but not in the output"):
        mg.einsum("...i->i", a)
    with pytest.raises(ValueError, match=r"names 2 operands, got 1"):
        mg.einsum("ij,jk->ik", a)
    with pytest.raises(mg.ShapeError, match=r"'i' is both 2 and 3 long in 'ii'"):
        mg.einsum("ii->i", np.ones((2, 3)))


def test_einsum_implicit_output_is_the_letters_seen_once_in_order():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ta, tb = mg.tensor(a), mg.tensor(b)
    # "ba,ac" → the letters seen once, b and c, in alphabetical order: "bc"
    np.testing.assert_allclose(mg.einsum("ba,ac", ta, tb).numpy(), a @ b)
    np.testing.assert_allclose(mg.einsum("ij, jk", ta, tb).numpy(), a @ b)
    # "cb,ba": seen once are c and a, so the output is "ac", the transpose of c·b
    np.testing.assert_allclose(mg.einsum("cb,ba", ta, tb).numpy(), (a @ b).T)
    ga, gb = grad_of(lambda a, b: mg.einsum("ij,jk", a, b), a, b)
    np.testing.assert_allclose(ga, np.ones((2, 4)) @ b.T)
    np.testing.assert_allclose(gb, a.T @ np.ones((2, 4)))


def check_against_numpy(mg_fn, np_fn, *arrays, atol=1e-6):
    """mg_fn's value equals np_fn's, and its gradients the central differences of np_fn."""
    out = mg_fn(*[mg.tensor(a) for a in arrays])
    expected = np_fn(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    weights = np.random.default_rng(5).standard_normal(np.shape(expected))
    grads = grad_of(mg_fn, *arrays, upstream=weights)
    for i, a in enumerate(arrays):

        def scalar(v, i=i):
            args = list(arrays)
            args[i] = v
            return np.sum(np_fn(*args) * weights)

        np.testing.assert_allclose(grads[i], central_diff(scalar, a), atol=atol)


R3 = np.random.default_rng(2)


@pytest.mark.parametrize(
    ("spec", "shapes"),
    [
        ("ij,jk->i", [(2, 3), (3, 4)]),  # k is summed in the second operand only
        ("ij->", [(2, 3)]),
        ("ij,j", [(2, 3), (3,)]),
        ("i,i->", [(3,)] * 2),
        ("ijk,kj->ik", [(2, 3, 4), (4, 3)]),
        ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ],
)
def test_einsum_gradients_match_finite_differences(spec, shapes):
    arrays = [R3.standard_normal(s) for s in shapes]
    check_against_numpy(lambda *xs: mg.einsum(spec, *xs), lambda *xs: np.einsum(spec, *xs), *arrays)


@pytest.mark.parametrize("axis", [-2, -1, 0, 1])
def test_concatenate_along_any_axis_routes_each_slice_back(axis):
    a, b = R3.standard_normal((2, 3)), R3.standard_normal((2, 3))
    check_against_numpy(
        lambda a, b: mg.concatenate([a, b], axis=axis),
        lambda a, b: np.concatenate([a, b], axis=axis),
        a,
        b,
    )


@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (1, False), (1, True), ((0, 2), True), (2, False)]
)
def test_prod_matches_numpy(axis, keepdims):
    x = R3.uniform(0.5, 1.5, (3, 5, 3))  # odd lengths: the tree pads with ones
    check_against_numpy(
        lambda t: ops.prod(t, axis, keepdims), lambda t: np.prod(t, axis, keepdims=keepdims), x
    )


def test_prod_keeps_float32():
    got = ops.prod(mg.tensor(np.array([1.5, 2.0, 3.0], dtype=np.float32)))
    assert got.dtype == np.float32 and got.item() == 9.0


def test_var_with_no_degrees_of_freedom_left_is_infinite_as_in_numpy():
    x = np.array([1.0, 2.0, 4.0])
    with np.errstate(divide="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(x, ddof=3)
    with np.errstate(divide="ignore"):
        assert ops.var(mg.tensor(x), ddof=3).item() == expected == np.inf


@pytest.mark.parametrize("fn", [ops.var, ops.std])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_var_and_std_over_axes_of_a_square_matrix(fn, axis):
    x = R3.standard_normal((3, 3))
    ref = {ops.var: np.var, ops.std: np.std}[fn]
    check_against_numpy(lambda t: fn(t, axis, 1), lambda t: ref(t, axis, ddof=1), x)


def test_max_over_a_non_empty_axis_of_an_empty_tensor_is_empty():
    got = mg.tensor(np.zeros((0, 3))).max(axis=1)
    assert got.shape == (0,)
    with pytest.raises(ValueError, match=r"max over an empty axis \(shape \(0, 3\), axis 0\)"):
        mg.tensor(np.zeros((0, 3))).max(axis=0)
    assert mg.tensor(np.ones((1, 3))).max().item() == 1.0


def test_axis_ranges():
    v = mg.tensor([1.0, 2.0])
    assert v.sum(axis=-1).item() == 3.0
    with pytest.raises(mg.ShapeError, match="axis 1 is out of range for a tensor with 1 dim"):
        v.sum(axis=1)
    with pytest.raises(mg.ShapeError, match="axis -2 is out of range"):
        v.sum(axis=-2)
    s = mg.tensor(2.0)
    assert s.sum(axis=-1).item() == s.sum(axis=0).item() == 2.0  # as in PyTorch
    with pytest.raises(mg.ShapeError, match="axis 1 is out of range for a tensor with 0 dim"):
        s.sum(axis=1)


@pytest.mark.parametrize("upstream", [1.0, -2.0])
def test_sqrt_at_zero_with_a_nonzero_upstream_gradient_is_infinite(upstream):
    # d√x/dx = 1/(2√x): ±inf at 0 (sign of the upstream gradient), 1/4 at x = 4
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    x.sqrt().backward(np.array([upstream, upstream]))
    np.testing.assert_array_equal(x.grad.numpy(), [upstream * np.inf, upstream * 0.25])


def test_squeeze_drops_only_the_axes_named():
    x = mg.tensor(np.zeros((1, 3, 1)))
    assert mg.squeeze(x, 0).shape == (3, 1)
    assert mg.squeeze(x, -1).shape == (1, 3)
    assert mg.squeeze(x, 1).shape == (1, 3, 1)  # not of size 1: kept, as in PyTorch
    assert mg.squeeze(x).shape == (3,)


# =========================================================================================
# ops without a gradient, and argmax/argmin's op
# =========================================================================================


def test_an_op_without_gradient_has_one_empty_rule_per_input_and_reads_nothing():
    # made at test time: mutmut can only switch a mutant on in code that runs in a test
    less = ops._no_gradient("less", np.less, 2)
    assert less.name == "less" and repr(less) == "<op less>"
    assert tuple(less.vjps) == (None, None) and not less.differentiable
    assert less.derivatives == ("no gradient", "no gradient")
    assert less.saves == ()
    got = less(mg.tensor([1.0, 3.0], requires_grad=True), 2.0)
    assert not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), [True, False])
    with pytest.raises(mg.ShapeError, match=r"^less: incompatible shapes \(2,\) and \(3,\)"):
        less(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_op_is_named_and_has_a_rule_slot_per_input(name):
    import inspect

    fn = ops._arg_extremum(name, getattr(np, name))
    op = inspect.getclosurevars(fn).nonlocals["op"]
    assert op.name == name
    assert tuple(op.vjps) == (None, None, None)  # x, axis, keepdims: none differentiable
    # a jitted program writes it as NumPy's own function, with the op's options
    jitted = mg.jit(lambda x: fn(x, axis=1))
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    np.testing.assert_array_equal(jitted(mg.tensor(x)).numpy(), getattr(np, name)(x, axis=1))
    assert f"np.{name}(x, axis=1, keepdims=False)" in jitted.source


# =========================================================================================
# shapes of array-likes, and the reductions' defaults
# =========================================================================================


def test_functions_taking_shapes_accept_lists_and_numbers():
    # _shape reads a list's or a number's shape with np.shape, not an attribute
    assert ops.expand_dims([1.0, 2.0], 0).shape == (1, 2)
    assert ops.flatten([[1.0, 2.0], [3.0, 4.0]]).shape == (4,)
    assert ops.prod([2.0, 3.0, 4.0]) == 24.0
    assert ops.argmax([1.0, 5.0, 2.0]) == 1
    assert ops.flatten(3.0).shape == (1,)


@pytest.mark.parametrize(("fn", "ref"), [(ops.sum, np.sum), (ops.max, np.max), (ops.min, np.min)])
def test_reductions_drop_the_reduced_axes_by_default(fn, ref):
    x = np.array([[3.0, -1.0, 4.0], [1.0, 5.0, -9.0]])
    for args in [(), (0,), (1,)]:
        got = fn(x, *args)
        expected = ref(x, *args)
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_array_equal(got, expected)
    assert fn(mg.tensor(x)).shape == ()


# =========================================================================================
# clip's masks: who gets the gradient at a tie with a bound
# =========================================================================================


def clip_grads(x, lo, hi):
    """The gradients of Σ clip(x, lo, hi) for x and for each bound given as an array."""
    xt = mg.tensor(x, requires_grad=True)
    lt = None if lo is None else mg.tensor(lo, requires_grad=True)
    ht = None if hi is None else mg.tensor(hi, requires_grad=True)
    out = mg.clip(xt, lt, ht)
    out.sum().backward()
    return [None if t is None else t.grad.numpy() for t in (xt, lt, ht)]


def test_clip_with_only_hi_passes_the_gradient_to_x_at_the_bound():
    # clip(x, hi=h) = min(x, h): x gets 1 where x ≤ h (inclusive), h where x > h
    x, h = np.array([0.5, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    gx, _, gh = clip_grads(x, None, h)
    np.testing.assert_array_equal(gx, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 1.0])


def test_clip_with_only_lo_passes_the_gradient_to_x_at_the_bound():
    # clip(x, lo=l) = max(x, l): x gets 1 where x ≥ l (inclusive), l where x < l
    x, lo = np.array([0.5, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    gx, gl, _ = clip_grads(x, lo, None)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(gl, [1.0, 0.0, 0.0])


def test_clip_at_either_bound_passes_the_gradient_to_x():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    lo, hi = np.zeros(5), np.ones(5)
    gx, gl, gh = clip_grads(x, lo, hi)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gl, [1.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 0.0, 0.0, 1.0])


def test_clip_with_equal_bounds_gives_the_gradient_to_exactly_one_input():
    # lo = hi = 1: min(max(x, lo), hi) is lo for x < 1 (max picks lo, min keeps it),
    # x itself at x = 1 (inside, bounds inclusive) and hi for x > 1 (max(x, lo) > hi)
    x = np.array([0.0, 1.0, 2.0])
    gx, gl, gh = clip_grads(x, np.ones(3), np.ones(3))
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(gl, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(gh, [0.0, 0.0, 1.0])


def test_clip_needs_a_bound_message():
    with pytest.raises(ValueError, match=r"^clip needs at least one of lo, hi$"):
        mg.clip(mg.tensor([1.0]))


# =========================================================================================
# indexing: Tensor indices under jit, and basic indices' gradient placed as it is
# =========================================================================================


def test_indexing_with_a_tensor_inside_jit_is_refused_with_the_whole_reason():
    jitted = mg.jit(lambda x, i: x[i])
    message = (
        "indexing with a Tensor inside a jitted function: the selection (and, for a boolean "
        "mask, the result's shape) depends on the data; use mg.where for masks, or index "
        "with a NumPy array or a static argument"
    )
    with pytest.raises(Exception, match="^" + re.escape(message) + "$") as info:
        jitted(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([0]))
    assert type(info.value).__name__ == "TraceError"


@pytest.mark.parametrize(
    "index",
    [
        np.s_[1:],
        1,
        np.s_[0, 1:],
        np.s_[(slice(1, None),)],
        None,
        Ellipsis,
        np.s_[..., 1:],
        np.s_[None, 0],
    ],
)
def test_basic_index_gradient_is_the_upstream_written_into_zeros(index):
    # a basic index selects each element once: its gradient is the upstream gradient
    # written into zeros (as NumPy's assignment does), so a −0.0 upstream stays −0.0
    # (accumulating, 0 + (−0.0), would give +0.0)
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    xt = mg.tensor(x, requires_grad=True)
    out = xt[index]
    upstream = -np.zeros(out.shape)
    out.backward(upstream)
    expected = np.zeros(x.shape)
    expected[index] = upstream
    assert np.signbit(expected).any()
    np.testing.assert_array_equal(np.signbit(xt.grad.numpy()), np.signbit(expected))


# =========================================================================================
# norm, sqrt and _safe_div at zero; logsumexp's shift
# =========================================================================================


def test_sqrt_gradient_at_zero_with_zero_upstream_is_zero_even_when_every_value_is_zero():
    # d√x/dx = 1/(2√x): the convention at x = 0 with upstream 0 is 0, not 0/0 = nan
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    x.sqrt().backward(np.array([0.0, 0.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    assert ops._safe_div(np.array([0.0, 2.0, -2.0]), np.zeros(3)).tolist() == [
        0.0,
        np.inf,
        -np.inf,
    ]


def test_logsumexp_shifts_each_slice_by_its_own_maximum():
    # row 2 shifted by row 1's maximum 1000 would give ln Σ e^(−1000) = ln 0 = −inf
    x = np.array([[1000.0, 1000.0], [0.0, 0.0]])
    got = mg.logsumexp(mg.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(got, [1000.0 + np.log(2.0), np.log(2.0)], rtol=1e-15)
    got0 = mg.logsumexp(mg.tensor(x.T), axis=0).numpy()
    np.testing.assert_allclose(got0, [1000.0 + np.log(2.0), np.log(2.0)], rtol=1e-15)


def test_logsumexp_over_an_empty_axis_is_minus_infinity():
    # ln Σ over no terms = ln 0 = −inf, as np.log(np.sum(np.exp(x), axis=1)) gives
    x = np.zeros((2, 0))
    with np.errstate(divide="ignore"):
        expected = np.log(np.sum(np.exp(x), axis=1))
    np.testing.assert_array_equal(mg.logsumexp(mg.tensor(x), axis=1).numpy(), expected)


def test_logsumexp_of_minus_infinities_is_minus_infinity_without_a_warning():
    with np.errstate(divide="raise"):  # ln 0 is expected there: not an error
        got = mg.logsumexp(mg.tensor([-np.inf, -np.inf]))
    assert got.item() == -np.inf


# =========================================================================================
# linear with one example and one output; prod of nothing; einsum and join messages
# =========================================================================================


def test_linear_of_one_example_and_one_output_gradient_is_the_other_vector():
    # out = x·w + b (a scalar): ∂out/∂w = x, ∂out/∂x = w
    x, w, b = np.array([1.0, 2.0, -4.0]), np.array([0.5, -3.0, 2.0]), np.array(0.25)
    gx, gw, gb = grad_of(lambda x, w, b: ops.linear(x, w, b), x, w, b, upstream=np.array(2.0))
    np.testing.assert_array_equal(gw, 2.0 * x)
    np.testing.assert_array_equal(gx, 2.0 * w)
    assert gb == 2.0


def test_product_of_an_empty_vector_is_one():
    # np.prod([]) = 1: the empty product, also over all axes of a 1-D input
    assert ops.prod(np.zeros(0)) == np.prod(np.zeros(0)) == 1.0
    x = mg.tensor(np.zeros(0), requires_grad=True)
    p = ops.prod(x, axis=0)
    assert p.shape == () and p.item() == 1.0
    p.backward()
    assert x.grad.shape == (0,)


def test_stack_names_itself_when_refusing_a_tensor():
    with pytest.raises(TypeError, match=r"^stack takes a sequence of tensors, got Tensor$"):
        mg.stack(mg.tensor([1.0, 2.0]))


def test_einsum_error_messages_in_full():
    a = mg.tensor(np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"^einsum: '\.\.\.i->i' has '\.\.\.' in an operand but not in the output$"
    ):
        mg.einsum("...i->i", a)
    with pytest.raises(
        mg.ShapeError,
        match=r"^einsum: 'ij,jk->ik' does not fit operands of shapes \(2, 2\), \(3, 2\): "
        r"index 'j' has lengths \[2, 3\]$",
    ):
        mg.einsum("ij,jk->ik", a, np.ones((3, 2)))


def test_einsum_ignores_spaces_everywhere_in_the_subscripts():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    for spec in ["i j , j k -> i k", " i j,j k ", "ij , jk"]:
        got = mg.einsum(spec, mg.tensor(a), mg.tensor(b)).numpy()
        np.testing.assert_allclose(got, np.einsum(spec.replace(" ", ""), a, b), rtol=1e-12)


def test_einsum_implicit_output_counts_each_letter_across_operands():
    # "iX,j": every letter is seen once, so all three are kept (sorted, as NumPy does)
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(4)
    got = mg.einsum("iX,j", mg.tensor(a), mg.tensor(b)).numpy()
    np.testing.assert_allclose(got, np.einsum("iX,j", a, b), rtol=1e-12)


# =========================================================================================
# reductions of plain Python sequences (the ops double as an array namespace)
# =========================================================================================


def test_reductions_take_nested_lists():
    rows = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(ops.sum(rows, axis=0), np.sum(rows, axis=0))
    np.testing.assert_array_equal(ops.max(rows, axis=1), np.max(rows, axis=1))
