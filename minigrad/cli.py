"""The ``minigrad`` command (also ``python -m minigrad``): demos, training, prediction.

    minigrad demo [NAME|all] [--out DIR] [--quick] [--list]
    minigrad train FILE.csv --target COL [--features A,B] [--save model.npz] [...]
    minigrad predict MODEL.npz FILE.csv [--out predictions.csv]
    minigrad datasets

``train`` works on raw data with its defaults: it standardizes badly conditioned
features (and reports the weights in original units) and takes the learning rate from
the data (``--lr auto``). Bad input ends with one line, ``minigrad: error: ...``, naming
the flag to change, and exit status 1; bad usage with argparse's message and status 2.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import importlib.metadata
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from minigrad import data, formulas, losses, optim, regression

DEFAULT_DEMO = "linear_model"
MINI_BATCH_EPOCHS = 100
DEFAULT_TOL = 1e-10
"""train's convergence tolerance: tight enough that the 6 digits it prints are settled."""

_FLAGS = {"drop_missing": "--drop-missing", "delimiter": "--delimiter", "encoding": "--encoding"}
"""load_csv's arguments, as this command spells them."""

_OTHER_MODELS = {
    "bce": "probabilities in [0, 1] (train logits with bce_with_logits)",
    "cross_entropy": "one output per class",
}
"""Losses that cannot train the one linear output train fits, and what they need."""

TRAIN_LOSSES = sorted(name for name in losses.LOSSES if name not in _OTHER_MODELS)
"""The losses ``train --loss`` offers: every one whose input a linear output can be."""

_SQUARED = ("mse", "l2_loss", "rmse")
"""Losses whose minimum is the least-squares solution (the closed form)."""


class CommandError(Exception):
    """A failure to report in one line (exit status 1)."""


def _demo_names() -> dict[str, str]:
    from minigrad.demos import DEMOS

    return DEMOS


def run_demo(name: str, out: Path, quick: bool) -> list[Path]:
    """Run one demo (or ``all``), printing its numbers and the files it saved; returns
    those files."""
    demos = _demo_names()
    names = list(demos) if name == "all" else [name]
    for demo in names:
        if demo not in demos:
            raise CommandError(f"unknown demo {demo!r}; choose one of: all, {', '.join(demos)}")
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for demo in names:
        print(f"=== {demo}: {demos[demo]} ===")
        module = importlib.import_module(f"minigrad.demos.{demo}")
        for path in module.run(out, quick):
            print(f"saved {path}")
            saved.append(path)
        print()
    return saved


def list_datasets() -> None:
    """Print the data sets ``train`` accepts by name."""
    print(f"{'name':8s} {'rows':>6s}  {'kind':9s}  {'target':16s}  description")
    for info in data.list_datasets():
        kind = "synthetic" if info.synthetic else "file"
        print(f"{info.name:8s} {info.n_rows:6d}  {kind:9s}  {info.target:16s}  {info.description}")


# ----------------------------------------------------------------------------- train


def _features(args: argparse.Namespace) -> list[str] | None:
    """``--features`` as a list, checked in the command's own words."""
    if args.features is None:
        return None
    names = [name.strip() for name in args.features.split(",")]
    if not all(names):
        raise CommandError(f"--features {args.features!r} has an empty column name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CommandError(f"--features names {', '.join(repeated)} more than once")
    if args.target in names:
        raise CommandError(f"--target {args.target!r} is also in --features")
    return names


def _load(args: argparse.Namespace) -> tuple[data.Dataset, list[str]]:
    """The data set (a file, or a name from ``minigrad datasets``) and what loading said."""
    names = {info.name: info for info in data.list_datasets()}
    path = Path(args.file)
    named = not path.exists() and args.file in names
    if not path.exists() and not named:
        raise CommandError(f"{args.file}: no such file (nor a data set name: {', '.join(names)})")
    if args.target is None and not named:
        raise CommandError("--target is required for a CSV file: name the column to predict")
    features = _features(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if named:
            ds = data.load_dataset(args.file, args.target, features, args.drop_missing)
        else:
            ds = data.load_csv(path, args.target, features, args.drop_missing, args.delimiter,
                               args.encoding)  # fmt: skip
    notes = [str(w.message) for w in caught]
    if ds.n_dropped:
        notes = [note + " (--drop-missing)" if "dropped" in note else note for note in notes]
    return ds, notes


def _divergence(result: regression.LinearFit, args: argparse.Namespace) -> str:
    """The one line a diverged run ends with: where, the stable bound, the flag to pass."""
    message = (
        f"training diverged at update {result.history.diverged_at_update}: --lr {result.lr:g} "
        "is too high for these data"
    )
    if result.lr_bound is None:
        return message + f"; pass a smaller --lr (say {result.lr / 10:g})"
    steps = "full-batch" if args.batch_size is None else "every single-example"
    return message + (
        f": {steps} gradient descent is stable only for lr < {result.lr_bound:.4g}; "
        f"pass --lr auto (half that) or a smaller --lr"
    )


def _status(result: regression.LinearFit, args: argparse.Namespace) -> str:
    """How the run ended, in one short line (and what to pass when it did not finish)."""
    history = result.history
    if history.converged:
        return f"converged at epoch {history.converged_at_epoch}: {history.convergence_reason}"
    if result.separated:
        return (
            f"stopped at epoch {history.epochs_run - 1}: the line separates the classes, so "
            "the log loss has no minimum (the weights would grow for ever); the classes "
            "are settled, --epochs N trains on for sharper probabilities"
        )
    if args.batch_size is not None:
        return f"ran {history.epochs_run} epochs (mini-batch runs are not judged converged)"
    fixes = [f"more --epochs (say --epochs {history.epochs_run * 10})"]
    if args.loss in regression.CLASSIFICATION_LOSSES:
        return (
            f"not converged in {history.epochs_run} epochs: when a line (nearly) separates "
            "the classes, the log loss's minimum is far out or absent and gradient descent "
            f"crawls; pass {fixes[0]} or fewer --features"
        )
    if not result.lr_auto:
        fixes.append("--lr auto" if result.lr_bound is not None else "a smaller --lr")
    if not result.standardized and result.condition > regression.AUTO_STANDARDIZE_CONDITION:
        fixes.append("--standardize")
    return f"not converged in {history.epochs_run} epochs: pass {' or '.join(fixes)}"


def _score(ds: data.Dataset, result: regression.LinearFit, classifier: bool) -> str:
    """R² (regression) or accuracy (classification) on the training rows."""
    score = result.score(ds.X, ds.y)
    if classifier:
        right = round(score * len(ds.y))
        return f"accuracy {score:.4f} ({right} of {len(ds.y)} training rows right)"
    rmse = float(np.sqrt(np.mean((ds.y - result.predict(ds.X)) ** 2)))
    return f"R² {score:.4f} on the training rows (RMSE {rmse:.4g})"


def _report(ds: data.Dataset, result: regression.LinearFit, args: argparse.Namespace) -> None:
    classifier = args.loss in regression.CLASSIFICATION_LOSSES
    kind = "classes (0/1)" if classifier else "values"
    print(
        f"{len(ds.y)} rows, target {ds.target_name!r} ({kind}), "
        f"{len(ds.feature_names)} feature(s): {', '.join(ds.feature_names)}"
    )
    if result.standardized:
        how = "--standardize" if args.standardize else "badly conditioned"
        print(
            f"standardized the features for training ({how}: condition number "
            f"{result.condition:.3g} raw, {result.condition_trained:.3g} standardized); "
            "the weights below are in original units"
        )
    if result.lr_auto:
        print(
            f"learning rate {result.lr:.4g} (--lr auto: half the largest stable one, "
            f"{result.lr_bound:.4g})"
        )
    print(result.history.summary().splitlines()[0])
    print(_status(result, args))
    print(_score(ds, result, classifier))
    rows = list(zip([*ds.feature_names, "bias"], [*result.weights, result.bias], strict=True))
    width = max(9, *(len(name) for name, _ in rows))
    if args.loss not in _SQUARED:  # least squares is no optimum of this loss
        print(f"{'parameter':>{width}s} {'learned':>12s}")
        for name, learned in rows:
            print(f"{name:>{width}s} {learned:12.6g}")
        return
    w_cf, b_cf = formulas.closed_form(ds.X, ds.y)
    print(f"{'parameter':>{width}s} {'learned':>12s} {'closed form':>12s}")
    for (name, learned), exact in zip(rows, [*w_cf, b_cf], strict=True):
        print(f"{name:>{width}s} {learned:12.6g} {exact:12.6g}")
    best = losses.get(args.loss)(ds.X @ w_cf + b_cf, ds.y).item()
    print(f"{args.loss} at the closed-form solution: {best:.6g}")


def _choose_loss(ds: data.Dataset, args: argparse.Namespace) -> list[str]:
    """``--loss`` by default: a logistic regression for a target of 0/1 classes, else
    least squares; a classification loss needs such a target. Returns what to say."""
    values = np.unique(ds.y)
    classes = len(values) == 2 and set(values.tolist()) == {0.0, 1.0}
    if args.loss is None:
        args.loss = "bce_with_logits" if classes else "mse"
        if classes:
            return [
                f"target {ds.target_name!r} holds the classes 0 and 1: logistic regression "
                "(--loss bce_with_logits; pass --loss mse to fit a line)"
            ]
    elif args.loss in regression.CLASSIFICATION_LOSSES and not classes:
        other = next((v for v in values if v not in (0.0, 1.0)), values[0])
        raise CommandError(
            f"--loss {args.loss} needs the classes 0 and 1 in the target column "
            f"{ds.target_name!r}, which holds {len(values)} distinct value(s) such as "
            f"{float(other):g}; to predict values, pass --loss mse"
        )
    return []


def train(args: argparse.Namespace) -> regression.LinearFit:
    """Fit a linear regression to a CSV file (or a named data set) and report it."""
    if args.plot:  # before training: a missing matplotlib is said at once
        from minigrad import plot
    ds, notes = _load(args)
    notes += _choose_loss(ds, args)
    if args.lr == "auto" and (
        args.optimizer != "sgd" or args.loss not in regression.AUTO_LR_LOSSES
    ):
        raise CommandError(
            f"--lr auto is worked out for --optimizer sgd with --loss "
            f"{', '.join(regression.AUTO_LR_LOSSES)}; with --optimizer {args.optimizer} "
            f"--loss {args.loss}, pass a learning rate (--lr 0.01, say)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = regression.fit_linear(
            ds.X, ds.y, loss=args.loss, optimizer=args.optimizer, lr=args.lr,
            standardize=args.standardize, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, tol=DEFAULT_TOL, progress=args.progress,
            feature_names=ds.feature_names,
        )  # fmt: skip
    if result.history.diverged:
        raise CommandError(_divergence(result, args))
    for note in notes:
        print(note)
    _report(ds, result, args)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    if args.plot:
        title = f"{Path(args.file).name}: {args.loss} during training"
        plot.loss_curve(result.history, title=title, path=args.plot)
        print(f"saved {args.plot}")
    if args.save:
        regression.save_model(
            args.save, result.weights, result.bias, ds.feature_names, ds.target_name, args.loss
        )
        print(f"saved {args.save} (weights in original units; minigrad predict {args.save} FILE)")
    return result


# --------------------------------------------------------------------------- predict


def _prediction_column(header: list[str], name: str) -> str:
    while name in header:
        name = "_" + name
    return name


def predict(args: argparse.Namespace) -> None:
    """Write each row of FILE with the model's prediction appended as the last column."""
    model = regression.load_model(args.model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = data.load_rows(args.file, model.feature_names, args.drop_missing, args.delimiter,
                              args.encoding)  # fmt: skip
    for warning in caught:
        print(f"{warning.message} (--drop-missing)", file=sys.stderr)
    if args.labels and not model.classifier:
        raise CommandError(
            f"--labels is for a classifier; {args.model} predicts values of "
            f"{model.target_name!r} (trained with --loss {model.loss})"
        )
    if not model.classifier:
        column, cells = f"predicted_{model.target_name}", model.predict(rows.values)
        texts = [f"{value:.8g}" for value in cells]
    elif args.labels:
        column, cells = f"predicted_{model.target_name}", model.predict(rows.values) > 0
        texts = [str(int(label)) for label in cells]
    else:
        column, cells = f"probability_{model.target_name}", model.predict_proba(rows.values)
        texts = [f"{p:.6g}" for p in cells]
    out: TextIO = sys.stdout
    if args.out is not None:
        out = args.out.open("w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(out, delimiter=args.delimiter, lineterminator="\n")
        writer.writerow([*rows.header, _prediction_column(rows.header, column)])
        for i, text in zip(rows.kept, texts, strict=True):
            writer.writerow([*rows.cells[i], text])
    finally:
        if out is not sys.stdout:
            out.close()
    if args.out is not None:
        what = "probabilities of" if column.startswith("probability_") else "predictions of"
        print(f"wrote {len(texts)} {what} {model.target_name!r} to {args.out}")


# ---------------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def _learning_rate(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number or 'auto', got {text!r}"
        ) from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number or 'auto', got {text}")
    return value


def _delimiter(text: str) -> str:
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"expected one character (or 'tab'), got {text!r}")
    return text


def _version() -> str:
    try:
        return importlib.metadata.version("minigrad")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "unknown (not installed)"


def _add_reading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop rows with a missing or non-numeric cell in a used column "
        "(default: stop at the first, naming its row and column)",
    )
    command.add_argument(
        "--delimiter",
        type=_delimiter,
        default=",",
        metavar="CHAR",
        help="the character between cells, e.g. ';' or tab (default: ',')",
    )
    command.add_argument(
        "--encoding",
        default="utf-8",
        metavar="NAME",
        help="the file's text encoding, e.g. cp1252 (Excel on Windows) or latin-1 (default: utf-8)",
    )


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="minigrad",
        description="A small autodiff engine and the linear-regression ideas it makes visible.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"minigrad {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    listing = "\n".join(f"  {name:18s} {text}" for name, text in _demo_names().items())
    demo = commands.add_parser(
        "demo",
        help="run a demo of the notes (default: the cars fit)",
        description="Run a demo of the linear-regression notes: it prints its numbers and "
        "saves its figures.",
        epilog=f"demos:\n{listing}\n  {'all':18s} every one of them",
        formatter_class=formatter,
    )
    demo.add_argument(
        "name",
        nargs="?",
        default=DEFAULT_DEMO,
        help=f"a demo name or 'all' (default: {DEFAULT_DEMO})",
    )
    demo.add_argument(
        "--out", type=Path, default=Path("out"), help="folder for the figures (default: out)"
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes, for a fast look (default: full size)",
    )
    demo.add_argument("--list", action="store_true", help="list the demos and exit")

    tr = commands.add_parser(
        "train",
        help="fit a linear (or logistic) regression to a CSV file",
        description="Fit ŷ = X·w + b to a CSV file by gradient descent (with --loss "
        "bce_with_logits, a logistic regression of 0/1 classes) and report R² (accuracy) "
        "and, for squared error, the closed-form least-squares answer. The defaults work on "
        "raw data: badly conditioned features are standardized (weights are reported in "
        "original units) and the learning rate comes from the data.",
        formatter_class=formatter,
    )
    tr.add_argument(
        "file", help="a CSV file with a header row, or a data set name (minigrad datasets)"
    )
    tr.add_argument(
        "--target",
        help="the column to predict (default: a named data set's usual target; "
        "required for a file)",
    )
    tr.add_argument(
        "--features",
        metavar="A,B",
        help="comma-separated feature columns (default: every numeric column but the target)",
    )
    tr.add_argument(
        "--loss",
        default=None,
        choices=TRAIN_LOSSES,
        help="the loss (default: bce_with_logits, logistic regression, for a target of 0/1 "
        "classes, reporting accuracy, whose model predicts probabilities; else mse)",
    )
    tr.add_argument(
        "--optimizer",
        default="sgd",
        choices=sorted(optim.OPTIMIZERS),
        help="the optimizer (default: sgd, plain gradient descent)",
    )
    tr.add_argument(
        "--lr",
        type=_learning_rate,
        default="auto",
        help="the learning rate, or 'auto': half the largest stable one, computed from "
        f"the data (default: auto; sgd with {', '.join(regression.AUTO_LR_LOSSES)} only)",
    )
    tr.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="examples per update (default: all of them, full batch)",
    )
    tr.add_argument(
        "--epochs",
        type=_positive_int,
        default=None,
        help="passes over the data (default for full batch: enough for the features' "
        f"condition number, {regression.MIN_EPOCHS:,} to {regression.MAX_EPOCHS:,}, stopping "
        f"once converged; {MINI_BATCH_EPOCHS} with --batch-size)",
    )
    tr.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train on standardized features (default: when their condition number "
        f"exceeds {regression.AUTO_STANDARDIZE_CONDITION:g})",
    )
    _add_reading_options(tr)
    tr.add_argument(
        "--seed", type=int, default=0, help="seed of the mini-batch shuffling (default: 0)"
    )
    tr.add_argument(
        "--plot", type=Path, metavar="PNG", help="save the loss curve there (default: none)"
    )
    tr.add_argument(
        "--save",
        type=Path,
        metavar="MODEL.npz",
        help="save the model, in original units, for minigrad predict (default: not saved)",
    )
    tr.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: on a terminal, for runs longer than half a second)",
    )

    pr = commands.add_parser(
        "predict",
        help="predict with a model saved by train --save",
        description="Write every row of FILE as CSV with the model's prediction appended "
        "as the last column.",
        formatter_class=formatter,
    )
    pr.add_argument("model", type=Path, help="a model saved by minigrad train --save")
    pr.add_argument("file", type=Path, help="a CSV file with the model's feature columns")
    pr.add_argument(
        "--out",
        type=Path,
        metavar="PRED.csv",
        help="write the predictions there (default: standard output)",
    )
    pr.add_argument(
        "--labels",
        action="store_true",
        help="for a classifier (--loss bce_with_logits), write the class 0/1 instead of "
        "the probability of class 1 (default: the probability)",
    )
    _add_reading_options(pr)

    commands.add_parser("datasets", help="list the data sets train accepts by name")
    return parser


def _explain(error: Exception) -> str:
    """One line for an error, in the command's words (flags, not Python arguments)."""
    if isinstance(error, data.DataError) and error.argument in _FLAGS:
        flag = _FLAGS[error.argument]
        return error.advise(flag if error.value is True else f"{flag} '{error.value}'")
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minigrad`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers: dict[str | None, Any] = {
        None: lambda _: parser.print_help(),
        "train": train,
        "predict": predict,
        "datasets": lambda _: list_datasets(),
    }
    try:
        if args.command == "demo":
            if args.list:
                for name, description in _demo_names().items():
                    print(f"{name:18s} {description}")
            else:
                run_demo(args.name, args.out, args.quick)
        else:
            handlers[args.command](args)
    except BrokenPipeError:  # the reader left (| head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (CommandError, OSError, ValueError, ImportError) as error:
        print(f"minigrad: error: {_explain(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
