"""NumPy functions on Tensors (minigrad/numpy_api.py): which calls get a minigrad rule
(and then the value and gradient NumPy's semantics give), which fall through to NumPy
on the data, and when that fall-through is refused because a gradient would be dropped
— pinned down where mutants survived or no selected test ran the code.

Expected values are NumPy's own results on the plain arrays; gradients are compared
with central finite differences of those NumPy calls.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import numpy_api, ops
from tests.test_trust import central_diff

DROPS = "would silently drop its gradient"
RNG = np.random.default_rng(11)
M = RNG.uniform(-2, 2, (3, 4))
V = RNG.uniform(-2, 2, 4)


# one argument that requires grad: the call, and the array it is made on
WITH_RULES = {
    "sum_keepdims": (lambda a: np.sum(a, axis=1, keepdims=True), M),
    "mean_axis": (lambda a: np.mean(a, 0), M),
    "max_keepdims": (lambda a: np.max(a, axis=0, keepdims=True), M),
    "var_ddof_keepdims": (lambda a: np.var(a, axis=1, ddof=1, keepdims=True), M),
    "std_ddof": (lambda a: np.std(a, ddof=1), M),
    "var_default": (lambda a: np.var(a), M),
    "reshape_int": (lambda a: np.reshape(a, 12), M),
    "reshape_order_c": (lambda a: np.reshape(a, (4, 3), order="C"), M),
    "reshape_array_shape": (lambda a: np.reshape(a, np.array([2, 6])), M),
    "clip_positional": (lambda a: np.clip(a, -0.5, 0.7), M),
    "clip_min_only": (lambda a: np.clip(a, min=-0.5), M),
    "clip_max_only": (lambda a: np.clip(a, max=0.7), M),
    "expand_dims_negative": (lambda a: np.expand_dims(a, (-1, 0)), M),
    "expand_dims_int": (lambda a: np.expand_dims(a, 1), V),
    "squeeze_axis": (lambda a: np.squeeze(a, axis=0), M.reshape(1, 3, 4)),
    "squeeze_all": (lambda a: np.squeeze(a), M.reshape(1, 3, 1, 4)),
    "where": (lambda a: np.where(a > 0, a, 2 * a), M),
    "dot_scalar_left": (lambda a: np.dot(2.5, a), V),
    "dot_scalar_right": (lambda a: np.dot(a, 2.5), V),
    "dot_vector": (lambda a: np.dot(a, V), V),
    "dot_matrix_vector": (lambda a: np.dot(a, V), M),
    "outer": (lambda a: np.outer(a, V[:3]), V),
    "norm_fro": (lambda a: np.linalg.norm(a, "fro"), M),
    "norm_vector_2": (lambda a: np.linalg.norm(a, 2), V),
    "norm_axis_2": (lambda a: np.linalg.norm(a, 2, axis=1), M),
    "norm_vector_1": (lambda a: np.linalg.norm(a, 1), V),
    "norm_axis_1_keepdims": (lambda a: np.linalg.norm(a, 1, axis=0, keepdims=True), M),
    "norm_vector_inf": (lambda a: np.linalg.norm(a, np.inf), V),
    "norm_axis_inf": (lambda a: np.linalg.norm(a, np.inf, axis=np.int64(1)), M),
    "hstack_vectors": (lambda a: np.hstack([a, V]), V),
    "hstack_matrices": (lambda a: np.hstack((a, M[:, :2])), M),
    "vstack_vector_and_matrix": (lambda a: np.vstack([a, M]), V),
    "concatenate_axis_casting": (lambda a: np.concatenate([a, M], 1, casting="same_kind"), M),
    "stack_axis": (lambda a: np.stack([a, M], axis=2, casting="same_kind"), M),
    "einsum_optimize": (lambda a: np.einsum("ij,j->i", a, V, optimize=True), M),
    "transpose_axes": (lambda a: np.transpose(a, [1, 0]), M),
    "broadcast_to": (lambda a: np.broadcast_to(a, (2, 4)), V),
    "positive": (lambda a: np.positive(a), V),
}


@pytest.mark.parametrize("name", list(WITH_RULES))
def test_numpy_calls_with_a_rule_match_numpy_and_carry_the_gradient(name):
    fn, array = WITH_RULES[name]
    x = mg.tensor(array, requires_grad=True)
    out = fn(x)
    assert isinstance(out, mg.Tensor) and out.requires_grad
    expected = fn(array)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    weights = np.random.default_rng(3).standard_normal(out.shape)
    (out * weights).sum().backward()
    numerical = central_diff(lambda v: np.sum(fn(v) * weights), array)
    np.testing.assert_allclose(x.grad.numpy(), numerical, atol=1e-6)


# calls minigrad has no rule for: they run on the data when no gradient is needed
WITHOUT_RULES = {
    "sum_dtype": lambda a: np.sum(a, dtype=np.float32),
    "mean_out": lambda a: np.mean(a, axis=0, out=np.empty(4)),
    "var_out": lambda a: np.var(a, axis=0, out=np.empty(4)),
    "reshape_order_f": lambda a: np.reshape(a, (4, 3), order="F"),
    "clip_out": lambda a: np.clip(a, -1.0, 1.0, out=np.empty((3, 4))),
    "dot_out": lambda a: np.dot(a, V, out=np.empty(3)),
    "outer_out": lambda a: np.outer(a[0], V, out=np.empty((4, 4))),
    "norm_matrix_2": lambda a: np.linalg.norm(a, 2),
    "norm_matrix_1": lambda a: np.linalg.norm(a, 1),
    "concatenate_out": lambda a: np.concatenate([a, a], out=np.empty((6, 4))),
    "stack_out": lambda a: np.stack([a, a], out=np.empty((2, 3, 4))),
    "vstack_dtype": lambda a: np.vstack([a, a], dtype=np.float32),
    "einsum_sublist": lambda a: np.einsum(a, [0, 1], [1]),
    "einsum_out": lambda a: np.einsum("ij->j", a, out=np.empty(4)),
    "ufunc_with_kwargs": lambda a: np.add(a, 1.0, dtype=np.float32),
    "ufunc_method": lambda a: np.add.reduce(a),
    "ufunc_without_rule": lambda a: np.arctan(a),
    "function_without_rule": lambda a: np.cumsum(a),
}


@pytest.mark.parametrize("name", list(WITHOUT_RULES))
def test_numpy_calls_without_a_rule_run_on_the_data_or_refuse(name):
    fn = WITHOUT_RULES[name]
    with pytest.raises(TypeError, match=DROPS):
        fn(mg.tensor(M, requires_grad=True))
    expected = fn(M)
    for x in (mg.tensor(M), mg.tensor(M, requires_grad=True).detach()):
        np.testing.assert_allclose(np.asarray(fn(x)), expected, rtol=1e-6)
    with mg.no_grad():
        np.testing.assert_allclose(np.asarray(fn(mg.tensor(M, requires_grad=True))), expected)


def test_the_refusal_names_the_call_and_why():
    x = mg.tensor(V, requires_grad=True)
    with pytest.raises(
        TypeError, match=r"^np\.arctan on a tensor .*\(minigrad has no rule for it\)"
    ):
        np.arctan(x)
    with pytest.raises(TypeError, match=r"^np\.add\.reduce on .*\(with these arguments\)"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"^np\.add on .*\(with these arguments\)"):
        np.add(x, 1.0, dtype=np.float32)
    with pytest.raises(TypeError, match=r"^np\.linalg\.norm on .*no rule for ord=1\)"):
        np.linalg.norm(mg.tensor(M, requires_grad=True), 1)
    with pytest.raises(TypeError, match=r"^np\.cumsum on .*no rule for it\)"):
        np.cumsum(x)
    with pytest.raises(TypeError, match=r"no rule for dtype\)"):
        np.sum(x, dtype=np.float32)
    with pytest.raises(TypeError, match=r"x\.detach\(\).*mg\.no_grad\(\)"):
        np.cumsum(x)


def test_an_out_argument_is_refused_before_numpy_writes_it():
    out = np.full(4, 7.0)
    with pytest.raises(TypeError, match=DROPS):
        np.exp(mg.tensor(V, requires_grad=True), out=out)
    np.testing.assert_array_equal(out, np.full(4, 7.0))


def test_a_gradient_hidden_in_nested_arguments_is_found():
    x = mg.tensor(V, requires_grad=True)
    with pytest.raises(TypeError, match=DROPS):
        np.block([[x, V]])  # no rule; x sits in a nested list
    np.testing.assert_array_equal(np.block([[mg.tensor(V), V]]), np.block([[V, V]]))


def test_results_that_are_not_floating_point_need_no_gradient():
    x = mg.tensor(V, requires_grad=True)
    np.testing.assert_array_equal(np.signbit(x), np.signbit(V))  # bools
    assert np.argmin(x) == np.argmin(V)  # an integer
    assert np.nonzero(x)[0].tolist() == np.nonzero(V)[0].tolist()  # a tuple of ints
    with pytest.raises(TypeError, match=DROPS):
        np.cumprod(x)  # floats: refused
    with pytest.raises(TypeError, match=DROPS):
        np.split(x, 2)  # a list of float arrays: refused


def test_where_with_only_a_condition_gives_the_indices():
    x = mg.tensor(V, requires_grad=True)
    (idx,) = np.where(x > 0)
    np.testing.assert_array_equal(idx, np.where(V > 0)[0])


def test_squeeze_of_an_axis_that_is_not_one_is_refused():
    with pytest.raises(ValueError, match=r"np\.squeeze: axis 1 of shape \(1, 3\)"):
        np.squeeze(mg.tensor(np.zeros((1, 3))), axis=1)
    with pytest.raises(ValueError, match="does not have size one"):
        np.squeeze(mg.tensor(np.zeros((1, 3))), axis=(0, 1))


# _reduction, _np_var and _stacker build, at import, the functions that FUNCTIONS maps
# NumPy's names to; made again here, they run during the test (mutmut can only switch a
# mutant on in code that runs during a test)


def test_a_reduction_made_by_the_factory():
    fresh = numpy_api._reduction(ops.sum)
    x = mg.tensor(M, requires_grad=True)
    out = fresh(x, 1, None, None, True)
    np.testing.assert_allclose(out.numpy(), np.sum(M, 1, keepdims=True))
    assert fresh(x, 0).shape == (4,)  # keepdims=False by default
    assert fresh(x, None, keepdims=numpy_api.NO_VALUE).shape == ()
    with pytest.raises(numpy_api.Unsupported, match="dtype"):
        fresh(x, dtype=np.float32)
    with pytest.raises(numpy_api.Unsupported, match="out"):
        fresh(x, out=np.empty(4))
    with pytest.raises(numpy_api.Unsupported, match="where"):
        fresh(x, where=True)


def test_a_variance_made_by_the_factory():
    fresh = numpy_api._np_var(ops.var)
    x = mg.tensor(M, requires_grad=True)
    np.testing.assert_allclose(fresh(x).numpy(), np.var(M))  # ddof 0, all axes
    got = fresh(x, 1, None, None, 1, True)
    np.testing.assert_allclose(got.numpy(), np.var(M, 1, ddof=1, keepdims=True))
    with pytest.raises(numpy_api.Unsupported, match="dtype"):
        fresh(x, dtype=np.float32)
    with pytest.raises(numpy_api.Unsupported, match="out"):
        fresh(x, out=np.empty(4))
    with pytest.raises(numpy_api.Unsupported, match="mean"):
        fresh(x, mean=0.0)


def test_a_stacker_made_by_the_factory():
    fresh = numpy_api._stacker(2, lambda xs: 0)  # vstack's recipe
    x = mg.tensor(V, requires_grad=True)
    out = fresh([x, M[:, :4], [1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(out.numpy(), np.vstack([V, M, [1.0, 2.0, 3.0, 4.0]]))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(4))
    assert fresh([x], casting="unsafe").shape == (1, 4)
    with pytest.raises(numpy_api.Unsupported, match="dtype"):
        fresh([x], dtype=np.float32)
    three = numpy_api._stacker(3, lambda xs: 2)  # a 1-D input gets two leading axes
    assert three([x, x]).shape == (1, 1, 8)
