"""``mg.linalg``: the linear-algebra ops, as ``numpy.linalg`` names them (``mg.linalg.norm``).

Derived from the op registry (:mod:`minigrad.ops.registry`): an op registered with
``linalg=True`` is here, and ``np.linalg.NAME(tensor)`` dispatches to it.
"""

from __future__ import annotations

from typing import Any

from minigrad.ops.registry import REGISTRY


def __getattr__(name: str) -> Any:
    entry = REGISTRY.get(name)
    if entry is None or not entry.linalg:
        raise AttributeError(f"module 'minigrad.linalg' has no attribute {name!r}")
    return entry.function


def __dir__() -> list[str]:
    return sorted(name for name, entry in REGISTRY.items() if entry.linalg)
