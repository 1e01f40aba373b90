"""PyTorch's spelling of minigrad's data tools: ``from minigrad.utils.data import
DataLoader, TensorDataset``, as ``torch.utils.data`` (they live in :mod:`minigrad.data`)."""

from minigrad.utils import data

__all__ = ["data"]
