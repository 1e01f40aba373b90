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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import data as data_utils
from minigrad import formulas, losses, optim
from minigrad.autograd import ShapeError, no_grad
from minigrad.convergence import StepRule
from minigrad.nn import Linear, Module
from minigrad.tensor import Tensor

Callback = Callable[[int, int, float, Module], Any]

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
    convergence rule reads it. ``repr()`` is a one-line summary (a run of a million
    updates prints as quickly as one of ten); the numbers are one attribute away.
    """

    step_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
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
        elif self.batch_size is None:
            lines.append("did not converge within the epochs given")
        else:
            lines.append("ran every epoch (only full-batch runs are judged converged)")
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
    if X.ndim != 2 or y.ndim != 1:
        raise ShapeError(
            f"fit needs X of shape (N, d) and y of shape (N,) or (N, 1); got "
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
    return isinstance(model, Linear) and loss_fn is losses.mse and isinstance(opt, optim.SGD)


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
) -> History:
    """Train ``model`` on (X, y) and return a :class:`History` of the run.

    Args:
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
            ``tol=None`` runs every epoch. Full batch only: mini-batch and SGD steps
            are noisy and never settle at a constant learning rate, so they run every
            epoch (``grad_tol`` and callbacks still stop them).
        grad_tol: also converged when the gradient norm of an update is ≤ grad_tol.
        validation_data: (X_val, y_val), evaluated after every epoch.
        callbacks: called as ``cb(epoch, update, loss, model)`` after every update;
            returning True stops training.
        progress: a tqdm progress bar; None shows one on a terminal, not in CI.
        record_path: keep the parameter vector of every update (for plots).

    A run whose loss becomes non-finite, or grows :data:`DIVERGENCE_FACTOR` times past
    its first epoch, stops and reports it in ``history.divergence_reason``, naming the
    learning rate and, for MSE on a linear model, the largest stable one. That one
    warning replaces NumPy's overflow and invalid-value warnings, which are off while
    training runs (callbacks included).
    """
    if not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be an integer ≥ 1, got {epochs!r}")
    if isinstance(patience, bool) or not isinstance(patience, int | np.integer) or patience < 1:
        raise ValueError(f"patience must be an integer ≥ 1, got {patience!r}")
    X, y = _check_data(model, X, y)
    if batch_size is not None and batch_size >= len(X):
        batch_size = None
    loss_fn = losses.get(loss)
    opt = _build_optimizer(optimizer, model, lr, optimizer_options)
    if isinstance(model, Linear):
        _warn_if_ill_conditioned(X)
    trainer = Trainer(model, loss_fn, opt, X, y, batch_size, tol, patience, grad_tol,
                      validation_data, callbacks, record_path)  # fmt: skip
    history = trainer.run(epochs, shuffle, seed, progress)
    if history.diverged:
        warnings.warn(history.divergence_reason, RuntimeWarning, stacklevel=2)
    return history


class Trainer:
    """One training run: the update loop, the epoch bookkeeping and the stopping rules.

    :func:`fit` checks the arguments and builds one; its :meth:`run` returns the
    :class:`History`. Each of :meth:`update` and :meth:`end_epoch` returns True when
    training must stop (converged, diverged, or a callback asked).
    """

    def __init__(
        self,
        model: Module,
        loss_fn: Callable,
        opt: optim.Optimizer,
        X: Any,
        y: Any,
        batch_size: int | None,
        tol: float | None,
        patience: int,
        grad_tol: float | None,
        validation_data: tuple[Any, Any] | None,
        callbacks: Sequence[Callback],
        record_path: bool,
    ) -> None:
        self.model, self.loss_fn, self.opt, self.X, self.y = model, loss_fn, opt, X, y
        self.batch_size, self.grad_tol = batch_size, grad_tol
        self.validation_data, self.callbacks, self.record_path = (
            validation_data,
            callbacks,
            record_path,
        )
        self.params = model.parameters()
        self.rule = StepRule(tol, patience, _flat_params(self.params))
        self.history = History(
            param_names=[name for name, _ in model.named_parameters()],
            updates_per_epoch=data_utils.n_batches(len(X), batch_size),
            batch_size=batch_size,
            lr=opt.lr,
            loss=getattr(loss_fn, "__name__", str(loss_fn)),
            optimizer=type(opt).__name__,
        )

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
                batches = data_utils.batches(self.X, self.y, self.batch_size, shuffle, rng)
                stop = any(self.update(epoch, xb, yb) for xb, yb in batches)
                history.epoch_losses.append(float(np.mean(history.step_losses[first_update:])))
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
        return history

    def update(self, epoch: int, xb: Any, yb: Any) -> bool:
        """One gradient-descent step on a batch; the loss is recorded before the step."""
        history, opt = self.history, self.opt
        update = history.n_updates
        if self.record_path:
            history.path.append(_flat_params(self.params))
        opt.zero_grad()
        pred = self.model(Tensor(xb))
        batch_loss = self.loss_fn(pred, Tensor(yb).reshape(pred.shape))
        value = float(batch_loss.data)
        history.step_losses.append(value)
        if not math.isfinite(value):
            self.diverged(update, epoch, f"the loss became {value}")
            return True
        batch_loss.backward()
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
        if self.validation_data is not None:
            history.val_losses.append(_evaluate(self.model, self.loss_fn, *self.validation_data))
        first, last = history.epoch_losses[0], history.epoch_losses[-1]
        if last > DIVERGENCE_FACTOR * max(first, np.finfo(float).tiny):
            what = f"the epoch loss grew from {first:.4g} to {last:.4g}"
            self.diverged(history.n_updates - 1, epoch, what)
            return True
        history.param_steps.append(self.rule.update(_flat_params(self.params)))
        # only a full batch makes every epoch the same map, whose steps shrink steadily
        reason = self.rule.verdict() if self.batch_size is None else None
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


def _evaluate(model: Module, loss_fn: Callable, X: Any, y: Any) -> float:
    with no_grad():
        pred = model(Tensor(np.asarray(X, dtype=np.float64)))
        target = Tensor(np.asarray(y, dtype=np.float64)).reshape(pred.shape)
        return float(loss_fn(pred, target).data)
