"""Every ```python block of README.md runs as written, in a fresh process, from an empty
folder: what a newcomer pasting it would get. Signatures and pseudo-code belong in
```text blocks; every fence names one of LANGUAGES, so no block slips past untested.

A block that needs an optional library (matplotlib, tqdm, ...) that is not installed
is skipped, not failed, so the test extra alone passes too.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
LANGUAGES = {"python", "bash", "text"}
FENCE = re.compile(r"^```(.*)$")


def blocks(text: str) -> list[tuple[int, str, str]]:
    """``(first line number, language, code)`` of every fenced block."""
    found, language, start, lines = [], None, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence and language is None:
            language, start, lines = fence.group(1).strip(), number, []
        elif fence and not fence.group(1).strip():
            found.append((start, language, "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
    assert language is None, f"README.md:{start}: a code block is never closed"
    return found


ALL = blocks(README.read_text(encoding="utf-8"))
PYTHON = [(start, code) for start, language, code in ALL if language == "python"]


def test_blocks_are_found_and_every_fence_names_its_language() -> None:
    assert len(PYTHON) >= 10
    untagged = [start for start, language, _ in ALL if language not in LANGUAGES]
    assert not untagged, f"README.md lines {untagged}: tag each block python, bash or text"


def test_block_reader_sees_fences_languages_and_lines() -> None:
    text = "intro\n```python\nx = 1\n\ny = 2\n```\n```text\nf(x) -> y\n```\n"
    assert blocks(text) == [(2, "python", "x = 1\n\ny = 2\n"), (7, "text", "f(x) -> y\n")]


def _missing_optional_module(stderr: str) -> str | None:
    """The module a block could not import, if it is absent from this environment."""
    found = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", stderr)
    if found and importlib.util.find_spec(found.group(1).split(".")[0]) is None:
        return found.group(1)
    return None


@pytest.mark.parametrize(("start", "code"), PYTHON, ids=[f"README.md:{s}" for s, _ in PYTHON])
def test_python_block_runs_as_written(start: int, code: str, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    folder = tmp_path / "empty"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        missing = _missing_optional_module(result.stderr)
        if missing is not None:
            pytest.skip(f"README.md:{start} needs {missing}, which is not installed")
    assert result.returncode == 0, f"README.md:{start} failed:\n{result.stderr[-3000:]}"
