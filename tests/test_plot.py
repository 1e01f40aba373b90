"""minigrad.plot: every figure draws, saves a non-blank PNG, and marks what it promises."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import plot  # noqa: E402

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _fit(X, y, **kwargs) -> mg.History:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the diverging run warns
        return mg.fit(mg.nn.LinearRegression(X.shape[1]), X, y, progress=False, **kwargs)


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = mg.data.make_linear(n=40, d=1, noise=0.5, seed=3)
    return X, y


@pytest.fixture(scope="module")
def runs(data):
    X, y = data
    bound = mg.formulas.max_stable_lr(X)
    return {
        "converged": _fit(X, y, lr=0.5 * bound, epochs=300),
        "slow": _fit(X, y, lr=0.01, epochs=30),
        "diverged": _fit(X, y, lr=1.3 * bound, epochs=200),
        "sgd": _fit(X, y, lr=0.02, epochs=5, batch_size=4),
    }


def assert_png(path: Path, min_bytes: int = 5_000) -> None:
    """The file exists, is not tiny, and is not a single colour."""
    assert path.is_file(), f"{path} was not written"
    assert path.stat().st_size > min_bytes, f"{path} is only {path.stat().st_size} bytes"
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3
    assert float(pixels[..., :3].std()) > 0.0, f"{path} is blank"


def texts(fig) -> list[str]:
    """Every text on the figure: titles, labels, annotations, legend entries."""
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def markers(ax, marker: str) -> list:
    return [line for line in ax.get_lines() if line.get_marker() == marker]


# --------------------------------------------------------------------------- save


def test_save_creates_folders_and_adds_png(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    written = plot.save(fig, tmp_path / "a" / "b" / "figure")
    assert written == tmp_path / "a" / "b" / "figure.png"
    assert_png(written, min_bytes=1_000)


def test_import_and_drawing_leave_pyplot_and_the_backend_alone(tmp_path):
    """Nothing global: pyplot is never imported, the user's backend never switched."""
    code = (
        "import sys, matplotlib; matplotlib.use('svg'); import minigrad as mg\n"
        "from minigrad import plot\n"
        "X, y, _, _ = mg.data.make_linear(n=20, d=1, seed=0)\n"
        "h = mg.fit(mg.nn.LinearRegression(1), X, y, lr=0.1, epochs=20, progress=False)\n"
        f"plot.loss_curve(h, path={str(tmp_path / 'c.png')!r}); plot.loss_surface(X, y, h)\n"
        "plot.compare_curves({'a': h}, separate=True); plot.fit_line(X, y, h.path[-1][:1], 0)\n"
        "print('matplotlib.pyplot' in sys.modules, matplotlib.get_backend())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["False", "svg"]
    assert_png(tmp_path / "c.png")


def test_figures_are_unknown_to_pyplot_and_show_as_png_once(runs):
    """A notebook shows what pyplot holds at the end of a cell *and* the cell's value: a
    returned figure that pyplot also holds would show twice."""
    before = plt.get_fignums()
    fig = plot.loss_curve(runs["converged"])
    assert plt.get_fignums() == before
    assert isinstance(fig, matplotlib.figure.Figure) and isinstance(fig, plot.InlineFigure)
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    empty = plot.new_figure((3, 2))
    assert empty.get_size_inches().tolist() == [3, 2] and empty.get_layout_engine() is not None


# --------------------------------------------------------------------------- loss curves


def test_loss_curve_marks_convergence(runs, tmp_path):
    history = runs["converged"]
    assert history.converged
    k = history.converged_at_update
    fig = plot.loss_curve(history, path=tmp_path / "converged.png")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert_png(tmp_path / "converged.png")
    ax = fig.axes[0]
    assert f"converged at update {k}" in " ".join(texts(fig))
    assert any(list(line.get_xdata()) == [k, k] for line in ax.get_lines()), "no vertical line"
    assert "update" in ax.get_xlabel()
    assert ax.get_ylabel().startswith("loss (MSE)")
    assert "converged" in ax.get_title()


def test_loss_curve_marks_divergence(runs, tmp_path):
    history = runs["diverged"]
    assert history.diverged
    fig = plot.loss_curve(history, path=tmp_path / "diverged.png")
    assert_png(tmp_path / "diverged.png")
    ax = fig.axes[0]
    assert any("diverged: lr too high" in t for t in texts(fig))
    crosses = markers(ax, "X")
    assert crosses and matplotlib.colors.same_color(crosses[0].get_color(), "tab:red")
    # a diverging loss spans many decades: "auto" switched to a log axis
    assert ax.get_yscale() == "log"


def test_loss_curve_per_epoch_with_validation(data, tmp_path):
    X, y = data
    history = _fit(X, y, lr=0.05, epochs=8, batch_size=10, validation_data=(X[:10], y[:10]))
    fig = plot.loss_curve(history, per="epoch", units="mpg", path=tmp_path / "epoch.png")
    assert_png(tmp_path / "epoch.png")
    ax = fig.axes[0]
    assert "epoch" in ax.get_xlabel()
    assert ax.get_ylabel().startswith("loss (MSE, mpg²)")
    assert any(line.get_linestyle() == "--" for line in ax.get_lines()), "no dashed val curve"
    assert len(ax.get_lines()[0].get_xdata()) == len(history.epoch_losses)


def test_loss_curve_sgd_draws_epoch_mean(runs):
    fig = plot.loss_curve(runs["sgd"])
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "epoch mean" in labels


def test_log_auto_picks_log_for_six_decades():
    fig = plot.loss_curve(np.geomspace(1e6, 1.0, 30))
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_ylabel() == "loss, log scale"
    fig = plot.loss_curve(np.geomspace(1e6, 1.0, 30), log=False)
    assert fig.axes[0].get_yscale() == "linear"
    fig = plot.loss_curve(np.linspace(8.0, 0.3, 30))  # 1.4 decades: stays linear
    assert fig.axes[0].get_yscale() == "linear"
    with pytest.raises(ValueError, match="log must be"):
        plot.loss_curve([1.0, 0.5], log="yes")
    with pytest.raises(ValueError, match="per must be"):
        plot.loss_curve([1.0, 0.5], per="batch")


def test_loss_curve_into_given_axes(runs):
    _, (left, right) = plt.subplots(1, 2)
    # the axes come back, not the figure: pyplot shows it, and a notebook would show a
    # returned Figure a second time as the cell's value
    assert plot.loss_curve(runs["slow"], ax=right) is right
    assert right.get_lines() and not left.get_lines()
    positional = (runs["slow"], "update", "auto", None, None, None, None, None, left)
    assert plot.loss_curve(*positional) is left
    assert isinstance(plot.loss_curve(runs["slow"]), plot.InlineFigure)


# --------------------------------------------------------------------------- comparisons


def test_compare_curves_one_axis(runs, tmp_path):
    chosen = {name: runs[name] for name in ("slow", "converged", "diverged")}
    fig = plot.compare_curves(chosen, path=tmp_path / "compare.png")
    assert_png(tmp_path / "compare.png")
    ax = fig.axes[0]
    labels = ax.get_legend().get_texts()
    legend = " | ".join(t.get_text() for t in labels)
    assert "slow: not converged" in legend
    assert f"converged at update {runs['converged'].converged_at_update}" in legend
    assert "diverged" in legend
    assert markers(ax, "X"), "the diverged run has no marker"
    # the diverged run does not set the scale: the calm runs fill the plot
    assert ax.get_ylim()[1] < 100 * runs["slow"].step_losses[0]


def test_compare_curves_per_epoch_and_batches(runs):
    fig = plot.compare_curves(
        {"full batch": runs["converged"], "batch 4": runs["sgd"]}, per="epoch"
    )
    assert "epoch" in fig.axes[0].get_xlabel()
    fig = plot.compare_curves({"full batch": runs["converged"], "batch 4": runs["sgd"]})
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any("epoch mean" in label for label in labels)


def test_compare_curves_separate_panels(runs, tmp_path):
    fig = plot.compare_curves(runs, separate=True, path=tmp_path / "panels.png")
    assert_png(tmp_path / "panels.png")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(runs)
    assert [ax.get_title().split(":")[0] for ax in visible] == list(runs)
    with pytest.raises(ValueError, match="separate"):
        plot.compare_curves(runs, separate=True, ax=visible[0])
    with pytest.raises(ValueError, match="at least one"):
        plot.compare_curves({})


# --------------------------------------------------------------------------- fits


def test_fit_line_one_feature(data, tmp_path):
    X, y = data
    w, b = mg.formulas.closed_form(X, y)
    fig = plot.fit_line(
        X,
        y,
        w,
        b,
        feature_name="weight",
        feature_units="1000 lbs",
        target_name="efficiency",
        target_units="mpg",
        extra_lines={"MAE": (w * 0.9, b + 0.5)},
        residuals=True,
        path=tmp_path / "fit.png",
    )
    assert_png(tmp_path / "fit.png")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x = weight (1000 lbs)"
    assert ax.get_ylabel() == "y = efficiency (mpg)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("fit: ŷ = ") for t in legend)
    assert any(t.startswith("MAE: ŷ = ") for t in legend)
    with pytest.raises(ValueError, match="1 weight"):
        plot.fit_line(X, y, [1.0, 2.0], 0.0)


def test_fit_line_two_features_draws_a_plane(tmp_path):
    X, y, _ = mg.data.make_taxi(n=60)
    w, b = mg.formulas.closed_form(X, y)
    fig = plot.fit_line(
        X, y, w, b, feature_name=["miles", "minutes"], target_name="fare", path=tmp_path / "3d.png"
    )
    assert_png(tmp_path / "3d.png")
    assert fig.axes[0].name == "3d"
    assert fig.axes[0].get_zlabel() == "y = fare"


def test_predicted_vs_actual(data, tmp_path):
    X, y = data
    w, b = mg.formulas.closed_form(X, y)
    fig = plot.predicted_vs_actual(y, X @ w + b, units="mpg", path=tmp_path / "pva.png")
    assert_png(tmp_path / "pva.png")
    ax = fig.axes[0]
    diagonal = ax.get_lines()[0]
    assert np.allclose(diagonal.get_xdata(), diagonal.get_ydata()), "no y = x diagonal"
    assert ax.get_xlabel() == "actual y (mpg)"
    assert any("RMSE" in t for t in texts(fig))


# --------------------------------------------------------------------------- loss surface


@pytest.mark.parametrize("loss", sorted(mg.formulas.LOSS_VALUES))
def test_loss_grid_matches_formulas(data, loss):
    X, y = data
    W, B = np.meshgrid([-1.0, 0.5, 2.0], [-2.0, 0.0, 1.5])
    grid = plot.loss_grid(X, y, W, B, loss)
    value = mg.formulas.LOSS_VALUES[loss]
    expected = [
        [value(X, y, [w], b) for w, b in zip(ws, bs, strict=True)]
        for ws, bs in zip(W, B, strict=True)
    ]
    np.testing.assert_allclose(grid, expected, rtol=1e-10, atol=1e-12)


def test_loss_surface_minimum_and_path(data, runs, tmp_path):
    X, y = data
    history = runs["converged"]
    resolution = 61
    fig = plot.loss_surface(X, y, history, resolution=resolution, path=tmp_path / "surface.png")
    assert_png(tmp_path / "surface.png")
    surface_ax, contour_ax = fig.axes[0], fig.axes[1]
    assert surface_ax.name == "3d"
    # the default ranges cover the path (from w = 0, b = 0) and the minimum
    (w_lo, w_hi), (b_lo, b_hi) = contour_ax.get_xlim(), contour_ax.get_ylim()
    w_star, b_star = mg.formulas.closed_form(X, y)
    points = np.asarray(history.path)
    assert w_lo < min(0.0, w_star[0], points[:, 0].min()) and w_hi > w_star[0]
    assert b_lo < min(0.0, b_star, points[:, 1].min()) and b_hi > max(0.0, b_star)
    # the grid's lowest point is within one cell of the closed-form minimum
    ws, bs = np.linspace(w_lo, w_hi, resolution), np.linspace(b_lo, b_hi, resolution)
    W, B = np.meshgrid(ws, bs)
    Z = plot.loss_grid(X, y, W, B)
    row, col = np.unravel_index(np.argmin(Z), Z.shape)
    assert abs(W[row, col] - w_star[0]) <= ws[1] - ws[0]
    assert abs(B[row, col] - b_star) <= bs[1] - bs[0]
    # the path is drawn, from its start to its end, and the minimum is starred
    path_lines = [line for line in contour_ax.get_lines() if len(line.get_xdata()) == len(points)]
    assert path_lines and np.allclose(path_lines[0].get_xdata(), points[:, 0])
    stars = markers(contour_ax, "*")
    assert stars and np.allclose(
        [stars[0].get_xdata()[0], stars[0].get_ydata()[0]], [w_star[0], b_star]
    )
    legend = " | ".join(texts(fig))
    assert "start (w = 0, b = 0)" in legend and "closed form" in legend


def test_loss_surface_equal_scale_draws_a_round_bowl_round(runs):
    """Standardized features make MSE's Hessian 2·I: its contours are circles, and with
    w and b to scale they look like circles (same span, equal aspect)."""
    X = mg.data.Standardizer().fit_transform(np.linspace(-3.0, 5.0, 50).reshape(-1, 1))
    y = 3.0 * X[:, 0] + 20.0
    np.testing.assert_allclose(mg.formulas.mse_hessian(X), 2 * np.eye(2), atol=1e-12)
    fig = plot.loss_surface(X, y, equal_scale=True)
    surface_ax, contour_ax = fig.axes[0], fig.axes[1]
    (w_lo, w_hi), (b_lo, b_hi) = contour_ax.get_xlim(), contour_ax.get_ylim()
    assert w_hi - w_lo == pytest.approx(b_hi - b_lo)
    assert contour_ax.get_aspect() == 1.0
    assert surface_ax.get_box_aspect()[0] == pytest.approx(surface_ax.get_box_aspect()[1])
    fig.draw_without_rendering()  # the drawn box is square: a circle stays a circle
    box = contour_ax.get_window_extent()
    assert box.width == pytest.approx(box.height, rel=0.02)
    default = plot.loss_surface(X, y).axes[1]  # without it, the spans follow the data
    assert np.ptp(default.get_xlim()) != pytest.approx(np.ptp(default.get_ylim()))


@pytest.mark.parametrize("kind", ["surface", "contour"])
def test_loss_surface_kinds_and_other_losses(data, tmp_path, kind):
    X, y = data
    fig = plot.loss_surface(X, y, loss="mae", kind=kind, resolution=25, path=tmp_path / "s.png")
    assert_png(tmp_path / "s.png")
    assert len([ax for ax in fig.axes if ax.name == "3d"]) == (kind == "surface")
    assert any("lowest MAE on the grid" in t for t in texts(fig))


def test_loss_surface_rejects_bad_input(data):
    X, y = data
    with pytest.raises(ValueError, match="one-feature"):
        plot.loss_surface(np.hstack([X, X]), y)
    with pytest.raises(ValueError, match=r"\(k, 2\)"):
        plot.loss_surface(X, y, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="kind"):
        plot.loss_surface(X, y, kind="wireframe")
    with pytest.raises(ValueError, match="unknown loss"):
        plot.loss_surface(X, y, loss="hinge")
