"""How autograd derived ∂L/∂w and ∂L/∂b: the computation graph and the backward pass.

The forward pass records each op (linear: ŷ = x·w + b, then mse); the backward pass
visits them in reverse, multiplying each upstream gradient by the op's local
derivative (the chain rule) until it reaches the parameters. The result equals the
hand-derived ∂MSE/∂w = (2/N)·Σ(ŷ − y)·x and ∂MSE/∂b = (2/N)·Σ(ŷ − y).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import graph
from minigrad.demos._common import cars, main_for
from minigrad.io import save_text


def run(out: Path, quick: bool = False) -> list[Path]:
    X, y = cars()
    X, y = X[:4], y[:4]  # four cars keep every number on screen
    model = mg.nn.LinearRegression(1)
    inputs = mg.Tensor(X)
    params = {**dict(model.named_parameters()), "x (car weight, 1000 lbs)": inputs}
    loss = mg.losses.mse(model(inputs), y)
    explanation = graph.explain(loss, params)
    print(explanation)
    hand_w, hand_b = mg.formulas.mse_gradients(X, y, model.w, model.b)
    print(f"hand-derived: ∂L/∂w = {hand_w[0]:.6g}, ∂L/∂b = {hand_b:.6g}")
    assert np.allclose(explanation.gradients["weight"], hand_w)
    assert np.allclose(explanation.gradients["bias"], hand_b)
    loss.backward()  # so the drawing shows the gradients too
    dot = graph.to_dot(loss, params)
    paths = [out / "graph.dot", out / "graph_explain.md"]
    graph.render(dot, paths[0])
    save_text(paths[1], explanation.to_markdown())
    try:
        png = out / "graph.png"
        graph.render(dot, png)
        paths.append(png)
    except graph.GraphvizNotFound as err:
        print(f"(no picture: {err})")
    return paths


main = main_for("graph", run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
