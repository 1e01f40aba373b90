"""The runnable examples in the public modules' docstrings run and print what they say.

(The engine modules autograd and ops are exercised through tensor's and the op table's tests.)
"""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "minigrad.tensor",
    "minigrad.functional",
    "minigrad.gradcheck",
    "minigrad.losses",
    "minigrad.formulas",
    "minigrad.nn",
    "minigrad.optim",
    "minigrad.train",
    "minigrad.convergence",
    "minigrad.regression",
    "minigrad.data",
    "minigrad.graph",
    "minigrad.testing",
    "minigrad.plot",
    "minigrad.plot.curves",
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
