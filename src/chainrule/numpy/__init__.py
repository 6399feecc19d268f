"""`chainrule.numpy`: use it like `import numpy as np`, and everything is differentiable.

Functions here take NumPy arrays, Python numbers or chainrule Tensors. On plain arrays they
return plain arrays (NumPy's own result); on Tensors, or inside a transform, they record.
This module only assembles the namespace: the registry's rows under their NumPy names, the
composites of the topic modules (creation, elementwise, shapes, reductions, selection, products,
ml, linalg, fft), NumPy's non-differentiable surface (arange, float64, pi, ...) passed through; then
it builds NumPy's dispatch tables from the same names.
"""


import numpy as _np

from chainrule.core.dtypes import dtype_of as _dtype_of
from chainrule.core.primitive import REGISTRY as _REGISTRY
from chainrule.core.tensor import HANDLED_FUNCTIONS as _HANDLED_FUNCTIONS
from chainrule.core.tensor import HANDLED_UFUNCS as _HANDLED_UFUNCS
from chainrule.numpy import (
    creation,
    elementwise,
    fft,
    linalg,
    ml,
    polynomials,
    products,
    reductions,
    selection,
    shapes,
    signal,
    statistics,
)
from chainrule.numpy._common import plain as _plain
from chainrule.numpy._explain import wrap_public as _wrap_public
from chainrule.numpy.linalg import norm  # noqa: F401

# ----- NumPy's non-differentiable surface, passed through --------------------------------------
_PASSED_THROUGH = (
    "allclose", "arange", "array_equal", "bool_", "dtype", "e", "euler_gamma", "eye", "finfo",
    "float16", "float32", "float64", "floating", "identity", "iinfo", "indices", "inf", "int8",
    "int16", "int32", "int64", "integer", "isclose", "linspace", "logspace", "meshgrid", "nan",
    "ndarray", "newaxis", "pi", "uint8",
)
globals().update((_name, getattr(_np, _name)) for _name in _PASSED_THROUGH)

# ----- the registry's rows under their NumPy names ----------------------------------------------
# Each row lists its names (sin; abs, absolute, fabs...): none is kept by hand here.
_ROW_NAMES = {name: primitive for primitive in _REGISTRY.values() for name in primitive.names}
globals().update(_ROW_NAMES)

# ----- the composites, by topic (a composite takes its name over a row's: round, sum...) -------
_TOPICS = (
    creation, elementwise, shapes, reductions, selection, products, ml, statistics, polynomials,
    signal,
)
_COMPOSITES = {name: getattr(topic, name) for topic in _TOPICS for name in topic.__all__}
globals().update(_COMPOSITES)

__all__ = sorted(
    {*_PASSED_THROUGH, *_ROW_NAMES, *_COMPOSITES, "fft", "linalg", "norm"}
)
_wrap_public(
    globals(), __all__,
    not_array_first={"arange", "linspace", "logspace", "eye", "identity", "indices", "meshgrid"},
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

# NumPy's answer on the plain values, for functions whose results carry no derivative.
for _function in (_np.allclose, _np.isclose, _np.array_equal, _np.nonzero, _np.count_nonzero,
                  _np.any, _np.all, _np.array_equiv, _np.searchsorted, _np.iscomplex,
                  _np.isreal):
    _HANDLED_FUNCTIONS[_function] = _plain(_function)


# Questions about the dtype alone answer for a Tensor as for its array (batched or not).
for _function in (_np.iscomplexobj, _np.isrealobj):
    _HANDLED_FUNCTIONS[_function] = (
        lambda function: lambda x: function(_np.empty(0, dtype=_dtype_of(x)))
    )(_function)


def __getattr__(name):
    # numpy.random costs ~20 ms to import; pass it through only when asked for.
    if name == "random":
        return _np.random
    raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}")
