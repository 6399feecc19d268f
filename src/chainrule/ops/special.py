"""SciPy's special functions as primitives: one row each, SciPy computes the values and the
local derivatives are written with chainrule's own rows (these and ops/elementwise.py), so every
order comes free: d erf = 2/sqrt(pi) exp(-x^2), d gammaln = digamma, d digamma = polygamma(1, .),
d polygamma(n, .) = polygamma(n + 1, .), d iv(v, .) = (iv(v - 1, .) + iv(v + 1, .)) / 2.

SciPy is imported when a row is first applied, never when this module is imported (chainrule
itself does not need SciPy): `chainrule.scipy.special` publishes the rows. They are named
`special.<scipy name>` so that they never meet chainrule.numpy's rows in the registry.

Where a derivative has no closed form in SciPy's functions (gammainc and betainc in their shape
parameters, zeta in its exponent, the orders of polygamma and of the Bessel functions), that
argument's rules raise NonDifferentiableError when it is differentiated: a zero would be a lie.
The rows take complex numbers where SciPy does and every derivative exists for them in SciPy
(erf, erfc, erfcx, ndtr, log_ndtr, xlogy, xlog1py, iv, jv, yv); the others refuse them
(DTypeError).
"""

# ruff: noqa: E501 (the rule table keeps one row per function, as ops/elementwise.py does)

import numpy as np

from chainrule.core.primitive import OUT, ZERO, defprimitive
from chainrule.errors import DTypeError, NonDifferentiableError, require_extra
from chainrule.ops._batching import POINTWISE
from chainrule.ops._rules import const, prim, safe_times, select
from chainrule.ops.elementwise import exp, log, log1p, power, sign

__all__ = [
    "erf", "erfc", "erfinv", "erfcinv", "erfcx", "ndtr", "ndtri", "log_ndtr", "gamma", "gammaln",
    "digamma", "polygamma", "beta", "betaln", "gammainc", "gammaincc", "gammaincinv",
    "gammainccinv", "betainc", "betaincinv", "stdtr", "stdtrit", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div",
    "i0", "i0e", "i1", "i1e", "iv", "ive", "j0", "j1", "jv", "y0", "y1", "yv", "yn", "rgamma",
    "gammasgn", "zeta",
]

# Python floats, which keep a float32 operand float32 (a NumPy float64 would promote it).
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))
_HALF_SQRT_PI = float(np.sqrt(np.pi) / 2.0)
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
_SQRT_2 = float(np.sqrt(2.0))


# ----- the implementations: SciPy's, imported on first use ----------------------------------------
def _scipy_special():
    return require_extra("scipy.special", "scipy")


def _is_inexact(value) -> bool:
    if isinstance(value, (float, complex)):
        return True
    return np.asarray(value).dtype.kind in "fc"


def _result_dtype(args):
    """The dtype of the floating operands together: an integer operand (an order, a count)
    does not make a float32 result float64, as SciPy's own loops would."""
    floating = [a for a in args if _is_inexact(a)]
    return np.result_type(*floating) if floating else np.dtype(np.float64)


def _from_scipy(name, complex_numbers=True, why_real=None):
    """scipy.special.<name> on the operands, in their floating dtype. `complex_numbers=False`
    refuses complex operands with `why_real`, or SciPy's own reason (it has no complex loop)."""

    def implementation(*args, **params):
        if not complex_numbers and any(np.iscomplexobj(a) for a in args):
            raise DTypeError(
                f"scipy.special.{name} got a complex operand: "
                + (why_real or f"SciPy computes {name} for real numbers only.")
            )
        function = getattr(_scipy_special(), name)
        out = function(*args, **params)
        dtype = _result_dtype(args)
        return out if out.dtype == dtype else out.astype(dtype)

    implementation.__name__ = name
    return implementation


def _zeta(x, q, riemann=False):
    if riemann:  # scipy.special.zeta(x): Riemann's, defined below x = 1 too (zeta(x, 1) is not)
        return _from_scipy("zeta", False)(x)
    return _from_scipy("zeta", False)(x, q)


# ----- the rows -----------------------------------------------------------------------------------
class _Refused:
    """A derivative with no closed form: its rules raise, naming the argument."""

    def __init__(self, function, argument, why):
        self.message = (
            f"scipy.special.{function} is not differentiable with respect to {argument} in "
            f"chainrule: {why} Keep {argument} constant (a NumPy array or a number), or, if you "
            "need this derivative, approximate it by finite differences."
        )

    def rule(self, *_, **__):
        raise NonDifferentiableError(self.message)


_NO_CLOSED_FORM = "its derivative there has no closed form in SciPy's special functions."
_INTEGER_ORDER = "it is an integer order, not a continuous variable."


def _row(name, implementation, derivatives, saves, *, formula, singular=False):
    """An elementwise (broadcasting) row from its local partial derivatives, one per operand:
    a function of the residuals (and params), or a `_Refused`. Both rules multiply by it (the
    Jacobian is diagonal); `singular` marks derivatives that can be infinite, where a zero
    cotangent must still contribute zero (see ops/_rules.safe_times)."""
    rules = []
    for position, derivative in enumerate(derivatives):
        if isinstance(derivative, _Refused):
            rule = derivative.rule
        else:
            rule = _scaled_by(derivative, f"special.{name}", singular)
            # a name for tracebacks and profiles: derivative_1_of_gammainc, not <lambda>
            rule.__name__ = rule.__qualname__ = f"derivative_{position}_of_{name}"
        rules.append(rule)
    return defprimitive(
        f"special.{name}", implementation, saves=saves, vjp=tuple(rules), jvp=tuple(rules),
        family="special", names=(), formula=formula, pointwise=True, batch=POINTWISE,
    )


def _scaled_by(derivative, name, singular):
    if not singular:
        return lambda g, *residuals, **params: g * derivative(*residuals, **params)

    def rule(g, *residuals, **params):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            local = derivative(*residuals, **params)
        return None if local is None else safe_times(g, local, name)

    return rule


X, Y, Z = 0, 1, 2
_REAL_DERIVATIVES = (
    "chainrule takes it for real numbers only, as its derivatives need polygamma, which SciPy "
    "computes for real numbers only."
)

# fmt: off
# The error function family and the normal distribution's functions.
erf      = _row("erf", _from_scipy("erf"), (lambda x: _TWO_OVER_SQRT_PI * exp(-(x * x)),),
                (X,), formula=("2/√π·exp(-{0}^2)",))
erfc     = _row("erfc", _from_scipy("erfc"), (lambda x: -_TWO_OVER_SQRT_PI * exp(-(x * x)),),
                (X,), formula=("-2/√π·exp(-{0}^2)",))
# erfinv(erf(y)) = y: d erfinv = 1 / erf'(out) = sqrt(pi)/2 exp(out^2)
erfinv   = _row("erfinv", _from_scipy("erfinv", False), (lambda out: _HALF_SQRT_PI * exp(out * out),),
                (OUT,), formula=("√π/2·exp({out}^2)",), singular=True)
erfcinv  = _row("erfcinv", _from_scipy("erfcinv", False), (lambda out: -_HALF_SQRT_PI * exp(out * out),),
                (OUT,), formula=("-√π/2·exp({out}^2)",), singular=True)
# erfcx = exp(x^2) erfc(x): d erfcx = 2 x erfcx(x) - 2/sqrt(pi)
erfcx    = _row("erfcx", _from_scipy("erfcx"), (lambda x, out: 2.0 * x * out - _TWO_OVER_SQRT_PI,),
                (X, OUT), formula=("2·{0}·{out} - 2/√π",))
ndtr     = _row("ndtr", _from_scipy("ndtr"), (lambda x: exp(-0.5 * x * x) / _SQRT_2PI,),
                (X,), formula=("exp(-{0}^2/2)/√(2π)",))
ndtri    = _row("ndtri", _from_scipy("ndtri", False), (lambda out: _SQRT_2PI * exp(0.5 * out * out),),
                (OUT,), formula=("√(2π)·exp({out}^2/2)",), singular=True)
# d log ndtr = pdf / ndtr = sqrt(2/pi) / erfcx(-x/sqrt 2): no 0/0 where ndtr underflows (x << 0)
log_ndtr = _row("log_ndtr", _from_scipy("log_ndtr"), (lambda x: _SQRT_2_OVER_PI / erfcx(-x / _SQRT_2),),
                (X,), formula=("√(2/π)/erfcx(-{0}/√2)",))

# Gamma and beta functions.
gamma    = _row("gamma", _from_scipy("gamma", False, _REAL_DERIVATIVES), (lambda x, out: out * digamma(x),),
                (X, OUT), formula=("{out}·digamma({0})",), singular=True)
gammaln  = _row("gammaln", _from_scipy("gammaln", False), (lambda x: digamma(x),),
                (X,), formula=("digamma({0})",), singular=True)
digamma  = _row("digamma", _from_scipy("digamma", False, _REAL_DERIVATIVES), (lambda x: polygamma(1, x),),
                (X,), formula=("polygamma(1, {0})",), singular=True)
polygamma = _row("polygamma", _from_scipy("polygamma", False),
                 (_Refused("polygamma", "n", _INTEGER_ORDER), lambda n, x: polygamma(n + 1, x)),
                 (X, Y), formula=("none (integer order)", "polygamma({0} + 1, {1})"), singular=True)
# beta(a, b) = Γ(a) Γ(b) / Γ(a + b): d/da = beta(a, b) (digamma(a) - digamma(a + b))
# 1/Γ(x), entire: d = -rgamma(x) digamma(x) (0 * infinity at the poles of digamma, x = 0, -1, ...)
rgamma   = _row("rgamma", _from_scipy("rgamma", False, _REAL_DERIVATIVES), (lambda x, out: -out * digamma(x),),
                (X, OUT), formula=("-{out}·digamma({0})",), singular=True)
# The sign of Γ(x): piecewise constant, derivative zero wherever it exists (as sign's).
gammasgn = defprimitive("special.gammasgn", _from_scipy("gammasgn", False), vjp=(ZERO,), jvp=(ZERO,),
                        family="special", names=(), formula=("0",), pointwise=True, batch=POINTWISE)
beta     = _row("beta", _from_scipy("beta", False),
                (lambda a, b, out: out * (digamma(a) - digamma(a + b)),
                 lambda a, b, out: out * (digamma(b) - digamma(a + b))),
                (X, Y, OUT), formula=("{out}·(ψ({0}) - ψ({0} + {1}))", "{out}·(ψ({1}) - ψ({0} + {1}))"),
                singular=True)
betaln   = _row("betaln", _from_scipy("betaln", False),
                (lambda a, b: digamma(a) - digamma(a + b), lambda a, b: digamma(b) - digamma(a + b)),
                (X, Y), formula=("ψ({0}) - ψ({0} + {1})", "ψ({1}) - ψ({0} + {1})"), singular=True)

# Incomplete gamma and beta functions, regularized; their inverses in the last argument.
gammainc  = _row("gammainc", _from_scipy("gammainc", False),
                 (_Refused("gammainc", "a", _NO_CLOSED_FORM), lambda a, x: _gamma_density(a, x)),
                 (X, Y), formula=("none in closed form", "{1}^({0}-1)·exp(-{1})/Γ({0})"), singular=True)
gammaincc = _row("gammaincc", _from_scipy("gammaincc", False),
                 (_Refused("gammaincc", "a", _NO_CLOSED_FORM), lambda a, x: -_gamma_density(a, x)),
                 (X, Y), formula=("none in closed form", "-{1}^({0}-1)·exp(-{1})/Γ({0})"), singular=True)
# gammainc(a, gammaincinv(a, y)) = y: d/dy = 1 / gammainc's d/dx at the output
gammaincinv  = _row("gammaincinv", _from_scipy("gammaincinv", False),
                    (_Refused("gammaincinv", "a", _NO_CLOSED_FORM), lambda a, out: 1.0 / _gamma_density(a, out)),
                    (X, OUT), formula=("none in closed form", "Γ({0})·exp({out})/{out}^({0}-1)"), singular=True)
gammainccinv = _row("gammainccinv", _from_scipy("gammainccinv", False),
                    (_Refused("gammainccinv", "a", _NO_CLOSED_FORM), lambda a, out: -1.0 / _gamma_density(a, out)),
                    (X, OUT), formula=("none in closed form", "-Γ({0})·exp({out})/{out}^({0}-1)"), singular=True)
betainc    = _row("betainc", _from_scipy("betainc", False),
                  (_Refused("betainc", "a", _NO_CLOSED_FORM), _Refused("betainc", "b", _NO_CLOSED_FORM),
                   lambda a, b, x: _beta_density(a, b, x)),
                  (X, Y, Z), formula=("none in closed form", "none in closed form",
                                      "{2}^({0}-1)·(1-{2})^({1}-1)/B({0}, {1})"), singular=True)
betaincinv = _row("betaincinv", _from_scipy("betaincinv", False),
                  (_Refused("betaincinv", "a", _NO_CLOSED_FORM), _Refused("betaincinv", "b", _NO_CLOSED_FORM),
                   lambda a, b, out: 1.0 / _beta_density(a, b, out)),
                  (X, Y, OUT), formula=("none in closed form", "none in closed form",
                                        "B({0}, {1})/({out}^({0}-1)·(1-{out})^({1}-1))"), singular=True)

# Student's t distribution function and its inverse in p: d stdtr / dt is t's density.
stdtr    = _row("stdtr", _from_scipy("stdtr", False),
                (_Refused("stdtr", "df", _NO_CLOSED_FORM), lambda df, t: _t_density(df, t)),
                (X, Y), formula=("none in closed form", "Student's t density at {1}"))
stdtrit  = _row("stdtrit", _from_scipy("stdtrit", False),
                (_Refused("stdtrit", "df", _NO_CLOSED_FORM), lambda df, out: 1.0 / _t_density(df, out)),
                (X, OUT), formula=("none in closed form", "1 / Student's t density at {out}"), singular=True)

# x log y and the entropies; 0 log 0 = 0.
xlogy    = _row("xlogy", _from_scipy("xlogy"),
                (lambda x, y: log(y), lambda x, y: x / _unless_both_zero(x, y, y)),
                (X, Y), formula=("log({1})", "{0}/{1}"), singular=True)
xlog1py  = _row("xlog1py", _from_scipy("xlog1py"),
                (lambda x, y: log1p(y), lambda x, y: x / _unless_both_zero(x, y + 1.0, y + 1.0)),
                (X, Y), formula=("log(1 + {1})", "{0}/(1 + {1})"), singular=True)
entr     = _row("entr", _from_scipy("entr", False), (lambda x: -(log(x) + 1.0),),
                (X,), formula=("-(log({0}) + 1)",), singular=True)
rel_entr = _row("rel_entr", _from_scipy("rel_entr", False),
                (lambda x, y: log(x) - log(y) + 1.0, lambda x, y: -x / _unless_both_zero(x, y, y)),
                (X, Y), formula=("log({0}/{1}) + 1", "-{0}/{1}"), singular=True)
kl_div   = _row("kl_div", _from_scipy("kl_div", False),
                (lambda x, y: log(x) - log(y), lambda x, y: 1.0 - x / _unless_both_zero(x, y, y)),
                (X, Y), formula=("log({0}/{1})", "1 - {0}/{1}"), singular=True)

# Modified Bessel functions of the first kind, and exponentially scaled (e^-|x|): I_v' =
# (I_{v-1} + I_{v+1}) / 2, so I_1' = (I_0 + I_2) / 2, finite at 0 (not I_0 - I_1/x). The scaled
# ones have a kink at 0 (from |x|): their derivative there is the mean of both sides' (sign 0).
i0  = _row("i0", _from_scipy("i0", False), (lambda x: i1(x),), (X,), formula=("i1({0})",))
i0e = _row("i0e", _from_scipy("i0e", False), (lambda x, out: i1e(x) - sign(x) * out,),
           (X, OUT), formula=("i1e({0}) - sign({0})·{out}",))
i1  = _row("i1", _from_scipy("i1", False), (lambda x: 0.5 * (i0(x) + iv(2.0, x)),),
           (X,), formula=("(i0({0}) + iv(2, {0}))/2",))
i1e = _row("i1e", _from_scipy("i1e", False),
           (lambda x, out: 0.5 * (i0e(x) + ive(2.0, x)) - sign(x) * out,),
           (X, OUT), formula=("(i0e({0}) + ive(2, {0}))/2 - sign({0})·{out}",))
iv  = _row("iv", _from_scipy("iv"),
           (_Refused("iv", "v", _NO_CLOSED_FORM), lambda v, x: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x))),
           (X, Y), formula=("none in closed form", "(iv({0} - 1, {1}) + iv({0} + 1, {1}))/2"))
ive = _row("ive", _from_scipy("ive", False, "ive scales by exp(-|Re z|), which is not complex-differentiable."),
           (_Refused("ive", "v", _NO_CLOSED_FORM),
            lambda v, x, out: 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x)) - sign(x) * out),
           (X, Y, OUT), formula=("none in closed form", "(ive({0} - 1, {1}) + ive({0} + 1, {1}))/2 - sign({1})·{out}"))

# Bessel functions of the first and second kinds: J_v' = (J_{v-1} - J_{v+1}) / 2, Y likewise.
j0 = _row("j0", _from_scipy("j0", False), (lambda x: -j1(x),), (X,), formula=("-j1({0})",))
j1 = _row("j1", _from_scipy("j1", False), (lambda x: 0.5 * (j0(x) - jv(2.0, x)),),
          (X,), formula=("(j0({0}) - jv(2, {0}))/2",))
jv = _row("jv", _from_scipy("jv"),
          (_Refused("jv", "v", _NO_CLOSED_FORM), lambda v, x: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x))),
          (X, Y), formula=("none in closed form", "(jv({0} - 1, {1}) - jv({0} + 1, {1}))/2"))
y0 = _row("y0", _from_scipy("y0", False), (lambda x: -y1(x),), (X,), formula=("-y1({0})",), singular=True)
y1 = _row("y1", _from_scipy("y1", False), (lambda x: 0.5 * (y0(x) - yv(2.0, x)),),
          (X,), formula=("(y0({0}) - yv(2, {0}))/2",), singular=True)
yv = _row("yv", _from_scipy("yv"),
          (_Refused("yv", "v", _NO_CLOSED_FORM), lambda v, x: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x))),
          (X, Y), formula=("none in closed form", "(yv({0} - 1, {1}) - yv({0} + 1, {1}))/2"), singular=True)
yn = _row("yn", _from_scipy("yn", False),
          (_Refused("yn", "n", _INTEGER_ORDER), lambda n, x: 0.5 * (yn(n - 1, x) - yn(n + 1, x))),
          (X, Y), formula=("none (integer order)", "(yn({0} - 1, {1}) - yn({0} + 1, {1}))/2"), singular=True)

# Hurwitz's zeta(x, q) = sum_k (k + q)^-x: d/dq = -x zeta(x + 1, q). `riemann=True` is Riemann's
# zeta(x) (q unused), defined for x < 1 too, where zeta(x, 1) is not.
zeta = _row("zeta", _zeta,
            (_Refused("zeta", "x", _NO_CLOSED_FORM), lambda x, q, riemann=False: _zeta_dq(x, q, riemann)),
            (X, Y), formula=("none in closed form", "-{0}·zeta({0} + 1, {1})"), singular=True)
# fmt: on


def _unless_both_zero(x, y, denominator):
    """`denominator`, with 1 where x and y are both 0: x / y there is 0 / 0, and the partial
    derivative of x log y in y is 0 wherever x is (the term is identically 0)."""
    both_zero = prim("logical_and")(const(x) == 0, const(y) == 0)
    return select(both_zero, 1.0, denominator)


def _gamma_density(a, x):
    """x^(a-1) e^-x / Γ(a), gammainc's derivative in x. Inside (x > 0) in logs, where the power
    alone would overflow for large a; at x = 0 as a power, whose own derivatives there are right
    (the log form's would be 0 * infinity). Each branch sees only points where it is finite, so
    the branch `select` drops passes no NaN back."""
    inside = const(x) > 0
    x_inside, x_at_zero = select(inside, x, 1.0), select(inside, 1.0, x)
    as_logs = exp(xlogy(a - 1.0, x_inside) - x_inside - gammaln(a))
    as_power = power(x_at_zero, a - 1.0) * exp(-x_at_zero - gammaln(a))
    return select(inside, as_logs, as_power)


def _beta_density(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b), betainc's derivative in x: in logs inside (0, 1), as
    powers at the ends (as `_gamma_density`)."""
    inside = prim("logical_and")(const(x) > 0, const(x) < 1)
    x_inside, x_at_end = select(inside, x, 0.5), select(inside, 0.5, x)
    as_logs = exp(xlogy(a - 1.0, x_inside) + xlog1py(b - 1.0, -x_inside) - betaln(a, b))
    as_powers = power(x_at_end, a - 1.0) * power(1.0 - x_at_end, b - 1.0) * exp(-betaln(a, b))
    return select(inside, as_logs, as_powers)


def _t_density(df, t):
    """Student's t density: Γ((df+1)/2) / (Γ(df/2) sqrt(df π)) (1 + t²/df)^-(df+1)/2, with the
    ratio of gammas as sqrt(π) / B(df/2, 1/2) (betaln keeps it accurate for large df)."""
    return exp(-betaln(0.5 * df, 0.5) - 0.5 * log(df) - 0.5 * (df + 1.0) * log1p(t * t / df))

def _zeta_dq(x, q, riemann):
    if riemann:
        return None  # Riemann's zeta does not read q
    return -x * zeta(x + 1.0, q)

