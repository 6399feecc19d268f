"""Products of arrays: tensordot (a transpose, a reshape and one matmul), dot, vdot, inner,
outer, einsum, vecdot, matvec, vecmat and cross, all recorded through the matmul and einsum
primitives of `chainrule.ops.linalg` or elementwise products (kron is in shapes)."""

import warnings

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.errors import ArgumentError, ShapeError
from chainrule.numpy._common import array_dtype, ndim_of, normalize_axis, reject
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.reductions import sum
from chainrule.numpy.shapes import moveaxis, ravel, reshape, stack, transpose
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import linalg as _linalg_ops

__all__ = [
    "tensordot", "dot", "vdot", "inner", "outer", "einsum", "einsum_path", "vecdot", "matvec",
    "vecmat", "cross",
]


def tensordot(a, b, axes=2):
    """Contract `axes` of a with `axes` of b, as a transpose + reshape + matmul."""
    a_shape, b_shape = shape_of(a), shape_of(b)
    if isinstance(axes, (int, np.integer)):
        a_axes = list(range(len(a_shape) - axes, len(a_shape)))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([int(x)] if np.ndim(x) == 0 else [int(i) for i in x] for x in axes)
    a_axes = [x % max(len(a_shape), 1) for x in a_axes]
    b_axes = [x % max(len(b_shape), 1) for x in b_axes]
    if [a_shape[i] for i in a_axes] != [b_shape[i] for i in b_axes]:
        raise ShapeError(
            f"tensordot: contracted axes differ in size: a{list(a_shape)} axes {a_axes} vs "
            f"b{list(b_shape)} axes {b_axes}"
        )
    a_free = [i for i in range(len(a_shape)) if i not in a_axes]
    b_free = [i for i in range(len(b_shape)) if i not in b_axes]
    # Sizes spelled out (no -1), so that empty operands reshape too.
    inner, a_rows, b_columns = (
        int(np.prod([shape[i] for i in kept], dtype=np.int64))
        for shape, kept in ((a_shape, a_axes), (a_shape, a_free), (b_shape, b_free))
    )
    a_matrix = reshape(transpose(a, a_free + a_axes), (a_rows, inner))
    b_matrix = reshape(transpose(b, b_axes + b_free), (inner, b_columns))
    out_shape = tuple(a_shape[i] for i in a_free) + tuple(b_shape[i] for i in b_free)
    return reshape(_linalg_ops.matmul(a_matrix, b_matrix), out_shape)


def dot(a, b, out=None):
    reject("dot", out)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return _elementwise.multiply(a, b)
    if ndim_of(b) <= 2:
        return _linalg_ops.matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def vdot(a, b):
    """sum(conj(a) * b) over the flattened arrays: a is conjugated, as in np.vdot."""
    if array_dtype(a).kind == "c":
        a = _elementwise.conj(a)
    return sum(ravel(a) * ravel(b))


def inner(a, b):
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return _elementwise.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b, out=None):
    reject("outer", out)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def einsum(*operands, out=None, dtype=None, optimize=False, **unused):
    """np.einsum, differentiable: subscripts (implicit or explicit, with '...') or sublists."""
    reject("einsum", out)
    subscripts, arrays = _linalg_ops.einsum_arguments(operands)
    result = _linalg_ops.einsum_call(subscripts, *arrays)
    return result if dtype is None else astype(result, dtype)


def einsum_path(*operands, optimize="greedy", einsum_call=False):
    """NumPy's contraction order for einsum: it reads only the operands' shapes and dtypes."""
    subscripts, arrays = _linalg_ops.einsum_arguments(operands)
    stand_ins = [np.broadcast_to(np.zeros((), array_dtype(a)), shape_of(a)) for a in arrays]
    return np.einsum_path(subscripts, *stand_ins, optimize=optimize, einsum_call=einsum_call)


# ----- the gufunc-style products of NumPy 2 ------------------------------------------------------
def _core_vectors(x1, x2, axis, what):
    """x1 and x2 with their vector axis (`axis` of each) moved last; the sizes must agree."""
    x1 = moveaxis(x1, normalize_axis(axis, ndim_of(x1), what), -1)
    x2 = moveaxis(x2, normalize_axis(axis, ndim_of(x2), what), -1)
    if shape_of(x1)[-1] != shape_of(x2)[-1]:
        raise ShapeError(
            f"{what}: the vectors have {shape_of(x1)[-1]} and {shape_of(x2)[-1]} entries (shapes "
            f"{shape_of(x1)} and {shape_of(x2)} with the vector axis last); they must match"
        )
    return x1, x2


def _conjugated(x):
    return _elementwise.conj(x) if array_dtype(x).kind == "c" else x


def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2) along `axis` of each (batched: the other axes broadcast), as
    np.vecdot: the first vector is conjugated."""
    x1, x2 = _core_vectors(_at_least_1d(x1, "vecdot"), _at_least_1d(x2, "vecdot"), axis,
                           "vecdot")
    return _linalg_ops.einsum_call("...i,...i->...", _conjugated(x1), x2)


def matvec(x1, x2, /):
    """x1 @ x2 for a (stack of) matrices x1 (..., m, n) and vectors x2 (..., n), as np.matvec."""
    if ndim_of(x1) < 2 or ndim_of(x2) < 1 or shape_of(x1)[-1] != shape_of(x2)[-1]:
        raise ShapeError(
            f"matvec: needs matrices (..., m, n) and vectors (..., n), got shapes "
            f"{shape_of(x1)} and {shape_of(x2)}"
        )
    return _linalg_ops.einsum_call("...ij,...j->...i", x1, x2)


def vecmat(x1, x2, /):
    """conj(x1) @ x2 for vectors x1 (..., n) and matrices x2 (..., n, m), as np.vecmat."""
    if ndim_of(x1) < 1 or ndim_of(x2) < 2 or shape_of(x1)[-1] != shape_of(x2)[-2]:
        raise ShapeError(
            f"vecmat: needs vectors (..., n) and matrices (..., n, m), got shapes "
            f"{shape_of(x1)} and {shape_of(x2)}"
        )
    return _linalg_ops.einsum_call("...i,...ij->...j", _conjugated(x1), x2)


def _at_least_1d(x, what):
    if ndim_of(x) == 0:
        raise ShapeError(f"{what}: expected arrays of vectors, got a 0-d operand")
    return x


# ----- cross -------------------------------------------------------------------------------------
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of (arrays of) 3-vectors, as np.cross: bilinear, so each derivative
    is a cross product again. 2-vectors count as 3-vectors with a zero z entry (a pair of them
    gives just the z entry); NumPy 2 deprecates them and so do we."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, normalize_axis(axisa, ndim_of(a), "cross"), -1)
    b = moveaxis(b, normalize_axis(axisb, ndim_of(b), "cross"), -1)
    sizes = (shape_of(a)[-1], shape_of(b)[-1])
    if not set(sizes) <= {2, 3}:
        raise ArgumentError(
            f"cross: incompatible dimensions for cross product: the vectors have {sizes[0]} "
            f"and {sizes[1]} entries (dimension must be 2 or 3)"
        )
    if 2 in sizes:
        warnings.warn(
            "Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional "
            "vectors instead. (deprecated in NumPy 2.0)", DeprecationWarning, stacklevel=3,
        )
    a0, a1, a2 = _components(a)
    b0, b1, b2 = _components(b)
    z = a0 * b1 - a1 * b0
    if sizes == (2, 2):
        return z
    if a2 is None:
        x, y = a1 * b2, -(a0 * b2)
    elif b2 is None:
        x, y = -(a2 * b1), a2 * b0
    else:
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    # Each entry is one of a's times one of b's: they share the broadcast shape.
    result = stack([x, y, z], axis=-1)
    return moveaxis(result, -1, normalize_axis(axisc, ndim_of(result), "cross"))


def _components(v):
    """v[..., 0], v[..., 1] and v[..., 2] (None for a 2-vector)."""
    return v[..., 0], v[..., 1], (v[..., 2] if shape_of(v)[-1] == 3 else None)


wrap_public(globals(), __all__, not_array_first={"einsum", "einsum_path"})
