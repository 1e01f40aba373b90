"""Tests for minigrad.fit and History: the notes' epoch arithmetic, convergence to the
closed form, the "loss measured before the update" contract, divergence, stopping rules,
input checking, reproducibility, memory, memory-mapped data and the progress bar.

Expected numbers come from minigrad.formulas (plain NumPy: closed form, loss values,
gradients, the largest stable learning rate), which the engine is independent of."""

from __future__ import annotations

import gc
import math
import re
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import formulas
from minigrad.convergence import distance_left
from minigrad.data import make_linear
from minigrad.nn import LinearRegression
from tests.helpers import fit


def problem(n=200, d=3, noise=0.01, seed=0):
    """Well-posed standardized-scale data: X ~ N(0, 1), so the MSE Hessian is ≈ 2·I."""
    X, y, _, _ = make_linear(n=n, d=d, noise=noise, seed=seed)
    return X, y


def mse_at(X, y, theta):
    """The MSE at a flattened parameter vector (w₁ … w_d, b), in param_names order."""
    return formulas.mse_value(X, y, theta[:-1], theta[-1])


# ------------------------------------------------------------------- epoch arithmetic


@pytest.mark.parametrize("n, batch_size, per_epoch", [(1000, 100, 10), (1001, 100, 11)])
def test_updates_per_epoch_is_ceil_n_over_batch_size(n, batch_size, per_epoch):
    X, y = problem(n=n, d=2, noise=0.1)
    history = fit(LinearRegression(2), X, y, lr=0.01, epochs=3, batch_size=batch_size, tol=None)
    assert history.updates_per_epoch == per_epoch
    assert history.n_updates == per_epoch * 3 and history.epochs_run == 3
    assert history.batch_size == batch_size


@pytest.mark.parametrize("batch_size", [None, 1000, 1001, 10**6])
def test_batch_size_at_least_n_is_full_batch(batch_size):
    X, y = problem(n=1000, d=2, noise=0.1)
    history = fit(LinearRegression(2), X, y, lr=0.01, epochs=4, batch_size=batch_size, tol=None)
    assert history.updates_per_epoch == 1 and history.n_updates == 4
    assert history.batch_size is None
    reference = fit(LinearRegression(2), X, y, lr=0.01, epochs=4, batch_size=None, tol=None)
    assert history.step_losses == reference.step_losses


# ------------------------------------------------------------ reaching the closed form


def test_full_batch_reaches_the_closed_form():
    X, y = problem()
    w_star, b_star = formulas.closed_form(X, y)
    model = LinearRegression(3)
    fit(model, X, y, lr=0.3, epochs=300, tol=None)
    # Full-batch GD on a quadratic contracts the error by max|1 − lr·λ| per step; X is
    # standardized so λ(H) ≈ 2 ± 0.3 and the factor is ≤ 0.5: 300 steps reach round-off.
    np.testing.assert_allclose(model.w, w_star, atol=1e-9)
    assert model.b == pytest.approx(b_star, abs=1e-9)


@pytest.mark.parametrize("batch_size, lr, epochs", [(1, 0.01, 30), (20, 0.05, 60)])
def test_sgd_and_mini_batch_reach_the_closed_form(batch_size, lr, epochs):
    X, y = problem()
    w_star, b_star = formulas.closed_form(X, y)
    model = LinearRegression(3)
    fit(model, X, y, lr=lr, epochs=epochs, batch_size=batch_size, tol=None)
    # With a constant lr, SGD does not settle: at the optimum each batch's gradient is
    # (2/B)·Σ xᵢrᵢ with residual noise σ = 0.01, variance ≈ 4σ²/B per coordinate, and the
    # Hessian is ≈ 2I. The stationary spread of θ is then ≈ √(lr·σ²/B) per coordinate:
    # 1e-3 for B = 1, lr = 0.01 and 5e-4 for B = 20, lr = 0.05. Five spreads is a safe
    # bound, and still over 100 times smaller than the distance from the start (0) to θ*.
    spread = math.sqrt(lr * 0.01**2 / batch_size)
    np.testing.assert_allclose(model.w, w_star, atol=5 * spread)
    assert model.b == pytest.approx(b_star, abs=5 * spread)
    assert np.abs(w_star).max() > 100 * 5 * spread


# -------------------------------------------------------------- what History records


def test_path_starts_at_zero_and_has_one_entry_more_than_updates():
    X, y = problem(n=50)
    model = LinearRegression(3)
    history = fit(model, X, y, lr=0.1, epochs=7, batch_size=20, tol=None)
    assert history.param_names == ["weight", "bias"]
    assert history.n_updates == 21 and len(history.path) == 22
    np.testing.assert_array_equal(history.path[0], np.zeros(4))
    np.testing.assert_array_equal(history.path[-1], np.append(model.w, model.b))
    assert not np.array_equal(history.path[1], history.path[0])


def test_record_path_false_keeps_no_path():
    X, y = problem(n=50)
    history = fit(LinearRegression(3), X, y, lr=0.1, epochs=3, tol=None, record_path=False)
    assert history.path == [] and history.n_updates == 3


def test_step_losses_are_measured_before_each_update():
    X, y = problem(n=60, noise=0.5)
    history = fit(LinearRegression(3), X, y, lr=0.2, epochs=15, tol=None)
    assert history.step_losses[0] == pytest.approx(np.mean(y**2), rel=1e-12)  # w = 0, b = 0
    for k, loss in enumerate(history.step_losses):
        assert loss == pytest.approx(mse_at(X, y, history.path[k]), rel=1e-12)
    # and the path follows the notes' rule new = old − lr·slope, one full-batch step each
    for k in range(history.n_updates):
        w, b = formulas.gradient_descent_step(
            X, y, history.path[k][:-1], history.path[k][-1], lr=0.2
        )
        np.testing.assert_allclose(history.path[k + 1], np.append(w, b), rtol=1e-12, atol=1e-14)
    # the final loss is the loss after the last update, at the last point of the path
    assert history.last_batch_loss == history.step_losses[-1]
    assert history.final_loss == pytest.approx(mse_at(X, y, history.path[-1]), rel=1e-12)
    # full batch: each epoch's loss is its single step's loss
    assert history.epoch_losses == history.step_losses


def test_epoch_losses_are_means_of_the_step_losses():
    X, y = problem(n=1001, d=2, noise=0.3)
    history = fit(LinearRegression(2), X, y, lr=0.02, epochs=4, batch_size=100, tol=None)
    steps = np.array(history.step_losses).reshape(4, 11)
    np.testing.assert_allclose(history.epoch_losses, steps.mean(axis=1), rtol=1e-14)
    assert history.epochs_run == 4


def test_mini_batch_step_losses_are_the_loss_of_that_batch():
    X, y = problem(n=30, noise=0.3)
    batches = []

    def record(epoch, update, loss, model):
        batches.append(loss)

    # unshuffled batches of 10: the first three losses are the MSE of rows 0–9, 10–19, 20–29
    # at the parameters before each update
    history = fit(
        LinearRegression(3),
        X,
        y,
        lr=0.1,
        epochs=1,
        batch_size=10,
        shuffle=False,
        tol=None,
        callbacks=[record],
    )
    for k in range(3):
        rows = slice(10 * k, 10 * k + 10)
        assert history.step_losses[k] == pytest.approx(
            mse_at(X[rows], y[rows], history.path[k]), rel=1e-12
        )
    assert batches == history.step_losses


# ------------------------------------------------------------------------ other losses


def test_mae_is_pulled_less_by_outliers_than_mse():
    X, y, true_w, true_b = make_linear(n=100, d=1, noise=0.1, seed=1, weights=[2.0], bias=1.0)
    y = y.copy()
    y[:5] += 500.0  # five huge outliers
    fits = {}
    for loss, lr in (("mse", 0.3), ("mae", 0.05)):
        model = LinearRegression(1)
        fit(model, X, y, loss=loss, lr=lr, epochs=500, tol=None)
        fits[loss] = abs(model.w[0] - true_w[0]) + abs(model.b - true_b)
    # MSE's minimiser is the least-squares line, dragged ~25 units by the outliers (here
    # the closed form confirms it); MAE's is a median line, which 5 % outliers barely move.
    w_ls, b_ls = formulas.closed_form(X, y)
    assert fits["mse"] == pytest.approx(abs(w_ls[0] - 2.0) + abs(b_ls - 1.0), rel=1e-6)
    assert fits["mse"] > 10.0
    assert fits["mae"] < 0.1
    assert fits["mae"] < fits["mse"] / 100


# -------------------------------------------------------------------------- divergence


def test_too_high_learning_rate_diverges_stops_and_names_the_bound():
    X, y = problem(n=200, d=2, noise=0.1)
    bound = formulas.max_stable_lr(X)
    lr = 1.5 * bound
    with pytest.warns(RuntimeWarning, match="diverged") as caught:
        history = fit(LinearRegression(2), X, y, lr=lr, epochs=1000)
    assert history.diverged and not history.converged
    assert history.epochs_run < 1000  # stopped early …
    assert history.n_updates == history.epochs_run > 1  # … with its history kept
    assert len(history.path) == history.n_updates + 1
    assert history.diverged_at_update == history.n_updates - 1
    # Along the Hessian's top eigenvector the error is multiplied by |1 − lr·λ_max| = 2
    # per step, so the loss ends up growing ~4× per update.
    growth = history.step_losses[-1] / history.step_losses[-2]
    assert growth == pytest.approx(4.0, rel=0.05)

    reason = history.divergence_reason
    assert str(caught[0].message) in reason
    printed_lr = re.search(r"lr=([-+.\deE]+)", reason).group(1)
    printed_bound = re.search(r"lr < ([-+.\deE]+)", reason).group(1)
    assert float(printed_lr) == float(f"{lr:.{significant_digits(printed_lr)}g}")
    assert float(printed_bound) == float(f"{bound:.{significant_digits(printed_bound)}g}")
    assert significant_digits(printed_bound) >= 3
    assert history.max_stable_lr == pytest.approx(bound, rel=1e-12)
    assert "DIVERGED" in history.summary()


def test_sgd_divergence_also_names_the_per_example_bound():
    X, y = problem(n=200, d=2, noise=0.1)
    lr = 2 * formulas.max_stable_lr(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(LinearRegression(2), X, y, lr=lr, epochs=50, batch_size=1)
    # one warning, fit's own: NumPy's overflow warnings on the way there are not repeated
    assert [str(w.message) for w in caught] == [history.divergence_reason]
    assert history.diverged
    per_example = 1.0 / max(float(x @ x) + 1.0 for x in X)  # 1/max‖(x, 1)‖², by hand
    printed = re.search(r"batch_size=1 every step is stable only for lr < ([-+.\deE]+)",
                        history.divergence_reason)  # fmt: skip
    assert printed and float(printed.group(1)) == pytest.approx(per_example, rel=1e-3)
    with pytest.warns(RuntimeWarning, match="batches of 10 need a smaller learning rate"):
        fit(LinearRegression(2), X, y, lr=lr, epochs=50, batch_size=10)


def significant_digits(number: str) -> int:
    mantissa = re.split("[eE]", number)[0].replace("-", "").replace("+", "").replace(".", "")
    return len(mantissa.lstrip("0"))


@pytest.mark.parametrize("factor, diverges", [(0.95, False), (1.05, True)])
def test_max_stable_lr_is_the_threshold(factor, diverges):
    X, y = problem(n=100, d=2, noise=0.1)
    lr = factor * formulas.max_stable_lr(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(LinearRegression(2), X, y, lr=lr, epochs=400, tol=None)
    assert history.diverged is diverges
    if not diverges:  # just below the bound GD still converges, if slowly
        assert history.final_loss < history.step_losses[0] / 10


def test_non_finite_loss_stops_at_once_and_keeps_the_finite_history():
    X, y = problem(n=50, d=2, noise=0.1)
    model = LinearRegression(2)
    with np.errstate(over="ignore"), pytest.warns(RuntimeWarning, match="the loss became inf"):
        # each SGD step multiplies the parameters by ~lr: 1e150, 1e300, then the loss
        # overflows to inf at the third update
        history = fit(
            model, X, y, lr=1e150, epochs=10, batch_size=1, tol=None, validation_data=(X, y)
        )
    assert history.diverged and history.epochs_run == 1
    k = history.diverged_at_update
    assert k == history.n_updates - 1  # nothing was recorded after the bad loss
    assert not math.isfinite(history.step_losses[k])
    assert all(math.isfinite(v) for v in history.step_losses[:k])
    assert history.val_losses == []  # no validation of a diverged epoch
    assert len(history.path) == history.n_updates + 1
    assert all(np.all(np.isfinite(theta)) for theta in history.path)
    # the update of the non-finite loss was never applied: the model is where it was
    np.testing.assert_array_equal(history.path[-1], history.path[-2])
    np.testing.assert_array_equal(np.append(model.w, model.b), history.path[k])


def test_nan_loss_from_a_custom_loss_stops_without_touching_the_model():
    X, y = problem(n=40, d=2, noise=0.1)
    calls = []

    def flaky_mse(pred, target):
        calls.append(1)
        loss = mg.losses.mse(pred, target)
        return loss * math.nan if len(calls) == 6 else loss

    model = LinearRegression(2)
    with pytest.warns(RuntimeWarning, match="the loss became nan"):
        history = fit(model, X, y, loss=flaky_mse, lr=0.1, epochs=20, batch_size=10, tol=None)
    assert history.n_updates == 6 and history.diverged_at_update == 5
    assert math.isnan(history.step_losses[5]) and all(map(math.isfinite, history.step_losses[:5]))
    assert history.epochs_run == 2 and math.isnan(history.epoch_losses[1])
    np.testing.assert_array_equal(np.append(model.w, model.b), history.path[5])
    assert all(p.grad is None for p in model.parameters())  # no backward through the NaN
    assert history.max_stable_lr is None  # no closed-form bound for a custom loss
    assert history.loss == "flaky_mse"


# ------------------------------------------------------------------- reproducibility


def test_same_seed_gives_bit_identical_runs():
    X, y = problem(n=100, noise=0.3)
    runs = []
    for _ in range(2):
        model = LinearRegression(3)
        history = fit(model, X, y, lr=0.05, epochs=5, batch_size=7, seed=42, tol=None)
        runs.append((history, model.w, model.b))
    (h1, w1, b1), (h2, w2, b2) = runs
    assert h1.step_losses == h2.step_losses  # exact float equality, not approx
    np.testing.assert_array_equal(w1, w2)
    assert b1 == b2


def test_different_seed_with_shuffle_takes_a_different_path():
    X, y = problem(n=100, noise=0.3)
    a = fit(LinearRegression(3), X, y, lr=0.05, epochs=3, batch_size=1, seed=1, tol=None)
    b = fit(LinearRegression(3), X, y, lr=0.05, epochs=3, batch_size=1, seed=2, tol=None)
    assert a.step_losses != b.step_losses
    assert not np.array_equal(a.path[-1], b.path[-1])
    # without shuffling, the seed has nothing to act on
    c = fit(LinearRegression(3), X, y, lr=0.05, epochs=3, batch_size=1, seed=1, shuffle=False)
    d = fit(LinearRegression(3), X, y, lr=0.05, epochs=3, batch_size=1, seed=2, shuffle=False)
    assert c.step_losses == d.step_losses


def test_y_of_shape_n_and_n_by_1_give_identical_runs():
    X, y = problem(n=60, noise=0.3)
    a = fit(LinearRegression(3), X, y, lr=0.05, epochs=3, batch_size=8, tol=None)
    b = fit(LinearRegression(3), X, y.reshape(-1, 1), lr=0.05, epochs=3, batch_size=8, tol=None)
    assert a.step_losses == b.step_losses
    np.testing.assert_array_equal(np.array(a.path), np.array(b.path))


# ---------------------------------------------------------------- stopping criteria


def test_tol_converges_and_stops():
    X, y = problem(n=100, noise=0.1)
    tol, patience = 1e-9, 3
    history = fit(LinearRegression(3), X, y, lr=0.3, epochs=1000, tol=tol, patience=patience)
    assert history.converged and not history.diverged
    assert history.converged_at_epoch is not None
    assert history.epochs_run == history.converged_at_epoch + 1 < 1000
    assert history.converged_at_update == history.n_updates - 1
    assert "tol" in history.convergence_reason and "converged" in history.summary()
    # the rule, checked on the recorded path: each epoch's step is the distance between
    # consecutive parameter vectors, and the estimate first fell within tol at the end
    path = np.array(history.path)
    np.testing.assert_allclose(
        history.param_steps, np.linalg.norm(np.diff(path, axis=0), axis=1), rtol=1e-12
    )
    steps, sizes = history.param_steps, np.linalg.norm(path, axis=1)  # path[e]: after e - 1
    assert distance_left(steps, patience)[0] <= tol * sizes[-1]
    for e in range(1, len(steps)):
        assert not distance_left(steps[:e], patience)[0] <= tol * sizes[e]
    w_star, b_star = formulas.closed_form(X, y)
    theta_star = np.append(w_star, b_star)
    assert np.linalg.norm(path[-1] - theta_star) <= 3 * tol * np.linalg.norm(theta_star)


def test_tol_none_runs_every_epoch():
    X, y = problem(n=100, noise=0.1)
    history = fit(LinearRegression(3), X, y, lr=0.3, epochs=200, tol=None)
    assert not history.converged and history.epochs_run == 200
    assert "did not converge" in history.summary()


def test_grad_tol_converges_on_the_gradient_norm():
    X, y = problem(n=100, noise=0.1)
    grad_tol = 1e-6
    history = fit(LinearRegression(3), X, y, lr=0.3, epochs=500, tol=None, grad_tol=grad_tol)
    assert history.converged and history.n_updates < 500
    assert len(history.grad_norms) == history.n_updates
    assert history.converged_at_update == history.n_updates - 1
    assert history.grad_norms[-1] <= grad_tol < min(history.grad_norms[:-1])
    # each recorded norm is ‖∇MSE‖ at the parameters before that update (hand formula)
    for k in (0, history.n_updates // 2, history.n_updates - 1):
        theta = history.path[k]
        dw, db = formulas.mse_gradients(X, y, theta[:-1], theta[-1])
        assert history.grad_norms[k] == pytest.approx(np.hypot(np.linalg.norm(dw), db), rel=1e-9)
    assert "grad_tol" in history.convergence_reason


def test_callbacks_see_every_update_and_true_stops():
    X, y = problem(n=100, noise=0.1)
    seen = []
    model = LinearRegression(3)

    def watch(epoch, update, loss, m):
        seen.append((epoch, update, loss, m))

    def stop_after_13(epoch, update, loss, m):
        return update == 13

    history = fit(
        model, X, y, lr=0.1, epochs=10, batch_size=10, tol=None, callbacks=[watch, stop_after_13]
    )
    assert history.stopped_by_callback and not history.converged
    assert history.n_updates == 14 and history.epochs_run == 2
    assert [(e, u) for e, u, _, _ in seen] == [(u // 10, u) for u in range(14)]
    assert [loss for _, _, loss, _ in seen] == history.step_losses
    assert all(m is model for *_, m in seen)
    assert "stopped by a callback" in history.summary()
    # the stopped run's last (partial) epoch is still summarised
    assert history.epoch_losses[1] == pytest.approx(np.mean(history.step_losses[10:]))


def test_callbacks_returning_falsy_values_do_not_stop():
    X, y = problem(n=20, noise=0.1)
    history = fit(
        LinearRegression(3),
        X,
        y,
        lr=0.1,
        epochs=3,
        batch_size=5,
        tol=None,
        callbacks=[lambda *a: None, lambda *a: False, lambda *a: 0],
    )
    assert not history.stopped_by_callback and history.n_updates == 12


def test_validation_data_gives_one_loss_per_epoch():
    X, y = problem(n=120, noise=0.3)
    X_train, y_train, X_val, y_val = X[:80], y[:80], X[80:], y[80:]
    model = LinearRegression(3)
    history = fit(
        model,
        X_train,
        y_train,
        lr=0.05,
        epochs=6,
        batch_size=16,
        tol=None,
        validation_data=(X_val, y_val),
    )
    assert len(history.val_losses) == 6 == history.epochs_run
    # evaluated after the epoch, at the parameters the epoch ended with
    assert history.val_losses[-1] == pytest.approx(
        formulas.mse_value(X_val, y_val, model.w, model.b), rel=1e-12
    )
    assert history.val_losses[-1] < history.val_losses[0]
    assert history.val_losses[0] < formulas.mse_value(X_val, y_val, np.zeros(3), 0.0)


def test_validation_with_full_batch_matches_the_next_step_loss():
    X, y = problem(n=50, noise=0.3)
    history = fit(LinearRegression(3), X, y, lr=0.1, epochs=5, tol=None, validation_data=(X, y))
    # validating on the training set after epoch e is the loss before update e + 1
    np.testing.assert_allclose(history.val_losses[:-1], history.step_losses[1:], rtol=1e-12)


# -------------------------------------------------------------------------- warnings


def test_badly_conditioned_features_warn_to_standardize():
    X, y = problem(n=100, d=2, noise=0.1)
    X = X.copy()
    X[:, 1] *= 1e4  # condition number of the Hessian ~ 1e8
    with pytest.warns(UserWarning, match="badly conditioned") as caught:
        fit(LinearRegression(2), X, y, lr=1e-9, epochs=2)
    assert any("Standardize" in str(w.message) for w in caught)


def test_standardized_features_do_not_warn():
    X, y = problem(n=100, d=3, noise=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(LinearRegression(3), X, y, lr=0.1, epochs=5)


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "row, column, value", [(0, 0, math.nan), (4, 1, math.inf), (9, 2, -math.inf)]
)
def test_non_finite_x_names_row_and_column(row, column, value):
    X, y = problem(n=10)
    X = X.copy()
    X[row, column] = value
    with pytest.raises(ValueError, match=rf"X .*non-finite.*row {row}, column {column}"):
        fit(LinearRegression(3), X, y)


@pytest.mark.parametrize("shape", [(10,), (10, 1)])
def test_non_finite_y_names_the_row(shape):
    X, y = problem(n=10)
    y = y.copy()
    y[6] = math.nan
    with pytest.raises(ValueError, match=r"y .*non-finite.*row 6"):
        fit(LinearRegression(3), X, y.reshape(shape))


def test_wrong_number_of_features_names_both():
    X, y = problem(n=10, d=3)
    match = r"X of shape \(10, 3\) has 3 features.*model expects 2"
    with pytest.raises(mg.ShapeError, match=match):
        fit(LinearRegression(2), X, y)


def test_mismatched_rows_and_bad_shapes():
    X, y = problem(n=10, d=3)
    with pytest.raises(mg.ShapeError, match=r"X has 10 rows but y has 9"):
        fit(LinearRegression(3), X, y[:9])
    with pytest.raises(mg.ShapeError, match=r"outputs 1 value per example .* y has 2 per example"):
        fit(LinearRegression(3), X, np.ones((10, 2)))  # two targets, one output
    with pytest.raises(mg.ShapeError, match=r"y \(10, 2, 1\)"):
        fit(LinearRegression(3), X, np.ones((10, 2, 1)))


@pytest.mark.parametrize("X, y", [(np.empty((0, 2)), np.empty(0)), ([], [])])
def test_empty_data(X, y):
    with pytest.raises(ValueError, match="no examples"):
        fit(LinearRegression(2 if np.ndim(X) == 2 else 1), X, y)


@pytest.mark.parametrize("epochs", [0, -1, 2.5, None])
def test_epochs_below_one(epochs):
    X, y = problem(n=10)
    with pytest.raises(ValueError, match=r"epochs must be an integer ≥ 1"):
        fit(LinearRegression(3), X, y, epochs=epochs)


@pytest.mark.parametrize("batch_size", [0, -3])
def test_batch_size_below_one(batch_size):
    X, y = problem(n=10)
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer"):
        fit(LinearRegression(3), X, y, batch_size=batch_size)


def test_unknown_loss_lists_the_choices():
    X, y = problem(n=10)
    with pytest.raises(
        ValueError, match=r"unknown loss 'hinge'.*huber, l1_loss, l2_loss, mae, mse"
    ):
        fit(LinearRegression(3), X, y, loss="hinge")


def test_unknown_optimizer_lists_the_choices():
    X, y = problem(n=10)
    with pytest.raises(ValueError, match=r"unknown optimizer 'adagrad'.*adam, adamw, rmsprop, sgd"):
        fit(LinearRegression(3), X, y, optimizer="adagrad")


def test_bad_learning_rate_is_refused_before_training():
    X, y = problem(n=10)
    model = LinearRegression(3)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        fit(model, X, y, lr=math.nan)
    assert model.w.tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------- memory-mapped X


@pytest.fixture
def saved_X(tmp_path):
    X, y = problem(n=103, d=2, noise=0.3)
    path = tmp_path / "X.npy"
    np.save(path, X)
    return X, y, np.load(path, mmap_mode="r")


@pytest.mark.parametrize("batch_size", [None, 1, 10])
def test_training_from_a_memmap_is_identical(saved_X, batch_size):
    X, y, X_map = saved_X
    assert isinstance(X_map, np.memmap)
    runs = []
    for data in (X, X_map):
        model = LinearRegression(2)
        history = fit(model, data, y, lr=0.05, epochs=4, batch_size=batch_size, seed=3, tol=None)
        runs.append((history, model.w, model.b))
    (h1, w1, b1), (h2, w2, b2) = runs
    assert h1.step_losses == h2.step_losses and h1.epoch_losses == h2.epoch_losses
    np.testing.assert_array_equal(np.array(h1.path), np.array(h2.path))
    np.testing.assert_array_equal(w1, w2)
    assert b1 == b2


def memmap_with(tmp_path, X):
    path = tmp_path / "bad.npy"
    np.save(path, X)
    return np.load(path, mmap_mode="r")


def test_non_finite_memmap_x_names_row_and_column(tmp_path):
    X, y = problem(n=50, d=2)
    X = X.copy()
    X[37, 1] = math.nan
    with pytest.raises(ValueError, match=r"non-finite.*row 37, column 1"):
        fit(LinearRegression(2), memmap_with(tmp_path, X), y, batch_size=10)


def test_non_finite_memmap_x_names_the_row_of_x(tmp_path):
    X, y = problem(n=20_001, d=2)
    X = X.copy()
    X[1003, 1] = math.nan  # an odd row: not among the rows the conditioning check samples
    with pytest.raises(ValueError, match=r"non-finite.*row 1003, column 1"):
        fit(LinearRegression(2), memmap_with(tmp_path, X), y, batch_size=1000, shuffle=False)


def test_non_finite_y_with_memmap_x_names_the_row(tmp_path):
    X, y = problem(n=50, d=2)
    y = y.copy()
    y[5] = math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=r"y .*non-finite.*row 5"):
            fit(LinearRegression(2), memmap_with(tmp_path, X), y, batch_size=10)


# --------------------------------------------------------------------------- progress


def test_progress_false_prints_nothing(capsys):
    X, y = problem(n=50)
    fit(LinearRegression(3), X, y, lr=0.1, epochs=5, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_true_shows_a_tqdm_bar_and_changes_nothing(capsys):
    pytest.importorskip("tqdm")
    X, y = problem(n=50)
    history = fit(LinearRegression(3), X, y, lr=0.1, epochs=5, tol=None, progress=True)
    err = capsys.readouterr().err
    assert "epoch" in err and "/5" in err  # tqdm's "0/5 [..., ?epoch/s]"
    quiet = fit(LinearRegression(3), X, y, lr=0.1, epochs=5, tol=None, progress=False)
    assert history.step_losses == quiet.step_losses


def test_progress_bar_redraws_a_bounded_number_of_times(monkeypatch, capsys):
    """A notebook stores every redraw of a text bar as output: a long run redraws about
    PROGRESS_UPDATES times, not once per epoch (issue 19)."""
    pytest.importorskip("tqdm")
    from minigrad.train import progress

    monkeypatch.setattr(progress, "PROGRESS_INTERVAL", 0.0)  # as if every epoch were slow
    X, y = problem(n=20)
    fit(LinearRegression(3), X, y, lr=0.1, epochs=1000, tol=None, progress=True)
    redraws = capsys.readouterr().err.count("\r")
    assert 5 <= redraws <= progress.PROGRESS_UPDATES + 3
    fit(LinearRegression(3), X, y, lr=0.1, epochs=7, tol=None, progress=True)
    assert capsys.readouterr().err.count("/7 [") >= 7  # a short run still shows each epoch


def test_automatic_progress_shows_in_a_notebook_after_the_delay(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    X, y = problem(n=50)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(mg.train, "_in_jupyter", lambda: True)
    monkeypatch.setattr(mg.train, "PROGRESS_DELAY", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no advice to install ipywidgets
        fit(LinearRegression(3), X, y, lr=0.1, epochs=5, tol=None, progress=None)
    assert "/5" in capsys.readouterr().err
    monkeypatch.setattr(mg.train, "PROGRESS_DELAY", 60.0)  # a quick run shows nothing
    fit(LinearRegression(3), X, y, lr=0.1, epochs=5, tol=None, progress=None)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CI", "true")  # and CI logs never get a bar
    monkeypatch.setattr(mg.train, "PROGRESS_DELAY", 0.0)
    fit(LinearRegression(3), X, y, lr=0.1, epochs=5, tol=None, progress=None)
    assert capsys.readouterr().err == ""


def test_progress_without_tqdm_warns_only_when_asked(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails
    monkeypatch.setitem(sys.modules, "tqdm.std", None)
    X, y = problem(n=50)
    with pytest.warns(UserWarning, match=r"progress=True needs tqdm: pip install"):
        fit(LinearRegression(3), X, y, lr=0.1, epochs=2, progress=True)
    monkeypatch.setattr(mg.train, "_in_jupyter", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(LinearRegression(3), X, y, lr=0.1, epochs=2, progress=None)


# ------------------------------------------------------------------------------- repr


def test_repr_is_a_one_line_summary_whatever_the_run():
    X, y = problem(n=1000, d=2)
    history = fit(LinearRegression(2), X, y, lr=0.01, epochs=5, batch_size=1, tol=None)
    text = repr(history)  # the same length for 50,000 updates (3.5 million characters once)
    assert history.n_updates == 5_000 and len(history.path) == 5_001
    assert "\n" not in text and len(text) < 160, text
    assert text.startswith("History(SGD on mse, lr=0.01, SGD (batch 1): 5000 updates in 5 ")
    assert f"final loss {history.final_loss:.4g}; not converged)" in text
    converged = fit(LinearRegression(2), X, y, lr=0.3, epochs=500)
    assert repr(converged).endswith(f"converged at epoch {converged.converged_at_epoch})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diverged = fit(LinearRegression(2), X, y, lr=10.0, epochs=50)
    assert repr(diverged).endswith(f"diverged at update {diverged.diverged_at_update})")


# ----------------------------------------------------------------------------- memory


@pytest.mark.slow
def test_memory_does_not_grow_over_100000_updates():
    """SGD (batch 1) on 1,000 examples × 100 epochs = 100,000 updates, each of which builds
    and drops a graph. Tracing every allocation of all of them with tracemalloc would take
    ~30 s, so tracing starts (from a callback) for the last 10,000 updates; the garbage
    collector is off meanwhile, so a graph is counted as freed only if reference counting
    frees it (the design's "no reference cycles"). What may stay allocated is the history:
    10,000 new floats in step_losses, and its list buffer if it was reallocated. One leaked
    graph per update (≥ 5 Tensors and their arrays, ~1 kB) would leave ~10 MB; the 1 MB
    bound catches anything above 100 bytes per update."""
    X, y = problem(n=1000, d=2, noise=0.1)
    traced_updates = 10_000
    first_traced = 100_000 - traced_updates

    def start_tracing(epoch, update, loss, model):
        if update == first_traced - 1:  # after update 89,999: trace 90,000 …
            gc.collect()
            gc.disable()
            tracemalloc.start()

    gc_was_enabled = gc.isenabled()
    try:
        history = fit(
            LinearRegression(2),
            X,
            y,
            lr=0.005,
            epochs=100,
            batch_size=1,
            tol=None,
            record_path=False,
            callbacks=[start_tracing],
        )
        traced, _ = tracemalloc.get_traced_memory()
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
        if gc_was_enabled:
            gc.enable()
    assert history.n_updates == 100_000 and not history.diverged
    new_floats = traced_updates * sys.getsizeof(1.0) + 100 * sys.getsizeof(1.0)
    history_bytes = new_floats + sys.getsizeof(history.step_losses)
    history_bytes += sys.getsizeof(history.epoch_losses)
    assert traced - history_bytes < 1_000_000, (traced, history_bytes)
