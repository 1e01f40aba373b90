"""mg.fit for any model (issue 11 item 6) and with a compiled update (issue 13 item 5).

Multi-output regression against least squares (np.linalg.lstsq); logistic regression
against Newton's method on the hand-derived gradient and Hessian; every recorded metric
recomputed from the parameter path and the batch order; evaluation modes observed from
inside the model; clear errors for targets that do not fit the loss; and jit=True
against eager, update for update.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import minigrad as mg
from minigrad import formulas
from minigrad.metrics import binary_accuracy, multiclass_accuracy
from tests.helpers import fit


def blobs(n=60, d=2, classes=3, seed=0, spread=1.0):
    """Overlapping Gaussian clusters: class c centred at 1.5·(cos, sin)(2πc/C)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    angles = 2 * np.pi * labels / classes
    centres = 1.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X = centres[:, :d] + spread * rng.standard_normal((n, d))
    return X, labels


def linear_scores(X, theta, n_out):
    """X·Wᵀ + b for a Linear(d, n_out) whose flattened parameters are theta (W, then b)."""
    d = X.shape[1]
    W, b = theta[: n_out * d].reshape(n_out, d), theta[n_out * d :]
    return X @ W.T + b


# ------------------------------------------------------------------- regression, k outputs


def test_multi_output_regression_reaches_least_squares():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 3))
    Y = X @ rng.standard_normal((3, 2)) + [0.5, -1.0] + 0.1 * rng.standard_normal((80, 2))
    model = mg.nn.Linear(3, 2, seed=0)
    history = fit(model, X, Y, lr=0.2, epochs=2000, tol=1e-9)
    assert history.converged
    X1 = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.lstsq(X1, Y, rcond=None)[0]  # (4, 2): W ᵀ stacked on b
    np.testing.assert_allclose(model.weight.numpy(), theta[:3].T, atol=1e-7)
    np.testing.assert_allclose(model.bias.numpy(), theta[3], atol=1e-7)
    assert history.final_loss == pytest.approx(np.mean((X1 @ theta - Y) ** 2), rel=1e-9)


def test_one_output_takes_targets_of_shape_n_or_n_by_1():
    X, y = blobs(n=30, classes=2)
    y = y + 0.5 * X[:, 0]
    runs = [fit(mg.nn.Linear(2, 1, seed=3), X, t, lr=0.1, epochs=5) for t in (y, y[:, None])]
    assert runs[0].step_losses == runs[1].step_losses


# ------------------------------------------------------------------- classification


def newton_logistic(X, y, steps=30):
    """(w, b) minimising the mean log loss, by Newton's method on the hand formulas."""
    X1 = np.column_stack([X, np.ones(len(X))])
    theta = np.zeros(X1.shape[1])
    for _ in range(steps):
        dw, db = formulas.logistic_gradients(X, y, theta[:-1], theta[-1])
        p = formulas.sigmoid(X1 @ theta)
        hessian = X1.T @ (X1 * (p * (1 - p))[:, None]) / len(y)
        theta = theta - np.linalg.solve(hessian, np.append(dw, db))
    return theta


def test_logistic_regression_converges_to_newtons_optimum():
    """Full batch on a linear model with a convex loss: the convergence rule applies."""
    X, labels = blobs(n=100, classes=2, spread=1.2)
    y = labels.astype(float)
    model = mg.nn.Linear(2, 1, init="zeros")
    history = fit(model, X, y, loss="bce_with_logits", lr=1.0, epochs=5000, tol=1e-7)
    assert history.converged and history.n_updates < 5000
    theta = newton_logistic(X, y)
    learned = np.append(model.weight.numpy(), model.bias.numpy())
    assert np.linalg.norm(learned - theta) <= 3e-7 * np.linalg.norm(theta)


def test_separable_classes_have_no_optimum_and_never_converge():
    X, y = np.array([[-2.0], [-1.0], [1.0], [2.0]]), np.array([0.0, 0.0, 1.0, 1.0])
    model = mg.nn.Linear(1, 1, init="zeros")
    history = fit(model, X, y, loss="bce_with_logits", lr=1.0, epochs=2000)
    assert not history.converged and history.epochs_run == 2000
    w = np.array(history.path)[:, 0]
    assert np.all(np.diff(w[-100:]) > 0)  # still growing: the loss only tends to 0
    assert "did not converge" in history.summary()


def test_a_nonlinear_model_is_not_judged_converged_and_says_why():
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    mlp = mg.nn.Sequential(mg.nn.Linear(1, 8, seed=0), mg.nn.Tanh(), mg.nn.Linear(8, 1, seed=1))
    history = fit(mlp, x, np.sin(3 * x), optimizer="adam", lr=0.01, epochs=30, tol=0.5)
    assert not history.converged and history.epochs_run == 30
    assert not history.convergence_judged
    assert "only a linear model's full-batch runs are judged" in history.summary()
    line = fit(mg.nn.Linear(1, 1, seed=0), x, np.sin(3 * x), lr=0.5, epochs=30, tol=0.5)
    assert line.converged  # the same loose tol stops a linear model at once


@pytest.mark.parametrize("batch_size", [None, 7])
def test_multiclass_accuracy_per_epoch_is_recomputed_from_the_path(batch_size):
    X, y = blobs(n=40, classes=3)
    model = mg.nn.Linear(2, 3, seed=0)
    history = fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, epochs=4,
                  batch_size=batch_size, seed=5, metrics=("accuracy",))  # fmt: skip
    # replay the batch order fit dealt out, and score each batch with the parameters it
    # was predicted with (the path holds them): the size-weighted mean over the epoch
    rng = np.random.default_rng(5)
    k, expected = 0, []
    for _ in range(4):
        right = 0
        for xb, yb in mg.data.batches(X, y, batch_size, shuffle=True, rng=rng):
            right += np.sum(linear_scores(xb, history.path[k], 3).argmax(axis=1) == yb)
            k += 1
        expected.append(right / len(X))
    assert history.metrics["accuracy"] == pytest.approx(expected, abs=1e-15)
    assert set(history.metrics) == {"accuracy"}


@pytest.mark.parametrize(
    ("loss", "head", "threshold"),
    [("bce_with_logits", [], 0.0), ("bce", [mg.nn.Sigmoid()], 0.5)],
)
def test_binary_accuracy_reads_logits_or_probabilities_as_the_loss_does(loss, head, threshold):
    X, labels = blobs(n=50, classes=2, spread=1.5)
    y = labels.astype(float)
    model = mg.nn.Sequential(mg.nn.Linear(2, 1, seed=2), *head)
    history = fit(model, X, y, loss=loss, lr=0.5, epochs=6, metrics=["accuracy"])
    for epoch, theta in enumerate(history.path[:-1]):
        z = linear_scores(X, theta, 1)[:, 0]
        score = z if threshold == 0.0 else formulas.sigmoid(z)
        assert history.metrics["accuracy"][epoch] == np.mean((score > threshold) == labels)


def test_validation_metrics_after_each_epoch_in_eval_mode_without_a_graph():
    class Probe(mg.nn.Module):
        """Linear → Dropout that logs (rows, training, grad enabled) at every call."""

        def __init__(self):
            self.linear = mg.nn.Linear(2, 3, seed=0)
            self.drop = mg.nn.Dropout(0.5, seed=1)
            self.calls = []

        def forward(self, x):
            self.calls.append((len(x), self.drop.training, mg.is_grad_enabled()))
            return self.drop(self.linear(x))

    X, y = blobs(n=40, classes=3)
    X_val, y_val = blobs(n=13, classes=3, seed=9)
    model = Probe().eval()  # fit trains in train mode and gives the modes back
    history = fit(model, X, y, loss="cross_entropy", lr=0.1, epochs=3,
                  metrics=("accuracy",), validation_data=(X_val, y_val))  # fmt: skip
    assert not model.training and not model.drop.training
    *training, final = [c for c in model.calls if c[0] == 40]
    assert set(training) == {(40, True, True)} and len(training) == 3
    assert final == (40, False, False)  # history.final_loss: the trained model, as evaluated
    assert {c for c in model.calls if c[0] == 13} == {(13, False, False)}
    for epoch in range(3):
        theta = history.path[epoch + 1]  # after the epoch; Dropout off, so the plain scores
        scores = linear_scores(X_val, theta, 3)
        assert history.metrics["val_accuracy"][epoch] == multiclass_accuracy(scores, y_val)
        value = formulas.cross_entropy_value(scores, y_val)
        assert history.val_losses[epoch] == pytest.approx(value, rel=1e-12)
    final = mg.evaluate(model, X_val, y_val, loss="cross_entropy", metrics=("accuracy",))
    assert final == {
        "loss": pytest.approx(history.val_losses[-1], rel=1e-15),
        "accuracy": history.metrics["val_accuracy"][-1],
    }
    assert "val_accuracy" in history.summary()


def test_class_indices_may_be_whole_floats_as_a_csv_gives_them():
    X, y = blobs(n=30, classes=3)
    runs = [
        fit(mg.nn.Linear(2, 3, seed=0), X, t, loss="cross_entropy", lr=0.1, epochs=3)
        for t in (y, y.astype(float))
    ]
    assert runs[0].step_losses == runs[1].step_losses


def test_soft_labels_train_with_cross_entropy():
    X, y = blobs(n=30, classes=3)
    soft = np.eye(3)[y] * 0.9 + 0.1 / 3
    history = fit(mg.nn.Linear(2, 3, seed=0), X, soft, loss="cross_entropy", lr=0.5,
                  epochs=3, metrics=("accuracy",))  # fmt: skip
    scores = linear_scores(X, history.path[0], 3)
    assert history.metrics["accuracy"][0] == np.mean(scores.argmax(1) == y)
    assert history.epoch_losses[0] == pytest.approx(
        -np.mean(np.sum(soft * (scores - np.log(np.exp(scores).sum(1, keepdims=True))), 1))
    )


def test_metric_functions_at_their_edges():
    assert binary_accuracy([0.5, 0.51], [0, 1]) == 1.0  # at the threshold: class 0
    assert binary_accuracy([0.0, -0.1], [1, 0], threshold=0.0) == 0.5
    assert binary_accuracy([[0.9], [0.2]], [1, 0]) == 1.0  # (N, 1) against (N,)
    assert multiclass_accuracy([[1.0, 1.0], [0.0, 2.0]], [0, 1]) == 1.0  # ties: the first
    assert multiclass_accuracy([[1.0, 0.0]], [[0.2, 0.8]]) == 0.0  # probabilities: argmax
    scores = np.array([[3.0, 0.0, 1.0], [0.0, 9.0, 2.0]])
    assert multiclass_accuracy(mg.tensor(scores), mg.tensor([0, 2])) == 0.5  # Tensors
    assert binary_accuracy(scores[:, ::2].T, [1, 0, 0, 1]) == 0.75  # a strided view: 3 0 1 2
    with pytest.raises(ValueError, match="3 scores but 2 labels"):
        binary_accuracy([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ValueError, match=r"need 2 class indices"):
        multiclass_accuracy([[1.0, 0.0], [0.0, 1.0]], [0, 1, 1])


def test_a_callable_metric_is_recorded_under_its_name():
    X, y = blobs(n=30, classes=2)

    def error_rate(pred, target):
        return float(np.mean((np.ravel(pred) > 0) != (target > 0.5)))

    logit_accuracy = functools.partial(binary_accuracy, threshold=0.0)
    history = fit(mg.nn.Linear(2, 1, seed=0), X, y, loss="bce_with_logits", lr=0.5, epochs=3,
                  metrics=(error_rate, "accuracy", logit_accuracy))  # fmt: skip
    assert list(history.metrics) == ["error_rate", "accuracy", "binary_accuracy"]
    assert np.allclose(np.add(history.metrics["error_rate"], history.metrics["accuracy"]), 1)
    assert history.metrics["binary_accuracy"] == history.metrics["accuracy"]


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("model", "y", "loss", "error", "message"),
    [
        (mg.nn.Linear(2, 3), [0, 1, 3, 0], "cross_entropy", ValueError,
         r"y row 2 is class 3, but the model outputs 3 classes \(indices 0 … 2\)"),
        (mg.nn.Linear(2, 3), [0, 1, 1.5, 0], "cross_entropy", ValueError,
         r"integer class indices in y; row 2 holds 1.5"),
        (mg.nn.Linear(2, 1), [0, 1, 1, 0], "cross_entropy", mg.ShapeError,
         r"one output per class.*outputs 1 value per example.*use bce_with_logits"),
        (mg.nn.Linear(2, 3), np.zeros((4, 2)), "cross_entropy", mg.ShapeError,
         r"class indices, shape \(N,\), or class probabilities of shape \(N, 3\)"),
        (mg.nn.Linear(2, 3), [0, 1, 1, 0], "bce_with_logits", mg.ShapeError,
         r"outputs 3 values per example \(output shape \(N, 3\)\) but y has 1 .* use "
         r"cross_entropy"),
        (mg.nn.Linear(2, 1), [0, 1, 2, 0], "bce_with_logits", ValueError,
         r"0/1 labels or probabilities\) in \[0, 1\]; y row 2 holds 2"),
        (mg.nn.Linear(2, 2), np.zeros((4, 3)), "mse", mg.ShapeError,
         r"outputs 2 values per example .* y has 3 per example \(y shape \(4, 3\)\)"),
    ],
)  # fmt: skip
def test_targets_that_do_not_fit_the_loss_are_refused_before_training(
    model, y, loss, error, message
):
    X = np.ones((4, 2))
    before = model.state_dict()
    with pytest.raises(error, match=message):
        fit(model, X, np.asarray(y), loss=loss)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_metric_errors_name_what_is_wrong():
    X, y = blobs(n=10, classes=2)
    with pytest.raises(ValueError, match=r"needs a classification loss .* not 'mse'"):
        fit(mg.nn.Linear(2, 1), X, y, metrics=("accuracy",))
    with pytest.raises(ValueError, match=r"accuracy needs 0/1 labels; y row 0 holds 0.3"):
        fit(mg.nn.Linear(2, 1), X, np.full(10, 0.3), loss="bce", metrics=("accuracy",))
    with pytest.raises(ValueError, match=r"unknown metric 'f1'"):
        fit(mg.nn.Linear(2, 1), X, y, loss="bce_with_logits", metrics=("f1",))
    with pytest.raises(ValueError, match=r"listed twice"):
        fit(mg.nn.Linear(2, 1), X, y, loss="bce_with_logits", metrics=("accuracy", "accuracy"))


def test_bad_validation_targets_are_refused_before_the_first_update():
    X, y = blobs(n=10, classes=3)
    model = mg.nn.Linear(2, 3, seed=0)
    before = model.weight.numpy().copy()
    with pytest.raises(ValueError, match=r"y row 1 is class 5"):
        fit(model, X, y, loss="cross_entropy", validation_data=(X[:2], [0, 5]))
    assert np.array_equal(model.weight.numpy(), before)


# ------------------------------------------------------------------- jit=True


def _linear(d):
    return mg.nn.LinearRegression(d)


def _mlp(d):
    return mg.nn.Sequential(mg.nn.Linear(d, 8, seed=1), mg.nn.Tanh(), mg.nn.Linear(8, 1, seed=2))


@pytest.mark.parametrize("make", [_linear, _mlp], ids=["LinearRegression", "MLP"])
@pytest.mark.parametrize(
    ("batch_size", "traces"), [(None, 1), (5, 2), (1, 1)], ids=["full", "mini-batch", "SGD"]
)
@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.05), ("adam", 0.02)])
def test_jit_history_equals_eager(make, batch_size, traces, optimizer, lr):
    """23 rows: batches of 5 leave a last batch of 3, which traces once more."""
    X, y, _, _ = mg.data.make_linear(n=23, d=2, noise=0.3, seed=4)
    y = np.sin(y)
    runs = {}
    for jit in (False, True):
        model = make(2)
        runs[jit] = (model, fit(model, X, y, optimizer=optimizer, lr=lr, epochs=3,
                                batch_size=batch_size, tol=None, jit=jit))  # fmt: skip
    (eager_model, eager), (jit_model, compiled) = runs[False], runs[True]
    assert compiled.traces == traces and eager.traces == 0
    assert compiled.n_updates == eager.n_updates == 3 * -(-23 // (batch_size or 23))
    np.testing.assert_allclose(compiled.step_losses, eager.step_losses, rtol=1e-12)
    np.testing.assert_allclose(compiled.epoch_losses, eager.epoch_losses, rtol=1e-12)
    np.testing.assert_allclose(np.array(compiled.path), np.array(eager.path), rtol=1e-12,
                               atol=1e-15)  # fmt: skip
    for p, q in zip(jit_model.parameters(), eager_model.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12, atol=1e-15)


def test_jit_classification_with_metrics_and_convergence_equals_eager():
    X, labels = blobs(n=50, classes=3, spread=1.2)
    runs = [
        fit(mg.nn.Linear(2, 3, seed=0), X, labels, loss="cross_entropy", lr=1.0, epochs=400,
            tol=1e-5, metrics=("accuracy",), validation_data=(X[:9], labels[:9]), jit=jit)
        for jit in (False, True)
    ]  # fmt: skip
    eager, compiled = runs
    assert eager.converged and compiled.converged_at_update == eager.converged_at_update
    assert compiled.metrics == eager.metrics
    np.testing.assert_allclose(compiled.step_losses, eager.step_losses, rtol=1e-12)
    np.testing.assert_allclose(compiled.val_losses, eager.val_losses, rtol=1e-12)
