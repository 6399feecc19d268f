"""Helpers shared by the rule tables: how one rule serves both modes, and NaN-safe products."""

import numpy as np

from chainrule.core.config import settings as _settings
from chainrule.core.config import strict_nan_error
from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.namespace import is_foreign
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, ZERO, bind, defprimitive
from chainrule.core.trace import physical_value, strip_derivatives
from chainrule.errors import DTypeError
from chainrule.ops._batching import POINTWISE

__all__ = [
    "unary", "binary", "zero_derivative", "safe_times", "select", "const", "prim", "via_operator",
    "real_only",
]


def prim(name):
    """The registered primitive `name` (looked up when a rule runs, so tables may refer ahead)."""
    return REGISTRY[name]


def const(value):
    """`value` as a constant, for masks and indices (never differentiated): a plain array, or
    under `cr.vmap` a batched value, since each example has its own mask. Compute with it
    through operators and primitives, not NumPy functions, so that batching applies."""
    if type(value) not in TRACED_TYPES:
        return value
    return strip_derivatives(value)


class finite:  # noqa: N801 - used like a function in rules: finite(y * x ** (y - 1))
    """A local derivative known to be finite wherever its inputs are (y x^(y-1) for a constant
    y >= 1): `safe_times` multiplies it as it is, with no zero-cotangent check to make (under
    cr.jit, where values are not known, that check costs two array operations)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def safe_times(cotangent, derivative, what="an operation"):
    """cotangent * derivative, where a zero cotangent contributes zero even if the local
    derivative is infinite or NaN (sqrt'(0), log'(0)...): the untaken branch of `where`
    must not poison a gradient. Under `cr.config(strict_nan=True)` that case raises instead."""
    if type(derivative) is float:
        if derivative == 1.0:
            return cotangent  # exactly 1 (power's for x ** 1): no product, no copy
        if 0.0 < abs(derivative) <= 1.0:
            # A nonzero number of size at most 1 (`loss / batch`): the product neither
            # overflows nor makes a NaN from a finite or infinite cotangent, and a zero
            # cotangent gives zero by itself, so there is nothing to check or silence.
            return cotangent * derivative
    if type(derivative) is finite:
        return cotangent * derivative.value
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        product = cotangent * derivative
    floor = physical_value(product)
    if type(floor) in TRACED_TYPES or is_foreign(floor):
        # Staged by cr.jit, or a Dask array: no values to look at (a replay must be right for
        # any; looking would compute the Dask graph), so the general form. (strict_nan needs
        # values; it applies to NumPy values outside jit.)
        return select(const(cotangent) == 0, 0.0, product)
    # All examples of a vmap at once: if every entry is finite, every example's is.
    if np.isfinite(floor).all():
        return product
    zero_cotangent = const(cotangent) == 0
    if _settings.strict_nan and np.any(
        physical_value(zero_cotangent) & ~np.isfinite(physical_value(const(derivative)))
    ):
        raise strict_nan_error(what, cotangent, derivative)
    return select(zero_cotangent, 0.0, product)


def _safe_times_for(name):
    return lambda a, b: safe_times(a, b, name)


def select(condition, if_true, if_false):
    """NumPy's where(condition, x, y) in rules; the condition is never differentiated."""
    condition = const(condition)
    if type(condition) not in TRACED_TYPES and not is_foreign(condition):
        condition = np.asarray(condition, dtype=bool)
        # A condition that picks one side everywhere (power's `y == 0` for a constant y) passes
        # that side through: no copy, no recorded `where` (under jacfwd, a batch-sized one).
        if condition.size and (condition.all() or not condition.any()):
            chosen, other = (if_true, if_false) if condition.flat[0] else (if_false, if_true)
            if _passes_through(chosen, other, condition):
                return chosen
    return bind(prim("where"), condition, if_true, if_false)


def _passes_through(chosen, other, condition):
    """Whether where(condition, ...) picking `chosen` everywhere is `chosen` itself: same shape
    and dtype as the result would have."""
    if type(chosen) not in TRACED_TYPES and not isinstance(chosen, np.ndarray):
        return False
    if not condition.ndim and type(other) in (float, int):  # select(x == 0, 0.0, x): cheap
        return dtype_of(chosen).kind in "fc"
    shape, dtype = shape_of(chosen), dtype_of(chosen)
    return (
        np.broadcast_shapes(shape, shape_of(other), condition.shape) == shape
        and np.result_type(dtype, other if type(other) in (float, int) else dtype_of(other))
        == dtype
    )


def unary(name, impl, derivative, saves, singular=False, *, formula, aliases=(),
          expression=True, ufunc=None, xp=None):
    """An elementwise primitive from its local derivative; the VJP and the JVP are the same
    product (the Jacobian is diagonal). `singular` marks derivatives that can be infinite.

    The row is all chainrule needs: it is published in chainrule.numpy as `name` and `aliases`,
    answers to NumPy's ufunc of that name (or `ufunc`), may be called in `chainrule explain`
    expressions, and its trace-table entry reads `formula` ("cos({0})"; {out}: the output)."""
    times = _safe_times_for(name) if singular else _times
    derivative = _quiet(derivative) if singular else derivative
    return defprimitive(
        name,
        impl,
        saves=saves,
        vjp=(lambda g, *residuals: times(g, derivative(*residuals)),),
        jvp=(lambda t, *residuals: times(t, derivative(*residuals)),),
        family="elementwise",
        ufunc=ufunc,
        names=(name, *aliases),
        formula=(formula,),
        expression=expression,
        pointwise=True,
        batch=POINTWISE,
        xp=xp,
    )


def binary(name, impl, d_first, d_second, saves, singular=False, *, formula=None, aliases=(),
           expression=False, ufunc=None):
    """A broadcasting elementwise primitive from its two partial derivatives.
    The engine un-broadcasts each cotangent to its input's shape. As `unary`, except that
    `formula` is a pair and expressions call it only if it says `expression=True`."""
    times = _safe_times_for(name) if singular else _times
    if singular:
        d_first, d_second = _quiet(d_first), _quiet(d_second)
    return defprimitive(
        name,
        impl,
        saves=saves,
        vjp=(
            lambda g, *residuals: times(g, d_first(*residuals)),
            lambda g, *residuals: times(g, d_second(*residuals)),
        ),
        jvp=(
            lambda t, *residuals: times(t, d_first(*residuals)),
            lambda t, *residuals: times(t, d_second(*residuals)),
        ),
        family="elementwise",
        ufunc=ufunc,
        names=(name, *aliases),
        formula=formula,
        expression=expression,
        pointwise=True,
        batch=POINTWISE,
    )


def zero_derivative(name, impl, arity=1, family="elementwise", *, aliases=()):
    """A piecewise-constant primitive (floor, sign, ...): derivative zero wherever it exists."""
    return defprimitive(
        name, impl, vjp=(ZERO,) * arity, jvp=(ZERO,) * arity, family=family, pointwise=True,
        names=(name, *aliases) if aliases else None, batch=POINTWISE,
    )


def real_only(impl, name, why="orders numbers"):
    """`impl`, refusing complex operands: NumPy computes these on complex numbers too (ordering
    them lexicographically, or taking z/|z| for sign), but that is not a differentiable
    function of the complex input, so a derivative would be silently wrong."""

    def real_impl(*args, **params):
        for arg in args:
            # (NumPy arrays and Python numbers answer without np.iscomplexobj's ~1 us call:
            # this check runs on every forward and VJP call of these rows.)
            kind = type(arg)
            if kind is np.ndarray:
                if arg.dtype.kind != "c":
                    continue
            elif kind is float or kind is int or kind is bool:
                continue
            if np.iscomplexobj(arg):
                raise DTypeError(
                    f"{name}() got a complex operand (dtype {np.result_type(arg)}): {name} "
                    f"{why}, which has no derivative for complex numbers. Apply it to the real "
                    "part, the imaginary part or the magnitude: cnp.real(z), cnp.imag(z), "
                    "cnp.abs(z)."
                )
        return impl(*args, **params)

    real_impl.__name__ = getattr(impl, "__name__", name)
    if isinstance(impl, np.ufunc):
        # cr.jit's generated code calls the ufunc itself: a replay's dtypes are the traced ones,
        # which this check already passed.
        real_impl.ufunc = impl
    return real_impl


def _times(a, b):
    if type(b) is float and b == 1.0:
        return a  # a derivative that is exactly 1 (power's for x ** 1): the tangent itself
    return a * b


def _quiet(derivative):
    """A singular derivative (1/x at 0...) computed without NumPy's warnings: safe_times
    decides what an infinite value means."""

    def quiet_derivative(*residuals):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return derivative(*residuals)

    return quiet_derivative


_NUMPY_VALUES = {np.ndarray, np.float64, np.float32, np.float16, np.int64, np.int32, np.bool_}
_PYTHON_NUMBERS = {float, int}


def via_operator(ufunc, operator):
    """The ufunc, but through Python's operator when an operand is a NumPy value: identical
    results, and on NumPy scalars the operator skips about a microsecond of ufunc dispatch.
    Anything else (lists...) goes to the ufunc, whose semantics the operator would not keep."""

    def implementation(x, y):
        first, second = type(x), type(y)
        if (first in _NUMPY_VALUES and (second in _NUMPY_VALUES or second in _PYTHON_NUMBERS)) or (
            second in _NUMPY_VALUES and first in _PYTHON_NUMBERS
        ):
            return operator(x, y)
        return ufunc(x, y)

    implementation.__name__ = ufunc.__name__
    implementation.__doc__ = f"numpy.{ufunc.__name__}"
    # What `cr.jit`'s generated code calls instead: the operator (a + b) on NumPy values.
    implementation.ufunc, implementation.operator = ufunc, operator
    return implementation
