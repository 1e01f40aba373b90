"""History: everything a training run measured, kept even when the run diverged or stopped.

It imports nothing of the trainer (nor the jit), so the plots read it on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(repr=False)
class History:
    """Everything a training run measured; a diverged or stopped run keeps all of it.

    ``step_losses[k]`` is the loss of update k's batch, measured *before* that update
    is applied. ``epoch_losses[e]`` is the mean of the step losses of epoch e (for
    full-batch training, the loss at the start of the epoch). ``path[k]`` is the
    parameter vector (``param_names`` order, flattened) before update k, plus one
    final entry after the last update: draw it on the loss surface.
    ``param_steps[e]`` is how far epoch e moved the parameters, ‖θ_e − θ_(e−1)‖: the
    convergence rule reads it. ``final_loss`` is the whole training set's loss at the
    end, with the trained parameters (eval mode), whatever the batch size; the last
    batch's keeps its own name, ``last_batch_loss``. ``metrics[name][e]`` is a metric
    of epoch e (``fit``'s ``metrics=``; Keras's names): ``"accuracy"`` over the
    epoch's batches as they were predicted before each update, weighted by batch size
    (like ``epoch_losses``), and
    ``"val_accuracy"`` on the validation data after the epoch, in eval mode.
    ``convergence_judged`` says whether the convergence rule applied (full batch, linear
    model); ``interrupted``, whether Ctrl-C stopped the run (after a whole update);
    ``traces``, how often ``fit(..., jit=True)`` traced its update. ``repr()``
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
    interrupted: bool = False  #: stopped by Ctrl-C (after a whole update)
    max_stable_lr: float | None = None
    convergence_judged: bool = False
    traces: int = 0
    final_loss: float = math.nan
    """The loss of the whole training set at the end of the run, with the trained
    parameters in eval mode (nan if the run did not finish)."""

    @property
    def n_updates(self) -> int:
        return len(self.step_losses)

    @property
    def epochs_run(self) -> int:
        return len(self.epoch_losses)

    @property
    def last_batch_loss(self) -> float:
        """The loss of the last update's batch, before it was applied (nan before any)."""
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
        elif self.interrupted:
            status = "interrupted (Ctrl-C)"
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
        elif self.interrupted:
            lines.append(f"INTERRUPTED (Ctrl-C) after update {self.n_updates - 1}")
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
