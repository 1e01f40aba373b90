"""Measure minigrad from outside with HIPS autograd's own (real-valued) test suite.

Why
---
Issue 18 ("Done means"): *measured from outside, HIPS autograd's real-valued test suite
passes ≥ 90 % through a thin adapter, and the rest refuse clearly.* HIPS's tests were
written by people who never saw minigrad, so they exercise NumPy the way users write it;
run before and after a branch lands, they say how much of NumPy minigrad differentiates,
and (the point of it) whether any gradient comes out silently wrong.

How
---
1. The test files are read from a snapshot of HIPS autograd (``--autograd-repo``: a git
   directory, bare or not, read with ``git show REV:tests/...``, or a plain checkout) and
   written to a temporary directory. Their code is never copied into this repository.
2. Next to them the tool writes a package ``autograd`` that is a thin adapter, written
   here from scratch (the package's files only re-export names defined in this module):

   - ``autograd.numpy`` *is* NumPy (``.random`` and ``.linalg`` too): minigrad's Tensors
     take part in ``np.*`` calls through ``__array_function__``/``__array_ufunc__``.
   - ``grad``, ``value_and_grad``, ``elementwise_grad`` (grad of the sum), ``jacobian``,
     ``hessian`` call ``mg.grad``/``mg.value_and_grad``/``mg.jacobian``/``mg.hessian``.
     The adapter only translates the calling convention: HIPS's ``argnum`` (an int or a
     tuple), arguments that are lists, tuples or dicts of arrays (each array becomes one
     of ``mg.grad``'s ``argnums``, and the gradient is packed back into the same
     structure), and at the top level a gradient comes back as an ndarray, as in HIPS
     (inside an outer transform it stays a Tensor, so that transforms nest).
   - ``make_vjp``, ``grad_and_aux``, ``make_hvp``, ``make_ggnvp``,
     ``hessian_tensor_product`` and ``tensor_jacobian_product`` are written, as HIPS
     writes them, on vector-Jacobian products, here ``mg.grad`` of Σ f(x)·v.
     ``checkpoint`` is the identity (it only saves memory); ``isinstance`` sees a Tensor
     as an ndarray; ``autograd.list/tuple/dict`` are the builtins.
   - ``test_util.check_grads(fun, argnum, modes, order)`` follows the semantics of HIPS's
     own (reimplemented, not copied): for random u, v compare vᵀ·J·u from a reverse-mode
     vector-Jacobian product with v·(f(x + εu/2) − f(x − εu/2))/ε, with HIPS's tolerances
     (ε = 1e-6, absolute or relative 1e-6); for ``order`` > 1 check (x, v) ↦ vᵀ·∂f/∂x the
     same way, recursively. The vjp is ``mg.grad`` of Σ f(x)·v, so the higher orders test
     that minigrad's transforms compose. ``combo_check`` tries every combination.
   - A few tests check autograd.numpy's own wrappers and fail with plain NumPy and no
     differentiation at all (``NOT_ABOUT_MINIGRAD``): skipped as out of scope, by name.
   - Beyond minigrad's reach, a test is *skipped* with a reason that starts "out of
     scope": complex arguments, forward mode (``modes=["fwd"]``; with "rev" among the
     modes only rev is checked), ``deriv``/``make_jvp``/``holomorphic_grad``,
     ``autograd.extend`` (primitive/defvjp), ``vspace``, ``autograd.scipy``. A
     check_grads that meets complex data skips just that check (and notes it); a test
     all of whose checks were skipped that way is out of scope too.
3. pytest runs the selected files in a subprocess, with this module as a plugin
   (``-p hips_suite``) that records every test's outcome and exception in JSON, and a
   per-test time limit (SIGALRM). Each test is classified:

   - PASS (a test whose true gradient is 0 can pass although the gradient was dropped:
     see test_numpy's test_std_list_of_boxes)
   - REFUSED-CLEARLY: the exception was raised inside minigrad's package (the innermost
     frame), is a TypeError, ValueError, NotImplementedError or RuntimeError, and its
     message says minigrad has no rule (``REFUSAL``: "would silently drop its gradient",
     "no rule", "not supported", "would hide the change", ...): what issue 18 calls
     refusing clearly. The NumPy function it names (``np.cumsum``, with the argument
     refused if any) is tallied as *missing*.
   - WRONG: an assertion failed, in check_grads (a gradient disagrees with finite
     differences) or in the test itself: the worst kind, a silently wrong gradient
     (read the detail; an assertion on something else is possible).
   - OTHER-ERROR: any other exception (an AttributeError deep inside, a time-out, ...).
   - OUT-OF-SCOPE: skipped, by the adapter (the reason says why) or by the suite itself
     (e.g. a missing optional library); not counted.

   The summary gives the % of in-scope tests passing, the missing functions by how many
   tests they block, and every WRONG and OTHER-ERROR test with a one-line reason;
   ``--json`` saves it all, and ``--compare`` an earlier JSON shows what moved (every
   test that left PASS or reached WRONG or OTHER-ERROR by name).

The selection (``DEFAULT_FILES``): the files that test real-valued differentiation
through the public API — NumPy functions (test_numpy, test_systematic, test_scalar_ops,
test_linalg, test_binary_ops, test_truediv, test_ufunc_dispatch), transforms and nesting
(test_graphs, test_jacobian, test_wrappers), and containers as arguments (test_list,
test_tuple, test_dict, test_builtins). Left out (``EXCLUDED_FILES``): complex numbers
(test_complex, test_fft), SciPy (test_scipy), and tests of autograd's internals (boxes,
vspaces, primitives, forward mode: test_core, test_vspaces, test_tests, test_logic,
test_misc, test_direct).

Run (from the repository root)::

    python tools/hips_suite.py                        # this checkout's minigrad
    python tools/hips_suite.py --minigrad /tmp/other-worktree --json after.json
    python tools/hips_suite.py --compare before.json  # what a branch changed
    python tools/hips_suite.py -k test_cumsum --files test_numpy.py   # a few tests
"""

from __future__ import annotations

import argparse
import builtins
import collections
import functools
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_REPO = "/work/.mirror/HIPS+autograd/repo"

DEFAULT_FILES = (
    "test_numpy.py",
    "test_systematic.py",
    "test_scalar_ops.py",
    "test_linalg.py",
    "test_binary_ops.py",
    "test_truediv.py",
    "test_ufunc_dispatch.py",
    "test_graphs.py",
    "test_jacobian.py",
    "test_wrappers.py",
    "test_list.py",
    "test_tuple.py",
    "test_dict.py",
    "test_builtins.py",
)

EXCLUDED_FILES = {
    "test_complex.py": "complex numbers",
    "test_fft.py": "complex-valued (FFTs)",
    "test_scipy.py": "autograd.scipy",
    "test_core.py": "autograd internals (make_vjp on boxes)",
    "test_vspaces.py": "autograd internals (vspace)",
    "test_tests.py": "autograd.extend primitives with a deliberately wrong defvjp",
    "test_logic.py": "autograd.extend primitives, forward mode",
    "test_misc.py": "autograd internals (tracer, const_graph, flatten)",
    "test_direct.py": "forward mode (deriv) and holomorphic_grad",
}

SUPPORT_FILES = ("conftest.py", "numpy_utils.py")  # what the test files import

OUT_OF_SCOPE = "out of scope"

NOT_ABOUT_MINIGRAD = {
    "test_numpy.py::test_make_diagonal": "np.make_diagonal is autograd.numpy's, not NumPy's",
    "test_numpy.py::test_diagonal": "np.make_diagonal is autograd.numpy's, not NumPy's",
    "test_wrappers.py::test_custom_where_dtypes": (
        "checks the dtypes of autograd.numpy's own np.where, which NumPy's differ from"
    ),
    "test_wrappers.py::test_custom_where": (
        "np.where with keyword arguments: autograd.numpy's allows them, NumPy's does not"
    ),
    "test_wrappers.py::test_wrapped_name_and_docs": (
        "checks the names and docstrings autograd gives to its wrapped functions"
    ),
}
"""Tests that fail with plain NumPy and no differentiation at all (they test autograd's
own wrappers): skipped as out of scope, by name, with the reason."""

# --------------------------------------------------------------------------------------
# The adapter: HIPS autograd's API on minigrad
# --------------------------------------------------------------------------------------

TOL = 1e-6  # HIPS's tolerances for check_grads: absolute or relative
RTOL = 1e-6
EPS = 1e-6  # the finite-difference step

LOG: dict[str, Any] = {"checks": 0, "skipped": []}
"""What check_grads did in the current test (reset by the plugin before each test):
how many checks ran, and the checks it skipped with why (complex data, forward mode)."""


class GradientMismatch(AssertionError):
    """check_grads: minigrad's vjp disagrees with finite differences (or has the wrong
    shape): a silently wrong gradient."""


def out_of_scope(why: str) -> None:
    """Skip the running test: it needs something minigrad does not provide."""
    import pytest

    pytest.skip(f"{OUT_OF_SCOPE}: {why}")


def _note_skip(why: str) -> None:
    LOG["skipped"].append(why)


def _mg() -> Any:
    import minigrad

    return minigrad


def _is_tensor(x: Any) -> bool:
    return isinstance(x, _mg().Tensor)


def _is_complex(x: Any) -> bool:
    if _is_tensor(x):
        return False
    return isinstance(x, complex) or np.iscomplexobj(x)


# --- arguments that are lists, tuples or dicts of arrays (HIPS's containers) ----------


def leaves(tree: Any) -> list[Any]:
    """The arrays (and numbers, Tensors) inside nested lists, tuples and dicts, in order."""
    if isinstance(tree, list | tuple):
        return [leaf for item in tree for leaf in leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in leaves(item)]
    return [tree]


def rebuild(tree: Any, new_leaves: Iterator[Any] | list[Any]) -> Any:
    """``tree`` with its leaves replaced, in order, by ``new_leaves``."""
    it = iter(new_leaves)

    def build(node: Any) -> Any:
        if isinstance(node, list | tuple):
            items = [build(item) for item in node]
            return items if type(node) is list else tuple(items)
        if isinstance(node, dict):
            return type(node)((k, build(v)) for k, v in node.items())
        return next(it)

    return build(tree)


def _subvals(args: tuple, argnum: int | tuple | list, x: Any) -> tuple:
    """args with the differentiated argument(s) replaced by ``x``."""
    new = list(args)
    if isinstance(argnum, int):
        new[argnum] = x
    else:
        for i, xi in zip(argnum, x, strict=True):
            new[i] = xi
    return tuple(new)


def _pick(args: tuple, argnum: int | tuple | list) -> Any:
    return args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)


def _to_user(x: Any) -> Any:
    """A transform's result as HIPS returns it: at the top level an ndarray (a NumPy
    scalar for 0-d); inside an outer transform (the Tensor is part of a graph) as is."""
    if _is_tensor(x):
        if x.requires_grad:
            return x
        data = np.asarray(x.data)
        return data[()] if data.ndim == 0 else data
    return x


def _flat_function(fun: Callable, argnum: Any, args: tuple, kwargs: dict) -> tuple:
    """(x, its leaves, g) where g(*leaves) = fun(*args) with those leaves put back."""
    x = _pick(args, argnum)
    xs = leaves(x)
    if any(_is_complex(leaf) for leaf in xs):
        out_of_scope("complex argument")

    def flat(*new_leaves: Any) -> Any:
        return fun(*_subvals(args, argnum, rebuild(x, list(new_leaves))), **kwargs)

    return x, xs, flat


def value_and_grad(fun: Callable, argnum: int | tuple = 0) -> Callable:
    """HIPS's value_and_grad on ``mg.value_and_grad``."""

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        x, xs, flat = _flat_function(fun, argnum, args, kwargs)
        value, grads = _mg().value_and_grad(flat, argnums=tuple(range(len(xs))))(*xs)
        return _to_user(value), rebuild(x, [_to_user(g) for g in grads])

    return wrapped


def grad(fun: Callable, argnum: int | tuple = 0) -> Callable:
    """HIPS's grad on ``mg.grad``: the gradient has the structure of the argument."""

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad(fun, argnum)(*args, **kwargs)[1]

    return wrapped


def _sum_of_leaves(out: Any) -> Any:
    total: Any = 0.0
    for leaf in leaves(out):
        total = total + np.sum(leaf)
    return total


def elementwise_grad(fun: Callable, argnum: int | tuple = 0) -> Callable:
    """HIPS's elementwise_grad: the gradient of the sum of the outputs (vᵀJ with v = 1)."""

    def summed(*args: Any, **kwargs: Any) -> Any:
        return _sum_of_leaves(fun(*args, **kwargs))

    return grad(functools.wraps(fun)(summed), argnum)


def _array_transform(transform_name: str) -> Callable:
    def transform(fun: Callable, argnum: int = 0) -> Callable:
        @functools.wraps(fun)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            x = args[argnum]
            if _is_complex(x):
                out_of_scope("complex argument")

            def unary(x: Any) -> Any:
                return fun(*_subvals(args, argnum, x), **kwargs)

            return _to_user(getattr(_mg(), transform_name)(unary)(x))

        return wrapped

    transform.__name__ = transform_name
    return transform


jacobian = _array_transform("jacobian")
jacobian.__doc__ = "HIPS's jacobian on ``mg.jacobian`` (shape f(x).shape + x.shape)."
hessian = _array_transform("hessian")
hessian.__doc__ = "HIPS's hessian on ``mg.hessian``."


def make_vjp(fun: Callable, argnum: int | tuple = 0) -> Callable:
    """HIPS's make_vjp: ``make_vjp(f)(*args)`` is (v ↦ vᵀ·∂f/∂x, f(*args))."""

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Callable, Any]:
        x = _pick(args, argnum)

        def unary(x: Any) -> Any:
            return fun(*_subvals(args, argnum, x), **kwargs)

        def vjp_of(v: Any) -> Any:
            return rebuild(x, [_to_user(g) for g in vjp(unary, x, leaves(v))])

        return vjp_of, unary(x)

    return wrapped


def grad_and_aux(fun: Callable, argnum: int | tuple = 0) -> Callable:
    """HIPS's grad_and_aux: f returns (value, aux); gives (∂value/∂x, aux)."""

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        aux = []

        def value(*args: Any, **kwargs: Any) -> Any:
            out, extra = fun(*args, **kwargs)
            aux.append(extra)
            return out

        return grad(value, argnum)(*args, **kwargs), aux[-1]

    return wrapped


def _contract(a: Any, b: Any, axes: int) -> Any:
    """Σ over a's ``axes`` dimensions matched with b's: a product and a sum when they
    cover all of b (what the HIPS tests need), else np.tensordot."""
    if axes == np.ndim(b):
        return np.sum(a * b)
    return np.tensordot(a, b, axes=axes)


def hessian_tensor_product(fun: Callable, argnum: int = 0) -> Callable:
    """HIPS's hessian_tensor_product: (*args, v) ↦ ∂/∂x (∂f/∂x · v)."""
    gradient = grad(fun, argnum)

    def dot_gradient(*args: Any, **kwargs: Any) -> Any:
        *args, vector = args
        return _contract(gradient(*args, **kwargs), vector, np.ndim(vector))

    return grad(dot_gradient, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable, argnum: int = 0) -> Callable:
    """HIPS's tensor_jacobian_product: (*args, v) ↦ vᵀ·∂f/∂x."""

    def dot_fun(*args: Any, **kwargs: Any) -> Any:
        *args, vector = args
        return _contract(vector, fun(*args, **kwargs), np.ndim(vector))

    return jacobian(dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_hvp(fun: Callable, argnum: int = 0) -> Callable:
    """HIPS's make_hvp: ``make_hvp(f)(x)`` is (v ↦ H·v, ∂f/∂x)."""
    return make_vjp(grad(fun, argnum), argnum)


def make_ggnvp(f: Callable, g: Callable | None = None, f_argnum: int = 0) -> Callable:
    """HIPS's make_ggnvp (generalized Gauss-Newton products), from vjps only: the jvp
    of f is the vjp of f's (linear) vjp."""
    g = g if g is not None else (lambda y: 0.5 * np.sum(y**2, axis=-1))

    def at(*args: Any, **kwargs: Any) -> Callable:
        f_vjp, f_x = make_vjp(f, f_argnum)(*args, **kwargs)
        g_hvp, grad_g_x = make_vjp(grad(g))(f_x)
        f_jvp, _ = make_vjp(f_vjp)(np.zeros(np.shape(grad_g_x)))
        return lambda v: f_vjp(g_hvp(f_jvp(v)))

    return at


def checkpoint(fun: Callable) -> Callable:
    """HIPS's checkpoint only saves memory: the identity here."""
    return fun


def ag_isinstance(obj: Any, types: Any) -> bool:
    """HIPS's isinstance sees through its boxes: a Tensor counts as an ndarray."""
    if _is_tensor(obj):
        obj = np.asarray(obj.data)
    return builtins.isinstance(obj, types)


def isbox(x: Any) -> bool:
    """HIPS's isbox: whether x is being traced (our box is a Tensor)."""
    return _is_tensor(x)


def unsupported(name: str, why: str) -> Callable:
    """A stand-in for a HIPS name minigrad cannot provide: calling it skips the test."""

    def stub(*args: Any, **kwargs: Any) -> Any:
        out_of_scope(f"autograd.{name} ({why})")

    stub.__name__ = name
    return stub


UNSUPPORTED = {
    "deriv": "forward mode",
    "make_jvp": "forward mode",
    "holomorphic_grad": "complex numbers",
    "primitive": "autograd.extend primitives",
    "defvjp": "autograd.extend primitives",
    "defvjp_argnum": "autograd.extend primitives",
    "defjvp": "forward mode",
    "vspace": "autograd vector spaces",
}


def missing(module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the adapter's modules: HIPS names it does not know
    become stubs that skip the test when called (out of scope, with the name)."""

    def getattr_(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        why = UNSUPPORTED.get(name, "not provided by the minigrad adapter")
        return unsupported(f"{module}{name}", why)

    return getattr_


# --- check_grads ---------------------------------------------------------------------


def scalar_close(a: float, b: float) -> bool:
    """HIPS's comparison: absolutely or relatively within 1e-6 (NaN never passes)."""
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _value(x: Any) -> np.ndarray:
    """A leaf as a float64 array (Tensors by their data)."""
    data = x.data if _is_tensor(x) else x
    return np.asarray(data, dtype=np.float64)


def _randn_like(xs: list[Any]) -> list[np.ndarray]:
    return [np.random.randn(*np.shape(x)) for x in xs]


def _inner(a: list[Any], b: list[Any]) -> float:
    return float(sum(np.vdot(_value(p), _value(q)) for p, q in zip(a, b, strict=True)))


def vjp(f: Callable, x: Any, v: list[Any]) -> list[Any]:
    """vᵀ·∂f/∂x, one entry per leaf of x: ``mg.grad`` of Σ_leaves Σ f(x)·v (so it is
    differentiable again when x or v are an outer transform's Tensors)."""
    xs = leaves(x)

    def projected(*new_leaves: Any) -> Any:
        outs = leaves(f(rebuild(x, list(new_leaves))))
        total: Any = 0.0
        for out, w in zip(outs, v, strict=True):
            total = total + np.sum(out * w)
        return total

    return list(_mg().grad(projected, argnums=tuple(range(len(xs))))(*xs))


def _shifted(x: Any, u: list[np.ndarray], step: float) -> Any:
    return rebuild(x, [_value(a) + step * b for a, b in zip(leaves(x), u, strict=True)])


def _check_vjp(f: Callable, x: Any) -> None:
    ys = leaves(f(x))
    xs = leaves(x)
    u = _randn_like(xs)
    v = _randn_like(ys)
    grads = vjp(f, x, v)
    for leaf, g in zip(xs, grads, strict=True):
        if np.shape(g) != np.shape(leaf):
            raise GradientMismatch(
                f"vjp of {_name(f)} has shape {np.shape(g)}, its argument {np.shape(leaf)}"
            )
    exact = _inner(u, grads)
    plus = leaves(f(_shifted(x, u, EPS / 2)))
    minus = leaves(f(_shifted(x, u, -EPS / 2)))
    numeric = _inner(v, [(_value(p) - _value(m)) / EPS for p, m in zip(plus, minus, strict=True)])
    if not scalar_close(numeric, exact):
        arg = " ".join(repr(x).split())
        raise GradientMismatch(
            f"vjp check of {_name(f)}: minigrad {exact!r}, finite differences {numeric!r}, "
            f"at {arg[:80] + ('...' if len(arg) > 80 else '')}"
        )


def _name(f: Callable) -> str:
    return getattr(f, "__name__", "[unknown name]")


def _check(f: Callable, x: Any, modes: list[str], order: int) -> None:
    if "rev" not in modes:
        _note_skip("forward mode")
        return
    if any(_is_complex(leaf) for leaf in leaves(x)):
        _note_skip("complex argument")
        return
    y = f(x)
    if any(_is_complex(leaf) for leaf in leaves(y)):
        _note_skip("complex output")
        return
    _check_vjp(f, x)
    LOG["checks"] += 1
    if order > 1:
        v = _randn_like(leaves(y))

        def grad_f(xv: tuple) -> Any:
            inner_x, inner_v = xv
            return rebuild(inner_x, vjp(f, inner_x, leaves(inner_v)))

        grad_f.__name__ = f"vjp_{_name(f)}"
        _check(grad_f, (x, v), modes, order - 1)


def check_grads(
    fun: Callable, argnum: int | tuple = 0, modes: list[str] | None = None, order: int = 2
) -> Callable:
    """HIPS's check_grads, reverse mode only: ``check_grads(f, modes, order)(*args)``."""

    @functools.wraps(fun)
    def checked(*args: Any, **kwargs: Any) -> None:
        x = _pick(args, argnum)

        def unary(x: Any) -> Any:
            return fun(*_subvals(args, argnum, x), **kwargs)

        unary.__name__ = _name(fun)
        _check(unary, x, list(modes) if modes is not None else ["fwd", "rev"], order)

    return checked


def combo_check(fun: Callable, *args: Any, **kwargs: Any) -> Callable:
    """check_grads(fun, *args, **kwargs) at every combination of the values given."""

    def combos(*arg_lists: Any, **kwarg_lists: Any) -> None:
        pairs = [[(k, v) for v in vs] for k, vs in kwarg_lists.items()]
        for call_args in itertools.product(*arg_lists):
            for call_kwargs in itertools.product(*pairs):
                check_grads(fun, *args, **kwargs)(*call_args, **dict(call_kwargs))

    return combos


def check_equivalent(x: Any, y: Any) -> None:
    """HIPS's check_equivalent: same shapes, and equal along a random direction."""
    xs, ys = leaves(x), leaves(y)
    assert [np.shape(a) for a in xs] == [np.shape(b) for b in ys], f"shapes: {x} vs {y}"
    v = _randn_like(xs)
    assert scalar_close(_inner(xs, v), _inner(ys, v)), f"Value mismatch:\nx: {x}\ny: {y}"


# --- the generated package -------------------------------------------------------------

_REEXPORT = "from hips_suite import {names}  # noqa: F401\n"
_GETATTR = "from hips_suite import missing\n\n__getattr__ = missing({prefix!r})\n"

ADAPTER_FILES = {
    "autograd/__init__.py": (
        '"""HIPS autograd\'s API on minigrad: generated by minigrad\'s tools/hips_suite.py."""\n'
        "import sys\n\nimport numpy\n\n"
        + _REEXPORT.format(
            names="checkpoint, elementwise_grad, grad, grad_and_aux, hessian, "
            "hessian_tensor_product, hessian_vector_product, jacobian, make_ggnvp, "
            "make_hvp, make_vjp, tensor_jacobian_product, value_and_grad, "
            "vector_jacobian_product"
        )
        + _REEXPORT.format(names="ag_isinstance as isinstance")
        + "from builtins import dict, list, tuple  # noqa: F401\n"
        + "from hips_suite import missing\n\n"
        + 'sys.modules[__name__ + ".numpy"] = numpy  # autograd.numpy is NumPy itself\n'
        + 'sys.modules[__name__ + ".numpy.random"] = numpy.random\n'
        + 'sys.modules[__name__ + ".numpy.linalg"] = numpy.linalg\n'
        + "__getattr__ = missing('')\n"
    ),
    "autograd/test_util.py": _REEXPORT.format(
        names="check_equivalent, check_grads, combo_check, scalar_close"
    ),
    "autograd/builtins.py": (
        "from builtins import dict, list, tuple  # noqa: F401\n"
        + _REEXPORT.format(names="ag_isinstance as isinstance")
    ),
    "autograd/tracer.py": _REEXPORT.format(names="isbox") + _GETATTR.format(prefix="tracer."),
    "autograd/extend.py": _GETATTR.format(prefix="extend."),
    "autograd/core.py": _GETATTR.format(prefix="core."),
    "autograd/misc/__init__.py": _GETATTR.format(prefix="misc."),
    "autograd/util.py": _GETATTR.format(prefix="util."),
    "autograd/scipy/__init__.py": (
        "import pytest\n\npytest.skip('out of scope: autograd.scipy', allow_module_level=True)\n"
    ),
    "pytest.ini": "[pytest]\n",  # pins pytest's rootdir here, away from any other config
}


# --------------------------------------------------------------------------------------
# The pytest plugin (``-p hips_suite`` in the subprocess): records outcomes as JSON
# --------------------------------------------------------------------------------------

_RECORDS: dict[str, dict[str, Any]] = {}


class TimeLimit(Exception):
    """The test ran longer than --timeout seconds."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise TimeLimit(f"timed out after {os.environ.get('HIPS_SUITE_TIMEOUT')} s")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    import pytest

    for item in items:
        name = item.nodeid.split("[")[0].split("/")[-1]
        if name in NOT_ABOUT_MINIGRAD:
            reason = f"{OUT_OF_SCOPE}: {NOT_ABOUT_MINIGRAD[name]}"
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: Any) -> None:
    LOG["checks"], LOG["skipped"] = 0, []
    timeout = int(os.environ.get("HIPS_SUITE_TIMEOUT", "0"))
    if timeout:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(timeout)


def pytest_runtest_teardown(item: Any) -> None:
    signal.alarm(0)


def _exception_record(excinfo: Any) -> dict[str, Any]:
    """Type, message, where it was raised, and whether inside minigrad."""
    import minigrad

    package = str(Path(minigrad.__file__).parent)
    frames = traceback.extract_tb(excinfo.tb)
    last = frames[-1] if frames else None
    tests = [f for f in frames if Path(f.filename).name.startswith("test_")]
    return {
        "type": excinfo.type.__name__,
        "message": str(excinfo.value),
        "raised_at": f"{last.filename}:{last.lineno}" if last else "",
        "in_minigrad": bool(last and last.filename.startswith(package)),
        "test_line": f"line {tests[-1].lineno}: {tests[-1].line}" if tests else "",
        "gradient_mismatch": builtins.isinstance(excinfo.value, GradientMismatch),
    }


def pytest_runtest_makereport(item: Any, call: Any) -> None:
    if call.excinfo is not None and call.when in ("setup", "call"):
        record = _RECORDS.setdefault(item.nodeid, {})
        if "exception" not in record and not call.excinfo.errisinstance(
            __import__("pytest").skip.Exception
        ):
            record["exception"] = _exception_record(call.excinfo)


def pytest_runtest_logreport(report: Any) -> None:
    record = _RECORDS.setdefault(report.nodeid, {})
    if report.failed:
        record["outcome"] = "failed"
    elif report.skipped and record.get("outcome") != "failed":
        record["outcome"] = "skipped"
        longrepr = report.longrepr
        reason = longrepr[2] if builtins.isinstance(longrepr, tuple) else str(longrepr)
        record["reason"] = reason.removeprefix("Skipped: ")
    elif report.when == "call" and report.passed:
        record["outcome"] = "passed"
    if report.when == "call":
        record["checks"], record["skipped_checks"] = LOG["checks"], list(LOG["skipped"])


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _RECORDS[report.nodeid] = {
            "outcome": "failed",
            "collection": True,
            "exception": {"type": "CollectionError", "message": str(report.longrepr)[-2000:]},
        }


def pytest_sessionfinish(session: Any) -> None:
    path = os.environ.get("HIPS_SUITE_REPORT")
    if path:
        Path(path).write_text(json.dumps(_RECORDS, indent=1))


# --------------------------------------------------------------------------------------
# Extracting, running, classifying, reporting
# --------------------------------------------------------------------------------------

CATEGORIES = ("PASS", "REFUSED-CLEARLY", "WRONG", "OTHER-ERROR", "OUT-OF-SCOPE")

REFUSAL = re.compile(
    r"would silently drop its gradient|would hide the change|no (gradient )?rule"
    r"|not supported|cannot differentiate|not differentiable",
    re.IGNORECASE,
)
REFUSAL_TYPES = ("TypeError", "ValueError", "NotImplementedError", "RuntimeError")
NUMPY_NAME = re.compile(r"\bnp\.[A-Za-z_][\w.]*[A-Za-z_\d]")


def read_tests(repo: Path, rev: str, name: str) -> str:
    """The text of tests/NAME from a git directory (at ``rev``) or a checkout."""
    on_disk = repo / "tests" / name
    if on_disk.is_file():
        return on_disk.read_text()
    result = subprocess.run(
        ["git", "-C", str(repo), "show", f"{rev}:tests/{name}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def prepare(repo: Path, rev: str, files: list[str], dest: Path) -> Path:
    """Write the tests and the adapter package into ``dest``; return the tests' folder."""
    tests = dest / "tests"
    tests.mkdir(parents=True)
    for name in (*SUPPORT_FILES, *files):
        (tests / name).write_text(read_tests(repo, rev, name))
    for rel, text in ADAPTER_FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tests


def run_pytest(
    dest: Path, files: list[str], minigrad_root: Path, timeout: int, extra: list[str]
) -> dict[str, dict[str, Any]]:
    """Run pytest on the extracted files with this module as plugin; the JSON records."""
    report = dest / "report.json"
    env = dict(os.environ)
    path = [str(minigrad_root), str(Path(__file__).resolve().parent), str(dest)]
    env["PYTHONPATH"] = os.pathsep.join([*path, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["HIPS_SUITE_REPORT"] = str(report)
    env["HIPS_SUITE_TIMEOUT"] = str(timeout)
    command = [sys.executable, "-m", "pytest", "-p", "hips_suite", "-p", "no:cacheprovider"]
    command += ["-q", "--no-header", "-o", "addopts=", "--tb=no", *extra, *files]
    subprocess.run(command, cwd=dest / "tests", env=env, stdout=subprocess.DEVNULL)
    if not report.exists():
        raise SystemExit("pytest wrote no report: run it by hand in " + str(dest))
    return json.loads(report.read_text())


def classify(record: dict[str, Any]) -> tuple[str, str]:
    """(category, one-line reason) of one test's record."""
    outcome = record.get("outcome", "failed")
    skipped = record.get("skipped_checks", [])
    if outcome == "skipped":
        reason = record.get("reason", "")
        return (
            "OUT-OF-SCOPE",
            reason if OUT_OF_SCOPE in reason else f"skipped by the suite: {reason}",
        )
    if outcome == "passed":
        if skipped and not record.get("checks"):
            why = ", ".join(sorted(set(skipped)))
            return "OUT-OF-SCOPE", f"{OUT_OF_SCOPE}: every gradient check was skipped ({why})"
        note = f"{len(skipped)} checks skipped ({', '.join(sorted(set(skipped)))})"
        return "PASS", note if skipped else ""
    exc = record.get("exception", {"type": "?", "message": ""})
    message = exc["message"]
    first = message.strip().splitlines()[0] if message.strip() else ""
    line = f"{exc['type']}: {first}"[:200]
    if "complex" in message.lower() and exc["type"] != "AssertionError":
        return "OUT-OF-SCOPE", f"{OUT_OF_SCOPE}: complex values ({line})"
    if exc["type"] == "AssertionError" or exc.get("gradient_mismatch"):
        return "WRONG", f"{line} [{exc.get('test_line', '').strip()}]"
    if exc.get("in_minigrad") and exc["type"] in REFUSAL_TYPES and REFUSAL.search(message):
        return "REFUSED-CLEARLY", line
    where = Path(exc.get("raised_at", "")).name
    return "OTHER-ERROR", f"{line} (raised at {where})"


def missing_function(record: dict[str, Any]) -> str:
    """What a clear refusal says is missing: the NumPy function it names (np.cumsum),
    else the start of its message ("einsum: '...' is not supported by minigrad")."""
    message = record.get("exception", {}).get("message", "")
    found = NUMPY_NAME.search(message)
    if not found:
        return re.split(r";| on a tensor", message)[0][:60]
    detail = re.search(r"no rule for (.+?)\)\. ", message)
    if detail and detail.group(1) != "it":
        return f"{found.group(0)} ({detail.group(1)[:50]})"
    return found.group(0)


def summarize(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-test categories, counts, the % passing over in-scope tests, missing functions."""
    tests = {}
    for nodeid, record in sorted(records.items()):
        category, reason = classify(record)
        tests[nodeid] = {"category": category, "reason": reason, "checks": record.get("checks")}
        if category == "REFUSED-CLEARLY":
            tests[nodeid]["missing"] = missing_function(record)
    counts = collections.Counter(t["category"] for t in tests.values())
    in_scope = sum(counts[c] for c in CATEGORIES if c != "OUT-OF-SCOPE")
    missing = collections.Counter(t["missing"] for t in tests.values() if "missing" in t)
    return {
        "counts": {c: counts[c] for c in CATEGORIES},
        "in_scope": in_scope,
        "pass_percent": round(100 * counts["PASS"] / in_scope, 1) if in_scope else None,
        "missing_functions": dict(missing.most_common()),
        "tests": tests,
    }


def by_file(tests: dict[str, dict[str, Any]]) -> dict[str, collections.Counter]:
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for nodeid, t in tests.items():
        table[nodeid.split("::")[0]][t["category"]] += 1
    return table


def print_report(summary: dict[str, Any], verbose_out_of_scope: bool = False) -> None:
    short = ("PASS", "REFUSED", "WRONG", "OTHER", "OUT")
    table = by_file(summary["tests"])
    print(f"{'file':<24}" + "".join(f"{s:>9}" for s in short))
    for name, counter in sorted(table.items()):
        print(f"{name:<24}" + "".join(f"{counter[c]:>9}" for c in CATEGORIES))
    print(f"{'total':<24}" + "".join(f"{summary['counts'][c]:>9}" for c in CATEGORIES))
    print(
        f"\nin scope: {summary['in_scope']} tests; passing: {summary['counts']['PASS']} "
        f"({summary['pass_percent']} %)"
    )
    counts = summary["counts"]
    clear = counts["PASS"] + counts["REFUSED-CLEARLY"]
    if summary["in_scope"]:
        print(
            f"passing or refusing clearly: {clear} ({100 * clear / summary['in_scope']:.1f} %);"
            f" silently wrong: {counts['WRONG']}"
        )
    if summary["missing_functions"]:
        print("\nmissing (NumPy functions minigrad refuses, by number of tests refused):")
        for name, n in summary["missing_functions"].items():
            print(f"  {n:>3}  {name}")
    shown = ["WRONG", "OTHER-ERROR"] + (["OUT-OF-SCOPE"] if verbose_out_of_scope else [])
    for category in shown:
        items = [(k, t) for k, t in summary["tests"].items() if t["category"] == category]
        if items:
            print(f"\n{category} ({len(items)}):")
            for nodeid, t in items:
                print(f"  {nodeid}\n      {t['reason']}")


def print_comparison(before: dict[str, Any], after: dict[str, Any]) -> None:
    """What changed since an earlier ``--json``: counts, and every test that moved."""
    print("\ncompared with the earlier run:")
    for c in CATEGORIES:
        old, new = before["counts"].get(c, 0), after["counts"][c]
        print(f"  {c:<16}{old:>5} -> {new:<5}" + (f" ({new - old:+d})" if new != old else ""))
    print(f"  pass %          {before['pass_percent']} -> {after['pass_percent']}")
    moves = collections.defaultdict(list)
    for nodeid, t in after["tests"].items():
        was = before["tests"].get(nodeid, {}).get("category", "(new)")
        if was != t["category"]:
            moves[(was, t["category"])].append(nodeid)
    for (was, now), nodeids in sorted(moves.items()):
        print(f"  {was} -> {now}: {len(nodeids)}")
        if now in ("WRONG", "OTHER-ERROR") or was == "PASS":  # regressions, in full
            for nodeid in nodeids:
                print(f"      {nodeid}: {after['tests'][nodeid]['reason']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--autograd-repo", type=Path, default=Path(DEFAULT_REPO))
    parser.add_argument("--rev", default="HEAD", help="revision, when the repo is a git dir")
    parser.add_argument(
        "--minigrad",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the checkout whose minigrad to measure (default: this one)",
    )
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES))
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per test")
    parser.add_argument("--json", type=Path, help="write the per-test results here")
    parser.add_argument("--compare", type=Path, help="an earlier --json: show what changed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--show-out-of-scope", action="store_true")
    args = parser.parse_args(argv)

    dest = Path(tempfile.mkdtemp(prefix="hips_suite_"))
    prepare(args.autograd_repo, args.rev, args.files, dest)
    extra = ["-k", args.keyword] if args.keyword else []
    records = run_pytest(dest, args.files, args.minigrad.resolve(), args.timeout, extra)
    summary = summarize(records)
    summary["minigrad"] = str(args.minigrad.resolve())
    summary["files"] = args.files
    print_report(summary, args.show_out_of_scope)
    if args.compare:
        print_comparison(json.loads(args.compare.read_text()), summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    if args.keep:
        print(f"\nthe tests and the adapter are in {dest}")
    else:
        import shutil

        shutil.rmtree(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
