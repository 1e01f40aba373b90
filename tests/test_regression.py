"""minigrad.regression: raw data trains to the closed form by default; saved models predict.

The reference answers are independent of the code under test: the least-squares
solution from np.linalg.lstsq (minigrad.formulas.closed_form) and the stable bound
2/λ_max from an eigendecomposition (minigrad.formulas.max_stable_lr).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import formulas
from minigrad.regression import (
    AUTO_STANDARDIZE_CONDITION,
    auto_lr,
    condition_number,
    fit_linear,
    load_model,
    save_model,
)


def raw_data(n=200, seed=0, noise=0.5):
    """Features in the tens and thousands, like a raw CSV: κ of the order of 10⁸."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(40, 8, n), rng.normal(3000, 600, n)])
    y = 0.7 * X[:, 0] - 0.004 * X[:, 1] + 12 + rng.normal(0, noise, n)
    return X, y


def test_raw_features_standardize_and_reach_the_closed_form_by_default():
    X, y = raw_data()
    assert condition_number(X) > 1e6
    result = fit_linear(X, y, progress=False)
    assert result.standardized and result.condition_trained < 10
    assert result.history.converged and not result.history.diverged
    w_star, b_star = formulas.closed_form(X, y)
    np.testing.assert_allclose(result.weights, w_star, rtol=1e-5)
    assert result.bias == pytest.approx(b_star, rel=1e-5)
    np.testing.assert_allclose(result.predict(X), formulas.predict(X, w_star, b_star), rtol=1e-6)


def test_well_conditioned_features_stay_raw():
    X, y, _, _ = mg.data.make_linear(n=100, d=2, seed=1)
    assert condition_number(X) <= AUTO_STANDARDIZE_CONDITION
    result = fit_linear(X, y, progress=False)
    assert not result.standardized and result.history.converged
    np.testing.assert_allclose(result.weights, formulas.closed_form(X, y)[0], rtol=1e-5)


def test_condition_number_is_the_hessians():
    X, _ = raw_data(n=50)
    eigenvalues = np.linalg.eigvalsh(formulas.mse_hessian(X))
    assert condition_number(X) == pytest.approx(eigenvalues[-1] / eigenvalues[0])
    standardized = mg.data.Standardizer().fit_transform(X[:, :1])
    assert condition_number(standardized) == pytest.approx(1.0)  # H = 2·I


def test_auto_lr_is_half_the_stable_bound():
    X, _ = raw_data(n=50)
    assert auto_lr(X) == (0.5 * formulas.max_stable_lr(X), formulas.max_stable_lr(X))
    per_example = formulas.max_stable_lr_per_example(X)
    assert auto_lr(X, batch_size=8) == (0.5 * per_example, per_example)
    assert auto_lr(X, batch_size=50) == auto_lr(X)  # a batch of all rows is full batch
    lr_l2, bound_l2 = auto_lr(X, "l2_loss")  # a sum: N times MSE's curvature
    assert bound_l2 == pytest.approx(formulas.max_stable_lr(X) / 50) and lr_l2 == bound_l2 / 2
    assert auto_lr(X, "huber") == auto_lr(X)
    with pytest.raises(
        ValueError, match=r"lr='auto' is worked out for mse, huber, bce_with_logits, l2_loss"
    ):
        auto_lr(X, "mae")
    with pytest.raises(ValueError, match="optimizer 'sgd'"):
        fit_linear(X, X[:, 0], optimizer="adam", progress=False)


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.floats(-3, 3),
    st.sampled_from([None, 1, 7]),
    st.booleans(),
)
def test_auto_lr_never_diverges_and_full_batch_loss_never_rises(seed, log_scale, batch, std):
    rng = np.random.default_rng(seed)
    n, d = 40, int(rng.integers(1, 4))
    X = rng.normal(rng.normal(0, 5, d), 10.0**log_scale, (n, d))
    y = X @ rng.normal(0, 1, d) + rng.normal(0, 1, n)
    result = fit_linear(X, y, standardize=std, epochs=40, batch_size=batch, progress=False)
    assert not result.history.diverged and np.isfinite(result.history.final_loss)
    if batch is None:  # lr ≤ 1/λ_max: every gradient step on a quadratic lowers the loss
        steps = np.array(result.history.step_losses)
        assert np.all(np.diff(steps) <= 1e-12 * steps[0])


def test_save_and_load_predict_raw_rows(tmp_path):
    X, y = raw_data(n=60)
    result = fit_linear(X, y, progress=False)
    path = tmp_path / "m.npz"
    save_model(path, result.weights, result.bias, ["a", "b"], "target")
    model = load_model(path)
    assert model.feature_names == ["a", "b"] and model.target_name == "target"
    np.testing.assert_array_equal(model.weights, result.weights)
    np.testing.assert_allclose(model.predict(X), X @ result.weights + result.bias, rtol=1e-12)
    assert repr(model).startswith("SavedModel(target ≈ ") and "·a + " in repr(model)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays, no pickle
        assert set(archive.files) == {
            "format", "weight", "bias", "feature_names", "target_name", "loss"
        }  # fmt: skip
        assert str(archive["loss"]) == "mse" and not model.classifier


def test_load_model_refuses_other_files(tmp_path):
    plain = tmp_path / "plain.npz"
    mg.nn.LinearRegression(2).save(plain)
    with pytest.raises(ValueError, match=r"not a model saved by `minigrad train --save`"):
        load_model(plain)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.npz is not a model file: not a NumPy \.npz"):
        load_model(text)
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"one array \(\.npy\), not an \.npz archive"):
        load_model(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="2 weights but 1 feature names"):
        save_model(tmp_path / "x.npz", [1.0, 2.0], 0.0, ["a"], "y")
