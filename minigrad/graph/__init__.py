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

One job per module: :mod:`~minigrad.graph.dot` (``to_dot``), :mod:`~minigrad.graph.image`
(``render``), :mod:`~minigrad.graph.derivation` (``explain``) and
:mod:`~minigrad.graph.describe` (how both views put numbers and ops into words).
"""

from __future__ import annotations

import shutil  # noqa: F401  (tests stub Graphviz out through minigrad.graph.shutil.which)

from minigrad.graph.derivation import Contribution, Explanation, InputGradient, Step, explain
from minigrad.graph.dot import to_dot
from minigrad.graph.image import GraphvizNotFound, render

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
