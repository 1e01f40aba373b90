"""Graph recording, grad mode and the backward engine.

Recording: :func:`apply` runs an :class:`Op`'s forward on raw arrays and, when any input
is a Tensor that requires grad (and grad mode is on), returns a Tensor that remembers the
op and its inputs. That is the whole graph: each tensor points at its inputs, never at
its outputs, so a graph is freed by reference counting as soon as the loss is dropped.

Backward: :func:`backprop` orders the graph with an explicit stack (no recursion, so a
million chained ops are fine), then walks it from the output, calling each op's
vector-Jacobian rule once per input that needs a gradient. The engine owns the generic
work: summing a gradient back to a broadcast input's shape, accumulating contributions
from several consumers, storing gradients on leaves, and refusing to use a value that
was changed in place after an op saved it (version counters, as in PyTorch).

In an ordinary backward the rules see plain ndarrays (fast: no graph is built). Under
``create_graph=True`` the very same rules see Tensors and record, which is how gradients
of gradients come from the same line of calculus.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.tracing import TraceError, Tracing, constant, plain

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


class ShapeError(ValueError):
    """Raised when an op gets shapes it cannot combine; names the op and the shapes."""


# ---------------------------------------------------------------------------------------
# grad mode
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# ops and recording
# ---------------------------------------------------------------------------------------

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
    saved = None
    trace = tracing if tracing is not None and tracing.thread == threading.get_ident() else None
    if trace is not None and (has_tensor or op.random):  # a draw is traced too
        has_tensor = True
        raw = trace.inputs(op, inputs, raw)  # the forward computes on plain values
    try:
        if trace is not None:
            data = trace.forward(op, inputs, raw)
        elif op.save is not None and record and _mode.enabled and op.differentiable:
            data, saved = op.save(*raw)
        else:
            data = op.forward(*raw)
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
        out = Tensor._make(data, True, op, inputs, raw, saved, changes[0])
    else:
        out = Tensor._make(data, False, None, ())
    if op.view:  # the result may be a view: it shares its input's version counter
        _share_counter_with_source(out, inputs)
    if trace is not None:
        trace.record(op, inputs, out)
    return out


def _share_counter_with_source(out: Tensor, inputs: tuple) -> None:
    """Give a view the version counter of the tensor whose memory it shares, so that an
    in-place change through either one is seen by graphs that saved the other."""
    for x in inputs:
        if isinstance(x, Tensor) and np.may_share_memory(plain(out.data), plain(x.data)):
            out._version = x._shared_counter()
            return


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

    An op whose forward computes something its rules need anyway (mse computes the
    residual) may also give ``save(*inputs) -> (out, saved)``: when the op is recorded,
    ``saved`` is kept with the node and handed to the rules as one extra last argument
    in the next ordinary backward. That backward then lets go of it, passing it to
    ``release(saved)`` if given (so the op can reuse the memory); rules therefore also
    work without it (a second backward, ``create_graph``, the functional API,
    :func:`graph.explain`), where they recompute from the inputs.

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
        "release",
        "save",
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
        save: Callable[..., tuple[Any, Any]] | None = None,
        release: Callable[[Any], None] | None = None,
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
        self.save = save
        self.release = release
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


# ---------------------------------------------------------------------------------------
# the backward engine
# ---------------------------------------------------------------------------------------


def toposort(root: Tensor) -> list[Tensor]:
    """Tensors that need a gradient, each after all of its inputs (iterative DFS).

    Only tensors that require grad are visited, and a leaf ends a path. The stack holds
    (tensor, iterator over its inputs, last first), so each tensor is pushed once and
    nothing recurses. Tensors hash by identity, so they key the sets and dicts here.
    """
    order: list[Tensor] = []
    seen = {root}
    stack = [(root, _inputs_to_visit(root))]
    while stack:
        t, pending = stack[-1]
        for p in pending:
            if isinstance(p, Tensor) and p.requires_grad and p not in seen:
                seen.add(p)
                stack.append((p, _inputs_to_visit(p)))
                break
        else:  # every input is placed: t can follow them
            stack.pop()
            order.append(t)
    return order


def _inputs_to_visit(t: Tensor) -> Iterator[Any]:
    if t._op is None:
        return iter(())
    return reversed(t._parents)  # last input first: backward then meets them in order


def _on_a_path_to(order: list[Tensor], targets: Collection[Tensor]) -> set[Tensor]:
    """The tensors of ``order`` (inputs first) from which a target can be reached: the
    only ones whose gradient ∂root/∂targets needs (torch.autograd.grad prunes so too).
    A target itself is on the path; an input that leads to no target is not."""
    needed: set[Tensor] = set()
    for t in order:
        if t in targets or any(p in needed for p in t._parents if isinstance(p, Tensor)):
            needed.add(t)
    return needed


def _check_saved(t: Tensor, i: int) -> None:
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


def input_grads(
    t: Tensor,
    g: Any,
    create_graph: bool,
    saved: Any = None,
    only: Collection[Tensor] | None = None,
) -> list[tuple[int, Tensor, Any]]:
    """One backward step: (position, input, ∂L/∂input) for each input of ``t`` that
    requires grad (and is in ``only``, when given), given ∂L/∂t = g.

    The op's rule gives the vector-Jacobian product; if the input was broadcast in the
    forward, the product is summed back to the input's shape here, once for every op.
    ``saved`` is the value the op's forward saved for this backward (see :class:`Op`).
    """
    parents = t._parents
    op = t._op
    rules = op.vjps
    variadic = type(rules) is EveryInput
    # () : no rule of this op reads a value (only shapes); and if no tensor anywhere has
    # changed in place since t was recorded, none of its saved values can have
    check = op.saves != () and t._recorded_at != changes[0]
    out, vals = (t, parents) if create_graph else (t.data, t._values)
    if saved is not None:
        vals = (*vals, saved)
    trace = tracing if create_graph and is_tracing() else None
    result = []
    for i, p in enumerate(parents):
        if isinstance(p, Tensor) and p.requires_grad and (only is None or p in only):
            rule = None if variadic else rules[i]
            if rule is None and not variadic:
                continue  # an input the op does not differentiate (where's condition)
            if check:
                _check_saved(t, i)
            if trace is not None:
                trace.begin_rule(_rule_note(op, i))
            gi = rules.rule(i, g, out, vals) if variadic else rule(g, out, *vals)
            if gi is None:  # a variadic rule: input i has no share (mg.jit's compiled VJP)
                if trace is not None:
                    trace.end_rule(gi, p)
                continue
            if gi.shape != p.data.shape:
                gi = ops.sum_to(gi, p.data.shape) if create_graph else sum_to_shape(gi, p.shape)
            if trace is not None:
                trace.end_rule(gi, p)
            result.append((i, p, gi))
    return result


def _rule_note(op: Op, i: int) -> str:
    """``op``'s derivative text for input ``i`` (a variadic op has one for all)."""
    texts = op.derivatives
    text = texts[i] if i < len(texts) else texts[0] if len(texts) == 1 else ""
    return f"{op.name}: {text}" if text else op.name


def backprop(
    root: Tensor,
    gradient: Any,
    create_graph: bool = False,
    targets: Sequence[Tensor] | None = None,
) -> dict[Tensor, Any]:
    """Propagate ``gradient`` = ∂L/∂root back through the graph.

    With ``targets`` (the functional API) the gradient reaching each target through
    every path is returned, keyed by tensor, and nothing is stored on leaves; only the
    part of the graph that leads to a target is visited. Otherwise every leaf that
    requires grad accumulates its gradient into ``.grad``, as in PyTorch.
    """
    trace = tracing if tracing is not None and is_tracing() else None
    if trace is not None and not create_graph:
        # a trace records every backward pass: the rules run on Tensors, as under
        # create_graph, but (as in an ordinary backward) their results require no grad
        with no_grad():
            return backprop(root, _as_tensor(gradient), True, targets)
    order = toposort(root)
    wanted = set(targets) if targets is not None else None
    only = _on_a_path_to(order, wanted) if wanted is not None else None
    use_saved = targets is None and not create_graph  # see _take_saved
    grads: dict[Tensor, Any] = {root: gradient}
    found: dict[Tensor, Any] = {}
    for t in reversed(order):
        g = grads.pop(t, None)
        if g is None or (only is not None and t not in only):
            continue
        if trace is not None:
            trace.gradient(g, t)
        if wanted is not None and t in wanted:
            found[t] = g
        if t._op is None:
            if targets is None:
                _accumulate_leaf(t, g, create_graph)
            continue
        saved = _take_saved(t) if use_saved and t._saved is not None else None
        for _, p, gp in input_grads(t, g, create_graph, saved, only):
            previous = grads.get(p)
            if previous is None:
                grads[p] = gp
                continue
            if trace is not None:
                trace.begin_rule("a tensor used several times: its gradients add up")
            grads[p] = previous + gp
            if trace is not None:
                trace.end_rule(grads[p], p)
        if saved is not None and t._op.release is not None:
            t._op.release(saved)
    return found


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
    if grad_output is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"grad: an output of shape {output.shape} needs grad_output (the v of vᵀ·J)"
            )
        grad_output = np.ones(output.shape, output.dtype)
        if is_tracing():
            constant(grad_output)  # the seed: a compiled program may fold it
    elif np.shape(_data_of(grad_output)) != output.shape:
        raise ShapeError(
            f"grad: grad_output has shape {np.shape(_data_of(grad_output))}, the output "
            f"has {output.shape}; they must match"
        )
    found = {}
    if output.requires_grad:
        if create_graph or (is_tracing() and isinstance(grad_output, Tensor)):
            v = _as_tensor(grad_output)  # the tensor itself: its graph (or trace) counts
        else:
            v = np.asarray(_data_of(grad_output))
        with enable_grad():
            found = backprop(output, v, create_graph, inputs)
    grads = []
    for x in inputs:
        g = found[x] if x in found else np.zeros(x.shape, x.dtype)
        if g.dtype != x.dtype and x.dtype.kind == "f":  # float32 inputs get float32
            g = ops.astype(g, x.dtype)
        grads.append(_as_tensor(g))
    return tuple(grads)


def _data_of(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


_take_lock = threading.Lock()


def _take_saved(t: Tensor) -> Any:
    """Take (and detach from the node) the value ``t``'s op saved for its backward.

    Only a plain ``backward()`` uses it: there the rules' results end in the leaves' own
    ``.grad`` copies, so nothing outside the engine still refers to the value once the
    pass is over (and no op is recorded during it, so it cannot be reused early). It is
    taken under a lock, so when two threads backpropagate one graph, one of them gets
    it and the other recomputes.
    """
    with _take_lock:
        saved, t._saved = t._saved, None
    return saved


_leaf_lock = threading.Lock()


def _accumulate_leaf(leaf: Tensor, g: Any, create_graph: bool) -> None:
    """Add ``g`` into ``leaf.grad``. Atomic: backward passes in several threads whose
    graphs share a leaf each add their whole contribution."""
    with _leaf_lock:
        if create_graph:  # out of place: g may be the caller's own gradient tensor
            if g.dtype != leaf.data.dtype:
                g = ops.astype(g, leaf.data.dtype)
            leaf.grad = g * 1 if leaf.grad is None else leaf.grad + g  # g·1 keeps −0.0
        elif leaf.grad is None:
            # an own, writable copy in the leaf's dtype: g may be a read-only broadcast
            # view or an array shared with another input
            leaf.grad = Tensor._make(np.array(g, dtype=leaf.data.dtype), False, None, ())
        elif leaf.grad.requires_grad:  # left by a create_graph pass: not into its graph
            leaf.grad = Tensor._make(leaf.grad.data + g, False, None, ())
        else:
            leaf.grad.data += g
            leaf.grad._bump_version()  # a graph may have saved the old .grad


# tensor.py and ops.py import this module; these names are only needed at call time
from minigrad.tensor import Tensor  # noqa: E402, I001
from minigrad import ops  # noqa: E402
from minigrad.ops import sum_to_shape  # noqa: E402
