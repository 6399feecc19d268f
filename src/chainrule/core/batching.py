"""The batching level: what `cr.vmap` opens, and what `jacfwd` and `jacrev` are built on.

A value at a `BatchTrace` stands for `size` values of one shape, one per example: it stores
them stacked along a new leading axis (the batch axis) and reports one example's shape
(`core.dtypes.shape_of` leaves the axis out). `BatchTrace.process` applies a primitive to every
example at once through the primitive's batching rule, declared in its row
(`batch=` in `defprimitive`): `rule(values, batched, size, **params)` gets the operands one level
down, a flag per operand saying whether it carries the batch axis (an unbatched operand is the
same for every example), and returns the result with the batch axis in front. Rules bind
chainrule's primitives, so the levels below (a `grad` around the `vmap`, say) keep recording.
A primitive without a rule, or a rule that declines a call (returns `NotImplemented`), goes
through `row_by_row`: the primitive once per example, results stacked. It is always right,
only slower; the registry sweep counts who falls back.

Unlike the differentiation levels, the batching level carries every dtype: comparisons, argmax
and integer arithmetic on batched values give batched results (masks and indices differ per
example). What needs one number where each example has its own (Python control flow on a
batched value, its plain value as a NumPy array) raises `BatchingError`.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind
from chainrule.core.tensor import Tensor
from chainrule.core.trace import Trace, batch_traces
from chainrule.errors import BatchingError, ShapeError

__all__ = [
    "BatchTrace", "BatchedIndex", "row_by_row", "map_examples", "move_to_front",
    "broadcast_batch", "pad_rank", "shift_axis", "is_differentiated", "batch_levels", "FALLBACKS",
]

# How often each primitive went row by row (name -> calls): the sweep reports it, and a rule
# that should exist shows up here first.
FALLBACKS: dict = {}


class BatchTrace(Trace):
    """A `cr.vmap` level: every value it owns has a leading batch axis of length `size`."""

    __slots__ = ("size", "name")

    batched = True
    intercepts = True

    def __init__(self, level, size, name="vmap"):
        super().__init__(level)
        self.size = size
        self.name = name  # the transform that opened the level, for messages

    def box(self, value):
        """`value`, whose leading axis holds the examples, as a batched value of this level."""
        return Tensor(value, self)

    def process(self, primitive, args, params):
        values = []
        batched = []
        for arg in args:
            if type(arg) in TRACED_TYPES and arg._trace is self:
                values.append(arg._value)
                batched.append(True)
            else:
                values.append(arg)
                batched.append(False)
        if primitive.indexed:
            params = {**params, "index": self._own_index(params["index"])}
        rule = primitive.batch
        out = NotImplemented
        if rule is not None:
            out = rule(values, batched, self.size, **params)
        if out is NotImplemented:
            out = row_by_row(primitive, values, batched, self.size, params)
        return Tensor(out, self)

    def _own_index(self, index):
        """The index with this level's values marked `BatchedIndex` (one level down)."""
        parts = index if type(index) is tuple else (index,)
        if not any(type(p) in TRACED_TYPES and p._trace is self for p in parts):
            return index
        marked = tuple(
            BatchedIndex(p._value) if type(p) in TRACED_TYPES and p._trace is self else p
            for p in parts
        )
        return marked if type(index) is tuple else marked[0]

    def read(self, value):
        """`raw_value` of a batched value: refused (each example has its own)."""
        raise self.refuse(value, "reading the plain value")

    def refuse(self, value, what):
        """The error for an operation that needs one value where each example has its own."""
        return BatchingError(
            f"{what} of a value batched by cr.{self.name} (one example's shape {value.shape}, "
            f"dtype {value.dtype}, {self.size} examples): each example has its own value, and "
            "this needs a single one. For a branch use cnp.where(condition, a, b) (both sides "
            "are computed, each example takes its own); for a NumPy function use its "
            "chainrule.numpy spelling; or pass the value unbatched (in_axes=None) or compute "
            "it outside the vmapped function."
        )


class BatchedIndex:
    """Inside a batching rule's `index`: an index array with one entry per example (its
    value one level down, batch axis in front)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def row_by_row(primitive, values, batched, size, params):
    """The always-right batching rule: the primitive once per example, results stacked along a
    new leading axis (bound, so lower levels record it)."""
    FALLBACKS[primitive.name] = FALLBACKS.get(primitive.name, 0) + 1
    index = params.get("index") if primitive.indexed else None

    def one_example(row, *operands):
        row_params = params if index is None else {**params, "index": _index_row(index, row)}
        return bind(primitive, *operands, **row_params)

    return map_examples(one_example, values, batched, size)


def map_examples(call, values, batched, size):
    """`call(row, *one_example's_values)` once per example (a batched value contributes its
    row, an unbatched one itself), the results (an array, or a tuple of them) stacked along a
    new leading axis with bound primitives, so lower levels record it. The one way chainrule
    runs something example by example."""
    getitem = REGISTRY["getitem"]
    results = []
    for row in range(max(size, 1)):
        if size:
            example = [bind(getitem, v, index=row) if b else v for v, b in zip(values, batched)]
        else:  # no examples: one of zeros tells the results' shapes, then none is kept
            example = [_zeros_example(v) if b else v for v, b in zip(values, batched)]
        results.append(call(row, *example))
    first = results[0]
    if isinstance(first, tuple):
        stacked = [_stack([r[i] for r in results], size) for i in range(len(first))]
        return type(first)(*stacked) if hasattr(type(first), "_fields") else tuple(stacked)
    return _stack(results, size)


def _zeros_example(value):
    return np.zeros(shape_of(value)[1:], dtype_of(value))


def _stack(rows, size):
    reshape = REGISTRY["reshape"]
    lifted = [bind(reshape, row, shape=(1,) + tuple(shape_of(row))) for row in rows]
    if not size:
        return bind(REGISTRY["getitem"], lifted[0], index=slice(0, 0))
    if len(lifted) == 1:
        return lifted[0]
    return bind(REGISTRY["concatenate"], *lifted, axis=0, sizes=(1,) * size)


def _index_row(index, row):
    """One example's index: each `BatchedIndex` replaced by that example's entries."""
    getitem = REGISTRY["getitem"]
    parts = index if type(index) is tuple else (index,)
    picked = tuple(
        bind(getitem, p.value, index=row) if type(p) is BatchedIndex else p for p in parts
    )
    return picked if type(index) is tuple else picked[0]


# ----- helpers for batching rules -----------------------------------------------------------------
def batch_levels(value) -> int:
    """How many vmap levels `value` carries (leading batch axes of its stored array)."""
    return len(batch_traces(value))


def pad_rank(value, rank):
    """A batched value (B, *s) reshaped to (B, 1, ..., 1, *s) with `rank` axes after B, so that
    it broadcasts against values of that rank as one example's value would."""
    shape = shape_of(value)
    missing = rank - (len(shape) - 1)
    if missing <= 0:
        return value
    return bind(REGISTRY["reshape"], value, shape=shape[:1] + (1,) * missing + shape[1:])


def broadcast_batch(value, size):
    """An unbatched operand given the batch axis (a read-only broadcast view, no copy)."""
    shape = tuple(shape_of(value))
    return bind(REGISTRY["broadcast_to"], value, shape=(size,) + shape)


def move_to_front(value, axis):
    """`value` with its axis `axis` moved to the front (where the batching level keeps it)."""
    shape = shape_of(value)
    axis = axis % len(shape)
    if axis == 0:
        return value
    order = (axis,) + tuple(i for i in range(len(shape)) if i != axis)
    return bind(REGISTRY["transpose"], value, axes=order)


def shift_axis(axis, rank):
    """An axis param of one example (rank `rank`) for values with the batch axis in front:
    normalised, and one to the right; tuples element by element. An axis out of range raises
    as it would without vmap (wrapping it would pick another axis silently)."""
    if isinstance(axis, tuple):
        return tuple(shift_axis(a, rank) for a in axis)
    axis = int(axis)
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise ShapeError(
            f"axis {axis} is out of range for an array with {rank} dimensions (one example's, "
            "under vmap); use an axis from the example's shape"
        )
    return axis % max(rank, 1) + 1


def is_differentiated(value) -> bool:
    """Whether some differentiation level (not only vmap levels) traces `value`: a transform's
    level, or the tape when the value requires grad and grad mode records."""
    while type(value) in TRACED_TYPES:
        trace = value._trace
        if not trace.batched and (
            not trace.concrete or (value.requires_grad and trace.recording())
        ):
            return True
        value = value._value
    return False
