"""Write a :class:`~minigrad.jit.program.Program` out as Python source, one NumPy call a line.

The source is complete: every name it uses is a parameter, ``np``, or defined in it. Ops
that are not one NumPy call are defined above the function, from their own forward's
source (what you read is what runs). The forward pass comes first, then the backward
pass, each backward line commented with the gradient rule it came from (the op's own
derivative text), then what combines gradients after a backward pass (a Hessian's
stack). Small constants are written inline; larger ones are parameters, listed with
their shape and origin above the function.

Large temporaries live in buffers kept between calls, one set per thread
(``buf.NAME``); a line that overwrites a dead temporary says so with ``out=``. A result
that is, or may view, an argument, outside state, a constant or a kept buffer is copied
before it is returned (``np.array(x)``): what the caller gets is its own.
"""

from __future__ import annotations

import ast
import builtins
import dis
import inspect
import math
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType, ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.jit.passes import effect, owners
from minigrad.jit.program import ARG, CONST, LIVE, TEMP, Instr, Program, Value

INLINE_MAX_SIZE = 8
"""Constant arrays with at most this many elements are written out in the source."""


@dataclass
class Generated:
    """The source, the function ``exec`` made of it, the constants it is passed (after
    the program's arguments and outside state, in this order), and the per-thread kept
    buffers it is passed last, as ``buf`` (None if it keeps none)."""

    source: str
    run: Callable[..., Any]
    constants: list[Any]
    buffers: Callable[[], SimpleNamespace] | None = None


class _Writer:
    """Renders arguments; collects helper definitions and constant parameters."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"np": np}
        self.helpers: dict[int, str] = {}  # id(function) -> its name in the source
        self.definitions: list[str] = []
        self.imports: set[str] = set()
        self.inline: dict[Value, str] = {}  # views written into their one consumer
        self.name: dict[Value, str] = {}  # every Value's variable name, unique
        self.constants: list[tuple[str, Any, str]] = []  # (name, value, description)
        self.constant_names: dict[int, str] = {}

    def name_values(self, program: Program) -> None:
        """Give every Value a distinct name: passes may create names that clash. A number
        argument read once, to make it an array (a transform differentiates it), lends
        that array its name: ``b = np.asarray(b, dtype=np.float64)``."""
        taken = {"np", "buf", "builtins"}
        uses = program.uses()
        for ins in program.instrs:
            x = ins.args[0] if ins.args else None
            if ins.op is ops.to_float64 and isinstance(x, Value) and x.weak and uses[x] == 1:
                self.name[ins.out] = x.name
        values = [*program.args, *program.lives, *(ins.out for ins in program.instrs)]
        for v in values:
            if v in self.name:
                continue
            base = v.name if v.name.isidentifier() else "v"
            name, k = base, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
            self.name[v] = name
        self.taken = taken

    def fresh(self, base: str) -> str:
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}{k}", k + 1
        self.taken.add(name)
        return name

    def parameter(self, obj: Any, hint: str, description: str) -> str:
        """A constant passed in as a parameter (listed above the function)."""
        if id(obj) not in self.constant_names:
            name = self.fresh(hint if hint.isidentifier() else "c")
            self.constants.append((name, obj, description))
            self.constant_names[id(obj)] = name
        return self.constant_names[id(obj)]

    def arg(self, a: Any, broadcasts: bool = False, weak: bool = False) -> str:
        """``a`` as source text. A constant stored compactly (a scalar standing for a
        broadcast) is written as the scalar where ``broadcasts`` (its consumer would
        broadcast it anyway), else as a zero-copy ``np.broadcast_to`` view. A 0-d
        constant is a plain number where ``weak`` (it cannot change the result's
        dtype), else a NumPy scalar, which promotes as an array does."""
        if isinstance(a, Value):
            if a.kind != CONST:
                return self.inline.get(a) or self.name[a]
            return self.const(a, broadcasts, weak)
        if isinstance(a, np.dtype):
            return f"np.{a.name}"
        if isinstance(a, type) and issubclass(a, np.generic):
            return f"np.{a.__name__}"
        if isinstance(a, float):
            return _number(a)
        if isinstance(a, np.generic) and a.dtype.kind in "biuf":
            return f"np.{a.dtype.name}({_number(a.item())})"
        if a is None or isinstance(a, bool | int | str):
            return repr(a)
        if isinstance(a, tuple) and all(isinstance(x, int | np.integer) for x in a):
            return repr(tuple(int(x) for x in a))
        if isinstance(a, slice):
            return f"slice({self.arg(a.start)}, {self.arg(a.stop)}, {self.arg(a.step)})"
        if isinstance(a, tuple | list):
            items = [self.arg(x) for x in a]
            body = ", ".join(items) + ("," if isinstance(a, tuple) and len(a) == 1 else "")
            return f"({body})" if isinstance(a, tuple) else f"[{body}]"
        if isinstance(a, np.ndarray):
            return self.array(a, "c", "an array the function used")
        return self.parameter(a, "k", f"a {type(a).__name__} the function used")

    def const(self, a: Value, broadcasts: bool, weak: bool) -> str:
        value = np.asarray(a.source)
        if not a.frozen:  # held by reference: its values are read at every call
            text = self.parameter(a.source, a.name, _held(value))
            return (
                text
                if value.shape == a.shape or broadcasts
                else (f"np.broadcast_to({text}, {a.shape!r})")
            )
        scalar = value.size == 1 and value.dtype.kind in "fiub"
        if scalar and (broadcasts or value.shape == a.shape):
            number = _number(value.item())
            if value.shape != ():  # its axes count, even where the consumer broadcasts it
                return f"np.{value.dtype.name}({number}).reshape({value.shape})"
            return number if weak else f"np.{value.dtype.name}({number})"
        text = self.array(value, a.name, "a constant made while tracing")
        if value.shape == a.shape or broadcasts:
            return text
        return f"np.broadcast_to({text}, {a.shape!r})"

    def array(self, value: np.ndarray, hint: str, origin: str) -> str:
        if value.size == 0 and value.dtype.kind in "biuf":
            return f"np.empty({value.shape!r}, dtype=np.{value.dtype.name})"
        if value.size <= INLINE_MAX_SIZE and value.dtype.kind in "biuf":
            return f"np.array({_literal(value.tolist())}, dtype=np.{value.dtype.name})"
        description = f"{value.dtype} array of shape {value.shape}: {origin}"
        return self.parameter(value, hint, description)

    def index(self, index: Any) -> str:
        items = index if isinstance(index, tuple) else (index,)
        parts = []
        for i in items:
            if isinstance(i, slice):
                parts.append(
                    ":".join("" if x is None else repr(x) for x in (i.start, i.stop))
                    + ("" if i.step is None else f":{i.step!r}")
                )
            elif i is Ellipsis:
                parts.append("...")
            else:
                parts.append(self.arg(i))
        return ", ".join(parts) if parts else "()"

    def helper(self, fn: Callable[..., Any], hint: str) -> str:
        """The name of ``fn`` in the source, defining it there from its own source, with
        the helpers it calls; a forward whose source cannot be shown (a C function, a
        closure, one that calls such a function) is passed in as a parameter instead."""
        if id(fn) in self.helpers:
            return self.helpers[id(fn)]
        try:
            parts = self._definitions_of(fn, hint, {})
        except TypeError:
            where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"
            self.helpers[id(fn)] = self.parameter(fn, f"_{hint}", f"the forward of {where}")
            return self.helpers[id(fn)]
        for dependency, (name, text, needs) in reversed(parts.items()):
            if dependency is fn and (name in self.taken or name != getattr(fn, "__name__", "")):
                fresh = self.fresh(name)  # only the op's own forward may be renamed
                text, name = text.replace(f"def {_first_def(text)}(", f"def {fresh}(", 1), fresh
            self.taken.add(name)
            self.helpers[id(dependency)] = name
            for need in needs:
                if isinstance(need, ModuleType):
                    self.imports.add(f"import {need.__name__}")
                elif isinstance(need, tuple) and f"{need[0]} = {need[1]!r}" not in self.definitions:
                    self.definitions.append(f"{need[0]} = {need[1]!r}")
            self.definitions.append(text)
        return self.helpers[id(fn)]

    def _definitions_of(self, fn: Any, hint: str, found: dict) -> dict:
        """fn's definition and those of the helpers it calls, not yet in the source
        (TypeError if one cannot be shown, or a helper's name is taken by another)."""
        name, text, needs = _definition(fn, hint)
        found[fn] = (name, text, needs)
        for need in needs:
            if (
                isinstance(need, FunctionType)
                and need not in found
                and id(need) not in self.helpers
            ):
                if need.__name__ in self.taken:
                    raise TypeError(f"mg.jit: the name {need.__name__} is taken")
                self._definitions_of(need, need.__name__, found)
        return found


def _first_def(text: str) -> str:
    return text.split("def ", 1)[1].split("(", 1)[0]


_definitions: dict[Any, tuple[str, str, list[Any]]] = {}


def _definition(fn: Callable[..., Any], hint: str) -> tuple[str, str, list[Any]]:
    """(name, source of a ``def``, what it needs) for a forward function or lambda
    (worked out once per function: reading source files is slow)."""
    key = (fn, hint)
    if key not in _definitions:
        _definitions[key] = _read_definition(fn, hint)
    return _definitions[key]


def _read_definition(fn: Callable[..., Any], hint: str) -> tuple[str, str, list[Any]]:
    if not isinstance(fn, FunctionType) or fn.__closure__:
        raise TypeError(f"mg.jit: cannot write {fn!r} as source")
    needs: list[Any] = []  # helpers it calls, modules it imports, constants it reads
    for instruction in dis.get_instructions(fn):
        if instruction.opname != "LOAD_GLOBAL":
            continue
        name = instruction.argval
        value = fn.__globals__.get(name)
        if value is np:
            continue
        # builtins, helper functions, and math (erf's forward: the source imports it)
        if value is builtins or value is math or isinstance(value, FunctionType):
            needs.append(value)
        elif isinstance(value, int | float | str) and not isinstance(value, bool):
            needs.append((name, value))
        elif name not in fn.__globals__ and hasattr(builtins, name):
            continue  # len, range, ...
        else:
            raise TypeError(f"mg.jit: {fn.__qualname__} uses {name}, not NumPy")
    if fn.__name__ != "<lambda>":
        return fn.__name__, _without_annotations(textwrap.dedent(inspect.getsource(fn))), needs
    node = _lambda_node(fn)
    name = "_" + (hint if hint.isidentifier() else "op")
    params = ", ".join(a.arg for a in node.args.args)
    return name, f"def {name}({params}):\n    return {ast.unparse(node.body)}\n", needs


def _without_annotations(text: str) -> str:
    """A ``def``'s source without its type annotations (they name typing helpers the
    generated source does not define), comments and docstring kept."""
    definition = ast.parse(text).body[0]
    assert isinstance(definition, ast.FunctionDef)
    arguments = definition.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + len(lines[line - 1].encode()[:col].decode())

    cuts = []
    for a in every:
        if a.annotation is not None:
            cuts.append((offset(a.lineno, a.col_offset) + len(a.arg),
                         offset(a.annotation.end_lineno, a.annotation.end_col_offset)))  # fmt: skip
    if definition.returns is not None:
        end = offset(definition.returns.end_lineno, definition.returns.end_col_offset)
        start = text.rindex(
            "->", 0, offset(definition.returns.lineno, definition.returns.col_offset)
        )
        cuts.append((start - 1 if text[start - 1] == " " else start, end))
    for start, end in sorted(cuts, reverse=True):
        default = text.startswith(" = ", end)  # `x: int = 1` becomes `x=1`
        text = text[:start] + ("=" if default else "") + text[end + (3 if default else 0) :]
    return text


_parsed: dict[str, ast.Module] = {}


def _lambda_node(fn: FunctionType) -> ast.Lambda:
    """The ast of a lambda: the one on its line with its parameters and its bytecode."""
    path = inspect.getsourcefile(fn)
    if path not in _parsed:
        with open(path, encoding="utf-8") as file:
            _parsed[path] = ast.parse(file.read())
    code = fn.__code__
    params = code.co_varnames[: code.co_argcount]
    for node in ast.walk(_parsed[path]):
        if (
            isinstance(node, ast.Lambda)
            and node.lineno <= code.co_firstlineno <= (node.end_lineno or node.lineno)
            and tuple(a.arg for a in node.args.args) == params
        ):
            compiled = compile(ast.Expression(node), path, "eval").co_consts
            inner = next(c for c in compiled if hasattr(c, "co_code"))
            if (inner.co_names, inner.co_varnames, inner.co_consts) == (
                code.co_names,
                code.co_varnames,
                code.co_consts,
            ):
                return node
    raise TypeError(f"mg.jit: cannot find the source of {fn!r}")


def _held(value: np.ndarray) -> str:
    return (
        f"{value.dtype} array of shape {value.shape}: an array the function used, "
        "held by reference (read at every call)"
    )


def _operand(text: str) -> str:
    """``text`` as an operand of an infix operator: a negative number or an expression
    with operators of its own in parentheses (``-1.0 ** x`` is ``-(1.0 ** x)``)."""
    if text.replace(".", "").replace("_", "").isalnum():
        return text  # a name, an attribute, a number
    if not text.startswith("-") and text.strip("0123456789.e+-") == "":
        return text  # 1e-05
    head, paren, _ = text.partition("(")
    if paren and head.replace(".", "").replace("_", "").isalnum() and _closes_at_end(text):
        return text  # a call: np.float64(-1.0), np.broadcast_to(c, (3,))
    return f"({text})"


def _closes_at_end(text: str) -> bool:
    """Whether the first "(" of text is closed by its last character."""
    depth = 0
    for k, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and c == ")":
            return k == len(text) - 1
    return False


def _literal(x: Any) -> str:
    """A (nested) list of numbers as source text, nan and inf included."""
    if isinstance(x, list):
        return "[" + ", ".join(_literal(y) for y in x) + "]"
    return _number(x)


def _number(x: Any) -> str:
    """A Python number as source text (inf and nan included)."""
    if isinstance(x, float) and not np.isfinite(x):
        return "np.nan" if np.isnan(x) else ("np.inf" if x > 0 else "-np.inf")
    return repr(x)


def _broadcasting_args(ins: Instr) -> set[int]:
    """Positions of compact constants an elementwise op may be given as they are."""
    if not ins.op.elementwise:
        return set()
    shapes = [x.shape if isinstance(x, Value) and x.weak is None else () for x in ins.args]
    ok = set()
    for k, x in enumerate(ins.args):
        if isinstance(x, Value) and x.kind == CONST and np.shape(x.source) != x.shape:
            small = [np.shape(x.source) if j == k else s for j, s in enumerate(shapes)]
            if np.broadcast_shapes(*small) == ins.out.shape:
                ok.add(k)
    return ok


def _weak_constants(ins: Instr) -> set[int]:
    """Positions of number constants a plain Python number may stand for: in an
    elementwise op whose other operands all have the result's float dtype, one of them
    an array, a "weak" Python float cannot change that dtype (nor, being exact, the
    value)."""
    if not ins.op.elementwise or ins.out.dtype.kind != "f":
        return set()
    arrays = [y for y in ins.values() if y.kind != CONST and y.weak is None]
    if not arrays or any(y.dtype != ins.out.dtype for y in ins.values()):
        return set()
    return {
        k
        for k, x in enumerate(ins.args)
        if isinstance(x, Value)
        and x.kind == CONST
        and np.size(x.source) == 1
        and np.asarray(x.source).dtype.kind == "f"
    }


def _numpy_name(fn: Any) -> str | None:
    """``np.NAME`` if ``fn`` is NumPy's own function of that name."""
    name = getattr(fn, "__name__", None)
    if name and getattr(np, name, None) is fn:
        return f"np.{name}"
    return None


class _Render:
    """What an op's ``source`` gets to write its arguments: ``r(x)`` renders one (a name,
    a constant, a tuple), ``r.operand(x)`` one that an operator or a method applies to
    (parenthesised where needed), ``r.index(i)`` an index (``1:3, ::2``)."""

    def __init__(self, ins: Instr, w: _Writer) -> None:
        self.args, self.w = ins.args, w
        self.compact, self.weak = _broadcasting_args(ins), _weak_constants(ins)

    def __call__(self, x: Any) -> str:
        k = next((j for j, y in enumerate(self.args) if y is x), -1)
        return self.w.arg(x, k in self.compact, k in self.weak)

    def operand(self, x: Any) -> str:
        return _operand(self(x))

    def index(self, index: Any) -> str:
        return self.w.index(index)


def _expression(ins: Instr, w: _Writer, into: Value | None, storage: str | None) -> str:
    """The right-hand side of ``out = ...`` for one instruction: the op's own ``source``
    (a template or a function of a renderer), else its NumPy function's name, else its
    forward, defined in the source."""
    op, a, r = ins.op, ins.args, _Render(ins, w)
    if into is not None or storage is not None:
        target = w.name[into] if into is not None else f"buf.{storage}"
        return f"{_numpy_name(op.forward)}({', '.join(r(x) for x in a)}, out={target})"
    if callable(op.source):
        return op.source(r, *a)
    if op.source is not None:
        return op.source.format(*(r.operand(x) if isinstance(x, Value) else r(x) for x in a))
    fn = _numpy_name(op.forward) or w.helper(op.forward, op.name)
    return f"{fn}({', '.join(r(x) for x in a)})"


def _buffers(storage: dict[Value, str]) -> Callable[[], SimpleNamespace] | None:
    """The per-thread set of kept buffers the program writes into (None if none)."""
    specs = {name: (v.shape, v.dtype) for v, name in storage.items()}
    if not specs:
        return None
    local = threading.local()

    def buffers() -> SimpleNamespace:
        held = getattr(local, "held", None)
        if held is None:
            held = local.held = SimpleNamespace(
                **{name: np.empty(shape, dtype) for name, (shape, dtype) in specs.items()}
            )
        return held

    return buffers


_SECTIONS = {
    "forward": "# forward",
    "backward": "# backward",
    "after": "# after the backward pass",
}


def _results(program: Program, w: _Writer) -> list[str]:
    """The returned expressions: copies of whatever the caller must not share."""
    roots = owners(program)
    handed: dict[Value, int] = {}  # root -> the output origin it was returned for
    texts = []
    for k, v in enumerate(program.outputs):
        if not isinstance(v, Value):
            texts.append(repr(v) if not isinstance(v, float) else _number(v))
            continue
        if v.weak is not None:
            texts.append(w.name[v])  # a number argument, returned as the number
            continue
        origin = program.origins[k] if k < len(program.origins) else k
        mine = roots.get(v, {v})
        shared = any(
            r.kind in (ARG, LIVE, CONST) or r in program.storage or handed.get(r, origin) != origin
            for r in mine
        )
        for root in mine:
            handed.setdefault(root, origin)
        text = w.arg(v)
        texts.append(f"np.array({text})" if shared or v.kind == CONST else text)
    return texts


def generate(program: Program, name: str = "compiled") -> Generated:
    """The program's Python source, and the function ``exec`` made of it."""
    w = _Writer()
    w.name_values(program)
    body: list[str] = []
    buffers = _buffers(program.storage)
    uses = program.uses()
    section = None
    for ins in program.instrs:
        if ins.op is ops.transpose and uses.get(ins.out) == 1 and ins.out not in program.outputs:
            w.inline[ins.out] = _expression(ins, w, None, None)  # Xᵀ reads best where used
            continue
        if _SECTIONS[ins.phase] != section:
            section = _SECTIONS[ins.phase]
            body.append(f"    {section}")
        into = program.into.get(ins)
        storage = program.storage.get(ins.out) if into is None else None
        expression = _expression(ins, w, into, storage)
        if effect(ins) and uses.get(ins.out, 0) == 0 and not ins.op.random:
            line = f"    {expression}"  # a check: its result is not needed
        else:
            line = f"    {w.name[ins.out]} = {expression}"
        if ins.note:
            line += f"  # {ins.note}"
        body.append(line)
    outs = _results(program, w)
    body.append(f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    params = [w.name[v] for v in [*program.args, *program.lives]]
    params += [c[0] for c in w.constants]
    constants = [d for d in w.definitions if not d.startswith("def ")]
    functions = [d.rstrip("\n") + "\n" for d in w.definitions if d.startswith("def ")]
    header = [*sorted(w.imports), *constants, *([""] if constants else [])]
    header += [line for f in functions for line in (f, "")]
    notes = [f"# {c[0]}: {c[2]}" for c in w.constants]
    notes += [f"# {w.name[v]}: {_describe_live(v)}" for v in program.lives]
    if buffers is not None:
        params.append("buf")
        notes.append("# buf: work arrays kept between calls (one set per thread)")
    lines = [*header, *notes, f"def {name}({', '.join(params)}):"]
    source = "\n".join([*lines, *body]) + "\n"
    exec(compile(source, f"<minigrad.jit {name}>", "exec"), w.namespace)
    return Generated(source, w.namespace[name], [c[1] for c in w.constants], buffers)


def _describe_live(v: Value) -> str:
    if isinstance(v.source, np.random.Generator):
        return "a random generator, drawn from at every call"
    kind = "tensor" if hasattr(v.source, "requires_grad") else "array"
    return f"a {kind} from outside ({v.dtype}, shape {v.shape}), read at every call"


__all__ = ["TEMP", "Generated", "generate"]
