"""Sample inputs for every primitive in the registry, one module per family.

A `Sample` is the positional arguments (arrays), the static params, and optionally which
arguments to differentiate and a `prepare` function applied to the inputs first (e.g. to
symmetrise a matrix for eigh). The registry sweep (tests/test_registry_sweep.py) fails for a
primitive that has no samples here.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Sample:
    args: tuple
    params: dict = field(default_factory=dict)
    wrt: tuple | None = None
    prepare: object = None
    label: str = ""

    def function(self, primitive):
        params = self.params
        prepare = self.prepare
        if prepare is None:
            return lambda *args: primitive(*args, **params)
        return lambda *args: primitive(*prepare(*args), **params)


def rng(seed=0):
    return np.random.default_rng(seed)


def uniform(shape, low=-2.0, high=2.0, seed=0):
    return rng(seed).uniform(low, high, size=shape)


def away_from_zero(shape, low=0.3, high=2.0, seed=0):
    generator = rng(seed)
    return generator.uniform(low, high, size=shape) * generator.choice([-1.0, 1.0], size=shape)


def away_from_integers(shape, seed=0):
    generator = rng(seed)
    return generator.integers(-3, 3, size=shape) + generator.uniform(0.2, 0.4, size=shape)


def all_samples():
    from samples import elementwise, linalg, reduce, shape

    merged = {}
    for module in (elementwise, reduce, shape, linalg):
        for name, samples in module.SAMPLES.items():
            merged.setdefault(name, []).extend(samples)
    return merged
