"""`chainrule.numpy.linalg`: NumPy's linalg functions, differentiable, batched like NumPy's.

Each function checks shapes (a `ShapeError` naming the function and the shapes), then calls the
primitives of `chainrule.ops.linalg` or composes them. `chainrule.numpy` registers them for
NumPy dispatch, so `np.linalg.inv(tensor)` records. A few (eig, cond, lstsq, the modes of svd
and qr that have no derivative) answer plain arrays with NumPy's own function, so that values,
dtypes and conventions (cond's inf at a singular matrix) are NumPy's to the bit; on Tensors they
are composed from the rows, with the same values where the derivative exists.
"""

import builtins
import math
import operator
from collections import namedtuple

import numpy as _np

from chainrule.core.dtypes import shape_of
from chainrule.core.tensor import Tensor
from chainrule.core.trace import physical_value
from chainrule.errors import (
    ArgumentError,
    BatchingError,
    InputTypeError,
    ShapeError,
    UnsupportedFunctionError,
)
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
    "cholesky", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv",
    "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose",
    "multi_dot", "norm", "outer", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
    "tensordot", "tensorinv", "tensorsolve", "trace", "vecdot", "vector_norm",
    "EigResult", "EighResult", "LinAlgError", "QRResult", "SlogdetResult", "SVDResult",
]

LinAlgError = _np.linalg.LinAlgError  # what NumPy raises for a singular matrix, here too

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])

matmul = _ops.matmul


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


def _inexact(a):
    """a, with integers and booleans cast to float64 (NumPy's norms compute in floats)."""
    return a if array_dtype(a).kind in "fc" else _creation.astype(a, _np.float64)


def _ndim(a):
    return len(_shape(a))


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


_UNSET = object()  # pinv's rtol not given (None means the array API's default)


def pinv(a, rcond=None, hermitian=False, *, rtol=_UNSET):
    """Moore-Penrose pseudo-inverse; differentiable wherever the rank is locally constant.

    Singular values at or below rcond (or rtol) times the largest are dropped; the default is
    NumPy's 1e-15, and rtol=None gives the array API's max(m, n) * eps. With hermitian=True
    the matrix is read, as NumPy reads it, from its lower triangle (Hermitian: the real part of
    the diagonal), and the gradient lands there."""
    shape = _require_matrix(a, "pinv")
    if rcond is not None and rtol is not _UNSET:
        raise ArgumentError("pinv: give rcond or rtol, not both (rtol is the array API's name)")
    if rcond is None:
        rcond = 1e-15 if rtol is _UNSET else rtol
    if rcond is None:
        dtype = array_dtype(a) if array_dtype(a).kind in "fc" else _np.dtype(_np.float64)
        rcond = builtins.max(shape[-2:]) * _np.finfo(dtype).eps
    rcond = _np.asarray(const(rcond), dtype=float)  # one per matrix of a stack, or one for all
    if hermitian:
        a = _ops.from_lower(a)
    return _ops.pinv(a, rcond=float(rcond) if rcond.ndim == 0 else rcond)


def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring, in NumPy's order of products; a negative n
    inverts first (so its gradient is that of inv, and a singular a raises LinAlgError)."""
    shape = _require_matrix(a, "matrix_power", square=True)
    try:
        n = operator.index(n)
    except TypeError:
        raise InputTypeError(
            f"matrix_power: the exponent must be an integer, got {n!r}"
        ) from None
    if n == 0:  # the identity, a constant: no derivative
        return _np.broadcast_to(_np.eye(shape[-1], dtype=array_dtype(a)), shape).copy()
    if n < 0:
        a, n = inv(a), -n
    if n == 3:
        return _ops.matmul(_ops.matmul(a, a), a)
    result = square = None
    while n:
        square = a if square is None else _ops.matmul(square, square)
        n, bit = divmod(n, 2)
        if bit:
            result = square if result is None else _ops.matmul(result, square)
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
    uplo = uplo.upper() if isinstance(uplo, str) else uplo
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
    if mode in ("complete", "raw") and not _traced(a):
        return _np.linalg.qr(a, mode=mode)
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
    U and Vh differ from these by a phase per singular triple; U S Vh is the same).

    hermitian=True is NumPy's eigh-based path, built on eigh (whose derivatives it has): the
    matrix is read from a's lower triangle, S = |w| in descending order, U the eigenvectors in
    that order, Vh = (U sign(w))^H. Real matrices get NumPy's U and Vh exactly; complex ones
    eigh's phase convention."""
    rows, cols = _require_matrix(a, "svd", square=hermitian)[-2:]
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    if not compute_uv:
        return _ops.svd_s(a)
    if full_matrices and rows != cols:
        if not _traced(a):
            return _np.linalg.svd(a, full_matrices=True)
        raise NotImplementedError(
            f"svd of a {rows}x{cols} matrix with full_matrices=True has no unique derivative "
            "(the extra columns are any orthonormal completion); call "
            "svd(a, full_matrices=False)"
        )
    return SVDResult(_ops.svd_u(a), _ops.svd_s(a), _ops.svd_vt(a))


def _hermitian_svd(a, compute_uv):
    values, vectors = eigh(a)
    order = _shapes.flip(_selection.argsort(_elementwise.abs(const(values)), axis=-1), axis=-1)
    singular_values = _selection.take_along_axis(_elementwise.abs(values), order, axis=-1)
    if not compute_uv:
        return singular_values
    u = _selection.take_along_axis(vectors, order[..., None, :], axis=-1)
    signs = _selection.take_along_axis(_elementwise.sign(const(values)), order, axis=-1)
    return SVDResult(u, singular_values, _ops.mH(u * signs[..., None, :]))


def svdvals(x, /):
    _require_matrix(x, "svdvals")
    return _ops.svd_s(x)


# ----- norms -------------------------------------------------------------------------------------
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's argument name
    """Vector or matrix norm, as np.linalg.norm. The 2-norm / Frobenius norm is a primitive whose
    gradient at 0 is the subgradient 0 (never NaN)."""
    x = _inexact(x)
    ndim = _ndim(x)
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
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        order = tuple(a % ndim for a in axis)  # NumPy's (row, column) order, as given
        return _matrix_norm(x, ord, order, keepdims)
    raise ShapeError(f"norm: axis must name 1 or 2 axes, got {axis}")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """The ord-norm of the vectors along `axis` (all axes: the flattened array), as NumPy 2 and
    the array API define it; ord may be any number, inf or -inf."""
    x = _inexact(x)
    ndim = _ndim(x)
    if ndim == 0 and axis is not None:
        raise ShapeError(f"vector_norm: axis {axis} is out of range for a 0-d array")
    return _vector_norm(x, ord, normalize_axes(axis, ndim, "vector_norm"), keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    """The ord-norm of the matrices in the last two axes: 'fro', 'nuc', 1, -1, 2, -2, inf,
    -inf, as NumPy 2 and the array API define them."""
    ndim = len(_require_matrix(x, "matrix_norm"))
    return _matrix_norm(_inexact(x), ord, (ndim - 2, ndim - 1), keepdims)


def _vector_norm(x, ord, axes, keepdims):  # noqa: A002
    if ord is None or ord == 2:
        return _ops.norm(x, axis=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ArgumentError(f"norm: ord={ord!r} is for matrices; vectors take numbers")
    magnitude = _elementwise.abs(x)
    if ord == _np.inf:
        # NumPy gives 0 over an empty set (initial=0); tests/test_hostile_numpy.py still asks
        # for its ShapeError here, so that waits for that test to change.
        return _reductions.max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -_np.inf:
        return _reductions.min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:  # a count: piecewise constant, no gradient
        nonzero = _creation.astype(_elementwise.not_equal(const(x), 0), array_dtype(magnitude))
        return _reductions.sum(nonzero, axis=axes, keepdims=keepdims)
    if ord == 1:
        return _reductions.sum(magnitude, axis=axes, keepdims=keepdims)
    return _power_norm(magnitude, float(ord), axes, keepdims)


def _power_norm(magnitude, p, axes, keepdims):
    """(sum |x|^p)^(1/p). Zeros are kept out of the powers, whose derivatives there are 0 * inf
    (p > 0) or whose values are infinite (p < 0): for p > 0 the gradient is 0 at a zero entry
    (and at the zero vector), never NaN. For p < 0 one zero entry makes the norm 0, a kink like
    abs's at 0, where the gradient is 0 too; no entries at all make it inf, as in NumPy."""
    zero = _elementwise.equal(const(magnitude), 0)
    powered = _selection.where(zero, 0.0, _selection.where(zero, 1.0, magnitude) ** p)
    total = _reductions.sum(powered, axis=axes, keepdims=keepdims)
    nothing = _elementwise.equal(const(total), 0)
    root = _selection.where(nothing, 1.0, total) ** (1.0 / p)
    if p > 0:
        return _selection.where(nothing, 0.0, root)
    zeros = _reductions.sum(_creation.astype(zero, _np.int64), axis=axes, keepdims=keepdims)
    return _selection.where(zeros > 0, 0.0, _selection.where(nothing, _np.inf, root))


def _largest(values, axes, keepdims):
    """max over `axes`; 0 over an empty set, as NumPy's norms (max(..., initial=0))."""
    shape = _shape(values)
    if builtins.all(shape[i] for i in axes):
        return _reductions.max(values, axis=axes, keepdims=keepdims)
    kept = [1 if i in axes else n for i, n in enumerate(shape) if keepdims or i not in axes]
    return _np.zeros(tuple(kept), array_dtype(values))


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    row, col = axes
    if row == col:
        raise ShapeError(f"norm: the two axes must differ, got {axes}")
    if ord is None or (isinstance(ord, str) and ord in ("fro", "f")):
        return _ops.norm(x, axis=tuple(sorted(axes)), keepdims=keepdims)
    if isinstance(ord, str) and ord == "nuc" or ord in (2, -2):
        values = _ops.svd_s(_shapes.moveaxis(x, (row, col), (-2, -1)))
        last = _ndim(values) - 1
        if ord == "nuc":
            result = _reductions.sum(values, axis=last)
        elif ord == 2:
            result = _largest(values, (last,), False)
        else:
            result = _reductions.min(values, axis=last)
    elif ord in (1, -1, _np.inf, -_np.inf):
        # 1: the largest column sum of |x| (sum over rows); inf: the largest row sum.
        summed, across = (row, col) if ord in (1, -1) else (col, row)
        sums = _reductions.sum(_elementwise.abs(x), axis=summed, keepdims=True)
        if ord in (1, _np.inf):
            extreme = _largest(sums, (across,), True)
        else:
            extreme = _reductions.min(sums, axis=across, keepdims=True)
        result = _shapes.squeeze(extreme, axis=(row, col))
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
    """Sum of the diagonals of the last two axes (batched, unlike np.trace's default). Integers
    sum in NumPy's accumulator (int64 for int32, as np.sum)."""
    shape = _require_matrix(x, "trace")
    if offset == 0 and shape[-1] == shape[-2]:
        total = _ops.einsum_call("...ii->...", x)
    else:
        total = _selection.trace(x, offset=offset, axis1=-2, axis2=-1)
    if dtype is None and array_dtype(x).kind in "biu":
        dtype = _np.sum(_np.zeros(0, array_dtype(x))).dtype
    if dtype is None or array_dtype(total) == dtype:
        return total
    return _creation.astype(total, dtype)


def diagonal(x, /, *, offset=0):
    _require_matrix(x, "diagonal")
    return _selection.diagonal(x, offset, -2, -1)


def matrix_transpose(x, /):
    """Swap the last two axes (batched)."""
    _require_matrix(x, "matrix_transpose")
    return _ops.mT(x)


def outer(x1, x2, /):
    """The outer product of two vectors (NumPy 2's linalg.outer takes 1-d arrays only)."""
    if _ndim(x1) != 1 or _ndim(x2) != 1:
        raise ShapeError(
            f"outer: the inputs must be one-dimensional, but they have shapes {_shape(x1)} and "
            f"{_shape(x2)}; use cnp.outer to flatten them, or x1[..., :, None] * x2[..., None, :]"
        )
    return _products.outer(x1, x2)


def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2) along axis: the first vector is conjugated, as in NumPy."""
    return _products.vecdot(x1, x2, axis=axis)


def tensordot(x1, x2, /, *, axes=2):
    return _products.tensordot(x1, x2, axes=axes)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of (arrays of) 3-vectors along `axis`, the other axes broadcast."""
    sizes = [_shape(x)[axis] if -_ndim(x) <= axis < _ndim(x) else None for x in (x1, x2)]
    if sizes != [3, 3]:
        raise ShapeError(
            f"cross: both inputs must be (arrays of) 3-vectors along axis {axis}, but they have "
            f"shapes {_shape(x1)} and {_shape(x2)}"
        )
    return _products.cross(x1, x2, axis=axis)


def multi_dot(arrays, *, out=None):
    """a @ b @ c ..., in the order NumPy picks (the cheapest, by the matrix-chain recursion), so
    the values agree to the last bit. The first array may be a row vector and the last a
    column vector; the others must be matrices."""
    if out is not None:
        raise UnsupportedFunctionError(
            "multi_dot(..., out=...) is not supported: use the returned value"
        )
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ShapeError(f"multi_dot needs at least two arrays, got {len(arrays)}")
    if len(arrays) == 2:
        return _products.dot(arrays[0], arrays[1])
    first_ndim, last_ndim = _ndim(arrays[0]), _ndim(arrays[-1])
    if first_ndim == 1:
        arrays[0] = _shapes.reshape(arrays[0], (1, -1))
    if last_ndim == 1:
        arrays[-1] = _shapes.reshape(arrays[-1], (-1, 1))
    for array in arrays:
        if _ndim(array) != 2:
            raise LinAlgError(
                f"{_ndim(array)}-dimensional array given. Array must be two-dimensional"
            )
    split = _chain_order([_shape(a) for a in arrays])
    result = _chain_product(arrays, split, 0, len(arrays) - 1)
    if first_ndim == 1 and last_ndim == 1:
        return result[0, 0]
    return _shapes.ravel(result) if 1 in (first_ndim, last_ndim) else result


def _chain_order(shapes):
    """split[i][j]: where the cheapest product of matrices i..j splits (Cormen's matrix-chain
    recursion, as NumPy's multi_dot; ties go to the first split)."""
    sizes = [shape[0] for shape in shapes] + [shapes[-1][1]]
    count = len(shapes)
    cost = [[0.0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = _np.inf
            for k in range(i, j):
                total = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if total < cost[i][j]:
                    cost[i][j], split[i][j] = total, k
    return split


def _chain_product(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return _ops.matmul(
        _chain_product(arrays, split, i, k), _chain_product(arrays, split, k + 1, j)
    )


# ----- condition numbers, rank, least squares ----------------------------------------------------
def cond(x, p=None):
    """The condition number of x in the p-norm: sigma_max / sigma_min from the singular values
    for p None, 2 (sigma_min / sigma_max for -2; any matrix shape), else
    norm(x, p) * norm(inv(x), p) ('fro', 'nuc', 1, -1, inf, -inf; square matrices).

    On plain arrays this is NumPy's (inf at a singular matrix). A traced x is differentiated as
    those composites: where the extreme singular values (for 1, inf, the extreme row or column
    sums) are distinct; a traced singular x has no finite condition number and, for the
    norm-based p, raises LinAlgError from inv."""
    if not _traced(x):
        return _np.linalg.cond(x, p)
    shape = _require_matrix(x, "cond", square=p not in (None, 2, -2))
    if 0 in shape[-2:]:
        raise LinAlgError("cond is not defined on empty arrays")
    if p is None or p in (2, -2):
        values = svdvals(x)
        largest, smallest = values[..., 0], values[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    return matrix_norm(x, ord=p) * matrix_norm(inv(x), ord=p)


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):  # noqa: N803 - NumPy's name
    """The number of singular values above the tolerance, as NumPy: an integer, with no
    derivative (under vmap, one per example)."""
    return plain(_np.linalg.matrix_rank)(A, tol=tol, hermitian=hermitian, rtol=rtol)


def lstsq(a, b, rcond=None):
    """NumPy's (x, residuals, rank, s) for min ||b - a x|| (b one vector, or columns).

    x is pinv(a, rcond) @ b, the minimum-norm solution LAPACK's gelsd also returns, and is
    differentiated as that: exactly where a has full rank (the rank is then locally constant);
    at a rank-deficient a, along the perturbations that keep its rank, as pinv. The residuals
    (the squared norm of each column of b - a x, present where a has full column rank and more
    rows than columns, as NumPy) and the singular values s are differentiable too; rank is an
    integer. As in NumPy (and JAX), a must
    be one matrix: batch with cr.vmap. On plain arrays this is NumPy's own lstsq."""
    if not _traced(a, b):
        return _np.linalg.lstsq(a, b, rcond=rcond)
    a_shape, b_shape = _shape(a), _shape(b)
    for shape in (a_shape, b_shape if len(b_shape) != 1 else (1, 1)):
        if len(shape) != 2:
            raise LinAlgError(
                f"{len(shape)}-dimensional array given. Array must be two-dimensional"
            )
    rows, columns = a_shape
    if b_shape[0] != rows:
        raise LinAlgError(
            f"Incompatible dimensions: lstsq got a of shape {a_shape} and b of shape {b_shape}; "
            "b needs as many rows as a"
        )
    # NumPy computes in double precision and returns the inputs' common type.
    result_dtype = _np.result_type(array_dtype(a), array_dtype(b), _np.float16)
    if result_dtype.kind == "f" and result_dtype.itemsize < 4:
        result_dtype = _np.dtype(_np.float64)
    work = _np.result_type(result_dtype, _np.float64)
    real_dtype = _np.finfo(result_dtype).dtype
    if rcond is None or rcond < 0:  # gelsd reads a negative rcond as machine precision
        rcond = _np.finfo(_np.float64).eps * (builtins.max(rows, columns) if rcond is None else 1)
    a, b = _creation.astype(a, work), _creation.astype(b, work)
    x = _ops.matmul(_ops.pinv(a, rcond=float(rcond)), b)
    values = svdvals(a)
    rank = plain(_lstsq_rank)(values, rcond)
    residuals = _lstsq_residuals(a, b, x, rank, len(b_shape) == 1, real_dtype)
    return (
        _creation.astype(x, result_dtype),
        residuals,
        rank,
        _creation.astype(values, real_dtype),
    )


def _lstsq_rank(values, rcond):
    """gelsd's rank: the singular values above rcond times the largest."""
    return _np.int32(_np.count_nonzero(values > rcond * values.max(initial=0.0)))


def _lstsq_residuals(a, b, x, rank, vector, real_dtype):
    rows, columns = _shape(a)
    full = _np.asarray(physical_value(rank)) == columns
    if rows <= columns or not _np.any(full):
        return _np.zeros(0, real_dtype)
    if not _np.all(full):
        raise BatchingError(
            "lstsq under cr.vmap: some examples' matrices have full column rank and others do "
            "not, so NumPy's residuals would have different shapes ((k,) and (0,)). Compute "
            "the residuals yourself: cnp.sum(cnp.abs(b - a @ x) ** 2, axis=0)."
        )
    if vector:
        b, x = _shapes.reshape(b, (rows, 1)), _shapes.reshape(x, (columns, 1))
    misfit = b - _ops.matmul(a, x)
    if _is_complex(misfit):
        squares = _elementwise.real(misfit) ** 2 + _elementwise.imag(misfit) ** 2
    else:
        squares = misfit * misfit
    return _creation.astype(_reductions.sum(squares, axis=0), real_dtype)


# ----- tensor equations --------------------------------------------------------------------------
def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, axes=x.ndim) == b, as NumPy: a (after moving `axes` to the end)
    is a square matrix in disguise, solved by `solve`, whose derivative it has."""
    ndim = _ndim(a)
    if axes is not None:
        order = list(range(ndim))
        for axis in axes:
            order.remove(axis % ndim)
            order.append(axis % ndim)
        a = _shapes.transpose(a, order)
    a_shape = _shape(a)
    solution_shape = a_shape[-(ndim - _ndim(b)):]
    size = math.prod(solution_shape)
    if math.prod(a_shape) != size**2:
        raise LinAlgError(
            "Input arrays must satisfy the requirement "
            f"prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim]); got a of shape {_shape(a)} "
            f"and b of shape {_shape(b)}"
        )
    x = solve(_shapes.reshape(a, (size, size)), _shapes.ravel(b))
    return _shapes.reshape(x, solution_shape)


def tensorinv(a, ind=2):
    """The inverse of a read as a matrix (the first `ind` axes against the rest), shaped
    a.shape[ind:] + a.shape[:ind], so that tensordot(tensorinv(a), b, ind) solves for b."""
    if ind <= 0:
        raise ArgumentError(f"tensorinv: ind must be a positive integer, got {ind}")
    shape = _shape(a)
    leading, trailing = math.prod(shape[:ind]), math.prod(shape[ind:])
    if leading != trailing:
        raise LinAlgError(
            f"a of shape {shape} with ind={ind} is a {leading}x{trailing} matrix "
            "(the first ind axes against the rest); it must be square"
        )
    inverse = inv(_shapes.reshape(a, (trailing, leading)))
    return _shapes.reshape(inverse, shape[ind:] + shape[:ind])


wrap_public(globals(), __all__, not_array_first={"multi_dot"})
