"""The suite must run with the test extra alone (CI's second venv): a test module may
import at its top only the standard library, NumPy, the test extra and minigrad's core.
Optional libraries (PyTorch, matplotlib, tqdm, Jupyter) are imported inside the tests that
need them, through pytest.importorskip, so their absence skips those tests instead of
failing the whole module's collection."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# the test extra, minigrad and the repository's own code beside the tests
ALLOWED = {"numpy", "pytest", "hypothesis", "pandas", "minigrad", "helpers", "benchmarks"}
ALLOWED |= {"tests", "hips_suite", "op_table", "jit_programs"}
# minigrad modules that import an optional library when they are imported
OPTIONAL_MINIGRAD = ("minigrad.plot", "minigrad.notebook")


def top_level_imports(path: Path) -> list[tuple[int, str]]:
    """The modules a file imports unconditionally: at its top, outside try blocks, and
    before any module-level pytest.importorskip (which skips the whole module)."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if "importorskip" in ast.unparse(node):
            break
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_a_test_module_imports_only_what_the_test_extra_installs(path):
    bad = []
    for line, module in top_level_imports(path):
        root = module.split(".")[0]
        optional = module.startswith(OPTIONAL_MINIGRAD)
        if optional or (root not in ALLOWED and root not in sys.stdlib_module_names):
            bad.append(f"{path.name}:{line} imports {module}")
    assert not bad, "use pytest.importorskip inside the test instead:\n" + "\n".join(bad)


def test_the_check_sees_an_unguarded_import(tmp_path):
    module = tmp_path / "test_x.py"
    module.write_text("import numpy\ntry:\n    import torch\nexcept ImportError:\n    pass\n")
    assert [m for _, m in top_level_imports(module)] == ["numpy"]
    module.write_text("import numpy as np\nimport torch\nfrom minigrad.plot import fit_line\n")
    assert [m for _, m in top_level_imports(module)] == ["numpy", "torch", "minigrad.plot"]
    module.write_text("import numpy\nimport pytest\npytest.importorskip('torch')\nimport torch\n")
    assert [m for _, m in top_level_imports(module)] == ["numpy", "pytest"]


def test_no_test_skips_on_a_minigrad_module():
    """minigrad.plot raises ImportError (with install advice) without matplotlib, and
    pytest.importorskip skips only on ModuleNotFoundError: skip on the library itself."""
    offenders = [
        path.name
        for path in TESTS.glob("*.py")
        if 'importorskip("minigrad' in path.read_text() and path != Path(__file__)
    ]
    assert not offenders
