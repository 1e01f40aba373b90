"""Checkpoints: a run stopped after k epochs and resumed to n equals the uninterrupted
n-epoch run bit for bit (parameters and History), for every optimizer, batch size,
shuffling, Dropout and a scheduler; bad or foreign checkpoints are refused clearly.

The reference is always an uninterrupted run of the same code: the claim is equality of
two runs, so no expected number is needed (nor copied from our output).
"""

from __future__ import annotations

import dataclasses
import os
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main
from minigrad.io import FileFormatError

X, Y, _, _ = mg.data.make_linear(n=30, d=3, noise=0.3, seed=4)

OPTIMIZERS = {
    "sgd": ("sgd", {}),
    "momentum": ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    "rmsprop": ("rmsprop", {}),
    "adam": ("adam", {"betas": (0.8, 0.99)}),
}


def _model(dropout: str | None, seed: int):
    """An MLP; Dropout draws from the default generator ("default") or its own ("own")."""
    layers = [mg.nn.Linear(3, 6, seed=seed), mg.nn.Tanh()]
    if dropout == "default":
        layers.append(mg.nn.Dropout(0.3))
    elif dropout == "own":
        layers.append(mg.nn.Dropout(0.3, seed=seed + 7))
    return mg.nn.Sequential(*layers, mg.nn.Linear(6, 1, seed=seed + 1))


def _fit(model, epochs, optimizer="adam", batch_size=7, shuffle=True, **kwargs):
    name, options = OPTIMIZERS[optimizer]
    return mg.fit(model, X, Y, optimizer=name, optimizer_options=options, lr=0.01,
                  epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=3, tol=None,
                  progress=False, **kwargs)  # fmt: skip


def assert_same_run(a: mg.History, b: mg.History, model_a, model_b) -> None:
    for field in dataclasses.fields(mg.History):
        if field.name in ("wall_time", "traces"):
            continue
        va, vb = getattr(a, field.name), getattr(b, field.name)
        if field.name == "path":
            assert len(va) == len(vb)
            for k, (pa, pb) in enumerate(zip(va, vb, strict=True)):
                assert np.array_equal(pa, pb), f"path[{k}] differs"
        else:
            assert va == vb, f"History.{field.name}: {va!r} != {vb!r}"
    for (name, pa), pb in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert pa.tobytes() == pb.tobytes(), f"parameter {name} differs"


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize(
    ("batch_size", "shuffle", "dropout"),
    [(7, True, "default"), (1, True, "own"), (None, False, None), (7, False, "own")],
)
def test_resume_equals_an_uninterrupted_run_bit_for_bit(
    tmp_path, optimizer, batch_size, shuffle, dropout
):
    ckpt = tmp_path / "run.ckpt"
    mg.manual_seed(11)
    whole_model = _model(dropout, seed=0)
    whole = _fit(whole_model, 5, optimizer, batch_size, shuffle, metrics=[_mae],
                 validation_data=(X[:9], Y[:9]))  # fmt: skip

    mg.manual_seed(11)
    _fit(_model(dropout, seed=0), 2, optimizer, batch_size, shuffle, metrics=[_mae],
         validation_data=(X[:9], Y[:9]), checkpoint=ckpt)  # fmt: skip
    mg.manual_seed(999)  # another default generator, another initialisation: both restored
    model = _model(dropout, seed=50)
    resumed = _fit(model, 5, optimizer, batch_size, shuffle, metrics=[_mae],
                   validation_data=(X[:9], Y[:9]), resume=ckpt)  # fmt: skip
    assert resumed.epochs_run == 5 and not resumed.interrupted
    assert_same_run(whole, resumed, whole_model, model)


def _mae(pred, target):
    return float(np.mean(np.abs(np.ravel(pred) - np.ravel(target))))


def test_a_run_stopped_mid_epoch_resumes_from_its_last_checkpoint(tmp_path):
    """Stopped during epoch 4 (checkpoint_every=1): the file holds epoch 3; resumed to 6."""
    ckpt = tmp_path / "run.ckpt"
    mg.manual_seed(0)
    whole_model = _model("default", 0)
    whole = _fit(whole_model, 6)
    mg.manual_seed(0)

    def stop_in_epoch_3(epoch, update, loss, m):
        return epoch == 3 and update % 5 == 2

    stopped = _fit(_model("default", 0), 6, checkpoint=ckpt, callbacks=[stop_in_epoch_3])
    assert stopped.stopped_by_callback and stopped.epochs_run == 4
    model = _model("default", 9)
    resumed = _fit(model, 6, resume=ckpt)
    assert_same_run(whole, resumed, whole_model, model)


def test_checkpoint_every_k_epochs_and_the_last(tmp_path, monkeypatch):
    from minigrad.train import checkpoint as module

    written = []
    real = module.save_arrays
    monkeypatch.setattr(
        module, "save_arrays",
        lambda path, arrays: (written.append(int(str(arrays["meta"]).split('"epochs_done": ')[1]
                                                 .split(",")[0])), real(path, arrays)),
    )  # fmt: skip
    _fit(_model(None, 0), 7, checkpoint=tmp_path / "c.ckpt", checkpoint_every=3)
    assert written == [3, 6, 7]
    assert os.listdir(tmp_path) == ["c.ckpt"]  # written atomically: no temporary files


def test_resume_with_a_scheduler_and_an_optimizer_instance(tmp_path):
    def run(epochs, model, **kwargs):
        opt = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
        sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return mg.fit(model, X, Y, optimizer=opt, scheduler=sched, epochs=epochs,
                      batch_size=4, tol=None, progress=False, **kwargs), opt  # fmt: skip

    whole_model = _model(None, 0)
    whole, whole_opt = run(6, whole_model)
    run(3, _model(None, 0), checkpoint=tmp_path / "s.ckpt")
    model = _model(None, 5)
    resumed, opt = run(6, model, resume=tmp_path / "s.ckpt")
    assert_same_run(whole, resumed, whole_model, model)
    assert opt.lr == whole_opt.lr == 0.05 * 0.5**3
    with pytest.raises(ValueError, match="saved with a StepLR, this run has no scheduler"):
        mg.fit(_model(None, 0), X, Y, optimizer="sgd", optimizer_options={"momentum": 0.5},
               lr=0.05, epochs=6, batch_size=4, progress=False,
               resume=tmp_path / "s.ckpt")  # fmt: skip


def test_resume_of_a_jitted_run(tmp_path):
    whole_model = _model(None, 0)
    whole = _fit(whole_model, 4, jit=True)
    _fit(_model(None, 0), 2, jit=True, checkpoint=tmp_path / "j.ckpt")
    model = _model(None, 1)
    resumed = _fit(model, 4, jit=True, resume=tmp_path / "j.ckpt")
    assert_same_run(whole, resumed, whole_model, model)


def test_resume_refuses_another_run_and_changes_nothing(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    _fit(_model(None, 0), 2, checkpoint=ckpt)
    model = _model(None, 1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"batch_size=7, this run has batch_size=5"):
        _fit(model, 4, batch_size=5, resume=ckpt)
    with pytest.raises(ValueError, match="optimizer='Adam', this run has optimizer='RMSprop'"):
        _fit(model, 4, optimizer="rmsprop", resume=ckpt)
    with pytest.raises(ValueError, match=r"resume from .*run\.ckpt: its model has parameters"):
        mg.fit(mg.nn.Linear(3, 1), X, Y, optimizer="adam", lr=0.01, epochs=4, batch_size=7,
               seed=3, progress=False, resume=ckpt)  # fmt: skip
    wider = mg.nn.Sequential(mg.nn.Linear(3, 5), mg.nn.Tanh(), mg.nn.Linear(5, 1))
    with pytest.raises(ValueError, match=r"does not fit this run: .*0\.weight has shape \(5, 3\)"):
        _fit(wider, 4, resume=ckpt)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_resume_refuses_bad_files_by_name(tmp_path):
    good = tmp_path / "run.ckpt"
    _fit(_model(None, 0), 1, checkpoint=good)
    data = good.read_bytes()
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 3])
    (tmp_path / "empty.ckpt").write_bytes(b"")
    mg.nn.Linear(3, 1).save(tmp_path / "model.npz")
    expected = {
        "cut.ckpt": "a truncated",
        "empty.ckpt": "the file is empty",
        "model.npz": "it holds",
    }
    for name, problem in expected.items():
        with pytest.raises(
            FileFormatError, match=f"{name} is not a minigrad checkpoint: {problem}"
        ):
            _fit(_model(None, 0), 2, resume=tmp_path / name)
    with pytest.raises(FileNotFoundError):
        _fit(_model(None, 0), 2, resume=tmp_path / "missing.ckpt")


def test_checkpoints_are_plain_arrays_without_pickle(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    _fit(_model("own", 0), 2, checkpoint=ckpt)
    with zipfile.ZipFile(ckpt) as archive:
        names = archive.namelist()
    assert "model/0.weight.npy" in names and "history/step_losses.npy" in names
    with np.load(ckpt, allow_pickle=False) as arrays:  # loads with pickle forbidden
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_resuming_a_finished_run_trains_further(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    whole_model = _model(None, 0)
    whole = _fit(whole_model, 5)
    _fit(_model(None, 0), 3, checkpoint=ckpt)
    model = _model(None, 2)
    again = _fit(model, 3, resume=ckpt)  # nothing left to do: the saved run as it was
    assert again.epochs_run == 3 and again.n_updates == 3 * 5
    model = _model(None, 2)
    resumed = _fit(model, 5, resume=ckpt, checkpoint=ckpt)
    assert_same_run(whole, resumed, whole_model, model)


def test_fit_checks_the_checkpoint_arguments(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_every must be an integer ≥ 1, got 0"):
        _fit(_model(None, 0), 1, checkpoint=tmp_path / "c", checkpoint_every=0)
    with pytest.raises(IsADirectoryError):
        _fit(_model(None, 0), 1, checkpoint=tmp_path)
    opt = mg.optim.SGD(_model(None, 0).parameters(), lr=0.1)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=1)
    with pytest.raises(ValueError, match="scheduler= must schedule the optimizer"):
        mg.fit(_model(None, 0), X, Y, scheduler=sched, epochs=1, progress=False)


def test_cli_resume_equals_an_uninterrupted_train(tmp_path, capsys):
    common = ["train", "taxi", "--batch-size", "50", "--lr", "0.001", "--seed", "2"]
    a, b, ckpt = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "run.ckpt"
    assert main([*common, "--epochs", "4", "--save", str(a)]) == 0
    assert main([*common, "--epochs", "2", "--checkpoint", str(ckpt)]) == 0
    assert main([*common, "--epochs", "4", "--resume", str(ckpt), "--save", str(b)]) == 0
    assert np.load(a)["weight"].tobytes() == np.load(b)["weight"].tobytes()
    assert float(np.load(a)["bias"]) == float(np.load(b)["bias"])
    capsys.readouterr()
    assert main([*common[:-2], "--seed", "3", "--epochs", "4", "--resume", str(ckpt)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seed=2, this run has seed=3" in err


def test_resume_refuses_a_run_that_records_other_things(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    _fit(_model(None, 0), 2, checkpoint=ckpt)
    with pytest.raises(ValueError, match=r"metrics=\[\], this run has metrics=\['_mae'\]"):
        _fit(_model(None, 0), 4, metrics=[_mae], resume=ckpt)
    with pytest.raises(ValueError, match="record_path=True, this run has record_path=False"):
        _fit(_model(None, 0), 4, record_path=False, resume=ckpt)


def test_a_crash_while_saving_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    """The save after epoch 3 fails halfway (a full disk): run.ckpt still holds epoch 2,
    whole, and resuming from it ends as the uninterrupted run."""
    ckpt = tmp_path / "run.ckpt"
    real = np.lib.format.write_array
    from minigrad.train import checkpoint as module

    saves = []
    real_save = module.save_arrays

    def counting_save(path, arrays):
        saves.append(path)
        return real_save(path, arrays)

    def failing_write(fp, array, *args, **kwargs):
        if len(saves) == 3 and failing_write.calls >= 4:
            raise OSError(28, "No space left on device")
        failing_write.calls += len(saves) == 3
        return real(fp, array, *args, **kwargs)

    failing_write.calls = 0
    monkeypatch.setattr(module, "save_arrays", counting_save)
    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    mg.manual_seed(0)
    with pytest.raises(OSError, match="No space left"):
        _fit(_model("default", 0), 6, checkpoint=ckpt)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["run.ckpt"]
    mg.manual_seed(0)
    whole_model = _model("default", 0)
    whole = _fit(whole_model, 6)
    model = _model("default", 3)
    resumed = _fit(model, 6, resume=ckpt)
    assert_same_run(whole, resumed, whole_model, model)


def test_a_resumed_run_converges_at_the_same_epoch(tmp_path):
    """The convergence rule reads the last epochs' steps: they are restored too."""

    def run(epochs, **kwargs):
        model = mg.nn.Linear(3, 1, init="zeros")
        history = mg.fit(model, X, Y, lr=0.1, epochs=epochs, tol=1e-6, progress=False, **kwargs)
        return model, history

    whole_model, whole = run(2000)
    assert whole.converged and whole.converged_at_epoch > 10
    run(whole.converged_at_epoch - 2, checkpoint=tmp_path / "c.ckpt")
    model, resumed = run(2000, resume=tmp_path / "c.ckpt")
    assert_same_run(whole, resumed, whole_model, model)
