"""CSV loading: numeric columns of a file as X and y, with errors that name the row and column."""

from __future__ import annotations

import csv
import difflib
import errno
import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np


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

_THOUSANDS = re.compile(r"[+-]?\d{1,3}([,.' ]\d{3})+([.,]\d+)?")
"""A number written with thousands separators: 1,000 or 12.345.678,9 or 1 000."""


def _not_a_number(text: str) -> str:
    if _THOUSANDS.fullmatch(text):
        return (
            f"{text!r} is not a number: it looks written with thousands separators; "
            "save the file without them (e.g. 1000, not 1,000)"
        )
    return f"{text!r} is not a number"


def _parse_cell(cell: str) -> float | str:
    """A cell's float value, or why it has none (``_MISSING`` or a 'not a number' text)."""
    text = cell.strip()
    if not text:
        return _MISSING
    try:
        value = float(text)
    except ValueError:
        return _not_a_number(text)
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
            example = " (every cell is empty)"
            if first is not None:
                reason = str(_parse_cell(first[1]))  # the thousands separators, if it is them
                example = (
                    f" (row {first[0]}: {reason if 'thousands' in reason else repr(first[1])})"
                )
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


def _skipped(
    file: str, header: list[str], rows: list[tuple[int, list[str]]], skipped: list[str]
) -> str:
    """What the skipped text columns are, each with its first cell that is no number."""
    index = {name: i for i, name in enumerate(header)}
    described = []
    for name in skipped:
        cells = ((n, r[index[name]].strip()) for n, r in rows)
        first = next(((n, c) for n, c in cells if c and isinstance(_parse_cell(c), str)), None)
        if first is None:
            described.append(f"{name!r} (every cell is empty)")
        else:
            reason = _parse_cell(first[1])
            described.append(f"{name!r} (row {first[0]}: {reason})")
    return (
        f"{file}: skipped the non-numeric column(s) {', '.join(described)}; name the "
        "features to use them"
    )


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
        names, skipped = [], []
        for name in header:
            if name != target:
                numeric = _is_numeric_column(row[index[name]] for _, row in rows)
                (names if numeric else skipped).append(name)
        if skipped and warn_dropped:  # load_cars is quiet about both
            warnings.warn(_skipped(file, header, rows, skipped), stacklevel=3)
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


def _text(path: Path, encoding: str) -> str:
    """The file's text; a file in another encoding is a DataError that names it."""
    try:
        # utf-8-sig: UTF-8, also with the byte-order mark Excel writes
        return path.read_bytes().decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as error:
        byte = error.object[error.start : error.start + 1].hex()
        line = error.object[: error.start].count(b"\n") + 1
        raise DataError(
            f"{path.name} row {line}: byte 0x{byte} is not {error.encoding.upper()} text: the "
            "file is in another encoding (Excel on Windows writes cp1252); save it as UTF-8, "
            "or name its encoding",
            "encoding",
            "cp1252",
            "to read it",
        ) from None
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r} (e.g. 'utf-8', 'cp1252', 'latin-1')"
        ) from None


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    features: str | Sequence[str] | None = None,
    drop_missing: bool = False,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Dataset:
    """Load numeric columns of a CSV file (header in the first row) as ``X`` and ``y``.

    ``features=None`` takes every numeric column except the target, in file order; a
    column is numeric if it has data and every non-empty cell parses as a float (text
    columns such as a name are skipped, with a warning naming each and its first cell
    that is no number). Naming a text column is an error. A number written with
    thousands separators (``1,000``) is no number, and the message says so.

    ``encoding`` is the file's text encoding; a byte that is not in it is a
    ``DataError`` naming the row and the byte (Excel on Windows writes ``"cp1252"``).

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
    lines = io.StringIO(_text(path, encoding), newline="")
    return _read_table(lines, path.name, target, features, drop_missing, True, delimiter)


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
    encoding: str = "utf-8",
) -> Rows:
    """Read every row of a CSV file, and the named numeric ``columns`` of each as floats.

    The rows for prediction: unlike :func:`load_csv` there is no target, and the other
    cells are kept as text, to be written back out beside the predictions. Missing and
    non-numeric cells in ``columns`` are handled as :func:`load_csv` handles them.
    """
    path = _checked_path(path, delimiter)
    header, rows = _read_rows(io.StringIO(_text(path, encoding), newline=""), path.name, delimiter)
    for name in columns:
        if name not in header:
            raise _unknown_column(path.name, name, header)
    values, keep = _parse_columns(path.name, header, rows, list(columns), drop_missing)
    _warn_dropped(path.name, keep, list(columns), stacklevel=2)
    return Rows(header, [cells for _, cells in rows], values[keep], np.flatnonzero(keep))
