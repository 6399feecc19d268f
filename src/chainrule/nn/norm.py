"""Normalisation layers: BatchNorm1d/2d (running statistics, train/eval), LayerNorm and
GroupNorm, with PyTorch's arguments, parameter and buffer names (`weight`, `bias`,
`running_mean`, `running_var`, `num_batches_tracked`)."""

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.batching import batch_levels
from chainrule.errors import BatchingError
from chainrule.nn import functional as F
from chainrule.nn.module import Module, _check_device, check_input_dtype, check_input_shape
from chainrule.nn.parameter import Parameter
from chainrule.transforms import stop_gradient

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"]


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

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: "float | None" = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.num_features, self.eps = int(num_features), float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if affine and bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x):
        if (self.training or self.running_mean is None) and batch_levels(x):
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
        check_input_dtype(self, x)
        if not self.training and self.running_mean is not None:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                self.eps)
        axes = (0,) + tuple(range(2, len(shape)))
        mean = cnp.mean(x, axis=axes)
        centred = x - cnp.reshape(mean, (1, -1) + (1,) * (len(shape) - 2))
        var = cnp.mean(centred * centred, axis=axes)
        count = int(np.prod(shape)) // shape[1]
        # The running averages are statistics, not part of the model's function: they take
        # the batch statistics' values, cut from the graph (as in PyTorch).
        if self.training and self.running_mean is not None:
            self._update_running_stats(_constant(mean), _constant(var), count)
        return F.batch_norm(x, mean, var, self.weight, self.bias, self.eps)

    def _update_running_stats(self, mean, var, count):
        # Running variance uses the unbiased estimate, normalisation the biased one (as PyTorch).
        # Reassigning keeps them buffers (Module.__setattr__); momentum None is PyTorch's
        # cumulative average, 1 / (batches seen).
        unbiased = var * (count / max(count - 1, 1))
        self.num_batches_tracked = np.asarray(self.num_batches_tracked + 1, np.int64)
        m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        dtype = self.running_mean.dtype
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(dtype)
        self.running_var = ((1 - m) * self.running_var + m * unbiased).astype(dtype)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs.

    Returns:
        `layer(x)` gives a Tensor of x's shape, normalised per channel (batch statistics
        while training, running statistics in eval mode).

    Raises:
        ShapeError: when x is not (N, C) or (N, C, L) with num_features channels.
    """

    _ndims = (2, 3)
    _expected = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs.

    Returns:
        `layer(x)` gives a Tensor of x's shape, normalised per channel (batch statistics
        while training, running statistics in eval mode).

    Raises:
        ShapeError: when x is not (N, C, H, W) with num_features channels.
    """

    _ndims = (4,)
    _expected = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its trailing `normalized_shape` dimensions; weight and bias
    have shape `normalized_shape`.

    Returns:
        `layer(x)` gives a Tensor of x's shape.

    Raises:
        ShapeError: when x's trailing axes are not normalized_shape.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = float(eps)
        self.elementwise_affine = affine = bool(elementwise_affine)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) if affine and bias else None

    def forward(self, x):
        shape = cnp.shape(x)
        n = len(self.normalized_shape)
        check_input_shape(self, x, tuple(shape[len(shape) - n:]) == self.normalized_shape,
                          f"(..., {', '.join(map(str, self.normalized_shape))})")
        check_input_dtype(self, x)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise each sample of (N, C, ...) over groups of C / num_groups channels (and all
    positions), then scale and shift per channel: weight and bias have shape (C,).

    Returns:
        `layer(x)` gives a Tensor of x's shape.

    Raises:
        ShapeError: when x's channel axis is not num_channels.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        if self.num_groups < 1 or self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide num_channels "
                             f"({num_channels})")
        self.eps, self.affine = float(eps), bool(affine)
        self.weight = Parameter(np.ones(self.num_channels, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.num_channels, dtype)) if affine and bias else None

    def forward(self, x):
        shape = cnp.shape(x)
        check_input_shape(self, x, len(shape) >= 2 and shape[1] == self.num_channels,
                          f"(N, {self.num_channels}, ...)")
        check_input_dtype(self, x)
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
