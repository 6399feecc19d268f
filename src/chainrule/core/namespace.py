"""Arrays that are not NumPy's: Dask, CuPy, and any array of the Python array API standard.

A Tensor may hold such an array, and primitives apply to it through the array's own namespace
(found by the `array-api-compat` package, imported only when such an array first appears, so a
NumPy-only program never pays for it): a row's `xp` rule if it has one, else the standard
function of its ufunc's name (np.arcsin -> xp.asin). NumPy operands mixed in (a model's
parameters, an engine's seed) are converted with `xp.asarray`; a Dask array stays lazy, and
Dask holds the graph of chunks while chainrule records the small graph of primitives.

A primitive with no spelling in the namespace raises UnsupportedFunctionError naming it and the
workaround (Dask's `map_blocks`), never a silent conversion to NumPy (which, for Dask, would
compute the whole array in this process).
"""

import numpy as np

from chainrule.errors import UnsupportedFunctionError, require_extra

__all__ = ["NATIVE_TYPES", "is_foreign", "foreign_call", "namespace_of", "numpy_dtype", "like"]

# Types whose values NumPy implementations take as they are (checked by type, not isinstance:
# the per-op cost is one set lookup).
NATIVE_TYPES = {
    np.ndarray, float, int, bool, complex, type(None), tuple, list, slice, str, type(Ellipsis),
    np.float64, np.float32, np.float16, np.complex128, np.complex64, np.int64, np.int32,
    np.int16, np.int8, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.dtype,
}

# NumPy's ufunc names that the array API standard spells differently.
_STANDARD_NAMES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "power": "pow", "absolute": "abs",
    "true_divide": "divide", "conjugate": "conj", "invert": "bitwise_invert",
    "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift",
}


def is_foreign(value) -> bool:
    """Whether `value` is an array of another library (it has an array namespace)."""
    kind = type(value)
    if kind in NATIVE_TYPES or isinstance(value, (np.ndarray, np.generic)):
        return False
    return hasattr(value, "__array_namespace__") or kind.__module__.split(".")[0] in (
        "dask", "cupy"
    )


def namespace_of(value):
    """The array-API namespace of a foreign array (array_api_compat's wrapper for Dask and
    CuPy, the array's own for array-API libraries)."""
    compat = require_extra("array_api_compat", "dask", package="array-api-compat")
    return compat.array_namespace(value)


def numpy_dtype(dtype) -> np.dtype:
    """A foreign dtype (array_api_strict.float64, ...) as NumPy's, for the dtype policy."""
    if isinstance(dtype, np.dtype):
        return dtype
    inner = getattr(dtype, "_np_dtype", None)  # array-api-strict keeps NumPy's inside
    return np.dtype(inner if inner is not None else str(dtype))


def foreign_call(primitive, values, params):
    """Apply `primitive` to operands among which at least one is a foreign array."""
    anchor = next(value for value in values if is_foreign(value))
    xp = namespace_of(anchor)
    operands = [_adopt(value, xp, anchor) for value in values]
    rule = primitive.xp
    if rule is not None:
        return rule(xp, *operands, **params)
    ufunc = primitive.ufunc
    if ufunc is None:
        ufunc = getattr(primitive.impl, "ufunc", None)
    if isinstance(ufunc, np.ufunc) and not params:
        function = getattr(xp, _STANDARD_NAMES.get(ufunc.__name__, ufunc.__name__), None)
        if function is not None:
            return function(*operands)
    raise UnsupportedFunctionError(
        f"{primitive.name} has no implementation for {type(anchor).__module__}."
        f"{type(anchor).__name__} arrays (shape {getattr(anchor, 'shape', '?')}, dtype "
        f"{getattr(anchor, 'dtype', '?')}): neither its namespace ({xp.__name__}) spells it nor "
        "does chainrule's row. chainrule never converts such an array to NumPy behind your back "
        "(for Dask that would compute it all in this process). Apply the NumPy function block "
        "by block (dask.array.map_blocks(f, x), with your own derivative via cr.custom_vjp), "
        "or convert explicitly where it fits in memory (x.compute(), cupy.asnumpy(x))."
    )


def like(value, reference):
    """`value` in `reference`'s array library when `reference` is a foreign array and `value` a
    NumPy one (a gradient of constants only, d sum(x)/dx = ones, is computed in NumPy): results
    come back as the input's array type. Anything else as it is."""
    if isinstance(value, (np.ndarray, np.generic)) and is_foreign(reference):
        return namespace_of(reference).asarray(value)
    return value


def _adopt(value, xp, anchor):
    """An operand in the anchor's library: NumPy arrays and NumPy scalars converted (small:
    parameters, seeds, constants), Python numbers and foreign arrays as they are."""
    if isinstance(value, np.ndarray):
        return xp.asarray(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
