"""Reductions: sums, means, variances, products, extrema, cumulative sums and products, and
`logsumexp`, each over any axes as NumPy takes them. `mean`, `var` and `std` are composites of
`sum`; the others record one primitive of `chainrule.ops.reduce`. any, all and count_nonzero
carry no derivative: NumPy answers on plain values, and under vmap reductions of a mask do,
one answer per example."""

import builtins

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.core.tensor import Tensor, raw_value
from chainrule.core.trace import physical_value
from chainrule.numpy._common import (
    array_dtype,
    differentiable,
    filled,
    ndim_of,
    normalize_axes,
    normalize_axis,
    reject,
)
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.shapes import ravel
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import reduce as _reduce
from chainrule.ops._rules import const

__all__ = [
    "sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
    "cumsum", "cumprod", "logsumexp", "any", "all", "count_nonzero",
]


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    reject("sum", out, where)
    if dtype is not None:
        a = astype(a, dtype)
    result = _reduce.sum(a, axis=normalize_axes(axis, ndim_of(a), "sum"), keepdims=keepdims)
    return result if initial is None else result + initial


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    reject("mean", out, where)
    axes = normalize_axes(axis, ndim_of(a), "mean")
    count = int(np.prod([shape_of(a)[i] for i in axes], dtype=np.int64))
    total = sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    return total / count if count else total * np.nan


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    reject("var", out, where)
    axes = normalize_axes(axis, ndim_of(a), "var")
    centred = a - mean(a, axis=axes, dtype=dtype, keepdims=True)
    count = int(np.prod([shape_of(a)[i] for i in axes], dtype=np.int64))
    if array_dtype(a).kind == "c":  # NumPy's: mean |x - mean(x)|^2, a real number
        squares = _elementwise.real(centred) ** 2 + _elementwise.imag(centred) ** 2
    else:
        squares = centred * centred
    return sum(squares, axis=axes, keepdims=keepdims) / builtins.max(count - ddof, 0)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    variance = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where)
    # std is |x - mean| / sqrt(n - ddof): a cone with its tip where the variance is 0 (a constant
    # row). There it takes the subgradient 0, as PyTorch does: the outer where makes std there a
    # constant 0, and the inner one keeps sqrt's infinite derivative at 0 out of the graph, so
    # no derivative of any order is NaN and a constant row leaves the other rows alone.
    constant = _elementwise.equal(const(variance), 0)
    if not np.any(physical_value(constant)):  # no constant row in any example
        return _elementwise.sqrt(variance)
    root = _elementwise.sqrt(_elementwise.where(constant, 1.0, variance))
    return _elementwise.where(constant, 0.0, root)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    reject("prod", out, where)
    if dtype is not None:
        a = astype(a, dtype)
    result = _reduce.prod(a, axis=normalize_axes(axis, ndim_of(a), "prod"), keepdims=keepdims)
    return result if initial is None else result * initial


def _extremum(name, reduction, numpy_reduction, combine):
    """max or min: the reduction primitive, NumPy's `initial` (combined elementwise, or alone
    over an empty axis) and its refusals, one definition for both."""

    def extremum(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        reject(name, out, where)
        axes = normalize_axes(axis, ndim_of(a), name)
        if initial is not None and _reduces_empty(a, axes):
            return _empty_reduction(numpy_reduction, a, axes, keepdims, initial, name)
        result = reduction(a, axis=axes, keepdims=keepdims)
        return result if initial is None else combine(result, initial)

    extremum.__name__ = extremum.__qualname__ = name
    return extremum


max = _extremum("max", _reduce.amax, np.max, _elementwise.maximum)  # noqa: A001
min = _extremum("min", _reduce.amin, np.min, _elementwise.minimum)  # noqa: A001


amax, amin = max, min


def _empty_reduction(reduction, a, axes, keepdims, initial, what):
    """max/min over an empty set: every entry is `initial` (recorded when it is differentiable,
    so its derivative is not dropped)."""
    result = reduction(raw_value(a), axis=axes, keepdims=keepdims, initial=raw_value(initial))
    if not differentiable(initial):
        return result
    return filled(np.shape(result), initial, np.result_type(result), what)


def _reduces_empty(a, axes) -> bool:
    """Whether reducing `a` over `axes` reduces an empty set (its result holds no input entry:
    a constant, with no gradient)."""
    shape = shape_of(a)
    return builtins.any(shape[i] == 0 for i in axes)


def argmax(a, axis=None, out=None, keepdims=False):
    reject("argmax", out)
    return _reduce.argmax(a, axis=axis, keepdims=keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    reject("argmin", out)
    return _reduce.argmin(a, axis=axis, keepdims=keepdims)


def _scan(name, primitive):
    """cumsum or cumprod: NumPy's dtype= and axis=None (the flattened array) around the
    primitive."""

    def scan(a, axis=None, dtype=None, out=None):
        reject(name, out)
        if dtype is not None:
            a = astype(a, dtype)
        if axis is None:
            a, axis = ravel(a), 0
        return primitive(a, axis=normalize_axis(axis, ndim_of(a), name))

    scan.__name__ = scan.__qualname__ = name
    return scan


cumsum = _scan("cumsum", _reduce.cumsum)
cumprod = _scan("cumprod", _reduce.cumprod)


def logsumexp(a, axis=None, keepdims=False):
    axes = normalize_axes(axis, ndim_of(a), "logsumexp")
    if _reduces_empty(a, axes):
        # log of an empty sum is log 0 = -inf, as in scipy; the fused primitive needs a max.
        with np.errstate(divide="ignore"):
            return _elementwise.log(sum(_elementwise.exp(a), axis=axes, keepdims=keepdims))
    return _reduce.logsumexp(a, axis=axes, keepdims=keepdims)


def _truth_reduction(name, reduce, numpy_function):
    """any/all/count_nonzero: NumPy on plain values; under vmap a reduction of the batched
    mask `a != 0` (one answer per example, no loop)."""

    def function(a, axis=None, out=None, keepdims=False, *, where=None):
        reject(name, out, where)
        value = const(a)
        if not isinstance(value, Tensor):
            return numpy_function(np.asarray(value), axis=axis, keepdims=keepdims)
        mask = _elementwise.not_equal(value, 0)
        return reduce(mask, normalize_axes(axis, ndim_of(value), name), keepdims)

    function.__name__ = name
    return function


any = _truth_reduction(  # noqa: A001
    "any", lambda m, axes, keep: _reduce.amax(m, axis=axes, keepdims=keep), np.any)
all = _truth_reduction(  # noqa: A001
    "all", lambda m, axes, keep: _reduce.amin(m, axis=axes, keepdims=keep), np.all)
count_nonzero = _truth_reduction(
    "count_nonzero",
    lambda m, axes, keep: _reduce.sum(astype(m, np.int64), axis=axes, keepdims=keep),
    np.count_nonzero,
)

wrap_public(globals(), __all__)
