"""Atomic saves and clear refusals of bad files (minigrad.io), through every public writer.

A save made to fail halfway must leave the previous file byte for byte and no temporary
file; a truncated, empty, random, .npy or pickled file must give one FileFormatError
naming the file (in the CLI: one line, exit status 1).
"""

from __future__ import annotations

import os
import pickle
import stat

import numpy as np
import pytest

import minigrad as mg
from minigrad import regression
from minigrad.cli import main
from minigrad.io import FileFormatError, atomic_path, atomic_write, load_arrays, save_text


def _fail_halfway(monkeypatch):
    """np.savez writes the first array's bytes, then the serialiser raises."""
    real = np.lib.format.write_array
    calls = []

    def write_array(fp, array, *args, **kwargs):
        if calls:
            raise OSError(28, "No space left on device")
        calls.append(1)
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    return calls


def test_module_save_that_fails_halfway_keeps_the_old_file(tmp_path, monkeypatch):
    model = mg.nn.Sequential(mg.nn.Linear(3, 4, seed=0), mg.nn.Tanh(), mg.nn.Linear(4, 1, seed=1))
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()
    saved = model.state_dict()
    with mg.no_grad():
        for p in model.parameters():
            p += 1.0
    calls = _fail_halfway(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert calls, "the failure must come after some bytes were written"
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    fresh = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
    fresh.load(path)
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, saved[name])


def test_cli_model_save_that_fails_halfway_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    regression.save_model(path, [1.0, 2.0], 3.0, ["a", "b"], "y")
    before = path.read_bytes()
    _fail_halfway(monkeypatch)
    with pytest.raises(OSError):
        regression.save_model(path, [9.0, 9.0], 9.0, ["a", "b"], "y")
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.npz"]
    assert regression.load_model(path).weights.tolist() == [1.0, 2.0]


def test_interrupt_during_a_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "notes.txt"
    save_text(path, "old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path, "w") as f:
        f.write("half of the new")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["notes.txt"]


def test_atomic_write_keeps_permissions_and_writes_new_files_normally(tmp_path):
    path = tmp_path / "a.bin"
    with atomic_write(path) as f:
        f.write(b"1")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o600)
    with atomic_write(path) as f:
        f.write(b"2")
    assert path.read_bytes() == b"2" and stat.S_IMODE(path.stat().st_mode) == 0o600
    with atomic_path(tmp_path / "fig.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png"  # tools read the format
        tmp.write_bytes(b"png")
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "fig.png"]


def test_atomic_write_refuses_a_folder_and_read_modes(tmp_path):
    with pytest.raises(IsADirectoryError), atomic_write(tmp_path):
        pass
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x", "rb"):
        pass
    assert os.listdir(tmp_path) == []


def test_plot_save_that_fails_keeps_the_old_figure(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from minigrad.plot import _base

    fig = _base.new_figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    path = _base.save(fig, tmp_path / "curve.png")
    before = path.read_bytes()

    def broken(self, fname, **kwargs):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(type(fig), "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        _base.save(fig, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["curve.png"]


# ------------------------------------------------------------------------ bad files


def _bad_files(tmp_path, good):
    data = good.read_bytes()
    rng = np.random.default_rng(0)
    files = {
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "random": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "pickled": pickle.dumps({"weight": np.zeros((1, 2)), "bias": np.zeros(1)}),
    }
    paths = {}
    for kind, content in files.items():
        paths[kind] = tmp_path / f"{kind}.npz"
        paths[kind].write_bytes(content)
    paths["object array"] = tmp_path / "objects.npz"
    np.savez(paths["object array"], weight=np.array([[{"x": 1}, None]], dtype=object))
    paths["one .npy array"] = tmp_path / "one.npz"
    with open(paths["one .npy array"], "wb") as f:
        np.save(f, np.zeros(3))
    return paths


EXPECTED = {
    "truncated": "truncated or corrupt",
    "empty": "empty",
    "random": "not a NumPy .npz archive",
    "pickled": "pickle",
    "object array": "pickled Python objects",
    "one .npy array": r"one array \(.npy\)",
}


def test_module_load_refuses_each_bad_file_with_one_clear_error(tmp_path):
    model = mg.nn.Linear(2, 1, seed=0)
    good = tmp_path / "good.npz"
    model.save(good)
    before = model.state_dict()
    for kind, path in _bad_files(tmp_path, good).items():
        with pytest.raises(FileFormatError, match=EXPECTED[kind]) as info:
            model.load(path)
        message = str(info.value)
        assert message.startswith(f"{path} is not a saved Linear: "), message
        assert "\n" not in message
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(value, before[name])


def test_module_load_names_the_file_of_another_model(tmp_path):
    path = tmp_path / "other.npz"
    mg.nn.Linear(3, 1, seed=0).save(path)
    with pytest.raises(FileFormatError, match=r"other\.npz is not a saved Linear: .*shape"):
        mg.nn.Linear(2, 1).load(path)
    mg.nn.Sequential(mg.nn.Linear(2, 1)).save(path)
    with pytest.raises(FileFormatError, match=r"other\.npz .*missing \['bias', 'weight'\]"):
        mg.nn.Linear(2, 1).load(path)


def test_a_corrupted_byte_inside_the_archive_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    mg.nn.Linear(50, 1, seed=0).save(path)
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # inside the weight's bytes: the zip's CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"model\.npz is not .*corrupt"):
        load_arrays(path)


def test_cli_predict_says_one_line_for_each_bad_model_file(tmp_path, capsys):
    good = tmp_path / "good.npz"
    regression.save_model(good, [1.0], 0.0, ["x"], "y")
    table = tmp_path / "x.csv"
    table.write_text("x\n1\n2\n")
    for kind, path in _bad_files(tmp_path, good).items():
        status = main(["predict", str(path), str(table)])
        out, err = capsys.readouterr()
        assert status == 1 and out == "", kind
        assert err.count("\n") == 1 and err.startswith(f"minigrad: error: {path} is not"), err
        assert "Traceback" not in err


def test_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_arrays(tmp_path / "nothing.npz")
