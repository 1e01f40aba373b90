"""Tests for minigrad.data: batching, standardization, CSV loading and data sets."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.data import (
    DataError,
    Dataset,
    Standardizer,
    batches,
    dataset_path,
    list_datasets,
    load_cars,
    load_csv,
    load_dataset,
    load_rows,
    make_linear,
    make_taxi,
    n_batches,
)

CARS_COLUMNS = [
    "Name",
    "Miles_per_Gallon",
    "Cylinders",
    "Displacement",
    "Horsepower",
    "Weight_in_lbs",
    "Acceleration",
    "Year",
    "Origin",
]


def rows_of(X: np.ndarray) -> np.ndarray:
    """Row ids of a batch of ``X = arange(n)[:, None] * [1, 10]``-style data."""
    return np.asarray(X)[:, 0].astype(int)


def indexed(n: int) -> tuple[np.ndarray, np.ndarray]:
    """X whose first column is the row id, and y = -row id, to track rows through batches."""
    ids = np.arange(n, dtype=np.float64)
    return np.column_stack([ids, 10 * ids]), -ids


# ------------------------------------------------------------------------------ batches


def test_epoch_arithmetic_1000_by_100():
    X, y = indexed(1000)
    sizes = [len(xb) for xb, _ in batches(X, y, batch_size=100, rng=np.random.default_rng(0))]
    assert sizes == [100] * 10
    assert n_batches(1000, 100) == 10


def test_epoch_arithmetic_1001_by_100_has_last_partial_batch():
    X, y = indexed(1001)
    sizes = [len(xb) for xb, _ in batches(X, y, batch_size=100, rng=np.random.default_rng(0))]
    assert sizes == [100] * 10 + [1]
    assert n_batches(1001, 100) == 11


@pytest.mark.parametrize("batch_size", [None, 7, 8, 100])
def test_full_batch_when_none_or_at_least_n(batch_size):
    X, y = indexed(7)
    out = list(batches(X, y, batch_size=batch_size, shuffle=True, rng=np.random.default_rng(0)))
    if batch_size is None or batch_size >= 7:
        assert len(out) == 1
        np.testing.assert_array_equal(out[0][0], X)
        np.testing.assert_array_equal(out[0][1], y)
    assert n_batches(7, batch_size) == len(out)


def test_n_batches_none_is_one():
    assert n_batches(1, None) == 1
    assert n_batches(10**9, None) == 1
    assert n_batches(10, 1) == 10


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 300),
    batch_size=st.one_of(st.none(), st.integers(1, 400)),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_row_exactly_once_per_epoch(n, batch_size, shuffle, seed):
    X, y = indexed(n)
    out = list(
        batches(X, y, batch_size=batch_size, shuffle=shuffle, rng=np.random.default_rng(seed))
    )
    assert len(out) == n_batches(n, batch_size) == math.ceil(n / (batch_size or n))
    seen = np.concatenate([rows_of(xb) for xb, _ in out])
    assert sorted(seen.tolist()) == list(range(n))
    for xb, yb in out:  # X and y rows stay paired
        np.testing.assert_array_equal(yb, -xb[:, 0])
        np.testing.assert_array_equal(xb[:, 1], 10 * xb[:, 0])
    full = batch_size or n
    assert all(len(xb) == min(full, n) for xb, _ in out[:-1])
    assert len(out[-1][0]) == n - full * (len(out) - 1)


def test_unshuffled_batches_are_in_order():
    X, y = indexed(10)
    out = [rows_of(xb).tolist() for xb, _ in batches(X, y, batch_size=4, shuffle=False)]
    assert out == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def epoch(X, y, rng, batch_size=10):
    return [rows_of(xb).tolist() for xb, _ in batches(X, y, batch_size=batch_size, rng=rng)]


def test_shuffle_is_reproducible_from_seed_and_differs_across_epochs():
    X, y = indexed(100)
    rng_a, rng_b = np.random.default_rng(42), np.random.default_rng(42)
    run_a = [epoch(X, y, rng_a) for _ in range(3)]
    run_b = [epoch(X, y, rng_b) for _ in range(3)]
    assert run_a == run_b  # same seed, same run
    assert run_a[0] != run_a[1] and run_a[1] != run_a[2]  # every epoch reshuffles
    assert run_a[0] != epoch(X, y, np.random.default_rng(43))  # another seed differs
    assert run_a[0] != [list(range(i, i + 10)) for i in range(0, 100, 10)]  # not in order


def test_batches_within_a_shuffled_epoch_are_sorted():
    X, y = indexed(50)
    for rows in epoch(X, y, np.random.default_rng(1), batch_size=8):
        assert rows == sorted(rows)


def test_memmap_gives_the_same_batches(tmp_path):
    X, y = make_linear(n=257, d=3, seed=3)[:2]
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    y_map = np.load(tmp_path / "y.npy", mmap_mode="r")
    assert isinstance(X_map, np.memmap)
    for batch_size, shuffle in [(32, True), (32, False), (None, True), (1, True)]:
        mem = list(batches(X, y, batch_size, shuffle, np.random.default_rng(7)))
        mapped = list(batches(X_map, y_map, batch_size, shuffle, np.random.default_rng(7)))
        assert len(mem) == len(mapped) == n_batches(257, batch_size)
        for (xa, ya), (xb, yb) in zip(mem, mapped, strict=True):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


def test_batches_accept_lists():
    out = list(batches([[1.0], [2.0], [3.0]], [1.0, 2.0, 3.0], batch_size=2, shuffle=False))
    assert [yb.tolist() for _, yb in out] == [[1.0, 2.0], [3.0]]


@pytest.mark.parametrize(
    ("batch_size", "error", "match"),
    [
        (0, ValueError, "positive integer"),
        (-3, ValueError, "positive integer"),
        (2.5, TypeError, "positive integer"),
        (True, TypeError, "bool"),
        ("8", TypeError, "str"),
    ],
)
def test_bad_batch_size(batch_size, error, match):
    X, y = indexed(10)
    with pytest.raises(error, match=match):
        batches(X, y, batch_size=batch_size)  # raised at the call, before iteration
    with pytest.raises(error, match=match):
        n_batches(10, batch_size)


def test_numpy_integer_batch_size_is_fine():
    X, y = indexed(10)
    assert len(list(batches(X, y, batch_size=np.int64(3), shuffle=False))) == 4


def test_length_mismatch_and_empty_data():
    X, y = indexed(10)
    with pytest.raises(ValueError, match=r"same number of examples.*\(10, 2\).*\(9,\)"):
        batches(X, y[:9])
    with pytest.raises(ValueError, match="empty"):
        batches(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="axis 0"):
        batches(np.float64(1.0), np.float64(2.0))
    with pytest.raises(ValueError, match="positive integer"):
        n_batches(0, 10)


def test_rng_must_be_a_generator():
    X, y = indexed(10)
    with pytest.raises(TypeError, match="default_rng"):
        batches(X, y, batch_size=2, rng=0)


# ------------------------------------------------------------------------- Standardizer


def test_standardizer_round_trip():
    rng = np.random.default_rng(0)
    X = rng.normal([3000.0, 5.0, -2.0], [800.0, 1.5, 0.01], size=(200, 3))
    s = Standardizer()
    Xs = s.fit_transform(X)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xs.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(s.mean_, X.mean(axis=0))
    np.testing.assert_allclose(s.scale_, X.std(axis=0))
    np.testing.assert_allclose(s.inverse_transform(Xs), X, rtol=1e-12)
    np.testing.assert_allclose(s.transform(X[:5]), Xs[:5])


def test_standardizer_keeps_float32():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert Standardizer().fit_transform(X).dtype == np.float32
    assert Standardizer().fit_transform(X.astype(int)).dtype == np.float64


def test_standardizer_zero_variance_column_warns_and_uses_scale_one():
    X = np.column_stack([np.arange(5.0), np.full(5, 0.1)])
    s = Standardizer()
    with pytest.warns(RuntimeWarning, match=r"\[1\].*zero variance"):
        Xs = s.fit_transform(X)
    assert s.scale_[1] == 1.0
    np.testing.assert_allclose(Xs[:, 1], 0.0, atol=1e-15)
    assert np.all(np.isfinite(Xs))


def test_standardizer_errors():
    s = Standardizer()
    for call in (
        lambda: s.transform([[1.0]]),
        lambda: s.inverse_transform([[1.0]]),
        lambda: s.unstandardize_weights([1.0], 0.0),
    ):
        with pytest.raises(RuntimeError, match="before fit"):
            call()
    s.fit(np.ones((4, 2)) + np.arange(8).reshape(4, 2))
    with pytest.raises(ValueError, match=r"2 feature\(s\).*\(4, 3\)"):
        s.transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        Standardizer().fit([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="N >= 1"):
        Standardizer().fit(np.zeros((0, 2)))


def lstsq_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return coef[:-1], float(coef[-1])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 4))
def test_unstandardize_weights_matches_least_squares_on_raw_data(seed, d):
    rng = np.random.default_rng(seed)
    X = rng.normal(rng.uniform(-1000, 1000, d), rng.uniform(0.1, 500, d), size=(60, d))
    y = X @ rng.normal(size=d) + rng.normal() + rng.normal(size=60)
    s = Standardizer()
    w_std, b_std = lstsq_fit(s.fit_transform(X), y)
    w_raw, b_raw = lstsq_fit(X, y)
    w, b = s.unstandardize_weights(w_std, b_std)
    assert w.shape == (d,) and isinstance(b, float)
    np.testing.assert_allclose(w, w_raw, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b, b_raw, rtol=1e-6, atol=1e-6 * (1 + np.abs(X).max()))
    np.testing.assert_allclose(X @ w + b, s.transform(X) @ w_std + b_std, rtol=1e-9, atol=1e-7)


def test_unstandardize_weights_shapes():
    rng = np.random.default_rng(0)
    X = rng.normal([10.0, -5.0, 100.0], [2.0, 3.0, 50.0], size=(30, 3))
    s = Standardizer().fit(X)
    w_std = np.array([0.5, -1.0, 2.0])
    w, b = s.unstandardize_weights(w_std, 1.5)
    w_col, b_vec = s.unstandardize_weights(w_std[:, None], np.array([1.5]))
    w_row, _ = s.unstandardize_weights(w_std[None, :], np.array([1.5]))
    assert w_col.shape == (3, 1) and w_row.shape == (1, 3) and b_vec.shape == (1,)
    np.testing.assert_allclose(w_col.ravel(), w)
    np.testing.assert_allclose(w_row.ravel(), w)
    np.testing.assert_allclose(b_vec, [b])
    with pytest.raises(ValueError, match=r"\(3,\), \(3, 1\) or \(1, 3\)"):
        s.unstandardize_weights(np.ones((3, 2)), 0.0)
    with pytest.raises(ValueError, match="one-element"):
        s.unstandardize_weights(w_std, np.zeros(2))


# ----------------------------------------------------------------------------- load_csv


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "small.csv",
        [
            ["name", "x1", "x2", "y"],
            ["a", 1, 10, 100],  # row 2
            ["b", 2, 20, 200],  # row 3
            ["c", 3, "", 300],  # row 4: x2 missing
            ["d", 4, 40, 400],  # row 5
            ["e", 5, "oops", 500],  # row 6: x2 not a number
            ["f", "", 60, 600],  # row 7: x1 missing
        ],
    )


def test_load_csv_selected_columns(tmp_path):
    path = write_csv(
        tmp_path / "clean.csv", [["name", "a", "b", "y"], ["u", 1, 2, 3], ["v", 4, 5, 6]]
    )
    ds = load_csv(path, target="y", features=["b", "a"])
    assert isinstance(ds, Dataset)
    assert ds.X.shape == (2, 2) and ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    assert ds.feature_names == ["b", "a"] and ds.target_name == "y" and ds.n_dropped == 0
    np.testing.assert_array_equal(ds.X, [[2, 1], [5, 4]])  # in the order asked for
    np.testing.assert_array_equal(ds.y, [3, 6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing dropped, nothing to warn about
        assert load_csv(path, target="y", features="a", drop_missing=True).n_dropped == 0


def test_load_csv_missing_cell_names_file_row_and_column(small_csv):
    with pytest.raises(DataError) as info:
        load_csv(small_csv, target="y", features=["x1", "x2"])
    message = str(info.value)
    assert message == (
        "small.csv row 4, column 'x2': missing value (pass drop_missing=True to drop such rows)"
    )
    assert isinstance(info.value, ValueError)
    assert (info.value.argument, info.value.value) == ("drop_missing", True)
    assert info.value.advise("--drop-missing") == (
        "small.csv row 4, column 'x2': missing value (pass --drop-missing to drop such rows)"
    )


def test_load_csv_non_numeric_cell_names_row_and_column(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["x", "y"], [1, 2], [3, "?"], [5, 6]])
    with pytest.raises(DataError, match=r"t\.csv row 3, column 'y': '\?' is not a number"):
        load_csv(path, target="y")


def test_load_csv_drop_missing_counts_and_warns(small_csv):
    with pytest.warns(UserWarning, match="small.csv: dropped 3 of 6 rows"):
        ds = load_csv(small_csv, target="y", features=["x1", "x2"], drop_missing=True)
    assert ds.n_dropped == 3  # rows 4 (x2 empty), 6 (x2 'oops'), 7 (x1 empty)
    np.testing.assert_array_equal(ds.X, [[1, 10], [2, 20], [4, 40]])
    np.testing.assert_array_equal(ds.y, [100, 200, 400])
    with pytest.warns(UserWarning, match="dropped 2 of 6"):
        assert load_csv(small_csv, target="x2", features=["y"], drop_missing=True).n_dropped == 2


def test_load_csv_default_features_skip_text_and_bad_columns(tmp_path, small_csv):
    # x2 holds 'oops', so it is not numeric; name is text; x1 is numeric with a gap.
    with pytest.warns(UserWarning) as caught:
        ds = load_csv(small_csv, target="y", drop_missing=True)
    assert ds.feature_names == ["x1"] and ds.n_dropped == 1
    assert any("dropped 1 of 6" in str(w.message) for w in caught)
    skipped = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert skipped == [
        "small.csv: skipped the non-numeric column(s) 'name' (row 2: 'a' is not a number), "
        "'x2' (row 6: 'oops' is not a number); name the features to use them"
    ]
    path = write_csv(
        tmp_path / "ok.csv", [["a", "label", "b", "y"], [1, "u", 2, 3], [4, "v", 5, 6]]
    )
    with pytest.warns(UserWarning, match=r"ok\.csv: skipped the non-numeric column\(s\) 'label'"):
        ds = load_csv(path, target="y")
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.X, [[1, 2], [4, 5]])


def test_load_csv_text_column_requested_is_an_error(small_csv):
    for drop in (False, True):
        with pytest.raises(DataError, match=r"column 'name' is not numeric \(row 2: 'a'\)"):
            load_csv(small_csv, target="y", features=["name"], drop_missing=drop)


def test_load_csv_unknown_column_lists_available(small_csv):
    with pytest.raises(DataError, match=r"no column 'x3'.*available columns: name, x1, x2, y"):
        load_csv(small_csv, target="y", features=["x3"])
    with pytest.raises(DataError, match=r"no column 'Y' \(did you mean 'y'\?\)"):
        load_csv(small_csv, target="Y")


def test_load_csv_bad_arguments(small_csv):
    with pytest.raises(ValueError, match="also listed in features"):
        load_csv(small_csv, target="y", features=["x1", "y"])
    with pytest.raises(ValueError, match="more than once"):
        load_csv(small_csv, target="y", features=["x1", "x1"])
    with pytest.raises(ValueError, match="features is empty"):
        load_csv(small_csv, target="y", features=[])


def test_load_csv_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=r"nope\.csv") as info:
        load_csv(missing, target="y")
    assert info.value.filename == str(missing)


def test_load_csv_of_a_folder_says_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not a CSV file") as info:
        load_csv(tmp_path, target="y")
    assert info.value.filename == str(tmp_path)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_load_csv_other_delimiters_are_named_and_read(tmp_path, delimiter):
    path = tmp_path / "eu.csv"
    path.write_text(delimiter.join(["x", "y"]) + "\n" + delimiter.join(["1", "3"]) + "\n")
    with pytest.raises(DataError, match=r"single column .*separated by") as info:
        load_csv(path, target="y")
    assert str(info.value).endswith(f"(pass delimiter={delimiter!r} to read it)")
    ds = load_csv(path, target="y", delimiter=delimiter)
    assert ds.feature_names == ["x"] and ds.X.tolist() == [[1.0]] and ds.y.tolist() == [3.0]


def test_load_csv_single_column_without_a_separator(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("y\n1\n2\n")
    with pytest.raises(DataError, match="needs a target column and at least one feature"):
        load_csv(path, target="y")
    with pytest.raises(ValueError, match="delimiter must be a single character"):
        load_csv(path, target="y", delimiter=";;")


def test_load_rows_keeps_every_cell_and_parses_the_named_columns(small_csv):
    with pytest.warns(UserWarning, match="dropped 1 of 6 rows"):
        rows = load_rows(small_csv, ["x1"], drop_missing=True)
    assert rows.header == ["name", "x1", "x2", "y"]
    assert rows.cells[2] == ["c", "3", "", "300"] and len(rows.cells) == 6
    assert rows.kept.tolist() == [0, 1, 2, 3, 4]  # row 7 (cells[5]) has no x1
    np.testing.assert_array_equal(rows.values, [[1], [2], [3], [4], [5]])
    with pytest.raises(DataError, match=r"row 7, column 'x1': missing value \(pass drop_m"):
        load_rows(small_csv, ["x1"])
    with pytest.raises(DataError, match="no column 'z'"):
        load_rows(small_csv, ["x1", "z"])
    assert repr(rows) == "Rows(6 rows, 5 kept, columns ['name', 'x1', 'x2', 'y'])"


def test_load_rows_of_a_single_column_and_of_a_semicolon_file(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("x\n1.5\n-2\n")  # no target: rows to predict from
    np.testing.assert_array_equal(load_rows(one, ["x"]).values, [[1.5], [-2.0]])
    semi = tmp_path / "semi.csv"
    semi.write_text("x;y\n1;2\n")
    with pytest.raises(DataError, match=r"separated by ';' \(pass delimiter=';' to read it\)"):
        load_rows(semi, ["x"])
    assert load_rows(semi, ["y", "x"], delimiter=";").values.tolist() == [[2.0, 1.0]]


def test_dataset_repr_is_one_line():
    X = np.zeros((100_000, 8))
    names = [f"feature_{j}" for j in range(8)]
    ds = Dataset(X, np.zeros(100_000), names, "price", 12)
    assert repr(ds) == (
        "Dataset(100000 rows, target 'price', 8 features: feature_0, feature_1, feature_2, "
        "feature_3, feature_4, … (3 more); 12 rows dropped)"
    )
    assert repr(load_cars()) == (
        "Dataset(398 rows, target 'Miles_per_Gallon', 1 feature: Weight_in_lbs; 8 rows dropped)"
    )


def test_load_csv_empty_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv is empty"):
        load_csv(empty, target="y")
    header_only = tmp_path / "header.csv"
    header_only.write_text("x,y\n")
    with pytest.raises(DataError, match="no data rows"):
        load_csv(header_only, target="y")


def test_load_csv_ragged_row_and_blank_lines(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("x,y\n1,2\n\n3,4\n5\n")
    with pytest.raises(DataError, match=r"r\.csv row 5: 1 cell\(s\).*has 2 columns"):
        load_csv(path, target="y")
    path.write_text("x,y\n1,2\n\n3,\n")  # the blank line is row 3, so the gap is in row 4
    with pytest.raises(DataError, match=r"row 4, column 'y': missing value"):
        load_csv(path, target="y")


def test_load_csv_all_rows_dropped(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["x", "y"], [1, ""], ["", 2]])
    with pytest.raises(DataError, match="all 2 data rows"):
        load_csv(path, target="y", drop_missing=True)


def test_load_csv_nan_cells_count_as_missing(tmp_path):
    path = write_csv(tmp_path / "n.csv", [["x", "y"], [1, 2], ["NaN", 3]])
    with pytest.raises(DataError, match="row 3, column 'x': missing value"):
        load_csv(path, target="y")


# ---------------------------------------------------------------------- shipped data


def cars_rows() -> list[dict[str, str]]:
    """The shipped CSV's data rows, read with the csv module (no minigrad code involved)."""
    with dataset_path("cars").open(newline="") as f:
        return list(csv.DictReader(f))


def test_cars_file_matches_source_shape():
    path = dataset_path("cars")
    assert path.name == "cars.csv" and path.is_file()
    with path.open(newline="") as f:
        header = next(csv.reader(f))
    assert header == CARS_COLUMNS
    rows = cars_rows()
    assert len(rows) == 406
    missing = {c: sum(r[c] == "" for r in rows) for c in CARS_COLUMNS}
    assert missing == {c: 0 for c in CARS_COLUMNS} | {"Miles_per_Gallon": 8, "Horsepower": 6}
    assert rows[0]["Name"] == "chevrolet chevelle malibu" and rows[0]["Weight_in_lbs"] == "3504"
    assert dataset_path("cars.csv") == path


def test_load_cars_default():
    ds = load_cars()
    assert ds.feature_names == ["Weight_in_lbs"] and ds.target_name == "Miles_per_Gallon"
    assert ds.X.shape == (398, 1) and ds.y.shape == (398,) and ds.n_dropped == 8
    assert np.all(np.isfinite(ds.X)) and np.all(np.isfinite(ds.y))
    w, b = lstsq_fit(ds.X, ds.y)
    assert -0.01 < w[0] < -0.005 and 40 < b < 50  # heavier cars: fewer miles per gallon


def test_load_cars_drop_counts():
    assert load_cars(features=["Horsepower"]).n_dropped == 14  # 8 MPG + 6 HP, disjoint
    hp_only = load_cars(features=["Weight_in_lbs"], target="Horsepower")
    assert hp_only.n_dropped == 6 and len(hp_only.y) == 400
    everything = load_cars(features=None)  # quietly: no word of the text columns
    assert everything.feature_names == [
        "Cylinders",
        "Displacement",
        "Horsepower",
        "Weight_in_lbs",
        "Acceleration",
    ]
    assert everything.X.shape == (392, 5) and everything.n_dropped == 14


def test_load_cars_rejects_text_columns():
    with pytest.raises(DataError, match="'Name' is not numeric"):
        load_cars(features=["Name"])
    with pytest.raises(DataError, match="available columns: Name, Miles_per_Gallon"):
        load_cars(features=["Weight"])


def test_list_datasets():
    listing = list_datasets()
    assert [(d.name, d.n_rows, d.synthetic, d.target) for d in listing] == [
        ("cars", 406, False, "Miles_per_Gallon"),
        ("linear", 100, True, "y"),
        ("taxi", 1000, True, "FARE"),
    ]
    assert all(isinstance(d.description, str) and d.description for d in listing)
    with pytest.raises(ValueError, match=r"synthetic.*make_taxi"):
        dataset_path("taxi")
    with pytest.raises(ValueError, match="available: cars, linear, taxi"):
        dataset_path("iris")


def test_load_dataset_by_name_matches_the_generators_and_the_file():
    X, y, names = make_taxi()
    taxi = load_dataset("taxi")
    assert taxi.feature_names == names and taxi.target_name == "FARE"
    np.testing.assert_array_equal(taxi.X, X)  # repr(float) round-trips exactly
    np.testing.assert_array_equal(taxi.y, y)
    X, y, _, _ = make_linear()
    linear = load_dataset("linear")
    assert linear.feature_names == ["x1"] and linear.target_name == "y"
    np.testing.assert_array_equal(linear.X, X)
    np.testing.assert_array_equal(linear.y, y)
    miles = load_dataset("taxi", target="TRIP_MINUTES", features=["TRIP_MILES"])
    np.testing.assert_array_equal(miles.y, make_taxi()[0][:, 1])
    with (
        pytest.raises(DataError, match=r"cars\.csv row 12, column 'Miles_per_Gallon': missing"),
        pytest.warns(UserWarning, match="skipped the non-numeric column"),
    ):
        load_dataset("cars")  # a file with gaps: the same rule as load_csv
    with pytest.warns(UserWarning, match="dropped 8 of 406"):
        cars = load_dataset("cars", features=["Weight_in_lbs"], drop_missing=True)
    np.testing.assert_array_equal(cars.X, load_cars().X)
    with pytest.raises(ValueError, match="unknown data set 'iris'"):
        load_dataset("iris")


# --------------------------------------------------------------------- synthetic data


def test_make_linear_defaults_and_determinism():
    X, y, w, b = make_linear()
    assert X.shape == (100, 1) and y.shape == (100,) and w.shape == (1,) and isinstance(b, float)
    X2, y2, w2, b2 = make_linear()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert (w2, b2) == (w, b)
    assert not np.array_equal(make_linear(seed=1)[0], X)


def test_make_linear_noise_free_and_given_parameters():
    X, y, w, b = make_linear(n=50, d=3, noise=0.0, weights=[1.0, -2.0, 0.5], bias=4.0, seed=5)
    np.testing.assert_array_equal(w, [1.0, -2.0, 0.5])
    assert b == 4.0
    np.testing.assert_allclose(y, X @ w + b)
    # X does not depend on the noise level or the chosen parameters, only on the seed.
    np.testing.assert_array_equal(make_linear(n=50, d=3, noise=2.0, seed=5)[0], X)


def test_make_linear_recovered_by_least_squares():
    X, y, w, b = make_linear(n=5000, d=3, noise=0.5, seed=2)
    w_fit, b_fit = lstsq_fit(X, y)
    np.testing.assert_allclose(w_fit, w, atol=0.05)
    assert abs(b_fit - b) < 0.05


def test_make_linear_errors():
    with pytest.raises(ValueError, match="d=2"):
        make_linear(d=2, weights=[1.0])
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_linear(n=0)
    with pytest.raises(ValueError, match="noise"):
        make_linear(noise=-1.0)


def test_make_taxi_recovers_the_crash_course_formula():
    X, y, names = make_taxi(n=20_000, seed=0)
    assert names == ["TRIP_MILES", "TRIP_MINUTES"]
    assert X.shape == (20_000, 2) and y.shape == (20_000,)
    (w_miles, w_minutes), b = lstsq_fit(X, y)
    assert w_miles == pytest.approx(2.25, abs=0.02)
    assert w_minutes == pytest.approx(0.12, abs=0.01)
    assert b == pytest.approx(3.25, abs=0.1)


def test_make_taxi_is_plausible_and_deterministic():
    X, y, _ = make_taxi()
    miles, minutes = X.T
    assert X.shape == (1000, 2)
    assert miles.min() >= 0.2 and miles.max() <= 45 and 2 < np.median(miles) < 7
    assert np.all(minutes > 3) and 0.8 < np.corrcoef(miles, minutes)[0, 1] < 0.98
    assert np.all(y > 0)
    np.testing.assert_array_equal(make_taxi()[1], y)
    assert not np.array_equal(make_taxi(seed=1)[1], y)
    X0, y0, _ = make_taxi(n=10, noise=0.0)
    np.testing.assert_allclose(y0, 2.25 * X0[:, 0] + 0.12 * X0[:, 1] + 3.25)
