"""The progress display of a training run: a tqdm bar over the epochs, when one fits.

Apart from the loop: the loop only asks for a bar and updates it. Whether one is shown
depends on where the run happens (a terminal, a Jupyter kernel, CI) and on tqdm being
installed, which is optional.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

PROGRESS_DELAY = 0.5
"""Seconds before the automatic progress bar (``progress=None``) appears: quick runs
show none, so a notebook cell that trains in a blink prints nothing."""


PROGRESS_UPDATES = 20
"""At most about this many redraws of a progress bar per run, however many epochs: a
text bar in a notebook stores every redraw as output (a 10,000-epoch run would store
thousands), and a log file of stderr keeps every one too."""

PROGRESS_INTERVAL = 0.5
"""And at most one redraw per this many seconds."""


def _in_jupyter() -> bool:
    """True inside a Jupyter kernel (notebook, JupyterLab, VS Code, Colab)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _progress_bar(progress: bool | None, epochs: int) -> Any:
    """A tqdm bar over the epochs, or None.

    ``tqdm.auto`` picks the widget bar in a notebook that has ipywidgets and the text
    bar everywhere else; its advice to install ipywidgets is silenced, since the text
    bar it falls back to works in a notebook too. ``progress=None`` shows a bar on a
    terminal or in a notebook (not in CI) once the run has lasted PROGRESS_DELAY s.
    """
    automatic = progress is None
    if automatic:
        progress = (sys.stderr.isatty() or _in_jupyter()) and not os.environ.get("CI")
    if not progress:
        return None
    try:
        from tqdm.std import TqdmWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TqdmWarning)
            from tqdm.auto import tqdm
    except ImportError:
        if not automatic:
            warnings.warn(
                "progress=True needs tqdm: pip install 'minigrad[progress]'", stacklevel=3
            )
        return None
    delay = PROGRESS_DELAY if automatic else 0.0
    # a redraw every `miniters` epochs at most (and every PROGRESS_INTERVAL s), so a run of any
    # length draws about PROGRESS_UPDATES times: tqdm's own adaptive miniters would not
    # bound it (a run of uneven epochs redraws as often as every 0.1 s)
    miniters = max(1, -(-epochs // PROGRESS_UPDATES))
    return tqdm(total=epochs, unit="epoch", leave=False, delay=delay, miniters=miniters,
                mininterval=PROGRESS_INTERVAL)  # fmt: skip
