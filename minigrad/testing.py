"""Hypothesis strategies for property-testing gradients.

Everything here draws *inputs* for gradient checks: shapes (single, broadcastable
pairs, matmul pairs) and float arrays whose values keep away from the points where a
central difference goes wrong — the kinks of ``abs``/``relu``/``clip`` (``avoid=``), the
poles and branch points of ``log``/``sqrt``/``1/x`` (``positive=True`` or
``min_value > 0``) and the ties of ``max``/``min`` (``distinct_gap=``).

The module depends on NumPy and Hypothesis only, so it can test any function, not just
minigrad's. A central difference ``(f(x + h) - f(x - h)) / 2h`` is only a derivative
when ``f`` is smooth on ``[x - h, x + h]``: keeping every element at least ``margin``
(default 0.1, far above any finite-difference step) from each kink makes the check
meaningful instead of flaky.

Example: the derivative of ``abs`` is ``sign`` away from 0.

>>> import numpy as np
>>> from hypothesis import given
>>> from minigrad.testing import arrays, shapes
>>> @given(arrays(shapes(), avoid=(0.0,)))
... def test_abs_derivative_is_sign(x):
...     h = 1e-6
...     numeric = (np.abs(x + h) - np.abs(x - h)) / (2 * h)
...     assert np.allclose(numeric, np.sign(x))
>>> test_abs_derivative_is_sign()

Settings profiles: :func:`register_profiles` registers ``"ci"``, ``"dev"`` and
``"thorough"``; the test suite's ``conftest.py`` loads ``"ci"`` when the environment
variable ``CI`` is set, otherwise ``$HYPOTHESIS_PROFILE`` or ``"dev"`` — which is what
:func:`load_profile_from_env` does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import DTypeLike

__all__ = [
    "PROFILE_NAMES",
    "Shape",
    "array_pairs",
    "arrays",
    "broadcastable_shapes",
    "distinct_arrays",
    "load_profile_from_env",
    "matmul_shapes",
    "register_profiles",
    "shapes",
]

Shape = tuple[int, ...]
"""An array shape, as NumPy reports it: a tuple of non-negative ints (``()`` is a scalar)."""

PROFILE_NAMES: tuple[str, ...] = ("ci", "dev", "thorough")
"""The Hypothesis settings profiles that :func:`register_profiles` registers."""

_FLOAT_TYPES: dict[np.dtype, type[np.floating]] = {
    np.dtype(np.float16): np.float16,
    np.dtype(np.float32): np.float32,
    np.dtype(np.float64): np.float64,
}


# --------------------------------------------------------------------------- shapes


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims..max_dims`` axes, each of length ``min_side..max_side``.

    ``()`` (a 0-d array) is included when ``min_dims == 0``. Shrinks towards fewer and
    shorter axes.

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import shapes
    >>> @given(shapes(max_dims=2))
    ... def test_ones_sum_to_size(shape):
    ...     assert len(shape) <= 2
    ...     assert np.ones(shape).sum() == np.prod(shape)
    >>> test_ones_sum_to_size()
    """
    _check_shape_bounds(min_dims, max_dims, min_side, max_side)
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs ``(shape_a, shape_b)`` that NumPy broadcasts together.

    Each pair is cut from one common shape: each side keeps a trailing run of its axes
    (so the two may differ in ndim, down to the scalar ``()`` when ``min_dims == 0``)
    and, independently, may replace any kept axis by 1 — so size-1 axes appear on
    either side, and on both sides of one pair (``(1, 3)`` with ``(2, 1)``). Size-1
    axes are only used when ``min_side <= 1 <= max_side``. The pairs shrink towards
    two equal shapes, so a failure that needs broadcasting shrinks to the smallest
    broadcast that still fails.

    (``hypothesis.extra.numpy.mutually_broadcastable_shapes`` draws the same kind of
    pair, but with its defaults about two draws in three contain a scalar and only
    about one in fifty has size-1 axes on both sides; this balances the cases.)

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import broadcastable_shapes
    >>> @given(broadcastable_shapes())
    ... def test_add_broadcasts(pair):
    ...     a, b = pair
    ...     assert (np.zeros(a) + np.zeros(b)).shape == np.broadcast_shapes(a, b)
    >>> test_add_broadcasts()
    """
    _check_shape_bounds(min_dims, max_dims, min_side, max_side)
    ones_allowed = min_side <= 1 <= max_side

    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[Shape, Shape]:
        common = draw(shapes(min_dims, max_dims, min_side, max_side))

        def side() -> Shape:
            dropped = draw(st.integers(0, len(common) - min_dims))
            kept = common[dropped:]
            if not ones_allowed:
                return kept
            return tuple(1 if draw(st.booleans()) else n for n in kept)

        return side(), side()

    return pairs()


def matmul_shapes(
    max_batch_dims: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs ``(shape_a, shape_b)`` that ``np.matmul`` (``a @ b``) accepts.

    Drawn with ``hypothesis.extra.numpy.mutually_broadcastable_shapes`` on matmul's
    gufunc signature ``(n?,k),(k,m?)->(n?,m?)``: plain matrices, a 1-D vector on
    either side or both (vector @ vector is a dot product), and up to
    ``max_batch_dims`` leading batch axes that broadcast against each other (a batch
    of matrices against one matrix, batch axes of size 1 against size n, and a 1-D
    vector against a batch). Every axis has length ``1..max_side``.

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import matmul_shapes
    >>> @given(matmul_shapes(max_batch_dims=2))
    ... def test_matmul_accepts(pair):
    ...     a, b = pair
    ...     np.matmul(np.zeros(a), np.zeros(b))
    >>> test_matmul_accepts()
    """
    _check_shape_bounds(0, max_batch_dims, 1, max_side)
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature,
        min_dims=0,
        max_dims=max_batch_dims,
        min_side=1,
        max_side=max_side,
    ).map(lambda shapes_: (shapes_.input_shapes[0], shapes_.input_shapes[1]))


def _check_shape_bounds(min_dims: int, max_dims: int, min_side: int, max_side: int) -> None:
    if not 0 <= min_dims <= max_dims:
        raise ValueError(
            f"need 0 <= min_dims <= max_dims, got min_dims={min_dims}, max_dims={max_dims}"
        )
    if not 0 <= min_side <= max_side:
        raise ValueError(
            f"need 0 <= min_side <= max_side, got min_side={min_side}, max_side={max_side}"
        )


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class _Values:
    """Validated value options: the allowed set is a union of closed intervals.

    ``intervals`` are sorted and disjoint, and their endpoints are exactly representable
    in ``dtype`` — so rounding a value inside one to ``dtype`` keeps it inside, and
    every such value is at least ``margin`` from each avoided point.
    """

    dtype: np.dtype
    intervals: tuple[tuple[float, float], ...]
    distinct_gap: float | None
    description: str

    @property
    def width(self) -> int:
        return self.dtype.itemsize * 8

    def elements(self) -> st.SearchStrategy[float]:
        """One value: a float from one of the allowed intervals (each equally likely)."""
        return st.one_of(*(st.floats(lo, hi, width=self.width) for lo, hi in self.intervals))

    def array(self, shape: int | Shape | st.SearchStrategy[Shape]) -> st.SearchStrategy[np.ndarray]:
        if isinstance(shape, st.SearchStrategy):
            if self.distinct_gap is None:
                return hnp.arrays(self.dtype, shape, elements=self.elements())
            return shape.flatmap(self.array)
        shape = _as_shape(shape)
        if self.distinct_gap is None:
            return hnp.arrays(self.dtype, shape, elements=self.elements())
        return self.distinct(math.prod(shape)).map(lambda flat: flat.reshape(shape))

    def pair(
        self, shape_pair: tuple[Shape, Shape]
    ) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
        shape_a, shape_b = (_as_shape(s) for s in shape_pair)
        if self.distinct_gap is None:
            return st.tuples(self.array(shape_a), self.array(shape_b))
        size_a = math.prod(shape_a)
        return self.distinct(size_a + math.prod(shape_b)).map(
            lambda flat: (flat[:size_a].reshape(shape_a), flat[size_a:].reshape(shape_b))
        )

    # Distinct values. Work in "t-space": the allowed intervals laid end to end, so the
    # avoided zones are squeezed out and t runs over [0, total length]. Draw n values u
    # in [0, room] with room = length - (n - 1) * step, sort them, and add i * step to
    # the i-th smallest: consecutive values are then >= step apart and the largest is
    # <= length. Mapping t back to x is monotone with slope 1 inside an interval and
    # jumps over each zone, so it never brings two values closer. `step` exceeds the
    # gap by a few ulps to pay for rounding. No value is ever rejected, and the values
    # shrink towards lo, lo + step, lo + 2 * step, ...

    def _step(self) -> float:
        assert self.distinct_gap is not None
        ftype = _FLOAT_TYPES[self.dtype]
        extent = max(abs(self.intervals[0][0]), abs(self.intervals[-1][1]), self._length())
        return self.distinct_gap + 8.0 * float(np.spacing(ftype(extent)))

    def _length(self) -> float:
        return math.fsum(hi - lo for lo, hi in self.intervals)

    def distinct(self, size: int) -> st.SearchStrategy[np.ndarray]:
        """``size`` values, as a 1-D array, pairwise at least ``distinct_gap`` apart."""
        step = self._step()
        room = self._length() - max(size - 1, 0) * step
        if room < 0:
            raise ValueError(
                f"cannot draw {size} values pairwise at least distinct_gap={self.distinct_gap} "
                f"apart from {self.description}: that needs a range of length "
                f"{(size - 1) * step:.6g}, there is {self._length():.6g}; use a smaller "
                "distinct_gap or shape, or a wider [min_value, max_value]"
            )
        return hnp.arrays(np.float64, size, elements=st.floats(0.0, room)).map(
            lambda u: self._spread(u, step)
        )

    def _spread(self, u: np.ndarray, step: float) -> np.ndarray:
        order = np.argsort(u, kind="stable")
        t = np.empty_like(u)
        t[order] = u[order] + step * np.arange(u.size)
        lows = np.array([lo for lo, _ in self.intervals])
        highs = np.array([hi for _, hi in self.intervals])
        starts = np.concatenate([[0.0], np.cumsum(highs - lows)[:-1]])
        which = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
        x = np.clip(lows[which] + (t - starts[which]), lows[which], highs[which])
        return x.astype(self.dtype)


def _as_shape(shape: int | Iterable[int]) -> Shape:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in dims):
        raise ValueError(f"a shape is a tuple of non-negative ints, got {shape!r}")
    return tuple(int(n) for n in dims)


def _round_inwards(lo: float, hi: float, ftype: type[np.floating]) -> tuple[float, float] | None:
    """The smallest ``ftype`` >= lo and the largest <= hi, or None if there is none."""
    rlo = ftype(lo)
    if float(rlo) < lo:
        rlo = np.nextafter(rlo, ftype(np.inf))
    rhi = ftype(hi)
    if float(rhi) > hi:
        rhi = np.nextafter(rhi, ftype(-np.inf))
    return (float(rlo), float(rhi)) if rlo <= rhi else None


def _allowed_intervals(
    lo: float, hi: float, avoid: tuple[float, ...], margin: float, ftype: type[np.floating]
) -> tuple[tuple[float, float], ...]:
    """``[lo, hi]`` minus the open zones ``(p - margin, p + margin)``, as closed intervals."""
    zones = []
    for p in avoid:
        # Round each zone outwards so that |x - p| >= margin holds in float arithmetic.
        below, above = p - margin, p + margin
        while p - below < margin:
            below = math.nextafter(below, -math.inf)
        while above - p < margin:
            above = math.nextafter(above, math.inf)
        zones.append((below, above))
    pieces = []
    start = lo
    for below, above in sorted(zones):
        if below >= start and start <= hi:
            pieces.append((start, min(below, hi)))
        start = max(start, above)
    if start <= hi:
        pieces.append((start, hi))
    rounded = (_round_inwards(a, b, ftype) for a, b in pieces)
    return tuple(piece for piece in rounded if piece is not None)


def _values(
    dtype: DTypeLike,
    min_value: float,
    max_value: float,
    avoid: Iterable[float],
    margin: float,
    positive: bool,
    distinct_gap: float | None,
) -> _Values:
    dt = np.dtype(dtype)
    if dt not in _FLOAT_TYPES:
        raise ValueError(f"dtype must be float16, float32 or float64, got {dt}")
    ftype = _FLOAT_TYPES[dt]
    avoid = tuple(float(p) for p in avoid)
    if not all(math.isfinite(v) for v in (min_value, max_value, margin, *avoid)):
        raise ValueError(
            f"min_value, max_value, margin and avoid must be finite, got min_value={min_value}, "
            f"max_value={max_value}, margin={margin}, avoid={avoid}"
        )
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if distinct_gap is not None and not (math.isfinite(distinct_gap) and distinct_gap > 0):
        raise ValueError(f"distinct_gap must be a positive number or None, got {distinct_gap}")
    if positive:
        if max(min_value, margin) <= 0:
            raise ValueError("positive=True needs margin > 0 or min_value > 0")
        min_value = max(min_value, margin)
    if min_value > max_value:
        raised = " (positive=True raised min_value to margin)" if positive else ""
        raise ValueError(
            f"need min_value <= max_value, got min_value={min_value}{raised}, max_value={max_value}"
        )
    biggest = float(np.finfo(dt).max)
    lo, hi = max(float(min_value), -biggest), min(float(max_value), biggest)
    description = f"[{min_value}, {max_value}] ({dt})"
    if avoid:
        description += f" at least margin={margin} away from avoid={avoid}"
    intervals = _allowed_intervals(lo, hi, avoid, float(margin), ftype)
    if not intervals:
        raise ValueError(f"no value in {description}; widen the range or lower margin")
    return _Values(
        dt, intervals, None if distinct_gap is None else float(distinct_gap), description
    )


def arrays(
    shape: int | Shape | st.SearchStrategy[Shape],
    dtype: DTypeLike = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Iterable[float] = (),
    margin: float = 0.1,
    *,
    positive: bool = False,
    distinct_gap: float | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of ``shape`` with finite values in ``[min_value, max_value]``.

    Args:
        shape: a shape tuple (or int), or a strategy of shapes such as :func:`shapes`.
        dtype: float16, float32 or float64; every value is exactly a ``dtype`` value.
        min_value, max_value: inclusive bounds (clipped to the dtype's finite range).
        avoid: points every element keeps at least ``margin`` away from: the kinks of
            the function under test, e.g. ``(0.0,)`` for ``abs``/``relu``/``sign``,
            ``(lo, hi)`` for ``clip(x, lo, hi)``.
        margin: the distance kept from each point in ``avoid`` (``|x - p| >= margin``
            holds exactly, in float64). Keep it far above the finite-difference step.
        positive: shorthand for functions defined or smooth only above 0 (``log``,
            ``sqrt``, ``x ** 0.5``, ``1 / x``): raises ``min_value`` to ``margin``, so
            every value is at least ``margin`` above 0. Passing ``min_value > 0`` works
            too.
        distinct_gap: if given, the elements differ pairwise by at least this much —
            for ``max``/``min``/``argmax``/``sort`` and friends, whose central difference
            is wrong at ties (two equal maxima split the gradient). The gap must exceed
            the finite-difference step; ``0.01`` is plenty. Raises ``ValueError`` when the
            range cannot hold that many values that far apart.

    Values closer than ``margin`` to an avoided point are never drawn and then thrown
    away (Hypothesis would give up): the strategy draws straight from the allowed set
    ``[min_value, max_value]`` minus the zones ``(p - margin, p + margin)``, picking one
    of its intervals and then a float in it. ``ValueError`` if that set is empty.

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import arrays, shapes
    >>> @given(arrays(shapes(), np.float32, avoid=(0.0,), margin=0.5))
    ... def test_relu_kink_avoided(x):
    ...     assert x.dtype == np.float32
    ...     assert np.all(np.abs(x) >= 0.5) and np.all(np.abs(x) <= 3)
    >>> test_relu_kink_avoided()
    >>> @given(arrays((3, 2), positive=True))
    ... def test_log_is_finite(x):
    ...     assert np.all(np.isfinite(np.log(x)))
    >>> test_log_is_finite()
    """
    values = _values(dtype, min_value, max_value, avoid, margin, positive, distinct_gap)
    return values.array(shape)


def distinct_arrays(
    shape: int | Shape | st.SearchStrategy[Shape],
    gap: float = 0.01,
    dtype: DTypeLike = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Iterable[float] = (),
    margin: float = 0.1,
    *,
    positive: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """:func:`arrays` whose elements differ pairwise by at least ``gap``.

    For reductions like ``max``/``min``: at a tie the function has a kink (the gradient
    goes to one of the tied elements, or is split between them), so a central
    difference there measures neither. With every pair at least ``gap`` apart, and
    ``gap`` far above the finite-difference step, there are no ties to trip over.
    The other arguments are those of :func:`arrays`; ``ValueError`` when the range
    cannot hold ``prod(shape)`` values ``gap`` apart.

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import distinct_arrays, shapes
    >>> @given(distinct_arrays(shapes(min_dims=1), gap=0.05))
    ... def test_unique_maximum(x):
    ...     assert np.count_nonzero(x == x.max()) == 1
    ...     assert np.all(np.diff(np.sort(x, axis=None)) >= 0.05)
    >>> test_unique_maximum()
    """
    return arrays(
        shape,
        dtype,
        min_value,
        max_value,
        avoid,
        margin,
        positive=positive,
        distinct_gap=gap,
    )


def array_pairs(
    shape_pairs: st.SearchStrategy[tuple[Shape, Shape]] | None = None,
    dtype: DTypeLike = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Iterable[float] = (),
    margin: float = 0.1,
    *,
    positive: bool = False,
    distinct_gap: float | None = None,
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Pairs of arrays ``(a, b)``: a shape pair is drawn, then one array of each shape.

    ``shape_pairs`` defaults to :func:`broadcastable_shapes`; pass
    :func:`matmul_shapes` for ``a @ b``. Both arrays follow the same value options as
    :func:`arrays`. With ``distinct_gap``, all the elements of ``a`` and ``b`` together
    differ pairwise by the gap — so ``np.maximum(a, b)`` has no ties either.

    >>> import numpy as np
    >>> from hypothesis import given
    >>> from minigrad.testing import array_pairs, matmul_shapes
    >>> @given(array_pairs())
    ... def test_product_rule(pair):
    ...     a, b = pair
    ...     h = 1e-6
    ...     numeric = ((a + h) * b - (a - h) * b) / (2 * h)
    ...     assert np.allclose(numeric, np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)))
    >>> test_product_rule()
    >>> @given(array_pairs(matmul_shapes(), np.float32))
    ... def test_matmul_runs(pair):
    ...     a, b = pair
    ...     assert (a @ b).dtype == np.float32
    >>> test_matmul_runs()
    """
    values = _values(dtype, min_value, max_value, avoid, margin, positive, distinct_gap)
    pairs = broadcastable_shapes() if shape_pairs is None else shape_pairs
    return pairs.flatmap(values.pair)


# --------------------------------------------------------------------------- profiles


def register_profiles() -> tuple[str, ...]:
    """Register the Hypothesis settings profiles ``"ci"``, ``"dev"`` and ``"thorough"``.

    - ``"ci"``: ``derandomize=True`` (the same examples on every run, so CI never fails
      by luck), ``max_examples=25``, ``deadline=None``, ``print_blob=True`` (a failure
      prints the blob that reproduces it) and the ``too_slow`` health check suppressed
      (shared CI machines are slow).
    - ``"dev"``: ``max_examples=25``, ``deadline=None`` — fast, random, for local runs.
    - ``"thorough"``: ``max_examples=300``, ``deadline=None`` — before a release or
      after touching the engine.

    Each builds on Hypothesis' defaults, not on the loaded profile, so registering
    again, whatever profile is loaded, changes nothing. The tests' ``conftest.py``
    loads ``"ci"`` when the environment variable ``CI`` is set, otherwise
    ``$HYPOTHESIS_PROFILE`` or ``"dev"``; :func:`load_profile_from_env` does exactly
    that, so a conftest can be the one line ``minigrad.testing.load_profile_from_env()``.
    Returns the names.

    >>> from hypothesis import settings
    >>> from minigrad.testing import register_profiles
    >>> register_profiles()
    ('ci', 'dev', 'thorough')
    >>> settings.get_profile("thorough").max_examples
    300
    """
    # An explicit parent: without one a profile inherits from whatever profile is loaded.
    base = settings.get_profile("default")
    settings.register_profile(
        "ci",
        parent=base,
        derandomize=True,
        max_examples=25,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("dev", parent=base, max_examples=25, deadline=None)
    settings.register_profile("thorough", parent=base, max_examples=300, deadline=None)
    return PROFILE_NAMES


def load_profile_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Register the profiles and load the one the environment asks for; return its name.

    ``"ci"`` if ``CI`` is set (to anything but ``""``, ``"0"``, ``"false"`` or
    ``"no"``), else ``$HYPOTHESIS_PROFILE`` if set (any registered profile; Hypothesis
    raises ``InvalidArgument`` for an unknown one), else ``"dev"``. ``environ``
    defaults to ``os.environ``.

    >>> from hypothesis import settings
    >>> from minigrad.testing import load_profile_from_env
    >>> load_profile_from_env({"HYPOTHESIS_PROFILE": "thorough"})
    'thorough'
    >>> settings.default.max_examples
    300
    >>> load_profile_from_env({"CI": "true", "HYPOTHESIS_PROFILE": "thorough"})
    'ci'
    """
    env = os.environ if environ is None else environ
    register_profiles()
    if env.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        name = "ci"
    else:
        name = env.get("HYPOTHESIS_PROFILE") or "dev"
    settings.load_profile(name)
    return name
