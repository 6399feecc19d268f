"""`chainrule.nn.losses`: loss functions and their modules.

Everything here is composed from `chainrule.numpy`, so it works on Tensors, inside functional
transforms and to any order. Integer targets are computed on plain NumPy values, or under
`cr.vmap` on batched ones (each example has its own labels). `chainrule.nn.functional`
re-exports the functions under the same names.
"""

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.batching import batch_levels
from chainrule.core.dtypes import dtype_of
from chainrule.core.trace import physical_value
from chainrule.errors import DTypeError, ShapeError

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits", "one_hot",
]


def _reduce(losses, reduction, what):
    if reduction == "mean":
        return cnp.mean(losses)
    if reduction == "sum":
        return cnp.sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"{what}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _class_targets(target, n_samples, n_classes, what):
    """Integer class labels checked against the scores' shape: a plain int array, or under
    `cr.vmap` a batched value (each example has its own labels)."""
    labels = _integer_indices(target)
    dtype, shape = dtype_of(labels), tuple(cnp.shape(labels))
    if dtype.kind not in "iu":
        raise DTypeError(
            f"{what}: targets must be integer class indices, got dtype {dtype}; "
            "convert with labels.astype(np.int64)"
        )
    if shape != (n_samples,):
        raise ShapeError(
            f"{what}: scores of shape ({n_samples}, {n_classes}) need targets of shape "
            f"({n_samples},), got {shape}"
        )
    _check_range(labels, n_classes, f"{what}: target classes")
    return labels


def _integer_indices(indices):
    """Labels or indices as a plain array, or as they are when batched by `cr.vmap`."""
    return indices if batch_levels(indices) else np.asarray(indices)


def _check_range(indices, bound, what):
    every = physical_value(indices)  # every example's entries: each must lie in range
    if every.size and (every.min() < 0 or every.max() >= bound):
        raise ValueError(
            f"{what} must lie in [0, {bound}), got values from {every.min()} to {every.max()}"
        )


def one_hot(labels, n_classes: int, dtype=np.float64) -> np.ndarray:
    """A plain (n, n_classes) array with a 1 at each label."""
    labels = np.asarray(labels)
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def nll_loss(log_probs, target, reduction: str = "mean"):
    """Negative log-likelihood of integer `target` under `log_probs` of shape (N, C)."""
    shape = cnp.shape(log_probs)
    if len(shape) != 2:
        raise ShapeError(f"nll_loss expects log-probabilities of shape (N, C), got {shape}")
    labels = _class_targets(target, shape[0], shape[1], "nll_loss")
    dtype = cnp.asarray(log_probs).dtype
    if batch_levels(labels):  # one-hot by comparison, so each example compares its own labels
        encoded = (cnp.reshape(labels, (shape[0], 1)) == np.arange(shape[1])).astype(dtype)
    else:
        encoded = one_hot(labels, shape[1], dtype)
    # A one-hot product rather than fancy indexing: its derivative is a multiply, not a scatter.
    picked = cnp.sum(log_probs * encoded, axis=1)
    return _reduce(-picked, reduction, "nll_loss")


def cross_entropy(logits, target, reduction: str = "mean"):
    """Softmax cross-entropy of (N, C) scores against integer classes, via a stable log-softmax."""
    if len(cnp.shape(logits)) != 2:
        raise ShapeError(
            f"cross_entropy expects logits of shape (N, C), got {cnp.shape(logits)}; "
            "flatten extra dimensions first"
        )
    return nll_loss(cnp.log_softmax(logits, axis=1), target, reduction)


def mse_loss(prediction, target, reduction: str = "mean"):
    """Mean squared error; prediction and target must have the same shape. For complex values
    it is the mean of |prediction - target|^2 (PyTorch's complex MSE), a real loss."""
    if cnp.shape(prediction) != cnp.shape(target):
        raise ShapeError(
            f"mse_loss: prediction shape {cnp.shape(prediction)} differs from target shape "
            f"{cnp.shape(target)}; reshape one so they match (no silent broadcasting)"
        )
    difference = prediction - target
    if np.iscomplexobj(difference):
        squares = cnp.real(difference) ** 2 + cnp.imag(difference) ** 2
    else:
        squares = difference * difference
    return _reduce(squares, reduction, "mse_loss")


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean"):
    """-[t log s(x) + (1-t) log(1-s(x))] = softplus(x) - t x, stable for any logit x."""
    if cnp.shape(logits) != cnp.shape(target):
        raise ShapeError(
            f"binary_cross_entropy_with_logits: logits shape {cnp.shape(logits)} differs from "
            f"target shape {cnp.shape(target)}"
        )
    return _reduce(cnp.softplus(logits) - target * logits, reduction,
                   "binary_cross_entropy_with_logits")
