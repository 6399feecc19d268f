"""The elementwise functions that are not rows of the registry themselves: `round` with its
`decimals`, `positive`, `angle` (the argument of a complex number, from its parts), and
`nan_to_num`, which replaces entries with `where`."""

import numpy as np

from chainrule.core.dtypes import dtype_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.tensor import raw_value
from chainrule.core.trace import physical_value
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import copy as _copy
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const

__all__ = ["round", "around", "positive", "angle", "nan_to_num"]


def round(a, decimals=0):  # noqa: A001
    return _elementwise.round(a, decimals=decimals)


around = round


def angle(z, deg=False):
    """The argument of z, atan2(imag(z), real(z)), in radians (degrees with deg=True), as
    np.angle; differentiable wherever z != 0 (real z: 0 or pi, derivative 0)."""
    radians = _elementwise.arctan2(_elementwise.imag(z), _elementwise.real(z))
    return radians * (180.0 / np.pi) if deg else radians


def positive(x):
    return x


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (defaults: the dtype's largest and most
    negative finite numbers), recorded: finite entries keep their derivative, replaced ones get
    the derivative of their replacement (0 for a number)."""
    dtype = dtype_of(x)
    if dtype.kind not in "fc":
        if type(x) in TRACED_TYPES and x._trace.batched:
            return x  # integers are finite: nothing to replace
        value = np.asarray(raw_value(x))
        return np.nan_to_num(value, copy=copy, nan=raw_value(nan), posinf=posinf, neginf=neginf)
    info = np.finfo(dtype)
    value = const(x)  # under vmap each example has its own masks
    infinite = _elementwise.isinf(value)
    result = x
    for mask, replacement in (
        (_elementwise.isnan(value), nan),
        (_elementwise.logical_and(infinite, value > 0), info.max if posinf is None else posinf),
        (_elementwise.logical_and(infinite, value < 0), info.min if neginf is None else neginf),
    ):
        if np.any(physical_value(mask)):
            result = _elementwise.where(mask, replacement, result)
    return result if result is not x or not copy else _copy(x)


wrap_public(globals(), __all__)
