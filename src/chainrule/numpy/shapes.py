"""Changing an array's shape: reshape and its relatives (ravel, expand_dims, squeeze, ...),
axis permutations, broadcasting, joining and splitting, flips, rolls, tiling, repeats, padding
and triangles. Each checks its arguments (a ShapeError naming the shapes), then records one
primitive of `chainrule.ops.shape` or composes them."""

import operator

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.core.tensor import Tensor, cast, raw_value
from chainrule.errors import ArgumentError, InputTypeError, ShapeError
from chainrule.numpy._common import (
    array_dtype,
    differentiable,
    ndim_of,
    normalize_axes,
    normalize_axis,
    reject,
)
from chainrule.numpy._explain import allocation_shape, check_numeric, wrap_public
from chainrule.numpy.creation import astype
from chainrule.ops import shape as _shape_ops

__all__ = [
    "shape", "ndim", "size", "reshape", "ravel", "transpose", "permute_dims", "moveaxis",
    "swapaxes", "expand_dims", "squeeze", "atleast_1d", "atleast_2d", "broadcast_to",
    "broadcast_arrays", "concatenate", "concat", "stack", "hstack", "vstack", "row_stack",
    "column_stack", "array_split", "split", "flip", "fliplr", "flipud", "roll", "tile", "repeat",
    "pad", "triu", "tril",
]


def shape(a):
    return tuple(shape_of(a)) if isinstance(a, Tensor) else np.shape(a)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    dims = shape(a)
    if axis is None:
        return int(np.prod(dims, dtype=np.int64))
    return dims[axis]


def reshape(a, shape=None, order="C", *, newshape=None):
    if shape is None:
        shape = newshape
    if order != "C":
        raise ArgumentError(f"reshape: only order='C' is supported, got order={order!r}")
    try:
        new_shape = (
            (operator.index(shape),) if np.ndim(shape) == 0
            else tuple(operator.index(s) for s in shape)
        )
    except (TypeError, ValueError, OverflowError):
        raise InputTypeError(
            f"reshape: the new shape {shape!r} must be an int or a sequence of ints, e.g. (3, -1)"
        ) from None
    return _shape_ops.reshape(a, shape=_resolve_shape(shape_of(a), new_shape))


def _resolve_shape(old_shape, new_shape):
    """Fill in a -1 so the primitive always records a concrete shape."""
    size = int(np.prod(old_shape, dtype=np.int64))
    known = int(np.prod([s for s in new_shape if s != -1], dtype=np.int64))
    unknown = [i for i, s in enumerate(new_shape) if s == -1]
    if len(unknown) == 1 and known and size % known == 0:
        new_shape = tuple(size // known if s == -1 else s for s in new_shape)
    new_size = int(np.prod(new_shape, dtype=np.int64))
    if len(unknown) > 1 or new_size != size or any(s < 0 for s in new_shape):
        raise ShapeError(
            f"reshape: cannot reshape an array of shape {old_shape} (size {size}) into {new_shape}"
        )
    return new_shape


def ravel(a, order="C"):
    return reshape(a, (-1,))


# ----- axes -----------------------------------------------------------------------------------
def transpose(a, axes=None):
    n = ndim_of(a)
    if axes is None:
        axes = tuple(reversed(range(n)))
    else:
        axes = tuple(int(x) % max(n, 1) for x in axes)
    if sorted(axes) != list(range(n)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of {n} dimensions")
    return _shape_ops.transpose(a, axes=axes)


def permute_dims(a, axes=None):
    return transpose(a, axes)


def moveaxis(a, source, destination):
    n = ndim_of(a)
    source = [normalize_axis(s, n, "moveaxis") for s in np.atleast_1d(source)]
    destination = [normalize_axis(d, n, "moveaxis") for d in np.atleast_1d(destination)]
    order = [i for i in range(n) if i not in source]
    if len(source) != len(destination):
        raise ShapeError(
            f"moveaxis: source {source} and destination {destination} name different numbers "
            "of axes; give one destination per source axis"
        )
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return transpose(a, order)


def swapaxes(a, axis1, axis2):
    n = ndim_of(a)
    order = list(range(n))
    i, j = normalize_axis(axis1, n, "swapaxes"), normalize_axis(axis2, n, "swapaxes")
    order[i], order[j] = order[j], order[i]
    return transpose(a, order)


def expand_dims(a, axis):
    n = ndim_of(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = n + len(axes)
    axes = normalize_axes(tuple(axes), out_ndim, "expand_dims")
    old = iter(shape_of(a))
    new_shape = tuple(1 if i in axes else next(old) for i in range(out_ndim))
    return _shape_ops.reshape(a, shape=new_shape)


def squeeze(a, axis=None):
    old_shape = shape_of(a)
    if axis is None:
        axes = tuple(i for i, s in enumerate(old_shape) if s == 1)
    else:
        axes = normalize_axes(axis, len(old_shape), "squeeze")
        for i in axes:
            if old_shape[i] != 1:
                raise ShapeError(
                    f"squeeze: axis {i} has size {old_shape[i]}, not 1 (shape {old_shape})"
                )
    return _shape_ops.reshape(a, shape=tuple(s for i, s in enumerate(old_shape) if i not in axes))


def atleast_1d(a):
    return a if ndim_of(a) >= 1 else reshape(a, (1,))


def atleast_2d(a):
    n = ndim_of(a)
    return a if n >= 2 else reshape(a, (1, -1) if n == 1 else (1, 1))


def broadcast_to(array, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _shape_ops.broadcast_to(array, shape=shape)


def broadcast_arrays(*args):
    target = np.broadcast_shapes(*(shape_of(a) for a in args))
    return [broadcast_to(a, target) for a in args]


# ----- joining and splitting ------------------------------------------------------------------
def concatenate(arrays, axis=0, out=None, dtype=None):
    reject("concatenate", out)
    arrays = _array_list(arrays, "concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    shapes = [shape_of(a) for a in arrays]
    if min(len(s) for s in shapes) == 0:
        raise ShapeError(
            f"concatenate: 0-d inputs (shapes {shapes}) cannot be joined along an axis; "
            "use stack, or make them 1-d with atleast_1d"
        )
    axis = normalize_axis(axis, len(shapes[0]), "concatenate")
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or _differ_outside(s, shapes[0], axis):
            raise ShapeError(
                f"concatenate: shapes {shapes} differ outside axis {axis}; all inputs must match "
                "except along the joining axis"
            )
    result = _shape_ops.concatenate(*arrays, axis=axis, sizes=tuple(s[axis] for s in shapes))
    return result if dtype is None else astype(result, dtype)


concat = concatenate


def _differ_outside(shape, other, axis) -> bool:
    pairs = enumerate(zip(shape, other, strict=True))
    return any(x != y for i, (x, y) in pairs if i != axis)


def _array_list(arrays, what):
    """`arrays` (a sequence of arrays) as a non-empty list, or an error saying what to pass."""
    if not hasattr(arrays, "__iter__") or isinstance(arrays, (str, bytes)) or (
        not isinstance(arrays, (list, tuple)) and np.ndim(raw_value(arrays)) == 0
    ):
        raise InputTypeError(
            f"{what}: expected a sequence of arrays (a list or tuple), got "
            f"{type(arrays).__name__}; pass e.g. [a, b]"
        )
    arrays = list(arrays)
    if not arrays:
        raise ShapeError(f"{what}: needs at least one array to join, got an empty sequence")
    for array in arrays:
        check_numeric(array, what)
    return arrays


def stack(arrays, axis=0, out=None):
    reject("stack", out)
    arrays = _array_list(arrays, "stack")
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all inputs must have the same shape, got {sorted(shapes)}")
    axis = int(axis) % (ndim_of(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(tup):
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


def vstack(tup):
    return concatenate([atleast_2d(a) for a in tup], axis=0)


row_stack = vstack


def column_stack(tup):
    arrays = [reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup]
    return concatenate(arrays, axis=1)


def array_split(ary, indices_or_sections, axis=0):
    n = shape_of(ary)[axis]
    axis = normalize_axis(axis, ndim_of(ary), "array_split")
    pieces = np.array_split(np.arange(n), indices_or_sections)
    lead = (slice(None),) * axis
    return [
        ary[lead + (slice(int(p[0]), int(p[-1]) + 1),)] if len(p) else ary[lead + (slice(0, 0),)]
        for p in pieces
    ]


def split(ary, indices_or_sections, axis=0):
    sections = indices_or_sections
    if isinstance(sections, (int, np.integer)) and shape_of(ary)[axis] % sections:
        raise ShapeError(
            f"split: axis {axis} of length {shape_of(ary)[axis]} does not divide into "
            f"{indices_or_sections} equal parts; use array_split for unequal parts"
        )
    return array_split(ary, indices_or_sections, axis)


# ----- rearranging and growing ----------------------------------------------------------------
def flip(m, axis=None):
    return _shape_ops.flip(m, axis=normalize_axes(axis, ndim_of(m), "flip"))


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    if isinstance(shift, (list, tuple)):
        shift = tuple(int(s) for s in shift)
        axis = tuple(int(x) for x in axis)
    else:
        shift, axis = int(shift), int(axis)
    return _shape_ops.roll(a, shift=shift, axis=axis)


def tile(A, reps):  # noqa: N803 - NumPy's argument name
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    a_shape = shape_of(A)
    d = max(len(reps), len(a_shape))
    reps = (1,) * (d - len(reps)) + reps
    a_shape = (1,) * (d - len(a_shape)) + a_shape
    out_shape = allocation_shape(
        tuple(r * s for r, s in zip(reps, a_shape, strict=True)), array_dtype(A), "tile"
    )
    interleaved = tuple(x for s in a_shape for x in (1, s))
    spread = tuple(x for r, s in zip(reps, a_shape, strict=True) for x in (r, s))
    return reshape(broadcast_to(reshape(A, interleaved), spread), out_shape)


def repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, ndim_of(a), "repeat")
    a_shape = shape_of(a)
    counts = np.asarray(raw_value(repeats))
    if counts.dtype.kind not in "iub" or counts.ndim > 1 or np.any(counts < 0):
        raise ArgumentError(
            f"repeat: repeats must be a non-negative int or a 1-d sequence of them, got "
            f"{repeats!r}"
        )
    length = int(counts.sum()) if counts.ndim else int(counts) * a_shape[axis]
    allocation_shape(a_shape[:axis] + (length,) + a_shape[axis + 1:], array_dtype(a), "repeat")
    source = np.repeat(np.arange(a_shape[axis]), counts)
    return a[(slice(None),) * axis + (source,)]


def pad(array, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise ArgumentError(f"pad: mode={mode!r} is not supported; only mode='constant' is")
    n = ndim_of(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (n, 2))
    widths = tuple((int(before), int(after)) for before, after in widths)
    padded = tuple(
        s + before + after for s, (before, after) in zip(shape_of(array), widths, strict=True)
    )
    allocation_shape(padded, array_dtype(array), "pad")
    if differentiable(constant_values):
        return _pad_with_differentiable_constant(array, widths, constant_values)
    return _shape_ops.pad(
        array, pad_width=widths, constant_values=float(raw_value(constant_values))
    )


def _pad_with_differentiable_constant(array, widths, constant_values):
    """Pad with zeros, then add the constant on the border, so the constant records (its
    derivative is the sum of the cotangent over the border)."""
    if ndim_of(constant_values) != 0:
        raise ArgumentError(
            f"pad: a differentiable constant_values must be a single number, got shape "
            f"{shape_of(constant_values)}; pad one axis at a time to use different values"
        )
    dtype = array_dtype(array)
    border = np.pad(np.zeros(shape_of(array), dtype), widths, constant_values=1)
    padded = _shape_ops.pad(array, pad_width=widths, constant_values=0.0)
    return padded + cast(constant_values, dtype) * border


def triu(m, k=0):
    return _shape_ops.triu(m, k=int(k))


def tril(m, k=0):
    return _shape_ops.tril(m, k=int(k))


wrap_public(
    globals(), __all__,
    not_array_first={
        "shape", "ndim", "size", "concatenate", "concat", "stack", "hstack", "vstack",
        "row_stack", "column_stack", "broadcast_arrays",
    },
)
