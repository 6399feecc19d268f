"""Batching rules shared by the rows: how a primitive applies to every example of a `cr.vmap`
level at once (see core/batching.py for the level and the rule signature).

A rule gets the operands one level down, `batched` (one flag per operand: does it carry the
batch axis, in front), the batch `size`, and the primitive's params; it returns the result for
every example, batch axis in front, computed with bound primitives so that lower levels keep
recording. `NotImplemented` sends the call row by row (always right, only slower).
"""

import numpy as np

from chainrule.core.batching import BatchedIndex, broadcast_batch, pad_rank, shift_axis
from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import REGISTRY, PerPrimitive, bind
from chainrule.errors import BatchingError

__all__ = [
    "POINTWISE", "ALONG_AXIS", "STACKED", "reshape_rule", "transpose_rule", "broadcast_to_rule",
    "flip_rule", "roll_rule", "triangle_rule", "concatenate_rule", "pad_rule", "getitem_rule",
    "scatter_add_rule", "setitem_rule", "batchable_index", "with_batch_slice",
]


def _example_rank(value, is_batched):
    return len(shape_of(value)) - is_batched


# ----- elementwise: every operand lines up by broadcasting --------------------------------------
def _pointwise(primitive):
    """An elementwise (broadcasting) primitive: batched operands get size-1 axes after the batch
    axis up to the result's rank, so that NumPy broadcasting lines each example up with the
    unbatched operands, which broadcast from the right as they did."""

    def rule(values, batched, size, **params):
        if len(values) == 1:
            return bind(primitive, values[0], **params)
        rank = max(_example_rank(v, b) for v, b in zip(values, batched))
        padded = [pad_rank(v, rank) if b else v for v, b in zip(values, batched)]
        return bind(primitive, *padded, **params)

    return rule


POINTWISE = PerPrimitive(_pointwise)


# ----- one operand, an `axis` param ---------------------------------------------------------------
def _along_axis(primitive):
    """A primitive of one operand that works along `axis` (reductions, cumulative sums, softmax,
    argmax, sort): the same axes one to the right. axis=None (the flattened array) flattens each
    example first."""

    def rule(values, batched, size, **params):
        (x,) = values
        rank = _example_rank(x, True)
        axis = params["axis"]
        if axis is None:
            x = bind(REGISTRY["reshape"], x, shape=(size, -1))
            axis, rank = 0, 1
            if params.get("keepdims"):
                return NotImplemented  # the kept shape is the example's: rows are simplest
        return bind(primitive, x, **{**params, "axis": shift_axis(axis, rank)})

    return rule


ALONG_AXIS = PerPrimitive(_along_axis)


# ----- stacks of matrices: NumPy's linalg broadcasts over leading axes ---------------------------
def _stacked(primitive):
    """A linear-algebra primitive of one operand that already works on stacks of matrices
    (inv, det, cholesky, eigh, qr, svd, pinv, ...): the batch axis is one more stack axis."""

    def rule(values, batched, size, **params):
        return bind(primitive, *values, **params)

    return rule


STACKED = PerPrimitive(_stacked)


# ----- shape primitives ----------------------------------------------------------------------
def reshape_rule(values, batched, size, shape):
    return bind(REGISTRY["reshape"], values[0], shape=(size,) + tuple(shape))


def transpose_rule(values, batched, size, axes):
    rank = _example_rank(values[0], True)
    if axes is None:
        axes = tuple(reversed(range(rank)))
    return bind(REGISTRY["transpose"], values[0], axes=(0,) + shift_axis(tuple(axes), rank))


def broadcast_to_rule(values, batched, size, shape):
    value = pad_rank(values[0], len(shape))
    return bind(REGISTRY["broadcast_to"], value, shape=(size,) + tuple(shape))


def flip_rule(values, batched, size, axis):
    rank = _example_rank(values[0], True)
    axis = tuple(range(1, rank + 1)) if axis is None else shift_axis(axis, rank)
    return bind(REGISTRY["flip"], values[0], axis=axis)


def roll_rule(values, batched, size, shift, axis):
    (x,) = values
    if axis is None:  # roll the flattened example, then give it its shape back
        flat = bind(REGISTRY["reshape"], x, shape=(size, -1))
        rolled = bind(REGISTRY["roll"], flat, shift=shift, axis=1)
        return bind(REGISTRY["reshape"], rolled, shape=shape_of(x))
    return bind(REGISTRY["roll"], x, shift=shift, axis=shift_axis(axis, _example_rank(x, True)))


def triangle_rule(primitive_name):
    def rule(values, batched, size, k):
        if _example_rank(values[0], True) < 2:
            return NotImplemented  # np.triu of a vector builds a matrix
        return bind(REGISTRY[primitive_name], values[0], k=k)  # the last two axes only

    return rule


def concatenate_rule(values, batched, size, axis, sizes):
    rank = _example_rank(values[0], batched[0])
    operands = [v if b else broadcast_batch(v, size) for v, b in zip(values, batched)]
    return bind(REGISTRY["concatenate"], *operands, axis=shift_axis(axis, rank), sizes=sizes)


def pad_rule(values, batched, size, pad_width, constant_values):
    widths = ((0, 0),) + tuple(tuple(p) for p in pad_width)
    return bind(REGISTRY["pad"], values[0], pad_width=widths, constant_values=constant_values)


# ----- indexing -----------------------------------------------------------------------------------
def batchable_index(index) -> bool:
    """Whether putting a full slice in front selects the same entries of every example. NumPy
    moves the axes of non-adjacent advanced indices to the front, which would mix the batch
    axis in: those calls go row by row."""
    parts = index if isinstance(index, tuple) else (index,)
    advanced = [
        i for i, p in enumerate(parts)
        if not (isinstance(p, slice) or p is None or p is Ellipsis)
        and not (isinstance(p, (int, np.integer)) and not _has_array(parts))
    ]
    return not advanced or advanced[-1] - advanced[0] == len(advanced) - 1


def _has_array(parts):
    return any(not isinstance(p, (slice, int, np.integer)) and p is not None and p is not Ellipsis
               for p in parts)


def with_batch_slice(index):
    """The index with a full slice in front, for the batch axis."""
    return (slice(None),) + (index if isinstance(index, tuple) else (index,))


def _per_example_index(index, size, x_batched):
    """An index holding index arrays with one entry per example (`BatchedIndex`), as one index
    of the stacked arrays: x_b[i_b, j] for every b is X[b_range, I, j] when every part is an
    array or an integer (NumPy's advanced indexing broadcasts them together; the example
    number, in front, picks each example's own array). None when the index has slices, None or
    Ellipsis among them (those go row by row)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not all(
        type(p) is BatchedIndex or isinstance(p, (int, np.integer, np.ndarray)) for p in parts
    ):
        return None
    for part in parts:
        if type(part) is BatchedIndex and dtype_of(part.value).kind == "b":
            raise BatchingError(
                "a boolean mask with one value per example, used as an index under cr.vmap: "
                "each example would select a different number of entries, so the results do "
                "not stack. Use cnp.where(mask, x, 0) (or a sum weighted by the mask) instead."
            )
    example_shapes = [
        shape_of(p.value)[1:] if type(p) is BatchedIndex else np.shape(p) for p in parts
    ]
    rank = len(np.broadcast_shapes(*example_shapes))
    arrays = [pad_rank(p.value, rank) if type(p) is BatchedIndex else p for p in parts]
    if x_batched:
        arrays.insert(0, np.arange(size).reshape((size,) + (1,) * rank))
    return tuple(arrays)


def _has_batched_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(type(p) is BatchedIndex for p in parts)


def getitem_rule(values, batched, size, index):
    (x,) = values
    if _has_batched_index(index):
        stacked = _per_example_index(index, size, batched[0])
        if stacked is None:
            return NotImplemented
        return bind(REGISTRY["getitem"], x, index=stacked)
    if not batchable_index(index):
        return NotImplemented
    return bind(REGISTRY["getitem"], x, index=with_batch_slice(index))


def scatter_add_rule(values, batched, size, index, shape):
    (updates,) = values
    if _has_batched_index(index):
        stacked = _per_example_index(index, size, True)
        if stacked is None:
            return NotImplemented
        if not batched[0]:
            updates = broadcast_batch(updates, size)
        return bind(REGISTRY["scatter_add"], updates, index=stacked, shape=(size,) + tuple(shape))
    if not batched[0] or not batchable_index(index):
        return NotImplemented
    return bind(REGISTRY["scatter_add"], updates, index=with_batch_slice(index),
                shape=(size,) + tuple(shape))


def setitem_rule(values, batched, size, index):
    x, value = values
    per_example = _has_batched_index(index)
    if per_example:
        stacked = _per_example_index(index, size, True)
        if stacked is None:
            return NotImplemented
    elif not batchable_index(index):
        return NotImplemented
    else:
        stacked = with_batch_slice(index)
    if not batched[0]:
        x = broadcast_batch(x, size)  # every example writes into its own copy
    if batched[1]:
        # Each example's value broadcasts against its x[index]: line its axes up from the right.
        selected = shape_of(bind(REGISTRY["getitem"], x, index=stacked))[1:]
        value = pad_rank(value, len(selected))
    return bind(REGISTRY["setitem"], x, value, index=stacked)
