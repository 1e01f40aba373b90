"""Data for training: batching, shuffling, standardization, CSV loading, shipped data sets.

Everything here works on plain NumPy arrays and imports nothing else from minigrad, so
the same batches and loaders serve the autodiff models, the hand-written NumPy baselines
and the benchmarks alike.

>>> X, y, true_w, true_b = make_linear(n=1000, d=2, seed=0)
>>> [len(xb) for xb, yb in batches(X, y, batch_size=300, rng=np.random.default_rng(0))]
[300, 300, 300, 100]
>>> n_batches(1000, 300)
4
"""

from __future__ import annotations

import csv
import difflib
import errno
import math
import numbers
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "DataError",
    "Dataset",
    "DatasetInfo",
    "Rows",
    "Standardizer",
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


class DataError(ValueError):
    """Bad data in a file: names the file, the row (header = row 1) and the column.

    When an argument of :func:`load_csv` gets past the problem, ``argument`` and
    ``value`` name it and the message ends with the advice to pass it; a caller that
    spells arguments differently (the command line's flags) rebuilds the advice with
    :meth:`advise`.
    """

    def __init__(
        self, message: str, argument: str | None = None, value: Any = None, purpose: str = ""
    ) -> None:
        self.message, self.argument, self.value, self.purpose = message, argument, value, purpose
        super().__init__(self.advise(f"{argument}={value!r}"))

    def advise(self, spelled: str) -> str:
        """The message, with the advice to pass ``spelled`` (e.g. ``"--drop-missing"``)."""
        if self.argument is None:
            return self.message
        return f"{self.message} (pass {spelled} {self.purpose})"


# --------------------------------------------------------------------------- batching


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


def n_batches(n: int, batch_size: int | None) -> int:
    """Number of updates in one epoch over ``n`` examples: ``ceil(n / batch_size)``.

    ``batch_size=None`` (or one >= n) is full-batch gradient descent: one update per epoch.
    The last batch is partial when ``batch_size`` does not divide ``n``, so it still counts.

    >>> n_batches(1000, 100), n_batches(1001, 100), n_batches(1001, None)
    (10, 11, 1)
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer (the number of examples), got {n!r}")
    _check_batch_size(batch_size)
    if batch_size is None:
        return 1
    return -(-int(n) // int(batch_size))


def batches(
    X: Any,
    y: Any,
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
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
    order = None
    if shuffle and size < n:  # a single full batch holds every row whatever the order
        order = (rng if rng is not None else np.random.default_rng()).permutation(n)
    return _epoch(X, y, n, size, order)


def _epoch(
    X: Any, y: Any, n: int, size: int, order: np.ndarray | None
) -> Iterator[tuple[Any, Any]]:
    for start in range(0, n, size):
        if order is None:
            rows: slice | np.ndarray = slice(start, start + size)
        else:
            rows = np.sort(order[start : start + size])
        yield X[rows], y[rows]


# --------------------------------------------------------------------- standardization


class Standardizer:
    """Rescale each feature to mean 0 and standard deviation 1, and undo it.

    Gradient descent on a linear model converges fastest when the features share a
    scale: with raw car weights (~3000 lbs) next to cylinder counts (~5), one learning
    rate is too big for one weight and too small for the other. Fit on the training data
    only, then apply the same ``mean_`` and ``scale_`` everywhere else.

    ``scale_`` is the population standard deviation (ddof=0, as scikit-learn's
    ``StandardScaler``); a constant column gets scale 1 (so it maps to 0, not to NaN) and
    a warning. Statistics are computed in float64; float32 input stays float32.

    >>> s = Standardizer()
    >>> Xs = s.fit_transform(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> Xs.tolist(), s.mean_.tolist(), s.scale_.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [2.0, 20.0], [1.0, 10.0])
    """

    mean_: np.ndarray
    scale_: np.ndarray

    def __init__(self) -> None:
        self._fitted = False

    def __repr__(self) -> str:
        if not self._fitted:
            return "Standardizer(not fitted)"
        return f"Standardizer(mean_={self.mean_!r}, scale_={self.scale_!r})"

    def fit(self, X: Any) -> Standardizer:
        """Learn each column's mean and standard deviation; returns ``self``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim not in (1, 2) or X.shape[0] == 0:
            raise ValueError(
                f"Standardizer.fit expects X of shape (N,) or (N, d) with N >= 1, "
                f"got shape {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            first = tuple(np.argwhere(~np.isfinite(X))[0].tolist())
            raise ValueError(
                f"Standardizer.fit: X contains NaN or inf (first at index {first}); drop or "
                f"fill those values first, standardizing would spread them to every row"
            )
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        constant = std <= 16 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
        if np.any(constant):
            which = np.flatnonzero(constant).tolist()
            warnings.warn(
                f"Standardizer: column(s) {which} have zero variance; using scale 1 for "
                f"them, so they become all zeros",
                RuntimeWarning,
                stacklevel=2,
            )
            std = np.where(constant, 1.0, std)
        self.mean_, self.scale_ = mean, std
        self._fitted = True
        return self

    def _check(self, X: Any, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._fitted:
            raise RuntimeError(
                f"Standardizer.{method} called before fit: call fit(X) or fit_transform(X) "
                f"on the training data first"
            )
        X = np.asarray(X)
        if self.mean_.ndim == 1 and (X.ndim == 0 or X.shape[-1] != self.mean_.shape[0]):
            raise ValueError(
                f"Standardizer.{method}: fitted on {self.mean_.shape[0]} feature(s), so X "
                f"must have shape (N, {self.mean_.shape[0]}), got {X.shape}"
            )
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        return X.astype(dtype, copy=False), self.mean_.astype(dtype), self.scale_.astype(dtype)

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_``."""
        X, mean, scale = self._check(X, "transform")
        return (X - mean) / scale

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Xs: Any) -> np.ndarray:
        """Back to original units: ``Xs * scale_ + mean_``."""
        Xs, mean, scale = self._check(Xs, "inverse_transform")
        return Xs * scale + mean

    def unstandardize_weights(self, w_std: Any, b_std: Any) -> tuple[np.ndarray, Any]:
        """Weights of a linear model trained on standardized features, in original units.

        If ``y ≈ Xs·w_std + b_std`` with ``Xs = (X - mean) / scale``, then ``y ≈ X·w + b``
        with ``w = w_std / scale`` and ``b = b_std - Σ w_std·mean/scale``. Only the
        features are undone: if ``y`` was standardized too, undo that separately.

        Supports one output: ``w_std`` of shape ``(d,)``, ``(d, 1)`` (for ``X @ w``) or
        ``(1, d)`` (a PyTorch-style ``Linear(d, 1).weight``), where ``d`` is the number of
        fitted features; ``b_std`` a scalar or a one-element array. ``w`` comes back in the
        shape of ``w_std`` and ``b`` in the shape of ``b_std`` (a float for a scalar).
        """
        if not self._fitted:
            raise RuntimeError(
                "Standardizer.unstandardize_weights called before fit: call fit(X) on the "
                "features the model was trained on first"
            )
        mean = np.atleast_1d(self.mean_)
        scale = np.atleast_1d(self.scale_)
        d = mean.shape[0]
        w = np.asarray(w_std, dtype=np.float64)
        b = np.asarray(b_std, dtype=np.float64)
        if w.shape not in ((d,), (d, 1), (1, d)):
            raise ValueError(
                f"unstandardize_weights: fitted on {d} feature(s), so w_std must have shape "
                f"({d},), ({d}, 1) or (1, {d}) (one output), got {w.shape}"
            )
        if b.size != 1:
            raise ValueError(
                f"unstandardize_weights: b_std must be a scalar or one-element array (one "
                f"output), got shape {b.shape}"
            )
        flat = w.reshape(d)
        w_orig = (flat / scale).reshape(w.shape)
        b_orig = b - np.sum(flat * mean / scale)
        return w_orig, (float(b_orig) if b.ndim == 0 else b_orig)


# ------------------------------------------------------------------------- CSV loading


class Dataset(NamedTuple):
    """A loaded table: ``X`` (N, d) float64, ``y`` (N,) float64 and what they are.

    ``repr()`` summarizes it in one line (a notebook shows that, not every number).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    n_dropped: int

    def __repr__(self) -> str:
        shown = ", ".join(self.feature_names[:_NAMES_SHOWN])
        more = len(self.feature_names) - _NAMES_SHOWN
        shown += f", … ({more} more)" if more > 0 else ""
        plural = "" if len(self.feature_names) == 1 else "s"
        dropped = f"; {self.n_dropped} rows dropped" if self.n_dropped else ""
        return (
            f"Dataset({len(self.y)} rows, target {self.target_name!r}, "
            f"{len(self.feature_names)} feature{plural}: {shown}{dropped})"
        )


_NAMES_SHOWN = 5
"""Feature names a Dataset's repr lists before it says how many more there are."""


_MISSING = "missing value"


def _parse_cell(cell: str) -> float | str:
    """A cell's float value, or why it has none (``_MISSING`` or a 'not a number' text)."""
    text = cell.strip()
    if not text:
        return _MISSING
    try:
        value = float(text)
    except ValueError:
        return f"{text!r} is not a number"
    if math.isnan(value):
        return _MISSING
    if math.isinf(value):
        return f"{text!r} is not a finite number"
    return value


def _is_numeric_column(cells: Iterable[str]) -> bool:
    """True if the column has data and every non-empty cell parses as a float."""
    seen = False
    for cell in cells:
        text = cell.strip()
        if text:
            try:
                float(text)
            except ValueError:
                return False
            seen = True
    return seen


_OTHER_DELIMITERS = (";", "\t", "|")


def _one_column(file: str, header: str) -> DataError:
    """A table needs a target and a feature: one column means a different separator."""
    message = f"{file} row 1: the header is a single column {header!r}"
    for delimiter in _OTHER_DELIMITERS:
        if delimiter in header:
            message += f": the file looks separated by {delimiter!r}"
            return DataError(message, "delimiter", delimiter, "to read it")
    return DataError(message + "; a table needs a target column and at least one feature")


def _unknown_column(file: str, name: str, header: Sequence[str]) -> DataError:
    if len(header) == 1 and any(d in header[0] for d in _OTHER_DELIMITERS):
        return _one_column(file, header[0])
    close = [h for h in header if h.casefold() == name.casefold()]
    close = close or difflib.get_close_matches(name, header, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return DataError(f"{file}: no column {name!r}{hint}; available columns: {', '.join(header)}")


def _read_rows(
    lines: Iterable[str], file: str, delimiter: str
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the ``(row number, cells)`` of every data row, checked for shape."""
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise DataError(f"{file} is empty: expected a header row of column names in row 1")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(f"{file} row 1: duplicate column name(s) {duplicates}")
    # Spreadsheet row numbers: the header is row 1, the first data row is row 2. A blank
    # line is a row too (a spreadsheet shows it), it just holds no data.
    rows: list[tuple[int, list[str]]] = []
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(
                f"{file} row {number}: {len(row)} cell(s), but the header (row 1) has "
                f"{len(header)} columns"
            )
        rows.append((number, row))
    if not rows:
        raise DataError(f"{file} has a header but no data rows")
    return header, rows


def _parse_columns(
    file: str,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    used: list[str],
    drop_missing: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """``(values, keep)``: the ``used`` columns as floats, and which rows had all of them."""
    index = {name: i for i, name in enumerate(header)}
    for name in used:
        # A text column (every non-empty cell is text) is wrong whatever drop_missing says.
        parsed = (_parse_cell(row[index[name]]) for _, row in rows)
        if not any(isinstance(value, float) for value in parsed):
            first = next(((n, r[index[name]]) for n, r in rows if r[index[name]].strip()), None)
            example = f" (row {first[0]}: {first[1]!r})" if first else " (every cell is empty)"
            raise DataError(f"{file}: column {name!r} is not numeric{example}")

    values = np.empty((len(rows), len(used)), dtype=np.float64)
    keep = np.ones(len(rows), dtype=bool)
    for i, (number, row) in enumerate(rows):
        for j, name in enumerate(used):
            value = _parse_cell(row[index[name]])
            if isinstance(value, float):
                values[i, j] = value
            elif drop_missing:
                keep[i] = False
                break
            else:
                raise DataError(
                    f"{file} row {number}, column {name!r}: {value}",
                    "drop_missing",
                    True,
                    "to drop such rows",
                )
    if not keep.any():
        raise DataError(
            f"{file}: all {len(rows)} data rows have a missing or non-numeric value in the "
            f"columns {used}"
        )
    return values, keep


def _warn_dropped(file: str, keep: np.ndarray, used: list[str], stacklevel: int) -> None:
    """Say how many rows were dropped, pointing at the caller ``stacklevel`` frames up."""
    n_dropped = int(len(keep) - keep.sum())
    if n_dropped:
        warnings.warn(
            f"{file}: dropped {n_dropped} of {len(keep)} rows with a missing or non-numeric "
            f"value in the columns {used}",
            stacklevel=stacklevel + 1,
        )


def _read_table(
    lines: Iterable[str],
    file: str,
    target: str,
    features: str | Sequence[str] | None,
    drop_missing: bool,
    warn_dropped: bool,
    delimiter: str = ",",
) -> Dataset:
    header, rows = _read_rows(lines, file, delimiter)
    if len(header) == 1:
        raise _one_column(file, header[0])
    if not isinstance(target, str):
        raise TypeError(f"target must be a column name (str), got {target!r}")
    if target not in header:
        raise _unknown_column(file, target, header)
    index = {name: i for i, name in enumerate(header)}
    if features is None:
        names = [
            name
            for name in header
            if name != target and _is_numeric_column(row[index[name]] for _, row in rows)
        ]
        if not names:
            raise DataError(f"{file}: no numeric columns besides the target {target!r}")
    else:
        names = [features] if isinstance(features, str) else list(features)
        if not names:
            raise ValueError("features is empty: name at least one column, or pass None")
        for name in names:
            if name not in index:
                raise _unknown_column(file, name, header)
        if target in names:
            raise ValueError(f"the target column {target!r} is also listed in features")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"features lists column(s) {repeated} more than once")
    used = [*names, target]
    values, keep = _parse_columns(file, header, rows, used, drop_missing)
    if warn_dropped:
        _warn_dropped(file, keep, used, stacklevel=3)  # the caller of load_csv/load_dataset
    values = values[keep]
    return Dataset(
        X=np.ascontiguousarray(values[:, :-1]),
        y=values[:, -1].copy(),
        feature_names=names,
        target_name=target,
        n_dropped=int(len(keep) - keep.sum()),
    )


def _checked_path(path: str | os.PathLike[str], delimiter: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a CSV file", str(path))
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "CSV file not found", str(path))
    if not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise ValueError(f"delimiter must be a single character, got {delimiter!r}")
    return path


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    features: str | Sequence[str] | None = None,
    drop_missing: bool = False,
    delimiter: str = ",",
) -> Dataset:
    """Load numeric columns of a CSV file (header in the first row) as ``X`` and ``y``.

    ``features=None`` takes every numeric column except the target, in file order; a
    column is numeric if it has data and every non-empty cell parses as a float (text
    columns such as a name are skipped). Naming a text column is an error.

    A cell is missing when it is empty (or ``NaN``). By default a missing or non-numeric
    cell in a used column is a ``DataError`` naming the file, the row as a spreadsheet
    numbers it (header = row 1) and the column; ``drop_missing=True`` drops those rows
    instead, warns, and reports how many in ``Dataset.n_dropped``. Unused columns may hold
    anything. ``delimiter`` separates the cells (``";"`` for many spreadsheets' exports); a
    header that reads as one column holding ``;``, a tab or ``|`` is an error saying so.

    >>> ds = load_csv(dataset_path("cars"), target="Miles_per_Gallon",
    ...               features=["Horsepower"], drop_missing=True)  # doctest: +SKIP
    """
    path = _checked_path(path, delimiter)
    with path.open(newline="", encoding="utf-8-sig") as f:
        return _read_table(f, path.name, target, features, drop_missing, True, delimiter)


class Rows(NamedTuple):
    """A CSV file's rows as :func:`load_rows` reads them."""

    header: list[str]
    cells: list[list[str]]  #: every data row's cells as text (blank lines skipped)
    values: np.ndarray  #: (rows kept, len(columns)) float64: the named columns
    kept: np.ndarray  #: indices into ``cells`` of the rows in ``values``

    def __repr__(self) -> str:
        return f"Rows({len(self.cells)} rows, {len(self.kept)} kept, columns {self.header})"


def load_rows(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    drop_missing: bool = False,
    delimiter: str = ",",
) -> Rows:
    """Read every row of a CSV file, and the named numeric ``columns`` of each as floats.

    The rows for prediction: unlike :func:`load_csv` there is no target, and the other
    cells are kept as text, to be written back out beside the predictions. Missing and
    non-numeric cells in ``columns`` are handled as :func:`load_csv` handles them.
    """
    path = _checked_path(path, delimiter)
    with path.open(newline="", encoding="utf-8-sig") as f:
        header, rows = _read_rows(f, path.name, delimiter)
    for name in columns:
        if name not in header:
            raise _unknown_column(path.name, name, header)
    values, keep = _parse_columns(path.name, header, rows, list(columns), drop_missing)
    _warn_dropped(path.name, keep, list(columns), stacklevel=2)
    return Rows(header, [cells for _, cells in rows], values[keep], np.flatnonzero(keep))


# ----------------------------------------------------------------- shipped data sets

_DATASETS_PACKAGE = f"{__package__}.datasets" if __package__ else "datasets"

_SHIPPED = {
    "cars": (
        "cars.csv",
        "Miles_per_Gallon",
        "Auto MPG: 406 cars (1970-82), fuel economy, weight, horsepower, ... "
        "(UCI/StatLib via vega_datasets)",
    ),
}
_SYNTHETIC = {
    "linear": ("make_linear", "y", "synthetic y = X·w + b + Gaussian noise", 100),
    "taxi": (
        "make_taxi",
        "FARE",
        "synthetic taxi fares: FARE = 2.25·TRIP_MILES + 0.12·TRIP_MINUTES + 3.25 + noise",
        1000,
    ),
}


class DatasetInfo(NamedTuple):
    """One entry of :func:`list_datasets`."""

    name: str
    description: str
    n_rows: int  #: rows in the file; for a synthetic set, its generator's default ``n``
    synthetic: bool  #: made by a generator (any size, seeded), not read from a file
    target: str  #: the column a regression on it predicts by default


def _resource(name: str) -> Any:
    key = name.removesuffix(".csv")
    if key in _SYNTHETIC:
        func = _SYNTHETIC[key][0]
        raise ValueError(f"data set {name!r} is synthetic, it has no file: call {func}()")
    if key not in _SHIPPED:
        available = ", ".join([*_SHIPPED, *_SYNTHETIC])
        raise ValueError(f"unknown data set {name!r}; available: {available}")
    return resources.files(_DATASETS_PACKAGE).joinpath(_SHIPPED[key][0])


def dataset_path(name: str) -> Path:
    """Filesystem path of a shipped data file, e.g. ``dataset_path("cars")``."""
    return Path(str(_resource(name)))


def list_datasets() -> list[DatasetInfo]:
    """Every data set :func:`load_dataset` knows, shipped files first, then synthetic ones.

    >>> [(d.name, d.synthetic, d.target) for d in list_datasets()]
    [('cars', False, 'Miles_per_Gallon'), ('linear', True, 'y'), ('taxi', True, 'FARE')]
    """
    listing = []
    for name, (_, target, description) in _SHIPPED.items():
        with _resource(name).open("r", encoding="utf-8-sig", newline="") as f:
            n_rows = sum(1 for row in csv.reader(f) if row) - 1
        listing.append(DatasetInfo(name, description, n_rows, False, target))
    for name, (func, target, description, n) in _SYNTHETIC.items():
        listing.append(DatasetInfo(name, f"{description} ({func}())", n, True, target))
    return listing


def _synthetic_rows(name: str) -> Iterator[str]:
    """A synthetic set (default size and seed) as CSV lines, header first: it then loads
    through the same column selection and checks as a file."""
    if name == "taxi":
        X, y, names = make_taxi()
    else:
        X, y, _, _ = make_linear()
        names = [f"x{j + 1}" for j in range(X.shape[1])]
    yield ",".join([*names, _SYNTHETIC[name][1]])
    for row, target in zip(X, y, strict=True):
        yield ",".join(repr(float(v)) for v in (*row, target))


def load_dataset(
    name: str,
    target: str | None = None,
    features: str | Sequence[str] | None = None,
    drop_missing: bool = False,
) -> Dataset:
    """A data set of :func:`list_datasets` by name, as :func:`load_csv` loads a file.

    ``target=None`` predicts the set's usual target. The synthetic sets are made at
    their generator's default size and seed, so the same name gives the same numbers.

    >>> load_dataset("taxi")
    Dataset(1000 rows, target 'FARE', 2 features: TRIP_MILES, TRIP_MINUTES)
    """
    key = name.removesuffix(".csv")
    if key in _SYNTHETIC:
        lines: Iterable[str] = _synthetic_rows(key)
        return _read_table(lines, key, target or _SYNTHETIC[key][1], features, drop_missing, True)
    with _resource(key).open("r", encoding="utf-8-sig", newline="") as f:
        file, default_target, _ = _SHIPPED[key]
        return _read_table(f, file, target or default_target, features, drop_missing, True)


def load_cars(
    features: str | Sequence[str] | None = ("Weight_in_lbs",),
    target: str = "Miles_per_Gallon",
) -> Dataset:
    """The Auto MPG table shipped with minigrad: by default, fuel economy vs car weight.

    Google's Machine Learning Crash Course introduces linear regression with exactly this
    question: how much does a heavier car cut miles per gallon? Rows with a missing value
    in the used columns are dropped and counted in ``n_dropped`` (quietly: it is known
    data). Of the 406 rows, 8 lack ``Miles_per_Gallon`` and 6 ``Horsepower`` (never the
    same car), so the default keeps 398 rows and adding ``Horsepower`` keeps 392.
    ``features=None`` uses every numeric column: Cylinders, Displacement, Horsepower,
    Weight_in_lbs, Acceleration (Name, Year — a date string — and Origin are text).

    >>> ds = load_cars()
    >>> ds.X.shape, ds.y.shape, ds.n_dropped
    ((398, 1), (398,), 8)
    """
    with _resource("cars").open("r", encoding="utf-8-sig", newline="") as f:
        return _read_table(f, "cars.csv", target, features, drop_missing=True, warn_dropped=False)


# -------------------------------------------------------------------- synthetic data


def _check_positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_noise(noise: float) -> float:
    if not (isinstance(noise, numbers.Real) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite standard deviation >= 0, got {noise!r}")
    return float(noise)


def make_linear(
    n: int = 100,
    d: int = 1,
    noise: float = 1.0,
    seed: int | None = 0,
    weights: Sequence[float] | np.ndarray | None = None,
    bias: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A regression problem with known answer: ``y = X·true_w + true_b + noise``.

    Returns ``(X, y, true_w, true_b)`` with ``X`` (n, d) drawn from N(0, 1), ``y`` (n,),
    ``true_w`` (d,) and ``true_b`` a float; ``noise`` is the standard deviation of the
    Gaussian noise added to ``y``. ``weights=None`` draws each weight uniformly from
    [-3, 3] and ``bias=None`` draws the bias from [-3, 3]. The parameters, ``X`` and the
    noise come from three independent streams of ``seed``, so changing ``noise`` or
    ``weights`` keeps the same ``X`` — handy for comparing runs. Same seed, same data.

    >>> X, y, w, b = make_linear(n=5, d=2, noise=0.0, seed=1)
    >>> X.shape, y.shape, w.shape, bool(np.allclose(y, X @ w + b))
    ((5, 2), (5,), (2,), True)
    """
    n = _check_positive_int("n", n)
    d = _check_positive_int("d", d)
    noise = _check_noise(noise)
    param_rng, x_rng, noise_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    drawn_w = param_rng.uniform(-3.0, 3.0, size=d)
    drawn_b = float(param_rng.uniform(-3.0, 3.0))
    if weights is None:
        true_w = drawn_w
    else:
        true_w = np.array(weights, dtype=np.float64).reshape(-1)
        if true_w.shape != (d,):
            raise ValueError(f"weights must hold d={d} values, got shape {np.shape(weights)}")
    true_b = drawn_b if bias is None else float(bias)
    X = x_rng.standard_normal((n, d))
    y = X @ true_w + true_b + noise * noise_rng.standard_normal(n)
    return X, y, true_w, true_b


_TAXI_FEATURES = ["TRIP_MILES", "TRIP_MINUTES"]


def make_taxi(
    n: int = 1000, noise: float = 1.0, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Synthetic Chicago-style taxi rides priced by the Google ML Crash Course formula.

    The crash course's taxi exercise finds that fares follow
    ``FARE = 2.25·TRIP_MILES + 0.12·TRIP_MINUTES + 3.25`` (dollars): a per-mile rate, a
    per-minute rate and a flag-drop fee. This makes rides with that answer built in, so a
    two-feature fit has a known target:

    - ``TRIP_MILES`` is log-normal with median 4 miles (many short rides, a long tail),
      clipped to [0.2, 45];
    - ``TRIP_MINUTES`` is 3 minutes of pick-up/drop-off plus about 2.5 minutes per mile
      (24 mph) times a log-normal traffic factor (σ = 0.3, clipped to [0.5, 2]), so
      minutes rise with miles but are not a copy of them (correlation about 0.9);
    - ``FARE`` adds Gaussian noise of standard deviation ``noise`` dollars to the formula.

    Returns ``(X, y, feature_names)``: ``X`` (n, 2) with columns ``TRIP_MILES,
    TRIP_MINUTES``, ``y`` (n,) the fare, and ``["TRIP_MILES", "TRIP_MINUTES"]``.

    >>> X, y, names = make_taxi(n=3, noise=0.0)
    >>> bool(np.allclose(y, 2.25 * X[:, 0] + 0.12 * X[:, 1] + 3.25)), names
    (True, ['TRIP_MILES', 'TRIP_MINUTES'])
    """
    n = _check_positive_int("n", n)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    miles = np.clip(rng.lognormal(mean=np.log(4.0), sigma=0.8, size=n), 0.2, 45.0)
    traffic = np.clip(rng.lognormal(mean=0.0, sigma=0.3, size=n), 0.5, 2.0)
    minutes = 3.0 + 2.5 * miles * traffic
    fare = 2.25 * miles + 0.12 * minutes + 3.25 + noise * rng.standard_normal(n)
    return np.column_stack([miles, minutes]), fare, list(_TAXI_FEATURES)
