"""chainrule.scipy.stats beyond the composite sweep (tests/composites/stats.py): derivatives
against closed forms, the parameters that refuse to be differentiated, SciPy's values outside
the support and for invalid parameters (with no NaN leaking into gradients), the calling
conventions (positional and keyword parameters, frozen distributions) and their errors."""

import numpy as np
import pytest
import scipy.special as scipy_special
import scipy.stats as scipy_stats

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import ArgumentError, NonDifferentiableError
from chainrule.scipy import stats


# ----- closed forms ------------------------------------------------------------------------------
def test_norm_logpdf_derivatives_in_data_loc_and_scale():
    x, loc, scale = np.array([-1.0, 0.5, 2.0]), 0.3, 1.7
    z = (x - loc) / scale
    dx, dloc, dscale = cr.grad(lambda x, loc, scale: cnp.sum(stats.norm.logpdf(x, loc, scale)),
                               argnums=(0, 1, 2))(x, loc, scale)
    np.testing.assert_allclose(dx, -z / scale)
    np.testing.assert_allclose(dloc, np.sum(z / scale))
    np.testing.assert_allclose(dscale, np.sum((z * z - 1.0) / scale))
    # second order: d^2/dloc^2 = -n / scale^2
    hessian = cr.hessian(lambda loc: cnp.sum(stats.norm.logpdf(x, loc, scale)))(loc)
    np.testing.assert_allclose(hessian, -3 / scale**2)


def test_distribution_functions_differentiate_to_their_densities():
    x = np.array([-2.0, -0.3, 0.0, 0.8, 3.0])
    for name, shapes in (("norm", ()), ("t", (2.5,)), ("cauchy", ()), ("logistic", ()),
                         ("laplace", ())):
        distribution = getattr(stats, name)
        density = getattr(scipy_stats, name).pdf(x, *shapes, 0.2, 1.3)
        for method, sign in (("cdf", 1.0), ("sf", -1.0)):
            function = getattr(distribution, method)
            gradient = cr.grad(lambda x, f=function, s=shapes: cnp.sum(f(x, *s, 0.2, 1.3)))(x)
            np.testing.assert_allclose(gradient, sign * density, rtol=1e-12, err_msg=name)


def test_ppf_differentiates_to_the_reciprocal_density():
    q = np.array([0.05, 0.5, 0.9])
    for name, shapes in (("norm", ()), ("t", (4.0,)), ("gamma", (2.5,)), ("chi2", (3.0,)),
                         ("beta", (2.0, 3.0)), ("expon", ()), ("logistic", ())):
        ppf, reference = getattr(stats, name).ppf, getattr(scipy_stats, name)
        gradient = cr.grad(lambda q, f=ppf, s=shapes: cnp.sum(f(q, *s, 0.1, 2.0)))(q)
        density = reference.pdf(reference.ppf(q, *shapes, 0.1, 2.0), *shapes, 0.1, 2.0)
        np.testing.assert_allclose(gradient, 1.0 / density, rtol=1e-9, err_msg=name)


def test_shape_parameters_of_the_densities_are_differentiable():
    x = np.array([0.4, 1.5, 3.0])
    # d/da gamma.logpdf = log x - digamma(a); d/ddf t.logpdf against differences
    gradient = cr.grad(lambda a: cnp.sum(stats.gamma.logpdf(x, a)))(2.2)
    np.testing.assert_allclose(gradient, np.sum(np.log(x) - scipy_special.digamma(2.2)))
    assert cr.gradcheck(lambda df: stats.t.logpdf(x, df, 0.1, 0.8), np.array(3.3))
    assert cr.gradgradcheck(lambda a, b: stats.beta.logpdf(x / 4.0, a, b), 1.5, 2.5)


def test_discrete_probabilities_in_their_parameters():
    k = np.array([0, 1, 4])
    gradient = cr.grad(lambda mu: cnp.sum(stats.poisson.logpmf(k, mu)))(2.5)
    np.testing.assert_allclose(gradient, np.sum(k / 2.5 - 1.0))
    gradient = cr.grad(lambda p: cnp.sum(stats.binom.logpmf(k, 6, p)))(0.3)
    np.testing.assert_allclose(gradient, np.sum(k / 0.3 - (6 - k) / 0.7))
    # d/dmu P(K <= k) = -pmf(k): the probability moves up past k
    gradient = cr.grad(lambda mu: cnp.sum(stats.poisson.cdf(k, mu)))(2.5)
    np.testing.assert_allclose(gradient, -np.sum(scipy_stats.poisson.pmf(k, 2.5)))
    # d/dp P(K <= k) = -n pmf_{n-1}(k)
    gradient = cr.grad(lambda p: cnp.sum(stats.binom.cdf(k, 6, p)))(0.3)
    np.testing.assert_allclose(gradient, -6 * np.sum(scipy_stats.binom.pmf(k, 5, 0.3)))


def test_poisson_at_mu_zero_and_binom_at_the_ends_of_p():
    assert cr.grad(lambda mu: stats.poisson.logpmf(0, mu))(0.0) == -1.0  # pmf(0) = e^-mu
    assert cr.grad(lambda p: stats.binom.logpmf(0, 4, p))(0.0) == -4.0  # (1-p)^4
    assert cr.grad(lambda p: stats.binom.logpmf(4, 4, p))(1.0) == 4.0  # p^4


def test_multivariate_normal_gradients():
    rng = np.random.default_rng(2)
    factor = rng.standard_normal((3, 3))
    cov, mean, x = factor @ factor.T + np.eye(3), rng.standard_normal(3), rng.standard_normal(3)
    precision = np.linalg.inv(cov)
    dx, dmean, dcov = cr.grad(stats.multivariate_normal.logpdf, argnums=(0, 1, 2))(x, mean, cov)
    np.testing.assert_allclose(dx, -precision @ (x - mean))
    np.testing.assert_allclose(dmean, precision @ (x - mean))
    difference = precision @ (x - mean)
    np.testing.assert_allclose(dcov, 0.5 * (np.outer(difference, difference) - precision))
    np.testing.assert_allclose(cr.grad(stats.multivariate_normal.entropy, argnums=1)(mean, cov),
                               0.5 * precision)


# ----- refusals --------------------------------------------------------------------------------
REFUSED = [
    ("t", "cdf", "df", lambda df: stats.t.cdf(0.4, df), 3.0),
    ("t", "ppf", "df", lambda df: stats.t.ppf(0.4, df), 3.0),
    ("gamma", "sf", "a", lambda a: stats.gamma.sf(0.4, a), 2.0),
    ("chi2", "logcdf", "df", lambda df: stats.chi2.logcdf(0.4, df), 3.0),
    ("beta", "cdf", "b", lambda b: stats.beta.cdf(0.4, 2.0, b), 3.0),
    ("beta", "logsf", "a", lambda a: stats.beta.logsf(0.4, a, 2.0), 3.0),
    ("poisson", "logpmf", "k", lambda k: stats.poisson.logpmf(k, 2.0), 1.0),
    ("poisson", "cdf", "loc", lambda loc: stats.poisson.cdf(3, 2.0, loc), 1.0),
    ("binom", "pmf", "n", lambda n: stats.binom.pmf(2, n, 0.4), 5.0),
]


@pytest.mark.parametrize("distribution, method, argument, call, at", REFUSED,
                         ids=[f"{d}.{m}-{a}" for d, m, a, _, _ in REFUSED])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_parameters_without_a_derivative_refuse_by_name(distribution, method, argument, call,
                                                          at, mode):
    words = rf"scipy\.stats\.{distribution}\.{method} is not differentiable with respect to " \
            rf"{argument}\b"
    with pytest.raises(NonDifferentiableError, match=words):
        if mode == "grad":
            cr.grad(call)(at)
        else:
            cr.jvp(call, (at,), (1.0,))
    assert np.isfinite(call(at))  # values are fine


def test_a_refused_parameter_may_be_batched_by_vmap():
    df = np.array([1.5, 3.0, 10.0])
    found = cr.vmap(lambda df: stats.t.cdf(0.7, df))(df)
    np.testing.assert_allclose(found, scipy_stats.t.cdf(0.7, df), rtol=1e-12)


# ----- outside the support, invalid parameters ---------------------------------------------------
def test_values_outside_the_support_and_for_invalid_parameters_are_scipys():
    x = np.array([-0.5, 0.0, 0.3, 1.0, 1.5])
    calls = [
        ("gamma", "pdf", (x, 2.0)), ("gamma", "logpdf", (x, 0.5)), ("gamma", "cdf", (x, 2.0)),
        ("beta", "logpdf", (x, 2.0, 3.0)), ("beta", "sf", (x, 2.0, 3.0)),
        ("beta", "logcdf", (x, 2.0, 3.0)), ("expon", "logsf", (x,)), ("expon", "cdf", (x,)),
        ("chi2", "logsf", (x, 3.0)), ("norm", "logpdf", (x, 0.0, -1.0)),
        ("t", "pdf", (x, -2.0)), ("gamma", "cdf", (x, -1.0)), ("beta", "ppf", (x, 2.0, 3.0)),
        ("norm", "ppf", (x,)), ("expon", "ppf", (x, 0.5, 2.0)),
        ("poisson", "pmf", (np.array([-1, 0, 2.5, 3]), 2.0)),
        ("poisson", "logcdf", (np.array([-1, 0, 2.5, 3]), 2.0)),
        ("poisson", "pmf", (np.array([0, 1]), -1.0)),
        ("binom", "logpmf", (np.array([-1, 0, 5, 11]), 10, 0.3)),
        ("binom", "sf", (np.array([-1, 0, 10, 11]), 10, 0.3)),
        ("binom", "pmf", (np.array([0, 1]), 10, 1.5)),
    ]
    for name, method, args in calls:
        with np.errstate(all="ignore"):
            expected = getattr(getattr(scipy_stats, name), method)(*args)
        np.testing.assert_allclose(getattr(getattr(stats, name), method)(*args), expected,
                                   rtol=1e-12, err_msg=f"{name}.{method}{args[1:]}")


def test_entries_outside_the_support_pass_no_nan_to_the_gradient():
    x = np.array([-0.5, 0.4, 1.5, 2.0])  # one point outside gamma's support

    def loss(a, scale):
        return cnp.sum(stats.gamma.pdf(x, a, 0.0, scale))

    gradient = cr.grad(loss, argnums=(0, 1))(2.0, 1.3)
    inside = cr.grad(lambda a, scale: cnp.sum(stats.gamma.pdf(x[1:], a, 0.0, scale)),
                     argnums=(0, 1))(2.0, 1.3)
    np.testing.assert_allclose(gradient, inside)
    gradient = cr.grad(lambda x: cnp.sum(stats.laplace.sf(x)))(np.array([-800.0, 800.0]))
    np.testing.assert_allclose(gradient, [0.0, 0.0])


def test_laplace_at_its_kink_takes_the_subgradient_zero():
    assert cr.grad(lambda x: stats.laplace.logpdf(x, 1.0))(1.0) == 0.0


# ----- calling conventions ---------------------------------------------------------------------
def test_parameters_by_position_or_by_name_and_frozen():
    x = np.array([0.2, 1.4])
    expected = scipy_stats.t.logpdf(x, 3.0, 0.5, 2.0)
    for found in (
        stats.t.logpdf(x, 3.0, 0.5, 2.0), stats.t.logpdf(x, df=3.0, loc=0.5, scale=2.0),
        stats.t.logpdf(x, 3.0, scale=2.0, loc=0.5), stats.t(3.0, 0.5, 2.0).logpdf(x),
        stats.t(df=3.0, loc=0.5, scale=2.0).logpdf(x),
    ):
        np.testing.assert_allclose(found, expected)
    mean, cov = np.zeros(2), np.eye(2)
    np.testing.assert_allclose(stats.multivariate_normal(mean, cov).entropy(),
                               scipy_stats.multivariate_normal(mean, cov).entropy())
    gradient = cr.grad(lambda loc: cnp.sum(stats.norm(loc, 2.0).logpdf(x)))(0.3)
    np.testing.assert_allclose(gradient, np.sum(x - 0.3) / 4.0)


def test_calling_errors_read_like_pythons():
    with pytest.raises(TypeError, match=r"missing required argument\(s\): df"):
        stats.t.logpdf(0.3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'shape'"):
        stats.gamma.logpdf(0.3, shape=2.0)
    with pytest.raises(TypeError, match="multiple values for argument 'loc'"):
        stats.norm.pdf(0.3, 1.0, loc=1.0)
    with pytest.raises(TypeError, match="at most"):
        stats.norm.pdf(0.3, 0.0, 1.0, 2.0)


def test_missing_methods_say_what_there_is():
    with pytest.raises(AttributeError, match="Genz"):
        stats.multivariate_normal.cdf  # noqa: B018 (the lookup is the test)
    with pytest.raises(AttributeError, match=r"has no 'rvs': it has pdf, logpdf, cdf"):
        stats.norm.rvs  # noqa: B018
    assert "logpdf" in dir(stats.norm)


def test_multivariate_errors():
    with pytest.raises(ArgumentError, match="allow_singular"):
        stats.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2), allow_singular=True)
    with pytest.raises(ValueError, match="shape"):
        stats.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="one entry fewer"):
        stats.dirichlet.logpdf(np.array([0.5, 0.5]), np.ones(4))
    with pytest.raises(ValueError, match="greater than 0"):
        stats.dirichlet.logpdf(np.array([0.5, 0.5]), np.array([1.0, -1.0]))


def test_float32_stays_float32_and_tensors_record():
    x = np.array([0.3, 1.2], dtype=np.float32)
    assert stats.norm.logpdf(x).dtype == np.float32
    assert stats.gamma.cdf(x, np.float32(2.0)).dtype == np.float32
    loc = cr.tensor(0.5, requires_grad=True)
    cnp.sum(stats.logistic.logpdf(x, loc, 2.0)).backward()
    z = (x.astype(np.float64) - 0.5) / 2.0
    np.testing.assert_allclose(loc.grad, np.sum(np.tanh(z / 2.0)) / 2.0, rtol=1e-6)
