"""Ctrl-C during training: the first one stops the run cleanly, a second one aborts at once.

While a run trains, :func:`_sigint_deferred` replaces Python's SIGINT handler with one
that only raises a flag. The loop reads the flag between updates, so the update under way
finishes (parameters and optimizer state are never half-updated) and the run ends with its
History, marked ``interrupted``. A second Ctrl-C raises KeyboardInterrupt right where the
program is, as an ordinary Ctrl-C would. The previous handler is restored when the run
ends. Outside the main thread (where Python delivers no signals) nothing is installed.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class _Interrupt:
    """Whether Ctrl-C was pressed since the run started (``requested``)."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # the second Ctrl-C: abort now
            raise KeyboardInterrupt
        self.requested = True
        print(
            "\nminigrad: Ctrl-C: stopping after this update (press Ctrl-C again to abort now)",
            file=sys.stderr,
            flush=True,
        )


@contextmanager
def _sigint_deferred() -> Iterator[_Interrupt]:
    """Install the deferring handler for the block (main thread, Python handler only)."""
    interrupt = _Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield interrupt
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:  # ignored, or set outside Python
        yield interrupt
        return
    signal.signal(signal.SIGINT, interrupt)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)
