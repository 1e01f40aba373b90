"""Tests for minigrad.testing: the strategies draw what they promise, and never filter."""

import ast
import doctest
import inspect
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import minigrad.testing as mt

FLOAT_DTYPES = [np.float16, np.float32, np.float64]

# `find` with a fixed seed: "can this case be drawn at all?" must not depend on luck.
FIND = settings(database=None, derandomize=True, max_examples=2000)


def can_draw(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool]) -> Any:
    return find(strategy, condition, settings=FIND)


@pytest.fixture
def restore_profile() -> Iterator[None]:
    """Put back whatever settings profile was loaded (the conftest's) after a test."""
    settings.register_profile("test_testing_saved", parent=settings.default)
    yield
    settings.load_profile("test_testing_saved")


# --------------------------------------------------------------------------- shapes


@given(mt.shapes())
def test_shapes_default_bounds(shape):
    assert isinstance(shape, tuple)
    assert 0 <= len(shape) <= 3
    assert all(isinstance(n, int) and 1 <= n <= 4 for n in shape)


@given(mt.shapes(min_dims=2, max_dims=4, min_side=0, max_side=2))
def test_shapes_custom_bounds(shape):
    assert 2 <= len(shape) <= 4
    assert all(0 <= n <= 2 for n in shape)


def test_shapes_include_scalar():
    assert can_draw(mt.shapes(), lambda s: s == ()) == ()


@given(mt.broadcastable_shapes())
def test_broadcastable_shapes_broadcast(pair):
    a, b = pair
    np.broadcast_shapes(a, b)  # raises ValueError if they do not
    assert len(a) <= 3 and len(b) <= 3
    assert all(1 <= n <= 4 for n in a + b)


@pytest.mark.parametrize(
    "bounds",
    [
        {"min_dims": 0, "max_dims": 1, "min_side": 1, "max_side": 1},
        {"min_dims": 1, "max_dims": 4, "min_side": 2, "max_side": 3},
        {"min_dims": 2, "max_dims": 2, "min_side": 0, "max_side": 2},
    ],
)
@given(data=st.data())
def test_broadcastable_shapes_respect_bounds(data, bounds):
    a, b = data.draw(mt.broadcastable_shapes(**bounds))
    np.broadcast_shapes(a, b)
    for shape in (a, b):
        assert bounds["min_dims"] <= len(shape) <= bounds["max_dims"]
        assert all(bounds["min_side"] <= n <= bounds["max_side"] for n in shape)


@pytest.mark.parametrize(
    ("case", "condition"),
    [
        ("different ndim", lambda p: len(p[0]) != len(p[1]) and min(map(len, p)) > 0),
        ("scalar left", lambda p: p[0] == () and len(p[1]) >= 2),
        ("scalar right", lambda p: p[1] == () and len(p[0]) >= 2),
        ("size 1 against n in a", lambda p: (1, 3) in zip(p[0][::-1], p[1][::-1], strict=False)),
        ("size 1 against n in b", lambda p: (3, 1) in zip(p[0][::-1], p[1][::-1], strict=False)),
        (
            "size 1 on both sides",
            lambda p: (
                len(p[0]) == len(p[1]) == 2 and p[0][0] == 1 < p[1][0] and p[1][1] == 1 < p[0][1]
            ),
        ),
        ("equal shapes", lambda p: p[0] == p[1] and len(p[0]) == 3),
    ],
)
def test_broadcastable_shapes_reach_interesting_cases(case, condition):
    a, b = can_draw(mt.broadcastable_shapes(), condition)
    np.broadcast_shapes(a, b)


@given(mt.matmul_shapes(max_batch_dims=2))
def test_matmul_shapes_matmul(pair):
    a, b = pair
    out = np.matmul(np.zeros(a), np.zeros(b))
    assert out.ndim <= max(len(a), len(b))
    assert all(1 <= n <= 4 for n in a + b)


@pytest.mark.parametrize(
    ("case", "condition"),
    [
        ("matrix @ matrix", lambda p: len(p[0]) == len(p[1]) == 2),
        ("vector @ matrix", lambda p: len(p[0]) == 1 and len(p[1]) == 2),
        ("matrix @ vector", lambda p: len(p[0]) == 2 and len(p[1]) == 1),
        ("vector @ vector", lambda p: len(p[0]) == len(p[1]) == 1),
        ("batch @ matrix", lambda p: len(p[0]) == 3 and len(p[1]) == 2),
        ("vector @ batch", lambda p: len(p[0]) == 1 and len(p[1]) == 3),
        ("batch 1 against n", lambda p: len(p[0]) == len(p[1]) == 3 and p[0][0] == 1 < p[1][0]),
    ],
)
def test_matmul_shapes_reach_interesting_cases(case, condition):
    a, b = can_draw(mt.matmul_shapes(), condition)
    np.matmul(np.zeros(a), np.zeros(b))


def test_matmul_shapes_without_batch():
    @given(mt.matmul_shapes(max_batch_dims=0, max_side=2))
    def check(pair):
        a, b = pair
        assert len(a) <= 2 and len(b) <= 2
        np.matmul(np.zeros(a), np.zeros(b))

    check()


@pytest.mark.parametrize(
    "call",
    [
        lambda: mt.shapes(min_dims=2, max_dims=1),
        lambda: mt.broadcastable_shapes(min_dims=3, max_dims=2),
        lambda: mt.broadcastable_shapes(min_side=3, max_side=2),
        lambda: mt.matmul_shapes(max_batch_dims=-1),
    ],
)
def test_bad_shape_bounds_raise_at_construction(call):
    with pytest.raises(ValueError, match="need 0 <="):
        call()


# --------------------------------------------------------------------------- arrays


def assert_values(x, dtype, lo, hi, avoid=(), margin=0.0):
    """Every value finite, of `dtype`, in [lo, hi] and `margin` from `avoid`, in float64."""
    assert isinstance(x, np.ndarray)
    assert x.dtype == np.dtype(dtype)
    wide = x.astype(np.float64)
    assert np.all(np.isfinite(wide))
    assert np.all(wide >= lo) and np.all(wide <= hi), (wide, lo, hi)
    for p in avoid:
        assert np.all(np.abs(wide - p) >= margin), (wide, p, margin)


@given(mt.arrays(mt.shapes()))
def test_arrays_defaults(x):
    assert_values(x, np.float64, -3.0, 3.0)
    assert x.ndim <= 3


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_arrays_respect_range_dtype_and_avoid(data, dtype):
    lo = data.draw(st.floats(-10, 10), label="min_value")
    hi = lo + data.draw(st.floats(4, 10), label="width")  # 3 zones of width <= 1 always fit
    avoid = data.draw(st.lists(st.floats(lo - 1, hi + 1), max_size=3), label="avoid")
    margin = data.draw(st.floats(0, 0.5), label="margin")
    shape = data.draw(mt.shapes(), label="shape")
    x = data.draw(mt.arrays(shape, dtype, lo, hi, avoid=avoid, margin=margin), label="x")
    assert x.shape == shape
    assert_values(x, dtype, lo, hi, avoid, margin)


@given(mt.arrays((3, 4), np.float32, min_value=0.1, max_value=0.7, avoid=(0.3,), margin=0.1))
def test_arrays_float32_bounds_that_float32_cannot_represent(x):
    # 0.1, 0.7, 0.2 and 0.4 are not float32 values: the bounds are rounded inwards.
    assert_values(x, np.float32, 0.1, 0.7, (0.3,), 0.1)


@given(mt.arrays(mt.shapes(), avoid=(0.0,)))
def test_arrays_avoid_zero_by_default_margin(x):
    assert_values(x, np.float64, -3.0, 3.0, (0.0,), 0.1)


@given(mt.arrays((4, 4), min_value=-1, max_value=1, avoid=(-0.5, 0.0, 0.5), margin=0.245))
def test_arrays_narrow_allowed_set_does_not_filter(x):
    # The allowed set is four slivers 0.01 wide; filtering would fail the health check.
    assert_values(x, np.float64, -1.0, 1.0, (-0.5, 0.0, 0.5), 0.245)


@given(mt.arrays(5, min_value=-1, max_value=1, avoid=(-0.5, 0.5), margin=0.25))
def test_arrays_touching_zones_leave_the_point_between(x):
    assert x.shape == (5,)
    assert_values(x, np.float64, -1.0, 1.0, (-0.5, 0.5), 0.25)


def test_arrays_draw_right_next_to_the_avoided_zone():
    # Values are drawn up to the edge of the zone, not pushed somewhere far away.
    x = can_draw(mt.arrays((), avoid=(0.0,)), lambda x: 0.1 <= abs(float(x)) < 0.11)
    assert 0.1 <= abs(float(x)) < 0.11
    y = can_draw(mt.arrays((), avoid=(0.0,)), lambda y: float(y) < 0)
    assert float(y) <= -0.1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_arrays_positive(data, dtype):
    x = data.draw(mt.arrays(mt.shapes(), dtype, positive=True))
    assert_values(x, dtype, 0.1, 3.0)
    assert np.all(np.isfinite(np.log(x.astype(np.float64))))


@given(mt.arrays((2, 3), min_value=0.5, max_value=2.0, positive=True))
def test_arrays_positive_keeps_a_larger_min_value(x):
    assert_values(x, np.float64, 0.5, 2.0)


@given(mt.arrays(mt.shapes(min_dims=1, max_dims=1)))
def test_arrays_accept_a_shape_strategy(x):
    assert x.ndim == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dtype": np.int64}, "dtype"),
        ({"dtype": np.complex128}, "dtype"),
        ({"min_value": 1.0, "max_value": -1.0}, "min_value <= max_value"),
        ({"min_value": -math.inf}, "finite"),
        ({"avoid": (math.nan,)}, "finite"),
        ({"margin": -0.1}, "margin"),
        ({"min_value": -0.05, "max_value": 0.05, "avoid": (0.0,)}, "no value"),
        ({"margin": 0.0, "positive": True}, "positive"),
        ({"max_value": 0.05, "positive": True}, "positive=True raised min_value"),
        ({"distinct_gap": 0.0}, "distinct_gap"),
        ({"distinct_gap": math.inf}, "distinct_gap"),
    ],
)
def test_arrays_bad_options_raise_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mt.arrays((2,), **kwargs)


# --------------------------------------------------------------------------- distinct


def assert_gap(x, gap):
    values = np.sort(np.asarray(x, dtype=np.float64), axis=None)
    assert np.all(np.diff(values) >= gap), (values, gap)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_distinct_arrays_have_the_gap(data, dtype):
    gap = data.draw(st.sampled_from([0.01, 0.05]), label="gap")
    x = data.draw(mt.distinct_arrays(mt.shapes(), gap, dtype, avoid=(0.0, 1.0)), label="x")
    assert_values(x, dtype, -3.0, 3.0, (0.0, 1.0), 0.1)
    assert_gap(x, gap)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_distinct_arrays_packed_to_the_limit(data, dtype):
    # Ten values 0.11 apart in [0, 1] leave 0.01 of slack: the draw must still never fail.
    x = data.draw(mt.distinct_arrays((10,), 0.11, dtype, min_value=0.0, max_value=1.0))
    assert_values(x, dtype, 0.0, 1.0)
    assert_gap(x, 0.11)


@given(mt.arrays((3, 3), avoid=(0.0,), distinct_gap=0.2, positive=True))
def test_arrays_distinct_gap_argument(x):
    assert_values(x, np.float64, 0.1, 3.0)
    assert_gap(x, 0.2)


@given(mt.distinct_arrays(mt.shapes(min_dims=1)))
def test_distinct_arrays_have_one_maximum(x):
    assert np.count_nonzero(x == x.max()) == 1
    assert np.count_nonzero(x == x.min()) == 1


def test_distinct_arrays_reach_both_sides_of_an_avoided_zone():
    x = can_draw(mt.distinct_arrays((3,), avoid=(0.0,)), lambda x: x.min() < 0 < x.max())
    assert_values(x, np.float64, -3.0, 3.0, (0.0,), 0.1)


def test_distinct_arrays_too_many_for_the_range_raise():
    with pytest.raises(ValueError, match=r"distinct_gap=0\.5"):
        mt.distinct_arrays((20,), gap=0.5)


def test_distinct_arrays_too_many_for_the_range_raise_when_drawn():
    strategy = mt.distinct_arrays(st.just((20,)), gap=0.5)

    @given(strategy)
    def check(x):
        raise AssertionError("unreachable")

    with pytest.raises(ValueError, match="cannot draw 20 values"):
        check()


# --------------------------------------------------------------------------- pairs


@given(mt.array_pairs())
def test_array_pairs_broadcast(pair):
    a, b = pair
    assert_values(a, np.float64, -3.0, 3.0)
    assert_values(b, np.float64, -3.0, 3.0)
    np.broadcast_shapes(a.shape, b.shape)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_array_pairs_share_value_options(data, dtype):
    a, b = data.draw(mt.array_pairs(dtype=dtype, min_value=-2, max_value=1, avoid=(0.0,)))
    for x in (a, b):
        assert_values(x, dtype, -2.0, 1.0, (0.0,), 0.1)
    assert (a + b).shape == np.broadcast_shapes(a.shape, b.shape)


@given(mt.array_pairs(mt.matmul_shapes(max_batch_dims=2), np.float32))
def test_array_pairs_matmul(pair):
    a, b = pair
    assert (a @ b).dtype == np.float32


@given(mt.array_pairs(distinct_gap=0.02))
def test_array_pairs_distinct_across_both_arrays(pair):
    a, b = pair
    assert_gap(np.concatenate([a.ravel(), b.ravel()]), 0.02)
    # so np.maximum(a, b) has no ties either
    assert not np.any(np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)) == b)


@given(mt.array_pairs(st.just(((2, 1), (3,))), positive=True))
def test_array_pairs_fixed_shapes(pair):
    a, b = pair
    assert a.shape == (2, 1) and b.shape == (3,)
    assert_values(a, np.float64, 0.1, 3.0)
    assert_values(b, np.float64, 0.1, 3.0)


# --------------------------------------------------------------------------- profiles


def test_register_profiles():
    assert mt.register_profiles() == ("ci", "dev", "thorough") == mt.PROFILE_NAMES
    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.max_examples == 25
    assert ci.deadline is None
    assert ci.print_blob is True
    assert HealthCheck.too_slow in ci.suppress_health_check
    dev = settings.get_profile("dev")
    assert (dev.max_examples, dev.deadline, dev.derandomize) == (25, None, False)
    thorough = settings.get_profile("thorough")
    assert (thorough.max_examples, thorough.deadline) == (300, None)
    assert mt.register_profiles() == mt.PROFILE_NAMES  # registering twice is harmless


@pytest.mark.usefixtures("restore_profile")
def test_register_profiles_ignores_the_loaded_profile():
    mt.register_profiles()
    settings.load_profile("ci")
    mt.register_profiles()  # e.g. a second conftest; "dev" must not inherit derandomize
    assert settings.get_profile("dev").derandomize is False
    assert settings.get_profile("thorough").print_blob is False


@pytest.mark.usefixtures("restore_profile")
@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "dev"),
        ({"CI": "true"}, "ci"),
        ({"CI": "1", "HYPOTHESIS_PROFILE": "thorough"}, "ci"),
        ({"CI": "", "HYPOTHESIS_PROFILE": "thorough"}, "thorough"),
        ({"CI": "false"}, "dev"),
        ({"HYPOTHESIS_PROFILE": "ci"}, "ci"),
    ],
)
def test_load_profile_from_env(environ, expected):
    assert mt.load_profile_from_env(environ) == expected
    assert settings.default.max_examples == settings.get_profile(expected).max_examples
    assert settings.default.derandomize == (expected == "ci")


@pytest.mark.usefixtures("restore_profile")
def test_load_profile_from_env_rejects_unknown_profile():
    with pytest.raises(InvalidArgument):
        mt.load_profile_from_env({"HYPOTHESIS_PROFILE": "no-such-profile"})


@pytest.mark.usefixtures("restore_profile")
def test_load_profile_from_env_reads_os_environ(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "thorough")
    assert mt.load_profile_from_env() == "thorough"
    assert settings.default.max_examples == 300


# --------------------------------------------------------------------------- the module


@pytest.mark.usefixtures("restore_profile")
def test_docstring_examples_run():
    result = doctest.testmod(mt, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_public_name_has_a_docstring_example():
    for name in mt.__all__:
        obj = getattr(mt, name)
        if inspect.isfunction(obj):
            assert ">>>" in (obj.__doc__ or ""), name


def test_depends_on_numpy_and_hypothesis_only():
    tree = ast.parse(Path(mt.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "collections", "dataclasses", "math", "os"} | {
        "numpy",
        "hypothesis",
    }, imported
