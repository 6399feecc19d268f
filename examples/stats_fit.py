"""Fit a Student-t distribution's location, scale and degrees of freedom to heavy-tailed data by
maximum likelihood, with SciPy's trust-region Newton-CG fed chainrule's gradient and
Hessian-vector products of a log-likelihood written with chainrule.scipy.stats.

The parameters are (loc, log scale, log df), so that the optimiser works without bounds.
`stats.t.logpdf` is differentiable in all three (df through betaln and log1p), so `cr.grad`
gives `jac=` and `cr.hvp` (forward over reverse) gives `hessp=`; at the optimum `cr.hessian`
gives the standard errors. A normal fit to the same data shows what the heavy tails cost it.

Run: python examples/stats_fit.py [--points 400] [--seed 0] [--quick]
"""

import argparse

import numpy as np
from scipy.optimize import minimize

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.scipy import stats

TRUTH = {"loc": 2.0, "scale": 0.5, "df": 3.0}


def negative_log_likelihood(params, data):
    """-sum log t(x; df, loc, scale) with params = (loc, log scale, log df)."""
    loc, log_scale, log_df = params[0], params[1], params[2]
    return -cnp.sum(stats.t.logpdf(data, cnp.exp(log_df), loc, cnp.exp(log_scale)))


def normal_negative_log_likelihood(params, data):
    return -cnp.sum(stats.norm.logpdf(data, params[0], cnp.exp(params[1])))


def fit(data, start=(0.0, 0.0, 1.0)):
    """The maximum-likelihood parameters (loc, log scale, log df), by trust-ncg on the mean
    negative log-likelihood (a sum of hundreds of terms would round its last improvements
    away)."""

    def objective(params):
        return negative_log_likelihood(params, data) / data.size

    return minimize(
        objective, np.array(start), method="trust-ncg", jac=cr.grad(objective),
        hessp=lambda params, direction: cr.hvp(objective, params, direction),
        options={"gtol": 1e-8},
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="200 points (used by the tests)")
    args = parser.parse_args(argv)
    points = 200 if args.quick else args.points
    rng = np.random.default_rng(args.seed)
    data = TRUTH["loc"] + TRUTH["scale"] * rng.standard_t(TRUTH["df"], size=points)

    result = fit(data)
    loc, log_scale, log_df = result.x
    # Standard errors: the inverse Hessian of the negative log-likelihood, carried from
    # (log scale, log df) to (scale, df) by the chain rule (d scale = scale d log scale).
    covariance = np.linalg.inv(cr.hessian(lambda p: negative_log_likelihood(p, data))(result.x))
    jacobian = np.diag([1.0, np.exp(log_scale), np.exp(log_df)])
    errors = np.sqrt(np.diag(jacobian @ covariance @ jacobian.T))
    estimates = np.array([loc, np.exp(log_scale), np.exp(log_df)])
    gradient_norm = float(np.linalg.norm(cr.grad(negative_log_likelihood)(result.x, data)))
    total = float(negative_log_likelihood(result.x, data))

    normal = minimize(normal_negative_log_likelihood, np.array([0.0, 0.0]), args=(data,),
                      jac=cr.grad(normal_negative_log_likelihood), method="BFGS")

    print(f"Student-t fit to {points} points ({result.nit} trust-ncg iterations, "
          f"{result.nhev} Hessian-vector products; |gradient| of -log L = {gradient_norm:.1e}):")
    for name, estimate, error in zip(("loc", "scale", "df"), estimates, errors):
        print(f"  {name:>5} = {estimate:.4f} +- {error:.4f}   (truth {TRUTH[name]})")
    print(f"  -log likelihood: t {total:.3f}, normal {normal.fun:.3f} "
          f"(the normal fit's scale {np.exp(normal.x[1]):.3f} is inflated by the tails)")
    return {
        "success": bool(result.success), "params": result.x, "estimates": estimates,
        "errors": errors, "fun": total, "gradient_norm": gradient_norm,
        "normal_fun": float(normal.fun), "data": data, "hessian_products": int(result.nhev),
    }


if __name__ == "__main__":
    main()
