"""Every op of the op table, on hypothesis-drawn shapes and values:

- autograd against central finite differences (float64), broadcasting included;
- second derivatives (gradgradcheck) where the first derivative is smooth;
- values and gradients against PyTorch, when it is installed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import testing as mt
from tests.op_table import OPS, OpCase

SHAPES = {
    "any": mt.shapes(max_dims=3, max_side=3),
    "nonscalar": mt.shapes(min_dims=1, max_dims=3, max_side=3),
    "matrix": mt.shapes(min_dims=2, max_dims=2, max_side=3),
    "3d": mt.shapes(min_dims=3, max_dims=3, max_side=3),
}


def _orthogonal(data: st.DataObject, batch: tuple[int, ...], n: int) -> np.ndarray:
    """An orthogonal matrix per batch entry: Q of the QR of a drawn well-conditioned one."""
    x = data.draw(mt.arrays((*batch, n, n), min_value=-1.0, max_value=1.0)) + 3 * np.eye(n)
    return np.linalg.qr(x)[0]


def draw_matrices(data: st.DataObject, kind: str) -> np.ndarray:
    """Well-conditioned (stacks of) matrices Q₁ diag(s) Q₂ᵀ, with |s| in [0.5, 2] and the
    s pairwise 0.1 apart (distinct eigen- and singular values): "square" (s of either
    sign), "spd" (Q₂ = Q₁, s > 0: symmetric positive definite) or "wellcond" (m × n)."""
    batch = data.draw(mt.shapes(min_dims=0, max_dims=1, max_side=2))
    m = data.draw(st.integers(1, 3))
    n = m if kind in ("square", "spd") else data.draw(st.integers(1, 3))
    k = min(m, n)
    s = data.draw(mt.arrays((*batch, k), min_value=0.5, max_value=2.0, distinct_gap=0.1))
    if kind == "square":
        s = s * np.where(data.draw(mt.arrays((*batch, k), avoid=(0.0,))) > 0, 1.0, -1.0)
    left = _orthogonal(data, batch, m)[..., :k]
    right = left if kind == "spd" else _orthogonal(data, batch, n)[..., :k]
    a = left @ (s[..., :, None] * np.swapaxes(right, -1, -2))
    return (a + np.swapaxes(a, -1, -2)) / 2 if kind == "spd" else a


def draw_inputs(data: st.DataObject, case: OpCase) -> list[np.ndarray]:
    values = dict(case.values)
    if case.shapes in ("square", "spd", "wellcond"):
        return [draw_matrices(data, case.shapes)]
    if case.shapes == "solve":  # b: one vector, or matrices with a's batch axes
        a = draw_matrices(data, "square")
        vector = data.draw(st.booleans())
        k = data.draw(st.integers(1, 3))
        shape = a.shape[-1:] if vector else (*a.shape[:-1], k)
        return [a, data.draw(mt.arrays(shape))]
    if case.shapes in ("broadcast", "matmul"):
        pairs = mt.broadcastable_shapes(max_side=3) if case.shapes == "broadcast" else None
        if case.shapes == "matmul":
            pairs = mt.matmul_shapes(max_batch_dims=1, max_side=3)
        return list(data.draw(mt.array_pairs(pairs, **values)))
    if case.shapes == "linear":
        batch = data.draw(mt.shapes(min_dims=0, max_dims=2, max_side=3))
        d, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
        return [data.draw(mt.arrays((*batch, d), **values)), data.draw(mt.arrays((k, d)))]
    if case.shapes in ("same", "matrices"):
        dims = 2 if case.shapes == "matrices" else 1
        shape = data.draw(mt.shapes(min_dims=dims, max_dims=2, max_side=3))
        return list(data.draw(mt.array_pairs(st.just((shape, shape)), **values)))
    shape = data.draw(SHAPES[case.shapes])
    return [data.draw(mt.arrays(shape, **values)) for _ in range(case.arity)]


@pytest.mark.parametrize("case", OPS, ids=str)
@settings(max_examples=12)
@given(data=st.data())
def test_gradient_matches_finite_differences(case: OpCase, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case)
    inputs = [mg.tensor(a, requires_grad=True) for a in arrays]
    assert mg.gradcheck(case.fn, *inputs)
    np.testing.assert_array_equal(inputs[0].data, arrays[0])  # gradcheck never mutates


@pytest.mark.parametrize("case", [c for c in OPS if c.second_order], ids=str)
@settings(max_examples=5)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(case: OpCase, data: st.DataObject) -> None:
    inputs = [mg.tensor(a, requires_grad=True) for a in draw_inputs(data, case)]
    assert mg.gradgradcheck(case.fn, *inputs)


@pytest.mark.parametrize("case", OPS, ids=str)
@settings(max_examples=10)
@given(data=st.data())
def test_matches_pytorch(case: OpCase, data: st.DataObject) -> None:
    torch = pytest.importorskip("torch")
    arrays = draw_inputs(data, case)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = case.fn(*ours)
    expected = (case.torch_fn or case.fn)(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)

    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in OPS if c.shapes != "matmul"], ids=str)
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(case: OpCase, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case)
    inputs = [mg.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out = case.fn(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for x in inputs:
        assert x.grad.dtype == np.float32
