"""`minigrad train` and `predict` on real data with default options (issue 19, item 5):
classification (logistic regression of a 0/1 target), R² and accuracy, the epoch cap
that scales with conditioning, the model file's loss, and messages that name columns,
encodings and thousands separators. PyTorch is the oracle of the logistic optimum and of
the log loss's curvature; scikit-learn's data sets are used where it is installed."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest

from minigrad import formulas, regression
from minigrad.cli import TRAIN_LOSSES, build_parser, main


def cli(capsys, *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def write_table(path: Path, names: list[str], X: np.ndarray, y: np.ndarray) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for row, target in zip(X.tolist(), y.tolist(), strict=True):
            writer.writerow([*map(repr, row), repr(target)])
    return path


def logistic_data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Raw features in very different units, classes that overlap (an optimum exists)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(50, 10, n), rng.normal(2000, 400, n)])
    z = 0.15 * (X[:, 0] - 50) - 0.004 * (X[:, 1] - 2000) + 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return X, y


def torch_logistic_optimum(X: np.ndarray, y: np.ndarray, weight_decay: float = 0.0) -> np.ndarray:
    """(w, b) minimising the mean log loss plus (α/2)·‖w‖² on the standardized weights
    (never the bias), by PyTorch's L-BFGS on standardized X; in original units."""
    torch = pytest.importorskip("torch")
    mean, std = X.mean(axis=0), X.std(axis=0)
    Xs = torch.as_tensor((X - mean) / std)
    t = torch.as_tensor(y)
    theta = torch.zeros(X.shape[1] + 1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([theta], lr=1, max_iter=500, tolerance_grad=1e-14,
                            tolerance_change=1e-16, line_search_fn="strong_wolfe")  # fmt: skip

    def closure():
        opt.zero_grad()
        z = Xs @ theta[:-1] + theta[-1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t)
        loss = loss + weight_decay / 2 * (theta[:-1] ** 2).sum()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    ws = theta[:-1].detach().numpy()
    w = ws / std
    return np.append(w, theta[-1].item() - w @ mean)


def learned(out: str, names: list[str]) -> np.ndarray:
    rows = {line.split()[0]: float(line.split()[-1]) for line in out.splitlines()
            if line.split() and line.split()[0] in names and len(line.split()) == 2}  # fmt: skip
    return np.array([rows[name] for name in names])


# ------------------------------------------------------------------ classification


def test_a_zero_one_target_trains_a_logistic_regression_by_default(tmp_path, capsys):
    X, y = logistic_data()
    path = write_table(tmp_path / "c.csv", ["a", "b", "label"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "label", "--save",
                           tmp_path / "c.npz")  # fmt: skip
    assert status == 0, err
    assert "holds the classes 0 and 1: logistic regression (--loss bce_with_logits" in out
    assert "SGD on bce_with_logits" in out and "converged at epoch" in out
    assert "closed form" not in out  # least squares says nothing about log loss
    assert "L2 penalty 0.003333·‖w‖²/2 on the standardized weights (--weight-decay auto" in out
    theta = learned(out, ["a", "b", "bias"])
    expected = torch_logistic_optimum(X, y, weight_decay=1 / len(y))  # 1/N, sklearn's C=1
    np.testing.assert_allclose(theta, expected, rtol=2e-5, atol=1e-7)
    right = np.sum(((X @ expected[:2] + expected[2]) > 0) == (y == 1))
    assert f"accuracy {right / len(y):.4f} ({right} of {len(y)} training rows right)" in out

    # predict: probabilities by default, classes with --labels, 6 significant digits
    status, out, err = cli(capsys, "predict", tmp_path / "c.npz", path)
    assert status == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["a", "b", "label", "probability_label"]
    z = X @ theta[:2] + theta[2]
    probs = np.array([float(r[-1]) for r in rows[1:]])
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-z)), rtol=1e-4)  # z from 6 digits
    assert all(len(r[-1].replace(".", "").replace("-", "").lstrip("0")) <= 6 for r in rows[1:])
    status, out, _ = cli(capsys, "predict", tmp_path / "c.npz", path, "--labels")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][-1] == "predicted_label"
    assert [int(r[-1]) for r in rows[1:]] == (z > 0).astype(int).tolist()


def test_auto_lr_of_the_log_loss_is_half_two_over_its_largest_curvature():
    """At w = 0, b = 0 every σ(z) is ½, so the log loss's Hessian is X̃ᵀX̃/(4N) exactly,
    its largest curvature anywhere: the stable bound is 2/λ_max of PyTorch's Hessian."""
    torch = pytest.importorskip("torch")
    X, y = logistic_data(n=80, seed=3)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    t, Xt = torch.as_tensor(y), torch.as_tensor(Xs)

    def loss(theta):
        return torch.nn.functional.binary_cross_entropy_with_logits(Xt @ theta[:-1] + theta[-1], t)

    hessian = torch.autograd.functional.hessian(loss, torch.zeros(3, dtype=torch.float64))
    bound = 2 / torch.linalg.eigvalsh(hessian).max().item()
    lr, got = regression.auto_lr(Xs, "bce_with_logits")
    assert got == pytest.approx(bound, rel=1e-10) and lr == pytest.approx(bound / 2, rel=1e-10)


def test_auto_lr_with_a_penalty_is_half_two_over_the_penalized_curvature():
    """(α/2)·‖w‖² on the weights (not the bias) adds α to the Hessian's weight block; with
    correlated features the largest curvature is a weights' direction, so the bound is
    2/(L + α) exactly: PyTorch's Hessian of the penalized loss at w = 0, b = 0."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.normal(size=60)
    X = np.column_stack([x, x + 0.3 * rng.normal(size=60)])
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (rng.random(60) < 0.5).astype(float)
    t, Xt, alpha = torch.as_tensor(y), torch.as_tensor(Xs), 0.7

    def loss(theta):
        z = Xt @ theta[:-1] + theta[-1]
        mean = torch.nn.functional.binary_cross_entropy_with_logits(z, t)
        return mean + alpha / 2 * (theta[:-1] ** 2).sum()

    hessian = torch.autograd.functional.hessian(loss, torch.zeros(3, dtype=torch.float64))
    bound = 2 / torch.linalg.eigvalsh(hessian).max().item()
    lr, got = regression.auto_lr(Xs, "bce_with_logits", weight_decay=alpha)
    assert got == pytest.approx(bound, rel=1e-10) and lr == pytest.approx(bound / 2, rel=1e-10)
    # and the epoch cap's condition number: (L + α)/α
    assert regression.penalized_condition(Xs, "bce_with_logits", alpha) == pytest.approx(
        (2 / bound) / alpha, rel=1e-10
    )


def test_without_a_penalty_separable_classes_stop_and_say_the_loss_has_no_minimum(tmp_path, capsys):
    X = np.array([[1.0], [2.0], [3.0], [6.0], [7.0], [8.0]])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    path = write_table(tmp_path / "s.csv", ["x", "c"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "c", "--weight-decay", "0")
    assert status == 0, err
    assert "the line separates the classes, so the log loss has no minimum" in out
    assert "accuracy 1.0000 (6 of 6 training rows right)" in out
    assert "not converged" not in out and "L2 penalty" not in out


def test_by_default_separable_classes_converge_to_the_penalized_optimum(tmp_path, capsys):
    """With the default penalty (1/N) the log loss of separable classes has one minimum,
    and the run converges to it: PyTorch's L-BFGS on the same objective agrees."""
    X = np.array([[1.0], [2.0], [3.0], [6.0], [7.0], [8.0]])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    path = write_table(tmp_path / "s.csv", ["x", "c"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "c")
    assert status == 0, err
    assert "converged at epoch" in out and "no minimum" not in out
    assert "L2 penalty 0.1667·‖w‖²/2 on the standardized weights (--weight-decay auto" in out
    theta = learned(out, ["x", "bias"])
    expected = torch_logistic_optimum(X, y, weight_decay=1 / 6)
    np.testing.assert_allclose(theta, expected, rtol=2e-5, atol=1e-7)


def test_an_explicit_weight_decay_is_the_penalty_and_refuses_negatives(tmp_path, capsys):
    X, y = logistic_data(n=120, seed=2)
    path = write_table(tmp_path / "c.csv", ["a", "b", "label"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "label", "--weight-decay", "0.05")
    assert status == 0, err
    assert "L2 penalty 0.05·‖w‖²/2 on the standardized weights (--weight-decay)" in out
    expected = torch_logistic_optimum(X, y, weight_decay=0.05)
    np.testing.assert_allclose(learned(out, ["a", "b", "bias"]), expected, rtol=2e-5, atol=1e-7)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", str(path), "--weight-decay", "-1"])
    with pytest.raises(ValueError, match="weight_decay must be a number ≥ 0 or 'auto'"):
        regression.fit_linear(X, y, loss="bce_with_logits", weight_decay=-1.0)
    # a squared loss with a penalty prints no closed form: least squares is not its optimum
    status, out, err = cli(capsys, "train", path, "--target", "a", "--weight-decay", "0.1")
    assert status == 0, err
    assert "closed form" not in out and "L2 penalty 0.1·‖w‖²/2" in out


def test_classification_loss_needs_zero_one_classes_and_names_the_column(tmp_path, capsys):
    X, _ = logistic_data(n=20)
    path = write_table(tmp_path / "r.csv", ["a", "b", "price"], X, np.arange(20.0) + 2)
    status, _, err = cli(capsys, "train", path, "--target", "price", "--loss", "bce_with_logits")
    assert status == 1
    assert "needs the classes 0 and 1 in the target column 'price'" in err
    assert "20 distinct value(s) such as 2; to predict values, pass --loss mse" in err


def test_only_losses_a_linear_output_can_feed_are_offered(capsys):
    assert "bce" not in TRAIN_LOSSES and "cross_entropy" not in TRAIN_LOSSES
    assert {"mse", "bce_with_logits", "huber", "mae"} <= set(TRAIN_LOSSES)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "x.csv", "--loss", "cross_entropy"])
    assert "invalid choice: 'cross_entropy'" in capsys.readouterr().err


def test_labels_are_for_a_classifier(tmp_path, capsys):
    X, _ = logistic_data(n=30)
    y = X @ np.array([0.5, 0.01]) + 3
    path = write_table(tmp_path / "r.csv", ["a", "b", "y"], X, y)
    assert cli(capsys, "train", path, "--target", "y", "--save", tmp_path / "r.npz")[0] == 0
    status, _, err = cli(capsys, "predict", tmp_path / "r.npz", path, "--labels")
    assert status == 1 and "--labels is for a classifier" in err and "'y'" in err


# ---------------------------------------------------------------------- regression


def test_regression_reports_r2_and_predicts_eight_digits(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(100, 20, (60, 2))
    y = X @ np.array([1.5, -0.25]) + 7 + rng.normal(0, 2, 60)
    path = write_table(tmp_path / "r.csv", ["a", "b", "y"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "y", "--save", tmp_path / "m.npz")
    assert status == 0, err
    X1 = np.column_stack([X, np.ones(60)])
    pred = X1 @ np.linalg.lstsq(X1, y, rcond=None)[0]
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert f"R² {r2:.4f} on the training rows" in out
    assert "converged at epoch" in out and "closed form" in out
    status, out, _ = cli(capsys, "predict", tmp_path / "m.npz", path)
    values = [r[-1] for r in list(csv.reader(io.StringIO(out)))[1:]]
    assert all(len(v.replace(".", "").replace("-", "").lstrip("0")) <= 8 for v in values)
    np.testing.assert_allclose([float(v) for v in values], pred, rtol=1e-6)


def test_the_epoch_cap_scales_with_the_condition_number():
    # κ·ln(1/tol) epochs bring the error below tol at the step 1/λ_max: twice that
    assert regression.default_epochs(470.0, 1e-10) == math.ceil(2 * 470 * math.log(1e10))
    assert regression.default_epochs(2.0, 1e-10) == regression.MIN_EPOCHS
    assert regression.default_epochs(1e9, 1e-10) == regression.MAX_EPOCHS


def test_the_convergence_message_is_short(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.normal(0, 1, (40, 2))
    path = write_table(tmp_path / "r.csv", ["a", "b", "y"], X, X @ [1.0, 2.0] + 0.5)
    _, out, _ = cli(capsys, "train", path, "--target", "y")
    (line,) = [line for line in out.splitlines() if line.startswith("converged at epoch")]
    assert len(line) < 90, line


def test_old_model_files_without_a_loss_read_as_least_squares(tmp_path):
    path = tmp_path / "old.npz"
    arrays = {"format": np.array("minigrad linear model 1"), "weight": np.array([2.0]),
              "bias": np.float64(1.0), "feature_names": np.array(["x"]),
              "target_name": np.array("y")}  # fmt: skip
    np.savez(path, **arrays)
    model = regression.load_model(path)
    assert model.loss == "mse" and not model.classifier
    assert model.predict(np.array([[3.0]])).tolist() == [7.0]


# ------------------------------------------------------------------------ messages


def test_skipped_text_columns_are_reported(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("city,x,y\nParis,1,2\nRome,2,4.1\nOslo,3,5.9\n", encoding="utf-8")
    status, out, err = cli(capsys, "train", path, "--target", "y")
    assert status == 0, err
    assert "skipped the non-numeric column(s) 'city' (row 2: 'Paris' is not a number)" in out


def test_thousands_separators_are_named(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text('area,price\n"1,200",3\n"2,500",5\n"3,100",7\n', encoding="utf-8")
    status, _, err = cli(capsys, "train", path, "--target", "price", "--features", "area")
    assert status == 1
    assert "column 'area' is not numeric (row 2: '1,200' is not a number: it looks written " in err
    assert "thousands separators" in err


def test_another_encoding_is_named_with_the_flag_to_read_it(tmp_path, capsys):
    path = tmp_path / "l.csv"
    path.write_bytes("name,x,y\ncafé,1,2\nb,2,4\nc,3,7\n".encode("cp1252"))
    status, _, err = cli(capsys, "train", path, "--target", "y")
    assert status == 1
    assert "l.csv row 2: byte 0xe9 is not UTF-8 text" in err
    assert "(pass --encoding 'cp1252' to read it)" in err
    status, out, err = cli(capsys, "train", path, "--target", "y", "--encoding", "cp1252")
    assert status == 0, err
    assert "'café' is not a number" in out


def test_a_constant_column_is_named(tmp_path, capsys):
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.normal(500, 90, 30), np.full(30, 5.0)])
    path = write_table(tmp_path / "c.csv", ["area", "floors", "price"], X, X[:, 0] * 2 + 1)
    status, _, err = cli(capsys, "train", path, "--target", "price")
    assert status == 0
    assert "column(s) 'floors' have zero variance" in err


# ------------------------------------------------------- real data (scikit-learn's)


def sklearn_table(tmp_path: Path, name: str) -> tuple[Path, np.ndarray, np.ndarray, list[str]]:
    datasets = pytest.importorskip("sklearn.datasets")
    bunch = getattr(datasets, f"load_{name}")()
    names = [n.replace(" ", "_") for n in bunch.feature_names]
    path = write_table(tmp_path / f"{name}.csv", [*names, "target"], bunch.data,
                       bunch.target.astype(float))  # fmt: skip
    return path, bunch.data, bunch.target.astype(float), names


def test_diabetes_converges_with_default_options(tmp_path, capsys):
    """The issue's first data set: 10,000 epochs stopped short of the 10,271 it needs."""
    path, X, y, names = sklearn_table(tmp_path, "diabetes")
    status, out, err = cli(capsys, "train", path, "--target", "target")
    assert status == 0, err
    assert "converged at epoch" in out
    X1 = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.lstsq(X1, y, rcond=None)[0]
    pred = X1 @ theta
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert f"R² {r2:.4f}" in out  # 0.5177, scikit-learn's LinearRegression score
    for name, value in zip([*names, "bias"], theta, strict=True):
        (line,) = [ln for ln in out.splitlines() if ln.split()[:1] == [name]]
        assert float(line.split()[1]) == pytest.approx(value, rel=1e-5)


def test_breast_cancer_subset_converges_and_matches_the_logistic_optimum(tmp_path, capsys):
    path, X, y, names = sklearn_table(tmp_path, "breast_cancer")
    chosen = ["mean_radius", "mean_texture", "mean_smoothness"]
    columns = [names.index(c) for c in chosen]
    status, out, err = cli(capsys, "train", path, "--target", "target", "--features",
                           ",".join(chosen))  # fmt: skip
    assert status == 0, err
    assert "converged at epoch" in out and "accuracy 0." in out
    expected = torch_logistic_optimum(X[:, columns], y, weight_decay=1 / len(y))
    np.testing.assert_allclose(learned(out, [*chosen, "bias"]), expected, rtol=1e-4)


def test_sigmoid_of_the_saved_classifier_is_formulas_sigmoid():
    model = regression.SavedModel(np.array([1.0]), 0.0, ["x"], "c", "bce_with_logits")
    np.testing.assert_allclose(model.predict_proba(np.array([[0.0], [2.0]])),
                               formulas.sigmoid(np.array([0.0, 2.0])))  # fmt: skip
    assert repr(model).startswith("SavedModel(P(c = 1) = σ(")


def test_a_classifier_not_converged_in_time_says_why_it_may_crawl(tmp_path, capsys):
    X, y = logistic_data(n=100, seed=5)
    path = write_table(tmp_path / "c.csv", ["a", "b", "label"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "label", "--epochs", "3")
    assert status == 0, err
    assert "not converged in 3 epochs: when a line (nearly) separates the classes" in out
    assert "pass more --epochs (say --epochs 30) or fewer --features" in out


def test_the_final_loss_of_mini_batches_is_the_whole_datas(tmp_path, capsys):
    """It was the last batch's: below the least-squares minimum, which no model beats."""
    rng = np.random.default_rng(6)
    X = rng.normal(0, 1, (90, 2))
    y = X @ np.array([1.0, -2.0]) + rng.normal(0, 1, 90)
    path = write_table(tmp_path / "r.csv", ["a", "b", "y"], X, y)
    status, out, err = cli(capsys, "train", path, "--target", "y", "--batch-size", "32")
    assert status == 0, err
    final = float(out.split("final loss ")[1].split()[0])
    theta = np.array([float(ln.split()[1]) for ln in out.splitlines()
                      if ln.split()[:1] in (["a"], ["b"], ["bias"])])  # fmt: skip
    mse = np.mean((X @ theta[:2] + theta[2] - y) ** 2)
    assert final == pytest.approx(mse, rel=1e-5)  # 6 printed digits of each
    X1 = np.column_stack([X, np.ones(90)])
    best = np.mean((X1 @ np.linalg.lstsq(X1, y, rcond=None)[0] - y) ** 2)
    assert final >= best * (1 - 1e-6)


@pytest.mark.slow
def test_breast_cancer_with_every_column_converges_to_scikit_learns_logistic_regression(
    tmp_path, capsys
):
    """The issue's classification data set with all 30 columns, default options. Its
    classes are (nearly) separable and its standardized features have κ ≈ 1e5, so the
    unpenalized log loss has no reachable minimum; with the default penalty the run
    converges to scikit-learn's LogisticRegression() on standardized features (C = 1).
    ~15 s of full-batch gradient descent, hence slow."""
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    linear_model = pytest.importorskip("sklearn.linear_model")
    path, X, y, names = sklearn_table(tmp_path, "breast_cancer")
    status, out, err = cli(capsys, "train", path, "--target", "target", "--save",
                           tmp_path / "bc.npz")  # fmt: skip
    assert status == 0, err
    assert "converged at epoch" in out and "not converged" not in out
    scaler = preprocessing.StandardScaler().fit(X)
    reference = linear_model.LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000)
    reference.fit(scaler.transform(X), y)
    w = reference.coef_[0] / scaler.scale_  # in original units, as the CLI reports them
    b = reference.intercept_[0] - w @ scaler.mean_
    theta = learned(out, [*names, "bias"])
    np.testing.assert_allclose(theta, np.append(w, b), rtol=1e-4, atol=1e-4 * np.abs(w).max())
    right = int(np.sum(reference.predict(scaler.transform(X)) == y))
    assert f"accuracy {right / len(y):.4f} ({right} of {len(y)} training rows right)" in out
    status, out, err = cli(capsys, "predict", tmp_path / "bc.npz", path)
    assert status == 0, err
    probs = np.array([float(r[-1]) for r in list(csv.reader(io.StringIO(out)))[1:]])
    expected = reference.predict_proba(scaler.transform(X))[:, 1]
    np.testing.assert_allclose(probs, expected, rtol=1e-3, atol=1e-6)


@pytest.mark.slow
def test_the_epoch_cap_of_a_penalized_classifier_follows_its_own_condition_number():
    """Well-conditioned features (κ ≈ 1) whose classes a point separates: the penalized
    log loss's curvature is as low as α = 1/N far from the boundary, so convergence takes
    about (L + α)/α · ln(1/tol) epochs, beyond the 10,000 that κ ≈ 1 alone would allow."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-3, -0.5, 1500), rng.uniform(0.5, 3, 1500)])
    y = (x > 0).astype(float)
    result = regression.fit_linear(x[:, None], y, loss="bce_with_logits", tol=1e-10)
    assert not result.standardized and result.condition < regression.AUTO_STANDARDIZE_CONDITION
    assert result.history.converged and result.history.epochs_run > regression.MIN_EPOCHS
