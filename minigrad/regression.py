"""Linear regression on raw data that works by default, and a model file that predicts.

Gradient descent on raw features often fails for reasons a newcomer cannot see: features
in the tens or thousands make the loss a needle-thin valley (a huge condition number),
so a learning rate small enough not to blow up crawls. :func:`fit_linear` handles both:

- it standardizes the features when their loss Hessian's condition number exceeds
  :data:`AUTO_STANDARDIZE_CONDITION`, and reports the weights in original units;
- ``lr="auto"`` takes half the largest stable learning rate, known in closed form for
  squared error (:func:`minigrad.formulas.max_stable_lr`, 2/λ_max): the step 1/λ_max.

:func:`save_model` writes the result in original units with its column names, so
:func:`load_model` (and ``minigrad predict``) predicts from raw rows.

>>> import minigrad as mg
>>> ds = mg.data.load_dataset("taxi")
>>> result = fit_linear(ds.X, ds.y, progress=False)
>>> result.standardized, result.history.converged
(True, True)
>>> print(result.weights.round(2), round(result.bias, 2))  # 2.25·miles + 0.12·minutes + 3.25
[2.24 0.12] 3.27
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import data, formulas, losses, optim
from minigrad.io import FileFormatError, load_arrays, save_arrays
from minigrad.nn import LinearRegression
from minigrad.train import History, fit

__all__ = [
    "AUTO_LR_FRACTION",
    "AUTO_LR_LOSSES",
    "AUTO_STANDARDIZE_CONDITION",
    "CLASSIFICATION_LOSSES",
    "MAX_EPOCHS",
    "MIN_EPOCHS",
    "LinearFit",
    "SavedModel",
    "auto_lr",
    "condition_number",
    "default_epochs",
    "default_weight_decay",
    "fit_linear",
    "load_model",
    "penalized_condition",
    "save_model",
    "separated",
]

AUTO_STANDARDIZE_CONDITION = 10.0
"""Standardize when the loss Hessian's condition number κ exceeds this: gradient descent
needs about κ updates per digit of accuracy, so κ ≤ 10 trains fast as it is."""

CLASSIFICATION_LOSSES = ("bce_with_logits",)
"""Losses whose linear model is a classifier: z = X·w + b is a logit, p = σ(z)."""

MIN_EPOCHS = 10_000
MAX_EPOCHS = 100_000
"""``epochs=None`` in :func:`fit_linear` runs up to :func:`default_epochs` full-batch
epochs, between these two."""

AUTO_LR_FRACTION = 0.5
"""``lr="auto"`` is this fraction of the largest stable learning rate."""

AUTO_LR_LOSSES = dict(
    sorted(
        ((name, loss.spec.auto_lr) for name, loss in losses.LOSSES.items() if loss.spec.auto_lr),
        key=lambda item: item[1] == "N",  # the means first, then the sums
    )
)
"""The losses ``lr="auto"`` works for, whose curvature squared error bounds: Huber's is
at most half of MSE's, the log loss of logits' at most an eighth (σ(1−σ) ≤ 1/4), and L2
(a sum) is MSE's times the number of examples in a batch. Derived from what each loss
declares (``auto_lr`` of :class:`minigrad.losses.LossSpec`):
``{"mse": 1, "huber": 1, "bce_with_logits": 0.125, "l2_loss": "N"}``."""


def condition_number(X: Any) -> float:
    """κ = λ_max/λ_min of the MSE Hessian (2/N)·X̃ᵀX̃: how stretched the loss valley is."""
    eigenvalues = np.linalg.eigvalsh(formulas.mse_hessian(X))
    return float(eigenvalues[-1] / max(eigenvalues[0], eigenvalues[-1] * 1e-16))


def auto_lr(
    X: Any, loss: str = "mse", batch_size: int | None = None, weight_decay: float = 0.0
) -> tuple[float, float]:
    """``(lr, bound)``: half the largest stable learning rate of gradient descent on X.

    For full batches the bound is 2/λ_max of the MSE Hessian; for mini-batches (and
    SGD) the single-example bound 1/max‖(x, 1)‖², which holds for any batch. A loss
    whose curvature is at most c times MSE's has the bound divided by c: for
    ``bce_with_logits`` (c = 1/8) 2/L with L = λ_max(X̃ᵀX̃)/(4N), the logistic loss's
    smoothness. An L2 penalty (α/2)·‖w‖² adds at most α to the curvature: the bound
    is 2/(L + α). Only for losses whose curvature squared error bounds (MSE, Huber, L2,
    the log loss of logits) and plain SGD; other choices raise ValueError.

    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> mse_lr, _ = auto_lr(X)
    >>> logistic_lr, _ = auto_lr(X, "bce_with_logits")
    >>> round(logistic_lr / mse_lr, 12)
    8.0
    """
    if loss not in AUTO_LR_LOSSES:
        raise ValueError(
            f"lr='auto' is worked out for {', '.join(AUTO_LR_LOSSES)} (from the curvature of "
            f"squared error), not {loss!r}: give a learning rate"
        )
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    if batch_size is None or batch_size >= n:
        bound = formulas.max_stable_lr(X)
    else:
        bound = formulas.max_stable_lr_per_example(X)
        n = batch_size
    factor = AUTO_LR_LOSSES[loss]
    bound /= n if factor == "N" else factor
    bound = 2 / (2 / bound + weight_decay)
    return AUTO_LR_FRACTION * bound, bound


def default_weight_decay(loss: str, n: int) -> float:
    """The L2 penalty α that ``weight_decay="auto"`` chooses for ``n`` examples.

    1/n for a classifier: scikit-learn's ``LogisticRegression`` minimises
    C·Σ loss + ½‖w‖², which is C·n times mean loss + ‖w‖²/(2Cn), so its default C = 1
    is α = 1/n here. Without a penalty the log loss of classes that a line separates
    has no minimum (scaling w up lowers it for ever) and gradient descent never
    converges; with one it has exactly one. 0 for the regression losses, whose
    minimum (least squares) exists.

    >>> default_weight_decay("bce_with_logits", 500), default_weight_decay("mse", 500)
    (0.002, 0.0)
    """
    return 1.0 / n if loss in CLASSIFICATION_LOSSES else 0.0


def penalized_condition(X: Any, loss: str, weight_decay: float) -> float:
    """An upper bound on the condition number of a classifier's penalized loss: its
    curvature lies between α and L + α (L the log loss's smoothness, whose own
    curvature can be near 0 where the classes are confidently apart), so κ ≤ (L + α)/α.

    >>> import numpy as np
    >>> X = np.array([[-1.0], [1.0]])
    >>> round(penalized_condition(X, "bce_with_logits", 0.25), 12)  # L = 2/8: κ = 0.5/0.25
    2.0
    """
    _, bound = auto_lr(X, loss, None, weight_decay)
    return (2 / bound) / weight_decay


def default_epochs(condition: float, tol: float | None) -> int:
    """The epoch cap of full-batch gradient descent that reaches ``tol`` at condition κ.

    At the learning rate ``auto_lr`` gives (the step 1/λ_max), the distance to the
    optimum shrinks by at least 1 − 1/κ per epoch, so ``tol`` takes about κ·ln(1/tol)
    epochs; twice that leaves room for the start, between :data:`MIN_EPOCHS` and
    :data:`MAX_EPOCHS`. (Diabetes, κ = 470 standardized, needs 10,271 epochs at tol
    1e-10: κ·ln(1/tol) = 10,822.)

    >>> default_epochs(470.0, 1e-10), default_epochs(5.0, 1e-10)
    (21645, 10000)
    """
    digits = math.log(1 / tol) if tol else math.log(1e6)
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(2 * condition * digits))))


def separated(X: Any, y: Any, weights: Any, bias: float) -> bool:
    """True when the line (plane) z = X·w + b puts every example on its class's side:
    z > 0 for every y = 1 and z < 0 for every y = 0. The log loss then has no minimum
    (scaling w and b up lowers it for ever), so gradient descent cannot converge.

    >>> import numpy as np
    >>> separated(np.array([[-1.0], [1.0]]), np.array([0, 1]), np.array([1.0]), 0.0)
    True
    """
    z = np.asarray(X, dtype=np.float64) @ np.asarray(weights, dtype=np.float64) + bias
    y = np.asarray(y)
    return bool(np.all(np.where(y == 1, z > 0, z < 0)))


@dataclass(repr=False)
class LinearFit:
    """What :func:`fit_linear` did: the weights in original units and how they were found."""

    weights: np.ndarray  #: (d,), per unit of each raw feature
    bias: float
    history: History
    lr: float
    lr_auto: bool  #: ``lr`` was chosen from the data
    lr_bound: float | None  #: the largest stable learning rate, where known (plain SGD)
    standardized: bool
    condition: float  #: of the raw features
    condition_trained: float  #: of the features as trained (standardized or raw)
    separated: bool = False  #: stopped: the classes are separable (bce_with_logits)
    weight_decay: float = 0.0  #: the L2 penalty α·‖w‖²/2 on the weights as trained

    def predict(self, X: Any) -> np.ndarray:
        """ŷ = X·w + b for raw rows X of shape (N, d) (for a classifier, the logits)."""
        return formulas.predict(np.asarray(X, dtype=np.float64), self.weights, self.bias)

    def score(self, X: Any, y: Any) -> float:
        """R² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² of a regression; the accuracy (the fraction of
        rows whose class z > 0 predicts right) of a classifier (``bce_with_logits``).
        scikit-learn's ``score``."""
        pred, y = self.predict(X), np.asarray(y, dtype=np.float64).reshape(-1)
        if self.history.loss in CLASSIFICATION_LOSSES:
            return float(np.mean((pred > 0) == (y == 1)))
        total = float(np.sum((y - y.mean()) ** 2))
        return 1 - float(np.sum((y - pred) ** 2)) / total if total > 0 else math.nan

    def __repr__(self) -> str:
        how = "standardized" if self.standardized else "raw"
        return (
            f"LinearFit(w={np.array2string(self.weights, precision=4, threshold=6)}, "
            f"b={self.bias:.4g}; {how} features, lr={self.lr:.4g}; {self.history!r})"
        )


def fit_linear(
    X: Any,
    y: Any,
    loss: str = "mse",
    optimizer: str = "sgd",
    lr: float | str = "auto",
    standardize: bool | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    tol: float | None = 1e-6,
    progress: bool | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike[str] | None = None,
    feature_names: list[str] | None = None,
    weight_decay: float | str = "auto",
) -> LinearFit:
    """Fit ŷ = Xw + b to raw features by gradient descent, well by default.

    Args:
        standardize: None standardizes when the condition number exceeds
            :data:`AUTO_STANDARDIZE_CONDITION`; True or False forces the choice.
        lr: a learning rate, or ``"auto"`` (:func:`auto_lr`, needs ``optimizer="sgd"``).
        epochs: None takes :func:`default_epochs` of the features as trained for full
            batches (the cap scales with their condition number), else 100.
        loss: for ``"bce_with_logits"`` (logistic regression, y of 0/1 labels), with
            ``weight_decay=0``, a run stops as soon as the line separates the classes
            (:func:`separated`): the loss has no minimum then, and ``result.separated``
            says so.
        weight_decay: the L2 penalty α: (α/2)·‖w‖² joins the mean loss, on the weights
            of the features as trained (standardized, when they are), never the bias.
            ``"auto"`` is :func:`default_weight_decay`: 1/N for a classifier (as
            scikit-learn's ``LogisticRegression()``, so that the loss has one minimum
            to converge to), 0 for regression.
        feature_names: the columns' names, for messages (a constant column).
        The rest are :func:`minigrad.fit`'s (Ctrl-C included: the fit comes back with
        ``history.interrupted`` set). A diverging run returns with
        ``history.diverged`` set (and warns, as :func:`minigrad.fit` does).
    """
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    condition = condition_number(X)
    if standardize is None:
        standardize = condition > AUTO_STANDARDIZE_CONDITION
    scaler = data.Standardizer().fit(X, feature_names) if standardize else None
    X_trained = scaler.transform(X) if scaler is not None else X
    lr_auto = lr == "auto"
    if lr_auto and optimizer != "sgd":
        raise ValueError(
            f"lr='auto' is the stable step of plain gradient descent (optimizer 'sgd'), "
            f"not of {optimizer!r}: give a learning rate"
        )
    if weight_decay == "auto":
        weight_decay = default_weight_decay(loss, len(X))
    if isinstance(weight_decay, bool) or not (
        isinstance(weight_decay, numbers.Real) and 0 <= weight_decay < math.inf
    ):
        raise ValueError(f"weight_decay must be a number ≥ 0 or 'auto', got {weight_decay!r}")
    weight_decay = float(weight_decay)
    bound = None
    if lr_auto or (loss in AUTO_LR_LOSSES and optimizer == "sgd"):
        safe, bound = auto_lr(X_trained, loss, batch_size, weight_decay)
        lr = safe if lr_auto else lr
    condition_trained = condition_number(X_trained) if standardize else condition
    if epochs is None:
        classifier_penalized = loss in CLASSIFICATION_LOSSES and weight_decay > 0
        kappa = (
            penalized_condition(X_trained, loss, weight_decay)
            if classifier_penalized
            else condition_trained
        )
        epochs = 100 if batch_size is not None else default_epochs(kappa, tol)
    model = LinearRegression(X.shape[1])
    # the weights' group decays, the bias's never does (AdamW's decay is decoupled)
    opt = optim.get(optimizer)(
        [
            {"params": [model.weight], "weight_decay": weight_decay},
            {"params": [model.bias], "weight_decay": 0.0},
        ],
        lr=float(lr),
    )
    stop: list[bool] = []

    def stop_when_separated(epoch: int, update: int, value: float, m: Any) -> bool:
        if update % 10 == 0 and separated(X_trained, y, m.w, float(m.b)):
            stop.append(True)
        return bool(stop)

    # with a penalty the loss has a minimum even then: the convergence rule decides
    callbacks = [stop_when_separated] if loss == "bce_with_logits" and not weight_decay else []
    with warnings.catch_warnings():
        # the condition number is reported in LinearFit, and its advice to standardize
        # would be wrong for features already standardized
        warnings.filterwarnings("ignore", message="the features are badly conditioned")
        history = fit(model, X_trained, y, loss=loss, optimizer=opt, lr=float(lr),
                      epochs=epochs, batch_size=batch_size, seed=seed, tol=tol,
                      progress=progress, callbacks=callbacks, checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, resume=resume)  # fmt: skip
    weights, bias = model.w, model.b
    if scaler is not None:
        weights, bias = scaler.unstandardize_weights(weights, bias)
    return LinearFit(
        weights=np.asarray(weights, dtype=np.float64),
        bias=float(bias),
        history=history,
        lr=float(lr),
        lr_auto=lr_auto,
        lr_bound=bound,
        standardized=bool(standardize),
        condition=condition,
        condition_trained=condition_trained,
        separated=bool(stop),
        weight_decay=weight_decay,
    )


# --------------------------------------------------------------------------- model file

_FORMAT = "minigrad linear model 1"


@dataclass(frozen=True, repr=False)
class SavedModel:
    """A linear model read by :func:`load_model`: weights for the named raw columns, and
    the loss it was trained with (files without one were written for ``"mse"``)."""

    weights: np.ndarray
    bias: float
    feature_names: list[str]
    target_name: str
    loss: str = "mse"

    @property
    def classifier(self) -> bool:
        """True for a logistic regression (trained with ``bce_with_logits``)."""
        return self.loss in CLASSIFICATION_LOSSES

    def predict(self, X: Any) -> np.ndarray:
        """ŷ = X·w + b for raw rows of the features, in ``feature_names`` order (for a
        classifier, the logits)."""
        return formulas.predict(X, self.weights, self.bias)

    def predict_proba(self, X: Any) -> np.ndarray:
        """A classifier's probability of class 1, σ(X·w + b)."""
        if not self.classifier:
            raise ValueError(f"a model trained with {self.loss!r} predicts values, not classes")
        return formulas.sigmoid(self.predict(X))

    def __repr__(self) -> str:
        terms = " + ".join(
            f"{w:.4g}·{name}" for name, w in zip(self.feature_names, self.weights, strict=True)
        )
        if self.classifier:
            return f"SavedModel(P({self.target_name} = 1) = σ({terms} + {self.bias:.4g}))"
        return f"SavedModel({self.target_name} ≈ {terms} + {self.bias:.4g})"


def save_model(
    path: str | os.PathLike[str],
    weights: Any,
    bias: float,
    feature_names: list[str],
    target_name: str,
    loss: str = "mse",
) -> None:
    """Write a linear model in original units, with its column names and its loss, as
    plain ``.npz`` arrays (no pickle): ``weight``, ``bias``, ``feature_names``,
    ``target_name``, ``loss`` (so a classifier predicts probabilities)."""
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(feature_names) != weights.size:
        raise ValueError(f"{weights.size} weights but {len(feature_names)} feature names")
    save_arrays(
        path,
        {
            "format": np.array(_FORMAT),
            "weight": weights,
            "bias": np.float64(bias),
            "feature_names": np.array(feature_names, dtype=str),
            "target_name": np.array(target_name),
            "loss": np.array(loss),
        },
    )


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model written by :func:`save_model` (``minigrad train --save``)."""
    name = os.fspath(path)
    archive = load_arrays(path, "a model file")
    if "format" not in archive or str(archive["format"]) != _FORMAT:
        held = ", ".join(archive) or "no named arrays"
        raise FileFormatError(name, "a model saved by `minigrad train --save`", f"it holds {held}")
    try:
        return SavedModel(
            weights=archive["weight"].astype(np.float64),
            bias=float(archive["bias"]),
            feature_names=[str(n) for n in archive["feature_names"]],
            target_name=str(archive["target_name"]),
            loss=str(archive["loss"]) if "loss" in archive else "mse",
        )
    except (KeyError, ValueError, TypeError) as error:  # a field missing or malformed
        raise FileFormatError(name, "a model file", f"a damaged model ({error!r})") from None
