"""Products of arrays: tensordot (a transpose, a reshape and one matmul), dot, vdot, inner,
outer and einsum, all recorded through the matmul and einsum primitives of
`chainrule.ops.linalg`."""

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.errors import ShapeError
from chainrule.numpy._common import array_dtype, ndim_of, reject
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.reductions import sum
from chainrule.numpy.shapes import ravel, reshape, transpose
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import linalg as _linalg_ops

__all__ = ["tensordot", "dot", "vdot", "inner", "outer", "einsum"]


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
    inner = int(np.prod([a_shape[i] for i in a_axes], dtype=np.int64))
    a_matrix = reshape(transpose(a, a_free + a_axes), (-1, inner))
    b_matrix = reshape(transpose(b, b_axes + b_free), (inner, -1))
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


wrap_public(globals(), __all__, not_array_first={"einsum"})
