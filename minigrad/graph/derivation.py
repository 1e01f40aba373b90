"""explain: backpropagation traced step by step, by the engine's own loop, in words and numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minigrad.autograd import chain_rule, toposort
from minigrad.graph.describe import Params, _fmt_array, _names_by_id, _num, _op_inputs
from minigrad.tensor import Tensor


@dataclass(frozen=True, eq=False)
class InputGradient:
    """One input's share of a backward step: ∂L/∂input through this op.

    ``contribution`` = (upstream gradient) · (local derivative), computed by the op's
    gradient rule and summed back to the input's shape by the engine.
    """

    position: int  #: index of the input among the op's arguments
    arg: str  #: the argument's name in the op's rule (``a``, ``pred``, ``weight``...)
    node: str  #: the input node's name (see :attr:`Step.node`)
    shape: tuple[int, ...]
    derivative: str  #: the local derivative in words, ``op.derivatives[position]``
    contribution: np.ndarray


@dataclass(frozen=True, eq=False)
class Contribution:
    """A gradient a node received from one of its consumers (one of several, summed)."""

    source: str  #: the consuming node
    arg: str  #: which of its arguments this node was
    gradient: np.ndarray


@dataclass(frozen=True, eq=False)
class Step:
    """One node of the backward pass, in the order the engine visits it.

    ``node`` is the name from ``params`` or ``"<op>#<step>"`` (``"input#<step>"`` for
    unnamed leaves). ``grad`` is ∂L/∂node, the sum of ``received`` when the node feeds
    several consumers (empty for the root, whose gradient is the seed 1). Leaves have
    ``op`` None and no ``inputs``; their ``grad`` is what ``backward()`` would add to
    their ``.grad``. ``value`` is the node's forward value (a copy, for leaves, so an
    optimizer step afterwards does not change the record).
    """

    index: int
    node: str
    op: str | None
    shape: tuple[int, ...]
    value: np.ndarray
    grad: np.ndarray
    received: tuple[Contribution, ...]
    inputs: tuple[InputGradient, ...]
    tensor: Tensor = field(repr=False)

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    def __repr__(self) -> str:
        return f"Step({self.index}: {self.node}, {self.op or 'leaf'}, shape {self.shape})"


_STEPS_SHOWN = 4
"""Op and leaf names an Explanation's repr lists before it elides the rest."""


@dataclass(eq=False, repr=False)
class Explanation:
    """The trace returned by :func:`explain`: ``steps`` in the engine's order and the
    final ``gradients`` of the leaves by name. ``str()`` is a fixed-width table;
    :meth:`to_markdown` the same as a Markdown table; ``repr()`` one line (a notebook
    cell ending in ``explain(...)`` shows that, not every array)."""

    steps: list[Step]
    gradients: dict[str, np.ndarray]
    loss: float = float("nan")
    max_elements: int = field(default=6, repr=False)

    _COLUMNS = (
        "step",
        "node",
        "op",
        "shape",
        "∂L/∂node",
        "input",
        "local derivative",
        "∂L/∂input (chain rule)",
    )

    def __repr__(self) -> str:
        leaves = [s.node for s in self.steps if s.is_leaf]
        inner = [s.node for s in self.steps if not s.is_leaf]
        shown = " → ".join(inner[:_STEPS_SHOWN]) + (" → …" if len(inner) > _STEPS_SHOWN else "")
        ends = ", ".join(leaves[:_STEPS_SHOWN]) + (", …" if len(leaves) > _STEPS_SHOWN else "")
        return (
            f"Explanation(L = {_num(self.loss)}, {len(self.steps)} steps: "
            f"{' → '.join(filter(None, [shown, ends]))}; print() it for the table)"
        )

    def _header(self) -> str:
        return (
            f"Backward pass of L = {_num(self.loss)}: {len(self.steps)} steps in the "
            "engine's order (each node after every node that uses it)"
        )

    def _rows(self, m: int) -> list[tuple[list[str], list[str], str]]:
        """Per step: (first row, further rows, accumulation note)."""
        out = []
        for s in self.steps:
            upstream = _fmt_array(s.grad, m) + ("  (seed)" if not s.received else "")
            head = [str(s.index), s.node, s.op or "leaf", str(s.shape), upstream]
            if s.is_leaf:
                rows = [[*head, "", f"backward() adds this to {s.node}.grad", ""]]
            else:
                rows = [
                    [
                        *(head if k == 0 else [""] * 5),
                        i.node if i.arg == i.node else f"{i.arg} = {i.node}",
                        i.derivative,
                        _fmt_array(i.contribution, m),
                    ]
                    for k, i in enumerate(s.inputs)
                ] or [[*head, "", "(no input needs a gradient)", ""]]
            note = ""
            if len(s.received) > 1:
                terms = " + ".join(
                    f"{_fmt_array(c.gradient, m)} (from {c.source} as {c.arg})" for c in s.received
                )
                note = f"Σ ∂L/∂{s.node} = {terms}"
            out.append((rows[0], rows[1:], note))
        return out

    def _gradient_lines(self, m: int) -> list[str]:
        return [f"∂L/∂{name} = {_fmt_array(g, m)}" for name, g in self.gradients.items()]

    def __str__(self) -> str:
        m = self.max_elements
        blocks = self._rows(m)
        table = [list(self._COLUMNS)] + [r for first, rest, _ in blocks for r in [first, *rest]]
        widths = [max(len(r[c]) for r in table) for c in range(len(self._COLUMNS))]

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        lines = [self._header(), "", line(list(self._COLUMNS))]
        lines.append("  ".join("-" * w for w in widths))
        indent = " " * (widths[0] + 2)
        for first, rest, note in blocks:
            lines += [line(first), *(line(r) for r in rest)]
            if note:
                lines.append(indent + note)
        lines += ["", "gradients:", *("  " + g for g in self._gradient_lines(m))]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The trace as a Markdown table (GitHub flavour), then the final gradients."""
        m = self.max_elements

        def cell(text: str, code: bool = True) -> str:
            text = text.replace("|", "\\|").replace("`", "'")
            return f"`{text}`" if code and text else text

        lines = [
            self._header() + ".",
            "",
            "| " + " | ".join(self._COLUMNS) + " |",
            "|" + "|".join("---:" if c == "step" else "---" for c in self._COLUMNS) + "|",
        ]
        for first, rest, note in self._rows(m):
            for r in [first, *rest]:
                cells = [cell(r[0], False), *(cell(c) for c in r[1:])]
                lines.append("| " + " | ".join(cells) + " |")
            if note:
                blank = [""] * (len(self._COLUMNS) - 2)
                lines.append("| | " + " | ".join([cell(note), *blank]) + " |")
        lines += ["", *(f"- {cell(g)}" for g in self._gradient_lines(m))]
        return "\n".join(lines) + "\n"


def explain(loss: Tensor, params: Params | None = None) -> Explanation:
    """Trace the backward pass of a scalar ``loss`` step by step, without running it.

    Visits the graph exactly as ``loss.backward()`` does — it runs the engine's own
    loop, :func:`~minigrad.autograd.chain_rule` — but records each step instead of
    storing gradients: no ``.grad`` anywhere is read or changed. Nodes are named from
    ``params`` (e.g. ``dict(model.named_parameters())``), otherwise ``"<op>#<step>"`` /
    ``"input#<step>"``. ``Explanation.gradients`` holds, for each leaf that requires grad, what
    ``backward()`` would add to its ``.grad`` (same values, same dtype).

    >>> import minigrad as mg
    >>> w = mg.tensor(3.0, requires_grad=True)
    >>> trace = explain(w * w + 2.0 * w, {"w": w})   # ∂/∂w (w² + 2w) = 2w + 2 = 8
    >>> float(trace.gradients["w"])
    8.0
    >>> [(c.source, c.arg, float(c.gradient)) for c in trace.steps[-1].received]
    [('mul#1', 'a', 3.0), ('mul#1', 'b', 3.0), ('mul#2', 'b', 2.0)]
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain: loss must be a Tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise RuntimeError(
            "explain: the loss does not require grad, so there is no backward pass to "
            "trace (no input had requires_grad=True, or it was computed under no_grad())"
        )
    if loss.data.size != 1:
        raise ValueError(
            f"explain: the loss must be a scalar (one element), got shape {loss.shape}; "
            "reduce it with .sum() or .mean() first"
        )
    names = _names_by_id(params)
    visit = list(reversed(toposort(loss)))  # the order of minigrad.autograd.chain_rule
    label: dict[int, str] = {}
    index: dict[int, int] = {}
    for k, t in enumerate(visit):
        default = f"input#{k}" if t._op is None else f"{t._op.name}#{k}"
        label[id(t)], index[id(t)] = names.get(id(t)) or default, k

    # the seed, as Tensor.backward() makes it
    seed = np.ones(loss.shape, loss.dtype) if loss.ndim else np.array(1, loss.dtype)
    received: dict[int, list[Contribution]] = {}
    steps: list[Step] = []
    gradients: dict[str, np.ndarray] = {}
    for t, g, sent in chain_rule(loss, seed):  # the engine's own loop, step by step
        inputs: list[InputGradient] = []
        if t._op is None:
            g = np.array(g, dtype=t.data.dtype)  # what backward() stores in .grad
            gradients[label[id(t)]] = g
        else:
            op = t._op
            arg_names = _op_inputs(op, len(t._parents))[0]
            for i, p, gp in sent:
                text = op.derivative(i) or "(no description)"
                inputs.append(InputGradient(i, arg_names[i], label[id(p)], p.shape, text, gp))
                received.setdefault(id(p), []).append(Contribution(label[id(t)], arg_names[i], gp))
        steps.append(
            Step(
                index=index[id(t)],
                node=label[id(t)],
                op=None if t._op is None else t._op.name,
                shape=t.shape,
                value=t.data.copy() if t._op is None else t.data,  # leaves may be updated
                grad=np.array(g),
                received=tuple(received.pop(id(t), ())),
                inputs=tuple(inputs),
                tensor=t,
            )
        )
    return Explanation(steps, gradients, float(loss.data.reshape(())))
