"""Neural-network building blocks with PyTorch's names (``torch.nn``).

- :mod:`~minigrad.nn.module`: ``Module`` (parameter walks, state dicts, train/eval) and
  ``Parameter``;
- :mod:`~minigrad.nn.linear`: ``Linear`` (PyTorch's init) and ``LinearRegression``
  (the notes' model, starting from zero);
- :mod:`~minigrad.nn.layers`: ``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``, ``LogSoftmax``,
  ``Identity``, ``Flatten``, ``Dropout``;
- :mod:`~minigrad.nn.containers`: ``Sequential``, ``ModuleList``, ``ModuleDict``;
- :mod:`~minigrad.nn.activations`: ``LeakyReLU``, ``GELU``, ``SiLU``, ``Softplus``, ``ELU``;
- :mod:`~minigrad.nn.normalization`: ``BatchNorm1d`` (running statistics as buffers);
- :mod:`~minigrad.nn.loss`: ``MSELoss``, ``L1Loss``, ``HuberLoss``, ``BCELoss``,
  ``BCEWithLogitsLoss``, ``CrossEntropyLoss`` (with ``reduction=``);
- :mod:`~minigrad.nn.init`: ``zeros_``, ``ones_``, ``constant_``, ``uniform_``,
  ``normal_``, ``xavier_uniform_``/``xavier_normal_``, ``kaiming_uniform_``/``kaiming_normal_``;
- :mod:`~minigrad.nn.utils`: ``clip_grad_norm_``.

>>> import minigrad as mg
>>> model = mg.nn.LinearRegression(1)         # ŷ = w·x + b, starting from w = 0, b = 0
>>> model(mg.tensor([[2.0], [3.0]])).tolist()
[0.0, 0.0]
"""

from minigrad.nn import init, utils
from minigrad.nn.activations import ELU, GELU, LeakyReLU, SiLU, Softplus
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
from minigrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
)
from minigrad.nn.module import Module, Parameter
from minigrad.nn.normalization import BatchNorm1d

__all__ = [
    "ELU",
    "GELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LinearRegression",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "init",
    "utils",
]
