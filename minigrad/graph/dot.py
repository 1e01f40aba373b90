"""The computation graph as Graphviz DOT text: one node per tensor, with its value and gradient."""

from __future__ import annotations

from minigrad.graph.describe import (
    Params,
    _fmt_array,
    _fmt_const,
    _fmt_shape,
    _grad_array,
    _names_by_id,
    _op_inputs,
)
from minigrad.tensor import Tensor


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
