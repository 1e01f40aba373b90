"""Scaling: standardize features to mean 0 and standard deviation 1, and undo it."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np


class Standardizer:
    """Rescale each feature to mean 0 and standard deviation 1, and undo it.

    Gradient descent on a linear model converges fastest when the features share a
    scale: with raw car weights (~3000 lbs) next to cylinder counts (~5), one learning
    rate is too big for one weight and too small for the other. Fit on the training data
    only, then apply the same ``mean_`` and ``scale_`` everywhere else.

    ``scale_`` is the population standard deviation (ddof=0, as scikit-learn's
    ``StandardScaler``); a constant column gets scale 1 (so it maps to 0, not to NaN) and
    a warning. Statistics are computed in float64; float32 input stays float32.

    >>> s = Standardizer()
    >>> Xs = s.fit_transform(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> Xs.tolist(), s.mean_.tolist(), s.scale_.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [2.0, 20.0], [1.0, 10.0])
    """

    mean_: np.ndarray
    scale_: np.ndarray

    def __init__(self) -> None:
        self._fitted = False

    def __repr__(self) -> str:
        if not self._fitted:
            return "Standardizer(not fitted)"
        return f"Standardizer(mean_={self.mean_!r}, scale_={self.scale_!r})"

    def fit(self, X: Any, names: Sequence[str] | None = None) -> Standardizer:
        """Learn each column's mean and standard deviation; returns ``self``.

        ``names`` (the columns' names) name a constant column in the warning about it;
        a pandas DataFrame's own column names are used when it is given.
        """
        if names is None and hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        X = np.asarray(X, dtype=np.float64)
        if X.ndim not in (1, 2) or X.shape[0] == 0:
            raise ValueError(
                f"Standardizer.fit expects X of shape (N,) or (N, d) with N >= 1, "
                f"got shape {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            first = tuple(np.argwhere(~np.isfinite(X))[0].tolist())
            raise ValueError(
                f"Standardizer.fit: X contains NaN or inf (first at index {first}); drop or "
                f"fill those values first, standardizing would spread them to every row"
            )
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        constant = std <= 16 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
        if np.any(constant):
            which = np.flatnonzero(constant).tolist()
            if names is not None and len(names) == len(constant):
                which = ", ".join(repr(str(names[k])) for k in which)
            warnings.warn(
                f"Standardizer: column(s) {which} have zero variance (one value in every "
                "row: nothing the bias does not say); using scale 1 for them, so they "
                "become all zeros",
                RuntimeWarning,
                stacklevel=2,
            )
            std = np.where(constant, 1.0, std)
        self.mean_, self.scale_ = mean, std
        self._fitted = True
        return self

    def _check(self, X: Any, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._fitted:
            raise RuntimeError(
                f"Standardizer.{method} called before fit: call fit(X) or fit_transform(X) "
                f"on the training data first"
            )
        X = np.asarray(X)
        if self.mean_.ndim == 1 and (X.ndim == 0 or X.shape[-1] != self.mean_.shape[0]):
            raise ValueError(
                f"Standardizer.{method}: fitted on {self.mean_.shape[0]} feature(s), so X "
                f"must have shape (N, {self.mean_.shape[0]}), got {X.shape}"
            )
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        return X.astype(dtype, copy=False), self.mean_.astype(dtype), self.scale_.astype(dtype)

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_``."""
        X, mean, scale = self._check(X, "transform")
        return (X - mean) / scale

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Xs: Any) -> np.ndarray:
        """Back to original units: ``Xs * scale_ + mean_``."""
        Xs, mean, scale = self._check(Xs, "inverse_transform")
        return Xs * scale + mean

    def unstandardize_weights(self, w_std: Any, b_std: Any) -> tuple[np.ndarray, Any]:
        """Weights of a linear model trained on standardized features, in original units.

        If ``y ≈ Xs·w_std + b_std`` with ``Xs = (X - mean) / scale``, then ``y ≈ X·w + b``
        with ``w = w_std / scale`` and ``b = b_std - Σ w_std·mean/scale``. Only the
        features are undone: if ``y`` was standardized too, undo that separately.

        Supports one output: ``w_std`` of shape ``(d,)``, ``(d, 1)`` (for ``X @ w``) or
        ``(1, d)`` (a PyTorch-style ``Linear(d, 1).weight``), where ``d`` is the number of
        fitted features; ``b_std`` a scalar or a one-element array. ``w`` comes back in the
        shape of ``w_std`` and ``b`` in the shape of ``b_std`` (a float for a scalar).
        """
        if not self._fitted:
            raise RuntimeError(
                "Standardizer.unstandardize_weights called before fit: call fit(X) on the "
                "features the model was trained on first"
            )
        mean = np.atleast_1d(self.mean_)
        scale = np.atleast_1d(self.scale_)
        d = mean.shape[0]
        w = np.asarray(w_std, dtype=np.float64)
        b = np.asarray(b_std, dtype=np.float64)
        if w.shape not in ((d,), (d, 1), (1, d)):
            raise ValueError(
                f"unstandardize_weights: fitted on {d} feature(s), so w_std must have shape "
                f"({d},), ({d}, 1) or (1, {d}) (one output), got {w.shape}"
            )
        if b.size != 1:
            raise ValueError(
                f"unstandardize_weights: b_std must be a scalar or one-element array (one "
                f"output), got shape {b.shape}"
            )
        flat = w.reshape(d)
        w_orig = (flat / scale).reshape(w.shape)
        b_orig = b - np.sum(flat * mean / scale)
        return w_orig, (float(b_orig) if b.ndim == 0 else b_orig)
