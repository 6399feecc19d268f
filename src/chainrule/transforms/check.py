"""gradcheck: compare chainrule's derivatives with central finite differences, in both modes.

Reverse mode is checked through random cotangents (u . J from vjp vs u . (J e_i) by differences),
forward mode through random tangents (J v from jvp vs (f(x + h v) - f(x - h v)) / 2h).
Checks run in float64; inputs are promoted.
"""

import numpy as np

from chainrule.core.tensor import raw_value

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jvp"]


class GradcheckError(AssertionError):
    """A derivative that disagrees with finite differences."""


def _as_float64(args):
    return [np.array(raw_value(a), dtype=np.float64) for a in args]


def _flat_output(function, args):
    return np.asarray(raw_value(function(*args)), dtype=np.float64).ravel()


def numerical_jvp(function, args, tangents, eps):
    """(f(x + eps t) - f(x - eps t)) / (2 eps), flattened."""
    plus = [a + eps * t for a, t in zip(args, tangents)]
    minus = [a - eps * t for a, t in zip(args, tangents)]
    return (_flat_output(function, plus) - _flat_output(function, minus)) / (2 * eps)


def _close(analytic, numeric, rtol, atol):
    analytic = np.asarray(raw_value(analytic), dtype=np.float64).ravel()
    numeric = np.asarray(numeric, dtype=np.float64).ravel()
    return analytic.shape == numeric.shape and np.allclose(analytic, numeric, rtol=rtol, atol=atol)


def gradcheck(function, *args, eps=1e-6, rtol=1e-5, atol=1e-8, modes=("reverse", "forward"),
              wrt=None, seed=0, raise_exception=True):
    """True when the VJP and the JVP of `function` at `args` match central differences.

    `wrt` lists the argument indices to check (default: all). Raises GradcheckError (naming the
    mode, the argument and both values) on a mismatch unless raise_exception=False.
    """
    from chainrule.transforms import jvp, vjp

    args = _as_float64(args)
    wrt = range(len(args)) if wrt is None else wrt
    rng = np.random.default_rng(seed)
    out = np.asarray(raw_value(function(*args)), dtype=np.float64)
    for index in wrt:
        def partial(x, index=index):
            full = list(args)
            full[index] = x
            return function(*full)

        x = args[index]
        if "reverse" in modes:
            cotangent = rng.standard_normal(out.shape)
            _, vjp_fn = vjp(partial, x)
            (analytic,) = vjp_fn(cotangent)
            analytic = np.asarray(raw_value(analytic), dtype=np.float64)
            # u . J e_i for every basis direction e_i of x
            numeric = np.array([
                cotangent.ravel() @ numerical_jvp(partial, [x], [basis.reshape(x.shape)], eps)
                for basis in np.eye(x.size)
            ]).reshape(x.shape)
            if not _close(analytic, numeric, rtol, atol):
                return _fail(raise_exception, "reverse (VJP)", index, analytic, numeric)
        if "forward" in modes:
            tangent = rng.standard_normal(x.shape)
            _, analytic = jvp(partial, (x,), (tangent,))
            numeric = numerical_jvp(partial, [x], [tangent], eps)
            if not _close(analytic, numeric, rtol, atol):
                return _fail(raise_exception, "forward (JVP)", index, analytic, numeric)
    return True


def gradgradcheck(function, *args, eps=1e-5, rtol=1e-4, atol=1e-6, seed=1, raise_exception=True):
    """Second order: check the VJP of `function` (as a function of the inputs) by gradcheck."""
    from chainrule.transforms import vjp

    args = _as_float64(args)
    rng = np.random.default_rng(seed)
    out_shape = np.shape(raw_value(function(*args)))
    cotangent = rng.standard_normal(out_shape)

    def first_order(*inputs):
        _, vjp_fn = vjp(function, *inputs)
        import chainrule.numpy as cnp

        total = 0.0
        for g in vjp_fn(cotangent):
            total = total + cnp.sum(g * g)
        return total

    return gradcheck(first_order, *args, eps=eps, rtol=rtol, atol=atol, seed=seed,
                     raise_exception=raise_exception)


def _fail(raise_exception, mode, index, analytic, numeric):
    if not raise_exception:
        return False
    raise GradcheckError(
        f"gradcheck: {mode} derivative w.r.t. argument {index} disagrees with central "
        f"finite differences.\n  chainrule: {np.array2string(np.asarray(analytic), precision=6)}"
        f"\n  numeric:   {np.array2string(np.asarray(numeric), precision=6)}"
    )
