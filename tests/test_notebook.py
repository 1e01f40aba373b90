"""In a real Jupyter kernel: output is short, each figure shows once, progress bars work
without warnings. Needs the notebook extra (``pip install -e ".[notebook]"``): ipykernel,
nbclient and nbformat; skipped without them."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("tqdm")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

SETUP = """
import minigrad as mg
from minigrad import plot
X, y, _, _ = mg.data.make_linear(n=1000, d=2, noise=0.5, seed=0)
"""


def run_cells(*cells: str) -> list[list[dict]]:
    """Execute the cells in a fresh kernel; each cell's outputs."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    return [cell.outputs for cell in notebook.cells]


def images(outputs: list[dict]) -> int:
    return sum("image/png" in out.get("data", {}) for out in outputs)


def stderr(outputs: list[dict]) -> str:
    return "".join(o["text"] for o in outputs if o.get("name") == "stderr")


def value(outputs: list[dict]) -> str:
    (result,) = [o for o in outputs if o["output_type"] == "execute_result"]
    return result["data"]["text/plain"]


@pytest.fixture(scope="module")
def session() -> list[list[dict]]:
    """One kernel, as a newcomer's notebook without ipywidgets would run."""
    return run_cells(
        # As a newcomer's notebook runs: without ipywidgets, and outside CI (the kernel
        # inherits this process's environment, and CI=true turns automatic bars off).
        "import os, sys; sys.modules['ipywidgets'] = None; os.environ.pop('CI', None)\n" + SETUP,
        "history = mg.fit(mg.nn.LinearRegression(2), X, y, lr=0.01, epochs=5, batch_size=1, "
        "progress=False)\nhistory",
        "mg.data.load_cars()",
        "plot.loss_curve(history)",
        "fig = plot.loss_surface(X[:, :1], y)",  # assigned: shown nowhere
        "import matplotlib.pyplot as plt\nplot.compare_curves({'a': history}, separate=True)",
        "mg.graph.explain(mg.losses.mse(mg.nn.LinearRegression(2)(X), y))",
        "h = mg.fit(mg.nn.LinearRegression(2), X, y, lr=0.01, epochs=20, progress=True)",
        # Past the delay however fast the machine: the delay is set to 0 for this run only.
        "mg.train.PROGRESS_DELAY = 0.0\n"
        "h = mg.fit(mg.nn.LinearRegression(2), X, y, lr=0.001, epochs=20, batch_size=1)\n"
        "mg.train.PROGRESS_DELAY = 0.5",
        "h = mg.fit(mg.nn.LinearRegression(2), X, y, lr=0.1, epochs=5)",
        # a long run with a text bar: every redraw is an output the notebook stores
        "mg.train.PROGRESS_DELAY = 0.0\n"
        "h = mg.fit(mg.nn.LinearRegression(2), X[:50], y[:50], lr=0.01, epochs=3000, tol=None)\n"
        "mg.train.PROGRESS_DELAY = 0.5",
        # the README's advice for a pyplot window: draw into axes of your own
        "fig, ax = plt.subplots()\nplot.loss_curve(history, ax=ax)",
    )


def test_records_print_as_one_short_line(session) -> None:
    """A History printed every loss and parameter vector (3.5 million characters after
    50,000 updates; these are 5,000); a Dataset, every number (9 KB)."""
    for cell in (1, 2, 6):
        text = value(session[cell])
        assert len(text) < 200 and "\n" not in text, text
    assert value(session[1]).startswith("History(SGD on mse, lr=0.01, SGD (batch 1): 5000 ")
    assert value(session[2]).startswith("Dataset(398 rows, target 'Miles_per_Gallon'")


def test_each_figure_shows_once(session) -> None:
    assert images(session[3]) == 1  # returned: once, not also from pyplot
    assert images(session[4]) == 0  # assigned: the figure is the user's to show
    assert images(session[5]) == 1  # with pyplot's inline backend active too


def test_a_figure_drawn_into_given_axes_shows_once(session) -> None:
    assert images(session[11]) == 1  # pyplot's; the cell's value is the axes, as text
    assert value(session[11]).startswith("<Axes")


def test_a_long_run_stores_a_bounded_progress_bar(session) -> None:
    outputs = session[10]
    text = stderr(outputs)
    assert "/3000 [" in text
    assert text.count("\r") <= 25 and len(outputs) <= 25, (text.count("\r"), len(outputs))


def test_progress_without_ipywidgets_is_a_text_bar_and_no_warning(session) -> None:
    asked, automatic, quick = (stderr(outputs) for outputs in session[7:10])
    assert "/20 [" in asked and "epoch" in asked
    assert "/20 [" in automatic  # shown by default in a notebook, once past the delay
    assert quick == ""  # a run quicker than the delay prints nothing
    for text in (asked, automatic):
        assert "Warning" not in text and "IProgress" not in text


@pytest.mark.skipif(
    importlib.util.find_spec("ipywidgets") is None, reason="needs ipywidgets (widget bar)"
)
def test_progress_with_ipywidgets_is_a_widget_and_no_warning() -> None:
    cells = run_cells(
        SETUP, "h = mg.fit(mg.nn.LinearRegression(2), X, y, lr=0.01, epochs=20, progress=True)"
    )
    outputs = cells[1]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert "Warning" not in stderr(outputs)
