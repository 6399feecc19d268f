"""examples/stats_fit.py (in its quick form) finds the Student-t maximum-likelihood fit that
SciPy's own `t.fit` finds, with exact derivatives: its `jac=` against central differences, its
`hessp=` against differences of the gradient, and the truth within the standard errors."""

import numpy as np
import scipy.stats as scipy_stats

import chainrule as cr
from example_loader import load_example


def _load():
    return load_example("stats_fit")


def test_the_fit_converges_to_scipys_maximum_likelihood_estimate(capsys):
    example = _load()
    result = example.main(["--quick"])
    assert result["success"]
    assert result["gradient_norm"] < 1e-5
    df, loc, scale = scipy_stats.t.fit(result["data"])
    np.testing.assert_allclose(result["estimates"], [loc, scale, df], rtol=1e-3)
    # ours is the maximum: no worse than SciPy's (whose Nelder-Mead stops a little short)
    reference = -np.sum(scipy_stats.t.logpdf(result["data"], df, loc, scale))
    assert result["fun"] <= reference + 1e-9
    np.testing.assert_allclose(result["fun"], reference, rtol=1e-8)
    truth = np.array([example.TRUTH[name] for name in ("loc", "scale", "df")])
    assert np.all(np.abs(result["estimates"] - truth) < 3 * result["errors"])
    assert result["normal_fun"] > result["fun"] + 5  # heavy tails: the normal fits worse
    assert "Student-t fit to 200 points" in capsys.readouterr().out


def test_jac_and_hessp_are_the_exact_derivatives():
    example = _load()
    data = 2.0 + 0.5 * np.random.default_rng(1).standard_t(3.0, size=50)
    params = np.array([1.7, -0.4, 0.9])
    assert cr.gradcheck(lambda p: example.negative_log_likelihood(p, data), params)
    gradient = cr.grad(example.negative_log_likelihood)
    direction = np.array([0.3, -1.0, 0.5])
    product = cr.hvp(lambda p: example.negative_log_likelihood(p, data), params, direction)
    eps = 1e-6
    numeric = (gradient(params + eps * direction, data)
               - gradient(params - eps * direction, data)) / (2 * eps)
    np.testing.assert_allclose(product, numeric, rtol=1e-6)
    np.testing.assert_allclose(
        product, cr.hessian(lambda p: example.negative_log_likelihood(p, data))(params)
        @ direction, rtol=1e-10,
    )
