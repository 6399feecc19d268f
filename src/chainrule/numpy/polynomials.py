"""Polynomials as NumPy's classic API spells them: 1-d coefficient arrays, highest power first.
`polyval` (Horner's scheme), `polyadd`, `polysub`, `polymul` (a convolution), `polydiv` (long
division), `polyder`, `polyint`, `poly` (from roots) and `polyfit` (least squares) are composed
from chainrule's rows, so they are differentiable in every coefficient, point and sample;
`roots` takes the eigenvalues of the companion matrix, differentiable where the roots are
simple (a repeated root has an infinite derivative: NonDifferentiableError when derivatives
are asked for).
"""

import warnings

import numpy as np

from chainrule.core.batching import is_differentiated
from chainrule.core.dtypes import shape_of
from chainrule.core.tensor import Tensor
from chainrule.core.trace import physical_value
from chainrule.errors import (
    ArgumentError,
    BatchingError,
    DTypeError,
    NonDifferentiableError,
    ShapeError,
)
from chainrule.numpy._common import array_dtype, ndim_of
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.linalg import eigvals, inv, pinv, qr, solve, svd
from chainrule.numpy.reductions import cumprod, sum
from chainrule.numpy.shapes import broadcast_to, concatenate, reshape, stack, transpose
from chainrule.numpy.signal import convolve
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const

__all__ = [
    "polyval", "polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint", "polyfit",
    "poly", "roots",
]


def _coefficients(p):
    """p as an array of at least one dimension (NumPy's atleast_1d)."""
    p = p if isinstance(p, Tensor) else np.asarray(p)
    return reshape(p, (1,)) if ndim_of(p) == 0 else p


def _any(mask) -> bool:
    return bool(np.any(physical_value(mask)))


def polyval(p, x):
    """p[0] x^(n-1) + ... + p[n-1] by Horner's scheme, as np.polyval (x of any shape)."""
    p = p if isinstance(p, Tensor) else np.asarray(p)
    x = x if isinstance(x, Tensor) else np.asarray(x)
    value = np.zeros(shape_of(x), array_dtype(x))
    for k in range(shape_of(p)[0] if ndim_of(p) else 0):
        value = value * x + p[k]
    return value


def _leading_zeros(a, count, dtype):
    return concatenate([np.zeros(count, dtype), a])


def polyadd(a1, a2):
    """The sum of two polynomials (the shorter padded with leading zeros)."""
    return _combined(a1, a2, _elementwise.add)


def polysub(a1, a2):
    """The difference a1 - a2 of two polynomials."""
    return _combined(a1, a2, _elementwise.subtract)


def _combined(a1, a2, operation):
    a1, a2 = _coefficients(a1), _coefficients(a2)
    difference = shape_of(a2)[0] - shape_of(a1)[0]
    if difference > 0:
        a1 = _leading_zeros(a1, difference, array_dtype(a1))
    elif difference < 0:
        a2 = _leading_zeros(a2, -difference, array_dtype(a2))
    return operation(a1, a2)


def polymul(a1, a2):
    """The product of two polynomials: the convolution of their coefficients."""
    return convolve(_coefficients(a1), _coefficients(a2))


def polyder(p, m=1):
    """The m-th derivative's coefficients: each step multiplies by the powers n, ..., 1 and
    drops the constant."""
    m = int(m)
    if m < 0:
        raise ArgumentError("polyder: Order of derivative must be positive (see polyint)")
    p = p if isinstance(p, Tensor) else np.asarray(p)
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = p[:-1] * np.arange(n, 0, -1)
    return p


def polyint(p, m=1, k=None):
    """The m-th antiderivative's coefficients, with integration constants k (one per step, or
    one for all); differentiable in p and k."""
    m = int(m)
    if m < 0:
        raise ArgumentError("polyint: Order of integral must be positive (see polyder)")
    k = np.zeros(m, float) if k is None else k
    k = _coefficients(k)
    if shape_of(k)[0] == 1 and m > 1:
        k = k[0] * np.ones(m, float)
    if shape_of(k)[0] < m:
        raise ShapeError("polyint: k must be a scalar or a rank-1 array of length 1 or >m.")
    p = p if isinstance(p, Tensor) else np.asarray(p)
    for step in range(m):
        p = concatenate([p / np.arange(shape_of(p)[0], 0, -1), k[step:step + 1]])
    return p


def polydiv(u, v):
    """(quotient, remainder) of polynomial long division, as np.polydiv; differentiable in both.
    Leading remainder coefficients within 1e-8 of 0 are dropped as NumPy drops them (under vmap:
    as far as every example allows, so that the examples' remainders stack)."""
    u, v = _coefficients(u) + 0.0, _coefficients(v) + 0.0
    dtype = np.result_type(array_dtype(u), array_dtype(v))
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    scale = 1.0 / v[0]
    remainder = u if array_dtype(u) == dtype else astype(u, dtype)
    quotient = []
    for k in range(m - n + 1):
        d = scale * remainder[k]
        quotient.append(d)
        remainder = concatenate(
            [remainder[:k], remainder[k:k + n + 1] - d * v, remainder[k + n + 1:]]
        )
    quotient = stack(quotient) if quotient else np.zeros(1, dtype)
    while shape_of(remainder)[0] > 1 and np.allclose(physical_value(const(remainder[0])), 0,
                                                     rtol=1e-14):
        remainder = remainder[1:]
    return quotient, remainder


_POLY_DTYPES = {np.dtype(c) for c in ("f4", "f8", "g", "c8", "c16", "G")}


def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with the given roots (or a square matrix's
    characteristic polynomial), as np.poly; real when the roots come in conjugate pairs."""
    zeros = _coefficients(seq_of_zeros)
    shape = shape_of(zeros)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        zeros = eigvals(zeros)
    elif len(shape) == 1 and array_dtype(zeros) not in _POLY_DTYPES:
        zeros = astype(zeros, np.float64)  # NumPy's mintypecode: integers, float16 -> float64
    elif len(shape) != 1:
        raise ShapeError("poly: input must be 1d or non-empty square 2d array.")
    if shape_of(zeros)[0] == 0:
        return 1.0
    dtype = array_dtype(zeros)
    coefficients = np.ones(1, dtype)
    for k in range(shape_of(zeros)[0]):
        factor = concatenate([np.ones(1, dtype), reshape(-zeros[k], (1,))])
        coefficients = convolve(coefficients, factor)
    if dtype.kind == "c":
        values = np.asarray(physical_value(const(zeros)), complex)
        if np.all(np.sort(values, axis=-1) == np.sort(values.conjugate(), axis=-1)):
            coefficients = _elementwise.real(coefficients)
    return coefficients


def roots(p):
    """The roots of the polynomial p, as np.roots: the eigenvalues of its companion matrix
    (after stripping leading zeros), and a 0 for each trailing zero. Real when every root is
    (as NumPy's eigvals), else complex. Differentiable where the roots are simple."""
    p = _coefficients(p)
    if ndim_of(p) != 1:
        raise ShapeError("roots: Input must be a rank-1 array.")
    values = physical_value(const(p))
    nonzero = np.flatnonzero(np.any(values != 0, axis=tuple(range(values.ndim - 1))))
    if values.ndim > 1 and not np.all(values[..., nonzero[[0, -1]]] != 0):
        raise BatchingError(
            "roots under cr.vmap: the examples have their leading or trailing zero coefficients "
            "in different places, so their numbers of roots differ and do not stack."
        )
    if len(nonzero) == 0:
        return np.array([])
    trailing = shape_of(p)[0] - nonzero[-1] - 1
    p = p[int(nonzero[0]):int(nonzero[-1]) + 1]
    if array_dtype(p).kind not in "fc":
        p = astype(p, np.float64)
    count = shape_of(p)[0]
    if count > 1:
        companion = concatenate([
            reshape(-p[1:] / p[0], (1, count - 1)),
            np.eye(count - 2, count - 1, dtype=array_dtype(p)),
        ])
        found = eigvals(companion)
        if is_differentiated(found):
            _refuse_repeated_roots(const(p), const(found))
        if not _any(_elementwise.imag(const(found)) != 0):
            found = _elementwise.real(found)
    else:
        found = np.array([], array_dtype(p))
    if trailing:
        found = concatenate([found, np.zeros(trailing, array_dtype(found))])
    return found


def _refuse_repeated_roots(p, found):
    """NonDifferentiableError at a repeated root. dr = -dp(r) / p'(r), so a root's derivative
    is infinite where p'(r) = 0; computed multiple roots split apart by rounding, so the test is
    the root's condition number: |p'(r)| within sqrt(eps) of sum |p_k| |r|^(n-k)."""
    coefficients = np.asarray(physical_value(p))
    values = np.asarray(physical_value(found))
    n = coefficients.shape[-1] - 1
    powers = values[..., None] ** np.arange(n, -1, -1)
    slopes = np.sum(coefficients[..., None, :-1] * np.arange(n, 0, -1) * powers[..., 1:], axis=-1)
    sizes = np.sum(np.abs(coefficients[..., None, :] * powers), axis=-1)
    if np.any(np.abs(slopes) <= np.sqrt(np.finfo(values.real.dtype).eps) * sizes):
        raise NonDifferentiableError(
            "roots: the polynomial has a repeated root (to within rounding), whose derivative "
            "with respect to the coefficients is infinite (a double root moves like the square "
            "root of a change in them). Differentiate a symmetric function of the roots instead "
            "(their sum is -p[1]/p[0], their product (-1)^n p[-1]/p[0]), or keep them apart."
        )


# ----- polyfit ------------------------------------------------------------------------------------
def _vander(x, order):
    """x's powers order - 1, ..., 1, 0 in columns, by cumulative products as np.vander."""
    count = shape_of(x)[0]
    if order == 1:
        return np.ones((count, 1), array_dtype(x))
    powers = cumprod(broadcast_to(reshape(x, (count, 1)), (count, order - 1)), axis=1)
    columns = concatenate([np.ones((count, 1), array_dtype(powers)), powers], axis=1)
    return columns[:, ::-1]


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial fit of degree deg to the points (x, y) (y: one column of
    values or several), as np.polyfit (weights w, full=, cov=); differentiable in x, y and w.
    The columns are scaled as NumPy scales them and the problem solved by QR, which gives
    NumPy's (SVD) solution up to rounding when the columns are independent; otherwise by the
    pseudo-inverse, NumPy's minimum-norm solution, with NumPy's RankWarning."""
    order = int(deg) + 1
    x, y = _checked_points(x, y, deg)
    if rcond is None:
        rcond = shape_of(x)[0] * np.finfo(array_dtype(x)).eps
    lhs, rhs = _vander(x, order), y
    if w is not None:
        w = (w if isinstance(w, Tensor) else np.asarray(w)) + 0.0
        if ndim_of(w) != 1:
            raise DTypeError("polyfit: expected a 1-d array for weights")
        if shape_of(w)[0] != shape_of(y)[0]:
            raise DTypeError("polyfit: expected w and y to have the same length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if ndim_of(rhs) == 2 else w)
    scale = _elementwise.sqrt(sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    singular_values = svd(lhs, compute_uv=False)
    plain_values = physical_value(const(singular_values))
    rank = np.int32(np.min(np.sum(plain_values > rcond * plain_values[..., :1], axis=-1)))
    solution = _least_squares(lhs, rhs, rank == order, rcond)
    coefficients = transpose(transpose(solution) / scale)
    if rank != order and not full:
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=3)
    residuals = _residuals(lhs, rhs, solution, rank, order)
    if full:
        return coefficients, residuals, rank, singular_values, rcond
    if not cov:
        return coefficients
    base = inv(transpose(lhs) @ lhs) / (scale[:, None] * scale[None, :])
    if cov == "unscaled":
        factor = 1
    else:
        if shape_of(x)[0] <= order:
            raise ArgumentError("polyfit: the number of data points must exceed order to scale "
                                "the covariance matrix")
        factor = residuals / (shape_of(x)[0] - order)
    if ndim_of(y) == 1:
        return coefficients, base * factor
    return coefficients, base[:, :, None] * factor


def _checked_points(x, y, deg):
    x = (x if isinstance(x, Tensor) else np.asarray(x)) + 0.0
    y = (y if isinstance(y, Tensor) else np.asarray(y)) + 0.0
    if deg < 0:
        raise ArgumentError("polyfit: expected deg >= 0")
    if ndim_of(x) != 1:
        raise DTypeError("polyfit: expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise DTypeError("polyfit: expected non-empty vector for x")
    if ndim_of(y) < 1 or ndim_of(y) > 2:
        raise DTypeError("polyfit: expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise DTypeError("polyfit: expected x and y to have same length")
    return x, y


def _least_squares(lhs, rhs, full_rank, rcond):
    """min ||lhs c - rhs||: by QR (R c = Q^T rhs) with independent columns, else the
    minimum-norm solution pinv(lhs) rhs, singular values up to rcond times the largest
    taken as 0 (LAPACK's gelsd, which NumPy's lstsq calls)."""
    if full_rank:
        q, r = qr(lhs)
        return solve(r, transpose(q) @ rhs)
    return pinv(lhs, rcond=rcond) @ rhs


def _residuals(lhs, rhs, scaled, rank, order):
    """NumPy's lstsq residuals: the squared norm of each column's misfit, when the columns are
    independent and there are more points than coefficients; else empty."""
    if rank != order or shape_of(lhs)[0] <= order:
        return np.empty((0,), array_dtype(lhs))
    misfit = lhs @ scaled - rhs
    total = sum(misfit * misfit, axis=0)
    return reshape(total, (1,)) if ndim_of(rhs) == 1 else total


wrap_public(globals(), __all__)
