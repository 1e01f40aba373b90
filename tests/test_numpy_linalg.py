"""numpy.linalg on Tensors (issue 18): inv, solve, det, slogdet, cholesky, eigh, eigvalsh,
svd, norm (every ord), pinv, matrix_power.

Each function is checked on well-conditioned matrices (Q₁ diag(s) Q₂ᵀ with |s| in
[0.5, 2], distinct where eigen- or singular vectors are involved) against central finite
differences at first and second order, against torch.linalg, under ``mg.jit`` (eager's
bits on two different inputs), and in float32. Eigen- and singular vectors are tested
only through functions their signs do not change. Expected values come from NumPy,
PyTorch or independent formulas (minors, finite differences), never from minigrad.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch")
T = mg.ops.swapaxes  # a batched matrix transpose for minigrad tensors


def orthogonal(rng: np.random.Generator, batch: tuple[int, ...], n: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal((*batch, n, n)))[0]


def well_conditioned(seed: int, shape: tuple[int, ...], kind: str = "general") -> np.ndarray:
    """Q₁ diag(s) Q₂ᵀ of ``shape`` with s pairwise apart in [0.5, 2] ("general": random
    signs if square; "spd": Q₂ = Q₁, symmetric positive definite)."""
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    k = min(m, n)
    s = np.linspace(0.5, 2.0, k) if k > 1 else np.array([1.3])
    s = rng.permuted(np.broadcast_to(s, (*batch, k)), axis=-1)
    if kind == "general" and m == n:
        s = s * rng.choice([-1.0, 1.0], s.shape)
    left = orthogonal(rng, tuple(batch), m)[..., :k]
    right = left if kind == "spd" else orthogonal(rng, tuple(batch), n)[..., :k]
    a = left @ (s[..., :, None] * np.swapaxes(right, -1, -2))
    return (a + np.swapaxes(a, -1, -2)) / 2 if kind == "spd" else a


def sym(a):
    return (a + (a.mT if isinstance(a, torch.Tensor) else T(a))) / 2


def mT(a):
    return a.mT if isinstance(a, torch.Tensor) else T(a)


def const(x, values):
    """values as a constant of x's library and dtype."""
    if isinstance(x, torch.Tensor):
        return torch.tensor(values, dtype=x.dtype)
    return np.array(values, dtype=x.dtype)


def lib(x):
    """The linalg namespace of x's library: np.linalg for Tensors (dispatch), else torch's."""
    return torch.linalg if isinstance(x, torch.Tensor) else np.linalg


# name: (function of the inputs in any library, input arrays); the functions are written
# with np.linalg on minigrad Tensors (NumPy's dispatch) and torch.linalg on torch tensors
B3 = (2, 3, 3)
CASES = {
    "inv": (lambda a: lib(a).inv(a), [well_conditioned(1, B3)]),
    "solve_vector": (lambda a, b: lib(a).solve(a, b), [well_conditioned(2, B3), np.arange(3.0)]),
    "solve_matrices": (
        lambda a, b: lib(a).solve(a, b),
        [well_conditioned(3, B3), np.random.default_rng(3).standard_normal((2, 3, 2))],
    ),
    "solve_broadcast_a": (
        lambda a, b: lib(a).solve(a, b),
        [well_conditioned(4, (3, 3)), np.random.default_rng(4).standard_normal((2, 3, 2))],
    ),
    "det": (lambda a: lib(a).det(a), [well_conditioned(5, B3)]),
    "slogdet": (lambda a: lib(a).slogdet(a)[1], [well_conditioned(6, B3)]),
    "slogdet_signed": (
        lambda a: lib(a).slogdet(a)[0] * lib(a).slogdet(a)[1],
        [well_conditioned(7, (4, 4))],
    ),
    "cholesky": (lambda a: lib(a).cholesky(sym(a)), [well_conditioned(8, B3, "spd")]),
    "cholesky_upper": (
        lambda a: lib(a).cholesky(sym(a), upper=True),
        [well_conditioned(9, (3, 3), "spd")],
    ),
    "eigh_values": (lambda a: lib(a).eigh(sym(a))[0], [well_conditioned(10, B3, "spd")]),
    "eigvalsh": (lambda a: lib(a).eigvalsh(sym(a)), [well_conditioned(11, (4, 4))]),
    "eigh_vectors_squared": (
        lambda a: lib(a).eigh(sym(a))[1] ** 2,
        [well_conditioned(12, B3, "spd")],
    ),
    "eigh_weighted_projections": (  # Σᵢ wᵢ vᵢvᵢᵀ with weights of our own: not A itself
        lambda a: (lambda w, v: (v * const(v, [1.0, -2.0, 0.5])) @ mT(v) + w.sum())(
            *lib(a).eigh(sym(a))
        ),
        [well_conditioned(13, (3, 3), "spd")],
    ),
    "eigh_upper": (
        lambda a: lib(a).eigh(sym(a), UPLO="U")[1] ** 2,
        [well_conditioned(14, (3, 3), "spd")],
    ),
    "svd_values_tall": (lambda a: lib(a).svd(a)[1], [well_conditioned(15, (4, 2))]),
    "svd_values_only": (
        lambda a: lib(a).svdvals(a) if lib(a) is torch.linalg else lib(a).svd(a, compute_uv=False),
        [well_conditioned(16, (2, 2, 3))],
    ),
    "svd_u_squared_tall": (
        lambda a: lib(a).svd(a, full_matrices=False)[0] ** 2,
        [well_conditioned(17, (4, 2))],
    ),
    "svd_vh_squared_wide": (
        lambda a: lib(a).svd(a, full_matrices=False)[2] ** 2,
        [well_conditioned(18, (2, 4))],
    ),
    "svd_u_projection_wide": (
        lambda a: (lambda u: u @ (mT(u) * const(u, [[1.0], [3.0]])))(
            lib(a).svd(a, full_matrices=False)[0]
        ),
        [well_conditioned(19, (2, 2, 4))],
    ),
    "svd_vh_projection_tall": (
        lambda a: (lambda vh: mT(vh) @ (vh * const(vh, [[2.0], [-1.0]])))(
            lib(a).svd(a, full_matrices=False)[2]
        ),
        [well_conditioned(20, (4, 2))],
    ),
    "svd_full_square": (
        lambda a: (lambda r: r[0] ** 2 + r[2] ** 2)(lib(a).svd(a)),
        [well_conditioned(21, (3, 3))],
    ),
    "pinv_tall": (lambda a: lib(a).pinv(a), [well_conditioned(22, (4, 2))]),
    "pinv_wide_batched": (lambda a: lib(a).pinv(a), [well_conditioned(23, (2, 2, 3))]),
    **{
        f"matrix_power_{n}".replace("-", "minus_"): (
            lambda a, n=n: lib(a).matrix_power(a, n),
            [well_conditioned(24 + n, B3)],
        )
        for n in (0, 1, 2, 3, 4, 7, -1, -3)
    },
}
TORCH_ONLY = {"matrix_power_0"}  # x ↦ I: no graph in PyTorch to compare gradients with


def tensors(arrays, dtype=np.float64):
    return [mg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_match_finite_differences_at_first_and_second_order(name):
    fn, arrays = CASES[name]
    assert mg.gradcheck(fn, *tensors(arrays))
    assert mg.gradgradcheck(fn, *tensors(arrays))


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_pytorch(name):
    fn, arrays = CASES[name]
    ours = tensors(arrays)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), fn(*theirs)
    assert isinstance(out, mg.Tensor) and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    if name in TORCH_ONLY:
        assert all(np.all(x.grad.numpy() == 0) for x in ours)
        return
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", list(CASES))
def test_jit_equals_eager_on_two_inputs(name):
    fn, arrays = CASES[name]

    # a weighted sum, not Σ out²: the jit writes a sum of squares as one dot product,
    # which reassociates (README, "Compiled mode"), and this test wants eager's bits
    def loss(*xs):
        out = fn(*xs)
        return (out * (np.cos(np.arange(out.size)).reshape(out.shape) + 2.0)).sum()

    fast = mg.jit(mg.value_and_grad(loss, argnums=0))
    noise = np.random.default_rng(5).standard_normal(arrays[0].shape)
    if noise.shape[-1] == noise.shape[-2]:  # symmetric: positive definite stays so
        noise = noise + np.swapaxes(noise, -1, -2)
    for shift in (0.0, 0.02):
        inputs = [arrays[0] + shift * noise, *arrays[1:]]
        value, grad = fast(*inputs)
        xs = tensors(inputs)
        eager = loss(*xs)
        eager.backward()
        for got, want in ((value, eager), (grad, xs[0].grad)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    # NumPy's own calls; matrix_power is NumPy's sequence of products (and inv), A⁰ = I
    # and A¹ = A need neither
    if name not in ("matrix_power_0", "matrix_power_1"):
        assert ("np.linalg." if "power" not in name else " @ ") in fast.source


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name):
    fn, arrays = CASES[name]
    xs = tensors(arrays, np.float32)
    out = fn(*xs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert all(x.grad.dtype == np.float32 for x in xs)


@pytest.mark.parametrize(
    ("call", "array"),
    [
        (lambda a: np.linalg.inv(a), well_conditioned(1, B3)),
        (lambda a: np.linalg.solve(a, np.ones(3)), well_conditioned(2, (3, 3))),
        (lambda a: np.linalg.det(a), well_conditioned(3, B3)),
        (lambda a: np.linalg.slogdet(a).logabsdet, well_conditioned(4, (3, 3))),
        (lambda a: np.linalg.slogdet(a).sign, -well_conditioned(5, (3, 3), "spd")),
        (lambda a: np.linalg.cholesky(a), well_conditioned(6, B3, "spd")),
        # each reads its own triangle (here they differ)
        (
            lambda a: np.linalg.cholesky(a),
            well_conditioned(6, (3, 3), "spd") + np.triu(np.ones(3), 1) / 9,
        ),
        (
            lambda a: np.linalg.cholesky(a, upper=True),
            well_conditioned(6, (3, 3), "spd") + np.triu(np.ones(3), 1) / 9,
        ),
        (lambda a: np.linalg.eigh(a).eigenvectors, well_conditioned(7, (3, 3), "spd")),
        (lambda a: np.linalg.eigh(a, "U").eigenvalues, well_conditioned(8, (3, 3))),
        (lambda a: np.linalg.eigvalsh(a), well_conditioned(9, (3, 3))),
        (lambda a: np.linalg.svd(a).U, well_conditioned(10, (4, 3))),
        (lambda a: np.linalg.svd(a).Vh, well_conditioned(11, (2, 4))),
        (lambda a: np.linalg.svd(a, full_matrices=False).S, well_conditioned(12, (2, 4))),
        (lambda a: np.linalg.pinv(a), well_conditioned(13, (4, 3))),
        (lambda a: np.linalg.pinv(a, rtol=None), well_conditioned(13, (4, 3))),
        (lambda a: np.linalg.matrix_power(a, 6), well_conditioned(14, B3)),
        (lambda a: np.linalg.matrix_power(a, -2), well_conditioned(15, (3, 3))),
        (
            lambda a: np.linalg.norm(a, "nuc", axis=(2, 0), keepdims=True),
            np.arange(24.0).reshape(2, 3, 4),
        ),
    ],
)
def test_numpy_dispatches_to_the_ops_with_numpys_values(call, array):
    x = mg.tensor(array, requires_grad=True)
    got = call(x)
    assert isinstance(got, mg.Tensor)
    np.testing.assert_array_equal(got.numpy(), call(array))  # NumPy's calls: its bits


# --- norm: every ord, against NumPy's values and PyTorch's gradients at kinks -------------

VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, 1.5, -1, -2.5]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


def torch_vector_norm(t, ord, axis, keepdims):
    return torch.linalg.vector_norm(t, 2 if ord is None else ord, dim=axis, keepdim=keepdims)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0, 0.5]), min_size=6, max_size=6),
    ord=st.sampled_from(VECTOR_ORDS),
    axis=st.sampled_from([None, 0, 1, -1]),
    keepdims=st.booleans(),
)
def test_vector_norms_match_numpy_and_pytorch_at_zeros_and_ties(values, ord, axis, keepdims):
    """Values drawn from a handful of numbers: zeros and ties (the kinks) are common."""
    a = np.array(values).reshape(2, 3)
    if axis is None:
        a = a.reshape(-1)
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with np.errstate(divide="ignore"):  # NumPy's own 0 ** negative p
        out, expected = (
            np.linalg.norm(x, ord, axis, keepdims),
            np.linalg.norm(a, ord, axis, keepdims),
        )
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    theirs = torch_vector_norm(t, ord, axis, keepdims)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    theirs.backward(torch.tensor(upstream))
    reference = np.zeros_like(a) if t.grad is None else t.grad.numpy()  # ord 0: no graph
    np.testing.assert_allclose(x.grad.numpy(), reference, rtol=1e-10, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0]), min_size=12, max_size=12),
    ord=st.sampled_from(MATRIX_ORDS),
    axes=st.sampled_from([None, (0, 1), (1, 0), (-1, -2), (2, 0), (0, 2)]),
    keepdims=st.booleans(),
)
def test_matrix_norms_match_numpy_and_pytorch_at_zeros_and_ties(values, ord, axes, keepdims):
    a = np.array(values).reshape(2, 3, 2)
    if axes is None or max(axes) < 2:
        a = a.reshape(6, 2) if axes is None else a.reshape(2, 6)
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, expected = np.linalg.norm(x, ord, axes, keepdims), np.linalg.norm(a, ord, axes, keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    if ord in (2, -2, "nuc"):
        s = np.linalg.svd(np.moveaxis(a, axes or (0, 1), (-2, -1)), compute_uv=False)
        if np.any(np.isclose(s[..., :, None], s[..., None, :]) & ~np.eye(s.shape[-1], dtype=bool)):
            return  # repeated singular values: any U diag(ḡ) Vᵀ of a gauge, not PyTorch's
    dims = (0, 1) if axes is None else axes
    theirs = torch.linalg.matrix_norm(t, "fro" if ord is None else ord, dim=dims, keepdim=keepdims)
    upstream = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(upstream)
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("ord", [3, 0.5, 1.5, -1, -2.5, None, 2])
def test_vector_norms_second_order_away_from_zeros(ord):
    x = mg.tensor([[0.7, -1.3, 2.1], [1.1, 0.4, -0.6]], requires_grad=True)
    assert mg.gradgradcheck(lambda v: mg.linalg.norm(v, ord, axis=1), x)


def test_p_norm_create_graph_at_zeros_is_finite():
    """A zero entry (or a zero vector) takes PyTorch's 0 and stays finite at second order."""
    for values in ([0.0, 3.0, -4.0], [0.0, 0.0, 0.0]):
        x = mg.tensor(values, requires_grad=True)
        (g,) = mg.autograd.grad(mg.linalg.norm(x, 3), [x], create_graph=True)
        (h,) = mg.autograd.grad((g * g).sum(), [x])
        assert np.all(np.isfinite(h.numpy()))
        assert g.numpy()[0] == 0.0


@pytest.mark.parametrize(
    ("ord", "shape", "error"),
    [
        ("fro", (3,), ValueError),
        ("nuc", (3,), ValueError),
        ("bad", (2, 2), ValueError),
        (3, (2, 2), ValueError),
        (None, (2, 2, 2), None),  # ord None: the norm of every element
        (2, (2, 2, 2), ValueError),
    ],
)
def test_norm_orders_numpy_refuses_are_refused(ord, shape, error):
    a = np.arange(np.prod(shape), dtype=float).reshape(shape)
    if error is None:
        np.testing.assert_allclose(mg.linalg.norm(a, ord).item(), np.linalg.norm(a, ord))
        return
    with pytest.raises(error):
        np.linalg.norm(a, ord)
    with pytest.raises(error):
        mg.linalg.norm(mg.tensor(a, requires_grad=True), ord)


# --- conventions: degenerate spectra, full bases, singular matrices, the sign -------------


def test_repeated_eigenvalues_give_non_finite_vector_gradients_like_pytorch():
    a = np.diag([1.0, 1.0, 2.0])  # eigenvectors of the repeated 1 are any basis of a plane
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (np.linalg.eigh(x)[1] ** 2 * np.arange(9.0).reshape(3, 3)).sum().backward()
    (torch.linalg.eigh(t)[1] ** 2 * torch.arange(9.0).reshape(3, 3)).sum().backward()
    assert not np.all(np.isfinite(x.grad.numpy()))
    assert not torch.all(torch.isfinite(t.grad))
    y = mg.tensor(a, requires_grad=True)  # the eigenvalues stay differentiable: V diag(ḡ) Vᵀ
    (np.linalg.eigvalsh(y) * np.array([1.0, 1.0, 3.0])).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), np.diag([1.0, 1.0, 3.0]), atol=1e-15)


@pytest.mark.parametrize(("shape", "part"), [((4, 2), 0), ((2, 4), 2)])
def test_svd_vector_gradients_of_a_full_basis_are_refused(shape, part):
    x = mg.tensor(well_conditioned(30, shape), requires_grad=True)
    with pytest.raises(ValueError, match="full_matrices=False"):
        (np.linalg.svd(x)[part] ** 2).sum().backward()
    np.linalg.svd(x)[2 - part].sum().backward()  # the other one is not extended: fine


def cofactors(a: np.ndarray) -> np.ndarray:
    """(adj A)ᵀ from its definition: signed minors."""
    n = a.shape[0]
    return np.array(
        [
            [(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) for j in range(n)]
            for i in range(n)
        ]
    )


@pytest.mark.parametrize(
    "a",
    [
        np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),  # rank 2
        np.outer([1.0, 2.0, -1.0], [0.5, 1.0, 2.0]),  # rank 1: the cofactors vanish
        np.zeros((2, 2)),
        np.zeros((1, 1)),  # det x = x: gradient 1
        well_conditioned(31, (4, 4)),
    ],
)
def test_det_gradient_is_the_cofactor_matrix_even_at_singular_matrices(a):
    x = mg.tensor(a, requires_grad=True)
    np.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), cofactors(a), atol=1e-12)
    assert mg.gradcheck(mg.linalg.det, mg.tensor(a, requires_grad=True))


def test_slogdet_sign_has_no_gradient_and_logabsdet_does():
    a = -well_conditioned(32, (3, 3), "spd")  # det < 0
    x = mg.tensor(a, requires_grad=True)
    sign, logabsdet = np.linalg.slogdet(x)
    assert sign.item() == -1.0 and not sign.requires_grad and logabsdet.requires_grad
    logabsdet.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.linalg.inv(a).T, rtol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: np.linalg.inv(a),
        lambda a: np.linalg.solve(a, np.ones(2)),
        lambda a: np.linalg.cholesky(a),
    ],
)
def test_singular_matrices_raise_numpys_linalgerror_eager_and_compiled(call):
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError):
        call(mg.tensor(singular, requires_grad=True))
    fast = mg.jit(lambda a: call(a).sum())
    fast(np.eye(2) * 2)  # traced on a good matrix
    with pytest.raises(np.linalg.LinAlgError):
        fast(singular)


def test_matrix_power_refuses_what_numpy_refuses():
    with pytest.raises(TypeError, match="integer"):
        mg.linalg.matrix_power(mg.tensor(np.eye(2)), 1.5)
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        mg.linalg.matrix_power(mg.tensor(np.ones((2, 3))), 2)


def test_the_derivatives_read_in_the_source():
    fast = mg.jit(mg.grad(lambda a: np.linalg.eigvalsh(a)[-1] + np.linalg.inv(a).sum()))
    fast(well_conditioned(33, (3, 3), "spd"))
    assert "np.linalg.eigh(" in fast.source and "∂λᵢ/∂A = vᵢvᵢᵀ" in fast.source
    assert "np.linalg.inv(" in fast.source and "−A⁻ᵀ g A⁻ᵀ" in fast.source


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
@pytest.mark.parametrize(
    "call",
    [
        lambda a: np.linalg.inv(a),
        lambda a: np.linalg.solve(a, np.ones(a.shape[-1])),
        lambda a: np.linalg.det(a),  # 1 for a 0 × 0 matrix: the empty product
        lambda a: np.linalg.slogdet(a)[1],
        lambda a: np.linalg.cholesky(a),
        lambda a: np.linalg.eigh(a)[1],
        lambda a: np.linalg.svd(a, full_matrices=False)[0],
        lambda a: np.linalg.pinv(a),
        lambda a: np.linalg.matrix_power(a, 3),
        lambda a: np.linalg.norm(a, 1, axis=0),
    ],
)
def test_empty_matrices_give_numpys_values_and_empty_gradients(call, shape):
    x = mg.tensor(np.zeros(shape), requires_grad=True)
    out = call(x)
    np.testing.assert_array_equal(out.numpy(), call(np.zeros(shape)))
    out.sum().backward()
    assert x.grad.shape == shape


def test_det_second_derivative_at_a_singular_matrix_raises_rather_than_guesses():
    """The cofactor's own rule needs A⁻¹ (a known limit: PyTorch gets this 2 × 2 right)."""
    x = mg.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    (g,) = mg.autograd.grad(np.linalg.det(x), [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-14)
    with pytest.raises(np.linalg.LinAlgError):
        mg.autograd.grad(g.sum(), [x])


# --- eigh and cholesky read one triangle: the gradient is exact for that function -------


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize(
    "f",
    [
        lambda a, uplo: (np.linalg.eigvalsh(a, UPLO=uplo) ** 3).sum(),
        lambda a, uplo: (np.linalg.eigh(a, UPLO=uplo)[0] * np.arange(1.0, 5.0)).sum(),
        lambda a, uplo: (
            np.linalg.eigh(a, UPLO=uplo)[1] ** 2 * np.arange(16.0).reshape(4, 4)
        ).sum(),
    ],
    ids=["eigvalsh", "eigh_values", "eigh_vectors_squared"],
)
def test_eigh_of_a_matrix_that_is_not_symmetric_has_the_gradient_of_numpys_function(f, uplo):
    """NumPy's eigh reads only the UPLO triangle: finite differences of that function (on a
    matrix whose two triangles differ) are the truth, and the other triangle gets 0."""
    a = np.random.default_rng(7).standard_normal((4, 4)) + np.diag([4.0, 1.0, -2.0, 6.0])
    x = mg.tensor(a, requires_grad=True)
    assert mg.gradcheck(lambda t: f(t, uplo), x)
    assert mg.gradgradcheck(lambda t: f(t, uplo), x, atol=1e-4)
    g = mg.grad(lambda t: f(t, uplo))(a).numpy()
    unread = np.triu(g, 1) if uplo == "L" else np.tril(g, -1)
    np.testing.assert_array_equal(unread, 0.0)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_of_a_matrix_that_is_not_symmetric_has_the_gradient_of_numpys_function(upper):
    rng = np.random.default_rng(8)
    b = rng.standard_normal((4, 4))
    a = b @ b.T + 4 * np.eye(4) + 0.5 * np.triu(rng.standard_normal((4, 4)), 1)  # not symmetric
    weights = np.arange(16.0).reshape(4, 4)

    def f(t):
        return (np.linalg.cholesky(t, upper=upper) * weights).sum()

    x = mg.tensor(a, requires_grad=True)
    assert mg.gradcheck(f, x)
    assert mg.gradgradcheck(f, x, atol=1e-4)
    g = mg.grad(f)(a).numpy()
    np.testing.assert_array_equal(np.tril(g, -1) if upper else np.triu(g, 1), 0.0)
