"""See the computation graph, and watch backpropagation walk it step by step.

Two views of the graph a loss was computed with:

- :func:`to_dot` draws it as Graphviz DOT text: one node per tensor, with its value and
  gradient; :func:`render` turns that text into an SVG or PNG (with Graphviz installed)
  or saves the text itself as a ``.dot`` file (always).
- :func:`explain` traces the backward pass without running it: for every node, in the
  order the engine visits them, the gradient arriving from above, each input's local
  derivative in words, and the chain-rule product sent down to that input. It runs the
  engine's own loop, :func:`~minigrad.autograd.chain_rule`, so the order and the numbers
  are the engine's, and it leaves every ``.grad`` as it was.

>>> import minigrad as mg
>>> from minigrad.graph import explain, to_dot
>>> model = mg.nn.LinearRegression(1)
>>> X, y = mg.tensor([[1.0], [2.0], [3.0]]), mg.tensor([2.0, 4.0, 5.0])
>>> loss = mg.losses.mse(model(X), y)
>>> print(to_dot(loss, dict(model.named_parameters())).splitlines()[0])
digraph minigrad {
>>> trace = explain(loss, dict(model.named_parameters()))
>>> trace
Explanation(L = 15, 4 steps: mse#0 → linear#1 → weight, bias; print() it for the table)
>>> [step.node for step in trace.steps]
['mse#0', 'linear#1', 'weight', 'bias']
>>> print(trace.gradients["weight"].round(4), trace.gradients["bias"].round(4))
[-16.6667] -7.3333
>>> model.weight.grad is None   # explain() computes, it does not store
True
"""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.autograd import chain_rule, toposort
from minigrad.op import EveryInput, Op
from minigrad.tensor import Tensor

__all__ = [
    "Contribution",
    "Explanation",
    "GraphvizNotFound",
    "InputGradient",
    "Step",
    "explain",
    "render",
    "to_dot",
]

Params = Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]


# ---------------------------------------------------------------------------------------
# formatting helpers
# ---------------------------------------------------------------------------------------


def _num(x: Any) -> str:
    """One number, compactly: 4 significant digits, ints and bools as they are."""
    if isinstance(x, bool | np.bool_):
        return str(bool(x))
    if isinstance(x, int | np.integer):
        return str(int(x))
    try:
        s = f"{float(x):.4g}"
    except (TypeError, ValueError):
        return str(x)
    return "0" if s == "-0" else s


def _nested(x: Any) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v) for v in x) + "]"
    return _num(x)


def _fmt_array(a: Any, max_elements: int = 6) -> str:
    """Small arrays in full (``[1, 2.5]``), large ones as shape, min, max and mean."""
    a = np.asarray(a.data if isinstance(a, Tensor) else a)  # shown: the values
    if a.size == 0:
        return f"[] shape {a.shape}"
    if a.size <= max_elements:
        return _nested(a.tolist()) if a.ndim else _num(a.item())
    with np.errstate(all="ignore"):
        lo, hi, mean = a.min().item(), a.max().item(), a.mean().item()
    return f"shape {a.shape} min {_num(lo)} max {_num(hi)} mean {_num(mean)}"


def _fmt_const(x: Any, max_elements: int = 6) -> str:
    """A non-Tensor input of an op (a number, an array, an axis, a shape, an index...)."""
    if isinstance(x, np.ndarray | np.generic):
        return _fmt_array(x, max_elements)
    if isinstance(x, bool | int | float):
        return _num(x)
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _fmt_shape(t: Tensor) -> str:
    dtype = "" if t.dtype == np.float64 else f" {t.dtype}"
    return f"{t.shape}{dtype}"


def _grad_array(t: Tensor) -> np.ndarray | None:
    g = t.grad
    if g is None:
        return None
    return np.asarray(g.data if isinstance(g, Tensor) else g)


def _names_by_id(params: Params | None) -> dict[int, str]:
    """id(tensor) -> name; the first name wins when a tensor is listed twice."""
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"params[{name!r}] is a {type(t).__name__}, not a Tensor")
        names.setdefault(id(t), str(name))
    return names


def _rule(op: Op, i: int) -> Any:
    """The gradient rule of input ``i`` (None when the input is not differentiable)."""
    try:
        return op.vjps[i]
    except (IndexError, KeyError, TypeError):
        return None


def _signature(fn: Any, skip: int, n: int) -> tuple[tuple[str, ...], int] | None:
    """The names of ``fn``'s positional parameters after the first ``skip``, expanding
    ``*xs`` to ``xs[0], xs[1], ...`` so that there are ``n``, and how many came before
    ``*xs``; None if that fails."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    # a parameter with a default is a value the op saved for its rules, not an input
    fixed = [p.name for p in params if p.kind in positional and p.default is p.empty]
    var = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    if len(fixed) < skip:
        return None
    names = fixed[skip:]
    n_fixed = len(names)
    if var is not None and len(names) <= n:
        names += [f"{var}[{k}]" for k in range(n - len(names))]
    return (tuple(names), n_fixed) if len(names) == n else None


_OP_INPUTS: dict[tuple[Op, int], tuple[tuple[str, ...], tuple[bool, ...]]] = {}


def _op_inputs(op: Op, n: int) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """For an op applied to ``n`` inputs: their names, read from its gradient rules
    ``(g, out, a, b)`` or its forward (else ``arg0, arg1, ...``), and which of them are
    settings rather than data: inputs without a gradient rule (an axis, a shape, an
    index), and a variadic op's arguments before ``*xs``."""
    key = (op, n)
    if key in _OP_INPUTS:
        return _OP_INPUTS[key]
    names = None
    for i in range(n):
        rule = _rule(op, i)
        if rule is not None and (sig := _signature(rule, 2, n)):
            names = sig[0]
            break
    forward = _signature(op.forward, 0, n)
    if names is None:
        names = forward[0] if forward else tuple(f"arg{i}" for i in range(n))
    n_settings = forward[1] if isinstance(op.vjps, EveryInput) and forward else 0
    settings = tuple(i < n_settings or _rule(op, i) is None for i in range(n))
    _OP_INPUTS[key] = (names, settings)
    return names, settings


# ---------------------------------------------------------------------------------------
# DOT
# ---------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become ``\\n`` (centered line breaks)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return '"' + text.replace("\n", "\\n") + '"'


def _attrs(**attrs: str) -> str:
    return "[" + ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items()) + "]"


def to_dot(
    root: Tensor,
    params: Params | None = None,
    show_values: bool = True,
    show_grads: bool = True,
    max_elements: int = 6,
) -> str:
    """The computation graph that produced ``root``, as Graphviz DOT text.

    One node per tensor (shared subgraphs appear once). Leaves are boxes named from
    ``params`` (any tensors: ``dict(model.named_parameters())``, or inputs such as
    ``{"X": X}``); unnamed leaves are "input" when they require grad and "constant"
    otherwise. Op results are ellipses labelled with the op name and shape; the root
    has a double border. Each node shows its value and, when present, its ``.grad``:
    arrays of up to ``max_elements`` elements in full, larger ones as shape, min, max
    and mean. Edges run from each input to the op's result, labelled with the input's
    name when an op has several. Non-Tensor inputs (Python numbers, arrays) that the op
    could differentiate are small plain-text nodes; settings such as an axis, a shape
    or an index are written into the op's label. The graph is walked with an explicit
    stack, so graphs of any depth work.

    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> dot = to_dot((2.0 * w).sum(), {"w": w})
    >>> dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    True
    >>> print([line.strip() for line in dot.splitlines() if "->" in line])
    ['n1 -> n0', 'c0 -> n1 [label="a"]', 'n2 -> n1 [label="b"]']
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: root must be a Tensor, got {type(root).__name__}")
    names = _names_by_id(params)

    # every tensor reachable through inputs, each once (iterative: no recursion limit)
    ids: dict[int, str] = {id(root): "n0"}
    tensors = [root]
    stack = [root]
    while stack:
        t = stack.pop()
        if t._op is None:
            continue
        for p in t._parents:
            if isinstance(p, Tensor) and id(p) not in ids:
                ids[id(p)] = f"n{len(tensors)}"
                tensors.append(p)
                stack.append(p)

    nodes: list[str] = []
    edges: list[str] = []
    n_consts = 0
    for t in tensors:
        node = ids[id(t)]
        style: dict[str, str] = {}
        if t._op is None:
            name = names.get(id(t)) or ("input" if t.requires_grad else "constant")
            lines = [name, f"shape {_fmt_shape(t)}"]
            style.update(shape="box", style="filled")
            style["fillcolor"] = "lightblue" if t.requires_grad else "gray92"
        else:
            op, parents = t._op, t._parents
            arg_names, settings_at = _op_inputs(op, len(parents))
            drawn = [
                isinstance(p, Tensor) or (p is not None and not settings_at[i])
                for i, p in enumerate(parents)
            ]
            shown = sum(drawn)
            settings = []
            for i, p in enumerate(parents):
                edge_attrs = f" {_attrs(label=arg_names[i])}" if shown > 1 else ""
                if isinstance(p, Tensor):
                    edges.append(f"  {ids[id(p)]} -> {node}{edge_attrs}")
                elif drawn[i]:
                    const = f"c{n_consts}"
                    n_consts += 1
                    label = _fmt_const(p, max_elements)
                    nodes.append(
                        f"  {const} {_attrs(label=label, shape='plaintext', fontsize='9')}"
                    )
                    edges.append(f"  {const} -> {node}{edge_attrs}")
                else:
                    settings.append(f"{arg_names[i]}={_fmt_const(p, max_elements)}")
            title = op.name + (f" ({', '.join(settings)})" if settings else "")
            name = names.get(id(t))
            lines = [f"{name} = {title}" if name else title, f"shape {_fmt_shape(t)}"]
            style["shape"] = "ellipse"
        if show_values:
            lines.append("value " + _fmt_array(t.data, max_elements))
        grad = _grad_array(t) if show_grads else None
        if grad is not None:
            lines.append("grad " + _fmt_array(grad, max_elements))
        if t is root:
            style["peripheries"] = "2"
        nodes.append(f"  {node} " + _attrs(label="\n".join(lines), **style))

    header = [
        "digraph minigrad {",
        '  graph [rankdir="TB"]',
        '  node [fontname="Helvetica", fontsize="10"]',
        '  edge [fontname="Helvetica", fontsize="9"]',
    ]
    return "\n".join([*header, *nodes, *edges, "}"]) + "\n"


# ---------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------


class GraphvizNotFound(RuntimeError):
    """The Graphviz ``dot`` program is needed to render an image and is not on PATH."""


_INSTALL_HINT = (
    "Install Graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: "
    "`brew install graphviz`; conda: `conda install -c conda-forge graphviz`; Windows: "
    "https://graphviz.org/download/) so that `dot` is on PATH. Without it you can still "
    "save the text with render(dot, 'graph.dot') and paste it into any Graphviz viewer "
    "(e.g. https://dreampuf.github.io/GraphvizOnline)."
)


def render(
    dot: str, path: str | Path, format: str | None = None, timeout: float | None = None
) -> Path:
    """Write DOT text to ``path``: as an image rendered by Graphviz, or as the text itself.

    ``format`` defaults to the file's suffix (``graph.svg`` → ``"svg"``; ``"svg"`` when
    there is none). ``"dot"`` and ``"gv"`` write the text as is and need nothing
    installed; any other format (``svg``, ``png``, ``pdf``, ...) runs the Graphviz
    ``dot`` program, and raises :class:`GraphvizNotFound`, with how to install it, when
    ``dot`` is not on PATH. Returns the path written.

    >>> import os, tempfile
    >>> import minigrad as mg
    >>> w = mg.tensor(3.0, requires_grad=True)
    >>> out = render(to_dot(w * w), os.path.join(tempfile.mkdtemp(), "square.dot"))
    >>> out.read_text().startswith("digraph")
    True
    """
    if not isinstance(dot, str):
        raise TypeError(f"render: dot must be DOT text (a str, see to_dot), got {type(dot)}")
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if not re.fullmatch(r"[a-z0-9_:]+", fmt):
        raise ValueError(f"render: {fmt!r} is not a Graphviz output format")
    if fmt in ("dot", "gv"):
        path.write_text(dot, encoding="utf-8")
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(
            f"cannot render {str(path)!r} as {fmt}: the Graphviz `dot` program is not on "
            f"PATH. {_INSTALL_HINT}"
        )
    try:
        result = subprocess.run(
            [exe, f"-T{fmt}", "-o", str(path)],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Graphviz `dot` took longer than {timeout} s on {path}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(
            f"Graphviz `dot -T{fmt}` failed with exit status {result.returncode}: {message}"
        )
    return path


# ---------------------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------------------


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
