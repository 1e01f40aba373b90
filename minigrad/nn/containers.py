"""Containers: Sequential, ModuleList and ModuleDict (PyTorch's), whose modules
``parameters()``, ``named_parameters()``, ``state_dict()`` and ``train()``/``eval()``
see. They keep their items in ``_modules`` (name → module), which the walks of
:class:`~minigrad.nn.Module` read.

>>> import minigrad as mg
>>> blocks = mg.nn.ModuleList([mg.nn.Linear(2, 2, seed=s) for s in range(3)])
>>> len(blocks), len(blocks.parameters())
(3, 6)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from minigrad.nn.module import Module


def _checked(owner: str, where: str, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{owner} holds Modules, got {type(module).__name__} {where}")
    return module


class _Indexed(Module):
    """The list behaviour Sequential and ModuleList share: items are named "0", "1", …"""

    _modules: dict[str, Module]

    def _index(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise TypeError(
                f"{type(self).__name__} indices must be integers or slices, "
                f"got {type(index).__name__}"
            )
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of {n}")
        return int(index) % n

    def _renumber(self, modules: Iterable[Module]) -> None:
        self._modules = {str(i): m for i, m in enumerate(modules)}

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[self._index(index)]
        self._modules[key] = _checked(type(self).__name__, f"at index {index}", module)

    def __delitem__(self, index: int | slice) -> None:
        """Remove items; the rest are renumbered 0, 1, … (PyTorch does the same)."""
        items = list(self._modules.values())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[self._index(index)]
        self._renumber(items)

    def append(self, module: Module) -> _Indexed:
        """Add ``module`` at the end (named ``str(len(self))``); returns self."""
        where = f"at index {len(self)}"
        self._modules[str(len(self))] = _checked(type(self).__name__, where, module)
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``; later items are renumbered."""
        items = list(self._modules.values())
        items.insert(index, _checked(type(self).__name__, f"at index {index}", module))
        self._renumber(items)


class Sequential(_Indexed):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Items are named "0", "1", … (so parameters are "0.weight", "0.bias", …), or take the
    names of a dict given as the only argument. Indexing by position, slicing (a new
    Sequential sharing the same modules), len, iteration and append work as on a list.
    An empty Sequential returns its input.

    >>> import minigrad as mg
    >>> mlp = mg.nn.Sequential(mg.nn.Linear(1, 8, seed=0), mg.nn.Tanh(), mg.nn.Linear(8, 1, seed=1))
    >>> mlp(mg.zeros(5, 1)).shape, len(mlp), type(mlp[1]).__name__, len(mlp[:2])
    ((5, 1), 3, 'Tanh', 2)
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        self._modules = {}
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._modules[_key("Sequential", name)] = _checked(
                    "Sequential", f"under {name!r}", module
                )
        else:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[self._index(index)][1]

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_Indexed):
    """A list of modules whose parameters the enclosing module sees (PyTorch's ModuleList).

    It has no ``forward``: the enclosing module decides how to call its items.

    >>> import minigrad as mg
    >>> class Stack(mg.nn.Module):
    ...     def __init__(self, depth):
    ...         self.layers = mg.nn.ModuleList(mg.nn.Linear(2, 2, seed=i) for i in range(depth))
    ...     def forward(self, x):
    ...         for layer in self.layers:
    ...             x = layer(x).tanh()
    ...         return x
    >>> [name for name, _ in Stack(2).named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        self._modules = {}
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[self._index(index)]


def _key(owner: str, key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{owner} keys must be strings, got {type(key).__name__} {key!r}")
    if not key or "." in key:
        raise KeyError(f"{owner} keys must be non-empty and contain no '.', got {key!r}")
    return key


class ModuleDict(Module):
    """A dict of modules (string keys) whose parameters the enclosing module sees.

    Keys keep their insertion order; parameter names are "key.weight", … It has no
    ``forward``.

    >>> import minigrad as mg
    >>> heads = mg.nn.ModuleDict({"mean": mg.nn.Linear(4, 1), "scale": mg.nn.Linear(4, 1)})
    >>> list(heads), [name for name, _ in heads.named_parameters()][:2]
    (['mean', 'scale'], ['mean.weight', 'mean.bias'])
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        self._modules = {}
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {list(self._modules)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        self._modules[_key("ModuleDict", key)] = _checked("ModuleDict", f"under {key!r}", module)

    def __delitem__(self, key: str) -> None:
        self.pop(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self._modules[key]
        return module

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update expects (key, module) pairs, got {pair!r}")
            self[pair[0]] = pair[1]
