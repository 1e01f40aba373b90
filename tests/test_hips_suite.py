"""The self-check of tools/hips_suite.py, the adapter that runs HIPS autograd's tests on
minigrad: its check_grads must pass a right gradient and catch a wrong one (at the first
and at the second order), its transforms must keep HIPS's calling convention, and its
classification must put failures in the right category. Fast (no HIPS test is run);
skipped when the HIPS autograd mirror is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad import ops
from minigrad.autograd import Op

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import hips_suite

pytestmark = pytest.mark.skipif(
    not Path(hips_suite.DEFAULT_REPO).exists(), reason="no HIPS autograd mirror"
)


def wrong_cos() -> Op:
    """cos with a wrong gradient rule (+sin): first derivatives through it are right,
    second derivatives of sin (whose rule uses it) are not."""
    return Op("wrong_cos", np.cos, (lambda g, out, x: g * ops.sin(x),))


def sin_op(scale: float, cos: Op | None = None) -> Op:
    """sin whose gradient rule is scale·cos (right at scale 1)."""
    cos = cos or ops.cos
    return Op("test_sin", np.sin, (lambda g, out, x: g * cos(x) * scale,))


@pytest.fixture(autouse=True)
def fresh_log():
    np.random.seed(0)
    hips_suite.LOG["checks"], hips_suite.LOG["skipped"] = 0, []


def test_check_grads_passes_a_right_gradient_to_third_order():
    sin = sin_op(1.0)
    hips_suite.check_grads(lambda x, y: sin(x) * y, modes=["rev"], order=3)(
        np.random.randn(3), np.random.randn(3)
    )
    assert hips_suite.LOG["checks"] == 3  # f, then vᵀ∂f, then its vᵀ∂ again


def test_check_grads_catches_a_wrong_first_derivative():
    sin = sin_op(1.01)
    with pytest.raises(hips_suite.GradientMismatch, match="minigrad"):
        hips_suite.check_grads(lambda x: sin(x), order=1)(np.random.randn(3))


def test_check_grads_catches_a_wrong_second_derivative():
    sin = sin_op(1.0, wrong_cos())
    f = lambda x: sin(x)  # noqa: E731
    hips_suite.check_grads(f, order=1)(np.random.randn(3))  # first order is right
    with pytest.raises(hips_suite.GradientMismatch):
        hips_suite.check_grads(f, order=2)(np.random.randn(3))


def test_combo_check_and_argnum_tuples():
    hips_suite.combo_check(np.multiply, (0, 1))([0.5, np.random.randn(2)], [np.random.randn(2)])
    assert hips_suite.LOG["checks"] == 2 * 2  # two combinations, orders 1 and 2


def test_forward_mode_and_complex_checks_are_skipped_and_noted():
    hips_suite.check_grads(np.sin, modes=["fwd"])(1.0)
    hips_suite.check_grads(np.sin)(1.0 + 0.5j)
    assert hips_suite.LOG["checks"] == 0
    assert hips_suite.LOG["skipped"] == ["forward mode", "complex argument"]


def test_transforms_keep_hips_conventions():
    grads = hips_suite.grad(lambda d: np.sum(d["a"] * d["b"][0]))(
        {"a": np.array([1.0, 2.0]), "b": [np.array([3.0, 4.0])]}
    )
    assert isinstance(grads["a"], np.ndarray) and isinstance(grads["b"], list)
    np.testing.assert_allclose(grads["b"][0], [1.0, 2.0])
    assert hips_suite.grad(lambda x: x**3)(2.0) == 12.0
    assert hips_suite.grad(hips_suite.grad(lambda x: x**3))(2.0) == 12.0
    np.testing.assert_allclose(hips_suite.elementwise_grad(np.sin)(np.zeros(2)), [1.0, 1.0])
    assert hips_suite.jacobian(lambda x: x * 2)(np.ones(3)).shape == (3, 3)


def record(kind: str, message: str, in_minigrad: bool = True, **more) -> dict:
    exception = {"type": kind, "message": message, "in_minigrad": in_minigrad, **more}
    return {"outcome": "failed", "exception": exception}


def test_classification():
    refusal = "np.cumsum on a tensor that requires grad would silently drop its gradient (...)"
    assert hips_suite.classify(record("TypeError", refusal))[0] == "REFUSED-CLEARLY"
    assert hips_suite.missing_function(record("TypeError", refusal)) == "np.cumsum"
    assert hips_suite.classify(record("TypeError", refusal, in_minigrad=False))[0] == (
        "OTHER-ERROR"
    )
    assert hips_suite.classify(record("AttributeError", "no ravel"))[0] == "OTHER-ERROR"
    assert hips_suite.classify(record("GradientMismatch", "x", gradient_mismatch=True))[0] == (
        "WRONG"
    )
    assert hips_suite.classify(record("AssertionError", "assert False"))[0] == "WRONG"
    assert hips_suite.classify({"outcome": "passed", "checks": 3})[0] == "PASS"
    only_complex = {"outcome": "passed", "checks": 0, "skipped_checks": ["complex argument"]}
    assert hips_suite.classify(only_complex)[0] == "OUT-OF-SCOPE"
    skipped = {"outcome": "skipped", "reason": "out of scope: forward mode"}
    assert hips_suite.classify(skipped) == ("OUT-OF-SCOPE", "out of scope: forward mode")


def test_the_adapter_package_imports(tmp_path, monkeypatch):
    hips_suite.prepare(Path(hips_suite.DEFAULT_REPO), "HEAD", ["test_truediv.py"], tmp_path)
    assert (tmp_path / "tests" / "test_truediv.py").exists()
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import autograd
        import autograd.numpy as anp
        from autograd.test_util import check_grads

        assert anp is np and check_grads is hips_suite.check_grads
        assert autograd.grad is hips_suite.grad
    finally:
        for name in [m for m in sys.modules if m == "autograd" or m.startswith("autograd.")]:
            del sys.modules[name]
