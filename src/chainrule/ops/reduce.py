"""Reductions along axes: sum, prod, max/min, cumulative sums and products.

`axis` arrives normalised by chainrule.numpy: a tuple of non-negative ints (all axes for None).
The VJP of a reduction re-inserts the reduced axes (size 1) and broadcasts back.
"""

import numpy as np

from chainrule.core.primitive import LINEAR, NONDIFF, OUT, InputShape, defprimitive
from chainrule.ops._rules import prim, raw

X = 0


def kept_shape(shape, axis):
    """`shape` with the reduced axes kept as size 1."""
    return tuple(1 if i in axis else size for i, size in enumerate(shape))


def _expand(g, shape, axis, keepdims):
    """Cotangent of a reduction, reshaped so it broadcasts against the input."""
    return g if keepdims else prim("reshape")(g, shape=kept_shape(shape, axis))


def _sum_vjp(g, shape, axis, keepdims):
    return prim("broadcast_to")(_expand(g, shape, axis, keepdims), shape=shape)


sum = defprimitive(  # noqa: A001
    "sum",
    # add.reduce is np.sum without its Python wrapper (same results, dtypes included).
    lambda x, axis, keepdims: np.add.reduce(x, axis=axis, keepdims=keepdims),
    saves=(InputShape(X),),
    vjp=(_sum_vjp,),
    jvp=LINEAR,
    family="reduce",
)


def _extremum_weight(x, out, axis, keepdims):
    """Where the max (min) is attained, split evenly among ties: a subgradient."""
    x, out = raw(x), raw(out)
    hit = x == (out if keepdims else np.expand_dims(out, axis))
    return hit / np.sum(hit, axis=axis, keepdims=True)


def weighted_reduction_rules(weight):
    """Rules of a reduction whose derivative is a weight per entry, d out = sum(weight * dx):
    VJP g * weight (g re-expanded), JVP sum(t * weight). Serves max/min, prod and logsumexp."""
    vjp = (lambda g, x, out, axis, keepdims:
           _expand(g, np.shape(raw(x)), axis, keepdims) * weight(x, out, axis, keepdims),)
    jvp = (lambda t, x, out, axis, keepdims:
           sum(t * weight(x, out, axis, keepdims), axis=axis, keepdims=keepdims),)
    return {"vjp": vjp, "jvp": jvp}


amax = defprimitive("amax", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
                    saves=(X, OUT), family="reduce", **weighted_reduction_rules(_extremum_weight))
amin = defprimitive("amin", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
                    saves=(X, OUT), family="reduce", **weighted_reduction_rules(_extremum_weight))


def _product_of_others(x, out, axis, keepdims):
    """d prod(x) / d x_i = product of the other entries of x_i's group.
    Without zeros that is out / x; with zeros, exclusive cumulative products from both ends."""
    if not np.any(raw(x) == 0):
        return (out if keepdims else prim("reshape")(out, shape=kept_shape(np.shape(raw(x)), axis))) / x
    shape = np.shape(raw(x))
    moved = prim("transpose")(x, axes=tuple(i for i in range(len(shape)) if i not in axis) + axis)
    moved_shape = np.shape(raw(moved))
    outer = moved_shape[: len(moved_shape) - len(axis)]
    flat = prim("reshape")(moved, shape=outer + (-1,))
    n = np.shape(raw(flat))[-1]
    ones = np.ones(outer + (1,), dtype=np.result_type(raw(x)))
    before = prim("cumprod")(prim("concatenate")(ones, flat[..., : n - 1], axis=len(outer), sizes=(1, n - 1)), axis=len(outer))
    after_reversed = prim("cumprod")(prim("concatenate")(ones, prim("flip")(flat[..., 1:], axis=(len(outer),)), axis=len(outer), sizes=(1, n - 1)), axis=len(outer))
    others = before * prim("flip")(after_reversed, axis=(len(outer),))
    others = prim("reshape")(others, shape=moved_shape)
    order = tuple(i for i in range(len(shape)) if i not in axis) + axis
    return prim("transpose")(others, axes=tuple(np.argsort(order)))


prod = defprimitive(
    "prod",
    lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    saves=(X, OUT),
    **weighted_reduction_rules(_product_of_others),
    family="reduce",
)


def _reverse_cumsum(g, axis):
    flip = prim("flip")
    return flip(cumsum(flip(g, axis=(axis,)), axis=axis), axis=(axis,))


cumsum = defprimitive(
    "cumsum",
    lambda x, axis: np.cumsum(x, axis=axis),
    vjp=(lambda g, axis: _reverse_cumsum(g, axis),),
    jvp=LINEAR,
    family="reduce",
)

# d out_j / d x_i = out_j / x_i for i <= j: exact where x has no zeros (documented limitation).
cumprod = defprimitive(
    "cumprod",
    lambda x, axis: np.cumprod(x, axis=axis),
    saves=(X, OUT),
    vjp=(lambda g, x, out, axis: _reverse_cumsum(g * out, axis) / x,),
    jvp=(lambda t, x, out, axis: cumsum(t / x, axis=axis) * out,),
    family="reduce",
)


# ----- logsumexp: fused for numerical stability (and a shorter graph) ----------------------------
def _logsumexp_impl(x, axis, keepdims):
    # log sum exp(x) = m + log sum exp(x - m) with m = max(x): exp never overflows.
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    total = np.log(np.add.reduce(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return total if keepdims else np.squeeze(total, axis=axis)


def _softmax_weights(x, out, axis, keepdims):
    # d logsumexp(x) / dx = exp(x - logsumexp(x)) = softmax(x): the weights are at most 1.
    return prim("exp")(x - _expand(out, np.shape(raw(x)), axis, keepdims))


logsumexp = defprimitive(
    "logsumexp",
    _logsumexp_impl,
    saves=(X, OUT),
    **weighted_reduction_rules(_softmax_weights),
    family="reduce",
)


# ----- index-valued reductions: integer outputs, never differentiated ---------------------------
argmax = defprimitive("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims),
                      vjp=NONDIFF, family="reduce")
argmin = defprimitive("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims),
                      vjp=NONDIFF, family="reduce")
argsort = defprimitive("argsort", lambda x, axis, stable: np.argsort(x, axis=axis, kind="stable" if stable else None),
                       vjp=NONDIFF, family="reduce")
