"""gradcheck: compare chainrule's derivatives with central finite differences, in both modes.

Reverse mode is checked through random cotangents (u . J from vjp vs u . (J e_i) by differences),
forward mode through random tangents (J v from jvp vs (f(x + h v) - f(x - h v)) / 2h), and the
two against each other (<u, J v> computed both ways). Checks run in float64 and complex128;
inputs are promoted.

Complex numbers follow the functional transforms' convention (JAX's and HIPS autograd's): a
cotangent u pairs with a tangent v as Re(sum(u v)), without conjugation. For a complex input
z = x + iy the real and imaginary parts of each entry are perturbed separately, so the check
needs no holomorphy: vjp(u) must equal dL/dx - i dL/dy for L = Re(sum(u * f(z))).
"""

import numpy as np

from chainrule.core.tensor import raw_value
from chainrule.errors import GradcheckError

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jvp"]


def _promoted(value):
    """`value` as a float64 array, or complex128 if it is complex."""
    value = raw_value(value)
    return np.array(value, dtype=np.complex128 if np.iscomplexobj(value) else np.float64)


def _flat_output(function, args):
    return _promoted(function(*args)).ravel()


def _random(rng, shape, complex_):
    """Standard normal entries, with a standard normal imaginary part if `complex_`."""
    if complex_:
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def numerical_jvp(function, args, tangents, eps):
    """(f(x + eps t) - f(x - eps t)) / (2 eps), flattened (complex x and t: a complex step)."""
    plus = [a + eps * t for a, t in zip(args, tangents)]
    minus = [a - eps * t for a, t in zip(args, tangents)]
    return (_flat_output(function, plus) - _flat_output(function, minus)) / (2 * eps)


def _numerical_vjp(function, x, cotangent, eps):
    """The VJP of `cotangent` by differences, entry by entry: dL/dx_k for real x, and
    dL/dx_k - i dL/dy_k for complex x = x + iy, with L = Re(sum(cotangent * f))."""
    units = (1.0, 1j) if np.iscomplexobj(x) else (1.0,)
    numeric = np.zeros(x.shape, dtype=x.dtype)
    basis = np.zeros(x.shape, dtype=x.dtype)
    for k in range(x.size):
        basis.flat[k] = 1.0
        for unit in units:  # conj(unit): +1 for the real direction, -i for the imaginary one
            slope = numerical_jvp(function, [x], [unit * basis], eps)
            numeric.flat[k] += np.real(cotangent.ravel() @ slope) * np.conj(unit)
        basis.flat[k] = 0.0
    return numeric


def _close(analytic, numeric, rtol, atol):
    analytic = np.asarray(raw_value(analytic)).ravel()
    numeric = np.asarray(numeric).ravel()
    if np.iscomplexobj(analytic) and not np.iscomplexobj(numeric):
        return False  # a complex derivative of a real input or output
    return analytic.shape == numeric.shape and np.allclose(analytic, numeric, rtol=rtol, atol=atol)


def gradcheck(function, *args, eps=1e-6, rtol=1e-5, atol=1e-8, modes=("reverse", "forward"),
              wrt=None, seed=0, raise_exception=True):
    """True when the VJP and the JVP of `function` at `args` match central differences.

    `wrt` lists the argument indices to check (default: all). Raises GradcheckError (naming the
    mode, the argument and both values) on a mismatch unless raise_exception=False.

    Complex inputs and outputs are checked too (float64 and complex128): tangents of complex
    inputs and cotangents of complex outputs are random complex numbers, and the differences
    perturb the real and the imaginary part of each entry separately, so a non-holomorphic
    function (abs, conj, real) is checked as well as a holomorphic one. The VJP must give
    dL/dx - i dL/dy for L = Re(sum(u * f(z))) and z = x + iy (the convention of cr.grad, JAX and
    HIPS autograd), and with both modes, Re(sum(vjp(u) * v)) must equal Re(sum(u * jvp(v))).

    Returns:
        True when every checked argument passes in every mode of `modes`; False on the first
        mismatch when raise_exception=False. `function` is called on float64 (or complex128)
        copies of `args`, and must return one array or number.

    Raises:
        GradcheckError: (chainrule.errors.GradcheckError, an AssertionError) on a
            mismatch, when raise_exception is True: the mode, the argument index and both
            values, or the two sides of the VJP/JVP pairing. Errors of `vjp` and `jvp` on
            `function` pass through (any output shape is checked, so not
            NonScalarOutputError).

    Example:
        >>> cr.gradcheck(cnp.sin, np.array([0.3, 0.5]))          # True
        >>> cr.gradcheck(f, x, modes=("reverse",), raise_exception=False)
    """
    from chainrule.transforms import jvp, vjp

    args = [_promoted(a) for a in args]
    wrt = range(len(args)) if wrt is None else wrt
    rng = np.random.default_rng(seed)
    out = _promoted(function(*args))
    for index in wrt:
        def partial(x, index=index):
            full = list(args)
            full[index] = x
            return function(*full)

        x = args[index]
        pulled = pushed = None
        if "reverse" in modes:
            cotangent = _random(rng, out.shape, np.iscomplexobj(out))
            _, vjp_fn = vjp(partial, x)
            (pulled,) = vjp_fn(cotangent)
            numeric = _numerical_vjp(partial, x, cotangent, eps)
            if not _close(pulled, numeric, rtol, atol):
                return _fail(raise_exception, "reverse (VJP)", index, pulled, numeric)
        if "forward" in modes:
            tangent = _random(rng, x.shape, np.iscomplexobj(x))
            _, pushed = jvp(partial, (x,), (tangent,))
            numeric = numerical_jvp(partial, [x], [tangent], eps)
            if not _close(pushed, numeric, rtol, atol):
                return _fail(raise_exception, "forward (JVP)", index, pushed, numeric)
        if pulled is not None and pushed is not None:
            pairings = _pairings(pulled, tangent, cotangent, pushed)
            if pairings is not None:
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"gradcheck: the VJP and the JVP w.r.t. argument {index} are not transposes "
                    f"of each other: Re(sum(vjp(u) * v)) = {pairings[0]!r} but "
                    f"Re(sum(u * jvp(v))) = {pairings[1]!r} for random u and v."
                )
    return True


def _pairings(pulled, tangent, cotangent, pushed):
    """None when Re(sum(vjp(u) * v)) == Re(sum(u * jvp(v))) (the two modes are one linear map
    and its transpose; both sides are computed, so only rounding separates them), else both."""
    pulled, pushed = np.asarray(raw_value(pulled)), np.asarray(raw_value(pushed))
    terms = (pulled * tangent).ravel(), (cotangent * pushed).ravel()
    left, right = (float(np.real(np.sum(t))) for t in terms)
    scale = max(1.0, float(np.sum(np.abs(terms[0]))), float(np.sum(np.abs(terms[1]))))
    if not (np.isfinite(left) and np.isfinite(right)) or abs(left - right) <= 1e-9 * scale:
        return None
    return left, right


def gradgradcheck(function, *args, eps=1e-5, rtol=1e-4, atol=1e-6, seed=1, raise_exception=True):
    """Second order: check the VJP of `function` (as a function of the inputs) by gradcheck;
    complex inputs and outputs as in gradcheck (the cotangent is then complex).

    The function checked is sum over the inputs of sum(vjp(u) ** 2) for one random cotangent u,
    so the first derivatives themselves are not compared with differences: run `gradcheck`
    as well.

    Returns:
        True when the derivatives of the VJP match central differences; False on a mismatch
        when raise_exception=False.

    Raises:
        GradcheckError: (an AssertionError) on a mismatch, when raise_exception is True.

    Example:
        >>> cr.gradgradcheck(cnp.sin, np.array([0.3, 0.5]))      # True
    """
    from chainrule.transforms import vjp

    args = [_promoted(a) for a in args]
    rng = np.random.default_rng(seed)
    out = _promoted(function(*args))
    cotangent = _random(rng, out.shape, np.iscomplexobj(out))

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
