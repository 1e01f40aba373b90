"""Module and Parameter: models as objects that own their parameters (``torch.nn`` habits).

A Module finds its Parameters and sub-Modules through its attributes, in the order they
were assigned; containers (:mod:`minigrad.nn.containers`) keep theirs in ``_modules``.
Walks keep a memo of the modules they visited, as PyTorch's do, so a module reachable
twice is listed once and a sub-module that refers back to its parent ends the walk
instead of recursing forever.

A plain list, tuple, set or dict of Modules (or Parameters) as an attribute is refused
with an error that names ModuleList/ModuleDict: PyTorch silently ignores such a list,
and its parameters never train.

>>> import minigrad as mg
>>> model = mg.nn.Sequential(mg.nn.Linear(2, 3, seed=0), mg.nn.Tanh(), mg.nn.Linear(3, 1, seed=1))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.io import FileFormatError, load_arrays, save_arrays
from minigrad.op import ShapeError
from minigrad.tensor import Tensor


def _values_of(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


class Parameter(Tensor):
    """A leaf tensor that a Module registers as trainable (``requires_grad=True``).

    It holds its own copy of ``data``; integer data becomes float64, float32 stays.

    >>> import minigrad as mg
    >>> mg.nn.Parameter([1, 2])
    Parameter([1., 2.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        data = np.array(data.data if isinstance(data, Tensor) else data)  # an own copy
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
        super().__init__(data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__().removeprefix("tensor(")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _refuse_plain_container(owner: Module, name: str, value: Any) -> None:
    """Raise if ``value`` is a list/tuple/set/dict holding Modules or Parameters."""
    if name == "_modules" or not isinstance(value, list | tuple | set | frozenset | dict):
        return
    items = value.values() if isinstance(value, dict) else value
    kinds = {type(x).__name__ for x in items if isinstance(x, Module | Parameter)}
    if not kinds:
        return
    plain = type(value).__name__
    if any(isinstance(x, Module) for x in items):
        wrapper = "ModuleDict" if isinstance(value, dict) else "ModuleList"
        fix = f"wrap it: self.{name} = mg.nn.{wrapper}(...)"
    else:
        fix = "assign each Parameter to an attribute of its own (or to a sub-Module)"
    raise TypeError(
        f"{type(owner).__name__}.{name} is a plain {plain} holding {', '.join(sorted(kinds))}: "
        f"parameters(), state_dict() and train()/eval() would not see them; {fix}"
    )


class Module:
    """Base class of models: holds Parameters and sub-Modules as attributes.

    Subclasses define ``forward``; calling the module calls it. Calling
    ``super().__init__()`` is optional. ``training`` is True until :meth:`eval`
    (layers such as Dropout behave differently in evaluation).

    >>> import minigrad as mg
    >>> class Affine(mg.nn.Module):
    ...     def __init__(self):
    ...         self.scale = mg.nn.Parameter(2.0)
    ...         self.shift = mg.nn.Parameter(1.0)
    ...     def forward(self, x):
    ...         return self.scale * x + self.shift
    >>> Affine()(mg.tensor([1.0, 2.0])).tolist()
    [3.0, 5.0]
    """

    training: bool = True  # the class default; train()/eval() set it on each instance

    def __init__(self) -> None:
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        _refuse_plain_container(self, name, value)
        object.__setattr__(self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # --- walking the tree ---------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(attribute name, module) for each direct sub-module, in assignment order; a
        module held under two names is listed once (under the first), as in PyTorch."""
        seen: set[int] = set()
        for name, module in self._all_children():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def _all_children(self) -> Iterator[tuple[str, Module]]:
        """Every (name, sub-module) attribute, repeats included (for state_dict and repr)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif name == "_modules":  # a container's items
                yield from value.items()
            else:  # a list of modules appended to after assignment
                _refuse_plain_container(self, name, value)

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every module below it, parents first.

        A module reachable under several names is listed once (PyTorch's memo), unless
        ``remove_duplicate=False``; a module that refers back to one of its own ancestors
        is never entered again, so cycles end.
        """
        memo = {id(self)} if remove_duplicate else None
        yield from _walk(self, prefix, memo, set())

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, PyTorch's order: a module's own parameters (in
        assignment order) before those of its sub-modules; a shared parameter once."""
        walk = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        seen: set[int] = set()
        for module_prefix, module in walk:
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    if remove_duplicate:
                        seen.add(id(value))
                    yield _join(module_prefix, name), value

    def parameters(self, recurse: bool = True) -> list[Parameter]:
        """Every parameter, sub-modules included, each once (a list, so it can be reused)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``): Dropout passes its input through; returns self."""
        return self.train(False)

    # --- state ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters' values by dotted name (a shared module under each name)."""
        return {name: p.data.copy() for name, p in self.named_parameters(remove_duplicate=False)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set parameters from ``state`` (names and shapes must match exactly)."""
        own = dict(self.named_parameters(remove_duplicate=False))
        missing, unexpected = own.keys() - state.keys(), state.keys() - own.keys()
        if missing or unexpected:
            raise KeyError(
                f"state_dict mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
        # the values (a state may hold tensors that require grad: the load copies values)
        values = {name: np.asarray(_values_of(state[name])) for name in own}
        for name, p in own.items():
            if values[name].shape != p.shape:
                raise ShapeError(
                    f"load_state_dict: {name} has shape {p.shape}, the state has "
                    f"{values[name].shape}"
                )
        with no_grad():  # in place: a graph recorded before the load refuses to backward
            for name, p in own.items():
                p[...] = values[name].astype(p.dtype)

    def save(self, path: str | Path) -> None:
        """Write the parameters to ``path`` exactly (``.npz`` format, no suffix added;
        plain arrays, no pickle), atomically: a save that fails leaves the previous file
        intact (:func:`minigrad.io.atomic_write`)."""
        save_arrays(path, self.state_dict())

    def load(self, path: str | Path) -> None:
        """Read parameters written by :meth:`save`.

        A file that is not such a model (empty, truncated, corrupt, pickled, or the
        parameters of another model) raises :class:`minigrad.io.FileFormatError`, a
        ValueError naming the file and what is wrong; the parameters are then unchanged.
        """
        what = f"a saved {type(self).__name__}"
        arrays = load_arrays(path, what)
        try:
            self.load_state_dict(arrays)
        except (KeyError, ShapeError) as error:
            reason = error.args[0] if isinstance(error, KeyError) else str(error)
            raise FileFormatError(path, what, reason) from None

    # --- display --------------------------------------------------------------------------

    def __repr__(self) -> str:
        return _repr(self, set())

    def extra_repr(self) -> str:
        """The layer's settings, shown inside the parentheses of its repr."""
        return ""


def _walk(
    module: Module, prefix: str, memo: set[int] | None, path: set[int]
) -> Iterator[tuple[str, Module]]:
    """Pre-order walk; ``memo`` (if any) holds modules already listed, ``path`` the
    ancestors of ``module`` (the cycle guard even when duplicates are wanted)."""
    yield prefix, module
    path.add(id(module))
    for name, child in module._all_children():
        if id(child) in path or (memo is not None and id(child) in memo):
            continue
        if memo is not None:
            memo.add(id(child))
        yield from _walk(child, _join(prefix, name), memo, path)
    path.discard(id(module))


def _repr(module: Module, path: set[int]) -> str:
    """PyTorch's layout; a child that is one of its own ancestors is named, not entered."""
    path = path | {id(module)}
    extra = module.extra_repr()
    lines = extra.split("\n") if extra else []
    children = []
    for name, child in module._all_children():
        if id(child) in path:
            text = f"<cycle: {type(child).__name__}, an enclosing module>"
        else:
            text = _repr(child, path).replace("\n", "\n  ")
        children.append(f"({name}): {text}")
    body = ""
    if len(lines) == 1 and not children:
        body = lines[0]
    elif lines or children:
        body = "\n  " + "\n  ".join(lines + children) + "\n"
    return f"{type(module).__name__}({body})"
