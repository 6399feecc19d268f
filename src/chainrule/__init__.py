"""chainrule: automatic differentiation for NumPy code, in forward and reverse mode.

    import chainrule as cr
    x = cr.tensor(3.0, requires_grad=True); y = cr.tensor(2.0, requires_grad=True)
    f = (x + y) * (x - y); f.backward()      # x.grad == 6, y.grad == -4
    cr.grad(lambda x, y: (x + y) * (x - y), argnums=(0, 1))(3.0, 2.0)
"""

import chainrule.numpy as numpy  # noqa: E402 - fills NumPy's dispatch tables
from chainrule import errors, tree
from chainrule.core import (
    Tensor,
    as_tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)
from chainrule.core.anomaly import detect_anomaly
from chainrule.core.config import config
from chainrule.core.primitive import REGISTRY
from chainrule.core.tape import (
    arange,
    cat,
    empty,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    zeros,
    zeros_like,
)
from chainrule.io import load, save
from chainrule.transforms import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jit,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
    vmap,
)
from chainrule.transforms.check import gradcheck, gradgradcheck
from chainrule.transforms.custom import checkpoint, custom_jvp, custom_vjp
from chainrule.tree import register_pytree_node, tree_flatten, tree_map, tree_unflatten

__version__ = "0.1.0"


def __getattr__(name):
    # Pictures are imported on first use, keeping `import chainrule` close to `import numpy`.
    if name in ("trace", "draw", "viz"):
        import chainrule.viz as viz

        return viz if name == "viz" else getattr(viz, name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")

__all__ = [
    "Tensor", "tensor", "as_tensor", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "grad", "value_and_grad", "vjp", "jvp", "gradcheck", "gradgradcheck",
    "REGISTRY", "errors", "numpy", "config", "detect_anomaly",
    "linearize", "jacfwd", "jacrev", "hessian", "hvp", "stop_gradient", "custom_vjp",
    "custom_jvp", "checkpoint", "tree", "register_pytree_node", "tree_flatten", "tree_unflatten",
    "tree_map", "trace", "draw", "vmap", "jit",
    "save", "load",
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "arange", "rand",
    "randn", "cat", "stack",
]
