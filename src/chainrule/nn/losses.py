"""`chainrule.nn.losses`: loss functions and their modules, with PyTorch's names and formulas.

Everything here is composed from `chainrule.numpy`, so it works on Tensors, inside functional
transforms and to any order. Integer targets are computed on plain NumPy values, or under
`cr.vmap` on batched ones (each example has its own labels). `chainrule.nn.functional`
re-exports the functions under the same names; the modules (`nn.CrossEntropyLoss`, ...) are
exported by `chainrule.nn`.

Every function takes PyTorch's arguments and follows its formulas, reductions included:

* `reduction="mean"` of a loss with class weights divides by the sum of the weights of the
  targets counted (not by their number); ignored targets (`ignore_index`) count for nothing, so
  a batch whose targets are all ignored has a NaN mean, as in PyTorch.
* Class scores are laid out as PyTorch's: (C,), (N, C) or (N, C, d1, ..., dk) with the classes
  on axis 1; class targets have the shape without that axis.
* Weights (`weight`, `pos_weight`) are constants: they are converted to the input's dtype and
  are not differentiated.
"""

import warnings

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.batching import batch_levels
from chainrule.core.dtypes import dtype_of
from chainrule.core.namespace import is_foreign, namespace_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.trace import physical_value
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn.module import Module
from chainrule.ops import nn as _nn_ops

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
    "one_hot",
    "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "L1Loss",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


# ----- helpers -----------------------------------------------------------------------------------
def _check_reduction(reduction, what, allowed=_REDUCTIONS):
    if reduction not in allowed:
        names = ", ".join(repr(name) for name in allowed)
        raise ValueError(f"{what}: reduction must be one of {names}, got {reduction!r}")


def _reduce(losses, reduction, what):
    if reduction == "mean":
        return cnp.mean(losses)
    if reduction == "sum":
        return cnp.sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"{what}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _float_dtype(value):
    dtype = np.dtype(dtype_of(_as_value(value)))
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _constant(value, dtype, shape, what):
    """A weight as a plain array of `dtype` (never differentiated), checked against `shape`."""
    if batch_levels(value):
        raise ShapeError(f"{what} must be the same for every example; it is batched by vmap")
    array = np.asarray(physical_value(value), dtype=dtype)
    if shape is not None and array.shape != tuple(shape):
        raise ShapeError(f"{what} must have shape {tuple(shape)}, got {array.shape}")
    return array


def _as_value(value):
    """A Tensor (or traced value) or a Dask/CuPy array as it is; anything else (lists,
    numbers) as a NumPy array."""
    return value if type(value) in TRACED_TYPES or is_foreign(value) else np.asarray(value)


def _plain_target(target, input):  # noqa: A002 - PyTorch's name
    """A target given as plain data (a NumPy array, a list) in the input's real floating dtype,
    so that float32 scores keep a float32 loss; a Tensor target is left as it is."""
    if type(target) in TRACED_TYPES:
        return target
    target = np.asarray(target)
    dtype = np.dtype(dtype_of(_as_value(input)))
    if target.dtype.kind in "fiub" and dtype.kind == "f" and target.dtype != dtype:
        target = target.astype(dtype)
    return target


def _check_same_shape(prediction, target, what, first="input"):
    if tuple(cnp.shape(prediction)) != tuple(cnp.shape(target)):
        raise ShapeError(
            f"{what}: {first} shape {tuple(cnp.shape(prediction))} differs from target shape "
            f"{tuple(cnp.shape(target))}; reshape one so they match (no silent broadcasting)"
        )


def _integer_indices(indices):
    """Labels or indices as a plain array, or as they are when batched by `cr.vmap`."""
    return indices if batch_levels(indices) or is_foreign(indices) else np.asarray(indices)


def _check_range(indices, bound, what, ignore_index=None):
    if is_foreign(indices):
        return  # a Dask array is not computed to check it: _selection makes bad rows NaN
    every = physical_value(indices)  # every example's entries: each must lie in range
    if ignore_index is not None:
        every = np.asarray(every)[np.asarray(every) != ignore_index]
    if every.size and (every.min() < 0 or every.max() >= bound):
        also = "" if ignore_index is None else f" (or equal ignore_index={ignore_index})"
        raise ValueError(
            f"{what} must lie in [0, {bound}){also}, got values from {every.min()} to "
            f"{every.max()}"
        )


def one_hot(labels, n_classes: int, dtype=np.float64) -> np.ndarray:
    """A plain (n, n_classes) array with a 1 at each label."""
    labels = np.asarray(labels)
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def _class_rows(scores, what):
    """PyTorch's layouts (C,), (N, C), (N, C, d1, ..., dk) as a (rows, C) matrix with the
    classes last, and the shape of the targets (and of an unreduced loss)."""
    shape = tuple(cnp.shape(scores))
    if len(shape) == 0:
        raise ShapeError(f"{what} expects scores of shape (C,), (N, C) or (N, C, d1, ...), got ()")
    if len(shape) == 1:
        return cnp.reshape(scores, (1, shape[0])), (), shape[0]
    if len(shape) == 2:
        return scores, shape[:1], shape[1]
    moved = cnp.moveaxis(scores, 1, -1)
    return cnp.reshape(moved, (-1, shape[1])), (shape[0],) + shape[2:], shape[1]


def _unrows(values, outer_shape):
    """A per-row result back in the targets' shape (reduction="none")."""
    if len(outer_shape) == 1:
        return values
    return cnp.reshape(values, outer_shape)


def _class_targets(target, scores_shape, outer_shape, n_classes, what, ignore_index=None):
    """Integer class labels checked against the scores' shape, as a flat (rows,) array: a plain
    int array, or under `cr.vmap` a batched value (each example has its own labels)."""
    labels = _integer_indices(target)
    dtype, shape = dtype_of(labels), tuple(cnp.shape(labels))
    if dtype.kind not in "iu":
        probabilities = (
            f", or class probabilities of the scores' shape {tuple(scores_shape)}"
            if what.startswith("cross_entropy") else ""
        )
        raise DTypeError(
            f"{what}: targets must be integer class indices{probabilities}, got dtype {dtype} "
            f"and shape {shape}; convert labels with labels.astype(np.int64)"
        )
    if shape != tuple(outer_shape):
        raise ShapeError(
            f"{what}: scores of shape {tuple(scores_shape)} need targets of shape "
            f"{tuple(outer_shape)}, got {shape}"
        )
    _check_range(labels, n_classes, f"{what}: target classes", ignore_index)
    if len(outer_shape) != 1:
        labels = cnp.reshape(labels, (-1,)) if batch_levels(labels) else labels.reshape(-1)
    return labels


def _selection(labels, n_classes, dtype, ignore_index):
    """The (rows, C) matrix with a 1 at each counted target's class (rows of ignored targets
    are zero), and whether any target is ignored (None when that is known only per example)."""
    if is_foreign(labels):
        # Dask labels, compared lazily (never computed here). A label out of range would
        # match no class and silently count as zero: its row is NaN instead, so the loss is.
        xp = namespace_of(labels)
        column = xp.reshape(labels, (-1, 1))
        encoded = xp.astype(column == xp.arange(n_classes), dtype)
        counted = (column != ignore_index) if 0 <= ignore_index < n_classes else None
        if counted is not None:
            encoded = encoded * xp.astype(counted, dtype)
        valid = ((column >= 0) & (column < n_classes)) | (column == ignore_index)
        return xp.where(valid, encoded, xp.asarray(np.nan, dtype=dtype)), None
    if batch_levels(labels):  # one-hot by comparison, so each example compares its own labels
        column = cnp.reshape(labels, (-1, 1))
        encoded = (column == np.arange(n_classes)).astype(dtype)
        if 0 <= ignore_index < n_classes:  # (an ignore_index outside matches no class anyway)
            encoded = encoded * (column != ignore_index).astype(dtype)
        return encoded, None
    ignored = labels == ignore_index
    if not ignored.any():
        return one_hot(labels, n_classes, dtype), False
    encoded = one_hot(np.where(ignored, 0, labels), n_classes, dtype)
    encoded[ignored] = 0
    return encoded, True


def _weighted_mean(total, weights_sum):
    """`total / weights_sum`, NaN (no warning) when nothing was counted, as PyTorch."""
    if batch_levels(weights_sum) == 0 and not is_foreign(physical_value(weights_sum)):
        return total * np.nan if float(weights_sum) == 0.0 else total / weights_sum
    # Per example under vmap: a NaN divisor where nothing was counted (0 / 0 would warn).
    return total / cnp.where(weights_sum == 0, np.nan, weights_sum)


def _nll_rows(log_probs, labels, n_classes, weight, ignore_index, reduction, outer_shape,
              scores=None):
    """PyTorch's nll_loss of (rows, C) log-probabilities: -w[y] log p[y] per counted row;
    "mean" divides by the sum of w[y] over the counted rows. Also returns the (rows, C)
    selection of counted targets and its weighted form.

    The sign, the weights and the mean's divisor all go into one constant matrix, so the loss
    is a single product and a sum (two primitives after the log-softmax; a one-hot product
    rather than fancy indexing, whose derivative is a multiply, not a scatter). Given the
    `scores` instead of `log_probs` (cross_entropy's common case, reduced), the log-softmax,
    product and sum are one fused row, softmax_cross_entropy (ops/nn.py)."""
    dtype = _float_dtype(log_probs if scores is None else scores)
    selection, any_ignored = _selection(labels, n_classes, dtype, ignore_index)
    weighted = selection if weight is None else selection * weight
    if scores is None:
        def total(matrix):  # sum(-matrix * log_probs)
            return cnp.sum(log_probs * -matrix)
    else:
        def total(matrix):
            return _nn_ops.softmax_cross_entropy(scores, matrix)
    if reduction == "none":
        return _unrows(cnp.sum(log_probs * -weighted, axis=1), outer_shape), selection, weighted
    if reduction == "sum":
        return total(weighted), selection, weighted
    if any_ignored is None:  # labels batched by vmap or lazy: the divisor is computed too
        return _weighted_mean(total(weighted), cnp.sum(weighted)), selection, weighted
    divisor = len(selection) if weight is None and not any_ignored else float(weighted.sum())
    if divisor == 0:  # nothing counted: NaN, as PyTorch (0 / 0 without the warning)
        return total(weighted) * np.nan, selection, weighted
    return total(weighted * dtype.type(1.0 / divisor)), selection, weighted


# ----- classification ----------------------------------------------------------------------------
def nll_loss(input, target, weight=None, ignore_index: int = -100,  # noqa: A002 - PyTorch's name
             reduction: str = "mean"):
    """Negative log-likelihood of integer `target` under log-probabilities `input` of shape
    (C,), (N, C) or (N, C, d1, ...): l_n = -weight[y_n] input[n, y_n], zero where y_n equals
    `ignore_index`; "mean" divides the sum by the sum of weight[y_n] over the counted targets."""
    _check_reduction(reduction, "nll_loss")
    input = _as_value(input)
    rows, outer_shape, n_classes = _class_rows(input, "nll_loss")
    labels = _class_targets(target, cnp.shape(input), outer_shape, n_classes, "nll_loss",
                            ignore_index)
    if weight is not None:
        weight = _constant(weight, _float_dtype(input), (n_classes,), "nll_loss: weight")
    loss, _, _ = _nll_rows(rows, labels, n_classes, weight, int(ignore_index), reduction,
                           outer_shape)
    return loss


def cross_entropy(input, target, weight=None, ignore_index: int = -100,  # noqa: A002
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Softmax cross-entropy of scores `input` ((C,), (N, C) or (N, C, d1, ...), classes on
    axis 1) against integer classes or class probabilities (a float target of the scores'
    shape), as PyTorch's `F.cross_entropy`, computed from a fused, stable log-softmax.

    Class targets: (1 - e) nll(w) + (e / C) sum_c -w_c log p_c per counted target, e the
    `label_smoothing`; "mean" divides both sums by the sum of w[y] over counted targets.
    Probability targets t: -sum_c w_c t'_c log p_c with t' = (1 - e) t + e / C; "mean" divides
    by the number of rows (N d1 ... dk), whatever the weights.
    """
    _check_reduction(reduction, "cross_entropy")
    label_smoothing = float(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                         f"{label_smoothing}")
    input, target = _as_value(input), _as_value(target)
    scores_shape = tuple(cnp.shape(input))
    rows, outer_shape, n_classes = _class_rows(input, "cross_entropy")
    dtype = _float_dtype(input)
    if weight is not None:
        weight = _constant(weight, dtype, (n_classes,), "cross_entropy: weight")
    if dtype_of(target).kind in "fc" and tuple(cnp.shape(target)) == scores_shape:
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported with class "
                             "probability targets (as in PyTorch); give a zero row instead")
        return _soft_cross_entropy(cnp.log_softmax(rows, axis=1), _plain_target(target, input),
                                   weight, reduction, label_smoothing, outer_shape, n_classes)
    labels = _class_targets(target, scores_shape, outer_shape, n_classes, "cross_entropy",
                            ignore_index)
    if label_smoothing == 0.0 and reduction != "none" and not is_foreign(rows):
        # The common case as one fused row: one node where log-softmax, product and sum were
        # three (and a cheaper backward: d/dscores = softmax * w - w needs no log-softmax rule).
        return _nll_rows(None, labels, n_classes, weight, int(ignore_index), reduction,
                         outer_shape, scores=rows)[0]
    log_probs = cnp.log_softmax(rows, axis=1)
    nll, selection, weighted = _nll_rows(log_probs, labels, n_classes, weight,
                                         int(ignore_index), reduction, outer_shape)
    if label_smoothing == 0.0:
        return nll
    counted = cnp.sum(selection, axis=1)  # 1 for a counted target, 0 for an ignored one
    everything = log_probs if weight is None else log_probs * weight
    smooth = -cnp.sum(everything, axis=1) * counted
    if reduction == "none":
        smooth = _unrows(smooth, outer_shape)
    elif reduction == "sum":
        smooth = cnp.sum(smooth)
    else:
        smooth = _weighted_mean(cnp.sum(smooth), cnp.sum(weighted))
    return (1.0 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)


def _soft_cross_entropy(log_probs, target, weight, reduction, label_smoothing, outer_shape,
                        n_classes):
    rows, _, _ = _class_rows(target, "cross_entropy")
    if label_smoothing > 0.0:
        rows = rows * (1.0 - label_smoothing) + label_smoothing / n_classes
    products = log_probs * rows
    if weight is not None:
        products = products * weight
    per_row = -cnp.sum(products, axis=1)
    if reduction == "none":
        return _unrows(per_row, outer_shape)
    if reduction == "sum":
        return cnp.sum(per_row)
    return cnp.mean(per_row)


def _clamped_log(x):
    """log(x) clamped to >= -100 as PyTorch's binary_cross_entropy does; where it is clamped
    (x <= e^-100, 0 included) the gradient is zero, never NaN."""
    floor = float(np.exp(-100.0))
    above = x > floor
    return cnp.where(above, cnp.log(cnp.where(above, x, 1.0)), -100.0)


def binary_cross_entropy(input, target, weight=None,  # noqa: A002 - PyTorch's name
                         reduction: str = "mean"):
    """-w [t log x + (1 - t) log(1 - x)] for probabilities x in [0, 1], each log clamped to
    >= -100 (so x = 0 or 1 gives a finite loss), as PyTorch's `F.binary_cross_entropy`.
    Prefer `binary_cross_entropy_with_logits` on scores: it is stable for any score."""
    _check_reduction(reduction, "binary_cross_entropy")
    target = _plain_target(target, input)
    _check_same_shape(input, target, "binary_cross_entropy")
    values = np.asarray(physical_value(input))
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise ValueError(
            "binary_cross_entropy: every input must be a probability in [0, 1], got values "
            f"from {values.min()} to {values.max()}; pass scores to "
            "binary_cross_entropy_with_logits instead"
        )
    dtype = _float_dtype(input)
    losses = (target - 1.0) * _clamped_log(1.0 - input) - target * _clamped_log(input)
    if weight is not None:
        losses = losses * _constant(weight, dtype, None, "binary_cross_entropy: weight")
    return _reduce(losses, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None,  # noqa: A002
                                     reduction: str = "mean", pos_weight=None):
    """-w [p t log s(x) + (1 - t) log(1 - s(x))] = w [(1 - t) x + (1 + (p - 1) t) softplus(-x)],
    stable for any score x (p: `pos_weight`, broadcast along the last axis, the classes; w:
    `weight`, broadcast against the loss). Without pos_weight: softplus(x) - t x."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = _plain_target(target, input)
    _check_same_shape(input, target, "binary_cross_entropy_with_logits", first="logits")
    dtype = _float_dtype(input)
    if pos_weight is None:
        losses = cnp.softplus(input) - target * input
    else:
        pos_weight = _constant(pos_weight, dtype, None,
                               "binary_cross_entropy_with_logits: pos_weight")
        log_weight = (pos_weight - 1.0) * target + 1.0
        losses = (1.0 - target) * input + log_weight * cnp.softplus(-input)
    if weight is not None:
        losses = losses * _constant(weight, dtype, None,
                                    "binary_cross_entropy_with_logits: weight")
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


# ----- regression --------------------------------------------------------------------------------
def mse_loss(input, target, reduction: str = "mean"):  # noqa: A002 - PyTorch's name
    """Mean squared error; input and target must have the same shape. For complex values
    it is the mean of |input - target|^2 (PyTorch's complex MSE), a real loss."""
    target = _plain_target(target, input)
    _check_same_shape(input, target, "mse_loss", first="prediction")
    difference = input - target
    if np.iscomplexobj(difference):
        squares = cnp.real(difference) ** 2 + cnp.imag(difference) ** 2
    else:
        squares = difference * difference
    return _reduce(squares, reduction, "mse_loss")


def l1_loss(input, target, reduction: str = "mean"):  # noqa: A002 - PyTorch's name
    """|input - target| (its gradient at 0 is 0, as PyTorch's)."""
    _check_reduction(reduction, "l1_loss")
    target = _plain_target(target, input)
    _check_same_shape(input, target, "l1_loss")
    return _reduce(cnp.abs(input - target), reduction, "l1_loss")


def smooth_l1_loss(input, target, reduction: str = "mean",  # noqa: A002 - PyTorch's name
                   beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target); beta = 0
    is the L1 loss."""
    _check_reduction(reduction, "smooth_l1_loss")
    target = _plain_target(target, input)
    _check_same_shape(input, target, "smooth_l1_loss")
    beta = float(beta)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    difference = input - target
    size = cnp.abs(difference)
    if beta == 0.0:
        return _reduce(size, reduction, "smooth_l1_loss")
    losses = cnp.where(size < beta, 0.5 * difference * difference / beta, size - 0.5 * beta)
    return _reduce(losses, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction: str = "mean",  # noqa: A002 - PyTorch's name
               delta: float = 1.0):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (d = input - target):
    smooth_l1_loss(beta=delta) times delta."""
    _check_reduction(reduction, "huber_loss")
    target = _plain_target(target, input)
    _check_same_shape(input, target, "huber_loss")
    delta = float(delta)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    difference = input - target
    size = cnp.abs(difference)
    losses = cnp.where(size < delta, 0.5 * difference * difference,
                       delta * (size - 0.5 * delta))
    return _reduce(losses, reduction, "huber_loss")


def _xlogx(t):
    """t log t with 0 log 0 = 0 (and a zero gradient there)."""
    zero = t == 0
    return cnp.where(zero, 0.0, t * cnp.log(cnp.where(zero, 1.0, t)))


def kl_div(input, target, reduction: str = "mean",  # noqa: A002 - PyTorch's name
           log_target: bool = False):
    """Kullback-Leibler divergence with `input` the log-probabilities of the model, as PyTorch:
    pointwise t (log t - input) (0 where t = 0), or e^t (t - input) with `log_target=True`.
    "batchmean" divides the sum by the batch size input.shape[0] (the true KL divergence per
    example); "mean" divides by the number of entries, as PyTorch's does."""
    _check_reduction(reduction, "kl_div", _REDUCTIONS + ("batchmean",))
    target = _plain_target(target, input)
    _check_same_shape(input, target, "kl_div")
    if log_target:
        losses = cnp.exp(target) * (target - input)
    else:
        losses = _xlogx(target) - target * input
    if reduction == "batchmean":
        shape = tuple(cnp.shape(input))
        total = cnp.sum(losses)
        return total / shape[0] if shape else total
    return _reduce(losses, reduction, "kl_div")


# ----- modules -----------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, reduction, name):
    """PyTorch's deprecated size_average/reduce arguments, mapped as PyTorch maps them."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    mapped = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(
        f"{name}: size_average and reduce are deprecated (as in PyTorch); use "
        f"reduction={mapped!r} instead", DeprecationWarning, stacklevel=3,
    )
    return mapped


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        reduction = _legacy_reduction(size_average, reduce, reduction, type(self).__name__)
        allowed = _REDUCTIONS + (("batchmean",) if isinstance(self, KLDivLoss) else ())
        _check_reduction(reduction, type(self).__name__, allowed)
        self.reduction = reduction

    def _weight_buffer(self, name, value):
        # As PyTorch, a given weight is a buffer (in the state dict); None stays an attribute.
        if value is None:
            object.__setattr__(self, name, None)
        else:
            self.register_buffer(name, np.asarray(physical_value(value)))

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """`mse_loss` as a module: MSELoss(reduction="mean")(input, target).

    Returns:
        `loss(input, target)` computes `mse_loss`,
        giving a scalar Tensor for reduction "mean" or
        "sum", the elementwise losses for "none".
    """

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """`l1_loss` as a module.

    Returns:
        `loss(input, target)` computes `l1_loss`,
        giving a scalar Tensor, or the elementwise
        losses for reduction "none".
    """

    def forward(self, input, target):  # noqa: A002
        return l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """`nll_loss` as a module: NLLLoss(weight=None, ignore_index=-100, reduction="mean").

    Returns:
        `loss(input, target)` computes `nll_loss`,
        giving a scalar Tensor for reduction "mean" or
        "sum", one loss per example for "none".
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):  # noqa: A002
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """`cross_entropy` as a module: CrossEntropyLoss(weight=None, ignore_index=-100,
    reduction="mean", label_smoothing=0.0), on integer classes or class probabilities.

    Returns:
        `loss(input, target)` computes `cross_entropy`,
        giving a scalar Tensor for reduction
        "mean" or "sum", one loss per example for "none".
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)
        if not 0.0 <= self.label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got "
                             f"{label_smoothing}")

    def forward(self, input, target):  # noqa: A002
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        parts = [super().extra_repr()]
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(part for part in parts if part)


class BCELoss(_Loss):
    """`binary_cross_entropy` (on probabilities) as a module: BCELoss(weight=None,
    reduction="mean").

    Returns:
        `loss(input, target)` computes `binary_cross_entropy`,
        giving a scalar Tensor, or the
        elementwise losses for reduction "none".
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """`binary_cross_entropy_with_logits` as a module: BCEWithLogitsLoss(weight=None,
    reduction="mean", pos_weight=None).

    Returns:
        `loss(input, target)` computes `binary_cross_entropy_with_logits`,
        giving a scalar Tensor,
        or the elementwise losses for reduction "none".
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self._weight_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class SmoothL1Loss(_Loss):
    """`smooth_l1_loss` as a module: SmoothL1Loss(reduction="mean", beta=1.0).

    Returns:
        `loss(input, target)` computes `smooth_l1_loss`,
        giving a scalar Tensor, or the
        elementwise losses for reduction "none".
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = float(beta)

    def forward(self, input, target):  # noqa: A002
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self):
        return ", ".join(part for part in (super().extra_repr(), f"beta={self.beta}") if part)


class HuberLoss(_Loss):
    """`huber_loss` as a module: HuberLoss(reduction="mean", delta=1.0).

    Returns:
        `loss(input, target)` computes `huber_loss`,
        giving a scalar Tensor, or the elementwise
        losses for reduction "none".
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(None, None, reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta}")
        self.delta = float(delta)

    def forward(self, input, target):  # noqa: A002
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def extra_repr(self):
        return ", ".join(part for part in (super().extra_repr(), f"delta={self.delta}") if part)


class KLDivLoss(_Loss):
    """`kl_div` as a module: KLDivLoss(reduction="mean", log_target=False); input holds
    log-probabilities. Use reduction="batchmean" for the KL divergence per example.

    Returns:
        `loss(input, target)` computes `kl_div`,
        giving a scalar Tensor, or the elementwise
        losses for reduction "none".
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = bool(log_target)

    def forward(self, input, target):  # noqa: A002
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
