"""The dtype policy: what is numeric, what becomes an array, which dtypes can be differentiated,
and the shape and dtype of a value under any number of trace levels.

Python floats become float64; float16/32/64 arrays keep their dtype (gradients too);
integers and booleans compute but cannot require grad; complex numbers, strings, None and
object arrays are refused with a message that says what to pass instead.
"""

import numbers

import numpy as np

from chainrule.core.primitive import TRACED_TYPES
from chainrule.errors import ChainruleError, DTypeError, GraphEscapeError, InputTypeError

__all__ = [
    "is_numeric", "is_numeric_dtype", "as_array", "check_differentiable", "shape_of", "dtype_of",
    "aval", "tangent_dtype",
]

_FLOAT_KINDS = "f"
# NumPy's kinds of numbers: booleans, signed and unsigned integers, floats, complex numbers.
# Objects, strings, bytes, records, datetimes and timedeltas are not numeric.
_NUMBER_KINDS = frozenset("biufc")
_NOT_NUMERIC_TYPES = (type(None), str, bytes, dict, set, frozenset)


def is_numeric_dtype(dtype) -> bool:
    return dtype.kind in _NUMBER_KINDS


def is_numeric(value) -> bool:
    """Whether `value` holds numbers: a number, a Tensor, an array (anything with a dtype) of a
    number kind, or a list, tuple or other array-like that NumPy turns into one."""
    if type(value) in TRACED_TYPES or isinstance(value, numbers.Number):
        return True
    if isinstance(value, _NOT_NUMERIC_TYPES):
        return False
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(value).dtype
        except ChainruleError:
            raise  # a value on a graph inside a list: that error names the fix
        except (TypeError, ValueError):  # a ragged list, or an object NumPy cannot read
            return False
    return getattr(dtype, "kind", None) in _NUMBER_KINDS


def as_array(data, dtype=None, *, what="tensor()"):
    """Turn user data into a NumPy array without mutating or needlessly copying it."""
    if data is None or isinstance(data, (str, bytes)):
        raise InputTypeError(
            f"{what} got {type(data).__name__} {data!r}; pass a number, a list of numbers, "
            "or a NumPy array."
        )
    try:
        array = np.asarray(data, dtype=dtype)
    except GraphEscapeError:
        raise  # a value on a graph inside `data`: that error names the fix
    except (ValueError, TypeError) as exc:
        raise InputTypeError(
            f"{what} could not make a numeric array from {type(data).__name__}: "
            f"{str(exc).rstrip('.')}. "
            "Lists must be rectangular (not ragged) and hold numbers only."
        ) from exc
    if not is_numeric_dtype(array.dtype):
        raise InputTypeError(
            f"{what} got an array of dtype {array.dtype}; chainrule computes on numeric arrays. "
            "Convert with np.asarray(x, dtype=float)."
        )
    return array


def check_differentiable(dtype, what="tensor()"):
    dtype = np.dtype(dtype)
    if dtype.kind not in _FLOAT_KINDS:
        raise DTypeError(
            f"{what}: only floating-point values can require gradients, got dtype {dtype}. "
            "Cast first, e.g. cr.tensor(x, dtype=np.float64, requires_grad=True) "
            "or x.astype(float)."
        )


def shape_of(value) -> tuple:
    """The shape of a value at any level (of a Python number: ())."""
    while type(value) in TRACED_TYPES:
        value = value._value
    shape = getattr(value, "shape", None)
    return shape if shape is not None else np.shape(value)


def dtype_of(value) -> np.dtype:
    """The dtype of a value at any level (of a Python number: NumPy's, e.g. float64)."""
    while type(value) in TRACED_TYPES:
        value = value._value
    dtype = getattr(value, "dtype", None)
    return dtype if dtype is not None else np.result_type(value)


def aval(value) -> tuple:
    """(shape, dtype) of a value at any level: what a tangent or cotangent of it must fit.
    (Called for every recorded input inside a transform, so written out in full.)"""
    while type(value) in TRACED_TYPES:
        value = value._value
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return (np.shape(value), np.result_type(value))
    return (value.shape, dtype)


def tangent_dtype(value) -> np.dtype:
    """The dtype of a tangent or cotangent of `value`: its own if floating, else float64."""
    dtype = dtype_of(value)
    return dtype if dtype.kind in _FLOAT_KINDS else np.dtype(np.float64)
