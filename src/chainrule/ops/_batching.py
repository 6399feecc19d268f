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
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, PerPrimitive, bind
from chainrule.errors import BatchingError

__all__ = [
    "POINTWISE", "ALONG_AXIS", "STACKED", "reshape_rule", "transpose_rule", "broadcast_to_rule",
    "flip_rule", "roll_rule", "triangle_rule", "concatenate_rule", "pad_rule", "getitem_rule",
    "scatter_add_rule", "setitem_rule", "batchable_index", "with_batch_slice",
]


def _example_size(value):
    """Entries of one example of a batched value (explicit: a reshape to (0, -1) of an empty
    batch is ambiguous to NumPy)."""
    return int(np.prod(shape_of(value)[1:], dtype=np.int64))


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
        # (Every jacfwd and hessian step comes through here: written for speed.)
        ranks = []
        for value, is_batched in zip(values, batched):
            shape = value.shape if type(value) is np.ndarray else shape_of(value)
            ranks.append(len(shape) - is_batched)
        rank = max(ranks)
        for index, is_batched in enumerate(batched):
            if is_batched and ranks[index] < rank:
                values = [pad_rank(v, rank) if b else v for v, b in zip(values, batched)]
                break
        return bind(primitive, *values, **params)

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
            flat = bind(REGISTRY["reshape"], x, shape=(size, _example_size(x)))
            out = bind(primitive, flat, **{**params, "axis": 1})
            if params.get("keepdims"):  # the example's rank, every axis of size 1
                out = bind(REGISTRY["reshape"], out, shape=(size,) + (1,) * rank)
            return out
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
        flat = bind(REGISTRY["reshape"], x, shape=(size, _example_size(x)))
        rolled = bind(REGISTRY["roll"], flat, shift=shift, axis=1)
        return bind(REGISTRY["reshape"], rolled, shape=shape_of(x))
    return bind(REGISTRY["roll"], x, shift=shift, axis=shift_axis(axis, _example_rank(x, True)))


def triangle_rule(primitive_name):
    def rule(values, batched, size, k):
        (x,) = values
        shape = shape_of(x)
        if len(shape) == 2:  # np.triu of a vector: the triangle of the matrix of its copies
            x = bind(REGISTRY["broadcast_to"], pad_rank(x, 2), shape=(size,) + shape[1:] * 2)
        elif len(shape) < 2:
            return NotImplemented  # NumPy refuses a 0-d example: let it say so
        return bind(REGISTRY[primitive_name], x, k=k)  # the last two axes only

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


def _advanced_grid(index, size, example_shape, x_batched):
    """`index` as an index of the stacked arrays made of integer arrays only, which NumPy's
    advanced indexing broadcasts together: for every example it picks what `index` picks from
    that example, with the example number in front. Serves an index with arrays batched by
    `cr.vmap` (`BatchedIndex`, one per example) and one whose advanced indices are not adjacent
    (where a full slice in front would mix the batch axis in). Each slice becomes its range, a
    constant boolean mask its nonzero() arrays, and each part is shaped to sit at its own axes
    of the result, which follow NumPy's rule: the advanced indices' axes where the first of them
    is if they are adjacent, else in front; `None` leaves a size-1 axis that no part spans.
    Returns (index, the rank of one example's result), or None for an index it does not read
    (those calls go row by row)."""
    parts = list(index) if isinstance(index, tuple) else [index]
    expanded = []
    for part in parts:
        if type(part) is BatchedIndex:
            if dtype_of(part.value).kind == "b":
                raise BatchingError(
                    "a boolean mask with one value per example, used as an index under "
                    "cr.vmap: each example would select a different number of entries, so the "
                    "results do not stack. Use cnp.where(mask, x, 0) (or a sum weighted by the "
                    "mask) instead."
                )
            expanded.append(part)
        elif isinstance(part, slice) or part is None or part is Ellipsis:
            expanded.append(part)
        elif type(part) in TRACED_TYPES:
            # An index batched at an outer vmap: the same for every example of this level.
            if dtype_of(part).kind not in "iu":
                return None  # (a mask's nonzero() depends on its values)
            expanded.append(part)
        else:
            array = np.asarray(part)
            if array.dtype.kind == "b":
                if array.ndim == 0:
                    return None
                expanded.extend(array.nonzero())  # what NumPy does with a mask
            elif array.dtype.kind in "iu":
                expanded.append(array)
            else:
                return None
    # NumPy reads adjacency before expanding `...`: an Ellipsis between advanced indices
    # separates them even where it stands for no axis at all.
    written = [i for i, p in enumerate(expanded) if not (isinstance(p, slice) or p is None
                                                         or p is Ellipsis)]
    adjacent = not written or written[-1] - written[0] == len(written) - 1
    consumed = sum(1 for p in expanded if p is not None and p is not Ellipsis)
    rest = len(example_shape) - consumed
    if rest < 0 or sum(p is Ellipsis for p in expanded) > 1:
        return None
    at = next((i for i, p in enumerate(expanded) if p is Ellipsis), None)
    if at is None:
        expanded += [slice(None)] * rest
    else:
        expanded[at:at + 1] = [slice(None)] * rest

    def example_shape_of(part):
        if type(part) is BatchedIndex:
            return tuple(shape_of(part.value)[1:])
        return tuple(shape_of(part))

    advanced = [i for i, p in enumerate(expanded) if not (isinstance(p, slice) or p is None)]
    block = np.broadcast_shapes(*(example_shape_of(expanded[i]) for i in advanced))
    # Where each slice or None lands in one example's result, and where the advanced block does.
    position, placed, start = 0, {}, 0
    if not adjacent:
        position = len(block)
    for i, part in enumerate(expanded):
        if adjacent and i == advanced[0]:
            start, position = position, position + len(block)
        if isinstance(part, slice) or part is None:
            placed[i] = position
            position += 1
    rank = position
    grid = []
    if x_batched:
        grid.append(np.arange(size).reshape((size,) + (1,) * rank))
    dim = 0
    for i, part in enumerate(expanded):
        if part is None:
            continue
        if isinstance(part, slice):
            entries = np.arange(*part.indices(example_shape[dim]))
            shape = [1] * (rank + 1)
            shape[placed[i] + 1] = len(entries)
            grid.append(entries.reshape(shape))
        else:
            own = example_shape_of(part)
            around = (1,) * start + (1,) * (len(block) - len(own))
            after = (1,) * (rank - start - len(block))
            if type(part) is BatchedIndex:
                grid.append(bind(REGISTRY["reshape"], part.value,
                                 shape=(size,) + around + own + after))
            else:
                grid.append(bind(REGISTRY["reshape"], part, shape=(1,) + around + own + after))
        dim += 1
    return tuple(grid), rank


def _has_batched_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(type(p) is BatchedIndex for p in parts)


def _selected_rank(shape, index):
    """The rank of x[index] for an x of this shape and a constant index (a zero-strided view
    is indexed: nothing of x's size is allocated)."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(
        (isinstance(p, (slice, int, np.integer)) and not isinstance(p, bool))
        or p is None or p is Ellipsis for p in parts
    ):
        # Basic indexing (jacrev's getitem cotangents): an int drops an axis, None adds one.
        dropped = sum(1 for p in parts if isinstance(p, (int, np.integer)))
        return len(shape) - dropped + sum(1 for p in parts if p is None)
    # Values batched at an outer vmap stand in as zeros of their shape: the rank is the same.
    stand_ins = tuple(
        np.zeros(shape_of(p), dtype_of(p)) if type(p) in TRACED_TYPES else p for p in parts
    )
    return np.ndim(np.broadcast_to(np.zeros((), dtype=bool), shape)[stand_ins])


def getitem_rule(values, batched, size, index):
    (x,) = values
    if _has_batched_index(index) or not batchable_index(index):
        found = _advanced_grid(index, size, shape_of(x)[batched[0]:], batched[0])
        if found is None:
            return NotImplemented
        return bind(REGISTRY["getitem"], x, index=found[0])
    return bind(REGISTRY["getitem"], x, index=with_batch_slice(index))


def scatter_add_rule(values, batched, size, index, shape):
    (updates,) = values
    if _has_batched_index(index) or not batchable_index(index):
        found = _advanced_grid(index, size, tuple(shape), True)
        if found is None:
            return NotImplemented
        stacked, rank = found
    else:
        stacked, rank = with_batch_slice(index), _selected_rank(shape, index)
    # Each example's updates broadcast against its selection: line their axes up from the right.
    updates = pad_rank(updates, rank) if batched[0] else broadcast_batch(updates, size)
    return bind(REGISTRY["scatter_add"], updates, index=stacked, shape=(size,) + tuple(shape))


def setitem_rule(values, batched, size, index):
    x, value = values
    example_shape = tuple(shape_of(x)[batched[0]:])
    if _has_batched_index(index) or not batchable_index(index):
        found = _advanced_grid(index, size, example_shape, True)
        if found is None:
            return NotImplemented
        stacked, rank = found
    else:
        stacked, rank = with_batch_slice(index), _selected_rank(example_shape, index)
    if not batched[0]:
        x = broadcast_batch(x, size)  # every example writes into its own copy
    if batched[1]:
        # Each example's value broadcasts against its x[index]: line its axes up from the right.
        value = pad_rank(value, rank)
    return bind(REGISTRY["setitem"], x, value, index=stacked)
