"""The package's shape, as the README's "Development" section states it: every layer
imports only the layers below it, the compiler never reaches the modules, losses or
trainer it compiles, the core imports nothing optional, no module is over 600 lines, and
the engine reads in one sitting.

The imports are read from the source (every ``import`` statement, at module level or
inside a function), so a lazy import that climbs a layer is caught too.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad import autograd

PACKAGE = Path(minigrad.__file__).parent

LAYERS: dict[str, int] = {
    # 0: leaves that know nothing of tensors (datasets: the shipped CSV files)
    **dict.fromkeys(
        ("grad_mode", "tracing", "io", "random", "formulas", "convergence", "datasets"), 0
    ),
    # 1: the core (Tensor, recording, ops, the backward engine, NumPy dispatch); its
    # modules import one another at call time, so they count as one layer
    **dict.fromkeys(
        ("tensor", "op", "ops", "autograd", "methods", "numpy_api", "keywords", "creation"), 1
    ),
    "linalg": 1,
    # 2: built on the core alone: transforms, gradient checks, the compiler, optimizers,
    # data handling, metrics, test strategies
    **dict.fromkeys(("functional", "gradcheck", "testing", "metrics", "jit", "optim", "data"), 2),
    # 3: what a model is made of
    **dict.fromkeys(("losses", "nn", "utils"), 3),
    # 4: training, and the pictures of a graph
    **dict.fromkeys(("train", "graph"), 4),
    # 5: the learning stack's front ends
    **dict.fromkeys(("regression", "plot"), 5),
    # 6: the command line, and the package's own __init__ that re-exports everything
    **dict.fromkeys(("cli_parser", "cli", "__main__", "minigrad"), 6),
}

CORE_LAYER = 1
OPTIONAL = {"matplotlib", "tqdm", "torch", "pandas", "IPython", "ipywidgets", "pydot", "sklearn"}


def unit(module: str) -> str:
    """The layer unit of a dotted module name: ``minigrad.ops.shape`` → ``ops``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str) -> set[str]:
    """Every module name an ``import`` in ``source`` reaches (relative imports resolved
    against ``module``; ``from minigrad import nn`` counts as importing minigrad.nn)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "minigrad":  # the names are its modules, not the whole package
                found |= {f"minigrad.{alias.name}" for alias in node.names}
            else:
                found.add(base)
    return found


def sources() -> dict[str, str]:
    return {module_name(p): p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


def upward_imports(modules: dict[str, str]) -> list[str]:
    """Each import of a minigrad module in a higher layer than its importer, as text."""
    wrong = []
    for module, source in modules.items():
        here = LAYERS[unit(module)]
        for target in imports_of(source, module):
            if target.startswith("minigrad") and LAYERS.get(unit(target), -1) > here:
                wrong.append(f"{module} (layer {here}) imports {target}")
    return sorted(wrong)


def test_every_module_has_a_layer():
    missing = {unit(m) for m in sources()} - set(LAYERS)
    assert not missing, f"give these a layer in LAYERS: {sorted(missing)}"


def test_every_layer_imports_only_the_ones_below_it():
    assert upward_imports(sources()) == []


def test_the_compiler_never_imports_nn_losses_or_train():
    reached = {
        unit(target)
        for module, source in sources().items()
        if unit(module) == "jit"
        for target in imports_of(source, module)
        if target.startswith("minigrad")
    }
    assert not reached & {"nn", "losses", "train", "data", "plot", "regression", "cli"}


def test_the_core_imports_nothing_optional():
    for module, source in sources().items():
        if LAYERS[unit(module)] <= CORE_LAYER:
            roots = {name.split(".")[0] for name in imports_of(source, module)}
            assert not roots & OPTIONAL, f"{module} imports {sorted(roots & OPTIONAL)}"


def test_the_check_sees_an_upward_import_even_inside_a_function():
    """The checker itself: a core module importing the trainer lazily is reported, and
    a relative import is resolved before it is judged."""
    fake = {
        "minigrad.ops.fake": "def f():\n    from minigrad.train import fit\n    return fit\n",
        "minigrad.jit.fake": "from ..nn import Module\n",
        "minigrad.train.fake": "from minigrad import ops\nimport numpy\n",
    }
    assert upward_imports(fake) == [
        "minigrad.jit.fake (layer 2) imports minigrad.nn",
        "minigrad.ops.fake (layer 1) imports minigrad.train",
    ]


def test_no_module_is_over_600_lines():
    long = {m: s.count("\n") for m, s in sources().items() if s.count("\n") > 600}
    assert not long


def test_the_engine_reads_in_one_sitting():
    """tensor + autograd within 700 lines, and the chain-rule loop within 60."""
    lines = sum(
        Path(inspect.getfile(module)).read_text(encoding="utf-8").count("\n")
        for module in (sys.modules["minigrad.tensor"], autograd)  # mg.tensor is the function
    )
    assert lines <= 700
    loop, _ = inspect.getsourcelines(autograd.chain_rule)
    assert len(loop) <= 60


@pytest.mark.parametrize("module", ["minigrad.tensor", "minigrad.autograd", "minigrad.op"])
def test_importing_the_core_loads_no_upper_layer(module):
    """At run time too: a fresh interpreter that imports one core module, with the
    package's own __init__ (which re-exports everything) left out, loads no module of a
    layer above the core."""
    loaded = subprocess.run(
        [sys.executable, "-c", _bare_import(module)], capture_output=True, text=True, check=True
    ).stdout.split()
    upper = sorted(u for u in loaded if LAYERS.get(u, 0) > CORE_LAYER)
    assert "tensor" in loaded
    assert upper == []


def _bare_import(module: str) -> str:
    """Source that imports ``module`` under an empty stand-in for the minigrad package
    and prints the layer units loaded."""
    return (
        "import sys, types, importlib\n"
        f"pkg = types.ModuleType('minigrad'); pkg.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['minigrad'] = pkg\n"
        f"importlib.import_module({module!r})\n"
        "print(*sorted({m.split('.')[1] for m in sys.modules if m.startswith('minigrad.')}))\n"
    )
