"""NumPy's failures inside chainrule.numpy's functions, rewritten as chainrule's exceptions.

`wrap_public` wraps each public function of `chainrule.numpy` and `chainrule.numpy.linalg`
once, at import. On success a wrapper costs one call and one `try`; on failure it raises a
`ChainruleError` subclass that names the function the user called, what it was given and the
fix. Primitives are not wrapped: `bind` already explains their failures.
"""

import functools
import operator
import os

import numpy as np

from chainrule.core.dtypes import is_numeric, is_numeric_dtype
from chainrule.core.primitive import TRACED_TYPES, Primitive, _explain_failure
from chainrule.core.tensor import holds_tensor, raw_value, stack_values
from chainrule.errors import (
    AllocationError,
    ArgumentError,
    ChainruleError,
    DTypeError,
    IndexOutOfRangeError,
    InputTypeError,
    ShapeError,
)

__all__ = [
    "explained", "wrap_public", "allocation_shape", "check_numeric", "check_allocation",
]

# AttributeError and ZeroDivisionError come from NumPy's object-dtype loops (None.sin()); they
# are rewritten only when an input is not numeric, and otherwise re-raised untouched.
_CAUGHT = (TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError)
_EMPTY_WORDS = ("zero-size array", "empty sequence", "at least one array", "empty array")


class _Named:
    """What `_explain_failure` needs of a primitive: its name."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def explained(function, name=None, array_first=True):
    """`function`, raising chainrule's exceptions (naming `name`) where NumPy's would escape.

    With `array_first`, the first argument is checked to be numeric before the call: NumPy
    would quietly wrap None or a string in an object array and return nonsense. Lists and
    tuples are left for NumPy to read (a ragged one gets its own message afterwards).
    """
    name = name or function.__name__

    @functools.wraps(function)
    def public(*args, **kwargs):
        if array_first and _tensor_list_among(args, kwargs):
            args, kwargs = _stacked(args, kwargs)
        if array_first and args:
            first = args[0]
            kind = type(first)
            if kind is np.ndarray:
                if first.dtype not in _NUMERIC_DTYPES and not is_numeric_dtype(first.dtype):
                    raise _not_numeric(name, first)
            elif kind not in _NUMERIC_TYPES and kind not in TRACED_TYPES and not is_numeric(first):
                raise _not_numeric(name, first)
        try:
            return function(*args, **kwargs)
        except _CAUGHT as exc:
            better = _rewrite(name, args, kwargs, exc)
            if better is None:
                raise
            raise better from exc

    public.__explained__ = True
    return public


def _tensor_list_among(args, kwargs) -> bool:
    """Whether a list or tuple holding a Tensor is among the arguments (cnp.mean([x, y]))."""
    for arg in args:
        if (type(arg) is list or type(arg) is tuple) and holds_tensor(arg):
            return True
    return bool(kwargs) and _tensor_list_among(tuple(kwargs.values()), None)


def _stacked(args, kwargs):
    """The arguments with each list or tuple holding Tensors stacked into one recorded array,
    as NumPy would make one array of it, so the derivative reaches every entry (NumPy itself
    would convert the entries to plain numbers and drop it)."""

    def stacked(arg):
        if (type(arg) is list or type(arg) is tuple) and holds_tensor(arg):
            return stack_values(arg)
        return arg

    return [stacked(arg) for arg in args], {k: stacked(v) for k, v in kwargs.items()}


def wrap_public(namespace: dict, names, not_array_first=()) -> None:
    """Replace each public function `namespace[name]` by its `explained` version, in place.
    `not_array_first` names the functions whose first argument is not an array (a shape, a
    list of arrays, einsum's subscripts)."""
    for name in names:
        function = namespace[name]
        if not callable(function) or isinstance(function, (type, Primitive)):
            continue
        if getattr(function, "__explained__", False):
            continue
        namespace[name] = explained(function, name, name not in not_array_first)


# ----- the check of the first argument -----------------------------------------------------------
# The common types and dtypes pass with one set lookup (cheaper than `is_numeric`, ~35 ns against
# ~60 for reading dtype.kind); lists and tuples pass too, for NumPy to read. Anything else
# (Dask or CuPy arrays, None, strings) is judged by `is_numeric`.
_NUMERIC_TYPES = frozenset(
    {float, int, bool, list, tuple, np.float64, np.float32, np.float16, np.int64, np.int32,
     np.bool_, np.complex128}
)
_NUMERIC_DTYPES = frozenset(np.dtype(code) for code in ("f8", "f4", "f2", "i8", "i4", "b1", "c16"))


def _not_numeric(name, value):
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        what = f"an array of dtype {dtype}"
    else:
        what = f"{type(value).__name__} {value!r}"
    return InputTypeError(
        f"{name}() got {what} where it needs numbers; pass a number, a NumPy array of numbers "
        "(np.asarray(x, dtype=float)) or a chainrule Tensor."
    )


# ----- the rewrite -------------------------------------------------------------------------------
def _rewrite(name, args, kwargs, exc):
    """A chainrule exception for `exc`, or None to let `exc` through as it is."""
    if isinstance(exc, ChainruleError):
        if type(exc) is InputTypeError and _has_complex(_inputs(args, kwargs)):
            return DTypeError(
                f"{name}(): {exc} Complex numbers are not supported here: pass x.real, abs(x), "
                "or the real and imaginary parts separately."
            )
        return _named(name, exc)
    if _is_call_error(exc):
        return None  # a wrong signature: Python's own message says it best
    values = _inputs(args, kwargs)
    if _has_non_numeric(values):
        return _explain_failure(_Named(name), values, {}, exc)
    if isinstance(exc, (AttributeError, ZeroDivisionError)):
        return None
    described = ", ".join(_describe(v) for v in values)
    message = str(exc).rstrip(".")
    if isinstance(exc, (TypeError, np.linalg.LinAlgError)) and _has_complex(values):
        return DTypeError(
            f"{name}() got complex input ({described}): {message}. chainrule differentiates "
            "real arrays: pass x.real, abs(x), or the real and imaginary parts separately."
        )
    if isinstance(exc, np.linalg.LinAlgError):
        return None  # singular or non-convergent: NumPy's own class is the meaningful one
    if any(word in message for word in _EMPTY_WORDS):
        return ShapeError(
            f"{name}() cannot work on empty input ({described}): {message}. Check for empty "
            "arrays first (x.size == 0), or pass initial=... to max/min."
        )
    if isinstance(exc, TypeError) and ("data type" in message or "dtype" in message):
        return DTypeError(f"{name}() got a dtype it cannot use ({described}): {message}.")
    # Strings are often legitimate options (einsum's subscripts, ord='fro'); an input that is
    # a string where a number belongs reaches a primitive, whose `bind` explains it.
    arrays = [value for value in values if not isinstance(value, (str, bytes))]
    general = _explain_failure(_Named(name), arrays, {}, exc)
    if isinstance(general, ChainruleError):
        return general
    return _by_class(name, described, message, exc)


def _by_class(name, described, message, exc):
    if isinstance(exc, np.exceptions.AxisError):
        return ShapeError(
            f"{name}() got an axis out of range for its input ({described}): {message}. "
            "Axes count from 0 (or from -1 at the end) and must be below the input's ndim."
        )
    if isinstance(exc, IndexError):
        return IndexOutOfRangeError(
            f"{name}() got an index out of range for its input ({described}): {message}."
        )
    if isinstance(exc, TypeError):
        return InputTypeError(
            f"{name}() cannot take these arguments ({described}): {message}. Pass numbers, "
            "NumPy arrays or chainrule Tensors, and ints (or tuples of ints) for shapes and axes."
        )
    return ArgumentError(
        f"{name}() cannot work on these arguments ({described}): {message}. Check them against "
        f"numpy's documentation of {name}."
    )


def _named(name, exc):
    """`exc` itself when its message already names `name`, else a copy that does."""
    message = str(exc)
    if message.startswith((name + "(", name + ":", name + " ")):
        return None
    try:
        return type(exc)(f"{name}(): {message}")
    except TypeError:  # an exception class with a constructor of its own
        return None


def _is_call_error(exc) -> bool:
    # Calling a Python function with the wrong arguments fails in the wrapper's own frame.
    traceback = exc.__traceback__
    return (
        isinstance(exc, TypeError)
        and traceback is not None
        and traceback.tb_next is None
        and "argument" in str(exc)
    )


def _inputs(args, kwargs):
    """The arguments, with one level of lists opened (concatenate's list of arrays)."""
    values = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, (list, tuple)) and not _is_number_list(value):
            values.extend(raw_value(item) for item in value)
        else:
            values.append(raw_value(value))
    return values


def _is_number_list(value) -> bool:
    return all(isinstance(item, (int, float, complex, np.number)) for item in value)


def _has_non_numeric(values) -> bool:
    # None counts only as the first argument: elsewhere it is an option left out (axis=None).
    if values and values[0] is None:
        return True
    for value in values:
        if isinstance(value, (dict, set, frozenset)):
            return True
        dtype = getattr(value, "dtype", None)
        if dtype is not None and not is_numeric_dtype(dtype):
            return True
    return False


def _has_complex(values) -> bool:
    return any(
        isinstance(value, complex) or getattr(getattr(value, "dtype", None), "kind", "") == "c"
        for value in values
    )


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    if shape is None:
        return type(value).__name__ if not isinstance(value, (int, float)) else repr(value)
    return f"{getattr(value, 'dtype', '')}{list(shape)}"


# ----- allocation --------------------------------------------------------------------------------
def allocation_shape(shape, dtype, what: str) -> tuple:
    """`shape` as a tuple of ints, after checking it is one and that it fits in memory."""
    try:
        dims = (operator.index(shape),) if np.ndim(shape) == 0 else tuple(
            operator.index(size) for size in shape
        )
    except (TypeError, ValueError):
        raise InputTypeError(
            f"{what}() got shape {shape!r}, which is not an int or a sequence of ints; "
            "pass e.g. 3 or (3, 4)."
        ) from None
    if any(size < 0 for size in dims):
        raise ShapeError(f"{what}() got negative dimensions in shape {dims}; sizes must be >= 0.")
    check_allocation(dims, dtype, f"{what}() cannot allocate")
    return dims


def check_numeric(value, what: str) -> None:
    """Raise InputTypeError if `value` is not numeric (None, a string, an object array); lists
    and tuples pass, for NumPy to read."""
    kind = type(value)
    if kind not in _NUMERIC_TYPES and kind not in TRACED_TYPES and not is_numeric(value):
        raise _not_numeric(what, value)


# ----- allocation limits -------------------------------------------------------------------------
def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return 1 << 62


_MEMORY_LIMIT = _physical_memory()


def check_allocation(shape, dtype, what: str) -> None:
    """Raise AllocationError, before allocating, if an array of `shape` and `dtype` could not fit
    in this machine's memory (NumPy would fail, or succeed lazily and be killed later)."""
    count = 1
    for size in shape:
        count *= int(size)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes > _MEMORY_LIMIT:
        raise AllocationError(
            f"{what}: an array of shape {tuple(shape)} and dtype {np.dtype(dtype)} needs "
            f"{_human(nbytes)}, more than this machine's {_human(_MEMORY_LIMIT)} of memory. "
            "Use a smaller shape, work in chunks (batches), or a float32 dtype."
        )


def _human(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{nbytes} B"
        nbytes /= 1024
    return f"{nbytes} B"  # pragma: no cover
