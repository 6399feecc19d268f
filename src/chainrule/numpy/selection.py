"""Picking entries: `where` and `clip`, indexing by arrays (take, take_along_axis), sorting,
diagonals and traces, `unique`. The picked values record through indexing, so their
derivatives flow back to the entries they came from; the indices themselves are plain."""

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.tensor import raw_value
from chainrule.errors import ShapeError
from chainrule.numpy._common import (
    condition_of,
    ndim_of,
    normalize_axis,
    plain,
    reject,
)
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.reductions import sum
from chainrule.numpy.shapes import moveaxis, ravel
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape_ops
from chainrule.ops._rules import const

__all__ = [
    "where", "clip", "take", "take_along_axis", "sort", "argsort", "diagonal", "diag",
    "diagflat", "trace", "nonzero", "unique",
]


def where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(raw_value(condition))
    return _elementwise.where(condition_of(condition), x, y)


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    reject("clip", out)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    if type(lo) in TRACED_TYPES or type(hi) in TRACED_TYPES:
        # Differentiable bounds: the bound takes the cotangent where it is the active value.
        result = a if lo is None else where(a < lo, lo, a)
        return result if hi is None else where(result > hi, hi, result)
    return _elementwise.clip(a, lo=raw_value(lo), hi=raw_value(hi))


def take(a, indices, axis=None):
    if axis is None:
        return _shape_ops.getitem(ravel(a), index=const(indices))
    axis = normalize_axis(axis, ndim_of(a), "take")
    return _shape_ops.getitem(a, index=(slice(None),) * axis + (const(indices),))


def take_along_axis(arr, indices, axis):
    indices = const(indices)
    if type(indices) not in TRACED_TYPES:
        indices = np.asarray(indices)
    if axis is None:
        return take_along_axis(ravel(arr), ravel(indices), 0)
    n = ndim_of(arr)
    axis = normalize_axis(axis, n, "take_along_axis")
    if ndim_of(indices) != n:
        raise ShapeError(
            f"take_along_axis: indices have {ndim_of(indices)} dims, the array has {n}"
        )
    index = tuple(
        indices if d == axis
        else np.arange(shape_of(arr)[d]).reshape([-1 if i == d else 1 for i in range(n)])
        for d in range(n)
    )
    return _shape_ops.getitem(arr, index=index)


def sort(a, axis=-1, kind=None, order=None, stable=None):
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, ndim_of(a), "sort")
    order = _reduce.argsort(const(a), axis=axis, stable=kind == "stable" or bool(stable))
    return take_along_axis(a, order, axis)


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


nonzero = plain(np.nonzero)

wrap_public(globals(), __all__)
