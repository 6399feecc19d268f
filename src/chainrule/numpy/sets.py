"""The array API's unique functions: unique_values, unique_counts, unique_inverse, unique_all.

NumPy finds the unique values, their counts, first positions and the inverse on the plain
values; the values are then picked from the input at those positions, recorded, so their
derivatives flow back to the entries they came from (as cnp.unique's). On plain arrays each is
NumPy's own. The order is NumPy's too: sorted, except unique_values of integers and complex
numbers (NumPy 2.3's hash order, which "may vary" and moves with the values). Under vmap NumPy
runs once per example, and examples with different numbers of unique values raise a
BatchingError (their results would not stack).
"""

import numpy as np

from chainrule.numpy._common import plain
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.shapes import as_array, ravel, traced
from chainrule.ops import shape as _shape_ops

__all__ = ["unique_values", "unique_counts", "unique_inverse", "unique_all"]


def unique_values(x, /):
    return _picked(np.unique_values, x)


def unique_counts(x, /):
    return _picked(np.unique_counts, x)


def unique_inverse(x, /):
    return _picked(np.unique_inverse, x)


def unique_all(x, /):
    return _picked(np.unique_all, x)


def _picked(numpy_unique, x):
    """NumPy's result, with its unique values picked from `x` (recorded)."""
    x = as_array(x)
    if not traced(x):
        return numpy_unique(x)

    def positions_and_rest(values):
        result = numpy_unique(values)
        fields = result if isinstance(result, tuple) else (result,)
        flat = np.asarray(values).reshape(-1)
        positions = result.indices if hasattr(result, "indices") else _positions(fields[0], flat)
        return (positions, *fields[1:])

    positions, *rest = plain(positions_and_rest, name=numpy_unique.__name__)(x)
    values = _shape_ops.getitem(ravel(x), index=(positions,))
    if not rest:
        return values
    return _RESULT_TYPES[numpy_unique](values, *rest)


def _positions(values, flat):
    """Where in `flat` each of `values` (entries of `flat`) first occurs. A NaN is a value of its
    own for the array API's functions: the NaN values take the NaN entries in order."""
    order = np.argsort(flat, kind="stable")
    ranks = np.searchsorted(flat[order], values)
    if flat.dtype.kind in "fc":
        missing = np.isnan(values)
        ranks[missing] += np.arange(np.count_nonzero(missing))
    return order[ranks]


# NumPy's named tuples (UniqueCountsResult, ...), to return the picked values in.
_RESULT_TYPES = {
    function: type(function(np.zeros(1)))
    for function in (np.unique_counts, np.unique_inverse, np.unique_all)
}

wrap_public(globals(), __all__)
