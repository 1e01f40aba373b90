"""``minigrad.utils.data``: :class:`~minigrad.data.DataLoader` and
:class:`~minigrad.data.TensorDataset` where a PyTorch user looks for them.

>>> from minigrad.utils.data import DataLoader, TensorDataset
>>> import minigrad as mg
>>> DataLoader is mg.data.DataLoader
True
"""

from minigrad.data.loader import DataLoader, TensorDataset

__all__ = ["DataLoader", "TensorDataset"]
