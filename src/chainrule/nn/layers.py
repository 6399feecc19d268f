"""Basic layers: Linear, Flatten, Dropout, Embedding and the activation modules."""

import numpy as np

import chainrule.numpy as cnp
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, check_input_shape
from chainrule.nn.parameter import Parameter

__all__ = [
    "Linear", "Flatten", "Dropout", "Embedding", "Identity",
    "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "LogSoftmax",
]


class Linear(Module):
    """y = x @ weight.T + bias; weight (out_features, in_features) is Kaiming-uniform, bias zero."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(init.kaiming_uniform(shape, rng, dtype=dtype))
        self.bias = Parameter(init.zeros(self.out_features, dtype)) if bias else None

    def forward(self, x):
        shape = cnp.shape(x)
        check_input_shape(self, x, len(shape) >= 1 and shape[-1] == self.in_features,
                          f"(..., {self.in_features})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        shape = cnp.shape(x)
        check_input_shape(self, x, len(shape) > self.start_dim, f"at least {self.start_dim + 1}-d")
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        return cnp.reshape(x, shape[:start] + (-1,) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero entries with probability p while training, drawing masks from `rng` (a NumPy
    Generator or an int seed); the identity in eval mode. Under `cr.vmap` each example of a
    batched input gets its own mask (see `functional.dropout`)."""

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of a (num_embeddings, dim) weight."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, dtype=np.float32):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        weight = np.random.default_rng(rng).standard_normal((num_embeddings, embedding_dim))
        self.weight = Parameter(weight.astype(dtype))

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Identity(Module):
    def forward(self, x):
        return x


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class GELU(Module):
    """GELU, tanh approximation (see `functional.gelu`)."""

    def forward(self, x):
        return F.gelu(x)


class Softmax(Module):
    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return F.softmax(x, axis=self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, axis=self.axis)
