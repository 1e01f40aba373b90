"""DataLoader and TensorDataset against PyTorch's, fit over a loader, and fit on real
array-likes: pandas frames with mini-batches, lists, string labels, wrong feature counts
(issue 19, items 2 and 4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import DataLoader, TensorDataset


@pytest.fixture(scope="module")
def torch_data():
    """torch.utils.data, the oracle (these tests skip without torch)."""
    return pytest.importorskip("torch.utils.data")


def arrays(n: int = 7, d: int = 2) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(n * d, dtype=np.float64).reshape(n, d)
    return X, np.arange(n, dtype=np.float64) * 10


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), batch_size=st.integers(1, 14), drop_last=st.booleans())
def test_unshuffled_batches_equal_pytorchs(torch_data, n, batch_size, drop_last):
    import torch

    X, y = arrays(n)
    ours = DataLoader(TensorDataset(X, y), batch_size=batch_size, drop_last=drop_last)
    theirs = torch_data.DataLoader(
        torch_data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got, expected = list(ours), list(theirs)
    assert len(got) == len(expected)
    for (xb, yb), (tx, ty) in zip(got, expected, strict=True):
        assert isinstance(xb, mg.Tensor) and not xb.requires_grad
        np.testing.assert_array_equal(xb.numpy(), tx.numpy())
        np.testing.assert_array_equal(yb.numpy(), ty.numpy())


def test_dataset_indexing_and_length_as_pytorch(torch_data):
    import torch

    X, y = arrays(5)
    ours, theirs = (
        TensorDataset(X, y),
        torch_data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y)),
    )
    assert len(ours) == len(theirs) == 5
    for index in (1, slice(1, 3), np.array([4, 0])):
        for a, b in zip(ours[index], theirs[index], strict=True):
            np.testing.assert_array_equal(a, b.numpy())
    assert ours.tensors[0] is X  # no copy of an ndarray


def test_dataset_of_mismatched_lengths_names_the_shapes():
    with pytest.raises(ValueError, match=r"same number of examples.*\(3,\), \(4, 2\)"):
        TensorDataset(np.zeros(3), np.zeros((4, 2)))


def test_shuffle_deals_every_row_once_per_epoch_reproducibly_from_the_generator():
    X, y = arrays(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True,
                        generator=np.random.default_rng(5))  # fmt: skip
    epochs = [[yb.numpy() for _, yb in loader] for _ in range(3)]
    for batches in epochs:
        assert [len(b) for b in batches] == [3, 3, 3, 1]
        assert sorted(np.concatenate(batches).tolist()) == sorted(y.tolist())
    orders = [np.concatenate(b).tolist() for b in epochs]
    assert orders[0] != orders[1]  # a new order every epoch
    again = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True,
                       generator=np.random.default_rng(5))  # fmt: skip
    assert [np.concatenate([yb.numpy() for _, yb in again]).tolist() for _ in range(3)] == orders
    # the batches follow the generator's permutation (rows sorted within a batch)
    permutation = np.random.default_rng(5).permutation(10)
    assert [set(b.tolist()) for b in epochs[0]] == [
        set((y[permutation[k : k + 3]]).tolist()) for k in range(0, 10, 3)
    ]


def test_default_generator_is_minigrads_seeded_one():
    X, y = arrays(20)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
    mg.manual_seed(3)
    first = [yb.tolist() for _, yb in loader]
    mg.manual_seed(3)
    assert [yb.tolist() for _, yb in loader] == first


def test_loader_refuses_bad_arguments():
    X, y = arrays(4)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader((X, y))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(X, y), batch_size=0)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(TensorDataset(X, y), shuffle=True, generator=0)


def test_drop_last_with_a_batch_larger_than_the_data_yields_nothing_as_pytorch():
    X, y = arrays(3)
    loader = DataLoader(TensorDataset(X, y), batch_size=5, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_fit_over_a_loader_equals_fit_over_arrays_and_a_hand_loop():
    X, y, *_ = mg.data.make_linear(n=50, d=2, noise=0.3, seed=1)

    def run(**data):
        model = mg.nn.Linear(2, 1, seed=0)
        return model, mg.fit(model, **data, lr=0.05, epochs=4, progress=False)

    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                        generator=np.random.default_rng(7))  # fmt: skip
    model_a, history_a = run(X=loader)
    model_b, history_b = run(X=X, y=y, batch_size=16, seed=7)
    assert history_a.step_losses == history_b.step_losses
    np.testing.assert_array_equal(model_a.weight.numpy(), model_b.weight.numpy())
    # the same batches by hand, from a loader with the same generator
    model = mg.nn.Linear(2, 1, seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=0.05)
    hand_loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                             generator=np.random.default_rng(7))  # fmt: skip
    losses = []
    for _ in range(4):
        for xb, yb in hand_loader:
            opt.zero_grad()
            loss = mg.losses.mse(model(xb).reshape(-1), yb)
            losses.append(loss.item())
            loss.backward()
            opt.step()
    np.testing.assert_allclose(history_a.step_losses, losses, rtol=1e-13)


def test_fit_over_a_loader_with_drop_last_trains_on_full_batches_only():
    X, y, *_ = mg.data.make_linear(n=50, d=2, seed=1)
    seen = []
    loader = DataLoader(TensorDataset(X, y), batch_size=16, drop_last=True)
    history = mg.fit(mg.nn.Linear(2, 1, seed=0), loader, lr=0.01, epochs=2, progress=False,
                     callbacks=[lambda *a: seen.append(a[1]) and False])  # fmt: skip
    assert history.updates_per_epoch == 3 and history.n_updates == 6 and len(seen) == 6


def test_fit_refuses_a_loader_and_the_same_arguments_again():
    X, y = arrays(8)
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    with pytest.raises(TypeError, match=r"also y, batch_size.*set them on the loader"):
        mg.fit(mg.nn.Linear(2, 1), loader, y, batch_size=2)
    with pytest.raises(ValueError, match="two tensors"):
        mg.fit(mg.nn.Linear(2, 1), DataLoader(TensorDataset(X), batch_size=4))
    with pytest.raises(TypeError, match="needs targets y"):
        mg.fit(mg.nn.Linear(2, 1), X)


# ----------------------------------------------------------------- the final loss


@pytest.mark.parametrize("batch_size", [None, 1, 7, 32])
def test_final_loss_is_the_full_data_loss_for_every_batch_size(batch_size):
    X, y, *_ = mg.data.make_linear(n=45, d=2, noise=0.5, seed=2)
    model = mg.nn.Sequential(mg.nn.Linear(2, 4, seed=0), mg.nn.Tanh(), mg.nn.Linear(4, 1, seed=1))
    history = mg.fit(model, X, y, lr=0.02, epochs=3, batch_size=batch_size, progress=False)
    with mg.no_grad():
        expected = np.mean((model(mg.Tensor(X)).numpy().reshape(-1) - y) ** 2)
    assert history.final_loss == pytest.approx(expected, rel=1e-12)
    assert history.last_batch_loss == history.step_losses[-1]
    assert f"final loss {history.final_loss:.4g}" in repr(history)


def test_final_loss_of_a_model_with_dropout_is_in_eval_mode():
    X, y, *_ = mg.data.make_linear(n=30, d=2, seed=2)
    model = mg.nn.Sequential(mg.nn.Linear(2, 8, seed=0), mg.nn.Dropout(0.5, seed=1),
                             mg.nn.Linear(8, 1, seed=2))  # fmt: skip
    history = mg.fit(model, X, y, lr=0.01, epochs=2, batch_size=8, progress=False)
    assert history.final_loss == pytest.approx(mg.evaluate(model, X, y)["loss"], rel=1e-12)


# --------------------------------------------------------------- array-likes, pandas


def test_fit_takes_lists_and_tensors():
    X, y, *_ = mg.data.make_linear(n=20, d=2, seed=3)
    runs = []
    for X_in, y_in in ((X, y), (X.tolist(), y.tolist()), (mg.tensor(X), mg.tensor(y))):
        model = mg.nn.Linear(2, 1, seed=0)
        runs.append(mg.fit(model, X_in, y_in, lr=0.1, epochs=3, batch_size=8,
                           progress=False).step_losses)  # fmt: skip
    assert runs[0] == runs[1] == runs[2]


def test_string_labels_are_named_with_a_way_to_encode_them():
    X = np.zeros((4, 2))
    with pytest.raises(TypeError, match=r"y holds str values such as 'M'.*\(y == 'M'\)"):
        mg.fit(mg.nn.Linear(2, 1), X, np.array(["M", "B", "M", "B"]), loss="bce_with_logits")


def test_a_sequential_with_the_wrong_feature_count_names_the_users_shape():
    model = mg.nn.Sequential(mg.nn.Linear(20, 4), mg.nn.ReLU(), mg.nn.Linear(4, 1))
    with pytest.raises(mg.ShapeError, match=r"X of shape \(569, 30\) \(30 features"):
        mg.fit(model, np.zeros((569, 30)), np.zeros(569))


class TestPandas:
    @pytest.fixture(autouse=True)
    def _pandas(self):
        self.pd = pytest.importorskip("pandas")

    def frame(self, n: int = 60):
        X, y, *_ = mg.data.make_linear(n=n, d=3, noise=0.2, seed=4)
        index = np.arange(n)[::-1] * 7 + 1000  # labels that are not positions
        return (
            X,
            y,
            self.pd.DataFrame(X, columns=["a", "b", "c"], index=index),
            self.pd.Series(y, index=index, name="target"),
        )

    @pytest.mark.parametrize("batch_size", [None, 16])
    def test_mini_batches_of_a_dataframe_equal_those_of_its_values(self, batch_size):
        X, y, X_df, y_s = self.frame()
        runs = []
        for X_in, y_in in ((X, y), (X_df, y_s)):
            model = mg.nn.Linear(3, 1, seed=0)
            history = mg.fit(model, X_in, y_in, lr=0.05, epochs=3, batch_size=batch_size,
                             progress=False)  # fmt: skip
            runs.append((history.step_losses, history.final_loss, model.weight.numpy()))
        assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
        np.testing.assert_array_equal(runs[0][2], runs[1][2])

    def test_evaluate_and_validation_data_take_frames(self):
        X, y, X_df, y_s = self.frame()
        model = mg.nn.Linear(3, 1, seed=0)
        mg.fit(model, X_df, y_s, lr=0.05, epochs=2, validation_data=(X_df, y_s), progress=False)
        assert mg.evaluate(model, X_df, y_s) == mg.evaluate(model, X, y)

    def test_a_non_numeric_column_is_named(self):
        _, _, X_df, y_s = self.frame()
        X_df["city"] = "Paris"
        with pytest.raises(TypeError, match=r"non-numeric column\(s\) 'city'"):
            mg.fit(mg.nn.Linear(4, 1), X_df, y_s)

    def test_a_missing_value_names_its_column(self):
        _, _, X_df, y_s = self.frame()
        X_df.iloc[5, 1] = np.nan
        with pytest.raises(
            ValueError, match=r"X has a non-finite value \(nan\) at row 5, column 'b'"
        ):
            mg.fit(mg.nn.Linear(3, 1), X_df, y_s)

    def test_string_labels_of_a_series_name_it(self):
        _, _, X_df, y_s = self.frame()
        labels = self.pd.Series(np.where(y_s > 0, "M", "B"), name="diagnosis")
        with pytest.raises(TypeError, match=r"y \(column 'diagnosis'\) holds str values"):
            mg.fit(mg.nn.Linear(3, 1), X_df, labels, loss="bce_with_logits")

    def test_a_dataloader_over_frames(self):
        X, _, X_df, y_s = self.frame()
        loader = DataLoader(TensorDataset(X_df, y_s), batch_size=10)
        np.testing.assert_array_equal(next(iter(loader))[0].numpy(), X[:10])


def test_pytorchs_import_path_reaches_the_same_classes():
    from minigrad.utils.data import DataLoader as Loader
    from minigrad.utils.data import TensorDataset as Dataset

    assert Loader is DataLoader and Dataset is TensorDataset
