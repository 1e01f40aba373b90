"""Check autograd against finite differences: gradcheck and gradgradcheck.

The numerical derivative of f at x along coordinate k is the central difference
(f(x + ε·eₖ) − f(x − ε·eₖ)) / 2ε, whose error is O(ε²); in float64 with ε = 1e-6 it
agrees with the true derivative to about 1e-8 for smooth f. Keep inputs away from kinks
(|x| at 0, relu at 0, ties of max) where no finite difference is meaningful.

>>> import minigrad as mg
>>> x = mg.tensor([0.5, -1.2, 2.0], requires_grad=True)
>>> mg.gradcheck(lambda x: (x.tanh() * x).sum(), x)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.functional import jacobian_rows
from minigrad.grad_mode import enable_grad
from minigrad.tensor import Tensor


class GradcheckError(RuntimeError):
    """Autograd and finite differences disagree; the message locates the worst element."""


def _outputs(result: Any) -> list[Tensor]:
    items = result if isinstance(result, tuple | list) else (result,)
    return [o if isinstance(o, Tensor) else Tensor(o) for o in items]


def _prepare(inputs: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """float64 copies of the inputs to check (Tensors with requires_grad); others as is."""
    prepared: list[Any] = []
    checked: list[int] = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            prepared.append(Tensor(np.array(x.data, dtype=np.float64), requires_grad=True))
            checked.append(i)
        else:
            prepared.append(x)
    if not checked:
        raise ValueError(
            "gradcheck: no input has requires_grad=True, so there is nothing to check; "
            "pass e.g. mg.tensor(x, requires_grad=True)"
        )
    return prepared, checked


def _evaluate(f: Callable[..., Any], inputs: list[Any], i: int, data: np.ndarray) -> list:
    args = list(inputs)
    args[i] = Tensor(data, requires_grad=True)
    with enable_grad():
        return [o.data.astype(np.float64).ravel() for o in _outputs(f(*args))]


def numerical_jacobians(
    f: Callable[..., Any], inputs: list[Any], checked: list[int], eps: float
) -> list[list[np.ndarray]]:
    """J[o][j]: the (out_o.size, in_j.size) Jacobian by central differences."""
    sizes = [o.size for o in _outputs(f(*inputs))]
    jac: list[list[np.ndarray]] = [[] for _ in sizes]
    for i in checked:
        x = inputs[i].data
        columns: list[list[np.ndarray]] = [[] for _ in sizes]
        for k in range(x.size):
            plus, minus = x.copy(), x.copy()
            plus.flat[k] += eps
            minus.flat[k] -= eps
            f_plus = _evaluate(f, inputs, i, plus)
            f_minus = _evaluate(f, inputs, i, minus)
            for o in range(len(sizes)):
                columns[o].append((f_plus[o] - f_minus[o]) / (2 * eps))
        for o, size in enumerate(sizes):
            jac[o].append(np.stack(columns[o], axis=1) if columns[o] else np.zeros((size, 0)))
    return jac


def _flat(g: Tensor) -> np.ndarray:
    return np.asarray(g.data, dtype=np.float64).ravel()


def analytical_jacobians(
    f: Callable[..., Any], inputs: list[Any], checked: list[int]
) -> list[list[np.ndarray]]:
    """J[o][j] from autograd: one backward pass per output element (row by row)."""
    with enable_grad():
        outs = _outputs(f(*inputs))
    targets = [inputs[i] for i in checked]
    jac = []
    for out in outs:
        rows = [[_flat(g) for g in row] for row in jacobian_rows(out, targets)]
        jac.append(
            [
                np.stack([r[j] for r in rows]) if rows else np.zeros((0, t.size))
                for j, t in enumerate(targets)
            ]
        )
    return jac


def _compare(
    analytical: list[list[np.ndarray]],
    numerical: list[list[np.ndarray]],
    inputs: list[Any],
    checked: list[int],
    atol: float,
    rtol: float,
) -> None:
    """Raise GradcheckError at the element that exceeds the tolerance the most.

    A non-finite entry on either side is a failure, never a pass: a nan difference
    compares False with any tolerance, so it is looked for first.
    """
    for o, (a_row, n_row) in enumerate(zip(analytical, numerical, strict=True)):
        for j, (a, n) in enumerate(zip(a_row, n_row, strict=True)):
            if not a.size:
                continue
            shape = inputs[checked[j]].shape
            finite = np.isfinite(a) & np.isfinite(n)
            if not finite.all():
                m, k = np.unravel_index(int(np.argmin(finite)), a.shape)
                side = "numerical" if not np.isfinite(n[m, k]) else "analytical"
                raise GradcheckError(
                    f"cannot check output {o} with respect to input {checked[j]} (shape "
                    f"{shape}) at output element {m}, input element {_element(k, shape)}: "
                    f"the {side} derivative is {float((n if side == 'numerical' else a)[m, k])!r}"
                    f" (analytical {float(a[m, k])!r}, numerical {float(n[m, k])!r}). "
                    + (
                        "f is not finite within eps of the input there: move the input away "
                        "from the pole or boundary, or use a smaller eps."
                        if side == "numerical"
                        else "autograd gave a non-finite gradient where finite differences did not."
                    )
                )
            excess = np.abs(a - n) - (atol + rtol * np.abs(n))
            if excess.max() > 0:
                m, k = np.unravel_index(int(np.argmax(excess)), a.shape)
                raise GradcheckError(
                    f"Jacobian mismatch for output {o} with respect to input {checked[j]} "
                    f"(shape {shape}): worst at output element {m}, input element "
                    f"{_element(k, shape)}: analytical {float(a[m, k])!r}, numerical "
                    f"{float(n[m, k])!r}, |difference| {abs(a[m, k] - n[m, k]):.3g} > atol + "
                    f"rtol·|numerical| = {atol + rtol * abs(n[m, k]):.3g}\n"
                    f"numerical:\n{n}\nanalytical:\n{a}"
                )


def _element(k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index in an input of ``shape`` of its k-th element (row-major)."""
    return tuple(int(e) for e in np.unravel_index(k, shape)) if shape else ()


def _fast_check(
    f: Callable[..., Any],
    inputs: list[Any],
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
) -> bool:
    """Compare vᵀ·J·u for random unit u, v: one backward and two evaluations per input."""
    rng = np.random.default_rng(0)
    with enable_grad():
        outs = _outputs(f(*inputs))
    targets = [inputs[i] for i in checked]
    for o, out in enumerate(outs):
        v = rng.standard_normal(out.size)
        v /= np.linalg.norm(v) or 1.0
        vjp = [_flat(g) for g in autograd.grad(out, targets, v.reshape(out.shape))]
        for j, i in enumerate(checked):
            x = inputs[i].data
            u = rng.standard_normal(x.size)
            u /= np.linalg.norm(u) or 1.0
            step = eps * u.reshape(x.shape)
            f_plus = _evaluate(f, inputs, i, x + step)[o]
            f_minus = _evaluate(f, inputs, i, x - step)[o]
            numerical = float(v @ ((f_plus - f_minus) / (2 * eps)))
            analytical = float(vjp[j] @ u)
            if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
                return False
    return True


def gradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
) -> bool:
    """Check autograd's Jacobian of ``f`` against central finite differences.

    Inputs that are Tensors with ``requires_grad=True`` are checked (as float64 copies;
    the originals are never mutated); other arguments are passed through as constants.
    ``f`` may return a Tensor or a tuple of Tensors of any shape. Every element must
    satisfy |analytical − numerical| ≤ atol + rtol·|numerical|. The backward pass is
    also run twice and must give identical results (reentrancy).

    ``fast_mode`` compares the single number vᵀ·J·u for random unit vectors instead of
    whole Jacobians (one backward pass per output instead of one per output element),
    and falls back to the full check to locate a failure.

    Returns True, or raises :class:`GradcheckError` naming the input, the worst element
    and both values.
    """
    prepared, checked = _prepare(inputs)
    if fast_mode and _fast_check(f, prepared, checked, eps, atol, rtol):
        return True
    analytical = analytical_jacobians(f, prepared, checked)
    again = analytical_jacobians(f, prepared, checked)
    for o, (rows, rows_again) in enumerate(zip(analytical, again, strict=True)):
        for j, (a, b) in enumerate(zip(rows, rows_again, strict=True)):
            if not np.array_equal(a, b, equal_nan=True):
                raise GradcheckError(
                    f"backward is not reentrant: two backward passes gave different "
                    f"gradients for output {o} with respect to input {checked[j]}:\n{a}\n{b}"
                )
    _compare(
        analytical, numerical_jacobians(f, prepared, checked, eps), prepared, checked, atol, rtol
    )
    return True


def gradgradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    grad_outputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, v) ↦ vᵀ·∂f/∂inputs.

    The vector-Jacobian product is computed with ``create_graph=True``, so this checks
    that the gradient rules are themselves correctly differentiable. ``grad_outputs``
    (one per output of f) default to seeded random values.
    """
    prepared, checked = _prepare(inputs)
    with enable_grad():
        outs = _outputs(f(*prepared))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [rng.standard_normal(o.shape) for o in outs]
    vs = [
        Tensor(np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64), True)
        for v in grad_outputs
    ]
    if len(vs) != len(outs):
        raise ValueError(f"gradgradcheck: {len(outs)} outputs but {len(vs)} grad_outputs")
    n = len(prepared)

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        xs, v = list(args[:n]), args[n:]
        with enable_grad():
            outs = _outputs(f(*xs))
            total = sum(((o * w).sum() for o, w in zip(outs, v, strict=True)), Tensor(0.0))
            targets = [xs[i] for i in checked]
            return autograd.grad(total, targets, create_graph=True)

    return gradcheck(
        first_derivatives, *prepared, *vs, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode
    )
