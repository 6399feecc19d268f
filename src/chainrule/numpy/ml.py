"""The activations machine learning asks of an array library: softmax and log_softmax (fused
primitives), softplus and relu (one primitive each; relu's row is in ops/nn.py). logsumexp is a
reduction; sigmoid is a row of the registry."""


from chainrule.numpy._common import ndim_of, normalize_axes
from chainrule.numpy._explain import wrap_public
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import nn as _nn
from chainrule.ops import reduce as _reduce

__all__ = ["softmax", "log_softmax", "softplus", "relu"]


# softmax and log_softmax are fused primitives (ops/reduce.py): as composites of exp, sum and
# logsumexp their derivatives subtract nearly equal numbers where one entry dominates.
def softmax(x, axis=-1):
    return _reduce.softmax(x, axis=normalize_axes(axis, ndim_of(x), "softmax"))


def log_softmax(x, axis=-1):
    return _reduce.log_softmax(x, axis=normalize_axes(axis, ndim_of(x), "log_softmax"))


def softplus(x):
    return _elementwise.logaddexp(x, 0.0)


def relu(x):
    # Gradient 0 at 0, as in PyTorch (maximum would split it 1/2 : 1/2).
    # NaN stays NaN, as with np.maximum and PyTorch. One fused row (ops/nn.py).
    return _nn.relu(x)


wrap_public(globals(), __all__)
