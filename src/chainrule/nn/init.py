"""Weight initialisers (Kaiming/He, Xavier/Glorot), each drawing from a NumPy `Generator`.

They return new NumPy arrays of the requested shape, so results depend only on the generator:
pass `rng=np.random.default_rng(seed)` (or an int seed) for reproducible models.
"""

import math

import numpy as np

__all__ = [
    "calculate_gain", "fans", "kaiming_uniform", "kaiming_normal", "xavier_uniform",
    "xavier_normal", "uniform", "zeros",
]

_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2)}


def calculate_gain(nonlinearity: str = "relu", negative_slope: float = 0.01) -> float:
    """The factor that keeps activations' variance steady through `nonlinearity`."""
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + negative_slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(
            f"calculate_gain: unknown nonlinearity {nonlinearity!r}; choose one of "
            f"{sorted(_GAINS) + ['leaky_relu']}"
        )
    return _GAINS[nonlinearity]


def fans(shape) -> tuple:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"fan-in and fan-out need a weight of at least 2 dimensions, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(shape, mode):
    fan_in, fan_out = fans(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def uniform(shape, bound: float, rng=None, dtype=np.float32) -> np.ndarray:
    """U(-bound, bound) entries."""
    return np.random.default_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)


def zeros(shape, dtype=np.float32) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def kaiming_uniform(shape, rng=None, nonlinearity="relu", mode="fan_in", dtype=np.float32):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015)."""
    bound = calculate_gain(nonlinearity) * math.sqrt(3.0 / _fan(shape, mode))
    return uniform(shape, bound, rng, dtype)


def kaiming_normal(shape, rng=None, nonlinearity="relu", mode="fan_in", dtype=np.float32):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015)."""
    std = calculate_gain(nonlinearity) / math.sqrt(_fan(shape, mode))
    return (np.random.default_rng(rng).standard_normal(shape) * std).astype(dtype)


def xavier_uniform(shape, rng=None, gain: float = 1.0, dtype=np.float32):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    return uniform(shape, gain * math.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def xavier_normal(shape, rng=None, gain: float = 1.0, dtype=np.float32):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return (np.random.default_rng(rng).standard_normal(shape) * std).astype(dtype)
