"""Changing an array's shape: reshape and its relatives (ravel, expand_dims, squeeze, ...),
axis permutations, broadcasting, joining and splitting, flips, rotations, rolls, tiling,
repeats, padding, inserting and deleting, triangles, and the differences along an axis (diff,
gradient). Each checks its arguments (a ShapeError naming the shapes), then records primitives
of `chainrule.ops.shape`, so every one is differentiable in both modes and batches under vmap.

Functions that move entries around by NumPy's rules (insert, delete, resize, compress, pad's
edge modes) let NumPy apply those rules to the entries' *positions* (a plain array of labels)
and then gather the entries at those positions: NumPy's exact behaviour and errors, and one
recorded getitem whose derivative scatters the cotangent back.
"""

import math
import operator
import re

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import TRACED_TYPES, holds_tensor, stack_values
from chainrule.core.tensor import Tensor, cast, raw_value
from chainrule.errors import (
    ArgumentError,
    BatchingError,
    InputTypeError,
    ShapeError,
)
from chainrule.numpy._common import (
    array_dtype,
    differentiable,
    ndim_of,
    normalize_axes,
    normalize_axis,
    reject,
)
from chainrule.numpy._explain import allocation_shape, check_numeric, wrap_public
from chainrule.ops import shape as _shape_ops
from chainrule.ops._rules import const

__all__ = [
    "shape", "ndim", "size", "reshape", "ravel", "expand_dims", "squeeze",
    "atleast_1d", "atleast_2d", "atleast_3d", "transpose", "permute_dims", "matrix_transpose",
    "moveaxis", "rollaxis", "swapaxes", "broadcast_to", "broadcast_arrays", "concatenate",
    "concat", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack", "block",
    "append", "array_split", "split", "hsplit", "vsplit", "dsplit", "unstack", "flip", "fliplr",
    "flipud", "rot90", "roll", "tile", "repeat", "resize", "pad", "insert", "delete",
    "trim_zeros", "triu", "tril", "diff", "ediff1d", "gradient", "kron", "apply_along_axis",
    "apply_over_axes", "vectorize",
]

_NO_VALUE = np._NoValue  # NumPy's marker for "not given" (diff's prepend= and append=)


# ----- helpers shared by this module and the other topic modules ------------------------------
def as_array(a):
    """`a` as an array: a Tensor or traced value as it is, a list holding Tensors stacked (so
    it records), anything else through NumPy."""
    if type(a) in TRACED_TYPES:
        return a
    if isinstance(a, (list, tuple)) and holds_tensor(a):
        return stack_values(a)
    return np.asarray(a)


def traced(value) -> bool:
    return type(value) in TRACED_TYPES


def gather(a, labels):
    """The entries of `a` at the flat positions `labels` (a plain int array), recorded."""
    return _shape_ops.getitem(ravel(a), index=(np.asarray(labels, dtype=np.intp),))


def positions(a):
    """Each entry's flat position, in `a`'s shape: what NumPy's rearranging functions are
    applied to, to find where each entry goes."""
    return np.arange(size(a), dtype=np.intp).reshape(shape_of(a))


def plain_for_shape(value, what):
    """The plain value of `value` where the result's shape depends on it (trim_zeros, compress,
    a mask): under grad or jvp it has one, under vmap each example has its own."""
    value = const(value)
    if traced(value):
        raise BatchingError(
            f"cnp.{what}: the shape of the result depends on the values of an argument batched "
            f"by cr.{value._trace.name}, so each example could get a different shape and the "
            "results would not stack. Pass that argument unbatched (in_axes=None), call the "
            "function outside the vmapped one, or use cnp.where for a result of fixed shape."
        )
    return value


def _sequence(arrays, what):
    """`arrays` (a sequence of arrays) as a list, or an error saying what to pass."""
    if not hasattr(arrays, "__getitem__") or isinstance(arrays, (str, bytes)) or (
        not isinstance(arrays, (list, tuple)) and ndim_of(arrays) == 0
    ):
        raise InputTypeError(
            f"{what}: expected a sequence of arrays (a list or tuple), got "
            f"{type(arrays).__name__}; pass e.g. [a, b]"
        )
    return list(arrays)


def _array_list(arrays, what):
    """`arrays` as a non-empty list of numeric arrays, or an error saying what to pass."""
    arrays = _sequence(arrays, what)
    if not arrays:
        raise ShapeError(f"{what}: needs at least one array to join, got an empty sequence")
    for array in arrays:
        check_numeric(array, what)
    return arrays


def _axis_list(axes, n, what):
    """`axes` (an int or a sequence) as a list of non-negative axes, in the order given."""
    axes = [operator.index(a) for a in np.atleast_1d(np.asarray(axes, dtype=object))]
    normalized = [normalize_axis(a, n, what) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{what}: repeated axis in {axes}")
    return normalized


# ----- facts about shapes ---------------------------------------------------------------------
def shape(a):
    return tuple(shape_of(a)) if isinstance(a, Tensor) else np.shape(a)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    dims = shape(a)
    if axis is None:
        return int(np.prod(dims, dtype=np.int64))
    return dims[axis]


# ----- reshaping ------------------------------------------------------------------------------
def reshape(a, shape=None, order="C", *, newshape=None):
    if shape is None:
        shape = newshape
    if order != "C":
        raise ArgumentError(f"reshape: only order='C' is supported, got order={order!r}")
    try:
        new_shape = (
            tuple(_size(s) for s in shape)
            if type(shape) is tuple or type(shape) is list or np.ndim(shape) != 0
            else (_size(shape),)
        )
    except (TypeError, ValueError, OverflowError):
        raise InputTypeError(
            f"reshape: the new shape {shape!r} must be an int or a sequence of ints, e.g. (3, -1)"
        ) from None
    return _shape_ops.reshape(a, shape=_resolve_shape(shape_of(a), new_shape))


def _size(entry) -> int:
    """One entry of a shape as an int; a bool is refused, as NumPy does."""
    if isinstance(entry, (bool, np.bool_)):
        raise TypeError("a bool is not a size")
    return operator.index(entry)


def _resolve_shape(old_shape, new_shape):
    """Fill in a -1 so the primitive always records a concrete shape. (NumPy also reads other
    negative sizes as the unknown one, undocumented; here they are refused as the typos they
    usually are.)"""
    # (math.prod: exact Python ints, and without np.prod's array conversions, which cost more
    # than the reshape of a small tensor)
    size = math.prod(old_shape)
    known = math.prod(s for s in new_shape if s != -1)
    unknown = [i for i, s in enumerate(new_shape) if s == -1]
    if len(unknown) == 1 and known and size % known == 0:
        new_shape = tuple(size // known if s == -1 else s for s in new_shape)
    new_size = math.prod(new_shape)
    if len(unknown) > 1 or new_size != size or any(s < 0 for s in new_shape):
        raise ShapeError(
            f"reshape: cannot reshape an array of shape {old_shape} (size {size}) into {new_shape}"
        )
    return new_shape


def ravel(a, order="C"):
    return reshape(a, (-1,))


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


def with_ndmin(a, ndmin):
    """`a` with ones prepended to its shape up to `ndmin` dimensions (NumPy's ndmin=)."""
    a = as_array(a)
    missing = ndmin - ndim_of(a)
    return a if missing <= 0 else reshape(a, (1,) * missing + tuple(shape_of(a)))


# How atleast_nd places a smaller array's axes: 0-d, 1-d (N,) and 2-d (M, N) become...
_AT_LEAST = {
    1: {0: lambda s: (1,)},
    2: {0: lambda s: (1, 1), 1: lambda s: (1,) + s},
    3: {0: lambda s: (1, 1, 1), 1: lambda s: (1,) + s + (1,), 2: lambda s: s + (1,)},
}


def _at_least(a, n):
    a = as_array(a)
    placement = _AT_LEAST[n].get(ndim_of(a))
    return a if placement is None else reshape(a, placement(tuple(shape_of(a))))


def _each(n):
    def at_least(*arys):
        results = tuple(_at_least(a, n) for a in arys)
        return results[0] if len(results) == 1 else results

    at_least.__name__ = at_least.__qualname__ = f"atleast_{n}d"
    return at_least


atleast_1d, atleast_2d, atleast_3d = _each(1), _each(2), _each(3)


# ----- axes -----------------------------------------------------------------------------------
def transpose(a, axes=None):
    n = ndim_of(a)
    if axes is None:
        return _shape_ops.transpose(a, axes=tuple(reversed(range(n))))
    axes = [operator.index(x) for x in np.atleast_1d(np.asarray(axes, dtype=object))]
    normalized = [normalize_axis(x, n, "transpose") for x in axes]
    if sorted(normalized) != list(range(n)):
        raise ShapeError(f"transpose: axes {tuple(axes)} are not a permutation of {n} dimensions")
    return _shape_ops.transpose(a, axes=tuple(normalized))


def permute_dims(a, axes=None):
    return transpose(a, axes)


def matrix_transpose(x, /):
    if ndim_of(x) < 2:
        raise ShapeError(
            f"matrix_transpose: the input must be at least 2-d (a stack of matrices), got "
            f"shape {shape_of(x)}"
        )
    return swapaxes(x, -1, -2)


def moveaxis(a, source, destination):
    n = ndim_of(a)
    source = _axis_list(source, n, "moveaxis")
    destination = _axis_list(destination, n, "moveaxis")
    if len(source) != len(destination):
        raise ShapeError(
            f"moveaxis: source {source} and destination {destination} name different numbers "
            "of axes; give one destination per source axis"
        )
    order = [i for i in range(n) if i not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return _shape_ops.transpose(a, axes=tuple(order))


def rollaxis(a, axis, start=0):
    n = ndim_of(a)
    axis = normalize_axis(axis, n, "rollaxis")
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise ShapeError(
            f"rollaxis: 'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in"
        )
    if axis < start:
        start -= 1
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return _shape_ops.transpose(a, axes=tuple(order))


def swapaxes(a, axis1, axis2):
    n = ndim_of(a)
    order = list(range(n))
    i, j = normalize_axis(axis1, n, "swapaxes"), normalize_axis(axis2, n, "swapaxes")
    order[i], order[j] = order[j], order[i]
    return _shape_ops.transpose(a, axes=tuple(order))


# ----- broadcasting ---------------------------------------------------------------------------
def broadcast_to(array, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _shape_ops.broadcast_to(array, shape=shape)


def broadcast_arrays(*args):
    target = np.broadcast_shapes(*(shape_of(a) for a in args))
    return tuple(broadcast_to(a, target) for a in args)


# ----- joining --------------------------------------------------------------------------------
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    reject("concatenate", out)
    arrays = [as_array(a) for a in _array_list(arrays, "concatenate")]
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
    if dtype is None:
        return result
    for array in arrays:
        if not np.can_cast(dtype_of(array), dtype, casting=casting):
            raise InputTypeError(
                f"concatenate: cannot cast array data from {dtype_of(array)} to "
                f"{np.dtype(dtype)} according to the rule {casting!r}"
            )
    return cast(result, dtype)


def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return concatenate(arrays, axis, out, dtype=dtype, casting=casting)


def _differ_outside(shape, other, axis) -> bool:
    pairs = enumerate(zip(shape, other, strict=True))
    return any(x != y for i, (x, y) in pairs if i != axis)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    reject("stack", out)
    arrays = [as_array(a) for a in _array_list(arrays, "stack")]
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all inputs must have the same shape, got {sorted(shapes)}")
    axis = normalize_axis(axis, ndim_of(arrays[0]) + 1, "stack")
    return concatenate([expand_dims(a, axis) for a in arrays], axis, dtype=dtype, casting=casting)


def hstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [_at_least(a, 1) for a in _array_list(tup, "hstack")]
    axis = 0 if ndim_of(arrays[0]) == 1 else 1
    return concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [_at_least(a, 2) for a in _array_list(tup, "vstack")]
    return concatenate(arrays, 0, dtype=dtype, casting=casting)


def row_stack(tup, *, dtype=None, casting="same_kind"):
    return vstack(tup, dtype=dtype, casting=casting)


def dstack(tup):
    return concatenate([_at_least(a, 3) for a in _array_list(tup, "dstack")], axis=2)


def column_stack(tup):
    arrays = [as_array(a) for a in _array_list(tup, "column_stack")]
    columns = [reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in arrays]
    return concatenate(columns, axis=1)


def block(arrays):
    """NumPy's block: nested lists of arrays, the innermost lists joined along the last axis,
    the next ones along the one before, ..."""
    depth, max_ndim = _block_layout(arrays)
    return _block_join(arrays, depth, max(depth, max_ndim))


def _block_layout(arrays):
    """(depth of the list nesting, the largest ndim among the blocks), after checking the
    nesting is regular as NumPy does (lists only, none empty, every block at one depth)."""
    depths, max_ndim, pending = set(), 0, [(arrays, ())]
    while pending:
        item, where = pending.pop()
        if isinstance(item, tuple):
            raise InputTypeError(
                f"block: arrays{_at(where)} is a tuple. Only lists can be used to arrange "
                "blocks, and block does not allow implicit conversion from tuple to ndarray"
            )
        if isinstance(item, list):
            if not item:
                raise ShapeError(f"block: the list at arrays{_at(where)} cannot be empty")
            pending.extend((entry, (*where, i)) for i, entry in enumerate(item))
            continue
        depths.add(len(where))
        max_ndim = max(max_ndim, ndim_of(as_array(item)))
    if len(depths) > 1:
        raise ShapeError(
            f"block: list depths are mismatched: blocks sit at depths {sorted(depths)}; every "
            "block must be nested in the same number of lists"
        )
    return depths.pop(), max_ndim


def _at(where):
    return "".join(f"[{i}]" for i in where)


def _block_join(item, depth, result_ndim):
    if not isinstance(item, list):
        return with_ndmin(item, result_ndim)
    # A list `depth` levels above the blocks joins them along axis -depth.
    return concatenate([_block_join(entry, depth - 1, result_ndim) for entry in item], -depth)


def append(arr, values, axis=None):
    arr, values = as_array(arr), as_array(values)
    if axis is None:
        arr, values, axis = ravel(arr), ravel(values), 0
    return concatenate((arr, values), axis=axis)


# ----- splitting ------------------------------------------------------------------------------
def array_split(ary, indices_or_sections, axis=0):
    ary = as_array(ary)
    axis = normalize_axis(axis, ndim_of(ary), "array_split")
    # NumPy's partition of the positions along the axis: each piece is a contiguous run.
    pieces = np.array_split(np.arange(shape_of(ary)[axis]), indices_or_sections)
    lead = (slice(None),) * axis
    return [
        ary[lead + (slice(int(p[0]), int(p[-1]) + 1),)] if len(p) else ary[lead + (slice(0, 0),)]
        for p in pieces
    ]


def split(ary, indices_or_sections, axis=0):
    try:
        len(indices_or_sections)
    except TypeError:
        length = shape_of(ary)[normalize_axis(axis, ndim_of(ary), "split")]
        if length % indices_or_sections:
            raise ShapeError(
                f"split: axis {axis} of length {length} does not divide into "
                f"{indices_or_sections} equal parts; use array_split for unequal parts"
            ) from None
    return array_split(ary, indices_or_sections, axis)


def _split_along(name, axis, min_ndim):
    def split_along(ary, indices_or_sections):
        n = ndim_of(ary)
        if n < min_ndim:
            raise ShapeError(
                f"{name} only works on arrays of {min_ndim} or more dimensions, got shape "
                f"{shape_of(ary)}"
            )
        return split(ary, indices_or_sections, axis if axis is not None else int(n > 1))

    split_along.__name__ = split_along.__qualname__ = name
    return split_along


hsplit = _split_along("hsplit", None, 1)
vsplit = _split_along("vsplit", 0, 2)
dsplit = _split_along("dsplit", 2, 3)


def unstack(x, /, *, axis=0):
    n = ndim_of(x)
    if n == 0:
        raise ShapeError("unstack: the input must be at least 1-d, got a 0-d array")
    axis = normalize_axis(axis, n, "unstack")
    lead = (slice(None),) * axis
    return tuple(x[lead + (i,)] for i in range(shape_of(x)[axis]))


# ----- rearranging ----------------------------------------------------------------------------
def flip(m, axis=None):
    return _shape_ops.flip(m, axis=normalize_axes(axis, ndim_of(m), "flip"))


def fliplr(m):
    if ndim_of(m) < 2:
        raise ShapeError(f"fliplr: the input must be at least 2-d, got shape {shape_of(m)}")
    return flip(m, 1)


def flipud(m):
    if ndim_of(m) < 1:
        raise ShapeError("flipud: the input must be at least 1-d, got a 0-d array")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    axes = tuple(axes)
    if len(axes) != 2:
        raise ArgumentError(f"rot90: len(axes) must be 2, got axes={axes}")
    m = as_array(m)
    n = ndim_of(m)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == n:
        raise ShapeError(f"rot90: axes must be different, got axes={axes}")
    if not all(-n <= a < n for a in axes):
        raise ShapeError(f"rot90: axes={axes} are out of range for an array of {n} dimensions")
    k = operator.index(k) % 4
    first, second = axes
    if k == 0:
        return m[...]
    if k == 2:
        return flip(flip(m, first), second)
    order = list(range(n))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return transpose(flip(m, second), order)
    return flip(transpose(m, order), second)


def roll(a, shift, axis=None):
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    n = ndim_of(a)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    if shifts.ndim > 1:
        raise ArgumentError(f"roll: shift {shift!r} and axis {axis!r} must be ints or 1-d")
    total = {}
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist(), strict=True):
        ax = normalize_axis(operator.index(ax), n, "roll")
        total[ax] = total.get(ax, 0) + operator.index(s)
    if np.ndim(shift) == 0 and np.ndim(axis) == 0:
        ((ax, s),) = total.items()
        return _shape_ops.roll(a, shift=s, axis=ax)
    return _shape_ops.roll(a, shift=tuple(total.values()), axis=tuple(total))


def tile(A, reps):  # noqa: N803 - NumPy's argument name
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    A = as_array(A)  # noqa: N806
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
    a = as_array(a)
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
    length = int(counts.sum()) if counts.size > 1 else int(counts.sum()) * a_shape[axis]
    allocation_shape(a_shape[:axis] + (length,) + a_shape[axis + 1:], array_dtype(a), "repeat")
    source = np.repeat(np.arange(a_shape[axis]), counts)
    return a[(slice(None),) * axis + (source,)]


def resize(a, new_shape):
    a = as_array(a)
    new_shape = (new_shape,) if np.ndim(new_shape) == 0 else tuple(new_shape)
    if any(operator.index(s) < 0 for s in new_shape):
        raise ShapeError(f"resize: all entries of new_shape {new_shape} must be non-negative")
    new_shape = allocation_shape(new_shape, array_dtype(a), "resize")
    if size(a) == 0:
        return np.zeros(new_shape, dtype_of(a))  # NumPy fills with zeros: nothing to repeat
    return gather(a, np.resize(positions(a), new_shape))


_LABEL_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    array = as_array(array)
    n = ndim_of(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (n, 2))
    widths = tuple((int(before), int(after)) for before, after in widths)
    padded = tuple(
        s + before + after for s, (before, after) in zip(shape_of(array), widths, strict=True)
    )
    allocation_shape(padded, array_dtype(array), "pad")
    _check_pad_options(mode, kwargs)
    if mode in _STATISTICS:
        return _pad_by_statistic(array, widths, mode, kwargs.get("stat_length"))
    if mode == "linear_ramp":
        return _pad_by_ramp(array, widths, kwargs.get("end_values", 0))
    if mode == "empty":  # NumPy leaves the border unset: any value will do, zero is one
        return _shape_ops.pad(array, pad_width=widths, constant_values=0.0)
    if mode in _LABEL_PAD_MODES:
        if kwargs.get("reflect_type", "even") != "even" or set(kwargs) - {"reflect_type"}:
            raise ArgumentError(
                f"pad: mode={mode!r} is supported with its default options only, got {kwargs}"
            )
        # Each padded entry copies an entry of `array`: NumPy finds which, on the positions.
        return gather(array, np.pad(positions(array), widths, mode=mode))
    constant_values = kwargs.get("constant_values", 0)
    if differentiable(constant_values):
        return _pad_with_differentiable_constant(array, widths, constant_values)
    return _shape_ops.pad(
        array, pad_width=widths, constant_values=float(raw_value(constant_values))
    )


_STATISTICS = {"maximum": "max", "minimum": "min", "mean": "mean", "median": "median"}
_PAD_OPTIONS = {
    "constant": {"constant_values"}, "edge": set(), "wrap": set(), "empty": set(),
    "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}, "linear_ramp": {"end_values"},
    **{mode: {"stat_length"} for mode in _STATISTICS},
}


def _check_pad_options(mode, kwargs):
    if mode not in _PAD_OPTIONS:
        raise ArgumentError(
            f"pad: mode={mode!r} is not supported (a function as mode neither); use one of "
            f"{sorted(_PAD_OPTIONS)}"
        )
    unknown = set(kwargs) - _PAD_OPTIONS[mode]
    if unknown:
        raise ArgumentError(f"pad: unsupported keyword arguments for mode {mode!r}: {unknown}")
    if kwargs.get("reflect_type", "even") != "even":
        raise ArgumentError(
            f"pad: reflect_type={kwargs['reflect_type']!r} is not supported, only 'even'"
        )


def _per_axis(values, n):
    """pad's per-axis (before, after) pairs of an option (stat_length, end_values), as NumPy
    broadcasts them; None stays None."""
    if values is None:
        return [(None, None)] * n
    if traced(values) or holds_tensor([values]):  # differentiable end values: pairs recorded
        pairs = broadcast_to(as_array(values), (n, 2))
        return [(pairs[axis, 0], pairs[axis, 1]) for axis in range(n)]
    pairs = np.broadcast_to(np.asarray(values, dtype=object), (n, 2))
    return [tuple(pair) for pair in pairs.tolist()]


def _pad_by_statistic(array, widths, mode, stat_length):
    """Each axis in turn (as NumPy: the earlier axes already padded) gets the statistic of
    its first and last `stat_length` entries (all by default) on each side."""
    from chainrule.numpy import reductions, statistics  # they import this module

    statistic = getattr(statistics if mode == "median" else reductions, _STATISTICS[mode])
    dtype = array_dtype(array)
    for axis, (before, after), lengths in zip(
        range(ndim_of(array)), widths, _per_axis(stat_length, ndim_of(array)),
        strict=True,
    ):
        if before == after == 0:
            continue
        length = shape_of(array)[axis]
        first, last = (length if n is None else min(operator.index(n), length) for n in lengths)
        if 0 in (first, last) and mode in ("maximum", "minimum"):
            raise ArgumentError("pad: stat_length of 0 yields no value for padding")
        lead = (slice(None),) * axis
        sides = [
            _spread(_stat_of(statistic, array[lead + (part,)], axis, dtype), axis, width)
            for part, width in ((slice(0, first), before), (slice(length - last, length), after))
        ]
        array = concatenate([sides[0], array, sides[1]], axis)
    return array


def _stat_of(statistic, part, axis, dtype):
    value = statistic(part, axis=axis, keepdims=True)
    if dtype.kind in "iub" and array_dtype(value).kind not in "iub":  # NumPy rounds the mean
        from chainrule.numpy.elementwise import around

        value = cast(around(value), dtype)
    return value


def _spread(value, axis, width):
    """`value` (length 1 along `axis`) repeated `width` times along it."""
    target = list(shape_of(value))
    target[axis] = width
    return broadcast_to(value, tuple(target))


def _pad_by_ramp(array, widths, end_values):
    """Each axis in turn gets a linear ramp from its end value to the edge entry (the edge
    itself excluded), on each side: NumPy's linear_ramp."""
    from chainrule.numpy.creation import linspace  # it imports this module

    dtype = array_dtype(array)
    for axis, (before, after), ends in zip(
        range(ndim_of(array)), widths, _per_axis(end_values, ndim_of(array)),
        strict=True,
    ):
        lead = (slice(None),) * axis
        edges = (array[lead + (0,)], array[lead + (-1,)])
        ramps = [
            linspace(end, edge, num=width, endpoint=False, dtype=dtype, axis=axis)
            for end, edge, width in zip(ends, edges, (before, after), strict=True)
        ]
        array = concatenate([ramps[0], array, flip(ramps[1], axis)], axis)
    return array


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


def insert(arr, obj, values, axis=None):
    arr, values = as_array(arr), as_array(values)
    dtype = dtype_of(arr)
    offset = size(arr)
    value_positions = offset + np.arange(size(values), dtype=np.intp).reshape(shape_of(values))
    # NumPy inserts the values' positions among the array's (its broadcasting, its errors).
    labels = np.insert(positions(arr), _plain_obj(obj, "insert"), value_positions, axis=axis)
    pool = concatenate([ravel(arr), ravel(cast(values, dtype))])
    return _shape_ops.getitem(pool, index=(labels,))


def delete(arr, obj, axis=None):
    arr = as_array(arr)
    return gather(arr, np.delete(positions(arr), _plain_obj(obj, "delete"), axis=axis))


def _plain_obj(obj, what):
    """insert's and delete's `obj` (a slice, an int or a sequence of them) as plain values."""
    if isinstance(obj, slice):
        return obj
    if isinstance(obj, (list, tuple)) and holds_tensor(obj):
        obj = stack_values(obj)
    return raw_value(plain_for_shape(obj, what))


def trim_zeros(filt, trim="fb", axis=None):
    if not traced(filt):
        return np.trim_zeros(filt, trim, axis)  # lists stay lists, as NumPy's do
    value = np.asarray(raw_value(plain_for_shape(filt, "trim_zeros")))
    return filt[_trimmed_box(value, trim, axis)]


def _trimmed_box(value, trim, axis):
    """The slices of `value` that NumPy's trim_zeros keeps: the smallest box holding every
    nonzero entry, cut on the sides `trim` names, along the axes `axis` names."""
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ArgumentError(f"trim_zeros: unexpected character(s) in `trim`: {trim!r}")
    n = value.ndim
    axes = range(n) if axis is None else normalize_axes(axis, n, "trim_zeros")
    nonzero = np.argwhere(value)
    if nonzero.size == 0:  # all zeros: an empty box
        starts = stops = [0] * n
    else:
        starts = nonzero.min(axis=0) if "f" in trim else [None] * n
        stops = nonzero.max(axis=0) + 1 if "b" in trim else [None] * n
    return tuple(
        slice(starts[i], stops[i]) if i in axes else slice(None) for i in range(n)
    )


def triu(m, k=0):
    return _shape_ops.triu(m, k=int(k))


def tril(m, k=0):
    return _shape_ops.tril(m, k=int(k))


# ----- differences and products along axes ---------------------------------------------------
def diff(a, n=1, axis=-1, prepend=_NO_VALUE, append=_NO_VALUE):
    if n == 0:
        return a
    n = operator.index(n)
    if n < 0:
        raise ArgumentError(f"diff: order must be non-negative but got {n}")
    a = as_array(a)
    if ndim_of(a) == 0:
        raise ShapeError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, ndim_of(a), "diff")
    combined = [_edge(value, a, axis) for value in (prepend,) if value is not _NO_VALUE]
    combined += [a] + [_edge(value, a, axis) for value in (append,) if value is not _NO_VALUE]
    if len(combined) > 1:
        a = concatenate(combined, axis)
    lead = (slice(None),) * axis
    later, earlier = lead + (slice(1, None),), lead + (slice(None, -1),)
    for _ in range(n):
        a = a[later] != a[earlier] if dtype_of(a) == np.bool_ else a[later] - a[earlier]
    return a


def _edge(value, a, axis):
    """diff's prepend/append: a scalar is broadcast to one slice along `axis`."""
    value = as_array(value)
    if ndim_of(value) == 0:
        value_shape = list(shape_of(a))
        value_shape[axis] = 1
        value = broadcast_to(value, tuple(value_shape))
    return value


def ediff1d(ary, to_end=None, to_begin=None):
    ary = ravel(as_array(ary))
    dtype = dtype_of(ary)
    differences = ary[1:] - ary[:-1]
    if to_begin is None and to_end is None:
        return differences
    pieces = [_ediff1d_end(to_begin, dtype, "to_begin"), differences,
              _ediff1d_end(to_end, dtype, "to_end")]
    return cast(concatenate([p for p in pieces if p is not None]), dtype)


def _ediff1d_end(value, dtype, name):
    if value is None:
        return None
    value = as_array(value)
    if not np.can_cast(dtype_of(value), dtype, casting="same_kind"):
        raise InputTypeError(
            f"ediff1d: dtype of `{name}` ({dtype_of(value)}) must be compatible with input "
            f"`ary` ({dtype}) under the `same_kind` rule"
        )
    return ravel(value)


def gradient(f, *varargs, axis=None, edge_order=1):
    """NumPy's gradient: central differences inside, one-sided (first or second order) at the
    edges; spacings are scalars or 1-d coordinates (Tensors record too)."""
    f = as_array(f)
    n = ndim_of(f)
    axes = tuple(range(n)) if axis is None else tuple(_axis_list(axis, n, "gradient"))
    spacings = _spacings(f, axes, varargs)
    if edge_order > 2:
        raise ArgumentError(
            f"gradient: 'edge_order' greater than 2 not supported, got {edge_order}"
        )
    out_dtype = dtype_of(f)
    if out_dtype.kind not in "fc":
        f, out_dtype = (cast(f, np.float64) if out_dtype.kind in "iu" else f), np.dtype(np.float64)
    for ax in axes:
        if shape_of(f)[ax] < edge_order + 1:
            raise ShapeError(
                "gradient: shape of array too small to calculate a numerical gradient, at least "
                f"(edge_order + 1) = {edge_order + 1} elements are required along axis {ax}, "
                f"got shape {shape_of(f)}"
            )
    results = tuple(
        cast(_gradient_along(f, ax, dx, edge_order), out_dtype)
        for ax, dx in zip(axes, spacings, strict=True)
    )
    return results[0] if len(results) == 1 else results


def _spacings(f, axes, varargs):
    """One spacing per axis: a scalar, or the differences of 1-d coordinates (one scalar if
    plain and uniform, as NumPy decides)."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and ndim_of(varargs[0]) == 0:
        return list(varargs) * len(axes)
    if len(varargs) != len(axes):
        raise InputTypeError(
            f"gradient: invalid number of arguments: {len(varargs)} spacings for {len(axes)} "
            "axes; give none, one scalar, or one per axis"
        )
    spacings = []
    for ax, coordinates in zip(axes, varargs, strict=True):
        coordinates = as_array(coordinates)
        if ndim_of(coordinates) == 0:
            spacings.append(coordinates)
            continue
        if ndim_of(coordinates) != 1:
            raise ShapeError("gradient: distances must be either scalars or 1d")
        if shape_of(coordinates)[0] != shape_of(f)[ax]:
            raise ShapeError(
                "gradient: when 1d, distances must match the length of the corresponding "
                f"dimension: {shape_of(coordinates)[0]} coordinates for axis {ax} of length "
                f"{shape_of(f)[ax]}"
            )
        if dtype_of(coordinates).kind in "iub":
            coordinates = cast(coordinates, np.float64)
        steps = coordinates[1:] - coordinates[:-1]
        if not traced(steps) and steps.size and np.all(steps == steps[0]):
            steps = steps[0]
        spacings.append(steps)
    return spacings


def _gradient_along(f, axis, dx, edge_order):
    lead = (slice(None),) * axis

    def at(start, stop=None):
        return f[lead + (slice(start, stop if stop != 0 else None),)]

    uniform = ndim_of(dx) == 0
    if uniform:
        interior = (at(2) - at(None, -2)) / (2.0 * dx)
    else:
        dx1, dx2 = _along_axis(dx[:-1], axis, ndim_of(f)), _along_axis(dx[1:], axis, ndim_of(f))
        interior = (
            -dx2 / (dx1 * (dx1 + dx2)) * at(None, -2)
            + (dx2 - dx1) / (dx1 * dx2) * at(1, -1)
            + dx1 / (dx2 * (dx1 + dx2)) * at(2)
        )
    if edge_order == 1:
        first = (at(1, 2) - at(0, 1)) / (dx if uniform else dx[0])
        last = (at(-1, 0) - at(-2, -1)) / (dx if uniform else dx[-1])
    else:
        a, b, c = _second_order_start(dx, uniform)
        first = a * at(0, 1) + b * at(1, 2) + c * at(2, 3)
        a, b, c = _second_order_end(dx, uniform)
        last = a * at(-3, -2) + b * at(-2, -1) + c * at(-1, 0)
    return concatenate([first, interior, last], axis)


def _along_axis(values, axis, n):
    """1-d `values` shaped to broadcast along `axis` of an n-d array."""
    return reshape(values, tuple(-1 if i == axis else 1 for i in range(n)))


def _second_order_start(dx, uniform):
    if uniform:
        return -1.5 / dx, 2.0 / dx, -0.5 / dx
    dx1, dx2 = dx[0], dx[1]
    return (
        -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2)),
        (dx1 + dx2) / (dx1 * dx2),
        -dx1 / (dx2 * (dx1 + dx2)),
    )


def _second_order_end(dx, uniform):
    if uniform:
        return 0.5 / dx, -2.0 / dx, 1.5 / dx
    dx1, dx2 = dx[-2], dx[-1]
    return (
        dx2 / (dx1 * (dx1 + dx2)),
        -(dx2 + dx1) / (dx1 * dx2),
        (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2)),
    )


def kron(a, b):
    b = as_array(b)
    a = with_ndmin(a, ndim_of(b))
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return a * b
    n = max(ndim_of(a), ndim_of(b))
    a_shape = (1,) * (n - ndim_of(a)) + tuple(shape_of(a))
    b_shape = (1,) * (n - ndim_of(b)) + tuple(shape_of(b))
    # a's axes and b's interleaved: (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...), then merged.
    spread_a = reshape(a, tuple(x for s in a_shape for x in (s, 1)))
    spread_b = reshape(b, tuple(x for s in b_shape for x in (1, s)))
    product_shape = tuple(x * y for x, y in zip(a_shape, b_shape, strict=True))
    return reshape(spread_a * spread_b, product_shape)


# ----- applying Python functions along axes and entries -------------------------------------------
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    arr = as_array(arr)
    axis = normalize_axis(axis, ndim_of(arr), "apply_along_axis")
    moved = moveaxis(arr, axis, -1)
    outer = tuple(shape_of(moved)[:-1])
    if 0 in outer:
        raise ShapeError(
            f"apply_along_axis: cannot apply along axis {axis} of an array of shape "
            f"{shape_of(arr)}: an iteration dimension is 0"
        )
    results = [as_array(func1d(moved[index], *args, **kwargs)) for index in np.ndindex(*outer)]
    result_shape = tuple(shape_of(results[0]))
    # NumPy fills a buffer of the first result's dtype; the result's axes go where `axis` was.
    joined = reshape(cast(stack(results), dtype_of(results[0])), outer + result_shape)
    count, kept = len(result_shape), len(outer)
    order = [*range(axis), *range(kept, kept + count), *range(axis, kept)]
    return _shape_ops.transpose(joined, axes=tuple(order))


def apply_over_axes(func, a, axes):
    value = as_array(a)
    n = ndim_of(value)
    for axis in np.atleast_1d(np.asarray(axes)).tolist():
        axis = axis + n if axis < 0 else axis
        result = as_array(func(value, axis))
        if ndim_of(result) != ndim_of(value):
            result = expand_dims(result, axis)
            if ndim_of(result) != ndim_of(value):
                raise ShapeError(
                    "apply_over_axes: the function must return an array of the input's number "
                    f"of dimensions or one fewer, got shape {shape_of(result)} for an input of "
                    f"shape {shape_of(value)}"
                )
        value = result
    return value


class vectorize:  # noqa: N801 - NumPy's name
    """NumPy's vectorize: `pyfunc` called once per entry (or per core block, with
    `signature`) of the broadcast inputs, in a Python loop as NumPy's (so it may branch on its
    numbers), the results stacked. On Tensors each call records, so the result is
    differentiable wherever `pyfunc` is; on plain arrays it is NumPy's own vectorize."""

    def __init__(self, pyfunc=_NO_VALUE, otypes=None, doc=None, excluded=None, cache=False,
                 signature=None):
        self.pyfunc, self.signature, self.cache = pyfunc, signature, cache
        self.otypes = otypes if otypes is None or isinstance(otypes, str) else [
            np.dtype(t).char for t in otypes
        ]
        self.excluded = set(excluded or ())
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)
        self._core = None if signature is None else _parse_signature(signature)

    def __call__(self, *args, **kwargs):
        if self.pyfunc is _NO_VALUE:  # @cnp.vectorize(otypes=...) used as a decorator
            return type(self)(args[0], self.otypes, None, self.excluded, self.cache,
                              self.signature)
        varying = [i for i in range(len(args)) if i not in self.excluded]
        varying_kw = [k for k in kwargs if k not in self.excluded]
        if not any(traced(args[i]) or holds_tensor([args[i]]) for i in varying) and not any(
            traced(kwargs[k]) for k in varying_kw
        ):
            return np.vectorize(self.pyfunc, self.otypes, None, self.excluded, self.cache,
                                self.signature)(*args, **kwargs)
        return self._loop(args, kwargs, varying, varying_kw)

    def _loop(self, args, kwargs, varying, varying_kw):
        names = [*varying, *varying_kw]
        values = [as_array(args[i] if isinstance(i, int) else kwargs[i]) for i in names]
        core = self._core[0] if self._core else [()] * len(values)
        if len(core) != len(values):
            raise ArgumentError(
                f"vectorize: the signature {self.signature!r} names {len(core)} inputs, got "
                f"{len(values)}"
            )
        sizes = _core_sizes(values, core)
        loop = np.broadcast_shapes(*(
            tuple(shape_of(v))[:ndim_of(v) - len(c)] for v, c in zip(values, core, strict=True)
        ))
        if 0 in loop:
            raise ShapeError("vectorize: cannot call `vectorize` on size 0 inputs (with "
                             "Tensors); call it on NumPy arrays, or skip the empty case")
        values = [
            broadcast_to(v, loop + tuple(sizes[d] for d in c))
            for v, c in zip(values, core, strict=True)
        ]
        outputs = []
        for index in np.ndindex(*loop):
            call_args, call_kwargs = list(args), dict(kwargs)
            for name, value in zip(names, values, strict=True):
                if isinstance(name, int):
                    call_args[name] = value[index]
                else:
                    call_kwargs[name] = value[index]
            result = self.pyfunc(*call_args, **call_kwargs)
            outputs.append(result if isinstance(result, tuple) else (result,))
        joined = [self._joined([o[k] for o in outputs], loop, k) for k in range(len(outputs[0]))]
        return tuple(joined) if isinstance(result, tuple) else joined[0]

    def _joined(self, results, loop, k):
        """Output k of every call, stacked into the loop's shape, in NumPy's dtype: otypes, or
        the first call's."""
        results = [as_array(r) for r in results]
        dtype = np.dtype(self.otypes[k]) if self.otypes else dtype_of(results[0])
        joined = cast(stack(results), dtype)
        return reshape(joined, loop + tuple(shape_of(results[0])))


def _parse_signature(signature):
    """A generalized-ufunc signature '(m,n),(n)->(m)' as (input core dims, output core dims),
    each a list of tuples of dimension names."""
    argument = r"\((?:\w+(?:,\w+)*)?\)"
    arguments = rf"{argument}(?:,{argument})*"
    compact = re.sub(r"\s+", "", signature)
    if not re.fullmatch(rf"{arguments}->{arguments}", compact):
        raise ArgumentError(f"vectorize: not a valid gufunc signature: {signature!r}")
    return [
        [tuple(re.findall(r"\w+", part)) for part in re.findall(argument, side)]
        for side in compact.split("->")
    ]


def _core_sizes(values, core):
    """The size of each named core dimension, the same wherever the name appears."""
    sizes = {}
    for value, dims in zip(values, core, strict=True):
        shape = tuple(shape_of(value))
        if len(dims) > len(shape):
            raise ShapeError(f"vectorize: an input of shape {shape} has fewer dimensions than "
                             f"its core dimensions {dims}")
        for name, length in zip(dims, shape[len(shape) - len(dims):], strict=True):
            if sizes.setdefault(name, length) != length:
                raise ShapeError(f"vectorize: inconsistent size for core dimension {name!r}: "
                                 f"{length} and {sizes[name]}")
    return sizes


wrap_public(
    globals(), __all__,
    not_array_first={
        "shape", "ndim", "size", "concatenate", "concat", "stack", "hstack",
        "vstack", "row_stack", "dstack", "column_stack", "block", "broadcast_arrays",
        "atleast_1d", "atleast_2d", "atleast_3d", "apply_along_axis", "apply_over_axes",
    },
)
