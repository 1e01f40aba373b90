"""Random straight-line minigrad programs as data, and the differential check of ``mg.jit``.

The contract under test (issue 16): a jitted function returns exactly what eager minigrad
returns — values, gradients, dtypes, shapes, random streams, raised errors — and its
results alias nothing the caller holds; or it refuses on the first call for an argument
signature (a ``TraceError`` saying why).

A :class:`Prog` is plain data: the inputs' shapes and dtypes, the state the function
closes over (Tensors, arrays, Python floats, Modules, Dropout) with the changes made to
it before every call, the steps as Python source text, and the argument values of every
call. So Hypothesis can shrink it, and ``repr(prog)`` is a script that reproduces a
failure by hand. :func:`check` runs a program in two identical "worlds" built from the
same seed, one eager and one compiled, call by call, and raises AssertionError at the
first difference; :func:`assert_same` is the comparison rule, in one place.

Only public behaviour is used: ``mg.jit``, the transforms, ``mg.nn``, ``mg.losses``,
Tensor methods and NumPy functions on Tensors.
"""

from __future__ import annotations

import collections
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import TraceError

nan, inf = float("nan"), float("inf")

FLOAT_SPECIALS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, nan, inf, -inf)
"""Values every float input and closed-over float draws from (besides plain floats)."""

SHAPES = ((2,), (), (1,), (3,), (2, 3), (0,), (3, 2), (1, 3), (3, 1), (2, 2), (0, 3), (2, 1, 3))
TINY_SHAPES = ((2,), (), (1,), (3,), (1, 2), (2, 1))  # for jacobian: a few elements only
DTYPES = ("float64", "float32", "float16", "int32", "int8", "bool", "float64", "float32")
FLOATS = ("float16", "float32", "float64")
NUMBER = "number"  # an input that is a Python float argument (weakly typed)

CELL_KINDS = ("tensor_cell", "float_cell")  # rebound through a ``nonlocal`` setter
MODES = ("plain", "grad", "value_and_grad", "jacobian", "vjp", "grad_of_jit", "backward")
ALIAS_MODES = ("plain", "grad", "value_and_grad", "jacobian", "vjp")  # results the jit made


def namespace() -> dict[str, Any]:
    """What program source, state and updates are evaluated in."""
    return {"np": np, "mg": mg, "nan": nan, "inf": inf}


# --------------------------------------------------------------------------- source text


def array_src(a: np.ndarray) -> str:
    """Source text that rebuilds ``a`` exactly (dtype, shape, -0.0, nan, inf)."""
    dt = "bool_" if a.dtype == np.bool_ else a.dtype.name
    if a.size == 0:
        return f"np.zeros({a.shape!r}, dtype=np.{dt})"
    suffix = "" if dt == "float64" else f", dtype=np.{dt}"
    return f"np.array({a.tolist()!r}{suffix})"


def value_src(v: Any) -> str:
    return array_src(v) if isinstance(v, np.ndarray) else repr(v)


Operand = tuple  # ("v", pool index) | ("c", constant source) | ("s", state expression)


@dataclass(frozen=True)
class Step:
    """One line ``t = template.format(*operands)``; operand 0, when present, is a value of
    the pool (an input or an earlier step's result)."""

    template: str
    operands: tuple[Operand, ...] = ()

    def render(self, names: Sequence[str]) -> str:
        parts = []
        for kind, x in self.operands:
            if kind == "v":
                parts.append(names[x])
            elif kind == "c" and x.startswith("-"):
                parts.append(f"({x})")  # -1.0 ** x would be −(1 ** x)
            else:
                parts.append(x)
        return self.template.format(*parts)


@dataclass(frozen=True)
class StateItem:
    """Something the function closes over: built from ``init`` (source), read in the
    function as ``expr``, changed before call k by the statements ``updates[k]``."""

    name: str
    kind: str  # tensor | ndarray | tensor_cell | tensor_dict | float_cell | float_box | module
    init: str
    updates: tuple[tuple[str, ...], ...]

    @property
    def expr(self) -> str:
        return {"tensor_dict": f'{self.name}["t"]', "float_box": f"{self.name}[0]"}.get(
            self.kind, self.name
        )


@dataclass(eq=False)
class Prog:
    """A random program and the data of every call (see the module docstring)."""

    inputs: tuple[tuple[tuple[int, ...], str], ...]  # (shape, dtype or NUMBER)
    state: tuple[StateItem, ...]
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]  # pool indices; a tuple is returned when there are two
    calls: tuple[tuple[Any, ...], ...]  # argument values, per call
    seed: int = 0  # mg.manual_seed before each world is built
    out_shapes: tuple[tuple[int, ...], ...] = ()
    sumsq: tuple[int, ...] = ()  # per output: n if it is a (documented) reassociated Σr²
    square_out: int = 0  # n if output 0 is r·r, so that its .sum() is a Σr²
    families: tuple[str, ...] = ()
    tuple_output: bool = False
    keywords: bool = False  # plain calls pass the arguments by name
    int_argnums: bool = False  # the transforms differentiate integer/bool inputs too
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        n = len(self.inputs)
        return [pool_name(i, n) for i in range(n + len(self.steps))]

    @property
    def argnums(self) -> tuple[int, ...]:
        """The float array inputs (the transforms differentiate these), else input 0; all
        array inputs if ``int_argnums`` (a transform casts them to float64)."""
        kinds = (*FLOATS, "int8", "int32", "bool") if self.int_argnums else FLOATS
        nums = tuple(i for i, (_, dt) in enumerate(self.inputs) if dt in kinds)
        return nums or (0,)

    def source(self) -> str:
        """``make(S) -> (f, setters)``: f closes over the state items."""
        names = self.names
        lines = ["def make(S):"]
        lines += [f"    {item.name} = S[{item.name!r}]" for item in self.state]
        lines.append(f"    def f({', '.join(names[: len(self.inputs)])}):")
        for k, step in enumerate(self.steps):
            lines.append(f"        {names[len(self.inputs) + k]} = {step.render(names)}")
        outs = [names[i] for i in self.outputs]
        ret = f"({', '.join(outs)},)" if self.tuple_output else outs[0]
        lines.append(f"        return {ret}")
        cells = [item.name for item in self.state if item.kind in CELL_KINDS]
        for name in cells:
            lines += [f"    def set_{name}(value):", f"        nonlocal {name}"]
            lines.append(f"        {name} = value")
        lines.append("    return f, {" + ", ".join(f"{n!r}: set_{n}" for n in cells) + "}")
        return "\n".join(lines) + "\n"

    def script(self) -> str:
        """A runnable reproducer: the eager calls; wrap ``f`` in ``mg.jit`` to compare."""
        out = [
            "import numpy as np",
            "import minigrad as mg",
            "nan, inf = float('nan'), float('inf')",
        ]
        out += ["", self.source().rstrip(), "", f"mg.manual_seed({self.seed})"]
        out.append("S = {" + ", ".join(f"{i.name!r}: {i.init}" for i in self.state) + "}")
        out.append("f, setters = make(S)  # check(prog, mode) runs these eagerly and jitted")
        for k, args in enumerate(self.calls):
            for item in self.state:
                out += list(item.updates[k])
            shown = ", ".join(
                (f"x{i}=" if self.keywords else "")
                + (value_src(a) if dt == NUMBER else f"mg.tensor({value_src(a)})")
                for i, (a, (_, dt)) in enumerate(zip(args, self.inputs, strict=True))
            )
            out.append(f"out{k} = f({shown})")
        return "\n".join(out)

    def __repr__(self) -> str:
        return "\n" + self.script() + "\n"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a falsifying Prog with this: as the script."""
        printer.text(repr(self))


# --------------------------------------------------------------------------- values


def elements(dtype: str) -> st.SearchStrategy[Any]:
    """Element values: for floats the corner cases (±0.0, nan, ±inf) and plain numbers."""
    if dtype == "bool":
        return st.booleans()
    if dtype == "int8":
        return st.integers(-128, 127)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return st.integers(max(-20, int(info.min)), 20) | st.sampled_from([info.min, info.max])
    width = {"float16": 16, "float32": 32, "float64": 64}[dtype]
    return st.sampled_from(FLOAT_SPECIALS) | st.floats(-4, 4, width=width)


def values(shape: tuple[int, ...], dtype: str) -> st.SearchStrategy[Any]:
    if dtype == NUMBER:
        return st.sampled_from(FLOAT_SPECIALS) | st.floats(-4, 4)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype))


# --------------------------------------------------------------------------- generation


UNARY = (
    "-{0}", "{0}.abs()", "abs({0})", "np.abs({0})", "{0}.exp()", "np.exp({0})", "{0}.log()",
    "np.log({0})", "{0}.sqrt()", "np.sqrt({0})", "{0}.tanh()", "np.tanh({0})",
    "{0}.sigmoid()", "mg.sigmoid({0})", "{0}.relu()", "{0}.clip(-1.0, 1.0)",
    "{0}.clip(0, None)", "{0}.clip(None, np.float32(0.5))", "mg.clip({0}, 0.0, 0.0)",
    "{0}.astype(np.float32)", "{0}.astype(np.float64)", "{0}.T", "{0}.reshape(-1)",
    "{0}.detach()", "{0} ** 2", "{0} * {0}",
)  # fmt: skip
ALGEBRA = (
    "{0} * 1", "1 * {0}", "{0} + 0", "0 + {0}", "{0} - 0", "{0} + 0.0", "{0} / 1", "{0} ** 1",
    "-(-{0})", "({0} * 2) * 3", "({0} * 100) * 100", "{0} * np.float16(300) * 300",
    "{0} / 3", "{0} / 3.0", "{0} / np.float32(10)", "({0} * 0.1) * 3", "{0} * 1.0",
    "({0} * np.int8(100)) * np.int8(3)", "{0} / np.array([[2.0]])",
)  # fmt: skip
SQUARING = ("{0} ** 2", "{0} * {0}")
COPYING = (
    "{0}.detach()",
    "{0}.reshape(-1)",
    "{0}.astype(np.float32)",
    "{0}.astype(np.float64)",
    "{0}.T",
)
"""Unary steps a compiler may drop (a same-shape, same-dtype copy): r·r survives them."""
COMPARE = (">", "<", ">=", "<=", "==", "!=")
WHERE = (
    "mg.where({0} {cmp} {1}, {0}, {1})", "mg.where({0} {cmp} {1}, {1}, {0} * 2)",
    "mg.where({0} {cmp} {1}, {0}, 0.0)", "np.where({0} {cmp} {1}, {0}, {1})",
)  # fmt: skip
MINMAX = ("mg.maximum({0}, {1})", "mg.minimum({0}, {1})", "np.maximum({0}, {1})",
          "np.minimum({1}, {0})")  # fmt: skip
ARITH = ("+", "-", "*", "/", "**")
STATE_KINDS = ("tensor", "ndarray", "tensor_cell", "tensor_dict", "float_cell", "float_box")
FAMILIES = (
    "unary", "algebra", "arith", "where", "minmax", "reduce", "index", "einsum", "matmul",
    "loss", "module", "dropout", "random", "closure", "numpy",
)  # fmt: skip
PY_INTS = (2, 0, 1, -1, 3, 100, 127, 300)
PY_FLOATS = (2.0, 0.0, -0.0, 0.5, -1.5, 1.0, 3.0, 1e-3, 1e4, 7e4, nan, inf, -inf)


def pool_name(i: int, n_inputs: int) -> str:
    """The variable holding pool value i: inputs are x0, x1…, step results t<i>."""
    return f"x{i}" if i < n_inputs else f"t{i}"


def _shape(v: Any) -> tuple[int, ...]:
    return v.shape if isinstance(v, mg.Tensor) else ()


def _is_two(operand: Operand) -> bool:
    """Whether a constant operand is the number 2 (x ** 2 may become x·x)."""
    if operand[0] != "c":
        return False
    try:
        value = np.asarray(eval(operand[1], namespace()))
    except Exception:
        return False
    return value.size == 1 and bool(value.reshape(()) == 2)


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


class _Gen:
    """Draws steps one by one, running each on the first call's values (eagerly) to know
    its result's shape and dtype, and to keep mostly programs eager accepts."""

    def __init__(self, draw: st.DrawFn, prog: Prog, families: Sequence[str]) -> None:
        self.draw, self.prog, self.families = draw, prog, tuple(families)
        self.n_calls = len(prog.calls)
        self.state: list[StateItem] = []
        self.steps: list[Step] = []
        self.ns = namespace()
        self.pool: list[Any] = []
        for value, (_, dt) in zip(prog.calls[0], prog.inputs, strict=True):
            self.pool.append(value if dt == NUMBER else mg.tensor(value))
        self.square: list[int] = [0] * len(self.pool)  # n if the value is r·r (or a copy)
        self.sumsq: list[int] = [0] * len(self.pool)  # n if the value is Σr² (reassociated)
        self.terminal = False
        self.pending: list[StateItem] = []
        self.made: list[tuple[str, bool]] = []  # (family, eager ran it) per step
        self.forced: Operand | None = None  # the next binary op's second operand

    # ----------------------------------------------------------------- operands

    def tensors(self) -> list[int]:
        return [i for i, v in enumerate(self.pool) if isinstance(v, mg.Tensor)]

    def pick(self) -> int:
        """A pool Tensor, most often a recent one (shrinks towards the last)."""
        ts = self.tensors()
        return ts[len(ts) - 1 - self.draw(st.integers(0, len(ts) - 1))]

    def constant(self, shape: tuple[int, ...]) -> str:
        kind = self.draw(st.sampled_from(["pyfloat", "pyint", "npscalar", "array"]))
        if kind == "pyint":
            return repr(self.draw(st.sampled_from(PY_INTS)))
        if kind == "pyfloat":
            return repr(self.draw(st.sampled_from(PY_FLOATS)))
        if kind == "npscalar":
            dt = self.draw(st.sampled_from(["float32", "float64", "float16", "int8", "int32"]))
            v = self.draw(st.sampled_from([2, 3, 0, -1] + ([0.5, -0.0] if "float" in dt else [])))
            return f"np.{dt}({v!r})"
        shapes = [(1,), (), (1, 1)] + ([(shape[-1],)] if shape else [])
        cshape = self.draw(st.sampled_from(shapes))
        dt = self.draw(st.sampled_from(["float64", "float32", "int8"]))
        elems = (
            st.sampled_from([2.0, 0.5, -0.0, 3.0, nan])
            if "float" in dt
            else st.sampled_from([2, 0, -1, 3])
        )
        return array_src(self.draw(hnp.arrays(np.dtype(dt), cshape, elements=elems)))

    def new_state(
        self,
        shape: tuple[int, ...],
        dtype: str,
        kinds: Sequence[str] = STATE_KINDS,
        exact: bool = False,
    ) -> str:
        """A new closed-over item whose value broadcasts with ``shape``; its expression."""
        kind = self.draw(st.sampled_from(kinds))
        name = f"{kind[0]}{kind.split('_')[-1][0]}{len(self.state) + len(self.pending)}"
        updates: list[tuple[str, ...]] = [()]
        if kind in ("float_cell", "float_box"):
            floats = st.sampled_from(FLOAT_SPECIALS)
            init = repr(self.draw(floats))
            for _ in range(1, self.n_calls):
                v = repr(self.draw(floats))
                updates.append((f"setters[{name!r}]({v})",) if kind == "float_cell" else
                               (f"S[{name!r}][0] = {v}",))  # fmt: skip
            init = f"[{init}]" if kind == "float_box" else init
        else:
            shapes = [shape] if exact else [shape, ()] + ([(shape[-1],)] if shape else [])
            vshape = self.draw(st.sampled_from(shapes))
            choices = ["float64", "float32"] + ([dtype] if dtype != NUMBER else [])
            dt = self.draw(st.sampled_from(choices))
            arrays = [array_src(self.draw(values(vshape, dt)))]
            for _ in range(1, self.n_calls):
                if kind in ("tensor_cell", "tensor_dict") and self.draw(st.booleans()):
                    vshape, dt = (
                        self.draw(st.sampled_from(shapes)),
                        self.draw(st.sampled_from(choices)),
                    )
                arrays.append(array_src(self.draw(values(vshape, dt))))  # rebound: maybe new
            grad = kind == "tensor" and dt in FLOATS and self.draw(st.booleans())
            init = {
                "tensor": f"mg.tensor({arrays[0]}{', requires_grad=True' if grad else ''})",
                "ndarray": arrays[0],
                "tensor_cell": f"mg.tensor({arrays[0]})",
                "tensor_dict": f'{{"t": mg.tensor({arrays[0]})}}',
            }[kind]
            for src in arrays[1:]:
                if self.draw(st.booleans()) and self.n_calls > 2:
                    updates.append(())  # unchanged for this call
                    continue
                updates.append(
                    {
                        "tensor": (f"with mg.no_grad(): S[{name!r}][...] = {src}",),
                        "ndarray": (f"S[{name!r}][...] = {src}",),
                        "tensor_cell": (f"setters[{name!r}](mg.tensor({src}))",),
                        "tensor_dict": (f'S[{name!r}]["t"] = mg.tensor({src})',),
                    }[kind]
                )
        item = StateItem(name, kind, init, tuple(updates))
        self.pending.append(item)
        return item.expr

    def other(self, a: int, kinds: Sequence[str] = ("pool", "const", "state", "self")) -> Operand:
        """The second operand of a binary op on pool value ``a``: broadcastable."""
        shape = _shape(self.pool[a])
        if self.forced is not None:
            forced, self.forced = self.forced, None
            return forced
        kind = self.draw(st.sampled_from(kinds))
        if kind == "pool":
            fits = [i for i, v in enumerate(self.pool) if _broadcasts(_shape(v), shape)]
            return ("v", fits[len(fits) - 1 - self.draw(st.integers(0, len(fits) - 1))])
        if kind == "self":
            return ("v", a)
        if kind == "state":
            return ("s", self.new_state(shape, self.pool[a].dtype.name))
        return ("c", self.constant(shape))

    # ----------------------------------------------------------------- families

    def family(self, name: str, a: int) -> tuple[Step, int, int] | None:
        """A step of ``name`` on pool value ``a``: (step, square n, Σr² n), or None."""
        draw, x = self.draw, self.pool[a]
        shape, nd, size = x.shape, x.ndim, x.size
        v = ("v", a)
        if name == "unary":
            t = draw(st.sampled_from(UNARY))
            square = size if t in SQUARING else self.square[a] if t in COPYING else 0
            return Step(t, (v,)), square, 0
        if name == "algebra":
            t = draw(st.sampled_from(ALGEBRA))
            return Step(t, (v,)), self.square[a], 0
        if name in ("arith", "closure"):
            op = draw(st.sampled_from(ARITH))
            b = self.other(
                a, ("state",) if name == "closure" else ("pool", "const", "state", "self")
            )
            t = draw(st.sampled_from([f"{{0}} {op} {{1}}", f"{{1}} {op} {{0}}"]))
            square = self.square[a] if b[0] == "c" else 0  # r·r ∘ a constant (x·1, x+0)
            power_of_two = op == "**" and t.startswith("{0}") and (b[0] == "s" or _is_two(b))
            if (op == "*" and b[0] != "c") or power_of_two:
                square = size  # a product of values (equal ones may be merged), x ** 2
            return Step(t, (v, b)), square, 0
        if name == "where":
            t = draw(st.sampled_from(WHERE)).replace("{cmp}", draw(st.sampled_from(COMPARE)))
            return Step(t, (v, self.other(a))), 0, 0
        if name == "minmax":
            return Step(draw(st.sampled_from(MINMAX)), (v, self.other(a))), 0, 0
        if name == "reduce":
            fn = draw(st.sampled_from(["sum", "mean", "max", "min"]))
            axes: list[Any] = [
                None,
                (),
                *range(nd),
                *([-1] if nd else []),
                *([(0, 1)] if nd > 1 else []),
            ]
            axis = draw(st.sampled_from(axes))
            opts = [f"axis={axis!r}"] if axis is not None else []
            opts += ["keepdims=True"] if draw(st.booleans()) else []
            if fn in ("sum", "mean") and draw(st.booleans()):
                t = f"np.{fn}({', '.join(['{0}', *opts])})"
            else:
                t = f"{{0}}.{fn}({', '.join(opts)})"
            full = fn in ("sum", "mean") and self.square[a] and axis != ()
            return Step(t, (v,)), (self.square[a] if axis == () else 0), (size if full else 0)
        if name == "index":
            return Step("{0}[" + draw(st.sampled_from(_indices(shape))) + "]", (v,)), 0, 0
        if name == "einsum":
            options = _einsums(shape)
            partners = [
                i for i, y in enumerate(self.tensors()) if _einsum_fits(shape, _shape(self.pool[y]))
            ]
            if partners and draw(st.booleans()):
                b = self.tensors()[draw(st.sampled_from(partners))]
                spec = "ij,jk->ik" if nd == 2 else "i,i->"
                fn = draw(st.sampled_from(["mg", "np"]))
                return Step(f"{fn}.einsum('{spec}', {{0}}, {{1}})", (v, ("v", b))), 0, 0
            if not options:
                return None
            return Step(draw(st.sampled_from(options)), (v,)), 0, 0
        if name == "matmul":
            if nd == 0:
                return None
            fits = [i for i in self.tensors() if _matmul_fits(shape, _shape(self.pool[i]))]
            forms = ["self", "const", "state"] + (["pool"] if fits else [])
            form = draw(st.sampled_from(forms))
            if form == "self":
                t = {1: "{0} @ {0}", 2: "{0} @ {0}.T"}.get(nd, "{0}.T @ {0}")
                return Step(t, (v,)), 0, 0
            if form == "pool":
                return Step("{0} @ {1}", (v, ("v", draw(st.sampled_from(fits))))), 0, 0
            rhs = (shape[-1], draw(st.sampled_from([2, 1])))
            if form == "const":
                return Step("{0} @ {1}", (v, ("c", f"np.ones({rhs!r})"))), 0, 0
            w = self.new_state(rhs, "float64", ("tensor", "tensor_cell"), exact=True)
            return Step("{0} @ {1}", (v, ("s", w))), 0, 0
        if name == "loss":
            return self.loss(a)
        if name == "numpy":  # NumPy functions on a Tensor: supported, refused, or on data
            options = ["np.sign({0})", "np.var({0})", "np.linalg.norm({0})", "np.argmax({0}) + {0}"]
            if nd >= 1:
                options += [
                    "{0}.reshape(-1)[np.argmax({0})]", "{0}.reshape(-1)[{0}.argmax()]",
                    "np.sort({0}, axis=-1)", "np.cumsum({0})", "{0}[np.argsort({0}, axis=0)]",
                    "np.dot({0}, {0})" if nd == 1 else "np.dot({0}, {0}.T)",
                    "np.outer({0}, {0})",
                ]  # fmt: skip
            chosen = draw(st.sampled_from(options))
            # np.var is Σr²/n inside: reassociated like a sum of squares written out
            varied = chosen == "np.var({0})" and x.size > 0
            return Step(chosen, (v,)), 0, (x.size if varied else 0)
        if name == "module":
            if nd == 0 or shape[-1] == 0:
                return None
            return Step("{1}({0})", (v, ("s", self.new_module(shape[-1])))), 0, 0
        if name == "dropout":
            m = self.new_dropout()
            if draw(st.booleans()):
                return Step("{1}({0})", (v, ("s", m))), 0, 0
            return Step(f"{{0}} * {{1}}(mg.ones({shape!r}))", (v, ("s", m))), 0, 0
        if name == "random":
            dims = ", ".join(str(n) for n in shape)
            t = draw(st.sampled_from([
                f"{{0}} + mg.randn({dims})",
                f"{{0}} * mg.randn({dims}{', ' if dims else ''}dtype=np.float32)",
                f"mg.randn({dims}) - {{0}}",
            ]))  # fmt: skip
            return Step(t, (v,)), 0, 0
        raise ValueError(name)

    def loss(self, a: int) -> tuple[Step, int, int] | None:
        draw, x = self.draw, self.pool[a]
        shape, v = x.shape, ("v", a)
        which = draw(
            st.sampled_from(["mse", "mae", "huber", "bce", "bce_with_logits", "cross_entropy"])
        )
        if which == "cross_entropy":
            if x.ndim != 2 or 0 in shape:
                return None
            labels = draw(hnp.arrays(np.int64, shape[:1], elements=st.integers(0, shape[1] - 1)))
            return Step("mg.losses.cross_entropy({0}, {1})", (v, ("c", array_src(labels)))), 0, 0
        same = [i for i in self.tensors() if _shape(self.pool[i]) == shape and i != a]
        if which in ("bce", "bce_with_logits"):
            pred = "{0}.sigmoid()" if which == "bce" else "{0}"
            if same and draw(st.booleans()):  # probabilities from another value
                step = Step(f"mg.losses.{which}({pred}, {{1}}.sigmoid())", (v, ("v", same[-1])))
                return step, 0, 0
            elems = st.sampled_from([0.0, 1.0, 0.5])
            labels = array_src(draw(hnp.arrays(np.float64, shape, elements=elems)))
            return Step(f"mg.losses.{which}({pred}, {{1}})", (v, ("c", labels))), 0, 0
        if same and draw(st.booleans()):
            target = ("v", draw(st.sampled_from(same)))
        elif draw(st.booleans()):
            kinds = ("ndarray", "tensor", "tensor_dict")
            target = ("s", self.new_state(shape, x.dtype.name, kinds, exact=True))
        else:
            target = ("c", array_src(draw(values(shape, "float64"))))
        if which == "huber":
            return Step("mg.losses.huber({0}, {1}, delta=0.5)", (v, target)), 0, 0
        return (
            Step(f"mg.losses.{which}({{0}}, {{1}})", (v, target)),
            0,
            (x.size if which == "mse" else 0),
        )

    def new_module(self, features: int) -> str:
        draw, k = self.draw, len(self.state) + len(self.pending)
        out = draw(st.sampled_from([1, 2]))
        seeds = [draw(st.sampled_from([None, 0, 1, 2])) for _ in range(3)]

        def seeded(s: int | None) -> str:
            return "" if s is None else f", seed={s}"

        if draw(st.booleans()):
            init = f"mg.nn.Linear({features}, {out}{seeded(seeds[0])})"
            params = {"weight": (out, features), "bias": (out,)}
        else:
            act = draw(st.sampled_from(["Tanh", "ReLU"]))
            p = draw(st.sampled_from([0.5, 0.25, 0.0]))
            rng = "" if seeds[1] is None else f", rng=np.random.default_rng({seeds[1]})"
            init = (
                f"mg.nn.Sequential(mg.nn.Linear({features}, 3{seeded(seeds[0])}), mg.nn.{act}(), "
                f"mg.nn.Dropout({p}{rng}), mg.nn.Linear(3, {out}{seeded(seeds[2])}))"
            )
            params = {
                "[0].weight": (3, features), "[0].bias": (3,), "[3].weight": (out, 3),
                "[3].bias": (out,),
            }  # fmt: skip
        name = f"m{k}"
        modes = [draw(st.sampled_from(["train", "eval"])) for _ in range(self.n_calls)]
        updates = [(f"S[{name!r}].{modes[0]}()",)]
        for mode in modes[1:]:
            lines = [f"S[{name!r}].{mode}()"]
            if draw(st.booleans()):  # replace a parameter by a new Parameter object
                path = draw(st.sampled_from(sorted(params)))
                owner, attr = path.rsplit(".", 1) if "." in path else ("", path)
                dt = draw(st.sampled_from(["float64", "float32"]))
                new = array_src(draw(values(params[path], dt)))
                lines.append(f"S[{name!r}]{owner}.{attr} = mg.nn.Parameter({new})")
            updates.append(tuple(lines))
        self.pending.append(StateItem(name, "module", init, tuple(updates)))
        return name

    def new_dropout(self) -> str:
        draw, k = self.draw, len(self.state) + len(self.pending)
        p = draw(st.sampled_from([0.5, 0.25, 0.0, 1.0]))
        seed = draw(st.sampled_from([None, 0, 1]))
        init = (
            f"mg.nn.Dropout({p})"
            if seed is None
            else (f"mg.nn.Dropout({p}, rng=np.random.default_rng({seed}))")
        )
        name = f"m{k}"
        modes = [draw(st.sampled_from(["train", "eval"])) for _ in range(self.n_calls)]
        self.pending.append(
            StateItem(name, "module", init, tuple((f"S[{name!r}].{m}()",) for m in modes))
        )
        return name

    # ----------------------------------------------------------------- steps

    def add_step(self, families: Sequence[str]) -> None:
        for _ in range(3):
            fam = self.draw(st.sampled_from(families))
            a = self.pick()
            self.pending = []
            made = self.family(fam, a)
            if made is None:
                continue
            step, square, sumsq = made
            ok, value = self.probe(step)
            if not ok and self.draw(st.integers(0, 5)) != 0:
                continue  # mostly programs eager accepts; now and then one it refuses
            self.state += self.pending
            self.made.append((fam, ok))
            self.steps.append(step)
            self.pool.append(value)
            self.square.append(square if ok else 0)
            self.sumsq.append(sumsq if ok else 0)
            self.terminal = not ok or sumsq > 0 or not isinstance(value, mg.Tensor)
            return

    def probe(self, step: Step) -> tuple[bool, Any]:
        """Run the step eagerly on the first call's values (and fresh state)."""
        S: dict[str, Any] = {}
        ns = {**namespace(), "S": S, "setters": {}}
        for item in [*self.state, *self.pending]:
            S[item.name] = ns[item.name] = eval(item.init, namespace())
            for line in item.updates[0]:
                exec(line, ns)
        names = [pool_name(i, len(self.prog.inputs)) for i in range(len(self.pool) + 1)]
        ns.update(zip(names, self.pool, strict=False))
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return True, eval(step.render(names), ns)
        except Exception:  # eager refuses: kept now and then, to compare errors
            return False, None


def _indices(shape: tuple[int, ...]) -> list[str]:
    nd = len(shape)
    if nd == 0:
        return ["None", "...", "()"]
    out = ["0", "-1", "1:", ":1", "::2", "::-1", "..., 0", "None", "np.array([0, 0])",
           "np.array([-1, 0, 0])", "np.array([], dtype=np.intp)"]  # fmt: skip
    if nd >= 2:
        out += ["0, 1:", ":, 0", ":, np.array([1, 0])", "np.array([1, 0]), np.array([0, 0])"]
    return out


def _einsums(shape: tuple[int, ...]) -> list[str]:
    if len(shape) == 2:
        return ["mg.einsum('ij->ji', {0})", "np.einsum('ij->ji', {0})", "mg.einsum('ij->', {0})",
                "mg.einsum('ij->j', {0})", "mg.einsum('ij,ij->ij', {0}, {0})"]  # fmt: skip
    if len(shape) == 1:
        return ["mg.einsum('i->', {0})", "mg.einsum('i,i->', {0}, {0})",
                "mg.einsum('i,j->ij', {0}, {0})", "np.einsum('i->', {0})"]  # fmt: skip
    return []


def _einsum_fits(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    if len(a) == 2:
        return len(b) == 2 and a[1] == b[0]
    return len(a) == 1 and b == a


def _matmul_fits(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    if not a or not b:
        return False
    return a[-1] == (b[0] if len(b) == 1 else b[-2])


@st.composite
def input_specs(draw: st.DrawFn, tiny: bool = False, numbers: bool = True) -> tuple:
    palette = TINY_SHAPES if tiny else SHAPES
    first = draw(st.sampled_from(palette))
    specs = [(first, draw(st.sampled_from(DTYPES)))]
    for _ in range(draw(st.integers(0, 2))):
        how = draw(st.sampled_from(["same", "last", "scalar", "transpose", "any"]
                                   + (["number"] if numbers else [])))  # fmt: skip
        if how == "same":
            shape = first
        elif how == "last":
            shape = first[-1:]
        elif how in ("scalar", "number"):
            shape = ()
        elif how == "transpose":
            shape = first[::-1]
        else:
            shape = draw(st.sampled_from(palette))
        specs.append((shape, NUMBER if how == "number" else draw(st.sampled_from(DTYPES))))
    return tuple(specs)


@st.composite
def progs(
    draw: st.DrawFn,
    families: Sequence[str] = FAMILIES,
    first: Sequence[str] | None = None,
    tiny: bool = False,
    max_steps: int = 5,
    numbers: bool = True,
    float_first: bool = False,
    keywords: bool = False,
    number: bool = False,
) -> Prog:
    """Random programs: 1–3 inputs, 1–``max_steps`` steps (the first drawn from ``first``
    if given), 2–3 calls with new argument values and new closed-over state. ``number``:
    the last argument is a Python float, and the first step combines it with a value.
    ``keywords``: now and then the (plain) calls pass the arguments by name."""
    specs = draw(input_specs(tiny=tiny, numbers=numbers))
    if number:
        specs = (*specs[:2], ((), NUMBER))
    if float_first:
        specs = ((specs[0][0], draw(st.sampled_from(FLOATS))), *specs[1:])
    n_calls = draw(st.integers(2, 3))
    calls = tuple(tuple(draw(values(s, d)) for s, d in specs) for _ in range(n_calls))
    prog = Prog(specs, (), (), (0,), calls, seed=draw(st.integers(0, 2**16)))
    g = _Gen(draw, prog, families)
    if number:
        g.forced = ("v", len(specs) - 1)
        first = ("arith", "where", "minmax")
    n_steps = draw(st.integers(1, max_steps))
    for k in range(n_steps):
        g.add_step(first if (k == 0 and first) else families)
        if g.terminal:
            break
    if not g.steps:  # every draw was refused: the program is a sum
        g.pending = []
        _, value = g.probe(Step("{0}.sum()", (("v", 0),)))
        g.steps.append(Step("{0}.sum()", (("v", 0),)))
        g.pool.append(value)
        g.square.append(0)
        g.sumsq.append(0)
    last = len(g.pool) - 1
    outputs: tuple[int, ...] = (last,)
    if draw(st.booleans()):
        earlier = g.tensors()
        outputs = (last, earlier[draw(st.integers(0, len(earlier) - 1))])
    out_shapes = tuple(_shape(g.pool[i]) for i in outputs)
    return Prog(
        specs,
        tuple(g.state),
        tuple(g.steps),
        outputs,
        calls,
        seed=prog.seed,
        out_shapes=out_shapes,
        sumsq=tuple(g.sumsq[i] for i in outputs),
        square_out=g.square[last] or g.sumsq[last],
        families=tuple(families),
        tuple_output=len(outputs) > 1,
        keywords=keywords and draw(st.integers(0, 7)) == 0,
        int_argnums=draw(st.integers(0, 3)) == 0,
        extra={"made": g.made},
    )


def simple_prog(body: str, calls: Sequence[Sequence[Any]], *, sumsq: int = 0) -> Prog:
    """A hand-written one-step program ``f(x0, x1, ...) = body`` (inputs named x0, x1…)."""
    first = calls[0]
    specs = tuple(
        (np.shape(a), NUMBER if isinstance(a, float) else np.asarray(a).dtype.name) for a in first
    )
    n = len(specs)
    return Prog(specs, (), (Step(body),), (n,), tuple(tuple(c) for c in calls), sumsq=(sumsq,))


# --------------------------------------------------------------------------- worlds


class World:
    """One copy of the program's state and function; eager and jit each get their own."""

    def __init__(self, prog: Prog) -> None:
        self.prog = prog
        self.S = {item.name: eval(item.init, namespace()) for item in prog.state}
        ns = namespace()
        exec(prog.source(), ns)
        self.f, self.setters = ns["make"](self.S)
        self.ns = {**namespace(), "S": self.S, "setters": self.setters}
        self.held: dict[int, np.ndarray] = {}

    def before_call(self, k: int) -> None:
        for item in self.prog.state:
            for line in item.updates[k]:
                exec(line, self.ns)
        for a in self.state_arrays():
            self.held[id(a)] = a  # the caller holds it (and keeps holding the old ones)

    def state_arrays(self) -> list[np.ndarray]:
        """Every array the state reaches now: S's objects and the closure cells."""
        found: list[np.ndarray] = []
        objs = list(self.S.values())
        for cell in self.f.__closure__ or ():
            objs.append(cell.cell_contents)
        for obj in objs:
            if isinstance(obj, dict):
                objs.extend(obj.values())
            elif isinstance(obj, mg.Tensor):
                found.append(obj.data)
            elif isinstance(obj, np.ndarray):
                found.append(obj)
            elif isinstance(obj, mg.nn.Module):
                found += [p.data for p in obj.parameters()]
        return found

    def leaves(self) -> list[mg.Tensor]:
        """Closed-over tensors that collect .grad: requires-grad Tensors, parameters."""
        out: list[mg.Tensor] = []
        for item in self.prog.state:
            obj = self.S[item.name]
            if isinstance(obj, mg.nn.Module):
                out += obj.parameters()
            elif isinstance(obj, mg.Tensor) and obj.requires_grad:
                out.append(obj)
        return out


@dataclass
class Raised:
    exc: BaseException

    def __repr__(self) -> str:
        return f"raised {type(self.exc).__name__}: {self.exc}"


@dataclass
class Run:
    results: list[Any] = field(default_factory=list)  # a snapshot or Raised, per call
    problems: list[list[str]] = field(default_factory=list)  # aliasing and the like, per call
    alias_pairs: list[set[tuple[int, int]]] = field(default_factory=list)
    rng_state: Any = None


def _args(prog: Prog, k: int, tensors: bool, grad_leaves: bool = False) -> list[Any]:
    out = []
    for i, (value, (_, dt)) in enumerate(zip(prog.calls[k], prog.inputs, strict=True)):
        if dt == NUMBER:
            out.append(value)
        elif grad_leaves:
            out.append(mg.tensor(value, requires_grad=dt in FLOATS and i in prog.argnums))
        else:
            out.append(mg.tensor(value) if tensors else value.copy())
    return out


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


def _function(prog: Prog, world: World, mode: str, compiled: bool) -> Callable[..., Any]:
    """The function a mode calls: eager, or its jitted twin."""
    f, nums = world.f, prog.argnums

    def first(*xs: Any) -> Any:
        return _first(f(*xs))

    def total(*xs: Any) -> Any:
        return _first(f(*xs)).sum()

    def vjp(*args: Any) -> Any:  # autograd.grad with a grad_output given at every call
        *xs, v = args
        return mg.autograd.grad(first(*xs), [xs[i] for i in nums], grad_output=v)

    if mode == "grad_of_jit":
        return mg.grad(mg.jit(total) if compiled else total, nums)
    if mode == "backward":
        return _through_backward(world, mg.jit(f) if compiled else f, nums)
    fn = {
        "plain": f,
        "grad": mg.grad(total, nums),
        "value_and_grad": mg.value_and_grad(total, nums),
        "jacobian": mg.jacobian(first, nums),
        "vjp": vjp,
    }[mode]
    return mg.jit(fn) if compiled else fn


def _through_backward(world: World, g: Callable[..., Any], nums: tuple[int, ...]) -> Callable:
    """loss = Σ g(leaves)[0] (+ 0·Σ every leaf, so it always needs a gradient);
    loss.backward(); the leaves' and the closed-over parameters' .grad."""

    def run(*leaves: Any) -> Any:
        params = world.leaves()
        for p in params:
            p.grad = None
        loss = _first(g(*leaves)).sum()
        grads_of = [x for x in leaves if isinstance(x, mg.Tensor) and x.requires_grad]
        for t in [*grads_of, *params]:
            loss = loss + (t * 0).sum()
        loss.backward()
        return (tuple(x.grad for x in grads_of), tuple(p.grad for p in params))

    return run


def _snapshot(obj: Any) -> Any:
    if isinstance(obj, tuple | list):
        return type(obj)(_snapshot(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _snapshot(v) for k, v in obj.items()}
    if isinstance(obj, mg.Tensor):
        return np.array(obj.data, copy=True)
    if isinstance(obj, np.ndarray):
        return obj.copy()
    return obj


def _arrays(obj: Any) -> list[np.ndarray]:
    if isinstance(obj, tuple | list):
        return [a for x in obj for a in _arrays(x)]
    if isinstance(obj, dict):
        return [a for x in obj.values() for a in _arrays(x)]
    if isinstance(obj, mg.Tensor):
        return [obj.data]
    if isinstance(obj, np.ndarray):
        return [obj]
    return []


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    return a.size > 0 and b.size > 0 and np.may_share_memory(a, b) and np.shares_memory(a, b)


def _fingerprint(arrays: Sequence[np.ndarray]) -> list[bytes]:
    return [a.tobytes() for a in arrays]


def _scribble(a: np.ndarray) -> None:
    """Write into a result the caller got: a compiled function must not notice."""
    if a.size == 0 or not a.flags.writeable:
        return
    if a.dtype == np.bool_:
        np.logical_not(a, out=a)
    else:
        a[...] = np.where(a == 7, 8, 7).astype(a.dtype)


def _run(prog: Prog, mode: str, compiled: bool, eager: Run | None = None) -> Run:
    run = Run()
    gen = mg.manual_seed(prog.seed)  # before the world: Linear's default init draws too
    world = World(prog)
    fn = _function(prog, world, mode, compiled)
    earlier: list[np.ndarray] = []  # compiled results of earlier calls (as returned)
    given: list[np.ndarray] = []  # arguments of earlier calls (the caller holds them)
    for k in range(len(prog.calls)):
        world.before_call(k)
        leaves = mode in ("backward", "vjp")
        args = _args(prog, k, tensors=not compiled or k % 2 == 1, grad_leaves=leaves)
        if mode == "vjp":  # v of vᵀ·J, new at every call
            shape = prog.out_shapes[0]
            args.append(np.arange(int(np.prod(shape)), dtype=float).reshape(shape) * (k + 1) - 0.5)
        given += _arrays(args)
        held = [*world.held.values(), *given]
        before = _fingerprint(held)
        problems: list[str] = []
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if prog.keywords and mode == "plain":
                    result = fn(**{f"x{i}": a for i, a in enumerate(args)})
                else:
                    result = fn(*args)
        except Exception as exc:
            run.results.append(Raised(exc))
            run.problems.append(problems)
            run.alias_pairs.append(set())
            continue
        run.results.append(_snapshot(result))
        outs = _arrays(result)
        run.alias_pairs.append(
            {(i, j) for i in range(len(outs)) for j in range(i) if _shares(outs[i], outs[j])}
        )
        if compiled and mode in ALIAS_MODES:
            if _fingerprint(held) != before:
                problems.append("the call changed an argument or closed-over state in place")
            for i, out in enumerate(outs):
                if any(_shares(out, h) for h in held):
                    problems.append(f"result leaf {i} shares memory with an argument or state")
                if any(_shares(out, e) for e in earlier):
                    problems.append(f"result leaf {i} shares memory with an earlier call's result")
            own = (
                eager.alias_pairs[k] if eager is not None and k < len(eager.alias_pairs) else set()
            )
            for i, j in run.alias_pairs[-1] - own:
                problems.append(f"result leaves {j} and {i} share memory (eager's do not)")
            if k == 0:  # write into the first results: nothing the caller holds may change
                before = _fingerprint(held)
                for out in outs:
                    _scribble(out)
                if _fingerprint(held) != before:
                    problems.append("writing into the first call's result changed state/arguments")
            earlier += outs
        run.problems.append(problems)
    run.rng_state = gen.bit_generator.state
    return run


# --------------------------------------------------------------------------- the rule


def _as_array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, mg.Tensor) else x)


def assert_same(
    jitted: Any, eager: Any, reassociated: bool = False, *, n_summed: int = 1, where: str = "result"
) -> None:
    """The comparison rule: same structure, shapes, dtypes and bitwise values (nan equal to
    nan, and the sign of a zero counts).

    The one documented exception: when ``reassociated`` (the value is a float32/float64
    sum of squares Σr·r or mean(r·r), which the compiler may compute as one BLAS dot
    product), |jit − eager| ≤ 8·n·eps·max(|eager|, tiny) for n = ``n_summed`` summed
    elements; non-finite values must still match exactly.
    """
    __tracebackhide__ = True
    if isinstance(eager, tuple | list):
        assert type(jitted) is type(eager), (
            f"{where}: jit returned a {type(jitted).__name__}, eager a {type(eager).__name__}"
        )
        assert len(jitted) == len(eager), f"{where}: {len(jitted)} items, eager has {len(eager)}"
        for i, (j, e) in enumerate(zip(jitted, eager, strict=True)):
            assert_same(j, e, reassociated, n_summed=n_summed, where=f"{where}[{i}]")
        return
    if isinstance(eager, dict):
        assert isinstance(jitted, dict) and jitted.keys() == eager.keys(), f"{where}: keys differ"
        for k in eager:
            assert_same(
                jitted[k], eager[k], reassociated, n_summed=n_summed, where=f"{where}[{k!r}]"
            )
        return
    if eager is None or jitted is None:
        assert jitted is None and eager is None, f"{where}: jit gave {jitted!r}, eager {eager!r}"
        return
    j, e = _as_array(jitted), _as_array(eager)
    assert j.shape == e.shape, f"{where}: shape {j.shape}, eager {e.shape}\njit={j!r}\neager={e!r}"
    assert j.dtype == e.dtype, f"{where}: dtype {j.dtype}, eager {e.dtype}\njit={j!r}\neager={e!r}"
    floating = e.dtype.kind == "f"
    if reassociated and e.dtype in (np.float32, np.float64):
        finfo = np.finfo(e.dtype)
        jj, ee = j.astype(np.float64), e.astype(np.float64)
        same_special = np.array_equal(np.isnan(jj), np.isnan(ee)) and np.array_equal(
            jj[np.isinf(ee) | np.isinf(jj)], ee[np.isinf(ee) | np.isinf(jj)]
        )
        finite = np.isfinite(ee) & np.isfinite(jj)
        jj, ee = jj[finite], ee[finite]
        bound = 8 * max(n_summed, 1) * float(finfo.eps) * np.maximum(np.abs(ee), float(finfo.tiny))
        assert same_special and bool(np.all(np.abs(jj - ee) <= bound)), (
            f"{where}: differs beyond the Σr² reassociation bound (n={n_summed})\n"
            f"jit={j!r}\neager={e!r}"
        )
        return
    assert np.array_equal(j, e, equal_nan=floating), (
        f"{where}: values differ\njit={j!r}\neager={e!r}"
    )
    if floating:
        zeros = (e == 0) & (j == 0)
        assert np.array_equal(np.signbit(j[zeros]), np.signbit(e[zeros])), (
            f"{where}: the sign of a zero differs\njit={j!r}\neager={e!r}"
        )


def is_refusal(exc: BaseException) -> bool:
    """A refusal says why: a TraceError, or a TypeError that names mg.jit."""
    return isinstance(exc, TraceError) or (isinstance(exc, TypeError) and "jit" in str(exc))


def _subject(message: str) -> str | None:
    """What an error message is about: minigrad's messages start ``name: ...``."""
    m = re.match(r"\s*([A-Za-z_][\w.]*)\s*:", message)
    return m.group(1) if m else None


OUTCOMES: collections.Counter[str] = collections.Counter()
"""How checked programs ended, over the session: ok, refused, eager_error (per mode)."""

REFUSALS: collections.Counter[str] = collections.Counter()
"""Why the compiler refused, over the session: the first line of each refusal's message."""


def compare(prog: Prog, mode: str, eager: Run, compiled: Run) -> str:
    """Assert that the compiled run is the eager run; the outcome (ok/refused/eager_error)."""
    __tracebackhide__ = True
    for k, (e, c) in enumerate(zip(eager.results, compiled.results, strict=True)):
        where = f"{mode}, call {k}"
        if isinstance(c, Raised):
            if k == 0 and is_refusal(c.exc):
                REFUSALS[f"{type(c.exc).__name__}: {str(c.exc).splitlines()[0][:120]}"] += 1
                return "refused"
            if not isinstance(e, Raised):
                raise AssertionError(f"{where}: jit {c!r}; eager returned {e!r}")
            assert type(c.exc) is type(e.exc), f"{where}: jit {c!r}; eager {e!r}"
            subject = _subject(str(e.exc))
            assert subject is None or subject in str(c.exc), (
                f"{where}: jit's error does not name {subject!r}: jit {c!r}; eager {e!r}"
            )
            continue
        if isinstance(e, Raised):
            raise AssertionError(f"{where}: eager {e!r}; jit returned {c!r}")
        _compare_result(prog, mode, c, e, where)
        assert not compiled.problems[k], f"{where}: " + "; ".join(compiled.problems[k])
    assert compiled.rng_state == eager.rng_state, (
        f"{mode}: the default generator advanced differently under jit"
    )
    return "eager_error" if all(isinstance(e, Raised) for e in eager.results) else "ok"


def _compare_result(prog: Prog, mode: str, c: Any, e: Any, where: str) -> None:
    __tracebackhide__ = True
    if mode == "plain" and prog.tuple_output:
        assert isinstance(c, tuple) and len(c) == len(e), f"{where}: jit returned {c!r}"
        for i, (ci, ei) in enumerate(zip(c, e, strict=True)):
            n = prog.sumsq[i] if i < len(prog.sumsq) else 0
            assert_same(ci, ei, n > 0, n_summed=n, where=f"{where}, output {i}")
    elif mode == "plain":
        n = prog.sumsq[0] if prog.sumsq else 0
        assert_same(c, e, n > 0, n_summed=n, where=f"{where}, output")
    elif mode == "value_and_grad":
        assert isinstance(c, tuple) and len(c) == 2, f"{where}: jit returned {c!r}"
        n = prog.square_out
        assert_same(c[0], e[0], n > 0, n_summed=n, where=f"{where}, value")
        assert_same(c[1], e[1], where=f"{where}, gradient")
    else:
        assert_same(c, e, where=f"{where}, {mode}")


def check(prog: Prog, mode: str = "plain") -> str:
    """Run ``prog`` eagerly and compiled under ``mode``; AssertionError on a difference.
    Returns the outcome: "ok", "refused" (a TraceError on the first call) or "eager_error"
    (eager raised on every call, and jit raised alike)."""
    __tracebackhide__ = True
    eager = _run(prog, mode, compiled=False)
    compiled = _run(prog, mode, compiled=True, eager=eager)
    outcome = compare(prog, mode, eager, compiled)
    OUTCOMES[f"{mode}:{outcome}"] += 1
    return outcome


__all__ = [
    "FAMILIES",
    "MODES",
    "OUTCOMES",
    "REFUSALS",
    "Prog",
    "Raised",
    "Step",
    "assert_same",
    "check",
    "is_refusal",
    "progs",
    "simple_prog",
]
