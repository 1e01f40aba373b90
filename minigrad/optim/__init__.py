"""Optimizers and learning-rate schedules with PyTorch's names (``torch.optim``).

- :mod:`~minigrad.optim.optimizer`: ``Optimizer``, ``SGD``, ``RMSprop``, ``Adam``,
  ``AdamW``, each with parameter groups and ``state_dict()``/``load_state_dict()``, and
  the name registry ``get``;
- :mod:`~minigrad.optim.lr_scheduler`: ``StepLR``, ``ExponentialLR``,
  ``CosineAnnealingLR``, ``ReduceLROnPlateau``.

>>> import minigrad as mg
>>> opt = mg.optim.get("adam")(mg.nn.Linear(2, 1).parameters(), lr=0.1)
>>> sched = mg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
>>> opt.step(); sched.step(); opt.lr
0.05
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.optimizer import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop, get

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "get",
    "lr_scheduler",
]
