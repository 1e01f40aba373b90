"""Errors are part of minigrad's interface: the exception type, and a message that names the
op and the shapes or values that were wrong (never a bare NumPy traceback or a silent nan).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg


def shape_text(shape: tuple[int, ...]) -> str:
    """A regex matching ``shape`` as a tuple, with or without spaces after commas."""
    return r"\(" + r",\s?".join(str(n) for n in shape) + (r",\)" if len(shape) == 1 else r"\)")


def assert_names(message: str, *patterns: str) -> None:
    for p in patterns:
        assert re.search(p, message), f"{p!r} not in {message!r}"


# =========================================================================================
# shapes
# =========================================================================================


def test_shape_error_is_a_value_error():
    assert issubclass(mg.ShapeError, ValueError)


def test_matmul_incompatible_shapes():
    a, b = mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4, 5)))
    with pytest.raises(mg.ShapeError) as info:
        a @ b
    assert_names(str(info.value), "matmul", shape_text((2, 3)), shape_text((4, 5)))
    # the same through the reflected operator with an ndarray on the left
    with pytest.raises(mg.ShapeError) as info:
        np.ones((4, 5)) @ mg.tensor(np.ones((2, 3)), requires_grad=True)
    assert_names(str(info.value), "matmul", shape_text((4, 5)), shape_text((2, 3)))


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("add", lambda a, b: a + b),
        ("mul", lambda a, b: a * b),
        ("sub", lambda a, b: a - b),
        ("div", lambda a, b: a / b),
    ],
)
def test_failed_broadcast_names_op_and_shapes(name, fn):
    a = mg.tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.tensor(np.ones((4,)))
    with pytest.raises(mg.ShapeError) as info:
        fn(a, b)
    assert_names(str(info.value), rf"\b{name}\b", shape_text((2, 3)), shape_text((4,)))
    with pytest.raises(mg.ShapeError) as info:
        fn(np.ones((4,)), a)  # reflected, ndarray first
    assert_names(str(info.value), rf"\b{name}\b", shape_text((4,)), shape_text((2, 3)))


@pytest.mark.parametrize("name", ["l1_loss", "mae", "l2_loss", "mse", "rmse", "huber"])
def test_loss_refuses_column_vs_flat_shapes(name):
    # (N, 1) against (N,) would broadcast to an (N, N) table of every pair: must raise
    n = 4
    pred = mg.tensor(np.arange(n, dtype=float).reshape(n, 1), requires_grad=True)
    target = mg.tensor(np.arange(n, dtype=float))
    loss = mg.losses.get(name)
    with pytest.raises(mg.ShapeError) as info:
        loss(pred, target)
    assert_names(str(info.value), name, shape_text((n, 1)), shape_text((n,)))
    with pytest.raises(mg.ShapeError):
        loss(target, pred)  # and the other way round


def test_loss_errors_on_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        mg.losses.mse(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="delta") as info:
        mg.losses.huber(np.zeros(2), np.zeros(2), delta=0.0)
    assert "0.0" in str(info.value)


def test_backward_wrong_gradient_shape():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(mg.ShapeError) as info:
        y.backward(gradient=np.ones((3, 2)))
    assert_names(str(info.value), "gradient", shape_text((3, 2)), shape_text((2, 3)))
    assert x.grad is None  # nothing was accumulated


@pytest.mark.parametrize(
    ("method", "axis"),
    [("sum", 2), ("mean", -3), ("max", 5), ("min", 2), ("sum", (0, 2))],
)
def test_out_of_range_axis(method, axis):
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(mg.ShapeError) as info:
        getattr(x, method)(axis=axis)
    bad = axis if isinstance(axis, int) else 2
    assert_names(str(info.value), rf"axis {bad}\b", r"\b2 dimensions")


@pytest.mark.parametrize("join", [mg.concatenate, mg.stack])
def test_out_of_range_axis_when_joining(join):
    x = mg.tensor(np.ones((2, 3)))
    with pytest.raises(mg.ShapeError, match=join.__name__) as info:
        join([x, x], axis=4)
    assert "4" in str(info.value)


def test_reshape_to_a_wrong_size():
    with pytest.raises(mg.ShapeError) as info:
        mg.tensor(np.ones((2, 3))).reshape(4, 2)
    assert_names(str(info.value), "reshape", shape_text((2, 3)), r"\(4,\s?2\)")


# =========================================================================================
# backward preconditions
# =========================================================================================


def test_backward_on_non_scalar_needs_gradient():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 3.0
    with pytest.raises(RuntimeError, match="gradient") as info:
        y.backward()
    assert re.search(shape_text((2,)), str(info.value))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match=r"requires? grad"):
        (mg.tensor([1.0, 2.0]) * 3.0).sum().backward()
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = (x * 3.0).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()
    assert x.grad is None


def test_requires_grad_false_on_non_leaf():
    y = mg.tensor([1.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


# =========================================================================================
# types
# =========================================================================================


@pytest.mark.parametrize(
    ("fn", "other"),
    [
        (lambda t: t + "a", "str"),
        (lambda t: "a" + t, "str"),
        (lambda t: t * None, "NoneType"),
        (lambda t: None * t, "NoneType"),
        (lambda t: t - {1: 2}, "dict"),
    ],
)
def test_unsupported_operand_types(fn, other):
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        fn(t)
    assert not isinstance(info.value, ValueError)
    assert_names(str(info.value), r"\bTensor\b", rf"\b{other}\b")


def test_matmul_with_unsupported_operand_type():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        t @ object()
    assert not isinstance(info.value, ValueError)
    assert_names(str(info.value), "matmul", r"\bTensor\b", r"\bobject\b")


@pytest.mark.parametrize(
    "data",
    [["a"], ["1.0", "2.0"], [{"a": 1}], [object()]],
    ids=["str", "numeric-str", "dict", "object"],
)
def test_tensor_from_non_numeric_data(data):
    with pytest.raises(TypeError, match="Tensor"):
        mg.tensor(data)
    with pytest.raises(TypeError, match="Tensor"):
        mg.Tensor(data, requires_grad=True)


def test_complex_tensor_requiring_grad():
    with pytest.raises(TypeError, match="complex"):
        mg.tensor([1 + 2j], requires_grad=True)


def test_item_on_multi_element_tensor():
    with pytest.raises(ValueError, match="item") as info:
        mg.tensor([[1.0, 2.0]]).item()
    assert re.search(shape_text((1, 2)), str(info.value))
    assert mg.tensor([[3.5]]).item() == 3.5  # one element is fine, any shape


def test_len_of_0d_tensor():
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))


# =========================================================================================
# in-place updates
# =========================================================================================


@pytest.mark.parametrize(
    ("symbol", "update"),
    [
        ("+=", lambda w: w.__iadd__(1.0)),
        ("-=", lambda w: w.__isub__(1.0)),
        ("*=", lambda w: w.__imul__(2.0)),
        ("/=", lambda w: w.__itruediv__(2.0)),
    ],
)
def test_in_place_on_leaf_requiring_grad(symbol, update):
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad") as info:
        update(w)
    assert symbol in str(info.value)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])  # untouched


def test_in_place_under_no_grad_keeps_identity():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()  # grad 2w = [2, 4]
    handle, data = w, w.data
    with mg.no_grad():
        w -= 0.5 * w.grad  # [1 − 1, 2 − 2]
        w += 3.0
        w *= 2.0
        w /= 4.0  # ((0, 0) + 3)·2/4 = 1.5
    assert w is handle and w.data is data
    assert w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.data, [1.5, 1.5])
    # a tensor that does not require grad can be updated anywhere
    c = mg.tensor([1.0])
    c += 1.0
    np.testing.assert_array_equal(c.data, [2.0])


# =========================================================================================
# indexing
# =========================================================================================


@pytest.mark.parametrize(
    "index", [5, (0, 0), [0, 7], -3], ids=["int", "too-many", "array", "negative"]
)
def test_bad_index_names_the_shape(index):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(IndexError) as info:
        x[index]
    assert re.search(shape_text((2,)), str(info.value)), str(info.value)


# =========================================================================================
# gradcheck, functional, registry
# =========================================================================================


def test_gradcheck_without_requires_grad_input():
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t * 2.0, x)
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t * 2.0, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradgradcheck(lambda t: t * 2.0, x)


def test_gradgradcheck_wrong_number_of_grad_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"1 outputs but 2 grad_outputs"):
        mg.gradgradcheck(lambda t: t * t, x, grad_outputs=[np.ones(2), np.ones(2)])


def test_grad_of_non_scalar_function():
    with pytest.raises(ValueError, match="scalar") as info:
        mg.grad(lambda x: x * 2.0)(np.ones(3))
    assert_names(str(info.value), shape_text((3,)), "jacobian")


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums 2") as info:
        mg.grad(lambda a, b: a * b, argnums=2)(1.0, 2.0)
    assert "2 arguments" in str(info.value)


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError) as info:
        mg.losses.get("nope")
    msg = str(info.value)
    assert "nope" in msg
    for name in ("l1_loss", "mae", "l2_loss", "mse", "rmse", "huber"):
        assert name in msg


def test_empty_joins_and_reductions():
    with pytest.raises(ValueError, match="concatenate"):
        mg.concatenate([])
    with pytest.raises(ValueError, match="stack"):
        mg.stack([])
    with pytest.raises(ValueError, match=r"max.*empty"):
        mg.tensor(np.zeros((0,))).max()


def test_clip_without_bounds_is_not_a_shape_error():
    with pytest.raises(ValueError, match="lo, hi") as info:
        mg.tensor([1.0, 2.0]).clip()
    assert not isinstance(info.value, mg.ShapeError)
    assert "incompatible shapes" not in str(info.value)
