"""Gradient clipping: by global norm (`clip_grad_norm_`) and by value (`clip_grad_value_`).

PyTorch's spelling, `chainrule.nn.utils.clip_grad_norm_`, is this same function."""

import math

import numpy as np

import chainrule as cr

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


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
    total = math.sqrt(sum(float(np.sum(np.square(np.abs(_values(p.grad))))) for p in with_grad))
    scale = max_norm / (total + eps)
    if scale < 1.0:
        for parameter in with_grad:
            parameter.grad = cr.tensor(_values(parameter.grad) * scale)
    return total


def _values(grad):
    """A gradient's values: clipping is an update rule, not differentiated, even when the
    gradients were recorded with create_graph=True; a `.grad` set to an array or list is read
    as one (and replaced, never written into)."""
    return grad.numpy() if isinstance(grad, cr.Tensor) else np.asarray(grad)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient elementwise to [-clip_value, clip_value], in place, as PyTorch's.

    Each parameter's `.grad` is changed in place under `cr.no_grad()` (references to it see
    the clipped values); parameters without a gradient are skipped. A complex gradient has its
    real and imaginary parts clamped separately (its entries as pairs of real numbers).

    Returns:
        None.

    Raises:
        ValueError: when `clip_value` is negative or NaN.

    Example:
        >>> loss.backward()
        >>> optim.clip_grad_value_(model.parameters(), clip_value=0.5)   # then optimizer.step()
    """
    limit = float(clip_value)
    if not limit >= 0.0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    if isinstance(parameters, cr.Tensor):
        parameters = [parameters]
    with cr.no_grad():
        for parameter in parameters:
            grad = parameter.grad
            if grad is None:
                continue
            values = _values(grad)
            if np.iscomplexobj(values):
                clipped = np.clip(values.real, -limit, limit) + 1j * np.clip(
                    values.imag, -limit, limit)
            else:
                clipped = np.clip(values, -limit, limit)
            if isinstance(grad, cr.Tensor):
                grad.copy_(clipped)
            else:
                parameter.grad = cr.tensor(clipped)
