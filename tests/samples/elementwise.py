"""Samples for elementwise, comparison and selection primitives: 0-d, size-1 dims, broadcasting."""

import numpy as np

from samples import (
    Sample,
    away_from_integers,
    away_from_zero,
    complex_off_axis,
    complex_uniform,
    complexified,
    edge,
    uniform,
)

UNARY_SHAPES = [(), (3,), (2, 1, 3)]
BINARY_SHAPES = [((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3)), ((1,), (2, 2))]

# Where each function is smooth: (low, high) for uniform inputs.
_UNARY_DOMAIN = {
    "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9), "arctanh": (-0.9, 0.9), "arccosh": (1.2, 3.0),
    "log": (0.2, 3.0), "log2": (0.2, 3.0), "log10": (0.2, 3.0), "log1p": (-0.5, 2.0),
    "sqrt": (0.2, 3.0), "cbrt": (0.2, 3.0), "tan": (-1.2, 1.2),
}
_AWAY_FROM_ZERO = {"abs", "reciprocal", "sign"}
_AWAY_FROM_INTEGERS = {"floor", "ceil", "rint", "trunc", "round"}
_UNARY = [
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "cbrt", "square", "reciprocal", "abs", "deg2rad", "rad2deg", "negative", "sign", "floor",
    "ceil", "rint", "trunc", "round", "sigmoid",
]


def _unary_input(name, shape, seed):
    if name in _AWAY_FROM_ZERO:
        return away_from_zero(shape, seed=seed)
    if name in _AWAY_FROM_INTEGERS:
        return away_from_integers(shape, seed=seed)
    low, high = _UNARY_DOMAIN.get(name, (-2.0, 2.0))
    return uniform(shape, low, high, seed=seed)


SAMPLES = {
    name: [Sample((_unary_input(name, shape, i),), label=str(shape)) for i, shape in enumerate(UNARY_SHAPES)]
    for name in _UNARY
}
SAMPLES["round"].append(Sample((uniform((3,), seed=5),), {"decimals": 1}, label="decimals=1"))
SAMPLES["astype"] = [Sample((uniform((2, 3)),), {"dtype": np.dtype(np.float64)})]

# Binary: (first input domain, second input domain)
_BINARY_DOMAIN = {
    "add": None, "subtract": None, "multiply": None, "maximum": None, "minimum": None,
    "fmax": None, "fmin": None, "hypot": None, "logaddexp": None, "logaddexp2": None,
    "arctan2": None,
    "divide": ("any", "nonzero"), "power": ((0.3, 2.0), (-2.0, 2.0)),
    "float_power": ((0.3, 2.0), (-2.0, 2.0)), "mod": ((2.1, 2.3), (1.5, 1.6)),
    "floor_divide": ((2.1, 2.3), (1.5, 1.6)),
}


def _binary_input(domain, shape, seed):
    if domain is None or domain == "any":
        return uniform(shape, seed=seed)
    if domain == "nonzero":
        return away_from_zero(shape, seed=seed)
    return uniform(shape, *domain, seed=seed)


for _name, _domain in _BINARY_DOMAIN.items():
    first, second = _domain if _domain is not None else (None, None)
    SAMPLES[_name] = [
        Sample((_binary_input(first, a, 2 * i), _binary_input(second, b, 2 * i + 1)), label=f"{a}, {b}")
        for i, (a, b) in enumerate(BINARY_SHAPES)
    ]

_condition = np.array([[True, False, True], [False, True, True]])
# where(condition, x, y): the condition is an operand, never differentiated (wrt x and y).
SAMPLES["where"] = [
    Sample((uniform((2, 3)), uniform((2, 3), seed=1)), prepare=lambda x, y: (_condition, x, y)),
    Sample((uniform((3,)), uniform((), seed=1)), prepare=lambda x, y: (_condition, x, y),
           label="broadcast"),
    Sample((uniform(()), uniform(())), prepare=lambda x, y: (np.array(True), x, y), label="0-d"),
    # The condition as an argument: cr.vmap batches it like any operand (one mask per example).
    Sample((_condition, uniform((2, 3), seed=2), uniform((3,), seed=3)), wrt=(1, 2),
           label="condition as an operand"),
]
SAMPLES["clip"] = [
    Sample((np.array([-1.7, -0.3, 0.4, 1.6]),), {"lo": -1.0, "hi": 1.0}),
    Sample((np.array([[-1.7], [0.4]]),), {"lo": None, "hi": 0.0}, label="upper only"),
    Sample((np.array(0.25),), {"lo": 0.0, "hi": None}, label="0-d"),
]

_COMPARISONS = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor",
]
for _name in _COMPARISONS:
    SAMPLES[_name] = [Sample((uniform((2, 3)), uniform((3,), seed=1)))]
for _name in ("logical_not", "isnan", "isinf", "isfinite"):
    SAMPLES[_name] = [Sample((uniform((2, 3)),))]

# ----- edge points (see samples/__init__.py) -----------------------------------------------------
# Far out in the tails, where derivatives written as 1 - (something near 1) cancel.
SAMPLES["sigmoid"].append(edge((np.array([-30.0, -12.0, 12.0, 30.0]),), label="tails"))
for _name in ("logaddexp", "logaddexp2"):
    SAMPLES[_name] += [
        edge((np.array([40.0, -40.0, 3.0]), np.array([0.0, 0.0, 3.0])),
             label="one operand dominates, a tie"),
    ]
# |x| at 0 and maximum at a tie are kinks: the subgradient 0, and the cotangent split evenly.
SAMPLES["abs"].append(
    edge((np.array([0.0, -1.5, 0.0]),), label="zeros", convention=np.diag([0.0, -1.0, 0.0]))
)
SAMPLES["maximum"].append(
    edge((np.array([1.0, 2.0]), np.array([1.0, 3.0])), label="a tie",
         convention=np.diag([0.5, 0.0]))
)

# ----- the parts of a complex number: on real input, identities (real, conj) and zero (imag) -----
for _name in ("real", "imag", "conj"):
    SAMPLES[_name] = [Sample((uniform((2, 3)),)), Sample((uniform(()),), label="0-d")]

# ----- complex numbers (see samples/__init__.py) -------------------------------------------------
# Every elementwise row NumPy defines on complex numbers, at points in all four quadrants whose
# imaginary parts keep clear of the branch cuts (log, sqrt, arccosh: the real axis left of 0 or
# 1; arcsin, arccos, arctanh: beyond +-1; arctan, arcsinh: the imaginary axis beyond +-i) and of
# abs's kink at 0. The rows NumPy refuses for complex numbers (cbrt, deg2rad, rad2deg, floor,
# ceil, trunc, mod, floor_divide, logaddexp, logaddexp2, arctan2, hypot) and those chainrule
# refuses (ordering: maximum, minimum, fmax, fmin, clip, sign, rint, round, sigmoid, the
# comparisons less..greater_equal) are listed in the sweep's REFUSES_COMPLEX.
COMPLEX_UNARY = [
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "square", "reciprocal", "abs", "negative", "real", "imag", "conj",
]
for _name in COMPLEX_UNARY:
    SAMPLES[_name].append(Sample((complex_off_axis((2, 3), seed=7),), label="complex"))
for _name in ("abs", "exp", "sqrt", "real", "imag"):
    SAMPLES[_name].append(Sample((complex_off_axis((), seed=8),), label="complex 0-d"))
SAMPLES["astype"] += [
    Sample((complex_uniform((2, 3)),), {"dtype": np.dtype(np.complex128)}, label="complex"),
    # A real input cast to complex: its cotangent is the real part of the complex one.
    Sample((uniform((2, 3)),), {"dtype": np.dtype(np.complex128)}, label="real to complex"),
]

# Binary rows: both operands complex, and one of them real (the real operand's cotangent is the
# real part of the complex one: the engine takes it).
_COMPLEX_BINARY = {
    "add": ("any", "any"), "subtract": ("any", "any"), "multiply": ("any", "any"),
    "divide": ("any", "nonzero"), "power": ((0.3, 2.0), (-2.0, 2.0)),
    "float_power": ((0.3, 2.0), (-2.0, 2.0)),
}
_COMPLEX_LAYOUTS = [
    ((2, 3), (3,), "complex, complex"), ((2, 1), (1, 3), "complex, real"),
    ((), (2,), "real, complex"),
]
for _name, (first, second) in _COMPLEX_BINARY.items():
    for i, (a, b, label) in enumerate(_COMPLEX_LAYOUTS):
        x, y = _binary_input(first, a, 20 + 2 * i), _binary_input(second, b, 21 + 2 * i)
        x = complexified(x, seed=i) if label.startswith("complex") else x
        y = complexified(y, seed=i + 1) if label.endswith("complex") else y
        SAMPLES[_name].append(Sample((x, y), label=label))
# A negative real base with a complex exponent: x^y = exp(y log x) takes the principal log,
# ln|x| + i pi, which the rule for d/dy must take too (not NumPy's real log, NaN there).
SAMPLES["power"].append(
    Sample((uniform((3,), -2.0, -0.3, seed=30), complex_uniform((3,), seed=31)),
           label="negative real base, complex exponent")
)
# A complex base with a real integer exponent (z ** 3 in user code).
SAMPLES["power"].append(
    Sample((complex_uniform((2, 2), 0.3, 2.0, seed=32), np.array(3.0)), label="complex z ** 3")
)

SAMPLES["where"] += [
    Sample((complex_uniform((2, 3)), complex_uniform((2, 3), seed=1)),
           prepare=lambda x, y: (_condition, x, y), label="complex"),
    Sample((complex_uniform((2, 3), seed=2), uniform((3,), seed=3)),
           prepare=lambda x, y: (_condition, x, y), label="complex and real branches"),
]
for _name in ("equal", "not_equal", "logical_and", "logical_or", "logical_xor"):
    _z = complex_uniform((2, 3))
    SAMPLES[_name].append(Sample((_z, np.where(_condition, _z[0], 1j)), label="complex"))
for _name in ("logical_not", "isnan", "isinf", "isfinite"):
    SAMPLES[_name].append(
        Sample((np.array([1 + 2j, 0j, complex(np.nan, 1.0), complex(1.0, np.inf)]),),
               label="complex")
    )
