"""The elementwise functions that are not rows of the registry themselves: `round` with its
`decimals`, `positive`, `angle` (the argument of a complex number, from its parts), and
`nan_to_num`, which replaces entries with `where`; then functions composed from rows so that
NumPy's values come out bit for bit and the derivatives follow from the rows: `sinc` and `i0`
(right to every order at 0), `fmod`, `copysign`, `heaviside`, `ldexp`, `frexp`, `modf` and
`divmod`. `nextafter` and `spacing` answer on plain values: they are a step of one unit in the
last place, whose derivative nobody means to take.

Masks, signs and exponents are computed by NumPy on constant values (`_on_constant`): a
pointwise NumPy function of a value batched by vmap is computed for all examples at once.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.tensor import raw_value
from chainrule.core.trace import batched_like, physical_value
from chainrule.errors import DTypeError
from chainrule.numpy._common import array_dtype, plain
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.creation import astype
from chainrule.numpy.creation import copy as _copy
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const, real_only

__all__ = [
    "round", "around", "positive", "angle", "fabs", "nan_to_num", "sinc", "i0", "fmod", "copysign",
    "heaviside", "ldexp", "frexp", "modf", "divmod", "nextafter", "spacing",
]


def round(a, decimals=0):  # noqa: A001
    return _elementwise.round(a, decimals=decimals)


around = round


def angle(z, deg=False):
    """The argument of z, atan2(imag(z), real(z)), in radians (degrees with deg=True), as
    np.angle; differentiable wherever z != 0 (real z: 0 or pi, derivative 0)."""
    radians = _elementwise.arctan2(_elementwise.imag(z), _elementwise.real(z))
    return radians * (180.0 / np.pi) if deg else radians


def fabs(x):
    """|x| for real x, as np.fabs, which (unlike abs) refuses complex numbers."""
    checked = real_only(lambda value: value, "fabs", "is for real numbers (as np.fabs)")
    return _elementwise.abs(checked(x))


def positive(x):
    return x


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (defaults: the dtype's largest and most
    negative finite numbers), recorded: finite entries keep their derivative, replaced ones get
    the derivative of their replacement (0 for a number)."""
    dtype = dtype_of(x)
    if dtype.kind not in "fc":
        if type(x) in TRACED_TYPES and x._trace.batched:
            return x  # integers are finite: nothing to replace
        value = np.asarray(raw_value(x))
        return np.nan_to_num(value, copy=copy, nan=raw_value(nan), posinf=posinf, neginf=neginf)
    if dtype.kind == "c":  # NumPy replaces in the real and the imaginary part separately
        parts = [nan_to_num(part(x), copy, nan, posinf, neginf)
                 for part in (_elementwise.real, _elementwise.imag)]
        return parts[0] + 1j * parts[1]
    info = np.finfo(dtype)
    value = const(x)  # under vmap each example has its own masks
    infinite = _elementwise.isinf(value)
    result = x
    for mask, replacement in (
        (_elementwise.isnan(value), nan),
        (_elementwise.logical_and(infinite, value > 0), info.max if posinf is None else posinf),
        (_elementwise.logical_and(infinite, value < 0), info.min if neginf is None else neginf),
    ):
        if np.any(physical_value(mask)):
            result = _elementwise.where(mask, replacement, result)
    return result if result is not x or not copy else _copy(x)


# ----- helpers: constants computed by NumPy, and NumPy's result dtypes ---------------------------
def _on_constant(function, x):
    """`function`, a pointwise NumPy function, of x's value as a constant (a mask, a sign, an
    exponent). Under vmap it runs once on every example's values: a pointwise function keeps
    the batch axes where they are, so the result is batched like x."""
    value = const(x)
    if type(value) not in TRACED_TYPES:
        return function(np.asarray(value))
    return batched_like(value, function(physical_value(value)))


def _numpy_dtype(ufunc, *operands):
    """The dtype NumPy's `ufunc` gives these operands (Python numbers weakly typed, as NumPy 2
    types them), found on empty arrays; NumPy's own TypeError for operands it refuses."""
    probes = [
        operand if type(operand) in (int, float, complex) else np.empty(0, array_dtype(operand))
        for operand in operands
    ]
    result = ufunc(*probes)
    return (result[0] if isinstance(result, tuple) else result).dtype


def _unit_sign(x, dtype):
    """-1 where x's sign bit is set (negative numbers, -0.0), 1 elsewhere, as a constant of
    `dtype`: |x| = x * _unit_sign(x) exactly, with derivative 1 at 0 from either side."""
    return _on_constant(lambda v: np.where(np.signbit(v), -1, 1).astype(dtype), x)


def _as_dtype(x, dtype):
    """x cast to `dtype`, recorded; x itself when it is an array of that dtype already."""
    if array_dtype(x) == dtype and (type(x) in TRACED_TYPES or isinstance(x, np.ndarray)):
        return x
    return astype(x, dtype)


def _any(mask) -> bool:
    return bool(np.any(physical_value(mask)))


# ----- sinc, i0 -----------------------------------------------------------------------------------
# sin(y)/y near y = 0 is replaced by its Taylor polynomial, whose derivatives at 0 are right to
# every order the polynomial reaches (a `where` that returned 1 at 0 would make the second
# derivative 0 there instead of -pi^2/3, and the quotient's own derivatives cancel near 0).
# Within |y| < 1/2 the ten terms are exact to double precision (the next is 0.5^20/21! ~ 1e-26).
_SINC_RADIUS = 0.5
_SINC_SERIES = [(-1.0) ** k / float(np.prod(np.arange(1.0, 2 * k + 2))) for k in range(10)]


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0, as np.sinc (real or complex x). Differentiable to any order
    everywhere, 0 included: near 0 it is evaluated by its Taylor series."""
    y = _elementwise.multiply(x, np.pi)  # integers become float64, as in NumPy
    small = _on_constant(lambda v: np.abs(v) < _SINC_RADIUS, y)
    if not _any(small):
        return _elementwise.sin(y) / y
    near = _elementwise.where(small, y, 0.0)
    square = near * near
    series = _SINC_SERIES[-1]
    for coefficient in reversed(_SINC_SERIES[:-1]):
        series = series * square + coefficient
    far = _elementwise.where(small, 1.0, y)
    return _elementwise.where(small, series, _elementwise.sin(far) / far)


# NumPy's Chebyshev coefficients for i0 (Cephes), on [0, 8] in x/2 - 2 and on (8, inf) in
# 32/x - 2, the latter times exp(x)/sqrt(x).
_I0_NEAR = [
    -4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
    1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
    -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
    9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-09,
    -1.30002500998624804212e-08, 6.04699502254191894932e-08, -2.67079385394061173391e-07,
    1.11738753912010371815e-06, -4.41673835845875056359e-06, 1.64484480707288970893e-05,
    -5.75419501008210370398e-05, 1.88502885095841655729e-04, -5.76375574538582365885e-04,
    1.63947561694133579842e-03, -4.32430999505057594430e-03, 1.05464603945949983183e-02,
    -2.37374148058994688156e-02, 4.93052842396707084878e-02, -9.49010970480476444210e-02,
    1.71620901522208775349e-01, -3.04682672343198398683e-01, 6.76795274409476084995e-01,
]
_I0_FAR = [
    -7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
    3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
    1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
    -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
    7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
    -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
    3.39623202570838634515e-09, 2.26666899049817806459e-08, 2.04891858946906374183e-07,
    2.89137052083475648297e-06, 6.88975834691682398426e-05, 3.36911647825569408990e-03,
    8.04490411014108831608e-01,
]


def _chebyshev(x, coefficients):
    """Clenshaw's recurrence for sum c_k T_k(x/2), as NumPy's `_chbevl`."""
    b0, b1, b2 = coefficients[0], 0.0, 0.0
    for coefficient in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + coefficient
    return 0.5 * (b0 - b2)


def i0(x):
    """The modified Bessel function of the first kind of order 0, as np.i0 (real x): NumPy's
    Chebyshev expansions evaluated with chainrule's rows, so the values are NumPy's and the
    derivative is the expansion's (i1(x), to about 1e-15). |x| is taken as x times a constant
    sign that is 1 at 0, so the second derivative at 0 is right (1/2)."""
    dtype = array_dtype(x)
    if dtype.kind == "c":
        raise DTypeError(
            "i0() got a complex array: np.i0 is defined for real numbers only. Apply it to "
            "cnp.real(z) or cnp.abs(z)."
        )
    if dtype.kind != "f":
        x, dtype = astype(x, np.float64), np.dtype(np.float64)
    magnitude = x * _unit_sign(x, dtype)
    inner = _on_constant(lambda v: v <= 8.0, magnitude)
    near = _elementwise.where(inner, magnitude, 0.0) if _any(~inner) else magnitude
    result = _elementwise.exp(near) * _chebyshev(near / 2.0 - 2, _I0_NEAR)
    if not _any(~inner):
        return result
    far = _elementwise.where(inner, 16.0, magnitude)
    beyond = _elementwise.exp(far) * _chebyshev(32.0 / far - 2.0, _I0_FAR) / _elementwise.sqrt(far)
    return _elementwise.where(inner, result, beyond)


# ----- remainders, signs, steps, exponents -------------------------------------------------------
def fmod(x1, x2):
    """The remainder of x1 / x2 with the sign of x1 (C's fmod), as np.fmod: s1 mod(s1 x1, s2 x2)
    with s the sign (+-1) of each operand, which is NumPy's value exactly (np.mod of
    non-negative numbers is fmod). Derivatives as mod's: 1 and -trunc(x1 / x2)."""
    dtype = _numpy_dtype(np.fmod, x1, x2)
    if dtype.kind != "f":
        return plain(np.fmod)(x1, x2)  # integers: no derivative
    first, second = _unit_sign(x1, dtype), _unit_sign(x2, dtype)
    return first * _elementwise.mod(x1 * first, x2 * second)


def copysign(x1, x2):
    """|x1| with the sign of x2, as np.copysign: x1 or -x1, so the derivative in x1 is +-1 and
    in x2 is 0."""
    dtype = _numpy_dtype(np.copysign, x1, x2)
    flip = _elementwise.not_equal(_on_constant(np.signbit, x1), _on_constant(np.signbit, x2))
    value = _as_dtype(x1, dtype)
    return _elementwise.where(flip, -value, value)


def heaviside(x1, x2):
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0, as np.heaviside: the derivative in x1
    is 0 (a step: (sign(x1) + 1) / 2, sign's zero derivative), in x2 1 where x1 == 0."""
    dtype = _numpy_dtype(np.heaviside, x1, x2)
    step = (_elementwise.sign(_as_dtype(x1, dtype)) + 1) * 0.5
    at_zero = _on_constant(lambda v: v == 0, x1)
    return _elementwise.where(at_zero, _as_dtype(x2, dtype), step)


def ldexp(x1, x2):
    """x1 * 2**x2 for integer x2, as np.ldexp: x1 times three constant powers of two, exact
    (each a power of two in range), so the derivative in x1 is 2**x2. x2 is an integer."""
    dtype = _numpy_dtype(np.ldexp, x1, x2)  # NumPy's TypeError for a float exponent
    # Beyond 3 (maxexp - 1), every nonzero finite x1 overflows or underflows anyway.
    limit = 3 * (np.finfo(dtype).maxexp - 1)
    result = _as_dtype(x1, dtype)
    for part in range(3):
        factor = _on_constant(lambda n, part=part: _power_of_two(n, part, limit, dtype), x2)
        result = result * factor
    return result


def _power_of_two(n, part, limit, dtype):
    """2**(third `part` of n), n clipped to +-limit: the three thirds add up to n and share its
    sign, so multiplying by them one after the other never overflows early."""
    n = np.clip(n, -limit, limit)
    first = n // 3
    second = (n - first) // 2
    exponent = (first, second, n - first - second)[part]
    return np.ldexp(np.ones((), dtype), exponent.astype(np.int32))


def frexp(x):
    """(mantissa, exponent) with x = mantissa * 2**exponent, as np.frexp. The mantissa is
    differentiable, with derivative 2**-exponent (a constant between the powers of two, where it
    jumps); the exponent is an integer."""
    exponent = _on_constant(lambda v: np.frexp(v)[1], x)
    return ldexp(x, -exponent), exponent


def modf(x):
    """(fractional part, integral part), as np.modf: x - trunc(x) with x's sign, and trunc(x).
    Derivatives 1 and 0."""
    dtype = _numpy_dtype(np.modf, x)
    x = _as_dtype(x, dtype)
    integral = _elementwise.trunc(x)
    with np.errstate(invalid="ignore"):  # inf - inf, replaced below
        fraction = x - integral
    infinite = _on_constant(np.isinf, x)
    if _any(infinite):
        fraction = _elementwise.where(infinite, 0.0, fraction)
    return copysign(fraction, x), integral


def divmod(x1, x2):  # noqa: A001
    """(x1 // x2, x1 % x2), as np.divmod."""
    return _elementwise.floor_divide(x1, x2), _elementwise.mod(x1, x2)


nextafter = plain(np.nextafter)
spacing = plain(np.spacing)


wrap_public(globals(), __all__)
