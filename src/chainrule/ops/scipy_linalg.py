"""Primitives behind `chainrule.scipy.linalg`: matrix functions (expm, logm, sqrtm), the
Sylvester equation, triangular solves and the packed LU factor. They call SciPy, which is
imported when a row first runs (chainrule.scipy.linalg imports this module, which fills the
registry; SciPy itself stays optional).

Matrix functions use the block identity f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]],
L_f(A, E) the Frechet derivative of f at A in direction E: the JVP of expm and logm is the row
itself on a matrix twice the size, so their derivatives are differentiable again by the same
rule (one size up per order). For these primary matrix functions L_f(A, .)^T = L_f(A^T, .),
which is the VJP. sqrtm instead solves the Sylvester equation S X + X S = dA, through the
`sylvester` row, whose own rules are Sylvester solves. Complex matrices follow
ops/linalg.py's convention (the bilinear pairing): every map here is holomorphic, so the rules
keep plain transposes.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import OUT, defprimitive
from chainrule.errors import require_extra
from chainrule.ops._batching import POINTWISE, STACKED
from chainrule.ops._rules import prim
from chainrule.ops.linalg import _eye_like, _tril, _triu, matmul, mT, solve

X, Y, Q = 0, 1, 2


def _scipy_linalg():
    return require_extra("scipy.linalg", "scipy")


def _in_precision_of(result, *inputs):
    """`result` in the precision of the inputs (float32 stays float32, complex64 complex64):
    a few SciPy functions return float64 for float32 input."""
    dtype = np.result_type(*(np.asarray(a).dtype for a in inputs), np.float16)
    if np.asarray(result).dtype.kind == "c":
        dtype = np.result_type(dtype, np.complex64)
    return np.asarray(result).astype(dtype, copy=False)


def _concatenate(parts, axis):
    axis %= len(shape_of(parts[0]))  # the row takes a non-negative axis
    sizes = tuple(shape_of(p)[axis] for p in parts)
    return prim("concatenate")(*parts, axis=axis, sizes=sizes)


def _upper_right_of_block(function, a, e):
    """The upper-right block of function([[a, e], [0, a]]): L_f(a, e) for a primary matrix
    function f, computed by the row `function` itself."""
    n = shape_of(a)[-1]
    zeros = np.zeros(shape_of(a), np.result_type(dtype_of(a), dtype_of(e)))
    block = _concatenate([_concatenate([a, e], -1), _concatenate([zeros, a], -1)], -2)
    return prim("getitem")(function(block), index=(Ellipsis, slice(0, n), slice(n, 2 * n)))


# ----- expm, logm: Frechet derivatives from the block identity -----------------------------------
# d expm(A) = L(A, dA)  =>  Abar = L(A^T, G).
expm = defprimitive(
    "expm",
    lambda x: _scipy_linalg().expm(x),
    saves=(X,),
    vjp=(lambda g, x: _upper_right_of_block(expm, mT(x), g),),
    jvp=(lambda t, x: _upper_right_of_block(expm, x, t),),
    family="scipy.linalg",
    batch=STACKED,
)


def _logm_impl(x):
    # In float64 / complex128 (SciPy's float32 logm warns of inaccuracy), then cast back.
    x = np.asarray(x)
    wide = x.astype(np.result_type(x.dtype, np.float64))
    return _in_precision_of(_scipy_linalg().logm(wide), x)


# The principal logarithm, as SciPy: A with no eigenvalue on the closed negative real axis.
logm = defprimitive(
    "logm",
    _logm_impl,
    saves=(X,),
    vjp=(lambda g, x: _upper_right_of_block(logm, mT(x), g),),
    jvp=(lambda t, x: _upper_right_of_block(logm, x, t),),
    family="scipy.linalg",
    batch=STACKED,
)


# ----- the Sylvester equation A X + X B = Q ------------------------------------------------------
# dA X + A dX + dX B + X dB = dQ  =>  dX = sylvester(A, B, dQ - dA X - X dB). The adjoint of
# X -> A X + X B is Y -> A^T Y + Y B^T, so with Y = sylvester(A^T, B^T, G):
# Qbar = Y, Abar = -Y X^T, Bbar = -X^T Y.
def _sylvester_impl(a, b, q):
    # All complex if one is: SciPy 1.17 solves real a, b (with complex eigenvalues, so a real
    # Schur form with 2x2 blocks) against a complex q wrongly.
    dtype = np.result_type(np.asarray(a).dtype, np.asarray(b).dtype, np.asarray(q).dtype)
    a, b, q = (np.asarray(m, dtype=dtype) for m in (a, b, q))
    return _in_precision_of(_scipy_linalg().solve_sylvester(a, b, q), a, b, q)


def _sylvester_adjoint(g, a, b):
    return sylvester(mT(a), mT(b), g)


sylvester = defprimitive(
    "sylvester",
    _sylvester_impl,
    saves=(X, Y, OUT),
    vjp=(
        lambda g, a, b, out: -matmul(_sylvester_adjoint(g, a, b), mT(out)),
        lambda g, a, b, out: -matmul(mT(out), _sylvester_adjoint(g, a, b)),
        lambda g, a, b, out: _sylvester_adjoint(g, a, b),
    ),
    jvp=(
        lambda t, a, b, out: sylvester(a, b, -matmul(t, out)),
        lambda t, a, b, out: sylvester(a, b, -matmul(out, t)),
        lambda t, a, b, out: sylvester(a, b, t),
    ),
    family="scipy.linalg",
    batch=POINTWISE,  # SciPy broadcasts the stacks of its operands
)


# ----- sqrtm: S^2 = A  =>  S dS + dS S = dA -------------------------------------------------------
# dS = sylvester(S, S, dA); the adjoint: Abar = sylvester(S^T, S^T, G).
def _sqrtm_impl(x):
    return _in_precision_of(_scipy_linalg().sqrtm(x), x)


sqrtm = defprimitive(
    "sqrtm",
    _sqrtm_impl,
    saves=(OUT,),
    vjp=(lambda g, out: sylvester(mT(out), mT(out), g),),
    jvp=(lambda t, out: sylvester(out, out, t),),
    family="scipy.linalg",
    batch=STACKED,
)


# ----- triangular solves: op(M) X = B, M the triangle of A that is read --------------------------
# op(M) is M (trans=0) or M^T (trans=1); chainrule.scipy.linalg turns trans='C' into trans=1 of
# conj(A) and a 1-d b into a column. M is A's lower (or upper) triangle, with ones on the
# diagonal if unit_diagonal. dX = op(M)^{-1} (dB - op(dM) X)  =>  Bbar = op(M)^{-T} G, and
# Mbar = -Bbar X^T (trans=0) or -X Bbar^T (trans=1), kept on the triangle that is read.
def _solve_triangular_impl(a, b, trans, lower, unit_diagonal):
    solved = _scipy_linalg().solve_triangular(
        a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal
    )
    return _in_precision_of(solved, a, b)


def _read_triangle(m, lower, unit_diagonal):
    """The entries of m that the solve reads (the others' derivatives are zero)."""
    if lower:
        return _tril(m, -1 if unit_diagonal else 0)
    return _triu(m, 1 if unit_diagonal else 0)


def _transposed(m, trans):
    return mT(m) if trans else m


def _solve_triangular_b_vjp(g, a, out, trans, lower, unit_diagonal):
    return solve_triangular(a, g, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)


def _solve_triangular_a_vjp(g, a, out, trans, lower, unit_diagonal):
    b_bar = _solve_triangular_b_vjp(g, a, out, trans, lower, unit_diagonal)
    m_bar = matmul(out, mT(b_bar)) if trans else matmul(b_bar, mT(out))
    return -_read_triangle(m_bar, lower, unit_diagonal)


def _solve_triangular_a_jvp(t, a, out, trans, lower, unit_diagonal):
    change = matmul(_transposed(_read_triangle(t, lower, unit_diagonal), trans), out)
    return -solve_triangular(a, change, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


solve_triangular = defprimitive(
    "solve_triangular",
    _solve_triangular_impl,
    saves=(X, OUT),
    vjp=(_solve_triangular_a_vjp, _solve_triangular_b_vjp),
    jvp=(
        _solve_triangular_a_jvp,
        lambda t, a, out, trans, lower, unit_diagonal: solve_triangular(
            a, t, trans=trans, lower=lower, unit_diagonal=unit_diagonal
        ),
    ),
    family="scipy.linalg",
    batch=POINTWISE,  # SciPy broadcasts the stacks of a and b
)


# ----- the packed LU factor (SciPy's lu_factor, without the pivots) ------------------------------
# P A = L U with L unit lower and U upper triangular, packed in one matrix (L's strict lower
# triangle, U's upper one). For fixed pivots, F = L^{-1} P dA U^{-1} gives dL = L tril(F, -1),
# dU = triu(F) U. The rules need no P: L^{-1} P = U A^{-1}, so F = U A^{-1} dA U^{-1} and
#   Abar = A^{-T} U^T Fbar U^{-T},  Fbar = tril(L^T tril(G, -1), -1) + triu(triu(G) U^T).
# (The pivots are piecewise constant: chainrule.scipy.linalg.lu_factor reads them from the
# values. Where two candidate pivots tie, the factor jumps, and has no derivative.)
def _lu_factor_impl(x):
    x = np.asarray(x)
    return _in_precision_of(_scipy_linalg().lu_factor(x, check_finite=True)[0], x)


def _lu_parts(packed):
    """(L, U) from the packed factor."""
    return _tril(packed, -1) + _eye_like(packed), _triu(packed)


def _times_inverse(m, upper, transposed=False):
    """m U^{-1} = (U^{-T} m^T)^T, or with `transposed` m U^{-T} = (U^{-1} m^T)^T."""
    solved = solve_triangular(upper, mT(m), trans=0 if transposed else 1, lower=False,
                              unit_diagonal=False)
    return mT(solved)


def _lu_factor_jvp(t, x, out):
    lower, upper = _lu_parts(out)
    change = _times_inverse(matmul(upper, solve(x, t)), upper)
    return matmul(lower, _tril(change, -1)) + matmul(_triu(change), upper)


def _lu_factor_vjp(g, x, out):
    lower, upper = _lu_parts(out)
    f_bar = _tril(matmul(mT(lower), _tril(g, -1)), -1) + _triu(matmul(_triu(g), mT(upper)))
    return solve(mT(x), _times_inverse(matmul(mT(upper), f_bar), upper, transposed=True))


lu_factor = defprimitive(
    "lu_factor",
    _lu_factor_impl,
    saves=(X, OUT),
    vjp=(_lu_factor_vjp,),
    jvp=(_lu_factor_jvp,),
    family="scipy.linalg",
    batch=STACKED,
)
