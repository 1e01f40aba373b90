"""The training loop: updates over batches and epochs, their bookkeeping and the stopping rules."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import data as data_utils
from minigrad import optim
from minigrad.convergence import StepRule
from minigrad.nn import Linear, Module
from minigrad.optim.lr_scheduler import LRScheduler
from minigrad.tensor import Tensor
from minigrad.train.checkpoint import Checkpointing
from minigrad.train.diagnostics import _is_linear_mse, divergence_advice
from minigrad.train.history import History
from minigrad.train.interrupt import _Interrupt, _sigint_deferred
from minigrad.train.progress import _progress_bar
from minigrad.train.step import _compiled_step
from minigrad.train.task import _batch_loss, _Task

Callback = Callable[[int, int, float, Module], Any]

DIVERGENCE_FACTOR = 1e4
"""An epoch loss this many times the first epoch's counts as divergence."""


def _flat_params(params: Sequence[Tensor]) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in params])


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
        scheduler: LRScheduler | None = None,
        drop_last: bool = False,
    ) -> None:
        self.model, self.task, self.opt, self.X, self.y = model, task, opt, X, task.y
        self.loss_fn = task.loss_fn
        self.batch_size, self.grad_tol, self.drop_last = batch_size, grad_tol, drop_last
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
            updates_per_epoch=data_utils.n_batches(len(X), batch_size, drop_last),
            batch_size=batch_size,
            lr=opt.param_groups[0]["lr"],  # the first group's rate
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
        self.scheduler = scheduler  # stepped after every epoch
        self.interrupt = _Interrupt()  # Ctrl-C, read between updates

    # a blow-up (inf, nan) is caught and explained by diverged(), so NumPy's own overflow
    # warnings on the way would only say the same thing less clearly
    @np.errstate(over="ignore", invalid="ignore")
    def run(self, epochs: int, shuffle: bool, seed: int, progress: bool | None,
            saving: Checkpointing | None = None) -> History:  # fmt: skip
        """Train until ``epochs`` (counting those of a resumed checkpoint), a stopping rule,
        or Ctrl-C (which ends the run after the current update, ``history.interrupted``)."""
        rng = np.random.default_rng(seed)
        done = 0 if saving is None or saving.resume is None else saving.restore(self, rng)
        history = self.history
        if history.converged or history.diverged or history.stopped_by_callback:
            done = epochs  # the saved run had ended
        bar = _progress_bar(progress, epochs)
        if bar is not None and done:
            bar.update(min(done, epochs))
        start = time.perf_counter() - history.wall_time
        try:
            with _sigint_deferred() as self.interrupt:
                self._epochs(done, epochs, shuffle, rng, bar, start, saving)
            # the whole training set's loss with the trained parameters, any batch size
            history.final_loss = history.step_losses[-1]
            if not history.diverged:
                history.final_loss = self.task.evaluate(self.model, self.X, self.y)["loss"]
        finally:
            if bar is not None:
                bar.close()
            if self.record_path:
                history.path.append(_flat_params(self.params))
            history.wall_time = time.perf_counter() - start
            history.traces = 0 if self.step is None else self.step.traces
        return history

    def _epochs(self, done: int, epochs: int, shuffle: bool, rng: np.random.Generator,
                bar: Any, start: float, saving: Checkpointing | None) -> None:  # fmt: skip
        history = self.history
        for epoch in range(done, epochs):
            first_update = history.n_updates
            self.sums, self.seen = dict.fromkeys(self.task.metric_fns, 0.0), 0
            batches = data_utils.batches(self.X, self.y, self.batch_size, shuffle, rng,
                                         self.drop_last)  # fmt: skip
            stop = any(self.update(epoch, xb, yb) or self.interrupted() for xb, yb in batches)
            history.epoch_losses.append(float(np.mean(history.step_losses[first_update:])))
            if self.seen:
                for name, total in self.sums.items():
                    history.metrics[name].append(total / self.seen)
            if bar is not None:
                bar.set_postfix(loss=f"{history.epoch_losses[-1]:.4g}", refresh=False)
                bar.update(1)
            if stop or self.end_epoch(epoch):
                break
            if self.scheduler is not None:
                self.scheduler.step()
            if saving is not None:
                saving.after_epoch(self, rng, epoch + 1, time.perf_counter() - start,
                                   last=epoch + 1 == epochs)  # fmt: skip
            if self.interrupted():
                break

    def interrupted(self) -> bool:
        """True once Ctrl-C was pressed (the History then says so)."""
        if self.interrupt.requested:
            self.history.interrupted = True
        return self.interrupt.requested

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
            f"The learning rate lr={opt.param_groups[0]['lr']:g} is too high for this data"
        )
        if _is_linear_mse(self.model, self.loss_fn, opt):
            history.max_stable_lr, advice = divergence_advice(self.X, self.batch_size)
            message += advice
        history.divergence_reason = message + "."
