"""Reverse mode with a batch of cotangents: what makes `jacrev` one backward pass per chunk of
output entries instead of one per entry.

Every cotangent carries one extra leading axis of size B (one row per basis cotangent). The
VJP rules of elementwise primitives need no change: they multiply the cotangent by a local
derivative, and a cotangent has its output's full rank, so broadcasting lines the batch axis
up by itself. Shape, reduction, indexing and matmul rules get batch-aware versions here. Any
other primitive (custom rules included) runs its ordinary rule once per row, so a new primitive
is always right, just slower under `jacrev` until it gets a rule here.
"""

import numpy as np

from chainrule.core.backward import backward_pass, fit, live_residuals
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, ZERO, bind
from chainrule.core.tensor import raw_value
from chainrule.transforms.batching import FALLBACK, batched_params

__all__ = ["batched_backward", "VJP_BATCH_RULES"]


def batched_backward(roots, batch_size):
    """Reverse mode from `roots`, pairs (node or leaf tensor, cotangent of shape (B, *shape)).
    Returns {id(leaf): (leaf, cotangent of shape (B, *leaf shape))}; the graph is kept."""

    def node_vjp(node, cotangent, record_on):
        return _input_cotangents(node, cotangent, batch_size)

    return backward_pass(roots, retain_graph=True, node_vjp=node_vjp)


def _input_cotangents(node, cotangent, batch_size):
    """The node's VJP rules applied to a batch of cotangents: (parent, batched cotangent)."""
    primitive = node.primitive
    residuals = live_residuals(node)
    batch_rule = _batch_rule(primitive)
    results, unbatched = [], []
    for index, parent in enumerate(node.parents):
        if parent is None:
            continue
        rule = primitive.vjps[index]
        if rule is ZERO:
            results.append((parent, None))  # a symbolic zero, as in the unbatched pass
            continue
        parent_cotangent = (
            FALLBACK if batch_rule is None
            else batch_rule(rule, cotangent, residuals, node.params, index)
        )
        if parent_cotangent is FALLBACK:
            unbatched.append(index)
        elif parent_cotangent is not None:
            results.append((parent, fit(
                parent_cotangent, node.input_avals[index], primitive.name, cotangent=True,
                batch=batch_size, index=index,
            )))
    if unbatched:
        results.extend(_row_by_row(node, cotangent, residuals, unbatched, batch_size))
    return results


def _batch_rule(primitive):
    rule = VJP_BATCH_RULES.get(primitive.name)
    if REGISTRY.get(primitive.name) is not primitive:
        return None  # a custom rule's node (custom_vjp names its nodes after user functions)
    if rule is None and primitive.pointwise:
        return _pointwise
    return rule


def _row_by_row(node, cotangent, residuals, indices, batch_size):
    """The fallback: the ordinary rules once per batch row, rows stacked back together.
    Rows go in the outer loop so that every input sees the same row object (a custom rule
    computes all its input cotangents once per cotangent object)."""
    rows = {index: [] for index in indices}
    vjps, params, avals = node.primitive.vjps, node.params, node.input_avals
    for row in range(batch_size):
        row_cotangent = bind(REGISTRY["getitem"], cotangent, index=row)
        for index in indices:
            shape, dtype = avals[index]
            value = vjps[index](row_cotangent, *residuals, **params)
            if value is None:
                value = np.zeros(shape, dtype)
            rows[index].append(
                fit(value, avals[index], node.primitive.name, cotangent=True, index=index)
            )
    return [(node.parents[index], _stack(rows[index])) for index in indices]


def _stack(rows):
    if not any(type(row) in TRACED_TYPES for row in rows):
        return np.stack([np.asarray(row) for row in rows])
    shape = np.shape(raw_value(rows[0]))
    reshape = REGISTRY["reshape"]
    lifted = [bind(reshape, row, shape=(1,) + shape) for row in rows]
    return bind(REGISTRY["concatenate"], *lifted, axis=0, sizes=(1,) * len(rows))


# ----- batch rules: (rule, cotangent (B, *out), residuals, params, index) -> cotangent ----------
# A result may keep broadcast axes (the engine-like `_fit` sums them); FALLBACK asks for rows.
def _pointwise(rule, cotangent, residuals, params, index):
    return rule(cotangent, *residuals, **params)


def _rank(cotangent):
    """Rank of the unbatched value a batched cotangent belongs to."""
    return len(np.shape(raw_value(cotangent))) - 1


def _batch(cotangent):
    return np.shape(raw_value(cotangent))[:1]


def _reshape(rule, cotangent, residuals, params, index):
    (in_shape,) = residuals
    return bind(REGISTRY["reshape"], cotangent, shape=_batch(cotangent) + tuple(in_shape))


def _identity(rule, cotangent, residuals, params, index):
    return cotangent  # broadcast_to: `_fit` sums the broadcast axes away


def _kept(cotangent, in_shape, axis, keepdims):
    """A reduction's batched cotangent with the reduced axes back as size 1."""
    if keepdims:
        return cotangent
    kept = tuple(1 if i in axis else size for i, size in enumerate(in_shape))
    return bind(REGISTRY["reshape"], cotangent, shape=_batch(cotangent) + kept)


def _sum(rule, cotangent, residuals, params, index):
    (in_shape,) = residuals
    kept = _kept(cotangent, tuple(in_shape), params["axis"], params["keepdims"])
    return bind(REGISTRY["broadcast_to"], kept, shape=_batch(cotangent) + tuple(in_shape))


def _weighted_reduction(rule, cotangent, residuals, params, index):
    # amax, amin, prod: the rule broadcasts the (kept-dims) cotangent against a weight computed
    # from x and out. A keepdims=False reduction is the keepdims=True one, reshaped: so hand the
    # rule the kept-dims cotangent and output, and keepdims=True.
    x, out = residuals
    axis, keepdims = params["axis"], params["keepdims"]
    in_shape = np.shape(raw_value(x))
    kept = _kept(cotangent, in_shape, axis, keepdims)
    if not keepdims:
        kept_shape = tuple(1 if i in axis else size for i, size in enumerate(in_shape))
        out = bind(REGISTRY["reshape"], out, shape=kept_shape)
    return rule(kept, x, out, axis=axis, keepdims=True)


def _shifted_axis(rule, cotangent, residuals, params, index):
    # cumsum, cumprod: the same rule along the axis one further right, the residuals given the
    # batch axis as size 1 so that their axes line up with the cotangent's.
    lifted = [
        bind(REGISTRY["reshape"], r, shape=(1,) + np.shape(raw_value(r))) for r in residuals
    ]
    return _shape_rule(rule, cotangent, lifted, params, index)


def _shape_rule(rule, cotangent, residuals, params, index):
    # transpose, flip, roll, pad, scatter_add, setitem, concatenate: the rule itself, its params
    # moved behind the batch axis (transpose's rule inverts the batched permutation).
    batched = batched_params(params, _rank(cotangent), _batch(cotangent)[0])
    return batched if batched is FALLBACK else rule(cotangent, *residuals, **batched)


def _triangle(rule, cotangent, residuals, params, index):
    if _rank(cotangent) < 2:
        return FALLBACK
    return rule(cotangent, *residuals, **params)  # triu/tril act on the last two axes only


def _getitem(rule, cotangent, residuals, params, index):
    (in_shape,) = residuals
    batch = _batch(cotangent)
    batched = batched_params(params, len(in_shape), batch[0])
    return batched if batched is FALLBACK else rule(cotangent, batch + tuple(in_shape), **batched)


def _matmul(rule, cotangent, residuals, params, index):
    # The ordinary rules broadcast correctly against a leading batch axis except where a 1-d
    # operand makes them multiply elementwise (x . y); two cases also become one matrix product
    # for the whole batch instead of one matrix-vector product per row.
    x, y = residuals
    x_rank, y_rank = np.ndim(raw_value(x)), np.ndim(raw_value(y))
    matmul, transpose = REGISTRY["matmul"], REGISTRY["transpose"]
    if index == 0 and x_rank == 1 and y_rank == 2:
        return bind(matmul, cotangent, bind(transpose, y, axes=(1, 0)))  # rows of y g
    if index == 1 and y_rank == 1 and x_rank == 2:
        return bind(matmul, cotangent, x)  # rows of x^T g
    if index == 1 and y_rank == 1 and x_rank == 1:
        column = bind(REGISTRY["reshape"], cotangent, shape=_batch(cotangent) + (1,))
        return bind(REGISTRY["multiply"], column, x)
    return rule(cotangent, x, y)


VJP_BATCH_RULES = {
    "reshape": _reshape,
    "transpose": _shape_rule,
    "broadcast_to": _identity,
    "sum": _sum,
    "amax": _weighted_reduction,
    "amin": _weighted_reduction,
    "prod": _weighted_reduction,
    "cumsum": _shifted_axis,
    "cumprod": _shifted_axis,
    "flip": _shape_rule,
    "roll": _shape_rule,
    "triu": _triangle,
    "tril": _triangle,
    "pad": _shape_rule,
    "getitem": _getitem,
    "scatter_add": _shape_rule,
    "setitem": _shape_rule,
    "concatenate": _shape_rule,
    "matmul": _matmul,
}
