"""fit and evaluate: check the arguments, build the run, and hand back what it measured."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from os import PathLike
from typing import Any

import numpy as np

from minigrad import losses, optim
from minigrad.data.loader import DataLoader, loader_arrays
from minigrad.nn import Linear, Module
from minigrad.train.checkpoint import Checkpointing
from minigrad.train.checks import _check_data, _modes_kept, _output_shape
from minigrad.train.diagnostics import _warn_if_ill_conditioned
from minigrad.train.history import History
from minigrad.train.loop import Callback, Trainer
from minigrad.train.task import MetricSpec, _Task


def _build_optimizer(
    optimizer: str | optim.Optimizer, model: Module, lr: float, options: dict | None
) -> optim.Optimizer:
    if isinstance(optimizer, optim.Optimizer):
        return optimizer
    return optim.get(optimizer)(model.parameters(), lr=lr, **(options or {}))


def fit(
    model: Module,
    X: Any,
    y: Any = None,
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
    scheduler: optim.lr_scheduler.LRScheduler | None = None,
    checkpoint: str | PathLike[str] | None = None,
    checkpoint_every: int = 1,
    resume: str | PathLike[str] | None = None,
) -> History:
    """Train ``model`` on (X, y) and return a :class:`History` of the run.

    Args:
        model: any Module whose output for X is one row per example: ``(N,)``
            (``LinearRegression``), ``(N, k)`` for k outputs (``Linear(d, k)``, an MLP),
            or ``(N, C)`` logits for C classes.
        X: the inputs, one row per example, shape ``(N, d)`` (``(N,)`` is one feature):
            anything array-like. A pandas DataFrame (or Series) gives its values, rows
            taken by position whatever its index; a list of rows or a Tensor its values;
            an ndarray, memmap or other array object (h5py, zarr) is read a batch at a
            time, so a file larger than memory trains. Numbers only: a column of strings
            or dates is refused, naming it. Or a :class:`minigrad.data.DataLoader` over
            ``TensorDataset(X, y)``, with ``y`` left out: its ``batch_size``, ``shuffle``,
            ``drop_last`` and ``generator`` then decide the batches (``batch_size``,
            ``shuffle`` and ``seed`` must be left at their defaults).
        y: targets the loss compares with the output: ``(N,)`` or ``(N, 1)`` for one
            output, ``(N, k)`` for k; 0/1 labels (or probabilities) for ``bce`` and
            ``bce_with_logits``; class indices ``(N,)`` (integers, or whole floats as a
            CSV gives them) or class probabilities ``(N, C)`` for ``cross_entropy``.
            Targets that do not fit the loss and the model's output are refused before
            training, naming the row or the shapes; array-like as X is (a pandas Series
            too), and labels that are strings are refused, naming the column.
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
        scheduler: a learning-rate scheduler of ``optimizer`` (an Optimizer instance),
            stepped after every epoch (PyTorch's usual place).
        checkpoint: write the run's whole state to this file (``.npz``, atomically) after
            every ``checkpoint_every`` epochs and after the last one
            (:mod:`minigrad.train.checkpoint`).
        resume: continue the run saved in this checkpoint (same model, data, loss,
            optimizer, batch size, shuffle and seed, else it refuses): ``epochs`` counts
            the saved ones too (Keras's ``initial_epoch``), and a run stopped after k
            epochs and resumed to n ends bit for bit as an uninterrupted n-epoch run.

    Ctrl-C stops the run after the update under way (parameters are never half-updated)
    and returns the History with ``interrupted`` set; a second Ctrl-C aborts at once.

    ``history.final_loss`` is the loss of the whole training set at the end, with the
    trained parameters, in eval mode (what :func:`evaluate` gives), whatever the batch
    size; ``history.step_losses[-1]`` is the last batch's, before its update.

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
    drop_last = False
    if isinstance(X, DataLoader):
        X, y, batch_size, shuffle, seed, drop_last = _from_loader(X, y, batch_size, shuffle, seed)
    elif y is None:
        raise TypeError("fit needs targets y (or a DataLoader over TensorDataset(X, y) as X)")
    if not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be an integer ≥ 1, got {epochs!r}")
    if isinstance(patience, bool) or not isinstance(patience, int | np.integer) or patience < 1:
        raise ValueError(f"patience must be an integer ≥ 1, got {patience!r}")
    X, y = _check_data(model, X, y)
    if batch_size is not None and batch_size >= len(X) and not drop_last:
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
    if scheduler is not None and getattr(scheduler, "optimizer", None) is not opt:
        raise ValueError("scheduler= must schedule the optimizer passed as optimizer=")
    trainer = Trainer(model, task, opt, X, batch_size, tol, patience, grad_tol,
                      validation, callbacks, record_path, jit, scheduler, drop_last)  # fmt: skip
    config = {  # what a resumed run must share with the saved one
        "examples": len(X), "features": int(X.shape[1]), "batch_size": batch_size,
        "shuffle": bool(shuffle), "drop_last": bool(drop_last), "seed": seed,
        "loss": trainer.history.loss,
        "optimizer": type(opt).__name__, "grad_tol": grad_tol,
        "lr": [group["lr"] for group in opt.param_groups],
        "metrics": list(trainer.history.metrics), "record_path": bool(record_path),
    }  # fmt: skip
    saving = Checkpointing.of(checkpoint, checkpoint_every, resume, config, scheduler)
    with _modes_kept(model):
        model.train()
        history = trainer.run(epochs, shuffle, seed, progress, saving)
    if history.diverged:
        warnings.warn(history.divergence_reason, RuntimeWarning, stacklevel=2)
    return history


def _from_loader(
    loader: DataLoader, y: Any, batch_size: int | None, shuffle: bool, seed: Any
) -> tuple[Any, Any, int | None, bool, Any, bool]:
    """fit's data arguments taken from a DataLoader; the same ones given too are refused."""
    passed = {"y": y is not None, "batch_size": batch_size is not None,
              "shuffle": shuffle is not True, "seed": seed != 0}  # fmt: skip
    given = [name for name, differs in passed.items() if differs]
    if given:
        raise TypeError(
            f"fit got a DataLoader and also {', '.join(given)}: the loader decides the "
            "targets and the batches; set them on the loader"
        )
    X, y = loader_arrays(loader)
    return X, y, loader.batch_size, loader.shuffle, loader.rng, loader.drop_last


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
