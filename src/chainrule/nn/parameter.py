"""`Parameter`: a Tensor that a `Module` learns.

It is an ordinary leaf Tensor with `requires_grad=True`; the subclass exists only so that
assigning one to a module attribute registers it (as in PyTorch).
"""

import numpy as np

import chainrule as cr
from chainrule.core import TAPE

__all__ = ["Parameter"]


class Parameter(cr.Tensor):
    """A learnable leaf tensor. `Parameter(np.zeros(3))` copies the data (float64 stays float64,
    float32 stays float32, complex stays complex; integers become float64).

    Returns:
        A leaf Tensor with `requires_grad=True`, registered by the Module it is
        assigned to.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        value = np.array(cr.tensor(data).numpy(), copy=True)
        if value.dtype.kind not in "fc":
            value = value.astype(np.float64)
        super().__init__(value, TAPE, None, bool(requires_grad))

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        # Pickling and copy.deepcopy(model) must give Parameters back, so that the copy's
        # attributes still register as learnable.
        return (_rebuild_parameter, (self.numpy().copy(), self.requires_grad, self.grad, self.name))


def _rebuild_parameter(value, requires_grad, grad, name):
    parameter = Parameter(value, requires_grad)
    parameter.grad = grad
    parameter.name = name
    return parameter
