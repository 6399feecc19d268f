"""The engine: primitives, trace levels, tensors, the tape and the backward pass, forward mode.
Imports NumPy and errors.py only; each module imports only the ones before it in this list:
primitive, trace, dtypes, anomaly, config, inplace, tensor, backward, tape, forward, batching.
"""

from chainrule.core.backward import Node, backward_pass
from chainrule.core.primitive import (
    LINEAR,
    NONDIFF,
    OUT,
    REGISTRY,
    ZERO,
    Primitive,
    bind,
    defprimitive,
)
from chainrule.core.tape import TAPE, ReverseTrace, as_tensor, tensor
from chainrule.core.tensor import Tensor
from chainrule.core.trace import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    raw_value,
    set_grad_enabled,
)

__all__ = [
    "Tensor", "tensor", "as_tensor", "raw_value", "TAPE", "Node", "ReverseTrace", "backward_pass",
    "LINEAR", "NONDIFF", "OUT", "REGISTRY", "ZERO", "Primitive", "bind", "defprimitive",
    "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
]
