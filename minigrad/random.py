"""Random state: one default generator behind every draw that is not given its own.

As in PyTorch, the default generator starts from fresh OS entropy in each process, and
``manual_seed(s)`` makes everything drawn from it afterwards (``nn.Linear``'s default
init, ``nn.Dropout``'s masks, ``mg.rand``/``mg.randn``) repeat exactly. Anything that
draws also takes ``seed=`` (a private generator started from that seed) or ``rng=`` (a
``np.random.Generator`` of your own, PyTorch's ``generator=``), which leave the default
generator alone.

>>> import minigrad as mg
>>> _ = mg.manual_seed(0)
>>> first = mg.rand(3).tolist()
>>> _ = mg.manual_seed(0)
>>> mg.rand(3).tolist() == first
True
"""

from __future__ import annotations

import numpy as np

_initial_seed: int = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
default_generator: np.random.Generator = np.random.Generator(np.random.PCG64(_initial_seed))
"""The generator that draws when no ``seed``/``rng`` is given (reseeded in place, so a
reference to it stays valid after :func:`manual_seed`)."""


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"a seed must be an integer ≥ 0, got {seed!r}")
    return int(seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator (in place) and return it, like ``torch.manual_seed``.

    >>> import minigrad as mg
    >>> _ = mg.manual_seed(42); a = mg.nn.Linear(2, 2).weight.tolist()
    >>> _ = mg.manual_seed(42); a == mg.nn.Linear(2, 2).weight.tolist()
    True
    """
    global _initial_seed
    _initial_seed = _check_seed(seed)
    default_generator.bit_generator.state = np.random.PCG64(_initial_seed).state
    return default_generator


def initial_seed() -> int:
    """The seed the default generator last started from (OS entropy until ``manual_seed``)."""
    return _initial_seed


def generator(
    seed: int | None = None, rng: np.random.Generator | None = None
) -> np.random.Generator:
    """The generator a draw uses: ``rng`` itself, a new one from ``seed``, else the default.

    Passing both is an error: it would be unclear which one decides.
    """
    if seed is not None and rng is not None:
        raise ValueError("pass seed= or rng=, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    if seed is not None:
        return np.random.default_rng(_check_seed(seed))
    return default_generator
