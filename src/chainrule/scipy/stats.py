"""chainrule.scipy.stats: SciPy's distributions, differentiable in the data and the parameters.

Spelled as in SciPy and HIPS autograd: `stats.norm.logpdf(x, loc=0, scale=1)`,
`stats.t.cdf(x, df, loc=0, scale=1)`, `stats.poisson.logpmf(k, mu)`; shape parameters and loc,
scale by position or by name, broadcasting as NumPy does; a frozen form too,
`stats.norm(loc, scale).logpdf(x)`. Each function is a composite of chainrule.numpy and
chainrule.scipy.special, so both modes and every order work, and so does `cr.vmap`. Values
follow SciPy's conventions: 0 (or -inf in logs) outside the support, NaN for invalid parameters.

    continuous (pdf logpdf cdf logcdf sf logsf ppf): norm, t, cauchy, laplace, logistic, gamma,
        beta, chi2, expon
    discrete (pmf logpmf cdf logcdf sf logsf): poisson, binom
    multivariate (pdf logpdf): dirichlet, multivariate_normal (and its entropy)

Differentiable in every argument, except where no derivative exists or none has a closed form
in SciPy's functions; differentiating one of those raises NonDifferentiableError naming it:
the shape parameters of the distribution functions of t (df), gamma (a), chi2 (df) and beta
(a, b), in cdf, logcdf, sf, logsf and ppf (their pdf and logpdf are differentiable in them);
the counts of the discrete distributions (k, and binom's n; their loc shifts k).
"""

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.batching import is_differentiated
from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.tensor import Tensor
from chainrule.core.trace import physical_value
from chainrule.errors import ArgumentError, NonDifferentiableError
from chainrule.ops._rules import const
from chainrule.scipy import special as _special

__all__ = [
    "norm", "t", "cauchy", "laplace", "logistic", "gamma", "beta", "chi2", "expon", "poisson",
    "binom", "dirichlet", "multivariate_normal",
]

# Python floats: a NumPy float64 would make float32 data float64.
_LOG_2PI = float(np.log(2.0 * np.pi))
_LOG_PI = float(np.log(np.pi))
_LOG_2 = float(np.log(2.0))
_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


class Distribution:
    """One of scipy.stats's distributions: its functions as attributes (`norm.logpdf`), and,
    called with its parameters, the frozen distribution (`norm(0, 2).logpdf(x)`)."""

    def __init__(self, name, methods, missing=""):
        self.__dict__["_name"] = name
        self.__dict__["_methods"] = tuple(methods)
        self.__dict__["_missing"] = missing
        self.__dict__.update(methods)

    def __call__(self, *args, **kwargs):
        return _Frozen(self, args, kwargs)

    def __getattr__(self, method):
        if method.startswith("__"):
            raise AttributeError(method)
        raise AttributeError(
            f"chainrule.scipy.stats.{self._name} has no {method!r}: it has "
            f"{', '.join(self._methods)}. {self._missing}".rstrip()
        )

    def __dir__(self):
        return sorted({*super().__dir__(), *self._methods})

    def __repr__(self):
        return f"<chainrule.scipy.stats.{self._name}: {', '.join(self._methods)}>"


class _Frozen:
    """A distribution with its parameters fixed: `.logpdf(x)` is `logpdf(x, *parameters)`."""

    def __init__(self, distribution, args, kwargs):
        self._distribution, self._args, self._kwargs = distribution, args, kwargs

    def __getattr__(self, method):
        function = getattr(self._distribution, method)
        if method in _WITHOUT_DATA:
            return lambda: function(*self._args, **self._kwargs)
        return lambda x: function(x, *self._args, **self._kwargs)

    def __repr__(self):
        return f"<frozen chainrule.scipy.stats.{self._distribution._name}{self._args}>"


_WITHOUT_DATA = {"entropy"}


# ----- arguments and refusals ---------------------------------------------------------------------
def _arguments(where, names, defaults, args, kwargs):
    """The parameters in SciPy's calling convention: shapes, then loc and scale, by position or
    by name."""
    if len(args) > len(names):
        raise TypeError(
            f"{where}() takes at most {len(names) + 1} arguments ({len(args) + 1} given)"
        )
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{where}() got an unexpected keyword argument {key!r}")
        if key in values:
            raise TypeError(f"{where}() got multiple values for argument {key!r}")
        values[key] = value
    missing = [name for name in names if name not in values and name not in defaults]
    if missing:
        raise TypeError(f"{where}() missing required argument(s): {', '.join(missing)}")
    return [values[name] if name in values else defaults[name] for name in names]


def _refuse(where, arguments, why):
    """NonDifferentiableError if one of `arguments` (name: value) is being differentiated."""
    for name, value in arguments.items():
        if is_differentiated(value):
            raise NonDifferentiableError(
                f"{where} is not differentiable with respect to {name} in chainrule: {why} Keep "
                f"{name} constant (a NumPy array or a number); the other arguments stay "
                "differentiable."
            )


_SHAPE_IN_DISTRIBUTION_FUNCTION = (
    "the derivative of the distribution function in a shape parameter is that of an incomplete "
    "gamma or beta function in its parameter, which has no closed form in SciPy's special "
    "functions (the density is differentiable in it)."
)
_COUNT = "it is a count: the distribution is not a differentiable function of it."


def _both(first, second):
    return cnp.logical_and(first, second)


def _float_dtype(*values):
    """The dtype of the result, as NumPy 2 promotes: arrays, Tensors and NumPy scalars count,
    Python numbers do not (float32 data with loc=0.0 stays float32); at least a float."""
    strong = [dtype_of(v) if isinstance(v, Tensor) else np.asarray(v).dtype
              for v in values if not isinstance(v, (int, float, bool))]
    return np.result_type(*strong, np.float16) if strong else np.dtype(np.float64)


def _in_dtype(out, dtype):
    """`out` cast (recorded) to `dtype` where intermediate NumPy scalars made it wider."""
    return out if dtype_of(out) == dtype else cnp.astype(out, dtype)


def _guarded(out, valid):
    """NaN where the parameters are invalid, as SciPy gives."""
    return out if valid is None else cnp.where(valid, out, np.nan)


def _logcdf_from(cdf, sf):
    """log cdf: log(cdf) in the lower half, log1p(-sf) in the upper (accurate in both tails,
    as SciPy's generic rule); each branch computed where it is taken."""
    lower = const(cdf) < 0.5
    return cnp.where(lower, cnp.log(cnp.where(lower, cdf, 0.5)),
                     cnp.log1p(-cnp.where(lower, 0.5, sf)))


# ----- continuous distributions with loc and scale ------------------------------------------------
class _Standard:
    """A continuous family in standard form (loc 0, scale 1): its functions of z = (x - loc) /
    scale and the shape parameters, its support, a point inside it (where the entries outside
    are computed, so that no infinity or NaN reaches a derivative), and which shape parameters
    are valid."""

    def __init__(self, name, shapes, logpdf, cdf, sf, ppf, *, support=(-np.inf, np.inf),
                 inner=0.0, valid=None, logcdf=None, logsf=None, smooth_in_shapes=True):
        self.name, self.shapes, self.support, self.inner = name, shapes, support, inner
        self.logpdf, self.cdf, self.sf, self.ppf = logpdf, cdf, sf, ppf
        self.logcdf, self.logsf = logcdf, logsf
        self.valid, self.smooth_in_shapes = valid, smooth_in_shapes

    def methods(self):
        return {
            name: _continuous_method(self, name, compute)
            for name, compute in (
                ("pdf", _pdf), ("logpdf", _logpdf), ("cdf", _cdf), ("logcdf", _logcdf),
                ("sf", _sf), ("logsf", _logsf), ("ppf", _ppf),
            )
        }


_DISTRIBUTION_FUNCTIONS = {"cdf", "logcdf", "sf", "logsf", "ppf"}


def _continuous_method(family, method, compute):
    names = (*family.shapes, "loc", "scale")
    defaults = {"loc": 0.0, "scale": 1.0}
    where = f"scipy.stats.{family.name}.{method}"

    def function(x, *args, **kwargs):
        *shapes, loc, scale = _arguments(where, names, defaults, args, kwargs)
        if method in _DISTRIBUTION_FUNCTIONS and not family.smooth_in_shapes:
            _refuse(where, dict(zip(family.shapes, shapes)), _SHAPE_IN_DISTRIBUTION_FUNCTION)
        valid = const(scale) > 0
        if family.valid is not None:
            valid = _both(valid, family.valid(*(const(s) for s in shapes)))
        with np.errstate(**_QUIET):
            out = _guarded(compute(family, x, shapes, loc, scale), valid)
        return _in_dtype(out, _float_dtype(x, *shapes, loc, scale))

    function.__name__ = method
    function.__qualname__ = f"{family.name}.{method}"
    function.__doc__ = (
        f"scipy.stats.{family.name}.{method}({'q' if method == 'ppf' else 'x'}, "
        f"{', '.join(family.shapes) + ', ' if family.shapes else ''}loc=0, scale=1), "
        "differentiable (see chainrule.scipy.stats)."
    )
    return function


def _inside(family, z, closed):
    """Where z is in the support (closed for densities, open for distribution functions), and
    z there with the family's inner point elsewhere; (None, z) for the whole real line."""
    low, high = family.support
    if low == -np.inf and high == np.inf:
        return None, z
    z_value = const(z)
    if closed:
        inside = _both(z_value >= low, z_value <= high)
    else:
        inside = _both(z_value > low, z_value < high)
    return inside, cnp.where(inside, z, family.inner)


def _outside(family, z, below, above):
    """`below` left of the support, `above` right of it."""
    return cnp.where(const(z) >= family.support[1], above, below)


def _logpdf(family, x, shapes, loc, scale):
    z = (x - loc) / scale
    inside, z_in = _inside(family, z, closed=True)
    out = family.logpdf(z_in, *shapes) - cnp.log(scale)
    return out if inside is None else cnp.where(inside, out, -np.inf)


def _pdf(family, x, shapes, loc, scale):
    return cnp.exp(_logpdf(family, x, shapes, loc, scale))


def _distribution_function(which, below, above):
    def compute(family, x, shapes, loc, scale):
        z = (x - loc) / scale
        inside, z_in = _inside(family, z, closed=False)
        out = which(family, z_in, shapes)
        return out if inside is None else cnp.where(inside, out, _outside(family, z, below, above))

    return compute


def _standard_logcdf(family, z, shapes):
    if family.logcdf is not None:
        return family.logcdf(z, *shapes)
    return _logcdf_from(family.cdf(z, *shapes), family.sf(z, *shapes))


def _standard_logsf(family, z, shapes):
    if family.logsf is not None:
        return family.logsf(z, *shapes)
    return _logcdf_from(family.sf(z, *shapes), family.cdf(z, *shapes))


_cdf = _distribution_function(lambda family, z, shapes: family.cdf(z, *shapes), 0.0, 1.0)
_sf = _distribution_function(lambda family, z, shapes: family.sf(z, *shapes), 1.0, 0.0)
_logcdf = _distribution_function(_standard_logcdf, -np.inf, 0.0)
_logsf = _distribution_function(_standard_logsf, 0.0, -np.inf)


def _ppf(family, q, shapes, loc, scale):
    q_value = const(q)
    inside = _both(q_value > 0, q_value < 1)
    out = loc + scale * family.ppf(cnp.where(inside, q, 0.5), *shapes)
    low, high = (end if np.isinf(end) else loc + scale * end for end in family.support)
    out = cnp.where(inside, out, np.nan)
    return cnp.where(q_value == 1, high, cnp.where(q_value == 0, low, out))


# ----- the standard forms (z = (x - loc) / scale) -------------------------------------------------
def _laplace_cdf(z):
    # 0.5 e^z left of 0, 1 - 0.5 e^-z right of it; each exp only where it is taken.
    right = const(z) > 0
    return cnp.where(right, 1.0 - 0.5 * cnp.exp(-cnp.where(right, z, 0.0)),
                     0.5 * cnp.exp(cnp.where(right, 0.0, z)))


def _laplace_ppf(q):
    upper = const(q) > 0.5
    return cnp.where(upper, -cnp.log(2.0 * (1.0 - cnp.where(upper, q, 0.75))),
                     cnp.log(2.0 * cnp.where(upper, 0.25, q)))


def _t_logpdf(z, df):
    # log Γ((df+1)/2) - log Γ(df/2) = log sqrt(pi) - log B(df/2, 1/2), accurate for large df
    return (-_special.betaln(0.5 * df, 0.5) - 0.5 * cnp.log(df)
            - 0.5 * (df + 1.0) * cnp.log1p(z * z / df))


def _positive(*shapes):
    return _all(*(shape > 0 for shape in shapes))


def _all(*masks):
    combined = masks[0]
    for mask in masks[1:]:
        combined = _both(combined, mask)
    return combined


_FAMILIES = [
    _Standard(
        "norm", (),
        lambda z: -0.5 * z * z - 0.5 * _LOG_2PI,
        lambda z: _special.ndtr(z), lambda z: _special.ndtr(-z), lambda q: _special.ndtri(q),
        logcdf=lambda z: _special.log_ndtr(z), logsf=lambda z: _special.log_ndtr(-z),
    ),
    _Standard(
        "t", ("df",), _t_logpdf,
        lambda z, df: _special.stdtr(df, z), lambda z, df: _special.stdtr(df, -z),
        lambda q, df: _special.stdtrit(df, q), valid=_positive, smooth_in_shapes=False,
    ),
    _Standard(
        "cauchy", (),
        lambda z: -_LOG_PI - cnp.log1p(z * z),
        # arctan2(1, -z) / pi, not 0.5 + arctan(z) / pi: no cancellation in the left tail
        lambda z: cnp.arctan2(1.0, -z) / np.pi, lambda z: cnp.arctan2(1.0, z) / np.pi,
        lambda q: cnp.tan(np.pi * q - np.pi / 2.0),
    ),
    _Standard(
        # -|z|: at z = 0 the subgradient 0, as cnp.abs (the density has a kink there)
        "laplace", (),
        lambda z: -cnp.abs(z) - _LOG_2,
        _laplace_cdf, lambda z: _laplace_cdf(-z), _laplace_ppf,
    ),
    _Standard(
        # -z - 2 log(1 + e^-z), through logaddexp: no overflow, and smooth at 0 (unlike -|z|...)
        "logistic", (),
        lambda z: -z - 2.0 * cnp.logaddexp(0.0, -z),
        lambda z: _special.expit(z), lambda z: _special.expit(-z), lambda q: _special.logit(q),
        logcdf=lambda z: -cnp.logaddexp(0.0, -z), logsf=lambda z: -cnp.logaddexp(0.0, z),
    ),
    _Standard(
        "expon", (),
        lambda z: -z,
        lambda z: -cnp.expm1(-z), lambda z: cnp.exp(-z), lambda q: -cnp.log1p(-q),
        logsf=lambda z: -z, support=(0.0, np.inf), inner=1.0,
    ),
    _Standard(
        "gamma", ("a",),
        lambda z, a: _special.xlogy(a - 1.0, z) - z - _special.gammaln(a),
        lambda z, a: _special.gammainc(a, z), lambda z, a: _special.gammaincc(a, z),
        lambda q, a: _special.gammaincinv(a, q),
        support=(0.0, np.inf), inner=1.0, valid=_positive, smooth_in_shapes=False,
    ),
    _Standard(
        "chi2", ("df",),
        lambda z, df: (_special.xlogy(0.5 * df - 1.0, z) - 0.5 * z - _special.gammaln(0.5 * df)
                       - 0.5 * _LOG_2 * df),
        lambda z, df: _special.gammainc(0.5 * df, 0.5 * z),
        lambda z, df: _special.gammaincc(0.5 * df, 0.5 * z),
        lambda q, df: 2.0 * _special.gammaincinv(0.5 * df, q),
        support=(0.0, np.inf), inner=1.0, valid=_positive, smooth_in_shapes=False,
    ),
    _Standard(
        "beta", ("a", "b"),
        lambda z, a, b: (_special.xlog1py(b - 1.0, -z) + _special.xlogy(a - 1.0, z)
                         - _special.betaln(a, b)),
        lambda z, a, b: _special.betainc(a, b, z),
        # betainc(b, a, 1 - z): the upper tail without 1 - cdf's cancellation
        lambda z, a, b: _special.betainc(b, a, 1.0 - z),
        lambda q, a, b: _special.betaincinv(a, b, q),
        support=(0.0, 1.0), inner=0.5, valid=_positive, smooth_in_shapes=False,
    ),
]

_CONTINUOUS_MISSING = (
    "isf, moments, entropy, fit and rvs are SciPy's own (no derivatives here)."
)
_CONTINUOUS = {
    family.name: Distribution(family.name, family.methods(), _CONTINUOUS_MISSING)
    for family in _FAMILIES
}
norm, t, cauchy, laplace, logistic = (_CONTINUOUS[name] for name in
                                      ("norm", "t", "cauchy", "laplace", "logistic"))
expon, gamma, chi2, beta = (_CONTINUOUS[name] for name in ("expon", "gamma", "chi2", "beta"))


# ----- discrete distributions: differentiable in their continuous parameters ----------------------
def _discrete_method(name, method, parameters, compute, valid):
    names = (*parameters, "loc")
    where = f"scipy.stats.{name}.{method}"
    counts = {"n"} & set(parameters)

    def function(k, *args, **kwargs):
        *values, loc = _arguments(where, names, {"loc": 0}, args, kwargs)
        _refuse(where, {"k": k, "loc": loc, **{c: values[parameters.index(c)] for c in counts}},
                _COUNT)
        dtype = _float_dtype(k, *values, loc)
        k = const(k) - const(loc)
        with np.errstate(**_QUIET):
            out = _guarded(compute(k, *values), valid(*(const(v) for v in values)))
        return _in_dtype(out, dtype)

    function.__name__ = method
    function.__qualname__ = f"{name}.{method}"
    function.__doc__ = (
        f"scipy.stats.{name}.{method}(k, {', '.join(parameters)}, loc=0), differentiable in "
        f"{', '.join(p for p in parameters if p not in counts)} (see chainrule.scipy.stats)."
    )
    return function


def _is_count(k):
    return _both(k >= 0, k == cnp.floor(k))


def _on_counts(inside, out, outside):
    return cnp.where(inside, out, outside)


def _poisson_logpmf(k, mu):
    inside = _is_count(k)
    k = cnp.where(inside, k, 0.0)
    return _on_counts(inside, _special.xlogy(k, mu) - mu - _special.gammaln(k + 1.0), -np.inf)


def _poisson_cdf(k, mu, upper=False):
    # P(K <= k) = Q(floor(k) + 1, mu), the regularized upper incomplete gamma function
    inside = k >= 0
    a = cnp.where(inside, cnp.floor(k), 0.0) + 1.0
    if upper:
        return _on_counts(inside, _special.gammainc(a, mu), 1.0)
    return _on_counts(inside, _special.gammaincc(a, mu), 0.0)


def _binom_logpmf(k, n, p):
    inside = _both(_is_count(k), k <= n)
    k = cnp.where(inside, k, 0.0)
    combinations = _special.gammaln(n + 1.0) - (
        _special.gammaln(k + 1.0) + _special.gammaln(n - k + 1.0)
    )
    out = combinations + _special.xlogy(k, p) + _special.xlog1py(n - k, -p)
    return _on_counts(inside, out, -np.inf)


def _binom_cdf(k, n, p, upper=False):
    # P(K <= k) = I_{1-p}(n - k, k + 1) and P(K > k) = I_p(k + 1, n - k) for 0 <= k < n
    k = cnp.floor(k)
    inside = _both(k >= 0, k < n)
    k_in = cnp.where(inside, k, 0.0)
    n_in = cnp.where(inside, n, 1.0)
    if upper:
        out = _special.betainc(k_in + 1.0, n_in - k_in, p)
        return _on_counts(inside, out, cnp.where(k < 0, 1.0, 0.0))
    out = _special.betainc(n_in - k_in, k_in + 1.0, 1.0 - p)
    return _on_counts(inside, out, cnp.where(k < 0, 0.0, 1.0))


def _discrete(name, parameters, logpmf, cdf, valid):
    def sf(k, *values):
        return cdf(k, *values, upper=True)

    computes = {
        "pmf": lambda k, *values: cnp.exp(logpmf(k, *values)),
        "logpmf": logpmf,
        "cdf": cdf,
        "logcdf": lambda k, *values: _logcdf_from(cdf(k, *values), sf(k, *values)),
        "sf": sf,
        "logsf": lambda k, *values: _logcdf_from(sf(k, *values), cdf(k, *values)),
    }
    methods = {
        method: _discrete_method(name, method, parameters, compute, valid)
        for method, compute in computes.items()
    }
    return Distribution(name, methods, "ppf is not differentiable (its values are counts).")


poisson = _discrete("poisson", ("mu",), _poisson_logpmf, _poisson_cdf, lambda mu: mu >= 0)
binom = _discrete(
    "binom", ("n", "p"), _binom_logpmf, _binom_cdf,
    lambda n, p: _all(n >= 0, n == cnp.floor(n), p >= 0, p <= 1),
)


def _array(value):
    """A Tensor as it is, anything else as a float array (lists, numbers)."""
    return value if isinstance(value, Tensor) else np.asarray(value, dtype=np.result_type(
        np.asarray(value).dtype, np.float16))


# ----- dirichlet ----------------------------------------------------------------------------------
def _dirichlet_logpdf(x, alpha):
    """log Dirichlet(x; alpha), the components of x along its first axis (as SciPy; x may omit
    the last component, 1 minus the others). x is not checked to sum to 1, so that derivatives
    in every direction exist (finite differences leave the simplex)."""
    alpha, x = _array(alpha), _array(x)
    if len(shape_of(alpha)) != 1 or np.any(np.asarray(physical_value(alpha)) <= 0):
        raise ValueError("All parameters must be greater than 0, and alpha must be a vector")
    count, entries = shape_of(alpha)[0], shape_of(x)[:1]
    if entries == (count - 1,):
        x = cnp.concatenate([x, 1.0 - cnp.sum(x, axis=0, keepdims=True)], axis=0)
    elif entries != (count,):
        raise ValueError(
            "Vector 'x' must have either the same number of entries as, or one entry fewer "
            f"than, parameter vector 'a', but alpha.shape = {shape_of(alpha)} and x.shape = "
            f"{shape_of(x)}."
        )
    values = np.asarray(physical_value(x))
    if np.min(values) < 0 or np.max(values) > 1:
        raise ValueError("Each entry in 'x' must lie between 0 and 1.")
    log_beta = cnp.sum(_special.gammaln(alpha)) - _special.gammaln(cnp.sum(alpha))
    components_last = cnp.moveaxis(x, 0, -1)
    out = cnp.sum(_special.xlogy(alpha - 1.0, components_last), axis=-1) - log_beta
    return cnp.squeeze(out)  # as SciPy squeezes its result


dirichlet = Distribution(
    "dirichlet",
    {
        "logpdf": _dirichlet_logpdf,
        "pdf": lambda x, alpha: cnp.exp(_dirichlet_logpdf(x, alpha)),
    },
    "mean, var, entropy and rvs are SciPy's own (no derivatives here).",
)


# ----- multivariate_normal ------------------------------------------------------------------------
def _mvn_parameters(mean, cov):
    """(dimension, mean, covariance matrix) as SciPy reads them: a scalar cov is cov * I, a
    vector a diagonal; mean defaults to zeros."""
    cov = _array(cov)
    cov_shape = shape_of(cov)
    if mean is not None:
        mean = _array(mean)
        dim = int(np.prod(shape_of(mean)))
    else:
        dim = cov_shape[0] if cov_shape else 1
    mean = np.zeros(dim) if mean is None else cnp.reshape(mean, (dim,))
    if len(cov_shape) < 2:
        cov = cov * np.eye(dim)  # c I for a number, diag(c) for a vector, recorded
    if shape_of(cov) != (dim, dim):
        raise ValueError(
            f"Array 'cov' must be of shape ({dim}, {dim}) for a mean of size {dim}; it has "
            f"shape {cov_shape}."
        )
    return dim, mean, cov


def _mvn_quantiles(x, dim):
    """x with its points along the leading axes and the dimension last (SciPy's reading of a
    scalar or a vector)."""
    x = _array(x)
    rank = len(shape_of(x))
    if rank == 0:
        return cnp.reshape(x, (1, 1))
    if rank == 1:
        return cnp.reshape(x, (-1, 1)) if dim == 1 else cnp.reshape(x, (1, dim))
    return x


def _mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    """log N(x; mean, cov) = -(d log 2 pi + log det cov + (x - mean)^T cov^-1 (x - mean)) / 2,
    through a solve and slogdet; squeezed as SciPy squeezes its result."""
    if allow_singular:
        raise ArgumentError(
            "multivariate_normal with allow_singular=True is not supported by chainrule: a "
            "singular covariance has no density in its own dimension. Give a positive definite "
            "covariance (add a small multiple of the identity)."
        )
    dim, mean, cov = _mvn_parameters(mean, cov)
    x = _mvn_quantiles(x, dim)
    differences = cnp.reshape(x - mean, (-1, dim))
    solved = cnp.linalg.solve(cov, cnp.transpose(differences))
    mahalanobis = cnp.sum(cnp.transpose(differences) * solved, axis=0)
    log_det = cnp.linalg.slogdet(cov)[1]
    out = -0.5 * (dim * _LOG_2PI + log_det + mahalanobis)
    return cnp.squeeze(cnp.reshape(out, shape_of(x)[:-1]))


def _mvn_entropy(mean=None, cov=1):
    dim, _, cov = _mvn_parameters(mean, cov)
    return 0.5 * (dim * (_LOG_2PI + 1.0) + cnp.linalg.slogdet(cov)[1])


multivariate_normal = Distribution(
    "multivariate_normal",
    {
        "logpdf": _mvn_logpdf,
        "pdf": lambda x, mean=None, cov=1, allow_singular=False: cnp.exp(
            _mvn_logpdf(x, mean, cov, allow_singular)
        ),
        "entropy": _mvn_entropy,
    },
    "cdf and logcdf are SciPy's own: it integrates them numerically (Genz's method), which has "
    "no derivative here.",
)
