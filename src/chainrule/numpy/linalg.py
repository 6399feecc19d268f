"""`chainrule.numpy.linalg`: NumPy's linalg functions, differentiable, batched like NumPy's.

Each function checks shapes (a `ShapeError` naming the function and the shapes), then calls the
primitives of `chainrule.ops.linalg` or composes them. `chainrule.numpy` registers them for
NumPy dispatch, so `np.linalg.inv(tensor)` records.
"""

import builtins
from collections import namedtuple

import numpy as _np

from chainrule.core.dtypes import shape_of
from chainrule.core.tensor import Tensor
from chainrule.errors import ArgumentError, ShapeError, UnsupportedFunctionError
from chainrule.numpy import creation as _creation
from chainrule.numpy import products as _products
from chainrule.numpy import reductions as _reductions
from chainrule.numpy import selection as _selection
from chainrule.numpy import shapes as _shapes
from chainrule.numpy._common import array_dtype, normalize_axes, plain
from chainrule.numpy._explain import wrap_public
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import linalg as _ops
from chainrule.ops._rules import const

__all__ = [
    "cholesky", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv", "matmul",
    "matrix_norm", "matrix_power", "matrix_transpose", "multi_dot", "norm", "outer", "pinv", "qr",
    "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
    "EigResult", "EighResult", "QRResult", "SlogdetResult", "SVDResult",
]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])

matmul = _ops.matmul
matrix_transpose = _ops.mT


def _shape(a):
    return tuple(shape_of(a)) if isinstance(a, Tensor) else _np.shape(a)


def _require_matrix(a, what, square=False):
    shape = _shape(a)
    if len(shape) < 2 or (square and shape[-1] != shape[-2]):
        kind = "square matrix" if square else "matrix"
        raise ShapeError(
            f"{what}: expected a {kind} (or a stack of them in the last two axes), got shape "
            f"{shape}"
        )
    return shape


def _traced(*arrays):
    return builtins.any(isinstance(a, Tensor) for a in arrays)


def _is_complex(a):
    return array_dtype(a).kind == "c"


# ----- inverse, determinants, solve --------------------------------------------------------------
def inv(a):
    """Inverse of a square matrix (batched)."""
    _require_matrix(a, "inv", square=True)
    return _ops.inv(a)


def det(a):
    """Determinant (batched). Its gradient is the cofactor matrix (det(A) A^{-T} where A is
    invertible), at singular matrices too, and so are its higher derivatives."""
    _require_matrix(a, "det", square=True)
    return _ops.det(a)


def slogdet(a):
    """(sign, log|det a|). logabsdet is smooth wherever det a != 0. For a real matrix the sign
    is +1 or -1, piecewise constant (no gradient); for a complex one it is det a / |det a|, a
    point on the unit circle that moves smoothly with a (d sign = i sign Im tr(a^{-1} da)), and
    it is differentiated."""
    shape = _require_matrix(a, "slogdet", square=True)
    logabsdet = _ops.logabsdet(a)
    if not _is_complex(a) or shape[-1] == 0:
        sign = plain(_np.linalg.slogdet)(a)[0]  # piecewise constant; per example under vmap
        return SlogdetResult(sign, logabsdet)
    return SlogdetResult(_phase_of_det(a, logabsdet, shape[-1]), logabsdet)


def _phase_of_det(a, logabsdet, n):
    """det a / |det a|, from a scaled by a constant c > 0 with |det(a / c)| = 1: the phase is the
    same for every c (so c needs no derivative), and det(a / c) neither overflows nor underflows
    where det a would. 0 where det a is 0, as NumPy."""
    finite = _elementwise.isfinite(const(logabsdet))
    scale = _elementwise.exp(_selection.where(finite, const(logabsdet), 0.0) / n)
    scaled = _ops.det(a / _shapes.reshape(scale, _shape(scale) + (1, 1)))
    magnitude = _elementwise.abs(scaled)
    return scaled / _selection.where(_elementwise.equal(const(magnitude), 0), 1.0, magnitude)


def solve(a, b):
    """x with a @ x = b. As in NumPy 2, b is one vector only when b.ndim == 1; otherwise it is a
    (stack of) matrices whose columns are the right-hand sides."""
    shape = _require_matrix(a, "solve", square=True)
    b_shape = _shape(b)
    vector = len(b_shape) == 1
    if vector:
        b = _shapes.reshape(b, b_shape + (1,))
    _check_solve_shapes(shape, b_shape, vector)
    x = _ops.solve(a, b)
    return x[..., 0] if vector else x


def _check_solve_shapes(a_shape, b_shape, vector):
    rows = b_shape[0] if vector else (b_shape[-2] if len(b_shape) >= 2 else None)
    try:
        if rows != a_shape[-1]:
            raise ValueError
        if not vector:
            _np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ShapeError(
            f"solve: a has shape {a_shape} and b has shape {b_shape}; b needs {a_shape[-1]} rows "
            "(b.shape[-2], or b.shape[0] for a 1-d b) and batch dimensions that broadcast "
            "with a's. For a stack of vectors use b[..., None] and take x[..., 0]."
        ) from None


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Moore-Penrose pseudo-inverse; differentiable wherever the rank is locally constant."""
    shape = _require_matrix(a, "pinv")
    if hermitian and _traced(a):
        raise NotImplementedError("pinv(hermitian=True) is not differentiable here; drop it")
    if rcond is None:
        rcond = rtol if rtol is not None else builtins.max(shape[-2:]) * _np.finfo(float).eps
    return _ops.pinv(a, rcond=float(rcond))


def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; a negative n inverts first."""
    shape = _require_matrix(a, "matrix_power", square=True)
    n = int(n)
    if n == 0:
        return _np.broadcast_to(_np.eye(shape[-1]), shape).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else _ops.matmul(result, a)
        n >>= 1
        if n:
            a = _ops.matmul(a, a)
    return result


# ----- decompositions ----------------------------------------------------------------------------
def cholesky(a, /, *, upper=False):
    """Lower factor L with a = L L^H (L^T if real), or with upper=True the upper factor
    U = L^H with a = U^H U. As NumPy, only one triangle of a is read (the lower one, the upper
    one with upper=True) and, for a complex a, only the real part of its diagonal; the gradient
    lands there too."""
    _require_matrix(a, "cholesky", square=True)
    if upper:
        # The Hermitian matrix read from a's upper triangle is the one read from a^H's lower.
        return _ops.mH(_ops.cholesky(_ops.mH(a)))
    return _ops.cholesky(a)


def _lower_source(a, uplo, what):
    _require_matrix(a, what, square=True)
    if uplo not in ("L", "U"):
        raise ArgumentError(f"{what}: UPLO must be 'L' or 'U', got {uplo!r}")
    # The symmetric (Hermitian) matrix read from the upper triangle of a is the one read from
    # the lower triangle of a^T (a^H).
    return a if uplo == "L" else _ops.mH(a)


def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's argument name
    """Eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix read from one
    triangle. Gradients assume distinct eigenvalues; they land on the triangle that was read.

    For a complex matrix each eigenvector's phase is fixed as LAPACK fixes eig's: its
    largest-modulus entry is real and positive (NumPy leaves the phase to the algorithm, so
    the vectors equal NumPy's up to a phase per column). The vectors are then a differentiable
    function of the matrix; functions that do not see the phase (|v_i^H B v_i|, V diag(f) V^H)
    have the same derivative under any convention."""
    source = _lower_source(a, UPLO, "eigh")
    return EighResult(_ops.eigh_values(source), _ops.eigh_vectors(source))


def eigvalsh(a, UPLO="L"):  # noqa: N803 - NumPy's argument name
    return _ops.eigh_values(_lower_source(a, UPLO, "eigvalsh"))


def eig(a):
    """Eigenvalues and right eigenvectors of a general square matrix (batched), both always
    complex (complex128 for float64 input, complex64 for float32), as in JAX: NumPy returns
    real arrays when every eigenvalue happens to be real, a dtype that would change as the
    matrix moves. Eigenvalues are in NumPy's (LAPACK's) order; each eigenvector has unit 2-norm
    and its largest-modulus entry real (LAPACK's normalisation), and its derivative is that of
    this normalised vector. Derivatives of the eigenvectors assume distinct eigenvalues and
    raise NonDifferentiableError at a repeated one; the eigenvalues' derivatives, and those of
    symmetric functions of them (sum, product), need only a diagonalisable matrix."""
    _require_matrix(a, "eig", square=True)
    if not _traced(a):
        values, vectors = _np.linalg.eig(a)
        dtype = _np.result_type(values, vectors, _np.complex64)
        return EigResult(values.astype(dtype, copy=False), vectors.astype(dtype, copy=False))
    return EigResult(_ops.eig_values(a), _ops.eig_vectors(a))


def eigvals(a):
    """Eigenvalues of a general square matrix, always complex (see eig)."""
    _require_matrix(a, "eigvals", square=True)
    return _ops.eig_values(a)


def qr(a, mode="reduced"):
    """Reduced QR (mode 'reduced' or 'r'). Gradients need the leading square block to have
    full rank; a wide matrix [X | Y] is factored as Q R_X = X, R = [R_X | Q^T Y]."""
    rows, cols = _require_matrix(a, "qr")[-2:]
    if mode not in ("reduced", "r") and not (mode == "complete" and rows <= cols):
        raise NotImplementedError(
            f"qr(mode={mode!r}) is not supported for shape {_shape(a)}; use mode='reduced'"
        )
    if rows >= cols:
        q, r = _ops.qr_q(a), _ops.qr_r(a)
    else:
        square = a[..., :, :rows]
        q = _ops.qr_q(square)
        r = _shapes.concatenate([_ops.qr_r(square), _ops.matmul(_ops.mH(q), a[..., :, rows:])], -1)
    return r if mode == "r" else QRResult(q, r)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition, differentiable with full_matrices=False (or a square
    matrix). Gradients of U and Vh assume distinct, nonzero singular values.

    For a complex matrix the phases are fixed as in eigh: each column of U has its
    largest-modulus entry real and positive, and Vh's rows carry the matching phases (NumPy's
    U and Vh differ from these by a phase per singular triple; U S Vh is the same)."""
    rows, cols = _require_matrix(a, "svd")[-2:]
    if not compute_uv:
        return _ops.svd_s(a)
    if (hermitian or (full_matrices and rows != cols)) and not _traced(a):
        return _np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)
    if hermitian or (full_matrices and rows != cols):
        raise NotImplementedError(
            f"svd of a {rows}x{cols} matrix with full_matrices=True (or hermitian=True) has no "
            "unique derivative; call svd(a, full_matrices=False)"
        )
    return SVDResult(_ops.svd_u(a), _ops.svd_s(a), _ops.svd_vt(a))


def svdvals(x, /):
    _require_matrix(x, "svdvals")
    return _ops.svd_s(x)


# ----- norms -------------------------------------------------------------------------------------
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's argument name
    """Vector or matrix norm, as np.linalg.norm. The 2-norm / Frobenius norm is a primitive whose
    gradient at 0 is the subgradient 0 (never NaN)."""
    ndim = len(_shape(x))
    if axis is None:
        if ord is None:
            return _ops.norm(x, axis=tuple(range(ndim)), keepdims=keepdims)
        if ndim not in (1, 2):
            raise ShapeError(
                f"norm(ord={ord!r}) needs a 1-d or 2-d input or an axis, got {ndim}-d; "
                "pass axis=... to pick the vector or matrix axes"
            )
        axis = tuple(range(ndim))
    axes = normalize_axes(axis, ndim, "norm")
    if len(axes) != (1 if isinstance(axis, int) else len(axis)):
        raise ShapeError(f"norm: repeated axis in {axis}")
    if len(axes) == 1:
        return _vector_norm(x, 2 if ord is None else ord, axes, keepdims)
    if len(axes) == 2:
        order = tuple(a % ndim for a in axis)  # NumPy's (row, column) order, as given
        return _matrix_norm(x, "fro" if ord is None else ord, order, keepdims)
    raise ShapeError(f"norm: axis must name 1 or 2 axes, got {axis}")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    ndim = len(_shape(x))
    return _vector_norm(x, ord, normalize_axes(axis, ndim, "vector_norm"), keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    ndim = len(_require_matrix(x, "matrix_norm"))
    return _matrix_norm(x, ord, (ndim - 2, ndim - 1), keepdims)


def _vector_norm(x, ord, axes, keepdims):  # noqa: A002
    if ord == 2:
        return _ops.norm(x, axis=axes, keepdims=keepdims)
    magnitude = _elementwise.abs(x)
    if ord == _np.inf:
        return _reductions.max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -_np.inf:
        return _reductions.min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:  # a count: piecewise constant, no gradient
        nonzero = _elementwise.astype(_elementwise.not_equal(const(x), 0), dtype=_np.float64)
        return _reductions.sum(nonzero, axis=axes, keepdims=keepdims)
    if ord == 1:
        return _reductions.sum(magnitude, axis=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ArgumentError(f"norm: ord={ord!r} is for matrices; vectors take numbers")
    # (sum |x|^p)^(1/p). Zeros are kept out of the powers, whose derivatives there are 0 * inf:
    # the gradient is 0 at a zero entry (and at the zero vector), never NaN.
    zero = _elementwise.equal(const(x), 0)
    powered = _selection.where(zero, 0.0, _selection.where(zero, 1.0, magnitude) ** float(ord))
    total = _reductions.sum(powered, axis=axes, keepdims=keepdims)
    empty = _elementwise.equal(const(total), 0)
    root = _selection.where(empty, 1.0, total) ** (1.0 / float(ord))
    return _selection.where(empty, 0.0, root)


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    row, col = axes
    if row == col:
        raise ShapeError(f"norm: the two axes must differ, got {axes}")
    if ord == "fro":
        return _ops.norm(x, axis=tuple(sorted(axes)), keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        values = _ops.svd_s(_shapes.moveaxis(x, (row, col), (-2, -1)))
        reduce = {"nuc": _reductions.sum, 2: _reductions.max, -2: _reductions.min}[ord]
        result = reduce(values, axis=-1)
    elif ord in (1, -1, _np.inf, -_np.inf):
        # 1: the largest column sum of |x| (sum over rows); inf: the largest row sum.
        summed, across = (row, col) if ord in (1, -1) else (col, row)
        sums = _reductions.sum(_elementwise.abs(x), axis=summed, keepdims=True)
        reduce = _reductions.max if ord in (1, _np.inf) else _reductions.min
        result = _shapes.squeeze(reduce(sums, axis=across, keepdims=True), axis=(row, col))
    else:
        raise ArgumentError(
            f"norm: invalid ord {ord!r} for a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, inf "
            "or -inf"
        )
    if keepdims:
        shape = _shape(x)
        result = _shapes.reshape(result, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return result


# ----- batched conveniences ----------------------------------------------------------------------
def trace(x, /, *, offset=0, dtype=None):
    """Sum of the diagonals of the last two axes (batched, unlike np.trace's default)."""
    _require_matrix(x, "trace")
    if offset == 0:
        total = _ops.einsum_call("...ii->...", x)
    else:
        total = _selection.trace(x, offset=offset, axis1=-2, axis2=-1)
    return total if dtype is None else _creation.astype(total, dtype)


def diagonal(x, /, *, offset=0):
    _require_matrix(x, "diagonal")
    return _selection.diagonal(x, offset, -2, -1)


def outer(x1, x2, /):
    return _products.outer(x1, x2)


def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2) along axis: the first vector is conjugated, as in NumPy."""
    if _is_complex(x1):
        x1 = _elementwise.conj(x1)
    return _reductions.sum(x1 * x2, axis=axis)


def tensordot(x1, x2, /, *, axes=2):
    return _products.tensordot(x1, x2, axes=axes)


def multi_dot(arrays, *, out=None):
    """a @ b @ c ..., left to right (NumPy may pick a cheaper order; values agree)."""
    if out is not None:
        raise UnsupportedFunctionError(
            "multi_dot(..., out=...) is not supported: use the returned value"
        )
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ShapeError(f"multi_dot needs at least two arrays, got {len(arrays)}")
    result = arrays[0]
    for array in arrays[1:]:
        result = _ops.matmul(result, array)
    return result


wrap_public(globals(), __all__, not_array_first={"multi_dot"})
