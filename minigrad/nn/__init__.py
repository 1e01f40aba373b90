"""Neural-network building blocks with PyTorch's names (``torch.nn``).

- :mod:`~minigrad.nn.module`: ``Module`` (parameter walks, state dicts, train/eval) and
  ``Parameter``;
- :mod:`~minigrad.nn.linear`: ``Linear`` (PyTorch's init) and ``LinearRegression``
  (the notes' model, starting from zero);
- :mod:`~minigrad.nn.layers`: ``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``, ``LogSoftmax``,
  ``Identity``, ``Flatten``, ``Dropout``;
- :mod:`~minigrad.nn.containers`: ``Sequential``, ``ModuleList``, ``ModuleDict``;
- :mod:`~minigrad.nn.utils`: ``clip_grad_norm_``.

>>> import minigrad as mg
>>> model = mg.nn.LinearRegression(1)         # ŷ = w·x + b, starting from w = 0, b = 0
>>> model(mg.tensor([[2.0], [3.0]])).tolist()
[0.0, 0.0]
"""

from minigrad.nn import utils
from minigrad.nn.containers import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers import (
    Dropout,
    Flatten,
    Identity,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from minigrad.nn.linear import Linear, LinearRegression
from minigrad.nn.module import Module, Parameter

__all__ = [
    "Dropout",
    "Flatten",
    "Identity",
    "Linear",
    "LinearRegression",
    "LogSoftmax",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "utils",
]
