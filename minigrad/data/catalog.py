"""The data sets minigrad knows by name: the shipped files and the synthetic generators."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from minigrad.data.csv_files import Dataset, _read_table
from minigrad.data.synthetic import make_linear, make_taxi

_DATASETS_PACKAGE = "minigrad.datasets"

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
