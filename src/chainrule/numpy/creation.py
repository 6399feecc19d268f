"""Making arrays. `asarray`, `array` and `copy` keep a traced value traced (a list of them is
stacked, so it records); zeros, ones, empty, full and their `*_like` forms check the shape and
that it fits in memory before allocating, and a differentiable fill value records. Ranges
(linspace, logspace, geomspace) record when an endpoint is a Tensor, grids (meshgrid,
vander, fromfunction) when their inputs are, and `r_`/`c_` join what they are given."""

import operator

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.tensor import Tensor, cast, holds_tensor, raw_value, stack_values
from chainrule.core.trace import physical_value
from chainrule.errors import ArgumentError, ShapeError, UnsupportedFunctionError
from chainrule.numpy._common import array_dtype, differentiable, filled, ndim_of
from chainrule.numpy._explain import allocation_shape, wrap_public
from chainrule.numpy.shapes import (
    as_array,
    broadcast_arrays,
    concatenate,
    expand_dims,
    moveaxis,
    reshape,
    swapaxes,
    traced,
    transpose,
    with_ndmin,
)
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const

__all__ = [
    "asarray", "asanyarray", "ascontiguousarray", "array", "copy", "astype", "result_type",
    "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "full_like", "empty_like",
    "linspace", "logspace", "geomspace", "meshgrid", "vander", "tri", "r_", "c_",
]


def asarray(a, dtype=None):
    """A Tensor or traced value is returned as it is (it already is an array); anything else
    becomes a NumPy array."""
    if isinstance(a, Tensor):
        return a if dtype is None else a.astype(dtype)
    if isinstance(a, (list, tuple)) and holds_tensor(a):
        # [x, y] built from traced values (common inside functions): stack, so it records.
        stacked = stack_values(a)
        return stacked if dtype is None else astype(stacked, dtype)
    return np.asarray(a, dtype=dtype)


def asanyarray(a, dtype=None):
    return asarray(a, dtype)


def ascontiguousarray(a, dtype=None):
    result = asarray(a, dtype)
    return reshape(result, (1,)) if ndim_of(result) == 0 else result  # NumPy's: ndim >= 1


def array(a, dtype=None, copy=True):
    """Like `asarray`, but a plain array is copied, as `numpy.array` does."""
    if isinstance(a, Tensor) or (isinstance(a, (list, tuple)) and holds_tensor(a)):
        return asarray(a, dtype)
    return np.array(a, dtype=dtype, copy=copy)


def copy(a):
    """A copy (differentiable on Tensors: a new Tensor recording an identity cast)."""
    if isinstance(a, Tensor):
        return _elementwise.astype(a, dtype=np.dtype(a.dtype), copy=True)
    return np.copy(a)


def astype(a, dtype):
    return cast(a, dtype)


def result_type(*arrays_and_dtypes):
    return np.result_type(*(
        dtype_of(a) if isinstance(a, Tensor) else a for a in arrays_and_dtypes
    ))


# NumPy would fail on a bad shape with a bare error, or allocate lazily and be killed later.
def zeros(shape, dtype=float, order="C"):
    return np.zeros(allocation_shape(shape, dtype, "zeros"), dtype, order)


def ones(shape, dtype=float, order="C"):
    return np.ones(allocation_shape(shape, dtype, "ones"), dtype, order)


def empty(shape, dtype=float, order="C"):
    return np.empty(allocation_shape(shape, dtype, "empty"), dtype, order)


def full(shape, fill_value, dtype=None, order="C"):
    fill_dtype = np.dtype(dtype) if dtype is not None else array_dtype(fill_value)
    shape = allocation_shape(shape, fill_dtype, "full")
    if differentiable(fill_value):
        return filled(shape, fill_value, fill_dtype, "full")
    return np.full(shape, raw_value(fill_value), dtype, order)


def zeros_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "zeros_like")
    return np.zeros_like(a, dtype=dtype, shape=shape)


def ones_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "ones_like")
    return np.ones_like(a, dtype=dtype, shape=shape)


def full_like(a, fill_value, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "full_like")
    if differentiable(fill_value):
        like = np.empty_like(a, dtype=dtype, shape=shape)
        return filled(like.shape, fill_value, like.dtype, "full_like")
    return np.full_like(a, raw_value(fill_value), dtype=dtype, shape=shape)


def empty_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "empty_like")
    return np.empty_like(a, dtype=dtype, shape=shape)


def _like_source(a, dtype, shape, what):
    """A plain array with `a`'s shape and dtype (under vmap one example's: the result is the
    same for every example); a new `shape` is checked against memory first."""
    if isinstance(a, Tensor):
        a = np.broadcast_to(np.zeros((), dtype_of(a)), shape_of(a))
    else:
        a = np.asarray(a)
    if shape is not None:
        allocation_shape(shape, dtype or np.result_type(a), what)
    return a


# ----- ranges ---------------------------------------------------------------------------------
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    if not (traced(start) or traced(stop)):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis, device=device)
    num = operator.index(num)
    if num < 0:
        raise ArgumentError(f"linspace: number of samples, {num}, must be non-negative")
    inexact = _inexact(np.result_type(_weak(start), _weak(stop)))
    start, stop = cast(as_array(start), inexact), cast(as_array(stop), inexact)
    delta = stop - start
    div = num - 1 if endpoint else num
    counts = np.arange(num, dtype=inexact).reshape((-1,) + (1,) * ndim_of(delta))
    step = delta / div if div > 0 else np.nan  # no step for 0 samples, or 1 with its endpoint
    samples = counts * step if div > 0 else counts * delta
    samples = samples + start
    if endpoint and num > 1:  # the last sample is `stop` itself, as NumPy's
        samples = concatenate([samples[:-1], _first_row(stop, delta)])
    if axis != 0:
        samples = moveaxis(samples, 0, axis)
    if dtype is not None:
        integer = np.issubdtype(dtype, np.integer)
        samples = cast(_elementwise.floor(samples) if integer else samples, dtype)
    return (samples, step) if retstep else samples


def _weak(value):
    """A Python number as itself (NumPy's weak scalar in promotion), else its dtype."""
    return value if type(value) in (int, float, complex) else dtype_of(value)


def _inexact(dtype):
    return dtype if dtype.kind in "fc" else np.result_type(dtype, 1.0)


def _first_row(value, like):
    """`value` broadcast to `like`'s shape, with a new leading axis of length 1."""
    return expand_dims(broadcast_arrays(value, like)[0], 0)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    if not (traced(start) or traced(stop) or traced(base)):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    if type(base) not in (int, float) and ndim_of(base):
        # A base with dimensions is broadcast with the endpoints, then gets the samples' axis.
        ndmax = len(np.broadcast_shapes(*(shape_of(a) for a in (start, stop, base))))
        start, stop, base = (with_ndmin(a, ndmax) for a in (start, stop, base))
        base = expand_dims(base, axis)
    exponents = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    powers = _elementwise.power(base, exponents)
    return powers if dtype is None else cast(powers, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    if not (traced(start) or traced(stop)):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = as_array(start), as_array(stop)
    if np.any(physical_value(start) == 0) or np.any(physical_value(stop) == 0):
        raise ArgumentError("geomspace: a geometric sequence cannot include zero")
    inexact = np.result_type(
        dtype_of(start), dtype_of(stop), float(num), np.float64 if dtype is None else dtype
    )
    start, stop = cast(start, inexact), cast(stop, inexact)
    # Rotate start onto the positive reals (negative and complex endpoints), rotate back after.
    sign = const(start) / abs(const(start))  # NumPy's sign, z/|z| for complex z
    start, stop = start / sign, stop / sign
    samples = logspace(
        _elementwise.log10(start), _elementwise.log10(stop), num=num, endpoint=endpoint,
        dtype=inexact,
    )
    if num > 0:  # the endpoints are start and stop themselves, not 10 ** log10(...)
        ends = [_first_row(start, samples[0]), samples[1:]]
        if num > 1 and endpoint:
            ends[1:] = [samples[1:-1], _first_row(stop, samples[0])]
        samples = concatenate(ends)
    samples = samples * sign
    if axis != 0:
        samples = moveaxis(samples, 0, axis)
    return cast(samples, inexact if dtype is None else dtype)


# ----- grids ----------------------------------------------------------------------------------
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ArgumentError(
            f"meshgrid: valid values for `indexing` are 'xy' and 'ij', got {indexing!r}"
        )
    if not any(traced(x) for x in xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    n = len(xi)
    shapes = [tuple(-1 if j == i else 1 for j in range(n)) for i in range(n)]
    if indexing == "xy" and n > 1:  # the first two axes swapped: x along columns
        shapes[0], shapes[1] = shapes[1], shapes[0]
    grids = [reshape(as_array(x), s) for x, s in zip(xi, shapes, strict=True)]
    return tuple(grids) if sparse else broadcast_arrays(*grids)


def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's argument name
    x = as_array(x)
    if ndim_of(x) != 1:
        raise ShapeError(
            f"vander: x must be a one-dimensional array or sequence, got shape {shape_of(x)}"
        )
    columns = shape_of(x)[0] if N is None else operator.index(N)
    if columns < 0:
        raise ShapeError(f"vander: N must be non-negative, got {N}")
    dtype = np.promote_types(dtype_of(x), int)
    x = cast(x, dtype)
    powers = [np.ones(shape_of(x), dtype), x][:columns]
    while len(powers) < columns:  # x**k as repeated products, as NumPy's multiply.accumulate
        powers.append(powers[-1] * x)
    if not powers:
        return np.empty((shape_of(x)[0], 0), dtype)
    powers = [reshape(p, (-1, 1)) for p in powers]
    return concatenate(powers if increasing else powers[::-1], axis=1)


tri = np.tri


# ----- index tricks -----------------------------------------------------------------------------
class _AxisConcatenator:
    """NumPy's `r_` and `c_`: `cnp.r_[a, 0, 1:4, b]` joins arrays, numbers and ranges along an
    axis. A Tensor among them records (the join is `concatenate`); a slice with a complex step
    (`r_[0:1:5j]`) is `linspace`, so Tensor endpoints record too."""

    __slots__ = ("axis", "ndmin", "trans1d")

    def __init__(self, axis=0, ndmin=1, trans1d=-1):
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        if isinstance(key, str):
            raise _matrix_refusal(key)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces, kinds = [], []
        for k, item in enumerate(key if isinstance(key, tuple) else (key,)):
            if isinstance(item, str):
                if k != 0:
                    raise ArgumentError(f"r_/c_: special directives such as {item!r} must be "
                                        "the first entry")
                axis, ndmin, trans1d = _directive(item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                piece = _range(item, ndmin, trans1d)
            elif type(item) in np.ScalarType:
                piece = item
            else:
                piece = _placed(item, ndmin, trans1d)
            pieces.append(piece)
            kinds.append(piece if piece is item and type(item) in np.ScalarType else
                         dtype_of(piece))
        if kinds:
            dtype = np.result_type(*kinds)
            pieces = [cast(with_ndmin(piece, ndmin), dtype) for piece in pieces]
        return concatenate(pieces, axis=axis)

    def __len__(self):
        return 0


def _matrix_refusal(what):
    return UnsupportedFunctionError(
        f"r_/c_ with {what!r} builds an np.matrix, which chainrule does not support; join "
        "arrays with r_[a, b] or cnp.block([[a, b], [c, d]])"
    )


def _directive(item, axis, ndmin, trans1d):
    """A leading string of r_/c_: 'r' or 'c' (np.matrix: refused), 'axis', or
    'axis,ndmin' and 'axis,ndmin,trans1d'."""
    if item in ("r", "c"):
        raise _matrix_refusal(item)
    try:
        numbers = [int(x) for x in item.split(",")]
    except ValueError:
        raise ArgumentError(f"r_/c_: unknown special directive {item!r}") from None
    if len(numbers) == 1:
        return numbers[0], ndmin, trans1d
    if len(numbers) > 3:
        raise ArgumentError(f"r_/c_: unknown special directive {item!r}")
    return numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else trans1d


def _range(item, ndmin, trans1d):
    """A slice in r_/c_: arange(start, stop, step), or linspace for a complex step."""
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    if isinstance(step, (complex, np.complexfloating)):
        values = linspace(start, item.stop, num=int(abs(step)))
    else:
        values = np.arange(start, item.stop, step)
    if ndmin > 1:
        values = with_ndmin(values, ndmin)
        if trans1d != -1:
            values = swapaxes(values, -1, trans1d)
    return values


def _placed(item, ndmin, trans1d):
    """An array in r_/c_, given `ndmin` dimensions; where the original ones go is trans1d's."""
    item = as_array(item)
    item_ndim = ndim_of(item)
    item = with_ndmin(item, ndmin)
    if trans1d == -1 or item_ndim >= ndmin:
        return item
    added, first = ndmin - item_ndim, trans1d
    if first < 0:
        first += added + 1
    axes = list(range(ndmin))
    return transpose(item, axes[:first] + axes[added:] + axes[first:added])


r_ = _AxisConcatenator(0)
c_ = _AxisConcatenator(-1, ndmin=2, trans1d=0)


wrap_public(
    globals(), __all__,
    not_array_first={
        "asarray", "asanyarray", "ascontiguousarray", "array", "copy", "result_type", "zeros",
        "ones", "empty", "full", "meshgrid", "tri",
    },
)
