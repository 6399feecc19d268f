"""Convolution and pooling layers over (N, C, H, W) images (im2col + one matmul; see
`functional.conv2d`)."""

import numpy as np

import chainrule.numpy as cnp
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, check_input_shape
from chainrule.nn.parameter import Parameter

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d"]


class Conv2d(Module):
    """2-d convolution (cross-correlation); weight (out, in, kh, kw) is Kaiming-uniform."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F._pair(kernel_size, "kernel_size")
        self.stride = F._pair(stride, "stride")
        self.padding = F._pair(padding, "padding")
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = Parameter(init.kaiming_uniform(shape, rng, dtype=dtype))
        self.bias = Parameter(init.zeros(self.out_channels, dtype)) if bias else None

    def forward(self, x):
        shape = cnp.shape(x)
        check_input_shape(self, x, len(shape) == 4 and shape[1] == self.in_channels,
                          f"(N, {self.in_channels}, H, W)")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


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
    def forward(self, x):
        self._check(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    def forward(self, x):
        self._check(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
