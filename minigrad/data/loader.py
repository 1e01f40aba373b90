"""PyTorch's ``TensorDataset`` and ``DataLoader``: mini-batches of Tensors, for loops you
write yourself and for :func:`minigrad.fit`.

A loader deals out one epoch of batches per ``iter()`` through the same
:func:`~minigrad.data.batching.batches` that ``fit`` uses, so ``fit(model, loader)`` and
a hand-written loop over the same loader see the same batches. Its shuffling draws from
``generator`` (a ``np.random.Generator``, PyTorch's ``generator=``), by default minigrad's
default generator, so ``mg.manual_seed(s)`` makes a run repeat exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad import random as mg_random
from minigrad.data.batching import _check_batch_size, batches, n_batches
from minigrad.tensor import Tensor


def _as_rows(value: Any, position: int) -> np.ndarray:
    data = value.data if isinstance(value, Tensor) else value
    if hasattr(data, "to_numpy"):  # pandas: rows by position, not by label
        data = data.to_numpy()
    array = data if isinstance(data, np.ndarray) else np.asarray(data)
    if array.ndim == 0:
        raise ValueError(
            f"TensorDataset: tensor {position} is a scalar; every tensor needs the examples "
            "along its first axis"
        )
    return array


class TensorDataset:
    """Examples held as arrays (or Tensors) that share their first axis, PyTorch's name.

    ``dataset[i]`` is the tuple of the i-th rows (an index array or slice gives a batch);
    ``dataset.tensors`` the arrays themselves.

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0.0, 1.0, 2.0]))
    >>> len(ds), ds[1]
    (3, (array([2., 3.]), np.float64(1.0)))
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor (e.g. X, y)")
        arrays = tuple(_as_rows(t, k) for k, t in enumerate(tensors))
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: the tensors must have the same number of examples (first "
                f"axis), got shapes {shapes}"
            )
        self.tensors: tuple[np.ndarray, ...] = arrays

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.tensors)
        return f"TensorDataset({len(self)} examples: {shapes})"


class DataLoader:
    """Batches of a :class:`TensorDataset`, as Tensors, one epoch per ``iter()``.

    Args:
        dataset: a :class:`TensorDataset` (or anything with ``.tensors``, e.g. arrays).
        batch_size: rows per batch (default 1, as PyTorch); None is one full batch.
        shuffle: deal the rows out in a new random order every epoch.
        drop_last: leave out the last batch when it is partial.
        generator: the ``np.random.Generator`` that shuffles; None is minigrad's default
            generator (:func:`minigrad.manual_seed` seeds it).

    Each batch is a tuple of Tensors (no gradient), one per dataset tensor. Rows inside
    a shuffled batch come in increasing order (see :func:`minigrad.data.batches`);
    which rows share a batch is what the permutation decides. :func:`minigrad.fit`
    accepts a loader in place of ``X, y``.

    >>> import numpy as np, minigrad as mg
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5.0))
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (3, [[0.0, 1.0], [2.0, 3.0], [4.0]])
    >>> len(DataLoader(ds, batch_size=2, drop_last=True))
    2
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(dataset, TensorDataset):
            if not hasattr(dataset, "tensors"):
                raise TypeError(
                    f"DataLoader needs a TensorDataset, got {type(dataset).__name__}; wrap "
                    "arrays as DataLoader(TensorDataset(X, y), ...)"
                )
            dataset = TensorDataset(*dataset.tensors)
        _check_batch_size(batch_size)
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"generator must be a np.random.Generator (np.random.default_rng(seed)), "
                f"got {type(generator).__name__}"
            )
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.generator = generator

    @property
    def rng(self) -> np.random.Generator:
        """The generator that shuffles (``generator``, else minigrad's default one)."""
        return self.generator if self.generator is not None else mg_random.default_generator

    def _empty(self) -> bool:
        size = self.batch_size
        return self.drop_last and size is not None and size > len(self.dataset)

    def __len__(self) -> int:
        if self._empty():
            return 0
        return n_batches(len(self.dataset), self.batch_size, self.drop_last)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        if self._empty():
            return
        arrays = self.dataset.tensors
        # one batches() call deals every tensor: the first as X, the others together as y
        first, rest = arrays[0], _Stacked(arrays[1:] or arrays[:1])
        for xb, others in batches(first, rest, self.batch_size, self.shuffle, self.rng,
                                  self.drop_last):  # fmt: skip
            yield (Tensor(xb), *(Tensor(o) for o in others[len(arrays) == 1 :]))

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


class _Stacked:
    """The other tensors of a dataset, indexed together (one ``batches`` call deals all)."""

    def __init__(self, arrays: tuple[np.ndarray, ...]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, rows: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[rows] for a in self.arrays)


def loader_arrays(loader: DataLoader) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of a loader over a two-tensor dataset, for :func:`minigrad.fit`."""
    tensors = loader.dataset.tensors
    if len(tensors) != 2:
        raise ValueError(
            f"fit needs a DataLoader over TensorDataset(X, y), two tensors; this one holds "
            f"{len(tensors)}"
        )
    return tensors[0], tensors[1]


__all__ = ["DataLoader", "TensorDataset", "loader_arrays"]
