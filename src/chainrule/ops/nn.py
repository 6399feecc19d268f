"""Fused primitives for neural networks: relu, linear (x @ W^T + b) and softmax cross-entropy.

Each could be written from other rows (and once was): as one row, a training step records and
walks one node where the composite took three to ten, and each rule computes its cotangents in
one go. That per-op overhead is most of a small network's step (issue 16's MLP benchmarks).
Rules are written with chainrule's own ops, so derivatives of derivatives work as for any row.
"""

import numpy as np

from chainrule.core.batching import pad_rank
from chainrule.core.dtypes import shape_of
from chainrule.core.primitive import OUT, defprimitive
from chainrule.errors import ShapeError
from chainrule.ops._batching import POINTWISE
from chainrule.ops._rules import const, prim, real_only
from chainrule.ops.reduce import _shift_for, _xp_logsumexp

X, WEIGHT = 0, 1


# ----- relu ------------------------------------------------------------------------------------
def _relu_impl(x):
    # maximum keeps NaN (as PyTorch); where gives +0.0 at -0.0 and keeps an integer dtype's
    # promotion to float as the composite where(x > 0, x, 0.0) did.
    return np.where(x > 0, x, 0.0) if x.dtype.kind != "f" else np.maximum(x, 0.0)


def _relu_rule(v, out):
    # Gradient 0 at 0, as in PyTorch (maximum would split it 1/2 : 1/2); a NaN input passes
    # its cotangent through ("not <= 0"), as the composite where(not x <= 0, x, 0) did.
    blocked = prim("less_equal")(const(out), 0)
    if type(v) is np.ndarray and type(blocked) is np.ndarray:
        # On NumPy arrays (nothing records): `where`'s implementation itself, or on large
        # arrays where v is finite (no inf * 0) the same numbers in a third of the time (NumPy's
        # where takes 65 us on a (128, 512) float32 cotangent, this product and check 23 us;
        # below a few thousand entries the check costs more than it saves).
        if v.size >= 4096 and np.isfinite(v).all():
            return v * ~blocked
        return np.where(blocked, 0.0, v)
    return prim("where")(blocked, 0.0, v)


relu = defprimitive(
    "relu",
    real_only(lambda x: _relu_impl(np.asarray(x)), "relu"),
    xp=lambda xp, x: xp.where(x <= 0, xp.zeros_like(x), x),
    saves=(OUT,),
    vjp=(_relu_rule,),
    jvp=(_relu_rule,),
    family="nn",
    names=(),  # published by chainrule.numpy.relu (numpy/ml.py), which carries the docstring
    formula=("step({0})",),
    pointwise=True,
    batch=POINTWISE,
)


# ----- linear: x @ W^T + b -----------------------------------------------------------------------
# With rows x (..., in), W (out, in), b (out,): dx = g W, dW = g^T x summed over the rows,
# db = g summed over the rows. The rows are flattened to one matrix so dW is a single product.
def _linear_impl(x, weight, bias):
    if np.ndim(weight) != 2 or np.ndim(bias) > 1:  # (matmul checks x against the weight)
        _check_linear(np.shape(x), np.shape(weight), np.shape(bias))
    out = np.matmul(x, weight.T)
    if out.dtype == np.result_type(out, bias):
        out += bias  # the product is a fresh array: add in place, no second allocation
        return out
    return out + bias


def _check_linear(x_shape, weight_shape, bias_shape):
    if len(weight_shape) != 2 or not x_shape or x_shape[-1] != weight_shape[1] or (
        len(bias_shape) > 1 or (bias_shape and bias_shape[0] not in (1, weight_shape[0]))
    ):
        raise ShapeError(
            f"linear(x, weight, bias) needs x of shape (..., in_features), weight of shape "
            f"(out_features, in_features) and bias of shape (out_features,); got x "
            f"{tuple(x_shape)}, weight {tuple(weight_shape)}, bias {tuple(bias_shape)}"
        )


def _mT(matrix):
    return prim("transpose")(matrix, axes=(1, 0))


def _rows(value):
    """(..., n) as a matrix (rows, n)."""
    shape = shape_of(value)
    return value if len(shape) == 2 else prim("reshape")(value, shape=(-1, shape[-1]))


def _linear_vjp_x(g, x, weight):
    return prim("matmul")(g, weight)


def _linear_vjp_weight(g, x, weight):
    return prim("matmul")(_mT(_rows(g)), _rows(x))


def _linear_vjp_bias(g, x, weight):
    rank = len(shape_of(g))
    return prim("sum")(g, axis=tuple(range(rank - 1)), keepdims=False) if rank > 1 else g


def _linear_batch(values, batched, size):
    """Every example at once: an unbatched weight and bias serve all rows of all examples."""
    (x, weight, bias), (x_batched, weight_batched, bias_batched) = values, batched
    if not weight_batched and not bias_batched:
        return prim("linear")(x, weight, bias)  # the batch axis is one more row axis
    example_shape = shape_of(x)[x_batched:]
    in_features = shape_of(weight)[-1]
    out_features = shape_of(weight)[-2]
    rows = prim("reshape")(x, shape=(size, -1, in_features) if x_batched else (-1, in_features))
    weight_t = prim("transpose")(weight, axes=(0, 2, 1) if weight_batched else (1, 0))
    out = prim("matmul")(rows, weight_t)  # (size, rows, out), or (rows, out) if neither batched
    batch = (size,) if x_batched or weight_batched else ()
    out = prim("reshape")(out, shape=batch + example_shape[:-1] + (out_features,))
    if bias_batched:
        bias = pad_rank(bias, len(example_shape))
    return prim("add")(out, bias)


linear = defprimitive(
    "linear",
    _linear_impl,
    xp=lambda xp, x, weight, bias: xp.matmul(x, xp.permute_dims(weight, (1, 0))) + bias,
    saves=(X, WEIGHT),
    vjp=(_linear_vjp_x, _linear_vjp_weight, _linear_vjp_bias),
    jvp=(
        lambda t, x, weight: prim("matmul")(t, _mT(weight)),
        lambda t, x, weight: prim("matmul")(x, _mT(t)),
        lambda t, x, weight: t,  # the engine broadcasts it to the output
    ),
    family="nn",
    names=(),
    batch=_linear_batch,
)


# ----- softmax cross-entropy: -sum(w * log_softmax(x)) -------------------------------------------
# Scores x (..., C) with the classes last, weights w of x's shape (the one-hot targets, their
# class weights, the sign and the mean's divisor all in one constant matrix, as nn.losses
# builds it). With p = softmax(x) and W = sum_c w_c per row:
#   d/dx = p W - w  (the familiar p - onehot for one-hot rows),   d/dw = -log_softmax(x).
# Fused because log_softmax's own rule is built for second-order stability (it finds each row's
# largest entry in every backward pass); cross-entropy's first derivative needs only p.
def _cross_entropy_impl(x, weights):
    if np.shape(x) != np.shape(weights) or not np.ndim(x):
        raise ShapeError(
            f"softmax_cross_entropy(scores, weights) needs weights of the scores' shape "
            f"(..., classes); got scores {tuple(np.shape(x))} and weights "
            f"{tuple(np.shape(weights))}"
        )
    shifted = x - _shift_for(x, (x.ndim - 1,))
    with np.errstate(divide="ignore"):
        log_probs = shifted - np.log(np.add.reduce(np.exp(shifted), axis=-1, keepdims=True))
    return -np.add.reduce((weights * log_probs).ravel())


def _last(value):
    return (len(shape_of(value)) - 1,)


def _cross_entropy_dx(x, weights):
    p = prim("softmax")(x, axis=_last(x))
    return p * prim("sum")(weights, axis=_last(weights), keepdims=True) - weights


def _total(value):
    return prim("sum")(value, axis=tuple(range(len(shape_of(value)))), keepdims=False)


def _cross_entropy_batch(values, batched, size):
    """-sum(w * log_softmax(x)) over each example's axes."""
    (x, weights), (x_batched, weights_batched) = values, batched
    rank = len(shape_of(x)) - x_batched
    if x_batched and not weights_batched:
        weights = prim("broadcast_to")(weights, shape=shape_of(x))
    log_probs = prim("log_softmax")(x, axis=_last(x))
    if weights_batched and not x_batched:
        log_probs = prim("broadcast_to")(log_probs, shape=shape_of(weights))
    total = prim("sum")(weights * log_probs, axis=tuple(range(1, rank + 1)), keepdims=False)
    return prim("negative")(total)


softmax_cross_entropy = defprimitive(
    "softmax_cross_entropy",
    real_only(_cross_entropy_impl, "softmax_cross_entropy", "shifts by the largest entry"),
    xp=lambda xp, x, weights: -xp.sum(weights * (x - _xp_logsumexp(xp, x, -1, True))),
    saves=(X, WEIGHT),
    vjp=(
        lambda g, x, weights: g * _cross_entropy_dx(x, weights),
        lambda g, x, weights: -g * prim("log_softmax")(x, axis=_last(x)),
    ),
    jvp=(
        lambda t, x, weights: _total(t * _cross_entropy_dx(x, weights)),
        lambda t, x, weights: -_total(t * prim("log_softmax")(x, axis=_last(x))),
    ),
    family="nn",
    names=(),
    batch=_cross_entropy_batch,
)
