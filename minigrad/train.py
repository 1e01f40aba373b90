"""Training: gradient descent over epochs and batches, and a record of what happened.

One *update* is: predict a batch, measure the loss, backpropagate, step the optimizer.
One *epoch* is a pass over every example once: ``ceil(N / batch_size)`` updates.
``batch_size=None`` (or ≥ N) is full-batch gradient descent, ``1`` is stochastic
gradient descent (SGD), anything between is mini-batch SGD.

>>> import minigrad as mg
>>> X, y, _, _ = mg.data.make_linear(n=200, d=1, noise=0.1, seed=0)
>>> model = mg.nn.LinearRegression(1)
>>> history = mg.fit(model, X, y, lr=0.1, epochs=500, progress=False)
>>> history.converged
True
>>> history                                      # doctest: +ELLIPSIS
History(SGD on mse, lr=0.1, full batch: ... epochs; final loss 0.0...; converged at epoch ...)
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import autograd, formulas, losses, metrics, optim
from minigrad import data as data_utils
from minigrad.convergence import StepRule
from minigrad.grad_mode import no_grad
from minigrad.jit import Jitted
from minigrad.jit import jit as compile_fn
from minigrad.nn import Linear, Module
from minigrad.op import ShapeError
from minigrad.tensor import Tensor

Callback = Callable[[int, int, float, Module], Any]
MetricSpec = str | metrics.Metric

DIVERGENCE_FACTOR = 1e4
"""An epoch loss this many times the first epoch's counts as divergence."""

CONDITION_WARNING = 1e4
"""Warn when the features' Hessian condition number exceeds this (slow convergence)."""

PROGRESS_DELAY = 0.5
"""Seconds before the automatic progress bar (``progress=None``) appears: quick runs
show none, so a notebook cell that trains in a blink prints nothing."""


@dataclass(repr=False)
class History:
    """Everything a training run measured; a diverged or stopped run keeps all of it.

    ``step_losses[k]`` is the loss of update k's batch, measured *before* that update
    is applied. ``epoch_losses[e]`` is the mean of the step losses of epoch e (for
    full-batch training, the loss at the start of the epoch). ``path[k]`` is the
    parameter vector (``param_names`` order, flattened) before update k, plus one
    final entry after the last update: draw it on the loss surface.
    ``param_steps[e]`` is how far epoch e moved the parameters, ‖θ_e − θ_(e−1)‖: the
    convergence rule reads it. ``metrics[name][e]`` is a metric of epoch e (``fit``'s
    ``metrics=``; Keras's names): ``"accuracy"`` over the epoch's batches as they were
    predicted before each update, weighted by batch size (like ``epoch_losses``), and
    ``"val_accuracy"`` on the validation data after the epoch, in eval mode.
    ``convergence_judged`` says whether the convergence rule applied (full batch, linear
    model); ``traces``, how often ``fit(..., jit=True)`` traced its update. ``repr()``
    is a one-line summary (a run of a million updates prints as quickly as one of ten);
    the numbers are one attribute away.
    """

    step_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    grad_norms: list[float] = field(default_factory=list)
    param_steps: list[float] = field(default_factory=list)
    path: list[np.ndarray] = field(default_factory=list)
    param_names: list[str] = field(default_factory=list)
    updates_per_epoch: int = 0
    batch_size: int | None = None
    lr: float = 0.0
    loss: str = ""
    optimizer: str = ""
    wall_time: float = 0.0
    converged: bool = False
    converged_at_update: int | None = None
    converged_at_epoch: int | None = None
    convergence_reason: str = ""
    diverged: bool = False
    diverged_at_update: int | None = None
    divergence_reason: str = ""
    stopped_by_callback: bool = False
    max_stable_lr: float | None = None
    convergence_judged: bool = False
    traces: int = 0

    @property
    def n_updates(self) -> int:
        return len(self.step_losses)

    @property
    def epochs_run(self) -> int:
        return len(self.epoch_losses)

    @property
    def final_loss(self) -> float:
        """The last measured loss (nan before any update)."""
        return self.step_losses[-1] if self.step_losses else math.nan

    def _kind(self) -> str:
        return {None: "full batch", 1: "SGD (batch 1)"}.get(
            self.batch_size, f"mini-batch {self.batch_size}"
        )

    def __repr__(self) -> str:
        if self.converged:
            status = f"converged at epoch {self.converged_at_epoch}"
        elif self.diverged:
            status = f"diverged at update {self.diverged_at_update}"
        elif self.stopped_by_callback:
            status = "stopped by a callback"
        else:
            status = "not converged"
        return (
            f"History({self.optimizer} on {self.loss}, lr={self.lr:g}, {self._kind()}: "
            f"{self.n_updates} updates in {self.epochs_run} epochs; final loss "
            f"{self.final_loss:.4g}; {status})"
        )

    def summary(self) -> str:
        """One paragraph: what ran, where it ended, and why it stopped."""
        lines = [
            f"{self.optimizer} on {self.loss}, lr={self.lr:g}, {self._kind()}: "
            f"{self.n_updates} updates in {self.epochs_run} epochs ({self.updates_per_epoch} "
            f"per epoch), {self.wall_time:.3g} s; final loss {self.final_loss:.6g}"
        ]
        if self.converged:
            lines.append(
                f"converged at update {self.converged_at_update} (epoch "
                f"{self.converged_at_epoch}): {self.convergence_reason}"
            )
        elif self.diverged:
            lines.append(f"DIVERGED: {self.divergence_reason}")
        elif self.stopped_by_callback:
            lines.append("stopped by a callback")
        elif self.convergence_judged:
            lines.append("did not converge within the epochs given")
        elif self.batch_size is None:
            lines.append(
                "ran every epoch (only a linear model's full-batch runs are judged converged: "
                "other models' steps can shrink on a plateau and grow again)"
            )
        else:
            lines.append("ran every epoch (only full-batch runs are judged converged)")
        if self.metrics:
            lines.append(
                "last epoch: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in self.metrics.items() if v)
            )
        return "\n".join(lines)


def _check_finite(name: str, values: Any, chunk: int = 65_536) -> None:
    """ValueError naming the first non-finite cell; reads ``values`` a chunk at a time,
    so a memory-mapped X larger than memory is checked without loading it whole."""
    for start in range(0, len(values), chunk):
        block = np.asarray(values[start : start + chunk])
        bad = ~np.isfinite(block)
        if bad.any():
            index = np.argwhere(bad)[0]
            where = f"row {start + index[0]}" + (f", column {index[1]}" if block.ndim > 1 else "")
            raise ValueError(f"{name} has a non-finite value ({block[tuple(index)]}) at {where}")


def _check_data(model: Module, X: Any, y: Any) -> tuple[Any, Any]:
    if not hasattr(X, "shape") or not hasattr(X, "__getitem__"):
        X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64) if not hasattr(y, "shape") else y
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if X.ndim != 2 or y.ndim not in (1, 2):
        raise ShapeError(
            f"fit needs X of shape (N, d) and y of shape (N,) or (N, k); got "
            f"X {X.shape} and y {y.shape}"
        )
    if len(X) == 0:
        raise ValueError("fit got no examples (X is empty)")
    if len(X) != len(y):
        raise ShapeError(f"X has {len(X)} rows but y has {len(y)}")
    in_features = getattr(model, "in_features", None)
    if in_features is not None and X.shape[1] != in_features:
        raise ShapeError(
            f"X has {X.shape[1]} features (columns) but the model expects {in_features}"
        )
    _check_finite("X", X)
    _check_finite("y", y)
    return X, y


@contextmanager
def _modes_kept(model: Module) -> Iterator[None]:
    """Every module's own train/eval mode is restored on the way out."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


@contextmanager
def _evaluating(model: Module) -> Iterator[None]:
    """``model.eval()`` and ``no_grad()`` inside; every module's own mode restored after."""
    with _modes_kept(model), no_grad():
        model.eval()
        yield


def _output_shape(model: Module, X: Any) -> tuple[int, ...]:
    """What the model outputs for one example (the shape of its output for X's first row)."""
    with _evaluating(model):
        return model(Tensor(np.asarray(X[:1]))).shape[1:]


def _outputs(shape: tuple[int, ...]) -> str:
    """'3 values per example (output shape (N, 3))', for error messages."""
    n = math.prod(shape)
    return f"{n} value{'s' * (n != 1)} per example (output shape {('N', *shape)})".replace(
        "'N'", "N"
    )


def _prepare_targets(loss: str, y: Any, out: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """y checked against the loss and the model's output ``out`` (one example's shape):
    ``(targets, class_indices)``. Class indices (cross_entropy) become int64, everything
    else float64."""
    y = np.asarray(y)
    if loss == "cross_entropy":
        if len(out) != 1 or out[0] < 2:
            raise ShapeError(
                f"cross_entropy needs one output per class, shape (N, C) with C ≥ 2, but the "
                f"model outputs {_outputs(out)}; for two classes and one output use "
                "bce_with_logits"
            )
        if y.ndim == 1:
            return _class_indices(y, out[0]), True
        if y.shape[1:] != out:
            raise ShapeError(
                f"cross_entropy needs y of class indices, shape (N,), or class probabilities "
                f"of shape (N, {out[0]}); got y of shape {y.shape}"
            )
        _check_unit_interval(loss, y, "class probabilities")
        return y.astype(np.float64, copy=False), False
    per_example = math.prod(y.shape[1:])
    if per_example != math.prod(out):
        hint = ""
        if loss in ("bce", "bce_with_logits") and per_example == 1:
            hint = f"; for {math.prod(out)} classes use cross_entropy with class indices"
        raise ShapeError(
            f"{loss}: the model outputs {_outputs(out)} but y has {per_example} per example "
            f"(y shape {y.shape}); they must match{hint}"
        )
    if loss in ("bce", "bce_with_logits"):
        _check_unit_interval(loss, y, "targets (0/1 labels or probabilities)")
    return y.astype(np.float64, copy=False), False


def _class_indices(y: np.ndarray, n_classes: int) -> np.ndarray:
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        row = int(np.flatnonzero(y != np.round(y))[0])
        raise ValueError(
            f"cross_entropy needs integer class indices in y; row {row} holds {y[row].item()!r}"
        )
    if y.dtype.kind not in "iuf" and y.dtype != bool:
        raise TypeError(f"cross_entropy needs integer class indices in y, got dtype {y.dtype}")
    labels = y.astype(np.int64)
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"y row {row} is class {labels[row]}, but the model outputs {n_classes} classes "
            f"(indices 0 … {n_classes - 1})"
        )
    return labels


def _check_unit_interval(loss: str, y: np.ndarray, what: str) -> None:
    bad = ~((y >= 0) & (y <= 1))
    if bad.any():
        index = np.argwhere(bad)[0]
        raise ValueError(
            f"{loss} needs {what} in [0, 1]; y row {index[0]} holds {y[tuple(index)].item()!r}"
        )


def _sample_rows(X: Any, limit: int = 10_000) -> np.ndarray:
    step = max(1, len(X) // limit)
    return np.asarray(X[::step], dtype=np.float64)


def _warn_if_ill_conditioned(X: Any) -> None:
    """Gradient descent needs ~κ steps on a quadratic with condition number κ."""
    hessian = formulas.mse_hessian(_sample_rows(X))
    eig = np.linalg.eigvalsh(hessian)
    condition = eig[-1] / max(eig[0], eig[-1] * 1e-16)
    if condition > CONDITION_WARNING:
        warnings.warn(
            f"the features are badly conditioned (condition number {condition:.3g} of the "
            "loss Hessian): gradient descent will need very many updates. Standardize "
            "them first (minigrad.data.Standardizer, or `minigrad train --standardize`).",
            stacklevel=3,
        )


def _in_jupyter() -> bool:
    """True inside a Jupyter kernel (notebook, JupyterLab, VS Code, Colab)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _progress_bar(progress: bool | None, epochs: int) -> Any:
    """A tqdm bar over the epochs, or None.

    ``tqdm.auto`` picks the widget bar in a notebook that has ipywidgets and the text
    bar everywhere else; its advice to install ipywidgets is silenced, since the text
    bar it falls back to works in a notebook too. ``progress=None`` shows a bar on a
    terminal or in a notebook (not in CI) once the run has lasted PROGRESS_DELAY s.
    """
    automatic = progress is None
    if automatic:
        progress = (sys.stderr.isatty() or _in_jupyter()) and not os.environ.get("CI")
    if not progress:
        return None
    try:
        from tqdm.std import TqdmWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TqdmWarning)
            from tqdm.auto import tqdm
    except ImportError:
        if not automatic:
            warnings.warn(
                "progress=True needs tqdm: pip install 'minigrad[progress]'", stacklevel=3
            )
        return None
    delay = PROGRESS_DELAY if automatic else 0.0
    return tqdm(total=epochs, unit="epoch", leave=False, delay=delay)


def _build_optimizer(
    optimizer: str | optim.Optimizer, model: Module, lr: float, options: dict | None
) -> optim.Optimizer:
    if isinstance(optimizer, optim.Optimizer):
        return optimizer
    return optim.get(optimizer)(model.parameters(), lr=lr, **(options or {}))


def _flat_params(params: Sequence[Tensor]) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in params])


def _is_linear_mse(model: Module, loss_fn: Callable, opt: optim.Optimizer) -> bool:
    """The notes' problem, whose stable learning rates are known in closed form."""
    return (
        isinstance(model, Linear)
        and model.out_features == 1
        and loss_fn is losses.mse
        and isinstance(opt, optim.SGD)
    )


def fit(
    model: Module,
    X: Any,
    y: Any,
    loss: str | Callable = "mse",
    optimizer: str | optim.Optimizer = "sgd",
    lr: float = 0.01,
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    tol: float | None = 1e-6,
    patience: int = 3,
    grad_tol: float | None = None,
    validation_data: tuple[Any, Any] | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool | None = None,
    optimizer_options: dict | None = None,
    record_path: bool = True,
    metrics: Sequence[MetricSpec] = (),
    jit: bool = False,
) -> History:
    """Train ``model`` on (X, y) and return a :class:`History` of the run.

    Args:
        model: any Module whose output for X is one row per example: ``(N,)``
            (``LinearRegression``), ``(N, k)`` for k outputs (``Linear(d, k)``, an MLP),
            or ``(N, C)`` logits for C classes.
        y: targets the loss compares with the output: ``(N,)`` or ``(N, 1)`` for one
            output, ``(N, k)`` for k; 0/1 labels (or probabilities) for ``bce`` and
            ``bce_with_logits``; class indices ``(N,)`` (integers, or whole floats as a
            CSV gives them) or class probabilities ``(N, C)`` for ``cross_entropy``.
            Targets that do not fit the loss and the model's output are refused before
            training, naming the row or the shapes.
        loss: a name from :data:`minigrad.losses.LOSSES` or a callable (pred, target).
        optimizer: ``"sgd"``, ``"rmsprop"``, ``"adam"`` or an Optimizer instance;
            ``optimizer_options`` are passed to the named one (e.g. momentum).
        lr: the learning rate (the step size of gradient descent).
        epochs: passes over the data; at least 1.
        batch_size: None (or ≥ N) for full batch, 1 for SGD, else mini-batch.
        shuffle, seed: mini-batches are drawn from a permutation that is reshuffled
            every epoch from ``seed``, so a seeded run is repeatable bit for bit.
        tol, patience: converged (and stop) when the parameters are within about
            ``tol`` × their size of the optimum, as estimated from how their steps
            shrank over the last ``patience`` epochs (:mod:`minigrad.convergence`);
            ``tol=None`` runs every epoch. Full-batch training of a linear model
            (``Linear``, ``LinearRegression``) only, whose loss is convex: mini-batch and
            SGD steps are noisy and never settle at a constant learning rate, and any
            other model's full-batch steps can shrink for a while on a plateau or near a
            saddle and then grow again, so those runs go on for every epoch
            (``grad_tol`` and callbacks still stop them). Classes that a line separates
            exactly have no optimum (the weights grow without end), and never converge.
        grad_tol: also converged when the gradient norm of an update is ≤ grad_tol.
        validation_data: (X_val, y_val), evaluated after every epoch in eval mode under
            ``no_grad`` (Dropout off; every module's mode is restored after).
        callbacks: called as ``cb(epoch, update, loss, model)`` after every update;
            returning True stops training.
        progress: a tqdm progress bar; None shows one on a terminal, not in CI.
        record_path: keep the parameter vector of every update (for plots).
        metrics: recorded per epoch in ``history.metrics`` (and with ``validation_data``
            as ``"val_" + name``). ``"accuracy"`` reads the outputs as the loss does:
            logits for ``bce_with_logits`` (class 1 where z > 0), probabilities for
            ``bce`` (where p > 0.5), one logit per class for ``cross_entropy``
            (the argmax); see :mod:`minigrad.metrics`. A callable ``metric(pred,
            target) -> float``, a mean over examples, is recorded under its name.
        jit: train with a compiled update (:func:`minigrad.jit`): ``step(xb, yb)``, the
            model's forward, the loss and ``minigrad.autograd.grad(loss, params)``, is
            traced once per batch shape (so a last partial batch traces once more;
            ``history.traces`` counts them) and replayed as NumPy; the parameters are
            read live at every call, each ``p.grad`` is set from its result, and the
            optimizer steps as in eager mode. The History equals eager's to rounding
            (about 1e-15 relative). The model's forward must be traceable: no Python
            control flow on tensor values. A parameter the loss does not reach gets a
            zero gradient instead of none (of the optimizers, only SGD's weight decay
            would then move it).

    The model is put in training mode for the run (Dropout active) and every module's
    mode is restored at the end. A run whose loss becomes non-finite, or grows
    :data:`DIVERGENCE_FACTOR` times past its first epoch, stops and reports it in
    ``history.divergence_reason``, naming the learning rate and, for MSE on a linear
    model with one output, the largest stable one. That one warning replaces NumPy's
    overflow and invalid-value warnings, which are off while training runs (callbacks
    included).

    >>> import numpy as np, minigrad as mg
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
    >>> model = mg.nn.Linear(1, 1, init="zeros")          # z = w·x + b, p = σ(z)
    >>> history = mg.fit(model, X, y, loss="bce_with_logits", lr=0.5, epochs=20,
    ...                  metrics=("accuracy",), progress=False)
    >>> history.metrics["accuracy"][0], history.metrics["accuracy"][-1]   # z = 0: class 0
    (0.5, 1.0)
    """
    if not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be an integer ≥ 1, got {epochs!r}")
    if isinstance(patience, bool) or not isinstance(patience, int | np.integer) or patience < 1:
        raise ValueError(f"patience must be an integer ≥ 1, got {patience!r}")
    X, y = _check_data(model, X, y)
    if batch_size is not None and batch_size >= len(X):
        batch_size = None
    loss_fn = losses.get(loss)
    task = _Task.of(model, loss_fn, X, y, metrics)
    validation = None
    if validation_data is not None:
        X_val, y_val = _check_data(model, *validation_data)
        validation = (X_val, task.targets(y_val, _output_shape(model, X_val)))
    opt = _build_optimizer(optimizer, model, lr, optimizer_options)
    if isinstance(model, Linear):
        _warn_if_ill_conditioned(X)
    trainer = Trainer(model, task, opt, X, batch_size, tol, patience, grad_tol,
                      validation, callbacks, record_path, jit)  # fmt: skip
    with _modes_kept(model):
        model.train()
        history = trainer.run(epochs, shuffle, seed, progress)
    if history.diverged:
        warnings.warn(history.divergence_reason, RuntimeWarning, stacklevel=2)
    return history


def evaluate(
    model: Module,
    X: Any,
    y: Any,
    loss: str | Callable = "mse",
    metrics: Sequence[MetricSpec] = (),
) -> dict[str, float]:
    """The loss (and metrics) of ``model`` on (X, y), in eval mode under ``no_grad``.

    Keras's ``model.evaluate``: one forward pass over all of X with Dropout off and no
    graph recorded; every module's mode is restored after. Targets and metrics are
    read as :func:`fit` reads them.

    >>> import numpy as np, minigrad as mg
    >>> model = mg.nn.Linear(2, 3, seed=0)
    >>> X, y = np.eye(2), np.array([2, 0])
    >>> sorted(mg.evaluate(model, X, y, loss="cross_entropy", metrics=("accuracy",)))
    ['accuracy', 'loss']
    """
    X, y = _check_data(model, X, y)
    task = _Task.of(model, losses.get(loss), X, y, metrics)
    return task.evaluate(model, X, task.y)


@dataclass
class _Task:
    """What a run learns: the loss, how it reads the targets, and the metrics."""

    loss_fn: Callable
    y: np.ndarray  # the training targets, checked (class indices as int64)
    class_indices: bool
    metric_fns: dict[str, metrics.Metric]

    @classmethod
    def of(
        cls, model: Module, loss_fn: Callable, X: Any, y: Any, specs: Sequence[MetricSpec]
    ) -> _Task:
        name = getattr(loss_fn, "__name__", "")
        targets, class_indices = _prepare_targets(name, y, _output_shape(model, X))
        found: dict[str, metrics.Metric] = {}
        for spec in (specs,) if isinstance(specs, str) else specs:
            label, metric = metrics.for_loss(spec, name)
            if label in found:
                raise ValueError(f"metric {label!r} is listed twice")
            found[label] = metric
        if "accuracy" in found and not class_indices and name != "cross_entropy":
            not_labels = ~np.isin(targets, (0.0, 1.0))
            if not_labels.any():
                index = tuple(np.argwhere(not_labels)[0])
                raise ValueError(
                    f"accuracy needs 0/1 labels; y row {index[0]} holds "
                    f"{targets[index].item()!r} "
                    "(probabilities train fine, but are no classes to be right about)"
                )
        return cls(loss_fn, targets, class_indices, found)

    def targets(self, y: Any, out: tuple[int, ...]) -> np.ndarray:
        """Other targets (validation data), checked the same way."""
        return _prepare_targets(getattr(self.loss_fn, "__name__", ""), y, out)[0]

    def evaluate(self, model: Module, X: Any, y: np.ndarray) -> dict[str, float]:
        with _evaluating(model):
            value, pred = _batch_loss(model, self.loss_fn, self.class_indices,
                                     Tensor(np.asarray(X)), Tensor(y))  # fmt: skip
            result = {"loss": float(value.data)}
            for name, metric in self.metric_fns.items():
                result[name] = float(metric(pred.data, y))
        return result


def _batch_loss(
    model: Module, loss_fn: Callable, class_indices: bool, xb: Tensor, yb: Tensor
) -> tuple[Tensor, Tensor]:
    """``(loss, prediction)`` of one batch: what an update differentiates (and jit traces).

    Targets other than class indices take the prediction's shape ((N,) and (N, 1) alike).
    """
    pred = model(xb)
    return loss_fn(pred, yb if class_indices else yb.reshape(pred.shape)), pred


def _compiled_step(model: Module, loss_fn: Callable, class_indices: bool,
                   params: list[Tensor], with_pred: bool) -> Jitted:  # fmt: skip
    """``step(xb, yb) -> (loss, grads[, pred])`` compiled by :func:`minigrad.jit`.

    ``params`` are closed over, so the compiled step reads their current values at every
    call (the optimizer changes them in place between calls).
    """

    def step(xb: Tensor, yb: Tensor) -> tuple:
        loss, pred = _batch_loss(model, loss_fn, class_indices, xb, yb)
        grads = autograd.grad(loss, params)
        return (loss, grads, pred) if with_pred else (loss, grads)

    return compile_fn(step)


class Trainer:
    """One training run: the update loop, the epoch bookkeeping and the stopping rules.

    :func:`fit` checks the arguments and builds one; its :meth:`run` returns the
    :class:`History`. Each of :meth:`update` and :meth:`end_epoch` returns True when
    training must stop (converged, diverged, or a callback asked).
    """

    def __init__(
        self,
        model: Module,
        task: _Task,
        opt: optim.Optimizer,
        X: Any,
        batch_size: int | None,
        tol: float | None,
        patience: int,
        grad_tol: float | None,
        validation: tuple[Any, np.ndarray] | None,
        callbacks: Sequence[Callback],
        record_path: bool,
        jit: bool = False,
    ) -> None:
        self.model, self.task, self.opt, self.X, self.y = model, task, opt, X, task.y
        self.loss_fn = task.loss_fn
        self.batch_size, self.grad_tol = batch_size, grad_tol
        self.validation, self.callbacks, self.record_path = validation, callbacks, record_path
        self.params = model.parameters()
        self.rule = StepRule(tol, patience, _flat_params(self.params))
        # the rule's premise (one fixed map per epoch, contracting to the one optimum)
        # holds for the full-batch descent of a convex loss: a linear model's
        self.judged = batch_size is None and isinstance(model, Linear)
        self.step = None
        if jit:
            self.step = _compiled_step(model, self.loss_fn, task.class_indices, self.params,
                                       with_pred=bool(task.metric_fns))  # fmt: skip
        self.history = History(
            param_names=[name for name, _ in model.named_parameters()],
            updates_per_epoch=data_utils.n_batches(len(X), batch_size),
            batch_size=batch_size,
            lr=opt.lr,
            loss=getattr(self.loss_fn, "__name__", str(self.loss_fn)),
            optimizer=type(opt).__name__,
            metrics={
                prefix + name: []
                for prefix in (("", "val_") if validation is not None else ("",))
                for name in task.metric_fns
            },
            convergence_judged=self.judged,
        )
        self.sums: dict[str, float] = {}  # this epoch's metrics, summed over examples
        self.seen = 0

    # a blow-up (inf, nan) is caught and explained by diverged(), so NumPy's own overflow
    # warnings on the way would only say the same thing less clearly
    @np.errstate(over="ignore", invalid="ignore")
    def run(self, epochs: int, shuffle: bool, seed: int, progress: bool | None) -> History:
        history = self.history
        rng = np.random.default_rng(seed)
        bar = _progress_bar(progress, epochs)
        start = time.perf_counter()
        try:
            for epoch in range(epochs):
                first_update = history.n_updates
                self.sums, self.seen = dict.fromkeys(self.task.metric_fns, 0.0), 0
                batches = data_utils.batches(self.X, self.y, self.batch_size, shuffle, rng)
                stop = any(self.update(epoch, xb, yb) for xb, yb in batches)
                history.epoch_losses.append(float(np.mean(history.step_losses[first_update:])))
                if self.seen:
                    for name, total in self.sums.items():
                        history.metrics[name].append(total / self.seen)
                if bar is not None:
                    bar.set_postfix(loss=f"{history.epoch_losses[-1]:.4g}", refresh=False)
                    bar.update(1)
                if stop or self.end_epoch(epoch):
                    break
        finally:
            if bar is not None:
                bar.close()
            if self.record_path:
                history.path.append(_flat_params(self.params))
            history.wall_time = time.perf_counter() - start
            history.traces = 0 if self.step is None else self.step.traces
        return history

    def update(self, epoch: int, xb: Any, yb: Any) -> bool:
        """One gradient-descent step on a batch; the loss is recorded before the step."""
        history, opt = self.history, self.opt
        update = history.n_updates
        if self.record_path:
            history.path.append(_flat_params(self.params))
        if self.step is None:
            opt.zero_grad()
            loss, pred = _batch_loss(self.model, self.loss_fn, self.task.class_indices,
                                    Tensor(xb), Tensor(yb))  # fmt: skip
            grads = None
        else:
            loss, grads, *rest = self.step(xb, yb)
            pred = rest[0] if rest else None
        value = float(loss.data)
        history.step_losses.append(value)
        if not math.isfinite(value):
            self.diverged(update, epoch, f"the loss became {value}")
            return True
        if self.sums:
            for name, metric in self.task.metric_fns.items():
                self.sums[name] += metric(pred.data, yb) * len(yb)
            self.seen += len(yb)
        if grads is None:
            loss.backward()
        else:
            for p, g in zip(self.params, grads, strict=True):
                p.grad = g
        opt.step()
        if self.grad_tol is not None:
            norm = math.sqrt(sum(float(np.vdot(p.grad.data, p.grad.data))
                                 for p in self.params if p.grad is not None))  # fmt: skip
            history.grad_norms.append(norm)
            if norm <= self.grad_tol:
                self.converged(
                    update, epoch, f"gradient norm {norm:.3g} ≤ grad_tol {self.grad_tol:g}"
                )
                return True
        if any(cb(epoch, update, value, self.model) for cb in self.callbacks):
            history.stopped_by_callback = True
            return True
        return False

    def end_epoch(self, epoch: int) -> bool:
        """Validation, then the epoch-level stopping rules: divergence and convergence."""
        history = self.history
        if self.validation is not None:
            scores = self.task.evaluate(self.model, *self.validation)
            history.val_losses.append(scores.pop("loss"))
            for name, value in scores.items():
                history.metrics["val_" + name].append(value)
        first, last = history.epoch_losses[0], history.epoch_losses[-1]
        if last > DIVERGENCE_FACTOR * max(first, np.finfo(float).tiny):
            what = f"the epoch loss grew from {first:.4g} to {last:.4g}"
            self.diverged(history.n_updates - 1, epoch, what)
            return True
        history.param_steps.append(self.rule.update(_flat_params(self.params)))
        reason = self.rule.verdict() if self.judged else None
        if reason is not None:
            self.converged(history.n_updates - 1, epoch, reason)
        return reason is not None

    def converged(self, update: int, epoch: int, reason: str) -> None:
        history = self.history
        history.converged = True
        history.converged_at_update = update
        history.converged_at_epoch = epoch
        history.convergence_reason = reason

    def diverged(self, update: int, epoch: int, what: str) -> None:
        """Record the divergence, naming the learning rate (and the stable bound)."""
        history, opt = self.history, self.opt
        history.diverged = True
        history.diverged_at_update = update
        message = (
            f"training diverged at update {update} (epoch {epoch}): {what}. "
            f"The learning rate lr={opt.lr:g} is too high for this data"
        )
        if _is_linear_mse(self.model, self.loss_fn, opt):
            bound = formulas.max_stable_lr(_sample_rows(self.X, limit=100_000))
            history.max_stable_lr = bound
            message += (
                f"; full-batch gradient descent on MSE is stable only for lr < {bound:.4g} "
                "(2/λ_max of the loss Hessian, minigrad.formulas.max_stable_lr)"
            )
            if self.batch_size == 1:
                per_example = formulas.max_stable_lr_per_example(self.X)
                message += (
                    f", and with batch_size=1 every step is stable only for lr < "
                    f"{per_example:.4g} (1/max‖(x, 1)‖², "
                    "minigrad.formulas.max_stable_lr_per_example)"
                )
            elif self.batch_size is not None:
                message += f"; batches of {self.batch_size} need a smaller learning rate"
        history.divergence_reason = message + "."
