"""Ops and recording: the forward half of the engine.

:class:`Op` is a differentiable primitive, a forward on arrays and one gradient rule per
input; :func:`apply` runs an op's forward on raw arrays and, when any input is a Tensor
that requires grad (and grad mode is on), returns a Tensor that remembers the op and its
inputs. That is the whole graph: each tensor points at its inputs, never at its outputs,
so a graph is freed by reference counting as soon as the loss is dropped. The backward
half is :mod:`minigrad.autograd`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.grad_mode import _mode
from minigrad.tracing import TraceError, Tracing, plain

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


class ShapeError(ValueError):
    """Raised when an op gets shapes it cannot combine; names the op and the shapes."""


Rule = Callable[..., Any]

OUT = -1
"""In an op's ``saves``: the rule reads the op's own output (``out``)."""

changes = [0]
"""How many in-place changes tensors have seen, all of them together (one list, so it can
be bumped in place): a clock. A node remembers the time it was recorded, and a tensor's
version counter the time of its last change; a value changed after the node saved it is
one whose last change is later. While the clock has not moved since a node was recorded,
nothing it saved can have changed, and backward skips the checks (the common case:
forward, backward, then the optimizer step)."""


def _shape_of(x: Any) -> Any:
    return getattr(x, "shape", type(x).__name__)


_CONSTANTS = (np.ndarray, np.generic, int, float, tuple, list, slice, type(None), type(...))


def _reject_operands(op: Op, inputs: tuple) -> None:
    """Raise TypeError if an input is no number, array or Tensor (e.g. ``t @ object()``)."""
    odd = [x for x in inputs if not isinstance(x, (Tensor, *_CONSTANTS))]
    if odd:
        kinds = ", ".join(type(x).__name__ for x in inputs)
        raise TypeError(f"{op.name}: unsupported operand types ({kinds})")


def _forward_error(op: Op, inputs: tuple, raw: list, err: ValueError) -> Exception:
    """The exception for a forward that NumPy refused: a ShapeError when shapes clash,
    else a ValueError that still names the op and what it was given."""
    _reject_operands(op, inputs)
    shapes = " and ".join(str(_shape_of(x)) for x in raw if hasattr(x, "shape"))
    text = str(err)
    if any(word in text for word in ("shape", "broadcast", "dimension", "size")):
        return ShapeError(f"{op.name}: incompatible shapes {shapes} ({text})")
    dtypes = ", ".join(str(x.dtype) for x in raw if hasattr(x, "dtype"))
    return ValueError(f"{op.name}: {text} (inputs of shapes {shapes}, dtypes {dtypes})")


def apply(op: Op, *inputs: Any) -> Any:
    """Run ``op`` on ``inputs``; record it when a Tensor input requires grad.

    With no Tensor among the inputs the result is a plain ndarray: the ops double as an
    array namespace, which is what lets one gradient rule serve both kinds of backward.
    Python lists among the inputs become arrays first, so that the rules see arrays.
    """
    raw = []
    has_tensor = record = False
    for x in inputs:
        if isinstance(x, Tensor):
            has_tensor = True
            if x.requires_grad:
                record = True
            raw.append(x.data)
        elif type(x) is list:
            return apply(op, *(ops.sequence_operand(v) if type(v) is list else v for v in inputs))
        else:
            raw.append(x)
    trace = tracing if tracing is not None and tracing.thread == threading.get_ident() else None
    if trace is not None and (has_tensor or op.random):  # a draw is traced too
        has_tensor = True
        raw = trace.inputs(op, inputs, raw)  # the forward computes on plain values
    try:
        data = trace.forward(op, inputs, raw) if trace is not None else op.forward(*raw)
    except ValueError as err:
        if op.effect:  # a check's own message (compiled code raises it unchanged too)
            raise
        raise _forward_error(op, inputs, raw, err) from None
    except TraceError:
        raise
    except TypeError as err:
        kinds = ", ".join(type(x).__name__ for x in inputs)
        raise TypeError(f"{op.name}: unsupported operand types ({kinds}): {err}") from None
    if not has_tensor:
        return data
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if record and _mode.enabled and op.differentiable:
        if data.dtype.kind == "c":
            raise _complex_error(op, inputs)
        out = Tensor._make(data, True, op, inputs, raw, changes[0])
    else:
        out = Tensor._make(data, False, None, ())
    if op.view:  # the result may be a view: it shares its input's version counter
        _share_counter_with_source(out, inputs)
    if trace is not None:
        trace.record(op, inputs, out)
    return out


def _complex_error(op: Op, inputs: tuple) -> TypeError:
    """Complex values cannot carry minigrad's gradients (its rules are for real numbers:
    a complex one would be cast to real, dropping its imaginary part, without a word)."""
    kinds = ", ".join(str(getattr(x, "dtype", type(x).__name__)) for x in inputs)
    return TypeError(
        f"{op.name} of a tensor that requires grad gives complex values (inputs: {kinds}): "
        "minigrad differentiates real functions only; split complex numbers into their "
        "real and imaginary parts"
    )


def _share_counter_with_source(out: Tensor, inputs: tuple) -> None:
    """Give a view the version counter of the tensor whose memory it shares, so that an
    in-place change through either one is seen by graphs that saved the other."""
    for x in inputs:
        if isinstance(x, Tensor) and np.may_share_memory(plain(out.data), plain(x.data)):
            out._version = x._shared_counter()
            return


def check_unchanged(t: Tensor, i: int) -> None:
    """Raise if a value rule ``i`` of ``t``'s op reads was changed in place after the op
    was recorded (its last change is later than the node)."""
    op, parents = t._op, t._parents
    reads = (OUT, *range(len(parents))) if op.saves is None else op.saves[i]
    for j in reads:
        x = t if j == OUT else parents[j]
        counter = getattr(x, "_version", None)
        if counter is not None and counter[1] > t._recorded_at:
            what = "its output" if j == OUT else f"its input {j}"
            raise RuntimeError(
                f"one of the values needed for backward was modified in place: {op.name} "
                f"saved {what}, a tensor of shape {x.shape}, which has been changed since "
                f"(it is now at version {counter[0]}). Compute the graph again after "
                "changing it (e.g. the loss after optimizer.step()), or change a copy "
                "(mg.tensor(x) copies)."
            )


tracing: Tracing | None = None
"""The trace being recorded, if any (set by :mod:`minigrad.jit` around a traced call)."""


def is_tracing() -> bool:
    """Whether this thread is recording a jit trace (values are then not to be read)."""
    return tracing is not None and tracing.thread == threading.get_ident()


class Op:
    """A differentiable primitive: a forward on arrays and one gradient rule per input.

    ``forward(*inputs)`` gets raw ndarrays (and constants). ``vjps[i](g, out, *inputs)``
    returns the vector-Jacobian product for input ``i``: given the upstream gradient ``g``
    (same shape as ``out``) it returns ∂L/∂inputs[i]. Inputs that are never differentiable
    (an axis, a shape, an index) have ``None`` as their rule. ``derivatives`` is the
    local derivative of each input in words, shown by :func:`minigrad.graph.explain`.

    ``saves[i]`` lists the values rule ``i`` reads: input positions, and :data:`OUT` for
    the output (shapes and dtypes do not count: in-place changes keep them). Before a
    rule runs, the engine checks that none of them was changed in place since the op
    was recorded, and raises otherwise. ``saves=()`` says no rule reads any value (a
    variadic op's only option besides the default); left out, every input and the
    output count for every rule.

    An op whose rules are all ``None`` has no gradient (a comparison, a cast to bool): it
    never records a graph node, and its result never requires grad. An op whose result
    may share memory with an input (reshape, transpose, indexing, einsum) says
    ``view=True``, or gives ``view(*inputs) -> bool`` where that depends on the inputs
    (basic indexing is a view, advanced indexing a copy): such a result shares the
    input's version counter.

    What the compiler (:mod:`minigrad.jit`) needs to know is declared here too:
    ``elementwise`` (the result is the broadcast inputs, element by element), ``random``
    (the forward draws from a ``np.random.Generator`` input: never folded, merged or
    dropped), ``effect`` (the forward may raise on bad values, a check: it runs even when
    its result is unused, and its error passes unchanged; a function of the inputs
    where that depends on them) and ``source``, how compiled code writes the op: a template
    such as ``"np.exp({0})"`` over the rendered inputs (without one, a NumPy function
    is written by its name and any other forward is defined in the generated source).
    A fused op may give ``lowering``: the same value computed with simpler ops, on the
    same inputs (``mse`` as ``sumsq(pred − target) / n``), which the compiler uses instead.

    Calling an Op applies it: ``mul(a, b)`` is ``apply(mul, a, b)``.
    """

    __slots__ = (
        "derivatives",
        "differentiable",
        "effect",
        "elementwise",
        "forward",
        "lowering",
        "name",
        "random",
        "saves",
        "source",
        "view",
        "vjps",
    )

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: Sequence[Rule | None] | EveryInput,
        derivatives: Sequence[str] = (),
        saves: Sequence[Sequence[int]] | None = None,
        view: bool | Callable[..., bool] = False,
        elementwise: bool = False,
        random: bool = False,
        effect: bool | Callable[..., bool] = False,
        source: str | None = None,
        lowering: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.derivatives = tuple(derivatives)
        self.saves = None if saves is None else tuple(tuple(s) for s in saves)
        self.differentiable = isinstance(vjps, EveryInput) or any(r is not None for r in vjps)
        self.view = view
        self.elementwise = elementwise
        self.random = random
        self.effect = True if random else effect
        self.source = source
        self.lowering = lowering

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def derivative(self, i: int) -> str:
        """Input ``i``'s local derivative in words ("" if undescribed); a variadic op's
        one description serves every input."""
        texts = self.derivatives
        return texts[i] if i < len(texts) else texts[0] if len(texts) == 1 else ""

    __call__ = apply  # mul(a, b) is apply(mul, a, b), without an extra Python frame


class EveryInput:
    """The rules of a variadic op (concatenate, stack): rule ``i`` is
    ``rule(i, g, out, inputs)``, with all of the node's inputs as one sequence (so a
    node of n inputs costs O(n) in backward, not O(n²)). A rule may return None: input
    ``i`` gets nothing from this node (not even a zero, which could turn −0.0 into 0.0)."""

    __slots__ = ("rule",)

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> Rule:
        rule = self.rule
        return lambda *args: rule(i, args[0], args[1], args[2:])  # (g, out, *inputs)


# tensor.py and ops import this module; these names are only needed at call time
from minigrad.tensor import Tensor  # noqa: E402, I001
from minigrad import ops  # noqa: E402
