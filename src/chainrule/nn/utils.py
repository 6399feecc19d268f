"""`chainrule.nn.utils`: PyTorch's `torch.nn.utils` helpers.

The gradient clipping functions are `chainrule.optim`'s (the same objects, implemented in
`chainrule.optim.clip`), here under the name PyTorch code imports them by:

    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # between backward() and step()

`parameters_to_vector` and `vector_to_parameters` flatten parameters into one vector and back.
"""

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError
from chainrule.optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def parameters_to_vector(parameters) -> "cr.Tensor":
    """All parameters, flattened and joined into one vector, as PyTorch's.

    Recorded: the vector's gradient flows back to the parameters.

    Returns:
        A 1-D Tensor of length the total number of elements, the parameters in order.

    Raises:
        ValueError: when there are no parameters.
    """
    parameters = [parameters] if isinstance(parameters, cr.Tensor) else list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    return cr.cat([parameter.reshape(-1) for parameter in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters, in place, as PyTorch's
    (the inverse of `parameters_to_vector`). Runs under `cr.no_grad()`; each slice is cast to
    its parameter's dtype.

    Returns:
        None.

    Raises:
        ShapeError: when `vec` is not 1-D or its length is not the parameters' total size.
    """
    parameters = [parameters] if isinstance(parameters, cr.Tensor) else list(parameters)
    values = vec.numpy() if isinstance(vec, cr.Tensor) else np.asarray(vec)
    total = sum(int(parameter.numel()) for parameter in parameters)
    if values.ndim != 1 or values.shape[0] != total:
        raise ShapeError(
            f"vector_to_parameters: expected a 1-D vector of length {total} (the parameters' "
            f"total size), got shape {values.shape}"
        )
    start = 0
    with cr.no_grad():
        for parameter in parameters:
            size = int(parameter.numel())
            parameter.copy_(values[start:start + size].reshape(parameter.shape))
            start += size
