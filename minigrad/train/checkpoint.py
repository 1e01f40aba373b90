"""Checkpoints: a run's whole state after an epoch, written atomically, and exact resume.

``fit(..., checkpoint="run.ckpt")`` writes, after every ``checkpoint_every`` epochs (and
after the last one), everything the next epoch depends on: the model's parameters, the
optimizer's state (momentum buffers, Adam's moments and step count, the hyperparameters),
the scheduler's state, the random generators (the shuffling one, the default one that
Dropout and ``mg.randn`` draw from, and any generator a module keeps), the epoch count
and the History so far. ``fit(..., resume="run.ckpt")`` loads it and goes on, so a run
stopped after k epochs and resumed to n ends with the parameters and History of an
uninterrupted n-epoch run, bit for bit (wall time aside).

The file is an ``.npz`` archive of plain arrays and one JSON string (``meta``): no pickle.
Arrays: ``model/NAME``, ``optimizer/I/KEY``, ``history/FIELD``, ``history/metrics/NAME``,
``history/path`` (one row per update). Floats in JSON round-trip exactly (``repr``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import random
from minigrad.io import FileFormatError, load_arrays, save_arrays
from minigrad.op import ShapeError
from minigrad.optim.lr_scheduler import LRScheduler
from minigrad.train.history import History

if TYPE_CHECKING:
    from minigrad.train.loop import Trainer

FORMAT = "minigrad checkpoint 1"
_WHAT = "a minigrad checkpoint"


def _plain(value: Any) -> Any:
    """``value`` with ndarrays and NumPy scalars made JSON-able (reversed by :func:`_arrays`)."""
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _arrays(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=value["dtype"])
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    return value


def _module_generators(trainer: Trainer) -> dict[str, np.random.Generator]:
    """Generators kept by the model's modules (Dropout(seed=...)), the default one aside."""
    found = {}
    for prefix, module in trainer.model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, np.random.Generator) and value is not random.default_generator:
                found[f"{prefix}:{attr}"] = value
    return found


@dataclass
class Checkpointing:
    """Where a run writes its checkpoints (``path``, every ``every`` epochs) and which one
    it resumes from (``resume``). ``config`` is what a resumed run must share with the
    saved one (data size, batch size, shuffling, seed, loss, optimizer, learning rate)."""

    path: Path | None
    every: int
    resume: Path | None
    config: dict[str, Any]
    scheduler: LRScheduler | None = None

    @classmethod
    def of(cls, path: Any, every: Any, resume: Any, config: dict[str, Any],
           scheduler: LRScheduler | None) -> Checkpointing | None:  # fmt: skip
        """Checked arguments of fit, or None when the run neither saves nor resumes."""
        if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
            raise ValueError(f"checkpoint_every must be an integer ≥ 1, got {every!r}")
        if path is None and resume is None:
            return None
        path = None if path is None else Path(path)
        if path is not None and path.is_dir():
            raise IsADirectoryError(21, "checkpoint= names a folder, not a file", str(path))
        return cls(path, int(every), None if resume is None else Path(resume), config, scheduler)

    # --- writing ------------------------------------------------------------------------

    def after_epoch(self, trainer: Trainer, rng: np.random.Generator, epochs_done: int,
                    wall_time: float, last: bool) -> None:  # fmt: skip
        """Write the checkpoint if this epoch is one to keep (every k-th, and the last)."""
        if self.path is not None and (epochs_done % self.every == 0 or last):
            save_arrays(self.path, self.state(trainer, rng, epochs_done, wall_time))

    def state(self, trainer: Trainer, rng: np.random.Generator, epochs_done: int,
              wall_time: float) -> dict[str, np.ndarray]:  # fmt: skip
        """The arrays of the checkpoint file."""
        arrays: dict[str, np.ndarray] = {}
        for name, value in trainer.model.state_dict().items():
            arrays[f"model/{name}"] = value
        optimizer = trainer.opt.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for i, entries in optimizer["state"].items():
            for key, value in entries.items():
                if isinstance(value, np.ndarray):
                    arrays[f"optimizer/{i}/{key}"] = value
                else:
                    scalars.setdefault(str(i), {})[key] = value
        history = trainer.history
        kept: dict[str, Any] = {}
        for f in fields(History):
            value = getattr(history, f.name)
            if f.name == "path":
                arrays["history/path"] = (
                    np.stack(value) if value else np.zeros((0, sum(p.size for p in trainer.params)))
                )
            elif f.name == "metrics":
                for name, values in value.items():
                    arrays[f"history/metrics/{name}"] = np.asarray(values, dtype=np.float64)
                kept["metrics"] = list(value)
            elif isinstance(value, list) and f.name != "param_names":
                arrays[f"history/{f.name}"] = np.asarray(value, dtype=np.float64)
            else:
                kept[f.name] = value
        kept["wall_time"] = wall_time
        sched = self.scheduler
        meta = {
            "epochs_done": epochs_done,
            "config": self.config,
            "optimizer": {"type": type(trainer.opt).__name__,
                          "param_groups": optimizer["param_groups"], "scalars": scalars},
            "scheduler": None if sched is None else {"type": type(sched).__name__,
                                                     "state": sched.state_dict()},
            "rng": {
                "shuffle": rng.bit_generator.state,
                "default": random.default_generator.bit_generator.state,
                "modules": {k: g.bit_generator.state
                            for k, g in _module_generators(trainer).items()},
            },
            "history": kept,
        }  # fmt: skip
        arrays["format"] = np.array(FORMAT)
        arrays["meta"] = np.array(json.dumps(_plain(meta), allow_nan=True))
        return arrays

    # --- reading ------------------------------------------------------------------------

    def restore(self, trainer: Trainer, rng: np.random.Generator) -> int:
        """Load the checkpoint into the run; returns how many epochs it had done.

        Everything is read and checked before anything is changed: a file that is not a
        checkpoint, or one of another run (different data size, batch size, optimizer, …),
        raises and leaves the model and optimizer as they were.
        """
        assert self.resume is not None
        path = self.resume
        arrays = load_arrays(path, _WHAT)
        if "format" not in arrays or str(arrays["format"]) != FORMAT or "meta" not in arrays:
            raise FileFormatError(path, _WHAT, f"it holds {', '.join(arrays) or 'no arrays'}")
        try:
            meta = _arrays(json.loads(str(arrays["meta"])))
            epochs_done = int(meta["epochs_done"])
        except (ValueError, KeyError, TypeError) as error:
            raise FileFormatError(path, _WHAT, f"its metadata is damaged ({error})") from None
        for key, now in self.config.items():
            saved = meta["config"].get(key)
            if saved != now and not (_is_nan(saved) and _is_nan(now)):
                raise ValueError(
                    f"cannot resume from {path}: it was saved by a run with {key}={saved!r}, "
                    f"this run has {key}={now!r}; resume with the settings of the saved run"
                )
        saved_sched, sched = meta["scheduler"], self.scheduler
        if (saved_sched is None) != (sched is None) or (
            sched is not None and saved_sched["type"] != type(sched).__name__
        ):
            had = "no scheduler" if saved_sched is None else f"a {saved_sched['type']}"
            has = "no scheduler" if sched is None else f"a {type(sched).__name__}"
            raise ValueError(
                f"cannot resume from {path}: it was saved with {had}, this run has {has}"
            )
        history = self._history(arrays, meta["history"], path)
        if history.param_names != trainer.history.param_names:
            raise ValueError(
                f"cannot resume from {path}: its model has parameters {history.param_names}, "
                f"this one {trainer.history.param_names}"
            )
        model_state = {
            k.removeprefix("model/"): v for k, v in arrays.items() if k.startswith("model/")
        }
        optimizer_state = {"state": {}, "param_groups": meta["optimizer"]["param_groups"]}
        for i, entries in meta["optimizer"]["scalars"].items():
            optimizer_state["state"].setdefault(int(i), {}).update(entries)
        for key, value in arrays.items():
            if key.startswith("optimizer/"):
                _, i, name = key.split("/", 2)
                optimizer_state["state"].setdefault(int(i), {})[name] = value
        generators = _module_generators(trainer)
        if set(generators) != set(meta["rng"]["modules"]):
            raise ValueError(f"cannot resume from {path}: its model keeps other random generators")
        before = trainer.model.state_dict()
        try:
            trainer.model.load_state_dict(model_state)
            trainer.opt.load_state_dict(optimizer_state)
        except (KeyError, ShapeError, ValueError) as error:
            trainer.model.load_state_dict(before)
            reason = error.args[0] if isinstance(error, KeyError) else str(error)
            raise ValueError(
                f"cannot resume from {path}: it does not fit this run: {reason}"
            ) from None
        if sched is not None:
            sched.load_state_dict(saved_sched["state"])
        rng.bit_generator.state = meta["rng"]["shuffle"]
        random.default_generator.bit_generator.state = meta["rng"]["default"]
        for key, generator in generators.items():
            generator.bit_generator.state = meta["rng"]["modules"][key]
        trainer.history = history
        trainer.rule.theta = np.concatenate([p.data.ravel() for p in trainer.params])
        trainer.rule.steps.extend(history.param_steps)
        return epochs_done

    @staticmethod
    def _history(arrays: dict[str, np.ndarray], kept: dict[str, Any], path: Path) -> History:
        values: dict[str, Any] = {}
        try:
            for f in fields(History):
                if f.name == "path":
                    values["path"] = list(arrays["history/path"])
                elif f.name == "metrics":
                    values["metrics"] = {
                        name: arrays[f"history/metrics/{name}"].tolist() for name in kept["metrics"]
                    }
                elif f"history/{f.name}" in arrays:
                    values[f.name] = arrays[f"history/{f.name}"].tolist()
                else:
                    values[f.name] = kept[f.name]
        except KeyError as error:
            raise FileFormatError(path, _WHAT, f"its History lacks {error.args[0]}") from None
        values["interrupted"] = False  # the resumed run goes on
        return History(**values)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
