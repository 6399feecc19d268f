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
from chainrule.core.dtypes import dtype_of, shape_of
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
from chainrule.ops import nn as _nn_ops

__all__ = [
    "linear", "relu", "tanh", "sigmoid", "gelu", "softmax", "log_softmax", "dropout",
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits",
    "binary_cross_entropy", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
    "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "layer_norm", "embedding", "one_hot",
    "conv1d", "conv_transpose2d", "max_pool1d", "adaptive_avg_pool2d", "group_norm",
    "dropout2d", "leaky_relu", "elu", "silu", "softplus", "mish", "hardtanh",
    "scaled_dot_product_attention",
]


# ----- activations -------------------------------------------------------------------------------
def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight of shape (out_features, in_features)."""
    if bias is not None and len(shape_of(weight)) == 2 and len(shape_of(bias)) <= 1:
        return _nn_ops.linear(x, weight, bias)  # one fused row: one node, three cotangents
    out = cnp.matmul(x, cnp.transpose(weight))
    return out if bias is None else out + bias


relu = cnp.relu
tanh = cnp.tanh
sigmoid = cnp.sigmoid
def softmax(x, axis=-1, *, dim=None):
    """exp(x) / sum(exp(x)) along `axis` (PyTorch's `dim=` also accepted), stable at any scale.

    Returns:
        An array (or Tensor) of x's shape and floating dtype, summing to 1 along the axis.

    Raises:
        TypeError: both `axis` (other than the default) and `dim` given."""
    return cnp.softmax(x, axis=_axis_or_dim(axis, dim, "softmax"))


def log_softmax(x, axis=-1, *, dim=None):
    """x - logsumexp(x) along `axis` (PyTorch's `dim=` also accepted), stable at any scale.

    Returns:
        An array (or Tensor) of x's shape and floating dtype.

    Raises:
        TypeError: both `axis` (other than the default) and `dim` given."""
    return cnp.log_softmax(x, axis=_axis_or_dim(axis, dim, "log_softmax"))


def _axis_or_dim(axis, dim, what):
    if dim is None:
        return axis
    if axis != -1:
        raise TypeError(f"{what}: give axis= or dim= (PyTorch's name), not both")
    return dim

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


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False, rng=None):
    """Zero whole channels: each (example, channel) of x (N, C, ...) is kept with probability
    1 - p and scaled by 1/(1-p) (identity in eval). `inplace` is accepted and ignored (the
    result is always a new value). Under `cr.vmap` every example gets its own mask."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    ndim = len(cnp.shape(x))
    if ndim < 2:
        raise ShapeError(f"dropout2d expects input of shape (N, C, ...), got {cnp.shape(x)}")
    dtype = np.dtype(getattr(x, "dtype", np.float64))
    if p == 1.0:
        return x * dtype.type(0.0)
    physical = np.shape(physical_value(x))
    spatial = ndim - 2  # one draw per (batch entries, example, channel), shared over the rest
    mask_shape = physical[: len(physical) - spatial] + (1,) * spatial
    keep = np.random.default_rng(rng).random(mask_shape) >= p
    return x * batched_like(x, keep.astype(dtype) / dtype.type(1.0 - p))


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, negative_slope * x elsewhere (slope negative_slope at 0, as PyTorch)."""
    return cnp.where(x > 0, x, x * negative_slope)


def elu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    negative = cnp.where(x > 0, 0.0, x)  # expm1 never sees a large x: no inf * 0 in backward
    return cnp.where(x > 0, x, alpha * cnp.expm1(negative))


def silu(x, inplace: bool = False):
    """x * sigmoid(x) (also called swish)."""
    return x * cnp.sigmoid(x)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, computed stably, and x itself where beta x > threshold
    (PyTorch's linear regime, gradient exactly 1 there)."""
    scaled = x if beta == 1 else x * beta
    smooth = cnp.softplus(scaled) if beta == 1 else cnp.softplus(scaled) / beta
    return cnp.where(scaled > threshold, x, smooth)


def mish(x, inplace: bool = False):
    """x * tanh(softplus(x))."""
    return x * cnp.tanh(cnp.softplus(x))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 outside and at
    the ends (as PyTorch)."""
    if not max_val > min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) must be greater than min_val "
                         f"({min_val})")
    return cnp.where(x <= min_val, min_val, cnp.where(x >= max_val, max_val, x))


# ----- convolution and pooling -------------------------------------------------------------------
def _pair(value, what):
    return _tuple(value, 2, what)


def _tuple(value, n, what):
    """An int or a length-n sequence of ints as an n-tuple of ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    items = tuple(value)
    if len(items) == 1 and n > 1:
        items = items * n
    if len(items) != n or any(int(v) != v for v in items):
        kind = "pair" if n == 2 else f"{n}-tuple"
        raise ValueError(f"{what} must be an int or a {kind} of ints, got {value!r}")
    return tuple(int(v) for v in items)


def _output_size(size, kernel, stride, padding, what, dilation=1, ceil_mode=False):
    """Output length of a window sliding over `size` entries with `padding` on each side
    (`padding` may be a (before, after) pair), PyTorch's formula (ceil_mode included)."""
    before, after = (padding, padding) if isinstance(padding, (int, np.integer)) else padding
    span = dilation * (kernel - 1) + 1
    room = size + before + after - span
    if room < 0:
        raise ShapeError(
            f"{what}: a window spanning {span} entries (kernel {kernel}, dilation {dilation}) "
            f"with padding {padding} does not fit an input of size {size}; use a smaller "
            "kernel or more padding"
        )
    if not ceil_mode:
        return room // stride + 1
    out = -(-room // stride) + 1
    if (out - 1) * stride >= size + before:  # the last window must start inside the input
        out -= 1
    return out


@lru_cache(maxsize=128)
def _window_index(channels, height, width, kernel, stride, out_size, dilation=(1, 1)):
    """Flat positions in a (channels, height, width) image of every window entry.

    Returns an int array of shape (out_h * out_w, channels * kh * kw): row l lists the pixels
    that output position l sees, in the order of a weight reshaped to (out, C * kh * kw).
    Gathering with it is im2col as a single getitem, whose transpose is one scatter-add.
    """
    (kh, kw), (sh, sw), (oh, ow), (dh, dw) = kernel, stride, out_size, dilation
    channel = np.arange(channels).reshape(-1, 1, 1)
    row = (np.arange(kh) * dh).reshape(1, -1, 1)
    col = (np.arange(kw) * dw).reshape(1, 1, -1)
    offsets = (channel * height * width + row * width + col).reshape(-1)
    top = (np.arange(oh) * sh).reshape(-1, 1)
    left = (np.arange(ow) * sw).reshape(1, -1)
    corners = (top * width + left).reshape(-1, 1)
    index = corners + offsets.reshape(1, -1)
    index.flags.writeable = False
    return index


_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _padded(x, pads, fill=0.0, mode="zeros"):
    """x (N, C, H, W) padded by pads = ((top, bottom), (left, right)), or by (ph, pw) on
    both sides; `mode` is a PyTorch padding_mode."""
    pads = tuple((p, p) if isinstance(p, (int, np.integer)) else tuple(p) for p in pads)
    if all(before == 0 and after == 0 for before, after in pads):
        return x
    widths = ((0, 0), (0, 0)) + pads
    if mode == "zeros":
        return cnp.pad(x, widths, constant_values=fill)
    return cnp.pad(x, widths, mode=_PAD_MODES[mode])


def _windows(x, kernel, stride, padding, what, fill=0.0, dilation=(1, 1), ceil_mode=False):
    """im2col: (N, C, H, W) -> (N, out_h * out_w, C * kh * kw) and (out_h, out_w).
    `padding` is (ph, pw) or ((top, bottom), (left, right))."""
    n, channels, height, width = cnp.shape(x)
    pads = [list((p, p) if isinstance(p, (int, np.integer)) else p) for p in padding]
    out_size = tuple(
        _output_size(size, kernel[i], stride[i], tuple(pads[i]), what, dilation[i], ceil_mode)
        for i, size in enumerate((height, width))
    )
    for i, size in enumerate((height, width)):  # ceil_mode: room for the last window
        needed = (out_size[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
        pads[i][1] += max(0, needed - (size + pads[i][0] + pads[i][1]))
    padded_h, padded_w = height + sum(pads[0]), width + sum(pads[1])
    flat = cnp.reshape(_padded(x, pads, fill), (n, channels * padded_h * padded_w))
    index = _window_index(channels, padded_h, padded_w, kernel, stride, out_size, dilation)
    return flat[:, index], out_size


def _check_ndim(x, ndim, what, layout):
    shape = cnp.shape(x)
    if len(shape) != ndim:
        raise ShapeError(f"{what} expects input of shape {layout}, got {shape}")
    return shape


def _check_4d(x, what):
    return _check_ndim(x, 4, what, "(N, C, H, W)")


def _conv_padding(padding, kernel, dilation, stride, n, what):
    """PyTorch's conv `padding` (an int, an n-tuple, "valid" or "same") as (before, after)
    pairs; "same" pads an even total unevenly, the extra entry after, as PyTorch."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{what}: padding must be an int, a tuple, 'valid' or 'same', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{what}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in _tuple(padding, n, "padding"))


def _check_groups(groups, in_channels, out_channels, what):
    groups = int(groups)
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{what}: groups={groups} must divide both the input channels ({in_channels}) "
            f"and the output channels ({out_channels})"
        )
    return groups


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros"):
    """2-d cross-correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw): im2col and
    one matmul (one batched matmul over the groups). `padding` is an int, a pair, "valid" or
    "same"; `padding_mode` ("zeros", "reflect", "replicate", "circular") is the module's
    option of PyTorch's Conv2d."""
    n, channels = _check_4d(x, "conv2d")[:2]
    out_channels, group_channels, kh, kw = cnp.shape(weight)
    groups = _check_groups(groups, channels, out_channels, "conv2d")
    if group_channels * groups != channels:
        raise ShapeError(
            f"conv2d: input has {channels} channels but the weight {cnp.shape(weight)} with "
            f"groups={groups} expects {group_channels * groups}"
        )
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    pads = _conv_padding(padding, (kh, kw), dilation, stride, 2, "conv2d")
    if padding_mode != "zeros":
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"conv2d: padding_mode must be one of {sorted(_PAD_MODES)}, "
                             f"got {padding_mode!r}")
        x, pads = _padded(x, pads, mode=padding_mode), ((0, 0), (0, 0))
    patches, (oh, ow) = _windows(x, (kh, kw), stride, pads, "conv2d", dilation=dilation)
    size = group_channels * kh * kw
    if groups == 1:
        # One (N*L, C*kh*kw) @ (C*kh*kw, O) product, then back to channels-first.
        rows = cnp.reshape(patches, (n * oh * ow, size))
        out = cnp.matmul(rows, cnp.transpose(cnp.reshape(weight, (out_channels, size))))
    else:
        # The window entries are channel-major, so each group's columns are contiguous:
        # (G, N*L, C/G*kh*kw) @ (G, C/G*kh*kw, O/G), one batched product.
        rows = cnp.transpose(cnp.reshape(patches, (n * oh * ow, groups, size)), (1, 0, 2))
        kernels = cnp.reshape(weight, (groups, out_channels // groups, size))
        out = cnp.matmul(rows, cnp.transpose(kernels, (0, 2, 1)))
        out = cnp.reshape(cnp.transpose(out, (1, 0, 2)), (n * oh * ow, out_channels))
    if bias is not None:
        out = out + bias
    return cnp.transpose(cnp.reshape(out, (n, oh, ow, out_channels)), (0, 3, 1, 2))


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros"):
    """1-d cross-correlation of x (N, C, L) with weight (O, C / groups, k): conv2d over a
    height-1 image. `padding` is an int, "valid" or "same"."""
    n, channels, length = _check_ndim(x, 3, "conv1d", "(N, C, L)")
    if len(cnp.shape(weight)) != 3:
        raise ShapeError(f"conv1d expects a weight of shape (O, C / groups, k), got "
                         f"{cnp.shape(weight)}")
    out_channels, group_channels, k = cnp.shape(weight)
    padding = padding if isinstance(padding, str) else (0, _tuple(padding, 1, "padding")[0])
    out = conv2d(cnp.reshape(x, (n, channels, 1, length)),
                 cnp.reshape(weight, (out_channels, group_channels, 1, k)), bias,
                 stride=(1, _tuple(stride, 1, "stride")[0]), padding=padding,
                 dilation=(1, _tuple(dilation, 1, "dilation")[0]), groups=groups,
                 padding_mode=padding_mode)
    shape = cnp.shape(out)
    return cnp.reshape(out, (shape[0], shape[1], shape[3]))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transpose (gradient) of conv2d: x (N, C_in, H, W), weight (C_in, C_out / groups,
    kh, kw) as PyTorch lays it out; the output has size (H - 1) * stride - 2 * padding +
    dilation * (kh - 1) + output_padding + 1. Computed as a stride-1 conv2d of the input
    spread out by `stride` (zeros between entries) with the flipped kernel."""
    n, channels, height, width = _check_4d(x, "conv_transpose2d")
    in_channels, group_out, kh, kw = cnp.shape(weight)
    if in_channels != channels:
        raise ShapeError(
            f"conv_transpose2d: input has {channels} channels but the weight "
            f"{cnp.shape(weight)} expects {in_channels} (its first axis)"
        )
    groups = _check_groups(groups, channels, group_out * int(groups), "conv_transpose2d")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    padding, output_padding = _pair(padding, "padding"), _pair(output_padding, "output_padding")
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra >= max(s, d):
            raise ValueError(
                f"conv_transpose2d: output_padding {output_padding} must be smaller than the "
                f"stride {stride} or the dilation {dilation}"
            )
    sh, sw = stride
    if (sh, sw) != (1, 1):  # put stride - 1 zeros between neighbouring entries
        spread = cnp.reshape(x, (n, channels, height, 1, width, 1))
        spread = cnp.pad(spread, ((0, 0), (0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1)))
        spread = cnp.reshape(spread, (n, channels, height * sh, width * sw))
        x = spread[:, :, : (height - 1) * sh + 1, : (width - 1) * sw + 1]
    pads, crops = [], []
    for k, d, p, extra in zip((kh, kw), dilation, padding, output_padding):
        before, after = d * (k - 1) - p, d * (k - 1) - p + extra
        pads.append((max(before, 0), max(after, 0)))
        crops.append((max(-before, 0), max(-after, 0)))
    if any(c for pair in crops for c in pair):  # padding beyond the kernel: crop instead
        h_len, w_len = cnp.shape(x)[2:]
        x = x[:, :, crops[0][0]: h_len - crops[0][1], crops[1][0]: w_len - crops[1][1]]
    # (C_in, C_out/G, kh, kw) -> conv2d's (C_out, C_in/G, kh, kw), flipped in space.
    kernels = cnp.reshape(weight, (groups, in_channels // groups, group_out, kh, kw))
    kernels = cnp.reshape(cnp.transpose(kernels, (0, 2, 1, 3, 4)),
                          (groups * group_out, in_channels // groups, kh, kw))
    kernels = kernels[:, :, ::-1, ::-1]
    return conv2d(_padded(x, tuple(pads)), kernels, bias, stride=1, padding=0,
                  dilation=dilation, groups=groups)


def _pool(x, kernel_size, stride, padding, reduce, fill, what, dilation=1, ceil_mode=False):
    n, channels, height, width = _check_4d(x, what)
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding, dilation = _pair(padding, "padding"), _pair(dilation, "dilation")
    for p, k, d in zip(padding, kernel, dilation):
        if 2 * p > d * (k - 1) + 1:
            raise ValueError(
                f"{what}: padding {padding} must be at most half the window ({kernel}, "
                f"dilation {dilation}), as in PyTorch"
            )
    tiles_exactly = height % kernel[0] == 0 and width % kernel[1] == 0
    if padding == (0, 0) and stride == kernel and dilation == (1, 1) and tiles_exactly:
        # Non-overlapping windows tile the image: a reshape exposes them, no gather needed.
        tiles = cnp.reshape(x, (n, channels, height // kernel[0], kernel[0],
                                width // kernel[1], kernel[1]))
        return reduce(tiles, axis=(3, 5))
    # Channels become batch entries so one single-channel window index serves them all.
    single = cnp.reshape(x, (n * channels, 1, height, width))
    windows, (oh, ow) = _windows(single, kernel, stride, padding, what, fill, dilation,
                                 ceil_mode)
    return cnp.reshape(reduce(windows, axis=2), (n, channels, oh, ow))


def _no_indices(return_indices, what):
    if return_indices:
        raise ValueError(f"{what}: return_indices=True is not supported (chainrule has no "
                         "max_unpool); find positions with cnp.argmax on the windows instead")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each window (stride defaults to the kernel size; padding never wins)."""
    _no_indices(return_indices, "max_pool2d")
    return _pool(x, kernel_size, stride, padding, cnp.max, -np.inf, "max_pool2d", dilation,
                 ceil_mode)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each window of x (N, C, L) (stride defaults to the kernel size)."""
    _no_indices(return_indices, "max_pool1d")
    n, channels, length = _check_ndim(x, 3, "max_pool1d", "(N, C, L)")
    kernel = _tuple(kernel_size, 1, "kernel_size")[0]
    stride = kernel if stride is None else _tuple(stride, 1, "stride")[0]
    out = _pool(cnp.reshape(x, (n, channels, 1, length)), (1, kernel), (1, stride),
                (0, _tuple(padding, 1, "padding")[0]), cnp.max, -np.inf, "max_pool1d",
                (1, _tuple(dilation, 1, "dilation")[0]), ceil_mode)
    shape = cnp.shape(out)
    return cnp.reshape(out, (shape[0], shape[1], shape[3]))


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window (stride defaults to the kernel size; zero padding is counted)."""
    return _pool(x, kernel_size, stride, padding, cnp.mean, 0.0, "avg_pool2d")


@lru_cache(maxsize=64)
def _adaptive_weights(size, out, dtype):
    """(out, size) averaging matrix of adaptive pooling: row i averages entries
    floor(i * size / out) to ceil((i + 1) * size / out), PyTorch's windows."""
    weights = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        weights[i, start:end] = 1.0 / (end - start)
    weights.flags.writeable = False
    return weights


def adaptive_avg_pool2d(x, output_size):
    """Average x (N, C, H, W) or (C, H, W) into an output_size grid (an int, a pair, None for
    "as the input"), with PyTorch's windows: two products with constant averaging matrices."""
    shape = cnp.shape(x)
    if len(shape) not in (3, 4):
        raise ShapeError(f"adaptive_avg_pool2d expects input of shape (N, C, H, W) or (C, H, "
                         f"W), got {shape}")
    height, width = shape[-2:]
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    out_h, out_w = (size if o is None else int(o) for o, size in zip(sizes, (height, width)))
    if out_h < 1 or out_w < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {sizes}")
    dtype = np.dtype(dtype_of(x))
    if dtype.kind not in "fc":
        raise DTypeError(f"adaptive_avg_pool2d: input must be floating-point, got {dtype}")
    out = x
    if out_h != height:
        out = cnp.matmul(_adaptive_weights(height, out_h, dtype), out)
    if out_w != width:
        out = cnp.matmul(out, np.ascontiguousarray(_adaptive_weights(width, out_w, dtype).T))
    return out


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


def group_norm(x, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise x (N, C, ...) over each group of C / num_groups channels (and all positions)
    of each sample, then scale and shift per channel by weight and bias (C,)."""
    shape = tuple(cnp.shape(x))
    if len(shape) < 2:
        raise ShapeError(f"group_norm expects input of shape (N, C, ...), got {shape}")
    n, channels = shape[:2]
    num_groups = int(num_groups)
    if num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {channels} "
                         "channels")
    grouped = cnp.reshape(x, (n, num_groups, -1))
    centred = grouped - cnp.mean(grouped, axis=2, keepdims=True)
    variance = cnp.mean(centred * centred, axis=2, keepdims=True)
    out = cnp.reshape(centred / cnp.sqrt(variance + eps), shape)
    per_channel = (1, channels) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * cnp.reshape(weight, per_channel)
    if bias is not None:
        out = out + cnp.reshape(bias, per_channel)
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


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, *, rng=None):
    """softmax(q k^T * scale + mask) v, as PyTorch's `F.scaled_dot_product_attention`: the
    function is defined in chainrule.nn.attention (which builds on this module, so it is
    imported when called, not at import). See that function for shapes, masks and errors.

    Returns:
        The attention output, shape (..., L, Ev)."""
    from chainrule.nn.attention import scaled_dot_product_attention as attention

    return attention(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
                     is_causal=is_causal, scale=scale, rng=rng)
