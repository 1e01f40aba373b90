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
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from minigrad import data, formulas, losses, regression
from minigrad.cli_parser import DEFAULT_TOL, TRAIN_LOSSES, _demo_names, build_parser
from minigrad.io import atomic_write

_FLAGS = {"drop_missing": "--drop-missing", "delimiter": "--delimiter", "encoding": "--encoding"}
"""load_csv's arguments, as this command spells them."""

_SQUARED = ("mse", "l2_loss", "rmse")
"""Losses whose minimum is the least-squares solution (the closed form)."""


class CommandError(Exception):
    """A failure to report in one line (exit status 1)."""


class Interrupted(Exception):
    """Ctrl-C: reported in one line, exit status 130 (128 + SIGINT, as shells use)."""


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
    if result.weight_decay:
        print(_penalty(result, args.weight_decay == "auto"))
    print(result.history.summary().splitlines()[0])
    print(_status(result, args))
    print(_score(ds, result, classifier))
    rows = list(zip([*ds.feature_names, "bias"], [*result.weights, result.bias], strict=True))
    width = max(9, *(len(name) for name, _ in rows))
    if args.loss not in _SQUARED or result.weight_decay:  # least squares is not its optimum
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


def _penalty(result: regression.LinearFit, auto: bool) -> str:
    """The line that says which L2 penalty shaped the weights, and why."""
    units = "standardized " if result.standardized else ""
    text = f"L2 penalty {result.weight_decay:.4g}·‖w‖²/2 on the {units}weights"
    if auto:
        return text + (
            " (--weight-decay auto: 1/N, scikit-learn's LogisticRegression default, so that "
            "the log loss has one minimum; --weight-decay 0 for none)"
        )
    return text + " (--weight-decay)"


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
            checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
            resume=args.resume, feature_names=ds.feature_names,
            weight_decay=args.weight_decay,
        )  # fmt: skip
    if result.history.interrupted:
        _stop_interrupted(ds, result, args)
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


def _stop_interrupted(
    ds: data.Dataset, result: regression.LinearFit, args: argparse.Namespace
) -> None:
    """Ctrl-C during train: keep what was trained (--save), say where, exit 130."""
    history = result.history
    epochs, rest = divmod(history.n_updates, history.updates_per_epoch)
    done = f"after {history.n_updates} updates ({epochs} epochs" + (
        f" and {rest} updates)" if rest else ")"
    )
    if args.save:
        regression.save_model(
            args.save, result.weights, result.bias, ds.feature_names, ds.target_name
        )
        raise Interrupted(f"interrupted {done}; saved the model trained so far to {args.save}")
    raise Interrupted(f"interrupted {done}; nothing saved (pass --save MODEL.npz to keep it)")


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
    with ExitStack() as files:  # --out is replaced only once every row is written
        if args.out is not None:
            out = files.enter_context(atomic_write(args.out, "w", newline="", encoding="utf-8"))
        writer = csv.writer(out, delimiter=args.delimiter, lineterminator="\n")
        writer.writerow([*rows.header, _prediction_column(rows.header, column)])
        for i, text in zip(rows.kept, texts, strict=True):
            writer.writerow([*rows.cells[i], text])
    if args.out is not None:
        what = "probabilities of" if column.startswith("probability_") else "predictions of"
        print(f"wrote {len(texts)} {what} {model.target_name!r} to {args.out}")


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
    except (Interrupted, KeyboardInterrupt) as error:  # a second Ctrl-C: nothing to save
        print(f"minigrad: {error or 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (| head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (CommandError, OSError, ValueError, ImportError) as error:
        print(f"minigrad: error: {_explain(error)}", file=sys.stderr)
        return 1
    return 0


__all__ = ["TRAIN_LOSSES", "CommandError", "build_parser", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
