"""Synthetic data with a known answer: a linear problem and the Crash Course's taxi fares."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np


def _check_positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_noise(noise: float) -> float:
    if not (isinstance(noise, numbers.Real) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite standard deviation >= 0, got {noise!r}")
    return float(noise)


def make_linear(
    n: int = 100,
    d: int = 1,
    noise: float = 1.0,
    seed: int | None = 0,
    weights: Sequence[float] | np.ndarray | None = None,
    bias: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A regression problem with known answer: ``y = X·true_w + true_b + noise``.

    Returns ``(X, y, true_w, true_b)`` with ``X`` (n, d) drawn from N(0, 1), ``y`` (n,),
    ``true_w`` (d,) and ``true_b`` a float; ``noise`` is the standard deviation of the
    Gaussian noise added to ``y``. ``weights=None`` draws each weight uniformly from
    [-3, 3] and ``bias=None`` draws the bias from [-3, 3]. The parameters, ``X`` and the
    noise come from three independent streams of ``seed``, so changing ``noise`` or
    ``weights`` keeps the same ``X`` — handy for comparing runs. Same seed, same data.

    >>> X, y, w, b = make_linear(n=5, d=2, noise=0.0, seed=1)
    >>> X.shape, y.shape, w.shape, bool(np.allclose(y, X @ w + b))
    ((5, 2), (5,), (2,), True)
    """
    n = _check_positive_int("n", n)
    d = _check_positive_int("d", d)
    noise = _check_noise(noise)
    param_rng, x_rng, noise_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    drawn_w = param_rng.uniform(-3.0, 3.0, size=d)
    drawn_b = float(param_rng.uniform(-3.0, 3.0))
    if weights is None:
        true_w = drawn_w
    else:
        true_w = np.array(weights, dtype=np.float64).reshape(-1)
        if true_w.shape != (d,):
            raise ValueError(f"weights must hold d={d} values, got shape {np.shape(weights)}")
    true_b = drawn_b if bias is None else float(bias)
    X = x_rng.standard_normal((n, d))
    y = X @ true_w + true_b + noise * noise_rng.standard_normal(n)
    return X, y, true_w, true_b


_TAXI_FEATURES = ["TRIP_MILES", "TRIP_MINUTES"]


def make_taxi(
    n: int = 1000, noise: float = 1.0, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Synthetic Chicago-style taxi rides priced by the Google ML Crash Course formula.

    The crash course's taxi exercise finds that fares follow
    ``FARE = 2.25·TRIP_MILES + 0.12·TRIP_MINUTES + 3.25`` (dollars): a per-mile rate, a
    per-minute rate and a flag-drop fee. This makes rides with that answer built in, so a
    two-feature fit has a known target:

    - ``TRIP_MILES`` is log-normal with median 4 miles (many short rides, a long tail),
      clipped to [0.2, 45];
    - ``TRIP_MINUTES`` is 3 minutes of pick-up/drop-off plus about 2.5 minutes per mile
      (24 mph) times a log-normal traffic factor (σ = 0.3, clipped to [0.5, 2]), so
      minutes rise with miles but are not a copy of them (correlation about 0.9);
    - ``FARE`` adds Gaussian noise of standard deviation ``noise`` dollars to the formula.

    Returns ``(X, y, feature_names)``: ``X`` (n, 2) with columns ``TRIP_MILES,
    TRIP_MINUTES``, ``y`` (n,) the fare, and ``["TRIP_MILES", "TRIP_MINUTES"]``.

    >>> X, y, names = make_taxi(n=3, noise=0.0)
    >>> bool(np.allclose(y, 2.25 * X[:, 0] + 0.12 * X[:, 1] + 3.25)), names
    (True, ['TRIP_MILES', 'TRIP_MINUTES'])
    """
    n = _check_positive_int("n", n)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    miles = np.clip(rng.lognormal(mean=np.log(4.0), sigma=0.8, size=n), 0.2, 45.0)
    traffic = np.clip(rng.lognormal(mean=0.0, sigma=0.3, size=n), 0.5, 2.0)
    minutes = 3.0 + 2.5 * miles * traffic
    fare = 2.25 * miles + 0.12 * minutes + 3.25 + noise * rng.standard_normal(n)
    return np.column_stack([miles, minutes]), fare, list(_TAXI_FEATURES)
