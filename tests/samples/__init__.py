"""Sample inputs for every primitive in the registry, one module per family.

A `Sample` is the positional arguments (arrays), the static params, and optionally which
arguments to differentiate and a `prepare` function applied to the inputs first (e.g. to
symmetrise a matrix for eigh). The registry sweep (tests/test_registry_sweep.py) fails for a
primitive that has no samples here.

An *edge point* (`edge(...)`) is a sample where a naive rule breaks: a zero in a product, a
singular matrix, a tie, one entry dominating a softmax. Where the function is differentiable
there, the sweep checks it like any sample and also to second order, in both modes, against
central differences. Where it is not (a tie for max is a kink), finite differences mean
nothing; the sample then declares `convention`, the Jacobian (with respect to the first
argument) that chainrule's documented subgradient gives there, as a closed form, and the
sweep checks that in both modes and that second derivatives are finite.

A *complex sample* is one with a complex argument or a complex param (a complex dtype to cast
to, a complex fill value): `Sample.is_complex`, read from the dtypes, so any module's samples
take part. The sweep checks each one in both modes and to second order against differences
that perturb the real and imaginary parts separately, in complex64 as well, and under cr.vmap.
Keep complex samples away from branch cuts (log and sqrt: the negative real axis) and from the
points where a non-holomorphic function has a kink (abs at 0).
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
    edge: bool = False
    convention: object = None  # at a kink: the Jacobian d out / d args[0] by convention
    second_order: object = None  # at a kink: the error a second derivative raises, if any

    @property
    def is_complex(self) -> bool:
        """Whether the sample takes or makes complex numbers (see the module docstring)."""
        return any(np.iscomplexobj(a) for a in self.args) or any(
            _is_complex_param(v) for v in self.params.values()
        )

    def function(self, primitive):
        params = self.params
        prepare = self.prepare
        if prepare is None:
            return lambda *args: primitive(*args, **params)
        return lambda *args: primitive(*prepare(*args), **params)


def _is_complex_param(value) -> bool:
    if isinstance(value, np.dtype):
        return value.kind == "c"
    if isinstance(value, type):
        return issubclass(value, (complex, np.complexfloating))
    return isinstance(value, (complex, np.ndarray, np.generic)) and np.iscomplexobj(value)


def edge(args, params=None, label="", convention=None, **options):
    """A sample at an edge point (see the module docstring); `convention` marks a kink."""
    label = f"edge: {label}" if convention is None else f"edge, kink: {label}"
    return Sample(args, params or {}, label=label, edge=True, convention=convention, **options)


def rng(seed=0):
    return np.random.default_rng(seed)


def uniform(shape, low=-2.0, high=2.0, seed=0):
    return rng(seed).uniform(low, high, size=shape)


def away_from_zero(shape, low=0.3, high=2.0, seed=0):
    generator = rng(seed)
    return generator.uniform(low, high, size=shape) * generator.choice([-1.0, 1.0], size=shape)


def complexified(real, imag=0.8, seed=0):
    """`real` plus an imaginary part uniform in (-imag, imag): the real part keeps a real
    sample's domain (log's positive reals stay clear of its branch cut)."""
    real = np.asarray(real, dtype=np.float64)
    return real + 1j * uniform(real.shape, -imag, imag, seed=seed + 100)


def complex_uniform(shape, low=-2.0, high=2.0, seed=0, imag=0.8):
    """Complex entries: real part uniform in (low, high), imaginary part in (-imag, imag)."""
    return complexified(uniform(shape, low, high, seed=seed), imag, seed)


def complex_off_axis(shape, low=-2.0, high=2.0, seed=0):
    """Complex entries in every quadrant, their imaginary parts 0.3 to 0.8 away from the real
    axis, where the branch cuts of log, sqrt and the inverse functions lie (and tan's poles)."""
    generator = rng(seed)
    imag = generator.uniform(0.3, 0.8, size=shape) * generator.choice([-1.0, 1.0], size=shape)
    return generator.uniform(low, high, size=shape) + 1j * imag


def away_from_integers(shape, seed=0):
    generator = rng(seed)
    return generator.integers(-3, 3, size=shape) + generator.uniform(0.2, 0.4, size=shape)


def all_samples():
    """Every samples module's SAMPLES (one module per family of rows: a new family's module is
    found by itself), merged by primitive name."""
    import importlib
    import pkgutil

    import samples

    merged = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(samples.__path__)):
        for name, found in importlib.import_module(f"samples.{module}").SAMPLES.items():
            merged.setdefault(name, []).extend(found)
    return merged
