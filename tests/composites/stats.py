"""Composite cases: chainrule.scipy.stats, every distribution and method against SciPy's, in the
data and every differentiable parameter (loc and scale too).

The shape parameters of the distribution functions of t, gamma, chi2 and beta (no closed-form
derivative) are held out by `wrt`; so are the counts of the discrete distributions, given as
integer arrays. Edge points: far tails (norm's logcdf at -30, where ndtr underflows; logistic's
log densities where e^-z overflows), the centre of t's distribution function (z = 0), a gamma
density with a = 1 (0 log 0 at the mode), beta's uniform case, poisson's and binom's
probabilities at the ends of the support, a dirichlet with alpha = 1 (xlogy(0, x) terms),
multivariate_normal at its mean.
"""

import numpy as np
import scipy.stats as scipy_stats

from chainrule.scipy import stats
from composites import Case

RNG = np.random.default_rng(15)
X = np.array([-1.7, -0.4, 0.3, 1.1, 2.6])
POSITIVE = np.array([0.15, 0.6, 1.3, 2.2, 4.0])
UNIT = np.array([0.04, 0.3, 0.55, 0.8, 0.97])
Q = np.array([0.02, 0.3, 0.5, 0.77, 0.99])
LOC, SCALE = np.array(0.2), np.array(1.4)
DENSITIES = ("pdf", "logpdf")
DISTRIBUTION_FUNCTIONS = ("cdf", "logcdf", "sf", "logsf")


def _case(distribution, method, *args, wrt=None, label="", edge=False, **options):
    """stats.<distribution>.<method>(*args) against scipy.stats's, with SciPy's positional
    order (data, shape parameters, loc, scale)."""
    return Case(
        f"scipy.stats.{distribution}.{method}", getattr(getattr(stats, distribution), method),
        args, reference=getattr(getattr(scipy_stats, distribution), method), wrt=wrt,
        label=label, edge=edge, **options,
    )


def _location_scale(distribution, x, *shapes, smooth_in_shapes=True, q=Q):
    """Every method of a continuous distribution: in x, its shapes, loc and scale (the
    distribution functions in x, loc and scale only, unless `smooth_in_shapes`)."""
    count = len(shapes)
    everything = tuple(range(count + 3))
    without_shapes = everything if smooth_in_shapes else (0, count + 1, count + 2)
    cases = [_case(distribution, m, x, *shapes, LOC, SCALE) for m in DENSITIES]
    cases += [_case(distribution, m, x, *shapes, LOC, SCALE, wrt=without_shapes)
              for m in DISTRIBUTION_FUNCTIONS]
    cases.append(_case(distribution, "ppf", q, *shapes, LOC, SCALE, wrt=without_shapes))
    # Standard form, 0-d data, the defaults for loc and scale.
    cases.append(_case(distribution, "logpdf", x[2], *shapes, label="0-d, loc=0, scale=1"))
    return cases


CASES = [
    *_location_scale("norm", X),
    *_location_scale("t", X, np.array(3.5), smooth_in_shapes=False),
    *_location_scale("cauchy", X),
    # (kinks at loc, and of the ppf's derivative at q = 0.5)
    *_location_scale("laplace", np.array([-1.7, -0.4, 1.1, 2.6]), q=np.array([0.02, 0.3, 0.8])),
    *_location_scale("logistic", X),
    *_location_scale("expon", POSITIVE + LOC),
    *_location_scale("gamma", POSITIVE + LOC, np.array(2.3), smooth_in_shapes=False),
    *_location_scale("chi2", POSITIVE + LOC, np.array(3.0), smooth_in_shapes=False),
    *_location_scale("beta", UNIT * SCALE + LOC, np.array(2.0), np.array(3.5),
                     smooth_in_shapes=False),
    # Shape parameters that broadcast against the data.
    _case("t", "logpdf", X[:, None], np.array([1.0, 4.0, 30.0]), label="df broadcast"),
    _case("gamma", "logpdf", POSITIVE[:, None], np.array([0.5, 1.7]), label="a broadcast"),
    _case("beta", "pdf", UNIT[:3, None], np.array([0.8, 2.0]), np.array([[1.5], [0.7], [3.0]]),
          label="a, b broadcast"),
    _case("t", "cdf", X, np.array([[1.0], [7.0]]), LOC, SCALE, wrt=(0, 2, 3),
          label="df broadcast"),
    # ----- edge points ----------------------------------------------------------------------------
    _case("norm", "logcdf", np.array([-30.0, -8.0, 0.0, 8.0]), label="far tails", edge=True),
    _case("norm", "logsf", np.array([-8.0, 0.0, 8.0, 30.0]), label="far tails", edge=True),
    _case("logistic", "logpdf", np.array([-800.0, -40.0, 0.0, 40.0, 800.0]),
          label="e^-z overflows", edge=True),
    _case("logistic", "logcdf", np.array([-800.0, 0.0, 800.0]), label="tails", edge=True),
    _case("t", "cdf", np.array([0.2, -1.0]), np.array(2.5), np.array([0.2, 0.3]), SCALE,
          wrt=(0, 2, 3), label="z = 0", edge=True),
    _case("gamma", "logpdf", POSITIVE, np.array(1.0), label="a = 1", edge=True),
    _case("beta", "logpdf", UNIT, np.array(1.0), np.array(1.0), label="uniform", edge=True),
    # ----- discrete: in mu and p; k (and n) are counts, integers here -----------------------------
    *[_case("poisson", m, np.array([0, 1, 3, 7]), np.array(2.5))
      for m in ("pmf", "logpmf", *DISTRIBUTION_FUNCTIONS)],
    _case("poisson", "logpmf", np.array([[0], [4]]), np.array([0.5, 3.0, 9.0]),
          label="mu broadcast"),
    _case("poisson", "cdf", np.array([-1, 2.5, 4]), np.array(1.5), np.array(1), wrt=(1,),
          label="non-integer k, loc"),
    *[_case("binom", m, np.array([0, 1, 4, 9]), np.array(10), np.array(0.35))
      for m in ("pmf", "logpmf", *DISTRIBUTION_FUNCTIONS)],
    _case("binom", "logpmf", np.array([0, 2, 5]), np.array(5), np.array([[0.1], [0.6]]),
          label="p broadcast"),
    _case("binom", "cdf", np.array([-1, 3, 10, 12]), np.array(10), np.array(0.6),
          label="k outside 0..n-1", edge=True),
    # ----- dirichlet: components along the first axis ---------------------------------------------
    _case("dirichlet", "logpdf", np.array([0.2, 0.5, 0.3]), np.array([1.5, 2.0, 3.0])),
    _case("dirichlet", "pdf", np.array([0.2, 0.5, 0.3]), np.array([1.5, 2.0, 3.0])),
    _case("dirichlet", "logpdf", np.array([[0.2, 0.3], [0.5, 0.1], [0.3, 0.6]]),
          np.array([0.7, 2.0, 3.0]), label="several points"),
    _case("dirichlet", "logpdf", np.array([0.2, 0.5]), np.array([1.5, 2.0, 3.0]),
          label="the last component implied"),
    _case("dirichlet", "logpdf", np.array([0.2, 0.5, 0.3]), np.array([1.0, 1.0, 4.0]),
          label="alpha = 1", edge=True),
    # ----- multivariate_normal --------------------------------------------------------------------
]

_COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]])
_MEAN = np.array([0.1, -0.2, 0.3])
_POINTS = RNG.standard_normal((4, 3))
CASES += [
    _case("multivariate_normal", "logpdf", _POINTS, _MEAN, _COV, label="4 points"),
    _case("multivariate_normal", "pdf", _POINTS[0], _MEAN, _COV, label="one point"),
    _case("multivariate_normal", "logpdf", _MEAN.copy(), _MEAN, _COV, label="at the mean",
          edge=True),
    _case("multivariate_normal", "logpdf", _POINTS[:, :2], np.zeros(2), np.array([0.5, 2.0]),
          label="diagonal covariance"),
    _case("multivariate_normal", "logpdf", np.array([0.3, -1.2]), np.array(0.2), np.array(1.7),
          label="one dimension"),
    _case("multivariate_normal", "entropy", _MEAN, _COV),
]
