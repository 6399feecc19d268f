"""Signals and sampled functions: `convolve` and `correlate` of 1-d sequences, `interp`
(piecewise-linear interpolation), `trapezoid` (the trapezoidal rule) and `unwrap` (phase
unwrapping), computed as NumPy computes them and differentiable in the samples.

Derivatives at the kinks: interp's derivative in x at a sample point is the slope of the
interval to its right (the function as NumPy evaluates it there: fp[j] + slope (x - xp[j])), 0
outside [xp[0], xp[-1]] and at xp[-1] itself; unwrap's derivative is the identity (its
corrections are multiples of the period, constant between the jumps).
"""

import numpy as np

from chainrule.core.dtypes import shape_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.tensor import Tensor
from chainrule.core.trace import batched_like, physical_value
from chainrule.errors import ArgumentError, ShapeError
from chainrule.numpy._common import array_dtype, ndim_of, normalize_axis, plain
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.reductions import cumsum, sum
from chainrule.numpy.selection import take
from chainrule.numpy.shapes import concatenate, flip, pad, reshape
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const

__all__ = ["convolve", "correlate", "interp", "trapezoid", "unwrap"]


def _as_array(a):
    return a if isinstance(a, Tensor) else np.asarray(a)


def _any(mask) -> bool:
    return bool(np.any(physical_value(mask)))


# ----- convolve, correlate -----------------------------------------------------------------------
# The windows of the longer sequence are gathered by one index array per chunk of outputs and
# multiplied by the shorter one (a matrix-vector product): chunks keep the gathered matrix
# under about 2**22 entries.
_CHUNK_ENTRIES = 1 << 22


def _sequence(a, what):
    a = _as_array(a)
    if ndim_of(a) == 0:
        a = reshape(a, (1,))
    if ndim_of(a) != 1:
        raise ShapeError(f"{what}: expected 1-d sequences, got shape {shape_of(a)}")
    return a


def _overlaps(longer, shorter):
    """sum_j longer[k + j - (n2 - 1)] shorter[j] for k = 0 .. n1 + n2 - 2 (longer taken as 0
    outside its range): the correlation of longer with shorter at every overlap."""
    n1, n2 = shape_of(longer)[0], shape_of(shorter)[0]
    padded = pad(longer, ((n2 - 1, n2 - 1),)) if n2 > 1 else longer
    total = n1 + n2 - 1
    step = max(1, _CHUNK_ENTRIES // n2)
    parts = []
    for start in range(0, total, step):
        index = np.arange(start, min(total, start + step))[:, None] + np.arange(n2)
        parts.append(padded[index] @ shorter)
    return parts[0] if len(parts) == 1 else concatenate(parts)


def _mode_window(mode, n1, n2, what):
    """The slice of the n1 + n2 - 1 overlaps that NumPy's mode keeps (n1 >= n2)."""
    name = {0: "valid", 1: "same", 2: "full"}.get(mode, mode) if not isinstance(mode, str) else mode
    if name == "full":
        return slice(0, n1 + n2 - 1)
    if name == "same":
        start = n2 - 1 - n2 // 2
        return slice(start, start + n1)
    if name == "valid":
        return slice(n2 - 1, n1)
    raise ArgumentError(f"{what}: mode must be one of 'valid', 'same' or 'full', got {mode!r}")


def _correlation(a, v, mode, what):
    """NumPy's correlation of a with v (no conjugate): the longer sequence is slid along, and a
    longer v gives the reversed result of the swapped pair, as in NumPy."""
    n1, n2 = shape_of(a)[0], shape_of(v)[0]
    if n1 == 0 or n2 == 0:
        raise ArgumentError(f"{what}: {'a' if n1 == 0 else 'v'} cannot be empty")
    swapped = n2 > n1
    longer, shorter = (v, a) if swapped else (a, v)
    window = _mode_window(mode, max(n1, n2), min(n1, n2), what)
    result = _overlaps(longer, shorter)[window]
    return flip(result, 0) if swapped else result


def convolve(a, v, mode="full"):
    """The discrete linear convolution of two 1-d sequences, as np.convolve (modes 'full',
    'same', 'valid'); differentiable in both."""
    a, v = _sequence(a, "convolve"), _sequence(v, "convolve")
    if shape_of(v)[0] > shape_of(a)[0]:
        a, v = v, a
    if shape_of(v)[0] == 0:
        raise ArgumentError("convolve: v cannot be empty")
    return _correlation(a, flip(v, 0), mode, "convolve")


def correlate(a, v, mode="valid"):
    """The cross-correlation z[k] = sum_n a[n + k] conj(v[n]) of two 1-d sequences, as
    np.correlate (modes 'valid', 'same', 'full'); differentiable in both."""
    a, v = _sequence(a, "correlate"), _sequence(v, "correlate")
    if array_dtype(v).kind == "c":
        v = _elementwise.conj(v)
    return _correlation(a, v, mode, "correlate")


# ----- trapezoid ---------------------------------------------------------------------------------
def _along(a, axis, part):
    index = [slice(None)] * ndim_of(a)
    index[axis] = part
    return a[tuple(index)]


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y by the trapezoidal rule along `axis`, sampled at x (1-d, or y's shape)
    or evenly with spacing dx, as np.trapezoid; differentiable in y, x and dx."""
    y = _as_array(y)
    axis = normalize_axis(axis, ndim_of(y), "trapezoid")
    if x is None:
        spacing = dx
    else:
        x = _as_array(x)
        if ndim_of(x) == 1:
            spacing = x[1:] - x[:-1]
            shape = [1] * ndim_of(y)
            shape[axis] = shape_of(spacing)[0]
            spacing = reshape(spacing, tuple(shape))
        else:
            spacing = _along(x, axis, slice(1, None)) - _along(x, axis, slice(None, -1))
    pairs = _along(y, axis, slice(1, None)) + _along(y, axis, slice(None, -1))
    return sum(spacing * pairs / 2.0, axis=axis)


# ----- interp ------------------------------------------------------------------------------------
def _searchsorted(sorted_values, values):
    """np.searchsorted(sorted_values, values, side='right') on constants; under vmap in one call
    when only `values` is batched (a pointwise question about them), else example by example."""
    sorted_values, values = const(sorted_values), const(values)
    if type(sorted_values) in TRACED_TYPES or type(values) not in TRACED_TYPES:
        return plain(np.searchsorted)(sorted_values, values, side="right")
    found = np.searchsorted(np.asarray(sorted_values), physical_value(values), side="right")
    return batched_like(values, found)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (xp, fp) at x, as np.interp (float64 or
    complex128 results; left and right values; periodic xp with `period`). Differentiable in
    x, fp, left and right, and in xp (piecewise); at a sample point the derivative in x is
    the slope to its right (see the module docstring)."""
    complex_values = array_dtype(fp).kind == "c"
    dtype = np.complex128 if complex_values else np.float64
    x = astype(_as_array(x), np.float64)
    xp = astype(_as_array(xp), np.float64)
    fp = astype(_as_array(fp), dtype)
    if ndim_of(xp) != 1 or ndim_of(fp) != 1:
        raise ShapeError("interp: Data points must be 1-D sequences")
    if shape_of(xp)[0] != shape_of(fp)[0]:
        raise ShapeError("interp: fp and xp are not of the same length")
    if shape_of(xp)[0] == 0:
        raise ArgumentError("interp: array of sample points is empty")
    if period is not None:
        x, xp, fp = _periodic(x, xp, fp, period)
        left = right = None
    left = fp[0] if left is None else astype(_as_array(left), dtype)
    right = fp[-1] if right is None else astype(_as_array(right), dtype)
    return _interpolated(x, xp, fp, left, right, complex_values)


def _periodic(x, xp, fp, period):
    """NumPy's periodic set-up: x and xp modulo the period, xp sorted, one point wrapped
    around at each end."""
    if period == 0:
        raise ArgumentError("interp: period must be a non-zero value")
    period = abs(period)
    x, xp = x % period, xp % period
    order = plain(np.argsort)(const(xp))
    xp, fp = take(xp, order), take(fp, order)
    xp = concatenate([xp[-1:] - period, xp, xp[0:1] + period])
    fp = concatenate([fp[-1:], fp, fp[0:1]])
    return x, xp, fp


def _interpolated(x, xp, fp, left, right, complex_values):
    count = shape_of(xp)[0]
    position = _searchsorted(xp, x) - 1  # xp[position] <= x < xp[position + 1]
    below = position < 0
    beyond = _elementwise.logical_and(position >= count - 1, const(x) != const(xp)[-1])
    if count == 1:
        inside = take(fp, np.zeros(shape_of(x), np.intp))
    else:
        inside = _inside(x, xp, fp, _elementwise.clip(position, lo=0, hi=count - 2),
                         complex_values)
        at_last = _elementwise.equal(position, count - 1)
        if _any(at_last):
            inside = _elementwise.where(at_last, fp[-1], inside)
    result = _elementwise.where(beyond, right, _elementwise.where(below, left, inside))
    missing = _elementwise.isnan(const(x))
    if count > 1 and _any(missing):  # NumPy's one-point case compares, giving fp[0] for NaN
        result = _elementwise.where(missing, x, result)
    return result


def _inside(x, xp, fp, interval, complex_values):
    """NumPy's formula on the interval [xp[j], xp[j + 1]] holding x: slope (x - xp[j]) + fp[j],
    from the other end if that is NaN (an infinite fp), and fp[j] if both ends are equal."""
    x0, x1 = take(xp, interval), take(xp, interval + 1)
    f0, f1 = take(fp, interval), take(fp, interval + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if complex_values:  # NumPy multiplies by the reciprocal of the width for complex fp
            slope = (f1 - f0) * (1.0 / (x1 - x0))
        else:
            slope = (f1 - f0) / (x1 - x0)
        value = slope * (x - x0) + f0
        failed = _elementwise.isnan(const(value))
        if _any(failed):
            value = _elementwise.where(failed, slope * (x - x1) + f1, value)
            flat = _elementwise.logical_and(_elementwise.isnan(const(value)),
                                            _elementwise.equal(const(f0), const(f1)))
            value = _elementwise.where(flat, f0, value)
    at_point = _elementwise.logical_and(_elementwise.equal(const(x), const(x0)),
                                        _elementwise.logical_not(_elementwise.isfinite(const(slope))))
    return _elementwise.where(at_point, f0, value) if _any(at_point) else value


# ----- unwrap ------------------------------------------------------------------------------------
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """p with multiples of `period` added along `axis` wherever consecutive values jump by more
    than `discont` (default period / 2), as np.unwrap. The corrections are constant between
    jumps, so the derivative is the identity."""
    p = _as_array(p)
    axis = normalize_axis(axis, ndim_of(p), "unwrap")
    values = const(p)
    step = _along(values, axis, slice(1, None)) - _along(values, axis, slice(None, -1))
    if discont is None:
        discont = period / 2
    dtype = np.result_type(array_dtype(step), period)
    if np.issubdtype(dtype, np.integer):
        high, remainder = divmod(period, 2)
        ambiguous = remainder == 0
    else:
        high, ambiguous = period / 2, True
    low = -high
    wrapped = _elementwise.mod(step - low, period) + low
    if ambiguous:  # a jump of exactly period / 2 keeps its sign
        upper = _elementwise.logical_and(wrapped == low, step > 0)
        wrapped = _elementwise.where(upper, high, wrapped)
    correction = wrapped - step
    correction = _elementwise.where(_elementwise.abs(step) < discont, 0, correction)
    total = cumsum(correction, axis=axis)
    widths = [(0, 0)] * ndim_of(p)
    widths[axis] = (1, 0)
    start = p if array_dtype(p) == dtype else astype(p, dtype)
    return start + pad(total, widths)


wrap_public(globals(), __all__)
