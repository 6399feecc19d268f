"""Gradient clipping by global norm."""

import math

import numpy as np

import chainrule as cr

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(parameters, max_norm: float, eps: float = 1e-6) -> float:
    """Scale all gradients together so their joint L2 norm is at most `max_norm`.

    Returns the norm before clipping (useful to log). Parameters without a gradient are skipped.
    A complex gradient counts with its modulus |g| (each entry as the pair of its real and
    imaginary parts, as PyTorch).

    Returns:
        The total norm before clipping, a float.
    """
    if isinstance(parameters, cr.Tensor):
        parameters = [parameters]
    with_grad = [p for p in parameters if p.grad is not None]
    # Gradients are read as values (.numpy()): clipping is an update rule, not differentiated,
    # even when the gradients were recorded with create_graph=True.
    total = math.sqrt(sum(float(np.sum(np.square(np.abs(p.grad.numpy())))) for p in with_grad))
    scale = max_norm / (total + eps)
    if scale < 1.0:
        for parameter in with_grad:
            parameter.grad = cr.tensor(parameter.grad.numpy() * scale)
    return total
