"""A Python number passed to a jitted function: a weakly typed input of the trace.

NumPy promotes a Python number "weakly": ``float32 array × 2.0`` stays float32, where a
float64 array (or a NumPy scalar) would make it float64. So a number argument cannot be
traced as an array; it is traced as :class:`WeakScalar`, a stand-in Tensor that enters
every op as the number itself, and the compiled function takes it as a parameter (a new
value needs no new trace).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.tensor import Tensor
from minigrad.tracing import TraceError, traced


def is_number(a: Any) -> bool:
    """A Python number (a NumPy scalar is an array input, not a weak one)."""
    return isinstance(a, bool | int | float) and not isinstance(a, np.generic)


class WeakScalar(Tensor):
    """A Python number argument while a function is traced: a weakly typed input.

    It goes into ops as the Python number itself, so NumPy promotes it as eager code's
    number. Everything a number can do that an op cannot record — Python arithmetic with
    other numbers (``lr * 2`` is a Python float in eager code, a float64 array here),
    comparisons read by ``if``, ``float()``, formatting, ``.shape`` — raises, and the
    function is traced again with the number as a constant of the trace.
    ``isinstance(x, float)`` holds, as it does for the number.
    """

    __slots__ = ("number",)

    @classmethod
    def of(cls, number: bool | int | float) -> WeakScalar:
        t = object.__new__(cls)
        for name, value in _LEAF.items():
            object.__setattr__(t, name, value)
        object.__setattr__(t, "data", traced(np.asarray(number)))
        object.__setattr__(t, "number", number)
        return t

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x, float) is True, as in eager code
        return type(object.__getattribute__(self, "number"))

    def __getattribute__(self, name: str) -> Any:
        if name[0] != "_" and name not in _ENGINE_NAMES:
            kind = type(object.__getattribute__(self, "number")).__name__
            raise AttributeError(f"{kind!r} object has no attribute {name!r}")
        return object.__getattribute__(self, name)

    def _python(self, *args: Any) -> Any:
        raise TraceError("a number argument used as a Python number")

    def _with(self, name: str, other: Any) -> Any:
        """Tensor arithmetic with an array or Tensor; Python arithmetic refuses."""
        if is_number(other) or type(other) is WeakScalar:
            raise TraceError(f"Python arithmetic ({name}) on a number argument")
        return getattr(Tensor, name)(self, other)

    def __add__(self, o: Any) -> Any:
        return self._with("__add__", o)

    def __radd__(self, o: Any) -> Any:
        return self._with("__radd__", o)

    def __sub__(self, o: Any) -> Any:
        return self._with("__sub__", o)

    def __rsub__(self, o: Any) -> Any:
        return self._with("__rsub__", o)

    def __mul__(self, o: Any) -> Any:
        return self._with("__mul__", o)

    def __rmul__(self, o: Any) -> Any:
        return self._with("__rmul__", o)

    def __truediv__(self, o: Any) -> Any:
        return self._with("__truediv__", o)

    def __rtruediv__(self, o: Any) -> Any:
        return self._with("__rtruediv__", o)

    def __pow__(self, o: Any) -> Any:
        return self._with("__pow__", o)

    def __rpow__(self, o: Any) -> Any:
        return self._with("__rpow__", o)

    def __eq__(self, o: Any) -> Any:
        return self._with("__eq__", o)  # type: ignore[override]

    def __ne__(self, o: Any) -> Any:
        return self._with("__ne__", o)  # type: ignore[override]

    def __lt__(self, o: Any) -> Any:
        return self._with("__lt__", o)

    def __le__(self, o: Any) -> Any:
        return self._with("__le__", o)

    def __gt__(self, o: Any) -> Any:
        return self._with("__gt__", o)

    def __ge__(self, o: Any) -> Any:
        return self._with("__ge__", o)

    __neg__ = __pos__ = __abs__ = __repr__ = __str__ = __format__ = _python
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __round__ = _python
    __hash__ = Tensor.__hash__


_LEAF = {
    "grad": None, "requires_grad": False, "_op": None, "_parents": (), "_values": (),
    "_version": None, "_recorded_at": 0,
}  # fmt: skip
_ENGINE_NAMES = frozenset({"data", "requires_grad", "grad", "number", "is_leaf"})


__all__ = ["WeakScalar", "is_number"]
