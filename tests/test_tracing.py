"""The traced-data guard (minigrad/tracing.py): what a TracedArray refuses in the thread
that is tracing, and how it behaves everywhere else.

Inside the tracing thread (a function run by ``mg.jit``) every read of traced values —
ufuncs, NumPy functions other than the metadata ones, value methods, conversions,
indexing, iteration, pickling, formatting, a view as another type — raises TraceError
naming the operation and saying how to write it instead. Outside it (another thread
while a trace runs, or after the trace) a TracedArray is an ordinary ndarray of the same
memory: every expected value here is NumPy's own answer on a plain copy of that memory.
"""

from __future__ import annotations

import operator
import pickle
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import tracing
from minigrad.tracing import (
    METADATA,
    TracedArray,
    TraceError,
    Tracing,
    constant,
    plain,
    read_error,
    refusing,
    traced,
)

ADVICE = (
    " reads the values of a Tensor inside a function being traced by mg.jit: the compiled "
    "function would keep this call's values forever. Write it with minigrad ops (mg.where "
    "instead of if/else), make the argument static (static_argnums), or move the Python "
    "logic out of the jitted function."
)


def matrix() -> np.ndarray:
    return np.arange(6.0).reshape(2, 3) - 2.5


def in_trace(action, data=None):
    """Run ``action`` on a traced argument's data inside mg.jit's tracing thread; returns
    ("ok", result) or ("refused", the TraceError's message)."""
    seen = []

    def f(t):
        try:
            seen.append(("ok", action(t.data)))
        except TraceError as err:
            seen.append(("refused", str(err)))
        return t * 2

    mg.jit(f)(matrix() if data is None else data)
    return seen[0]


def refusal(action, data=None) -> str:
    kind, message = in_trace(action, data)
    assert kind == "refused", f"not refused: {message!r}"
    return message


# =========================================================================================
# the message
# =========================================================================================


def test_read_error_names_the_operation_and_says_how_to_write_it():
    """read_error: a TraceError (a TypeError) whose text is the operation + the advice."""
    err = read_error("float(loss)")
    assert isinstance(err, TraceError) and isinstance(err, TypeError)
    assert str(err) == "float(loss)" + ADVICE


# =========================================================================================
# in the tracing thread: refused
# =========================================================================================


@pytest.mark.parametrize(
    ("action", "what"),
    [
        (np.sin, "np.sin"),
        (lambda d: d + 1, "np.add"),
        (lambda d: np.add.reduce(d, axis=0), "np.add.reduce"),
        (lambda d: np.multiply.accumulate(d), "np.multiply.accumulate"),
        (lambda d: np.maximum.outer(d, d), "np.maximum.outer"),
    ],
)
def test_a_ufunc_on_traced_data_is_refused_naming_ufunc_and_method(action, what):
    """A ufunc call is named np.NAME, any other ufunc method np.NAME.METHOD."""
    assert refusal(action) == what + ADVICE


@pytest.mark.parametrize(
    ("action", "what"),
    [
        (np.sort, "np.sort"),
        (lambda d: np.concatenate([d, d]), "np.concatenate"),
        (lambda d: np.linalg.norm(d), "np.norm"),
        (lambda d: np.array_equal(d, d), "np.array_equal"),
    ],
)
def test_a_numpy_function_on_traced_data_is_refused_by_name(action, what):
    """A NumPy function outside METADATA is refused as np.NAME (its __name__)."""
    assert refusal(action) == what + ADVICE


class Nameless:
    """A callable without __name__ (what __array_function__ is given by a direct call)."""

    def __call__(self, *args, **kwargs):
        return 0

    def __repr__(self) -> str:
        return "nameless-callable"


def test_a_callable_without_a_name_is_refused_by_its_text():
    """__array_function__ with a func lacking __name__: refused as np.<str(func)>."""

    def action(d):
        return d.__array_function__(Nameless(), (TracedArray,), (d,), {})

    assert refusal(action) == "np.nameless-callable" + ADVICE


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (np.shape, (2, 3)),
        (np.ndim, 2),
        (np.size, 6),
        (lambda d: np.size(d, axis=1), 3),  # keyword arguments are passed on
        (lambda d: np.size(d, 0), 2),
        (lambda d: np.may_share_memory(d, d), True),
        (lambda d: np.shares_memory(d, d), True),
        (lambda d: np.result_type(d, np.float32), np.dtype(np.float64)),
        (np.iscomplexobj, False),
        (np.isrealobj, True),
    ],
)
def test_metadata_functions_are_allowed_in_the_tracing_thread(action, expected):
    """np.shape/ndim/size/may_share_memory/shares_memory/result_type/is*obj: answered."""
    assert in_trace(action) == ("ok", expected)


def test_metadata_is_the_documented_set():
    """METADATA lists exactly the functions that read shapes, dtypes or layout."""
    assert {
        np.shape,
        np.ndim,
        np.size,
        np.may_share_memory,
        np.shares_memory,
        np.result_type,
        np.iscomplexobj,
        np.isrealobj,
    } == METADATA


@pytest.mark.parametrize("method", ["sum", "max", "tolist", "item", "mean", "argmax", "fill"])
def test_value_methods_are_refused_naming_the_attribute(method):
    """A value method (d.sum, d.tolist, ...) is refused as .data.NAME at attribute access."""
    assert refusal(lambda d: getattr(d, method)) == f".data.{method}" + ADVICE


@pytest.mark.parametrize(
    "action",
    [
        float,
        int,
        complex,
        bool,
        lambda d: d[()],
        lambda d: d.__setitem__((), 1.0),
        lambda d: format(d, ".2f"),
        lambda d: f"{d}",
        lambda d: pickle.dumps(d),
        lambda d: d.__reduce__(),
        lambda d: d.__reduce_ex__(2),
    ],
)
def test_conversions_indexing_formatting_and_pickling_a_scalar_are_refused(action):
    """float/int/complex/bool/getitem/setitem/format/pickle of 0-d traced data: refused."""
    assert refusal(action, np.array(2.5)) == "reading .data" + ADVICE


@pytest.mark.parametrize(
    "action", [lambda d: d[0], lambda d: list(d), lambda d: iter(d), lambda d: d.__setitem__(0, 1)]
)
def test_indexing_and_iterating_an_array_are_refused(action):
    """d[0], iter(d), d[0] = 1 on traced data: refused."""
    assert refusal(action) == "reading .data" + ADVICE


def test_operator_index_is_refused():
    """operator.index of 0-d integer traced data (a list index) is refused."""
    message = refusal(operator.index, np.array(1))
    assert message == "reading .data" + ADVICE


@pytest.mark.parametrize(
    "action",
    [
        lambda d: d.view(np.ndarray),
        lambda d: d.view(type=np.ndarray),
        lambda d: d.view(np.int64, np.ndarray),
        lambda d: d.view(dtype=np.int64, type=np.ndarray),
    ],
)
def test_a_view_as_a_plain_ndarray_is_refused(action):
    """d.view(np.ndarray), by position or keyword: refused as .data.view()."""
    assert refusal(action) == ".data.view()" + ADVICE


@pytest.mark.parametrize(
    ("action", "dtype"),
    [
        (lambda d: d.view(), np.float64),
        (lambda d: d.view(np.int64), np.int64),
        (lambda d: d.view(dtype=np.int64), np.int64),
        (lambda d: d.view(TracedArray), np.float64),
    ],
)
def test_a_view_that_stays_traced_is_allowed(action, dtype):
    """d.view() and d.view(dtype) keep the TracedArray type: allowed (nothing is read)."""
    kind, result = in_trace(lambda d: (type(action(d)), action(d).dtype, action(d).shape))
    assert kind == "ok"
    assert result == (TracedArray, np.dtype(dtype), (2, 3))


def test_repr_and_str_in_the_tracing_thread_show_only_dtype_and_shape():
    """repr/str of traced data inside the trace: '<traced DTYPE array of shape SHAPE>'."""
    text = "<traced float64 array of shape (2, 3)>"
    assert in_trace(repr) == ("ok", text)
    assert in_trace(str) == ("ok", text)
    assert in_trace(repr, np.zeros(4, np.float32)) == (
        "ok",
        "<traced float32 array of shape (4,)>",
    )


def test_structure_attributes_are_readable_in_the_tracing_thread():
    """shape/dtype/ndim/size/strides/T/reshape/astype: allowed, and astype stays traced."""

    def action(d):
        return (
            d.shape,
            d.dtype,
            d.ndim,
            d.size,
            d.itemsize,
            d.nbytes,
            d.strides,
            d.T.shape,
            type(d.reshape(3, 2)),
            type(d.astype(np.float32)),
        )

    reference = matrix()
    assert in_trace(action) == (
        "ok",
        (
            reference.shape,
            reference.dtype,
            2,
            6,
            8,
            48,
            reference.strides,
            (3, 2),
            TracedArray,
            TracedArray,
        ),
    )


def test_refusing_is_true_only_in_the_tracing_thread_while_it_traces():
    """refusing(): False before, True inside the traced function, False after."""
    assert refusing() is False
    assert in_trace(lambda d: refusing()) == ("ok", True)
    assert refusing() is False


# =========================================================================================
# outside the tracing thread: an ordinary ndarray of the same memory
# =========================================================================================


def test_another_thread_during_a_trace_reads_a_traced_view_as_an_ndarray():
    """While thread A traces, thread B sees the swapped closed-over array as an ndarray."""
    weights = matrix()
    holder = [weights]  # found by the trace's environment walk and swapped for a view
    inside, release = threading.Event(), threading.Event()

    def f(x):
        inside.set()
        assert release.wait(10)
        return x * holder[0]

    results = {}
    worker = threading.Thread(target=lambda: results.setdefault("out", mg.jit(f)(np.ones(3))))
    worker.start()
    try:
        assert inside.wait(10)
        seen = holder[0]
        assert type(seen) is TracedArray  # the trace swapped it...
        assert np.shares_memory(plain(seen), weights)
        assert refusing() is False  # ...but this thread is not the one tracing
        np.testing.assert_array_equal(np.sin(seen), np.sin(weights))
        np.testing.assert_array_equal(np.sort(seen, axis=0), np.sort(weights, axis=0))
        assert seen.sum() == weights.sum()
        assert float(seen[1, 2]) == weights[1, 2]
        assert repr(seen) == repr(weights)
    finally:
        release.set()
        worker.join(10)
    np.testing.assert_array_equal(results["out"].data, np.ones(3) * weights)
    assert holder[0] is weights  # put back after the trace


def test_a_traced_tensor_kept_after_the_trace_reads_as_an_ndarray():
    """A stand-in kept past the trace: its data (still a TracedArray) reads normally."""
    kept = []

    def f(x):
        kept.append(x)
        return x * 2

    reference = matrix()
    mg.jit(f)(reference)
    data = kept[0].data
    assert type(data) is TracedArray
    np.testing.assert_array_equal(np.exp(data), np.exp(reference))
    np.testing.assert_array_equal(data.max(axis=0), reference.max(axis=0))
    assert data.tolist() == reference.tolist()


UFUNC_CASES = [
    pytest.param(lambda a: np.sin(a), id="sin"),
    pytest.param(lambda a: a + 1, id="add"),
    pytest.param(lambda a: a * a, id="mul-self"),
    pytest.param(lambda a: np.add.reduce(a, axis=1), id="reduce-axis"),
    pytest.param(lambda a: np.add.accumulate(a, axis=0), id="accumulate"),
    pytest.param(lambda a: np.multiply.outer(a[0], a[1]), id="outer"),
    pytest.param(lambda a: np.add(a, a, dtype=np.float32), id="dtype-kwarg"),
    pytest.param(lambda a: np.maximum(a, 0.0, where=a > -1, out=np.zeros((2, 3))), id="where"),
    pytest.param(lambda a: np.greater(a, 0), id="bool-result"),
    pytest.param(lambda a: np.divmod(a, 2.0), id="two-results"),
]


@pytest.mark.parametrize("compute", UFUNC_CASES)
def test_ufuncs_outside_the_trace_give_numpys_results_and_dtypes(compute):
    """Outside the tracing thread, a ufunc on traced data is the ufunc on the array."""
    reference = matrix()
    got, expected = compute(traced(matrix())), compute(reference)
    for g, e in zip(
        got if isinstance(got, tuple) else (got,),
        expected if isinstance(expected, tuple) else (expected,),
        strict=True,
    ):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_a_ufunc_outside_the_trace_writes_into_out():
    """np.add(t, 1, out=o): the result lands in o (and in a traced out's memory)."""
    base = matrix()
    t = traced(base)
    out = np.empty((2, 3))
    result = np.add(t, 1.0, out=out)
    np.testing.assert_array_equal(out, matrix() + 1.0)
    np.testing.assert_array_equal(result, matrix() + 1.0)
    traced_out = traced(np.zeros(3))
    np.multiply(t[1], 2.0, out=traced_out)
    np.testing.assert_array_equal(plain(traced_out), 2.0 * matrix()[1])
    t += 10.0  # in place: the memory the traced array views
    np.testing.assert_array_equal(base, matrix() + 10.0)


@pytest.mark.parametrize(
    "compute",
    [
        pytest.param(lambda a: np.sum(a, axis=0), id="sum-axis"),
        pytest.param(lambda a: np.sort(a, axis=0), id="sort-axis"),
        pytest.param(lambda a: np.concatenate([a, a], axis=1), id="concatenate-axis"),
        pytest.param(lambda a: np.linalg.norm(a, ord=1), id="norm-ord"),
        pytest.param(lambda a: np.round(a, decimals=0), id="round"),
        pytest.param(lambda a: np.size(a, axis=1), id="size-axis"),
        pytest.param(lambda a: np.mean(a, axis=1, keepdims=True), id="mean-keepdims"),
        pytest.param(lambda a: np.cumsum(a, axis=1, dtype=np.float32), id="cumsum-dtype"),
    ],
)
def test_numpy_functions_outside_the_trace_honour_their_arguments(compute):
    """np.sum(t, axis=0), np.sort(t, axis=0), ...: NumPy's result, keyword arguments kept."""
    got, expected = compute(traced(matrix())), compute(matrix())
    assert np.shape(got) == np.shape(expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(got, expected)


def test_a_numpy_function_outside_the_trace_writes_into_out():
    """np.sum(t, axis=1, out=o) fills o."""
    out = np.empty(2)
    np.sum(traced(matrix()), axis=1, out=out)
    np.testing.assert_array_equal(out, matrix().sum(axis=1))


def test_conversions_and_indexing_outside_the_trace():
    """float/int/complex/bool/index/getitem/setitem/iter/format behave as on the array."""
    scalar = traced(np.array(2.75))
    assert float(scalar) == 2.75
    assert int(scalar) == 2
    assert complex(scalar) == 2.75 + 0j
    assert bool(scalar) is True and bool(traced(np.array(0.0))) is False
    assert operator.index(traced(np.array(3))) == 3
    assert [10, 20, 30, 40][traced(np.array(2))] == 30
    assert format(scalar, ".3f") == format(np.array(2.75), ".3f") == "2.750"
    t = traced(matrix())
    np.testing.assert_array_equal(t[1], matrix()[1])
    assert t[1, 2] == matrix()[1, 2]
    np.testing.assert_array_equal(t[:, 1:], matrix()[:, 1:])
    rows = list(t)
    assert len(rows) == 2
    np.testing.assert_array_equal(rows[0], matrix()[0])
    t[0, 0] = 99.0
    t[1] = [7.0, 8.0, 9.0]
    expected = matrix()
    expected[0, 0] = 99.0
    expected[1] = [7.0, 8.0, 9.0]
    np.testing.assert_array_equal(plain(t), expected)


def test_pickling_outside_the_trace_keeps_the_values():
    """pickle.dumps/loads of traced data outside the trace: same values, shape, dtype."""
    back = pickle.loads(pickle.dumps(traced(matrix().astype(np.float32))))
    np.testing.assert_array_equal(np.asarray(back), matrix().astype(np.float32))
    assert back.dtype == np.float32
    state = traced(matrix()).__reduce_ex__(2)
    assert state[0] is not None  # the ndarray reduction, not a refusal


def test_guarded_methods_refuse_keyword_arguments_as_ndarray_does():
    """A guarded dunder (t.__float__(x=1)) rejects keywords exactly as ndarray's does."""
    with pytest.raises(TypeError, match="keyword"):
        np.array(2.5).__float__(x=1)
    with pytest.raises(TypeError, match="keyword"):
        traced(np.array(2.5)).__float__(x=1)
    with pytest.raises(TypeError, match="keyword"):
        traced(np.arange(3)).__getitem__(key=0)


def test_guarded_builds_a_method_that_refuses_only_while_tracing():
    """_guarded(name): ndarray.name outside the tracing thread, refused inside it."""
    to_float = tracing._guarded("__float__")
    get = tracing._guarded("__getitem__")
    assert to_float(traced(np.array(1.5))) == 1.5
    assert get(traced(np.arange(4.0)), 2) == 2.0
    assert get(traced(np.arange(4.0)), slice(1, 3)).tolist() == [1.0, 2.0]
    assert in_trace(lambda d: to_float(d), np.array(1.5)) == (
        "refused",
        "reading .data" + ADVICE,
    )


@pytest.mark.parametrize(
    ("view", "kind"),
    [
        (lambda a: a.view(np.ndarray), np.ndarray),
        (lambda a: a.view(type=np.ndarray), np.ndarray),
        (lambda a: a.view(np.int64), TracedArray),
        (lambda a: a.view(dtype=np.int64, type=np.ndarray), np.ndarray),
        (lambda a: a.view(np.int64, np.ndarray), np.ndarray),
        (lambda a: a.view(), TracedArray),
    ],
)
def test_views_outside_the_trace(view, kind):
    """t.view(...) outside the trace: the same memory, reinterpreted as NumPy does."""
    base = matrix()
    got = view(traced(base))
    assert type(got) is kind
    np.testing.assert_array_equal(plain(got), view(matrix()))
    assert np.shares_memory(plain(got), base)


def test_repr_outside_the_trace_is_the_arrays():
    """repr of traced data outside the trace is the ndarray's repr."""
    for array in (matrix(), np.arange(4, dtype=np.int32), np.array(1.5)):
        assert repr(traced(array)) == repr(array)


def test_str_outside_the_trace_is_the_arrays():
    """str(t) and f'{t}' of traced data outside the trace equal the ndarray's."""
    assert str(traced(matrix())) == str(matrix())
    assert f"{traced(matrix())}" == f"{matrix()}"


def test_a_ufunc_with_a_traced_out_returns_that_out():
    """np.add(a, 1, out=t) returns t, as NumPy returns the out array."""
    t = traced(np.zeros(3))
    assert np.add(np.ones(3), 1.0, out=t) is t


# =========================================================================================
# traced(), plain(), constant(), the Tracing hooks
# =========================================================================================


def test_traced_wraps_an_array_once_and_leaves_anything_else():
    """traced(ndarray) is a TracedArray view of it; traced(traced) is itself; numbers pass."""
    base = matrix()
    t = traced(base)
    assert type(t) is TracedArray and np.shares_memory(plain(t), base)
    assert t.shape == base.shape and t.dtype == base.dtype
    assert traced(t) is t
    for other in (3.0, 2, None, np.float64(1.5), [1.0, 2.0]):
        assert traced(other) is other


def test_plain_unwraps_traced_data_inside_tuples_and_lists():
    """plain: TracedArray -> ndarray view of the same memory, through tuples and lists."""
    base = matrix()
    t = traced(base)
    p = plain(t)
    assert type(p) is np.ndarray and np.shares_memory(p, base)
    nested = plain((t, [t, 1.0], "x"))
    assert type(nested) is tuple and type(nested[1]) is list
    assert type(nested[0]) is np.ndarray and type(nested[1][0]) is np.ndarray
    assert nested[1][1] == 1.0 and nested[2] == "x"
    assert plain(base) is base and plain(5) == 5


def test_constant_makes_an_array_read_only_in_place():
    """constant(a) returns a itself, now read-only."""
    a = np.ones(3)
    assert constant(a) is a
    assert a.flags.writeable is False
    with pytest.raises(ValueError):
        a[0] = 2.0


class _Op:
    """A stand-in with the one thing Tracing.forward uses: forward(*raw)."""

    @staticmethod
    def forward(a, b):
        return a * b


def test_tracing_base_class_hooks():
    """Tracing: keeps its thread; inputs() makes traced data plain; forward() runs the op;
    the other hooks accept their arguments and do nothing."""
    hooks = Tracing(12345)
    assert hooks.thread == 12345
    base = matrix()
    raw = hooks.inputs(_Op, (), [traced(base), 2.0, None])
    assert type(raw[0]) is np.ndarray and np.shares_memory(raw[0], base)
    assert raw[1:] == [2.0, None]
    np.testing.assert_array_equal(hooks.forward(_Op, (), [base, 3.0]), base * 3.0)
    assert hooks.record(_Op, (), None) is None
    assert hooks.begin_rule("note") is None
    assert hooks.end_rule(None, None) is None
    assert hooks.gradient(None, None) is None
    assert hooks.created(None) is None
