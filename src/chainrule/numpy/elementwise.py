"""The elementwise functions that are not rows of the registry themselves: `round` with its
`decimals`, `positive` and `conjugate` (identities on the real numbers chainrule
differentiates), and `nan_to_num`, which replaces entries with `where`."""

import numpy as np

from chainrule.core.tensor import raw_value
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import copy as _copy
from chainrule.ops import elementwise as _elementwise

__all__ = ["round", "around", "positive", "conjugate", "conj", "nan_to_num"]


def round(a, decimals=0):  # noqa: A001
    return _elementwise.round(a, decimals=decimals)


around = round

conjugate = conj = lambda x: x  # real numbers only


def positive(x):
    return x


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (defaults: the dtype's largest and most
    negative finite numbers), recorded: finite entries keep their derivative, replaced ones get
    the derivative of their replacement (0 for a number)."""
    value = np.asarray(raw_value(x))
    if value.dtype.kind not in "fc":
        return np.nan_to_num(value, copy=copy, nan=raw_value(nan), posinf=posinf, neginf=neginf)
    info = np.finfo(value.dtype)
    result = x
    for mask, replacement in (
        (np.isnan(value), nan),
        (np.isposinf(value), info.max if posinf is None else posinf),
        (np.isneginf(value), info.min if neginf is None else neginf),
    ):
        if mask.any():
            result = _elementwise.where(replacement, result, condition=mask)
    return result if result is not x or not copy else _copy(x)


wrap_public(globals(), __all__)
