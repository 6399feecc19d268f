"""Composite cases: `chainrule.nn` - the losses, activations, normalisation, convolution,
pooling and attention of nn.functional, and the layers whose derivative code is written by hand
(RNN, LSTM and GRU run each direction as a `cr.custom_vjp` with a NumPy backward pass, which
`cr.vjp` takes; forward mode, vmap and second order go through the composed loop).

Every parameter is an argument, so gradients reach the weights as well as the inputs: layers are
built once (float64, fixed rng) and called through `nn.functional_call` with the parameters
given as arrays (drawn here, not the layer's initial values, so no bias starts at zero). A layer
returning several arrays is checked through all of them raveled and joined.

References are NumPy written from the published formulas (PyTorch's documentation: gate order
r, z, n for the GRU and i, f, g, o for the LSTM; the weighted, smoothed, ignore_index forms of
cross-entropy), never chainrule. Integer targets, lengths and boolean masks are fixed inside
the function. Points stay away from kinks (relu, hardtanh, huber) except where an edge case
says otherwise: huber exactly at delta and ties of two maxima in pooling (the gradient splits
evenly, as central differences do) are checked to first order, since the second derivative
does not exist there. Only TransformerEncoderLayer and dropout have no value reference.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import chainrule.numpy as cnp
from chainrule import nn
from chainrule.nn import functional as F
from composites import Case

RNG = np.random.default_rng(2024)


def _uniform(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _joined(module, outputs):
    """Several outputs as one flat array."""
    return module.concatenate([module.ravel(o) for o in outputs])


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _class_last(x):
    """PyTorch's (N, C, d...) scores as rows (N d..., C); (C,) as one row."""
    if x.ndim == 1:
        return x[None]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


# ----- losses: NumPy references ------------------------------------------------------------------
def _np_cross_entropy(scores, labels, weight=None, ignore_index=-100, reduction="mean",
                      label_smoothing=0.0):
    """PyTorch's formula for class targets: (1 - e) (-w_y log p_y) + (e / C) sum_c -w_c log p_c
    per counted row; "mean" divides by the sum of w_y over the counted rows."""
    rows = _class_last(scores)
    labels = np.asarray(labels).reshape(-1)
    n_classes = rows.shape[1]
    weight = np.ones(n_classes) if weight is None else weight
    log_p = _log_softmax(rows)
    counted = labels != ignore_index
    safe = np.where(counted, labels, 0)
    picked = log_p[np.arange(len(safe)), safe]
    nll = np.where(counted, -weight[safe] * picked, 0.0)
    smooth = np.where(counted, -(log_p * weight).sum(axis=1), 0.0)
    losses = (1.0 - label_smoothing) * nll + label_smoothing / n_classes * smooth
    if reduction == "none":
        return losses.reshape(np.shape(scores)[:1] + np.shape(scores)[2:])
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / np.where(counted, weight[safe], 0.0).sum()


def _np_soft_cross_entropy(scores, target, weight=None, reduction="mean", label_smoothing=0.0):
    """Probability targets t: -sum_c w_c t'_c log p_c, t' = (1 - e) t + e / C; "mean" divides
    by the number of rows, whatever the weights."""
    rows, t = _class_last(scores), _class_last(target)
    n_classes = rows.shape[1]
    t = (1.0 - label_smoothing) * t + label_smoothing / n_classes
    weight = np.ones(n_classes) if weight is None else weight
    losses = -(_log_softmax(rows) * t * weight).sum(axis=1)
    if reduction == "none":
        return losses.reshape(np.shape(scores)[:1] + np.shape(scores)[2:])
    return losses.sum() if reduction == "sum" else losses.mean()


def _np_nll(log_p, labels, weight=None, ignore_index=-100, reduction="mean"):
    rows = _class_last(log_p)
    labels = np.asarray(labels).reshape(-1)
    weight = np.ones(rows.shape[1]) if weight is None else weight
    counted = labels != ignore_index
    safe = np.where(counted, labels, 0)
    w = np.where(counted, weight[safe], 0.0)
    losses = -w * rows[np.arange(len(safe)), safe]
    if reduction == "none":
        return losses.reshape(np.shape(log_p)[:1] + np.shape(log_p)[2:])
    return losses.sum() if reduction == "sum" else losses.sum() / w.sum()


def _reduced(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](losses)


def _np_bce_with_logits(x, t, weight=None, pos_weight=None, reduction="mean"):
    """-w [p t log s(x) + (1 - t) log(1 - s(x))], log s(x) = -softplus(-x)."""
    p = 1.0 if pos_weight is None else pos_weight
    losses = p * t * np.logaddexp(0.0, -x) + (1.0 - t) * np.logaddexp(0.0, x)
    return _reduced(losses * (1.0 if weight is None else weight), reduction)


def _np_bce(x, t, weight=None, reduction="mean"):
    losses = -(t * np.log(x) + (1.0 - t) * np.log(1.0 - x))
    return _reduced(losses * (1.0 if weight is None else weight), reduction)


def _np_huber(x, y, delta=1.0, reduction="mean"):
    d = np.abs(x - y)
    return _reduced(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def _np_smooth_l1(x, y, beta=1.0, reduction="mean"):
    d = np.abs(x - y)
    if beta == 0.0:
        return _reduced(d, reduction)
    return _reduced(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def _np_kl_div(log_q, t, reduction="mean", log_target=False):
    if log_target:
        losses = np.exp(t) * (t - log_q)
    else:
        positive = t > 0
        losses = np.where(positive, t * (np.log(np.where(positive, t, 1.0)) - log_q), 0.0)
    if reduction == "batchmean":
        return losses.sum() / log_q.shape[0]
    return _reduced(losses, reduction)


SCORES = _uniform(4, 3, low=-2.0, high=2.0)
LABELS = np.array([2, 0, 1, 2])
IGNORED = np.array([2, -100, 1, -100])  # rows 1 and 3 ignored
IGNORED_1 = np.array([2, 1, 0, 1])  # ignore_index=1, a class index
CLASS_WEIGHTS = np.array([0.5, 2.0, 1.25])
SCORES_3D = _uniform(2, 3, 2, low=-2.0, high=2.0)  # (N, C, d)
LABELS_3D = np.array([[0, 2], [1, 1]])
PROBABILITIES = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0],
                          [0.1, 0.1, 0.8]])  # row 1 is all zero: it contributes nothing
LOG_PROBS = _uniform(5, 4, low=-3.0, high=-0.1)
NLL_LABELS = np.array([3, 0, -1, 1, 3])
LOG_PROBS_4D = _uniform(2, 3, 2, 2, low=-3.0, high=-0.1)  # (N, C, d1, d2)
NLL_LABELS_4D = np.array([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])
LOGITS = _uniform(3, 4, low=-3.0, high=3.0)
BINARY = RNG.uniform(0.0, 1.0, (3, 4))
BINARY[0, 0], BINARY[1, 2] = 0.0, 1.0
POS_WEIGHT = np.array([0.5, 1.0, 2.0, 3.0])
BCE_WEIGHT = np.array([[1.0], [0.5], [2.0]])  # broadcast against the loss
PROBS = RNG.uniform(0.05, 0.95, (3, 4))
PRED = _uniform(2, 5, low=-2.0, high=2.0)
# Differences at least 0.1 away from the kinks (|d| = delta = 0.7, beta = 0.5, 0).
TARGET = PRED - np.array([[0.3, -0.9, 1.4, -0.2, 0.55], [-1.6, 0.15, 0.85, -0.35, 2.1]])
AT_DELTA_X = np.array([1.5, -0.25, 0.75, 2.0, 0.1])
AT_DELTA_Y = np.array([0.5, 0.75, 0.75, 1.2, 0.3])  # differences 1.0, -1.0, 0, 0.8, -0.2
LOG_Q = _log_softmax(_uniform(3, 4))
KL_TARGET = _softmax(_uniform(3, 4))
KL_ZERO_TARGET = np.array([[0.5, 0.0, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0]])


LOSS_CASES = [
    # ----- cross_entropy, class targets ---------------------------------------------------------
    Case("nn.functional.cross_entropy", lambda s: F.cross_entropy(s, LABELS), (SCORES,),
         lambda s: _np_cross_entropy(s, LABELS), label="class targets, mean (fused)"),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, LABELS, weight=CLASS_WEIGHTS, reduction="sum"), (SCORES,),
         lambda s: _np_cross_entropy(s, LABELS, CLASS_WEIGHTS, reduction="sum"),
         label="weights, sum"),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, LABELS, weight=CLASS_WEIGHTS), (SCORES,),
         lambda s: _np_cross_entropy(s, LABELS, CLASS_WEIGHTS), label="weights, weighted mean"),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, IGNORED, weight=CLASS_WEIGHTS, label_smoothing=0.2),
         (SCORES,),
         lambda s: _np_cross_entropy(s, IGNORED, CLASS_WEIGHTS, label_smoothing=0.2),
         label="ignore_index rows, label_smoothing, weights", edge=True),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, IGNORED, reduction="none", label_smoothing=0.1),
         (SCORES,),
         lambda s: _np_cross_entropy(s, IGNORED, reduction="none", label_smoothing=0.1),
         label="ignore_index rows, label_smoothing, none", edge=True),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, IGNORED_1, ignore_index=1), (SCORES,),
         lambda s: _np_cross_entropy(s, IGNORED_1, ignore_index=1),
         label="ignore_index a class", edge=True),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, LABELS_3D, reduction="none"), (SCORES_3D,),
         lambda s: _np_cross_entropy(s, LABELS_3D, reduction="none"), label="(N, C, d), none"),
    Case("nn.functional.cross_entropy",
         lambda s: F.cross_entropy(s, LABELS_3D, weight=CLASS_WEIGHTS, label_smoothing=0.3),
         (SCORES_3D,),
         lambda s: _np_cross_entropy(s, LABELS_3D, CLASS_WEIGHTS, label_smoothing=0.3),
         label="(N, C, d), weights, label_smoothing"),
    Case("nn.functional.cross_entropy", lambda s: F.cross_entropy(s, np.array(1)),
         (SCORES[0],), lambda s: _np_cross_entropy(s, np.array(1)),
         label="(C,) scores, 0-d target", edge=True),
    Case("nn.functional.cross_entropy", lambda s: F.cross_entropy(s, LABELS[:1]),
         (SCORES[:1],), lambda s: _np_cross_entropy(s, LABELS[:1]), label="size-1 batch",
         edge=True),
    # ----- cross_entropy, probability targets (differentiated too: the loss is linear in them)
    Case("nn.functional.cross_entropy", lambda s, t: F.cross_entropy(s, t), (SCORES, _softmax(
        _uniform(4, 3))), lambda s, t: _np_soft_cross_entropy(s, t), label="probabilities"),
    Case("nn.functional.cross_entropy",
         lambda s, t: F.cross_entropy(s, t, weight=CLASS_WEIGHTS, label_smoothing=0.15),
         (SCORES, PROBABILITIES),
         lambda s, t: _np_soft_cross_entropy(s, t, CLASS_WEIGHTS, label_smoothing=0.15),
         label="probabilities with a zero row, weights, label_smoothing", edge=True),
    Case("nn.functional.cross_entropy",
         lambda s, t: F.cross_entropy(s, t, reduction="none"),
         (SCORES_3D, _softmax(_uniform(2, 3, 2), axis=1)),
         lambda s, t: _np_soft_cross_entropy(s, t, reduction="none"),
         label="(N, C, d) probabilities, none"),
    # ----- nll_loss ---------------------------------------------------------------------------
    Case("nn.functional.nll_loss", lambda p: F.nll_loss(p, NLL_LABELS[[0, 1, 3, 4]]),
         (LOG_PROBS[[0, 1, 3, 4]],), lambda p: _np_nll(p, NLL_LABELS[[0, 1, 3, 4]]),
         label="mean"),
    Case("nn.functional.nll_loss",
         lambda p: F.nll_loss(p, NLL_LABELS, weight=CLASS_WEIGHTS.tolist() + [0.75],
                              ignore_index=-1),
         (LOG_PROBS,),
         lambda p: _np_nll(p, NLL_LABELS, np.array([0.5, 2.0, 1.25, 0.75]), ignore_index=-1),
         label="weights, an ignored row", edge=True),
    Case("nn.functional.nll_loss",
         lambda p: F.nll_loss(p, NLL_LABELS_4D, reduction="none"), (LOG_PROBS_4D,),
         lambda p: _np_nll(p, NLL_LABELS_4D, reduction="none"), label="(N, C, d1, d2), none"),
    Case("nn.functional.nll_loss",
         lambda p: F.nll_loss(p, NLL_LABELS_4D, weight=CLASS_WEIGHTS, reduction="sum"),
         (LOG_PROBS_4D,), lambda p: _np_nll(p, NLL_LABELS_4D, CLASS_WEIGHTS, reduction="sum"),
         label="(N, C, d1, d2), weights, sum"),
    # ----- binary cross-entropy -----------------------------------------------------------------
    Case("nn.functional.binary_cross_entropy_with_logits",
         F.binary_cross_entropy_with_logits, (LOGITS, BINARY),
         _np_bce_with_logits, label="targets 0 and 1 included"),
    Case("nn.functional.binary_cross_entropy_with_logits",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight=BCE_WEIGHT,
                                                         pos_weight=POS_WEIGHT),
         (LOGITS, BINARY),
         lambda x, t: _np_bce_with_logits(x, t, BCE_WEIGHT, POS_WEIGHT),
         label="weight, pos_weight"),
    Case("nn.functional.binary_cross_entropy_with_logits",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
         (np.array([-40.0, -12.0, 0.0, 15.0, 35.0]), np.array([0.3, 1.0, 0.5, 0.0, 0.8])),
         lambda x, t: _np_bce_with_logits(x, t, reduction="none"),
         label="large logits and 0, none", edge=True),
    Case("nn.functional.binary_cross_entropy",
         lambda x, t: F.binary_cross_entropy(x, t, weight=BCE_WEIGHT), (PROBS, BINARY),
         lambda x, t: _np_bce(x, t, BCE_WEIGHT), label="weight"),
    Case("nn.functional.binary_cross_entropy",
         lambda x, t: F.binary_cross_entropy(x, t, reduction="sum"), (PROBS[:1, :1], BINARY[:1,
                                                                                          :1]),
         lambda x, t: _np_bce(x, t, reduction="sum"), label="size-1 dims", edge=True),
    # ----- regression -------------------------------------------------------------------------
    Case("nn.functional.huber_loss", lambda x, y: F.huber_loss(x, y, delta=0.7), (PRED, TARGET),
         lambda x, y: _np_huber(x, y, 0.7), label="both branches"),
    Case("nn.functional.huber_loss", lambda x, y: F.huber_loss(x, y, reduction="none"),
         (AT_DELTA_X, AT_DELTA_Y), lambda x, y: _np_huber(x, y, reduction="none"),
         label="|d| exactly delta, and d = 0", edge=True,
         # At |d| = delta the loss is C^1 but its second derivative jumps (1 inside, 0
         # outside): central differences of the gradient see the average, the rule one side.
         second_order=False),
    Case("nn.functional.smooth_l1_loss",
         lambda x, y: F.smooth_l1_loss(x, y, beta=0.5, reduction="sum"), (PRED, TARGET),
         lambda x, y: _np_smooth_l1(x, y, 0.5, "sum"), label="both branches"),
    Case("nn.functional.smooth_l1_loss", lambda x, y: F.smooth_l1_loss(x, y, beta=0.0),
         (PRED, TARGET), lambda x, y: _np_smooth_l1(x, y, 0.0), label="beta 0: L1"),
    Case("nn.functional.l1_loss", lambda x, y: F.l1_loss(x, y, reduction="none"),
         (PRED, TARGET), lambda x, y: np.abs(x - y)),
    Case("nn.functional.mse_loss", F.mse_loss, (PRED, TARGET), lambda x, y: np.mean((x - y)**2)),
    Case("nn.functional.kl_div", lambda q, t: F.kl_div(q, t, reduction="batchmean"),
         (LOG_Q, KL_TARGET), lambda q, t: _np_kl_div(q, t, "batchmean"), label="batchmean"),
    # t log t has no derivative in t at t = 0 (finite differences step to t < 0): the target is
    # held fixed there.
    Case("nn.functional.kl_div", lambda q, t: F.kl_div(q, t, reduction="sum"),
         (LOG_Q, KL_ZERO_TARGET), lambda q, t: _np_kl_div(q, t, "sum"), wrt=(0,),
         label="zero targets", edge=True),
    Case("nn.functional.kl_div", lambda q, t: F.kl_div(q, t, log_target=True),
         (LOG_Q, np.log(KL_TARGET)), lambda q, t: _np_kl_div(q, t, "mean", log_target=True),
         label="log_target"),
]


# ----- activations and dropout -------------------------------------------------------------------
ACT_X = np.array([[-2.3, -0.7, -0.15, 0.2], [0.65, 1.4, 2.8, -3.5]])  # none at 0, -1 or 1


ACTIVATION_CASES = [
    Case("nn.functional.gelu", F.gelu, (ACT_X,),
         lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
         label="tanh approximation"),
    Case("nn.functional.elu", lambda x: F.elu(x, alpha=1.7), (ACT_X,),
         lambda x: np.where(x > 0, x, 1.7 * np.expm1(np.minimum(x, 0.0)))),
    Case("nn.functional.silu", F.silu, (ACT_X,), lambda x: x * _sigmoid(x)),
    Case("nn.functional.softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0), (ACT_X,),
         lambda x: np.where(2 * x > 3.0, x, np.logaddexp(0.0, 2 * x) / 2),
         label="beta 2, both regimes"),
    Case("nn.functional.mish", F.mish, (ACT_X,),
         lambda x: x * np.tanh(np.logaddexp(0.0, x))),
    Case("nn.functional.leaky_relu", lambda x: F.leaky_relu(x, 0.2), (ACT_X,),
         lambda x: np.where(x > 0, x, 0.2 * x)),
    Case("nn.functional.hardtanh", lambda x: F.hardtanh(x, -0.5, 2.0), (ACT_X,),
         lambda x: np.clip(x, -0.5, 2.0)),
    Case("nn.functional.embedding",
         lambda w: F.embedding(np.array([[3, 0], [3, 1]]), w), (_uniform(4, 3),),
         lambda w: w[np.array([[3, 0], [3, 1]])], label="a repeated index"),
    # The mask comes from the implementation's draw (no published formula fixes which entries
    # drop), so only the derivative is checked: mask / (1 - p). Under vmap each example draws
    # its own mask (one draw of the batch's shape), so a batched call differs from a loop of
    # calls by design: no batch check.
    Case("nn.functional.dropout", lambda x: F.dropout(x, 0.4, True, rng=7), (_uniform(3, 5),),
         batch=False),
]


# ----- normalisation -----------------------------------------------------------------------------
def _np_layer_norm(x, axes, weight=None, bias=None, eps=1e-5):
    centred = x - x.mean(axis=axes, keepdims=True)
    out = centred / np.sqrt((centred**2).mean(axis=axes, keepdims=True) + eps)
    return out * (1.0 if weight is None else weight) + (0.0 if bias is None else bias)


def _np_group_norm(x, groups, weight, bias, eps=1e-5):
    n, c = x.shape[:2]
    grouped = x.reshape(n, groups, -1)
    out = _np_layer_norm(grouped, (2,), eps=eps).reshape(x.shape)
    per_channel = (1, c) + (1,) * (x.ndim - 2)
    return out * weight.reshape(per_channel) + bias.reshape(per_channel)


def _np_batch_norm(x, mean, var, weight, bias, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(shape)
            + bias.reshape(shape))


def _np_batch_norm_train(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    return _np_batch_norm(x, x.mean(axis=axes), x.var(axis=axes), weight, bias, eps)


LN_X = _uniform(2, 3, 4, low=-2.0, high=2.0)
GN_X = _uniform(2, 4, 3, low=-2.0, high=2.0)
BN_X = _uniform(4, 3, 2, low=-2.0, high=2.0)
BATCH_NORM_1D = nn.BatchNorm1d(3, dtype=np.float64)  # training mode: batch statistics
BN_BUFFERS = dict(BATCH_NORM_1D.named_buffers())
LAYER_NORM = nn.LayerNorm((3, 4), dtype=np.float64)


NORM_CASES = [
    Case("nn.functional.layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b),
         (LN_X, _uniform(4), _uniform(4)), lambda x, w, b: _np_layer_norm(x, (2,), w, b),
         label="last axis, affine"),
    Case("nn.functional.layer_norm", lambda x: F.layer_norm(x, (3, 4), eps=1e-3), (LN_X,),
         lambda x: _np_layer_norm(x, (1, 2), eps=1e-3), label="two axes, eps"),
    # One feature: the centred value is 0, so the output is the bias and the input's
    # gradient is exactly 0.
    Case("nn.functional.layer_norm", lambda x, w, b: F.layer_norm(x, (1,), w, b),
         (_uniform(3, 1), _uniform(1), _uniform(1)),
         lambda x, w, b: _np_layer_norm(x, (1,), w, b), label="size-1 feature dim", edge=True),
    Case("nn.LayerNorm",
         lambda x, w, b: nn.functional_call(LAYER_NORM, {"weight": w, "bias": b}, (x,)),
         (LN_X, _uniform(3, 4), _uniform(3, 4)),
         lambda x, w, b: _np_layer_norm(x, (1, 2), w, b)),
    Case("nn.functional.group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
         (GN_X, _uniform(4), _uniform(4)), lambda x, w, b: _np_group_norm(x, 2, w, b),
         label="2 groups of 2 channels"),
    Case("nn.functional.group_norm", lambda x, w, b: F.group_norm(x, 4, w, b),
         (GN_X[:1], _uniform(4), _uniform(4)), lambda x, w, b: _np_group_norm(x, 4, w, b),
         label="a group per channel, size-1 batch", edge=True),
    Case("nn.functional.batch_norm", F.batch_norm,
         (BN_X, _uniform(3), _uniform(3, low=0.5, high=2.0), _uniform(3), _uniform(3)),
         _np_batch_norm, label="given statistics (eval)"),
    # Training mode normalises by the batch's statistics; under vmap each call would see one
    # example, so the layer refuses vmap by design (BatchingError): no batch check.
    Case("nn.BatchNorm1d",
         lambda x, w, b: nn.functional_call(BATCH_NORM_1D, ({"weight": w, "bias": b},
                                                            BN_BUFFERS), (x,)),
         (BN_X, _uniform(3), _uniform(3)), _np_batch_norm_train, label="training, (N, C, L)",
         batch=False),
]


# ----- convolution and pooling -------------------------------------------------------------------
def _np_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation, PyTorch's conv2d: one einsum per kernel offset and group."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, height, width = x.shape
    out_c, group_c, kh, kw = w.shape
    oh = (height - dilation * (kh - 1) - 1) // stride + 1
    ow = (width - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, out_c, oh, ow))
    group_out = out_c // groups
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dilation: i * dilation + stride * (oh - 1) + 1: stride,
                      j * dilation: j * dilation + stride * (ow - 1) + 1: stride]
            for g in range(groups):
                out[:, g * group_out:(g + 1) * group_out] += np.einsum(
                    "nchw,oc->nohw", patch[:, g * group_c:(g + 1) * group_c],
                    w[g * group_out:(g + 1) * group_out, :, i, j])
    return out if b is None else out + b[None, :, None, None]


def _np_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                         dilation=1):
    """PyTorch's conv_transpose2d as a scatter: input (i, j) adds x w[.., ki, kj] at output
    (i s + ki d - p, j s + kj d - p)."""
    n, in_c, height, width = x.shape
    _, group_out, kh, kw = w.shape
    group_in = in_c // groups
    full_h = (height - 1) * stride + dilation * (kh - 1) + 1 + output_padding
    full_w = (width - 1) * stride + dilation * (kw - 1) + 1 + output_padding
    full = np.zeros((n, group_out * groups, full_h, full_w))
    for i in range(kh):
        for j in range(kw):
            for g in range(groups):
                full[:, g * group_out:(g + 1) * group_out,
                     i * dilation: i * dilation + stride * (height - 1) + 1: stride,
                     j * dilation: j * dilation + stride * (width - 1) + 1: stride] += np.einsum(
                    "nchw,co->nohw", x[:, g * group_in:(g + 1) * group_in],
                    w[g * group_in:(g + 1) * group_in, :, i, j])
    out = full[:, :, padding: full_h - padding, padding: full_w - padding]
    return out if b is None else out + b[None, :, None, None]


def _np_pool(x, kernel, stride, padding, reduce, fill):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
               constant_values=fill)
    windows = sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    return reduce(windows, axis=(-2, -1))


def _np_adaptive_avg_pool2d(x, out_h, out_w):
    height, width = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(i * height // out_h, -(-(i + 1) * height // out_h))
            cols = slice(j * width // out_w, -(-(j + 1) * width // out_w))
            out[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
    return out


IMAGE = _uniform(2, 3, 5, 5)
KERNEL = _uniform(4, 3, 3, 3, low=-0.5, high=0.5)
# Ties of two equal maxima (never more: at a k-way tie central differences give each entry 1/2,
# no linear map for k > 2) in every 2x2 tile and in two of the four 3x3 windows; the second
# channel is the first transposed and flipped, which maps tiles to tiles and windows to windows.
TIED = np.array([[0.3, 0.9, -0.2, 0.1], [0.9, 0.4, 0.1, -0.5],
                 [-1.0, 0.2, 0.5, 0.7], [0.6, 0.6, 0.7, -0.3]])
TIED_2 = np.stack([TIED, TIED.T[::-1]])[None]  # (1, 2, 4, 4)
# At a tie the gradient jumps from one entry to the other, so it has no derivative there:
# central differences of it grow like 1/h. Tie cases are checked to first order only.
AT_TIES = {"edge": True, "second_order": False}

CONV_CASES = [
    Case("nn.functional.conv2d", F.conv2d, (IMAGE, KERNEL, _uniform(4)), _np_conv2d,
         label="3x3, bias"),
    Case("nn.functional.conv2d",
         lambda x, w: F.conv2d(x, w, stride=2, padding=1, dilation=2), (IMAGE, KERNEL),
         lambda x, w: _np_conv2d(x, w, stride=2, padding=1, dilation=2),
         label="stride, padding, dilation"),
    Case("nn.functional.conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
         (_uniform(1, 4, 3, 3), _uniform(6, 2, 2, 2), _uniform(6)),
         lambda x, w, b: _np_conv2d(x, w, b, padding=1, groups=2), label="groups, size-1 batch"),
    Case("nn.functional.conv2d", lambda x, w: F.conv2d(x, w), (IMAGE[:, :, :1, :1],
                                                             KERNEL[:, :, :1, :1]),
         _np_conv2d, label="1x1 image and kernel", edge=True),
    Case("nn.functional.conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
         (_uniform(2, 3, 7), _uniform(2, 3, 3), _uniform(2)),
         lambda x, w, b: _np_conv2d(np.pad(x, ((0, 0), (0, 0), (1, 1)))[:, :, None],
                                    w[:, :, None], b, stride=2)[:, :, 0],
         label="stride, padding"),
    Case("nn.functional.conv_transpose2d",
         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         (_uniform(2, 3, 3, 3), _uniform(3, 2, 3, 3, low=-0.5, high=0.5), _uniform(2)),
         lambda x, w, b: _np_conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         label="stride, padding, output_padding"),
    Case("nn.functional.conv_transpose2d",
         lambda x, w: F.conv_transpose2d(x, w, groups=2, dilation=2),
         (_uniform(1, 4, 2, 3), _uniform(4, 1, 2, 2)),
         lambda x, w: _np_conv_transpose2d(x, w, groups=2, dilation=2),
         label="groups, dilation"),
    Case("nn.functional.max_pool2d", lambda x: F.max_pool2d(x, 2), (TIED_2,),
         lambda x: _np_pool(x, 2, 2, 0, np.max, -np.inf), label="ties in a tile", **AT_TIES),
    Case("nn.functional.max_pool2d", lambda x: F.max_pool2d(x, 3, stride=1), (TIED_2,),
         lambda x: _np_pool(x, 3, 1, 0, np.max, -np.inf), label="ties, overlapping windows",
         **AT_TIES),
    Case("nn.functional.max_pool2d", lambda x: F.max_pool2d(x, 2, stride=1), (IMAGE[:1, :2],),
         lambda x: _np_pool(x, 2, 1, 0, np.max, -np.inf), label="overlapping, no ties"),
    Case("nn.functional.max_pool2d", lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
         (IMAGE,), lambda x: _np_pool(x, 3, 2, 1, np.max, -np.inf), label="padding"),
    Case("nn.functional.max_pool1d", lambda x: F.max_pool1d(x, 2, stride=1),
         (np.array([[[0.5, -0.2, 0.5, 1.1, 1.1, 0.0]]]),),
         lambda x: _np_pool(x[:, :, None].repeat(2, axis=2), 2, 1, 0, np.max,
                            -np.inf)[:, :, 0],
         label="ties", **AT_TIES),
    Case("nn.functional.avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1),
         (IMAGE,), lambda x: _np_pool(x, 3, 2, 1, np.mean, 0.0), label="zero padding counted"),
    Case("nn.functional.avg_pool2d", lambda x: F.avg_pool2d(x, 2), (IMAGE[:, :, :4, :4],),
         lambda x: _np_pool(x, 2, 2, 0, np.mean, 0.0), label="tiles"),
    Case("nn.functional.adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
         (IMAGE,), lambda x: _np_adaptive_avg_pool2d(x, 3, 2), label="overlapping windows"),
    Case("nn.functional.adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 1),
         (IMAGE[0],), lambda x: _np_adaptive_avg_pool2d(x, 1, 1),
         label="(C, H, W) to 1x1", edge=True),
]


# ----- attention ---------------------------------------------------------------------------------
def _np_attention(q, k, v, allowed=None, bias=None, scale=None):
    """softmax(q k^T scale + bias) v over the allowed keys; a row with none outputs zeros."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if bias is not None:
        scores = scores + bias
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    peak = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(peak), peak, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0) @ v


def _np_multihead(q, k, v, w_in, b_in, w_out, b_out, heads, allowed=None):
    """PyTorch's nn.MultiheadAttention (sequence-first), and its weights averaged over heads."""
    (length, batch, e), sources = q.shape, k.shape[0]
    d = e // heads
    projected = [a @ w_in[i * e:(i + 1) * e].T + b_in[i * e:(i + 1) * e]
                 for i, a in enumerate((q, k, v))]
    qh, kh, vh = (p.reshape(n, batch, heads, d).transpose(1, 2, 0, 3)
                  for p, n in zip(projected, (length, sources, sources), strict=True))
    weights = _np_attention(qh, kh, np.eye(sources), allowed)  # softmax(.) @ I: the weights
    out = (weights @ vh).transpose(2, 0, 1, 3).reshape(length, batch, e)
    return out @ w_out.T + b_out, weights.mean(axis=1)


Q = _uniform(2, 3, 4)
K = _uniform(2, 5, 4)
V = _uniform(2, 5, 3)
# True = may attend (F.scaled_dot_product_attention's convention); query row 1 sees no key.
ALLOWED = np.array([[True, False, True, True, False], [False] * 5, [True, True, False, False,
                                                                    True]])
CAUSAL = np.tril(np.ones((3, 5), bool))
MHA = nn.MultiheadAttention(4, 2, dtype=np.float64, rng=0)
MHA_NAMES = list(MHA.parameters_dict())  # in_proj_weight, in_proj_bias, out_proj.*
PADDING = np.array([[False, False, True], [False, True, False]])  # True: masked
ENCODER = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                     dtype=np.float64, rng=0).eval()
ENCODER_NAMES = list(ENCODER.parameters_dict())


def _mha(*args, **kwargs):
    params = dict(zip(MHA_NAMES, args[3:], strict=True))
    return _joined(cnp, nn.functional_call(MHA, params, args[:3], kwargs))


def _mha_self(x, *params):
    params = dict(zip(MHA_NAMES, params, strict=True))
    out = nn.functional_call(MHA, params, (x, x, x), {"key_padding_mask": PADDING})
    return _joined(cnp, out)


def _np_mha_self(x, w_in, b_in, w_out, b_out):
    allowed = ~PADDING[:, None, None, :]
    return _joined(np, _np_multihead(x, x, x, w_in, b_in, w_out, b_out, 2, allowed))


def _encoder(x, *params):
    return nn.functional_call(ENCODER, dict(zip(ENCODER_NAMES, params, strict=True)), (x,))


ATTENTION_CASES = [
    Case("nn.functional.scaled_dot_product_attention", F.scaled_dot_product_attention,
         (Q, K, V), _np_attention, label="no mask"),
    Case("nn.functional.scaled_dot_product_attention",
         lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=ALLOWED),
         (Q, K, V), lambda q, k, v: _np_attention(q, k, v, ALLOWED),
         label="boolean mask, a row with no key", edge=True),
    Case("nn.functional.scaled_dot_product_attention",
         lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
         (Q, K, V, _uniform(3, 5)), lambda q, k, v, m: _np_attention(q, k, v, bias=m),
         label="float mask, differentiated"),
    Case("nn.functional.scaled_dot_product_attention",
         lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.8),
         (Q, K, V), lambda q, k, v: _np_attention(q, k, v, CAUSAL, scale=0.8),
         label="causal, scale"),
    Case("nn.functional.scaled_dot_product_attention", F.scaled_dot_product_attention,
         (_uniform(2, 1, 1, 4), K[0], V[0]), _np_attention,
         label="one query, broadcast key and value", edge=True),
    Case("nn.MultiheadAttention", _mha,
         (_uniform(3, 2, 4), _uniform(5, 2, 4), _uniform(5, 2, 4), _uniform(12, 4),
          _uniform(12), _uniform(4, 4), _uniform(4)),
         lambda *a: _joined(np, _np_multihead(*a, heads=2)), label="output and weights"),
    Case("nn.MultiheadAttention", _mha_self,
         (_uniform(3, 2, 4), _uniform(12, 4), _uniform(12), _uniform(4, 4), _uniform(4)),
         _np_mha_self, label="self-attention, key_padding_mask"),
    # Two layer norms, attention and a relu feed-forward: checked for derivatives only.
    Case("nn.TransformerEncoderLayer", _encoder,
         (_uniform(3, 2, 4),) + tuple(_uniform(*np.shape(p)) for p in
                                      ENCODER.parameters_dict().values()),
         label="post-norm, relu, eval"),
]


# ----- recurrent layers --------------------------------------------------------------------------
def _np_direction(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None, valid=None,
                  reverse=False):
    """One layer and direction from PyTorch's formulas: outputs (T, B, out), final h (and c).
    LSTM with a projection: h = W_hr (o tanh(c)). A padded step (valid False) keeps the state
    and outputs zeros."""
    steps, batch = x.shape[:2]
    hidden = w_hh.shape[0] // {"GRU": 3, "LSTM": 4}.get(mode, 1)
    out = np.zeros((steps, batch, h.shape[-1]))
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        gi, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        new_c = c
        if mode == "GRU":
            r = _sigmoid(gi[:, :hidden] + gh[:, :hidden])
            z = _sigmoid(gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            n = np.tanh(gi[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
            new_h = (1.0 - z) * n + z * h
        elif mode == "LSTM":
            gates = gi + gh
            i, f = _sigmoid(gates[:, :hidden]), _sigmoid(gates[:, hidden:2 * hidden])
            g, o = np.tanh(gates[:, 2 * hidden:3 * hidden]), _sigmoid(gates[:, 3 * hidden:])
            new_c = f * c + i * g
            new_h = o * np.tanh(new_c)
            if w_hr is not None:
                new_h = new_h @ w_hr.T
        elif mode == "RNN_RELU":
            new_h = np.maximum(gi + gh, 0.0)
        else:
            new_h = np.tanh(gi + gh)
        if valid is not None:
            keep = valid[t][:, None]
            new_h = np.where(keep, new_h, h)
            new_c = None if c is None else np.where(keep, new_c, c)
            out[t] = np.where(keep, new_h, 0.0)
        else:
            out[t] = new_h
        h, c = new_h, new_c
    return out, h, c


def _np_recurrent(mode, x, h0, c0, params, num_layers, directions, proj, valid=None):
    """A stack of layers, one or two directions each, parameters in PyTorch's order (w_ih,
    w_hh, b_ih, b_hh[, w_hr] per layer and direction), time-major x: output, h_n (, c_n)."""
    per = 5 if proj else 4
    hs, cs = [], []
    layer_input = x
    for layer in range(num_layers):
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            weights = params[per * k: per * k + per]
            out, h, c = _np_direction(mode, layer_input, h0[k], None if c0 is None else c0[k],
                                      *weights[:4], w_hr=weights[4] if proj else None,
                                      valid=valid, reverse=direction == 1)
            outs.append(out)
            hs.append(h)
            cs.append(c)
        layer_input = np.concatenate(outs, axis=-1)
    return [layer_input, np.stack(hs)] + ([np.stack(cs)] if c0 is not None else [])


def _recurrent_case(layer, mode, label="", lengths=None, mask=None, x=None, unbatched=False,
                    edge=False, **options):
    """A Case for `layer` called through functional_call on (x, h0[, c0], *parameters): its
    output, h_n (and c_n) joined, against the NumPy loop. x is time-major (T, B, in) here and
    transposed for a batch_first layer; `unbatched` drops the batch axis (B must be 1)."""
    lstm = mode == "LSTM"
    names = list(layer.parameters_dict())
    shapes = [np.shape(v) for v in layer.parameters_dict().values()]
    directions = 2 if layer.bidirectional else 1
    count = layer.num_layers * directions
    x = _uniform(3, 2, layer.input_size) if x is None else x
    batch = x.shape[1]
    sizes = (layer.proj_size or layer.hidden_size, layer.hidden_size)[:2 if lstm else 1]
    states = tuple(_uniform(count, batch, size, low=-0.8, high=0.8) for size in sizes)
    params = tuple(_uniform(*shape, low=-0.7, high=0.7) for shape in shapes)
    kwargs = {}
    valid = None
    if lengths is not None:
        kwargs["lengths"] = lengths
        valid = np.arange(x.shape[0])[:, None] < np.reshape(lengths, (1, -1))
    if mask is not None:
        kwargs["mask"] = mask
        valid = np.reshape(mask, (-1, x.shape[0])).T
    n_states = len(states)

    def layout(a, module):  # time-major arrays as the layer takes them
        if unbatched:
            return a[:, 0]
        return module.swapaxes(a, 0, 1) if layer.batch_first else a

    given_x = layout(x, np)
    given_states = tuple(s[:, 0] for s in states) if unbatched else states

    def function(x, *rest):
        state = rest[:n_states] if lstm else rest[0]
        given = dict(zip(names, rest[n_states:], strict=True))
        out, final = nn.functional_call(layer, given, (x, state), kwargs)
        return _joined(cnp, (out,) + (tuple(final) if lstm else (final,)))

    def reference(x, *rest):
        if unbatched:
            x, rest = x[:, None], tuple(r[:, None] for r in rest[:n_states]) + rest[n_states:]
        elif layer.batch_first:
            x = np.swapaxes(x, 0, 1)
        c0 = rest[1] if lstm else None
        out, *finals = _np_recurrent(mode, x, rest[0], c0, rest[n_states:], layer.num_layers,
                                     directions, bool(layer.proj_size), valid)
        if unbatched:
            out, finals = out[:, 0], [f[:, 0] for f in finals]
        elif layer.batch_first:
            out = np.swapaxes(out, 0, 1)
        return _joined(np, [out] + finals)

    name = {"GRU": "nn.GRU", "LSTM": "nn.LSTM"}.get(mode, "nn.RNN")
    return Case(name, function, (given_x,) + given_states + params, reference, label=label,
                edge=edge, **options)


def _cell_case(cell, mode, label=""):
    """A cell (one step) on (x, h[, c], *parameters) against one step of the NumPy loop."""
    lstm = mode == "LSTM"
    names = list(cell.parameters_dict())
    params = tuple(_uniform(*np.shape(v), low=-0.7, high=0.7)
                   for v in cell.parameters_dict().values())
    x = _uniform(2, cell.input_size)
    states = tuple(_uniform(2, cell.hidden_size) for _ in range(2 if lstm else 1))
    n_states = len(states)

    def function(x, *rest):
        state = rest[:n_states] if lstm else rest[0]
        out = nn.functional_call(cell, dict(zip(names, rest[n_states:], strict=True)),
                                 (x, state))
        return _joined(cnp, out) if lstm else out

    def reference(x, *rest):
        c = rest[1] if lstm else None
        _, h, c = _np_direction(mode, x[None], rest[0], c, *rest[n_states:])
        return np.concatenate([h.ravel(), c.ravel()]) if lstm else h

    name = {"GRU": "nn.GRUCell", "LSTM": "nn.LSTMCell"}.get(mode, "nn.RNNCell")
    return Case(name, function, (x,) + states + params, reference, label=label)


def _layer(kind, *args, **kwargs):
    return kind(*args, dtype=np.float64, rng=0, **kwargs)


RECURRENT_CASES = [
    # One layer, unidirectional, T=3, B=2, input 3, hidden 4: the NumPy backward pass (reverse
    # mode) and the composed loop (forward mode, vmap, second order) against the NumPy loop.
    _recurrent_case(_layer(nn.GRU, 3, 4), "GRU"),
    _recurrent_case(_layer(nn.LSTM, 3, 4), "LSTM"),
    _recurrent_case(_layer(nn.RNN, 3, 4), "RNN_TANH", label="tanh"),
    # Zero input (and the relu's pre-activations are then the biases plus W_hh h).
    _recurrent_case(_layer(nn.RNN, 3, 4, nonlinearity="relu"), "RNN_RELU",
                    label="relu, zero input", x=np.zeros((3, 2, 3)), edge=True),
    # Padding: a sequence of length 0 keeps its initial state and outputs zeros.
    _recurrent_case(_layer(nn.GRU, 3, 3), "GRU", label="lengths 0 and 2",
                    lengths=np.array([0, 2]), edge=True),
    _recurrent_case(_layer(nn.GRU, 2, 3, bidirectional=True), "GRU",
                    label="bidirectional, lengths 3 and 1", lengths=np.array([3, 1]),
                    edge=True),
    _recurrent_case(_layer(nn.LSTM, 2, 3), "LSTM", label="mask not a prefix",
                    mask=np.array([[True, False, True], [False, True, True]]), edge=True),
    _recurrent_case(_layer(nn.RNN, 2, 3, bidirectional=True), "RNN_TANH",
                    label="tanh, bidirectional"),
    _recurrent_case(_layer(nn.LSTM, 1, 3), "LSTM", label="one step, batch 1, input size 1",
                    x=_uniform(1, 1, 1), edge=True),
    _recurrent_case(_layer(nn.LSTM, 2, 3, proj_size=2), "LSTM", label="proj_size"),
    _recurrent_case(_layer(nn.LSTM, 2, 3, num_layers=2, batch_first=True, proj_size=1),
                    "LSTM", label="2 layers, batch_first, proj_size 1, lengths 2 and 3",
                    lengths=np.array([2, 3]), edge=True),
    _recurrent_case(_layer(nn.GRU, 2, 3, num_layers=2), "GRU", label="2 layers"),
    _recurrent_case(_layer(nn.GRU, 3, 3), "GRU", label="unbatched (T, input), length 2",
                    x=_uniform(3, 1, 3), unbatched=True, lengths=np.array(2), edge=True),
    _cell_case(_layer(nn.GRUCell, 3, 4), "GRU"),
    _cell_case(_layer(nn.LSTMCell, 3, 4), "LSTM"),
    _cell_case(_layer(nn.RNNCell, 3, 4), "RNN_TANH"),
]


CASES = LOSS_CASES + ACTIVATION_CASES + NORM_CASES + CONV_CASES + ATTENTION_CASES \
    + RECURRENT_CASES

# Cases that fail because of a bug in chainrule, kept out of CASES with a comment each. None
# so far: every case above passes values, both modes, second order and vmap.
KNOWN_FAILURES = []
