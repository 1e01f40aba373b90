"""One adapter per library: the same training loop, written the way that library is used.

Every adapter has the same small interface, used by the harness:

- ``missing()`` (class method): why the library cannot run here, or None.
- ``__init__(threads)``: import the library and pin its threads; ``pinning()`` says how.
- W1: ``tiny_setup(x, y)`` makes two leaves of shape (3,); ``tiny_call()`` runs the 10
  ops of :func:`benchmarks.workloads.tiny_ops`, a sum and a backward; ``tiny_grads()``
  returns ∂/∂x and ∂/∂y of the last call.
- Training: ``prepare(problem, X, y, batches)`` converts the data and the shared batch
  indices to the library's own types (untimed); ``reset()`` puts w = 0, b = 0;
  ``run(start, stop)`` performs the updates ``batches[start:stop]`` — gather the batch,
  forward, MSE, backward, gradient step — and returns once they are done (JAX is
  blocked on); ``params()`` gives (w, b) as NumPy; ``release()`` drops the data.

W7 (``problem.hidden`` set) trains the MLP d → hidden → 1 (tanh) by MSE and Adam through
the same methods: ``reset()`` loads :func:`benchmarks.workloads.mlp_init`'s weights into
the library's own network and makes a fresh Adam (PyTorch's defaults, ``problem.lr``);
``run`` performs the updates (y arrives as (N,), the network outputs (N, 1)); ``params()``
gives (W₁, b₁, W₂, b₂). Adapters that train it set ``mlp = True``; the others are skipped
on W7.

Only the body of ``run`` and ``tiny_call`` is timed. Adapters must compute the same
float64 maths; the harness refuses to report one whose parameters disagree with the
hand-derived reference after its timed updates.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from typing import Any, ClassVar

import numpy as np

from benchmarks import workloads as wl
from benchmarks.workloads import Problem, tiny_ops, tiny_reference

Batches = list[np.ndarray | None]


class Adapter:
    """Base class; see the module docstring for the interface."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    modules: ClassVar[tuple[str, ...]] = ()  # importable modules needed
    distribution: ClassVar[str] = ""  # the package to install (for "skipped" notes)
    memory_method: ClassVar[str] = "tracemalloc"  # how W3 peak memory can be measured
    max_elements: ClassVar[int | None] = None  # full-batch data beyond N·d this: extrapolate
    max_updates: ClassVar[int | None] = None  # cap on timed mini-batch updates per rep
    description: ClassVar[str] = ""
    mlp: ClassVar[bool] = False  # trains W7's MLP too

    @classmethod
    def missing(cls) -> str | None:
        for module in cls.modules:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed (pip install {cls.distribution or module})"
        return None

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def version(self) -> str:
        """The module's ``__version__``, else its distribution's installed version."""
        if not self.modules:
            return ""
        found = getattr(sys.modules.get(self.modules[0]), "__version__", None)
        if found:
            return str(found)
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.distribution or self.modules[0])
        except PackageNotFoundError:
            return ""

    def pinning(self) -> str:
        return "threadpoolctl (BLAS/OpenMP)"

    def update_cap(self, problem: Problem) -> int | None:
        """How many of a repetition's updates to time (None: all of them)."""
        return self.max_updates

    def scale_down(self) -> None:
        """Smaller caps for ``--quick`` (slow libraries only)."""

    # W1
    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def tiny_call(self) -> None:
        raise NotImplementedError

    def tiny_grads(self) -> tuple[Any, Any]:
        raise NotImplementedError

    # training
    def prepare(self, problem: Problem, X: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        self.problem, self.X, self.y, self.batches = problem, X, y, batches
        self.lr = problem.lr

    def reset(self) -> None:
        raise NotImplementedError

    def run(self, start: int = 0, stop: int | None = None) -> None:
        raise NotImplementedError

    def params(self) -> tuple[np.ndarray, float]:
        raise NotImplementedError

    def release(self) -> None:
        for attr in ("X", "y", "batches", "model", "opt"):
            if hasattr(self, attr):
                delattr(self, attr)


# ----------------------------------------------------------------------------- NumPy


class NumpyAdapter(Adapter):
    """Hand-written gradients: r = Xw + b − y, ∂w = (2/N)Xᵀr, ∂b = (2/N)Σr, plain NumPy."""

    name = "numpy"
    label = "NumPy (hand-written gradient)"
    modules = ("numpy",)
    description = "the gradient derived by hand: r = Xw + b − y; ∂w = (2/N)·Xᵀr; ∂b = (2/N)·Σr"

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y_tiny = x.copy(), y.copy()

    def tiny_call(self) -> None:
        self.grads = tiny_reference(self.x, self.y_tiny)  # forward and backward by hand

    def tiny_grads(self) -> tuple[Any, Any]:
        return self.grads

    mlp = True

    def reset(self) -> None:
        if self.problem.hidden is not None:
            self.net = [p.copy() for p in wl.mlp_init(self.problem.d, self.problem.hidden)]
            self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in self.net]
            self.t = 0
            return
        self.w = np.zeros(self.problem.d)
        self.b = 0.0

    def run(self, start: int = 0, stop: int | None = None) -> None:
        if self.problem.hidden is not None:
            self._run_mlp(start, stop)
            return
        X, y, lr, w, b = self.X, self.y, self.lr, self.w, self.b
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            n = len(yb)
            r = xb @ w + b - yb  # forward: residuals
            self.loss = r @ r / n  # the MSE value (every other library computes it too)
            gw = (2.0 / n) * (xb.T @ r)  # backward, by hand
            gb = (2.0 / n) * r.sum()
            w -= lr * gw  # gradient step
            b -= lr * gb
        self.w, self.b = w, b

    def _run_mlp(self, start: int, stop: int | None) -> None:
        """W7 by hand: the backward pass of tanh(x·W₁ᵀ + b₁)·W₂ᵀ + b₂ and PyTorch's Adam."""
        X, y, lr = self.X, self.y.reshape(-1, 1), self.lr
        beta1, beta2 = wl.ADAM_BETAS
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            grads = self._mlp_grads(xb, yb)
            self.t += 1
            step = lr / (1 - beta1**self.t)
            root = np.sqrt(1 - beta2**self.t)
            for p, g, (m, v) in zip(self.net, grads, self.moments, strict=True):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * (g * g)
                p -= step * m / (np.sqrt(v) / root + wl.ADAM_EPS)

    def _mlp_grads(self, xb: np.ndarray, yb: np.ndarray) -> tuple[np.ndarray, ...]:
        """(∂W₁, ∂b₁, ∂W₂, ∂b₂) of one batch's MSE, derived by hand."""
        W1, b1, W2, b2 = self.net
        n = len(yb)
        h = xb @ W1.T
        h += b1
        np.tanh(h, out=h)
        r = h @ W2.T
        r += b2 - yb  # forward: residuals (n, 1)
        self.loss = float(np.vdot(r, r)) / n
        r *= 2.0 / n  # ∂L/∂ŷ
        g_a = r @ W2
        g_a *= 1.0 - h * h  # through tanh: 1 − tanh²
        return g_a.T @ xb, g_a.sum(axis=0), r.T @ h, r.sum(axis=0)

    def params(self) -> tuple[Any, ...]:
        if self.problem.hidden is not None:
            return tuple(p.copy() for p in self.net)
        return self.w.copy(), float(self.b)


# -------------------------------------------------------------------------- minigrad


class MinigradAdapter(Adapter):
    """The public API: mg.nn.LinearRegression, mg.losses.mse, backward(), mg.optim.SGD."""

    name = "minigrad"
    label = "minigrad"
    modules = ("minigrad",)
    description = "mg.nn.LinearRegression + mg.losses.mse + backward() + mg.optim.SGD"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        import minigrad

        self.mg = minigrad

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = self.mg.tensor(x, requires_grad=True)
        self.y_tiny = self.mg.tensor(y, requires_grad=True)

    def tiny_call(self) -> None:
        x, y = self.x, self.y_tiny
        x.grad = y.grad = None
        tiny_ops(x, y).sum().backward()

    def tiny_grads(self) -> tuple[Any, Any]:
        return self.x.grad.numpy(), self.y_tiny.grad.numpy()

    mlp = True

    def prepare(self, problem: Problem, X: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        # the MLP outputs (N, 1): targets of the same shape (mse refuses to broadcast)
        super().prepare(problem, X, y if problem.hidden is None else y.reshape(-1, 1), batches)

    def reset(self) -> None:
        mg, p = self.mg, self.problem
        if p.hidden is not None:
            self.model = mg.nn.Sequential(
                mg.nn.Linear(p.d, p.hidden), mg.nn.Tanh(), mg.nn.Linear(p.hidden, 1)
            )
            names = [name for name, _ in self.model.named_parameters()]
            self.model.load_state_dict(dict(zip(names, wl.mlp_init(p.d, p.hidden), strict=True)))
            self.opt = mg.optim.Adam(self.model.parameters(), lr=self.lr)
            return
        self.model = mg.nn.LinearRegression(self.problem.d)
        self.opt = mg.optim.SGD(self.model.parameters(), lr=self.lr)

    def run(self, start: int = 0, stop: int | None = None) -> None:
        mg, model, opt, X, y = self.mg, self.model, self.opt, self.X, self.y
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            opt.zero_grad()
            loss = mg.losses.mse(model(mg.Tensor(xb)), mg.Tensor(yb))
            loss.backward()
            opt.step()

    def params(self) -> tuple[Any, ...]:
        if self.problem.hidden is not None:
            return tuple(p.data.copy() for p in self.model.parameters())
        return self.model.weight.data.copy(), float(self.model.bias.data)


class MinigradFitAdapter(MinigradAdapter):
    """``mg.fit`` for one epoch (W4/W5 only): the trainer's overhead over the bare loop.

    ``fit(..., shuffle=True, seed=seed)`` deals out exactly the harness's batch order, so
    its trajectory is checked like every other. Warm-up runs (partial ranges) use the bare
    loop; a full repetition is one ``fit`` call, its data checks included.
    """

    name = "minigrad.fit"
    label = "minigrad mg.fit()"
    record_path = True
    description = "mg.fit(model, X, y, lr=lr, epochs=1, batch_size, seed, tol=None, progress=False)"

    def run(self, start: int = 0, stop: int | None = None) -> None:
        n_batches = len(self.batches)
        if start != 0 or (stop is not None and stop < n_batches):
            super().run(start, stop)
            return
        self.history = self.mg.fit(
            self.model,
            self.X,
            self.y,
            loss="mse",
            optimizer="sgd",
            lr=self.lr,
            epochs=1,
            batch_size=self.problem.batch_size,
            shuffle=True,
            seed=self.problem.seed,
            tol=None,
            progress=False,
            record_path=self.record_path,
        )


class MinigradFitNoPathAdapter(MinigradFitAdapter):
    name = "minigrad.fit-nopath"
    label = "minigrad mg.fit(record_path=False)"
    record_path = False
    description = "as minigrad.fit, without keeping the parameter path"


class MinigradJitAdapter(MinigradAdapter):
    """The notes' update compiled: mg.jit of value_and_grad, then the SGD step in NumPy.

    Tracing (the first call for a batch shape) happens in ``prepare``/``tiny_setup``,
    untimed; its time is reported on its own as ``trace_seconds``. A last partial batch
    traces once more, in the untimed warm-up repetition.
    """

    name = "minigrad.jit"
    label = "minigrad (mg.jit)"
    mlp = False  # W7 is eager minigrad's (its budget is against PyTorch's eager)
    description = "mg.jit(mg.value_and_grad(lambda w, b, X, y: mse(X @ w + b, y))) + NumPy step"

    @staticmethod
    def loss(mg: Any) -> Any:
        return lambda w, b, X, y: mg.losses.mse(X @ w + b, y)

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        mg = self.mg
        self.x, self.y_tiny = x.copy(), y.copy()
        self.tiny = mg.jit(mg.grad(lambda x, y: tiny_ops(x, y).sum(), argnums=(0, 1)))
        start = time.perf_counter()
        self.grads = self.tiny(self.x, self.y_tiny)
        self.trace_seconds = time.perf_counter() - start

    def tiny_call(self) -> None:
        self.grads = self.tiny(self.x, self.y_tiny)

    def tiny_grads(self) -> tuple[Any, Any]:
        return self.grads[0].numpy(), self.grads[1].numpy()

    def prepare(self, problem: Problem, X: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        super().prepare(problem, X, y, batches)
        mg = self.mg
        self.step = mg.jit(mg.value_and_grad(self.loss(mg), argnums=(0, 1)))
        idx = batches[0]
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        start = time.perf_counter()
        self.step(np.zeros(problem.d), np.zeros(()), xb, yb)
        self.trace_seconds = time.perf_counter() - start

    def reset(self) -> None:
        self.w = np.zeros(self.problem.d)
        self.b = np.zeros(())

    def run(self, start: int = 0, stop: int | None = None) -> None:
        step, X, y, lr, w, b = self.step, self.X, self.y, self.lr, self.w, self.b
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            _, (gw, gb) = step(w, b, xb, yb)
            w -= lr * gw.data
            b -= lr * gb.data

    def params(self) -> tuple[np.ndarray, float]:
        return self.w.copy(), float(self.b)

    def release(self) -> None:
        super().release()
        self.__dict__.pop("step", None)


class MinigradJitPowAdapter(MinigradJitAdapter):
    """The same update written as a learner might: ((X @ w + b − y) ** 2).mean()."""

    name = "minigrad.jit-pow"
    label = "minigrad (mg.jit, ** 2 mean)"
    description = "mg.jit(mg.value_and_grad(lambda w, b, X, y: ((X @ w + b - y) ** 2).mean()))"

    @staticmethod
    def loss(mg: Any) -> Any:
        return lambda w, b, X, y: ((X @ w + b - y) ** 2).mean()


# --------------------------------------------------------------------------- PyTorch


class TorchAdapter(Adapter):
    """PyTorch CPU eager: nn.Linear(d, 1) in float64, F.mse_loss, backward, optim.SGD."""

    name = "torch"
    label = "PyTorch (CPU eager)"
    modules = ("torch",)
    distribution = "torch==2.13.0"
    memory_method = "rss"
    description = "torch.nn.Linear(d, 1, float64) + F.mse_loss + backward() + torch.optim.SGD"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        self.interop = "set"
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError as err:  # only allowed before any inter-op work started
            self.interop = f"not set ({err})"

    def pinning(self) -> str:
        t = self.torch
        return (
            f"torch.set_num_threads({self.threads}) -> get_num_threads() = "
            f"{t.get_num_threads()}; set_num_interop_threads: {self.interop} "
            f"(get_num_interop_threads() = {t.get_num_interop_threads()})"
        )

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        t = self.torch
        self.x = t.tensor(x, dtype=t.float64, requires_grad=True)
        self.y_tiny = t.tensor(y, dtype=t.float64, requires_grad=True)

    def tiny_call(self) -> None:
        x, y = self.x, self.y_tiny
        x.grad = y.grad = None
        tiny_ops(x, y).sum().backward()

    def tiny_grads(self) -> tuple[Any, Any]:
        return self.x.grad.numpy(), self.y_tiny.grad.numpy()

    def prepare(self, problem: Problem, X: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        t = self.torch
        super().prepare(problem, t.from_numpy(X), t.from_numpy(y), batches)  # shares memory
        self.batches = [None if i is None else t.from_numpy(i) for i in batches]

    mlp = True

    def reset(self) -> None:
        t, p = self.torch, self.problem
        if p.hidden is not None:
            self.model = t.nn.Sequential(
                t.nn.Linear(p.d, p.hidden, dtype=t.float64),
                t.nn.Tanh(),
                t.nn.Linear(p.hidden, 1, dtype=t.float64),
            )
            with t.no_grad():
                for param, value in zip(
                    self.model.parameters(), wl.mlp_init(p.d, p.hidden), strict=True
                ):
                    param.copy_(t.from_numpy(value))
            self.opt = t.optim.Adam(self.model.parameters(), lr=self.lr)
            return
        self.model = t.nn.Linear(self.problem.d, 1, dtype=t.float64)
        with t.no_grad():
            self.model.weight.zero_()
            self.model.bias.zero_()
        self.opt = t.optim.SGD(self.model.parameters(), lr=self.lr)

    def run(self, start: int = 0, stop: int | None = None) -> None:
        F = self.torch.nn.functional
        model, opt, X, y = self.model, self.opt, self.X, self.y
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            opt.zero_grad()
            loss = F.mse_loss(model(xb).squeeze(-1), yb)
            loss.backward()
            opt.step()

    def params(self) -> tuple[Any, ...]:
        if self.problem.hidden is not None:
            return tuple(p.detach().numpy().copy() for p in self.model.parameters())
        w = self.model.weight.detach().numpy()[0].copy()
        return w, float(self.model.bias.detach()[0])


# ------------------------------------------------------------------------------- JAX

_JAX_DATA: dict[int, Any] = {}  # one device copy of X and y shared by both JAX adapters


class JaxAdapter(Adapter):
    """JAX ``jax.grad`` of the MSE, executed eagerly (op by op), float64."""

    name = "jax"
    label = "JAX jax.grad (no jit)"
    modules = ("jax", "jaxlib")
    distribution = "jax jaxlib"
    memory_method = "rss"
    max_updates = 30  # eager jax.grad costs milliseconds an update whatever the batch
    jit = False
    description = "jax.grad(mse)(params, X[idx], y[idx]) eagerly; params ← params − lr·g"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp

    def scale_down(self) -> None:
        self.max_updates = 5

    def pinning(self) -> str:
        import os

        flags = os.environ.get("XLA_FLAGS", "")
        return (
            f"XLA_FLAGS={flags!r} and the process's CPU affinity "
            f"({len(os.sched_getaffinity(0))} CPU(s)); XLA's thread pool size is not reported"
        )

    def _maybe_jit(self, f: Any) -> Any:
        return self.jax.jit(f) if self.jit else f

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        jnp = self.jnp
        self.x, self.y_tiny = jnp.asarray(x), jnp.asarray(y)
        self.tiny = self._maybe_jit(
            self.jax.grad(lambda a, b: jnp.sum(tiny_ops(a, b)), argnums=(0, 1))
        )

    def tiny_call(self) -> None:
        self.grads = self.jax.block_until_ready(self.tiny(self.x, self.y_tiny))

    def tiny_grads(self) -> tuple[Any, Any]:
        return tuple(np.asarray(g) for g in self.grads)

    def prepare(self, problem: Problem, X: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        jnp, lr = self.jnp, problem.lr
        key = (id(X), id(y), X.shape)
        if key not in _JAX_DATA:
            _JAX_DATA.clear()
            _JAX_DATA[key] = (jnp.asarray(X), jnp.asarray(y))
        super().prepare(problem, *_JAX_DATA[key], batches)
        self.batches = [None if i is None else jnp.asarray(i) for i in batches]

        def loss(params: Any, xb: Any, yb: Any) -> Any:
            w, b = params
            r = xb @ w + b - yb
            return jnp.mean(r * r)

        grad = self.jax.grad(loss)

        def step(params: Any, xb: Any, yb: Any) -> Any:
            gw, gb = grad(params, xb, yb)
            return params[0] - lr * gw, params[1] - lr * gb

        def step_batch(params: Any, X: Any, y: Any, idx: Any) -> Any:
            return step(params, X[idx], y[idx])

        self.step = self._maybe_jit(step)
        self.step_batch = self._maybe_jit(step_batch)

    def reset(self) -> None:
        jnp = self.jnp
        self.state = (jnp.zeros(self.problem.d), jnp.zeros(()))

    def run(self, start: int = 0, stop: int | None = None) -> None:
        params, X, y = self.state, self.X, self.y
        step, step_batch = self.step, self.step_batch
        for idx in self.batches[start:stop]:
            params = step(params, X, y) if idx is None else step_batch(params, X, y, idx)
        self.state = self.jax.block_until_ready(params)

    def params(self) -> tuple[np.ndarray, float]:
        return np.asarray(self.state[0]).copy(), float(self.state[1])

    def release(self) -> None:
        super().release()
        _JAX_DATA.clear()


class JaxJitAdapter(JaxAdapter):
    """The same update under ``jax.jit`` (compiled in the untimed warm-up)."""

    name = "jax-jit"
    label = "JAX jax.jit(jax.grad)"
    max_updates = None
    jit = True
    description = "jax.jit of the whole update (gather, grad, step); compiled during warm-up"

    def scale_down(self) -> None:
        pass


# ------------------------------------------------------------------ HIPS autograd


class AutogradAdapter(Adapter):
    """HIPS autograd: ``grad`` of an autograd.numpy MSE, traced on every call."""

    name = "autograd"
    label = "HIPS autograd"
    modules = ("autograd",)
    max_updates = 1000
    description = "autograd.grad(mse)((w, b), X[idx], y[idx]); params ← params − lr·g"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        import autograd
        import autograd.numpy as anp

        self.autograd, self.anp = autograd, anp

        def loss(params: Any, xb: Any, yb: Any) -> Any:
            w, b = params
            r = anp.dot(xb, w) + b - yb
            return anp.mean(r * r)

        self.grad = autograd.grad(loss)
        self.tiny = autograd.grad(lambda p: anp.sum(tiny_ops(*p)))

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y_tiny = x.copy(), y.copy()

    def tiny_call(self) -> None:
        self.grads = self.tiny((self.x, self.y_tiny))

    def tiny_grads(self) -> tuple[Any, Any]:
        return self.grads

    def reset(self) -> None:
        self.w, self.b = np.zeros(self.problem.d), 0.0

    def run(self, start: int = 0, stop: int | None = None) -> None:
        X, y, lr, grad, w, b = self.X, self.y, self.lr, self.grad, self.w, self.b
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            gw, gb = grad((w, b), xb, yb)
            w, b = w - lr * gw, b - lr * gb
        self.w, self.b = w, b

    def params(self) -> tuple[np.ndarray, float]:
        return np.asarray(self.w).copy(), float(self.b)


# --------------------------------------------------------------------------- MyGrad


class MygradAdapter(Adapter):
    """MyGrad: Tensors with ``backward()``; the update writes into ``.data``."""

    name = "mygrad"
    label = "MyGrad"
    modules = ("mygrad",)
    max_updates = 1000
    description = "mygrad.mean((X[idx] @ w + b − y[idx])**2).backward(); w.data −= lr·w.grad"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        import mygrad

        self.mygrad = mygrad

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y_tiny = self.mygrad.tensor(x), self.mygrad.tensor(y)

    def tiny_call(self) -> None:
        self.mygrad.sum(tiny_ops(self.x, self.y_tiny)).backward()

    def tiny_grads(self) -> tuple[Any, Any]:
        return self.x.grad, self.y_tiny.grad

    def reset(self) -> None:
        self.w = self.mygrad.tensor(np.zeros(self.problem.d))
        self.b = self.mygrad.tensor(0.0)

    def run(self, start: int = 0, stop: int | None = None) -> None:
        mygrad, X, y, lr, w, b = self.mygrad, self.X, self.y, self.lr, self.w, self.b
        for idx in self.batches[start:stop]:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            loss = mygrad.mean((mygrad.matmul(xb, w) + b - yb) ** 2)
            loss.backward()
            w.data -= lr * w.grad
            b.data -= lr * b.grad

    def params(self) -> tuple[np.ndarray, float]:
        return self.w.data.copy(), float(self.b.data)


# ------------------------------------------------------------------------- micrograd


class MicrogradAdapter(Adapter):
    """Karpathy's micrograd: one ``Value`` object per scalar, so small sizes only.

    Full-batch problems larger than ``max_elements`` (N·d) are run on their first rows and
    the time is extrapolated linearly per element (a scalar engine's cost is proportional
    to the number of scalar ops); mini-batch epochs are timed on their first updates.
    """

    name = "micrograd"
    label = "micrograd (scalar)"
    modules = ("micrograd",)
    memory_method = "none"
    max_elements = 2_000
    elements_per_rep = 6_000  # cap on N·d·updates of one timed repetition
    description = "a Value per scalar: Σ(Σⱼ wⱼ·xᵢⱼ + b − yᵢ)²/N, backward(), p.data −= lr·p.grad"

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        from micrograd.engine import Value

        self.Value = Value

    def update_cap(self, problem: Problem) -> int | None:
        rows = problem.batch_size or min(problem.n, max(1, self.max_elements // problem.d))
        return max(1, self.elements_per_rep // (rows * problem.d))

    def scale_down(self) -> None:
        self.max_elements, self.elements_per_rep = 500, 1_000

    def tiny_setup(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = [self.Value(float(v)) for v in x]
        self.y_tiny = [self.Value(float(v)) for v in y]

    def tiny_call(self) -> None:
        for v in self.x + self.y_tiny:
            v.grad = 0
        sum(tiny_ops(a, b) for a, b in zip(self.x, self.y_tiny, strict=True)).backward()

    def tiny_grads(self) -> tuple[Any, Any]:
        return [v.grad for v in self.x], [v.grad for v in self.y_tiny]

    def prepare(self, problem: Problem, X: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        rows = problem.n if any(i is None for i in batches) else max(len(i) for i in batches)
        # backward() orders the graph recursively; its depth grows with the batch
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * (rows + problem.d) + 1000))
        super().prepare(problem, X.tolist(), y.tolist(), batches)
        self.batches = [None if i is None else i.tolist() for i in batches]

    def reset(self) -> None:
        self.w = [self.Value(0.0) for _ in range(self.problem.d)]
        self.b = self.Value(0.0)

    def run(self, start: int = 0, stop: int | None = None) -> None:
        X, y, lr, w, b = self.X, self.y, self.lr, self.w, self.b
        params = [*w, b]
        for idx in self.batches[start:stop]:
            rows = range(len(y)) if idx is None else idx
            for p in params:
                p.grad = 0
            total = sum(
                (sum((wj * xj for wj, xj in zip(w, X[i], strict=True)), b) - y[i]) ** 2
                for i in rows
            )
            loss = total * (1.0 / len(rows))
            loss.backward()
            for p in params:
                p.data -= lr * p.grad

    def params(self) -> tuple[np.ndarray, float]:
        return np.array([v.data for v in self.w]), float(self.b.data)


ADAPTERS: dict[str, type[Adapter]] = {
    a.name: a
    for a in (
        MinigradAdapter,
        MinigradJitAdapter,
        MinigradJitPowAdapter,
        NumpyAdapter,
        TorchAdapter,
        JaxAdapter,
        JaxJitAdapter,
        AutogradAdapter,
        MygradAdapter,
        MicrogradAdapter,
    )
}
"""The libraries, in report order (``--libraries`` takes these names)."""

VARIANTS: dict[str, type[Adapter]] = {
    a.name: a for a in (MinigradFitAdapter, MinigradFitNoPathAdapter)
}
"""Not libraries: mg.fit() run beside the bare minigrad loop on W4/W5 (no ratios)."""


def load_extra(path: str) -> list[type[Adapter]]:
    """Adapter subclasses defined in a Python file (``--extra-adapters``), registered."""
    spec = importlib.util.spec_from_file_location("benchmarks_extra_adapters", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load adapters from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, Adapter)
        and v.name
        and v.__module__ == module.__name__
    ]
    for cls in found:
        ADAPTERS[cls.name] = cls
    return found
