"""NumPy functions on Tensors (minigrad/numpy_api.py): which calls get a minigrad rule
(and then the value and gradient NumPy's semantics give), which fall through to NumPy
on the data, when that fall-through is refused because a gradient would be dropped, and
the signature adapters that map NumPy's arguments onto the registered ops.

Expected values are NumPy's own results on the plain arrays; gradients are compared
with central finite differences of those NumPy calls.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import numpy_api, ops
from minigrad.graph import explain
from tests.helpers import central_diff

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
    "squeeze_one_of_two_unit_axes": (lambda a: np.squeeze(a, axis=2), M.reshape(1, 3, 1, 4)),
    "where": (lambda a: np.where(a > 0, a, 2 * a), M),
    "dot_scalar_left": (lambda a: np.dot(2.5, a), V),
    "dot_scalar_right": (lambda a: np.dot(a, 2.5), V),
    "dot_vector": (lambda a: np.dot(a, V), V),
    "dot_matrix_vector": (lambda a: np.dot(a, V), M),
    "dot_matrix_matrix": (lambda a: np.dot(a, M.T), M),
    "outer": (lambda a: np.outer(a, V[:3]), V),
    "outer_flattens_a_matrix": (lambda a: np.outer(a, M[:2, :3]), V),
    "norm_fro": (lambda a: np.linalg.norm(a, "fro"), M),
    "norm_axis_keepdims": (lambda a: np.linalg.norm(a, axis=1, keepdims=True), M),
    "norm_vector_2": (lambda a: np.linalg.norm(a, 2), V),
    "norm_axis_2": (lambda a: np.linalg.norm(a, 2, axis=1), M),
    "norm_vector_1": (lambda a: np.linalg.norm(a, 1), V),
    "norm_axis_1_keepdims": (lambda a: np.linalg.norm(a, 1, axis=0, keepdims=True), M),
    "norm_vector_inf": (lambda a: np.linalg.norm(a, np.inf), V),
    "norm_axis_inf": (lambda a: np.linalg.norm(a, np.inf, axis=np.int64(1)), M),
    "norm_axis_inf_keepdims": (lambda a: np.linalg.norm(a, np.inf, axis=0, keepdims=True), M),
    "norm_matrix_2": (lambda a: np.linalg.norm(a, 2), M),
    "norm_matrix_1": (lambda a: np.linalg.norm(a, 1), M),
    "norm_matrix_inf": (lambda a: np.linalg.norm(a, np.inf), M),  # max row sum of |a|
    "norm_vector_3": (lambda a: np.linalg.norm(a, 3), V),
    "hstack_vectors": (lambda a: np.hstack([a, V]), V),
    "hstack_matrices": (lambda a: np.hstack((a, M[:, :2])), M),
    "vstack_vector_and_matrix": (lambda a: np.vstack([a, M]), V),
    "concatenate_axis_casting": (lambda a: np.concatenate([a, M], 1, casting="same_kind"), M),
    "concatenate_default_axis": (lambda a: np.concatenate([a, M]), M),  # axis 0: (6, 4)
    "stack_axis": (lambda a: np.stack([a, M], axis=2, casting="same_kind"), M),
    "stack_default_axis": (lambda a: np.stack([a, M]), M),  # axis 0: (2, 3, 4)
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
    "reshape_copy": lambda a: np.reshape(a, (4, 3), copy=True),
    "clip_out": lambda a: np.clip(a, -1.0, 1.0, out=np.empty((3, 4))),
    "clip_dtype": lambda a: np.clip(a, -1.0, 1.0, dtype=np.float32),
    "dot_out": lambda a: np.dot(a, V, out=np.empty(3)),
    "outer_out": lambda a: np.outer(a[0], V, out=np.empty((4, 4))),
    "eigvals_general": lambda a: np.linalg.eigvals(a[:, :3]),  # eigh has a rule, eig none
    "qr": lambda a: np.linalg.qr(a)[0],
    "dot_three_dims": lambda a: np.dot(a, np.ones((2, 4, 3))),
    "concatenate_out": lambda a: np.concatenate([a, a], out=np.empty((6, 4))),
    "concatenate_dtype": lambda a: np.concatenate([a, a], dtype=np.float32),
    "stack_out": lambda a: np.stack([a, a], out=np.empty((2, 3, 4))),
    "stack_dtype": lambda a: np.stack([a, a], dtype=np.float32),
    "vstack_dtype": lambda a: np.vstack([a, a], dtype=np.float32),
    "einsum_out": lambda a: np.einsum("ij->j", a, out=np.empty(4)),
    "einsum_dtype": lambda a: np.einsum("ij->j", a, dtype=np.float32, casting="same_kind"),
    "ufunc_with_kwargs": lambda a: np.add(a, 1.0, dtype=np.float32),
    "ufunc_method": lambda a: np.add.reduce(a),
    "ufunc_without_rule": lambda a: np.spacing(a),
    "function_without_rule": lambda a: np.unwrap(a),
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
        TypeError, match=r"^np\.spacing on a tensor .*\(minigrad has no rule for it\)"
    ):
        np.spacing(x)
    with pytest.raises(TypeError, match=r"^np\.add\.reduce on .*\(with these arguments\)"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"^np\.add on .*\(with these arguments\)"):
        np.add(x, 1.0, dtype=np.float32)
    with pytest.raises(TypeError, match=r"^np\.linalg\.qr on .*no rule for it\)"):
        np.linalg.qr(mg.tensor(M, requires_grad=True))
    with pytest.raises(TypeError, match=r"^np\.unwrap on .*no rule for it\)"):
        np.unwrap(x)
    with pytest.raises(TypeError, match=r"no rule for dtype\)"):
        np.sum(x, dtype=np.float32)
    with pytest.raises(TypeError, match=r"x\.detach\(\).*mg\.no_grad\(\)"):
        np.unwrap(x)


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
        np.unwrap(x)  # floats: refused
    with pytest.raises(TypeError, match=DROPS):
        np.meshgrid(x, x)  # a list of float arrays: refused


def test_where_with_only_a_condition_gives_the_indices():
    x = mg.tensor(V, requires_grad=True)
    (idx,) = np.where(x > 0)
    np.testing.assert_array_equal(idx, np.where(V > 0)[0])


def test_squeeze_of_an_axis_that_is_not_one_is_refused():
    with pytest.raises(ValueError, match=r"np\.squeeze: axis 1 of shape \(1, 3\)"):
        np.squeeze(mg.tensor(np.zeros((1, 3))), axis=1)
    with pytest.raises(ValueError, match="does not have size one"):
        np.squeeze(mg.tensor(np.zeros((1, 3))), axis=(0, 1))


# the signature adapters and the stackers build, from the registry, what NumPy dispatches to
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
    fresh = numpy_api.SIGNATURES["variance"](ops.var)
    x = mg.tensor(M, requires_grad=True)
    np.testing.assert_allclose(fresh(x).numpy(), np.var(M))  # ddof 0, all axes
    assert fresh(x).shape == () and fresh(x, 0).shape == (4,)  # keepdims=False by default
    got = fresh(x, 1, None, None, 1, True)
    np.testing.assert_allclose(got.numpy(), np.var(M, 1, ddof=1, keepdims=True))
    with pytest.raises(numpy_api.Unsupported, match="dtype"):
        fresh(x, dtype=np.float32)
    with pytest.raises(numpy_api.Unsupported, match="out"):
        fresh(x, out=np.empty(4))
    with pytest.raises(numpy_api.Unsupported, match="mean"):
        fresh(x, mean=0.0)


def stacker(name, ndmin, axis_of):
    return ops.composites._stacker(name, ndmin, axis_of)


join = numpy_api.SIGNATURES["join"]


def test_a_stacker_made_by_the_factory():
    fresh = join(stacker("vstack", 2, lambda xs: 0))  # vstack's recipe
    x = mg.tensor(V, requires_grad=True)
    out = fresh([x, M[:, :4], [1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(out.numpy(), np.vstack([V, M, [1.0, 2.0, 3.0, 4.0]]))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(4))
    assert fresh([x], casting="unsafe").shape == (1, 4)
    with pytest.raises(numpy_api.Unsupported, match="dtype"):
        fresh([x], dtype=np.float32)
    three = join(stacker("three", 3, lambda xs: 2))  # a 1-D input gets two leading axes
    assert three([x, x]).shape == (1, 1, 8)


def test_a_stacker_leaves_inputs_that_have_enough_axes_as_they_are():
    seen = []

    def axis_of(xs):  # records the shapes the recipe is given: the promoted inputs
        seen.append([np.shape(x) for x in xs])
        return 0

    fresh = join(stacker("vstack", 2, axis_of))
    x = mg.tensor(M, requires_grad=True)
    loss = fresh([x, V, M[:1]]).sum()
    assert seen == [[(3, 4), (1, 4), (1, 4)]]
    # a 2-D input needs no reshape: the graph is sum ← concatenate ← x, nothing between
    assert [step.op for step in explain(loss).steps] == ["sum", "concatenate", None]
    three = join(stacker("three", 3, lambda xs: 0))
    y = mg.tensor(M.reshape(1, 3, 4), requires_grad=True)
    assert [step.op for step in explain(three([y, y]).sum()).steps] == ["sum", "concatenate", None]


def test_reshape_to_the_same_shape_is_the_tensor_itself_as_for_the_method():
    x = mg.tensor(M, requires_grad=True)
    assert np.reshape(x, (3, 4)) is x  # as x.reshape(3, 4): no reshape node in the graph
    assert [step.op for step in explain(np.reshape(x, [3, 4]).sum()).steps] == ["sum", None]


def test_the_reshape_rule_also_takes_array_likes():
    rule = numpy_api._Tables.current().functions[np.reshape]
    np.testing.assert_array_equal(rule(M.tolist(), (4, 3)), np.reshape(M, (4, 3)))
    np.testing.assert_array_equal(rule(M, [2, 6]), np.reshape(M, (2, 6)))
    np.testing.assert_array_equal(rule(M, 12), M.ravel())


def test_a_tensor_passed_by_keyword_is_found():
    x = mg.tensor(M, requires_grad=True)
    with pytest.raises(TypeError, match=DROPS):
        np.unwrap(p=x)  # no rule; x is only in kwargs
    with pytest.raises(RuntimeError, match=r"in-place np\.cumsum on a tensor that requires grad"):
        np.cumsum(M, out=mg.tensor(np.zeros(12), requires_grad=True))  # an out Tensor
    np.testing.assert_array_equal(np.unwrap(p=mg.tensor(M)), np.unwrap(M))


def test_refusals_say_which_argument_has_no_rule():
    x = mg.tensor(M, requires_grad=True)
    msg = r"no rule for a second argument with more than 2 dimensions \(use @ or mg\.einsum\)\)"
    with pytest.raises(TypeError, match=msg):
        np.dot(x, np.ones((2, 4, 3)))
    with pytest.raises(TypeError, match=r"\(minigrad has no rule for mode='edge' \(only mode="):
        np.pad(x, 1, mode="edge")
    with pytest.raises(TypeError, match=r"^np\.exp on a tensor .* \(with these arguments\)\."):
        np.exp(x, out=np.empty((3, 4)))  # refused before the call, with the same reason


def test_the_refusal_message_in_full():
    with pytest.raises(TypeError) as refused:
        np.unwrap(mg.tensor(V, requires_grad=True))
    assert str(refused.value) == (
        "np.unwrap on a tensor that requires grad would silently drop its gradient (minigrad "
        "has no rule for it). Write it with minigrad ops (see minigrad.ops), or call it on "
        "x.detach() (or under mg.no_grad()) if no gradient should flow through it."
    )


class _Library:
    """A function from outside NumPy, routed through the __array_function__ protocol."""

    @staticmethod
    def cumulative(a):
        return np.cumsum(a)


class _NamedOnly:
    """A callable with a __name__ but no __qualname__ or __module__."""

    __name__ = "cumulative"

    def __getattribute__(self, name):
        if name in ("__qualname__", "__module__"):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __call__(self, a):
        return np.cumsum(a)


def test_a_function_from_outside_numpy_is_named_by_its_qualified_name():
    x = mg.tensor(V, requires_grad=True)
    with pytest.raises(TypeError, match=r"^np\._Library\.cumulative on a tensor .*no rule for it"):
        x.__array_function__(_Library.cumulative, (mg.Tensor,), (x,), {})
    with pytest.raises(TypeError, match=r"^np\.cumulative on a tensor .*no rule for it"):
        x.__array_function__(_NamedOnly(), (mg.Tensor,), (x,), {})
    out = mg.tensor(V).__array_function__(_NamedOnly(), (mg.Tensor,), (mg.tensor(V),), {})
    np.testing.assert_array_equal(out, np.cumsum(V))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_where_with_one_branch_is_numpys_error_not_an_array_of_placeholders(requires_grad):
    cond = np.array([True, False])
    with pytest.raises(ValueError, match="either both or neither of x and y"):
        np.where(cond, np.ones(2))  # NumPy's own behaviour, the reference
    x = mg.tensor([1.0, 2.0], requires_grad=requires_grad)
    message = r"^np\.where: either both or neither of x and y should be given$"
    with pytest.raises(ValueError, match=message):
        np.where(cond, x)
    with pytest.raises(ValueError, match=message):
        np.where(mg.tensor(cond), x)
