"""chainrule.numpy's public functions, wrapped so that NumPy's failures inside them surface as
chainrule's exceptions (and the allocation checks of the functions that create arrays).

`wrap_public` wraps each public function of `chainrule.numpy` and `chainrule.numpy.linalg`
once, at import. On success a wrapper costs one call and one `try`; on failure core/explain.py
rewrites the exception, as `bind` does for a primitive (primitives are not wrapped), naming the
function the user called, what it was given and the fix.
"""

import functools
import operator
import os

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.explain import (
    NUMPY_ERRORS,
    explain_failure,
    is_numeric,
    is_numeric_dtype,
    not_numeric,
)
from chainrule.core.primitive import TRACED_TYPES, Primitive
from chainrule.core.tensor import holds_tensor, stack_values
from chainrule.errors import AllocationError, BatchingError, InputTypeError, ShapeError

__all__ = [
    "explained", "wrap_public", "allocation_shape", "check_numeric", "check_allocation",
]


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
                    raise not_numeric(f"{name}()", first)
            elif kind not in _NUMERIC_TYPES and kind not in TRACED_TYPES and not is_numeric(first):
                raise not_numeric(f"{name}()", first)
        try:
            return function(*args, **kwargs)
        except BatchingError as exc:
            if str(exc).startswith("cnp."):
                raise
            # Which function needed one value of a batched one: vmap's message can't know.
            raise type(exc)(f"cnp.{name}: {exc}").with_traceback(exc.__traceback__) from None
        except NUMPY_ERRORS as exc:
            if _is_call_error(exc):
                raise  # a wrong signature: Python's own message says it best
            raise explain_failure(name, _inputs(args, kwargs), exc)  # noqa: B904 (cause set)

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
    """The arguments that are data, for the message: lists opened one level (concatenate's list
    of arrays); strings left out, being options (einsum's subscripts, ord='fro'), and None too
    unless it stands where the array belongs (axis=None is an option left out)."""
    inputs = []
    for position, value in enumerate((*args, *kwargs.values())):
        if isinstance(value, (list, tuple)) and not _is_number_list(value):
            inputs.extend(_described(item) for item in value)
        elif not isinstance(value, (str, bytes)) and (value is not None or position == 0):
            inputs.append(_described(value))
    return inputs


def _described(value):
    """What a message shows of an argument: its value, or for a Tensor an empty array of one
    example's shape and dtype (a batched value under vmap has no single value)."""
    if type(value) in TRACED_TYPES:
        return np.broadcast_to(np.zeros((), dtype_of(value)), shape_of(value))
    return value


def _is_number_list(value) -> bool:
    return all(isinstance(item, (int, float, complex, np.number)) for item in value)


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
        raise not_numeric(f"{what}()", value)


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
