"""chainrule: automatic differentiation for NumPy code, in forward and reverse mode.

    import chainrule as cr
    x = cr.tensor(3.0, requires_grad=True); y = cr.tensor(2.0, requires_grad=True)
    f = (x + y) * (x - y); f.backward()      # x.grad == 6, y.grad == -4
    cr.grad(lambda x, y: (x + y) * (x - y), argnums=(0, 1))(3.0, 2.0)
"""

import numpy as _np

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

# dtypes under the names PyTorch code spells them (torch.float32 -> cr.float32): NumPy's own
# types, which every dtype= argument accepts; chainrule.numpy has the same objects. Attributes
# only, not in __all__: `from chainrule import *` leaves the caller's names alone.
float16, float32, float64 = _np.float16, _np.float32, _np.float64
complex64, complex128 = _np.complex64, _np.complex128
int8, int16, int32, int64, uint8 = _np.int8, _np.int16, _np.int32, _np.int64, _np.uint8
bool = _np.bool_  # noqa: A001 - torch.bool's spelling


def from_numpy(array) -> Tensor:
    """PyTorch's `from_numpy`: `cr.as_tensor(array)` for a NumPy array.

    Returns:
        A leaf Tensor of the array's shape and dtype sharing its memory (chainrule never
        writes into it; changing the array yourself changes the tensor).

    Raises:
        TypeError: anything but a NumPy array (cr.tensor(data) copies any array-like).
        InputTypeError: an array that does not hold numbers.
    """
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"from_numpy() expects a NumPy array, got {type(array).__name__}; "
                        "cr.tensor(data) copies any array-like")
    return as_tensor(array)


# Submodules imported on first use (`cr.nn.Linear` after `import chainrule as cr`, as with
# torch.nn), keeping `import chainrule` close to `import numpy`.
_SUBMODULES = ("nn", "optim", "data", "scipy", "viz")

# PyTorch names with a different spelling here: the AttributeError says which.
_PYTORCH_SPELLINGS = {
    "float": "cr.float32", "double": "cr.float64", "half": "cr.float16", "long": "cr.int64",
    "int": "cr.int32", "cfloat": "cr.complex64", "cdouble": "cr.complex128",
    "manual_seed": "no global seed: pass rng= (a seed or np.random.Generator) to cr.rand, "
                   "cr.randn and each layer, and seed= to DataLoader",
    "Generator": "np.random.default_rng(seed), passed as rng=",
    "inference_mode": "cr.no_grad()",
    "device": "nothing: chainrule computes with NumPy on the CPU (for a GPU, CuPy arrays)",
    "cuda": "nothing: chainrule computes with NumPy on the CPU (for a GPU, CuPy arrays, "
            "pip install 'chainrule[cupy]')",
    "autograd": "cr.grad, cr.vjp, cr.jacrev (torch.autograd.grad: cr.grad) or .backward()",
}


def __getattr__(name):
    # Pictures and the training layers are imported on first use.
    if name in ("trace", "draw"):
        import chainrule.viz as viz

        return getattr(viz, name)
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"chainrule.{name}")
    if name in _PYTORCH_SPELLINGS:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r} (PyTorch's name); "
                             f"here: {_PYTORCH_SPELLINGS[name]}")
    if not name.startswith("_") and name in vars(numpy):  # torch.exp, torch.matmul, ...
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}; NumPy's functions "
                             f"are in chainrule.numpy: import chainrule.numpy as cnp; cnp.{name}")
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
    "randn", "cat", "stack", "from_numpy",
]
