"""Elementwise primitives: one row each, with its local derivative.

For a unary f, both rules multiply by f'(x): VJP g*f'(x), JVP t*f'(x). Derivatives are written
with chainrule's own primitives, so they can be differentiated again. `OUT` means the rule
reuses the primitive's output (exp' = exp), which saves keeping the input alive.
"""

import math
import operator

import numpy as np

from chainrule.core.dtypes import complex_pair, dtype_of
from chainrule.core.namespace import numpy_dtype
from chainrule.core.primitive import LINEAR, NONDIFF, OUT, ZERO, InputAval, defprimitive
from chainrule.core.tensor import Tensor
from chainrule.errors import DTypeError
from chainrule.ops._batching import POINTWISE
from chainrule.ops._rules import (
    binary,
    const,
    finite,
    prim,
    real_only,
    safe_times,
    select,
    unary,
    via_operator,
    zero_derivative,
)

X, Y = 0, 1
_LN2 = np.log(2.0)
_LN10 = np.log(10.0)


def _sigmoid(x):
    """1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: e^-|x| never overflows, and no
    1 - (something near 1) loses the small values of either tail."""
    x = np.asarray(x)
    small = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, small) / (1.0 + small)


# fmt: off
# ----- unary: name, NumPy implementation, derivative(residuals), residuals, the derivative as text.
# A row is all a unary primitive needs: chainrule.numpy, NumPy dispatch, `chainrule explain` and
# the trace tables read it (see `unary`); its samples go in tests/samples/elementwise.py.
sin     = unary("sin",     np.sin,     lambda x: cos(x),                     saves=(X,),   formula="cos({0})")
cos     = unary("cos",     np.cos,     lambda x: -sin(x),                    saves=(X,),   formula="-sin({0})")
tan     = unary("tan",     np.tan,     lambda out: 1.0 + out * out,          saves=(OUT,), formula="1 + {out}^2")
arcsin  = unary("arcsin",  np.arcsin,  lambda x: _inverse_derivative(x, arcsin, cos, lambda: 1.0 / sqrt(1.0 - x * x)),    saves=(X,),   formula="1/sqrt(1 - {0}^2)", singular=True, aliases=("asin",))
arccos  = unary("arccos",  np.arccos,  lambda x: _inverse_derivative(x, arccos, sin, lambda: -1.0 / sqrt(1.0 - x * x), -1.0),   saves=(X,),   formula="-1/sqrt(1 - {0}^2)", singular=True, aliases=("acos",))
arctan  = unary("arctan",  np.arctan,  lambda x: 1.0 / (1.0 + x * x),        saves=(X,),   formula="1/(1 + {0}^2)", aliases=("atan",))
sinh    = unary("sinh",    np.sinh,    lambda x: cosh(x),                    saves=(X,),   formula="cosh({0})")
cosh    = unary("cosh",    np.cosh,    lambda x: sinh(x),                    saves=(X,),   formula="sinh({0})")
tanh    = unary("tanh",    np.tanh,    lambda out: 1.0 - out * out,          saves=(OUT,), formula="1 - {out}^2")
arcsinh = unary("arcsinh", np.arcsinh, lambda x: _inverse_derivative(x, arcsinh, cosh, lambda: 1.0 / sqrt(x * x + 1.0)),    saves=(X,),   formula="1/sqrt({0}^2 + 1)", aliases=("asinh",))
arccosh = unary("arccosh", np.arccosh, lambda x: _arccosh_derivative(x),     saves=(X,),   formula="1/sqrt({0}^2 - 1)", singular=True, aliases=("acosh",))
arctanh = unary("arctanh", np.arctanh, lambda x: 1.0 / (1.0 - x * x),        saves=(X,),   formula="1/(1 - {0}^2)", singular=True, aliases=("atanh",))
exp     = unary("exp",     np.exp,     lambda out: out,                      saves=(OUT,), formula="{out}")
exp2    = unary("exp2",    np.exp2,    lambda out: out * _LN2,               saves=(OUT,), formula="{out}·ln 2")
expm1   = unary("expm1",   np.expm1,   lambda out: out + 1.0,                saves=(OUT,), formula="{out} + 1")
log     = unary("log",     np.log,     lambda x: 1.0 / x,                    saves=(X,),   formula="1/{0}", singular=True)
log2    = unary("log2",    np.log2,    lambda x: 1.0 / (x * _LN2),           saves=(X,),   formula="1/({0}·ln 2)", singular=True)
log10   = unary("log10",   np.log10,   lambda x: 1.0 / (x * _LN10),          saves=(X,),   formula="1/({0}·ln 10)", singular=True)
log1p   = unary("log1p",   np.log1p,   lambda x: 1.0 / (1.0 + x),            saves=(X,),   formula="1/(1 + {0})", singular=True)
sqrt    = unary("sqrt",    np.sqrt,    lambda out: 0.5 / out,                saves=(OUT,), formula="1/(2·{out})", singular=True)
cbrt    = unary("cbrt",    np.cbrt,    lambda out: 1.0 / (3.0 * out * out),  saves=(OUT,), formula="1/(3·{out}^2)", singular=True)
# A primitive, not 0.5 tanh(x / 2) + 0.5: that loses the small value 1 - 1/(1 + e^-x) for x < 0.
# sigmoid' = sigmoid(x) sigmoid(-x): both factors keep full relative accuracy, where the
# 1 - sigmoid(x) of the textbook form cancels to 0 for large x (so would tanh's 1 - out^2).
sigmoid = unary("sigmoid", real_only(_sigmoid, "sigmoid", "is computed by cases on the sign"),   lambda x: sigmoid(x) * sigmoid(-x),   saves=(X,),   formula="{out}·(1 - {out})",
                xp=lambda xp, x: 1.0 / (1.0 + xp.exp(-x)))
square  = unary("square",  np.square,  lambda x: 2.0 * x,                    saves=(X,),   formula="2·{0}")
reciprocal = unary("reciprocal", np.reciprocal, lambda out: -out * out,     saves=(OUT,), formula="-{out}^2", singular=True)
# |x|' = sign(x): the subgradient 0 at 0.
abs     = defprimitive("abs", np.abs, saves=(X,), vjp=(lambda g, x: _abs_vjp(g, x),), jvp=(lambda t, x: _abs_jvp(t, x),),  # noqa: A001
                       family="elementwise", names=("abs", "absolute"), formula=("sign({0})",), expression=True,
                       pointwise=True, batch=POINTWISE)
deg2rad = unary("deg2rad", np.deg2rad, lambda: np.pi / 180.0,               saves=(),     formula="π/180", aliases=("radians",))
rad2deg = unary("rad2deg", np.rad2deg, lambda: 180.0 / np.pi,               saves=(),     formula="180/π", aliases=("degrees",))

negative = defprimitive("negative", np.negative, vjp=(lambda g: -g,), jvp=LINEAR, family="elementwise",
                        formula=("-1",), pointwise=True, batch=POINTWISE)
# astype: the engine casts each cotangent back to its input's dtype (a real input's cotangent
# keeps the real part of a complex one). Complex to real is refused, see `_cast`.
astype = defprimitive("astype", lambda x, dtype, copy=False: _cast(x, dtype, copy),
                      xp=lambda xp, x, dtype, copy=False: xp.astype(x, _namespace_dtype(xp, dtype)),
                      vjp=(lambda g, dtype, copy=False: g,), jvp=(lambda t, dtype, copy=False: _cast_tangent(t, dtype),), family="elementwise",
                      formula=(("{g}", "{t}"),), pointwise=True, batch=POINTWISE)

# Piecewise constant: zero derivative wherever one exists (documented, like JAX and PyTorch).
sign  = zero_derivative("sign",  real_only(np.sign, "sign", "is z/|z| for complex z, not piecewise constant"))
floor = zero_derivative("floor", np.floor)
ceil  = zero_derivative("ceil",  np.ceil)
rint  = zero_derivative("rint",  real_only(np.rint, "rint", "rounds"))
trunc = zero_derivative("trunc", np.trunc, aliases=("fix",))
round = zero_derivative("round", real_only(lambda x, decimals=0: np.round(x, decimals), "round", "rounds"))  # noqa: A001
floor_divide = zero_derivative("floor_divide", np.floor_divide, arity=2)


# ----- binary, broadcasting: name, implementation, d/dx, d/dy, residuals -------------------------
# `chainrule explain` expressions call a binary row only if it says expression=True: + - * / **
# are operators there, and `pow` keeps its exponent limit.
add      = defprimitive("add", via_operator(np.add, operator.add), vjp=(lambda g: g, lambda g: g),
                        jvp=(lambda t: t, lambda t: t), family="elementwise", formula=("1", "1"), pointwise=True,
                        batch=POINTWISE)
# Linear, so its JVP is itself: dx - dy is one subtraction (a batch-sized one under jacfwd), where
# per-input rules would negate dy and then add.
subtract = defprimitive("subtract", via_operator(np.subtract, operator.sub), vjp=(lambda g: g, lambda g: -g),
                        jvp=LINEAR, family="elementwise", formula=("1", "-1"), pointwise=True,
                        batch=POINTWISE)
multiply = binary("multiply", via_operator(np.multiply, operator.mul), lambda x, y: y, lambda x, y: x, saves=(X, Y),
                  formula=("{1}", "{0}"))
# d(x/y) = dx/y - (x/y) dy/y
divide   = binary("divide", via_operator(np.divide, operator.truediv), lambda y, out: _reciprocal(y), lambda y, out: -out / y,
                  saves=(Y, OUT), singular=True, formula=("1/{1}", "-{0}/{1}^2"), aliases=("true_divide",))
# d(x^y) = y x^(y-1) dx + log(x) x^y dy; both terms taken as 0 where they are 0 * infinity.
power    = binary("power", via_operator(np.power, operator.pow), lambda x, y, out: _power_dx(x, y),
                  lambda x, y, out: _power_dy(x, out), saves=(X, Y, OUT), singular=True,
                  formula=("{1}·{0}^({1}-1)", "{out}·log({0})"), aliases=("pow",))
float_power = binary("float_power", np.float_power, lambda x, y, out: _power_dx(x, y),
                     lambda x, y, out: _power_dy(x, out), saves=(X, Y, OUT), singular=True)
# max/min: the input that wins takes the cotangent; ties split it evenly (as JAX and PyTorch).
maximum  = binary("maximum", real_only(np.maximum, "maximum"), lambda x, y, out: _winner(x, y, out),
                  lambda x, y, out: _winner(y, x, out), saves=(X, Y, OUT), expression=True)
minimum  = binary("minimum", real_only(np.minimum, "minimum"), lambda x, y, out: _winner(x, y, out),
                  lambda x, y, out: _winner(y, x, out), saves=(X, Y, OUT), expression=True)
fmax     = binary("fmax", real_only(np.fmax, "fmax"), lambda x, y, out: _winner(x, y, out),
                  lambda x, y, out: _winner(y, x, out), saves=(X, Y, OUT))
fmin     = binary("fmin", real_only(np.fmin, "fmin"), lambda x, y, out: _winner(x, y, out),
                  lambda x, y, out: _winner(y, x, out), saves=(X, Y, OUT))
# atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
arctan2  = binary("arctan2", np.arctan2, lambda y, x: x / (x * x + y * y),
                  lambda y, x: -y / (x * x + y * y), saves=(X, Y), singular=True, expression=True,
                  aliases=("atan2",))
hypot    = binary("hypot", np.hypot, lambda x, y, out: _ratio(x, out),
                  lambda x, y, out: _ratio(y, out), saves=(X, Y, OUT), expression=True)
# logaddexp: d/dx = e^x / (e^x + e^y) = sigmoid(x - y), the softmax weight of x. Not exp(x - out):
# that is the same number, but its derivative exp(x - out) (1 - exp(x - out)) cancels to 0 where
# x >> y, and sigmoid's is sigmoid(x - y) sigmoid(y - x). (logaddexp2: the same in base 2.)
logaddexp  = binary("logaddexp", np.logaddexp, lambda x, y: sigmoid(x - y),
                    lambda x, y: sigmoid(y - x), saves=(X, Y), expression=True)
logaddexp2 = binary("logaddexp2", np.logaddexp2, lambda x, y: sigmoid((x - y) * _LN2),
                    lambda x, y: sigmoid((y - x) * _LN2), saves=(X, Y))
# x mod y = x - floor(x / y) * y
mod      = binary("mod", np.mod, lambda x, y: 1.0, lambda x, y: -floor(x / y), saves=(X, Y), aliases=("remainder",))
# fmt: on


def _xp_condition(condition):
    """A where condition as booleans (NumPy reads a 0/1 float mask as one; the standard does
    not)."""
    dtype = getattr(condition, "dtype", None)
    if dtype is None or numpy_dtype(dtype).kind == "b":
        return condition
    return condition != 0


def _namespace_dtype(xp, dtype):
    """NumPy's dtype as the namespace spells it (array-api-strict has its own dtype objects)."""
    return getattr(xp, np.dtype(dtype).name, dtype)


def _cast(x, dtype, copy):
    """x.astype(dtype), except complex to real numbers: NumPy drops the imaginary part with a
    warning, which hides a bug more often than it says what was meant."""
    array = np.asarray(x)
    if array.dtype.kind == "c" and np.dtype(dtype).kind in "fiu":
        raise DTypeError(
            f"astype: casting complex values ({array.dtype}) to {np.dtype(dtype)} would drop "
            "their imaginary parts. Say which real number you mean: cnp.real(z), cnp.imag(z) "
            "or cnp.abs(z), then cast."
        )
    return array.astype(dtype, copy=copy)


def _cast_tangent(t, dtype):
    # A complex tangent of a real value (jvp, asked for) keeps its imaginary part through a
    # cast between real dtypes, at the paired precision: J (a + ib) = J a + i J b.
    if dtype_of(t).kind == "c" and np.dtype(dtype).kind == "f":
        dtype = complex_pair(dtype)
    return astype(t, dtype=dtype)


def _arccosh_derivative(x):
    # 1/sqrt(x^2 - 1) for real x; for complex x, 1/sinh(arccosh(x)) (see below).
    if dtype_of(x).kind == "c":
        return 1.0 / sinh(arccosh(x))
    return 1.0 / sqrt(x * x - 1.0)


def _inverse_derivative(x, inverse, derivative_of_forward, real_form, sign=1.0):
    # (real_form: a function, so that complex x computes only the form it uses)
    """The derivative of an inverse function, f^-1(x)' = 1 / f'(f^-1(x)) (arcsin' = 1/cos(out)).
    For real x the rows' algebraic forms (1/sqrt(1 - x^2)) serve; for complex x those take the
    principal sqrt, whose side of a branch cut can differ from the side NumPy's value is on (a
    real x > 1 given as x+0j), so the derivative is computed from the value itself."""
    if dtype_of(x).kind == "c":
        return sign / derivative_of_forward(inverse(x))
    return real_form()


def _reciprocal(y):
    """1 / y, NumPy's way for a Python number too: x / 0 has derivative 1/0 = inf (signed by
    the zero) where Python's 1.0 / 0 would raise ZeroDivisionError."""
    if type(y) in (float, int, bool) and y == 0:
        return math.copysign(math.inf, y)
    return 1.0 / y


def _power_dx(x, y):
    if type(y) is not Tensor and np.ndim(y) == 0:  # a constant exponent, the common case
        if y == 1:
            # x ** 1, which the rule of x ** 2 differentiates under forward-over-reverse
            # (hessian): its derivative is the number 1, so the rules pass the tangent
            # through (no batch-sized product by ones).
            return 1.0
        if np.isrealobj(y) and y >= 1:
            return finite(y * power(x, y - 1.0))  # x ** (y - 1) with y - 1 >= 0: finite
        if y != 0:
            return y * power(x, y - 1.0)
    derivative = y * power(x, y - 1.0)
    return select(const(y) == 0, 0.0, derivative)


def _power_dy(x, out):
    # log(x) * x^y, with log(0) replaced by 0 because x^y = 0 there (for y > 0). A complex
    # power of a real base is exp(y log x) with the principal log (ln|x| + i pi for x < 0):
    # take the log of x as a complex number, where the real log would give NaN.
    if dtype_of(out).kind == "c" and dtype_of(x).kind != "c":
        x = astype(x, dtype=dtype_of(out))
    safe_x = select(const(x) == 0, 1.0, x)
    return log(safe_x) * out


def _winner(mine, other, out):
    mine, other, out = const(mine), const(other), const(out)
    won = prim("astype")(out == mine, dtype=np.result_type(np.float16, dtype_of(out)))
    return select(mine == other, 0.5, won)


def _ratio(x, out):
    at_origin = const(out) == 0
    return select(at_origin, 0.0, x / select(at_origin, 1.0, out))


# |x|' = sign(x) for real x (the subgradient 0 at 0). For complex z, |z| is real but not
# holomorphic: d|z| = Re(conj(z) dz) / |z|, and with the pairing of cotangents and tangents
# <w, t> = Re(w t) (JAX's and HIPS autograd's), the VJP is g conj(z) / |z| (0 at z = 0).
def _abs_vjp(g, x):
    if dtype_of(x).kind != "c":
        return g * sign(x)
    return safe_times(g, conj(x) / select(const(x) == 0, 1.0, abs(x)), "abs")


def _abs_jvp(t, x):
    if dtype_of(x).kind != "c":
        return t * sign(x)
    return real(conj(x) * t) / select(const(x) == 0, 1.0, abs(x))


# ----- real, imag, conj: the parts of a complex number (identities and zero on real input) -----
# With the pairing <w, t> = Re(w t): real's VJP is g itself (made complex by the engine), imag's
# is -i g (Re(-i g t) = g Im(t)), conj's is conj(g). On complex input their JVPs are themselves.
# On real input they are the identity, zero and the identity, so a complex tangent there (jvp,
# asked for) passes through, or gives zero: J (a + ib) = J a + i J b, like every real rule.
# They save only their input's dtype (InputAval): their JVPs depend on whether it was complex.
real = defprimitive("real", np.real, saves=(InputAval(X),), vjp=(lambda g, x: g,), xp=lambda xp, x: xp.real(x),
                    jvp=(lambda t, x: _part(real, t, x),), family="elementwise", names=("real",),
                    formula=(("{g}", "real({t})"),), pointwise=True, batch=POINTWISE, expression=True)
imag = defprimitive("imag", np.imag, saves=(InputAval(X),), vjp=(lambda g, x: -1j * g,), xp=lambda xp, x: xp.imag(x),
                    jvp=(lambda t, x: imag(t) if _is_complex(x) else None,), family="elementwise",
                    names=("imag",), formula=(("-i·{g}", "imag({t})"),), pointwise=True, batch=POINTWISE,
                    expression=True)
conj = defprimitive("conj", np.conjugate, saves=(InputAval(X),), vjp=(lambda g, x: conj(g),),
                    jvp=(lambda t, x: _part(conj, t, x),), family="elementwise", names=("conj", "conjugate"),
                    formula=(("conj({g})", "conj({t})"),), pointwise=True, batch=POINTWISE, expression=True)


def _is_complex(aval):
    return aval[1].kind == "c"  # (shape, dtype) of the input, saved by InputAval


def _part(part, t, x):
    """real(t) or conj(t) for complex x; for real x (the identity there), t itself."""
    return part(t) if _is_complex(x) else t


# ----- where: the condition is an operand (batched under vmap), never differentiated -----------
where = defprimitive(
    "where",
    lambda condition, x, y: np.where(condition, x, y),
    code="np.where({0}, {1}, {2})",
    xp=lambda xp, condition, x, y: xp.where(_xp_condition(condition), x, y),
    saves=(0,),
    vjp=(ZERO, lambda g, condition: where(condition, g, 0.0), lambda g, condition: where(condition, 0.0, g)),
    jvp=(ZERO, lambda t, condition: where(condition, t, 0.0), lambda t, condition: where(condition, 0.0, t)),
    family="selection",
    formula=("0", ("where(condition, {g}, 0)", "where(condition, {t}, 0)"),
             ("where(condition, 0, {g})", "where(condition, 0, {t})")),
    pointwise=True,
    batch=POINTWISE,
)


# clip: the bounds are static; the cotangent passes where lo <= x <= hi (PyTorch's convention).
clip = defprimitive(
    "clip",
    real_only(lambda x, lo, hi: np.clip(x, lo, hi), "clip"),
    xp=lambda xp, x, lo, hi: xp.clip(x, lo, hi),
    saves=(X,),
    vjp=(lambda g, x, lo, hi: g * _inside(x, lo, hi),),
    jvp=(lambda t, x, lo, hi: t * _inside(x, lo, hi),),
    family="selection",
    pointwise=True,
    batch=POINTWISE,
)


def _inside(x, lo, hi):
    x = const(x)
    dtype = np.result_type(np.float16, dtype_of(x))
    if lo is None and hi is None:
        return 1.0
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        mask = x <= hi if mask is None else prim("logical_and")(mask, x <= hi)
    return prim("astype")(mask, dtype=dtype)


# ----- non-differentiable: outputs are booleans, never traced -----------------------------------
def _nondiff(name, impl):
    return defprimitive(name, impl, vjp=NONDIFF, family="comparison", batch=POINTWISE)


equal = _nondiff("equal", np.equal)
not_equal = _nondiff("not_equal", np.not_equal)
less = _nondiff("less", real_only(np.less, "less"))
less_equal = _nondiff("less_equal", real_only(np.less_equal, "less_equal"))
greater = _nondiff("greater", real_only(np.greater, "greater"))
greater_equal = _nondiff("greater_equal", real_only(np.greater_equal, "greater_equal"))
logical_and = _nondiff("logical_and", np.logical_and)
logical_or = _nondiff("logical_or", np.logical_or)
logical_xor = _nondiff("logical_xor", np.logical_xor)
logical_not = _nondiff("logical_not", np.logical_not)
isnan = _nondiff("isnan", np.isnan)
isinf = _nondiff("isinf", np.isinf)
isfinite = _nondiff("isfinite", np.isfinite)
