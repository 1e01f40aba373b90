"""Loss functions of the notes: how wrong a prediction is, as one number.

Each takes ``(pred, target)`` of the *same* shape and returns a scalar Tensor. Shapes must
match exactly: predictions of shape (N, 1) against targets (N,) would otherwise broadcast
to an (N, N) table of every prediction against every target, a classic silent bug.

With residuals r = pred − target over N examples:

=========  ===============================================  =========================
name       value                                            ∂/∂predᵢ
=========  ===============================================  =========================
l1_loss    Σ |r|                                            sign(rᵢ)   (0 at rᵢ = 0)
mae        (1/N) Σ |r|                                      sign(rᵢ)/N
l2_loss    Σ r²                                             2rᵢ
mse        (1/N) Σ r²                                       2rᵢ/N
rmse       √mse                                             rᵢ/(N·rmse) (0 at a perfect fit)
huber      (1/N) Σ ½r² if |r| ≤ δ else δ(|r| − ½δ)          clip(rᵢ, −δ, δ)/N
=========  ===============================================  =========================

And for classification, with probabilities p, logits z (p = σ(z) or softmax(z)) and
labels y:

===============  ===================================  ===============================
name             value                                ∂/∂zᵢ (∂/∂pᵢ for bce)
===============  ===================================  ===============================
bce              −(1/N) Σ y ln p + (1−y) ln(1−p)      (p − y)/(N·p(1 − p))
bce_with_logits  (1/N) Σ ln(1 + e^z) − y·z            (σ(zᵢ) − yᵢ)/N
cross_entropy    −(1/N) Σₙ ln softmax(zₙ)[yₙ]         (softmax(zₙ) − onehot(yₙ))/N
===============  ===================================  ===============================

Each loss is registered in :data:`LOSSES` with a :class:`LossSpec` saying what the rest
of the stack needs to know about it: how :func:`~minigrad.fit` checks its targets, which
accuracy fits its inputs, whether ``lr="auto"`` applies. The trainer,
:func:`minigrad.train.task.for_loss` and :data:`minigrad.regression.AUTO_LR_LOSSES` read
these declarations; none keeps its own table of loss names.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from minigrad import metrics, ops
from minigrad.grad_mode import is_grad_enabled
from minigrad.op import Op, ShapeError
from minigrad.ops.indexing import check_class_indices
from minigrad.tensor import Tensor, as_tensor

Loss = Callable[[Any, Any], Tensor]
TargetCheck = Callable[[str, np.ndarray, tuple[int, ...]], tuple[np.ndarray, bool]]
"""``check(name, y, out) -> (targets, class_indices)``: a training set's targets ``y``
checked against one example's model output shape ``out``; see :class:`LossSpec`."""


# --- what fit needs to know about a loss, declared by the loss -------------------------


def _outputs(shape: tuple[int, ...]) -> str:
    """'3 values per example (output shape (N, 3))', for error messages."""
    n = math.prod(shape)
    return f"{n} value{'s' * (n != 1)} per example (output shape {('N', *shape)})".replace(
        "'N'", "N"
    )


def _outside_unit_interval(x: np.ndarray) -> tuple[int, ...] | None:
    """The index of the first value of ``x`` outside [0, 1] (NaN counts as outside), or
    None: the one range check of probabilities and 0/1 targets."""
    outside = ~((x >= 0) & (x <= 1))
    return tuple(np.argwhere(outside)[0]) if outside.any() else None


def _unit_targets(name: str, y: np.ndarray, what: str) -> None:
    index = _outside_unit_interval(y)
    if index is not None:
        raise ValueError(
            f"{name} needs {what} in [0, 1]; y row {index[0]} holds {y[index].item()!r}"
        )


def _same_size(
    name: str, y: np.ndarray, out: tuple[int, ...], hint: str = ""
) -> tuple[np.ndarray, bool]:
    """Any number of values per example, as many as the model outputs: regression."""
    per_example = math.prod(y.shape[1:])
    if per_example != math.prod(out):
        raise ShapeError(
            f"{name}: the model outputs {_outputs(out)} but y has {per_example} per example "
            f"(y shape {y.shape}); they must match{hint}"
        )
    return y.astype(np.float64, copy=False), False


def _binary_targets(name: str, y: np.ndarray, out: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """One 0/1 label (or probability) per output: binary classification."""
    hint = ""
    if math.prod(y.shape[1:]) == 1:
        hint = f"; for {math.prod(out)} classes use cross_entropy with class indices"
    targets, _ = _same_size(name, y, out, hint)
    _unit_targets(name, y, "targets (0/1 labels or probabilities)")
    return targets, False


def _class_targets(name: str, y: np.ndarray, out: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """Class indices (N,), which become int64, or class probabilities (N, C): one output
    per class."""
    if len(out) != 1 or out[0] < 2:
        raise ShapeError(
            f"cross_entropy needs one output per class, shape (N, C) with C ≥ 2, but the "
            f"model outputs {_outputs(out)}; for two classes and one output use "
            "bce_with_logits"
        )
    if y.ndim == 1:
        if y.dtype.kind not in "iuf" and y.dtype != bool:
            raise TypeError(f"cross_entropy needs integer class indices in y, got dtype {y.dtype}")
        n_classes = out[0]
        labels = check_class_indices(
            y,
            n_classes,
            lambda y, row: ValueError(
                f"cross_entropy needs integer class indices in y; row {row} holds {y[row].item()!r}"
            ),
            lambda labels, row: ValueError(
                f"y row {row} is class {labels[row]}, but the model outputs {n_classes} "
                f"classes (indices 0 … {n_classes - 1})"
            ),
        )
        return labels.astype(np.int64), True
    if y.shape[1:] != out:
        raise ShapeError(
            f"cross_entropy needs y of class indices, shape (N,), or class probabilities "
            f"of shape (N, {out[0]}); got y of shape {y.shape}"
        )
    _unit_targets(name, y, "class probabilities")
    return y.astype(np.float64, copy=False), False


def _zero_one_labels(targets: np.ndarray) -> None:
    """Binary accuracy counts classes: the targets must be labels, not probabilities."""
    not_labels = ~np.isin(targets, (0.0, 1.0))
    if not_labels.any():
        index = tuple(np.argwhere(not_labels)[0])
        raise ValueError(
            f"accuracy needs 0/1 labels; y row {index[0]} holds {targets[index].item()!r} "
            "(probabilities train fine, but are no classes to be right about)"
        )


@dataclass(frozen=True)
class LossSpec:
    """What the rest of the stack needs to know about a loss, declared beside it.

    - ``targets``: how :func:`~minigrad.fit` checks a training set's targets against the
      model's output (:data:`TargetCheck`);
    - ``accuracy``: the accuracy that fits the loss's inputs (``metrics=("accuracy",)``):
      logits, probabilities, one logit per class; None for a regression loss;
    - ``accuracy_targets``: what an ``"accuracy"`` metric needs of the targets beyond
      ``targets``: 0/1 labels, but for class indices or probabilities (cross_entropy);
    - ``auto_lr``: how the loss's curvature compares with MSE's, for ``lr="auto"``
      (:func:`minigrad.regression.auto_lr`): a factor c when c times MSE's bounds it (1
      for Huber, 1/8 for the log loss of logits, whose Hessian (1/N)·X̃ᵀdiag(σ(1−σ))X̃
      is at most X̃ᵀX̃/(4N), an eighth of MSE's (2/N)·X̃ᵀX̃), ``"N"`` for a sum over the
      batch (MSE's times N), None when squared error says nothing about it.
    """

    targets: TargetCheck = _same_size
    accuracy: metrics.Metric | None = None
    accuracy_targets: Callable[[np.ndarray], None] | None = _zero_one_labels
    auto_lr: float | Literal["N"] | None = None


LOSSES: dict[str, Loss] = {}
"""Every loss by name; each carries its :class:`LossSpec` as ``loss.spec``."""


def _loss(**declared: Any) -> Callable[[Loss], Loss]:
    """Register a loss under its name, with what it declares (:class:`LossSpec`)."""

    def register(fn: Loss) -> Loss:
        fn.spec = LossSpec(**declared)  # type: ignore[attr-defined]
        LOSSES[fn.__name__] = fn
        return fn

    return register


def spec(loss: str | Loss) -> LossSpec:
    """The :class:`LossSpec` of a loss of :data:`LOSSES`, by name or by a callable's
    ``__name__``; any other loss gets the defaults (same-size targets, no accuracy).

    >>> spec("bce_with_logits").accuracy([-0.5, 0.2], [0, 1])   # logits: class 1 where z > 0
    1.0
    """
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", "")
    registered = LOSSES.get(name)
    return registered.spec if registered is not None else LossSpec()  # type: ignore[attr-defined]


def _check_shapes(name: str, pred: Any, target: Any) -> None:
    pred_shape, target_shape = (
        np.shape(pred.data if isinstance(pred, Tensor) else pred),
        np.shape(target.data if isinstance(target, Tensor) else target),
    )
    if pred_shape != target_shape:
        hint = ""
        if math.prod(pred_shape) == math.prod(target_shape):
            hint = f" (reshape one of them, e.g. pred.reshape({target_shape}))"
        raise ShapeError(
            f"{name}: predictions have shape {pred_shape} but targets have shape "
            f"{target_shape}; they must match{hint}"
        )
    if 0 in pred_shape:
        raise ValueError(f"{name}: empty predictions")


Reduction = Literal["mean", "sum", "none"]
"""How a loss reduces its per-element terms (PyTorch's ``reduction=``): their mean, their
sum, or none (the terms themselves, shaped like the predictions)."""


def _check_reduction(name: str, reduction: Any) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(terms: Tensor, reduction: Reduction) -> Tensor:
    """``terms`` reduced as ``reduction`` says (checked by the caller, before computing)."""
    if reduction == "mean":
        return terms.mean()
    return terms.sum() if reduction == "sum" else terms


def _residual(name: str, pred: Any, target: Any) -> Tensor:
    _check_shapes(name, pred, target)
    pred = pred if isinstance(pred, Tensor) else Tensor(pred)
    return pred - target


@_loss()
def l1_loss(pred: Any, target: Any) -> Tensor:
    """Σ|pred − target|, the summed absolute error ("L1 loss" in the notes).

    >>> l1_loss(Tensor([1.0, 4.0]), Tensor([2.0, 2.0])).item()
    3.0
    """
    return _residual("l1_loss", pred, target).abs().sum()


@_loss()
def mae(pred: Any, target: Any, reduction: Reduction = "mean") -> Tensor:
    """Mean absolute error, (1/N)·Σ|pred − target|: pulled less by outliers than MSE.

    ``reduction="sum"`` gives :func:`l1_loss`, ``"none"`` the terms |pred − target|
    (PyTorch's ``L1Loss``).

    >>> mae(Tensor([1.0, 4.0]), Tensor([2.0, 2.0])).item()
    1.5
    """
    _check_reduction("mae", reduction)
    return _reduce(_residual("mae", pred, target).abs(), reduction)


@_loss(auto_lr="N")
def l2_loss(pred: Any, target: Any) -> Tensor:
    """Σ(pred − target)², the summed squared error ("L2 loss" in the notes).

    >>> l2_loss(Tensor([1.0, 4.0]), Tensor([2.0, 2.0])).item()
    5.0
    """
    r = _residual("l2_loss", pred, target)
    return (r * r).sum()


class _Scratch(threading.local):
    """Per thread: the array mse's last backward formed 2r/N in, reused by the next one
    once nobody else holds it.

    A full-batch update would otherwise make two fresh N-sized arrays (the prediction
    and 2r/N); glibc gives that much freed memory back to the OS between updates, and
    touching it again costs a page fault per 4 KiB, more than the arithmetic. The array
    is reused only when its one reference is this holder's (counted the way
    :data:`_FREE` was): a gradient the caller kept, or a view of it, keeps its memory.
    """

    array: np.ndarray | None = None
    residual_of: tuple[int, int] | None = None
    """The (pred, target) arrays, by identity, whose residual a recorded forward left in
    ``array``; the backward of that node finds r there instead of subtracting again."""

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        self.residual_of = None  # whatever it held is about to be overwritten
        spare = self.array
        if spare is not None and (spare.shape, spare.dtype) == (shape, dtype):
            del spare  # not counted among the array's references
            if _references(self) == _FREE:
                return self.array
        self.array = np.empty(shape, dtype)
        return self.array

    def residual(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """r = pred − target: the forward's, if this buffer still holds it for these very
        arrays (which the node keeps alive), else computed now into a free buffer."""
        if self.residual_of == (id(pred), id(target)) and self.array is not None:
            self.residual_of = None  # the backward scales it in place: r no longer
            return self.array
        return np.subtract(pred, target, out=self.take(pred.shape, np.result_type(pred, target)))


def _references(holder: _Scratch) -> int:
    array = holder.array
    return sys.getrefcount(array)


def _count_when_free() -> int:
    holder = _Scratch()
    holder.array = np.empty(1)
    return _references(holder)


_scratch = _Scratch()
_FREE = _count_when_free()


def _mse_grad(g: Any, out: Any, pred: Any, target: Any) -> Any:
    """∂mse/∂pred = 2r/N·g with r = pred − target. On arrays it is formed in place in
    one buffer, reused from update to update (see :class:`_Scratch`)."""
    if isinstance(pred, Tensor) or isinstance(target, Tensor) or isinstance(g, Tensor):
        return (pred - target) * (2 * g / pred.size)
    r = _scratch.residual(pred, target)
    scale = 2 * g / pred.size
    if np.result_type(r, scale) != r.dtype:  # a wider upstream (float64 g, float16 r):
        return r * scale  # the product in its dtype, as the unfused (r·r).mean() gives
    r *= scale
    return r


def _mean_squared_difference(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(1/N)·Σ(pred − target)², summed a block at a time (:func:`ops.sum_of_squares`, so
    every mse, eager or compiled, agrees to the last bit).

    With grad mode on, r = pred − target is formed once, in the reused buffer of
    :class:`_Scratch`, where the backward finds it and scales it in place into 2r/N: one
    pass over the batch instead of two, as hand-written NumPy does. Under ``no_grad``
    no N-sized residual is made at all (evaluation needs none; a fresh large temporary
    costs a pass of memory traffic and page faults).
    """
    if is_grad_enabled() and type(pred) is np.ndarray and type(target) is np.ndarray:
        r = np.subtract(pred, target, out=_scratch.take(pred.shape, np.result_type(pred, target)))
        _scratch.residual_of = (id(pred), id(target))
        return np.asarray(ops.sum_of_squares(r) / pred.size)
    return np.asarray(ops.sum_of_squares(pred, target) / pred.size)


_mse = Op(
    "mse",
    _mean_squared_difference,
    (_mse_grad, lambda g, out, pred, target: -_mse_grad(g, out, pred, target)),
    ("∂mse/∂predᵢ = 2rᵢ/N", "∂mse/∂targetᵢ = −2rᵢ/N"),
    lowering=lambda pred, target: ops.div(ops.sumsq(ops.sub(pred, target)), pred.size),
)


@_loss(auto_lr=1)
def mse(pred: Any, target: Any, reduction: Reduction = "mean") -> Tensor:
    """Mean squared error, (1/N)·Σ(pred − target)²: the default loss of linear regression.

    One fused op: its forward allocates nothing of the batch's size (the residual is
    summed a block at a time), and its backward forms 2r/N in one buffer. Tested
    against ``(r * r).mean()``. ``reduction="sum"`` gives :func:`l2_loss`, ``"none"``
    the squared residuals (PyTorch's ``MSELoss``).

    >>> mse(Tensor([1.0, 4.0]), Tensor([2.0, 2.0])).item()
    2.5
    """
    _check_reduction("mse", reduction)
    if reduction != "mean":
        r = _residual("mse", pred, target)
        return _reduce(r * r, reduction)
    _check_shapes("mse", pred, target)
    pred = pred if isinstance(pred, Tensor) else Tensor(pred)
    return _mse(pred, target if isinstance(target, Tensor) else np.asarray(target))


def _rmse_grad(g: Any, out: Any, r: Any) -> Any:
    # ∂√(mean r²)/∂rᵢ = rᵢ/(N·rmse). At a perfect fit every rᵢ is 0, and so is the result
    # (0/0 would be nan): divide by 1 there instead of by 0.
    return g * r / (r.size * ops.where(out == 0, 1.0, out))


_rmse = Op(
    "rmse",
    lambda r: (r * r).mean() ** 0.5,
    (_rmse_grad,),
    ("∂rmse/∂rᵢ = rᵢ/(N·rmse)  (0 at a perfect fit)",),
)


@_loss()
def rmse(pred: Any, target: Any) -> Tensor:
    """Root mean squared error, √mse: in the units of the target; gradient 0 at a perfect fit.

    >>> rmse(Tensor([1.0, 4.0]), Tensor([2.0, 2.0])).item()  # √2.5
    1.5811388300841898
    """
    return _rmse(_residual("rmse", pred, target))


@_loss(auto_lr=1)
def huber(pred: Any, target: Any, delta: float = 1.0, reduction: Reduction = "mean") -> Tensor:
    """Huber loss: quadratic for |r| ≤ δ, linear beyond; between MSE and MAE on outliers.

    Mean over examples of ½r² where |r| ≤ δ and δ(|r| − ½δ) elsewhere (PyTorch's
    ``HuberLoss`` with ``reduction="mean"``). Its derivative is clip(r, −δ, δ).

    >>> huber(Tensor([1.0, 4.0]), Tensor([2.0, 2.0])).item()  # (0.5 + 1.5) / 2
    1.0
    """
    if not delta > 0:
        raise ValueError(f"huber: delta must be positive, got {delta}")
    _check_reduction("huber", reduction)
    r = _residual("huber", pred, target)
    a = r.abs()
    quadratic = 0.5 * r * r
    linear = delta * (a - 0.5 * delta)
    return _reduce(ops.where(a <= delta, quadratic, linear), reduction)


# --- classification ------------------------------------------------------------------

BCE_EPS = 1e-7
"""bce clips probabilities to [eps, 1 − eps]: ln 0 would be −inf (1 − 1e−7 is still below
1 in float32). Keras uses the same eps; PyTorch clamps each log at −100 instead."""


@_loss(targets=_binary_targets, accuracy=metrics.binary_accuracy)
def bce(prob: Any, target: Any, eps: float = BCE_EPS, reduction: Reduction = "mean") -> Tensor:
    """Binary cross-entropy (log loss) of probabilities: −mean(y·ln p + (1 − y)·ln(1 − p)).

    ``prob`` is clipped to [eps, 1 − eps] (the gradient is 0 where it was clipped). For
    a model's raw scores use :func:`bce_with_logits`, which needs no clipping.

    >>> round(bce(Tensor([0.9, 0.2]), Tensor([1.0, 0.0])).item(), 6)  # −(ln .9 + ln .8)/2
    0.164252
    """
    _check_shapes("bce", prob, target)
    _check_reduction("bce", reduction)
    p, y = as_tensor(prob), as_tensor(target)
    _check_range("bce", "probabilities", p, "pass raw scores to bce_with_logits instead")
    _check_range("bce", "targets", y, "targets are 0/1 labels or probabilities")
    p = p.clip(eps, 1 - eps)
    return _reduce(-(y * p.log() + (1 - y) * (1 - p).log()), reduction)


@_loss(targets=_binary_targets, accuracy=metrics._logit_accuracy, auto_lr=1 / 8)
def bce_with_logits(logits: Any, target: Any, reduction: Reduction = "mean") -> Tensor:
    """Binary cross-entropy of raw scores z (the logits, p = σ(z)), stable for any z.

    y·ln(1 + e^−z) + (1 − y)·ln(1 + e^z) (= ln(1 + e^z) − y·z) is the same loss as
    ``bce(sigmoid(z), y)`` written without ever forming σ(z), so |z| = 1000 gives a
    finite loss; its gradient is (σ(z) − y)/N. At z = ±inf it is the limit: a term whose
    weight (y or 1 − y) is 0 is 0, not 0·inf = nan, so z = +inf costs inf for y < 1 and
    0 for y = 1 (PyTorch gives nan there), with ∂/∂z = σ(z) − y still.

    >>> round(bce_with_logits(Tensor([2.0, -1.0]), Tensor([1.0, 0.0])).item(), 6)
    0.220095
    """
    _check_shapes("bce_with_logits", logits, target)
    _check_reduction("bce_with_logits", reduction)
    z, y = as_tensor(logits), as_tensor(target)
    _check_range("bce_with_logits", "targets", y, "targets are 0/1 labels or probabilities")
    return _reduce(_weighted(y, ops.softplus(-z)) + _weighted(1 - y, ops.softplus(z)), reduction)


def _weighted(w: Tensor, f: Tensor) -> Tensor:
    """w·f with 0·inf taken as 0, the limit of a term whose weight is 0 (the mask is a
    constant: where f is finite, the value and every derivative are w·f's)."""
    return w * ops.where(ops.logical_and(w == 0, f == np.inf), 0.0, f)


@_loss(targets=_class_targets, accuracy=metrics.multiclass_accuracy, accuracy_targets=None)
def cross_entropy(logits: Any, target: Any, reduction: Reduction = "mean") -> Tensor:
    """Softmax cross-entropy of logits (N, C) against class indices (N,), PyTorch's
    ``F.cross_entropy``: −mean over examples of ln softmax(zₙ)[yₙ].

    ``target`` may also be class probabilities of shape (N, C) (soft labels). Computed
    through log_softmax, so logits of ±1000 are fine; ∂/∂z = (softmax(z) − onehot(y))/N.
    ``reduction="none"`` gives the N terms, ``"sum"`` their sum.

    >>> round(cross_entropy(Tensor([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), [0, 1]).item(), 6)
    0.479525
    """
    _check_reduction("cross_entropy", reduction)
    z = as_tensor(logits)
    if z.ndim != 2 or 0 in z.shape:
        raise ShapeError(
            f"cross_entropy: logits must have shape (N, C) with N, C ≥ 1, got {z.shape}"
        )
    log_p = ops.log_softmax(z, axis=1)
    labels = target if isinstance(target, Tensor) else np.asarray(target)
    if labels.shape == z.shape and labels.dtype.kind == "f":  # class probabilities
        _check_range("cross_entropy", "target probabilities", as_tensor(target), "")
        return _reduce(-(log_p * target).sum(axis=1), reduction)
    if labels.shape != z.shape[:1]:
        raise ShapeError(
            f"cross_entropy: logits have shape {z.shape}, so targets must be {z.shape[0]} "
            f"class indices of shape ({z.shape[0]},) (or probabilities of shape "
            f"{z.shape}), got shape {labels.shape}"
        )
    return _reduce(-ops.pick(log_p, labels), reduction)


def _unit_interval(x: np.ndarray, name: str, what: str, hint: str) -> np.ndarray:
    """ValueError unless every value of ``x`` lies in [0, 1] (NaN included as bad)."""
    index = _outside_unit_interval(x)
    if index is not None:
        raise ValueError(
            f"{name}: {what} must lie in [0, 1], got {x[index].item()!r}"
            + (f"; {hint}" if hint else "")
        )
    return x


_in_unit_interval = Op("in_unit_interval", _unit_interval, (None,) * 4, saves=(), effect=True)
"""A check (an op, so a compiled function checks every call's values too)."""


def _check_range(name: str, what: str, x: Tensor, hint: str) -> None:
    """ValueError unless every value of ``x`` lies in [0, 1] (NaN included as bad)."""
    _in_unit_interval(x, name, what, hint)


def get(name: str | Loss) -> Loss:
    """The loss called ``name`` (``"mse"`` → :func:`mse`); a callable is passed through."""
    if callable(name):
        return name
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(
            f"unknown loss {name!r}; choose one of: {', '.join(sorted(LOSSES))}"
        ) from None
