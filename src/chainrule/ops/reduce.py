"""Reductions along axes: sum, prod, max/min, cumulative sums and products, and the softmax family.

`axis` arrives normalised by chainrule.numpy: a tuple of non-negative ints (all axes for None).
The VJP of a reduction re-inserts the reduced axes (size 1) and broadcasts back.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.namespace import is_foreign
from chainrule.core.primitive import LINEAR, NONDIFF, OUT, TRACED_TYPES, InputShape, defprimitive
from chainrule.ops._batching import ALONG_AXIS
from chainrule.ops._rules import const, prim, real_only, select

X = 0


def kept_shape(shape, axis):
    """`shape` with the reduced axes kept as size 1."""
    return tuple(1 if i in axis else size for i, size in enumerate(shape))


def _expand(g, shape, axis, keepdims):
    """Cotangent of a reduction, reshaped so it broadcasts against the input."""
    return g if keepdims else prim("reshape")(g, shape=kept_shape(shape, axis))


def _sum_vjp(g, shape, axis, keepdims):
    if not shape_of(g):  # a total (`loss = sum(...)`): a 0-d value broadcasts as it is
        return prim("broadcast_to")(g, shape=shape)
    return prim("broadcast_to")(_expand(g, shape, axis, keepdims), shape=shape)


sum = defprimitive(  # noqa: A001
    "sum",
    # add.reduce is np.sum without its Python wrapper (same results, dtypes included).
    lambda x, axis, keepdims: np.add.reduce(x, axis=axis, keepdims=keepdims),
    code="np.add.reduce({0}, axis={axis}, keepdims={keepdims})",
    xp=lambda xp, x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims),
    saves=(InputShape(X),),
    vjp=(_sum_vjp,),
    jvp=LINEAR,
    family="reduce",
    formula=(("broadcast({g})", "sum({t})"),),
    batch=ALONG_AXIS,
)


def _extremum_weight(x, out, axis, keepdims):
    """Where the max (min) is attained, split evenly among ties: a subgradient."""
    x, out = const(x), const(out)
    if not keepdims:
        out = prim("reshape")(out, shape=kept_shape(shape_of(x), axis))
    dtype = np.result_type(np.float16, dtype_of(x))
    hit = prim("astype")(x == out, dtype=dtype)
    return hit / sum(hit, axis=axis, keepdims=True)


def weighted_reduction_rules(weight):
    """Rules of a reduction whose derivative is a weight per entry, d out = sum(weight * dx):
    VJP g * weight (g re-expanded), JVP sum(t * weight). Serves max/min, prod and logsumexp."""
    vjp = (lambda g, x, out, axis, keepdims:
           _expand(g, shape_of(x), axis, keepdims) * weight(x, out, axis, keepdims),)
    jvp = (lambda t, x, out, axis, keepdims:
           sum(t * weight(x, out, axis, keepdims), axis=axis, keepdims=keepdims),)
    return {"vjp": vjp, "jvp": jvp}


amax = defprimitive("amax", real_only(lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), "max"),
                    saves=(X, OUT), family="reduce", batch=ALONG_AXIS,
                    xp=lambda xp, x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                    **weighted_reduction_rules(_extremum_weight))
amin = defprimitive("amin", real_only(lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims), "min"),
                    saves=(X, OUT), family="reduce", batch=ALONG_AXIS,
                    xp=lambda xp, x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
                    **weighted_reduction_rules(_extremum_weight))


def _product_of_others(x, out, axis, keepdims):
    """d prod(x) / d x_i = product of the other entries of x_i's group: the exclusive products
    from the left times those from the right. No division, so zeros are no special case and
    the rule differentiates again (the Hessian of prod(x) at [2, 0, 3] has x_0 = 2 and x_2 = 3
    off the diagonal, which out / x cannot give)."""
    shape = shape_of(x)
    kept = tuple(i for i in range(len(shape)) if i not in axis)
    order = kept + tuple(axis)
    moved = prim("transpose")(x, axes=order)
    moved_shape = shape_of(moved)
    last = len(kept)  # the reduced axes, flattened into one
    flat = prim("reshape")(moved, shape=moved_shape[:last] + (-1,))
    others = _exclusive_cumprod(flat, last) * _exclusive_cumprod(flat, last, reverse=True)
    others = prim("reshape")(others, shape=moved_shape)
    return prim("transpose")(others, axes=tuple(int(i) for i in np.argsort(order)))


prod = defprimitive(
    "prod",
    lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    saves=(X, OUT),
    **weighted_reduction_rules(_product_of_others),
    family="reduce",
    batch=ALONG_AXIS,
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
    batch=ALONG_AXIS,
)

# ----- cumprod, without dividing by x ------------------------------------------------------------
# d out_j / d x_i = E_i P_ij for i <= j, with E_i = x_0 ... x_{i-1} (the exclusive product) and
# P_ij = x_{i+1} ... x_j. out_j / x_i is the same number only where x_i != 0 (and out_j has not
# underflowed), so the rules use neither: both are first-order linear recurrences,
#   JVP  y_j = x_j y_{j-1} + E_j t_j        (d out_j = d(out_{j-1} x_j))
#   VJP  R_i = x_{i+1} R_{i+1} + g_i,  xbar_i = E_i R_i,
# solved by `_linear_recurrence` with products and sums only: exact at zeros, and again
# differentiable there, to any order.
def _shift_along(y, steps, axis, fill, reverse=False):
    """y moved `steps` places along `axis` (to higher indices, or lower if `reverse`), with
    `fill` coming in at the end it leaves."""
    shape = shape_of(y)
    n = shape[axis]
    part = slice(steps, n) if reverse else slice(0, n - steps)
    index = tuple(part if i == axis else slice(None) for i in range(len(shape)))
    gap = (0, steps) if reverse else (steps, 0)
    width = tuple(gap if i == axis else (0, 0) for i in range(len(shape)))
    return prim("pad")(prim("getitem")(y, index=index), pad_width=width, constant_values=fill)


def _linear_recurrence(a, b, axis, reverse=False):
    """y_j = a_j y_{j-1} + b_j along `axis` (y_{-1} = 0), or y_j = a_j y_{j+1} + b_j if `reverse`.
    By doubling (Hillis-Steele): after the round with offset s, y_j and A_j are the map
    y -> A_j y + y_j of the 2s steps ending at j; combining it with the window before
    (shifted in: the identity, A = 1 and y = 0) doubles it. log2(n) rounds, no division."""
    n = shape_of(b)[axis]
    y, coefficient, step = b, a, 1
    while step < n:
        y = y + coefficient * _shift_along(y, step, axis, 0.0, reverse)
        if 2 * step < n:
            coefficient = coefficient * _shift_along(coefficient, step, axis, 1.0, reverse)
        step *= 2
    return y


def _exclusive_cumprod(x, axis, reverse=False):
    """x_0 ... x_{i-1} at i (x_{i+1} ... x_{n-1} if `reverse`): 1 for the empty product."""
    if reverse:
        flip = prim("flip")
        return flip(_exclusive_cumprod(flip(x, axis=(axis,)), axis), axis=(axis,))
    return _shift_along(cumprod(x, axis=axis), 1, axis, 1.0)


def _cumprod_jvp(t, x, out, axis):
    return _linear_recurrence(x, _shift_along(out, 1, axis, 1.0) * t, axis)


def _cumprod_vjp(g, x, out, axis):
    after = _linear_recurrence(_shift_along(x, 1, axis, 1.0, reverse=True), g, axis, reverse=True)
    return _shift_along(out, 1, axis, 1.0) * after


cumprod = defprimitive(
    "cumprod",
    lambda x, axis: np.cumprod(x, axis=axis),
    saves=(X, OUT),
    vjp=(_cumprod_vjp,),
    jvp=(_cumprod_jvp,),
    family="reduce",
    batch=ALONG_AXIS,
)


# ----- logsumexp, softmax, log_softmax: fused for numerical stability ----------------------------
# Their derivatives all apply the centring v -> v - <p, v> (p = softmax(x) along the axes):
#   d softmax = p * c(t),  d log_softmax = c(t),  log_softmax's VJP  g - p sum(g) = c*(g).
# Written as such, c(e_k) = e_k - p subtracts p_k from 1: where one entry dominates (x = [0, 40],
# p_1 = 1 - 4.2e-18) that is 1 - 1 = 0 instead of p_0 = 4.2e-18, and the Hessian of logsumexp,
# diag(p) - p p^T, loses its diagonal. With i the (first) largest entry, measure from it instead:
#   c(v) = u - <p, u>  with u = v - v_i  (u_i = 0 exactly, so the dominant p_i never enters)
#   c*(g) = (g - e_i sum(g)) - q sum(g)  with q = p - e_i, q_i = -sum_{j != i} p_j
# Both are identities for any fixed i (as sum p = 1), so the rules differentiate again exactly
# and to the same stable forms; i is the largest entry so that the dominant p_i never enters a
# subtraction. Composites of exp and sum would give the cancelling forms: hence primitives.
def _shift_for(x, axis):
    """max(x) along the axes, 0 where it is not finite: exp(x - shift) never overflows."""
    # (np.maximum.reduce is np.max without its Python wrapper; most shifts are all finite)
    shift = np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf)
    finite = np.isfinite(shift)
    return shift if finite.all() else np.where(finite, shift, 0.0)


def _logsumexp_impl(x, axis, keepdims):
    # log sum exp(x) = m + log sum exp(x - m) with m = max(x): exp never overflows.
    shift = _shift_for(x, axis)
    total = np.log(np.add.reduce(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return total if keepdims else np.squeeze(total, axis=axis)


def _softmax_impl(x, axis):
    shifted = np.exp(x - _shift_for(x, axis))
    return shifted / np.add.reduce(shifted, axis=axis, keepdims=True)


def _log_softmax_impl(x, axis):
    shifted = x - _shift_for(x, axis)
    with np.errstate(divide="ignore"):  # an empty axis: log 0, over nothing
        return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


def _first_largest(values, axis):
    """1.0 at the first largest entry along the axes (NumPy's argmax order), 0.0 elsewhere."""
    values = const(values)
    if type(values) in TRACED_TYPES or is_foreign(values):
        # batched by vmap, or a Dask array (kept lazy): the same steps as primitives
        return _first_largest_bound(values, axis)
    values = np.asarray(values)
    ndim, count = values.ndim, len(axis)
    dtype = np.result_type(values, np.float16)
    if count == 1 and values.shape[axis[0]]:  # the common case, without moving axes
        return _first_largest_mask(values, axis[0]).astype(dtype)
    moved = np.moveaxis(values, axis, tuple(range(ndim - count, ndim)))
    flat = moved.reshape(moved.shape[: ndim - count] + (-1,))
    first = np.zeros(flat.shape, dtype=dtype)
    if flat.shape[-1]:
        np.put_along_axis(first, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return np.moveaxis(first.reshape(moved.shape), tuple(range(ndim - count, ndim)), axis)


def _first_largest_mask(values, where):
    """True at the first largest entry along axis `where` of a NumPy array (that axis not
    empty), False elsewhere."""
    positions = np.arange(values.shape[where])
    if where != values.ndim - 1:
        positions = positions.reshape((-1,) + (1,) * (values.ndim - 1 - where))
    return positions == np.argmax(values, axis=where, keepdims=True)


def _first_largest_bound(values, axis):
    shape = shape_of(values)
    ndim, count = len(shape), len(axis)
    dtype = np.result_type(dtype_of(values), np.float16)
    kept = tuple(i for i in range(ndim) if i not in axis)
    order = kept + tuple(axis)
    moved = prim("transpose")(values, axes=order)
    moved_shape = shape_of(moved)
    flat = prim("reshape")(moved, shape=moved_shape[: ndim - count] + (-1,))
    largest = prim("argmax")(flat, axis=len(kept), keepdims=True)
    positions = np.arange(shape_of(flat)[-1])
    first = prim("astype")(prim("equal")(positions, largest), dtype=dtype)
    first = prim("reshape")(first, shape=moved_shape)
    return prim("transpose")(first, axes=tuple(int(i) for i in np.argsort(order)))


def _centred(v, p, first, axis):
    """v - <p, v> along the axes, measured from the largest entry (see above)."""
    u = v - sum(v * first, axis=axis, keepdims=True)
    return u - sum(p * u, axis=axis, keepdims=True)


def _log_softmax_vjp(g, out, axis):
    """log_softmax's VJP, g - p sum(g) measured from the largest entry (`_centred_adjoint`).
    On plain NumPy arrays (a first-order backward pass: nothing records it) the same operations
    run as NumPy calls, without dispatching each through `bind`: bitwise the same numbers, and
    a small network's training step 5-10% faster. Traced values (higher order, vmap, jit) and
    other libraries' arrays take the recorded path."""
    if type(g) is np.ndarray and type(out) is np.ndarray:
        p = np.exp(out)
        # (a boolean mask where it can be: the products and `where`s give the same numbers)
        single = len(axis) == 1 and out.shape[axis[0]]
        first = _first_largest_mask(out, axis[0]) if single else _first_largest(out, axis)
        total = np.add.reduce(g, axis=axis, keepdims=True)
        rest = np.add.reduce(np.where(first, 0.0, p), axis=axis, keepdims=True)
        return (g - first * total) - np.where(first, -rest, p) * total
    return _centred_adjoint(g, prim("exp")(out), _first_largest(out, axis), axis)


def _centred_adjoint(g, p, first, axis):
    """g - p sum(g) along the axes, with q = p - e_i for the dominant entry (see above)."""
    total = sum(g, axis=axis, keepdims=True)
    rest = sum(select(first, 0.0, p), axis=axis, keepdims=True)
    return (g - first * total) - select(first, -rest, p) * total


def _softmax_weights(x, out, axis, keepdims):
    # d logsumexp(x) / dx = softmax(x): the weights are at most 1, and as the primitive their
    # own derivative (logsumexp's Hessian) is the stable one.
    return softmax(x, axis=axis)


def _xp_exp_shifted(xp, x, axis):
    # exp(x - max): the shift keeps exp from overflowing (as the NumPy implementations do)
    return xp.exp(x - xp.max(x, axis=axis, keepdims=True))


def _xp_logsumexp(xp, x, axis, keepdims):
    """log(sum(exp(x))) along axis in a foreign array's namespace (Dask, CuPy, array API)."""
    largest = xp.max(x, axis=axis, keepdims=True)
    total = xp.log(xp.sum(xp.exp(x - largest), axis=axis, keepdims=True)) + largest
    return total if keepdims else xp.squeeze(total, axis=axis)


logsumexp = defprimitive(
    "logsumexp",
    real_only(_logsumexp_impl, "logsumexp", "shifts by the largest entry"),
    xp=lambda xp, x, axis, keepdims: _xp_logsumexp(xp, x, axis, keepdims),
    saves=(X, OUT),
    **weighted_reduction_rules(_softmax_weights),
    family="reduce",
    batch=ALONG_AXIS,
)


def _softmax_rule(v, out, axis):
    # d p = diag(p) - p p^T applied to v: symmetric, so the VJP is the JVP.
    return out * _centred(v, out, _first_largest(out, axis), axis)


softmax = defprimitive(
    "softmax",
    real_only(_softmax_impl, "softmax", "shifts by the largest entry"),
    xp=lambda xp, x, axis: _xp_exp_shifted(xp, x, axis) / xp.sum(
        _xp_exp_shifted(xp, x, axis), axis=axis, keepdims=True),
    saves=(OUT,),
    vjp=(_softmax_rule,),
    jvp=(_softmax_rule,),
    family="reduce",
    batch=ALONG_AXIS,
)

log_softmax = defprimitive(
    "log_softmax",
    real_only(_log_softmax_impl, "log_softmax", "shifts by the largest entry"),
    xp=lambda xp, x, axis: x - _xp_logsumexp(xp, x, axis, True),
    saves=(OUT,),
    vjp=(lambda g, out, axis: _log_softmax_vjp(g, out, axis),),
    jvp=(lambda t, out, axis: _centred(t, prim("exp")(out), _first_largest(out, axis), axis),),
    family="reduce",
    batch=ALONG_AXIS,
)


# ----- index-valued reductions: integer outputs, never differentiated ---------------------------
argmax = defprimitive("argmax", real_only(lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims), "argmax"),
                      vjp=NONDIFF, family="reduce", batch=ALONG_AXIS,
                      xp=lambda xp, x, axis, keepdims: xp.argmax(x, axis=axis, keepdims=keepdims))
argmin = defprimitive("argmin", real_only(lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims), "argmin"),
                      vjp=NONDIFF, family="reduce", batch=ALONG_AXIS,
                      xp=lambda xp, x, axis, keepdims: xp.argmin(x, axis=axis, keepdims=keepdims))
argsort = defprimitive("argsort", real_only(lambda x, axis, stable: np.argsort(x, axis=axis, kind="stable" if stable else None), "sort"),
                       vjp=NONDIFF, family="reduce", batch=ALONG_AXIS)
