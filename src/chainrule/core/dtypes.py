"""The dtype policy: what becomes an array, which dtypes can be differentiated.

Python floats become float64; float16/32/64 arrays keep their dtype (gradients too);
integers and booleans compute but cannot require grad; complex numbers, strings, None and
object arrays are refused with a message that says what to pass instead.
"""

import numpy as np

from chainrule.errors import DTypeError, GraphEscapeError, InputTypeError

__all__ = ["as_array", "check_differentiable", "promote_for_transform"]

_FLOAT_KINDS = "f"


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
    if array.dtype.kind in "OUSVMm":
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


def promote_for_transform(value, what):
    """Inputs of functional transforms: ints become float64, floats keep their dtype."""
    array = as_array(value, what=what)
    kind = array.dtype.kind
    if kind == "f":
        return array
    if kind in "iu":
        return array.astype(np.float64)
    if kind == "b":
        raise DTypeError(
            f"{what} cannot differentiate with respect to a boolean input; pass floats."
        )
    raise DTypeError(
        f"{what} got dtype {array.dtype}; chainrule differentiates real floating-point inputs only."
    )
