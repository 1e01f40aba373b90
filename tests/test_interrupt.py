"""Ctrl-C: a real SIGINT sent to a subprocess during ``fit`` and during ``minigrad train``.

Each test waits for a marker the child prints (or the checkpoint file it writes) before
sending the signal, instead of sleeping blindly. The first Ctrl-C must finish the update
under way and return the History marked interrupted; a second one must abort at once;
the CLI must save the model trained so far and exit with status 130.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import regression
from minigrad.cli import main

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to a subprocess")

ROOT = Path(mg.__file__).resolve().parent.parent
MARK_AT = 50  # the update after which the child says it is training

CHILD = """
import sys, time
import numpy as np
import minigrad as mg

X, y, _, _ = mg.data.make_linear(n=64, d=3, noise=0.1, seed=0)
model = mg.nn.Sequential(mg.nn.Linear(3, 8, seed=0), mg.nn.Tanh(), mg.nn.Linear(8, 1, seed=1))

def marker(epoch, update, loss, m):
    if update == {mark}:
        print("training", flush=True)
        time.sleep({pause})  # a long update: Ctrl-C arrives while it runs

history = mg.fit(model, X, y, optimizer="adam", lr=1e-3, epochs=10**6, batch_size=8,
                 callbacks=[marker], progress={progress}, tol=None)
print(repr(history))
print(history.summary())
np.savez(sys.argv[1], n_updates=history.n_updates, path_end=history.path[-1],
         **model.state_dict())
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _start(tmp_path: Path, pause: float, progress: bool = False) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD.format(mark=MARK_AT, pause=pause, progress=progress)))
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "out.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    line = child.stdout.readline()  # blocks until the child has done MARK_AT + 1 updates
    if line.strip() != "training":
        child.kill()
        raise AssertionError(f"the child did not start: {line!r} {child.stderr.read()}")
    return child


def test_first_ctrl_c_finishes_the_update_and_returns_the_history(tmp_path):
    child = _start(tmp_path, pause=3.0, progress=True)
    child.send_signal(signal.SIGINT)  # during update MARK_AT's (long) callback
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert "Traceback" not in err and "Ctrl-C" in err
    assert "interrupted (Ctrl-C)" in out  # repr
    assert f"INTERRUPTED (Ctrl-C) after update {MARK_AT}" in out  # summary()
    with np.load(tmp_path / "out.npz") as saved:
        result = {name: saved[name] for name in saved.files}
    n = int(result.pop("n_updates"))
    assert n == MARK_AT + 1  # the update under way was finished, and no other began
    path_end = result.pop("path_end")
    assert all(np.isfinite(v).all() for v in result.values())
    # equal to the parameters after exactly n updates of the same run, stopped by a callback
    X, y, _, _ = mg.data.make_linear(n=64, d=3, noise=0.1, seed=0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 8, seed=0), mg.nn.Tanh(), mg.nn.Linear(8, 1, seed=1))

    def stop_after_n(epoch, update, loss, m):
        return update == n - 1

    reference = mg.fit(model, X, y, optimizer="adam", lr=1e-3, epochs=10**6, batch_size=8,
                       callbacks=[stop_after_n], progress=False, tol=None)  # fmt: skip
    assert reference.n_updates == n
    for name, value in model.state_dict().items():
        assert value.tobytes() == result[name].tobytes(), name
    assert np.array_equal(path_end, np.concatenate([v.ravel() for v in result.values()]))


def test_a_second_ctrl_c_aborts_at_once(tmp_path):
    child = _start(tmp_path, pause=60.0)
    started = time.monotonic()
    child.send_signal(signal.SIGINT)
    notice = child.stderr.readline() or child.stderr.readline()  # the first Ctrl-C's notice
    while notice and "Ctrl-C" not in notice:
        notice = child.stderr.readline()
    assert "press Ctrl-C again to abort now" in notice
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert time.monotonic() - started < 30  # did not wait for the 60 s update to end
    assert child.returncode == -signal.SIGINT  # an ordinary KeyboardInterrupt ended it
    assert "KeyboardInterrupt" in err and not (tmp_path / "out.npz").exists()


def test_ctrl_c_during_fit_in_this_process_restores_the_handler():
    """No subprocess: a SIGINT raised by a callback (as Ctrl-C would) stops the run."""
    before = signal.getsignal(signal.SIGINT)
    X, y, _, _ = mg.data.make_linear(n=20, d=2, seed=0)

    def press_ctrl_c(epoch, update, loss, model):
        if update == 7:
            signal.raise_signal(signal.SIGINT)

    model = mg.nn.Linear(2, 1, seed=0)
    history = mg.fit(model, X, y, epochs=100, batch_size=4, callbacks=[press_ctrl_c],
                     progress=False, tol=None)  # fmt: skip
    assert history.interrupted and history.n_updates == 8 and history.epochs_run == 2
    assert "interrupted" in repr(history) and "INTERRUPTED" in history.summary()
    assert signal.getsignal(signal.SIGINT) is before


def test_cli_train_interrupted_saves_the_model_and_exits_130(tmp_path, capsys):
    ckpt, model = tmp_path / "run.ckpt", tmp_path / "model.npz"
    child = subprocess.Popen(
        [sys.executable, "-m", "minigrad", "train", "taxi", "--batch-size", "1", "--lr", "0.001",
         "--epochs", "100000", "--checkpoint", str(ckpt), "--save", str(model)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not ckpt.exists():  # the progress marker: the first epoch's checkpoint
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "no checkpoint written within 120 s"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("minigrad: interrupted after ") and " updates " in last, last
    assert last.endswith(f"saved the model trained so far to {model}"), last
    saved = regression.load_model(model)
    assert np.isfinite(saved.weights).all() and np.isfinite(saved.bias)
    table = tmp_path / "rides.csv"
    table.write_text("TRIP_MILES,TRIP_MINUTES\n2.0,10.0\n5.5,21.0\n")
    assert main(["predict", str(model), str(table)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "TRIP_MILES,TRIP_MINUTES,predicted_FARE" and len(lines) == 3
    expected = saved.weights @ [2.0, 10.0] + saved.bias
    assert float(lines[1].split(",")[-1]) == pytest.approx(expected)
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "rides.csv", "run.ckpt"]


def test_cli_train_interrupted_without_save_says_nothing_was_saved(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    child = subprocess.Popen(
        [sys.executable, "-m", "minigrad", "train", "taxi", "--batch-size", "1", "--lr", "0.001",
         "--epochs", "100000", "--checkpoint", str(ckpt)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not ckpt.exists():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130
    assert "nothing saved (pass --save MODEL.npz to keep it)" in err.splitlines()[-1]


def test_ctrl_c_closes_the_progress_bar(monkeypatch):
    from minigrad.train import loop

    class Bar:
        closed = False

        def set_postfix(self, **kwargs):
            pass

        def update(self, n):
            pass

        def close(self):
            Bar.closed = True

    monkeypatch.setattr(loop, "_progress_bar", lambda progress, epochs: Bar())
    X, y, _, _ = mg.data.make_linear(n=20, d=2, seed=0)

    def press_ctrl_c(epoch, update, loss, model):
        if update == 3:
            signal.raise_signal(signal.SIGINT)

    history = mg.fit(mg.nn.Linear(2, 1, seed=0), X, y, epochs=100, batch_size=4,
                     callbacks=[press_ctrl_c], progress=True, tol=None)  # fmt: skip
    assert history.interrupted and history.n_updates == 4 and Bar.closed
