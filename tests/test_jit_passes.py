"""Each compiler pass on its own: what it rewrites, what it must leave alone (shape, dtype,
range, −0.0, random draws, checks), that it never changes the program it is given, and
that the program computes the traced values before and after (the verifier, fed the
values eager computed while tracing, is the reference).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.jit import codegen, passes, trace, verify
from minigrad.jit.environment import Environment
from minigrad.jit.program import ARG, CONST, TEMP, Program


def traced(fn, *args) -> Program:
    return trace.run(fn, args, frozenset(), True, Environment(fn), keep_reference=True)


def run(program: Program, *args):
    """Run a program as mg.jit would (arguments, then outside state, constants, buffers)."""
    generated = codegen.generate(program)
    feed = [
        a if v.weak is not None else np.asarray(a) for v, a in zip(program.args, args, strict=True)
    ]
    feed += [getattr(v.source, "data", v.source) for v in program.lives]
    feed += generated.constants
    if generated.buffers is not None:
        feed.append(generated.buffers())
    return generated.run(*feed)


def op_names(program: Program) -> list[str]:
    return [ins.name for ins in program.instrs]


def snapshot(program: Program):
    """Everything a pass could change in place: instructions, their arguments, Values."""
    values = {id(v): copy.copy(v.__dict__) for ins in program.instrs for v in ins.values()}
    return (program.instrs, [ins.args for ins in program.instrs], program.outputs, values,
            dict(program.storage), dict(program.into), dict(program.lowerings))  # fmt: skip


def same_bits(got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got, want, equal_nan=True)
    if got.dtype.kind == "f":
        assert np.array_equal(np.signbit(got), np.signbit(want))


# --------------------------------------------------------------------------- purity


PROGRAMS = [
    (lambda x: (x * 1.0 - 0.0) / 4.0 + x**2, (np.array([0.5, -0.0, 2.0]),)),
    (mg.grad(lambda x: mg.losses.mse(x * 3, np.ones(3))), (np.array([1.0, 2.0, 4.0]),)),
    (lambda x: ((x - 1) * (x - 1)).mean() + x.exp().sum(), (np.linspace(0, 1, 5000),)),
    (lambda x, w: mg.ops.linear(x, w, None).tanh().sum(), (np.ones((4, 3)), np.ones((2, 3)))),
]


@pytest.mark.parametrize("step", passes.PIPELINE, ids=lambda p: p.__name__)
@pytest.mark.parametrize(("fn", "args"), PROGRAMS)
def test_no_pass_changes_the_program_it_is_given(step, fn, args):
    program = passes.optimize(traced(fn, *args), passes.PIPELINE[: passes.PIPELINE.index(step)])
    before = snapshot(program)
    after = step(program)
    assert snapshot(program) == before
    verify.check(after, step.__name__)  # and what it returns computes the traced values


@pytest.mark.parametrize(("fn", "args"), PROGRAMS)
def test_the_verifier_passes_every_pass_and_the_result_is_eager(fn, args):
    program = passes.optimize(traced(fn, *args), verify=True)
    expected = fn(*(mg.tensor(a) for a in args))
    expected = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(run(program, *args), expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12)


def test_the_verifier_catches_a_wrong_rewrite():
    program = traced(lambda x: x - 1.0, np.array([1.0, 2.0]))
    ins = program.instrs[0]
    wrong = program.but(instrs=[ins.__class__(ops.add, ins.args, ins.out)])
    with pytest.raises(verify.VerifyError, match="differs from the traced value"):
        verify.check(wrong, "a planted rewrite")
    shape = program.but(instrs=[ins.__class__(ops._sum, (ins.args[0], None, False), ins.out)])
    with pytest.raises(verify.VerifyError, match="says float64"):
        verify.check(shape, "a planted rewrite")


# --------------------------------------------------------------------------- lower


def test_lower_splits_mse_into_its_residual_and_a_sum_of_squares():
    fn = lambda p, y: mg.losses.mse(p, y)  # noqa: E731
    p, y = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    program = passes.lower(traced(fn, p, y))
    assert op_names(program) == ["sub", "sumsq", "div"]
    same_bits(run(program, p, y)[0], fn(p, y).numpy())


def test_lower_splits_linear_into_a_matmul_and_an_add():
    fn = lambda x, w, b: mg.ops.linear(x, w, b)  # noqa: E731
    args = (np.ones((2, 3)), np.arange(6.0).reshape(2, 3), np.array([0.5, -0.5]))
    program = passes.lower(traced(fn, *args))
    assert op_names(program) == ["transpose", "matmul", "add"]
    same_bits(run(program, *args)[0], fn(*(mg.tensor(a) for a in args)).numpy())


# --------------------------------------------------------------------------- aliases


def test_forward_aliases_drops_detach_and_same_shape_reshapes():
    fn = lambda x: x.detach().reshape(3) * 2  # noqa: E731
    program = passes.forward_aliases(traced(fn, np.ones(3)))
    assert op_names(program) == ["mul"]


# --------------------------------------------------------------------------- constants


def test_fold_constants_computes_what_depends_only_on_frozen_constants():
    # the seed gradient 1 is the engine's own; sum's rule over axis 0 reshapes it to (1,)
    # and broadcasts that to x's shape: two ops on constants only
    fn = mg.grad(lambda x: (x * x).sum(axis=0) * 3.0)
    before = traced(fn, np.ones(2))
    assert {"reshape", "broadcast_to"} <= set(op_names(before))
    program = passes.fold_constants(before)
    assert not {"reshape", "broadcast_to"} & set(op_names(program))  # computed once, here
    folded = [a for ins in program.instrs for a in ins.values() if a.kind == CONST]
    assert folded and all(a.frozen for a in folded)
    verify.check(program, "fold_constants")


def test_an_array_the_function_made_is_never_folded():
    # an array constant is held by reference, not frozen: folding could freeze a value
    fn = lambda x: x * (np.array([2.0, 3.0]) * 2)  # noqa: E731
    program = passes.fold_constants(traced(fn, np.ones(2)))
    assert op_names(program) == ["mul"]  # the plain NumPy product is a constant already
    frozen_array = np.array([2.0, 3.0])
    frozen_array.flags.writeable = False
    fn2 = lambda x: x * (mg.tensor(frozen_array) * 2)  # noqa: E731
    assert op_names(passes.fold_constants(traced(fn2, np.ones(2)))) == ["mul", "mul"]


def test_a_broadcast_scalar_is_folded_without_being_materialised():
    n = 50_000
    fn = mg.grad(lambda x: x.mean())  # the rule broadcasts 1/N to x's shape
    program = passes.fold_constants(traced(fn, np.ones(n)))
    out = program.outputs[0]
    assert out.kind == CONST and out.shape == (n,) and np.size(out.source) == 1
    same_bits(run(program, np.ones(n))[0], np.full(n, 1 / n))


def test_random_draws_and_checks_are_never_folded():
    drop = mg.nn.Dropout(0.5, seed=0)
    constant = mg.tensor(np.ones(8))
    program = passes.fold_constants(traced(lambda x: x + drop(constant), np.ones(8)))
    assert "dropout_mask" in op_names(program)
    bce = lambda p: mg.losses.bce(p, np.full(2, 0.5))  # noqa: E731
    program = passes.optimize(traced(bce, np.array([0.2, 0.7])))
    assert op_names(program).count("in_unit_interval") == 2  # the constant targets too


# --------------------------------------------------------------------------- algebra

X = np.array([0.5, -0.0, 2.0, -1.5])


@pytest.mark.parametrize(
    ("fn", "left"),
    [
        (lambda x: x * 1.0, []),
        (lambda x: 1.0 * x, []),
        (lambda x: x / 1.0, []),
        (lambda x: x - 0.0, []),  # −0.0 − 0 = −0.0: exact
        (lambda x: x - -0.0, ["sub"]),  # −0.0 − (−0.0) = +0.0: not an identity
        (lambda x: x**1.0, []),
        (lambda x: x.__neg__().__neg__(), []),
        (lambda x: x + 0.0, ["add"]),  # −0.0 + 0 = +0.0: not an identity for floats
        (lambda x: 0.0 + x, ["add"]),
        (lambda x: x**2.0, ["mul"]),
        (lambda x: x / 4.0, ["mul"]),  # x/2ᵏ = x·2⁻ᵏ exactly
        (lambda x: x / 3.0, ["div"]),  # x·(1/3) rounds twice: kept
        (lambda x: (x * 2.0) * 3.0, ["mul", "mul"]),  # constant factors are never merged
    ],
)
def test_simplify_applies_exact_identities_only(fn, left):
    program = passes.eliminate_dead_code(passes.simplify(traced(fn, X)))  # drops what it skips
    assert op_names(program) == left
    same_bits(run(program, X)[0], fn(mg.tensor(X)).numpy())


@pytest.mark.parametrize(
    ("fn", "dtype"),
    [
        (lambda x: x + 0, np.int8),  # integers: x + 0 is x
        (lambda x: 0 + x, np.int32),
    ],
)
def test_integer_identities(fn, dtype):
    x = np.array([1, -2, 3], dtype=dtype)
    program = passes.eliminate_dead_code(passes.simplify(traced(fn, x)))
    assert op_names(program) == []


@pytest.mark.parametrize(
    ("fn", "x"),
    [
        (lambda x: x * np.ones((2, 3)), np.ones(3)),  # ×1 that broadcasts
        (lambda x: x * np.float64(1.0), np.ones(3, np.float32)),  # ×1 that widens
        (lambda x: (x / np.array([[2.0]])).sum(axis=0), np.ones(3)),  # a (1, 1) constant
        (lambda x: x / np.float32(4.0), np.ones(3, np.float16)),  # float16 result
        (lambda x: x**2, np.array([3, -4], np.int32)),  # integers: not x·x by rewrite
        (lambda x: (x * 100) * 100, np.array([3, -4], np.int8)),  # wraps as eager does
        (lambda x: x + 0.0, np.array([-1, 2], np.int64)),  # int + 0.0 is float64
    ],
)
def test_simplify_keeps_what_would_change_shape_dtype_or_range(fn, x):
    program = passes.optimize(traced(fn, x), verify=True)
    with np.errstate(all="ignore"):
        same_bits(run(program, x)[0], fn(mg.tensor(x)).numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_sum_of_squares_of_floats_is_one_dot_product(dtype):
    r = np.array([1.0, 2.0, 3.0, 4.0], dtype)
    for fn, left in [
        (lambda r: (r * r).mean(), ["sumsq", "div"]),
        (lambda r: (r * r).sum(), ["sumsq"]),
        (lambda r: (r**2).mean(), ["sumsq", "div"]),
    ]:
        program = passes.eliminate_dead_code(passes.simplify(traced(fn, r)))
        assert op_names(program) == left
        np.testing.assert_allclose(run(program, r)[0], fn(mg.tensor(r)).numpy(), rtol=1e-6)
        assert run(program, r)[0].dtype == dtype


@pytest.mark.parametrize(
    "r",
    [
        np.array([1, 2, 40000], np.int32),  # keeps int64 accumulation (and no overflow)
        np.array([True, False, True]),  # bool · bool is bool; its sum is an int
        np.array([1.0, 2.0], np.float16),  # float16 sums in float32
        np.zeros(0),  # the mean of nothing is nan
    ],
)
def test_a_sum_of_squares_of_other_dtypes_or_sizes_is_left_alone(r):
    for fn in (lambda r: (r * r).sum(), lambda r: (r * r).mean()):
        program = passes.optimize(traced(fn, r))
        assert "sumsq" not in op_names(program)
        with np.errstate(all="ignore"):
            same_bits(run(program, r)[0], fn(mg.tensor(r)).numpy())


# --------------------------------------------------------------------------- broadcasts


def test_a_broadcast_scalar_reaches_elementwise_ops_as_a_scalar():
    def fn(x, s):  # s is a traced scalar, so nothing folds
        return x * s.reshape(1).sum() * mg.ops.broadcast_to(s, (4,))

    program = passes.drop_scalar_broadcasts(traced(fn, np.arange(4.0), np.array(2.0)))
    consumer = program.instrs[-1]
    assert all(a.shape == () for a in consumer.args[1:])
    verify.check(program, "drop_scalar_broadcasts")


# --------------------------------------------------------------------------- CSE and DCE


def test_common_subexpressions_are_computed_once():
    fn = lambda x: x.exp() + x.exp() * x.exp()  # noqa: E731
    program = passes.eliminate_common_subexpressions(traced(fn, np.ones(2)))
    assert op_names(program).count("exp") == 1


def test_constants_merge_by_bits_not_by_equality():
    fn = lambda x: (x * 0.0, x * -0.0)  # noqa: E731  (0.0 == -0.0, but not the same)
    program = passes.eliminate_common_subexpressions(traced(fn, np.ones(2)))
    assert op_names(program).count("mul") == 2


def test_random_ops_are_never_merged_nor_dropped():
    drop = mg.nn.Dropout(0.5, seed=0)
    program = passes.eliminate_common_subexpressions(
        traced(lambda x: drop(x) + drop(x), np.ones(4))
    )
    assert op_names(program).count("dropout_mask") == 2
    unused = passes.eliminate_dead_code(traced(lambda x: (drop(x), x * 2)[1], np.ones(4)))
    assert "dropout_mask" in op_names(unused)  # eager draws it: the stream moves on


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
    assert program.into[sub] is sub.args[1]
    x, y = np.linspace(0, 1, n), np.linspace(1, 3, n)
    same_bits(run(program, x, y)[0], fn(mg.tensor(x), mg.tensor(y)).numpy())
    same_bits(x, np.linspace(0, 1, n))  # the inputs are untouched


def test_only_dying_temporaries_are_overwritten():
    n = passes.BUFFER_MIN_SIZE * 2

    def fn(x, y):
        t = x * 2  # dies at the next line: its buffer can take the sum
        u = t + y
        v = x - y  # x and y are arguments: never overwritten
        return (u * v).sum(), v.exp().sum()  # v is read twice: not overwritten by u * v

    program = passes.plan_buffers(traced(fn, np.ones(n), np.ones(n)))
    for k, ins in enumerate(program.instrs):
        target = program.into.get(ins)
        if target is not None:
            assert target.kind == TEMP and target in ins.args
            assert all(target not in later.values() for later in program.instrs[k + 1 :])
    assert [ins.name for ins in program.instrs if ins in program.into] == ["add", "mul", "exp"]
    x, y = np.linspace(0, 1, n), np.linspace(1, 3, n)
    expected = fn(mg.tensor(x), mg.tensor(y))
    for _ in range(2):  # a second call reuses the kept buffers
        for got, want in zip(run(program, x, y), expected, strict=True):
            same_bits(got, want.numpy())


def test_a_temporary_read_later_through_a_view_of_a_view_is_not_overwritten():
    n = passes.BUFFER_MIN_SIZE * 2

    def fn(x):
        t = x * 2
        view = t.reshape(2, -1).T  # a view of a view of t
        u = (t + 1).sum()  # t's last direct use: but the view reads t below
        return u + view.sum()

    program = passes.plan_buffers(traced(fn, np.arange(float(n))))
    assert not program.into  # t + 1 may not write over t
    same_bits(run(program, np.arange(float(n)))[0], fn(mg.tensor(np.arange(float(n)))).numpy())


def test_an_einsum_view_keeps_its_operand_alive_and_escapes_as_a_copy():
    n = 100

    def fn(x):
        t = x * 2
        return mg.einsum("ij->ji", t)  # a view of t: t's memory is the result's

    x = np.ones((n, n))
    program = passes.optimize(traced(fn, x))
    roots = passes.owners(program)
    out = program.outputs[0]
    assert any(r in roots.get(out, {out}) for r in program.instrs[0].values()) or roots
    assert not program.storage  # what escapes is never a kept buffer


def test_outputs_and_small_arrays_get_no_buffer():
    n = passes.BUFFER_MIN_SIZE * 2
    program = passes.plan_buffers(traced(lambda x: (x * 2 + 1, (x * 3)[:2]), np.ones(n)))
    assert all(ins.out not in program.storage for ins in program.instrs[-2:])
    small = passes.plan_buffers(traced(lambda x: (x * 2 + 1).sum(), np.ones(3)))
    assert not small.storage


def test_a_matmul_never_writes_over_its_own_input():
    n = passes.BUFFER_MIN_SIZE * 2
    program = passes.plan_buffers(
        traced(lambda X, w: ((X @ w) @ np.ones((1, 1))).sum(), np.ones((n, 1)), np.ones((1, 1)))
    )
    assert not any(ins in program.into for ins in program.instrs if ins.op is ops.matmul)


def test_the_full_pipeline_on_the_notes_update_allocates_one_kept_buffer():
    n = 20_000
    fn = mg.value_and_grad(lambda w, b, X, y: mg.losses.mse(X @ w + b, y), argnums=(0, 1))
    rng = np.random.default_rng(0)
    args = (rng.standard_normal(3), 0.5, rng.standard_normal((n, 3)), rng.standard_normal(n))
    program = passes.optimize(traced(fn, *args), verify=True)
    assert len(set(program.storage.values())) == 1  # ŷ, r and 2r/N share one buffer
    assert [v.kind for v in program.args] == [ARG] * 4 and program.args[1].weak is float
    expected = fn(*args)
    got = run(program, *args)
    same_bits(got[0], expected[0].numpy())
    same_bits(got[1], expected[1][0].numpy())
