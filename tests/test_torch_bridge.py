"""The bridge (issue 19, item 3): a minigrad model's state_dict loads into the equivalent
torch.nn model in one line, and a torch state_dict loads back; the outputs are identical
both ways, BatchNorm's running statistics included."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).normal(size=(32, 4))
Y = (X @ np.array([1.0, -2.0, 0.5, 3.0]) > 0).astype(float).reshape(-1, 1)


def ours():
    return mg.nn.Sequential(
        mg.nn.Linear(4, 8),
        mg.nn.BatchNorm1d(8),
        mg.nn.GELU(),
        mg.nn.Linear(8, 8),
        mg.nn.LeakyReLU(0.1),
        mg.nn.Linear(8, 1),
    )


def theirs(dtype=torch.float64):
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.GELU(),
        torch.nn.Linear(8, 8),
        torch.nn.LeakyReLU(0.1),
        torch.nn.Linear(8, 1),
    ).to(dtype)


def outputs_agree(model, torch_model, tol):
    """Both modes: eval (running statistics) and train (batch statistics)."""
    for mode in (False, True):
        model.train(mode)
        torch_model.train(mode)
        with torch.no_grad():
            expected = torch_model(torch.as_tensor(X, dtype=next(torch_model.parameters()).dtype))
        np.testing.assert_allclose(model(mg.tensor(X)).data, expected.numpy(), rtol=tol, atol=tol)


def test_keys_shapes_and_dtypes_are_torchs():
    sd, torch_sd = ours().state_dict(), theirs().state_dict()
    assert list(sd) == list(torch_sd)
    for key, value in sd.items():
        assert value.shape == tuple(torch_sd[key].shape), key
        assert torch.as_tensor(value).dtype == torch_sd[key].dtype, key


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_minigrad_to_torch_in_one_line(dtype):
    model = ours()
    mg.fit(model, X, Y, loss="bce_with_logits", optimizer="adam", lr=0.01, epochs=5,
           batch_size=8, progress=False)  # fmt: skip
    sd = model.state_dict()
    assert sd["1.num_batches_tracked"] == 20 and not np.allclose(sd["1.running_var"], 1)
    torch_model = theirs(dtype)
    torch_model.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()})
    assert torch_model[1].num_batches_tracked.item() == 20
    outputs_agree(model, torch_model, 1e-12 if dtype == torch.float64 else 1e-5)


def test_torch_to_minigrad_in_one_line_with_numpy_arrays_or_torch_tensors():
    torch_model = theirs()
    opt = torch.optim.Adam(torch_model.parameters(), lr=0.01)
    for start in range(0, 32, 8):  # train a little: running statistics move
        opt.zero_grad()
        logits = torch_model(torch.as_tensor(X[start : start + 8]))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, torch.as_tensor(Y[start : start + 8])
        )
        loss.backward()
        opt.step()
    torch_sd = torch_model.state_dict()
    model, other = ours(), ours()
    model.load_state_dict({k: v.numpy() for k, v in torch_sd.items()})
    other.load_state_dict(torch_sd)  # the torch tensors themselves (read by np.asarray)
    assert other[1].num_batches_tracked.dtype == np.int64
    assert other[1].num_batches_tracked.item() == model[1].num_batches_tracked.item() == 4
    saved = {k: v.clone() for k, v in torch_sd.items()}  # train mode moves torch's buffers
    outputs_agree(model, torch_model, 1e-12)
    torch_model.load_state_dict(saved)
    outputs_agree(other, torch_model, 1e-12)


def test_round_trip_then_training_continues_the_same_in_both():
    """After the round trip, one more training step in each library gives the same
    parameters and running statistics."""
    model = ours()
    torch_model = theirs()
    torch_model.load_state_dict({k: torch.as_tensor(v) for k, v in model.state_dict().items()})
    model.train()
    torch_model.train()
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        opt_t.zero_grad()
        mg.nn.BCEWithLogitsLoss()(model(mg.tensor(X)), mg.tensor(Y)).backward()
        torch.nn.BCEWithLogitsLoss()(torch_model(torch.as_tensor(X)), torch.as_tensor(Y)).backward()
        opt.step()
        opt_t.step()
    back = ours()
    back.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(back.state_dict()[key], value, rtol=1e-10, atol=1e-12)


def test_save_and_load_keep_the_buffers(tmp_path):
    model = ours()
    model(mg.tensor(X))  # training mode: the running statistics move
    model.save(tmp_path / "model.npz")
    again = ours()
    again.load(tmp_path / "model.npz")
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[key], value)


def test_parameters_that_require_grad_load_too():
    """torch's named_parameters() (tensors that require grad) load as they are."""
    torch_model = theirs()
    model = ours()
    state = {**dict(torch_model.named_parameters()), **dict(torch_model.named_buffers())}
    assert model.load_state_dict(state) == ([], [])
    outputs_agree(model, torch_model, 1e-12)


def test_jit_compiles_a_batchnorm_model_in_eval_mode_and_refuses_training_mode():
    model = ours()
    model(mg.tensor(X))  # running statistics away from 0 and 1
    model.eval()
    fast = mg.jit(lambda x: model(x))
    np.testing.assert_array_equal(fast(mg.tensor(X)).data, model(mg.tensor(X)).data)
    with mg.no_grad():  # the running statistics are read live, not frozen
        model[1].running_mean[...] = 0.5
    np.testing.assert_array_equal(fast(mg.tensor(X)).data, model(mg.tensor(X)).data)
    model.train()
    with pytest.raises(TypeError, match=r"BatchNorm1d in training mode.*eval"):
        mg.jit(lambda x: model(x))(mg.tensor(X))
