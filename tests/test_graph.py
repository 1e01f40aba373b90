"""Tests for minigrad.graph: DOT export, rendering, and the step-by-step backward trace."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from minigrad import graph
from minigrad.autograd import toposort
from minigrad.graph import Explanation, GraphvizNotFound, explain, render, to_dot

# --------------------------------------------------------------------------- fixtures

# the notes' model: one feature, a few points; w and b chosen so that residuals have
# both signs, none is 0 (the kink of |r|) and Huber (δ = 1) uses both of its branches
X_DATA = np.array([[1.0], [2.0], [3.0], [4.0]])
Y_DATA = np.array([2.0, 4.0, 5.0, 4.5])
W0, B0 = 1.2, 0.3


def notes_model() -> tuple[mg.nn.LinearRegression, dict[str, mg.Tensor]]:
    model = mg.nn.LinearRegression(1)
    with mg.no_grad():
        model.weight.data[:] = W0
        model.bias.data[...] = B0
    return model, dict(model.named_parameters())


def hand_model() -> tuple[Any, dict[str, mg.Tensor]]:
    """The same model written out: ŷ = X @ w + b with w, b plain tensors."""
    w = mg.tensor([W0], requires_grad=True)
    b = mg.tensor(B0, requires_grad=True)
    return (lambda X: X @ w + b), {"weight": w, "bias": b}


MODELS = {"LinearRegression": notes_model, "hand-built": hand_model}
LOSSES = {
    "mse": mg.losses.mse,
    "l1_loss": mg.losses.l1_loss,
    "mae": mg.losses.mae,
    "l2_loss": mg.losses.l2_loss,
    "rmse": mg.losses.rmse,
    "huber": mg.losses.huber,
}


def make_loss(model_kind: str, loss_name: str) -> tuple[mg.Tensor, dict[str, mg.Tensor]]:
    model, params = MODELS[model_kind]()
    loss = LOSSES[loss_name](model(mg.tensor(X_DATA)), mg.tensor(Y_DATA))
    return loss, params


# --------------------------------------------------------------------------- explain


@pytest.mark.parametrize("model_kind", MODELS)
@pytest.mark.parametrize("loss_name", LOSSES)
def test_explain_matches_hand_derived_formulas_and_backward(
    model_kind: str, loss_name: str
) -> None:
    loss, params = make_loss(model_kind, loss_name)
    trace = explain(loss, params)
    assert set(trace.gradients) == {"weight", "bias"}
    assert trace.loss == pytest.approx(mg.formulas.LOSS_VALUES[loss_name](X_DATA, Y_DATA, W0, B0))

    # 1. the hand-derived gradients of the notes
    dw, db = mg.formulas.GRADIENTS[loss_name](X_DATA, Y_DATA, W0, B0)
    np.testing.assert_allclose(trace.gradients["weight"], dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.gradients["bias"], db, rtol=1e-12, atol=1e-12)

    # 2. what backward() then stores: the same numbers, shapes and dtypes, bit for bit
    loss.backward()
    for name, p in params.items():
        np.testing.assert_array_equal(trace.gradients[name], p.grad.numpy())
        assert trace.gradients[name].shape == p.shape
        assert trace.gradients[name].dtype == p.dtype

    # the trace ends with the leaves, whose step gradient is the final one
    leaf_steps = {s.node: s for s in trace.steps if s.is_leaf}
    assert set(leaf_steps) == {"weight", "bias"}
    for name, s in leaf_steps.items():
        np.testing.assert_array_equal(s.grad, trace.gradients[name])


def test_explain_mse_steps_for_the_notes_model() -> None:
    loss, params = make_loss("LinearRegression", "mse")
    trace = explain(loss, params)
    assert [(s.node, s.op) for s in trace.steps] == [
        ("mse#0", "mse"),
        ("linear#1", "linear"),
        ("weight", None),
        ("bias", None),
    ]
    root, lin = trace.steps[0], trace.steps[1]
    assert root.received == () and root.grad == 1.0  # the seed ∂L/∂L = 1
    (pred,) = root.inputs
    r = W0 * X_DATA[:, 0] + B0 - Y_DATA
    np.testing.assert_allclose(pred.contribution, 2 * r / len(r))  # ∂MSE/∂ŷ = 2r/N
    assert pred.derivative == mg.losses._mse.derivatives[0]
    assert (pred.position, pred.arg, pred.node) == (0, "pred", "linear#1")
    np.testing.assert_array_equal(lin.grad, pred.contribution)
    assert [(i.arg, i.node, i.position) for i in lin.inputs] == [
        ("weight", "weight", 1),
        ("bias", "bias", 2),
    ]
    assert [i.derivative for i in lin.inputs] == list(mg.ops.linear.derivatives[1:])


def test_explain_repr_is_one_line_however_big_the_arrays() -> None:
    X, y, _, _ = mg.data.make_linear(n=5_000, d=3, seed=0)
    model = mg.nn.LinearRegression(3)
    x = mg.tensor(X)
    loss = mg.losses.mse((model(x) - 1.0) * 2.0 + 0.5, y)
    trace = explain(loss, {**dict(model.named_parameters()), "x": x})
    text = repr(trace)
    assert "\n" not in text and len(text) < 160, text
    assert text.startswith(f"Explanation(L = {loss.item():.4g}, {len(trace.steps)} steps: mse#0")
    assert "→ …" in text and text.endswith("; print() it for the table)")
    assert all(len(repr(step)) < 80 for step in trace.steps)


def test_explain_leaves_grad_untouched() -> None:
    loss, params = make_loss("LinearRegression", "huber")
    explain(loss, params)
    assert all(p.grad is None for p in params.values())

    sentinel = {name: mg.tensor(np.full(p.shape, 7.0)) for name, p in params.items()}
    for name, p in params.items():
        p.grad = sentinel[name]
    trace = explain(loss, params)
    for name, p in params.items():
        assert p.grad is sentinel[name]
        np.testing.assert_array_equal(p.grad.numpy(), np.full(p.shape, 7.0))
    loss.backward()  # the engine then accumulates onto the old gradient, as usual
    for name, p in params.items():
        np.testing.assert_allclose(p.grad.numpy(), 7.0 + trace.gradients[name])


def test_explain_does_not_record_or_change_values() -> None:
    loss, params = make_loss("hand-built", "mae")
    before = {name: p.numpy().copy() for name, p in params.items()}
    nodes_before = len(toposort(loss))
    explain(loss, params)
    assert len(toposort(loss)) == nodes_before
    for name, p in params.items():
        np.testing.assert_array_equal(p.numpy(), before[name])


@pytest.mark.parametrize("loss_name", LOSSES)
def test_step_order_is_the_engines_reverse_topological_order(loss_name: str) -> None:
    loss, params = make_loss("hand-built", loss_name)
    trace = explain(loss, params)
    # the very order minigrad.autograd.backprop walks
    assert [s.tensor for s in trace.steps] == list(reversed(toposort(loss)))
    assert trace.steps[0].tensor is loss
    assert [s.index for s in trace.steps] == list(range(len(trace.steps)))
    position = {s.node: s.index for s in trace.steps}
    assert len(position) == len(trace.steps)  # node names are unique
    for s in trace.steps:
        for i in s.inputs:  # every input is visited after the node that uses it
            assert position[i.node] > s.index
        for c in s.received:  # and every consumer before it
            assert position[c.source] < s.index
        if s.is_leaf:
            assert s.inputs == ()


def test_accumulation_from_several_consumers() -> None:
    w = mg.tensor(3.0, requires_grad=True)
    trace = explain(w * w + 2.0 * w, {"w": w})  # d/dw (w² + 2w) = 2w + 2
    leaf = trace.steps[-1]
    assert leaf.node == "w"
    assert [(c.source, c.arg) for c in leaf.received] == [
        ("mul#1", "a"),
        ("mul#1", "b"),
        ("mul#2", "b"),
    ]
    assert [float(c.gradient) for c in leaf.received] == [3.0, 3.0, 2.0]
    assert float(leaf.grad) == float(trace.gradients["w"]) == 8.0
    assert "Σ ∂L/∂w = 3 (from mul#1 as a) + 3 (from mul#1 as b) + 2 (from mul#2 as b)" in str(trace)


def test_every_accumulated_gradient_is_the_sum_of_what_was_received() -> None:
    loss, params = make_loss("LinearRegression", "huber")  # r feeds abs, mul and mul
    trace = explain(loss, params)
    shared = [s for s in trace.steps if len(s.received) > 1]
    assert shared, "huber reuses the residual, which must accumulate"
    for s in trace.steps[1:]:
        total = sum(c.gradient for c in s.received)
        np.testing.assert_allclose(s.grad, np.broadcast_to(total, s.shape))


def test_explain_broadcast_and_unnamed_leaves() -> None:
    w = mg.tensor(np.ones((3, 2)), requires_grad=True)
    b = mg.tensor([0.5, -0.5], requires_grad=True)  # broadcast over the 3 rows
    loss = ((w * 2.0 + b) ** 2).mean()
    trace = explain(loss)  # no params: leaves get generated names
    names = [s.node for s in trace.steps if s.is_leaf]
    assert all(re.fullmatch(r"input#\d+", n) for n in names)
    loss.backward()
    by_tensor = {id(s.tensor): s for s in trace.steps}
    for t in (w, b):
        s = by_tensor[id(t)]
        assert s.grad.shape == t.shape  # the engine summed the broadcast axis away
        np.testing.assert_array_equal(trace.gradients[s.node], t.grad.numpy())


def test_explain_float32_and_a_one_element_loss() -> None:
    w = mg.tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    loss = (w * w).sum().reshape(1)  # shape (1,) is a scalar loss for backward() too
    trace = explain(loss, {"w": w})
    loss.backward()
    assert trace.gradients["w"].dtype == np.float32
    np.testing.assert_array_equal(trace.gradients["w"], w.grad.numpy())


def test_explain_rejects_what_backward_rejects() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        explain(w * 2.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain(mg.tensor(1.0) * 2.0)
    with pytest.raises(TypeError, match="Tensor"):
        explain(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a Tensor"):
        explain((w * w).sum(), {"w": [1.0, 2.0]})  # type: ignore[dict-item]


def test_explanation_str_and_markdown() -> None:
    loss, params = make_loss("LinearRegression", "mse")
    trace = explain(loss, params)
    assert isinstance(trace, Explanation)
    text = str(trace)
    lines = text.splitlines()
    assert lines[0].startswith("Backward pass of L = ")
    header = next(i for i, line in enumerate(lines) if line.startswith("step"))
    rule = lines[header + 1]
    assert set(rule) <= {"-", " "}
    # fixed width: every column starts where the header's does, in every row
    starts = [m.start() for m in re.finditer(r"-+", rule)]
    table = lines[header + 2 : header + 2 + len(trace.steps) + 1]  # linear has 2 rows
    for line in [lines[header], *table]:
        for start in starts[1:]:
            assert len(line) <= start or line[start - 2 : start] == "  ", line
    assert "∂mse/∂predᵢ = 2rᵢ/N" in text
    assert "backward() adds this to weight.grad" in text
    dw, db = mg.formulas.mse_gradients(X_DATA, Y_DATA, W0, B0)
    assert f"∂L/∂weight = [{dw[0]:.4g}]" in text
    assert f"∂L/∂bias = {db:.4g}" in text

    md = trace.to_markdown()
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert rows[0].startswith("| step | node |")
    assert re.fullmatch(r"\|(-*:?-+:?\|)+", rows[1])
    n_cols = rows[0].count("|")
    assert all(r.replace("\\|", "").count("|") == n_cols for r in rows)
    assert "`∂mse/∂predᵢ = 2rᵢ/N`" in md


def test_large_arrays_are_summarised() -> None:
    w = mg.tensor(np.linspace(-1.0, 1.0, 1000), requires_grad=True)
    trace = explain((w * w).sum(), {"w": w})
    text = str(trace)
    assert "shape (1000,) min" in text
    assert max(len(line) for line in text.splitlines()) < 300
    assert trace.gradients["w"].shape == (1000,)  # the structured data keeps everything


# --------------------------------------------------------------------------- a DOT checker

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<arrow>->|--)
      | (?P<punct>[{}\[\];,=])
      | (?P<id>[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
      | (?P<bad>.)""",
    re.X | re.S,
)


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], quoted[1:-1], flags=re.S)


def parse_dot(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict]]]:
    """A strict parser for the DOT subset to_dot writes; fails on anything malformed.

    Checks the ``digraph`` header, balanced braces and brackets, terminated quotes,
    unique node ids, and that every edge joins declared nodes. Returns the nodes (id →
    attributes, labels unescaped) and the edges (source, target, attributes).
    """
    tokens: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        assert kind != "bad", f"unexpected character {m[0]!r} at offset {m.start()}"
        if kind == "ws":
            continue
        value = _unescape(m[0]) if kind == "str" else m[0]
        tokens.append(("id" if kind == "str" else kind, value))
    pos = 0

    def peek() -> tuple[str, str]:
        return tokens[pos] if pos < len(tokens) else ("eof", "")

    def take(kind: str, value: str | None = None) -> str:
        nonlocal pos
        k, v = peek()
        assert k == kind and (value is None or v == value), f"expected {value or kind}, got {v!r}"
        pos += 1
        return v

    def attr_list() -> dict[str, str]:
        attrs: dict[str, str] = {}
        take("punct", "[")
        while peek() != ("punct", "]"):
            key = take("id")
            take("punct", "=")
            attrs[key] = take("id")
            if peek() in (("punct", ","), ("punct", ";")):
                take("punct")
        take("punct", "]")
        return attrs

    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict]] = []
    take("id", "digraph")
    if peek()[0] == "id":
        take("id")
    take("punct", "{")
    while peek() != ("punct", "}"):
        first = take("id")
        if first in ("graph", "node", "edge"):
            attr_list()
        elif peek() == ("arrow", "->"):
            take("arrow", "->")
            second = take("id")
            edges.append((first, second, attr_list() if peek() == ("punct", "[") else {}))
        elif peek() == ("punct", "="):
            take("punct", "=")
            take("id")
        else:
            assert first not in nodes, f"node id {first!r} declared twice"
            nodes[first] = attr_list() if peek() == ("punct", "[") else {}
        if peek() == ("punct", ";"):
            take("punct", ";")
    take("punct", "}")
    assert pos == len(tokens), "text after the closing brace"
    for a, b, _ in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} joins an undeclared node"
    return nodes, edges


def check_dot(dot: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict]]]:
    """parse_dot, plus Graphviz's own parser (``nop``, no layout) when it is installed."""
    nodes, edges = parse_dot(dot)
    exe = shutil.which("nop")
    if exe is not None:
        result = subprocess.run(
            [exe], input=dot.encode(), capture_output=True, check=False, timeout=120
        )
        assert result.returncode == 0, result.stderr.decode()
        assert not result.stderr, result.stderr.decode()
    return nodes, edges


def test_the_checker_rejects_malformed_dot() -> None:
    good = 'digraph g {\n  a [label="x"]\n  b\n  a -> b\n}\n'
    parse_dot(good)
    for bad in (
        good.replace("digraph", "graph"),
        good.rstrip().removesuffix("}"),
        good.replace('"x"', '"x'),
        good.replace("a -> b", "a -> c"),
        good.replace("  b\n", "  a\n"),
        good.replace("[label", "label"),
    ):
        with pytest.raises(AssertionError):
            parse_dot(bad)


# --------------------------------------------------------------------------- to_dot


def tensor_nodes(nodes: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {k: v for k, v in nodes.items() if k.startswith("n")}


def test_to_dot_of_the_notes_model() -> None:
    loss, params = make_loss("LinearRegression", "mse")
    loss.backward()
    nodes, edges = check_dot(to_dot(loss, params))
    labels = {k: v["label"].splitlines() for k, v in nodes.items()}
    by_title = {lines[0]: k for k, lines in labels.items()}
    assert sorted(lines[0] for lines in labels.values()) == [
        "bias",
        "constant",
        "constant",
        "linear",
        "mse",
        "weight",
    ]
    root = by_title["mse"]
    assert nodes[root]["shape"] == "ellipse" and nodes[root]["peripheries"] == "2"
    assert labels[root][1] == "shape ()"
    assert nodes[by_title["weight"]]["shape"] == "box"
    weight_label = labels[by_title["weight"]]
    assert weight_label[:2] == ["weight", "shape (1,)"]
    assert weight_label[2] == f"value [{W0:.4g}]"
    assert weight_label[3] == f"grad [{params['weight'].grad.numpy()[0]:.4g}]"
    constants = [k for k, lines in labels.items() if lines[0] == "constant"]  # X and y
    assert len(constants) == 2
    assert {(a, b) for a, b, _ in edges} == {
        (by_title["linear"], root),
        (by_title["weight"], by_title["linear"]),
        (by_title["bias"], by_title["linear"]),
        *((c, by_title["linear"]) for c in constants if "(4, 1)" in labels[c][1]),
        *((c, root) for c in constants if "(4,)" in labels[c][1]),
    }
    assert len(edges) == 5
    edge_labels = {nodes[a]["label"].split("\n")[0]: e.get("label") for a, b, e in edges}
    assert edge_labels["linear"] == "pred" and edge_labels["weight"] == "weight"


def test_to_dot_names_inputs_and_hides_values_on_request() -> None:
    X, y = mg.tensor(X_DATA), mg.tensor(Y_DATA)
    model, params = notes_model()
    loss = mg.losses.mse(model(X), y)
    nodes, _ = check_dot(to_dot(loss, {**params, "X": X, "y": y}))
    titles = sorted(v["label"].split("\n")[0] for v in nodes.values())
    assert titles == ["X", "bias", "linear", "mse", "weight", "y"]

    w = mg.tensor([1.0], requires_grad=True)
    nodes, _ = check_dot(to_dot((w * 3.0).sum()))  # unnamed leaf that requires grad
    assert any(v["label"].startswith("input\n") for v in nodes.values())

    loss.backward()
    bare = to_dot(loss, params, show_values=False, show_grads=False)
    assert "\\nvalue " not in bare and "\\ngrad " not in bare
    only_grads = to_dot(loss, params, show_values=False)
    assert "\\ngrad " in only_grads and "\\nvalue " not in only_grads


def test_to_dot_constants_shared_subgraphs_and_settings() -> None:
    loss, params = make_loss("LinearRegression", "huber")
    nodes, edges = check_dot(to_dot(loss, params))
    # Python numbers (0.5·r², δ·(|r| − ½δ)) are small plain-text nodes with an edge
    consts = {k: v for k, v in nodes.items() if k.startswith("c")}
    assert sorted(v["label"] for v in consts.values()) == ["0.5", "0.5", "1"]
    assert all(v["shape"] == "plaintext" for v in consts.values())
    assert all(any(a == c for a, _, _ in edges) for c in consts)
    # the residual is one node feeding three ops (a shared subgraph appears once)
    tnodes = tensor_nodes(nodes)
    fan_out = {k: sum(1 for a, _, _ in edges if a == k) for k in tnodes}
    assert max(fan_out.values()) == 3
    # + X, y and huber's mask |r| ≤ δ (a boolean tensor): they need no gradient
    assert len(tnodes) == len(toposort(loss)) + 3
    # settings that are not differentiable inputs go into the op's label
    titles = [v["label"].split("\n")[0] for v in tnodes.values()]
    assert "mean (axis=None, keepdims=False)" in titles
    assert "where" in titles  # its condition, a boolean tensor, is a node of its own
    assert "constant" in titles


def test_to_dot_many_ops_and_constant_kinds() -> None:
    w = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    parts = [
        w[0, 1:],
        w[np.array([0, 1, 1]), np.array([0, 2, 2])],
        mg.concatenate([w, w * np.array([1.0, 2.0, 3.0])], axis=0).max(axis=0),
        mg.where(w.data > 2, w, -w).sum(axis=1),
        w.T.reshape(-1).clip(1.0, None),
        mg.stack([w.exp(), w.tanh()], axis=-1).mean(axis=(0, 2)),
    ]
    loss = sum(p.sum() for p in parts)
    nodes, _ = check_dot(to_dot(loss, {"w": w}, max_elements=3))
    assert len(tensor_nodes(nodes)) == len(toposort(loss))
    labels = " ".join(v["label"] for v in nodes.values())
    assert "shape (2, 3) min 0 max 5 mean 2.5" in labels  # w's value, summarised
    assert "concatenate (axis=0, offsets=(0, 2, 4))" in labels
    assert "[1, 2, 3]" in labels  # the ndarray constant of w * [1, 2, 3]
    assert "getitem (index=(array([0, 1, 1]), array([0, 2, 2])))" in labels
    assert "clip (hi=None)" in labels  # lo is a constant node: bounds are differentiable


def test_to_dot_escapes_labels() -> None:
    w = mg.tensor([1.0], requires_grad=True)
    name = 'we"ird\\name\nwith {braces} [brackets] <html> | and ; -> arrows \\n'
    nodes, _ = check_dot(to_dot((w * 2.0).sum(), {name: w}))
    leaf = next(v for v in nodes.values() if v.get("shape") == "box")
    assert leaf["label"].startswith(name + "\n")


def test_to_dot_of_a_leaf_and_of_a_detached_result() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    nodes, edges = check_dot(to_dot(w, {"w": w}))
    assert len(nodes) == 1 and edges == []
    with mg.no_grad():
        d = w * 2.0
    nodes, edges = check_dot(to_dot(d))
    assert len(nodes) == 1 and edges == []
    with pytest.raises(TypeError, match="Tensor"):
        to_dot(np.ones(2))  # type: ignore[arg-type]


def test_a_2000_op_chain() -> None:
    w = mg.tensor([0.5, -0.25], requires_grad=True)
    x = w
    for k in range(2000):
        x = x * 1.0001 if k % 2 else x + 0.001
    loss = (x * x).sum()

    nodes, edges = check_dot(to_dot(loss, {"w": w}))
    assert len(tensor_nodes(nodes)) == 2003  # w, 2000 ops, x * x, sum
    assert len(edges) == 2000 * 2 + 2 + 1  # each op: the chain and its constant

    trace = explain(loss, {"w": w})
    assert len(trace.steps) == 2003
    assert len(str(trace).splitlines()) > 2003
    loss.backward()
    np.testing.assert_array_equal(trace.gradients["w"], w.grad.numpy())


# --------------------------------------------------------------------------- render


def test_render_dot_text_needs_no_graphviz(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    loss, params = make_loss("LinearRegression", "mse")
    dot = to_dot(loss, params)
    for name in ("graph.dot", "graph.gv"):
        out = render(dot, tmp_path / name)
        assert out == tmp_path / name
        assert out.read_text(encoding="utf-8") == dot
    out = render(dot, tmp_path / "graph.txt", format="dot")
    assert out.read_text(encoding="utf-8") == dot


def test_render_without_graphviz_explains_how_to_get_it(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    dot = to_dot(mg.tensor(1.0, requires_grad=True) * 2.0)
    with pytest.raises(GraphvizNotFound) as info:
        render(dot, tmp_path / "graph.svg")
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", ".dot", "viewer"):
        assert hint in message
    assert not (tmp_path / "graph.svg").exists()


def test_render_svg_on_this_machine(tmp_path: Path) -> None:
    loss, params = make_loss("LinearRegression", "huber")
    dot = to_dot(loss, params)
    target = tmp_path / "graph.svg"
    if shutil.which("dot") is None:
        with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
            render(dot, target)
    else:
        assert render(dot, target) == target
        svg = target.read_text(encoding="utf-8")
        assert "<svg" in svg and "weight" in svg
        png = render(dot, tmp_path / "graph", format="png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
def test_render_reports_graphviz_errors(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="failed"):
        render("digraph { a -> }", tmp_path / "broken.svg")


def test_render_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        render("digraph {}", tmp_path / "graph.svg", format="svg; rm -rf /")
    with pytest.raises(TypeError, match="DOT text"):
        render(mg.tensor(1.0), tmp_path / "graph.dot")  # type: ignore[arg-type]


def test_pydot_parses_the_output_when_installed() -> None:
    pydot = pytest.importorskip("pydot")
    loss, params = make_loss("LinearRegression", "huber")
    (parsed,) = pydot.graph_from_dot_data(to_dot(loss, params))
    assert len(parsed.get_edges()) > 0
