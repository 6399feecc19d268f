"""Minimise the extended Rosenbrock function in 100 dimensions with SciPy's trust-region
Newton-CG, feeding it chainrule's gradient and Hessian-vector product.

trust-ncg never needs the 100x100 Hessian: each inner conjugate-gradient step asks for H @ p,
which `cr.hvp` computes by forward-over-reverse (a JVP of the gradient) at about the cost of two
gradients. Run: python examples/scipy_minimize.py [--dim 100]
"""

import argparse

import numpy as np
from scipy.optimize import minimize

import chainrule as cr
import chainrule.numpy as cnp


def rosenbrock(x):
    """sum over pairs i of 100 (x[2i+1] - x[2i]^2)^2 + (1 - x[2i])^2; minimum 0 at x = 1."""
    odd, even = x[0::2], x[1::2]
    return cnp.sum(100.0 * (even - odd * odd) ** 2 + (1.0 - odd) ** 2)


def hessian_vector_product(x, direction):
    return cr.hvp(rosenbrock, x, direction)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=100, help="an even number of dimensions")
    parser.add_argument("--quick", action="store_true", help="10 dimensions (used by the tests)")
    args = parser.parse_args(argv)
    dim = 10 if args.quick else args.dim
    start = np.tile([-1.2, 1.0], dim // 2)  # the classic starting point
    result = minimize(rosenbrock, start, method="trust-ncg", jac=cr.grad(rosenbrock),
                      hessp=hessian_vector_product, options={"gtol": 1e-8})
    distance = float(np.max(np.abs(result.x - 1.0)))
    print(f"extended Rosenbrock, {dim} dimensions: f = {result.fun:.3e} after {result.nit} "
          f"iterations ({result.nfev} evaluations, {result.nhev} Hessian-vector products); "
          f"max |x - 1| = {distance:.1e}; {result.message}")
    return {"success": bool(result.success), "fun": float(result.fun), "distance": distance,
            "iterations": int(result.nit)}


if __name__ == "__main__":
    main()
