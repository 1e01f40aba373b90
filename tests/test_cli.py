"""The `minigrad` command end to end: errors, defaults on raw data, saving and predicting.

Most tests call ``main(argv)`` in this process (the same code the console script runs);
the entry points themselves (``python -m minigrad``, the ``minigrad.cli`` module) run in
a subprocess. Expected weights come from np.linalg.lstsq, not from the code under test.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad import regression
from minigrad.cli import build_parser, main
from minigrad.demos import DEMOS


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minigrad", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def raw_csv(path: Path, n: int = 200, seed: int = 0) -> tuple[Path, np.ndarray, np.ndarray]:
    """Raw features in the tens and thousands (condition number ~10⁸), a text column."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(40, 8, n), rng.normal(3000, 600, n)])
    y = 0.7 * X[:, 0] - 0.004 * X[:, 1] + 12 + rng.normal(0, 0.5, n)
    rows = ["name,a,b,target"]
    rows += [
        f"car{i},{a!r},{b!r},{t!r}"
        for i, (a, b, t) in enumerate(zip(*X.T.tolist(), y.tolist(), strict=True))
    ]
    return write_csv(path, rows), X, y


def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    X1 = np.column_stack([X, np.ones(len(X))])
    return np.linalg.lstsq(X1, y, rcond=None)[0]


def table(out: str) -> dict[str, tuple[float, float]]:
    """The parameter table's rows: name → (learned, closed form)."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            try:
                rows[parts[0]] = (float(parts[1]), float(parts[2]))
            except ValueError:
                continue
    return rows


# --------------------------------------------------------------------- entry points


def test_python_dash_m_minigrad_and_version() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"minigrad {importlib.metadata.version('minigrad')}"
    listing = run("datasets")
    assert listing.returncode == 0 and "taxi" in listing.stdout


def test_the_cli_module_runs_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "minigrad.cli", "demo", "--list"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "gradient_descent" in result.stdout


def test_no_command_prints_help(capsys) -> None:
    status, out, _ = cli(capsys)
    assert status == 0 and "COMMAND" in out and "predict" in out


# ------------------------------------------------------------------------- help text


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", ["demo", "train", "predict"])
def test_every_option_has_help_that_shows_its_default(command) -> None:
    parser = _subcommands()[command]
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "list"):
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        assert "default" in action.help, f"{command} {action.option_strings[0]}: {action.help}"


def test_demo_help_lists_the_demos_and_the_default_out(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in DEMOS:
        assert f"  {name} " in out
    assert "(default: out)" in out and "(default: linear_model)" in out


def test_datasets_marks_synthetic_sets_and_train_accepts_them(capsys) -> None:
    status, out, _ = cli(capsys, "datasets")
    assert status == 0
    kinds = {line.split()[0]: line.split()[2] for line in out.splitlines()[1:]}
    assert kinds == {"cars": "file", "linear": "synthetic", "taxi": "synthetic"}
    assert "406" in out
    status, out, err = cli(capsys, "train", "taxi")  # its usual target, FARE
    assert status == 0, err
    rows = table(out)
    for name in ("TRIP_MILES", "TRIP_MINUTES", "bias"):
        learned, exact = rows[name]
        assert learned == pytest.approx(exact, rel=1e-5)


def test_demo_list_and_unknown_demo(capsys) -> None:
    status, out, _ = cli(capsys, "demo", "--list")
    assert status == 0 and "gradient_descent" in out
    status, _, err = cli(capsys, "demo", "nope")
    assert status == 1
    assert err.startswith("minigrad: error: unknown demo 'nope'")


def test_default_demo_is_the_cars_fit(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run("demo", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "closed form" in result.stdout
    assert (tmp_path / "linear_model_fit.png").exists()


# ----------------------------------------------------------------- train, raw data


def test_defaults_train_a_raw_csv_to_the_closed_form_and_predict_reproduces_it(
    tmp_path: Path, capsys
) -> None:
    csv_path, X, y = raw_csv(tmp_path / "raw.csv")
    model = tmp_path / "model.npz"
    status, out, err = cli(capsys, "train", csv_path, "--target", "target", "--save", model)
    assert status == 0, err
    assert "standardized the features for training (badly conditioned" in out
    assert "--lr auto: half the largest stable one" in out
    assert "converged at" in out and "not converged" not in out
    theta = least_squares(X, y)
    rows = table(out)
    for name, exact in zip(["a", "b", "bias"], theta, strict=True):
        learned, printed_exact = rows[name]
        assert learned == pytest.approx(exact, rel=1e-5)
        assert printed_exact == pytest.approx(exact, rel=1e-5)

    status, out, err = cli(capsys, "predict", model, csv_path)
    assert status == 0, err
    written = list(csv.reader(io.StringIO(out)))
    assert written[0] == ["name", "a", "b", "target", "predicted_target"]
    assert [r[:4] for r in written[1:]] == list(csv.reader(csv_path.open()))[1:]
    predictions = np.array([float(r[-1]) for r in written[1:]])
    np.testing.assert_allclose(predictions, X @ theta[:2] + theta[2], rtol=1e-6)

    out_file = tmp_path / "pred.csv"
    status, out, _ = cli(capsys, "predict", model, csv_path, "--out", out_file)
    assert status == 0 and f"wrote 200 predictions of 'target' to {out_file}" in out
    assert out_file.read_text().splitlines() == [",".join(r) for r in written]


def test_predict_needs_only_the_feature_columns(tmp_path: Path, capsys) -> None:
    csv_path, X, y = raw_csv(tmp_path / "raw.csv", n=50)
    model = tmp_path / "m.npz"
    assert cli(capsys, "train", csv_path, "--target", "target", "--save", model)[0] == 0
    new = write_csv(tmp_path / "new.csv", ["b;a", "3000;40", "2500;;"[:-1]])
    status, out, err = cli(capsys, "predict", model, new)  # semicolons: the flag is named
    assert status == 1 and "(pass --delimiter ';' to read it)" in err
    status, out, err = cli(capsys, "predict", model, new, "--delimiter", ";")
    assert status == 1 and "row 3, column 'a': missing value (pass --drop-missing" in err
    status, out, err = cli(capsys, "predict", model, new, "--delimiter", ";", "--drop-missing")
    assert status == 0 and "dropped 1 of 2 rows" in err
    theta = least_squares(X, y)
    lines = out.splitlines()
    assert lines[0] == "b;a;predicted_target" and lines[1].startswith("3000;40;")
    assert float(lines[1].split(";")[-1]) == pytest.approx(
        40 * theta[0] + 3000 * theta[1] + theta[2]
    )


def test_predict_refuses_what_is_not_a_saved_model(tmp_path: Path, capsys) -> None:
    csv_path, _, _ = raw_csv(tmp_path / "raw.csv", n=20)
    status, _, err = cli(capsys, "predict", csv_path, csv_path)
    assert status == 1 and "raw.csv is not a model file" in err
    regression.save_model(tmp_path / "m.npz", [1.0], 0.0, ["zzz"], "y")
    status, _, err = cli(capsys, "predict", tmp_path / "m.npz", csv_path)
    assert status == 1 and "no column 'zzz'" in err


def test_standardize_and_lr_can_be_forced(tmp_path: Path, capsys) -> None:
    csv_path, _, _ = raw_csv(tmp_path / "raw.csv", n=100)
    status, out, err = cli(
        capsys, "train", csv_path, "--target", "target", "--no-standardize", "--epochs", "30"
    )
    assert status == 0, err
    assert "standardized" not in out  # raw, at the raw data's (tiny) stable step: no blow-up
    assert (
        "not converged in 30 epochs: pass more --epochs (say --epochs 300) or --standardize" in out
    )
    status, out, err = cli(
        capsys, "train", csv_path, "--target", "target", "--lr", "0.01", "--epochs", "3"
    )
    assert status == 0, err
    assert "not converged in 3 epochs: pass more --epochs (say --epochs 30) or --lr auto" in out
    assert "--lr auto: half" not in out  # no auto-lr line when it was given


def test_mini_batches_run_their_epochs_at_the_single_example_bound(tmp_path: Path, capsys):
    csv_path, X, _ = raw_csv(tmp_path / "raw.csv", n=100)
    status, out, err = cli(capsys, "train", csv_path, "--target", "target", "--batch-size", "10")
    assert status == 0, err
    assert "1000 updates in 100 epochs" in out  # 100 epochs by default with --batch-size
    assert "ran 100 epochs (mini-batch runs are not judged converged)" in out
    assert "not converged" not in out
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    bound = 1 / np.max(np.sum(Xs**2, axis=1) + 1)  # 1/max‖(x, 1)‖² of what it trains on
    assert f"half the largest stable one, {bound:.4g})" in out
    learned, exact = table(out)["a"]
    assert learned == pytest.approx(exact, rel=0.05)  # near, not at: SGD hovers


def test_a_divergence_is_one_line_naming_the_bound_and_the_flag(tmp_path: Path, capsys) -> None:
    csv_path, X, _ = raw_csv(tmp_path / "raw.csv", n=100)
    status, out, err = cli(capsys, "train", csv_path, "--target", "target", "--lr", "50")
    assert status == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("minigrad: error: training diverged")
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)  # it trains standardized features
    X1 = np.column_stack([Xs, np.ones(len(Xs))])
    bound = 2 / np.linalg.eigvalsh(2 / len(X1) * X1.T @ X1)[-1]
    assert f"stable only for lr < {bound:.4g}; pass --lr auto" in err


def test_the_shipped_cars_by_name(capsys) -> None:
    status, out, err = cli(
        capsys, "train", "cars", "--target", "Miles_per_Gallon", "--features", "Weight_in_lbs",
        "--drop-missing",
    )  # fmt: skip
    assert status == 0, err
    assert "dropped 8 of 406 rows" in out and "(--drop-missing)" in out
    assert "Warning" not in err


def test_train_on_a_csv_reports_weights_in_original_units(tmp_path: Path) -> None:
    """Through the console entry point, with --standardize, --lr, --plot and --save."""
    pytest.importorskip("matplotlib")
    csv_path, X, y = raw_csv(tmp_path / "d.csv")
    result = run(
        "train", str(csv_path), "--target", "target", "--standardize", "--lr", "0.3",
        "--save", str(tmp_path / "m.npz"), "--plot", str(tmp_path / "loss.png"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    learned, _ = table(result.stdout)["a"]
    assert learned == pytest.approx(least_squares(X, y)[0], rel=1e-5)
    assert (tmp_path / "loss.png").stat().st_size > 5_000
    assert regression.load_model(tmp_path / "m.npz").feature_names == ["a", "b"]


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "missing.csv", "--target", "y"], "missing.csv: no such file (nor a data set"),
        (["train", "{folder}", "--target", "y"], "is a folder, not a CSV file"),
        (["train", "{csv}"], "--target is required for a CSV file"),
        (["train", "{csv}", "--target", "nope"], "no column 'nope'"),
        (["train", "{csv}", "--target", "y", "--features", "x,zzz"], "no column 'zzz'"),
        (["train", "{csv}", "--target", "y", "--features", "x,,x"], "empty column name"),
        (["train", "{csv}", "--target", "y", "--features", "x,x"], "--features names x more"),
        (["train", "{csv}", "--target", "y", "--features", "y"], "--target 'y' is also in"),
        (["train", "{bad}", "--target", "y", "--features", "x"], "row 3, column 'x'"),
        (["train", "{bad}", "--target", "y"], "no numeric columns"),
        (["train", "{gap}", "--target", "y"], "(pass --drop-missing to drop such rows)"),
        (["train", "{semi}", "--target", "y"], "(pass --delimiter ';' to read it)"),
        (["train", "{csv}", "--target", "y", "--lr", "50"], "diverged"),
        (["train", "{csv}", "--target", "y", "--loss", "mae"], "--lr auto is worked out for"),
        (["train", "{csv}", "--target", "y", "--optimizer", "adam"], "pass a learning rate"),
    ],
)
def test_errors_are_one_line_in_the_commands_words(
    tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    files = {
        "csv": write_csv(tmp_path / "ok.csv", ["x,y", *(f"{i},{2 * i + 1}" for i in range(10))]),
        "bad": write_csv(tmp_path / "bad.csv", ["x,y", "1,3", "two,5", "3,7"]),
        "gap": write_csv(tmp_path / "gap.csv", ["x,y", "1,3", "2,", "3,7"]),
        "semi": write_csv(tmp_path / "semi.csv", ["x;y", "1;3", "2;5"]),
        "folder": tmp_path,
    }
    status, _, err = cli(capsys, *(a.format(**files) for a in args))
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigrad: error: "), err
    assert message in lines[0]
    assert "drop_missing" not in err and "delimiter=" not in err and "[Errno" not in err


def test_the_delimiter_option_reads_a_semicolon_file(tmp_path: Path, capsys) -> None:
    semi = write_csv(tmp_path / "semi.csv", ["x;y", *(f"{i};{2 * i + 1}" for i in range(10))])
    status, out, err = cli(capsys, "train", semi, "--target", "y", "--delimiter", ";")
    assert status == 0, err
    assert table(out)["x"][0] == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "x.csv", "--target", "y", "--epochs", "0"], "must be ≥ 1"),
        (["train", "x.csv", "--target", "y", "--lr", "-1"], "positive number or 'auto'"),
        (["train", "x.csv", "--target", "y", "--lr", "fast"], "positive number or 'auto'"),
        (["train", "x.csv", "--target", "y", "--delimiter", ";;"], "one character"),
    ],
)
def test_bad_arguments_exit_with_usage_error(capsys, args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_plot_without_matplotlib_fails_before_training(tmp_path: Path, capsys, monkeypatch):
    import minigrad

    monkeypatch.setitem(sys.modules, "minigrad.plot", None)  # as if matplotlib were missing
    monkeypatch.delattr(minigrad, "plot", raising=False)
    csv_path, _, _ = raw_csv(tmp_path / "raw.csv", n=20)
    status, out, err = cli(capsys, "train", csv_path, "--target", "target", "--plot", "x.png")
    assert status == 1 and out == "" and err.startswith("minigrad: error: ")
