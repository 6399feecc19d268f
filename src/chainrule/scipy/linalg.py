"""chainrule.scipy.linalg: SciPy's scipy.linalg names, differentiable.

The matrix functions and solvers SciPy adds to NumPy's linalg are rows of
chainrule/ops/scipy_linalg.py (importing this module registers them); factorisations return
SciPy's objects ((c, lower) from cho_factor, (lu, piv) from lu_factor) whose factor is a
differentiable function of the matrix, so cho_solve and lu_solve differentiate through it back to
the matrix that was factored. inv, det, solve and eigh are chainrule.numpy.linalg's under SciPy's
spellings. SciPy itself is imported on the first call (MissingExtraError says how to install it).
"""

import numpy as _np

import chainrule.numpy as _cnp
from chainrule.core.dtypes import dtype_of as _dtype_of
from chainrule.core.dtypes import shape_of as _shape_of
from chainrule.core.tensor import Tensor as _Tensor
from chainrule.errors import ArgumentError, ShapeError
from chainrule.errors import require_extra as _require_extra
from chainrule.numpy import linalg as _cnp_linalg
from chainrule.numpy._common import plain as _plain
from chainrule.numpy._explain import wrap_public as _wrap_public
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import linalg as _linalg_ops
from chainrule.ops import scipy_linalg as _ops
from chainrule.ops._rules import prim as _prim

__all__ = [
    "expm", "expm_frechet", "logm", "sqrtm", "solve_sylvester", "solve_triangular", "solve_banded",
    "cholesky",
    "cho_factor", "cho_solve", "lu_factor", "lu_solve", "lu", "eigh", "eigvalsh", "inv", "det",
    "solve",
]


def _scipy_linalg():
    return _require_extra("scipy.linalg", "scipy")


def _square(a, what):
    shape = tuple(_shape_of(a))
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(
            f"{what}: expected a square matrix (or a stack of them in the last two axes), got "
            f"shape {shape}"
        )
    return shape


def _is_complex(a):
    return _dtype_of(a).kind == "c"


def _as_float(a):
    """An integer or boolean array (or a list) as float64, SciPy's own promotion; floating
    arrays and Tensors as they are."""
    if isinstance(a, _Tensor):
        return a
    a = _np.asarray(a)
    return a if a.dtype.kind in "fc" else a.astype(_np.float64)


# ----- matrix functions --------------------------------------------------------------------------
def expm(A):  # noqa: N803 - SciPy's argument name
    """The matrix exponential (batched). Its derivatives are Frechet derivatives, computed
    exactly from expm of a block matrix twice the size (not by differentiating the Pade
    approximant), to any order."""
    _square(A, "expm")
    _scipy_linalg()
    return _ops.expm(_as_float(A))


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):  # noqa: N803
    """(expm(A), L(A, E)), or L(A, E) alone with compute_expm=False: the Frechet derivative of
    expm at A in direction E, from expm([[A, E], [0, A]]). Differentiable in A and E."""
    _square(A, "expm_frechet")
    if tuple(_shape_of(E)) != tuple(_shape_of(A)):
        raise ShapeError(
            f"expm_frechet: A has shape {tuple(_shape_of(A))} but E has shape "
            f"{tuple(_shape_of(E))}; E must have A's shape"
        )
    _scipy_linalg()
    A, E = _as_float(A), _as_float(E)
    n = _shape_of(A)[-1]
    zeros = _np.zeros(_shape_of(A), _np.result_type(_dtype_of(A), _dtype_of(E)))
    top, bottom = _ops._concatenate([A, E], -1), _ops._concatenate([zeros, A], -1)
    block = _ops.expm(_ops._concatenate([top, bottom], -2))
    frechet = block[..., :n, n:]
    return (block[..., :n, :n], frechet) if compute_expm else frechet


def logm(A):  # noqa: N803 - SciPy's argument name
    """The principal matrix logarithm (batched). Complex when A has eigenvalues on the negative
    real axis, as SciPy's. Derivatives from logm of a block matrix, to any order."""
    _square(A, "logm")
    _scipy_linalg()
    return _ops.logm(_as_float(A))


def sqrtm(A):  # noqa: N803 - SciPy's argument name
    """The principal matrix square root (batched). Its derivative X = d sqrtm(A)[dA] solves the
    Sylvester equation S X + X S = dA (S = sqrtm(A)); it exists while no two eigenvalues of S
    sum to zero, so not at a singular A."""
    _square(A, "sqrtm")
    _scipy_linalg()
    return _ops.sqrtm(_as_float(A))


def solve_sylvester(a, b, q):
    """X with a X + X b = q (batched). Differentiable in a, b and q."""
    m, n = _square(a, "solve_sylvester")[-1], _square(b, "solve_sylvester")[-1]
    if tuple(_shape_of(q))[-2:] != (m, n):
        raise ShapeError(
            f"solve_sylvester: a is {m}x{m} and b is {n}x{n}, so q must be {m}x{n}; got shape "
            f"{tuple(_shape_of(q))}"
        )
    _scipy_linalg()
    return _ops.sylvester(_as_float(a), _as_float(b), _as_float(q))


# ----- triangular solves -------------------------------------------------------------------------
_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2, "n": 0, "t": 1, "c": 2}


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """x with op(a) x = b, op(a) = a, a^T or a^H (trans 0/'N', 1/'T', 2/'C'), reading only a's
    lower (lower=True) or upper triangle, and taking its diagonal as ones if unit_diagonal.
    b is a vector (n,) or a matrix (..., n, k). Differentiable in a (its triangle) and b."""
    shape = _square(a, "solve_triangular")
    if trans not in _TRANS:
        raise ArgumentError(
            f"solve_triangular: trans must be 0, 1, 2 or 'N', 'T', 'C'; got {trans!r}"
        )
    trans = _TRANS[trans]
    b_shape = tuple(_shape_of(b))
    vector = len(b_shape) == 1
    if (b_shape[0] if vector else (b_shape[-2] if len(b_shape) > 1 else None)) != shape[-1]:
        raise ShapeError(
            f"solve_triangular: a has shape {shape} and b has shape {b_shape}; b needs "
            f"{shape[-1]} rows (b.shape[0] for a vector, b.shape[-2] for a matrix)"
        )
    _scipy_linalg()
    a, b = _as_float(a), _as_float(b)
    if vector:
        b = _prim("reshape")(b, shape=b_shape + (1,))
    if trans == 2:  # a^H = conj(a)^T; for a real a, a^T
        a, trans = (_elementwise.conj(a) if _is_complex(a) else a), 1
    x = _ops.solve_triangular(a, b, trans=trans, lower=bool(lower),
                              unit_diagonal=bool(unit_diagonal))
    return x[..., 0] if vector else x


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """x with a x = b for a banded a given in LAPACK's band storage, as SciPy's: `ab` has
    l + u + 1 rows, ab[u + i - j, j] = a[i, j] (l subdiagonals, u superdiagonals). The band is
    unpacked into a dense matrix (one gather) and solved: differentiable in ab (its entries
    that hold the band; the unused corners get zero) and b."""
    lower, upper = (int(k) for k in l_and_u)
    shape = tuple(_shape_of(ab))
    if len(shape) != 2 or shape[0] != lower + upper + 1:
        raise ShapeError(
            f"solve_banded: ab must have l + u + 1 = {lower + upper + 1} rows, one per "
            f"diagonal (LAPACK's band storage); got shape {shape}"
        )
    return _cnp_linalg.solve(_dense_from_band(_as_float(ab), lower, upper, shape[1]),
                             _as_float(b))


def _dense_from_band(ab, lower, upper, n):
    """The n x n matrix whose a[i, j] is ab[upper + i - j, j] inside the band, 0 outside."""
    i, j = _np.indices((n, n))
    band_row = upper + i - j
    inside = (band_row >= 0) & (band_row <= lower + upper)
    gathered = ab[_np.clip(band_row, 0, lower + upper), j]
    return _cnp.where(inside, gathered, 0.0)


# ----- Cholesky ----------------------------------------------------------------------------------
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor: upper U with a = U^H U (SciPy's default), or lower L with
    a = L L^H. Reads one triangle of a, as SciPy (the upper one by default)."""
    _square(a, "cholesky")
    return _cnp_linalg.cholesky(_as_float(a), upper=not lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) for cho_solve: c holds the Cholesky factor in one triangle and, as SciPy's,
    a's own entries in the other. c is differentiable in a."""
    _square(a, "cho_factor")
    a = _as_float(a)
    factor = _cnp_linalg.cholesky(a, upper=not lower)
    rest = _linalg_ops._triu(a, 1) if lower else _linalg_ops._tril(a, -1)
    return factor + rest, bool(lower)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with a x = b, from cho_factor(a) = (c, lower): two triangular solves with c's factor,
    differentiable in c (hence in a, through cho_factor) and in b."""
    c, lower = _pair(c_and_lower, "cho_solve", "(c, lower)")
    if lower:  # a = L L^H: x = L^{-H} (L^{-1} b)
        first = solve_triangular(c, b, lower=True)
        return solve_triangular(c, first, trans=2, lower=True)
    first = solve_triangular(c, b, trans=2, lower=False)  # a = U^H U: x = U^{-1} (U^{-H} b)
    return solve_triangular(c, first, lower=False)


def _pair(pair, what, spelled):
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise ArgumentError(
            f"{what}: the first argument is the pair {spelled} that "
            f"{what.replace('solve', 'factor')} returned; got {type(pair).__name__}"
        )
    return pair


# ----- LU ----------------------------------------------------------------------------------------
def _pivots(a):
    return _scipy_linalg().lu_factor(_np.asarray(a))[1]


def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as SciPy's: lu packs L (unit lower, its diagonal not stored) and U, piv the
    row interchanges. lu is differentiable in a (for a square a); piv is an integer array (the
    pivots are piecewise constant). Where two candidate pivots tie, the factor jumps."""
    _square(a, "lu_factor")
    _scipy_linalg()
    a = _as_float(a)
    return _ops.lu_factor(a), _plain(_pivots)(a)


def _permutation(piv):
    """The rows P takes, from LAPACK's interchanges: (P b) = b[perm], P a = L U."""
    piv = _np.asarray(piv)
    perm = _np.broadcast_to(_np.arange(piv.shape[-1]), piv.shape).copy()
    rows = _np.indices(piv.shape[:-1])
    for i in range(piv.shape[-1]):
        j = piv[..., i]
        taken, swapped = perm[..., i].copy(), perm[(*rows, j)].copy()
        perm[..., i] = swapped
        perm[(*rows, j)] = taken
    return perm


def _inverse_permutation(piv):
    return _np.argsort(_permutation(piv), axis=-1)


def _rows(b, order, vector):
    """b's rows (the entries of a vector, the second-to-last axis of matrices) in `order`."""
    if vector:
        return _cnp.take_along_axis(b, order, axis=-1)
    return _cnp.take_along_axis(b, order[..., :, None], axis=-2)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with op(a) x = b from lu_factor(a) = (lu, piv), op as in solve_triangular.
    Differentiable in lu (hence in a, through lu_factor) and in b."""
    packed, piv = _pair(lu_and_piv, "lu_solve", "(lu, piv)")
    if trans not in _TRANS:
        raise ArgumentError(f"lu_solve: trans must be 0, 1, 2 or 'N', 'T', 'C'; got {trans!r}")
    trans = _TRANS[trans]
    vector = len(_shape_of(b)) == 1
    if trans == 0:  # P a = L U: x = U^{-1} L^{-1} (P b)
        permuted = _rows(b, _plain(_permutation)(piv), vector)
        lower = solve_triangular(packed, permuted, lower=True, unit_diagonal=True)
        return solve_triangular(packed, lower, lower=False)
    # a^T = U^T L^T P (a^H with conjugates): x = P^T L^{-T} U^{-T} b
    upper = solve_triangular(packed, b, trans=trans, lower=False)
    lower = solve_triangular(packed, upper, trans=trans, lower=True, unit_diagonal=True)
    return _rows(lower, _plain(_inverse_permutation)(piv), vector)


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """(p, l, u) with a = p @ l @ u (square a), as SciPy's; with permute_l=True, (p @ l, u);
    with p_indices=True, p is an index array and a = l[p] @ u. l and u are differentiable in
    a (through lu_factor's factor); p is piecewise constant."""
    _square(a, "lu")
    packed, piv = lu_factor(a)
    lower = _linalg_ops._tril(packed, -1) + _linalg_ops._eye_like(packed)
    upper = _linalg_ops._triu(packed)
    perm = _plain(_permutation)(piv)
    n = _shape_of(a)[-1]
    if permute_l:
        return _rows(lower, _plain(_inverse_permutation)(piv), False), upper
    if p_indices:
        return _plain(_inverse_permutation)(piv), lower, upper
    identity = _np.eye(n, dtype=_np.finfo(_dtype_of(packed)).dtype)
    p = _plain(lambda perm: _np.swapaxes(identity[perm], -1, -2))(perm)
    return p, lower, upper


# ----- symmetric eigenproblems -------------------------------------------------------------------
def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None,  # noqa: A002
         driver=None):
    """Eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) a, reading its lower
    (or upper) triangle; with b (symmetric positive definite), of a v = w b v, the vectors
    normalised to v^H b v = I, by the Cholesky reduction L^{-1} a L^{-H}. Differentiable while
    the eigenvalues are distinct. subset_by_index=(lo, hi) keeps eigenvalues lo..hi."""
    _square(a, "eigh")
    if type != 1:
        raise ArgumentError(f"eigh: only type=1 (a v = w b v) is supported, got type={type}")
    if subset_by_value is not None:
        raise ArgumentError("eigh: subset_by_value is not supported; use subset_by_index")
    uplo = "L" if lower else "U"
    a = _as_float(a)
    if b is None:
        values, vectors = _cnp_linalg.eigh(a, UPLO=uplo)
    else:
        values, vectors = _generalized_eigh(a, _as_float(b), lower)
    if subset_by_index is not None:
        first, last = (int(i) for i in subset_by_index)
        values, vectors = values[..., first:last + 1], vectors[..., first:last + 1]
    return values if eigvals_only else (values, vectors)


def _generalized_eigh(a, b, lower):
    _square(b, "eigh")
    factor = _cnp_linalg.cholesky(b, upper=not lower)  # b read from the same triangle as a
    if not lower:
        factor = _linalg_ops.mH(factor)
    symmetric = _symmetric_from(a, lower)
    inverse_factor = solve_triangular(factor, _np.eye(_shape_of(a)[-1]), lower=True)
    reduced = inverse_factor @ symmetric @ _linalg_ops.mH(inverse_factor)
    values, vectors = _cnp_linalg.eigh(reduced)
    return values, solve_triangular(factor, vectors, trans=2, lower=True)


def _symmetric_from(a, lower):
    """The symmetric (Hermitian) matrix eigh reads from one triangle of a."""
    source = a if lower else _linalg_ops.mH(a)
    return _linalg_ops._from_lower(source, _is_complex(a))


def eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,  # noqa: A002
             check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """The eigenvalues of eigh(a, b), ascending."""
    return eigh(a, b, lower=lower, eigvals_only=True, type=type,
                subset_by_index=subset_by_index, subset_by_value=subset_by_value)


# ----- NumPy's, under SciPy's spellings ----------------------------------------------------------
def inv(a, overwrite_a=False, check_finite=True):
    """The inverse of a square matrix (batched): chainrule.numpy.linalg.inv."""
    return _cnp_linalg.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    """The determinant (batched): chainrule.numpy.linalg.det, whose gradient is the cofactor
    matrix, at singular matrices too."""
    return _cnp_linalg.det(a)


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """x with a x = b (a^T x = b if transposed): chainrule.numpy.linalg.solve. assume_a
    ('gen', 'sym', 'her', 'pos', ...) selects SciPy's LAPACK routine; the solution, and its
    derivative, are the same for any of them where it applies, so it is accepted and ignored."""
    if transposed:
        a = _linalg_ops.mT(a)
    return _cnp_linalg.solve(a, b)


_wrap_public(globals(), __all__, not_array_first={"cho_solve", "lu_solve"})
