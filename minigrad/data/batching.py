"""Batching: one epoch of (X, y) batches, shuffled reproducibly, and how many there are."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np


def _check_batch_size(batch_size: int | None) -> None:
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(
            f"batch_size must be a positive integer or None (one full batch), "
            f"got {batch_size!r} of type {type(batch_size).__name__}"
        )
    if batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer or None (one full batch), got {batch_size}"
        )


def n_batches(n: int, batch_size: int | None, drop_last: bool = False) -> int:
    """Number of updates in one epoch over ``n`` examples: ``ceil(n / batch_size)``.

    ``batch_size=None`` (or one >= n) is full-batch gradient descent: one update per epoch.
    The last batch is partial when ``batch_size`` does not divide ``n``, so it still counts,
    unless ``drop_last`` (then ``floor(n / batch_size)``, as PyTorch's DataLoader).

    >>> n_batches(1000, 100), n_batches(1001, 100), n_batches(1001, None)
    (10, 11, 1)
    >>> n_batches(1001, 100, drop_last=True)
    10
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer (the number of examples), got {n!r}")
    _check_batch_size(batch_size)
    if batch_size is None:
        return 1
    if drop_last:
        return int(n) // int(batch_size)
    return -(-int(n) // int(batch_size))


def batches(
    X: Any,
    y: Any,
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[Any, Any]]:
    """Iterate over one epoch of ``(X_batch, y_batch)`` pairs, rows along axis 0.

    Yields ``ceil(N / batch_size)`` batches; every row appears in exactly one of them and
    the last one is partial when ``batch_size`` does not divide ``N``. ``batch_size=None``
    (or one >= N) yields the whole data set as a single batch: full-batch gradient descent.

    With ``shuffle=True`` the rows are dealt out by ``rng.permutation(N)``. Create ``rng``
    once, ``rng = np.random.default_rng(seed)``, and pass the same generator every epoch:
    each epoch then gets a different permutation, and the whole run is reproducible from
    the seed. ``rng=None`` draws a fresh, unseeded generator (not reproducible).

    Each shuffled batch is gathered with a *sorted* index array. A batch's contents matter
    to a gradient, not the order of its rows, and sorted indices let an ``np.memmap``
    (``np.load(path, mmap_mode="r")``) read just that batch's rows, front to back, instead
    of loading the file: a data set larger than memory can be trained on. Unshuffled
    batches are slices, i.e. views of ``X`` and ``y``; shuffled ones are copies. Any array
    that supports slicing and integer-array indexing works (ndarray, memmap, ...).

    ``drop_last=True`` leaves out the last batch when it is partial (PyTorch's
    DataLoader option): every batch then has ``batch_size`` rows.

    Errors are raised when ``batches`` is called, not at the first ``next()``.

    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    _check_batch_size(batch_size)
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if isinstance(y, (list, tuple)):
        y = np.asarray(y)
    try:
        n, n_y = len(X), len(y)
    except TypeError:
        raise ValueError(
            f"X and y must be arrays with examples along axis 0, got X of shape "
            f"{np.shape(X)} and y of shape {np.shape(y)}"
        ) from None
    if n != n_y:
        raise ValueError(
            f"X and y must have the same number of examples (axis 0), got X of shape "
            f"{np.shape(X)} and y of shape {np.shape(y)}"
        )
    if n == 0:
        raise ValueError("cannot make batches of an empty data set (X and y have 0 rows)")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a np.random.Generator, got {type(rng).__name__}; create it once "
            f"with np.random.default_rng(seed) and pass it every epoch, so that each epoch "
            f"is shuffled differently but reproducibly"
        )
    size = n if batch_size is None else min(int(batch_size), n)
    if drop_last and batch_size is not None and batch_size > n:
        raise ValueError(
            f"drop_last=True with batch_size={batch_size} > {n} examples leaves no batch"
        )
    order = None
    if shuffle and size < n:  # a single full batch holds every row whatever the order
        order = (rng if rng is not None else np.random.default_rng()).permutation(n)
    end = n - n % size if drop_last else n
    return _epoch(X, y, end, size, order)


def _epoch(
    X: Any, y: Any, end: int, size: int, order: np.ndarray | None
) -> Iterator[tuple[Any, Any]]:
    for start in range(0, end, size):
        if order is None:
            rows: slice | np.ndarray = slice(start, start + size)
        else:
            rows = np.sort(order[start : start + size])
        yield X[rows], y[rows]
