"""Basic layers: Linear, Flatten, Dropout, Dropout2d, Embedding and the activation modules,
with PyTorch's argument names and defaults (`inplace=` is accepted and ignored: results are
always new values)."""

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.dtypes import shape_of
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, _check_device, check_input_dtype, check_input_shape
from chainrule.nn.parameter import Parameter

__all__ = [
    "Linear", "Flatten", "Dropout", "Dropout2d", "Embedding", "Identity",
    "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "LogSoftmax",
    "LeakyReLU", "ELU", "SiLU", "Softplus", "Mish", "Hardtanh",
]


class Linear(Module):
    """y = x @ weight.T + bias; weight (out_features, in_features) is Kaiming-uniform, bias zero.

    Returns:
        `layer(x)` for x of shape (..., in_features) gives a Tensor of shape
        (..., out_features) in the parameters' dtype.

    Raises:
        ShapeError: when the last axis of x is not in_features.
        DTypeError: when x's floating dtype differs from the parameters'.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None,
                 dtype=np.float32, device=None):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.in_features, self.out_features = int(in_features), int(out_features)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(init.kaiming_uniform(shape, rng, dtype=dtype))
        self.bias = Parameter(init.zeros(self.out_features, dtype)) if bias else None

    def forward(self, x):
        shape = tuple(shape_of(x))  # (cnp.shape without its wrapper: this runs every call)
        check_input_shape(self, x, len(shape) >= 1 and shape[-1] == self.in_features,
                          f"(..., {self.in_features})")
        check_input_dtype(self, x)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one (by default all but the batch axis).

    Returns:
        `layer(x)` gives x with axes start_dim..end_dim merged into one.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        shape = tuple(shape_of(x))
        check_input_shape(self, x, len(shape) > self.start_dim, f"at least {self.start_dim + 1}-d")
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        return cnp.reshape(x, shape[:start] + (-1,) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero entries with probability p while training, drawing masks from `rng` (a NumPy
    Generator or an int seed); the identity in eval mode. Under `cr.vmap` each example of a
    batched input gets its own mask (see `functional.dropout`).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype (x itself in eval mode).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng=None):
        super().__init__()
        if not isinstance(inplace, bool) and rng is None:  # Dropout(p, rng) of old
            inplace, rng = False, inplace
        if not 0.0 <= p < 1.0:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.inplace = bool(inplace)
        self.rng = np.random.default_rng(rng)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) (or (N, C, ...)) with probability p while
    training, scaling the rest by 1/(1-p); the identity in eval mode.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype (x itself in eval mode).
    """

    def forward(self, x):
        check_input_shape(self, x, len(cnp.shape(x)) >= 2, "(N, C, H, W)")
        return F.dropout2d(x, self.p, self.training, rng=self.rng)


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of a (num_embeddings, dim) weight.

    Returns:
        `layer(indices)` gives a Tensor of shape indices.shape + (embedding_dim,).

    Raises:
        ValueError: for an index outside [0, num_embeddings).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, dtype=np.float32,
                 device=None):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        weight = np.random.default_rng(rng).standard_normal((num_embeddings, embedding_dim))
        self.weight = Parameter(weight.astype(dtype))

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Identity(Module):
    """The identity: `Identity()(x)` returns x unchanged (a placeholder layer).

    Returns:
        `layer(x)` gives x itself.
    """
    def forward(self, x):
        return x


class ReLU(Module):
    """max(x, 0) elementwise (gradient 0 at 0, as PyTorch).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """
    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    """tanh(x) elementwise.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise, computed without overflow.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """
    def forward(self, x):
        return F.sigmoid(x)


class GELU(Module):
    """GELU, tanh approximation (see `functional.gelu`).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def forward(self, x):
        return F.gelu(x)


class Softmax(Module):
    """Softmax along `axis` (PyTorch's `dim=` is accepted too).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype whose entries along `axis` sum to 1.
    """

    def __init__(self, axis: int = -1, *, dim=None):
        super().__init__()
        self.axis = axis if dim is None else dim

    def forward(self, x):
        return F.softmax(x, axis=self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along `axis` (PyTorch's `dim=` is accepted too), computed stably.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """
    def forward(self, x):
        return F.log_softmax(x, axis=self.axis)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x elsewhere.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = float(negative_slope), bool(inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) elsewhere.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = float(alpha), bool(inplace)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SiLU(Module):
    """x * sigmoid(x) (swish).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.silu(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Mish(Module):
    """x * tanh(softplus(x)).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.mish(x)


class Hardtanh(Module):
    """x clipped to [min_val, max_val] (gradient 1 strictly inside, 0 elsewhere).

    Returns:
        `layer(x)` gives a Tensor of x's shape and dtype.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value=None, max_value=None):
        super().__init__()
        # min_value / max_value: PyTorch's deprecated spellings.
        self.min_val = float(min_val if min_value is None else min_value)
        self.max_val = float(max_val if max_value is None else max_value)
        if not self.max_val > self.min_val:
            raise ValueError(f"Hardtanh: max_val ({self.max_val}) must be greater than "
                             f"min_val ({self.min_val})")
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"
