"""chainrule.scipy.integrate: SciPy's scipy.integrate names, differentiable.

trapezoid, cumulative_trapezoid and simpson are composites of chainrule's primitives (SciPy's
formulas, so the values agree to rounding). odeint solves an initial value problem with SciPy's
LSODA and differentiates it by the adjoint method, as HIPS autograd and JAX do: the gradient
with respect to y0, the times and the parameters comes from one backward integration of the
adjoint system, also by LSODA, whose vector-Jacobian products come from cr.vjp of the user's
function. The backward pass is itself an odeint, so it can be differentiated again.
"""

import warnings as _warnings

import numpy as _np

from chainrule.core.dtypes import dtype_of as _dtype_of
from chainrule.core.dtypes import shape_of as _shape_of
from chainrule.core.primitive import TRACED_TYPES as _TRACED_TYPES
from chainrule.core.tensor import Tensor as _Tensor
from chainrule.core.trace import physical_value as _physical_value
from chainrule.errors import ArgumentError, ChainruleError, DTypeError, GraphEscapeError, ShapeError
from chainrule.errors import require_extra as _require_extra
from chainrule.numpy import reductions as _reductions
from chainrule.numpy import shapes as _shapes
from chainrule.numpy._common import plain as _plain
from chainrule.numpy._explain import wrap_public as _wrap_public
from chainrule.transforms.custom import custom_vjp as _custom_vjp
from chainrule.transforms.reverse import vjp as _vjp
from chainrule.tree import tree_flatten as _tree_flatten
from chainrule.tree import tree_map as _tree_map
from chainrule.tree import tree_unflatten as _tree_unflatten

__all__ = ["trapezoid", "cumulative_trapezoid", "simpson", "odeint", "IntegrationError"]


class IntegrationError(ChainruleError, RuntimeError):
    """SciPy's ODE solver stopped before reaching the last time asked for."""


def _as_array(a):
    return a if isinstance(a, _Tensor) else _np.asarray(a)


def _ndim(a):
    return len(_shape_of(a))


# ----- quadrature of samples ---------------------------------------------------------------------
def _along(rank, axis, part):
    """An index taking `part` (a slice or an int) along `axis` of a rank-`rank` array."""
    index = [slice(None)] * rank
    index[axis] = part
    return tuple(index)


def _spacings(x, y_rank, axis):
    """np.diff(x) along `axis`, a 1-d x shaped to broadcast against y (NumPy's trapezoid)."""
    if _ndim(x) == 1:
        steps = x[1:] - x[:-1]
        shape = [1] * y_rank
        shape[axis] = _shape_of(steps)[0]
        return _shapes.reshape(steps, tuple(shape))
    rank = _ndim(x)
    return x[_along(rank, axis, slice(1, None))] - x[_along(rank, axis, slice(None, -1))]


def _check_axis(y, axis, what):
    rank = _ndim(y)
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise ShapeError(f"{what}: axis {axis} is out of range for y with shape {_shape_of(y)}")
    return axis % max(rank, 1)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of samples y by the trapezoidal rule along `axis`: at points x (1-d, or
    y's shape) or with spacing dx. Differentiable in y, x and dx."""
    y = _as_array(y)
    axis = _check_axis(y, axis, "trapezoid")
    rank = _ndim(y)
    steps = dx if x is None else _spacings(_as_array(x), rank, axis)
    halves = (y[_along(rank, axis, slice(1, None))] + y[_along(rank, axis, slice(None, -1))])
    return _reductions.sum(steps * halves / 2.0, axis=axis)


def cumulative_trapezoid(y, x=None, dx=1.0, axis=-1, initial=None):
    """The running trapezoidal integral along `axis` (one entry fewer than y, or as many with
    initial=0, which is prepended as SciPy's)."""
    y = _as_array(y)
    axis = _check_axis(y, axis, "cumulative_trapezoid")
    rank = _ndim(y)
    steps = dx if x is None else _spacings(_as_array(x), rank, axis)
    halves = (y[_along(rank, axis, slice(1, None))] + y[_along(rank, axis, slice(None, -1))])
    running = _reductions.cumsum(steps * halves / 2.0, axis=axis)
    if initial is None:
        return running
    if not _np.isscalar(initial) or initial != 0:
        raise ArgumentError("cumulative_trapezoid: initial must be None or 0, as in SciPy")
    widths = [(0, 0)] * rank
    widths[axis] = (1, 0)
    return _shapes.pad(running, widths)


def simpson(y, x=None, *, dx=1.0, axis=-1):
    """The integral of samples y by the composite Simpson rule along `axis`, as SciPy's: for an
    even number of samples the last interval gets Cartwright's correction. Differentiable in y
    and x (and dx)."""
    y = _as_array(y)
    axis = _check_axis(y, axis, "simpson")
    rank = _ndim(y)
    count = _shape_of(y)[axis]
    if x is not None:
        x = _as_array(x)
        if _ndim(x) == 1:
            shape = [1] * rank
            shape[axis] = _shape_of(x)[0]
            x = _shapes.reshape(x, tuple(shape))
        elif _ndim(x) != rank:
            raise ShapeError("simpson: if given, x must be 1-D or have y's shape")
        if _shape_of(x)[axis] != count:
            raise ShapeError("simpson: if given, x must have y's length along axis")
    if count % 2 == 1:
        return _basic_simpson(y, count - 2, x, dx, axis)
    last, second = y[_along(rank, axis, -1)], y[_along(rank, axis, -2)]
    if count == 2:  # one interval: the trapezoid
        step = dx if x is None else x[_along(rank, axis, -1)] - x[_along(rank, axis, -2)]
        return 0.5 * step * (last + second)
    third = y[_along(rank, axis, -3)]
    result = _basic_simpson(y, count - 3, x, dx, axis)
    if x is None:
        h0 = h1 = dx
    else:
        h0 = x[_along(rank, axis, -2)] - x[_along(rank, axis, -3)]
        h1 = x[_along(rank, axis, -1)] - x[_along(rank, axis, -2)]
    # Cartwright's correction for the last interval (SciPy's alpha, beta, eta).
    alpha = (2 * h1**2 + 3 * h0 * h1) / (6 * (h1 + h0))
    beta = (h1**2 + 3.0 * h0 * h1) / (6 * h0)
    eta = h1**3 / (6 * h0 * (h0 + h1))
    return result + alpha * last + beta * second - eta * third


def _basic_simpson(y, stop, x, dx, axis):
    """Simpson's rule over the pairs of intervals starting at 0, 2, ..., stop - 1."""
    rank = _ndim(y)
    first, middle, end = (y[_along(rank, axis, slice(k, stop + k, 2))] for k in range(3))
    if x is None:
        return _reductions.sum(first + 4.0 * middle + end, axis=axis) * (dx / 3.0)
    steps = x[_along(rank, axis, slice(1, None))] - x[_along(rank, axis, slice(None, -1))]
    h0 = steps[_along(rank, axis, slice(0, stop, 2))]
    h1 = steps[_along(rank, axis, slice(1, stop + 1, 2))]
    total, product, ratio = h0 + h1, h0 * h1, h0 / h1
    terms = total / 6.0 * (first * (2.0 - 1.0 / ratio) + middle * (total * (total / product))
                           + end * (2.0 - ratio))
    return _reductions.sum(terms, axis=axis)


# ----- odeint ------------------------------------------------------------------------------------
def odeint(func, y0, t, *args, rtol=1.4e-8, atol=1.4e-8, mxstep=10_000, hmax=_np.inf):
    """Solve dy/dt = func(y, t, *args) from y(t[0]) = y0; return y at every time in t, each
    leaf of shape (len(t), *leaf.shape). The signature of HIPS autograd's and JAX's odeint:
    y0 an array (a list of numbers is one) or a pytree of arrays, t monotonic (increasing or
    decreasing), func written with chainrule.numpy, parameters passed as *args (not closed over,
    so they are differentiated).

    The forward solution is SciPy's LSODA (scipy.integrate.odeint) with relative and absolute
    tolerances rtol and atol, at most mxstep steps between two times, steps at most hmax long.
    Derivatives with respect to y0, t and args come from the adjoint method: a backward LSODA
    integration of [y, a, a_args]' = [f, -a^T df/dy, -a^T df/dargs] from each time to the one
    before, its vector-Jacobian products from cr.vjp of func; the gradient is as accurate as
    the tolerances allow. It works with grad, vjp, jacrev, vmap (example by example), forward
    mode (jvp, jacfwd: by transposing the adjoint) and higher orders (the adjoint is an odeint).
    """
    options = {"rtol": float(rtol), "atol": float(atol), "mxstep": int(mxstep),
               "hmax": float(hmax)}
    y0 = _np.asarray(y0) if _numbers_only(y0) else _tree_map(_as_array, y0)
    t = _as_array(t)
    _check_odeint(func, y0, t, args)
    return _solution(func, options)(y0, t, *args)


def _numbers_only(tree):
    """Whether a list or tuple holds numbers only ([1.0, 0.0]): one array, as NumPy reads it,
    rather than a pytree of scalars."""
    if not isinstance(tree, (list, tuple)):
        return False
    leaves = _tree_flatten(tree)[0]
    if not leaves or not all(isinstance(leaf, (int, float, _np.number)) for leaf in leaves):
        return False
    try:  # a rectangular nesting is one array; a ragged one ((y, a, (g,))) stays a pytree
        return _np.asarray(tree).dtype != object
    except ValueError:
        return False


def _check_odeint(func, y0, t, args):
    if not callable(func):
        raise ArgumentError(f"odeint: func must be a function func(y, t, *args), got "
                            f"{type(func).__name__}")
    if _ndim(t) != 1:
        raise ShapeError(f"odeint: t must be a 1-d array of times, got shape {_shape_of(t)}")
    if _dtype_of(t).kind == "c":
        raise DTypeError("odeint: the times t must be real")
    leaves = _tree_flatten(y0)[0] + _tree_flatten(args)[0]
    if not _tree_flatten(y0)[0]:
        raise ArgumentError("odeint: y0 has no arrays in it")
    for leaf in leaves:
        if _dtype_of(leaf).kind == "c":
            raise DTypeError(
                "odeint integrates real systems (SciPy's LSODA); got a complex y0 or argument. "
                "Integrate the real and imaginary parts as two real arrays, e.g. a pytree "
                "(re, im) for y0."
            )
    values = _np.asarray(_physical_value(t), dtype=_np.float64)  # every example's, under vmap
    steps = _np.diff(values, axis=-1)
    if not _np.all(_np.all(steps >= 0, axis=-1) | _np.all(steps <= 0, axis=-1)):
        raise ArgumentError("odeint: the times t must be monotonic (increasing or decreasing; "
                            "repeated times are allowed)")


def _solution(func, options):
    """y(t) of one ODE as a function of (y0, t, *args) with the adjoint method as its VJP."""

    @_custom_vjp
    def solution(y0, t, *args):
        return _solve(func, y0, t, args, options)

    def forward(y0, t, *args):
        ys = solution(y0, t, *args)
        return ys, (ys, t, args)

    def backward(residuals, cotangent):
        ys, t, args = residuals
        return _adjoint(func, options, ys, t, args, cotangent)

    solution.defvjp(forward, backward)
    solution.name = f"odeint({getattr(func, '__name__', 'func')})"
    return solution


# ----- the forward solution: SciPy on plain values -----------------------------------------------
def _solve(func, y0, t, args, options):
    """SciPy's LSODA on the values (per example under vmap: `plain`), the outputs rebuilt in
    y0's structure."""
    y_leaves, y_tree = _tree_flatten(y0)
    arg_leaves, arg_tree = _tree_flatten(args)
    count = len(y_leaves)

    def integrate(*values):
        y_values, times, arg_values = values[:count], values[count], values[count + 1:]
        return _integrate(func, y_values, y_tree, times,
                          _tree_unflatten(arg_tree, list(arg_values)), options)

    out_leaves = _plain(integrate)(*y_leaves, t, *arg_leaves)
    return _tree_unflatten(y_tree, list(out_leaves))


def _integrate(func, y_values, y_tree, times, args, options):
    """One solution on plain arrays: the state flattened into one vector for LSODA."""
    integrate = _require_extra("scipy.integrate", "scipy")
    y_values = [_np.asarray(v) for v in y_values]
    shapes = [v.shape for v in y_values]
    dtypes = [v.dtype if v.dtype.kind == "f" else _np.dtype(_np.float64) for v in y_values]
    sizes = [v.size for v in y_values]
    splits = _np.cumsum(sizes)[:-1]
    times = _np.asarray(times, dtype=_np.float64)

    def unflatten(flat):
        parts = _np.split(flat, splits)
        return _tree_unflatten(y_tree, [p.reshape(s) for p, s in zip(parts, shapes, strict=True)])

    def rate(flat, time):
        return _flat_rate(func(unflatten(flat), time, *args), y_tree, shapes)

    start = _np.concatenate([v.ravel() for v in y_values]).astype(_np.float64)
    if times.size == 0 or times[0] == times[-1]:  # nothing to integrate (LSODA refuses)
        solution = _np.tile(start, (times.size, 1))
    else:
        solution = _lsoda(integrate, rate, start, times, options)
    columns = _np.split(solution, splits, axis=1)
    return tuple(column.reshape((times.size,) + shape).astype(dtype, copy=False)
                 for column, shape, dtype in zip(columns, shapes, dtypes, strict=True))


def _flat_rate(rate, y_tree, shapes):
    leaves, tree = _tree_flatten(rate)
    if any(type(leaf) in _TRACED_TYPES for leaf in leaves):
        raise GraphEscapeError(
            "odeint: func returned a value traced by a transform: it uses a differentiated or "
            "vmapped value that it closes over. Pass such values as arguments instead, "
            "odeint(func, y0, t, *args) with func(y, t, *args), so that the adjoint method "
            "differentiates them."
        )
    if tree != y_tree or [_np.shape(leaf) for leaf in leaves] != shapes:
        raise ShapeError(
            f"odeint: func(y, t, *args) must return dy/dt shaped like y ({shapes}); it returned "
            f"{[_np.shape(leaf) for leaf in leaves]}"
        )
    return _np.concatenate([_np.ravel(leaf) for leaf in leaves]).astype(_np.float64)


def _lsoda(integrate, rate, start, times, options):
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", integrate.ODEintWarning)
        solution, info = integrate.odeint(
            rate, start, times, rtol=options["rtol"], atol=options["atol"],
            mxstep=options["mxstep"], hmax=0.0 if _np.isinf(options["hmax"]) else options["hmax"],
            full_output=True,
        )
    if info["message"] != "Integration successful.":
        reached = info["tcur"][-1] if len(info["tcur"]) else times[0]
        where = (f"near t = {reached:.6g} " if min(times[0], times[-1]) <= reached
                 <= max(times[0], times[-1]) else "")
        raise IntegrationError(
            f"odeint: SciPy's LSODA stopped {where}before reaching t = {times[-1]:.6g}: "
            f"{info['message']} Raise mxstep (now {options['mxstep']}), loosen rtol/atol, or "
            "check the equations and their inputs for values that blow up or are not finite."
        )
    return solution


# ----- the adjoint method ------------------------------------------------------------------------
# For L depending on y(t_0), ..., y(t_N) with cotangents g_i, the adjoint a(t) = dL/dy(t) obeys
# a' = -a^T df/dy between the times and jumps by g_i at t_i; dL/dargs = integral of
# a^T df/dargs. So from a = g_N at t_N, each interval [t_{i-1}, t_i] is one backward odeint of
# the augmented state [y, a, a_args]' = [f, -a^T df/dy, -a^T df/dargs] (y recomputed backwards
# from y(t_i), a_args accumulating), then a += g_{i-1}. A time's derivative is how much moving
# it moves its output: dL/dt_i = g_i . f(y_i, t_i) for i >= 1, and dL/dt_0 = -a(t_0+) . f(y_0,
# t_0), moving the start shifts every later output (a(t_0+): the adjoint before adding g_0).
def _adjoint(func, options, ys, t, args, cotangent):
    y_leaves, y_tree = _tree_flatten(ys)
    g_leaves = [_np.zeros(_shape_of(y), _dtype_of(y)) if g is None else g
                for y, g in zip(y_leaves, _tree_flatten(cotangent)[0], strict=True)]
    count = _shape_of(t)[0]
    if count == 0:
        y0_cotangent = _tree_map(lambda y: _np.zeros(_shape_of(y)[1:]), ys)
        return y0_cotangent, _np.zeros(0), *_zero_like_args(args)

    def at(leaves, i):
        return _tree_unflatten(y_tree, [leaf[i] for leaf in leaves])

    arg_leaves, arg_tree = _tree_flatten(args)
    floating = [k for k, leaf in enumerate(arg_leaves) if _dtype_of(leaf).kind == "f"]
    adjoint = at(g_leaves, count - 1)
    arg_adjoints = [_np.zeros(_shape_of(arg_leaves[k]), _dtype_of(arg_leaves[k]))
                    for k in floating]
    augmented = _augmented_rate(func, arg_tree, arg_leaves, floating)
    time_adjoints = [None] * count
    after_start = None  # a(t_0+), the adjoint arriving at t_0
    for i in range(count - 1, 0, -1):
        y_i = at(y_leaves, i)
        time_adjoints[i] = _dot(func(y_i, t[i], *args), at(g_leaves, i))
        state = odeint(augmented, (y_i, adjoint, arg_adjoints), _shapes.stack([t[i], t[i - 1]]),
                       *args, **options)
        _, after_start, arg_adjoints = _tree_map(lambda leaf: leaf[1], state)
        adjoint = _tree_map(lambda a, g: a + g, after_start, at(g_leaves, i - 1))
    # (From a(t_0+) itself, not from adjoint - g_0: no returned cotangent is computed from
    # another one, which forward mode's transposition of this rule cannot take yet.)
    time_adjoints[0] = (_np.zeros((), _dtype_of(t)) if after_start is None
                        else -_dot(func(at(y_leaves, 0), t[0], *args), after_start))
    return (adjoint, _shapes.stack(time_adjoints),
            *_args_cotangents(arg_tree, arg_leaves, floating, arg_adjoints))


def _augmented_rate(func, arg_tree, arg_leaves, floating):
    """[y, a, a_args]' = [f, -a^T df/dy, -a^T df/dargs] (the floating leaves of args)."""

    def augmented(state, time, *args):
        y, adjoint, _ = state
        leaves = _tree_flatten(args)[0]

        def rate(y, *floats):
            merged = list(leaves)
            for k, value in zip(floating, floats, strict=True):
                merged[k] = value
            return func(y, time, *_tree_unflatten(arg_tree, merged))

        dy, pullback = _vjp(rate, y, *(leaves[k] for k in floating))
        pulled = pullback(adjoint)
        return dy, _tree_map(lambda c: -c, pulled[0]), [-c for c in pulled[1:]]

    return augmented


def _dot(first, second):
    """sum over the leaves of two pytrees of sum(first * second)."""
    pairs = zip(_tree_flatten(first)[0], _tree_flatten(second)[0], strict=True)
    return sum(_reductions.sum(a * b) for a, b in pairs)


def _args_cotangents(arg_tree, arg_leaves, floating, arg_adjoints):
    """The cotangent of each argument: the accumulated a_args on its floating leaves, zeros on
    the others (integers are not differentiated)."""
    merged = [_np.zeros(_shape_of(leaf)) for leaf in arg_leaves]
    for k, value in zip(floating, arg_adjoints, strict=True):
        merged[k] = value
    return _tree_unflatten(arg_tree, merged)


def _zero_like_args(args):
    return _tree_map(lambda leaf: _np.zeros(_shape_of(leaf)), args)


_wrap_public(globals(), ("trapezoid", "cumulative_trapezoid", "simpson"))
