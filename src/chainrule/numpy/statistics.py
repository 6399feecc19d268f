"""Statistics: order statistics (median, quantile, percentile, their nan* forms, partition),
weighted averages, covariance and correlation, computed as NumPy computes them.

Order statistics sort the values along the reduced axes (recorded: each sorted entry is an
entry of the input), then pick sorted entries at NumPy's positions for the chosen method and
interpolate between neighbours with NumPy's weights. Their derivatives are those of the picked
entries: (1 - gamma, gamma) for an interpolated quantile, 1/2 each for the two middle entries of
an even count in a median. At a tie, where several entries equal a picked one, the derivative
is split evenly among them, as max's is (the median of [1, 2, 2, 2, 5] gives 1/3 to each 2):
a subgradient, and the one symmetric in the tied entries. A NaN entry gets derivative 0 in the
nan* forms; a quantile q given as a Tensor is differentiable too (through the interpolation
weight, where the method interpolates).
"""

import warnings

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.core.namespace import is_foreign
from chainrule.core.tensor import Tensor
from chainrule.core.trace import physical_value
from chainrule.errors import ArgumentError, DTypeError, ShapeError, UnsupportedFunctionError
from chainrule.numpy._common import array_dtype, ndim_of, normalize_axes, plain, reject
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.reductions import cumsum, mean, sum
from chainrule.numpy.selection import clip, sort, take_along_axis
from chainrule.numpy.shapes import broadcast_to, concatenate, ravel, reshape, stack, transpose
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const

__all__ = [
    "median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile",
    "partition", "average", "cov", "corrcoef",
]


def _as_array(a):
    return a if isinstance(a, Tensor) or is_foreign(a) else np.asarray(a)


def _any(mask) -> bool:
    """Whether any entry of a constant mask is set (a value-dependent decision). On a Dask or
    CuPy array that would compute it here: refused with the fix, never done silently."""
    value = physical_value(mask)
    if is_foreign(value):
        raise UnsupportedFunctionError(
            f"this statistic decides by the values of a {type(value).__module__} array (shape "
            f"{getattr(value, 'shape', '?')}), which would compute it in this process; compute "
            "the input first (x.compute()) or use a statistic that needs no such decision "
            "(cnp.mean, cnp.var, cnp.std)."
        )
    return bool(np.any(value))


# ----- the reduced axes, last and flattened into one ---------------------------------------------
class _Reduced:
    """`a` with its reduced axes moved last and flattened into one of length `count`: `flat`
    has shape kept + (count,). `restore` puts a result of shape q + kept back into NumPy's
    output shape (q + kept, or with keepdims q + a's shape with 1 for each reduced axis)."""

    def __init__(self, a, axis, what):
        shape = shape_of(a)
        self.axes = normalize_axes(axis, len(shape), what)
        kept = tuple(i for i in range(len(shape)) if i not in self.axes)
        order = kept + self.axes
        moved = transpose(a, order) if order != tuple(range(len(shape))) else a
        self.kept = tuple(shape[i] for i in kept)
        self.count = int(np.prod([shape[i] for i in self.axes], dtype=np.int64))
        self.flat = reshape(moved, self.kept + (self.count,))
        self.shape = shape

    def restore(self, result, q_ndim, keepdims):
        if not keepdims:
            return result
        q_shape = shape_of(result)[:q_ndim]
        ones = tuple(1 if i in self.axes else size for i, size in enumerate(self.shape))
        return reshape(result, q_shape + ones)


# ----- picking sorted entries --------------------------------------------------------------------
def _pick(ordered, positions, q_ndim):
    """ordered[..., positions] for integer positions of shape q + kept (ordered: kept + (n,)),
    recorded; where entries tie with the picked one, its derivative is shared evenly among them
    (the value stays the picked entry exactly)."""
    kept = shape_of(ordered)[:-1]
    expanded = reshape(ordered, (1,) * q_ndim + shape_of(ordered))
    target = shape_of(positions)[:q_ndim] + kept
    index = reshape(broadcast_to(positions, target), target + (1,))
    picked = take_along_axis(expanded, index, axis=-1)[..., 0]
    values = const(expanded)
    if not _tied(values, index, const(picked)):
        return picked
    ties = _elementwise.equal(values, const(picked)[..., None])
    counts = sum(astype(ties, np.intp), axis=-1, keepdims=True)
    # picked + sum(w (x - x)) is the picked value exactly, with derivative sum(w dx): the mean of
    # the derivatives of the tied entries. (x - x is taken as 0 where x is not finite.)
    weights = astype(ties, _float_dtype(values)) / _elementwise.maximum(counts, 1)
    finite = _elementwise.isfinite(values)
    zeros = _elementwise.where(finite, expanded - values, 0.0)
    return const(picked) + sum(weights * zeros, axis=-1)


def _tied(values, index, picked):
    """Whether a sorted neighbour of any picked entry equals it (ties sit next to each other
    once sorted): a cheap look before comparing the picked entries with every value."""
    last = shape_of(values)[-1] - 1
    for step in (-1, 1):
        neighbour = _elementwise.clip(index + step, lo=0, hi=last)
        moved = _elementwise.not_equal(neighbour, index)
        same = _elementwise.equal(take_along_axis(values, neighbour, axis=-1)[..., 0], picked)
        if _any(_elementwise.logical_and(moved[..., 0], same)):
            return True
    return False


def _float_dtype(values):
    return np.result_type(array_dtype(values), np.float16)


def _lerp(below, above, gamma, precision=None):
    """NumPy's _lerp: below + (above - below) gamma, or above - (above - below)(1 - gamma)
    where gamma >= 1/2 (so both ends are reached exactly). With `precision`, gamma and
    1 - gamma are rounded to it after being computed, as NumPy's Python-float gamma is."""
    difference = above - below
    upper = _elementwise.greater_equal(const(gamma), 0.5)
    complement = 1 - gamma
    if precision is not None:
        gamma, complement = astype(gamma, precision), astype(complement, precision)
    low_side = below + difference * gamma
    if not _any(upper):
        return low_side
    return _elementwise.where(upper, above - difference * complement, low_side)


# ----- NumPy's quantile methods (Hyndman and Fan) -----------------------------------------------
_ALPHA_BETA = {  # the continuous methods' plotting positions
    "interpolated_inverted_cdf": (0, 1), "hazen": (0.5, 0.5), "weibull": (0, 0),
    "median_unbiased": (1 / 3.0, 1 / 3.0), "normal_unbiased": (3 / 8.0, 3 / 8.0),
}
_DISCRETE = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")
_INTERPOLATED = ("linear", "averaged_inverted_cdf", "midpoint", *_ALPHA_BETA)
METHODS = (*_DISCRETE, *_INTERPOLATED)


def _floor(x):
    return _elementwise.floor(x)


def _as_index(x):
    return astype(x, np.intp)


def _discrete_position(method, n, q):
    """The sorted position a discrete method picks (NumPy's get_virtual_index); linear's for
    an integer q (0 or 1), which NumPy takes without interpolating."""
    if method == "linear":
        return (n - 1) * q
    if method in ("lower", "higher", "nearest"):
        rounding = {"lower": _floor, "higher": _elementwise.ceil,
                    "nearest": lambda x: _elementwise.round(x)}[method]
        return _as_index(rounding((n - 1) * q))
    index = n * q - 1 if method == "inverted_cdf" else n * q - 1 - 0.5
    previous = _floor(index)
    gamma = index - previous
    lower = _elementwise.equal(gamma, 0)
    if method == "closest_observation":  # ties go to the even order statistic (1-based)
        lower = _elementwise.logical_and(lower, _elementwise.equal(_floor(index) % 2, 1))
    position = _as_index(_elementwise.where(lower, previous, previous + 1))
    return _elementwise.where(position < 0, 0, position)


def _virtual_index(method, n, q):
    """NumPy's virtual (fractional) position of the quantile among n sorted values."""
    if method == "linear":
        return (n - 1) * q
    if method == "averaged_inverted_cdf":
        return n * q - 1
    if method == "midpoint":
        scaled = const((n - 1) * q)
        return 0.5 * (_floor(scaled) + _elementwise.ceil(scaled))
    alpha, beta = _ALPHA_BETA[method]
    return n * q + (alpha + q * (1 - alpha - beta)) - 1


def _neighbours(virtual, n):
    """NumPy's _get_indexes: floor and floor + 1 of the virtual position, both -1 (the last
    value) at or beyond n - 1 or for NaN, both 0 below 0; as floats, for gamma."""
    virtual = const(virtual)
    previous = _floor(virtual)
    following = previous + 1
    last = _elementwise.logical_or(virtual >= n - 1, _elementwise.isnan(virtual))
    first = virtual < 0
    previous = _elementwise.where(last, -1, _elementwise.where(first, 0, previous))
    following = _elementwise.where(last, -1, _elementwise.where(first, 0, following))
    return previous, following


def _gamma(method, virtual, previous):
    gamma = virtual - previous
    if method == "averaged_inverted_cdf":
        return astype(_elementwise.where(const(gamma) == 0, 0.5, 1.0), array_dtype(virtual))
    if method == "midpoint":
        whole = _elementwise.equal(const(virtual) % 1, 0)
        return astype(_elementwise.where(whole, 0.0, 0.5), array_dtype(virtual))
    return gamma


def _from_end(position, n):
    """A position counted from the end (-1: the last of the n valid values) as an index."""
    return _as_index(_elementwise.where(position < 0, position + n, position))


# ----- quantile, percentile and their nan* forms --------------------------------------------------
def _check_method(method, weights, what):
    if method not in METHODS:
        raise ArgumentError(
            f"{what}: {method!r} is not a valid method. Use one of: {', '.join(METHODS)}"
        )
    if weights is not None and method != "inverted_cdf":
        raise ArgumentError(
            f"{what}: only method 'inverted_cdf' supports weights. Got: {method}."
        )


def _checked_q(q, scale, what):
    """q as an array (divided by 100 for percentiles), in range, at most 2-d; `weak` when q is
    a Python number, whose dtype yields to the data's as in NumPy."""
    weak = type(q) in (int, float)
    q = _as_array(q)
    if scale != 1:
        q = _elementwise.divide(q, scale)
    if array_dtype(q).kind == "c":
        raise DTypeError(f"{what}: q must be real, got dtype {array_dtype(q)}")
    if ndim_of(q) > 2:
        raise ShapeError(f"{what}: q must be a scalar or 1d (at most 2-d), got shape "
                         f"{shape_of(q)}")
    values = physical_value(const(q))
    if not (np.all(values >= 0) and np.all(values <= 1)):
        bounds = "[0, 1]" if scale == 1 else "[0, 100]"
        kind = "Quantiles" if scale == 1 else "Percentiles"
        raise ArgumentError(f"{what}: {kind} must be in the range {bounds}")
    return q, weak


def _quantiles(a, q, axis, method, keepdims, weights, ignore_nan, scale, what):
    """Everything quantile, percentile, nanquantile and nanpercentile share."""
    a = _as_array(a)
    if array_dtype(a).kind == "c":
        raise DTypeError(f"{what}: a must be an array of real numbers, got complex values")
    _check_method(method, weights, what)
    q, weak = _checked_q(q, scale, what)
    reduced = _Reduced(a, axis, what)
    q_ndim = ndim_of(q)
    if weights is not None:
        result = _weighted_inverted_cdf(reduced, q, weights, axis, what)
    else:
        result = _order_statistic(reduced, q, method, weak, ignore_nan)
    return reduced.restore(result, q_ndim, keepdims)


def _valid_counts(reduced, ignore_nan, what):
    """The number of values per kept slice (an int, or with ignore_nan an array counting the
    values that are not NaN), and the NaN mask (None if there is none)."""
    flat = reduced.flat
    if array_dtype(flat).kind != "f":
        return reduced.count, None
    mask = _elementwise.isnan(const(flat))
    if not _any(mask):
        return reduced.count, None
    if not ignore_nan:
        return reduced.count, mask
    counts = sum(astype(_elementwise.logical_not(mask), np.intp), axis=-1)
    if _any(counts == 0):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=5)
    return counts, mask


def _order_statistic(reduced, q, method, weak, ignore_nan):
    counts, mask = _valid_counts(reduced, ignore_nan, "quantile")
    ordered = sort(reduced.flat, axis=-1)  # NaN last
    kept_ndim = len(reduced.kept)
    q_ndim = ndim_of(q)
    q = reshape(q, shape_of(q) + (1,) * kept_ndim)
    n = counts
    if not isinstance(n, int):  # counts per slice: as weakly typed as NumPy's Python int
        n = astype(n, np.result_type(array_dtype(q), 0))
    if method in _DISCRETE or (method == "linear" and array_dtype(q).kind in "iub"):
        position = _discrete_position(method, n, const(q))
        result = _pick(ordered, _from_end(_clamped(position, n), n), q_ndim)
    else:
        virtual = _virtual_index(method, n, q)
        previous, following = _neighbours(virtual, n)
        gamma = _gamma(method, virtual, previous)
        # NumPy's gamma for a Python-number q is a Python float: it yields to the data's dtype.
        precision = np.result_type(array_dtype(reduced.flat), 1.0) if weak else None
        below = _pick(ordered, _from_end(previous, n), q_ndim)
        above = _pick(ordered, _from_end(following, n), q_ndim)
        result = _lerp(below, above, gamma, precision)
    if mask is None:
        return result
    if ignore_nan:  # a slice with no value at all
        return _elementwise.where(n == 0, np.nan, result)
    # A slice holding NaN gives NaN (its last sorted value), as in NumPy.
    has_nan = _elementwise.isnan(const(ordered)[..., -1])
    return _elementwise.where(has_nan, ordered[..., -1], result)


def _clamped(position, n):
    """Positions inside [0, n - 1] (an all-NaN slice has n = 0: any position will do there)."""
    return _elementwise.minimum(position, _elementwise.maximum(n - 1, 0))


def _weighted_inverted_cdf(reduced, q, weights, axis, what):
    """The weighted inverted-CDF quantile (NumPy's only weighted method): the first sorted value
    whose cumulative weight share reaches q. Differentiable in the data; the weights choose
    which value, a piecewise constant function of them."""
    weights = const(_as_array(weights))
    shape = reduced.shape
    if shape_of(weights) != shape:
        if axis is None:
            raise DTypeError(f"{what}: Axis must be specified when shapes of a and weights "
                             "differ.")
        if shape_of(weights) != tuple(shape[i] for i in reduced.axes):
            raise ShapeError(f"{what}: Shape of weights must be consistent with shape of a "
                             "along specified axis.")
        weights = reshape(weights, tuple(s if i in reduced.axes else 1
                                         for i, s in enumerate(shape)))
        weights = broadcast_to(weights, shape)
    if _any(weights < 0):
        raise ArgumentError(f"{what}: Weights must be non-negative.")
    flat_weights = _Reduced(weights, reduced.axes, what).flat
    order = plain(np.argsort)(const(reduced.flat), axis=-1, kind="stable")
    ordered = take_along_axis(reduced.flat, order, axis=-1)
    cdf = _cumulative_share(take_along_axis(flat_weights, order, axis=-1), q)
    kept_ndim = len(reduced.kept)
    q_ndim = ndim_of(q)
    q = const(reshape(q, shape_of(q) + (1,) * kept_ndim))
    below = _elementwise.less(cdf, q[..., None])  # searchsorted(cdf, q, 'left'), per slice
    position = _elementwise.minimum(sum(astype(below, np.intp), axis=-1), reduced.count - 1)
    result = _pick(ordered, position, q_ndim)
    if array_dtype(reduced.flat).kind == "f":
        has_nan = _elementwise.isnan(const(ordered)[..., -1])
        if _any(has_nan):
            result = _elementwise.where(has_nan, ordered[..., -1], result)
    return result


def _cumulative_share(weights, q):
    """The weights' cumulative sums over their total (in q's precision, as NumPy), leading
    zeros as -1 so that q = 0 picks the first value of positive weight."""
    cdf = cumsum(astype(weights, np.float64), axis=-1)
    cdf = cdf / cdf[..., -1:]
    if _any(_elementwise.isnan(cdf[..., -1])):
        raise ArgumentError("quantile: Weights included NaN, inf or were all zero.")
    if array_dtype(q).kind == "f":
        cdf = astype(cdf, array_dtype(q))
    return _elementwise.where(cdf == 0, -1, cdf)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    reject("quantile", out)
    return _quantiles(a, q, axis, method, keepdims, weights, False, 1, "quantile")


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    reject("percentile", out)
    return _quantiles(a, q, axis, method, keepdims, weights, False, 100, "percentile")


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    reject("nanquantile", out)
    return _quantiles(a, q, axis, method, keepdims, weights, True, 1, "nanquantile")


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
    reject("nanpercentile", out)
    return _quantiles(a, q, axis, method, keepdims, weights, True, 100, "nanpercentile")


# ----- median ------------------------------------------------------------------------------------
def _median(a, axis, keepdims, ignore_nan, what):
    a = _as_array(a)
    if array_dtype(a).kind == "c":
        raise DTypeError(
            f"{what}() got complex values: NumPy orders them lexicographically, which has no "
            "derivative for complex numbers. Apply it to cnp.real(z), cnp.imag(z) or cnp.abs(z)."
        )
    reduced = _Reduced(a, axis, what)
    if reduced.count == 0:
        return reduced.restore(mean(reduced.flat, axis=-1), 0, keepdims)
    counts, mask = _valid_counts(reduced, ignore_nan, what)
    ordered = sort(reduced.flat, axis=-1)
    n = counts
    low = _pick(ordered, (n - 1) // 2, 0)
    high = _pick(ordered, n // 2, 0)
    # NumPy takes the mean of the one or two middle values (its dtype: float64 for integers).
    pair = mean(stack([low, high], axis=-1), axis=-1)
    single = mean(low[..., None], axis=-1)
    if isinstance(n, int):
        result = pair if n % 2 == 0 else single
    else:
        result = _elementwise.where(n % 2 == 0, pair, single)
    if mask is not None:
        if ignore_nan:
            result = _elementwise.where(n == 0, np.nan, result)
        else:
            has_nan = _elementwise.isnan(const(ordered)[..., -1])
            result = _elementwise.where(has_nan, ordered[..., -1], result)
    return reduced.restore(result, 0, keepdims)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle value along the axes, or the mean of the two middle values of an even count
    (each gets derivative 1/2); ties share the derivative (see the module docstring)."""
    reject("median", out)
    return _median(a, axis, keepdims, False, "median")


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    reject("nanmedian", out)
    return _median(a, axis, keepdims, True, "nanmedian")


# ----- partition ---------------------------------------------------------------------------------
_argpartition = plain(np.argpartition)  # cnp.argpartition: NumPy's, passed through


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """NumPy's partition, exactly (the entries NumPy's argpartition puts there), recorded: each
    entry's derivative goes back to the entry it came from, as for sort."""
    if order is not None:
        raise ArgumentError("partition: order= applies to structured arrays, which chainrule "
                            "does not differentiate")
    a = _as_array(a)
    if axis is None:
        a, axis = ravel(a), -1
    indices = _argpartition(const(a), kth, axis=axis, kind=kind)
    return take_along_axis(a, indices, axis=axis)


# ----- average, cov, corrcoef --------------------------------------------------------------------
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """The weighted mean sum(a w) / sum(w) along the axes, as np.average (weights of a's shape,
    or 1-d along a single axis); differentiable in a and in the weights. With returned=True,
    also the sum of the weights (broadcast to the average's shape)."""
    a = _as_array(a)
    axes = None if axis is None else normalize_axes(axis, ndim_of(a), "average")
    if weights is None:
        avg = mean(a, axis=axes, keepdims=keepdims)
        scale = np.asarray(np.prod(shape_of(a), dtype=np.int64) / np.prod(shape_of(avg),
                                                                         dtype=np.int64))
        scale = scale.astype(array_dtype(avg))
    else:
        weights = _as_array(weights)
        a_dtype, w_dtype = array_dtype(a), array_dtype(weights)
        if a_dtype.kind in "iub":
            dtype = np.result_type(a_dtype, w_dtype, "f8")
        else:
            dtype = np.result_type(a_dtype, w_dtype)
        weights = _weights_along(a, weights, axes)
        scale = sum(weights, axis=axes, dtype=dtype, keepdims=keepdims)
        # (Dask weights are not computed to check: a zero sum gives inf or NaN there)
        if not is_foreign(physical_value(scale)) and _any(const(scale) == 0.0):
            raise ZeroDivisionError("average: Weights sum to zero, can't be normalized")
        products = astype(a, dtype) * astype(weights, dtype)
        avg = sum(products, axis=axes, keepdims=keepdims) / scale
    if not returned:
        return avg
    if shape_of(scale) != shape_of(avg):
        scale = broadcast_to(scale, shape_of(avg)) * 1  # a copy, as NumPy's
    return avg, scale


def _weights_along(a, weights, axes):
    """Weights of a's shape, or of the reduced axes' sizes set up to broadcast along them."""
    shape = shape_of(a)
    if shape_of(weights) == shape:
        return weights
    if axes is None:
        raise DTypeError("average: Axis must be specified when shapes of a and weights differ.")
    if shape_of(weights) != tuple(shape[i] for i in axes):
        raise ShapeError("average: Shape of weights must be consistent with shape of a along "
                         f"specified axis (weights {shape_of(weights)}, a {shape}).")
    order = tuple(int(i) for i in np.argsort(axes))
    weights = transpose(weights, order) if order != tuple(range(len(order))) else weights
    return reshape(weights, tuple(s if i in axes else 1 for i, s in enumerate(shape)))


def _observations(m, rowvar, dtype, what):
    """m as a 2-d array of variables (rows) and observations (columns), in `dtype`."""
    m = _as_array(m)
    if ndim_of(m) > 2:
        raise ShapeError(f"{what}: m has more than 2 dimensions (shape {shape_of(m)})")
    x = astype(m, dtype) if array_dtype(m) != dtype else m
    if ndim_of(x) < 2:
        x = reshape(x, (1,) * (2 - ndim_of(x)) + shape_of(x))
    if not rowvar and ndim_of(m) != 1:
        x = transpose(x)
    return x


def _sample_weights(fweights, aweights, count):
    """NumPy's checks of the frequency and analytic weights; their product (or None)."""
    product = None
    if fweights is not None:
        fweights = astype(_as_array(fweights), float)
        plain_weights = physical_value(const(fweights))
        if not np.all(plain_weights == np.around(plain_weights)):
            raise DTypeError("cov: fweights must be integer")
        product = _check_weight_vector(fweights, count, "fweights")
    if aweights is not None:
        aweights = astype(_as_array(aweights), float)
        aweights = _check_weight_vector(aweights, count, "aweights")
        product = aweights if product is None else product * aweights
    return product, aweights


def _check_weight_vector(weights, count, name):
    if ndim_of(weights) > 1:
        raise ShapeError(f"cov: cannot handle multidimensional {name}")
    if shape_of(weights)[0] != count:
        raise ShapeError(f"cov: incompatible numbers of samples and {name}")
    if _any(const(weights) < 0):
        raise ArgumentError(f"cov: {name} cannot be negative")
    return weights


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """The covariance matrix of the variables (rows, or columns with rowvar=False), as np.cov
    (frequency and analytic weights, ddof, bias); differentiable in the data and in aweights."""
    if ddof is not None and ddof != int(ddof):
        raise ArgumentError("cov: ddof must be integer")
    arrays = [_as_array(m)] + ([] if y is None else [_as_array(y)])
    if dtype is None:
        dtype = np.result_type(*(array_dtype(v) for v in arrays), np.float64)
    x = _observations(arrays[0], rowvar, dtype, "cov")
    if shape_of(x)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        other = _observations(arrays[1], True, dtype, "cov")
        if not rowvar and shape_of(other)[0] != 1:
            other = transpose(other)
        x = concatenate([x, other], axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    count = shape_of(x)[1]
    weights, aweights = _sample_weights(fweights, aweights, count)
    avg, weight_sum = average(x, axis=1, weights=weights, returned=True)
    weight_sum = weight_sum[0]
    if weights is None:
        factor = count - ddof
    elif ddof == 0:
        factor = weight_sum
    elif aweights is None:
        factor = weight_sum - ddof
    else:
        factor = weight_sum - ddof * sum(weights * aweights) / weight_sum
    if np.all(physical_value(const(factor)) <= 0):
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        factor = 0.0
    centred = x - avg[:, None]
    weighted = centred if weights is None else centred * weights
    if array_dtype(weighted).kind == "c":
        weighted = _elementwise.conj(weighted)
    product = centred @ transpose(weighted)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = product * _elementwise.divide(1, factor)  # NumPy's c *= 1 / fact, in c's dtype
    if array_dtype(c) != array_dtype(product):
        c = astype(c, array_dtype(product))
    return _squeezed(c)


def _squeezed(c):
    shape = tuple(size for size in shape_of(c) if size != 1)
    return reshape(c, shape) if shape != shape_of(c) else c


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Pearson correlation coefficients, cov / (std std), clipped to [-1, 1] as np.corrcoef
    (the clip passes the derivative at the bounds themselves, as cnp.clip)."""
    c = cov(x, y, rowvar, dtype=dtype)
    if ndim_of(c) != 2:  # one variable: 1 (NaN where its variance is 0, NaN or inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            return c / c
    n = shape_of(c)[0]
    diagonal = c[np.arange(n), np.arange(n)]
    deviation = _elementwise.sqrt(_elementwise.real(diagonal))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = c / deviation[:, None]
        c = c / deviation[None, :]
    if array_dtype(c).kind != "c":
        return clip(c, -1, 1)
    real = clip(_elementwise.real(c), -1, 1)
    imag = clip(_elementwise.imag(c), -1, 1)
    return real + 1j * imag


wrap_public(globals(), __all__)
