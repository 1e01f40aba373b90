"""The ``minigrad`` command's arguments: its commands, flags, defaults and help texts.

:mod:`minigrad.cli` runs the commands; this module only says what each one accepts.
"""

from __future__ import annotations

import argparse
import importlib.metadata
from pathlib import Path

from minigrad import losses, optim, regression

DEFAULT_DEMO = "linear_model"
MINI_BATCH_EPOCHS = 100
DEFAULT_TOL = 1e-10
"""train's convergence tolerance: tight enough that the 6 digits it prints are settled."""

_OTHER_MODELS = {
    "bce": "probabilities in [0, 1] (train logits with bce_with_logits)",
    "cross_entropy": "one output per class",
}
"""Losses that cannot train the one linear output train fits, and what they need."""

TRAIN_LOSSES = sorted(name for name in losses.LOSSES if name not in _OTHER_MODELS)
"""The losses ``train --loss`` offers: every one whose input a linear output can be."""


def _demo_names() -> dict[str, str]:
    from minigrad.demos import DEMOS

    return DEMOS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def _number_or_auto(text: str, zero_allowed: bool) -> float | str:
    """'auto', or a finite number > 0 (≥ 0 where ``zero_allowed``)."""
    wanted = "a number ≥ 0" if zero_allowed else "a positive number"
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted} or 'auto', got {text!r}") from None
    lowest_ok = value >= 0 if zero_allowed else value > 0
    if not lowest_ok or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be {wanted} or 'auto', got {text}")
    return value


def _learning_rate(text: str) -> float | str:
    return _number_or_auto(text, zero_allowed=False)


def _weight_decay(text: str) -> float | str:
    return _number_or_auto(text, zero_allowed=True)


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
        "--weight-decay",
        type=_weight_decay,
        default="auto",
        metavar="ALPHA",
        help="the L2 penalty α·‖w‖²/2 on the weights as trained (never the bias), added to "
        "the mean loss (default: auto, 1/N for bce_with_logits as scikit-learn's "
        "LogisticRegression, C=1, so that separable classes have a best fit; 0 otherwise)",
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
        "--checkpoint",
        type=Path,
        metavar="RUN.ckpt",
        help="save the run's whole state there after every epoch (--checkpoint-every N "
        "epochs), atomically, for --resume (default: none)",
    )
    tr.add_argument(
        "--checkpoint-every",
        type=_positive_int,
        default=1,
        metavar="N",
        help="epochs between checkpoints (default: 1; the last epoch is always saved)",
    )
    tr.add_argument(
        "--resume",
        type=Path,
        metavar="RUN.ckpt",
        help="continue the run saved by --checkpoint (same file and flags); --epochs counts "
        "its epochs too, and the result is that of one uninterrupted run (default: a new run)",
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
