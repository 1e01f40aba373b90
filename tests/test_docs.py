"""The runnable examples in the public modules' docstrings run and print what they say.

(The engine modules autograd and ops are exercised through tensor's and the op table's tests.)
"""

from __future__ import annotations

import doctest
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = [
    "minigrad.tensor",
    "minigrad.functional",
    "minigrad.gradcheck",
    "minigrad.losses",
    "minigrad.formulas",
    "minigrad.random",
    "minigrad.creation",
    "minigrad.nn",
    "minigrad.nn.module",
    "minigrad.nn.linear",
    "minigrad.nn.layers",
    "minigrad.nn.containers",
    "minigrad.nn.utils",
    "minigrad.nn.activations",
    "minigrad.nn.normalization",
    "minigrad.nn.loss",
    "minigrad.nn.init",
    "minigrad.keywords",
    "minigrad.optim",
    "minigrad.optim.optimizer",
    "minigrad.optim.lr_scheduler",
    "minigrad.train",
    "minigrad.train.fit",
    "minigrad.metrics",
    "minigrad.convergence",
    "minigrad.regression",
    "minigrad.io",
    "minigrad.data",
    "minigrad.data.batching",
    "minigrad.data.scaling",
    "minigrad.data.catalog",
    "minigrad.data.synthetic",
    "minigrad.graph",
    "minigrad.graph.dot",
    "minigrad.graph.image",
    "minigrad.graph.derivation",
    "minigrad.testing",
    "minigrad.ops.decompositions",
    "minigrad.ops.norms",
    "minigrad.plot",
    "minigrad.plot.curves",
    "minigrad.ops.ordering",
    "minigrad.ops.misc",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    if name.startswith("minigrad.plot"):
        pytest.importorskip("matplotlib")
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0, f"{name} has no examples to run"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_make_figures_leaves_a_figure_it_cannot_render_alone(tmp_path) -> None:
    """Without Graphviz the graph demo draws no graph.png: the committed one stays as it
    is (it used to be re-saved all the same), while the figures made are shrunk."""
    pytest.importorskip("matplotlib")
    Image = pytest.importorskip("PIL.Image")
    committed = b"\x89PNG\r\n\x1a\n the committed picture"
    (tmp_path / "graph.png").write_bytes(committed)
    script = Path(__file__).resolve().parent.parent / "docs" / "make_figures.py"
    env = {**os.environ, "PATH": str(tmp_path / "no-graphviz-here")}
    result = subprocess.run(
        [sys.executable, str(script), "--only", "graph,loss_table", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "graph.png").read_bytes() == committed
    assert f"left {tmp_path / 'graph.png'} as it was" in result.stdout
    with Image.open(tmp_path / "loss_table.png") as image:
        assert image.mode == "P"  # written this time, and palette-quantized
