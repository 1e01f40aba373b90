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
from typing import Any, NamedTuple

import numpy as np

from minigrad.grad_mode import no_grad
from minigrad.io import FileFormatError, load_arrays, save_arrays
from minigrad.op import ShapeError
from minigrad.tensor import Tensor


def _values_of(x: Any) -> Any:
    """What ``np.asarray`` should read of a state's value: a Tensor's data, a torch
    tensor detached and on the CPU (duck-typed: torch is never imported), else ``x``."""
    if isinstance(x, Tensor):
        return x.data
    if not isinstance(x, np.ndarray) and hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu()
    return x


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


def _as_buffer(owner: str, name: str, value: Any) -> Tensor | None:
    """A buffer's value: a Tensor that requires no gradient (or None)."""
    if value is None:
        return None
    if isinstance(value, Parameter):
        raise TypeError(
            f"{owner}.{name} is a buffer; a Parameter cannot be one (assign it to another name)"
        )
    return value if isinstance(value, Tensor) else Tensor(np.array(value))


def _zero_grad(p: Tensor, set_to_none: bool) -> None:
    """``p.grad = None``, or zeros in place of an existing gradient."""
    if set_to_none:
        p.grad = None
    elif p.grad is not None:
        p.grad = Tensor(np.zeros_like(p.grad.data))


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


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` did not load (PyTorch's named tuple): the
    model's names the state lacked, and the state's names the model lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


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
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:  # assigning a buffer keeps it one
            buffers[name] = _as_buffer(type(self).__name__, name, value)
            return
        _refuse_plain_container(self, name, value)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:  # only when ordinary lookup fails: buffers
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Keep ``tensor`` as state that is not a parameter: ``self.NAME`` reads it,
        :meth:`state_dict` saves it (unless ``persistent=False``), optimizers never see it
        (BatchNorm's running statistics). As in PyTorch, assigning ``self.NAME = value``
        later replaces the buffer, and ``None`` is allowed (not saved).

        >>> import minigrad as mg
        >>> m = mg.nn.Module()
        >>> m.register_buffer("count", mg.tensor(0))
        >>> m.count, list(m.state_dict()), m.parameters()
        (tensor(0), ['count'], [])
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise KeyError(f"register_buffer: the name must be an identifier, got {name!r}")
        if name in vars(self) and name not in vars(self).get("_buffers", {}):
            raise KeyError(f"register_buffer: {type(self).__name__}.{name} already exists")
        if "_buffers" not in vars(self):
            object.__setattr__(self, "_buffers", {})
            object.__setattr__(self, "_non_persistent", set())
        self._buffers[name] = _as_buffer(type(self).__name__, name, tensor)
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

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

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs in PyTorch's order, each buffer once."""
        walk = self.named_modules(prefix) if recurse else [(prefix, self)]
        seen: set[int] = set()
        for module_prefix, module in walk:
            for name, value in vars(module).get("_buffers", {}).items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield _join(module_prefix, name), value

    def buffers(self, recurse: bool = True) -> list[Tensor]:
        """Every buffer (state that is not a parameter), sub-modules included."""
        return [b for _, b in self.named_buffers(recurse=recurse)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's accumulated gradient: ``None`` (the default, as in
        PyTorch), or zeros where a gradient exists with ``set_to_none=False``."""
        for p in self.parameters():
            _zero_grad(p, set_to_none)

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

    def _named_state(self) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, PyTorch's state_dict
        order: each module's own parameters, then its buffers, then its sub-modules'."""
        state: dict[str, Tensor] = {}
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, value in vars(module).items():
                if isinstance(value, Parameter):
                    state[_join(prefix, name)] = value
            skip = vars(module).get("_non_persistent", ())
            for name, value in vars(module).get("_buffers", {}).items():
                if value is not None and name not in skip:
                    state[_join(prefix, name)] = value
        return state

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters' and buffers' values by dotted name (a shared module
        under each name): PyTorch's keys, shapes and layouts, so the one line
        ``torch_model.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()})``
        loads it into the equivalent ``torch.nn`` model."""
        return {name: t.data.copy() for name, t in self._named_state().items()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Set parameters and buffers from ``state``, returning ``(missing_keys,
        unexpected_keys)``.

        Values may be NumPy arrays, minigrad tensors, or anything ``np.asarray`` reads
        (PyTorch tensors: ``model.load_state_dict(torch_model.state_dict())`` works);
        they are copied in, cast to each parameter's dtype. With ``strict=True`` (the
        default) the names must match exactly, else a KeyError lists the differences;
        with ``strict=False`` the matching names are loaded and the others returned.
        Shapes must match either way; a mismatch raises and changes nothing.
        """
        own = self._named_state()
        missing = sorted(own.keys() - state.keys())
        unexpected = sorted(state.keys() - own.keys())
        if strict and (missing or unexpected):
            raise KeyError(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
        # the values (a state may hold tensors that require grad: the load copies values)
        values = {name: np.asarray(_values_of(state[name])) for name in own if name in state}
        for name, value in values.items():
            if value.shape != own[name].shape:
                raise ShapeError(
                    f"load_state_dict: {name} has shape {own[name].shape}, the state has "
                    f"{value.shape}"
                )
        with no_grad():  # in place: a graph recorded before the load refuses to backward
            for name, value in values.items():
                own[name][...] = value.astype(own[name].dtype)
        return IncompatibleKeys(missing, unexpected)

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
