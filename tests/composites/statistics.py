"""Composite cases: math and statistics (sinc, i0, fmod, ..., the nan* reductions, median and
quantiles, average, cov, corrcoef, convolve, interp, trapezoid, unwrap, polynomials).

The sweep passes every argument through float64, so integer arguments (exponents, ints for
ldexp) are fixed inside the function. Functions returning several arrays are checked through
one of them per case. Edge points are the ones where the function is differentiable: zeros
(sinc and i0 to second order at 0), even counts whose two middle entries tie (the median is
smooth there), size-1 and 0-d inputs, NaN entries that the nan* forms ignore. Ties at a kink
(the median of [1, 2, 2, 2, 5]) are checked against their convention in test_numpy_math.py.
"""

import numpy as np

import chainrule.numpy as cnp
from composites import Case

RNG = np.random.default_rng(41)
V = RNG.uniform(-2.0, 2.0, 7)
M = RNG.uniform(-2.0, 2.0, (3, 5))
T = RNG.uniform(-2.0, 2.0, (2, 3, 4))
POS = RNG.uniform(0.5, 2.0, (3, 4))
Z = RNG.uniform(-1.0, 1.0, 5) + 1j * RNG.uniform(-1.0, 1.0, 5)
ZERO_D = np.array(0.7)
ONE = np.array([0.3])
SINC_POINTS = np.array([-1.7, -1.0, -0.3, 0.0, 1e-3, 0.2, 1.5, 2.0])
NAN_M = M.copy()
NAN_M[0, 1] = np.nan
NAN_M[2, 3] = np.nan
NAN_M[2, 0] = np.nan
EVEN_TIE = np.array([3.0, 1.0, 2.0, 2.0])  # the two middle entries tie: the median is smooth
XP = np.array([-1.0, 0.0, 0.5, 1.5, 3.0])
FP = RNG.uniform(-1.0, 1.0, 5)
X_INTERP = np.array([-1.5, -0.7, 0.2, 0.6, 1.1, 2.9, 3.4])  # outside and inside (knots: kinks)
PHASE = np.cumsum(RNG.uniform(-4.0, 4.0, (2, 8)), axis=1)
X_FIT = np.sort(RNG.uniform(-2.0, 2.0, 9))
Y_FIT = 0.5 * X_FIT**2 - X_FIT + 2.0 + 0.1 * RNG.standard_normal(9)
P = np.array([1.0, -0.5, 2.0, 0.3])
Q = np.array([2.0, 0.7])
ROOTS_P = np.array([1.0, -6.0, 11.0, -6.0])  # roots 1, 2, 3


def _same(name, call, *args, label="", edge=False, **options):
    """A case whose reference is NumPy's function of the same name, called the same way."""
    attribute = name.split(".", 1)[1]
    return Case(
        name, lambda *a: call(getattr(cnp, attribute), *a), args,
        reference=lambda *a: call(getattr(np, attribute), *a), label=label, edge=edge,
        **options,
    )


def _plain(f, *a):
    return f(*a)


CASES = [
    # ----- elementwise ------------------------------------------------------------------------
    _same("numpy.sinc", _plain, SINC_POINTS, label="integers and 0", edge=True),
    _same("numpy.sinc", _plain, ZERO_D, label="0-d"),
    _same("numpy.sinc", _plain, np.array([0.0]), label="exactly 0", edge=True),
    _same("numpy.sinc", _plain, Z, label="complex"),
    _same("numpy.i0", _plain, np.array([-3.0, -0.5, 0.0, 0.7, 2.5]), label="0 and |x| <= 8",
          edge=True),
    _same("numpy.i0", _plain, np.array([8.5, -10.0]), label="|x| > 8"),
    _same("numpy.fmod", _plain, np.array([5.3, -5.3, 0.0, 2.2, -0.4]),
          np.array([2.0, 2.0, 1.5, -1.5, 3.0]), label="signs and a zero", edge=True),
    _same("numpy.fmod", _plain, M, np.array([1.3, -0.9, 2.1, 0.7, -1.7]), label="broadcast"),
    _same("numpy.copysign", _plain, np.array([1.5, -0.3, 2.0]), np.array([-1.0, 2.0, 0.5])),
    _same("numpy.heaviside", _plain, np.array([-1.0, 0.0, 2.0, 0.0]),
          np.array([0.3, 0.5, 0.7, 0.9]), wrt=(1,), label="at 0: x2", edge=True),
    _same("numpy.ldexp", lambda f, x: f(x, np.array([-3, 0, 2, 5, 1])), V[:5]),
    Case("numpy.frexp", lambda x: cnp.frexp(x)[0], (V,), lambda x: np.frexp(x)[0],
         label="mantissa"),
    Case("numpy.modf", lambda x: cnp.modf(x)[0], (V,), lambda x: np.modf(x)[0],
         label="fraction"),
    Case("numpy.divmod", lambda x, y: cnp.divmod(x, y)[1], (V, 0.7),
         lambda x, y: np.divmod(x, y)[1], label="remainder"),
    _same("numpy.nextafter", _plain, V, np.inf, wrt=()),
    _same("numpy.spacing", _plain, V, wrt=()),
    # ----- reductions --------------------------------------------------------------------------
    _same("numpy.nansum", lambda f, x: f(x, axis=1), NAN_M, label="NaN entries", edge=True),
    _same("numpy.nansum", lambda f, x: f(x), M, label="no NaN"),
    _same("numpy.nanprod", lambda f, x: f(x, axis=0, keepdims=True), NAN_M, edge=True),
    _same("numpy.nanmean", lambda f, x: f(x, axis=1), NAN_M, edge=True),
    _same("numpy.nanmean", lambda f, x: f(x), NAN_M, label="all axes", edge=True),
    _same("numpy.nanvar", lambda f, x: f(x, axis=1, ddof=1), NAN_M, edge=True),
    _same("numpy.nanstd", lambda f, x: f(x, axis=0), NAN_M, edge=True),
    _same("numpy.nanmax", lambda f, x: f(x, axis=1), NAN_M, edge=True),
    _same("numpy.nanmin", lambda f, x: f(x, axis=0, keepdims=True), NAN_M, edge=True),
    _same("numpy.nancumsum", lambda f, x: f(x, axis=1), NAN_M, edge=True),
    _same("numpy.nancumprod", lambda f, x: f(x), NAN_M, edge=True),
    _same("numpy.ptp", lambda f, x: f(x, axis=1), M),
    _same("numpy.cumulative_sum", lambda f, x: f(x, axis=1, include_initial=True), M),
    _same("numpy.cumulative_prod", lambda f, x: f(x), V, label="1-d"),
    _same("numpy.var", lambda f, x: f(x, axis=1, correction=1), M, label="correction=1"),
    _same("numpy.std", lambda f, x, c: f(x, axis=1, mean=c), M, np.ones((3, 1)),
          label="mean= given"),
    # ----- order statistics --------------------------------------------------------------------
    _same("numpy.median", _plain, V, label="odd count"),
    _same("numpy.median", lambda f, x: f(x, axis=1), M[:, :4], label="even count"),
    _same("numpy.median", lambda f, x: f(x, axis=(0, 2), keepdims=True), T,
          label="axes (0, 2) keepdims"),
    _same("numpy.median", _plain, EVEN_TIE, label="middle pair tied", edge=True),
    _same("numpy.median", _plain, ZERO_D, label="0-d", edge=True),
    _same("numpy.median", _plain, ONE, label="size 1", edge=True),
    _same("numpy.nanmedian", lambda f, x: f(x, axis=1), NAN_M, edge=True),
    _same("numpy.quantile", lambda f, x: f(x, np.array([0.1, 0.5, 0.8]), axis=1), M),
    _same("numpy.quantile", lambda f, x: f(x, 0.3), T, label="all axes"),
    _same("numpy.quantile", lambda f, x, q: f(x, q, axis=0), M, np.array([0.35, 0.6]),
          label="differentiable q"),
    *[
        _same("numpy.quantile", lambda f, x, method=method: f(x, 0.37, axis=1, method=method),
              M, label=method)
        for method in ("hazen", "weibull", "median_unbiased", "normal_unbiased",
                       "interpolated_inverted_cdf", "averaged_inverted_cdf", "midpoint",
                       "lower", "higher", "nearest", "inverted_cdf", "closest_observation")
    ],
    _same("numpy.percentile", lambda f, x: f(x, [25.0, 75.0], axis=-1, keepdims=True), T),
    _same("numpy.nanquantile", lambda f, x: f(x, np.array([0.2, 0.7]), axis=1), NAN_M,
          edge=True),
    _same("numpy.nanpercentile", lambda f, x: f(x, 40.0, axis=0), NAN_M, edge=True),
    _same("numpy.partition", lambda f, x: f(x, 2, axis=1), M),
    _same("numpy.partition", lambda f, x: f(x, [1, 4], axis=None), M, label="flattened"),
    # ----- averages, covariance, correlation ------------------------------------------------------
    _same("numpy.average", lambda f, x, w: f(x, axis=1, weights=w), M, RNG.uniform(0.5, 1.5, 5)),
    _same("numpy.average", lambda f, x, w: f(x, weights=w, returned=True)[0], POS, POS * 0.5 + 1,
          label="weights of a's shape"),
    _same("numpy.average", lambda f, x: f(x, axis=0, keepdims=True), M, label="no weights"),
    _same("numpy.cov", _plain, M),
    _same("numpy.cov", lambda f, x: f(x, rowvar=False, bias=True), M, label="rowvar=False bias"),
    _same("numpy.cov", lambda f, x, w: f(x, aweights=w, fweights=np.array([1, 2, 1, 3, 1])), M,
          RNG.uniform(0.5, 1.5, 5), label="weights"),
    _same("numpy.cov", _plain, M[:, :3] + 1j * M[:, 2:], label="complex"),
    _same("numpy.corrcoef", _plain, M),
    _same("numpy.corrcoef", lambda f, x, y: f(x, y), V[:5], M[0], label="x and y"),
    # ----- signals -----------------------------------------------------------------------------
    *[
        _same("numpy.convolve", lambda f, a, v, mode=mode: f(a, v, mode), V, Q, label=mode)
        for mode in ("full", "same", "valid")
    ],
    _same("numpy.convolve", _plain, Q, V, label="shorter first"),
    _same("numpy.convolve", _plain, Z, Z[:3], label="complex"),
    *[
        _same("numpy.correlate", lambda f, a, v, mode=mode: f(a, v, mode), V[:4], V, label=mode)
        for mode in ("full", "same", "valid")
    ],
    _same("numpy.correlate", lambda f, a, v: f(a, v, "full"), Z, Z[1:4], label="complex"),
    _same("numpy.trapezoid", _plain, M),
    _same("numpy.trapezoid", lambda f, y, x: f(y, x), M, np.sort(V[:5]), label="1-d x"),
    _same("numpy.trapezoid", lambda f, y, x: f(y, x, axis=0), M, np.sort(M, axis=0),
          label="x of y's shape"),
    _same("numpy.trapezoid", lambda f, y, d: f(y, dx=d), V, ZERO_D, label="dx"),
    _same("numpy.interp", lambda f, x, fp: f(x, XP, fp), X_INTERP, FP, label="x and fp"),
    _same("numpy.interp", lambda f, x, xp, fp: f(x, xp, fp), X_INTERP, XP, FP,
          label="x, xp and fp"),
    _same("numpy.interp", lambda f, x, fp, lo, hi: f(x, XP, fp, left=lo, right=hi), X_INTERP, FP,
          np.array(-2.0), np.array(2.0), label="left and right"),
    _same("numpy.interp", lambda f, x, fp: f(x, XP, fp, period=5.0), X_INTERP, FP,
          label="period"),
    _same("numpy.interp", lambda f, x, fp: f(x, XP, fp), X_INTERP, FP + 1j * FP[::-1],
          label="complex fp"),
    _same("numpy.unwrap", _plain, PHASE),
    _same("numpy.unwrap", lambda f, p: f(p, axis=0, period=3.0), PHASE.T, label="period 3"),
    # ----- polynomials -------------------------------------------------------------------------
    _same("numpy.polyval", _plain, P, M),
    _same("numpy.polyadd", _plain, P, Q),
    _same("numpy.polysub", _plain, Q, P),
    _same("numpy.polymul", _plain, P, Q),
    Case("numpy.polydiv", lambda u, v: cnp.polydiv(u, v)[0], (P, Q),
         lambda u, v: np.polydiv(u, v)[0], label="quotient"),
    Case("numpy.polydiv", lambda u, v: cnp.polydiv(u, v)[1], (P, Q),
         lambda u, v: np.polydiv(u, v)[1], label="remainder"),
    _same("numpy.polyder", lambda f, p: f(p, 2), P),
    _same("numpy.polyint", lambda f, p, k: f(p, 2, k), P, np.array([0.5, -1.0])),
    _same("numpy.poly", _plain, np.array([1.0, -0.5, 2.0])),
    _same("numpy.poly", _plain, M[:, :3] + 3 * np.eye(3), label="matrix"),
    _same("numpy.roots", _plain, ROOTS_P, label="real roots"),
    _same("numpy.roots", _plain, P, label="complex pair"),
    _same("numpy.polyfit", lambda f, x, y: f(x, y, 2), X_FIT, Y_FIT),
    _same("numpy.polyfit", lambda f, x, y, w: f(x, y, 1, w=w), X_FIT, Y_FIT,
          RNG.uniform(0.5, 1.5, 9), label="weights"),
    _same("numpy.polyfit", lambda f, x, y: f(x, y, 2, cov=True)[1], X_FIT, Y_FIT,
          label="covariance"),
    _same("numpy.polyfit", lambda f, x, y: f(x, y, 1), X_FIT, np.stack([Y_FIT, -Y_FIT], 1),
          label="two columns"),
]
