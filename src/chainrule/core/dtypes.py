"""The dtype policy: what becomes an array, which dtypes can be differentiated, and the shape and
dtype of a value under any number of trace levels. What is numeric is decided in core/explain.py,
next to the messages that refuse what is not (`is_numeric` and `is_numeric_dtype` are re-exported).

Python floats become float64; float16/32/64 and complex64/128 arrays keep their dtype (gradients
too; float32 pairs with complex64, float64 with complex128); integers and booleans compute but
cannot require grad; strings, None and object arrays are refused with a message that says what
to pass instead.
"""

import numpy as np

from chainrule.core.explain import is_numeric, is_numeric_dtype, not_an_array, not_numeric
from chainrule.core.namespace import is_foreign, namespace_of, numpy_dtype
from chainrule.core.primitive import TRACED_TYPES, dtype_of, shape_of
from chainrule.errors import DTypeError, GraphEscapeError

__all__ = [
    "is_numeric", "is_numeric_dtype", "as_array", "check_differentiable", "shape_of", "dtype_of",
    "aval", "tangent_dtype", "complex_pair",
]

_FLOAT_KINDS = "fc"  # the kinds that can be differentiated: real and complex floating point


def as_array(data, dtype=None, *, what="tensor()"):
    """Turn user data into a NumPy array without mutating or needlessly copying it."""
    if data is None or isinstance(data, (str, bytes)):
        raise not_numeric(what, data)
    if is_foreign(data):  # a Dask or CuPy array is held as it is (lazy, on its device)
        if dtype is not None and numpy_dtype(data.dtype) != np.dtype(dtype):
            data = namespace_of(data).astype(data, np.dtype(dtype))
        if not is_numeric_dtype(numpy_dtype(data.dtype)):
            raise not_numeric(what, data)
        return data
    try:
        array = np.asarray(data, dtype=dtype)
    except GraphEscapeError:
        raise  # a value on a graph inside `data`: that error names the fix
    except (ValueError, TypeError) as exc:
        raise not_an_array(what, [data], exc) from exc
    if not is_numeric_dtype(array.dtype):
        raise not_numeric(what, data)
    return array


def check_differentiable(dtype, what="tensor()"):
    dtype = np.dtype(dtype)
    if dtype.kind not in _FLOAT_KINDS:
        raise DTypeError(
            f"{what}: only floating-point (real or complex) values can require gradients, got "
            f"dtype {dtype}. "
            "Cast first, e.g. cr.tensor(x, dtype=np.float64, requires_grad=True) "
            "or x.astype(float)."
        )


def aval(value) -> tuple:
    """(shape, dtype) of a value at any level: what a tangent or cotangent of it must fit.
    (Called for every recorded input inside a transform, so written out in full.)"""
    batch_axes = 0
    while type(value) in TRACED_TYPES:
        batch_axes += value._trace.batched
        value = value._value
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return (np.shape(value)[batch_axes:], np.result_type(value))
    if not isinstance(dtype, np.dtype):
        dtype = numpy_dtype(dtype)  # array-api-strict's dtype objects
    return (value.shape[batch_axes:] if batch_axes else value.shape, dtype)


def complex_pair(dtype) -> np.dtype:
    """The complex dtype of a real floating one's precision (float32 -> complex64, float64 ->
    complex128; float16 -> complex64, the smallest there is); a complex dtype itself."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return dtype
    return np.dtype(np.complex64) if dtype.itemsize <= 4 else np.dtype(np.complex128)


def tangent_dtype(value) -> np.dtype:
    """The dtype of a tangent or cotangent of `value`: its own if floating (real or complex),
    else float64."""
    dtype = dtype_of(value)
    return dtype if dtype.kind in _FLOAT_KINDS else np.dtype(np.float64)
