"""PyTorch's spellings on minigrad tensors (issue 19, item 1), checked against PyTorch:
dim=/keepdim=, view, permute, numel, cat, stack, float/double, from_numpy, unsqueeze,
flatten, t.size, and the hints an unknown keyword gets."""

import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).normal(size=(3, 4, 5))


def pair(x=X):
    return mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def check(ours, theirs, a, ta):
    """Same values, and the same gradient for a weighted sum of the outputs."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(1).normal(size=ours.shape)
    (ours * mg.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp", "amax_like"])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_take_dim_and_keepdim_as_torch(name, dim, keepdim):
    a, ta = pair()
    if name == "amax_like":  # torch.amax is the reduction that takes a tuple of dims
        ours, theirs = a.max(axis=dim, keepdims=keepdim), ta.amax(dim=dim, keepdim=keepdim)
    else:
        ours = getattr(a, name)(dim=dim, keepdim=keepdim)
        if name == "prod" and isinstance(dim, tuple):  # torch.prod takes one dim
            theirs = ta.prod(dim=dim[1], keepdim=keepdim).prod(dim=dim[0], keepdim=keepdim)
        else:
            theirs = getattr(ta, name)(dim=dim, keepdim=keepdim)
    check(ours, theirs, a, ta)


def test_mg_functions_take_dim_too():
    a, ta = pair()
    check(mg.sum(a, dim=1, keepdim=True), torch.sum(ta, dim=1, keepdim=True), a, ta)
    a, ta = pair()
    check(mg.softmax(a, dim=1), torch.softmax(ta, dim=1), a, ta)
    a, ta = pair()
    check(mg.cumsum(a, dim=2), torch.cumsum(ta, dim=2), a, ta)


def test_argmax_and_max_with_dim_are_torchs():
    a, ta = pair()
    np.testing.assert_array_equal(a.argmax(dim=1).data, ta.argmax(dim=1).numpy())
    np.testing.assert_array_equal(
        mg.argmin(a, dim=2, keepdim=True).data, torch.argmin(ta, dim=2, keepdim=True).numpy()
    )
    for name in ("max", "min"):
        a, ta = pair()
        values, indices = getattr(a, name)(dim=1)
        theirs = getattr(ta, name)(dim=1)
        np.testing.assert_array_equal(indices.data, theirs.indices.numpy())
        check(values, theirs.values, a, ta)
        assert getattr(mg, name)(a, dim=0, keepdim=True).indices.shape == (1, 4, 5)
    # NumPy's spelling keeps NumPy's meaning: the values only
    assert isinstance(a.max(axis=1), mg.Tensor)


def test_both_spellings_at_once_are_refused():
    with pytest.raises(TypeError, match="both dim= and axis="):
        mg.tensor(X).sum(axis=0, dim=1)


@pytest.mark.parametrize(
    ("call", "hint"),
    [
        (lambda t: t.flatten(dim=0), r"\(start_dim, end_dim\)"),
        (lambda t: t.transpose(dim0=0, dim1=1), "swapaxes"),
        (lambda t: t.sum(axes=0), "axis"),
        (lambda t: mg.swapaxes(t, dim=0), "axis1 or axis2"),
        (lambda t: mg.std(t, dim=0), "ddof"),
        (lambda t: t.cumsum(dims=0), "axis"),
    ],
)
def test_unknown_keywords_name_the_right_one(call, hint):
    with pytest.raises(TypeError, match="unexpected keyword argument") as info:
        call(mg.tensor(X))
    assert re.search(hint, str(info.value)), str(info.value)


def test_view_permute_unsqueeze_flatten_as_torch():
    for ours_fn, torch_fn in [
        (lambda t: t.view(4, 15), lambda t: t.view(4, 15)),
        (lambda t: t.view(-1), lambda t: t.view(-1)),
        (lambda t: t.view((5, -1)), lambda t: t.view((5, -1))),
        (lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda t: t.permute((1, 2, 0)), lambda t: t.permute((1, 2, 0))),
        (lambda t: t.unsqueeze(dim=1), lambda t: t.unsqueeze(dim=1)),
        (lambda t: t.flatten(1), lambda t: t.flatten(1)),
        (lambda t: t.flatten(), lambda t: t.flatten()),
    ]:
        a, ta = pair()
        check(ours_fn(a), torch_fn(ta), a, ta)
    with pytest.raises(ValueError, match="needs 3 dims"):
        mg.tensor(X).permute(1, 0)


def test_cat_and_stack_with_dim():
    a, ta = pair()
    b, tb = pair(X[:, :2] * 2)
    ours = mg.cat([a, b], dim=1)
    theirs = torch.cat([ta, tb], dim=1)
    check(ours, theirs, a, ta)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy())
    a, ta = pair()
    check(mg.stack([a, a * 2], dim=2), torch.stack([ta, ta * 2], dim=2), a, ta)


def test_numel_float_double():
    t = mg.tensor(X)
    assert t.numel() == torch.tensor(X).numel() == 60
    a, ta = pair()
    f = a.float()
    assert f.dtype == np.float32 and ta.float().dtype == torch.float32
    check(f.double(), ta.float().double(), a, ta)
    assert f.double().dtype == np.float64
    assert t.double() is t


def test_size_is_numpys_count_an_exact_int_that_keeps_weak_promotion():
    """t.size is NumPy's count, an exact int: dividing a float16 or float32 tensor by it
    keeps the dtype, as dividing by x.size does in NumPy (an int subclass would not)."""
    t = mg.tensor(X)
    assert t.size == X.size and type(t.size) is int
    with pytest.raises(TypeError):
        t.size()  # PyTorch's t.size() is t.shape here
    for dtype in (np.float16, np.float32):
        half = mg.tensor(X.astype(dtype))
        assert (half / half.size).dtype == dtype
        assert mg.losses.mse(half, half * 0).dtype == dtype


def test_from_numpy_shares_memory_both_ways():
    x = np.arange(6.0).reshape(2, 3)
    t = mg.from_numpy(x)
    tt = torch.from_numpy(x.copy())
    assert t.dtype == x.dtype and t.shape == tuple(tt.shape)
    x[0, 0] = 7.0
    assert t.data[0, 0] == 7.0
    t.data[1, 2] = -1.0
    assert x[1, 2] == -1.0
    i = mg.from_numpy(np.arange(3))
    assert i.dtype == np.arange(3).dtype
    with pytest.raises(TypeError, match=r"expects an np\.ndarray, got list"):
        mg.from_numpy([1.0, 2.0])


def test_erf_matches_torch_value_and_gradient_and_second_derivative():
    x = np.linspace(-4, 4, 41)
    a, ta = pair(x)
    check(mg.erf(a), torch.erf(ta), a, ta)
    assert mg.gradgradcheck(mg.erf, mg.tensor(x[::5], requires_grad=True))
    assert mg.erf(mg.tensor(np.float32(0.5))).dtype == np.float32


AXIS_FUNCTIONS = ["sum", "mean", "prod", "logsumexp", "argmax", "argmin", "softmax",
                  "log_softmax", "cumsum", "cumprod", "flip", "sort", "max", "min"]  # fmt: skip


@pytest.mark.parametrize("name", AXIS_FUNCTIONS)
@settings(max_examples=15, deadline=None)
@given(axis=st.integers(-3, 2), keepdims=st.booleans())
def test_dim_and_keepdim_are_axis_and_keepdims_for_every_function(name, axis, keepdims):
    """mg.NAME(x, dim=d, keepdim=k) is mg.NAME(x, axis=d, keepdims=k), bit for bit."""
    fn = getattr(mg, name)
    params = inspect.signature(fn).parameters
    x = mg.tensor(X)
    numpy_kw, torch_kw = {"axis": axis}, {"dim": axis}
    if "keepdims" in params:
        numpy_kw["keepdims"], torch_kw["keepdim"] = keepdims, keepdims
    ours, expected = fn(x, **torch_kw), fn(x, **numpy_kw)
    if name in ("sort", "max", "min"):  # torch's (values, indices): compare the values
        ours = ours[0]
        expected = expected[0] if name == "sort" else expected
    np.testing.assert_array_equal(ours.data, expected.data)
