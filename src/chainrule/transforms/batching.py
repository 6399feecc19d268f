"""Forward mode with a batch of tangents: what makes `jacfwd` one pass instead of one per column.

A `BatchedForwardTrace` carries, for every value, a tangent with one extra leading axis of size
B (one row per basis direction). Most rules need no change: elementwise rules multiply the
tangent by a local derivative, and NumPy broadcasting does the rest once the tangent's
non-batch axes are padded to the output's rank. Shape primitives get their static params
shifted by one axis (`sum(axis=(0,))` becomes `sum(axis=(1,))`), and matmul moves its vector
operands into matrix form. Any other primitive falls back to its ordinary rule row by row, so a
new primitive is always right, just slower under `jacfwd` until it gets a batch rule here.
"""

import numpy as np

from chainrule.core.backward import fit
from chainrule.core.dtypes import aval, dtype_of, shape_of
from chainrule.core.forward import ForwardTrace
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, ZERO, bind
from chainrule.core.tensor import Tensor

__all__ = ["BatchedForwardTrace", "BATCH_RULES", "FALLBACK", "batched_params", "prefer_heap"]

# Values no enclosing level traces: batch rules may work on them with NumPy directly.
_PLAIN = {np.ndarray, np.float64, np.float32, np.float16, float, int}


class _HeapReuse:
    """Batch-sized temporaries (a 400x400 Hessian's are 0.6-1.3 MB each) are above glibc's
    initial mmap threshold (128 KiB): each one is mapped, faulted in page by page and unmapped
    again, and that, not the arithmetic, was most of a Jacobian's time (4x on the n = 400
    Rosenbrock Hessian). glibc raises the threshold by itself to the size of any mmapped block
    that is freed (and keeps twice that much free memory at the top of its heap); freeing one
    untouched 16 MiB array once brings that state about at the cost of one map/unmap, instead of
    waiting for the program to happen to free a large array. Elsewhere this does nothing."""

    done = False

    @classmethod
    def prefer_heap(cls):
        if not cls.done:
            cls.done = True
            np.empty(_HEAP_BLOCK_BYTES // 8)  # never touched: no page is faulted in


_HEAP_BLOCK_BYTES = 16 * 1024 * 1024  # below glibc's ceiling for the threshold (32 MiB)
prefer_heap = _HeapReuse.prefer_heap


class BatchedForwardTrace(ForwardTrace):
    """A forward level whose tangents have a leading batch axis of size `batch_size`."""

    __slots__ = ("batch_size",)

    def __init__(self, level, batch_size):
        super().__init__(level)
        self.batch_size = batch_size

    def process(self, primitive, args, params):
        primals, tangents = self.split(args)
        out = bind(primitive, *primals, **params)
        if primitive.nondiff:
            return out
        batch = self.batch_size
        tangent = _batched_tangent(primitive, primals, tangents, out, params, batch)
        if tangent is None:  # a symbolic zero: the output is a constant here
            return out
        return Tensor(out, self, tangent=fit(tangent, aval(out), primitive.name, batch=batch))


# What a batch rule returns when it cannot batch this particular call (the rules of
# batched_backward.py answer the same way): the ordinary rule then runs row by row.
FALLBACK = object()


def _batched_tangent(primitive, primals, tangents, out, params, batch_size):
    """The batched output tangent, or None (a symbolic zero)."""
    if not primitive.linear and all(
        t is None or primitive.jvps[i] is ZERO for i, t in enumerate(tangents)
    ):
        return None
    rule = BATCH_RULES.get(primitive.name)
    if rule is None and primitive.pointwise:  # the row says so (elementwise, where, clip)
        rule = _pointwise
    if rule is not None:
        tangent = rule(primitive, primals, tangents, out, params)
        if tangent is not FALLBACK:
            return tangent
    return _row_by_row(primitive, primals, tangents, out, params, batch_size)


def pad_rank(tangent, rank):
    """A batched tangent (B, *s) reshaped to (B, 1, ..., 1, *s) with `rank` non-batch axes,
    so that it broadcasts against values of that rank the way the unbatched tangent would."""
    shape = shape_of(tangent)
    missing = rank - (len(shape) - 1)
    if missing <= 0:
        return tangent
    return bind(REGISTRY["reshape"], tangent, shape=shape[:1] + (1,) * missing + shape[1:])


def _row_by_row(primitive, primals, tangents, out, params, batch_size):
    """The fallback: the ordinary rule once per batch row, rows stacked back together."""
    out_shape = shape_of(out)
    rows = []
    for row in range(batch_size):
        row_tangents = [
            None if t is None else bind(REGISTRY["getitem"], t, index=row) for t in tangents
        ]
        if primitive.linear:
            tangent = ForwardTrace._linear_tangent(primitive, primals, row_tangents, params)
        else:
            tangent = ForwardTrace._tangent(primitive, primals, row_tangents, out, params)
        if tangent is None:  # stacked with the other rows, a zero must be an array
            tangent = np.zeros(out_shape, dtype_of(out))
        tangent = fit(tangent, aval(out), primitive.name)
        rows.append(bind(REGISTRY["reshape"], tangent, shape=(1,) + out_shape))
    return bind(REGISTRY["concatenate"], *rows, axis=0, sizes=(1,) * batch_size)


# ----- batch rules: (primitive, primals, tangents, out, params) -> batched tangent ---------------
# None is a symbolic zero; FALLBACK asks for the ordinary rule row by row.
def _pointwise(primitive, primals, tangents, out, params):
    rank = len(shape_of(out))
    padded = [None if t is None else pad_rank(t, rank) for t in tangents]
    if primitive.linear:
        return ForwardTrace._linear_tangent(primitive, primals, padded, params)
    return ForwardTrace._tangent(primitive, primals, padded, out, params)


def _subtract(primitive, primals, tangents, out, params):
    # One subtraction instead of a negation and an addition (each a batch-sized array).
    rank = len(shape_of(out))
    first, second = (None if t is None else pad_rank(t, rank) for t in tangents)
    if second is None:
        return first
    if first is None:
        return bind(REGISTRY["negative"], second)
    return bind(primitive, first, second)


def _multiply(primitive, primals, tangents, out, params):
    # d(x y) = dx y + x dy. On plain arrays (no enclosing level to record for) the second
    # product is added into the first, a fresh array: one batch-sized allocation fewer.
    rank = len(shape_of(out))
    first, second = (None if t is None else pad_rank(t, rank) for t in tangents)
    x, y = primals
    if first is None or second is None or not all(
        type(v) in _PLAIN for v in (first, second, x, y)
    ):
        return _pointwise(primitive, primals, tangents, out, params)
    total = np.multiply(first, y)
    product = np.multiply(x, second)
    if total.shape != np.broadcast_shapes(total.shape, product.shape) or (
        total.dtype != np.result_type(total, product)
    ):
        return total + product
    total += product
    return total


def _where(primitive, primals, tangents, out, params):
    # A condition that picks the same side everywhere (select(y == 0, ...) with a scalar y, as
    # the rules of power and divide do) passes that side's tangent through: no batch-sized copy.
    condition = np.asarray(params["condition"])
    if condition.size == 0 or (condition.any() and not condition.all()):
        return _pointwise(primitive, primals, tangents, out, params)
    tangent = tangents[0 if condition.flat[0] else 1]
    return None if tangent is None else pad_rank(tangent, len(shape_of(out)))


def _power(primitive, primals, tangents, out, params):
    # x ** 1 (what the rule of x ** 2 differentiates under forward-over-reverse): the tangent
    # itself, rather than a batch-sized product by ones. Only for a constant exponent: one
    # traced at an outer level still needs the full expression for its own derivative.
    exponent, base_tangent = primals[1], tangents[0]
    if (
        tangents[1] is None and base_tangent is not None and type(exponent) not in TRACED_TYPES
        and np.ndim(exponent) == 0 and exponent == 1
    ):
        return pad_rank(base_tangent, len(shape_of(out)))
    return _pointwise(primitive, primals, tangents, out, params)


def _shape_rule(primitive, primals, tangents, out, params):
    # A linear shape primitive (reshape, transpose, sum, cumsum, flip, roll, getitem,
    # scatter_add) applied to the batched tangent, its params moved behind the batch axis.
    tangent = tangents[0]
    batched = batched_params(params, len(shape_of(primals[0])), shape_of(tangent)[0])
    return batched if batched is FALLBACK else bind(primitive, tangent, **batched)


def _broadcast_to(primitive, primals, tangents, out, params):
    tangent = pad_rank(tangents[0], len(params["shape"]))
    return _shape_rule(primitive, primals, [tangent], out, params)


def _triangle(primitive, primals, tangents, out, params):
    if len(shape_of(primals[0])) < 2:
        return FALLBACK  # np.triu of a vector builds a matrix: no batched equivalent
    return bind(primitive, tangents[0], **params)  # triu/tril act on the last two axes only


def _concatenate(primitive, primals, tangents, out, params):
    batch = next(shape_of(t)[0] for t in tangents if t is not None)
    filled = [
        t if t is not None else np.zeros((batch,) + shape_of(p), dtype_of(p))
        for p, t in zip(primals, tangents, strict=True)
    ]
    return bind(primitive, *filled, **batched_params(params, len(shape_of(primals[0])), batch))


def _pad(primitive, primals, tangents, out, params):
    tangent = tangents[0]
    batched = batched_params(params, len(shape_of(primals[0])), shape_of(tangent)[0])
    return bind(primitive, tangent, **{**batched, "constant_values": 0.0})  # constant: no tangent


# ----- static params behind a batch axis (shared with batched_backward.py) ---------------------
def batched_params(params, rank, batch):
    """A shape primitive's static params for values with a leading batch axis of size `batch`
    (`rank`: their rank without it), so that it does to each row what it did to the value:
    axes move one to the right, an index and a pad width leave the batch axis whole, a target
    shape starts with it. FALLBACK where no params do that (axis=None works on the flattened
    array; NumPy moves non-adjacent advanced indices to the front)."""
    batched = {}
    for name, value in params.items():
        move = _BATCHED_PARAMS.get(name)
        if move is not None:
            value = move(value, rank, batch)
            if value is FALLBACK:
                return FALLBACK
        batched[name] = value
    return batched


def _normalised(axis, rank):
    return int(axis) % max(rank, 1)


def _batched_axis(axis, rank, batch):
    if axis is None:
        return FALLBACK  # the flattened array: the rows would mix
    if isinstance(axis, tuple):
        return tuple(_normalised(a, rank) + 1 for a in axis)
    return _normalised(axis, rank) + 1


def _batched_permutation(axes, rank, batch):
    if axes is None:
        axes = tuple(reversed(range(rank)))
    return (0,) + tuple(_normalised(a, rank) + 1 for a in axes)


def _batched_index(index, rank, batch):
    return prepend_batch(index) if batchable_index(index) else FALLBACK


def batchable_index(index) -> bool:
    """True when prepending a full slice selects the same entries for every batch row.
    NumPy moves advanced-index axes to the front when they are not adjacent, so those go
    row by row."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(p, (slice, int, np.integer)) or p is None or p is Ellipsis for p in parts):
        return True
    # With an array among the indices, integers count as advanced indices too.
    advanced = [
        i for i, p in enumerate(parts) if not (isinstance(p, slice) or p is None or p is Ellipsis)
    ]
    return advanced[-1] - advanced[0] == len(advanced) - 1


def prepend_batch(index):
    return (slice(None),) + (index if isinstance(index, tuple) else (index,))


_BATCHED_PARAMS = {
    "axis": _batched_axis,
    "axes": _batched_permutation,
    "index": _batched_index,
    "shape": lambda shape, rank, batch: (batch,) + tuple(shape),
    "pad_width": lambda pad_width, rank, batch: ((0, 0),) + tuple(tuple(p) for p in pad_width),
}


# ----- matmul ------------------------------------------------------------------------------------
def _matmul(primitive, primals, tangents, out, params):
    x, y = primals
    x_rank, y_rank = len(shape_of(x)), len(shape_of(y))
    out_shape = shape_of(out)
    total = None
    if tangents[0] is not None:
        total = _matmul_first(tangents[0], y, x_rank, y_rank, out_shape)
    if tangents[1] is not None:
        second = _matmul_second(x, tangents[1], x_rank, y_rank, out_shape)
        total = second if total is None else bind(REGISTRY["add"], total, second)
    return total


def _matmul_first(tangent, y, x_rank, y_rank, out_shape):
    # d(x @ y) along dx = dx @ y, for every batch row of dx.
    matmul, reshape = REGISTRY["matmul"], REGISTRY["reshape"]
    shape = shape_of(tangent)
    if x_rank == 1:
        if y_rank == 2:
            return bind(matmul, tangent, y)  # (B, k) @ (k, m): one matrix product for all rows
        # A row vector (B, k) -> (B, 1.., 1, k): one matrix product per batch row.
        row = bind(reshape, tangent, shape=shape[:1] + (1,) * max(y_rank - 2, 0) + (1, shape[-1]))
        return bind(reshape, bind(matmul, row, y), shape=shape[:1] + out_shape)
    if y_rank == 1:
        return bind(matmul, tangent, y)
    return bind(matmul, pad_rank(tangent, len(out_shape)), y)


def _matmul_second(x, tangent, x_rank, y_rank, out_shape):
    # d(x @ y) along dy = x @ dy.
    matmul, reshape = REGISTRY["matmul"], REGISTRY["reshape"]
    shape = shape_of(tangent)
    if y_rank == 1:
        if x_rank == 1:
            return bind(matmul, tangent, x)  # a dot product is symmetric
        if x_rank == 2:
            # x @ t_b for every row b is (T x^T)_b: one matrix product instead of B
            return bind(matmul, tangent, bind(REGISTRY["transpose"], x, axes=(1, 0)))
        column = bind(reshape, tangent, shape=shape[:1] + (1,) * (x_rank - 2) + (shape[-1], 1))
        return bind(reshape, bind(matmul, x, column), shape=shape[:1] + out_shape)
    if x_rank == 1:
        return bind(matmul, x, tangent)
    return bind(matmul, x, pad_rank(tangent, len(out_shape)))


BATCH_RULES = {
    "multiply": _multiply,
    "subtract": _subtract,
    "where": _where,
    "power": _power,
    "reshape": _shape_rule,
    "transpose": _shape_rule,
    "broadcast_to": _broadcast_to,
    "sum": _shape_rule,
    "cumsum": _shape_rule,
    "flip": _shape_rule,
    "roll": _shape_rule,
    "triu": _triangle,
    "tril": _triangle,
    "getitem": _shape_rule,
    "scatter_add": _shape_rule,
    "concatenate": _concatenate,
    "pad": _pad,
    "matmul": _matmul,
}
