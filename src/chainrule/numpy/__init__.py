"""`chainrule.numpy`: use it like `import numpy as np`, and everything is differentiable.

Functions here take NumPy arrays, Python numbers or chainrule Tensors. On plain arrays they
return plain arrays (NumPy's own result); on Tensors, or inside a transform, they record.
This module only assembles the namespace: the registry's rows under their NumPy names, the
composites of the topic modules (creation, elementwise, shapes, reductions, selection, products,
ml, statistics, polynomials, signal, sets, histograms, functional, linalg, fft), NumPy's
non-differentiable surface (dtypes, printing, integer and bitwise operations, index helpers,
...) passed through; then it builds NumPy's dispatch tables from the same names. A missing
name's AttributeError says why it is missing (numpy/_refused.py).
"""

import numpy as _np

from chainrule.core.primitive import REGISTRY as _REGISTRY
from chainrule.core.tensor import HANDLED_FUNCTIONS as _HANDLED_FUNCTIONS
from chainrule.core.tensor import HANDLED_UFUNCS as _HANDLED_UFUNCS
from chainrule.core.tensor import _unsupported_message
from chainrule.numpy import (
    _refused,
    creation,
    elementwise,
    fft,
    functional,
    histograms,
    linalg,
    ml,
    polynomials,
    products,
    reductions,
    selection,
    sets,
    shapes,
    signal,
    statistics,
)
from chainrule.numpy._common import by_aval as _by_aval
from chainrule.numpy._common import plain as _plain
from chainrule.numpy._explain import wrap_public as _wrap_public
from chainrule.numpy.linalg import norm  # noqa: F401

# ----- the registry's rows under their NumPy names ----------------------------------------------
# Each row lists its names (sin; abs, absolute, fabs...): none is kept by hand here.
_ROW_NAMES = {name: primitive for primitive in _REGISTRY.values() for name in primitive.names}
globals().update(_ROW_NAMES)

# ----- the composites, by topic (a composite takes its name over a row's: round, sum...) -------
_TOPICS = (
    creation, elementwise, shapes, reductions, selection, products, ml, statistics, polynomials,
    signal, sets, histograms, functional,
)
_COMPOSITES = {name: getattr(topic, name) for topic in _TOPICS for name in topic.__all__}
globals().update(_COMPOSITES)

# ----- NumPy's non-differentiable surface, passed through ---------------------------------------
# Names whose results carry no derivative by nature, in four groups by how they meet a Tensor.
# A row or composite of the same name takes precedence (linspace, once it takes Tensor ends).
_AS_IS = (  # NumPy's own objects: constants, dtypes, and functions of shapes, ints or dtypes
    "e", "euler_gamma", "inf", "nan", "newaxis", "pi",
    "bool", "bool_", "int8", "int16", "int32", "int64", "int_", "intp", "uint", "uint8",
    "uint16", "uint32", "uint64", "uintp", "float16", "float32", "float64", "single", "double",
    "complex64", "complex128", "csingle", "cdouble", "generic", "number", "integer",
    "signedinteger", "unsignedinteger", "inexact", "floating", "complexfloating", "character",
    "flexible", "object_", "dtype", "ndarray", "ufunc",
    "finfo", "iinfo", "promote_types", "issubdtype", "isdtype", "broadcast_shapes", "isscalar",
    "iterable", "set_printoptions", "get_printoptions", "printoptions",
    "arange", "eye", "identity", "linspace", "logspace", "meshgrid", "indices", "tril_indices",
    "triu_indices", "diag_indices", "mask_indices", "mgrid", "ogrid", "s_", "index_exp",
    "bartlett", "blackman", "hamming", "hanning",
    "load", "frombuffer", "fromfile", "fromiter", "fromstring", "from_dlpack", "fromfunction",
)
_ON_VALUES = (  # NumPy on the plain values; under vmap, once per example (integer results)
    "allclose", "isclose", "array_equal", "array_equiv", "iscomplex", "isreal", "signbit",
    "isneginf", "isposinf", "isin",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert", "invert",
    "bitwise_count", "left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift",
    "gcd", "lcm", "packbits", "unpackbits",
    "searchsorted", "digitize", "argwhere", "flatnonzero", "argpartition", "lexsort",
    "nanargmax", "nanargmin", "tril_indices_from", "triu_indices_from", "diag_indices_from",
    "unravel_index", "ravel_multi_index",
)
_BY_AVAL = (  # questions about shapes and dtypes: a Tensor answers as its (example's) array
    "can_cast", "min_scalar_type", "iscomplexobj", "isrealobj", "einsum_path",
)
_ONCE = (  # strings and files: NumPy on the plain values; a BatchingError under vmap
    "array2string", "array_repr", "array_str", "save", "savez", "savez_compressed",
)
_DEFINED = {*_ROW_NAMES, *_COMPOSITES}
_PASSED_THROUGH = {  # name -> its group, for tools/coverage.py and the tests
    name: group
    for group, names in (("as is", _AS_IS), ("values", _ON_VALUES), ("aval", _BY_AVAL),
                         ("once", _ONCE))
    for name in names if name not in _DEFINED and hasattr(_np, name)
}


def _passed(name, group):
    function = getattr(_np, name)
    if group == "values":
        return _plain(function, name=name)
    if group == "aval":
        return _by_aval(function, name=name)
    if group == "once":
        return _plain(function, per_example=False, name=name)
    return function


globals().update((name, _passed(name, group)) for name, group in _PASSED_THROUGH.items())

__all__ = sorted(
    {*_PASSED_THROUGH, *_ROW_NAMES, *_COMPOSITES, "fft", "linalg", "norm"}
)
_wrap_public(
    globals(), __all__,
    not_array_first={
        "arange", "linspace", "logspace", "eye", "identity", "indices", "meshgrid",
        *(name for name, group in _PASSED_THROUGH.items() if group != "values"),
    },
)


# ----- NumPy dispatch tables (NEP-13 ufuncs, NEP-18 functions) -----------------------------------
def _ufunc_named(name):
    ufunc = getattr(_np, name, None)
    return ufunc if isinstance(ufunc, _np.ufunc) else None


def _dispatched_under(name):
    """NumPy's ufunc or `__array_function__`-dispatched function called `name`, if it has that
    name itself: an alias (np.conj, np.concat, np.permute_dims) answers under its own name."""
    function = getattr(_np, name, None)
    dispatched = isinstance(function, _np.ufunc) or hasattr(function, "_implementation")
    return function if dispatched and function.__name__ == name else None


# Every row answers to its ufunc and to its aliases' (np.fabs...). Then each row and composite
# answers to NumPy's function of its name (np.fix, np.sum), and a composite to NumPy's ufunc of
# its name (np.positive). np.astype (NumPy 2.1) records like x.astype.
for _primitive in _REGISTRY.values():
    for _ufunc in {_primitive.ufunc, *map(_ufunc_named, _primitive.names)} - {None}:
        _HANDLED_UFUNCS[_ufunc] = _primitive
for _name in {*_ROW_NAMES, *_COMPOSITES}:
    _numpy_function = _dispatched_under(_name)
    if isinstance(_numpy_function, _np.ufunc) and _name not in _ROW_NAMES:
        _HANDLED_UFUNCS[_numpy_function] = globals()[_name]
    elif _numpy_function is not None and not isinstance(_numpy_function, _np.ufunc):
        _HANDLED_FUNCTIONS[_numpy_function] = globals()[_name]
for _name in linalg.__all__:
    if not _name[0].isupper() and hasattr(_np.linalg, _name):
        _HANDLED_FUNCTIONS[getattr(_np.linalg, _name)] = getattr(linalg, _name)
for _name in fft.__all__:  # fftfreq and rfftfreq take no array: NumPy does not dispatch them
    if hasattr(getattr(_np.fft, _name), "_implementation"):
        _HANDLED_FUNCTIONS[getattr(_np.fft, _name)] = getattr(fft, _name)

# The pass-through functions answer NumPy's own (np.searchsorted(t, v), np.gcd(i, j)); so do a
# few functions whose results carry no derivative, over the composites of their names.
for _name, _group in _PASSED_THROUGH.items():
    _numpy_function = getattr(_np, _name)
    if _group == "as is":
        continue
    if isinstance(_numpy_function, _np.ufunc):
        _HANDLED_UFUNCS[_numpy_function] = globals()[_name]
    elif hasattr(_numpy_function, "_implementation"):
        _HANDLED_FUNCTIONS[_numpy_function] = globals()[_name]
for _function in (_np.nonzero, _np.count_nonzero, _np.any, _np.all):
    _HANDLED_FUNCTIONS[_function] = _plain(_function)
# Dispatch's message for a NumPy function with no rule says what this namespace knows of it.
_unsupported_message.status_of = _refused.dispatch_status


def __getattr__(name):
    # numpy.random costs ~20 ms to import; pass it through only when asked for.
    if name == "random":
        return _np.random
    if name.startswith("__"):  # Python's own probes (__path__, __wrapped__...): no advice
        raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}")
    raise AttributeError(_missing_message(name))


def _missing_message(name):
    """cnp.<name> does not exist: say whether it is refused (and why), in chainrule.scipy,
    planned or out of scope, and name the closest names that do exist."""
    message = f"module 'chainrule.numpy' has no attribute {name!r}. {_refused.status_of(name)}"
    close = [] if name in _refused.REFUSED else _refused.closest(name, __all__)
    if close:
        message += " Did you mean " + ", ".join(f"cnp.{match}" for match in close) + "?"
    return message
