"""The backward engine: the chain rule, run backwards through a recorded graph.

:func:`chain_rule` is the textbook loop: order the graph (:func:`toposort`, an explicit
stack, so a million chained ops are fine), then from the output down call each node's
rules (:func:`input_grads`) and add up what every input receives. :func:`backprop` runs
it and stores the gradients on leaves; :func:`graph.explain <minigrad.graph.explain>`
runs the same loop and shows each step. The rest are small steps around that loop, each
in one place: summing a broadcast input's gradient back to its shape, refusing a value
changed in place after an op saved it (version counters, as in PyTorch), visiting only
what leads to the wanted inputs, and telling a jit trace which rule it is in.

In an ordinary backward the rules see plain ndarrays (fast: no graph is built). Under
``create_graph=True`` the very same rules see Tensors and record, which is how gradients
of gradients come from the same line of calculus. Recording (:class:`Op`,
:func:`apply`) is :mod:`minigrad.op`; grad mode is :mod:`minigrad.grad_mode`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import op as _recording
from minigrad.grad_mode import enable_grad, is_grad_enabled, no_grad
from minigrad.op import OUT, EveryInput, Op, ShapeError, apply, check_unchanged, is_tracing
from minigrad.tracing import TraceError, constant

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

Step = tuple["Tensor", Any, list[tuple[int, "Tensor", Any]]]


def backprop(
    root: Tensor,
    gradient: Any,
    create_graph: bool = False,
    targets: Sequence[Tensor] | None = None,
) -> dict[Tensor, Any]:
    """Propagate ``gradient`` = ∂L/∂root back through the graph.

    Every leaf that requires grad accumulates its gradient into ``.grad``, as in
    PyTorch. With ``targets`` (the functional API) nothing is stored: the gradient that
    reaches each target through every path is returned instead, keyed by tensor.
    """
    if not create_graph and is_tracing():
        # a jit trace records the backward pass: the rules run on Tensors, as under
        # create_graph, but (as in an ordinary backward) their results require no grad
        with no_grad():
            return backprop(root, as_tensor(gradient), True, targets)
    found = {}
    for t, g, _ in chain_rule(root, gradient, create_graph, targets):
        if targets is not None:
            found[t] = g
        elif t._op is None:
            _accumulate_leaf(t, g, create_graph)
    return found


def chain_rule(
    root: Tensor,
    gradient: Any,
    create_graph: bool = False,
    targets: Collection[Tensor] | None = None,
) -> Iterator[Step]:
    """The chain rule, output first: for each tensor, ∂L/∂tensor and what it sends on.

    Yields ``(tensor, g, sent)`` where ``g`` = ∂L/∂tensor is complete (every consumer
    has added its share: the order puts a tensor after all of its consumers) and
    ``sent`` lists ``(position, input, ∂L/∂input)`` for the inputs its op passes a
    gradient to. With ``targets``, only the targets themselves are yielded, and only
    the part of the graph that leads to one is visited.
    """
    order = toposort(root)
    if targets is not None:
        targets = set(targets)  # tensors hash by identity (`in` on a list would compare)
    keep = None if targets is None else _on_a_path_to(order, targets)
    trace = _recording.tracing if create_graph and is_tracing() else None
    grads: dict[Tensor, Any] = {root: gradient}
    for t in reversed(order):
        g = grads.pop(t, None)
        if g is None or (keep is not None and t not in keep):
            continue
        if trace is not None:
            trace.gradient(g, t)
        sent = [] if t._op is None else input_grads(t, g, create_graph, keep)
        if targets is None or t in targets:
            yield t, g, sent
        for _, p, gp in sent:
            if p not in grads:
                grads[p] = gp
            elif trace is None:  # another consumer's share: they add up (multivariable)
                grads[p] = grads[p] + gp
            else:
                grads[p] = _add_traced(grads[p], gp, p, trace)


def _add_traced(previous: Any, g: Any, p: Tensor, trace: Any) -> Any:
    """Shares of ∂L/∂p added up, told to the jit trace as a step of its own."""
    trace.begin_rule("a tensor used several times: its gradients add up")
    total = previous + g
    trace.end_rule(total, p)
    return total


def toposort(root: Tensor) -> list[Tensor]:
    """Tensors that need a gradient, each after all of its inputs (iterative DFS).

    Only tensors that require grad are visited, and a leaf ends a path. The stack holds
    (tensor, iterator over its inputs, last first), so each tensor is pushed once and
    nothing recurses. Tensors hash by identity, so they key the sets and dicts here.
    """
    order: list[Tensor] = []
    seen = {root}
    stack = [(root, reversed(root._parents))]
    while stack:
        t, pending = stack[-1]
        for p in pending:
            if isinstance(p, Tensor) and p.requires_grad and p not in seen:
                seen.add(p)
                stack.append((p, reversed(p._parents)))  # a leaf has no parents
                break
        else:  # every input is placed: t can follow them
            stack.pop()
            order.append(t)
    return order


def _on_a_path_to(order: list[Tensor], targets: Collection[Tensor]) -> set[Tensor]:
    """The tensors of ``order`` (inputs first) from which a target can be reached: the
    only ones whose gradient ∂root/∂targets needs (torch.autograd.grad prunes so too).
    A target itself is on the path; an input that leads to no target is not."""
    needed: set[Tensor] = set()
    for t in order:
        if t in targets or any(p in needed for p in t._parents if isinstance(p, Tensor)):
            needed.add(t)
    return needed


def input_grads(
    t: Tensor, g: Any, create_graph: bool = False, only: Collection[Tensor] | None = None
) -> list[tuple[int, Tensor, Any]]:
    """One backward step: (position, input, ∂L/∂input) for each input of ``t`` that
    requires grad (and is in ``only``, when given), given ∂L/∂t = g.

    The op's rule gives the vector-Jacobian product; if the input was broadcast in the
    forward, the product is summed back to the input's shape here, once for every op.
    """
    op = t._op
    out, values = (t, t._parents) if create_graph else (t.data, t._values)
    # if no tensor anywhere has changed in place since t was recorded, none of the
    # values its rules read can have; and saves=() says its rules read none
    check = t._recorded_at != _recording.changes[0] and op.saves != ()
    trace = _recording.tracing if create_graph and is_tracing() else None
    rules = op.vjps
    variadic = type(rules) is EveryInput
    sent = []
    for i, p in enumerate(t._parents):
        if not (isinstance(p, Tensor) and p.requires_grad) or (only is not None and p not in only):
            continue
        if not variadic and rules[i] is None:
            continue  # an input the op does not differentiate (where's condition)
        if check:
            check_unchanged(t, i)
        if trace is not None:
            trace.begin_rule(f"{op.name}: {op.derivative(i)}" if op.derivative(i) else op.name)
        # a variadic op's one rule gets every input as one sequence (and may give None:
        # input i has no share); any other op has a rule per input
        gi = rules.rule(i, g, out, values) if variadic else rules[i](g, out, *values)
        if gi is not None and gi.shape != p.data.shape:  # p was broadcast in the forward
            gi = ops.sum_to(gi, p.data.shape) if create_graph else sum_to_shape(gi, p.shape)
        if trace is not None:
            trace.end_rule(gi, p)
        if gi is not None:
            sent.append((i, p, gi))
    return sent


_leaf_lock = threading.Lock()


def _accumulate_leaf(leaf: Tensor, g: Any, create_graph: bool) -> None:
    """Add ``g`` into ``leaf.grad``. Atomic: backward passes in several threads whose
    graphs share a leaf each add their whole contribution."""
    with _leaf_lock:
        if create_graph:  # out of place: g may be the caller's own gradient tensor
            if g.dtype != leaf.data.dtype:
                g = ops.astype(g, leaf.data.dtype)
            leaf._grad = g * 1 if leaf._grad is None else leaf._grad + g  # g·1 keeps −0.0
        elif leaf._grad is None:
            # an own, writable copy in the leaf's dtype: g may be a read-only broadcast
            # view or an array shared with another input
            leaf._grad = Tensor._make(np.array(g, dtype=leaf.data.dtype), False, None, ())
        elif leaf._grad.requires_grad:  # left by a create_graph pass: not into its graph
            leaf._grad = Tensor._make(leaf._grad.data + g, False, None, ())
        else:
            leaf._grad.data += g
            leaf._grad._bump_version()  # a graph may have saved the old .grad


def vjp(output: Tensor, inputs: Sequence[Tensor], v: Any, create_graph: bool = False) -> list:
    """vᵀ·∂output/∂input for each input as the rules make it (added up over every path,
    in the rules' dtype), or None for an input ``output`` does not depend on."""
    if not output.requires_grad:
        return [None] * len(inputs)
    found = _propagate(output, v, create_graph, inputs)
    return [found.get(x) for x in inputs]


def backward(output: Tensor, gradient: Any = None, create_graph: bool = False) -> None:
    """:meth:`Tensor.backward`: vᵀ·∂output/∂leaf added into each leaf's ``.grad``."""
    _propagate(output, seed(output, gradient, "backward()", "gradient"), create_graph, None)


def _propagate(output: Tensor, v: Any, create_graph: bool, targets: Any) -> dict:
    recording = create_graph or is_tracing()  # the rules record (a graph or a trace)
    if create_graph or (recording and isinstance(v, Tensor)):
        v = as_tensor(v)  # the tensor itself: its graph (or trace) counts
    else:
        v = np.asarray(_data_of(v))
    if not recording:  # the rules see plain arrays: no grad mode to set
        return backprop(output, v, create_graph, targets)
    with enable_grad():
        return backprop(output, v, create_graph, targets)


def seed(output: Tensor, v: Any, caller: str, name: str) -> Any:
    """The v of vᵀ·J that a backward pass from ``output`` starts with: ``v`` itself,
    which must have the output's shape, or 1 when omitted for a one-element output."""
    if v is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{caller}: an output of shape {output.shape} needs {name} (the v of vᵀ·J; "
                "for a loss, reduce it with .sum() or .mean() first)"
            )
        v = np.empty(output.shape, output.dtype)
        v.fill(1)  # (np.ones spends twice as long, in Python, on this one element)
        if is_tracing():
            constant(v)  # the seed: a compiled program may fold it
    elif np.iscomplexobj(_data_of(v)):
        raise TypeError(f"{caller}: {name} is complex; minigrad's gradients are real")
    elif np.shape(_data_of(v)) != output.shape:
        raise ShapeError(
            f"{caller}: {name} has shape {np.shape(_data_of(v))}, the output has "
            f"{output.shape}; they must match"
        )
    return v


def grad(
    output: Tensor,
    inputs: Sequence[Tensor],
    grad_output: Any = None,
    create_graph: bool = False,
) -> tuple[Tensor, ...]:
    """∂output/∂input for each of ``inputs``, returned instead of stored in ``.grad``
    (PyTorch's ``torch.autograd.grad``); zeros for an input ``output`` does not depend on.

    Each gradient is the total derivative, through every path (an input that another
    input was computed from gets both contributions), in the input's own float dtype.
    ``grad_output`` is the v of vᵀ·J, of the output's shape (default 1 for a
    one-element output). With ``create_graph=True`` the results are differentiable again.

    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> mg.autograd.grad((w * w).sum(), [w])
    (tensor([2., 4.]),)
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"grad: output must be a Tensor, got {type(output).__name__}")
    inputs = list(inputs)
    for x in inputs:
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise TypeError("grad: every input must be a Tensor with requires_grad=True")
    grad_output = seed(output, grad_output, "grad", "grad_output")
    found = vjp(output, inputs, grad_output, create_graph)
    return tuple(_gradient_of(x, g) for x, g in zip(inputs, found, strict=True))


def _gradient_of(x: Tensor, g: Any) -> Tensor:
    """``x``'s gradient as a Tensor in x's float dtype (float32 inputs get float32)."""
    if g is None:
        g = np.zeros(x.shape, x.dtype)
    elif g.dtype != x.dtype and x.dtype.kind == "f":
        g = ops.astype(g, x.dtype)
    return as_tensor(g)


def _data_of(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


__all__ = [
    "OUT", "EveryInput", "Op", "ShapeError", "TraceError", "apply", "backprop", "backward",
    "chain_rule",
    "enable_grad", "grad", "input_grads", "is_grad_enabled", "is_tracing", "no_grad",
    "toposort", "vjp",
]  # fmt: skip

# tensor.py imports this module; these names are only needed at call time
from minigrad import ops  # noqa: E402
from minigrad.ops import sum_to_shape  # noqa: E402
from minigrad.tensor import Tensor, as_tensor  # noqa: E402
