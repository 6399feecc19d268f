"""The one place that turns a NumPy failure into a chainrule error, and the numeric predicate
that decides which input to blame.

`bind`, the tape's recorder and chainrule.numpy's public functions (numpy/_explain.py) call NumPy
inside a bare `try`, so success costs nothing; when it raises one of `NUMPY_ERRORS` they raise
`explain_failure(...)` instead: a `ChainruleError` subclass that names the operation the user
called, describes its inputs and says the fix. `tensor()` and the operators refuse non-numeric
data with the same messages (`not_numeric`, `not_an_array`).
"""

import numbers
import reprlib

import numpy as np

from chainrule.errors import (
    ArgumentError,
    ChainruleError,
    DTypeError,
    GraphEscapeError,
    IndexOutOfRangeError,
    InputTypeError,
    ShapeError,
)

__all__ = [
    "NUMPY_ERRORS", "is_numeric", "is_numeric_dtype", "describe", "not_numeric", "not_an_array",
    "explain_failure",
]

# What NumPy raises for input it cannot use. AttributeError and ZeroDivisionError come from its
# object-dtype loops (None.sin()).
NUMPY_ERRORS = (TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError)

# NumPy's kinds of numbers: booleans, signed and unsigned integers, floats, complex numbers.
# Objects, strings, bytes, records, datetimes and timedeltas are not numeric.
_NUMBER_KINDS = frozenset("biufc")
_NOT_NUMERIC_TYPES = (type(None), str, bytes, dict, set, frozenset)

# Words in NumPy's messages that say which mistake it met.
_RAGGED_WORDS = ("inhomogeneous", "element with a sequence")
_EMPTY_WORDS = ("zero-size array", "empty sequence", "at least one array", "empty array")
_SHAPE_WORDS = ("broadcast", "mismatch", "aligned", "enough dimensions")
_DTYPE_WORDS = ("data type", "dtype")


# ----- what is numeric ---------------------------------------------------------------------------
def is_numeric_dtype(dtype) -> bool:
    return dtype.kind in _NUMBER_KINDS


def is_numeric(value) -> bool:
    """Whether `value` holds numbers: a number, an array or Tensor (anything with a dtype) of a
    number kind, or a list, tuple or other array-like that NumPy turns into one."""
    if isinstance(value, numbers.Number):
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
    kind = getattr(dtype, "kind", None)
    if kind is None and not isinstance(value, type) and hasattr(value, "__array_namespace__"):
        from chainrule.core.namespace import numpy_dtype  # array-api-strict's dtype objects

        try:
            kind = numpy_dtype(dtype).kind
        except TypeError:
            return False
    return kind in _NUMBER_KINDS


def _plainly_not_numeric(value) -> bool:
    """Whether an input is not numbers by its type or dtype alone. Lists are left to NumPy,
    whose message says what is wrong inside them (a ragged row, a string)."""
    if isinstance(value, _NOT_NUMERIC_TYPES):
        return True
    dtype = getattr(value, "dtype", None)
    return isinstance(dtype, np.dtype) and dtype.kind not in _NUMBER_KINDS


# ----- how messages show values ------------------------------------------------------------------
def describe(value) -> str:
    """A value as messages show it: an array as dtype and shape (float64[2, 3]), a number as
    itself, anything else by its type."""
    shape = getattr(value, "shape", None)
    if type(shape) is tuple:
        dtype = getattr(value, "dtype", None)
        return f"{dtype if dtype is not None else ''}{list(shape)}"
    if isinstance(value, numbers.Number):
        return repr(value)
    return type(value).__name__


def _described(values) -> str:
    return ", ".join(describe(value) for value in values)


def not_numeric(what: str, value) -> InputTypeError:
    """The error for `value` given to `what` (a call, "sin()") where numbers belong."""
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype):
        given = f"an array of dtype {dtype}"
    else:
        given = f"{type(value).__name__} {reprlib.repr(value)}"
    return InputTypeError(
        f"{what} got {given} where it needs numbers; pass a number, a NumPy array of numbers "
        "(np.asarray(x, dtype=float)) or a chainrule Tensor."
    )


def not_an_array(what: str, values, exc: Exception) -> InputTypeError:
    """The error for `values` NumPy could not make an array of (`exc` says why)."""
    return InputTypeError(
        f"{what} could not make a numeric array from its inputs ({_described(values)}): "
        f"{str(exc).rstrip('.')}. Lists must be rectangular (not ragged) and hold numbers only."
    )


# ----- rewriting a failure -----------------------------------------------------------------------
def explain_failure(name: str, inputs, exc: Exception) -> Exception:
    """The exception to raise for `exc`, which NumPy raised inside the operation `name` given
    `inputs` (its arrays and numbers, not its options): a chainrule error that explains it in
    the user's terms, caused by `exc`, or `exc` itself where nothing says it better."""
    better = _explanation(name, list(inputs), exc)
    if better is None:
        return exc
    better.__cause__ = exc  # as `raise better from exc` would, at the caller's `raise`
    return better


def _explanation(name, inputs, exc):
    """The chainrule exception for `exc`, or None to let `exc` through as it is."""
    if isinstance(exc, ChainruleError):
        return _renamed(name, inputs, exc)
    what = f"{name}()"
    for value in inputs:
        if _plainly_not_numeric(value):
            return not_numeric(what, value)
    message = str(exc).rstrip(".")
    if isinstance(exc, np.linalg.LinAlgError):
        return None  # NumPy's own class, which users catch (`except LinAlgError`), as it is
    if _says(message, _RAGGED_WORDS):
        return not_an_array(what, inputs, exc)
    described = _described(inputs)
    if isinstance(exc, TypeError) and _has_complex(inputs):
        return DTypeError(
            f"{what} got complex input ({described}): {message}. NumPy does not define it for "
            "complex numbers: pass cnp.real(x), cnp.imag(x) or cnp.abs(x)."
        )
    if _says(message, _EMPTY_WORDS):
        return ShapeError(
            f"{what} cannot work on empty input ({described}): {message}. Check for empty "
            "arrays first (x.size == 0), or pass initial=... to max/min."
        )
    if _says(message, _SHAPE_WORDS):
        return ShapeError(
            f"{what} cannot combine shapes {described}: {message}. Check the operands' "
            "shapes; reshape or add axes (x[:, None]) so they line up."
        )
    if isinstance(exc, TypeError) and _says(message, _DTYPE_WORDS):
        return DTypeError(f"{what} got a dtype it cannot use ({described}): {message}.")
    return _by_class(name, described, message, exc)


def _by_class(name, described, message, exc):
    what = f"{name}()"
    if isinstance(exc, np.exceptions.AxisError):
        return ShapeError(
            f"{what} got an axis out of range for its input ({described}): {message}. "
            "Axes count from 0 (or from -1 at the end) and must be below the input's ndim."
        )
    if isinstance(exc, IndexError):
        return IndexOutOfRangeError(
            f"{what} got an index that does not fit its input ({described}): {message}."
        )
    if isinstance(exc, TypeError):
        return InputTypeError(
            f"{what} cannot take these arguments ({described}): {message}. Pass numbers, "
            "NumPy arrays or chainrule Tensors, and ints (or tuples of ints) for shapes and axes."
        )
    if isinstance(exc, ValueError) and not isinstance(exc, np.linalg.LinAlgError):
        return ArgumentError(
            f"{what} cannot work on these arguments ({described}): {message}. Check them "
            f"against NumPy's documentation of {name}."
        )
    # NumPy's own class is the meaningful one (a singular matrix); name the operation in it.
    if message.startswith(name + "("):
        return None  # an operation inside this one already named itself
    return _same_class(exc, f"{what} failed on inputs {described}: {message}")


def _renamed(name, inputs, exc):
    """For a chainrule error raised inside `name`: one that names `name`, or None to keep it."""
    if isinstance(exc, GraphEscapeError):
        return None  # it names the conversion and its fix
    message = str(exc)
    if message.startswith((name + "(", name + ":", name + " ")):
        return None
    return _same_class(exc, f"{name}(): {message}")


def _same_class(exc, message):
    try:
        return type(exc)(message)
    except TypeError:  # an exception class with a constructor of its own
        return None


def _says(message, words) -> bool:
    return any(word in message for word in words)


def _has_complex(values) -> bool:
    return any(
        isinstance(value, complex) or getattr(getattr(value, "dtype", None), "kind", "") == "c"
        for value in values
    )
