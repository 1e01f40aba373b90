"""minigrad against the libraries a user would pick instead: ``python -m benchmarks``.

See ``benchmarks/README.md``. Modules: :mod:`~benchmarks.run` (command line, one process
per thread count, results), :mod:`~benchmarks.worker` (that process),
:mod:`~benchmarks.harness` (warm-up, trajectory checks, round-robin timing),
:mod:`~benchmarks.adapters` (one class per library), :mod:`~benchmarks.workloads`
(W1–W6, data, batch order, reference), :mod:`~benchmarks.memory` (W3 peak memory by RSS),
:mod:`~benchmarks.report` (Markdown, budgets, plot), :mod:`~benchmarks.machine`.
"""
