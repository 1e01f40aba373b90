"""Grad mode: whether ops record a graph, per thread (``no_grad``, ``enable_grad``)."""

from __future__ import annotations

import threading
from contextlib import ContextDecorator


class _GradMode(threading.local):
    """Per-thread: whether ops record, and the states saved by enclosing blocks."""

    def __init__(self) -> None:
        self.enabled = True
        self.saved: list[bool] = []


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops on this thread currently record a graph."""
    return _mode.enabled


class _SetGradMode(ContextDecorator):
    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled

    def __enter__(self) -> None:
        _mode.saved.append(_mode.enabled)  # thread-local, so one instance may serve many
        _mode.enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = _mode.saved.pop()


class no_grad(_SetGradMode):
    """Context manager and decorator: ops inside record no graph (thread-local).

    Use it for parameter updates and evaluation::

        with mg.no_grad():
            w -= 0.1 * w.grad
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_SetGradMode):
    """Context manager and decorator: re-enable recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]
