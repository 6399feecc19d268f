"""The engine: tensors, primitives, trace levels, the graph. Imports NumPy only.

Import order matters: tensor.py finishes by importing graph.py, which builds on Tensor.
"""

from chainrule.core.tensor import Tensor, as_tensor, raw_value, tensor  # noqa: I001
from chainrule.core.graph import TAPE, Node, ReverseTrace, backward_pass
from chainrule.core.primitive import (
    LINEAR, NONDIFF, OUT, REGISTRY, ZERO, Primitive, bind, defprimitive,
)
from chainrule.core.trace import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.core import anomaly, inplace  # noqa: F401, E402 - fill the engine's safety hooks

__all__ = [
    "Tensor", "tensor", "as_tensor", "raw_value", "TAPE", "Node", "ReverseTrace", "backward_pass",
    "LINEAR", "NONDIFF", "OUT", "REGISTRY", "ZERO", "Primitive", "bind", "defprimitive",
    "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
]
