"""Making arrays. `asarray`, `array` and `copy` keep a traced value traced (a list of them is
stacked, so it records); zeros, ones, empty, full and their `*_like` forms check the shape and
that it fits in memory before allocating, and a differentiable fill value records."""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.tensor import Tensor, cast, holds_tensor, raw_value, stack_values
from chainrule.numpy._common import array_dtype, differentiable, filled
from chainrule.numpy._explain import allocation_shape, wrap_public
from chainrule.ops import elementwise as _elementwise

__all__ = [
    "asarray", "array", "copy", "astype", "result_type", "zeros", "ones", "empty", "full",
    "zeros_like", "ones_like", "full_like", "empty_like",
]


def asarray(a, dtype=None):
    """A Tensor or traced value is returned as it is (it already is an array); anything else
    becomes a NumPy array."""
    if isinstance(a, Tensor):
        return a if dtype is None else a.astype(dtype)
    if isinstance(a, (list, tuple)) and holds_tensor(a):
        # [x, y] built from traced values (common inside functions): stack, so it records.
        stacked = stack_values(a)
        return stacked if dtype is None else astype(stacked, dtype)
    return np.asarray(a, dtype=dtype)


def array(a, dtype=None, copy=True):
    """Like `asarray`, but a plain array is copied, as `numpy.array` does."""
    if isinstance(a, Tensor) or (isinstance(a, (list, tuple)) and holds_tensor(a)):
        return asarray(a, dtype)
    return np.array(a, dtype=dtype, copy=copy)


def copy(a):
    """A copy (differentiable on Tensors: a new Tensor recording an identity cast)."""
    if isinstance(a, Tensor):
        return _elementwise.astype(a, dtype=np.dtype(a.dtype), copy=True)
    return np.copy(a)


def astype(a, dtype):
    return cast(a, dtype)


def result_type(*arrays_and_dtypes):
    return np.result_type(*(
        dtype_of(a) if isinstance(a, Tensor) else a for a in arrays_and_dtypes
    ))


# NumPy would fail on a bad shape with a bare error, or allocate lazily and be killed later.
def zeros(shape, dtype=float, order="C"):
    return np.zeros(allocation_shape(shape, dtype, "zeros"), dtype, order)


def ones(shape, dtype=float, order="C"):
    return np.ones(allocation_shape(shape, dtype, "ones"), dtype, order)


def empty(shape, dtype=float, order="C"):
    return np.empty(allocation_shape(shape, dtype, "empty"), dtype, order)


def full(shape, fill_value, dtype=None, order="C"):
    fill_dtype = np.dtype(dtype) if dtype is not None else array_dtype(fill_value)
    shape = allocation_shape(shape, fill_dtype, "full")
    if differentiable(fill_value):
        return filled(shape, fill_value, fill_dtype, "full")
    return np.full(shape, raw_value(fill_value), dtype, order)


def zeros_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "zeros_like")
    return np.zeros_like(a, dtype=dtype, shape=shape)


def ones_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "ones_like")
    return np.ones_like(a, dtype=dtype, shape=shape)


def full_like(a, fill_value, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "full_like")
    if differentiable(fill_value):
        like = np.empty_like(a, dtype=dtype, shape=shape)
        return filled(like.shape, fill_value, like.dtype, "full_like")
    return np.full_like(a, raw_value(fill_value), dtype=dtype, shape=shape)


def empty_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "empty_like")
    return np.empty_like(a, dtype=dtype, shape=shape)


def _like_source(a, dtype, shape, what):
    """A plain array with `a`'s shape and dtype (under vmap one example's: the result is the
    same for every example); a new `shape` is checked against memory first."""
    if isinstance(a, Tensor):
        a = np.broadcast_to(np.zeros((), dtype_of(a)), shape_of(a))
    else:
        a = np.asarray(a)
    if shape is not None:
        allocation_shape(shape, dtype or np.result_type(a), what)
    return a


wrap_public(
    globals(), __all__,
    not_array_first={"asarray", "array", "copy", "result_type", "zeros", "ones", "empty", "full"},
)
