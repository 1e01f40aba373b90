"""Data for training: batching, shuffling, standardization, CSV loading, shipped data sets.

Everything here works on plain NumPy arrays and imports nothing else from minigrad but
the core (the Tensor that :class:`~minigrad.data.loader.DataLoader` batches are, and the
default generator that shuffles them), so the same batches and loaders serve the
autodiff models, the hand-written NumPy baselines and the benchmarks alike. One job per
module: :mod:`~minigrad.data.batching`, :mod:`~minigrad.data.scaling` (``Standardizer``),
:mod:`~minigrad.data.csv_files` (``load_csv``, ``load_rows``),
:mod:`~minigrad.data.catalog` (the data sets by name),
:mod:`~minigrad.data.synthetic` (``make_linear``, ``make_taxi``) and
:mod:`~minigrad.data.loader` (PyTorch's ``TensorDataset`` and ``DataLoader``).

>>> import numpy as np
>>> X, y, true_w, true_b = make_linear(n=1000, d=2, seed=0)
>>> [len(xb) for xb, yb in batches(X, y, batch_size=300, rng=np.random.default_rng(0))]
[300, 300, 300, 100]
>>> n_batches(1000, 300)
4
"""

from __future__ import annotations

from minigrad.data.batching import batches, n_batches
from minigrad.data.catalog import (
    DatasetInfo,
    dataset_path,
    list_datasets,
    load_cars,
    load_dataset,
)
from minigrad.data.csv_files import DataError, Dataset, Rows, load_csv, load_rows
from minigrad.data.loader import DataLoader, TensorDataset
from minigrad.data.scaling import Standardizer
from minigrad.data.synthetic import make_linear, make_taxi

__all__ = [
    "DataError",
    "DataLoader",
    "Dataset",
    "DatasetInfo",
    "Rows",
    "Standardizer",
    "TensorDataset",
    "batches",
    "dataset_path",
    "list_datasets",
    "load_cars",
    "load_csv",
    "load_dataset",
    "load_rows",
    "make_linear",
    "make_taxi",
    "n_batches",
]
