"""DOT text to a file: an image rendered by Graphviz's ``dot`` when it is installed, or the text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from minigrad.io import atomic_path, save_text


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
    >>> out = render(mg.graph.to_dot(w * w), os.path.join(tempfile.mkdtemp(), "square.dot"))
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
        save_text(path, dot)
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(
            f"cannot render {str(path)!r} as {fmt}: the Graphviz `dot` program is not on "
            f"PATH. {_INSTALL_HINT}"
        )
    with atomic_path(path) as tmp:  # a failed render leaves the old image whole
        try:
            result = subprocess.run(
                [exe, f"-T{fmt}", "-o", str(tmp)],
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
