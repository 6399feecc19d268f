"""The functional transforms (JAX style) and what they stand on: pytrees, the level every
transform enters and leaves (_levels.py), reverse mode (grad, vjp), forward mode (jvp,
linearize, hvp), Jacobians and Hessians, the batched traces behind jacfwd/jacrev, custom rules
and checkpointing, and gradcheck.

Each call opens a fresh trace level, boxes the leaves of its inputs there, runs the function,
and reads derivatives off that level only, so transforms nest without confusing their
perturbations. Results come back in the structure of the inputs and outputs: NumPy arrays (0-d
as NumPy scalars), or Tensors of an enclosing level when called inside another transform.
"""

from chainrule.transforms.check import gradcheck, gradgradcheck
from chainrule.transforms.custom import checkpoint, custom_jvp, custom_vjp
from chainrule.transforms.forward import hvp, jvp, linearize, stop_gradient
from chainrule.transforms.jacobians import hessian, jacfwd, jacrev
from chainrule.transforms.jit import jit
from chainrule.transforms.reverse import grad, value_and_grad, vjp
from chainrule.transforms.vmap import vmap

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "hessian", "hvp",
    "stop_gradient", "custom_vjp", "custom_jvp", "checkpoint", "gradcheck", "gradgradcheck",
    "vmap", "jit",
]
