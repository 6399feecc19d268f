"""Samples for SciPy's special functions (src/chainrule/ops/special.py, rows `special.<name>`).

Importing chainrule.scipy.special registers the rows (chainrule itself does not import them,
so that SciPy stays optional): this module does, so the sweep sees them. An argument with no
derivative (polygamma's n, gammainc's a, zeta's x, iv's v) is fixed by `prepare`, so that every
argument of a sample is differentiable (the sweep differentiates them all); batching over such
an argument is checked in tests/test_scipy_special.py.
"""

import numpy as np

import chainrule.scipy.special  # noqa: F401 (registers the rows)
from chainrule.core.dtypes import dtype_of
from samples import (
    Sample,
    away_from_integers,
    away_from_zero,
    complex_uniform,
    complexified,
    edge,
    uniform,
)

SHAPES = [(), (3,), (2, 1, 3)]
BINARY_SHAPES = [((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3))]

# Where each unary function is smooth (and SciPy finite): (low, high) for uniform inputs.
_UNARY = {
    "erf": (-2.0, 2.0), "erfc": (-2.0, 2.0), "erfinv": (-0.9, 0.9), "erfcinv": (0.1, 1.9),
    "erfcx": (-1.5, 3.0), "ndtr": (-3.0, 3.0), "ndtri": (0.05, 0.95), "log_ndtr": (-6.0, 3.0),
    "gamma": (0.3, 3.0), "gammaln": (0.3, 4.0), "digamma": (0.3, 4.0), "entr": (0.2, 3.0),
    "i0": (-2.0, 2.0), "i1": (-2.0, 2.0), "j0": (-6.0, 6.0), "j1": (-6.0, 6.0),
    "y0": (0.3, 6.0), "y1": (0.3, 6.0), "rgamma": (0.3, 4.0), "gammasgn": (0.3, 4.0),
}
_AWAY_FROM_ZERO = {"i0e", "i1e"}  # a kink at 0 (e^-|x|)

SAMPLES = {
    f"special.{name}": [
        Sample((uniform(shape, low, high, seed=i),), label=str(shape))
        for i, shape in enumerate(SHAPES)
    ]
    for name, (low, high) in _UNARY.items()
}
for _name in _AWAY_FROM_ZERO:
    SAMPLES[f"special.{_name}"] = [
        Sample((away_from_zero(shape, 0.2, 2.5, seed=i),), label=str(shape))
        for i, shape in enumerate(SHAPES)
    ]
# Left of 0, between the poles: gamma changes sign, gammaln is log|gamma|.
for _name in ("gamma", "gammaln", "digamma", "rgamma", "gammasgn"):
    SAMPLES[f"special.{_name}"].append(
        Sample((away_from_integers((4,), seed=3) - 1.0,), label="negative, between poles")
    )

# Binary, every operand differentiable: (first domain, second domain).
_BINARY = {
    "beta": ((0.4, 3.0), (0.4, 3.0)), "betaln": ((0.4, 6.0), (0.4, 6.0)),
    "xlogy": ((-2.0, 2.0), (0.2, 3.0)), "xlog1py": ((-2.0, 2.0), (-0.6, 2.0)),
    "rel_entr": ((0.2, 3.0), (0.2, 3.0)), "kl_div": ((0.2, 3.0), (0.2, 3.0)),
}
for _name, (_first, _second) in _BINARY.items():
    SAMPLES[f"special.{_name}"] = [
        Sample((uniform(a, *_first, seed=2 * i), uniform(b, *_second, seed=2 * i + 1)),
               label=f"{a}, {b}")
        for i, (a, b) in enumerate(BINARY_SHAPES)
    ]


def _fixed_first(*constants):
    """prepare: the row's first operands (non-differentiable) are `constants`, in the float
    dtype of the differentiated operand where they are floats (the float32 checks cast it)."""

    def prepare(*args):
        kind = dtype_of(args[0])
        fixed = [np.asarray(c, kind if kind.kind == "f" and np.asarray(c).dtype.kind == "f"
                            else None) for c in constants]
        return (*fixed, *args)

    return prepare


def _with_constant(constant, domain, shape=None, seed=0, label=""):
    """A sample whose first operand is `constant` (fixed by prepare), the last uniform in
    `domain`, of the constant's shape unless `shape` says otherwise (broadcasting)."""
    shape = np.shape(constant) if shape is None else shape
    return Sample((uniform(shape, *domain, seed=seed),), prepare=_fixed_first(constant),
                  label=label)


# polygamma(n, x): n an integer order.
SAMPLES["special.polygamma"] = [
    _with_constant(np.array([0, 1, 2]), (0.4, 3.0), label="n = 0, 1, 2"),
    _with_constant(np.array([[0], [3]]), (0.5, 2.0), (3,), seed=4, label="n broadcast"),
    Sample((away_from_integers((3,), seed=5) - 1.0,), prepare=_fixed_first(1),
           label="n = 1, negative x"),
]
# gammainc(a, x) and relatives: a fixed, integer or not.
_A = np.array([0.5, 1.0, 2.7])
for _name in ("gammainc", "gammaincc"):
    SAMPLES[f"special.{_name}"] = [
        _with_constant(_A, (0.1, 4.0), label="a = 0.5, 1, 2.7"),
        _with_constant(np.array([1, 2, 5]), (0.2, 6.0), (2, 3), seed=6, label="integer a"),
        _with_constant(30.0, (0.5, 3.0), (), seed=7, label="0-d, a = 30"),
    ]
for _name in ("gammaincinv", "gammainccinv"):
    SAMPLES[f"special.{_name}"] = [
        _with_constant(_A, (0.1, 0.9), label="a = 0.5, 1, 2.7"),
        _with_constant(np.array([[1], [4]]), (0.2, 0.8), (2,), seed=8, label="integer a"),
    ]
_AB = (np.array([0.5, 2.0, 3.5]), np.array([1.5, 0.7, 4.0]))
for _name, _domain in (("betainc", (0.05, 0.95)), ("betaincinv", (0.1, 0.9))):
    SAMPLES[f"special.{_name}"] = [
        Sample((uniform((3,), *_domain, seed=9),), prepare=_fixed_first(*_AB),
               label="a, b fixed"),
        Sample((uniform((2, 2), *_domain, seed=10),),
               prepare=_fixed_first(np.array([1, 3]), np.array([[2], [5]])),
               label="integer a, b, broadcast"),
    ]
# Student's t: df fixed.
SAMPLES["special.stdtr"] = [
    _with_constant(np.array([1.0, 2.5, 30.0]), (-4.0, 4.0), label="df = 1, 2.5, 30"),
    _with_constant(np.array([[3], [7]]), (-2.0, 2.0), (3,), seed=23, label="integer df, broadcast"),
]
SAMPLES["special.stdtrit"] = [
    _with_constant(np.array([1.0, 2.5, 30.0]), (0.05, 0.95), label="df = 1, 2.5, 30"),
    _with_constant(4, (0.1, 0.9), (2, 2), seed=24, label="df = 4"),
]
# Bessel functions of any order: v fixed (x > 0 for the non-integer ones), or integer orders.
for _name in ("iv", "ive"):
    SAMPLES[f"special.{_name}"] = [
        _with_constant(np.array([0.0, 1.5, 2.0]), (0.3, 2.5), label="v = 0, 1.5, 2"),
        Sample((away_from_zero((2, 3), seed=11),), prepare=_fixed_first(np.array([0, 1, 3])),
               label="integer v, either sign of x"),
    ]
for _name, _domain in (("jv", (-6.0, 6.0)), ("yv", (0.3, 6.0))):
    SAMPLES[f"special.{_name}"] = [
        _with_constant(np.array([0, 1, 4]), _domain, label="v = 0, 1, 4"),
        _with_constant(np.array([[0.5], [2.5]]), (0.3, 5.0), (3,), seed=20, label="v broadcast"),
    ]
SAMPLES["special.yn"] = [
    _with_constant(np.array([0, 1, 3]), (0.3, 5.0), label="n = 0, 1, 3"),
    _with_constant(2, (0.5, 4.0), (2, 2), seed=21, label="n = 2"),
]
# Hurwitz's zeta(x, q): x fixed.
SAMPLES["special.zeta"] = [
    _with_constant(np.array([2.0, 3.5, 1.5]), (0.3, 3.0), label="x = 2, 3.5, 1.5"),
    _with_constant(np.array([[2], [4]]), (0.5, 2.0), (3,), seed=12, label="integer x, broadcast"),
]

# ----- edge points (see samples/__init__.py) ------------------------------------------------------
SAMPLES["special.xlogy"].append(
    edge((np.array([0.0, 1.5, 0.0]), np.array([0.5, 2.0, 1.3])), label="x = 0")
)
SAMPLES["special.xlog1py"].append(
    edge((np.array([0.0, -0.5, 0.0]), np.array([0.5, 2.0, -0.4])), label="x = 0")
)
# The Bessel functions at 0: I_1' = (I_0 + I_2)/2, not I_0 - I_1/x (0/0 there).
for _name in ("i0", "i1"):
    SAMPLES[f"special.{_name}"].append(edge((np.array([0.0, 0.7, -1.1]),), label="x = 0"))
# e^-|x| I_v(x) has a kink at 0: the derivative there is the mean of both sides' (sign(0) = 0).
SAMPLES["special.i0e"].append(
    edge((np.array([0.0]),), label="x = 0", convention=np.array([[0.0]]))
)
SAMPLES["special.i1e"].append(
    edge((np.array([0.0]),), label="x = 0", convention=np.array([[0.5]]))
)
# Far in the lower tail, where ndtr underflows and pdf / ndtr would be 0 / 0.
SAMPLES["special.log_ndtr"].append(edge((np.array([-40.0, -12.0, 8.0]),), label="tails"))
SAMPLES["special.erfcx"].append(edge((np.array([30.0, 1e3, -2.0]),), label="large x"))
SAMPLES["special.ndtri"].append(Sample((np.array([1e-3, 0.5, 0.999]),), label="tails"))

# ----- complex numbers: the rows SciPy computes for them whose derivatives it does too ------------
for _name in ("erf", "erfc", "erfcx", "ndtr"):
    SAMPLES[f"special.{_name}"].append(
        Sample((complex_uniform((2, 3), -1.5, 1.5, seed=13),), label="complex")
    )
SAMPLES["special.log_ndtr"].append(
    Sample((complex_uniform((2, 3), -1.0, 2.0, seed=14, imag=0.5),), label="complex")
)
for _name in ("xlogy", "xlog1py"):
    SAMPLES[f"special.{_name}"] += [
        Sample((complex_uniform((3,), seed=15), complexified(uniform((3,), 0.3, 2.0, seed=16))),
               label="complex, complex"),
        Sample((uniform((2, 1), seed=17), complexified(uniform((3,), 0.3, 2.0, seed=18))),
               label="real, complex"),
    ]
for _name in ("jv", "yv"):
    SAMPLES[f"special.{_name}"].append(
        Sample((complex_uniform((3,), 0.5, 3.0, seed=22),),
               prepare=_fixed_first(np.array([0, 1, 2])), label="complex x")
    )
SAMPLES["special.iv"].append(
    Sample((complex_uniform((3,), 0.3, 2.0, seed=19),), prepare=_fixed_first(np.array([0, 2, 1])),
           label="complex x")
)
