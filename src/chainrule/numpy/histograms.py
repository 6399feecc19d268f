"""Counting into bins: `bincount` and the histograms (histogram, histogram_bin_edges,
histogram2d, histogramdd), differentiable where jax.numpy's are.

NumPy decides everything that is piecewise constant, on the plain values: which bin each entry
falls in, the counts, the number of bins (`bins='auto'`), and all of its checks and errors.
What moves with the data is recorded: equal-width bin edges run from the data's min to its max
when `range` is not given (so they, and densities, are differentiable in the data), or from a
differentiable `range`; edges given as an array are themselves; weighted counts are sums of the
weights (differentiable in them). On plain arrays each function is NumPy's own. Under vmap NumPy
runs once per example; examples whose results differ in size (bincount's length, the number of
`bins='auto'` bins) raise a BatchingError.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.tensor import cast
from chainrule.errors import DTypeError
from chainrule.numpy._common import ndim_of, plain
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import linspace
from chainrule.numpy.reductions import max as _max
from chainrule.numpy.reductions import min as _min
from chainrule.numpy.reductions import sum as _sum
from chainrule.numpy.shapes import as_array, diff, ravel, reshape, size, traced, transpose
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import shape as _shape_ops
from chainrule.ops._rules import const

__all__ = ["bincount", "histogram", "histogram_bin_edges", "histogram2d", "histogramdd"]


def bincount(x, /, weights=None, minlength=0):
    """np.bincount; with weights, the sums of the weights (float64, as NumPy's) record, so they
    are differentiable in `weights`. The counts themselves are NumPy's, on plain values."""
    weights = None if weights is None else as_array(weights)
    counted = plain(np.bincount)(x, weights, minlength)  # NumPy's checks, length and dtype
    if not traced(weights):
        return counted
    return _shape_ops.scatter_add(
        cast(weights, np.float64), index=(_int_index(x),), shape=tuple(shape_of(counted))
    )


def _int_index(x):
    """Integer entries as an index: plain, or under vmap one per example."""
    x = const(x)
    return cast(x, np.intp) if traced(x) else np.asarray(x).astype(np.intp)


# ----- histograms -------------------------------------------------------------------------------
def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002 - NumPy's name
    if not _holds_traced((a, bins, range, weights)):
        return np.histogram_bin_edges(a, bins, range, weights)
    a = _real_data(a, "histogram_bin_edges")
    found = _on_values(np.histogram_bin_edges, "histogram_bin_edges", a, bins, range, weights)
    return _edges(a, bins, range, found)


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002 - NumPy's name
    if not _holds_traced((a, bins, range, weights)):
        return np.histogram(a, bins, range, density, weights)
    a = _real_data(a, "histogram")
    weights = None if weights is None else as_array(weights)
    counts, found = _on_values(np.histogram, "histogram", a, bins, range, None, weights)
    edges = _edges(a, bins, range, found)
    if traced(weights):  # NumPy's counts are in the weights' dtype
        samples = reshape(ravel(a), (-1, 1))
        counts = cast(_weighted(samples, ravel(weights), [found], "histogram"), dtype_of(counts))
    return (_density(counts, [edges]) if density else counts), edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):  # noqa: A002
    if not _holds_traced((x, y, bins, range, weights)):
        return np.histogram2d(x, y, bins, range, density, weights)
    x, y = _real_data(x, "histogram2d"), _real_data(y, "histogram2d")
    try:
        count = len(bins)
    except TypeError:
        count = 1
    if count not in (1, 2):  # one array of edges, for both axes (as NumPy reads `bins`)
        bins = [bins, bins]
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]


def histogramdd(sample, bins=10, range=None, density=None, weights=None):  # noqa: A002
    if not _holds_traced((sample, bins, range, weights)):
        return np.histogramdd(sample, bins, range, density, weights)
    samples = _real_data(_samples(sample), "histogramdd")
    weights = None if weights is None else as_array(weights)
    counts, *found = _on_values(_histogramdd_flat, "histogramdd", sample, bins, range, None,
                                weights)
    axes = len(found)
    each_bins = bins if _has_length(bins) else [bins] * axes
    each_range = [None] * axes if range is None else range
    edges = [
        _edges(samples[:, axis], each_bins[axis], each_range[axis], found[axis])
        for axis in np.arange(axes)
    ]
    if traced(weights):
        counts = _weighted(samples, weights, found, "histogramdd")
    return (_density(counts, edges) if density else counts), edges


def _histogramdd_flat(*args):
    """np.histogramdd's counts and edges as one flat tuple, which vmap can stack."""
    hist, edges = np.histogramdd(*args)
    return (hist, *edges)


def _samples(sample):
    """histogramdd's sample as an (N, D) array, read as NumPy reads it: an array of shape
    (N, D), or D sequences of N coordinates."""
    if isinstance(sample, (list, tuple)):
        return transpose(as_array(sample))
    sample = as_array(sample)
    return sample if ndim_of(sample) == 2 else reshape(sample, (-1, 1))


def _has_length(bins):
    try:
        len(bins)
    except TypeError:
        return False
    return not isinstance(bins, str)


def _real_data(a, what):
    """`a` as an array, refused if a complex Tensor: NumPy bins complex numbers in
    lexicographic order, which has no derivative."""
    a = as_array(a)
    if traced(a) and dtype_of(a).kind == "c":
        raise DTypeError(
            f"{what}() got complex data (dtype {dtype_of(a)}) in a Tensor: NumPy bins complex "
            "numbers in lexicographic order, which has no derivative. Bin cnp.real(a), "
            "cnp.imag(a) or cnp.abs(a), or call it on a NumPy array (.detach()) for NumPy's "
            "own result. Complex weights are fine."
        )
    return a


def _edges(a, bins, range, found):  # noqa: A002 - NumPy's name
    """The bin edges NumPy found (`found`), recorded where they move with a Tensor: edges
    given as an array are themselves; equal bins run from `range`, else from the data's min to
    its max (each moved out by 0.5 when they are equal, as NumPy's)."""
    if ndim_of(bins) == 1:
        return as_array(bins) if _holds_traced(bins) else found
    if range is not None:
        first, last = range
    elif dtype_of(a).kind == "f" and size(a) > 0:
        first, last = _min(a), _max(a)
    else:  # integers (no derivative), or no data (NumPy's 0 to 1)
        return found
    if not (traced(first) or traced(last)):
        return found
    shift = _elementwise.where(const(first == last), 0.5, 0.0)
    count = shape_of(found)[0]
    return linspace(first - shift, last + shift, count, dtype=dtype_of(found))


def _weighted(samples, weights, edges, what):
    """The sums of `weights` over the bins of `edges` (one array of edges per column of
    `samples`, N x D), in float64 (complex128 for complex weights) as NumPy's bincount adds
    them: recorded, so differentiable in the weights."""
    index = _on_values(_bin_index, what, samples, *edges)
    padded = tuple(shape_of(e)[0] + 1 for e in edges)  # an outlier bin at each end
    dtype = np.complex128 if dtype_of(weights).kind == "c" else np.float64
    sums = _shape_ops.scatter_add(
        cast(weights, dtype), index=(index,), shape=(int(np.prod(padded)),)
    )
    return reshape(sums, padded)[(slice(1, -1),) * len(edges)]


def _bin_index(samples, *edges):
    """Each sample's bin in the padded grid, as np.histogramdd finds it: bins are closed on the
    left, the last also on the right; bin 0 and the last of each axis hold the outliers."""
    positions = []
    for column, column_edges in zip(samples.T, edges, strict=True):
        position = np.searchsorted(column_edges, column, side="right")
        position[column == column_edges[-1]] -= 1
        positions.append(position)
    return np.ravel_multi_index(positions, [e.size + 1 for e in edges])


def _density(counts, edges):
    """counts / (total * the bins' volumes), in NumPy's order of operations."""
    total = _sum(counts)
    for axis, axis_edges in enumerate(edges):
        shape = [1] * len(edges)
        shape[axis] = -1
        counts = counts / reshape(cast(diff(axis_edges), np.float64), tuple(shape))
    return counts / total


# ----- NumPy on plain values, Tensors inside lists included -------------------------------------
def _holds_traced(value):
    if isinstance(value, (list, tuple)):
        return any(_holds_traced(part) for part in value)
    return traced(value)


def _on_values(function, name, *args):
    """`function(*args)` on the plain values by `plain` (once per example under vmap), Tensors
    inside lists and tuples (bins, ranges) read as values too."""
    leaves, structure = _flatten(args)

    def rebuilt(*values):
        return function(*_unflatten(structure, iter(values)))

    return plain(rebuilt, name=name)(*leaves)


def _flatten(value):
    """The leaves of `value` (lists and tuples that hold Tensors opened), and its structure."""
    if isinstance(value, (list, tuple)) and _holds_traced(value):
        parts = [_flatten(part) for part in value]
        return [leaf for leaves, _ in parts for leaf in leaves], (type(value), parts)
    return [value], None


def _unflatten(structure, values):
    if structure is None:
        return next(values)
    kind, parts = structure
    return kind(_unflatten(part_structure, values) for _, part_structure in parts)


# histogramdd's sample may be a list of coordinate arrays: not stacked into one array first.
wrap_public(globals(), __all__, not_array_first={"histogramdd"})
