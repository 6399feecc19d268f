"""Convolution and pooling layers: Conv1d, Conv2d, ConvTranspose2d over (N, C, L) and
(N, C, H, W) inputs (im2col + one matmul; see `functional.conv2d`), MaxPool1d/2d, AvgPool2d
and AdaptiveAvgPool2d.

Arguments, defaults, parameter names, shapes and layouts are PyTorch's (Conv weights are
(out, in / groups, *kernel), ConvTranspose2d's (in, out / groups, kh, kw)), so a PyTorch
state_dict converted to NumPy arrays loads with `load_state_dict`. The initialisation differs:
weights are Kaiming-uniform (He) and biases zero, drawn from `rng`."""

import numpy as np

import chainrule.numpy as cnp
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import (
    Module,
    _check_device,
    check_input_dtype,
    check_input_shape,
)
from chainrule.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d"]


def _dtype(dtype):
    return np.dtype(np.float32 if dtype is None else dtype)


class _ConvNd(Module):
    _n = 2
    _layout = "(N, {C}, H, W)"
    _transposed = False

    def _convolve(self, convolution, x):
        """x checked, then `convolution` (F.conv1d or F.conv2d) with this layer's settings."""
        self._check(x)
        return convolution(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                           self.groups, padding_mode=self.padding_mode)

    # Conv1d's and Conv2d's signature (PyTorch's); ConvTranspose2d reorders it as PyTorch does.
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, *, rng=None):
        super().__init__()
        _check_device(device)
        name, n = type(self).__name__, self._n
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F._tuple(kernel_size, n, "kernel_size")
        self.stride = F._tuple(stride, n, "stride")
        if isinstance(padding, str):
            if padding not in ("valid", "same") or self._transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple"
                                 f"{'' if self._transposed else ', valid or same'}, "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1, got {self.stride}")
            self.padding = padding
        else:
            self.padding = F._tuple(padding, n, "padding")
        self.dilation = F._tuple(dilation, n, "dilation")
        self.output_padding = (0,) * n  # (ConvTranspose2d sets its own)
        self.groups = int(groups)
        if self.groups < 1 or self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels "
                             f"({in_channels}) and out_channels ({out_channels})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' "
                             f"or 'circular', got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, as in PyTorch")
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        dtype = _dtype(dtype)
        self.weight = Parameter(init.kaiming_uniform(shape, rng, dtype=dtype))
        self.bias = Parameter(init.zeros(self.out_channels, dtype)) if bias else None

    def _check(self, x):
        shape = cnp.shape(x)
        check_input_shape(self, x, len(shape) == self._n + 2 and shape[1] == self.in_channels,
                          self._layout.format(C=self.in_channels))
        check_input_dtype(self, x)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self._n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-d convolution (cross-correlation) over (N, C_in, L): weight (C_out, C_in / groups, k),
    bias (C_out,). `padding` is an int, "valid" or "same".

    Returns:
        `layer(x)` for x of shape (N, C_in, L) gives a Tensor of shape (N, C_out, L_out).

    Raises:
        ShapeError: when x is not 3-d with C_in channels.
    """

    _n = 1
    _layout = "(N, {C}, L)"

    def forward(self, x):
        return self._convolve(F.conv1d, x)


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation) over (N, C_in, H, W): weight (C_out, C_in / groups,
    kh, kw), bias (C_out,). `padding` is an int, a pair, "valid" or "same".

    Returns:
        `layer(x)` for x of shape (N, C_in, H, W) gives a Tensor of shape
        (N, C_out, H_out, W_out), as PyTorch's Conv2d computes H_out and W_out.

    Raises:
        ShapeError: when x is not 4-d with C_in channels.
        DTypeError: when x's floating dtype differs from the parameters'.
    """

    def forward(self, x):
        return self._convolve(F.conv2d, x)


class ConvTranspose2d(_ConvNd):
    """The transpose of Conv2d (a "deconvolution", for upsampling) over (N, C_in, H, W):
    weight (C_in, C_out / groups, kh, kw), bias (C_out,). The output has height
    (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1; `forward(x,
    output_size=(h, w))` picks output_padding to reach that size, as PyTorch.

    Returns:
        `layer(x)` for x of shape (N, C_in, H, W) gives a Tensor of shape
        (N, C_out, H_out, W_out), with H_out as above.

    Raises:
        ShapeError: when x is not 4-d with C_in channels.
    """

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None, *, rng=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, rng=rng)
        self.output_padding = F._tuple(output_padding, self._n, "output_padding")
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation):
            if extra >= max(s, d):
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller "
                    f"than the stride {self.stride} or the dilation {self.dilation}"
                )

    def forward(self, x, output_size=None):
        self._check(x)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding_for(cnp.shape(x), output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding_for(self, shape, output_size):
        wanted = tuple(int(s) for s in tuple(output_size)[-2:])
        extras = []
        for size, want, k, s, p, d in zip(shape[2:], wanted, self.kernel_size, self.stride,
                                          self.padding, self.dilation):
            smallest = (size - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want < smallest + max(s, d):
                raise ValueError(
                    f"{self!r}: output_size {wanted} is out of reach for input {tuple(shape)}: "
                    f"each size must lie in [{smallest}, {smallest + max(s, d) - 1}]"
                )
            extras.append(want - smallest)
        return tuple(extras)


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = F._pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else F._pair(stride, "stride")
        self.padding = F._pair(padding, "padding")

    def _check(self, x):
        check_input_shape(self, x, len(cnp.shape(x)) == 4, "(N, C, H, W)")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over each (kh, kw) window of (N, C, H, W) (stride defaults to the kernel).

    Returns:
        `layer(x)` gives a Tensor of shape (N, C, H_out, W_out), as PyTorch's MaxPool2d.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding)
        F._no_indices(return_indices, "MaxPool2d")
        self.dilation = F._pair(dilation, "dilation")
        self.return_indices, self.ceil_mode = False, bool(ceil_mode)

    def forward(self, x):
        self._check(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self):
        text = super().extra_repr()
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class AvgPool2d(_Pool2d):
    """Mean over each (kh, kw) window of (N, C, H, W) (zero padding counts).

    Returns:
        `layer(x)` gives a Tensor of shape (N, C, H_out, W_out), as PyTorch's AvgPool2d.
    """

    def forward(self, x):
        self._check(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class MaxPool1d(Module):
    """Maximum over each window of (N, C, L) (stride defaults to the kernel size).

    Returns:
        `layer(x)` gives a Tensor of shape (N, C, L_out), as PyTorch's MaxPool1d.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        F._no_indices(return_indices, "MaxPool1d")
        self.kernel_size = F._tuple(kernel_size, 1, "kernel_size")[0]
        self.stride = self.kernel_size if stride is None else F._tuple(stride, 1, "stride")[0]
        self.padding = F._tuple(padding, 1, "padding")[0]
        self.dilation = F._tuple(dilation, 1, "dilation")[0]
        self.return_indices, self.ceil_mode = False, bool(ceil_mode)

    def forward(self, x):
        check_input_shape(self, x, len(cnp.shape(x)) == 3, "(N, C, L)")
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AdaptiveAvgPool2d(Module):
    """Average (N, C, H, W) or (C, H, W) into an `output_size` grid (an int, a pair, None for
    "as the input") whatever the input's size, with PyTorch's windows.

    Returns:
        `layer(x)` gives a Tensor of shape (N, C) + output_size (or (C,) + output_size).
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        check_input_shape(self, x, len(cnp.shape(x)) in (3, 4), "(N, C, H, W) or (C, H, W)")
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
