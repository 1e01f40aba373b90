"""Smoke test of the benchmark harness: ``python -m benchmarks --quick`` on minigrad and NumPy.

One quick run (a few seconds) also carries a deliberately wrong adapter — a gradient
with 1/N where 2/N belongs, and on W7 a backward pass that forgets tanh's derivative —
which the trajectory check must refuse on every workload. No time is compared here:
timings belong to the benchmark, not to the test suite.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import run as bench_run  # noqa: E402
from benchmarks import workloads as wl  # noqa: E402

WRONG_ADAPTER = textwrap.dedent(
    '''
    import numpy as np

    from benchmarks.adapters import NumpyAdapter


    class WrongGradient(NumpyAdapter):
        """∂w = (1/N)·Xᵀr instead of (2/N)·Xᵀr, and a W1 gradient off by 1 %."""

        name = "wrong-gradient"
        label = "deliberately wrong gradient"

        def tiny_grads(self):
            gx, gy = super().tiny_grads()
            return gx * 1.01, gy

        def _mlp_grads(self, xb, yb):  # W7: the factor 1 − h² of tanh′ forgotten
            W1, b1, W2, b2 = self.net
            h = np.tanh(xb @ W1.T + b1)
            g_out = (2.0 / len(yb)) * (h @ W2.T + b2 - yb)
            g_a = g_out @ W2
            return g_a.T @ xb, g_a.sum(axis=0), g_out.T @ h, g_out.sum(axis=0)

        def run(self, start=0, stop=None):
            if self.problem.hidden is not None:
                return super().run(start, stop)
            X, y, lr = self.X, self.y, self.lr
            for idx in self.batches[start:stop]:
                xb, yb = (X, y) if idx is None else (X[idx], y[idx])
                r = xb @ self.w + self.b - yb
                self.w -= lr * (1.0 / len(yb)) * (xb.T @ r)
                self.b -= lr * (2.0 / len(yb)) * r.sum()
    '''
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    out = tmp_path_factory.mktemp("bench")
    extra = out / "wrong_adapter.py"
    extra.write_text(WRONG_ADAPTER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable, "-m", "benchmarks", "--quick", "--no-reexec", "--threads", "1",
        "--libraries", "minigrad,minigrad.jit,numpy,wrong-gradient",
        "--extra-adapters", str(extra),
        "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads((out / "results.json").read_text())
    return results, (out / "results.md").read_text(), out


def test_quick_run_writes_json_and_markdown(quick_run: tuple[dict, str, Path]) -> None:
    results, md, out = quick_run
    assert results["quick"] is True
    assert results["settings"]["workloads"] == list(wl.ALL)
    assert results["machine"]["python"]
    assert results["runs"][0]["threads"] == 1
    for workload in wl.ALL:
        assert f"## {workload}" in md
        jit = ("minigrad.jit",) if workload != "W7" else ()  # W7 is eager minigrad's
        for library in ("minigrad", *jit, "numpy"):
            recs = [
                r
                for r in results["records"]
                if r["workload"] == workload and r["library"] == library
            ]
            assert recs, (workload, library)
            for r in recs:
                assert r["status"] == "ok", r
                assert r["min"] <= r["median"] <= r["max"]
                assert len(r["times"]) == r["checks_passed"] - 1  # the warm-up is checked too
    assert "| minigrad |" in md and "× NumPy" in md
    budgets = {(b["workload"], b["kind"], b["library"]): b for b in results["budgets"]}
    assert budgets[("W2", "time", "minigrad")]["result"] in ("PASS", "FAIL")
    assert budgets[("W3", "memory", "minigrad")]["result"] in ("PASS", "FAIL")
    assert budgets[("W1", "time", "minigrad")]["result"] == "not run"  # PyTorch not asked for
    for workload in ("W1", "W2", "W4", "W5"):  # the compiled update's budgets: vs NumPy
        assert budgets[(workload, "time", "minigrad.jit")]["result"] in ("PASS", "FAIL")
    assert budgets[("W2", "time", "minigrad.jit-pow")]["result"] == "not run"
    first = budgets[("W6", "first call", "minigrad.jit")]
    assert first["result"] in ("PASS", "FAIL") and first["n"] == max(
        r["n"] for r in results["records"] if r["workload"] == "W6"
    )
    assert "W6 (mg.jit) first call ≤ 3× eager minigrad" in md
    jit = [r for r in results["records"] if r["library"] == "minigrad.jit"]
    assert all(r["trace_seconds"] > 0 for r in jit)  # tracing is timed on its own
    assert "traced once, in" in md
    assert {m["method"] for m in results["memory"]} == {"tracemalloc", "rss"}
    assert {f["workload"] for f in results["fit_overhead"]} == {"W4", "W5"}
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "step_time_vs_n.png").stat().st_size > 10_000


def test_wrong_adapter_is_refused(quick_run: tuple[dict, str, Path]) -> None:
    results, md, _ = quick_run
    wrong = [r for r in results["records"] if r["library"] == "wrong-gradient"]
    assert {r["workload"] for r in wrong} == set(wl.ALL)
    for r in wrong:
        assert r["status"] == "refused", r
        assert r["times"] == [] and "median" not in r
        assert "disagree" in r["error"]
    assert "refused **wrong-gradient**" in md


def test_mg_fit_follows_the_shared_batch_order(quick_run: tuple[dict, str, Path]) -> None:
    results, _, _ = quick_run
    fits = [r for r in results["records"] if r["library"].startswith("minigrad.fit")]
    assert fits and all(r["status"] == "ok" for r in fits)


def test_hand_derived_tiny_gradient_matches_finite_differences() -> None:
    x, y, eps = wl.W1_X, wl.W1_Y, 1e-6
    gx, gy = wl.tiny_reference(x, y)
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        f = lambda a, b: float(np.sum(wl.tiny_ops(a, b)))  # noqa: E731
        assert gx[k] == pytest.approx((f(x + e, y) - f(x - e, y)) / (2 * eps), rel=1e-6)
        assert gy[k] == pytest.approx((f(x, y + e) - f(x, y - e)) / (2 * eps), rel=1e-6)


def test_batch_order_is_minigrads() -> None:
    import minigrad as mg

    problem = wl.Problem("W4", 103, 2, 10, seed=7)
    X, y = np.arange(206.0).reshape(103, 2), np.arange(103.0)
    ours = wl.batch_order(problem)
    theirs = list(mg.data.batches(X, y, 10, shuffle=True, rng=np.random.default_rng(7)))
    assert len(ours) == len(theirs) == 11
    for idx, (xb, _) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(X[idx], xb)


def test_runs_write_a_fresh_folder_and_never_the_committed_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv in ([], ["--quick"], ["--workloads", "W1"]):
        out = bench_run.parse_args(argv).out
        assert out.parent == Path("out", "benchmarks") and not out.exists()
        assert out.resolve() != bench_run.COMMITTED.resolve()
    taken = bench_run.parse_args([]).out
    taken.mkdir(parents=True)
    now = bench_run.datetime.strptime(taken.name, "%Y%m%d-%H%M%S")
    assert bench_run.fresh_folder(taken.parent, now) == taken.parent / f"{taken.name}-2"
    assert bench_run.parse_args(["--out", "x"]).out == Path("x")
    assert bench_run.parse_args(["--update-committed"]).out == bench_run.COMMITTED


@pytest.mark.parametrize("extra", [["--quick"], ["--out", "x"]])
def test_updating_the_committed_results_takes_a_full_run(extra, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_run.parse_args(["--update-committed", *extra])
    assert exit_.value.code == 2
    assert "drop --quick and --out" in capsys.readouterr().err


def test_reexec_unsets_both_openblas_variables_once() -> None:
    assert bench_run.reexec_env({"PATH": "/bin"}) is None
    env = bench_run.reexec_env({"PATH": "/bin", "OPENBLAS_CORETYPE": "Haswell"})
    assert env is not None
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert json.loads(env[bench_run.REEXEC_VAR]) == {"unset": {"OPENBLAS_CORETYPE": "Haswell"}}
    env = bench_run.reexec_env({"OPENBLAS_CORETYPE": "Zen", "OPENBLAS_L2_SIZE": "512"})
    assert env is not None and set(json.loads(env[bench_run.REEXEC_VAR])["unset"]) == {
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
    }
    assert bench_run.reexec_env({"OPENBLAS_L2_SIZE": "1", bench_run.REEXEC_VAR: "{}"}) is None


def test_check_params_tolerance() -> None:
    ref = (np.array([1.0, -2.0]), 0.5)
    assert wl.check_params((ref[0] + 1e-12, 0.5), ref)["ok"]
    assert not wl.check_params((ref[0] * 1.01, 0.5), ref)["ok"]
    assert not wl.check_params((np.array([np.nan, -2.0]), 0.5), ref)["ok"]


def test_round_ratios_pair_each_round_and_give_quartiles() -> None:
    from benchmarks.report import _round_ratio_quartiles

    mine = {"times": [1.0, 4.0, 6.0, 16.0]}
    peer = {"times": [1.0, 2.0, 2.0, 4.0]}  # per-round ratios 1, 2, 3, 4
    # quartiles of 1..4 by the (n + 1)·p rule: positions 1.25 and 3.75
    assert _round_ratio_quartiles(mine, peer) == pytest.approx((1.25, 3.75))
    assert _round_ratio_quartiles({"times": [1.0] * 3}, {"times": [1.0] * 3}) is None
    assert _round_ratio_quartiles({"times": [1.0] * 5}, {"times": [1.0] * 4}) is None


def test_first_call_budget_is_the_trace_over_the_eager_update_at_the_largest_n() -> None:
    from benchmarks.report import evaluate_budgets

    def rec(library: str, n: int, median: float, trace: float | None = None) -> dict:
        return {"workload": "W6", "library": library, "threads": 1, "n": n, "status": "ok",
                "median": median, "trace_seconds": trace}  # fmt: skip

    records = [
        rec("minigrad", 10, 1.0), rec("minigrad.jit", 10, 0.5, trace=100.0),
        rec("minigrad", 1000, 2.0), rec("minigrad.jit", 1000, 1.0, trace=5.0),
    ]  # fmt: skip
    results = {"records": records, "settings": {"threads": [1]}, "memory": []}
    (row,) = [b for b in evaluate_budgets(results) if b["kind"] == "first call"]
    assert (row["n"], row["ratio"], row["result"]) == (1000, 2.5, "PASS")
    records[3]["trace_seconds"] = 7.0  # 3.5× the eager update
    (row,) = [b for b in evaluate_budgets(results) if b["kind"] == "first call"]
    assert row["result"] == "FAIL"


@pytest.mark.parametrize("batch_size", [None, 7])
def test_w2_parts_adapters_follow_the_hand_derived_trajectory(
    batch_size: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The W2 decomposition adapters compute the same descent as the reference."""
    from benchmarks import adapters
    from benchmarks.adapters import load_extra

    monkeypatch.setattr(adapters, "ADAPTERS", dict(adapters.ADAPTERS))  # load_extra registers
    problem = wl.Problem("W2", 50, 3, batch_size, steps=4)
    X, y = wl.make_data(problem.n, problem.d)
    batches = wl.batch_order(problem)
    want = wl.reference_params(X, y, problem.lr, batches, ("w2_parts", *problem.key))
    found = {cls.name: cls for cls in load_extra(str(REPO / "benchmarks" / "w2_parts.py"))}
    assert set(found) == {"numpy-keep", "numpy-scaled", "minigrad-ops"}
    for cls in found.values():
        adapter = cls(threads=1)
        adapter.prepare(problem, X, y, batches)
        adapter.reset()
        adapter.run(0, 2)
        adapter.run(2)  # continues from the same parameters
        check = wl.check_params(adapter.params(), want)
        assert check["ok"], (cls.name, check)


# ------------------------------------------------------------------------------- W7


def test_w7_hand_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    params = wl.mlp_init(4, 5, seed=1)
    xb, yb = rng.standard_normal((6, 4)), rng.standard_normal((6, 1))
    _, grads = wl.mlp_loss_and_grads(params, xb, yb)
    eps = 1e-6
    for k, p in enumerate(params):
        for index in np.ndindex(p.shape):
            moved = []
            for sign in (1, -1):
                shifted = [q.copy() for q in params]
                shifted[k][index] += sign * eps
                moved.append(wl.mlp_loss_and_grads(tuple(shifted), xb, yb)[0])
            numeric = (moved[0] - moved[1]) / (2 * eps)
            assert grads[k][index] == pytest.approx(numeric, rel=1e-6, abs=1e-9), (k, index)


def test_w7_reference_is_pytorchs_adam_from_the_same_weights() -> None:
    torch = pytest.importorskip("torch")
    problem = wl.Problem("W7", 50, 3, 8, lr=wl.ADAM_LR, hidden=6)
    X, y = wl.make_data(problem.n, problem.d)
    batches = wl.batch_order(problem)
    init = wl.mlp_init(problem.d, problem.hidden)
    want = wl.reference_mlp(X, y, problem.lr, batches, init, ("test", *problem.key))
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 6, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 1, dtype=torch.float64),
    )
    with torch.no_grad():
        for p, value in zip(net.parameters(), init, strict=True):
            p.copy_(torch.from_numpy(value))
    opt = torch.optim.Adam(net.parameters(), lr=problem.lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    for idx in batches:
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(Xt[idx]), yt[idx]).backward()
        opt.step()
    got = [p.detach().numpy() for p in net.parameters()]
    assert wl.check_params(got, want, rtol=1e-12)["ok"]
    assert not wl.check_params(init, want)["ok"]  # the updates moved the weights


@pytest.mark.parametrize("name", ["numpy", "minigrad", "torch"])
def test_w7_adapters_follow_the_reference(name: str) -> None:
    from benchmarks.adapters import ADAPTERS

    cls = ADAPTERS[name]
    if cls.missing():
        pytest.skip(cls.missing())
    assert cls.mlp
    problem = wl.Problem("W7", 70, 4, 16, lr=0.01, hidden=5)
    X, y = wl.make_data(problem.n, problem.d)
    batches = wl.batch_order(problem)
    want = wl.reference(problem, X, y, batches, ("adapters", *problem.key))
    adapter = cls(threads=1)
    adapter.prepare(problem, X, y, batches)
    adapter.reset()
    adapter.run(0, 2)
    adapter.run(2)  # continues: the optimizer keeps its state between calls
    check = wl.check_params(adapter.params(), want, rtol=1e-10)
    assert check["ok"], check
    adapter.reset()  # back to the shared initial weights
    assert wl.check_params(adapter.params(), wl.mlp_init(4, 5), rtol=0)["ok"]
