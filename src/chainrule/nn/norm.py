"""Normalisation layers: BatchNorm1d/2d (running statistics, train/eval) and LayerNorm."""

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.batching import batch_levels
from chainrule.errors import BatchingError
from chainrule.nn import functional as F
from chainrule.nn.module import Module, check_input_shape
from chainrule.nn.parameter import Parameter
from chainrule.transforms import stop_gradient

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _constant(value) -> np.ndarray:
    """The plain value of a batch statistic (traced or on the tape) as a NumPy array."""
    return np.asarray(stop_gradient(value))


class _BatchNorm(Module):
    """Normalise each channel (axis 1) by batch statistics while training and by running
    averages in eval mode; `momentum` weighs the newest batch in the running averages.

    Under `cr.vmap` only eval mode works: in training mode each call would see one example,
    whose statistics are not the batch's, so the layer raises BatchingError (as torch.func)."""

    _ndims: tuple = ()
    _expected = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, dtype=np.float32):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.weight = Parameter(np.ones(num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if affine else None
        self.register_buffer("running_mean", np.zeros(num_features, dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64))

    def forward(self, x):
        if self.training and batch_levels(x):
            raise BatchingError(
                f"{self!r} in training mode under cr.vmap: it normalises by statistics over "
                "the batch, but inside vmap each call sees one example, so those would be one "
                "example's statistics (and the running averages would mix them up). Call "
                "model.eval() to normalise by the running statistics, or run the layer on the "
                "whole batch outside vmap (per-example gradients and batch statistics do not "
                "mix: LayerNorm normalises each example on its own)."
            )
        shape = cnp.shape(x)
        check_input_shape(self, x, len(shape) in self._ndims and shape[1] == self.num_features,
                          self._expected.format(C=self.num_features))
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                self.eps)
        axes = (0,) + tuple(range(2, len(shape)))
        mean = cnp.mean(x, axis=axes)
        centred = x - cnp.reshape(mean, (1, -1) + (1,) * (len(shape) - 2))
        var = cnp.mean(centred * centred, axis=axes)
        count = int(np.prod(shape)) // shape[1]
        # The running averages are statistics, not part of the model's function: they take
        # the batch statistics' values, cut from the graph (as in PyTorch).
        self._update_running_stats(_constant(mean), _constant(var), count)
        return F.batch_norm(x, mean, var, self.weight, self.bias, self.eps)

    def _update_running_stats(self, mean, var, count):
        # Running variance uses the unbiased estimate, normalisation the biased one (as PyTorch).
        unbiased = var * (count / max(count - 1, 1))
        m = self.momentum
        dtype = self.running_mean.dtype
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(dtype)
        self.running_var = ((1 - m) * self.running_var + m * unbiased).astype(dtype)
        self.num_batches_tracked = self.num_batches_tracked + 1

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""

    _ndims = (2, 3)
    _expected = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs."""

    _ndims = (4,)
    _expected = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its trailing `normalized_shape` dimensions."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 dtype=np.float32):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = float(eps)
        affine = elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) if affine else None

    def forward(self, x):
        shape = cnp.shape(x)
        n = len(self.normalized_shape)
        check_input_shape(self, x, tuple(shape[len(shape) - n:]) == self.normalized_shape,
                          f"(..., {', '.join(map(str, self.normalized_shape))})")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"
