"""Optimizers and learning-rate schedules with PyTorch's names (``torch.optim``).

- :mod:`~minigrad.optim.optimizer`: ``Optimizer``, ``SGD``, ``RMSprop``, ``Adam``, each
  with ``state_dict()``/``load_state_dict()``, and the name registry ``get``;
- :mod:`~minigrad.optim.lr_scheduler`: ``StepLR``, ``ExponentialLR``,
  ``CosineAnnealingLR``.

>>> import minigrad as mg
>>> w = mg.nn.Parameter([1.0])
>>> opt = mg.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()     # ∂(w²)/∂w = 2w = 2
>>> opt.step(); w.item()         # w − 0.1·2
0.8
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.optimizer import OPTIMIZERS, SGD, Adam, Optimizer, RMSprop, get

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Optimizer", "RMSprop", "get", "lr_scheduler"]
