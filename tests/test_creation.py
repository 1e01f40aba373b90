"""Tests for the tensor constructors (minigrad.creation) and the random state
(minigrad.random), against NumPy, statistics and the same calls in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

# --------------------------------------------------------------- zeros, ones, full, eye


@pytest.mark.parametrize("fn, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_and_ones_take_ints_or_one_sequence(fn, value):
    for args, shape in [((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([4],), (4,)), (((),), ())]:
        t = fn(*args)
        assert isinstance(t, mg.Tensor) and t.shape == shape and t.dtype == np.float64
        assert np.all(t.numpy() == value)
        assert t.is_leaf and not t.requires_grad
    assert fn(0, 3).shape == (0, 3)
    assert fn(2, dtype=np.float32).dtype == np.float32
    assert fn(2, dtype="int64").tolist() == [int(value)] * 2
    t = fn(2, requires_grad=True)
    (t * 3.0).sum().backward()
    assert t.grad.tolist() == [3.0, 3.0]


def test_full_infers_the_dtype_from_the_value_as_torch_does():
    assert mg.full((2, 2), 7.5).tolist() == [[7.5, 7.5], [7.5, 7.5]]
    assert mg.full((2,), 3).dtype == np.int64
    assert mg.full((2,), True).dtype == np.bool_
    assert mg.full((2,), 3.0).dtype == np.float64  # float64, where torch says float32
    assert mg.full(3, 1.0).shape == (3,)
    assert mg.full((2,), 3, dtype=np.float32).dtype == np.float32
    assert mg.full((), mg.tensor(2.0)).item() == 2.0
    assert mg.full((2,), 1.0, requires_grad=True).requires_grad
    torch = pytest.importorskip("torch")
    for value in (3, True):
        assert str(mg.full((1,), value).dtype) == str(torch.full((1,), value).dtype).split(".")[1]


def test_eye():
    assert mg.eye(3).tolist() == np.eye(3).tolist()
    assert mg.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert mg.eye(3, 1).tolist() == [[1.0], [0.0], [0.0]]
    assert mg.eye(0).shape == (0, 0)
    assert mg.eye(2, dtype=np.float32).dtype == np.float32
    assert mg.eye(2, requires_grad=True).requires_grad


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: mg.zeros(-1), ValueError, r"zeros: sizes must be ≥ 0, got \(-1,\)"),
        (lambda: mg.ones(2.0), TypeError, r"ones: sizes must be integers, got \(2.0,\)"),
        (lambda: mg.zeros(True), TypeError, "sizes must be integers"),
        (lambda: mg.full((2,), "a"), TypeError, "full: fill_value must be a real number"),
        (lambda: mg.full((2,), [1.0, 2.0]), TypeError, "fill_value must be a real number"),
        (lambda: mg.eye(2, -1), ValueError, "eye: sizes must be ≥ 0"),
        (lambda: mg.zeros(2, dtype="complex128"), TypeError, "dtype must be a bool, integer"),
        (lambda: mg.zeros(2, dtype="nonsense"), TypeError, "zeros: 'nonsense' is not a dtype"),
        (
            lambda: mg.zeros(2, dtype=np.int64, requires_grad=True),
            TypeError,
            "zeros: only floating-point tensors can require gradients, got dtype int64",
        ),
        (lambda: mg.full((1,), 2, requires_grad=True), TypeError, "full: only floating-point"),
        (lambda: mg.rand(2, dtype=np.int64), TypeError, "rand: dtype must be a floating-point"),
    ],
)
def test_constructor_errors_name_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------------------ arange


@pytest.mark.parametrize(
    "args",
    [(5,), (2, 7), (0, 10, 3), (5, 0, -2), (0, 1, 0.25), (0.0, 1.0, 0.1), (-1.5, 2.5, 0.5),
     (1, 1), (3, 0, -1), (0, 1, 0.3)],
)  # fmt: skip
def test_arange_matches_torch(args):
    torch = pytest.importorskip("torch")
    got = mg.arange(*args)
    expected = torch.arange(*args, dtype=torch.float64 if got.dtype == np.float64 else None)
    assert got.shape == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    integral = all(isinstance(a, int) for a in args)
    assert got.dtype == (np.int64 if integral else np.float64)
    assert str(expected.dtype) == ("torch.int64" if integral else "torch.float64")


def test_arange_by_hand():
    assert mg.arange(4).tolist() == [0, 1, 2, 3]
    assert mg.arange(1, 2, 0.5).tolist() == [1.0, 1.5]
    assert mg.arange(3, dtype=np.float32).dtype == np.float32
    t = mg.arange(3.0, requires_grad=True)
    (t * t).sum().backward()
    assert t.grad.tolist() == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((0, 5, 0), ValueError, "arange: step must be nonzero"),
        ((0, 5, -1), ValueError, "the step -1 points away from end: start=0, end=5"),
        ((5, 0), ValueError, "the step 1 points away from end: start=5, end=0"),
        ((0, float("inf")), ValueError, "arange: end must be finite"),
        (("3",), TypeError, "arange: end must be a real number, got '3'"),
        ((0, 3, True), TypeError, "arange: step must be a real number"),
    ],
)
def test_arange_errors(args, error, match):
    with pytest.raises(error, match=match):
        mg.arange(*args)


# ------------------------------------------------------------------ zeros_like, ones_like


def test_zeros_like_and_ones_like_keep_shape_and_dtype():
    source = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    z = mg.zeros_like(source)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.requires_grad
    assert not z.numpy().any()
    assert mg.ones_like(np.arange(3)).tolist() == [1, 1, 1]  # int64, as the input
    assert mg.zeros_like([[1.0, 2.0]], dtype=np.float32).dtype == np.float32
    assert mg.zeros_like(source, requires_grad=True).requires_grad
    assert mg.zeros_like(source).numpy() is not source.numpy()
    with pytest.raises(TypeError, match="zeros_like: only floating-point"):
        mg.zeros_like(np.arange(3), requires_grad=True)


# -------------------------------------------------------------------- rand, randn, seeds


def test_rand_is_uniform_on_zero_one():
    x = mg.rand(100_000, seed=0).numpy()
    assert x.min() >= 0 and x.max() < 1 and x.dtype == np.float64
    # mean 1/2 and variance 1/12, each within ~5 standard errors of 100,000 draws
    assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / 1e5)
    assert abs(x.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / 1e5)


def test_randn_is_standard_normal():
    x = mg.randn(200, 500, seed=0).numpy()
    assert x.shape == (200, 500)
    assert abs(x.mean()) < 5 / np.sqrt(1e5)
    assert abs(x.std() - 1) < 5 * np.sqrt(0.5 / 1e5)
    assert abs((np.abs(x) < 1).mean() - 0.6827) < 0.005  # the normal's 68 %


def test_rand_and_randn_seed_rng_dtype_and_requires_grad():
    assert mg.rand(3, seed=1).tolist() == np.random.default_rng(1).random(3).tolist()
    assert mg.randn(3, seed=1).tolist() == np.random.default_rng(1).standard_normal(3).tolist()
    rng = np.random.default_rng(2)
    a, b = mg.rand(3, rng=rng), mg.rand(3, rng=rng)
    assert a.tolist() != b.tolist()  # the generator advanced
    x32 = mg.randn(4, seed=3, dtype=np.float32)
    assert x32.dtype == np.float32
    np.testing.assert_array_equal(x32.numpy(), mg.randn(4, seed=3).numpy().astype(np.float32))
    assert mg.rand((2, 2), requires_grad=True).requires_grad
    assert mg.rand().shape == ()


def test_manual_seed_resets_the_default_generator_in_place():
    generator = mg.random.default_generator
    assert mg.manual_seed(123) is generator
    first = mg.randn(5).tolist()
    mg.manual_seed(123)
    assert mg.randn(5).tolist() == first
    assert mg.initial_seed() == 123
    assert mg.manual_seed(np.int64(123)) is generator
    assert mg.randn(5).tolist() == first


@pytest.mark.parametrize("seed", [-1, 1.5, "1", None, True])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="a seed must be an integer ≥ 0"):
        mg.manual_seed(seed)


def test_fresh_processes_start_from_different_seeds():
    import subprocess
    import sys

    code = "import minigrad as mg; print(mg.initial_seed(), mg.rand(2).tolist())"
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
        for _ in range(2)
    }
    assert len(outputs) == 2  # OS entropy, as torch's default generator
