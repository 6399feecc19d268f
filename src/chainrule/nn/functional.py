"""`chainrule.nn.functional`: activations, losses, convolution and pooling as plain functions.

Everything here is composed from `chainrule.numpy`, so it works on Tensors, inside functional
transforms and to any order. Integer targets and masks are computed on plain NumPy values, or
under `cr.vmap` on batched ones (each example has its own labels and its own dropout mask).
"""

import math
from functools import lru_cache

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.batching import batch_levels
from chainrule.core.dtypes import dtype_of
from chainrule.core.trace import batched_like, physical_value
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn.losses import (  # noqa: F401 - the losses live in chainrule.nn.losses
    _check_range,
    _integer_indices,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    one_hot,
    smooth_l1_loss,
)

__all__ = [
    "linear", "relu", "tanh", "sigmoid", "gelu", "softmax", "log_softmax", "dropout",
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits",
    "binary_cross_entropy", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
    "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "layer_norm", "embedding", "one_hot",
]


# ----- activations -------------------------------------------------------------------------------
def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight of shape (out_features, in_features)."""
    out = cnp.matmul(x, cnp.transpose(weight))
    return out if bias is None else out + bias


relu = cnp.relu
tanh = cnp.tanh
sigmoid = cnp.sigmoid
softmax = cnp.softmax
log_softmax = cnp.log_softmax

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x):
    """GELU with the tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    (PyTorch's `approximate="tanh"`; it differs from the erf form by under 1e-3.)"""
    return 0.5 * x * (1.0 + cnp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


def dropout(x, p: float, training: bool = True, rng=None):
    """Zero each entry with probability p and scale the rest by 1/(1-p) (identity in eval).

    Under `cr.vmap` every example of a batched `x` gets its own mask (one draw of the whole
    batch's shape); an unbatched `x` gets one mask shared by the examples."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    rng = np.random.default_rng(rng)
    keep = rng.random(np.shape(physical_value(x))) >= p
    dtype = np.dtype(getattr(x, "dtype", np.float64))
    return x * batched_like(x, keep.astype(dtype) / dtype.type(1.0 - p))


# ----- convolution and pooling -------------------------------------------------------------------
def _pair(value, what):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _output_size(size, kernel, stride, padding, what):
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ShapeError(
            f"{what}: a {kernel}-wide window with padding {padding} does not fit an input of "
            f"size {size}; use a smaller kernel or more padding"
        )
    return out


@lru_cache(maxsize=64)
def _window_index(channels, height, width, kernel, stride, out_size):
    """Flat positions in a (channels, height, width) image of every window entry.

    Returns an int array of shape (out_h * out_w, channels * kh * kw): row l lists the pixels
    that output position l sees, in the order of a weight reshaped to (out, C * kh * kw).
    Gathering with it is im2col as a single getitem, whose transpose is one scatter-add.
    """
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_size
    channel = np.arange(channels).reshape(-1, 1, 1)
    row = np.arange(kh).reshape(1, -1, 1)
    col = np.arange(kw).reshape(1, 1, -1)
    offsets = (channel * height * width + row * width + col).reshape(-1)
    top = (np.arange(oh) * sh).reshape(-1, 1)
    left = (np.arange(ow) * sw).reshape(1, -1)
    corners = (top * width + left).reshape(-1, 1)
    index = corners + offsets.reshape(1, -1)
    index.flags.writeable = False
    return index


def _padded(x, padding, fill=0.0):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return cnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def _windows(x, kernel, stride, padding, what, fill=0.0):
    """im2col: (N, C, H, W) -> (N, out_h * out_w, C * kh * kw) and (out_h, out_w)."""
    n, channels, height, width = cnp.shape(x)
    out_size = (
        _output_size(height, kernel[0], stride[0], padding[0], what),
        _output_size(width, kernel[1], stride[1], padding[1], what),
    )
    padded_h, padded_w = height + 2 * padding[0], width + 2 * padding[1]
    flat = cnp.reshape(_padded(x, padding, fill), (n, channels * padded_h * padded_w))
    index = _window_index(channels, padded_h, padded_w, kernel, stride, out_size)
    return flat[:, index], out_size


def _check_4d(x, what):
    shape = cnp.shape(x)
    if len(shape) != 4:
        raise ShapeError(f"{what} expects input of shape (N, C, H, W), got {shape}")
    return shape


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-d cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw): im2col + one matmul."""
    n, channels = _check_4d(x, "conv2d")[:2]
    out_channels, weight_channels, kh, kw = cnp.shape(weight)
    if weight_channels != channels:
        raise ShapeError(
            f"conv2d: input has {channels} channels but the weight {cnp.shape(weight)} expects "
            f"{weight_channels}"
        )
    patches, (oh, ow) = _windows(x, (kh, kw), _pair(stride, "stride"),
                                 _pair(padding, "padding"), "conv2d")
    # One (N*L, C*kh*kw) @ (C*kh*kw, O) product, then back to channels-first.
    rows = cnp.reshape(patches, (n * oh * ow, channels * kh * kw))
    out = cnp.matmul(rows, cnp.transpose(cnp.reshape(weight, (out_channels, -1))))
    if bias is not None:
        out = out + bias
    return cnp.transpose(cnp.reshape(out, (n, oh, ow, out_channels)), (0, 3, 1, 2))


def _pool(x, kernel_size, stride, padding, reduce, fill, what):
    n, channels, height, width = _check_4d(x, what)
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    tiles_exactly = height % kernel[0] == 0 and width % kernel[1] == 0
    if padding == (0, 0) and stride == kernel and tiles_exactly:
        # Non-overlapping windows tile the image: a reshape exposes them, no gather needed.
        tiles = cnp.reshape(x, (n, channels, height // kernel[0], kernel[0],
                                width // kernel[1], kernel[1]))
        return reduce(tiles, axis=(3, 5))
    # Channels become batch entries so one single-channel window index serves them all.
    single = cnp.reshape(x, (n * channels, 1, height, width))
    windows, (oh, ow) = _windows(single, kernel, stride, padding, what, fill)
    return cnp.reshape(reduce(windows, axis=2), (n, channels, oh, ow))


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each window (stride defaults to the kernel size; padding never wins)."""
    return _pool(x, kernel_size, stride, padding, cnp.max, -np.inf, "max_pool2d")


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window (stride defaults to the kernel size; zero padding is counted)."""
    return _pool(x, kernel_size, stride, padding, cnp.mean, 0.0, "avg_pool2d")


# ----- normalisation and lookup ------------------------------------------------------------------
def batch_norm(x, mean, var, weight=None, bias=None, eps: float = 1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, with per-channel statistics on axis 1."""
    shape = [1] * len(cnp.shape(x))
    shape[1] = -1
    scale = 1.0 / cnp.sqrt(cnp.reshape(var, shape) + eps)
    out = (x - cnp.reshape(mean, shape)) * scale
    if weight is not None:
        out = out * cnp.reshape(weight, shape)
    if bias is not None:
        out = out + cnp.reshape(bias, shape)
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing dimensions `normalized_shape` of each sample."""
    normalized_shape = tuple(normalized_shape)
    shape = cnp.shape(x)
    if tuple(shape[len(shape) - len(normalized_shape):]) != normalized_shape:
        raise ShapeError(
            f"layer_norm over {normalized_shape} needs input ending in those dimensions, "
            f"got {shape}"
        )
    axes = tuple(range(len(shape) - len(normalized_shape), len(shape)))
    centred = x - cnp.mean(x, axis=axes, keepdims=True)
    variance = cnp.mean(centred * centred, axis=axes, keepdims=True)
    out = centred / cnp.sqrt(variance + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(indices, weight):
    """Rows of `weight` (num_embeddings, dim) picked by integer `indices` of any shape."""
    labels = _integer_indices(indices)
    if dtype_of(labels).kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got dtype {dtype_of(labels)}")
    _check_range(labels, cnp.shape(weight)[0], "embedding: indices")
    if batch_levels(labels):  # a NumPy weight cannot be indexed by a batched value itself
        return cnp.take(weight, labels, axis=0)
    return weight[labels]
