"""Reductions: sums, means, variances, products, extrema, cumulative sums and products, and
`logsumexp`, each over any axes as NumPy takes them. `mean`, `var` and `std` are composites of
`sum`; the others record one primitive of `chainrule.ops.reduce`. any, all and count_nonzero
carry no derivative: NumPy answers on plain values, and under vmap reductions of a mask do,
one answer per example.

The nan* reductions replace NaN by the reduction's neutral value with `where` (so a NaN entry
gets a zero derivative) and count the other entries, as NumPy's do; a slice of NaN only gives
NumPy's answer and warning (NaN, or 0 for a sum).
"""

import builtins
import warnings

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.core.namespace import is_foreign, namespace_of
from chainrule.core.tensor import Tensor, raw_value
from chainrule.core.trace import physical_value
from chainrule.errors import ArgumentError, ShapeError
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
from chainrule.numpy.shapes import concatenate, ravel
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import reduce as _reduce
from chainrule.ops._rules import const

__all__ = [
    "sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
    "cumsum", "cumprod", "logsumexp", "any", "all", "count_nonzero", "ptp", "cumulative_sum",
    "cumulative_prod", "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
    "nanargmax", "nanargmin", "nancumsum", "nancumprod",
]


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    reject("sum", out, where)
    if dtype is not None:
        a = astype(a, dtype)
    result = _reduce.sum(a, axis=normalize_axes(axis, ndim_of(a), "sum"), keepdims=keepdims)
    return result if initial is None else result + initial


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """The mean along the axes, accumulated as NumPy does: integers in float64, float16 in
    float32 (the result back in float16)."""
    reject("mean", out, where)
    axes = normalize_axes(axis, ndim_of(a), "mean")
    count = _count(a, axes)
    kind = array_dtype(a)
    accumulator = dtype if dtype is not None else _accumulator(kind, half=np.float32)
    total = sum(a, axis=axes, dtype=accumulator, keepdims=keepdims)
    result = total / count if count else total * np.nan
    if dtype is None and kind == np.float16:
        return astype(result, np.float16)
    return result


def _accumulator(dtype, half=None):
    """The dtype NumPy's mean and var sum in when none is given: float64 for integers and
    booleans, `half` for float16 (mean's float32), else the array's own (None)."""
    if dtype.kind in "iub":
        return np.float64
    return half if dtype == np.float16 else None


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    reject("var", out, where)
    ddof = _degrees(ddof, correction, "var")
    axes = normalize_axes(axis, ndim_of(a), "var")
    count = _count(a, axes)
    accumulator = dtype if dtype is not None else _accumulator(array_dtype(a))
    if mean is None:
        mean = sum(a, axis=axes, dtype=accumulator, keepdims=True) / builtins.max(count, 1)
    total = sum(_squares(a - mean), axis=axes, dtype=accumulator, keepdims=keepdims)
    if count - ddof > 0:
        return total / (count - ddof)
    warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
    return total / 0  # inf, or NaN for 0 / 0, with NumPy's warnings


def _degrees(ddof, correction, what):
    """NumPy's ddof, or its array-API name `correction` (not both)."""
    if correction is None:
        return ddof
    if ddof != 0:
        raise ArgumentError(f"{what}: ddof and correction can't be provided simultaneously")
    return correction


def _squares(centred):
    """|x|^2 entry by entry: NumPy's var squares the real and imaginary parts of a complex
    deviation and adds them (a real number)."""
    if array_dtype(centred).kind == "c":
        return _elementwise.real(centred) ** 2 + _elementwise.imag(centred) ** 2
    return centred * centred


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    variance = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                   where=where, mean=mean, correction=correction)
    return _root(variance)


def _root(variance):
    """sqrt(variance), with the subgradient 0 where the variance is 0.

    std is |x - mean| / sqrt(n - ddof): a cone with its tip where the variance is 0 (a constant
    row). There it takes the subgradient 0, as PyTorch does: the outer where makes std there a
    constant 0, and the inner one keeps sqrt's infinite derivative at 0 out of the graph, so no
    derivative of any order is NaN and a constant row leaves the other rows alone."""
    constant = _elementwise.equal(const(variance), 0)
    found = physical_value(constant)
    # Reading a Dask array's value computes it: there the where form (right in every case)
    # stays lazy.
    if not is_foreign(found) and not np.any(found):  # no constant row in any example
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
        if is_foreign(value):  # a Dask mask: reduced lazily in its own library
            if name == "count_nonzero":  # (not in the array API; Dask dispatches NumPy's)
                return numpy_function(value, axis=axis, keepdims=keepdims)
            return getattr(namespace_of(value), name)(value, axis=axis, keepdims=keepdims)
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


# ----- ptp, cumulative_sum, cumulative_prod -------------------------------------------------------
def ptp(a, axis=None, out=None, keepdims=False):
    """max - min (peak to peak); ties share the derivative as in max and min."""
    reject("ptp", out)
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


def _cumulative(name, scan, neutral):
    """NumPy 2's cumulative_sum / cumulative_prod: axis required beyond 1-d, and with
    include_initial the neutral value (0 or 1) first along the axis."""

    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        reject(name, out)
        if axis is None:
            if ndim_of(x) > 1:
                raise ShapeError(
                    f"{name}: for arrays which have more than one dimension ``axis`` argument "
                    "is required"
                )
            x, axis = ravel(x), 0
        axis = normalize_axis(axis, ndim_of(x), name)
        result = scan(x, axis=axis, dtype=dtype)
        if not include_initial:
            return result
        shape = list(shape_of(result))
        shape[axis] = 1
        first = np.full(shape, neutral, dtype=array_dtype(result))
        return concatenate([first, result], axis=axis)

    cumulative.__name__ = cumulative.__qualname__ = name
    return cumulative


cumulative_sum = _cumulative("cumulative_sum", cumsum, 0)
cumulative_prod = _cumulative("cumulative_prod", cumprod, 1)


# ----- the nan* reductions ------------------------------------------------------------------------
def _as_array(a):
    return a if isinstance(a, Tensor) else np.asarray(a)


def _nan_mask(a):
    """isnan(a) as a constant mask (batched under vmap), or None if no entry of any example is
    NaN (integers never are): then the nan* reduction is the plain one."""
    if array_dtype(a).kind not in "fc":
        return None
    mask = _elementwise.isnan(const(a))
    if _lazy(mask):
        return mask  # a Dask array is not computed to look: the general form serves all
    return mask if np.any(physical_value(mask)) else None


def _lazy(value):
    """Whether `value` is held by a Dask/CuPy array, whose values are not looked at (the
    value-dependent shortcuts and NumPy's warnings are skipped; the general forms are right)."""
    return is_foreign(physical_value(value))


def _without_nan(a, neutral):
    mask = _nan_mask(a)
    return a if mask is None else _elementwise.where(mask, neutral, a)


def _nan_filled(name, reduction, neutral):
    """nansum, nanprod, nancumsum, nancumprod: the reduction of `a` with NaN -> `neutral`."""

    def nan_reduction(a, *args, **kwargs):
        return reduction(_without_nan(_as_array(a), neutral), *args, **kwargs)

    nan_reduction.__name__ = nan_reduction.__qualname__ = name
    return nan_reduction


nansum = _nan_filled("nansum", sum, 0)
nanprod = _nan_filled("nanprod", prod, 1)
nancumsum = _nan_filled("nancumsum", cumsum, 0)
nancumprod = _nan_filled("nancumprod", cumprod, 1)


def _counted(mask, axes, keepdims, dtype):
    """How many entries are not NaN along the axes, as a constant of `dtype` (NumPy divides by
    the count into the sum's dtype)."""
    present = astype(_elementwise.logical_not(mask), np.intp)
    return astype(_reduce.sum(present, axis=axes, keepdims=keepdims), dtype)


def _count(a, axes):
    return int(np.prod([shape_of(a)[i] for i in axes], dtype=np.int64))


def _real_dtype(a):
    return np.empty(0, array_dtype(a)).real.dtype


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    reject("nanmean", out, where)
    a = _as_array(a)
    mask = _nan_mask(a)
    if mask is None:
        return mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    axes = normalize_axes(axis, ndim_of(a), "nanmean")
    total = sum(_elementwise.where(mask, 0, a), axis=axes, dtype=dtype, keepdims=keepdims)
    count = _counted(mask, axes, keepdims, _real_dtype(total))
    if not _lazy(count) and np.any(physical_value(count) == 0):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
           correction=None):
    """The variance of the entries that are not NaN; a slice with no more than ddof of them
    gives NaN (with NumPy's warning)."""
    reject("nanvar", out, where)
    a = _as_array(a)
    mask = _nan_mask(a)
    ddof = _degrees(ddof, correction, "nanvar")
    axes = normalize_axes(axis, ndim_of(a), "nanvar")
    if mask is None and (_real_dtype(a).kind != "f" or _count(a, axes) - ddof > 0):
        return var(a, axis=axes, dtype=dtype, ddof=ddof, keepdims=keepdims, mean=mean)
    if mask is None:  # too few entries: NaN, where var would divide by 0
        mask = _elementwise.isnan(const(a))
    filled = _elementwise.where(mask, 0, a)
    if mean is None:
        count = _counted(mask, axes, True, _real_dtype(a))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sum(filled, axis=axes, dtype=dtype, keepdims=True) / count
    centred = _elementwise.where(mask, 0, filled - mean)
    total = sum(_squares(centred), axis=axes, dtype=dtype, keepdims=keepdims)
    freedom = _counted(mask, axes, keepdims, _real_dtype(total)) - ddof
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = total / freedom
    if _lazy(freedom):
        return _elementwise.where(freedom <= 0, np.nan, variance)
    bad = physical_value(const(freedom)) <= 0
    if np.any(bad):
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=3)
        variance = _elementwise.where(freedom <= 0, np.nan, variance)
    return variance


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
           correction=None):
    return _root(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                        where=where, mean=mean, correction=correction))


def _nan_extremum(name, extremum, fill):
    """nanmax / nanmin: the extremum with NaN -> -inf (+inf); a slice of NaN only is NaN, with
    NumPy's warning (unless `initial` answers for it, as in NumPy)."""

    def nan_extremum(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        reject(name, out, where)
        a = _as_array(a)
        mask = _nan_mask(a)
        if mask is None:
            return extremum(a, axis=axis, keepdims=keepdims, initial=initial)
        result = extremum(_elementwise.where(mask, fill, a), axis=axis, keepdims=keepdims,
                          initial=initial)
        if initial is not None:
            return result
        empty = all(mask, axis=axis, keepdims=keepdims)
        if _lazy(empty):
            return _elementwise.where(empty, np.nan, result)
        if np.any(physical_value(empty)):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
            result = _elementwise.where(empty, np.nan, result)
        return result

    nan_extremum.__name__ = nan_extremum.__qualname__ = name
    return nan_extremum


nanmax = _nan_extremum("nanmax", max, -np.inf)
nanmin = _nan_extremum("nanmin", min, np.inf)


def _nan_arg(name, arg, fill):
    """nanargmax / nanargmin: the index of the extremum ignoring NaN; a ValueError for a slice
    of NaN only, as NumPy."""

    def nan_arg(a, axis=None, out=None, *, keepdims=False):
        reject(name, out)
        a = _as_array(a)
        mask = _nan_mask(a)
        if mask is None:
            return arg(a, axis=axis, keepdims=keepdims)
        if np.any(physical_value(all(mask, axis=axis))):
            raise ArgumentError(f"{name}: All-NaN slice encountered")
        return arg(_elementwise.where(mask, fill, const(a)), axis=axis, keepdims=keepdims)

    nan_arg.__name__ = nan_arg.__qualname__ = name
    return nan_arg


nanargmax = _nan_arg("nanargmax", argmax, -np.inf)
nanargmin = _nan_arg("nanargmin", argmin, np.inf)

wrap_public(globals(), __all__)
