"""Hand-written semantic mutants of the compiler (``mg.jit``), and the harness that runs them.

Issue 16 asks that the suite pin the *decisions* the compiler makes, not only its syntax:
a mutmut score counts mutants such as ``<`` → ``<=``, which says little about whether a
cache key that forgets an array's dtype, a guard that forgets a closed-over tensor's
shape, or a buffer plan that overwrites a value still read later would be caught. Each
mutant here is one such plausible bug a compiler author could write: a small textual
edit of ``minigrad/jit/`` (or of the engine hooks and op declarations the compiler
reads), with a line saying which decision it breaks.

What the harness does, for every mutant:

1. copies the repository (``git ls-files`` plus the untracked files under ``tests/`` and
   ``minigrad/``) once per worker into a temporary directory under ``/tmp``;
2. checks that the mutant's old text occurs exactly once in its file (otherwise the
   mutant is reported BROKEN: the list has fallen out of step with the code);
3. applies the edit, runs ``python -m pytest -x -q -p no:cacheprovider -p no:randomly``
   on the jit test files (``TEST_FILES``) with ``HYPOTHESIS_PROFILE=ci`` and a timeout,
   then restores the file;
4. records KILLED (the tests failed), SURVIVED (they passed), TIMEOUT (counted as killed,
   but reported) or BROKEN.

It prints a table (with the first failing test of each killed mutant) and the score:
killed + timed out over all mutants not marked ``equivalent`` (BROKEN ones count as not
killed). A mutant marked ``equivalent=True`` cannot change observable behaviour; it is
run and listed with its reason but left out of the score (if the tests kill it anyway,
the table says so). The exit status is non-zero when the score is below ``THRESHOLD``
or a mutant is BROKEN, or when the unmutated suite does not pass in the copy.

Run it from the repository root::

    python tools/jit_mutants.py                      # all mutants, one at a time
    python tools/jit_mutants.py --only key-tensor-dtype,guard-no-bits
    python tools/jit_mutants.py --jobs 2             # two copies, two mutants at a time
    python tools/jit_mutants.py --list               # the mutants, nothing run
    python tools/jit_mutants.py --check              # only check that every edit applies
    python tools/jit_mutants.py --only ID --no-baseline --tests tests/test_jit_decisions.py
                                                     # while writing the test that kills ID

A full run takes about eleven minutes with one job on a 2-core machine: the unmutated
suite takes ~25 s, a killed mutant usually stops at its first failing test (2-10 s), and
a surviving one runs the whole suite. The tests written to kill mutants that survived
the rest of the suite are in ``tests/test_jit_decisions.py``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEST_FILES = (
    "tests/test_jit_passes.py",
    "tests/test_jit.py",
    "tests/test_jit_decisions.py",
    "tests/test_jit_contract.py",
    "tests/test_trust.py",
    "tests/test_fit_models.py",
    "tests/test_jit_fuzz.py",
)
"""The tests that guard the compiler, quickest first (-x stops at the first failure)."""

THRESHOLD = 0.95
TIMEOUT = 300.0

KILLED, SURVIVED, TIMEOUT_STATUS, BROKEN = "KILLED", "SURVIVED", "TIMEOUT", "BROKEN"


@dataclass(frozen=True)
class Mutant:
    """One semantic mutant: in ``file``, ``old`` (which must occur exactly once) becomes
    ``new``; a mutant that needs several edits gives tuples of the same length."""

    id: str
    file: str
    old: str | tuple[str, ...]
    new: str | tuple[str, ...]
    breaks: str
    equivalent: bool = False
    reason: str = ""

    def edits(self) -> list[tuple[str, str]]:
        olds = (self.old,) if isinstance(self.old, str) else self.old
        news = (self.new,) if isinstance(self.new, str) else self.new
        return list(zip(olds, news, strict=True))


JIT = "minigrad/jit/__init__.py"
ENV = "minigrad/jit/environment.py"
TRACE = "minigrad/jit/trace.py"
WEAK = "minigrad/jit/weak.py"
BUILD = "minigrad/jit/build.py"
PASSES = "minigrad/jit/passes.py"
CODEGEN = "minigrad/jit/codegen.py"
TRACING = "minigrad/tracing.py"
AUTOGRAD = "minigrad/autograd.py"
OP = "minigrad/op.py"
ELEMENTWISE = "minigrad/ops/elementwise.py"
INDEXING = "minigrad/ops/indexing.py"
LINALG = "minigrad/ops/linalg.py"

MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------------ the cache key
    Mutant(
        "key-tensor-dtype",
        JIT,
        "return (a.data.shape, a.data.dtype, a.requires_grad)",
        "return (a.data.shape, a.requires_grad)",
        "cache key: a Tensor argument's dtype is not part of the key",
    ),
    Mutant(
        "key-array-dtype",
        JIT,
        "    if isinstance(a, np.ndarray | np.generic):\n        return (a.shape, a.dtype, False)",
        "    if isinstance(a, np.ndarray | np.generic):\n        return (a.shape, None, False)",
        "cache key: an ndarray argument's dtype is not part of the key (the fast path then "
        "always misses, and the slow path reuses a trace made for another dtype)",
    ),
    Mutant(
        "key-requires-grad",
        JIT,
        "return (a.data.shape, a.data.dtype, a.requires_grad)",
        "return (a.data.shape, a.data.dtype, False)",
        "cache key: whether a Tensor argument requires grad is not part of the key",
    ),
    Mutant(
        "key-grad-mode",
        JIT,
        "(_mode.enabled, tuple(_spec(a, i in static) for i, a in enumerate(args)))",
        "(True, tuple(_spec(a, i in static) for i, a in enumerate(args)))",
        "cache key: the grad mode (no_grad) is not part of the key",
    ),
    Mutant(
        "key-negative-static",
        JIT,
        "return frozenset(k % n for k in self.static_argnums)",
        "return frozenset(self.static_argnums)",
        "cache key: a negative static argnum (-1) is not recognised as static",
    ),
    Mutant(
        "key-static-float-by-value",
        JIT,
        'return ("static", environment.bits(a) if isinstance(a, float | complex) else a)',
        'return ("static", a)',
        "cache key: a static float is keyed by value (−0.0 reuses 0.0's trace; nan misses)",
    ),
    Mutant(
        "fastpath-skips-guard",
        JIT,
        "        key = ((), _mode.enabled, tuple(map(_fast_spec, args)))\n"
        "        for compiled in self._cache.get(key, ()):\n"
        "            if compiled.guard():",
        "        key = ((), _mode.enabled, tuple(map(_fast_spec, args)))\n"
        "        for compiled in self._cache.get(key, ()):\n"
        "            if True:",
        "retrace condition: the fast path (positional arguments) does not run the guard",
    ),
    # ------------------------------------------------------------------ weak numbers
    Mutant(
        "weak-fed-as-array",
        JIT,
        'f"args[{v.index}]" if v.weak is not None else f"A(args[{v.index}])" for v in program.args',
        'f"A(args[{v.index}])" for v in program.args',
        "weak numbers: a number argument is fed to the program as a 0-d array (strong: "
        "float32 · 2.0 becomes float64)",
    ),
    Mutant(
        "weak-not-traced-as-weak",
        TRACE,
        "        if weak_numbers and is_number(a):",
        "        if False:",
        "weak numbers: a number argument is traced as a float64 0-d array argument",
    ),
    Mutant(
        "weak-no-static-fallback",
        JIT,
        "                if not numbers:\n                    trace.draw_as_eager(err)",
        "                if True:\n                    trace.draw_as_eager(err)",
        "weak numbers: a number used as a Python number raises instead of being traced "
        "again as a constant",
    ),
    # ------------------------------------------------------------------ gradients through jit
    Mutant(
        "records-never",
        JIT,
        "_builder(program.structure, any(program.needs_grad)),",
        "_builder(program.structure, False),",
        "gradients through jit: results that required grad when traced are plain tensors",
    ),
    Mutant(
        "grad-lives-ignored",
        JIT,
        "if isinstance(v.source, Tensor) and v.source.requires_grad",
        "if isinstance(v.source, Tensor) and False",
        "gradients through jit: closed-over tensors that require grad are not inputs of "
        "the recorded node",
    ),
    Mutant(
        "stand-in-no-grad",
        TRACE,
        "needs = isinstance(a, Tensor) and a.requires_grad",
        "needs = False",
        "gradients through jit: argument stand-ins never require grad while traced",
    ),
    Mutant(
        "memo-ignores-g",
        JIT,
        "if hit is None or hit[0] is not out or hit[1] is not g:  # by identity",
        "if hit is None or hit[0] is not out:  # by identity",
        "gradients through jit: the compiled backward's memo is keyed by the output only, "
        "not by the upstream gradient",
    ),
    Mutant(
        "wanted-position",
        JIT,
        "return hit[2][wanted.index(i)]",
        "return hit[2][i]",
        "gradients through jit: input i's gradient is read at position i, not at its "
        "position among the inputs that require grad",
    ),
    Mutant(
        "backward-no-rewind",
        JIT,
        "                    with _rewound(generators, states):\n"
        "                        grads = vjps[create](*inputs[:n_args], g)",
        "                    if True:\n"
        "                        grads = vjps[create](*inputs[:n_args], g)",
        "gradients through jit: the compiled backward redraws from the generators' "
        "current state, not the state before the call",
    ),
    Mutant(
        "create-flag-ignored",
        JIT,
        "create = isinstance(g, Tensor)  # a create_graph backward: results that record",
        "create = False  # a create_graph backward: results that record",
        "gradients through jit: a create_graph backward gets the non-differentiable vjp",
    ),
    Mutant(
        "vjp-key-ignores-lives",
        JIT,
        "key = (k, n_args, wanted, tuple(id(t) for t in lives), create)",
        "key = (k, n_args, wanted, create)",
        "gradients through jit: the compiled vjp is reused for a trace with other "
        "closed-over tensors (a replaced parameter)",
    ),
    # ------------------------------------------------------------------ guard (environment)
    Mutant(
        "bits-by-value",
        ENV,
        'return (float, struct.pack("<d", x))',
        "return (float, x)",
        "guard and key: closed-over and static floats are compared by value (−0.0 == 0.0, "
        "nan != nan)",
    ),
    Mutant(
        "guard-no-identity",
        ENV,
        'lines.append(f"if n{k} is not o{k}: return False")',
        'lines.append(f"if n{k} is None: return False")',
        "guard: objects on a path are not checked by identity (a rebound tensor, a "
        "replaced layer.weight)",
    ),
    Mutant(
        "guard-no-len-containers",
        ENV,
        '                lines.append(f"if len(n{k}) != {len(obj)}: return False")',
        "                pass",
        "guard: the length of a closed-over list or dict is not checked",
    ),
    Mutant(
        "guard-no-len-object-dict",
        ENV,
        '                lines.append(f"if len(n{k}.__dict__) != {len(vars(obj))}: return False")',
        "                pass",
        "guard: the number of attributes of an object is not checked (one added)",
    ),
    Mutant(
        "guard-no-spec",
        ENV,
        '                lines.append(f"if ({data}.shape, {data}.dtype, {grad}) != s{k}: '
        'return False")',
        "                pass",
        "guard: the shape/dtype/requires_grad of the outside tensors the program reads "
        "are not checked",
    ),
    Mutant(
        "guard-spec-no-requires-grad",
        ENV,
        'lines.append(f"if ({data}.shape, {data}.dtype, {grad}) != s{k}: return False")',
        'lines.append(f"if ({data}.shape, {data}.dtype) != s{k}[:2]: return False")',
        "guard: a closed-over tensor's requires_grad switched on is not seen",
    ),
    Mutant(
        "guard-no-bits",
        ENV,
        'lines.append(f"if bits(n{k}) != b{k}: return False")',
        'lines.append("pass")',
        "guard: numbers (and bools: Module.training) found outside are not checked",
    ),
    Mutant(
        "fixed-list-as-tuple",
        ENV,
        "    if isinstance(parent, tuple):\n        return isinstance(node.obj, ATOMS)",
        "    if isinstance(parent, tuple | list):\n        return isinstance(node.obj, ATOMS)",
        "guard: numbers in a list are treated as fixed, like numbers in a tuple",
    ),
    Mutant(
        "fixed-user-closure",
        ENV,
        "library = isinstance(parent, types.FunctionType) and _is_library(parent)",
        "library = isinstance(parent, types.FunctionType)",
        "guard: the closure cells of a user's function are treated as fixed, like a "
        "library function's",
    ),
    # ------------------------------------------------------------------ environment walk
    Mutant(
        "walk-no-object-dict",
        ENV,
        '            for name, x in list(vars(obj).items()):\n                add(x, "dict", name)',
        '            for name, x in ():\n                add(x, "dict", name)',
        "environment walk: an object's __dict__ (a Module's attributes) is not walked",
    ),
    Mutant(
        "walk-no-library-closures",
        ENV,
        "for i, cell in enumerate(fn.__closure__ or ()):",
        "for i, cell in enumerate(() if _is_library(fn) else fn.__closure__ or ()):",
        "environment walk: a library function's closure (mg.grad's, holding the user's "
        "function) is not walked",
    ),
    Mutant(
        "walk-no-globals",
        ENV,
        "for name in sorted(_global_names(fn.__code__)):",
        "for name in sorted(_global_names(fn.__code__))[:0]:",
        "environment walk: the globals a user's function names are not walked",
    ),
    Mutant(
        "walk-second-place-dropped",
        ENV,
        "if seen is not None and not isinstance(obj, Tensor | np.ndarray):",
        "if seen is not None:",
        "environment walk: an array or tensor held in two places is found (swapped, "
        "guarded) only in the first",
    ),
    Mutant(
        "views-no-swap-arrays",
        ENV,
        "elif isinstance(obj, np.ndarray) and type(obj) is not TracedArray and k > 0:",
        "elif isinstance(obj, np.ndarray) and type(obj) is not TracedArray and k < 0:",
        "environment: closed-over arrays are not swapped for traced views while tracing "
        "(NumPy code on them is baked in)",
    ),
    Mutant(
        "views-no-swap-tensors",
        ENV,
        "if isinstance(obj, Tensor) and type(obj.data) is not TracedArray:",
        "if isinstance(obj, Tensor) and False:",
        "environment: closed-over tensors keep plain .data while tracing (NumPy code on "
        "t.data is baked in)",
    ),
    Mutant(
        "views-not-restored",
        ENV,
        "            for step in reversed(undo):\n                step()",
        "            for step in reversed(undo):\n                pass",
        "environment: the traced views are left in place after the trace",
    ),
    Mutant(
        "views-tuple-not-rebuilt",
        ENV,
        'if node.kind == "item" and isinstance(parent, tuple) and node.parent > 0:',
        "if False:",
        "environment: an array inside a closed-over tuple is not swapped for a traced view",
    ),
    # ------------------------------------------------------------------ TracedArray guard
    Mutant(
        "traced-allows-ufunc",
        TRACING,
        "*inputs: Any, **kwargs: Any) -> Any:\n        if refusing():",
        "*inputs: Any, **kwargs: Any) -> Any:\n        if False:",
        "TracedArray guard: a ufunc on traced data computes (its value is baked in)",
    ),
    Mutant(
        "traced-allows-item",
        TRACING,
        '        "view",\n    ]',
        '        "view",\n        "item",\n    ]',
        "TracedArray guard: .item() of traced data is allowed",
    ),
    Mutant(
        "traced-allows-argmax",
        TRACING,
        "np.iscomplexobj, np.isrealobj,\n}",
        "np.iscomplexobj, np.isrealobj, np.argmax,\n}",
        "TracedArray guard: a NumPy function that reads values (np.argmax) is treated as metadata",
    ),
    # ------------------------------------------------------------------ random generators
    Mutant(
        "rng-not-restored",
        TRACE,
        "        after = _state(g)\n        g.bit_generator.state = before[id(g)]",
        "        after = _state(g)\n        pass",
        "random: the generators are left where the trace's draws put them (the first call "
        "draws twice)",
    ),
    Mutant(
        "rng-draws-unchecked",
        TRACE,
        "        _check_draws(g, before[id(g)], after, recorder.draws.get(id(g), []))",
        "        pass",
        "random: a draw the recording cannot explain (rng.normal called directly) is not refused",
    ),
    Mutant(
        "rng-global-unchecked",
        TRACE,
        "    if not _same(legacy, np.random.get_state()):",
        "    if False:",
        "random: a draw from NumPy's global generator is not refused",
    ),
    Mutant(
        "draw-not-traced",
        OP,
        "if trace is not None and (has_tensor or op.random):  # a draw is traced too",
        "if trace is not None and has_tensor:  # a draw is traced too",
        "random: a draw with no tensor input (mg.randn) is not recorded (baked in)",
    ),
    Mutant(
        "cse-merges-draws",
        PASSES,
        "if not ins.op.random and key in seen:",
        "if key in seen:",
        "random: CSE merges two draws with the same arguments",
    ),
    Mutant(
        "dce-drops-draws",
        PASSES,
        "if ins.out in needed or effect(ins):",
        "if ins.out in needed or (effect(ins) and not ins.op.random):",
        "random: DCE drops a draw whose result is unused (the stream falls behind)",
    ),
    Mutant(
        "fold-folds-draws",
        PASSES,
        "        not effect(ins)\n        and all(v.kind == CONST and v.frozen for v in values)",
        "        (ins.op.random or not effect(ins))\n"
        "        and all((v.kind == CONST and v.frozen) or v.dtype == object for v in values)",
        "random: fold_constants folds a draw (a generator is as good as a constant)",
    ),
    # ------------------------------------------------------------------ effects and checks
    Mutant(
        "dce-drops-checks",
        PASSES,
        "if ins.out in needed or effect(ins):",
        "if ins.out in needed or (effect(ins) and ins.op.random):",
        "effects: DCE drops a check whose result is unused (a loss's range check)",
    ),
    Mutant(
        "effect-predicate-ignored",
        PASSES,
        "return e is True or bool(e and e(*ins.args))",
        "return e is True",
        "effects: an op whose effect depends on its inputs (integer ** integer) is pure",
    ),
    Mutant(
        "pow-declares-no-effect",
        ELEMENTWISE,
        "effect=lambda a, b: _integral(a) and _integral(b),  # NumPy refuses int ** negative int",
        "effect=False,  # NumPy refuses int ** negative int",
        "effects: pow does not declare that integer ** negative integer raises",
    ),
    # ------------------------------------------------------------------ lower / aliases
    Mutant(
        "lower-not-substituted",
        PASSES,
        "return substitute(program.but(instrs=instrs, lowerings={}), replace_by)",
        "return program.but(instrs=instrs, lowerings={})",
        "lower: readers of a fused op's result are not pointed at its lowering's result",
    ),
    Mutant(
        "alias-reshape-any-shape",
        PASSES,
        "same = isinstance(x, Value) and x.shape == ins.out.shape and x.dtype == ins.out.dtype",
        "same = isinstance(x, Value) and x.dtype == ins.out.dtype",
        "forward_aliases: a reshape that changes the shape is dropped",
    ),
    Mutant(
        "alias-transpose",
        PASSES,
        '_ALIASES = frozenset({"detach", "reshape", "sum_to", "broadcast_to"})',
        '_ALIASES = frozenset({"detach", "reshape", "sum_to", "broadcast_to", "transpose"})',
        "forward_aliases: a transpose that keeps the shape (a square matrix) is dropped",
    ),
    # ------------------------------------------------------------------ fold_constants
    Mutant(
        "fold-non-frozen",
        PASSES,
        "        and all(v.kind == CONST and v.frozen for v in values)",
        "        and all(v.kind == CONST for v in values)",
        "fold_constants: a constant held by reference (a view of outside memory) is folded",
    ),
    # ------------------------------------------------------------------ simplify
    Mutant(
        "add-zero-floats",
        PASSES,
        'if op is ops.add and out.dtype.kind in "iub":',
        "if op is ops.add:",
        "simplify: x + 0 → x for floats (−0.0 + 0 is +0.0)",
    ),
    Mutant(
        "div-any-constant",
        PASSES,
        "if c is not None and c != 0 and _power_of_two(c, out.dtype):",
        "if c is not None and c != 0:",
        "simplify: x / c → x · (1/c) for any c (inexact: 5/3 ≠ 5·(1/3))",
    ),
    Mutant(
        "power-of-two-range",
        PASSES,
        "return mantissa == 0.5 and info.minexp <= 2 - exponent <= info.maxexp - 1",
        "return mantissa == 0.5",
        "simplify: x / 2ᵏ → x · 2⁻ᵏ even where 2⁻ᵏ overflows or underflows in the dtype",
    ),
    Mutant(
        "sub-any-zero",
        PASSES,
        "_is(args[1], 0) and not np.signbit(_scalar(args[1])) and keeps(args[0])",
        "_is(args[1], 0) and keeps(args[0])",
        "simplify: x − (−0.0) → x, which keeps a −0.0 that eager turns into +0.0",
    ),
    Mutant(
        "square-any-dtype",
        PASSES,
        "if op is ops.pow and _is(args[1], 2) and _float(out.dtype) and keeps(args[0]):",
        "if op is ops.pow and _is(args[1], 2) and keeps(args[0]):",
        "simplify: x ** 2 → x · x for any dtype (float16, integers)",
        equivalent=True,
        reason=(
            "x**2 and x·x agree bit for bit (value, sign, nan/inf) in every dtype it can "
            "reach: checked on all 65,536 float16 values and on int8/int16/int32/uint8 "
            "(wrapping alike); bool is excluded by keeps() (bool**2 is int64), and an "
            "integer x**2 cannot raise, so dropping pow's effect changes nothing"
        ),
    ),
    Mutant(
        "sumsq-ints-and-bools",
        PASSES,
        "    if not (_float(r.dtype) and r.dtype == ins.out.dtype == square.out.dtype):\n"
        "        return None",
        "    if False:\n        return None",
        "simplify: Σ r·r → dot(r, r) for integer and bool r (overflow, bool result)",
    ),
    Mutant(
        "sumsq-float16",
        PASSES,
        "if not (_float(r.dtype) and r.dtype == ins.out.dtype == square.out.dtype):",
        'if not (r.dtype.kind == "f" and r.dtype == ins.out.dtype == square.out.dtype):',
        "simplify: Σ r·r → dot(r, r) for float16 r (reassociated float16)",
    ),
    Mutant(
        "sumsq-empty",
        PASSES,
        "if not (same and isinstance(r, Value) and r.weak is None and r.size > 0):",
        "if not (same and isinstance(r, Value) and r.weak is None):",
        "simplify: Σ r·r / mean(r·r) → dot for an empty r",
    ),
    Mutant(
        "sumsq-any-product",
        PASSES,
        "same = square.op is ops.mul and square.args[1] is r",
        "same = square.op is ops.mul",
        "simplify: Σ a·b → dot(a, a): the two factors are not checked to be the same",
    ),
    Mutant(
        "keeps-no-dtype",
        PASSES,
        "return isinstance(x, Value) and x.shape == out.shape and x.dtype == out.dtype",
        "return isinstance(x, Value) and x.shape == out.shape",
        "simplify: an identity may return an operand of another dtype (int8 · 1.0)",
    ),
    Mutant(
        "keeps-no-shape",
        PASSES,
        "return isinstance(x, Value) and x.shape == out.shape and x.dtype == out.dtype",
        "return isinstance(x, Value) and x.dtype == out.dtype",
        "simplify: an identity may return an operand of another shape (x · [[1.]])",
    ),
    Mutant(
        "scalar-non-frozen",
        PASSES,
        "if isinstance(x, Value) and x.kind == CONST and x.frozen and np.size(x.source) == 1:",
        "if isinstance(x, Value) and x.kind == CONST and np.size(x.source) == 1:",
        "simplify: a one-element constant held by reference (outside memory) is read as "
        "a number at compile time",
    ),
    # ------------------------------------------------------------------ CSE
    Mutant(
        "cse-floats-by-equality",
        PASSES,
        'return ("float", x.hex())  # −0.0 and 0.0 differ',
        'return ("plain", "float", x)',
        "CSE: Python floats keyed by == (0.0 and −0.0 merge)",
    ),
    Mutant(
        "cse-const-non-frozen",
        PASSES,
        "if x.kind == CONST and x.frozen and x.size <= 16:",
        "if x.kind == CONST and x.size <= 16:",
        "CSE: constants held by reference (outside memory) merge by their bytes at trace time",
    ),
    # ------------------------------------------------------------------ buffers and views
    Mutant(
        "owners-view-of-view",
        PASSES,
        "shared |= roots.get(v, {v})",
        "shared |= {v}",
        "view ownership: a view of a view loses its root",
    ),
    Mutant(
        "owners-ignore-view-true",
        PASSES,
        "if view is True or (view and view(*ins.args)):",
        "if view is not True and view and view(*ins.args):",
        "view ownership: ops declared view=True (reshape, transpose) are not views",
    ),
    Mutant(
        "last-use-ignores-views",
        PASSES,
        "            for root in roots.get(v, {v}):\n                last_use[root] = k",
        "            for root in {v}:\n                last_use[root] = k",
        "buffer lifetimes: a value read later through a view counts as dead",
        equivalent=True,
        reason=(
            "a temporary that any view has as a root is in `viewed`, which plan_buffers "
            "never overwrites; for every other temporary the last use through views and the "
            "direct last use are the same instruction"
        ),
    ),
    Mutant(
        "into-still-read",
        PASSES,
        "                    and last_use.get(a) == k\n",
        "                    and last_use.get(a, -1) >= k\n",
        "buffer lifetimes: a result overwrites an input that is still read later",
    ),
    Mutant(
        "into-argument",
        PASSES,
        (
            "if a.kind == TEMP\n                    and a in storage",
            "storage[out] = storage[target]",
        ),
        ("if (a.kind == ARG or a in storage)", "storage[out] = storage.get(target, out.name)"),
        "buffer lifetimes: a result overwrites a dying argument (the caller's array)",
    ),
    Mutant(
        "into-non-buffer",
        PASSES,
        (
            "if a.kind == TEMP\n                    and a in storage",
            "storage[out] = storage[target]",
        ),
        ("if a.kind == TEMP", "storage[out] = storage.get(target, out.name)"),
        "buffer lifetimes: a result overwrites a temporary that is not a work buffer (an "
        "output, which the caller gets)",
    ),
    Mutant(
        "matmul-into-input",
        PASSES,
        "if ins.op is not ops.matmul:  # a matmul may not write over its own input",
        "if True:  # a matmul may not write over its own input",
        "buffer lifetimes: a matmul writes over its own input",
    ),
    Mutant(
        "outputs-get-buffers",
        PASSES,
        "if not writable or out in escaping or len(out.shape) == 0:",
        "if not writable or len(out.shape) == 0:",
        "buffer lifetimes: an output (or what it views) gets a buffer kept between calls",
    ),
    Mutant(
        "einsum-never-a-view",
        LINALG,
        "view=lambda spec, *xs: len(xs) == 1,",
        "view=False,",
        "view ownership: a one-operand einsum ('ij->ji') is not declared a view",
    ),
    Mutant(
        "getitem-never-a-view",
        INDEXING,
        "view=lambda x, index: _is_basic(index),",
        "view=lambda x, index: False,",
        "view ownership: basic indexing (a slice) is not declared a view",
    ),
    # ------------------------------------------------------------------ output boundary
    Mutant(
        "boundary-arg-not-copied",
        CODEGEN,
        "r.kind in (ARG, LIVE, CONST) or r in program.storage",
        "r.kind in (LIVE, CONST) or r in program.storage",
        "output boundary: a result that is or views an argument is not copied",
    ),
    Mutant(
        "boundary-live-not-copied",
        CODEGEN,
        "r.kind in (ARG, LIVE, CONST) or r in program.storage",
        "r.kind in (ARG, CONST) or r in program.storage",
        "output boundary: a result that is or views a closed-over array/parameter is not copied",
    ),
    Mutant(
        "boundary-const-not-copied",
        CODEGEN,
        "r.kind in (ARG, LIVE, CONST) or r in program.storage",
        "r.kind in (ARG, LIVE) or r in program.storage",
        "output boundary: a result that views a constant is not copied",
    ),
    Mutant(
        "boundary-buffer-not-copied",
        CODEGEN,
        "r.kind in (ARG, LIVE, CONST) or r in program.storage or handed",
        "r.kind in (ARG, LIVE, CONST) or handed",
        "output boundary: a result rooted in a kept buffer is not copied",
    ),
    Mutant(
        "boundary-origins-share",
        CODEGEN,
        " or handed.get(r, origin) != origin\n",
        "\n",
        "output boundary: two outputs that were different tensors may share memory",
    ),
    # ------------------------------------------------------------------ codegen
    Mutant(
        "operand-no-parentheses",
        CODEGEN,
        '    return f"({text})"\n\n\ndef _closes_at_end',
        "    return text\n\n\ndef _closes_at_end",
        "codegen: an operand with operators of its own (−2.0) is not parenthesised",
        equivalent=True,
        reason=(
            "since ** is written as np.power (pow left INFIX), every operand the writer "
            "produces is a name, an attribute, a call or a signed literal, which Python "
            "parses the same with or without the parentheses (test_a_negative_base_... "
            "kills it if ** returns to INFIX)"
        ),
    ),
    Mutant(
        "weak-constant-any-dtype",
        CODEGEN,
        "if not arrays or any(y.dtype != ins.out.dtype for y in ins.values()):",
        "if not arrays:",
        "codegen: a 0-d float constant is written as a (weak) Python float even where an "
        "operand has another dtype (float16 · float32 constant)",
    ),
    Mutant(
        "inline-size-one-loses-shape",
        CODEGEN,
        'return f"np.{value.dtype.name}({number}).reshape({value.shape})"',
        'return f"np.{value.dtype.name}({number})"',
        "codegen: a one-element constant of shape (1, 1) is written as a 0-d scalar",
    ),
    Mutant(
        "helper-keeps-annotations",
        CODEGEN,
        "return fn.__name__, _without_annotations(textwrap.dedent(inspect.getsource(fn))), needs",
        "return fn.__name__, textwrap.dedent(inspect.getsource(fn)), needs",
        "codegen: a helper defined in the source keeps its annotations (names the source "
        "does not define)",
    ),
    # ------------------------------------------------------------------ trace
    Mutant(
        "outside-view-frozen",
        BUILD,
        'return Value(self.unique("c"), data.shape, data.dtype, CONST, data)\n',
        'return Value(self.unique("c"), data.shape, data.dtype, CONST, data, frozen=True)\n',
        "trace: a view of a closed-over array is a frozen constant (may be folded), not "
        "memory read at every call",
    ),
    # ------------------------------------------------------------------ engine: backprop, grad
    Mutant(
        "path-ignores-targets",
        AUTOGRAD,
        "if t in targets or any(p in needed for p in t._parents if isinstance(p, Tensor)):",
        "if any(p in needed for p in t._parents if isinstance(p, Tensor)):",
        "backprop pruning: the targets themselves are not on a path to a target",
    ),
    Mutant(
        "stop-at-targets",
        AUTOGRAD,
        "sent = [] if t._op is None else input_grads(",
        "sent = [] if t._op is None or (targets and t in targets) else input_grads(",
        "autograd.grad: the gradient stops at a target instead of flowing on to an "
        "earlier target (not the total derivative)",
    ),
    Mutant(
        "grad-output-shape-unchecked",
        AUTOGRAD,
        "    elif np.shape(_data_of(v)) != output.shape:",
        "    elif False:",
        "autograd.grad: a grad_output of another shape is accepted (broadcast)",
    ),
    Mutant(
        "grad-dtype-not-restored",
        AUTOGRAD,
        'elif g.dtype != x.dtype and x.dtype.kind == "f":',
        "elif False:",
        "autograd.grad: a float32 input's gradient is left float64",
    ),
    Mutant(
        "grad-output-read-once",
        AUTOGRAD,
        "if create_graph or (recording and isinstance(v, Tensor)):",
        "if create_graph:",
        "autograd.grad: a grad_output tensor is read as data while tracing (baked in)",
    ),
)


# --------------------------------------------------------------------------- the harness


@dataclass
class Result:
    mutant: Mutant
    status: str
    seconds: float
    detail: str = ""


def repo_files(root: Path) -> list[str]:
    """The files of the repository: tracked ones, and untracked ones under tests/ and
    minigrad/ (work in progress belongs to the code under test)."""

    def git(*args: str) -> list[str]:
        out = subprocess.run(
            ["git", *args], cwd=root, check=True, capture_output=True, text=True
        ).stdout
        return [line for line in out.splitlines() if line]

    files = set(git("ls-files"))
    files |= set(git("ls-files", "--others", "--exclude-standard", "tests", "minigrad"))
    return sorted(f for f in files if (root / f).is_file())


def make_copy(root: Path, dest: Path) -> None:
    for name in repo_files(root):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HYPOTHESIS_PROFILE"] = "ci"
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a restored file must never meet a mutant's .pyc
    env.pop("CI", None)
    env.pop("MUTANT_UNDER_TEST", None)
    return env


def run_tests(
    copy: Path, timeout: float, tests: tuple[str, ...] = TEST_FILES
) -> tuple[str, float, str]:
    """(KILLED / SURVIVED / TIMEOUT, seconds, the first failing test or the reason)."""
    shutil.rmtree(copy / ".hypothesis", ignore_errors=True)  # no examples from other mutants
    files = [t for t in tests if (copy / t.split("::")[0]).exists()]
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-p", "no:randomly", *files]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=copy,
        env=environment(copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the pytest we started, and its children
        process.communicate()
        return TIMEOUT_STATUS, time.perf_counter() - start, f"over {timeout:.0f} s"
    seconds = time.perf_counter() - start
    if process.returncode == 0:
        return SURVIVED, seconds, ""
    failed = [
        line.split(" - ")[0]
        for line in output.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    ]
    detail = failed[0] if failed else output.strip().splitlines()[-1] if output.strip() else ""
    return KILLED, seconds, detail


def apply(copy: Path, mutant: Mutant) -> str | None:
    """Write the mutated file into the copy; the original text, or None when an edit's
    old text does not occur exactly once (the mutant is BROKEN)."""
    path = copy / mutant.file
    if not path.is_file():
        return None
    original = path.read_text(encoding="utf-8")
    text = original
    for old, new in mutant.edits():
        if original.count(old) != 1 or old == new:
            return None
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return original


def check_edits(root: Path, mutants: list[Mutant]) -> list[Mutant]:
    """The mutants whose edits do not apply to the code as it is."""
    broken = []
    for m in mutants:
        path = root / m.file
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if any(text.count(old) != 1 or old == new for old, new in m.edits()):
            broken.append(m)
    return broken


def run_one(copy: Path, mutant: Mutant, timeout: float, tests: tuple[str, ...]) -> Result:
    original = apply(copy, mutant)
    if original is None:
        return Result(mutant, BROKEN, 0.0, "the old text does not occur exactly once")
    try:
        status, seconds, detail = run_tests(copy, timeout, tests)
    finally:
        (copy / mutant.file).write_text(original, encoding="utf-8")
    return Result(mutant, status, seconds, detail)


def score(results: list[Result]) -> tuple[int, int, float]:
    """(killed, counted, killed / counted) over the mutants not marked equivalent."""
    counted = [r for r in results if not r.mutant.equivalent]
    killed = sum(r.status in (KILLED, TIMEOUT_STATUS) for r in counted)
    return killed, len(counted), killed / len(counted) if counted else 1.0


def table(results: list[Result]) -> str:
    width = max(len(r.mutant.id) for r in results)
    lines = [f"{'mutant':<{width}}  {'status':<10} {'secs':>6}  first failing test / note"]
    for r in results:
        status = r.status + ("*" if r.mutant.equivalent else "")
        note = r.detail if r.status != SURVIVED else r.mutant.breaks
        if r.mutant.equivalent:
            note = f"equivalent: {r.mutant.reason}"
        lines.append(f"{r.mutant.id:<{width}}  {status:<10} {r.seconds:6.1f}  {note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated mutant ids")
    parser.add_argument("--jobs", type=int, default=1, help="parallel copies (at most 2)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--check", action="store_true", help="only check that edits apply")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running the unmutated suite first")  # fmt: skip
    parser.add_argument("--tests", nargs="+", default=list(TEST_FILES),
                        help="test files or node ids to run instead of TEST_FILES (for "
                        "working on one mutant; the score needs the full list)")  # fmt: skip
    options = parser.parse_args(argv)

    mutants = list(MUTANTS)
    ids = [m.id for m in mutants]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        print(f"duplicate mutant ids: {sorted(duplicates)}")
        return 2
    if options.only:
        wanted = [x.strip() for x in options.only.split(",") if x.strip()]
        unknown = [x for x in wanted if x not in ids]
        if unknown:
            print(f"unknown mutant ids: {unknown}")
            return 2
        mutants = [m for m in mutants if m.id in wanted]
    if options.list:
        for m in mutants:
            mark = "  [equivalent]" if m.equivalent else ""
            print(f"{m.id:<32} {m.file:<28} {m.breaks}{mark}")
        print(f"{len(mutants)} mutants")
        return 0
    broken = check_edits(ROOT, mutants)
    if options.check:
        for m in broken:
            print(f"BROKEN {m.id} ({m.file}): an old text does not occur exactly once")
        print(f"{len(mutants) - len(broken)} of {len(mutants)} mutants apply")
        return 1 if broken else 0

    tests = tuple(options.tests)
    jobs = max(1, min(options.jobs, 2, len(mutants)))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jit_mutants_") as tmp:
        copies: queue.Queue[Path] = queue.Queue()
        for k in range(jobs):
            copy = Path(tmp) / f"copy{k}"
            make_copy(ROOT, copy)
            copies.put(copy)
        probe = subprocess.run(
            [sys.executable, "-c", "import minigrad; print(minigrad.__file__)"],
            cwd=Path(tmp) / "copy0", env=environment(Path(tmp) / "copy0"),
            capture_output=True, text=True,
        )  # fmt: skip
        if not probe.stdout.strip().startswith(tmp):
            print(f"the copy imports minigrad from {probe.stdout.strip()!r}, not from {tmp}")
            return 2
        if not options.no_baseline:
            status, seconds, detail = run_tests(Path(tmp) / "copy0", options.timeout, tests)
            print(f"baseline (no mutant): {'passed' if status == SURVIVED else status} "
                  f"in {seconds:.1f} s {detail}", flush=True)  # fmt: skip
            if status != SURVIVED:
                print("the unmutated suite must pass first")
                return 2
        lock = threading.Lock()
        results: list[Result] = []

        def work(mutant: Mutant) -> Result:
            copy = copies.get()
            try:
                result = run_one(copy, mutant, options.timeout, tests)
            finally:
                copies.put(copy)
            with lock:
                done = f"[{len(results) + 1:>3}/{len(mutants)}]"
                print(f"{done} {result.status:<8} {result.seconds:6.1f}s  {mutant.id}  "
                      f"{result.detail}", flush=True)  # fmt: skip
                results.append(result)
            return result

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(work, mutants))
    order = {m.id: k for k, m in enumerate(mutants)}
    results.sort(key=lambda r: order[r.mutant.id])

    print()
    print(table(results))
    counts = {s: sum(r.status == s for r in results)
              for s in (KILLED, TIMEOUT_STATUS, SURVIVED, BROKEN)}  # fmt: skip
    equivalent = [r for r in results if r.mutant.equivalent]
    killed, counted, ratio = score(results)
    print()
    print("  ".join(f"{s}: {n}" for s, n in counts.items()) + f"  (equivalent: {len(equivalent)})")
    print(f"score: {killed}/{counted} = {ratio:.1%} of the non-equivalent mutants killed "
          f"(threshold {THRESHOLD:.0%}); {time.perf_counter() - start:.0f} s")  # fmt: skip
    surviving = [r for r in results if r.status == SURVIVED and not r.mutant.equivalent]
    for r in surviving:
        print(f"SURVIVED {r.mutant.id}: {r.mutant.breaks}")
    for r in equivalent:
        if r.status in (KILLED, TIMEOUT_STATUS):
            print(f"NOTE {r.mutant.id} is marked equivalent but was killed: check its reason")
    return 0 if ratio >= THRESHOLD and not counts[BROKEN] else 1


if __name__ == "__main__":
    sys.exit(main())
