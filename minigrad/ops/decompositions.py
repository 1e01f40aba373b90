"""``numpy.linalg``'s matrix functions with exact gradients: inverse, solve, determinants,
Cholesky, the symmetric eigendecomposition, the SVD, the pseudo-inverse, matrix powers.

Every op works on stacks of matrices (the last two axes) and is written in compiled code
as NumPy's own call (``np.linalg.inv(a)``). The rules are written with ops (``@``,
:func:`solve`, :func:`inv`), so gradients of gradients work. Conventions, as PyTorch's:

- ``cholesky`` and ``eigh`` read one triangle of their input, but their gradients are the
  symmetric ones: they differentiate along symmetric perturbations (compose with
  ``(A + Aᵀ)/2`` to make a function of every entry that finite differences agree with).
- Eigen- and singular vectors are defined only up to sign, so only functions invariant
  under that gauge (``v²``, ``v vᵀ``, ``U diag(s) Vᵀ``) have a gradient worth the name.
  Their rules divide by λⱼ − λᵢ (σⱼ² − σᵢ²): repeated eigen- or singular values give
  inf/nan, as in PyTorch, where the vectors are not differentiable.
- ``pinv``'s rule holds where the rank is locally constant (PyTorch's, Golub–Pereyra).

>>> import numpy as np
>>> import minigrad as mg
>>> a = mg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> np.linalg.det(a).backward()  # ∂det A/∂A: the cofactor matrix
>>> a.grad
tensor([[ 3., -1.],
        [-1.,  2.]])
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from minigrad.op import OUT, Op
from minigrad.ops.base import _no_gradient, _shape
from minigrad.ops.elementwise import where
from minigrad.ops.reductions import sum as total
from minigrad.ops.registry import public
from minigrad.ops.shape import expand_dims, swapaxes


def _t(x: Any) -> Any:
    """The matrix transpose of each matrix in a stack."""
    return swapaxes(x, -1, -2)


def _eye(x: Any) -> np.ndarray:
    """The identity of x's last axis, in x's dtype (a constant: no float64 promotion)."""
    return np.eye(x.shape[-1], dtype=x.dtype)


def _scalar_grad(g: Any) -> Any:
    """A per-matrix gradient (shape (...)) as (..., 1, 1), to scale each matrix."""
    return expand_dims(expand_dims(g, -1), -1)


# --- inverse and solve ------------------------------------------------------------------

inv = Op(
    "inv",
    np.linalg.inv,
    (lambda g, out, a: -(_t(out) @ g @ _t(out)),),
    ("∂A⁻¹: Ā = −A⁻ᵀ g A⁻ᵀ",),
    saves=((OUT,),),
    effect=True,  # a singular matrix raises LinAlgError, unchanged
    source="np.linalg.inv({0})",
)
public(inv, numpy=np.linalg.inv, linalg=True)


def _solve_grad_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # one right-hand side (NumPy ≥ 2: only a 1-D b is a vector)
        return solve(_t(a), expand_dims(g, -1))[..., 0]
    return solve(_t(a), g)


def _solve_grad_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    gb = _solve_grad_b(g, out, a, b)
    if b.ndim == 1:
        return -(expand_dims(gb, -1) * expand_dims(out, -2))  # −b̄ xᵀ, an outer product
    return -(gb @ _t(out))


solve = Op(
    "solve",
    np.linalg.solve,
    (_solve_grad_a, _solve_grad_b),
    ("x = A⁻¹b: Ā = −b̄ xᵀ", "x = A⁻¹b: b̄ = A⁻ᵀ g"),
    saves=((0, OUT), (0,)),
    effect=True,
    source="np.linalg.solve({0}, {1})",
)
public(solve, numpy=np.linalg.solve, linalg=True)


# --- determinants -----------------------------------------------------------------------


def _cofactor_forward(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix (adj A)ᵀ, exact for singular A too: with A = U diag(s) Vh,
    adj is multiplicative and adj(diag(s)) = diag(Πⱼ≠ᵢ sⱼ), so (adj A)ᵀ =
    det(U) det(Vh) U diag(Πⱼ≠ᵢ sⱼ) Vh; the products are prefix × suffix, no division."""
    if a.shape[-1] == 0:
        return np.array(a)
    u, s, vh = np.linalg.svd(a)
    ones = np.ones((*s.shape[:-1], 1), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    signs = np.linalg.det(u) * np.linalg.det(vh)
    return signs[..., None, None] * (u * (before * after)[..., None, :]) @ vh


def _cofactor_grad(g: Any, out: Any, a: Any) -> Any:
    # C = det A · A⁻ᵀ: dC = tr(A⁻¹dA) C − C dAᵀ A⁻ᵀ, so Ā = ⟨ḡ, A⁻ᵀ⟩ C − C ḡᵀ A⁻ᵀ (this
    # needs A⁻¹: a second derivative of det at a singular A raises LinAlgError)
    inv_t = _t(inv(a))
    return total(g * inv_t, (-2, -1), True) * out - out @ _t(g) @ inv_t


cofactor = Op(
    "cofactor",
    _cofactor_forward,
    (_cofactor_grad,),
    ("C = det A · A⁻ᵀ: Ā = ⟨C̄, A⁻ᵀ⟩ C − C C̄ᵀ A⁻ᵀ",),
    saves=((0, OUT),),
    effect=True,
)
"""(adj A)ᵀ, det's gradient: exact at singular matrices (unlike det A · A⁻ᵀ)."""

det = Op(
    "det",
    np.linalg.det,
    (lambda g, out, a: _scalar_grad(g) * cofactor(a),),
    ("∂det A/∂A = (adj A)ᵀ, the cofactor matrix (det A · A⁻ᵀ where A is invertible)",),
    saves=((0,),),
    effect=True,
    source="np.linalg.det({0})",
)
public(det, numpy=np.linalg.det, linalg=True)


class SlogdetResult(NamedTuple):
    """``sign`` (no gradient) and ``logabsdet`` = log|det A|, as NumPy names them."""

    sign: Any
    logabsdet: Any


_slogdet_sign = _no_gradient(
    "slogdet_sign",
    lambda a: np.linalg.slogdet(a)[0],
    1,
    source="np.linalg.slogdet({0})[0]",  # its errors are log|det|'s, which is a check
)
_logabsdet = Op(
    "slogdet",
    lambda a: np.linalg.slogdet(a)[1],
    (lambda g, out, a: _scalar_grad(g) * _t(inv(a)),),
    ("∂log|det A|/∂A = A⁻ᵀ",),
    saves=((0,),),
    effect=True,
    source="np.linalg.slogdet({0})[1]",
)


@public(numpy=np.linalg.slogdet, linalg=True)
def slogdet(a: Any) -> SlogdetResult:
    """(sign, log|det A|) of each matrix: the sign has no gradient (it is piecewise
    constant); log|det A| has A⁻ᵀ."""
    return SlogdetResult(_slogdet_sign(a), _logabsdet(a))


# --- Cholesky ---------------------------------------------------------------------------


def _read_triangle(g: Any, lower: bool) -> Any:
    """The gradient with respect to A of a function that reads only A's lower (upper)
    triangle, as NumPy's eigh and cholesky do, given g, its gradient with respect to the
    symmetric matrix that triangle stands for: an entry off the diagonal stands for
    itself and its mirror (gᵢⱼ + gⱼᵢ), the other triangle is never read (0)."""
    n, dtype = g.shape[-1], g.dtype
    strict = np.tril(np.ones((n, n), dtype), -1) if lower else np.triu(np.ones((n, n), dtype), 1)
    return (g + _t(g)) * strict + g * np.eye(n, dtype=dtype)


def _cholesky_grad(g: Any, out: Any, a: Any, upper: Any) -> Any:
    low, g = (_t(out), _t(g)) if upper else (out, g)  # U = Lᵀ: the same rule for L
    # Φ(Lᵀ ḡ): its lower triangle with the diagonal halved (a constant mask), made
    # symmetric, then Ā = L⁻ᵀ S L⁻¹ by two solves (S L⁻¹ = (L⁻ᵀ S)ᵀ as S = Sᵀ)
    lower = np.tril(np.ones(low.shape[-2:], dtype=low.dtype)) - 0.5 * _eye(low)
    phi = (_t(low) @ g) * lower
    s = (phi + _t(phi)) * 0.5
    return _read_triangle(solve(_t(low), _t(solve(_t(low), s))), not upper)


_cholesky = Op(
    "cholesky",
    lambda a, upper: np.linalg.cholesky(a, upper=upper),
    (_cholesky_grad, None),
    (
        "A = LLᵀ: Ā = L⁻ᵀ sym(Φ(Lᵀ L̄)) L⁻¹, Φ the lower triangle with half the diagonal, "
        "then on the triangle NumPy reads (an entry off the diagonal counts twice)",
    ),
    saves=((OUT,), ()),
    effect=True,  # not positive definite: LinAlgError
    source="np.linalg.cholesky({0}, upper={1})",
)


@public(numpy=np.linalg.cholesky, linalg=True)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """The lower-triangular L with A = L Lᵀ (or U = Lᵀ if ``upper``). NumPy reads only A's
    lower (upper) triangle, so the gradient is exact for that function: 0 on the other
    triangle (PyTorch gives the symmetric gradient instead; the two agree for any function
    of a symmetrized matrix, such as ``cholesky((A + A.T) / 2)``)."""
    return _cholesky(a, bool(upper))


# --- the symmetric eigendecomposition ---------------------------------------------------


class EighResult(NamedTuple):
    """``eigenvalues`` (ascending) and ``eigenvectors`` (the columns), as NumPy names them."""

    eigenvalues: Any
    eigenvectors: Any


def _eigenvalues_grad(g: Any, out: Any, a: Any, uplo: Any, alone: Any) -> Any:
    v = _eigenvectors(a, uplo)
    return _read_triangle(v @ (expand_dims(g, -1) * _t(v)), uplo == "L")  # V diag(ḡ) Vᵀ


def _eigenvectors_grad(g: Any, out: Any, a: Any, uplo: Any) -> Any:
    w = _eigenvalues(a, uplo, False)
    x = _t(out) @ g
    # Fᵢⱼ = 1/(λⱼ − λᵢ) off the diagonal; the skew part of Vᵀ V̄ is 0 on the diagonal,
    # where the denominator is made 1 (a constant): 0/1, exact at every order
    gap = expand_dims(w, -2) - expand_dims(w, -1) + _eye(w)
    return _read_triangle(out @ (((x - _t(x)) * 0.5) / gap) @ _t(out), uplo == "L")


def _eigenvalues_forward(a: np.ndarray, uplo: str, alone: bool) -> np.ndarray:
    """λ as NumPy's call gives it: ``eigvalsh`` if ``alone``, else ``eigh``'s (LAPACK's
    two modes differ in the last bits)."""
    return np.linalg.eigvalsh(a, uplo) if alone else np.linalg.eigh(a, uplo)[0]


_eigenvalues = Op(
    "eigvalsh",
    _eigenvalues_forward,
    (_eigenvalues_grad, None, None),
    ("∂λᵢ/∂A = vᵢvᵢᵀ: Ā = V diag(λ̄) Vᵀ, on the triangle NumPy reads",),
    saves=((0,), (), ()),
    effect=True,
    source=lambda r, a, uplo, alone: (
        f"np.linalg.eigvalsh({r(a)}, {r(uplo)})"
        if alone
        else f"np.linalg.eigh({r(a)}, {r(uplo)})[0]"
    ),
)
_eigenvectors = Op(
    "eigh_vectors",
    lambda a, uplo: np.linalg.eigh(a, uplo)[1],
    (_eigenvectors_grad, None),
    (
        "Ā = V (F ∘ skew(Vᵀ V̄)) Vᵀ on the triangle NumPy reads, Fᵢⱼ = 1/(λⱼ − λᵢ): "
        "inf/nan at repeated eigenvalues",
    ),
    saves=((0, OUT), ()),
    source="np.linalg.eigh({0}, {1})[1]",  # its errors are the eigenvalues' (a check)
)


@public(numpy=np.linalg.eigh, linalg=True)
def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, from the ``UPLO``
    triangle. Gradients are exact for that function (0 on the triangle NumPy does not
    read; PyTorch gives the symmetric gradient, the same for a symmetrized input);
    eigenvectors' only through functions their signs do not change, and repeated
    eigenvalues give inf/nan (as PyTorch)."""
    return EighResult(_eigenvalues(a, UPLO, False), _eigenvectors(a, UPLO))


@public(numpy=np.linalg.eigvalsh, linalg=True)
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """The eigenvalues of symmetric matrices, ascending (as :func:`eigh`)."""
    return _eigenvalues(a, UPLO, True)


# --- the singular value decomposition ---------------------------------------------------


class SVDResult(NamedTuple):
    """A = U diag(S) Vh, as NumPy names the parts."""

    U: Any
    S: Any
    Vh: Any


def _reduced(name: str, vectors: int, a: Any) -> None:
    """Refuse the gradient of the arbitrary extra columns of a full U (rows of Vh)."""
    if vectors != min(a.shape[-2:]):
        raise ValueError(
            f"svd: the gradient of {name} with full_matrices=True for a {a.shape[-2:]} matrix "
            "is not defined (its extra vectors are arbitrary); use full_matrices=False"
        )


def _inverse_gaps(s: Any) -> Any:
    """1/(σⱼ² − σᵢ²) off the diagonal (inf at repeated σ), 1/1 on it (used only where
    the numerator is 0)."""
    s2 = s * s
    return 1 / (expand_dims(s2, -2) - expand_dims(s2, -1) + _eye(s))


def _svd_s_grad(g: Any, out: Any, a: Any, full: Any) -> Any:
    u, vh = _svd_u(a, False), _svd_vh(a, False)
    return (u * expand_dims(g, -2)) @ vh  # U diag(S̄) Vh


def _svd_u_grad(g: Any, out: Any, a: Any, full: Any) -> Any:
    _reduced("U", out.shape[-1], a)
    s, vh = _svd_s(a, False), _svd_vh(a, False)
    j = _t(out) @ g
    inner = (j - _t(j)) * _inverse_gaps(s) * expand_dims(s, -2)  # (F ∘ (UᵀŪ − ŪᵀU)) S
    grad = out @ inner
    if a.shape[-2] > a.shape[-1]:  # a tall A: Ū's part outside U's columns
        grad = grad + (g - out @ (_t(out) @ g)) / expand_dims(s, -2)
    return grad @ vh


def _svd_vh_grad(g: Any, out: Any, a: Any, full: Any) -> Any:
    _reduced("Vh", out.shape[-2], a)
    u, s = _svd_u(a, False), _svd_s(a, False)
    k = out @ _t(g)
    inner = expand_dims(s, -1) * ((k - _t(k)) * _inverse_gaps(s))  # S (F ∘ (VᵀV̄ − V̄ᵀV))
    grad = inner @ out
    if a.shape[-1] > a.shape[-2]:  # a wide A: V̄'s part outside V's columns
        grad = grad + (g - (g @ _t(out)) @ out) / expand_dims(s, -1)
    return u @ grad


def _singular_values(a: np.ndarray, full: bool | None) -> np.ndarray:
    """S as NumPy's call gives it (the bits differ between LAPACK's modes): of
    ``svd(a, full)`` or, for full = None, of ``svd(a, compute_uv=False)``."""
    return np.linalg.svd(a, compute_uv=False) if full is None else np.linalg.svd(a, full)[1]


_svd_s = Op(
    "svd_S",
    _singular_values,
    (_svd_s_grad, None),
    ("∂σᵢ/∂A = uᵢvᵢᵀ: Ā = U diag(S̄) Vh",),
    saves=((0,), ()),
    effect=True,
    source=lambda r, a, full: (
        f"np.linalg.svd({r(a)}, compute_uv=False)"
        if full is None
        else f"np.linalg.svd({r(a)}, {r(full)})[1]"
    ),
)
_svd_u = Op(
    "svd_U",
    lambda a, full: np.linalg.svd(a, full)[0],
    (_svd_u_grad, None),
    ("Ā = U (F ∘ (UᵀŪ − ŪᵀU)) S Vh + (I − UUᵀ) Ū S⁻¹ Vh, Fᵢⱼ = 1/(σⱼ² − σᵢ²)",),
    saves=((0, OUT), ()),
    source="np.linalg.svd({0}, {1})[0]",  # its errors are S's (a check)
)
_svd_vh = Op(
    "svd_Vh",
    lambda a, full: np.linalg.svd(a, full)[2],
    (_svd_vh_grad, None),
    ("Ā = U S (F ∘ (VᵀV̄ − V̄ᵀV)) Vh + U S⁻¹ V̄ᵀ (I − VVᵀ), Fᵢⱼ = 1/(σⱼ² − σᵢ²)",),
    saves=((0, OUT), ()),
    source="np.linalg.svd({0}, {1})[2]",  # its errors are S's (a check)
)


@public(numpy=np.linalg.svd, linalg=True)
def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """A = U diag(S) Vh: ``SVDResult(U, S, Vh)``, or S alone if not ``compute_uv``.

    Gradients of U and Vh need ``full_matrices=False`` (or a square A): the extra
    vectors of a full basis are arbitrary. ``hermitian`` is only a hint to NumPy's
    algorithm; the decomposition (and its gradient) is the ordinary one.
    """
    if not compute_uv:
        return _svd_s(a, None)
    full = bool(full_matrices)
    return SVDResult(_svd_u(a, full), _svd_s(a, full), _svd_vh(a, full))


# --- the pseudo-inverse and matrix powers -----------------------------------------------


def _pinv_grad(g: Any, out: Any, a: Any, rcond: Any, hermitian: Any) -> Any:
    # X = A⁺: Ā = −Xᵀ ḡ Xᵀ + (I − AX) ḡᵀ X Xᵀ + Xᵀ X ḡᵀ (I − XA)
    x, gt = out, _t(g)
    return (
        -(_t(x) @ g @ _t(x)) + (gt - a @ (x @ gt)) @ (x @ _t(x)) + (_t(x) @ x) @ (gt - (gt @ x) @ a)
    )


_pinv = Op(
    "pinv",
    lambda a, rcond, hermitian: np.linalg.pinv(a, rcond, hermitian),
    (_pinv_grad, None, None),
    ("X = A⁺: Ā = −XᵀḡXᵀ + (I − AX)ḡᵀXXᵀ + XᵀXḡᵀ(I − XA)  (rank locally constant)",),
    saves=((0, OUT), (), ()),
    effect=True,
    source="np.linalg.pinv({0}, {1}, {2})",
)

_NO_VALUE: Any = np._NoValue


@public(numpy=np.linalg.pinv, linalg=True)
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NO_VALUE) -> Any:
    """The Moore–Penrose pseudo-inverse (singular values below ``rcond`` · σ_max count as
    zero, NumPy's defaults). Its gradient holds where the rank does not change nearby."""
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(_shape(a)[-2:]) * float(np.finfo(np.result_type(a, np.float32)).eps)
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    return _pinv(a, rcond, bool(hermitian))


@public(numpy=np.linalg.matrix_power, linalg=True)
def matrix_power(a: Any, n: int) -> Any:
    """Aⁿ for an integer n: NumPy's own sequence of products (binary powers), so the
    gradient comes from matmul's rule; A⁰ = I (zero gradient), A⁻ⁿ = (A⁻¹)ⁿ."""
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(
            f"matrix_power: the last 2 dimensions must be square, got shape {shape}"
        )
    try:
        n = operator.index(n)
    except TypeError as err:
        raise TypeError("matrix_power: the exponent must be an integer") from err
    if n == 0:  # the identity, in a's dtype; a's gradient is 0
        return where(np.ones(shape, dtype=bool), np.eye(shape[-1], dtype=a.dtype), a)
    if n < 0:
        a, n = inv(a), -n
    if n <= 3:
        return a if n == 1 else a @ a if n == 2 else (a @ a) @ a
    z = result = None
    while n > 0:
        z = a if z is None else z @ z
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else result @ z
    return result
