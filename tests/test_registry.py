"""The op registry: every public op reaches every surface, and adding one is one place.

An op's definition registers it (``public(...)`` in :mod:`minigrad.ops`): its name, the
NumPy function it implements. From that alone it must be ``mg.NAME``, what ``np.NAME``
dispatches to on a Tensor, compiled by ``mg.jit`` to eager's answer, written in the
generated source under names a reader can see, and checked by an op-table row (which
holds it to finite differences and PyTorch). This file walks the registry and checks
each; a new op that misses a surface fails here, not silently in a user's hands.
"""

from __future__ import annotations

import ast
import builtins

import numpy as np
import pytest

import minigrad as mg
from minigrad import numpy_api
from minigrad.autograd import Op
from minigrad.ops import registry
from minigrad.ops.registry import REGISTRY, public
from tests.op_table import OPS, OpCase

rng = np.random.default_rng(7)
V, W = rng.uniform(0.5, 2.0, 4), rng.uniform(0.5, 2.0, 4)  # positive, no ties (max, log)
M = rng.uniform(0.5, 2.0, (3, 4))

NO_GRADIENT = {
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_not", "isnan", "isfinite", "sign", "argmax", "argmin",
    "floor", "ceil", "trunc", "round", "rint", "fix",
}  # fmt: skip
"""Ops without a gradient: nothing for an op-table row (finite differences) to check."""

CALLS = {
    "logical_and": lambda f, v, w, m: f(v > 1, w > 1),
    "logical_or": lambda f, v, w, m: f(v > 1, w > 1),
    "logical_not": lambda f, v, w, m: f(v > 1),
    "argmax": lambda f, v, w, m: f(m, 1),
    "argmin": lambda f, v, w, m: f(m, 1),
    "clip": lambda f, v, w, m: f(m, 0.8, 1.5),
    "where": lambda f, v, w, m: f(m > 1, m, 2 * m),
    "reshape": lambda f, v, w, m: f(m, (4, 3)),
    "transpose": lambda f, v, w, m: f(m, None),
    "expand_dims": lambda f, v, w, m: f(v, 0),
    "unsqueeze": lambda f, v, w, m: f(v, 0),
    "broadcast_to": lambda f, v, w, m: f(v, (3, 4)),
    "concatenate": lambda f, v, w, m: f([m, m], 0),
    "stack": lambda f, v, w, m: f([v, w], 0),
    "hstack": lambda f, v, w, m: f([v, w]),
    "vstack": lambda f, v, w, m: f([v, w]),
    "einsum": lambda f, v, w, m: f("ij->j", m),
    "matmul": lambda f, v, w, m: f(m, v),
    "dot": lambda f, v, w, m: f(m, v),
    "outer": lambda f, v, w, m: f(v, w),
    "swapaxes": lambda f, v, w, m: f(m, 0, 1),
    "squeeze": lambda f, v, w, m: f(m.reshape(3, 1, 4)),
    "flatten": lambda f, v, w, m: f(m.reshape(3, 2, 2), 1),
    "pow": lambda f, v, w, m: f(v, w),
    "round": lambda f, v, w, m: f(m, 1),
    "arcsin": lambda f, v, w, m: f(v / 2.5),  # inside (−1, 1)
    "arccos": lambda f, v, w, m: f(v / 2.5),
    "arctanh": lambda f, v, w, m: f(v / 2.5),
    "arccosh": lambda f, v, w, m: f(v + 1),  # above 1
    "tensordot": lambda f, v, w, m: f(m, v, 1),
    "inner": lambda f, v, w, m: f(m, v),
    "kron": lambda f, v, w, m: f(v, m),
    "cross": lambda f, v, w, m: f(m[:, :3], w[1:]),
    "repeat": lambda f, v, w, m: f(m, 2, 1),
    "tile": lambda f, v, w, m: f(v, (2, 1)),
    "pad": lambda f, v, w, m: f(m, ((1, 0), (0, 2)), constant_values=1.5),
    "split": lambda f, v, w, m: f(m, [1], 1)[1],
    "array_split": lambda f, v, w, m: f(m, 3, 1)[2],
    "hsplit": lambda f, v, w, m: f(m, 2)[1],
    "vsplit": lambda f, v, w, m: f(m, 3)[2],
    "dsplit": lambda f, v, w, m: f(m.reshape(3, 2, 2), 2)[1],
    "append": lambda f, v, w, m: f(m, w),
    "column_stack": lambda f, v, w, m: f([v, w]),
    "dstack": lambda f, v, w, m: f([m, m]),
    "tril": lambda f, v, w, m: f(m, -1),
    "triu": lambda f, v, w, m: f(m, 1),
    "diagonal": lambda f, v, w, m: f(m, 1),
    "trace": lambda f, v, w, m: f(m),
    "ravel": lambda f, v, w, m: f(m),
    "moveaxis": lambda f, v, w, m: f(m, 0, 1),
    "atleast_3d": lambda f, v, w, m: f(m),
    # numpy.linalg: on the symmetric positive definite m mᵀ (3 × 3), or on m itself
    "inv": lambda f, v, w, m: f(m @ m.T),
    "solve": lambda f, v, w, m: f(m @ m.T, v[:3]),
    "det": lambda f, v, w, m: f(m @ m.T),
    "slogdet": lambda f, v, w, m: f(m @ m.T)[1],
    "cholesky": lambda f, v, w, m: f(m @ m.T),
    "eigh": lambda f, v, w, m: f(m @ m.T)[1],
    "eigvalsh": lambda f, v, w, m: f(m @ m.T),
    "svd": lambda f, v, w, m: f(m, full_matrices=False)[2],
    "pinv": lambda f, v, w, m: f(m),
    "matrix_power": lambda f, v, w, m: f(m @ m.T, 3),
    "partition": lambda f, v, w, m: f(m, 2),
    "roll": lambda f, v, w, m: f(m, 1, 1),
    "rollaxis": lambda f, v, w, m: f(m, 1),
    "rot90": lambda f, v, w, m: f(m),
    "fliplr": lambda f, v, w, m: f(m),
    "select": lambda f, v, w, m: f([v > 1, w > 1], [v, w], 0.5),
    "linspace": lambda f, v, w, m: f(v, w, 5),
    "diff": lambda f, v, w, m: f(m, 2, 0),
}
"""How to call an op on the sample arrays v, w (vectors) and m (a matrix), where it is
not "like NumPy on v, or on v and w"."""


def call(entry: registry.Entry, f, v=V, w=W, m=M):
    """Call f (the op, or NumPy's function) on the entry's sample inputs."""
    if entry.name in CALLS:
        return CALLS[entry.name](f, v, w, m)
    binary = isinstance(entry.function, Op) and len(entry.function.vjps) == 2
    return f(v, w) if binary else f(v)


def rows_of(case: OpCase) -> set[str]:
    """The registered ops an op-table row checks: its ``op``, else the longest registered
    name its own name starts with (``log_softmax_axis0`` checks ``log_softmax``)."""
    if case.op:
        return {case.op} if isinstance(case.op, str) else set(case.op)
    names = [n for n in REGISTRY if case.name == n or case.name.startswith(n + "_")]
    return {max(names, key=len)} if names else set()


def test_every_op_with_a_gradient_has_an_op_table_row():
    checked = set().union(*(rows_of(case) for case in OPS))
    missing = sorted(set(REGISTRY) - checked - NO_GRADIENT)
    assert not missing, f"no row in tests/op_table.py for {missing}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_is_mg_name_or_mg_linalg_name(name):
    entry = REGISTRY[name]
    namespace = mg.linalg if entry.linalg else mg
    assert getattr(namespace, name) is entry.function


@pytest.mark.parametrize(
    ("name", "numpy_function"),
    [(n, f) for n in sorted(REGISTRY) for f in REGISTRY[n].numpy],
    ids=lambda x: x if isinstance(x, str) else getattr(x, "__name__", str(x)),
)
def test_numpy_dispatches_to_the_op_on_tensors(name, numpy_function):
    """np.NAME(tensor) is the op's result, a Tensor with the gradient where it has one."""
    entry = REGISTRY[name]
    differentiable = name not in NO_GRADIENT
    tensors = [mg.tensor(a, requires_grad=differentiable) for a in (V, W, M)]
    got = call(entry, numpy_function, *tensors)
    expected = call(entry, numpy_function)  # NumPy itself, on the arrays
    assert isinstance(got, mg.Tensor), f"np.{numpy_function.__name__} left the graph"
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert got.requires_grad == differentiable


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_compiles_to_eager_and_reads_in_the_source(name):
    """mg.jit gives eager's bits, and the source names nothing it does not define."""
    entry = REGISTRY[name]
    eager = call(entry, entry.function, *(mg.tensor(a) for a in (V, W, M)))
    fast = mg.jit(lambda v, w, m: call(entry, entry.function, v, w, m))
    got = fast(V, W, M)
    assert got.dtype == eager.dtype and got.shape == eager.shape
    np.testing.assert_array_equal(got.numpy(), eager.numpy())
    assert not undefined_names(fast.source), fast.source
    if not hasattr(mg.ops.sum_of_squares, "__wrapped__"):  # mutmut wraps what it mutates
        assert "the forward of" not in fast.source  # a helper passed in, not shown


def undefined_names(source: str) -> set[str]:
    """Names the source reads but neither defines, imports, takes as a parameter, nor
    gets from builtins or ``np``."""
    tree = ast.parse(source)
    defined = {"np", *dir(builtins)}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            defined.add(node.name)
            defined |= {a.arg for a in node.args.args}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Import):
            defined |= {a.asname or a.name for a in node.names}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - defined


def test_adding_an_op_is_one_definition_and_every_surface_follows():
    """The README's promise: an op defined in one place (its forward, its rule, the
    derivative in words, the NumPy function it implements) is mg.NAME, what np.NAME
    dispatches to, differentiable, and compiled under a name a reader can see.

    The op is np.fabs under a made-up name that no registry entry uses, so the test adds
    an op rather than replacing one; it removes it afterwards, and NumPy's dispatch of
    np.fabs is what it was before."""
    assert "demo_fabs" not in REGISTRY
    before = numpy_api._Tables.current().ufuncs.get(np.fabs)
    fabs = public(
        Op(
            "demo_fabs",
            np.fabs,
            (lambda g, out, x: g * mg.ops.sign(x),),
            ("∂|x|/∂x = sign x",),
            elementwise=True,
        ),
        numpy=np.fabs,
    )
    try:
        assert mg.demo_fabs is fabs
        x = mg.tensor([0.1, -0.4, 0.7], requires_grad=True)
        y = np.fabs(x)  # NumPy's own function, on a Tensor
        assert isinstance(y, mg.Tensor) and y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [1.0, -1.0, 1.0])
        assert mg.gradcheck(lambda t: mg.demo_fabs(t), mg.tensor([0.3, -0.2], requires_grad=True))
        fast = mg.jit(mg.value_and_grad(lambda t: np.fabs(t).sum()))
        value, grad = fast(x.numpy())
        np.testing.assert_array_equal(grad.numpy(), x.grad.numpy())
        assert value.item() == np.fabs(x.numpy()).sum()
        assert "np.fabs(" in fast.source and "∂|x|/∂x" in fast.source
        assert not undefined_names(fast.source)
    finally:
        del REGISTRY["demo_fabs"]
        registry.version[0] += 1
    with pytest.raises(AttributeError):
        mg.demo_fabs  # noqa: B018  (gone with its registration)
    assert numpy_api._Tables.current().ufuncs.get(np.fabs) is before


def test_every_name_in_minigrad_ops_comes_from_one_module():
    """minigrad.ops merges the namespaces of its modules: a module that imports another's
    op under that op's own name (``max as maximum``) would silently replace it for every
    rule and pass that calls ``ops.maximum``."""
    import importlib

    import minigrad.ops as ops_package

    first: dict[str, tuple[str, object]] = {}
    for name in ops_package.MODULES:
        module = importlib.import_module(f"minigrad.ops.{name}")
        for key, value in vars(module).items():
            if key.startswith("__") or key == "annotations":
                continue
            if key in first and first[key][1] is not value:
                raise AssertionError(
                    f"minigrad.ops.{key}: {first[key][0]} and {name} define it differently"
                )
            first.setdefault(key, (name, value))
    for key, (_, value) in first.items():
        assert getattr(ops_package, key) is value, key


NOT_A_METHOD = {"partition": "ndarray.partition sorts in place and returns None"}


def test_every_op_that_ndarray_has_as_a_method_is_a_tensor_method():
    """Where NumPy's ndarray has the name (t.cumsum(), t.trace(), t.real), a Tensor has it
    too, and it gives what the op gives."""
    x = mg.tensor(M)
    for name in sorted(REGISTRY):
        if not hasattr(np.ndarray, name) or name in NOT_A_METHOD:
            continue
        assert hasattr(mg.Tensor, name), f"Tensor has no {name}"
        attribute = getattr(x, name)
        try:  # ops that need more than the tensor (clip, dot, repeat) are only looked up
            expected = REGISTRY[name].function(x)
        except (TypeError, ValueError):
            continue
        if callable(attribute):
            try:
                got = attribute()
            except TypeError:  # the method, like ndarray's, wants its arguments
                continue
            if isinstance(got, tuple):  # sort: (values, indices), as PyTorch
                got = got[0]
            if isinstance(expected, tuple):
                expected = expected[0]
            np.testing.assert_array_equal(got.numpy(), expected.numpy())
        else:  # a property, as ndarray.real and .imag are
            np.testing.assert_array_equal(attribute.numpy(), expected.numpy())
