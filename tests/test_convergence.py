"""fit's convergence rule: "converged" means the parameters are near the optimum.

The optimum comes from the closed form (np.linalg.lstsq via minigrad.formulas), which
is independent of the rule and of the engine.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import formulas
from minigrad.convergence import StepRule, distance_left

# The Crash Course's seven cars: weight in 1000 lbs → miles per gallon.
CARS_X = np.array([3.5, 3.69, 3.44, 3.43, 4.34, 4.42, 2.37]).reshape(-1, 1)
CARS_Y = np.array([18.0, 15.0, 18.0, 16.0, 15.0, 14.0, 24.0])


def optimum(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    w, b = formulas.closed_form(X, y)
    return np.append(w, b)


def fit(X, y, **kwargs) -> tuple[mg.nn.LinearRegression, mg.History]:
    model = mg.nn.LinearRegression(X.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # badly conditioned on purpose
        history = mg.fit(model, X, y, progress=False, **kwargs)
    return model, history


def test_the_seven_cars_are_the_crash_courses():
    """Its gradient-descent page starts from w = b = 0 at MSE 303.71 with slopes −119.7
    (weight) and −34.3 (bias)."""
    assert formulas.mse_value(CARS_X, CARS_Y, [0.0], 0.0) == pytest.approx(303.71, abs=5e-3)
    dw, db = formulas.mse_gradients(CARS_X, CARS_Y, [0.0], 0.0)
    assert (round(dw[0], 1), round(db, 1)) == (-119.7, -34.3)


def test_the_crash_course_cars_converge_at_the_closed_form():
    """At lr 0.06 the loss stops moving measurably after 2,797 epochs with b still 2.6e-3
    from the optimum; converged must mean near the optimum, not only a flat loss."""
    model, history = fit(CARS_X, CARS_Y, lr=0.06, epochs=20_000)
    assert history.converged and 2_797 < history.epochs_run < 20_000
    theta_star = optimum(CARS_X, CARS_Y)
    error = np.append(model.w, model.b) - theta_star
    assert np.linalg.norm(error) <= 2e-6 * np.linalg.norm(theta_star)
    assert abs(error[-1]) < 1e-4  # the bias, 2.6e-3 off under a flat-loss rule


@st.composite
def regressions(draw) -> tuple[np.ndarray, np.ndarray]:
    """Raw-looking data: columns of different scales, offset from zero, maybe correlated
    (condition numbers of the MSE Hessian from 1 to about 10⁶)."""
    n = draw(st.integers(5, 60))
    d = draw(st.integers(1, 3))
    spread, offset = draw(st.floats(0.0, 2.0)), draw(st.floats(0.0, 3.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scales = 10.0 ** rng.uniform(-spread / 2, spread / 2, d)
    Z = rng.standard_normal((n, d))
    if d > 1 and draw(st.booleans()):
        Z[:, 1] = Z[:, 0] + draw(st.floats(0.05, 1.0)) * Z[:, 1]
    X = Z * scales + rng.normal(0, offset, d) * scales
    noise = draw(st.sampled_from([0.0, 0.1, 1.0]))
    y = X @ (rng.normal(0, 2, d) / scales) + rng.normal(0, 5) + noise * rng.standard_normal(n)
    return X, y


@settings(max_examples=20, deadline=None)
@given(
    regressions(),
    st.floats(0.2, 0.95),
    st.sampled_from([1e-5, 1e-7]),
)
def test_converged_means_near_the_closed_form_on_badly_conditioned_problems(data, frac, tol):
    X, y = data
    lr = frac * formulas.max_stable_lr(X)
    theta_star = optimum(X, y)
    size = np.linalg.norm(theta_star)
    _, history = fit(X, y, lr=lr, epochs=1_500, tol=tol)
    errors = np.linalg.norm(np.array(history.path) - theta_star, axis=1) / size  # [e]: after e
    if history.converged:  # sound: never claimed far from the optimum
        assert errors[history.epochs_run] <= 3 * tol
    reached = np.flatnonzero(errors <= tol / 100)
    if reached.size:  # and not late: no later than when it is 100× closer than asked
        assert history.converged and history.epochs_run <= reached[0]


@pytest.mark.parametrize("batch_size", [1, 10])
def test_mini_batches_at_a_constant_learning_rate_never_converge(batch_size):
    """They hover around the optimum, and their noisy steps, some shrinking in a row by
    chance, would fake the rule's premise: however lax tol, they run every epoch."""
    X, y, _, _ = mg.data.make_linear(n=100, d=1, noise=1.0, seed=0)
    _, history = fit(X, y, lr=0.001, epochs=60, batch_size=batch_size, tol=0.1)
    assert not history.converged and history.epochs_run == 60
    assert len(history.param_steps) == 60 and min(history.param_steps) > 0
    assert "ran every epoch (only full-batch runs are judged converged)" in history.summary()


def test_an_epoch_that_does_not_move_the_parameters_has_converged():
    X = np.array([[1.0], [2.0], [3.0]])
    model = mg.nn.LinearRegression(1)
    model.load_state_dict({"weight": np.array([2.0]), "bias": np.array(1.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at_optimum = mg.fit(model, X, 2 * X[:, 0] + 1, lr=0.1, epochs=10, progress=False)
    assert at_optimum.converged and at_optimum.epochs_run == 1
    assert "did not move" in at_optimum.convergence_reason


@pytest.mark.parametrize(
    ("steps", "window", "expected"),
    [
        ([8.0, 4.0, 2.0, 1.0], 3, 1.0),  # ρ = ½: 1·(½ + ¼ + …) = 1
        ([9.0, 3.0, 1.0], 2, 0.5),  # ρ = ⅓: 1·(⅓)/(⅔)
        ([8.0, 4.0, 3.0, 1.0], 3, 3.0),  # the slowest ratio (¾) counts
        ([4.0, 2.0, 1.0], 3, np.inf),  # too few steps for the window
        ([1.0, 1.0, 1.0, 1.0], 3, np.inf),  # not shrinking
        ([1.0, 0.5, 0.0], 3, 0.0),  # no movement at all
    ],
)
def test_distance_left_is_the_tail_of_the_geometric_series(steps, window, expected):
    assert distance_left(steps, window)[0] == pytest.approx(expected)


@pytest.mark.parametrize("tol", [0.0, -1e-6, float("nan"), float("inf"), True, "1e-6"])
def test_bad_tol_is_refused(tol):
    with pytest.raises(ValueError, match="tol must be a positive number or None"):
        StepRule(tol, 3, np.zeros(2))
    for batch_size in (None, 2):
        with pytest.raises(ValueError, match="tol must be a positive number or None"):
            fit(CARS_X, CARS_Y, lr=0.01, epochs=2, tol=tol, batch_size=batch_size)


@pytest.mark.parametrize("patience", [0, -1, 1.5, True])
def test_bad_patience_is_refused(patience):
    with pytest.raises(ValueError, match="patience must be an integer ≥ 1"):
        fit(CARS_X, CARS_Y, lr=0.01, epochs=2, patience=patience)
