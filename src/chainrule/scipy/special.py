"""chainrule.scipy.special: SciPy's special functions, differentiable in both modes to any order.

Call them like `scipy.special`'s: `special.erf(x)`, `special.gammainc(a, x)`. SciPy computes the
values (it is imported on first use; without it a call raises MissingExtraError); the derivatives
are written with chainrule's own functions (the rows are in chainrule/ops/special.py), so
`cr.grad(cr.grad(f))` works. Every argument is differentiable except these, whose derivatives
have no closed form in SciPy's functions, or which are integers; differentiating one raises
NonDifferentiableError naming it:

    polygamma(n, x): n                          gammainc, gammaincc, gammaincinv, gammainccinv: a
    betainc(a, b, x), betaincinv(a, b, y): a, b  stdtr(df, t), stdtrit(df, p): df
    iv, ive, jv (jn), yv (v, x): v              yn(n, x): n
    zeta(x, q): x (q is differentiable)         multigammaln(a, d): d (an integer)

gammasgn is piecewise constant: its derivative is 0 wherever it exists (as cnp.sign's).
Complex numbers: erf, erfc, erfcx, ndtr, log_ndtr, xlogy, xlog1py, iv, jv and yv take them
(holomorphic, with JAX's convention for gradients); the others refuse them with a DTypeError, as
SciPy does, or (gamma, digamma, rgamma) because their derivatives need polygamma, which SciPy has
for real numbers only.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.trace import physical_value
from chainrule.errors import DTypeError
from chainrule.numpy import _common
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import special as _rows
from chainrule.ops._rules import const

__all__ = [
    "erf", "erfc", "erfinv", "erfcinv", "erfcx", "ndtr", "ndtri", "log_ndtr", "gamma", "gammaln",
    "digamma", "psi", "polygamma", "multigammaln", "rgamma", "gammasgn", "beta", "betaln",
    "gammainc", "gammaincc", "gammaincinv", "gammainccinv", "betainc", "betaincinv", "stdtr",
    "stdtrit", "expit", "logit", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "logsumexp",
    "softmax", "log_softmax", "i0", "i0e", "i1", "i1e", "iv", "ive", "j0", "j1", "jn", "jv", "y0",
    "y1", "yn", "yv", "zeta",
]

# The rows themselves: a call binds the primitive (its signature is SciPy's).
erf, erfc, erfinv, erfcinv, erfcx = _rows.erf, _rows.erfc, _rows.erfinv, _rows.erfcinv, _rows.erfcx
ndtr, ndtri, log_ndtr = _rows.ndtr, _rows.ndtri, _rows.log_ndtr
gamma, gammaln, digamma, polygamma = _rows.gamma, _rows.gammaln, _rows.digamma, _rows.polygamma
psi = digamma
beta, betaln = _rows.beta, _rows.betaln
gammainc, gammaincc, gammaincinv, gammainccinv = (
    _rows.gammainc, _rows.gammaincc, _rows.gammaincinv, _rows.gammainccinv
)
betainc, betaincinv = _rows.betainc, _rows.betaincinv
stdtr, stdtrit = _rows.stdtr, _rows.stdtrit
xlogy, xlog1py, entr, rel_entr, kl_div = (
    _rows.xlogy, _rows.xlog1py, _rows.entr, _rows.rel_entr, _rows.kl_div
)
i0, i0e, i1, i1e, iv, ive = _rows.i0, _rows.i0e, _rows.i1, _rows.i1e, _rows.iv, _rows.ive
j0, j1, jv, y0, y1, yv, yn = _rows.j0, _rows.j1, _rows.jv, _rows.y0, _rows.y1, _rows.yv, _rows.yn
jn = jv  # SciPy's jn is jv
rgamma, gammasgn = _rows.rgamma, _rows.gammasgn


def _refuse_complex(value, name):
    if dtype_of(value).kind == "c":
        raise DTypeError(
            f"scipy.special.{name} got a complex operand (dtype {dtype_of(value)}): SciPy "
            f"computes {name} for real numbers only. Apply it to cnp.real(z), cnp.imag(z) or "
            "cnp.abs(z)."
        )


def zeta(x, q=None):
    """Riemann's zeta(x), or Hurwitz's zeta(x, q) = sum_k (k + q)^-x, as scipy.special.zeta.

    Differentiable in q (d/dq = -x zeta(x + 1, q)); not in x, where the derivative has no
    closed form in SciPy's functions (NonDifferentiableError)."""
    if q is None:
        return _rows.zeta(x, 1.0, riemann=True)
    return _rows.zeta(x, q)


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension d, as scipy.special.multigammaln:
    d (d - 1) / 4 log(pi) + sum_j gammaln(a - j / 2), j = 0 .. d - 1. Differentiable in a."""
    d = np.asarray(d)[()]
    if not np.isscalar(d) or np.floor(d) != d:
        raise ValueError("d should be a positive integer (dimension)")
    _refuse_complex(a, "multigammaln")
    if np.any(np.asarray(physical_value(a)) <= 0.5 * (d - 1)):
        raise ValueError(f"condition a ({a}) > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    total = (d * (d - 1) * 0.25) * np.log(np.pi)
    for j in range(int(d)):
        total = total + gammaln(a - 0.5 * j)
    return total


def expit(x):
    """1 / (1 + exp(-x)), the logistic sigmoid, as scipy.special.expit (chainrule's sigmoid row,
    accurate in both tails)."""
    _refuse_complex(x, "expit")
    return _elementwise.sigmoid(x)


def logit(x):
    """log(x / (1 - x)), as scipy.special.logit: log(x) - log1p(-x), accurate near 0 and 1."""
    _refuse_complex(x, "logit")
    return _elementwise.log(x) - _elementwise.log1p(-x)


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) over `axis` (all axes by default, as SciPy)."""
    import chainrule.numpy as cnp

    return cnp.softmax(x, axis=axis)


def log_softmax(x, axis=None):
    """x - logsumexp(x) over `axis` (all axes by default, as SciPy)."""
    import chainrule.numpy as cnp

    return cnp.log_softmax(x, axis=axis)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) over `axis`, as scipy.special.logsumexp; differentiable in a and b.

    With `return_sign=True`, returns (log|sum|, sign of the sum); otherwise a negative sum gives
    NaN, as in SciPy. Without `b` it is chainrule.numpy's fused logsumexp."""
    import chainrule.numpy as cnp

    _refuse_complex(a, "logsumexp")
    if b is None and not return_sign:
        return cnp.logsumexp(a, axis=axis, keepdims=keepdims)
    if b is None:
        b = 1.0
    _refuse_complex(b, "logsumexp")
    shape = np.broadcast_shapes(shape_of(a), shape_of(b))
    if shape_of(a) != shape:
        a = cnp.broadcast_to(a, shape)
    axes = _common.normalize_axes(axis, len(shape), "logsumexp")
    # Measured from the largest entry (a constant), exp never overflows.
    shift = cnp.max(const(a), axis=axes, keepdims=True)
    shift = cnp.where(cnp.isfinite(shift), shift, 0.0)
    total = cnp.sum(b * cnp.exp(a - shift), axis=axes, keepdims=True)
    sign = cnp.sign(const(total))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cnp.log(cnp.abs(total)) + shift
        if not return_sign:
            out = cnp.where(sign < 0, np.nan, out)
    if not keepdims:
        out, sign = cnp.squeeze(out, axis=axes), cnp.squeeze(sign, axis=axes)
    return (out, sign) if return_sign else out
