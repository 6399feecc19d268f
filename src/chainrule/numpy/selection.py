"""Picking entries: `where`, `select`, `choose`, `piecewise` and `clip`; indexing by arrays
(take, take_along_axis, compress, extract), sorting, diagonals and traces, `unique`; writing
entries into a new array (put_along_axis, put, place, fill_diagonal with inplace=False). The
picked values record through indexing, so
their derivatives flow back to the entries they came from; the indices themselves are plain.

NumPy's put_along_axis, put, place and fill_diagonal write into their array and return None.
They do so here on a NumPy array; a Tensor is a recorded value and is not written: as in
jax.numpy, `inplace=False` returns the new array instead (differentiable in the array and the
values). copyto and putmask, which have no such spelling, are refused on Tensors.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.tensor import cast, raw_value
from chainrule.core.trace import physical_value
from chainrule.errors import (
    ArgumentError,
    IndexOutOfRangeError,
    InputTypeError,
    ShapeError,
    UnsupportedFunctionError,
)
from chainrule.numpy._common import (
    condition_of,
    ndim_of,
    normalize_axis,
    plain,
    reject,
)
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.reductions import sum
from chainrule.numpy.shapes import (
    as_array,
    broadcast_to,
    concatenate,
    gather,
    moveaxis,
    plain_for_shape,
    positions,
    ravel,
    reshape,
    size,
    traced,
)
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape_ops
from chainrule.ops._rules import const

__all__ = [
    "where", "select", "choose", "piecewise", "clip", "take", "take_along_axis", "compress",
    "extract", "put_along_axis", "put", "place", "fill_diagonal", "copyto", "putmask", "sort",
    "argsort", "sort_complex", "diagonal", "diag", "diagflat", "trace", "nonzero", "unique",
    "union1d", "intersect1d", "setdiff1d", "setxor1d",
]


def where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(raw_value(condition))
    return _elementwise.where(condition_of(condition), x, y)


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    reject("clip", out)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    if traced(lo) or traced(hi):
        # Differentiable bounds: the bound takes the cotangent where it is the active value.
        result = a if lo is None else where(a < lo, lo, a)
        return result if hi is None else where(result > hi, hi, result)
    return _elementwise.clip(a, lo=raw_value(lo), hi=raw_value(hi))


def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ArgumentError(
            f"select: list of cases must be same length as list of conditions, got "
            f"{len(choicelist)} cases and {len(condlist)} conditions"
        )
    if len(condlist) == 0:
        raise ArgumentError("select with an empty condition list is not possible")
    choices = [
        c if type(c) in (int, float, complex) else as_array(c) for c in (*choicelist, default)
    ]
    dtype = np.result_type(*(c if type(c) in (int, float, complex) else dtype_of(c)
                             for c in choices))
    conditions = [const(as_array(c)) for c in condlist]
    for i, condition in enumerate(conditions):
        if dtype_of(condition) != np.bool_:
            raise InputTypeError(
                f"select: invalid entry {i} in condlist: should be boolean, got dtype "
                f"{dtype_of(condition)}"
            )
    shape = np.broadcast_shapes(*(shape_of(x) for x in (*conditions, *choices)))
    # The first condition that holds wins: apply them from the last to the first.
    result = broadcast_to(cast(choices[-1], dtype), shape)
    for condition, choice in zip(conditions[::-1], choices[-2::-1], strict=True):
        result = _elementwise.where(condition, cast(choice, dtype), result)
    return result


def choose(a, choices, out=None, mode="raise"):
    reject("choose", out)
    index = const(as_array(a))
    if dtype_of(index).kind not in "iub":
        raise InputTypeError(
            f"choose: `a` says which choice each entry takes, so it must hold integers, got "
            f"dtype {dtype_of(index)}"
        )
    choices = _entries(choices)
    if not choices:
        raise ArgumentError("choose: needs at least one choice, got none")
    count = len(choices)
    if mode == "raise":
        chosen = physical_value(index)
        if np.any((chosen < 0) | (chosen >= count)):
            raise ArgumentError(
                f"choose: invalid entry in choice array: `a` must be in [0, {count}) for "
                f"{count} choices; use mode='wrap' or mode='clip' for others"
            )
    index = _by_mode(index, count, mode, "choose")
    shape = np.broadcast_shapes(shape_of(index), *(shape_of(c) for c in choices))
    dtype = np.result_type(*(dtype_of(c) for c in choices))
    result = broadcast_to(cast(choices[-1], dtype), shape)
    for k in range(count - 2, -1, -1):
        result = _elementwise.where(index == k, cast(choices[k], dtype), result)
    return result


def _entries(sequence):
    """The entries of a list or tuple, or the rows of an array, each as an array."""
    if isinstance(sequence, (list, tuple)):
        return [as_array(entry) for entry in sequence]
    sequence = as_array(sequence)
    return [sequence[i] for i in range(shape_of(sequence)[0])] if ndim_of(sequence) else []


def _by_mode(indices, length, mode, what):
    """Indices into an axis of `length` as NumPy's mode= reads them: 'raise' as they are,
    'wrap' modulo the length, 'clip' into [0, length)."""
    if mode == "raise":
        return indices
    if mode == "wrap":
        return indices % length
    if mode == "clip":
        return _elementwise.clip(indices, lo=0, hi=length - 1)
    raise ArgumentError(f"{what}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")


def piecewise(x, condlist, funclist, *args, **kw):
    """NumPy's piecewise: each function is called on the entries its condition selects
    (`x[condition]`) and writes its values there; a constant in funclist is written as it is.
    Under vmap, where each example has its own conditions, each function is called on all of
    x and the pieces are selected with where, so the functions must act entry by entry (as
    jax.numpy.piecewise requires)."""
    x = as_array(x)
    conditions = [condition_of(c) for c in _conditions(condlist, x)]
    count = len(conditions)
    if count == len(funclist) - 1:
        conditions.append(_otherwise(conditions, x))
    elif count != len(funclist):
        raise ArgumentError(
            f"piecewise: with {count} condition(s), either {count} or {count + 1} functions "
            f"are expected, got {len(funclist)}"
        )
    result = np.zeros(shape_of(x), dtype_of(x))
    for condition, piece in zip(conditions, funclist, strict=True):
        result = _piece(result, x, condition, piece, args, kw)
    return result


def _conditions(condlist, x):
    """piecewise's conditions as a list; a single condition is promoted to a list of one, by
    NumPy's rule (a scalar, or an array whose first entry is not an array)."""
    if not isinstance(condlist, (list, tuple)) and ndim_of(condlist) == 0:
        return [condlist]
    first = condlist[0]
    first_is_array = isinstance(first, (list, np.ndarray)) or (
        traced(first) and ndim_of(first) > 0
    )
    if ndim_of(x) != 0 and not first_is_array:
        return [condlist]
    return list(condlist) if isinstance(condlist, (list, tuple)) else _entries(condlist)


def _otherwise(conditions, x):
    """Where none of the conditions holds: the last function's piece."""
    if not conditions:
        return np.ones(shape_of(x), dtype=bool)
    some = conditions[0]
    for condition in conditions[1:]:
        some = some | condition
    return ~some


def _piece(result, x, condition, piece, args, kw):
    if traced(condition):  # batched: each example has its own mask
        values = piece(x, *args, **kw) if callable(piece) else piece
        return cast(_elementwise.where(condition, values, result), dtype_of(x))
    if not callable(piece):
        return _shape_ops.setitem(result, piece, index=condition)
    selected = x[condition]
    if size(selected) == 0:
        return result
    return _shape_ops.setitem(result, piece(selected, *args, **kw), index=condition)


def take(a, indices, axis=None, out=None, mode="raise"):
    reject("take", out)
    a = as_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, ndim_of(a), "take")
    indices = _index_array(indices)
    if dtype_of(indices).kind != "i":  # NumPy casts them (booleans are 0 and 1, not a mask)
        indices = cast(indices, np.intp)
    indices = _by_mode(indices, shape_of(a)[axis], mode, "take")
    return _shape_ops.getitem(a, index=(slice(None),) * axis + (indices,))


def take_along_axis(arr, indices, axis=-1):
    indices = _index_array(indices)
    if axis is None:
        return take_along_axis(ravel(arr), ravel(indices), 0)
    axis = normalize_axis(axis, ndim_of(arr), "take_along_axis")
    return _shape_ops.getitem(arr, index=_along_axis(arr, indices, axis, "take_along_axis"))


def _index_array(indices):
    indices = const(indices)
    return indices if traced(indices) else np.asarray(indices)


def _along_axis(arr, indices, axis, what):
    """NumPy's index for take_along_axis and put_along_axis: `indices` along `axis`, and
    along every other axis each position itself."""
    n = ndim_of(arr)
    if dtype_of(indices).kind not in "iu":
        raise IndexOutOfRangeError(  # an IndexError, as NumPy's
            f"{what}: `indices` must be an integer array, got dtype {dtype_of(indices)}"
        )
    if ndim_of(indices) != n:
        raise ShapeError(
            f"{what}: `indices` and `arr` must have the same number of dimensions, got "
            f"{ndim_of(indices)} and {n}"
        )
    return tuple(
        indices if d == axis
        else np.arange(shape_of(arr)[d]).reshape([-1 if i == d else 1 for i in range(n)])
        for d in range(n)
    )


def compress(condition, a, axis=None, out=None):
    reject("compress", out)
    condition = np.asarray(raw_value(plain_for_shape(condition, "compress")))
    a = as_array(a)
    return gather(a, np.compress(condition, positions(a), axis=axis))


def extract(condition, arr):
    condition = np.asarray(raw_value(plain_for_shape(condition, "extract")))
    arr = as_array(arr)
    return gather(arr, np.extract(condition, positions(arr)))


# ----- writing entries: a new array, or NumPy's in-place write on a NumPy array ----------------
def put_along_axis(arr, indices, values, axis, inplace=True):
    if inplace:
        return _in_place("put_along_axis", np.put_along_axis, arr, indices, values, axis)
    arr, indices = as_array(arr), _index_array(indices)
    if axis is None:  # into the flattened array
        if ndim_of(indices) != 1:
            raise ShapeError("put_along_axis: when axis=None, `indices` must have a single "
                             f"dimension, got shape {shape_of(indices)}")
        return reshape(put_along_axis(ravel(arr), indices, values, 0, inplace=False),
                       shape_of(arr))
    axis = normalize_axis(axis, ndim_of(arr), "put_along_axis")
    index = _along_axis(arr, indices, axis, "put_along_axis")
    return _shape_ops.setitem(arr, values, index=index)


def put(a, ind, v, mode="raise", *, inplace=True):
    if inplace:
        return _in_place("put", np.put, a, ind, v, mode)
    a, v = as_array(a), as_array(v)
    flat_positions = np.asarray(raw_value(plain_for_shape(ind, "put")), dtype=np.intp).ravel()
    if size(v) == 0:
        return a[...]  # NumPy's put writes nothing
    return _written(a, _by_mode(flat_positions, size(a), mode, "put"), v, "put")


def place(arr, mask, vals, *, inplace=True):
    if inplace:
        return _in_place("place", np.place, arr, mask, vals)
    arr = as_array(arr)
    mask = np.asarray(raw_value(plain_for_shape(mask, "place")), dtype=bool)
    if mask.size != size(arr):
        raise ShapeError(f"place: mask and data must be the same size, got {mask.size} and "
                         f"{size(arr)}")
    return _written(arr, np.flatnonzero(mask), vals, "place")


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    if inplace:
        return _in_place("fill_diagonal", np.fill_diagonal, a, val, wrap)
    a = as_array(a)
    dims = shape_of(a)
    if len(dims) < 2:
        raise ShapeError(f"fill_diagonal: array must be at least 2-d, got shape {dims}")
    if len(dims) == 2:  # a tall matrix wraps around after N columns only if asked
        step, end = dims[1] + 1, None if wrap else dims[1] * dims[1]
    elif len(set(dims)) == 1:
        step, end = 1 + int(np.cumprod(dims[:-1]).sum()), None
    else:
        raise ShapeError(f"fill_diagonal: all dimensions of input must be of equal length, "
                         f"got shape {dims}")
    return _written(a, np.arange(size(a))[:end:step], val, "fill_diagonal")


def _written(a, flat_positions, values, what):
    """A new array: `a` with `values` written at `flat_positions`, the values repeated in
    order as NumPy's flat assignment repeats them (the last write to a position wins)."""
    values = ravel(as_array(values))
    if flat_positions.size == 0:
        return a[...]
    if size(values) == 0:
        raise ArgumentError(f"{what}: cannot write from an empty array of values")
    cycled = gather(values, np.resize(np.arange(size(values)), flat_positions.shape))
    written = _shape_ops.setitem(ravel(a), cycled, index=(flat_positions,))
    return reshape(written, shape_of(a))


def _in_place(name, numpy_function, target, *args):
    """NumPy's in-place write on a NumPy array; refused where a Tensor is involved."""
    if isinstance(target, np.ndarray) and not any(
        traced(arg) for arg in (target, *args)
    ):
        return numpy_function(target, *args)
    raise UnsupportedFunctionError(
        f"{name} writes into its array in place (NumPy's returns None), which chainrule "
        f"does not do to a Tensor, whose value is recorded. Pass inplace=False to get the new "
        f"array instead, as in jax.numpy: `a = cnp.{name}(a, ..., inplace=False)`; it is "
        "differentiable in the array and the values."
    )


def copyto(dst, src, casting="same_kind", where=True):
    if isinstance(dst, np.ndarray) and not any(
        traced(arg) for arg in (dst, src, where)
    ):
        return np.copyto(dst, src, casting=casting, where=where)
    raise UnsupportedFunctionError(
        "copyto writes src into dst in place, which chainrule does not do to a Tensor, whose "
        "value is recorded. Build the new array instead: `dst = cnp.where(where, src, dst)` "
        "(or `cnp.broadcast_to(src, dst.shape)` to copy everything)."
    )


def putmask(a, /, mask, values):
    if isinstance(a, np.ndarray) and not any(
        traced(arg) for arg in (a, mask, values)
    ):
        return np.putmask(a, mask, values)
    raise UnsupportedFunctionError(
        "putmask writes into its array in place, which chainrule does not do to a Tensor, "
        "whose value is recorded. Build the new array instead: `a = cnp.where(mask, values, "
        "a)` for values of a's shape, or `a = cnp.place(a, mask, values, inplace=False)` to "
        "write the values in order."
    )


def sort(a, axis=-1, kind=None, order=None, stable=None):
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, ndim_of(a), "sort")
    order = _reduce.argsort(const(a), axis=axis, stable=kind == "stable" or bool(stable))
    return take_along_axis(a, order, axis)


def sort_complex(a):
    """Sorted along the last axis, as complex numbers: by real part, then imaginary (sort
    itself refuses to order complex numbers; this function asks for that order by name).
    Real input becomes complex as NumPy's: complex64 for small integers, else complex128."""
    a = as_array(a)
    dtype = dtype_of(a)
    if dtype.kind != "c":
        return cast(sort(a, axis=-1), np.complex64 if dtype.char in "bhBH" else np.complex128)
    # Two stable sorts: by the imaginary parts, then by the real parts.
    parts = const(a)
    by_imag = _reduce.argsort(_elementwise.imag(parts), axis=-1, stable=True)
    real = take_along_axis(_elementwise.real(parts), by_imag, -1)
    order = take_along_axis(by_imag, _reduce.argsort(real, axis=-1, stable=True), -1)
    return take_along_axis(a, order, -1)


def argsort(a, axis=-1, kind=None, order=None, stable=None):
    return _reduce.argsort(a, axis=axis, stable=bool(stable or kind in ("stable", "mergesort")))


def diagonal(a, offset=0, axis1=0, axis2=1):
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    rows, cols = shape_of(moved)[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    i = np.arange(length)
    return moved[..., start_row + i, start_col + i]


def diag(v, k=0):
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ShapeError(f"diag: input must be 1-d or 2-d, got shape {shape_of(v)}")
    n = shape_of(v)[0] + abs(k)
    i = np.arange(shape_of(v)[0])
    index = (i + max(-k, 0), i + max(k, 0))
    return _shape_ops.scatter_add(v, index=index, shape=(n, n))


def diagflat(v, k=0):
    return diag(ravel(v), k)


def trace(a, offset=0, axis1=0, axis2=1):
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, sorted=True):  # noqa: A002 - NumPy's argument name
    """np.unique; the unique values are recorded (picked from `ar` by index), the indices and
    counts are plain integers."""
    results = np.unique(
        raw_value(ar), return_index=True, return_inverse=return_inverse,
        return_counts=return_counts, axis=axis, equal_nan=equal_nan,
    )
    first = results[1]
    values = take(ar, first, axis=axis) if axis is not None else ravel(ar)[first]
    extras = ((first,) if return_index else ()) + tuple(results[2:])
    return (values, *extras) if extras else values


# ----- sets: NumPy finds the entries on the values; they are picked, recorded ----------------
def union1d(ar1, ar2):
    pool = concatenate([ravel(as_array(ar1)), ravel(as_array(ar2))])
    _, first = np.unique(_set_values(pool, "union1d"), return_index=True)
    return gather(pool, first)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    ar1, ar2 = as_array(ar1), as_array(ar2)
    _, in1, in2 = np.intersect1d(
        _set_values(ar1, "intersect1d"), _set_values(ar2, "intersect1d"),
        assume_unique=assume_unique, return_indices=True,
    )
    common = gather(ar1, in1)  # the common values, differentiable through ar1
    return (common, in1, in2) if return_indices else common


def setdiff1d(ar1, ar2, assume_unique=False):
    ar1 = as_array(ar1)
    values = _set_values(ar1, "setdiff1d")
    kept = _unique_positions(values, assume_unique)
    kept = kept[~np.isin(values[kept], _set_values(ar2, "setdiff1d"))]
    return gather(ar1, kept)


def setxor1d(ar1, ar2, assume_unique=False):
    pool = concatenate([ravel(as_array(ar1)), ravel(as_array(ar2))])
    values = _set_values(pool, "setxor1d")
    split = size(ar1)
    candidates = np.concatenate([
        _unique_positions(values[:split], assume_unique),
        split + _unique_positions(values[split:], assume_unique),
    ])
    candidates = candidates[np.argsort(values[candidates], kind="stable")]
    ordered = values[candidates]
    alone = np.concatenate([[True], ordered[1:] != ordered[:-1], [True]])
    return gather(pool, candidates[alone[1:] & alone[:-1]])


def _set_values(a, what):
    """The flat plain values a set function reads (they decide the result's length)."""
    return np.asarray(raw_value(plain_for_shape(a, what))).reshape(-1)


def _unique_positions(values, assume_unique):
    """Flat positions of the sorted unique values (NumPy's unique), or all if assumed unique."""
    if assume_unique:
        return np.arange(values.size)
    return np.unique(values, return_index=True)[1]


nonzero = plain(np.nonzero)


wrap_public(
    globals(), __all__,
    not_array_first={"select", "choose", "piecewise"},
)
