"""Each compiler pass on its own: what it rewrites, what it must leave alone, and that the
program computes the same values before and after (the eager function is the reference).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.jit import codegen, passes, trace
from minigrad.jit.program import CONST, Program


def traced(fn, *args) -> Program:
    return trace.run(fn, args, frozenset())


def run(program: Program, *args):
    _, f = codegen.generate(program)
    lives = [v.source.data for v in program.lives]
    return f(*args, *lives)


def op_names(program: Program) -> list[str]:
    return [ins.name for ins in program.instrs]


def same_values(fn, program: Program, *args, rtol=1e-12) -> None:
    expected = fn(*(mg.tensor(a) for a in args))
    expected = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(run(program, *args), expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=rtol)


# --------------------------------------------------------------------------- lower


def test_lower_splits_mse_into_its_residual_and_a_sum_of_squares():
    fn = lambda p, y: mg.losses.mse(p, y)  # noqa: E731
    p, y = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    program = passes.lower(traced(fn, p, y))
    assert op_names(program) == ["sub", "sumsq", "div"]
    same_values(fn, program, p, y)


def test_lower_splits_linear_into_a_matmul_and_an_add():
    fn = lambda x, w, b: mg.ops.linear(x, w, b)  # noqa: E731
    args = (np.ones((2, 3)), np.arange(6.0).reshape(2, 3), np.array([0.5, -0.5]))
    program = passes.lower(traced(fn, *args))
    assert op_names(program) == ["transpose", "matmul", "add"]
    same_values(fn, program, *args)


# --------------------------------------------------------------------------- aliases


def test_forward_aliases_drops_detach_and_same_shape_reshapes():
    fn = lambda x: x.detach().reshape(3) * 2  # noqa: E731
    program = passes.forward_aliases(traced(fn, np.ones(3)))
    assert op_names(program) == ["mul"]
    same_values(fn, program, np.ones(3))


# --------------------------------------------------------------------------- constants


def test_fold_constants_computes_what_depends_only_on_constants():
    fn = lambda x: x * (mg.tensor(2.0).exp() + 1)  # noqa: E731
    program = passes.fold_constants(traced(fn, np.ones(2)))
    assert op_names(program) == ["mul"]
    factor = program.instrs[0].args[1]
    assert factor.kind == CONST and float(factor.source) == pytest.approx(np.exp(2.0) + 1)
    same_values(fn, program, np.ones(2))


def test_a_broadcast_scalar_is_folded_without_being_materialised():
    n = 50_000
    fn = mg.grad(lambda x: x.mean())  # the rule broadcasts 1/N to x's shape
    program = passes.fold_constants(traced(fn, np.ones(n)))
    out = program.outputs[0]
    assert out.kind == CONST and out.shape == (n,) and np.size(out.source) == 1
    np.testing.assert_allclose(run(program, np.ones(n))[0], np.full(n, 1 / n))


# --------------------------------------------------------------------------- algebra


@pytest.mark.parametrize(
    ("fn", "left"),
    [
        (lambda x: x * 1.0 + 0.0, []),
        (lambda x: (1.0 * x - 0.0) / 1.0, []),
        (lambda x: x**1.0, []),
        (lambda x: x.__neg__().__neg__(), []),
        (lambda x: x**2.0, ["mul"]),
        (lambda x: (x * 2.0) * 3.0, ["mul"]),
        (lambda x: (x / 4.0) * 2.0, ["mul"]),
    ],
)
def test_simplify_applies_the_identities(fn, left):
    x = np.array([0.5, -1.5, 2.0])
    program = passes.eliminate_dead_code(passes.simplify(traced(fn, x)))  # drops what it skips
    assert op_names(program) == left
    same_values(fn, program, x)
    if left == ["mul"] and program.instrs[0].args[0] is not program.instrs[0].args[1]:
        assert passes._scalar(program.instrs[0].args[1]) in (6.0, 0.5)  # factors merged


def test_simplify_turns_a_mean_of_squares_into_a_dot_product():
    fn = lambda r: (r * r).mean()  # noqa: E731
    program = passes.eliminate_dead_code(
        passes.simplify(traced(fn, np.array([1.0, 2.0, 3.0, 4.0])))
    )
    assert op_names(program) == ["sumsq", "mul"]
    same_values(fn, program, np.array([1.0, 2.0, 3.0, 4.0]))


def test_simplify_keeps_identities_that_would_change_shape_or_dtype():
    fn = lambda x: x * np.ones((2, 3))  # noqa: E731  (×1, but broadcasts x to (2, 3))
    program = passes.simplify(traced(fn, np.ones(3)))
    assert op_names(program) == ["mul"]
    f32 = lambda x: x * np.float64(1.0)  # noqa: E731  (×1, but widens float32 to float64)
    program = passes.simplify(traced(f32, np.ones(3, dtype=np.float32)))
    assert (
        op_names(program) == ["mul"] and run(program, np.ones(3, np.float32))[0].dtype == np.float64
    )


# --------------------------------------------------------------------------- broadcasts


def test_a_broadcast_scalar_reaches_elementwise_ops_as_a_scalar():
    def fn(x, s):  # s is a traced scalar, so nothing folds
        return x * s.reshape(1).sum() * mg.ops.broadcast_to(s, (4,))

    program = passes.drop_scalar_broadcasts(traced(fn, np.arange(4.0), np.array(2.0)))
    consumer = program.instrs[-1]
    assert all(a.shape == () for a in consumer.args[1:])
    same_values(fn, program, np.arange(4.0), np.array(2.0))


# --------------------------------------------------------------------------- CSE and DCE


def test_common_subexpressions_are_computed_once():
    fn = lambda x: x.exp() + x.exp() * x.exp()  # noqa: E731
    program = passes.eliminate_common_subexpressions(traced(fn, np.ones(2)))
    assert op_names(program).count("exp") == 1
    same_values(fn, program, np.ones(2))


def test_random_ops_are_never_merged():
    drop = mg.nn.Dropout(0.5, seed=0)
    program = passes.eliminate_common_subexpressions(
        traced(lambda x: drop(x) + drop(x), np.ones(4))
    )
    assert op_names(program).count("dropout_mask") == 2


def test_dead_code_is_removed_and_unused_outside_tensors_dropped():
    w = mg.tensor([1.0, 2.0])
    unused = mg.tensor([3.0, 4.0])

    def fn(x):
        (x * unused).exp()  # computed, never returned
        return x * w

    program = passes.eliminate_dead_code(traced(fn, np.ones(2)))
    assert op_names(program) == ["mul"]
    assert [v.source for v in program.lives] == [w]


# --------------------------------------------------------------------------- buffers


def test_a_dying_second_operand_takes_the_result():
    n = passes.BUFFER_MIN_SIZE * 2
    fn = lambda x, y: (y - x * 3).exp().sum()  # noqa: E731  (x·3 dies as the 2nd operand)
    program = passes.plan_buffers(traced(fn, np.ones(n), np.ones(n)))
    sub = next(ins for ins in program.instrs if ins.name == "sub")
    assert sub.into is sub.args[1]
    x, y = np.linspace(0, 1, n), np.linspace(1, 3, n)
    np.testing.assert_allclose(run(program, x, y)[0], np.exp(y - 3 * x).sum(), rtol=1e-12)
    np.testing.assert_allclose(x, np.linspace(0, 1, n))  # the inputs are untouched


def test_only_dying_temporaries_are_overwritten():
    n = passes.BUFFER_MIN_SIZE * 2

    def fn(x, y):
        t = x * 2  # dies at the next line: its buffer can take the sum
        u = t + y
        v = x - y  # x and y are arguments: never overwritten
        return (u * v).sum(), v.exp().sum()  # v is read twice: not overwritten by u * v

    program = passes.plan_buffers(traced(fn, np.ones(n), np.ones(n)))
    for k, ins in enumerate(program.instrs):
        if ins.into is not None:
            target = ins.into
            assert target.kind == "temp" and target in ins.args
            assert all(target not in later.values() for later in program.instrs[k + 1 :])
    assert [ins.name for ins in program.instrs if ins.into] == ["add", "mul", "exp"]
    x, y = np.linspace(0, 1, n), np.linspace(1, 3, n)
    expected = fn(mg.tensor(x), mg.tensor(y))
    for _ in range(2):  # a second call reuses the kept buffers
        got = run(program, x, y)
        np.testing.assert_allclose([float(g) for g in got], [e.item() for e in expected])


def test_outputs_and_small_arrays_get_no_buffer():
    n = passes.BUFFER_MIN_SIZE * 2
    program = passes.plan_buffers(traced(lambda x: (x * 2 + 1, (x * 3)[:2]), np.ones(n)))
    assert all(ins.out.storage is None for ins in program.instrs[-2:])
    small = passes.plan_buffers(traced(lambda x: (x * 2 + 1).sum(), np.ones(3)))
    assert all(ins.out.storage is None for ins in small.instrs)


def test_a_matmul_never_writes_over_its_own_input():
    n = passes.BUFFER_MIN_SIZE * 2
    program = passes.plan_buffers(
        traced(lambda X, w: ((X @ w) @ np.ones((1, 1))).sum(), np.ones((n, 1)), np.ones((1, 1)))
    )
    assert not any(ins.into for ins in program.instrs if ins.op is ops.matmul)


def test_the_full_pipeline_on_the_notes_update_allocates_one_kept_buffer():
    n = 20_000
    fn = mg.value_and_grad(lambda w, b, X, y: mg.losses.mse(X @ w + b, y), argnums=(0, 1))
    rng = np.random.default_rng(0)
    args = (rng.standard_normal(3), 0.5, rng.standard_normal((n, 3)), rng.standard_normal(n))
    program = passes.optimize(traced(fn, *args))
    storages = {ins.out.storage for ins in program.instrs if ins.out.storage}
    assert len(storages) == 1  # prediction, residual and 2r/N share one N-sized buffer
    expected = fn(*args)
    got = run(program, *args)
    np.testing.assert_allclose(float(got[0]), expected[0].item(), rtol=1e-12)
    np.testing.assert_allclose(got[1], expected[1][0].numpy(), rtol=1e-12)
