"""The ``minigrad`` command: run the demos, train on a CSV file, list the shipped data.

    minigrad demo [NAME|all] [--out DIR] [--quick]
    minigrad train FILE.csv --target COL [--features A,B] [--loss mse] [--optimizer sgd]
                   [--lr 0.01] [--batch-size N] [--epochs 100] [--standardize] [--seed 0]
                   [--plot loss.png] [--save model.npz]
    minigrad datasets

Bad input (a missing file, an unknown column, a non-numeric cell, a learning rate that
makes training diverge) ends with a one-line message and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from minigrad import data, formulas, losses, optim
from minigrad.nn import LinearRegression
from minigrad.train import History, fit

DEFAULT_DEMO = "linear_model"


class CommandError(Exception):
    """A failure to report in one line (exit status 1)."""


def _demo_names() -> dict[str, str]:
    from minigrad.demos import DEMOS

    return DEMOS


def run_demo(name: str, out: Path, quick: bool) -> None:
    """Run one demo (or ``all``), printing its numbers and the figures it saved."""
    demos = _demo_names()
    names = list(demos) if name == "all" else [name]
    for demo in names:
        if demo not in demos:
            raise CommandError(f"unknown demo {demo!r}; choose one of: all, {', '.join(demos)}")
    out.mkdir(parents=True, exist_ok=True)
    for demo in names:
        print(f"=== {demo}: {demos[demo]} ===")
        module = importlib.import_module(f"minigrad.demos.{demo}")
        for path in module.run(out, quick):
            print(f"saved {path}")
        print()


def list_datasets() -> None:
    """Print the shipped and synthetic data sets."""
    for info in data.list_datasets():
        print(f"{info.name:8s} {info.n_rows:6d} rows  {info.description}")


def _load(args: argparse.Namespace) -> tuple[data.Dataset, list[str]]:
    """The data set, and what loading it said (the rows ``--drop-missing`` dropped)."""
    path = Path(args.file)
    if not path.exists() and args.file in {info.name for info in data.list_datasets()}:
        path = data.dataset_path(args.file)
    features = args.features.split(",") if args.features else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = data.load_csv(
            path, target=args.target, features=features, drop_missing=args.drop_missing
        )
    return ds, [str(w.message) for w in caught]


def train(args: argparse.Namespace) -> History:
    """Fit a linear regression to a CSV file and print what happened."""
    ds, notes = _load(args)
    X = ds.X
    scaler = data.Standardizer().fit(X) if args.standardize else None
    if scaler is not None:
        X = scaler.transform(X)
    model = LinearRegression(X.shape[1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(
            model,
            X,
            ds.y,
            loss=args.loss,
            optimizer=args.optimizer,
            lr=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=None if args.progress else False,
        )
    for warning in caught:
        if not history.diverged or "diverged" not in str(warning.message):
            print(f"warning: {warning.message}", file=sys.stderr)
    w, b = model.w, model.b
    if scaler is not None:
        w, b = scaler.unstandardize_weights(w, b)
    w_cf, b_cf = formulas.closed_form(ds.X, ds.y)
    for note in notes:
        print(note)
    print(
        f"{len(ds.y)} rows, target {ds.target_name!r}, features: {', '.join(ds.feature_names)}"
        + (" (standardized for training)" if scaler is not None else "")
    )
    print(history.summary())
    print(f"{'parameter':>24s} {'learned':>14s} {'closed form':>14s}")
    for name, learned, exact in zip(
        [*ds.feature_names, "bias"], [*w, b], [*w_cf, b_cf], strict=True
    ):
        print(f"{name:>24s} {learned:14.6g} {exact:14.6g}")
    best = losses.get(args.loss)(ds.X @ w_cf + b_cf, ds.y).item()
    print(f"{args.loss} at the closed-form solution: {best:.6g}")
    if args.plot:
        from minigrad import plot

        plot.loss_curve(
            history, title=f"{Path(args.file).name}: {args.loss} during training", path=args.plot
        )
        print(f"saved {args.plot}")
    if args.save:
        model.save(args.save)
        print(f"saved {args.save}" + (" (standardized-feature weights)" if scaler else ""))
    if history.diverged:
        hint = "" if scaler is not None else " Try --standardize or a smaller --lr."
        raise CommandError(history.divergence_reason + hint)
    return history


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad",
        description="A small autodiff engine and the linear-regression ideas it makes visible.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="run a demo of the notes (default: the cars fit)")
    demo.add_argument(
        "name",
        nargs="?",
        default=DEFAULT_DEMO,
        help=f"a demo name or 'all' (default: {DEFAULT_DEMO}; list: minigrad demo --list)",
    )
    demo.add_argument("--out", type=Path, default=Path("out"), help="folder for figures")
    demo.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    demo.add_argument("--list", action="store_true", help="list the demos and exit")

    tr = commands.add_parser("train", help="fit a linear regression to a CSV file")
    tr.add_argument("file", help="a CSV file with a header row (or a shipped name: cars)")
    tr.add_argument("--target", required=True, help="the column to predict")
    tr.add_argument("--features", help="comma-separated columns (default: every numeric one)")
    tr.add_argument("--loss", default="mse", choices=sorted(losses.LOSSES))
    tr.add_argument("--optimizer", default="sgd", choices=sorted(optim.OPTIMIZERS))
    tr.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    tr.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        help="examples per update (default: all of them, full batch)",
    )
    tr.add_argument("--epochs", type=_positive_int, default=100)
    tr.add_argument(
        "--standardize",
        action="store_true",
        help="train on standardized features (weights are reported in original units)",
    )
    tr.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop rows with missing or non-numeric cells instead of stopping",
    )
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--plot", type=Path, help="save the loss curve to this PNG")
    tr.add_argument("--save", type=Path, help="save the learned parameters (.npz)")
    tr.add_argument("--progress", action="store_true", help="show a progress bar")

    commands.add_parser("datasets", help="list the shipped and synthetic data sets")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minigrad`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            parser.print_help()
        elif args.command == "demo":
            if args.list:
                for name, description in _demo_names().items():
                    print(f"{name:18s} {description}")
                return 0
            run_demo(args.name, args.out, args.quick)
        elif args.command == "train":
            train(args)
        elif args.command == "datasets":
            list_datasets()
    except (CommandError, OSError, ValueError, ImportError) as err:
        print(f"minigrad: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
